/* test_ocispec.c — image config + run flags -> config.json (ocispec.h): docker's
 * rules for args, env, cwd, users, capabilities, resources, limits, devices and
 * mounts; every config built is also parsed by the runtime's own parser and its
 * seccomp profile compiled by the runtime's libseccomp code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "config.h"
#include "ocispec.h"
#include "seccomp_filter.h"
#include "util.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char tmp[] = "/tmp/husk-ocispec.XXXXXX";
static char rootfs[256], userdata[256], evil[256], outside[256];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmp))
        return -1;
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmp);
    snprintf(userdata, sizeof(userdata), "%s/userdata", tmp);
    snprintf(evil, sizeof(evil), "%s/evil", tmp);
    snprintf(outside, sizeof(outside), "%s/outside", tmp);
    char p[512];
    const char *dirs[] = { rootfs, userdata, evil, outside };
    for (size_t i = 0; i < 4; i++)
        mkdir(dirs[i], 0755);
    snprintf(p, sizeof(p), "%s/etc", rootfs);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/etc/passwd", rootfs);
    write_text(p, "root:x:0:0:root:/root:/bin/sh\n"
                  "# a comment\n"
                  "alice:x:1000:1000::/home/alice:/bin/sh\n"
                  "bob:x:1001:1001::/home/bob:/bin/sh\n");
    snprintf(p, sizeof(p), "%s/etc/group", rootfs);
    write_text(p, "root:x:0:\nalice:x:1000:\nstaff:x:50:alice,bob\nwheel:x:10:alice\n");
    /* outside/passwd knows "outsider"; evil/etc/passwd and evil/etc/group are
     * symlinks at it (absolute and relative): they must resolve inside evil/. */
    snprintf(p, sizeof(p), "%s/passwd", outside);
    write_text(p, "outsider:x:555:555::/:/bin/sh\n");
    snprintf(p, sizeof(p), "%s/group", outside);
    write_text(p, "outgroup:x:556:outsider\n");
    snprintf(p, sizeof(p), "%s/etc", evil);
    mkdir(p, 0755);
    char target[512];
    snprintf(p, sizeof(p), "%s/etc/passwd", evil);
    snprintf(target, sizeof(target), "%s/passwd", outside);
    if (symlink(target, p) < 0)
        return -1;
    snprintf(p, sizeof(p), "%s/etc/group", evil);
    if (symlink("../../../../../../../../outside/group", p) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd);
}

static struct run_opts opts(void)
{
    return (struct run_opts){ .memory = -1, .memory_swap = -2, .nano_cpus = -1, .cpu_shares = -1, .shm_size = -1 };
}

/* The config built must be one the runtime takes: parsed by config.c, its seccomp
 * compiled by seccomp_filter.c. */
static void runtime_accepts(json_object *cfg)
{
    const char *text = json_object_to_json_string(cfg);
    struct oci_config *c = NULL;
    _cleanup_err_ husk_err *err = NULL;
    if (config_parse(text, strlen(text), "config.json", &c, &err) < 0)
        fail_msg("runtime refuses the config: %s\n%s", err->msg, text);
    if (c->linux_.has_seccomp) {
        struct husk_seccomp *f = NULL;
        if (seccomp_filter_build(&c->linux_.seccomp, &f, &err) < 0)
            fail_msg("runtime refuses the seccomp profile: %s", err->msg);
        seccomp_filter_free(f);
    }
    config_free(c);
}

static json_object *build_in(const char *root, const char *image, const struct run_opts *o)
{
    json_object *img = json_tokener_parse(image);
    assert_non_null(img);
    json_object *cfg = NULL;
    _cleanup_err_ husk_err *err = NULL;
    if (ocispec_build(img, o, ID, root, userdata, &cfg, &err) < 0)
        fail_msg("ocispec_build: %s", err->msg);
    json_object_put(img);
    runtime_accepts(cfg);
    return cfg;
}

static json_object *build(const char *image, const struct run_opts *o) { return build_in(rootfs, image, o); }

