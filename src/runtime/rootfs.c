/* rootfs.c — the container's root: propagation, pivot_root, and the final
 * touches (maskedPaths, readonlyPaths, root.readonly, rootfsPropagation).
 * See rootfs.h for where each step sits in stage 2. */
#include "rootfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "newsys.h"
#include "mounts.h"
#include "paths.h"
#include "util.h"

/* linux.rootfsPropagation → MS_*, with MS_REC for the "r" forms; 0 when unset,
 * -1 for unknown. */
static long propagation_flag(const char *name)
{
    static const struct { const char *name; unsigned long flag; } t[] = {
        { "shared", MS_SHARED },     { "rshared", MS_SHARED | MS_REC },
        { "slave", MS_SLAVE },       { "rslave", MS_SLAVE | MS_REC },
        { "private", MS_PRIVATE },   { "rprivate", MS_PRIVATE | MS_REC },
        { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
    };
    if (name == NULL || *name == '\0')
        return 0;
    for (size_t i = 0; i < ARRAY_SIZE(t); i++)
        if (strcmp(t[i].name, name) == 0)
            return (long)t[i].flag;
    return -1;
}

static const char *rootfs_propagation(const struct husk_container *c)
{
    return c->config ? c->config->linux_.rootfs_propagation : NULL;
}

int rootfs_prepare(struct husk_container *c, husk_err **err)
{
    long prop = propagation_flag(rootfs_propagation(c));
    if (prop < 0)
        return husk_fail(err, EINVAL, "linux.rootfsPropagation: unknown value \"%s\"", rootfs_propagation(c));
    prop &= ~(long)MS_REC; /* here always applied to every mount */

    /* Our mount namespace is a copy of the host's, and the copies of shared mounts
     * are still peers of the host's: anything we mount would appear on the host.
     * Making every mount a slave cuts that direction while still receiving the
     * host's later mounts. Done first, before any mount of ours. Even for
     * "shared" (made so in rootfs_finalize, once inside the rootfs: our mounts are
     * then shared with each other, never pushed back to the host). */
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return husk_fail(err, errno, "make / rslave");
    /* private/unbindable as asked, on every mount: rprivate also stops the host's
     * mounts from coming in. "unbindable" is private for now: the rootfs still has
     * to be bind-mounted onto itself below, which an unbindable source refuses
     * (EINVAL); rootfs_finalize makes it unbindable once everything is in place. */
    if (prop == MS_UNBINDABLE)
        prop = MS_PRIVATE;
    if (prop != 0 && prop != MS_SHARED && prop != MS_SLAVE &&
        mount(NULL, "/", NULL, (unsigned long)prop | MS_REC, NULL) < 0)
        return husk_fail(err, errno, "set propagation of / to %s", rootfs_propagation(c));

    /* pivot_root needs the new root to be a mount point; a recursive bind of the
     * rootfs onto itself makes it one, with everything already mounted below it. */
    if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return husk_fail(err, errno, "bind mount rootfs %s onto itself", c->rootfs);

    int fd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return husk_fail(err, errno, "open rootfs %s", c->rootfs);
    return fd;
}

/* mountinfo escapes blanks and backslashes as \ooo. */
static void unescape_mountinfo(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* --no-pivot leaves the host's tree in our mount namespace, under the chroot. The
 * kernel lets a user namespace mount a fresh procfs or sysfs when a full one is
 * already visible in its mount namespace (mount_too_revealing): the host's /proc,
 * still there though out of reach, would be that one, and the fresh procfs would
 * have none of the container's masks (/proc/sysrq-trigger, /proc/kcore ...). So,
 * as runc does, detach every full procfs and sysfs outside the rootfs first; one we
 * may not detach gets a tmpfs over it. Our mounts are slaves (rootfs_prepare): none
 * of this reaches the host. */
static int hide_host_procfs_sysfs(const char *rootfs, husk_err **err)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL)
        return husk_fail(err, errno, "open /proc/self/mountinfo");
    size_t rl = strlen(rootfs);
    char **points = NULL;
    size_t n = 0;
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    /* "36 35 98:0 /root /mnt/point rw,... shared:1 - fstype source super" */
    while (getline(&line, &cap, f) > 0) {
        char *fields[5], *save = NULL, *p = line;
        size_t k = 0;
        for (char *t; k < 5 && (t = strtok_r(p, " ", &save)); p = NULL)
            fields[k++] = t;
        char *dash = strstr(save ? save : "", " - ");
        if (k < 5 || dash == NULL)
            continue;
        char *type = strtok_r(dash + 3, " ", &save);
        if (type == NULL || strcmp(fields[3], "/") != 0 || (strcmp(type, "proc") != 0 && strcmp(type, "sysfs") != 0))
            continue;
        unescape_mountinfo(fields[4]);
        if (strncmp(fields[4], rootfs, rl) == 0 && (fields[4][rl] == '/' || fields[4][rl] == '\0'))
            continue;
        points = xrealloc(points, (n + 1) * sizeof *points);
        points[n++] = xstrdup(fields[4]);
    }
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        if (r == 0 && umount2(points[i], MNT_DETACH) < 0 && errno != ENOENT) {
            /* EINVAL: no longer a mount point (gone with its parent); EPERM: locked. */
            if ((errno == EPERM || errno == EINVAL) && mount("tmpfs", points[i], "tmpfs", MS_RDONLY, "size=0") < 0 &&
                errno != ENOENT)
                r = husk_fail(err, errno, "--no-pivot: hide the host's %s", points[i]);
        }
        free(points[i]);
    }
    free(points);
    return r;
}

