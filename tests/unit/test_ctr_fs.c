/* test_ctr_fs.c — diff of the upper dir of ctr_fixture.h against its image; export
 * and cp on the merged rootfs (mounted by ctr_fs_open): docker's SRC/DEST rules, and
 * symlinks in the container (absolute, "../..", a tar's own) that must never reach
 * the host. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctr_fixture.h"
#include "ctr_fs.h"
#include "overlay.h"

static void test_diff(void **state)
{
    (void)state;
    fx_need_root();
    char *volumes[] = { "/vol/", "/newvol/data", NULL };
    /* the runtime's mount points (the image has none of them), and a new directory
     * that holds only a volume's mount point: not the container's changes */
    fx_run("mkdir -p %s/proc %s/dev/pts %s/sys %s/newvol/data", fx_upper, fx_upper, fx_upper, fx_upper);
    struct ctr_change *v = NULL;
    size_t n = 0;
    husk_err *err = NULL;
    if (ctr_fs_diff(&fx_st, fx_layers, fx_ctrdir, volumes, &v, &n, &err) < 0)
        fail_msg("%s", err->msg);
    char *out = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *s = xasprintf("%s%c %s\n", out, v[i].kind, v[i].path);
        free(out);
        out = s;
    }
    /* /etc: only etc/hosts changed there, which is never part of a diff; /vol: a volume */
    assert_string_equal(out, "C /a\n"
                             "D /a/x\n"
                             "C /d\n"
                             "A /d/w\n"
                             "C /f\n"
                             "A /h1\n"
                             "A /h2\n"
                             "A /new.txt\n"
                             "A /s\n");
    free(out);
    ctr_changes_free(v, n);

    /* without the volume: vol/data is new, /vol changed; a new dir lists what is in it */
    fx_run("mkdir -p %s/nd/sub && touch %s/nd/sub/f", fx_upper, fx_upper);
    assert_int_equal(ctr_fs_diff(&fx_st, fx_layers, fx_ctrdir, NULL, &v, &n, &err), 0);
    out = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *s = xasprintf("%s%c %s\n", out, v[i].kind, v[i].path);
        free(out);
        out = s;
    }
    assert_non_null(strstr(out, "A /nd\nA /nd/sub\nA /nd/sub/f\nA /new.txt\nA /newvol\nA /newvol/data\nA /s\nC /vol\nA /vol/data\n"));
    free(out);
    ctr_changes_free(v, n);
}

/* The names in a tar file, "name\n" each. */
static char *tar_names(const char *path)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
    char *out = xstrdup("");
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        char *s = xasprintf("%s%s\n", out, archive_entry_pathname(e));
        free(out);
        out = s;
    }
    archive_read_free(a);
    return out;
}

static void open_fs(struct ctr_fs *fs)
{
    husk_err *err = NULL;
    if (ctr_fs_open(&fx_st, fx_layers, fx_ctrdir, fs, &err) < 0)
        fail_msg("%s", err->msg);
}

static void test_export_and_mount(void **state)
{
    (void)state;
    fx_need_root();
    assert_false(overlay_mounted(fx_ctrdir));
    struct ctr_fs fs;
    open_fs(&fs);
    assert_true(fs.mounted_here);
    assert_true(overlay_mounted(fx_ctrdir));
    _cleanup_free_ char *out = xasprintf("%s/export.tar", fx_root);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    husk_err *err = NULL;
    assert_int_equal(ctr_fs_export(&fs, fd, &err), 0);
    close(fd);
    /* a second open finds the mount and leaves it to the first */
    struct ctr_fs fs2;
    open_fs(&fs2);
    assert_false(fs2.mounted_here);
    ctr_fs_close(&fs2);
    assert_true(overlay_mounted(fx_ctrdir));
    ctr_fs_close(&fs);
    assert_false(overlay_mounted(fx_ctrdir));

    _cleanup_free_ char *names = tar_names(out);
    assert_string_equal(names, "a/\na/keep\nd/\nd/w\ndev/\ndev/pts/\netc/\netc/hosts\netc/passwd\nf\nh1\nh2\nnew.txt\nproc/\ns\nsys/\nvol/\n"
                          "vol/data\n");
    fx_run("mkdir %s/x && tar -C %s/x -xf %s && grep -qx changed %s/x/f && test \"$(readlink %s/x/s)\" = /etc/passwd",
           fx_root, fx_root, out, fx_root, fx_root);
}

static int copy_out(struct ctr_fs *fs, const char *src, const char *dest, bool follow, husk_err **err)
{
    struct ctr_cp_opts o = { .follow_link = follow };
    return ctr_fs_copy_out(fs, src, dest, -1, &o, err);
}

static int copy_in(struct ctr_fs *fs, const char *src, const char *dest, bool archive, husk_err **err)
{
    struct ctr_cp_opts o = { .archive = archive };
    return ctr_fs_copy_in(fs, src, -1, dest, &o, err);
}

