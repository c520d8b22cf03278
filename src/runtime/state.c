/* state.c — see state.h.
 *
 * state.json is husk's private record, so it is read strictly: anything that is not
 * exactly what state_write() produces is reported as corruption naming the field,
 * rather than guessed at — a half-understood state could make `delete` remove the
 * wrong cgroup or signal the wrong process. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "state.h"
#include "config_json.h"
#include "util.h"

#if defined(__has_include)
#if __has_include("husk-config.h")
#include "husk-config.h"
#include "json_cleanup.h"
#endif
#endif
#ifndef HUSK_OCI_VERSION
#define HUSK_OCI_VERSION "1.3.0"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define STATE_FILE "state.json"
#define STATE_CONFIG_FILE "config.json"
#define STATE_MAX (1024 * 1024)


/* ---- ids ------------------------------------------------------------------ */

static bool id_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '+' || c == '-';
}

/* The id comes straight from the command line: quote it so that newlines or escape
 * sequences in a hostile id cannot forge extra log lines or mess up the terminal. */
static char *escape_id(const char *s, size_t len)
{
    char *out = xmalloc(len * 4 + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (c == '\t') {
            *o++ = '\\';
            *o++ = 't';
        } else if (c == '\r') {
            *o++ = '\\';
            *o++ = 'r';
        } else if (c < 0x20 || c >= 0x7f) {
            o += sprintf(o, "\\x%02x", c);
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

int id_validate(const char *id, husk_err **err)
{
    if (id == NULL || id[0] == '\0')
        return husk_fail(err, 0, "container id is empty");
    size_t len = strlen(id);
    if (len > HUSK_ID_MAX)
        return husk_fail(err, 0, "container id is too long (%zu bytes, at most %d)", len, HUSK_ID_MAX);
    for (size_t i = 0; i < len; i++) {
        if (!id_char_ok((unsigned char)id[i])) {
            _cleanup_free_ char *q = escape_id(id, len);
            return husk_fail(err, 0, "invalid container id \"%s\": only [A-Za-z0-9_.+-] are allowed", q);
        }
    }
    if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return husk_fail(err, 0, "invalid container id \"%s\": must not be \".\" or \"..\"", id);
    return 0;
}

/* ---- state directory ------------------------------------------------------ */

static int open_root(const char *root, bool create, husk_err **err)
{
    if (create && mkdir_p(root, 0700, err) < 0)
        return husk_err_prefix(err, "create state root");
    /* A symlinked root is followed (runc does the same with --root); only the
     * container directories below it are opened with O_NOFOLLOW. */
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return husk_fail(err, errno, "open state root %s", root);
    return fd;
}

static int lock_dir(int fd, const char *id, husk_err **err)
{
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR)
            return husk_fail(err, errno, "lock state directory of container %s", id);
    }
    return 0;
}

static int fail_exists(husk_err **err, const char *id)
{
    husk_fail(err, 0, "container with id exists: %s", id);
    if (err && *err)
        (*err)->errnum = EEXIST;
    return -1;
}

/* The id is taken. If nobody holds the directory's lock (a create in progress holds
 * it until it returns) and it has no complete state (no state.json, or pid 0: the
 * init was never recorded), the create that made it died half-way: say so, and how
 * to clean it. husk does not remove it by itself, as runc does not: delete --force is
 * the one command that kills and removes, and it finds the cgroups by id. */
static int fail_exists_at(husk_err **err, int rootfd, const char *id)
{
    _cleanup_close_ int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    struct husk_state *st = NULL;
    bool stale = false;

    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
        stale = state_read(fd, id, &st, NULL) < 0 || st->pid == 0;
        state_free(st);
        flock(fd, LOCK_UN);
    }
    if (!stale)
        return fail_exists(err, id);
    husk_fail(err, 0, "container with id exists: %s (left half-made by a create that did not finish; "
                      "`husk delete --force %s` removes it)", id, id);
    if (err && *err)
        (*err)->errnum = EEXIST;
    return -1;
}

