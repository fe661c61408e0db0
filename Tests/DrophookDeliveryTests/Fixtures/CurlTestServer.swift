import DrophookTestSupport
import Foundation

/// A real HTTP/1.1 receiver on 127.0.0.1 for the curl transport tests: a Python 3 script run as a
/// subprocess, recording every request (and every accepted connection) it sees before answering.
///
/// Paths: `/status/<code>` answers that status with two `X-Reply` headers and echoes `X-Request-Id`;
/// `/interim` sends a 103 before its 200; `/redirect` answers 301; `/hang` never answers;
/// `/huge/<bytes>` streams a body of that size; `/reset` closes with SO_LINGER 0 (a TCP reset);
/// `/garbage` answers `GARBAGE` and `/badstatus` `HTTP/1.1 abc` (no HTTP at all, a broken status
/// line); `/drip` sends a valid status line, then one header byte every 200 ms, forever;
/// anything else answers 200 `ok`. An absolute-URI
/// request line (as sent to a forward proxy) is recorded as such and answered the same way, and
/// `CONNECT 127.0.0.1:<port>` opens a tunnel, so the server also serves as a forward proxy.
final class CurlTestServer {
    /// One line of the server's log: an accepted connection, a TLS handshake failure, or a request.
    struct Record: Decodable {
        var connection: Int
        var accepted: Bool?
        var tlsError: String?
        var method: String?
        var target: String?
        var headers: [[String]]?
        var body: String?

        var headerPairs: [(name: String, value: String)] {
            (headers ?? []).map { ($0[0], $0[1]) }
        }

        var bodyBytes: [UInt8] {
            [UInt8](Data(base64Encoded: body ?? "") ?? Data())
        }
    }

    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    let scheme: String
    private let process: Process
    private let input: Pipe
    private let directory: URL
    private let logURL: URL

    /// Starts a server; with `certificates`, it speaks TLS, and with `requireClientCertificate`
    /// it also demands a client certificate signed by the test CA.
    init(certificates: TestCertificates? = nil, requireClientCertificate: Bool = false) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("drophook-curl-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let scriptURL = directory.appendingPathComponent("server.py")
        try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)
        logURL = directory.appendingPathComponent("requests.jsonl")

        var arguments = [scriptURL.path, "--log", logURL.path]
        if let certificates {
            arguments += ["--cert", certificates.serverCertificate, "--key", certificates.serverKey]
            if requireClientCertificate {
                arguments += ["--client-ca", certificates.caCertificate]
            }
        }
        scheme = certificates == nil ? "http" : "https"

        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = arguments
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()

        // The script prints its ephemeral port once it listens; EOF before that means it died.
        var printed = Data()
        while !printed.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            printed += chunk
        }
        guard let line = String(data: printed, encoding: .utf8)?.split(separator: "\n").first,
            let port = Int(line.trimmingCharacters(in: .whitespaces))
        else {
            process.terminate()
            throw StartError(description: "test server did not start (python3 at \(Self.python)); output: \(printed)")
        }
        self.port = port
    }

    deinit {
        stop()
    }

    func url(_ path: String) -> String {
        "\(scheme)://127.0.0.1:\(port)\(path)"
    }

    /// Every request read so far, in arrival order.
    func requests() throws -> [Record] {
        try records().filter { $0.method != nil }
    }

    /// How many TCP connections the server accepted.
    func acceptedConnections() throws -> Int {
        try records().filter { $0.accepted == true }.count
    }

    func records() throws -> [Record] {
        guard FileManager.default.fileExists(atPath: logURL.path) else { return [] }
        let text = try String(contentsOf: logURL, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try JSONDecoder().decode(Record.self, from: Data($0.utf8))
        }
    }

    /// Ends the subprocess (closing its stdin ends it even if this process is killed) and removes its files.
    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private static let python: String = {
        let candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/python3"
    }()
}

extension CurlTestServer {
    /// The server script, kept here rather than as a loose file so the test target needs no resources.
    static let script = #"""
        # HTTP/1.1 test receiver for the curl transport tests: records every request it reads as a
        # JSON line (before answering), and answers according to the path. Exits when stdin closes,
        # so it never outlives the test process.
        import base64, json, os, socket, ssl, struct, sys, threading, time

        args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
        log_lock = threading.Lock()
        log = open(args["--log"], "a", buffering=1)
        connection_ids = iter(range(1, 1 << 30))

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(512)

        context = None
        if "--cert" in args:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(args["--cert"], args["--key"])
            if "--client-ca" in args:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(args["--client-ca"])

        def record(entry):
            with log_lock:
                log.write(json.dumps(entry) + "\n")

