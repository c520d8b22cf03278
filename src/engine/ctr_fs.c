/* ctr_fs.c — diff, export and cp of a container's filesystem (ctr_fs.h). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "commit.h"
#include "ctr_fs.h"
#include "layer.h"
#include "newsys.h"
#include "overlay.h"
#include "tartree.h"
#include "util.h"

/* ---- opening --------------------------------------------------------------------- */

int ctr_fs_open(const struct store *st, char *const *layers, const char *ctrdir, struct ctr_fs *fs, husk_err **err)
{
    memset(fs, 0, sizeof(*fs));
    fs->rootfd = -1;
    bool was = overlay_mounted(ctrdir);
    if (!was && overlay_mount(st, layers, ctrdir, err) < 0)
        return -1;
    _cleanup_free_ char *root = xasprintf("%s/bundle/rootfs", ctrdir);
    fs->rootfd = open(root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fs->rootfd < 0) {
        int e = errno;
        if (!was)
            overlay_unmount(ctrdir, NULL);
        return husk_fail(err, e, "open %s", root);
    }
    fs->ctrdir = xstrdup(ctrdir);
    fs->mounted_here = !was;
    return 0;
}

void ctr_fs_close(struct ctr_fs *fs)
{
    if (fs->rootfd >= 0)
        close(fs->rootfd);
    if (fs->mounted_here)
        overlay_unmount(fs->ctrdir, NULL);
    free(fs->ctrdir);
    memset(fs, 0, sizeof(*fs));
    fs->rootfd = -1;
}

/* ---- diff ---------------------------------------------------------------------------- */

struct diff {
    int *layers;   /* the image's layer dirs, top first */
    size_t n_layers;
    char *const *exclude;
    struct ctr_change *v;
    size_t n, cap;
};

static void add_change(struct diff *d, char kind, const char *rel)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
    }
    d->v[d->n].kind = kind;
    d->v[d->n].path = xasprintf("/%s", rel);
    d->n++;
}

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool dir_opaque(int fd)
{
    char v[4];
    return fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

/* Does rel exist in the image (the layers merged as overlayfs merges them)? 1 with
 * its stat, 0 not. Walked component by component in each layer, top first, never
 * following a symlink: a whiteout hides the path, a non-directory hides what lower
 * layers have below its name, an opaque directory what they have inside it. */
static int exists_below(const struct diff *d, const char *rel, struct stat *out)
{
    for (size_t l = 0; l < d->n_layers; l++) {
        int cur = openat(d->layers[l], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
            return 0;
        _cleanup_free_ char *copy = xstrdup(rel);
        bool stop = false;
        int res = -1;   /* -1: not in this layer */
        for (char *p = copy; p;) {
            char *slash = strchr(p, '/');
            if (slash)
                *slash = '\0';
            struct stat st;
            if (fstatat(cur, p, &st, AT_SYMLINK_NOFOLLOW) < 0)
                break;
            if (is_whiteout(&st)) {
                res = 0;
                break;
            }
            if (!slash) {
                *out = st;
                res = 1;
                break;
            }
            if (!S_ISDIR(st.st_mode)) {
                res = 0;
                break;
            }
            int next = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next < 0)
                break;
            if (dir_opaque(next))
                stop = true;
            close(cur);
            cur = next;
            p = slash + 1;
        }
        close(cur);
        if (res >= 0)
            return res;
        if (stop)
            return 0;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in the directory fd. */
static int list_dir(int fd, char ***out, size_t *n_out)
{
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    DIR *dir = fdopendir(dfd);
    if (!dir) {
        close(dfd);
        return -ENOMEM;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n + 1 >= cap) {
            cap = cap ? 2 * cap : 32;
            v = xrealloc(v, cap * sizeof(char *));
        }
        v[n++] = xstrdup(de->d_name);
    }
    closedir(dir);
    if (n)
        qsort(v, n, sizeof(char *), cmp_str);
    *out = v;
    *n_out = n;
    return 0;
}

/* Walk the upper dir fd (the container path rel, "" for /); new_tree: nothing
 * below exists in the image (a new or opaque directory). Returns 1 when something
 * below was reported, 0 when not, -1 on an error; *only_excluded (optional): the
 * directory holds something, all of it left out. */
static int diff_dir(struct diff *d, int fd, const char *rel, bool new_tree, bool *only_excluded, husk_err **err)
{
    char **names = NULL;
    size_t n = 0;
    int r = list_dir(fd, &names, &n);
    if (r < 0)
        return husk_fail(err, -r, "read upper/%s", rel);
    int any = 0;
    size_t excluded = 0;
    for (size_t i = 0; i < n && any >= 0; i++) {
        _cleanup_free_ char *path = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
        if (tartree_excluded(d->exclude, path) || tartree_excluded(commit_always_excluded, path)) {
            excluded++;
            continue;
        }
        struct stat st, below;
        if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            any = husk_fail(err, errno, "stat upper/%s", path);
            break;
        }
        if (is_whiteout(&st)) {
            add_change(d, 'D', path);
            any = 1;
            continue;
        }
        bool exists = !new_tree && exists_below(d, path, &below);
        _cleanup_close_ int sub = -1;
        if (S_ISDIR(st.st_mode)) {
            sub = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                any = husk_fail(err, errno, "open upper/%s", path);
                break;
            }
        }
        if (!exists) {
            bool skeleton = false;
            int below_r = sub >= 0 ? diff_dir(d, sub, path, true, &skeleton, err) : 0;
            if (below_r < 0) {
                any = -1;
                break;
            }
            /* A new directory holding only what is left out (an /etc made for the
             * engine's /etc/hosts mount) is not the container's change: docker's
             * init layer makes those, below its containers' own. */
            if (below_r == 0 && skeleton)
                continue;
            add_change(d, 'A', path);
            any = 1;
            continue;
        }
        if (sub < 0) {
            add_change(d, 'C', path);
            any = 1;
            continue;
        }
        bool opaque = dir_opaque(sub);
        int below_r = diff_dir(d, sub, path, opaque, NULL, err);
        if (below_r < 0) {
            any = -1;
            break;
        }
        if (below_r > 0 || opaque || !S_ISDIR(below.st_mode) || below.st_mode != st.st_mode ||
            below.st_uid != st.st_uid || below.st_gid != st.st_gid) {
            add_change(d, 'C', path);
            any = 1;
        }
    }
    if (only_excluded)
        *only_excluded = n > 0 && excluded == n;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return any;
}

