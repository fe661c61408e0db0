import DrophookTestSupport
import Foundation

/// An HTTP/2-over-TLS receiver on 127.0.0.1: `nghttpd` serving a throwaway docroot with the test
/// CA's server certificate. A POST to a file in the docroot is answered 200 with the file's content.
final class CurlTestHTTP2Server {
    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    static let executable = "/usr/sbin/nghttpd"
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    let port: Int
    private let process: Process
    private let input: Pipe
    private let directory: URL
    private var stopped = false

    /// Starts nghttpd with `files` (name to content) in its docroot and returns once it accepts connections.
    init(certificates: TestCertificates, files: [String: String], startTimeout: Duration = .seconds(10)) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("drophook-curl-h2-\(UUID().uuidString)")
        let docroot = directory.appendingPathComponent("docroot")
        do {
            try FileManager.default.createDirectory(at: docroot, withIntermediateDirectories: true)
            for (name, content) in files {
                try content.write(to: docroot.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
            // nghttpd binds its own port, so one is picked free here; another process taking it in
            // between shows up as a start failure, not a wrong answer.
            let probe = try CurlClosedPort()
            port = probe.port
            probe.release()
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        self.directory = directory
        let errorLog = directory.appendingPathComponent("nghttpd.log")

        // nghttpd does not watch stdin, so a shell does: when the pipe closes (stop(), or this
        // process dying) it kills nghttpd, which therefore never outlives the tests. SIGKILL because
        // nghttpd inherits the test process's signal mask, in which SIGTERM is blocked.
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c",
            #""$0" --address=127.0.0.1 -d "$1" "$2" "$3" "$4" </dev/null >"$5" 2>&1 & server=$!; "#
                + #"cat >/dev/null; kill -KILL "$server"; wait "$server""#,
            Self.executable, docroot.path, String(port), certificates.serverKey, certificates.serverCertificate,
            errorLog.path,
        ]
        input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            // Nothing to wait for: stop() would block on a process that never ran.
            stopped = true
            try? FileManager.default.removeItem(at: directory)
            throw error
        }

        let deadline = ContinuousClock.now + startTimeout
        while !Self.acceptsConnections(port: port) {
            guard ContinuousClock.now < deadline else {
                let log = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
                stop()
                throw StartError(
                    description: "nghttpd did not accept connections on port \(port) within "
                        + "\(startTimeout); its output: \(log)")
            }
            usleep(20_000)
        }
    }

    deinit {
        stop()
    }

    func url(_ path: String) -> String {
        "https://127.0.0.1:\(port)\(path)"
    }

    /// Ends nghttpd and waits for it, then removes the docroot and log; safe to call more than once.
    func stop() {
        guard !stopped else { return }
        stopped = true
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// True when a TCP connect to 127.0.0.1:`port` succeeds, i.e. the server is listening.
    private static func acceptsConnections(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
