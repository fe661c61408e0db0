import DrophookEvents
import DrophookNATS
import Foundation
import Glibc

/// `drophook-bench jetstream [messages]`: messages per second into a single-node JetStream
/// stream on loopback, each acknowledged by the stream, at several numbers in flight, by the
/// publisher alone and through the delivery engine (beside the same events over HTTP). Starts
/// its own `nats-server` (Debian's) on a free port and removes its store afterwards.
struct JetStreamBenchmark {
    var messages: Int

    func run() async throws {
        let directory = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = 20_000 + Int(getpid() % 20_000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/sbin/nats-server")
        server.arguments = ["-js", "-a", "127.0.0.1", "-p", "\(port)", "-sd", directory + "/store"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let url = "nats://127.0.0.1:\(port)"
        var publisher: JetStreamPublisher?
        for _ in 0..<100 where publisher == nil {
            publisher = try? JetStreamPublisher(servers: [url], connectTimeout: .seconds(1))
            if publisher == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard let publisher else { throw JetStreamError(.connect, "nats-server did not start on \(url)") }
        defer { publisher.close() }
        try publisher.ensureStream(.init(name: "BENCH", subjects: ["sftp.>"]))
        let body = Array(#"{"Topic":"file.created","Data":{"Path":"batch/invoice-000123.csv","Size":1024}}"#.utf8)

        print("| in flight | messages | seconds | messages/s (acknowledged) |")
        print("|---|---|---|---|")
        var offset = 0
        for inFlight in [1, 8, 32] {
            let start = ContinuousClock.now
            let base = offset
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<inFlight {
                    group.addTask {
                        var index = lane
                        while index < messages {
                            _ = try await publisher.publish(
                                subject: "sftp.bench.uploads.file.created", messageID: "m-\(base + index)", body: body)
                            index += inFlight
                        }
                    }
                }
                try await group.waitForAll()
            }
            offset += messages
            let seconds = (ContinuousClock.now - start).secondsDouble
            print(
                "| \(inFlight) | \(messages) | \(String(format: "%.2f", seconds)) | \(String(format: "%.0f", Double(messages) / seconds)) |"
            )
        }

        // The same events through the delivery engine (outbox claim → sign → send → record),
        // into the stream and, for comparison, to an HTTP receiver.
        print("")
        print("| measurement | events | batch | time (s) | per second | commits |")
        print("|---|---|---|---|---|---|")
        let bench = DeliveryBenchmark(events: messages)
        for concurrency in [8, 32] {
            let transport = JetStreamTransport(.init(connection: .init(servers: [url])))
            defer { transport.close() }
            try await bench.engineRate(count: messages, concurrency: concurrency, stream: transport)
            try await bench.engineRate(count: messages, concurrency: concurrency)
        }
    }
}
