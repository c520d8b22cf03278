/* test_cgroups.c — the pure parts of cgroup handling: layouts and paths from
 * made-up mountinfo texts, the v1 and v2 plans for configs, the v1->v2
 * conversions, huge page names, device rule semantics, and (as root, where a
 * cgroup2 mount exists) the v2 device eBPF program on a real cgroup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "cgroup_plan.h"
#include "cgroups.h"
#include "config.h"
#include "error.h"
#include "util.h"

/* ---- helpers ------------------------------------------------------------------- */

static struct oci_config *parse(const char *linux_json)
{
    _cleanup_free_ char *text = xasprintf("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"rootfs\"},"
                                          "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},"
                                          "\"linux\":%s}",
                                          linux_json);
    struct oci_config *c = NULL;
    husk_err *err = NULL;
    int r = config_parse(text, strlen(text), "config.json", &c, &err);
    if (r < 0)
        fail_msg("config_parse: %s", err ? err->msg : "?");
    return c;
}

/* The item writing `file`, the n-th such (0 = first), or NULL. */
static const struct cg_item *find(const struct cg_plan *p, const char *file, int nth)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].file && strcmp(p->v[i].file, file) == 0 && nth-- == 0)
            return &p->v[i];
    return NULL;
}

static ssize_t index_of(const struct cg_plan *p, const char *file)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].file && strcmp(p->v[i].file, file) == 0)
            return (ssize_t)i;
    return -1;
}

static const struct cg_item *find_fail(const struct cg_plan *p, const char *what)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].kind == CG_FAIL && strcmp(p->v[i].what, what) == 0)
            return &p->v[i];
    return NULL;
}

static void assert_write(const struct cg_plan *p, const char *file, const char *value)
{
    const struct cg_item *it = find(p, file, 0);
    if (!it)
        fail_msg("no write to %s", file);
    assert_string_equal(it->value, value);
}

/* ---- layouts and paths ------------------------------------------------------------ */

static const char *hybrid_mi =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char *v2_mi = "30 22 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
static const char *v1_mi = "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                           "32 30 0:29 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset,noprefix\n";

static void test_layouts(void **state)
{
    (void)state;
    assert_int_equal(cgroup_layout_of(hybrid_mi), CGROUP_LAYOUT_HYBRID);
    assert_int_equal(cgroup_layout_of(v2_mi), CGROUP_LAYOUT_V2);
    assert_int_equal(cgroup_layout_of(v1_mi), CGROUP_LAYOUT_V1);
    assert_int_equal(cgroup_layout_of("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"), CGROUP_LAYOUT_NONE);
}

static void test_paths(void **state)
{
    (void)state;
    char **p = NULL;
    husk_err *err = NULL;
    const char *self = "4:memory:/machine/m1\n1:cpu:/\n0::/user.slice\n";

    /* Default: /husk/<id> on every hierarchy. */
    assert_int_equal(cgroup_resolve(hybrid_mi, self, NULL, "c1", &p, &err), 0);
    assert_string_equal(p[0], "/sys/fs/cgroup/cpu/husk/c1");
    assert_string_equal(p[1], "/sys/fs/cgroup/memory/husk/c1");
    assert_string_equal(p[4], "/sys/fs/cgroup/unified/husk/c1");
    assert_null(p[5]);
    strv_free(p);
    /* Relative: below our own cgroup on each hierarchy. */
    assert_int_equal(cgroup_resolve(hybrid_mi, self, "a/b", "c1", &p, &err), 0);
    assert_string_equal(p[0], "/sys/fs/cgroup/cpu/a/b");
    assert_string_equal(p[1], "/sys/fs/cgroup/memory/machine/m1/a/b");
    assert_string_equal(p[4], "/sys/fs/cgroup/unified/user.slice/a/b");
    strv_free(p);
    /* Absolute: from each hierarchy's root. */
    assert_int_equal(cgroup_resolve(v2_mi, self, "/x//y/", "c1", &p, &err), 0);
    assert_string_equal(p[0], "/sys/fs/cgroup/x/y");
    strv_free(p);
    /* Escapes and the root itself are refused. */
    assert_int_equal(cgroup_resolve(v2_mi, self, "/x/../../etc", "c1", &p, &err), -1);
    assert_non_null(strstr(err->msg, "\"..\""));
    assert_int_equal(cgroup_resolve(v2_mi, self, "/", "c1", &p, &err), -1);
    assert_non_null(strstr(err->msg, "linux.cgroupsPath"));
    husk_err_free(&err);
}

