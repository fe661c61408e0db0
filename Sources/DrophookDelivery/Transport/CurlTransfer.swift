import CCurl
import DrophookEvents

/// One webhook POST on the multi handle: its easy handle, the buffers curl fills, and the caller waiting for it.
///
/// Lives only on the transport's loop thread. The C callbacks reach it through an
/// unretained pointer, valid because `CurlMultiLoop` retains every transfer until its
/// easy handle has been removed from the multi handle.
final class CurlTransfer {
    /// Response headers beyond this many bytes are dropped, like an oversized body.
    static let maxResponseHeaderBytes = 64 * 1024

    let id: UInt64
    let easy: UnsafeMutableRawPointer
    let continuation: CheckedContinuation<WebhookOutcome, Never>
    let maxBodyBytes: Int
    let requestHeaders = CurlHeaderList()
    /// `CURLOPT_ERRORBUFFER` target; curl writes a NUL-terminated message here on failure.
    let errorBuffer: UnsafeMutablePointer<CChar>

    var responseHeaders: [HTTPHeader] = []
    var responseHeaderBytes = 0
    var body: [UInt8] = []
    var bodyTruncated = false
    var startedAt = ContinuousClock.now

    /// Creates the easy handle; nil only when libcurl cannot allocate one.
    init?(id: UInt64, maxBodyBytes: Int, continuation: CheckedContinuation<WebhookOutcome, Never>) {
        guard let easy = curl_easy_init() else { return nil }
        self.id = id
        self.easy = easy
        self.continuation = continuation
        self.maxBodyBytes = max(0, maxBodyBytes)
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        // The handle goes first: it may still point at the header list and error buffer.
        curl_easy_cleanup(easy)
        errorBuffer.deallocate()
    }

    var elapsed: Duration { ContinuousClock.now - startedAt }

    /// What the finished transfer came to, given the code libcurl reported for it.
    func outcome(for code: CURLcode) -> WebhookOutcome {
        let duration = elapsed
        // A write error we caused by refusing body bytes past the cap is still an answer.
        if code == CURLE_OK || (code == CURLE_WRITE_ERROR && bodyTruncated) {
            var status = 0
            _ = drophook_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            var version = 0
            _ = drophook_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
            return .response(
                WebhookResponse(
                    status: status,
                    headers: responseHeaders,
                    body: body,
                    bodyTruncated: bodyTruncated,
                    duration: duration,
                    httpVersion: Self.httpVersionName(version)
                ))
        }
        return .failure(TransportFailure(curlCode: code, errorBuffer: errorText, duration: duration))
    }

    private var errorText: String {
        Self.withoutLineEnding(String(cString: errorBuffer))
    }
}

extension CurlTransfer {
    /// The version name for a `CURLINFO_HTTP_VERSION` value; empty for 0 (none) or a value added by a newer libcurl.
    static func httpVersionName(_ version: Int) -> String {
        switch version {
        case CURL_HTTP_VERSION_1_0: "1.0"
        case CURL_HTTP_VERSION_1_1: "1.1"
        case CURL_HTTP_VERSION_2_0: "2"
        case CURL_HTTP_VERSION_3: "3"
        default: ""
        }
    }

    /// The text without its trailing line ending(s); curl's header lines and error text carry them.
    static func withoutLineEnding(_ text: String) -> String {
        var text = Substring(text)
        // "\r\n" is one Character in Swift, so all three spellings are checked.
        while let last = text.last, last == "\r\n" || last == "\n" || last == "\r" { text = text.dropLast() }
        return String(text)
    }
}
