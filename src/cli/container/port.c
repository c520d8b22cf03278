/* port.c — `husk container port CONTAINER [PRIVATE_PORT[/PROTO]]`: the published
 * ports (NetworkSettings.Ports), as docker prints them: "80/tcp -> 0.0.0.0:8080".
 * A container without a network (all of them until `--network`, issue 13) has none. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "container_cli.h"
#include "ctr_life.h"
#include "util.h"

int cmd_container_port(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int ch;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (ch == 'h') {
            printf("usage: husk container port CONTAINER [PRIVATE_PORT[/PROTO]]\n");
            return 0;
        }
        return engine_usage_error("container port", "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args("container port", argc, 1, 2, "CONTAINER [PRIVATE_PORT[/PROTO]]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *id = NULL;
    struct store st;
    struct json_object *o = NULL, *ns, *ports;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    if (ctr_lookup(&st, argv[optind], &id, &err) < 0 || ctr_inspect(&st, g->root, id, &o, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    store_close(&st);
    const char *want = optind + 1 < argc ? argv[optind + 1] : NULL;
    _cleanup_free_ char *want_full = want && !strchr(want, '/') ? xasprintf("%s/tcp", want) : NULL;
    bool found = false;
    if (json_object_object_get_ex(o, "NetworkSettings", &ns) && json_object_object_get_ex(ns, "Ports", &ports)) {
        json_object_object_foreach(ports, key, binds)
        {
            if (want && strcmp(key, want_full ? want_full : want) != 0)
                continue;
            for (size_t i = 0; binds && i < json_object_array_length(binds); i++) {
                struct json_object *b = json_object_array_get_idx(binds, i), *ip, *hp;
                json_object_object_get_ex(b, "HostIp", &ip);
                json_object_object_get_ex(b, "HostPort", &hp);
                printf(want ? "%s%s:%s\n" : "%s -> %s:%s\n", want ? "" : key,
                       ip && *json_object_get_string(ip) ? json_object_get_string(ip) : "0.0.0.0",
                       hp ? json_object_get_string(hp) : "");
                found = true;
            }
        }
    }
    json_object_put(o);
    if (want && !found) {
        husk_log(HUSK_LOG_ERROR, "container \"%s\": no public port \"%s\" published", argv[optind], want);
        return ENGINE_EXIT_ERROR;
    }
    return 0;
}
