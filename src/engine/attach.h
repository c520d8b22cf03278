/* attach.h — the client of a container monitor's attach.sock (monitor_proto.h):
 * `container run` in the foreground, `start -a`, `attach`. (`exec` does not go
 * through the monitor.)
 *
 * Connect first, then run: `run` connects before it starts the container, so that
 * no output is missed; the monitor gives output only to clients connected when it
 * is produced. */
#ifndef HUSK_ENGINE_ATTACH_H
#define HUSK_ENGINE_ATTACH_H

#include <stdbool.h>

#include "error.h"

struct attach_opts {
    bool stdin;             /* -i: copy our stdin to the container */
    bool tty;               /* the container has a pty: our terminal (if stdin is
                               one) goes raw, its size is sent now and on SIGWINCH,
                               and the detach keys apply */
    bool close_stdin;       /* at our stdin's EOF, close the container's (docker's
                               StdinOnce: `run -i`, `start -ai`) */
    const char *detach_keys;/* docker's format ("ctrl-p,ctrl-q", the default when
                               NULL; "" for none) */
};

enum attach_result {
    ATTACH_EXITED = 0,      /* *exit_code is the container's */
    ATTACH_DETACHED = 1,    /* the user typed the detach keys */
    ATTACH_LOST = 2,        /* the socket closed without an exit frame (monitor killed,
                               or the container ended as we connected: see the exit file) */
};

/* Connect to CTR_DIR/attach.sock (through /proc/self/fd: the path may exceed
 * sun_path). A close-on-exec socket, or -1 and *err (errno ENOENT/ECONNREFUSED in
 * (*err)->errnum when no monitor listens: the container is not running). */
int attach_connect(const char *ctr_dir, husk_err **err);

/* Parse docker's --detach-keys ("ctrl-p,ctrl-q", "a,ctrl-@"…) into keys[] (at most
 * max). Returns the count, or -1 and *err. */
int attach_parse_keys(const char *spec, unsigned char *keys, int max, husk_err **err);

/* Copy until the container exits, the user detaches, or the monitor is gone:
 * output frames to fds 1 and 2, fd 0 to the container (opts->stdin). Takes the
 * socket (closes it). Our terminal is restored before it returns. Returns an
 * enum attach_result, or -1 and *err. */
int attach_run(int sock, const struct attach_opts *opts, int *exit_code, husk_err **err);

#endif
