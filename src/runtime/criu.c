/* criu.c — checkpoint and restore through criu's command line (see criu.h).
 *
 * Why the command line and not criu's RPC ("swrk") mode: the RPC needs criu's
 * protobuf schema compiled into husk (libprotobuf-c and rpc.proto, which Debian does
 * not ship as a development file), while everything husk needs has a command-line
 * form: --external for mounts and namespaces, --inherit-fd for the restored stdio
 * pipes and joined namespaces, --restore-sibling/--restore-detached/--pidfile for the
 * restored init, --cgroup-root for its cgroups. What only the RPC offers (handing a
 * restored pty master to a console socket) is refused with a clear error. */
#include "criu.h"

#include "cgroups.h"
#include "config.h"
#include "log.h"
#include "mounts.h"
#include "paths.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define DESCRIPTORS "descriptors.json"   /* the init's stdio at checkpoint, as runc names it */

/* ---- a growing argv ------------------------------------------------------------ */

struct argvb {
    char **v;
    size_t n, cap;
};

static void argvb_add(struct argvb *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void argvb_add(struct argvb *a, const char *fmt, ...)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&a->v[a->n], fmt, ap) < 0)
        abort();
    va_end(ap);
    a->v[++a->n] = NULL;
}

static void argvb_free(struct argvb *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

/* ---- running criu -------------------------------------------------------------- */

int criu_check_cgroups_mode(const char *mode, husk_err **err)
{
    static const char *const modes[] = { "soft", "full", "strict", "ignore" };
    if (mode == NULL)
        return 0;
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
        if (strcmp(mode, modes[i]) == 0)
            return 0;
    return husk_fail(err, 0, "--manage-cgroups-mode: unknown mode \"%s\" (soft, full, strict or ignore)", mode);
}

/* What criu says went wrong: its version and an "Error (...)" line of its log, without
 * the timestamp. criu logs some failed probes as errors and goes on (a tun device it
 * may not create), and a real failure as a short run of errors, cause first, then its
 * consequences up the call chain: the line chosen is the first of the last such run. */
static int criu_failed(husk_err **err, const char *verb, int status, const char *log)
{
    _cleanup_fclose_ FILE *f = fopen(log, "re");
    _cleanup_free_ char *line = NULL, *version = NULL, *first = NULL;
    size_t cap = 0, lineno = 0, last_error = 0;
    ssize_t n;
    while (f && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        char *v = strstr(line, "Version: ");
        if (!version && v) {
            v += strlen("Version: ");
            version = strndup(v, strcspn(v, " "));
        }
        char *e = strstr(line, "Error (");
        if (!e)
            continue;
        if (!first || lineno - last_error > 5) {
            free(first);
            first = xstrdup(e);
        }
        last_error = lineno;
    }
    _cleanup_free_ char *how = WIFEXITED(status) ? xasprintf("exit status %d", WEXITSTATUS(status))
                                                  : xasprintf("killed by signal %d", WTERMSIG(status));
    return husk_fail(err, 0, "%s: criu%s%s failed: %s (%s; log: %s)", verb, version ? " " : "",
                     version ? version : "", first ? first : "no error in its log", how, log);
}

struct criu_child {
    const struct husk_cgroup *cg;  /* restore: criu (and so what it restores) joins these */
    const int *keep_fds;           /* fds criu inherits (close-on-exec cleared) */
    size_t n_keep;
    bool stdout_to_stderr;         /* checkpoint: criu's chatter must not reach our stdout */
};

/* The criu process: join the cgroups, then the roots of its cgroups are what
 * --cgroup-root names, so the restored tasks land in the container's cgroups on each
 * hierarchy even when the checkpoint was taken under another id. */
static void criu_child_main(const struct criu_child *ch, struct argvb *a, int errpipe)
{
    husk_err *e = NULL;
    if (ch->cg) {
        _cleanup_free_ char *self = NULL;
        if (cgroup_enter(ch->cg, getpid(), &e) < 0 ||
            read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &self, NULL, &e) < 0)
            goto fail;
        for (char *l = strtok(self, "\n"); l; l = strtok(NULL, "\n")) {
            char *ctrl = strchr(l, ':'), *path = ctrl ? strchr(ctrl + 1, ':') : NULL;
            if (!path)
                continue;
            *path++ = '\0';
            ctrl++;
            if (*ctrl)
                argvb_add(a, "--cgroup-root=%s:%s", ctrl, path);
            else
                argvb_add(a, "--cgroup-root=%s", path);
        }
    }
    for (size_t i = 0; i < ch->n_keep; i++)
        if (fcntl(ch->keep_fds[i], F_SETFD, 0) < 0) {
            husk_fail(&e, errno, "fcntl");
            goto fail;
        }
    if (ch->stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        husk_fail(&e, errno, "dup2");
        goto fail;
    }
    execvp(a->v[0], a->v);
    husk_fail(&e, errno, "run %s", a->v[0]);
fail:
    write_all(errpipe, e->msg, strlen(e->msg));
    _exit(127);
}

