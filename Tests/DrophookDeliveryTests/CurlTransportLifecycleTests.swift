import DrophookDelivery
import DrophookEvents
import Foundation
import Testing

@Suite("Curl transport shutdown and cancellation")
struct CurlTransportLifecycleTests {
    @Test func shutdownFailsRequestsInFlightAndRefusesNewOnes() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let url = server.url("/hang")
        let inFlight = Task {
            await transport.send(WebhookRequest(url: url, headers: [], body: [], options: .init(totalTimeout: .seconds(30))))
        }
        try await curlWaitUntil { try server.requests().count == 1 }
        await transport.shutdown()
        let failure = try #require(await inFlight.value.curlFailure)
        #expect(failure.kind == .other)
        #expect(failure.message.contains("shut down"))

        let later = await transport.send(WebhookRequest(url: server.url("/status/200"), headers: [], body: []))
        #expect(later.curlFailure?.message.contains("shut down") == true)
        #expect(try server.requests().count == 1)
    }

    @Test func cancellingTheCallerAbandonsTheTransfer() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let url = server.url("/hang")
        let clock = ContinuousClock()
        let started = clock.now
        let inFlight = Task {
            await transport.send(WebhookRequest(url: url, headers: [], body: [], options: .init(totalTimeout: .seconds(30))))
        }
        try await curlWaitUntil { try server.requests().count == 1 }
        inFlight.cancel()
        let failure = try #require(await inFlight.value.curlFailure)
        #expect(failure.message.contains("cancelled"))
        #expect(clock.now - started < .seconds(10))

        // The transport keeps working after a cancellation.
        let next = await transport.send(WebhookRequest(url: server.url("/status/200"), headers: [], body: []))
        #expect(next.curlResponse?.status == 200)
        await transport.shutdown()
    }

    @Test func aHangingReceiverDoesNotHoldBackTheNextRequestToIt() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let url = server.url("/hang")
        let options = TransportOptions(totalTimeout: .seconds(20))
        let first = Task { await transport.send(WebhookRequest(url: url, headers: [], body: [1], options: options)) }
        try await curlWaitUntil { try server.requests().count == 1 }
        let second = Task { await transport.send(WebhookRequest(url: url, headers: [], body: [2], options: options)) }
        // The second request must open its own connection rather than wait on the first one.
        try await curlWaitUntil(timeout: .seconds(5)) { try server.requests().count == 2 }
        #expect(try server.acceptedConnections() == 2)
        first.cancel()
        second.cancel()
        _ = await (first.value, second.value)
        await transport.shutdown()
    }

    @Test func aCancelledCallerNeverReachesTheReceiver() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let url = server.url("/status/200")
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await transport.send(WebhookRequest(url: url, headers: [], body: []))
        }
        let outcome = await task.value
        await transport.shutdown()
        #expect(outcome.curlFailure?.message.contains("cancelled") == true)
        #expect(try server.requests().isEmpty)
    }

    @Test func droppingTheLastReferenceReleasesTheTransportWithoutShutdown() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        var transport: CurlTransport? = CurlTransport()
        let outcome = await transport?.send(WebhookRequest(url: server.url("/status/200"), headers: [], body: []))
        #expect(outcome?.curlResponse?.status == 200)
        weak let released = transport
        transport = nil
        #expect(released == nil)
    }
}
