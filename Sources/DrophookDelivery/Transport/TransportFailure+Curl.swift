import CCurl

extension TransportFailure.Kind {
    /// Classifies a finished transfer's `CURLcode` for the retry policy.
    ///
    /// `errorText` is curl's error buffer: with TLS 1.3 a server that rejects the client
    /// certificate does so after the handshake, so curl reports a receive error whose text
    /// carries the TLS alert; that is a TLS failure, not a flaky network.
    init(curlCode code: CURLcode, errorText: String) {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            self = .dnsFailure
        case CURLE_COULDNT_CONNECT:
            self = .connectFailure
        case CURLE_OPERATION_TIMEDOUT:
            self = .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND,
            CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_USE_SSL_FAILED,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT:
            self = .tlsFailure
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            self = Self.isTLSAlert(errorText) ? .tlsFailure : .connectionReset
        case CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            self = .connectionReset
        case CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING:
            self = .invalidResponse
        case CURLE_UNSUPPORTED_PROTOCOL where errorText.contains("HTTP/0.9") || errorText.contains("in response"):
            // A reply without an HTTP status line (`GARBAGE`, which curl calls HTTP/0.9 and
            // refuses) or with a broken one (`HTTP/1.1 abc`: "Unsupported HTTP version in
            // response"). The receiver's fault, not our request's: the URL's scheme was checked
            // when the config was read.
            self = .invalidResponse
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT,
            CURLE_UNKNOWN_OPTION:
            self = .invalidRequest
        default:
            self = .other
        }
    }

    /// OpenSSL's wording for an alert received from the peer (`… tlsv13 alert certificate required`).
    private static func isTLSAlert(_ text: String) -> Bool {
        text.contains("SSL_") && text.contains("alert")
    }
}

extension TransportFailure {
    /// A failure for a finished transfer, keeping curl's own explanation and code.
    init(curlCode code: CURLcode, errorBuffer: String, duration: Duration) {
        let summary = String(cString: curl_easy_strerror(code))
        let detail = errorBuffer.isEmpty ? summary : "\(errorBuffer) (\(summary))"
        self.init(
            kind: Kind(curlCode: code, errorText: errorBuffer),
            message: "\(detail) [curl \(code.rawValue)]",
            duration: duration
        )
    }
}
