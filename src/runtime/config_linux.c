/* config_linux.c — the "linux" section of config.json: namespaces, id mappings,
 * time offsets, devices, cgroup resources, propagation, masked/readonly paths,
 * sysctl, seccomp and personality. See config.h for the structs. */
#include "config.h"
#include "config_json.h"
#include "util.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <string.h>

/* ---- name tables -------------------------------------------------------------- */

static const char *const propagations[] = {
    "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable", NULL,
};

static const char *const seccomp_actions[] = {
    "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", NULL,
};

static const char *const seccomp_arches[] = {
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
    "SCMP_ARCH_SH", "SCMP_ARCH_SHEB", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
    NULL,
};

static const char *const seccomp_flags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL,
};

static const char *const seccomp_ops[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ", NULL,
};
static const enum scmp_compare seccomp_op_values[] = {
    SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ,
};

/* The i-th entry of a NULL-terminated table, NULL at or past its end. */
static const char *name_at(const char *const *table, size_t n, size_t i)
{
    return i < n ? table[i] : NULL;
}

const char *config_seccomp_op_name(size_t i)
{
    return name_at(seccomp_ops, ARRAY_SIZE(seccomp_ops), i);
}

const char *config_seccomp_flag_name(size_t i)
{
    return name_at(seccomp_flags, ARRAY_SIZE(seccomp_flags), i);
}

static const char *const time_clocks[] = { "monotonic", "boottime", NULL };
static const char *const personality_domains[] = { "LINUX", "LINUX32", NULL };

/* ---- small helpers ---------------------------------------------------------------- */

static int opt_i64(const struct cj *c, struct json_object *o, const char *path, const char *key,
                   int64_t min, bool *has, int64_t *out)
{
    int r = cj_int(c, o, path, key, false, min, INT64_MAX, out);
    if (r > 0)
        *has = true;
    return r;
}

static int opt_u64(const struct cj *c, struct json_object *o, const char *path, const char *key,
                   uint64_t max, bool *has, uint64_t *out)
{
    int r = cj_uint(c, o, path, key, false, max, out);
    if (r > 0)
        *has = true;
    return r;
}

/* A blkio weight: the kernel takes 10..1000 (cgroup v1 blkio.weight, the range the
 * v2 io.weight conversion starts from), so anything else is refused here rather than
 * as an ERANGE halfway through create. 0 is Go's "unset" in runc's configs and is
 * treated as absent, as runc does. */
static int opt_blkio_weight(const struct cj *c, struct json_object *o, const char *path,
                            const char *key, bool *has, uint16_t *out)
{
    uint64_t v;
    int r = cj_uint(c, o, path, key, false, 1000, &v);
    if (r > 0 && v != 0 && v < 10) {
        _cleanup_free_ char *kp = cj_path_key(path, key);
        return cj_fail(c, kp, "%" PRIu64 " out of range [10, 1000]", v);
    }
    if (r > 0 && v != 0) {
        *has = true;
        *out = (uint16_t)v;
    }
    return r < 0 ? r : 0;
}

static int opt_u32(const struct cj *c, struct json_object *o, const char *path, const char *key,
                   bool required, bool *has, uint32_t *out)
{
    uint64_t v;
    int r = cj_uint(c, o, path, key, required, UINT32_MAX, &v);
    if (r > 0) {
        if (has)
            *has = true;
        *out = (uint32_t)v;
    }
    return r;
}

/* Array member whose elements must be objects: calls fn(i, elem, elem_path). */
typedef int (*elem_fn)(const struct cj *c, struct json_object *e, const char *path, size_t i,
                       void *ctx);

static int each_object(const struct cj *c, struct json_object *o, const char *path, const char *key,
                       size_t *n_out, void *(*alloc)(size_t n, void *ctx), elem_fn fn, void *ctx)
{
    _cleanup_free_ char *kp = cj_path_key(path, key);
    struct json_object *arr;
    size_t n;
    int r = cj_array(c, o, path, key, false, &arr, &n);

    if (r <= 0)
        return r;
    alloc(n, ctx);
    *n_out = n;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *ip = cj_path_index(kp, i);
        struct json_object *e = json_object_array_get_idx(arr, i);
        if (cj_as_object(c, e, ip) < 0 || fn(c, e, ip, i, ctx) < 0)
            return -1;
    }
    return 1;
}

/* Every path in an array must be absolute. */
static int abs_strv(const struct cj *c, struct json_object *o, const char *path, const char *key,
                    char ***out, size_t *n)
{
    _cleanup_free_ char *kp = cj_path_key(path, key);
    int r = cj_strv(c, o, path, key, false, out, n);

    if (r <= 0)
        return r;
    for (size_t i = 0; i < *n; i++) {
        _cleanup_free_ char *ip = cj_path_index(kp, i);
        if (cj_check_abs(c, ip, (*out)[i]) < 0)
            return -1;
    }
    return 1;
}

/* ---- id mappings (also used by mounts in config.c) ----------------------------- */

