/* cgroups.c — see cgroups.h.
 *
 * The work splits in two: a pure part that turns the text of /proc/self/mountinfo
 * and /proc/self/cgroup into one target directory per hierarchy (testable with
 * made-up layouts), and the part that makes those directories, remembering exactly
 * which ones are new so that delete never removes a cgroup it did not create. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cgroups.h"
#include "cgroup_plan.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PROC_TEXT_MAX (16 * 1024 * 1024)

/* One cgroup hierarchy as mounted here. */
struct hier {
    char *mnt;       /* mountpoint, unescaped */
    char *root;      /* the mount's root within the hierarchy ("/" normally) */
    char *ctrls;     /* v1: "cpu,cpuacct", "name=systemd"; v2: "" */
    bool v2;
    bool noprefix;   /* v1 mounted with -o noprefix: "cpus" instead of "cpuset.cpus" */
};

struct hiers {
    struct hier *h;
    size_t n;
};

/* Where the container goes on one hierarchy. */
struct target {
    const struct hier *h;
    char *dir;       /* absolute */
};

static void hiers_free(struct hiers *hs)
{
    for (size_t i = 0; i < hs->n; i++) {
        free(hs->h[i].mnt);
        free(hs->h[i].root);
        free(hs->h[i].ctrls);
    }
    free(hs->h);
    hs->h = NULL;
    hs->n = 0;
}

/* ---- parsing ---------------------------------------------------------------- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape_mount(const char *s)
{
    char *out = xmalloc(strlen(s) + 1), *o = out;
    while (*s) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
            s[3] <= '7') {
            *o++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
            s += 4;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

/* Does the comma-separated list contain item? */
static bool list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        const char *e = strchrnul(p, ',');
        if ((size_t)(e - p) == n && strncmp(p, item, n) == 0)
            return true;
        p = *e ? e + 1 : e;
    }
    return false;
}

/* Same set of comma-separated items, in any order? */
static bool same_set(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    for (const char *p = a; *p;) {
        const char *e = strchrnul(p, ',');
        _cleanup_free_ char *item = strndup(p, (size_t)(e - p));
        if (!item || !list_has(b, item))
            return false;
        na++;
        p = *e ? e + 1 : e;
    }
    for (const char *p = b; *p;) {
        const char *e = strchrnul(p, ',');
        nb++;
        p = *e ? e + 1 : e;
    }
    return na == nb;
}

/* The controllers (and name=) of a v1 mount from its super options, leaving out the
 * mount flags, so the result compares with the middle field of /proc/self/cgroup. */
static char *v1_controllers(const char *superopts, bool *noprefix)
{
    static const char *const flags[] = { "rw", "ro", "noprefix", "clone_children", "xattr",
                                         "cpuset_v2_mode", "favordynmods", "nofavordynmods" };
    _cleanup_free_ char *copy = xstrdup(superopts);
    char *out = xstrdup(""), *save = NULL;

    *noprefix = false;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        bool skip = false;
        if (strcmp(t, "noprefix") == 0)
            *noprefix = true;
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
            skip = skip || strcmp(t, flags[i]) == 0;
        /* release_agent=... and other key=value options, but name= identifies. */
        if (strchr(t, '=') && strncmp(t, "name=", 5) != 0)
            skip = true;
        if (skip)
            continue;
        char *n = xasprintf("%s%s%s", out, *out ? "," : "", t);
        free(out);
        out = n;
    }
    return out;
}

static int parse_mountinfo(const char *text, struct hiers *hs, husk_err **err)
{
    _cleanup_free_ char *copy = xstrdup(text);
    char *save = NULL;

    hs->h = NULL;
    hs->n = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[64];
        size_t nf = 0;
        char *fsave = NULL;
        for (char *t = strtok_r(line, " ", &fsave); t && nf < ARRAY_SIZE(f); t = strtok_r(NULL, " ", &fsave))
            f[nf++] = t;
        /* Optional fields run up to "-"; fstype, source, super options follow it. */
        size_t dash = 6;
        while (dash < nf && strcmp(f[dash], "-") != 0)
            dash++;
        if (nf < 7 || dash + 1 >= nf)
            continue;
        const char *fs = f[dash + 1];
        const char *superopts = dash + 3 < nf ? f[dash + 3] : "";
        bool v2 = strcmp(fs, "cgroup2") == 0;
        if (!v2 && strcmp(fs, "cgroup") != 0)
            continue;

        struct hier h = { .v2 = v2 };
        h.ctrls = v2 ? xstrdup("") : v1_controllers(superopts, &h.noprefix);
        if (!v2 && h.ctrls[0] == '\0') {
            free(h.ctrls);
            continue;
        }
        h.mnt = unescape_mount(f[4]);
        h.root = unescape_mount(f[3]);

        /* The same hierarchy can be mounted more than once (bind mounts, containers'
         * views): keep the first, unless a later one shows the whole hierarchy. */
        size_t i;
        for (i = 0; i < hs->n; i++)
            if (hs->h[i].v2 == v2 && same_set(hs->h[i].ctrls, h.ctrls))
                break;
        if (i < hs->n) {
            if (strcmp(hs->h[i].root, "/") != 0 && strcmp(h.root, "/") == 0) {
                struct hier old = hs->h[i];
                hs->h[i] = h;
                h = old;
            }
            free(h.mnt);
            free(h.root);
            free(h.ctrls);
            continue;
        }
        hs->h = xrealloc(hs->h, (hs->n + 1) * sizeof(*hs->h));
        hs->h[hs->n++] = h;
    }
    (void)err;
    return 0;
}

