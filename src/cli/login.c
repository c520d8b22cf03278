/* login.c — `husk login [-u USER] [-p PASSWORD | --password-stdin] [--tls-verify=BOOL] [REGISTRY]`
 * and `husk logout [REGISTRY]`: credentials checked against the registry, then kept
 * where podman keeps them (auth_file.h). REGISTRY defaults to docker.io. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth_file.h"
#include "engine.h"
#include "image/regflags.h"
#include "registry.h"
#include "util.h"

/* "https://index.docker.io/v1/" → "docker.io"; "host:port/" → "host:port". */
static char *registry_host(const char *arg)
{
    const char *s = arg;
    if (strncmp(s, "https://", 8) == 0)
        s += 8;
    else if (strncmp(s, "http://", 7) == 0)
        s += 7;
    char *h = strndup(s, strcspn(s, "/"));
    if (!h)
        abort();
    if (strcmp(h, "index.docker.io") == 0 || strcmp(h, "registry-1.docker.io") == 0) {
        free(h);
        h = xstrdup("docker.io");
    }
    return h;
}

/* One line from f without its newline; echo off when f is a terminal. */
static char *read_line(FILE *f, const char *prompt, bool secret)
{
    struct termios old, quiet;
    bool tty = isatty(fileno(f));
    if (tty && prompt) {
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
    }
    if (tty && secret && tcgetattr(fileno(f), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(f), TCSAFLUSH, &quiet);
    } else {
        secret = false;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    if (secret) {
        tcsetattr(fileno(f), TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

int cmd_login(struct cli_global *g, int argc, char **argv)
{
    (void)g;
    static const struct option opts[] = {
        { "username", required_argument, NULL, 'u' },
        { "password", required_argument, NULL, 'p' },
        { "password-stdin", no_argument, NULL, 'S' },
        { "tls-verify", optional_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct registry_opts ro = { .tls_verify = -1 };
    _cleanup_free_ char *user = NULL, *pass = NULL;
    bool from_stdin = false;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+u:p:h", opts)) != -1) {
        switch (ch) {
        case 'u': free(user); user = xstrdup(optarg); break;
        case 'p': free(pass); pass = xstrdup(optarg); break;
        case 'S': from_stdin = true; break;
        case 'T':
            if (regflags_tls_verify(optarg, &ro.tls_verify) < 0)
                return engine_usage_error("login", "--tls-verify: \"%s\" is not true or false", optarg);
            break;
        case 'h':
            printf("usage: husk login [-u USER] [-p PASSWORD | --password-stdin] [--tls-verify=BOOL] [REGISTRY]\n");
            return 0;
        default:
            return engine_usage_error("login", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("login", argc, 0, 1, "[options] [REGISTRY]"))
        return ENGINE_EXIT_ERROR;
    if (from_stdin && pass)
        return engine_usage_error("login", "--password and --password-stdin are mutually exclusive");
    if (from_stdin && !user)
        return engine_usage_error("login", "--password-stdin needs --username");
    _cleanup_free_ char *host = registry_host(optind < argc ? argv[optind] : "docker.io");
    if (!*host)
        return engine_usage_error("login", "the registry is empty");
    if (!user && !(user = read_line(stdin, "Username: ", false)))
        return engine_usage_error("login", "no username (-u USER)");
    if (from_stdin) {
        /* the whole of stdin, without its last newline (docker's --password-stdin) */
        _cleanup_free_ char *line = read_line(stdin, NULL, false);
        pass = line ? xstrdup(line) : xstrdup("");
    } else if (!pass && !(pass = read_line(stdin, "Password: ", true))) {
        return engine_usage_error("login", "no password (-p PASSWORD or --password-stdin)");
    }
    if (!*user || strchr(user, ':'))
        return engine_usage_error("login", "username \"%s\": empty or holding ':'", user);

    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *creds = xasprintf("%s:%s", user, pass);
    ro.creds = creds;
    struct registry *reg = NULL;
    int rc = registry_open(host, &ro, &reg, &err);
    if (rc == 0)
        rc = registry_ping(reg, &err);
    registry_close(reg);
    explicit_bzero(creds, strlen(creds));
    if (rc == 0)
        rc = auth_store(host, user, pass, &err);
    explicit_bzero(pass, strlen(pass));
    if (rc < 0) {
        husk_err_prefix(&err, "login %s", host);
        return engine_fail(&err);
    }
    printf("Login Succeeded!\n");
    return 0;
}

int cmd_logout(struct cli_global *g, int argc, char **argv)
{
    (void)g;
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int ch;
    while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
        if (ch == 'h') {
            printf("usage: husk logout [REGISTRY]\n");
            return 0;
        }
        return engine_usage_error("logout", "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args("logout", argc, 0, 1, "[REGISTRY]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_free_ char *host = registry_host(optind < argc ? argv[optind] : "docker.io");
    _cleanup_err_ husk_err *err = NULL;
    int rc = auth_remove(host, &err);
    if (rc < 0) {
        husk_err_prefix(&err, "logout %s", host);
        return engine_fail(&err);
    }
    if (rc == 1) {
        _cleanup_free_ char *path = auth_write_path();
        husk_fail(&err, 0, "logout %s: not logged in (no credentials in %s)", host, path);
        return engine_fail(&err);
    }
    printf("Removed login credentials for %s\n", host);
    return 0;
}
