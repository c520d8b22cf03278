/* test_state.c — container state (state.c) and cgroup placement (cgroups.c).
 *
 * The cgroup tests create real cgroups under a unique "/husk-unit-test-<pid>" on every
 * hierarchy of this host (they skip when not root or no cgroups are mounted); the
 * teardown kills the test child and removes those directories whatever happened. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "cgroups.h"
#include "error.h"
#include "state.h"
#include "util.h"

/* ---- fixtures ------------------------------------------------------------- */

static char tmpdir[PATH_MAX];

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/husk-test-state-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int teardown_tmp(void **state)
{
    (void)state;
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static char *tmp_path(const char *name)
{
    return xasprintf("%s/%s", tmpdir, name);
}

/* A filled-in state with every kind of field. */
static struct husk_state *sample_state(const char *id)
{
    struct husk_state *s = xcalloc(1, sizeof(*s));
    s->id = xstrdup(id);
    s->pid = 4242;
    s->pid_start = 123456789012ULL;
    s->bundle = xstrdup("/srv/bundles/one");
    s->rootfs = xstrdup("/srv/bundles/one/rootfs");
    s->created = time_rfc3339();
    s->owner = xstrdup("");
    s->n_annotations = 2;
    s->annotations = xcalloc(2, sizeof(*s->annotations));
    s->annotations[0].key = xstrdup("org.example/key");
    s->annotations[0].value = xstrdup("value with \"quotes\"");
    s->annotations[1].key = xstrdup("second");
    s->annotations[1].value = xstrdup("");
    s->cgroup_created = xcalloc(3, sizeof(char *));
    s->cgroup_created[0] = xstrdup("/sys/fs/cgroup/cpu/husk");
    s->cgroup_created[1] = xstrdup("/sys/fs/cgroup/cpu/husk/one");
    s->cgroup_paths = xcalloc(2, sizeof(char *));
    s->cgroup_paths[0] = xstrdup("/sys/fs/cgroup/cpu/husk/one");
    s->cgroup_freezer = NULL;
    s->has_poststop = true;
    s->no_new_keyring = true;
    s->config_path = xstrdup("/srv/bundles/one/config.json");
    return s;
}

/* ---- ids ------------------------------------------------------------------ */

static void test_id_validate(void **state)
{
    (void)state;
    static const char *const good[] = { "a", "abc", "A-b_c.d+e", "123", "...", ".a", "a..b", "x-" };
    static const char *const bad[] = { "", ".", "..", "../x", "/abs", "a/b", "a\nb", "a b", "a:b", "é", "a\x1b[2J" };

    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        _cleanup_err_ husk_err *err = NULL;
        assert_int_equal(id_validate(good[i], &err), 0);
        assert_null(err);
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_err_ husk_err *err = NULL;
        assert_int_equal(id_validate(bad[i], &err), -1);
        assert_non_null(err);
        /* Never a raw control character in the one-line message. */
        for (const char *p = err->msg; *p; p++)
            assert_false((unsigned char)*p < 0x20 || *p == 0x7f);
    }

    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(id_validate("a/b", &err), -1);
    assert_string_equal(err->msg, "invalid container id \"a/b\": only [A-Za-z0-9_.+-] are allowed");
    assert_int_equal(id_validate("a\nb", &err), -1);
    assert_string_equal(err->msg, "invalid container id \"a\\nb\": only [A-Za-z0-9_.+-] are allowed");
    assert_int_equal(id_validate("", &err), -1);
    assert_string_equal(err->msg, "container id is empty");
    assert_int_equal(id_validate(NULL, &err), -1);

    char *longid = xmalloc(HUSK_ID_MAX + 2);
    memset(longid, 'a', HUSK_ID_MAX + 1);
    longid[HUSK_ID_MAX + 1] = '\0';
    assert_int_equal(id_validate(longid, &err), -1);
    assert_string_equal(err->msg, "container id is too long (256 bytes, at most 255)");
    longid[HUSK_ID_MAX] = '\0';
    husk_err_free(&err);
    assert_int_equal(id_validate(longid, &err), 0);
    free(longid);

    /* err may be NULL. */
    assert_int_equal(id_validate("..", NULL), -1);
}

/* ---- state directory ------------------------------------------------------ */

