/* container.c — `husk container VERB`: the container commands, one file per verb. */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "container_cli.h"
#include "ctr_life.h"
#include "monitor.h"
#include "selfclone.h"
#include "util.h"

static const struct engine_verb verbs[] = {
    { "run", cmd_container_run, "create and start a container from an image" },
    { "create", cmd_container_create, "create a container from an image" },
    { "start", cmd_container_start, "start created or stopped containers" },
    { "stop", cmd_container_stop, "stop running containers (stop signal, then SIGKILL)" },
    { "restart", cmd_container_restart, "stop and start containers" },
    { "kill", cmd_container_kill, "send a signal to running containers" },
    { "rm", cmd_container_rm, "remove containers" },
    { "ls", cmd_container_ls, "list containers" },
    { "list", cmd_container_ls, "list containers (ls)" },
    { "ps", cmd_container_ls, "list containers (ls)" },
    { "inspect", cmd_container_inspect, "show containers as JSON (docker's keys)" },

    { "logs", cmd_container_logs, "show a container's output" },
    { "exec", cmd_container_exec, "run a command in a running container" },
    { "wait", cmd_container_wait, "wait for containers to stop, print their exit codes" },
    { "attach", cmd_container_attach, "connect to a running container's stdio" },
    { "pause", cmd_container_pause, "freeze every process of containers" },
    { "unpause", cmd_container_unpause, "thaw paused containers" },
    { "rename", cmd_container_rename, "give a container another name" },
    { "stats", cmd_container_stats, "show containers' CPU, memory and pids use" },
    { "port", cmd_container_port, "list a container's published ports" },
    { "top", cmd_container_top, "show a container's processes" },
    { "prune", cmd_container_prune, "remove every stopped container" },
    { "commit", cmd_container_commit, "make an image of a container's changes" },
    { "diff", cmd_container_diff, "list what a container changed in its image's files" },
    { "export", cmd_container_export, "write a container's filesystem as a tar" },
    { "cp", cmd_container_cp, "copy files between a container and the host" },
    { "cleanup", cmd_container_cleanup, "(internal: the monitor's exit command)" },
};

/* The verbs that fork processes into a container run from a protected copy of
 * husk-engine (selfclone.h: CVE-2019-5736), as the runtime's create, run and exec do.
 * cleanup does only for a container it may restart (cleanup.c). */
static bool forks_into_container(const char *verb)
{
    static const char *const v[] = { "run", "start", "restart", "exec", "attach" };
    for (size_t i = 0; i < ARRAY_SIZE(v); i++)
        if (strcmp(v[i], verb) == 0)
            return true;
    return false;
}

int cmd_container(struct cli_global *g, int argc, char **argv)
{
    /* Found now, while /proc/self/exe is still the installed file: the protected
     * copy selfclone re-executes has no directory beside it. The monitor is run
     * from beside us, the monitor's exit command is us. */
    if (!getenv("HUSK_ENGINE_EXE")) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
            self[n] = '\0';
            setenv("HUSK_ENGINE_EXE", self, 1);
        }
    }
    if (!getenv("HUSK_MONITOR")) {
        /* beside the installed husk-engine (what /proc/self/exe of a protected copy
         * is not) */
        const char *exe = getenv("HUSK_ENGINE_EXE");
        const char *slash = exe ? strrchr(exe, '/') : NULL;
        _cleanup_free_ char *beside = slash ? xasprintf("%.*s/husk-monitor", (int)(slash - exe), exe) : NULL;
        if (beside && access(beside, X_OK) == 0) {
            setenv("HUSK_MONITOR", beside, 1);
        } else {
            husk_err *e = NULL;
            _cleanup_free_ char *m = monitor_path(&e);
            if (m)
                setenv("HUSK_MONITOR", m, 1);
            husk_err_free(&e);
        }
    }
    if (argc >= 2 && forks_into_container(argv[1])) {
        _cleanup_err_ husk_err *err = NULL;
        if (selfclone_ensure(cli_main_argv, &err) < 0)
            return engine_fail(&err);
    }
    return engine_dispatch(g, "container", verbs, ARRAY_SIZE(verbs), argc, argv);
}

static bool contains_ci(const char *s, const char *what)
{
    size_t n = strlen(what);
    for (; *s; s++)
        if (strncasecmp(s, what, n) == 0)
            return true;
    return false;
}

int container_start_failed(struct store *st, const char *runroot, const char *id, bool auto_remove, husk_err **err)
{
    int code = ENGINE_EXIT_ERROR;
    const char *m = *err ? (*err)->msg : "";
    if (contains_ci(m, "exec: \"")) {
        if (contains_ci(m, "executable file not found") || contains_ci(m, "no such file or directory"))
            code = 127;
        else
            code = 126;
    }
    husk_err_report(err);
    husk_err *e = NULL;
    if (auto_remove && ctr_remove(st, runroot, id, true, true, &e) < 0)
        husk_err_report(&e);
    return code;
}

int container_each(struct cli_global *g, int argc, char **argv, container_each_fn fn, void *ctx)
{
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        _cleanup_free_ char *id = NULL;
        if (ctr_lookup(&st, argv[i], &id, &err) < 0 || fn(&st, g->root, id, argv[i], ctx, &err) < 0) {
            husk_err_report(&err);
            rc = ENGINE_EXIT_ERROR;
        }
    }
    store_close(&st);
    return rc;
}
