/* tartree.h — a directory tree into a tar (libarchive writer), never following a
 * symlink: what commit (a container's upper dir as a layer), export (the merged
 * rootfs) and cp (a path of the container or of the host) write. Internal to the
 * engine.
 *
 * Every object is reached by *at() calls from its parent's fd with O_NOFOLLOW, so a
 * tree that changes while it is read (a running container replacing a directory
 * with a symlink) can make the walk fail or see the new object, never leave the
 * tree. A regular file is read through the fd it was checked on; one that grows or
 * shrinks meanwhile is cut or padded to the size its header says. Hard links are
 * kept (the second name is a link to the first), symlinks are stored as symlinks,
 * sockets are skipped (tar has no such entry), xattrs are written as PAX
 * SCHILY.xattr records (as Go's archive/tar, so docker and podman read them) except
 * overlayfs's own trusted.overlay.* / user.overlay.*. Entries are sorted by name.
 * A directory whose every entry is excluded (it only holds mount points) is left
 * out too, unless it is opaque; an empty one is kept. */
#ifndef HUSK_ENGINE_TARTREE_H
#define HUSK_ENGINE_TARTREE_H

#include <stdbool.h>

#include "error.h"

struct archive;

struct tartree_opts {
    /* Read the tree as an overlayfs upper dir: a char 0/0 device (a deletion)
     * becomes an empty ".wh.NAME" entry, a directory with trusted.overlay.opaque=y
     * gets a ".wh..wh..opq" entry after its own, as the image spec's layers say. */
    bool overlay_upper;
    /* Names (as in the tar, without a leading "/") left out with everything below
     * them; NULL-terminated or NULL. */
    char *const *exclude;
    /* Owner of every entry (-1: each object's own). */
    long uid, gid;
};

struct tartree;

struct tartree *tartree_new(struct archive *a, const struct tartree_opts *o);
void tartree_free(struct tartree *t);

/* Add base (an entry of the directory parent, not followed) as `name`, and, for a
 * directory, everything in it as name/…. */
int tartree_add(struct tartree *t, int parent, const char *base, const char *name, husk_err **err);
/* Add what the directory dirfd holds (not the directory itself), as prefix/NAME
 * (prefix "": NAME). */
int tartree_add_contents(struct tartree *t, int dirfd, const char *prefix, husk_err **err);

/* A tar writer (PAX, SCHILY xattrs, no padding past the end blocks) onto fd. */
int tartree_writer_fd(int fd, struct archive **out, husk_err **err);
/* Finish and free a writer; returns 0 or -1 with libarchive's reason. */
int tartree_writer_close(struct archive *a, husk_err **err);

/* Is name (or a directory above it) in the NULL-terminated list? Entries of the
 * list may start with "/" and end with "/". */
bool tartree_excluded(char *const *exclude, const char *name);

#endif
