/* ocispec_int.h — the pieces of ocispec.c that live in their own files:
 * the passwd/group lookup (ocispec_user.c) and the seccomp profiles
 * (seccomp_default.c: husk's own; ocispec_seccomp.c: a user's file). */
#ifndef HUSK_ENGINE_OCISPEC_INT_H
#define HUSK_ENGINE_OCISPEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct json_object;

struct ocispec_user {
    uid_t uid;
    gid_t gid;
    gid_t *sgids;       /* supplementary groups from /etc/group membership */
    size_t n_sgids;
};

/* Resolve "user[:group]" (names or numbers; "" is root) as docker does, through
 * rootfs/etc/passwd and rootfs/etc/group opened beneath rootfs (a symlink among
 * them resolves inside the rootfs, never out of it). `what` names the source
 * in errors ("-u nobody2", "the image's User \"x\""). */
int ocispec_resolve_user(const char *rootfs, const char *spec, const char *what, struct ocispec_user *out,
                         husk_err **err);
void ocispec_user_free(struct ocispec_user *u);

/* husk's default profile for a process holding the capabilities `caps` ("CAP_*",
 * NULL-terminated): docker's policy opens syscalls a capability already grants
 * (mount with CAP_SYS_ADMIN, …). New linux.seccomp object. */
struct json_object *ocispec_seccomp_for_caps(const char *const *caps);

/* Read a --security-opt seccomp=FILE profile: docker's format ("names" or "name",
 * "includes"/"excludes" by caps, arches and minKernel, "archMap") or an OCI
 * linux.seccomp object; made into an OCI linux.seccomp object for `caps`. */
int ocispec_seccomp_from_file(const char *path, const char *const *caps, struct json_object **out, husk_err **err);

/* Whether a NULL-terminated list of "CAP_*" names holds cap. */
bool ocispec_has_cap(const char *const *caps, const char *cap);

#endif
