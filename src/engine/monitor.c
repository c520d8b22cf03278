/* monitor.c — exec husk-monitor and wait for it (see monitor.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "util.h"

#ifndef CLOSE_RANGE_UNSHARE
#include <linux/close_range.h>
#endif
#include <sys/syscall.h>

char *monitor_path(husk_err **err)
{
    const char *env = getenv("HUSK_MONITOR");
    if (env && *env) {
        if (access(env, X_OK) < 0)
            return husk_fail(err, errno, "HUSK_MONITOR=%s", env), NULL;
        return xstrdup(env);
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return husk_fail(err, errno, "readlink /proc/self/exe"), NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return husk_fail(err, 0, "/proc/self/exe: %s: not a path", self), NULL;
    *slash = '\0';
    _cleanup_free_ char *beside = xasprintf("%s/husk-monitor", self);
    if (access(beside, X_OK) == 0)
        return steal_ptr(beside);
    _cleanup_free_ char *libexec = xasprintf("%s/../libexec/husk/husk-monitor", self);
    if (access(libexec, X_OK) == 0)
        return steal_ptr(libexec);
    return husk_fail(err, 0, "the container monitor (husk-monitor) is not installed: not in %s nor %s",
                     beside, libexec), NULL;
}

int monitor_exec(const struct monitor_args *a, husk_err **err)
{
    _cleanup_free_ char *path = monitor_path(err);
    if (!path)
        return -1;
    if (a->pty_fd >= 0 ? (a->stdout_fd >= 0 || a->stderr_fd >= 0) : (a->stdout_fd < 0 || a->stderr_fd < 0))
        return husk_fail(err, 0, "monitor: either a pty or both output pipes");

    /* The fds the monitor gets, in order from 3. Each is first copied above every
     * target number so that no dup2 below overwrites one not moved yet. */
    int src[4], n = 0;
    const char *opt[4];
    if (a->ready_fd >= 0)
        opt[n] = "--ready", src[n++] = a->ready_fd;
    if (a->pty_fd >= 0) {
        opt[n] = "--pty", src[n++] = a->pty_fd;
    } else {
        if (a->stdin_fd >= 0)
            opt[n] = "--stdin", src[n++] = a->stdin_fd;
        opt[n] = "--stdout", src[n++] = a->stdout_fd;
        opt[n] = "--stderr", src[n++] = a->stderr_fd;
    }
    int high[6];
    int nhigh = 0;
    for (int i = 0; i < n; i++) {
        high[nhigh] = fcntl(src[i], F_DUPFD_CLOEXEC, 16);
        if (high[nhigh] < 0)
            return husk_fail(err, errno, "monitor: fd %d", src[i]);
        nhigh++;
    }
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0)
        return husk_fail(err, errno, "open /dev/null");
    high[nhigh] = fcntl(null_fd, F_DUPFD_CLOEXEC, 16);
    close(null_fd);
    int err_high = a->err_fd >= 0 ? fcntl(a->err_fd, F_DUPFD_CLOEXEC, 16) : high[nhigh];
    if (high[nhigh] < 0 || err_high < 0)
        return husk_fail(err, errno, "monitor: dup");

    char pid[16], size[24], files[16], fdnum[4][8];
    snprintf(pid, sizeof(pid), "%d", (int)a->init_pid);
    snprintf(size, sizeof(size), "%lld", a->log_max_size > 0 ? a->log_max_size : 0);
    snprintf(files, sizeof(files), "%d", a->log_max_files > 0 ? a->log_max_files : 1);
    const char *argv[32];
    int ac = 0;
    argv[ac++] = "husk-monitor";
    argv[ac++] = "--pid";
    argv[ac++] = pid;
    for (int i = 0; i < n; i++) {
        snprintf(fdnum[i], sizeof(fdnum[i]), "%d", 3 + i);
        argv[ac++] = opt[i];
        argv[ac++] = fdnum[i];
    }
    argv[ac++] = "--log-max-size";
    argv[ac++] = size;
    argv[ac++] = "--log-max-files";
    argv[ac++] = files;
    argv[ac++] = a->ctr_dir;
    size_t nexit = 0;
    while (a->exit_argv && a->exit_argv[nexit])
        nexit++;
    _cleanup_free_ const char **full = xcalloc((size_t)ac + 2 + nexit, sizeof(char *));
    memcpy(full, argv, (size_t)ac * sizeof(char *));
    if (nexit) {
        full[ac++] = "--";
        for (size_t i = 0; i < nexit; i++)
            full[ac++] = a->exit_argv[i];
    }
    full[ac] = NULL;

    /* From here M's own fds are rearranged: a failure is reported to whatever
     * fd 2 has become (err_fd or /dev/null) and M must _exit. dup2 clears
     * close-on-exec on the copies, which is how they reach the monitor. */
    if (dup2(high[nhigh], 0) < 0 || dup2(err_high, 1) < 0 || dup2(err_high, 2) < 0)
        return husk_fail(err, errno, "monitor: dup2");
    for (int i = 0; i < n; i++)
        if (dup2(high[i], 3 + i) < 0)
            return husk_fail(err, errno, "monitor: dup2");
    /* Nothing else of M's (the engine's store fds, locks, the runtime's sockets)
     * may live on in a process that stays for the container's whole life. */
    if (syscall(SYS_close_range, 3 + n, ~0U, 0) < 0)
        for (int fd = 3 + n; fd < 1024; fd++)
            close(fd);
    /* An ignored SIGCHLD would let the kernel reap the init as soon as it exits,
     * before the monitor (which resets every signal as it starts) could. */
    signal(SIGCHLD, SIG_DFL);
    execv(path, (char *const *)full);
    return husk_fail(err, errno, "exec %s", path);
}

int monitor_wait_ready(int fd, husk_err **err)
{
    char c;
    for (;;) {
        ssize_t r = read(fd, &c, 1);
        if (r == 1)
            return 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return husk_fail(err, 0, "the container monitor exited before it was ready");
        return husk_fail(err, errno, "waiting for the container monitor");
    }
}

int monitor_read_exit(int dirfd, int *code, char **time, husk_err **err)
{
    _cleanup_free_ char *buf = NULL;
    _cleanup_err_ husk_err *rerr = NULL;
    if (time)
        *time = NULL;
    if (read_file_at(dirfd, MON_EXIT_NAME, 256, &buf, NULL, &rerr) < 0) {
        if (rerr && rerr->errnum == ENOENT)
            return 0;
        if (err) {
            husk_err_free(err);
            *err = steal_ptr(rerr);
        }
        return -1;
    }
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || end == buf || *end != ' ' || v < 0 || v > 255 + 128)
        return husk_fail(err, 0, "%s: malformed: %s", MON_EXIT_NAME, buf);
    char *t = end + 1;
    size_t tl = strcspn(t, "\n");
    if (tl == 0 || t[tl] != '\n')
        return husk_fail(err, 0, "%s: malformed: %s", MON_EXIT_NAME, buf);
    *code = (int)v;
    if (time)
        *time = xasprintf("%.*s", (int)tl, t);
    return 1;
}
