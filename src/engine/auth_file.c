/* auth_file.c — credentials in docker's config.json / containers' auth.json (auth_file.h). */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "auth_file.h"
#include "log.h"
#include "util.h"

#define AUTH_FILE_MAX (1u << 20)
#define HELPER_OUT_MAX (64u << 10)

extern char **environ;

void auth_split_creds(const char *creds, char **user, char **pass)
{
    const char *colon = strchr(creds, ':');
    if (!colon) {
        *user = xstrdup(creds);
        *pass = NULL;
        return;
    }
    *user = strndup(creds, (size_t)(colon - creds));
    if (!*user)
        abort();
    *pass = xstrdup(colon + 1);
}

/* The keys a host may be stored under: podman writes "host", docker writes
 * "https://index.docker.io/v1/" for docker.io and sometimes "https://host". */
static bool key_matches(const char *key, const char *host)
{
    const char *k = key;
    if (strncmp(k, "https://", 8) == 0)
        k += 8;
    else if (strncmp(k, "http://", 7) == 0)
        k += 7;
    size_t n = strcspn(k, "/");
    if (strcmp(host, "docker.io") == 0) {
        static const char *const hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io" };
        for (size_t i = 0; i < ARRAY_SIZE(hub); i++)
            if (n == strlen(hub[i]) && strncmp(k, hub[i], n) == 0)
                return true;
        return false;
    }
    /* "host/namespace" keys (podman's per-repository credentials) are not used: only
     * whole-registry entries, so a key must be exactly the host. */
    return n == strlen(host) && strncmp(k, host, n) == 0 && (k[n] == '\0' || strcmp(k + n, "/") == 0 ||
                                                             strncmp(k + n, "/v", 2) == 0);
}

static int decode_auth(const char *b64, char **user, char **pass, const char *host, husk_err **err)
{
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0 || n > 16384)
        return husk_fail(err, 0, "credentials for %s: \"auth\" is not base64", host);
    _cleanup_free_ unsigned char *out = xmalloc(n / 4 * 3 + 1);
    int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    if (len < 0)
        return husk_fail(err, 0, "credentials for %s: \"auth\" is not base64", host);
    /* EVP_DecodeBlock counts the padding as zero bytes */
    for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
        len--;
    out[len] = '\0';
    if (memchr(out, '\0', (size_t)len))
        return husk_fail(err, 0, "credentials for %s: \"auth\" holds a NUL byte", host);
    char *colon = strchr((char *)out, ':');
    if (!colon)
        return husk_fail(err, 0, "credentials for %s: \"auth\" is not user:password", host);
    *colon = '\0';
    *user = xstrdup((char *)out);
    *pass = xstrdup(colon + 1);
    explicit_bzero(out, (size_t)len);
    return 0;
}

int auth_lookup_json(const char *json, const char *host, char **user, char **pass, husk_err **err)
{
    *user = *pass = NULL;
    json_object *root = json_tokener_parse(json);
    if (!root || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return husk_fail(err, 0, "not a JSON object");
    }
    int ret = 1;
    json_object *auths;
    if (json_object_object_get_ex(root, "auths", &auths) && json_object_is_type(auths, json_type_object)) {
        json_object_object_foreach(auths, key, val) {
            if (!key_matches(key, host))
                continue;
            json_object *a;
            if (!json_object_object_get_ex(val, "auth", &a) || !json_object_is_type(a, json_type_string))
                continue;
            ret = decode_auth(json_object_get_string(a), user, pass, host, err) < 0 ? -1 : 0;
            break;
        }
    }
    json_object_put(root);
    return ret;
}

int auth_helper_json(const char *json, const char *host, char **helper, husk_err **err)
{
    *helper = NULL;
    json_object *root = json_tokener_parse(json);
    if (!root || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return husk_fail(err, 0, "not a JSON object");
    }
    int ret = 1;
    const char *name = NULL;
    json_object *hs, *store;
    if (json_object_object_get_ex(root, "credHelpers", &hs) && json_object_is_type(hs, json_type_object)) {
        json_object_object_foreach(hs, key, val) {
            if (key_matches(key, host) && json_object_is_type(val, json_type_string)) {
                name = json_object_get_string(val);
                break;
            }
        }
    }
    if (!name && json_object_object_get_ex(root, "credsStore", &store) && json_object_is_type(store, json_type_string))
        name = json_object_get_string(store);
    if (name && *name) {
        /* a name, not a path: the program is docker-credential-NAME found on PATH */
        if (strchr(name, '/'))
            ret = husk_fail(err, 0, "credential helper \"%s\": not a helper name", name);
        else
            ret = 0, *helper = xstrdup(name);
    }
    json_object_put(root);
    return ret;
}

