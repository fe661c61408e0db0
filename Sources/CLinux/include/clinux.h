// Linux calls that the Swift Glibc module does not export (GNU extensions, <sys/vfs.h>, <malloc.h>),
// wrapped as small inline functions. Only edge files use them: the watcher's, and the session
// log's sockets (SCM_CREDENTIALS).
#ifndef DROPHOOK_CLINUX_H
#define DROPHOOK_CLINUX_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <string.h>
#include <errno.h>

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
static inline int drophook_bind_datagram_socket(const char *path) {
    struct sockaddr_un address;
    if (strlen(path) >= sizeof(address.sun_path)) { errno = ENAMETOOLONG; return -1; }
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0) { int saved = errno; close(fd); errno = saved; return -1; }
    struct stat existing;
    if (lstat(path, &existing) == 0) {
        if (!S_ISSOCK(existing.st_mode)) { close(fd); errno = EEXIST; return -1; }
        unlink(path);
    }
    if (bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0) { int saved = errno; close(fd); errno = saved; return -1; }
    return fd;
}

/// Receives one datagram and the kernel's word on who sent it. Returns its length, or -1 with
/// errno; *truncated is 1 when it was longer than the buffer; *pid is 0 without credentials.
static inline ssize_t drophook_receive_datagram(int fd, void *buffer, size_t size, int *pid, unsigned *uid, int *truncated) {
    char control[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec vector = { .iov_base = buffer, .iov_len = size };
    struct msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    ssize_t length = recvmsg(fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    *pid = 0;
    *uid = (unsigned)-1;
    *truncated = (message.msg_flags & MSG_TRUNC) ? 1 : 0;
    if (length < 0) return -1;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_CREDENTIALS) {
            struct ucred credentials;
            memcpy(&credentials, CMSG_DATA(header), sizeof(credentials));
            *pid = credentials.pid;
            *uid = credentials.uid;
        }
    }
    return length;
}

/// Sends one datagram to the socket at a path (a relay to the system log); 0, or -1 with errno.
static inline int drophook_send_datagram(int fd, const char *path, const void *buffer, size_t size) {
    struct sockaddr_un address;
    if (strlen(path) >= sizeof(address.sun_path)) { errno = ENAMETOOLONG; return -1; }
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    strcpy(address.sun_path, path);
    return sendto(fd, buffer, size, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&address, sizeof(address)) < 0 ? -1 : 0;
}

/// An unbound datagram socket for sending (close-on-exec); the fd or -1.
static inline int drophook_datagram_sender(void) {
    return socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

#endif
