/* layer_tar.c — a layer's tar stream into a directory (layer.h: layer_unpack_fd).
 *
 * Two readers in a row: the first only decompresses; every uncompressed byte it
 * hands out is hashed (the layer's DiffID is the sha256 of the uncompressed tar) and
 * fed through a read callback to libarchive's tar reader. The decompressor is
 * ISA-L's inflate for gzip (when husk is built with libisal: about four times
 * zlib's speed on x86-64, and inflating is most of a pull's CPU time), otherwise
 * libarchive's "raw" format with its gzip/zstd/bzip2/xz filters. After the tar's end
 * the rest of the stream (end-of-archive blocks, padding) is drained through the
 * hash too.
 *
 * The entries come from an image we do not trust. Every entry is made by *at()
 * calls on its parent directory, and the parent is opened with openat2(
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) from the layer's
 * root: the kernel refuses a walk that leaves the root or meets any symlink, so a
 * symlink made by an earlier entry (or a ".." component) can never carry a later
 * write outside the layer. The last component is never followed either: an
 * existing entry of the same name is unlinked first, and files are created with
 * O_CREAT|O_EXCL|O_NOFOLLOW. Symlink targets themselves are stored as they are; they
 * are never followed here, and in a container they resolve inside its rootfs.
 *
 * Names as docker's pkg/archive treats them: leading "/" are dropped (docker joins
 * the name onto the layer dir, so "/etc/x" is the layer's etc/x), "." components and
 * empty ones are dropped, a missing parent directory is created (0755, root). Unlike
 * docker, any ".." component is refused, even one that would stay inside ("a/../b"):
 * no real layer has one. Hard link targets get the same treatment and must name
 * something this layer made already. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/evp.h>
#ifdef HUSK_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "layer.h"
#include "layer_int.h"
#include "newsys.h"
#include "testhooks.h"
#include "util.h"

#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

struct dir_time {
    char *path;              /* cleaned, "" for the root */
    struct timespec ts[2];   /* atime, mtime */
};

/* A gzip stream through ISA-L (NULL without libisal, or when not gzip). */
struct gz;

struct unpack {
    int fd;                  /* the (compressed) input */
    const struct layer_source *src;   /* fd is a file still growing, or NULL */
    size_t pending;          /* bytes of buf read (the sniffed start), not yet handed out */
    struct gz *gz;
    int rootfd;              /* the layer dir */
    struct archive *raw;     /* decompresses */
    struct archive *tar;     /* parses what raw produces */
    EVP_MD_CTX *md;          /* sha256 of the uncompressed stream */
    uint64_t in_bytes;       /* read from fd */
    int read_errno;          /* a read(2) of fd failed */
    uint64_t tar_bytes;      /* uncompressed, hashed */
    bool raw_eof;
    uint64_t size;           /* bytes of regular files made */
    struct dir_time *dirs;   /* directory times, set after everything else */
    size_t ndirs, dirs_cap;
    const char *name;        /* the current entry's name as the tar has it */
    char *dir_path;          /* the parent directory last opened (cleaned; "" the root), or NULL */
    int dir_fd;              /* its fd */
    bool dir_stale;          /* a directory was removed since: it may be gone */
    unsigned char buf[128 * 1024];
};

/* ---- the two readers ------------------------------------------------------ */

