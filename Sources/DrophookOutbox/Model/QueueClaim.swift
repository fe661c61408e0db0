/// What a delivery worker may take from its endpoint's queue in one look, decided from the
/// endpoint's run-time state inside the claiming transaction.
public enum ClaimRule: Sendable, Hashable {
    /// Nothing: the endpoint is disabled, or full.
    case nothing
    /// Up to `limit` due deliveries, earliest due first, then oldest event.
    case anyDue(limit: Int)
    /// The one delivery at the head of the queue (strict event order), if it is due. A head
    /// already `delivering` is taken again only when `reclaimOrphan` says no attempt holds it:
    /// a claim whose attempt could not be recorded must not stop an ordered endpoint for good.
    case head(reclaimOrphan: Bool)
    /// Only `drophook ping` deliveries, up to `limit` (a paused endpoint still answers pings).
    case pingsOnly(limit: Int)
}

/// What one look at an endpoint's queue found.
public struct QueueClaim: Sendable {
    /// The endpoint's run-time state (pause override, disabled, failing since).
    public var endpoint: EndpointState
    /// The deliveries claimed (now `delivering`).
    public var jobs: [DeliveryJob]
    /// When the earliest pending delivery left unclaimed falls due; nil when none is pending.
    public var nextDueMillis: Int64?

    init(endpoint: EndpointState, jobs: [DeliveryJob], nextDueMillis: Int64?) {
        self.endpoint = endpoint
        self.jobs = jobs
        self.nextDueMillis = nextDueMillis
    }
}