/* Building must fail with an error containing each of the strings. */
static void build_fails_in(const char *root, const char *image, const struct run_opts *o, const char *w1,
                           const char *w2)
{
    json_object *img = json_tokener_parse(image);
    json_object *cfg = NULL;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(ocispec_build(img, o, ID, root, userdata, &cfg, &err), -1);
    assert_null(cfg);
    assert_non_null(err);
    if (!strstr(err->msg, w1) || (w2 && !strstr(err->msg, w2)))
        fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err->msg, w1, w2 ? w2 : "");
    json_object_put(img);
}

static void build_fails(const struct run_opts *o, const char *w1, const char *w2)
{
    build_fails_in(rootfs, "{\"config\":{\"Cmd\":[\"sh\"]}}", o, w1, w2);
}

static json_object *at(json_object *o, const char *path)
{
    _cleanup_free_ char *copy = xstrdup(path);
    for (char *save = NULL, *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
        json_object *v = NULL;
        o = json_object_object_get_ex(o, k, &v) ? v : NULL;
    }
    return o;
}

static void expect_json(json_object *cfg, const char *path, const char *want)
{
    json_object *w = json_tokener_parse(want), *g = at(cfg, path);
    if (!json_object_equal(g, w))
        fail_msg("%s: got %s, want %s", path, g ? json_object_to_json_string(g) : "(none)", want);
    json_object_put(w);
}

static bool has_str(json_object *arr, const char *s)
{
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
            return true;
    return false;
}

static json_object *find_mount(json_object *cfg, const char *dest)
{
    json_object *m = at(cfg, "mounts");
    for (size_t i = 0; m && i < json_object_array_length(m); i++) {
        json_object *x = json_object_array_get_idx(m, i);
        if (strcmp(json_object_get_string(at(x, "destination")), dest) == 0)
            return x;
    }
    return NULL;
}

/* ---- args, env, cwd ----------------------------------------------------------- */

#define EP_IMAGE "{\"config\":{\"Entrypoint\":[\"/ep\",\"a\"],\"Cmd\":[\"c1\"]}}"

static void check_args(const char *image, const char *entrypoint, char **cmd, const char *want)
{
    struct run_opts o = opts();
    o.entrypoint = entrypoint;
    o.cmd = cmd;
    json_object *c = build(image, &o);
    expect_json(c, "process.args", want);
    json_object_put(c);
}

static void test_args(void **state)
{
    (void)state;
    check_args(EP_IMAGE, NULL, NULL, "[\"/ep\",\"a\",\"c1\"]");
    check_args(EP_IMAGE, NULL, (char *[]){ "x", "y", NULL }, "[\"/ep\",\"a\",\"x\",\"y\"]");
    /* --entrypoint drops the image's Cmd too. */
    check_args(EP_IMAGE, "/e2", NULL, "[\"/e2\"]");
    check_args(EP_IMAGE, "/e2", (char *[]){ "z", NULL }, "[\"/e2\",\"z\"]");
    check_args(EP_IMAGE, "", (char *[]){ "z", NULL }, "[\"z\"]");
    check_args("{\"config\":{\"Cmd\":[\"sh\",\"-c\",\"x\"]}}", NULL, NULL, "[\"sh\",\"-c\",\"x\"]");
    check_args("{\"config\":{\"Cmd\":[\"sh\"]}}", NULL, (char *[]){ "ls", NULL }, "[\"ls\"]");

    struct run_opts o = opts();
    o.entrypoint = "";
    build_fails_in(rootfs, EP_IMAGE, &o, "no command specified", NULL);
    o = opts();
    build_fails_in(rootfs, "{\"config\":{}}", &o, "no command specified", NULL);
    build_fails_in(rootfs, "{\"config\":{\"Cmd\":\"sh\"}}", &o, "Cmd", NULL);
}