static int check_range(const struct cj *c, const char *path, const char *key, uint32_t start,
                       uint32_t size)
{
    /* The kernel refuses ranges that wrap around; say so with the field named. */
    if ((uint64_t)start + size - 1 > UINT32_MAX) {
        _cleanup_free_ char *kp = cj_path_key(path, key);
        return cj_fail(c, kp, "%" PRIu32 " + size %" PRIu32 " exceeds 4294967295", start, size);
    }
    return 0;
}

int cj_id_mappings(const struct cj *c, struct json_object *obj, const char *path, const char *key,
                   struct oci_id_mapping **out, size_t *n)
{
    _cleanup_free_ char *kp = cj_path_key(path, key);
    struct json_object *arr;
    size_t len;
    int r = cj_array(c, obj, path, key, false, &arr, &len);

    if (r <= 0)
        return r;
    *out = xcalloc(len, sizeof(**out));
    *n = len;
    for (size_t i = 0; i < len; i++) {
        _cleanup_free_ char *ip = cj_path_index(kp, i);
        struct json_object *e = json_object_array_get_idx(arr, i);
        struct oci_id_mapping *m = &(*out)[i];

        if (cj_as_object(c, e, ip) < 0 ||
            opt_u32(c, e, ip, "containerID", true, NULL, &m->container_id) < 0 ||
            opt_u32(c, e, ip, "hostID", true, NULL, &m->host_id) < 0 ||
            opt_u32(c, e, ip, "size", true, NULL, &m->size) < 0)
            return -1;
        if (m->size == 0) {
            _cleanup_free_ char *sp = cj_path_key(ip, "size");
            return cj_fail(c, sp, "0 out of range [1, 4294967295]");
        }
        if (check_range(c, ip, "containerID", m->container_id, m->size) < 0 ||
            check_range(c, ip, "hostID", m->host_id, m->size) < 0)
            return -1;
    }
    return 1;
}

/* ---- namespaces, time offsets, devices ------------------------------------------- */

static int parse_namespaces(const struct cj *c, struct json_object *o, const char *path,
                            struct oci_linux *l)
{
    _cleanup_free_ char *kp = cj_path_key(path, "namespaces");
    struct json_object *arr;
    size_t n;
    int r = cj_array(c, o, path, "namespaces", false, &arr, &n);

    if (r <= 0)
        return r;
    l->namespaces = xcalloc(n, sizeof(*l->namespaces));
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *ip = cj_path_index(kp, i);
        _cleanup_free_ char *tp = cj_path_key(ip, "type");
        _cleanup_free_ char *pp = cj_path_key(ip, "path");
        _cleanup_free_ char *type = NULL;
        struct json_object *e = json_object_array_get_idx(arr, i);
        struct oci_namespace *ns = &l->namespaces[i];
        int t;

        l->n_namespaces = i + 1;
        if (cj_as_object(c, e, ip) < 0 || cj_string(c, e, ip, "type", true, &type) < 0)
            return -1;
        if ((t = ns_type_from_name(type)) < 0) {
            _cleanup_free_ char *q = cj_quote(type);
            return cj_fail(c, tp, "unknown namespace %s", q);
        }
        ns->type = (enum oci_ns_type)t;
        /* The spec makes duplicates an error: two entries could disagree on
         * whether to join or create, and either choice would surprise someone. */
        for (size_t j = 0; j < i; j++)
            if (l->namespaces[j].type == ns->type)
                return cj_fail(c, ip, "duplicate namespace \"%s\"", ns_type_name(ns->type));
        if (cj_string(c, e, ip, "path", false, &ns->path) < 0)
            return -1;
        if (ns->path && ns->path[0] == '\0') {
            free(ns->path);   /* "" means unset, as Go's omitempty writes it */
            ns->path = NULL;
        }
        if (ns->path && cj_check_abs(c, pp, ns->path) < 0)
            return -1;
    }
    return 0;
}

static int parse_time_offsets(const struct cj *c, struct json_object *o, const char *path,
                              struct oci_linux *l)
{
    _cleanup_free_ char *kp = cj_path_key(path, "timeOffsets");
    struct json_object *to;
    size_t i = 0;
    int r = cj_object(c, o, path, "timeOffsets", false, &to);

    if (r <= 0)
        return r;
    l->time_offsets = xcalloc((size_t)json_object_object_length(to), sizeof(*l->time_offsets));
    json_object_object_foreach(to, clock, val) {
        _cleanup_free_ char *ep = cj_path_key(kp, clock);
        struct oci_time_offset *t = &l->time_offsets[i];
        size_t k;
        uint64_t ns;

        for (k = 0; time_clocks[k]; k++)
            if (strcmp(clock, time_clocks[k]) == 0)
                break;
        if (time_clocks[k] == NULL) {
            _cleanup_free_ char *q = cj_quote(clock);
            return cj_fail(c, ep, "unknown clock %s", q);
        }
        t->clock = xstrdup(clock);
        l->n_time_offsets = ++i;
        if (cj_as_object(c, val, ep) < 0 ||
            cj_int(c, val, ep, "secs", false, INT64_MIN, INT64_MAX, &t->secs) < 0 ||
            (r = cj_uint(c, val, ep, "nanosecs", false, 999999999, &ns)) < 0)
            return -1;
        if (r)
            t->nanosecs = (uint32_t)ns;
    }
    return 0;
}

