/* test_commit.c — commit_container: the upper dir of ctr_fixture.h becomes a layer
 * tar (whiteouts, opaque dirs, hard links, symlinks, xattrs; volumes and the
 * bind-mounted /etc files left out), unpacked into the store as overlayfs reads it,
 * and an image with the -c/-m changes; a bad instruction leaves nothing. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "commit.h"
#include "ctr_fixture.h"
#include "layer.h"
#include "manifest.h"

static struct json_object *blob_json(const char *digest)
{
    char *text = NULL;
    size_t len;
    husk_err *err = NULL;
    assert_int_equal(store_read_blob(&fx_st, digest, 1 << 20, &text, &len, &err), 0);
    struct json_object *o = json_tokener_parse(text);
    free(text);
    assert_non_null(o);
    return o;
}

static const char *jstr(struct json_object *o, const char *path)
{
    /* "a.b.c" through objects */
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    struct json_object *cur = o;
    for (char *tok = strtok(buf, "."); tok; tok = strtok(NULL, "."))
        if (!json_object_object_get_ex(cur, tok, &cur))
            return NULL;
    return json_object_get_string(cur);
}

/* The layer tar's entries, one line each: "name type [-> target] [xattr]". */
static char *list_tar(const char *digest)
{
    _cleanup_free_ char *path = store_blob_path(&fx_st, digest);
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
    char *out = xstrdup("");
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        char t = '?';
        switch (archive_entry_filetype(e)) {
        case AE_IFDIR: t = 'd'; break;
        case AE_IFREG: t = 'f'; break;
        case AE_IFLNK: t = 'l'; break;
        default: break;
        }
        const char *hl = archive_entry_hardlink(e);
        const char *sl = archive_entry_symlink(e);
        const char *xn = NULL;
        const void *xv;
        size_t xl;
        if (archive_entry_xattr_reset(e) > 0)
            archive_entry_xattr_next(e, &xn, &xv, &xl);
        char *line = xasprintf("%s%s %c%s%s%s%s\n", out, archive_entry_pathname(e), hl ? 'h' : t,
                               hl || sl ? " -> " : "", hl ? hl : sl ? sl : "", xn ? " " : "", xn ? xn : "");
        free(out);
        out = line;
    }
    archive_read_free(a);
    return out;
}

