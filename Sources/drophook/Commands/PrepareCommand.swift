import ArgumentParser
import DrophookAgent
import DrophookSessions
import Glibc

/// `drophook prepare`: what only root can give the service before it starts (the unit runs it
/// as `ExecStartPre=+` and before each reload).
struct PrepareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "As root: give the service user the directories the session log's sockets are bound in.",
        discussion: """
            Each chroot's dev directory belongs to root, and the agent runs as the drophook user: \
            prepare makes a missing dev in each chroot named after an account, and makes an existing \
            one group-writable for the service user's group (root:drophook 0775). The shipped unit \
            runs it before every start and reload, so a chroot added later is bound after \
            `systemctl reload drophook`.
            """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "The account the service runs as.") var user = ServiceUnit.defaultUser

    func run() async throws {
        guard geteuid() == 0 else {
            printError("drophook prepare: must run as root (the unit runs it with ExecStartPre=+); nothing changed")
            throw ExitCode(1)
        }
        guard let account = SocketDirectoryAccess.Account.named(user) else {
            printError("drophook prepare: no account \(user); create it (the package's postinst does) or name the unit's User= with --user")
            throw ExitCode(1)
        }
        let configuration = try options.load()
        let preparation = AgentPreflight.prepareSocketDirectories(configuration, for: account)
        for change in preparation.changes { print("drophook prepare: \(change)") }
        let journal = AgentLogHandler.style() == .journal
        for problem in preparation.problems { printError((journal ? "<4>" : "") + "drophook prepare: " + problem.description) }
    }
}
