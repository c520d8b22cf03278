/* terminal.h — process.terminal: a pty made inside the container (from its own
 * /dev/pts), the slave becomes stdio and the controlling terminal and is bound onto
 * /dev/console, and the master is sent to --console-socket with SCM_RIGHTS. */
#ifndef HUSK_TERMINAL_H
#define HUSK_TERMINAL_H

#include "config.h"
#include "error.h"

/* Connect to the --console-socket unix socket (in the host namespace, before clone). */
int terminal_connect_socket(const char *path, husk_err **err);

/* Inside the container after pivot_root: open /dev/ptmx, make the slave our stdio and
 * controlling tty (setsid + TIOCSCTTY), bind it on /dev/console, apply consoleSize,
 * send the master through sock and close it. */
int terminal_setup(int sock, const struct oci_process *p, husk_err **err);
/* The same for `husk exec`: a new pty of the container's /dev/pts for the joining
 * process, leaving /dev/console (the init's terminal) alone. */
int terminal_setup_exec(int sock, const struct oci_process *p, husk_err **err);

/* For `husk run` with terminal:true and no --console-socket: a socketpair that
 * receives the master, then copy between our stdio (raw mode if a tty) and the master
 * until the master hangs up. recv_master blocks until the master arrives. */
int terminal_recv_master(int sock, int *master, husk_err **err);
/* Start copying in a forked helper process; returns its pid. */
pid_t terminal_proxy_start(int master, husk_err **err);

#endif
