/* changes.c — Dockerfile instructions applied to an image config (changes.h). */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "changes.h"
#include "util.h"

static int bad(husk_err **err, const char *change, const char *why)
{
    return husk_fail(err, 0, "--change \"%s\": %s", change, why);
}

/* Split words the way Dockerfile's key=value forms are written: blanks separate,
 * "…" and '…' quote, a backslash escapes the next character. */
static int split_words(const char *s, char ***out, husk_err **err, const char *change)
{
    size_t n = 0;
    char **v = xcalloc(1, sizeof(char *));
    while (*s) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        size_t cap = strlen(s) + 1, len = 0;
        char *w = xmalloc(cap);
        char quote = 0;
        for (; *s && (quote || !isspace((unsigned char)*s)); s++) {
            if (*s == '\\' && s[1] && quote != '\'') {
                w[len++] = *++s;
            } else if (!quote && (*s == '"' || *s == '\'')) {
                quote = *s;
            } else if (quote && *s == quote) {
                quote = 0;
            } else {
                w[len++] = *s;
            }
        }
        w[len] = '\0';
        if (quote) {
            free(w);
            strv_free(v);
            return bad(err, change, "unterminated quote");
        }
        v = xrealloc(v, (n + 2) * sizeof(char *));
        v[n++] = w;
        v[n] = NULL;
    }
    *out = v;
    return 0;
}

/* CMD/ENTRYPOINT/VOLUME: a JSON array of strings, or else the shell form. */
static struct json_object *exec_or_shell(const char *args, bool shell)
{
    const char *p = args;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '[') {
        struct json_object *a = json_tokener_parse(p);
        bool ok = a && json_object_is_type(a, json_type_array);
        for (size_t i = 0; ok && i < json_object_array_length(a); i++)
            ok = json_object_is_type(json_object_array_get_idx(a, i), json_type_string);
        if (ok)
            return a;
        json_object_put(a);   /* not a JSON array of strings: docker takes it as the shell form */
    }
    struct json_object *a = json_object_new_array();
    if (shell) {
        json_object_array_add(a, json_object_new_string("/bin/sh"));
        json_object_array_add(a, json_object_new_string("-c"));
    }
    json_object_array_add(a, json_object_new_string(p));
    return a;
}

static struct json_object *member_object(struct json_object *config, const char *key)
{
    struct json_object *o;
    if (!json_object_object_get_ex(config, key, &o) || !json_object_is_type(o, json_type_object)) {
        o = json_object_new_object();
        json_object_object_add(config, key, o);
    }
    return o;
}

static void env_set(struct json_object *config, const char *k, const char *v)
{
    struct json_object *env;
    if (!json_object_object_get_ex(config, "Env", &env) || !json_object_is_type(env, json_type_array)) {
        env = json_object_new_array();
        json_object_object_add(config, "Env", env);
    }
    _cleanup_free_ char *kv = xasprintf("%s=%s", k, v);
    size_t klen = strlen(k);
    for (size_t i = 0; i < json_object_array_length(env); i++) {
        const char *e = json_object_get_string(json_object_array_get_idx(env, i));
        if (e && strncmp(e, k, klen) == 0 && e[klen] == '=') {
            json_object_array_put_idx(env, i, json_object_new_string(kv));
            return;
        }
    }
    json_object_array_add(env, json_object_new_string(kv));
}

/* ENV and LABEL: K=V pairs, or (legacy, one pair) K V. */
static int key_values(struct json_object *config, const char *args, bool is_env, husk_err **err, const char *change)
{
    _cleanup_strv_ char **w = NULL;
    if (split_words(args, &w, err, change) < 0)
        return -1;
    if (!w[0])
        return bad(err, change, "needs at least one KEY=VALUE");
    if (!strchr(w[0], '=')) {
        /* legacy "ENV KEY VALUE…": the rest of the line is the value */
        const char *rest = args;
        while (isspace((unsigned char)*rest))
            rest++;
        rest += strcspn(rest, " \t");
        while (isspace((unsigned char)*rest))
            rest++;
        if (!*rest)
            return bad(err, change, "needs KEY=VALUE or KEY VALUE");
        if (is_env)
            env_set(config, w[0], rest);
        else
            json_object_object_add(member_object(config, "Labels"), w[0], json_object_new_string(rest));
        return 0;
    }
    for (size_t i = 0; w[i]; i++) {
        char *eq = strchr(w[i], '=');
        if (!eq || eq == w[i])
            return bad(err, change, "every argument must be KEY=VALUE");
        *eq = '\0';
        if (is_env)
            env_set(config, w[i], eq + 1);
        else
            json_object_object_add(member_object(config, "Labels"), w[i], json_object_new_string(eq + 1));
    }
    return 0;
}

