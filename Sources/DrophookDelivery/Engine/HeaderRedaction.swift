import DrophookEvents
import Foundation

/// Hides secret-bearing header values before a request is written to the delivery log, which
/// operators read and share; the value sent is never changed.
public enum HeaderRedaction {
    public static let placeholder = "[redacted]"

    static let exactNames: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]
    static let nameFragments = ["signature", "secret", "token", "password", "api-key", "apikey", "auth"]
    private static let fragmentBytes = nameFragments.map { Array($0.utf8) }

    /// Whether a header's value is hidden in the log.
    public static func isSecret(_ name: String) -> Bool {
        let lower = name.lowercased()
        // A plain byte search: `String.contains` resolves to Foundation's locale-aware search
        // here and the generic `firstRange(of:)` to a Z-algorithm searcher, either of which
        // cost more than the rest of an attempt's bookkeeping (it runs for every header of
        // every attempt).
        let bytes = Array(lower.utf8)
        return exactNames.contains(lower) || fragmentBytes.contains { contains(bytes, $0) }
    }

    private static func contains(_ text: [UInt8], _ fragment: [UInt8]) -> Bool {
        guard fragment.count <= text.count else { return false }
        for start in 0...(text.count - fragment.count) where text[start] == fragment[0] {
            if text[start..<start + fragment.count].elementsEqual(fragment) { return true }
        }
        return false
    }

    public static func redact(_ headers: [HTTPHeader]) -> [HTTPHeader] {
        headers.map { isSecret($0.name) ? HTTPHeader($0.name, placeholder) : $0 }
    }

    /// What a URL's password is shown as.
    public static let urlPasswordPlaceholder = "***"

    /// The URL as shown anywhere (delivery log, ping payloads, messages): a password in its
    /// user-info (`https://user:pass@host/…`) becomes `***`. Works on the text, so a URL too
    /// broken to parse is hidden as well.
    public static func redact(url: String) -> String {
        // No `@`, no user-info: nothing to look for (or copy) on every attempt.
        guard url.utf8.contains(UInt8(ascii: "@")) else { return url }
        let bytes = Array(url.utf8)
        let authorityStart: Int
        if let scheme = url.range(of: "://") {
            authorityStart = url.utf8.distance(from: url.startIndex, to: scheme.upperBound)
        } else {
            authorityStart = 0
        }
        let authorityEnd =
            bytes[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
            ?? bytes.count
        guard let at = bytes[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")),
            let colon = bytes[authorityStart..<at].firstIndex(of: UInt8(ascii: ":"))
        else { return url }
        return String(decoding: bytes[..<(colon + 1)], as: UTF8.self) + urlPasswordPlaceholder
            + String(decoding: bytes[at...], as: UTF8.self)
    }
}
