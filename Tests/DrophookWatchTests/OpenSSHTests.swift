import DrophookEvents
import Foundation
import Glibc
import Testing

@testable import DrophookWatch

/// Uploads through a real OpenSSH server (`internal-sftp`) on 127.0.0.1.
@Suite("OpenSSH SFTP uploads", .enabled(if: OpenSSHServer.isAvailable, "needs root and /usr/sbin/sshd"))
struct OpenSSHTests {
    @Test(.timeLimit(.minutes(2)))
    func sftpPutAndBothRenameKindsGiveTheRightEvents() async throws {
        let tree = TempTree("sftp")
        let server = try OpenSSHServer.start()
        defer { server.stop() }
        let harness = try await WatchHarness.start(.test(tree))
        let local = server.directory + "/upload.csv"
        try "a,b\n1,2\n".write(toFile: local, atomically: false, encoding: .utf8)
        let root = tree.path
        // One session per step, each awaited, so that every intermediate name is seen.
        try server.sftp(["put \(local) \(root)/a.csv"])
        #expect(await harness.waitFor(.created, "a.csv"))
        try server.sftp(["rename \(root)/a.csv \(root)/b.csv"])
        #expect(await harness.waitFor(.created, "b.csv"))
        try server.sftp(["rename -l \(root)/b.csv \(root)/c.csv"])
        #expect(await harness.waitFor(.deleted, "b.csv"))
        // Client temp names, renamed within the same session.
        try server.sftp(["put \(local) \(root)/x.csv.filepart", "rename -l \(root)/x.csv.filepart \(root)/x.csv"])
        #expect(await harness.waitFor(.created, "x.csv"))
        try server.sftp(["put \(local) \(root)/y.csv.filepart", "rename \(root)/y.csv.filepart \(root)/y.csv"])
        #expect(await harness.waitFor(.created, "y.csv"))
        try server.sftp(["rm \(root)/c.csv"])
        #expect(await harness.waitFor(.deleted, "c.csv"))
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        let events = harness.events.filter { $0.path != "marker" }.map { "\($0.kind) \($0.path)" }
        #expect(events == [
            "created a.csv",
            "deleted a.csv", "created b.csv",  // posix-rename: rename(2)
            "created c.csv", "deleted b.csv",  // legacy rename: link(2) + unlink(2)
            "created x.csv",
            "created y.csv",
            "deleted c.csv",
        ])
        let sizes = harness.events.filter { $0.kind == .created && $0.path != "marker" }.map { "\($0.path)=\($0.size.map(String.init) ?? "nil")" }
        #expect(sizes.allSatisfy { $0.hasSuffix("=8") }, "\(sizes)")
    }
}

/// A throwaway sshd with its own host key, user key and config in a temp directory.
struct OpenSSHServer {
    let directory: String
    let port: Int
    let pid: pid_t

    static var isAvailable: Bool {
        getuid() == 0 && access("/usr/sbin/sshd", X_OK) == 0 && access("/usr/bin/sftp", X_OK) == 0
            && access("/usr/bin/ssh-keygen", X_OK) == 0
    }

    static func start() throws -> OpenSSHServer {
        let tree = TempTree("sshd")
        // Kept for the server's lifetime; removed in stop().
        let directory = tree.path + "-keep"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", directory + "/host_key"])
        try run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", directory + "/user_key"])
        try FileManager.default.copyItem(atPath: directory + "/user_key.pub", toPath: directory + "/authorized_keys")
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        let port = try freePort()
        let config = """
            ListenAddress 127.0.0.1:\(port)
            HostKey \(directory)/host_key
            PidFile \(directory)/sshd.pid
            AuthorizedKeysFile \(directory)/authorized_keys
            StrictModes no
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin yes
            UsePAM no
            Subsystem sftp internal-sftp

            """
        try config.write(toFile: directory + "/sshd_config", atomically: false, encoding: .utf8)
        let pid = try spawn("/usr/sbin/sshd", ["-D", "-e", "-f", directory + "/sshd_config"])
        let server = OpenSSHServer(directory: directory, port: port, pid: pid)
        let deadline = ContinuousClock.now + .seconds(10)
        while !canConnect(port: port) {
            guard ContinuousClock.now < deadline, waitpid(pid, nil, WNOHANG) == 0 else {
                server.stop()
                throw SSHTestFailure("sshd did not listen on 127.0.0.1:\(port)")
            }
            usleep(20_000)  // sshd is starting; there is no event to wait on
        }
        return server
    }

    func sftp(_ commands: [String]) throws {
        let batch = directory + "/batch"
        try (commands.joined(separator: "\n") + "\n").write(toFile: batch, atomically: false, encoding: .utf8)
        try Self.run("/usr/bin/sftp", [
            "-b", batch, "-i", directory + "/user_key", "-P", String(port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-o", "LogLevel=ERROR", "root@127.0.0.1",
        ])
    }

    func stop() {
        kill(pid, SIGTERM)
        waitpid(pid, nil, 0)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts a program with stdout and stderr sent to /dev/null.
    static func spawn(_ executable: String, _ arguments: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard status == 0 else {
            throw SSHTestFailure("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Runs a program to completion; throws unless it exits 0.
    static func run(_ executable: String, _ arguments: [String]) throws {
        let pid = try spawn(executable, arguments)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        // WIFEXITED && WEXITSTATUS == 0
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw SSHTestFailure("\(executable) \(arguments.joined(separator: " ")) failed with status \(status)")
        }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw SSHTestFailure("cannot bind 127.0.0.1:0") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// A test's own failure to set up sshd or a client.
struct SSHTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
