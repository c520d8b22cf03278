/* mounts.c — the config's mounts, in order, inside the rootfs.
 *
 * Runs in stage 2, in the container's new mount namespace, before pivot_root: the
 * host's filesystem is still visible, so every destination is resolved inside the
 * rootfs (paths.c) and the mount is made onto the fd that was resolved, never onto
 * a path string the kernel would walk again. Bind mounts are built with the new
 * mount API: the source tree is cloned detached (open_tree), its flags are set
 * while nobody can see it (mount_setattr), and only then is it attached onto the
 * destination fd (move_mount). There is no window in which a read-only bind mount
 * is writable, and no remount that could trip on flags a user namespace locked.
 * See mounts.h. */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "copyup.h"
#include "newsys.h"
#include "paths.h"
#include "util.h"

/* ---- option parsing ------------------------------------------------------- */

enum opt_kind {
    OPT_NONE,      /* accepted, no effect ("defaults") */
    OPT_FLAG,      /* set an MS_* flag */
    OPT_CLEAR,     /* clear an MS_* flag */
    OPT_PROP,      /* propagation */
    OPT_BIND,
    OPT_RBIND,
    OPT_ATTR_SET,  /* recursive mount_setattr: set a MOUNT_ATTR_* */
    OPT_ATTR_CLR,  /* recursive mount_setattr: clear a MOUNT_ATTR_* */
    OPT_ATIME,     /* recursive atime mode: one MOUNT_ATTR_* value of MOUNT_ATTR__ATIME */
    OPT_IDMAP,
    OPT_RIDMAP,
    OPT_TMPCOPYUP,
};

struct opt_entry {
    const char *name;
    enum opt_kind kind;
    unsigned long value;
};

/* The option names runc and crun accept; anything else is filesystem data. */
static const struct opt_entry opt_table[] = {
    { "defaults", OPT_NONE, 0 },
    { "ro", OPT_FLAG, MS_RDONLY },
    { "rw", OPT_CLEAR, MS_RDONLY },
    { "nosuid", OPT_FLAG, MS_NOSUID },
    { "suid", OPT_CLEAR, MS_NOSUID },
    { "nodev", OPT_FLAG, MS_NODEV },
    { "dev", OPT_CLEAR, MS_NODEV },
    { "noexec", OPT_FLAG, MS_NOEXEC },
    { "exec", OPT_CLEAR, MS_NOEXEC },
    { "sync", OPT_FLAG, MS_SYNCHRONOUS },
    { "async", OPT_CLEAR, MS_SYNCHRONOUS },
    { "dirsync", OPT_FLAG, MS_DIRSYNC },
    { "remount", OPT_FLAG, MS_REMOUNT },
    { "mand", OPT_FLAG, MS_MANDLOCK },
    { "nomand", OPT_CLEAR, MS_MANDLOCK },
    { "noatime", OPT_FLAG, MS_NOATIME },
    { "atime", OPT_CLEAR, MS_NOATIME },
    { "nodiratime", OPT_FLAG, MS_NODIRATIME },
    { "diratime", OPT_CLEAR, MS_NODIRATIME },
    { "relatime", OPT_FLAG, MS_RELATIME },
    { "norelatime", OPT_CLEAR, MS_RELATIME },
    { "strictatime", OPT_FLAG, MS_STRICTATIME },
    { "nostrictatime", OPT_CLEAR, MS_STRICTATIME },
    { "lazytime", OPT_FLAG, MS_LAZYTIME },
    { "nolazytime", OPT_CLEAR, MS_LAZYTIME },
    { "iversion", OPT_FLAG, MS_I_VERSION },
    { "noiversion", OPT_CLEAR, MS_I_VERSION },
    { "silent", OPT_FLAG, MS_SILENT },
    { "loud", OPT_CLEAR, MS_SILENT },
    { "nosymfollow", OPT_FLAG, MS_NOSYMFOLLOW },
    { "symfollow", OPT_CLEAR, MS_NOSYMFOLLOW },
    { "bind", OPT_BIND, 0 },
    { "rbind", OPT_RBIND, 0 },
    { "shared", OPT_PROP, MS_SHARED },
    { "rshared", OPT_PROP, MS_SHARED | MS_REC },
    { "slave", OPT_PROP, MS_SLAVE },
    { "rslave", OPT_PROP, MS_SLAVE | MS_REC },
    { "private", OPT_PROP, MS_PRIVATE },
    { "rprivate", OPT_PROP, MS_PRIVATE | MS_REC },
    { "unbindable", OPT_PROP, MS_UNBINDABLE },
    { "runbindable", OPT_PROP, MS_UNBINDABLE | MS_REC },
    { "rro", OPT_ATTR_SET, MOUNT_ATTR_RDONLY },
    { "rrw", OPT_ATTR_CLR, MOUNT_ATTR_RDONLY },
    { "rnosuid", OPT_ATTR_SET, MOUNT_ATTR_NOSUID },
    { "rsuid", OPT_ATTR_CLR, MOUNT_ATTR_NOSUID },
    { "rnodev", OPT_ATTR_SET, MOUNT_ATTR_NODEV },
    { "rdev", OPT_ATTR_CLR, MOUNT_ATTR_NODEV },
    { "rnoexec", OPT_ATTR_SET, MOUNT_ATTR_NOEXEC },
    { "rexec", OPT_ATTR_CLR, MOUNT_ATTR_NOEXEC },
    { "rnodiratime", OPT_ATTR_SET, MOUNT_ATTR_NODIRATIME },
    { "rdiratime", OPT_ATTR_CLR, MOUNT_ATTR_NODIRATIME },
    { "rnosymfollow", OPT_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW },
    { "rsymfollow", OPT_ATTR_CLR, MOUNT_ATTR_NOSYMFOLLOW },
    /* atime is one mode out of MOUNT_ATTR__ATIME, not independent bits; the "no"
     * forms fall back to what mount(8) means by them. */
    { "rrelatime", OPT_ATIME, MOUNT_ATTR_RELATIME },
    { "rnorelatime", OPT_ATIME, MOUNT_ATTR_STRICTATIME },
    { "rnoatime", OPT_ATIME, MOUNT_ATTR_NOATIME },
    { "ratime", OPT_ATIME, MOUNT_ATTR_RELATIME },
    { "rstrictatime", OPT_ATIME, MOUNT_ATTR_STRICTATIME },
    { "rnostrictatime", OPT_ATIME, MOUNT_ATTR_RELATIME },
    { "idmap", OPT_IDMAP, 0 },
    { "ridmap", OPT_RIDMAP, 0 },
    { "tmpcopyup", OPT_TMPCOPYUP, 0 },
    { "notmpcopyup", OPT_NONE, 0 },
};

