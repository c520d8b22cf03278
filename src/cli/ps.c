/* ps.c — `husk ps [-f table|json] ID [ps options]`: the container's processes.
 * json: the array of their host pids. table (default): the host's ps(1) run
 * with the given options (default -ef), keeping its header and the lines whose
 * PID column is one of the container's, as runc does. */
#include "cli.h"
#include "container.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Run ps with args, its stdout into *out. Its stderr goes to ours. */
static int run_ps(char **args, int nargs, char **out, husk_err **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return husk_fail(err, errno, "pipe");
    char **av = xcalloc((size_t)nargs + 2, sizeof(char *));
    av[0] = "ps";
    for (int i = 0; i < nargs; i++)
        av[i + 1] = args[i];
    pid_t pid = fork();
    if (pid < 0) {
        free(av);
        close(p[0]);
        close(p[1]);
        return husk_fail(err, errno, "fork");
    }
    if (pid == 0) {
        if (dup2(p[1], STDOUT_FILENO) < 0)
            _exit(127);
        execvp("ps", av);
        fprintf(stderr, "husk: ps: exec ps: %s\n", strerror(errno));
        _exit(127);
    }
    free(av);
    close(p[1]);
    size_t cap = 8192, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap)
            buf = xrealloc(buf, cap *= 2);
        ssize_t r = read(p[0], buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(buf);
        return husk_fail(err, 0, "ps failed (exit status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    *out = buf;
    return 0;
}

/* The whitespace-separated field number idx of line, as a pid; -1 if none. */
static long field_pid(const char *line, int idx)
{
    const char *p = line;
    for (int i = 0;; i++) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '\n')
            return -1;
        if (i == idx) {
            char *end;
            long v = strtol(p, &end, 10);
            return end != p && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\0') ? v : -1;
        }
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
    }
}

static int pid_column(const char *header)
{
    const char *p = header;
    for (int i = 0;; i++) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '\n')
            return -1;
        size_t l = strcspn(p, " \t\n");
        if (l == 3 && strncmp(p, "PID", 3) == 0)
            return i;
        p += l;
    }
}

int cmd_ps(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    _cleanup_err_ husk_err *err = NULL;
    const char *format = "table";
    int ch;
    while ((ch = cli_getopt(argc, argv, "+f:h", opts)) != -1) {
        switch (ch) {
        case 'f': format = optarg; break;
        case 'h':
            printf("usage: husk ps [--format|-f table|json] ID [ps options]\n\n"
                   "  --format, -f table|json  json: the host pids of the container's processes, as a\n"
                   "                           JSON array (what containerd's shim reads); table (the\n"
                   "                           default): the host's ps with the options given\n"
                   "                           (default -ef), only the container's processes\n");
            return 0;
        default: return cli_usage_error("ps", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
        return cli_usage_error("ps", "--format: unknown format \"%s\" (table or json)", format);
    if (cli_need_args("ps", argc, argv, 1, -1, "[-f table|json] ID [ps options]"))
        return 1;
    const char *id = argv[optind];
    char **ps_args = argv + optind + 1;
    int n_ps = argc - optind - 1;
    if (n_ps > 0 && strcmp(ps_args[0], "--") == 0)
        ps_args++, n_ps--;

    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    if (container_pids(g->root, id, &pids, &n, &err) < 0)
        return cli_fail(&err);

    if (strcmp(format, "json") == 0) {
        if (n_ps > 0)
            return cli_usage_error("ps", "ps options cannot be used with --format json");
        fputc('[', stdout);
        for (size_t i = 0; i < n; i++)
            printf("%s%d", i ? "," : "", (int)pids[i]);
        fputs("]\n", stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }

    static char *def[] = { "-ef" };
    _cleanup_free_ char *text = NULL;
    if (run_ps(n_ps > 0 ? ps_args : def, n_ps > 0 ? n_ps : 1, &text, &err) < 0)
        return cli_fail(&err);
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
    int col = pid_column(text);
    if (col < 0)
        return husk_fail(&err, 0, "ps: the output of ps has no PID column (header: \"%s\")", text), cli_fail(&err);
    printf("%s\n", text);
    for (char *line = nl ? nl + 1 : NULL; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        long pid = field_pid(line, col);
        for (size_t i = 0; pid > 0 && i < n; i++)
            if (pids[i] == (pid_t)pid) {
                printf("%s\n", line);
                break;
            }
        line = next;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
