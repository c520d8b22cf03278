/* containers.c — container records, names and ids (containers.h has the layout). */
#include "containers.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layer_int.h"
#include "util.h"
#include "json_cleanup.h"


static const char *const status_names[] = {
    [CTR_CREATED] = "created", [CTR_RUNNING] = "running", [CTR_PAUSED] = "paused",
    [CTR_EXITED] = "exited",   [CTR_REMOVING] = "removing",
};

const char *ctr_status_name(enum ctr_status s)
{
    return s < ARRAY_SIZE(status_names) ? status_names[s] : "unknown";
}

char *ctr_dir(const struct store *st, const char *id)
{
    return xasprintf("%s/containers/%s", st->root, id);
}

static char *names_dir(const struct store *st)
{
    return xasprintf("%s/containers/names", st->root);
}

bool ctr_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 253 || !isalnum((unsigned char)name[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
            return false;
    return true;
}

static bool id_valid(const char *id)
{
    if (strlen(id) != 64)
        return false;
    for (const char *p = id; *p; p++)
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return false;
    return true;
}

char *ctr_random_id(void)
{
    unsigned char b[32];
    char hex[65];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (errno != EINTR)
            abort();
    }
    hex_encode(b, sizeof b, hex);
    return xstrdup(hex);
}

/* docker's generated names: adjective_surname (of scientists and engineers). */
static const char *const adjectives[] = {
    "admiring", "brave", "busy", "clever", "cool", "dazzling", "eager", "elegant", "epic", "festive",
    "focused", "gallant", "gifted", "happy", "hopeful", "jolly", "keen", "kind", "lucid", "modest",
    "nifty", "optimistic", "peaceful", "quirky", "relaxed", "serene", "sharp", "stoic", "tender", "vibrant",
    "wizardly", "zealous",
};
static const char *const surnames[] = {
    "agnesi", "babbage", "bardeen", "bohr", "curie", "darwin", "dijkstra", "einstein", "euler", "faraday",
    "fermat", "feynman", "galileo", "gauss", "hamilton", "hopper", "hypatia", "kepler", "knuth", "lamarr",
    "lovelace", "meitner", "newton", "noether", "pascal", "ritchie", "shannon", "thompson", "torvalds",
    "turing", "wozniak", "yalow",
};

static char *generate_name(int attempt)
{
    uint32_t r[2];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        r[0] = (uint32_t)getpid(), r[1] = (uint32_t)attempt;
    const char *a = adjectives[r[0] % ARRAY_SIZE(adjectives)], *s = surnames[r[1] % ARRAY_SIZE(surnames)];
    /* docker appends a digit once the plain pairs collide */
    return attempt < 3 ? xasprintf("%s_%s", a, s) : xasprintf("%s_%s%u", a, s, (r[0] >> 8) % 1000);
}

static bool has_record(const struct store *st, const char *id);
static void remove_leftover(const struct store *st, const char *id);

static int reserve_name(const struct store *st, const char *name, const char *id, husk_err **err)
{
    _cleanup_free_ char *dir = names_dir(st);
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (symlink(id, path) == 0)
            return 0;
        if (errno != EEXIST)
            return husk_fail(err, errno, "container name \"%s\"", name);
        char target[80];
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n <= 0)
            break;
        target[n] = '\0';
        /* The name of a create that was killed before its record was written is
         * free again, once nobody holds that container's lock. */
        if (attempt > 0 || has_record(st, target))
            return husk_fail(err, 0, "the container name \"%s\" is already in use by container %.12s", name,
                             target);
        remove_leftover(st, target);
        _cleanup_free_ char *tdir = xasprintf("%s/containers/%s", st->root, target);
        if (access(tdir, F_OK) == 0)
            return husk_fail(err, 0, "the container name \"%s\" is being taken by another create (%.12s)", name,
                             target);
        /* only the symlink we read: a concurrent create may have replaced it */
        char again[80];
        ssize_t m = readlink(path, again, sizeof again - 1);
        if (m == n && memcmp(again, target, (size_t)n) == 0)
            unlink(path);
    }
    return husk_fail(err, 0, "the container name \"%s\" is already in use", name);
}

