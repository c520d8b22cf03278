/* engine.c — the engine CLI's shared pieces (engine.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "log.h"
#include "util.h"

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