static void *alloc_devices(size_t n, void *ctx)
{
    struct oci_linux *l = ctx;
    return l->devices = xcalloc(n, sizeof(*l->devices));
}

static int parse_device(const struct cj *c, struct json_object *e, const char *ip, size_t i, void *ctx)
{
    struct oci_linux *l = ctx;
    struct oci_device *d = &l->devices[i];
    _cleanup_free_ char *type = NULL;
    _cleanup_free_ char *tp = cj_path_key(ip, "type");
    _cleanup_free_ char *pp = cj_path_key(ip, "path");
    bool need_numbers;
    uint64_t v;
    int r;

    if (cj_string(c, e, ip, "type", true, &type) < 0)
        return -1;
    if (strlen(type) != 1 || strchr("cbup", type[0]) == NULL) {
        _cleanup_free_ char *q = cj_quote(type);
        return cj_fail(c, tp, "unknown device type %s", q);
    }
    d->type = type[0];
    if (cj_string(c, e, ip, "path", true, &d->path) < 0 || cj_check_abs(c, pp, d->path) < 0)
        return -1;
    need_numbers = d->type != 'p';
    if (cj_int(c, e, ip, "major", need_numbers, INT64_MIN, INT64_MAX, &d->major) < 0 ||
        cj_int(c, e, ip, "minor", need_numbers, INT64_MIN, INT64_MAX, &d->minor) < 0)
        return -1;
    if ((r = cj_uint(c, e, ip, "fileMode", false, 0777, &v)) < 0)
        return -1;
    if (r) {
        d->has_file_mode = true;
        d->file_mode = (mode_t)v;
    }
    if ((r = cj_uint(c, e, ip, "uid", false, CJ_MAX_ID, &v)) < 0)
        return -1;
    if (r) {
        d->has_uid = true;
        d->uid = (uid_t)v;
    }
    if ((r = cj_uint(c, e, ip, "gid", false, CJ_MAX_ID, &v)) < 0)
        return -1;
    if (r) {
        d->has_gid = true;
        d->gid = (gid_t)v;
    }
    return 0;
}

/* ---- resources ---------------------------------------------------------------------- */

static void *alloc_dev_cgroup(size_t n, void *ctx)
{
    struct oci_resources *res = ctx;
    return res->devices = xcalloc(n, sizeof(*res->devices));
}

static int parse_dev_cgroup(const struct cj *c, struct json_object *e, const char *ip, size_t i,
                            void *ctx)
{
    struct oci_resources *res = ctx;
    struct oci_device_cgroup *d = &res->devices[i];
    _cleanup_free_ char *type = NULL;
    int r;

    d->type = 'a';
    if (cj_bool(c, e, ip, "allow", true, &d->allow) < 0 ||
        (r = cj_string(c, e, ip, "type", false, &type)) < 0)
        return -1;
    if (r && !(strlen(type) == 1 && strchr("acb", type[0]))) {
        _cleanup_free_ char *tp = cj_path_key(ip, "type");
        _cleanup_free_ char *q = cj_quote(type);
        return cj_fail(c, tp, "unknown device type %s", q);
    }
    if (r)
        d->type = type[0];
    if (opt_i64(c, e, ip, "major", INT64_MIN, &d->has_major, &d->major) < 0 ||
        opt_i64(c, e, ip, "minor", INT64_MIN, &d->has_minor, &d->minor) < 0 ||
        (r = cj_string(c, e, ip, "access", false, &d->access)) < 0)
        return -1;
    /* Only r, w, m: anything else would be written verbatim into devices.allow. */
    if (r && d->access[strspn(d->access, "rwm")] != '\0') {
        _cleanup_free_ char *ap = cj_path_key(ip, "access");
        _cleanup_free_ char *q = cj_quote(d->access);
        return cj_fail(c, ap, "invalid access %s (a combination of r, w, m)", q);
    }
    return 0;
}

static int parse_memory(const struct cj *c, struct json_object *res_o, const char *rp,
                        struct oci_resources *res)
{
    _cleanup_free_ char *mp = cj_path_key(rp, "memory");
    struct json_object *m;
    int r = cj_object(c, res_o, rp, "memory", false, &m);

    if (r <= 0)
        return r;
    res->has_memory = true;
    /* Memory amounts are bytes, or -1 for unlimited. */
    if (opt_i64(c, m, mp, "limit", -1, &res->memory.has_limit, &res->memory.limit) < 0 ||
        opt_i64(c, m, mp, "reservation", -1, &res->memory.has_reservation, &res->memory.reservation) < 0 ||
        opt_i64(c, m, mp, "swap", -1, &res->memory.has_swap, &res->memory.swap) < 0 ||
        opt_i64(c, m, mp, "kernel", -1, &res->memory.has_kernel, &res->memory.kernel) < 0 ||
        opt_i64(c, m, mp, "kernelTCP", -1, &res->memory.has_kernel_tcp, &res->memory.kernel_tcp) < 0 ||
        opt_u64(c, m, mp, "swappiness", 100, &res->memory.has_swappiness, &res->memory.swappiness) < 0)
        return -1;
    if ((r = cj_bool(c, m, mp, "disableOOMKiller", false, &res->memory.disable_oom_killer)) < 0)
        return -1;
    res->memory.has_disable_oom_killer = r > 0;
    if ((r = cj_bool(c, m, mp, "useHierarchy", false, &res->memory.use_hierarchy)) < 0)
        return -1;
    res->memory.has_use_hierarchy = r > 0;
    if ((r = cj_bool(c, m, mp, "checkBeforeUpdate", false, &res->memory.check_before_update)) < 0)
        return -1;
    res->memory.has_check_before_update = r > 0;
    return 0;
}

