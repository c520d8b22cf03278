/* volumes.c — volumes and a container's mounts (volumes.h). */
#include "volumes.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containers.h"
#include "ctr_fs.h"
#include "image.h"
#include "layer_int.h"
#include "paths.h"
#include "util.h"

void vol_spec_clear(struct vol_spec *s)
{
    free(s->source);
    free(s->target);
    free(s->propagation);
    memset(s, 0, sizeof(*s));
}

bool vol_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 2 || n > 255 || !isalnum((unsigned char)name[0]))
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
            return false;
    return true;
}

static bool is_propagation(const char *s)
{
    static const char *const v[] = { "private", "rprivate", "shared", "rshared", "slave", "rslave" };
    for (size_t i = 0; i < ARRAY_SIZE(v); i++)
        if (strcmp(s, v[i]) == 0)
            return true;
    return false;
}

/* The container path: absolute, not "/", cleaned. */
static int set_target(struct vol_spec *s, const char *flag, const char *arg, const char *t, husk_err **err)
{
    if (!t || !*t)
        return husk_fail(err, 0, "%s \"%s\": no container path", flag, arg);
    if (t[0] != '/')
        return husk_fail(err, 0, "%s \"%s\": the container path \"%s\" must be absolute", flag, arg, t);
    s->target = path_clean(t);
    if (strcmp(s->target, "/") == 0)
        return husk_fail(err, 0, "%s \"%s\": cannot mount over /", flag, arg);
    return 0;
}

/* A -v source: an absolute host path (a bind), else a volume name. */
static int set_source(struct vol_spec *s, const char *flag, const char *arg, const char *src, husk_err **err)
{
    if (src[0] == '/') {
        s->type = VOL_BIND;
        s->source = path_clean(src);
        return 0;
    }
    if (!vol_name_valid(src))
        return husk_fail(err, 0, "%s \"%s\": \"%s\" is not a valid volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+), "
                                 "and a host path must be absolute", flag, arg, src);
    s->type = VOL_VOLUME;
    s->source = xstrdup(src);
    return 0;
}

int vol_parse_v(const char *arg, struct vol_spec *out, husk_err **err)
{
    memset(out, 0, sizeof(*out));
    out->tmpfs_size = -1;
    out->tmpfs_mode = -1;
    out->type = VOL_VOLUME;
    _cleanup_free_ char *copy = xstrdup(arg);
    char *parts[4] = { 0 };
    size_t n = 0;
    for (char *p = copy, *c; n < 4; p = c + 1) {
        parts[n++] = p;
        if (!(c = strchr(p, ':')))
            break;
        *c = '\0';
    }
    int ret = -1;
    if (n > 3 || !*arg) {
        husk_fail(err, 0, "-v \"%s\": not HOST-PATH:CONTAINER-PATH[:OPTIONS], NAME:CONTAINER-PATH[:OPTIONS] or "
                          "CONTAINER-PATH", arg);
        goto out;
    }
    if (n == 1) {
        if (set_target(out, "-v", arg, parts[0], err) < 0)
            goto out;
        ret = 0;
        goto out;
    }
    if (!*parts[0]) {
        husk_fail(err, 0, "-v \"%s\": empty source", arg);
        goto out;
    }
    if (set_source(out, "-v", arg, parts[0], err) < 0 || set_target(out, "-v", arg, parts[1], err) < 0)
        goto out;
    if (n == 3) {
        bool ro = false, rw = false;
        for (char *save = NULL, *o = strtok_r(parts[2], ",", &save); o; o = strtok_r(NULL, ",", &save)) {
            if (strcmp(o, "ro") == 0)
                ro = true;
            else if (strcmp(o, "rw") == 0)
                rw = true;
            else if (strcmp(o, "nocopy") == 0 && out->type == VOL_VOLUME)
                out->nocopy = true;
            else if (strcmp(o, "z") == 0 || strcmp(o, "Z") == 0)
                ; /* SELinux relabelling: nothing to do without SELinux */
            else if (is_propagation(o) && out->type == VOL_BIND && !out->propagation)
                out->propagation = xstrdup(o);
            else {
                husk_fail(err, 0, "-v \"%s\": invalid option \"%s\" (ro, rw, nocopy, z, Z, or a bind's propagation)",
                          arg, o);
                goto out;
            }
        }
        if (ro && rw) {
            husk_fail(err, 0, "-v \"%s\": both ro and rw", arg);
            goto out;
        }
        out->readonly = ro;
    }
    ret = 0;
out:
    if (ret < 0)
        vol_spec_clear(out);
    return ret;
}

