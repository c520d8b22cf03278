/* mounts.h — the config's mounts, in order: bind/rbind (all options), tmpfs, proc,
 * sysfs, devpts, mqueue, cgroup, and any other filesystem type by name.
 * Destinations are created as needed and resolved inside the rootfs (paths.h). */
#ifndef HUSK_MOUNTS_H
#define HUSK_MOUNTS_H

#include <stdbool.h>
#include "container.h"

/* Parsed mount options (exposed for unit tests). */
struct mount_opts {
    unsigned long flags;       /* MS_* set (never MS_BIND/MS_REC: see bind, rbind) */
    unsigned long clear;       /* MS_* explicitly cleared (rw, suid, dev, exec, atime...) */
    unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC) or 0 */
    bool bind, rbind, recursive_ro;
    bool has_atime_attr;       /* recursive atime options (ratime, rnoatime, ...) */
    unsigned long attr_set, attr_clr; /* MOUNT_ATTR_* for mount_setattr (rro, rnosuid, ...) */
    bool idmap, ridmap;        /* idmapped mounts (mount_sources.h) */
    bool tmpcopyup;            /* crun's tmpcopyup: a tmpfs starts with a copy of what it covers */
    char *data;                /* comma-joined options passed to the filesystem, or NULL */
};
/* Parse options; unknown ones go to data. Never fails on unknown options. */
void mount_opts_parse(char *const *options, struct mount_opts *out);
void mount_opts_free(struct mount_opts *o);
/* The i-th option name of the table mount_opts_parse() uses, NULL past the end (for
 * `husk features`). *applied: whether husk applies it (every name in the table
 * now is, idmap and ridmap included). */
const char *mount_opt_name_at(size_t i, bool *applied);

/* src_fds (NULL, or one per mount, -1 where none): source trees the runtime opened
 * (mount_sources.h); each one used is taken (set to -1). */
int mounts_setup(struct husk_container *c, int rootfd, int *src_fds, husk_err **err);

/* True if the last mount on /dev asks for "ro": mounts_setup mounts it writable so
 * that mount points and device nodes can be made in it; rootfs_finalize then makes
 * it read-only. */
bool mounts_dev_readonly(const struct oci_config *cfg);
/* True if the config has a mount whose destination is `dest` (e.g. "/dev"). */
bool mounts_has_destination(const struct oci_config *cfg, const char *dest);

#endif
