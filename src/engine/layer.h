/* layer.h — image layers, each unpacked once into its own directory and shared.
 *
 *   ROOT/layers/<chain hex>/diff    the layer's files, in overlayfs's format: a
 *                                   deleted path is a char 0/0 device, an opaque
 *                                   directory has trusted.overlay.opaque=y
 *   ROOT/layers/<chain hex>/link    the short name of this layer (26 chars)
 *   ROOT/layers/<chain hex>/meta.json  {"diffID", "parent" (chain id or absent), "size", "blob"}
 *   ROOT/l/<short>  ->  ../layers/<chain hex>/diff   (short lowerdir names, so an
 *                                   image of 100+ layers fits overlayfs's mount options)
 *
 * Chain ids as the OCI image spec defines them (config.md): ChainID(L0) = DiffID(L0),
 * ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). A layer is unpacked into
 * ROOT/layers/.tmp-XXXXXX (flock'ed by its maker while it lives) and renamed into place
 * only when whole, under a per-layer lock (ROOT/layers/<chain hex>.lock, flock), so two
 * pulls sharing a layer unpack it once and a killed unpack leaves nothing that a later
 * one would take for whole (a .tmp-* nobody holds is removed by the next ensure).
 * Each layer is unpacked into its own empty directory, independently of the layers
 * below it (overlayfs merges them), so layers may be unpacked in parallel and a lower
 * layer's symlinks can never redirect an upper layer's writes.
 *
 * No tar entry may write outside its layer directory: every entry is created with
 * its parent opened beneath the layer root without following any symlink
 * (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS), and its own
 * name is never followed (whatever is there, a symlink included, is unlinked first).
 * Names as docker reads them: a leading "/" is dropped ("/etc/x" is the layer's
 * etc/x), missing parent directories are made (0755, root). Refused, with an error
 * naming the entry ("entry \"../x\": path leaves the layer"): any ".." component, a
 * path through a symlink, a hard link whose target is not something this layer
 * made (outside it, or reached through a symlink). A hard link to a symlink links
 * the symlink itself, as link(2) does. xattrs trusted.overlay.* / user.overlay.* in
 * a tar are dropped: overlayfs metadata comes only from whiteout entries. */
#ifndef HUSK_ENGINE_LAYER_H
#define HUSK_ENGINE_LAYER_H

#include <stdint.h>

#include "error.h"
#include "store.h"

/* "sha256:…" ChainID of diff_id on top of parent_chain (NULL for the bottom layer). */
char *layer_chain_id(const char *parent_chain, const char *diff_id);

/* Make sure the layer whose (possibly gzip/zstd-compressed) tar is the blob
 * blob_digest is unpacked on top of parent_chain. diff_id, when not NULL, is what the
 * uncompressed tar must hash to (the image config's rootfs.diff_ids); a mismatch is an
 * error naming the blob. *chain_out gets the layer's chain id. A layer already there
 * is not unpacked again; with diff_id the per-layer lock is taken before unpacking
 * (a concurrent ensure waits, then finds it), without it only once the tar's DiffID
 * is known. parent_chain need not be unpacked yet (it is only recorded in
 * meta.json and part of the chain id). Errors start "layer <blob_digest>: ". */
int layer_ensure(struct store *st, const char *blob_digest, const char *diff_id, const char *parent_chain,
                 char **chain_out, husk_err **err);

/* A blob still downloading, read as it grows: at the end of what its fd has,
 * wait(ctx, have) blocks until more than `have` bytes are there (returns 1), the
 * blob is whole and named in the store (0: the end is the end), or it never will
 * be from this file (-1: the download restarted or failed). */
struct layer_source {
    int (*wait)(void *ctx, uint64_t have);
    void *ctx;
};

/* layer_ensure, unpacking from fd (the blob's file while it downloads, src) rather
 * than the stored blob, so that unpacking overlaps the download. The layer is
 * published only once src said the blob is whole and the blob is named in the store
 * (its digest checked); a wait that returns -1 fails it, leaving nothing. fd stays
 * the caller's. */
int layer_ensure_stream(struct store *st, const char *blob_digest, const char *diff_id, const char *parent_chain,
                        int fd, const struct layer_source *src, char **chain_out, husk_err **err);

/* layer_ensure for the n layers of an image, bottom first (blobs[i] with
 * diff_ids[i], each on top of the one before), several at once: each is unpacked into
 * its own directory, independent of the others. On success *chain_out gets the top
 * layer's chain id; on an error, the lowest failing layer's. */
int layer_ensure_many(struct store *st, char *const *blobs, char *const *diff_ids, size_t n, char **chain_out,
                      husk_err **err);

/* Remove the layer chain (its directory and its ROOT/l link), under its lock. The
 * directory is first renamed to a locked .tmp-* so that a run killed while removing
 * leaves only what the next layer_ensure cleans. A missing layer is fine. Whether
 * an image or a container still uses it is the caller's business. */
int layer_remove(struct store *st, const char *chain, husk_err **err);

/* ROOT/layers/<chain hex>/diff */
char *layer_diff_path(const struct store *st, const char *chain);
/* "l/<short>" relative to ROOT, for overlayfs lowerdir= with chdir(ROOT). The short
 * name is derived from the chain id (base32 of its first 128 bits). */
int layer_short_link(const struct store *st, const char *chain, char **out, husk_err **err);

/* The relative path a tar entry's name means beneath a root ("" for the root
 * itself): leading "/", "." and empty components dropped; NULL when any component
 * is "..". Shared by the layers and `container cp`'s extraction. */
char *layer_clean_name(const char *name);

/* Unpack a tar stream (plain, gzip, zstd, bzip2 or xz) from fd into the empty
 * directory dirfd with the rules above (a directory that is not empty is refused);
 * *diff_id_out (optional) gets "sha256:<hex>" of the whole uncompressed stream,
 * *size_out (optional) the bytes of the regular files made. An empty stream is an
 * empty layer. On an error dirfd is emptied again. Needs /proc (xattrs of symlinks
 * and device nodes are set through /proc/self/fd/<parent>/<name>). */
int layer_unpack_fd(int fd, int dirfd, char **diff_id_out, uint64_t *size_out, husk_err **err);
/* The same from a growing file (src: layer_ensure_stream). */
int layer_unpack_stream(int fd, const struct layer_source *src, int dirfd, char **diff_id_out, uint64_t *size_out,
                        husk_err **err);

#endif
