import DrophookDelivery
import DrophookTestSupport
import Foundation
import Testing

extension WebhookOutcome {
    var curlResponse: WebhookResponse? {
        if case .response(let response) = self { response } else { nil }
    }

    var curlFailure: TransportFailure? {
        if case .failure(let failure) = self { failure } else { nil }
    }
}

extension Array {
    /// The single element, or nil when there are none or several.
    var curlOnly: Element? { count == 1 ? first : nil }
}

/// Waits (``pollUntil(within:_:)``) until `condition` holds, failing after `timeout`.
func curlWaitUntil(
    timeout: Duration = .seconds(10), _ condition: () throws -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    if try await !pollUntil(within: timeout, condition) {
        Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
    }
}

/// A 127.0.0.1 port that is bound but not listening, so connecting to it is refused, and no
/// other test can take it while this is held.
struct CurlClosedPort {
    struct SocketError: Error {}

    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError() }
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw SocketError()
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func release() {
        close(descriptor)
    }
}
