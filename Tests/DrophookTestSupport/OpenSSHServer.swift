import Foundation
import Glibc

/// A throwaway OpenSSH `sshd` on 127.0.0.1 with its own host key, user key and config in a temp
/// directory, serving `internal-sftp`. With a ``ChrootUser`` that user is jailed in its own
/// root (root-owned, as sshd demands) and its uploads carry its own uid.
public final class OpenSSHServer: @unchecked Sendable {
    // Immutable after start; `process` is stopped once by the owning test.
    public let directory: String
    public let port: Int
    public let chroots: [ChrootUser]
    public var chroot: ChrootUser? { chroots.first }
    private let process: ChildProcess

    /// A system user served only by a chrooted `internal-sftp`.
    public struct ChrootUser: Sendable {
        /// An existing account (the tests use `nobody`: its files get uid 65534, not root's).
        public var name: String
        /// The chroot: created root-owned, mode 755; must not be under a world-writable directory.
        public var root: String
        /// Directories inside the chroot the user may write to, created with the user as owner.
        public var writable: [String]

        public init(name: String, root: String, writable: [String]) {
            self.name = name
            self.root = root
            self.writable = writable
        }
    }

    public static var isAvailable: Bool {
        getuid() == 0 && access("/usr/sbin/sshd", X_OK) == 0 && access("/usr/bin/sftp", X_OK) == 0
            && access("/usr/bin/ssh-keygen", X_OK) == 0
    }

    private init(directory: String, port: Int, chroots: [ChrootUser], process: ChildProcess) {
        self.directory = directory
        self.port = port
        self.chroots = chroots
        self.process = process
    }

    public static func start(chroot: ChrootUser? = nil) throws -> OpenSSHServer {
        try start(chroots: chroot.map { [$0] } ?? [])
    }