        def read_request(conn, buffer):
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    return None, buffer
                buffer += chunk
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = [[n, v.strip()] for n, v in (line.split(":", 1) for line in lines[1:])]
            length = int(next((v for n, v in headers if n.lower() == "content-length"), "0"))
            while len(buffer) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return None, buffer
                buffer += chunk
            body, buffer = buffer[:length], buffer[length:]
            return (method, target, headers, body), buffer

        def respond(conn, status, headers, body):
            lines = ["HTTP/1.1 %d Test" % status, "Content-Length: %d" % len(body)]
            lines += ["%s: %s" % h for h in headers]
            conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

        def tunnel(conn, authority, buffer):
            # A forward proxy's CONNECT, to loopback only: relay bytes both ways until either side closes.
            host, port = authority.rsplit(":", 1)
            if host != "127.0.0.1":
                respond(conn, 403, [], b"loopback only")
                return
            upstream = socket.create_connection((host, int(port)))
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if buffer:
                upstream.sendall(buffer)
            def relay(source, destination):
                try:
                    while True:
                        chunk = source.recv(65536)
                        if not chunk:
                            break
                        destination.sendall(chunk)
                except OSError:
                    pass
                finally:
                    for side in (source, destination):
                        try:
                            side.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
            other = threading.Thread(target=relay, args=(upstream, conn), daemon=True)
            other.start()
            relay(conn, upstream)
            other.join()
            upstream.close()

        def serve(conn, connection_id):
            buffer = b""
            try:
                while True:
                    request, buffer = read_request(conn, buffer)
                    if request is None:
                        return
                    method, target, headers, body = request
                    record({"connection": connection_id, "method": method, "target": target,
                            "headers": headers, "body": base64.b64encode(body).decode()})
                    if method == "CONNECT":
                        tunnel(conn, target, buffer)
                        return
                    path = target.split("://", 1)[-1]
                    path = path[path.find("/"):] if "://" in target else target
                    parts = path.strip("/").split("/")
                    request_id = next((v for n, v in headers if n.lower() == "x-request-id"), "")
                    if parts[0] == "status":
                        status = int(parts[1])
                        respond(conn, status, [("X-Reply", "first"), ("X-Reply", "second"), ("X-Echo-Id", request_id)],
                                ("status %d for %s" % (status, request_id)).encode())
                    elif parts[0] == "interim":
                        conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
                        respond(conn, 200, [("X-Final", "yes")], b"final")
                    elif parts[0] == "redirect":
                        respond(conn, 301, [("Location", "/status/200")], b"moved")
                    elif parts[0] == "hang":
                        while conn.recv(65536):
                            pass
                        return
                    elif parts[0] == "huge":
                        size = int(parts[1])
                        conn.sendall(("HTTP/1.1 200 Test\r\nContent-Length: %d\r\n\r\n" % size).encode())
                        chunk = b"x" * 65536
                        sent = 0
                        while sent < size:
                            n = min(len(chunk), size - sent)
                            conn.sendall(chunk[:n])
                            sent += n
                    elif parts[0] == "garbage":
                        conn.sendall(b"GARBAGE\r\n\r\n")
                        return
                    elif parts[0] == "badstatus":
                        conn.sendall(b"HTTP/1.1 abc\r\n\r\n")
                        return
                    elif parts[0] == "drip":
                        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
                        while True:
                            conn.sendall(b"d")
                            time.sleep(0.2)
                    elif parts[0] == "reset":
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        return
                    else:
                        respond(conn, 200, [("X-Echo-Id", request_id)], b"ok")
            except (OSError, ssl.SSLError):
                return
            finally:
                conn.close()

        def accept_loop():
            while True:
                conn, _ = listener.accept()
                connection_id = next(connection_ids)
                record({"connection": connection_id, "accepted": True})
                def start(conn=conn, connection_id=connection_id):
                    if context is not None:
                        conn = context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
                        try:
                            conn.do_handshake()
                        except (OSError, ssl.SSLError) as error:
                            record({"connection": connection_id, "tlsError": str(error)})
                            # Drain before closing: closing with unread input sends a TCP reset,
                            # which can overtake the TLS alert the client should see.
                            raw = socket.socket(fileno=conn.detach())
                            try:
                                raw.settimeout(2)
                                raw.shutdown(socket.SHUT_WR)
                                while raw.recv(65536):
                                    pass
                            except OSError:
                                pass
                            raw.close()
                            return
                    serve(conn, connection_id)
                threading.Thread(target=start, daemon=True).start()

        threading.Thread(target=accept_loop, daemon=True).start()
        print(listener.getsockname()[1], flush=True)
        sys.stdin.read()
        os._exit(0)
        """#
}
