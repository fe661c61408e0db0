import CNats

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
}
