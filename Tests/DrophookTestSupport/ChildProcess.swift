import Foundation
import Glibc

/// A child process started with `posix_spawn` and reaped by the test itself, with every wait
/// bounded: Foundation's `Process` once left an exited `sftp` unreaped and hung a test.
public final class ChildProcess: @unchecked Sendable {
    // `exitStatus` is written only by the owning test's thread (wait/kill calls are not shared).
    public let pid: pid_t
    public let executable: String
    public let arguments: [String]
    private var exitStatus: Int32?

    /// Starts `executable`; its stdout and stderr go to `output` (appended), or /dev/null.
    public init(_ executable: String, _ arguments: [String], output: String? = nil) throws {
        self.executable = executable
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let sink = output ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, sink, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard status == 0 else {
            throw ChildProcessFailure("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    /// Runs a program to completion within `limit`; throws unless it exits 0.
    public static func run(_ executable: String, _ arguments: [String], within limit: Duration = .seconds(60), output: String? = nil) throws
    {
        let child = try ChildProcess(executable, arguments, output: output)
        guard let status = child.wait(within: limit) else {
            child.kill(SIGKILL)
            throw ChildProcessFailure("\(executable) \(arguments.joined(separator: " ")) did not finish within \(limit)")
        }
        guard status == 0 else {
            let log = output.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
            throw ChildProcessFailure("\(executable) \(arguments.joined(separator: " ")) exited with \(status)\n\(log)")
        }
    }

    /// Whether it has not exited yet (reaps it if it has).
    public var isRunning: Bool { poll() == nil }

    /// The exit code (128 + signal when killed) once it has exited, nil while it runs.
    @discardableResult
    public func poll() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        guard reaped == pid else { return nil }
        let signal = status & 0x7f
        exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return exitStatus
    }

    /// Waits for the exit, at most `limit`; nil if it is still running then. A child has no
    /// descriptor to wait on here, so this checks every 10 ms.
    public func wait(within limit: Duration) -> Int32? {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let status = poll() { return status }
            usleep(10_000)
        }
        return poll()
    }

    /// Sends a signal (never by name: only this pid).
    public func kill(_ signal: Int32) {
        guard exitStatus == nil else { return }
        _ = Glibc.kill(pid, signal)
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`; always reaped.
    public func stop(grace: Duration = .seconds(5)) {
        kill(SIGTERM)
        if wait(within: grace) == nil {
            kill(SIGKILL)
            _ = wait(within: .seconds(5))
        }
    }
}

/// A test's own failure to set up a process.
public struct ChildProcessFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
