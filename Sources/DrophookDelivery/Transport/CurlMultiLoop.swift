import CCurl
import DrophookEvents
import Foundation
import Logging
import Synchronization

/// Drives one libcurl multi handle from a dedicated thread: async callers hand requests in
/// through a locked queue and wake the thread with `curl_multi_wakeup`; the thread adds easy
/// handles, runs `curl_multi_perform`/`curl_multi_poll`, and resumes each caller on completion.
///
/// `@unchecked Sendable`: `multi` and `transfers` are touched only by the loop thread (inside
/// `run()`), except `curl_multi_wakeup`, which libcurl allows from any thread and which is only
/// called under the `shared` lock while `shared.isOpen` — the loop clears `isOpen` under that
/// same lock before it calls `curl_multi_cleanup`.
final class CurlMultiLoop: @unchecked Sendable {
    /// A request waiting for the loop thread to pick it up.
    struct Submission: Sendable {
        var id: UInt64
        var request: WebhookRequest
        var continuation: CheckedContinuation<WebhookOutcome, Never>
    }

    /// What async callers and the loop thread exchange, always under the lock.
    struct Shared: ~Copyable {
        var isOpen = true
        var stopRequested = false
        var nextID: UInt64 = 0
        var submissions: [Submission] = []
        var cancellations: [UInt64] = []
    }

    let configuration: CurlTransport.Configuration
    let logger: Logger
    /// Crossed when the loop thread has released the multi handle.
    let finished = FinishLine()
    let multi: UnsafeMutableRawPointer
    let shared = Mutex(Shared())
    /// Loop-thread only: every transfer added to `multi`, keyed by its easy handle.
    var transfers: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init(configuration: CurlTransport.Configuration, logger: Logger) throws(CurlTransportError) {
        let initialized = CurlLibrary.initialize()
        guard initialized == CURLE_OK else {
            throw CurlTransportError(
                code: .libraryInitialization,
                description: "curl_global_init failed: \(String(cString: curl_easy_strerror(initialized))); "
                    + "check that libcurl4 and its TLS library (OpenSSL) are installed intact"
            )
        }
        guard let multi = curl_multi_init() else {
            throw CurlTransportError(
                code: .libraryInitialization,
                description: "curl_multi_init failed: libcurl could not allocate a multi handle (out of memory)"
            )
        }
        self.multi = multi
        self.configuration = configuration
        self.logger = logger
        _ = drophook_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(0, configuration.maxConnectionsPerHost))
        _ = drophook_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max(0, configuration.maxConnections))
    }

    /// Starts the loop thread; call once.
    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "drophook-curl"
        thread.start()
    }

    /// A fresh identifier for `submit`/`cancel`.
    func makeID() -> UInt64 {
        shared.withLock { state in
            state.nextID += 1
            return state.nextID
        }
    }

    /// Queues a request; the continuation is resumed exactly once, from the loop thread or right here.
    func submit(id: UInt64, _ request: WebhookRequest, continuation: CheckedContinuation<WebhookOutcome, Never>) {
        let refusal: TransportFailure? = shared.withLock { state in
            guard state.isOpen else {
                return TransportFailure(kind: .other, message: "the HTTP transport is shut down", duration: .zero)
            }
            // Checked under the lock so a cancellation either sees this submission or is seen here.
            guard !Task.isCancelled else {
                return TransportFailure(kind: .other, message: "the delivery attempt was cancelled", duration: .zero)
            }
            state.submissions.append(Submission(id: id, request: request, continuation: continuation))
            _ = curl_multi_wakeup(multi)
            return nil
        }
        if let refusal {
            continuation.resume(returning: .failure(refusal))
        }
    }

    /// Abandons a request: still queued, it fails now; in flight, the loop thread removes it.
    func cancel(id: UInt64) {
        let queued: Submission? = shared.withLock { state in
            if let index = state.submissions.firstIndex(where: { $0.id == id }) {
                return state.submissions.remove(at: index)
            }
            if state.isOpen {
                state.cancellations.append(id)
                _ = curl_multi_wakeup(multi)
            }
            return nil
        }
        queued?.continuation.resume(returning: .failure(.cancelled(after: .zero)))
    }

    /// Asks the thread to stop; every pending and in-flight request fails. Returns immediately.
    func requestStop() {
        shared.withLock { state in
            guard state.isOpen else { return }
            state.stopRequested = true
            _ = curl_multi_wakeup(multi)
        }
    }

    /// Waits until the loop thread has released the multi handle.
    func waitUntilFinished() async {
        await finished.wait()
    }
}

extension TransportFailure {
    static func cancelled(after duration: Duration) -> TransportFailure {
        TransportFailure(kind: .other, message: "the delivery attempt was cancelled", duration: duration)
    }
}
