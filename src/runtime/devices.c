/* devices.c — /dev inside the container.
 *
 * The default devices the spec requires (null zero full random urandom tty), the
 * config's linux.devices, /dev/ptmx -> pts/ptmx, the /dev/fd and std{in,out,err}
 * links (and /dev/core -> /proc/kcore where the kernel has one), and the /dev/pts
 * and /dev/shm directories. Every node is made with
 * mknodat/symlinkat on a directory fd resolved inside the rootfs (paths.c), never
 * by a host path: the rootfs' /dev may be an image directory full of symlinks.
 * In a user namespace mknod is refused, so the host's node is bind-mounted onto an
 * empty file instead, as runc does. See devices.h. */
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mounts.h"
#include "newsys.h"
#include "paths.h"
#include "util.h"

struct dev_spec {
    const char *path;
    char type;
    unsigned major, minor;
    mode_t mode;
    bool has_uid, has_gid;
    uid_t uid;
    gid_t gid;
};

/* config-linux.md "Default Devices". /dev/console is the terminal's business. */
static const struct dev_spec default_devices[] = {
    { "/dev/null", 'c', 1, 3, 0666, false, false, 0, 0 },
    { "/dev/zero", 'c', 1, 5, 0666, false, false, 0, 0 },
    { "/dev/full", 'c', 1, 7, 0666, false, false, 0, 0 },
    { "/dev/random", 'c', 1, 8, 0666, false, false, 0, 0 },
    { "/dev/urandom", 'c', 1, 9, 0666, false, false, 0, 0 },
    { "/dev/tty", 'c', 5, 0, 0666, false, false, 0, 0 },
};