static void data_append(char **data, const char *opt)
{
    if (*data == NULL) {
        *data = xstrdup(opt);
        return;
    }
    size_t a = strlen(*data), b = strlen(opt);
    *data = xrealloc(*data, a + b + 2);
    (*data)[a] = ',';
    memcpy(*data + a + 1, opt, b + 1);
}

void mount_opts_parse(char *const *options, struct mount_opts *out)
{
    memset(out, 0, sizeof(*out));
    for (char *const *opt = options; opt && *opt; opt++) {
        const struct opt_entry *e = NULL;
        if (**opt == '\0')
            continue;
        for (size_t i = 0; i < ARRAY_SIZE(opt_table); i++) {
            if (strcmp(opt_table[i].name, *opt) == 0) {
                e = &opt_table[i];
                break;
            }
        }
        if (e == NULL) {
            data_append(&out->data, *opt);
            continue;
        }
        /* Later options override earlier ones, as with mount(8): "ro,rw" is rw. */
        switch (e->kind) {
        case OPT_NONE:
            break;
        case OPT_FLAG:
            out->flags |= e->value;
            out->clear &= ~e->value;
            break;
        case OPT_CLEAR:
            out->clear |= e->value;
            out->flags &= ~e->value;
            break;
        case OPT_PROP:
            out->propagation = e->value;
            break;
        case OPT_BIND:
            out->bind = true;
            break;
        case OPT_RBIND:
            out->rbind = true;
            break;
        case OPT_ATTR_SET:
            out->attr_set |= e->value;
            out->attr_clr &= ~e->value;
            break;
        case OPT_ATTR_CLR:
            out->attr_clr |= e->value;
            out->attr_set &= ~e->value;
            break;
        case OPT_ATIME:
            out->has_atime_attr = true;
            out->attr_set = (out->attr_set & ~(unsigned long)MOUNT_ATTR__ATIME) | e->value;
            out->attr_clr |= MOUNT_ATTR__ATIME;
            break;
        case OPT_IDMAP:
            out->idmap = true;
            break;
        case OPT_RIDMAP:
            out->ridmap = true;
            break;
        case OPT_TMPCOPYUP:
            out->tmpcopyup = true;
            break;
        }
    }
    out->recursive_ro = (out->attr_set & MOUNT_ATTR_RDONLY) != 0;
}

const char *mount_opt_name_at(size_t i, bool *applied)
{
    if (i >= ARRAY_SIZE(opt_table))
        return NULL;
    *applied = true;
    return opt_table[i].name;
}

void mount_opts_free(struct mount_opts *o)
{
    free(o->data);
    o->data = NULL;
}

static void mount_opts_cleanup(struct mount_opts *o) { mount_opts_free(o); }

/* ---- small helpers ---------------------------------------------------------- */

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* The path an fd really points at, as the kernel reports it. */
static char *fd_readlink(int fd, husk_err **err)
{
    char link[64], buf[4096];
    ssize_t n = readlink(fd_path(fd, link, sizeof(link)), buf, sizeof(buf) - 1);
    if (n < 0) {
        husk_fail(err, errno, "readlink %s", link);
        return NULL;
    }
    buf[n] = '\0';
    return xstrdup(buf);
}

/* `path` (a host path from readlink) relative to the rootfs host path `root`:
 * "/proc" for "<root>/proc", "" for the root itself. NULL when path is not below
 * root. */
static const char *under_root(const char *root, const char *path)
{
    size_t n = strlen(root);
    if (strcmp(root, "/") == 0)
        return strcmp(path, "/") == 0 ? path + 1 : path;
    if (strncmp(path, root, n) != 0)
        return NULL;
    return path[n] == '/' || path[n] == '\0' ? path + n : NULL;
}

static int fd_mount_id(int fd, uint64_t *id)
{
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
        return -1;
    *id = stx.stx_mnt_id;
    return 0;
}

/* After mount(2) on `destfd`, open the root of the new mount: resolve the
 * destination again inside the root, and check that what we get is a different
 * mount than the directory we mounted on — i.e. our mount, not something swapped
 * in since. */
