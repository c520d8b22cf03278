/* test_layer.c — layers: tar archives built here with libarchive's writer (plain,
 * gzip, zstd) unpacked with every entry type, whiteouts and opaque directories;
 * hostile archives refused (or contained) without anything outside the layer
 * changing; DiffIDs and ChainIDs; layer_ensure's store layout, lock and cleanup. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "layer.h"
#include "store.h"
#include "util.h"

/* ROOT: the test's temp dir, holding layer/ (where tars are unpacked), sentinel/
 * (next to it: hostile entries aim there, it must stay as the test made it) and
 * store/ (for layer_ensure). */
static char root[64];
static char layer_dir[128], sentinel[128], storedir[128];

static void run(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/husk-layer-test.XXXXXX");
    if (!mkdtemp(root))
        return -1;
    snprintf(layer_dir, sizeof(layer_dir), "%s/layer", root);
    snprintf(sentinel, sizeof(sentinel), "%s/sentinel", root);
    snprintf(storedir, sizeof(storedir), "%s/store", root);
    return mkdir(layer_dir, 0755) || mkdir(sentinel, 0755) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void need_root(void)
{
    if (geteuid() != 0)
        skip();   /* ownership, devices and trusted.* xattrs need root (make check is root) */
}

static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* ---- building archives -------------------------------------------------------- */

struct ent {
    const char *name;
    mode_t type;          /* AE_IFREG, ...; 0 with hard set */
    mode_t perm;
    const char *data;     /* regular files */
    const char *link;     /* symlink target, or hard link target with hard */
    bool hard;
    unsigned maj, min;
    unsigned uid, gid;
    time_t mtime;
    const char *xname;    /* one xattr */
    const void *xval;
    size_t xlen;
};

struct buf {
    char *p;
    size_t len, cap;
};

static la_ssize_t buf_write(struct archive *a, void *data, const void *p, size_t n)
{
    (void)a;
    struct buf *b = data;
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return (la_ssize_t)n;
}

static struct archive *writer(const char *filter)
{
    struct archive *w = archive_write_new();
    assert_non_null(w);
    if (strcmp(filter, "gzip") == 0)
        assert_int_equal(archive_write_add_filter_gzip(w), ARCHIVE_OK);
    else if (strcmp(filter, "zstd") == 0)
        assert_int_equal(archive_write_add_filter_zstd(w), ARCHIVE_OK);
    return w;
}

/* A plain (uncompressed) pax tar of the entries. */
static struct buf build_tar(const struct ent *ents, size_t n)
{
    struct buf b = { 0 };
    struct archive *w = writer("none");
    assert_int_equal(archive_write_set_format_pax(w), ARCHIVE_OK);
    assert_int_equal(archive_write_open(w, &b, NULL, buf_write, NULL), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        const struct ent *x = &ents[i];
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, x->name);
        archive_entry_set_uid(e, x->uid);
        archive_entry_set_gid(e, x->gid);
        archive_entry_set_mtime(e, x->mtime ? x->mtime : 1500000000, 0);
        if (x->hard) {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, x->perm ? x->perm : 0644);
            archive_entry_set_hardlink(e, x->link);
            archive_entry_set_size(e, 0);
        } else {
            archive_entry_set_filetype(e, x->type);
            archive_entry_set_perm(e, x->perm ? x->perm : (x->type == AE_IFDIR ? 0755 : 0644));
            if (x->type == AE_IFLNK)
                archive_entry_set_symlink(e, x->link);
            if (x->type == AE_IFCHR || x->type == AE_IFBLK) {
                archive_entry_set_rdevmajor(e, x->maj);
                archive_entry_set_rdevminor(e, x->min);
            }
            archive_entry_set_size(e, x->type == AE_IFREG && x->data ? (la_int64_t)strlen(x->data) : 0);
        }
        if (x->xname)
            archive_entry_xattr_add_entry(e, x->xname, x->xval, x->xlen);
        assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
        if (!x->hard && x->type == AE_IFREG && x->data)
            assert_int_equal(archive_write_data(w, x->data, strlen(x->data)), (la_ssize_t)strlen(x->data));
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(w), ARCHIVE_OK);
    archive_write_free(w);
    return b;
}

/* The tar compressed with filter ("none", "gzip", "zstd"): libarchive's raw format. */
static struct buf compress(const struct buf *tar, const char *filter)
{
    struct buf b = { 0 };
    if (strcmp(filter, "none") == 0) {
        b.p = xmalloc(tar->len);
        memcpy(b.p, tar->p, tar->len);
        b.len = b.cap = tar->len;
        return b;
    }
    struct archive *w = writer(filter);
    assert_int_equal(archive_write_set_format_raw(w), ARCHIVE_OK);
    assert_int_equal(archive_write_set_bytes_in_last_block(w, 1), ARCHIVE_OK);
    assert_int_equal(archive_write_open(w, &b, NULL, buf_write, NULL), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "layer.tar");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, (la_int64_t)tar->len);
    assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(w, tar->p, tar->len), (la_ssize_t)tar->len);
    archive_entry_free(e);
    assert_int_equal(archive_write_close(w), ARCHIVE_OK);
    archive_write_free(w);
    return b;
}

