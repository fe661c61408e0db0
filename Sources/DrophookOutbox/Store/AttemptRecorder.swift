import Dispatch
import GRDB
import Synchronization

/// Records finished attempts in group commits: the first attempt to finish starts a commit at
/// once, and every attempt that finishes while a commit runs goes into the next one. A lone
/// webhook is never held back waiting for company, and a burst costs one transaction per
/// commit time instead of one per webhook.
public final class AttemptRecorder: Sendable {
    private struct Waiting: Sendable {
        var outcome: Outbox.AttemptOutcome
        var continuation: CheckedContinuation<EndpointState, any Error>
    }

    private struct State: Sendable {
        var waiting: [Waiting] = []
        var committing = false
        var commits = 0
    }

    private let outbox: Outbox
    private let state = Mutex(State())
    /// One thread commits, so commits never queue behind each other on the write lock and
    /// everything that arrives meanwhile gathers for the next.
    private let queue = DispatchQueue(label: "drophook.outbox.attempts", qos: .utility)
    /// Most attempts in one transaction, so one commit never holds the write lock (and the
    /// watcher's next event commit) for long.
    let maximumBatch: Int
    /// The wall clock the deliveries' `updated_at_ms` are written in.
    let nowMillis: @Sendable () -> Int64

    public init(outbox: Outbox, maximumBatch: Int = 512, nowMillis: @escaping @Sendable () -> Int64 = { Outbox.nowMillis() }) {
        self.outbox = outbox
        self.maximumBatch = maximumBatch
        self.nowMillis = nowMillis
    }

    /// Transactions committed so far (for the benchmark's commits-per-webhook column).
    public var commits: Int { state.withLock { $0.commits } }

    /// Records one attempt; returns its endpoint's state after the commit that held it.
    public func record(_ outcome: Outbox.AttemptOutcome) async throws -> EndpointState {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state in
                state.waiting.append(Waiting(outcome: outcome, continuation: continuation))
                defer { state.committing = true }
                return !state.committing
            }
            if start {
                queue.async { self.commitUntilDrained() }
            }
        }
    }

    private func commitUntilDrained() {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                guard !state.waiting.isEmpty else {
                    state.committing = false
                    return []
                }
                let count = min(state.waiting.count, maximumBatch)
                defer { state.waiting.removeFirst(count) }
                return Array(state.waiting.prefix(count))
            }
            guard !batch.isEmpty else { return }
            commit(batch)
        }
    }

    private func commit(_ batch: [Waiting]) {
        do {
            let states = try outbox.recordAttempts(batch.map(\.outcome), nowMillis: nowMillis())
            state.withLock { $0.commits += 1 }
            for waiting in batch {
                waiting.continuation.resume(returning: states[waiting.outcome.endpoint] ?? EndpointState(name: waiting.outcome.endpoint))
            }
        } catch {
            // One record the schema refuses must not fail the others: try each on its own. Any
            // other error (a busy or broken database) fails them all; their workers retry.
            if batch.count > 1, (error as? DatabaseError)?.resultCode == .SQLITE_CONSTRAINT {
                for waiting in batch { commit([waiting]) }
                return
            }
            for waiting in batch {
                waiting.continuation.resume(throwing: error)
            }
        }
    }
}