int ctr_new(struct store *st, const char *name, char **id_out, char **name_out, int *lock_out, husk_err **err)
{
    _cleanup_free_ char *nd = names_dir(st);
    if (name && !ctr_name_valid(name))
        return husk_fail(err, 0, "invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
    if (mkdir_p(nd, 0700, err) < 0)
        return -1;
    _cleanup_free_ char *id = ctr_random_id();
    _cleanup_free_ char *dir = ctr_dir(st, id);
    if (mkdir(dir, 0700) < 0)
        return husk_fail(err, errno, "mkdir %s", dir);
    /* Held until the record is written: until then the directory is a create in
     * progress, which no ctr_list may take for a leftover. */
    _cleanup_close_ int lock = -1;
    if (ctr_lock(st, id, &lock, err) < 0) {
        rmdir(dir);
        return -1;
    }
    _cleanup_free_ char *nm = NULL;
    int r;
    if (name) {
        nm = xstrdup(name);
        r = reserve_name(st, nm, id, err);
    } else {
        for (int i = 0;; i++) {
            nm = generate_name(i);
            husk_err *e = NULL;
            r = reserve_name(st, nm, id, &e);
            if (r == 0 || i >= 20) {
                if (r < 0)
                    *err = e;
                else
                    husk_err_free(&e);
                break;
            }
            husk_err_free(&e);
            free(nm);
            nm = NULL;
        }
    }
    if (r < 0) {
        _cleanup_free_ char *lp = xasprintf("%s/.lock", dir);
        unlink(lp);
        rmdir(dir);
        return -1;
    }
    *id_out = steal_ptr(id);
    *name_out = steal_ptr(nm);
    *lock_out = steal_fd(lock);
    return 0;
}

int ctr_record_write(const struct store *st, const char *id, struct json_object *record, husk_err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/containers/%s/container.json", st->root, id);
    const char *text = json_object_to_json_string_ext(record, JSON_C_TO_STRING_PLAIN);
    return write_file_atomic(AT_FDCWD, path, text, strlen(text), 0600, err);
}

int ctr_record_read(const struct store *st, const char *id, struct json_object **out, husk_err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/containers/%s/container.json", st->root, id), *text = NULL;
    size_t len;
    if (read_file_at(AT_FDCWD, path, 1 << 22, &text, &len, err) < 0)
        return -1;
    *out = json_tokener_parse(text);
    if (!*out || !json_object_is_type(*out, json_type_object)) {
        if (*out)
            json_object_put(*out);
        *out = NULL;
        return husk_fail(err, 0, "container %.12s: container.json is not a JSON object", id);
    }
    return 0;
}

char *ctr_record_name(struct json_object *record)
{
    struct json_object *v;
    if (json_object_object_get_ex(record, "Name", &v)) {
        const char *s = json_object_get_string(v);
        return xstrdup(s[0] == '/' ? s + 1 : s);
    }
    return xstrdup("");
}

static const char *jstr(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static int64_t jint(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

void ctr_state_clear(struct ctr_state *s)
{
    free(s->started_at);
    free(s->finished_at);
    free(s->error);
    memset(s, 0, sizeof *s);
}

int ctr_state_read(const struct store *st, const char *id, struct ctr_state *out, husk_err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/containers/%s/state.json", st->root, id), *text = NULL;
    size_t len;
    memset(out, 0, sizeof *out);
    if (read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, err) < 0)
        return -1;
    _cleanup_json_ struct json_object *o = json_tokener_parse(text);
    if (!o || !json_object_is_type(o, json_type_object))
        return husk_fail(err, 0, "container %.12s: state.json is not a JSON object", id);
    const char *status = jstr(o, "status");
    out->status = CTR_EXITED;
    for (size_t i = 0; status && i < ARRAY_SIZE(status_names); i++)
        if (strcmp(status, status_names[i]) == 0)
            out->status = (enum ctr_status)i;
    out->pid = (pid_t)jint(o, "pid");
    out->monitor_pid = (pid_t)jint(o, "monitorPid");
    out->monitor_start = (unsigned long long)jint(o, "monitorStart");
    out->exit_code = (int)jint(o, "exitCode");
    out->restart_count = (int)jint(o, "restartCount");
    const char *s;
    if ((s = jstr(o, "startedAt")))
        out->started_at = xstrdup(s);
    if ((s = jstr(o, "finishedAt")))
        out->finished_at = xstrdup(s);
    if ((s = jstr(o, "error")))
        out->error = xstrdup(s);
    return 0;
}

int ctr_state_write(const struct store *st, const char *id, const struct ctr_state *s, husk_err **err)
{
    _cleanup_json_ struct json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(ctr_status_name(s->status)));
    json_object_object_add(o, "pid", json_object_new_int64(s->pid));
    json_object_object_add(o, "monitorPid", json_object_new_int64(s->monitor_pid));
    json_object_object_add(o, "monitorStart", json_object_new_int64((int64_t)s->monitor_start));
    json_object_object_add(o, "exitCode", json_object_new_int(s->exit_code));
    json_object_object_add(o, "restartCount", json_object_new_int(s->restart_count));
    if (s->started_at)
        json_object_object_add(o, "startedAt", json_object_new_string(s->started_at));
    if (s->finished_at)
        json_object_object_add(o, "finishedAt", json_object_new_string(s->finished_at));
    if (s->error)
        json_object_object_add(o, "error", json_object_new_string(s->error));
    _cleanup_free_ char *path = xasprintf("%s/containers/%s/state.json", st->root, id);
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    return write_file_atomic(AT_FDCWD, path, text, strlen(text), 0600, err);
}

static bool has_record(const struct store *st, const char *id)
{
    _cleanup_free_ char *rec = xasprintf("%s/containers/%s/container.json", st->root, id);
    return access(rec, F_OK) == 0;
}

int ctr_lookup(struct store *st, const char *q, char **id_out, husk_err **err)
{
    if (!*q || strchr(q, '/'))
        return husk_fail(err, 0, "no such container: \"%s\"", q);
    /* a name first (docker: a name wins over an id prefix) */
    _cleanup_free_ char *np = xasprintf("%s/containers/names/%s", st->root, q);
    char target[80];
    ssize_t n = readlink(np, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        if (id_valid(target) && has_record(st, target)) {
            *id_out = xstrdup(target);
            return 0;
        }
    }
    size_t ql = strlen(q);
    bool hex = ql <= 64;
    for (const char *p = q; *p; p++)
        hex = hex && isxdigit((unsigned char)*p);
    if (!hex)
        return husk_fail(err, 0, "no such container: \"%s\"", q);
    _cleanup_free_ char *top = xasprintf("%s/containers", st->root);
    _cleanup_closedir_ DIR *d = opendir(top);
    _cleanup_free_ char *found = NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!id_valid(de->d_name) || strncmp(de->d_name, q, ql) != 0 || !has_record(st, de->d_name))
            continue;
        if (found)
            return husk_fail(err, 0, "\"%s\" matches more than one container: give more of the id", q);
        found = xstrdup(de->d_name);
    }
    if (!found)
        return husk_fail(err, 0, "no such container: \"%s\"", q);
    *id_out = steal_ptr(found);
    return 0;
}

