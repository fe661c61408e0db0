import CCurl
import DrophookEvents

// libcurl calls these on the loop thread, from inside curl_multi_perform, with the
// userdata set to an unretained `CurlTransfer` that the loop keeps alive (see CurlTransfer).

/// `CURLOPT_WRITEFUNCTION`: keeps the body up to the cap, then aborts the transfer.
func curlReceiveBody(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
}

/// `CURLOPT_HEADERFUNCTION`: one complete header line per call, CRLF included.
func curlReceiveHeader(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}

extension CurlTransfer {
    /// Returns the number of bytes accepted; anything less makes curl stop with `CURLE_WRITE_ERROR`,
    /// which is how a receiver streaming megabytes back is cut off instead of buffered.
    func receiveBody(_ chunk: UnsafeRawBufferPointer) -> Int {
        let room = maxBodyBytes - body.count
        if chunk.count <= room {
            body.append(contentsOf: chunk)
            return chunk.count
        }
        body.append(contentsOf: chunk.prefix(max(0, room)))
        bodyTruncated = true
        return 0
    }

    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = Self.withoutLineEnding(String(decoding: bytes, as: UTF8.self))
        if line.hasPrefix("HTTP/") {
            // A new status line: interim (1xx) responses' headers are not the answer's.
            responseHeaders.removeAll()
            responseHeaderBytes = 0
            return
        }
        guard !line.isEmpty, responseHeaderBytes + line.utf8.count <= Self.maxResponseHeaderBytes else { return }
        responseHeaderBytes += line.utf8.count
        if line.first == " " || line.first == "\t" {
            // Obsolete line folding continues the previous header's value.
            if !responseHeaders.isEmpty {
                responseHeaders[responseHeaders.count - 1].value += " " + trimmed(Substring(line))
            }
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon])
        let value = trimmed(line[line.index(after: colon)...])
        responseHeaders.append(HTTPHeader(name, value))
    }

    private func trimmed(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
