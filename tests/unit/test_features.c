/* test_features.c — the Features structure against the parser: every name it lists is
 * put into one config.json that config_parse() must accept (hooks, mount options,
 * namespaces, capabilities, seccomp actions, operators, arches and supported flags) and
 * whose seccomp part seccomp_filter_build() must translate; every listed mount option is
 * one mount_opts_parse() applies (not filesystem data);
 * and the versions and fixed answers are what the build says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "config.h"
#include "husk-config.h"
#include "mounts.h"
#include "oci_features.h"
#include "seccomp_filter.h"
#include "util.h"

static struct json_object *feat;

static int setup(void **state)
{
    (void)state;
    feat = features_json();
    return feat ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_object_put(feat);
    return 0;
}

/* The value at a dotted path ("linux.seccomp.actions"); fails the test if absent. */
static struct json_object *at(const char *path)
{
    _cleanup_free_ char *copy = xstrdup(path);
    struct json_object *o = feat;
    for (char *save = NULL, *k = strtok_r(copy, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        if (!json_object_object_get_ex(o, k, &o)) {
            print_error("features: no %s\n", path);
            fail();
        }
    }
    return o;
}

static bool has_string(struct json_object *arr, const char *s)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
            return true;
    return false;
}

static void assert_bool(const char *path, bool want)
{
    struct json_object *o = at(path);
    assert_true(json_object_is_type(o, json_type_boolean));
    assert_int_equal(json_object_get_boolean(o), want);
}

static void test_versions_and_fixed(void **state)
{
    (void)state;
    assert_string_equal(json_object_get_string(at("ociVersionMin")), "1.0.0");
    assert_string_equal(json_object_get_string(at("ociVersionMax")), HUSK_OCI_VERSION);
    assert_bool("linux.cgroup.v1", true);
    assert_bool("linux.cgroup.v2", true);
    assert_bool("linux.cgroup.systemd", false);
    assert_bool("linux.cgroup.systemdUser", false);
    assert_bool("linux.seccomp.enabled", true);
    assert_bool("linux.apparmor.enabled", false);
    assert_bool("linux.selinux.enabled", false);
    assert_bool("linux.intelRdt.enabled", false);
    assert_bool("linux.mountExtensions.idmap.enabled", true);
    const struct scmp_version *v = seccomp_version();
    _cleanup_free_ char *ver = xasprintf("%u.%u.%u", v->major, v->minor, v->micro);
    struct json_object *v_o;
    assert_true(json_object_object_get_ex(at("annotations"), "io.github.seccomp.libseccomp.version", &v_o));
    assert_string_equal(json_object_get_string(v_o), ver);
}

/* Every listed option is one the parser applies: no data, no refused kind. */
static void test_mount_options_applied(void **state)
{
    (void)state;
    struct json_object *opts = at("mountOptions");
    assert_true(json_object_array_length(opts) > 40);
    for (size_t i = 0; i < json_object_array_length(opts); i++) {
        char *v[] = { (char *)json_object_get_string(json_object_array_get_idx(opts, i)), NULL };
        struct mount_opts o;
        mount_opts_parse(v, &o);
        if (o.data)
            print_error("mount option %s is not applied\n", v[0]);
        assert_null(o.data);
        mount_opts_free(&o);
    }
    assert_true(has_string(opts, "idmap"));
    assert_true(has_string(opts, "ridmap"));
    assert_true(has_string(opts, "tmpcopyup"));
    assert_false(has_string(opts, "mode=755"));
    assert_true(has_string(opts, "rro"));
    assert_true(has_string(opts, "rbind"));
}

