/* engine_full.c — husk-engine-lean hands over to husk-engine.
 *
 * husk-engine-lean (meson.build) runs the `container` noun without a registry
 * client: what it cannot do (a `run` or `create` that must pull its image, or any
 * other noun when it is run directly) it passes on, whole command line and
 * environment as they are, to husk-engine installed beside it ($HUSK_ENGINE names
 * another one, as for husk). HUSK_ENGINE_EXE stays the lean one: the monitors that
 * husk-engine starts exec it for their cleanup. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "util.h"

int engine_exec_full(struct cli_global *g, int argc, char **argv)
{
    (void)g;
    (void)argc;
    const char *env = getenv("HUSK_ENGINE");
    _cleanup_free_ char *full = NULL;
    if (env && *env) {
        full = xstrdup(env);
    } else {
        /* beside the installed lean one (a protected copy's /proc/self/exe has no
         * directory: the path husk ran is in HUSK_ENGINE_EXE) */
        const char *self = getenv("HUSK_ENGINE_EXE");
        char buf[PATH_MAX];
        if (!self || *self != '/') {
            ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
            buf[n > 0 ? n : 0] = '\0';
            self = buf;
        }
        const char *slash = strrchr(self, '/');
        if (slash)
            full = xasprintf("%.*s/husk-engine", (int)(slash - self), self);
    }
    if (full)
        execv(full, cli_main_argv);
    husk_log(HUSK_LOG_ERROR, "%s: exec the engine (husk-engine) %s: %s", argv[0], full ? full : "",
             full ? strerror(errno) : "not found");
    return ENGINE_EXIT_ERROR;
}
