/* test_registry.c — the registry client's pure parts: WWW-Authenticate challenges,
 * credentials in docker's/podman's auth files, platforms, insecure registries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "auth_file.h"
#include "registry.h"
#include "util.h"

static void test_challenge_bearer(void **state)
{
    (void)state;
    struct auth_challenge c;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(registry_parse_challenge("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                                              "scope=\"repository:library/busybox:pull,push\"",
                                              &c, &err),
                     0);
    assert_string_equal(c.scheme, "bearer");
    assert_string_equal(c.realm, "https://auth.docker.io/token");
    assert_string_equal(c.service, "registry.docker.io");
    /* the comma inside the quoted scope does not split it */
    assert_string_equal(c.scope, "repository:library/busybox:pull,push");
    assert_null(c.error);
    auth_challenge_free(&c);

    /* tokens without quotes, spaces around '=' and ',', case of the scheme and keys,
     * an escaped quote, unknown parameters ignored */
    assert_int_equal(registry_parse_challenge("  BEARER Realm = http://127.0.0.1:5000/t , SERVICE=reg ,"
                                              "error=\"insufficient_scope\", x=\"a\\\"b\", scope=\"repo:\\\"q\\\"\"",
                                              &c, &err),
                     0);
    assert_string_equal(c.scheme, "bearer");
    assert_string_equal(c.realm, "http://127.0.0.1:5000/t");
    assert_string_equal(c.service, "reg");
    assert_string_equal(c.error, "insufficient_scope");
    assert_string_equal(c.scope, "repo:\"q\"");
    auth_challenge_free(&c);
}

