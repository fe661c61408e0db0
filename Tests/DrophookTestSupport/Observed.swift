import Synchronization

/// What a component hands the test as it runs (the watcher's batches, log messages), kept in
/// order. A test awaits a condition over everything kept so far; each new item wakes it, so
/// the wait ends at the item that makes it true instead of at the next poll.
public final class Observed<Element: Sendable>: Sendable {
    private struct Waiter {
        let condition: @Sendable ([Element]) -> Bool
        let continuation: CheckedContinuation<Bool, Never>
    }
    /// A wait's place: taken before it listens, so its time can run out even before then.
    private enum Slot {
        case taken
        case waiting(Waiter)
        case expired
    }
    private struct State {
        var items: [Element] = []
        var slots: [Int: Slot] = [:]
        var nextSlot = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Everything kept so far, oldest first.
    public var items: [Element] { state.withLock { $0.items } }

    /// Keeps `item` and wakes each waiter whose condition now holds.
    public func append(_ item: Element) {
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.items.append(item)
            var ready: [CheckedContinuation<Bool, Never>] = []
            for (id, slot) in state.slots {
                guard case .waiting(let waiter) = slot, waiter.condition(state.items) else { continue }
                state.slots[id] = nil
                ready.append(waiter.continuation)
            }
            return ready
        }
        for continuation in woken { continuation.resume(returning: true) }
    }

    /// Returns true as soon as `condition` holds over the items kept, false if `limit` passes
    /// (or the task is cancelled) first, so a broken component fails the test, not hangs it.
    public func wait(within limit: Duration, until condition: @escaping @Sendable ([Element]) -> Bool) async -> Bool {
        let id = state.withLock { state in
            defer { state.nextSlot += 1 }
            state.slots[state.nextSlot] = .taken
            return state.nextSlot
        }
        defer { state.withLock { _ = $0.slots.removeValue(forKey: id) } }
        return await withTaskGroup(of: Bool?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let answer = self.state.withLock { state -> Bool? in
                        if case .expired = state.slots[id] { return false }
                        if condition(state.items) { return true }
                        state.slots[id] = .waiting(Waiter(condition: condition, continuation: continuation))
                        return nil
                    }
                    if let answer { continuation.resume(returning: answer) }
                }
            }
            group.addTask {
                // Ends early when the condition holds (the group is cancelled) or the test is.
                try? await Task.sleep(for: limit)
                self.expire(id)
                return nil
            }
            var result = false
            for await answer in group {
                if let answer {
                    result = answer
                    group.cancelAll()
                }
            }
            return result
        }
    }

    /// Gives up on waiter `id` (its time ran out) if it is still waiting.
    private func expire(_ id: Int) {
        let waiter = state.withLock { state -> Waiter? in
            switch state.slots[id] {
            case .waiting(let waiter):
                state.slots[id] = nil
                return waiter
            case .taken:
                state.slots[id] = .expired
                return nil
            case .expired, nil:
                return nil
            }
        }
        waiter?.continuation.resume(returning: false)
    }
}