/* ---- conversions --------------------------------------------------------------- */

static void test_shares_to_weight(void **state)
{
    (void)state;
    assert_int_equal(cg_shares_to_weight(0), 0);
    assert_int_equal(cg_shares_to_weight(2), 1);
    assert_int_equal(cg_shares_to_weight(1024), 100);
    assert_int_equal(cg_shares_to_weight(262144), 10000);
    assert_int_equal(cg_shares_to_weight(1000000), 10000);
    /* Monotonic in between, and within range. */
    uint64_t prev = 0;
    for (uint64_t s = 2; s <= 262144; s = s * 3 / 2 + 1) {
        uint64_t w = cg_shares_to_weight(s);
        assert_true(w >= prev);
        assert_true(w >= 1 && w <= 10000);
        prev = w;
    }
    assert_true(cg_shares_to_weight(512) < 100 && cg_shares_to_weight(2048) > 100);
}

static void test_blkio_weight(void **state)
{
    (void)state;
    assert_int_equal(cg_blkio_to_io_weight(0), 0);
    assert_int_equal(cg_blkio_to_io_weight(10), 1);
    assert_int_equal(cg_blkio_to_io_weight(500), 4950);
    assert_int_equal(cg_blkio_to_io_weight(1000), 10000);
}

static void test_swap(void **state)
{
    (void)state;
    int64_t out = 0;
    const char *why = NULL;
    assert_int_equal(cg_swap_to_v2(-1, 100, &out, &why), 0);
    assert_int_equal(out, -1);
    assert_int_equal(cg_swap_to_v2(300, 100, &out, &why), 0);
    assert_int_equal(out, 200);
    assert_int_equal(cg_swap_to_v2(100, 100, &out, &why), 0);
    assert_int_equal(out, 0);
    assert_int_equal(cg_swap_to_v2(50, 100, &out, &why), -1);
    assert_non_null(why);
    why = NULL;
    assert_int_equal(cg_swap_to_v2(200, -1, &out, &why), -1);
    assert_non_null(strstr(why, "memory limit"));
}

static void test_hugetlb_names(void **state)
{
    (void)state;
    const char *cases[][2] = { { "2MB", "2MB" },   { "2048KB", "2MB" }, { "1024MB", "1GB" },
                               { "1GB", "1GB" },   { "64KB", "64KB" },  { "16GB", "16GB" } };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *n = cg_hugetlb_name(cases[i][0]);
        assert_non_null(n);
        assert_string_equal(n, cases[i][1]);
    }
    assert_null(cg_hugetlb_name("2M"));
    assert_null(cg_hugetlb_name("MB"));
    assert_null(cg_hugetlb_name("2TB"));
    assert_null(cg_hugetlb_name("0KB"));
}

/* ---- plans --------------------------------------------------------------------- */

