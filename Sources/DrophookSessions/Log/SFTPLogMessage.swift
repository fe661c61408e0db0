/// One line of OpenSSH's SFTP server log (`internal-sftp -l INFO` or `sftp-server -l INFO`),
/// the part after `internal-sftp[PID]: `.
///
/// Paths are the client's, inside its chroot, as raw bytes: OpenSSH writes non-printable bytes
/// in `vis(3)` C style (``SyslogVis``), and file followers may see them raw.
public enum SFTPLogMessage: Sendable, Hashable {
    /// `session opened for local user USER from [ADDRESS]`
    case sessionOpened(user: String, address: String)
    /// `session closed for local user USER from [ADDRESS]`
    case sessionClosed(user: String, address: String)
    /// `open "PATH" flags READ,WRITE,… mode 0644`; logged before the server opens the file.
    case open(path: [UInt8], writes: Bool)
    /// `close "PATH" bytes read R written W`, or `forced close …` for a handle the session
    /// still held when it ended (the client went away mid-transfer).
    case close(path: [UInt8], bytesRead: Int64, bytesWritten: Int64, forced: Bool)
    /// `rename old "A" new "B"` or `posix-rename old "A" new "B"`
    case rename(old: [UInt8], new: [UInt8])
    /// `remove name "PATH"`
    case remove(path: [UInt8])
    /// `mkdir name "PATH" mode 0777`
    case makeDirectory(path: [UInt8])
    /// `rmdir name "PATH"`
    case removeDirectory(path: [UInt8])
    /// `sent status MESSAGE`: at INFO only for failures, so the request just logged did not happen.
    case failed(status: String)

    /// Parses a message; nil for lines drophook has no use for (opendir, stat, set, …) and for
    /// lines that do not have the shape OpenSSH writes.
    public init?<Bytes: Collection<UInt8>>(_ message: Bytes) {
        let text = Array(message)
        if let rest = text.dropPrefix("session opened for local user "), let (user, address) = Self.userAndAddress(rest) {
            self = .sessionOpened(user: user, address: address)
        } else if let rest = text.dropPrefix("session closed for local user "), let (user, address) = Self.userAndAddress(rest) {
            self = .sessionClosed(user: user, address: address)
        } else if let rest = text.dropPrefix("open \""), let (path, tail) = rest.splitAtLast("\" flags ") {
            let flags = tail.split(separator: UInt8(ascii: " ")).first.map { String(decoding: $0, as: UTF8.self) } ?? ""
            self = .open(path: SyslogVis.decode(path), writes: flags.split(separator: ",").contains { $0 == "WRITE" || $0 == "APPEND" })
        } else if let (forced, rest) = text.dropPrefix("close \"").map({ (false, $0) })
            ?? text.dropPrefix("forced close \"").map({ (true, $0) }),
            let (path, tail) = rest.splitAtLast("\" bytes read "), let (read, written) = Self.counts(tail)
        {
            self = .close(path: SyslogVis.decode(path), bytesRead: read, bytesWritten: written, forced: forced)
        } else if let rest = text.dropPrefix("rename old \"") ?? text.dropPrefix("posix-rename old \""),
            rest.last == UInt8(ascii: "\""), let (old, new) = rest.dropLast().splitAtFirst("\" new \"")
        {
            self = .rename(old: SyslogVis.decode(old), new: SyslogVis.decode(new))
        } else if let rest = text.dropPrefix("remove name \""), rest.last == UInt8(ascii: "\"") {
            self = .remove(path: SyslogVis.decode(rest.dropLast()))
        } else if let rest = text.dropPrefix("mkdir name \""), let (path, _) = rest.splitAtLast("\" mode ") {
            self = .makeDirectory(path: SyslogVis.decode(path))
        } else if let rest = text.dropPrefix("rmdir name \""), rest.last == UInt8(ascii: "\"") {
            self = .removeDirectory(path: SyslogVis.decode(rest.dropLast()))
        } else if let rest = text.dropPrefix("sent status ") {
            self = .failed(status: String(decoding: rest, as: UTF8.self))
        } else {
            return nil
        }
    }

    /// `USER from [ADDRESS]`: the address is the last bracketed part (a user name has no `[`).
    private static func userAndAddress(_ text: ArraySlice<UInt8>) -> (String, String)? {
        guard text.last == UInt8(ascii: "]"), let (user, address) = text.dropLast().splitAtLast(" from [") else { return nil }
        guard !user.isEmpty, !address.isEmpty else { return nil }
        return (String(decoding: user, as: UTF8.self), String(decoding: address, as: UTF8.self))
    }

    /// `R written W` after `bytes read `.
    private static func counts(_ text: ArraySlice<UInt8>) -> (Int64, Int64)? {
        guard let (read, written) = text.splitAtFirst(" written "),
            let readCount = Int64(String(decoding: read, as: UTF8.self)),
            let writtenCount = Int64(String(decoding: written, as: UTF8.self)),
            readCount >= 0, writtenCount >= 0
        else { return nil }
        return (readCount, writtenCount)
    }
}

extension Collection<UInt8> where SubSequence == ArraySlice<UInt8> {
    /// The rest after an ASCII prefix, or nil.
    func dropPrefix(_ prefix: StaticString) -> ArraySlice<UInt8>? {
        let bytes = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        guard count >= bytes.count, zip(self, bytes).allSatisfy({ $0 == $1 }) else { return nil }
        return dropFirst(bytes.count)
    }
}

extension ArraySlice<UInt8> {
    /// Before and after the first occurrence of an ASCII separator.
    func splitAtFirst(_ separator: String) -> (ArraySlice<UInt8>, ArraySlice<UInt8>)? {
        let needle = Array(separator.utf8)
        guard count >= needle.count else { return nil }
        var index = startIndex
        while index <= endIndex - needle.count {
            if self[index..<(index + needle.count)].elementsEqual(needle) {
                return (self[startIndex..<index], self[(index + needle.count)...])
            }
            index += 1
        }
        return nil
    }

    /// Before and after the last occurrence of an ASCII separator: the numbers and flags OpenSSH
    /// writes after a quoted path are found from the end, so a path holding `"` still parses.
    func splitAtLast(_ separator: String) -> (ArraySlice<UInt8>, ArraySlice<UInt8>)? {
        let needle = Array(separator.utf8)
        guard count >= needle.count else { return nil }
        var index = endIndex - needle.count
        while index >= startIndex {
            if self[index..<(index + needle.count)].elementsEqual(needle) {
                return (self[startIndex..<index], self[(index + needle.count)...])
            }
            index -= 1
        }
        return nil
    }
}
