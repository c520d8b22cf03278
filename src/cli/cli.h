/* cli.h — what every verb of the husk CLI shares. One file per verb, each thin:
 * parse flags, call the library (src/runtime), print. Errors are printed once, by
 * cli_fail(), as one "husk: ..." line (and into --log). */
#ifndef HUSK_CLI_H
#define HUSK_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "error.h"

struct cli_global {
    const char *root;           /* --root, default /run/husk */
    const char *log;            /* --log FILE */
    bool log_json;              /* --log-format json */
    bool debug;
    bool systemd_cgroup;        /* --systemd-cgroup (not supported yet) */
    const char *rootless;       /* --rootless true|false|auto */
    const char *criu;           /* --criu PATH: criu program for checkpoint/restore */
    const char *storage_root;   /* --storage-root: the engine's images, containers, volumes */
};

typedef int (*cli_verb_fn)(struct cli_global *g, int argc, char **argv);

int cmd_spec(struct cli_global *g, int argc, char **argv);
int cmd_create(struct cli_global *g, int argc, char **argv);
int cmd_start(struct cli_global *g, int argc, char **argv);
int cmd_run(struct cli_global *g, int argc, char **argv);
int cmd_state(struct cli_global *g, int argc, char **argv);
int cmd_list(struct cli_global *g, int argc, char **argv);
int cmd_kill(struct cli_global *g, int argc, char **argv);
int cmd_delete(struct cli_global *g, int argc, char **argv);
int cmd_pause(struct cli_global *g, int argc, char **argv);
int cmd_resume(struct cli_global *g, int argc, char **argv);
int cmd_update(struct cli_global *g, int argc, char **argv);
int cmd_events(struct cli_global *g, int argc, char **argv);
int cmd_ps(struct cli_global *g, int argc, char **argv);
int cmd_exec(struct cli_global *g, int argc, char **argv);
int cmd_features(struct cli_global *g, int argc, char **argv);
int cmd_checkpoint(struct cli_global *g, int argc, char **argv);
int cmd_restore(struct cli_global *g, int argc, char **argv);

/* checkpoint.c: the flags checkpoint and restore share (getopt codes i w T U J L M).
 * Returns 1 if ch was one of them (stored in o), else 0. */
struct criu_opts;
int cli_criu_flag(int ch, struct criu_opts *o);

/* The engine's verbs, in the husk executable: exec husk-engine with the whole
 * command line (cli_main_argv). Never returns but with an error (exit 125). */
int cli_exec_engine(struct cli_global *g, int argc, char **argv);
extern char **cli_main_argv;

/* Print the error once and return the exit status 1. */
int cli_fail(husk_err **err);
/* Print "husk: <msg>" for a usage error and return 1 (runc exits 1 on these too). */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse verb flags with getopt_long_only (so runc's "-bundle x" works too), stopping
 * at the first non-flag (the container id). Returns the getopt code, -1 at the end. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* Exactly `n` positional arguments from optind, else a usage error naming the verb. */
int cli_need_args(const char *verb, int argc, char **argv, int min, int max, const char *usage);

/* Shared by create and run. */
struct husk_container;
struct create_flags {
    const char *bundle;
    const char *console_socket;
    const char *pid_file;
    bool no_pivot, no_new_keyring;
    int preserve_fds;
    bool detach, keep;     /* run only */
};
/* Refuse global flags husk does not support yet for container creation. */
int cli_check_create_globals(const struct cli_global *g);
/* Load the bundle's config and fill a container context (frees on failure). */
int cli_prepare_container(const struct cli_global *g, const struct create_flags *f, const char *id,
                          struct husk_container *c, husk_err **err);
void cli_release_container(struct husk_container *c);

/* run.c, shared with exec: wait for pid (our child) reading signals from the signalfd
 * sfd (every signal blocked), forwarding them to it and SIGWINCH to the pty master;
 * reaps the tty proxy. Returns its exit code, or 128+N when signal N killed it. */
#include <sys/types.h>
int cli_wait_container(pid_t init, int sfd, int master, pid_t proxy);

#endif
