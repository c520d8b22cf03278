/* cgroup_v1.c — linux.resources as cgroup v1 file writes (see cgroup_plan.h).
 *
 * Also the pieces both versions share: the plan list, the device rules (the same
 * list becomes devices.allow/deny writes on v1 and an eBPF program on v2), and the
 * huge page size names. Nothing here touches the filesystem. */
#include "cgroup_plan.h"
#include "util.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *v1, *v2;
} group_ctrl[CG_GROUP_COUNT] = {
    [CG_CPUSET] = { "cpuset", "cpuset" },   [CG_CPU] = { "cpu", "cpu" },
    [CG_MEMORY] = { "memory", "memory" },   [CG_PIDS] = { "pids", "pids" },
    [CG_BLKIO] = { "blkio", "io" },         [CG_HUGETLB] = { "hugetlb", "hugetlb" },
    [CG_NET_CLS] = { "net_cls", NULL },     [CG_NET_PRIO] = { "net_prio", NULL },
    [CG_RDMA] = { "rdma", "rdma" },         [CG_DEVICES] = { "devices", NULL },
    [CG_UNIFIED] = { NULL, NULL },
};

const char *cg_group_v1_controller(enum cg_group g) { return g < CG_GROUP_COUNT ? group_ctrl[g].v1 : NULL; }
const char *cg_group_v2_controller(enum cg_group g) { return g < CG_GROUP_COUNT ? group_ctrl[g].v2 : NULL; }

void cg_plan_add(struct cg_plan *p, enum cg_group g, enum cg_item_kind kind, const char *ctrl, const char *what,
                 char *file, char *value)
{
    p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
    p->v[p->n++] = (struct cg_item){ .group = g, .kind = kind, .ctrl = ctrl ? xstrdup(ctrl) : NULL,
                                     .what = xstrdup(what),
                                     .file = file, .value = value };
}

void cg_plan_free(struct cg_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].ctrl);
        free(p->v[i].file);
        free(p->v[i].value);
        free(p->v[i].alt_file);
        free(p->v[i].alt_value);
        free(p->v[i].what);
    }
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

/* ---- huge pages ----------------------------------------------------------------- */

char *cg_hugetlb_name(const char *s)
{
    size_t d = strspn(s, "0123456789");
    unsigned shift;

    if (d == 0 || d > 12 || s[d] == '\0' || strcmp(s + d + 1, "B") != 0)
        return NULL;
    switch (s[d]) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    default: return NULL;
    }
    uint64_t bytes = strtoull(s, NULL, 10) << shift;
    if (bytes == 0)
        return NULL;
    /* The kernel names each hstate by the largest unit its size reaches
     * (mm/hugetlb_cgroup.c), so "2048KB" is "2MB". */
    if (bytes >= (1ULL << 30))
        return xasprintf("%" PRIu64 "GB", bytes >> 30);
    if (bytes >= (1ULL << 20))
        return xasprintf("%" PRIu64 "MB", bytes >> 20);
    return xasprintf("%" PRIu64 "KB", bytes >> 10);
}

/* ---- device rules --------------------------------------------------------------- */

/* What a container may use even when the config denies everything: the nodes
 * devices.c creates (null, zero, full, random, urandom, tty), the pty pair behind
 * /dev/ptmx and /dev/pts/N (and so /dev/console), and mknod of any node, which
 * only makes a node: opening it is still checked against these rules. The same
 * set runc allows. */
static const struct cg_dev_rule default_rules[] = {
    { true, 'c', -1, -1, "m" },  { true, 'b', -1, -1, "m" },  { true, 'c', 1, 3, "rwm" },
    { true, 'c', 1, 5, "rwm" },  { true, 'c', 1, 7, "rwm" },  { true, 'c', 1, 8, "rwm" },
    { true, 'c', 1, 9, "rwm" },  { true, 'c', 5, 0, "rwm" },  { true, 'c', 5, 2, "rwm" },
    { true, 'c', 136, -1, "rwm" },
};

