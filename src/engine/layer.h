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
 * ROOT/layers/.tmp-* and renamed into place only when whole, under a per-layer lock
 * (ROOT/layers/<chain hex>.lock), so two pulls sharing a layer unpack it once and a
 * killed unpack leaves nothing that a later one would take for whole.
 *
 * No tar entry may write outside its layer directory: every entry is created with
 * its parent opened beneath the layer root without following any symlink
 * (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS); absolute
 * names, "..", a symlinked parent, or a hard link whose target is outside or a
 * symlink are refused with an error naming the entry, and the half-made layer is removed. */
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
 * is not unpacked again. */
int layer_ensure(struct store *st, const char *blob_digest, const char *diff_id, const char *parent_chain,
                 char **chain_out, husk_err **err);

/* ROOT/layers/<chain hex>/diff */
char *layer_diff_path(const struct store *st, const char *chain);
/* "l/<short>" relative to ROOT, for overlayfs lowerdir= with chdir(ROOT). */
int layer_short_link(const struct store *st, const char *chain, char **out, husk_err **err);

/* Unpack a tar stream (any compression libarchive reads) from fd into the empty
 * directory dirfd with the rules above; *diff_id_out (optional) gets the sha256 of
 * the uncompressed tar, *size_out (optional) the bytes of the files made. */
int layer_unpack_fd(int fd, int dirfd, char **diff_id_out, uint64_t *size_out, husk_err **err);

#endif
