/* registry.h — a client of the distribution API v2 (docker's and OCI's registry
 * protocol) over libcurl.
 *
 * One `struct registry` talks to one registry host ("docker.io", "host:port"):
 *   - TLS by default, verified against the system roots plus the CA files in
 *     /etc/containers/certs.d/HOST:PORT/ and /etc/docker/certs.d/HOST:PORT/ (where
 *     podman and docker keep them; HUSK_CERTS_DIR replaces both, for tests);
 *     plain HTTP only with tls_verify=false or a host listed in /etc/husk/engine.json
 *     "insecure-registries" (docker's daemon.json key); "registry-mirrors" there are
 *     tried before docker.io.
 *   - auth: anonymous, basic, or bearer tokens from the realm of the registry's
 *     `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge (fetched with the
 *     credentials when there are any; one token per scope, kept for the process);
 *     credentials from --creds or the auth files (auth_file.h).
 *   - connection errors, 429 and 5xx are retried a bounded number of times with backoff;
 *     redirects (blob storage) are followed, the Authorization header never goes to
 *     another host.
 *   - blobs stream into the store through a blob_writer (verified while streaming,
 *     named only when whole and right), up to REGISTRY_PARALLEL at once, each under a
 *     per-blob flock(2) ROOT/blobs/.locks/<hex> so that two pulls sharing a layer fetch
 *     it once: the one that waits then finds the blob in the store. */
#ifndef HUSK_ENGINE_REGISTRY_H
#define HUSK_ENGINE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "manifest.h"
#include "store.h"

#define REGISTRY_PARALLEL 4
#define REGISTRY_MANIFEST_MAX (4u << 20)


struct registry_opts {
    int tls_verify;            /* -1: default (TLS unless listed insecure), 0: off (HTTP allowed), 1: on */
    const char *creds;         /* "user:password" or "user", or NULL: the auth files */
    const char *certs_dir;     /* NULL: $HUSK_CERTS_DIR, else the two defaults */
    const char *config_file;   /* NULL: $HUSK_ENGINE_CONFIG, else /etc/husk/engine.json */
};

struct registry;

/* Prepare a client for domain (a reference's domain: "docker.io", "host:port").
 * Nothing is sent yet. */
int registry_open(const char *domain, const struct registry_opts *o, struct registry **out, husk_err **err);
void registry_close(struct registry *r);

/* GET /v2/: reachable, and the credentials (if any) accepted. Used by login. */
int registry_ping(struct registry *r, husk_err **err);

/* Scopes asked of a token server: pull, or pull and push. */
void registry_set_push(struct registry *r, bool push);

/* GET a manifest by tag or digest, accepting the four media types above. On success
 * *body (NUL-terminated), *len, *media_type (from the body's mediaType, else the
 * Content-Type) and *digest (sha256 of the bytes; must equal ref when ref is a
 * digest). An unknown media type is an error. */
int registry_get_manifest(struct registry *r, const char *repo, const char *ref, char **body, size_t *len,
                          char **media_type, char **digest, husk_err **err);

/* What a download reports, per blob, to a progress callback. */
enum blob_state { BLOB_WAITING, BLOB_DOWNLOADING, BLOB_EXISTS, BLOB_DONE };
typedef void (*registry_progress_fn)(void *ctx, size_t i, enum blob_state s, uint64_t done, uint64_t total);

struct blob_desc {
    const char *digest;
    uint64_t size;   /* from the manifest's descriptor; a blob larger is refused */
};

/* Told when blob i's download starts (again, after a retry: the earlier file is
 * abandoned): fd (the callee's to close) reads the unnamed file it is written to,
 * which has as many bytes as the last BLOB_DOWNLOADING's done says. The blob is
 * verified only at BLOB_DONE: whatever is read before is unchecked. */
typedef void (*registry_tap_fn)(void *ctx, size_t i, int fd);

/* Fetch every blob not yet in the store, several at once. progress and tap may be
 * NULL; both get ctx. */
int registry_fetch_blobs(struct registry *r, const char *repo, struct store *st, const struct blob_desc *blobs,
                         size_t n, registry_progress_fn progress, registry_tap_fn tap, void *ctx, husk_err **err);

/* HEAD /v2/REPO/blobs/DIGEST: does the registry have it? */
int registry_blob_exists(struct registry *r, const char *repo, const char *digest, bool *exists, husk_err **err);

/* Upload a blob from the store: one PUT when small, PATCH chunks when larger than
 * REGISTRY_CHUNK. progress gets index i. */
#define REGISTRY_CHUNK (8u << 20)
int registry_push_blob(struct registry *r, const char *repo, struct store *st, const char *digest, size_t i,
                       registry_progress_fn progress, void *ctx, husk_err **err);

/* PUT /v2/REPO/manifests/REF with its media type. */
int registry_put_manifest(struct registry *r, const char *repo, const char *ref, const char *media_type,
                          const char *body, size_t len, husk_err **err);

/* ---- pure helpers (unit tested) ---- */

struct auth_challenge {
    char *scheme;    /* "bearer" or "basic", lower case */
    char *realm;
    char *service;
    char *scope;
    char *error;     /* error="insufficient_scope" etc. */
};
/* Parse one WWW-Authenticate value: SCHEME k=v, k="v,with \"quotes\"", … */
int registry_parse_challenge(const char *value, struct auth_challenge *out, husk_err **err);
void auth_challenge_free(struct auth_challenge *c);

struct platform {
    char *os;
    char *arch;
    char *variant;   /* NULL when not given */
};
/* "os/arch[/variant]"; NULL or "" gives the host's platform (linux/amd64 on x86-64).
 * Architectures are given their GOARCH names (x86_64 → amd64, aarch64 → arm64), and
 * arm64's only variant "v8" is dropped (image_index_pick takes none as v8). */
int platform_parse(const char *s, struct platform *out, husk_err **err);
void platform_free(struct platform *p);
/* Is host (host[:port]) in the list of insecure registries of the engine config
 * JSON text? Entries as docker takes them: "host:port", "host", or a CIDR "10.0.0.0/8". */
bool registry_host_insecure(const char *config_json, const char *host);

#endif