static void test_names_resolve(void **state)
{
    (void)state;
    struct json_object *a = at("linux.capabilities");
    assert_true(json_object_array_length(a) >= 38);
    for (size_t i = 0; i < json_object_array_length(a); i++)
        assert_int_equal(cap_number(json_object_get_string(json_object_array_get_idx(a, i))), (int)i);
    a = at("linux.namespaces");
    assert_int_equal(json_object_array_length(a), OCI_NS_COUNT);
    for (size_t i = 0; i < json_object_array_length(a); i++)
        assert_true(ns_type_from_name(json_object_get_string(json_object_array_get_idx(a, i))) >= 0);
    a = at("linux.seccomp.actions");
    assert_true(has_string(a, "SCMP_ACT_NOTIFY"));
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        uint32_t v;
        assert_int_equal(seccomp_action_value(json_object_get_string(json_object_array_get_idx(a, i)), false, 0, &v), 0);
    }
    a = at("linux.seccomp.archs");
    assert_true(has_string(a, "SCMP_ARCH_X86_64"));
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        uint32_t tok = 0;
        assert_int_equal(seccomp_arch_value(json_object_get_string(json_object_array_get_idx(a, i)), &tok), 0);
        assert_int_not_equal(tok, 0);
    }
    struct json_object *known = at("linux.seccomp.knownFlags"), *sup = at("linux.seccomp.supportedFlags");
    for (size_t i = 0; i < json_object_array_length(sup); i++)
        assert_true(has_string(known, json_object_get_string(json_object_array_get_idx(sup, i))));
    assert_false(seccomp_flag_supported("SECCOMP_FILTER_FLAG_FROB"));
}

