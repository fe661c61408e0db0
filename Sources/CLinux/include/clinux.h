// Linux calls that the Swift Glibc module does not export (GNU extensions, <sys/vfs.h>, <malloc.h>),
// wrapped as small inline functions. Only edge files use them: the watcher's, and the session
// log's sockets (SCM_CREDENTIALS, defined in clinux.c: <sys/socket.h> stays out of this header,
// whose _GNU_SOURCE view of it would clash with other modules' view of the same system headers).
#ifndef DROPHOOK_CLINUX_H
#define DROPHOOK_CLINUX_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>
#include <sys/vfs.h>

/// fcntl(fd, F_SETLEASE, type): 0, or -1 with errno.
static inline int drophook_set_lease(int fd, int type) {
    return fcntl(fd, F_SETLEASE, type);
}

/// statfs(path)->f_type in *type: 0, or -1 with errno.
static inline int drophook_filesystem_type(const char *path, long *type) {
    struct statfs info;
    int result = statfs(path, &info);
    if (result == 0) *type = (long)info.f_type;
    return result;
}

/// pipe2(fds, O_CLOEXEC): 0, or -1 with errno.
static inline int drophook_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

/// malloc_trim(0): hands freed heap memory back to the system; 1 if any was released.
static inline int drophook_release_free_memory(void) {
    return malloc_trim(0);
}

/// A datagram socket bound at a filesystem path, close-on-exec and non-blocking, that receives
/// each sender's credentials (SO_PASSCRED). A stale socket file at the path is replaced; any
/// other file there is left alone (EEXIST). The fd, or -1 with errno.
int drophook_bind_datagram_socket(const char *path);

/// Receives one datagram and the kernel's word on who sent it. Returns its length, or -1 with
/// errno; *truncated is 1 when it was longer than the buffer; *pid is 0 without credentials.
ssize_t drophook_receive_datagram(int fd, void *buffer, size_t size, int *pid, unsigned *uid, int *truncated);

/// Sends one datagram to the socket at a path (a relay to the system log); 0, or -1 with errno.
int drophook_send_datagram(int fd, const char *path, const void *buffer, size_t size);

/// An unbound datagram socket for sending (close-on-exec); the fd or -1.
int drophook_datagram_sender(void);

/// Sends one sd_notify message ("READY=1", "WATCHDOG=1", ...) to $NOTIFY_SOCKET's value: a
/// path, or an abstract name written with a leading '@'. 0, or -1 with errno.
int drophook_notify(const char *socket_path, const char *message);

#endif
