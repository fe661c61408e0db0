import Testing

@testable import DrophookSessions

/// The ledger's rules, driven by feeding lines and moving time (instants are passed in).
struct SessionLedgerTests {
    typealias Ledger = SessionLedger<ContinuousClock.Instant>
    let start = ContinuousClock.now
    let alice = SessionKey(source: 0, pid: 100)
    let bob = SessionKey(source: 0, pid: 200)

    func ledger(limits: Ledger.Limits = .init()) -> Ledger {
        Ledger(layout: ChrootLayout(chroot: "/srv/sftp/%u"), limits: limits, homes: { "/home/" + $0 })
    }

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func upload(
        _ ledger: inout Ledger, _ key: SessionKey, _ path: String, written: Int64, forced: Bool = false, at offset: Duration = .zero
    ) {
        ledger.apply(.open(path: bytes(path), writes: true), from: key, at: start + offset)
        ledger.apply(.close(path: bytes(path), bytesRead: 0, bytesWritten: written, forced: forced), from: key, at: start + offset)
    }

    func created(_ path: String, byRename: Bool = false, directory: Bool = false) -> SessionQuery {
        SessionQuery(change: .created(byRename: byRename), path: path, isDirectory: directory)
    }

    @Test func eachUploadIsTheSessionsThatWroteIt() {
        var ledger = ledger()
        ledger.apply(.sessionOpened(user: "alice", address: "10.0.0.1"), from: alice, at: start)
        ledger.apply(.sessionOpened(user: "bob", address: "10.0.0.2"), from: bob, at: start)
        upload(&ledger, alice, "/in/a.csv", written: 5)
        upload(&ledger, bob, "/in/a.csv", written: 7)
        #expect(
            ledger.attribute(created("/srv/sftp/alice/in/a.csv"))
                == .attributed(SessionAttribution(user: "alice", clientAddress: "10.0.0.1", bytesWritten: 5)))
        #expect(
            ledger.attribute(created("/srv/sftp/bob/in/a.csv"))
                == .attributed(SessionAttribution(user: "bob", clientAddress: "10.0.0.2", bytesWritten: 7)))
        // Used up: a later local rewrite of the same file is nobody's upload.
        #expect(ledger.attribute(created("/srv/sftp/alice/in/a.csv")) == .unknown)
    }

    @Test func linesOfASessionNeverSeenOpeningAreIgnored() {
        var ledger = ledger()
        let changed = ledger.apply(.close(path: bytes("/in/a"), bytesRead: 0, bytesWritten: 1, forced: false), from: alice, at: start)
        #expect(!changed)
        #expect(ledger.attribute(created("/srv/sftp/alice/in/a")) == .unknown)
        #expect(ledger.recordCount == 0)
    }

    @Test func aForcedCloseIsAnInterruptedUploadAndAResumeReplacesIt() {
        var ledger = ledger()
        ledger.apply(.sessionOpened(user: "alice", address: "::1"), from: alice, at: start)
        upload(&ledger, alice, "/in/big.bin", written: 522_240, forced: true)
        ledger.apply(.sessionClosed(user: "alice", address: "::1"), from: alice, at: start)
        #expect(
            ledger.attribute(created("/srv/sftp/alice/in/big.bin"))
                == .attributed(SessionAttribution(user: "alice", clientAddress: "::1", bytesWritten: 522_240, interrupted: true)))

        // Cut off, then resumed before inotify reported anything: the newest close is the truth.
        let resumed = SessionKey(source: 0, pid: 300)
        ledger.apply(.sessionOpened(user: "alice", address: "::1"), from: alice, at: start)
        upload(&ledger, alice, "/in/other.bin", written: 10, forced: true)
        ledger.apply(.sessionOpened(user: "alice", address: "::1"), from: resumed, at: start)
        upload(&ledger, resumed, "/in/other.bin", written: 90)
        #expect(
            ledger.attribute(created("/srv/sftp/alice/in/other.bin"))
                == .attributed(SessionAttribution(user: "alice", clientAddress: "::1", bytesWritten: 90)))
    }

    @Test func aFileOpenForWritingIsPendingUntilItsClose() {
        var ledger = ledger()
        ledger.apply(.sessionOpened(user: "alice", address: "a"), from: alice, at: start)
        ledger.apply(.open(path: bytes("/in/x"), writes: true), from: alice, at: start)
        #expect(ledger.attribute(created("/srv/sftp/alice/in/x")) == .pending)
        ledger.apply(.open(path: bytes("/in/denied"), writes: true), from: alice, at: start)
        ledger.apply(.failed(status: "Permission denied"), from: alice, at: start)
        #expect(ledger.attribute(created("/srv/sftp/alice/in/denied")) == .unknown)
        // A status line after anything but an open says nothing about the open before it.
        ledger.apply(.remove(path: bytes("/in/y")), from: alice, at: start)
        ledger.apply(.failed(status: "No such file"), from: alice, at: start)
        #expect(ledger.attribute(created("/srv/sftp/alice/in/x")) == .pending)
    }

    @Test func aTempNameUploadCarriesItsTransferThroughTheRename() {
        var ledger = ledger()
        ledger.apply(.sessionOpened(user: "alice", address: "a"), from: alice, at: start)
        upload(&ledger, alice, "/in/r.csv.filepart", written: 42)
        ledger.apply(.rename(old: bytes("/in/r.csv.filepart"), new: bytes("/in/r.csv")), from: alice, at: start)
        #expect(
            ledger.attribute(created("/srv/sftp/alice/in/r.csv"))
                == .attributed(SessionAttribution(user: "alice", clientAddress: "a", bytesWritten: 42)))
        // The rename was confirmed along with it: nothing is left to disagree about.
        #expect(ledger.expire(now: start + .seconds(61)) == [])
        #expect(ledger.recordCount == 0)
    }

    @Test func operationsNoEventConfirmedAreDisagreements() {
        var ledger = ledger()
        ledger.apply(.sessionOpened(user: "alice", address: "a"), from: alice, at: start)
        ledger.apply(.remove(path: bytes("/in/gone")), from: alice, at: start)
        ledger.apply(.remove(path: bytes("/in/kept")), from: alice, at: start)
        ledger.apply(.makeDirectory(path: bytes("/in/d")), from: alice, at: start)
        ledger.apply(.removeDirectory(path: bytes("/in/e")), from: alice, at: start)
        ledger.apply(.rename(old: bytes("/in/m"), new: bytes("/in/n")), from: alice, at: start + .seconds(30))
        #expect(
            ledger.attribute(SessionQuery(change: .deleted(byRename: false), path: "/srv/sftp/alice/in/gone", isDirectory: false))
                == .attributed(SessionAttribution(user: "alice", clientAddress: "a")))
        #expect(
            ledger.attribute(created("/srv/sftp/alice/in/d", directory: true))
                == .attributed(SessionAttribution(user: "alice", clientAddress: "a")))
        // Not yet expired at 59 s; at 61 s the unconfirmed remove and rmdir are; the rename 30 s later.
        #expect(ledger.expire(now: start + .seconds(59)) == [])
        let expired = ledger.expire(now: start + .seconds(61)).map(\.rawValue).sorted()
        #expect(expired == ["remove", "rmdir"])
        #expect(ledger.expire(now: start + .seconds(91)) == [.rename])
        #expect(ledger.recordCount == 0)
    }

    @Test func aRenameIsAttributedOnBothHalves() {
        var ledger = ledger()
        ledger.apply(.sessionOpened(user: "bob", address: "b"), from: bob, at: start)
        ledger.apply(.rename(old: bytes("/in/m"), new: bytes("/in/n")), from: bob, at: start)
        #expect(
            ledger.attribute(SessionQuery(change: .deleted(byRename: true), path: "/srv/sftp/bob/in/m", isDirectory: false))
                == .attributed(SessionAttribution(user: "bob", clientAddress: "b")))
        // The deleted half used up the whole rename (both records).
        #expect(ledger.recordCount == 0)
    }

    @Test func tablesStayWithinTheirBounds() {
        var ledger = ledger(limits: .init(sessions: 2, openFilesPerSession: 2, records: 3))
        for pid in 1...5 {
            ledger.apply(.sessionOpened(user: "u\(pid)", address: "a"), from: SessionKey(source: 0, pid: Int32(pid)), at: start)
        }
        #expect(ledger.liveSessions == 2)
        let first = SessionKey(source: 0, pid: 1)
        for index in 0..<10 { ledger.apply(.open(path: bytes("/f\(index)"), writes: true), from: first, at: start) }
        for index in 0..<10 {
            ledger.apply(
                .close(path: bytes("/f\(index)"), bytesRead: 0, bytesWritten: 1, forced: false), from: first,
                at: start + .milliseconds(index))
        }
        #expect(ledger.recordCount == 3)
        // The newest were kept.
        #expect(ledger.attribute(created("/srv/sftp/u1/f9")) != .unknown)
        #expect(ledger.attribute(created("/srv/sftp/u1/f0")) == .unknown)
    }

    @Test func clientPathsMapIntoTheChroot() {
        let chrooted = ChrootLayout(chroot: "/srv/sftp/%u")
        #expect(chrooted.realPath(bytes("/upload/a.txt"), user: "alice", home: "/home/alice") == "/srv/sftp/alice/upload/a.txt")
        #expect(chrooted.realPath(bytes("upload//./a.txt"), user: "alice", home: nil) == "/srv/sftp/alice/upload/a.txt")
        // `..` cannot leave the chroot, as the kernel's chroot makes it.
        #expect(chrooted.realPath(bytes("/../../etc/passwd"), user: "alice", home: nil) == "/srv/sftp/alice/etc/passwd")
        #expect(ChrootLayout(chroot: "%h/jail").realPath(bytes("/x"), user: "bob", home: "/home/bob") == "/home/bob/jail/x")
        #expect(
            ChrootLayout(chroot: "/srv/%%/%u", startDirectory: "/upload").realPath(bytes("in/x"), user: "c", home: nil)
                == "/srv/%/c/upload/in/x")
        // Not chrooted: absolute paths are real, relative ones start at the home directory.
        #expect(ChrootLayout().realPath(bytes("in/x"), user: "d", home: "/home/d") == "/home/d/in/x")
        #expect(ChrootLayout().realPath(bytes("/srv/in/x"), user: "d", home: "/home/d") == "/srv/in/x")
        // Non-UTF-8 bytes come out as the escaped text the watcher uses for the same name.
        #expect(chrooted.realPath(bytes("/r") + [0xFF], user: "e", home: nil) == "/srv/sftp/e/r\u{FFFD}FF")
        #expect(ChrootLayout.unknownToken(in: "/srv/%u/%U") == "%U")
        #expect(ChrootLayout.unknownToken(in: "/srv/%u/%h/%%") == nil)
    }
}
