import DrophookTestSupport
import Foundation

/// Steps the wall clock of one child process, as an NTP step or `date -s` would, without
/// touching the machine's clock: an `LD_PRELOAD` library, compiled here with the system C
/// compiler, adds the seconds written in a file to `CLOCK_REALTIME` (and `gettimeofday`,
/// `time`) at every call. The monotonic and boot-time clocks stay real, as they do when the
/// real wall clock is stepped. (libfaketime shifts the boot-time clock too, which stalls
/// libdispatch's timers, so it cannot stand in for a real step.)
final class WallClockShift {
    let directory: URL
    var library: String { directory.appendingPathComponent("wallshift.so").path }
    var offsetFile: String { directory.appendingPathComponent("offset").path }

    /// The environment that runs a child under the shift.
    var environment: [String: String] { ["LD_PRELOAD": library, "WALL_SHIFT_FILE": offsetFile] }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-wallshift-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = directory.appendingPathComponent("wallshift.c")
        try Self.source.write(to: source, atomically: true, encoding: .utf8)
        try ChildProcess.run("/usr/bin/cc", ["-shared", "-fPIC", "-O2", "-o", library, source.path, "-ldl"], within: .seconds(60))
        try set(seconds: 0)
    }

    /// From now on the child's wall clock reads `seconds` away from the real one.
    func set(seconds: Int) throws {
        try "\(seconds)\n".write(toFile: offsetFile, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    private static let source = """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/time.h>
        #include <time.h>

        static long shift_seconds(void) {
            const char *path = getenv("WALL_SHIFT_FILE");
            FILE *file = path ? fopen(path, "re") : NULL;
            long value = 0;
            if (file) {
                if (fscanf(file, "%ld", &value) != 1) value = 0;
                fclose(file);
            }
            return value;
        }

        int clock_gettime(clockid_t clock, struct timespec *ts) {
            static int (*real)(clockid_t, struct timespec *);
            if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
            int result = real(clock, ts);
            if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) ts->tv_sec += shift_seconds();
            return result;
        }

        int gettimeofday(struct timeval *tv, void *tz) {
            struct timespec ts;
            int result = clock_gettime(CLOCK_REALTIME, &ts);
            if (result == 0 && tv) { tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000; }
            (void)tz;
            return result;
        }

        time_t time(time_t *out) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            if (out) *out = ts.tv_sec;
            return ts.tv_sec;
        }
        """
}
