import DrophookEvents
import DrophookTestSupport
import Foundation
import Glibc
import Testing

@testable import DrophookWatch

/// Uploads through a real OpenSSH server (`internal-sftp`) on 127.0.0.1.
@Suite("OpenSSH SFTP uploads", .requires(.root, .sshd))
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
        #expect(
            events == [
                "created a.csv",
                "deleted a.csv", "created b.csv", "renamed b.csv", // posix-rename: rename(2), also as one event
                "created c.csv", "deleted b.csv", // legacy rename: link(2) + unlink(2), a new name and a delete
                "created x.csv",
                "created y.csv",
                "deleted c.csv",
            ])
        let sizes = harness.events.filter { $0.kind == .created && $0.path != "marker" }.map {
            "\($0.path)=\($0.size.map(String.init) ?? "nil")"
        }
        #expect(sizes.allSatisfy { $0.hasSuffix("=8") }, "\(sizes)")
    }
}
