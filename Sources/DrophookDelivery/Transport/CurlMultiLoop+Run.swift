import CCurl
import DrophookEvents

#if canImport(Glibc)
    import Glibc
#endif

// Everything in this file runs on the loop thread only.
extension CurlMultiLoop {
    /// Longest wait in `curl_multi_poll`; curl shortens it to its own next timeout, and wakeups end it early.
    private static let pollTimeoutMilliseconds: Int32 = 1000

    func run() {
        while true {
            let work = takeWork()
            guard let work else { break }
            for submission in work.submissions { begin(submission) }
            for id in work.cancellations { abandon(id: id) }

            var running: Int32 = 0
            let performed = curl_multi_perform(multi, &running)
            if performed != CURLM_OK {
                logger.error("curl_multi_perform failed", metadata: ["code": "\(performed.rawValue)"])
            }
            finishCompletedTransfers()
            let polled = curl_multi_poll(multi, nil, 0, Self.pollTimeoutMilliseconds, nil)
            if polled != CURLM_OK {
                logger.error("curl_multi_poll failed", metadata: ["code": "\(polled.rawValue)"])
                // A poll that fails at once would otherwise spin this thread at full speed.
                usleep(100_000)
            }
        }
        shutDown()
    }

    /// The queued work, or nil once a stop was requested (the queue is then failed by `shutDown`).
    private func takeWork() -> (submissions: [Submission], cancellations: [UInt64])? {
        shared.withLock { state in
            if state.stopRequested { return nil }
            defer {
                state.submissions.removeAll(keepingCapacity: true)
                state.cancellations.removeAll(keepingCapacity: true)
            }
            return (state.submissions, state.cancellations)
        }
    }

    private func begin(_ submission: Submission) {
        guard
            let transfer = CurlTransfer(
                id: submission.id,
                maxBodyBytes: submission.request.options.maxResponseBodyBytes,
                continuation: submission.continuation
            )
        else {
            submission.continuation.resume(
                returning: .failure(
                    TransportFailure(
                        kind: .other, message: "libcurl could not allocate a transfer (out of memory)", duration: .zero
                    )))
            return
        }
        do {
            try transfer.configure(for: submission.request, transport: configuration)
        } catch {
            transfer.continuation.resume(returning: .failure(error))
            return
        }
        let added = curl_multi_add_handle(multi, transfer.easy)
        guard added == CURLM_OK else {
            transfer.continuation.resume(
                returning: .failure(
                    TransportFailure(
                        kind: .other,
                        message: "libcurl could not start the transfer: \(String(cString: curl_multi_strerror(added)))",
                        duration: .zero
                    )))
            return
        }
        transfer.startedAt = .now
        transfers[transfer.easy] = transfer
    }

    private func finishCompletedTransfers() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard drophook_multi_message_is_done(message) != 0, let easy = message.pointee.easy_handle else { continue }
            let code = drophook_multi_message_result(message)
            guard let transfer = detach(easy) else { continue }
            transfer.continuation.resume(returning: transfer.outcome(for: code))
        }
    }

    private func abandon(id: UInt64) {
        guard let transfer = transfers.values.first(where: { $0.id == id }), detach(transfer.easy) != nil else { return }
        transfer.continuation.resume(returning: .failure(.cancelled(after: transfer.elapsed)))
    }

    /// Takes a transfer off the multi handle; after this it may be released (which cleans up its easy handle).
    private func detach(_ easy: UnsafeMutableRawPointer) -> CurlTransfer? {
        guard let transfer = transfers.removeValue(forKey: easy) else { return nil }
        _ = curl_multi_remove_handle(multi, easy)
        return transfer
    }

    private func shutDown() {
        let queued = shared.withLock { state in
            state.isOpen = false
            defer { state.submissions.removeAll() }
            return state.submissions
        }
        let failure = TransportFailure(kind: .other, message: "the HTTP transport is shut down", duration: .zero)
        for submission in queued {
            submission.continuation.resume(returning: .failure(failure))
        }
        for easy in Array(transfers.keys) {
            guard let transfer = detach(easy) else { continue }
            var stopped = failure
            stopped.duration = transfer.elapsed
            transfer.continuation.resume(returning: .failure(stopped))
        }
        curl_multi_cleanup(multi)
        finished.cross()
    }
}