static int fail_missing(husk_err **err, const char *id)
{
    husk_fail(err, 0, "container does not exist: %s", id);
    if (err && *err)
        (*err)->errnum = ENOENT;
    return -1;
}

int state_dir_create(const char *root, const char *id, husk_err **err)
{
    static unsigned counter;
    if (id_validate(id, err) < 0)
        return -1;
    _cleanup_close_ int rootfd = open_root(root, true, err);
    if (rootfd < 0)
        return -1;

    /* Build and lock the directory under a temporary name (with '~', which no id can
     * contain, so state_list_ids skips it) and only then move it into place: nobody
     * can open <root>/<id> before we hold its lock and see a directory without state. */
    _cleanup_free_ char *tmp = xasprintf("~tmp.%d.%u", (int)getpid(), counter++);
    if (mkdirat(rootfd, tmp, 0700) < 0)
        return husk_fail(err, errno, "create state directory %s/%s", root, id);
    _cleanup_close_ int fd = openat(rootfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        unlinkat(rootfd, tmp, AT_REMOVEDIR);
        return husk_fail(err, e, "open state directory %s/%s", root, tmp);
    }
    if (lock_dir(fd, id, err) < 0) {
        unlinkat(rootfd, tmp, AT_REMOVEDIR);
        return -1;
    }
    if (renameat2(rootfd, tmp, rootfd, id, RENAME_NOREPLACE) == 0)
        return steal_fd(fd);

    int e = errno;
    unlinkat(rootfd, tmp, AT_REMOVEDIR);
    if (e == EEXIST)
        return fail_exists_at(err, rootfd, id);
    if (e != EINVAL && e != ENOSYS)
        return husk_fail(err, e, "create state directory %s/%s", root, id);

    /* The filesystem cannot rename without replacing: plain mkdir, accepting the
     * tiny window before the lock is taken. */
    closep(&fd);
    if (mkdirat(rootfd, id, 0700) < 0) {
        if (errno == EEXIST)
            return fail_exists_at(err, rootfd, id);
        return husk_fail(err, errno, "create state directory %s/%s", root, id);
    }
    fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return husk_fail(err, errno, "open state directory %s/%s", root, id);
    if (lock_dir(fd, id, err) < 0)
        return -1;
    return steal_fd(fd);
}

int state_dir_open(const char *root, const char *id, husk_err **err)
{
    if (id_validate(id, err) < 0)
        return -1;
    _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        if (errno == ENOENT)
            return fail_missing(err, id);
        return husk_fail(err, errno, "open state root %s", root);
    }
    _cleanup_close_ int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return fail_missing(err, id);
        return husk_fail(err, errno, "open state directory %s/%s", root, id);
    }
    if (lock_dir(fd, id, err) < 0)
        return -1;
    /* While we waited for the lock, a concurrent delete may have removed the
     * directory: an unlinked directory has no links left. */
    struct stat st;
    if (fstat(fd, &st) < 0)
        return husk_fail(err, errno, "stat state directory %s/%s", root, id);
    if (st.st_nlink == 0)
        return fail_missing(err, id);
    return steal_fd(fd);
}