static void test_challenge_basic_and_bad(void **state)
{
    (void)state;
    struct auth_challenge c;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(registry_parse_challenge("Basic realm=\"husk-test\"", &c, &err), 0);
    assert_string_equal(c.scheme, "basic");
    assert_string_equal(c.realm, "husk-test");
    auth_challenge_free(&c);
    assert_int_equal(registry_parse_challenge("Basic", &c, &err), 0);
    assert_string_equal(c.scheme, "basic");
    assert_null(c.realm);
    auth_challenge_free(&c);

    static const char *const bad[] = {
        "",                                   /* no scheme */
        "Bearer service=\"x\"",               /* bearer without a realm */
        "Bearer realm=\"unterminated",        /* open quote */
        "Bearer realm",                       /* no '=' */
        "Bearer realm=\"a\" junk",            /* no ',' between parameters */
        "Bearer =x",                          /* no key */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        husk_err_free(&err);
        if (registry_parse_challenge(bad[i], &c, &err) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_non_null(strstr(err->msg, "WWW-Authenticate"));
    }
}

static void check_lookup(const char *json, const char *host, int want, const char *user, const char *pass)
{
    char *u = NULL, *p = NULL;
    _cleanup_err_ husk_err *err = NULL;
    int rc = auth_lookup_json(json, host, &u, &p, &err);
    if (rc != want)
        fail_msg("lookup %s in %s: %d (%s), want %d", host, json, rc, err ? err->msg : "", want);
    if (want == 0) {
        assert_string_equal(u, user);
        assert_string_equal(p, pass);
    }
    free(u);
    free(p);
}

static void test_auth_file_lookup(void **state)
{
    (void)state;
    /* "user:pa:ss" base64 = dXNlcjpwYTpzcw== ; "a:b" = YTpi ; "ab:" = YWI6 */
    const char *j = "{\"auths\": {"
                    "\"https://index.docker.io/v1/\": {\"auth\": \"dXNlcjpwYTpzcw==\"},"
                    "\"127.0.0.1:5000\": {\"auth\": \"YTpi\"},"
                    "\"https://quay.io\": {\"auth\": \"YWI6\"},"
                    "\"quay.io/org\": {\"auth\": \"YTpi\"},"
                    "\"noauth.example\": {\"email\": \"x\"}}, \"credsStore\": \"none\"}";
    check_lookup(j, "docker.io", 0, "user", "pa:ss");   /* the password keeps its ':' */
    check_lookup(j, "127.0.0.1:5000", 0, "a", "b");
    check_lookup(j, "127.0.0.1", 1, NULL, NULL);        /* the port is part of the host */
    check_lookup(j, "127.0.0.1:50001", 1, NULL, NULL);
    check_lookup(j, "quay.io", 0, "ab", "");
    check_lookup(j, "noauth.example", 1, NULL, NULL);
    check_lookup("{\"auths\": {\"docker.io\": {\"auth\": \"YTpi\"}}}", "docker.io", 0, "a", "b");
    check_lookup("{}", "docker.io", 1, NULL, NULL);
    check_lookup("{\"auths\": {\"x.io\": {\"auth\": \"!!!!\"}}}", "x.io", -1, NULL, NULL);
    check_lookup("{\"auths\": {\"x.io\": {\"auth\": \"YWJj\"}}}", "x.io", -1, NULL, NULL);   /* "abc": no ':' */
    check_lookup("[1]", "x.io", -1, NULL, NULL);
}

static void check_helper(const char *json, const char *host, int want, const char *name)
{
    char *h = NULL;
    _cleanup_err_ husk_err *err = NULL;
    int rc = auth_helper_json(json, host, &h, &err);
    if (rc != want)
        fail_msg("helper for %s in %s: %d (%s), want %d", host, json, rc, err ? err->msg : "", want);
    if (want == 0)
        assert_string_equal(h, name);
    free(h);
}

static void test_auth_file_helpers(void **state)
{
    (void)state;
    const char *j = "{\"credHelpers\": {\"127.0.0.1:5000\": \"one\", \"https://index.docker.io/v1/\": \"hub\"},"
                    "\"credsStore\": \"store\", \"auths\": {\"127.0.0.1:5000\": {}}}";
    check_helper(j, "127.0.0.1:5000", 0, "one");   /* credHelpers beats credsStore */
    check_helper(j, "docker.io", 0, "hub");
    check_helper(j, "quay.io", 0, "store");        /* every other host: the store */
    check_helper("{\"credHelpers\": {\"a.io\": \"x\"}}", "b.io", 1, NULL);
    check_helper("{\"auths\": {}}", "b.io", 1, NULL);
    check_helper("{\"credsStore\": \"\"}", "b.io", 1, NULL);
    check_helper("{\"credsStore\": \"../../bin/sh\"}", "b.io", -1, NULL);   /* a name, never a path */
    check_helper("[]", "b.io", -1, NULL);
}

static void test_auth_file_store(void **state)
{
    (void)state;
    char dir[] = "/tmp/husk-auth-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    _cleanup_free_ char *path = xasprintf("%s/sub/auth.json", dir);
    setenv("REGISTRY_AUTH_FILE", path, 1);
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(auth_remove("x.io", &err), 1);   /* nothing stored yet */
    assert_int_equal(auth_store("x.io", "me", "s3:cret", &err), 0);
    assert_int_equal(auth_store("docker.io", "hub", "pw", &err), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char *u = NULL, *p = NULL;
    assert_int_equal(auth_lookup("x.io", &u, &p, &err), 0);
    assert_string_equal(u, "me");
    assert_string_equal(p, "s3:cret");
    free(u);
    free(p);
    assert_int_equal(auth_remove("x.io", &err), 0);
    assert_int_equal(auth_lookup("x.io", &u, &p, &err), 1);
    assert_int_equal(auth_lookup("docker.io", &u, &p, &err), 0);
    assert_string_equal(u, "hub");
    free(u);
    free(p);
    unsetenv("REGISTRY_AUTH_FILE");
    _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void check_platform(const char *in, const char *os, const char *arch, const char *variant)
{
    struct platform p;
    _cleanup_err_ husk_err *err = NULL;
    if (platform_parse(in, &p, &err) < 0)
        fail_msg("platform_parse(\"%s\"): %s", in, err->msg);
    assert_string_equal(p.os, os);
    assert_string_equal(p.arch, arch);
    if (variant)
        assert_string_equal(p.variant, variant);
    else
        assert_null(p.variant);
    platform_free(&p);
}

static void test_platform(void **state)
{
    (void)state;
    check_platform("linux/amd64", "linux", "amd64", NULL);
    check_platform("linux/x86_64", "linux", "amd64", NULL);
    check_platform("Linux/ARM64/v8", "linux", "arm64", NULL);   /* arm64's v8 is no variant */
    check_platform("linux/aarch64", "linux", "arm64", NULL);
    check_platform("linux/arm/v6", "linux", "arm", "v6");
    check_platform("linux/armhf", "linux", "arm", "v7");
    check_platform("windows/amd64", "windows", "amd64", NULL);
#if defined(__x86_64__)
    check_platform(NULL, "linux", "amd64", NULL);   /* the host's */
    check_platform("", "linux", "amd64", NULL);
#endif
    static const char *const bad[] = { "linux", "linux/", "/amd64", "linux//amd64", "linux/arm/v7/x", "li nux/amd64" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct platform p;
        _cleanup_err_ husk_err *err = NULL;
        if (platform_parse(bad[i], &p, &err) == 0)
            fail_msg("platform_parse accepted \"%s\"", bad[i]);
        assert_non_null(strstr(err->msg, bad[i]));
    }
}

static void test_insecure(void **state)
{
    (void)state;
    const char *cfg = "{\"insecure-registries\": [\"myreg:5000\", \"10.1.0.0/16\", \"http://plain.example\", "
                      "\"fd00::/8\"], \"registry-mirrors\": []}";
    assert_true(registry_host_insecure(cfg, "myreg:5000"));
    assert_false(registry_host_insecure(cfg, "myreg:5001"));
    assert_false(registry_host_insecure(cfg, "myreg"));
    assert_true(registry_host_insecure(cfg, "10.1.2.3:5000"));
    assert_true(registry_host_insecure(cfg, "10.1.2.3"));
    assert_false(registry_host_insecure(cfg, "10.2.0.1:5000"));
    assert_true(registry_host_insecure(cfg, "plain.example"));
    assert_true(registry_host_insecure(cfg, "[fd12::1]:5000"));
    assert_false(registry_host_insecure(cfg, "[fe80::1]:5000"));
    assert_false(registry_host_insecure(cfg, "docker.io"));
    assert_false(registry_host_insecure("{}", "myreg:5000"));
    assert_false(registry_host_insecure("not json", "myreg:5000"));
    assert_false(registry_host_insecure(NULL, "myreg:5000"));
    assert_false(registry_host_insecure("{\"insecure-registries\": [\"10.0.0.0/33\"]}", "10.0.0.1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenge_bearer), cmocka_unit_test(test_challenge_basic_and_bad),
        cmocka_unit_test(test_auth_file_lookup), cmocka_unit_test(test_auth_file_helpers),
        cmocka_unit_test(test_auth_file_store),
        cmocka_unit_test(test_platform),         cmocka_unit_test(test_insecure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