static void test_state_dir(void **state)
{
    (void)state;
    _cleanup_free_ char *root = tmp_path("run/husk");
    _cleanup_err_ husk_err *err = NULL;

    /* create makes the root too. */
    int fd = state_dir_create(root, "c1", &err);
    assert_true(fd >= 0);
    assert_null(err);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    struct stat st;
    assert_int_equal(stat(root, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 077, 0);

    /* The lock is held: another open file description cannot take it. */
    _cleanup_free_ char *dir = xasprintf("%s/c1", root);
    int other = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(other >= 0);
    assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
    assert_int_equal(errno, EWOULDBLOCK);
    close(other);

    /* Second create of the same id. */
    assert_int_equal(state_dir_create(root, "c1", &err), -1);
    assert_non_null(err);
    assert_int_equal(err->errnum, EEXIST);
    assert_string_equal(err->msg, "container with id exists: c1");
    close(fd);

    /* Invalid ids never reach the filesystem. */
    assert_int_equal(state_dir_create(root, "../escape", &err), -1);
    assert_int_equal(access(tmpdir, F_OK), 0);
    _cleanup_free_ char *esc = tmp_path("run/escape");
    assert_int_equal(access(esc, F_OK), -1);

    /* Open: existing and missing. */
    fd = state_dir_open(root, "c1", &err);
    assert_true(fd >= 0);
    assert_int_equal(mkfifoat(fd, "exec.fifo", 0600), 0);
    int junk = openat(fd, "state.json.tmp.99", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(junk >= 0);
    close(junk);
    close(fd);
    husk_err_free(&err);
    assert_int_equal(state_dir_open(root, "nope", &err), -1);
    assert_int_equal(err->errnum, ENOENT);
    assert_string_equal(err->msg, "container does not exist: nope");
    _cleanup_free_ char *noroot = tmp_path("no/such/root");
    assert_int_equal(state_dir_open(noroot, "c1", &err), -1);
    assert_int_equal(err->errnum, ENOENT);

    /* Remove everything (fifo and leftover temp file), then again: fine. */
    husk_err_free(&err);
    assert_int_equal(state_dir_remove(root, "c1", &err), 0);
    assert_null(err);
    assert_int_equal(access(dir, F_OK), -1);
    assert_int_equal(state_dir_remove(root, "c1", &err), 0);
    assert_int_equal(state_dir_remove(noroot, "c1", &err), 0);
    assert_int_equal(state_dir_open(root, "c1", &err), -1);
    assert_int_equal(err->errnum, ENOENT);
}

/* A waiter that gets the lock after a delete must see "does not exist". */
static void test_state_dir_open_after_delete(void **state)
{
    (void)state;
    _cleanup_free_ char *root = tmp_path("run2");
    _cleanup_err_ husk_err *err = NULL;

    int fd = state_dir_create(root, "gone", &err);
    assert_true(fd >= 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* The inherited descriptor shares the lock: drop it or we wait on ourselves. */
        close(fd);
        husk_err *e = NULL;
        int r = state_dir_open(root, "gone", &e);
        _exit(r < 0 && e && e->errnum == ENOENT ? 0 : 1);
    }
    /* Let the child block on the lock, then delete under it. */
    usleep(100 * 1000);
    assert_int_equal(state_dir_remove(root, "gone", &err), 0);
    close(fd);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_list_ids(void **state)
{
    (void)state;
    _cleanup_free_ char *root = tmp_path("list");
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_strv_ char **ids = NULL;

    _cleanup_free_ char *missing = tmp_path("list-missing");
    assert_int_equal(state_list_ids(missing, &ids, &err), 0);
    assert_non_null(ids);
    assert_null(ids[0]);
    strv_free(ids);
    ids = NULL;

    static const char *const names[] = { "zeta", "alpha", "Beta", "m.1", "m-0" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        int fd = state_dir_create(root, names[i], &err);
        assert_true(fd >= 0);
        close(fd);
    }
    _cleanup_free_ char *tmpd = xasprintf("%s/~tmp.1.0", root);
    _cleanup_free_ char *file = xasprintf("%s/plainfile", root);
    assert_int_equal(mkdir(tmpd, 0700), 0);
    int f = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(f >= 0);
    close(f);

    assert_int_equal(state_list_ids(root, &ids, &err), 0);
    static const char *const want[] = { "Beta", "alpha", "m-0", "m.1", "zeta" };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        assert_non_null(ids[i]);
        assert_string_equal(ids[i], want[i]);
    }
    assert_null(ids[ARRAY_SIZE(want)]);
}

/* ---- state.json ----------------------------------------------------------- */

static void test_state_round_trip(void **state)
{
    (void)state;
    _cleanup_free_ char *root = tmp_path("rt");
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_state_ struct husk_state *s = sample_state("rt1");
    _cleanup_state_ struct husk_state *r = NULL;

    _cleanup_close_ int fd = state_dir_create(root, "rt1", &err);
    assert_true(fd >= 0);
    assert_int_equal(state_write(fd, s, &err), 0);
    struct stat st;
    assert_int_equal(fstatat(fd, "state.json", &st, 0), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    assert_int_equal(state_read(fd, "rt1", &r, &err), 0);
    assert_null(err);
    assert_string_equal(r->id, "rt1");
    assert_int_equal(r->pid, 4242);
    assert_true(r->pid_start == 123456789012ULL);
    assert_string_equal(r->bundle, s->bundle);
    assert_string_equal(r->rootfs, s->rootfs);
    assert_string_equal(r->created, s->created);
    assert_string_equal(r->owner, "");
    assert_int_equal(r->n_annotations, 2);
    /* Object order is kept by json-c. */
    assert_string_equal(r->annotations[0].key, "org.example/key");
    assert_string_equal(r->annotations[0].value, "value with \"quotes\"");
    assert_string_equal(r->annotations[1].key, "second");
    assert_string_equal(r->annotations[1].value, "");
    assert_string_equal(r->cgroup_created[0], s->cgroup_created[0]);
    assert_string_equal(r->cgroup_created[1], s->cgroup_created[1]);
    assert_null(r->cgroup_created[2]);
    assert_string_equal(r->cgroup_paths[0], s->cgroup_paths[0]);
    assert_null(r->cgroup_paths[1]);
    assert_null(r->cgroup_freezer);
    assert_true(r->has_poststop);
    assert_true(r->no_new_keyring);
    assert_string_equal(r->config_path, s->config_path);

    /* Overwrite with a sparse state: NULL arrays come back empty, not NULL. */
    state_free(r);
    r = NULL;
    struct husk_state sparse = { .id = "rt1", .bundle = "/b", .created = "2026-01-01T00:00:00.000000000Z",
                                 .cgroup_freezer = "/sys/fs/cgroup/freezer/x" };
    assert_int_equal(state_write(fd, &sparse, &err), 0);
    assert_int_equal(state_read(fd, "rt1", &r, &err), 0);
    assert_int_equal(r->pid, 0);
    assert_null(r->rootfs);
    assert_null(r->owner);
    assert_null(r->config_path);
    assert_int_equal(r->n_annotations, 0);
    assert_non_null(r->cgroup_created);
    assert_null(r->cgroup_created[0]);
    assert_non_null(r->cgroup_paths);
    assert_null(r->cgroup_paths[0]);
    assert_string_equal(r->cgroup_freezer, "/sys/fs/cgroup/freezer/x");
    assert_false(r->has_poststop);
    assert_false(r->no_new_keyring);

    /* No temp file left behind. */
    assert_int_equal(faccessat(fd, "state.json.tmp", F_OK, 0), -1);

    /* Missing state.json. */
    assert_int_equal(unlinkat(fd, "state.json", 0), 0);
    state_free(r);
    r = NULL;
    assert_int_equal(state_read(fd, "rt1", &r, &err), -1);
    assert_null(r);
    assert_non_null(strstr(err->msg, "rt1"));
    assert_int_equal(err->errnum, ENOENT);
}

static void expect_corrupt(int fd, const char *text, size_t len, const char *needle)
{
    _cleanup_err_ husk_err *err = NULL;
    struct husk_state *r = NULL;
    int w = openat(fd, "state.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(w >= 0);
    assert_int_equal(write_all(w, text, len), (ssize_t)len);
    close(w);
    if (state_read(fd, "bad", &r, &err) == 0) {
        state_free(r);
        fail_msg("state_read accepted: %.*s", (int)(len > 200 ? 200 : len), text);
    }
    assert_null(r);
    assert_non_null(err);
    assert_non_null(strstr(err->msg, "bad"));
    if (needle && !strstr(err->msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err->msg, needle);
}

/* The valid document that the field mutations below start from. */
static struct json_object *valid_doc(void)
{
    return json_tokener_parse(
        "{\"id\":\"bad\",\"pid\":1,\"pid_start\":2,\"bundle\":\"/b\",\"rootfs\":\"/b/r\","
        "\"created\":\"2026-01-01T00:00:00.000000000Z\",\"owner\":\"\",\"annotations\":{\"a\":\"b\"},"
        "\"cgroup_created\":[\"/x\"],\"cgroup_paths\":[\"/x\"],\"cgroup_freezer\":null,"
        "\"has_poststop\":false,\"config_path\":\"/b/config.json\"}");
}

static void test_state_corrupt(void **state)
{
    (void)state;
    _cleanup_free_ char *root = tmp_path("corrupt");
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_close_ int fd = state_dir_create(root, "bad", &err);
    assert_true(fd >= 0);

    /* Sanity: the base document is accepted. */
    {
        struct json_object *o = valid_doc();
        const char *t = json_object_to_json_string(o);
        struct husk_state *r = NULL;
        int w = openat(fd, "state.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_int_equal(write_all(w, t, strlen(t)), (ssize_t)strlen(t));
        close(w);
        assert_int_equal(state_read(fd, "bad", &r, &err), 0);
        state_free(r);
        json_object_put(o);
    }

    static const struct {
        const char *text;
        const char *needle;
    } cases[] = {
        { "", "empty" },
        { "{", "truncated" },
        { "{\"id\":\"bad\",\"pid\":1", "truncated" },
        { "{}", "id" },
        { "[]", "expected an object" },
        { "null", "expected an object" },
        { "42", "expected an object" },
        { "\"str\"", "expected an object" },
        { "{\"id\":5}", "id" },
        { "{\"id\":\"other\"}", "id" },
        { "{\"id\":\"bad\"} trailing", "trailing" },
        { "\x7f" "ELF\x02\x01\x01\xff\xfe\xfd garbage", NULL },
        { "{\"id\":\"bad\",\"pid\":-1}", "pid" },
        { "{\"id\":\"bad\",\"pid\":99999999999}", "pid" },
        { "{\"id\":\"bad\",\"pid\":1.5}", "pid" },
        { "{\"id\":\"bad\",\"pid\":1,\"pid_start\":-5}", "pid_start" },
        { "{\"id\":\"bad\",\"pid\":1,\"pid_start\":18446744073709551615}", "pid_start" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        expect_corrupt(fd, cases[i].text, strlen(cases[i].text), cases[i].needle);
    /* Binary junk with NUL bytes. */
    static const char nul[] = "{\"id\":\"bad\"\0\0\0}";
    expect_corrupt(fd, nul, sizeof nul - 1, "NUL");

    /* Every field: wrong type, then missing. */
    static const struct {
        const char *key;
        const char *wrong;
    } fields[] = {
        { "id", "7" },
        { "pid", "\"1\"" },
        { "pid_start", "true" },
        { "bundle", "null" },
        { "rootfs", "[]" },
        { "created", "{}" },
        { "owner", "0" },
        { "annotations", "[\"a\"]" },
        { "annotations", "{\"k\":1}" },
        { "cgroup_created", "\"/x\"" },
        { "cgroup_created", "[1]" },
        { "cgroup_paths", "[\"relative\"]" },
        { "cgroup_paths", "null" },
        { "cgroup_freezer", "false" },
        { "has_poststop", "\"yes\"" },
        { "config_path", "1" },
    };
    /* no_new_keyring is optional (older state dirs lack it) but must be a boolean. */
    {
        struct json_object *o = valid_doc();
        json_object_object_add(o, "no_new_keyring", json_object_new_string("yes"));
        const char *t = json_object_to_json_string(o);
        expect_corrupt(fd, t, strlen(t), "no_new_keyring");
        json_object_put(o);
    }
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        struct json_object *o = valid_doc();
        json_object_object_add(o, fields[i].key, json_tokener_parse(fields[i].wrong));
        const char *t = json_object_to_json_string(o);
        expect_corrupt(fd, t, strlen(t), fields[i].key);
        json_object_object_del(o, fields[i].key);
        t = json_object_to_json_string(o);
        expect_corrupt(fd, t, strlen(t), fields[i].key);
        json_object_put(o);
    }

    /* Too big. */
    size_t big = 1024 * 1024 + 10;
    char *huge = xmalloc(big);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    expect_corrupt(fd, huge, big, NULL);
    free(huge);

    /* Every truncation of a valid file is rejected, never a crash. */
    {
        _cleanup_state_ struct husk_state *s = sample_state("bad");
        assert_int_equal(state_write(fd, s, &err), 0);
        _cleanup_free_ char *full = NULL;
        size_t len;
        assert_int_equal(read_file_at(fd, "state.json", 1 << 20, &full, &len, &err), 0);
        for (size_t n = 0; n < len; n++)
            expect_corrupt(fd, full, n, NULL);
    }
}

/* ---- status --------------------------------------------------------------- */

static void test_proc_start_time(void **state)
{
    (void)state;
    unsigned long long me = proc_start_time(getpid());
    assert_true(me > 0);
    assert_true(proc_start_time(getpid()) == me);
    assert_true(proc_start_time(1) > 0);
    assert_true(proc_start_time(0) == 0);
    assert_true(proc_start_time(-1) == 0);
    assert_true(proc_start_time(INT_MAX) == 0);

    /* A child started after us starts no earlier. */
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        pause();
        _exit(0);
    }
    unsigned long long cs = proc_start_time(c);
    assert_true(cs >= me);
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    assert_true(proc_start_time(c) == 0);
}

static void test_status(void **state)
{
    (void)state;
    _cleanup_free_ char *root = tmp_path("status");
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_close_ int fd = state_dir_create(root, "st", &err);
    assert_true(fd >= 0);
    struct husk_state s = { .id = "st", .bundle = "/b" };

    assert_int_equal(state_status(fd, &s), HUSK_CREATING);

    s.pid = getpid();
    s.pid_start = proc_start_time(getpid());
    assert_int_equal(mkfifoat(fd, "exec.fifo", 0600), 0);
    /* Created: the fifo is there and the init (here: we) holds it. */
    int held = openat(fd, "exec.fifo", O_PATH | O_CLOEXEC);
    assert_true(held >= 0);
    assert_int_equal(state_status(fd, &s), HUSK_CREATED);
    /* A fifo nobody holds any more (a start killed before removing it): running. */
    close(held);
    assert_int_equal(state_status(fd, &s), HUSK_RUNNING);
    assert_int_equal(unlinkat(fd, "exec.fifo", 0), 0);
    assert_int_equal(state_status(fd, &s), HUSK_RUNNING);

    /* A reused pid: same number, other start time. */
    s.pid_start += 1;
    assert_int_equal(state_status(fd, &s), HUSK_STOPPED);
    s.pid_start -= 1;

    /* Paused, via a fake v1 freezer and a fake v2 cgroup.freeze. */
    _cleanup_free_ char *fz = tmp_path("freezer");
    assert_int_equal(mkdir(fz, 0700), 0);
    _cleanup_free_ char *fzs = xasprintf("%s/freezer.state", fz);
    int w = open(fzs, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_int_equal(write_all(w, "FROZEN\n", 7), 7);
    close(w);
    s.cgroup_freezer = fz;
    assert_int_equal(state_status(fd, &s), HUSK_PAUSED);
    w = open(fzs, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_int_equal(write_all(w, "THAWED\n", 7), 7);
    close(w);
    assert_int_equal(state_status(fd, &s), HUSK_RUNNING);
    unlink(fzs);
    _cleanup_free_ char *v2f = xasprintf("%s/cgroup.freeze", fz);
    w = open(v2f, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_int_equal(write_all(w, "1\n", 2), 2);
    close(w);
    assert_int_equal(state_status(fd, &s), HUSK_PAUSED);
    s.cgroup_freezer = NULL;

    /* A zombie counts as stopped; a reaped pid too. */
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0)
        _exit(0);
    s.pid = c;
    s.pid_start = proc_start_time(c);
    siginfo_t si;
    assert_int_equal(waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT), 0);
    assert_int_equal(state_status(fd, &s), HUSK_STOPPED);
    waitpid(c, NULL, 0);
    assert_int_equal(state_status(fd, &s), HUSK_STOPPED);

    assert_string_equal(status_name(HUSK_CREATING), "creating");
    assert_string_equal(status_name(HUSK_CREATED), "created");
    assert_string_equal(status_name(HUSK_RUNNING), "running");
    assert_string_equal(status_name(HUSK_PAUSED), "paused");
    assert_string_equal(status_name(HUSK_STOPPED), "stopped");
}

static void test_oci_json(void **state)
{
    (void)state;
    _cleanup_state_ struct husk_state *s = sample_state("oci1");
    _cleanup_free_ char *j = state_oci_json(s, HUSK_RUNNING);
    struct json_object *o = json_tokener_parse(j), *v;

    assert_non_null(o);
    assert_null(strchr(j, '\n'));
    assert_non_null(strstr(j, "\"bundle\":\"/srv/bundles/one\"")); /* no "\/" escapes */
    assert_true(json_object_object_get_ex(o, "ociVersion", &v));
    assert_string_equal(json_object_get_string(v), "1.3.0");
    assert_true(json_object_object_get_ex(o, "id", &v));
    assert_string_equal(json_object_get_string(v), "oci1");
    assert_true(json_object_object_get_ex(o, "status", &v));
    assert_string_equal(json_object_get_string(v), "running");
    assert_true(json_object_object_get_ex(o, "pid", &v));
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int(v), 4242);
    assert_true(json_object_object_get_ex(o, "bundle", &v));
    assert_string_equal(json_object_get_string(v), "/srv/bundles/one");
    assert_true(json_object_object_get_ex(o, "annotations", &v));
    assert_int_equal(json_object_object_length(v), 2);
    struct json_object *a;
    assert_true(json_object_object_get_ex(v, "org.example/key", &a));
    assert_string_equal(json_object_get_string(a), "value with \"quotes\"");
    /* Nothing husk-private leaks into the OCI state. */
    assert_false(json_object_object_get_ex(o, "pid_start", NULL));
    assert_false(json_object_object_get_ex(o, "cgroup_paths", NULL));
    json_object_put(o);

    static const struct {
        enum husk_status st;
        bool has_pid;
    } cases[] = { { HUSK_CREATING, false }, { HUSK_CREATED, true }, { HUSK_PAUSED, true }, { HUSK_STOPPED, false } };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *t = state_oci_json(s, cases[i].st);
        o = json_tokener_parse(t);
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "status", &v));
        assert_string_equal(json_object_get_string(v), status_name(cases[i].st));
        assert_int_equal(json_object_object_get_ex(o, "pid", NULL), cases[i].has_pid);
        json_object_put(o);
    }

    /* No annotations: no key. */
    for (size_t i = 0; i < s->n_annotations; i++) {
        free(s->annotations[i].key);
        free(s->annotations[i].value);
    }
    s->n_annotations = 0;
    _cleanup_free_ char *t = state_oci_json(s, HUSK_CREATED);
    o = json_tokener_parse(t);
    assert_false(json_object_object_get_ex(o, "annotations", NULL));
    json_object_put(o);
}

static void test_time(void **state)
{
    (void)state;
    _cleanup_free_ char *t = time_rfc3339();
    assert_int_equal(strlen(t), 30);
    for (size_t i = 0; i < 30; i++) {
        switch (i) {
        case 4: case 7: assert_int_equal(t[i], '-'); break;
        case 10: assert_int_equal(t[i], 'T'); break;
        case 13: case 16: assert_int_equal(t[i], ':'); break;
        case 19: assert_int_equal(t[i], '.'); break;
        case 29: assert_int_equal(t[i], 'Z'); break;
        default: assert_true(t[i] >= '0' && t[i] <= '9');
        }
    }
    assert_true(strncmp(t, "20", 2) == 0);
}

/* ---- cgroup path resolution (synthetic layouts) ----------------------------- */

static const char hybrid_mi[] =
    "23 1 0:21 / /sys rw - sysfs sysfs rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    "50 23 0:29 / /mnt/cpu\\040again rw - cgroup cgroup rw,cpuacct,cpu\n";

static const char hybrid_self[] =
    "9:name=systemd:/user.slice/s1\n"
    "4:memory:/process_api/abc\n"
    "3:cpuset:/\n"
    "1:cpuacct,cpu:/user.slice\n"
    "0::/user.slice/s1\n";

static void expect_paths(const char *mi, const char *self, const char *cgpath, const char *id,
                         const char *const *want, size_t nwant)
{
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_strv_ char **paths = NULL;
    if (cgroup_resolve(mi, self, cgpath, id, &paths, &err) < 0)
        fail_msg("cgroup_resolve(%s): %s", cgpath ? cgpath : "NULL", err->msg);
    size_t i;
    for (i = 0; paths[i]; i++) {
        if (i >= nwant)
            fail_msg("extra path %s", paths[i]);
        assert_string_equal(paths[i], want[i]);
    }
    assert_int_equal(i, nwant);
}

static void test_cgroup_resolve(void **state)
{
    (void)state;
    assert_int_equal(cgroup_layout_of(hybrid_mi), CGROUP_LAYOUT_HYBRID);

    static const char *const abs[] = {
        "/sys/fs/cgroup/cpu,cpuacct/husk/c1", "/sys/fs/cgroup/cpuset/husk/c1", "/sys/fs/cgroup/memory/husk/c1",
        "/sys/fs/cgroup/systemd/husk/c1", "/sys/fs/cgroup/unified/husk/c1",
    };
    expect_paths(hybrid_mi, hybrid_self, NULL, "c1", abs, ARRAY_SIZE(abs));
    expect_paths(hybrid_mi, hybrid_self, "", "c1", abs, ARRAY_SIZE(abs));
    expect_paths(hybrid_mi, hybrid_self, "/husk//./c1/", "zz", abs, ARRAY_SIZE(abs));

    static const char *const rel[] = {
        "/sys/fs/cgroup/cpu,cpuacct/user.slice/pod/c1", "/sys/fs/cgroup/cpuset/pod/c1",
        "/sys/fs/cgroup/memory/process_api/abc/pod/c1", "/sys/fs/cgroup/systemd/user.slice/s1/pod/c1",
        "/sys/fs/cgroup/unified/user.slice/s1/pod/c1",
    };
    expect_paths(hybrid_mi, hybrid_self, "pod/c1", "c1", rel, ARRAY_SIZE(rel));

    /* Pure v2. */
    static const char v2_mi[] = "25 1 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
    assert_int_equal(cgroup_layout_of(v2_mi), CGROUP_LAYOUT_V2);
    static const char *const v2abs[] = { "/sys/fs/cgroup/husk/x" };
    expect_paths(v2_mi, "0::/init.scope\n", NULL, "x", v2abs, 1);
    static const char *const v2rel[] = { "/sys/fs/cgroup/init.scope/sub" };
    expect_paths(v2_mi, "0::/init.scope\n", "sub", "x", v2rel, 1);

    /* v1 only, inside a container without a cgroup namespace: the mount shows a
     * sub-tree, which is then the root. */
    static const char ns_mi[] =
        "100 90 0:29 /docker/abc /sys/fs/cgroup/pids ro - cgroup cgroup rw,pids\n";
    assert_int_equal(cgroup_layout_of(ns_mi), CGROUP_LAYOUT_V1);
    static const char *const nsrel[] = { "/sys/fs/cgroup/pids/inner/c" };
    expect_paths(ns_mi, "5:pids:/docker/abc/inner\n", "c", "x", nsrel, 1);
    static const char *const nsabs[] = { "/sys/fs/cgroup/pids/c" };
    expect_paths(ns_mi, "5:pids:/docker/abc/inner\n", "/c", "x", nsabs, 1);

    /* A later mount of the whole hierarchy wins over an earlier sub-tree view. */
    static const char dup_mi[] =
        "100 90 0:29 /docker/abc /a/pids rw - cgroup cgroup rw,pids\n"
        "101 90 0:29 / /b/pids rw - cgroup cgroup rw,pids\n"
        "102 90 0:29 / /c/pids rw - cgroup cgroup rw,pids\n";
    static const char *const dup[] = { "/b/pids/c" };
    expect_paths(dup_mi, "", "/c", "x", dup, 1);

    static const char none_mi[] = "23 1 0:21 / /sys rw - sysfs sysfs rw\n";
    assert_int_equal(cgroup_layout_of(none_mi), CGROUP_LAYOUT_NONE);
    assert_int_equal(cgroup_layout_of(""), CGROUP_LAYOUT_NONE);
    assert_int_equal(cgroup_layout_of("garbage\n\n - - -\n1 2 3\n"), CGROUP_LAYOUT_NONE);

    _cleanup_err_ husk_err *err = NULL;
    char **paths = NULL;
    assert_int_equal(cgroup_resolve(none_mi, "", "/x", "x", &paths, &err), -1);
    assert_int_equal(cgroup_resolve(hybrid_mi, hybrid_self, "/a/../b", "x", &paths, &err), -1);
    assert_string_equal(err->msg, "linux.cgroupsPath \"/a/../b\": must not contain \"..\"");
    assert_int_equal(cgroup_resolve(hybrid_mi, hybrid_self, "..", "x", &paths, &err), -1);
    assert_int_equal(cgroup_resolve(hybrid_mi, hybrid_self, "/", "x", &paths, &err), -1);
    assert_int_equal(cgroup_resolve(hybrid_mi, hybrid_self, ".", "x", &paths, &err), -1);
    assert_null(paths);
    /* "..x" is a name, not a parent reference. */
    static const char *const dots[] = { "/sys/fs/cgroup/pids/..x" };
    expect_paths(ns_mi, "", "/..x", "x", dots, 1);
}

/* ---- real cgroups on this host ---------------------------------------------- */

static char cg_top[64];        /* "/husk-unit-test-<pid>" */
static pid_t cg_child = -1;
static char **cg_cleanup;      /* every dir the tests may create, children first */

static bool have_cgroups(void)
{
    return geteuid() == 0 && cgroup_detect_layout() != CGROUP_LAYOUT_NONE;
}

static void cleanup_add(const char *sub)
{
    _cleanup_free_ char *mi = NULL, *self = NULL;
    _cleanup_strv_ char **paths = NULL;
    _cleanup_free_ char *p = xasprintf("%s%s", cg_top, sub);
    if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 24, &mi, NULL, NULL) < 0 ||
        read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 24, &self, NULL, NULL) < 0 ||
        cgroup_resolve(mi, self, p, "x", &paths, NULL) < 0)
        return;
    size_t n = 0, m = 0;
    while (cg_cleanup && cg_cleanup[n])
        n++;
    while (paths[m])
        m++;
    cg_cleanup = xrealloc(cg_cleanup, (n + m + 1) * sizeof(char *));
    for (size_t i = 0; i < m; i++)
        cg_cleanup[n + i] = steal_ptr(paths[i]);
    cg_cleanup[n + m] = NULL;
}

