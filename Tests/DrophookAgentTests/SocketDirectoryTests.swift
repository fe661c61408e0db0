import DrophookSessions
import DrophookTestSupport
import Foundation
import Glibc
import Testing

@testable import DrophookAgent

/// Where the session log's sockets can be bound when the agent is the `drophook` user under
/// its unit, as `check` judges it wherever it runs, and what `prepare` (root) hands over.
/// Judged here as `nobody`, an account every Debian system has.
@Suite(.serialized, .requires(.root))
struct SocketDirectoryTests {
    let base: String
    let nobody: SocketDirectoryAccess.Account

    init() throws {
        base = "/srv/drophook-sockets-\(UUID().uuidString.prefix(8))"
        nobody = try #require(SocketDirectoryAccess.Account.named("nobody"))
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        _ = chmod(base, 0o755)
    }

    /// A directory under the base, root-owned with `mode`, optionally given to `owner`.
    func directory(_ name: String, mode: mode_t = 0o755, owner: uid_t? = nil) throws -> String {
        let path = base + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        #expect(chmod(path, mode) == 0)
        if let owner { #expect(chown(path, owner, gid_t(UInt32.max)) == 0) }
        return path
    }

    func configuration() throws -> AgentConfiguration {
        try AgentConfiguration.parse(
            """
            state_dir: \(base)/state
            session_log:
              source: socket
              sockets: [\(base)/%u/dev/log]
              chroot: \(base)/%u
            watches:
              - name: uploads
                path: \(base)
            webhooks:
              - name: ops
                url: https://hooks.example.com/sftp
                format: rilavek
                secret: s3cret-long-enough-to-sign-with
            """, file: "t.yaml", environment: [:])
    }

    func judgement(prepares: Bool = false, writable: [String]? = nil) -> ServiceUnit.SocketJudgement {
        .init(access: SocketDirectoryAccess(account: nobody, writablePaths: writable), preparesChroots: prepares)
    }

    @Test("a directory sshd would not take as a chroot gets no socket and no word")
    func onlyChrootsCount() throws {
        defer { try? FileManager.default.removeItem(atPath: base) }
        _ = try directory("nobody/dev")
        _ = try directory("dave", owner: nobody.uid)
        _ = try directory("shared", mode: 0o775)
        let places = SessionLogPaths.socketPlaces("\(base)/%u/dev/log")
        #expect(places.map(\.path) == ["\(base)/nobody/dev/log"])
        #expect(places.map(\.user) == ["nobody"])
        #expect(SessionLogPaths.chrootUsers("\(base)/%u") == ["nobody"])
        // A root-owned chroot named after no account, without a dev: nothing to bind, nothing said.
        _ = try directory("no-such-account-here", mode: 0o755)
        #expect(
            AgentPreflight.sessionLogFindings(try configuration(), judgement: judgement()).map(\.subject)
                == ["\(base)/nobody/dev/log"])
    }

    @Test("check judges a chroot's dev as the service user would, and names the fix")
    func checkJudgesAsTheServiceUser() throws {
        defer { try? FileManager.default.removeItem(atPath: base) }
        let dev = try directory("nobody/dev")
        let config = try configuration()
        let denied = AgentPreflight.sessionLogFindings(config, judgement: judgement())
        #expect(denied.count == 1)
        #expect(denied.first?.severity == .warning)
        #expect(denied.first?.message.contains("nobody may not create a socket in \(dev) (root:root 755)") == true, "\(denied)")
        #expect(denied.first?.message.contains("chgrp \(nobody.groupName) \(dev) && chmod g+rwx \(dev)") == true, "\(denied)")
        // The shipped unit's prepare step hands a root-owned dev over before the agent binds.
        #expect(AgentPreflight.sessionLogFindings(config, judgement: judgement(prepares: true)).isEmpty)
        // ProtectSystem=strict without the tree among the writable paths: the drop-in to add.
        let readOnly = AgentPreflight.sessionLogFindings(config, judgement: judgement(prepares: true, writable: ["/var/lib/drophook"]))
        #expect(readOnly.first?.message.contains("ReadWritePaths=\(dev)") == true, "\(readOnly)")
        #expect(AgentPreflight.sessionLogFindings(config, judgement: judgement(prepares: true, writable: [base])).isEmpty)
        // Missing: said only for a chroot named after an account, with the command that makes it.
        try FileManager.default.removeItem(atPath: dev)
        let missing = AgentPreflight.sessionLogFindings(config, judgement: judgement())
        #expect(missing.first?.message.contains("nobody's chroot has no dev") == true, "\(missing)")
        #expect(missing.first?.message.contains("install -d -o root -g \(nobody.groupName) -m 0775 \(dev)") == true, "\(missing)")
    }

