import CCurl

/// The libcurl version line, e.g. `libcurl/7.88.1 OpenSSL/3.0.22 …`, for `drophook --version` and logs.
public var curlVersion: String {
    CurlLibrary.initialize()
    return String(cString: curl_version())
}

/// Process-wide libcurl state: `curl_global_init` must run exactly once, before any other thread uses curl.
enum CurlLibrary {
    /// Swift runs a global's initializer once, thread-safely, on first access.
    private static let initialization: CURLcode = drophook_global_init()

    /// Initializes libcurl if it was not yet; safe to call from any thread, any number of times.
    @discardableResult
    static func initialize() -> CURLcode {
        initialization
    }

}
