/* namespaces.c — see namespaces.h. */
#include "namespaces.h"
#include "util.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/nsfs.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Whether fd is the same namespace as husk's own of that type. */
static bool is_own_ns(int fd, enum oci_ns_type t)
{
    struct stat a, b;
    _cleanup_free_ char *self = xasprintf("/proc/self/ns/%s", ns_proc_name(t));
    if (fstat(fd, &a) < 0 || stat(self, &b) < 0)
        return false;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Host id that id 0 maps to in a /proc/PID/{uid,gid}_map, read from the host: the
 * kernel prints each line as "inside outside count" with `outside` in the reader's
 * namespace. -1 if 0 is not mapped. */
static long map_root(pid_t pid, const char *file)
{
    _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
    FILE *f = fopen(path, "re");
    unsigned long in, out, n;
    long id = -1;
    while (f && fscanf(f, "%lu %lu %lu", &in, &out, &n) == 3)
        if (in == 0 && n > 0)
            id = (long)out;
    if (f)
        fclose(f);
    return id;
}

/* The host uid and gid that root of a joined user namespace maps to. A namespace fd
 * has no maps of its own to read: a short-lived child enters the namespace and waits,
 * and we read the child's maps from here. */
static int joined_root_ids(int userfd, const char *path, size_t idx, uid_t *uid, gid_t *gid, husk_err **err)
{
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
        return husk_fail(err, errno, "socketpair");
    pid_t pid = fork();
    if (pid < 0) {
        close(sp[0]);
        close(sp[1]);
        return husk_fail(err, errno, "fork");
    }
    if (pid == 0) {
        char c = setns(userfd, CLONE_NEWUSER) == 0 ? 0 : 1;
        close(sp[0]);
        if (write(sp[1], &c, 1) == 1)
            while (read(sp[1], &c, 1) < 0 && errno == EINTR)
                ;   /* until the parent is done reading our maps (EOF) */
        _exit(0);
    }
    close(sp[1]);
    char c = 1;
    long u = -1, g = -1;
    if (read_all(sp[0], &c, 1) == 1 && c == 0) {
        u = map_root(pid, "uid_map");
        g = map_root(pid, "gid_map");
    }
    close(sp[0]);
    waitpid(pid, NULL, 0);
    if (c != 0)
        return husk_fail(err, 0, "linux.namespaces[%zu].path: cannot enter user namespace %s", idx, path);
    /* Root of the namespace is who the container's setup runs as: without a mapping
     * for it there is no uid to become. */
    if (u < 0 || g < 0)
        return husk_fail(err, 0, "linux.namespaces[%zu].path: uid and gid 0 must be mapped in user namespace %s",
                         idx, path);
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    return 0;
}

/* What the namespaces' own settings need, checked before anything exists. */
static int ns_check_config(const struct oci_config *cfg, husk_err **err)
{
    const struct oci_linux *lx = &cfg->linux_;
    const struct oci_namespace *user = config_find_ns(cfg, OCI_NS_USER);
    const struct oci_namespace *time = config_find_ns(cfg, OCI_NS_TIME);

    if (user == NULL && (lx->n_uid_mappings > 0 || lx->n_gid_mappings > 0))
        return husk_fail(err, 0, "linux.%s: mappings are set but linux.namespaces has no \"user\" entry",
                         lx->n_uid_mappings > 0 ? "uidMappings" : "gidMappings");
    if (user && user->path == NULL && (lx->n_uid_mappings == 0 || lx->n_gid_mappings == 0))
        return husk_fail(err, 0, "linux.%s: required with a new user namespace",
                         lx->n_uid_mappings == 0 ? "uidMappings" : "gidMappings");
    /* Offsets can only be written into a time namespace no process has entered yet
     * (time_namespaces(7)): a new one, never a joined one. */
    if (lx->n_time_offsets > 0 && (time == NULL || time->path != NULL))
        return husk_fail(err, 0, "linux.timeOffsets: needs a new time namespace (a \"time\" entry without path "
                                 "in linux.namespaces)");
    return 0;
}

int ns_open_joins(const struct oci_config *cfg, struct ns_join *j, husk_err **err)
{
    for (int i = 0; i < OCI_NS_COUNT; i++) {
        j->fd[i] = -1;
        j->host[i] = false;
    }
    j->root_uid = 0;
    j->root_gid = 0;
    if (!cfg->has_linux)
        return 0;
    if (ns_check_config(cfg, err) < 0)
        return -1;
    for (size_t i = 0; i < cfg->linux_.n_namespaces; i++) {
        const struct oci_namespace *ns = &cfg->linux_.namespaces[i];
        if (ns->path == NULL)
            continue;
        int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            husk_fail(err, errno, "linux.namespaces[%zu].path: open %s", i, ns->path);
            goto fail;
        }
        /* A path that is not the namespace it claims to be would silently leave the
         * container sharing the host's: check the kernel's own idea of its type. */
        int type = ioctl(fd, NS_GET_NSTYPE);
        if (type < 0 || type != ns_clone_flag(ns->type)) {
            const char *is = NULL;
            for (int t = 0; type >= 0 && t < OCI_NS_COUNT; t++)
                if (ns_clone_flag((enum oci_ns_type)t) == type)
                    is = ns_type_name((enum oci_ns_type)t);
            close(fd);
            if (is)
                husk_fail(err, 0, "linux.namespaces[%zu].path: %s is a %s namespace, not a %s namespace", i,
                          ns->path, is, ns_type_name(ns->type));
            else
                husk_fail(err, 0, "linux.namespaces[%zu].path: %s is not a namespace", i, ns->path);
            goto fail;
        }
        j->fd[ns->type] = fd;
        j->host[ns->type] = is_own_ns(fd, ns->type);
        if (ns->type == OCI_NS_USER && !j->host[ns->type] &&
            joined_root_ids(fd, ns->path, i, &j->root_uid, &j->root_gid, err) < 0)
            goto fail;
    }
    return 0;
fail:
    ns_close_joins(j);
    return -1;
}

