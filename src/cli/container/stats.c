/* stats.c — `husk container stats [--no-stream] [-a] [--format json] [CONTAINER…]`:
 * docker's columns (CONTAINER ID, NAME, CPU %, MEM USAGE / LIMIT, MEM %, PIDS)
 * from each container's cgroups (the runtime's stats, as `husk events --stats`).
 * CPU % is the CPU time used between two samples a second apart over that second. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "container_cli.h"
#include "ctr_life.h"
#include "util.h"

struct sample {
    char *id, *name;
    bool ok;
    uint64_t cpu_ns, mem, limit, pids;
    struct timespec at;
};

static uint64_t jpath_u64(struct json_object *o, const char *const *path)
{
    for (; o && *path; path++)
        if (!json_object_object_get_ex(o, *path, &o))
            return 0;
    return o ? (uint64_t)json_object_get_int64(o) : 0;
}

static void take(const char *runroot, struct sample *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    husk_err *e = NULL;
    s->ok = false;
    if (f && container_events(runroot, s->id, true, 0, f, &e) == 0) {
        fclose(f);
        f = NULL;
        struct json_object *o = json_tokener_parse(buf);
        static const char *const cpu[] = { "data", "cpu", "usage", "total", NULL };
        static const char *const mem[] = { "data", "memory", "usage", "usage", NULL };
        static const char *const lim[] = { "data", "memory", "usage", "limit", NULL };
        static const char *const pids[] = { "data", "pids", "current", NULL };
        if (o) {
            s->cpu_ns = jpath_u64(o, cpu);
            s->mem = jpath_u64(o, mem);
            s->limit = jpath_u64(o, lim);
            s->pids = jpath_u64(o, pids);
            s->ok = true;
            json_object_put(o);
        }
    }
    if (f)
        fclose(f);
    free(buf);
    husk_err_free(&e);
    clock_gettime(CLOCK_MONOTONIC, &s->at);
}

/* docker's binary units for memory ("1.5MiB") */
static char *fmt_mib(uint64_t b)
{
    static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    size_t i = 0;
    while (v >= 1024 && i + 1 < ARRAY_SIZE(u))
        v /= 1024, i++;
    return i == 0 ? xasprintf("%lluB", (unsigned long long)b) : xasprintf("%.4g%s", v, u[i]);
}

int cmd_container_stats(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "no-stream", no_argument, NULL, 'n' },
        { "all", no_argument, NULL, 'a' },
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool no_stream = false, all = false, json = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': no_stream = true; break;
        case 'a': all = true; break;
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
                return engine_usage_error("container stats", "--format \"%s\": json or table", optarg);
            json = strcmp(optarg, "json") == 0;
            break;
        case 'h': printf("usage: husk container stats [--no-stream] [-a] [--format json] [CONTAINER...]\n"); return 0;
        default: return engine_usage_error("container stats", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    _cleanup_strv_ char **ids = NULL;
    int rc = 0;
    if (optind < argc) {
        ids = xcalloc((size_t)(argc - optind) + 1, sizeof *ids);
        for (int i = optind; i < argc; i++)
            if (ctr_lookup(&st, argv[i], &ids[i - optind], &err) < 0) {
                store_close(&st);
                return engine_fail(&err);
            }
    } else if (ctr_list(&st, &ids, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    size_t n = 0;
    struct sample *s = NULL;
    for (size_t i = 0; ids[i]; i++) {
        struct ctr_state cs = { 0 };
        struct json_object *rec = NULL;
        if (ctr_state_get(&st, g->root, ids[i], &cs, &err) < 0 || ctr_record_read(&st, ids[i], &rec, &err) < 0) {
            husk_err_free(&err);
            ctr_state_clear(&cs);
            continue;
        }
        bool running = cs.status == CTR_RUNNING || cs.status == CTR_PAUSED;
        ctr_state_clear(&cs);
        if (running || all || optind < argc) {
            s = xrealloc(s, (n + 1) * sizeof *s);
            memset(&s[n], 0, sizeof *s);
            s[n].id = xstrdup(ids[i]);
            s[n].name = ctr_record_name(rec);
            n++;
        }
        json_object_put(rec);
    }
    store_close(&st);
    struct sample *prev = xcalloc(n ? n : 1, sizeof *prev);
    for (size_t i = 0; i < n; i++) {
        take(g->root, &s[i]);
        prev[i] = s[i];
    }
    for (;;) {
        sleep(1);
        if (!no_stream && !json)
            printf("\033[2J\033[H");
        if (!json)
            printf("%-14s %-20s %-8s %-22s %-8s %s\n", "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %",
                   "PIDS");
        for (size_t i = 0; i < n; i++) {
            take(g->root, &s[i]);
            double wall = (double)(s[i].at.tv_sec - prev[i].at.tv_sec) * 1e9 + (double)(s[i].at.tv_nsec - prev[i].at.tv_nsec);
            double cpu = s[i].ok && prev[i].ok && wall > 0 && s[i].cpu_ns >= prev[i].cpu_ns
                             ? (double)(s[i].cpu_ns - prev[i].cpu_ns) / wall * 100.0
                             : 0;
            uint64_t limit = s[i].limit && s[i].limit < (1ULL << 62) ? s[i].limit : 0;
            double memp = limit ? (double)s[i].mem * 100.0 / (double)limit : 0;
            _cleanup_free_ char *mu = fmt_mib(s[i].mem), *ml = limit ? fmt_mib(limit) : xstrdup("-");
            if (json) {
                printf("{\"ID\":\"%.12s\",\"Name\":\"%s\",\"CPUPerc\":\"%.2f%%\",\"MemUsage\":\"%s / %s\","
                       "\"MemPerc\":\"%.2f%%\",\"PIDs\":\"%llu\"}\n",
                       s[i].id, s[i].name, cpu, mu, ml, memp, (unsigned long long)s[i].pids);
            } else {
                _cleanup_free_ char *usage = xasprintf("%s / %s", mu, ml), *cp = xasprintf("%.2f%%", cpu),
                                    *mp = xasprintf("%.2f%%", memp);
                printf("%-14.12s %-20s %-8s %-22s %-8s %llu\n", s[i].id, s[i].name, cp, usage, mp,
                       (unsigned long long)s[i].pids);
            }
            prev[i] = s[i];
        }
        fflush(stdout);
        if (no_stream)
            break;
    }
    for (size_t i = 0; i < n; i++) {
        free(s[i].id);
        free(s[i].name);
    }
    free(s);
    free(prev);
    return rc;
}
