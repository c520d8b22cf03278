/* criu.h — `husk checkpoint` and `husk restore`: a running container's processes saved
 * to image files and brought back, by criu(8) driven through its command line.
 *
 * The flags and their meaning are runc's (runc-checkpoint(8), runc-restore(8)):
 * images go to --image-path (default ./checkpoint), criu's log (dump.log, restore.log)
 * to --work-path or the image directory. What the container sees of the host (bind
 * mounts, cgroup binds, devices bound from the host, masks, joined network and pid
 * namespaces) is named to criu as external, keyed by the path inside the container,
 * and given back on restore from the (possibly new) bundle's config. A checkpoint
 * without --leave-running or --pre-dump ends the container and deletes it; restore
 * makes the state directory and cgroups again, as create does, so state, kill, ps and
 * delete work on the restored container. */
#ifndef HUSK_CRIU_H
#define HUSK_CRIU_H

#include <stdbool.h>

#include "container.h"
#include "error.h"

struct criu_opts {
    const char *criu;          /* the criu program (global --criu), NULL: "criu" from PATH */
    const char *image_path;    /* NULL: ./checkpoint */
    const char *work_path;     /* NULL: criu's logs go to the image directory */
    const char *parent_path;   /* checkpoint: previous (pre-dump) images, relative to image_path */
    const char *cgroups_mode;  /* soft|full|strict|ignore, NULL: soft */
    bool leave_running, tcp_established, ext_unix_sk, shell_job, file_locks, pre_dump;
};

/* 0 if mode is NULL or one of criu's --manage-cgroups modes, else -1 (err set). */
int criu_check_cgroups_mode(const char *mode, husk_err **err);

/* Checkpoint a running (or paused) container. Without leave_running or pre_dump the
 * container's processes are gone afterwards and it is deleted (poststop hooks run).
 * A failure leaves the container as it was. */
int container_checkpoint(const char *root, const char *id, const struct criu_opts *o, husk_err **err);

/* Restore the container c (prepared as for create: bundle, config, flags) from the
 * images. On success c->pid is its init (husk's child) and its state says running.
 * On failure nothing is left: no state directory, cgroup, mount or process. */
int container_restore(struct husk_container *c, const struct criu_opts *o, husk_err **err);

#endif
