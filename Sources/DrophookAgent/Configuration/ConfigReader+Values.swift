import DrophookDelivery
import DrophookEvents
import Foundation
import HTTPTypes

/// Readers for the kinds of value the config holds, each reporting its own mistakes.
extension ConfigReader {
    /// A watch or webhook name: used in the CLI, metrics and the database, so kept simple.
    func name(_ value: Value) -> String? {
        guard let text = string(value) else { return nil }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard !text.isEmpty, text.unicodeScalars.allSatisfy(allowed.contains) else {
            report(.invalidValue, value, "'\(text)' is not a usable name; use letters, digits, '-', '_' or '.'")
            return nil
        }
        return text
    }

    func absolutePath(_ value: Value) -> String? {
        guard let text = string(value) else { return nil }
        guard text.hasPrefix("/") else {
            report(.invalidValue, value, "'\(text)' is not an absolute path; write the full path starting with /")
            return nil
        }
        return text.count > 1 && text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// A URL with one of `schemes`; the message shows `example` (else `<scheme>://host/path`).
    func url(_ value: Value, schemes: [String] = ["http", "https"], example: String? = nil) -> String? {
        guard let text = string(value) else { return nil }
        // Messages show the URL with any password hidden: they end up in terminals and tickets.
        let shown = HeaderRedaction.redact(url: text)
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            schemes.contains(scheme), let host = components.host, !host.isEmpty
        else {
            report(.invalidValue, value, "'\(shown)' is not a valid URL; write it as \(example ?? "\(schemes.last!)://host/path")")
            return nil
        }
        if let port = components.port, !(1...65_535).contains(port) {
            report(.invalidValue, value, "port \(port) in '\(shown)' is outside 1–65535; fix the URL's port")
            return nil
        }
        if components.password != nil { noteSecret(value) }
        return text
    }

    func format(_ value: Value) -> String? {
        guard let text = string(value) else { return nil }
        guard WebhookFormats.named(text) != nil else {
            report(.invalidValue, value, "unknown format '\(text)'; use one of: \(WebhookFormats.names.joined(separator: ", "))")
            return nil
        }
        return text
    }

    func topics(_ value: Value) -> [Topic]? {
        guard let names = stringList(value) else { return nil }
        var topics: [Topic] = []
        for (index, name) in names.enumerated() {
            let topic = Topic(rawValue: name)
            if Topic.all.contains(topic) {
                topics.append(topic)
            } else {
                report(
                    .invalidValue, at: value.line, key: "\(value.key)[\(index)]",
                    "unknown topic '\(name)'; use \(Topic.all.map(\.rawValue).joined(separator: ", "))")
            }
        }
        if names.isEmpty { report(.invalidValue, value, "no topics; list at least one or leave the key out for the format's default") }
        return topics.count == names.count ? topics : nil
    }

    /// `secret:`/`secret_file:` style pairs: one or the other, and the file must be readable.
    func secret(_ map: Mapping, inline: String, file: String) -> String? {
        if let inlineValue = map[inline], let fileValue = map[file] {
            report(.invalidValue, fileValue, "set either \(inline) or \(file), not both (\(inline) is on line \(inlineValue.line))")
            return nil
        }
        if let value = map[inline] {
            guard let text = string(value) else { return nil }
            noteSecret(value)
            return nonEmpty(text, value, "\(inline) is empty\(Self.fromEnvironment(value)); set the value, or remove the key")
        }
        guard let value = map[file], let path = string(value) else { return nil }
        let resolved = resolve(path)
        guard let data = FileManager.default.contents(atPath: resolved), let text = String(data: data, encoding: .utf8) else {
            report(.unreadableSecret, value, "cannot read '\(resolved)'; check that it exists and is readable by the agent's user")
            return nil
        }
        noteSecret(value, file: resolved)
        // Secret files are usually written with a trailing newline that is not part of the secret.
        let trimmed = String(text.trimmingCharacters(in: .whitespacesAndNewlines))
        return nonEmpty(trimmed, value, "'\(resolved)' is empty; put the value on its first line")
    }

    /// An empty secret would sign with an empty key (which anyone can compute) or send an
    /// empty `Authorization`: refused, never used.
    private func nonEmpty(_ text: String, _ value: Value, _ message: String) -> String? {
        guard text.isEmpty else { return text }
        report(.emptySecret, value, message)
        return nil
    }

    private static func fromEnvironment(_ value: Value) -> String {
        guard case .scalar(let scalar) = value.node, scalar.string.contains("${") else { return "" }
        return " (\(scalar.string) expands to nothing)"
    }

    func readableFile(_ value: Value) -> String? {
        guard let path = string(value) else { return nil }
        let resolved = resolve(path)
        guard FileManager.default.isReadableFile(atPath: resolved) else {
            report(.unreadableSecret, value, "cannot read '\(resolved)'; check that it exists and is readable by the agent's user")
            return nil
        }
        return resolved
    }

    func headers(_ value: Value) -> [HTTPHeader]? {
        guard case .mapping(let mapping) = value.node else {
            report(.wrongType, value, "expected a mapping of header names to values, e.g. {X-Team: storage}")
            return nil
        }
        var headers: [HTTPHeader] = []
        for (keyNode, valueNode) in mapping {
            let name = keyNode.scalar?.string ?? ""
            let entry = Value(node: valueNode, key: "\(value.key).\(name)")
            guard HTTPField.Name(name) != nil else {
                report(
                    .invalidValue, entry,
                    "'\(name)' is not a valid header name; use ASCII letters, digits and !#$%&'*+-.^_`|~ only (RFC 9110 token)")
                continue
            }
            guard let text = string(entry), headerValue(text, entry) else { continue }
            if HeaderRedaction.isSecret(name) { noteSecret(entry) }
            headers.append(HTTPHeader(name, text))
        }
        return headers
    }

    /// Whether `text` can be sent as a header value (RFC 9110: no CR, LF or NUL, no leading or
    /// trailing whitespace); reports why not.
    func headerValue(_ text: String, _ value: Value) -> Bool {
        guard HTTPField.isValidValue(text) else {
            report(
                .invalidValue, value,
                "a header value cannot contain line breaks, NUL or other control characters, or start or end with a space; fix the value")
            return false
        }
        return true
    }

    /// A size in bytes: a whole number, or one with a unit (`kB`, `MB`, `GB` in powers of 1000;
    /// `KiB`, `MiB`, `GiB` in powers of 1024).
    func byteSize(_ value: Value) -> Int64? {
        guard let text = string(value)?.trimmingCharacters(in: .whitespaces) else { return nil }
        let units: [(String, Int64)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("kB", 1_000), ("KB", 1_000), ("MB", 1_000_000),
            ("GB", 1_000_000_000), ("B", 1),
        ]
        var number = Substring(text)
        var multiplier: Int64 = 1
        if let (unit, factor) = units.first(where: { text.hasSuffix($0.0) }) {
            number = text.dropLast(unit.count)
            multiplier = factor
        }
        guard let count = Int64(number.trimmingCharacters(in: .whitespaces)), count >= 0,
            count <= Int64.max / multiplier
        else {
            report(.invalidValue, value, "'\(text)' is not a size; write bytes (1048576) or a number with kB, MB, GB, KiB, MiB or GiB")
            return nil
        }
        return count * multiplier
    }

    func duration(_ value: Value) -> Duration? {
        guard let text = string(value) else { return nil }
        do {
            return try DurationParser.parse(text)
        } catch {
            report(.invalidValue, value, error.description)
            return nil
        }
    }

    /// Reports names used by more than one entry of a list.
    func checkUnique(_ items: [Value], what: String) {
        var firstLine: [String: Int] = [:]
        for item in items {
            guard let nameNode = item.node["name"], let name = nameNode.string else { continue }
            if let line = firstLine[name] {
                report(
                    .duplicateName, at: nameNode.mark?.line ?? item.line, key: "\(item.key).name",
                    "another \(what) (line \(line)) is already named '\(name)'; names must be unique")
            } else {
                firstLine[name] = nameNode.mark?.line ?? item.line
            }
        }
    }

    /// Relative paths in the config are relative to the config file's folder.
    func resolve(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        let folder = (file as NSString).deletingLastPathComponent
        return (folder.isEmpty ? path : "\(folder)/\(path)")
    }
}
