/* exec.c — see exec.h.
 *
 *   husk exec (parent)                          the new process
 *   ------------------                          ---------------
 *   lock state dir, read state, check status
 *   load the config copy of create; build the
 *   process; read the seccomp program create
 *   saved (built from the config if none)
 *   open /proc/<init>/ns/NAME, /proc/<init>/root
 *   setns(pid ns), fork, setns back ---------->  not dumpable; wait GO
 *   put it in the cgroups, unlock, GO -------->  setns() user, ..., mount; chroot to
 *                                                the init's root; tty, rlimits, cwd,
 *                                                seccomp, caps, user, no_new_privs
 *   EOF on the sync socket: exec'd  <---------   execve (the socket is close-on-exec)
 *   or SYNC_ERROR with the reason   <---------   a failure before it
 *
 * A pid namespace only applies to children of the process that joins it, so the
 * parent joins it just long enough to fork and then returns to its own: the forked
 * process is in the container's pid namespace from birth and is still our child,
 * whose exit status we can wait for. */
#include "exec.h"

#include "caps.h"
#include "cgroups.h"
#include "container.h"
#include "keyring.h"
#include "log.h"
#include "namespaces.h"
#include "newsys.h"
#include "process.h"
#include "seccomp_filter.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"
#include "testhooks.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------------ */
/* the process to run                                                        */

static int parse_id(const char *s, unsigned long *out)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > 0xfffffffeUL)   /* (uid_t)-1 means "unchanged" to the kernel */
        return -1;
    *out = v;
    return 0;
}

int exec_parse_user(const char *s, struct husk_exec *e, husk_err **err)
{
    _cleanup_free_ char *copy = xstrdup(s);
    char *colon = strchr(copy, ':');
    unsigned long uid, gid = 0;

    if (colon)
        *colon = '\0';
    if (parse_id(copy, &uid) < 0 || (colon && parse_id(colon + 1, &gid) < 0))
        return husk_fail(err, 0, "--user \"%s\": expected UID[:GID] (numbers)", s);
    e->has_user = true;
    e->uid = (uid_t)uid;
    e->has_gid = colon != NULL;
    e->gid = (gid_t)gid;
    return 0;
}

static void cap_list_add(int **list, bool *has, int cap)
{
    size_t n = 0;
    if (*list)
        for (; (*list)[n] != -1; n++)
            if ((*list)[n] == cap)
                return;
    *list = xrealloc(*list, (n + 2) * sizeof(int));
    (*list)[n] = cap;
    (*list)[n + 1] = -1;
    *has = true;
}

static void strv_append(char ***v, size_t *n, const char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(char *));
    (*v)[(*n)++] = xstrdup(s);
    (*v)[*n] = NULL;
}

