/* ctr_fixture.h — for test_commit.c and test_ctr_fs.c: a store with an image
 * imported from a small rootfs, and a container directory whose upper dir holds
 * the changes overlayfs would have made (built by hand: no mount needed).
 *
 *   image "base:t":  a/x a/keep  d/old  etc/passwd  f ("base")  vol/
 *   upper:           a/x whiteout (char 0/0); d opaque, d/w; f ("changed");
 *                    new.txt (xattr user.test=v); h1 + h2 (hard links); s -> /etc/passwd;
 *                    etc/hosts, proc, dev/pts, sys (the runtime's mount points: always
 *                    left out); vol/data (left out as a volume) */
#ifndef TEST_CTR_FIXTURE_H
#define TEST_CTR_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image.h"
#include "image_import.h"
#include "store.h"
#include "util.h"

#define CTR_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char fx_root[64], fx_store[128], fx_ctrdir[256], fx_upper[300];
static struct store fx_st;
static char **fx_layers;   /* the image's chain ids */

static void fx_run(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

__attribute__((unused)) static void fx_write(const char *path, const char *data)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(data, f);
    fclose(f);
}

__attribute__((unused)) static char *fx_read(const char *path)
{
    char *s = NULL;
    size_t len;
    husk_err *err = NULL;
    if (read_file_at(AT_FDCWD, path, 1 << 20, &s, &len, &err) < 0) {
        husk_err_free(&err);
        return NULL;
    }
    return s;
}

static int fx_setup(void **state)
{
    (void)state;
    if (geteuid() != 0)
        return 0;   /* every test skips */
    strcpy(fx_root, "/tmp/husk-ctr-test.XXXXXX");
    if (!mkdtemp(fx_root))
        return -1;
    snprintf(fx_store, sizeof(fx_store), "%s/store", fx_root);
    snprintf(fx_ctrdir, sizeof(fx_ctrdir), "%s/containers/" CTR_ID, fx_store);
    snprintf(fx_upper, sizeof(fx_upper), "%s/upper", fx_ctrdir);
    husk_err *err = NULL;
    if (store_open(fx_store, &fx_st, &err) < 0)
        return -1;
    /* the image */
    fx_run("cd %s && mkdir -p rootfs/a rootfs/d rootfs/etc rootfs/vol && echo x > rootfs/a/x && echo k > rootfs/a/keep"
           " && echo o > rootfs/d/old && echo root:x:0:0::/:/bin/sh > rootfs/etc/passwd && echo base > rootfs/f"
           " && tar -C rootfs -cf base.tar .",
           fx_root);
    char *tarp = xasprintf("%s/base.tar", fx_root);
    struct image_import_args ia = { .path = tarp, .ref = "base:t" };
    char *id = NULL;
    int r = image_import(&fx_st, &ia, &id, &err);
    free(tarp);
    free(id);
    if (r < 0) {
        fprintf(stderr, "import: %s\n", err->msg);
        return -1;
    }
    struct image_record rec;
    if (image_lookup(&fx_st, "base:t", &rec, &err) < 0)
        return -1;
    fx_layers = steal_ptr(rec.layers);
    image_record_free(&rec);
    /* the container's changes */
    fx_run("mkdir -p %s/a %s/d %s/etc %s/vol %s/work && cd %s && echo w > d/w && echo changed > f && echo hello > new.txt"
           " && echo hl > h1 && ln h1 h2 && ln -s /etc/passwd s && echo 127.0.0.1 me > etc/hosts && echo v > vol/data"
           " && mknod a/x c 0 0 && mkdir -p proc dev/pts sys",
           fx_upper, fx_upper, fx_upper, fx_upper, fx_ctrdir, fx_upper);
    _cleanup_free_ char *d = xasprintf("%s/d", fx_upper), *n = xasprintf("%s/new.txt", fx_upper);
    if (setxattr(d, "trusted.overlay.opaque", "y", 1, 0) < 0 || setxattr(n, "user.test", "v", 1, 0) < 0)
        return -1;
    /* directories copied up keep the lower's mode (as overlayfs copies them up) */
    fx_run("cd %s && chmod --reference=%s/rootfs/a a && chmod --reference=%s/rootfs/etc etc && "
           "chmod --reference=%s/rootfs/vol vol",
           fx_upper, fx_root, fx_root, fx_root);
    return 0;
}

static int fx_teardown(void **state)
{
    (void)state;
    if (geteuid() != 0)
        return 0;
    strv_free(fx_layers);
    fx_layers = NULL;
    store_close(&fx_st);
    _cleanup_free_ char *cmd = xasprintf("umount -l %s/bundle/rootfs 2>/dev/null; rm -rf '%s'", fx_ctrdir, fx_root);
    return system(cmd) == 0 ? 0 : -1;
}

static void fx_need_root(void)
{
    if (geteuid() != 0)
        skip();   /* devices, trusted.* xattrs and mounts need root (make check is root) */
}

#endif
