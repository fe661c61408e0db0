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

    /// One header line, parsed on its bytes: it runs for every header of every response, and
    /// Character-level String work here was a measurable share of a webhook's CPU.
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var line = bytes[...]
        while let last = line.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: "\n") {
            line = line.dropLast()
        }
        if line.starts(with: "HTTP/".utf8) {
            // A new status line: interim (1xx) responses' headers are not the answer's.
            responseHeaders.removeAll()
            responseHeaderBytes = 0
            return
        }
        guard let first = line.first, responseHeaderBytes + line.count <= Self.maxResponseHeaderBytes else { return }
        responseHeaderBytes += line.count
        if Self.isBlank(first) {
            // Obsolete line folding continues the previous header's value.
            if !responseHeaders.isEmpty {
                responseHeaders[responseHeaders.count - 1].value += " " + Self.trimmed(line)
            }
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = String(decoding: line[..<colon], as: UTF8.self)
        responseHeaders.append(HTTPHeader(name, Self.trimmed(line[(colon + 1)...])))
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        var text = bytes
        while let first = text.first, isBlank(first) { text = text.dropFirst() }
        while let last = text.last, isBlank(last) { text = text.dropLast() }
        return String(decoding: text, as: UTF8.self)
    }
}
