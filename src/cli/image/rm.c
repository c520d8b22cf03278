/* rm.c — `husk image rm [-f] IMAGE…`: a name removes that name ("Untagged: …"); the
 * last name, or an id, removes the image ("Deleted: sha256:…"). An image with several
 * names is removed by id only with -f. Every argument is tried; the exit status is
 * 125 if any failed. Blobs and layers stay for other images until prune. */
#include <stdio.h>
#include <string.h>

#include "containers.h"
#include "ctr_life.h"
#include "engine.h"
#include "image.h"
#include "reference.h"
#include "util.h"

static void print_familiar(const char *what, char **names)
{
    for (size_t i = 0; names && names[i]; i++) {
        struct image_ref r;
        if (image_ref_parse(names[i], &r, NULL) < 0) {
            printf("%s: %s\n", what, names[i]);
            continue;
        }
        _cleanup_free_ char *f = image_ref_familiar(&r);
        image_ref_free(&r);
        printf("%s: %s\n", what, f);
    }
}

/* Would removing name take the image away (not just one of several tags)? */
static bool removes_image(const struct image_record *r, const char *name)
{
    size_t n = 0;
    bool is_tag = false;
    for (size_t i = 0; r->repo_tags[i]; i++, n++) {
        struct image_ref ref;
        husk_err *e = NULL;
        if (image_ref_parse(name, &ref, &e) == 0) {
            _cleanup_free_ char *full = image_ref_string(&ref);
            is_tag |= strcmp(full, r->repo_tags[i]) == 0;
            image_ref_free(&ref);
        }
        husk_err_free(&e);
    }
    return !is_tag || n <= 1;
}

/* An image containers are made from goes only with -f, and then with them
 * (podman's rmi --force; docker refuses or only untags). */
static int check_containers(struct store *st, const char *runroot, const struct image_record *r, const char *name,
                            bool force, husk_err **err)
{
    _cleanup_strv_ char **users = NULL;
    if (!removes_image(r, name) || ctr_using_image(st, r->id, &users, err) < 0 || !users[0])
        return *err ? -1 : 0;
    if (!force)
        return husk_fail(err, 0, "image \"%s\" is in use by container %.12s: remove the container first, or use -f",
                         name, users[0]);
    for (size_t i = 0; users[i]; i++)
        if (ctr_remove(st, runroot, users[i], true, false, err) < 0)
            return -1;
    return 0;
}

static int rm_one(struct store *st, const char *runroot, const char *name, bool force, husk_err **err)
{
    struct image_record before, after;
    if (image_lookup(st, name, &before, err) < 0)
        return -1;
    if (check_containers(st, runroot, &before, name, force, err) < 0) {
        image_record_free(&before);
        return -1;
    }
    if (image_remove(st, name, force, err) < 0) {
        image_record_free(&before);
        return -1;
    }
    _cleanup_err_ husk_err *gone = NULL;
    if (image_lookup(st, before.id, &after, &gone) == 0) {
        /* still there: only names went */
        for (size_t i = 0; before.repo_tags[i]; i++) {
            bool kept = false;
            for (size_t j = 0; after.repo_tags[j]; j++)
                kept |= strcmp(before.repo_tags[i], after.repo_tags[j]) == 0;
            if (!kept) {
                char *one[] = { before.repo_tags[i], NULL };
                print_familiar("Untagged", one);
            }
        }
        image_record_free(&after);
    } else {
        print_familiar("Untagged", before.repo_tags);
        print_familiar("Untagged", before.repo_digests);
        printf("Deleted: %s\n", before.id);
    }
    image_record_free(&before);
    return 0;
}

int cmd_image_rm(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "force", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    bool force = false;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+fh", opts)) != -1) {
        switch (ch) {
        case 'f': force = true; break;
        case 'h':
            printf("usage: husk image rm [-f] IMAGE [IMAGE...]\n");
            return 0;
        default:
            return engine_usage_error("image rm", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("image rm", argc, 1, -1, "[-f] IMAGE [IMAGE...]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        if (rm_one(&st, g->root, argv[i], force, &err) < 0)
            rc = engine_fail(&err);
    }
    store_close(&st);
    return rc;
}