static const char *full_resources =
    "{\"resources\":{"
    "\"memory\":{\"limit\":33554432,\"reservation\":16777216,\"swap\":67108864,\"swappiness\":10,"
    "\"disableOOMKiller\":true,\"kernelTCP\":-1,\"checkBeforeUpdate\":true},"
    "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"burst\":10000,\"cpus\":\"0\",\"mems\":\"0\","
    "\"realtimeRuntime\":1000,\"realtimePeriod\":100000,\"idle\":0},"
    "\"pids\":{\"limit\":-1},"
    "\"blockIO\":{\"weight\":500,\"leafWeight\":300,"
    "\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":200}],"
    "\"throttleReadBpsDevice\":[{\"major\":254,\"minor\":0,\"rate\":1048576}],"
    "\"throttleWriteIOPSDevice\":[{\"major\":254,\"minor\":0,\"rate\":100},{\"major\":8,\"minor\":0,\"rate\":7}]},"
    "\"hugepageLimits\":[{\"pageSize\":\"2048KB\",\"limit\":4194304}],"
    "\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\",\"priority\":5}]},"
    "\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3,\"hcaObjects\":100}},"
    "\"unified\":{\"memory.high\":\"30000000\",\"cgroup.max.depth\":\"3\"},"
    "\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":10,"
    "\"minor\":200,\"access\":\"rw\"}]}}";

static void test_plan_v1(void **state)
{
    (void)state;
    _cleanup_config_ struct oci_config *c = parse(full_resources);
    struct cg_plan p;

    cgroup_plan_v1(&c->linux_, &p);
    assert_write(&p, "memory.limit_in_bytes", "33554432");
    assert_write(&p, "memory.memsw.limit_in_bytes", "67108864");
    assert_true(index_of(&p, "memory.limit_in_bytes") < index_of(&p, "memory.memsw.limit_in_bytes"));
    assert_write(&p, "memory.soft_limit_in_bytes", "16777216");
    assert_write(&p, "memory.swappiness", "10");
    assert_write(&p, "memory.oom_control", "1");
    assert_write(&p, "memory.kmem.tcp.limit_in_bytes", "-1");
    assert_write(&p, "cpu.shares", "512");
    assert_write(&p, "cpu.cfs_period_us", "100000");
    assert_write(&p, "cpu.cfs_quota_us", "50000");
    assert_write(&p, "cpu.cfs_burst_us", "10000");
    assert_true(index_of(&p, "cpu.cfs_period_us") < index_of(&p, "cpu.cfs_quota_us"));
    assert_write(&p, "cpu.rt_period_us", "100000");
    assert_write(&p, "cpu.rt_runtime_us", "1000");
    assert_true(index_of(&p, "cpu.rt_period_us") < index_of(&p, "cpu.rt_runtime_us"));
    assert_write(&p, "cpu.idle", "0");
    assert_write(&p, "cpuset.cpus", "0");
    assert_string_equal(find(&p, "cpuset.cpus", 0)->ctrl, "cpuset");
    assert_write(&p, "pids.max", "max");
    assert_write(&p, "blkio.weight", "500");
    assert_string_equal(find(&p, "blkio.weight", 0)->alt_file, "blkio.bfq.weight");
    assert_write(&p, "blkio.leaf_weight", "300");
    assert_write(&p, "blkio.weight_device", "8:0 200");
    assert_write(&p, "blkio.throttle.read_bps_device", "254:0 1048576");
    assert_string_equal(find(&p, "blkio.throttle.write_iops_device", 1)->value, "8:0 7");
    assert_string_equal(find(&p, "blkio.throttle.write_iops_device", 1)->what,
                        "linux.resources.blockIO.throttleWriteIOPSDevice[1]");
    assert_write(&p, "hugetlb.2MB.limit_in_bytes", "4194304");
    assert_write(&p, "hugetlb.2MB.rsvd.limit_in_bytes", "4194304");
    assert_int_equal(find(&p, "hugetlb.2MB.rsvd.limit_in_bytes", 0)->kind, CG_WRITE_IF_EXISTS);
    assert_write(&p, "net_cls.classid", "1048577");
    assert_string_equal(find(&p, "net_cls.classid", 0)->ctrl, "net_cls");
    assert_write(&p, "net_prio.ifpriomap", "eth0 5");
    assert_write(&p, "rdma.max", "mlx5_1 hca_handle=3 hca_object=100");
    /* unified needs v2: on a v1 plan it can only fail. */
    assert_non_null(find_fail(&p, "linux.resources.unified"));
    /* Devices: deny all, the config's two, then the defaults. */
    assert_string_equal(find(&p, "devices.deny", 0)->value, "a");
    assert_true(find(&p, "devices.deny", 0)->implicit);
    assert_string_equal(find(&p, "devices.deny", 1)->value, "a");
    assert_false(find(&p, "devices.deny", 1)->implicit);
    assert_string_equal(find(&p, "devices.deny", 1)->what, "linux.resources.devices[0]");
    assert_string_equal(find(&p, "devices.allow", 0)->value, "c 10:200 rw");
    assert_string_equal(find(&p, "devices.allow", 1)->value, "c *:* m");
    bool null_ok = false;
    for (int i = 0; find(&p, "devices.allow", i); i++)
        null_ok = null_ok || strcmp(find(&p, "devices.allow", i)->value, "c 1:3 rwm") == 0;
    assert_true(null_ok);
    cg_plan_free(&p);
}

