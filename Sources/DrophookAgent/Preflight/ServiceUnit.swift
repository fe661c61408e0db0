import DrophookSessions
import Foundation
import Glibc

/// What `drophook check` knows of the systemd unit the agent runs under, so that it judges
/// paths as the service would wherever it runs.
///
/// - Run by the unit (`ExecStartPre=`), check is the service user inside the unit's mounts:
///   `access(2)` answers exactly.
/// - Run by hand as root, it asks systemd for the unit's `User=`, ambient capabilities,
///   `ProtectSystem=` and writable paths, and judges as that user under those paths; without
///   systemd, as the `drophook` account when there is one.
public enum ServiceUnit {
    /// The unit the package installs.
    public static let name = "drophook.service"
    /// The account the package makes and the unit runs as.
    public static let defaultUser = "drophook"

    /// How the service will meet the session log's socket directories.
    public struct SocketJudgement: Sendable {
        /// Who binds, under which writable paths.
        public var access: SocketDirectoryAccess
        /// Whether the unit runs `drophook prepare` as root before the agent starts, so a
        /// chroot's root-owned or missing `dev` is handed over before anything binds.
        public var preparesChroots: Bool
    }

    /// How socket directories are judged from this process.
    public static func socketJudgement(unit: String = name) -> SocketJudgement {
        guard geteuid() == 0 else {
            return SocketJudgement(access: SocketDirectoryAccess(account: nil, writablePaths: nil), preparesChroots: false)
        }
        if let settings = settings(of: unit) {
            let user = settings["User"].flatMap { $0.isEmpty ? nil : $0 } ?? "root"
            let account = user == "root" ? nil : SocketDirectoryAccess.Account.named(user)
            // `+/usr/bin/drophook prepare` shows as `argv[]=/usr/bin/drophook prepare … ; flags=privileged`.
            let prepares = (settings["ExecStartPreEx"] ?? "").split(separator: "\n").contains {
                $0.contains("drophook prepare") && $0.contains("flags=privileged")
            }
            let searches = (settings["AmbientCapabilities"] ?? "").split(separator: " ").contains("cap_dac_read_search")
            return SocketJudgement(
                access: SocketDirectoryAccess(account: account, writablePaths: writablePaths(settings), searchesEverywhere: searches),
                preparesChroots: prepares)
        }
        return SocketJudgement(
            access: SocketDirectoryAccess(account: SocketDirectoryAccess.Account.named(defaultUser), writablePaths: nil),
            preparesChroots: false)
    }

    /// Under `ProtectSystem=strict`, the paths the unit may still write: `ReadWritePaths=`, its
    /// state and runtime directories, the API file systems, and its private `/tmp`.
    static func writablePaths(_ settings: [String: String]) -> [String]? {
        guard settings["ProtectSystem"] == "strict" else { return nil }
        func list(_ key: String) -> [String] { (settings[key] ?? "").split(separator: " ").map(String.init) }
        // systemctl prints `-PATH` for a path that may be missing and `+PATH` for one seen
        // through the unit's root; both are writable when there.
        let named = list("ReadWritePaths").map { String($0.drop { $0 == "-" || $0 == "+" }) }
        let state = list("StateDirectory").map { "/var/lib/" + $0 }
        let runtime = list("RuntimeDirectory").map { "/run/" + $0 }
        return named + state + runtime + ["/dev", "/proc", "/sys", "/tmp", "/var/tmp"]
    }

    /// The unit's settings from `systemctl show`, or nil when systemd does not know it (no
    /// systemd running, the package not installed).
    static func settings(of unit: String) -> [String: String]? {
        let candidates: [String] = ["/usr/bin/systemctl", "/bin/systemctl"]
        guard let systemctl = candidates.first(where: FileManager.default.isExecutableFile) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: systemctl)
        process.arguments = [
            "show", unit,
            "--property=LoadState,User,ProtectSystem,ReadWritePaths,StateDirectory,RuntimeDirectory,ExecStartPreEx,AmbientCapabilities",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            // systemctl there but not runnable: judged as without systemd.
            return nil
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        var settings: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            // A key printed once per entry (ExecStartPre=, one line a command) keeps every entry.
            let key = String(line[..<equals])
            let value = String(line[line.index(after: equals)...])
            settings[key] = settings[key].map { $0 + "\n" + value } ?? value
        }
        return settings["LoadState"] == "loaded" ? settings : nil
    }
}
