/* test_mount_opts.c — mount_opts_parse: the runc/crun option table, override order,
 * propagation, recursive (mount_setattr) options and filesystem data;
 * mounts_has_destination, mounts_dev_readonly; the idmap checks of mount_sources.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "mount_sources.h"
#include "mounts.h"

/* Parse a NULL-terminated list given inline. */
#define PARSE(o, ...)                                                                              \
    do {                                                                                           \
        char *_v[] = { __VA_ARGS__, NULL };                                                        \
        mount_opts_parse(_v, (o));                                                                 \
    } while (0)

static void assert_empty(const struct mount_opts *o)
{
    assert_int_equal(o->flags, 0);
    assert_int_equal(o->clear, 0);
    assert_int_equal(o->propagation, 0);
    assert_false(o->bind);
    assert_false(o->rbind);
    assert_false(o->recursive_ro);
    assert_false(o->has_atime_attr);
    assert_int_equal(o->attr_set, 0);
    assert_int_equal(o->attr_clr, 0);
    assert_false(o->idmap);
    assert_false(o->ridmap);
    assert_false(o->tmpcopyup);
    assert_null(o->data);
}

static void test_null_and_empty(void **state)
{
    (void)state;
    struct mount_opts o;
    mount_opts_parse(NULL, &o);
    assert_empty(&o);
    mount_opts_free(&o);

    char *none[] = { NULL };
    mount_opts_parse(none, &o);
    assert_empty(&o);
    mount_opts_free(&o);

    PARSE(&o, "", "defaults", "");
    assert_empty(&o);
    mount_opts_free(&o);
}

/* Every simple flag option: name → flag set, its opposite → flag cleared. */
static void test_flag_table(void **state)
{
    (void)state;
    static const struct { const char *set, *clr; unsigned long flag; } t[] = {
        { "ro", "rw", MS_RDONLY },
        { "nosuid", "suid", MS_NOSUID },
        { "nodev", "dev", MS_NODEV },
        { "noexec", "exec", MS_NOEXEC },
        { "sync", "async", MS_SYNCHRONOUS },
        { "mand", "nomand", MS_MANDLOCK },
        { "noatime", "atime", MS_NOATIME },
        { "nodiratime", "diratime", MS_NODIRATIME },
        { "relatime", "norelatime", MS_RELATIME },
        { "strictatime", "nostrictatime", MS_STRICTATIME },
        { "lazytime", "nolazytime", MS_LAZYTIME },
        { "iversion", "noiversion", MS_I_VERSION },
        { "silent", "loud", MS_SILENT },
        { "nosymfollow", "symfollow", MS_NOSYMFOLLOW },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct mount_opts o;
        char *a[] = { (char *)t[i].set, NULL };
        mount_opts_parse(a, &o);
        if (o.flags != t[i].flag || o.clear != 0 || o.data != NULL)
            fail_msg("%s: flags %#lx clear %#lx", t[i].set, o.flags, o.clear);
        mount_opts_free(&o);

        char *b[] = { (char *)t[i].clr, NULL };
        mount_opts_parse(b, &o);
        if (o.clear != t[i].flag || o.flags != 0 || o.data != NULL)
            fail_msg("%s: flags %#lx clear %#lx", t[i].clr, o.flags, o.clear);
        mount_opts_free(&o);
    }
}

static void test_set_only_flags(void **state)
{
    (void)state;
    struct mount_opts o;
    PARSE(&o, "dirsync");
    assert_int_equal(o.flags, MS_DIRSYNC);
    mount_opts_free(&o);
    PARSE(&o, "remount");
    assert_int_equal(o.flags, MS_REMOUNT);
    mount_opts_free(&o);
}