static void test_plan_v2(void **state)
{
    (void)state;
    _cleanup_config_ struct oci_config *c = parse(full_resources);
    struct cg_plan p;

    cgroup_plan_v2(&c->linux_, &p);
    assert_write(&p, "memory.max", "33554432");
    assert_true(find(&p, "memory.max", 0)->check_usage);
    assert_write(&p, "memory.swap.max", "33554432");
    assert_write(&p, "memory.low", "16777216");
    assert_non_null(find_fail(&p, "linux.resources.memory.swappiness"));
    assert_non_null(find_fail(&p, "linux.resources.memory.disableOOMKiller"));
    assert_write(&p, "cpu.weight", "59");   /* shares 512: below the default 100 */
    assert_int_equal(cg_shares_to_weight(512), 59);
    assert_write(&p, "cpu.max", "50000 100000");
    assert_write(&p, "cpu.max.burst", "10000");
    assert_non_null(find_fail(&p, "linux.resources.cpu.realtimeRuntime"));
    assert_write(&p, "cpuset.mems", "0");
    assert_write(&p, "pids.max", "max");
    assert_write(&p, "io.bfq.weight", "500");
    assert_string_equal(find(&p, "io.bfq.weight", 0)->alt_file, "io.weight");
    assert_string_equal(find(&p, "io.bfq.weight", 0)->alt_value, "default 4950");
    assert_string_equal(find(&p, "io.bfq.weight", 1)->alt_value, "8:0 1920");
    assert_non_null(find_fail(&p, "linux.resources.blockIO.leafWeight"));
    assert_string_equal(find(&p, "io.max", 0)->value, "254:0 rbps=1048576");
    assert_string_equal(find(&p, "io.max", 2)->value, "8:0 wiops=7");
    assert_write(&p, "hugetlb.2MB.max", "4194304");
    assert_write(&p, "hugetlb.2MB.rsvd.max", "4194304");
    assert_non_null(find_fail(&p, "linux.resources.network.classID"));
    assert_non_null(find_fail(&p, "linux.resources.network.priorities"));
    assert_write(&p, "rdma.max", "mlx5_1 hca_handle=3 hca_object=100");
    assert_write(&p, "memory.high", "30000000");
    assert_string_equal(find(&p, "memory.high", 0)->ctrl, "memory");
    assert_write(&p, "cgroup.max.depth", "3");
    assert_null(find(&p, "cgroup.max.depth", 0)->ctrl);
    /* The device rules: one eBPF item, explicit since the config has rules. */
    bool bpf = false;
    for (size_t i = 0; i < p.n; i++)
        if (p.v[i].kind == CG_DEVICES_BPF)
            bpf = !p.v[i].implicit;
    assert_true(bpf);
    cg_plan_free(&p);
}

