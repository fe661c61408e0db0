import Synchronization

/// The receiver's record of what arrived, shared between request handlers and the test or
/// command that inspects it.
final class WebhookInbox: Sendable {
    private struct Waiter {
        let id: Int
        let count: Int
        let continuation: CheckedContinuation<[ReceivedWebhook], any Error>
    }

    private struct State {
        var history: [ReceivedWebhook] = []
        var total = 0
        var waiters: [Waiter] = []
        var nextWaiterID = 0
        /// Waiters whose ids are handed out but who have not registered yet.
        var pending: Set<Int> = []
        /// Timeouts or cancellations that struck a pending waiter before it registered.
        var preempted: [Int: any Error] = [:]
        var script: ResponseScript
        var isStopping = false
    }

    private let state: Mutex<State>
    private let historyLimit: Int
    private let continuation: AsyncStream<ReceivedWebhook>.Continuation
    let stream: AsyncStream<ReceivedWebhook>

    init(script: ResponseScript, historyLimit: Int) {
        state = Mutex(State(script: script))
        self.historyLimit = max(1, historyLimit)
        // Newest-first buffering: a consumer that never reads must not hold every body forever.
        (stream, continuation) = AsyncStream.makeStream(of: ReceivedWebhook.self, bufferingPolicy: .bufferingNewest(1024))
    }

    /// Records a webhook and returns the scripted reply for it.
    func record(_ webhook: ReceivedWebhook) -> ReceiverReply {
        typealias Ready = (CheckedContinuation<[ReceivedWebhook], any Error>, [ReceivedWebhook])
        let (script, index, ready) = state.withLock { state -> (ResponseScript, Int, [Ready]) in
            let index = state.total
            state.total += 1
            state.history.append(webhook)
            if state.history.count > historyLimit { state.history.removeFirst(state.history.count - historyLimit) }
            // Yielding under the lock keeps the stream in the same order as the history.
            continuation.yield(webhook)
            var ready: [Ready] = []
            state.waiters.removeAll { waiter in
                guard state.total >= waiter.count else { return false }
                ready.append((waiter.continuation, state.history))
                return true
            }
            return (state.script, index, ready)
        }
        for (waiter, history) in ready { waiter.resume(returning: history) }
        // The script runs outside the lock: it may look at the receiver itself.
        return script.reply(webhook, index)
    }

    var history: [ReceivedWebhook] { state.withLock { $0.history } }
    var total: Int { state.withLock { $0.total } }
    var isStopping: Bool { state.withLock { $0.isStopping } }

    func setScript(_ script: ResponseScript) {
        state.withLock { $0.script = script }
    }

    /// Waits until `count` webhooks have arrived in total, or fails after `timeout`.
    func wait(forTotal count: Int, timeout: Duration) async throws -> [ReceivedWebhook] {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            state.pending.insert(state.nextWaiterID)
            return state.nextWaiterID
        }
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            self?.fail(waiter: id) { total in
                ReceiverError(code: .timedOut, description: "expected \(count) webhooks within \(timeout), received \(total)")
            }
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome: Result<[ReceivedWebhook], any Error>? = state.withLock { state in
                    state.pending.remove(id)
                    if let error = state.preempted.removeValue(forKey: id) { return .failure(error) }
                    if state.total >= count { return .success(state.history) }
                    if state.isStopping {
                        return .failure(
                            ReceiverError(
                                code: .timedOut, description: "receiver stopped after \(state.total) webhooks, before \(count) arrived"))
                    }
                    state.waiters.append(Waiter(id: id, count: count, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            fail(waiter: id) { _ in CancellationError() }
        }
    }

    /// Fails one waiter: at once if it is waiting, or when it registers if it has not yet, so a
    /// timeout or cancellation that comes early is never lost.
    private func fail(waiter id: Int, error: (Int) -> any Error) {
        let found: (Waiter, Int)? = state.withLock { state in
            if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                return (state.waiters.remove(at: index), state.total)
            }
            if state.pending.remove(id) != nil { state.preempted[id] = error(state.total) }
            return nil
        }
        if let (waiter, total) = found { waiter.continuation.resume(throwing: error(total)) }
    }

    /// Marks the receiver as stopping (ends held replies) and fails every waiter.
    func stop() {
        let waiters = state.withLock { state in
            state.isStopping = true
            defer { state.waiters.removeAll() }
            return (state.waiters, state.total)
        }
        for waiter in waiters.0 {
            waiter.continuation.resume(
                throwing: ReceiverError(
                    code: .timedOut, description: "receiver stopped after \(waiters.1) webhooks, before \(waiter.count) arrived"))
        }
        continuation.finish()
    }
}