static int cmp_change(const void *a, const void *b)
{
    return strcmp(((const struct ctr_change *)a)->path, ((const struct ctr_change *)b)->path);
}

void ctr_changes_free(struct ctr_change *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
}

int ctr_fs_diff(const struct store *st, char *const *layers, const char *ctrdir, char *const *exclude,
                struct ctr_change **out, size_t *n_out, husk_err **err)
{
    *out = NULL;
    *n_out = 0;
    struct diff d = { .exclude = exclude };
    size_t nl = 0;
    while (layers && layers[nl])
        nl++;
    d.layers = xcalloc(nl + 1, sizeof(int));
    int ret = -1;
    _cleanup_free_ char *upper = xasprintf("%s/upper", ctrdir);
    _cleanup_close_ int fd = -1;
    for (size_t i = 0; i < nl; i++) {
        _cleanup_free_ char *p = layer_diff_path(st, layers[nl - 1 - i]);
        d.layers[i] = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        d.n_layers = i + 1;
        if (d.layers[i] < 0) {
            husk_fail(err, errno, "diff: open the layer %s", p);
            goto out;
        }
    }
    fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        husk_fail(err, errno, "diff: open %s", upper);
        goto out;
    }
    if (diff_dir(&d, fd, "", false, NULL, err) < 0) {
        husk_err_prefix(err, "diff");
        goto out;
    }
    if (d.n)
        qsort(d.v, d.n, sizeof(*d.v), cmp_change);
    *out = steal_ptr(d.v);
    *n_out = d.n;
    d.n = 0;
    ret = 0;
out:
    for (size_t i = 0; i < d.n_layers; i++)
        if (d.layers[i] >= 0)
            close(d.layers[i]);
    free(d.layers);
    ctr_changes_free(d.v, d.n);
    return ret;
}

/* ---- export ---------------------------------------------------------------------------- */

