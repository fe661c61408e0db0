import Foundation

/// A throwaway PKI made with the `openssl` CLI (shared by the curl and NATS TLS tests): a CA, a server certificate for IP 127.0.0.1,
/// and a client certificate for mTLS, all signed by that CA. Removed by `remove()`.
public struct TestCertificates: Sendable {
    public struct OpenSSLError: Error, CustomStringConvertible {
        public var description: String
    }

    public let directory: URL
    public var caCertificate: String { path("ca.pem") }
    public var serverCertificate: String { path("server.pem") }
    public var serverKey: String { path("server.key") }
    public var clientCertificate: String { path("client.pem") }
    public var clientKey: String { path("client.key") }

    /// - Parameters:
    ///   - serverDays: the server certificate's validity; -1 makes one that expired yesterday.
    ///   - selfSignedServer: the server certificate signs itself instead of being the CA's.
    public init(serverDays: Int = 2, selfSignedServer: Bool = false) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("drophook-curl-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            ["req", "-x509"] + curve + [
                // A unique CA name: OpenSSL finds issuers by name, so two test CAs must not share one.
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=drophook test CA \(UUID().uuidString.prefix(8))",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        if selfSignedServer {
            try openssl(
                ["req", "-x509"] + curve + [
                    "-keyout", "server.key", "-out", "server.pem", "-days", "\(serverDays)", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "extendedKeyUsage=serverAuth",
                ])
        } else {
            try issue(
                "server", subject: "/CN=127.0.0.1", days: serverDays,
                extensions: "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        }
        try issue("client", subject: "/CN=drophook test client", extensions: "extendedKeyUsage=clientAuth\n")
    }

    /// A directory holding the CA certificate under its OpenSSL subject-hash name, laid out like
    /// /etc/ssl/certs, standing in for the system store.
    public func makeHashedCADirectory() throws -> String {
        let directory = path("hashed")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: caCertificate, toPath: "\(directory)/ca.pem")
        try openssl(["rehash", directory])
        return directory
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func issue(_ name: String, subject: String, days: Int = 2, extensions: String) throws {
        let extensionsFile = "\(name).ext"
        try ("basicConstraints=CA:FALSE\n" + extensions).write(
            toFile: path(extensionsFile), atomically: true, encoding: .utf8
        )
        try openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject,
        ])
        try openssl([
            "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", "\(UInt32.random(in: 1...UInt32.max))", "-days", "\(days)",
            "-extfile", extensionsFile, "-out", "\(name).pem",
        ])
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OpenSSLError(
                description: "openssl \(arguments.joined(separator: " ")) failed: "
                    + (String(data: message, encoding: .utf8) ?? ""))
        }
    }

    private func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }
}
