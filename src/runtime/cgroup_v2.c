/* cgroup_v2.c — linux.resources as cgroup v2 file writes (see cgroup_plan.h).
 *
 * The config speaks cgroup v1 (shares, memory+swap, blkio weights); v2 has other
 * knobs and scales, so a few values are converted, with the formulas runc and
 * crun use, so that a config means the same under every runtime. What v2 cannot
 * express at all (realtime cpu, net_cls, swappiness...) fails clearly instead of
 * being dropped. Nothing here touches the filesystem. */
#include "cgroup_plan.h"
#include "util.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define R "linux.resources."

/* ln(x) for x > 0, without libm (linking libm.so would cost every husk start ~450 KiB
 * and a millisecond, for this one curve): x = m * 2^e with m in [1, 2), then
 * ln(m) = 2 atanh((m - 1) / (m + 1)) by its series, which converges fast since the
 * argument is at most 1/3. Exact to a few ulps, which the curve below tolerates. */
static double ln_nolibm(double x)
{
    static const double LN2 = 0.69314718055994530942;
    int e = 0;
    while (x >= 2.0) { x /= 2.0; e++; }
    while (x < 1.0) { x *= 2.0; e--; }
    double t = (x - 1.0) / (x + 1.0), t2 = t * t, term = t, sum = 0.0;
    for (int k = 1; k < 60; k += 2) {
        sum += term / k;
        term *= t2;
    }
    return 2.0 * sum + e * LN2;
}

/* e^z without libm: z = k ln2 + r with r in [0, ln2), e^r by its Taylor series. */
static double exp_nolibm(double z)
{
    static const double LN2 = 0.69314718055994530942;
    double kf = z / LN2;
    long k = (long)kf - (kf < 0 && (double)(long)kf != kf);
    double r = z - (double)k * LN2, term = 1.0, sum = 1.0;
    for (int i = 1; i < 30; i++) {
        term *= r / i;
        sum += term;
    }
    for (; k > 0; k--) sum *= 2.0;
    for (; k < 0; k++) sum /= 2.0;
    return sum;
}

/* cpu.shares (2..262144, default 1024) to cpu.weight (1..10000, default 100). The
 * curve crun (1.23+) and runc use: a quadratic in log2(shares) through the three
 * points that matter, 2 -> 1, 1024 -> 100 and 262144 -> 10000, so the default
 * share maps to the default weight (the older linear formula gave 39):
 *   weight = ceil(10^((l*l + 125*l) / 612 - 7/34)), l = log2(shares).
 * A result within 1e-9 of a whole number is that number, so that rounding noise
 * cannot push ceil() one up where the exact value is whole (1024 -> 100). */
uint64_t cg_shares_to_weight(uint64_t shares)
{
    static const double LN2 = 0.69314718055994530942, LN10 = 2.30258509299404568402;
    if (shares == 0)
        return 0;
    if (shares <= 2)
        return 1;
    if (shares >= 262144)
        return 10000;
    double l = ln_nolibm((double)shares) / LN2;
    double exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
    double v = exp_nolibm(exponent * LN10);
    uint64_t whole = (uint64_t)v;
    uint64_t w = v - (double)whole < 1e-9 ? whole : whole + 1;
    return w < 1 ? 1 : w > 10000 ? 10000 : w;
}

/* blkio.weight (10..1000) to io.weight (1..10000), linearly, as runc does. */
uint64_t cg_blkio_to_io_weight(uint64_t weight)
{
    if (weight == 0)
        return 0;
    if (weight < 10)
        weight = 10;
    return 1 + (weight - 10) * 9999 / 990;
}

