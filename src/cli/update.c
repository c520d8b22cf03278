/* update.c — `husk update [flags] ID`: change the cgroup limits of a created,
 * running or paused container, with runc's flags or a linux.resources JSON
 * document (--resources FILE, or - for stdin). As with runc, the other flags
 * are ignored when a document is given (with a warning here), and a value of 0
 * leaves that setting unchanged. */
#include "cli.h"
#include "container.h"
#include "config_json.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_RESOURCES = 'r',
    OPT_HELP = 'h',
    OPT_BLKIO_WEIGHT = 256,
    OPT_CPU_PERIOD,
    OPT_CPU_QUOTA,
    OPT_CPU_BURST,
    OPT_CPU_SHARES,
    OPT_CPU_RT_PERIOD,
    OPT_CPU_RT_RUNTIME,
    OPT_CPUSET_CPUS,
    OPT_CPUSET_MEMS,
    OPT_KERNEL_MEMORY,
    OPT_KERNEL_MEMORY_TCP,
    OPT_MEMORY,
    OPT_MEMORY_RESERVATION,
    OPT_MEMORY_SWAP,
    OPT_PIDS_LIMIT,
    OPT_L3_CACHE,
    OPT_MEM_BW,
};

static const char usage_text[] =
    "usage: husk update [flags] ID\n\n"
    "Updates the cgroup resource limits of a container. A value of 0 leaves a setting unchanged.\n\n"
    "  -r, --resources FILE|-      a linux.resources JSON object (- reads it from stdin);\n"
    "                              the flags below are then ignored, as with runc\n"
    "  --memory SIZE               memory limit (k, m, g, t suffixes; -1 = unlimited)\n"
    "  --memory-swap SIZE          memory+swap limit (-1 = unlimited swap)\n"
    "  --memory-reservation SIZE   soft limit\n"
    "  --kernel-memory SIZE        ignored (kernel memory limits are gone from current kernels)\n"
    "  --kernel-memory-tcp SIZE    ignored (likewise)\n"
    "  --cpu-shares N              relative CPU weight (also --cpu-share)\n"
    "  --cpu-period US             CFS period in microseconds\n"
    "  --cpu-quota US              CFS quota per period in microseconds (-1 = unlimited)\n"
    "  --cpu-burst US              CFS burst in microseconds\n"
    "  --cpu-rt-period US          realtime period in microseconds\n"
    "  --cpu-rt-runtime US         realtime runtime per period in microseconds\n"
    "  --cpuset-cpus LIST          CPUs to use (0-3,5)\n"
    "  --cpuset-mems LIST          memory nodes to use\n"
    "  --pids-limit N              most processes at once (-1 = unlimited)\n"
    "  --blkio-weight N            block IO weight, 10 to 1000\n";

/* A size as runc (docker's units.RAMInBytes) reads it: a number, maybe with a
 * fraction, then an optional unit b, k, m, g, t, p (powers of 1024, any case,
 * optionally followed by "b" or "ib"); "-1" means unlimited. */
static int parse_size(const char *flag, const char *s, int64_t *out)
{
    if (strcmp(s, "-1") == 0) {
        *out = -1;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || !(v >= 0) || s[0] == '-' || s[0] == '+' || isspace((unsigned char)s[0]))
        goto bad;
    while (*end == ' ')
        end++;
    static const char units[] = "bkmgtp";
    double mult = 1;
    if (*end) {
        const char *u = strchr(units, tolower((unsigned char)*end));
        if (u == NULL)
            goto bad;
        for (const char *k = units; k < u; k++)
            mult *= 1024;
        end++;
        if (u != units) {
            if (tolower((unsigned char)*end) == 'i')
                end++;
            if (tolower((unsigned char)*end) == 'b')
                end++;
        }
    }
    if (*end != '\0')
        goto bad;
    v *= mult;
    if (v >= 9223372036854775807.0)
        goto bad;
    *out = (int64_t)v;
    return 0;
bad:
    cli_usage_error("update", "%s: invalid size \"%s\" (e.g. 512m, 1g, -1)", flag, s);
    return -1;
}

