/* test_caps.c — capability names and the five sets, applied in forked children and
 * checked against /proc/self/status (needs root for the applying tests; skipped
 * otherwise). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "error.h"
#include "util.h"

#define BIT(c) (1ULL << (c))

struct cap_masks {
    unsigned long long inh, prm, eff, bnd, amb;
};

/* What a child sends back. */
struct child_result {
    int rc;                 /* 0 ok, -1 the caps call failed (msg), -2 test setup failed */
    char msg[512];
    struct cap_masks m;
};

static int parse_status(const char *text, struct cap_masks *m)
{
    const struct { const char *key; unsigned long long *v; } keys[] = {
        { "CapInh:", &m->inh }, { "CapPrm:", &m->prm }, { "CapEff:", &m->eff },
        { "CapBnd:", &m->bnd }, { "CapAmb:", &m->amb },
    };
    int found = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *p = strstr(text, keys[i].key);
        if (p && sscanf(p + strlen(keys[i].key), "%llx", keys[i].v) == 1)
            found++;
    }
    return found == 5 ? 0 : -1;
}

static int read_masks(struct cap_masks *m)
{
    char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return parse_status(buf, m);
}

static bool privileged(void)
{
    return geteuid() == 0 && prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 1;
}

struct scenario {
    const struct oci_capabilities *caps;   /* NULL: no process.capabilities */
    uid_t uid;                             /* switch to it (with keepcaps) before caps_apply */
    bool exec_after;                       /* report the masks of an exec'd `cat /proc/self/status` */
};

static void child_run(const struct scenario *s, int out)
{
    struct child_result res = { 0 };
    husk_err *err = NULL;

    if (caps_drop_bounding(s->caps, &err) < 0)
        goto failed;
    if (s->uid != 0) {
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresgid(s->uid, s->uid, s->uid) < 0 ||
            setresuid(s->uid, s->uid, s->uid) < 0) {
            res.rc = -2;
            snprintf(res.msg, sizeof res.msg, "uid switch: %s", strerror(errno));
            goto send;
        }
    }
    if (caps_apply(s->caps, &err) < 0)
        goto failed;
    if (prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 0) {
        res.rc = -2;
        snprintf(res.msg, sizeof res.msg, "keepcaps still set after caps_apply");
        goto send;
    }
    if (s->exec_after) {
        /* stdout of cat goes to the parent as text; it parses it. */
        if (dup2(out, STDOUT_FILENO) < 0)
            _exit(3);
        char *argv[] = { "cat", "/proc/self/status", NULL };
        char *envp[] = { NULL };
        execve("/bin/cat", argv, envp);
        _exit(4);
    }
    if (read_masks(&res.m) < 0) {
        res.rc = -2;
        snprintf(res.msg, sizeof res.msg, "cannot read /proc/self/status");
    }
    goto send;
failed:
    res.rc = -1;
    snprintf(res.msg, sizeof res.msg, "%s", err ? err->msg : "(no message)");
    husk_err_free(&err);
send:
    if (write(out, &res, sizeof res) != (ssize_t)sizeof res)
        _exit(2);
    _exit(0);
}

static void run_scenario(const struct scenario *s, struct child_result *res)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child_run(s, p[1]);
    }
    close(p[1]);

    char buf[8192];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(p[0], buf + n, sizeof buf - 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r > 0);
        n += (size_t)r;
    }
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    memset(res, 0, sizeof *res);
    if (s->exec_after) {
        buf[n] = '\0';
        assert_int_equal(parse_status(buf, &res->m), 0);
    } else {
        assert_int_equal(n, sizeof *res);
        memcpy(res, buf, sizeof *res);
    }
    if (res->rc == -2)
        fail_msg("child setup failed: %s", res->msg);
}