static enum cgroup_layout layout_of(const struct hiers *hs)
{
    bool v1 = false, v2 = false;
    for (size_t i = 0; i < hs->n; i++) {
        if (hs->h[i].v2)
            v2 = true;
        else
            v1 = true;
    }
    if (v1 && v2)
        return CGROUP_LAYOUT_HYBRID;
    if (v1)
        return CGROUP_LAYOUT_V1;
    if (v2)
        return CGROUP_LAYOUT_V2;
    return CGROUP_LAYOUT_NONE;
}

enum cgroup_layout cgroup_layout_of(const char *mountinfo)
{
    struct hiers hs;
    if (parse_mountinfo(mountinfo, &hs, NULL) < 0)
        return CGROUP_LAYOUT_NONE;
    enum cgroup_layout l = layout_of(&hs);
    hiers_free(&hs);
    return l;
}

enum cgroup_layout cgroup_detect_layout(void)
{
    _cleanup_free_ char *text = NULL;
    if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", PROC_TEXT_MAX, &text, NULL, NULL) < 0)
        return CGROUP_LAYOUT_NONE;
    return cgroup_layout_of(text);
}

/* Our own cgroup on hierarchy h, relative to what the mount shows, from the text of
 * /proc/self/cgroup. "" when it is the mount's root or cannot be found. */
static char *own_cgroup(const char *self_cgroup, const struct hier *h)
{
    _cleanup_free_ char *copy = xstrdup(self_cgroup ? self_cgroup : "");
    char *save = NULL;

    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c1 = *c2 = '\0';
        const char *ctrls = c1 + 1, *path = c2 + 1;
        bool match = h->v2 ? strcmp(line, "0") == 0 && ctrls[0] == '\0' : same_set(ctrls, h->ctrls);
        if (!match)
            continue;
        /* A mount of a sub-tree (e.g. inside a container without a cgroup namespace)
         * shows our cgroup below its root. */
        size_t rl = strlen(h->root);
        if (strcmp(h->root, "/") != 0 && strncmp(path, h->root, rl) == 0 && (path[rl] == '/' || path[rl] == '\0'))
            path += rl;
        return xstrdup(path);
    }
    return xstrdup("");
}

/* Append the components of p to buf, dropping "" and "."; ".." must have been
 * rejected by the caller. */
static void append_components(char **buf, const char *p)
{
    _cleanup_free_ char *copy = xstrdup(p);
    char *save = NULL;
    for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0)
            continue;
        char *n = xasprintf("%s/%s", *buf, t);
        free(*buf);
        *buf = n;
    }
}

static bool has_dotdot(const char *p)
{
    _cleanup_free_ char *copy = xstrdup(p);
    char *save = NULL;
    for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save))
        if (strcmp(t, "..") == 0)
            return true;
    return false;
}

static void targets_free(struct target *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i].dir);
    free(t);
}

/* Work out the container directory on every hierarchy. t[i].h points into hs. */
static int plan(const struct hiers *hs, const char *self_cgroup, const char *cgroups_path, const char *id,
                struct target **out, husk_err **err)
{
    _cleanup_free_ char *def = NULL;
    const char *p = cgroups_path;

