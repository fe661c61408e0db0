import CCurl
import Testing

@testable import DrophookDelivery

@Suite("Curl failure classification")
struct CurlFailureClassificationTests {
    @Test(arguments: [
        (CURLE_COULDNT_RESOLVE_HOST, TransportFailure.Kind.dnsFailure),
        (CURLE_COULDNT_RESOLVE_PROXY, .dnsFailure),
        (CURLE_COULDNT_CONNECT, .connectFailure),
        (CURLE_OPERATION_TIMEDOUT, .timeout),
        (CURLE_PEER_FAILED_VERIFICATION, .tlsFailure),
        (CURLE_SSL_CONNECT_ERROR, .tlsFailure),
        (CURLE_SSL_CERTPROBLEM, .tlsFailure),
        (CURLE_SSL_CACERT_BADFILE, .tlsFailure),
        (CURLE_RECV_ERROR, .connectionReset),
        (CURLE_SEND_ERROR, .connectionReset),
        (CURLE_GOT_NOTHING, .connectionReset),
        (CURLE_URL_MALFORMAT, .invalidRequest),
        (CURLE_UNSUPPORTED_PROTOCOL, .invalidRequest),
        (CURLE_WEIRD_SERVER_REPLY, .invalidResponse),
        (CURLE_OUT_OF_MEMORY, .other),
    ])
    func mapsCurlCodesToRetryKinds(code: CURLcode, kind: TransportFailure.Kind) {
        #expect(TransportFailure.Kind(curlCode: code, errorText: "") == kind)
    }

    @Test func treatsAReplyWithoutAStatusLineAsTheReceiversFault() {
        #expect(
            TransportFailure.Kind(curlCode: CURLE_UNSUPPORTED_PROTOCOL, errorText: "Received HTTP/0.9 when not allowed") == .invalidResponse
        )
        #expect(
            TransportFailure.Kind(curlCode: CURLE_UNSUPPORTED_PROTOCOL, errorText: "Unsupported HTTP version in response")
                == .invalidResponse)
        #expect(TransportFailure.Kind(curlCode: CURLE_UNSUPPORTED_PROTOCOL, errorText: "Protocol \"ftp\" not supported") == .invalidRequest)
        #expect(
            RetryPolicy().classify(TransportFailure(kind: .invalidResponse, message: "", duration: .zero))
                == .retry(reason: "invalidResponse: ", after: nil))
    }

    @Test func treatsATLSAlertDuringReceiveAsATLSFailure() {
        let text = "OpenSSL SSL_read: OpenSSL/3.0.22: error:0A00045C:SSL routines::tlsv13 alert certificate required, errno 0"
        #expect(TransportFailure.Kind(curlCode: CURLE_RECV_ERROR, errorText: text) == .tlsFailure)
        #expect(TransportFailure.Kind(curlCode: CURLE_RECV_ERROR, errorText: "Connection reset by peer") == .connectionReset)
    }

    @Test func keepsCurlsOwnTextAndCodeInTheMessage() {
        let failure = TransportFailure(
            curlCode: CURLE_COULDNT_CONNECT, errorBuffer: "Failed to connect to 127.0.0.1 port 9", duration: .seconds(1)
        )
        #expect(failure.kind == .connectFailure)
        #expect(failure.message == "Failed to connect to 127.0.0.1 port 9 (Couldn't connect to server) [curl 7]")
        #expect(failure.duration == .seconds(1))
    }

    @Test func convertsTimeoutsToWholeMillisecondsOfAtLeastOne() {
        #expect(Duration.milliseconds(1500).curlMilliseconds == 1500)
        #expect(Duration.microseconds(10).curlMilliseconds == 1)
        #expect(Duration.zero.curlMilliseconds == 1)
        #expect(Duration.seconds(Int64.max).curlMilliseconds == Int.max)
    }
}
