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

/* Run every hook of the list even when some fail, logging each failure as a warning
 * (runtime.md: a failing poststop hook is a warning, "the remaining hooks and
 * lifecycle continue as if the hook had succeeded"). Returns how many failed. */
int hooks_run_warn(const struct oci_hook_list *list, const char *stage, const char *state_json);

#endif
