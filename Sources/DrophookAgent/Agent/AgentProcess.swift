import Foundation
import Logging
import Metrics
import Prometheus

/// Process-wide set-up for `drophook run`: logs to standard error, metrics into a Prometheus registry.
public enum AgentProcess {
    /// The level every logger of the process uses; `log_level:` sets it, and a reload changes it.
    public static let logLevel = LogLevelSetting(.info)

    /// Bootstraps logging and metrics once per process and returns the registry `/metrics` serves.
    public static func bootstrap(logLevel level: Logger.Level) -> PrometheusCollectorRegistry {
        // libcurl runs with CURLOPT_NOSIGNAL and leaves SIGPIPE to the application: a receiver
        // closing its end mid-request must fail that request, not kill the agent.
        signal(SIGPIPE, SIG_IGN)
        logLevel.value = level
        let style = AgentLogHandler.style()
        LoggingSystem.bootstrap { label in
            AgentLogHandler(label: label, style: style, level: logLevel)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
