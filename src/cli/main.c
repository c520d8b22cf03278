/* main.c — husk's entry point: global flags, then one verb. */
#include "cli.h"
#include "engine.h"
#include "log.h"
#include "selfclone.h"
#include "testhooks.h"
#include "util.h"
#include "husk-config.h"

#include <json-c/json.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef HUSK_ENGINE_BINARY
#define ENGINE_VERB(fn) fn
#else
#define ENGINE_VERB(fn) cli_exec_engine
#endif
/* husk-engine-lean has the container noun only (engine_full.c) */
#ifdef HUSK_ENGINE_LEAN
#define FULL_ENGINE_VERB(fn) engine_exec_full
#else
#define FULL_ENGINE_VERB(fn) ENGINE_VERB(fn)
#endif

static const struct verb {
    const char *name;
    cli_verb_fn fn;
    bool clone_self;    /* forks processes into a container: run from a protected binary (selfclone.h) */
    const char *help;
} verbs[] = {
#ifndef HUSK_ENGINE_BINARY
    { "spec", cmd_spec, false, "create a new specification file (config.json)" },
    { "create", cmd_create, true, "create a container" },
    { "start", cmd_start, false, "start a created container (runs its user process)" },
    { "run", cmd_run, true, "create and run a container" },
    { "state", cmd_state, false, "output the state of a container" },
    { "list", cmd_list, false, "list containers started by husk with the given root" },
    { "kill", cmd_kill, false, "send a signal to the container's init process" },
    { "delete", cmd_delete, false, "delete any resources held by the container" },
    { "pause", cmd_pause, false, "suspend all processes of a container (cgroup freezer)" },
    { "resume", cmd_resume, false, "resume all processes of a paused container" },
    { "update", cmd_update, false, "update the cgroup resource limits of a container" },
    { "events", cmd_events, false, "print container statistics and OOM events as JSON lines" },
    { "ps", cmd_ps, false, "list the processes running in a container" },
    { "exec", cmd_exec, true, "run a new process inside a running container" },
    { "features", cmd_features, false, "show the OCI features (what config.json may ask) as JSON" },
    { "checkpoint", cmd_checkpoint, false, "checkpoint a running container (criu)" },
    { "restore", cmd_restore, false, "restore a container from a checkpoint (criu)" },
#endif
    /* the engine, grouped by noun (../shared/design/engine.md): run by husk-engine,
     * which husk execs for them (engine_exec.c) */
    { "container", ENGINE_VERB(cmd_container), false,
      "manage containers: run create start stop restart kill rm ls inspect logs exec wait attach pause unpause rename top prune" },
    { "image", FULL_ENGINE_VERB(cmd_image), false, "manage images: pull push ls inspect tag rm history import load save prune" },
    { "volume", FULL_ENGINE_VERB(cmd_volume), false, "manage volumes: create ls inspect rm prune" },
    { "network", FULL_ENGINE_VERB(cmd_network), false, "manage networks: create ls inspect rm prune connect disconnect" },
    { "login", FULL_ENGINE_VERB(cmd_login), false, "log in to a registry (credentials kept in the containers auth file)" },
    { "logout", FULL_ENGINE_VERB(cmd_logout), false, "remove the stored credentials of a registry" },
};

int cli_fail(husk_err **err)
{
    husk_err_report(err);
    return 1;
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    husk_log(HUSK_LOG_ERROR, "%s: %s (see 'husk %s --help')", verb, msg ? msg : "usage error", verb);
    free(msg);
    return 1;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    opterr = 0;
    return getopt_long_only(argc, argv, shortopts, longopts, NULL);
}

int cli_need_args(const char *verb, int argc, char **argv, int min, int max, const char *usage)
{
    (void)argv;
    int n = argc - optind;
    if (n < min || (max >= 0 && n > max))
        return cli_usage_error(verb, "%s, got %d argument%s (usage: husk %s %s)",
                               min == max ? (min == 1 ? "requires exactly 1 argument" : "wrong number of arguments")
                                          : "wrong number of arguments",
                               n, n == 1 ? "" : "s", verb, usage);
    return 0;
}

static void print_version(void)
{
    const struct scmp_version *sv = seccomp_version();
    printf("husk version %s\n", HUSK_VERSION);
    printf("spec: %s\n", HUSK_OCI_VERSION);
    printf("json-c: %s\n", json_c_version());
    printf("libseccomp: %u.%u.%u\n", sv->major, sv->minor, sv->micro);
    printf("features: +namespaces(pid,net,ipc,uts,mnt,user,cgroup,time) +cgroup-v1 +cgroup-v2 +hybrid +caps +hooks "
           "+pivot_root +openat2 +sealed-self-exec +seccomp -systemd -selinux -apparmor "
           "+criu\n");
}

