/// The payload formats a webhook's `format:` may name.
public enum WebhookFormats {
    /// Every known format, in the order they are listed to users.
    public static let all: [any WebhookFormat] = [SFTPToGoFormat(), RilavekFormat(), StandardWebhooksFormat(), CloudEventsFormat()]

    /// The config names of all formats (`sftptogo`, `rilavek`, `standard`, `cloudevents`).
    public static var names: [String] { all.map(\.name) }

    /// The format with this config name, or nil (names are matched exactly).
    public static func named(_ name: String) -> (any WebhookFormat)? {
        all.first { $0.name == name }
    }
}