int ctr_fs_export(const struct ctr_fs *fs, int out_fd, husk_err **err)
{
    struct archive *a;
    if (tartree_writer_fd(out_fd, &a, err) < 0)
        return husk_err_prefix(err, "export");
    struct tartree_opts o = { .uid = -1, .gid = -1 };
    struct tartree *t = tartree_new(a, &o);
    int r = tartree_add_contents(t, fs->rootfd, "", err);
    tartree_free(t);
    if (r < 0) {
        archive_write_free(a);
        return husk_err_prefix(err, "export");
    }
    if (tartree_writer_close(a, err) < 0)
        return husk_err_prefix(err, "export");
    return 0;
}

/* ---- cp: resolving paths ---------------------------------------------------------------- */

/* One side of a copy: the container (paths beneath its rootfs) or the host. */
struct side {
    int rootfd;
    bool in_root;
    bool xattrs;   /* a host side: extract the xattrs too (ctr_cp_opts.xattrs) */
};

static int side_open_dir(const struct side *s, const char *path, int flags)
{
    if (!*path)
        path = s->in_root ? "/" : ".";
    if (!s->in_root)
        return open(path, flags | O_DIRECTORY | O_CLOEXEC);
    /* IN_ROOT: "/", ".." and absolute symlinks stop at the container's root, as
     * they would inside it; NO_MAGICLINKS: no /proc/<pid>/root jump out of it. */
    struct open_how how = {
        .flags = (uint64_t)(flags | O_DIRECTORY | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    for (int i = 0; i < 16; i++) {
        int fd = husk_openat2(s->rootfd, path, &how);
        if (fd >= 0 || errno != EAGAIN)
            return fd;
    }
    return -1;
}

/* path without trailing "/" (but "/" itself); *slash: it had one. */
static char *strip_slashes(const char *path, bool *slash)
{
    size_t n = strlen(path);
    *slash = n > 1 && path[n - 1] == '/';
    while (n > 1 && path[n - 1] == '/')
        n--;
    return strndup(path, n);
}

/* "a/b/c" -> "a/b" + "c"; "c" -> "" + "c"; "/c" -> "/" + "c"; "/" -> "/" + ".". */
static void split(const char *path, char **dir, char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        *dir = xstrdup("");
        *base = xstrdup(path);
    } else if (slash[1] == '\0') {
        *dir = xstrdup(path);
        *base = xstrdup(".");
    } else {
        *dir = slash == path ? xstrdup("/") : strndup(path, (size_t)(slash - path));
        *base = xstrdup(slash + 1);
    }
}

struct resolved {
    int parent;       /* the directory holding base */
    char *dir, *base; /* as strings of that side (dir resolves to parent again) */
    bool exists;
    struct stat st;
};

static void resolved_free(struct resolved *r)
{
    if (r->parent >= 0)
        close(r->parent);
    free(r->dir);
    free(r->base);
    memset(r, 0, sizeof(*r));
    r->parent = -1;
}

/* Resolve path's directory (following symlinks, beneath the root for the
 * container) and stat its last component; with follow, a symlink there is followed
 * (its target resolved the same way, 40 links at most, as the kernel's limit). */
static int resolve(const struct side *s, const char *path, bool follow, const char *what, struct resolved *r,
                   husk_err **err)
{
    memset(r, 0, sizeof(*r));
    r->parent = -1;
    bool slash;
    _cleanup_free_ char *cur = strip_slashes(path, &slash);
    for (int hops = 0; hops <= 40; hops++) {
        resolved_free(r);
        split(cur, &r->dir, &r->base);
        r->parent = side_open_dir(s, r->dir, O_RDONLY);
        if (r->parent < 0)
            return husk_fail(err, errno, "%s \"%s\"", what, path);
        if (fstatat(r->parent, r->base, &r->st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                return husk_fail(err, errno, "%s \"%s\"", what, path);
            r->exists = false;
            return 0;
        }
        r->exists = true;
        if (!S_ISLNK(r->st.st_mode) || !follow)
            return 0;
        char target[PATH_MAX];
        ssize_t n = readlinkat(r->parent, r->base, target, sizeof(target) - 1);
        if (n < 0)
            return husk_fail(err, errno, "%s \"%s\": readlink", what, path);
        target[n] = '\0';
        char *next = target[0] == '/' ? xstrdup(target)
                                      : xasprintf("%s%s%s", r->dir, *r->dir && strcmp(r->dir, "/") ? "/" : "", target);
        free(cur);
        cur = strip_slashes(next, &slash);
        free(next);
    }
    return husk_fail(err, ELOOP, "%s \"%s\"", what, path);
}

/* ---- cp: the tar of SRC ------------------------------------------------------------------ */

/* Write SRC (r) as top (or, with contents, what the directory holds) into a tar on fd. */
static int produce(const struct resolved *r, const char *top, bool contents, int fd, husk_err **err)
{
    struct archive *a;
    if (tartree_writer_fd(fd, &a, err) < 0)
        return -1;
    struct tartree_opts o = { .uid = -1, .gid = -1 };
    struct tartree *t = tartree_new(a, &o);
    int ret;
    if (contents) {
        _cleanup_close_ int dfd = openat(r->parent, r->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        ret = dfd < 0 ? husk_fail(err, errno, "open \"%s\"", r->base) : tartree_add_contents(t, dfd, "", err);
    } else {
        ret = tartree_add(t, r->parent, r->base, top, err);
    }
    tartree_free(t);
    if (ret < 0) {
        archive_write_free(a);
        return -1;
    }
    return tartree_writer_close(a, err);
}

/* ---- cp: extracting into the container ------------------------------------------------------ */

struct ctr_sink {
    int rootfd;
    const char *dest;   /* the destination directory, a container path */
    bool keep_owner;
    const char *name;   /* the current entry */
    char **dirs;        /* directories made or updated, their mtimes set again at the end */
    struct timespec *dir_mtimes;
    size_t n_dirs;
};

static int sink_fail(struct ctr_sink *k, husk_err **err, int e, const char *what)
{
    return husk_fail(err, e, "\"%s\" in the container: %s", k->name, what);
}

static int ctr_open(struct ctr_sink *k, const char *rel_dir)
{
    struct side s = { .rootfd = k->rootfd, .in_root = true };
    _cleanup_free_ char *full = *rel_dir ? xasprintf("%s/%s", k->dest, rel_dir) : xstrdup(k->dest);
    return side_open_dir(&s, full, O_RDONLY);
}

/* Open the directory rel_dir below the destination (beneath the container's root),
 * making what is missing (0755, root), each step resolved again from the root. */
static int open_dir_mk(struct ctr_sink *k, const char *rel_dir, husk_err **err)
{
    int fd = ctr_open(k, rel_dir);
    if (fd >= 0 || errno != ENOENT)
        return fd >= 0 ? fd : sink_fail(k, err, errno, "open its directory");
    _cleanup_free_ char *prefix = xstrdup(rel_dir);
    for (char *p = prefix;;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        _cleanup_close_ int cur = ctr_open(k, prefix);
        if (cur < 0 && errno == ENOENT) {
            char *last = strrchr(prefix, '/');
            _cleanup_close_ int parent = -1;
            if (last) {
                *last = '\0';
                parent = ctr_open(k, prefix);
                *last = '/';
            } else {
                parent = ctr_open(k, "");
            }
            const char *base = last ? last + 1 : prefix;
            if (parent < 0 || (mkdirat(parent, base, 0755) < 0 && errno != EEXIST))
                return sink_fail(k, err, errno, "make its directory");
            cur = ctr_open(k, prefix);
        }
        if (cur < 0)
            return sink_fail(k, err, errno, "open its directory");
        if (!slash)
            return steal_fd(cur);
        *slash = '/';
        p = slash + 1;
    }
}

/* Owner, then mode (a chown clears setuid), then the mtime, never by a name a
 * racing container could have turned into a symlink: through fd, the object made
 * (opened O_NOFOLLOW; O_PATH for what cannot be opened: a symlink, a device, a
 * fifo), or base in parent with AT_SYMLINK_NOFOLLOW. */
static int set_meta(struct ctr_sink *k, int fd, bool opath, int parent, const char *base, struct archive_entry *e,
                    bool is_link, husk_err **err)
{
    uid_t uid = k->keep_owner ? (uid_t)archive_entry_uid(e) : 0;
    gid_t gid = k->keep_owner ? (gid_t)archive_entry_gid(e) : 0;
    if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
        return sink_fail(k, err, errno, "chown");
    if (!is_link) {
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        /* An O_PATH fd cannot fchmod: its /proc link names exactly that inode. */
        if ((opath ? chmod(proc, archive_entry_perm(e) & 07777) : fchmod(fd, archive_entry_perm(e) & 07777)) < 0)
            return sink_fail(k, err, errno, "chmod");
    }
    struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT },
                              { .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) } };
    if ((opath ? utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW) : futimens(fd, ts)) < 0)
        return sink_fail(k, err, errno, "set times");
    return 0;
}