static void test_env_cwd(void **state)
{
    (void)state;
    setenv("HUSK_T_FROM_CALLER", "7", 1);
    unsetenv("HUSK_T_UNSET");
    struct run_opts o = opts();
    o.tty = true;
    o.env = (char *[]){ "A=2", "B=3", "HUSK_T_FROM_CALLER", "HUSK_T_UNSET", NULL };
    json_object *c = build("{\"config\":{\"Cmd\":[\"sh\"],\"Env\":[\"PATH=/img\",\"A=1\",\"K=v\"],"
                           "\"WorkingDir\":\"app//x/\"}}", &o);
    expect_json(c, "process.env", "[\"PATH=/img\",\"HOSTNAME=0123456789ab\",\"TERM=xterm\",\"A=2\",\"K=v\","
                                  "\"B=3\",\"HUSK_T_FROM_CALLER=7\"]");
    expect_json(c, "process.cwd", "\"/app/x\"");
    expect_json(c, "process.terminal", "true");
    expect_json(c, "hostname", "\"0123456789ab\"");
    json_object_put(c);

    o = opts();
    o.workdir = "/srv/../data";
    o.hostname = "web1";
    c = build("{\"config\":{\"Cmd\":[\"sh\"]}}", &o);
    expect_json(c, "process.env", "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
                                  "\"HOSTNAME=web1\"]");
    expect_json(c, "process.cwd", "\"/data\"");
    expect_json(c, "hostname", "\"web1\"");
    json_object_put(c);

    o = opts();
    c = build("{\"config\":{\"Cmd\":[\"sh\"]}}", &o);
    expect_json(c, "process.cwd", "\"/\"");
    json_object_put(c);

    o = opts();
    o.workdir = "rel";
    build_fails(&o, "-w rel", "absolute");
    o = opts();
    o.hostname = "bad host";
    build_fails(&o, "--hostname bad host", NULL);
}

/* ---- users ---------------------------------------------------------------------- */

static void check_user(const char *root, const char *image, const char *user, const char *want)
{
    struct run_opts o = opts();
    o.user = user;
    json_object *c = build_in(root, image, &o);
    expect_json(c, "process.user", want);
    json_object_put(c);
}

static void test_user(void **state)
{
    (void)state;
    const char *img = "{\"config\":{\"Cmd\":[\"sh\"]}}";
    check_user(rootfs, img, NULL, "{\"uid\":0,\"gid\":0}");
    check_user(rootfs, img, "alice", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[50,10]}");
    check_user(rootfs, img, "1000", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[50,10]}");
    check_user(rootfs, img, "4242", "{\"uid\":4242,\"gid\":0}");
    check_user(rootfs, img, "alice:staff", "{\"uid\":1000,\"gid\":50}");
    check_user(rootfs, img, "alice:777", "{\"uid\":1000,\"gid\":777}");
    check_user(rootfs, img, "4242:4343", "{\"uid\":4242,\"gid\":4343}");
    check_user(rootfs, "{\"config\":{\"Cmd\":[\"sh\"],\"User\":\"bob\"}}", NULL,
               "{\"uid\":1001,\"gid\":1001,\"additionalGids\":[50]}");
    /* -u wins over the image's User. */
    check_user(rootfs, "{\"config\":{\"Cmd\":[\"sh\"],\"User\":\"bob\"}}", "root", "{\"uid\":0,\"gid\":0}");

    struct run_opts o = opts();
    o.user = "nobody2";
    build_fails(&o, "-u nobody2", "no such user");
    o.user = "alice:nogroup";
    build_fails(&o, "-u alice:nogroup", "no such group");
    o.user = "99999999999";
    build_fails(&o, "-u 99999999999", "out of range");
    o = opts();
    build_fails_in(rootfs, "{\"config\":{\"Cmd\":[\"sh\"],\"User\":\"ghost\"}}", &o, "the image's User \"ghost\"",
                   "no such user");
}

