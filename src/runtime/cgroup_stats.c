/* cgroup_stats.c — what the kernel accounts for the container's cgroup, as
 * `husk events` reports it, and the OOM-kill notifications.
 *
 * The JSON is the shape of runc's events types (types.Stats): podman and
 * containerd parse it, so the field names, their order and which zero values are
 * left out follow it. Each part is read from whichever hierarchy holds its
 * controller, found by a file only that controller (and version) has, so the
 * same code serves v1, v2 and hybrid hosts:
 *
 *   cpu      v1 cpuacct.* + cpu.stat (throttling)   v2 cpu.stat (usage_usec ...)
 *   memory   v1 memory.{,memsw.,kmem.,kmem.tcp.}*   v2 memory.current/max/peak/events
 *   pids     pids.current / pids.max (both)
 *   blkio    v1 blkio.*_recursive                    v2 io.stat
 *   hugetlb  v1 hugetlb.<size>.usage_in_bytes        v2 hugetlb.<size>.current
 *
 * OOM: v1 registers an eventfd on memory.oom_control through cgroup.event_control
 * (the kernel signals it on every OOM of the cgroup); v2 has no such registration,
 * but memory.events is pollable and counts oom_kill. */
#include "cgroups.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>

#define STAT_TEXT_MAX (1024 * 1024)

/* ---- reading ---------------------------------------------------------------- */

/* The container's dir (on some hierarchy) that has `file`, or NULL. */
static const char *dir_with(const struct husk_cgroup *cg, const char *file)
{
    for (char **p = cg->paths; p && *p; p++) {
        _cleanup_free_ char *f = xasprintf("%s/%s", *p, file);
        if (access(f, F_OK) == 0)
            return *p;
    }
    return NULL;
}

/* The whole file, or NULL when it cannot be read (controller or kernel lacks it). */
static char *text_of(const char *dir, const char *file)
{
    _cleanup_free_ char *f = xasprintf("%s/%s", dir, file);
    char *text = NULL;
    if (dir == NULL || read_file_at(AT_FDCWD, f, STAT_TEXT_MAX, &text, NULL, NULL) < 0)
        return NULL;
    return text;
}

/* A single number; "max" (no limit) is UINT64_MAX. false when unreadable. */
static bool u64_of(const char *dir, const char *file, uint64_t *v)
{
    _cleanup_free_ char *t = text_of(dir, file);
    char *end;
    if (t == NULL)
        return false;
    if (strncmp(t, "max", 3) == 0) {
        *v = UINT64_MAX;
        return true;
    }
    errno = 0;
    /* v1 prints -1 for some unset values: read as "no limit" too. */
    if (t[0] == '-') {
        *v = UINT64_MAX;
        return true;
    }
    *v = strtoull(t, &end, 10);
    return errno == 0 && end != t;
}

static uint64_t u64_or0(const char *dir, const char *file)
{
    uint64_t v = 0;
    return u64_of(dir, file, &v) ? v : 0;
}

/* "key value" lines (cpu.stat, memory.stat, memory.events ...): the value of key. */
static bool kv_get(const char *text, const char *key, uint64_t *v)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, kl) == 0 && l[kl] == ' ') {
            *v = strtoull(l + kl + 1, NULL, 10);
            return true;
        }
    }
    return false;
}

static uint64_t kv_or0(const char *text, const char *key)
{
    uint64_t v = 0;
    return text && kv_get(text, key, &v) ? v : 0;
}

/* ---- JSON helpers -------------------------------------------------------------- */

static void put_u64(struct json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_uint64(v));
}

/* Go's `omitempty`: a zero number is left out. */
static void put_u64_nz(struct json_object *o, const char *key, uint64_t v)
{
    if (v != 0)
        put_u64(o, key, v);
}

/* A list of numbers separated by blanks ("123 456\n"), as a JSON array; NULL when
 * the file is missing or empty (omitempty). */
static struct json_object *u64_array(const char *dir, const char *file)
{
    _cleanup_free_ char *t = text_of(dir, file);
    struct json_object *a = NULL;
    char *p = t, *end;
    if (t == NULL)
        return NULL;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        uint64_t v = strtoull(p, &end, 10);
        if (end == p)
            break;
        if (a == NULL)
            a = json_object_new_array();
        json_object_array_add(a, json_object_new_uint64(v));
        p = end;
    }
    return a;
}