int rootfs_pivot(struct husk_container *c, int rootfd, husk_err **err)
{
    if (fchdir(rootfd) < 0)
        return husk_fail(err, errno, "chdir to rootfs %s", c->rootfs);

    if (c->no_pivot) {
        /* --no-pivot: move the rootfs mount over / and chroot into it. Weaker than
         * pivot_root: the old root stays mounted underneath, and a process keeping
         * CAP_SYS_CHROOT can chroot its way back out to it. For ramfs roots where
         * pivot_root is impossible. */
        if (hide_host_procfs_sysfs(c->rootfs, err) < 0)
            return -1;
        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
            return husk_fail(err, errno, "move rootfs %s onto /", c->rootfs);
        if (chroot(".") < 0)
            return husk_fail(err, errno, "chroot into %s", c->rootfs);
        if (chdir("/") < 0)
            return husk_fail(err, errno, "chdir to / in the rootfs");
        return 0;
    }

    /* The old root, held by fd: after pivot_root it is stacked on top of the new
     * root, and a path lookup of "." from our cwd yields the mount *below* (the
     * rootfs), not it. Changing propagation through "." would hit the rootfs tree
     * and silently undo every "shared" mount option of the config. */
    _cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (oldroot < 0)
        return husk_fail(err, errno, "open the old root");

    /* pivot_root(".", "."): the old root ends up mounted on top of the new one, at
     * ".", so no put_old directory is needed inside the rootfs. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return husk_fail(err, errno, "pivot_root into %s (a rootfs on ramfs needs --no-pivot)", c->rootfs);

    /* The old root is already rslave (or rprivate) since rootfs_prepare; make sure
     * again, on the old root itself, that detaching it cannot propagate an unmount
     * to the host, then drop it: the host's filesystem is gone from the container's
     * view. umount2 resolves "." with LOOKUP_MOUNTPOINT, i.e. the top of the stack:
     * the old root. */
    struct mount_attr slave = { .propagation = MS_SLAVE };
    if (husk_mount_setattr(oldroot, "", AT_EMPTY_PATH | AT_RECURSIVE, &slave, sizeof(slave)) < 0)
        return husk_fail(err, errno, "make the old root rslave");
    closep(&oldroot);
    if (umount2(".", MNT_DETACH) < 0)
        return husk_fail(err, errno, "detach the old root");
    if (chdir("/") < 0)
        return husk_fail(err, errno, "chdir to / in the rootfs");
    return 0;
}

