import Glibc

/// Resolves the actor of an event with a watch's ``ActorRule``; caches user names by uid.
struct ActorResolver {
    private var userNames: [UInt32: String] = [:]

    mutating func actor(rule: ActorRule, relativePath: String, uid: UInt32) -> String {
        switch rule {
        case .fixed(let name):
            return name
        case .pathSegment(let index):
            let segments = relativePath.split(separator: "/", omittingEmptySubsequences: true)
            if segments.count >= index { return String(segments[index - 1]) }
            return userName(uid)
        case .owner:
            return userName(uid)
        }
    }

    mutating func userName(_ uid: UInt32) -> String {
        if let cached = userNames[uid] { return cached }
        let name = Self.lookUp(uid) ?? String(uid)
        userNames[uid] = name
        return name
    }

    private static func lookUp(_ uid: UInt32) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil, let name = entry.pw_name else { return nil }
        return String(cString: name)
    }
}
