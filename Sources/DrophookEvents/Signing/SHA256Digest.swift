import CLibCrypto

/// Streaming SHA-256 through OpenSSL's EVP interface, for the checksum of a finished file read
/// in chunks. Used by one caller at a time; not shared between tasks.
public final class SHA256Digest {
    // The EVP context is owned by this object alone: created here, freed in deinit.
    private let context: OpaquePointer

    public init() {
        // Allocation and SHA-256 initialisation fail only when memory is exhausted.
        context = EVP_MD_CTX_new()!
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "SHA-256 initialisation failed")
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `bytes` to the digest.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(EVP_DigestUpdate(context, base, bytes.count) == 1, "SHA-256 update failed")
    }

    /// The digest of everything added; the object is spent afterwards.
    public func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        out.withUnsafeMutableBufferPointer { buffer in
            precondition(EVP_DigestFinal_ex(context, buffer.baseAddress, &length) == 1, "SHA-256 final failed")
        }
        return Array(out.prefix(Int(length)))
    }
}