static void test_user_symlink_stays_inside(void **state)
{
    (void)state;
    const char *img = "{\"config\":{\"Cmd\":[\"sh\"]}}";
    /* evil/etc/passwd -> <tmp>/outside/passwd (absolute) and evil/etc/group ->
     * ../../…/outside/group resolve inside evil/ (to nothing): the outside files
     * must not be read. */
    struct run_opts o = opts();
    o.user = "outsider";
    build_fails_in(evil, img, &o, "-u outsider", "no such user");
    o.user = "0:outgroup";
    build_fails_in(evil, img, &o, "no such group", NULL);
    /* A numeric user still works without readable files, as docker allows. */
    check_user(evil, img, "555", "{\"uid\":555,\"gid\":0}");
    /* The same file inside the rootfs is found through the same symlink. */
    char p[512];
    snprintf(p, sizeof(p), "%s%s", evil, outside);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp '%s/passwd' '%s/passwd'", p, outside, p);
    assert_int_equal(system(cmd), 0);
    check_user(evil, img, "outsider", "{\"uid\":555,\"gid\":555}");
}

/* ---- capabilities, privileged, seccomp ------------------------------------------ */

static json_object *caps_of(json_object *c) { return at(c, "process.capabilities.bounding"); }

/* What "all" capabilities are: the ones in our own bounding set (as docker). */
static int n_all_caps(void)
{
    int n = 0;
    for (int i = 0; i <= cap_last(); i++)
        n += prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1;
    return n;
}

static bool syscall_allowed(json_object *cfg, const char *name)
{
    json_object *rules = at(cfg, "linux.seccomp.syscalls");
    for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
        json_object *r = json_object_array_get_idx(rules, i);
        if (strcmp(json_object_get_string(at(r, "action")), "SCMP_ACT_ALLOW") == 0 && !at(r, "args") &&
            has_str(at(r, "names"), name))
            return true;
    }
    return false;
}

static void test_caps(void **state)
{
    (void)state;
    const char *img = "{\"config\":{\"Cmd\":[\"sh\"]}}";
    struct run_opts o = opts();
    json_object *c = build(img, &o);
    expect_json(c, "process.capabilities.bounding",
                "[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\",\"CAP_FOWNER\",\"CAP_MKNOD\",\"CAP_NET_RAW\","
                "\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETFCAP\",\"CAP_SETPCAP\",\"CAP_NET_BIND_SERVICE\","
                "\"CAP_SYS_CHROOT\",\"CAP_KILL\",\"CAP_AUDIT_WRITE\"]");
    assert_true(json_object_equal(caps_of(c), at(c, "process.capabilities.effective")));
    assert_true(json_object_equal(caps_of(c), at(c, "process.capabilities.permitted")));
    assert_null(at(c, "process.capabilities.inheritable"));
    assert_true(has_str(at(c, "linux.maskedPaths"), "/proc/kcore"));
    assert_true(has_str(at(c, "linux.maskedPaths"), "/sys/devices/virtual/powercap"));
    assert_true(has_str(at(c, "linux.readonlyPaths"), "/proc/sysrq-trigger"));
    expect_json(c, "linux.seccomp.defaultAction", "\"SCMP_ACT_ERRNO\"");
    assert_true(syscall_allowed(c, "read"));
    assert_true(syscall_allowed(c, "chroot"));   /* CAP_SYS_CHROOT is a default */
    assert_false(syscall_allowed(c, "mount"));
    assert_false(syscall_allowed(c, "unshare"));
    assert_false(syscall_allowed(c, "keyctl"));
    assert_false(syscall_allowed(c, "clone"));   /* only without namespace flags */
    expect_json(find_mount(c, "/sys"), "options", "[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]");
    json_object_put(c);

    o.cap_add = (char *[]){ "net_admin", "CAP_SYS_ADMIN", NULL };
    o.cap_drop = (char *[]){ "chown", "CAP_KILL", NULL };
    c = build(img, &o);
    assert_true(has_str(caps_of(c), "CAP_NET_ADMIN"));
    assert_true(has_str(caps_of(c), "CAP_SYS_ADMIN"));
    assert_false(has_str(caps_of(c), "CAP_CHOWN"));
    assert_false(has_str(caps_of(c), "CAP_KILL"));
    assert_int_equal(json_object_array_length(caps_of(c)), 14);
    /* What CAP_SYS_ADMIN grants, the profile allows. */
    assert_true(syscall_allowed(c, "mount"));
    assert_true(syscall_allowed(c, "unshare"));
    assert_true(syscall_allowed(c, "clone"));
    json_object_put(c);

    o = opts();
    o.cap_drop = (char *[]){ "all", NULL };
    o.cap_add = (char *[]){ "KILL", NULL };
    c = build(img, &o);
    expect_json(c, "process.capabilities.bounding", "[\"CAP_KILL\"]");
    assert_false(syscall_allowed(c, "chroot"));
    json_object_put(c);

    o = opts();
    o.cap_add = (char *[]){ "ALL", NULL };
    o.cap_drop = (char *[]){ "NET_RAW", NULL };
    c = build(img, &o);
    assert_int_equal((int)json_object_array_length(caps_of(c)), n_all_caps() - 1);
    assert_false(has_str(caps_of(c), "CAP_NET_RAW"));
    if (prctl(PR_CAPBSET_READ, cap_number("CAP_SYS_MODULE"), 0, 0, 0) == 1)
        assert_true(has_str(caps_of(c), "CAP_SYS_MODULE"));
    json_object_put(c);

    o = opts();
    o.privileged = true;
    c = build(img, &o);
    assert_int_equal((int)json_object_array_length(caps_of(c)), n_all_caps());
    assert_null(at(c, "linux.maskedPaths"));
    assert_null(at(c, "linux.readonlyPaths"));
    assert_null(at(c, "linux.seccomp"));
    expect_json(find_mount(c, "/sys"), "options", "[\"nosuid\",\"noexec\",\"nodev\",\"rw\"]");
    expect_json(c, "linux.resources.devices", "[{\"allow\":true,\"access\":\"rwm\"}]");
    json_object_put(c);

    o = opts();
    o.cap_add = (char *[]){ "NET_ADMIN", "BOGUS", NULL };
    build_fails(&o, "--cap-add BOGUS", "unknown capability");
    o = opts();
    o.cap_drop = (char *[]){ "CAP_NOPE", NULL };
    build_fails(&o, "--cap-drop CAP_NOPE", "unknown capability");

    o = opts();
    o.seccomp = "unconfined";
    o.no_new_privileges = true;
    c = build(img, &o);
    assert_null(at(c, "linux.seccomp"));
    expect_json(c, "process.noNewPrivileges", "true");
    json_object_put(c);
}

