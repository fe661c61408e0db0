import DrophookDelivery
import DrophookEvents
import DrophookTestSupport
import Foundation
import Testing

@Suite("Curl transport over HTTPS")
struct CurlTLSTests {
    @Test func refusesAServerSignedByAnUntrustedCA() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try CurlTestServer(certificates: certificates)
        defer { server.stop() }
        let transport = CurlTransport()
        let outcome = await transport.send(WebhookRequest(url: server.url("/status/200"), headers: [], body: [1]))
        await transport.shutdown()

        let failure = try #require(outcome.curlFailure)
        #expect(failure.kind == .tlsFailure, "\(failure)")
        #expect(try server.requests().isEmpty)
    }

    @Test func deliversWhenTheEndpointTrustsTheServersCA() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try CurlTestServer(certificates: certificates)
        defer { server.stop() }
        let transport = CurlTransport()
        let options = TransportOptions(caFile: certificates.caCertificate)
        let body = Array(#"{"event":"webhook.ping"}"#.utf8)
        let outcome = await transport.send(
            WebhookRequest(
                url: server.url("/status/200"), headers: [HTTPHeader("Content-Type", "application/json")],
                body: body, options: options
            ))
        await transport.shutdown()

        #expect(outcome.curlResponse?.status == 200, "\(outcome)")
        #expect(try server.requests().curlOnly?.bodyBytes == body)
    }

    @Test func anEndpointCAFileAddsToTheSystemStoreRatherThanReplacingIt() async throws {
        let systemPKI = try TestCertificates()
        defer { systemPKI.remove() }
        let endpointPKI = try TestCertificates()
        defer { endpointPKI.remove() }
        let server = try CurlTestServer(certificates: systemPKI)
        defer { server.stop() }
        let systemStore = try systemPKI.makeHashedCADirectory()
        let request = WebhookRequest(
            url: server.url("/status/200"), headers: [], body: [],
            options: TransportOptions(caFile: endpointPKI.caCertificate)
        )

        let withStore = CurlTransport(configuration: .init(systemCADirectory: systemStore))
        let trusted = await withStore.send(request)
        await withStore.shutdown()
        let withoutStore = CurlTransport(configuration: .init(systemCADirectory: nil))
        let untrusted = await withoutStore.send(request)
        await withoutStore.shutdown()

        #expect(trusted.curlResponse?.status == 200, "\(trusted)")
        // Whether libcurl's compiled-in CA directory is searched is its business; this one is not in it.
        #expect(untrusted.curlFailure?.kind == .tlsFailure, "\(untrusted)")
    }

    @Test func checksTheServerNameEvenWithATrustedCA() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try CurlTestServer(certificates: certificates)
        defer { server.stop() }
        let transport = CurlTransport()
        // The certificate names IP 127.0.0.1 only; "localhost" reaches the same server under another name.
        let outcome = await transport.send(
            WebhookRequest(
                url: "https://localhost:\(server.port)/status/200", headers: [], body: [],
                options: TransportOptions(caFile: certificates.caCertificate)
            ))
        await transport.shutdown()

        #expect(outcome.curlFailure?.kind == .tlsFailure, "\(outcome)")
        #expect(try server.requests().isEmpty)
    }

    /// An expired certificate and a self-signed one fail the TLS handshake, with curl's reason
    /// in the message, before any request is sent.
    @Test(arguments: [(-1, false, "expired"), (2, true, "self-signed")])
    func refusesAnExpiredOrSelfSignedServerCertificate(days: Int, selfSigned: Bool, reason: String) async throws {
        let certificates = try TestCertificates(serverDays: days, selfSignedServer: selfSigned)
        defer { certificates.remove() }
        let server = try CurlTestServer(certificates: certificates)
        defer { server.stop() }
        let transport = CurlTransport()
        let outcome = await transport.send(
            WebhookRequest(
                url: server.url("/status/200"), headers: [], body: [],
                options: TransportOptions(caFile: certificates.caCertificate)
            ))
        await transport.shutdown()

        let failure = try #require(outcome.curlFailure)
        #expect(failure.kind == .tlsFailure, "\(failure)")
        #expect(failure.message.contains(reason), "\(failure)")
        #expect(try server.requests().isEmpty)
    }

    @Test func presentsTheClientCertificateToAServerThatRequiresOne() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try CurlTestServer(certificates: certificates, requireClientCertificate: true)
        defer { server.stop() }
        let transport = CurlTransport()

        let anonymous = await transport.send(
            WebhookRequest(
                url: server.url("/status/200"), headers: [], body: [1],
                options: TransportOptions(caFile: certificates.caCertificate)
            ))
        let identified = await transport.send(
            WebhookRequest(
                url: server.url("/status/200"), headers: [], body: [2],
                options: TransportOptions(
                    caFile: certificates.caCertificate,
                    clientCertificateFile: certificates.clientCertificate,
                    clientKeyFile: certificates.clientKey
                )
            ))
        await transport.shutdown()

        let refusal = try #require(anonymous.curlFailure)
        #expect(refusal.kind == .tlsFailure, "\(refusal)")
        #expect(identified.curlResponse?.status == 200, "\(identified)")
        #expect(try server.requests().map(\.bodyBytes) == [[2]])
    }

    @Test func tunnelsThroughAConfiguredProxyWithConnect() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try CurlTestServer(certificates: certificates)
        defer { server.stop() }
        let proxy = try CurlTestServer()
        defer { proxy.stop() }
        let transport = CurlTransport()
        let outcome = await transport.send(
            WebhookRequest(
                url: server.url("/status/200"), headers: [], body: [7],
                options: TransportOptions(caFile: certificates.caCertificate, proxy: "http://127.0.0.1:\(proxy.port)")
            ))
        await transport.shutdown()

        #expect(outcome.curlResponse?.status == 200, "\(outcome)")
        // The proxy saw only the tunnel request; the request itself arrived end-to-end encrypted.
        let tunnel = try #require(try proxy.requests().curlOnly)
        #expect(tunnel.method == "CONNECT")
        #expect(tunnel.target == "127.0.0.1:\(server.port)")
        #expect(try server.requests().curlOnly?.bodyBytes == [7])
        #expect(outcome.curlResponse?.headers.contains { $0.value.contains("Connection established") } == false)
    }

    @Test func reportsAMissingCAFileAsATLSFailureNamingIt() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try CurlTestServer(certificates: certificates)
        defer { server.stop() }
        let transport = CurlTransport()
        let missing = certificates.directory.appendingPathComponent("absent-ca.pem").path
        let outcome = await transport.send(
            WebhookRequest(
                url: server.url("/status/200"), headers: [], body: [], options: TransportOptions(caFile: missing)
            ))
        await transport.shutdown()

        let failure = try #require(outcome.curlFailure)
        #expect(failure.kind == .tlsFailure, "\(failure)")
        #expect(failure.message.contains("absent-ca.pem"), "\(failure)")
    }
}
