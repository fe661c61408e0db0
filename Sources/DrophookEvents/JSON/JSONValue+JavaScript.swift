extension JSONValue {
    /// The value as JavaScript's `JSON.stringify` writes it after every object's keys were
    /// sorted with `Object.keys(o).sort()`: what receivers of the `timestamped` scheme recompute
    /// from the body they parsed.
    ///
    /// Differences from ``serialized()``: keys are sorted by UTF-16 code units (JavaScript's
    /// default sort, not Unicode scalars), and `\b`, `\f`, `\n`, `\r`, `\t` use their short
    /// escapes, as `JSON.stringify` does. Everything else, including non-ASCII text and `/`,
    /// is written as itself; other control characters as `\u00xx`.
    public func javaScriptSorted() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        writeJavaScript(to: &out)
        return out
    }

    private func writeJavaScript(to out: inout [UInt8]) {
        switch self {
        case .object(let members):
            // A parsed object with a repeated key keeps its last value in JavaScript.
            var byKey: [ExactText: JSONValue] = [:]
            for (key, value) in members { byKey[ExactText(key)] = value }
            let sorted = byKey.sorted { $0.key.text.utf16.lexicographicallyPrecedes($1.key.text.utf16) }
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in sorted.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeJavaScriptString(key.text, to: &out)
                out.append(UInt8(ascii: ":"))
                value.writeJavaScript(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                value.writeJavaScript(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .string(let text):
            Self.writeJavaScriptString(text, to: &out)
        case .int, .bool, .null:
            out += serialized()
        }
    }

    private static let lowerHex = Array("0123456789abcdef".utf8)

    private static func writeJavaScriptString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x00..<0x20:
                out += Array("\\u00".utf8)
                out.append(lowerHex[Int(byte >> 4)])
                out.append(lowerHex[Int(byte & 0x0F)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
