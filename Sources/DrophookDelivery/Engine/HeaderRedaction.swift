import DrophookEvents
import Foundation

/// Hides secret-bearing header values before a request is written to the delivery log, which
/// operators read and share; the value sent is never changed.
public enum HeaderRedaction {
    public static let placeholder = "[redacted]"

    static let exactNames: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]
    static let nameFragments = ["signature", "secret", "token", "password", "api-key", "apikey", "auth"]

    /// Whether a header's value is hidden in the log.
    public static func isSecret(_ name: String) -> Bool {
        let lower = name.lowercased()
        return exactNames.contains(lower) || nameFragments.contains { lower.contains($0) }
    }

    public static func redact(_ headers: [HTTPHeader]) -> [HTTPHeader] {
        headers.map { isSecret($0.name) ? HTTPHeader($0.name, placeholder) : $0 }
    }

    /// The URL as logged: a password in its user-info (`https://user:pass@host/…`) is hidden.
    public static func redact(url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = placeholder
        return components.string ?? url
    }
}