static size_t count_blobs(void)
{
    _cleanup_free_ char *p = xasprintf("%s/blobs/sha256", fx_store);
    DIR *d = opendir(p);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_commit_layer_and_config(void **state)
{
    (void)state;
    fx_need_root();
    char *changes[] = { "CMD echo hi", "ENV A=1", NULL };
    char *volumes[] = { "/vol", NULL };
    struct commit_args a = {
        .ctrdir = fx_ctrdir, .image = "base:t", .container_id = CTR_ID, .changes = changes, .message = "my message",
        .author = "me <me@x>", .ref = "committed:v1", .exclude = volumes,
    };
    husk_err *err = NULL;
    char *id = NULL;
    int r = commit_container(&fx_st, &a, &id, &err);
    if (r < 0)
        fail_msg("%s", err->msg);
    assert_non_null(id);

    struct image_record rec;
    assert_int_equal(image_lookup(&fx_st, "committed:v1", &rec, &err), 0);
    assert_string_equal(rec.id, id);
    assert_non_null(rec.layers[1]);
    assert_null(rec.layers[2]);
    assert_string_equal(rec.layers[0], fx_layers[0]);

    /* the config: the parent's, with the changes, history and the new diff id */
    struct json_object *cfg = blob_json(id);
    struct json_object *cmd, *diffs, *hist, *env;
    assert_true(json_object_object_get_ex(json_object_object_get(cfg, "config"), "Cmd", &cmd));
    assert_string_equal(json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                        "[\"/bin/sh\",\"-c\",\"echo hi\"]");
    assert_true(json_object_object_get_ex(json_object_object_get(cfg, "config"), "Env", &env));
    assert_string_equal(json_object_get_string(json_object_array_get_idx(env, 0)), "A=1");
    assert_string_equal(jstr(cfg, "author"), "me <me@x>");
    assert_string_equal(jstr(cfg, "container"), CTR_ID);
    diffs = json_object_object_get(json_object_object_get(cfg, "rootfs"), "diff_ids");
    assert_int_equal(json_object_array_length(diffs), 2);
    hist = json_object_object_get(cfg, "history");
    assert_int_equal(json_object_array_length(hist), 2);
    struct json_object *h = json_object_array_get_idx(hist, 1);
    assert_string_equal(jstr(h, "comment"), "my message");
    assert_string_equal(jstr(h, "author"), "me <me@x>");
    const char *layer = json_object_get_string(json_object_array_get_idx(diffs, 1));

    /* the manifest: OCI, the new layer an uncompressed tar named by its diff id */
    struct json_object *m = blob_json(rec.manifest);
    assert_string_equal(jstr(m, "mediaType"), MT_OCI_MANIFEST);
    struct json_object *ml = json_object_object_get(m, "layers");
    assert_int_equal(json_object_array_length(ml), 2);
    assert_string_equal(jstr(json_object_array_get_idx(ml, 1), "digest"), layer);
    assert_string_equal(jstr(json_object_array_get_idx(ml, 1), "mediaType"), MT_OCI_LAYER);

    /* the layer tar: etc/ holds only etc/hosts, left out, so it is not there either */
    _cleanup_free_ char *entries = list_tar(layer);
    assert_string_equal(entries, "a/ d\n"
                                 "a/.wh.x f\n"
                                 "d/ d\n"
                                 "d/.wh..wh..opq f\n"
                                 "d/w f\n"
                                 "f f\n"
                                 "h1 f\n"
                                 "h2 h -> h1\n"
                                 "new.txt f user.test\n"
                                 "s l -> /etc/passwd\n");

    /* unpacked once into the store, in overlayfs's format again */
    _cleanup_free_ char *diff = layer_diff_path(&fx_st, rec.layers[1]);
    _cleanup_free_ char *wh = xasprintf("%s/a/x", diff), *d = xasprintf("%s/d", diff), *h1 = xasprintf("%s/h1", diff);
    struct stat sb;
    assert_int_equal(lstat(wh, &sb), 0);
    assert_true(S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(0, 0));
    char v[4];
    assert_int_equal(getxattr(d, "trusted.overlay.opaque", v, sizeof(v)), 1);
    assert_int_equal(lstat(h1, &sb), 0);
    assert_int_equal(sb.st_nlink, 2);

    json_object_put(cfg);
    json_object_put(m);
    image_record_free(&rec);
    free(id);
}

static void test_commit_bad_change_leaves_nothing(void **state)
{
    (void)state;
    fx_need_root();
    size_t before = count_blobs();
    char *changes[] = { "RUN rm -rf /", NULL };
    struct commit_args a = { .ctrdir = fx_ctrdir, .image = "base:t", .changes = changes, .ref = "bad:t" };
    husk_err *err = NULL;
    char *id = NULL;
    assert_int_equal(commit_container(&fx_st, &a, &id, &err), -1);
    assert_non_null(strstr(err->msg, "RUN"));
    assert_null(id);
    husk_err_free(&err);
    assert_int_equal(count_blobs(), before);
    struct image_record rec;
    assert_int_equal(image_lookup(&fx_st, "bad:t", &rec, &err), -1);
    husk_err_free(&err);

    /* an image that is not there, a digest as the name */
    struct commit_args b = { .ctrdir = fx_ctrdir, .image = "nope:t" };
    assert_int_equal(commit_container(&fx_st, &b, &id, &err), -1);
    husk_err_free(&err);
    struct commit_args c = { .ctrdir = fx_ctrdir, .image = "base:t",
                             .ref = "x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
    assert_int_equal(commit_container(&fx_st, &c, &id, &err), -1);
    husk_err_free(&err);
    assert_int_equal(count_blobs(), before);
}

static void test_commit_twice_shares_the_layer(void **state)
{
    (void)state;
    fx_need_root();
    /* The container's config replaces the image's; no tag. The same upper gives the
     * same layer: one blob, one layer dir, whichever commit made it. */
    struct json_object *cc = json_tokener_parse("{\"Cmd\":[\"true\"],\"Env\":[\"X=1\"]}");
    struct commit_args a = { .ctrdir = fx_ctrdir, .image = "base:t", .config = cc };
    husk_err *err = NULL;
    char *id1 = NULL, *id2 = NULL;
    assert_int_equal(commit_container(&fx_st, &a, &id1, &err), 0);
    size_t blobs = count_blobs();
    assert_int_equal(commit_container(&fx_st, &a, &id2, &err), 0);
    /* a new config and manifest (another "created"), the same layer blob */
    assert_true(count_blobs() <= blobs + 2);
    struct json_object *cfg = blob_json(id2);
    assert_string_equal(jstr(cfg, "config.Env"), "[ \"X=1\" ]");
    json_object_put(cfg);
    json_object_put(cc);
    free(id1);
    free(id2);
}

static void test_commit_opaque_dir_of_excluded_entries_kept(void **state)
{
    (void)state;
    fx_need_root();
    /* etc/ holds only etc/hosts (left out): dropped, unless it is opaque, when it
     * must stay to hide the image's etc/ */
    _cleanup_free_ char *etc = xasprintf("%s/etc", fx_upper);
    assert_int_equal(setxattr(etc, "trusted.overlay.opaque", "y", 1, 0), 0);
    struct commit_args a = { .ctrdir = fx_ctrdir, .image = "base:t" };
    husk_err *err = NULL;
    char *id = NULL;
    assert_int_equal(commit_container(&fx_st, &a, &id, &err), 0);
    struct json_object *cfg = blob_json(id);
    struct json_object *diffs = json_object_object_get(json_object_object_get(cfg, "rootfs"), "diff_ids");
    _cleanup_free_ char *entries = list_tar(json_object_get_string(json_object_array_get_idx(diffs, 1)));
    assert_non_null(strstr(entries, "\netc/ d\netc/.wh..wh..opq f\nf f\n"));
    assert_null(strstr(entries, "hosts"));
    json_object_put(cfg);
    free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_layer_and_config, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_commit_bad_change_leaves_nothing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_commit_twice_shares_the_layer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_commit_opaque_dir_of_excluded_entries_kept, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