static int parse_i64(const char *flag, const char *s, int64_t min, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < min) {
        cli_usage_error("update", "%s: invalid number \"%s\"", flag, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int read_all_input(const char *path, char **text, size_t *len, husk_err **err)
{
    if (strcmp(path, "-") != 0)
        return read_file_at(AT_FDCWD, path, CJ_MAX_DOCUMENT, text, len, err) < 0
                   ? husk_err_prefix(err, "--resources")
                   : 0;
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > CJ_MAX_DOCUMENT) {
                free(buf);
                return husk_fail(err, 0, "--resources: standard input is larger than %u bytes", CJ_MAX_DOCUMENT);
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(STDIN_FILENO, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return husk_fail(err, errno, "--resources: read standard input");
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

int cmd_update(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "resources", required_argument, NULL, OPT_RESOURCES },
        { "blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT },
        { "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
        { "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
        { "cpu-burst", required_argument, NULL, OPT_CPU_BURST },
        { "cpu-share", required_argument, NULL, OPT_CPU_SHARES },
        { "cpu-shares", required_argument, NULL, OPT_CPU_SHARES },
        { "cpu-rt-period", required_argument, NULL, OPT_CPU_RT_PERIOD },
        { "cpu-rt-runtime", required_argument, NULL, OPT_CPU_RT_RUNTIME },
        { "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
        { "cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS },
        { "kernel-memory", required_argument, NULL, OPT_KERNEL_MEMORY },
        { "kernel-memory-tcp", required_argument, NULL, OPT_KERNEL_MEMORY_TCP },
        { "memory", required_argument, NULL, OPT_MEMORY },
        { "memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION },
        { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
        { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
        { "l3-cache-schema", required_argument, NULL, OPT_L3_CACHE },
        { "mem-bw-schema", required_argument, NULL, OPT_MEM_BW },
        { "help", no_argument, NULL, OPT_HELP },
        { NULL, 0, NULL, 0 },
    };
    _cleanup_err_ husk_err *err = NULL;
    const char *resources = NULL;
    /* The flags, applied after the document. */
    struct oci_resources f = { 0 };
    _cleanup_free_ char *cpus = NULL, *mems = NULL;
    bool any_flag = false;
    int64_t v;
    int ch;

    const char *id = NULL;
    int n_args = 0;
    /* Flags may come before or after the id, as runc's (urfave/cli's) update takes
     * them: the leading '-' has getopt hand back each non-flag as code 1, in order,
     * whatever POSIXLY_CORRECT says. */
    while ((ch = cli_getopt(argc, argv, "-r:h", opts)) != -1) {
        if (ch == 1) {
            if (n_args++ == 0)
                id = optarg;
            continue;
        }
        /* The flag's name for messages ("--memory"), whichever way it was written. */
        _cleanup_free_ char *flag = NULL;
        for (const struct option *o = opts; o->name && !flag; o++)
            if (o->val == ch)
                flag = xasprintf("--%s", o->name);
        if (!flag)
            flag = xstrdup(argv[optind - 1]);
        if (ch != OPT_HELP && ch != '?' && ch != ':' && ch != OPT_RESOURCES)
            any_flag = true;
        switch (ch) {
        case OPT_RESOURCES: resources = optarg; break;
        case OPT_HELP: fputs(usage_text, stdout); return 0;
        case OPT_MEMORY:
        case OPT_MEMORY_SWAP:
        case OPT_MEMORY_RESERVATION:
            if (parse_size(flag, optarg, &v) < 0)
                return 1;
            f.has_memory = true;
            if (ch == OPT_MEMORY)
                f.memory.has_limit = true, f.memory.limit = v;
            else if (ch == OPT_MEMORY_SWAP)
                f.memory.has_swap = true, f.memory.swap = v;
            else
                f.memory.has_reservation = true, f.memory.reservation = v;
            break;
        case OPT_KERNEL_MEMORY:
        case OPT_KERNEL_MEMORY_TCP:
            if (parse_size(flag, optarg, &v) < 0)
                return 1;
            /* Like runc on kernels without kmem limits: accepted, not applied. */
            husk_log(HUSK_LOG_WARNING, "%s is ignored: kernel memory limits are not supported by this kernel",
                     ch == OPT_KERNEL_MEMORY ? "--kernel-memory" : "--kernel-memory-tcp");
            break;
        case OPT_CPU_SHARES:
        case OPT_CPU_PERIOD:
        case OPT_CPU_BURST:
        case OPT_CPU_RT_PERIOD:
            if (parse_i64(flag, optarg, 0, &v) < 0)
                return 1;
            f.has_cpu = true;
            if (ch == OPT_CPU_SHARES)
                f.cpu.has_shares = true, f.cpu.shares = (uint64_t)v;
            else if (ch == OPT_CPU_PERIOD)
                f.cpu.has_period = true, f.cpu.period = (uint64_t)v;
            else if (ch == OPT_CPU_BURST)
                f.cpu.has_burst = true, f.cpu.burst = (uint64_t)v;
            else
                f.cpu.has_realtime_period = true, f.cpu.realtime_period = (uint64_t)v;
            break;
        case OPT_CPU_QUOTA:
        case OPT_CPU_RT_RUNTIME:
            if (parse_i64(flag, optarg, -1, &v) < 0)
                return 1;
            f.has_cpu = true;
            if (ch == OPT_CPU_QUOTA)
                f.cpu.has_quota = true, f.cpu.quota = v;
            else
                f.cpu.has_realtime_runtime = true, f.cpu.realtime_runtime = v;
            break;
        case OPT_CPUSET_CPUS:
        case OPT_CPUSET_MEMS:
            f.has_cpu = true;
            if (ch == OPT_CPUSET_CPUS) {
                free(cpus);
                cpus = xstrdup(optarg);
            } else {
                free(mems);
                mems = xstrdup(optarg);
            }
            break;
        case OPT_PIDS_LIMIT:
            if (parse_i64(flag, optarg, INT64_MIN, &v) < 0)
                return 1;
            f.has_pids = true;
            f.pids.limit = v;
            break;
        case OPT_BLKIO_WEIGHT:
            if (parse_i64(flag, optarg, 0, &v) < 0)
                return 1;
            if (v != 0 && (v < 10 || v > 1000))
                return cli_usage_error("update", "%s: %" PRId64 " is out of range (10 to 1000)", flag, v);
            f.has_block_io = true;
            f.block_io.has_weight = true;
            f.block_io.weight = (uint16_t)v;
            break;
        case OPT_L3_CACHE:
        case OPT_MEM_BW:
            husk_log(HUSK_LOG_ERROR, "update: %s: Intel RDT is not supported by husk", flag);
            return 1;
        default:
            return cli_usage_error("update", "unknown flag '%s'", flag);
        }
    }
    /* After "--" getopt stops: what is left is positional too. */
    for (; optind < argc; optind++)
        if (n_args++ == 0)
            id = argv[optind];
    if (n_args != 1)
        return cli_usage_error("update", "requires exactly 1 argument, got %d arguments (usage: husk update [flags] ID)",
                               n_args);

    struct oci_linux *l = NULL;
    if (resources) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        _cleanup_free_ char *name = strcmp(resources, "-") == 0 ? xstrdup("--resources (stdin)")
                                                                : xasprintf("--resources %s", resources);
        if (read_all_input(resources, &text, &len, &err) < 0 || resources_parse(text, len, name, &l, &err) < 0)
            return cli_fail(&err);
    } else if (!any_flag) {
        return cli_usage_error("update", "nothing to update: give --resources or a resource flag");
    } else {
        l = xcalloc(1, sizeof(*l));
    }

    /* runc's rule: with a document, the other flags are ignored. Said out loud. */
    if (resources && any_flag) {
        husk_log(HUSK_LOG_WARNING, "update: --resources is given, so the other resource flags are ignored");
        f = (struct oci_resources){ 0 };
        free(steal_ptr(cpus));
        free(steal_ptr(mems));
    }
    struct oci_resources *r = &l->resources;
    l->has_resources = true;
    if (f.has_memory) {
        r->has_memory = true;
        if (f.memory.has_limit)
            r->memory.has_limit = true, r->memory.limit = f.memory.limit;
        if (f.memory.has_swap)
            r->memory.has_swap = true, r->memory.swap = f.memory.swap;
        if (f.memory.has_reservation)
            r->memory.has_reservation = true, r->memory.reservation = f.memory.reservation;
    }
    if (f.has_cpu) {
        r->has_cpu = true;
#define TAKE(field)                                                                                                   \
    if (f.cpu.has_##field)                                                                                            \
        r->cpu.has_##field = true, r->cpu.field = f.cpu.field;
        TAKE(shares)
        TAKE(period)
        TAKE(quota)
        TAKE(burst)
        TAKE(realtime_period)
        TAKE(realtime_runtime)
#undef TAKE
        if (cpus) {
            free(r->cpu.cpus);
            r->cpu.cpus = steal_ptr(cpus);
        }
        if (mems) {
            free(r->cpu.mems);
            r->cpu.mems = steal_ptr(mems);
        }
    }
    if (f.has_pids) {
        r->has_pids = true;
        r->pids.limit = f.pids.limit;
    }
    if (f.has_block_io) {
        r->has_block_io = true;
        r->block_io.has_weight = true;
        r->block_io.weight = f.block_io.weight;
    }
    int ret = container_update(g->root, id, l, &err);
    resources_free(l);
    return ret < 0 ? cli_fail(&err) : 0;
}