/* Hide a directory under an empty, read-only tmpfs. Built detached with the new
 * mount API and attached onto the fd we resolved: no dependence on the
 * container's /proc being mounted for /proc/self/fd. */
static int mask_dir(int destfd, const char *path, husk_err **err)
{
    _cleanup_close_ int fs = husk_fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0)
        return husk_fail(err, errno, "mask %s: fsopen tmpfs", path);
    if (husk_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return husk_fail(err, errno, "mask %s: create tmpfs", path);
    _cleanup_close_ int mnt = husk_fsmount(fs, FSMOUNT_CLOEXEC,
                                      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                          MOUNT_ATTR_NOEXEC);
    if (mnt < 0)
        return husk_fail(err, errno, "mask %s: fsmount tmpfs", path);
    if (husk_move_mount(mnt, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return husk_fail(err, errno, "mask %s: mount tmpfs", path);
    return 0;
}

/* Hide a file behind the null device. */
static int mask_file(int nullfd, int destfd, const char *path, husk_err **err)
{
    _cleanup_close_ int tree = husk_open_tree(nullfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0)
        return husk_fail(err, errno, "mask %s: clone /dev/null", path);
    if (husk_move_mount(tree, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return husk_fail(err, errno, "mask %s: bind /dev/null", path);
    return 0;
}

/* The container's /dev/null, checked to really be the null device: if an image
 * (or a racing process) made /dev/null a symlink to, say,
 * /proc/sys/kernel/core_pattern, "masking" with it would instead expose that file
 * at every masked path (the CVE-2025-31133 class). */
static int open_null(int rootfd, husk_err **err)
{
    struct stat st;
    _cleanup_close_ int fd = open_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0, err);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        return husk_fail(err, errno, "stat /dev/null");
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        return husk_fail(err, EPERM, "/dev/null in the container is not the null device (1:3)");
    return steal_fd(fd);
}

/* open_in_root(), where a missing path is not an error: returns -2 for ENOENT. */
static int open_if_exists(int rootfd, const char *path, husk_err **err)
{
    _cleanup_err_ husk_err *e = NULL;
    int fd = open_in_root(rootfd, path, O_PATH, 0, &e);
    if (fd >= 0)
        return fd;
    if (e->errnum == ENOENT)
        return -2;
    if (err) {
        husk_err_free(err);
        *err = steal_ptr(e);
    }
    return -1;
}

static int mask_paths(const struct oci_linux *l, int rootfd, husk_err **err)
{
    _cleanup_close_ int nullfd = -1;

    for (size_t i = 0; l->masked_paths && l->masked_paths[i]; i++) {
        const char *path = l->masked_paths[i];
        struct stat st;

        /* Resolved inside the root: a symlink in the image cannot point a mask at
         * something else than what the container itself would reach. */
        _cleanup_close_ int fd = open_if_exists(rootfd, path, err);
        if (fd == -2)
            continue;
        if (fd < 0)
            return husk_err_prefix(err, "maskedPaths");
        if (fstat(fd, &st) < 0)
            return husk_fail(err, errno, "maskedPaths: stat %s", path);
        if (S_ISDIR(st.st_mode)) {
            if (mask_dir(fd, path, err) < 0)
                return husk_err_prefix(err, "maskedPaths");
            continue;
        }
        if (nullfd < 0 && (nullfd = open_null(rootfd, err)) < 0)
            return husk_err_prefix(err, "maskedPaths: %s", path);
        if (mask_file(nullfd, fd, path, err) < 0)
            return husk_err_prefix(err, "maskedPaths");
    }
    return 0;
}

/* Read-only paths: a recursive clone of the path, made read-only while still
 * detached, then mounted over itself. mount_setattr only adds MOUNT_ATTR_RDONLY:
 * nosuid/nodev/noexec and any flag locked by a user namespace stay as they are, and
 * sub-mounts below the path are read-only too. */
static int readonly_paths(const struct oci_linux *l, int rootfd, husk_err **err)
{
    for (size_t i = 0; l->readonly_paths && l->readonly_paths[i]; i++) {
        const char *path = l->readonly_paths[i];
        _cleanup_close_ int fd = open_if_exists(rootfd, path, err);
        if (fd == -2)
            continue;
        if (fd < 0)
            return husk_err_prefix(err, "readonlyPaths");

        _cleanup_close_ int tree =
            husk_open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree < 0)
            return husk_fail(err, errno, "readonlyPaths: clone %s", path);
        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
        if (husk_mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
            return husk_fail(err, errno, "readonlyPaths: make %s read-only", path);
        if (husk_move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
            return husk_fail(err, errno, "readonlyPaths: mount %s over itself", path);
    }
    return 0;
}

int rootfs_finalize(struct husk_container *c, husk_err **err)
{
    const struct oci_config *cfg = c->config;

    /* We are inside the rootfs now: "/" is its root. */
    _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return husk_fail(err, errno, "open /");
    if (cfg == NULL)
        return 0;

    if (mask_paths(&cfg->linux_, rootfd, err) < 0)
        return -1;
    if (readonly_paths(&cfg->linux_, rootfd, err) < 0)
        return -1;

    /* A read-only /dev, now that everything under it is in place (mounts.h). Only
     * the /dev mount itself: devpts, shm and mqueue below keep their options. */
    if (mounts_dev_readonly(cfg)) {
        _cleanup_close_ int dev = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, err);
        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
        if (dev < 0)
            return -1;
        if (husk_mount_setattr(dev, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
            return husk_fail(err, errno, "make /dev read-only");
    }

    /* root.readonly: only the rootfs mount itself, like runc; mounts made on top of
     * it keep their own options. Flags other than rdonly are untouched. */
    if (cfg->root.readonly) {
        /* A missing process.cwd is created (process_setup_cwd); on a read-only root
         * that has to happen now, before the remount, as runc does. Any other
         * problem with the cwd is process_setup_cwd's to report. */
        const char *cwd = cfg->process.cwd;
        if (cwd && cwd[0]) {
            _cleanup_err_ husk_err *e = NULL;
            _cleanup_close_ int fd = open_in_root(rootfd, cwd, O_PATH | O_DIRECTORY, 0, &e);
            if (fd < 0 && e->errnum == ENOENT && (fd = mkpath_in_root(rootfd, cwd, true, err)) < 0)
                return husk_err_prefix(err, "create cwd \"%s\"", cwd);
        }
        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
        if (husk_mount_setattr(rootfd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
            return husk_fail(err, errno, "make the rootfs read-only");
    }

    /* rootfsPropagation, now that the mounts in the rootfs are in place: for
     * "shared" this is the point where the rootfs becomes a peer group of its own
     * (still a slave of the host, so nothing flows back there). The plain forms
     * set the rootfs mount alone, as the spec words it, so a config mount's own
     * propagation option ("shared" on a bind under a "private" rootfs) stands;
     * the "r" forms (rshared, ...) set every mount in the container. */
    long prop = propagation_flag(cfg->linux_.rootfs_propagation);
    if (prop < 0)
        return husk_fail(err, EINVAL, "linux.rootfsPropagation: unknown value \"%s\"",
                         cfg->linux_.rootfs_propagation);
    if (prop != 0 && mount(NULL, "/", NULL, (unsigned long)prop, NULL) < 0)
        return husk_fail(err, errno, "set propagation of / to %s", cfg->linux_.rootfs_propagation);
    return 0;
}