static int reopen_mounted(int rootfd, int destfd, const char *dest, husk_err **err)
{
    uint64_t under, top;
    _cleanup_close_ int fd = open_in_root(rootfd, dest, O_PATH, 0, err);
    if (fd < 0)
        return -1;
    if (fd_mount_id(destfd, &under) < 0 || fd_mount_id(fd, &top) < 0)
        return husk_fail(err, errno, "statx %s", dest);
    if (under == top)
        return husk_fail(err, EXDEV, "%s: the new mount is not where it was made", dest);
    return steal_fd(fd);
}

static int setattr_fd(int fd, bool recursive, uint64_t set, uint64_t clr, uint64_t prop)
{
    struct mount_attr a = { .attr_set = set, .attr_clr = clr, .propagation = prop };
    return husk_mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof(a));
}

/* The MOUNT_ATTR_* change for a bind mount's own (non-recursive) options. */
static void top_attrs(const struct mount_opts *o, uint64_t *set, uint64_t *clr)
{
    static const struct { unsigned long ms; uint64_t attr; } map[] = {
        { MS_RDONLY, MOUNT_ATTR_RDONLY },       { MS_NOSUID, MOUNT_ATTR_NOSUID },
        { MS_NODEV, MOUNT_ATTR_NODEV },         { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
        { MS_NODIRATIME, MOUNT_ATTR_NODIRATIME }, { MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
    };
    *set = *clr = 0;
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        if (o->flags & map[i].ms)
            *set |= map[i].attr;
        if (o->clear & map[i].ms)
            *clr |= map[i].attr;
    }
    /* One atime mode; the clear-only forms mean mount(8)'s defaults. */
    long atime = -1;
    if (o->flags & MS_NOATIME)
        atime = MOUNT_ATTR_NOATIME;
    else if (o->flags & MS_STRICTATIME)
        atime = MOUNT_ATTR_STRICTATIME;
    else if (o->flags & MS_RELATIME)
        atime = MOUNT_ATTR_RELATIME;
    else if (o->clear & MS_RELATIME)
        atime = MOUNT_ATTR_STRICTATIME;
    else if (o->clear & (MS_NOATIME | MS_STRICTATIME))
        atime = MOUNT_ATTR_RELATIME;
    if (atime >= 0) {
        *set |= (uint64_t)atime;
        *clr |= MOUNT_ATTR__ATIME;
    }
}

/* Apply a bind mount's options to the detached clone `tree`. */
static int tree_apply_opts(int tree, const struct mount_opts *o, const char *what, husk_err **err)
{
    uint64_t set, clr;
    top_attrs(o, &set, &clr);
    if ((set || clr) && setattr_fd(tree, false, set, clr, 0) < 0) {
        /* In a user namespace the flags a mount had when the namespace was made are
         * locked: clearing them, or changing atime, is EPERM. Keep them, as runc
         * does, and still add the restrictions asked for (always allowed). */
        uint64_t restrict_only = set & (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                        MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW);
        if (errno != EPERM || (restrict_only && setattr_fd(tree, false, restrict_only, 0, 0) < 0))
            return husk_fail(err, errno, "set mount options of %s", what);
    }
    if ((o->attr_set || o->attr_clr) && setattr_fd(tree, true, o->attr_set, o->attr_clr, 0) < 0)
        return husk_fail(err, errno, "set recursive mount options of %s", what);
    return 0;
}

static int apply_propagation(int mntfd, unsigned long prop, const char *what, husk_err **err)
{
    if (prop == 0)
        return 0;
    if (setattr_fd(mntfd, (prop & MS_REC) != 0, 0, 0, prop & ~(unsigned long)MS_REC) < 0)
        return husk_fail(err, errno, "set propagation of %s", what);
    return 0;
}

/* Clone the host tree at `src` detached, with the options applied. */
static int clone_tree(const char *src, bool recursive, const struct mount_opts *o, husk_err **err)
{
    _cleanup_close_ int tree =
        husk_open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
    if (tree < 0)
        return husk_fail(err, errno, "clone mount tree %s", src);
    if (o && tree_apply_opts(tree, o, src, err) < 0)
        return -1;
    return steal_fd(tree);
}

static int attach_tree(int tree, int destfd, const char *src, const char *dest, husk_err **err)
{
    if (husk_move_mount(tree, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return husk_fail(err, errno, "attach %s on %s", src, dest);
    return 0;
}

/* ---- /proc guard ------------------------------------------------------------- */

/* Files below /proc that lxcfs-style setups legitimately cover with a bind mount. */
static const char *const proc_allowed[] = {
    "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
    "/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
};

static bool below_proc(const char *p) { return strncmp(p, "/proc/", 6) == 0; }

static bool proc_sub_allowed(const char *p)
{
    for (size_t i = 0; i < ARRAY_SIZE(proc_allowed); i++)
        if (strcmp(p, proc_allowed[i]) == 0)
            return true;
    return false;
}

/* A mount over a procfs file can defeat the LSM (a bind onto
 * /proc/self/attr/exec: CVE-2019-16884) or sysctl protections: only a handful of
 * known files may be covered. Checked on the written destination before
 * creating anything ... */
static int check_proc_lexical(const char *dest, bool is_procfs, husk_err **err)
{
    if (below_proc(dest) && !is_procfs && !proc_sub_allowed(dest))
        return husk_fail(err, EPERM, "%s is inside /proc: mounts there are not allowed", dest);
    return 0;
}

/* ... and again on where the destination really resolved, since a symlink in the
 * rootfs ("/x -> /proc/self/attr") can lead there too. A mount on /proc itself
 * must be a real procfs on the real /proc directory at the top of the rootfs: a
 * rootfs whose /proc is a symlink must not get its procfs somewhere else, leaving
 * the real /proc empty for masks and read-only paths to miss. */
static int check_proc_resolved(const char *root_path, int destfd, const char *dest, bool is_procfs,
                               husk_err **err)
{
    _cleanup_free_ char *real = fd_readlink(destfd, err);
    if (!real)
        return -1;
    const char *rel = under_root(root_path, real);
    if (rel == NULL)
        return husk_fail(err, EXDEV, "%s resolved to %s, outside the rootfs", dest, real);

    if (strcmp(dest, "/proc") == 0 || strcmp(rel, "/proc") == 0) {
        struct stat st;
        if (!is_procfs)
            return husk_fail(err, EPERM, "%s: only a procfs may be mounted on /proc", dest);
        if (strcmp(rel, "/proc") != 0)
            return husk_fail(err, EPERM, "%s resolves to %s, not to the rootfs' /proc", dest,
                             *rel ? rel : "/");
        if (fstat(destfd, &st) < 0 || !S_ISDIR(st.st_mode))
            return husk_fail(err, ENOTDIR, "%s in the rootfs is not a directory", dest);
        return 0;
    }
    if (below_proc(rel) && !is_procfs && !proc_sub_allowed(rel))
        return husk_fail(err, EPERM, "%s resolves to %s inside /proc: mounts there are not allowed",
                         dest, rel);
    return 0;
}

/* ---- bind mounts -------------------------------------------------------------- */

static int mount_bind(struct husk_container *c, int rootfd, const char *root_path,
                      const struct oci_mount *m, const struct mount_opts *o, const char *dest,
                      int *srcfd, husk_err **err)
{
    if (m->source == NULL || *m->source == '\0')
        return husk_fail(err, EINVAL, "bind mount on %s has no source", dest);

    /* A relative source is relative to the bundle, as the spec says. The source is
     * a host path chosen by whoever wrote config.json: it is trusted as such. */
    _cleanup_free_ char *src = m->source[0] == '/' ? xstrdup(m->source)
                                                   : xasprintf("%s/%s", c->bundle, m->source);

    /* "remount": change the options of what is already mounted at dest. */
    if (o->flags & MS_REMOUNT) {
        _cleanup_close_ int fd = open_in_root(rootfd, dest, O_PATH, 0, err);
        if (fd < 0)
            return -1;
        if (tree_apply_opts(fd, o, dest, err) < 0)
            return -1;
        return apply_propagation(fd, o->propagation, dest, err);
    }

    /* The source tree the runtime cloned for us (mount_sources.h), or our own. */
    _cleanup_close_ int tree = -1;
    if (*srcfd >= 0) {
        tree = steal_fd(*srcfd);
        *srcfd = -1;
        if (tree_apply_opts(tree, o, src, err) < 0)
            return -1;
    } else if ((tree = clone_tree(src, o->rbind, o, err)) < 0) {
        return -1;
    }

    struct stat st;
    struct statfs sfs;
    if (fstat(tree, &st) < 0 || fstatfs(tree, &sfs) < 0)
        return husk_fail(err, errno, "stat %s", src);
    bool is_procfs = sfs.f_type == PROC_SUPER_MAGIC;
    if (check_proc_lexical(dest, is_procfs, err) < 0)
        return -1;

    /* A file is bind-mounted onto a file, a directory onto a directory. */
    _cleanup_close_ int destfd = mkpath_in_root(rootfd, dest, S_ISDIR(st.st_mode), err);
    if (destfd < 0)
        return -1;
    if (check_proc_resolved(root_path, destfd, dest, is_procfs, err) < 0)
        return -1;
    if (attach_tree(tree, destfd, src, dest, err) < 0)
        return -1;
    /* `tree` now refers to the attached mount: set its propagation in place. */
    return apply_propagation(tree, o->propagation, dest, err);
}

/* ---- cgroup ------------------------------------------------------------------- */

struct cg_mount {
    char *mountpoint, *root, *fstype, *super_opts;
};

struct cg_line {
    char *controllers, *path; /* "cpu,cpuacct" "/user.slice/..."; "" for cgroup2 */
};

/* mountinfo escapes blanks and backslashes as \ooo. */
static void unescape_octal(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
            p[3] <= '7') {
            *o++ = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
            p += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

static void cg_mounts_free(struct cg_mount *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].mountpoint);
        free(v[i].root);
        free(v[i].fstype);
        free(v[i].super_opts);
    }
    free(v);
}

static void cg_lines_free(struct cg_line *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].controllers);
        free(v[i].path);
    }
    free(v);
}

