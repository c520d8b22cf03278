/* engine_exec.c — how `husk image …` (and every engine noun) reaches the engine.
 *
 * The engine needs libcurl, OpenSSL's libssl and libcrypto, and libarchive; linked
 * into husk they bring about forty shared libraries, which the dynamic loader maps
 * and relocates on every exec of husk: measured here, `husk state` went from 9 ms to
 * 34 ms, and `husk run` execs husk twice. The runtime verbs are the ones podman,
 * containerd and Kubernetes call for every container, so they stay in an executable
 * that links only what they use, and the engine's verbs are run by husk-engine,
 * installed beside it ($libexecdir/husk/husk-engine; in the build tree, next to
 * husk), which links the runtime library too and calls it in-process. husk execs it
 * with the whole command line, so global flags mean the same there. HUSK_ENGINE
 * names another path (tests of an installed husk against a build tree). The
 * container noun goes to husk-engine-lean beside it when there (no registry
 * client, half the libraries: meson.build). */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "selfclone.h"
#include "util.h"

char **cli_main_argv;

/* dir of our own executable, from /proc/self/exe (engine verbs never run from the
 * sealed copy, so this is the file that was run). */
static char *own_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    return xstrdup(buf);
}

/* `husk container run|start|restart|exec` fork into a container: husk-engine is
 * executed from a protected copy at once (selfclone.h) instead of re-executing
 * itself, which would load its ~40 libraries a second time. */
static bool forks_into_container(int argc, char **argv)
{
    static const char *const verbs[] = { "run", "start", "restart", "exec" };
    if (argc < 2 || strcmp(argv[0], "container") != 0)
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
        if (strcmp(argv[1], verbs[i]) == 0)
            return true;
    return false;
}

int cli_exec_engine(struct cli_global *g, int argc, char **argv)
{
    (void)g;
    const char *env = getenv("HUSK_ENGINE");
    _cleanup_free_ char *dir = own_dir();
    _cleanup_free_ char *beside = dir ? xasprintf("%s/husk-engine", dir) : NULL;
    _cleanup_free_ char *libexec = dir ? xasprintf("%s/../libexec/husk/husk-engine", dir) : NULL;
    const char *tried[3] = { env && *env ? env : NULL, beside, libexec };

    for (size_t i = 0; i < ARRAY_SIZE(tried); i++) {
        if (!tried[i] || access(tried[i], X_OK) < 0)
            continue;
        /* The container noun has an executable of its own beside it, without the
         * registry client's libraries (meson.build: husk-engine-lean). */
        _cleanup_free_ char *lean = NULL;
        if (strcmp(argv[0], "container") == 0) {
            const char *slash = strrchr(tried[i], '/');
            lean = slash ? xasprintf("%.*s/husk-engine-lean", (int)(slash - tried[i]), tried[i]) : NULL;
            if (lean && access(lean, X_OK) == 0)
                tried[i] = lean;
        }
        log_debug("husk %s: exec %s", argv[0], tried[i]);
        /* husk-engine finds what is installed beside it through this (a protected
         * copy of it has no directory), and the monitor's exit command is it. */
        setenv("HUSK_ENGINE_EXE", tried[i], 1);
        if (forks_into_container(argc, argv)) {
            _cleanup_err_ husk_err *err = NULL;
            selfclone_exec_protected(tried[i], cli_main_argv, &err);
            husk_err_report(&err);
            return 125;
        }
        execv(tried[i], cli_main_argv);
        husk_log(HUSK_LOG_ERROR, "%s: exec %s: %s", argv[0], tried[i], strerror(errno));
        return 125;
    }
    husk_log(HUSK_LOG_ERROR, "%s: the engine (husk-engine) is not installed: not in %s nor %s%s%s", argv[0],
             beside ? beside : "?", libexec ? libexec : "?", env && *env ? " nor $HUSK_ENGINE=" : "",
             env && *env ? env : "");
    return 125;
}