int state_dir_remove(const char *root, const char *id, husk_err **err)
{
    if (id_validate(id, err) < 0)
        return -1;
    _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        if (errno == ENOENT)
            return 0;
        return husk_fail(err, errno, "open state root %s", root);
    }
    int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return husk_fail(err, errno, "open state directory %s/%s", root, id);
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return husk_fail(err, e, "open state directory %s/%s", root, id);
    }
    int ret = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        int flags = de->d_type == DT_DIR ? AT_REMOVEDIR : 0;
        if (unlinkat(dirfd(d), de->d_name, flags) < 0 && errno != ENOENT) {
            /* d_type may be DT_UNKNOWN on some filesystems: retry as a directory. */
            if (errno == EISDIR && unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == 0) {
                errno = 0;
                continue;
            }
            ret = husk_fail(err, errno, "remove %s/%s/%s", root, id, de->d_name);
        }
        errno = 0;
    }
    if (errno != 0 && ret == 0)
        ret = husk_fail(err, errno, "read state directory %s/%s", root, id);
    closedir(d);
    if (ret < 0)
        return ret;
    if (unlinkat(rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return husk_fail(err, errno, "remove state directory %s/%s", root, id);
    return 0;
}

/* ---- the config the container was created from ---------------------------- */

int state_save_config(int dirfd, const char *bundle, husk_err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;

    /* runtime.md: "Any updates to config.json after this step MUST NOT affect the
     * container" — start and delete run hooks from this copy, not the bundle's. */
    if (read_file_at(AT_FDCWD, path, STATE_MAX * 32, &text, &len, err) < 0)
        return husk_err_prefix(err, "save config of the container");
    if (write_file_atomic(dirfd, STATE_CONFIG_FILE, text, len, 0600, err) < 0)
        return husk_err_prefix(err, "save config of the container");
    return 0;
}

/* ---- state.json ----------------------------------------------------------- */

static struct json_object *jstr_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static struct json_object *jstrv(char **v)
{
    struct json_object *a = json_object_new_array();
    for (char **p = v; p && *p; p++)
        json_object_array_add(a, json_object_new_string(*p));
    return a;
}

int state_write(int dirfd, const struct husk_state *s, husk_err **err)
{
    _cleanup_json_ struct json_object *o = json_object_new_object();
    struct json_object *ann = json_object_new_object();

    json_object_object_add(o, "id", jstr_or_null(s->id));
    json_object_object_add(o, "pid", json_object_new_int64(s->pid));
    json_object_object_add(o, "pid_start", json_object_new_uint64(s->pid_start));
    json_object_object_add(o, "bundle", jstr_or_null(s->bundle));
    json_object_object_add(o, "rootfs", jstr_or_null(s->rootfs));
    json_object_object_add(o, "created", jstr_or_null(s->created));
    json_object_object_add(o, "owner", jstr_or_null(s->owner));
    for (size_t i = 0; i < s->n_annotations; i++)
        json_object_object_add(ann, s->annotations[i].key, json_object_new_string(s->annotations[i].value));
    json_object_object_add(o, "annotations", ann);
    json_object_object_add(o, "cgroup_created", jstrv(s->cgroup_created));
    json_object_object_add(o, "cgroup_paths", jstrv(s->cgroup_paths));
    json_object_object_add(o, "cgroup_freezer", jstr_or_null(s->cgroup_freezer));
    json_object_object_add(o, "has_poststop", json_object_new_boolean(s->has_poststop));
    json_object_object_add(o, "config_path", jstr_or_null(s->config_path));
    json_object_object_add(o, "no_new_keyring", json_object_new_boolean(s->no_new_keyring));

    size_t len;
    const char *text = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (text == NULL)
        return husk_fail(err, ENOMEM, "serialize state of container %s", s->id);
    if (write_file_atomic(dirfd, STATE_FILE, text, len, 0600, err) < 0)
        return husk_err_prefix(err, "save state of container %s", s->id);
    return 0;
}

struct reader {
    const char *id;
    husk_err **err;
};

static int corrupt(struct reader *r, const char *field, const char *what)
{
    return husk_fail(r->err, 0, "state.json of container %s is corrupt: %s: %s", r->id, field, what);
}

static int get_str(struct reader *r, struct json_object *o, const char *key, bool nullable, char **out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return corrupt(r, key, "missing");
    if (v == NULL) {
        if (!nullable)
            return corrupt(r, key, "expected a string");
        *out = NULL;
        return 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return corrupt(r, key, nullable ? "expected a string or null" : "expected a string");
    const char *s = json_object_get_string(v);
    /* An embedded NUL would silently shorten the value. */
    if (strlen(s) != (size_t)json_object_get_string_len(v))
        return corrupt(r, key, "contains a NUL byte");
    *out = xstrdup(s);
    return 0;
}

static int get_strv(struct reader *r, struct json_object *o, const char *key, char ***out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return corrupt(r, key, "missing");
    if (v == NULL || !json_object_is_type(v, json_type_array))
        return corrupt(r, key, "expected an array of strings");
    size_t n = json_object_array_length(v);
    _cleanup_strv_ char **res = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(v, i);
        if (e == NULL || !json_object_is_type(e, json_type_string) ||
            strlen(json_object_get_string(e)) != (size_t)json_object_get_string_len(e) ||
            json_object_get_string(e)[0] != '/') {
            _cleanup_free_ char *f = xasprintf("%s[%zu]", key, i);
            return corrupt(r, f, "expected an absolute path");
        }
        res[i] = xstrdup(json_object_get_string(e));
    }
    *out = steal_ptr(res);
    return 0;
}

static int get_int(struct reader *r, struct json_object *o, const char *key, int64_t max, int64_t *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return corrupt(r, key, "missing");
    if (v == NULL || !json_object_is_type(v, json_type_int))
        return corrupt(r, key, "expected an integer");
    int64_t x = json_object_get_int64(v);
    /* json-c saturates numbers beyond int64 (they are kept as uint64): a mismatch
     * between the two views means the value did not fit. */
    if (x < 0 || x > max || (uint64_t)x != json_object_get_uint64(v))
        return corrupt(r, key, "out of range");
    *out = x;
    return 0;
}

static int parse_state(struct reader *r, struct json_object *o, struct husk_state *s)
{
    int64_t n;
    struct json_object *v;

    if (!json_object_is_type(o, json_type_object))
        return corrupt(r, "(top level)", "expected an object");
    if (get_str(r, o, "id", false, &s->id) < 0)
        return -1;
    if (strcmp(s->id, r->id) != 0)
        return corrupt(r, "id", "does not match the directory name");
    if (get_int(r, o, "pid", INT_MAX, &n) < 0)
        return -1;
    s->pid = (pid_t)n;
    if (get_int(r, o, "pid_start", INT64_MAX, &n) < 0)
        return -1;
    s->pid_start = (unsigned long long)n;
    if (get_str(r, o, "bundle", false, &s->bundle) < 0 || get_str(r, o, "rootfs", true, &s->rootfs) < 0 ||
        get_str(r, o, "created", false, &s->created) < 0 || get_str(r, o, "owner", true, &s->owner) < 0)
        return -1;

    if (!json_object_object_get_ex(o, "annotations", &v))
        return corrupt(r, "annotations", "missing");
    if (v == NULL || !json_object_is_type(v, json_type_object))
        return corrupt(r, "annotations", "expected an object");
    size_t cnt = (size_t)json_object_object_length(v);
    s->annotations = xcalloc(cnt ? cnt : 1, sizeof(*s->annotations));
    json_object_object_foreach(v, key, val)
    {
        if (val == NULL || !json_object_is_type(val, json_type_string) ||
            strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val)) {
            /* escaped: the key is file content and the message goes to a terminal */
            _cleanup_free_ char *f = cj_path_key("annotations", key);
            return corrupt(r, f, "expected a string");
        }
        s->annotations[s->n_annotations].key = xstrdup(key);
        s->annotations[s->n_annotations].value = xstrdup(json_object_get_string(val));
        s->n_annotations++;
    }

    if (get_strv(r, o, "cgroup_created", &s->cgroup_created) < 0 ||
        get_strv(r, o, "cgroup_paths", &s->cgroup_paths) < 0 ||
        get_str(r, o, "cgroup_freezer", true, &s->cgroup_freezer) < 0)
        return -1;
    if (!json_object_object_get_ex(o, "has_poststop", &v))
        return corrupt(r, "has_poststop", "missing");
    if (v == NULL || !json_object_is_type(v, json_type_boolean))
        return corrupt(r, "has_poststop", "expected a boolean");
    s->has_poststop = json_object_get_boolean(v);
    /* Optional: state dirs of an older husk do not have it (false). */
    if (json_object_object_get_ex(o, "no_new_keyring", &v)) {
        if (v == NULL || !json_object_is_type(v, json_type_boolean))
            return corrupt(r, "no_new_keyring", "expected a boolean");
        s->no_new_keyring = json_object_get_boolean(v);
    }
    return get_str(r, o, "config_path", true, &s->config_path);
}

