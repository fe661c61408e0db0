import ArgumentParser
import DrophookEvents
import Foundation

/// `drophook verify`: checks the signature of a captured request, for receiver developers.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the signature of a captured webhook request.",
        discussion: """
            Reads the request as captured (an optional request line such as `POST /hook HTTP/1.1`, \
            header lines, an empty line, then the raw body) from --request or standard input, finds \
            the scheme by its headers (standard, timestamped, github, hub, rilavek) and says whether \
            the signature and, where the scheme has one, the timestamp window hold. Exits 0 when they \
            do, 1 when not.
            """
    )

    @OptionGroup var secret: SecretOptions
    @Option(help: "File holding the captured request (default: standard input).") var request: String?
    @Option(help: "Check timestamps against this Unix time instead of now.") var now: Int64?
    @Option(help: "Allowed distance of a signed timestamp from now, in seconds.") var window: Int64 = 300
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        guard let key = try secret.load() else { throw ValidationError("give the secret with --secret or --secret-file") }
        let data: Data
        if let request {
            guard let read = FileManager.default.contents(atPath: request) else {
                printError("--request: cannot read '\(request)'; check the path")
                throw ExitCode(2)
            }
            data = read
        } else {
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        let captured = CapturedRequest(Array(data))
        let nowSeconds = now ?? WallClock.nanoseconds() / 1_000_000_000
        let result = SignatureVerifier(secret: key, windowSeconds: window)
            .verify(body: captured.body, headers: captured.headers, nowSeconds: nowSeconds)
        if json {
            printLine(
                JSONValue.object([
                    ("verified", .bool(result.isVerified)),
                    ("scheme", result.scheme.map { .string($0.rawValue) } ?? .null),
                    ("result", .string("\(result)")),
                    ("body_bytes", .int(Int64(captured.body.count))),
                    ("headers", .int(Int64(captured.headers.count))),
                ]).serializedString)
        } else {
            printLine("\(result) — \(captured.body.count) body bytes, \(captured.headers.count) headers")
        }
        if !result.isVerified { throw ExitCode(1) }
    }
}

/// A request as a capture shows it: optional request line, headers, empty line, raw body.
struct CapturedRequest {
    var headers: [HTTPHeader] = []
    var body: [UInt8] = []

    init(_ bytes: [UInt8]) {
        var index = 0
        var first = true
        while index < bytes.count {
            let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var line = bytes[index..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            index = end + 1
            if line.isEmpty { break }
            let text = String(decoding: line, as: UTF8.self)
            defer { first = false }
            guard let colon = text.firstIndex(of: ":") else { continue }
            // `POST /hook HTTP/1.1` has no colon before its first space; a header name has no space.
            if first, text[..<colon].contains(" ") { continue }
            headers.append(
                HTTPHeader(String(text[..<colon]), String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
        }
        body = index < bytes.count ? Array(bytes[index...]) : []
    }
}
