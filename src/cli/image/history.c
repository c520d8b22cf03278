/* history.c — `husk image history [--no-trunc] [-q] IMAGE`: the config's history,
 * newest first, with each entry's layer size (docker's columns: IMAGE CREATED
 * CREATED BY SIZE COMMENT; entries below the top are <missing>, as docker shows
 * for pulled images). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "engine.h"
#include "image.h"
#include "util.h"

static const char *str_member(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                                              : "";
}

int cmd_image_history(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "no-trunc", no_argument, NULL, 'T' }, { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },     { NULL, 0, NULL, 0 },
    };
    bool no_trunc = false, quiet = false;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+qh", opts)) != -1) {
        switch (ch) {
        case 'T': no_trunc = true; break;
        case 'q': quiet = true; break;
        case 'h':
            printf("usage: husk image history [--no-trunc] [-q] IMAGE\n");
            return 0;
        default:
            return engine_usage_error("image history", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("image history", argc, 1, 1, "IMAGE"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    struct image_record r;
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    if (image_lookup(&st, argv[optind], &r, &err) < 0 || store_read_blob(&st, r.id, 4u << 20, &text, &len, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    struct json_object *cfg = json_tokener_parse(text), *hist = NULL;
    size_t n = 0, layers = 0;
    if (cfg && json_object_object_get_ex(cfg, "history", &hist) && json_object_is_type(hist, json_type_array))
        n = json_object_array_length(hist);
    while (r.layers[layers])
        layers++;
    /* which layer each non-empty entry made, counted from the bottom */
    size_t nonempty = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(hist, i), *v;
        if (!(json_object_object_get_ex(e, "empty_layer", &v) && json_object_get_boolean(v)))
            nonempty++;
    }
    if (!quiet)
        printf("%-14s %-18s %-46s %-10s %s\n", "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT");
    size_t layer_ix = nonempty;
    for (size_t k = n; k-- > 0;) {
        struct json_object *e = json_object_array_get_idx(hist, k), *v;
        bool empty = json_object_object_get_ex(e, "empty_layer", &v) && json_object_get_boolean(v);
        const char *chain = NULL;
        if (!empty && layer_ix > 0) {
            layer_ix--;
            chain = layer_ix < layers ? r.layers[layer_ix] : NULL;
        }
        _cleanup_free_ char *id = k == n - 1 ? (no_trunc ? xstrdup(r.id) : fmt_short_id(r.id)) : xstrdup("<missing>");
        if (quiet) {
            printf("%s\n", id);
            continue;
        }
        _cleanup_free_ char *ago = fmt_ago(str_member(e, "created")), *size = fmt_size(chain ? image_layer_size(&st, chain) : 0);
        const char *by = str_member(e, "created_by");
        _cleanup_free_ char *shown = !no_trunc && strlen(by) > 45 ? xasprintf("%.44s…", by) : xstrdup(by);
        printf("%-14s %-18s %-46s %-10s %s\n", id, ago, shown, size, str_member(e, "comment"));
    }
    json_object_put(cfg);
    image_record_free(&r);
    store_close(&st);
    return 0;
}
