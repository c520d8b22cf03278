/* registry_blobs.c — blobs: several downloads at once (curl multi) streamed into the
 * store, each under a per-blob lock so that concurrent pulls fetch a blob once;
 * uploads for push (registry.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "registry_int.h"
#include "testhooks.h"
#include "util.h"

enum dl_state { DL_PENDING, DL_ACTIVE, DL_DEFERRED, DL_DONE };

struct dl {
    size_t i;
    const struct blob_desc *d;
    enum dl_state state;
    int lockfd;
    struct blob_writer *w;
    CURL *h;
    struct curl_slist *hdrs;
    struct resp rs;          /* headers; the body only when it is an error */
    uint64_t got;
    int attempts;
    bool reauthed;
    long delay_ms;
    struct timespec not_before;
    husk_err *werr;          /* a failure inside the write callback */
    char errbuf[CURL_ERROR_SIZE];
    registry_progress_fn progress;
    registry_tap_fn tap;
    void *ctx;
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static size_t dl_body_cb(char *buf, size_t size, size_t n, void *ud)
{
    struct dl *x = ud;
    size_t len = size * n;
    if (x->rs.status != 200)
        return resp_body_cb(buf, size, n, &x->rs);   /* an error body, kept for the message */
    /* never more than the manifest's descriptor says: a registry cannot fill the disk */
    if (x->d->size && x->got + len > x->d->size) {
        husk_fail(&x->werr, 0, "blob %s: the registry sends more than the %llu bytes of its descriptor",
                  x->d->digest, (unsigned long long)x->d->size);
        return 0;
    }
    if (blob_writer_write(x->w, buf, len, &x->werr) < 0)
        return 0;
    x->got += len;
    if (x->progress)
        x->progress(x->ctx, x->i, BLOB_DOWNLOADING, x->got, x->d->size);
    return len;
}

/* ROOT/blobs/.locks/<hex>: held while one process downloads the blob. Lock files are
 * never removed (removing one while another process waits on it would let a third
 * take a new file and download alongside). */
static int open_lock(struct store *st, const char *digest, husk_err **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/blobs/.locks", st->root);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return husk_fail(err, errno, "mkdir %s", dir);
    const char *hex = strchr(digest, ':');
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, hex ? hex + 1 : digest);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return husk_fail(err, errno, "open %s", path);
    return fd;
}

static void dl_release(struct dl *x, CURLM *multi)
{
    if (x->h) {
        curl_multi_remove_handle(multi, x->h);
        curl_easy_cleanup(x->h);
        x->h = NULL;
    }
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    blob_writer_abort(x->w);
    x->w = NULL;
    resp_free(&x->rs);
}

static void dl_unlock(struct dl *x)
{
    if (x->lockfd >= 0)
        close(x->lockfd);   /* closing drops the flock */
    x->lockfd = -1;
}

static int dl_start(struct registry *r, struct endpoint *ep, const char *repo, struct store *st, struct dl *x,
                    CURLM *multi, husk_err **err)
{
    if (blob_writer_new(st, x->d->digest, &x->w, err) < 0)
        return -1;
    _cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/%s", ep->base, repo, x->d->digest);
    _cleanup_free_ char *scope = reg_scope(r, repo);
    const char *auth = NULL;
    if (reg_auth_header(r, ep, scope, &auth, err) < 0)
        return -1;
    x->h = reg_easy(r, ep, url, x->errbuf);
    if (auth)
        x->hdrs = curl_slist_append(x->hdrs, auth);
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, resp_header_cb);
    curl_easy_setopt(x->h, CURLOPT_HEADERDATA, &x->rs);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, dl_body_cb);
    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    x->got = 0;
    x->attempts++;
    if (curl_multi_add_handle(multi, x->h) != CURLM_OK)
        return husk_fail(err, 0, "blob %s: libcurl refused the transfer", x->d->digest);
    x->state = DL_ACTIVE;
    if (x->progress)
        x->progress(x->ctx, x->i, BLOB_DOWNLOADING, 0, x->d->size);
    if (x->tap) {
        int fd = blob_writer_reopen(x->w);
        if (fd >= 0)   /* else no reader: it waits for the blob to be named */
            x->tap(x->ctx, x->i, fd);
    }
    return 0;
}

