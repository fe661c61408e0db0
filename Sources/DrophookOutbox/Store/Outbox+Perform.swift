import Dispatch

/// Outbox work from async code without holding a cooperative thread.
extension Outbox {
    /// Threads for blocking database work. Concurrent, so reads never wait behind a write's
    /// fsync; writes are serialised by the database anyway.
    private static let ioQueue = DispatchQueue(label: "drophook.outbox.io", qos: .utility, attributes: .concurrent)

    /// Runs `body` (one or more outbox calls) on a dispatch thread and resumes when it is done.
    ///
    /// Every outbox call is synchronous and a commit waits for fsync (`synchronous = FULL`);
    /// called straight from a task it would block one of the few cooperative threads, stalling
    /// unrelated tasks such as the watcher or HTTP completions.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (Outbox) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Self.ioQueue.async {
                continuation.resume(with: Result { try body(self) })
            }
        }
    }
}
