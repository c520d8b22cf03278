/* container.c — the lifecycle: create, start, kill, delete, state.
 *
 * `husk create` is three processes, the way the seed article's runc init sequence
 * is, but with no re-exec in between:
 *
 *   parent (husk create)        stage 1                     stage 2 (container pid 1)
 *   --------------------        -------                     -------------------------
 *   state dir, exec.fifo,
 *   cgroups, ns fds to join
 *   fork ---------------------> wait GO
 *   put stage 1 in cgroups,
 *   send GO                     setns() joined namespaces
 *                               unshare(CLONE_NEWUSER)
 *   write uid/gid maps <------- USERMAP_PLS
 *   USERMAP_ACK --------------> unshare(the other new ns)
 *   seccomp program -> memfd    timeOffsets, fork ------->  (pid 1 of the new pid ns)
 *   record pid <--------------- PID, then let stage 2 go    rootfs, mounts, /dev
 *   prestart, createRuntime <-------------------------------HOOKS_PLS
 *   HOOKS_DONE -------------------------------------------> createContainer hooks
 *                                                           pivot_root, console,
 *                                                           masked/readonly paths,
 *                                                           rlimits, cwd, ...
 *   state.json, pid file <--------------------------------- READY
 *   exit                                                    open exec.fifo (blocks)
 *
 *   husk start: read exec.fifo ---------------------------> startContainer hooks,
 *                                                           seccomp, caps, user, exec
 *   poststart hooks (a failure stops the container)
 *
 * Stage 1 is only needed to join namespaces by path and to make a user or time
 * namespace. Without those (a default config) the parent clones stage 2 directly
 * into its new namespaces; it moves itself into the cgroups, makes its cgroup
 * namespace there, and goes on as above from "rootfs, mounts" (init_direct_main).
 *
 * A failure anywhere in stage 1 or 2 is sent to the parent as one SYNC_ERROR
 * message; the parent kills what it started and removes what it made. */
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

/* ------------------------------------------------------------------------ */
/* helpers                                                                   */

/* The state JSON hooks get on stdin, for a state struct not yet on disk. */
static char *hook_state_json(const struct husk_state *st, enum husk_status status)
{
    return state_hook_json(st, status);
}


int container_write_pid_file(const char *path, pid_t pid, husk_err **err)
{
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    const char *base = path;
    int dirfd = AT_FDCWD;
    _cleanup_close_ int dfd = -1;

    if (slash) {
        *slash = '\0';
        dfd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return husk_fail(err, errno, "pid file %s", path);
        dirfd = dfd;
        base = slash + 1;
    }
    _cleanup_free_ char *txt = xasprintf("%d", (int)pid);
    if (write_file_atomic(dirfd, base, txt, strlen(txt), 0644, err) < 0)
        return husk_err_prefix(err, "pid file");
    return 0;
}