static int parse_bool(const char *v, bool *out)
{
    if (!v || strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0)
        *out = true;
    else if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0)
        *out = false;
    else
        return -1;
    return 0;
}

/* docker's RAMInBytes for tmpfs-size: a number with b, k, m, g (binary units). */
static int parse_size(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -1;
    int64_t mul = 1;
    switch (tolower((unsigned char)*end)) {
    case '\0': break;
    case 'b': end++; break;
    case 'k': mul = 1LL << 10; end++; break;
    case 'm': mul = 1LL << 20; end++; break;
    case 'g': mul = 1LL << 30; end++; break;
    default: return -1;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end || v > INT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

int vol_parse_mount(const char *arg, struct vol_spec *out, husk_err **err)
{
    memset(out, 0, sizeof(*out));
    out->tmpfs_size = -1;
    out->tmpfs_mode = -1;
    out->type = VOL_VOLUME;
    _cleanup_free_ char *copy = xstrdup(arg);
    const char *type = "volume", *src = NULL, *dst = NULL;
    bool tmpfs_keys = false, bind_keys = false, volume_keys = false;
    int ret = -1;
    for (char *save = NULL, *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *v = strchr(kv, '=');
        if (v)
            *v++ = '\0';
        if (strcmp(kv, "type") == 0 && v) {
            type = v;
        } else if ((strcmp(kv, "source") == 0 || strcmp(kv, "src") == 0) && v) {
            src = v;
        } else if ((strcmp(kv, "target") == 0 || strcmp(kv, "destination") == 0 || strcmp(kv, "dst") == 0) && v) {
            dst = v;
        } else if (strcmp(kv, "readonly") == 0 || strcmp(kv, "ro") == 0) {
            if (parse_bool(v, &out->readonly) < 0) {
                husk_fail(err, 0, "--mount \"%s\": %s=%s: not true or false", arg, kv, v);
                goto out;
            }
        } else if (strcmp(kv, "volume-nocopy") == 0) {
            volume_keys = true;
            if (parse_bool(v, &out->nocopy) < 0) {
                husk_fail(err, 0, "--mount \"%s\": %s=%s: not true or false", arg, kv, v);
                goto out;
            }
        } else if (strcmp(kv, "bind-propagation") == 0 && v) {
            bind_keys = true;
            if (!is_propagation(v)) {
                husk_fail(err, 0, "--mount \"%s\": bind-propagation=%s: not private, rprivate, shared, rshared, "
                                  "slave or rslave", arg, v);
                goto out;
            }
            free(out->propagation);
            out->propagation = xstrdup(v);
        } else if (strcmp(kv, "tmpfs-size") == 0 && v) {
            tmpfs_keys = true;
            if (parse_size(v, &out->tmpfs_size) < 0) {
                husk_fail(err, 0, "--mount \"%s\": tmpfs-size=%s: not a size (e.g. 64m)", arg, v);
                goto out;
            }
        } else if (strcmp(kv, "tmpfs-mode") == 0 && v) {
            tmpfs_keys = true;
            char *end;
            long m = strtol(v, &end, 8);
            if (!*v || *end || m < 0 || m > 07777) {
                husk_fail(err, 0, "--mount \"%s\": tmpfs-mode=%s: not an octal mode", arg, v);
                goto out;
            }
            out->tmpfs_mode = (int)m;
        } else {
            husk_fail(err, 0, "--mount \"%s\": unexpected key \"%s\"%s", arg, kv, v ? "" : " (or it needs =VALUE)");
            goto out;
        }
    }
    if (strcmp(type, "bind") == 0)
        out->type = VOL_BIND;
    else if (strcmp(type, "volume") == 0)
        out->type = VOL_VOLUME;
    else if (strcmp(type, "tmpfs") == 0)
        out->type = VOL_TMPFS;
    else {
        husk_fail(err, 0, "--mount \"%s\": type \"%s\": not bind, volume or tmpfs", arg, type);
        goto out;
    }
    if ((tmpfs_keys && out->type != VOL_TMPFS) || (bind_keys && out->type != VOL_BIND) ||
        (volume_keys && out->type != VOL_VOLUME)) {
        husk_fail(err, 0, "--mount \"%s\": an option does not apply to type %s", arg, type);
        goto out;
    }
    if (set_target(out, "--mount", arg, dst, err) < 0)
        goto out;
    switch (out->type) {
    case VOL_BIND:
        if (!src || !*src) {
            husk_fail(err, 0, "--mount \"%s\": a bind mount needs source=HOST-PATH", arg);
            goto out;
        }
        if (src[0] != '/') {
            husk_fail(err, 0, "--mount \"%s\": the host path \"%s\" must be absolute", arg, src);
            goto out;
        }
        out->source = path_clean(src);
        break;
    case VOL_VOLUME:
        if (src && *src) {
            if (!vol_name_valid(src)) {
                husk_fail(err, 0, "--mount \"%s\": \"%s\" is not a valid volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)",
                          arg, src);
                goto out;
            }
            out->source = xstrdup(src);
        }
        break;
    case VOL_TMPFS:
        if (src) {
            husk_fail(err, 0, "--mount \"%s\": a tmpfs mount has no source", arg);
            goto out;
        }
        break;
    }
    ret = 0;
out:
    if (ret < 0)
        vol_spec_clear(out);
    return ret;
}

/* ---- volumes ------------------------------------------------------------------------ */

char *vol_dir(const struct store *st, const char *name)
{
    return xasprintf("%s/volumes/%s", st->root, name);
}

static int volumes_fd(const struct store *st, husk_err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/volumes", st->root);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return husk_fail(err, errno, "mkdir %s", path);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return husk_fail(err, errno, "open %s", path);
    return fd;
}

/* Fill data (an empty directory on the host) with the content of the directory
 * path in the rootfs; the directory's own owner and mode go to data too (docker's
 * copy-up). Nothing at path, or no directory: nothing to copy. */
static int fill_volume(int rootfd, const char *path, const char *data, husk_err **err)
{
    husk_err *e = NULL;
    /* Resolved beneath the rootfs: an image's symlink at path leads to the image's
     * own files, never the host's. */
    _cleanup_close_ int fd = open_in_root(rootfd, path, O_RDONLY | O_DIRECTORY, 0, &e);
    if (fd < 0) {
        husk_err_free(&e);
        return 0;
    }
    int copied = 1;
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return husk_fail(err, errno, "stat %s in the image", path);
    struct ctr_fs fs = { .rootfd = rootfd };
    struct ctr_cp_opts o = { .archive = true, .xattrs = true };
    _cleanup_free_ char *src = xasprintf("%s/.", path);
    if (ctr_fs_copy_out(&fs, src, data, -1, &o, err) < 0)
        return husk_err_prefix(err, "copy the image's %s into the volume", path);
    if (chown(data, sb.st_uid, sb.st_gid) < 0 || chmod(data, sb.st_mode & 07777) < 0)
        return husk_fail(err, errno, "chown %s", data);
    return copied;
}

static bool dir_empty(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    struct dirent *de;
    bool empty = true;
    while (empty && (de = readdir(d)))
        empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
    closedir(d);
    return empty;
}

int vol_fill_if_empty(struct store *st, const char *name, int fill_root, const char *fill_path, husk_err **err)
{
    _cleanup_free_ char *dir = vol_dir(st, name);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    /* exclusive: no remove, no other create fills it meanwhile */
    if (dfd < 0 || flock(dfd, LOCK_EX) < 0)
        return husk_fail(err, errno, "volume %s", name);
    if (!dir_empty(dfd, "_data"))
        return 0;
    _cleanup_strv_ char **users = NULL;
    if (vol_users(st, name, &users, err) < 0)
        return -1;
    if (users[0])
        return 0; /* a container has the empty one mounted: it stays the same directory */
    _cleanup_free_ char *rand = ctr_random_id(), *tmp = xasprintf(".fill-%.16s", rand);
    _cleanup_free_ char *tmp_path = xasprintf("%s/%s", dir, tmp);
    if (mkdirat(dfd, tmp, 0755) < 0)
        return husk_fail(err, errno, "volume %s: mkdir", name);
    int r = fill_volume(fill_root, fill_path, tmp_path, err);
    /* Filled whole aside, then swapped in at once: _data is empty or complete,
     * never half; a killed fill leaves only a .fill-* beside it. */
    if (r > 0 && renameat2(dfd, tmp, dfd, "_data", RENAME_EXCHANGE) < 0)
        r = husk_fail(err, errno, "volume %s: rename", name);
    tree_remove_at(dfd, tmp);
    return r < 0 ? husk_err_prefix(err, "volume %s", name) : 0;
}

static int write_meta(const char *dir, const char *nm, const char *mountpoint, char *const *labels, bool anonymous,
                      husk_err **err)
{
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "Name", json_object_new_string(nm));
    json_object_object_add(j, "Driver", json_object_new_string("local"));
    json_object_object_add(j, "Mountpoint", json_object_new_string(mountpoint));
    struct json_object *lab = json_object_new_object();
    for (size_t i = 0; labels && labels[i]; i++) {
        const char *eq = strchr(labels[i], '=');
        _cleanup_free_ char *k = eq ? strndup(labels[i], (size_t)(eq - labels[i])) : xstrdup(labels[i]);
        json_object_object_add(lab, k, json_object_new_string(eq ? eq + 1 : ""));
    }
    json_object_object_add(j, "Labels", lab);
    _cleanup_free_ char *now = image_now_rfc3339();
    json_object_object_add(j, "CreatedAt", json_object_new_string(now));
    json_object_object_add(j, "Scope", json_object_new_string("local"));
    json_object_object_add(j, "Options", json_object_new_object());
    json_object_object_add(j, "Anonymous", json_object_new_boolean(anonymous));
    _cleanup_free_ char *jpath = xasprintf("%s/volume.json", dir);
    const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    int r = write_file_atomic(AT_FDCWD, jpath, text, strlen(text), 0600, err);
    json_object_put(j);
    return r;
}

int vol_create(struct store *st, const char *name, char *const *labels, int fill_root, const char *fill_path,
               char **name_out, bool *created, husk_err **err)
{
    _cleanup_close_ int vfd = volumes_fd(st, err);
    if (vfd < 0)
        return -1;
    _cleanup_free_ char *nm = name ? xstrdup(name) : ctr_random_id();
    *created = false;
    if (!vol_name_valid(nm))
        return husk_fail(err, 0, "volume name \"%s\": not valid ([a-zA-Z0-9][a-zA-Z0-9_.-]+)", nm);
    struct stat sb;
    if (fstatat(vfd, nm, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        *name_out = steal_ptr(nm);
        return 0;
    }
    _cleanup_free_ char *rand = ctr_random_id();
    _cleanup_free_ char *tmp = xasprintf(".tmp-%.16s", rand);
    _cleanup_free_ char *tmp_path = xasprintf("%s/volumes/%s", st->root, tmp);
    _cleanup_free_ char *data = xasprintf("%s/_data", tmp_path);
    _cleanup_free_ char *final = vol_dir(st, nm), *mountpoint = xasprintf("%s/_data", final);
    if (mkdirat(vfd, tmp, 0700) < 0)
        return husk_fail(err, errno, "volume %s: mkdir", nm);
    /* Locked while it is made: a listing deletes only the leftovers of killed
     * creates, which nobody holds (one that got it first leaves us nothing to
     * fill, so this create fails: never a half volume under a name). */
    _cleanup_close_ int tfd = openat(vfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (tfd < 0 || flock(tfd, LOCK_EX) < 0) {
        husk_fail(err, errno, "volume %s: lock", nm);
        goto fail;
    }
    if (mkdir(data, 0755) < 0) {
        husk_fail(err, errno, "volume %s: mkdir", nm);
        goto fail;
    }
    if (fill_path && fill_volume(fill_root, fill_path, data, err) < 0) {
        husk_err_prefix(err, "volume %s", nm);
        goto fail;
    }
    if (write_meta(tmp_path, nm, mountpoint, labels, name == NULL, err) < 0)
        goto fail;
    /* The name appears only now, with the volume whole. Two creates of one name:
     * the second's rename finds it taken and uses the first's. */
    if (renameat(vfd, tmp, vfd, nm) < 0) {
        if (errno != EEXIST && errno != ENOTEMPTY) {
            husk_fail(err, errno, "volume %s: rename", nm);
            goto fail;
        }
        tree_remove_at(vfd, tmp);
        *name_out = steal_ptr(nm);
        return 0;
    }
    *created = true;
    *name_out = steal_ptr(nm);
    return 0;
fail:
    tree_remove_at(vfd, tmp);
    return -1;
}

int vol_inspect(struct store *st, const char *name, struct json_object **out, husk_err **err)
{
    if (!vol_name_valid(name))
        return husk_fail(err, 0, "no such volume: \"%s\"", name);
    _cleanup_free_ char *path = xasprintf("%s/volumes/%s/volume.json", st->root, name), *text = NULL;
    size_t len;
    husk_err *e = NULL;
    if (read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, &e) < 0) {
        bool missing = e && e->errnum == ENOENT;
        if (missing) {
            husk_err_free(&e);
            return husk_fail(err, 0, "no such volume: \"%s\"", name);
        }
        *err = e;
        return -1;
    }
    struct json_object *j = json_tokener_parse(text);
    if (!j || !json_object_is_type(j, json_type_object)) {
        if (j)
            json_object_put(j);
        return husk_fail(err, 0, "volume %s: volume.json is not a JSON object", name);
    }
    *out = j;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int vol_list(struct store *st, char ***out, husk_err **err)
{
    int vfd = volumes_fd(st, err);
    if (vfd < 0)
        return -1;
    DIR *d = fdopendir(vfd);
    if (!d) {
        close(vfd);
        return husk_fail(err, errno, "read %s/volumes", st->root);
    }
    char **v = xcalloc(1, sizeof(char *));
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') {
            /* leftovers of a killed create (.tmp-) or remove (.rm-) */
            if (strncmp(de->d_name, ".tmp-", 5) == 0 || strncmp(de->d_name, ".rm-", 4) == 0) {
                int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
                    tree_remove_at(dirfd(d), de->d_name);
                if (fd >= 0)
                    close(fd);
            }
            continue;
        }
        v = xrealloc(v, (n + 2) * sizeof(char *));
        v[n++] = xstrdup(de->d_name);
        v[n] = NULL;
    }
    closedir(d);
    qsort(v, n, sizeof(char *), cmp_str);
    *out = v;
    return 0;
}

static bool record_uses(struct json_object *rec, const char *name)
{
    struct json_object *m;
    if (!json_object_object_get_ex(rec, "Mounts", &m) || !json_object_is_type(m, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(m); i++) {
        struct json_object *e = json_object_array_get_idx(m, i), *t, *nm;
        if (json_object_object_get_ex(e, "Type", &t) && strcmp(json_object_get_string(t), "volume") == 0 &&
            json_object_object_get_ex(e, "Name", &nm) && strcmp(json_object_get_string(nm), name) == 0)
            return true;
    }
    return false;
}

int vol_users(struct store *st, const char *name, char ***ids_out, husk_err **err)
{
    _cleanup_strv_ char **ids = NULL;
    if (ctr_list(st, &ids, err) < 0)
        return -1;
    char **v = xcalloc(1, sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; ids[i]; i++) {
        struct json_object *rec = NULL;
        husk_err *e = NULL;
        if (ctr_record_read(st, ids[i], &rec, &e) < 0) {
            husk_err_free(&e);
            continue;
        }
        if (record_uses(rec, name)) {
            v = xrealloc(v, (n + 2) * sizeof(char *));
            v[n++] = xstrdup(ids[i]);
            v[n] = NULL;
        }
        json_object_put(rec);
    }
    *ids_out = v;
    return 0;
}

int vol_used_names(struct store *st, char ***out, husk_err **err)
{
    _cleanup_strv_ char **ids = NULL;
    if (ctr_list(st, &ids, err) < 0)
        return -1;
    char **v = xcalloc(1, sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; ids[i]; i++) {
        struct json_object *rec = NULL, *m;
        husk_err *e = NULL;
        if (ctr_record_read(st, ids[i], &rec, &e) < 0) {
            husk_err_free(&e);
            continue;
        }
        if (json_object_object_get_ex(rec, "Mounts", &m) && json_object_is_type(m, json_type_array))
            for (size_t k = 0; k < json_object_array_length(m); k++) {
                struct json_object *x = json_object_array_get_idx(m, k), *t, *nm;
                if (json_object_object_get_ex(x, "Type", &t) && strcmp(json_object_get_string(t), "volume") == 0 &&
                    json_object_object_get_ex(x, "Name", &nm)) {
                    v = xrealloc(v, (n + 2) * sizeof(char *));
                    v[n++] = xstrdup(json_object_get_string(nm));
                    v[n] = NULL;
                }
            }
        json_object_put(rec);
    }
    *out = v;
    return 0;
}

bool vol_in(char *const *used, const char *name)
{
    for (size_t i = 0; used && used[i]; i++)
        if (strcmp(used[i], name) == 0)
            return true;
    return false;
}

bool vol_label_match(struct json_object *vol, const char *filter)
{
    struct json_object *labels, *v;
    const char *eq = strchr(filter, '=');
    _cleanup_free_ char *k = eq ? strndup(filter, (size_t)(eq - filter)) : xstrdup(filter);
    if (!json_object_object_get_ex(vol, "Labels", &labels) || !json_object_object_get_ex(labels, k, &v))
        return false;
    return !eq || strcmp(json_object_get_string(v), eq + 1) == 0;
}

/* Remove name unless a container other than except uses it (*in_use then, and an
 * error). The volume is locked first: a create that is about to record its use
 * holds it shared (vol_plan_realize), so it is either seen as a user here or finds
 * its volume gone and fails; never a container whose volume was removed. */
static int remove_unused(struct store *st, const char *name, const char *except, bool *in_use, husk_err **err)
{
    *in_use = false;
    _cleanup_close_ int vfd = volumes_fd(st, err);
    if (vfd < 0)
        return -1;
    _cleanup_close_ int fd = openat(vfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return husk_fail(err, errno == ENOENT ? 0 : errno, errno == ENOENT ? "no such volume: \"%s\"" : "volume %s",
                         name);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        *in_use = true;
        return husk_fail(err, 0, "volume \"%s\" is in use by a container being created", name);
    }
    _cleanup_strv_ char **users = NULL;
    if (vol_users(st, name, &users, err) < 0)
        return -1;
    for (size_t i = 0; users[i]; i++) {
        if (except && strcmp(users[i], except) == 0)
            continue;
        struct json_object *rec = NULL;
        husk_err *e = NULL;
        _cleanup_free_ char *cname = NULL;
        if (ctr_record_read(st, users[i], &rec, &e) == 0) {
            cname = ctr_record_name(rec);
            json_object_put(rec);
        }
        husk_err_free(&e);
        *in_use = true;
        return husk_fail(err, 0, "volume \"%s\" is in use by container %s", name, cname ? cname : users[i]);
    }
    /* Renamed away under the lock (a listing leaves a held .rm-* alone): from here
     * the name is free, and a killed remove leaves only a .rm-* that vol_list deletes. */
    _cleanup_free_ char *rand = ctr_random_id(), *gone = xasprintf(".rm-%.16s", rand);
    if (renameat(vfd, name, vfd, gone) < 0)
        return husk_fail(err, errno, "volume %s", name);
    int r = tree_remove_at(vfd, gone);
    if (r < 0)
        return husk_fail(err, -r, "remove volume %s", name);
    return 0;
}

int vol_remove(struct store *st, const char *name, husk_err **err)
{
    bool in_use;
    if (!vol_name_valid(name))
        return husk_fail(err, 0, "no such volume: \"%s\"", name);
    return remove_unused(st, name, NULL, &in_use, err);
}

void vol_remove_anonymous(struct store *st, struct json_object *record, const char *id)
{
    struct json_object *m;
    if (!json_object_object_get_ex(record, "Mounts", &m) || !json_object_is_type(m, json_type_array))
        return;
    for (size_t i = 0; i < json_object_array_length(m); i++) {
        struct json_object *e = json_object_array_get_idx(m, i), *t, *nm, *j = NULL, *anon;
        if (!json_object_object_get_ex(e, "Type", &t) || strcmp(json_object_get_string(t), "volume") != 0 ||
            !json_object_object_get_ex(e, "Name", &nm))
            continue;
        const char *name = json_object_get_string(nm);
        husk_err *err = NULL;
        if (vol_inspect(st, name, &j, &err) < 0) {
            husk_err_free(&err);
            continue;
        }
        bool anonymous = json_object_object_get_ex(j, "Anonymous", &anon) && json_object_get_boolean(anon);
        json_object_put(j);
        if (!anonymous)
            continue;
        bool in_use;
        /* docker keeps a volume another container still uses */
        if (remove_unused(st, name, id, &in_use, &err) < 0 && !in_use)
            husk_err_report(&err);
        husk_err_free(&err);
    }
}
