import DrophookEvents

extension SessionLog {
    /// The batch's events with what the session log says about them: the SFTP user as the
    /// actor, the client's address, the bytes the session wrote, and an upload whose session
    /// ended with the file still open turned from `created` into `failed`.
    ///
    /// Only live events of watches in `roots` (watch name → root path) are asked about. An
    /// event waits, at most ``Configuration/wait`` for the whole batch, while a session still
    /// holds its file open for writing, or while a line may be on its way (a datagram not yet
    /// read; with a file or the journal, always); then it goes as it is.
    public func attribute(_ events: [FileEvent], roots: [String: String]) async -> [FileEvent] {
        var events = events
        var open = events.indices.filter { index in
            let event = events[index]
            return !event.foundByScan && event.kind != .renamed && roots[event.watch] != nil
        }
        guard !open.isEmpty else { return events }
        let deadline = ContinuousClock.now + configuration.wait
        while true {
            // Asked before the ledger: a line handed over after this is seen by the next round.
            let backlog = hasBacklog
            let unresolved = ledger.withLock { ledger -> [Int] in
                var unresolved: [Int] = []
                for index in open {
                    let event = events[index]
                    switch ledger.attribute(Self.query(event, root: roots[event.watch]!)) {
                    case .attributed(let attribution):
                        Self.apply(attribution, to: &events[index])
                    case .pending:
                        unresolved.append(index)
                    case .unknown:
                        if backlog { unresolved.append(index) }
                    }
                }
                return unresolved
            }
            open = unresolved
            let now = ContinuousClock.now
            guard !open.isEmpty, now < deadline else { break }
            await changed.wait(for: deadline - now)
        }
        for index in open {
            logger.debug(
                "session log: no line about \(events[index].watch):\(events[index].path) within \(configuration.wait); sent with the actor rule's answer"
            )
        }
        Self.copyToRenames(&events)
        for event in events where roots[event.watch] != nil && !event.foundByScan {
            if event.clientAddress != nil { metrics.attributed.increment() } else { metrics.unattributed.increment() }
        }
        return events
    }

    private static func query(_ event: FileEvent, root: String) -> SessionQuery {
        let change: SessionQuery.Change
        switch event.kind {
        case .created: change = .created(byRename: event.partOfRename)
        case .deleted: change = .deleted(byRename: event.partOfRename)
        case .failed, .renamed: change = .failed
        }
        return SessionQuery(change: change, path: root + "/" + event.path, isDirectory: event.isDirectory)
    }

    private static func apply(_ attribution: SessionAttribution, to event: inout FileEvent) {
        event.actor = attribution.user
        event.clientAddress = attribution.clientAddress
        guard !event.isDirectory, event.kind == .created || event.kind == .failed else { return }
        event.bytesWritten = attribution.bytesWritten
        // The client went away with the file open: what is on disk is what arrived before.
        if attribution.interrupted, event.kind == .created, !event.partOfRename { event.kind = .failed }
    }

    /// A `renamed` event says the same as its `created` half, which was asked about.
    private static func copyToRenames(_ events: inout [FileEvent]) {
        for index in events.indices where events[index].kind == .renamed {
            let renamed = events[index]
            guard
                let half = events.first(where: {
                    $0.kind == .created && $0.partOfRename && $0.watch == renamed.watch && $0.path == renamed.path
                }), half.clientAddress != nil
            else { continue }
            events[index].actor = half.actor
            events[index].clientAddress = half.clientAddress
        }
    }
}
