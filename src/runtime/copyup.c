/* copyup.c — crun's "tmpcopyup": a tmpfs mounted over a directory of the image
 * starts with a copy of what that directory held (podman --read-only puts such a
 * tmpfs on /tmp, /var/tmp and /run, so that the image's content there survives).
 *
 * mounts.c opens the directory before the tmpfs hides it; that fd still reaches
 * the hidden directory afterwards, and this file copies from it into the new
 * tmpfs. The source is the container's rootfs, whose content the image author
 * controls: every name is opened relative to its parent's fd with O_NOFOLLOW (a
 * symlink is copied as a symlink, never followed), so nothing outside the two
 * trees is read or written, and the depth is bounded so a deep tree cannot run
 * the stack or the fd table out. */
#include "copyup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define COPYUP_MAX_DEPTH 128

static int copy_meta_fd(int fd, const struct stat *st, const char *what, const char *name, husk_err **err)
{
    struct timespec ts[2] = { st->st_atim, st->st_mtim };
    if (fchown(fd, st->st_uid, st->st_gid) < 0)
        return husk_fail(err, errno, "%s: chown %s", what, name);
    /* After chown: chown clears the set-id bits fchmod puts back. */
    if (fchmod(fd, st->st_mode & 07777) < 0)
        return husk_fail(err, errno, "%s: chmod %s", what, name);
    if (futimens(fd, ts) < 0)
        return husk_fail(err, errno, "%s: set times of %s", what, name);
    return 0;
}

static int copy_file(int src, int dst, const char *name, const struct stat *st, const char *what,
                     husk_err **err)
{
    _cleanup_close_ int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (in < 0)
        return husk_fail(err, errno, "%s: open %s", what, name);
    _cleanup_close_ int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return husk_fail(err, errno, "%s: create %s", what, name);
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return husk_fail(err, errno, "%s: read %s", what, name);
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return husk_fail(err, errno, "%s: write %s", what, name);
            off += w;
        }
    }
    return copy_meta_fd(out, st, what, name, err);
}

static int copy_dir(int src, int dst, const char *what, unsigned depth, husk_err **err);

static int copy_entry(int src, int dst, const char *name, const char *what, unsigned depth, husk_err **err)
{
    struct stat st;
    if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return husk_fail(err, errno, "%s: stat %s", what, name);

    if (S_ISREG(st.st_mode))
        return copy_file(src, dst, name, &st, what, err);

    if (S_ISDIR(st.st_mode)) {
        if (depth >= COPYUP_MAX_DEPTH)
            return husk_fail(err, ELOOP, "%s: deeper than %d directories at %s", what, COPYUP_MAX_DEPTH, name);
        if (mkdirat(dst, name, 0700) < 0)
            return husk_fail(err, errno, "%s: mkdir %s", what, name);
        _cleanup_close_ int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0)
            return husk_fail(err, errno, "%s: open %s", what, name);
        _cleanup_close_ int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0)
            return husk_fail(err, errno, "%s: open %s", what, name);
        if (copy_dir(s, d, what, depth + 1, err) < 0)
            return husk_err_prefix(err, "%s", name);
        /* Mode last: a read-only source directory must not stop its own copy. */
        return copy_meta_fd(d, &st, what, name, err);
    }

    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
        if (n < 0)
            return husk_fail(err, errno, "%s: readlink %s", what, name);
        target[n] = '\0';
        if (symlinkat(target, dst, name) < 0)
            return husk_fail(err, errno, "%s: symlink %s", what, name);
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        if (fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            utimensat(dst, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
            return husk_fail(err, errno, "%s: owner/times of symlink %s", what, name);
        return 0;
    }

    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        if (mknodat(dst, name, st.st_mode & (S_IFMT | 0600), st.st_rdev) < 0)
            return husk_fail(err, errno, "%s: mknod %s", what, name);
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        if (fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(dst, name, st.st_mode & 07777, 0) < 0 || utimensat(dst, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
            return husk_fail(err, errno, "%s: owner/mode of %s", what, name);
        return 0;
    }

    return 0; /* a socket: meaningless without the process that bound it */
}

static int copy_dir(int src, int dst, const char *what, unsigned depth, husk_err **err)
{
    /* fdopendir takes the fd: give it its own, so the caller's stays open. */
    int dfd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return husk_fail(err, errno, "%s: open directory", what);
    DIR *d = fdopendir(dfd);
    if (!d) {
        int e = errno;
        close(dfd);
        return husk_fail(err, e, "%s: read directory", what);
    }
    int ret = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (copy_entry(src, dst, de->d_name, what, depth, err) < 0) {
            ret = -1;
            break;
        }
        errno = 0;
    }
    if (ret == 0 && errno != 0)
        ret = husk_fail(err, errno, "%s: read directory", what);
    closedir(d);
    return ret;
}

int copyup_tree(int src, int dst, bool root_meta, const char *what, husk_err **err)
{
    struct stat st;
    if (fstat(src, &st) < 0)
        return husk_fail(err, errno, "%s: stat", what);
    if (copy_dir(src, dst, what, 0, err) < 0)
        return -1;
    /* The tmpfs root takes the mode and owner of the directory it covers, unless
     * the mount's options chose them. */
    return root_meta ? copy_meta_fd(dst, &st, what, ".", err) : 0;
}
