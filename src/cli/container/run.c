/* run.c — `husk container run|create [flags] IMAGE [CMD…]` (docker's grammar).
 *
 * create makes the container; run also starts it: detached (-d) it prints the id
 * once the container runs, else it is attached to it and exits with its status.
 * Exit codes as docker's: 125 an engine error (a flag, the image, the name), 126
 * the command cannot be invoked, 127 it is not found, else the container's own. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "container_cli.h"
#include "ctr_life.h"
#include "image.h"
#include "pull.h"
#include "util.h"

struct strv_builder {
    char **v;
    size_t n;
};

static void sb_add(struct strv_builder *b, const char *s)
{
    b->v = xrealloc(b->v, (b->n + 2) * sizeof *b->v);
    b->v[b->n++] = xstrdup(s);
    b->v[b->n] = NULL;
}

/* docker's RAMInBytes: a number with an optional b, k, m, g (binary units). */
int parse_bytes(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    int64_t mul = 1;
    switch (*end) {
    case '\0': break;
    case 'b': case 'B': mul = 1; end++; break;
    case 'k': case 'K': mul = 1LL << 10; end++; break;
    case 'm': case 'M': mul = 1LL << 20; end++; break;
    case 'g': case 'G': mul = 1LL << 30; end++; break;
    case 't': case 'T': mul = 1LL << 40; end++; break;
    default: return -1;
    }
    if (*end == 'b' || *end == 'B' || *end == 'i')
        end++;
    if (*end)
        return -1;
    *out = (int64_t)(v * (double)mul);
    return 0;
}

/* --env-file: KEY=VALUE lines; blank and # lines skipped; KEY alone takes the
 * caller's value (or is dropped when unset), as docker does. */
static int read_env_file(const char *path, struct strv_builder *env)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f) {
        husk_log(HUSK_LOG_ERROR, "--env-file %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            continue;
        if (strchr(p, '=')) {
            sb_add(env, p);
        } else {
            const char *v = getenv(p);
            if (v) {
                _cleanup_free_ char *kv = xasprintf("%s=%s", p, v);
                sb_add(env, kv);
            }
        }
    }
    free(line);
    return 0;
}

enum {
    OPT_NAME = 1000, OPT_ENV_FILE, OPT_ENTRYPOINT, OPT_HOSTNAME, OPT_RM, OPT_MEMORY_SWAP, OPT_CPUS, OPT_CPU_SHARES,
    OPT_PIDS, OPT_CAP_ADD, OPT_CAP_DROP, OPT_PRIVILEGED, OPT_READ_ONLY, OPT_TMPFS, OPT_DEVICE, OPT_SECURITY_OPT,
    OPT_ULIMIT, OPT_SHM, OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT, OPT_RESTART, OPT_LABEL, OPT_INIT, OPT_NETWORK,
    OPT_PULL, OPT_MOUNT, OPT_VOLUMES_FROM, OPT_IP, OPT_DNS, OPT_ADD_HOST,
};

