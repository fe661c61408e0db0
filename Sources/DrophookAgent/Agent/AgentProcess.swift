import Foundation
import Logging
import Metrics
import Prometheus

/// Process-wide set-up for `drophook run`: logs to standard error, metrics into a Prometheus registry.
public enum AgentProcess {
    /// Bootstraps logging and metrics once per process and returns the registry `/metrics` serves.
    public static func bootstrap(logLevel: Logger.Level) -> PrometheusCollectorRegistry {
        // libcurl runs with CURLOPT_NOSIGNAL and leaves SIGPIPE to the application: a receiver
        // closing its end mid-request must fail that request, not kill the agent.
        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