static void test_cp_out(void **state)
{
    (void)state;
    fx_need_root();
    struct ctr_fs fs;
    open_fs(&fs);
    _cleanup_free_ char *rootfs = xasprintf("%s/bundle/rootfs", fx_ctrdir);
    _cleanup_free_ char *h = xasprintf("%s/host", fx_root);
    fx_run("mkdir %s && cd %s && ln -s / esc && ln -s ../../../../../../../.. up && ln -s /a adir", h, rootfs);
    husk_err *err = NULL;
    char p[512];

    /* escapes: resolved in the container's root, so its /etc/passwd, not the host's */
    snprintf(p, sizeof(p), "%s/pw1", h);
    if (copy_out(&fs, "/esc/etc/passwd", p, false, &err) < 0)
        fail_msg("%s", err->msg);
    fx_run("grep -qx 'root:x:0:0::/:/bin/sh' %s/pw1", h);
    snprintf(p, sizeof(p), "%s/pw2", h);
    assert_int_equal(copy_out(&fs, "up/etc/passwd", p, false, &err), 0);
    fx_run("cmp %s/pw1 %s/pw2", h, h);
    /* a symlink is copied as itself; -L follows it (in the container) */
    snprintf(p, sizeof(p), "%s/sl", h);
    assert_int_equal(copy_out(&fs, "/s", p, false, &err), 0);
    fx_run("test \"$(readlink %s/sl)\" = /etc/passwd", h);
    snprintf(p, sizeof(p), "%s/sf", h);
    assert_int_equal(copy_out(&fs, "/s", p, true, &err), 0);
    fx_run("test -f %s/sf && cmp %s/sf %s/pw1", h, h, h);

    /* a dir into an existing dir: DEST/basename; "dir/." its contents; a missing DEST is made */
    assert_int_equal(copy_out(&fs, "/a", h, false, &err), 0);
    fx_run("test -f %s/a/keep && ! test -e %s/a/x", h, h);
    snprintf(p, sizeof(p), "%s/new", h);
    assert_int_equal(copy_out(&fs, "/a/.", p, false, &err), 0);
    fx_run("test -f %s/new/keep", h);
    fx_run("mkdir %s/ex", h);
    snprintf(p, sizeof(p), "%s/ex", h);
    assert_int_equal(copy_out(&fs, "/adir/.", p, false, &err), 0);
    fx_run("test -f %s/ex/keep && ! test -e %s/ex/a", h, h);
    /* a file onto a file replaces it; into a dir: DEST/basename */
    snprintf(p, sizeof(p), "%s/pw1", h);
    assert_int_equal(copy_out(&fs, "/f", p, false, &err), 0);
    fx_run("grep -qx changed %s/pw1", h);
    assert_int_equal(copy_out(&fs, "/f", h, false, &err), 0);
    fx_run("grep -qx changed %s/f", h);

    /* errors: one line naming the path, nothing made */
    snprintf(p, sizeof(p), "%s/missing/", h);
    assert_int_equal(copy_out(&fs, "/f", p, false, &err), -1);
    husk_err_free(&err);
    snprintf(p, sizeof(p), "%s/pw1", h);
    assert_int_equal(copy_out(&fs, "/a", p, false, &err), -1);
    husk_err_free(&err);
    assert_int_equal(copy_out(&fs, "/nope", h, false, &err), -1);
    assert_non_null(strstr(err->msg, "/nope"));
    husk_err_free(&err);
    assert_int_equal(copy_out(&fs, "/f/", h, false, &err), -1);
    husk_err_free(&err);
    fx_run("! test -e %s/missing && ! test -e %s/nope", h, h);

    /* "-": a tar of SRC on the fd */
    _cleanup_free_ char *tarp = xasprintf("%s/out.tar", fx_root);
    int fd = open(tarp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    struct ctr_cp_opts o = { 0 };
    assert_int_equal(ctr_fs_copy_out(&fs, "/a", "-", fd, &o, &err), 0);
    close(fd);
    _cleanup_free_ char *names = tar_names(tarp);
    assert_string_equal(names, "a/\na/keep\n");
    ctr_fs_close(&fs);
}

/* A tar file with a symlink "l" -> target, then "l/<name>", then (bad) an entry "bad". */
static void hostile_tar(const char *path, const char *target, const char *name, const char *bad)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "l");
    archive_entry_set_filetype(e, AE_IFLNK);
    archive_entry_set_perm(e, 0777);
    archive_entry_set_symlink(e, target);
    archive_write_header(a, e);
    archive_entry_clear(e);
    char *n = xasprintf("l/%s", name);
    archive_entry_set_pathname(e, n);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 3);
    archive_write_header(a, e);
    archive_write_data(a, "in\n", 3);
    free(n);
    if (bad) {
        archive_entry_clear(e);
        archive_entry_set_pathname(e, bad);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, 0);
        archive_write_header(a, e);
    }
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
}