static void test_plan_edge_cases(void **state)
{
    (void)state;
    struct cg_plan p;
    {
        /* burst above quota: refused on both versions. */
        _cleanup_config_ struct oci_config *c = parse("{\"resources\":{\"cpu\":{\"quota\":1000,\"burst\":2000}}}");
        cgroup_plan_v1(&c->linux_, &p);
        assert_non_null(find_fail(&p, "linux.resources.cpu.burst"));
        assert_null(find(&p, "cpu.cfs_quota_us", 0));
        cg_plan_free(&p);
        cgroup_plan_v2(&c->linux_, &p);
        assert_non_null(find_fail(&p, "linux.resources.cpu.burst"));
        cg_plan_free(&p);
    }
    {
        /* Unified keys naming anything but a file of the cgroup are refused. */
        _cleanup_config_ struct oci_config *c =
            parse("{\"resources\":{\"unified\":{\"../../etc/x\":\"1\",\"..\":\"1\",\"nodot\":\"1\"}}}");
        cgroup_plan_v2(&c->linux_, &p);
        assert_non_null(find_fail(&p, "linux.resources.unified.../../etc/x"));
        assert_non_null(find_fail(&p, "linux.resources.unified..."));
        assert_non_null(find_fail(&p, "linux.resources.unified.nodot"));
        for (size_t i = 0; i < p.n; i++)
            assert_true(p.v[i].kind != CG_WRITE);
        cg_plan_free(&p);
    }
    {
        /* pids 0 is a limit of zero, not "unlimited"; cpu.max with only a period. */
        _cleanup_config_ struct oci_config *c =
            parse("{\"resources\":{\"pids\":{\"limit\":0},\"cpu\":{\"period\":50000},"
                  "\"memory\":{\"limit\":-1,\"swap\":-1}}}");
        cgroup_plan_v1(&c->linux_, &p);
        assert_write(&p, "pids.max", "0");
        assert_write(&p, "memory.limit_in_bytes", "-1");
        cg_plan_free(&p);
        cgroup_plan_v2(&c->linux_, &p);
        assert_write(&p, "pids.max", "0");
        assert_write(&p, "cpu.max", "max 50000");
        assert_write(&p, "memory.max", "max");
        assert_write(&p, "memory.swap.max", "max");
        cg_plan_free(&p);
    }
    {
        /* No resources: only husk's default device rules, all implicit. */
        _cleanup_config_ struct oci_config *c = parse("{}");
        cgroup_plan_v1(&c->linux_, &p);
        assert_true(p.n > 5);
        for (size_t i = 0; i < p.n; i++) {
            assert_int_equal(p.v[i].group, CG_DEVICES);
            assert_true(p.v[i].implicit);
        }
        cg_plan_free(&p);
        cgroup_plan_v1(NULL, &p);
        assert_true(p.n > 5);
        cg_plan_free(&p);
    }
    {
        /* linux.devices nodes get no rule of their own (the cgroup rules decide);
         * an interface name with a blank is refused. */
        _cleanup_config_ struct oci_config *c =
            parse("{\"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229}],"
                  "\"resources\":{\"network\":{\"priorities\":[{\"name\":\"eth0 9\\n\",\"priority\":1}]}}}");
        cgroup_plan_v1(&c->linux_, &p);
        bool fuse = false;
        for (int i = 0; find(&p, "devices.allow", i); i++)
            fuse = fuse || strncmp(find(&p, "devices.allow", i)->value, "c 10:229", 8) == 0;
        assert_false(fuse);
        assert_non_null(find_fail(&p, "linux.resources.network.priorities[0]"));
        assert_null(find(&p, "net_prio.ifpriomap", 0));
        cg_plan_free(&p);
    }
}

/* ---- device rules ---------------------------------------------------------------- */

static void effective(const char *linux_json, bool *def, struct cg_dev_exc **exc, size_t *n)
{
    _cleanup_config_ struct oci_config *c = parse(linux_json);
    _cleanup_free_ struct cg_dev_rule *rules = NULL;
    size_t nr;
    cg_device_rules(&c->linux_, &rules, &nr);
    cg_devices_effective(rules, nr, def, exc, n);
}

