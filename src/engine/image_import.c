/* image_import.c — an image from a rootfs tarball (image_import.h). */
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>
#include <json-c/json.h>

#include "changes.h"
#include "image.h"
#include "image_archive.h"
#include "image_import.h"
#include "layer.h"
#include "manifest.h"
#include "reference.h"
#include "util.h"

const char *image_host_arch(void)
{
    static const struct { const char *uname, *oci; } map[] = {
        { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "arm" }, { "i686", "386" },
        { "ppc64le", "ppc64le" }, { "s390x", "s390x" }, { "riscv64", "riscv64" },
    };
    static char arch[65];
    struct utsname u;
    if (uname(&u) < 0)
        return "amd64";
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (strcmp(u.machine, map[i].uname) == 0)
            return map[i].oci;
    snprintf(arch, sizeof(arch), "%s", u.machine);
    return arch;
}

static void archive_readp(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}

/* The tarball, decompressed, as a blob: its digest is also its diff_id. */
static int store_plain_tar(struct store *st, const char *path, char **digest, uint64_t *size, husk_err **err)
{
    _cleanup_(archive_readp) struct archive *a = archive_read_new();
    struct archive_entry *e;
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
        return husk_fail(err, 0, "import %s: %s", path,
                         archive_error_string(a));
    int named = blob_from_archive_data(st, a, digest, size, err);
    if (named < 0)
        return husk_err_prefix(err, "import %s", path);
    if (*size == 0) {
        /* an empty file is no tarball */
        if (named)
            store_remove_blob(st, *digest, NULL);
        free(*digest);
        *digest = NULL;
        return husk_fail(err, 0, "import %s: empty file", path);
    }
    return named;
}

int image_import(struct store *st, const struct image_import_args *a, char **id_out, husk_err **err)
{
    _cleanup_free_ char *tag = NULL, *layer = NULL, *chain = NULL, *created = image_now_rfc3339();
    _cleanup_free_ char *config_digest = NULL, *manifest_digest = NULL;
    uint64_t layer_size = 0;
    int ret = -1;

    /* Check what can be checked before anything is stored. */
    if (a->ref) {
        struct image_ref r;
        if (image_ref_parse(a->ref, &r, err) < 0)
            return -1;
        if (r.digest) {
            image_ref_free(&r);
            return husk_fail(err, 0, "import: \"%s\": a digest cannot name an imported image", a->ref);
        }
        tag = image_ref_string(&r);
        image_ref_free(&r);
    }
    struct json_object *cfg = json_object_new_object(), *inner = json_object_new_object();
    json_object_object_add(cfg, "created", json_object_new_string(created));
    json_object_object_add(cfg, "architecture", json_object_new_string(image_host_arch()));
    json_object_object_add(cfg, "os", json_object_new_string("linux"));
    json_object_object_add(cfg, "config", inner);
    for (size_t i = 0; a->changes && a->changes[i]; i++)
        if (image_config_apply_change(inner, a->changes[i], err) < 0)
            goto out;

    int named = store_plain_tar(st, a->path, &layer, &layer_size, err);
    if (named < 0)
        goto out;
    if (layer_ensure(st, layer, layer, NULL, &chain, err) < 0) {
        /* not a tar: the blob just added goes again */
        if (named && !image_blob_in_use(st, layer))
            store_remove_blob(st, layer, NULL);
        husk_err_prefix(err, "import %s", a->path);
        goto out;
    }
    struct json_object *rootfs = json_object_new_object(), *ids = json_object_new_array();
    json_object_array_add(ids, json_object_new_string(layer));
    json_object_object_add(rootfs, "type", json_object_new_string("layers"));
    json_object_object_add(rootfs, "diff_ids", ids);
    json_object_object_add(cfg, "rootfs", rootfs);
    struct json_object *hist = json_object_new_array(), *h = json_object_new_object();
    json_object_object_add(h, "created", json_object_new_string(created));
    json_object_object_add(h, "created_by", json_object_new_string("husk image import"));
    if (a->message)
        json_object_object_add(h, "comment", json_object_new_string(a->message));
    json_object_array_add(hist, h);
    json_object_object_add(cfg, "history", hist);

    const int fl = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
    const char *ctext = json_object_to_json_string_ext(cfg, fl);
    uint64_t csize = strlen(ctext);
    if (store_put_blob(st, ctext, csize, &config_digest, err) < 0)
        goto out;
    struct json_object *m = json_object_new_object(), *layers = json_object_new_array();
    json_object_object_add(m, "schemaVersion", json_object_new_int(2));
    json_object_object_add(m, "mediaType", json_object_new_string(MT_OCI_MANIFEST));
    json_object_object_add(m, "config", descriptor_json(MT_OCI_CONFIG, config_digest, csize));
    json_object_array_add(layers, descriptor_json(MT_OCI_LAYER, layer, layer_size));
    json_object_object_add(m, "layers", layers);
    const char *mtext = json_object_to_json_string_ext(m, fl);
    ret = store_put_blob(st, mtext, strlen(mtext), &manifest_digest, err);
    json_object_put(m);
    if (ret < 0)
        goto out;
    struct image_register_args ra = { .manifest = manifest_digest, .tag = tag };
    ret = image_register(st, &ra, id_out, err);
out:
    json_object_put(cfg);
    return ret;
}
