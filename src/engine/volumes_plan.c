/* volumes_plan.c — a container's mounts from -v, --mount, --volumes-from and the
 * image's Volumes (volumes.h): checked, made, put into config.json and the record. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containers.h"
#include "paths.h"
#include "util.h"
#include "volumes.h"

void vol_plan_clear(struct vol_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        vol_spec_clear(&p->v[i].spec);
        free(p->v[i].host);
        free(p->v[i].mode);
        free(p->v[i].bind_text);
        if (p->v[i].lock_fd >= 0)
            close(p->v[i].lock_fd);
    }
    free(p->v);
    memset(p, 0, sizeof(*p));
}

static struct vol_plan_item *plan_find(struct vol_plan *p, const char *target)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].spec.target, target) == 0)
            return &p->v[i];
    return NULL;
}

/* Takes s. */
static int plan_add(struct vol_plan *p, struct vol_spec *s, const char *flag, const char *arg, const char *mode,
                    bool bind_flag, husk_err **err)
{
    if (plan_find(p, s->target)) {
        husk_fail(err, 0, "%s \"%s\": duplicate mount point %s", flag, arg, s->target);
        vol_spec_clear(s);
        return -1;
    }
    if (s->type == VOL_BIND) {
        struct stat sb;
        /* docker's --mount refuses a missing host path; husk's -v too, rather than
         * making a root-owned directory anywhere on the host by a typo */
        if (stat(s->source, &sb) < 0) {
            husk_fail(err, 0, "%s \"%s\": the host path %s: %s", flag, arg, s->source, strerror(errno));
            vol_spec_clear(s);
            return -1;
        }
    }
    p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
    struct vol_plan_item *it = &p->v[p->n++];
    memset(it, 0, sizeof(*it));
    it->lock_fd = -1;
    it->spec = *s;
    memset(s, 0, sizeof(*s));
    it->mode = xstrdup(mode ? mode : "");
    it->from_bind_flag = bind_flag && it->spec.source;
    it->bind_text = bind_flag ? xstrdup(arg) : NULL;
    return 0;
}

static int add_volumes_from(struct store *st, struct vol_plan *p, const char *arg, husk_err **err)
{
    _cleanup_free_ char *ctr = xstrdup(arg), *id = NULL;
    char *colon = strrchr(ctr, ':');
    int force_ro = -1;
    if (colon) {
        if (strcmp(colon + 1, "ro") == 0)
            force_ro = 1;
        else if (strcmp(colon + 1, "rw") == 0)
            force_ro = 0;
        else
            return husk_fail(err, 0, "--volumes-from \"%s\": the mode must be ro or rw", arg);
        *colon = '\0';
    }
    struct json_object *rec = NULL, *m;
    if (ctr_lookup(st, ctr, &id, err) < 0 || ctr_record_read(st, id, &rec, err) < 0)
        return husk_err_prefix(err, "--volumes-from \"%s\"", arg);
    int ret = 0;
    if (json_object_object_get_ex(rec, "Mounts", &m) && json_object_is_type(m, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(m) && ret == 0; i++) {
            struct json_object *e = json_object_array_get_idx(m, i), *t, *src, *dst, *rw, *nm, *mode;
            if (!json_object_object_get_ex(e, "Type", &t) || !json_object_object_get_ex(e, "Destination", &dst))
                continue;
            struct vol_spec s = { .tmpfs_size = -1, .tmpfs_mode = -1 };
            const char *type = json_object_get_string(t);
            if (strcmp(type, "bind") == 0 && json_object_object_get_ex(e, "Source", &src)) {
                s.type = VOL_BIND;
                s.source = xstrdup(json_object_get_string(src));
            } else if (strcmp(type, "volume") == 0 && json_object_object_get_ex(e, "Name", &nm)) {
                s.type = VOL_VOLUME;
                s.source = xstrdup(json_object_get_string(nm));
            } else {
                continue; /* a tmpfs is the container's own */
            }
            s.target = xstrdup(json_object_get_string(dst));
            /* the user's own mount of the same destination wins, as in docker */
            if (plan_find(p, s.target)) {
                vol_spec_clear(&s);
                continue;
            }
            s.readonly = force_ro >= 0 ? force_ro == 1
                                       : json_object_object_get_ex(e, "RW", &rw) && !json_object_get_boolean(rw);
            s.nocopy = true;
            const char *md = json_object_object_get_ex(e, "Mode", &mode) ? json_object_get_string(mode) : "";
            ret = plan_add(p, &s, "--volumes-from", arg, force_ro >= 0 ? (force_ro ? "ro" : "rw") : md, false, err);
        }
    }
    json_object_put(rec);
    return ret;
}

