/// Why a `CurlTransport` could not be created; at startup only, never for a single request.
/// A stable ``Code`` and a one-line description (ServiceLifecycle's error shape).
public struct CurlTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; compare with the static members.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case libraryInitialization = "curl_library_initialization"
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The stable name, as logs show it.
        public var description: String { value.rawValue }

        /// libcurl (or the TLS library beneath it) failed to initialize.
        public static let libraryInitialization = Code(.libraryInitialization)
    }

    public let code: Code
    public let description: String

    init(code: Code, description: String) {
        self.code = code
        self.description = description
    }
}
