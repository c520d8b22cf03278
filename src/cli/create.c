/* create.c — `husk create [flags] ID`: set a container up and leave its init waiting
 * for `husk start`. The create flags are shared with `husk run`. */
#include "cli.h"
#include "caps.h"
#include "container.h"
#include "config.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_check_create_globals(const struct cli_global *g)
{
    if (g->systemd_cgroup) {
        husk_log(HUSK_LOG_ERROR, "--systemd-cgroup: the systemd cgroup driver is not supported by husk "
                                 "(use cgroupfs paths in linux.cgroupsPath)");
        return -1;
    }
    if (g->rootless && strcmp(g->rootless, "true") == 0) {
        husk_log(HUSK_LOG_ERROR, "--rootless true: rootless containers are not supported by husk yet");
        return -1;
    }
    return 0;
}

int cli_prepare_container(const struct cli_global *g, const struct create_flags *f, const char *id,
                          struct husk_container *c, husk_err **err)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    c->root_dir = g->root;
    c->console_socket = f->console_socket;
    c->pid_file = f->pid_file;
    c->no_pivot = f->no_pivot;
    c->no_new_keyring = f->no_new_keyring;
    c->preserve_fds = f->preserve_fds;
    c->console_sock_fd = -1;

    c->bundle = realpath(f->bundle ? f->bundle : ".", NULL);
    if (c->bundle == NULL) {
        /* The path is the caller's: a newline or escape sequence in it must not
         * break the one-line error (or a log line), so control bytes show as \xNN. */
        int e = errno;
        const char *b = f->bundle ? f->bundle : ".";
        _cleanup_free_ char *q = xmalloc(strlen(b) * 4 + 1);
        char *o = q;
        for (const unsigned char *s = (const unsigned char *)b; *s; s++)
            o += *s < 0x20 || *s == 0x7f ? sprintf(o, "\\x%02x", *s) : sprintf(o, "%c", *s);
        *o = '\0';
        return husk_fail(err, e, "bundle \"%s\"", q);
    }
    if (config_load(c->bundle, &c->config, err) < 0) {
        free(c->bundle);
        c->bundle = NULL;
        return -1;
    }
    caps_warn_ignored(&c->config->process.capabilities);
    log_debug("config loaded: %s/config.json", c->bundle);
    return 0;
}

void cli_release_container(struct husk_container *c)
{
    config_free(c->config);
    free(c->bundle);
    free(c->rootfs);
    c->config = NULL;
    c->bundle = c->rootfs = NULL;
}

/* Parse the create flags (and, for run, --detach and --keep). Returns 0, or an exit
 * status > 0 after printing the problem, or -2 after printing help. */
int cli_parse_create_flags(const char *verb, int argc, char **argv, struct create_flags *f, bool is_run);

int cli_parse_create_flags(const char *verb, int argc, char **argv, struct create_flags *f, bool is_run)
{
    static const struct option opts[] = {
        { "bundle", required_argument, NULL, 'b' },
        { "console-socket", required_argument, NULL, 'c' },
        { "pid-file", required_argument, NULL, 'p' },
        { "no-pivot", no_argument, NULL, 'P' },
        { "no-new-keyring", no_argument, NULL, 'K' },
        { "preserve-fds", required_argument, NULL, 'f' },
        { "detach", no_argument, NULL, 'd' },
        { "keep", no_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int ch;
    memset(f, 0, sizeof *f);
    while ((ch = cli_getopt(argc, argv, "+b:dh", opts)) != -1) {
        switch (ch) {
        case 'b': f->bundle = optarg; break;
        case 'c': f->console_socket = optarg; break;
        case 'p': f->pid_file = optarg; break;
        case 'P': f->no_pivot = true; break;
        case 'K': f->no_new_keyring = true; break;
        case 'f': {
            char *end;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (*end || errno || n < 0 || n > 65536)
                return cli_usage_error(verb, "--preserve-fds: expected a number, got \"%s\"", optarg);
            f->preserve_fds = (int)n;
            break;
        }
        case 'd':
            if (!is_run)
                return cli_usage_error(verb, "unknown flag --detach");
            f->detach = true;
            break;
        case 'k':
            if (!is_run)
                return cli_usage_error(verb, "unknown flag --keep");
            f->keep = true;
            break;
        case 'h':
            printf("usage: husk %s [--bundle DIR] [--console-socket SOCK] [--pid-file FILE] [--no-pivot]\n"
                   "       [--no-new-keyring] [--preserve-fds N]%s ID\n",
                   verb, is_run ? " [--detach] [--keep]" : "");
            return -2;
        default:
            return cli_usage_error(verb, "unknown or incomplete flag '%s'", argv[optind - 1]);
        }
    }
    if (cli_need_args(verb, argc, argv, 1, 1, "[flags] ID") != 0)
        return 1;
    return 0;
}

int cmd_create(struct cli_global *g, int argc, char **argv)
{
    struct create_flags f;
    struct husk_container c;
    _cleanup_err_ husk_err *err = NULL;

    int r = cli_parse_create_flags("create", argc, argv, &f, false);
    if (r != 0)
        return r == -2 ? 0 : r;
    if (cli_check_create_globals(g) < 0)
        return 1;
    const char *id = argv[optind];
    if (cli_prepare_container(g, &f, id, &c, &err) < 0)
        return cli_fail(&err);
    r = container_create(&c, &err);
    cli_release_container(&c);
    return r < 0 ? cli_fail(&err) : 0;
}
