/* container.h — the context one container's setup is carried through.
 *
 * `husk create` fills a struct husk_container, and every setup step (namespaces.c,
 * rootfs.c, mounts.c, devices.c, process.c, caps.c, terminal.c, hooks.c) reads it.
 * The lifecycle functions themselves are in container.c. */
#ifndef HUSK_CONTAINER_H
#define HUSK_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"

struct husk_container {
    const char *id;
    const char *root_dir;       /* --root, e.g. /run/husk */
    char *bundle;               /* absolute bundle path */
    char *rootfs;               /* absolute host path of the rootfs (root.path resolved) */
    struct oci_config *config;

    /* create flags */
    const char *console_socket; /* --console-socket path, or NULL */
    const char *pid_file;       /* --pid-file, or NULL */
    bool no_pivot;              /* --no-pivot: chroot instead of pivot_root (weaker) */
    bool no_new_keyring;        /* --no-new-keyring: keep the caller's session keyring */
    int preserve_fds;           /* --preserve-fds N: fds 3..3+N-1 pass to the container */
    bool start_now;             /* run: no exec.fifo; the init goes on as soon as create is
                                 * done and reports to start_fd (container_start_run) */
    const char *seccomp_cache_dir; /* generated seccomp programs kept there for the next
                                 * create (seccomp_filter_build_cached); NULL: none */

    /* filled during create */
    int console_sock_fd;        /* connected --console-socket, or -1 */
    int listen_fds;             /* LISTEN_FDS of the caller, when LISTEN_PID is husk's pid */
    pid_t pid;                  /* container init, host pid */
    int start_fd;               /* start_now: read end of the init's report ("0" or "1<why>") */
};

/* create: everything up to the container init waiting on exec.fifo (runtime.md
 * "create"). On any failure nothing is left: no state dir, cgroup, or process. */
int container_create(struct husk_container *c, husk_err **err);

/* start: release the waiting init, then run poststart hooks. */
int container_start(const char *root, const char *id, husk_err **err);
/* The same with the config the container was created from already parsed (`husk
 * run` has it): its hooks, instead of reading the state dir's copy back. */
int container_start_cfg(const char *root, const char *id, const struct oci_config *cfg, husk_err **err);
/* `husk run`'s start of a container created with start_now: what the init reports
 * through start_fd (closed here) instead of exec.fifo, then the poststart hooks. */
int container_start_run(struct husk_container *c, husk_err **err);

/* kill: signal the init (all = every process of the container's cgroup). */
int container_kill(const char *root, const char *id, int sig, bool all, husk_err **err);

/* delete: only a stopped container unless force (kill first); removes the
 * cgroups and state husk made, then runs poststop hooks. */
int container_delete(const char *root, const char *id, bool force, husk_err **err);
/* The same with the create's config already parsed (its poststop hooks). */
int container_delete_cfg(const char *root, const char *id, bool force, const struct oci_config *cfg,
                         husk_err **err);

/* state: the OCI state JSON (new string). */
int container_state_json(const char *root, const char *id, char **out, husk_err **err);

/* Read a container's state without taking its lock (state.json is replaced
 * atomically, so a reader never sees half of it): for list and state, which must
 * not wait behind a create in progress. */
struct husk_state;
/* Open and lock <root>/<id> (a validated id) and read its state; *dirfd holds the lock. */
int container_load_state(const char *root, const char *id, int *dirfd, struct husk_state **st, husk_err **err);
int container_peek(const char *root, const char *id, struct husk_state **st, int *status, husk_err **err);

/* Signal numbers from "KILL", "SIGKILL", "9". -1 if unknown. */
int signal_parse(const char *s);

/* Shared with exec.c (a process joining a running container is set up the same way):
 * write pid to a pid file atomically; mark every fd close-on-exec but the caller's
 * LISTEN_FDS and --preserve-fds ones (c->listen_fds, c->preserve_fds); the process's
 * environment with HOME from the image's /etc/passwd when unset (new strv). */
int container_write_pid_file(const char *path, pid_t pid, husk_err **err);
int container_prepare_fds(struct husk_container *c, int *n_listen, husk_err **err);
char **container_build_env(const struct oci_process *p, int n_listen);

/* ---- container_cgroup.c: verbs that work through the container's cgroups ---- */
#include <stdint.h>
#include <stdio.h>

/* pause: freeze every process (running or created); resume: thaw a paused one. */
int container_pause(const char *root, const char *id, husk_err **err);
int container_resume(const char *root, const char *id, husk_err **err);

/* A linux.resources JSON document (`update --resources`), parsed like config.json's;
 * errors name "<name>: linux.resources.<path>". Free with resources_free. */
int resources_parse(const char *text, size_t len, const char *name, struct oci_linux **out, husk_err **err);
void resources_free(struct oci_linux *l);
/* update: write what l->resources sets to the container's cgroups (not the
 * device rules, which update refuses). l may be adjusted (memory order on v1). */
int container_update(const char *root, const char *id, struct oci_linux *l, husk_err **err);

/* events: with once, one stats event; else a stats event every interval_ms and an
 * oom event per OOM kill, until the container's init exits. JSON lines to out. */
int container_events(const char *root, const char *id, bool once, long long interval_ms, FILE *out,
                     husk_err **err);

/* ps: host pids of every process in the container's cgroup, sorted. */
int container_pids(const char *root, const char *id, pid_t **pids, size_t *n, husk_err **err);

#endif