int ctr_lock(const struct store *st, const char *id, int *fd, husk_err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/containers/%s/.lock", st->root, id);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (*fd < 0)
        return husk_fail(err, errno, "container %.12s: lock", id);
    while (flock(*fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int e = errno;
            close(*fd);
            *fd = -1;
            return husk_fail(err, e, "container %.12s: lock", id);
        }
    }
    return 0;
}

/* Remove ROOT/containers/<id> — never through a mount: a rootfs still mounted
 * (a killed command) is detached first, and refused if that fails. */
static int remove_dir(const struct store *st, const char *id)
{
    _cleanup_free_ char *top = xasprintf("%s/containers", st->root);
    _cleanup_free_ char *rootfs = xasprintf("%s/%s/bundle/rootfs", top, id);
    struct stat a, b;
    if (stat(rootfs, &a) == 0 && stat(top, &b) == 0 && a.st_dev != b.st_dev) {
        umount2(rootfs, MNT_DETACH);
        if (stat(rootfs, &a) == 0 && a.st_dev != b.st_dev)
            return -EBUSY;
    }
    _cleanup_close_ int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : tree_remove_at(fd, id);
}

/* A directory without a record whose lock nobody holds is what a killed create
 * left: nothing in it is mounted (the overlay is mounted only after the record is
 * written), so it goes. */
