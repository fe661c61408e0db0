/// The version `drophook --version` prints and the `User-Agent` carries.
public enum AgentVersion {
    public static let description = "0.2.0"
}