static int sink_entry(struct ctr_sink *k, struct archive *a, struct archive_entry *e, husk_err **err)
{
    const char *raw = archive_entry_pathname(e);
    k->name = raw ? raw : "";
    _cleanup_free_ char *rel = layer_clean_name(k->name);
    if (!rel)
        return sink_fail(k, err, 0, "path leaves the destination");
    if (!*rel)
        return 0;   /* "./": the destination itself stays as it is */
    char *slash = strrchr(rel, '/');
    const char *base = slash ? slash + 1 : rel;
    _cleanup_free_ char *dir = slash ? strndup(rel, (size_t)(slash - rel)) : xstrdup("");
    _cleanup_close_ int parent = open_dir_mk(k, dir, err);
    if (parent < 0)
        return -1;
    mode_t type = archive_entry_filetype(e);
    const char *hard = archive_entry_hardlink(e);
    struct stat cur;
    bool exists = fstatat(parent, base, &cur, AT_SYMLINK_NOFOLLOW) == 0;

    if (type == AE_IFDIR && !hard) {
        if (exists && !S_ISDIR(cur.st_mode))
            return sink_fail(k, err, 0, "cannot overwrite a non-directory with a directory");
        if (!exists && mkdirat(parent, base, 0700) < 0)
            return sink_fail(k, err, errno, "mkdir");
        _cleanup_close_ int fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return sink_fail(k, err, errno, "open");
        /* The entries made inside will change its mtime: set once more at the end. */
        k->dirs = xrealloc(k->dirs, (k->n_dirs + 1) * sizeof(char *));
        k->dir_mtimes = xrealloc(k->dir_mtimes, (k->n_dirs + 1) * sizeof(struct timespec));
        k->dirs[k->n_dirs] = xstrdup(rel);
        k->dir_mtimes[k->n_dirs].tv_sec = archive_entry_mtime(e);
        k->dir_mtimes[k->n_dirs].tv_nsec = archive_entry_mtime_nsec(e);
        k->n_dirs++;
        return set_meta(k, fd, false, parent, base, e, false, err);
    }
    if (exists && S_ISDIR(cur.st_mode))
        return sink_fail(k, err, 0, "cannot overwrite a directory with a non-directory");
    if (exists && unlinkat(parent, base, 0) < 0)
        return sink_fail(k, err, errno, "replace");
    if (hard) {
        /* The target too is a path below the destination, resolved in the root;
         * linkat's flags 0: a symlink there is linked itself, never followed. */
        _cleanup_free_ char *t = layer_clean_name(hard);
        if (!t || !*t)
            return sink_fail(k, err, 0, "hard link target leaves the destination");
        char *ts = strrchr(t, '/');
        _cleanup_free_ char *tdir = ts ? strndup(t, (size_t)(ts - t)) : xstrdup("");
        _cleanup_close_ int tparent = ctr_open(k, tdir);
        if (tparent < 0 || linkat(tparent, ts ? ts + 1 : t, parent, base, 0) < 0)
            return sink_fail(k, err, errno, "hard link");
        return 0;
    }
    _cleanup_close_ int fd = -1;
    switch (type) {
    case AE_IFREG: {
        fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return sink_fail(k, err, errno, "create");
        const void *buf;
        size_t len;
        la_int64_t off;
        int r;
        while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
            if (pwrite(fd, buf, len, off) != (ssize_t)len)
                return sink_fail(k, err, errno, "write");
        }
        if (r != ARCHIVE_EOF)
            return sink_fail(k, err, 0, archive_error_string(a) ? archive_error_string(a) : "read the tar");
        if (ftruncate(fd, archive_entry_size(e)) < 0)
            return sink_fail(k, err, errno, "truncate");
        return set_meta(k, fd, false, parent, base, e, false, err);
    }
    case AE_IFLNK: {
        const char *target = archive_entry_symlink(e);
        if (!target || symlinkat(target, parent, base) < 0)
            return sink_fail(k, err, target ? errno : 0, "symlink");
        break;
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
        dev_t dev = type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        if (mknodat(parent, base, type | 0600, dev) < 0)
            return sink_fail(k, err, errno, "mknod");
        break;
    }
    default:
        return sink_fail(k, err, 0, "unsupported entry type");
    }
    fd = openat(parent, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return sink_fail(k, err, errno, "open");
    if ((st.st_mode & S_IFMT) != type)
        return sink_fail(k, err, 0, "replaced while it was made");
    return set_meta(k, fd, true, parent, base, e, type == AE_IFLNK, err);
}

