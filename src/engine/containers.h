/* containers.h — the engine's container records, names and ids.
 *
 *   ROOT/containers/<id>/           one directory per container (id: 64 hex)
 *       container.json              the record (struct ctr_record), written once by
 *                                   create, replaced atomically by rename/commit…
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
 *   ROOT/containers/names/<name>    a symlink whose target is the id: made with
 *                                   symlinkat, so two creates of one name cannot both
 *                                   win and no lock is held across a run
 *   ROOT/containers/<id>/.lock      flock per container, held while one command
 *                                   changes it (start, stop, rm …)
 *
 * The runtime state of a running container is <--root>/<id> (the runtime library's),
 * so engine containers show in `husk list`. A create killed at any point leaves a
 * directory without container.json, or a name whose target has none: both are
 * removed by the next ctr_list / prune and never shown. */
#ifndef HUSK_ENGINE_CONTAINERS_H
#define HUSK_ENGINE_CONTAINERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "store.h"

enum ctr_status { CTR_CREATED, CTR_RUNNING, CTR_PAUSED, CTR_EXITED, CTR_REMOVING };

struct ctr_state {
    enum ctr_status status;
    pid_t pid;                 /* the init's host pid, 0 when not running */
    pid_t monitor_pid;
    char *started_at;          /* RFC 3339 or NULL */
    char *finished_at;
    int exit_code;
    int restart_count;
    char *error;               /* why the last start failed, or NULL */
};

/* Directory of a container: ROOT/containers/<id>. */
char *ctr_dir(const struct store *st, const char *id);

#endif
