/* ocispec_bundle — test-only: write a bundle's config.json from an image config and
 * docker's run flags with ocispec_build (tests/integration/ocispec.bats), so the
 * engine's config can be run with `husk run` before `husk container run` exists.
 *
 *   ocispec_bundle --image-config FILE --rootfs DIR --userdata DIR --out FILE
 *                  [docker run flags] [-- CMD...]
 *
 * Sizes are plain bytes; --cpus a decimal. Errors: the library's one line, exit 125. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocispec.h"
#include "util.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(char *));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

int main(int argc, char **argv)
{
    struct run_opts o = { .memory = -1, .memory_swap = -2, .nano_cpus = -1, .cpu_shares = -1, .shm_size = -1 };
    const char *image = NULL, *rootfs = NULL, *userdata = NULL, *out = NULL;
    size_t n_env = 0, n_add = 0, n_drop = 0, n_tmpfs = 0, n_dev = 0, n_ul = 0;
    enum { IMG = 256, ROOTFS, USERDATA, OUT, EP, HOST, PRIV, RO, INIT, SECOPT, CAPADD, CAPDROP, TMPFS, DEV, ULIM,
           SWAP, CPUS, SHARES, PIDS, SHM };
    static const struct option lo[] = {
        { "image-config", 1, 0, IMG }, { "rootfs", 1, 0, ROOTFS }, { "userdata", 1, 0, USERDATA },
        { "out", 1, 0, OUT }, { "entrypoint", 1, 0, EP }, { "hostname", 1, 0, HOST },
        { "privileged", 0, 0, PRIV }, { "read-only", 0, 0, RO }, { "init", 0, 0, INIT },
        { "security-opt", 1, 0, SECOPT }, { "cap-add", 1, 0, CAPADD }, { "cap-drop", 1, 0, CAPDROP },
        { "tmpfs", 1, 0, TMPFS }, { "device", 1, 0, DEV }, { "ulimit", 1, 0, ULIM }, { "memory", 1, 0, 'm' },
        { "memory-swap", 1, 0, SWAP }, { "cpus", 1, 0, CPUS }, { "cpu-shares", 1, 0, SHARES },
        { "pids-limit", 1, 0, PIDS }, { "shm-size", 1, 0, SHM }, { "env", 1, 0, 'e' }, { "user", 1, 0, 'u' },
        { "workdir", 1, 0, 'w' }, { "tty", 0, 0, 't' }, { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "+e:u:w:tim:", lo, NULL)) != -1) {
        switch (c) {
        case IMG: image = optarg; break;
        case ROOTFS: rootfs = optarg; break;
        case USERDATA: userdata = optarg; break;
        case OUT: out = optarg; break;
        case EP: o.entrypoint = optarg; break;
        case HOST: o.hostname = optarg; break;
        case PRIV: o.privileged = true; break;
        case RO: o.read_only = true; break;
        case INIT: o.init = true; break;
        case SECOPT:
            if (strcmp(optarg, "no-new-privileges") == 0)
                o.no_new_privileges = true;
            else if (strncmp(optarg, "seccomp=", 8) == 0)
                o.seccomp = optarg + 8;
            break;
        case CAPADD: push(&o.cap_add, &n_add, optarg); break;
        case CAPDROP: push(&o.cap_drop, &n_drop, optarg); break;
        case TMPFS: push(&o.tmpfs, &n_tmpfs, optarg); break;
        case DEV: push(&o.devices, &n_dev, optarg); break;
        case ULIM: push(&o.ulimits, &n_ul, optarg); break;
        case 'e': push(&o.env, &n_env, optarg); break;
        case 'm': o.memory = strtoll(optarg, NULL, 10); break;
        case SWAP: o.memory_swap = strtoll(optarg, NULL, 10); break;
        case CPUS: o.nano_cpus = (int64_t)(strtod(optarg, NULL) * 1e9 + 0.5); break;
        case SHARES: o.cpu_shares = strtoll(optarg, NULL, 10); break;
        case PIDS: o.pids_limit = strtoll(optarg, NULL, 10); break;
        case SHM: o.shm_size = strtoll(optarg, NULL, 10); break;
        case 'u': o.user = optarg; break;
        case 'w': o.workdir = optarg; break;
        case 't': o.tty = true; break;
        case 'i': o.interactive = true; break;
        default: return 2;
        }
    }
    if (!image || !rootfs || !userdata || !out) {
        fprintf(stderr, "usage: ocispec_bundle --image-config F --rootfs D --userdata D --out F [flags] [-- CMD...]\n");
        return 2;
    }
    if (optind < argc)
        o.cmd = argv + optind;

    json_object *img = json_object_from_file(image);
    if (img == NULL) {
        fprintf(stderr, "%s: %s\n", image, json_util_get_last_err());
        return 2;
    }
    json_object *cfg = NULL;
    _cleanup_err_ husk_err *err = NULL;
    const char *hostname = o.hostname ? o.hostname : "0123456789ab";
    int rc = 0;
    if (ocispec_write_etc_files(userdata, hostname, &err) < 0 ||
        ocispec_build(img, &o, ID, rootfs, userdata, &cfg, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        rc = 125;
    } else if (json_object_to_file_ext(out, cfg, JSON_C_TO_STRING_PRETTY) < 0) {
        fprintf(stderr, "%s: %s\n", out, json_util_get_last_err());
        rc = 1;
    }
    json_object_put(img);
    json_object_put(cfg);
    free(o.env);
    free(o.cap_add);
    free(o.cap_drop);
    free(o.tmpfs);
    free(o.devices);
    free(o.ulimits);
    return rc;
}
