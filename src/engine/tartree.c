/* tartree.c — a directory tree into a tar, never following a symlink (tartree.h). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tartree.h"
#include "util.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct inode_name {
    dev_t dev;
    ino_t ino;
    char *name;
};

struct tartree {
    struct archive *a;
    struct tartree_opts o;
    void *links;   /* tsearch tree of struct inode_name: files with more than one link */
    /* Directories whose header waits for their first entry written (outermost
     * first): one whose every entry is excluded is left out (tartree.h). */
    struct pending_dir {
        struct archive_entry *e;
        char *opaque_marker;   /* ".../.wh..wh..opq" to write after it, or NULL */
        struct stat st;
    } *pending;
    size_t n_pending, cap_pending;
    char buf[128 * 1024];
};

static int cmp_inode(const void *x, const void *y)
{
    const struct inode_name *a = x, *b = y;
    if (a->dev != b->dev)
        return a->dev < b->dev ? -1 : 1;
    if (a->ino != b->ino)
        return a->ino < b->ino ? -1 : 1;
    return 0;
}

static void free_inode(void *p)
{
    struct inode_name *n = p;
    free(n->name);
    free(n);
}

struct tartree *tartree_new(struct archive *a, const struct tartree_opts *o)
{
    struct tartree *t = xcalloc(1, sizeof(*t));
    t->a = a;
    t->o = *o;
    return t;
}

void tartree_free(struct tartree *t)
{
    if (!t)
        return;
    tdestroy(t->links, free_inode);
    for (size_t i = 0; i < t->n_pending; i++) {
        archive_entry_free(t->pending[i].e);
        free(t->pending[i].opaque_marker);
    }
    free(t->pending);
    free(t);
}

bool tartree_excluded(char *const *exclude, const char *name)
{
    for (size_t i = 0; exclude && exclude[i]; i++) {
        const char *x = exclude[i];
        while (*x == '/')
            x++;
        size_t n = strlen(x);
        while (n > 0 && x[n - 1] == '/')
            n--;
        if (n == 0)
            return true;   /* "/": everything */
        if (strncmp(name, x, n) == 0 && (name[n] == '\0' || name[n] == '/'))
            return true;
    }
    return false;
}

static void entry_freep(struct archive_entry **e)
{
    if (*e)
        archive_entry_free(*e);
}

static int ar_fail(struct tartree *t, const char *name, husk_err **err)
{
    const char *why = archive_error_string(t->a);
    return husk_fail(err, archive_errno(t->a) > 0 ? archive_errno(t->a) : 0, "write the tar entry \"%s\"%s%s", name,
                     why ? ": " : "", why ? why : "");
}

static bool overlay_xattr(const char *name)
{
    return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0;
}

/* The object's xattrs into the entry: through fd, or (symlinks, devices: no fd can
 * be opened on them without following or blocking) base in parent through /proc,
 * with the l*xattr calls that never follow. */
static int add_xattrs(struct archive_entry *e, int fd, int parent, const char *base, const char *name,
                      husk_err **err)
{
    char path[64 + NAME_MAX + 1];
    if (fd < 0)
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", parent, base);
    ssize_t n = fd >= 0 ? flistxattr(fd, NULL, 0) : llistxattr(path, NULL, 0);
    if (n < 0)
        return errno == ENOTSUP ? 0 : husk_fail(err, errno, "list the xattrs of \"%s\"", name);
    if (n == 0)
        return 0;
    _cleanup_free_ char *list = xmalloc((size_t)n + 1);
    n = fd >= 0 ? flistxattr(fd, list, (size_t)n) : llistxattr(path, list, (size_t)n);
    if (n < 0)
        return husk_fail(err, errno, "list the xattrs of \"%s\"", name);
    for (char *k = list; k < list + n; k += strlen(k) + 1) {
        if (overlay_xattr(k))
            continue;
        ssize_t vn = fd >= 0 ? fgetxattr(fd, k, NULL, 0) : lgetxattr(path, k, NULL, 0);
        if (vn < 0) {
            if (errno == ENODATA)
                continue;
            return husk_fail(err, errno, "read the xattr %s of \"%s\"", k, name);
        }
        _cleanup_free_ char *v = xmalloc((size_t)vn + 1);
        vn = fd >= 0 ? fgetxattr(fd, k, v, (size_t)vn) : lgetxattr(path, k, v, (size_t)vn);
        if (vn < 0)
            return husk_fail(err, errno, "read the xattr %s of \"%s\"", k, name);
        archive_entry_xattr_add_entry(e, k, v, (size_t)vn);
    }
    return 0;
}

static struct archive_entry *new_entry(struct tartree *t, const char *name, const struct stat *st)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_copy_stat(e, st);
    /* Not the host's inode numbers, link counts or device: only what an image
     * layer means (libarchive's pax writer stores none of these anyway). */
    archive_entry_set_ino(e, 0);
    archive_entry_set_dev(e, 0);
    archive_entry_set_nlink(e, 1);
    archive_entry_unset_atime(e);
    archive_entry_unset_ctime(e);
    archive_entry_unset_birthtime(e);
    if (t->o.uid >= 0)
        archive_entry_set_uid(e, t->o.uid);
    if (t->o.gid >= 0)
        archive_entry_set_gid(e, t->o.gid);
    return e;
}