/* A cpuset list ("0-3,8") as an array of numbers; NULL when empty. */
static struct json_object *cpu_list(const char *dir, const char *file)
{
    _cleanup_free_ char *t = text_of(dir, file);
    struct json_object *a = NULL;
    char *p = t, *end;
    if (t == NULL)
        return NULL;
    while (*p && *p != '\n') {
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (end == p)
            break;
        p = end;
        if (*p == '-') {
            hi = strtoul(p + 1, &end, 10);
            if (end == p + 1)
                break;
            p = end;
        }
        for (unsigned long i = lo; i <= hi && i < 65536; i++) {
            if (a == NULL)
                a = json_object_new_array();
            json_object_array_add(a, json_object_new_uint64(i));
        }
        if (*p == ',')
            p++;
    }
    return a;
}

/* ---- cpu ---------------------------------------------------------------------- */

static struct json_object *stats_cpu(const struct husk_cgroup *cg)
{
    struct json_object *cpu = json_object_new_object(), *usage = json_object_new_object();
    struct json_object *thr = json_object_new_object(), *a;
    const char *acct = dir_with(cg, "cpuacct.usage");
    uint64_t total = 0, kernel = 0, user = 0, periods = 0, throttled = 0, ttime = 0;

    if (acct) {
        /* cpuacct.stat counts in USER_HZ ticks; runc reports nanoseconds. */
        _cleanup_free_ char *st = text_of(acct, "cpuacct.stat");
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t ns_per_tick = hz > 0 ? 1000000000ULL / (uint64_t)hz : 10000000ULL;
        total = u64_or0(acct, "cpuacct.usage");
        user = kv_or0(st, "user") * ns_per_tick;
        kernel = kv_or0(st, "system") * ns_per_tick;
    }
    const char *v1cpu = dir_with(cg, "cpu.cfs_period_us");
    if (v1cpu) {
        _cleanup_free_ char *st = text_of(v1cpu, "cpu.stat");
        periods = kv_or0(st, "nr_periods");
        throttled = kv_or0(st, "nr_throttled");
        ttime = kv_or0(st, "throttled_time");
    }
    if (!acct || !v1cpu) {
        /* cgroup v2: cpu.stat is a core file (usage even without the cpu
         * controller); the throttling lines appear with the controller. */
        for (char **p = cg->paths; p && *p; p++) {
            _cleanup_free_ char *st = text_of(*p, "cpu.stat");
            uint64_t v;
            if (st == NULL || !kv_get(st, "usage_usec", &v))
                continue;
            if (!acct) {
                total = v * 1000;
                user = kv_or0(st, "user_usec") * 1000;
                kernel = kv_or0(st, "system_usec") * 1000;
            }
            if (!v1cpu) {
                periods = kv_or0(st, "nr_periods");
                throttled = kv_or0(st, "nr_throttled");
                ttime = kv_or0(st, "throttled_usec") * 1000;
            }
            break;
        }
    }
    put_u64_nz(usage, "total", total);
    if (acct && (a = u64_array(acct, "cpuacct.usage_percpu")))
        json_object_object_add(usage, "percpu", a);
    if (acct && (a = u64_array(acct, "cpuacct.usage_percpu_sys")))
        json_object_object_add(usage, "percpu_kernel", a);
    if (acct && (a = u64_array(acct, "cpuacct.usage_percpu_user")))
        json_object_object_add(usage, "percpu_user", a);
    put_u64(usage, "kernel", kernel);
    put_u64(usage, "user", user);
    put_u64_nz(thr, "periods", periods);
    put_u64_nz(thr, "throttledPeriods", throttled);
    put_u64_nz(thr, "throttledTime", ttime);
    json_object_object_add(cpu, "usage", usage);
    json_object_object_add(cpu, "throttling", thr);
    return cpu;
}