/* state.json as a regular file only: a symlink is not followed (it could point
 * anywhere on the host), and a fifo or device must not block list or state. */
static int read_state_file(int dirfd, const char *id, char **out, size_t *len, husk_err **err)
{
    struct reader r = { .id = id, .err = err };
    _cleanup_close_ int fd = openat(dirfd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            husk_fail(err, 0, "state of container %s is incomplete: no state.json (a create that did not "
                              "finish? `husk delete --force %s` removes it)", id, id);
            if (err && *err)
                (*err)->errnum = ENOENT;
            return -1;
        }
        if (errno == ELOOP)
            return corrupt(&r, "(file)", "a symlink");
        if (errno == EISDIR)
            return corrupt(&r, "(file)", "not a regular file");
        return husk_fail(err, errno, "state of container %s: open state.json", id);
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return husk_fail(err, errno, "state of container %s: stat state.json", id);
    if (!S_ISREG(sb.st_mode))
        return corrupt(&r, "(file)", "not a regular file");
    if (sb.st_size > STATE_MAX)
        return corrupt(&r, "(file)", "too large");
    _cleanup_free_ char *buf = xmalloc((size_t)sb.st_size + 2);
    /* One byte more than the size: a file growing under us is seen as too large. */
    ssize_t n = read_all(fd, buf, (size_t)sb.st_size + 1);
    if (n < 0)
        return husk_fail(err, errno, "state of container %s: read state.json", id);
    if ((size_t)n > (size_t)sb.st_size)
        return corrupt(&r, "(file)", "changed while read");
    buf[n] = '\0';
    *len = (size_t)n;
    *out = steal_ptr(buf);
    return 0;
}

