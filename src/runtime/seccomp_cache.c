/* seccomp_cache.c — generated seccomp programs kept for the next container with the
 * same profile (seccomp_filter_build_cached, seccomp_filter.h).
 *
 * libseccomp takes ~20 ms of CPU to turn docker's default profile into BPF, on the
 * critical path of every container start. The engine starts many containers from
 * the same few profiles, so it keeps the programs, one file per key:
 *
 *     "hkSC" | version | key length | program length | checksum | key | program
 *
 * The key is the text of everything the program depends on, each string
 * length-prefixed (two different profiles never make the same key): the profile as
 * parsed, libseccomp's version, the kernel's seccomp API level (which flags and
 * actions libseccomp may use), the native architecture, and husk's own executable
 * (device, inode, size, mtime: another build of husk may generate another program).
 * The file is named after a 64-bit FNV-1a hash of the key, but the whole key is
 * compared before an entry is used: a hash collision is only a miss. The checksum
 * (FNV-1a over key and program) catches a damaged file. Neither is a defence
 * against someone who may write the directory: it must be ours and writable by us
 * alone (checked), as the container's config and rootfs are. */
#include "seccomp_filter.h"
#include "log.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC 0x43536b68U   /* "hkSC" */
#define CACHE_VERSION 1U
#define CACHE_MAX (1U << 20)