    if (p == NULL || p[0] == '\0') {
        if (id == NULL || id[0] == '\0' || strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
            return husk_fail(err, 0, "cgroup for container id \"%s\": not a valid directory name", id ? id : "");
        p = def = xasprintf("/husk/%s", id);
    }
    if (has_dotdot(p))
        return husk_fail(err, 0, "linux.cgroupsPath \"%s\": must not contain \"..\"", p);
    _cleanup_free_ char *rel = xstrdup("");
    append_components(&rel, p);
    /* The container must get a cgroup of its own: "/" or "." would put it (and
     * then kill it along with) whatever already lives there. */
    if (rel[0] == '\0')
        return husk_fail(err, 0, "linux.cgroupsPath \"%s\": must name a cgroup below the root", p);
    if (hs->n == 0)
        return husk_fail(err, ENOENT, "no cgroup hierarchy is mounted (see /proc/self/mountinfo)");

    struct target *t = xcalloc(hs->n, sizeof(*t));
    for (size_t i = 0; i < hs->n; i++) {
        const struct hier *h = &hs->h[i];
        char *dir = xstrdup(strcmp(h->mnt, "/") == 0 ? "" : h->mnt);
        if (p[0] != '/') {
            _cleanup_free_ char *own = own_cgroup(self_cgroup, h);
            append_components(&dir, own);
        }
        append_components(&dir, rel);
        t[i].h = h;
        t[i].dir = dir;
    }
    *out = t;
    return 0;
}

int cgroup_resolve(const char *mountinfo, const char *self_cgroup, const char *cgroups_path, const char *id,
                   char ***paths, husk_err **err)
{
    struct hiers hs;
    struct target *t = NULL;

    if (parse_mountinfo(mountinfo, &hs, err) < 0)
        return -1;
    if (plan(&hs, self_cgroup, cgroups_path, id, &t, err) < 0) {
        hiers_free(&hs);
        return -1;
    }
    char **v = xcalloc(hs.n + 1, sizeof(char *));
    for (size_t i = 0; i < hs.n; i++)
        v[i] = steal_ptr(t[i].dir);
    targets_free(t, hs.n);
    hiers_free(&hs);
    *paths = v;
    return 0;
}

/* ---- creating --------------------------------------------------------------- */

struct strv_builder {
    char **v;
    size_t n;
};

static void sb_push(struct strv_builder *b, char *s)
{
    b->v = xrealloc(b->v, (b->n + 2) * sizeof(char *));
    b->v[b->n++] = s;
    b->v[b->n] = NULL;
}

static int read_trimmed(const char *path, char **out, husk_err **err)
{
    size_t len;
    if (read_file_at(AT_FDCWD, path, 1024 * 1024, out, &len, err) < 0)
        return -1;
    while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == ' '))
        (*out)[--len] = '\0';
    return 0;
}

/* A new v1 cpuset starts with no cpus and no mems, and adding a task to it fails
 * with ENOSPC: give it its parent's. With only_if_empty, a cpuset that already
 * has them is left alone: a directory another husk made a moment ago (its mkdir
 * won, ours saw EEXIST) may not have been filled yet, so whoever finds it empty
 * fills it; both write the same values. runc fills every empty ancestor the
 * same way, since a task cannot join a cpuset without cpus and mems. */
static int cpuset_inherit(const char *dir, bool noprefix, bool only_if_empty, husk_err **err)
{
    static const char *const knobs[] = { "cpus", "mems" };
    _cleanup_free_ char *parent = xstrdup(dir);
    *strrchr(parent, '/') = '\0';

    for (size_t i = 0; i < ARRAY_SIZE(knobs); i++) {
        _cleanup_free_ char *pf = xasprintf("%s/%s%s", parent, noprefix ? "" : "cpuset.", knobs[i]);
        _cleanup_free_ char *cf = xasprintf("%s/%s%s", dir, noprefix ? "" : "cpuset.", knobs[i]);
        _cleanup_free_ char *val = NULL, *cur = NULL;
        if (only_if_empty) {
            if (read_trimmed(cf, &cur, err) < 0)
                return -1;
            if (cur[0] != '\0')
                continue;
        }
        if (read_trimmed(pf, &val, err) < 0)
            return -1;
        if (val[0] == '\0')
            continue;
        if (write_file_at(AT_FDCWD, cf, val, strlen(val), err) < 0)
            return -1;
    }
    return 0;
}

/* Hand a locally caught error to the caller, with context when ctrl is set. */
static int pass_err(husk_err **err, husk_err **e, const char *ctrl)
{
    if (ctrl)
        husk_err_prefix(e, "enable cgroup controller %s", ctrl);
    if (err) {
        husk_err_free(err);
        *err = steal_ptr(*e);
    }
    husk_err_free(e);
    return -1;
}

/* On cgroup v2 a controller works in a cgroup only if every ancestor enabled it for
 * its children: turn on whatever each ancestor has available. One controller per
 * write, so one that cannot be enabled does not block the others. EBUSY (the
 * ancestor has processes of its own) and ENOENT are tolerated for now; limits that
 * need a missing controller will fail later with a clearer message. */