/* v1's swap is memory+swap; v2's memory.swap.max is the swap alone. */
int cg_swap_to_v2(int64_t swap, int64_t limit, int64_t *out, const char **why)
{
    if (swap == -1) {
        *out = -1;
        return 0;
    }
    if (swap < -1) {
        *why = "must be -1 or a number of bytes";
        return -1;
    }
    if (limit == 0 || limit == -1) {
        /* Without a memory limit, memory+swap says nothing about the swap alone. */
        *why = "a swap limit needs a memory limit (memory.limit) on cgroup v2";
        return -1;
    }
    if (limit < -1) {
        *why = "memory.limit is invalid";
        return -1;
    }
    if (swap < limit) {
        *why = "swap (memory+swap) must not be smaller than memory.limit";
        return -1;
    }
    *out = swap - limit;
    return 0;
}

static void add(struct cg_plan *p, enum cg_group g, const char *ctrl, const char *what, const char *file,
                char *value)
{
    cg_plan_add(p, g, CG_WRITE, ctrl, what, xstrdup(file), value);
}

static void fail(struct cg_plan *p, enum cg_group g, const char *what, const char *why)
{
    cg_plan_add(p, g, CG_FAIL, NULL, what, NULL, xstrdup(why));
}

static char *max_or(int64_t v) { return v < 0 ? xstrdup("max") : xasprintf("%" PRId64, v); }

static void plan_memory(const struct oci_resources *res, struct cg_plan *p)
{
    const typeof(res->memory) *m = &res->memory;

    if (!res->has_memory)
        return;
    if (m->has_limit) {
        add(p, CG_MEMORY, "memory", R "memory.limit", "memory.max", max_or(m->limit));
        /* v2 would OOM-kill to get under a lower limit; v1 refused instead, and
         * checkBeforeUpdate asks for that. */
        p->v[p->n - 1].check_usage = m->has_check_before_update && m->check_before_update && m->limit >= 0;
    }
    if (m->has_swap) {
        int64_t sw;
        const char *why = NULL;
        if (cg_swap_to_v2(m->swap, m->has_limit ? m->limit : 0, &sw, &why) < 0)
            fail(p, CG_MEMORY, R "memory.swap", why);
        else
            add(p, CG_MEMORY, "memory", R "memory.swap", "memory.swap.max", max_or(sw));
    }
    if (m->has_reservation)
        add(p, CG_MEMORY, "memory", R "memory.reservation", "memory.low", max_or(m->reservation));
    if (m->has_kernel)
        cg_plan_add(p, CG_MEMORY, CG_WARN, NULL, R "memory.kernel", NULL,
                    xstrdup("ignored: cgroup v2 has no separate kernel memory limit"));
    if (m->has_kernel_tcp)
        cg_plan_add(p, CG_MEMORY, CG_WARN, NULL, R "memory.kernelTCP", NULL,
                    xstrdup("ignored: cgroup v2 has no separate kernel TCP memory limit"));
    if (m->has_swappiness)
        fail(p, CG_MEMORY, R "memory.swappiness", "not supported on cgroup v2");
    if (m->has_disable_oom_killer && m->disable_oom_killer)
        fail(p, CG_MEMORY, R "memory.disableOOMKiller", "the OOM killer cannot be disabled on cgroup v2");
    if (m->has_use_hierarchy && !m->use_hierarchy)
        fail(p, CG_MEMORY, R "memory.useHierarchy", "cgroup v2 accounting is always hierarchical");
}

