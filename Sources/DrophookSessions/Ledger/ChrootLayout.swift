import DrophookEvents

/// Where an SFTP session's paths are on disk: the log shows paths as the client sees them,
/// inside its chroot, so `/upload/a.csv` of user `alice` under `ChrootDirectory /srv/sftp/%u`
/// is `/srv/sftp/alice/upload/a.csv`.
public struct ChrootLayout: Sendable, Hashable {
    /// sshd's `ChrootDirectory` pattern (`%u` the user, `%h` the home directory, `%%` a percent
    /// sign); nil when sessions are not chrooted and log real paths.
    public var chroot: String?
    /// The directory relative client paths start from, inside the session's root, with the same
    /// tokens: `internal-sftp -d`, or sshd's default (the home directory; `/` in a chroot).
    public var startDirectory: String?

    public init(chroot: String? = nil, startDirectory: String? = nil) {
        self.chroot = chroot
        self.startDirectory = startDirectory
    }

    /// The tokens sshd's `ChrootDirectory` takes that drophook can expand.
    public static let tokens: Set<Character> = ["u", "h", "%"]

    /// The first `%x` a pattern holds that drophook cannot expand, or nil.
    public static func unknownToken(in pattern: String) -> String? {
        var iterator = pattern.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else { continue }
            guard let token = iterator.next() else { return "%" }
            if !tokens.contains(token) { return "%\(token)" }
        }
        return nil
    }

    /// A pattern with `%u`, `%h` and `%%` filled in.
    public static func expand(_ pattern: String, user: String, home: String?) -> String {
        var result = ""
        var iterator = pattern.makeIterator()
        while let character = iterator.next() {
            guard character == "%", let token = iterator.next() else {
                result.append(character)
                continue
            }
            switch token {
            case "u": result += user
            case "h": result += home ?? "/"
            default: result.append(token)
            }
        }
        return result
    }

    /// The real path a client path names, as escaped text (``PathBytes``), normalised (no `.`,
    /// `..`, or doubled `/`; `..` stops at the session's root, as the chroot makes it).
    public func realPath(_ clientPath: [UInt8], user: String, home: String?) -> String {
        let root = chroot.map { Self.expand($0, user: user, home: home) } ?? ""
        var segments: [ArraySlice<UInt8>] = []
        if clientPath.first != UInt8(ascii: "/") {
            let start = startDirectory.map { Self.expand($0, user: user, home: home) } ?? (chroot == nil ? home ?? "/" : "/")
            segments = Self.normalised(Array(start.utf8)[...], onto: [])
        }
        segments = Self.normalised(clientPath[...], onto: segments)
        var path = Array(root.utf8)
        while path.last == UInt8(ascii: "/") { path.removeLast() }
        for segment in segments {
            path.append(UInt8(ascii: "/"))
            path += segment
        }
        if path.isEmpty { path = [UInt8(ascii: "/")] }
        return PathBytes.string(from: path)
    }

    private static func normalised(_ path: ArraySlice<UInt8>, onto base: [ArraySlice<UInt8>]) -> [ArraySlice<UInt8>] {
        var segments = base
        for segment in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if segment.elementsEqual([UInt8(ascii: ".")]) { continue }
            if segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                _ = segments.popLast()
                continue
            }
            segments.append(segment)
        }
        return segments
    }
}