/* Open `name` in dirfd exactly, following nothing: the node we just made. */
static int open_exact(int dirfd, const char *name)
{
    struct open_how how = {
        .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    return husk_openat2(dirfd, name, &how);
}

static mode_t type_bits(char type)
{
    switch (type) {
    case 'c':
    case 'u':
        return S_IFCHR;
    case 'b':
        return S_IFBLK;
    case 'p':
        return S_IFIFO;
    default:
        return 0;
    }
}

static bool same_node(const struct stat *st, mode_t type, dev_t rdev)
{
    return (st->st_mode & S_IFMT) == type && (type == S_IFIFO || st->st_rdev == rdev);
}

/* mknod is not allowed (user namespace, or no CAP_MKNOD): bind-mount the host's
 * node at the same path onto an empty file. Its mode and owner are the host's and
 * are left alone: chmod through the bind would change the host's node. */
static int bind_host_node(int parentfd, const char *name, const char *path, mode_t type, dev_t rdev,
                          husk_err **err)
{
    struct stat st;
    _cleanup_close_ int tree = husk_open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0)
        return husk_fail(err, errno, "mknod %s not permitted, and host %s cannot be bound", path, path);
    /* Only ever the very device asked for, not whatever the host has at that path. */
    if (fstat(tree, &st) < 0)
        return husk_fail(err, errno, "stat host %s", path);
    if (!same_node(&st, type, rdev))
        return husk_fail(err, ENODEV, "host %s is not device %u:%u", path, major(rdev), minor(rdev));

    int f = openat(parentfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
    if (f < 0)
        return husk_fail(err, errno, "create %s", path);
    close(f);
    _cleanup_close_ int fd = open_exact(parentfd, name);
    if (fd < 0)
        return husk_fail(err, errno, "open %s", path);
    if (husk_move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return husk_fail(err, errno, "bind host %s onto %s", path, path);
    return 0;
}

/* devfd: the rootfs' /dev, used as it is for a node directly in it. */
static int make_device(int rootfd, int devfd, const struct dev_spec *d, husk_err **err)
{
    char link[64];
    struct stat st;
    mode_t type = type_bits(d->type);
    dev_t rdev = makedev(d->major, d->minor);

    if (type == 0)
        return husk_fail(err, EINVAL, "device %s: unknown type '%c'", d->path, d->type);
    _cleanup_free_ char *path = path_clean(d->path);
    if (strcmp(path, "/") == 0)
        return husk_fail(err, EINVAL, "device path %s", d->path);
    char *slash = strrchr(path, '/');
    const char *name = slash + 1;
    _cleanup_free_ char *parent = slash == path ? xstrdup("/") : strndup(path, (size_t)(slash - path));
    if (!parent)
        return husk_fail(err, ENOMEM, "device %s", path);

    _cleanup_close_ int own_parent = -1;
    int parentfd = devfd;
    if (strcmp(parent, "/dev") != 0) {
        parentfd = own_parent = mkpath_in_root(rootfd, parent, true, err);
        if (parentfd < 0)
            return husk_err_prefix(err, "device %s", path);
    }

    /* Something already there: the right node is kept, anything else replaced
     * (an image could ship /dev/null as a regular file, or a symlink). A mount
     * point (EBUSY) is a config mount that provides it: left alone. */
    struct statx stx;
    bool exists = statx(parentfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE, &stx) == 0;
    if (exists) {
        /* A config mount already put something here (a bind of the host's node,
         * say): chmod or chown through it would change the host's node. */
        if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
            return 0;
        st.st_mode = stx.stx_mode;
        st.st_rdev = makedev(stx.stx_rdev_major, stx.stx_rdev_minor);
        if (S_ISDIR(st.st_mode))
            return husk_fail(err, EISDIR, "device %s: a directory is in the way", path);
        if (!same_node(&st, type, rdev)) {
            if (unlinkat(parentfd, name, 0) < 0)
                return errno == EBUSY ? 0 : husk_fail(err, errno, "remove %s", path);
            exists = false;
        }
    }

    if (!exists && mknodat(parentfd, name, type | (d->mode & 07777), rdev) < 0) {
        if (errno == EPERM && type != S_IFIFO)
            return bind_host_node(parentfd, name, path, type, rdev, err);
        return husk_fail(err, errno, "mknod %s", path);
    }

    /* Mode and owner set on the node itself (mknod's mode went through the umask),
     * through an fd that cannot have been swapped for a symlink. */
    _cleanup_close_ int fd = open_exact(parentfd, name);
    if (fd < 0)
        return husk_fail(err, errno, "open %s", path);
    if (fstat(fd, &st) < 0)
        return husk_fail(err, errno, "stat %s", path);
    if (!same_node(&st, type, rdev))
        return husk_fail(err, EEXIST, "%s changed while being created", path);
    /* Only when different: an image's own matching node may belong to an id a user
     * namespace does not map, and need not be touched. */
    if ((st.st_mode & 07777) != (d->mode & 07777) && chmod(fd_path(fd, link, sizeof(link)), d->mode & 07777) < 0)
        return husk_fail(err, errno, "chmod %s", path);
    if (((d->has_uid && st.st_uid != d->uid) || (d->has_gid && st.st_gid != d->gid)) &&
        fchownat(fd, "", d->has_uid ? d->uid : (uid_t)-1, d->has_gid ? d->gid : (gid_t)-1, AT_EMPTY_PATH) < 0)
        return husk_fail(err, errno, "chown %s", path);
    return 0;
}

/* /dev/name -> target. With `replace`, whatever is there is swapped for the link
 * (except a mount point, which a config mount put there on purpose). */
static int dev_symlink(int devfd, const char *target, const char *name, bool replace, husk_err **err)
{
    if (replace && unlinkat(devfd, name, 0) < 0 && errno != ENOENT && errno != EBUSY)
        return husk_fail(err, errno, "remove /dev/%s", name);
    if (symlinkat(target, devfd, name) < 0 && errno != EEXIST)
        return husk_fail(err, errno, "symlink /dev/%s -> %s", name, target);
    return 0;
}

static int dev_dir(int devfd, const char *name, mode_t mode, husk_err **err)
{
    char link[64];
    if (mkdirat(devfd, name, 0755) < 0) {
        if (errno == EEXIST)
            return 0;
        return husk_fail(err, errno, "mkdir /dev/%s", name);
    }
    _cleanup_close_ int fd = open_exact(devfd, name);
    if (fd < 0 || chmod(fd_path(fd, link, sizeof(link)), mode) < 0)
        return husk_fail(err, errno, "chmod /dev/%s", name);
    return 0;
}

/* /dev bind-mounted from somewhere (the host's /dev for a "privileged" setup): its
 * nodes are not ours to create or replace. */
static bool dev_is_bind(const struct oci_config *cfg)
{
    bool bind = false;
    for (size_t i = 0; i < cfg->n_mounts; i++) {
        const struct oci_mount *m = &cfg->mounts[i];
        if (m->destination == NULL)
            continue;
        _cleanup_free_ char *dest = path_clean(m->destination);
        if (strcmp(dest, "/dev") != 0)
            continue;
        struct mount_opts o;
        mount_opts_parse(m->options, &o);
        bind = o.bind || o.rbind || (m->type && strcmp(m->type, "bind") == 0);
        mount_opts_free(&o);
    }
    return bind;
}

static bool in_config(const struct oci_linux *l, const char *path)
{
    for (size_t i = 0; i < l->n_devices; i++) {
        if (l->devices[i].path == NULL)
            continue;
        _cleanup_free_ char *a = path_clean(l->devices[i].path);
        _cleanup_free_ char *b = path_clean(path);
        if (strcmp(a, b) == 0)
            return true;
    }
    return false;
}

/* The default nodes, then linux.devices. */
static int make_devices(int rootfd, int devfd, const struct oci_config *cfg, husk_err **err)
{
    for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
        /* A config entry for the same path wins (its mode or owner may differ). */
        if (cfg && in_config(&cfg->linux_, default_devices[i].path))
            continue;
        if (make_device(rootfd, devfd, &default_devices[i], err) < 0)
            return -1;
    }

    for (size_t i = 0; cfg && i < cfg->linux_.n_devices; i++) {
        const struct oci_device *d = &cfg->linux_.devices[i];
        if (d->path == NULL)
            return husk_fail(err, EINVAL, "linux.devices[%zu]: no path", i);
        if (d->major < 0 || d->minor < 0 || d->major > UINT32_MAX || d->minor > UINT32_MAX)
            return husk_fail(err, EINVAL, "linux.devices[%zu] (%s): bad major:minor", i, d->path);
        struct dev_spec s = {
            .path = d->path,
            .type = d->type,
            .major = (unsigned)d->major,
            .minor = (unsigned)d->minor,
            .mode = d->has_file_mode ? d->file_mode : 0666,
            .has_uid = d->has_uid,
            .has_gid = d->has_gid,
            .uid = d->uid,
            .gid = d->gid,
        };
        if (make_device(rootfd, devfd, &s, err) < 0)
            return husk_err_prefix(err, "linux.devices[%zu]", i);
    }
    return 0;
}

int devices_setup(struct husk_container *c, int rootfd, husk_err **err)
{
    const struct oci_config *cfg = c->config;
    if (cfg && dev_is_bind(cfg))
        return 0;

    /* Without a /dev mount in the config, the rootfs' own /dev is used as it is:
     * created if the image has none. */
    _cleanup_close_ int devfd = mkpath_in_root(rootfd, "/dev", true, err);
    if (devfd < 0)
        return husk_err_prefix(err, "/dev");

    /* The nodes' modes exactly as given: with no umask, mknod makes them right and
     * no chmod is needed after (the process's own umask is set later, by
     * process_setup_user). */
    mode_t old_umask = umask(0);
    int r = make_devices(rootfd, devfd, cfg, err);
    umask(old_umask);
    if (r < 0)
        return -1;

    /* Directories a devpts and a shm mount usually go on; /dev/shm is usable for
     * everyone (sticky) if no tmpfs comes on top. */
    if (dev_dir(devfd, "pts", 0755, err) < 0 || dev_dir(devfd, "shm", 01777, err) < 0)
        return -1;

    /* The pty multiplexer of the container's own devpts instance, not the host's:
     * any node at /dev/ptmx is replaced by the link. */
    if (dev_symlink(devfd, "pts/ptmx", "ptmx", true, err) < 0)
        return -1;
    if (dev_symlink(devfd, "/proc/self/fd", "fd", false, err) < 0 ||
        dev_symlink(devfd, "/proc/self/fd/0", "stdin", false, err) < 0 ||
        dev_symlink(devfd, "/proc/self/fd/1", "stdout", false, err) < 0 ||
        dev_symlink(devfd, "/proc/self/fd/2", "stderr", false, err) < 0)
        return -1;
    /* /dev/core -> /proc/kcore, as runc makes it, only where the kernel has a
     * kcore at all (CONFIG_PROC_KCORE; the host's /proc still tells at this point):
     * a dangling link would only confuse. It is masked by the default config. */
    if (access("/proc/kcore", F_OK) == 0 && dev_symlink(devfd, "/proc/kcore", "core", false, err) < 0)
        return -1;
    return 0;
}
