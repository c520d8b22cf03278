/* paths.c — resolving and creating paths inside a container's rootfs.
 *
 * The rootfs comes from an image we do not trust: any component of a path inside
 * it may be a symlink, absolute ("/etc") or climbing ("../../.."). Resolving such a
 * path with the host's open(2) would land on the host's /etc. Everything here goes
 * through openat2(RESOLVE_IN_ROOT), where the kernel treats the rootfs fd as "/"
 * for the whole walk, symlinks included, and ".." can never climb above it.
 * See paths.h. */
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "newsys.h"
#include "util.h"

/* Symlinks followed while creating one path; the kernel's own limit is 40. */
#define MKPATH_MAX_LINKS 40

static int openat2_retry(int dirfd, const char *path, struct open_how *how)
{
    /* With RESOLVE_IN_ROOT the kernel returns EAGAIN when a rename or mount raced
     * with a ".." step and it cannot prove the walk stayed inside the root: retrying
     * is what the kernel asks for. */
    for (int i = 0; i < 64; i++) {
        int fd = husk_openat2(dirfd, path, how);
        if (fd >= 0 || errno != EAGAIN)
            return fd;
    }
    errno = EAGAIN;
    return -1;
}

int open_in_root(int rootfd, const char *path, int flags, mode_t mode, husk_err **err)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        /* openat2 insists on mode == 0 unless a file may be created. */
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        /* IN_ROOT: "/" and ".." are clamped to rootfd, for symlinks too.
         * NO_MAGICLINKS: /proc/self/fd/N style links jump anywhere: refuse them. */
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    /* An empty path means the root itself; openat2 wants "." for that. */
    const char *p = (path && *path) ? path : ".";

    int fd = openat2_retry(rootfd, p, &how);
    if (fd < 0)
        return husk_fail(err, errno, "open %s inside the rootfs", p);
    return fd;
}

char *fd_path(int fd, char *buf, size_t size)
{
    snprintf(buf, size, "/proc/self/fd/%d", fd);
    return buf;
}

char *path_clean(const char *path)
{
    size_t len = strlen(path ? path : "");
    char *out = xmalloc(len + 2);
    size_t o = 0;
    const char *p = path ? path : "";

    out[o++] = '/';
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);

        if (n == 1 && p[0] == '.') {
            /* "." adds nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            /* ".." drops the last component, and stops at "/" */
            if (o > 1) {
                o--; /* the '/' that ends the output */
                while (o > 1 && out[o - 1] != '/')
                    o--;
            }
        } else {
            memcpy(out + o, p, n);
            o += n;
            out[o++] = '/';
        }
        p = end;
    }
    if (o > 1)
        o--; /* no trailing slash, except for "/" itself */
    out[o] = '\0';
    return out;
}

/* Open one component `name` directly in dirfd, refusing to follow anything: used
 * right after we created it there ourselves, so what we open is what we made and
 * not a symlink swapped in since. */
