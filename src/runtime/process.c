/* process.c — see process.h. */
#include "process.h"
#include "newsys.h"
#include "paths.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <sched.h>
#include <limits.h>
#include <stdlib.h>
#include <pwd.h>
#include <stdio.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- hostname, domainname ------------------------------------------------ */

int process_setup_uts(const struct oci_config *cfg, husk_err **err)
{
    bool want_host = cfg->hostname && cfg->hostname[0];
    bool want_domain = cfg->domainname && cfg->domainname[0];

    if (!want_host && !want_domain)
        return 0;
    /* Without a UTS namespace of its own the container shares the host's: setting
     * the name would rename the host. A uts entry with a path (joining e.g. a pod's
     * namespace) is accepted, as runc does: that namespace belongs to the pod. */
    if (config_find_ns(cfg, OCI_NS_UTS) == NULL)
        return husk_fail(err, 0, "%s \"%s\" is set but the container has no UTS namespace of its own "
                                 "(linux.namespaces has no \"uts\" entry)",
                         want_host ? "hostname" : "domainname", want_host ? cfg->hostname : cfg->domainname);
    if (want_host && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
        return husk_fail(err, errno, "sethostname \"%s\"", cfg->hostname);
    if (want_domain && husk_setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
        return husk_fail(err, errno, "setdomainname \"%s\"", cfg->domainname);
    return 0;
}

/* ---- sysctl ------------------------------------------------------------- */

/* IPC-namespaced knobs (ipc/ipc_sysctl.c in the kernel). */
static const char *const ipc_sysctls[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
    "kernel.shmmni", "kernel.shm_rmid_forced", "kernel.msg_next_id", "kernel.sem_next_id", "kernel.shm_next_id",
    "kernel.auto_msgmni",
};

/* A namespace the container owns: present in linux.namespaces, and not a "join" of
 * the host's own namespace (host[t], known only to the parent; NULL in the container,
 * where the parent has already checked). */
static bool has_ns(const struct oci_config *cfg, const bool *host, enum oci_ns_type t)
{
    return config_find_ns(cfg, t) != NULL && !(host && host[t]);
}

/* Check that the key only touches the container's own namespaces. `dotted` is the key
 * in dot form. */
static int sysctl_allowed(const struct oci_config *cfg, const bool *host, const char *key, const char *dotted,
                          husk_err **err)
{
    for (size_t i = 0; i < ARRAY_SIZE(ipc_sysctls); i++)
        if (strcmp(dotted, ipc_sysctls[i]) == 0)
            goto ipc;
    if (strncmp(dotted, "fs.mqueue.", 10) == 0)
        goto ipc;
    if (strncmp(dotted, "net.", 4) == 0) {
        if (!has_ns(cfg, host, OCI_NS_NETWORK))
            return husk_fail(err, 0, "sysctl \"%s\" is not allowed in the host's network namespace", key);
        return 0;
    }
    /* kernel.hostname never gets here: the config parser refuses it (config_linux.c). */
    if (strcmp(dotted, "kernel.domainname") == 0) {
        if (!has_ns(cfg, host, OCI_NS_UTS))
            return husk_fail(err, 0, "sysctl \"%s\" is not allowed in the host's UTS namespace", key);
        return 0;
    }
    return husk_fail(err, 0, "sysctl \"%s\" is not namespaced and cannot be set in a container", key);
ipc:
    if (!has_ns(cfg, host, OCI_NS_IPC))
        return husk_fail(err, 0, "sysctl \"%s\" is not allowed in the host's IPC namespace", key);
    return 0;
}

/* Turn a key into a path below /proc/sys. As sysctl(8) does, a key written with '/'
 * keeps its dots (net/ipv4/conf/eth0.100/forwarding); otherwise dots separate.
 * Components must be plain names: no "", ".", "..". */
static int sysctl_path(const char *key, char **path, char **dotted, husk_err **err)
{
    _cleanup_free_ char *p = xstrdup(key), *d = xstrdup(key);
    bool slash = strchr(key, '/') != NULL;

    for (char *s = p; *s; s++)
        if (!slash && *s == '.')
            *s = '/';
    for (char *s = d; *s; s++)
        if (*s == '/')
            *s = '.';
    for (const char *c = p;;) {
        const char *e = strchrnul(c, '/');
        size_t n = (size_t)(e - c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return husk_fail(err, 0, "sysctl \"%s\": invalid key", key);
        if (*e == '\0')
            break;
        c = e + 1;
    }
    *path = steal_ptr(p);
    *dotted = steal_ptr(d);
    return 0;
}

static int open_proc_sys(husk_err **err)
{
    struct statfs sfs;
    int fd = open("/proc/sys", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return husk_fail(err, errno, "open /proc/sys");
    /* The container's /proc must be a real procfs, or we would write into whatever
     * the image put there. */
    if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
        int e = errno;
        close(fd);
        return husk_fail(err, e ? e : EXDEV, "/proc/sys is not on procfs");
    }
    return fd;
}

static int write_sysctl(int dirfd, const char *key, const char *path, const char *value, husk_err **err)
{
    /* Resolve strictly below /proc/sys and without symlinks, so a key can never be
     * made to point anywhere else. */
    struct open_how how = {
        .flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    _cleanup_close_ int fd = husk_openat2(dirfd, path, &how);
    if (fd < 0)
        return husk_fail(err, errno, "sysctl \"%s\": open /proc/sys/%s", key, path);
    if (write_all(fd, value, strlen(value)) < 0)
        return husk_fail(err, errno, "sysctl \"%s\": write \"%s\" to /proc/sys/%s", key, value, path);
    return 0;
}

static int check_sysctl(const struct oci_config *cfg, const bool *host, husk_err **err)
{
    if (!cfg->has_linux)
        return 0;
    for (size_t i = 0; i < cfg->linux_.n_sysctl; i++) {
        _cleanup_free_ char *path = NULL, *dotted = NULL;
        const char *key = cfg->linux_.sysctl[i].key;
        if (sysctl_path(key, &path, &dotted, err) < 0 || sysctl_allowed(cfg, host, key, dotted, err) < 0)
            return husk_err_prefix(err, "linux.sysctl");
    }
    return 0;
}

int process_check_host_settings(const struct oci_config *cfg, const bool host[OCI_NS_COUNT], husk_err **err)
{
    /* Joining the host's own UTS namespace by path is sharing it: a hostname would
     * rename the host. */
    if (host[OCI_NS_UTS] && ((cfg->hostname && cfg->hostname[0]) || (cfg->domainname && cfg->domainname[0])))
        return husk_fail(err, 0, "%s is set but linux.namespaces joins the host's UTS namespace",
                         cfg->hostname && cfg->hostname[0] ? "hostname" : "domainname");
    return check_sysctl(cfg, host, err);
}

int process_setup_sysctl(const struct oci_config *cfg, husk_err **err)
{
    _cleanup_close_ int dirfd = -1;

    if (!cfg->has_linux || cfg->linux_.n_sysctl == 0)
        return 0;
    /* Validate every key first: refuse the whole list rather than apply half of it. */
    if (check_sysctl(cfg, NULL, err) < 0)
        return -1;
    dirfd = open_proc_sys(err);
    if (dirfd < 0)
        return -1;
    for (size_t i = 0; i < cfg->linux_.n_sysctl; i++) {
        _cleanup_free_ char *path = NULL, *dotted = NULL;
        const struct oci_sysctl *s = &cfg->linux_.sysctl[i];
        if (sysctl_path(s->key, &path, &dotted, err) < 0 ||
            write_sysctl(dirfd, s->key, path, s->value ? s->value : "", err) < 0)
            return -1;
    }
    return 0;
}

/* ---- rlimits, oom_score_adj ------------------------------------------------ */

int process_setup_rlimits(const struct oci_process *p, husk_err **err)
{
    for (size_t i = 0; i < p->n_rlimits; i++) {
        const struct oci_rlimit *r = &p->rlimits[i];
        struct rlimit rl = { .rlim_cur = (rlim_t)r->soft, .rlim_max = (rlim_t)r->hard };
        /* Raising a hard limit needs CAP_SYS_RESOURCE: the kernel's EPERM is reported
         * as is, with the values, rather than silently clamped. */
        if (husk_setrlimit(r->resource, &rl) < 0)
            return husk_fail(err, errno, "setrlimit %s (soft %llu, hard %llu)", r->type ? r->type : "?",
                             (unsigned long long)r->soft, (unsigned long long)r->hard);
    }
    return 0;
}

int process_setup_oom_score_adj(const struct oci_process *p, husk_err **err)
{
    char buf[32];
    int n;

    if (!p->has_oom_score_adj)
        return 0;
    n = snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
    if (write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", buf, (size_t)n, err) < 0)
        return husk_err_prefix(err, "set oomScoreAdj to %d", p->oom_score_adj);
    return 0;
}

/* ---- scheduler, I/O priority, CPU affinity -------------------------------- */

/* sched_setattr(2) has no glibc wrapper (2.36); the kernel's struct, version 1
 * (with the utilization clamps, unused here). */
struct husk_sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};

/* The names config.c accepts, in the kernel's numbering (include/uapi/linux/sched.h;
 * SCHED_ISO is reserved and the kernel refuses it with EINVAL, reported as such). */
static const char *const sched_policy_names[] = {
    "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE",
};
static const char *const sched_flag_names[] = {
    "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
    "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX",
};

int process_setup_scheduler(const struct oci_process *p, husk_err **err)
{
    if (!p->has_scheduler)
        return 0;
    const struct oci_scheduler *sc = &p->scheduler;
    struct husk_sched_attr a = { .size = sizeof a };
    size_t i;

    for (i = 0; i < sizeof sched_policy_names / sizeof *sched_policy_names; i++)
        if (strcmp(sc->policy, sched_policy_names[i]) == 0)
            break;
    if (i == sizeof sched_policy_names / sizeof *sched_policy_names)
        return husk_fail(err, EINVAL, "process.scheduler.policy: unknown policy %s", sc->policy);
    a.sched_policy = (uint32_t)i;
    for (char **f = sc->flags; f && *f; f++)
        for (size_t k = 0; k < sizeof sched_flag_names / sizeof *sched_flag_names; k++)
            if (strcmp(*f, sched_flag_names[k]) == 0)
                a.sched_flags |= 1ULL << k;
    a.sched_nice = sc->nice;
    a.sched_priority = (uint32_t)sc->priority;
    a.sched_runtime = sc->runtime;
    a.sched_deadline = sc->deadline;
    a.sched_period = sc->period;
    if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
        return husk_fail(err, errno, "set process.scheduler (policy %s, nice %d, priority %d)", sc->policy,
                         sc->nice, sc->priority);
    return 0;
}

int process_setup_io_priority(const struct oci_process *p, husk_err **err)
{
    if (!p->has_io_priority)
        return 0;
    /* IOPRIO_PRIO_VALUE(class, data): the class in the top 3 of 16 bits. */
    int value = (p->io_priority.class_ << 13) | p->io_priority.priority;
    if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, value) < 0)
        return husk_fail(err, errno, "set process.ioPriority (class %d, priority %d)", p->io_priority.class_,
                         p->io_priority.priority);
    return 0;
}

int process_set_affinity(pid_t pid, const char *cpus, const char *what, husk_err **err)
{
    cpu_set_t set;
    const char *s = cpus;

    CPU_ZERO(&set);
    while (*s) {
        char *end;
        errno = 0;
        unsigned long lo = strtoul(s, &end, 10), hi = lo;
        if (end == s || errno)
            goto bad;
        if (*end == '-') {
            s = end + 1;
            hi = strtoul(s, &end, 10);
            if (end == s || errno || hi < lo)
                goto bad;
        }
        if (hi >= CPU_SETSIZE)
            return husk_fail(err, EINVAL, "%s: CPU %lu is beyond the %d this host can name", what, hi, CPU_SETSIZE - 1);
        for (unsigned long c = lo; c <= hi; c++)
            CPU_SET(c, &set);
        if (*end == ',')
            end++;
        else if (*end != '\0')
            goto bad;
        s = end;
    }
    if (CPU_COUNT(&set) == 0)
        goto bad;
    if (sched_setaffinity(pid, sizeof set, &set) < 0)
        return husk_fail(err, errno, "%s: set the CPU affinity to \"%s\"", what, cpus);
    return 0;
bad:
    return husk_fail(err, EINVAL, "%s: invalid CPU list \"%s\"", what, cpus);
}

/* ---- user, groups, umask, cwd ---------------------------------------------- */

/* In a user namespace whose gid map was written without CAP_SETGID over the parent,
 * /proc/self/setgroups is "deny" and setgroups(2) fails with EPERM. */
static bool setgroups_denied(void)
{
    char buf[16] = "";
    _cleanup_close_ int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t r = read_all(fd, buf, sizeof buf - 1);
    if (r <= 0)
        return false;
    buf[r] = '\0';
    return strncmp(buf, "deny", 4) == 0;
}

int process_setup_user(const struct oci_process *p, husk_err **err)
{
    const struct oci_user *u = &p->user;

    /* Keep the permitted set over the uid change, so caps_apply() can then set the
     * configured sets; otherwise a switch away from uid 0 would clear them all. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return husk_fail(err, errno, "prctl(PR_SET_KEEPCAPS, 1)");

    /* Replace the supplementary groups we inherited (the host's, for root) with
     * exactly additionalGids: keeping them would give the container access to
     * whatever those host groups can reach. */
    if (setgroups_denied()) {
        if (u->n_additional_gids > 0)
            return husk_fail(err, EPERM, "setgroups: additionalGids are set but setgroups is denied in this user namespace");
    } else if (setgroups(u->n_additional_gids, u->n_additional_gids ? u->additional_gids : NULL) < 0) {
        return husk_fail(err, errno, "setgroups (%zu additionalGids)", u->n_additional_gids);
    }
    /* gid before uid: once the uid is not 0 we may no longer change the gid. */
    if (setresgid(u->gid, u->gid, u->gid) < 0)
        return husk_fail(err, errno, "setresgid %u", (unsigned)u->gid);
    if (setresuid(u->uid, u->uid, u->uid) < 0)
        return husk_fail(err, errno, "setresuid %u", (unsigned)u->uid);
    umask(u->has_umask ? u->umask : 0022);
    return 0;
}

int process_setup_cwd(const struct oci_process *p, husk_err **err)
{
    if (p->cwd == NULL || p->cwd[0] == '\0')
        return 0;
    /* Not a plain chdir(): the cwd comes from the image (WORKDIR) and we may still
     * hold fds of host directories (ours, or the caller's, close-on-exec but open
     * until execve). A cwd of "/proc/self/fd/N", or a symlink to one, would follow
     * such a fd out of the container (CVE-2024-21626). So it is resolved below our
     * root with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (paths.c) and we fchdir()
     * to what was resolved. We are past pivot_root (or chroot for exec): "/" is
     * the container's root. */
    _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return husk_fail(err, errno, "open the container's root");
    _cleanup_err_ husk_err *e = NULL;
    _cleanup_close_ int fd = open_in_root(rootfd, p->cwd, O_PATH | O_DIRECTORY, 0, &e);
    if (fd < 0 && e->errnum == ENOENT) {
        /* A missing cwd is created (owned by the container's root, 0755), as runc
         * and crun do: images commonly name a WORKDIR they do not ship. Every
         * component and symlink resolves inside the container, magic links refused. */
        fd = mkpath_in_root(rootfd, p->cwd, true, err);
        if (fd < 0)
            return husk_err_prefix(err, "create cwd \"%s\"", p->cwd);
    } else if (fd < 0) {
        if (e->errnum == ELOOP || e->errnum == EXDEV)
            return husk_fail(err, e->errnum, "cwd (\"%s\") set in config.json goes through a /proc magic link "
                                             "or out of the container's root", p->cwd);
        return husk_fail(err, e->errnum, "chdir to cwd (\"%s\") set in config.json failed", p->cwd);
    }
    if (fchdir(fd) < 0)
        return husk_fail(err, errno, "chdir to cwd (\"%s\") set in config.json failed", p->cwd);
    /* Belt and braces: a cwd outside our root makes getcwd() fail with ENOENT
     * (the kernel says "(unreachable)"). */
    char buf[PATH_MAX];
    if (getcwd(buf, sizeof buf) == NULL && errno == ENOENT)
        return husk_fail(err, 0, "cwd (\"%s\") set in config.json is outside the container's root", p->cwd);
    return 0;
}

/* ---- fds husk was started with ---------------------------------------------- */

/* --preserve-fds and LISTEN_FDS hand "fds 3 .. 3+N-1" to the container, meaning the
 * caller's. If the caller had no fd there, the number may by then belong to husk
 * itself (its --log file, run's signalfd ...), and passing that on would give the
 * container a handle on a host file. So the fds open when husk starts are noted
 * here, before main() opens anything, and only those are ever passed on. */
#define INHERITED_FD_MAX 65536
static unsigned char inherited_fds[INHERITED_FD_MAX / 8];

static void mark_inherited(int fd)
{
    if (fd >= 3 && fd < INHERITED_FD_MAX)
        inherited_fds[fd / 8] |= (unsigned char)(1u << (fd % 8));
}

__attribute__((constructor)) static void note_inherited_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) {
        /* No /proc: probe the low fds one by one. */
        for (int fd = 3; fd < 1024; fd++)
            if (fcntl(fd, F_GETFD) >= 0)
                mark_inherited(fd);
        return;
    }
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (e->d_name[0] != '.' && *end == '\0' && fd != self && fd < INT_MAX)
            mark_inherited((int)fd);
    }
    closedir(d);
}

