import DrophookEvents
import DrophookOutbox
import Foundation
import Logging

/// One attempt of one delivery: render, send, classify, record.
extension EndpointWorker {
    func attempt(_ job: DeliveryJob, _ settings: Settings) async {
        let endpoint = settings.endpoint
        let rendered = render(job, settings)
        let startedAt = clock.wallMillis()
        let began = clock.instant()
        let (target, outcome) = await send(rendered, endpoint: endpoint, host: settings.host)
        let elapsed = clock.instant() - began
        metrics.attemptDuration.recordNanoseconds(elapsed.milliseconds * 1_000_000)

        let policy = RetryPolicy(retryOn4xx: endpoint.retryOn4xx)
        // An HTTP-date `Retry-After` is read against the wall clock.
        let verdict = policy.classify(outcome, now: Date(timeIntervalSince1970: Double(clock.wallMillis()) / 1000))
        let number = job.attemptCount + 1
        // Retry times are on the schedule clock: a step of the wall clock moves none of them.
        let now = clock.scheduleMillis()
        let (transition, result, reason) = Self.decide(verdict, job: job, schedule: endpoint.retrySchedule, nowMillis: now)

        var record = AttemptRecord(
            id: rendered.attemptID,
            deliveryID: job.deliveryID,
            number: number,
            startedAtMillis: startedAt,
            durationMillis: elapsed.milliseconds,
            target: target,
            requestHeaders: HeaderRedaction.redact(rendered.headers),
            requestBody: rendered.body,
            error: reason,
            result: result
        )
        switch outcome {
        case .answered(let response):
            record.responseStatus = response.status
            record.responseHeaders = HeaderRedaction.redact(response.headers)
            record.responseBody = Array(response.body.prefix(AttemptRecord.maxResponseBodyBytes))
            record.responseTruncated = response.bodyTruncated || response.body.count > AttemptRecord.maxResponseBodyBytes
        case .acknowledged(let acknowledgement):
            record.acknowledgement = acknowledgement
        case .failure:
            break
        }

        metrics.attempts[result]?.increment()
        log(record, transition: transition, job: job)
        guard let state = await store(record, transition: transition, retryDelays: settings.recordRetryDelays) else {
            // The outcome is lost; hand the claim back so the delivery goes out again instead of
            // staying `delivering` (which would stop an ordered endpoint) until the next start.
            await release([job.deliveryID])
            return
        }

        switch result {
        case .delivered:
            metrics.delivered.increment()
        case .failed:
            metrics.failed.increment()
        case .endpointGone:
            await disable(
                reason: "the receiver answered 410 Gone at \(endpoint.address)",
                loudly: "endpoint disabled: receiver answered 410 Gone")
        case .retry:
            break
        }
        if result == .retry || result == .failed, !state.disabled, let limit = endpoint.disableAfter,
            let since = state.failingSinceMillis, now - since >= limit.milliseconds
        {
            metrics.autoDisabled.increment()
            await disable(
                reason: "no successful delivery for \(DurationParser.format(limit)) (failing since \(Self.timestamp(since)))",
                loudly: "endpoint disabled: failing without a success for \(DurationParser.format(limit))"
            )
        }
    }

    /// Sends a rendered attempt the way its endpoint's destination takes it, and returns where
    /// it went as the delivery log keeps it (a URL without its password, or a subject) and what
    /// came back.
    ///
    /// The request runs outside this task's cancellation: on shutdown a request already on the
    /// wire is allowed to finish (the transport bounds it by the endpoint's total timeout) so its
    /// outcome is recorded rather than left to a redundant retry.
    private func send(
        _ rendered: RenderedAttempt, endpoint: EndpointConfiguration, host: String
    ) async -> (AttemptRecord.Target, DeliveryOutcome) {
        switch endpoint.destination {
        case .webhook(let url):
            let target = AttemptRecord.Target.url(HeaderRedaction.redact(url: url))
            if endpoint.handshake,
                let refusal = await handshake.admit(url: url, origin: host, options: endpoint.transport, transport: transport)
            {
                // Not allowed (yet): nothing is sent; the attempt fails and is retried on schedule.
                return (target, .failure(refusal))
            }
            if endpoint.handshake { await handshake.pace() }
            let request = WebhookRequest(url: url, headers: rendered.headers, body: rendered.body, options: endpoint.transport)
            let transport = self.transport
            return (target, DeliveryOutcome(await Task { await transport.send(request) }.value))
        case .stream(let stream):
            let subject = stream.subject(rendered.watch, rendered.topic)
            let message = StreamMessage(
                subject: subject, headers: rendered.headers, body: rendered.body, messageID: rendered.eventID,
                timeout: endpoint.transport.totalTimeout)
            return (.subject(subject), DeliveryOutcome(await Task { await stream.transport.publish(message) }.value))
        }
    }

    /// What the verdict means for the delivery, given the attempts already spent in this round.
    static func decide(
        _ verdict: DeliveryVerdict,
        job: DeliveryJob,
        schedule: RetrySchedule,
        nowMillis: Int64
    ) -> (DeliveryTransition, AttemptResult, String?) {
        switch verdict {
        case .delivered:
            return (.delivered, .delivered, nil)
        case .permanentFailure(let reason):
            return (.failed, .failed, reason)
        case .endpointGone:
            // The delivery stays owed and due: it goes out as soon as the endpoint is enabled.
            return (.retry(atMillis: nowMillis), .endpointGone, "HTTP 410 Gone: endpoint disabled")
        case .retry(let reason, let retryAfter):
            let spent = job.attemptsThisRound + 1
            guard spent < schedule.maxAttempts, let scheduled = schedule.delay(afterAttempt: spent) else {
                return (.failed, .failed, "\(reason) (gave up after \(spent) attempts)")
            }
            let delay = retryAfter ?? scheduled
            return (.retry(atMillis: nowMillis + delay.milliseconds), .retry, reason)
        }
    }

