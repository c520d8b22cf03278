/* namespaces.c — see namespaces.h. */
#include "namespaces.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/nsfs.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int ns_open_joins(const struct oci_config *cfg, struct ns_join *j, husk_err **err)
{
    for (int i = 0; i < OCI_NS_COUNT; i++)
        j->fd[i] = -1;
    if (!cfg->has_linux)
        return 0;
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
            close(fd);
            husk_fail(err, 0, "linux.namespaces[%zu].path: %s is not a %s namespace", i, ns->path,
                      ns_type_name(ns->type));
            goto fail;
        }
        j->fd[ns->type] = fd;
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
        if (fd < 0)
            continue;
        if (setns(fd, ns_clone_flag(order[i])) < 0)
            return husk_fail(err, errno, "join %s namespace", ns_type_name(order[i]));
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
