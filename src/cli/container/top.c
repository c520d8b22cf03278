/* top.c — `husk container top CONTAINER [ps OPTIONS]`: the container's processes
 * (every pid of its cgroup) as ps shows them on the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "container_cli.h"
#include "ctr_life.h"
#include "util.h"

int cmd_container_top(struct cli_global *g, int argc, char **argv)
{
    optind = 1;
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: husk container top CONTAINER [ps OPTIONS]\n");
        return 0;
    }
    if (engine_need_args("container top", argc, 1, -1, "CONTAINER [ps OPTIONS]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *id = NULL;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    struct store st;
    struct ctr_state s = { 0 };
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    int rc = 0;
    if (ctr_lookup(&st, argv[1], &id, &err) < 0 || ctr_state_get(&st, g->root, id, &s, &err) < 0) {
        rc = engine_fail(&err);
        goto out;
    }
    if (s.status != CTR_RUNNING && s.status != CTR_PAUSED) {
        husk_log(HUSK_LOG_ERROR, "container \"%s\" is not running", argv[1]);
        rc = ENGINE_EXIT_ERROR;
        goto out;
    }
    if (container_pids(g->root, id, &pids, &n, &err) < 0) {
        rc = engine_fail(&err);
        goto out;
    }
    /* ps -o/-e options as given (docker's default: -ef), limited to the pids */
    size_t extra = (size_t)(argc - 2);
    char **av = xcalloc(extra + 5, sizeof *av);
    size_t k = 0;
    av[k++] = "ps";
    if (extra == 0)
        av[k++] = "-f";
    for (int i = 2; i < argc; i++)
        av[k++] = argv[i];
    char *list = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *l2 = xasprintf("%s%s%d", list, i ? "," : "", (int)pids[i]);
        free(list);
        list = l2;
    }
    av[k++] = "-p";
    av[k++] = n ? list : "0";
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        execvp("ps", av);
        _exit(127);
    }
    int status = 0;
    if (child > 0)
        waitpid(child, &status, 0);
    free(list);
    free(av);
    rc = child > 0 && WIFEXITED(status) && WEXITSTATUS(status) <= 1 ? 0 : ENGINE_EXIT_ERROR;
out:
    ctr_state_clear(&s);
    store_close(&st);
    return rc;
}