static int parse_cpu(const struct cj *c, struct json_object *res_o, const char *rp,
                     struct oci_resources *res)
{
    _cleanup_free_ char *cp = cj_path_key(rp, "cpu");
    struct json_object *o;
    int r = cj_object(c, res_o, rp, "cpu", false, &o);

    if (r <= 0)
        return r;
    res->has_cpu = true;
    if (opt_u64(c, o, cp, "shares", UINT64_MAX, &res->cpu.has_shares, &res->cpu.shares) < 0 ||
        opt_i64(c, o, cp, "quota", INT64_MIN, &res->cpu.has_quota, &res->cpu.quota) < 0 ||
        opt_u64(c, o, cp, "burst", UINT64_MAX, &res->cpu.has_burst, &res->cpu.burst) < 0 ||
        opt_u64(c, o, cp, "period", UINT64_MAX, &res->cpu.has_period, &res->cpu.period) < 0 ||
        opt_i64(c, o, cp, "realtimeRuntime", INT64_MIN, &res->cpu.has_realtime_runtime,
                &res->cpu.realtime_runtime) < 0 ||
        opt_u64(c, o, cp, "realtimePeriod", UINT64_MAX, &res->cpu.has_realtime_period,
                &res->cpu.realtime_period) < 0 ||
        opt_i64(c, o, cp, "idle", INT64_MIN, &res->cpu.has_idle, &res->cpu.idle) < 0 ||
        cj_string(c, o, cp, "cpus", false, &res->cpu.cpus) < 0 ||
        cj_string(c, o, cp, "mems", false, &res->cpu.mems) < 0)
        return -1;
    return 0;
}

static int parse_weight_device(const struct cj *c, struct json_object *e, const char *ip, size_t i,
                               void *ctx)
{
    struct oci_resources *res = ctx;
    struct oci_weight_device *w = &res->block_io.weight_device[i];

    if (cj_int(c, e, ip, "major", true, INT64_MIN, INT64_MAX, &w->major) < 0 ||
        cj_int(c, e, ip, "minor", true, INT64_MIN, INT64_MAX, &w->minor) < 0 ||
        opt_blkio_weight(c, e, ip, "weight", &w->has_weight, &w->weight) < 0 ||
        opt_blkio_weight(c, e, ip, "leafWeight", &w->has_leaf_weight, &w->leaf_weight) < 0)
        return -1;
    if (!w->has_weight && !w->has_leaf_weight)
        return cj_fail(c, ip, "must specify weight or leafWeight");
    return 0;
}

static void *alloc_weight_device(size_t n, void *ctx)
{
    struct oci_resources *res = ctx;
    return res->block_io.weight_device = xcalloc(n, sizeof(struct oci_weight_device));
}

struct throttle_ctx {
    struct oci_throttle_device **list;
};

static void *alloc_throttle(size_t n, void *ctx)
{
    struct throttle_ctx *t = ctx;
    return *t->list = xcalloc(n, sizeof(struct oci_throttle_device));
}

static int parse_throttle(const struct cj *c, struct json_object *e, const char *ip, size_t i,
                          void *ctx)
{
    struct throttle_ctx *t = ctx;
    struct oci_throttle_device *d = &(*t->list)[i];

    if (cj_int(c, e, ip, "major", true, INT64_MIN, INT64_MAX, &d->major) < 0 ||
        cj_int(c, e, ip, "minor", true, INT64_MIN, INT64_MAX, &d->minor) < 0 ||
        cj_uint(c, e, ip, "rate", true, UINT64_MAX, &d->rate) < 0)
        return -1;
    return 0;
}

static int parse_block_io(const struct cj *c, struct json_object *res_o, const char *rp,
                          struct oci_resources *res)
{
    _cleanup_free_ char *bp = cj_path_key(rp, "blockIO");
    struct json_object *b;
    typeof(res->block_io) *bio = &res->block_io;
    struct throttle_ctx t1 = { &bio->throttle_read_bps }, t2 = { &bio->throttle_write_bps },
                        t3 = { &bio->throttle_read_iops }, t4 = { &bio->throttle_write_iops };
    int r = cj_object(c, res_o, rp, "blockIO", false, &b);

