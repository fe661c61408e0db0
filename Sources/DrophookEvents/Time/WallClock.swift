#if canImport(Glibc)
    import Glibc
#endif

/// The real-time clock, read directly: times comparable with file mtimes, and the millisecond
/// prefix of time-ordered ids.
public enum WallClock {
    /// Nanoseconds since the Unix epoch.
    public static func nanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    /// Milliseconds since the Unix epoch.
    public static func milliseconds() -> Int64 {
        nanoseconds() / 1_000_000
    }
}
