import DrophookNATS
import Synchronization

/// The process's NATS connections: one per distinct set of connection settings, shared by the
/// endpoints that use it and kept across reloads (a SIGHUP that leaves a `nats:` entry's servers
/// and credentials alone does not reconnect). A transport connects only at its first publish, so
/// building endpoint configurations (for routing, for `check`) opens nothing.
final class JetStreamConnections: Sendable {
    static let shared = JetStreamConnections()

    private let transports = Mutex<[JetStreamTransport.Settings: JetStreamTransport]>([:])

    /// The transport for `settings`, made on first use.
    func transport(for settings: JetStreamTransport.Settings) -> JetStreamTransport {
        transports.withLock { transports in
            if let known = transports[settings] { return known }
            let made = JetStreamTransport(settings)
            transports[settings] = made
            return made
        }
    }

    /// Closes every connection whose settings are not in `kept`: all of them once the delivery
    /// engine has stopped, those a reload left behind otherwise (an attempt still on one fails
    /// as "closed" and is retried on the new one).
    func close(keeping kept: Set<JetStreamTransport.Settings> = []) {
        let closing = transports.withLock { transports in
            let gone = transports.filter { !kept.contains($0.key) }
            for settings in gone.keys { transports[settings] = nil }
            return Array(gone.values)
        }
        closing.forEach { $0.close() }
    }
}