    if (r <= 0)
        return r;
    res->has_block_io = true;
    if (opt_blkio_weight(c, b, bp, "weight", &bio->has_weight, &bio->weight) < 0 ||
        opt_blkio_weight(c, b, bp, "leafWeight", &bio->has_leaf_weight, &bio->leaf_weight) < 0 ||
        each_object(c, b, bp, "weightDevice", &bio->n_weight_device, alloc_weight_device,
                    parse_weight_device, res) < 0 ||
        each_object(c, b, bp, "throttleReadBpsDevice", &bio->n_throttle_read_bps, alloc_throttle,
                    parse_throttle, &t1) < 0 ||
        each_object(c, b, bp, "throttleWriteBpsDevice", &bio->n_throttle_write_bps, alloc_throttle,
                    parse_throttle, &t2) < 0 ||
        each_object(c, b, bp, "throttleReadIOPSDevice", &bio->n_throttle_read_iops, alloc_throttle,
                    parse_throttle, &t3) < 0 ||
        each_object(c, b, bp, "throttleWriteIOPSDevice", &bio->n_throttle_write_iops,
                    alloc_throttle, parse_throttle, &t4) < 0)
        return -1;
    return 0;
}

static void *alloc_hugepages(size_t n, void *ctx)
{
    struct oci_resources *res = ctx;
    return res->hugepage_limits = xcalloc(n, sizeof(*res->hugepage_limits));
}

/* "2MB", "1GB": ^[1-9][0-9]*[KMG]B$ as in the schema. The value names a cgroup
 * file (hugetlb.<size>.limit_in_bytes), so nothing else may get through. */
static bool page_size_valid(const char *s)
{
    size_t d = strspn(s, "0123456789");

    return d > 0 && s[0] != '0' && strchr("KMG", s[d]) && s[d] && s[d + 1] == 'B' && s[d + 2] == '\0';
}

static int parse_hugepage(const struct cj *c, struct json_object *e, const char *ip, size_t i,
                          void *ctx)
{
    struct oci_resources *res = ctx;
    struct oci_hugepage_limit *h = &res->hugepage_limits[i];

    if (cj_string(c, e, ip, "pageSize", true, &h->page_size) < 0)
        return -1;
    if (!page_size_valid(h->page_size)) {
        _cleanup_free_ char *pp = cj_path_key(ip, "pageSize");
        _cleanup_free_ char *q = cj_quote(h->page_size);
        return cj_fail(c, pp, "invalid page size %s", q);
    }
    return cj_uint(c, e, ip, "limit", true, UINT64_MAX, &h->limit) < 0 ? -1 : 0;
}

static void *alloc_priorities(size_t n, void *ctx)
{
    struct oci_resources *res = ctx;
    return res->network.priorities = xcalloc(n, sizeof(*res->network.priorities));
}

static int parse_priority(const struct cj *c, struct json_object *e, const char *ip, size_t i,
                          void *ctx)
{
    struct oci_resources *res = ctx;
    struct oci_net_priority *p = &res->network.priorities[i];

    if (cj_string(c, e, ip, "name", true, &p->name) < 0 ||
        opt_u32(c, e, ip, "priority", true, NULL, &p->priority) < 0)
        return -1;
    return 0;
}

static int parse_network(const struct cj *c, struct json_object *res_o, const char *rp,
                         struct oci_resources *res)
{
    _cleanup_free_ char *np = cj_path_key(rp, "network");
    struct json_object *o;
    int r = cj_object(c, res_o, rp, "network", false, &o);

    if (r <= 0)
        return r;
    res->has_network = true;
    if (opt_u32(c, o, np, "classID", false, &res->network.has_class_id, &res->network.class_id) < 0 ||
        each_object(c, o, np, "priorities", &res->network.n_priorities, alloc_priorities,
                    parse_priority, res) < 0)
        return -1;
    return 0;
}

static int parse_rdma(const struct cj *c, struct json_object *res_o, const char *rp,
                      struct oci_resources *res)
{
    _cleanup_free_ char *kp = cj_path_key(rp, "rdma");
    struct json_object *o;
    size_t i = 0;
    int r = cj_object(c, res_o, rp, "rdma", false, &o);

    if (r <= 0)
        return r;
    res->rdma = xcalloc((size_t)json_object_object_length(o), sizeof(*res->rdma));
    json_object_object_foreach(o, dev, val) {
        _cleanup_free_ char *ep = cj_path_key(kp, dev);
        struct oci_rdma_limit *l = &res->rdma[i];

        l->device = xstrdup(dev);
        res->n_rdma = ++i;
        if (cj_as_object(c, val, ep) < 0 ||
            opt_u32(c, val, ep, "hcaHandles", false, &l->has_hca_handles, &l->hca_handles) < 0 ||
            opt_u32(c, val, ep, "hcaObjects", false, &l->has_hca_objects, &l->hca_objects) < 0)
            return -1;
        if (!l->has_hca_handles && !l->has_hca_objects)
            return cj_fail(c, ep, "must specify hcaHandles or hcaObjects");
    }
    return 0;
}

static int parse_unified(const struct cj *c, struct json_object *res_o, const char *rp,
                         struct oci_resources *res)
{
    _cleanup_strv_ char **kv = NULL;
    size_t n;
    int r = cj_string_map(c, res_o, rp, "unified", &kv, &n);

    if (r <= 0)
        return r;
    res->unified = xcalloc(n, sizeof(*res->unified));
    res->n_unified = n;
    for (size_t i = 0; i < n; i++) {
        res->unified[i].key = steal_ptr(kv[2 * i]);
        res->unified[i].value = steal_ptr(kv[2 * i + 1]);
    }
    return 0;
}