int vol_plan_build(struct store *st, char *const *v_args, char *const *mount_args, char *const *from_args,
                   struct json_object *image_config, struct vol_plan *p, husk_err **err)
{
    memset(p, 0, sizeof(*p));
    struct vol_spec s;
    for (size_t i = 0; v_args && v_args[i]; i++) {
        const char *c1 = strchr(v_args[i], ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (vol_parse_v(v_args[i], &s, err) < 0 || plan_add(p, &s, "-v", v_args[i], c2 ? c2 + 1 : "", true, err) < 0)
            goto fail;
    }
    for (size_t i = 0; mount_args && mount_args[i]; i++)
        if (vol_parse_mount(mount_args[i], &s, err) < 0 || plan_add(p, &s, "--mount", mount_args[i], "", false, err) < 0)
            goto fail;
    for (size_t i = 0; from_args && from_args[i]; i++)
        if (add_volumes_from(st, p, from_args[i], err) < 0)
            goto fail;
    /* The image's VOLUME instructions: anonymous volumes where nothing else is. */
    struct json_object *cfg, *vols;
    if (image_config && json_object_object_get_ex(image_config, "config", &cfg) &&
        json_object_is_type(cfg, json_type_object) && json_object_object_get_ex(cfg, "Volumes", &vols) &&
        json_object_is_type(vols, json_type_object)) {
        json_object_object_foreach(vols, dest, unused)
        {
            (void)unused;
            if (dest[0] != '/')
                continue;
            struct vol_spec is = { .type = VOL_VOLUME, .tmpfs_size = -1, .tmpfs_mode = -1, .target = path_clean(dest) };
            if (strcmp(is.target, "/") == 0 || plan_find(p, is.target)) {
                vol_spec_clear(&is);
                continue;
            }
            if (plan_add(p, &is, "the image's Volumes", dest, "", false, err) < 0)
                goto fail;
        }
    }
    return 0;
fail:
    vol_plan_clear(p);
    return -1;
}

int vol_plan_realize(struct store *st, struct vol_plan *p, int rootfs_fd, husk_err **err)
{
    for (size_t i = 0; i < p->n; i++) {
        struct vol_plan_item *it = &p->v[i];
        if (it->spec.type == VOL_BIND) {
            it->host = xstrdup(it->spec.source);
            continue;
        }
        if (it->spec.type != VOL_VOLUME)
            continue;
        char *name = NULL;
        bool fill = !it->spec.nocopy;
        if (vol_create(st, it->spec.source, NULL, fill ? rootfs_fd : -1, fill ? it->spec.target : NULL, &name,
                       &it->created, err) < 0)
            return -1;
        if (!it->created && fill && vol_fill_if_empty(st, name, rootfs_fd, it->spec.target, err) < 0) {
            free(name);
            return -1;
        }
        if (!it->spec.source) {
            it->spec.source = name;
            it->anonymous = true;
        } else {
            free(name);
        }
        _cleanup_free_ char *dir = vol_dir(st, it->spec.source);
        it->host = xasprintf("%s/_data", dir);
        /* Held shared until the record that names it is written: a remove takes it
         * exclusive, so it either waits for the record (and sees this container as
         * a user) or removed it before we got here (then it is no longer under its
         * name, and this create fails rather than bind a missing volume). */
        struct stat held, named;
        it->lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (it->lock_fd < 0 || flock(it->lock_fd, LOCK_SH) < 0 || fstat(it->lock_fd, &held) < 0 ||
            stat(dir, &named) < 0 || held.st_ino != named.st_ino || held.st_dev != named.st_dev)
            return husk_fail(err, 0, "volume %s: removed while this container was created", it->spec.source);
    }
    return 0;
}

void vol_plan_undo(struct store *st, struct vol_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].lock_fd >= 0) {
            close(p->v[i].lock_fd);
            p->v[i].lock_fd = -1;
        }
        if (!p->v[i].created)
            continue;
        husk_err *e = NULL;
        if (vol_remove(st, p->v[i].spec.source, &e) < 0)
            husk_err_free(&e);
        p->v[i].created = false;
    }
}

static size_t depth(const char *path)
{
    size_t n = 0;
    for (; *path; path++)
        n += *path == '/';
    return n;
}

static int cmp_depth(const void *a, const void *b)
{
    const struct vol_plan_item *x = *(const struct vol_plan_item *const *)a, *y = *(const struct vol_plan_item *const *)b;
    size_t dx = depth(x->spec.target), dy = depth(y->spec.target);
    return dx < dy ? -1 : dx > dy ? 1 : (x < y ? -1 : x > y);
}

