import CLinux
import DrophookEvents
import Foundation
import Glibc

/// A source's own reading thread and the pipe that tells it to stop: the thread polls
/// ``stopFD`` beside its descriptors and returns when it turns readable; whoever started it
/// waits for ``waitUntilStopped()`` before anything the thread uses may go.
final class SourceThread: Sendable {
    /// Readable once ``stop()`` was called.
    let stopFD: Int32
    private let stopWriteFD: Int32
    private let stopped = FinishLine()

    init(for code: SessionLogError.Code) throws(SessionLogError) {
        var ends: [Int32] = [-1, -1]
        guard drophook_pipe_cloexec(&ends) == 0 else {
            throw SessionLogError(
                code,
                "cannot create the session log's wake-up pipe: \(String(cString: strerror(errno))); raise the open-file limit (LimitNOFILE)"
            )
        }
        (stopFD, stopWriteFD) = (ends[0], ends[1])
    }

    /// Runs `body` on a new thread named `name`.
    func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            body()
            self.stopped.cross()
        }
        thread.name = name
        thread.start()
    }

    /// Asks the thread to return; safe from any thread, more than once.
    func stop() {
        var one: UInt8 = 1
        _ = write(stopWriteFD, &one, 1)
    }

    /// Returns once the thread has returned; then the pipe is closed.
    func waitUntilStopped() async {
        await stopped.wait()
        _ = close(stopFD)
        _ = close(stopWriteFD)
    }

    /// Whether ``stop()`` was called, waiting at most `milliseconds` for it.
    func stopRequested(within milliseconds: Int32) -> Bool {
        var stop = pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)
        return poll(&stop, 1, milliseconds) > 0
    }
}