/* The next bytes of the input into u->buf (or those read ahead), 0 at its end. */
static ssize_t read_in(struct unpack *u)
{
    if (u->pending) {
        ssize_t n = (ssize_t)u->pending;
        u->pending = 0;
        return n;
    }
    for (;;) {
        ssize_t n = read(u->fd, u->buf, sizeof(u->buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            u->read_errno = errno;
            return -1;
        }
        if (n == 0 && u->src) {
            /* the end of what the download wrote so far */
            int w = u->src->wait(u->src->ctx, u->in_bytes);
            if (w > 0)
                continue;
            if (w < 0) {
                u->read_errno = ECANCELED;
                return -1;
            }
        }
        u->in_bytes += (uint64_t)n;
        return n;
    }
}

static la_ssize_t fd_read_cb(struct archive *a, void *data, const void **buf)
{
    struct unpack *u = data;
    ssize_t n = read_in(u);
    if (n < 0) {
        archive_set_error(a, u->read_errno, "%s", strerror(u->read_errno));
        return -1;
    }
    *buf = u->buf;
    return n;
}

/* libarchive's message, which some failures (a gzip cut short) leave unset. */
static const char *why(struct archive *a)
{
    const char *s = archive_error_string(a);
    return s ? s : "truncated or corrupt data";
}

static void hash_out(struct unpack *u, const void *p, size_t n)
{
    if (EVP_DigestUpdate(u->md, p, n) != 1)
        abort();
    u->tar_bytes += n;
}

#ifdef HUSK_HAVE_ISAL
#define GZ_OUT (256 * 1024)

struct gz {
    struct inflate_state st;
    bool in_eof;
    unsigned char out[GZ_OUT];
};

static const char *gz_error(int r)
{
    switch (r) {
    case ISAL_INVALID_WRAPPER:
        return "gzip: invalid header";
    case ISAL_UNSUPPORTED_METHOD:
        return "gzip: unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
        return "gzip: checksum mismatch";
    default:
        return "gzip: invalid compressed data";
    }
}

static void gz_start_member(struct gz *g)
{
    uint8_t *in = g->st.next_in;
    uint32_t avail = g->st.avail_in;
    isal_inflate_init(&g->st);
    g->st.crc_flag = ISAL_GZIP;   /* parse the header, check the CRC-32 and length */
    g->st.next_in = in;
    g->st.avail_in = avail;
}

/* Inflated bytes for the tar reader. Members follow each other as gzip(1) reads
 * them; what follows the last one and is not a gzip header is ignored, as
 * libarchive's gzip filter does. */
static la_ssize_t gz_read(struct archive *a, struct unpack *u, const void **buf)
{
    struct gz *g = u->gz;
    while (!u->raw_eof) {
        if (g->st.avail_in == 0 && !g->in_eof) {
            ssize_t n = read_in(u);
            if (n < 0) {
                archive_set_error(a, u->read_errno, "%s", strerror(u->read_errno));
                return -1;
            }
            g->in_eof = n == 0;
            g->st.next_in = u->buf;
            g->st.avail_in = (uint32_t)n;
        }
        if (g->st.block_state == ISAL_BLOCK_FINISH) {
            if (g->st.avail_in == 0) {
                if (g->in_eof)
                    u->raw_eof = true;
                continue;
            }
            if (g->st.next_in[0] != 0x1f) {
                u->raw_eof = true;
                continue;
            }
            gz_start_member(g);
        }
        g->st.next_out = g->out;
        g->st.avail_out = GZ_OUT;
        int r = isal_inflate(&g->st);
        if (r != ISAL_DECOMP_OK) {
            archive_set_error(a, EIO, "%s", gz_error(r));
            return -1;
        }
        size_t n = GZ_OUT - g->st.avail_out;
        if (n == 0 && g->st.avail_in == 0 && g->in_eof && g->st.block_state != ISAL_BLOCK_FINISH) {
            archive_set_error(a, EIO, "gzip: truncated data");
            return -1;
        }
        if (n == 0)
            continue;
        hash_out(u, g->out, n);
        *buf = g->out;
        return (la_ssize_t)n;
    }
    *buf = NULL;
    return 0;
}

static bool gz_begin(struct unpack *u)
{
    if (u->pending < 2 || u->buf[0] != 0x1f || u->buf[1] != 0x8b)
        return false;
    struct gz *g = xmalloc(sizeof(*g));
    g->in_eof = false;
    g->st.next_in = u->buf;
    g->st.avail_in = (uint32_t)u->pending;
    u->pending = 0;
    gz_start_member(g);
    u->gz = g;
    return true;
}
#else
static la_ssize_t gz_read(struct archive *a, struct unpack *u, const void **buf)
{
    (void)a, (void)u, (void)buf;
    abort();   /* gz_begin never starts one */
}

static bool gz_begin(struct unpack *u)
{
    (void)u;
    return false;
}
#endif

/* Feeds the tar reader from the decompressor, hashing every byte on the way. */
static la_ssize_t tar_read_cb(struct archive *a, void *data, const void **buf)
{
    struct unpack *u = data;
    if (u->gz)
        return gz_read(a, u, buf);
    while (!u->raw_eof) {
        const void *p;
        size_t n;
        la_int64_t off;
        int r = archive_read_data_block(u->raw, &p, &n, &off);
        if (r == ARCHIVE_EOF) {
            u->raw_eof = true;
            break;
        }
        if (r < ARCHIVE_WARN) {
            archive_set_error(a, archive_errno(u->raw) ? archive_errno(u->raw) : EIO, "%s", why(u->raw));
            return -1;
        }
        if (n == 0)
            continue;
        hash_out(u, p, n);
        *buf = p;
        return (la_ssize_t)n;
    }
    *buf = NULL;
    return 0;
}

static int open_readers(struct unpack *u, bool *empty, husk_err **err)
{
    struct archive_entry *e;
    *empty = false;
    /* the start, to tell gzip (ISA-L's) from the rest (libarchive's) */
    ssize_t first = read_in(u);
    if (first < 0)
        return husk_fail(err, u->read_errno, "read the layer");
    if (first == 0) {
        *empty = true;   /* an empty stream is an empty layer (docker's tar reader says EOF too) */
        return 0;
    }
    u->pending = (size_t)first;
    u->tar = archive_read_new();
    if (!u->tar)
        return husk_fail(err, ENOMEM, "libarchive");
    if (gz_begin(u))
        goto tar;
    u->raw = archive_read_new();
    if (!u->raw)
        return husk_fail(err, ENOMEM, "libarchive");
    /* Only the compressions a layer can have (OCI: gzip, zstd; docker also reads
     * bzip2 and xz). "raw" passes an uncompressed tar through unchanged. */
    if (archive_read_support_filter_gzip(u->raw) != ARCHIVE_OK ||
        archive_read_support_filter_zstd(u->raw) != ARCHIVE_OK)
        return husk_fail(err, 0, "libarchive without gzip or zstd support: %s", archive_error_string(u->raw));
    archive_read_support_filter_bzip2(u->raw);
    archive_read_support_filter_xz(u->raw);
    archive_read_support_format_raw(u->raw);
    if (archive_read_open(u->raw, u, NULL, fd_read_cb, NULL) != ARCHIVE_OK ||
        archive_read_next_header(u->raw, &e) < ARCHIVE_WARN) {
        return husk_fail(err, 0, "read the layer: %s", why(u->raw));
    }
tar:
    archive_read_support_format_tar(u->tar);
    if (archive_read_open(u->tar, u, NULL, tar_read_cb, NULL) != ARCHIVE_OK)
        return husk_fail(err, 0, "read the tar: %s", why(u->tar));
    return 0;
}

/* ---- names ---------------------------------------------------------------- */

/* A name for an error line: quotes and control bytes escaped, so a hostile name
 * cannot forge or split the line. */
static char *quote(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(4 * n + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            o += sprintf(o, "\\x%02x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return out;
}

__attribute__((format(printf, 4, 5))) static int entry_fail(struct unpack *u, husk_err **err, int errnum,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    husk_vfail(err, errnum, fmt, ap);
    va_end(ap);
    _cleanup_free_ char *q = quote(u->name ? u->name : "");
    return husk_err_prefix(err, "entry \"%s\"", q);
}

char *layer_clean_name(const char *name)
{
    char *out = xmalloc(strlen(name) + 1);
    size_t o = 0;
    const char *p = name;
    while (*p) {
        while (*p == '/')
            p++;   /* leading "/" (made relative, as docker does) and "//" */
        if (!*p)
            break;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            free(out);
            return NULL;
        }
        if (!(n == 1 && p[0] == '.')) {
            if (o)
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p = end;
    }
    out[o] = '\0';
    return out;
}

/* ---- opening beneath the root --------------------------------------------- */

static int open_beneath(int dirfd, const char *path, int flags)
{
    /* BENEATH: the walk may not leave dirfd (no "..", no absolute path);
     * NO_SYMLINKS: no component may be a symlink, wherever it points (the last
     * one included: that is ELOOP, which O_NOFOLLOW would turn into ENOTDIR);
     * NO_MAGICLINKS: no /proc/self/fd style jumps. */
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    for (int i = 0; i < 16; i++) {
        int fd = husk_openat2(dirfd, path, &how);
        if (fd >= 0 || errno != EAGAIN)
            return fd;
    }
    return -1;
}

/* Whether the walk's errno adds anything to walk_error's words. */
static int walk_errno(int e)
{
    return e == ELOOP || e == EXDEV || e == ENOENT || e == ENOTDIR ? 0 : e;
}

static const char *walk_error(int e)
{
    switch (e) {
    case ELOOP:
        return "path goes through a symlink";
    case EXDEV:
        return "path leaves the layer";
    case ENOTDIR:
        return "a parent is not a directory";
    case ENOENT:
        return "is not in the layer";
    default:
        return "open its parent";
    }
}

/* Open (O_RDONLY|O_DIRECTORY) the parent of the cleaned path `path`, creating
 * missing directories when create is set; *base gets the last component. what
 * starts the error message ("" or "hard link target "). */
static int open_parent(struct unpack *u, const char *path, bool create, const char *what, const char **base,
                       husk_err **err)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash) {
        int fd = open_beneath(u->rootfd, ".", O_RDONLY | O_DIRECTORY);
        return fd >= 0 ? fd : entry_fail(u, err, errno, "open the layer");
    }
    _cleanup_free_ char *dir = strndup(path, (size_t)(slash - path));
    int fd = open_beneath(u->rootfd, dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0)
        return fd;
    if (errno != ENOENT || !create)
        return entry_fail(u, err, walk_errno(errno), "%s%s", what, walk_error(errno));

    /* Some parent is missing: walk it component by component, making directories
     * (docker makes them 0755, owned by root) with the same rules at every step. */
    _cleanup_close_ int cur = open_beneath(u->rootfd, ".", O_RDONLY | O_DIRECTORY);
    if (cur < 0)
        return entry_fail(u, err, errno, "open the layer");
    for (char *p = dir; *p;) {
        char *end = strchrnul(p, '/');
        bool more = *end != '\0';
        *end = '\0';
        int next = open_beneath(cur, p, O_RDONLY | O_DIRECTORY);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(cur, p, 0755) < 0)
                return entry_fail(u, err, errno, "create parent directory %s", p);
            next = open_beneath(cur, p, O_RDONLY | O_DIRECTORY);
            if (next >= 0 && fchmod(next, 0755) < 0) {   /* not what the umask left */
                int e = errno;
                close(next);
                return entry_fail(u, err, e, "chmod parent directory %s", p);
            }
        }
        if (next < 0)
            return entry_fail(u, err, walk_errno(errno), "%s%s", what, walk_error(errno));
        close(cur);
        cur = next;
        p = more ? end + 1 : end;
    }
    return steal_fd(cur);
}

