/* test_ctr_log.c — the monitor's json-file log lines (src/monitor/json_log.c) and the
 * engine's reading of them (src/engine/ctr_log.c): encoding as Go/docker do, the
 * round trip, docker's --since/--until/--tail values, and `logs` over rotated files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/monitor/json_log.h"
#include "ctr_log.h"
#include "monitor.h"
#include "util.h"

static char *enc(const char *data, size_t len, const char *stream, const char *time)
{
    char *out = xmalloc(JSON_LOG_MAX(len));
    size_t n = json_log_encode(out, data, len, stream, time);
    assert_true(n < JSON_LOG_MAX(len));
    out[n] = '\0';
    return out;
}

static void test_encode(void **state)
{
    (void)state;
    _cleanup_free_ char *a = enc("hello\n", 6, "stdout", "2026-12-04T02:32:32.123Z");
    assert_string_equal(a, "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-04T02:32:32.123Z\"}\n");
    /* Go's escapes: quote, backslash, \t \r, other controls as \u00XX, HTML-safe <>&,
     * U+2028, invalid UTF-8 as U+FFFD; valid UTF-8 kept; DEL kept */
    static const char in[] = "\"\\\t\r\x01<>&\xe2\x80\xa8 \xc3\xa9 \xff \x7f";
    _cleanup_free_ char *b = enc(in, sizeof(in) - 1, "stderr", "T");
    assert_string_equal(b, "{\"log\":\"\\\"\\\\\\t\\r\\u0001\\u003c\\u003e\\u0026\\u2028 \xc3\xa9 \\ufffd \x7f\","
                           "\"stream\":\"stderr\",\"time\":\"T\"}\n");
    /* a truncated sequence and overlong / surrogate forms are invalid */
    _cleanup_free_ char *c = enc("\xe2\x80 \xc0\xaf \xed\xa0\x80", 9, "stdout", "T");
    assert_non_null(strstr(c, "\"log\":\"\\ufffd\\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\""));
    /* NUL survives */
    _cleanup_free_ char *d = enc("a\0b", 3, "stdout", "T");
    assert_non_null(strstr(d, "a\\u0000b"));
}

static void test_utf8_tail(void **state)
{
    (void)state;
    assert_int_equal(json_log_utf8_tail("abc", 3), 0);
    assert_int_equal(json_log_utf8_tail("ab\xc3", 3), 1);
    assert_int_equal(json_log_utf8_tail("ab\xe2\x82", 4), 2);
    assert_int_equal(json_log_utf8_tail("\xf0\x9f\x98", 3), 3);
    assert_int_equal(json_log_utf8_tail("ab\xc3\xa9", 4), 0);   /* complete */
    assert_int_equal(json_log_utf8_tail("ab\xff", 3), 0);       /* invalid: not held */
    assert_int_equal(json_log_utf8_tail("", 0), 0);
}

static void test_time(void **state)
{
    (void)state;
    char out[40];
    struct timespec ts = { 1796351552, 123456789 };   /* 2026-12-04T02:32:32 */
    json_log_time(out, &ts);
    assert_string_equal(out, "2026-12-04T02:32:32.123456789Z");
    ts.tv_nsec = 120000000;
    json_log_time(out, &ts);
    assert_string_equal(out, "2026-12-04T02:32:32.12Z");        /* Go trims zeros */
    ts.tv_nsec = 0;
    json_log_time(out, &ts);
    assert_string_equal(out, "2026-12-04T02:32:32Z");
    ts.tv_nsec = 5;
    ctr_log_format_time(&ts, out);
    assert_string_equal(out, "2026-12-04T02:32:32.000000005Z"); /* docker -t: fixed */
}

static void test_round_trip(void **state)
{
    (void)state;
    static const char in[] = "x \"y\" \\ <\x01>\t\xc3\xa9\n";
    struct timespec ts = { 1796351552, 100 };
    char t[40];
    json_log_time(t, &ts);
    _cleanup_free_ char *line = enc(in, sizeof(in) - 1, "stderr", t);
    struct ctr_log_entry e;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(ctr_log_decode(line, strlen(line), &e, &err), 0);
    assert_int_equal(e.len, sizeof(in) - 1);
    assert_memory_equal(e.log, in, e.len);
    assert_int_equal(e.stream, CTR_LOG_STDERR);
    assert_int_equal(e.time.tv_sec, ts.tv_sec);
    assert_int_equal(e.time.tv_nsec, 100);
    ctr_log_entry_free(&e);

    static const char *bad[] = {
        "", "{}", "not json", "{\"log\":\"a\",\"stream\":\"stdin\",\"time\":\"2026-12-04T02:32:32Z\"}",
        "{\"log\":\"a\",\"stream\":\"stdout\",\"time\":\"yesterday\"}", "{\"log\":1,\"stream\":\"stdout\",\"time\":\"2026-12-04T02:32:32Z\"}",
        "{\"log\":\"a\",\"stream\":\"stdout\",\"time\":\"2026-12-04T02:32:32Z\"} trailing",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        husk_err *e2 = NULL;
        if (ctr_log_decode(bad[i], strlen(bad[i]), &e, &e2) == 0)
            fail_msg("decoded: %s", bad[i]);
        husk_err_free(&e2);
    }
}

