/* ls.c — `husk container ls [-a] [-q] [--no-trunc] [--format json|TEMPLATE]
 * [--filter KEY=VALUE]`: docker's columns (CONTAINER ID, IMAGE, COMMAND, CREATED,
 * STATUS, PORTS, NAMES), running containers only unless -a. Filters: id, name,
 * status, label (key or key=value), ancestor (the image as typed). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "container_cli.h"
#include "ctr_life.h"
#include "util.h"

static const char *jstr(struct json_object *o, const char *k1, const char *k2)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, k1, &v))
        return "";
    if (k2 && !json_object_object_get_ex(v, k2, &v))
        return "";
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* "Up 5 seconds", "Exited (0) 3 minutes ago" */
static char *human_since(const char *t)
{
    _cleanup_free_ char *ago = fmt_ago(t); /* "N units ago" */
    size_t n = strlen(ago);
    if (n > 4 && strcmp(ago + n - 4, " ago") == 0)
        ago[n - 4] = '\0';
    return steal_ptr(ago);
}

static char *status_text(struct json_object *state)
{
    const char *status = jstr(state, "Status", NULL);
    if (strcmp(status, "running") == 0 || strcmp(status, "paused") == 0) {
        _cleanup_free_ char *up = human_since(jstr(state, "StartedAt", NULL));
        return xasprintf("Up %s%s", up, strcmp(status, "paused") == 0 ? " (Paused)" : "");
    }
    if (strcmp(status, "exited") == 0) {
        struct json_object *c;
        json_object_object_get_ex(state, "ExitCode", &c);
        _cleanup_free_ char *ago = fmt_ago(jstr(state, "FinishedAt", NULL));
        return xasprintf("Exited (%d) %s", json_object_get_int(c), ago);
    }
    return xstrdup("Created");
}

/* docker's PORTS: "127.0.0.1:8080->80/tcp, …" from NetworkSettings.Ports */
static char *ports_text(struct json_object *o)
{
    struct json_object *ns = NULL, *ports = NULL;
    char *out = xstrdup("");
    if (!json_object_object_get_ex(o, "NetworkSettings", &ns) || !json_object_object_get_ex(ns, "Ports", &ports) ||
        !json_object_is_type(ports, json_type_object))
        return out;
    json_object_object_foreach(ports, key, list) {
        for (size_t i = 0; json_object_is_type(list, json_type_array) && i < json_object_array_length(list); i++) {
            struct json_object *b = json_object_array_get_idx(list, i);
            char *t = xasprintf("%s%s%s:%s->%s", out, *out ? ", " : "", jstr(b, "HostIp", NULL),
                                jstr(b, "HostPort", NULL), key);
            free(out);
            out = t;
        }
    }
    return out;
}

static bool match_filter(struct json_object *o, char **filters)
{
    for (size_t i = 0; filters && filters[i]; i++) {
        const char *f = filters[i], *eq = strchr(f, '=');
        const char *val = eq + 1;
        size_t kl = (size_t)(eq - f);
        bool ok;
        if (kl == 2 && strncmp(f, "id", 2) == 0)
            ok = strncmp(jstr(o, "Id", NULL), val, strlen(val)) == 0;
        else if (kl == 4 && strncmp(f, "name", 4) == 0)
            ok = strstr(jstr(o, "Name", NULL), val) != NULL;
        else if (kl == 6 && strncmp(f, "status", 6) == 0)
            ok = strcmp(jstr(o, "State", "Status"), val) == 0;
        else if (kl == 8 && strncmp(f, "ancestor", 8) == 0)
            ok = strcmp(jstr(o, "ImageName", NULL), val) == 0 || strncmp(jstr(o, "Image", NULL) + 7, val, strlen(val)) == 0;
        else { /* label */
            struct json_object *labels = NULL, *lv;
            json_object_object_get_ex(o, "Config", &labels);
            json_object_object_get_ex(labels, "Labels", &labels);
            const char *leq = strchr(val, '=');
            _cleanup_free_ char *k = leq ? strndup(val, (size_t)(leq - val)) : xstrdup(val);
            ok = labels && json_object_object_get_ex(labels, k, &lv) &&
                 (!leq || strcmp(json_object_get_string(lv), leq + 1) == 0);
        }
        if (!ok)
            return false;
    }
    return true;
}

