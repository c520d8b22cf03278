/* test_store.c — blobs are verified before they are named; nothing is left of a
 * blob that did not match or was abandoned. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "image.h"
#include "store.h"
#include "util.h"

static char root[64];

static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/husk-store-test.XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* sha256("hello\n"), as sha256sum prints it */
#define HELLO "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static void test_put_and_exists(void **state)
{
    (void)state;
    struct store st;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(store_open(root, &st, &err), 0);
    _cleanup_free_ char *d = sha256_digest("hello\n", 6);
    assert_string_equal(d, HELLO);
    assert_false(store_blob_exists(&st, HELLO));
    _cleanup_free_ char *got = NULL;
    assert_int_equal(store_put_blob(&st, "hello\n", 6, &got, &err), 1);   /* added */
    assert_string_equal(got, HELLO);
    assert_true(store_blob_exists(&st, HELLO));
    _cleanup_free_ char *path = store_blob_path(&st, HELLO), *data = NULL;
    assert_int_equal(read_file_at(AT_FDCWD, path, 100, &data, NULL, &err), 0);
    assert_string_equal(data, "hello\n");
    /* again: the same name, nothing new */
    assert_int_equal(store_put_blob(&st, "hello\n", 6, NULL, &err), 0);   /* there already */
    _cleanup_free_ char *dir = xasprintf("%s/blobs/sha256", root);
    assert_int_equal(entries(dir), 1);
    store_close(&st);
}

static void test_streamed_and_mismatch(void **state)
{
    (void)state;
    struct store st;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(store_open(root, &st, &err), 0);
    _cleanup_free_ char *dir = xasprintf("%s/blobs/sha256", root);
    size_t before = entries(dir);

    struct blob_writer *w = NULL;
    const char *other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    assert_int_equal(blob_writer_new(&st, other, &w, &err), 0);
    assert_int_equal(blob_writer_write(w, "hel", 3, &err), 0);
    assert_int_equal(blob_writer_write(w, "lo\n", 3, &err), 0);
    assert_int_equal(blob_writer_size(w), 6);
    assert_int_equal(blob_writer_commit(w, &err), -1);
    assert_non_null(strstr(err->msg, "digest mismatch"));
    assert_non_null(strstr(err->msg, other));
    assert_non_null(strstr(err->msg, HELLO));
    assert_false(store_blob_exists(&st, other));
    assert_int_equal(entries(dir), before);

    /* abandoned half-way: nothing named */
    husk_err_free(&err);
    assert_int_equal(blob_writer_new(&st, HELLO, &w, &err), 0);
    assert_int_equal(blob_writer_write(w, "hel", 3, &err), 0);
    blob_writer_abort(w);
    assert_int_equal(entries(dir), before);

    /* streamed in pieces with the right digest */
    assert_int_equal(blob_writer_new(&st, HELLO, &w, &err), 0);
    assert_int_equal(blob_writer_write(w, "hel", 3, &err), 0);
    assert_int_equal(blob_writer_write(w, "lo\n", 3, &err), 0);
    assert_int_equal(blob_writer_commit(w, &err), 0);
    assert_true(store_blob_exists(&st, HELLO));
    store_close(&st);
}

/* Times as Go's RFC3339Nano writes them, so a config podman re-marshals
 * keeps its bytes (and the image its id). */
static void check_time(time_t sec, long nsec, const char *want)
{
    struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };
    char *s = image_format_rfc3339(&ts);
    assert_string_equal(s, want);
    free(s);
}

static void test_image_times(void **state)
{
    (void)state;
    check_time(1764806400, 123456789, "2025-12-04T00:00:00.123456789Z");
    check_time(1764806400, 120000000, "2025-12-04T00:00:00.12Z");
    check_time(1764806400, 100, "2025-12-04T00:00:00.0000001Z");
    check_time(1764806400, 0, "2025-12-04T00:00:00Z");
}

static void test_bad_digests(void **state)
{
    (void)state;
    struct store st;
    _cleanup_err_ husk_err *err = NULL;
    struct blob_writer *w = NULL;
    assert_int_equal(store_open(root, &st, &err), 0);
    const char *bad[] = { "sha256:../../etc/passwd", "sha512:00", "sha256:ABC", "5891b5b522d5",
                          "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0/" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(blob_writer_new(&st, bad[i], &w, &err), -1);
        assert_null(w);
        assert_non_null(strstr(err->msg, bad[i]));
        assert_false(store_blob_exists(&st, bad[i]));
        husk_err_free(&err);
    }
    store_close(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_and_exists),
        cmocka_unit_test(test_streamed_and_mismatch),
        cmocka_unit_test(test_bad_digests),
        cmocka_unit_test(test_image_times),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
