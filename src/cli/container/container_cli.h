/* container_cli.h — what the `husk container` verbs share. */
#ifndef HUSK_CLI_CONTAINER_H
#define HUSK_CLI_CONTAINER_H

#include <getopt.h>
#include <stdint.h>

#include "engine.h"
#include "log.h"

/* docker's RAMInBytes: "512m", "1g", "1024" (bytes). 0 or -1. */
int parse_bytes(const char *s, int64_t *out);

/* A start that failed: the error printed once, the container removed with --rm;
 * docker's status: 127 the command was not found, 126 it could not be invoked,
 * else 125. */
int container_start_failed(struct store *st, const char *runroot, const char *id, bool auto_remove,
                           husk_err **err);

/* Each NAME|ID argument from optind through fn; errors printed as they come.
 * Returns 0, or 125 when any failed (docker goes on with the others). */
typedef int (*container_each_fn)(struct store *st, const char *runroot, const char *id, const char *arg,
                                 void *ctx, husk_err **err);
int container_each(struct cli_global *g, int argc, char **argv, container_each_fn fn, void *ctx);

#endif
