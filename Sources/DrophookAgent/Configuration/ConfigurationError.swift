/// A mistake in the config file: names the file, line and key, and says what to do.
///
/// Every problem found while loading is collected, so `drophook check` can list them all
/// at once, one line each.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of mistake it is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unreadableFile, syntax, unknownKey, wrongType, missingKey, invalidValue
            case unsetVariable, unreadableSecret, emptySecret, duplicateName, unknownReference
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The config file itself cannot be read.
        public static let unreadableFile = Code(.unreadableFile)
        /// The file is not valid YAML.
        public static let syntax = Code(.syntax)
        /// A key the agent does not know (usually a typo).
        public static let unknownKey = Code(.unknownKey)
        /// A value of the wrong YAML type (a list where a string belongs, …).
        public static let wrongType = Code(.wrongType)
        /// A required key is absent.
        public static let missingKey = Code(.missingKey)
        /// A value of the right type that makes no sense (bad URL, unknown format, …).
        public static let invalidValue = Code(.invalidValue)
        /// `${NAME}` names an environment variable that is not set.
        public static let unsetVariable = Code(.unsetVariable)
        /// A `secret_file:` or `authorization_file:` that cannot be read.
        public static let unreadableSecret = Code(.unreadableSecret)
        /// A secret or `Authorization` that is empty (literal, `${NAME}` set to nothing, empty file).
        public static let emptySecret = Code(.emptySecret)
        /// Two watches or two webhooks share a name.
        public static let duplicateName = Code(.duplicateName)
        /// A webhook names a watch that does not exist.
        public static let unknownReference = Code(.unknownReference)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The config file's path.
    public var file: String
    /// 1-based line of the offending node; 0 when the problem is the file as a whole.
    public var line: Int
    /// Dotted key path, e.g. `webhooks[0].url`; empty for the file as a whole.
    public var key: String
    /// What is wrong and what to do about it.
    public var message: String

    public init(code: Code, file: String, line: Int, key: String, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `FILE:LINE: KEY: MESSAGE`, on one line.
    public var description: String {
        var location = file
        if line > 0 { location += ":\(line)" }
        let singleLine = message.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ")
        return key.isEmpty ? "\(location): \(singleLine)" : "\(location): \(key): \(singleLine)"
    }
}

/// All the problems of one config file; thrown when loading finds any.
public struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigurationError]
    /// Keeps the problems in file order, so the list reads top to bottom like the file.
    public init(_ errors: [ConfigurationError]) {
        self.errors = errors.enumerated()
            .sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }
            .map(\.element)
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