/* A transfer ended: commit the blob, or queue a retry, or fail. */
static int dl_finish(struct registry *r, struct endpoint *ep, const char *repo, struct dl *x, CURLcode rc,
                     CURLM *multi, husk_err **err)
{
    curl_multi_remove_handle(multi, x->h);
    curl_easy_cleanup(x->h);
    x->h = NULL;
    if (x->werr) {
        *err = steal_ptr(x->werr);
        return -1;
    }
    long status = x->rs.status;
    if (rc == CURLE_OK && status == 200) {
        struct blob_writer *w = steal_ptr(x->w);
        if (blob_writer_commit(w, err) < 0)
            return -1;   /* a digest mismatch: corrupted, never retried into a store */
        husk_kill_point("pull.after-blob");
        dl_release(x, multi);
        dl_unlock(x);
        x->state = DL_DONE;
        if (x->progress)
            x->progress(x->ctx, x->i, BLOB_DONE, x->d->size ? x->d->size : x->got, x->d->size);
        return 0;
    }
    if (rc == CURLE_OK && status == 401 && !x->reauthed && x->rs.n_www) {
        _cleanup_free_ char *scope = reg_scope(r, repo);
        x->reauthed = true;
        if (reg_reauth(r, ep, scope, &x->rs, err) < 0)
            return -1;
    } else if (x->attempts < REG_ATTEMPTS && reg_retryable(rc, status)) {
        long wait = rc == CURLE_OK ? reg_retry_delay(&x->rs, x->delay_ms) : x->delay_ms;
        husk_log(HUSK_LOG_DEBUG, "blob %s: %s; retrying in %ld ms", x->d->digest,
                 rc ? (x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc)) : "server error", wait);
        long at = now_ms() + wait;
        x->not_before.tv_sec = at / 1000;
        x->not_before.tv_nsec = (at % 1000) * 1000000L;
        x->delay_ms *= 2;
    } else if (rc != CURLE_OK) {
        return husk_fail(err, 0, "blob %s: %s", x->d->digest, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
    } else {
        x->rs.attempts = x->attempts;
        _cleanup_free_ char *why = reg_error_text(&x->rs);
        if (status == 401 || status == 403)
            return husk_fail(err, 0, "blob %s: unauthorized (%s)", x->d->digest, why);
        return husk_fail(err, 0, "blob %s: %s", x->d->digest, status == 404 ? "blob unknown to the registry" : why);
    }
    dl_release(x, multi);
    x->state = DL_PENDING;   /* still locked: the retry is ours */
    return 0;
}

static bool due(const struct dl *x, long now)
{
    return x->not_before.tv_sec * 1000L + x->not_before.tv_nsec / 1000000L <= now;
}

int registry_fetch_blobs(struct registry *r, const char *repo, struct store *st, const struct blob_desc *blobs,
                         size_t n, registry_progress_fn progress, registry_tap_fn tap, void *ctx, husk_err **err)
{
    struct endpoint *ep = &r->eps[r->cur];
    if (n == 0)
        return 0;
    if (reg_ping(r, ep, err) < 0)
        return -1;
    struct dl *xs = xcalloc(n, sizeof(*xs));
    for (size_t i = 0; i < n; i++) {
        xs[i] = (struct dl){ .i = i, .d = &blobs[i], .lockfd = -1, .delay_ms = REG_BACKOFF_MS,
                             .progress = progress, .tap = tap, .ctx = ctx };
        if (store_blob_exists(st, blobs[i].digest)) {
            xs[i].state = DL_DONE;
            if (progress)
                progress(ctx, i, BLOB_EXISTS, blobs[i].size, blobs[i].size);
        } else if (progress) {
            progress(ctx, i, BLOB_WAITING, 0, blobs[i].size);
        }
    }
    CURLM *multi = curl_multi_init();
    if (!multi)
        abort();
    int ret = -1;
    for (bool any_pending = false;; any_pending = false) {
        size_t active = 0;
        for (size_t i = 0; i < n; i++)
            active += xs[i].state == DL_ACTIVE;
        long now = now_ms(), wait_until = -1;
        for (size_t i = 0; i < n && active < REGISTRY_PARALLEL; i++) {
            struct dl *x = &xs[i];
            if (x->state != DL_PENDING)
                continue;
            if (!due(x, now)) {
                long at = x->not_before.tv_sec * 1000L + x->not_before.tv_nsec / 1000000L;
                if (wait_until < 0 || at < wait_until)
                    wait_until = at;
                any_pending = true;
                continue;
            }
            if (x->lockfd < 0) {
                if (store_blob_exists(st, x->d->digest))
                    goto found;
                if ((x->lockfd = open_lock(st, x->d->digest, err)) < 0)
                    goto out;
                if (flock(x->lockfd, LOCK_EX | LOCK_NB) < 0) {
                    if (errno != EWOULDBLOCK) {
                        husk_fail(err, errno, "blob %s: lock", x->d->digest);
                        goto out;
                    }
                    /* another pull is fetching it: come back when nothing else is left */
                    x->state = DL_DEFERRED;
                    continue;
                }
            }
            /* locked: the other holder may have finished it just before */
            if (store_blob_exists(st, x->d->digest))
                goto found;
            if (dl_start(r, ep, repo, st, x, multi, err) < 0)
                goto out;
            active++;
            continue;
        found:
            dl_unlock(x);
            x->state = DL_DONE;
            if (progress)
                progress(ctx, i, BLOB_EXISTS, x->d->size, x->d->size);
        }
        if (active == 0) {
            if (any_pending) {
                reg_sleep_ms(wait_until - now > 0 ? wait_until - now : 1);
                continue;
            }
            struct dl *def = NULL;
            for (size_t i = 0; i < n && !def; i++)
                if (xs[i].state == DL_DEFERRED)
                    def = &xs[i];
            if (!def)
                break;
            /* all ours are done: wait for the other pull's download, then look again */
            if (flock(def->lockfd, LOCK_EX) < 0) {
                husk_fail(err, errno, "blob %s: lock", def->d->digest);
                goto out;
            }
            def->state = DL_PENDING;
            continue;
        }
        int running = 0;
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc != CURLM_OK) {
            husk_fail(err, 0, "libcurl: %s", curl_multi_strerror(mc));
            goto out;
        }
        /* What ended first: waiting before would cost a whole poll timeout whenever
         * no other transfer has data coming (the last blob, a single one). */
        bool ended = false;
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct dl *x = NULL;
            CURL *h = m->easy_handle;
            CURLcode rc = m->data.result;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
            if (dl_finish(r, ep, repo, x, rc, multi, err) < 0)
                goto out;
            ended = true;
        }
        if (!ended && (mc = curl_multi_poll(multi, NULL, 0, 100, NULL)) != CURLM_OK) {
            husk_fail(err, 0, "libcurl: %s", curl_multi_strerror(mc));
            goto out;
        }
    }
    ret = 0;
