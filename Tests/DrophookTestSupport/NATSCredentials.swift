import DrophookEvents
import Foundation

/// NATS decentralized authentication as `nsc` sets it up, made here for a test server: an
/// operator the server trusts, an account with JetStream (and a system account), and a user
/// whose `.creds` file holds its JWT and NKey seed.
public struct NATSCredentials: Sendable {
    /// The server's config file (pass it with `-c`).
    public let serverConfig: String
    /// The user's `.creds` file, readable by its owner only.
    public let userCredentials: String

    /// Writes both files into `directory` (created if needed).
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let operatorKey = NKeyPair.generate(.operator_)
        let account = NKeyPair.generate(.account)
        let system = NKeyPair.generate(.account)
        let user = NKeyPair.generate(.user)
        let operatorJWT = operatorKey.jwt(subject: operatorKey.publicKey, name: "fleet", nats: #"{"type":"operator","version":2}"#)
        let unlimited =
            #""limits":{"subs":-1,"data":-1,"payload":-1,"imports":-1,"exports":-1,"wildcards":true,"conn":-1,"leaf":-1,"mem_storage":-1,"disk_storage":-1,"streams":-1,"consumer":-1}"#
        let accountJWT = operatorKey.jwt(subject: account.publicKey, name: "sftp", nats: #"{"type":"account","version":2,\#(unlimited)}"#)
        let systemJWT = operatorKey.jwt(subject: system.publicKey, name: "SYS", nats: #"{"type":"account","version":2}"#)
        let userJWT = account.jwt(
            subject: user.publicKey, name: "drophook",
            nats: #"{"type":"user","version":2,"pub":{},"sub":{},"subs":-1,"data":-1,"payload":-1}"#)
        serverConfig = directory + "/server.conf"
        try """
        operator: \(operatorJWT)
        system_account: \(system.publicKey)
        resolver: MEMORY
        resolver_preload: { \(account.publicKey): \(accountJWT), \(system.publicKey): \(systemJWT) }

        """.write(toFile: serverConfig, atomically: true, encoding: .utf8)
        userCredentials = directory + "/drophook.creds"
        try """
        -----BEGIN NATS USER JWT-----
        \(userJWT)
        ------END NATS USER JWT------

        -----BEGIN USER NKEY SEED-----
        \(user.seed)
        ------END USER NKEY SEED------

        """.write(toFile: userCredentials, atomically: true, encoding: .utf8)
        chmod(userCredentials, 0o600)
    }
}

/// A NATS NKey made here (there is no `nk` or `nsc` in Debian): an Ed25519 key, written as
/// NATS writes keys: a prefix byte naming its kind, the key, a CRC-16/XMODEM, in unpadded base32.
public struct NKeyPair {
    /// What the key identifies; the raw value is the prefix byte (its first base32 letter).
    public enum Kind: UInt8, Sendable {
        case operator_ = 112 // 14 << 3: 'O'
        case account = 0 // 'A'
        case user = 160 // 20 << 3: 'U'
    }

    public let seed: String
    public let publicKey: String
    private let raw: [UInt8]

    public static func generate(_ kind: Kind = .user) -> NKeyPair { NKeyPair(seed: LibCrypto.randomBytes(32), kind: kind) }

    public init(seed raw: [UInt8], kind: Kind = .user) {
        let seedPrefix: UInt8 = 18 << 3 // 'S'
        self.raw = raw
        seed = Self.encode([seedPrefix | (kind.rawValue >> 5), (kind.rawValue & 31) << 3] + raw)
        publicKey = Self.encode([kind.rawValue] + LibCrypto.ed25519PublicKey(seed: raw)!)
    }

    /// A NATS JWT (`ed25519-nkey`) with `claims` (the subject's `nats` section), issued by this key.
    public func jwt(subject: String, name: String, nats: String) -> String {
        let header = Self.base64URL(Array(#"{"typ":"JWT","alg":"ed25519-nkey"}"#.utf8))
        let now = Int(Date().timeIntervalSince1970)
        let claims =
            #"{"jti":"\#(UUID().uuidString)","iat":\#(now),"iss":"\#(publicKey)","name":"\#(name)","sub":"\#(subject)","nats":\#(nats)}"#
        let signed = header + "." + Self.base64URL(Array(claims.utf8))
        return signed + "." + Self.base64URL(LibCrypto.ed25519Sign(seed: raw, message: Array(signed.utf8))!)
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func encode(_ bytes: [UInt8]) -> String {
        let crc = crc16(bytes)
        return base32(bytes + [UInt8(crc & 0xFF), UInt8(crc >> 8)])
    }

    private static func crc16(_ bytes: [UInt8]) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }

    private static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var output = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }
}
