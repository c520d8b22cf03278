/* state.h — one directory per container under --root (default /run/husk):
 *
 *   <root>/<id>/state.json   husk's record (written atomically: temp + rename)
 *   <root>/<id>/exec.fifo    exists while the container is "created"; `start` opens it
 *   <root>/<id>/config.json  the bundle's config.json as it was at create
 *
 * Commands on one id serialize with flock() on the container's directory. Status is
 * derived from the live process: its pid plus the start time from /proc/PID/stat, so
 * a reused pid is never mistaken for the container. */
#ifndef HUSK_STATE_H
#define HUSK_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"

/* The id names the state directory and the cgroup directories: one path component,
 * so NAME_MAX (255) is the most any filesystem takes. Checked up front, so a long id
 * is "too long", not an ENAMETOOLONG from halfway through create. */
#define HUSK_ID_MAX 255

enum husk_status { HUSK_CREATING, HUSK_CREATED, HUSK_RUNNING, HUSK_PAUSED, HUSK_STOPPED };

struct husk_state {
    char *id;
    pid_t pid;                   /* 0 while creating */
    unsigned long long pid_start; /* starttime field (22) of /proc/PID/stat */
    char *bundle;
    char *rootfs;
    char *created;               /* RFC3339 with nanoseconds, UTC */
    char *owner;                 /* "" unless rootless */
    struct oci_annotation *annotations;
    size_t n_annotations;
    char **cgroup_created;       /* cgroup dirs husk created (absolute), in creation order */
    char **cgroup_paths;         /* the container's cgroup dir on each hierarchy (absolute) */
    char *cgroup_freezer;        /* freezer (v1) dir or cgroup.freeze parent (v2), or NULL */
    bool has_poststop;           /* copy of config? delete re-reads the bundle's config */
    char *config_path;           /* absolute config.json used at create (for poststop hooks) */
    bool no_new_keyring;         /* create --no-new-keyring: exec keeps the caller's keyring too */
};

void state_free(struct husk_state *s);
static inline void state_freep(struct husk_state **s) { state_free(*s); }
#define _cleanup_state_ __attribute__((cleanup(state_freep)))

/* Container ids: 1..HUSK_ID_MAX bytes of [A-Za-z0-9_.+-] (no '/', no "." or ".."
 * alone, no control characters), as runc allows. */
int id_validate(const char *id, husk_err **err);

/* Make <root> (0700) if needed and <root>/<id> exclusively. EEXIST becomes
 * "container with id exists: ID". Returns a locked (flock LOCK_EX) dirfd. */
int state_dir_create(const char *root, const char *id, husk_err **err);
/* Open and lock an existing container dir. ENOENT becomes "container does not exist: ID"
 * (errnum ENOENT). Returns the locked dirfd. */
int state_dir_open(const char *root, const char *id, husk_err **err);
/* Remove <root>/<id> and everything in it (only regular files/fifos are expected). */
int state_dir_remove(const char *root, const char *id, husk_err **err);

/* Copy <bundle>/config.json into the container's directory (as config.json), so that
 * later commands (hooks of start and delete) see the config of create even if the
 * bundle changes or goes away. config_load(<root>/<id>) reads it back. */
int state_save_config(int dirfd, const char *bundle, husk_err **err);

int state_write(int dirfd, const struct husk_state *s, husk_err **err);
/* Read state.json; a missing, half-written or corrupt file is an error naming it. */
int state_read(int dirfd, const char *id, struct husk_state **out, husk_err **err);
/* The same on text in memory (len bytes, NUL-terminated at text[len]); id is the
 * directory name the "id" field must match. state_read() is this on the file. */
int state_parse(const char *text, size_t len, const char *id, struct husk_state **out, husk_err **err);

/* Live status: stopped if pid is gone or its start time differs; paused if the
 * freezer says FROZEN; created if exec.fifo still exists; else running. */
enum husk_status state_status(int dirfd, const struct husk_state *s);
const char *status_name(enum husk_status st);

/* Start time (field 22 of /proc/PID/stat), 0 if the process does not exist. */
unsigned long long proc_start_time(pid_t pid);

/* The OCI state JSON (runtime.md): ociVersion, id, status, pid (when running or
 * created), bundle, annotations. Returns a new string. */
char *state_oci_json(const struct husk_state *s, enum husk_status st);
/* The same for hooks: with the pid whenever the init exists, "creating" included. */
char *state_hook_json(const struct husk_state *s, enum husk_status st);

/* Ids of every container under root (names of subdirectories), sorted. */
int state_list_ids(const char *root, char ***ids, husk_err **err);

/* Now as RFC3339Nano UTC, new string. */
char *time_rfc3339(void);

#endif