/* Apply the flags to p (the container's process, or the --process one). */
static int apply_flags(const struct husk_exec *e, struct oci_process *p, husk_err **err)
{
    if (e->args) {
        strv_free(p->args);
        p->args = NULL;
        p->n_args = 0;
        for (char **a = e->args; *a; a++)
            strv_append(&p->args, &p->n_args, *a);
    }
    if (p->args == NULL || p->args[0] == NULL)
        return husk_fail(err, 0, "exec: no command given (process.args is empty)");
    /* --tty decides, whatever the container's own process had. */
    if (e->process == NULL || e->tty)
        p->terminal = e->tty;
    for (char **v = e->env; v && *v; v++) {
        if (strchr(*v, '=') == NULL)
            return husk_fail(err, 0, "--env \"%s\": expected KEY=VALUE", *v);
        strv_append(&p->env, &p->n_env, *v);
    }
    if (e->cwd) {
        if (e->cwd[0] != '/')
            return husk_fail(err, 0, "--cwd \"%s\": must be an absolute path", e->cwd);
        free(p->cwd);
        p->cwd = xstrdup(e->cwd);
    }
    if (e->has_user) {
        p->user.uid = e->uid;
        if (e->has_gid)
            p->user.gid = e->gid;
    }
    if (e->n_additional_gids) {
        size_t n = p->user.n_additional_gids;
        p->user.additional_gids = xrealloc(p->user.additional_gids, (n + e->n_additional_gids) * sizeof(gid_t));
        memcpy(p->user.additional_gids + n, e->additional_gids, e->n_additional_gids * sizeof(gid_t));
        p->user.n_additional_gids = n + e->n_additional_gids;
    }
    for (char **c = e->caps; c && *c; c++) {
        int n = cap_number(*c);
        struct oci_capabilities *k = &p->capabilities;
        if (n < 0) {
            /* Skipped with the config's unknown ones, in one warning (as runc). */
            caps_note_unknown(&k->unknown, *c);
            continue;
        }
        /* Added to the sets a process needs to use it (as runc's --cap does): the
         * bounding set (or it could never be had), permitted and effective. */
        p->has_capabilities = true;
        cap_list_add(&k->bounding, &k->has_bounding, n);
        cap_list_add(&k->permitted, &k->has_permitted, n);
        cap_list_add(&k->effective, &k->has_effective, n);
    }
    if (e->no_new_privs)
        p->no_new_privileges = true;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* what to join                                                              */

/* Open every namespace of the init that is not already ours: a namespace the
 * container shares with the host needs no setns (and our own user namespace cannot
 * be joined at all). */
static int open_namespaces(pid_t pid, struct ns_join *j, husk_err **err)
{
    for (int t = 0; t < OCI_NS_COUNT; t++) {
        const char *name = ns_proc_name((enum oci_ns_type)t);
        _cleanup_free_ char *path = xasprintf("/proc/%d/ns/%s", (int)pid, name);
        _cleanup_free_ char *self = xasprintf("/proc/self/ns/%s", name);
        struct stat a, b;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT && access("/proc/self/ns", F_OK) == 0 && stat(self, &b) < 0)
                continue;   /* a namespace type this kernel does not have */
            return husk_fail(err, errno, "open %s", path);
        }
        if (fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            close(fd);
            continue;
        }
        j->fd[t] = fd;
    }
    return 0;
}

/* The container's cgroup dirs, or with --cgroup SUB its existing sub-cgroup in each
 * hierarchy. SUB is relative and may not climb out of the container's cgroup. */