static void test_device_semantics(void **state)
{
    (void)state;
    bool def;
    struct cg_dev_exc *exc;
    size_t n;

    /* The default set: deny, except the standard nodes and mknod. */
    effective("{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}}", &def, &exc, &n);
    assert_false(def);
    assert_true(cg_devices_allowed(def, exc, n, 'c', 1, 3, "rw"));
    assert_true(cg_devices_allowed(def, exc, n, 'c', 136, 7, "rw"));
    assert_true(cg_devices_allowed(def, exc, n, 'c', 10, 200, "m"));
    assert_true(cg_devices_allowed(def, exc, n, 'b', 8, 0, "m"));
    assert_false(cg_devices_allowed(def, exc, n, 'c', 10, 200, "r"));
    assert_false(cg_devices_allowed(def, exc, n, 'b', 8, 0, "r"));
    assert_false(cg_devices_allowed(def, exc, n, 'c', 1, 1, "w"));
    free(exc);

    /* A node in linux.devices is not allowed by being listed (v2's program too). */
    effective("{\"devices\":[{\"path\":\"/dev/kmsg\",\"type\":\"c\",\"major\":1,\"minor\":11}],"
              "\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}}",
              &def, &exc, &n);
    assert_false(cg_devices_allowed(def, exc, n, 'c', 1, 11, "r"));
    assert_false(cg_devices_allowed(def, exc, n, 'c', 1, 11, "w"));
    assert_true(cg_devices_allowed(def, exc, n, 'c', 1, 11, "m"));
    free(exc);

    /* An allow rule for one device, read only. */
    effective("{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":200,"
              "\"access\":\"r\"}]}}",
              &def, &exc, &n);
    assert_true(cg_devices_allowed(def, exc, n, 'c', 10, 200, "r"));
    assert_false(cg_devices_allowed(def, exc, n, 'c', 10, 200, "rw"));
    assert_false(cg_devices_allowed(def, exc, n, 'c', 10, 201, "r"));
    free(exc);

    /* A later deny takes bits out of an identical earlier allow, as v1 does. */
    struct cg_dev_rule rules[] = {
        { false, 'a', -1, -1, "rwm" },
        { true, 'c', 4, -1, "rw" },
        { false, 'c', 4, -1, "w" },
        { true, 'b', 8, 0, "rwm" },
        { false, 'b', 8, 0, "rwm" },
    };
    cg_devices_effective(rules, ARRAY_SIZE(rules), &def, &exc, &n);
    assert_int_equal(n, 1);
    assert_true(cg_devices_allowed(def, exc, n, 'c', 4, 1, "r"));
    assert_false(cg_devices_allowed(def, exc, n, 'c', 4, 1, "w"));
    assert_false(cg_devices_allowed(def, exc, n, 'b', 8, 0, "r"));
    free(exc);

    /* Allow-all, then a deny: the deny is an exception that wins on any overlap. */
    struct cg_dev_rule rules2[] = {
        { true, 'a', -1, -1, "rwm" },
        { false, 'c', 1, 3, "w" },
    };
    cg_devices_effective(rules2, ARRAY_SIZE(rules2), &def, &exc, &n);
    assert_true(def);
    assert_true(cg_devices_allowed(def, exc, n, 'c', 1, 3, "r"));
    assert_false(cg_devices_allowed(def, exc, n, 'c', 1, 3, "rw"));
    assert_true(cg_devices_allowed(def, exc, n, 'b', 1, 3, "rw"));
    free(exc);

    struct cg_dev_rule r = { true, 'c', 136, -1, "rwm" };
    _cleanup_free_ char *s = cg_dev_rule_string(&r);
    assert_string_equal(s, "c 136:* rwm");
}

/* ---- the eBPF device filter on a real cgroup ----------------------------------- */