static int write_marker_now(struct tartree *t, const char *name, const struct stat *like, husk_err **err);

/* Write the headers of the directories waiting above the entry about to be written. */
static int flush_pending(struct tartree *t, husk_err **err)
{
    int ret = 0;
    for (size_t i = 0; i < t->n_pending; i++) {
        struct pending_dir *p = &t->pending[i];
        if (ret == 0 && archive_write_header(t->a, p->e) < ARCHIVE_WARN)
            ret = ar_fail(t, archive_entry_pathname(p->e), err);
        if (ret == 0 && p->opaque_marker)
            ret = write_marker_now(t, p->opaque_marker, &p->st, err);
        archive_entry_free(p->e);
        free(p->opaque_marker);
    }
    t->n_pending = 0;
    return ret;
}

static int write_header(struct tartree *t, struct archive_entry *e, husk_err **err)
{
    if (flush_pending(t, err) < 0)
        return -1;
    if (archive_write_header(t->a, e) < ARCHIVE_WARN)
        return ar_fail(t, archive_entry_pathname(e), err);
    return 0;
}

static int write_marker(struct tartree *t, const char *name, const struct stat *like, husk_err **err)
{
    if (flush_pending(t, err) < 0)
        return -1;
    return write_marker_now(t, name, like, err);
}

static int write_marker_now(struct tartree *t, const char *name, const struct stat *like, husk_err **err)
{
    /* Whiteouts: empty regular files, as docker writes them. */
    struct stat st = *like;
    st.st_mode = S_IFREG | 0600;
    st.st_size = 0;
    st.st_rdev = 0;
    _cleanup_(entry_freep) struct archive_entry *e = new_entry(t, name, &st);
    if (archive_write_header(t->a, e) < ARCHIVE_WARN)
        return ar_fail(t, name, err);
    return 0;
}