static void remove_leftover(const struct store *st, const char *id)
{
    _cleanup_free_ char *dir = ctr_dir(st, id);
    _cleanup_free_ char *lock = xasprintf("%s/.lock", dir);
    _cleanup_close_ int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || has_record(st, id))
        return;
    (void)remove_dir(st, id);
}

/* When the container was made: the record's Created (RFC 3339, UTC), else the
 * record file's mtime. */
static struct timespec created_of(const struct store *st, const char *id, const struct stat *sb)
{
    struct timespec t = sb->st_mtim;
    _cleanup_json_ struct json_object *rec = NULL;
    husk_err *e = NULL;
    if (ctr_record_read(st, id, &rec, &e) < 0) {
        husk_err_free(&e);
        return t;
    }
    const char *c = jstr(rec, "Created");
    struct tm tm = { 0 };
    const char *rest = c ? strptime(c, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!rest)
        return t;
    t.tv_sec = timegm(&tm);
    t.tv_nsec = 0;
    if (*rest == '.') {
        long mul = 100000000;
        for (rest++; isdigit((unsigned char)*rest) && mul > 0; rest++, mul /= 10)
            t.tv_nsec += (*rest - '0') * mul;
    }
    return t;
}

static int cmp_created_desc(const void *a, const void *b)
{
    const struct { char *id; struct timespec t; } *x = a, *y = b;
    if (x->t.tv_sec != y->t.tv_sec)
        return x->t.tv_sec < y->t.tv_sec ? 1 : -1;
    if (x->t.tv_nsec != y->t.tv_nsec)
        return x->t.tv_nsec < y->t.tv_nsec ? 1 : -1;
    return strcmp(x->id, y->id);
}

int ctr_list(struct store *st, char ***ids_out, husk_err **err)
{
    _cleanup_free_ char *top = xasprintf("%s/containers", st->root);
    struct item { char *id; struct timespec t; } *items = NULL;
    size_t n = 0;
    _cleanup_closedir_ DIR *d = opendir(top);
    if (!d && errno != ENOENT)
        return husk_fail(err, errno, "%s", top);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!id_valid(de->d_name))
            continue;
        _cleanup_free_ char *rec = xasprintf("%s/%s/container.json", top, de->d_name);
        struct stat sb;
        if (stat(rec, &sb) < 0) {
            remove_leftover(st, de->d_name);
            continue;
        }
        items = xrealloc(items, (n + 1) * sizeof *items);
        items[n].id = xstrdup(de->d_name);
        items[n].t = created_of(st, de->d_name, &sb);
        n++;
    }
    if (n > 1)
        qsort(items, n, sizeof *items, cmp_created_desc);
    char **ids = xcalloc(n + 1, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = items[i].id;
    free(items);
    *ids_out = ids;
    return 0;
}