void cg_device_rules(const struct oci_linux *l, struct cg_dev_rule **rules, size_t *n)
{
    size_t cap = 1 + ARRAY_SIZE(default_rules) + (l ? l->resources.n_devices : 0), k = 0;
    struct cg_dev_rule *v = xcalloc(cap, sizeof(*v));

    /* Deny by default: the container gets only what is listed after this. */
    v[k++] = (struct cg_dev_rule){ false, 'a', -1, -1, "rwm" };
    for (size_t i = 0; l && i < l->resources.n_devices; i++) {
        const struct oci_device_cgroup *d = &l->resources.devices[i];
        struct cg_dev_rule *r = &v[k++];
        r->allow = d->allow;
        r->type = d->type ? d->type : 'a';
        r->major = d->has_major ? d->major : -1;
        r->minor = d->has_minor ? d->minor : -1;
        /* The parser allows only r, w, m; keep each once, in order. */
        const char *acc = d->access && d->access[0] ? d->access : "rwm";
        size_t o = 0;
        for (const char *c = "rwm"; *c; c++)
            if (strchr(acc, *c))
                r->access[o++] = *c;
    }
    for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++)
        v[k++] = default_rules[i];
    /* linux.devices only says which nodes to create; whether the container may use
     * them is for linux.resources.devices alone (runtime-spec config-linux.md, and
     * runc and crun do the same). Allowing each listed node here would let a config
     * that denies all still open, say, /dev/kmsg by listing it. */
    *rules = v;
    *n = k;
}

char *cg_dev_rule_string(const struct cg_dev_rule *r)
{
    /* "a" alone is what the kernel takes for every device (it reads nothing after it). */
    if (r->type == 'a')
        return xstrdup("a");
    char maj[24] = "*", min[24] = "*";
    if (r->major >= 0)
        snprintf(maj, sizeof(maj), "%" PRId64, r->major);
    if (r->minor >= 0)
        snprintf(min, sizeof(min), "%" PRId64, r->minor);
    return xasprintf("%c %s:%s %s", r->type, maj, min, r->access);
}

/* ---- the v1 plan ---------------------------------------------------------------- */

#define R "linux.resources."

static void add(struct cg_plan *p, enum cg_group g, const char *what, const char *file, char *value)
{
    cg_plan_add(p, g, CG_WRITE, group_ctrl[g].v1, what, xstrdup(file), value);
}

static char *i64(int64_t v) { return xasprintf("%" PRId64, v); }
static char *u64(uint64_t v) { return xasprintf("%" PRIu64, v); }

static void plan_memory(const struct oci_resources *res, struct cg_plan *p)
{
    const typeof(res->memory) *m = &res->memory;

    if (!res->has_memory)
        return;
    /* At create every limit is unlimited, so the memory limit goes first: memsw
     * (memory+swap) may never be below it. */
    if (m->has_limit)
        add(p, CG_MEMORY, R "memory.limit", "memory.limit_in_bytes", i64(m->limit));
    if (m->has_swap)
        add(p, CG_MEMORY, R "memory.swap", "memory.memsw.limit_in_bytes", i64(m->swap));
    if (m->has_reservation)
        add(p, CG_MEMORY, R "memory.reservation", "memory.soft_limit_in_bytes", i64(m->reservation));
    if (m->has_kernel)
        add(p, CG_MEMORY, R "memory.kernel", "memory.kmem.limit_in_bytes", i64(m->kernel));
    if (m->has_kernel_tcp)
        add(p, CG_MEMORY, R "memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes", i64(m->kernel_tcp));
    if (m->has_swappiness)
        add(p, CG_MEMORY, R "memory.swappiness", "memory.swappiness", u64(m->swappiness));
    if (m->has_disable_oom_killer)
        add(p, CG_MEMORY, R "memory.disableOOMKiller", "memory.oom_control",
            xstrdup(m->disable_oom_killer ? "1" : "0"));
    if (m->has_use_hierarchy)
        add(p, CG_MEMORY, R "memory.useHierarchy", "memory.use_hierarchy", xstrdup(m->use_hierarchy ? "1" : "0"));
    /* checkBeforeUpdate: v1 itself refuses a limit below the current usage. */
}

/* burst must not exceed a positive quota (both versions). */
static bool burst_invalid(const struct oci_resources *res, struct cg_plan *p, enum cg_group g)
{
    if (res->cpu.has_burst && res->cpu.has_quota && res->cpu.quota > 0 &&
        res->cpu.burst > (uint64_t)res->cpu.quota) {
        cg_plan_add(p, g, CG_FAIL, NULL, R "cpu.burst", NULL,
                    xasprintf("burst %" PRIu64 " is larger than quota %" PRId64, res->cpu.burst, res->cpu.quota));
        return true;
    }
    return false;
}

