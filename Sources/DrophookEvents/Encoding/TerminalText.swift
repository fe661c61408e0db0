/// Text from partners (file names, response bodies, headers) made safe to show on a terminal
/// or in a log line: an uploaded name must not set an operator's window title or clipboard
/// (ESC, OSC 52), ring the bell, return the carriage, split a table row or a log line (CR, LF),
/// or reorder what is shown (bidi controls).
///
/// Every C0 control, DEL and C1 control becomes `\xHH`, every bidi control `\u{HHHH}`, and a
/// backslash `\\`, so what is shown is unambiguous and a name that holds `\x1b` literally cannot
/// pass for one that holds ESC. Machine output (`--json`) keeps the exact text instead.
public enum TerminalText {
    /// `text` with controls escaped; returned unchanged (no copy) when it has none.
    /// - Parameter backslashes: also double each backslash, so a name holding a literal `\x1b`
    ///   reads differently from one holding ESC. Bodies already in an escaping syntax (JSON)
    ///   keep theirs as they are.
    public static func escaped(_ text: String, backslashes: Bool = true) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0) || (backslashes && $0 == "\\") }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if backslashes, scalar == "\\" {
                out += "\\\\"
            } else if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out += "\\x" + hex(scalar.value, digits: 2)
            } else if bidiControls.contains(scalar.value) {
                out += "\\u{" + hex(scalar.value, digits: 4) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// LRM, RLM, ALM and the embedding, override and isolate controls.
    static let bidiControls: Set<UInt32> = [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || bidiControls.contains(scalar.value)
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
