/// Why a `CurlTransport` could not be created; at startup only, never for a single request.
public struct CurlTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable identifier for logs and tests.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// libcurl (or the TLS library beneath it) failed to initialize.
        public static let libraryInitialization = Code(rawValue: "curl.library-initialization")
    }

    public var code: Code
    public var description: String

    public init(code: Code, description: String) {
        self.code = code
        self.description = description
    }
}
