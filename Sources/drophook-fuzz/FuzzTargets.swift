import DrophookAgent
import DrophookEvents
import DrophookSessions
@_spi(Fuzzing) import DrophookWatch

/// The parsers and encoders that take bytes from outside: each is handed whatever libFuzzer
/// makes up and must neither crash nor hang (`fuzz/run`).
enum FuzzTarget: String, CaseIterable {
    case config, inotify, payload, json, verify, syslog

    /// Runs one input through the target.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .config:
            _ = try? AgentConfiguration.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml", environment: ["SECRET": "s"])
        case .inotify:
            var events: [InotifyEvent] = []
            bytes.withUnsafeBytes { InotifyRecordParser.parse($0, into: &events) }
            for event in events { _ = event.name?.utf8.count }
        case .payload:
            Self.encode(bytes)
        case .json:
            if let value = try? JSONValue(parsing: bytes) { _ = value.serializedString }
        case .verify:
            Self.verify(bytes)
        case .syslog:
            if let line = SyslogLine(bytes) { _ = SFTPLogMessage(line.message) }
        }
    }

    /// A file event with arbitrary path bytes and size, in every format, signed every way.
    private static func encode(_ bytes: [UInt8]) {
        let size = bytes.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let path = PathBytes.string(from: bytes.dropFirst(min(8, bytes.count)))
        let event = FileEvent(
            id: "01a2", kind: bytes.first.map { $0 & 1 == 0 ? .created : .deleted } ?? .created, watch: "w",
            path: path, size: size, actor: path, occurredAtMillis: size)
        let context = DeliveryContext(webhookID: "h", deliveryID: "d", attemptID: "a", pipeID: "p", sessionDetails: true)
        for format in WebhookFormats.all where format.carries(event) {
            let message = format.message(for: event, context: context)
            for scheme in SignatureScheme.allCases {
                guard let signer = try? RequestSigner(scheme: scheme, secrets: [Array("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=".utf8)]) else {
                    continue
                }
                _ = message.signed(with: signer, messageID: "m", timestampSeconds: size)
            }
        }
    }

    /// A request as `drophook verify` or `listen` gets it: headers and body from the input.
    private static func verify(_ bytes: [UInt8]) {
        let parts = bytes.split(separator: 0, maxSplits: 4, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let names = ["webhook-signature", "X-Hub-Signature", "X-Rilavek-Signature", "X-Signature-Timestamp"]
        let headers =
            zip(names, parts).map { HTTPHeader($0, $1) } + [
                HTTPHeader("webhook-id", "m"), HTTPHeader("webhook-timestamp", parts.first ?? ""),
            ]
        let body = Array(parts.last?.utf8 ?? "".utf8)
        for secret in ["whsec_c2VjcmV0", "plain secret", "whpk_AAAA"] {
            _ = SignatureVerifier(secret: Array(secret.utf8)).verify(body: body, headers: headers, nowSeconds: 1_700_000_000)
        }
    }
}
