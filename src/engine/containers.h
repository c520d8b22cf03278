/* containers.h — the engine's container records, names and ids.
 *
 *   ROOT/containers/<id>/           one directory per container (id: 64 hex)
 *       container.json              the record (docker inspect's static keys: Id,
 *                                   Name, Created, Image, ImageName, Path, Args,
 *                                   Config, HostConfig, Layers), written by create,
 *                                   replaced atomically by rename
 *       state.json                  what changes: {"status", "pid", "monitorPid",
 *                                   "startedAt", "finishedAt", "exitCode",
 *                                   "restartCount", "error"}, written atomically
 *       exit                        the monitor's record of the init's end:
 *                                   "<exit code> <RFC 3339 time>\n" (the monitor links
 *                                   only libc, so it writes this line, not JSON)
 *       bundle/config.json          the OCI config the runtime runs
 *       bundle/rootfs/              the overlay mount point (the image's layers below,
 *       upper/ work/                these above)
 *       userdata/                   hostname, hosts, resolv.conf (bind-mounted)
 *       ctr.log, ctr.log.1 …        the json-file log the monitor writes
 *       attach.sock                 the monitor's socket (attach, -it)
 *       .lock                       flock, held while one command changes the container
 *                                   (start, stop, rm …): never across a whole `run -d`
 *                                   of another container
 *   ROOT/containers/names/<name>    a symlink whose target is the id: made with
 *                                   symlinkat, so two creates of one name cannot both
 *                                   win, and no lock is held for it
 *
 * The runtime state of a running container is <--root>/<id> (the runtime library's),
 * so engine containers show in `husk list`. A create killed at any point leaves a
 * directory without container.json, or a name whose target has none: neither is ever
 * shown, and ctr_list removes them once nobody holds their lock. */
#ifndef HUSK_ENGINE_CONTAINERS_H
#define HUSK_ENGINE_CONTAINERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "store.h"

struct json_object;

enum ctr_status { CTR_CREATED, CTR_RUNNING, CTR_PAUSED, CTR_EXITED, CTR_REMOVING };

struct ctr_state {
    enum ctr_status status;
    pid_t pid;                 /* the init's host pid, 0 when not running */
    pid_t monitor_pid;
    unsigned long long monitor_start; /* the monitor's start time (/proc/PID/stat field 22): a
                                         reused pid is not taken for it */
    char *started_at;          /* RFC 3339 or NULL */
    char *finished_at;
    int exit_code;
    int restart_count;
    char *error;               /* why the last start failed, or NULL */
};

const char *ctr_status_name(enum ctr_status s);

/* Directory of a container: ROOT/containers/<id>. */
char *ctr_dir(const struct store *st, const char *id);

/* Names as docker allows them: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 253 bytes. */
bool ctr_name_valid(const char *name);

/* Make a container's directory, lock it, and reserve its name (name NULL: a
 * generated adjective_surname one). *id_out gets the new 64-hex id, *name_out the
 * name, *lock_out the held lock (keep it until the record is written). On an
 * error nothing is left. */
int ctr_new(struct store *st, const char *name, char **id_out, char **name_out, int *lock_out, husk_err **err);

/* Write the record (container.json) atomically: from this point the container exists. */
int ctr_record_write(const struct store *st, const char *id, struct json_object *record, husk_err **err);
int ctr_record_read(const struct store *st, const char *id, struct json_object **out, husk_err **err);

int ctr_state_read(const struct store *st, const char *id, struct ctr_state *out, husk_err **err);
int ctr_state_write(const struct store *st, const char *id, const struct ctr_state *s, husk_err **err);
void ctr_state_clear(struct ctr_state *s);

/* A container by name, full id, or unique id prefix; *id_out gets the full id.
 * Errors: `no such container: "X"`, or `"X" matches more than one container`. */
int ctr_lookup(struct store *st, const char *name_or_id, char **id_out, husk_err **err);

/* Every container that exists (has a record), newest first: ids (NULL-terminated).
 * Leftovers of killed creates that nobody holds the lock of are removed. */
int ctr_list(struct store *st, char ***ids_out, husk_err **err);

/* flock the container (exclusive); *fd holds it. */
int ctr_lock(const struct store *st, const char *id, int *fd, husk_err **err);

/* Give the container another name (the old one is freed). */
int ctr_rename(struct store *st, const char *id, const char *new_name, husk_err **err);

/* Free name if it still names id. */
void ctr_release_name(const struct store *st, const char *name, const char *id);

/* Remove the name and the directory (everything in it must be unmounted). */
int ctr_remove_files(struct store *st, const char *id, husk_err **err);

/* The containers made from image image_id ("sha256:…"): their ids; with image_id
 * NULL, the image ids every container uses (each once per container). */
int ctr_using_image(struct store *st, const char *image_id, char ***ids_out, husk_err **err);

/* The container's name from its record (new string). */
char *ctr_record_name(struct json_object *record);

/* Is pid alive and still the process that started at start (field 22 of its stat)? */
bool ctr_pid_is(pid_t pid, unsigned long long start);
unsigned long long ctr_pid_start(pid_t pid);

/* Random 64-hex id. */
char *ctr_random_id(void);

#endif
