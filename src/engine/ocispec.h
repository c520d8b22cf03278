/* ocispec.h — an image's config plus `container run/create` flags become the
 * runtime's config.json (OCI runtime spec v1.3), with docker's defaults:
 *
 *   process.args      Entrypoint + Cmd of the image, replaced by --entrypoint / CMD…
 *                     (docker's rules: --entrypoint drops the image's Cmd too)
 *   process.env       PATH default, the image's Env, then -e / --env-file (later wins),
 *                     HOSTNAME, TERM=xterm with -t
 *   process.cwd       -w, else the image's WorkingDir, else "/"
 *   process.user      -u / the image's User: "name|uid[:group|gid]" resolved through the
 *                     rootfs's /etc/passwd and /etc/group (opened beneath the rootfs,
 *                     never following a symlink out of it); additionalGids from
 *                     /etc/group membership, as docker does
 *   capabilities      docker's default set (+ --cap-add, - --cap-drop, ALL), every
 *                     capability with --privileged
 *   linux.maskedPaths / readonlyPaths   docker's lists (none with --privileged)
 *   linux.seccomp     husk's default profile (ocispec_seccomp_default: docker's
 *                     documented default policy), a --security-opt seccomp=FILE, or none
 *                     (unconfined, --privileged)
 *   linux.resources   -m, --memory-swap, --cpus, --cpu-shares, --pids-limit, --device rules
 *   mounts            /proc /dev /dev/pts /dev/shm (--shm-size, default 64m) /dev/mqueue
 *                     /sys, --tmpfs, and the per-container /etc/hostname /etc/hosts
 *                     /etc/resolv.conf bind-mounted from the container's directory
 *   namespaces        pid, ipc, uts, mount, network (a new empty one until issue 13's
 *                     networks; "none")
 *   process.rlimits   --ulimit; noNewPrivileges with --security-opt no-new-privileges
 *   root              the overlay mount point, readonly with --read-only
 *   annotations       org.opencontainers.image.stopSignal etc. are not needed.
 *
 * Everything here is pure but the passwd/group lookup (which reads the rootfs). */
#ifndef HUSK_ENGINE_OCISPEC_H
#define HUSK_ENGINE_OCISPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct json_object;

struct run_opts {
    /* the command line (NULL / 0 / -1: not given) */
    char **cmd;                 /* CMD… after the image, NULL-terminated, or NULL */
    const char *entrypoint;     /* --entrypoint ("" clears the image's) */
    char **env;                 /* -e K=V / -e K (from the caller's environment) and
                                   --env-file lines, in order, NULL-terminated */
    const char *workdir;        /* -w */
    const char *user;           /* -u USER[:GROUP] */
    const char *hostname;       /* --hostname, else the first 12 hex of the id */
    bool tty;                   /* -t */
    bool interactive;           /* -i */
    bool privileged;
    bool read_only;             /* --read-only */
    bool init;                  /* --init: a tiny init as pid 1 (see ocispec.c) */
    bool no_new_privileges;     /* --security-opt no-new-privileges */
    const char *seccomp;        /* --security-opt seccomp=…: a file, "unconfined", NULL: default */
    char **cap_add;             /* NULL-terminated, as typed ("NET_ADMIN", "CAP_NET_ADMIN", "ALL") */
    char **cap_drop;
    char **tmpfs;               /* --tmpfs PATH[:OPTS] */
    char **devices;             /* --device HOST[:CTR[:PERMS]] */
    char **ulimits;             /* --ulimit NAME=SOFT[:HARD] */
    int64_t memory;             /* -m, bytes; -1 unset */
    int64_t memory_swap;        /* --memory-swap bytes (-1: unlimited when given as -1); -2 unset */
    int64_t nano_cpus;          /* --cpus * 1e9; -1 unset */
    int64_t cpu_shares;         /* --cpu-shares; -1 unset */
    int64_t pids_limit;         /* --pids-limit; 0 unset, -1 unlimited */
    int64_t shm_size;           /* --shm-size bytes; -1: 64 MiB */
    const char *stop_signal;    /* --stop-signal, else the image's StopSignal, else SIGTERM */
    char **labels;              /* --label K=V */
    const char *netns;          /* the network namespace: NULL a new empty one, "" the
                                   host's, else the path of one to join (networks.h) */
};

/* Build config.json for a container:
 *   image_config   the image's config blob (its "config" object holds Entrypoint, Cmd, …)
 *   o              the flags
 *   id             the container's 64-hex id
 *   rootfs         host path of the mounted rootfs (users are looked up beneath it)
 *   userdata       host directory holding the container's hostname, hosts, resolv.conf
 *                  files (written by ocispec_write_etc_files)
 * *out gets the new json-c object. Errors name the flag or the image field
 * ("-u nobody2: no such user in the image's /etc/passwd"). */
int ocispec_build(struct json_object *image_config, const struct run_opts *o, const char *id, const char *rootfs,
                  const char *userdata, struct json_object **out, husk_err **err);

/* Write userdata/hostname, userdata/hosts (localhost lines and the hostname) and
 * userdata/resolv.conf (without a network: empty of nameservers, so no name
 * lookup ever leaves the container). */
int ocispec_write_etc_files(const char *userdata, const char *hostname, husk_err **err);

/* husk's default seccomp profile as an OCI linux.seccomp object (new). */
struct json_object *ocispec_seccomp_default(void);

#endif
