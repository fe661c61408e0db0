import Glibc

/// The permissions of the outbox's files: readable by the agent's user only.
enum OutboxFiles {
    /// Creates an empty file at `path` with mode 0600 unless something is there already.
    static func createPrivately(_ path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 { close(descriptor) }
    }

    /// Takes the group and other bits beyond `mode` off a file or directory this process owns.
    /// Someone else's file is left alone: its owner chose, and the open that follows says
    /// whether this user can use it.
    static func restrict(_ path: String, to mode: mode_t) {
        var status = stat()
        guard stat(path, &status) == 0, status.st_uid == geteuid(), status.st_mode & 0o077 & ~mode != 0 else { return }
        chmod(path, status.st_mode & 0o7777 & ~(0o077 & ~mode))
    }
}