static void check_time(const char *s, time_t sec, long ns)
{
    struct timespec now = { 1796351552, 500000000 }, out;
    _cleanup_err_ husk_err *err = NULL;
    if (ctr_log_parse_time(s, &now, &out, &err) < 0)
        fail_msg("%s: %s", s, err->msg);
    if (out.tv_sec != sec || out.tv_nsec != ns)
        fail_msg("%s = %ld.%09ld, want %ld.%09ld", s, (long)out.tv_sec, out.tv_nsec, (long)sec, ns);
}

static void test_parse_time(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    check_time("10m", 1796351552 - 600, 500000000);
    check_time("1h30m", 1796351552 - 5400, 500000000);
    check_time("1.5s", 1796351551, 0);
    check_time("300ms", 1796351552, 200000000);
    check_time("-1h", 1796351552 + 3600, 500000000);
    check_time("2026-12-04T02:32:32Z", 1796351552, 0);
    check_time("2026-12-04T02:32:32.25Z", 1796351552, 250000000);
    check_time("2026-12-04T03:32:32.000000001+01:00", 1796351552, 1);
    check_time("2026-12-04T02:32:32", 1796351552, 0);                /* local (here UTC) */
    check_time("2026-12-04T02:32", 1796351520, 0);
    check_time("2026-12-04", 1796342400, 0);
    check_time("1796351552", 1796351552, 0);
    check_time("1796351552.5", 1796351552, 500000000);
    check_time("0", 0, 0);
    setenv("TZ", "CET-1", 1);   /* a zone-less time is local, as docker takes it (POSIX TZ: no tzdata needed) */
    tzset();
    check_time("2026-12-04T03:32:32", 1796351552, 0);
    check_time("2026-12-04T02:32:32Z", 1796351552, 0);
    unsetenv("TZ");
    tzset();

    static const char *bad[] = { "", "10", "abc", "10x", "2026-13-01", "2026-12-04T25:00", "1.", "m",
                                 "2026-12-04T02:32:32Zjunk", "2026-12-04 02:32" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct timespec now = { 0, 0 }, out;
        husk_err *err = NULL;
        if (strcmp(bad[i], "10") == 0)
            continue;   /* a Unix time: valid */
        if (ctr_log_parse_time(bad[i], &now, &out, &err) == 0)
            fail_msg("parsed: \"%s\"", bad[i]);
        assert_non_null(strstr(err->msg, "invalid time"));
        husk_err_free(&err);
    }
}

static void test_parse_tail(void **state)
{
    (void)state;
    long v;
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(ctr_log_parse_tail("all", &v, &err), 0);
    assert_int_equal(v, -1);
    assert_int_equal(ctr_log_parse_tail("5", &v, &err), 0);
    assert_int_equal(v, 5);
    assert_int_equal(ctr_log_parse_tail("0", &v, &err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ctr_log_parse_tail("-3", &v, &err), 0);
    assert_int_equal(v, -1);
    assert_int_equal(ctr_log_parse_tail("x", &v, &err), -1);
    assert_non_null(strstr(err->msg, "--tail"));
}

/* ------------------------------------------------------------------ logs over files */

static char dir[64];

static void put(const char *name, int from, int to, const char *stream)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    for (int i = from; i <= to; i++) {
        char data[32], t[40], line[256];
        struct timespec ts = { 1796351552 + i, 0 };
        json_log_time(t, &ts);
        int n = snprintf(data, sizeof(data), "line %d\n", i);
        size_t l = json_log_encode(line, data, (size_t)n, stream, t);
        fwrite(line, 1, l, f);
    }
    fclose(f);
}

