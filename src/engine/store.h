/* store.h — the engine's content-addressed storage under --storage-root.
 *
 *   ROOT/blobs/sha256/<hex>   every blob (manifests, configs, compressed layers) by digest
 *
 * A blob is written into an unnamed file (O_TMPFILE) in its final directory while
 * its sha256 is computed, and given its name (linkat) only once the digest is the
 * one expected: a process killed at any point leaves no half blob under a name, and
 * a blob under a name is always whole and verified. Two writers of one blob both
 * verify; the second finds the name taken and keeps the first (the same bytes). */
#ifndef HUSK_ENGINE_STORE_H
#define HUSK_ENGINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct store {
    char *root;
    int blobs_fd;   /* ROOT/blobs/sha256 */
    int gc_fd;      /* ROOT/.gc.lock, held shared while the store is open */
};

/* Open (making what is missing) the store at root. Every user of the store holds
 * ROOT/.gc.lock shared for as long as it has it open; only a prune holds it
 * exclusive (store_gc_begin), so that blobs and layers a pull has fetched but not
 * yet registered are never collected under it. Readers and pulls never wait for
 * each other. */
int store_open(const char *root, struct store *st, husk_err **err);
void store_close(struct store *st);
/* Wait until no other command uses the store, and keep it so until store_close. */
int store_gc_begin(struct store *st, husk_err **err);

/* Path of a blob by "sha256:<hex>" digest (whether or not it exists). */
char *store_blob_path(const struct store *st, const char *digest);
bool store_blob_exists(const struct store *st, const char *digest);

struct blob_writer;

/* Start writing the blob that must hash to digest ("sha256:<hex>"), or, with digest
 * NULL, a blob named by whatever it hashes to (an import of a local file). */
int blob_writer_new(const struct store *st, const char *digest, struct blob_writer **w, husk_err **err);
int blob_writer_write(struct blob_writer *w, const void *buf, size_t len, husk_err **err);
/* Bytes written so far. */
uint64_t blob_writer_size(const struct blob_writer *w);
/* A new read-only fd (offset 0) of the file being written, or -1 with errno. */
int blob_writer_reopen(const struct blob_writer *w);
/* Check the digest and name the blob; on a mismatch nothing is named and the error
 * says both digests. Frees w either way. */
int blob_writer_commit(struct blob_writer *w, husk_err **err);
/* The same, giving the blob's digest in *digest_out; returns 1 when this call named
 * the blob, 0 when it was in the store already (so a failed import can take back
 * exactly the blobs it added). */
int blob_writer_finish(struct blob_writer *w, char **digest_out, husk_err **err);
/* Remove a blob (no error if it is not there). */
int store_remove_blob(const struct store *st, const char *digest, husk_err **err);
/* Drop an unfinished blob (nothing is left). NULL is fine. */
void blob_writer_abort(struct blob_writer *w);

/* Store a whole buffer as a blob; *digest_out (optional) gets "sha256:<hex>".
 * Returns 1 when it added the blob, 0 when it was there. */
int store_put_blob(const struct store *st, const void *buf, size_t len, char **digest_out, husk_err **err);

/* n bytes of a digest as lower-case hex into out (2n+1 bytes). */
void hex_encode(const unsigned char *md, unsigned n, char *out);

/* "sha256:<hex>" of a buffer. */
char *sha256_digest(const void *buf, size_t len);

/* Read a whole blob (at most max bytes). */
int store_read_blob(const struct store *st, const char *digest, size_t max, char **out, size_t *len,
                    husk_err **err);

#endif