static void plan_cpu(const struct oci_resources *res, struct cg_plan *p)
{
    if (!res->has_cpu)
        return;
    if (res->cpu.cpus)
        add(p, CG_CPUSET, R "cpu.cpus", "cpuset.cpus", xstrdup(res->cpu.cpus));
    if (res->cpu.mems)
        add(p, CG_CPUSET, R "cpu.mems", "cpuset.mems", xstrdup(res->cpu.mems));
    if (res->cpu.has_shares)
        add(p, CG_CPU, R "cpu.shares", "cpu.shares", u64(res->cpu.shares));
    if (burst_invalid(res, p, CG_CPU))
        return;
    /* The period first: the kernel checks the quota against it. */
    if (res->cpu.has_period)
        add(p, CG_CPU, R "cpu.period", "cpu.cfs_period_us", u64(res->cpu.period));
    if (res->cpu.has_quota)
        add(p, CG_CPU, R "cpu.quota", "cpu.cfs_quota_us", i64(res->cpu.quota));
    if (res->cpu.has_burst)
        add(p, CG_CPU, R "cpu.burst", "cpu.cfs_burst_us", u64(res->cpu.burst));
    /* The same for real time: the runtime must fit in the period. */
    if (res->cpu.has_realtime_period)
        add(p, CG_CPU, R "cpu.realtimePeriod", "cpu.rt_period_us", u64(res->cpu.realtime_period));
    if (res->cpu.has_realtime_runtime)
        add(p, CG_CPU, R "cpu.realtimeRuntime", "cpu.rt_runtime_us", i64(res->cpu.realtime_runtime));
    if (res->cpu.has_idle)
        add(p, CG_CPU, R "cpu.idle", "cpu.idle", i64(res->cpu.idle));
}

