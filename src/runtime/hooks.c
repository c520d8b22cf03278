/* hooks.c — see hooks.h.
 *
 * One hook: fork, the child makes the read end of a pipe its stdin, resets signals and
 * execs; the parent feeds the state JSON into the pipe and waits for the exit on a
 * pidfd, both under one deadline (process.hooks[].timeout), so a hook that neither
 * reads its stdin nor exits cannot hang us. The hook's stdout/stderr are ours, as
 * with runc. */
#include "hooks.h"
#include "log.h"
#include "newsys.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Child side, between fork and execve: only async-signal-safe calls. */
static _Noreturn void hook_child(const struct oci_hook *h, char *const argv[], char *const envp[], const char *cwd,
                                 int in, int errfd)
{
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    sigset_t none;
    int e[2] = { 0, 0 }; /* failed step (0 exec, 1 chdir), errno */

    /* Its own process group: on timeout the whole group is killed, so a hook that
     * forked (a shell script running `sleep`) leaves no child holding our stdio. */
    setpgid(0, 0);
    if (in == STDIN_FILENO) {
        if (fcntl(in, F_SETFD, 0) < 0)
            goto fail;
    } else if (dup2(in, STDIN_FILENO) < 0) {
        goto fail;
    }
    /* Only stdio goes to the hook: anything husk holds (state dir, sockets, fds the
     * caller passed for the container) is not the hook's business. errfd is already
     * close-on-exec, so it stays usable until the exec. */
    syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    /* Ignored signals and the mask survive execve; the hook gets a clean slate. */
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (cwd && chdir(cwd) < 0) {
        e[0] = 1;
        goto fail;
    }
    execve(h->path, argv, envp);
fail:
    e[1] = errno;
    if (write(errfd, e, sizeof e) < 0) {
        /* nothing more we can do */
    }
    _exit(127);
}

/* Feed `data` to the hook and wait for it to exit, until deadline_ms (-1: none).
 * Returns 1 when it exited (reaped into *status), 0 on timeout (not reaped), -1 on a
 * system error. SIGPIPE must be blocked by the caller. */
static int feed_and_wait(pid_t pid, int pidfd, int *wfd, const char *data, size_t len, int64_t deadline_ms,
                         int *status, husk_err **err)
{
    size_t off = 0;

    if (*wfd >= 0 && len == 0)
        closep(wfd);
    for (;;) {
        int timeout = -1;
        if (deadline_ms >= 0) {
            int64_t left = deadline_ms - now_ms();
            if (left <= 0)
                return 0;
            timeout = left > 1000000 ? 1000000 : (int)left;
        }
        /* Without a pidfd (old kernel) look at the child every 10ms. */
        if (pidfd < 0) {
            pid_t r = waitpid(pid, status, WNOHANG);
            if (r == pid)
                return 1;
            if (r < 0 && errno != EINTR)
                return husk_fail(err, errno, "waitpid %d", (int)pid);
            if (timeout < 0 || timeout > 10)
                timeout = 10;
        }
        struct pollfd pf[2] = {
            { .fd = pidfd, .events = POLLIN },
            { .fd = *wfd, .events = POLLOUT },
        };
        int n = poll(pf, 2, timeout);
        if (n < 0 && errno != EINTR)
            return husk_fail(err, errno, "poll");
        if (n <= 0)
            continue;
        if (pf[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
            ssize_t w = write(*wfd, data + off, len - off);
            if (w > 0)
                off += (size_t)w;
            /* EPIPE: the hook does not want (all of) its stdin; that is its right. */
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == len)
                closep(wfd);
        }
        if (pf[0].revents & POLLIN) {
            pid_t r;
            do
                r = waitpid(pid, status, 0);
            while (r < 0 && errno == EINTR);
            if (r < 0)
                return husk_fail(err, errno, "waitpid %d", (int)pid);
            return 1;
        }
    }
}

