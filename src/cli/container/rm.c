/* rm.c — `husk container rm [-f] [-v] CONTAINER…` and `prune [-f]`. */
#include <stdio.h>
#include <string.h>

#include "container_cli.h"
#include "ctr_life.h"
#include "util.h"

struct rm_flags {
    bool force;
    bool volumes;
};

static int rm_one(struct store *st, const char *runroot, const char *id, const char *arg, void *ctx,
                  husk_err **err)
{
    const struct rm_flags *f = ctx;
    if (ctr_remove(st, runroot, id, f->force, f->volumes, err) < 0)
        return -1;
    printf("%s\n", arg);
    return 0;
}

int cmd_container_rm(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "force", no_argument, NULL, 'f' },
        { "volumes", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct rm_flags f = { 0 };
    int ch;
    while ((ch = getopt_long(argc, argv, "+fvh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': f.force = true; break;
        case 'v': f.volumes = true; break; /* its anonymous volumes go too */
        case 'h': printf("usage: husk container rm [-f] [-v] CONTAINER [CONTAINER...]\n"); return 0;
        default: return engine_usage_error("container rm", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container rm", argc, 1, -1, "[-f] [-v] CONTAINER..."))
        return ENGINE_EXIT_ERROR;
    return container_each(g, argc, argv, rm_one, &f);
}

int cmd_container_prune(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': break;
        case 'h': printf("usage: husk container prune [-f]\n"); return 0;
        default: return engine_usage_error("container prune", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container prune", argc, 0, 0, "[-f]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    _cleanup_strv_ char **ids = NULL;
    int rc = 0;
    if (ctr_list(&st, &ids, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    printf("Deleted Containers:\n");
    for (size_t i = 0; ids[i]; i++) {
        struct ctr_state s = { 0 };
        if (ctr_state_get(&st, g->root, ids[i], &s, &err) < 0) {
            husk_err_report(&err);
            continue;
        }
        bool stopped = s.status == CTR_EXITED || s.status == CTR_CREATED;
        ctr_state_clear(&s);
        if (!stopped)
            continue;
        if (ctr_remove(&st, g->root, ids[i], false, false, &err) < 0) {
            husk_err_report(&err);
            rc = ENGINE_EXIT_ERROR;
            continue;
        }
        printf("%s\n", ids[i]);
    }
    store_close(&st);
    return rc;
}
