import DrophookDelivery
import DrophookEvents
import Testing

@Suite("Delivery log redaction")
struct EngineRedactionTests {
    @Test("secret-bearing headers are hidden in the log, others kept as sent, order unchanged")
    func headers() {
        let sent = [
            HTTPHeader("Content-Type", "application/json"),
            HTTPHeader("Authorization", "Bearer abc"),
            HTTPHeader("X-Hub-Signature", "sha1=00"),
            HTTPHeader("X-Rilavek-Signature", "t=1,v1=00"),
            HTTPHeader("x-api-key", "k"),
            HTTPHeader("X-Auth-Token", "t"),
            HTTPHeader("Cookie", "session=1"),
            HTTPHeader("X-Team", "ops"),
        ]
        let logged = HeaderRedaction.redact(sent)
        #expect(logged.map(\.name) == sent.map(\.name))
        #expect(
            logged.map(\.value) == [
                "application/json", HeaderRedaction.placeholder, HeaderRedaction.placeholder, HeaderRedaction.placeholder,
                HeaderRedaction.placeholder, HeaderRedaction.placeholder, HeaderRedaction.placeholder, "ops",
            ])
    }

    @Test("a password in the URL is hidden; URLs without one are logged as they are")
    func urls() {
        #expect(
            HeaderRedaction.redact(url: "https://bob:hunter2@hooks.example.com/in?x=1")
                == "https://bob:***@hooks.example.com/in?x=1")
        // A password holding `@` and `/` (percent-encoded or not), and a URL too broken to parse.
        #expect(HeaderRedaction.redact(url: "https://bob:p%40ss@h.example/x@y") == "https://bob:***@h.example/x@y")
        #expect(HeaderRedaction.redact(url: "https://bob:p@ss@h.example/") == "https://bob:***@h.example/")
        #expect(HeaderRedaction.redact(url: "https://bob:hunter2@[bad") == "https://bob:***@[bad")
        #expect(HeaderRedaction.redact(url: "http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/hook")
        #expect(HeaderRedaction.redact(url: "https://bob@hooks.example.com/") == "https://bob@hooks.example.com/")
    }
}
