/* overlay.c — a container's rootfs as an overlay of its image's layers (overlay.h).
 *
 * mount(2) takes its options in one page (4096 bytes). Absolute lowerdir paths of
 * 64-hex layer directories (~80 bytes each) would stop at ~45 layers, so, as docker's
 * overlay2 does, the lower layers are named by their short links relative to ROOT
 * ("l/<26 chars>", 29 bytes with the ':') and the mount is made with the process's
 * working directory at ROOT: 120 layers take ~3.5 KiB. The working directory is put
 * back at once (the engine's processes are single-threaded; nothing else resolves a
 * relative path meanwhile). fsconfig(2) would not help before Linux 6.8 (lowerdir+):
 * it limits one string value to 256 bytes.
 *
 * Options fixed here, not left to the kernel's build defaults: redirect_dir=off and
 * metacopy=off keep the upper dir in the plain format that commit and diff read (a
 * renamed directory is copied up whole, a chmod copies the data up too), index=off
 * because nothing here needs hard-link-preserving copy-up across mounts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer.h"
#include "overlay.h"
#include "util.h"

#define PAGE_OPTS 4096

/* Is path the root of a mount? (its device differs from its parent's, or statx says
 * so: an overlay's st_dev always differs from the filesystem below it). */
static int is_mount_root(const char *path, bool *out, husk_err **err)
{
    struct statx sx;
    *out = false;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) < 0) {
        if (errno == ENOENT)
            return 0;
        return husk_fail(err, errno, "stat %s", path);
    }
    if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
        *out = (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
        return 0;
    }
    _cleanup_free_ char *parent = xasprintf("%s/..", path);
    struct stat a, b;
    if (stat(path, &a) < 0 || stat(parent, &b) < 0)
        return husk_fail(err, errno, "stat %s", path);
    *out = a.st_dev != b.st_dev || a.st_ino == b.st_ino;
    return 0;
}