static void test_seccomp_default(void **state)
{
    (void)state;
    json_object *s = ocispec_seccomp_default();
    json_object *rules = at(s, "syscalls");
    size_t known = 0, total = 0;
    for (size_t i = 0; i < json_object_array_length(rules); i++) {
        json_object *names = at(json_object_array_get_idx(rules, i), "names");
        for (size_t k = 0; k < json_object_array_length(names); k++) {
            const char *n = json_object_get_string(json_object_array_get_idx(names, k));
            total++;
            bool ok = false;
            for (const uint32_t *a = (const uint32_t[]){ SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_AARCH64,
                                                         SCMP_ARCH_ARM, SCMP_ARCH_S390X, SCMP_ARCH_RISCV64, 0 };
                 *a && !ok; a++)
                ok = seccomp_syscall_resolve_name_arch(*a, n) >= 0;
            /* Names newer than this libseccomp are skipped by the runtime; anything
             * else would be a typo. */
            if (ok)
                known++;
            else
                print_message("not known to libseccomp %d.%d: %s\n", SCMP_VER_MAJOR, SCMP_VER_MINOR, n);
        }
    }
    assert_true(total > 300);
    assert_true(known * 100 / total >= 93);
    /* Blocked as docker's documentation lists them. */
    json_object *cfg = json_object_new_object(), *lx = json_object_new_object();
    json_object_object_add(lx, "seccomp", s);
    json_object_object_add(cfg, "linux", lx);
    const char *blocked[] = { "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
                              "delete_module", "finit_module", "get_kernel_syms", "get_mempolicy", "init_module",
                              "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl",
                              "lookup_dcookie", "mbind", "mount", "move_pages", "name_to_handle_at", "nfsservctl",
                              "open_by_handle_at", "perf_event_open", "personality", "pivot_root", "query_module",
                              "quotactl", "reboot", "request_key", "set_mempolicy", "setns", "settimeofday",
                              "stime", "swapon", "swapoff", "sysfs", "_sysctl", "umount", "umount2", "unshare",
                              "uselib", "userfaultfd", "ustat", "vm86", "vm86old", "io_uring_setup", "clone3",
                              "modify_ldt", NULL };
    for (const char **b = blocked; *b; b++)
        if (syscall_allowed(cfg, *b))
            fail_msg("%s is allowed by the default profile", *b);
    json_object_put(cfg);
}