static struct json_object *stats_cpuset(const struct husk_cgroup *cg)
{
    static const char *const knobs[] = { "cpu_exclusive",      "mem_hardwall",       "mem_exclusive",
                                         "memory_migrate",     "memory_spread_page", "memory_spread_slab",
                                         "memory_pressure",    "sched_load_balance" };
    struct json_object *o = json_object_new_object(), *a;
    const char *d = dir_with(cg, "cpuset.cpus");
    bool v2 = d == NULL;
    if (v2)
        d = dir_with(cg, "cpuset.cpus.effective");
    if (d == NULL)
        return o;
    if ((a = cpu_list(d, v2 ? "cpuset.cpus.effective" : "cpuset.cpus")))
        json_object_object_add(o, "cpus", a);
    if (v2)
        return (a = cpu_list(d, "cpuset.mems.effective")) ? (json_object_object_add(o, "mems", a), o) : o;
    put_u64(o, "cpu_exclusive", u64_or0(d, "cpuset.cpu_exclusive"));
    if ((a = cpu_list(d, "cpuset.mems")))
        json_object_object_add(o, "mems", a);
    for (size_t i = 1; i < ARRAY_SIZE(knobs); i++) {
        _cleanup_free_ char *f = xasprintf("cpuset.%s", knobs[i]);
        put_u64(o, knobs[i], u64_or0(d, f));
    }
    _cleanup_free_ char *lvl = text_of(d, "cpuset.sched_relax_domain_level");
    json_object_object_add(o, "sched_relax_domain_level", json_object_new_int64(lvl ? strtoll(lvl, NULL, 10) : 0));
    return o;
}

/* ---- memory ------------------------------------------------------------------- */

static struct json_object *mem_entry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt)
{
    struct json_object *e = json_object_new_object();
    put_u64(e, "limit", limit);
    put_u64_nz(e, "usage", usage);
    put_u64_nz(e, "max", max);
    put_u64(e, "failcnt", failcnt);
    return e;
}

/* v1: <prefix>.usage_in_bytes, max_usage_in_bytes, failcnt, limit_in_bytes. */
static struct json_object *mem_entry_v1(const char *d, const char *prefix)
{
    _cleanup_free_ char *u = xasprintf("%s.usage_in_bytes", prefix), *m = xasprintf("%s.max_usage_in_bytes", prefix);
    _cleanup_free_ char *f = xasprintf("%s.failcnt", prefix), *l = xasprintf("%s.limit_in_bytes", prefix);
    return mem_entry(u64_or0(d, l), u64_or0(d, u), u64_or0(d, m), u64_or0(d, f));
}

/* Every line of memory.stat, as runc's "raw". */
static struct json_object *raw_stat(const char *text)
{
    struct json_object *o = json_object_new_object();
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *sp = strchr(l, ' ');
        const char *nl = strchrnul(l, '\n');
        if (sp == NULL || sp > nl)
            continue;
        _cleanup_free_ char *key = strndup(l, (size_t)(sp - l));
        if (key)
            put_u64(o, key, strtoull(sp + 1, NULL, 10));
    }
    return o;
}

static struct json_object *stats_memory(const struct husk_cgroup *cg)
{
    struct json_object *m = json_object_new_object();
    const char *d = dir_with(cg, "memory.usage_in_bytes");
    _cleanup_free_ char *st = NULL;