int state_read(int dirfd, const char *id, struct husk_state **out, husk_err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;

    if (read_state_file(dirfd, id, &text, &len, err) < 0)
        return -1;
    return state_parse(text, len, id, out, err);
}

int state_parse(const char *text, size_t len, const char *id, struct husk_state **out, husk_err **err)
{
    struct reader r = { .id = id, .err = err };

    if (len > STATE_MAX)
        return corrupt(&r, "(file)", "too large");
    if (len == 0)
        return corrupt(&r, "(file)", "empty");
    if (memchr(text, '\0', len) != NULL)
        return corrupt(&r, "(file)", "contains a NUL byte");

    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return husk_fail(err, ENOMEM, "parse state of container %s", id);
    /* Include the terminating NUL: it tells json-c the input ends, so a bare top
     * level number is complete rather than "waiting for more digits". */
    _cleanup_json_ struct json_object *o = json_tokener_parse_ex(tok, text, (int)len + 1);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr == json_tokener_continue || jerr == json_tokener_error_parse_eof)
        return corrupt(&r, "(file)", "truncated JSON");
    if (jerr != json_tokener_success)
        return corrupt(&r, "(file)", json_tokener_error_desc(jerr));
    if (o == NULL) /* the document was a literal null */
        return corrupt(&r, "(top level)", "expected an object");
    for (size_t i = used; i < len; i++)
        if (!strchr(" \t\r\n", text[i]))
            return corrupt(&r, "(file)", "trailing data after the JSON object");

    struct husk_state *s = xcalloc(1, sizeof(*s));
    if (parse_state(&r, o, s) < 0) {
        state_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void state_free(struct husk_state *s)
{
    if (s == NULL)
        return;
    free(s->id);
    free(s->bundle);
    free(s->rootfs);
    free(s->created);
    free(s->owner);
    for (size_t i = 0; i < s->n_annotations; i++) {
        free(s->annotations[i].key);
        free(s->annotations[i].value);
    }
    free(s->annotations);
    strv_free(s->cgroup_created);
    strv_free(s->cgroup_paths);
    free(s->cgroup_freezer);
    free(s->config_path);
    free(s);
}

/* ---- status --------------------------------------------------------------- */

/* Fields of /proc/PID/stat that we need. comm (field 2) is in parentheses and may
 * itself contain spaces and ')', so parsing starts after the LAST ')'. */
static int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read_all(fd, buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    p++;
    /* After ')': field 3 (state) ... field 22 (starttime). */
    char *save = NULL;
    char *tok = strtok_r(p, " ", &save);
    for (int field = 3; tok; field++, tok = strtok_r(NULL, " ", &save)) {
        if (field == 3)
            *state = tok[0];
        if (field == 22) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(tok, &end, 10);
            if (errno != 0 || end == tok)
                return -1;
            *start = v;
            return 0;
        }
    }
    return -1;
}

