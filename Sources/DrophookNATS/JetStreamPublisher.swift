import CNats
import DrophookEvents
import Glibc
import Synchronization

/// Publishes into NATS JetStream through libnats: each message carries `Nats-Msg-Id`, and a
/// publish returns only when the stream has acknowledged it, so a delivery is marked delivered
/// only once the message is stored, and a retry is dropped by the stream's duplicate window.
///
/// libnats reconnects by itself (to any server of the list) and keeps publishing meanwhile;
/// a publish that gets no ack within its timeout fails and is retried by the caller.
///
/// Publishes are asynchronous in libnats (`js_PublishMsgAsync`): the call only queues the
/// message, and libnats' own thread hands each ack (or error, or timeout) to
/// ``PendingAcks``, which resumes the waiting task. No thread blocks per message in flight.
public final class JetStreamPublisher: @unchecked Sendable {
    // `connection` and `context` are C handles made once in `init` and destroyed once by
    // `close()` (guarded by `closed`); libnats locks inside them, so publishes from several
    // threads at once are safe.
    // Internal, not private: the stream lookups in +Streams make requests on it.
    let connection: OpaquePointer
    let context: OpaquePointer
    private let closed = Mutex(false)
    /// The tasks waiting for their acks; libnats' ack handler reaches it through its closure
    /// pointer, which this publisher keeps alive until the context is destroyed.
    private let pending: PendingAcks

    /// Connects to the first reachable server of `servers` (`nats://host:port`), without
    /// authentication or TLS settings of its own.
    public convenience init(servers: [String], name: String = "drophook", connectTimeout: Duration = .seconds(5)) throws(JetStreamError) {
        try self.init(Configuration(servers: servers, name: name, connectTimeout: connectTimeout))
    }

    /// Connects as `configuration` says.
    public init(_ configuration: Configuration) throws(JetStreamError) {
        let servers = configuration.servers
        var options: OpaquePointer?
        guard natsOptions_Create(&options) == NATS_OK, let options else {
            throw JetStreamError(.connect, "cannot allocate NATS options (out of memory)")
        }
        defer { natsOptions_Destroy(options) }
        let status = Self.withCStrings(servers) { list, count in natsOptions_SetServers(options, list, count) }
        guard status == NATS_OK else {
            throw JetStreamError(
                .connect, "the NATS server list \(servers) is not valid: \(Self.lastError(status)); write each as nats://host:port")
        }
        if let (setting, refused) = configuration.apply(to: options) {
            throw JetStreamError(
                .connect, "libnats refused the \(setting): \(Self.lastError(refused)); check that the file exists and is readable")
        }
        let name = configuration.name
        let connectTimeout = configuration.connectTimeout
        _ = natsOptions_SetName(options, name)
        _ = natsOptions_SetTimeout(options, connectTimeout.milliseconds)
        // Keep trying for ever after a loss; messages published meanwhile are buffered by libnats.
        _ = natsOptions_SetMaxReconnect(options, -1)
        _ = natsOptions_SetReconnectWait(options, 250)
        _ = natsOptions_SetRetryOnFailedConnect(options, false, nil, nil)
        // An asynchronous publish otherwise waits for libnats' flusher (about a millisecond):
        // each event goes on the wire at once, as a webhook's POST does.
        _ = natsOptions_SetSendAsap(options, true)
        var connection: OpaquePointer?
        let connected = natsConnection_Connect(&connection, options)
        guard connected == NATS_OK, let connection else {
            throw JetStreamError(
                .connect,
                "cannot connect to NATS at \(servers.joined(separator: ", ")): \(Self.lastError(connected)); check that a server listens there"
            )
        }
        let pending = PendingAcks()
        var jetStreamOptions = jsOptions()
        jsOptions_Init(&jetStreamOptions)
        jetStreamOptions.PublishAsync.AckHandler = PendingAcks.handler
        jetStreamOptions.PublishAsync.AckHandlerClosure = Unmanaged.passUnretained(pending).toOpaque()
        var context: OpaquePointer?
        guard natsConnection_JetStream(&context, connection, &jetStreamOptions) == NATS_OK, let context else {
            natsConnection_Destroy(connection)
            throw JetStreamError(.connect, "cannot open a JetStream context on \(servers.joined(separator: ", "))")
        }
        self.connection = connection
        self.context = context
        self.pending = pending
    }