    if (d) {
        st = text_of(d, "memory.stat");
        put_u64_nz(m, "cache", kv_or0(st, "cache"));
        json_object_object_add(m, "usage", mem_entry_v1(d, "memory"));
        /* v1's "swap" is memsw: memory plus swap, as runc reports it. */
        json_object_object_add(m, "swap", mem_entry_v1(d, "memory.memsw"));
        json_object_object_add(m, "kernel", mem_entry_v1(d, "memory.kmem"));
        json_object_object_add(m, "kernelTCP", mem_entry_v1(d, "memory.kmem.tcp"));
    } else if ((d = dir_with(cg, "memory.current"))) {
        _cleanup_free_ char *ev = text_of(d, "memory.events");
        uint64_t usage = u64_or0(d, "memory.current"), limit = UINT64_MAX, swap = 0, swap_max = UINT64_MAX;
        u64_of(d, "memory.max", &limit);
        st = text_of(d, "memory.stat");
        put_u64_nz(m, "cache", kv_or0(st, "file"));
        json_object_object_add(m, "usage", mem_entry(limit, usage, u64_or0(d, "memory.peak"), kv_or0(ev, "max")));
        /* Like runc on v2: swap counts memory too, so that it reads as v1's memsw. */
        if (u64_of(d, "memory.swap.current", &swap)) {
            u64_of(d, "memory.swap.max", &swap_max);
            uint64_t l = limit == UINT64_MAX || swap_max == UINT64_MAX ? UINT64_MAX : limit + swap_max;
            json_object_object_add(m, "swap", mem_entry(l, swap + usage, 0, 0));
        } else {
            json_object_object_add(m, "swap", mem_entry(0, 0, 0, 0));
        }
        json_object_object_add(m, "kernel", mem_entry(0, 0, 0, 0));
        json_object_object_add(m, "kernelTCP", mem_entry(0, 0, 0, 0));
    } else {
        json_object_object_add(m, "usage", mem_entry(0, 0, 0, 0));
        json_object_object_add(m, "swap", mem_entry(0, 0, 0, 0));
        json_object_object_add(m, "kernel", mem_entry(0, 0, 0, 0));
        json_object_object_add(m, "kernelTCP", mem_entry(0, 0, 0, 0));
    }
    if (st && st[0])
        json_object_object_add(m, "raw", raw_stat(st));
    return m;
}

/* ---- pids --------------------------------------------------------------------- */

static struct json_object *stats_pids(const struct husk_cgroup *cg)
{
    struct json_object *o = json_object_new_object();
    const char *d = dir_with(cg, "pids.current");
    uint64_t limit = 0;
    if (d == NULL)
        return o;
    put_u64_nz(o, "current", u64_or0(d, "pids.current"));
    /* "max" is no limit: runc reports 0, i.e. leaves it out. */
    if (u64_of(d, "pids.max", &limit) && limit != UINT64_MAX)
        put_u64_nz(o, "limit", limit);
    return o;
}

/* ---- blkio -------------------------------------------------------------------- */

static struct json_object *blk_entry(uint64_t major, uint64_t minor, const char *op, uint64_t value)
{
    struct json_object *e = json_object_new_object();
    put_u64_nz(e, "major", major);
    put_u64_nz(e, "minor", minor);
    if (op && op[0])
        json_object_object_add(e, "op", json_object_new_string(op));
    put_u64_nz(e, "value", value);
    return e;
}

/* v1 "MAJ:MIN Op Value" lines (a final "Total N" line has no device: skipped). */
static struct json_object *blk_v1_list(const char *d, const char *file)
{
    _cleanup_free_ char *t = text_of(d, file);
    struct json_object *a = NULL;
    for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        unsigned long long maj, min, val;
        char op[32];
        if (sscanf(l, "%llu:%llu %31s %llu", &maj, &min, op, &val) != 4)
            continue;
        if (a == NULL)
            a = json_object_new_array();
        json_object_array_add(a, blk_entry(maj, min, op, val));
    }
    return a;
}

static struct json_object *stats_blkio(const struct husk_cgroup *cg)
{
    struct json_object *o = json_object_new_object(), *a;
    const char *d = dir_with(cg, "blkio.throttle.io_service_bytes_recursive");

