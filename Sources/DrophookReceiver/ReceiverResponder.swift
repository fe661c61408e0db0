import DrophookEvents
import Foundation
import HTTPTypes
import Hummingbird

/// Answers every request: records it, checks its signature, then replies as scripted.
struct ReceiverResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let inbox: WebhookInbox
    let verifier: SignatureVerifier?
    let maxBodyBytes: Int

    func respond(to request: Request, context: Context) async throws -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            // Collection fails only for an oversized body or a dropped connection; either way
            // nothing complete arrived, so nothing is recorded.
            return Response(status: .contentTooLarge)
        }
        let body = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
        let headers = request.headers.map { HTTPHeader($0.name.rawName, $0.value) }
        let webhook = ReceivedWebhook(
            method: request.method.rawValue,
            path: request.uri.description,
            headers: headers,
            body: body,
            signature: verifier?.verify(body: body, headers: headers, nowSeconds: WallClock.nanoseconds() / 1_000_000_000),
            receivedAt: Date()
        )
        let reply = inbox.record(webhook)
        if reply.delay > .zero { await hold(for: reply.delay) }
        if let gate = reply.gate { await hold(until: gate) }
        return Self.response(for: reply)
    }

    /// Sleeps in short steps so that stopping the receiver ends a held request promptly:
    /// request handlers are not cancelled when the server shuts down.
    private func hold(for duration: Duration) async {
        let deadline = ContinuousClock.now + duration
        while !inbox.isStopping, ContinuousClock.now < deadline {
            let remaining = deadline - ContinuousClock.now
            try? await Task.sleep(for: min(remaining, .milliseconds(50)))
        }
    }

    /// Waits for the test to open `gate`, in the same short steps as ``hold(for:)`` so that
    /// stopping the receiver ends the wait too.
    private func hold(until gate: ReplyGate) async {
        while !inbox.isStopping, !gate.isOpen {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    static func response(for reply: ReceiverReply) -> Response {
        var fields = HTTPFields()
        for header in reply.headers {
            guard let name = HTTPField.Name(header.name) else { continue }
            fields.append(HTTPField(name: name, value: header.value))
        }
        let body = reply.body.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body))
        return Response(status: .init(code: reply.status), headers: fields, body: body)
    }
}