/* Run criu with argv a; returns its wait status in *status, or -1 if it could not be
 * started (err set). */
static int criu_spawn(const struct criu_child *ch, struct argvb *a, int *status, husk_err **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return husk_fail(err, errno, "pipe");
    husk_log(HUSK_LOG_DEBUG, "running %s %s", a->v[0], a->v[1]);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return husk_fail(err, errno, "fork");
    }
    if (pid == 0) {
        close(p[0]);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        criu_child_main(ch, a, p[1]);
    }
    close(p[1]);
    char msg[1024];
    ssize_t n = read_all(p[0], msg, sizeof msg - 1);
    close(p[0]);
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return husk_fail(err, errno, "waitpid criu");
    if (n > 0) {
        msg[n] = '\0';
        return husk_fail(err, 0, "%s", msg);
    }
    return 0;
}

/* ---- what criu must be told about the container -------------------------------- */

static bool mount_is_bind(const struct oci_mount *m)
{
    if (m->type && strcmp(m->type, "bind") == 0)
        return true;
    for (size_t i = 0; m->options && m->options[i]; i++)
        if (strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0)
            return true;
    return false;
}

static bool has_new_cgroupns(const struct oci_config *cfg)
{
    const struct oci_namespace *ns = cfg->has_linux ? config_find_ns(cfg, OCI_NS_CGROUP) : NULL;
    return ns && ns->path == NULL;
}

/* The devices husk puts in every container's /dev, besides linux.devices. In a user
 * namespace they are bind mounts of the host's (devices.h): external to criu. */
static const char *const default_devices[] = { "/dev/null", "/dev/zero", "/dev/full",
                                               "/dev/random", "/dev/urandom", "/dev/tty" };

/* --external mnt[KEY]:VALUE for every mount whose source is outside the container:
 * at checkpoint VALUE is the key (the path inside the container), at restore the
 * host path to bind there now. cg_paths: the container's cgroup directories (the
 * restored container's at restore), which its cgroup mount binds on cgroup v1 and
 * on v2 without a cgroup namespace (mounts.c). */
