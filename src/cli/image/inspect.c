/* inspect.c — `husk image inspect IMAGE…`: a JSON array with docker's keys (Id,
 * RepoTags, RepoDigests, Created, Author, Config, Architecture, Os, Size, RootFS …),
 * names in docker's short form. An image that is not there is an error after the
 * others are printed, as docker does. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "engine.h"
#include "image.h"
#include "reference.h"
#include "util.h"

static struct json_object *familiar_names(char **v)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; v && v[i]; i++) {
        struct image_ref r;
        if (image_ref_parse(v[i], &r, NULL) < 0) {
            json_object_array_add(a, json_object_new_string(v[i]));
            continue;
        }
        char *f = image_ref_familiar(&r);
        json_object_array_add(a, json_object_new_string(f));
        free(f);
        image_ref_free(&r);
    }
    return a;
}

/* A member of the config copied (or a default when absent). */
static void copy_member(struct json_object *dst, const char *dkey, struct json_object *src, const char *skey,
                        struct json_object *dflt)
{
    struct json_object *v;
    if (src && json_object_object_get_ex(src, skey, &v) && v) {
        json_object_object_add(dst, dkey, json_object_get(v));
        json_object_put(dflt);
    } else {
        json_object_object_add(dst, dkey, dflt);
    }
}

static int inspect_one(struct store *st, const char *name, struct json_object *out, husk_err **err)
{
    struct image_record r;
    if (image_lookup(st, name, &r, err) < 0)
        return -1;
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (store_read_blob(st, r.id, 4u << 20, &text, &len, err) < 0) {
        image_record_free(&r);
        return -1;
    }
    struct json_object *cfg = json_tokener_parse(text);
    if (!cfg || !json_object_is_type(cfg, json_type_object)) {
        json_object_put(cfg);
        image_record_free(&r);
        return husk_fail(err, 0, "image \"%s\": its config %s is not a JSON object", name, r.id);
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Id", json_object_new_string(r.id));
    json_object_object_add(o, "RepoTags", familiar_names(r.repo_tags));
    json_object_object_add(o, "RepoDigests", familiar_names(r.repo_digests));
    json_object_object_add(o, "Parent", json_object_new_string(""));
    copy_member(o, "Comment", cfg, "comment", json_object_new_string(""));
    copy_member(o, "Created", cfg, "created", json_object_new_string(""));
    copy_member(o, "Author", cfg, "author", json_object_new_string(""));
    copy_member(o, "Config", cfg, "config", json_object_new_object());
    copy_member(o, "Architecture", cfg, "architecture", json_object_new_string(""));
    struct json_object *v;
    if (json_object_object_get_ex(cfg, "variant", &v))
        json_object_object_add(o, "Variant", json_object_get(v));
    copy_member(o, "Os", cfg, "os", json_object_new_string(""));
    json_object_object_add(o, "Size", json_object_new_int64((int64_t)r.size));
    struct json_object *rootfs = json_object_new_object(), *ids;
    json_object_object_add(rootfs, "Type", json_object_new_string("layers"));
    if (json_object_object_get_ex(cfg, "rootfs", &v) && json_object_object_get_ex(v, "diff_ids", &ids))
        json_object_object_add(rootfs, "Layers", json_object_get(ids));
    else
        json_object_object_add(rootfs, "Layers", json_object_new_array());
    json_object_object_add(o, "RootFS", rootfs);
    struct json_object *meta = json_object_new_object();
    json_object_object_add(meta, "LastTagTime", json_object_new_string(r.pulled ? r.pulled : ""));
    json_object_object_add(o, "Metadata", meta);
    json_object_array_add(out, o);
    json_object_put(cfg);
    image_record_free(&r);
    return 0;
}

int cmd_image_inspect(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *format = NULL;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+f:h", opts)) != -1) {
        switch (ch) {
        case 'f': format = optarg; break;
        case 'h':
            printf("usage: husk image inspect [--format TEMPLATE|json] IMAGE [IMAGE...]\n");
            return 0;
        default:
            return engine_usage_error("image inspect", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("image inspect", argc, 1, -1, "IMAGE [IMAGE...]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL, *first = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    struct json_object *out = json_object_new_array();
    for (int i = optind; i < argc; i++) {
        if (inspect_one(&st, argv[i], out, &err) < 0) {
            if (!first)
                first = steal_ptr(err);
            husk_err_free(&err);
        }
    }
    store_close(&st);
    int r = engine_print_inspect("image inspect", format, out);
    json_object_put(out);
    if (first)
        return engine_fail(&first);
    return r;
}