/* Run `docker-credential-NAME get` with the server's name on stdin (docker's
 * protocol: https://github.com/docker/docker-credential-helpers); its stdout is
 * {"ServerURL", "Username", "Secret"}, or a message and a non-zero exit
 * ("credentials not found in native keychain" when it has none: 1 is returned). */
static int run_helper(const char *name, const char *host, char **user, char **pass, husk_err **err)
{
    _cleanup_free_ char *prog = xasprintf("docker-credential-%s", name);
    /* docker asks for docker.io's credentials under its v1 index URL */
    const char *server = strcmp(host, "docker.io") == 0 ? "https://index.docker.io/v1/" : host;
    /* stdin a socket, not a pipe: a helper that exits without reading it must not
     * kill us with SIGPIPE (send with MSG_NOSIGNAL) */
    int in[2] = { -1, -1 }, out[2] = { -1, -1 };
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        int e = errno;
        close(in[0]), close(in[1]);
        return husk_fail(err, e, "credential helper %s: pipe", prog);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    char *argv[] = { prog, (char *)"get", NULL };
    pid_t pid;
    int rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        if (rc == ENOENT) {
            /* a config.json names a helper of another machine's (docker desktop's) */
            husk_log(HUSK_LOG_WARNING, "credential helper %s for %s: not found on PATH", prog, host);
            return 1;
        }
        return husk_fail(err, rc, "credential helper %s for %s", prog, host);
    }
    /* the name is short: it fits the socket's buffer, no need to read meanwhile */
    ssize_t w = send(in[1], server, strlen(server), MSG_NOSIGNAL);
    (void)w;
    close(in[1]);
    _cleanup_free_ char *data = xmalloc(HELPER_OUT_MAX + 1);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(out[0], data + len, HELPER_OUT_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == HELPER_OUT_MAX)
            break;
    }
    close(out[0]);
    data[len] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (strstr(data, "credentials not found"))
            return 1;
        size_t n = strcspn(data, "\n");
        return husk_fail(err, 0, "credential helper %s for %s: %s%.*s", prog, host,
                         WIFEXITED(status) ? "" : "killed by a signal", (int)(n > 200 ? 200 : n), data);
    }
    json_object *root = json_tokener_parse(data), *u, *p;
    explicit_bzero(data, len);
    int ret = 0;
    if (!root || !json_object_object_get_ex(root, "Username", &u) || !json_object_is_type(u, json_type_string) ||
        !json_object_object_get_ex(root, "Secret", &p) || !json_object_is_type(p, json_type_string))
        ret = husk_fail(err, 0, "credential helper %s for %s: its answer is not {\"Username\", \"Secret\"}", prog,
                        host);
    else if (json_object_get_string_len(p) == 0)
        ret = 1;   /* an empty secret: nothing stored */
    else
        *user = xstrdup(json_object_get_string(u)), *pass = xstrdup(json_object_get_string(p));
    json_object_put(root);
    return ret;
}

/* The files read, in order; NULL entries skipped. */
static void read_paths(char *paths[4])
{
    const char *f = getenv("REGISTRY_AUTH_FILE"), *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
    paths[0] = f && *f ? xstrdup(f) : NULL;
    paths[1] = xdg && *xdg ? xasprintf("%s/containers/auth.json", xdg) : NULL;
    paths[2] = home && *home ? xasprintf("%s/.config/containers/auth.json", home) : NULL;
    paths[3] = home && *home ? xasprintf("%s/.docker/config.json", home) : NULL;
}