static void plan_blkio(const struct oci_resources *res, struct cg_plan *p)
{
    const typeof(res->block_io) *b = &res->block_io;
    static const struct {
        const char *key, *file;
        size_t off_list, off_n;
    } thr[] = {
        { "throttleReadBpsDevice", "blkio.throttle.read_bps_device", offsetof(typeof(*b), throttle_read_bps),
          offsetof(typeof(*b), n_throttle_read_bps) },
        { "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", offsetof(typeof(*b), throttle_write_bps),
          offsetof(typeof(*b), n_throttle_write_bps) },
        { "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", offsetof(typeof(*b), throttle_read_iops),
          offsetof(typeof(*b), n_throttle_read_iops) },
        { "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device",
          offsetof(typeof(*b), throttle_write_iops), offsetof(typeof(*b), n_throttle_write_iops) },
    };

    if (!res->has_block_io)
        return;
    /* blkio.weight is CFQ's; with BFQ the knob is blkio.bfq.weight. */
    if (b->has_weight) {
        add(p, CG_BLKIO, R "blockIO.weight", "blkio.weight", u64(b->weight));
        p->v[p->n - 1].alt_file = xstrdup("blkio.bfq.weight");
        p->v[p->n - 1].alt_value = u64(b->weight);
    }
    if (b->has_leaf_weight)
        add(p, CG_BLKIO, R "blockIO.leafWeight", "blkio.leaf_weight", u64(b->leaf_weight));
    for (size_t i = 0; i < b->n_weight_device; i++) {
        const struct oci_weight_device *w = &b->weight_device[i];
        if (w->has_weight) {
            _cleanup_free_ char *what = xasprintf(R "blockIO.weightDevice[%zu].weight", i);
            add(p, CG_BLKIO, what, "blkio.weight_device",
                xasprintf("%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->weight));
            p->v[p->n - 1].alt_file = xstrdup("blkio.bfq.weight_device");
            p->v[p->n - 1].alt_value = xstrdup(p->v[p->n - 1].value);
        }
        if (w->has_leaf_weight) {
            _cleanup_free_ char *what = xasprintf(R "blockIO.weightDevice[%zu].leafWeight", i);
            add(p, CG_BLKIO, what, "blkio.leaf_weight_device",
                xasprintf("%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->leaf_weight));
        }
    }
    for (size_t t = 0; t < ARRAY_SIZE(thr); t++) {
        const struct oci_throttle_device *list =
            *(struct oci_throttle_device *const *)((const char *)b + thr[t].off_list);
        size_t n = *(const size_t *)((const char *)b + thr[t].off_n);
        /* One device per write: that is what the kernel parses. */
        for (size_t i = 0; i < n; i++) {
            _cleanup_free_ char *what = xasprintf(R "blockIO.%s[%zu]", thr[t].key, i);
            add(p, CG_BLKIO, what, thr[t].file,
                xasprintf("%" PRId64 ":%" PRId64 " %" PRIu64, list[i].major, list[i].minor, list[i].rate));
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
        /* The page-fault limit always; the reservation limit too where the kernel
         * has it, since that one fails mmap() instead of raising SIGBUS later. */
        cg_plan_add(p, CG_HUGETLB, CG_WRITE_IF_EXISTS, "hugetlb", what,
                    xasprintf("hugetlb.%s.rsvd.limit_in_bytes", name), u64(h->limit));
        cg_plan_add(p, CG_HUGETLB, CG_WRITE, "hugetlb", what, xasprintf("hugetlb.%s.limit_in_bytes", name),
                    u64(h->limit));
    }
}

static void plan_network(const struct oci_resources *res, struct cg_plan *p)
{
    if (!res->has_network)
        return;
    if (res->network.has_class_id)
        add(p, CG_NET_CLS, R "network.classID", "net_cls.classid", xasprintf("%u", res->network.class_id));
    for (size_t i = 0; i < res->network.n_priorities; i++) {
        const struct oci_net_priority *np = &res->network.priorities[i];
        _cleanup_free_ char *what = xasprintf(R "network.priorities[%zu]", i);
        /* "<ifname> <prio>": a name with blanks would be read as something else. */
        if (np->name[0] == '\0' || np->name[strcspn(np->name, " \t\n")] != '\0') {
            cg_plan_add(p, CG_NET_PRIO, CG_FAIL, NULL, what, NULL,
                        xasprintf("invalid interface name \"%s\"", np->name));
            continue;
        }
        add(p, CG_NET_PRIO, what, "net_prio.ifpriomap", xasprintf("%s %u", np->name, np->priority));
    }
}

void cg_plan_rdma(const struct oci_resources *res, struct cg_plan *p)
{
    for (size_t i = 0; i < res->n_rdma; i++) {
        const struct oci_rdma_limit *r = &res->rdma[i];
        _cleanup_free_ char *what = xasprintf(R "rdma.%s", r->device);
        if (r->device[0] == '\0' || r->device[strcspn(r->device, " \t\n")] != '\0') {
            cg_plan_add(p, CG_RDMA, CG_FAIL, NULL, what, NULL, xasprintf("invalid device name \"%s\"", r->device));
            continue;
        }
        char h[40] = "", o[40] = "";
        if (r->has_hca_handles)
            snprintf(h, sizeof(h), " hca_handle=%u", r->hca_handles);
        if (r->has_hca_objects)
            snprintf(o, sizeof(o), " hca_object=%u", r->hca_objects);
        cg_plan_add(p, CG_RDMA, CG_WRITE, "rdma", what, xstrdup("rdma.max"), xasprintf("%s%s%s", r->device, h, o));
    }
}

static void plan_devices(const struct oci_linux *l, struct cg_plan *p)
{
    _cleanup_free_ struct cg_dev_rule *rules = NULL;
    size_t n, cfg_n = l ? l->resources.n_devices : 0;

    cg_device_rules(l, &rules, &n);
    for (size_t i = 0; i < n; i++) {
        /* rules[0] is the deny-all, rules[1..cfg_n] the config's. */
        bool from_cfg = i >= 1 && i <= cfg_n;
        _cleanup_free_ char *what = from_cfg ? xasprintf(R "devices[%zu]", i - 1) : xstrdup(R "devices");
        add(p, CG_DEVICES, what, rules[i].allow ? "devices.allow" : "devices.deny", cg_dev_rule_string(&rules[i]));
        p->v[p->n - 1].implicit = !from_cfg;
    }
}

void cgroup_plan_v1(const struct oci_linux *l, struct cg_plan *out)
{
    out->v = NULL;
    out->n = 0;
    if (l && l->has_resources) {
        const struct oci_resources *res = &l->resources;
        plan_cpu(res, out);
        plan_memory(res, out);
        if (res->has_pids)
            add(out, CG_PIDS, R "pids.limit", "pids.max",
                res->pids.limit < 0 ? xstrdup("max") : i64(res->pids.limit));
        plan_blkio(res, out);
        plan_hugetlb(res, out);
        plan_network(res, out);
        cg_plan_rdma(res, out);
        if (res->n_unified > 0)
            cg_plan_add(out, CG_UNIFIED, CG_FAIL, NULL, R "unified", NULL,
                        xstrdup("needs a cgroup v2 hierarchy, and this host has none"));
    }
    plan_devices(l, out);
}