static int exec_cgroup(const struct husk_state *st, const char *sub, struct husk_cgroup *cg, husk_err **err)
{
    memset(cg, 0, sizeof *cg);
    if (st->cgroup_paths == NULL || st->cgroup_paths[0] == NULL)
        return husk_fail(err, 0, "container %s has no cgroup", st->id);
    size_t n = 0;
    while (st->cgroup_paths[n])
        n++;
    if (sub) {
        if (strchr(sub, ':'))
            return husk_fail(err, 0, "--cgroup \"%s\": the CONTROLLER:PATH form is not supported, only a "
                                     "sub-cgroup path for every hierarchy", sub);
        _cleanup_free_ char *copy = xstrdup(sub);
        char *save = NULL;
        if (sub[0] == '/' || sub[0] == '\0')
            return husk_fail(err, 0, "--cgroup \"%s\": expected a path relative to the container's cgroup", sub);
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
            if (strcmp(c, "..") == 0 || strcmp(c, ".") == 0)
                return husk_fail(err, 0, "--cgroup \"%s\": \".\" and \"..\" are not allowed", sub);
    }
    cg->paths = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        cg->paths[i] = sub ? xasprintf("%s/%s", st->cgroup_paths[i], sub) : xstrdup(st->cgroup_paths[i]);
        struct stat s;
        if (sub && (stat(cg->paths[i], &s) < 0 || !S_ISDIR(s.st_mode))) {
            husk_fail(err, errno ? errno : ENOTDIR, "--cgroup \"%s\": sub-cgroup %s", sub, cg->paths[i]);
            strv_free(cg->paths);
            cg->paths = NULL;
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the new process, from fork to execve                                      */

/* Sent as the "errno" of a failure to find or execve() the program. */
#define EXEC_NOT_FOUND (-127)

struct exec_child {
    struct oci_process *p;
    struct ns_join *joins;
    int rootfd;             /* O_PATH /proc/<init>/root, opened before any setns */
    int sock;               /* sync socket to the parent, close-on-exec */
    int lockfd;             /* the parent's locked state dir: ours is closed at once */
    int console_fd;         /* where the pty master goes, or -1 */
    int preserve_fds;
    struct husk_seccomp *seccomp;
    int listener_fd;        /* seccomp notify listener, or -1 */
    const char *listener_state;     /* the container's state JSON, for the listener */
    const char *listener_metadata;
    char *listener_msg;     /* the containerProcessState, made once our pid is known */
    const char *keyring_id; /* join "_ses.<id>"; NULL with create --no-new-keyring */
    const struct husk_cgroup *cg;   /* to move ourselves into, unless the parent did */
    bool born_in_v2;        /* forked into the v2 cgroup already (cgroup_fork_into) */
};

static int child_seccomp(struct exec_child *x, husk_err **err)
{
    int nfd = -1, r = 0;
    if (seccomp_filter_load(x->seccomp, &nfd, err) < 0)
        return -1;
    if (x->listener_fd >= 0 && nfd >= 0)
        r = seccomp_listener_send(x->listener_fd, nfd, x->listener_msg, err);
    /* The listener has its copy; ours must not reach the program. */
    if (nfd >= 0)
        close(nfd);
    if (x->listener_fd >= 0)
        closep(&x->listener_fd);
    return r;
}

static int child_setup(struct exec_child *x, char **exe, char ***env, bool *not_found, husk_err **err)
{
    struct oci_process *p = x->p;
    struct sync_msg *msg = xmalloc(sizeof *msg);
    int r = sync_recv(x->sock, msg, SYNC_GO, err);
    pid_t host_pid = msg->value;    /* GO carries our pid as the runtime sees it */
    bool moved = r == 0 && strcmp(msg->text, "in-cgroup") == 0;
    free(msg);
    if (r < 0)
        return -1;
    /* Into the container's cgroups, before anything of the container's: we move
     * ourselves, which spares the RCU wait of being moved (cgroup_enter_self), then
     * say so; the parent holds the container's lock until then. Unless the parent
     * did it (a paused container, see exec_start). */
    if (!moved) {
        if (cgroup_enter_self(x->cg, x->born_in_v2, err) < 0)
            return -1;
        if (sync_send(x->sock, SYNC_IN_CGROUP, 0, NULL) < 0)
            return husk_fail(err, errno, "sync with the parent");
        /* and go on only when the parent says so (a parent killed in between
         * leaves nothing running: EOF) */
        msg = xmalloc(sizeof *msg);
        r = sync_recv(x->sock, msg, SYNC_GO, err);
        free(msg);
        if (r < 0)
            return -1;
    }
    /* execCPUAffinity.final: where we run now that we are in the container's cgroups
     * (the parent applied .initial before moving us there). */
    if (p->exec_cpu_affinity_final &&
        process_set_affinity(0, p->exec_cpu_affinity_final, "process.execCPUAffinity.final", err) < 0)
        return -1;
    /* The agent serves this process, not the init: its containerProcessState says so.
     * Made now, while allocating is still allowed (the filter may deny mmap/brk). */
    if (x->listener_fd >= 0) {
        x->listener_msg = seccomp_process_state_pid(x->listener_state, x->listener_metadata, host_pid, err);
        if (x->listener_msg == NULL)
            return -1;
    }

    /* The namespaces: user first (it grants the rights over the others), mount
     * last. The pid namespace was joined by the parent for our fork. */
    if (ns_join_all(x->joins, err) < 0)
        return -1;
    ns_close_joins(x->joins);
    log_debug("exec: process %d joined the container's namespaces", (int)host_pid);
    husk_kill_point("exec.child.after-setns");
    /* The container's session keyring, not our caller's (keyring.h): joined as the
     * container's root (namespaces.c made us that in its user namespace), the owner
     * the init made searchable. */
    if (x->keyring_id && keyring_join_session(x->keyring_id, false, err) < 0)
        return -1;

    /* setns(mnt) put us at the root of the mount namespace, but the init's root may
     * be elsewhere in it (--no-pivot chroots): take the init's own, through the fd
     * opened from the host before we joined anything, so no path of the container's
     * is resolved here. */
    if (fchdir(x->rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
        return husk_fail(err, errno, "enter the container's root");
    closep(&x->rootfd);

    if (p->terminal) {
        if (terminal_setup_exec(x->console_fd, p, err) < 0)
            return -1;
        closep(&x->console_fd);
    }
    if (process_setup_rlimits(p, err) < 0 || process_setup_oom_score_adj(p, err) < 0 ||
        process_setup_scheduler(p, err) < 0 || process_setup_io_priority(p, err) < 0 ||
        process_setup_cwd(p, err) < 0)
        return -1;
    if (process_find_executable(p, exe, err) < 0) {
        *not_found = true;
        return -1;
    }

    /* Only 0, 1, 2 and the --preserve-fds ones reach the program: every fd of husk's
     * (state dir, namespace fds, the sync socket) is close-on-exec. */
    struct husk_container hc = { .preserve_fds = x->preserve_fds, .console_sock_fd = -1 };
    int n_listen = 0;
    if (container_prepare_fds(&hc, &n_listen, err) < 0)
        return -1;
    *env = container_build_env(p, n_listen);
    return 0;
}

__attribute__((noreturn)) static void child_main(struct exec_child *x)
{
    struct oci_process *p = x->p;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *exe = NULL;
    _cleanup_strv_ char **env = NULL;
    sigset_t none;
    bool not_found = false;

    /* Not dumpable until execve(): once we are in the container's namespaces, its
     * processes must not ptrace us or open our /proc files, through which they
     * could reach the host fds we still hold (CVE-2016-9962). execve() resets it. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        husk_fail(&err, errno, "prctl(PR_SET_DUMPABLE)");
        goto fail;
    }
    /* The parent's lock must end with its own close, not wait for our execve. */
    closep(&x->lockfd);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && signal(sig, SIG_DFL) == SIG_ERR)
            signal_default_raw(sig);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (child_setup(x, &exe, &env, &not_found, &err) < 0)
        goto fail;
    log_debug("exec: root, rlimits, cwd set; seccomp, capabilities, user, then exec %s", exe);

    /* The same order as the container's init (container.c stage2_main): seccomp
     * before the capabilities go unless no_new_privs lets it come last; bounding
     * set while CAP_SETPCAP is held, uid switch keeping the permitted set, the exact
     * sets, no_new_privs. */
    if (x->seccomp && !p->no_new_privileges && child_seccomp(x, &err) < 0)
        goto fail;
    const struct oci_capabilities *caps = p->has_capabilities ? &p->capabilities : NULL;
    if (caps_drop_bounding(caps, &err) < 0 || process_setup_user(p, &err) < 0 || caps_apply(caps, &err) < 0)
        goto fail;
    if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        husk_fail(&err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
        goto fail;
    }
    if (x->seccomp && p->no_new_privileges && child_seccomp(x, &err) < 0)
        goto fail;

    execve(exe, p->args, env);
    husk_fail(&err, errno, "exec %s", exe);
    not_found = true;
fail:
    /* The program could not be run at all: the parent returns -127 for it. */
    if (not_found && err)
        err->errnum = EXEC_NOT_FOUND;
    sync_send_error(x->sock, &err);
    _exit(1);
}

/* ------------------------------------------------------------------------ */
/* the parent                                                                */

/* Fork with the child born in the pid namespace pidns (-1: ours), and in the cgroup
 * v2 directory of cg if there is one (*born_in_v2). */
static pid_t fork_in_pidns(int pidns, const struct husk_cgroup *cg, bool *born_in_v2, husk_err **err)
{
    _cleanup_close_ int self = -1;
    if (pidns >= 0) {
        self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (self < 0)
            return husk_fail(err, errno, "open /proc/self/ns/pid");
        if (setns(pidns, CLONE_NEWPID) < 0)
            return husk_fail(err, errno, "join the container's pid namespace");
    }
    pid_t pid = cgroup_fork_into(cg, born_in_v2);
    int e = errno;
    if (pid != 0 && pidns >= 0 && setns(self, CLONE_NEWPID) < 0) {
        /* Our later children (a tty relay) would land in the container: refuse. */
        int e2 = errno;
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        return husk_fail(err, e2, "return to husk's own pid namespace");
    }
    if (pid < 0) {
        /* A pid namespace whose init has died takes no new process (ENOMEM). */
        if (e == ENOMEM && pidns >= 0)
            return husk_fail(err, 0, "the container's init has exited: cannot exec in a stopped container");
        return husk_fail(err, e, "fork");
    }
    return pid;
}

struct exec_ctx {
    int dirfd;
    struct husk_state *st;
    struct oci_config *cfg;
    struct husk_cgroup cg;
    struct ns_join joins;
    int rootfd, pidfd, sock[2], console_fd, listener_fd;
    struct husk_seccomp *seccomp;
    char *listener_state;
    pid_t child;
    bool paused;
};

static void ctx_release(struct exec_ctx *c)
{
    if (c->child > 0) {
        kill(c->child, SIGKILL);
        waitpid(c->child, NULL, 0);
    }
    closep(&c->dirfd);
    closep(&c->rootfd);
    closep(&c->pidfd);
    closep(&c->sock[0]);
    closep(&c->sock[1]);
    closep(&c->console_fd);
    closep(&c->listener_fd);
    ns_close_joins(&c->joins);
    seccomp_filter_free(c->seccomp);
    free(c->listener_state);
    strv_free(c->cg.paths);
    config_free(c->cfg);
    state_free(c->st);
}

static int check_status(const struct husk_exec *e, enum husk_status s, husk_err **err)
{
    switch (s) {
    case HUSK_STOPPED:
        return husk_fail(err, 0, "cannot exec in a stopped container: %s", e->id);
    case HUSK_CREATING:
        return husk_fail(err, 0, "cannot exec in a container that is still being created: %s", e->id);
    case HUSK_PAUSED:
        if (!e->ignore_paused)
            return husk_fail(err, 0, "cannot exec in a paused container: %s (resume it, or use --ignore-paused)",
                             e->id);
        return 0;
    default:
        return 0;
    }
}

/* Everything up to the fork, in the parent. */
static int prepare(struct husk_exec *e, struct exec_ctx *c, struct oci_process **pp, husk_err **err)
{
    if (id_validate(e->id, err) < 0)
        return -1;
    c->dirfd = state_dir_open(e->root, e->id, err);
    if (c->dirfd < 0)
        return -1;
    if (state_read(c->dirfd, e->id, &c->st, err) < 0)
        return -1;
    enum husk_status status = state_status(c->dirfd, c->st);
    if (check_status(e, status, err) < 0)
        return -1;
    c->paused = status == HUSK_PAUSED;

    _cleanup_free_ char *dir = xasprintf("%s/%s", e->root, e->id);
    if (config_load(dir, &c->cfg, err) < 0)
        return husk_err_prefix(err, "exec %s: the config saved by create", e->id);
    struct oci_process *p = e->process ? e->process : &c->cfg->process;
    if (e->process == NULL && !c->cfg->has_process)
        return husk_fail(err, 0, "exec %s: the container's config has no process to start from", e->id);
    if (apply_flags(e, p, err) < 0)
        return -1;
    caps_warn_ignored(&p->capabilities);
    log_debug("exec %s: config loaded, joining init pid %d", e->id, (int)c->st->pid);
    *pp = p;

    if (p->terminal) {
        if (e->console_socket) {
            c->console_fd = terminal_connect_socket(e->console_socket, err);
            if (c->console_fd < 0)
                return -1;
        } else if (e->console_sock_fd >= 0) {
            c->console_fd = fcntl(e->console_sock_fd, F_DUPFD_CLOEXEC, 3);
            if (c->console_fd < 0)
                return husk_fail(err, errno, "dup console socket");
        } else {
            return husk_fail(err, 0, "--tty: a terminal needs --console-socket (or a foreground exec)");
        }
    } else if (e->console_socket) {
        return husk_fail(err, 0, "--console-socket is only used with --tty (process.terminal)");
    }

    if (exec_cgroup(c->st, e->cgroup, &c->cg, err) < 0)
        return -1;

    /* The filter is ready here, where allocation is free; the child only loads it.
     * create saved the program libseccomp generated from this same config in the
     * state dir: loading that is the same filter without libseccomp's ~20 ms. A
     * container created by a husk that did not save it gets it built here. */
    const struct oci_linux *lx = &c->cfg->linux_;
    if (c->cfg->has_linux && lx->has_seccomp) {
        if (seccomp_filter_restore_at(c->dirfd, SECCOMP_SAVED_NAME, &c->seccomp, err) < 0)
            return husk_err_prefix(err, "exec %s", e->id);
        if (c->seccomp == NULL && seccomp_filter_build(&lx->seccomp, &c->seccomp, err) < 0)
            return -1;
        if (seccomp_uses_notify(&lx->seccomp) && lx->seccomp.listener_path) {
            /* The child makes the message from it once it knows its own pid. */
            c->listener_state = state_oci_json(c->st, status);
            if (c->listener_state == NULL)
                return husk_fail(err, 0, "seccomp: cannot make the container state for the listener");
            c->listener_fd = seccomp_listener_connect(lx->seccomp.listener_path, err);
            if (c->listener_fd < 0)
                return -1;
        }
    }

    /* Pin the init: the pidfd keeps its pid from being reused, and the start time,
     * checked after everything of /proc/<pid> is open, proves those files were the
     * container's init's and not a new process's with the same number. */
    pid_t pid = c->st->pid;
    c->pidfd = husk_pidfd_open(pid, 0);
    if (c->pidfd < 0)
        return husk_fail(err, 0, "cannot exec in a stopped container: %s", e->id);
    _cleanup_free_ char *rootp = xasprintf("/proc/%d/root", (int)pid);
    c->rootfd = open(rootp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c->rootfd < 0)
        return husk_fail(err, errno, "open %s", rootp);
    if (open_namespaces(pid, &c->joins, err) < 0)
        return -1;
    if (proc_start_time(pid) != c->st->pid_start)
        return husk_fail(err, 0, "cannot exec in a stopped container: %s", e->id);

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sock) < 0)
        return husk_fail(err, errno, "socketpair");
    return 0;
}

int exec_start(struct husk_exec *e, pid_t *pid_out, husk_err **err)
{
    struct exec_ctx c = { .dirfd = -1, .rootfd = -1, .pidfd = -1, .sock = { -1, -1 }, .console_fd = -1,
                          .listener_fd = -1 };
    struct oci_process *p = NULL;
    int r = -1;

    for (int i = 0; i < OCI_NS_COUNT; i++)
        c.joins.fd[i] = -1;
    if (prepare(e, &c, &p, err) < 0)
        goto out;

    /* The child joins the pid namespace by being forked into it; the rest it
     * joins itself. */
    int pidns = c.joins.fd[OCI_NS_PID];
    c.joins.fd[OCI_NS_PID] = -1;
    bool born_in_v2 = false;
    pid_t child = fork_in_pidns(pidns, &c.cg, &born_in_v2, err);
    if (pidns >= 0)
        close(pidns);
    if (child < 0)
        goto out;
    if (child == 0) {
        closep(&c.sock[0]);
        closep(&c.pidfd);
        struct exec_child x = { .p = p, .joins = &c.joins, .rootfd = c.rootfd, .sock = c.sock[1],
                                .lockfd = c.dirfd, .console_fd = c.console_fd, .preserve_fds = e->preserve_fds,
                                .seccomp = c.seccomp, .listener_fd = c.listener_fd,
                                .listener_state = c.listener_state,
                                .listener_metadata = c.cfg->linux_.seccomp.listener_metadata,
                                .keyring_id = c.st->no_new_keyring ? NULL : c.st->id,
                                .cg = &c.cg, .born_in_v2 = born_in_v2 };
        child_main(&x);
    }
    c.child = child;
    husk_kill_point("exec.after-fork");
    closep(&c.sock[1]);
    closep(&c.console_fd);
    closep(&c.listener_fd);
    closep(&c.rootfd);
    ns_close_joins(&c.joins);

    /* execCPUAffinity.initial: the CPUs the process runs on until it is in the
     * container's cgroups (which, with a cpuset, then decide; .final after that). */
    if (p->exec_cpu_affinity_initial &&
        process_set_affinity(child, p->exec_cpu_affinity_initial, "process.execCPUAffinity.initial", err) < 0)
        goto out;
    /* In the cgroups before it runs anything of the container's: limits, `ps`,
     * `kill --all`, `delete --force` and the freezer all reach it from here on. The
     * child moves itself (cgroup_enter_self) and says so; into a paused container
     * (--ignore-paused) we move it instead: a frozen cgroup would stop it right
     * after it moved, before it could tell us, while we hold the lock `resume`
     * needs. */
    if (c.paused) {
        if (cgroup_enter(&c.cg, child, err) < 0)
            goto out;
    } else {
        _cleanup_free_ struct sync_msg *m = xmalloc(sizeof *m);
        if (sync_send(c.sock[0], SYNC_GO, (int)child, NULL) < 0) {
            husk_fail(err, errno, "sync with the exec'd process");
            goto out;
        }
        if (sync_recv(c.sock[0], m, SYNC_IN_CGROUP, err) < 0)
            goto out;
    }
    husk_kill_point("exec.after-cgroup");
    /* It is the container's now: delete --force kills it with the rest. Unlock, so
     * that `resume` can thaw a paused container we are entering (--ignore-paused).
     * flock(LOCK_UN), not just close: the child shares the open file description of
     * the lock until it closes its copy, which a frozen child never gets to do. */
    flock(c.dirfd, LOCK_UN);
    closep(&c.dirfd);
    if (sync_send(c.sock[0], SYNC_GO, (int)child, c.paused ? "in-cgroup" : NULL) < 0) {
        husk_fail(err, errno, "sync with the exec'd process");
        goto out;
    }

    /* EOF: the socket closed on execve (or the process died, which the caller sees
     * in its exit status). A message: why it could not exec. */
    {
        _cleanup_free_ struct sync_msg *m = xmalloc(sizeof *m);
        ssize_t n;
        do
            n = recv(c.sock[0], m, sizeof *m, 0);
        while (n < 0 && errno == EINTR);
        if (n > 0) {
            m->text[sizeof m->text - 1] = '\0';
            husk_fail(err, 0, "%s", m->type == SYNC_ERROR ? m->text : "unexpected message from exec'd process");
            (*err)->errnum = m->type == SYNC_ERROR && m->value != EXEC_NOT_FOUND ? m->value : 0;
            if (m->type == SYNC_ERROR && m->value == EXEC_NOT_FOUND)
                r = -127;
            goto out;
        }
    }
    if (e->pid_file && container_write_pid_file(e->pid_file, child, err) < 0) {
        goto out;
    }
    *pid_out = child;
    c.child = 0;
    r = 0;
out:
    ctx_release(&c);
    return r;
}
