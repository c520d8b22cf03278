/* reference.h — image references as docker parses and normalizes them.
 *
 *   busybox                      docker.io/library/busybox:latest
 *   alpine:3.19                  docker.io/library/alpine:3.19
 *   user/app                     docker.io/user/app:latest
 *   localhost:5000/app@sha256:…  localhost:5000/app@sha256:… (no tag: a digest pins it)
 *   127.0.0.1:5000/a/b:v1        127.0.0.1:5000/a/b:v1
 *
 * The first path component is a registry host only if it holds a '.' or a ':', is
 * "localhost", or has an upper-case letter (docker's rule); otherwise the image is
 * on docker.io, and a single-component name there is an official image under
 * "library/". Grammar (distribution's reference package): path components are
 * [a-z0-9]+ joined by '.', '_', "__" or runs of '-'; a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127};
 * a digest is ALGORITHM:HEX (sha256 and sha512 checked for their length). */
#ifndef HUSK_ENGINE_REFERENCE_H
#define HUSK_ENGINE_REFERENCE_H

#include <stdbool.h>

#include "error.h"

#define REF_DEFAULT_DOMAIN "docker.io"
#define REF_DEFAULT_TAG "latest"
#define REF_NAME_MAX 255

struct image_ref {
    char *domain;   /* "docker.io", "localhost:5000", "[::1]:5000" */
    char *path;     /* "library/busybox" */
    char *tag;      /* NULL when a digest pins the image and no tag was given */
    char *digest;   /* "sha256:<64 hex>" or NULL */
};

/* Parse and normalize s. Errors name s: `invalid reference "Foo": repository name
 * must be lowercase`. On success *out owns its strings (image_ref_free). */
int image_ref_parse(const char *s, struct image_ref *out, husk_err **err);

/* "domain/path" */
char *image_ref_repository(const struct image_ref *r);

/* The full normalized form: "domain/path[:tag][@digest]". */
char *image_ref_string(const struct image_ref *r);

/* The short form docker prints: "busybox:latest", "user/app:v1",
 * "localhost:5000/app:v1" (docker.io/ and library/ left out). */
char *image_ref_familiar(const struct image_ref *r);

/* Is s a well-formed digest "ALG:HEX" (sha256: 64 lower-case hex)? */
bool image_ref_digest_valid(const char *s);

void image_ref_free(struct image_ref *r);

#endif
