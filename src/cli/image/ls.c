/* ls.c — `husk image ls [-a] [-q] [--digests] [--no-trunc] [--format json|table]`:
 * docker's columns (REPOSITORY TAG [DIGEST] IMAGE ID CREATED SIZE), an untagged image
 * as <none> <none>; --format json prints one JSON object per line, as docker does. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "engine.h"
#include "image.h"
#include "manifest.h"
#include "reference.h"
#include "util.h"

struct row {
    char *repo, *tag, *digest;
};

/* The image's created time, from its config. */
static char *created_of(struct store *st, const char *id)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    struct image_config c;
    if (store_read_blob(st, id, 4u << 20, &text, &len, NULL) < 0 ||
        image_config_parse(text, len, id, &c, NULL) < 0)
        return NULL;
    char *t = c.created ? xstrdup(c.created) : NULL;
    image_config_free(&c);
    return t;
}

/* repo and tag of a full reference, in docker's familiar form. */
static void split_tag(const char *full, char **repo, char **tag)
{
    struct image_ref r;
    if (image_ref_parse(full, &r, NULL) < 0) {
        *repo = xstrdup(full);
        *tag = xstrdup("<none>");
        return;
    }
    free(r.digest);
    r.digest = NULL;
    char *t = r.tag;
    r.tag = NULL;
    *repo = image_ref_familiar(&r);
    *tag = t ? t : xstrdup("<none>");
    image_ref_free(&r);
}

static const char *digest_of(const struct image_record *r)
{
    const char *at = r->repo_digests[0] ? strchr(r->repo_digests[0], '@') : NULL;
    return at ? at + 1 : "<none>";
}

static void print_json(const struct image_record *r, const char *repo, const char *tag, const char *created,
                       const char *ago, const char *size)
{
    struct json_object *o = json_object_new_object();
    _cleanup_free_ char *id = fmt_short_id(r->id);
    json_object_object_add(o, "Containers", json_object_new_string("N/A"));
    json_object_object_add(o, "CreatedAt", json_object_new_string(created ? created : ""));
    json_object_object_add(o, "CreatedSince", json_object_new_string(ago));
    json_object_object_add(o, "Digest", json_object_new_string(digest_of(r)));
    json_object_object_add(o, "ID", json_object_new_string(id));
    json_object_object_add(o, "Repository", json_object_new_string(repo));
    json_object_object_add(o, "Size", json_object_new_string(size));
    json_object_object_add(o, "Tag", json_object_new_string(tag));
    json_object_object_add(o, "VirtualSize", json_object_new_string(size));
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

int cmd_image_ls(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "all", no_argument, NULL, 'a' },       { "quiet", no_argument, NULL, 'q' },
        { "digests", no_argument, NULL, 'D' },   { "no-trunc", no_argument, NULL, 'T' },
        { "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool quiet = false, digests = false, no_trunc = false, json = false;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+aqh", opts)) != -1) {
        switch (ch) {
        case 'a': break;   /* every image husk stores is a whole image: no intermediate ones to hide */
        case 'q': quiet = true; break;
        case 'D': digests = true; break;
        case 'T': no_trunc = true; break;
        case 'f':
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "table") != 0)
                return engine_usage_error("image ls", "--format: \"%s\" is not supported (json or table)", optarg);
            break;
        case 'h':
            printf("usage: husk image ls [-a] [-q] [--digests] [--no-trunc] [--format json|table] [REPOSITORY[:TAG]]\n");
            return 0;
        default:
            return engine_usage_error("image ls", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("image ls", argc, 0, 1, "[OPTIONS] [REPOSITORY[:TAG]]"))
        return ENGINE_EXIT_ERROR;
    const char *filter = optind < argc ? argv[optind] : NULL;
    _cleanup_free_ char *want_repo = NULL, *want_tag = NULL;
    if (filter) {
        struct image_ref fr;
        _cleanup_err_ husk_err *err = NULL;
        if (image_ref_parse(filter, &fr, &err) < 0)
            return engine_fail(&err);
        want_repo = image_ref_repository(&fr);
        /* "busybox" matches every tag; "busybox:1" only that one (a ':' after the
         * last '/'; one before it is a registry's port) */
        const char *last = strrchr(filter, '/');
        if (strchr(last ? last : filter, ':') && fr.tag)
            want_tag = xstrdup(fr.tag);
        image_ref_free(&fr);
    }

    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    struct image_record **all = NULL;
    if (engine_open_store(g, &st, &err) < 0 || image_list(&st, &all, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    if (!quiet && !json)
        printf(digests ? "%-40s %-16s %-72s %-14s %-16s %s\n" : "%-40s %-16s%.0s %-14s %-16s %s\n", "REPOSITORY",
               "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE");
    for (struct image_record **p = all; *p; p++) {
        struct image_record *r = *p;
        _cleanup_free_ char *created = created_of(&st, r->id), *ago = fmt_ago(created), *size = fmt_size(r->size);
        _cleanup_free_ char *id = no_trunc ? xstrdup(r->id) : fmt_short_id(r->id);
        size_t n = 0;
        while (r->repo_tags[n])
            n++;
        for (size_t i = 0; i < (n ? n : 1); i++) {
            _cleanup_free_ char *repo = NULL, *tag = NULL;
            if (n) {
                split_tag(r->repo_tags[i], &repo, &tag);
            } else {
                repo = xstrdup("<none>");
                tag = xstrdup("<none>");
            }
            if (filter) {
                _cleanup_free_ char *full_repo = NULL;
                struct image_ref rr;
                if (!n || image_ref_parse(r->repo_tags[i], &rr, NULL) < 0)
                    continue;
                full_repo = image_ref_repository(&rr);
                bool match = strcmp(full_repo, want_repo) == 0 && (!want_tag || strcmp(rr.tag, want_tag) == 0);
                image_ref_free(&rr);
                if (!match)
                    continue;
            }
            if (quiet) {
                printf("%s\n", id);
                break;   /* one id per image */
            }
            if (json)
                print_json(r, repo, tag, created, ago, size);
            else if (digests)
                printf("%-40s %-16s %-72s %-14s %-16s %s\n", repo, tag, digest_of(r), id, ago, size);
            else
                printf("%-40s %-16s %-14s %-16s %s\n", repo, tag, id, ago, size);
        }
    }
    image_records_free(all);
    store_close(&st);
    return 0;
}