static int extract_into_ctr(int rootfd, const char *dest, int in_fd, bool keep_owner, husk_err **err)
{
    struct archive *a = archive_read_new();
    if (!a)
        abort();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    struct ctr_sink k = { .rootfd = rootfd, .dest = dest, .keep_owner = keep_owner };
    int ret = 0;
    if (archive_read_open_fd(a, in_fd, 64 * 1024) != ARCHIVE_OK) {
        ret = husk_fail(err, 0, "read the tar: %s", archive_error_string(a));
    } else {
        struct archive_entry *e;
        int r;
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
            if ((ret = sink_entry(&k, a, e, err)) < 0)
                break;
        if (ret == 0 && r != ARCHIVE_EOF)
            ret = husk_fail(err, 0, "read the tar: %s", archive_error_string(a));
    }
    for (size_t i = 0; i < k.n_dirs; i++) {
        /* Resolved again in the root: a best effort, as tar's own. */
        _cleanup_close_ int fd = ret == 0 ? ctr_open(&k, k.dirs[i]) : -1;
        struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, k.dir_mtimes[i] };
        if (fd >= 0)
            futimens(fd, ts);
        free(k.dirs[i]);
    }
    free(k.dirs);
    free(k.dir_mtimes);
    archive_read_free(a);
    return ret;
}