/* In a child in the cgroup: 0 if open(path) succeeded, else errno. */
static int open_in_cgroup(const char *dir, const char *path, int flags)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char buf[32];
        int e = 0;
        snprintf(buf, sizeof(buf), "%d", (int)getpid());
        _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
        if (write_file_at(AT_FDCWD, procs, buf, strlen(buf), NULL) < 0) {
            e = -1;
        } else {
            int fd = open(path, flags | O_CLOEXEC);
            e = fd < 0 ? errno : 0;
        }
        if (write(pfd[1], &e, sizeof(e)) != sizeof(e))
            _exit(2);
        _exit(0);
    }
    close(pfd[1]);
    int e = -2;
    assert_int_equal(read(pfd[0], &e, sizeof(e)), (ssize_t)sizeof(e));
    close(pfd[0]);
    waitpid(pid, NULL, 0);
    return e;
}

static void test_bpf_filter(void **state)
{
    (void)state;
    struct stat st;
    if (geteuid() != 0 || stat("/sys/fs/cgroup/unified/cgroup.procs", &st) < 0 ||
        stat("/dev/net/tun", &st) < 0)
        skip();
    _cleanup_free_ char *dir = xasprintf("/sys/fs/cgroup/unified/husk-unit-%d", (int)getpid());
    assert_int_equal(mkdir(dir, 0755), 0);

    _cleanup_config_ struct oci_config *c =
        parse("{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
              "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":8,\"access\":\"r\"}]}}");
    husk_err *err = NULL;
    int r = cgroup_devices_bpf(dir, &c->linux_, &err);
    if (r < 0) {
        rmdir(dir);
        fail_msg("cgroup_devices_bpf: %s", err->msg);
    }
    int ok_null = open_in_cgroup(dir, "/dev/null", O_RDWR);
    int tun = open_in_cgroup(dir, "/dev/net/tun", O_RDONLY);
    int random_r = open_in_cgroup(dir, "/dev/random", O_RDONLY);
    int random_w = open_in_cgroup(dir, "/dev/random", O_WRONLY);
    int not_dev = open_in_cgroup(dir, "/proc/self/status", O_RDONLY);
    rmdir(dir);
    assert_int_equal(ok_null, 0);
    assert_int_equal(tun, EPERM);
    assert_int_equal(random_r, 0);    /* default rwm for 1:8 */
    assert_int_equal(random_w, 0);
    assert_int_equal(not_dev, 0);
}

static void test_bpf_build(void **state)
{
    (void)state;
    /* An allow-all default with one deny exception: header, one block, trailer. */
    struct cg_dev_rule rules[] = { { true, 'a', -1, -1, "rwm" }, { false, 'c', 1, 3, "w" } };
    bool def;
    struct cg_dev_exc *exc;
    size_t n;
    cg_devices_effective(rules, ARRAY_SIZE(rules), &def, &exc, &n);
    assert_int_equal(n, 1);
    struct bpf_insn *insns;
    size_t k = cg_devices_bpf_build(def, exc, n, &insns);
    assert_int_equal(k, 6 + 8 + 2);
    /* The last instruction exits; the one before returns the default (allow). */
    assert_int_equal(insns[k - 1].code, BPF_JMP | BPF_EXIT);
    assert_int_equal(insns[k - 2].imm, 1);
    /* Every jump of the block lands on the trailer. */
    for (size_t i = 6; i < k - 2; i++)
        if (BPF_CLASS(insns[i].code) == BPF_JMP && BPF_OP(insns[i].code) != BPF_EXIT)
            assert_int_equal(i + 1 + (size_t)insns[i].off, k - 2);
    free(insns);
    free(exc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_shares_to_weight),
        cmocka_unit_test(test_blkio_weight),
        cmocka_unit_test(test_swap),
        cmocka_unit_test(test_hugetlb_names),
        cmocka_unit_test(test_plan_v1),
        cmocka_unit_test(test_plan_v2),
        cmocka_unit_test(test_plan_edge_cases),
        cmocka_unit_test(test_device_semantics),
        cmocka_unit_test(test_bpf_filter),
        cmocka_unit_test(test_bpf_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
