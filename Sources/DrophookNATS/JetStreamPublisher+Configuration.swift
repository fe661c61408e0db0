import CNats

extension JetStreamPublisher {
    /// How a publisher reaches and proves itself to a NATS deployment, as NATS deployments do it.
    public struct Configuration: Sendable, Hashable {
        /// How the publisher authenticates.
        public enum Authentication: Sendable, Hashable {
            case none
            /// A `.creds` file (a user JWT and its NKey seed), as `nsc` writes it.
            case credentialsFile(String)
            /// An NKey: the public key (`U…`) and the file holding its seed (`SU…`).
            case nkey(publicKey: String, seedFile: String)
            case userPassword(user: String, password: String)
            case token(String)
        }

        /// `nats://host:port` (or `tls://`), tried in order and reconnected to by libnats.
        public var servers: [String]
        /// The connection's name, as `nats server report connections` shows it.
        public var name: String
        public var authentication: Authentication
        /// PEM file of CA certificates to trust for the servers' TLS; setting it requires TLS.
        public var caFile: String?
        /// PEM client certificate and key, for servers that verify clients.
        public var clientCertificate: String?
        public var clientKey: String?
        public var connectTimeout: Duration

        public init(
            servers: [String],
            name: String = "drophook",
            authentication: Authentication = .none,
            caFile: String? = nil,
            clientCertificate: String? = nil,
            clientKey: String? = nil,
            connectTimeout: Duration = .seconds(5)
        ) {
            self.servers = servers
            self.name = name
            self.authentication = authentication
            self.caFile = caFile
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.connectTimeout = connectTimeout
        }

        /// Applies the authentication and TLS settings to libnats options; the error says which
        /// setting libnats refused.
        func apply(to options: OpaquePointer) -> (setting: String, status: natsStatus)? {
            var steps: [(String, () -> natsStatus)] = []
            switch authentication {
            case .none: break
            case .credentialsFile(let file):
                steps.append(("credentials file \(file)", { natsOptions_SetUserCredentialsFromFiles(options, file, nil) }))
            case .nkey(let key, let seed): steps.append(("NKey seed file \(seed)", { natsOptions_SetNKeyFromSeed(options, key, seed) }))
            case .userPassword(let user, let password): steps.append(("user \(user)", { natsOptions_SetUserInfo(options, user, password) }))
            case .token(let token): steps.append(("token", { natsOptions_SetToken(options, token) }))
            }
            if let caFile {
                steps.append(("TLS", { natsOptions_SetSecure(options, true) }))
                steps.append(("CA file \(caFile)", { natsOptions_LoadCATrustedCertificates(options, caFile) }))
            }
            if let clientCertificate, let clientKey {
                steps.append(
                    (
                        "client certificate \(clientCertificate)",
                        { natsOptions_LoadCertificatesChain(options, clientCertificate, clientKey) }
                    ))
            }
            for (setting, step) in steps {
                let status = step()
                if status != NATS_OK { return (setting, status) }
            }
            return nil
        }
    }
}