/* ---- cp: extracting onto the host ------------------------------------------------------------ */

static int extract_into_host(const char *dest, int in_fd, bool keep_owner, bool xattrs, husk_err **err)
{
    /* Names relative to dest, which becomes the working directory for the time of
     * the extraction (the engine is single-threaded), so that libarchive's checks
     * refuse any absolute name and any ".." outright. */
    _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cwd < 0)
        return husk_fail(err, errno, "open the working directory");
    if (chdir(dest) < 0)
        return husk_fail(err, errno, "\"%s\"", dest);
    struct archive *a = archive_read_new(), *w = archive_write_disk_new();
    if (!a || !w)
        abort();
    archive_read_support_format_tar(a);
    int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK;
    if (keep_owner)
        flags |= ARCHIVE_EXTRACT_OWNER;
    if (xattrs)
        flags |= ARCHIVE_EXTRACT_XATTR;
    archive_write_disk_set_options(w, flags);
    int ret = 0;
    if (archive_read_open_fd(a, in_fd, 64 * 1024) != ARCHIVE_OK) {
        ret = husk_fail(err, 0, "read the tar: %s", archive_error_string(a));
        goto out;
    }
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        const char *name = archive_entry_pathname(e);
        if (archive_write_header(w, e) < ARCHIVE_WARN) {
            ret = husk_fail(err, 0, "\"%s/%s\": %s", dest, name ? name : "", archive_error_string(w));
            goto out;
        }
        const void *buf;
        size_t len;
        la_int64_t off;
        int d;
        while ((d = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
            if (archive_write_data_block(w, buf, len, off) < ARCHIVE_WARN)
                break;
        if (d != ARCHIVE_EOF || archive_write_finish_entry(w) < ARCHIVE_WARN) {
            ret = husk_fail(err, 0, "\"%s/%s\": %s", dest, name ? name : "",
                            d != ARCHIVE_EOF && archive_error_string(a) ? archive_error_string(a)
                                                                       : archive_error_string(w));
            goto out;
        }
    }
    if (r != ARCHIVE_EOF)
        ret = husk_fail(err, 0, "read the tar: %s", archive_error_string(a));
    else if (archive_write_close(w) != ARCHIVE_OK)
        ret = husk_fail(err, 0, "\"%s\": %s", dest, archive_error_string(w));
out:
    archive_write_free(w);
    archive_read_free(a);
    if (fchdir(cwd) < 0)
        abort();
    return ret;
}

