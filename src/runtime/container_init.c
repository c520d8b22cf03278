/* container_init.c — the container's side of `create`: stage 1 (joining and
 * making namespaces), stage 2 (the init, from fork to execve) and the init cloned
 * straight into its namespaces. container.c's head has the whole sequence; this
 * file is what runs in the child processes, container.c what runs in the parent. */
#include "container.h"
#include "container_int.h"

#include "cgroups.h"
#include "caps.h"
#include "devices.h"
#include "hooks.h"
#include "keyring.h"
#include "log.h"
#include "mount_sources.h"
#include "mounts.h"
#include "namespaces.h"
#include "newsys.h"
#include "process.h"
#include "rootfs.h"
#include "seccomp_filter.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"
#include "testhooks.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

/* Hooks run inside the container without an `env` of their own get the container
 * process's environment, not the runtime's (that would leak the caller's variables
 * into the container; runc's init has the process environment when it runs them). */
static char *const *container_hook_env(const struct oci_config *cfg)
{
    static char *none[] = { NULL };
    return cfg->process.env ? cfg->process.env : none;
}


/* Replace `"status":"creating"` by another status in a state JSON built by the
 * parent (stage 2 only has that copy). */
static char *state_json_with_status(const char *json, const char *status)
{
    const char *needle = "\"status\":\"creating\"";
    const char *p = strstr(json, needle);
    if (p == NULL)
        return xstrdup(json);
    return xasprintf("%.*s\"status\":\"%s\"%s", (int)(p - json), json, status, p + strlen(needle));
}

/* ------------------------------------------------------------------------ */
/* stage 2: the container's init, from fork to execve                        */

/* Socket-activation fds: LISTEN_FDS counts fds from 3 on, meant for LISTEN_PID only
 * (sd_listen_fds(3)). As runc does, husk passes them on only when they were meant for
 * husk itself; set by the parent, before anything forks. */
int caller_listen_fds(void)
{
    const char *lf = getenv("LISTEN_FDS"), *lp = getenv("LISTEN_PID");
    char *end;
    if (lf == NULL || lp == NULL || *lf == '\0' || *lp == '\0')
        return 0;
    errno = 0;
    long pid = strtol(lp, &end, 10);
    if (errno || *end || pid != (long)getpid())
        return 0;
    long n = strtol(lf, &end, 10);
    if (errno || *end || n <= 0 || n > 65536)
        return 0;
    return (int)n;
}

/* The LISTEN_FDS fds (3 ..), then --preserve-fds N more, pass to the container;
 * every other fd of husk's is closed on exec (CVE-2024-21626: a leaked fd of a host
 * directory is a way out of the rootfs). */
