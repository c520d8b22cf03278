/* engine.h — what the engine's verbs (husk image|container|volume|network …) share.
 * Each noun dispatches to one thin file per verb (src/cli/<noun>/<verb>.c) over the
 * engine library (src/engine). Unlike the runtime verbs (runc's exit status 1), an
 * engine error exits 125, as docker's and podman's do, with one line naming the
 * thing (the image reference, the container name, the flag). */
#ifndef HUSK_CLI_ENGINE_H
#define HUSK_CLI_ENGINE_H

#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "store.h"

#define ENGINE_EXIT_ERROR 125
#define ENGINE_DEFAULT_STORAGE_ROOT "/var/lib/husk"

struct engine_verb {
    const char *name;
    cli_verb_fn fn;
    const char *help;
};

/* Dispatch "husk NOUN VERB ..." (argv[0] is NOUN) to the table. */
int engine_dispatch(struct cli_global *g, const char *noun, const struct engine_verb *verbs, size_t n, int argc,
                    char **argv);

/* Print the error once; return 125. */
int engine_fail(husk_err **err);
/* "husk: image ls: <msg> (see 'husk image ls --help')"; return 125. */
int engine_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Positional arguments from optind between min and max (-1: any), else a usage error. */
int engine_need_args(const char *verb, int argc, int min, int max, const char *usage);

/* Open the store at --storage-root. */
int engine_open_store(const struct cli_global *g, struct store *st, husk_err **err);

/* docker's human forms: "4.26MB" (decimal units), "3 weeks ago" from an RFC 3339 time. */
char *fmt_size(uint64_t bytes);
char *fmt_ago(const char *rfc3339);
/* The first 12 hex digits of "sha256:<hex>". */
char *fmt_short_id(const char *digest);

struct json_object;
/* Print o through a --format template: literal text, {{.A.B}} (a string as is,
 * anything else as JSON), {{json .A}}; "\t" and "\n" as in docker's. Returns 0, or
 * 125 after a usage error for what it does not support. */
int engine_format(const char *verb, const char *tmpl, struct json_object *o, FILE *out);
/* An inspect verb's output: each object of the array ALL through the --format
 * template, or (FORMAT NULL or "json") the array as indented JSON, as docker prints
 * it. Returns 0 or engine_format's exit code. */
int engine_print_inspect(const char *verb, const char *format, struct json_object *all);

/* husk-engine-lean: exec husk-engine with the whole command line (engine_full.c).
 * Returns 125 after an error. */
int engine_exec_full(struct cli_global *g, int argc, char **argv);

int cmd_container(struct cli_global *g, int argc, char **argv);
int cmd_container_run(struct cli_global *g, int argc, char **argv);
int cmd_container_create(struct cli_global *g, int argc, char **argv);
int cmd_container_start(struct cli_global *g, int argc, char **argv);
int cmd_container_stop(struct cli_global *g, int argc, char **argv);
int cmd_container_restart(struct cli_global *g, int argc, char **argv);
int cmd_container_kill(struct cli_global *g, int argc, char **argv);
int cmd_container_rm(struct cli_global *g, int argc, char **argv);
int cmd_container_ls(struct cli_global *g, int argc, char **argv);
int cmd_container_inspect(struct cli_global *g, int argc, char **argv);
int cmd_container_logs(struct cli_global *g, int argc, char **argv);
int cmd_container_exec(struct cli_global *g, int argc, char **argv);
int cmd_container_wait(struct cli_global *g, int argc, char **argv);
int cmd_container_attach(struct cli_global *g, int argc, char **argv);
int cmd_container_pause(struct cli_global *g, int argc, char **argv);
int cmd_container_unpause(struct cli_global *g, int argc, char **argv);
int cmd_container_rename(struct cli_global *g, int argc, char **argv);
int cmd_container_stats(struct cli_global *g, int argc, char **argv);
int cmd_container_port(struct cli_global *g, int argc, char **argv);
int cmd_container_top(struct cli_global *g, int argc, char **argv);
int cmd_container_prune(struct cli_global *g, int argc, char **argv);
int cmd_container_cleanup(struct cli_global *g, int argc, char **argv);
int cmd_container_commit(struct cli_global *g, int argc, char **argv);
int cmd_container_diff(struct cli_global *g, int argc, char **argv);
int cmd_container_export(struct cli_global *g, int argc, char **argv);
int cmd_container_cp(struct cli_global *g, int argc, char **argv);

int cmd_image(struct cli_global *g, int argc, char **argv);
int cmd_network(struct cli_global *g, int argc, char **argv);
int cmd_image_ls(struct cli_global *g, int argc, char **argv);
int cmd_image_inspect(struct cli_global *g, int argc, char **argv);
int cmd_image_tag(struct cli_global *g, int argc, char **argv);
int cmd_image_rm(struct cli_global *g, int argc, char **argv);
int cmd_image_history(struct cli_global *g, int argc, char **argv);
int cmd_image_import(struct cli_global *g, int argc, char **argv);
int cmd_image_load(struct cli_global *g, int argc, char **argv);
int cmd_image_save(struct cli_global *g, int argc, char **argv);
int cmd_image_prune(struct cli_global *g, int argc, char **argv);
int cmd_image_pull(struct cli_global *g, int argc, char **argv);
int cmd_image_push(struct cli_global *g, int argc, char **argv);
int cmd_volume(struct cli_global *g, int argc, char **argv);
int cmd_volume_create(struct cli_global *g, int argc, char **argv);
int cmd_volume_ls(struct cli_global *g, int argc, char **argv);
int cmd_volume_inspect(struct cli_global *g, int argc, char **argv);
int cmd_volume_rm(struct cli_global *g, int argc, char **argv);
int cmd_volume_prune(struct cli_global *g, int argc, char **argv);
int cmd_login(struct cli_global *g, int argc, char **argv);
int cmd_logout(struct cli_global *g, int argc, char **argv);

#endif
