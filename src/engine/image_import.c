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
#include "json_cleanup.h"

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
    uint64_t layer_size = 0;

    /* Check what can be checked before anything is stored. */
    if (image_new_tag(a->ref, &tag, err) < 0)
        return husk_err_prefix(err, "import");
    _cleanup_json_ struct json_object *cfg = json_object_new_object();
    struct json_object *inner = json_object_new_object();
    json_object_object_add(cfg, "created", json_object_new_string(created));
    json_object_object_add(cfg, "architecture", json_object_new_string(image_host_arch()));
    json_object_object_add(cfg, "os", json_object_new_string("linux"));
    json_object_object_add(cfg, "config", inner);
    for (size_t i = 0; a->changes && a->changes[i]; i++)
        if (image_config_apply_change(inner, a->changes[i], err) < 0)
            return -1;

    int named = store_plain_tar(st, a->path, &layer, &layer_size, err);
    if (named < 0)
        return -1;
    if (layer_ensure(st, layer, layer, NULL, &chain, err) < 0) {
        /* not a tar: the blob just added goes again */
        if (named && !image_blob_in_use(st, layer))
            store_remove_blob(st, layer, NULL);
        return husk_err_prefix(err, "import %s", a->path);
    }
    struct image_new n = {
        .layer = layer, .layer_size = layer_size, .tag = tag,
        .created = created, .created_by = "husk image import", .comment = a->message,
    };
    return image_new_register(st, cfg, &n, id_out, err);
}
