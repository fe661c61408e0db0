import Yams

/// Walks a composed YAML tree strictly: every key must be known, every value of the expected
/// type; problems are collected with the line they sit on, so loading reports them all.
///
/// Yams' `Decodable` support loses line numbers and silently drops unknown keys, which is
/// why the agent reads the node tree itself.
final class ConfigReader {
    let file: String
    private let environment: [String: String]
    private(set) var problems: [ConfigurationError] = []
    /// Where each secret the config uses is written, for the permission check at start
    /// (``AgentPreflight``).
    private(set) var secretLocations: [AgentConfiguration.SecretLocation] = []

    init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    /// A node with the key path that led to it.
    struct Value {
        let node: Node
        let key: String
        var line: Int { node.mark?.line ?? 0 }
    }

    func report(_ code: ConfigurationError.Code, at line: Int, key: String, _ message: String) {
        problems.append(ConfigurationError(code: code, file: file, line: line, key: key, message: message))
    }

    func report(_ code: ConfigurationError.Code, _ value: Value, _ message: String) {
        report(code, at: value.line, key: value.key, message)
    }

    /// Notes that `value` is a secret: written in the config itself unless it comes from the
    /// environment (`${NAME}`), or kept in the file at `path`.
    func noteSecret(_ value: Value, file path: String? = nil) {
        if let path {
            secretLocations.append(.init(key: value.key, path: path, inConfig: false))
        } else if case .scalar(let scalar) = value.node, !scalar.string.contains("${") {
            secretLocations.append(.init(key: value.key, path: file, inConfig: true))
        }
    }

    /// The keys of a mapping, each checked against `allowed`; nil (and a problem) if it is not a mapping.
    func mapping(_ value: Value, allowed: [String]) -> Mapping? {
        guard case .mapping(let mapping) = value.node else {
            report(.wrongType, value, "expected a mapping of keys (\(allowed.joined(separator: ", "))), found \(describe(value.node))")
            return nil
        }
        var entries: [String: Value] = [:]
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.scalar?.string else {
                report(.wrongType, at: keyNode.mark?.line ?? value.line, key: value.key, "keys must be plain names")
                continue
            }
            let path = value.key.isEmpty ? name : "\(value.key).\(name)"
            guard allowed.contains(name) else {
                let hint = Self.closest(to: name, in: allowed).map { "did you mean '\($0)'? " } ?? ""
                report(
                    .unknownKey, at: keyNode.mark?.line ?? value.line, key: path,
                    "unknown key; \(hint)known keys here: \(allowed.joined(separator: ", "))")
                continue
            }
            entries[name] = Value(node: valueNode, key: path)
        }
        return Mapping(reader: self, owner: value, entries: entries)
    }

    /// The items of a sequence; nil (and a problem) if it is not one.
    func sequence(_ value: Value) -> [Value]? {
        guard case .sequence(let sequence) = value.node else {
            report(.wrongType, value, "expected a list, found \(describe(value.node))")
            return nil
        }
        return sequence.enumerated().map { Value(node: $1, key: "\(value.key)[\($0)]") }
    }

    /// A scalar as a string, with `${NAME}` expanded from the environment.
    func string(_ value: Value) -> String? {
        guard case .scalar(let scalar) = value.node else {
            report(.wrongType, value, "expected a string, found \(describe(value.node))")
            return nil
        }
        if scalar.style == .plain, value.node.null != nil {
            report(.wrongType, value, "expected a string, found an empty value")
            return nil
        }
        return expand(scalar.string, value)
    }

    func bool(_ value: Value) -> Bool? {
        guard case .scalar = value.node, let result = value.node.bool else {
            report(.wrongType, value, "expected true or false, found \(describe(value.node))")
            return nil
        }
        return result
    }

    func int(_ value: Value, range: ClosedRange<Int>) -> Int? {
        guard case .scalar = value.node, let result = value.node.int else {
            report(.wrongType, value, "expected a whole number, found \(describe(value.node))")
            return nil
        }
        guard range.contains(result) else {
            report(.invalidValue, value, "\(result) is out of range; use \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return result
    }

    func stringList(_ value: Value) -> [String]? {
        guard let items = sequence(value) else { return nil }
        let strings = items.compactMap { string($0) }
        return strings.count == items.count ? strings : nil
    }

    /// Expands `${NAME}`; `$$` stands for a literal `$`.
    private func expand(_ text: String, _ value: Value) -> String? {
        guard text.contains("$") else { return text }
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("$") {
                result += "$"
                rest = after.dropFirst()
            } else if after.hasPrefix("{"), let close = after.firstIndex(of: "}") {
                let name = String(after[after.index(after: after.startIndex)..<close])
                guard let replacement = environment[name] else {
                    report(.unsetVariable, value, "environment variable \(name) is not set; export it or write the value directly")
                    return nil
                }
                result += replacement
                rest = after[after.index(after: close)...]
            } else {
                result += "$"
                rest = after
            }
        }
        return result + rest
    }

    private func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return node.null != nil && scalar.style == .plain ? "an empty value" : "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// The known key nearest to a typo, by edit distance, if it is close enough to suggest.
    static func closest(to name: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(name, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, name.count / 3) else { return nil }
        return best
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, cb) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension ConfigReader {
    /// The checked entries of one YAML mapping.
    struct Mapping {
        let reader: ConfigReader
        let owner: Value
        let entries: [String: Value]

        subscript(key: String) -> Value? { entries[key] }

        /// The entry, or a `missingKey` problem.
        func required(_ key: String, _ hint: String) -> Value? {
            if let value = entries[key] { return value }
            let path = owner.key.isEmpty ? key : "\(owner.key).\(key)"
            reader.report(.missingKey, at: owner.line, key: path, "required key is missing; \(hint)")
            return nil
        }
    }
}