/* The cgroup hierarchies mounted directly below the host's /sys/fs/cgroup. */
static int read_cg_mounts(struct cg_mount **out, size_t *n_out, husk_err **err)
{
    _cleanup_free_ char *text = NULL;
    struct cg_mount *v = NULL;
    size_t n = 0;

    if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", 64u << 20, &text, NULL, err) < 0)
        return -1;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        /* id parent major:minor root mountpoint options [optional...] - fstype source super */
        char *f[5] = { 0 }, *s2 = NULL, *tok;
        int i = 0;
        for (tok = strtok_r(line, " ", &s2); tok && i < 5; tok = strtok_r(NULL, " ", &s2))
            f[i++] = tok;
        while (tok && strcmp(tok, "-") != 0)
            tok = strtok_r(NULL, " ", &s2);
        char *fstype = tok ? strtok_r(NULL, " ", &s2) : NULL;
        char *source = fstype ? strtok_r(NULL, " ", &s2) : NULL;
        char *super = source ? strtok_r(NULL, " ", &s2) : NULL;
        if (i < 5 || !super || (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0))
            continue;
        unescape_octal(f[3]);
        unescape_octal(f[4]);
        const char *base = "/sys/fs/cgroup/";
        if (strncmp(f[4], base, strlen(base)) != 0 || strchr(f[4] + strlen(base), '/') ||
            f[4][strlen(base)] == '\0')
            continue;
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup = dup || strcmp(v[j].mountpoint, f[4]) == 0;
        if (dup)
            continue;
        v = xrealloc(v, (n + 1) * sizeof(*v));
        v[n++] = (struct cg_mount){ xstrdup(f[4]), xstrdup(f[3]), xstrdup(fstype), xstrdup(super) };
    }
    *out = v;
    *n_out = n;
    return 0;
}

