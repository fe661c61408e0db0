/// Checks `condition` every 10 ms until it holds or `limit` passes; returns whether it held.
/// For conditions that no event announces (a file growing on disk, a webhook arriving at a
/// receiver shared by several assertions); the bound keeps a broken test from hanging.
public func pollUntil(within limit: Duration, _ condition: @Sendable () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