static int parse_resources(const struct cj *c, struct json_object *o, const char *path,
                           struct oci_linux *l)
{
    _cleanup_free_ char *rp = cj_path_key(path, "resources");
    _cleanup_free_ char *pp = cj_path_key(rp, "pids");
    struct oci_resources *res = &l->resources;
    struct json_object *r_o, *pids;
    int r = cj_object(c, o, path, "resources", false, &r_o);

    if (r <= 0)
        return r;
    l->has_resources = true;
    if (each_object(c, r_o, rp, "devices", &res->n_devices, alloc_dev_cgroup, parse_dev_cgroup,
                    res) < 0 ||
        parse_memory(c, r_o, rp, res) < 0 || parse_cpu(c, r_o, rp, res) < 0)
        return -1;
    if ((r = cj_object(c, r_o, rp, "pids", false, &pids)) < 0)
        return -1;
    /* pids without a limit sets nothing, so it counts as absent. */
    if (r && (r = cj_int(c, pids, pp, "limit", false, INT64_MIN, INT64_MAX, &res->pids.limit)) < 0)
        return -1;
    res->has_pids = r > 0;
    if (parse_block_io(c, r_o, rp, res) < 0 ||
        each_object(c, r_o, rp, "hugepageLimits", &res->n_hugepage_limits, alloc_hugepages,
                    parse_hugepage, res) < 0 ||
        parse_network(c, r_o, rp, res) < 0 || parse_rdma(c, r_o, rp, res) < 0 ||
        parse_unified(c, r_o, rp, res) < 0)
        return -1;
    return 0;
}

static void resources_clear(struct oci_resources *res)
{
    for (size_t i = 0; i < res->n_devices; i++)
        free(res->devices[i].access);
    free(res->devices);
    free(res->cpu.cpus);
    free(res->cpu.mems);
    free(res->block_io.weight_device);
    free(res->block_io.throttle_read_bps);
    free(res->block_io.throttle_write_bps);
    free(res->block_io.throttle_read_iops);
    free(res->block_io.throttle_write_iops);
    for (size_t i = 0; i < res->n_hugepage_limits; i++)
        free(res->hugepage_limits[i].page_size);
    free(res->hugepage_limits);
    for (size_t i = 0; i < res->network.n_priorities; i++)
        free(res->network.priorities[i].name);
    free(res->network.priorities);
    for (size_t i = 0; i < res->n_rdma; i++)
        free(res->rdma[i].device);
    free(res->rdma);
    for (size_t i = 0; i < res->n_unified; i++) {
        free(res->unified[i].key);
        free(res->unified[i].value);
    }
    free(res->unified);
}

/* ---- seccomp ------------------------------------------------------------------------ */

/* errnoRet only means something for actions that return an errno; the spec says a
 * runtime MUST fail otherwise rather than silently ignore it. */
static int check_errno_ret(const struct cj *c, const char *path, const char *key, bool has,
                           const char *action)
{
    if (has && strcmp(action, "SCMP_ACT_ERRNO") != 0 && strcmp(action, "SCMP_ACT_TRACE") != 0) {
        _cleanup_free_ char *kp = cj_path_key(path, key);
        return cj_fail(c, kp, "not supported with action \"%s\"", action);
    }
    return 0;
}

static int check_names(const struct cj *c, const char *path, const char *key, char **v, size_t n,
                       const char *const *names, const char *what)
{
    _cleanup_free_ char *kp = cj_path_key(path, key);

    for (size_t i = 0; i < n; i++) {
        size_t k;
        for (k = 0; names[k]; k++)
            if (strcmp(v[i], names[k]) == 0)
                break;
        if (names[k] == NULL) {
            _cleanup_free_ char *ip = cj_path_index(kp, i);
            _cleanup_free_ char *q = cj_quote(v[i]);
            return cj_fail(c, ip, "unknown %s %s", what, q);
        }
    }
    return 0;
}

struct syscall_ctx {
    struct oci_seccomp_syscall *sc;
};

static void *alloc_args(size_t n, void *ctx)
{
    struct syscall_ctx *s = ctx;
    return s->sc->args = xcalloc(n, sizeof(*s->sc->args));
}

static int parse_arg(const struct cj *c, struct json_object *e, const char *ip, size_t i, void *ctx)
{
    struct syscall_ctx *s = ctx;
    struct oci_seccomp_arg *a = &s->sc->args[i];
    uint64_t index;
    size_t op;

    /* Syscalls have six arguments; libseccomp rejects anything else. */
    if (cj_uint(c, e, ip, "index", true, 5, &index) < 0 ||
        cj_uint(c, e, ip, "value", true, UINT64_MAX, &a->value) < 0 ||
        cj_uint(c, e, ip, "valueTwo", false, UINT64_MAX, &a->value_two) < 0 ||
        cj_enum(c, e, ip, "op", true, seccomp_ops, "operator", &op) < 0)
        return -1;
    a->index = (unsigned)index;
    a->op = (int)seccomp_op_values[op];
    a->op_name = xstrdup(seccomp_ops[op]);
    return 0;
}