static int read_cg_lines(struct cg_line **out, size_t *n_out, husk_err **err)
{
    _cleanup_free_ char *text = NULL;
    struct cg_line *v = NULL;
    size_t n = 0;

    if (read_file_at(AT_FDCWD, "/proc/self/cgroup", 1u << 20, &text, NULL, err) < 0)
        return -1;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        v = xrealloc(v, (n + 1) * sizeof(*v));
        v[n++] = (struct cg_line){ xstrdup(c1 + 1), xstrdup(c2 + 1) };
    }
    *out = v;
    *n_out = n;
    return 0;
}

static bool opt_listed(const char *list, const char *opt, size_t len)
{
    for (const char *p = list; *p;) {
        const char *e = strchrnul(p, ',');
        if ((size_t)(e - p) == len && strncmp(p, opt, len) == 0)
            return true;
        p = *e ? e + 1 : e;
    }
    return false;
}

/* The /proc/self/cgroup line for a hierarchy: cgroup2 is the "0::" line, a v1
 * hierarchy the line whose controllers all appear in its super options. */
static const struct cg_line *cg_line_for(const struct cg_mount *m, const struct cg_line *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool v2 = l[i].controllers[0] == '\0';
        if (v2 != (strcmp(m->fstype, "cgroup2") == 0))
            continue;
        if (v2)
            return &l[i];
        bool all = true;
        for (const char *p = l[i].controllers; *p && all;) {
            const char *e = strchrnul(p, ',');
            all = opt_listed(m->super_opts, p, (size_t)(e - p));
            p = *e ? e + 1 : e;
        }
        if (all)
            return &l[i];
    }
    return NULL;
}

/* Host directory of this process's cgroup in hierarchy m: its mountpoint plus the
 * cgroup path below the mount's root. */
static char *cg_host_dir(const struct cg_mount *m, const char *path)
{
    size_t rl = strlen(m->root);
    if (strcmp(m->root, "/") != 0 && strncmp(path, m->root, rl) == 0 && (path[rl] == '/' || !path[rl]))
        path += rl;
    else if (strcmp(m->root, "/") != 0)
        return NULL;
    return xasprintf("%s%s", m->mountpoint, strcmp(path, "/") == 0 ? "" : path);
}

static bool has_new_cgroupns(const struct husk_container *c)
{
    const struct oci_config *cfg = c->config;
    for (size_t i = 0; cfg && i < cfg->linux_.n_namespaces; i++)
        if (cfg->linux_.namespaces[i].type == OCI_NS_CGROUP)
            return true;
    return false;
}

/* One hierarchy into the directory `subfd` of the cgroup tmpfs. With its own cgroup
 * namespace the container gets a fresh mount rooted at its namespace; without, a
 * bind of its own cgroup directory only, never the host's whole hierarchy. */
static int mount_cg_hierarchy(struct husk_container *c, int subfd, const struct cg_mount *m,
                              const struct cg_line *line, const struct mount_opts *o, husk_err **err)
{
    char p[64];
    unsigned long flags = o->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                      MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME);
    if (has_new_cgroupns(c)) {
        const char *ctl = line->controllers;
        _cleanup_free_ char *data = NULL;
        if (strcmp(m->fstype, "cgroup") == 0)
            data = strncmp(ctl, "name=", 5) == 0 ? xasprintf("none,%s", ctl) : xstrdup(ctl);
        if (mount(m->fstype, fd_path(subfd, p, sizeof(p)), m->fstype, flags, data) < 0)
            return husk_fail(err, errno, "mount %s hierarchy %s", m->fstype, m->mountpoint);
        return 0;
    }
    _cleanup_free_ char *host = cg_host_dir(m, line->path);
    if (!host)
        return husk_fail(err, ENOENT, "cgroup %s is not visible under %s", line->path, m->mountpoint);
    _cleanup_close_ int tree = clone_tree(host, false, o, err);
    if (tree < 0)
        return -1;
    return attach_tree(tree, subfd, host, m->mountpoint, err);
}

