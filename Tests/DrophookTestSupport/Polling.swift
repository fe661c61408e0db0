/// The one way the tests wait for a condition that no event announces (a file growing on
/// disk, a value in SQLite or in another process's status file, a metric): it is checked every
/// 10 ms until it holds or `limit` passes, and the answer says which. Where a component hands
/// the test something (batches, log lines), ``Observed`` is awaited instead.
public func pollUntil(within limit: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
