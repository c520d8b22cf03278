/* test_overlay.c — overlay_mount of an image of 120 layers (more than absolute
 * lowerdir paths could fit in mount(2)'s one page of options), built here as layer
 * tars in the store: the merged view is the top layer's, a lower layer's whiteout
 * hides a file, writes go to the upper dir; a second mount is a no-op; a busy
 * mount is detached; a missing layer is an error naming it. Needs root and
 * overlayfs (skipped otherwise). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "layer.h"
#include "overlay.h"
#include "store.h"
#include "util.h"

#define N_LAYERS 120

static char root[64], storedir[128], ctrdir[256];

static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/husk-overlay-test.XXXXXX");
    if (!mkdtemp(root))
        return -1;
    snprintf(storedir, sizeof(storedir), "%s/store", root);
    snprintf(ctrdir, sizeof(ctrdir), "%s/containers/abcdef", storedir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    _cleanup_free_ char *cmd = xasprintf("umount -l %s/bundle/rootfs 2>/dev/null; rm -rf '%s'", ctrdir, root);
    return system(cmd) == 0 ? 0 : -1;
}

static bool have_overlay(void)
{
    if (geteuid() != 0)
        return false;
    _cleanup_free_ char *fs = NULL;
    size_t len;
    husk_err *err = NULL;
    if (read_file_at(AT_FDCWD, "/proc/filesystems", 1 << 16, &fs, &len, &err) < 0) {
        husk_err_free(&err);
        return false;
    }
    return strstr(fs, "\toverlay\n") != NULL;
}

struct membuf {
    char *p;
    size_t len;
};

static la_ssize_t mem_write(struct archive *a, void *data, const void *buf, size_t len)
{
    (void)a;
    struct membuf *m = data;
    m->p = xrealloc(m->p, m->len + len);
    memcpy(m->p + m->len, buf, len);
    m->len += len;
    return (la_ssize_t)len;
}

static void add_file(struct archive *a, const char *name, const char *data)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)strlen(data));
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    archive_write_data(a, data, strlen(data));
    archive_entry_free(e);
}

/* Layer i: f<i> and top hold "i"; layer 60 also deletes f0. */
static char *make_layer(struct store *st, int i, const char *parent)
{
    struct membuf m = { 0 };
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open2(a, &m, NULL, mem_write, NULL, NULL), ARCHIVE_OK);
    char name[32], data[32];
    snprintf(name, sizeof(name), "f%d", i);
    snprintf(data, sizeof(data), "%d\n", i);
    add_file(a, name, data);
    add_file(a, "top", data);
    if (i == 60)
        add_file(a, ".wh.f0", "");
    archive_write_close(a);
    archive_write_free(a);
    husk_err *err = NULL;
    char *digest = NULL, *chain = NULL;
    assert_true(store_put_blob(st, m.p, m.len, &digest, &err) >= 0);
    free(m.p);
    if (layer_ensure(st, digest, digest, parent, &chain, &err) < 0)
        fail_msg("%s", err->msg);
    free(digest);
    return chain;
}

static char *rootfs_read(const char *name)
{
    _cleanup_free_ char *p = xasprintf("%s/bundle/rootfs/%s", ctrdir, name);
    char *s = NULL;
    size_t len;
    husk_err *err = NULL;
    if (read_file_at(AT_FDCWD, p, 4096, &s, &len, &err) < 0) {
        husk_err_free(&err);
        return NULL;
    }
    return s;
}

static void test_mount_120_layers(void **state)
{
    (void)state;
    if (!have_overlay())
        skip();
    struct store st;
    husk_err *err = NULL;
    assert_int_equal(store_open(storedir, &st, &err), 0);
    assert_int_equal(mkdir_p(ctrdir, 0700, &err), 0);
    char *layers[N_LAYERS + 1] = { 0 };
    for (int i = 0; i < N_LAYERS; i++)
        layers[i] = make_layer(&st, i, i ? layers[i - 1] : NULL);

    if (overlay_mount(&st, layers, ctrdir, &err) < 0)
        fail_msg("%s", err->msg);
    assert_true(overlay_mounted(ctrdir));
    char *s = rootfs_read("top");
    assert_string_equal(s, "119\n");
    free(s);
    s = rootfs_read("f1");
    assert_string_equal(s, "1\n");
    free(s);
    s = rootfs_read("f119");
    assert_string_equal(s, "119\n");
    free(s);
    assert_null(rootfs_read("f0"));   /* layer 60's whiteout */
    /* the working directory is where it was */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_null(strstr(cwd, storedir));

    /* writes land in the upper dir, never in a layer */
    _cleanup_free_ char *nw = xasprintf("%s/bundle/rootfs/top", ctrdir);
    FILE *f = fopen(nw, "w");
    assert_non_null(f);
    fputs("new\n", f);
    fclose(f);
    _cleanup_free_ char *up = xasprintf("%s/upper/top", ctrdir);
    struct stat sb;
    assert_int_equal(stat(up, &sb), 0);
    _cleanup_free_ char *l119 = layer_diff_path(&st, layers[N_LAYERS - 1]);
    _cleanup_free_ char *l119top = xasprintf("%s/top", l119);
    char *t = NULL;
    size_t len;
    assert_int_equal(read_file_at(AT_FDCWD, l119top, 64, &t, &len, &err), 0);
    assert_string_equal(t, "119\n");
    free(t);

    /* mounted already: left as it is */
    assert_int_equal(overlay_mount(&st, layers, ctrdir, &err), 0);
    s = rootfs_read("top");
    assert_string_equal(s, "new\n");
    free(s);

    /* busy (an open directory in it): detached */
    _cleanup_free_ char *rootfs = xasprintf("%s/bundle/rootfs", ctrdir);
    int busy = open(rootfs, O_RDONLY | O_DIRECTORY);
    assert_true(busy >= 0);
    assert_int_equal(overlay_unmount(ctrdir, &err), 0);
    assert_false(overlay_mounted(ctrdir));
    close(busy);
    /* not mounted: fine */
    assert_int_equal(overlay_unmount(ctrdir, &err), 0);

    /* mounted again: the changes are kept in the upper dir */
    assert_int_equal(overlay_mount(&st, layers, ctrdir, &err), 0);
    s = rootfs_read("top");
    assert_string_equal(s, "new\n");
    free(s);
    assert_int_equal(overlay_unmount(ctrdir, &err), 0);

    /* a layer that is not in the store */
    char *bad[] = { layers[0], "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL };
    assert_int_equal(overlay_mount(&st, bad, ctrdir, &err), -1);
    assert_non_null(strstr(err->msg, "0123456789abcdef"));
    husk_err_free(&err);
    assert_false(overlay_mounted(ctrdir));
    char *none[] = { NULL };
    assert_int_equal(overlay_mount(&st, none, ctrdir, &err), -1);
    husk_err_free(&err);

    for (int i = 0; i < N_LAYERS; i++)
        free(layers[i]);
    store_close(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mount_120_layers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
