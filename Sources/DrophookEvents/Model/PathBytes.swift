/// File names on Linux are bytes, not Unicode: a client may upload `report\xff.csv` (Latin-1 from
/// an old Windows tool). drophook keeps every such name losslessly as a Swift `String`, so the
/// watcher, the snapshot and the outbox can keep working with text, and only the edges convert:
///
/// - **In the agent** (``FileEvent/path``, snapshot rows) a path is *escaped text*: a path that
///   is valid UTF-8 and holds no U+FFFD is itself, unchanged. Otherwise every byte that is not
///   part of valid UTF-8, and each byte of a literal U+FFFD, is written as U+FFFD followed by two
///   uppercase hex digits. Every U+FFFD of escaped text therefore introduces an escape, which
///   makes the mapping reversible (``bytes(_:)``) and injective, and the text never holds NUL
///   (SQLite's C API and C paths would cut it there).
/// - **At system calls** the escaped text turns back into the exact bytes (``withCString(_:_:)``).
/// - **In payloads** (``payloadText(_:)``) a path that is valid UTF-8 is sent byte for byte as
///   the file system has it; one that is not is shown with U+FFFD for each bad byte, and its exact
///   bytes travel in base64 in a key of their own, so two names never give the same payload.
public enum PathBytes {
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Escaped text for raw name or path bytes.
    public static func string<Bytes: Collection>(from bytes: Bytes) -> String where Bytes.Element == UInt8 {
        if let text = String(validating: bytes, as: UTF8.self), !isEscaped(text) {
            return text
        }
        return escape(Array(bytes))
    }

    /// Escaped text for a NUL-terminated C string (a `readdir` name, a `realpath` result).
    public static func string(cString: UnsafePointer<CChar>) -> String {
        var length = 0
        while cString[length] != 0 { length += 1 }
        return cString.withMemoryRebound(to: UInt8.self, capacity: length) {
            string(from: UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// Whether escaped text stands for anything other than itself. Scans the UTF-8 bytes for
    /// U+FFFD (EF BF BD): every system call asks this, and a `Character` search is far slower.
    public static func isEscaped(_ text: String) -> Bool {
        if let answer = text.utf8.withContiguousStorageIfAvailable(containsMarker) { return answer }
        return Array(text.utf8).withUnsafeBufferPointer(containsMarker)
    }

    private static func containsMarker(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 3 else { return false }
        for index in 0..<(bytes.count - 2) where bytes[index] == 0xEF && bytes[index + 1] == 0xBF && bytes[index + 2] == 0xBD {
            return true
        }
        return false
    }

    /// The exact bytes escaped text stands for.
    public static func bytes(_ text: String) -> [UInt8] {
        guard isEscaped(text) else { return Array(text.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let utf8 = Array(text.utf8)
        let markerBytes: [UInt8] = [0xEF, 0xBF, 0xBD]
        var index = 0
        while index < utf8.count {
            if index + 5 <= utf8.count, utf8[index] == markerBytes[0], utf8[index + 1] == markerBytes[1],
                utf8[index + 2] == markerBytes[2], let high = hexValue(utf8[index + 3]), let low = hexValue(utf8[index + 4])
            {
                out.append(high << 4 | low)
                index += 5
            } else {
                out.append(utf8[index])
                index += 1
            }
        }
        return out
    }

    /// Calls `body` with the exact bytes of escaped text as a C string, for system calls.
    public static func withCString<Result>(_ text: String, _ body: (UnsafePointer<CChar>) throws -> Result) rethrows -> Result {
        guard isEscaped(text) else { return try text.withCString(body) }
        var raw = bytes(text).map { CChar(bitPattern: $0) }
        raw.append(0)
        return try raw.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// How a path appears in a payload: `text` is the path as JSON can carry it, `exactBase64` is
    /// nil when `text` is exactly the name's bytes, otherwise the base64 of those bytes.
    public static func payloadText(_ escaped: String) -> (text: String, exactBase64: String?) {
        guard isEscaped(escaped) else { return (escaped, nil) }
        let raw = bytes(escaped)
        if let valid = String(validating: raw, as: UTF8.self) {
            // Valid UTF-8 that happens to contain U+FFFD: sent as it is.
            return (valid, nil)
        }
        return (String(decoding: raw, as: UTF8.self), Base64.encode(raw))
    }

    private static func escape(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var index = 0
        while index < bytes.count {
            let length = validSequenceLength(bytes, at: index)
            let isMarker = length == 3 && bytes[index] == 0xEF && bytes[index + 1] == 0xBF && bytes[index + 2] == 0xBD
            if length > 0, !isMarker {
                out.append(contentsOf: bytes[index..<(index + length)])
                index += length
                continue
            }
            let count = isMarker ? 3 : 1
            for byte in bytes[index..<(index + count)] {
                out += [0xEF, 0xBF, 0xBD, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            }
            index += count
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Length of the well-formed UTF-8 sequence at `index` (RFC 3629: no overlongs, no
    /// surrogates, nothing past U+10FFFF), 0 when the byte there does not start one.
    private static func validSequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let first = bytes[index]
        if first < 0x80 { return 1 }
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch first {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            let (min, max) = offset == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
            guard byte >= min, byte <= max else { return 0 }
        }
        return length
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