static int mount_cgroup_v1(struct husk_container *c, int rootfd, int destfd, const char *dest,
                           const struct mount_opts *o, husk_err **err)
{
    char p[64];
    struct cg_mount *mounts = NULL;
    struct cg_line *lines = NULL;
    size_t n_mounts = 0, n_lines = 0;
    int ret = -1;

    /* A tmpfs holds one directory per hierarchy, like the host's /sys/fs/cgroup. It
     * is made read-only (if asked) only once the directories are in it. */
    if (mount("tmpfs", fd_path(destfd, p, sizeof(p)), "tmpfs",
              o->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_RELATIME | MS_STRICTATIME),
              o->data ? o->data : "mode=755") < 0)
        return husk_fail(err, errno, "mount tmpfs on %s", dest);
    _cleanup_close_ int tmpfd = reopen_mounted(rootfd, destfd, dest, err);
    if (tmpfd < 0)
        return -1;
    if (read_cg_mounts(&mounts, &n_mounts, err) < 0 || read_cg_lines(&lines, &n_lines, err) < 0)
        goto out;

    for (size_t i = 0; i < n_mounts; i++) {
        const struct cg_line *line = cg_line_for(&mounts[i], lines, n_lines);
        const char *name = strrchr(mounts[i].mountpoint, '/') + 1;
        if (!line)
            continue; /* a hierarchy this process is not in (should not happen) */
        if (mkdirat(tmpfd, name, 0755) < 0) {
            husk_fail(err, errno, "mkdir %s/%s", dest, name);
            goto out;
        }
        /* Our own fresh tmpfs, which nothing else can see yet: a plain openat is safe. */
        _cleanup_close_ int subfd = openat(tmpfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (subfd < 0) {
            husk_fail(err, errno, "open %s/%s", dest, name);
            goto out;
        }
        if (mount_cg_hierarchy(c, subfd, &mounts[i], line, o, err) < 0)
            goto out;
        /* Co-mounted controllers get a link per controller: cpu -> cpu,cpuacct. */
        if (strchr(name, ',')) {
            for (const char *q = name; *q;) {
                const char *e = strchrnul(q, ',');
                _cleanup_free_ char *ctl = strndup(q, (size_t)(e - q));
                if (ctl && !strchr(ctl, '=') && symlinkat(name, tmpfd, ctl) < 0 && errno != EEXIST) {
                    husk_fail(err, errno, "symlink %s/%s", dest, ctl);
                    goto out;
                }
                q = *e ? e + 1 : e;
            }
        }
    }
    if ((o->flags & MS_RDONLY) && setattr_fd(tmpfd, false, MOUNT_ATTR_RDONLY, 0, 0) < 0) {
        husk_fail(err, errno, "make %s read-only", dest);
        goto out;
    }
    ret = apply_propagation(tmpfd, o->propagation, dest, err);
out:
    cg_mounts_free(mounts, n_mounts);
    cg_lines_free(lines, n_lines);
    return ret;
}

static int mount_cgroup(struct husk_container *c, int rootfd, int destfd, const char *dest,
                        const struct mount_opts *o, husk_err **err)
{
    char p[64];
    struct statfs sfs;

    if (statfs("/sys/fs/cgroup", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
        return mount_cgroup_v1(c, rootfd, destfd, dest, o, err);

    /* Pure cgroup v2. In the container's own cgroup namespace a fresh mount is
     * rooted at its cgroup. */
    if (has_new_cgroupns(c)) {
        if (mount("cgroup2", fd_path(destfd, p, sizeof(p)), "cgroup2",
                  o->flags & ~(unsigned long)MS_REMOUNT, o->data) < 0)
            return husk_fail(err, errno, "mount cgroup2 on %s", dest);
        _cleanup_close_ int fd = reopen_mounted(rootfd, destfd, dest, err);
        return fd < 0 ? -1 : apply_propagation(fd, o->propagation, dest, err);
    }

    /* Without one, a fresh mount would show the host's whole hierarchy (and a user
     * namespace may not make one at all): bind the container's own cgroup
     * directory instead, as for v1. */
    struct cg_line *lines = NULL;
    size_t n = 0;
    struct cg_mount m = { "/sys/fs/cgroup", "/", "cgroup2", "" };
    if (read_cg_lines(&lines, &n, err) < 0)
        return -1;
    const struct cg_line *line = cg_line_for(&m, lines, n);
    _cleanup_free_ char *host = line ? cg_host_dir(&m, line->path) : NULL;
    cg_lines_free(lines, n);
    if (!host)
        return husk_fail(err, ENOENT, "no cgroup2 entry in /proc/self/cgroup");
    _cleanup_close_ int tree = clone_tree(host, true, o, err);
    if (tree < 0 || attach_tree(tree, destfd, host, dest, err) < 0)
        return -1;
    return apply_propagation(tree, o->propagation, dest, err);
}

/* ---- other filesystems ---------------------------------------------------------- */

/* Where a user namespace that may not mount a filesystem of its own (sysfs without
 * its own network namespace, mqueue without its own IPC namespace) gets it from. */
static const char *userns_fallback(const char *type)
{
    if (strcmp(type, "sysfs") == 0)
        return "/sys";
    if (strcmp(type, "mqueue") == 0)
        return "/dev/mqueue";
    return NULL;
}

/* Filesystem data without the options starting with `prefix`. */
static char *data_without(const char *data, const char *prefix)
{
    char *out = NULL;
    _cleanup_free_ char *copy = xstrdup(data);
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strncmp(t, prefix, strlen(prefix)) != 0)
            data_append(&out, t);
    return out;
}

/* Whether the comma-separated filesystem data has an option starting with `prefix`. */
static bool has_data_opt(const char *data, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = data; p; p = strchr(p, ',')) {
        if (*p == ',')
            p++;
        if (strncmp(p, prefix, n) == 0)
            return true;
    }
    return false;
}

