/* test_paths.c — path_clean, and open_in_root/mkpath_in_root on a fake rootfs in a
 * temporary directory whose symlinks try to lead out of it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "paths.h"
#include "util.h"

/* ---- path_clean ------------------------------------------------------------ */

static void check_clean(const char *in, const char *want)
{
    char *got = path_clean(in);
    if (strcmp(got, want) != 0)
        fail_msg("path_clean(\"%s\") = \"%s\", want \"%s\"", in, got, want);
    free(got);
}

static void test_clean(void **state)
{
    (void)state;
    check_clean("/", "/");
    check_clean("", "/");
    check_clean("//", "/");
    check_clean("/proc", "/proc");
    check_clean("/proc/", "/proc");
    check_clean("//proc//sys///kernel", "/proc/sys/kernel");
    check_clean("/./proc/./sys/.", "/proc/sys");
    check_clean("/a/b/../c", "/a/c");
    check_clean("/a/b/../../c", "/c");
    check_clean("/..", "/");
    check_clean("/../../..", "/");
    check_clean("/../etc/passwd", "/etc/passwd");
    check_clean("/a/../../b/..", "/");
    check_clean("relative/path", "/relative/path");
    check_clean("./x", "/x");
    check_clean("../x", "/x");
    check_clean("/a/.../b", "/a/.../b");
    check_clean("/a/..b/.c", "/a/..b/.c");
    check_clean("/dev/pts/", "/dev/pts");
    check_clean("/a/b/c/../../../../../../d/e/./f/", "/d/e/f");
}

static void test_fd_path(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(fd_path(7, buf, sizeof(buf)), "/proc/self/fd/7");
    assert_string_equal(fd_path(12345, buf, sizeof(buf)), "/proc/self/fd/12345");
}

/* ---- a fake rootfs ---------------------------------------------------------- */

struct fixture {
    char dir[128];  /* <tmp>: holds root/ and outside/ */
    char root[256]; /* <tmp>/root */
    int rootfd;
};

static void path_of(const struct fixture *f, const char *rel, char *buf)
{
    snprintf(buf, PATH_MAX, "%s/%s", f->root, rel);
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char p[PATH_MAX];

    snprintf(f->dir, sizeof(f->dir), "/tmp/husk-test-paths-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
    mkdir(f->root, 0755);
    snprintf(p, sizeof(p), "%s/outside", f->dir);
    mkdir(p, 0755);

    /* root/etc is real, root/link-etc -> /etc (absolute: must mean root/etc),
     * root/up -> ../../.. (climbs: must stay at root), root/sub/out -> ../../outside
     * (relative, would reach <tmp>/outside on the host). */
    path_of(f, "etc", p);
    mkdir(p, 0755);
    path_of(f, "sub", p);
    mkdir(p, 0755);
    path_of(f, "link-etc", p);
    if (symlink("/etc", p) < 0)
        return -1;
    path_of(f, "up", p);
    if (symlink("../../..", p) < 0)
        return -1;
    path_of(f, "sub/out", p);
    if (symlink("../../outside", p) < 0)
        return -1;
    path_of(f, "dangling", p);
    if (symlink("/made/by/dangling", p) < 0)
        return -1;
    path_of(f, "afile", p);
    close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));

    f->rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (f->rootfd < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[PATH_MAX + 32];
    close(f->rootfd);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* The host path an fd really refers to. */
static void real_path(int fd, char *out)
{
    char link[32];
    ssize_t n = readlink(fd_path(fd, link, sizeof(link)), out, PATH_MAX - 1);
    assert_true(n > 0);
    out[n] = '\0';
}

static void test_open_in_root_symlinks(void **state)
{
    struct fixture *f = *state;
    char want[PATH_MAX], got[PATH_MAX];
    husk_err *err = NULL;

    /* link-etc -> /etc is the rootfs' etc */
    int fd = open_in_root(f->rootfd, "/link-etc", O_PATH, 0, &err);
    assert_true(fd >= 0);
    real_path(fd, got);
    path_of(f, "etc", want);
    assert_string_equal(got, want);
    close(fd);

    /* up -> ../../.. is the root itself */
    fd = open_in_root(f->rootfd, "up", O_PATH, 0, &err);
    assert_true(fd >= 0);
    real_path(fd, got);
    assert_string_equal(got, f->root);
    close(fd);

    /* "/" and "" are the root */
    fd = open_in_root(f->rootfd, "/", O_PATH, 0, &err);
    assert_true(fd >= 0);
    real_path(fd, got);
    assert_string_equal(got, f->root);
    close(fd);
    fd = open_in_root(f->rootfd, "", O_PATH, 0, &err);
    assert_true(fd >= 0);
    close(fd);

    /* sub/out -> ../../outside: clamped at the root, so root/outside: missing */
    fd = open_in_root(f->rootfd, "/sub/out", O_PATH, 0, &err);
    assert_int_equal(fd, -1);
    assert_non_null(err);
    assert_int_equal(err->errnum, ENOENT);
    assert_non_null(strstr(err->msg, "/sub/out"));
    husk_err_free(&err);

    /* a magic link is refused */
    fd = open_in_root(f->rootfd, "/proc/self/fd/0", O_PATH, 0, &err);
    assert_int_equal(fd, -1);
    husk_err_free(&err);

    /* O_CLOEXEC is always set */
    fd = open_in_root(f->rootfd, "/etc", O_PATH | O_DIRECTORY, 0, &err);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);

    /* creating works through openat2 too (mode passed only with O_CREAT) */
    fd = open_in_root(f->rootfd, "/link-etc/created", O_CREAT | O_WRONLY, 0600, &err);
    assert_true(fd >= 0);
    close(fd);
    path_of(f, "etc/created", want);
    assert_true(exists(want));
}

