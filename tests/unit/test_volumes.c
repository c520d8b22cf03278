/* test_volumes.c — -v and --mount specs parsed as docker parses them (volumes.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "volumes.h"

static void v_ok(const char *arg, enum vol_type type, const char *src, const char *dst, bool ro)
{
    struct vol_spec s;
    _cleanup_err_ husk_err *err = NULL;
    if (vol_parse_v(arg, &s, &err) < 0)
        fail_msg("%s: %s", arg, err->msg);
    assert_int_equal(s.type, type);
    if (src)
        assert_string_equal(s.source, src);
    else
        assert_null(s.source);
    assert_string_equal(s.target, dst);
    assert_int_equal(s.readonly, ro);
    vol_spec_clear(&s);
}

/* The error names the flag and the argument. */
static void v_bad(const char *arg, const char *why)
{
    struct vol_spec s;
    _cleanup_err_ husk_err *err = NULL;
    if (vol_parse_v(arg, &s, &err) == 0)
        fail_msg("%s: accepted", arg);
    _cleanup_free_ char *quoted = xasprintf("-v \"%s\"", arg);
    if (!strstr(err->msg, quoted) || !strstr(err->msg, why))
        fail_msg("%s: %s", arg, err->msg);
}

static void test_v(void **state)
{
    (void)state;
    v_ok("/data", VOL_VOLUME, NULL, "/data", false);
    v_ok("/data//x/../y/", VOL_VOLUME, NULL, "/data/y", false);
    v_ok("/srv:/data", VOL_BIND, "/srv", "/data", false);
    v_ok("/srv/:/data:ro", VOL_BIND, "/srv", "/data", true);
    v_ok("/srv:/data:rw,rshared", VOL_BIND, "/srv", "/data", false);
    v_ok("/srv:/data:ro,Z", VOL_BIND, "/srv", "/data", true);
    v_ok("myvol:/data", VOL_VOLUME, "myvol", "/data", false);
    v_ok("my_vol.1-x:/data:ro", VOL_VOLUME, "my_vol.1-x", "/data", true);
    struct vol_spec s;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(vol_parse_v("v1:/d:nocopy", &s, &err), 0);
    assert_true(s.nocopy);
    vol_spec_clear(&s);
    assert_int_equal(vol_parse_v("/h:/d:slave", &s, &err), 0);
    assert_string_equal(s.propagation, "slave");
    vol_spec_clear(&s);

    v_bad("data", "must be absolute");
    v_bad("v:data", "must be absolute");
    v_bad("./rel:/data", "not a valid volume name");
    v_bad("a:/data", "not a valid volume name");     /* docker: two characters at least */
    v_bad("_x:/data", "not a valid volume name");
    v_bad("v1:/", "cannot mount over /");
    v_bad("/a:/b:/c:ro", "not HOST-PATH");
    v_bad("/a:/b:rx", "invalid option \"rx\"");
    v_bad("/a:/b:ro,rw", "both ro and rw");
    v_bad("v1:/b:shared", "invalid option");         /* propagation is a bind's */
    v_bad("/a:/b:nocopy", "invalid option");         /* nocopy is a volume's */
    v_bad(":/b", "empty source");
    v_bad("", "not HOST-PATH");
}

static void m_ok(const char *arg, enum vol_type type, const char *src, const char *dst, bool ro)
{
    struct vol_spec s;
    _cleanup_err_ husk_err *err = NULL;
    if (vol_parse_mount(arg, &s, &err) < 0)
        fail_msg("%s: %s", arg, err->msg);
    assert_int_equal(s.type, type);
    if (src)
        assert_string_equal(s.source, src);
    else
        assert_null(s.source);
    assert_string_equal(s.target, dst);
    assert_int_equal(s.readonly, ro);
    vol_spec_clear(&s);
}

static void m_bad(const char *arg, const char *why)
{
    struct vol_spec s;
    _cleanup_err_ husk_err *err = NULL;
    if (vol_parse_mount(arg, &s, &err) == 0)
        fail_msg("%s: accepted", arg);
    _cleanup_free_ char *quoted = xasprintf("--mount \"%s\"", arg);
    if (!strstr(err->msg, quoted) || !strstr(err->msg, why))
        fail_msg("%s: %s", arg, err->msg);
}

static void test_mount(void **state)
{
    (void)state;
    m_ok("type=bind,source=/srv,target=/data", VOL_BIND, "/srv", "/data", false);
    m_ok("type=bind,src=/srv,dst=/data,readonly", VOL_BIND, "/srv", "/data", true);
    m_ok("type=bind,src=/srv,destination=/data,ro=true", VOL_BIND, "/srv", "/data", true);
    m_ok("type=bind,src=/srv,destination=/data,readonly=0", VOL_BIND, "/srv", "/data", false);
    m_ok("target=/data", VOL_VOLUME, NULL, "/data", false);              /* type defaults to volume */
    m_ok("type=volume,source=v1,target=/data,ro", VOL_VOLUME, "v1", "/data", true);
    m_ok("type=tmpfs,target=/t", VOL_TMPFS, NULL, "/t", false);
    struct vol_spec s;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(vol_parse_mount("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770", &s, &err), 0);
    assert_int_equal(s.tmpfs_size, 64 << 20);
    assert_int_equal(s.tmpfs_mode, 01770);
    vol_spec_clear(&s);
    assert_int_equal(vol_parse_mount("type=volume,src=v1,dst=/d,volume-nocopy", &s, &err), 0);
    assert_true(s.nocopy);
    vol_spec_clear(&s);
    assert_int_equal(vol_parse_mount("type=bind,src=/a,dst=/d,bind-propagation=rslave", &s, &err), 0);
    assert_string_equal(s.propagation, "rslave");
    vol_spec_clear(&s);

    m_bad("type=nfs,target=/x", "type \"nfs\"");
    m_bad("type=bind,target=/x", "needs source=");
    m_bad("type=bind,source=rel,target=/x", "must be absolute");
    m_bad("type=volume,source=/abs,target=/x", "not a valid volume name");
    m_bad("type=tmpfs,source=x,target=/x", "has no source");
    m_bad("type=volume,source=v1", "no container path");
    m_bad("type=volume,target=x", "must be absolute");
    m_bad("type=volume,target=/x,bogus=1", "unexpected key \"bogus\"");
    m_bad("type=volume,target=/x,readonly=maybe", "not true or false");
    m_bad("type=tmpfs,target=/x,tmpfs-size=lots", "tmpfs-size=lots");
    m_bad("type=bind,src=/a,target=/x,tmpfs-size=1m", "does not apply");
    m_bad("type=volume,target=/x,bind-propagation=shared", "does not apply");
}

static void test_names(void **state)
{
    (void)state;
    assert_true(vol_name_valid("ab"));
    assert_true(vol_name_valid("a.b_c-d9"));
    assert_false(vol_name_valid("a"));
    assert_false(vol_name_valid(".ab"));
    assert_false(vol_name_valid("-ab"));
    assert_false(vol_name_valid("a/b"));
    assert_false(vol_name_valid("a:b"));
    assert_false(vol_name_valid(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v),
        cmocka_unit_test(test_mount),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