/* Run ctr_log_show into two temp files; return stdout, *errout the stderr. */
static char *show(const struct ctr_log_opts *o, char **errout)
{
    FILE *out = tmpfile(), *errf = tmpfile();
    _cleanup_err_ husk_err *err = NULL;
    if (ctr_log_show(dir, o, fileno(out), fileno(errf), &err) < 0)
        fail_msg("%s", err->msg);
    char *res[2];
    FILE *fs[2] = { out, errf };
    for (int i = 0; i < 2; i++) {
        long n = ftell(fs[i]);
        rewind(fs[i]);
        res[i] = xcalloc(1, (size_t)n + 1);
        assert_int_equal(fread(res[i], 1, (size_t)n, fs[i]), (size_t)n);
        fclose(fs[i]);
    }
    if (errout)
        *errout = res[1];
    else
        free(res[1]);
    return res[0];
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_ctr_log.XXXXXX");
    assert_non_null(mkdtemp(dir));
    put("ctr.log.2", 1, 3, "stdout");
    put("ctr.log.1", 4, 5, "stdout");
    put("ctr.log.1", 6, 6, "stderr");
    put("ctr.log", 7, 9, "stdout");
    /* a line cut by a crash at the end is not shown */
    char path[128];
    snprintf(path, sizeof(path), "%s/ctr.log", dir);
    FILE *f = fopen(path, "a");
    fputs("{\"log\":\"cut", f);
    fclose(f);
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static void test_show(void **state)
{
    (void)state;
    struct ctr_log_opts o = { .tail = -1 };
    char *e;
    _cleanup_free_ char *all = show(&o, &e);
    assert_string_equal(all, "line 1\nline 2\nline 3\nline 4\nline 5\nline 7\nline 8\nline 9\n");
    assert_string_equal(e, "line 6\n");
    free(e);

    o.tail = 4;   /* the last 4 entries of all streams */
    _cleanup_free_ char *t4 = show(&o, &e);
    assert_string_equal(t4, "line 7\nline 8\nline 9\n");
    assert_string_equal(e, "line 6\n");
    free(e);
    o.tail = 0;
    _cleanup_free_ char *t0 = show(&o, NULL);
    assert_string_equal(t0, "");

    o.tail = -1;
    o.has_since = true;
    o.since = (struct timespec){ 1796351552 + 5, 0 };   /* at or after */
    o.has_until = true;
    o.until = (struct timespec){ 1796351552 + 8, 0 };   /* at or before */
    _cleanup_free_ char *range = show(&o, &e);
    assert_string_equal(range, "line 5\nline 7\nline 8\n");
    free(e);

    o.has_since = o.has_until = false;
    o.tail = 1;
    o.timestamps = true;
    _cleanup_free_ char *ts = show(&o, NULL);
    assert_string_equal(ts, "2026-12-04T02:32:41.000000000Z line 9\n");

    /* -f on a container whose exit is recorded: shows what is there and returns */
    char path[128];
    snprintf(path, sizeof(path), "%s/exit", dir);
    FILE *f = fopen(path, "w");
    fputs("0 2026-12-04T02:32:42Z\n", f);
    fclose(f);
    o = (struct ctr_log_opts){ .tail = 2, .follow = true };
    _cleanup_free_ char *fo = show(&o, NULL);
    assert_string_equal(fo, "line 8\nline 9\n");
}

/* The monitor's `exit` record, as monitor_read_exit reads it. */
static void test_read_exit(void **state)
{
    (void)state;
    char d[] = "/tmp/test_exit.XXXXXX";
    assert_non_null(mkdtemp(d));
    int dfd = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    int code = -1;
    char *t = NULL;
    husk_err *err = NULL;
    assert_int_equal(monitor_read_exit(dfd, &code, &t, &err), 0);   /* absent */
    assert_null(t);
    static const struct { const char *content; int ok, code; const char *time; } cases[] = {
        { "0 2026-12-04T02:32:32.1Z\n", 1, 0, "2026-12-04T02:32:32.1Z" },
        { "137 2026-12-04T02:32:32Z\n", 1, 137, "2026-12-04T02:32:32Z" },
        { "", -1, 0, NULL }, { "x 2026\n", -1, 0, NULL }, { "3\n", -1, 0, NULL },
        { "3 \n", -1, 0, NULL }, { "3 2026-12-04T02:32:32Z", -1, 0, NULL }, { "999 t\n", -1, 0, NULL },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char path[64];
        snprintf(path, sizeof(path), "%s/exit", d);
        FILE *f = fopen(path, "w");
        fputs(cases[i].content, f);
        fclose(f);
        code = -1;
        int r = monitor_read_exit(dfd, &code, &t, &err);
        if (r != cases[i].ok)
            fail_msg("\"%s\": %d, want %d", cases[i].content, r, cases[i].ok);
        if (r == 1) {
            assert_int_equal(code, cases[i].code);
            assert_string_equal(t, cases[i].time);
        } else {
            assert_non_null(strstr(err->msg, "malformed"));
        }
        free(t);
        t = NULL;
        husk_err_free(&err);
        unlink(path);
    }
    close(dfd);
    rmdir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),      cmocka_unit_test(test_utf8_tail),
        cmocka_unit_test(test_time),        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse_time),  cmocka_unit_test(test_parse_tail),
        cmocka_unit_test_setup_teardown(test_show, setup_dir, teardown_dir),
        cmocka_unit_test(test_read_exit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
