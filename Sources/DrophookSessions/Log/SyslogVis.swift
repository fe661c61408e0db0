/// Undoes OpenSSH's escaping of log text. OpenSSH passes every syslog message through
/// `strnvis(VIS_CSTYLE | VIS_NL | VIS_TAB | VIS_OCTAL)`: a backslash becomes `\\`, control
/// characters `\n`, `\t`, `\r`, `\a`, `\b`, `\v`, `\f`, `\0`, `\s`, and every other
/// non-printable or non-ASCII byte a three-digit octal escape (`é` is `\303\251`). Decoding
/// gives back the name's exact bytes, so a Latin-1 name matches the file inotify saw.
public enum SyslogVis {
    /// The exact bytes of vis-encoded text. A backslash that starts no escape is kept.
    public static func decode<Bytes: Collection<UInt8>>(_ text: Bytes) -> [UInt8] {
        let input = Array(text)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < input.count else {
                output.append(byte)
                index += 1
                continue
            }
            let next = input[index + 1]
            if let octal = octalByte(input, at: index + 1) {
                output.append(octal)
                index += 4
            } else if let escaped = cStyle[next] {
                output.append(escaped)
                index += 2
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    private static let cStyle: [UInt8: UInt8] = [
        UInt8(ascii: "\\"): UInt8(ascii: "\\"), UInt8(ascii: "n"): 0x0A, UInt8(ascii: "t"): 0x09,
        UInt8(ascii: "r"): 0x0D, UInt8(ascii: "a"): 0x07, UInt8(ascii: "b"): 0x08, UInt8(ascii: "v"): 0x0B,
        UInt8(ascii: "f"): 0x0C, UInt8(ascii: "0"): 0x00, UInt8(ascii: "s"): 0x20,
    ]

    /// Three octal digits at `index` giving a byte (`\303`), or nil.
    private static func octalByte(_ input: [UInt8], at index: Int) -> UInt8? {
        guard index + 3 <= input.count else { return nil }
        var value = 0
        for digit in input[index..<(index + 3)] {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") else { return nil }
            value = value * 8 + Int(digit - UInt8(ascii: "0"))
        }
        return value <= 0xFF ? UInt8(value) : nil
    }
}
