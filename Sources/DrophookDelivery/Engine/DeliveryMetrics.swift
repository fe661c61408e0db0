import DrophookOutbox
import Metrics

/// swift-metrics instruments of one endpoint, made once so that the hot path only increments.
struct DeliveryMetrics: Sendable {
    let attempts: [AttemptResult: Counter]
    let delivered: Counter
    let failed: Counter
    let queueDepth: Gauge
    let disabled: Gauge
    let autoDisabled: Counter
    let attemptDuration: Timer

    init(endpoint: String) {
        let dimensions = [("endpoint", endpoint)]
        var attempts: [AttemptResult: Counter] = [:]
        for result in [AttemptResult.delivered, .retry, .failed, .endpointGone] {
            attempts[result] = Counter(
                label: "drophook_delivery_attempts_total",
                dimensions: dimensions + [("result", Self.label(result))]
            )
        }
        self.attempts = attempts
        delivered = Counter(label: "drophook_deliveries_delivered_total", dimensions: dimensions)
        failed = Counter(label: "drophook_deliveries_failed_total", dimensions: dimensions)
        queueDepth = Gauge(label: "drophook_delivery_queue_depth", dimensions: dimensions)
        disabled = Gauge(label: "drophook_endpoint_disabled", dimensions: dimensions)
        autoDisabled = Counter(label: "drophook_endpoint_auto_disabled_total", dimensions: dimensions)
        attemptDuration = Timer(label: "drophook_delivery_attempt_duration_seconds", dimensions: dimensions)
    }

    static func label(_ result: AttemptResult) -> String {
        switch result {
        case .delivered: "delivered"
        case .retry: "retry"
        case .failed: "failed"
        case .endpointGone: "endpoint_gone"
        }
    }
}
