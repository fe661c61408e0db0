/// Fresh identifiers for events, deliveries and attempts: time-ordered UUIDs (version 7,
/// RFC 9562) in the lowercase, dashed form that SFTP To Go payloads carry.
///
/// Time-ordered because every id is a key in the outbox: a random (v4) key lands on a random
/// page of its index, so each commit dirtied (and wrote to the WAL) a page per row per index;
/// ids that grow with time all land at the end. They stay 122 bits of UUID with 74 random bits,
/// unique across agents, and a receiver sees an ordinary UUID.
public enum EventID {
    /// A new UUID v7 string for the current time, e.g. `019ad3a1-5c2e-7b41-a7aa-0cde4876ab2a`.
    public static func timeOrdered(unixMillis: Int64 = WallClock.milliseconds()) -> String {
        var bytes = LibCrypto.randomBytes(16)
        let millis = UInt64(max(unixMillis, 0))
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - index)))
        }
        bytes[6] = bytes[6] & 0x0F | 0x70 // version 7
        bytes[8] = bytes[8] & 0x3F | 0x80 // RFC 9562 variant
        return uuidLayout(hexDigits: Hex.encode(bytes))
    }

    /// The 32 hex digits of an id without its dashes, lowercased (Rilavek's `file_id` suffix).
    public static func compactHex(_ id: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for byte in id.utf8 where byte != UInt8(ascii: "-") {
            out.append((UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Rilavek's `data.file_id` for an event id: `fil_` and the id's 32 hex digits.
    public static func rilavekFileID(_ id: String) -> String {
        "fil_" + compactHex(id)
    }

    /// The event id inside a Rilavek `file_id`, so the CLI accepts whichever id a receiver
    /// logged; nil if `text` is not `fil_` and 32 hex digits.
    public static func fromRilavekFileID(_ text: String) -> String? {
        guard text.hasPrefix("fil_") else { return nil }
        let hex = text.dropFirst(4).lowercased()
        guard hex.utf8.count == 32, hex.allSatisfy(\.isHexDigit) else { return nil }
        return uuidLayout(hexDigits: hex)
    }

    /// 32 hex digits in the 8-4-4-4-12 UUID layout.
    public static func uuidLayout(hexDigits: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (index, digit) in hexDigits.utf8.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { out.append(UInt8(ascii: "-")) }
            out.append(digit)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` is a UUID in canonical lowercase dashed form.
    public static func isCanonical(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                let isLowerHex = (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                guard isDigit || isLowerHex else { return false }
            }
        }
        return true
    }
}