static int v2_enable_controllers(const struct hier *h, const char *dir, husk_err **err)
{
    size_t base = strcmp(h->mnt, "/") == 0 ? 0 : strlen(h->mnt);
    _cleanup_free_ char *anc = xstrdup(dir);

    for (size_t end = base; anc[end] == '/'; end += 1 + strcspn(anc + end + 1, "/")) {
        char saved = anc[end];
        anc[end] = '\0';
        const char *a = end == 0 ? "/" : anc;
        _cleanup_free_ char *cf = xasprintf("%s/cgroup.controllers", a);
        _cleanup_free_ char *sf = xasprintf("%s/cgroup.subtree_control", a);
        _cleanup_free_ char *avail = NULL, *enabled = NULL;
        _cleanup_err_ husk_err *e = NULL;
        anc[end] = saved;

        if (read_trimmed(cf, &avail, &e) < 0 || read_trimmed(sf, &enabled, &e) < 0) {
            if (e->errnum == ENOENT)
                continue;
            return pass_err(err, &e, NULL);
        }
        char *save = NULL;
        for (char *c = strtok_r(avail, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
            _cleanup_free_ char *spaced = xasprintf(" %s ", enabled), *want = xasprintf(" %s ", c);
            if (strstr(spaced, want))
                continue;
            _cleanup_free_ char *cmd = xasprintf("+%s", c);
            if (write_file_at(AT_FDCWD, sf, cmd, strlen(cmd), &e) < 0) {
                if (e->errnum != EBUSY && e->errnum != ENOENT)
                    return pass_err(err, &e, c);
                husk_err_free(&e);
            }
        }
    }
    return 0;
}

/* mkdir each missing component of t->dir below the mountpoint, recording new ones. */
static int make_dir(const struct target *t, bool pure_v2, struct strv_builder *created, husk_err **err)
{
    size_t base = strcmp(t->h->mnt, "/") == 0 ? 0 : strlen(t->h->mnt);
    _cleanup_free_ char *p = xstrdup(t->dir);
    bool cpuset = !t->h->v2 && list_has(t->h->ctrls, "cpuset");

    for (size_t end = base; p[end] == '/';) {
        end += 1 + strcspn(p + end + 1, "/");
        char saved = p[end];
        p[end] = '\0';
        if (mkdir(p, 0755) == 0) {
            sb_push(created, xstrdup(p));
            if (cpuset && cpuset_inherit(p, t->h->noprefix, false, err) < 0)
                return husk_err_prefix(err, "cgroup %s", p);
        } else if (errno != EEXIST) {
            return husk_fail(err, errno, "create cgroup %s", p);
        } else if (cpuset && cpuset_inherit(p, t->h->noprefix, true, err) < 0) {
            return husk_err_prefix(err, "cgroup %s", p);
        }
        p[end] = saved;
    }
    if (pure_v2)
        return v2_enable_controllers(t->h, t->dir, err);
    return 0;
}

static void remove_dirs(char **dirs, size_t n)
{
    while (n > 0)
        rmdir(dirs[--n]);
}

int cgroup_create(const char *cgroups_path, const char *id, struct husk_cgroup *out, husk_err **err)
{
    _cleanup_free_ char *mountinfo = NULL, *self = NULL;
    struct hiers hs = { 0 };
    struct target *t = NULL;
    struct strv_builder created = { 0 }, paths = { 0 };
    char *freezer = NULL;
    int ret = -1;

    memset(out, 0, sizeof(*out));
    if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", PROC_TEXT_MAX, &mountinfo, NULL, err) < 0 ||
        read_file_at(AT_FDCWD, "/proc/self/cgroup", PROC_TEXT_MAX, &self, NULL, err) < 0)
        return husk_err_prefix(err, "cgroups");
    if (parse_mountinfo(mountinfo, &hs, err) < 0)
        return -1;
    if (plan(&hs, self, cgroups_path, id, &t, err) < 0)
        goto out;

    bool pure_v2 = layout_of(&hs) == CGROUP_LAYOUT_V2;
    const char *v2dir = NULL;
    for (size_t i = 0; i < hs.n; i++) {
        if (make_dir(&t[i], pure_v2, &created, err) < 0)
            goto out;
        sb_push(&paths, xstrdup(t[i].dir));
        if (!t[i].h->v2 && list_has(t[i].h->ctrls, "freezer") && !freezer)
            freezer = xstrdup(t[i].dir);
        if (t[i].h->v2 && !v2dir)
            v2dir = t[i].dir;
    }
    /* Without a v1 freezer, cgroup v2's cgroup.freeze (core, in every non-root
     * cgroup) does the job, on a pure v2 host as on a hybrid one. */
    if (!freezer && v2dir)
        freezer = xstrdup(v2dir);

    out->paths = steal_ptr(paths.v);
    out->created = created.n ? steal_ptr(created.v) : xcalloc(1, sizeof(char *));
    out->freezer = steal_ptr(freezer);
    ret = 0;
out:
    if (ret < 0)
        remove_dirs(created.v, created.n);
    strv_free(created.v);
    strv_free(paths.v);
    free(freezer);
    if (t)
        targets_free(t, hs.n);
    hiers_free(&hs);
    return ret;
}

/* ---- using ------------------------------------------------------------------ */

int cgroup_enter(const struct husk_cgroup *cg, pid_t pid, husk_err **err)
{
    _cleanup_free_ char *line = xasprintf("%d\n", (int)pid);
    for (char **p = cg->paths; p && *p; p++) {
        _cleanup_free_ char *f = xasprintf("%s/cgroup.procs", *p);
        if (write_file_at(AT_FDCWD, f, line, strlen(line), err) < 0)
            return husk_err_prefix(err, "add process %d to cgroup", (int)pid);
    }
    return 0;
}

