/* fs_target.c — the container of a commit, diff, export or cp (fs_target.h). */
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "containers.h"
#include "fs_target.h"
#include "util.h"

int fs_target_open(struct cli_global *g, const char *name, bool lock, struct fs_target *t, husk_err **err)
{
    memset(t, 0, sizeof(*t));
    t->lock = -1;
    if (engine_open_store(g, &t->st, err) < 0)
        return -1;
    t->st_open = true;
    if (ctr_lookup(&t->st, name, &t->id, err) < 0 || (lock && ctr_lock(&t->st, t->id, &t->lock, err) < 0) ||
        ctr_record_read(&t->st, t->id, &t->rec, err) < 0)
        return -1;
    t->dir = ctr_dir(&t->st, t->id);
    struct json_object *v = NULL;
    size_t n = json_object_object_get_ex(t->rec, "Layers", &v) && json_object_is_type(v, json_type_array)
                   ? json_object_array_length(v)
                   : 0;
    if (n == 0)
        return husk_fail(err, 0, "container \"%s\": its record has no layers", name);
    t->layers = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        t->layers[i] = xstrdup(json_object_get_string(json_object_array_get_idx(v, i)));
    struct json_object *m = NULL;
    n = json_object_object_get_ex(t->rec, "Mounts", &m) && json_object_is_type(m, json_type_array)
            ? json_object_array_length(m)
            : 0;
    t->mounts = xcalloc(n + 1, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *d = NULL;
        if (json_object_object_get_ex(json_object_array_get_idx(m, i), "Destination", &d) &&
            json_object_is_type(d, json_type_string))
            t->mounts[k++] = xstrdup(json_object_get_string(d));
    }
    return 0;
}

void fs_target_close(struct fs_target *t)
{
    if (t->lock >= 0)
        close(t->lock);
    if (t->rec)
        json_object_put(t->rec);
    strv_free(t->layers);
    strv_free(t->mounts);
    free(t->id);
    free(t->dir);
    if (t->st_open)
        store_close(&t->st);
    memset(t, 0, sizeof(*t));
    t->lock = -1;
}
