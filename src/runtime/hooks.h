/* hooks.h — OCI hooks: prestart, createRuntime, createContainer, startContainer,
 * poststart, poststop. Each hook is run with execve(path, args, env), the container
 * state JSON on its stdin, and killed when its timeout (seconds) passes. */
#ifndef HUSK_HOOKS_H
#define HUSK_HOOKS_H

#include "config.h"
#include "error.h"

/* Where a hook runs, as runc runs it: prestart and createRuntime in the bundle dir,
 * createContainer in the container's rootfs (so `mount --bind X ./dir` lands in the
 * container), poststart and poststop in the runtime's own cwd (cwd NULL). A hook
 * without `env` gets default_env: NULL for the runtime's own environment (hooks in
 * the runtime namespace), the container process's for hooks inside the container
 * (runc's init has that environment when it runs them). */
struct hooks_ctx {
    const char *cwd;
    char *const *default_env;
};

/* Run the hooks of one list in order; the first failing one stops the list.
 * `stage` names the list in errors ("createRuntime hook #0 (/path): exit status 1"). */
int hooks_run(const struct oci_hook_list *list, const char *stage, const char *state_json,
              const struct hooks_ctx *ctx, husk_err **err);

/* Run every hook of the list even when some fail, logging each failure as a warning
 * (runtime.md: a failing poststop hook is a warning, "the remaining hooks and
 * lifecycle continue as if the hook had succeeded"). Returns how many failed. */
int hooks_run_warn(const struct oci_hook_list *list, const char *stage, const char *state_json,
                   const struct hooks_ctx *ctx);

#endif