    if (d) {
        /* The scheduler's own counters when it keeps them (BFQ), else the
         * throttling layer's, which sees every bio. */
        const char *bytes = "blkio.throttle.io_service_bytes_recursive", *ios = "blkio.throttle.io_serviced_recursive";
        _cleanup_free_ char *bfq = text_of(d, "blkio.bfq.io_service_bytes_recursive");
        if (bfq && strchr(bfq, ':')) {
            bytes = "blkio.bfq.io_service_bytes_recursive";
            ios = "blkio.bfq.io_serviced_recursive";
        }
        if ((a = blk_v1_list(d, bytes)))
            json_object_object_add(o, "ioServiceBytesRecursive", a);
        if ((a = blk_v1_list(d, ios)))
            json_object_object_add(o, "ioServicedRecursive", a);
        return o;
    }
    if ((d = dir_with(cg, "io.stat")) == NULL)
        return o;
    _cleanup_free_ char *t = text_of(d, "io.stat");
    struct json_object *b = NULL, *s = NULL;
    for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        unsigned long long maj, min;
        int off = 0;
        if (sscanf(l, "%llu:%llu %n", &maj, &min, &off) < 2 || off == 0)
            continue;
        _cleanup_free_ char *line = strndup(l + off, (size_t)(strchrnul(l, '\n') - (l + off)));
        char *save = NULL;
        for (char *kv = strtok_r(line, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq)
                continue;
            *eq = '\0';
            uint64_t v = strtoull(eq + 1, NULL, 10);
            struct json_object **dst = strcmp(kv, "rbytes") == 0 || strcmp(kv, "wbytes") == 0 ? &b
                                       : strcmp(kv, "rios") == 0 || strcmp(kv, "wios") == 0 ? &s
                                                                                            : NULL;
            if (!dst)
                continue;
            if (*dst == NULL)
                *dst = json_object_new_array();
            json_object_array_add(*dst, blk_entry(maj, min, kv[0] == 'r' ? "Read" : "Write", v));
        }
    }
    if (b)
        json_object_object_add(o, "ioServiceBytesRecursive", b);
    if (s)
        json_object_object_add(o, "ioServicedRecursive", s);
    return o;
}

/* ---- hugetlb ------------------------------------------------------------------ */

/* Per page size: v1 hugetlb.<size>.usage_in_bytes/max_usage_in_bytes/failcnt, or
 * v2 hugetlb.<size>.current and the "max" count of hugetlb.<size>.events. */
static void hugetlb_dir(const char *d, bool v2, struct json_object *o)
{
    _cleanup_closedir_ DIR *dir = NULL;
    const char *suffix = v2 ? ".current" : ".usage_in_bytes";
    dir = opendir(d);
    if (dir == NULL)
        return;
    for (struct dirent *e; (e = readdir(dir));) {
        size_t nl = strlen(e->d_name), sl = strlen(suffix);
        if (strncmp(e->d_name, "hugetlb.", 8) != 0 || nl <= 8 + sl || strcmp(e->d_name + nl - sl, suffix) != 0)
            continue;
        _cleanup_free_ char *size = strndup(e->d_name + 8, nl - 8 - sl);
        if (!size || strchr(size, '.'))   /* hugetlb.2MB.rsvd.* */
            continue;
        struct json_object *h = json_object_new_object();
        _cleanup_free_ char *u = xasprintf("hugetlb.%s%s", size, suffix);
        put_u64_nz(h, "usage", u64_or0(d, u));
        if (v2) {
            _cleanup_free_ char *ef = xasprintf("hugetlb.%s.events", size);
            _cleanup_free_ char *ev = text_of(d, ef);
            put_u64(h, "failcnt", kv_or0(ev, "max"));
        } else {
            _cleanup_free_ char *m = xasprintf("hugetlb.%s.max_usage_in_bytes", size);
            _cleanup_free_ char *f = xasprintf("hugetlb.%s.failcnt", size);
            put_u64_nz(h, "max", u64_or0(d, m));
            put_u64(h, "failcnt", u64_or0(d, f));
        }
        json_object_object_add(o, size, h);
    }
}

static struct json_object *stats_hugetlb(const struct husk_cgroup *cg)
{
    struct json_object *o = json_object_new_object();
    for (char **p = cg->paths; p && *p; p++) {
        _cleanup_free_ char *ctl = xasprintf("%s/cgroup.controllers", *p);
        bool v2 = access(ctl, F_OK) == 0;
        hugetlb_dir(*p, v2, o);
        if (json_object_object_length(o) > 0)
            break;
    }
    return o;
}

