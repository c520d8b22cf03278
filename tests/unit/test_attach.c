/* test_attach.c — the attach client (src/engine/attach.c) against a fake monitor
 * (the other end of a SOCK_SEQPACKET socketpair): output frames to fds 1 and 2,
 * stdin frames and EOF, the exit frame, a lost monitor, and docker's detach keys. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "attach.h"
#include "monitor_proto.h"
#include "util.h"

static void test_parse_keys(void **state)
{
    (void)state;
    unsigned char k[16];
    husk_err *err = NULL;
    assert_int_equal(attach_parse_keys("ctrl-p,ctrl-q", k, 16, &err), 2);
    assert_int_equal(k[0], 0x10);
    assert_int_equal(k[1], 0x11);
    assert_int_equal(attach_parse_keys("a,ctrl-@,ctrl-_,ctrl-[", k, 16, &err), 4);
    assert_memory_equal(k, "a\x00\x1f\x1b", 4);
    assert_int_equal(attach_parse_keys("", k, 16, &err), 0);
    static const char *bad[] = { "ctrl-", "ctrl-1", "ab", "a,", "ctrl-p,,ctrl-q", "a,b,c" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        int max = strcmp(bad[i], "a,b,c") == 0 ? 2 : 16;
        if (attach_parse_keys(bad[i], k, max, &err) >= 0)
            fail_msg("parsed \"%s\"", bad[i]);
        assert_non_null(strstr(err->msg, "detach keys"));
        husk_err_free(&err);
    }
}

static void frame(int s, int type, const void *data, size_t len)
{
    unsigned char b[64];
    b[0] = (unsigned char)type;
    memcpy(b + 1, data, len);
    assert_int_equal(send(s, b, 1 + len, 0), (ssize_t)(1 + len));
}

/* Run attach_run with fds 0, 1, 2 replaced: stdin from `in`, stdout and stderr into
 * temp files returned in *out / *errout. */
static int run(int sock, const struct attach_opts *o, const char *in, size_t inlen, int *code, char **out,
               char **errout)
{
    int saved[3] = { dup(0), dup(1), dup(2) };
    FILE *fin = tmpfile(), *fo = tmpfile(), *fe = tmpfile();
    fwrite(in, 1, inlen, fin);
    fflush(fin);
    rewind(fin);
    dup2(fileno(fin), 0);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    husk_err *err = NULL;
    int r = attach_run(sock, o, code, &err);
    for (int i = 0; i < 3; i++) {
        dup2(saved[i], i);
        close(saved[i]);
    }
    if (r < 0)
        fail_msg("attach_run: %s", err->msg);
    FILE *fs[2] = { fo, fe };
    char **res[2] = { out, errout };
    for (int i = 0; i < 2; i++) {
        long n = ftell(fs[i]);
        rewind(fs[i]);
        *res[i] = xcalloc(1, (size_t)n + 1);
        assert_int_equal(fread(*res[i], 1, (size_t)n, fs[i]), (size_t)n);
        fclose(fs[i]);
    }
    fclose(fin);
    return r;
}

static void test_output_and_exit(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    frame(sv[1], MON_FRAME_STDOUT, "out\n", 4);
    frame(sv[1], MON_FRAME_STDERR, "err\n", 4);
    frame(sv[1], 99, "ignored", 7);   /* unknown frames are skipped */
    int32_t c = 42;
    frame(sv[1], MON_FRAME_EXIT, &c, sizeof(c));
    struct attach_opts o = { 0 };
    int code = -1;
    _cleanup_free_ char *out = NULL, *err = NULL;
    assert_int_equal(run(sv[0], &o, "", 0, &code, &out, &err), ATTACH_EXITED);
    assert_int_equal(code, 42);
    assert_string_equal(out, "out\n");
    assert_string_equal(err, "err\n");
    close(sv[1]);
}

static void test_lost(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    frame(sv[1], MON_FRAME_STDOUT, "x", 1);
    close(sv[1]);
    struct attach_opts o = { 0 };
    int code = -1;
    _cleanup_free_ char *out = NULL, *err = NULL;
    assert_int_equal(run(sv[0], &o, "", 0, &code, &out, &err), ATTACH_LOST);
    assert_int_equal(code, -1);
    assert_string_equal(out, "x");
}

/* Read what the client sent (non-blocking): the frames concatenated as "T:data|". */
static char *sent(int s)
{
    char *acc = xstrdup("");
    unsigned char b[1 + MON_FRAME_MAX];
    ssize_t n;
    while ((n = recv(s, b, sizeof(b), MSG_DONTWAIT)) > 0) {
        char *next = xasprintf("%s%d:%.*s|", acc, b[0], (int)n - 1, (char *)b + 1);
        free(acc);
        acc = next;
    }
    return acc;
}

static void test_stdin(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    /* the exit comes only after the stdin is read: give the client time */
    int32_t c = 0;
    struct attach_opts o = { .stdin = true, .close_stdin = true };
    pid_t p = fork();
    if (p == 0) {
        usleep(200000);
        frame(sv[1], MON_FRAME_EXIT, &c, sizeof(c));
        _exit(0);
    }
    int code = -1;
    _cleanup_free_ char *out = NULL, *err = NULL;
    assert_int_equal(run(sv[0], &o, "hello", 5, &code, &out, &err), ATTACH_EXITED);
    _cleanup_free_ char *got = sent(sv[1]);
    assert_string_equal(got, "4:hello|5:|");
    close(sv[1]);
}

static void test_detach(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    /* ctrl-p then something else is input; ctrl-p ctrl-q detaches */
    struct attach_opts o = { .stdin = true, .tty = true };
    int code = -1;
    _cleanup_free_ char *out = NULL, *err = NULL;
    assert_int_equal(run(sv[0], &o, "a\x10" "b\x10\x11" "c", 6, &code, &out, &err), ATTACH_DETACHED);
    _cleanup_free_ char *got = sent(sv[1]);
    assert_string_equal(got, "4:a\x10" "b|");
    close(sv[1]);

    /* custom keys; "" disables them */
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    o.detach_keys = "x";
    free(out);
    free(err);
    assert_int_equal(run(sv[0], &o, "abxc", 4, &code, &out, &err), ATTACH_DETACHED);
    free(got);
    got = sent(sv[1]);
    assert_string_equal(got, "4:ab|");
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_keys), cmocka_unit_test(test_output_and_exit), cmocka_unit_test(test_lost),
        cmocka_unit_test(test_stdin),      cmocka_unit_test(test_detach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
