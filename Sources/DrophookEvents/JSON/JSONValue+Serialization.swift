extension JSONValue {
    /// Compact UTF-8 JSON (no whitespace), keys in their given order.
    ///
    /// Strings are escaped per RFC 8259 with one fixed choice per character, so equal values
    /// always give equal bytes: `"` and `\` are backslash-escaped, every control character
    /// below U+0020 is written as `\u00XX` (lowercase hex), and everything else, including `/`
    /// and non-ASCII text, is written as its UTF-8 bytes.
    public func serialized() -> [UInt8] {
        serialized(.given)
    }

    /// The serialized JSON as a `String` (for logs and tests).
    public var serializedString: String {
        String(decoding: serialized(), as: UTF8.self)
    }

    /// The two ways drophook writes JSON; they differ only in key order and control escapes.
    enum Style {
        /// Keys in their given order; every control character as `\u00xx`.
        case given
        /// Keys sorted as JavaScript sorts them; `\b \f \n \r \t` short (``javaScriptSorted()``).
        case javaScriptSorted
    }

    func serialized(_ style: Style) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, style)
        return out
    }

    private func write(to out: inout [UInt8], _ style: Style) {
        switch self {
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let ordered = style == .given ? members : Self.javaScriptOrder(members)
            for (index, (key, value)) in ordered.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &out, style)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out, style)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                value.write(to: &out, style)
            }
            out.append(UInt8(ascii: "]"))
        case .string(let text):
            Self.writeString(text, to: &out, style)
        case .int(let value):
            out.append(contentsOf: String(value).utf8)
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .null:
            out.append(contentsOf: "null".utf8)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func writeString(_ text: String, to out: inout [UInt8], _ style: Style) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "\\"))
            case 0x00..<0x20:
                if style == .javaScriptSorted, let short = shortEscapes[byte] {
                    out.append(UInt8(ascii: "\\"))
                    out.append(short)
                } else {
                    out.append(contentsOf: "\\u00".utf8)
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0x0F)])
                }
            default:
                // UTF-8 continuation and lead bytes are all >= 0x80, so multi-byte characters
                // pass through unchanged.
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `JSON.stringify`'s short escapes for control characters.
    private static let shortEscapes: [UInt8: UInt8] = [
        0x08: UInt8(ascii: "b"), 0x0C: UInt8(ascii: "f"), 0x0A: UInt8(ascii: "n"), 0x0D: UInt8(ascii: "r"), 0x09: UInt8(ascii: "t"),
    ]
}