static void plan_cpu(const struct oci_resources *res, struct cg_plan *p)
{
    const typeof(res->cpu) *c = &res->cpu;

    if (!res->has_cpu)
        return;
    if (c->cpus)
        add(p, CG_CPUSET, "cpuset", R "cpu.cpus", "cpuset.cpus", xstrdup(c->cpus));
    if (c->mems)
        add(p, CG_CPUSET, "cpuset", R "cpu.mems", "cpuset.mems", xstrdup(c->mems));
    if (c->has_shares && c->shares != 0)
        add(p, CG_CPU, "cpu", R "cpu.shares", "cpu.weight", xasprintf("%" PRIu64, cg_shares_to_weight(c->shares)));
    if (c->has_burst && c->has_quota && c->quota > 0 && c->burst > (uint64_t)c->quota) {
        cg_plan_add(p, CG_CPU, CG_FAIL, NULL, R "cpu.burst", NULL,
                    xasprintf("burst %" PRIu64 " is larger than quota %" PRId64, c->burst, c->quota));
        return;
    }
    /* cpu.max is "<quota|max> <period>" in one write. */
    if (c->has_quota || (c->has_period && c->period != 0)) {
        uint64_t period = c->has_period && c->period != 0 ? c->period : 100000;
        _cleanup_free_ char *q = c->has_quota && c->quota > 0 ? xasprintf("%" PRId64, c->quota) : xstrdup("max");
        add(p, CG_CPU, "cpu", c->has_quota ? R "cpu.quota" : R "cpu.period", "cpu.max",
            xasprintf("%s %" PRIu64, q, period));
    }
    if (c->has_burst)
        add(p, CG_CPU, "cpu", R "cpu.burst", "cpu.max.burst", xasprintf("%" PRIu64, c->burst));
    if (c->has_realtime_period || c->has_realtime_runtime)
        fail(p, CG_CPU, c->has_realtime_runtime ? R "cpu.realtimeRuntime" : R "cpu.realtimePeriod",
             "realtime cpu limits are not supported on cgroup v2");
    if (c->has_idle)
        add(p, CG_CPU, "cpu", R "cpu.idle", "cpu.idle", xasprintf("%" PRId64, c->idle));
}

