import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// The agent's local HTTP surface: Prometheus `/metrics` and a JSON `/health`.
///
/// Bound to the `metrics.listen` address only (loopback by default); it exposes counts,
/// never payloads or secrets. If it cannot run (the port is taken), the error is logged and
/// the agent goes on delivering: losing metrics must not stop webhooks.
struct MetricsEndpoint: Service {
    let address: ListenAddress
    let registry: PrometheusCollectorRegistry
    let health: @Sendable () async -> AgentStatus
    let logger: Logger

    func run() async throws {
        do {
            try await application().run()
        } catch {
            logger.error("metrics endpoint on \(address) stopped: \(error); webhooks are still delivered")
        }
    }

    /// A Hummingbird application serving the two routes.
    func application() -> some ApplicationProtocol {
        let router = Router()
        let registry = registry
        let health = health
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
        router.get("/health") { _, _ -> Response in
            let status = await health()
            return Response(
                status: status.healthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: status.jsonBytes()))
            )
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            logger: logger
        )
    }
}