static void add_external_mounts(struct argvb *a, const struct oci_config *cfg, const char *bundle,
                                char *const *cg_paths, bool restore)
{
    for (size_t i = 0; i < cfg->n_mounts; i++) {
        const struct oci_mount *m = &cfg->mounts[i];
        if (!m->destination)
            continue;
        _cleanup_free_ char *dest = path_clean(m->destination);
        if (mount_is_bind(m) && m->source) {
            _cleanup_free_ char *src = m->source[0] == '/' ? xstrdup(m->source)
                                                           : xasprintf("%s/%s", bundle, m->source);
            argvb_add(a, "--external=mnt[%s]:%s", dest, restore ? src : dest);
            continue;
        }
        if (!m->type || strcmp(m->type, "cgroup") != 0 || has_new_cgroupns(cfg) || !cg_paths)
            continue;
        struct statfs sfs;
        bool v2 = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
        if (v2) {
            if (cg_paths[0])
                argvb_add(a, "--external=mnt[%s]:%s", dest, restore ? cg_paths[0] : dest);
            continue;
        }
        /* v1: one bind per hierarchy mounted at /sys/fs/cgroup/NAME, at DEST/NAME. */
        for (char *const *p = cg_paths; *p; p++) {
            const char *base = "/sys/fs/cgroup/";
            if (strncmp(*p, base, strlen(base)) != 0)
                continue;
            const char *name = *p + strlen(base);
            _cleanup_free_ char *key = xasprintf("%s/%.*s", strcmp(dest, "/") ? dest : "",
                                                 (int)strcspn(name, "/"), name);
            argvb_add(a, "--external=mnt[%s]:%s", key, restore ? *p : key);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
        argvb_add(a, "--external=mnt[%s]:%s", default_devices[i], default_devices[i]);
    for (size_t i = 0; cfg->has_linux && i < cfg->linux_.n_devices; i++) {
        _cleanup_free_ char *p = path_clean(cfg->linux_.devices[i].path);
        argvb_add(a, "--external=mnt[%s]:%s", p, p);
    }
}

/* Masked files are binds of /dev/null: in a user namespace, of the host's. */
static void add_masked_files(struct argvb *a, const struct oci_config *cfg, pid_t pid)
{
    for (size_t i = 0; cfg->has_linux && cfg->linux_.masked_paths && cfg->linux_.masked_paths[i]; i++) {
        _cleanup_free_ char *p = path_clean(cfg->linux_.masked_paths[i]);
        _cleanup_free_ char *in = xasprintf("/proc/%d/root%s", (int)pid, p);
        struct stat st;
        if (stat(in, &st) == 0 && !S_ISDIR(st.st_mode))
            argvb_add(a, "--external=mnt[%s]:/dev/null", p);
    }
}

/* Per criu's convention for a namespace the container joined (linux.namespaces with a
 * path): dumped as external under this key, handed back with --inherit-fd. */
static const char *ext_ns_key(enum oci_ns_type t)
{
    return t == OCI_NS_NETWORK ? "extRootNetNS" : "extRootPidNS";
}

/* Image, work and parent directories: made if missing (0700: the images hold the
 * container's memory), returned absolute. */
static int prepare_dirs(const struct criu_opts *o, bool create, char **image, char **work, husk_err **err)
{
    const char *ip = o->image_path ? o->image_path : "checkpoint";
    if (create && mkdir_p(ip, 0700, err) < 0)
        return husk_err_prefix(err, "image path %s", ip);
    *image = realpath(ip, NULL);
    if (!*image)
        return husk_fail(err, errno, "image path %s", ip);
    struct stat st;
    if (stat(*image, &st) < 0 || !S_ISDIR(st.st_mode))
        return husk_fail(err, ENOTDIR, "image path %s", ip);
    if (o->work_path) {
        if (mkdir_p(o->work_path, 0700, err) < 0)
            return husk_err_prefix(err, "work path %s", o->work_path);
        *work = realpath(o->work_path, NULL);
        if (!*work)
            return husk_fail(err, errno, "work path %s", o->work_path);
    }
    if (o->parent_path) {
        if (o->parent_path[0] == '/')
            return husk_fail(err, 0, "--parent-path must be relative to the image path");
        _cleanup_free_ char *pp = xasprintf("%s/%s", *image, o->parent_path);
        if (stat(pp, &st) < 0)
            return husk_fail(err, errno, "invalid --parent-path %s", pp);
        if (!S_ISDIR(st.st_mode))
            return husk_fail(err, ENOTDIR, "invalid --parent-path %s", pp);
    }
    return 0;
}

static void add_common_flags(struct argvb *a, const struct criu_opts *o, const char *image, const char *work,
                             const char *log)
{
    argvb_add(a, "--images-dir=%s", image);
    if (work)
        argvb_add(a, "--work-dir=%s", work);
    argvb_add(a, "--log-file=%s", log);
    argvb_add(a, "-v4");
    argvb_add(a, "--manage-cgroups=%s", o->cgroups_mode ? o->cgroups_mode : "soft");
    /* husk, like runc, does not manage network devices: a new network namespace is
     * made empty, never filled from the images. */
    argvb_add(a, "--empty-ns=net");
    if (o->tcp_established)
        argvb_add(a, "--tcp-established");
    if (o->ext_unix_sk)
        argvb_add(a, "--ext-unix-sk");
    if (o->shell_job)
        argvb_add(a, "--shell-job");
    if (o->file_locks)
        argvb_add(a, "--file-locks");
}

/* ---- checkpoint ---------------------------------------------------------------- */

/* Is mount `id` one of the mounts pid sees (the first field of its mountinfo)? */
static bool mount_visible(pid_t pid, int id)
{
    char path[64], *line = NULL;
    size_t cap = 0;
    bool found = false;
    snprintf(path, sizeof path, "/proc/%d/mountinfo", (int)pid);
    FILE *f = fopen(path, "re");
    while (f && !found && getline(&line, &cap, f) > 0)
        found = atoi(line) == id;
    free(line);
    if (f)
        fclose(f);
    return found;
}

/* Where the init's stdio points, as restore must hand it back (descriptors.json, as
 * runc names it): a pipe ("pipe:[INODE]", from a supervisor such as conmon) is
 * replaced by ours at restore; so is a file on a mount the container does not see
 * (the host's /dev/null or a log file given by the caller), which criu cannot dump
 * and is told is external: --external file[MNT_ID:INODE], in hex, its key. */
static int write_descriptors(struct argvb *a, const char *image, pid_t pid, husk_err **err)
{
    json_object *arr = json_object_new_array();
    for (int fd = 0; fd < 3; fd++) {
        char link[64], target[PATH_MAX], *info = NULL;
        snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        struct stat st;
        bool special = strncmp(target, "pipe:", 5) == 0 || strncmp(target, "socket:", 7) == 0 ||
                       strncmp(target, "anon_inode:", 11) == 0;
        snprintf(link, sizeof link, "/proc/%d/fdinfo/%d", (int)pid, fd);
        const char *m = n > 0 && !special && read_file_at(AT_FDCWD, link, 1 << 16, &info, NULL, NULL) == 0
                            ? strstr(info, "mnt_id:") : NULL;
        snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fd);
        if (m && stat(link, &st) == 0 && !mount_visible(pid, atoi(m + 7))) {
            snprintf(target, sizeof target, "file[%x:%llx]", (unsigned)atoi(m + 7),
                     (unsigned long long)st.st_ino);
            argvb_add(a, "--external=%s", target);
        }
        free(info);
        json_object_array_add(arr, json_object_new_string(target));
    }
    const char *text = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
    _cleanup_free_ char *path = xasprintf("%s/%s", image, DESCRIPTORS);
    int r = write_file_atomic(AT_FDCWD, path, text, strlen(text), 0600, err);
    json_object_put(arr);
    return r;
}

int container_checkpoint(const char *root, const char *id, const struct criu_opts *o, husk_err **err)
{
    _cleanup_close_ int dirfd = -1;
    _cleanup_state_ struct husk_state *st = NULL;
    _cleanup_config_ struct oci_config *cfg = NULL;
    _cleanup_free_ char *image = NULL, *work = NULL, *log = NULL, *dir = NULL;
    struct argvb a = { 0 };
    int status = 0;

    if (criu_check_cgroups_mode(o->cgroups_mode, err) < 0)
        return -1;
    if (container_load_state(root, id, &dirfd, &st, err) < 0)
        return -1;
    enum husk_status s = state_status(dirfd, st);
    if (s != HUSK_RUNNING && s != HUSK_PAUSED)
        return husk_fail(err, 0, "container %s cannot be checkpointed in %s state", id, status_name(s));
    dir = xasprintf("%s/%s", root, id);
    if (config_load(dir, &cfg, err) < 0)
        return husk_err_prefix(err, "checkpoint %s", id);
    if (prepare_dirs(o, true, &image, &work, err) < 0)
        return husk_err_prefix(err, "checkpoint");
    log = xasprintf("%s/dump.log", work ? work : image);

    argvb_add(&a, "%s", o->criu ? o->criu : "criu");
    argvb_add(&a, o->pre_dump ? "pre-dump" : "dump");
    argvb_add(&a, "--tree=%d", (int)st->pid);
    add_common_flags(&a, o, image, work, log);
    argvb_add(&a, "--root=%s", st->rootfs);
    if (o->leave_running)
        argvb_add(&a, "--leave-running");
    if (o->parent_path)
        argvb_add(&a, "--prev-images-dir=%s", o->parent_path);
    if (o->pre_dump || o->parent_path)
        argvb_add(&a, "--track-mem");
    /* The freezer stops every process of the container at once, a paused one stays
     * so; without it criu stops them one by one with ptrace. */
    if (st->cgroup_freezer)
        argvb_add(&a, "--freeze-cgroup=%s", st->cgroup_freezer);
    for (size_t i = 0; cfg->has_linux && i < cfg->linux_.n_namespaces; i++) {
        const struct oci_namespace *ns = &cfg->linux_.namespaces[i];
        struct stat nst;
        if (!ns->path || (ns->type != OCI_NS_NETWORK && ns->type != OCI_NS_PID))
            continue;
        if (stat(ns->path, &nst) < 0) {
            husk_fail(err, errno, "checkpoint: namespace %s", ns->path);
            goto out;
        }
        argvb_add(&a, "--external=%s[%llu]:%s", ns_proc_name(ns->type), (unsigned long long)nst.st_ino,
                  ext_ns_key(ns->type));
    }
    if (!o->pre_dump) {
        add_external_mounts(&a, cfg, st->bundle, st->cgroup_paths, false);
        add_masked_files(&a, cfg, st->pid);
        if (write_descriptors(&a, image, st->pid, err) < 0) {
            husk_err_prefix(err, "checkpoint");
            goto out;
        }
    }

    struct criu_child ch = { .stdout_to_stderr = true };
    if (criu_spawn(&ch, &a, &status, err) < 0) {
        husk_err_prefix(err, "checkpoint");
        goto out;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        criu_failed(err, "checkpoint", status, log);
        goto out;
    }
    argvb_free(&a);
    if (o->leave_running || o->pre_dump)
        return 0;
    /* criu has ended the processes: the container is gone, as with runc. delete takes
     * the lock we hold. */
    close(steal_fd(dirfd));
    return container_delete(root, id, true, err) < 0 ? husk_err_prefix(err, "checkpoint: delete %s", id) : 0;
out:
    argvb_free(&a);
    return -1;
}

/* ---- restore ------------------------------------------------------------------- */

/* Mount points criu will mount on must exist in the rootfs (a fresh copy of the
 * image has none of those husk made at create). Those below a tmpfs mount are part of
 * the tmpfs' saved contents. */
static int make_mountpoints(const struct husk_container *c, husk_err **err)
{
    const struct oci_config *cfg = c->config;
    _cleanup_close_ int rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return husk_fail(err, errno, "rootfs %s", c->rootfs);
    for (size_t i = 0; i < cfg->n_mounts; i++) {
        const struct oci_mount *m = &cfg->mounts[i];
        if (!m->destination)
            continue;
        _cleanup_free_ char *dest = path_clean(m->destination);
        bool under_tmpfs = false;
        for (size_t j = 0; j < cfg->n_mounts; j++) {
            const struct oci_mount *t = &cfg->mounts[j];
            if (j == i || !t->destination || !t->type || strcmp(t->type, "tmpfs") != 0)
                continue;
            _cleanup_free_ char *td = path_clean(t->destination);
            size_t l = strlen(td);
            if (strncmp(dest, td, l) == 0 && (dest[l] == '/' || strcmp(td, "/") == 0) && strcmp(dest, td) != 0)
                under_tmpfs = true;
        }
        if (under_tmpfs || (m->type && strcmp(m->type, "cgroup") == 0))
            continue;
        bool is_dir = true;
        if (mount_is_bind(m) && m->source) {
            _cleanup_free_ char *src = m->source[0] == '/' ? xstrdup(m->source)
                                                           : xasprintf("%s/%s", c->bundle, m->source);
            struct stat st;
            if (stat(src, &st) < 0)
                return husk_fail(err, errno, "mount source %s", src);
            is_dir = S_ISDIR(st.st_mode);
        }
        int fd = mkpath_in_root(rootfd, dest, is_dir, err);
        if (fd < 0)
            return husk_err_prefix(err, "mount point %s", dest);
        close(fd);
    }
    return 0;
}

static int resolve_rootfs(struct husk_container *c, husk_err **err)
{
    const struct oci_config *cfg = c->config;
    if (!cfg->has_root || cfg->root.path == NULL)
        return husk_fail(err, 0, "config.json: root.path: required");
    _cleanup_free_ char *p = cfg->root.path[0] == '/' ? xstrdup(cfg->root.path)
                                                       : xasprintf("%s/%s", c->bundle, cfg->root.path);
    c->rootfs = realpath(p, NULL);
    if (c->rootfs == NULL)
        return husk_fail(err, errno, "rootfs %s", p);
    return 0;
}

/* The pipes and outside files among the init's stdio at checkpoint are replaced by
 * ours (criu's fds 0-2 are ours): a supervisor's new pipes carry the restored
 * process's output. */
static int add_inherited_stdio(struct argvb *a, const char *image, husk_err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", image, DESCRIPTORS);
    _cleanup_free_ char *text = NULL;
    if (read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, err) < 0)
        return -1;
    json_object *arr = json_tokener_parse(text);
    if (!arr || !json_object_is_type(arr, json_type_array)) {
        json_object_put(arr);
        return husk_fail(err, 0, "%s: not a JSON array of strings", path);
    }
    for (size_t i = 0; i < json_object_array_length(arr) && i < 3; i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
        if (s && (strncmp(s, "pipe:", 5) == 0 || strncmp(s, "file[", 5) == 0))
            argvb_add(a, "--inherit-fd=fd[%zu]:%s", i, s);
    }
    json_object_put(arr);
    return 0;
}