static int memfd_of(const struct buf *b)
{
    int fd = memfd_create("layer", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write_all(fd, b->p, b->len), (ssize_t)b->len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* Unpack ents (with filter) into a fresh layer_dir; returns the result, the error
 * in *err. */
static int unpack(const struct ent *ents, size_t n, const char *filter, char **diff_id, husk_err **err)
{
    run("rm -rf '%s' && mkdir '%s'", layer_dir, layer_dir);
    struct buf tar = build_tar(ents, n);
    struct buf z = compress(&tar, filter);
    int fd = memfd_of(&z);
    int dfd = open(layer_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    int r = layer_unpack_fd(fd, dfd, diff_id, NULL, err);
    close(dfd);
    close(fd);
    free(tar.p);
    free(z.p);
    return r;
}

static char *L(const char *rel)
{
    static char bufs[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", layer_dir, rel);
    return bufs[i];
}

/* ---- DiffID and ChainID ---------------------------------------------------- */

static char *sha256sum_of(const struct buf *b)
{
    _cleanup_free_ char *path = xasprintf("%s/t.tar", root);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(b->p, 1, b->len, f), b->len);
    fclose(f);
    _cleanup_free_ char *cmd = xasprintf("sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    char hex[65] = "";
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%64s", hex), 1);
    pclose(p);
    unlink(path);
    return xasprintf("sha256:%s", hex);
}

static void test_diff_id_is_sha256sum_of_the_tar(void **state)
{
    (void)state;
    struct ent ents[] = {
        { .name = "etc/", .type = AE_IFDIR, .uid = getuid(), .gid = getgid() },
        { .name = "etc/hello", .type = AE_IFREG, .data = "hello\n", .uid = getuid(), .gid = getgid() },
    };
    struct buf tar = build_tar(ents, 2);
    _cleanup_free_ char *want = sha256sum_of(&tar);
    const char *filters[] = { "none", "gzip", "zstd" };
    for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
        struct buf z = compress(&tar, filters[i]);
        if (strcmp(filters[i], "none") != 0)
            assert_true(z.len < tar.len);   /* really compressed */
        run("rm -rf '%s' && mkdir '%s'", layer_dir, layer_dir);
        int fd = memfd_of(&z);
        int dfd = open(layer_dir, O_RDONLY | O_DIRECTORY);
        _cleanup_free_ char *diff = NULL;
        uint64_t size = 0;
        _cleanup_err_ husk_err *err = NULL;
        int r = layer_unpack_fd(fd, dfd, &diff, &size, &err);
        if (r < 0)
            fail_msg("%s: %s", filters[i], err->msg);
        assert_string_equal(diff, want);
        assert_int_equal(size, 6);
        close(fd);
        close(dfd);
        free(z.p);
    }
    free(tar.p);
}

/* gzip as gzip(1) reads it: members one after another (`cat a.gz b.gz`), whatever
 * follows the last one that is not a gzip header ignored; a wrong CRC refused. */
static void test_gzip_members(void **state)
{
    (void)state;
    struct ent ents[] = {
        { .name = "etc/", .type = AE_IFDIR, .uid = getuid(), .gid = getgid() },
        { .name = "etc/hello", .type = AE_IFREG, .data = "hello\n", .uid = getuid(), .gid = getgid() },
    };
    struct buf tar = build_tar(ents, 2);
    _cleanup_free_ char *want = sha256sum_of(&tar);
    struct buf half1 = { tar.p, 700, 0 }, half2 = { tar.p + 700, tar.len - 700, 0 };
    struct buf z1 = compress(&half1, "gzip"), z2 = compress(&half2, "gzip");
    struct buf cat = { 0 };
    buf_write(NULL, &cat, z1.p, z1.len);
    buf_write(NULL, &cat, z2.p, z2.len);
    for (int trailing = 0; trailing < 2; trailing++) {
        if (trailing)
            buf_write(NULL, &cat, "\0\0\0\0garbage", 11);
        run("rm -rf '%s' && mkdir '%s'", layer_dir, layer_dir);
        int fd = memfd_of(&cat);
        int dfd = open(layer_dir, O_RDONLY | O_DIRECTORY);
        _cleanup_free_ char *diff = NULL;
        _cleanup_err_ husk_err *err = NULL;
        if (layer_unpack_fd(fd, dfd, &diff, NULL, &err) < 0)
            fail_msg("%s: %s", trailing ? "trailing bytes" : "two members", err->msg);
        assert_string_equal(diff, want);
        struct stat st;
        assert_int_equal(lstat(L("etc/hello"), &st), 0);
        assert_int_equal(st.st_size, 6);
        close(fd);
        close(dfd);
    }
    /* the CRC-32 of the uncompressed bytes is checked (the member's last 8 bytes) */
    z2.p[z2.len - 8] ^= 0x55;
    run("rm -rf '%s' && mkdir '%s'", layer_dir, layer_dir);
    struct buf bad = { 0 };
    buf_write(NULL, &bad, z1.p, z1.len);
    buf_write(NULL, &bad, z2.p, z2.len);
    int fd = memfd_of(&bad);
    int dfd = open(layer_dir, O_RDONLY | O_DIRECTORY);
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(layer_unpack_fd(fd, dfd, NULL, NULL, &err), -1);
    assert_int_equal(entries(layer_dir), 0);
    close(fd);
    close(dfd);
    free(bad.p);
    free(cat.p);
    free(z1.p);
    free(z2.p);
    free(tar.p);
}

static void test_chain_id(void **state)
{
    (void)state;
    const char *a = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const char *b = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    _cleanup_free_ char *c0 = layer_chain_id(NULL, a);
    assert_string_equal(c0, a);
    /* printf '%s %s' sha256:aaa… sha256:bbb… | sha256sum */
    _cleanup_free_ char *c1 = layer_chain_id(a, b);
    assert_string_equal(c1, "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
}

/* ---- every entry type ------------------------------------------------------ */

static const char cap_v2[20] = { 0x00, 0x00, 0x00, 0x02, 0x00, 0x04 }; /* cap_net_bind_service permitted */

static void test_every_entry_type(void **state)
{
    (void)state;
    need_root();
    struct ent ents[] = {
        { .name = "./", .type = AE_IFDIR, .perm = 0751 },
        { .name = "bin/", .type = AE_IFDIR, .perm = 0755, .mtime = 1000000000 },
        { .name = "bin/su", .type = AE_IFREG, .perm = 04755, .data = "#!su\n", .uid = 0, .gid = 0 },
        { .name = "bin/wall", .type = AE_IFREG, .perm = 02755, .data = "wall", .uid = 0, .gid = 5 },
        { .name = "bin/ping", .type = AE_IFREG, .perm = 0755, .data = "ping", .uid = 1000, .gid = 1000,
          .xname = "security.capability", .xval = cap_v2, .xlen = sizeof(cap_v2) },
        { .name = "bin/sh", .type = AE_IFLNK, .link = "/bin/busybox", .uid = 7, .gid = 8, .mtime = 1200000000 },
        { .name = "bin/su2", .hard = true, .link = "bin/su", .perm = 04755 },
        { .name = "bin/ping2", .hard = true, .link = "/bin/ping", .perm = 0755 },
        { .name = "tmp/", .type = AE_IFDIR, .perm = 01777, .mtime = 1100000000 },
        { .name = "home/u/", .type = AE_IFDIR, .perm = 02750, .uid = 1000, .gid = 1000,
          .xname = "user.note", .xval = "hi", .xlen = 2 },
        { .name = "dev/null", .type = AE_IFCHR, .perm = 0666, .maj = 1, .min = 3 },
        { .name = "dev/loop0", .type = AE_IFBLK, .perm = 0660, .maj = 7, .min = 0, .gid = 6 },
        { .name = "run/fifo", .type = AE_IFIFO, .perm = 0620 },
        { .name = "etc/.wh.gone", .type = AE_IFREG },
        { .name = "var/.wh..wh..opq", .type = AE_IFREG },
        { .name = "var/new", .type = AE_IFREG, .data = "new" },
        { .name = "/abs/file", .type = AE_IFREG, .data = "abs" },
        { .name = "twice", .type = AE_IFREG, .data = "first" },
        { .name = "twice", .type = AE_IFREG, .data = "second" },
        { .name = "dir2file/", .type = AE_IFDIR },
        { .name = "dir2file/x", .type = AE_IFREG, .data = "x" },
        { .name = "dir2file", .type = AE_IFREG, .data = "now a file" },
        { .name = ".wh..wh.plnk/123", .type = AE_IFREG, .data = "aufs" },
    };
    const char *filters[] = { "none", "gzip", "zstd" };
    for (size_t fi = 0; fi < ARRAY_SIZE(filters); fi++) {
        _cleanup_err_ husk_err *err = NULL;
        _cleanup_free_ char *diff = NULL;
        int r = unpack(ents, ARRAY_SIZE(ents), filters[fi], &diff, &err);
        if (r < 0)
            fail_msg("%s: %s", filters[fi], err->msg);
        struct stat st, st2;
        char buf[256];

        assert_int_equal(stat(layer_dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0751);
        assert_int_equal(stat(L("bin"), &st), 0);
        assert_int_equal(st.st_mtime, 1000000000);   /* set after its contents were made */
        assert_int_equal(stat(L("bin/su"), &st), 0);
        assert_int_equal(st.st_mode, S_IFREG | 04755);
        assert_int_equal(st.st_size, 5);
        assert_int_equal(st.st_mtime, 1500000000);
        assert_int_equal(stat(L("bin/wall"), &st), 0);
        assert_int_equal(st.st_mode, S_IFREG | 02755);
        assert_int_equal(st.st_gid, 5);
        assert_int_equal(stat(L("bin/ping"), &st), 0);
        assert_int_equal(st.st_uid, 1000);
        assert_int_equal(getxattr(L("bin/ping"), "security.capability", buf, sizeof(buf)), sizeof(cap_v2));
        assert_memory_equal(buf, cap_v2, sizeof(cap_v2));
        assert_int_equal(stat(L("bin/ping2"), &st2), 0);   /* an absolute target is the layer's */
        assert_int_equal(st.st_ino, st2.st_ino);
        /* the link leaves its target's setuid bit and capabilities as they are */
        assert_int_equal(getxattr(L("bin/ping2"), "security.capability", buf, sizeof(buf)), sizeof(cap_v2));
        assert_int_equal(lstat(L("bin/sh"), &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_int_equal(st.st_uid, 7);
        assert_int_equal(st.st_gid, 8);
        assert_int_equal(st.st_mtime, 1200000000);
        ssize_t n = readlink(L("bin/sh"), buf, sizeof(buf));
        assert_int_equal(n, 12);
        assert_memory_equal(buf, "/bin/busybox", 12);
        assert_int_equal(stat(L("bin/su"), &st), 0);
        assert_int_equal(stat(L("bin/su2"), &st2), 0);
        assert_int_equal(st.st_ino, st2.st_ino);
        assert_int_equal(st.st_nlink, 2);
        assert_int_equal(stat(L("tmp"), &st), 0);
        assert_int_equal(st.st_mode, S_IFDIR | 01777);
        assert_int_equal(st.st_mtime, 1100000000);
        assert_int_equal(stat(L("home/u"), &st), 0);
        assert_int_equal(st.st_mode, S_IFDIR | 02750);
        assert_int_equal(st.st_uid, 1000);
        assert_int_equal(getxattr(L("home/u"), "user.note", buf, sizeof(buf)), 2);
        assert_int_equal(stat(L("home"), &st), 0);   /* an implicit parent: docker's 0755 root */
        assert_int_equal(st.st_mode, S_IFDIR | 0755);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(lstat(L("dev/null"), &st), 0);
        assert_int_equal(st.st_mode, S_IFCHR | 0666);
        assert_int_equal(st.st_rdev, makedev(1, 3));
        assert_int_equal(lstat(L("dev/loop0"), &st), 0);
        assert_int_equal(st.st_mode, S_IFBLK | 0660);
        assert_int_equal(st.st_rdev, makedev(7, 0));
        assert_int_equal(st.st_gid, 6);
        assert_int_equal(lstat(L("run/fifo"), &st), 0);
        assert_int_equal(st.st_mode, S_IFIFO | 0620);
        /* whiteouts in overlayfs's format */
        assert_int_equal(lstat(L("etc/gone"), &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(0, 0));
        assert_int_equal(lstat(L("etc/.wh.gone"), &st), -1);
        assert_int_equal(getxattr(L("var"), "trusted.overlay.opaque", buf, sizeof(buf)), 1);
        assert_int_equal(buf[0], 'y');
        assert_int_equal(lstat(L("var/.wh..wh..opq"), &st), -1);
        assert_int_equal(stat(L("var/new"), &st), 0);
        /* a leading "/" is the layer's own path, as docker reads it */
        assert_int_equal(stat(L("abs/file"), &st), 0);
        /* a later entry replaces an earlier one */
        assert_int_equal(stat(L("twice"), &st), 0);
        assert_int_equal(st.st_size, 6);
        assert_int_equal(stat(L("dir2file"), &st), 0);
        assert_true(S_ISREG(st.st_mode));
        /* AUFS metadata is skipped */
        assert_int_equal(lstat(L(".wh..wh.plnk"), &st), -1);
    }
}

/* ---- hostile archives ------------------------------------------------------ */

/* /etc/passwd's link count and the sentinel dir (with its one file) as they were. */
static void assert_outside_untouched(nlink_t passwd_links)
{
    struct stat st;
    assert_int_equal(stat("/etc/passwd", &st), 0);
    assert_int_equal(st.st_nlink, passwd_links);
    assert_int_equal(entries(sentinel), 1);
    char buf[16] = "";
    _cleanup_free_ char *t = xasprintf("%s/target", sentinel);
    FILE *f = fopen(t, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "orig");
    assert_int_equal(stat(root, &st), 0);
    assert_int_equal(entries(root), 2);   /* layer, sentinel */
}

static void expect_refused(const struct ent *ents, size_t n, const char *msg, nlink_t passwd_links)
{
    const char *filters[] = { "none", "gzip" };
    for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
        _cleanup_err_ husk_err *err = NULL;
        int r = unpack(ents, n, filters[i], NULL, &err);
        if (r == 0)
            fail_msg("%s: \"%s\" was not refused", filters[i], ents[n - 1].name);
        if (!strstr(err->msg, msg))
            fail_msg("%s: error \"%s\" does not say \"%s\"", filters[i], err->msg, msg);
        assert_int_equal(entries(layer_dir), 0);   /* nothing half-made stays */
        assert_outside_untouched(passwd_links);
    }
}

static void test_hostile(void **state)
{
    (void)state;
    need_root();
    struct stat st;
    assert_int_equal(stat("/etc/passwd", &st), 0);
    nlink_t links = st.st_nlink;
    _cleanup_free_ char *target = xasprintf("%s/target", sentinel);
    FILE *f = fopen(target, "w");
    assert_non_null(f);
    fputs("orig", f);
    fclose(f);

    /* ../ climbs out of the layer dir to the sentinel next to it */
    struct ent up[] = { { .name = "../sentinel/x", .type = AE_IFREG, .data = "evil" } };
    expect_refused(up, 1, "entry \"../sentinel/x\": path leaves the layer", links);
    struct ent up2[] = { { .name = "a/../../sentinel/x", .type = AE_IFREG, .data = "evil" } };
    expect_refused(up2, 1, "entry \"a/../../sentinel/x\": path leaves the layer", links);

    /* a symlink to outside, then a write through it */
    struct ent through[] = {
        { .name = "a", .type = AE_IFLNK, .link = sentinel },
        { .name = "a/file", .type = AE_IFREG, .data = "evil" },
    };
    expect_refused(through, 2, "entry \"a/file\": path goes through a symlink", links);
    struct ent through_dots[] = {
        { .name = "a", .type = AE_IFLNK, .link = ".." },
        { .name = "a/sentinel/x", .type = AE_IFREG, .data = "evil" },
    };
    expect_refused(through_dots, 2, "path goes through a symlink", links);
    struct ent a_a[] = {
        { .name = "a", .type = AE_IFLNK, .link = ".." },
        { .name = "a/a/x", .type = AE_IFREG, .data = "evil" },
    };
    expect_refused(a_a, 2, "entry \"a/a/x\": path goes through a symlink", links);
    struct ent through_dir[] = {
        { .name = "a", .type = AE_IFLNK, .link = sentinel },
        { .name = "a/sub/", .type = AE_IFDIR },
    };
    expect_refused(through_dir, 2, "path goes through a symlink", links);
    struct ent wh_through[] = {
        { .name = "a", .type = AE_IFLNK, .link = sentinel },
        { .name = "a/.wh.target", .type = AE_IFREG },
    };
    expect_refused(wh_through, 2, "path goes through a symlink", links);
    struct ent opq_through[] = {
        { .name = "a", .type = AE_IFLNK, .link = sentinel },
        { .name = "a/.wh..wh..opq", .type = AE_IFREG },
    };
    expect_refused(opq_through, 2, "path goes through a symlink", links);
    /* the parent kept from one entry to the next (a), replaced by a symlink: the
     * entries after it are refused, not written into the old directory */
    struct ent kept_then_link[] = {
        { .name = "a/", .type = AE_IFDIR },
        { .name = "a/f", .type = AE_IFREG, .data = "ok" },
        { .name = "a/g", .type = AE_IFREG, .data = "ok" },
        { .name = "a", .type = AE_IFLNK, .link = sentinel },
        { .name = "a/h", .type = AE_IFREG, .data = "evil" },
    };
    expect_refused(kept_then_link, 5, "entry \"a/h\": path goes through a symlink", links);
    struct ent kept_then_up[] = {
        { .name = "a/b/", .type = AE_IFDIR },
        { .name = "a/b/f", .type = AE_IFREG, .data = "ok" },
        { .name = "a", .type = AE_IFLNK, .link = ".." },
        { .name = "a/b/x", .type = AE_IFREG, .data = "evil" },
    };
    expect_refused(kept_then_up, 4, "entry \"a/b/x\": path goes through a symlink", links);

    /* hard links to host files: absolute (the layer's own /etc/passwd, which it
     * does not have), climbing, through a symlinked directory */
    struct ent hl_abs[] = { { .name = "pw", .hard = true, .link = "/etc/passwd" } };
    expect_refused(hl_abs, 1, "entry \"pw\": hard link target \"/etc/passwd\": is not in the layer", links);
    struct ent hl_up[] = { { .name = "pw", .hard = true, .link = "../../../../../etc/passwd" } };
    expect_refused(hl_up, 1, "path leaves the layer", links);
    struct ent hl_sym[] = {
        { .name = "e", .type = AE_IFLNK, .link = "/etc" },
        { .name = "pw", .hard = true, .link = "e/passwd" },
    };
    expect_refused(hl_sym, 2, "entry \"pw\": hard link target \"e/passwd\": path goes through a symlink", links);
    struct ent hl_sent[] = {
        { .name = "s", .type = AE_IFLNK, .link = sentinel },
        { .name = "t", .hard = true, .link = "s/target" },
    };
    expect_refused(hl_sent, 2, "path goes through a symlink", links);

    /* the root replaced by a symlink; a whiteout of ".." */
    struct ent root_link[] = { { .name = "./", .type = AE_IFLNK, .link = "/" } };
    expect_refused(root_link, 1, "entry \"./\": the layer's root must be a directory", links);
    struct ent wh_dots[] = { { .name = "a/.wh..", .type = AE_IFREG } };
    expect_refused(wh_dots, 1, "entry \"a/.wh..\": whiteout of nothing", links);

    /* a control character in a name is escaped in the error line */
    struct ent nl[] = { { .name = "../x\ny", .type = AE_IFREG } };
    expect_refused(nl, 1, "entry \"../x\\x0ay\"", links);

    /* contained, not refused: a file replacing a symlink to outside replaces the
     * link itself; a directory replacing one too; an absolute name aimed at the
     * sentinel lands inside the layer */
    struct ent replace[] = {
        { .name = "s", .type = AE_IFLNK, .link = target },
        { .name = "s", .type = AE_IFREG, .data = "evil" },
        { .name = "d", .type = AE_IFLNK, .link = sentinel },
        { .name = "d/", .type = AE_IFDIR },
        { .name = "d/x", .type = AE_IFREG, .data = "evil" },
        { .name = target, .type = AE_IFREG, .data = "evil" },
        { .name = "h", .type = AE_IFLNK, .link = target },
        { .name = "h2", .hard = true, .link = "h" },   /* a link to the symlink itself */
    };
    _cleanup_err_ husk_err *err = NULL;
    if (unpack(replace, ARRAY_SIZE(replace), "zstd", NULL, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(lstat(L("s"), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 4);
    assert_int_equal(lstat(L("d"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(lstat(L(target + 1), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(lstat(L("h2"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(st.st_nlink, 2);
    assert_outside_untouched(links);
}

static void test_bad_streams(void **state)
{
    (void)state;
    struct ent ents[] = { { .name = "f", .type = AE_IFREG, .data = "0123456789", .uid = getuid(), .gid = getgid() } };
    struct buf tar = build_tar(ents, 1);
    struct buf z = compress(&tar, "gzip");
    const struct {
        const char *what;
        struct buf b;
        const char *msg;
    } cases[] = {
        { "truncated gzip", { z.p, z.len / 2, 0 }, "" },
        { "truncated tar", { tar.p, 700, 0 }, "" },
        { "not a tar", { (char *)"this is not a tar archive, not at all, no. this is not a tar archive", 68, 0 },
          "read the tar" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        run("rm -rf '%s' && mkdir '%s'", layer_dir, layer_dir);
        int fd = memfd_of(&cases[i].b);
        int dfd = open(layer_dir, O_RDONLY | O_DIRECTORY);
        _cleanup_err_ husk_err *err = NULL;
        if (layer_unpack_fd(fd, dfd, NULL, NULL, &err) == 0)
            fail_msg("%s was accepted", cases[i].what);
        assert_non_null(strstr(err->msg, cases[i].msg));
        assert_null(strchr(err->msg, '\n'));
        assert_int_equal(entries(layer_dir), 0);
        close(fd);
        close(dfd);
    }
    /* an empty stream is an empty layer, as docker reads it */
    run("rm -rf '%s' && mkdir '%s'", layer_dir, layer_dir);
    struct buf empty = { (char *)"", 0, 0 };
    int fd = memfd_of(&empty);
    int dfd = open(layer_dir, O_RDONLY | O_DIRECTORY);
    _cleanup_free_ char *diff = NULL;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(layer_unpack_fd(fd, dfd, &diff, NULL, &err), 0);
    assert_string_equal(diff, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* a stream that cannot be read is not an empty layer */
    husk_err_free(&err);
    assert_int_equal(layer_unpack_fd(dfd, dfd, NULL, NULL, &err), -1);
    assert_non_null(strstr(err->msg, "Is a directory"));
    husk_err_free(&err);
    /* a directory that is not empty is refused */
    close(fd);
    fd = memfd_of(&tar);
    assert_int_equal(mkdirat(dfd, "x", 0755), 0);
    assert_int_equal(layer_unpack_fd(fd, dfd, NULL, NULL, &err), -1);
    close(fd);
    close(dfd);
    free(tar.p);
    free(z.p);
}

/* ---- layer_ensure ------------------------------------------------------------ */

struct fixture {
    struct store st;
    char *blob;
    char *diff_id;
};

static void put_layer(struct fixture *fx, const struct ent *ents, size_t n, const char *filter)
{
    struct buf tar = build_tar(ents, n);
    struct buf z = compress(&tar, filter);
    _cleanup_err_ husk_err *err = NULL;
    assert_true(store_put_blob(&fx->st, z.p, z.len, &fx->blob, &err) >= 0);
    fx->diff_id = sha256_digest(tar.p, tar.len);
    free(tar.p);
    free(z.p);
}

static void fixture_open(struct fixture *fx)
{
    memset(fx, 0, sizeof(*fx));
    run("rm -rf '%s'", storedir);
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(store_open(storedir, &fx->st, &err), 0);
}

static void fixture_close(struct fixture *fx)
{
    free(fx->blob);
    free(fx->diff_id);
    store_close(&fx->st);
}

static size_t tmp_dirs(void)
{
    _cleanup_free_ char *dir = xasprintf("%s/layers", storedir);
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)))
        n += strncmp(e->d_name, ".tmp-", 5) == 0;
    closedir(d);
    return n;
}

static struct ent simple[] = {
    { .name = "bin/", .type = AE_IFDIR },
    { .name = "bin/hello", .type = AE_IFREG, .perm = 0755, .data = "hello world\n" },
};

/* A sparse file (GNU tar's --sparse): its holes stay holes, its size is the
 * entry's, a hole at the end included. */
static void test_sparse(void **state)
{
    (void)state;
    _cleanup_free_ char *src = xasprintf("%s/sparse-src", root);
    run("rm -rf '%s' && mkdir '%s' && cd '%s' && printf abcd >f && truncate -s 1048576 f &&"
        " printf x | dd of=f bs=1 seek=500000 conv=notrunc 2>/dev/null && tar --sparse -cf t.tar f",
        src, src, src);
    _cleanup_free_ char *tarp = xasprintf("%s/t.tar", src);
    int in = open(tarp, O_RDONLY | O_CLOEXEC);
    assert_true(in >= 0);
    run("rm -rf '%s' && mkdir '%s'", layer_dir, layer_dir);
    int dfd = open(layer_dir, O_RDONLY | O_DIRECTORY);
    _cleanup_err_ husk_err *err = NULL;
    if (layer_unpack_fd(in, dfd, NULL, NULL, &err) < 0)
        fail_msg("%s", err->msg);
    close(dfd);
    close(in);
    struct stat st;
    assert_int_equal(lstat(L("f"), &st), 0);
    assert_int_equal(st.st_size, 1048576);
    assert_true(st.st_blocks * 512 < 1048576);   /* holes, not zeros written */
    FILE *f = fopen(L("f"), "r");
    assert_non_null(f);
    char b[5] = "";
    assert_int_equal(fread(b, 1, 4, f), 4);
    assert_string_equal(b, "abcd");
    assert_int_equal(fseek(f, 500000, SEEK_SET), 0);
    assert_int_equal(fgetc(f), 'x');
    assert_int_equal(fgetc(f), 0);
    fclose(f);
    run("rm -rf '%s'", src);
}

/* A deep tree, its entries in tar order (down, then back up): each file lands in its
 * directory whichever directory the entry before it was in. */
static void test_deep_tree(void **state)
{
    (void)state;
    enum { DEPTH = 120 };
    struct ent ents[2 * DEPTH + 2];
    char names[2 * DEPTH + 2][2 * DEPTH + 16];
    size_t n = 0;
    char dir[2 * DEPTH + 8] = "";
    for (int i = 0; i < DEPTH; i++) {
        strcat(dir, "d/");
        snprintf(names[n], sizeof(names[n]), "%s", dir);
        ents[n] = (struct ent){ .name = names[n], .type = AE_IFDIR, .uid = getuid(), .gid = getgid() };
        n++;
        snprintf(names[n], sizeof(names[n]), "%sf", dir);
        ents[n] = (struct ent){ .name = names[n], .type = AE_IFREG, .data = "x", .uid = getuid(), .gid = getgid() };
        n++;
    }
    /* back up: a file in the first directory, then one at the root */
    ents[n++] = (struct ent){ .name = "d/g", .type = AE_IFREG, .data = "g", .uid = getuid(), .gid = getgid() };
    ents[n++] = (struct ent){ .name = "top", .type = AE_IFREG, .data = "t", .uid = getuid(), .gid = getgid() };
    _cleanup_err_ husk_err *err = NULL;
    if (unpack(ents, n, "gzip", NULL, &err) < 0)
        fail_msg("%s", err->msg);
    struct stat st;
    char rel[2 * DEPTH + 16] = "";
    for (int i = 0; i < DEPTH; i++) {
        strcat(rel, "d/");
        _cleanup_free_ char *f = xasprintf("%sf", rel);
        assert_int_equal(lstat(L(f), &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_size, 1);
    }
    assert_int_equal(lstat(L("d/g"), &st), 0);
    assert_int_equal(lstat(L("top"), &st), 0);
    assert_int_equal(entries(layer_dir), 2);   /* d and top */
    assert_int_equal(entries(L("d")), 3);      /* d, f and g */
}

/* Several layers of an image at once: each on top of the one before (the chain ids
 * as layer_ensure one by one makes them), every one unpacked; a bad one is the error. */
static void test_ensure_many(void **state)
{
    (void)state;
    need_root();
    struct fixture fx;
    fixture_open(&fx);
    enum { N = 5 };
    char *blobs[N + 1] = { 0 }, *diffs[N + 1] = { 0 };
    for (int i = 0; i < N; i++) {
        char name[32], data[32];
        snprintf(name, sizeof(name), "f%d", i);
        snprintf(data, sizeof(data), "layer %d\n", i);
        struct ent e[] = { { .name = name, .type = AE_IFREG, .data = data } };
        put_layer(&fx, e, 1, i % 2 ? "gzip" : "none");
        blobs[i] = steal_ptr(fx.blob);
        diffs[i] = steal_ptr(fx.diff_id);
    }
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *top = NULL;
    if (layer_ensure_many(&fx.st, blobs, diffs, N, &top, &err) < 0)
        fail_msg("%s", err->msg);
    char *chain = NULL;
    for (int i = 0; i < N; i++) {
        char *next = layer_chain_id(chain, diffs[i]);
        free(chain);
        chain = next;
        _cleanup_free_ char *diff = layer_diff_path(&fx.st, chain);
        _cleanup_free_ char *f = xasprintf("%s/f%d", diff, i);
        struct stat st;
        assert_int_equal(stat(f, &st), 0);
    }
    assert_string_equal(top, chain);
    free(chain);
    assert_int_equal(tmp_dirs(), 0);
    /* a diff id that does not fit its blob: that layer is named */
    free(diffs[3]);
    diffs[3] = xstrdup(diffs[0]);
    run("rm -rf '%s/layers'", storedir);
    _cleanup_free_ char *top2 = NULL;
    assert_int_equal(layer_ensure_many(&fx.st, blobs, diffs, N, &top2, &err), -1);
    assert_null(top2);
    assert_non_null(strstr(err->msg, blobs[3]));
    assert_non_null(strstr(err->msg, "diff id mismatch"));
    assert_int_equal(tmp_dirs(), 0);
    for (int i = 0; i < N; i++) {
        free(blobs[i]);
        free(diffs[i]);
    }
    fixture_close(&fx);
}

static void test_ensure(void **state)
{
    (void)state;
    need_root();
    struct fixture fx;
    fixture_open(&fx);
    put_layer(&fx, simple, ARRAY_SIZE(simple), "gzip");
    /* a leftover of a killed run, which nobody holds */
    _cleanup_free_ char *stale = xasprintf("%s/layers/.tmp-killed/diff/x", storedir);
    run("mkdir -p '%s' && touch '%s/f'", stale, stale);

    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *chain = NULL;
    if (layer_ensure(&fx.st, fx.blob, fx.diff_id, NULL, &chain, &err) < 0)
        fail_msg("%s", err->msg);
    assert_string_equal(chain, fx.diff_id);   /* the bottom layer's chain id is its diff id */
    assert_int_equal(tmp_dirs(), 0);

    _cleanup_free_ char *diff = layer_diff_path(&fx.st, chain);
    _cleanup_free_ char *want = xasprintf("%s/layers/%s/diff", storedir, chain + 7);
    assert_string_equal(diff, want);
    _cleanup_free_ char *hello = xasprintf("%s/bin/hello", diff);
    struct stat st;
    assert_int_equal(stat(hello, &st), 0);
    assert_int_equal(st.st_mode, S_IFREG | 0755);

    /* meta.json */
    _cleanup_free_ char *meta_path = xasprintf("%s/layers/%s/meta.json", storedir, chain + 7);
    _cleanup_free_ char *meta = NULL;
    assert_int_equal(read_file_at(AT_FDCWD, meta_path, 4096, &meta, NULL, &err), 0);
    _cleanup_free_ char *want_meta = xasprintf("{\"diffID\":\"%s\",\"size\":12,\"blob\":\"%s\"}", fx.diff_id, fx.blob);
    assert_string_equal(meta, want_meta);

    /* the short link resolves to diff */
    _cleanup_free_ char *link = NULL;
    assert_int_equal(layer_short_link(&fx.st, chain, &link, &err), 0);
    assert_int_equal(strlen(link), 2 + 26);
    assert_memory_equal(link, "l/", 2);
    _cleanup_free_ char *via = xasprintf("%s/%s/bin/hello", storedir, link);
    struct stat st2;
    assert_int_equal(stat(via, &st2), 0);
    assert_int_equal(st.st_ino, st2.st_ino);

    /* a second ensure finds it (a mark left in diff stays) */
    _cleanup_free_ char *mark = xasprintf("%s/mark", diff);
    run("touch '%s'", mark);
    _cleanup_free_ char *chain2 = NULL;
    assert_int_equal(layer_ensure(&fx.st, fx.blob, fx.diff_id, NULL, &chain2, &err), 0);
    assert_string_equal(chain2, chain);
    assert_int_equal(stat(mark, &st), 0);
    /* without a diff id too (it is learnt by unpacking) */
    _cleanup_free_ char *chain3 = NULL;
    assert_int_equal(layer_ensure(&fx.st, fx.blob, NULL, NULL, &chain3, &err), 0);
    assert_string_equal(chain3, chain);
    assert_int_equal(stat(mark, &st), 0);
    assert_int_equal(tmp_dirs(), 0);

    /* on top of a parent: chain id per the OCI image spec, meta.json names the parent */
    _cleanup_free_ char *top = NULL;
    assert_int_equal(layer_ensure(&fx.st, fx.blob, fx.diff_id, chain, &top, &err), 0);
    _cleanup_free_ char *want_top = layer_chain_id(chain, fx.diff_id);
    assert_string_equal(top, want_top);
    _cleanup_free_ char *top_meta_path = xasprintf("%s/layers/%s/meta.json", storedir, top + 7);
    _cleanup_free_ char *top_meta = NULL;
    assert_int_equal(read_file_at(AT_FDCWD, top_meta_path, 4096, &top_meta, NULL, &err), 0);
    _cleanup_free_ char *parent_key = xasprintf("\"parent\":\"%s\"", chain);
    assert_non_null(strstr(top_meta, parent_key));
    _cleanup_free_ char *top_link = NULL;
    assert_int_equal(layer_short_link(&fx.st, top, &top_link, &err), 0);
    assert_string_not_equal(top_link, link);
    fixture_close(&fx);
}

static void test_ensure_refuses(void **state)
{
    (void)state;
    need_root();
    struct fixture fx;
    fixture_open(&fx);
    put_layer(&fx, simple, ARRAY_SIZE(simple), "zstd");
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *chain = NULL;
    const char *other = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    /* the uncompressed tar does not hash to the image's diff id */
    assert_int_equal(layer_ensure(&fx.st, fx.blob, other, NULL, &chain, &err), -1);
    _cleanup_free_ char *want = xasprintf("layer %s: diff id mismatch", fx.blob);
    if (!strstr(err->msg, want))
        fail_msg("%s", err->msg);
    assert_null(chain);
    _cleanup_free_ char *layer = xasprintf("%s/layers/%s", storedir, other + 7);
    struct stat st;
    assert_int_equal(stat(layer, &st), -1);
    assert_int_equal(tmp_dirs(), 0);
    husk_err_free(&err);

    /* a blob that is not in the store; a malformed digest */
    assert_int_equal(layer_ensure(&fx.st, other, NULL, NULL, &chain, &err), -1);
    assert_non_null(strstr(err->msg, "not in the store"));
    husk_err_free(&err);
    assert_int_equal(layer_ensure(&fx.st, "sha256:../../x", NULL, NULL, &chain, &err), -1);
    husk_err_free(&err);

    /* a hostile layer: refused, naming the blob and the entry; nothing registered */
    struct ent evil[] = {
        { .name = "a", .type = AE_IFLNK, .link = sentinel },
        { .name = "a/x", .type = AE_IFREG, .data = "x" },
    };
    free(fx.blob);
    free(fx.diff_id);
    put_layer(&fx, evil, 2, "gzip");
    assert_int_equal(layer_ensure(&fx.st, fx.blob, fx.diff_id, NULL, &chain, &err), -1);
    _cleanup_free_ char *want2 = xasprintf("layer %s: entry \"a/x\": path goes through a symlink", fx.blob);
    assert_string_equal(err->msg, want2);
    _cleanup_free_ char *layer2 = xasprintf("%s/layers/%s", storedir, fx.diff_id + 7);
    assert_int_equal(stat(layer2, &st), -1);
    assert_int_equal(tmp_dirs(), 0);
    assert_int_equal(entries(sentinel), 0);
    _cleanup_free_ char *ldir = xasprintf("%s/l", storedir);
    DIR *d = opendir(ldir);   /* no short link either (l/ may not even exist) */
    if (d) {
        closedir(d);
        assert_int_equal(entries(ldir), 0);
    }
    fixture_close(&fx);
}

/* Two ensures of one layer: the second waits for the first's lock and then finds
 * the layer, rather than unpacking it again. */
static void test_ensure_waits_for_the_lock(void **state)
{
    (void)state;
    need_root();
    struct fixture fx;
    fixture_open(&fx);
    put_layer(&fx, simple, ARRAY_SIZE(simple), "gzip");
    _cleanup_free_ char *lock_path = xasprintf("%s/layers/%s.lock", storedir, fx.diff_id + 7);
    _cleanup_free_ char *layers = xasprintf("%s/layers", storedir);
    assert_int_equal(mkdir(layers, 0700), 0);
    int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert_true(lock >= 0);
    assert_int_equal(flock(lock, LOCK_EX), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        husk_err *err = NULL;
        char *chain = NULL;
        _exit(layer_ensure(&fx.st, fx.blob, fx.diff_id, NULL, &chain, &err) == 0 ? 0 : 1);
    }
    struct timespec ts = { 0, 300 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    int status;
    assert_int_equal(waitpid(pid, &status, WNOHANG), 0);   /* still waiting */
    _cleanup_free_ char *layer = xasprintf("%s/%s", layers, fx.diff_id + 7);
    struct stat st;
    assert_int_equal(stat(layer, &st), -1);
    assert_int_equal(tmp_dirs(), 0);   /* not unpacking either */

    /* "the first" makes the layer meanwhile: the child must find it, not unpack */
    _cleanup_free_ char *mark = xasprintf("%s/diff/made-by-first", layer);
    run("mkdir -p '%s/diff' && touch '%s' && echo AAAAAAAAAAAAAAAAAAAAAAAAAA > '%s/link'", layer, mark, layer);
    assert_int_equal(flock(lock, LOCK_UN), 0);
    close(lock);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    _cleanup_free_ char *hello = xasprintf("%s/diff/bin/hello", layer);
    assert_int_equal(stat(hello, &st), -1);   /* not unpacked a second time */
    assert_int_equal(stat(mark, &st), 0);
    fixture_close(&fx);
}

/* A .tmp-* dir whose maker is alive (holds its flock) is left alone. */
static void test_live_tmp_kept(void **state)
{
    (void)state;
    need_root();
    struct fixture fx;
    fixture_open(&fx);
    put_layer(&fx, simple, ARRAY_SIZE(simple), "none");
    _cleanup_free_ char *live = xasprintf("%s/layers/.tmp-alive", storedir);
    run("mkdir -p '%s/diff'", live);
    int fd = open(live, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *chain = NULL;
    assert_int_equal(layer_ensure(&fx.st, fx.blob, fx.diff_id, NULL, &chain, &err), 0);
    struct stat st;
    assert_int_equal(stat(live, &st), 0);
    close(fd);
    fixture_close(&fx);
}

static void test_remove(void **state)
{
    (void)state;
    need_root();
    struct fixture fx;
    fixture_open(&fx);
    put_layer(&fx, simple, ARRAY_SIZE(simple), "gzip");
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *chain = NULL;
    assert_int_equal(layer_ensure(&fx.st, fx.blob, fx.diff_id, NULL, &chain, &err), 0);
    _cleanup_free_ char *link = NULL;
    assert_int_equal(layer_short_link(&fx.st, chain, &link, &err), 0);
    _cleanup_free_ char *link_path = xasprintf("%s/%s", storedir, link);
    _cleanup_free_ char *layer = xasprintf("%s/layers/%s", storedir, chain + 7);
    struct stat st;
    assert_int_equal(lstat(link_path, &st), 0);
    if (layer_remove(&fx.st, chain, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(lstat(layer, &st), -1);
    assert_int_equal(lstat(link_path, &st), -1);
    assert_int_equal(tmp_dirs(), 0);
    assert_int_equal(layer_remove(&fx.st, chain, &err), 0);   /* gone already: fine */
    /* and it can be made again */
    _cleanup_free_ char *again = NULL;
    assert_int_equal(layer_ensure(&fx.st, fx.blob, fx.diff_id, NULL, &again, &err), 0);
    assert_int_equal(lstat(link_path, &st), 0);
    fixture_close(&fx);
}

/* A run killed at any point of an unpack (here: SIGKILL somewhere in a 64 MiB
 * layer) leaves nothing that counts as the layer; the next ensure completes it. */
static void test_killed_unpack(void **state)
{
    (void)state;
    need_root();
    struct fixture fx;
    fixture_open(&fx);
    size_t big = 64 << 20;
    char *zeros = xcalloc(1, big + 1);
    memset(zeros, 'z', big);
    struct ent ents[] = {
        { .name = "a/", .type = AE_IFDIR },
        { .name = "a/big", .type = AE_IFREG, .data = zeros },
        { .name = "b/", .type = AE_IFDIR },
        { .name = "b/last", .type = AE_IFREG, .data = "last" },
    };
    put_layer(&fx, ents, ARRAY_SIZE(ents), "gzip");
    free(zeros);
    _cleanup_free_ char *layer = xasprintf("%s/layers/%s", storedir, fx.diff_id + 7);
    struct stat st;
    for (int delay_ms = 5; delay_ms <= 45; delay_ms += 20) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            husk_err *err = NULL;
            char *chain = NULL;
            _exit(layer_ensure(&fx.st, fx.blob, fx.diff_id, NULL, &chain, &err) == 0 ? 0 : 1);
        }
        struct timespec ts = { 0, delay_ms * 1000 * 1000 };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status)) {   /* finished before the kill: whole */
            _cleanup_free_ char *last = xasprintf("%s/diff/b/last", layer);
            assert_int_equal(stat(last, &st), 0);
            continue;
        }
        assert_int_equal(stat(layer, &st), -1);   /* never a half layer under its name */
    }
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *chain = NULL;
    assert_int_equal(layer_ensure(&fx.st, fx.blob, fx.diff_id, NULL, &chain, &err), 0);
    assert_int_equal(tmp_dirs(), 0);
    _cleanup_free_ char *bigp = xasprintf("%s/diff/a/big", layer);
    assert_int_equal(stat(bigp, &st), 0);
    assert_int_equal(st.st_size, (off_t)big);
    fixture_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_diff_id_is_sha256sum_of_the_tar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sparse, setup, teardown),
        cmocka_unit_test(test_chain_id),
        cmocka_unit_test_setup_teardown(test_every_entry_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure_waits_for_the_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_tmp_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_unpack, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
