import DrophookEvents

extension EventID {
    /// The event id inside a Rilavek `file_id` (`fil_` + 32 hex digits), so the CLI accepts
    /// whichever id the receiver logged; nil if `text` is not of that form.
    public static func fromRilavekFileID(_ text: String) -> String? {
        guard text.hasPrefix("fil_") else { return nil }
        let hex = Array(text.dropFirst(4).lowercased())
        guard hex.count == 32, hex.allSatisfy(\.isHexDigit) else { return nil }
        let cuts = [8, 12, 16, 20]
        var id = ""
        for (index, digit) in hex.enumerated() {
            if cuts.contains(index) { id.append("-") }
            id.append(digit)
        }
        return id
    }
}