static void fill_restored_state(struct husk_state *st, const struct husk_container *c, const struct husk_cgroup *cg,
                                const char *created)
{
    memset(st, 0, sizeof *st);
    st->id = (char *)c->id;
    st->pid = c->pid;
    st->pid_start = c->pid > 0 ? proc_start_time(c->pid) : 0;
    st->bundle = c->bundle;
    st->rootfs = c->rootfs;
    st->created = (char *)created;
    st->owner = (char *)"";
    st->annotations = c->config->annotations;
    st->n_annotations = c->config->n_annotations;
    st->cgroup_created = cg->created;
    st->cgroup_paths = cg->paths;
    st->cgroup_freezer = cg->freezer;
    st->no_new_keyring = c->no_new_keyring;
}

int container_restore(struct husk_container *c, const struct criu_opts *o, husk_err **err)
{
    struct oci_config *cfg = c->config;
    struct husk_cgroup cg = { 0 };
    struct husk_state st;
    _cleanup_close_ int dirfd = -1;
    _cleanup_free_ char *image = NULL, *work = NULL, *log = NULL, *created = NULL, *criu_root = NULL,
                        *pidfile = NULL, *pidtext = NULL;
    struct argvb a = { 0 };
    int keep[OCI_NS_COUNT];
    size_t n_keep = 0;
    bool made_dir = false, mounted = false;
    int status = 0;

    if (id_validate(c->id, err) < 0 || criu_check_cgroups_mode(o->cgroups_mode, err) < 0)
        return -1;
    if (!cfg->has_process)
        return husk_fail(err, 0, "config.json: process: required");
    if (cfg->process.terminal)
        return husk_fail(err, ENOTSUP, "restore %s: a container with a terminal (process.terminal) cannot be "
                                       "restored by husk (criu's command line cannot pass the new pty master to a "
                                       "console socket)", c->id);
    if (c->console_socket)
        return husk_fail(err, 0, "cannot use console socket if husk will not detach or allocate tty");
    if (resolve_rootfs(c, err) < 0)
        return -1;
    if (prepare_dirs(o, false, &image, &work, err) < 0)
        return husk_err_prefix(err, "restore");
    log = xasprintf("%s/restore.log", work ? work : image);

    argvb_add(&a, "%s", o->criu ? o->criu : "criu");
    argvb_add(&a, "restore");
    add_common_flags(&a, o, image, work, log);
    if (add_inherited_stdio(&a, image, err) < 0) {
        husk_err_prefix(err, "restore");
        goto out_args;
    }
    /* Joined namespaces: net and pid were dumped as external and are given back as
     * fds; the others criu joins by path. */
    for (size_t i = 0; cfg->has_linux && i < cfg->linux_.n_namespaces; i++) {
        const struct oci_namespace *ns = &cfg->linux_.namespaces[i];
        if (!ns->path)
            continue;
        if (ns->type == OCI_NS_NETWORK || ns->type == OCI_NS_PID) {
            int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                husk_fail(err, errno, "restore: namespace %s", ns->path);
                goto out_args;
            }
            keep[n_keep++] = fd;
            argvb_add(&a, "--inherit-fd=fd[%d]:%s", fd, ext_ns_key(ns->type));
        } else if (ns->type == OCI_NS_CGROUP || ns->type == OCI_NS_TIME) {
            husk_fail(err, ENOTSUP, "restore: criu cannot join a %s namespace (%s)", ns_proc_name(ns->type),
                      ns->path);
            goto out_args;
        } else {
            argvb_add(&a, "--join-ns=%s:%s", ns_proc_name(ns->type), ns->path);
        }
    }

    dirfd = state_dir_create(c->root_dir, c->id, err);
    if (dirfd < 0)
        goto out_args;
    made_dir = true;
    created = time_rfc3339();
    fill_restored_state(&st, c, &cg, created);
    if (state_write(dirfd, &st, err) < 0 || state_save_config(dirfd, c->bundle, err) < 0)
        goto fail;
    if (cgroup_create(cfg->has_linux ? cfg->linux_.cgroups_path : NULL, c->id, &cg, err) < 0)
        goto fail;
    fill_restored_state(&st, c, &cg, created);
    if (state_write(dirfd, &st, err) < 0)
        goto fail;
    if (cgroup_apply_resources(&cg, cfg->has_linux ? &cfg->linux_ : NULL, err) < 0)
        goto fail;
    if (make_mountpoints(c, err) < 0) {
        husk_err_prefix(err, "restore");
        goto fail;
    }

    /* criu wants its root to be a mount point whose parent is not overmounted: a bind
     * of the rootfs in the state directory (removed below, whatever happens). */
    criu_root = xasprintf("%s/%s/criu-root", c->root_dir, c->id);
    if (mkdir(criu_root, 0755) < 0) {
        husk_fail(err, errno, "restore: mkdir %s", criu_root);
        goto fail;
    }
    if (mount(c->rootfs, criu_root, NULL, MS_BIND | MS_REC, NULL) < 0) {
        husk_fail(err, errno, "restore: bind %s on %s", c->rootfs, criu_root);
        goto fail;
    }
    mounted = true;
    pidfile = xasprintf("%s/%s/criu.pid", c->root_dir, c->id);
    argvb_add(&a, "--root=%s", criu_root);
    argvb_add(&a, "--pidfile=%s", pidfile);
    /* The restored init becomes our child (not criu's), and criu exits once it runs. */
    argvb_add(&a, "--restore-detached");
    argvb_add(&a, "--restore-sibling");
    argvb_add(&a, "--evasive-devices");
    add_external_mounts(&a, cfg, c->bundle, cg.paths, true);
    if (cfg->has_linux && cfg->linux_.masked_paths)
        argvb_add(&a, "--external=mnt[/dev/null]:/dev/null");

    struct criu_child ch = { .cg = &cg, .keep_fds = keep, .n_keep = n_keep };
    if (criu_spawn(&ch, &a, &status, err) < 0) {
        husk_err_prefix(err, "restore");
        goto fail;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        criu_failed(err, "restore", status, log);
        goto fail;
    }
    if (read_file_at(AT_FDCWD, pidfile, 64, &pidtext, NULL, err) < 0) {
        husk_err_prefix(err, "restore");
        goto fail;
    }
    unlink(pidfile);
    c->pid = (pid_t)strtol(pidtext, NULL, 10);
    if (c->pid <= 0) {
        husk_fail(err, 0, "restore: criu wrote no pid to %s", pidfile);
        goto fail;
    }
    fill_restored_state(&st, c, &cg, created);
    if (state_write(dirfd, &st, err) < 0)
        goto fail;
    if (c->pid_file && container_write_pid_file(c->pid_file, c->pid, err) < 0)
        goto fail;
    umount2(criu_root, MNT_DETACH);
    rmdir(criu_root);
    argvb_free(&a);
    for (size_t i = 0; i < n_keep; i++)
        close(keep[i]);
    cgroup_free(&cg);
    return 0;

fail:
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        c->pid = 0;
    }
    if (cg.paths) {
        pid_t *pids = NULL;
        size_t n = 0;
        if (cgroup_pids(&cg, &pids, &n, NULL) == 0)
            for (size_t i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        free(pids);
        husk_err *e2 = NULL;
        if (cgroup_destroy(&cg, &e2) < 0)
            husk_err_report(&e2);
    }
    cgroup_free(&cg);
    if (mounted)
        umount2(criu_root, MNT_DETACH);
    if (criu_root)
        rmdir(criu_root);
    if (made_dir)
        state_dir_remove(c->root_dir, c->id, NULL);
out_args:
    argvb_free(&a);
    for (size_t i = 0; i < n_keep; i++)
        close(keep[i]);
    return -1;
}