/* ---- cp: the whole copy ------------------------------------------------------------------------ */

struct source {
    struct resolved r;
    char *name;      /* basename of SRC as given */
    bool contents;   /* SRC ended in "/." (or is "/"): what the directory holds */
};

static int source_resolve(const struct side *s, const char *src, bool follow_link, const char *where,
                          struct source *out, husk_err **err)
{
    memset(out, 0, sizeof(*out));
    out->r.parent = -1;
    bool slash;
    _cleanup_free_ char *p = strip_slashes(src, &slash);
    size_t n = strlen(p);
    if (strcmp(p, "/") == 0 || strcmp(p, ".") == 0 || (n >= 2 && strcmp(p + n - 2, "/.") == 0)) {
        out->contents = true;
        if (strcmp(p, "/") != 0)
            p[n - 1] = '\0';   /* "dir/." -> "dir/", "." -> "" */
        if (!*p)
            p = (free(p), xstrdup("."));
    }
    _cleanup_free_ char *dir = NULL, *base = NULL;
    _cleanup_free_ char *q = strip_slashes(p, &(bool){ false });
    split(q, &dir, &base);
    if (strcmp(base, "..") == 0)
        return husk_fail(err, 0, "\"%s\": copying \"..\" is not supported", src);
    out->name = xstrdup(base);
    if (resolve(s, q, follow_link || slash || out->contents, where, &out->r, err) < 0)
        return -1;
    if (!out->r.exists)
        return husk_fail(err, ENOENT, "%s \"%s\"", where, src);
    if ((slash || out->contents) && !S_ISDIR(out->r.st.st_mode))
        return husk_fail(err, ENOTDIR, "%s \"%s\"", where, src);
    return 0;
}

static void source_free(struct source *s)
{
    resolved_free(&s->r);
    free(s->name);
}

/* Where SRC goes on the destination side: the directory to extract into and the
 * name SRC gets there ("" with *contents: its entries go straight in). */
static int plan(const struct side *ds, const char *dest, const struct source *src, const char *where, char **dir_out,
                char **top_out, bool *contents, husk_err **err)
{
    bool src_dir = S_ISDIR(src->r.st.st_mode);
    bool slash;
    _cleanup_free_ char *d = strip_slashes(dest, &slash);
    struct resolved r;
    if (resolve(ds, d, true, where, &r, err) < 0) {
        resolved_free(&r);
        return -1;
    }
    int ret = 0;
    if (r.exists && S_ISDIR(r.st.st_mode)) {
        *dir_out = xstrdup(d);
        *top_out = xstrdup(*contents ? "" : src->name);
    } else if (r.exists) {
        if (src_dir || slash)
            ret = husk_fail(err, 0, "%s \"%s\": cannot copy a directory onto a file", where, dest);
        *dir_out = xstrdup(r.dir);
        *top_out = xstrdup(r.base);
        *contents = false;
    } else if (slash && !src_dir) {
        ret = husk_fail(err, 0, "%s \"%s\": the destination directory must exist", where, dest);
    } else {
        *dir_out = xstrdup(r.dir);
        *top_out = xstrdup(r.base);
        *contents = false;   /* DEST is made, with SRC's contents */
    }
    resolved_free(&r);
    return ret;
}

/* Run the tar of src in a child writing into a pipe, extract it here: the two ends
 * stream (no temporary copy) and the child's failure is read back as one line. */
