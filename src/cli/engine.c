/* engine.c — the engine CLI's shared pieces (engine.h). */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "log.h"
#include "util.h"

/* the command line as run (selfclone_ensure re-executes it) */
char **cli_main_argv;

int engine_fail(husk_err **err)
{
    husk_err_report(err);
    return ENGINE_EXIT_ERROR;
}

int engine_usage_error(const char *verb, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    husk_log(HUSK_LOG_ERROR, "%s: %s (see 'husk %s --help')", verb, msg ? msg : "usage error", verb);
    free(msg);
    return ENGINE_EXIT_ERROR;
}

int engine_need_args(const char *verb, int argc, int min, int max, const char *usage)
{
    int n = argc - optind;
    if (n < min || (max >= 0 && n > max))
        return engine_usage_error(verb, "%s, got %d (usage: husk %s %s)",
                                  min == max ? (min == 1 ? "requires exactly 1 argument" : "wrong number of arguments")
                                  : n < min ? (min == 1 ? "requires at least 1 argument" : "too few arguments")
                                            : "too many arguments",
                                  n, verb, usage);
    return 0;
}

int engine_open_store(const struct cli_global *g, struct store *st, husk_err **err)
{
    return store_open(g->storage_root ? g->storage_root : ENGINE_DEFAULT_STORAGE_ROOT, st, err);
}

static void noun_help(FILE *f, const char *noun, const struct engine_verb *verbs, size_t n)
{
    fprintf(f, "usage: husk %s COMMAND [options]\n\ncommands:\n", noun);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].help);
    fprintf(f, "\n'husk %s COMMAND --help' for a command's options.\n", noun);
}

int engine_dispatch(struct cli_global *g, const char *noun, const struct engine_verb *verbs, size_t n, int argc,
                    char **argv)
{
    if (argc < 2) {
        noun_help(stderr, noun, verbs, n);
        return ENGINE_EXIT_ERROR;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        noun_help(stdout, noun, verbs, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(verbs[i].name, argv[1]) != 0)
            continue;
        optind = 0;   /* glibc: full re-initialisation of getopt for the verb */
        return verbs[i].fn(g, argc - 1, argv + 1);
    }
    husk_log(HUSK_LOG_ERROR, "%s: unknown command \"%s\" (see 'husk %s --help')", noun, argv[1], noun);
    return ENGINE_EXIT_ERROR;
}

char *fmt_size(uint64_t b)
{
    /* docker: decimal units, 3 significant digits ("4.26MB", "125kB", "0B") */
    static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB" };
    double v = (double)b;
    size_t u = 0;
    while (v >= 1000 && u + 1 < ARRAY_SIZE(unit)) {
        v /= 1000;
        u++;
    }
    return xasprintf("%.3g%s", v, unit[u]);
}

char *fmt_ago(const char *t)
{
    struct tm tm = { 0 };
    if (!t || !strptime(t, "%Y-%m-%dT%H:%M:%S", &tm))
        return xstrdup("N/A");
    time_t then = timegm(&tm), now = time(NULL);
    long long secs = (long long)(now - then);
    long long mins = secs / 60, hours = secs / 3600, days = secs / 86400;
    /* docker's wording (go-units HumanDuration), so scripts that parse it still do */
    if (secs < 1)
        return xstrdup("Less than a second ago");
    if (secs == 1)
        return xstrdup("1 second ago");
    if (secs < 60)
        return xasprintf("%lld seconds ago", secs);
    if (mins == 1)
        return xstrdup("About a minute ago");
    if (mins < 60)
        return xasprintf("%lld minutes ago", mins);
    if (hours == 1)
        return xstrdup("About an hour ago");
    if (hours < 48)
        return xasprintf("%lld hours ago", hours);
    if (days < 14)
        return xasprintf("%lld days ago", days);
    if (days < 90)
        return xasprintf("%lld weeks ago", days / 7);
    if (days < 730)
        return xasprintf("%lld months ago", days / 30);
    return xasprintf("%lld years ago", days / 365);
}

char *fmt_short_id(const char *digest)
{
    const char *hex = strchr(digest, ':');
    hex = hex ? hex + 1 : digest;
    return xasprintf("%.12s", hex);
}

/* ---- --format: the part of Go's templates docker users write most ---- */

static struct json_object *path_get(struct json_object *o, const char *p, size_t n)
{
    /* ".A.B" (n bytes) */
    while (o && n > 0) {
        if (*p != '.')
            return NULL;
        p++, n--;
        size_t k = 0;
        while (k < n && p[k] != '.')
            k++;
        if (k == 0)
            return o;
        char key[128];
        if (k >= sizeof key)
            return NULL;
        memcpy(key, p, k);
        key[k] = '\0';
        struct json_object *v = NULL;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
            return NULL;
        o = v;
        p += k, n -= k;
    }
    return o;
}

int engine_format(const char *verb, const char *tmpl, struct json_object *o, FILE *out)
{
    const char *p = tmpl;
    while (*p) {
        const char *open = strstr(p, "{{");
        size_t lit = open ? (size_t)(open - p) : strlen(p);
        for (size_t i = 0; i < lit; i++) {
            if (p[i] == '\\' && i + 1 < lit && (p[i + 1] == 't' || p[i + 1] == 'n')) {
                fputc(p[i + 1] == 't' ? '\t' : '\n', out);
                i++;
            } else {
                fputc(p[i], out);
            }
        }
        if (!open)
            break;
        const char *close = strstr(open, "}}");
        if (!close)
            return engine_usage_error(verb, "--format \"%s\": a {{ without }}", tmpl);
        const char *a = open + 2, *b = close;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        bool json = false;
        if ((size_t)(b - a) > 5 && strncmp(a, "json ", 5) == 0) {
            json = true;
            a += 5;
            while (a < b && *a == ' ')
                a++;
        }
        if (a >= b || *a != '.')
            return engine_usage_error(verb, "--format \"%s\": only {{.Field.Path}} and {{json .Field}} are supported",
                                      tmpl);
        struct json_object *v = path_get(o, a, (size_t)(b - a));
        if (json)
            fputs(v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "null", out);
        else if (!v)
            fputs("<no value>", out);
        else if (json_object_is_type(v, json_type_string))
            fputs(json_object_get_string(v), out);
        else if (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
            fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), out);
        else
            fputs(json_object_to_json_string(v), out);
        p = close + 2;
    }
    fputc('\n', out);
    return 0;
}

int engine_print_inspect(const char *verb, const char *format, struct json_object *all)
{
    if (format && strcmp(format, "json") != 0) {
        for (size_t i = 0; i < json_object_array_length(all); i++) {
            int r = engine_format(verb, format, json_object_array_get_idx(all, i), stdout);
            if (r)
                return r;
        }
        return 0;
    }
    printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
    return 0;
}
