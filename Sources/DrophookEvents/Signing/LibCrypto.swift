import CLibCrypto

/// The few libcrypto primitives drophook signs with, behind safe Swift signatures.
///
/// This file owns every unsafe pointer handed to OpenSSL in the events module; the rest of
/// the module works on `[UInt8]`.
public enum LibCrypto {
    /// Length of an HMAC-SHA256 tag in bytes.
    public static let sha256Length = 32
    /// Length of an Ed25519 seed (private key) and of a public key in bytes.
    public static let ed25519KeyLength = 32
    /// Length of an Ed25519 signature in bytes.
    public static let ed25519SignatureLength = 64

    /// HMAC-SHA256 of `message` under `key`.
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var outLength: UInt32 = 0
        // An empty message or key may be passed as a null pointer with length 0: HMAC()
        // substitutes a dummy key and hashes nothing, which is the correct HMAC of empty input.
        let result = key.withUnsafeBufferPointer { keyBytes in
            message.withUnsafeBufferPointer { messageBytes in
                out.withUnsafeMutableBufferPointer { outBuffer in
                    HMAC(
                        EVP_sha256(),
                        keyBytes.baseAddress, Int32(keyBytes.count),
                        messageBytes.baseAddress, messageBytes.count,
                        outBuffer.baseAddress, &outLength
                    )
                }
            }
        }
        // HMAC only fails on allocation failure or an unknown digest, neither of which can
        // be handled meaningfully by a caller that needs a signature.
        precondition(result != nil && outLength == UInt32(sha256Length), "HMAC-SHA256 failed in libcrypto")
        return Array(out.prefix(sha256Length))
    }

    /// Compares two byte strings in time that depends only on their length, so that a
    /// signature check does not reveal how many leading bytes of a forgery were right.
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.isEmpty { return true }
        return lhs.withUnsafeBytes { a in
            rhs.withUnsafeBytes { b in
                CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
            }
        }
    }

    /// `count` bytes from the OpenSSL CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return bytes }
        let result = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        // Ids made from predictable bytes would collide across agents; refuse to continue.
        precondition(result == 1, "RAND_bytes failed: the system random source is unavailable")
        return bytes
    }

    /// The Ed25519 public key belonging to a 32-byte seed, or nil if the seed has the wrong length.
    public static func ed25519PublicKey(seed: [UInt8]) -> [UInt8]? {
        guard let key = privateKey(seed: seed) else { return nil }
        defer { EVP_PKEY_free(key) }
        var length = ed25519KeyLength
        var publicKey = [UInt8](repeating: 0, count: ed25519KeyLength)
        let ok = publicKey.withUnsafeMutableBufferPointer {
            EVP_PKEY_get_raw_public_key(key, $0.baseAddress, &length)
        }
        return ok == 1 && length == ed25519KeyLength ? publicKey : nil
    }

    /// Ed25519 signature of `message` by the key with the given 32-byte seed; nil if the
    /// seed has the wrong length.
    public static func ed25519Sign(seed: [UInt8], message: [UInt8]) -> [UInt8]? {
        guard let key = privateKey(seed: seed) else { return nil }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        // Ed25519 hashes internally: no digest is given, and the one-shot call is required.
        guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1 else { return nil }
        var signature = [UInt8](repeating: 0, count: ed25519SignatureLength)
        var length = ed25519SignatureLength
        let ok = signature.withUnsafeMutableBufferPointer { out in
            message.withUnsafeBufferPointer { input in
                EVP_DigestSign(context, out.baseAddress, &length, input.baseAddress, input.count)
            }
        }
        return ok == 1 && length == ed25519SignatureLength ? signature : nil
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` by `publicKey`.
    public static func ed25519Verify(publicKey: [UInt8], message: [UInt8], signature: [UInt8]) -> Bool {
        guard publicKey.count == ed25519KeyLength, signature.count == ed25519SignatureLength else { return false }
        let key = publicKey.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
        guard let key else { return false }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else { return false }
        let ok = signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { input in
                EVP_DigestVerify(context, sig.baseAddress, sig.count, input.baseAddress, input.count)
            }
        }
        // Leave no verification failure queued for an unrelated later ERR_get_error caller.
        if ok != 1 { ERR_clear_error() }
        return ok == 1
    }

    private static func privateKey(seed: [UInt8]) -> OpaquePointer? {
        guard seed.count == ed25519KeyLength else { return nil }
        return seed.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
    }
}