bool process_fd_inherited(int fd)
{
    return fd >= 3 && fd < INHERITED_FD_MAX && (inherited_fds[fd / 8] & (1u << (fd % 8)));
}

/* ---- HOME ------------------------------------------------------------------- */

char *process_home_env(uid_t uid)
{
    /* The image's /etc/passwd (we are past pivot_root). Only a regular file is read,
     * non-blocking: a fifo planted there must not hang the container's setup. */
    _cleanup_close_ int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return xstrdup("HOME=/");
    FILE *f = fdopen(fd, "re");
    if (f == NULL)
        return xstrdup("HOME=/");
    fd = -1;
    char *home = NULL;
    struct passwd *pw;
    while ((pw = fgetpwent(f)) != NULL)
        if (pw->pw_uid == uid) {
            if (pw->pw_dir && pw->pw_dir[0])
                home = xasprintf("HOME=%s", pw->pw_dir);
            break;
        }
    fclose(f);
    return home ? home : xstrdup("HOME=/");
}

/* ---- executable lookup ------------------------------------------------------ */

/* The PATH the process will see: the last PATH= in process.env (later entries win,
 * as with setenv in order), or the default. */
static const char *env_path(const struct oci_process *p)
{
    const char *path = NULL;
    for (char **e = p->env; e && *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    return path ? path : DEFAULT_PATH;
}

/* 0 if path is an executable non-directory file; -1 with errno otherwise. */
static int check_executable(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -1;
    if (S_ISDIR(st.st_mode)) {
        errno = EACCES;
        return -1;
    }
    if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
        return -1;
    /* root passes access(X_OK) for any file with at least one x bit; with none,
     * execve fails anyway. */
    if ((st.st_mode & 0111) == 0) {
        errno = EACCES;
        return -1;
    }
    return 0;
}

int process_find_executable(const struct oci_process *p, char **out, husk_err **err)
{
    const char *name = p->args ? p->args[0] : NULL;

    if (name == NULL)
        return husk_fail(err, 0, "process.args is empty");
    if (strchr(name, '/')) {
        struct stat st;
        if (stat(name, &st) < 0)
            return husk_fail(err, errno, "exec: \"%s\": stat %s", name, name);
        if (check_executable(name) < 0)
            return husk_fail(err, errno, "exec: \"%s\"", name);
        *out = xstrdup(name);
        return 0;
    }
    if (name[0] != '\0') {
        _cleanup_free_ char *dirs = xstrdup(env_path(p));
        char *save = NULL;
        for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
            /* Relative PATH entries (including the empty one, meaning ".") are
             * skipped: they would resolve against whatever the cwd is. */
            if (d[0] != '/')
                continue;
            _cleanup_free_ char *cand = xasprintf("%s%s%s", d, d[strlen(d) - 1] == '/' ? "" : "/", name);
            if (check_executable(cand) == 0) {
                *out = steal_ptr(cand);
                return 0;
            }
        }
    }
    husk_fail(err, 0, "exec: \"%s\": executable file not found in $PATH", name);
    if (err && *err)
        (*err)->errnum = ENOENT;
    return -1;
}