/* The parent directory of a new entry, kept from one entry to the next: a tar lists
 * a directory's entries together, so it is most often the one of the entry before,
 * and the walk from the root (every component checked, see open_parent) is done once
 * per directory instead of once per entry. The fd is borrowed (the caller does not
 * close it). What it refers to cannot be redirected: it was opened beneath the root
 * without following any symlink, and an fd stays on its directory whatever later
 * entries do to names. An entry that replaces a directory or one of its ancestors
 * (by a file, a symlink, a whiteout) has another parent, so the walk is done again
 * for it and for the entries after it, and sees what is there now (a symlink is
 * refused as ever). A directory removal (make_room) drops the kept one all the same,
 * so that it can never be one no longer in the layer. */
static int cached_parent(struct unpack *u, const char *path, const char **base, husk_err **err)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    if (u->dir_path && !u->dir_stale && strlen(u->dir_path) == dlen && memcmp(u->dir_path, path, dlen) == 0) {
        *base = slash ? slash + 1 : path;
        return u->dir_fd;
    }
    int fd = open_parent(u, path, true, "", base, err);
    if (fd < 0)
        return -1;
    if (u->dir_path)
        close(u->dir_fd);
    free(u->dir_path);
    u->dir_path = strndup(path, dlen);
    if (!u->dir_path)
        abort();
    u->dir_fd = fd;
    u->dir_stale = false;
    return fd;
}