out:
    for (size_t i = 0; i < n; i++) {
        dl_release(&xs[i], multi);
        dl_unlock(&xs[i]);
        husk_err_free(&xs[i].werr);
    }
    curl_multi_cleanup(multi);
    free(xs);
    return ret;
}

/* ---------------------------------------------------------------- push */

/* An upload URL from a Location header: absolute, or a path on the endpoint. */
static char *upload_url(const struct endpoint *ep, const char *loc)
{
    if (strncmp(loc, "http://", 7) == 0 || strncmp(loc, "https://", 8) == 0)
        return xstrdup(loc);
    return xasprintf("%s%s%s", ep->base, loc[0] == '/' ? "" : "/", loc);
}

static int upload_step(struct registry *r, struct endpoint *ep, struct req *q, long want, char **next_url,
                       const char *digest, husk_err **err)
{
    struct resp rs = { 0 };
    if (reg_do(r, ep, q, &rs, err) < 0)
        return -1;
    int ret = 0;
    if (rs.status != want && !(want == 202 && rs.status == 201)) {
        _cleanup_free_ char *why = reg_error_text(&rs);
        ret = husk_fail(err, 0, "push blob %s: %s %s: %s", digest, q->method,
                        rs.status == 401 || rs.status == 403 ? "unauthorized" : "refused", why);
    } else if (next_url) {
        if (!rs.location)
            ret = husk_fail(err, 0, "push blob %s: the registry gave no upload location", digest);
        else
            *next_url = upload_url(ep, rs.location);
    }
    resp_free(&rs);
    return ret;
}

int registry_push_blob(struct registry *r, const char *repo, struct store *st, const char *digest, size_t i,
                       registry_progress_fn progress, void *ctx, husk_err **err)
{
    struct endpoint *ep = &r->eps[r->cur];
    if (reg_ping(r, ep, err) < 0)
        return -1;
    _cleanup_free_ char *path = store_blob_path(st, digest);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0)
        return husk_fail(err, errno, "push blob %s: open %s", digest, path);
    uint64_t size = (uint64_t)sb.st_size;
    _cleanup_free_ char *scope = reg_scope(r, repo);
    _cleanup_free_ char *start = xasprintf("%s/v2/%s/blobs/uploads/", ep->base, repo);
    _cleanup_free_ char *loc = NULL;
    struct req q = { .method = "POST", .url = start, .scope = scope, .fd = -1 };
    if (upload_step(r, ep, &q, 202, &loc, digest, err) < 0)
        return -1;
    if (progress)
        progress(ctx, i, BLOB_DOWNLOADING, 0, size);
    uint64_t off = 0;
    if (size > REGISTRY_CHUNK) {
        /* chunked: PATCH each piece with its range; the registry answers with the
         * location of the next one */
        while (off < size) {
            uint64_t len = size - off > REGISTRY_CHUNK ? REGISTRY_CHUNK : size - off;
            _cleanup_free_ char *range = xasprintf("%llu-%llu", (unsigned long long)off,
                                                   (unsigned long long)(off + len - 1));
            _cleanup_free_ char *next = NULL;
            q = (struct req){ .method = "PATCH", .url = loc, .scope = scope, .fd = fd, .off = off, .len = len,
                              .content_type = "application/octet-stream", .content_range = range };
            if (upload_step(r, ep, &q, 202, &next, digest, err) < 0)
                return -1;
            free(loc);
            loc = steal_ptr(next);
            off += len;
            if (progress)
                progress(ctx, i, BLOB_DOWNLOADING, off, size);
        }
    }
    _cleanup_free_ char *esc = curl_easy_escape(NULL, digest, 0);
    _cleanup_free_ char *put = xasprintf("%s%sdigest=%s", loc, strchr(loc, '?') ? "&" : "?", esc);
    q = (struct req){ .method = "PUT", .url = put, .scope = scope, .fd = off < size ? fd : -1, .off = off,
                      .len = size - off, .content_type = "application/octet-stream" };
    if (upload_step(r, ep, &q, 201, NULL, digest, err) < 0)
        return -1;
    if (progress)
        progress(ctx, i, BLOB_DONE, size, size);
    return 0;
}