    @Test("prepare hands each chroot's dev to the service's group and makes missing ones, touching nothing else")
    func prepareHandsOverChrootDevs() throws {
        defer { try? FileManager.default.removeItem(atPath: base) }
        let existing = try directory("nobody/dev")
        let made = base + "/root/dev"
        _ = try directory("root")
        _ = try directory("no-such-account-here")
        let theirs = try directory("dave", owner: nobody.uid)
        let config = try configuration()
        let preparation = AgentPreflight.prepareSocketDirectories(config, for: nobody)
        #expect(preparation.problems.isEmpty, "\(preparation.problems)")
        #expect(preparation.changes.count == 2, "\(preparation.changes)")
        for path in [existing, made] {
            var status = stat()
            #expect(stat(path, &status) == 0)
            #expect(status.st_uid == 0)
            #expect(status.st_gid == nobody.groups[0])
            #expect(status.st_mode & 0o7777 == 0o775, "\(path): \(String(status.st_mode & 0o7777, radix: 8))")
        }
        #expect(!FileManager.default.fileExists(atPath: base + "/no-such-account-here/dev"))
        #expect(!FileManager.default.fileExists(atPath: theirs + "/dev"))
        // Judged as the service user now, nothing stands in the way; a second run changes nothing.
        #expect(AgentPreflight.sessionLogFindings(config, judgement: judgement()).isEmpty)
        #expect(AgentPreflight.prepareSocketDirectories(config, for: nobody).changes.isEmpty)
    }

    @Test("the unit's writable paths under ProtectSystem=strict, as systemctl show prints them")
    func writablePathsOfTheUnit() {
        let paths = ServiceUnit.writablePaths([
            "ProtectSystem": "strict", "ReadWritePaths": "-/srv/sftp +/data", "StateDirectory": "drophook",
        ])
        #expect(paths?.prefix(3) == ["/srv/sftp", "/data", "/var/lib/drophook"])
        #expect(ServiceUnit.writablePaths(["ProtectSystem": "full", "ReadWritePaths": "/srv"]) == nil)
        let access = SocketDirectoryAccess(account: nobody, writablePaths: paths)
        #expect(access.problem(bindingIn: "/etc") == .readOnly)
    }

    @Test("a directory the service may write but not search: refused, unless it holds CAP_DAC_READ_SEARCH as the unit gives it")
    func searchIsBypassedByTheUnitsCapability() throws {
        defer { try? FileManager.default.removeItem(atPath: base) }
        let dev = try directory("nobody/dev", mode: 0o773)
        #expect(chown(dev, 0, nobody.groups[0]) == 0)
        #expect(chmod(dev, 0o763) == 0)
        #expect(
            SocketDirectoryAccess(account: nobody, writablePaths: nil).problem(bindingIn: dev)
                == .denied(owner: "root:\(nobody.groupName)", mode: S_IFDIR | 0o763))
        #expect(SocketDirectoryAccess(account: nobody, writablePaths: nil, searchesEverywhere: true).problem(bindingIn: dev) == nil)
    }
}