/* Make room for a new entry `base` in parent: whatever is there goes (a symlink
 * itself, never what it points to), except a directory when keep_dir is set.
 * Returns 1 when a directory was kept, 0 when the name is free, -errno. */
static int make_room(struct unpack *u, int parent, const char *base, bool keep_dir)
{
    struct stat st;
    if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (S_ISDIR(st.st_mode)) {
        if (keep_dir)
            return 1;
        /* the kept parent may be this one or inside it: dropped before the next
         * entry (not now: parent may be that very fd, still in use) */
        u->dir_stale = true;
        return tree_remove_at(parent, base);
    }
    return unlinkat(parent, base, 0) < 0 ? -errno : 0;
}

/* ---- metadata --------------------------------------------------------------- */

/* The object is either the open fd, or base in parent (never followed). */
struct obj {
    int fd;
    int parent;
    const char *base;
};

static int set_xattr(struct obj o, const char *name, const void *val, size_t len)
{
    if (o.fd >= 0)
        return fsetxattr(o.fd, name, val, len, 0);
    /* No fd for symlinks, devices and fifos (opening them would follow or block):
     * the parent's fd through /proc plus lsetxattr, which never follows base. */
    char path[64 + 256];
    snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", o.parent, o.base);
    return lsetxattr(path, name, val, len, 0);
}

