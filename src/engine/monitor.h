/* monitor.h — the engine's side of the per-container monitor (husk-monitor).
 *
 * `husk container start|run` forks M (setsid, PR_SET_CHILD_SUBREAPER), makes the
 * container in M with the runtime library, then M calls monitor_exec(): M becomes
 * husk-monitor, which is thus the init's parent (subreaper status survives execve)
 * and holds its stdio. The parent waits with monitor_wait_ready() until the monitor
 * listens on attach.sock, then attaches (attach.h) and/or starts the container.
 *
 * husk-monitor's command line (monitor_exec builds it; documented for tests and
 * for whoever runs it by hand):
 *
 *   husk-monitor --pid PID [--stdin FD] (--stdout FD --stderr FD | --pty FD)
 *                [--ready FD] [--log-max-size BYTES] [--log-max-files N]
 *                CTR_DIR [-- EXIT_COMMAND [ARG…]]
 *
 *   --pid     the container's init, which must be the monitor's child
 *   --stdin   write end of the init's stdin pipe (absent: stdin is not kept open)
 *   --stdout/--stderr  read ends of its output pipes
 *   --pty     the pty master (-t): its output, its input, TIOCSWINSZ
 *   --ready   one byte is written there, then it is closed, once attach.sock listens
 *   --log-max-size / --log-max-files  docker's json-file max-size / max-file
 *             (0 = unbounded, the default; files count the current one, default 1)
 *   CTR_DIR   ROOT/containers/<id>: the monitor's working directory, where it writes
 *             ctr.log (+ .1 …), attach.sock and exit ("<code> <RFC3339Nano>\n";
 *             code = exit status or 128+signal); a previous run's exit is removed
 *             as it starts, before it is ready; the log is appended to
 *   EXIT_COMMAND  an absolute path, execv'd (same pid) once the init is reaped, its
 *             output drained, `exit` written and the clients told; it gets only fds
 *             0, 1, 2, the default signal dispositions and mask, cwd "/". Without
 *             one, the monitor exits 0.
 *
 * The fds given may be any numbers; the monitor marks them close-on-exec. Its own
 * stderr gets a line for what goes wrong ("husk-monitor: …"). It exits 2 on a bad
 * command line, 1 when it cannot set up (the ready fd is then closed unwritten).
 * SIGTERM, SIGINT, SIGHUP and SIGQUIT are ignored; SIGKILL kills it (the engine
 * then sees monitorPid dead and reconciles). The socket protocol: monitor_proto.h. */
#ifndef HUSK_ENGINE_MONITOR_H
#define HUSK_ENGINE_MONITOR_H

#include <sys/types.h>

#include "error.h"
#include "monitor_proto.h"

struct monitor_args {
    const char *ctr_dir;           /* ROOT/containers/<id> */
    pid_t init_pid;
    int stdin_fd;                  /* write end, or -1 */
    int stdout_fd, stderr_fd;      /* read ends (-1 with a pty) */
    int pty_fd;                    /* the pty master, or -1 */
    int ready_fd;                  /* write end of a pipe, or -1 */
    int err_fd;                    /* the monitor's stderr and the exit command's stdout
                                      and stderr (e.g. a log file), or -1: /dev/null */
    long long log_max_size;        /* bytes, 0: unbounded */
    int log_max_files;             /* >= 1 (0 taken as 1) */
    char *const *exit_argv;        /* NULL-terminated, [0] an absolute path; or NULL */
};

/* The husk-monitor executable: $HUSK_MONITOR, else beside /proc/self/exe, else
 * ../libexec/husk/ from it. NULL (and *err) when none is executable. */
char *monitor_path(husk_err **err);

/* In M (see above): put the given fds at fixed numbers (0 = /dev/null, 1 and 2 =
 * err_fd, then ready, stdin, stdout, stderr / pty from 3), close every other fd,
 * and execv husk-monitor. Returns only on failure: -1 and *err; M should then
 * _exit(). (The monitor resets signal dispositions and the mask itself; M must
 * not have ignored SIGCHLD while the init could exit, or the kernel reaped it.) */
int monitor_exec(const struct monitor_args *a, husk_err **err);

/* In the parent, after closing its own copy of the ready pipe's write end: wait for
 * the monitor's byte. -1 and *err if the monitor ended (or failed) before. */
int monitor_wait_ready(int ready_read_fd, husk_err **err);

/* Read CTR_DIR/exit. 1 with *code and *time (malloc'd, may be NULL) when present,
 * 0 when absent (the container has not exited since its last start, or its monitor
 * died before recording it), -1 and *err when unreadable or malformed. */
int monitor_read_exit(int ctr_dirfd, int *code, char **time, husk_err **err);

#endif
