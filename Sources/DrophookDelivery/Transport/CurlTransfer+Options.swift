import CCurl
import DrophookEvents

#if canImport(Glibc)
    import Glibc
#endif

extension CurlTransfer {
    /// Sets every option for one webhook POST; throws an `invalidRequest` failure naming what was refused.
    func configure(for request: WebhookRequest, transport: CurlTransport.Configuration) throws(TransportFailure) {
        let options = request.options
        try set(CURLOPT_URL, request.url, "url")
        try set(CURLOPT_PROTOCOLS_STR, "http,https", "protocols")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https", "redirect protocols")
        try set(CURLOPT_FOLLOWLOCATION, 0, "follow location")
        try set(CURLOPT_NOSIGNAL, 1, "no signal")
        // No CURLOPT_PIPEWAIT: it would hold every further request to a host until the first
        // connection's response reveals whether it multiplexes, so one hanging HTTP/1.1
        // receiver would stall that endpoint's other requests.
        try set(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS, "HTTP version")
        try set(CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeout.curlMilliseconds, "connect timeout")
        try set(CURLOPT_TIMEOUT_MS, options.totalTimeout.curlMilliseconds, "total timeout")
        try set(CURLOPT_TCP_KEEPALIVE, 1, "TCP keepalive")
        try set(CURLOPT_TCP_KEEPIDLE, transport.tcpKeepAliveIdle.curlSeconds, "TCP keepalive idle")
        try set(CURLOPT_TCP_KEEPINTVL, transport.tcpKeepAliveIdle.curlSeconds, "TCP keepalive interval")
        try set(CURLOPT_MAXLIFETIME_CONN, transport.maxConnectionLifetime.curlSeconds, "connection lifetime")
        try set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1, "suppress proxy CONNECT headers")
        try check(drophook_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer), "error buffer")

        try configureTLS(options, transport: transport)
        if let proxy = options.proxy {
            // An empty string means "connect directly", ignoring the proxy environment.
            try set(CURLOPT_PROXY, proxy, "proxy")
        }
        try configureHeaders(request.headers, userAgent: transport.userAgent)
        switch request.method {
        case .post:
            try configureBody(request.body)
        case .options:
            // No body: curl's default (GET) carries none, and the method is renamed.
            try set(CURLOPT_CUSTOMREQUEST, "OPTIONS", "method")
        }

        let userdata = Unmanaged.passUnretained(self).toOpaque()
        try check(drophook_easy_setopt_write_function(easy, curlReceiveBody), "write function")
        try check(drophook_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, userdata), "write data")
        try check(drophook_easy_setopt_header_function(easy, curlReceiveHeader), "header function")
        try check(drophook_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, userdata), "header data")
    }

    private func configureTLS(_ options: TransportOptions, transport: CurlTransport.Configuration) throws(TransportFailure) {
        try set(CURLOPT_SSL_VERIFYPEER, 1, "verify peer")
        try set(CURLOPT_SSL_VERIFYHOST, 2, "verify host")
        if let caFile = options.caFile {
            try set(CURLOPT_CAINFO, caFile, "CA file")
            // CAINFO replaces the default bundle; the hashed system directory keeps public CAs trusted too.
            if let directory = transport.systemCADirectory, access(directory, R_OK) == 0 {
                try set(CURLOPT_CAPATH, directory, "CA directory")
            }
        }
        if let certificate = options.clientCertificateFile {
            try set(CURLOPT_SSLCERT, certificate, "client certificate")
        }
        if let key = options.clientKeyFile {
            try set(CURLOPT_SSLKEY, key, "client key")
        }
    }

    private func configureHeaders(_ headers: [HTTPHeader], userAgent: String) throws(TransportFailure) {
        var present = Set<String>()
        for header in headers {
            guard header.isSendable else {
                throw TransportFailure(
                    kind: .invalidRequest,
                    message: "header \(header.name.debugDescription) has a name or value that cannot be sent "
                        + "(empty name, or a colon, space, CR, LF or NUL where not allowed); fix the endpoint's headers",
                    duration: .zero
                )
            }
            present.insert(header.name.lowercased())
            // "Name:" would tell curl to drop the header; "Name;" is its spelling for an empty value.
            try append(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        if !present.contains("content-type") {
            // Otherwise curl labels the body application/x-www-form-urlencoded, which it is not.
            try append("Content-Type:")
        }
        if !present.contains("expect") {
            // An empty Expect stops curl waiting for 100-continue on larger bodies.
            try append("Expect:")
        }
        if !present.contains("user-agent") {
            try set(CURLOPT_USERAGENT, userAgent, "user agent")
        }
        try check(drophook_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, requestHeaders.head), "headers")
    }

    private func configureBody(_ body: [UInt8]) throws(TransportFailure) {
        try check(drophook_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "body size")
        // COPYPOSTFIELDS takes its own copy (of the size set just above), so the array need not outlive this call.
        let code = body.withUnsafeBufferPointer { buffer -> CURLcode in
            let base = buffer.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) }
            guard let base else {
                var empty: CChar = 0
                return drophook_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, &empty)
            }
            return drophook_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, base)
        }
        try check(code, "body")
    }

    private func append(_ line: String) throws(TransportFailure) {
        guard requestHeaders.append(line) else {
            throw TransportFailure(kind: .other, message: "out of memory building request headers", duration: .zero)
        }
    }

    private func set(_ option: CURLoption, _ value: Int, _ name: String) throws(TransportFailure) {
        try check(drophook_easy_setopt_long(easy, option, value), name)
    }

    private func set(_ option: CURLoption, _ value: String, _ name: String) throws(TransportFailure) {
        // libcurl copies string options (all but POSTFIELDS), so the C string need only live for the call.
        try check(drophook_easy_setopt_string(easy, option, value), name)
    }

    private func check(_ code: CURLcode, _ name: String) throws(TransportFailure) {
        guard code != CURLE_OK else { return }
        throw TransportFailure(
            kind: .invalidRequest,
            message: "libcurl refused the \(name) option: \(String(cString: curl_easy_strerror(code))) [curl \(code.rawValue)]",
            duration: .zero
        )
    }
}

extension HTTPHeader {
    /// True when the header can go on the wire as given: a token name and a value without line breaks.
    var isSendable: Bool {
        guard !name.isEmpty else { return false }
        let nameIsToken = name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
        let valueIsLine = !value.utf8.contains { $0 == 0x0A || $0 == 0x0D || $0 == 0 }
        return nameIsToken && valueIsLine
    }
}

extension Duration {
    /// Whole milliseconds for a curl timeout, at least 1 (0 would mean "no timeout" to curl).
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        let milliseconds = seconds.multipliedReportingOverflow(by: 1000)
        guard !milliseconds.overflow else { return Int.max }
        return Int(max(1, milliseconds.partialValue + attoseconds / 1_000_000_000_000_000))
    }

    /// Whole seconds, at least 1.
    var curlSeconds: Int {
        Int(max(1, components.seconds))
    }
}