static int pipe_copy(const struct source *src, const char *top, bool contents, const struct side *ds,
                     const char *dest_dir, bool keep_owner, husk_err **err)
{
    int data[2], msg[2];
    if (pipe2(data, O_CLOEXEC) < 0)
        return husk_fail(err, errno, "pipe");
    if (pipe2(msg, O_CLOEXEC) < 0) {
        int e = errno;
        close(data[0]);
        close(data[1]);
        return husk_fail(err, e, "pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(data[0]), close(data[1]), close(msg[0]), close(msg[1]);
        return husk_fail(err, e, "fork");
    }
    if (pid == 0) {
        close(data[0]);
        close(msg[0]);
        signal(SIGPIPE, SIG_DFL);
        husk_err *cerr = NULL;
        if (produce(&src->r, top, contents, data[1], &cerr) < 0) {
            const char *m = cerr && cerr->msg ? cerr->msg : "write the tar";
            if (write_all(msg[1], m, strlen(m)) < 0)
                _exit(2);
            _exit(1);
        }
        _exit(0);
    }
    close(data[1]);
    close(msg[1]);
    int ret = ds->in_root ? extract_into_ctr(ds->rootfd, dest_dir, data[0], keep_owner, err)
                          : extract_into_host(dest_dir, data[0], keep_owner, ds->xattrs, err);
    close(data[0]);   /* a child still writing gets EPIPE and ends */
    char buf[1024];
    ssize_t n = read_all(msg[0], buf, sizeof(buf) - 1);
    close(msg[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n > 0) {
        buf[n] = '\0';
        return husk_fail(err, 0, "%s", buf);   /* the source's failure says more */
    }
    if (ret == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        return husk_fail(err, 0, "the tar of the source failed");
    return ret;
}

int ctr_fs_copy_out(const struct ctr_fs *fs, const char *src, const char *dest, int out_fd,
                    const struct ctr_cp_opts *o, husk_err **err)
{
    struct side cs = { .rootfd = fs->rootfd, .in_root = true }, hs = { .rootfd = AT_FDCWD, .xattrs = o->xattrs };
    struct source s;
    int ret = -1;
    _cleanup_free_ char *dir = NULL, *top = NULL;
    if (source_resolve(&cs, src, o->follow_link, "in the container:", &s, err) < 0)
        goto out;
    if (strcmp(dest, "-") == 0) {
        ret = produce(&s.r, s.contents ? "" : s.name, s.contents, out_fd, err);
        goto out;
    }
    bool contents = s.contents;
    if (plan(&hs, dest, &s, "on the host:", &dir, &top, &contents, err) < 0)
        goto out;
    ret = pipe_copy(&s, top, contents, &hs, *dir ? dir : ".", o->archive, err);
out:
    source_free(&s);
    return ret < 0 ? husk_err_prefix(err, "cp") : 0;
}

int ctr_fs_copy_in(const struct ctr_fs *fs, const char *src, int in_fd, const char *dest,
                   const struct ctr_cp_opts *o, husk_err **err)
{
    struct side cs = { .rootfd = fs->rootfd, .in_root = true }, hs = { .rootfd = AT_FDCWD };
    int ret = -1;
    if (strcmp(src, "-") == 0) {
        struct resolved r;
        if (resolve(&cs, dest, true, "in the container:", &r, err) == 0) {
            if (!r.exists || !S_ISDIR(r.st.st_mode))
                husk_fail(err, ENOTDIR, "in the container: \"%s\"", dest);
            else
                ret = extract_into_ctr(fs->rootfd, dest, in_fd, o->archive, err);
        }
        resolved_free(&r);
        return ret < 0 ? husk_err_prefix(err, "cp") : 0;
    }
    struct source s;
    _cleanup_free_ char *dir = NULL, *top = NULL;
    if (source_resolve(&hs, src, o->follow_link, "on the host:", &s, err) < 0)
        goto out;
    bool contents = s.contents;
    if (plan(&cs, dest, &s, "in the container:", &dir, &top, &contents, err) < 0)
        goto out;
    ret = pipe_copy(&s, top, contents, &cs, *dir ? dir : "/", o->archive, err);
out:
    source_free(&s);
    return ret < 0 ? husk_err_prefix(err, "cp") : 0;
}