static void *alloc_syscalls(size_t n, void *ctx)
{
    struct oci_seccomp *s = ctx;
    return s->syscalls = xcalloc(n, sizeof(*s->syscalls));
}

static int parse_syscall(const struct cj *c, struct json_object *e, const char *ip, size_t i,
                         void *ctx)
{
    struct oci_seccomp *s = ctx;
    struct oci_seccomp_syscall *sc = &s->syscalls[i];
    _cleanup_free_ char *np = cj_path_key(ip, "names");
    struct syscall_ctx sctx = { sc };
    size_t idx;

    if (cj_strv(c, e, ip, "names", true, &sc->names, &sc->n_names) < 0)
        return -1;
    if (sc->n_names == 0)
        return cj_fail(c, np, "must have at least one element");
    for (size_t k = 0; k < sc->n_names; k++) {
        if (sc->names[k][0] == '\0') {
            _cleanup_free_ char *kp = cj_path_index(np, k);
            return cj_fail(c, kp, "must not be empty");
        }
    }
    if (cj_enum(c, e, ip, "action", true, seccomp_actions, "seccomp action", &idx) < 0)
        return -1;
    sc->action = xstrdup(seccomp_actions[idx]);
    if (opt_u32(c, e, ip, "errnoRet", false, &sc->has_errno_ret, &sc->errno_ret) < 0 ||
        check_errno_ret(c, ip, "errnoRet", sc->has_errno_ret, sc->action) < 0)
        return -1;
    if (each_object(c, e, ip, "args", &sc->n_args, alloc_args, parse_arg, &sctx) < 0)
        return -1;
    return 0;
}

static int parse_seccomp(const struct cj *c, struct json_object *o, const char *path,
                         struct oci_linux *l)
{
    _cleanup_free_ char *sp = cj_path_key(path, "seccomp");
    struct oci_seccomp *s = &l->seccomp;
    struct json_object *so;
    size_t idx, n_arch = 0, n_flags = 0;
    int r = cj_object(c, o, path, "seccomp", false, &so);

    if (r <= 0)
        return r;
    l->has_seccomp = true;
    if (cj_enum(c, so, sp, "defaultAction", true, seccomp_actions, "seccomp action", &idx) < 0)
        return -1;
    s->default_action = xstrdup(seccomp_actions[idx]);
    if (opt_u32(c, so, sp, "defaultErrnoRet", false, &s->has_default_errno_ret,
                &s->default_errno_ret) < 0 ||
        check_errno_ret(c, sp, "defaultErrnoRet", s->has_default_errno_ret, s->default_action) < 0)
        return -1;
    if (cj_strv(c, so, sp, "architectures", false, &s->architectures, &n_arch) < 0 ||
        check_names(c, sp, "architectures", s->architectures, n_arch, seccomp_arches,
                    "architecture") < 0 ||
        cj_strv(c, so, sp, "flags", false, &s->flags, &n_flags) < 0 ||
        check_names(c, sp, "flags", s->flags, n_flags, seccomp_flags, "seccomp flag") < 0 ||
        cj_string(c, so, sp, "listenerPath", false, &s->listener_path) < 0 ||
        cj_string(c, so, sp, "listenerMetadata", false, &s->listener_metadata) < 0)
        return -1;
    if (s->listener_metadata && !s->listener_path) {
        _cleanup_free_ char *mp = cj_path_key(sp, "listenerMetadata");
        return cj_fail(c, mp, "not allowed without listenerPath");
    }
    if (each_object(c, so, sp, "syscalls", &s->n_syscalls, alloc_syscalls, parse_syscall, s) < 0)
        return -1;
    return 0;
}

static void seccomp_clear(struct oci_seccomp *s)
{
    free(s->default_action);
    strv_free(s->architectures);
    strv_free(s->flags);
    free(s->listener_path);
    free(s->listener_metadata);
    for (size_t i = 0; i < s->n_syscalls; i++) {
        struct oci_seccomp_syscall *sc = &s->syscalls[i];
        strv_free(sc->names);
        free(sc->action);
        for (size_t k = 0; k < sc->n_args; k++)
            free(sc->args[k].op_name);
        free(sc->args);
    }
    free(s->syscalls);
}

/* ---- the linux object ------------------------------------------------------------- */

static int parse_sysctl(const struct cj *c, struct json_object *o, const char *path,
                        struct oci_linux *l)
{
    _cleanup_strv_ char **kv = NULL;
    size_t n;
    int r = cj_string_map(c, o, path, "sysctl", &kv, &n);

    if (r <= 0)
        return r;
    /* kernel.hostname competes with the "hostname" field, which is how a config
     * names its container (and which with a shared UTS namespace would rename the
     * host): refused outright, as runc and crun refuse it, in either key form. */
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *dotted = xstrdup(kv[2 * i]);
        for (char *s = dotted; *s; s++)
            if (*s == '/')
                *s = '.';
        if (strcmp(dotted, "kernel.hostname") == 0) {
            _cleanup_free_ char *sp = cj_path_key(path, "sysctl"), *kp = cj_path_key(sp, kv[2 * i]);
            return cj_fail(c, kp, "not allowed: the hostname is set by the \"hostname\" field");
        }
    }
    l->sysctl = xcalloc(n, sizeof(*l->sysctl));
    l->n_sysctl = n;
    for (size_t i = 0; i < n; i++) {
        l->sysctl[i].key = steal_ptr(kv[2 * i]);
        l->sysctl[i].value = steal_ptr(kv[2 * i + 1]);
    }
    return 0;
}

