/* namespaces.h — the eight Linux namespaces of linux.namespaces.
 *
 * A namespace with a `path` is joined with setns(2) on an fd opened (and checked to
 * be a namespace of that type) in the parent, before anything is forked. A namespace
 * without a path is made new with unshare(2) in stage 1; pid and time namespaces only
 * apply to children, which is why stage 1 forks stage 2, the container's pid 1.
 * uid/gid maps of a new user namespace are written by the parent (which keeps its
 * privileges on the host), so the container can be root inside and an unprivileged
 * uid outside. */
#ifndef HUSK_NAMESPACES_H
#define HUSK_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>
#include "config.h"

struct ns_join {
    int fd[OCI_NS_COUNT];       /* -1 where not joined */
    bool host[OCI_NS_COUNT];    /* the joined namespace is husk's own (the host's) */
    uid_t root_uid;             /* joined user ns: the host ids its root maps to */
    gid_t root_gid;
};

/* Open every linux.namespaces[].path, checking with NS_GET_NSTYPE that each is a
 * namespace of the declared type, and note which of them are husk's own: "joining"
 * those shares the host's, and host-wide settings (hostname, sysctl) must then be
 * refused as if there were no namespace at all. */
int ns_open_joins(const struct oci_config *cfg, struct ns_join *j, husk_err **err);
void ns_close_joins(struct ns_join *j);

/* CLONE_NEW* flags of the namespaces to create (those without a path). */
int ns_new_flags(const struct oci_config *cfg);

/* setns() into every joined namespace: user first (it grants the privileges the
 * others need; we then become its root, as with a new one), mount last. */
int ns_join_all(struct ns_join *j, husk_err **err);

/* Parent: write /proc/PID/{uid_map,gid_map} from linux.uidMappings/gidMappings. */
int ns_write_id_maps(pid_t pid, const struct oci_linux *lx, husk_err **err);

/* Stage 1, after unshare(CLONE_NEWTIME) and before the first fork: timeOffsets. */
int ns_write_time_offsets(const struct oci_linux *lx, husk_err **err);

/* Host uid that container uid `id` maps to (identity when there is no user ns). */
uid_t ns_host_uid(const struct oci_config *cfg, uid_t id);
gid_t ns_host_gid(const struct oci_config *cfg, gid_t id);

/* In a new network namespace: bring its loopback device up (as runc does). */
int ns_loopback_up(husk_err **err);

#endif
