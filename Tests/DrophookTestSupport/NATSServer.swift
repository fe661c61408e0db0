import Foundation
import Glibc

/// A real `nats-server` with JetStream on a loopback port and a temp store, stopped by pid.
public final class NATSServer: @unchecked Sendable {
    // Set once in init; `stop()` is called by the one test that owns the server.
    public let port: Int
    public let directory: String
    private let process: ChildProcess

    /// `nats://127.0.0.1:<port>`.
    public var url: String { "nats://127.0.0.1:\(port)" }

    private init(port: Int, directory: String, process: ChildProcess) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    /// Starts a single JetStream server and returns once it accepts connections; `arguments`
    /// adds options (e.g. `--user`, `--pass`, `--auth`); `port` is a free one unless given.
    public static func start(_ arguments: [String] = [], port: Int? = nil) throws -> NATSServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-nats-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try port ?? OpenSSHServer.freePort()
        let process = try ChildProcess(
            "/usr/sbin/nats-server", ["-js", "-a", "127.0.0.1", "-p", "\(port)", "-sd", directory + "/store"] + arguments,
            output: directory + "/server.log")
        let server = NATSServer(port: port, directory: directory, process: process)
        let deadline = ContinuousClock.now + .seconds(10)
        while !OpenSSHServer.canConnect(port: port) {
            guard ContinuousClock.now < deadline, process.isRunning else {
                server.stop()
                throw ChildProcessFailure("nats-server did not listen on 127.0.0.1:\(port)")
            }
            usleep(20_000) // the server is starting; there is no event to wait on
        }
        return server
    }

    /// The server's log, for failure messages.
    public var log: String { (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? "" }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Three `nats-server`s with JetStream clustered on loopback ports, each stoppable and
/// restartable by name (with its store kept), for failover tests.
public final class NATSCluster: @unchecked Sendable {
    // `processes` is touched only by the one test that owns the cluster.
    public let names = ["n1", "n2", "n3"]
    public let clientPorts: [Int]
    private let clusterPorts: [Int]
    public let directory: String
    private var processes: [String: ChildProcess] = [:]

    /// Every server's client URL.
    public var urls: [String] { clientPorts.map { "nats://127.0.0.1:\($0)" } }

    public init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("drophook-nats-cluster-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        clientPorts = try (0..<3).map { _ in try OpenSSHServer.freePort() }
        clusterPorts = try (0..<3).map { _ in try OpenSSHServer.freePort() }
        for name in names { try start(name) }
    }

    /// Starts (or restarts, on its kept store) one server and waits until it accepts clients.
    public func start(_ name: String) throws {
        guard let index = names.firstIndex(of: name) else { throw ChildProcessFailure("no server \(name)") }
        let routes = clusterPorts.enumerated().filter { $0.offset != index }.map { "nats://127.0.0.1:\($0.element)" }.joined(separator: ",")
        let process = try ChildProcess(
            "/usr/sbin/nats-server",
            [
                "-js", "-a", "127.0.0.1", "-p", "\(clientPorts[index])", "-sd", "\(directory)/\(name)",
                "--server_name", name, "--cluster_name", "drophook-test",
                "--cluster", "nats://127.0.0.1:\(clusterPorts[index])", "--routes", routes,
            ], output: "\(directory)/\(name).log")
        processes[name] = process
        let deadline = ContinuousClock.now + .seconds(10)
        while !OpenSSHServer.canConnect(port: clientPorts[index]) {
            guard ContinuousClock.now < deadline, process.isRunning else {
                throw ChildProcessFailure("nats-server \(name) did not listen on 127.0.0.1:\(clientPorts[index])")
            }
            usleep(20_000) // the server is starting; there is no event to wait on
        }
    }

    /// Stops one server (SIGTERM, then SIGKILL after the grace period).
    public func stop(_ name: String) {
        processes[name]?.stop()
        processes[name] = nil
    }

    public func stopAll() {
        for name in names { stop(name) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