/* Moving a process into a cgroup takes the kernel's global cgroup_threadgroup_rwsem
 * for writing whenever a whole thread group moves (any write to cgroup.procs, and a
 * pid other than 0 written to v1's tasks), and taking it for writing waits for an
 * RCU grace period: 3-10 ms on a 2-CPU VM, the largest single wait of a container
 * start (crun and runc pay it too). Since Linux 6.0 the kernel skips that lock when
 * a task moves *itself*, one thread ("0" written to v1's tasks file): nothing can
 * exec or exit under it. A freshly forked setup process is single-threaded, so that
 * moves the whole process. cgroup v2 has no such file (cgroup.threads only works in
 * threaded subtrees): there cgroup.procs it is, unless the process was born in the
 * v2 cgroup (cgroup_fork_into), which needs no migration at all. Before 6.0 this
 * costs what cgroup_enter does. */
int cgroup_enter_self(const struct husk_cgroup *cg, bool skip_v2, husk_err **err)
{
    for (char **p = cg->paths; p && *p; p++) {
        _cleanup_free_ char *tasks = xasprintf("%s/tasks", *p);
        _cleanup_close_ int fd = open(tasks, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT) {
            /* cgroup v2. */
            if (skip_v2)
                continue;
            _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", *p);
            fd = open(procs, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        }
        if (fd < 0 || write(fd, "0", 1) != 1)
            return husk_fail(err, errno, "add process %d to cgroup %s", (int)getpid(), *p);
    }
    return 0;
}

/* clone3(2) with CLONE_INTO_CGROUP (Linux 5.7): the child starts life in the
 * container's cgroup v2 directory, if the host has one; v1 hierarchies are not
 * affected by it. Like fork() otherwise (no new stack, SIGCHLD), so glibc's state in
 * the child is fork()'s; glibc's raise() and abort() look their thread id up afresh
 * (since 2.34), the one thing a raw clone leaves stale. *born_in_v2 tells whether it
 * happened; where clone3 is not allowed (an older seccomp profile answers ENOSYS or
 * EPERM) this is a plain fork(). */
pid_t cgroup_fork_into(const struct husk_cgroup *cg, bool *born_in_v2)
{
    return cgroup_clone_into(cg, 0, born_in_v2);
}

pid_t cgroup_clone_into(const struct husk_cgroup *cg, int ns_flags, bool *born_in_v2)
{
    *born_in_v2 = false;
    for (char **p = cg->paths; p && *p; p++) {
        struct statfs sfs;
        if (statfs(*p, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
            continue;
        _cleanup_close_ int dfd = open(*p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            break;
        struct clone_args a = { .flags = CLONE_INTO_CGROUP | (uint64_t)ns_flags, .exit_signal = SIGCHLD,
                                .cgroup = (uint64_t)dfd };
        long pid = syscall(SYS_clone3, &a, sizeof a);
        if (pid >= 0) {
            *born_in_v2 = true;
            return (pid_t)pid;
        }
        break;
    }
    if (ns_flags == 0)
        return fork();
    /* New namespaces: never a fork() without them. clone3 where the v2 cgroup could
     * not be used (or there is none), else clone(2), which Linux has always had;
     * with no new stack both return in the child like fork() does. */
    struct clone_args a = { .flags = (uint64_t)ns_flags, .exit_signal = SIGCHLD };
    long pid = syscall(SYS_clone3, &a, sizeof a);
    if (pid < 0 && (errno == ENOSYS || errno == EPERM))
        pid = syscall(SYS_clone, (unsigned long)ns_flags | SIGCHLD, NULL, NULL, NULL, 0UL);
    return (pid_t)pid;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

static int read_procs(const char *dir, pid_t **pids, size_t *n, husk_err **err)
{
    _cleanup_free_ char *f = xasprintf("%s/cgroup.procs", dir);
    _cleanup_free_ char *text = NULL;
    if (read_file_at(AT_FDCWD, f, PROC_TEXT_MAX, &text, NULL, err) < 0)
        return -1;

    size_t cnt = 0, cap = 16;
    _cleanup_free_ pid_t *v = xmalloc(cap * sizeof(pid_t));
    for (char *p = text; *p;) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno != 0 || x <= 0 || x > INT32_MAX || (*end != '\n' && *end != '\0'))
            return husk_fail(err, 0, "read %s: unexpected content", f);
        if (cnt == cap) {
            cap *= 2;
            v = xrealloc(v, cap * sizeof(pid_t));
        }
        v[cnt++] = (pid_t)x;
        p = *end ? end + 1 : end;
    }
    /* v1 does not promise a sorted list free of duplicates. */
    qsort(v, cnt, sizeof(pid_t), cmp_pid);
    size_t u = 0;
    for (size_t i = 0; i < cnt; i++)
        if (u == 0 || v[u - 1] != v[i])
            v[u++] = v[i];
    *pids = steal_ptr(v);
    *n = u;
    return 0;
}

int cgroup_pids(const struct husk_cgroup *cg, pid_t **pids, size_t *n, husk_err **err)
{
    husk_err *first = NULL;

    *pids = NULL;
    *n = 0;
    /* The freezer's list first: pause and kill --all act on it. Every hierarchy got
     * the same processes, but one may be unreadable; take the first that answers. */
    if (cg->freezer && read_procs(cg->freezer, pids, n, &first) == 0)
        return 0;
    for (char **p = cg->paths; p && *p; p++) {
        husk_err *e = NULL;
        if (read_procs(*p, pids, n, &e) == 0) {
            husk_err_free(&first);
            return 0;
        }
        if (first == NULL)
            first = e;
        else
            husk_err_free(&e);
    }
    if (first == NULL)
        return husk_fail(err, ENOENT, "container has no cgroup");
    husk_err_free(err);
    if (err)
        *err = first;
    else
        husk_err_free(&first);
    return -1;
}

int cgroup_check_new(const struct husk_cgroup *cg, husk_err **err)
{
    _cleanup_free_ char *why = cgroup_frozen_why(cg);
    /* runtime-spec (config-linux.md, cgroupsPath) lets a runtime refuse a cgroup it
     * cannot use; a frozen one would stop our own setup process on entry. */
    if (why)
        return husk_fail(err, 0, "container's cgroup is frozen: %s; thaw it first", why);
    for (char **p = cg->paths; p && *p; p++) {
        bool made = false;
        for (char **c = cg->created; c && *c; c++)
            made = made || strcmp(*c, *p) == 0;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        /* A dir husk just made is empty; one it found may be someone's cgroup. Those
         * processes would share the container's limits, and its kill --all. */
        if (made || read_procs(*p, &pids, &n, NULL) < 0)
            continue;
        if (n > 0) {
            husk_log(HUSK_LOG_WARNING, "container's cgroup is not empty: %zu process(es) found in %s", n, *p);
            break;
        }
    }
    return 0;
}

int cgroup_destroy(const struct husk_cgroup *cg, husk_err **err)
{
    /* One budget for the whole call: processes that are still exiting keep their
     * cgroups busy for a moment, but a truly stuck cgroup must not hang delete. */
    int budget_ms = 1000, ret = 0;
    size_t n = 0;

    while (cg->created && cg->created[n])
        n++;
    while (n > 0) {
        const char *d = cg->created[--n];
        /* A parent husk made (e.g. /husk) is shared with other containers: remove it
         * only when it is empty, and never wait for it. */
        bool own = false;
        for (char **p = cg->paths; p && *p; p++)
            if (strcmp(*p, d) == 0)
                own = true;
        for (;;) {
            if (rmdir(d) == 0 || errno == ENOENT)
                break;
            if (!own && (errno == EBUSY || errno == ENOTEMPTY))
                break;
            if (errno == EBUSY && budget_ms > 0) {
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
                budget_ms -= 10;
                continue;
            }
            ret = husk_fail(err, errno, "remove cgroup %s", d);
            break;
        }
    }
    return ret;
}

void cgroup_free(struct husk_cgroup *cg)
{
    if (cg == NULL)
        return;
    strv_free(cg->paths);
    strv_free(cg->created);
    free(cg->freezer);
    cg->paths = cg->created = NULL;
    cg->freezer = NULL;
}

/* ---- resources -------------------------------------------------------------- */

/* Where each hierarchy put this container, and what the unified one offers. */
struct applier {
    struct hiers hs;
    const char **dirs;     /* per hierarchy: the container's dir there, or NULL */
    int v2;                /* index of the cgroup2 hierarchy, or -1 */
    bool has_v1;
    char *v2_avail;        /* " hugetlb cpu " : the v2 root's cgroup.controllers, blank-padded */
};

static void applier_free(struct applier *a)
{
    hiers_free(&a->hs);
    free(a->dirs);
    free(a->v2_avail);
}

static int applier_init(struct applier *a, const struct husk_cgroup *cg, husk_err **err)
{
    _cleanup_free_ char *mountinfo = NULL;

    memset(a, 0, sizeof(*a));
    a->v2 = -1;
    if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", PROC_TEXT_MAX, &mountinfo, NULL, err) < 0)
        return husk_err_prefix(err, "cgroups");
    if (parse_mountinfo(mountinfo, &a->hs, err) < 0)
        return -1;
    a->dirs = xcalloc(a->hs.n + 1, sizeof(char *));
    for (size_t i = 0; i < a->hs.n; i++) {
        const struct hier *h = &a->hs.h[i];
        size_t ml = strcmp(h->mnt, "/") == 0 ? 0 : strlen(h->mnt);
        for (char **p = cg->paths; p && *p; p++)
            if (strncmp(*p, h->mnt, ml) == 0 && (*p)[ml] == '/') {
                a->dirs[i] = *p;
                break;
            }
        if (!a->dirs[i])
            continue;
        if (h->v2 && a->v2 < 0) {
            _cleanup_free_ char *f = xasprintf("%s/cgroup.controllers", h->mnt);
            _cleanup_free_ char *avail = NULL;
            a->v2 = (int)i;
            if (read_trimmed(f, &avail, err) < 0)
                return -1;
            a->v2_avail = xasprintf(" %s ", avail);
        } else if (!h->v2) {
            a->has_v1 = true;
        }
    }
    return 0;
}

static int v1_index(const struct applier *a, const char *ctrl)
{
    for (size_t i = 0; ctrl && i < a->hs.n; i++)
        if (!a->hs.h[i].v2 && a->dirs[i] && list_has(a->hs.h[i].ctrls, ctrl))
            return (int)i;
    return -1;
}

static bool v2_has(const struct applier *a, const char *ctrl)
{
    _cleanup_free_ char *want = xasprintf(" %s ", ctrl);
    return a->v2 >= 0 && ctrl && strstr(a->v2_avail, want) != NULL;
}

static bool blank_list_has(const char *list, const char *item)
{
    _cleanup_free_ char *l = xasprintf(" %s ", list), *w = xasprintf(" %s ", item);
    return strstr(l, w) != NULL;
}

/* A v2 controller works in a cgroup only if every ancestor enabled it for its
 * children. Turn it on from the mount's root down to the container's parent, one
 * controller at a time, only the one a setting needs. */
static int v2_enable(const struct applier *a, const char *ctrl, const char *what, husk_err **err)
{
    const struct hier *h = &a->hs.h[a->v2];
    const char *dir = a->dirs[a->v2];
    size_t base = strcmp(h->mnt, "/") == 0 ? 0 : strlen(h->mnt);
    _cleanup_free_ char *anc = xstrdup(dir);

    if (!v2_has(a, ctrl)) {
        _cleanup_free_ char *avail = xasprintf("%.*s", (int)(strlen(a->v2_avail) - 2), a->v2_avail + 1);
        return husk_fail(err, 0, "%s: cgroup controller %s is not available on this host (cgroup v2 at %s has: %s)",
                         what, ctrl, h->mnt, avail[strspn(avail, " ")] ? avail : "none");
    }
    for (size_t end = base; anc[end] == '/' && end < strlen(dir);) {
        size_t next = end + 1 + strcspn(anc + end + 1, "/");
        char saved = anc[end];
        anc[end] = '\0';
        _cleanup_free_ char *sf = xasprintf("%s/cgroup.subtree_control", end == 0 ? "" : anc);
        _cleanup_free_ char *enabled = NULL, *cmd = xasprintf("+%s", ctrl);
        anc[end] = saved;
        if (read_trimmed(sf, &enabled, err) < 0)
            return husk_err_prefix(err, "%s", what);
        if (!blank_list_has(enabled, ctrl) && write_file_at(AT_FDCWD, sf, cmd, strlen(cmd), err) < 0)
            return husk_err_prefix(err, "%s: enable cgroup controller %s", what, ctrl);
        end = next;
    }
    return 0;
}

/* v1 mounted with noprefix names files without the controller ("cpus"). */
static const char *v1_file(const struct hier *h, const char *file)
{
    const char *dot = strchr(file, '.');
    if (h->noprefix && dot && strncmp(file, "cgroup.", 7) != 0)
        return dot + 1;
    return file;
}

static int check_usage(const char *dir, const struct cg_item *it, husk_err **err)
{
    _cleanup_free_ char *f = xasprintf("%s/memory.current", dir), *cur = NULL;
    if (read_trimmed(f, &cur, err) < 0)
        return husk_err_prefix(err, "%s", it->what);
    unsigned long long usage = strtoull(cur, NULL, 10), limit = strtoull(it->value, NULL, 10);
    if (limit < usage)
        return husk_fail(err, 0, "%s: limit %llu is below the current usage %llu (checkBeforeUpdate)", it->what,
                         limit, usage);
    return 0;
}

static int write_item(const struct hier *h, const char *dir, const struct cg_item *it, husk_err **err)
{
    const char *file = h->v2 ? it->file : v1_file(h, it->file);
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
    _cleanup_err_ husk_err *e = NULL;

    if (it->check_usage && check_usage(dir, it, err) < 0)
        return -1;
    if (write_file_at(AT_FDCWD, path, it->value, strlen(it->value), &e) == 0)
        return 0;
    if (e->errnum == ENOENT && it->alt_file) {
        const char *alt = h->v2 ? it->alt_file : v1_file(h, it->alt_file);
        _cleanup_free_ char *ap = xasprintf("%s/%s", dir, alt);
        husk_err_free(&e);
        if (write_file_at(AT_FDCWD, ap, it->alt_value, strlen(it->alt_value), &e) == 0)
            return 0;
        if (e->errnum == ENOENT)
            return husk_fail(err, 0, "%s: not supported by this kernel (neither %s nor %s exists in %s)", it->what,
                             file, alt, dir);
        return husk_fail(err, e->errnum, "%s: write \"%s\" to %s", it->what, it->alt_value, ap);
    }
    if (e->errnum == ENOENT && it->kind == CG_WRITE_IF_EXISTS)
        return 0;
    if (e->errnum == ENOENT)
        return husk_fail(err, 0, "%s: not supported by this kernel (no %s in %s)", it->what, file, dir);
    if (e->errnum == EINVAL && strcmp(it->file, "cpu.rt_runtime_us") == 0) {
        /* A cgroup's realtime budget comes out of its parent's, which is 0 for a
         * new cgroup: say so rather than just "Invalid argument". */
        _cleanup_free_ char *pf = xasprintf("%s/../%s", dir, file), *pv = NULL;
        if (read_trimmed(pf, &pv, NULL) == 0)
            return husk_fail(err, e->errnum,
                             "%s: write \"%s\" to %s (the parent cgroup's cpu.rt_runtime_us is %s: a container's "
                             "realtime runtime must fit in its parent's)",
                             it->what, it->value, path, pv);
    }
    return husk_fail(err, e->errnum, "%s: write \"%s\" to %s", it->what, it->value, path);
}

static int apply_item(const struct applier *a, int hi, const struct oci_linux *l, const struct cg_item *it,
                      husk_err **err)
{
    const struct hier *h = &a->hs.h[hi];

    switch (it->kind) {
    case CG_FAIL:
        return husk_fail(err, 0, "%s: %s", it->what, it->value);
    case CG_WARN:
        husk_log(HUSK_LOG_WARNING, "%s: %s", it->what, it->value);
        return 0;
    case CG_DEVICES_BPF:
        return cgroup_devices_bpf(a->dirs[hi], l, err);
    case CG_WRITE:
    case CG_WRITE_IF_EXISTS:
        if (h->v2 && it->ctrl && v2_enable(a, it->ctrl, it->what, err) < 0)
            return -1;
        return write_item(h, a->dirs[hi], it, err);
    }
    return 0;
}

/* Which hierarchy serves group g: the v1 one holding its controller, else the
 * unified one if it offers the v2 counterpart (or is the only hierarchy: then the
 * v2 plan says what cannot be done). -1 with *missing set: nowhere. */
static int pick(const struct applier *a, enum cg_group g, const char **missing)
{
    const char *c1 = cg_group_v1_controller(g), *c2 = cg_group_v2_controller(g);
    int i;

    *missing = c1 ? c1 : c2;
    if (g == CG_UNIFIED)
        return a->v2 >= 0 ? a->v2 : 0;
    if ((i = v1_index(a, c1)) >= 0)
        return i;
    if (a->v2 >= 0 && (!a->has_v1 || (c2 && v2_has(a, c2)) || g == CG_DEVICES))
        return a->v2;
    return -1;
}

static int apply_resources(const struct husk_cgroup *cg, const struct oci_linux *l, bool devices, husk_err **err)
{
    struct applier a;
    struct cg_plan p1 = { 0 }, p2 = { 0 };
    int ret = -1;

    if (applier_init(&a, cg, err) < 0)
        goto out;
    cgroup_plan_v1(l, &p1);
    cgroup_plan_v2(l, &p2);
    for (int g = 0; g < CG_GROUP_COUNT; g++) {
        const char *missing = NULL;
        if (g == CG_DEVICES && !devices)
            continue;
        int hi = a.hs.n ? pick(&a, (enum cg_group)g, &missing) : -1;
        const struct cg_plan *p = hi >= 0 && a.hs.h[hi].v2 ? &p2 : &p1;
        for (size_t k = 0; k < p->n; k++) {
            const struct cg_item *it = &p->v[k];
            if (it->group != (enum cg_group)g)
                continue;
            if (hi < 0) {
                /* Husk's own defaults (device rules) need no controller the host
                 * lacks; anything the config asked for does. */
                if (it->implicit)
                    continue;
                husk_fail(err, 0, "%s: cgroup controller %s is not available on this host", it->what,
                          missing ? missing : "?");
                goto out;
            }
            if (apply_item(&a, hi, l, it, err) < 0)
                goto out;
        }
    }
    ret = 0;
out:
    cg_plan_free(&p1);
    cg_plan_free(&p2);
    applier_free(&a);
    return ret;
}

int cgroup_apply_resources(const struct husk_cgroup *cg, const struct oci_linux *l, husk_err **err)
{
    return apply_resources(cg, l, true, err);
}

int cgroup_update_resources(const struct husk_cgroup *cg, const struct oci_linux *l, husk_err **err)
{
    /* The device rules stay as create set them: replaying them (deny all, then
     * allow) would cut a running container off its devices for a moment. */
    return apply_resources(cg, l, false, err);
}
