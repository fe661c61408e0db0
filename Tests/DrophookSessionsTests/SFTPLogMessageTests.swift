import Testing

@testable import DrophookSessions

/// The lines OpenSSH 9.2's `internal-sftp -l INFO` writes (captured from a chrooted session),
/// and the shapes around them that must not parse.
struct SFTPLogMessageTests {
    private func message(_ datagram: String) -> SFTPLogMessage? {
        SyslogLine(Array(datagram.utf8)).flatMap { SFTPLogMessage($0.message) }
    }

    @Test func readsTheSessionLinesOfARealUpload() {
        #expect(
            message("<38>Dec  2 06:04:13 internal-sftp[14188]: session opened for local user nobody from [127.0.0.1]")
                == .sessionOpened(user: "nobody", address: "127.0.0.1"))
        #expect(
            message("<38>Dec  2 06:04:13 internal-sftp[14188]: open \"/upload/a.txt\" flags WRITE,CREATE,TRUNCATE mode 0644")
                == .open(path: Array("/upload/a.txt".utf8), writes: true))
        #expect(
            message("<38>Dec  2 06:04:13 internal-sftp[14188]: open \"/upload/a.txt\" flags READ mode 0666")
                == .open(path: Array("/upload/a.txt".utf8), writes: false))
        #expect(
            message("<38>Dec  2 06:04:13 internal-sftp[14188]: close \"/upload/a.txt\" bytes read 0 written 3")
                == .close(path: Array("/upload/a.txt".utf8), bytesRead: 0, bytesWritten: 3, forced: false))
        #expect(
            message("<38>Dec  2 06:04:15 internal-sftp[14195]: forced close \"/upload/big.bin\" bytes read 0 written 522240")
                == .close(path: Array("/upload/big.bin".utf8), bytesRead: 0, bytesWritten: 522240, forced: true))
        #expect(
            message("<38>Dec  2 06:04:13 internal-sftp[14188]: posix-rename old \"/upload/a.txt\" new \"/upload/b.txt\"")
                == .rename(old: Array("/upload/a.txt".utf8), new: Array("/upload/b.txt".utf8)))
        #expect(
            message("<38>Dec  2 06:04:13 internal-sftp[14188]: rename old \"/a\" new \"/b\"")
                == .rename(old: Array("/a".utf8), new: Array("/b".utf8)))
        #expect(
            message("<38>Dec  2 06:04:13 internal-sftp[14188]: mkdir name \"/upload/d\" mode 0777")
                == .makeDirectory(path: Array("/upload/d".utf8)))
        #expect(
            message("<38>Dec  2 06:04:13 internal-sftp[14188]: rmdir name \"/upload/d\"") == .removeDirectory(path: Array("/upload/d".utf8))
        )
        #expect(
            message("<38>Dec  2 06:04:13 internal-sftp[14188]: remove name \"/upload/b.txt\"") == .remove(path: Array("/upload/b.txt".utf8))
        )
        #expect(message("<38>Dec  2 06:04:13 internal-sftp[14188]: sent status No such file") == .failed(status: "No such file"))
        #expect(
            message("<38>Dec  2 06:04:13 internal-sftp[14188]: session closed for local user nobody from [127.0.0.1]")
                == .sessionClosed(user: "nobody", address: "127.0.0.1"))
    }

    @Test func findsTheProgramInFileAndJournalLayouts() throws {
        let rsyslog = try #require(
            SyslogLine(
                Array("2026-12-02T06:04:13.123456+00:00 sftp1 internal-sftp[2182]: session opened for local user a from [::1]\n".utf8)))
        #expect(rsyslog.claimedPID == 2182)
        #expect(rsyslog.program == "internal-sftp")
        #expect(SFTPLogMessage(rsyslog.message) == .sessionOpened(user: "a", address: "::1"))
        let classic = try #require(SyslogLine(Array("Dec  2 06:04:13 sftp1 sftp-server[77]: rmdir name \"/x\"".utf8)))
        #expect(classic.claimedPID == 77 && classic.program == "sftp-server")
        #expect(SyslogLine(Array("Dec  2 06:04:13 sftp1 sshd[77]: Accepted publickey for a".utf8)) == nil)
        #expect(SyslogLine(Array("Dec  2 06:04:13 sftp1 my-internal-sftp[77]: close \"/x\" bytes read 0 written 1".utf8)) == nil)
        #expect(SyslogLine(Array("<38>internal-sftp[]: close".utf8)) == nil)
        #expect(SyslogLine(Array("<38>internal-sftp[99999999999]: close".utf8)) == nil)
    }

    @Test func pathsComeBackAsTheirExactBytes() {
        // OpenSSH's vis(3) escaping: octal for non-ASCII, C style for controls, `\\` for a backslash.
        #expect(
            message("<38>x internal-sftp[1]: close \"/up/caf\\303\\251 \\\\ \\n\\t.csv\" bytes read 0 written 1")
                == .close(path: Array("/up/café \\ \n\t.csv".utf8), bytesRead: 0, bytesWritten: 1, forced: false))
        // A Latin-1 byte that is not UTF-8 stays that byte.
        #expect(
            message("<38>x internal-sftp[1]: remove name \"/up/r\\377.csv\"")
                == .remove(path: Array("/up/r".utf8) + [0xFF] + Array(".csv".utf8)))
        // A quote inside the name: the counts are read from the end.
        #expect(
            message("<38>x internal-sftp[1]: close \"/up/sp ace\"q.txt\" bytes read 0 written 3")
                == .close(path: Array("/up/sp ace\"q.txt".utf8), bytesRead: 0, bytesWritten: 3, forced: false))
        #expect(SyslogVis.decode(Array("\\x\\".utf8)) == Array("\\x\\".utf8))
        #expect(SyslogVis.decode(Array("\\400\\12".utf8)) == Array("\\400\\12".utf8))
    }

    @Test func refusesLinesWithoutOpenSSHsShape() {
        for line in [
            "close \"/a\" bytes read 0 written -3",
            "close \"/a\" bytes read x written 3",
            "close \"/a\" bytes read 0",
            "session opened for local user  from [1.2.3.4]",
            "session opened for local user a from 1.2.3.4",
            "remove name \"/a",
            "opendir \"/upload\"",
            "",
        ] {
            #expect(SFTPLogMessage(Array(line.utf8)) == nil, "\(line)")
        }
    }
}