static int setup_cg(void **state)
{
    (void)state;
    snprintf(cg_top, sizeof cg_top, "/husk-unit-test-%d", (int)getpid());
    cg_child = -1;
    /* Deepest first, so the rmdirs in the teardown succeed in order. */
    cleanup_add("/c1");
    cleanup_add("/a");
    cleanup_add("/b");
    cleanup_add("");
    return 0;
}

static int teardown_cg(void **state)
{
    (void)state;
    if (cg_child > 0) {
        kill(cg_child, SIGKILL);
        waitpid(cg_child, NULL, 0);
        cg_child = -1;
    }
    /* Only our uniquely named directories, never anything else. */
    for (char **p = cg_cleanup; p && *p; p++)
        if (strstr(*p, cg_top))
            rmdir(*p);
    strv_free(cg_cleanup);
    cg_cleanup = NULL;
    return 0;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static size_t strv_len(char **v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static void test_cgroup_real(void **state)
{
    (void)state;
    if (!have_cgroups())
        skip();
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *path = xasprintf("%s/c1", cg_top);
    struct husk_cgroup cg;

    if (cgroup_create(path, "c1", &cg, &err) < 0)
        fail_msg("cgroup_create: %s", err->msg);
    size_t np = strv_len(cg.paths);
    assert_true(np > 0);
    /* Top and c1 are new on every hierarchy, parents listed first. */
    assert_int_equal(strv_len(cg.created), 2 * np);
    for (size_t i = 0; i < np; i++) {
        assert_true(is_dir(cg.paths[i]));
        _cleanup_free_ char *suffix = xasprintf("%s/c1", cg_top);
        size_t l = strlen(cg.paths[i]), sl = strlen(suffix);
        assert_true(l > sl && strcmp(cg.paths[i] + l - sl, suffix) == 0);
        assert_string_equal(cg.created[2 * i + 1], cg.paths[i]);
        assert_true(strncmp(cg.created[2 * i], cg.paths[i], strlen(cg.created[2 * i])) == 0);
        if (strstr(cg.paths[i], "/cpuset/")) {
            _cleanup_free_ char *cpus = NULL, *f = xasprintf("%s/cpuset.cpus", cg.paths[i]);
            assert_int_equal(read_file_at(AT_FDCWD, f, 4096, &cpus, NULL, &err), 0);
            assert_true(cpus[0] != '\0' && cpus[0] != '\n');
        }
    }
    if (cgroup_detect_layout() != CGROUP_LAYOUT_V2) {
        assert_non_null(cg.freezer);
    }

    /* A sleeping child goes in. */
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    cg_child = fork();
    assert_true(cg_child >= 0);
    if (cg_child == 0) {
        char c;
        close(p[1]);
        (void)!read(p[0], &c, 1);
        pause();
        _exit(0);
    }
    close(p[0]);
    if (cgroup_enter(&cg, cg_child, &err) < 0)
        fail_msg("cgroup_enter: %s", err->msg);
    close(p[1]);

    _cleanup_free_ char *pcg = NULL, *pcgpath = xasprintf("/proc/%d/cgroup", (int)cg_child);
    assert_int_equal(read_file_at(AT_FDCWD, pcgpath, 1 << 16, &pcg, NULL, &err), 0);
    _cleanup_free_ char *want = xasprintf(":%s/c1\n", cg_top);
    /* Every line (every hierarchy) shows the container's cgroup. */
    size_t lines = 0, hits = 0;
    for (char *l = pcg; *l; l = strchr(l, '\n') + 1) {
        lines++;
        char *nl = strchr(l, '\n');
        if (nl && (size_t)(nl - l + 1) >= strlen(want) &&
            strncmp(nl + 1 - strlen(want), want, strlen(want)) == 0)
            hits++;
        if (!nl)
            break;
    }
    assert_true(hits >= np);

    pid_t *pids = NULL;
    size_t n = 0;
    if (cgroup_pids(&cg, &pids, &n, &err) < 0)
        fail_msg("cgroup_pids: %s", err->msg);
    assert_int_equal(n, 1);
    assert_int_equal(pids[0], cg_child);
    free(pids);

    /* While the child lives the cgroup is busy: destroy must give up after ~1 s
     * with an error naming a dir, and keep what it could not remove. */
    assert_int_equal(cgroup_destroy(&cg, &err), -1);
    assert_non_null(strstr(err->msg, cg_top));
    husk_err_free(&err);
    assert_true(is_dir(cg.paths[0]));

    kill(cg_child, SIGKILL);
    waitpid(cg_child, NULL, 0);
    cg_child = -1;

    if (cgroup_destroy(&cg, &err) < 0)
        fail_msg("cgroup_destroy: %s", err->msg);
    for (size_t i = 0; cg.created[i]; i++)
        assert_false(is_dir(cg.created[i]));
    /* The hierarchy roots are untouched. */
    for (size_t i = 0; i < np; i++) {
        _cleanup_free_ char *root = xstrdup(cg.paths[i]);
        *strstr(root, cg_top) = '\0';
        assert_true(is_dir(root));
    }
    /* Destroying again is harmless (ENOENT is fine). */
    assert_int_equal(cgroup_destroy(&cg, &err), 0);
    cgroup_free(&cg);
    cgroup_free(&cg);
}

/* A directory that already existed is never recorded, so never removed. */
static void test_cgroup_existing_parent(void **state)
{
    (void)state;
    if (!have_cgroups())
        skip();
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *pa = xasprintf("%s/a", cg_top), *pb = xasprintf("%s/b", cg_top);
    struct husk_cgroup a, b;

    if (cgroup_create(pa, "a", &a, &err) < 0)
        fail_msg("cgroup_create a: %s", err->msg);
    if (cgroup_create(pb, "b", &b, &err) < 0) {
        cgroup_destroy(&a, NULL);
        cgroup_free(&a);
        fail_msg("cgroup_create b: %s", err->msg);
    }
    size_t np = strv_len(b.paths);
    assert_int_equal(strv_len(b.created), np);
    for (size_t i = 0; i < np; i++)
        assert_string_equal(b.created[i], b.paths[i]);

    assert_int_equal(cgroup_destroy(&b, &err), 0);
    for (size_t i = 0; i < np; i++) {
        assert_false(is_dir(b.paths[i]));
        assert_true(is_dir(a.paths[i]));
    }
    assert_int_equal(cgroup_destroy(&a, &err), 0);
    for (size_t i = 0; a.created[i]; i++)
        assert_false(is_dir(a.created[i]));
    cgroup_free(&a);
    cgroup_free(&b);

    /* Bad paths create nothing. */
    struct husk_cgroup c;
    _cleanup_free_ char *bad = xasprintf("%s/../x", cg_top);
    assert_int_equal(cgroup_create(bad, "x", &c, &err), -1);
    assert_null(c.paths);
    assert_null(c.created);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_validate),
        cmocka_unit_test_setup_teardown(test_state_dir, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_state_dir_open_after_delete, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_list_ids, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_state_round_trip, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_state_corrupt, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_proc_start_time),
        cmocka_unit_test_setup_teardown(test_status, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_oci_json),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_cgroup_resolve),
        cmocka_unit_test_setup_teardown(test_cgroup_real, setup_cg, teardown_cg),
        cmocka_unit_test_setup_teardown(test_cgroup_existing_parent, setup_cg, teardown_cg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