struct cache_head {
    uint32_t magic, version;
    uint64_t key_len, prog_len, sum;
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define FNV_INIT 0xcbf29ce484222325ULL

static void put_str(FILE *f, const char *tag, const char *s)
{
    if (s)
        fprintf(f, "%s %zu:%s\n", tag, strlen(s), s);
    else
        fprintf(f, "%s -\n", tag);
}

static void put_file(FILE *f, const char *tag, const struct stat *st)
{
    fprintf(f, "%s %ju:%ju %jd %jd.%09ld\n", tag, (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
            (intmax_t)st->st_size, (intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

/* The key: see the top of the file. NULL when husk's executable cannot be told
 * apart from another build: it cannot be stat'ed, or it is a sealed memfd copy
 * (selfclone.h's fallback: a new inode on every run, so a new entry every time). */
static char *cache_key(const struct oci_seccomp *s, size_t *len)
{
    struct stat exe, lib;
    char self[64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    if (strncmp(self, "/memfd:", 7) == 0 || stat("/proc/self/exe", &exe) < 0)
        return NULL;
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    const struct scmp_version *v = seccomp_version();
    fprintf(f, "husk-seccomp-cache %u\n", CACHE_VERSION);
    put_file(f, "exe", &exe);
    /* A shared libseccomp may be replaced by a build of the same version that knows
     * more syscall names (a distribution's backport): its file is part of the key. */
    Dl_info dl;
    if (dladdr((void *)seccomp_init, &dl) && dl.dli_fname && stat(dl.dli_fname, &lib) == 0)
        put_file(f, "libseccomp", &lib);
    fprintf(f, "libseccomp %u.%u.%u api %u arch %u\n", v->major, v->minor, v->micro, seccomp_api_get(),
            seccomp_arch_native());
    put_str(f, "default", s->default_action);
    fprintf(f, "errno %d %u\n", s->has_default_errno_ret, s->default_errno_ret);
    for (size_t i = 0; s->architectures && s->architectures[i]; i++)
        put_str(f, "arch", s->architectures[i]);
    for (size_t i = 0; s->flags && s->flags[i]; i++)
        put_str(f, "flag", s->flags[i]);
    for (size_t i = 0; i < s->n_syscalls; i++) {
        const struct oci_seccomp_syscall *sc = &s->syscalls[i];
        fprintf(f, "syscall %zu\n", i);
        put_str(f, "action", sc->action);
        fprintf(f, "errno %d %u\n", sc->has_errno_ret, sc->errno_ret);
        for (size_t k = 0; k < sc->n_names; k++)
            put_str(f, "name", sc->names[k]);
        for (size_t k = 0; k < sc->n_args; k++)
            fprintf(f, "arg %u %" PRIu64 " %" PRIu64 " %d\n", sc->args[k].index, sc->args[k].value,
                    sc->args[k].value_two, sc->args[k].op);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The cache directory, made when missing; -1 when it cannot be used. */
static int open_cache_dir(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return -1;
    /* Programs from a directory others may write would be theirs to choose. */
    if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
        husk_log(HUSK_LOG_DEBUG, "seccomp: cache %s is not ours alone: not used", dir);
        close(fd);
        return -1;
    }
    return fd;
}

/* The program of the entry name when it is whole and its key is key; else NULL. */
static struct husk_seccomp *cache_read(int dirfd, const char *name, const char *key, size_t key_len)
{
    _cleanup_free_ char *buf = NULL;
    size_t n = 0;
    husk_err *e = NULL;
    struct cache_head h;
    struct husk_seccomp *f = NULL;

    if (read_file_at(dirfd, name, CACHE_MAX, &buf, &n, &e) < 0) {
        husk_err_free(&e);
        return NULL;
    }
    if (n >= sizeof h)
        memcpy(&h, buf, sizeof h);
    if (n < sizeof h || h.magic != CACHE_MAGIC || h.version != CACHE_VERSION || h.key_len > n ||
        h.prog_len > n || n != sizeof h + h.key_len + h.prog_len ||
        h.sum != fnv1a(FNV_INIT, buf + sizeof h, n - sizeof h) || h.key_len != key_len ||
        memcmp(buf + sizeof h, key, key_len) != 0 ||
        seccomp_filter_deserialize(buf + sizeof h + key_len, h.prog_len, &f) < 0 || !f) {
        husk_log(HUSK_LOG_DEBUG, "seccomp: cache entry %s is damaged or of another key: not used", name);
        return NULL;
    }
    return f;
}

static void cache_write(int dirfd, const char *name, const char *key, size_t key_len, const struct husk_seccomp *f)
{
    size_t prog_len;
    _cleanup_free_ char *prog = seccomp_filter_serialize(f, &prog_len);
    struct cache_head h = { .magic = CACHE_MAGIC, .version = CACHE_VERSION, .key_len = key_len,
                            .prog_len = prog_len };
    size_t n = sizeof h + key_len + prog_len;
    _cleanup_free_ char *buf = xmalloc(n);
    memcpy(buf + sizeof h, key, key_len);
    memcpy(buf + sizeof h + key_len, prog, prog_len);
    h.sum = fnv1a(FNV_INIT, buf + sizeof h, n - sizeof h);
    memcpy(buf, &h, sizeof h);
    husk_err *e = NULL;
    /* Atomic (a temporary file renamed): a reader sees the old entry or the new one. */
    if (write_file_atomic(dirfd, name, buf, n, 0600, &e) < 0) {
        husk_log(HUSK_LOG_DEBUG, "seccomp: cache entry %s not written: %s", name, e->msg);
        husk_err_free(&e);
        return;
    }
    husk_log(HUSK_LOG_DEBUG, "seccomp: cache entry %s written", name);
}

int seccomp_filter_build_cached(const struct oci_seccomp *s, const char *cache_dir, struct husk_seccomp **out,
                                husk_err **err)
{
    if (!cache_dir)
        return seccomp_filter_build(s, out, err);
    size_t key_len = 0;
    _cleanup_free_ char *key = cache_key(s, &key_len);
    _cleanup_close_ int dirfd = key ? open_cache_dir(cache_dir) : -1;
    if (dirfd < 0)
        return seccomp_filter_build(s, out, err);
    char name[32];
    snprintf(name, sizeof name, "%016" PRIx64, fnv1a(FNV_INIT, key, key_len));
    struct husk_seccomp *f = cache_read(dirfd, name, key, key_len);
    if (f) {
        /* the checks seccomp_filter_build starts with, which the cached build passed */
        if (seccomp_filter_check(s, err) < 0) {
            seccomp_filter_free(f);
            return -1;
        }
        husk_log(HUSK_LOG_DEBUG, "seccomp: the program from cache entry %s", name);
        *out = f;
        return 0;
    }
    if (seccomp_filter_build(s, out, err) < 0)
        return -1;
    cache_write(dirfd, name, key, key_len, *out);
    return 0;
}