int signal_parse(const char *s)
{
    static const struct { const char *name; int sig; } tab[] = {
        { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
        { "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS },
        { "FPE", SIGFPE }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
        { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
        { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
        { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG },
        { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
        { "WINCH", SIGWINCH }, { "IO", SIGIO }, { "POLL", SIGPOLL }, { "PWR", SIGPWR },
        { "SYS", SIGSYS },
    };
    char *end;
    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    long n = strtol(s, &end, 10);
    /* 0 is kill(2)'s "does it exist?": nothing is sent, only checked. */
    if (*end == '\0' && errno == 0)
        return (n >= 0 && n < NSIG) ? (int)n : -1;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
        if (strcasecmp(s, tab[i].name) == 0)
            return tab[i].sig;
    if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
        int base = strncasecmp(s, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX;
        if (s[5] == '\0')
            return base;
        long off = strtol(s + 5, &end, 10);
        if (*end == '\0' && base + off >= SIGRTMIN && base + off <= SIGRTMAX)
            return (int)(base + off);
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
/* create (the parent)                                                       */

/* SIGKILL every process in the container's cgroup, but only when husk created its
 * leaf directory: a cgroupsPath naming an existing cgroup may hold others' processes. */
static void kill_new_cgroup_procs(const struct husk_cgroup *cg)
{
    if (!cg->paths || !cg->paths[0] || !cg->created)
        return;
    bool ours = false;
    for (char **p = cg->created; *p; p++)
        if (strcmp(*p, cg->paths[0]) == 0)
            ours = true;
    if (!ours)
        return;
    pid_t *pids = NULL;
    size_t n = 0;
    husk_err *e = NULL;
    if (cgroup_pids(cg, &pids, &n, &e) < 0) {
        husk_err_free(&e);
        return;
    }
    for (size_t i = 0; i < n; i++)
        kill(pids[i], SIGKILL);
    free(pids);
}

static void kill_and_reap(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, __WALL);
    }
}

/* Resolve <bundle>/<root.path> to an absolute directory. */
static int resolve_rootfs(struct husk_container *c, husk_err **err)
{
    const struct oci_config *cfg = c->config;
    if (!cfg->has_root || cfg->root.path == NULL)
        return husk_fail(err, 0, "config.json: root.path: required");
    _cleanup_free_ char *p = cfg->root.path[0] == '/' ? xstrdup(cfg->root.path)
                                                       : xasprintf("%s/%s", c->bundle, cfg->root.path);
    char *real = realpath(p, NULL);
    if (real == NULL)
        return husk_fail(err, errno, "rootfs %s", p);
    struct stat st;
    if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
        free(real);
        return husk_fail(err, ENOTDIR, "rootfs %s", p);
    }
    c->rootfs = real;
    return 0;
}

static void fill_state(struct husk_state *st, const struct husk_container *c, const struct husk_cgroup *cg)
{
    const struct oci_config *cfg = c->config;
    memset(st, 0, sizeof *st);
    st->id = (char *)c->id;
    st->pid = c->pid;
    st->pid_start = c->pid > 0 ? proc_start_time(c->pid) : 0;
    st->bundle = c->bundle;
    st->rootfs = c->rootfs;
    st->owner = (char *)"";
    st->annotations = cfg->annotations;
    st->n_annotations = cfg->n_annotations;
    st->cgroup_created = cg->created;
    st->cgroup_paths = cg->paths;
    st->cgroup_freezer = cg->freezer;
    st->no_new_keyring = c->no_new_keyring;
}

/* Wait until fd (the sync socket, a pidfd) is readable. Every setup step runs in
 * the container's cgroup: if someone freezes it meanwhile, nothing would ever
 * arrive, and create would hang (with signals blocked, under `run`). So whenever
 * the setup is quiet for a while, look whether the cgroup is frozen. */
static int await_setup(int fd, const struct husk_cgroup *cg, husk_err **err)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, 200);
        if (r > 0 || (r < 0 && errno != EINTR))
            return 0;   /* readable, or an error the read itself will report */
        if (r == 0) {
            _cleanup_free_ char *why = cgroup_frozen_why(cg);
            if (why)
                return husk_fail(err, 0, "container's cgroup was frozen during create: %s", why);
        }
    }
}

/* The parent's side of create, once stage 1 runs (stage1 > 0), or the init cloned
 * directly (stage1 <= 0, c->pid already set). */
static int create_parent(struct husk_container *c, int sock, pid_t stage1, int dirfd, const char *created,
                         const struct husk_cgroup *cg, int seccomp_prog_fd, husk_err **err)
{
    struct oci_config *cfg = c->config;
    struct sync_msg msg;
    struct husk_state st;

    /* Stage 1 (or the init) puts itself into the cgroups (stage1_main). */
    if (sync_send(sock, SYNC_GO, 0, NULL) < 0)
        return husk_fail(err, errno, "sync with container setup");
    husk_kill_point("create.after-go");

    /* The copy of config.json that start, exec and delete take the hooks from: made
     * now, while the init sets itself up on another CPU, rather than before it
     * exists. Nothing reads it before create returns. */
    if (state_save_config(dirfd, c->bundle, err) < 0)
        return -1;

    if (stage1 > 0 && (ns_new_flags(cfg) & CLONE_NEWUSER)) {
        if (await_setup(sock, cg, err) < 0 || sync_recv(sock, &msg, SYNC_USERMAP_PLS, err) < 0)
            return -1;
        if (ns_write_id_maps(stage1, &cfg->linux_, err) < 0)
            return -1;
        if (sync_send(sock, SYNC_USERMAP_ACK, 0, NULL) < 0)
            return husk_fail(err, errno, "sync with container setup");
    }

    /* The seccomp program is generated now, while stages 1 and 2 set the container up
     * on another CPU, rather than before the fork: libseccomp takes ~15 ms for a
     * podman-sized profile. Stage 2 reads it from the memfd only once `start` lets it
     * go on, after this function has returned. A profile libseccomp refuses fails
     * create here, and create's clean-up removes what was made. The program is also
     * kept in the state dir, for `husk exec` to load as it is (seccomp_filter.h). */
    if (seccomp_prog_fd >= 0) {
        _cleanup_seccomp_ struct husk_seccomp *filter = NULL;
        if (seccomp_filter_build_cached(&cfg->linux_.seccomp, c->seccomp_cache_dir, &filter, err) < 0 ||
            seccomp_filter_save(filter, seccomp_prog_fd, err) < 0 ||
            seccomp_filter_save_at(filter, dirfd, SECCOMP_SAVED_NAME, err) < 0)
            return -1;
    }

    if (stage1 > 0) {
        if (await_setup(sock, cg, err) < 0 || sync_recv(sock, &msg, SYNC_PID, err) < 0)
            return -1;
        c->pid = msg.value;
    }
    log_debug("container init: pid %d", (int)c->pid);
    husk_kill_point("create.after-pid");

    fill_state(&st, c, cg);
    st.created = (char *)created;
    if (state_write(dirfd, &st, err) < 0)
        return -1;
    husk_kill_point("create.after-state-written");

    /* `husk run` with nothing more for us to do during the setup (no hooks, no
     * seccomp listener, no bind sources to open): everything is recorded now, so
     * the init need not wait for us once it is READY; it finds the ack waiting.
     * (Not for create: a create killed after this would leave an init waiting on
     * exec.fifo for a start that never comes. A run's init starts by itself.) */
    bool acked = false;
    if (c->start_now && !need_parent_hooks(cfg) && !need_state_in_container(cfg) && !(cfg->has_linux && cfg->linux_.has_seccomp && seccomp_uses_notify(&cfg->linux_.seccomp)) &&
        !mount_sources_needed(cfg)) {
        if (c->pid_file && container_write_pid_file(c->pid_file, c->pid, err) < 0)
            return -1;
        /* An init that failed already has closed its end: its error is read below. */
        acked = sync_send(sock, SYNC_READY_ACK, 0, NULL) == 0;
    }

    for (;;) {
        if (await_setup(sock, cg, err) < 0 || sync_recv(sock, &msg, 0, err) < 0)
            return -1;
        if (msg.type == SYNC_ERROR) {
            husk_fail(err, 0, "%s", msg.text);
            (*err)->errnum = msg.value;
            return -1;
        }
        if (msg.type == SYNC_READY)
            break;
        if (msg.type == SYNC_MOUNTSRC_PLS) {
            if (mount_sources_serve(c, sock, err) < 0)
                return -1;
            continue;
        }
        if (msg.type != SYNC_HOOKS_PLS)
            return husk_fail(err, 0, "unexpected message %d from container setup", msg.type);

        _cleanup_free_ char *json = hook_state_json(&st, HUSK_CREATING);
        if (cfg->has_hooks) {
            /* prestart is deprecated but still called, right before createRuntime. */
            /* In the bundle dir, as runc's `create` runs them (it chdirs there). */
            struct hooks_ctx hc = { .cwd = c->bundle };
            if (hooks_run(&cfg->hooks.prestart, "prestart", json, &hc, err) < 0 ||
                hooks_run(&cfg->hooks.create_runtime, "createRuntime", json, &hc, err) < 0)
                return -1;
        }
        if (sync_send(sock, SYNC_HOOKS_DONE, 0, json) < 0)
            return husk_fail(err, errno, "sync with container setup");
    }

    /* Everything is recorded: the init may now outlive us (see stage2_main). */
    if (!acked && c->pid_file && container_write_pid_file(c->pid_file, c->pid, err) < 0)
        return -1;
    if (!acked && sync_send(sock, SYNC_READY_ACK, 0, NULL) < 0)
        return husk_fail(err, errno, "sync with container setup");
    log_debug("created %s: init pid %d waits for start", c->id, (int)c->pid);
    /* Stage 1 exited right after sending PID; reaped only now (a failure before
     * this point reaps it in create's clean-up), so that its exit overlaps our work
     * and stage 2's instead of being waited for in between. Waited for through its
     * pidfd with the freezer watched: a cgroup frozen under it would keep it from
     * exiting, and waitpid would hang (await_setup fails create then). */
    if (stage1 > 0) {
        _cleanup_close_ int s1fd = husk_pidfd_open(stage1, 0);
        if (s1fd >= 0 && await_setup(s1fd, cg, err) < 0)
            return -1;
        waitpid(stage1, NULL, 0);
    }
    husk_kill_point("create.before-return");
    return 0;
}

int container_create(struct husk_container *c, husk_err **err)
{
    struct oci_config *cfg = c->config;
    struct husk_cgroup cg = { 0 };
    struct ns_join joins;
    int socks[2] = { -1, -1 };
    _cleanup_close_ int dirfd = -1;
    _cleanup_close_ int fifo_fd = -1;
    _cleanup_free_ char *created = NULL;
    pid_t stage1 = -1, direct_init = -1;
    int start_pipe[2] = { -1, -1 };
    bool made_dir = false;
    _cleanup_close_ int seccomp_prog_fd = -1;
    _cleanup_close_ int listener_fd = -1;

    for (int i = 0; i < OCI_NS_COUNT; i++)
        joins.fd[i] = -1;
    c->console_sock_fd = c->console_sock_fd > 0 ? c->console_sock_fd : -1;
    c->listen_fds = caller_listen_fds();
    c->start_fd = -1;

    if (id_validate(c->id, err) < 0)
        return -1;
    if (!cfg->has_process)
        return husk_fail(err, 0, "config.json: process: required");
    if (resolve_rootfs(c, err) < 0)
        return -1;
    if (mount_sources_check(cfg, err) < 0)
        return -1;
    if (cfg->process.terminal && c->console_sock_fd < 0 && c->console_socket == NULL)
        return husk_fail(err, 0, "cannot allocate tty if husk will detach without setting console socket");
    if (!cfg->process.terminal && c->console_socket != NULL)
        return husk_fail(err, 0, "cannot use console socket if husk will not detach or allocate tty");

    /* The seccomp program travels to stage 2 through a memfd, filled by the parent
     * while the container is set up (create_parent). The listener is connected from
     * here: stage 2 will not see the host's filesystem. */
    if (cfg->has_linux && cfg->linux_.has_seccomp) {
        if (seccomp_filter_check(&cfg->linux_.seccomp, err) < 0)
            return -1;
        seccomp_prog_fd = memfd_create("husk-seccomp", MFD_CLOEXEC);
        if (seccomp_prog_fd < 0)
            return husk_fail(err, errno, "memfd_create");
        if (seccomp_uses_notify(&cfg->linux_.seccomp)) {
            listener_fd = seccomp_listener_connect(cfg->linux_.seccomp.listener_path, err);
            if (listener_fd < 0)
                return -1;
        }
    }

    dirfd = state_dir_create(c->root_dir, c->id, err);
    if (dirfd < 0)
        return -1;
    made_dir = true;
    husk_kill_point("create.after-state-dir");

    created = time_rfc3339();
    /* state.json is first written once the cgroups exist (below): until then a
     * crash leaves a state dir without it, which delete --force handles as it
     * handles one whose cgroups were not recorded yet. (One file less to create
     * per container: on a filesystem like ext4 each new inode costs.) The config
     * copy is saved by create_parent, while the init sets itself up. */

    /* exec.fifo: stage 2 blocks opening it for writing until `start` reads it. It is
     * owned by the container's root so that stage 2 can open it from a user ns.
     * `husk run` starts the container itself, right after create: no fifo, nothing
     * to wait for, and the init's report comes through a pipe (as with crun's run;
     * the container is "running" as soon as create has returned). */
    if (c->start_now) {
        if (pipe2(start_pipe, O_CLOEXEC) < 0) {
            husk_fail(err, errno, "pipe");
            goto fail;
        }
    } else {
        if (mkfifoat(dirfd, "exec.fifo", 0600) < 0) {
            husk_fail(err, errno, "mkfifo exec.fifo");
            goto fail;
        }
        if (fchownat(dirfd, "exec.fifo", ns_host_uid(cfg, 0), ns_host_gid(cfg, 0), AT_SYMLINK_NOFOLLOW) < 0) {
            husk_fail(err, errno, "chown exec.fifo");
            goto fail;
        }
        fifo_fd = openat(dirfd, "exec.fifo", O_PATH | O_CLOEXEC);
        if (fifo_fd < 0) {
            husk_fail(err, errno, "open exec.fifo");
            goto fail;
        }
    }
    husk_kill_point("create.after-state");

    if (cgroup_create(cfg->has_linux ? cfg->linux_.cgroups_path : NULL, c->id, &cg, err) < 0)
        goto fail;
    husk_kill_point("create.after-cgroup");
    /* Record the cgroups before any process is in them: if we die from here on,
     * delete --force finds them (and what is in them) in state.json. A crash before
     * this write leaves them unrecorded; delete --force then looks for the default
     * /husk/<id> ones by id (remove_broken_cgroup). */
    {
        struct husk_state st;
        fill_state(&st, c, &cg);
        st.created = created;
        if (state_write(dirfd, &st, err) < 0)
            goto fail;
    }
    husk_kill_point("create.after-cgroup-recorded");
    if (cgroup_check_new(&cg, err) < 0)
        goto fail;
    /* Limits and device rules before any process is in the cgroup: the container
     * never runs, not even husk's setup in it, without them. */
    if (cgroup_apply_resources(&cg, cfg->has_linux ? &cfg->linux_ : NULL, err) < 0)
        goto fail;
    log_debug("cgroups made, resources applied: %s", cg.paths && cg.paths[0] ? cg.paths[0] : "(none)");
    if (c->console_socket && c->console_sock_fd < 0) {
        c->console_sock_fd = terminal_connect_socket(c->console_socket, err);
        if (c->console_sock_fd < 0)
            goto fail;
    }
    if (ns_open_joins(cfg, &joins, err) < 0 || process_check_host_settings(cfg, joins.host, err) < 0)
        goto fail;
    /* In a joined user namespace the container's root is whoever its map says. */
    if (fifo_fd >= 0 && joins.fd[OCI_NS_USER] >= 0 && !joins.host[OCI_NS_USER] &&
        fchownat(dirfd, "exec.fifo", joins.root_uid, joins.root_gid, AT_SYMLINK_NOFOLLOW) < 0) {
        husk_fail(err, errno, "chown exec.fifo");
        goto fail;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0) {
        husk_fail(err, errno, "socketpair");
        goto fail;
    }

    pid_t creator = getpid();
    bool born_in_v2 = false;
    int direct = direct_clone_flags(cfg, &joins);
    if (direct >= 0) {
        pid_t pid = cgroup_clone_into(&cg, direct, &born_in_v2);
        if (pid < 0) {
            husk_fail(err, errno, "create namespaces");
            goto fail;
        }
        if (pid == 0) {
            /* Dies with us until it is in the container's cgroups (init_direct_main),
             * so a create killed now leaves no process outside them; the socket's
             * EOF says whether we died before the flag was set (in its own pid
             * namespace, getppid() is 0). */
            close(socks[0]);
            close(dirfd);
            if (start_pipe[0] >= 0)
                close(start_pipe[0]);
            struct pollfd alive = { .fd = socks[1], .events = POLLRDHUP };
            if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || poll(&alive, 1, 0) != 0)
                _exit(1);
            struct stage_ctx s = { .c = c, .sock = socks[1], .fifo_fd = fifo_fd, .start_wfd = start_pipe[1],
                                   .seccomp_prog_fd = seccomp_prog_fd,
                                   .seccomp_listener_fd = listener_fd, .cg = &cg, .born_in_v2 = born_in_v2 };
            init_direct_main(&s);   /* never returns */
        }
        c->pid = pid;
        direct_init = pid;
    } else {
        stage1 = cgroup_fork_into(&cg, &born_in_v2);
        if (stage1 < 0) {
            husk_fail(err, errno, "fork");
            goto fail;
        }
    }
    if (stage1 == 0) {
        /* Stage 1 dies with us: a create killed before it has even sent GO leaves
         * no process outside the container's cgroups (the sync socket's EOF does the
         * same later; this covers a stage 1 that is not reading it). Stage 1 exits by
         * itself once the init is forked, and the flag is not inherited by the init,
         * which must outlive create. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != creator)
            _exit(1);
        close(socks[0]);
        close(dirfd);
        if (start_pipe[0] >= 0)
            close(start_pipe[0]);
        struct stage_ctx s = { .c = c, .sock = socks[1], .fifo_fd = fifo_fd, .start_wfd = start_pipe[1],
                                   .seccomp_prog_fd = seccomp_prog_fd,
                               .seccomp_listener_fd = listener_fd, .cg = &cg, .born_in_v2 = born_in_v2 };
        stage1_main(&s, &joins);   /* never returns */
    }
    close(socks[1]);
    socks[1] = -1;
    ns_close_joins(&joins);
    /* Only the init may hold the write end: its death is then the reader's EOF. */
    if (start_pipe[1] >= 0) {
        close(start_pipe[1]);
        start_pipe[1] = -1;
    }
    if (direct_init > 0)
        log_debug("container init cloned into its namespaces (flags 0x%x): pid %d", direct, (int)direct_init);
    else
        log_debug("stage 1 forked: pid %d", (int)stage1);
    husk_kill_point("create.after-stage1-fork");

    if (create_parent(c, socks[0], stage1, dirfd, created, &cg, seccomp_prog_fd, err) < 0)
        goto fail;

    close(socks[0]);
    if (c->console_sock_fd >= 0 && c->console_socket) {
        close(c->console_sock_fd);
        c->console_sock_fd = -1;
    }
    c->start_fd = start_pipe[0];
    cgroup_free(&cg);
    return 0;

fail:
    /* Nothing of a failed create may stay: the processes, the cgroups, the state. */
    if (socks[0] >= 0)
        close(socks[0]);
    if (socks[1] >= 0)
        close(socks[1]);
    for (int i = 0; i < 2; i++)
        if (start_pipe[i] >= 0)
            close(start_pipe[i]);
    ns_close_joins(&joins);
    /* Our setup processes in a cgroup frozen meanwhile: a v1 freezer holds SIGKILL
     * back until it is thawed, and waiting for them would hang. They are ours to
     * end (a cgroup frozen before create was refused before any process of ours
     * went in). If it stays frozen (a frozen ancestor), they die when it thaws. */
    bool frozen = (stage1 > 0 || direct_init > 0) && cg.paths && !cgroup_thaw_all(&cg);
    if (c->pid > 0)
        kill(c->pid, SIGKILL);
    /* An init cloned directly is our child: reap it (not in a cgroup still frozen,
     * where it cannot die yet). */
    if (direct_init > 0 && !frozen)
        waitpid(direct_init, NULL, __WALL);
    if (stage1 > 0 && frozen)
        kill(stage1, SIGKILL);
    else if (stage1 > 0)
        kill_and_reap(stage1);
    /* A container init whose pid never reached us (stage 1 failed after forking it)
     * is still in the cgroup: kill what is there, if the cgroup is one we made. */
    kill_new_cgroup_procs(&cg);
    if (cg.paths) {
        /* The init may take a moment to die; cgroup_destroy retries EBUSY. */
        husk_err *e2 = NULL;
        cgroup_destroy(&cg, &e2);
        husk_err_report(&e2);
    }
    cgroup_free(&cg);
    if (c->console_sock_fd >= 0 && c->console_socket) {
        close(c->console_sock_fd);
        c->console_sock_fd = -1;
    }
    if (made_dir)
        state_dir_remove(c->root_dir, c->id, NULL);
    c->pid = 0;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* start, kill, delete, state                                                */

int container_load_state(const char *root, const char *id, int *dirfd, struct husk_state **st, husk_err **err)
{
    if (id_validate(id, err) < 0)
        return -1;
    *dirfd = state_dir_open(root, id, err);
    if (*dirfd < 0)
        return -1;
    if (state_read(*dirfd, id, st, err) < 0) {
        close(*dirfd);
        *dirfd = -1;
        return -1;
    }
    return 0;
}

/* The config the container was created from (the copy create saved in the state
 * dir), for the hooks of later steps. */
static int load_config_of(const char *root, const struct husk_state *st, struct oci_config **cfg, husk_err **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/%s", root, st->id);
    return config_load(dir, cfg, err);
}

static int kill_all(const struct husk_state *st, int sig, husk_err **err);
static bool wait_gone(const struct husk_state *st, int ms);

/* The init's report: "0" once it is about to exec the user's program, "1<why>"
 * when the start failed, nothing (EOF) when it died. */
static int start_report(const char *id, const char *buf, size_t got, husk_err **err)
{
    if (got == 0)
        return husk_fail(err, 0, "container %s exited before it could start", id);
    if (buf[0] != '0')
        return husk_fail(err, 0, "%s", buf + 1);
    return 0;
}

/* runtime.md lifecycle step 9: a failing poststart hook is an error and the
 * container is stopped; `delete` then removes it (and runs poststop). */
static int run_poststart(const struct husk_state *st, const struct oci_config *cfg, husk_err **err)
{
    if (!cfg->has_hooks || !has_hooks(&cfg->hooks.poststart))
        return 0;
    _cleanup_free_ char *json = state_oci_json(st, HUSK_RUNNING);
    if (hooks_run(&cfg->hooks.poststart, "poststart", json, NULL, err) < 0) {
        if (proc_start_time(st->pid) == st->pid_start)
            kill(st->pid, SIGKILL);
        kill_all(st, SIGKILL, NULL);
        wait_gone(st, 5000);
        return -1;
    }
    return 0;
}

int container_start(const char *root, const char *id, husk_err **err)
{
    return container_start_cfg(root, id, NULL, err);
}

int container_start_cfg(const char *root, const char *id, const struct oci_config *known, husk_err **err)
{
    _cleanup_close_ int dirfd = -1;
    _cleanup_state_ struct husk_state *st = NULL;
    _cleanup_config_ struct oci_config *loaded = NULL;
    const struct oci_config *cfg = known;

    if (container_load_state(root, id, &dirfd, &st, err) < 0)
        return -1;
    enum husk_status status = state_status(dirfd, st);
    if (status != HUSK_CREATED)
        return husk_fail(err, 0, "cannot start a container that is %s: %s", status_name(status), id);
    /* The poststart hooks, read before the container is released: once its program
     * runs, start can no longer fail cleanly for want of them. */
    if (cfg == NULL) {
        if (load_config_of(root, st, &loaded, err) < 0)
            return husk_err_prefix(err, "start %s", id);
        cfg = loaded;
    }

    husk_kill_point("start.before-release");
    /* Opening for reading releases the init's blocked open for writing. O_NONBLOCK so
     * a dead init cannot hang us; we then poll the fifo and the init's pidfd. */
    _cleanup_close_ int fifo = openat(dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fifo < 0)
        return husk_fail(err, errno, "open exec.fifo of %s", id);
    _cleanup_close_ int pidfd = husk_pidfd_open(st->pid, 0);

    char buf[4096];
    size_t got = 0;
    for (;;) {
        struct pollfd p[2] = { { .fd = fifo, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
        int r = poll(p, pidfd >= 0 ? 2 : 1, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return husk_fail(err, errno, "wait for container %s", id);
        if (p[0].revents & (POLLIN | POLLHUP)) {
            ssize_t n = read(fifo, buf + got, sizeof buf - 1 - got);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
            if (buf[0] == '0' || got >= sizeof buf - 1)
                break;
            continue;
        }
        if (pidfd >= 0 && (p[1].revents & POLLIN)) {
            /* The init died; drain what it may have written. */
            ssize_t n = read(fifo, buf + got, sizeof buf - 1 - got);
            if (n > 0)
                got += (size_t)n;
            break;
        }
    }
    buf[got] = '\0';
    husk_kill_point("start.after-release");
    log_debug("start %s: exec.fifo read, the init (pid %d) %s", id, (int)st->pid,
              got > 0 && buf[0] == '0' ? "is exec'ing its program" : "failed");
    /* The fifo's presence is what says "created": remove it now that we started. */
    unlinkat(dirfd, "exec.fifo", 0);
    if (start_report(id, buf, got, err) < 0)
        return -1;

    if (run_poststart(st, cfg, err) < 0)
        return -1;
    husk_kill_point("start.after-poststart");
    log_debug("start %s: done", id);
    return 0;
}

int container_start_run(struct husk_container *c, husk_err **err)
{
    _cleanup_close_ int fd = c->start_fd;
    char buf[4096];
    size_t got = 0;

    c->start_fd = -1;
    /* The init went on by itself once create had recorded it; only it holds the
     * write end, so its death is EOF here. */
    while (got < sizeof buf - 1) {
        ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return husk_fail(err, errno, "wait for container %s", c->id);
        if (n == 0)
            break;
        got += (size_t)n;
        if (buf[0] == '0')
            break;
    }
    buf[got] = '\0';
    log_debug("run %s: the init (pid %d) %s", c->id, (int)c->pid,
              got > 0 && buf[0] == '0' ? "is exec'ing its program" : "failed");
    if (start_report(c->id, buf, got, err) < 0)
        return -1;
    if (c->config->has_hooks && has_hooks(&c->config->hooks.poststart)) {
        /* The state as `start` would read it, for the hooks and their clean-up. */
        _cleanup_close_ int dirfd = -1;
        _cleanup_state_ struct husk_state *st = NULL;
        if (container_load_state(c->root_dir, c->id, &dirfd, &st, err) < 0 ||
            run_poststart(st, c->config, err) < 0)
            return -1;
    }
    log_debug("run %s: started", c->id);
    return 0;
}

static void cgroup_of_state(const struct husk_state *st, struct husk_cgroup *cg)
{
    cg->paths = st->cgroup_paths;
    cg->created = st->cgroup_created;
    cg->freezer = st->cgroup_freezer;
}

/* Signal every process of the container's cgroup. */
static int kill_all(const struct husk_state *st, int sig, husk_err **err)
{
    struct husk_cgroup cg;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    cgroup_of_state(st, &cg);
    if ((cg.paths == NULL || cg.paths[0] == NULL) && sig != 0)
        return 0;
    if (cg.paths && cg.paths[0] && cgroup_pids(&cg, &pids, &n, err) < 0)
        return -1;
    size_t reached = 0;
    for (size_t i = 0; i < n; i++) {
        if (kill(pids[i], sig) == 0)
            reached++;
        else if (errno != ESRCH)
            return husk_fail(err, errno, "kill %d", (int)pids[i]);
    }
    /* Signal 0 asks whether anything is alive: "no" is the answer, as an error. */
    if (sig == 0 && reached == 0)
        return husk_fail(err, 0, "container not running: %s (no processes)", st->id);
    return 0;
}

/* The processes of a paused container keep every signal pending until they are
 * thawed, and a v1 freezer holds back even SIGKILL. Like runc, thaw after a
 * SIGKILL so that it takes effect now: each task handles the pending SIGKILL
 * before running any more of its own code. Other signals wait for `resume`. */
static int thaw_after_kill(const struct husk_state *st, enum husk_status status, int sig, husk_err **err)
{
    struct husk_cgroup cg;
    if (sig != SIGKILL || status != HUSK_PAUSED)
        return 0;
    cgroup_of_state(st, &cg);
    return cgroup_thaw(&cg, err) < 0 ? husk_err_prefix(err, "kill container %s", st->id) : 0;
}

int container_kill(const char *root, const char *id, int sig, bool all, husk_err **err)
{
    _cleanup_close_ int dirfd = -1;
    _cleanup_state_ struct husk_state *st = NULL;

    if (container_load_state(root, id, &dirfd, &st, err) < 0)
        return -1;
    enum husk_status status = state_status(dirfd, st);
    log_debug("kill %s: signal %d to %s", id, sig, all ? "every process of its cgroup" : "its init");
    if (all)
        return kill_all(st, sig, err) < 0 ? -1 : thaw_after_kill(st, status, sig, err);
    if (status == HUSK_STOPPED || status == HUSK_CREATING)
        return husk_fail(err, 0, "container not running: %s", id);
    /* A pidfd pins the process we checked: the signal cannot hit a reused pid. */
    _cleanup_close_ int pidfd = husk_pidfd_open(st->pid, 0);
    if (pidfd >= 0 && proc_start_time(st->pid) == st->pid_start) {
        if (husk_pidfd_send_signal(pidfd, sig) < 0)
            return husk_fail(err, errno, "kill container %s", id);
        return thaw_after_kill(st, status, sig, err);
    }
    if (kill(st->pid, sig) < 0)
        return husk_fail(err, errno, "kill container %s", id);
    return thaw_after_kill(st, status, sig, err);
}

/* Wait until pid (checked against its start time) is gone, up to ms milliseconds. */
static bool wait_gone(const struct husk_state *st, int ms)
{
    _cleanup_close_ int pidfd = husk_pidfd_open(st->pid, 0);
    if (pidfd < 0)
        return true;
    if (proc_start_time(st->pid) != st->pid_start)
        return true;
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    return poll(&p, 1, ms) > 0;
}

/* delete --force of a container whose state.json cannot be read (tampered with, or
 * lost by the disk): no pid can be trusted, but the default cgroup /husk/<id> of each
 * hierarchy is named after the container and only ever made by its create, so what is
 * in it is the container's: kill that and remove the cgroup. A custom cgroupsPath (from
 * the config copy of create) may be shared with processes that are not the
 * container's, so it is left alone, with a warning. */
static void remove_broken_cgroup(const char *root, const char *id)
{
    _cleanup_free_ char *dir = xasprintf("%s/%s", root, id);
    _cleanup_config_ struct oci_config *cfg = NULL;
    _cleanup_free_ char *mountinfo = NULL, *self = NULL;
    _cleanup_strv_ char **paths = NULL;
    husk_err *e = NULL;

    if (config_load(dir, &cfg, NULL) == 0 && cfg->has_linux && cfg->linux_.cgroups_path) {
        husk_log(HUSK_LOG_WARNING, "delete %s: state lost; cgroup %s is not removed", id, cfg->linux_.cgroups_path);
        return;
    }
    if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", 4 << 20, &mountinfo, NULL, &e) < 0 ||
        read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &self, NULL, &e) < 0 ||
        cgroup_resolve(mountinfo, self, NULL, id, &paths, &e) < 0) {
        husk_log(HUSK_LOG_WARNING, "delete %s: %s", id, e->msg);
        husk_err_free(&e);
        return;
    }
    for (char **p = paths; *p; p++) {
        char *one[] = { *p, NULL };
        struct husk_cgroup cg = { .paths = one, .created = one };
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (access(*p, F_OK) < 0)
            continue;
        /* Freeze-proof: a frozen v1 freezer would hold SIGKILL back. */
        if (strstr(*p, "/freezer/")) {
            _cleanup_free_ char *f = xasprintf("%s/freezer.state", *p);
            write_file_at(AT_FDCWD, f, "THAWED", 6, NULL);
        }
        if (cgroup_pids(&cg, &pids, &n, NULL) == 0)
            for (size_t i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        if (cgroup_destroy(&cg, &e) < 0) {
            husk_log(HUSK_LOG_WARNING, "delete %s: %s", id, e->msg);
            husk_err_free(&e);
        }
    }
}

/* May delete SIGKILL everything in the container's cgroup? Yes when husk made
 * the cgroup (all in it is the container's), or when the container shares a pid
 * namespace (then its processes outlive the init). A cgroupsPath that named an
 * existing cgroup may also hold others' processes (create warned "not empty");
 * with a pid namespace of its own, the container's die with its init. */
static bool cgroup_all_ours(const struct husk_state *st, const struct oci_config *cfg)
{
    const struct oci_namespace *pidns = cfg ? config_find_ns(cfg, OCI_NS_PID) : NULL;
    if (cfg == NULL || pidns == NULL || pidns->path != NULL)
        return true;
    for (char **p = st->cgroup_paths; p && *p; p++) {
        bool made = false;
        for (char **c = st->cgroup_created; c && *c; c++)
            made = made || strcmp(*c, *p) == 0;
        if (!made)
            return false;
    }
    return true;
}

int container_delete(const char *root, const char *id, bool force, husk_err **err)
{
    return container_delete_cfg(root, id, force, NULL, err);
}

int container_delete_cfg(const char *root, const char *id, bool force, const struct oci_config *known,
                         husk_err **err)
{
    _cleanup_close_ int dirfd = -1;
    _cleanup_state_ struct husk_state *st = NULL;
    _cleanup_config_ struct oci_config *loaded = NULL;
    const struct oci_config *cfg = known;

    if (id_validate(id, err) < 0)
        return -1;
    dirfd = state_dir_open(root, id, err);
    if (dirfd < 0)
        return -1;
    if (state_read(dirfd, id, &st, err) < 0) {
        /* A corrupt or half-written state (husk killed mid-create) can only be forced
         * away; there is nothing we can safely signal. */
        if (!force)
            return husk_err_prefix(err, "delete %s (use --force to remove it)", id);
        husk_err_free(err);
        remove_broken_cgroup(root, id);
        return state_dir_remove(root, id, err);
    }

    enum husk_status status = state_status(dirfd, st);
    /* We hold the lock its create held until it returned: "creating" now means
     * that create died half-way. */
    if (status == HUSK_CREATING && !force)
        return husk_fail(err, 0, "container %s was left half-made by a create that did not finish (use --force "
                                 "to remove it)", id);
    if (status != HUSK_STOPPED && status != HUSK_CREATED && !force)
        return husk_fail(err, 0, "cannot delete container %s that is not stopped: %s", id, status_name(status));

    /* Read before the state dir (which holds the copy) goes: poststop hooks, and
     * whether the cgroup's processes are all the container's. */
    _cleanup_err_ husk_err *cfg_err = NULL;
    if (cfg == NULL && load_config_of(root, st, &loaded, &cfg_err) == 0)
        cfg = loaded;
    bool kill_cgroup = cgroup_all_ours(st, cfg);

    if (status != HUSK_STOPPED) {
        /* A frozen cgroup would keep SIGKILL from being delivered: thaw first,
         * whoever froze it (`husk pause`, a write to freezer.state or
         * cgroup.freeze; see cgroup_freezer.c). */
        struct husk_cgroup fcg;
        cgroup_of_state(st, &fcg);
        cgroup_thaw_all(&fcg);
        if (st->pid > 0 && proc_start_time(st->pid) == st->pid_start)
            kill(st->pid, SIGKILL);
        if (kill_cgroup)
            kill_all(st, SIGKILL, NULL);
        if (st->pid > 0 && !wait_gone(st, 5000))
            return husk_fail(err, 0, "container %s did not die after SIGKILL", id);
        /* A create that died between making the cgroups and recording them: find
         * the default ones by id, kill what is in them and remove them. */
        if (st->pid == 0 && (st->cgroup_paths == NULL || st->cgroup_paths[0] == NULL))
            remove_broken_cgroup(root, id);
    } else if (kill_cgroup) {
        /* Processes of a container without its own pid namespace outlive the init. */
        kill_all(st, SIGKILL, NULL);
    }
    husk_kill_point("delete.after-kill");

    struct husk_cgroup cg;
    cgroup_of_state(st, &cg);
    if (cg.created && cgroup_destroy(&cg, err) < 0)
        return -1;
    husk_kill_point("delete.after-cgroup-removal");
    log_debug("delete %s: processes killed, cgroups removed", id);

    if (cfg_err) {
        husk_log(HUSK_LOG_WARNING, "delete %s: no poststop hooks run: %s", id, cfg_err->msg);
        husk_err_free(&cfg_err);
    }
    husk_kill_point("delete.before-state-removal");
    if (state_dir_remove(root, id, err) < 0)
        return -1;

    /* poststop: after the container is deleted; a failure is a warning and the
     * remaining hooks still run (runtime.md lifecycle step 13). */
    if (cfg && cfg->has_hooks && has_hooks(&cfg->hooks.poststop)) {
        _cleanup_free_ char *json = state_oci_json(st, HUSK_STOPPED);
        hooks_run_warn(&cfg->hooks.poststop, "poststop", json, NULL);
    }
    return 0;
}

int container_peek(const char *root, const char *id, struct husk_state **st, int *status, husk_err **err)
{
    if (id_validate(id, err) < 0)
        return -1;
    _cleanup_free_ char *dir = xasprintf("%s/%s", root, id);
    _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0) {
        if (errno == ENOENT) {
            husk_fail(err, 0, "container does not exist: %s", id);
            (*err)->errnum = ENOENT;
            return -1;
        }
        return husk_fail(err, errno, "open %s", dir);
    }
    if (state_read(dirfd, id, st, err) < 0)
        return -1;
    *status = (int)state_status(dirfd, *st);
    /* "creating" while nobody holds the lock create keeps until it returns: that
     * create died. Report it rather than a status that will never change. */
    if (*status == HUSK_CREATING && flock(dirfd, LOCK_SH | LOCK_NB) == 0) {
        flock(dirfd, LOCK_UN);
        state_free(*st);
        *st = NULL;
        return husk_fail(err, 0, "container %s was left half-made by a create that did not finish "
                                 "(`husk delete --force %s` removes it)", id, id);
    }
    return 0;
}

int container_state_json(const char *root, const char *id, char **out, husk_err **err)
{
    _cleanup_state_ struct husk_state *st = NULL;
    int status;

    if (container_peek(root, id, &st, &status, err) < 0)
        return -1;
    *out = state_oci_json(st, (enum husk_status)status);
    return 0;
}
