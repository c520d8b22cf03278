/* store.c — content-addressed blobs, verified before they are named (store.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "reference.h"
#include "store.h"
#include "util.h"

struct blob_writer {
    int dirfd;          /* not owned */
    int fd;             /* the unnamed file (O_TMPFILE) */
    char *digest;       /* what it must hash to */
    EVP_MD_CTX *md;
    uint64_t size;
};

void hex_encode(const unsigned char *md, unsigned n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hx[md[i] >> 4];
        out[2 * i + 1] = hx[md[i] & 15];
    }
    out[2 * n] = '\0';
}

char *sha256_digest(const void *buf, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1)
        abort();   /* sha256 in the default provider cannot fail but for memory */
    hex_encode(md, n, hex);
    return xasprintf("sha256:%s", hex);
}

/* Only sha256 blobs are stored; the hex part is the file name, so it must be
 * exactly 64 lower-case hex digits (never a path). */
static const char *sha256_hex(const char *digest, husk_err **err)
{
    if (strncmp(digest, "sha256:", 7) != 0 || !image_ref_digest_valid(digest)) {
        husk_fail(err, 0, "digest \"%s\": only sha256:<64 lower-case hex> is supported", digest);
        return NULL;
    }
    return digest + 7;
}

int store_open(const char *root, struct store *st, husk_err **err)
{
    memset(st, 0, sizeof(*st));
    st->blobs_fd = st->gc_fd = -1;
    _cleanup_free_ char *blobs = xasprintf("%s/blobs/sha256", root);
    if (mkdir_p(blobs, 0700, err) < 0)
        return husk_err_prefix(err, "storage root %s", root);
    st->blobs_fd = open(blobs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (st->blobs_fd < 0)
        return husk_fail(err, errno, "open %s", blobs);
    _cleanup_free_ char *lock = xasprintf("%s/.gc.lock", root);
    st->gc_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (st->gc_fd < 0 || flock(st->gc_fd, LOCK_SH) < 0) {
        int e = errno;
        store_close(st);
        return husk_fail(err, e, "lock %s", lock);
    }
    st->root = xstrdup(root);
    return 0;
}

int store_gc_begin(struct store *st, husk_err **err)
{
    /* flock converts our shared lock; it waits for every other holder */
    if (flock(st->gc_fd, LOCK_EX) < 0)
        return husk_fail(err, errno, "lock %s/.gc.lock", st->root);
    return 0;
}

void store_close(struct store *st)
{
    if (st->blobs_fd >= 0)
        close(st->blobs_fd);
    if (st->gc_fd >= 0)
        close(st->gc_fd);
    free(st->root);
    memset(st, 0, sizeof(*st));
    st->blobs_fd = st->gc_fd = -1;
}

char *store_blob_path(const struct store *st, const char *digest)
{
    const char *hex = strchr(digest, ':');
    return xasprintf("%s/blobs/sha256/%s", st->root, hex ? hex + 1 : digest);
}

bool store_blob_exists(const struct store *st, const char *digest)
{
    const char *hex = sha256_hex(digest, NULL);
    struct stat sb;
    return hex && fstatat(st->blobs_fd, hex, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
}

int blob_writer_new(const struct store *st, const char *digest, struct blob_writer **out, husk_err **err)
{
    *out = NULL;
    if (digest && !sha256_hex(digest, err))
        return -1;
    _cleanup_close_ int fd = openat(st->blobs_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0)
        return husk_fail(err, errno, "blob %s: open an unnamed file in %s/blobs/sha256", digest ? digest : "(new)",
                         st->root);
    struct blob_writer *w = xcalloc(1, sizeof(*w));
    w->md = EVP_MD_CTX_new();
    if (!w->md || EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1)
        abort();
    w->dirfd = st->blobs_fd;
    w->fd = steal_fd(fd);
    w->digest = digest ? xstrdup(digest) : NULL;
    *out = w;
    return 0;
}

int blob_writer_write(struct blob_writer *w, const void *buf, size_t len, husk_err **err)
{
    if (write_all(w->fd, buf, len) < 0)
        return husk_fail(err, errno, "blob %s: write", w->digest ? w->digest : "(new)");
    if (EVP_DigestUpdate(w->md, buf, len) != 1)
        abort();
    w->size += len;
    return 0;
}

uint64_t blob_writer_size(const struct blob_writer *w)
{
    return w->size;
}

int blob_writer_reopen(const struct blob_writer *w)
{
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
    return open(proc, O_RDONLY | O_CLOEXEC);
}

void blob_writer_abort(struct blob_writer *w)
{
    if (!w)
        return;
    close(w->fd);   /* an O_TMPFILE file never named is gone with its last fd */
    EVP_MD_CTX_free(w->md);
    free(w->digest);
    free(w);
}

int blob_writer_commit(struct blob_writer *w, husk_err **err)
{
    return blob_writer_finish(w, NULL, err) < 0 ? -1 : 0;
}

int store_remove_blob(const struct store *st, const char *digest, husk_err **err)
{
    const char *hex = sha256_hex(digest, err);
    if (!hex)
        return -1;
    if (unlinkat(st->blobs_fd, hex, 0) < 0 && errno != ENOENT)
        return husk_fail(err, errno, "remove blob %s", digest);
    return 0;
}

int blob_writer_finish(struct blob_writer *w, char **digest_out, husk_err **err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    int ret = -1;

    if (EVP_DigestFinal_ex(w->md, md, &n) != 1)
        abort();
    hex_encode(md, n, hex);
    if (!w->digest)
        w->digest = xasprintf("sha256:%s", hex);
    if (strcmp(hex, w->digest + 7) != 0) {
        husk_fail(err, 0, "blob %s: digest mismatch: the %llu bytes received hash to sha256:%s", w->digest,
                  (unsigned long long)w->size, hex);
        goto out;
    }
    /* Durable before it is named: a name must never point at a blob whose bytes
     * a power loss could take back. */
    if (fsync(w->fd) < 0) {
        husk_fail(err, errno, "blob %s: fsync", w->digest);
        goto out;
    }
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
    ret = 1;
    if (linkat(AT_FDCWD, proc, w->dirfd, hex, AT_SYMLINK_FOLLOW) < 0) {
        if (errno != EEXIST) {
            ret = husk_fail(err, errno, "blob %s: name it", w->digest);
            goto out;
        }
        ret = 0;
    }
    if (digest_out)
        *digest_out = xstrdup(w->digest);
out:
    blob_writer_abort(w);
    return ret;
}

int store_read_blob(const struct store *st, const char *digest, size_t max, char **out, size_t *len,
                    husk_err **err)
{
    const char *hex = sha256_hex(digest, err);
    if (!hex)
        return -1;
    if (read_file_at(st->blobs_fd, hex, max, out, len, err) < 0)
        return husk_err_prefix(err, "blob %s", digest);
    return 0;
}

int store_put_blob(const struct store *st, const void *buf, size_t len, char **digest_out, husk_err **err)
{
    _cleanup_free_ char *digest = sha256_digest(buf, len);
    struct blob_writer *w = NULL;
    int named = 0;
    if (!store_blob_exists(st, digest)) {
        if (blob_writer_new(st, digest, &w, err) < 0)
            return -1;
        if (blob_writer_write(w, buf, len, err) < 0) {
            blob_writer_abort(w);
            return -1;
        }
        named = blob_writer_finish(w, NULL, err);
        if (named < 0)
            return -1;
    }
    if (digest_out)
        *digest_out = steal_ptr(digest);
    return named;
}