/* One config.json holding every listed name where the spec puts it. */
static void test_config_accepts_everything(void **state)
{
    (void)state;
    struct json_object *doc = json_object_new_object(), *lx = json_object_new_object();
    struct json_object *proc = json_object_new_object(), *caps = json_object_new_object();
    struct json_object *hooks = json_object_new_object(), *mounts = json_object_new_array();
    struct json_object *ns = json_object_new_array(), *sc = json_object_new_object();
    struct json_object *rules = json_object_new_array(), *a;

    json_object_object_add(doc, "ociVersion", json_object_new_string("1.0.0"));
    /* hooks */
    a = at("hooks");
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        struct json_object *list = json_object_new_array(), *h = json_object_new_object();
        json_object_object_add(h, "path", json_object_new_string("/bin/true"));
        json_object_array_add(list, h);
        json_object_object_add(hooks, json_object_get_string(json_object_array_get_idx(a, i)), list);
    }
    json_object_object_add(doc, "hooks", hooks);
    /* mounts: every option, one mount each */
    a = at("mountOptions");
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        struct json_object *m = json_object_new_object(), *o = json_object_new_array();
        json_object_array_add(o, json_object_get(json_object_array_get_idx(a, i)));
        json_object_object_add(m, "destination", json_object_new_string("/mnt"));
        json_object_object_add(m, "type", json_object_new_string("tmpfs"));
        json_object_object_add(m, "options", o);
        json_object_array_add(mounts, m);
    }
    json_object_object_add(doc, "mounts", mounts);
    /* process.capabilities: every capability in each set */
    json_object_object_add(proc, "args", json_object_new_array());
    json_object_array_add(json_object_object_get(proc, "args"), json_object_new_string("true"));
    json_object_object_add(proc, "cwd", json_object_new_string("/"));
    struct json_object *user = json_object_new_object();
    json_object_object_add(user, "uid", json_object_new_int(0));
    json_object_object_add(user, "gid", json_object_new_int(0));
    json_object_object_add(proc, "user", user);
    const char *sets[] = { "bounding", "effective", "permitted", "inheritable", "ambient" };
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
        json_object_object_add(caps, sets[i], json_object_get(at("linux.capabilities")));
    json_object_object_add(proc, "capabilities", caps);
    json_object_object_add(doc, "process", proc);
    /* linux.namespaces */
    a = at("linux.namespaces");
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        struct json_object *n = json_object_new_object();
        json_object_object_add(n, "type", json_object_get(json_object_array_get_idx(a, i)));
        json_object_array_add(ns, n);
    }
    json_object_object_add(lx, "namespaces", ns);
    /* linux.seccomp: each action on its own syscall, each operator on another; native
     * arches only (libseccomp holds one byte order per filter), supported flags. */
    static const char *const sys[] = { "acct", "swapon", "swapoff", "kexec_load", "init_module",
                                       "delete_module", "reboot", "quotactl", "syslog", "vhangup" };
    json_object_object_add(sc, "defaultAction", json_object_new_string("SCMP_ACT_ALLOW"));
    a = at("linux.seccomp.actions");
    assert_true(json_object_array_length(a) <= ARRAY_SIZE(sys));
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        struct json_object *r = json_object_new_object(), *names = json_object_new_array();
        json_object_array_add(names, json_object_new_string(sys[i]));
        json_object_object_add(r, "names", names);
        json_object_object_add(r, "action", json_object_get(json_object_array_get_idx(a, i)));
        json_object_array_add(rules, r);
    }
    a = at("linux.seccomp.operators");
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        struct json_object *r = json_object_new_object(), *names = json_object_new_array();
        struct json_object *args = json_object_new_array(), *arg = json_object_new_object();
        json_object_array_add(names, json_object_new_string("settimeofday"));
        json_object_object_add(r, "names", names);
        json_object_object_add(r, "action", json_object_new_string("SCMP_ACT_ERRNO"));
        json_object_object_add(arg, "index", json_object_new_int((int)(i % 6)));
        json_object_object_add(arg, "value", json_object_new_int(1));
        json_object_object_add(arg, "valueTwo", json_object_new_int(1));
        json_object_object_add(arg, "op", json_object_get(json_object_array_get_idx(a, i)));
        json_object_array_add(args, arg);
        json_object_object_add(r, "args", args);
        json_object_array_add(rules, r);
    }
    json_object_object_add(sc, "syscalls", rules);
    struct json_object *arches = json_object_new_array();
    a = at("linux.seccomp.archs");
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        const char *n = json_object_get_string(json_object_array_get_idx(a, i));
        if (strcmp(n, "SCMP_ARCH_X86") == 0 || strcmp(n, "SCMP_ARCH_X86_64") == 0 || strcmp(n, "SCMP_ARCH_X32") == 0)
            json_object_array_add(arches, json_object_new_string(n));
    }
    json_object_object_add(sc, "architectures", arches);
    json_object_object_add(sc, "flags", json_object_get(at("linux.seccomp.supportedFlags")));
    /* NOTIFY in a rule needs a listener */
    json_object_object_add(sc, "listenerPath", json_object_new_string("/run/listener.sock"));
    json_object_object_add(lx, "seccomp", sc);
    json_object_object_add(doc, "linux", lx);

    const char *text = json_object_to_json_string(doc);
    struct oci_config *cfg = NULL;
    husk_err *err = NULL;
    if (config_parse(text, strlen(text), "config.json", &cfg, &err) < 0) {
        print_error("features config refused: %s\n", err ? err->msg : "?");
        husk_err_free(&err);
        json_object_put(doc);
        fail();
    }
    assert_int_equal(cfg->n_mounts, json_object_array_length(at("mountOptions")));
    assert_int_equal(cfg->linux_.n_namespaces, OCI_NS_COUNT);
    assert_int_equal(cfg->linux_.seccomp.n_syscalls, json_object_array_length(rules));

    struct husk_seccomp *f = NULL;
    if (seccomp_filter_build(&cfg->linux_.seccomp, &f, &err) < 0) {
        print_error("features seccomp refused: %s\n", err ? err->msg : "?");
        husk_err_free(&err);
        config_free(cfg);
        json_object_put(doc);
        fail();
    }
    /* Every rule but the one whose action is the default (ALLOW) became a filter rule. */
    assert_int_equal(seccomp_filter_n_rules(f), json_object_array_length(rules) - 1);
    seccomp_filter_free(f);
    config_free(cfg);
    json_object_put(doc);
}

static void test_text_is_the_object(void **state)
{
    (void)state;
    _cleanup_free_ char *text = features_text();
    size_t n = strlen(text);
    assert_true(n > 0 && text[n - 1] == '\n');
    struct json_object *back = json_tokener_parse(text);
    assert_non_null(back);
    assert_true(json_object_equal(back, feat));
    json_object_put(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_and_fixed),
        cmocka_unit_test(test_mount_options_applied),
        cmocka_unit_test(test_names_resolve),
        cmocka_unit_test(test_config_accepts_everything),
        cmocka_unit_test(test_text_is_the_object),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