static int parse_personality(const struct cj *c, struct json_object *o, const char *path,
                             struct oci_linux *l)
{
    _cleanup_free_ char *pp = cj_path_key(path, "personality");
    struct json_object *p;
    size_t idx;
    int r = cj_object(c, o, path, "personality", false, &p);

    if (r <= 0)
        return r;
    if (cj_enum(c, p, pp, "domain", true, personality_domains, "personality domain", &idx) < 0)
        return -1;
    l->personality_domain = xstrdup(personality_domains[idx]);
    if (cj_strv(c, p, pp, "flags", false, &l->personality_flags, NULL) < 0)
        return -1;
    return 0;
}

/* Parts of linux that husk does not implement. Ignoring one would run the container
 * without what the config asked for (an RDT class, a NUMA policy, a network device
 * moved in), so a config that sets one is refused, naming it; `husk features` says
 * the same (intelRdt, memoryPolicy and netDevices not enabled). */
static int refuse_unsupported(const struct cj *c, struct json_object *obj, const char *path)
{
    static const char *const keys[][2] = {
        { "intelRdt", "Intel RDT (resctrl)" },
        { "memoryPolicy", "a NUMA memory policy" },
        { "netDevices", "moving network devices into the container" },
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        struct json_object *v;
        if (!json_object_object_get_ex(obj, keys[i][0], &v) || v == NULL)
            continue;
        _cleanup_free_ char *kp = cj_path_key(path, keys[i][0]);
        return cj_fail(c, kp, "%s is not supported by husk", keys[i][1]);
    }
    return 0;
}

int config_parse_linux(const struct cj *c, struct json_object *obj, const char *path,
                       struct oci_linux *l)
{
    _cleanup_free_ char *rpp = cj_path_key(path, "rootfsPropagation");
    int r;

    if (refuse_unsupported(c, obj, path) < 0 || parse_namespaces(c, obj, path, l) < 0 ||
        cj_id_mappings(c, obj, path, "uidMappings", &l->uid_mappings, &l->n_uid_mappings) < 0 ||
        cj_id_mappings(c, obj, path, "gidMappings", &l->gid_mappings, &l->n_gid_mappings) < 0 ||
        parse_time_offsets(c, obj, path, l) < 0 ||
        each_object(c, obj, path, "devices", &l->n_devices, alloc_devices, parse_device, l) < 0 ||
        cj_string(c, obj, path, "cgroupsPath", false, &l->cgroups_path) < 0 ||
        parse_resources(c, obj, path, l) < 0)
        return -1;
    if ((r = cj_string(c, obj, path, "rootfsPropagation", false, &l->rootfs_propagation)) < 0)
        return -1;
    if (r) {
        size_t k;
        for (k = 0; propagations[k]; k++)
            if (strcmp(l->rootfs_propagation, propagations[k]) == 0)
                break;
        if (l->rootfs_propagation[0] == '\0') {
            free(l->rootfs_propagation);   /* "" means unset (Go omitempty) */
            l->rootfs_propagation = NULL;
        } else if (propagations[k] == NULL) {
            _cleanup_free_ char *q = cj_quote(l->rootfs_propagation);
            return cj_fail(c, rpp, "unknown propagation %s", q);
        }
    }
    if (abs_strv(c, obj, path, "maskedPaths", &l->masked_paths, &l->n_masked_paths) < 0 ||
        abs_strv(c, obj, path, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths) < 0 ||
        parse_sysctl(c, obj, path, l) < 0 || parse_seccomp(c, obj, path, l) < 0 ||
        cj_string(c, obj, path, "mountLabel", false, &l->mount_label) < 0 ||
        parse_personality(c, obj, path, l) < 0)
        return -1;
    return 0;
}

void config_linux_clear(struct oci_linux *l)
{
    for (size_t i = 0; i < l->n_namespaces; i++)
        free(l->namespaces[i].path);
    free(l->namespaces);
    free(l->uid_mappings);
    free(l->gid_mappings);
    for (size_t i = 0; i < l->n_time_offsets; i++)
        free(l->time_offsets[i].clock);
    free(l->time_offsets);
    for (size_t i = 0; i < l->n_devices; i++)
        free(l->devices[i].path);
    free(l->devices);
    free(l->cgroups_path);
    resources_clear(&l->resources);
    free(l->rootfs_propagation);
    strv_free(l->masked_paths);
    strv_free(l->readonly_paths);
    for (size_t i = 0; i < l->n_sysctl; i++) {
        free(l->sysctl[i].key);
        free(l->sysctl[i].value);
    }
    free(l->sysctl);
    seccomp_clear(&l->seccomp);
    free(l->mount_label);
    free(l->personality_domain);
    strv_free(l->personality_flags);
}