static void test_seccomp_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/profile.json", tmp);
    write_text(path, "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
                     "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\"]},"
                     "{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]}],"
                     "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                     "{\"name\":\"getpid\",\"action\":\"SCMP_ACT_ALLOW\",\"comment\":\"old form\"},"
                     "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
                     "{\"names\":[\"chroot\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
                     "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"4.8\"}}]}");
    struct run_opts o = opts();
    o.seccomp = path;
    json_object *c = build("{\"config\":{\"Cmd\":[\"sh\"]}}", &o);
    assert_true(syscall_allowed(c, "read"));
    assert_true(syscall_allowed(c, "getpid"));
    assert_true(syscall_allowed(c, "chroot"));
    assert_true(syscall_allowed(c, "ptrace"));
    assert_false(syscall_allowed(c, "mount"));
#if defined(__x86_64__)
    expect_json(c, "linux.seccomp.architectures", "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"]");
#endif
    json_object_put(c);
    o.cap_add = (char *[]){ "SYS_ADMIN", NULL };
    c = build("{\"config\":{\"Cmd\":[\"sh\"]}}", &o);
    assert_true(syscall_allowed(c, "mount"));
    assert_false(syscall_allowed(c, "chroot"));
    json_object_put(c);

    o = opts();
    o.seccomp = "/nonexistent/profile.json";
    build_fails(&o, "--security-opt seccomp=/nonexistent/profile.json", NULL);
    write_text(path, "{not json");
    o.seccomp = path;
    build_fails(&o, "--security-opt seccomp=", "JSON");
}

/* ---- resources, limits, devices, mounts ------------------------------------------ */

static void test_resources(void **state)
{
    (void)state;
    const char *img = "{\"config\":{\"Cmd\":[\"sh\"]}}";
    struct run_opts o = opts();
    json_object *c = build(img, &o);
    assert_null(at(c, "linux.resources.memory"));
    assert_null(at(c, "linux.resources.cpu"));
    assert_null(at(c, "linux.resources.pids"));
    json_object_put(c);

    o.memory = 64 << 20;
    o.nano_cpus = 500000000;   /* --cpus 0.5 */
    o.cpu_shares = 512;
    o.pids_limit = 100;
    c = build(img, &o);
    expect_json(c, "linux.resources.memory.limit", "67108864");
    json_object *swap = at(c, "linux.resources.memory.swap");
    if (swap)   /* docker: as much swap again, where swap can be limited */
        assert_int_equal(json_object_get_int64(swap), 2 * (64 << 20));
    expect_json(c, "linux.resources.cpu", "{\"quota\":50000,\"period\":100000,\"shares\":512}");
    expect_json(c, "linux.resources.pids", "{\"limit\":100}");
    json_object_put(c);

    o = opts();
    o.pids_limit = -1;
    o.memory = 32 << 20;
    o.memory_swap = -1;
    c = build(img, &o);
    expect_json(c, "linux.resources.pids", "{\"limit\":-1}");
    if (at(c, "linux.resources.memory.swap"))
        expect_json(c, "linux.resources.memory.swap", "-1");
    json_object_put(c);

    o = opts();
    o.memory_swap = 100 << 20;
    build_fails(&o, "--memory-swap", "-m");
    o.memory = 200 << 20;
    build_fails(&o, "--memory-swap", "below");
    o = opts();
    o.memory = 1 << 20;
    build_fails(&o, "-m", "6MB");
    o = opts();
    o.nano_cpus = 1000;
    build_fails(&o, "--cpus", "0.01");
    o.nano_cpus = 100000LL * 1000000000;
    build_fails(&o, "--cpus", NULL);
}

