/// One HTTP header line, in the order and spelling it is sent or was received.
public struct HTTPHeader: Sendable, Hashable, Codable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// Whether this header is called `other`, compared case-insensitively as HTTP field names are
    /// (ASCII only, without allocating).
    public func isNamed(_ other: String) -> Bool {
        name.utf8.elementsEqual(other.utf8) { Self.lower($0) == Self.lower($1) }
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }
}

extension Array where Element == HTTPHeader {
    /// The first value of the header called `name` (case-insensitively), nil when absent.
    public func value(named name: String) -> String? {
        first { $0.isNamed(name) }?.value
    }
}