/* tmpcopyup: fill the tmpfs just mounted on `destfd` with a copy of `lower`, the
 * directory it covers (copyup.c), then make it read-only if it was asked to be.
 * The tmpfs root keeps the mode/owner the options gave it, else takes lower's. */
static int tmpfs_copyup(int rootfd, int destfd, int lower, const struct mount_opts *o, const char *dest,
                        husk_err **err)
{
    _cleanup_close_ int top = reopen_mounted(rootfd, destfd, dest, err);
    if (top < 0)
        return -1;
    _cleanup_close_ int dir = openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return husk_fail(err, errno, "open %s", dest);
    bool root_meta = !o->data || (!strstr(o->data, "mode=") && !strstr(o->data, "uid=") && !strstr(o->data, "gid="));
    if (copyup_tree(lower, dir, root_meta, dest, err) < 0)
        return husk_err_prefix(err, "tmpcopyup");
    if ((o->flags & MS_RDONLY) && setattr_fd(top, false, MOUNT_ATTR_RDONLY, 0, 0) < 0)
        return husk_fail(err, errno, "make %s read-only", dest);
    return 0;
}

static int mount_fs(struct husk_container *c, int rootfd, const char *root_path, const struct oci_mount *m,
                    const struct mount_opts *o, const char *dest, husk_err **err)
{
    char p[64];
    bool is_procfs = strcmp(m->type, "proc") == 0;

    if (check_proc_lexical(dest, is_procfs, err) < 0)
        return -1;
    /* A tmpfs without mode= takes the mode of the directory it covers, when there is
     * one (as runc does); a directory we create gets tmpfs' default (1777).
     * tmpcopyup copies the covered directory's mode and owner itself. */
    _cleanup_free_ char *tmpfs_data = NULL;
    if (strcmp(m->type, "tmpfs") == 0 && !o->tmpcopyup && !(o->flags & MS_REMOUNT) &&
        !(o->data && has_data_opt(o->data, "mode="))) {
        _cleanup_err_ husk_err *e = NULL;
        _cleanup_close_ int old = open_in_root(rootfd, dest, O_PATH | O_DIRECTORY, 0, &e);
        struct stat st;
        if (old >= 0 && fstat(old, &st) == 0) {
            tmpfs_data = o->data ? xstrdup(o->data) : NULL;
            _cleanup_free_ char *opt = xasprintf("mode=%04o", (unsigned)(st.st_mode & 07777));
            data_append(&tmpfs_data, opt);
        }
    }
    const char *data = tmpfs_data ? tmpfs_data : o->data;
    _cleanup_close_ int destfd = mkpath_in_root(rootfd, dest, true, err);
    if (destfd < 0)
        return -1;
    if (check_proc_resolved(root_path, destfd, dest, is_procfs, err) < 0)
        return -1;

    if (strcmp(m->type, "cgroup") == 0)
        return mount_cgroup(c, rootfd, destfd, dest, o, err);

    /* tmpcopyup: the directory the tmpfs will hide, opened now; the fd still
     * reaches it once the tmpfs is on top. */
    _cleanup_close_ int lower = -1;
    unsigned long flags = o->flags;
    if (o->tmpcopyup) {
        if (flags & MS_REMOUNT)
            return husk_fail(err, EINVAL, "mount on %s: tmpcopyup with remount", dest);
        /* Read-only only once the copy is in. */
        flags &= ~(unsigned long)MS_RDONLY;
        lower = openat(destfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lower < 0)
            return husk_fail(err, errno, "open %s for tmpcopyup", dest);
    }

    /* The mount goes onto the fd we resolved, through its /proc/self/fd link:
     * whatever happens to the path since, this is the directory we checked. */
    const char *source = m->source && *m->source ? m->source : m->type;
    _cleanup_close_ int tree = -1;
    int r = mount(source, fd_path(destfd, p, sizeof(p)), m->type, flags, data);
    if (r < 0 && errno == EINVAL && strcmp(m->type, "devpts") == 0 && o->data && strstr(o->data, "gid=")) {
        /* devpts refuses a gid= that the user namespace does not map (the usual
         * gid=5 of a rootless config): the group is cosmetic, retry without it. */
        _cleanup_free_ char *data = data_without(o->data, "gid=");
        r = mount(source, p, m->type, o->flags, data);
    }
    if (r < 0) {
        int e = errno;
        const char *fb = userns_fallback(m->type);
        if (e != EPERM || !fb || (o->flags & MS_REMOUNT))
            return husk_fail(err, e, "mount %s (%s) on %s", source, m->type, dest);
        tree = clone_tree(fb, true, o, err);
        if (tree < 0)
            return husk_err_prefix(err, "mount %s on %s: not permitted, and the bind fallback failed",
                                   m->type, dest);
        if (attach_tree(tree, destfd, fb, dest, err) < 0)
            return -1;
        return apply_propagation(tree, o->propagation, dest, err);
    }

    if (o->tmpcopyup && tmpfs_copyup(rootfd, destfd, lower, o, dest, err) < 0)
        return -1;
    if (o->propagation == 0 && o->attr_set == 0 && o->attr_clr == 0)
        return 0;
    /* A remount changed the mount destfd already is the root of. */
    _cleanup_close_ int fd = (o->flags & MS_REMOUNT) ? fcntl(destfd, F_DUPFD_CLOEXEC, 3)
                                                     : reopen_mounted(rootfd, destfd, dest, err);
    if (fd < 0 && (o->flags & MS_REMOUNT))
        return husk_fail(err, errno, "dup fd of %s", dest);
    if (fd < 0)
        return -1;
    if ((o->attr_set || o->attr_clr) && setattr_fd(fd, true, o->attr_set, o->attr_clr, 0) < 0)
        return husk_fail(err, errno, "set recursive mount options of %s", dest);
    return apply_propagation(fd, o->propagation, dest, err);
}