static void test_ulimits(void **state)
{
    (void)state;
    const char *img = "{\"config\":{\"Cmd\":[\"sh\"]}}";
    struct run_opts o = opts();
    o.ulimits = (char *[]){ "nofile=1024:2048", "nproc=100", "core=unlimited", "nofile=512:1024", NULL };
    json_object *c = build(img, &o);
    expect_json(c, "process.rlimits",
                "[{\"type\":\"RLIMIT_NPROC\",\"soft\":100,\"hard\":100},"
                "{\"type\":\"RLIMIT_CORE\",\"soft\":18446744073709551615,\"hard\":18446744073709551615},"
                "{\"type\":\"RLIMIT_NOFILE\",\"soft\":512,\"hard\":1024}]");
    json_object_put(c);
    o.ulimits = (char *[]){ "bogus=1", NULL };
    build_fails(&o, "--ulimit bogus=1", "unknown limit");
    o.ulimits = (char *[]){ "nofile=10:5", NULL };
    build_fails(&o, "--ulimit nofile=10:5", "soft");
    o.ulimits = (char *[]){ "nofile", NULL };
    build_fails(&o, "--ulimit nofile", NULL);
    o.ulimits = (char *[]){ "nofile=x", NULL };
    build_fails(&o, "--ulimit nofile=x", "invalid");
}

static void test_devices(void **state)
{
    (void)state;
    const char *img = "{\"config\":{\"Cmd\":[\"sh\"]}}";
    struct run_opts o = opts();
    o.devices = (char *[]){ "/dev/null:/dev/mynull:r", "/dev/zero:rw", NULL };
    json_object *c = build(img, &o);
    json_object *d = at(c, "linux.devices");
    assert_int_equal(json_object_array_length(d), 2);
    json_object *d0 = json_object_array_get_idx(d, 0), *d1 = json_object_array_get_idx(d, 1);
    expect_json(d0, "path", "\"/dev/mynull\"");
    expect_json(d0, "type", "\"c\"");
    expect_json(d0, "major", "1");
    expect_json(d0, "minor", "3");
    expect_json(d1, "path", "\"/dev/zero\"");
    expect_json(d1, "minor", "5");
    json_object *rules = at(c, "linux.resources.devices");
    size_t n = json_object_array_length(rules);
    expect_json(json_object_array_get_idx(rules, 0), "allow", "false");
    expect_json(json_object_array_get_idx(rules, n - 2), "access", "\"r\"");
    expect_json(json_object_array_get_idx(rules, n - 2), "minor", "3");
    expect_json(json_object_array_get_idx(rules, n - 1), "access", "\"rw\"");
    json_object_put(c);

    o.devices = (char *[]){ "/etc/hostname", NULL };
    build_fails(&o, "--device /etc/hostname", "not a character or block device");
    o.devices = (char *[]){ "dev/null", NULL };
    build_fails(&o, "--device dev/null", "absolute");
    o.devices = (char *[]){ "/dev/null:/x:rwz", NULL };
    build_fails(&o, "--device /dev/null:/x:rwz", "permissions");
    o.devices = (char *[]){ "/dev/nonexistent-husk", NULL };
    build_fails(&o, "--device /dev/nonexistent-husk", NULL);
}