int ctr_rename(struct store *st, const char *id, const char *new_name, husk_err **err)
{
    if (!ctr_name_valid(new_name))
        return husk_fail(err, 0, "invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                         new_name);
    _cleanup_json_ struct json_object *rec = NULL;
    if (ctr_record_read(st, id, &rec, err) < 0)
        return -1;
    _cleanup_free_ char *old = ctr_record_name(rec);
    if (strcmp(old, new_name) == 0)
        return husk_fail(err, 0, "renaming container \"%s\": the new name is the same as the old one", old);
    if (reserve_name(st, new_name, id, err) < 0)
        return -1;
    _cleanup_free_ char *slashed = xasprintf("/%s", new_name);
    json_object_object_add(rec, "Name", json_object_new_string(slashed));
    if (ctr_record_write(st, id, rec, err) < 0) {
        _cleanup_free_ char *np = xasprintf("%s/containers/names/%s", st->root, new_name);
        unlink(np);
        return -1;
    }
    _cleanup_free_ char *op = xasprintf("%s/containers/names/%s", st->root, old);
    unlink(op);
    return 0;
}

void ctr_release_name(const struct store *st, const char *name, const char *id)
{
    _cleanup_free_ char *np = xasprintf("%s/containers/names/%s", st->root, name);
    char target[80];
    ssize_t n = readlink(np, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        if (strcmp(target, id) == 0)
            unlink(np);
    }
}

int ctr_remove_files(struct store *st, const char *id, husk_err **err)
{
    _cleanup_json_ struct json_object *rec = NULL;
    husk_err *e = NULL;
    if (ctr_record_read(st, id, &rec, &e) == 0) {
        _cleanup_free_ char *name = ctr_record_name(rec);
        ctr_release_name(st, name, id);
    }
    husk_err_free(&e);
    /* The record goes first: from then on the container does not exist, whatever a
     * kill leaves of the rest (ctr_list removes it). */
    _cleanup_free_ char *rec_path = xasprintf("%s/containers/%s/container.json", st->root, id);
    if (unlink(rec_path) < 0 && errno != ENOENT)
        return husk_fail(err, errno, "remove %s", rec_path);
    int r = remove_dir(st, id);
    return r < 0 ? husk_fail(err, -r, "remove container %.12s", id) : 0;
}

unsigned long long ctr_pid_start(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    _cleanup_free_ char *text = NULL;
    size_t len;
    husk_err *e = NULL;
    if (pid <= 0 || read_file_at(AT_FDCWD, path, 4096, &text, &len, &e) < 0) {
        husk_err_free(&e);
        return 0;
    }
    /* fields after the command (which may hold spaces and parentheses) */
    char *p = strrchr(text, ')');
    if (!p)
        return 0;
    p++;
    /* a zombie (or dying) process is gone already, but for its parent's wait */
    if (p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X'))
        return 0;
    unsigned long long v = 0;
    /* p is at the space before field 3; field 22 is 19 spaces on */
    for (int field = 3; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    if (p)
        v = strtoull(p + 1, NULL, 10);
    return v;
}

bool ctr_pid_is(pid_t pid, unsigned long long start)
{
    if (pid <= 0)
        return false;
    unsigned long long now = ctr_pid_start(pid);
    return now != 0 && (start == 0 || now == start);
}

int ctr_using_image(struct store *st, const char *image_id, char ***ids_out, husk_err **err)
{
    _cleanup_strv_ char **ids = NULL;
    if (ctr_list(st, &ids, err) < 0)
        return -1;
    size_t n = 0;
    char **out = xcalloc(1, sizeof *out);
    for (size_t i = 0; ids[i]; i++) {
        _cleanup_json_ struct json_object *rec = NULL;
        husk_err *e = NULL;
        if (ctr_record_read(st, ids[i], &rec, &e) < 0) {
            husk_err_free(&e);
            continue;
        }
        const char *img = jstr(rec, "Image");
        if (!img || (image_id && strcmp(img, image_id) != 0))
            continue;
        out = xrealloc(out, (n + 2) * sizeof *out);
        out[n++] = xstrdup(image_id ? ids[i] : img);
        out[n] = NULL;
    }
    *ids_out = out;
    return 0;
}
