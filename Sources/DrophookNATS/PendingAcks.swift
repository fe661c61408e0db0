import CNats
import DrophookEvents
import Synchronization

/// The publishes waiting for the stream's acknowledgement, by message, and the C callback
/// libnats calls with each one (on its own thread).
final class PendingAcks: Sendable {
    typealias Waiter = CheckedContinuation<Result<StreamAcknowledgement, JetStreamError>, Never>

    /// By message address (a plain number: a pointer is not Sendable), which stays the
    /// message's own until the handler destroys it.
    private let waiting = Mutex<[Int: Waiter]>([:])

    func register(_ message: OpaquePointer, _ waiter: Waiter) {
        waiting.withLock { $0[Int(bitPattern: message)] = waiter }
    }

    /// The waiter of `message`, removed: only one of the handler, a refused publish and `failAll`
    /// gets to resume it.
    func take(_ message: OpaquePointer) -> Waiter? {
        waiting.withLock { $0.removeValue(forKey: Int(bitPattern: message)) }
    }

    func failAll(_ error: JetStreamError) {
        let all = waiting.withLock { waiting in
            defer { waiting = [:] }
            return Array(waiting.values)
        }
        for waiter in all { waiter.resume(returning: .failure(error)) }
    }

    /// libnats' `jsPubAckHandler`: called once per asynchronously published message with its
    /// ack or its error (a timeout included); the message is the handler's to destroy.
    static let handler: jsPubAckHandler = { _, message, ack, error, closure in
        defer { natsMsg_Destroy(message) }
        guard let message, let closure else { return }
        let pending = Unmanaged<PendingAcks>.fromOpaque(closure).takeUnretainedValue()
        guard let waiter = pending.take(message) else { return }
        let subject = natsMsg_GetSubject(message).map { String(cString: $0) } ?? ""
        if let ack {
            waiter.resume(
                returning: .success(
                    StreamAcknowledgement(
                        stream: ack.pointee.Stream.map { String(cString: $0) } ?? "",
                        sequence: ack.pointee.Sequence,
                        duplicate: ack.pointee.Duplicate)))
        } else {
            let status = error?.pointee.Err ?? NATS_ERR
            let text = error?.pointee.ErrText.map { String(cString: $0) } ?? String(cString: natsStatus_GetText(status))
            waiter.resume(
                returning: .failure(
                    JetStreamPublisher.failure(
                        status, error?.pointee.ErrCode ?? jsErrCode(0), subject: subject, text: text)))
        }
    }
}