static void test_cp_in(void **state)
{
    (void)state;
    fx_need_root();
    struct ctr_fs fs;
    open_fs(&fs);
    _cleanup_free_ char *rootfs = xasprintf("%s/bundle/rootfs", fx_ctrdir);
    _cleanup_free_ char *h = xasprintf("%s/host", fx_root);
    _cleanup_free_ char *tag = xasprintf("husk-cp-%d", (int)getpid());
    fx_run("mkdir -p %s/dir/sub && cd %s && echo data > file && echo s > dir/sub/x && chown 1234:1234 file && "
           "cd %s && ln -s / esc && ln -s ../../../../../../../.. up && mkdir tmp",
           h, h, rootfs);
    fx_run("! test -e /tmp/%s && ! test -e /%s", tag, tag);
    husk_err *err = NULL;
    char src[512], dst[512];
    snprintf(src, sizeof(src), "%s/file", h);

    /* symlinks in the container resolve in its root: never the host's /tmp or / */
    snprintf(dst, sizeof(dst), "/esc/tmp/%s", tag);
    if (copy_in(&fs, src, dst, false, &err) < 0)
        fail_msg("%s", err->msg);
    snprintf(dst, sizeof(dst), "up/%s", tag);
    assert_int_equal(copy_in(&fs, src, dst, false, &err), 0);
    fx_run("! test -e /tmp/%s && ! test -e /%s", tag, tag);
    fx_run("grep -qx data %s/tmp/%s && grep -qx data %s/%s", rootfs, tag, rootfs, tag);
    /* root-owned in the container, unless -a */
    fx_run("test \"$(stat -c %%u:%%g %s/%s)\" = 0:0", rootfs, tag);
    assert_int_equal(copy_in(&fs, src, "/owned", true, &err), 0);
    fx_run("test \"$(stat -c %%u:%%g %s/owned)\" = 1234:1234", rootfs);

    /* DEST a symlink to a file: the file it names in the container is replaced */
    _cleanup_free_ char *host_pw = fx_read("/etc/passwd");
    assert_int_equal(copy_in(&fs, src, "/s", false, &err), 0);
    fx_run("grep -qx data %s/etc/passwd && test -L %s/s", rootfs, rootfs);
    _cleanup_free_ char *host_pw2 = fx_read("/etc/passwd");
    assert_string_equal(host_pw, host_pw2);

    /* a dir into an existing dir, and its contents into a new one */
    snprintf(src, sizeof(src), "%s/dir", h);
    fx_run("touch -d 2001-01-01T00:00:00Z %s/dir/sub %s/dir", h, h);
    assert_int_equal(copy_in(&fs, src, "/tmp", false, &err), 0);
    fx_run("grep -qx s %s/tmp/dir/sub/x", rootfs);
    /* directory times as the source's, though entries were made in them after */
    fx_run("test $(stat -c %%Y %s/tmp/dir/sub) = 978307200 && test $(stat -c %%Y %s/tmp/dir) = 978307200", rootfs,
           rootfs);
    snprintf(src, sizeof(src), "%s/dir/.", h);
    assert_int_equal(copy_in(&fs, src, "/made", false, &err), 0);
    fx_run("grep -qx s %s/made/sub/x", rootfs);
    /* a dir onto a file: refused */
    snprintf(src, sizeof(src), "%s/dir", h);
    assert_int_equal(copy_in(&fs, src, "/f", false, &err), -1);
    husk_err_free(&err);

    /* "-": a tar whose own symlink points out: its entries still land in the container */
    _cleanup_free_ char *t1 = xasprintf("%s/t1.tar", fx_root), *t2 = xasprintf("%s/t2.tar", fx_root);
    hostile_tar(t1, "/", tag, NULL);
    int fd = open(t1, O_RDONLY);
    struct ctr_cp_opts o = { 0 };
    assert_int_equal(ctr_fs_copy_in(&fs, "-", fd, "/tmp", &o, &err), 0);
    close(fd);
    fx_run("test -L %s/tmp/l && grep -qx in %s/%s", rootfs, rootfs, tag);
    fx_run("! test -e /%s", tag);
    /* ".." in a name: refused, naming it */
    hostile_tar(t2, "/tmp", "y", "../../../../../../../../tmp/escape");
    fd = open(t2, O_RDONLY);
    assert_int_equal(ctr_fs_copy_in(&fs, "-", fd, "/tmp", &o, &err), -1);
    close(fd);
    assert_non_null(strstr(err->msg, "escape"));
    husk_err_free(&err);
    fx_run("! test -e /tmp/escape");
    /* "-" into something that is not a directory */
    fd = open(t1, O_RDONLY);
    assert_int_equal(ctr_fs_copy_in(&fs, "-", fd, "/f", &o, &err), -1);
    close(fd);
    husk_err_free(&err);
    ctr_fs_close(&fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_diff, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_export_and_mount, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cp_out, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cp_in, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