    deinit { close() }

    /// Publishes `body` on `subject` with `messageID` as `Nats-Msg-Id` and waits for the
    /// stream's acknowledgement (at most `timeout`).
    public func publish(
        subject: String, messageID: String, headers: [HTTPHeader] = [], body: [UInt8], timeout: Duration = .seconds(5)
    ) async throws(JetStreamError) -> StreamAcknowledgement {
        let result: Result<StreamAcknowledgement, JetStreamError> = await withCheckedContinuation { continuation in
            start(subject: subject, messageID: messageID, headers: headers, body: body, timeout: timeout, continuation)
        }
        return try result.get()
    }

    /// Closes the connection; publishes after it fail with ``JetStreamError/Code/closed``.
    public func close() {
        let wasOpen = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard wasOpen else { return }
        jsCtx_Destroy(context)
        natsConnection_Close(connection)
        natsConnection_Destroy(connection)
        // No ack comes after this: whoever still waits is told.
        pending.failAll(JetStreamError(.closed, "the NATS publisher was closed before the stream acknowledged"))
    }

    /// Queues the message in libnats; ``PendingAcks`` resumes `continuation` with its ack, or
    /// it is resumed here when libnats refuses the message outright.
    private func start(
        subject: String, messageID: String, headers: [HTTPHeader], body: [UInt8], timeout: Duration,
        _ continuation: PendingAcks.Waiter
    ) {
        guard !closed.withLock({ $0 }) else {
            return continuation.resume(returning: .failure(JetStreamError(.closed, "the NATS publisher is closed")))
        }
        var message: OpaquePointer?
        let created = body.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { natsMsg_Create(&message, subject, nil, $0.baseAddress, Int32(bytes.count)) }
        }
        guard created == NATS_OK, let made = message else {
            return continuation.resume(
                returning: .failure(
                    JetStreamError(.rejected, "cannot make a NATS message for subject \(subject): \(Self.lastError(created))")))
        }
        for header in headers { _ = natsMsgHeader_Add(made, header.name, header.value) }
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        // libnats times the ack out itself and reports it to the handler.
        options.MaxWait = max(timeout.milliseconds, 1)
        // Registered before the publish: the ack may come before js_PublishMsgAsync returns.
        pending.register(made, continuation)
        let status = messageID.withCString { id in
            options.MsgId = id
            return js_PublishMsgAsync(context, &message, &options)
        }
        // On success libnats owns the message and cleared `message`; otherwise it is still ours.
        defer { natsMsg_Destroy(message) }
        guard status != NATS_OK else { return }
        pending.take(made)?.resume(returning: .failure(Self.failure(status, jsErrCode(0), subject: subject)))
    }

    static func failure(_ status: natsStatus, _ code: jsErrCode, subject: String, text: String? = nil) -> JetStreamError {
        let reason = text ?? lastError(status)
        switch status {
        case NATS_NO_RESPONDERS:
            return JetStreamError(
                .noStream,
                """
                no JetStream stream captures subject \(subject); create one whose subjects match it \
                (nats stream add, or create_stream in the config), or fix the subject template
                """)
        case NATS_TIMEOUT:
            return JetStreamError(.timeout, "no acknowledgement from JetStream for subject \(subject) in time (\(reason)); it is retried")
        default:
            let detail = code.rawValue != 0 ? " (JetStream error \(code.rawValue))" : ""
            return JetStreamError(.rejected, "JetStream refused the message on subject \(subject): \(reason)\(detail)")
        }
    }

    /// libnats's text for the calling thread's last error, or the status's own.
    static func lastError(_ status: natsStatus) -> String {
        var last = NATS_OK
        if let text = nats_GetLastError(&last), last != NATS_OK {
            return String(cString: text)
        }
        return String(cString: natsStatus_GetText(status))
    }

    /// Runs `body` with `strings` as a C array of C strings (libnats' lists of servers, subjects).
    static func withCStrings<Result>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, Int32) -> Result) -> Result
    {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!, Int32(strings.count)) }
    }
}
