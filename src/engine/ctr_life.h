/* ctr_life.h — a container's life: create, start (with its monitor), stop, kill,
 * remove, and what happens when its init exits.
 *
 * No daemon: `start` forks a process M that becomes a child subreaper, creates the
 * container with the runtime library in-process (so M is the init's parent), and
 * execs the monitor (monitor.h). When the init exits, the monitor records it and
 * execs `husk-engine-lean … container cleanup ID` in the same process, which deletes the
 * runtime state and applies --restart (M then creates the container again and
 * becomes its monitor again) or --rm. A command holds the container's lock only
 * while it changes the container, never while it waits for it. */
#ifndef HUSK_ENGINE_CTR_LIFE_H
#define HUSK_ENGINE_CTR_LIFE_H

#include <stdbool.h>

#include "containers.h"
#include "error.h"
#include "networks.h"
#include "ocispec.h"
#include "store.h"

struct json_object;

struct ctr_create_args {
    const char *image;          /* name or id as typed */
    const char *name;           /* --name or NULL */
    struct run_opts run;        /* what becomes config.json */
    const char *restart;        /* --restart no|on-failure[:N]|always|unless-stopped, NULL: no */
    bool auto_remove;           /* --rm */
    int stop_timeout;           /* --stop-timeout, -1: 10 s */
    const char *pull;           /* --pull missing|always|never (NULL: missing) */
    char **volumes;             /* -v, NULL-terminated or NULL (volumes.h) */
    char **mounts;              /* --mount */
    char **volumes_from;        /* --volumes-from CONTAINER[:ro|rw] */
    struct net_ctr_opts net;    /* --network, -p, -P, --ip, --dns, --add-host */
    bool keep_mounted;          /* run: the rootfs stays mounted for the ctr_start that
                                 * follows at once (one mount, not three) */
};

/* Make the container (created, not started). *id_out gets its id. Errors name
 * the image, the name or the flag; nothing is left of a failed create. */
int ctr_create(struct store *st, const char *runroot, const struct ctr_create_args *a, char **id_out,
               husk_err **err);

struct ctr_attach;
/* Start a created or exited container (a running one: nothing to do). With
 * attach, the caller's stdio is connected to it before it starts (the output
 * from its first byte), and *exit_code gets its exit status once it ended (and,
 * with --rm, was removed); detached, ctr_start returns once it runs. */
int ctr_start(struct store *st, const char *runroot, const char *id, bool attach, bool attach_stdin,
              int *exit_code, husk_err **err);

/* Send the stop signal, wait up to timeout seconds (-1: the container's), then
 * SIGKILL; returns when it has exited. --restart does not bring it back. */
int ctr_stop(struct store *st, const char *runroot, const char *id, int timeout, husk_err **err);
int ctr_kill(struct store *st, const char *runroot, const char *id, int sig, husk_err **err);

/* Remove a container: a running one only with force (killed first). With
 * volumes its anonymous volumes go too (those no other container uses). */
int ctr_remove(struct store *st, const char *runroot, const char *id, bool force, bool volumes, husk_err **err);

/* The monitor's exit command: the init has exited. */
int ctr_cleanup(struct store *st, const char *runroot, const char *id, husk_err **err);

/* The state, made true first: a monitor that is gone (killed, or a reboot) while
 * the state says running means the container has ended — its processes are
 * killed, its runtime state deleted and its rootfs unmounted, and it shows as
 * exited (with the code the monitor recorded, or 255 when there is none). */
int ctr_state_get(struct store *st, const char *runroot, const char *id, struct ctr_state *out, husk_err **err);

/* Wait until the container is not running (exit code in *code). */
int ctr_wait(struct store *st, const char *runroot, const char *id, int *code, husk_err **err);

/* docker inspect's object for a container (new). */
int ctr_inspect(struct store *st, const char *runroot, const char *id, struct json_object **out, husk_err **err);

int ctr_pause(struct store *st, const char *runroot, const char *id, bool pause, husk_err **err);

#endif