/* Owner, then mode (a chown clears setuid/setgid), then xattrs (a chown clears
 * security.capability too), in that order. Times are set by the caller. */
static int set_owner_mode_xattrs(struct unpack *u, struct obj o, struct archive_entry *e, mode_t type,
                                 husk_err **err)
{
    uid_t uid = (uid_t)archive_entry_uid(e);
    gid_t gid = (gid_t)archive_entry_gid(e);
    int r = o.fd >= 0 ? fchown(o.fd, uid, gid) : fchownat(o.parent, o.base, uid, gid, AT_SYMLINK_NOFOLLOW);
    if (r < 0)
        return entry_fail(u, err, errno, "chown %u:%u", (unsigned)uid, (unsigned)gid);
    if (type != S_IFLNK) {
        mode_t perm = archive_entry_perm(e) & 07777;
        /* fchmodat follows a symlink, but base is not one: we made it, or (hard
         * link) checked it, and nothing else writes into the layer. */
        r = o.fd >= 0 ? fchmod(o.fd, perm) : fchmodat(o.parent, o.base, perm, 0);
        if (r < 0)
            return entry_fail(u, err, errno, "chmod %04o", (unsigned)perm);
    }
    const char *name;
    const void *val;
    size_t len;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &val, &len) == ARCHIVE_OK) {
        /* overlayfs reads trusted.overlay.* (user.overlay.* with userxattr) as its
         * own metadata: redirects, metacopy, opaque. A layer gets those only from
         * whiteout entries, never from a tar's xattrs. */
        if (strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0)
            continue;
        if (set_xattr(o, name, val, len) < 0) {
            /* The kernel allows user.* only on files and directories. */
            if (errno == EPERM && strncmp(name, "user.", 5) == 0 && type != S_IFREG && type != S_IFDIR)
                continue;
            return entry_fail(u, err, errno, "set xattr %s", name);
        }
    }
    return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
    ts[1].tv_sec = archive_entry_mtime(e);
    ts[1].tv_nsec = archive_entry_mtime_nsec(e);
    ts[0] = ts[1];
    /* As docker: the atime when the tar has one later than the mtime, else the mtime. */
    if (archive_entry_atime_is_set(e) &&
        (archive_entry_atime(e) > ts[1].tv_sec ||
         (archive_entry_atime(e) == ts[1].tv_sec && archive_entry_atime_nsec(e) > ts[1].tv_nsec))) {
        ts[0].tv_sec = archive_entry_atime(e);
        ts[0].tv_nsec = archive_entry_atime_nsec(e);
    }
}

static int set_times(struct unpack *u, struct obj o, struct archive_entry *e, husk_err **err)
{
    struct timespec ts[2];
    entry_times(e, ts);
    int r = o.fd >= 0 ? futimens(o.fd, ts) : utimensat(o.parent, o.base, ts, AT_SYMLINK_NOFOLLOW);
    return r < 0 ? entry_fail(u, err, errno, "set times") : 0;
}

/* ---- entries ---------------------------------------------------------------- */