static struct json_object *oci_mount(const struct vol_plan_item *it)
{
    struct json_object *m = json_object_new_object(), *o = json_object_new_array();
    const struct vol_spec *s = &it->spec;
    json_object_object_add(m, "destination", json_object_new_string(s->target));
    if (s->type == VOL_TMPFS) {
        json_object_object_add(m, "type", json_object_new_string("tmpfs"));
        json_object_object_add(m, "source", json_object_new_string("tmpfs"));
        for (const char *const *d = (const char *const[]){ "nosuid", "nodev", "noexec", NULL }; *d; d++)
            json_object_array_add(o, json_object_new_string(*d));
        if (s->tmpfs_size >= 0) {
            _cleanup_free_ char *x = xasprintf("size=%lld", (long long)s->tmpfs_size);
            json_object_array_add(o, json_object_new_string(x));
        }
        if (s->tmpfs_mode >= 0) {
            _cleanup_free_ char *x = xasprintf("mode=%o", s->tmpfs_mode);
            json_object_array_add(o, json_object_new_string(x));
        }
    } else {
        json_object_object_add(m, "type", json_object_new_string("bind"));
        json_object_object_add(m, "source", json_object_new_string(it->host));
        json_object_array_add(o, json_object_new_string("rbind"));
        json_object_array_add(o, json_object_new_string(s->propagation ? s->propagation : "rprivate"));
    }
    json_object_array_add(o, json_object_new_string(s->readonly ? "ro" : "rw"));
    json_object_object_add(m, "options", o);
    return m;
}

void vol_plan_apply(const struct vol_plan *p, struct json_object *oci)
{
    struct json_object *mounts;
    if (!p->n || !json_object_object_get_ex(oci, "mounts", &mounts))
        return;
    /* A user's mount replaces the default one of its destination (/dev/shm, /etc/hosts …). */
    struct json_object *keep = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(mounts); i++) {
        struct json_object *m = json_object_array_get_idx(mounts, i), *d;
        bool replaced = false;
        if (json_object_object_get_ex(m, "destination", &d))
            for (size_t k = 0; k < p->n && !replaced; k++)
                replaced = strcmp(p->v[k].spec.target, json_object_get_string(d)) == 0;
        if (!replaced)
            json_object_array_add(keep, json_object_get(m));
    }
    /* parents before what is mounted inside them */
    const struct vol_plan_item **order = xcalloc(p->n, sizeof(*order));
    for (size_t i = 0; i < p->n; i++)
        order[i] = &p->v[i];
    qsort(order, p->n, sizeof(*order), cmp_depth);
    for (size_t i = 0; i < p->n; i++)
        json_object_array_add(keep, oci_mount(order[i]));
    free(order);
    json_object_object_add(oci, "mounts", keep);
}

void vol_plan_record(const struct vol_plan *p, struct json_object *record)
{
    struct json_object *mounts = json_object_new_array(), *binds = json_object_new_array(), *h;
    for (size_t i = 0; i < p->n; i++) {
        const struct vol_plan_item *it = &p->v[i];
        const struct vol_spec *s = &it->spec;
        struct json_object *m = json_object_new_object();
        static const char *const types[] = { [VOL_BIND] = "bind", [VOL_VOLUME] = "volume", [VOL_TMPFS] = "tmpfs" };
        json_object_object_add(m, "Type", json_object_new_string(types[s->type]));
        if (s->type == VOL_VOLUME)
            json_object_object_add(m, "Name", json_object_new_string(s->source));
        json_object_object_add(m, "Source", json_object_new_string(it->host ? it->host : ""));
        json_object_object_add(m, "Destination", json_object_new_string(s->target));
        if (s->type == VOL_VOLUME)
            json_object_object_add(m, "Driver", json_object_new_string("local"));
        json_object_object_add(m, "Mode", json_object_new_string(it->mode ? it->mode : ""));
        json_object_object_add(m, "RW", json_object_new_boolean(!s->readonly));
        json_object_object_add(m, "Propagation",
                               json_object_new_string(s->type == VOL_BIND ? (s->propagation ? s->propagation : "rprivate")
                                                                          : ""));
        json_object_array_add(mounts, m);
        if (it->from_bind_flag)
            json_object_array_add(binds, json_object_new_string(it->bind_text));
    }
    json_object_object_add(record, "Mounts", mounts);
    if (json_object_object_get_ex(record, "HostConfig", &h))
        json_object_object_add(h, "Binds", binds);
    else
        json_object_put(binds);
}