static int open_created(int dirfd, const char *name)
{
    struct open_how how = {
        .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    return openat2_retry(dirfd, name, &how);
}

static int mkpath_walk(int rootfd, const char *path, bool is_dir, int depth, husk_err **err);

/* `name` in dirfd (reached as `prefix` from the root) exists as a dangling symlink:
 * create what it points to, inside the root, then carry on with `rest`. */
static int follow_dangling(int rootfd, int dirfd, const char *prefix, const char *name,
                           const char *rest, bool is_dir, int depth, husk_err **err)
{
    char target[4096];
    ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
    if (n < 0)
        return husk_fail(err, errno, "readlink %s/%s inside the rootfs", prefix, name);
    target[n] = '\0';

    /* An absolute target is relative to the root; a relative one to the directory
     * holding the link. The walk re-resolves it through the root from scratch. */
    _cleanup_free_ char *next = target[0] == '/'
        ? xasprintf("%s%s%s", target, *rest ? "/" : "", rest)
        : xasprintf("%s/%s%s%s", prefix, target, *rest ? "/" : "", rest);
    return mkpath_walk(rootfd, next, is_dir, depth + 1, err);
}

static int mkpath_walk(int rootfd, const char *path, bool is_dir, int depth, husk_err **err)
{
    if (depth > MKPATH_MAX_LINKS)
        return husk_fail(err, ELOOP, "create %s inside the rootfs", path);

    _cleanup_close_ int cur = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0, err);
    if (cur < 0)
        return -1;

    /* `prefix` is the path of `cur` as written (not resolved): resolving it again
     * through the root always lands on the same place `cur` came from. */
    _cleanup_free_ char *prefix = xstrdup("");
    const char *p = path;

    for (;;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchrnul(p, '/');
        _cleanup_free_ char *name = strndup(p, (size_t)(end - p));
        if (!name)
            return husk_fail(err, ENOMEM, "create %s", path);
        const char *rest = end;
        while (*rest == '/')
            rest++;
        bool last = *rest == '\0';
        bool want_dir = !last || is_dir;
        _cleanup_free_ char *next = xasprintf("%s/%s", prefix, name);

        /* Existing components, symlinks among them, are resolved by the kernel
         * with the rootfs as "/", so "etc -> /etc" means the rootfs' /etc. */
        struct open_how how = {
            .flags = O_PATH | O_CLOEXEC,
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = openat2_retry(rootfd, next, &how);
        if (fd < 0 && errno != ENOENT)
            return husk_fail(err, errno, "open %s inside the rootfs", next);

        if (fd < 0) {
            /* Missing: create it in the directory resolved so far (cur), never by a
             * path the host would resolve. mkdirat/O_EXCL do not follow a symlink in
             * the last position, so nothing outside cur is touched. */
            int r;
            if (want_dir) {
                r = mkdirat(cur, name, 0755);
            } else {
                r = openat(cur, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (r >= 0)
                    close(r);
            }
            if (r < 0 && errno == EEXIST) {
                /* ENOENT through the root but EEXIST here: a dangling symlink (or
                 * a racing creator). Follow a symlink inside the root; retry once
                 * for anything else by simply walking again. */
                struct stat st;
                if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                    return follow_dangling(rootfd, cur, prefix, name, rest, is_dir, depth, err);
                r = 0;
            }
            if (r < 0)
                return husk_fail(err, errno, "create %s inside the rootfs", next);
            fd = open_created(cur, name);
            if (fd < 0)
                return husk_fail(err, errno, "open %s inside the rootfs after creating it", next);
        }

        struct stat st;
        if (fstat(fd, &st) < 0) {
            int e = errno;
            close(fd);
            return husk_fail(err, e, "stat %s inside the rootfs", next);
        }
        if (want_dir && !S_ISDIR(st.st_mode)) {
            close(fd);
            return husk_fail(err, ENOTDIR, "%s inside the rootfs", next);
        }
        if (!want_dir && S_ISDIR(st.st_mode)) {
            close(fd);
            return husk_fail(err, EISDIR, "%s inside the rootfs: expected a file", next);
        }
        close(cur);
        cur = fd;
        free(prefix);
        prefix = steal_ptr(next);
        p = end;
    }

    if (!is_dir && prefix[0] == '\0')
        return husk_fail(err, EISDIR, "%s inside the rootfs: expected a file", path);
    return steal_fd(cur);
}

int mkpath_in_root(int rootfd, const char *path, bool is_dir, husk_err **err)
{
    /* Most paths exist already (the image's /proc, /dev, ...): one openat2 through
     * the root, which resolves exactly as the walk's last step would, instead of a
     * system call or three per component. Anything else is the walk's to handle
     * (creating what is missing, or saying what is wrong). */
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    struct stat st;
    int fd = openat2_retry(rootfd, path && *path ? path : "/", &how);
    if (fd >= 0) {
        if (fstat(fd, &st) == 0 && (is_dir ? S_ISDIR(st.st_mode) : !S_ISDIR(st.st_mode)))
            return fd;
        close(fd);
    }
    return mkpath_walk(rootfd, path ? path : "", is_dir, 0, err);
}