/* A regular file's data, exactly size bytes (the header is written already). */
static int write_data(struct tartree *t, int fd, const char *name, int64_t size, husk_err **err)
{
    int64_t left = size;
    while (left > 0) {
        size_t want = left < (int64_t)sizeof(t->buf) ? (size_t)left : sizeof(t->buf);
        ssize_t n = read(fd, t->buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return husk_fail(err, errno, "read \"%s\"", name);
        if (n == 0) {
            /* Shrunk while read: the header promised size bytes. */
            memset(t->buf, 0, want);
            n = (ssize_t)want;
        }
        if (archive_write_data(t->a, t->buf, (size_t)n) < 0)
            return ar_fail(t, name, err);
        left -= n;
    }
    return 0;
}

static int add_dir_entries(struct tartree *t, int dirfd, const char *prefix, size_t *n_out, size_t *excluded,
                           husk_err **err);

static int add_regular(struct tartree *t, int parent, const char *base, const char *name, const struct stat *st,
                       husk_err **err)
{
    if (st->st_nlink > 1) {
        struct inode_name key = { .dev = st->st_dev, .ino = st->st_ino };
        struct inode_name **found = tfind(&key, &t->links, cmp_inode);
        if (found) {
            _cleanup_(entry_freep) struct archive_entry *e = new_entry(t, name, st);
            archive_entry_set_size(e, 0);
            archive_entry_set_hardlink(e, (*found)->name);
            return write_header(t, e, err);
        }
        struct inode_name *n = xcalloc(1, sizeof(*n));
        *n = key;
        n->name = xstrdup(name);
        if (!tsearch(n, &t->links, cmp_inode))
            abort();
    }
    /* O_NONBLOCK: should base have become a fifo since the stat, open does not
     * hang; the fstat below sees that it is not the file that was stat'ed. */
    _cleanup_close_ int fd = openat(parent, base, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return husk_fail(err, errno, "open \"%s\"", name);
    struct stat now;
    if (fstat(fd, &now) < 0)
        return husk_fail(err, errno, "stat \"%s\"", name);
    if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
        return husk_fail(err, 0, "\"%s\" changed while it was read", name);
    _cleanup_(entry_freep) struct archive_entry *e = new_entry(t, name, &now);
    if (add_xattrs(e, fd, parent, base, name, err) < 0 || write_header(t, e, err) < 0)
        return -1;
    return write_data(t, fd, name, now.st_size, err);
}

static bool is_opaque(int fd)
{
    char v[4];
    ssize_t n = fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

static int add_dir(struct tartree *t, int parent, const char *base, const char *name, const struct stat *st,
                   husk_err **err)
{
    _cleanup_close_ int fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return husk_fail(err, errno, "open \"%s\"", name);
    if (!*name) {
        size_t n, excluded;
        return add_dir_entries(t, fd, name, &n, &excluded, err);
    }
    struct archive_entry *e = new_entry(t, name, st);
    if (add_xattrs(e, fd, parent, base, name, err) < 0) {
        archive_entry_free(e);
        return -1;
    }
    bool opaque = t->o.overlay_upper && is_opaque(fd);
    if (t->n_pending == t->cap_pending) {
        t->cap_pending = t->cap_pending ? 2 * t->cap_pending : 16;
        t->pending = xrealloc(t->pending, t->cap_pending * sizeof(*t->pending));
    }
    size_t me = t->n_pending++;
    t->pending[me] = (struct pending_dir){ .e = e, .st = *st,
                                           .opaque_marker = opaque ? xasprintf("%s/" WH_OPAQUE, name) : NULL };
    size_t n = 0, excluded = 0;
    if (add_dir_entries(t, fd, name, &n, &excluded, err) < 0)
        return -1;
    if (t->n_pending <= me)
        return 0;   /* written with its first entry */
    /* Nothing of it written: an empty directory is, one that only holds excluded
     * entries (a volume's or the engine's mount points) is not, unless it is
     * opaque (then it hides what the layers below have there). */
    if (opaque || n == 0 || excluded < n)
        return flush_pending(t, err);
    t->n_pending--;
    archive_entry_free(t->pending[me].e);
    free(t->pending[me].opaque_marker);
    return 0;
}

int tartree_add(struct tartree *t, int parent, const char *base, const char *name, husk_err **err)
{
    if (tartree_excluded(t->o.exclude, name))
        return 0;
    struct stat st;
    if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return husk_fail(err, errno, "stat \"%s\"", *name ? name : base);
    switch (st.st_mode & S_IFMT) {
    case S_IFDIR:
        return add_dir(t, parent, base, name, &st, err);
    case S_IFREG:
        return add_regular(t, parent, base, name, &st, err);
    case S_IFSOCK:
        return 0;   /* tar cannot hold one (docker skips them too) */
    default:
        break;
    }
    if (t->o.overlay_upper && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        /* overlayfs's deletion: the image spec's whiteout file. */
        const char *slash = strrchr(name, '/');
        _cleanup_free_ char *wh = slash ? xasprintf("%.*s/" WH_PREFIX "%s", (int)(slash - name), name, slash + 1)
                                        : xasprintf(WH_PREFIX "%s", name);
        return write_marker(t, wh, &st, err);
    }
    _cleanup_(entry_freep) struct archive_entry *e = new_entry(t, name, &st);
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX + 1];
        ssize_t n = readlinkat(parent, base, target, sizeof(target) - 1);
        if (n < 0)
            return husk_fail(err, errno, "readlink \"%s\"", name);
        target[n] = '\0';
        archive_entry_set_symlink(e, target);
        archive_entry_set_size(e, 0);
    } else {
        archive_entry_set_size(e, 0);
    }
    if (add_xattrs(e, -1, parent, base, name, err) < 0)
        return -1;
    return write_header(t, e, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry of dirfd, sorted: the names are read first and the directory closed,
 * so a deep tree holds one fd per level. */
static int add_dir_entries(struct tartree *t, int dirfd, const char *prefix, size_t *n_out, size_t *excluded,
                           husk_err **err)
{
    *n_out = *excluded = 0;
    int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return husk_fail(err, errno, "open \"%s\"", *prefix ? prefix : ".");
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return husk_fail(err, errno, "read \"%s\"", prefix);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            names = xrealloc(names, cap * sizeof(char *));
        }
        names[n++] = xstrdup(de->d_name);
    }
    int e = errno;
    closedir(d);
    int ret = e ? husk_fail(err, e, "read \"%s\"", prefix) : 0;
    if (n)
        qsort(names, n, sizeof(char *), cmp_str);
    *n_out = n;
    for (size_t i = 0; i < n && ret == 0; i++) {
        _cleanup_free_ char *name = *prefix ? xasprintf("%s/%s", prefix, names[i]) : xstrdup(names[i]);
        if (tartree_excluded(t->o.exclude, name))
            (*excluded)++;
        else
            ret = tartree_add(t, dirfd, names[i], name, err);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ret;
}

int tartree_add_contents(struct tartree *t, int dirfd, const char *prefix, husk_err **err)
{
    size_t n, excluded;
    return add_dir_entries(t, dirfd, prefix, &n, &excluded, err);
}

int tartree_writer_fd(int fd, struct archive **out, husk_err **err)
{
    struct archive *a = archive_write_new();
    if (!a)
        return husk_fail(err, ENOMEM, "libarchive");
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY") < ARCHIVE_WARN ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK || archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        husk_fail(err, 0, "start a tar: %s", archive_error_string(a));
        archive_write_free(a);
        return -1;
    }
    *out = a;
    return 0;
}

int tartree_writer_close(struct archive *a, husk_err **err)
{
    int r = archive_write_close(a);
    int ret = 0;
    if (r != ARCHIVE_OK) {
        const char *why = archive_error_string(a);
        ret = husk_fail(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "finish the tar%s%s", why ? ": " : "",
                        why ? why : "");
    }
    archive_write_free(a);
    return ret;
}
