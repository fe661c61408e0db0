// Linux calls that the Swift Glibc module does not export (GNU extensions, <sys/vfs.h>, <malloc.h>),
// wrapped as small inline functions. Only the watcher's edge files use them.
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

#endif
