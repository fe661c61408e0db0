/// An SFTP server line found in a syslog datagram, a log file line or a journal entry:
/// the program (`internal-sftp` or `sftp-server`), the pid the line claims, and the message.
///
/// The same finder serves every layout: a datagram is `<38>Dec  2 06:04:13 internal-sftp[2182]: …`,
/// an rsyslog file line puts a host name (and maybe an RFC 3339 time) before the program.
public struct SyslogLine: Sendable, Hashable {
    /// `internal-sftp` or `sftp-server`.
    public var program: String
    /// The pid in `program[pid]`: what the line says, which only a file or journal source has
    /// to trust (a socket source uses the kernel's word instead).
    public var claimedPID: Int32
    /// The text after `]: `, without a trailing newline.
    public var message: ArraySlice<UInt8>

    /// The programs whose lines are SFTP session lines.
    public static let programs = ["internal-sftp", "sftp-server"]

    /// Finds `internal-sftp[PID]: ` or `sftp-server[PID]: ` and splits there; nil when the line is
    /// another program's.
    public init?(_ line: [UInt8]) {
        var end = line.endIndex
        while end > line.startIndex, line[end - 1] == 0x0A || line[end - 1] == 0x0D || line[end - 1] == 0 { end -= 1 }
        let text = line[line.startIndex..<end]
        for program in Self.programs {
            guard let (head, tail) = text.splitAtFirst(program + "["),
                head.isEmpty || head.last == UInt8(ascii: " ") || head.last == UInt8(ascii: ">"),
                let (digits, message) = tail.splitAtFirst("]: "),
                !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let pid = Int32(String(decoding: digits, as: UTF8.self))
            else { continue }
            self.program = program
            self.claimedPID = pid
            self.message = message
            return
        }
        return nil
    }
}
