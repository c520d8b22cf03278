/* exec.h — `husk exec`: run one more process inside a running container.
 *
 * The way the seed articles describe `docker exec`: open /proc/<init>/ns/NAME of the
 * container's init and setns() into each, join its cgroups and its root, then set
 * the process up exactly as the init's own process was (capabilities, user, rlimits,
 * noNewPrivileges, the seccomp filter of linux.seccomp), from the copy of config.json
 * that `create` saved in the state directory. */
#ifndef HUSK_EXEC_H
#define HUSK_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"

struct husk_exec {
    const char *root;              /* --root */
    const char *id;

    /* The process: from --process FILE (owned by the caller), else the container's
     * process.args replaced by args (NULL-terminated, CMD ARG...). */
    struct oci_process *process;
    char **args;

    /* runc's exec flags; each overrides (or, for env/cap/gids, adds to) the process. */
    bool tty;                      /* --tty */
    const char *console_socket;    /* --console-socket */
    int console_sock_fd;           /* caller's end of a socketpair for a foreground tty, or -1 */
    const char *pid_file;          /* --pid-file */
    const char *cwd;               /* --cwd */
    char **env;                    /* --env, NULL-terminated or NULL */
    bool has_user;                 /* --user UID[:GID] */
    uid_t uid;
    bool has_gid;
    gid_t gid;
    gid_t *additional_gids;        /* --additional-gids */
    size_t n_additional_gids;
    char **caps;                   /* --cap, NULL-terminated or NULL */
    bool no_new_privs;             /* --no-new-privs */
    int preserve_fds;              /* --preserve-fds N */
    bool ignore_paused;            /* --ignore-paused */
    const char *cgroup;            /* --cgroup SUB: a sub-cgroup of the container's */
};

/* Parse --user "UID[:GID]" (numbers only, as husk reads no /etc/passwd on the host). */
int exec_parse_user(const char *s, struct husk_exec *e, husk_err **err);

/* Start the process. Returns once it has exec'd (*pid: its host pid, a child of the
 * caller) or failed; every error before the execve() comes back here, including
 * "executable file not found". Returns 0, -1, or -127 when the program could not be
 * found or executed (the CLI exits 255 for both, as runc's exec does). The pid file is
 * written on success. */
int exec_start(struct husk_exec *e, pid_t *pid, husk_err **err);

#endif