int cgroup_stats(const struct husk_cgroup *cg, struct json_object **out, husk_err **err)
{
    bool any = false;
    for (char **p = cg->paths; p && *p; p++)
        any = any || access(*p, F_OK) == 0;
    if (!any)
        return husk_fail(err, ENOENT, "the container's cgroup does not exist any more");

    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "cpu", stats_cpu(cg));
    json_object_object_add(o, "cpuset", stats_cpuset(cg));
    json_object_object_add(o, "memory", stats_memory(cg));
    json_object_object_add(o, "pids", stats_pids(cg));
    json_object_object_add(o, "blkio", stats_blkio(cg));
    json_object_object_add(o, "hugetlb", stats_hugetlb(cg));
    /* runc prints these even when empty; husk has no Intel RDT nor per-container
     * network statistics. */
    json_object_object_add(o, "intel_rdt", json_object_new_object());
    json_object_object_add(o, "network_interfaces", NULL);
    *out = o;
    return 0;
}

/* ---- OOM notifications ------------------------------------------------------------ */

struct cgroup_oom_watch {
    int fd;          /* v1: the eventfd; v2: memory.events */
    bool v2;
    char *dir;       /* the memory cgroup dir */
    uint64_t kills;  /* v2: oom_kill count already reported */
};

int cgroup_oom_watch_open(const struct husk_cgroup *cg, struct cgroup_oom_watch **out, husk_err **err)
{
    const char *d;
    *out = NULL;

    if ((d = dir_with(cg, "memory.oom_control"))) {
        _cleanup_free_ char *of = xasprintf("%s/memory.oom_control", d), *cf = xasprintf("%s/cgroup.event_control", d);
        _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        _cleanup_close_ int ofd = open(of, O_RDONLY | O_CLOEXEC);
        if (efd < 0)
            return husk_fail(err, errno, "eventfd");
        if (ofd < 0)
            return husk_fail(err, errno, "open %s", of);
        /* "<event fd> <fd of the file watched>": the kernel keeps its own
         * references, both of ours may close after the write except the eventfd. */
        _cleanup_free_ char *line = xasprintf("%d %d", efd, ofd);
        if (write_file_at(AT_FDCWD, cf, line, strlen(line), err) < 0)
            return husk_err_prefix(err, "register for OOM notifications");
        struct cgroup_oom_watch *w = xcalloc(1, sizeof(*w));
        w->fd = steal_fd(efd);
        w->dir = xstrdup(d);
        *out = w;
        return 0;
    }
    if ((d = dir_with(cg, "memory.events"))) {
        _cleanup_free_ char *ef = xasprintf("%s/memory.events", d);
        int fd = open(ef, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return husk_fail(err, errno, "open %s", ef);
        struct cgroup_oom_watch *w = xcalloc(1, sizeof(*w));
        w->fd = fd;
        w->v2 = true;
        w->dir = xstrdup(d);
        char buf[1024];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        w->kills = kv_or0(buf, "oom_kill");
        *out = w;
        return 0;
    }
    return 0;   /* no memory controller: no OOM can be reported */
}

void cgroup_oom_watch_pollfd(const struct cgroup_oom_watch *w, struct pollfd *p)
{
    p->fd = w ? w->fd : -1;
    p->events = w && w->v2 ? POLLPRI : POLLIN;
    p->revents = 0;
}

int cgroup_oom_watch_read(struct cgroup_oom_watch *w, uint64_t *n, husk_err **err)
{
    *n = 0;
    if (!w->v2) {
        uint64_t cnt = 0;
        if (read(w->fd, &cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt)) {
            if (errno == EAGAIN)
                return 0;
            return husk_fail(err, errno, "read OOM eventfd");
        }
        /* The kernel also signals the eventfd when the cgroup is removed. */
        _cleanup_free_ char *cf = xasprintf("%s/cgroup.event_control", w->dir);
        if (access(cf, F_OK) < 0)
            return 0;
        *n = cnt;
        return 0;
    }
    char buf[1024];
    ssize_t r = pread(w->fd, buf, sizeof(buf) - 1, 0);
    if (r < 0)
        return husk_fail(err, errno, "read %s/memory.events", w->dir);
    buf[r] = '\0';
    uint64_t k = kv_or0(buf, "oom_kill");
    if (k > w->kills)
        *n = k - w->kills;
    w->kills = k;
    return 0;
}

void cgroup_oom_watch_free(struct cgroup_oom_watch *w)
{
    if (w == NULL)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w->dir);
    free(w);
}