static void test_mkpath_symlink_to_etc(void **state)
{
    struct fixture *f = *state;
    char want[PATH_MAX], got[PATH_MAX];
    husk_err *err = NULL;

    /* The host's /etc is never touched: a rootfs' "/etc" is its own. */
    int fd = mkpath_in_root(f->rootfd, "/link-etc/husk-test-foo", false, &err);
    assert_true(fd >= 0);
    real_path(fd, got);
    path_of(f, "etc/husk-test-foo", want);
    assert_string_equal(got, want);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    close(fd);
    assert_false(exists("/etc/husk-test-foo"));

    fd = mkpath_in_root(f->rootfd, "/link-etc/d1/d2/d3", true, &err);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    real_path(fd, got);
    path_of(f, "etc/d1/d2/d3", want);
    assert_string_equal(got, want);
    close(fd);
    assert_false(exists("/etc/d1"));
}

static void test_mkpath_climbing(void **state)
{
    struct fixture *f = *state;
    char want[PATH_MAX], got[PATH_MAX];
    husk_err *err = NULL;

    /* up -> ../../.. : up/x is root/x */
    int fd = mkpath_in_root(f->rootfd, "/up/x", true, &err);
    assert_true(fd >= 0);
    real_path(fd, got);
    path_of(f, "x", want);
    assert_string_equal(got, want);
    close(fd);

    /* "../../.." written in the path itself stays inside too */
    fd = mkpath_in_root(f->rootfd, "/../../../y/z", true, &err);
    assert_true(fd >= 0);
    real_path(fd, got);
    path_of(f, "y/z", want);
    assert_string_equal(got, want);
    close(fd);

    /* sub/out -> ../../outside: created as root/outside/..., the host's
     * <tmp>/outside stays empty */
    fd = mkpath_in_root(f->rootfd, "/sub/out/evil", false, &err);
    assert_true(fd >= 0);
    real_path(fd, got);
    path_of(f, "outside/evil", want);
    assert_string_equal(got, want);
    close(fd);
    snprintf(want, sizeof(want), "%s/outside/evil", f->dir);
    assert_false(exists(want));
}

static void test_mkpath_existing_and_errors(void **state)
{
    struct fixture *f = *state;
    char want[PATH_MAX], got[PATH_MAX];
    husk_err *err = NULL;

    /* existing directory: returned as is */
    int fd = mkpath_in_root(f->rootfd, "/etc", true, &err);
    assert_true(fd >= 0);
    real_path(fd, got);
    path_of(f, "etc", want);
    assert_string_equal(got, want);
    close(fd);

    /* "/" is the root */
    fd = mkpath_in_root(f->rootfd, "/", true, &err);
    assert_true(fd >= 0);
    real_path(fd, got);
    assert_string_equal(got, f->root);
    close(fd);

    /* existing file, asked as a file: fine */
    fd = mkpath_in_root(f->rootfd, "/afile", false, &err);
    assert_true(fd >= 0);
    close(fd);

    /* a file where a directory is needed */
    fd = mkpath_in_root(f->rootfd, "/afile/below", true, &err);
    assert_int_equal(fd, -1);
    assert_int_equal(err->errnum, ENOTDIR);
    husk_err_free(&err);
    fd = mkpath_in_root(f->rootfd, "/afile", true, &err);
    assert_int_equal(fd, -1);
    assert_int_equal(err->errnum, ENOTDIR);
    husk_err_free(&err);

    /* a directory where a file is wanted */
    fd = mkpath_in_root(f->rootfd, "/etc", false, &err);
    assert_int_equal(fd, -1);
    assert_int_equal(err->errnum, EISDIR);
    husk_err_free(&err);

    /* the returned fd is O_PATH and close-on-exec */
    fd = mkpath_in_root(f->rootfd, "/new/dir", true, &err);
    assert_true(fd >= 0);
    int fl = fcntl(fd, F_GETFL);
    assert_true(fl & O_PATH);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
}

static void test_mkpath_dangling(void **state)
{
    struct fixture *f = *state;
    char want[PATH_MAX], got[PATH_MAX];
    husk_err *err = NULL;

    /* dangling -> /made/by/dangling: the target is created, inside the root */
    int fd = mkpath_in_root(f->rootfd, "/dangling/leaf", true, &err);
    assert_true(fd >= 0);
    real_path(fd, got);
    path_of(f, "made/by/dangling/leaf", want);
    assert_string_equal(got, want);
    close(fd);
    assert_false(exists("/made"));
}

static void test_mkpath_loop(void **state)
{
    struct fixture *f = *state;
    char p[PATH_MAX];
    husk_err *err = NULL;

    /* loop1 -> loop2 -> loop1: an error, not a hang */
    path_of(f, "loop1", p);
    assert_int_equal(symlink("loop2", p), 0);
    path_of(f, "loop2", p);
    assert_int_equal(symlink("loop1", p), 0);
    int fd = mkpath_in_root(f->rootfd, "/loop1/x", true, &err);
    assert_int_equal(fd, -1);
    assert_non_null(err);
    assert_int_equal(err->errnum, ELOOP);
    husk_err_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_fd_path),
        cmocka_unit_test_setup_teardown(test_open_in_root_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkpath_symlink_to_etc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkpath_climbing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkpath_existing_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkpath_dangling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkpath_loop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