static void test_typical_sets(void **state)
{
    (void)state;
    struct mount_opts o;

    /* docker's /proc, /sys and /dev */
    PARSE(&o, "nosuid", "noexec", "nodev");
    assert_int_equal(o.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV);
    assert_null(o.data);
    mount_opts_free(&o);

    PARSE(&o, "nosuid", "strictatime", "mode=755", "size=65536k");
    assert_int_equal(o.flags, MS_NOSUID | MS_STRICTATIME);
    assert_string_equal(o.data, "mode=755,size=65536k");
    mount_opts_free(&o);

    PARSE(&o, "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5");
    assert_int_equal(o.flags, MS_NOSUID | MS_NOEXEC);
    assert_string_equal(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    mount_opts_free(&o);

    PARSE(&o, "nosuid", "noexec", "nodev", "relatime", "ro");
    assert_int_equal(o.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);
    assert_null(o.data);
    mount_opts_free(&o);

    PARSE(&o, "rbind", "rprivate", "ro");
    assert_true(o.rbind);
    assert_false(o.bind);
    assert_int_equal(o.propagation, MS_PRIVATE | MS_REC);
    assert_int_equal(o.flags, MS_RDONLY);
    assert_null(o.data);
    mount_opts_free(&o);
}

static void test_bind_flags_not_in_flags(void **state)
{
    (void)state;
    struct mount_opts o;
    PARSE(&o, "bind");
    assert_true(o.bind);
    assert_false(o.rbind);
    assert_int_equal(o.flags, 0);
    mount_opts_free(&o);

    PARSE(&o, "bind", "rbind");
    assert_true(o.bind);
    assert_true(o.rbind);
    assert_int_equal(o.flags, 0);
    mount_opts_free(&o);
}

static void test_override_order(void **state)
{
    (void)state;
    struct mount_opts o;

    PARSE(&o, "ro", "rw");
    assert_int_equal(o.flags, 0);
    assert_int_equal(o.clear, MS_RDONLY);
    mount_opts_free(&o);

    PARSE(&o, "rw", "ro");
    assert_int_equal(o.flags, MS_RDONLY);
    assert_int_equal(o.clear, 0);
    mount_opts_free(&o);

    PARSE(&o, "nosuid", "suid", "nodev", "exec", "noexec");
    assert_int_equal(o.flags, MS_NODEV | MS_NOEXEC);
    assert_int_equal(o.clear, MS_NOSUID);
    mount_opts_free(&o);

    PARSE(&o, "defaults", "ro", "defaults");
    assert_int_equal(o.flags, MS_RDONLY);
    mount_opts_free(&o);
}

static void test_propagation(void **state)
{
    (void)state;
    static const struct { const char *name; unsigned long prop; } t[] = {
        { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
        { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
        { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
        { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct mount_opts o;
        char *a[] = { (char *)t[i].name, NULL };
        mount_opts_parse(a, &o);
        if (o.propagation != t[i].prop || o.flags || o.clear || o.data)
            fail_msg("%s: propagation %#lx", t[i].name, o.propagation);
        mount_opts_free(&o);
    }

    /* the last propagation option wins */
    struct mount_opts o;
    PARSE(&o, "rshared", "private");
    assert_int_equal(o.propagation, MS_PRIVATE);
    mount_opts_free(&o);
}

static void test_recursive_attrs(void **state)
{
    (void)state;
    static const struct { const char *set, *clr; unsigned long attr; } t[] = {
        { "rro", "rrw", MOUNT_ATTR_RDONLY },
        { "rnosuid", "rsuid", MOUNT_ATTR_NOSUID },
        { "rnodev", "rdev", MOUNT_ATTR_NODEV },
        { "rnoexec", "rexec", MOUNT_ATTR_NOEXEC },
        { "rnodiratime", "rdiratime", MOUNT_ATTR_NODIRATIME },
        { "rnosymfollow", "rsymfollow", MOUNT_ATTR_NOSYMFOLLOW },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct mount_opts o;
        char *a[] = { (char *)t[i].set, NULL };
        mount_opts_parse(a, &o);
        if (o.attr_set != t[i].attr || o.attr_clr != 0 || o.flags || o.clear || o.data || o.has_atime_attr)
            fail_msg("%s: set %#lx clr %#lx", t[i].set, o.attr_set, o.attr_clr);
        mount_opts_free(&o);

        char *b[] = { (char *)t[i].clr, NULL };
        mount_opts_parse(b, &o);
        if (o.attr_clr != t[i].attr || o.attr_set != 0 || o.flags || o.clear || o.data)
            fail_msg("%s: set %#lx clr %#lx", t[i].clr, o.attr_set, o.attr_clr);
        mount_opts_free(&o);
    }

    struct mount_opts o;
    PARSE(&o, "rro");
    assert_true(o.recursive_ro);
    mount_opts_free(&o);
    PARSE(&o, "rro", "rrw");
    assert_false(o.recursive_ro);
    assert_int_equal(o.attr_set, 0);
    assert_int_equal(o.attr_clr, MOUNT_ATTR_RDONLY);
    mount_opts_free(&o);
    PARSE(&o, "rrw", "rro", "rnosuid", "rnodev");
    assert_true(o.recursive_ro);
    assert_int_equal(o.attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    assert_int_equal(o.attr_clr, 0);
    mount_opts_free(&o);
    /* "ro" is the top mount only, "rro" the whole tree: independent */
    PARSE(&o, "ro", "rrw");
    assert_int_equal(o.flags, MS_RDONLY);
    assert_int_equal(o.attr_clr, MOUNT_ATTR_RDONLY);
    assert_false(o.recursive_ro);
    mount_opts_free(&o);
}

static void test_recursive_atime(void **state)
{
    (void)state;
    static const struct { const char *name; unsigned long mode; } t[] = {
        { "rnoatime", MOUNT_ATTR_NOATIME },       { "rstrictatime", MOUNT_ATTR_STRICTATIME },
        { "rrelatime", MOUNT_ATTR_RELATIME },     { "ratime", MOUNT_ATTR_RELATIME },
        { "rnorelatime", MOUNT_ATTR_STRICTATIME }, { "rnostrictatime", MOUNT_ATTR_RELATIME },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct mount_opts o;
        char *a[] = { (char *)t[i].name, NULL };
        mount_opts_parse(a, &o);
        /* an atime mode is set by clearing the whole field and setting one value */
        if (!o.has_atime_attr || (o.attr_set & MOUNT_ATTR__ATIME) != t[i].mode ||
            (o.attr_clr & MOUNT_ATTR__ATIME) != MOUNT_ATTR__ATIME || o.flags || o.data)
            fail_msg("%s: set %#lx clr %#lx", t[i].name, o.attr_set, o.attr_clr);
        mount_opts_free(&o);
    }

    /* last mode wins, other recursive bits kept */
    struct mount_opts o;
    PARSE(&o, "rnoatime", "rro", "rstrictatime");
    assert_true(o.has_atime_attr);
    assert_int_equal(o.attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_STRICTATIME);
    assert_int_equal(o.attr_clr, MOUNT_ATTR__ATIME);
    mount_opts_free(&o);
    PARSE(&o, "rstrictatime", "rrelatime");
    assert_int_equal(o.attr_set & MOUNT_ATTR__ATIME, MOUNT_ATTR_RELATIME);
    mount_opts_free(&o);

    /* plain atime options are not recursive attrs */
    PARSE(&o, "noatime");
    assert_false(o.has_atime_attr);
    assert_int_equal(o.attr_set, 0);
    assert_int_equal(o.attr_clr, 0);
    mount_opts_free(&o);
}

static void test_idmap_tmpcopyup(void **state)
{
    (void)state;
    struct mount_opts o;
    PARSE(&o, "idmap");
    assert_true(o.idmap);
    assert_false(o.ridmap);
    assert_null(o.data);
    mount_opts_free(&o);
    PARSE(&o, "ridmap", "rbind");
    assert_true(o.ridmap);
    assert_true(o.rbind);
    assert_null(o.data);
    mount_opts_free(&o);
    PARSE(&o, "tmpcopyup");
    assert_true(o.tmpcopyup);
    assert_null(o.data);
    mount_opts_free(&o);
    PARSE(&o, "notmpcopyup");
    assert_false(o.tmpcopyup);
    assert_null(o.data);
    mount_opts_free(&o);
}

static void test_data(void **state)
{
    (void)state;
    struct mount_opts o;

    /* unknown options keep their order, known ones are taken out wherever they are */
    PARSE(&o, "mode=1777", "ro", "size=10m", "nosuid", "uid=1000", "gid=1000");
    assert_string_equal(o.data, "mode=1777,size=10m,uid=1000,gid=1000");
    assert_int_equal(o.flags, MS_RDONLY | MS_NOSUID);
    mount_opts_free(&o);

    /* a value that looks like an option name is still data */
    PARSE(&o, "context=\"system_u:object_r:container_file_t:s0\"", "x-foo", "ROOT");
    assert_string_equal(o.data, "context=\"system_u:object_r:container_file_t:s0\",x-foo,ROOT");
    mount_opts_free(&o);

    /* near misses are not options */
    PARSE(&o, "r0", "bindx", "rb1nd", "noatim", "RO");
    assert_string_equal(o.data, "r0,bindx,rb1nd,noatim,RO");
    assert_int_equal(o.flags, 0);
    assert_false(o.bind);
    mount_opts_free(&o);

    /* a single data option, no trailing comma */
    PARSE(&o, "nr_inodes=4k");
    assert_string_equal(o.data, "nr_inodes=4k");
    mount_opts_free(&o);

    /* many options grow the data string */
    char *many[65];
    char bufs[64][16];
    for (int i = 0; i < 64; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "opt%d=%d", i, i);
        many[i] = bufs[i];
    }
    many[64] = NULL;
    mount_opts_parse(many, &o);
    assert_non_null(o.data);
    assert_int_equal(strncmp(o.data, "opt0=0,opt1=1,", 14), 0);
    assert_non_null(strstr(o.data, ",opt63=63"));
    mount_opts_free(&o);
    assert_null(o.data);
    mount_opts_free(&o); /* freeing twice is harmless */
}

static void test_has_destination(void **state)
{
    (void)state;
    char *ro[] = { "ro", NULL };
    struct oci_mount mounts[] = {
        { .destination = "/proc", .type = "proc", .source = "proc" },
        { .destination = "/dev/", .type = "tmpfs", .source = "tmpfs" },
        { .destination = "//sys/fs//cgroup", .type = "cgroup", .options = ro, .n_options = 1 },
        { .destination = NULL },
    };
    struct oci_config cfg = { .mounts = mounts, .n_mounts = 4 };

    assert_true(mounts_has_destination(&cfg, "/proc"));
    assert_true(mounts_has_destination(&cfg, "/dev"));
    assert_true(mounts_has_destination(&cfg, "/dev/"));
    assert_true(mounts_has_destination(&cfg, "/sys/fs/cgroup"));
    assert_true(mounts_has_destination(&cfg, "/sys/fs/cgroup/."));
    assert_false(mounts_has_destination(&cfg, "/sys"));
    assert_false(mounts_has_destination(&cfg, "/dev/pts"));
    assert_false(mounts_has_destination(&cfg, "/pro"));
    assert_false(mounts_has_destination(&cfg, NULL));
    assert_false(mounts_has_destination(NULL, "/proc"));

    struct oci_config empty = { 0 };
    assert_false(mounts_has_destination(&empty, "/"));
}

static void test_dev_readonly(void **state)
{
    (void)state;
    char *ro[] = { "rbind", "ro", NULL }, *rw[] = { "rbind", NULL }, *remount[] = { "remount", "ro", NULL };
    struct oci_mount mounts[] = {
        { .destination = "/dev", .type = "bind", .source = "/x", .options = ro, .n_options = 2 },
        { .destination = "/dev//", .type = "bind", .source = "/x", .options = rw, .n_options = 1 },
        { .destination = "/dev", .type = "tmpfs", .source = "tmpfs", .options = remount, .n_options = 2 },
    };
    struct oci_config cfg = { .mounts = mounts, .n_mounts = 1 };
    assert_true(mounts_dev_readonly(&cfg));
    cfg.n_mounts = 2; /* the last mount on /dev is what is seen */
    assert_false(mounts_dev_readonly(&cfg));
    cfg.n_mounts = 3; /* a remount is not a mount of its own */
    assert_false(mounts_dev_readonly(&cfg));
    assert_false(mounts_dev_readonly(NULL));
}

/* mount_sources_check on one mount; expect NULL for success or the error's start. */
static void check_one(struct oci_mount *m, bool userns, const char *expect)
{
    struct oci_id_mapping map = { 0, 100000, 65536 };
    struct oci_namespace ns = { .type = OCI_NS_USER };
    struct oci_config cfg = { .mounts = m, .n_mounts = 1 };
    if (userns) {
        cfg.has_linux = true;
        cfg.linux_.namespaces = &ns;
        cfg.linux_.n_namespaces = 1;
        cfg.linux_.uid_mappings = cfg.linux_.gid_mappings = &map;
        cfg.linux_.n_uid_mappings = cfg.linux_.n_gid_mappings = 1;
    }
    husk_err *err = NULL;
    int r = mount_sources_check(&cfg, &err);
    if (expect == NULL) {
        if (r < 0)
            print_error("unexpected error: %s\n", err->msg);
        assert_int_equal(r, 0);
        return;
    }
    assert_int_equal(r, -1);
    if (strncmp(err->msg, expect, strlen(expect)) != 0)
        print_error("got \"%s\", want \"%s...\"\n", err->msg, expect);
    assert_int_equal(strncmp(err->msg, expect, strlen(expect)), 0);
    husk_err_free(&err);
}

static void test_idmap_checks(void **state)
{
    (void)state;
    struct oci_id_mapping map = { 0, 1000, 1 };
    char *idmap[] = { "rbind", "idmap", NULL }, *ridmap[] = { "ridmap", NULL }, *rbind[] = { "rbind", NULL };
    char *tmpfs_idmap[] = { "idmap", NULL }, *remount[] = { "remount", "idmap", NULL };
    struct oci_mount m;

    /* a plain bind and a tmpfs: nothing to check */
    m = (struct oci_mount){ .destination = "/a", .type = "bind", .source = "/s", .options = rbind };
    check_one(&m, false, NULL);
    m = (struct oci_mount){ .destination = "/a", .type = "tmpfs", .source = "tmpfs" };
    check_one(&m, false, NULL);
    /* mappings of its own: fine with or without a user namespace */
    m = (struct oci_mount){ .destination = "/a", .type = "bind", .source = "/s", .options = idmap,
                            .uid_mappings = &map, .n_uid_mappings = 1, .gid_mappings = &map, .n_gid_mappings = 1 };
    check_one(&m, false, NULL);
    check_one(&m, true, NULL);
    /* without: the container's, which a user namespace must have */
    m = (struct oci_mount){ .destination = "/a", .type = "bind", .source = "/s", .options = ridmap };
    check_one(&m, true, NULL);
    check_one(&m, false, "mounts[0].options: ridmap: without uidMappings and gidMappings");
    /* one of the two */
    m = (struct oci_mount){ .destination = "/a", .type = "bind", .source = "/s", .options = rbind,
                            .uid_mappings = &map, .n_uid_mappings = 1 };
    check_one(&m, false, "mounts[0].gidMappings: required with uidMappings");
    m = (struct oci_mount){ .destination = "/a", .type = "bind", .source = "/s", .options = rbind,
                            .gid_mappings = &map, .n_gid_mappings = 1 };
    check_one(&m, false, "mounts[0].uidMappings: required with gidMappings");
    /* not a bind */
    m = (struct oci_mount){ .destination = "/a", .type = "tmpfs", .source = "tmpfs", .options = tmpfs_idmap };
    check_one(&m, true, "mounts[0].options: idmap: idmapped mounts are only supported for bind mounts (type \"tmpfs\")");
    m = (struct oci_mount){ .destination = "/a", .type = "tmpfs", .source = "tmpfs",
                            .uid_mappings = &map, .n_uid_mappings = 1, .gid_mappings = &map, .n_gid_mappings = 1 };
    check_one(&m, false, "mounts[0].uidMappings: idmapped mounts are only supported for bind mounts");
    /* a remount, no source */
    m = (struct oci_mount){ .destination = "/a", .type = "bind", .source = "/s", .options = remount };
    check_one(&m, true, "mounts[0].options: idmap: an idmapped mount cannot be a remount");
    m = (struct oci_mount){ .destination = "/a", .type = "bind", .options = idmap };
    check_one(&m, true, "mounts[0].source: required for an idmapped bind mount");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_and_empty),
        cmocka_unit_test(test_flag_table),
        cmocka_unit_test(test_set_only_flags),
        cmocka_unit_test(test_typical_sets),
        cmocka_unit_test(test_bind_flags_not_in_flags),
        cmocka_unit_test(test_override_order),
        cmocka_unit_test(test_propagation),
        cmocka_unit_test(test_recursive_attrs),
        cmocka_unit_test(test_recursive_atime),
        cmocka_unit_test(test_idmap_tmpcopyup),
        cmocka_unit_test(test_data),
        cmocka_unit_test(test_has_destination),
        cmocka_unit_test(test_dev_readonly),
        cmocka_unit_test(test_idmap_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