static void test_mounts(void **state)
{
    (void)state;
    const char *img = "{\"config\":{\"Cmd\":[\"sh\"]}}";
    struct run_opts o = opts();
    json_object *c = build(img, &o);
    expect_json(find_mount(c, "/dev/shm"), "options",
                "[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=67108864\"]");
    json_object *h = find_mount(c, "/etc/hosts");
    assert_non_null(h);
    char want[512];
    snprintf(want, sizeof(want), "\"%s/hosts\"", userdata);
    expect_json(h, "source", want);
    assert_non_null(find_mount(c, "/etc/hostname"));
    assert_non_null(find_mount(c, "/etc/resolv.conf"));
    assert_non_null(find_mount(c, "/proc"));
    assert_non_null(find_mount(c, "/dev/pts"));
    assert_non_null(find_mount(c, "/dev/mqueue"));
    expect_json(c, "root.readonly", "false");
    snprintf(want, sizeof(want), "\"%s\"", rootfs);
    expect_json(c, "root.path", want);
    expect_json(c, "linux.namespaces",
                "[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"network\"}]");
    expect_json(c, "linux.sysctl", "{\"net.ipv4.ip_unprivileged_port_start\":\"0\","
                                   "\"net.ipv4.ping_group_range\":\"0 2147483647\"}");
    json_object_put(c);

    o.tmpfs = (char *[]){ "/run:size=10m,exec", "/dev/shm:size=1m", "/tmp", NULL };
    o.shm_size = 1 << 20;
    o.read_only = true;
    c = build(img, &o);
    expect_json(find_mount(c, "/run"), "options", "[\"exec\",\"nosuid\",\"nodev\",\"size=10m\"]");
    expect_json(find_mount(c, "/tmp"), "options", "[\"noexec\",\"nosuid\",\"nodev\"]");
    expect_json(find_mount(c, "/dev/shm"), "type", "\"tmpfs\"");
    expect_json(find_mount(c, "/dev/shm"), "options", "[\"noexec\",\"nosuid\",\"nodev\",\"size=1m\"]");
    expect_json(find_mount(c, "/etc/hosts"), "options", "[\"rbind\",\"rprivate\",\"ro\"]");
    expect_json(c, "root.readonly", "true");
    json_object_put(c);

    o = opts();
    o.shm_size = 2 << 20;
    c = build(img, &o);
    expect_json(find_mount(c, "/dev/shm"), "options", "[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=2097152\"]");
    json_object_put(c);

    o = opts();
    o.tmpfs = (char *[]){ "run", NULL };
    build_fails(&o, "--tmpfs run", "absolute");
    o.tmpfs = (char *[]){ "/a", "/a/", NULL };
    build_fails(&o, "--tmpfs /a/", "duplicate");
    o.tmpfs = (char *[]){ "/", NULL };
    build_fails(&o, "--tmpfs /", NULL);

    o = opts();
    o.init = true;
    o.cmd = (char *[]){ "sleep", "1", NULL };
    if (access("/usr/bin/tini-static", X_OK) == 0) {
        c = build(img, &o);
        expect_json(c, "process.args", "[\"/dev/init\",\"--\",\"sleep\",\"1\"]");
        expect_json(find_mount(c, "/dev/init"), "source", "\"/usr/bin/tini-static\"");
        json_object_put(c);
    }
}

static void test_etc_files(void **state)
{
    (void)state;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(ocispec_write_etc_files(userdata, "web1", &err), 0);
    char p[512];
    _cleanup_free_ char *hostname = NULL, *hosts = NULL, *resolv = NULL;
    snprintf(p, sizeof(p), "%s/hostname", userdata);
    assert_int_equal(read_file_at(AT_FDCWD, p, 4096, &hostname, NULL, &err), 0);
    assert_string_equal(hostname, "web1\n");
    snprintf(p, sizeof(p), "%s/hosts", userdata);
    assert_int_equal(read_file_at(AT_FDCWD, p, 4096, &hosts, NULL, &err), 0);
    assert_non_null(strstr(hosts, "127.0.0.1\tlocalhost\n"));
    assert_non_null(strstr(hosts, "::1\tlocalhost"));
    assert_non_null(strstr(hosts, "\tweb1\n"));
    snprintf(p, sizeof(p), "%s/resolv.conf", userdata);
    assert_int_equal(read_file_at(AT_FDCWD, p, 4096, &resolv, NULL, &err), 0);
    assert_null(strstr(resolv, "nameserver"));
    assert_int_equal(ocispec_write_etc_files(userdata, "a/b", &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_env_cwd),
        cmocka_unit_test(test_user),
        cmocka_unit_test(test_user_symlink_stays_inside),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_seccomp_default),
        cmocka_unit_test(test_seccomp_file),
        cmocka_unit_test(test_resources),
        cmocka_unit_test(test_ulimits),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_mounts),
        cmocka_unit_test(test_etc_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
