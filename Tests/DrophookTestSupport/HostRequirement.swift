import Foundation
import Glibc
import Testing

/// Something a test needs from the machine (root, a server binary, a Python module). Outside
/// CI a test whose requirement is missing is skipped, as Swift Testing skips any disabled test.
/// In CI (`CI=true`) a skip would make a whole suite vanish unnoticed when a package is not
/// installed or a binary moves, so a missing requirement fails the test instead, naming what
/// is missing and how to get it; only ``mayBeMissingInCI`` (what a host may lack however it is
/// set up) still skips, and `.ci/run` prints that list.
public enum HostRequirement: String, Sendable, CaseIterable {
    case root
    case setpriv
    case unshare
    case bindfs
    case sshd
    case paramiko
    case natsServer = "nats-server"
    case nghttpd
    case journalRemote = "systemd-journal-remote"
    case ipv6Loopback = "IPv6 loopback"

    /// Requirements a CI machine may lack through no fault of its setup: a container without
    /// `::1` cannot be given one by installing a package.
    public static let mayBeMissingInCI: Set<HostRequirement> = [.ipv6Loopback]

    /// Whether this machine has it now.
    public var isMet: Bool {
        switch self {
        case .root: getuid() == 0
        case .setpriv: access("/usr/bin/setpriv", X_OK) == 0
        case .unshare: access("/usr/bin/unshare", X_OK) == 0
        case .bindfs: access("/usr/bin/bindfs", X_OK) == 0
        case .sshd: OpenSSHServer.isAvailable
        case .paramiko: Self.debianPythonHasParamiko
        case .natsServer: access("/usr/sbin/nats-server", X_OK) == 0
        case .nghttpd: access("/usr/sbin/nghttpd", X_OK) == 0
        case .journalRemote: access("/lib/systemd/systemd-journal-remote", X_OK) == 0
        case .ipv6Loopback: Self.canBindIPv6Loopback
        }
    }

    /// What to do about it, for the failure's message.
    public var remedy: String {
        switch self {
        case .root: "run the tests as root (CI does)"
        case .setpriv, .unshare: "install util-linux (/usr/bin/\(rawValue))"
        case .bindfs: "install bindfs"
        case .sshd: "install openssh-server and openssh-client (/usr/sbin/sshd, /usr/bin/sftp)"
        case .paramiko: "install python3-paramiko for /usr/bin/python3"
        case .natsServer: "install nats-server (/usr/sbin/nats-server)"
        case .nghttpd: "install nghttp2-server (/usr/sbin/nghttpd)"
        case .journalRemote: "install systemd-journal-remote (/lib/systemd/systemd-journal-remote)"
        case .ipv6Loopback: "give the machine an ::1 loopback address"
        }
    }

    /// Whether this run is CI's: the variable every CI system sets, which `.ci/run` sets too.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// True when every requirement is met; false (skip) when one is missing outside CI or is
    /// allowed to be missing in CI; throws (the test fails) when CI lacks one it must have.
    public static func evaluate(_ requirements: [HostRequirement]) throws -> Bool {
        let missing = requirements.filter { !$0.isMet }
        guard !missing.isEmpty else { return true }
        guard isCI else { return false }
        let required = missing.filter { !mayBeMissingInCI.contains($0) }
        guard required.isEmpty else { throw MissingHostRequirement(missing: required) }
        return false
    }

    /// Asked once per run: it starts a Python.
    private static let debianPythonHasParamiko = OpenSSHServer.hasParamiko

    private static let canBindIPv6Loopback: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
    }()
}

/// A CI run lacks something a test needs: the test fails instead of being skipped.
public struct MissingHostRequirement: Error, CustomStringConvertible {
    public var missing: [HostRequirement]
    public var description: String {
        "CI=true and this test needs \(missing.map(\.rawValue).joined(separator: ", ")), which this machine lacks: "
            + missing.map(\.remedy).joined(separator: "; ")
            + " (packaging/dev.sh deps installs what a package gives)"
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only where `requirements` are met; see ``HostRequirement`` for CI.
    public static func requires(_ requirements: HostRequirement..., sourceLocation: SourceLocation = #_sourceLocation) -> Self {
        .enabled("needs \(requirements.map(\.rawValue).joined(separator: ", "))", sourceLocation: sourceLocation) {
            try HostRequirement.evaluate(requirements)
        }
    }
}
