import Foundation
import FoundationNetworking
import Testing

/// The agent's own HTTP listener (`metrics: {listen: …}`) as a monitoring system reads it:
/// `/health` for a status code and the status, `/metrics` for values by name.
struct AgentEndpoints: Sendable {
    let port: Int

    /// A port nothing listens on now: a receiver is started on port 0 and stopped.
    static func free() async throws -> AgentEndpoints {
        AgentEndpoints(port: try await EndToEndTests.freePort())
    }

    /// The YAML line that makes the agent listen here.
    var configLine: String { "metrics: {listen: 127.0.0.1:\(port)}" }

    /// `/health`'s status code and body.
    func health() async throws -> (status: Int, body: String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/health")!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// The value of the first sample of `name` (with exactly these labels, `name{…}` spelt out
    /// when it has any), or nil when `/metrics` has no such line.
    func metric(_ name: String) async throws -> Double? {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
