/* attach.c — `husk container attach [--no-stdin] [--detach-keys K] CONTAINER`:
 * our stdio to a running container's, through its monitor (attach.h), until it
 * exits (its status is ours) or the detach keys (ctrl-p ctrl-q) are typed. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "attach.h"
#include "container_cli.h"
#include "ctr_life.h"
#include "util.h"

int cmd_container_attach(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "no-stdin", no_argument, NULL, 'n' },
        { "detach-keys", required_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct attach_opts ao = { .stdin = true };
    int ch;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': ao.stdin = false; break;
        case 'k': ao.detach_keys = optarg; break;
        case 'h': printf("usage: husk container attach [--no-stdin] [--detach-keys KEYS] CONTAINER\n"); return 0;
        default: return engine_usage_error("container attach", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container attach", argc, 1, 1, "CONTAINER"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *id = NULL, *dir = NULL;
    struct store st;
    struct ctr_state s = { 0 };
    struct json_object *rec = NULL;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    int rc = ENGINE_EXIT_ERROR, sock = -1, code = 0;
    if (ctr_lookup(&st, argv[optind], &id, &err) < 0 || ctr_state_get(&st, g->root, id, &s, &err) < 0 ||
        ctr_record_read(&st, id, &rec, &err) < 0) {
        engine_fail(&err);
        goto out;
    }
    if (s.status != CTR_RUNNING) {
        husk_log(HUSK_LOG_ERROR, "container \"%s\" is %s: you cannot attach to a container that is not running",
                 argv[optind], ctr_status_name(s.status));
        goto out;
    }
    struct json_object *c = NULL, *v = NULL;
    json_object_object_get_ex(rec, "Config", &c);
    ao.tty = c && json_object_object_get_ex(c, "Tty", &v) && json_object_get_boolean(v);
    bool open_stdin = c && json_object_object_get_ex(c, "OpenStdin", &v) && json_object_get_boolean(v);
    ao.stdin = ao.stdin && open_stdin;
    dir = ctr_dir(&st, id);
    if ((sock = attach_connect(dir, &err)) < 0) {
        engine_fail(&err);
        goto out;
    }
    int r = attach_run(sock, &ao, &code, &err);
    if (r < 0)
        engine_fail(&err);
    else if (r == ATTACH_EXITED)
        rc = code;
    else
        rc = 0;
out:
    if (rec)
        json_object_put(rec);
    ctr_state_clear(&s);
    store_close(&st);
    return rc;
}
