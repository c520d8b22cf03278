/* commit.c — `husk container commit [-a AUTHOR] [-c INSTRUCTION]… [-m MESSAGE]
 * [-p=false] CONTAINER [REPOSITORY[:TAG]]`: the container's changes as a new image
 * (its config the container's, with the instructions applied); prints its id. A
 * running container is paused meanwhile (docker's default), for a consistent layer. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "commit.h"
#include "containers.h"
#include "ctr_life.h"
#include "fs_target.h"
#include "util.h"

/* The container's config as an image's: what `run` set (Cmd, Entrypoint, Env, User,
 * WorkingDir, Labels, StopSignal, ExposedPorts, Volumes), without what belongs to
 * this one container (its hostname, tty, stdin, stop timeout, image name, and the
 * HOSTNAME the engine puts in its environment). */
static struct json_object *image_config_of(struct json_object *rec)
{
    struct json_object *c = NULL, *out = json_object_new_object();
    if (!json_object_object_get_ex(rec, "Config", &c) || !json_object_is_type(c, json_type_object))
        return out;
    static const char *const drop[] = { "Hostname", "Tty", "OpenStdin", "StopTimeout", "Image" };
    json_object_object_foreach(c, k, v) {
        bool skip = false;
        for (size_t i = 0; i < ARRAY_SIZE(drop); i++)
            skip |= strcmp(k, drop[i]) == 0;
        if (skip || !v)
            continue;
        if (strcmp(k, "Env") == 0 && json_object_is_type(v, json_type_array)) {
            struct json_object *env = json_object_new_array();
            for (size_t i = 0; i < json_object_array_length(v); i++) {
                const char *e = json_object_get_string(json_object_array_get_idx(v, i));
                if (e && strncmp(e, "HOSTNAME=", 9) != 0)
                    json_object_array_add(env, json_object_new_string(e));
            }
            json_object_object_add(out, k, env);
            continue;
        }
        json_object_object_add(out, k, json_object_get(v));
    }
    return out;
}

int cmd_container_commit(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "author", required_argument, NULL, 'a' }, { "change", required_argument, NULL, 'c' },
        { "message", required_argument, NULL, 'm' }, { "pause", optional_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
    };
    _cleanup_strv_ char **changes = xcalloc(1, sizeof(char *));
    size_t nc = 0;
    const char *message = NULL, *author = NULL;
    bool pause = true;
    int ch;
    while ((ch = getopt_long(argc, argv, "+a:c:m:ph", opts, NULL)) != -1) {
        switch (ch) {
        case 'a': author = optarg; break;
        case 'c':
            changes = xrealloc(changes, (nc + 2) * sizeof(char *));
            changes[nc++] = xstrdup(optarg);
            changes[nc] = NULL;
            break;
        case 'm': message = optarg; break;
        case 'p':
            if (!optarg || strcmp(optarg, "true") == 0)
                pause = true;
            else if (strcmp(optarg, "false") == 0)
                pause = false;
            else
                return engine_usage_error("container commit", "--pause=%s: true or false", optarg);
            break;
        case 'h':
            printf("usage: husk container commit [-a AUTHOR] [-c INSTRUCTION]... [-m MESSAGE] [--pause=false]\n"
                   "                             CONTAINER [REPOSITORY[:TAG]]\n"
                   "  INSTRUCTION: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR\n");
            return 0;
        default:
            return engine_usage_error("container commit", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container commit", argc, 1, 2, "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct fs_target t;
    int rc = 0;
    bool paused = false;
    _cleanup_free_ char *id = NULL, *created_by = NULL;
    struct json_object *cfg = NULL;
    if (fs_target_open(g, argv[optind], false, &t, &err) < 0) {
        rc = engine_fail(&err);
        goto out;
    }
    if (pause) {
        struct ctr_state s = { 0 };
        if (ctr_state_get(&t.st, g->root, t.id, &s, &err) < 0) {
            rc = engine_fail(&err);
            goto out;
        }
        if (s.status == CTR_RUNNING) {
            if (ctr_pause(&t.st, g->root, t.id, true, &err) < 0) {
                ctr_state_clear(&s);
                rc = engine_fail(&err);
                goto out;
            }
            paused = true;
        }
        ctr_state_clear(&s);
    }
    cfg = image_config_of(t.rec);
    struct json_object *img = NULL;
    json_object_object_get_ex(t.rec, "Image", &img);
    /* docker's history line of a commit: the container's command */
    struct json_object *path = NULL, *args = NULL;
    if (json_object_object_get_ex(t.rec, "Path", &path) && json_object_get_string(path)) {
        created_by = xstrdup(json_object_get_string(path));
        json_object_object_get_ex(t.rec, "Args", &args);
        for (size_t i = 0; args && json_object_is_type(args, json_type_array) && i < json_object_array_length(args);
             i++) {
            char *s = xasprintf("%s %s", created_by, json_object_get_string(json_object_array_get_idx(args, i)));
            free(created_by);
            created_by = s;
        }
    }
    struct commit_args a = {
        .ctrdir = t.dir, .image = img ? json_object_get_string(img) : "", .container_id = t.id, .config = cfg,
        .changes = changes, .message = message, .author = author, .created_by = created_by,
        .ref = optind + 1 < argc ? argv[optind + 1] : NULL, .exclude = t.mounts,
    };
    if (commit_container(&t.st, &a, &id, &err) < 0)
        rc = engine_fail(&err);
    else
        printf("%s\n", id);
    if (paused && ctr_pause(&t.st, g->root, t.id, false, &err) < 0)
        rc = engine_fail(&err);
out:
    if (cfg)
        json_object_put(cfg);
    fs_target_close(&t);
    return rc;
}
