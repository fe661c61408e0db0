import CNats
import Glibc

/// What the tests read back from a stream, through libnats' JetStream management API
/// (streams are made with ``JetStreamPublisher/ensureStream(_:)``).
public final class StreamAdmin: @unchecked Sendable {
    // C handles made in init, destroyed in deinit; libnats locks inside them.
    private let connection: OpaquePointer
    private let context: OpaquePointer

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Connects to `url` (comma-separated for several servers), with a `.creds` file when the
    /// server asks for one.
    public init(url: String, credentialsFile: String? = nil) throws {
        var options: OpaquePointer?
        guard natsOptions_Create(&options) == NATS_OK, let options else { throw Failure(description: "no options") }
        defer { natsOptions_Destroy(options) }
        if let credentialsFile { _ = natsOptions_SetUserCredentialsFromFiles(options, credentialsFile, nil) }
        let servers = url.split(separator: ",").map { strdup(String($0)) }
        defer { servers.forEach { free($0) } }
        var list = servers.map { UnsafePointer($0) }
        _ = list.withUnsafeMutableBufferPointer { natsOptions_SetServers(options, $0.baseAddress, Int32(servers.count)) }
        var connection: OpaquePointer?
        guard natsConnection_Connect(&connection, options) == NATS_OK, let connection else {
            throw Failure(description: "cannot connect to \(url)")
        }
        var context: OpaquePointer?
        guard natsConnection_JetStream(&context, connection, nil) == NATS_OK, let context else {
            throw Failure(description: "no JetStream at \(url)")
        }
        self.connection = connection
        self.context = context
    }

    deinit {
        jsCtx_Destroy(context)
        natsConnection_Destroy(connection)
    }

    /// Adds a stream that holds at most `maxMessages` and refuses more (discard new), the
    /// way an operator caps one; with `update`, sets the cap of the stream that exists (the
    /// operator raising it).
    public func capStream(_ name: String, subjects: [String], maxMessages: Int64, update: Bool = false) throws {
        var config = jsStreamConfig()
        jsStreamConfig_Init(&config)
        let copies = subjects.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var list = copies.map { UnsafePointer($0) }
        let status = name.withCString { cName in
            list.withUnsafeMutableBufferPointer { subjectList in
                config.Name = cName
                config.Subjects = subjectList.baseAddress
                config.SubjectsLen = Int32(subjects.count)
                config.MaxMsgs = maxMessages
                config.Discard = js_DiscardNew
                var info: UnsafeMutablePointer<jsStreamInfo>?
                defer { if let info { jsStreamInfo_Destroy(info) } }
                return update ? js_UpdateStream(&info, context, &config, nil, nil) : js_AddStream(&info, context, &config, nil, nil)
            }
        }
        guard status == NATS_OK else { throw Failure(description: "cannot \(update ? "update" : "add") stream \(name)") }
    }

    /// The name of the server leading the stream's replica group.
    public func streamLeader(_ stream: String) throws -> String {
        var info: UnsafeMutablePointer<jsStreamInfo>?
        guard js_GetStreamInfo(&info, context, stream, nil, nil) == NATS_OK, let info else {
            throw Failure(description: "no stream \(stream)")
        }
        defer { jsStreamInfo_Destroy(info) }
        guard let leader = info.pointee.Cluster?.pointee.Leader else { throw Failure(description: "stream \(stream) has no leader") }
        return String(cString: leader)
    }

    public func messageCount(_ stream: String) throws -> UInt64 {
        var info: UnsafeMutablePointer<jsStreamInfo>?
        guard js_GetStreamInfo(&info, context, stream, nil, nil) == NATS_OK, let info else {
            throw Failure(description: "no stream \(stream)")
        }
        defer { jsStreamInfo_Destroy(info) }
        return info.pointee.State.Msgs
    }

    /// The stored message at `sequence`: its subject, body and headers.
    public func message(_ stream: String, sequence: UInt64) throws -> (subject: String, body: [UInt8], headers: [String: String]) {
        var message: OpaquePointer?
        guard js_GetMsg(&message, context, stream, sequence, nil, nil) == NATS_OK, let message else {
            throw Failure(description: "no message \(sequence) in \(stream)")
        }
        defer { natsMsg_Destroy(message) }
        let length = Int(natsMsg_GetDataLength(message))
        let body = natsMsg_GetData(message).map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
        var headers: [String: String] = [:]
        var keys: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        var count: Int32 = 0
        if natsMsgHeader_Keys(message, &keys, &count) == NATS_OK, let keys {
            for index in 0..<Int(count) {
                guard let key = keys[index] else { continue }
                var value: UnsafePointer<CChar>?
                if natsMsgHeader_Get(message, key, &value) == NATS_OK, let value {
                    headers[String(cString: key)] = String(cString: value)
                }
            }
            free(keys)
        }
        let subject = natsMsg_GetSubject(message).map { String(cString: $0) } ?? ""
        return (subject, body, headers)
    }

    /// Every message in the stream, in stream order (sequences 1 through the count, as the
    /// tests' streams never delete).
    public func messages(_ stream: String) throws -> [(subject: String, body: [UInt8], headers: [String: String])] {
        let count = try messageCount(stream)
        guard count > 0 else { return [] }
        return try (1...count).map { try message(stream, sequence: $0) }
    }
}