static void print_help(FILE *f)
{
    fprintf(f, "husk — an OCI container runtime\n\n"
               "usage: husk [global options] COMMAND [options] [arguments]\n\n"
               "commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
        fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].help);
    fprintf(f, "\nglobal options:\n"
               "  --root DIR             state directory (default /run/husk)\n"
               "  --storage-root DIR     the engine's images, containers, volumes (default /var/lib/husk)\n"
               "  --log FILE             also write errors and debug output to FILE\n"
               "  --log-format text|json format of --log (json lines as runc writes them)\n"
               "  --debug                write each step husk takes (to --log, else stderr)\n"
               "  --systemd-cgroup       use systemd for cgroups (not supported)\n"
               "  --rootless true|false|auto\n"
               "  --criu PATH            criu program for checkpoint and restore (default criu)\n"
               "  --version, -v          print the version\n"
               "  --help, -h             this text; 'husk COMMAND --help' for a command\n");
}

/* The re-execution selfclone_ensure() makes for create, run and exec, done before
 * main() and the other constructors (libcap's, the note of inherited fds), whose
 * work the re-executed husk does again anyway. Only when the command line plainly
 * names such a verb: main() calls selfclone_ensure() again, whatever this found. */
__attribute__((constructor(101))) static void clone_self_early(int argc, char **argv)
{
    static const char *const with_value[] = { "root", "log", "log-format", "rootless", "criu", "storage-root" };
    for (int i = 1; i < argc && argv[i]; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            for (size_t v = 0; v < ARRAY_SIZE(verbs); v++)
                if (verbs[v].clone_self && strcmp(verbs[v].name, a) == 0) {
                    husk_err *err = NULL;
                    selfclone_ensure(argv, &err);   /* returns only if not needed, or failed */
                    husk_err_free(&err);
                }
            return;
        }
        const char *n = a + (a[1] == '-' ? 2 : 1);
        for (size_t k = 0; k < ARRAY_SIZE(with_value); k++)
            if (strcmp(n, with_value[k]) == 0)
                i++;
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "root", required_argument, NULL, 'r' },
        { "log", required_argument, NULL, 'l' },
        { "log-format", required_argument, NULL, 'F' },
        { "debug", no_argument, NULL, 'd' },
        { "systemd-cgroup", no_argument, NULL, 's' },
        { "rootless", required_argument, NULL, 'R' },
        { "criu", required_argument, NULL, 'C' },
        { "storage-root", required_argument, NULL, 'S' },
        { "version", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct cli_global g = { .root = "/run/husk" };
    const char *log_format = "text";
    int c;

    /* Test builds only (-Dtest_hooks=true): HUSK_TEST_KILL_AT=list prints the kill points. */
    husk_kill_points_maybe_list();
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': g.root = optarg; break;
        case 'l': g.log = optarg; break;
        case 'F': log_format = optarg; break;
        case 'd': g.debug = true; break;
        case 's': g.systemd_cgroup = true; break;
        case 'R': g.rootless = optarg; break;
        case 'S': g.storage_root = optarg; break;
        case 'C': g.criu = optarg; break;
        case 'v': print_version(); return 0;
        case 'h': print_help(stdout); return 0;
        default:
            fprintf(stderr, "husk: unknown or incomplete global option '%s'\n", argv[optind - 1]);
            return 1;
        }
    }
    if (strcmp(log_format, "text") != 0 && strcmp(log_format, "json") != 0) {
        fprintf(stderr, "husk: --log-format: unknown format \"%s\" (text or json)\n", log_format);
        return 1;
    }
    g.log_json = strcmp(log_format, "json") == 0;
    if (husk_log_init(g.log, g.log_json, g.debug) < 0) {
        fprintf(stderr, "husk: --log %s: %m\n", g.log);
        return 1;
    }
    if (g.rootless && strcmp(g.rootless, "true") != 0 && strcmp(g.rootless, "false") != 0 &&
        strcmp(g.rootless, "auto") != 0) {
        husk_log(HUSK_LOG_ERROR, "--rootless: unknown value \"%s\" (true, false or auto)", g.rootless);
        return 1;
    }
    if (optind >= argc) {
        print_help(stderr);
        return 1;
    }
    const char *name = argv[optind];
    cli_main_argv = argv;
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
        if (strcmp(verbs[i].name, name) != 0)
            continue;
        if (verbs[i].clone_self) {
            _cleanup_err_ husk_err *err = NULL;
            if (selfclone_ensure(argv, &err) < 0)
                return cli_fail(&err);
        }
        log_debug("husk %s: %s (pid %d)", HUSK_VERSION, name, (int)getpid());
        int vargc = argc - optind;
        char **vargv = argv + optind;
        optind = 0;   /* glibc: full re-initialisation of getopt for the verb */
        return verbs[i].fn(&g, vargc, vargv);
    }
    husk_log(HUSK_LOG_ERROR, "unknown command \"%s\" (see 'husk --help')", name);
    return 1;
}
