/* ctr_fs.h — a container's filesystem seen from the host: `diff`, `export`, `cp`.
 *
 * diff reads the upper dir against the image's layers (no mount needed); export and
 * cp work on the merged rootfs, ROOT/containers/<id>/bundle/rootfs: the mount of a
 * running (or created) container, or one ctr_fs_open makes for the time of the
 * command and ctr_fs_close takes away.
 *
 * Every path of the container is resolved beneath its rootfs (openat2 with
 * RESOLVE_IN_ROOT): an absolute symlink in the container, or "../../..", resolves to
 * the container's own files as it would inside it, never to the host's. A name that
 * is created or replaced is never followed (its parent is resolved, the name itself
 * is made with O_EXCL|O_NOFOLLOW, mknodat, symlinkat), and modes are set through the
 * fd of what was made, so a container racing its own symlinks cannot make cp write
 * or chmod a host file. The host's side of cp is the user's own: its paths are
 * followed as cp(1) follows them, and what comes out of a container is written with
 * libarchive's secure extraction (no "..", no absolute name, no write through a
 * symlink the archive made). */
#ifndef HUSK_ENGINE_CTR_FS_H
#define HUSK_ENGINE_CTR_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "store.h"

/* A container's merged rootfs, open. */
struct ctr_fs {
    int rootfd;          /* the rootfs directory */
    char *ctrdir;
    bool mounted_here;   /* ctr_fs_close unmounts it */
};

/* Open ctrdir/bundle/rootfs, mounting the overlay of layers (chain ids, bottom
 * first) if it is not mounted. */
int ctr_fs_open(const struct store *st, char *const *layers, const char *ctrdir, struct ctr_fs *fs, husk_err **err);
void ctr_fs_close(struct ctr_fs *fs);

/* docker diff: 'A' added, 'C' changed (a directory: something below it changed, or
 * its owner or mode), 'D' deleted; paths absolute in the container, sorted. The
 * paths of exclude (volumes) and commit_always_excluded are left out. */
struct ctr_change {
    char kind;
    char *path;
};
int ctr_fs_diff(const struct store *st, char *const *layers, const char *ctrdir, char *const *exclude,
                struct ctr_change **out, size_t *n_out, husk_err **err);
void ctr_changes_free(struct ctr_change *v, size_t n);

/* docker export: a tar of the whole merged rootfs onto out_fd. */
int ctr_fs_export(const struct ctr_fs *fs, int out_fd, husk_err **err);

/* docker cp's options. */
struct ctr_cp_opts {
    bool follow_link;   /* -L: SRC's last component is followed if it is a symlink */
    bool archive;       /* -a: keep the owners (else: root in the container, the caller
                           on the host, as docker) */
    bool xattrs;        /* copy_out: the xattrs too (a volume filled from its image; not
                           cp's: a container's security.capability onto the host) */
};

/* docker cp CONTAINER:SRC DEST: src is a path in the container; dest a host path,
 * or "-" for a tar of SRC onto out_fd. The rules of docker's:
 *   SRC a file:  DEST missing: written as DEST (DEST ending in "/": an error);
 *                DEST a file: replaced; DEST a directory: DEST/basename(SRC)
 *   SRC a dir:   DEST missing: made, with SRC's contents; DEST a file: an error;
 *                DEST a directory: DEST/basename(SRC), or with SRC ending in "/."
 *                SRC's contents into DEST itself. */
int ctr_fs_copy_out(const struct ctr_fs *fs, const char *src, const char *dest, int out_fd,
                    const struct ctr_cp_opts *o, husk_err **err);
/* docker cp SRC CONTAINER:DEST, the same rules; src "-": a tar read from in_fd is
 * extracted into the directory DEST. */
int ctr_fs_copy_in(const struct ctr_fs *fs, const char *src, int in_fd, const char *dest,
                   const struct ctr_cp_opts *o, husk_err **err);

#endif
