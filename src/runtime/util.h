/* util.h — small helpers shared by every module: cleanup attributes in systemd's
 * style, so error paths stay short, and a few file helpers. */
#ifndef HUSK_UTIL_H
#define HUSK_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "error.h"

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}
static inline void fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}
static inline void closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}
void strv_free(char **v);
static inline void strv_freep(char ***v) { strv_free(*v); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_strv_ _cleanup_(strv_freep)

/* Hand ownership out of a cleanup variable. */
#define steal_ptr(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define steal_fd(fd) ({ int _t = (fd); (fd) = -1; _t; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that aborts on failure: out-of-memory is not a recoverable error here. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file (at most max bytes; -EFBIG beyond). NUL-terminated; *len optional. */
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, husk_err **err);
/* Write a string to an existing file (e.g. a /proc or cgroup knob), no O_CREAT. */
int write_file_at(int dirfd, const char *path, const char *data, size_t len, husk_err **err);
/* Write data to path atomically: temp file in the same directory, fsync-free rename. */
int write_file_atomic(int dirfd, const char *path, const char *data, size_t len, mode_t mode, husk_err **err);
/* mkdir -p (dir components created with mode); existing directories are fine. */
int mkdir_p(const char *path, mode_t mode, husk_err **err);

/* Full read/write loops retrying EINTR; return bytes or -1 with errno. */
ssize_t read_all(int fd, void *buf, size_t len);
ssize_t write_all(int fd, const void *buf, size_t len);

/* Send/receive one fd over a unix socket with SCM_RIGHTS, with a small payload. */
int send_fd(int sock, int fd, const void *data, size_t len);
int recv_fd(int sock, int *fd, void *data, size_t len);

/* A signal's disposition back to SIG_DFL through the kernel's call: for 32 and 33,
 * which glibc keeps for itself and will not set, but which a caller that ignored
 * them would pass on (an ignored signal stays ignored across execve). */
void signal_default_raw(int sig);

#endif
