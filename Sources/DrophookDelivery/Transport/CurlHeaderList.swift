import CCurl

/// An owned `curl_slist` of request header lines.
///
/// libcurl reads the list during the transfer without copying it, so the owning
/// `CurlTransfer` keeps this alive until its easy handle is cleaned up.
final class CurlHeaderList {
    private(set) var head: UnsafeMutablePointer<curl_slist>?

    init() {}

    /// Appends one header line (`Name: value`); false when libcurl could not allocate it.
    func append(_ line: String) -> Bool {
        guard let newHead = curl_slist_append(head, line) else { return false }
        head = newHead
        return true
    }

    deinit {
        curl_slist_free_all(head)
    }
}
