import DrophookEvents
import Foundation

/// A webhook's `secret_file`: the current secret on the first line and, while a rotation's
/// overlap lasts, each previous secret on a line of its own with the time it stops signing:
///
///     whsec_NEW…
///     whsec_OLD… until 2026-12-03T09:00:00Z
///
/// `drophook rotate-secret` writes it; a file with one line is an ordinary secret file. Lines
/// whose time has passed are ignored (and dropped at the next rotation).
public enum SecretFile {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// The secrets in the file's text, newest first.
    public static func parse(_ text: String) throws(Problem) -> [SigningSecret] {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let current = lines.first else {
            throw Problem(description: "the secret file is empty; put the secret on its first line")
        }
        guard !current.contains(" ") else {
            throw Problem(description: "the first line holds a space; it must be the current secret alone")
        }
        var secrets = [SigningSecret(Array(current.utf8))]
        for (index, line) in lines.dropFirst().enumerated() {
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[1] == "until", let until = parseTime(String(parts[2])) else {
                throw Problem(description: "line \(index + 2) must read '<previous secret> until <YYYY-MM-DDTHH:MM:SSZ>'")
            }
            secrets.append(SigningSecret(Array(parts[0].utf8), untilSeconds: until))
        }
        return secrets
    }

    /// The file's text for `secrets` (newest first).
    public static func render(_ secrets: [SigningSecret]) -> String {
        secrets.map { secret in
            let text = String(decoding: secret.bytes, as: UTF8.self)
            guard let until = secret.untilSeconds else { return text }
            return text + " until " + formatTime(until)
        }.joined(separator: "\n") + "\n"
    }

    public static func parseTime(_ text: String) -> Int64? {
        ISO8601DateFormatter().date(from: text).map { Int64($0.timeIntervalSince1970) }
    }

    public static func formatTime(_ seconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(seconds)))
    }
}