static int run_one(const struct oci_hook *h, size_t idx, const char *stage, const char *state,
                   const struct hooks_ctx *ctx, husk_err **err)
{
    char *default_argv[] = { h->path, NULL };
    char *const *argv = h->args && h->args[0] ? h->args : default_argv;
    /* config.md: `env` is the hook's whole environment; without it, as runc and crun
     * do, the one of the process that runs it (see hooks_ctx). */
    char *const *envp = h->env ? h->env : ctx && ctx->default_env ? ctx->default_env : environ;
    const char *cwd = ctx ? ctx->cwd : NULL;
    _cleanup_close_ int in_r = -1, in_w = -1, err_r = -1, err_w = -1, pidfd = -1;
    int p[2], status = 0, rc, child_err[2];
    sigset_t pipe_set, old_mask, pending;
    bool pipe_was_pending;
    int64_t deadline = -1;
    pid_t pid;

    if (h->path == NULL || h->path[0] == '\0')
        return husk_fail(err, 0, "%s hook #%zu: no path", stage, idx);
    if (pipe2(p, O_CLOEXEC) < 0)
        return husk_fail(err, errno, "%s hook #%zu (%s): pipe", stage, idx, h->path);
    in_r = p[0], in_w = p[1];
    if (pipe2(p, O_CLOEXEC) < 0)
        return husk_fail(err, errno, "%s hook #%zu (%s): pipe", stage, idx, h->path);
    err_r = p[0], err_w = p[1];

    if (h->has_timeout && h->timeout > 0)
        deadline = now_ms() + (int64_t)h->timeout * 1000;
    pid = fork();
    if (pid < 0)
        return husk_fail(err, errno, "%s hook #%zu (%s): fork", stage, idx, h->path);
    if (pid == 0)
        hook_child(h, (char *const *)argv, (char *const *)envp, cwd, in_r, err_w);
    /* Also from here, so the group exists whoever runs first (EACCES once it exec'd). */
    setpgid(pid, pid);
    closep(&in_r);
    closep(&err_w);

    /* A pidfd lets us wait for this child alone, with a timeout, without touching the
     * caller's SIGCHLD handling. */
    pidfd = husk_pidfd_open(pid, 0);
    if (fcntl(in_w, F_SETFL, O_NONBLOCK) < 0) {
        int e = errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return husk_fail(err, e, "%s hook #%zu (%s): fcntl", stage, idx, h->path);
    }

    /* A hook that exits without reading stdin makes our write raise SIGPIPE, which
     * would kill husk. Block it here and swallow the one we caused afterwards. */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    pipe_was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    rc = feed_and_wait(pid, pidfd, &in_w, state ? state : "", state ? strlen(state) : 0, deadline, &status, err);
    closep(&in_w);
    sigpending(&pending);
    if (!pipe_was_pending && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = { 0, 0 };
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);

    if (rc <= 0) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        if (rc < 0)
            return husk_err_prefix(err, "%s hook #%zu (%s)", stage, idx, h->path);
        return husk_fail(err, 0, "%s hook #%zu (%s): timed out after %ds", stage, idx, h->path, h->timeout);
    }

    if (read_all(err_r, child_err, sizeof child_err) == (ssize_t)sizeof child_err) {
        if (child_err[0] == 1)
            return husk_fail(err, child_err[1], "%s hook #%zu (%s): chdir %s", stage, idx, h->path, cwd);
        return husk_fail(err, child_err[1], "%s hook #%zu (%s): exec", stage, idx, h->path);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return husk_fail(err, 0, "%s hook #%zu (%s): exit status %d", stage, idx, h->path, WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return husk_fail(err, 0, "%s hook #%zu (%s): killed by signal %d", stage, idx, h->path, WTERMSIG(status));
    return 0;
}

int hooks_run(const struct oci_hook_list *list, const char *stage, const char *state_json,
              const struct hooks_ctx *ctx, husk_err **err)
{
    if (list == NULL)
        return 0;
    if (list->n > 0)
        log_debug("running %zu %s hook(s), pid %d", list->n, stage, (int)getpid());
    for (size_t i = 0; i < list->n; i++)
        if (run_one(&list->hooks[i], i, stage, state_json, ctx, err) < 0)
            return -1;
    return 0;
}

int hooks_run_warn(const struct oci_hook_list *list, const char *stage, const char *state_json,
                   const struct hooks_ctx *ctx)
{
    int failed = 0;
    if (list == NULL)
        return 0;
    for (size_t i = 0; i < list->n; i++) {
        husk_err *err = NULL;
        if (run_one(&list->hooks[i], i, stage, state_json, ctx, &err) < 0) {
            husk_log(HUSK_LOG_WARNING, "%s", err ? err->msg : "hook failed");
            husk_err_free(&err);
            failed++;
        }
    }
    return failed;
}
