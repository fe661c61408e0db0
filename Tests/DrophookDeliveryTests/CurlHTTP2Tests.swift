import DrophookDelivery
import DrophookEvents
import DrophookTestSupport
import Foundation
import Testing

@Suite("Curl transport HTTP version", .requires(.nghttpd))
struct CurlHTTP2Tests {
    @Test func negotiatesHTTP2WithAReceiverThatOffersIt() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try CurlTestHTTP2Server(certificates: certificates, files: ["hook": "received\n"])
        defer { server.stop() }
        let transport = CurlTransport()
        let outcome = await transport.send(
            WebhookRequest(
                url: server.url("/hook"), headers: [HTTPHeader("Content-Type", "application/json")],
                body: Array(#"{"event":"webhook.ping"}"#.utf8), options: TransportOptions(caFile: certificates.caCertificate)
            ))
        await transport.shutdown()

        let response = try #require(outcome.curlResponse, "\(outcome)")
        #expect(response.status == 200)
        #expect(response.httpVersion == "2")
        // The docroot file's content proves the answer is nghttpd's, read through the HTTP/2 framing.
        #expect(response.body == Array("received\n".utf8))
    }

    @Test func fallsBackToHTTP1_1WhenTheReceiverOnlySpeaksIt() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        // The Python receiver offers no ALPN, so TLS completes without agreeing on HTTP/2.
        let server = try CurlTestServer(certificates: certificates)
        defer { server.stop() }
        let transport = CurlTransport()
        let outcome = await transport.send(
            WebhookRequest(
                url: server.url("/status/200"), headers: [], body: [1],
                options: TransportOptions(caFile: certificates.caCertificate)
            ))
        await transport.shutdown()

        let response = try #require(outcome.curlResponse, "\(outcome)")
        #expect(response.status == 200)
        #expect(response.httpVersion == "1.1")
        #expect(try server.requests().curlOnly?.bodyBytes == [1])
    }
}
