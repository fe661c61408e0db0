import CNats
import DrophookEvents

extension JetStreamPublisher {
    /// A stream as drophook creates it when told to (`create_stream`): it never creates one on
    /// its own, since a fleet's stream is the operator's (replicas, limits, retention).
    public struct StreamSettings: Sendable, Hashable {
        public var name: String
        public var subjects: [String]
        public var replicas: Int
        /// How long the stream remembers message ids: a retry later than this is stored again.
        public var duplicateWindow: Duration
        /// How long messages are kept; nil keeps them until other limits drop them.
        public var maxAge: Duration?

        public init(name: String, subjects: [String], replicas: Int = 1, duplicateWindow: Duration = .seconds(120), maxAge: Duration? = nil)
        {
            self.name = name
            self.subjects = subjects
            self.replicas = replicas
            self.duplicateWindow = duplicateWindow
            self.maxAge = maxAge
        }
    }

    /// Creates the stream unless one of that name exists already (whatever its settings).
    public func ensureStream(_ settings: StreamSettings) throws(JetStreamError) {
        var info: UnsafeMutablePointer<jsStreamInfo>?
        if js_GetStreamInfo(&info, context, settings.name, nil, nil) == NATS_OK {
            if let info { jsStreamInfo_Destroy(info) }
            return
        }
        var config = jsStreamConfig()
        jsStreamConfig_Init(&config)
        var code = jsErrCode(0)
        let status = settings.name.withCString { name in
            Self.withCStrings(settings.subjects) { list, count in
                config.Name = name
                config.Subjects = list
                config.SubjectsLen = count
                config.Replicas = Int64(settings.replicas)
                config.Duplicates = settings.duplicateWindow.components.seconds * 1_000_000_000
                config.MaxAge = (settings.maxAge?.components.seconds ?? 0) * 1_000_000_000
                return js_AddStream(&info, context, &config, nil, &code)
            }
        }
        if let info { jsStreamInfo_Destroy(info) }
        guard status == NATS_OK else {
            throw JetStreamError(
                .rejected, "cannot create stream \(settings.name): \(Self.lastError(status)) (JetStream error \(code.rawValue))")
        }
    }

    /// Why a publish on `subject` found no responder. No responder means either that no stream
    /// captures the subject (the operator must add one) or that the stream has no leader to
    /// store it, while an election runs after its leader was lost (it is retried, and nothing
    /// needs fixing). JetStream's own list of the streams that capture the subject tells the
    /// two apart. Blocks for at most `timeout`: call it off the cooperative pool.
    public func explainNoResponders(subject: String, timeout: Duration = .seconds(1)) -> JetStreamError {
        let request = String(decoding: JSONValue.object([("subject", .string(subject))]).serialized(), as: UTF8.self)
        var reply: OpaquePointer?
        let status = natsConnection_RequestString(
            &reply, connection, "$JS.API.STREAM.NAMES", request, max(timeout.milliseconds, 1))
        guard status == NATS_OK, let reply else {
            return JetStreamError(
                .noLeader,
                """
                JetStream did not answer for subject \(subject) (\(String(cString: natsStatus_GetText(status)))): it has no leader, as while \
                an election runs after a server was lost; it is retried
                """)
        }
        defer { natsMsg_Destroy(reply) }
        let length = Int(natsMsg_GetDataLength(reply))
        let bytes = natsMsg_GetData(reply).map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
        let answer = try? JSONValue(parsing: bytes)
        if case .array(let names)? = answer?["streams"], !names.isEmpty {
            let streams = names.compactMap(\.stringValue).joined(separator: ", ")
            return JetStreamError(
                .noLeader,
                """
                stream \(streams) captures subject \(subject) but has no leader to store it (an election after its \
                leader was lost, or too few of its servers up); it is retried
                """)
        }
        if let error = answer?["error"], let description = error["description"]?.stringValue {
            return JetStreamError(
                .noLeader, "JetStream cannot look up the stream for subject \(subject) (\(description)); it is retried")
        }
        return Self.failure(NATS_NO_RESPONDERS, jsErrCode(0), subject: subject)
    }
}
