/* test_manifest.c — manifests, indexes and configs: what is accepted, what is
 * refused, and that errors name the document and the JSON path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest.h"
#include "util.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const char *good_manifest =
    "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
    "\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" D1 "\",\"size\":7},"
    "\"layers\":[{\"mediaType\":\"" MT_OCI_LAYER_GZIP "\",\"digest\":\"" D2 "\",\"size\":100},"
    "{\"mediaType\":\"" MT_DOCKER_LAYER_GZIP "\",\"digest\":\"" D1 "\",\"size\":5}]}";

#define expect_error(call, err, want) expect_error_((call), &(err), (want))
static void expect_error_(int rc, husk_err **errp, const char *want)
{
    husk_err *err = *errp;
    assert_int_equal(rc, -1);
    assert_non_null(err);
    if (!strstr(err->msg, want))
        fail_msg("error \"%s\", want it to contain \"%s\"", err->msg, want);
}

static void test_manifest(void **state)
{
    (void)state;
    struct manifest m;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(manifest_parse(good_manifest, strlen(good_manifest), "m", NULL, &m, &err), 0);
    assert_string_equal(m.media_type, MT_OCI_MANIFEST);
    assert_string_equal(m.config.digest, D1);
    assert_int_equal(m.n_layers, 2);
    assert_string_equal(m.layers[0].digest, D2);
    assert_int_equal(m.layers[0].size, 100);
    manifest_free(&m);

    /* served as something else than it says */
    expect_error(manifest_parse(good_manifest, strlen(good_manifest), "m", MT_DOCKER_MANIFEST, &m, &err), err,
                 "m: mediaType: \"" MT_OCI_MANIFEST "\", but it was served as");
    husk_err_free(&err);

    const char *bad_layer = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":1},"
                            "\"layers\":[{\"mediaType\":\"application/x-foo\",\"digest\":\"" D2 "\",\"size\":1}]}";
    expect_error(manifest_parse(bad_layer, strlen(bad_layer), "manifest x", NULL, &m, &err), err,
                 "manifest x: layers[0].mediaType: unknown layer media type \"application/x-foo\"");
    husk_err_free(&err);

    const char *bad_digest = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:../x\",\"size\":1},"
                             "\"layers\":[]}";
    expect_error(manifest_parse(bad_digest, strlen(bad_digest), "m", NULL, &m, &err), err,
                 "m: config.digest: \"sha256:../x\" is not a sha256 digest");
    husk_err_free(&err);

    const char *v1 = "{\"schemaVersion\":1,\"config\":{},\"layers\":[]}";
    expect_error(manifest_parse(v1, strlen(v1), "m", NULL, &m, &err), err, "only schema 2");
    husk_err_free(&err);

    const char *unknown = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.foo\",\"config\":{},\"layers\":[]}";
    expect_error(manifest_parse(unknown, strlen(unknown), "m", NULL, &m, &err), err,
                 "unknown manifest media type \"application/vnd.foo\"");
    husk_err_free(&err);

    expect_error(manifest_parse("{", 1, "m", NULL, &m, &err), err, "m: invalid JSON");
}

static const char *good_index =
    "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":1,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":2,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":3,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}}]}";

static void test_index(void **state)
{
    (void)state;
    struct image_index ix;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(image_index_parse(good_index, strlen(good_index), "ix", NULL, &ix, &err), 0);
    assert_int_equal(ix.n_manifests, 3);
    const struct descriptor *d = image_index_pick(&ix, "linux", "amd64", NULL, "ix", &err);
    assert_non_null(d);
    assert_string_equal(d->digest, D2);
    d = image_index_pick(&ix, "linux", "arm64", NULL, "ix", &err);
    assert_non_null(d);
    assert_int_equal(d->size, 1);
    d = image_index_pick(&ix, "linux", "arm", "v7", "ix", &err);
    assert_non_null(d);
    assert_int_equal(d->size, 3);
    d = image_index_pick(&ix, "linux", "s390x", NULL, "ix", &err);
    assert_null(d);
    assert_non_null(strstr(err->msg, "no manifest for platform linux/s390x"));
    assert_non_null(strstr(err->msg, "linux/arm64/v8, linux/amd64, linux/arm/v7"));
    image_index_free(&ix);
    husk_err_free(&err);
    /* a manifest is not an index */
    assert_int_equal(image_index_parse(good_manifest, strlen(good_manifest), "ix", NULL, &ix, &err), -1);
    husk_err_free(&err);
    struct manifest m;
    expect_error(manifest_parse(good_index, strlen(good_index), "m", NULL, &m, &err), err, "an index");
}

static void test_config(void **state)
{
    (void)state;
    struct image_config c;
    _cleanup_err_ husk_err *err = NULL;
    const char *good = "{\"created\":\"2024-01-01T00:00:00Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
                       "\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";
    assert_int_equal(image_config_parse(good, strlen(good), "config", &c, &err), 0);
    assert_int_equal(c.n_diff_ids, 2);
    assert_string_equal(c.diff_ids[1], D2);
    assert_null(c.diff_ids[2]);
    assert_string_equal(c.architecture, "amd64");
    image_config_free(&c);
    const char *bad = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"diff_ids\":[\"md5:00\"]}}";
    expect_error(image_config_parse(bad, strlen(bad), "config", &c, &err), err,
                 "config: rootfs.diff_ids[0]: \"md5:00\" is not a sha256 digest");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest),
        cmocka_unit_test(test_index),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