static void plan_io(const struct oci_resources *res, struct cg_plan *p)
{
    const typeof(res->block_io) *b = &res->block_io;
    static const struct {
        const char *key, *io_key;
        size_t off_list, off_n;
    } thr[] = {
        { "throttleReadBpsDevice", "rbps", offsetof(typeof(*b), throttle_read_bps),
          offsetof(typeof(*b), n_throttle_read_bps) },
        { "throttleWriteBpsDevice", "wbps", offsetof(typeof(*b), throttle_write_bps),
          offsetof(typeof(*b), n_throttle_write_bps) },
        { "throttleReadIOPSDevice", "riops", offsetof(typeof(*b), throttle_read_iops),
          offsetof(typeof(*b), n_throttle_read_iops) },
        { "throttleWriteIOPSDevice", "wiops", offsetof(typeof(*b), throttle_write_iops),
          offsetof(typeof(*b), n_throttle_write_iops) },
    };

    if (!res->has_block_io)
        return;
    /* BFQ's io.bfq.weight keeps blkio's scale; io.weight (io.cost) has its own. */
    if (b->has_weight && b->weight != 0) {
        add(p, CG_BLKIO, "io", R "blockIO.weight", "io.bfq.weight", xasprintf("%u", b->weight));
        p->v[p->n - 1].alt_file = xstrdup("io.weight");
        p->v[p->n - 1].alt_value = xasprintf("default %" PRIu64, cg_blkio_to_io_weight(b->weight));
    }
    if (b->has_leaf_weight)
        fail(p, CG_BLKIO, R "blockIO.leafWeight", "not supported on cgroup v2");
    for (size_t i = 0; i < b->n_weight_device; i++) {
        const struct oci_weight_device *w = &b->weight_device[i];
        _cleanup_free_ char *what = xasprintf(R "blockIO.weightDevice[%zu]", i);
        if (w->has_leaf_weight) {
            fail(p, CG_BLKIO, what, "leafWeight is not supported on cgroup v2");
            continue;
        }
        add(p, CG_BLKIO, "io", what, "io.bfq.weight",
            xasprintf("%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->weight));
        p->v[p->n - 1].alt_file = xstrdup("io.weight");
        p->v[p->n - 1].alt_value =
            xasprintf("%" PRId64 ":%" PRId64 " %" PRIu64, w->major, w->minor, cg_blkio_to_io_weight(w->weight));
    }
    for (size_t t = 0; t < ARRAY_SIZE(thr); t++) {
        const struct oci_throttle_device *list =
            *(struct oci_throttle_device *const *)((const char *)b + thr[t].off_list);
        size_t n = *(const size_t *)((const char *)b + thr[t].off_n);
        for (size_t i = 0; i < n; i++) {
            _cleanup_free_ char *what = xasprintf(R "blockIO.%s[%zu]", thr[t].key, i);
            add(p, CG_BLKIO, "io", what, "io.max",
                xasprintf("%" PRId64 ":%" PRId64 " %s=%" PRIu64, list[i].major, list[i].minor, thr[t].io_key,
                          list[i].rate));
        }
    }
}

static void plan_hugetlb(const struct oci_resources *res, struct cg_plan *p)
{
    for (size_t i = 0; i < res->n_hugepage_limits; i++) {
        const struct oci_hugepage_limit *h = &res->hugepage_limits[i];
        _cleanup_free_ char *what = xasprintf(R "hugepageLimits[%zu]", i);
        _cleanup_free_ char *name = cg_hugetlb_name(h->page_size);
        if (!name) {
            cg_plan_add(p, CG_HUGETLB, CG_FAIL, NULL, what, NULL, xasprintf("invalid pageSize \"%s\"", h->page_size));
            continue;
        }
        cg_plan_add(p, CG_HUGETLB, CG_WRITE_IF_EXISTS, "hugetlb", what, xasprintf("hugetlb.%s.rsvd.max", name),
                    xasprintf("%" PRIu64, h->limit));
        cg_plan_add(p, CG_HUGETLB, CG_WRITE, "hugetlb", what, xasprintf("hugetlb.%s.max", name),
                    xasprintf("%" PRIu64, h->limit));
    }
}

/* A unified key names a file in the container's own cgroup dir, nothing else. */
static bool unified_key_valid(const char *k)
{
    return k[0] != '\0' && k[0] != '.' && !strchr(k, '/') && strchr(k, '.') != NULL;
}

static void plan_unified(const struct oci_resources *res, struct cg_plan *p)
{
    for (size_t i = 0; i < res->n_unified; i++) {
        const struct oci_unified_kv *kv = &res->unified[i];
        _cleanup_free_ char *what = xasprintf(R "unified.%s", kv->key);
        if (!unified_key_valid(kv->key)) {
            fail(p, CG_UNIFIED, what, "not a cgroup file name");
            continue;
        }
        /* "memory.max" needs the memory controller, "cgroup.*" files are the core's. */
        size_t plen = strcspn(kv->key, ".");
        bool core = plen == 6 && strncmp(kv->key, "cgroup", 6) == 0;
        _cleanup_free_ char *ctrl = core ? NULL : xasprintf("%.*s", (int)plen, kv->key);
        cg_plan_add(p, CG_UNIFIED, CG_WRITE, ctrl, what, xstrdup(kv->key), xstrdup(kv->value));
    }
}

void cgroup_plan_v2(const struct oci_linux *l, struct cg_plan *out)
{
    out->v = NULL;
    out->n = 0;
    if (l && l->has_resources) {
        const struct oci_resources *res = &l->resources;
        plan_cpu(res, out);
        plan_memory(res, out);
        if (res->has_pids)
            add(out, CG_PIDS, "pids", R "pids.limit", "pids.max", max_or(res->pids.limit));
        plan_io(res, out);
        plan_hugetlb(res, out);
        if (res->has_network && res->network.has_class_id)
            fail(out, CG_NET_CLS, R "network.classID", "net_cls does not exist on cgroup v2");
        if (res->has_network && res->network.n_priorities > 0)
            fail(out, CG_NET_PRIO, R "network.priorities", "net_prio does not exist on cgroup v2");
        cg_plan_rdma(res, out);
        plan_unified(res, out);
    }
    /* Device rules: one eBPF program built from cg_device_rules(). */
    cg_plan_add(out, CG_DEVICES, CG_DEVICES_BPF, NULL, R "devices", NULL, NULL);
    out->v[out->n - 1].implicit = !(l && l->resources.n_devices > 0);
}