unsigned long long proc_start_time(pid_t pid)
{
    char st = 0;
    unsigned long long start = 0;
    if (pid <= 0 || proc_stat(pid, &st, &start) < 0)
        return 0;
    return start;
}

static bool frozen(const char *dir)
{
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_free_ char *text = NULL;
    if (fd < 0)
        return false;
    if (read_file_at(fd, "freezer.state", 64, &text, NULL, NULL) == 0)
        return strncmp(text, "FROZEN", 6) == 0;
    if (read_file_at(fd, "cgroup.freeze", 64, &text, NULL, NULL) == 0)
        return text[0] == '1';
    return false;
}

/* Does process pid hold an fd on the file fifo (device and inode)? The container's
 * init holds one on exec.fifo from create until it execs the user's program (an
 * O_PATH fd while it waits, then the opened write end, both close-on-exec). When
 * /proc/PID/fd cannot be read, assume it does: the fifo's presence decides. */
static bool init_holds_fifo(pid_t pid, const struct stat *fifo)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    _cleanup_closedir_ DIR *d = opendir(path);
    if (!d)
        return true;
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && st.st_dev == fifo->st_dev && st.st_ino == fifo->st_ino)
            return true;
    }
    return false;
}

enum husk_status state_status(int dirfd, const struct husk_state *s)
{
    char st = 0;
    unsigned long long start = 0;

    /* pid 0: create has made the directory but not yet recorded the init process. */
    if (s->pid == 0)
        return HUSK_CREATING;
    if (proc_stat(s->pid, &st, &start) < 0 || start != s->pid_start)
        return HUSK_STOPPED;
    /* A zombie init has exited; it only waits for its parent to reap it. */
    if (st == 'Z' || st == 'X' || st == 'x')
        return HUSK_STOPPED;
    if (s->cgroup_freezer && frozen(s->cgroup_freezer))
        return HUSK_PAUSED;
    /* Created: exec.fifo is there and the init still holds it. A `start` killed
     * after releasing the init but before removing the fifo leaves a fifo nobody
     * holds: that container is running, and must not be started or deleted as a
     * created one. */
    struct stat fifo;
    if (fstatat(dirfd, "exec.fifo", &fifo, AT_SYMLINK_NOFOLLOW) == 0 && init_holds_fifo(s->pid, &fifo))
        return HUSK_CREATED;
    return HUSK_RUNNING;
}