int container_prepare_fds(struct husk_container *c, int *n_listen, husk_err **err)
{
    int keep = c->listen_fds + c->preserve_fds;
    *n_listen = c->listen_fds;
    for (int fd = 3; fd < 3 + keep; fd++) {
        int fl = fcntl(fd, F_GETFD);
        /* Only the caller's: a number the caller left free may now be husk's own. */
        if (fl < 0 || !process_fd_inherited(fd)) {
            if (fl >= 0)
                fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
            continue;
        }
        if (fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
            return husk_fail(err, errno, "preserve fd %d", fd);
    }
    if (syscall(SYS_close_range, 3 + keep, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        /* Before 5.11: mark them one by one. */
        for (int fd = 3 + keep; fd < 65536; fd++) {
            int fl = fcntl(fd, F_GETFD);
            if (fl >= 0)
                fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
        }
    }
    return 0;
}

char **container_build_env(const struct oci_process *p, int n_listen)
{
    size_t n = p->n_env;
    char **env = xcalloc(n + 4, sizeof(char *));
    size_t k = 0;
    bool home = false;
    for (size_t i = 0; i < n; i++) {
        home = home || strncmp(p->env[i], "HOME=", 5) == 0;
        /* LISTEN_* are ours to set when fds are passed; drop stale ones. */
        if (n_listen > 0 && (strncmp(p->env[i], "LISTEN_FDS=", 11) == 0 ||
                             strncmp(p->env[i], "LISTEN_PID=", 11) == 0))
            continue;
        env[k++] = xstrdup(p->env[i]);
    }
    if (n_listen > 0) {
        env[k++] = xasprintf("LISTEN_FDS=%d", n_listen);
        env[k++] = xstrdup("LISTEN_PID=1");
    }
    /* As runc and crun: without a HOME of the config's, the user's from the image. */
    if (!home)
        env[k++] = process_home_env(p->user.uid);
    env[k] = NULL;
    return env;
}

struct src_fds {
    int *fds;
    size_t n;
};

static void close_fds_of(struct src_fds *s)
{
    for (size_t i = 0; s->fds && i < s->n; i++)
        if (s->fds[i] >= 0)
            close(s->fds[i]);
    free(s->fds);
}

/* Everything from the fresh mount namespace to the blocked open of exec.fifo. */
static int stage2_setup(struct stage_ctx *s, char **exe_out, char ***env_out, husk_err **err)
{
    struct husk_container *c = s->c;
    struct oci_config *cfg = c->config;
    struct sync_msg msg;

    /* Not dumpable: until the user's program is exec'd, no process of the container
     * may ptrace us or open our /proc files (CVE-2016-9962 class). execve() resets it. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return husk_fail(err, errno, "prctl(PR_SET_DUMPABLE)");

    if (config_find_ns(cfg, OCI_NS_MOUNT) == NULL)
        return husk_fail(err, 0, "linux.namespaces: a mount namespace is required");

    _cleanup_close_ int rootfd = rootfs_prepare(c, err);
    if (rootfd < 0)
        return -1;
    /* Bind sources opened with the runtime's credentials (mount_sources.h). */
    _cleanup_(close_fds_of) struct src_fds src = { .n = cfg->n_mounts };
    if (mount_sources_needed(cfg) && mount_sources_receive(cfg, s->sock, &src.fds, err) < 0)
        return -1;
    if (mounts_setup(c, rootfd, src.fds, err) < 0)
        return -1;
    if (devices_setup(c, rootfd, err) < 0)
        return -1;
    log_debug("stage 2 (the init): rootfs, mounts and /dev set up");
    husk_kill_point("create.stage2.after-mounts");

    /* prestart and createRuntime run in the runtime namespace, by the parent, now that
     * our namespaces exist; the parent also sends the state JSON our own hooks (and the
     * seccomp listener) need. */
    if (need_parent_hooks(cfg) || need_state_in_container(cfg) || s->seccomp_listener_fd >= 0) {
        if (sync_send(s->sock, SYNC_HOOKS_PLS, 0, NULL) < 0)
            return husk_fail(err, errno, "sync with parent");
        if (sync_recv(s->sock, &msg, SYNC_HOOKS_DONE, err) < 0)
            return -1;
        s->state_json = xstrdup(msg.text);
    }
    /* createContainer hooks: in the container's namespaces, before pivot_root, so
     * their paths still resolve in the runtime namespace; in the rootfs, as runc's. */
    if (cfg->has_hooks) {
        struct hooks_ctx hc = { .cwd = c->rootfs, .default_env = container_hook_env(cfg) };
        if (hooks_run(&cfg->hooks.create_container, "createContainer", s->state_json, &hc, err) < 0)
            return -1;
    }

    husk_kill_point("create.stage2.before-pivot");
    if (rootfs_pivot(c, rootfd, err) < 0)
        return -1;
    log_debug("stage 2: %s into the rootfs", c->no_pivot ? "chroot (--no-pivot)" : "pivot_root");
    if (process_setup_uts(cfg, err) < 0 || process_setup_sysctl(cfg, err) < 0)
        return -1;
    if (cfg->process.terminal) {
        if (terminal_setup(c->console_sock_fd, &cfg->process, err) < 0)
            return -1;
        close(c->console_sock_fd);
        c->console_sock_fd = -1;
    }
    if (rootfs_finalize(c, err) < 0)
        return -1;

    if (!c->no_new_keyring && keyring_join_session(c->id, true, err) < 0)
        return -1;
    if (process_setup_rlimits(&cfg->process, err) < 0)
        return -1;
    if (process_setup_oom_score_adj(&cfg->process, err) < 0)
        return -1;
    /* While we still hold our capabilities: a real-time policy needs CAP_SYS_NICE. */
    if (process_setup_scheduler(&cfg->process, err) < 0 || process_setup_io_priority(&cfg->process, err) < 0)
        return -1;
    if (process_setup_cwd(&cfg->process, err) < 0)
        return -1;
    /* Find the program now, so "not found" is an error of create, not a silent
     * death after start (as runc does). */
    if (process_find_executable(&cfg->process, exe_out, err) < 0)
        return -1;

    int n_listen = 0;
    if (container_prepare_fds(c, &n_listen, err) < 0)
        return -1;
    *env_out = container_build_env(&cfg->process, n_listen);
    log_debug("stage 2: set up (console, masked paths, rlimits, cwd); %s is the program", *exe_out);
    return 0;
}

/* Load linux.seccomp into this process and, with SCMP_ACT_NOTIFY, hand the listener its
 * fd with the container process state. The message is made before the load: from the
 * moment the kernel accepts the filter, every syscall of ours has to pass it. */
static int stage2_seccomp(struct stage_ctx *s, husk_err **err)
{
    _cleanup_free_ char *msg = NULL;
    int nfd = -1, r = 0;

    if (s->seccomp_listener_fd >= 0) {
        /* `husk state` says "created" until the user's program runs. */
        _cleanup_free_ char *sj = state_json_with_status(s->state_json ? s->state_json : "{}", "created");
        msg = seccomp_process_state(sj, s->c->config->linux_.seccomp.listener_metadata, err);
        if (msg == NULL)
            return -1;
    }
    /* The parent wrote the program before create returned, so before start let us on. */
    if (s->seccomp == NULL && seccomp_filter_restore(s->seccomp_prog_fd, &s->seccomp, err) < 0)
        return -1;
    if (seccomp_filter_load(s->seccomp, &nfd, err) < 0)
        return -1;
    if (s->seccomp_listener_fd >= 0 && nfd >= 0)
        r = seccomp_listener_send(s->seccomp_listener_fd, nfd, msg, err);
    /* The listener has its own copy now; ours must not reach the user's program. */
    if (nfd >= 0)
        close(nfd);
    if (s->seccomp_listener_fd >= 0) {
        close(s->seccomp_listener_fd);
        s->seccomp_listener_fd = -1;
    }
    return r;
}

static void stage2_main(struct stage_ctx *s)
{
    struct husk_container *c = s->c;
    struct oci_config *cfg = c->config;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *exe = NULL;
    _cleanup_strv_ char **env = NULL;

    /* The init leads its own session, as runc's does: the container does not share
     * the caller's session (or its terminal's job control), and criu can checkpoint
     * it without --shell-job (a session leader outside the pid namespace cannot be
     * restored). terminal_setup's own setsid then finds us leading already. */
    if (setsid() < 0) {
        husk_fail(&err, errno, "setsid");
        sync_send_error(s->sock, &err);
        _exit(1);
    }
    if (stage2_setup(s, &exe, &env, &err) < 0) {
        sync_send_error(s->sock, &err);
        _exit(1);
    }

    husk_kill_point("create.stage2.before-ready");
    /* Tell the parent we are set up, and wait until it has recorded everything (state,
     * pid file): a create killed before that must not leave an init that waits for a
     * start forever — the EOF of its socket tells us, and we go. */
    if (sync_send(s->sock, SYNC_READY, 0, NULL) < 0)
        _exit(1);
    {
        _cleanup_free_ struct sync_msg *ack = xmalloc(sizeof *ack);
        if (sync_recv(s->sock, ack, SYNC_READY_ACK, NULL) < 0)
            _exit(1);
    }
    close(s->sock);
    int wfd = s->start_wfd;
    if (wfd < 0) {
        log_debug("container init: waiting for start on exec.fifo");
        husk_log_release_stderr();
        /* Block until `husk start` opens the fifo for reading. The fd was opened
         * O_PATH by the parent; reopening it through /proc/self/fd needs no path
         * lookup in the host's filesystem, which we no longer see. */
        char fdp[64];
        snprintf(fdp, sizeof fdp, "/proc/self/fd/%d", s->fifo_fd);
        wfd = open(fdp, O_WRONLY | O_CLOEXEC);
        if (wfd < 0)
            _exit(1);
        close(s->fifo_fd);
    } else {
        /* `husk run`: started as soon as create has recorded us. */
        husk_log_release_stderr();
    }
    log_debug("container init: started; startContainer hooks, seccomp, capabilities, user, then exec %s", exe);

    /* startContainer hooks: after start, before the user's program, in the container. */
    if (cfg->has_hooks && has_hooks(&cfg->hooks.start_container)) {
        _cleanup_free_ char *sj = state_json_with_status(s->state_json ? s->state_json : "{}", "created");
        struct hooks_ctx hc = { .default_env = container_hook_env(cfg) };
        if (hooks_run(&cfg->hooks.start_container, "startContainer", sj, &hc, &err) < 0)
            goto fail_started;
    }

    /* seccomp without noNewPrivileges: the kernel only takes a filter from a task that
     * cannot gain privileges by execve or holds CAP_SYS_ADMIN, so load it now, before
     * any capability goes. The profile must then allow what follows (setgroups,
     * setres[ug]id, capset, prctl, write, close, execve), as with runc. */
    if (s->seccomp_prog_fd >= 0 && !cfg->process.no_new_privileges && stage2_seccomp(s, &err) < 0)
        goto fail_started;

    /* Drop privileges, in the order the kernel needs: bounding set while we still hold
     * CAP_SETPCAP, then the uid switch keeping the permitted set, then the exact
     * configured sets; no_new_privs last so nothing after can regain privileges. */
    const struct oci_capabilities *caps = cfg->process.has_capabilities ? &cfg->process.capabilities : NULL;
    if (caps_drop_bounding(caps, &err) < 0)
        goto fail_started;
    if (process_setup_user(&cfg->process, &err) < 0)
        goto fail_started;
    if (caps_apply(caps, &err) < 0)
        goto fail_started;
    if (cfg->process.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        husk_fail(&err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
        goto fail_started;
    }
    /* seccomp with noNewPrivileges: as late as possible, so that of husk's own syscalls
     * only write and close (telling `husk start`) and execve remain to be allowed. */
    if (s->seccomp_prog_fd >= 0 && cfg->process.no_new_privileges && stage2_seccomp(s, &err) < 0)
        goto fail_started;

    husk_kill_point("start.init.before-exec");
    /* '0': the start succeeded; `husk start` returns and runs poststart hooks. */
    if (write(wfd, "0", 1) != 1)
        _exit(1);
    close(wfd);

    execve(exe, cfg->process.args, env);
    /* Too late to tell anyone but the container's stderr. */
    dprintf(STDERR_FILENO, "husk: exec %s: %s\n", exe, strerror(errno));
    _exit(127);

fail_started:;
    /* Tell `husk start` why; it prints the message and fails. */
    const char *m = err ? err->msg : "container start failed";
    dprintf(wfd, "1%s", m);
    _exit(1);
}

/* ------------------------------------------------------------------------ */
/* stage 1: namespaces                                                       */

/* The signals whose disposition is not SIG_DFL (ignored or caught), as a mask of
 * bit sig-1, from the SigIgn and SigCgt lines of /proc/self/status; every signal
 * if that cannot be read. */
static uint64_t signals_not_default(void)
{
    char buf[4096];
    _cleanup_close_ int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read_all(fd, buf, sizeof buf - 1) : -1;
    if (n <= 0)
        return ~0ULL;
    buf[n] = '\0';
    uint64_t mask = 0;
    int found = 0;
    for (const char *k = buf; (k = strstr(k, "Sig")) != NULL; k += 3) {
        if (strncmp(k, "SigIgn:", 7) != 0 && strncmp(k, "SigCgt:", 7) != 0)
            continue;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(k + 7, &end, 16);
        if (errno || end == k + 7)
            return ~0ULL;
        mask |= v;
        found++;
    }
    return found == 2 ? mask : ~0ULL;
}

/* The container starts with default signal handling and nothing blocked, whatever
 * husk had (run blocks everything to forward signals; the caller may have left
 * signals ignored, which execve keeps). Only the signals not at SIG_DFL are reset:
 * one read of /proc/self/status instead of a system call for each of the 64. */
static void reset_signals(void)
{
    uint64_t todo = signals_not_default();
    sigset_t none;

    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && (sig > 64 || (todo >> (sig - 1)) & 1) &&
            signal(sig, SIG_DFL) == SIG_ERR)
            signal_default_raw(sig);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

void stage1_main(struct stage_ctx *s, struct ns_join *joins)
{
    struct husk_container *c = s->c;
    struct oci_config *cfg = c->config;
    _cleanup_err_ husk_err *err = NULL;
    struct sync_msg msg;
    int flags = ns_new_flags(cfg);

    reset_signals();

    /* Into the container's cgroups, before anything else (our children, the init
     * included, inherit them; a new cgroup namespace is rooted at the cgroup we are
     * in when we make it). We move ourselves rather than being moved by the parent:
     * see cgroup_enter_self for the RCU wait that saves. */
    if (cgroup_enter_self(s->cg, s->born_in_v2, &err) < 0)
        goto fail;
    if (sync_recv(s->sock, &msg, SYNC_GO, &err) < 0)
        _exit(1);

    if (ns_join_all(joins, &err) < 0)
        goto fail;
    ns_close_joins(joins);

    if (flags & CLONE_NEWUSER) {
        if (unshare(CLONE_NEWUSER) < 0) {
            husk_fail(&err, errno, "create user namespace");
            goto fail;
        }
        /* Our maps must be written from outside, by a process with privileges
         * over the parent user namespace. */
        if (sync_send(s->sock, SYNC_USERMAP_PLS, (int)getpid(), NULL) < 0 ||
            sync_recv(s->sock, &msg, SYNC_USERMAP_ACK, &err) < 0)
            goto fail;
        /* Become root of the new namespace (if mapped) so the rest runs privileged. */
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
            husk_fail(&err, errno, "switch to root in the user namespace (is uid/gid 0 mapped?)");
            goto fail;
        }
    }

    if (unshare(flags & ~CLONE_NEWUSER) < 0) {
        husk_fail(&err, errno, "create namespaces");
        goto fail;
    }
    if ((flags & CLONE_NEWTIME) && cfg->has_linux && ns_write_time_offsets(&cfg->linux_, &err) < 0)
        goto fail;
    if ((flags & CLONE_NEWNET) && ns_loopback_up(&err) < 0)
        goto fail;
    log_debug("stage 1 (pid %d): namespaces joined and made (unshare flags 0x%x)", (int)getpid(), flags);
    husk_kill_point("create.stage1.after-namespaces");

    /* The new pid (and time) namespace applies to our children: fork the init.
     * Stage 2 shares our socket to the parent, and the parent must learn its pid
     * before anything stage 2 says (READY, HOOKS_PLS, an error): so stage 2 first
     * waits on a pipe that we write to only once SYNC_PID is sent. If we die
     * instead, it reads EOF and gives up. */
    int order[2];
    if (pipe2(order, O_CLOEXEC) < 0) {
        husk_fail(&err, errno, "pipe");
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        husk_fail(&err, errno, "fork container init");
        goto fail;
    }
    if (pid == 0) {
        char go;
        close(order[1]);
        if (TEMP_FAILURE_RETRY(read(order[0], &go, 1)) != 1)
            _exit(1);
        close(order[0]);
        stage2_main(s);   /* never returns */
    }
    close(order[0]);
    husk_kill_point("create.stage1.after-fork");
    if (sync_send(s->sock, SYNC_PID, (int)pid, NULL) < 0)
        _exit(1);
    if (TEMP_FAILURE_RETRY(write(order[1], "", 1)) != 1)
        _exit(1);
    _exit(0);

fail:
    sync_send_error(s->sock, &err);
    _exit(1);
}

/* ------------------------------------------------------------------------ */
/* the init cloned straight into its namespaces                              */

/* Stage 1 exists for what must happen between fork and the init: joining
 * namespaces by path, a user namespace whose maps the parent writes, a time
 * namespace's offsets (all before the init's pid namespace is entered). Without
 * any of those the init is cloned directly into its new namespaces, and a fork,
 * an exit and two messages are saved. The cgroup namespace is the exception: it
 * is rooted at the cgroups of the process that makes it, so the init makes it
 * itself once it is in them. */
int direct_clone_flags(const struct oci_config *cfg, const struct ns_join *joins)
{
    int flags = ns_new_flags(cfg);
    if (flags & (CLONE_NEWUSER | CLONE_NEWTIME))
        return -1;
    /* pids.limit 0: not even the init may exist. It is forked inside the cgroups by
     * stage 1, and clone3 into a v2 cgroup is refused, but on v1 the init would be
     * cloned outside and move in, which the pids controller does not count. */
    const struct oci_resources *r = &cfg->linux_.resources;
    if (cfg->has_linux && cfg->linux_.has_resources && r->has_pids && r->pids.limit == 0)
        return -1;
    for (int i = 0; i < OCI_NS_COUNT; i++)
        if (joins->fd[i] >= 0)
            return -1;
    return flags & ~CLONE_NEWCGROUP;
}

/* What stage 1 does before its fork, for an init cloned with its namespaces. */
void init_direct_main(struct stage_ctx *s)
{
    _cleanup_err_ husk_err *err = NULL;
    struct sync_msg msg;

    reset_signals();
    /* Into the container's cgroups before anything else, as stage 1 does. */
    if (cgroup_enter_self(s->cg, s->born_in_v2, &err) < 0)
        goto fail;
    /* We are where we belong: from here a create that dies under us is seen by the
     * EOF of the sync socket, and we must outlive a create that succeeds. */
    if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0) {
        husk_fail(&err, errno, "prctl(PR_SET_PDEATHSIG)");
        goto fail;
    }
    if (sync_recv(s->sock, &msg, SYNC_GO, &err) < 0)
        _exit(1);
    if ((ns_new_flags(s->c->config) & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
        husk_fail(&err, errno, "create cgroup namespace");
        goto fail;
    }
    if ((ns_new_flags(s->c->config) & CLONE_NEWNET) && ns_loopback_up(&err) < 0)
        goto fail;
    log_debug("container init (pid %d): cloned into its namespaces, in its cgroups", (int)getpid());
    husk_kill_point("create.stage2.after-namespaces");
    stage2_main(s);   /* never returns */
fail:
    sync_send_error(s->sock, &err);
    _exit(1);
}