void ns_close_joins(struct ns_join *j)
{
    for (int i = 0; i < OCI_NS_COUNT; i++) {
        if (j->fd[i] >= 0)
            close(j->fd[i]);
        j->fd[i] = -1;
    }
}

int ns_new_flags(const struct oci_config *cfg)
{
    int flags = 0;
    if (!cfg->has_linux)
        return 0;
    for (size_t i = 0; i < cfg->linux_.n_namespaces; i++)
        if (cfg->linux_.namespaces[i].path == NULL)
            flags |= ns_clone_flag(cfg->linux_.namespaces[i].type);
    return flags;
}

int ns_join_all(struct ns_join *j, husk_err **err)
{
    /* user first: joining it gives us the capabilities over the namespaces it owns;
     * mount last: it changes our root and cwd. */
    static const enum oci_ns_type order[] = { OCI_NS_USER, OCI_NS_IPC, OCI_NS_UTS, OCI_NS_NETWORK,
                                              OCI_NS_PID, OCI_NS_CGROUP, OCI_NS_TIME, OCI_NS_MOUNT };
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        int fd = j->fd[order[i]];
        /* Our own user namespace cannot be "joined" (EINVAL): we are in it already. */
        if (fd < 0 || (order[i] == OCI_NS_USER && j->host[OCI_NS_USER]))
            continue;
        if (setns(fd, ns_clone_flag(order[i])) < 0)
            return husk_fail(err, errno, "join %s namespace", ns_type_name(order[i]));
        /* setns() gave us every capability in the joined user namespace, but our ids
         * are still the host's, unmapped there: become its root, as with a new one, so
         * that what the setup creates is owned by the container's root. gid first:
         * changing it needs CAP_SETGID, which a uid switch could take away. */
        if (order[i] == OCI_NS_USER && !j->host[OCI_NS_USER] &&
            (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
            return husk_fail(err, errno, "switch to root in the joined user namespace");
    }
    return 0;
}

static int write_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n, husk_err **err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return husk_fail(err, errno, "open_memstream");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
    fclose(f);
    _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
    /* The map must be written in one write(2): the kernel accepts exactly one. */
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
        return husk_fail(err, errno, "write %s", path);
    return 0;
}

int ns_write_id_maps(pid_t pid, const struct oci_linux *lx, husk_err **err)
{
    if (lx->n_uid_mappings == 0 || lx->n_gid_mappings == 0)
        return husk_fail(err, 0, "linux.uidMappings and linux.gidMappings are required with a new user namespace");
    if (write_map(pid, "uid_map", lx->uid_mappings, lx->n_uid_mappings, err) < 0)
        return -1;
    return write_map(pid, "gid_map", lx->gid_mappings, lx->n_gid_mappings, err);
}

int ns_write_time_offsets(const struct oci_linux *lx, husk_err **err)
{
    for (size_t i = 0; i < lx->n_time_offsets; i++) {
        const struct oci_time_offset *o = &lx->time_offsets[i];
        _cleanup_free_ char *line = xasprintf("%s %lld %u\n", o->clock, (long long)o->secs, o->nanosecs);
        if (write_file_at(AT_FDCWD, "/proc/self/timens_offsets", line, strlen(line), err) < 0)
            return husk_err_prefix(err, "linux.timeOffsets.%s", o->clock);
    }
    return 0;
}

static uint32_t map_id(const struct oci_id_mapping *m, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (id >= m[i].container_id && id - m[i].container_id < m[i].size)
            return m[i].host_id + (id - m[i].container_id);
    return (uint32_t)-1;
}

uid_t ns_host_uid(const struct oci_config *cfg, uid_t id)
{
    if (config_find_ns(cfg, OCI_NS_USER) == NULL || cfg->linux_.n_uid_mappings == 0)
        return id;
    return map_id(cfg->linux_.uid_mappings, cfg->linux_.n_uid_mappings, id);
}

gid_t ns_host_gid(const struct oci_config *cfg, gid_t id)
{
    if (config_find_ns(cfg, OCI_NS_USER) == NULL || cfg->linux_.n_gid_mappings == 0)
        return id;
    return map_id(cfg->linux_.gid_mappings, cfg->linux_.n_gid_mappings, id);
}

/* A new network namespace has only a loopback device, and it is down. runc and
 * crun bring it up (runc's "loopback" network of a new netns), and programs in a
 * container with no other network expect 127.0.0.1 to work. One ioctl on a socket
 * of the new namespace: no netlink needed. */
int ns_loopback_up(husk_err **err)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return husk_fail(err, errno, "socket for the loopback device");
    struct ifreq ifr = { 0 };
    strcpy(ifr.ifr_name, "lo");
    int r = 0;
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        r = husk_fail(err, errno, "loopback device: SIOCGIFFLAGS");
    else if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
            r = husk_fail(err, errno, "bring the loopback device up");
    }
    close(fd);
    return r;
}
