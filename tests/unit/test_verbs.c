/* test_verbs.c — the library side of pause, update, events: statistics read
 * from made-up cgroup directories of both versions (so the v2 code runs on any
 * host), OOM counting from a v2 memory.events, the freezer's file protocol, and
 * the linux.resources document parser of `update --resources`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups.h"
#include "config.h"
#include "container.h"
#include "error.h"
#include "util.h"

/* ---- helpers ------------------------------------------------------------------- */

static char *mkdtemp_dir(void)
{
    char *d = xstrdup("/tmp/husk-unit-verbs.XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void put(const char *dir, const char *file, const char *text)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm_tree(const char *dir)
{
    _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The value at a dotted path ("memory.usage.limit"), or NULL. */
static struct json_object *at(struct json_object *o, const char *path)
{
    _cleanup_free_ char *copy = xstrdup(path);
    char *save = NULL;
    for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
        if (!json_object_object_get_ex(o, k, &o))
            return NULL;
    return o;
}

static uint64_t u(struct json_object *o, const char *path)
{
    struct json_object *v = at(o, path);
    if (v == NULL)
        fail_msg("no %s in %s", path, json_object_to_json_string(o));
    return json_object_get_uint64(v);
}

/* ---- stats --------------------------------------------------------------------- */

static void test_stats_v2(void **state)
{
    (void)state;
    _cleanup_free_ char *d = mkdtemp_dir();
    put(d, "cgroup.controllers", "cpu memory pids io hugetlb\n");
    put(d, "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 2\n"
                       "throttled_usec 7\n");
    put(d, "memory.current", "4096\n");
    put(d, "memory.max", "max\n");
    put(d, "memory.peak", "8192\n");
    put(d, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    put(d, "memory.stat", "anon 100\nfile 200\n");
    put(d, "pids.current", "5\n");
    put(d, "pids.max", "10\n");
    put(d, "io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
    put(d, "hugetlb.2MB.current", "2097152\n");
    put(d, "hugetlb.2MB.max", "max\n");
    put(d, "hugetlb.2MB.events", "max 2\n");
    put(d, "hugetlb.2MB.rsvd.current", "0\n");

    char *paths[] = { d, NULL };
    struct husk_cgroup cg = { .paths = paths };
    struct json_object *o = NULL;
    husk_err *err = NULL;
    assert_int_equal(cgroup_stats(&cg, &o, &err), 0);

    assert_int_equal(u(o, "cpu.usage.total"), 1500000);
    assert_int_equal(u(o, "cpu.usage.user"), 1000000);
    assert_int_equal(u(o, "cpu.usage.kernel"), 500000);
    assert_int_equal(u(o, "cpu.throttling.periods"), 4);
    assert_int_equal(u(o, "cpu.throttling.throttledPeriods"), 2);
    assert_int_equal(u(o, "cpu.throttling.throttledTime"), 7000);
    assert_int_equal(u(o, "memory.usage.usage"), 4096);
    assert_true(u(o, "memory.usage.limit") == UINT64_MAX);
    assert_int_equal(u(o, "memory.usage.max"), 8192);
    assert_int_equal(u(o, "memory.usage.failcnt"), 3);
    assert_int_equal(u(o, "memory.cache"), 200);
    assert_int_equal(u(o, "memory.raw.anon"), 100);
    assert_int_equal(u(o, "pids.current"), 5);
    assert_int_equal(u(o, "pids.limit"), 10);
    struct json_object *b = at(o, "blkio.ioServiceBytesRecursive");
    assert_non_null(b);
    assert_int_equal(json_object_array_length(b), 2);
    assert_int_equal(u(json_object_array_get_idx(b, 0), "major"), 8);
    assert_string_equal(json_object_get_string(at(json_object_array_get_idx(b, 1), "op")), "Write");
    assert_int_equal(u(json_object_array_get_idx(b, 1), "value"), 20);
    assert_int_equal(u(o, "hugetlb.2MB.usage"), 2097152);
    assert_int_equal(u(o, "hugetlb.2MB.failcnt"), 2);
    /* the rsvd files are not a page size of their own */
    assert_int_equal(json_object_object_length(at(o, "hugetlb")), 1);
    json_object_put(o);
    rm_tree(d);
}

static void test_stats_v1(void **state)
{
    (void)state;
    _cleanup_free_ char *root = mkdtemp_dir();
    _cleanup_free_ char *acct = xasprintf("%s/cpuacct", root), *cpu = xasprintf("%s/cpu", root);
    _cleanup_free_ char *mem = xasprintf("%s/memory", root), *pids = xasprintf("%s/pids", root);
    _cleanup_free_ char *blk = xasprintf("%s/blkio", root);
    assert_int_equal(mkdir(acct, 0755) | mkdir(cpu, 0755) | mkdir(mem, 0755) | mkdir(pids, 0755) | mkdir(blk, 0755), 0);
    long hz = sysconf(_SC_CLK_TCK);
    put(acct, "cpuacct.usage", "123456789\n");
    put(acct, "cpuacct.usage_percpu", "100 200 \n");
    put(acct, "cpuacct.stat", "user 3\nsystem 2\n");
    put(cpu, "cpu.cfs_period_us", "100000\n");
    put(cpu, "cpu.stat", "nr_periods 9\nnr_throttled 1\nthrottled_time 55\n");
    put(mem, "memory.usage_in_bytes", "1000\n");
    put(mem, "memory.max_usage_in_bytes", "2000\n");
    put(mem, "memory.limit_in_bytes", "9223372036854771712\n");
    put(mem, "memory.failcnt", "0\n");
    put(mem, "memory.memsw.usage_in_bytes", "1100\n");
    put(mem, "memory.memsw.limit_in_bytes", "33554432\n");
    put(mem, "memory.stat", "cache 77\nrss 5\n");
    put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
    put(pids, "pids.current", "2\n");
    put(pids, "pids.max", "max\n");
    put(blk, "blkio.throttle.io_service_bytes_recursive", "8:0 Read 4096\n8:0 Write 0\n8:0 Total 4096\nTotal 4096\n");
    put(blk, "blkio.throttle.io_serviced_recursive", "8:0 Read 1\nTotal 1\n");

    char *paths[] = { cpu, acct, mem, pids, blk, NULL };
    struct husk_cgroup cg = { .paths = paths };
    struct json_object *o = NULL;
    husk_err *err = NULL;
    assert_int_equal(cgroup_stats(&cg, &o, &err), 0);
    assert_int_equal(u(o, "cpu.usage.total"), 123456789);
    assert_int_equal(json_object_array_length(at(o, "cpu.usage.percpu")), 2);
    assert_int_equal(u(o, "cpu.usage.user"), 3 * (1000000000 / hz));
    assert_int_equal(u(o, "cpu.usage.kernel"), 2 * (1000000000 / hz));
    assert_int_equal(u(o, "cpu.throttling.periods"), 9);
    assert_int_equal(u(o, "cpu.throttling.throttledTime"), 55);
    assert_int_equal(u(o, "memory.usage.usage"), 1000);
    assert_int_equal(u(o, "memory.usage.max"), 2000);
    assert_int_equal(u(o, "memory.usage.limit"), 9223372036854771712ULL);
    assert_int_equal(u(o, "memory.swap.limit"), 33554432);
    assert_int_equal(u(o, "memory.cache"), 77);
    assert_int_equal(u(o, "pids.current"), 2);
    /* "max" is no limit: left out, as runc does */
    assert_null(at(o, "pids.limit"));
    /* device lines only: the "Total" summary has no device */
    struct json_object *b = at(o, "blkio.ioServiceBytesRecursive");
    assert_int_equal(json_object_array_length(b), 3);
    /* a zero value is left out (omitempty) */
    assert_null(at(json_object_array_get_idx(b, 1), "value"));
    json_object_put(o);

    /* No directory at all: an error, not zeros. */
    rm_tree(root);
    err = NULL;
    assert_int_equal(cgroup_stats(&cg, &o, &err), -1);
    assert_non_null(err);
    husk_err_free(&err);
}

static void test_oom_v2(void **state)
{
    (void)state;
    _cleanup_free_ char *d = mkdtemp_dir();
    put(d, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 2\n");
    char *paths[] = { d, NULL };
    struct husk_cgroup cg = { .paths = paths };
    struct cgroup_oom_watch *w = NULL;
    husk_err *err = NULL;
    uint64_t n = 99;

    assert_int_equal(cgroup_oom_watch_open(&cg, &w, &err), 0);
    assert_non_null(w);
    struct pollfd p;
    cgroup_oom_watch_pollfd(w, &p);
    assert_true(p.fd >= 0);
    assert_int_equal(p.events, POLLPRI);
    /* kills from before the watch started are not reported */
    assert_int_equal(cgroup_oom_watch_read(w, &n, &err), 0);
    assert_int_equal(n, 0);
    put(d, "memory.events", "low 0\nhigh 0\nmax 4\noom 3\noom_kill 5\n");
    assert_int_equal(cgroup_oom_watch_read(w, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(cgroup_oom_watch_read(w, &n, &err), 0);
    assert_int_equal(n, 0);
    cgroup_oom_watch_free(w);

    /* no memory controller: no watch, no error */
    char *none[] = { "/nonexistent-husk-dir", NULL };
    struct husk_cgroup cg2 = { .paths = none };
    w = (struct cgroup_oom_watch *)1;
    assert_int_equal(cgroup_oom_watch_open(&cg2, &w, &err), 0);
    assert_null(w);
    rm_tree(d);
}

/* ---- freezer ------------------------------------------------------------------- */

static void test_freezer_files(void **state)
{
    (void)state;
    _cleanup_free_ char *d = mkdtemp_dir();
    husk_err *err = NULL;

    /* v1: a plain file takes the state and reads it back as the kernel would
     * once the freeze completed. */
    put(d, "freezer.state", "THAWED\n");
    struct husk_cgroup cg = { .freezer = d };
    assert_false(cgroup_frozen(&cg));
    assert_int_equal(cgroup_freeze(&cg, &err), 0);
    assert_true(cgroup_frozen(&cg));
    assert_int_equal(cgroup_thaw(&cg, &err), 0);
    assert_false(cgroup_frozen(&cg));
    _cleanup_free_ char *sf = xasprintf("%s/freezer.state", d);
    assert_int_equal(unlink(sf), 0);

    /* v2: cgroup.freeze written, cgroup.events already says frozen 1. */
    put(d, "cgroup.freeze", "0\n");
    put(d, "cgroup.events", "populated 1\nfrozen 1\n");
    assert_int_equal(cgroup_freeze(&cg, &err), 0);
    assert_true(cgroup_frozen(&cg));
    put(d, "cgroup.events", "populated 1\nfrozen 0\n");
    assert_int_equal(cgroup_thaw(&cg, &err), 0);
    assert_false(cgroup_frozen(&cg));

    /* No freezer at all: a clear error. */
    struct husk_cgroup none = { 0 };
    assert_int_equal(cgroup_freeze(&none, &err), -1);
    assert_non_null(strstr(err->msg, "freezer"));
    husk_err_free(&err);
    rm_tree(d);
}

/* ---- update --resources -------------------------------------------------------------- */

static void test_resources_parse(void **state)
{
    (void)state;
    struct oci_linux *l = NULL;
    husk_err *err = NULL;
    const char *ok = "{\"memory\":{\"limit\":67108864,\"swap\":-1},\"cpu\":{\"quota\":5000,\"cpus\":\"0-1\"},"
                     "\"pids\":{\"limit\":7}}";
    assert_int_equal(resources_parse(ok, strlen(ok), "--resources f", &l, &err), 0);
    assert_true(l->has_resources);
    assert_true(l->resources.memory.has_limit);
    assert_int_equal(l->resources.memory.limit, 67108864);
    assert_int_equal(l->resources.memory.swap, -1);
    assert_int_equal(l->resources.cpu.quota, 5000);
    assert_string_equal(l->resources.cpu.cpus, "0-1");
    assert_true(l->resources.has_pids);
    assert_int_equal(l->resources.pids.limit, 7);
    resources_free(l);

    /* errors name the document and the JSON path */
    const char *bad = "{\"memory\":{\"limit\":\"lots\"}}";
    assert_int_equal(resources_parse(bad, strlen(bad), "--resources f", &l, &err), -1);
    assert_null(l);
    assert_non_null(strstr(err->msg, "--resources f"));
    assert_non_null(strstr(err->msg, "linux.resources.memory.limit"));
    husk_err_free(&err);

    const char *notobj = "[1,2]";
    assert_int_equal(resources_parse(notobj, strlen(notobj), "--resources f", &l, &err), -1);
    husk_err_free(&err);
    const char *broken = "{\"pids\":";
    assert_int_equal(resources_parse(broken, strlen(broken), "--resources f", &l, &err), -1);
    assert_non_null(strstr(err->msg, "invalid JSON"));
    husk_err_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_v2),       cmocka_unit_test(test_stats_v1),
        cmocka_unit_test(test_oom_v2),         cmocka_unit_test(test_freezer_files),
        cmocka_unit_test(test_resources_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