static int write_data(struct unpack *u, int fd, struct archive_entry *e, husk_err **err)
{
    la_int64_t end = 0;   /* the file's size so far: the end of the last byte written */
    for (;;) {
        const void *p;
        size_t n;
        la_int64_t off;
        int r = archive_read_data_block(u->tar, &p, &n, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return entry_fail(u, err, 0, "read: %s", why(u->tar));
        /* pwrite at the block's offset: a sparse file's holes stay holes. */
        const char *c = p;
        while (n > 0) {
            ssize_t w = pwrite(fd, c, n, (off_t)off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return entry_fail(u, err, errno, "write");
            c += w;
            n -= (size_t)w;
            off += w;
            if (off > end)
                end = off;
        }
    }
    /* a sparse file's hole at its end is no write: the size says it */
    if (archive_entry_size_is_set(e) && archive_entry_size(e) != end &&
        ftruncate(fd, (off_t)archive_entry_size(e)) < 0)
        return entry_fail(u, err, errno, "truncate");
    u->size += (uint64_t)archive_entry_size(e);
    return 0;
}

static void remember_dir_time(struct unpack *u, const char *path, struct archive_entry *e)
{
    if (u->ndirs == u->dirs_cap) {
        u->dirs_cap = u->dirs_cap ? 2 * u->dirs_cap : 64;
        u->dirs = xrealloc(u->dirs, u->dirs_cap * sizeof(*u->dirs));
    }
    u->dirs[u->ndirs].path = xstrdup(path);
    entry_times(e, u->dirs[u->ndirs].ts);
    u->ndirs++;
}

static int make_dir(struct unpack *u, const char *path, int parent, const char *base, struct archive_entry *e,
                    husk_err **err)
{
    int r = make_room(u, parent, base, true);
    if (r < 0)
        return entry_fail(u, err, -r, "replace what is there");
    if (r == 0 && mkdirat(parent, base, 0700) < 0)
        return entry_fail(u, err, errno, "mkdir");
    _cleanup_close_ int fd = open_beneath(parent, base, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return entry_fail(u, err, errno, "open");
    struct obj o = { .fd = fd, .parent = parent, .base = base };
    if (set_owner_mode_xattrs(u, o, e, S_IFDIR, err) < 0)
        return -1;
    /* Times last of all: every later entry made inside would change the mtime. */
    remember_dir_time(u, path, e);
    return 0;
}

static int make_file(struct unpack *u, int parent, const char *base, struct archive_entry *e, husk_err **err)
{
    int r = make_room(u, parent, base, false);
    if (r < 0)
        return entry_fail(u, err, -r, "replace what is there");
    /* O_EXCL|O_NOFOLLOW: a name that exists (a symlink raced in) fails, never
     * writes through. */
    _cleanup_close_ int fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return entry_fail(u, err, errno, "create");
    if (write_data(u, fd, e, err) < 0)
        return -1;
    struct obj o = { .fd = fd, .parent = parent, .base = base };
    if (set_owner_mode_xattrs(u, o, e, S_IFREG, err) < 0)
        return -1;
    return set_times(u, o, e, err);
}

static int make_special(struct unpack *u, int parent, const char *base, struct archive_entry *e, mode_t type,
                        husk_err **err)
{
    int r = make_room(u, parent, base, false);
    if (r < 0)
        return entry_fail(u, err, -r, "replace what is there");
    if (type == S_IFLNK) {
        const char *target = archive_entry_symlink(e);
        if (!target || !*target)
            return entry_fail(u, err, 0, "symlink without a target");
        r = symlinkat(target, parent, base);
    } else {
        dev_t dev = type == S_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        r = mknodat(parent, base, type | 0600, dev);
    }
    if (r < 0)
        return entry_fail(u, err, errno, "create");
    struct obj o = { .fd = -1, .parent = parent, .base = base };
    if (set_owner_mode_xattrs(u, o, e, type, err) < 0)
        return -1;
    return set_times(u, o, e, err);
}

static int make_hardlink(struct unpack *u, int parent, const char *base, struct archive_entry *e, husk_err **err)
{
    _cleanup_free_ char *target = layer_clean_name(archive_entry_hardlink(e));
    _cleanup_free_ char *q = quote(archive_entry_hardlink(e));
    if (!target)
        return entry_fail(u, err, 0, "hard link target \"%s\": path leaves the layer", q);
    if (!*target)
        return entry_fail(u, err, 0, "hard link to the layer's root");
    /* The target is looked up beneath the root without following any symlink
     * (an absolute one is the layer's own path, as docker reads it): only
     * something this layer made can be linked, never a host file. */
    const char *tbase;
    _cleanup_free_ char *what = xasprintf("hard link target \"%s\": ", q);
    _cleanup_close_ int tparent = open_parent(u, target, false, what, &tbase, err);
    if (tparent < 0)
        return -1;
    struct stat st;
    if (fstatat(tparent, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return entry_fail(u, err, errno == ENOENT ? 0 : errno, "hard link target \"%s\": is not in the layer", q);
    if (S_ISDIR(st.st_mode))
        return entry_fail(u, err, EPERM, "hard link to a directory");
    /* Linking a name to itself: nothing to do (removing it first would lose it). */
    struct stat cur;
    if (fstatat(parent, base, &cur, AT_SYMLINK_NOFOLLOW) == 0 && cur.st_ino == st.st_ino && cur.st_dev == st.st_dev)
        return 0;
    int r = make_room(u, parent, base, false);
    if (r < 0)
        return entry_fail(u, err, -r, "replace what is there");
    /* flags 0: a symlink target is linked itself, not followed. */
    if (linkat(tparent, tbase, parent, base, 0) < 0)
        return entry_fail(u, err, errno, "hard link");
    /* The link shares its target's inode, owner, mode, xattrs and times: the
     * entry's own header changes none of them (as GNU tar and bsdtar extract). A
     * chown here would even clear the target's setuid bit and security.capability. */
    return 0;
}

/* ".wh.NAME": NAME was deleted; overlayfs spells that as a char 0/0 device. */
static int make_whiteout(struct unpack *u, int parent, const char *base, struct archive_entry *e, husk_err **err)
{
    const char *name = base + strlen(WH_PREFIX);
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return entry_fail(u, err, 0, "whiteout of nothing");
    int r = make_room(u, parent, name, false);
    if (r < 0)
        return entry_fail(u, err, -r, "replace what is there");
    if (mknodat(parent, name, S_IFCHR, makedev(0, 0)) < 0)
        return entry_fail(u, err, errno, "create whiteout");
    if (fchownat(parent, name, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
        return entry_fail(u, err, errno, "chown whiteout");
    return 0;
}

static int apply_entry(struct unpack *u, struct archive_entry *e, husk_err **err)
{
    u->name = archive_entry_pathname(e);
    if (!u->name)
        return entry_fail(u, err, 0, "no name");
    _cleanup_free_ char *path = layer_clean_name(u->name);
    if (!path)
        return entry_fail(u, err, 0, "path leaves the layer");
    mode_t type = archive_entry_filetype(e);
    const char *hard = archive_entry_hardlink(e);

    /* AUFS metadata at the top (.wh..wh.plnk, .wh..wh.aufs): skipped, as docker does. */
    if (strncmp(path, WH_META_PREFIX, strlen(WH_META_PREFIX)) == 0 && strcmp(path, WH_OPAQUE) != 0)
        return 0;

    if (!*path) {
        /* "./": the layer's root itself; only its metadata can change. */
        if (hard || type != AE_IFDIR)
            return entry_fail(u, err, 0, "the layer's root must be a directory");
        _cleanup_close_ int fd = open_beneath(u->rootfd, ".", O_RDONLY | O_DIRECTORY);
        if (fd < 0)
            return entry_fail(u, err, errno, "open the layer");
        struct obj o = { .fd = fd, .parent = u->rootfd, .base = "." };
        if (set_owner_mode_xattrs(u, o, e, S_IFDIR, err) < 0)
            return -1;
        remember_dir_time(u, "", e);
        return 0;
    }

    const char *base;
    int parent = cached_parent(u, path, &base, err);
    if (parent < 0)
        return -1;

    if (strcmp(base, WH_OPAQUE) == 0) {
        /* The directory hides what lower layers have in it. */
        if (fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) < 0)
            return entry_fail(u, err, errno, "set trusted.overlay.opaque");
        return 0;
    }
    if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0)
        return make_whiteout(u, parent, base, e, err);
    if (hard)
        return make_hardlink(u, parent, base, e, err);
    switch (type) {
    case AE_IFREG:
        return make_file(u, parent, base, e, err);
    case AE_IFDIR:
        return make_dir(u, path, parent, base, e, err);
    case AE_IFLNK:
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
        return make_special(u, parent, base, e, type, err);
    default:
        return entry_fail(u, err, 0, "unsupported entry type 0%o", (unsigned)type);
    }
}

/* Directory times, once nothing more is made inside them. */
static int apply_dir_times(struct unpack *u, husk_err **err)
{
    for (size_t i = 0; i < u->ndirs; i++) {
        struct dir_time *d = &u->dirs[i];
        u->name = d->path;
        const char *base = ".";
        _cleanup_close_ int parent = *d->path ? open_parent(u, d->path, false, "", &base, err)
                                              : open_beneath(u->rootfd, ".", O_RDONLY | O_DIRECTORY);
        if (parent < 0)
            return -1;
        struct stat st;
        /* A later entry may have replaced the directory: then its times are set. */
        if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (utimensat(parent, base, d->ts, AT_SYMLINK_NOFOLLOW) < 0)
            return entry_fail(u, err, errno, "set times");
    }
    return 0;
}

static int dir_is_empty(int dirfd)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -ENOMEM;
    }
    struct dirent *de;
    int empty = 1;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    closedir(d);
    return empty;
}

static int unpack_all(struct unpack *u, husk_err **err)
{
    bool empty;
    if (open_readers(u, &empty, err) < 0)
        return -1;
    if (empty)
        return 0;
    struct archive_entry *e;
    for (bool first = true;; first = false) {
        u->name = NULL;
        int r = archive_read_next_header(u->tar, &e);
        if (r == ARCHIVE_EOF)
            break;
        /* ARCHIVE_WARN is fine: e.g. a UTF-8 name our locale cannot show, whose bytes
         * libarchive keeps as they are. */
        if (r < ARCHIVE_WARN) {
            if (first && u->raw_eof && u->tar_bytes == 0)
                return 0;   /* a compressed empty stream: an empty layer */
            return husk_fail(err, 0, "read the tar: %s", why(u->tar));
        }
        if (apply_entry(u, e, err) < 0)
            return -1;
        if (first) {
            husk_kill_point("pull.during-unpack");
            if (u->src)
                husk_kill_point("pull.during-streamed-unpack");
        }
    }
    /* The DiffID covers the whole uncompressed stream, the zero blocks after the
     * tar's end included: drain them through the hash. */
    const void *p;
    while (!u->raw_eof && tar_read_cb(u->tar, u, &p) > 0)
        ;
    if (!u->raw_eof)
        return husk_fail(err, 0, "read the layer: %s", why(u->tar));
    u->name = NULL;
    return apply_dir_times(u, err);
}

int layer_unpack_fd(int fd, int dirfd, char **diff_id_out, uint64_t *size_out, husk_err **err)
{
    return layer_unpack_stream(fd, NULL, dirfd, diff_id_out, size_out, err);
}

int layer_unpack_stream(int fd, const struct layer_source *src, int dirfd, char **diff_id_out, uint64_t *size_out,
                        husk_err **err)
{
    int r = dir_is_empty(dirfd);
    if (r < 0)
        return husk_fail(err, -r, "read the layer directory");
    if (r == 0)
        return husk_fail(err, ENOTEMPTY, "unpack a layer");

    struct unpack *u = xcalloc(1, sizeof(*u));
    u->fd = fd;
    u->src = src;
    u->rootfd = dirfd;
    u->dir_fd = -1;
    u->md = EVP_MD_CTX_new();
    if (!u->md || EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1)
        abort();

    int ret = unpack_all(u, err);
    if (ret == 0) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        if (EVP_DigestFinal_ex(u->md, md, &n) != 1)
            abort();
        hex_encode(md, n, hex);
        if (diff_id_out)
            *diff_id_out = xasprintf("sha256:%s", hex);
        if (size_out)
            *size_out = u->size;
    } else {
        /* Nothing half-made stays: the directory is left as empty as it came. */
        tree_clear(dirfd);
    }
    if (u->tar)
        archive_read_free(u->tar);
    if (u->raw)
        archive_read_free(u->raw);
    EVP_MD_CTX_free(u->md);
    free(u->gz);
    if (u->dir_path)
        close(u->dir_fd);
    free(u->dir_path);
    for (size_t i = 0; i < u->ndirs; i++)
        free(u->dirs[i].path);
    free(u->dirs);
    free(u);
    return ret;
}

/* ---- removing trees ------------------------------------------------------- */

/* Remove what can be removed in fd; *sub gets the name of the first non-empty
 * subdirectory (to descend into), NULL when fd is now empty. */
static int clear_level(int fd, char **sub)
{
    *sub = NULL;
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -ENOMEM;
    }
    struct dirent *de;
    int ret = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(fd, de->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno != EISDIR && errno != EPERM) {
            ret = -errno;
            break;
        }
        if (unlinkat(fd, de->d_name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            continue;
        if (errno != ENOTEMPTY && errno != EEXIST) {
            ret = -errno;
            break;
        }
        *sub = xstrdup(de->d_name);
        break;
    }
    closedir(d);
    return ret;
}

int tree_clear(int dirfd)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char **stack = NULL;   /* names from dirfd down to fd */
    size_t depth = 0, cap = 0;
    int ret = 0;
    for (;;) {
        char *sub;
        ret = clear_level(fd, &sub);
        if (ret < 0)
            break;
        if (sub) {
            int next = openat(fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next < 0) {
                ret = -errno;
                free(sub);
                break;
            }
            close(fd);
            fd = next;
            if (depth == cap) {
                cap = cap ? 2 * cap : 16;
                stack = xrealloc(stack, cap * sizeof(*stack));
            }
            stack[depth++] = sub;
            continue;
        }
        if (depth == 0)
            break;
        /* fd is empty now: up (the tree is ours, nothing moves it) and remove it. */
        int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (up < 0) {
            ret = -errno;
            break;
        }
        close(fd);
        fd = up;
        char *name = stack[--depth];
        if (unlinkat(fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            ret = -errno;
        free(name);
        if (ret < 0)
            break;
    }
    close(fd);
    while (depth > 0)
        free(stack[--depth]);
    free(stack);
    return ret;
}

int tree_remove_at(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = tree_clear(fd);
    close(fd);
    if (r < 0)
        return r;
    return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}
