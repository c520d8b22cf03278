/* ls.c — `husk volume ls [-q] [--format json] [--filter name=…|label=K[=V]|dangling=true|false]`:
 * DRIVER and VOLUME NAME columns, as docker; --format json one object per line;
 * filters of one kind are or'ed, of different kinds and'ed (docker's). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "engine.h"
#include "util.h"
#include "volumes.h"

struct filters {
    char *names[16], *labels[16];
    size_t n_names, n_labels;
    int dangling; /* -1: not given */
};

static int add_filter(struct filters *f, char *arg)
{
    char *eq = strchr(arg, '=');
    if (!eq)
        return engine_usage_error("volume ls", "--filter \"%s\": not KEY=VALUE", arg);
    *eq = '\0';
    const char *v = eq + 1;
    if (strcmp(arg, "name") == 0 && f->n_names < ARRAY_SIZE(f->names))
        f->names[f->n_names++] = eq + 1;
    else if (strcmp(arg, "label") == 0 && f->n_labels < ARRAY_SIZE(f->labels))
        f->labels[f->n_labels++] = eq + 1;
    else if (strcmp(arg, "dangling") == 0 && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0))
        f->dangling = 1;
    else if (strcmp(arg, "dangling") == 0 && (strcmp(v, "false") == 0 || strcmp(v, "0") == 0))
        f->dangling = 0;
    else
        return engine_usage_error("volume ls", "--filter \"%s=%s\": not name=, label= or dangling=true|false", arg, v);
    return 0;
}

static bool matches(const struct filters *f, const char *name, struct json_object *vol, char *const *used)
{
    bool ok = f->n_names == 0;
    for (size_t i = 0; i < f->n_names && !ok; i++)
        ok = strstr(name, f->names[i]) != NULL;
    if (!ok)
        return false;
    for (size_t i = 0; i < f->n_labels; i++)
        if (!vol_label_match(vol, f->labels[i]))
            return false;
    return f->dangling < 0 || (f->dangling == 1) == !vol_in(used, name);
}

static char *labels_text(struct json_object *vol)
{
    struct json_object *labels;
    char *s = xstrdup("");
    if (!json_object_object_get_ex(vol, "Labels", &labels) || !json_object_is_type(labels, json_type_object))
        return s;
    json_object_object_foreach(labels, k, v)
    {
        char *n = xasprintf("%s%s%s=%s", s, *s ? "," : "", k, json_object_get_string(v));
        free(s);
        s = n;
    }
    return s;
}

int cmd_volume_ls(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "quiet", no_argument, NULL, 'q' },
        { "format", required_argument, NULL, 'F' },
        { "filter", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct filters f = { .dangling = -1 };
    bool quiet = false, json = false;
    int ch, r;
    while ((ch = getopt_long(argc, argv, "+qf:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'q': quiet = true; break;
        case 'F':
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "table") != 0)
                return engine_usage_error("volume ls", "--format: \"%s\" is not supported (json or table)", optarg);
            break;
        case 'f':
            if ((r = add_filter(&f, optarg)) != 0)
                return r;
            break;
        case 'h':
            printf("usage: husk volume ls [-q] [--format json|table] [--filter name=X|label=K[=V]|dangling=true]\n");
            return 0;
        default: return engine_usage_error("volume ls", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("volume ls", argc, 0, 0, "[-q] [--format json|table] [--filter FILTER]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_strv_ char **names = NULL, **used = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    if (vol_list(&st, &names, &err) < 0 || vol_used_names(&st, &used, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    if (!quiet && !json)
        printf("%-10s %s\n", "DRIVER", "VOLUME NAME");
    for (size_t i = 0; names[i]; i++) {
        struct json_object *vol;
        husk_err *e = NULL;
        if (vol_inspect(&st, names[i], &vol, &e) < 0) {
            husk_err_free(&e);
            continue;
        }
        if (matches(&f, names[i], vol, used)) {
            if (quiet) {
                printf("%s\n", names[i]);
            } else if (json) {
                struct json_object *o = json_object_new_object(), *v;
                _cleanup_free_ char *lt = labels_text(vol);
                json_object_object_add(o, "Driver", json_object_new_string("local"));
                json_object_object_add(o, "Labels", json_object_new_string(lt));
                json_object_object_add(o, "Mountpoint", json_object_new_string(
                                           json_object_object_get_ex(vol, "Mountpoint", &v) ? json_object_get_string(v)
                                                                                            : ""));
                json_object_object_add(o, "Name", json_object_new_string(names[i]));
                json_object_object_add(o, "Scope", json_object_new_string("local"));
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
            } else {
                printf("%-10s %s\n", "local", names[i]);
            }
        }
        json_object_put(vol);
    }
    store_close(&st);
    return 0;
}