const char *status_name(enum husk_status st)
{
    switch (st) {
    case HUSK_CREATING: return "creating";
    case HUSK_CREATED: return "created";
    case HUSK_RUNNING: return "running";
    case HUSK_PAUSED: return "paused";
    case HUSK_STOPPED: return "stopped";
    }
    return "unknown";
}

static char *oci_json(const struct husk_state *s, enum husk_status st, bool with_pid)
{
    _cleanup_json_ struct json_object *o = json_object_new_object();

    json_object_object_add(o, "ociVersion", json_object_new_string(HUSK_OCI_VERSION));
    json_object_object_add(o, "id", json_object_new_string(s->id ? s->id : ""));
    json_object_object_add(o, "status", json_object_new_string(status_name(st)));
    if (with_pid)
        json_object_object_add(o, "pid", json_object_new_int64(s->pid));
    json_object_object_add(o, "bundle", json_object_new_string(s->bundle ? s->bundle : ""));
    if (s->n_annotations > 0) {
        struct json_object *ann = json_object_new_object();
        for (size_t i = 0; i < s->n_annotations; i++)
            json_object_object_add(ann, s->annotations[i].key, json_object_new_string(s->annotations[i].value));
        json_object_object_add(o, "annotations", ann);
    }
    return xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

char *state_oci_json(const struct husk_state *s, enum husk_status st)
{
    /* runtime.md: pid is required when created or running; paused still has one. */
    return oci_json(s, st, st == HUSK_CREATED || st == HUSK_RUNNING || st == HUSK_PAUSED);
}

char *state_hook_json(const struct husk_state *s, enum husk_status st)
{
    /* While creating, the init already exists: createRuntime hooks find its
     * namespaces through /proc/<pid>/ns (the way CNI plugins are driven), as runc's
     * hooks get it. A stopped container's pid means nothing any more. */
    return oci_json(s, st, st != HUSK_STOPPED && s->pid > 0);
}

/* ---- listing, time -------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list_ids(const char *root, char ***ids, husk_err **err)
{
    size_t n = 0, cap = 16;
    _cleanup_strv_ char **res = xcalloc(cap + 1, sizeof(char *));

    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            return husk_fail(err, errno, "open state root %s", root);
        *ids = steal_ptr(res);
        return 0;
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return husk_fail(err, e, "open state root %s", root);
    }
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        bool isdir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            isdir = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        /* Skips ".", "..", temporary "~tmp.*" directories and anything foreign. */
        if (!isdir || id_validate(de->d_name, NULL) < 0) {
            errno = 0;
            continue;
        }
        if (n == cap) {
            cap *= 2;
            res = xrealloc(res, (cap + 1) * sizeof(char *));
        }
        res[n++] = xstrdup(de->d_name);
        res[n] = NULL;
        errno = 0;
    }
    int e = errno;
    closedir(d);
    if (e != 0)
        return husk_fail(err, e, "read state root %s", root);
    qsort(res, n, sizeof(char *), cmp_str);
    *ids = steal_ptr(res);
    return 0;
}

char *time_rfc3339(void)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* UTC by arithmetic rather than gmtime_r(): glibc's reads the time zone file
     * (/etc/localtime) on its first call, even for UTC. Days to a civil date as in
     * Howard Hinnant's days_from_civil inverse (proleptic Gregorian calendar). */
    long long days = (long long)ts.tv_sec / 86400, rem = (long long)ts.tv_sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    days += 719468;
    long long era = (days >= 0 ? days : days - 146096) / 146097;
    long long doe = days - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    tm.tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm.tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);   /* 0-based */
    tm.tm_year = (int)(yoe + era * 400 + (tm.tm_mon <= 1) - 1900);
    tm.tm_hour = (int)(rem / 3600);
    tm.tm_min = (int)(rem % 3600 / 60);
    tm.tm_sec = (int)(rem % 60);
    return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, (long)ts.tv_nsec);
}
