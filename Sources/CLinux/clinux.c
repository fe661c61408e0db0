// Most functions are inline in include/clinux.h; the socket ones are here, so that <sys/socket.h>
// stays out of the header.
#include "clinux.h"
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

/// A datagram socket bound at a filesystem path, close-on-exec and non-blocking, that receives
/// each sender's credentials (SO_PASSCRED). A stale socket file at the path is replaced; any
/// other file there is left alone (EEXIST). The fd, or -1 with errno.
int drophook_bind_datagram_socket(const char *path) {
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
ssize_t drophook_receive_datagram(int fd, void *buffer, size_t size, int *pid, unsigned *uid, int *truncated) {
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
int drophook_send_datagram(int fd, const char *path, const void *buffer, size_t size) {
    struct sockaddr_un address;
    if (strlen(path) >= sizeof(address.sun_path)) { errno = ENAMETOOLONG; return -1; }
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    strcpy(address.sun_path, path);
    return sendto(fd, buffer, size, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&address, sizeof(address)) < 0 ? -1 : 0;
}

/// An unbound datagram socket for sending (close-on-exec); the fd or -1.
int drophook_datagram_sender(void) {
    return socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

int drophook_notify(const char *socket_path, const char *message) {
    struct sockaddr_un address;
    size_t length = strlen(socket_path);
    if (length == 0 || length >= sizeof(address.sun_path)) { errno = EINVAL; return -1; }
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, socket_path, length);
    // An abstract socket: the name starts with a NUL byte and its length is exact.
    if (socket_path[0] == '@') address.sun_path[0] = 0;
    socklen_t address_length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length + (socket_path[0] == '@' ? 0 : 1));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    ssize_t sent = sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&address, address_length);
    int saved = errno;
    close(fd);
    errno = saved;
    return sent < 0 ? -1 : 0;
}