static const struct option run_opts[] = {
    { "detach", no_argument, NULL, 'd' },
    { "interactive", no_argument, NULL, 'i' },
    { "tty", no_argument, NULL, 't' },
    { "name", required_argument, NULL, OPT_NAME },
    { "env", required_argument, NULL, 'e' },
    { "env-file", required_argument, NULL, OPT_ENV_FILE },
    { "workdir", required_argument, NULL, 'w' },
    { "user", required_argument, NULL, 'u' },
    { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
    { "hostname", required_argument, NULL, OPT_HOSTNAME },
    { "rm", no_argument, NULL, OPT_RM },
    { "memory", required_argument, NULL, 'm' },
    { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
    { "cpus", required_argument, NULL, OPT_CPUS },
    { "cpu-shares", required_argument, NULL, OPT_CPU_SHARES },
    { "pids-limit", required_argument, NULL, OPT_PIDS },
    { "cap-add", required_argument, NULL, OPT_CAP_ADD },
    { "cap-drop", required_argument, NULL, OPT_CAP_DROP },
    { "privileged", no_argument, NULL, OPT_PRIVILEGED },
    { "read-only", no_argument, NULL, OPT_READ_ONLY },
    { "tmpfs", required_argument, NULL, OPT_TMPFS },
    { "device", required_argument, NULL, OPT_DEVICE },
    { "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
    { "ulimit", required_argument, NULL, OPT_ULIMIT },
    { "shm-size", required_argument, NULL, OPT_SHM },
    { "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
    { "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
    { "restart", required_argument, NULL, OPT_RESTART },
    { "label", required_argument, NULL, 'l' },
    { "init", no_argument, NULL, OPT_INIT },
    { "network", required_argument, NULL, OPT_NETWORK },
    { "net", required_argument, NULL, OPT_NETWORK },
    { "pull", required_argument, NULL, OPT_PULL },
    { "volume", required_argument, NULL, 'v' },
    { "mount", required_argument, NULL, OPT_MOUNT },
    { "volumes-from", required_argument, NULL, OPT_VOLUMES_FROM },
    { "publish", required_argument, NULL, 'p' },
    { "publish-all", no_argument, NULL, 'P' },
    { "ip", required_argument, NULL, OPT_IP },
    { "dns", required_argument, NULL, OPT_DNS },
    { "add-host", required_argument, NULL, OPT_ADD_HOST },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

struct parsed {
    struct ctr_create_args a;
    bool detach;
    struct strv_builder env, caps_add, caps_drop, tmpfs, devices, ulimits, labels, volumes, mounts, volumes_from;
    struct strv_builder publish, dns, add_hosts;
};

static void parsed_free(struct parsed *p)
{
    strv_free(p->env.v);
    strv_free(p->caps_add.v);
    strv_free(p->caps_drop.v);
    strv_free(p->tmpfs.v);
    strv_free(p->devices.v);
    strv_free(p->ulimits.v);
    strv_free(p->labels.v);
    strv_free(p->volumes.v);
    strv_free(p->mounts.v);
    strv_free(p->volumes_from.v);
    strv_free(p->publish.v);
    strv_free(p->dns.v);
    strv_free(p->add_hosts.v);
}

static int bad(const char *verb, const char *flag, const char *val, const char *why)
{
    return engine_usage_error(verb, "%s \"%s\": %s", flag, val, why);
}

static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Returns 0, or 125 after printing the problem, or -2 after --help. */
static int parse_run_flags(const char *verb, int argc, char **argv, struct parsed *p)
{
    memset(p, 0, sizeof *p);
    struct run_opts *r = &p->a.run;
    r->memory = -1;
    r->memory_swap = -2;
    r->nano_cpus = -1;
    r->cpu_shares = -1;
    r->shm_size = -1;
    p->a.stop_timeout = -1;
    int ch;
    long long n;
    while ((ch = getopt_long(argc, argv, "+dital:e:w:u:m:v:p:Ph", run_opts, NULL)) != -1) {
        switch (ch) {
        case 'd': p->detach = true; break;
        case 'i': r->interactive = true; break;
        case 't': r->tty = true; break;
        case 'a': break;
        case OPT_NAME: p->a.name = optarg; break;
        case 'e':
            if (strchr(optarg, '=')) {
                sb_add(&p->env, optarg);
            } else if (getenv(optarg)) {
                _cleanup_free_ char *kv = xasprintf("%s=%s", optarg, getenv(optarg));
                sb_add(&p->env, kv);
            }
            break;
        case OPT_ENV_FILE:
            if (read_env_file(optarg, &p->env) < 0)
                return ENGINE_EXIT_ERROR;
            break;
        case 'w':
            if (optarg[0] != '/')
                return bad(verb, "-w", optarg, "the working directory must be an absolute path");
            r->workdir = optarg;
            break;
        case 'u': r->user = optarg; break;
        case OPT_ENTRYPOINT: r->entrypoint = optarg; break;
        case OPT_HOSTNAME: r->hostname = optarg; break;
        case OPT_RM: p->a.auto_remove = true; break;
        case 'm':
            if (parse_bytes(optarg, &r->memory) < 0 || r->memory < 6 * 1024 * 1024)
                return bad(verb, "--memory", optarg, "not a size of at least 6m (e.g. 512m, 1g)");
            break;
        case OPT_MEMORY_SWAP:
            if (strcmp(optarg, "-1") == 0)
                r->memory_swap = -1;
            else if (parse_bytes(optarg, &r->memory_swap) < 0)
                return bad(verb, "--memory-swap", optarg, "not a size (e.g. 1g) or -1");
            break;
        case OPT_CPUS: {
            char *end;
            double c = strtod(optarg, &end);
            if (*end || end == optarg || c <= 0 || c > 4096)
                return bad(verb, "--cpus", optarg, "not a positive number of CPUs");
            r->nano_cpus = (int64_t)(c * 1e9);
            break;
        }
        case OPT_CPU_SHARES:
            if (parse_int(optarg, 2, 262144, &n) < 0)
                return bad(verb, "--cpu-shares", optarg, "not a number from 2 to 262144");
            r->cpu_shares = n;
            break;
        case OPT_PIDS:
            if (parse_int(optarg, -1, INT64_MAX, &n) < 0)
                return bad(verb, "--pids-limit", optarg, "not a number (-1: unlimited)");
            r->pids_limit = n;
            break;
        case OPT_CAP_ADD: sb_add(&p->caps_add, optarg); break;
        case OPT_CAP_DROP: sb_add(&p->caps_drop, optarg); break;
        case OPT_PRIVILEGED: r->privileged = true; break;
        case OPT_READ_ONLY: r->read_only = true; break;
        case OPT_TMPFS:
            if (optarg[0] != '/')
                return bad(verb, "--tmpfs", optarg, "the path must be absolute");
            sb_add(&p->tmpfs, optarg);
            break;
        case OPT_DEVICE: sb_add(&p->devices, optarg); break;
        case OPT_SECURITY_OPT:
            if (strcmp(optarg, "no-new-privileges") == 0 || strcmp(optarg, "no-new-privileges:true") == 0 ||
                strcmp(optarg, "no-new-privileges=true") == 0)
                r->no_new_privileges = true;
            else if (strncmp(optarg, "seccomp=", 8) == 0 || strncmp(optarg, "seccomp:", 8) == 0)
                r->seccomp = optarg + 8;
            else
                return bad(verb, "--security-opt", optarg,
                           "not supported (seccomp=FILE|unconfined, no-new-privileges)");
            break;
        case OPT_ULIMIT: sb_add(&p->ulimits, optarg); break;
        case OPT_SHM:
            if (parse_bytes(optarg, &r->shm_size) < 0 || r->shm_size <= 0)
                return bad(verb, "--shm-size", optarg, "not a size (e.g. 64m)");
            break;
        case OPT_STOP_SIGNAL:
            if (signal_parse(optarg) <= 0)
                return bad(verb, "--stop-signal", optarg, "not a signal");
            r->stop_signal = optarg;
            break;
        case OPT_STOP_TIMEOUT:
            if (parse_int(optarg, 0, 1 << 20, &n) < 0)
                return bad(verb, "--stop-timeout", optarg, "not a number of seconds");
            p->a.stop_timeout = (int)n;
            break;
        case OPT_RESTART: p->a.restart = optarg; break;
        case 'l': sb_add(&p->labels, optarg); break;
        case OPT_INIT: r->init = true; break;
        case OPT_NETWORK:
            /* "bridge" is docker's name for the default network */
            p->a.net.mode = strcmp(optarg, "bridge") == 0 || strcmp(optarg, "default") == 0 ? NET_DEFAULT_NAME : optarg;
            if (strncmp(optarg, "container:", 10) != 0 && strcmp(optarg, "host") != 0 && strcmp(optarg, "none") != 0 &&
                !net_name_valid(p->a.net.mode))
                return bad(verb, "--network", optarg, "not none, host, container:NAME|ID or a network's name");
            break;
        case 'p': sb_add(&p->publish, optarg); break;
        case 'P': p->a.net.publish_all = true; break;
        case OPT_IP: p->a.net.ip = optarg; break;
        case OPT_DNS: sb_add(&p->dns, optarg); break;
        case OPT_ADD_HOST: sb_add(&p->add_hosts, optarg); break;
        case OPT_PULL:
            if (strcmp(optarg, "missing") != 0 && strcmp(optarg, "always") != 0 && strcmp(optarg, "never") != 0)
                return bad(verb, "--pull", optarg, "not missing, always or never");
            p->a.pull = optarg;
            break;
        case 'v': sb_add(&p->volumes, optarg); break;
        case OPT_MOUNT: sb_add(&p->mounts, optarg); break;
        case OPT_VOLUMES_FROM: sb_add(&p->volumes_from, optarg); break;
        case 'h':
            printf("usage: husk container %s [options] IMAGE [COMMAND [ARG...]]\n"
                   "  -d -i -t --name --rm -e --env-file -w -u --entrypoint --hostname -m --memory-swap --cpus\n"
                   "  --cpu-shares --pids-limit --cap-add --cap-drop --privileged --read-only --tmpfs --device\n"
                   "  --security-opt --ulimit --shm-size --stop-signal --stop-timeout --restart --label --init\n"
                   "  -v HOST-PATH|NAME:CONTAINER-PATH[:ro] | -v CONTAINER-PATH, --mount type=bind|volume|tmpfs,…,\n"
                   "  --volumes-from CONTAINER[:ro]\n"
                   "  --network none|host|bridge|NAME|container:ID -p [IP:][HOST:]CTR[/udp] -P --ip --dns\n"
                   "  --add-host NAME:IP --pull missing|always|never\n",
                   verb);
            return -2;
        default:
            return engine_usage_error(verb, "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return engine_usage_error(verb, "requires at least 1 argument (usage: husk %s [options] IMAGE [COMMAND...])",
                                  verb);
    if (p->a.auto_remove && p->a.restart && strcmp(p->a.restart, "no") != 0)
        return engine_usage_error(verb, "--restart %s and --rm cannot be used together", p->a.restart);
    p->a.image = argv[optind];
    r->cmd = optind + 1 < argc ? argv + optind + 1 : NULL;
    r->env = p->env.v;
    r->cap_add = p->caps_add.v;
    r->cap_drop = p->caps_drop.v;
    r->tmpfs = p->tmpfs.v;
    r->devices = p->devices.v;
    r->ulimits = p->ulimits.v;
    r->labels = p->labels.v;
    p->a.volumes = p->volumes.v;
    p->a.mounts = p->mounts.v;
    p->a.volumes_from = p->volumes_from.v;
    p->a.net.publish = p->publish.v;
    p->a.net.dns = p->dns.v;
    p->a.net.add_hosts = p->add_hosts.v;
    return 0;
}

/* docker pulls an image run or create does not find (--pull missing). Returns 1
 * in husk-engine-lean when a pull is due: husk-engine does it (engine_full.c). */
static int ensure_image(struct store *st, const struct ctr_create_args *a, husk_err **err)
{
    struct image_record img;
    const char *policy = a->pull ? a->pull : "missing";
    if (strcmp(policy, "always") != 0) {
        husk_err *e = NULL;
        if (image_lookup(st, a->image, &img, &e) == 0) {
            image_record_free(&img);
            return 0;
        }
        if (strcmp(policy, "never") == 0) {
            *err = e;
            return -1;
        }
        husk_err_free(&e);
#ifndef HUSK_ENGINE_LEAN
        fprintf(stderr, "Unable to find image '%s' locally\n", a->image);
#endif
    }
#ifdef HUSK_ENGINE_LEAN
    return 1;
#else
    struct pull_opts o = { .reg = { .tls_verify = -1 } };
    struct pull_result res;
    if (image_pull(st, a->image, &o, &res, err) < 0)
        return -1;
    pull_result_free(&res);
    return 0;
#endif
}

static int create_or_run(struct cli_global *g, int argc, char **argv, bool run)
{
    const char *verb = run ? "container run" : "container create";
    struct parsed p;
    int r = parse_run_flags(verb, argc, argv, &p);
    if (r != 0) {
        parsed_free(&p);
        return r == -2 ? 0 : r;
    }
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *id = NULL;
    struct store st;
    int code = 0;
    if (engine_open_store(g, &st, &err) < 0) {
        parsed_free(&p);
        return engine_fail(&err);
    }
    r = ensure_image(&st, &p.a, &err);
    if (r > 0) {
        store_close(&st);
        parsed_free(&p);
        return engine_exec_full(g, argc, argv);
    }
    p.a.keep_mounted = run;
    if (r < 0 || ctr_create(&st, g->root, &p.a, &id, &err) < 0) {
        code = engine_fail(&err);
        goto out;
    }
    if (!run) {
        printf("%s\n", id);
        goto out;
    }
    if (p.detach) {
        if (ctr_start(&st, g->root, id, false, false, NULL, &err) < 0) {
            code = container_start_failed(&st, g->root, id, p.a.auto_remove, &err);
            goto out;
        }
        printf("%s\n", id);
        goto out;
    }
    if (ctr_start(&st, g->root, id, true, p.a.run.interactive, &code, &err) < 0)
        code = container_start_failed(&st, g->root, id, p.a.auto_remove, &err);
out:
    store_close(&st);
    parsed_free(&p);
    return code;
}

int cmd_container_create(struct cli_global *g, int argc, char **argv)
{
    return create_or_run(g, argc, argv, false);
}

int cmd_container_run(struct cli_global *g, int argc, char **argv)
{
    return create_or_run(g, argc, argv, true);
}