    /// One attempt's event, rendered and signed with a fresh attempt id; ``send`` addresses it.
    func render(_ job: DeliveryJob, _ settings: Settings) -> RenderedAttempt {
        let endpoint = settings.endpoint
        let attemptID = Outbox.newID()
        var origin = WatchOrigin(pipeID: "")
        if case .file(let event) = job.event, let known = event.origin ?? settings.watches[event.watch] {
            // Stamped when stored; older rows fall back to the watch's current origin.
            origin = known
        }
        let context = DeliveryContext(
            webhookID: endpoint.webhookID,
            deliveryID: job.deliveryID,
            attemptID: attemptID,
            organizationID: settings.organizationID,
            pipeID: origin.pipeID,
            transferProtocol: origin.transferProtocol,
            host: settings.host,
            sessionDetails: endpoint.sessionDetails
        )
        let message: WebhookMessage =
            switch job.event {
            case .file(let event):
                endpoint.format.message(for: event, context: context)
            case .ping(let id, let createdAt):
                endpoint.format.ping(
                    context: context,
                    endpoint: endpoint.description(paused: currentlyPaused(endpoint), nowMillis: createdAt, eventID: id)
                )
            }
        let (eventID, topic, watch): (String, String, String) =
            switch job.event {
            case .file(let event): (event.id, event.topic.rawValue, event.watch)
            case .ping(let id, _): (id, Topic.webhookPing.rawValue, "")
            }
        let signed = message.signed(with: endpoint.signer, messageID: eventID, timestampSeconds: clock.wallMillis() / 1000)
        var headers = signed.headers
        headers += Self.eventHeaders(eventID: eventID, topic: topic, present: headers)
        if let authorization = endpoint.authorization {
            headers.append(HTTPHeader("Authorization", authorization))
        }
        headers += endpoint.extraHeaders
        return RenderedAttempt(attemptID: attemptID, eventID: eventID, watch: watch, topic: topic, headers: headers, body: message.body)
    }

    /// The event's type and id as headers, unless the request already carries them in its own
    /// convention (Standard Webhooks' `webhook-id`, CloudEvents' `ce-type` and `ce-id`).
    static func eventHeaders(eventID: String, topic: String, present: [HTTPHeader]) -> [HTTPHeader] {
        var headers: [HTTPHeader] = []
        if present.value(named: "ce-type") == nil { headers.append(HTTPHeader("X-Drophook-Event", topic)) }
        if present.value(named: "webhook-id") == nil, present.value(named: "ce-id") == nil {
            headers.append(HTTPHeader("X-Drophook-Event-Id", eventID))
        }
        return headers
    }

    /// Whether the endpoint is paused now (run-time override as the last claim read it, else
    /// config), for a ping's `State`.
    private func currentlyPaused(_ endpoint: EndpointConfiguration) -> Bool {
        lastState?.isPaused(configured: endpoint.paused) ?? endpoint.paused
    }

    /// Records the attempt (in the engine's next group commit); a failing database is tried
    /// again after each of `retryDelays`. Nil when every try failed.
    private func store(_ record: AttemptRecord, transition: DeliveryTransition, retryDelays: [Duration]) async -> EndpointState? {
        let outcome = Outbox.AttemptOutcome(record, endpoint: name, transition: transition)
        for trial in 0...retryDelays.count {
            do {
                return try await recorder.record(outcome)
            } catch {
                let last = trial == retryDelays.count
                logger.error(
                    "cannot record attempt \(record.id) of delivery \(record.deliveryID) (try \(trial + 1))\(last ? "; handing the delivery back to be sent again" : ""): \(error)"
                )
                if !last { try? await Task.sleep(for: retryDelays[trial]) }
            }
        }
        return nil
    }

    private func disable(reason: String, loudly headline: String) async {
        let name = self.name
        do {
            try await outbox.disable(name, reason: reason)
        } catch {
            logger.error("cannot disable endpoint: \(error)")
        }
        state.withLock { state in
            var disabled = state.lastState ?? EndpointState(name: name)
            disabled.disabled = true
            state.lastState = disabled
        }
        metrics.disabled.record(1)
        logger.critical("\(headline) — \(reason); deliveries stay queued; run `drophook resume \(name)` once the receiver is fixed")
    }

    private func log(_ record: AttemptRecord, transition: DeliveryTransition, job: DeliveryJob) {
        var metadata: Logger.Metadata = [
            "delivery": "\(record.deliveryID)",
            "event": "\(job.event.id)",
            "attempt": "\(record.number)",
            "duration_ms": "\(record.durationMillis)",
        ]
        if let status = record.responseStatus { metadata["status"] = "\(status)" }
        if let error = record.error { metadata["error"] = "\(error)" }
        switch transition {
        case .delivered:
            logger.debug("delivered", metadata: metadata)
        case .retry(let at):
            metadata["retry_in_ms"] = "\(max(at - clock.scheduleMillis(), 0))"
            logger.warning("attempt failed, will retry", metadata: metadata)
        case .failed:
            logger.error("delivery failed for good; redeliver with `drophook redeliver`", metadata: metadata)
        }
    }

    static func timestamp(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}

/// One attempt's event as it goes out, before its destination's transport takes it.
struct RenderedAttempt: Sendable {
    var attemptID: String
    /// The event's id: a stream's `Nats-Msg-Id`, the same on every attempt.
    var eventID: String
    /// What a stream's subject is made of.
    var watch: String
    var topic: String
    var headers: [HTTPHeader]
    var body: [UInt8]
}
