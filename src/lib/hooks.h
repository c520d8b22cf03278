/* hooks.h — OCI hooks: prestart, createRuntime, createContainer, startContainer,
 * poststart, poststop. Each hook is run with execve(path, args, env), the container
 * state JSON on its stdin, and killed when its timeout (seconds) passes. */
#ifndef HUSK_HOOKS_H
#define HUSK_HOOKS_H

#include "config.h"
#include "error.h"

/* Run the hooks of one list in order; the first failing one stops the list.
 * `stage` names the list in errors ("createRuntime hook #0 (/path): exit status 1"). */
int hooks_run(const struct oci_hook_list *list, const char *stage, const char *state_json, husk_err **err);

#endif