static int mkdir_one(const char *dir, const char *name, mode_t mode, husk_err **err)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return husk_fail(err, errno, "mkdir %s", p);
    struct stat sb;
    if (lstat(p, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return husk_fail(err, errno ? errno : ENOTDIR, "%s is not a directory", p);
    return 0;
}

/* ctrdir relative to ROOT when it is below it (shorter options), else absolute. */
static const char *rel_to_root(const struct store *st, const char *ctrdir)
{
    size_t n = strlen(st->root);
    if (strncmp(ctrdir, st->root, n) == 0 && ctrdir[n] == '/' && ctrdir[n + 1])
        return ctrdir + n + 1;
    return ctrdir;
}

int overlay_mount(const struct store *st, char *const *layers, const char *ctrdir, husk_err **err)
{
    return overlay_mount_volatile(st, layers, ctrdir, false, err);
}

/* What a volatile mount leaves in the work dir (overlay.h). */
static int volatile_mark_remove(const char *ctrdir, husk_err **err)
{
    static const char *const left[] = { "work/work/incompat/volatile/dirty", "work/work/incompat/volatile" };
    for (size_t i = 0; i < ARRAY_SIZE(left); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", ctrdir, left[i]);
        if ((i == 0 ? unlink(p) : rmdir(p)) < 0 && errno != ENOENT)
            return husk_fail(err, errno, "overlay: remove %s", p);
    }
    return 0;
}

int overlay_mount_volatile(const struct store *st, char *const *layers, const char *ctrdir, bool is_volatile,
                           husk_err **err)
{
    if (!layers || !layers[0])
        return husk_fail(err, 0, "overlay %s: an image without layers", ctrdir);
    _cleanup_free_ char *bundle = xasprintf("%s/bundle", ctrdir);
    _cleanup_free_ char *target = xasprintf("%s/bundle/rootfs", ctrdir);
    if (mkdir_one(ctrdir, "upper", 0755, err) < 0 || mkdir_one(ctrdir, "work", 0700, err) < 0 ||
        mkdir_one(ctrdir, "bundle", 0700, err) < 0 || mkdir_one(bundle, "rootfs", 0755, err) < 0)
        return husk_err_prefix(err, "overlay");
    bool mounted;
    if (is_mount_root(target, &mounted, err) < 0)
        return husk_err_prefix(err, "overlay");
    if (mounted)
        return 0;
    if (volatile_mark_remove(ctrdir, err) < 0)
        return -1;

    size_t n = 0;
    while (layers[n])
        n++;
    /* lowerdir: top layer first. */
    size_t cap = PAGE_OPTS, len = 0;
    _cleanup_free_ char *opts = xmalloc(cap);
    len += (size_t)snprintf(opts, cap, "lowerdir=");
    for (size_t i = n; i-- > 0;) {
        _cleanup_free_ char *link = NULL;
        if (layer_short_link(st, layers[i], &link, err) < 0)
            return husk_err_prefix(err, "overlay %s", ctrdir);
        /* A link that does not resolve is a layer removed under the image. */
        _cleanup_free_ char *abs = xasprintf("%s/%s", st->root, link);
        if (access(abs, X_OK) < 0)
            return husk_fail(err, errno, "overlay %s: layer %s (%s)", ctrdir, layers[i], abs);
        size_t need = strlen(link) + 2;
        if (len + need >= cap)
            return husk_fail(err, E2BIG, "overlay %s: %zu layers do not fit the mount options", ctrdir, n);
        len += (size_t)snprintf(opts + len, cap - len, "%s%s", i == n - 1 ? "" : ":", link);
    }
    const char *rel = rel_to_root(st, ctrdir);
    int w = snprintf(opts + len, cap - len, ",upperdir=%s/upper,workdir=%s/work,redirect_dir=off,metacopy=off,index=off%s",
                     rel, rel, is_volatile ? ",volatile" : "");
    if (w < 0 || (size_t)w >= cap - len)
        return husk_fail(err, E2BIG, "overlay %s: %zu layers do not fit the mount options", ctrdir, n);

    /* The relative paths above are resolved against the working directory at the
     * mount(2) call: ROOT, and put back right after. */
    _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cwd < 0)
        return husk_fail(err, errno, "overlay %s: open the working directory", ctrdir);
    if (chdir(st->root) < 0)
        return husk_fail(err, errno, "overlay %s: chdir %s", ctrdir, st->root);
    /* The target is absolute: only the options are relative. */
    int r = mount("overlay", target, "overlay", 0, opts);
    if (r < 0 && errno == EINVAL && is_volatile) {
        /* a kernel before 5.10: the same overlay, synced at its unmount */
        opts[len + (size_t)w - strlen(",volatile")] = '\0';
        r = mount("overlay", target, "overlay", 0, opts);
    }
    int e = errno;
    if (fchdir(cwd) < 0)
        abort();   /* the engine would go on resolving paths from ROOT */
    if (r < 0)
        return husk_fail(err, e, "overlay %s: mount %zu layers on %s", ctrdir, n, target);
    return 0;
}

bool overlay_mounted(const char *ctrdir)
{
    _cleanup_free_ char *target = xasprintf("%s/bundle/rootfs", ctrdir);
    bool mounted = false;
    return is_mount_root(target, &mounted, NULL) == 0 && mounted;
}

int overlay_unmount(const char *ctrdir, husk_err **err)
{
    _cleanup_free_ char *target = xasprintf("%s/bundle/rootfs", ctrdir);
    bool mounted;
    if (is_mount_root(target, &mounted, err) < 0)
        return husk_err_prefix(err, "overlay");
    if (!mounted)
        return 0;
    if (umount2(target, UMOUNT_NOFOLLOW) == 0)
        return 0;
    /* Busy (a shell's cwd, an open file): detach it now, the kernel frees it once
     * the last user goes; the directory is free for the next mount at once. */
    if (errno == EBUSY && umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
        return 0;
    if (errno == EINVAL || errno == ENOENT)
        return 0;
    return husk_fail(err, errno, "overlay: unmount %s", target);
}
