import Glibc

/// How a base name counts for transfer completion.
enum TransferName: Sendable, Hashable {
    /// A final name: reported as a file.
    case final
    /// A client's upload temp name (WinSCP, rclone, ownCloud, SFTPGo): its rename to a final name
    /// completes the transfer; deleting it unrenamed is a failed transfer.
    case clientTemp
    /// Matches a watch `ignore` glob: never reported, deleting it reports nothing.
    case ignored

    var isFinal: Bool { self == .final }

    /// Classifies a base name with the built-in client patterns and the watch's globs.
    static func classify(_ name: String, ignore: [String]) -> TransferName {
        if isClientTemp(name) { return .clientTemp }
        for glob in ignore where fnmatch(glob, name, 0) == 0 {
            return .ignored
        }
        return .final
    }

    static func isClientTemp(_ name: String) -> Bool {
        if name.hasSuffix(".filepart") || name.hasSuffix(".partial") { return true }
        if name.hasPrefix(".sftpgo-upload.") { return true }
        if name.hasSuffix(".part"), name.contains(".ocTransferId") { return true }
        return false
    }

    /// The final name a temp name stands for, when the client's convention makes it derivable:
    /// `x.csv.filepart` → `x.csv`, `.x.csv.partial` → `x.csv`, `x.csv.partial` → `x.csv`,
    /// `x.csv.ocTransferId123.part` → `x.csv`.
    static func finalName(forTemp name: String) -> String? {
        var base: Substring
        if name.hasSuffix(".filepart") {
            base = name.dropLast(".filepart".count)
        } else if name.hasSuffix(".partial") {
            base = name.dropLast(".partial".count)
            if base.hasPrefix("."), base.count > 1 { base = base.dropFirst() }
        } else if name.hasSuffix(".part"), let range = name.range(of: ".ocTransferId") {
            base = name[..<range.lowerBound]
        } else {
            return nil
        }
        return base.isEmpty ? nil : String(base)
    }
}