/* ---- entry points ---------------------------------------------------------------- */

static int mount_one(struct husk_container *c, int rootfd, const char *root_path, const struct oci_mount *m,
                     int *srcfd, husk_err **err)
{
    _cleanup_(mount_opts_cleanup) struct mount_opts o;
    mount_opts_parse(m->options, &o);

    if (m->destination == NULL || *m->destination == '\0')
        return husk_fail(err, EINVAL, "mount without a destination");
    _cleanup_free_ char *dest = path_clean(m->destination);

    /* Idmapped trees are made by the runtime (mount_sources.h); checked at create. */
    if ((o.idmap || o.ridmap || m->n_uid_mappings || m->n_gid_mappings) && *srcfd < 0)
        return husk_fail(err, EINVAL, "mount on %s: idmapped, but no idmapped source was prepared", dest);
    if (o.tmpcopyup && !str_eq(m->type, "tmpfs"))
        return husk_fail(err, EINVAL, "mount on %s: tmpcopyup is only for tmpfs (type is \"%s\")", dest,
                         m->type ? m->type : "");

    /* A read-only /dev is made read-only only at the end (rootfs_finalize, via
     * mounts_dev_readonly), as runc does: devpts, shm, mqueue, the device nodes and
     * the console all need their mount points made in it first. */
    if (strcmp(dest, "/dev") == 0 && !(o.flags & MS_REMOUNT))
        o.flags &= ~(unsigned long)MS_RDONLY;

    /* type "bind" without bind/rbind in the options is taken as rbind: a plain bind
     * would silently hide whatever is mounted below the source. */
    bool type_bind = str_eq(m->type, "bind");
    if (o.bind || o.rbind || type_bind) {
        if (!o.bind && !o.rbind)
            o.rbind = true;
        return mount_bind(c, rootfd, root_path, m, &o, dest, srcfd, err);
    }
    if (m->type == NULL || *m->type == '\0')
        return husk_fail(err, EINVAL, "mount on %s: no type and not a bind mount", dest);
    return mount_fs(c, rootfd, root_path, m, &o, dest, err);
}

int mounts_setup(struct husk_container *c, int rootfd, int *src_fds, husk_err **err)
{
    const struct oci_config *cfg = c->config;
    if (cfg == NULL || cfg->n_mounts == 0)
        return 0;

    /* Where the rootfs really is, to tell where each destination really resolved. */
    _cleanup_free_ char *root_path = fd_readlink(rootfd, err);
    if (!root_path)
        return husk_err_prefix(err, "rootfs");

    for (size_t i = 0; i < cfg->n_mounts; i++) {
        const struct oci_mount *m = &cfg->mounts[i];
        int none = -1;
        if (mount_one(c, rootfd, root_path, m, src_fds ? &src_fds[i] : &none, err) < 0)
            return husk_err_prefix(err, "mounts[%zu] (%s on %s)", i,
                                   m->source ? m->source : (m->type ? m->type : "?"),
                                   m->destination ? m->destination : "?");
    }
    return 0;
}

bool mounts_dev_readonly(const struct oci_config *cfg)
{
    bool ro = false;
    for (size_t i = 0; cfg && i < cfg->n_mounts; i++) {
        const struct oci_mount *m = &cfg->mounts[i];
        if (m->destination == NULL)
            continue;
        _cleanup_free_ char *dest = path_clean(m->destination);
        if (strcmp(dest, "/dev") != 0)
            continue;
        _cleanup_(mount_opts_cleanup) struct mount_opts o;
        mount_opts_parse(m->options, &o);
        if (!(o.flags & MS_REMOUNT))
            ro = (o.flags & MS_RDONLY) != 0; /* the last mount on /dev is the one seen */
    }
    return ro;
}

bool mounts_has_destination(const struct oci_config *cfg, const char *dest)
{
    if (cfg == NULL || dest == NULL)
        return false;
    _cleanup_free_ char *want = path_clean(dest);
    for (size_t i = 0; i < cfg->n_mounts; i++) {
        if (cfg->mounts[i].destination == NULL)
            continue;
        _cleanup_free_ char *have = path_clean(cfg->mounts[i].destination);
        if (strcmp(have, want) == 0)
            return true;
    }
    return false;
}