int cmd_container_ls(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "all", no_argument, NULL, 'a' },
        { "quiet", no_argument, NULL, 'q' },
        { "no-trunc", no_argument, NULL, 'N' },
        { "format", required_argument, NULL, 'f' },
        { "filter", required_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool all = false, quiet = false, no_trunc = false;
    const char *format = NULL;
    _cleanup_strv_ char **filters = NULL;
    size_t nf = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+aqf:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'a': all = true; break;
        case 'q': quiet = true; break;
        case 'N': no_trunc = true; break;
        case 'f': format = optarg; break;
        case 'F': {
            const char *eq = strchr(optarg, '=');
            static const char *const keys[] = { "id", "name", "status", "label", "ancestor" };
            bool known = false;
            for (size_t i = 0; eq && i < ARRAY_SIZE(keys); i++)
                known = known || ((size_t)(eq - optarg) == strlen(keys[i]) && strncmp(optarg, keys[i], strlen(keys[i])) == 0);
            if (!known)
                return engine_usage_error("container ls", "--filter \"%s\": not id=, name=, status=, label= or ancestor=",
                                          optarg);
            if (strncmp(optarg, "status=", 7) == 0)
                all = true;
            filters = xrealloc(filters, (nf + 2) * sizeof *filters);
            filters[nf++] = xstrdup(optarg);
            filters[nf] = NULL;
            break;
        }
        case 'h':
            printf("usage: husk container ls [-a] [-q] [--no-trunc] [--format json|TEMPLATE] [--filter KEY=VALUE]\n");
            return 0;
        default: return engine_usage_error("container ls", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container ls", argc, 0, 0, "[options]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    _cleanup_strv_ char **ids = NULL;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    if (ctr_list(&st, &ids, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    if (format && strcmp(format, "table") == 0)
        format = NULL;
    bool table = !quiet && !format;
    if (table)
        printf("%-14s %-22s %-22s %-16s %-26s %-8s %s\n", "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
               "PORTS", "NAMES");
    int rc = 0;
    for (size_t i = 0; ids[i]; i++) {
        struct json_object *o = NULL;
        if (ctr_inspect(&st, g->root, ids[i], &o, &err) < 0) {
            husk_err_free(&err); /* removed meanwhile */
            continue;
        }
        struct json_object *state = NULL;
        json_object_object_get_ex(o, "State", &state);
        const char *status = jstr(state, "Status", NULL);
        if ((!all && strcmp(status, "running") != 0 && strcmp(status, "paused") != 0) || !match_filter(o, filters)) {
            json_object_put(o);
            continue;
        }
        const char *id = jstr(o, "Id", NULL), *name = jstr(o, "Name", NULL);
        if (*name == '/')
            name++;
        if (quiet) {
            printf("%.*s\n", no_trunc ? 64 : 12, id);
        } else if (format) {
            /* docker's `ps` keys: one JSON object a line, or through a template */
            struct json_object *j = json_object_new_object();
            _cleanup_free_ char *st_text = status_text(state);
            json_object_object_add(j, "ID", json_object_new_string(id));
            json_object_object_add(j, "Names", json_object_new_string(name));
            json_object_object_add(j, "Image", json_object_new_string(jstr(o, "ImageName", NULL)));
            json_object_object_add(j, "Command", json_object_new_string(jstr(o, "Path", NULL)));
            json_object_object_add(j, "CreatedAt", json_object_new_string(jstr(o, "Created", NULL)));
            json_object_object_add(j, "State", json_object_new_string(status));
            json_object_object_add(j, "Status", json_object_new_string(st_text));
            _cleanup_free_ char *ports = ports_text(o);
            json_object_object_add(j, "Ports", json_object_new_string(ports));
            struct json_object *labels = NULL;
            json_object_object_get_ex(o, "Config", &labels);
            json_object_object_get_ex(labels, "Labels", &labels);
            json_object_object_add(j, "Labels", labels ? json_object_get(labels) : json_object_new_object());
            if (strcmp(format, "json") == 0)
                printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
            else
                rc = engine_format("container ls", format, j, stdout);
            json_object_put(j);
            if (rc) {
                json_object_put(o);
                break;
            }
        } else {
            _cleanup_free_ char *created = fmt_ago(jstr(o, "Created", NULL)), *st_text = status_text(state);
            _cleanup_free_ char *ports = ports_text(o);
            struct json_object *args = NULL;
            json_object_object_get_ex(o, "Args", &args);
            _cleanup_free_ char *cmd = xasprintf("\"%s", jstr(o, "Path", NULL));
            for (size_t k = 0; args && k < json_object_array_length(args); k++) {
                char *c2 = xasprintf("%s %s", cmd, json_object_get_string(json_object_array_get_idx(args, k)));
                free(cmd);
                cmd = c2;
            }
            if (!no_trunc && strlen(cmd) > 19)
                strcpy(cmd + 17, "…");
            char *c3 = xasprintf("%s\"", cmd);
            free(cmd);
            cmd = c3;
            printf("%-14.*s %-22s %-22s %-16s %-26s %-8s %s\n", no_trunc ? 64 : 12, id, jstr(o, "ImageName", NULL), cmd,
                   created, st_text, ports, name);
        }
        json_object_put(o);
    }
    store_close(&st);
    return rc;
}