int auth_lookup(const char *host, char **user, char **pass, husk_err **err)
{
    char *paths[4];
    int ret = 1;
    read_paths(paths);
    for (size_t i = 0; i < 4 && ret == 1; i++) {
        if (!paths[i])
            continue;
        _cleanup_free_ char *data = NULL;
        _cleanup_err_ husk_err *rerr = NULL;
        if (read_file_at(AT_FDCWD, paths[i], AUTH_FILE_MAX, &data, NULL, &rerr) < 0) {
            if (rerr->errnum == ENOENT || rerr->errnum == ENOTDIR)
                continue;
            ret = husk_fail(err, 0, "credentials: %s", rerr->msg);
            break;
        }
        /* docker's order: a credHelpers entry for the host, else the credsStore, else "auths" */
        _cleanup_free_ char *helper = NULL;
        ret = auth_helper_json(data, host, &helper, err);
        if (ret == 0)
            ret = run_helper(helper, host, user, pass, err);
        if (ret == 1)   /* no helper, or it has nothing for the host */
            ret = auth_lookup_json(data, host, user, pass, err);
        if (ret < 0)
            husk_err_prefix(err, "credentials: %s", paths[i]);
    }
    for (size_t i = 0; i < 4; i++)
        free(paths[i]);
    return ret;
}

char *auth_write_path(void)
{
    const char *f = getenv("REGISTRY_AUTH_FILE"), *xdg = getenv("XDG_RUNTIME_DIR");
    if (f && *f)
        return xstrdup(f);
    if (xdg && *xdg)
        return xasprintf("%s/containers/auth.json", xdg);
    return xasprintf("/run/containers/%u/auth.json", (unsigned)getuid());
}

/* Read-modify-write of the auth file under a lock on a side file, so two logins at
 * once do not lose one another's entry. edit returns 1 when it changed nothing. */
static int auth_edit(const char *host, const char *user, const char *pass, husk_err **err)
{
    _cleanup_free_ char *path = auth_write_path();
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir_p(dir, 0700, err) < 0)
            return husk_err_prefix(err, "credentials");
    }
    _cleanup_free_ char *lockp = xasprintf("%s.lock", path);
    _cleanup_close_ int lk = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lk < 0 || flock(lk, LOCK_EX) < 0)
        return husk_fail(err, errno, "credentials: lock %s", lockp);

    _cleanup_free_ char *data = NULL;
    _cleanup_err_ husk_err *rerr = NULL;
    json_object *root = NULL;
    if (read_file_at(AT_FDCWD, path, AUTH_FILE_MAX, &data, NULL, &rerr) == 0) {
        root = json_tokener_parse(data);
        if (!root || !json_object_is_type(root, json_type_object)) {
            json_object_put(root);
            return husk_fail(err, 0, "credentials: %s is not a JSON object", path);
        }
    } else if (rerr->errnum == ENOENT) {
        root = json_object_new_object();
    } else {
        return husk_fail(err, 0, "credentials: %s", rerr->msg);
    }
    json_object *auths;
    if (!json_object_object_get_ex(root, "auths", &auths) || !json_object_is_type(auths, json_type_object)) {
        auths = json_object_new_object();
        json_object_object_add(root, "auths", auths);
    }
    int ret = 0;
    /* drop every key that names this host (docker's and podman's spellings) */
    bool removed = false;
    for (;;) {
        const char *victim = NULL;
        json_object_object_foreach(auths, key, val) {
            (void)val;
            if (key_matches(key, host)) {
                victim = key;
                break;
            }
        }
        if (!victim)
            break;
        json_object_object_del(auths, victim);
        removed = true;
    }
    if (user) {
        _cleanup_free_ char *plain = xasprintf("%s:%s", user, pass ? pass : "");
        size_t n = strlen(plain);
        _cleanup_free_ char *b64 = xmalloc((n + 2) / 3 * 4 + 1);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)n);
        explicit_bzero(plain, n);
        json_object *ent = json_object_new_object();
        json_object_object_add(ent, "auth", json_object_new_string(b64));
        json_object_object_add(auths, host, ent);
    } else if (!removed) {
        ret = 1;
    }
    if (ret == 0) {
        const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        /* 0600: the file holds passwords (base64 is no protection). The temp file is
         * created 0600 and renamed over the old one, so no reader sees half a file and
         * no moment exists where the secret is readable by others. */
        if (write_file_atomic(AT_FDCWD, path, text, strlen(text), 0600, err) < 0)
            ret = husk_err_prefix(err, "credentials");
        else if (chmod(path, 0600) < 0)
            ret = husk_fail(err, errno, "credentials: chmod %s", path);
    }
    json_object_put(root);
    return ret;
}

int auth_store(const char *host, const char *user, const char *pass, husk_err **err)
{
    return auth_edit(host, user, pass, err);
}

int auth_remove(const char *host, husk_err **err)
{
    return auth_edit(host, NULL, NULL, err);
}