static int expose(struct json_object *config, const char *args, husk_err **err, const char *change)
{
    _cleanup_strv_ char **w = NULL;
    if (split_words(args, &w, err, change) < 0)
        return -1;
    if (!w[0])
        return bad(err, change, "needs a port");
    struct json_object *ports = member_object(config, "ExposedPorts");
    for (size_t i = 0; w[i]; i++) {
        char *slash = strchr(w[i], '/');
        const char *proto = slash ? slash + 1 : "tcp";
        if (slash)
            *slash = '\0';
        char *end;
        long port = strtol(w[i], &end, 10);
        if (!*w[i] || *end || port < 1 || port > 65535)
            return bad(err, change, "a port is a number from 1 to 65535");
        if (strcasecmp(proto, "tcp") != 0 && strcasecmp(proto, "udp") != 0 && strcasecmp(proto, "sctp") != 0)
            return bad(err, change, "a protocol is tcp, udp or sctp");
        _cleanup_free_ char *key = xasprintf("%ld/%s", port, proto);
        for (char *p = key; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        json_object_object_add(ports, key, json_object_new_object());
    }
    return 0;
}

static int volume(struct json_object *config, const char *args, husk_err **err, const char *change)
{
    _cleanup_strv_ char **w = NULL;
    if (*args == '[') {
        /* JSON form; anything else is a blank-separated list of paths */
        struct json_object *list = exec_or_shell(args, false);
        size_t n = json_object_array_length(list);
        w = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            w[i] = xstrdup(json_object_get_string(json_object_array_get_idx(list, i)));
        json_object_put(list);
    } else if (split_words(args, &w, err, change) < 0) {
        return -1;
    }
    if (!w[0])
        return bad(err, change, "needs a path");
    struct json_object *vols = member_object(config, "Volumes");
    for (size_t i = 0; w[i]; i++) {
        if (w[i][0] != '/')
            return bad(err, change, "a volume path must be absolute");
        json_object_object_add(vols, w[i], json_object_new_object());
    }
    return 0;
}

static int workdir(struct json_object *config, const char *args, husk_err **err, const char *change)
{
    _cleanup_strv_ char **w = NULL;
    if (split_words(args, &w, err, change) < 0)
        return -1;
    if (!w[0] || w[1])
        return bad(err, change, "needs exactly one path");
    struct json_object *prev;
    const char *base = json_object_object_get_ex(config, "WorkingDir", &prev) ? json_object_get_string(prev) : NULL;
    _cleanup_free_ char *dir = w[0][0] == '/' ? xstrdup(w[0])
                                               : xasprintf("%s/%s", base && *base ? base : "", w[0]);
    json_object_object_add(config, "WorkingDir", json_object_new_string(dir));
    return 0;
}

static int single_word(struct json_object *config, const char *key, const char *args, husk_err **err,
                       const char *change)
{
    _cleanup_strv_ char **w = NULL;
    if (split_words(args, &w, err, change) < 0)
        return -1;
    if (!w[0] || w[1])
        return bad(err, change, "needs exactly one argument");
    json_object_object_add(config, key, json_object_new_string(w[0]));
    return 0;
}

int image_config_apply_change(struct json_object *config, const char *change, husk_err **err)
{
    const char *p = change;
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strcspn(p, " \t");
    _cleanup_free_ char *ins = xasprintf("%.*s", (int)n, p);
    const char *args = p + n;
    while (isspace((unsigned char)*args))
        args++;
    if (!*ins)
        return bad(err, change, "empty instruction");
    if (!*args)
        return bad(err, change, "needs arguments");
    if (strcasecmp(ins, "CMD") == 0) {
        json_object_object_add(config, "Cmd", exec_or_shell(args, true));
        return 0;
    }
    if (strcasecmp(ins, "ENTRYPOINT") == 0) {
        json_object_object_add(config, "Entrypoint", exec_or_shell(args, true));
        return 0;
    }
    if (strcasecmp(ins, "ENV") == 0)
        return key_values(config, args, true, err, change);
    if (strcasecmp(ins, "LABEL") == 0)
        return key_values(config, args, false, err, change);
    if (strcasecmp(ins, "EXPOSE") == 0)
        return expose(config, args, err, change);
    if (strcasecmp(ins, "VOLUME") == 0)
        return volume(config, args, err, change);
    if (strcasecmp(ins, "WORKDIR") == 0)
        return workdir(config, args, err, change);
    if (strcasecmp(ins, "USER") == 0)
        return single_word(config, "User", args, err, change);
    if (strcasecmp(ins, "STOPSIGNAL") == 0)
        return single_word(config, "StopSignal", args, err, change);
    return husk_fail(err, 0,
                     "--change \"%s\": %s cannot be applied here (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, "
                     "USER, VOLUME, WORKDIR)",
                     change, ins);
}
