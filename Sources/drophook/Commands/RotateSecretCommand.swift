import ArgumentParser
import DrophookAgent
import DrophookDelivery
import DrophookEvents
import Foundation

/// `drophook rotate-secret WEBHOOK`: a new signing secret, with an overlap in which receivers
/// holding either secret accept requests.
struct RotateSecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-secret",
        abstract: "Generate a new signing secret for a webhook and keep the old one signing during an overlap.",
        discussion: """
            With secret_file, the file is rewritten: the new secret first, the previous one with the \
            time its overlap ends (Standard Webhooks signs with both meanwhile; schemes with room for \
            one signature sign with the new one). Reload the agent afterwards (SIGHUP). With an inline \
            secret, the new secret is printed for you to place. The secret is printed once, never logged.
            """
    )

    @Argument(help: "The webhook's name.") var webhook: String
    @Option(help: "How long the previous secret keeps signing (e.g. 24h; 0s ends it now).") var overlap: String = "24h"
    @OptionGroup var config: ConfigOptions
    @Flag(help: "Print the new secret (and where it went) as JSON.") var json = false

    func run() throws {
        let configuration = try config.load()
        guard let hook = configuration.endpoints.first(where: { $0.name == webhook }) else {
            printError("no webhook is named '\(webhook)'; known: \(configuration.endpoints.map(\.name).joined(separator: ", "))")
            throw ExitCode(2)
        }
        let overlapDuration: Duration
        do {
            overlapDuration = try DurationParser.parse(overlap)
        } catch {
            printError("--overlap: \(error)")
            throw ExitCode(2)
        }
        let scheme = hook.signature ?? hook.payloadFormat.defaultSignature
        let fresh = KeygenCommand.newSecret(for: scheme, like: hook.secret)
        guard let file = hook.secretFile else {
            if json {
                printLine(Self.json(webhook: webhook, fresh: fresh, file: nil, previousUntil: nil))
                return
            }
            printLine("new secret for \(webhook): \(fresh.secret)")
            if let key = fresh.publicKey { printLine("public key for receivers: \(key)") }
            printLine(
                "Replace `secret:` of webhook \(webhook) with it and reload the agent. An inline secret has no overlap; use secret_file for one."
            )
            return
        }
        let now = WallClock.nanoseconds() / 1_000_000_000
        let until = now + overlapDuration.components.seconds
        var secrets = [SigningSecret(Array(fresh.secret.utf8))]
        // Only a scheme that carries several signatures gains anything from the old secret.
        if scheme.signsWithEverySecret, until > now {
            if let current = hook.secret { secrets.append(SigningSecret(current, untilSeconds: until)) }
            secrets += hook.previousSecrets.filter { ($0.untilSeconds ?? 0) > now }
        }
        let text = SecretFile.render(secrets)
        let temporary = file + ".new"
        // The new file keeps the old one's owner, group and mode: the agent (the drophook user
        // of the packaged unit) must still be able to read it after root rotated it.
        var old = stat()
        let kept = stat(file, &old) == 0
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]),
            !kept || (chown(temporary, old.st_uid, old.st_gid) == 0 && chmod(temporary, old.st_mode & 0o7777) == 0),
            rename(temporary, file) == 0
        else {
            printError("cannot write '\(file)'; check that this user may write it and its directory")
            throw ExitCode(1)
        }
        if json {
            printLine(Self.json(webhook: webhook, fresh: fresh, file: file, previousUntil: secrets.count > 1 ? until : nil))
            return
        }
        printLine("new secret for \(webhook): \(fresh.secret)")
        if let key = fresh.publicKey { printLine("public key for receivers: \(key)") }
        if secrets.count > 1 {
            printLine("the previous secret keeps signing until \(SecretFile.formatTime(until)); written to \(file)")
        } else {
            printLine("written to \(file); \(scheme.rawValue) carries one signature, so the new secret signs alone")
        }
        printLine("reload the agent to sign with it: systemctl reload drophook (or kill -HUP its pid)")
    }

    static func json(webhook: String, fresh: (secret: String, publicKey: String?), file: String?, previousUntil: Int64?) -> String {
        JSONValue.object([
            ("webhook", .string(webhook)),
            ("secret", .string(fresh.secret)),
            ("public_key", fresh.publicKey.map(JSONValue.string) ?? .null),
            ("file", file.map(JSONValue.string) ?? .null),
            ("previous_signs_until", previousUntil.map { .string(SecretFile.formatTime($0)) } ?? .null),
        ]).serializedString
    }
}