static void expect_masks(const struct cap_masks *m, unsigned long long bnd, unsigned long long eff,
                         unsigned long long prm, unsigned long long inh, unsigned long long amb)
{
    if (m->bnd != bnd || m->eff != eff || m->prm != prm || m->inh != inh || m->amb != amb)
        fail_msg("masks bnd=%llx eff=%llx prm=%llx inh=%llx amb=%llx, want bnd=%llx eff=%llx prm=%llx inh=%llx amb=%llx",
                 m->bnd, m->eff, m->prm, m->inh, m->amb, bnd, eff, prm, inh, amb);
}

/* ---- names -------------------------------------------------------------- */

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(cap_number("CAP_CHOWN"), CAP_CHOWN);
    assert_int_equal(cap_number("CAP_KILL"), CAP_KILL);
    assert_int_equal(cap_number("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
    assert_int_equal(cap_number("CAP_NET_BIND_SERVICE"), CAP_NET_BIND_SERVICE);
    assert_int_equal(cap_number("CAP_AUDIT_READ"), CAP_AUDIT_READ);

    assert_string_equal(cap_name_of(CAP_CHOWN), "CAP_CHOWN");
    assert_string_equal(cap_name_of(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
    assert_string_equal(cap_name_of(CAP_DAC_READ_SEARCH), "CAP_DAC_READ_SEARCH");
    /* the same static string each time */
    assert_ptr_equal(cap_name_of(CAP_KILL), cap_name_of(CAP_KILL));

    for (int c = 0; c <= cap_last(); c++) {
        const char *n = cap_name_of(c);
        if (n == NULL)   /* kernel newer than libcap */
            continue;
        assert_int_equal(cap_number(n), c);
    }
}

static void test_unknown_names(void **state)
{
    (void)state;
    assert_int_equal(cap_number(NULL), -1);
    assert_int_equal(cap_number(""), -1);
    assert_int_equal(cap_number("CAP_"), -1);
    assert_int_equal(cap_number("CAP_FOO"), -1);
    assert_int_equal(cap_number("CAP_CHOWNX"), -1);
    assert_int_equal(cap_number("cap_chown"), -1);    /* canonical spelling only */
    assert_int_equal(cap_number("CHOWN"), -1);
    assert_int_equal(cap_number("CAP_Chown"), -1);
    assert_int_equal(cap_number("0"), -1);
    assert_int_equal(cap_number("CAP_0"), -1);
    assert_int_equal(cap_number("CAP_CHOWN "), -1);
    assert_int_equal(cap_number("CAP_SYS_ADMIN_CAP_SYS_ADMIN_CAP_SYS_ADMIN_CAP_SYS_ADMIN_CAP_SYS_ADMIN"), -1);

    assert_null(cap_name_of(-1));
    assert_null(cap_name_of(64));
    assert_null(cap_name_of(1000));
}

static void test_cap_last(void **state)
{
    (void)state;
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    int want = -1;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &want), 1);
    fclose(f);
    assert_int_equal(cap_last(), want);
    assert_int_equal(cap_last(), want);   /* cached */
    assert_true(cap_last() >= CAP_AUDIT_READ);
}

/* ---- skipped: unknown names, and capabilities the kernel does not have ------- */

static void test_ignored_list(void **state)
{
    (void)state;
    int bnd[] = { CAP_CHOWN, CAP_KILL, CAP_NET_BIND_SERVICE, 63, -1 };
    int amb[] = { CAP_NET_BIND_SERVICE, -1 };
    struct oci_capabilities k = {
        .bounding = bnd, .has_bounding = true, .ambient = amb, .has_ambient = true,
    };

    /* nothing unknown, and a kernel that has them all: nothing to say */
    int small[] = { CAP_CHOWN, CAP_KILL, -1 };
    struct oci_capabilities ok = { .bounding = small, .has_bounding = true };
    assert_null(caps_ignored_list(&ok, cap_last()));
    assert_null(caps_ignored_list(NULL, cap_last()));
    assert_null(caps_ignored_list(&(struct oci_capabilities){ 0 }, 0));

    /* each unknown name once, in the order first met */
    caps_note_unknown(&k.unknown, "CAP_FOO");
    caps_note_unknown(&k.unknown, "CAP_BAR");
    caps_note_unknown(&k.unknown, "CAP_FOO");
    caps_note_unknown(&k.unknown, "bad\nname");
    assert_string_equal(k.unknown[0], "CAP_FOO");
    assert_string_equal(k.unknown[1], "CAP_BAR");
    assert_string_equal(k.unknown[2], "bad\nname");
    assert_null(k.unknown[3]);

    /* A kernel whose last capability is CAP_KILL: CAP_NET_BIND_SERVICE (in two sets)
     * is named once, after the unknown names; 63 has no name anywhere. A control
     * character never breaks the line. */
    char *l = caps_ignored_list(&k, CAP_KILL);
    assert_non_null(l);
    assert_null(strchr(l, '\n'));
    assert_non_null(strstr(l, "\"CAP_FOO\", \"CAP_BAR\", \"bad"));
    assert_non_null(strstr(l, "\", \"CAP_NET_BIND_SERVICE\", capability 63"));
    assert_null(strstr(strstr(l, "CAP_NET_BIND_SERVICE") + 1, "CAP_NET_BIND_SERVICE"));
    assert_null(strstr(l, "CAP_KILL"));
    assert_null(strstr(l, "CAP_CHOWN"));
    free(l);

    /* the running kernel: only the unknown names and 63 */
    l = caps_ignored_list(&k, cap_last());
    assert_non_null(l);
    assert_null(strstr(l, "CAP_NET_BIND_SERVICE"));
    assert_non_null(strstr(l, "capability 63"));
    free(l);
    strv_free(k.unknown);
}

/* ---- applying ------------------------------------------------------------- */

static int chown_kill[] = { CAP_CHOWN, CAP_KILL, -1 };
static int kill_only[] = { CAP_KILL, -1 };
static int nbs[] = { CAP_NET_BIND_SERVICE, -1 };
static int bnd_nbs[] = { CAP_CHOWN, CAP_KILL, CAP_NET_BIND_SERVICE, -1 };
static int empty[] = { -1 };

static void test_apply_root(void **state)
{
    (void)state;
    if (!privileged())
        skip();
    struct oci_capabilities caps = {
        .bounding = chown_kill, .has_bounding = true,
        .effective = kill_only, .has_effective = true,
        .permitted = kill_only, .has_permitted = true,
    };
    struct scenario s = { .caps = &caps };
    struct child_result res;
    run_scenario(&s, &res);
    assert_int_equal(res.rc, 0);
    expect_masks(&res.m, BIT(CAP_CHOWN) | BIT(CAP_KILL), BIT(CAP_KILL), BIT(CAP_KILL), 0, 0);
}

static void test_apply_user_ambient(void **state)
{
    (void)state;
    if (!privileged())
        skip();
    struct oci_capabilities caps = {
        .bounding = bnd_nbs, .has_bounding = true,
        .effective = nbs, .has_effective = true,
        .permitted = nbs, .has_permitted = true,
        .inheritable = nbs, .has_inheritable = true,
        .ambient = nbs, .has_ambient = true,
    };
    struct scenario s = { .caps = &caps, .uid = 1000 };
    struct child_result res;
    unsigned long long b = BIT(CAP_NET_BIND_SERVICE);

    run_scenario(&s, &res);
    assert_int_equal(res.rc, 0);
    expect_masks(&res.m, BIT(CAP_CHOWN) | BIT(CAP_KILL) | b, b, b, b, b);

    /* and across execve as uid 1000: the ambient capability is what remains */
    s.exec_after = true;
    run_scenario(&s, &res);
    expect_masks(&res.m, BIT(CAP_CHOWN) | BIT(CAP_KILL) | b, b, b, b, b);
}

static void test_apply_user_no_ambient(void **state)
{
    (void)state;
    if (!privileged())
        skip();
    /* permitted/effective for a non-root user do not survive execve without ambient */
    struct oci_capabilities caps = {
        .bounding = chown_kill, .has_bounding = true,
        .effective = chown_kill, .has_effective = true,
        .permitted = chown_kill, .has_permitted = true,
        .inheritable = empty, .has_inheritable = true,
    };
    struct scenario s = { .caps = &caps, .uid = 1000 };
    struct child_result res;
    unsigned long long ck = BIT(CAP_CHOWN) | BIT(CAP_KILL);

    run_scenario(&s, &res);
    assert_int_equal(res.rc, 0);
    expect_masks(&res.m, ck, ck, ck, 0, 0);
    s.exec_after = true;
    run_scenario(&s, &res);
    expect_masks(&res.m, ck, 0, 0, 0, 0);
}

static void test_apply_none(void **state)
{
    (void)state;
    if (!privileged())
        skip();
    /* no process.capabilities: nothing at all, even for root after execve */
    struct scenario s = { .caps = NULL };
    struct child_result res;
    run_scenario(&s, &res);
    assert_int_equal(res.rc, 0);
    expect_masks(&res.m, 0, 0, 0, 0, 0);
    s.exec_after = true;
    run_scenario(&s, &res);
    expect_masks(&res.m, 0, 0, 0, 0, 0);

    /* an object with no lists is the same */
    struct oci_capabilities caps = { 0 };
    s.caps = &caps;
    s.exec_after = false;
    run_scenario(&s, &res);
    assert_int_equal(res.rc, 0);
    expect_masks(&res.m, 0, 0, 0, 0, 0);
}

static void test_root_exec_gets_bounding(void **state)
{
    (void)state;
    if (!privileged())
        skip();
    /* uid 0 after execve: permitted = effective = bounding */
    struct oci_capabilities caps = {
        .bounding = chown_kill, .has_bounding = true,
        .effective = kill_only, .has_effective = true,
        .permitted = kill_only, .has_permitted = true,
    };
    struct scenario s = { .caps = &caps, .exec_after = true };
    struct child_result res;
    unsigned long long ck = BIT(CAP_CHOWN) | BIT(CAP_KILL);
    run_scenario(&s, &res);
    expect_masks(&res.m, ck, ck, ck, 0, 0);
}

static void test_apply_errors(void **state)
{
    (void)state;
    if (!privileged())
        skip();
    struct child_result res;

    /* effective not in permitted */
    struct oci_capabilities c1 = {
        .bounding = chown_kill, .has_bounding = true,
        .effective = chown_kill, .has_effective = true,
        .permitted = kill_only, .has_permitted = true,
    };
    struct scenario s = { .caps = &c1 };
    run_scenario(&s, &res);
    assert_int_equal(res.rc, -1);
    assert_non_null(strstr(res.msg, "CAP_CHOWN"));
    assert_non_null(strstr(res.msg, "effective"));

    /* ambient not inheritable */
    struct oci_capabilities c2 = {
        .bounding = bnd_nbs, .has_bounding = true,
        .permitted = nbs, .has_permitted = true,
        .ambient = nbs, .has_ambient = true,
    };
    s.caps = &c2;
    run_scenario(&s, &res);
    assert_int_equal(res.rc, -1);
    assert_non_null(strstr(res.msg, "ambient capability CAP_NET_BIND_SERVICE"));

    /* inheritable outside the bounding set: the kernel refuses, we name it */
    struct oci_capabilities c3 = {
        .bounding = kill_only, .has_bounding = true,
        .inheritable = nbs, .has_inheritable = true,
    };
    s.caps = &c3;
    s.uid = 1000;
    run_scenario(&s, &res);
    assert_int_equal(res.rc, -1);
    assert_non_null(strstr(res.msg, "CAP_NET_BIND_SERVICE"));
    assert_non_null(strstr(res.msg, "bounding"));

}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_cap_last),
        cmocka_unit_test(test_ignored_list),
        cmocka_unit_test(test_apply_root),
        cmocka_unit_test(test_apply_user_ambient),
        cmocka_unit_test(test_apply_user_no_ambient),
        cmocka_unit_test(test_apply_none),
        cmocka_unit_test(test_root_exec_gets_bounding),
        cmocka_unit_test(test_apply_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
