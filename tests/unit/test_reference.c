/* test_reference.c — docker's image reference grammar and normalization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reference.h"
#include "util.h"

/* Parse in; its normalized string must be full and its familiar form short. */
static void check(const char *in, const char *full, const char *familiar)
{
    struct image_ref r;
    _cleanup_err_ husk_err *err = NULL;
    if (image_ref_parse(in, &r, &err) < 0)
        fail_msg("parse(\"%s\") failed: %s", in, err->msg);
    _cleanup_free_ char *got = image_ref_string(&r), *fam = image_ref_familiar(&r);
    image_ref_free(&r);
    if (strcmp(got, full) != 0)
        fail_msg("parse(\"%s\") = \"%s\", want \"%s\"", in, got, full);
    if (strcmp(fam, familiar) != 0)
        fail_msg("familiar(\"%s\") = \"%s\", want \"%s\"", in, fam, familiar);
}

static void check_bad(const char *in, const char *why)
{
    struct image_ref r;
    _cleanup_err_ husk_err *err = NULL;
    if (image_ref_parse(in, &r, &err) == 0) {
        _cleanup_free_ char *got = image_ref_string(&r);
        image_ref_free(&r);
        fail_msg("parse(\"%s\") accepted as \"%s\"", in, got);
    }
    _cleanup_free_ char *want = xasprintf("invalid reference \"%s\": ", in);
    if (strncmp(err->msg, want, strlen(want)) != 0 || !strstr(err->msg, why))
        fail_msg("parse(\"%s\"): message \"%s\", want it to name the reference and say \"%s\"", in,
                 err->msg, why);
}

static void test_docker_hub(void **state)
{
    (void)state;
    check("busybox", "docker.io/library/busybox:latest", "busybox:latest");
    check("alpine:3.19", "docker.io/library/alpine:3.19", "alpine:3.19");
    check("library/alpine", "docker.io/library/alpine:latest", "alpine:latest");
    check("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest");
    check("index.docker.io/busybox:1", "docker.io/library/busybox:1", "busybox:1");
    check("user/app", "docker.io/user/app:latest", "user/app:latest");
    check("user/app/sub:v1.2-rc_3", "docker.io/user/app/sub:v1.2-rc_3", "user/app/sub:v1.2-rc_3");
    /* no '.' or ':' and lower case: a namespace on docker.io, not a host */
    check("registry/app", "docker.io/registry/app:latest", "registry/app:latest");
}

static void test_registries(void **state)
{
    (void)state;
    check("localhost/app", "localhost/app:latest", "localhost/app:latest");
    check("localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app:v1");
    check("127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b:latest", "127.0.0.1:5000/a/b:latest");
    check("quay.io/org/img:tag", "quay.io/org/img:tag", "quay.io/org/img:tag");
    check("[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest");
    /* an upper-case first component is a host (docker's rule) */
    check("Registry/app", "Registry/app:latest", "Registry/app:latest");
    /* without a slash a colon is a tag, even when it looks like a port */
    check("localhost:5000", "docker.io/library/localhost:5000", "localhost:5000");
}

static void test_separators(void **state)
{
    (void)state;
    check("user/a.b_c__d---e", "docker.io/user/a.b_c__d---e:latest", "user/a.b_c__d---e:latest");
    /* a first component with a dot is a host, and this one is not a valid one */
    check_bad("a.b_c/f", "malformed registry host");
    check_bad("a..b", "malformed repository name");
    check_bad("a___b", "malformed repository name");
    check_bad("-a", "malformed repository name");
    check_bad("a-", "malformed repository name");
    check_bad("a//b", "malformed repository name");
    check_bad("a/", "malformed repository name");
    check_bad("a b", "malformed repository name");
}

static void test_digests(void **state)
{
    (void)state;
    const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    _cleanup_free_ char *in1 = xasprintf("busybox@%s", d), *out1 = xasprintf("docker.io/library/busybox@%s", d),
                        *fam1 = xasprintf("busybox@%s", d);
    check(in1, out1, fam1);
    _cleanup_free_ char *in2 = xasprintf("localhost:5000/app:v1@%s", d), *out2 = xasprintf("localhost:5000/app:v1@%s", d);
    check(in2, out2, out2);
    check_bad("busybox@sha256:0123", "malformed digest");
    check_bad("busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "malformed digest");
    check_bad("busybox@md5", "malformed digest");
    check_bad("busybox@", "malformed digest");
    assert_true(image_ref_digest_valid(d));
    assert_false(image_ref_digest_valid("sha256:"));
    assert_false(image_ref_digest_valid(":abc"));
    assert_true(image_ref_digest_valid("multihash+base58:0123456789abcdef0123456789abcdef"));
}

static void test_bad(void **state)
{
    (void)state;
    check_bad("", "empty");
    check_bad("Busybox", "must be lowercase");
    check_bad("user/App", "must be lowercase");
    check_bad("busybox:", "malformed tag");
    check_bad("busybox:-x", "malformed tag");
    check_bad("busybox:a/b", "malformed registry host");   /* "busybox:a" would be host:port */
    check_bad(":tag", "no repository name");
    check_bad("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "image id");
    check_bad("bad_host-.io/app", "malformed registry host");
    check_bad("host:port/app", "malformed registry host");
    char tag[140];
    memset(tag, 'a', sizeof(tag));
    tag[sizeof(tag) - 1] = '\0';
    _cleanup_free_ char *longtag = xasprintf("busybox:%s", tag);
    check_bad(longtag, "malformed tag");
    char name[300];
    memset(name, 'a', sizeof(name));
    name[sizeof(name) - 1] = '\0';
    check_bad(name, "longer than 255");
    /* 250 characters alone pass, but not once docker.io/library/ is in front */
    name[250] = '\0';
    check_bad(name, "longer than 255");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docker_hub), cmocka_unit_test(test_registries),
        cmocka_unit_test(test_separators), cmocka_unit_test(test_digests),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