    /// An sshd whose `internal-sftp` serves each of `chroots` in its own jail; with
    /// `sftpLogLevel` (`INFO`) it logs every session's requests to syslog, which a chrooted
    /// session sends to its chroot's `dev/log`.
    public static func start(chroots: [ChrootUser], sftpLogLevel: String? = nil) throws -> OpenSSHServer {
        var template = Array("/tmp/drophook-sshd-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ChildProcessFailure("mkdtemp failed")
        }
        let directory = String(cString: made)
        // sshd reads authorized_keys as the logging-in user: let a non-root account reach it.
        _ = chmod(directory, 0o755)
        try ChildProcess.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", directory + "/host_key"])
        try ChildProcess.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", directory + "/user_key"])
        try FileManager.default.copyItem(atPath: directory + "/user_key.pub", toPath: directory + "/authorized_keys")
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        var jail = ""
        let sftp = "internal-sftp" + (sftpLogLevel.map { " -l \($0)" } ?? "")
        for chroot in chroots {
            guard let account = getpwnam(chroot.name) else { throw ChildProcessFailure("no user \(chroot.name)") }
            let (uid, gid) = (account.pointee.pw_uid, account.pointee.pw_gid)
            try FileManager.default.createDirectory(
                atPath: chroot.root, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
            for writable in chroot.writable {
                let path = chroot.root + "/" + writable
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                guard Glibc.chown(path, uid, gid) == 0 else { throw ChildProcessFailure("cannot chown \(path)") }
            }
            jail += """
                Match User \(chroot.name)
                    ChrootDirectory \(chroot.root)
                    ForceCommand \(sftp) -u 0022
                    AllowTcpForwarding no

                """
        }
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
            Subsystem sftp \(sftp)
            \(jail)
            """
        try config.write(toFile: directory + "/sshd_config", atomically: false, encoding: .utf8)
        let process = try ChildProcess("/usr/sbin/sshd", ["-D", "-e", "-f", directory + "/sshd_config"], output: directory + "/sshd.log")
        let server = OpenSSHServer(directory: directory, port: port, chroots: chroots, process: process)
        let deadline = ContinuousClock.now + .seconds(10)
        while !canConnect(port: port) {
            guard ContinuousClock.now < deadline, process.isRunning else {
                server.stop()
                throw ChildProcessFailure("sshd did not listen on 127.0.0.1:\(port)")
            }
            usleep(20_000) // sshd is starting; there is no event to wait on
        }
        return server
    }

    /// The OpenSSH `sftp` client's arguments for a batch file, as `user`.
    public func sftpArguments(batch: String, user: String, extra: [String] = []) -> [String] {
        extra + [
            "-b", batch, "-i", directory + "/user_key", "-P", String(port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-o", "LogLevel=ERROR", "\(user)@127.0.0.1",
        ]
    }

    /// Runs an OpenSSH `sftp` batch (one session) to completion.
    public func sftp(_ commands: [String], user: String = "root", within limit: Duration = .seconds(60)) throws {
        let batch = try writeBatch(commands)
        try ChildProcess.run("/usr/bin/sftp", sftpArguments(batch: batch, user: user), within: limit, output: directory + "/sftp.log")
    }

    /// Starts an OpenSSH `sftp` batch without waiting; `limitKbit` throttles it (`sftp -l`).
    public func sftpInBackground(_ commands: [String], user: String, limitKbit: Int? = nil) throws -> ChildProcess {
        let batch = try writeBatch(commands)
        let extra = limitKbit.map { ["-l", String($0)] } ?? []
        return try ChildProcess("/usr/bin/sftp", sftpArguments(batch: batch, user: user, extra: extra), output: directory + "/sftp.log")
    }

    /// Runs a Python script with paramiko, a second SFTP client library. The script gets an
    /// open `sftp` (paramiko `SFTPClient`) connected as `user`.
    public func paramiko(_ body: String, user: String, within limit: Duration = .seconds(60)) throws {
        let script = """
            import paramiko
            transport = paramiko.Transport(("127.0.0.1", \(port)))
            transport.connect(username="\(user)", pkey=paramiko.Ed25519Key.from_private_key_file("\(directory)/user_key"))
            sftp = paramiko.SFTPClient.from_transport(transport)
            \(body)
            sftp.close()
            transport.close()

            """
        let path = directory + "/client-\(UUID().uuidString.prefix(8)).py"
        try script.write(toFile: path, atomically: false, encoding: .utf8)
        try ChildProcess.run(Self.debianPython, [path], within: limit, output: directory + "/paramiko.log")
    }

    /// Adds a second login name for `user`'s uid and gid (`useradd -o`), as virtual-user
    /// setups have: several SFTP accounts that are one system user. Remove it with ``removeAccount(_:)``.
    public static func addAlias(_ name: String, of user: String) throws {
        guard let account = getpwnam(user) else { throw ChildProcessFailure("no user \(user)") }
        let (uid, gid) = (account.pointee.pw_uid, account.pointee.pw_gid)
        removeAccount(name)
        try ChildProcess.run(
            "/usr/sbin/useradd",
            [
                "-o", "-u", String(uid), "-g", String(gid), "-M", "-d", "/nonexistent",
                "-s", "/usr/sbin/nologin",
                // Not locked ("!"): sshd without PAM refuses locked accounts even a key.
                "-p", "*", name,
            ], within: .seconds(30))
    }

    /// Removes an account ``addAlias(_:of:)`` made; nothing if there is none.
    public static func removeAccount(_ name: String) {
        guard getpwnam(name) != nil else { return }
        _ = try? ChildProcess.run("/usr/sbin/userdel", [name], within: .seconds(30))
    }

    /// Debian's Python, where `python3-paramiko` installs (the `python3` on PATH may be another).
    public static let debianPython = "/usr/bin/python3"

    /// Whether paramiko can be imported by Debian's Python.
    public static var hasParamiko: Bool {
        (try? ChildProcess.run(debianPython, ["-c", "import paramiko"], within: .seconds(30))) != nil
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
        for chroot in chroots { try? FileManager.default.removeItem(atPath: chroot.root) }
    }

    private func writeBatch(_ commands: [String]) throws -> String {
        let batch = directory + "/batch-\(UUID().uuidString.prefix(8))"
        try (commands.joined(separator: "\n") + "\n").write(toFile: batch, atomically: false, encoding: .utf8)
        return batch
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
        guard bound else { throw ChildProcessFailure("cannot bind 127.0.0.1:0") }
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
