import DrophookAgent
import DrophookTestSupport
import Foundation
import Testing

/// The real `drophook` binary, run as a child process on a temp directory with its own config.
///
/// Tests talk to it only as a user would: files in the drop tree, HTTP at the receiver,
/// the status file, signals.
final class AgentUnderTest: @unchecked Sendable {
    // Mutable state (`process`) is touched only by the one test that owns this value.
    let root: URL
    let dropDirectory: URL
    let stateDirectory: URL
    let configFile: URL
    private(set) var process: Process?
    let logFile: URL

    /// The built `drophook` next to the test bundle.
    static var binary: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("drophook")
    }

    /// Makes the temp tree and writes the config; `webhooks` is the YAML list under `webhooks:`.
    /// `dropDirectory` replaces the temp tree's own `drop` directory as the watch root.
    init(webhooks: String, watchExtra: String = "", topLevelExtra: String = "", dropDirectory: URL? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-agent-\(UUID().uuidString.prefix(8))")
        self.dropDirectory = dropDirectory ?? root.appendingPathComponent("drop")
        stateDirectory = root.appendingPathComponent("state")
        configFile = root.appendingPathComponent("drophook.yaml")
        logFile = root.appendingPathComponent("agent.log")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: self.dropDirectory, withIntermediateDirectories: true)
        let yaml = """
            state_dir: \(stateDirectory.path)
            organization_id: d57060b1-23fe-2d59-afd0-7f56d9e1fc55
            \(topLevelExtra)
            watches:
              - name: uploads
                path: \(self.dropDirectory.path)
                pipe_id: pip_123456789
            \(watchExtra)
            webhooks:
            \(webhooks)
            """
        try yaml.write(to: configFile, atomically: true, encoding: .utf8)
        // As an operator keeps a config with secrets in it: readable by its owner only.
        chmod(configFile.path, 0o600)
    }

    /// Starts `drophook run` and waits until it reports that it is watching.
    /// - Parameters:
    ///   - environment: variables added to the test's own (NOTIFY_SOCKET, JOURNAL_STREAM…).
    ///   - keepLog: append to the log file as it is (its inode may have been handed out).
    ///   - launcher: a command that runs the agent (e.g. `setpriv` with a uid and capabilities).
    func start(
        timeout: Duration = .seconds(30), environment: [String: String] = [:], keepLog: Bool = false,
        launcher: [String] = []
    ) async throws {
        // Two agents on one state directory would be a different product; never test that by accident.
        guard process?.isRunning != true else { throw AgentTestError("agent already running") }
        let process = Process()
        let arguments = [
            "run", "--config", configFile.path, "--log-level", ProcessInfo.processInfo.environment["DROPHOOK_TEST_LOG_LEVEL"] ?? "debug",
        ]
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [Self.binary.path] + arguments
        } else {
            process.executableURL = Self.binary
            process.arguments = arguments
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if !keepLog || !FileManager.default.fileExists(atPath: logFile.path) {
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logFile)
        try log.seekToEnd()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        try await waitUntilReady(pid: process.processIdentifier, timeout: timeout)
    }

    private func waitUntilReady(pid: Int32, timeout: Duration) async throws {
        // The agent rewrites status.json within 250 ms of becoming ready; it is read until then.
        let ready = try await pollUntil(within: timeout) { [self] in
            if let status = AgentStatus.read(stateDirectory: stateDirectory.path), status.pid == pid, status.ready { return true }
            guard process?.isRunning == true else { throw AgentTestError("agent exited during start-up: \(log)") }
            return false
        }
        guard ready else { throw AgentTestError("agent not ready within \(timeout): \(log)") }
    }

    /// SIGKILL, as a crash or the OOM killer would.
    func kill9() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait for a graceful exit; returns the exit status.
    @discardableResult
    func terminate() -> Int32 {
        guard let process else { return 0 }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// Sends a signal (SIGHUP for reload).
    func signal(_ signal: Int32) {
        if let process, process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// What the agent logged so far.
    var log: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// Stops the agent if still running and removes the temp tree.
    func cleanUp() {
        kill9()
        try? FileManager.default.removeItem(at: root)
    }

    /// Runs a `drophook` subcommand to completion and returns (exit status, stdout, stderr).
    /// `launcher` runs it through another command first (e.g. `setpriv` with a uid). A command
    /// still running after `limit` (a `run` that should have refused to start, and started) is
    /// killed, and its status is 137, so the test fails instead of hanging on its output.
    static func command(
        _ arguments: [String], environment: [String: String]? = nil,
        launcher: [String] = [], limit: Duration = .seconds(60)
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = launcher.first.map(URL.init(fileURLWithPath:)) ?? binary
        process.arguments = launcher.isEmpty ? arguments : Array(launcher.dropFirst()) + [binary.path] + arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let pid = process.processIdentifier
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        // Only this child's pid, and only while it is not reaped: the watchdog is cancelled
        // once the output has ended and before the wait that reaps the child.
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        watchdog.cancel()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

/// A failure of the harness itself, with the agent's log attached.
struct AgentTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
