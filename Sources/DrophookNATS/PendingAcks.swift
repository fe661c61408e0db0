import CNats
import Synchronization

/// The publishes waiting for the stream's acknowledgement, by message, and the C callback
/// libnats calls with each one (on its own thread).
final class PendingAcks: Sendable {
    typealias Waiter = CheckedContinuation<Result<JetStreamAck, JetStreamError>, Never>

    private let waiting = Mutex<[UInt: Waiter]>([:])

    /// A message's key: its address, which stays its own until the handler destroys it.
    static func key(_ message: OpaquePointer) -> UInt { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(message))) }

    func register(_ key: UInt, _ waiter: Waiter) {
        waiting.withLock { $0[key] = waiter }
    }

    /// The waiter of `key`, removed: only one of the handler, a refused publish and `failAll`
    /// gets to resume it.
    func take(_ key: UInt) -> Waiter? {
        waiting.withLock { $0.removeValue(forKey: key) }
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
        guard let waiter = pending.take(key(message)) else { return }
        let subject = natsMsg_GetSubject(message).map { String(cString: $0) } ?? ""
        if let ack {
            waiter.resume(returning: .success(JetStreamAck(
                stream: ack.pointee.Stream.map { String(cString: $0) } ?? "",
                sequence: ack.pointee.Sequence,
                duplicate: ack.pointee.Duplicate)))
        } else {
            let status = error?.pointee.Err ?? NATS_ERR
            let text = error?.pointee.ErrText.map { String(cString: $0) } ?? String(cString: natsStatus_GetText(status))
            waiter.resume(returning: .failure(JetStreamPublisher.failure(
                status, error?.pointee.ErrCode ?? jsErrCode(0), subject: subject, text: text)))
        }
    }
}
