/* image_archive.h — images to and from archives: `docker save`/`podman save` archives
 * (docker-archive: manifest.json, the configs, each layer as a tar), OCI image
 * layouts (a directory) and their tars (oci-archive: oci-layout, index.json,
 * blobs/sha256/…), any compression libarchive reads.
 *
 * Loading copies every file of the archive into the blob store by its content's
 * digest (verified by construction: a file whose bytes were changed is stored under
 * another digest and the manifest then names a blob that is missing, an error naming
 * it), then unpacks the layers, several at once (layer_ensure_many, checking the
 * config's diff_ids), and
 * registers the image last. Names in the archive are only data: an entry name is
 * never used as a path. */
#ifndef HUSK_ENGINE_IMAGE_ARCHIVE_H
#define HUSK_ENGINE_IMAGE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* Load every image of the archive (file or OCI layout directory) at path. *loaded
 * gets one line per image as docker prints them: "Loaded image: busybox:latest" or
 * "Loaded image ID: sha256:…". */
int archive_load(struct store *st, const char *path, char ***loaded, husk_err **err);

enum archive_format { ARCHIVE_DOCKER, ARCHIVE_OCI };

struct archive;
/* The data of the archive's current entry as a blob named by its content; returns 1
 * when it added the blob, 0 when it was there, -1 (libarchive's reason) on error. */
int blob_from_archive_data(struct store *st, struct archive *a, char **digest, uint64_t *size, husk_err **err);

/* Write the images names[0..n) into a tar at out_path (made atomically). */
int archive_save(struct store *st, char *const *names, size_t n, enum archive_format format, const char *out_path,
                 husk_err **err);

#endif
