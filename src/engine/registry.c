/* registry.c — the distribution API v2 over libcurl: endpoints and TLS, the /v2/
 * ping, basic and bearer auth, requests with retries, manifests (registry.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "auth_file.h"
#include "husk-config.h"
#include "log.h"
#include "reference.h"
#include "registry_int.h"
#include "util.h"

#define ENGINE_CONFIG "/etc/husk/engine.json"
#define ENGINE_CONFIG_MAX (1u << 20)

/* ---------------------------------------------------------------- small helpers */

void reg_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

bool reg_retryable(CURLcode rc, long status)
{
    switch (rc) {
    case CURLE_OK:
        return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

char *reg_scope(const struct registry *r, const char *repo)
{
    return xasprintf("repository:%s:%s", repo, r->push ? "pull,push" : "pull");
}

void resp_free(struct resp *r)
{
    free(r->content_type);
    free(r->digest);
    free(r->location);
    strv_free(r->www_auth);
    free(r->body);
    size_t max = r->max_body;
    int attempts = r->attempts;
    memset(r, 0, sizeof(*r));
    r->max_body = max;
    r->attempts = attempts;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static long parse_retry_after(const char *v)
{
    char *end;
    errno = 0;
    long long secs = strtoll(v, &end, 10);
    if (end != v && *end == '\0' && errno == 0 && secs >= 0)
        return secs > REG_RETRY_AFTER_MAX_MS / 1000 ? REG_RETRY_AFTER_MAX_MS : (long)secs * 1000;
    time_t at = curl_getdate(v, NULL);
    if (at < 0)
        return 0;
    time_t now = time(NULL);
    if (at <= now)
        return 0;
    return at - now > REG_RETRY_AFTER_MAX_MS / 1000 ? REG_RETRY_AFTER_MAX_MS : (long)(at - now) * 1000;
}

long reg_retry_delay(const struct resp *rs, long backoff_ms)
{
    return rs->retry_after_ms > backoff_ms ? rs->retry_after_ms : backoff_ms;
}

static char *trimmed(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    char *out = strndup(s, n);
    if (!out)
        abort();
    return out;
}

size_t resp_header_cb(char *buf, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t len = size * n;
    if (len > 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or a 100 Continue): forget the last one's */
        resp_free(r);
        const char *sp = memchr(buf, ' ', len);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return len;
    }
    const char *colon = memchr(buf, ':', len);
    if (!colon)
        return len;
    size_t klen = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vlen = len - klen - 1;
#define HDR(name) (klen == sizeof(name) - 1 && strncasecmp(buf, name, klen) == 0)
    if (HDR("Content-Type")) {
        free(r->content_type);
        r->content_type = trimmed(v, vlen);
    } else if (HDR("Docker-Content-Digest")) {
        free(r->digest);
        r->digest = trimmed(v, vlen);
    } else if (HDR("Location")) {
        free(r->location);
        r->location = trimmed(v, vlen);
    } else if (HDR("Retry-After")) {
        _cleanup_free_ char *ra = trimmed(v, vlen);
        r->retry_after_ms = parse_retry_after(ra);
    } else if (HDR("WWW-Authenticate")) {
        r->www_auth = xrealloc(r->www_auth, (r->n_www + 2) * sizeof(char *));
        r->www_auth[r->n_www++] = trimmed(v, vlen);
        r->www_auth[r->n_www] = NULL;
    }
#undef HDR
    return len;
}

size_t resp_body_cb(char *buf, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t len = size * n;
    size_t max = r->max_body ? r->max_body : REG_ERRBODY_MAX;
    if (r->len + len > max) {
        r->too_big = true;
        return r->max_body ? 0 : len;   /* a wanted body too big fails; an error body is cut */
    }
    r->body = xrealloc(r->body, r->len + len + 1);
    memcpy(r->body + r->len, buf, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

char *reg_error_text(const struct resp *rs)
{
    json_object *root = rs->body ? json_tokener_parse(rs->body) : NULL, *errs;
    char *out = NULL;
    if (root && json_object_object_get_ex(root, "errors", &errs) && json_object_is_type(errs, json_type_array) &&
        json_object_array_length(errs) > 0) {
        json_object *e = json_object_array_get_idx(errs, 0), *m, *c;
        const char *msg = json_object_object_get_ex(e, "message", &m) ? json_object_get_string(m) : NULL;
        const char *code = json_object_object_get_ex(e, "code", &c) ? json_object_get_string(c) : NULL;
        if (msg && *msg)
            out = xstrdup(msg);
        else if (code)
            out = xasprintf("%s", code);
    }
    json_object_put(root);
    if (rs->attempts > 1) {
        char *more = out ? xasprintf("%s (HTTP status %ld, %d attempts)", out, rs->status, rs->attempts)
                         : xasprintf("HTTP status %ld (%d attempts)", rs->status, rs->attempts);
        free(out);
        return more;
    }
    return out ? out : xasprintf("HTTP status %ld", rs->status);
}

/* ---------------------------------------------------------------- TLS */

/* Add every *.crt of the endpoint's certs.d directories to the OpenSSL store curl
 * verifies with, on top of the system roots (as docker and podman do), and use a
 * client certificate pair (*.cert + *.key) when one is there. */
static CURLcode ssl_ctx_cb(CURL *curl, void *sslctx, void *parm)
{
    (void)curl;
    struct endpoint *ep = parm;
    SSL_CTX *ctx = sslctx;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    for (size_t i = 0; i < ARRAY_SIZE(ep->cadirs); i++) {
        if (!ep->cadirs[i])
            continue;
        _cleanup_closedir_ DIR *d = opendir(ep->cadirs[i]);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t n = strlen(de->d_name);
            _cleanup_free_ char *path = xasprintf("%s/%s", ep->cadirs[i], de->d_name);
            if (n > 4 && strcmp(de->d_name + n - 4, ".crt") == 0) {
                if (X509_STORE_load_file(store, path) != 1)
                    husk_log(HUSK_LOG_WARNING, "registry %s: CA file %s: not a PEM certificate", ep->host, path);
            } else if (n > 5 && strcmp(de->d_name + n - 5, ".cert") == 0) {
                _cleanup_free_ char *key = xasprintf("%s/%.*s.key", ep->cadirs[i], (int)(n - 5), de->d_name);
                if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1 ||
                    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
                    husk_log(HUSK_LOG_WARNING, "registry %s: client certificate %s or key %s unusable", ep->host,
                             path, key);
            }
        }
    }
    return CURLE_OK;
}

CURL *reg_easy(struct registry *r, struct endpoint *ep, const char *url, char *errbuf)
{
    (void)r;
    CURL *h = curl_easy_init();
    if (!h)
        abort();
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "husk/" HUSK_VERSION);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    /* blob storage redirects (S3, a CDN); never from HTTPS down to plain HTTP unless
     * this endpoint may speak HTTP anyway. libcurl sends a custom Authorization header
     * only to the host it was set for, so the registry's token stays with it. */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, ep->http_ok ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    /* a stalled transfer (under 1 byte/s for 60 s) is a connection error, retried */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, ep->verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, ep->verify ? 2L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
    curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, ep);
    /* no CA store shared between handles: each endpoint adds its own certs.d CAs */
    curl_easy_setopt(h, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    return h;
}

/* ---------------------------------------------------------------- one transfer */

struct upload {
    const char *data;
    int fd;
    uint64_t off, len, pos;
};

static size_t upload_cb(char *buf, size_t size, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t want = size * n;
    if (want > u->len - u->pos)
        want = (size_t)(u->len - u->pos);
    if (want == 0)
        return 0;
    if (u->data) {
        memcpy(buf, u->data + u->pos, want);
    } else {
        ssize_t got = pread(u->fd, buf, want, (off_t)(u->off + u->pos));
        if (got <= 0)
            return CURL_READFUNC_ABORT;
        want = (size_t)got;
    }
    u->pos += want;
    return want;
}

/* Perform q once with the extra header auth (may be NULL), retrying connection
 * errors, 429 and 5xx with backoff. */
static int perform(struct registry *r, struct endpoint *ep, const struct req *q, const char *auth,
                   const char *user, const char *pass, struct resp *rs, husk_err **err)
{
    char errbuf[CURL_ERROR_SIZE];
    long delay = REG_BACKOFF_MS;
    for (int attempt = 1;; attempt++) {
        resp_free(rs);
        rs->max_body = q->max_body;
        rs->attempts = attempt;
        CURL *h = reg_easy(r, ep, q->url, errbuf);
        struct curl_slist *hdrs = NULL;
        _cleanup_free_ char *accept = q->accept ? xasprintf("Accept: %s", q->accept) : NULL;
        _cleanup_free_ char *ctype = q->content_type ? xasprintf("Content-Type: %s", q->content_type) : NULL;
        _cleanup_free_ char *crange = q->content_range ? xasprintf("Content-Range: %s", q->content_range) : NULL;
        if (auth)
            hdrs = curl_slist_append(hdrs, auth);
        if (accept)
            hdrs = curl_slist_append(hdrs, accept);
        if (ctype)
            hdrs = curl_slist_append(hdrs, ctype);
        if (crange)
            hdrs = curl_slist_append(hdrs, crange);
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, resp_header_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, rs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, resp_body_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, rs);
        if (user) {
            curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(h, CURLOPT_USERNAME, user);
            curl_easy_setopt(h, CURLOPT_PASSWORD, pass ? pass : "");
        }
        struct upload up = { .data = q->data, .fd = q->fd, .off = q->off,
                             .len = q->data ? q->data_len : q->len };
        bool has_body = q->data || q->fd >= 0;
        if (strcmp(q->method, "HEAD") == 0) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (strcmp(q->method, "POST") == 0) {
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        } else if (strcmp(q->method, "GET") != 0) {
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_cb);
            curl_easy_setopt(h, CURLOPT_READDATA, &up);
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(has_body ? up.len : 0));
        }
        CURLcode rc = curl_easy_perform(h);
        curl_easy_cleanup(h);
        curl_slist_free_all(hdrs);
        if (rc == CURLE_WRITE_ERROR && rs->too_big)
            return husk_fail(err, 0, "%s %s: the response is larger than %zu bytes", q->method, q->url,
                             q->max_body);
        if (attempt < REG_ATTEMPTS && reg_retryable(rc, rs->status)) {
            /* a 429 or 503 may say when to come back (Retry-After): not sooner */
            long wait = rc == CURLE_OK ? reg_retry_delay(rs, delay) : delay;
            husk_log(HUSK_LOG_DEBUG, "%s %s: %s; retrying in %ld ms", q->method, q->url,
                     rc ? (errbuf[0] ? errbuf : curl_easy_strerror(rc)) : "server error", wait);
            reg_sleep_ms(wait);
            delay *= 2;
            continue;
        }
        if (rc != CURLE_OK)
            return husk_fail(err, 0, "%s %s: %s", q->method, q->url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return 0;
    }
}

/* ---------------------------------------------------------------- ping, auth */

static void endpoint_free(struct endpoint *ep)
{
    free(ep->base);
    free(ep->host);
    free(ep->user);
    if (ep->pass) {
        explicit_bzero(ep->pass, strlen(ep->pass));
        free(ep->pass);
    }
    auth_challenge_free(&ep->ch);
    for (struct token *t = ep->tokens, *next; t; t = next) {
        next = t->next;
        free(t->scope);
        free(t->header);
        free(t);
    }
    for (size_t i = 0; i < ARRAY_SIZE(ep->cadirs); i++)
        free(ep->cadirs[i]);
}

/* Of the challenges of a 401, the Bearer one, else the Basic one. */
static int pick_challenge(const struct resp *rs, struct auth_challenge *out, husk_err **err)
{
    memset(out, 0, sizeof(*out));
    int found = 0;
    for (size_t i = 0; i < rs->n_www; i++) {
        struct auth_challenge c;
        if (registry_parse_challenge(rs->www_auth[i], &c, err) < 0)
            return -1;
        if (strcmp(c.scheme, "bearer") == 0 || (strcmp(c.scheme, "basic") == 0 && !found)) {
            auth_challenge_free(out);
            *out = c;
            found = 1;
            if (strcmp(c.scheme, "bearer") == 0)
                break;
        } else {
            auth_challenge_free(&c);
        }
    }
    if (!found)
        return husk_fail(err, 0, "the registry asks for credentials without a Basic or Bearer challenge");
    return 0;
}

int reg_ping(struct registry *r, struct endpoint *ep, husk_err **err)
{
    if (ep->pinged)
        return 0;
    for (;;) {
        _cleanup_free_ char *url = xasprintf("%s/v2/", ep->base);
        struct req q = { .method = "GET", .url = url, .fd = -1 };
        struct resp rs = { 0 };
        _cleanup_err_ husk_err *perr = NULL;
        if (perform(r, ep, &q, NULL, NULL, NULL, &rs, &perr) < 0) {
            resp_free(&rs);
            /* TLS not required: a registry that does not speak it is asked over plain HTTP */
            if (ep->http_ok && strncmp(ep->base, "https://", 8) == 0) {
                husk_log(HUSK_LOG_DEBUG, "registry %s: %s; trying plain HTTP", ep->host, perr->msg);
                char *http = xasprintf("http://%s", ep->base + 8);
                free(ep->base);
                ep->base = http;
                continue;
            }
            return husk_fail(err, 0, "registry %s unreachable: %s", ep->host, perr->msg);
        }
        int ret = 0;
        if (rs.status == 401)
            ret = pick_challenge(&rs, &ep->ch, err) < 0 ? husk_err_prefix(err, "registry %s", ep->host) : 0;
        else if (rs.status / 100 != 2)
            ret = husk_fail(err, 0, "registry %s: GET /v2/: HTTP status %ld (not a registry?)", ep->host,
                            rs.status);
        resp_free(&rs);
        if (ret == 0)
            ep->pinged = true;
        return ret;
    }
}

static char *url_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    if (!e)
        abort();
    char *out = xstrdup(e);
    curl_free(e);
    return out;
}

static int fetch_token(struct registry *r, struct endpoint *ep, const struct auth_challenge *ch, const char *scope,
                       char **header, husk_err **err)
{
    _cleanup_free_ char *svc = ch->service ? url_escape(ch->service) : NULL;
    _cleanup_free_ char *sc = scope ? url_escape(scope) : NULL;
    bool has_query = strchr(ch->realm, '?') != NULL;
    _cleanup_free_ char *url = xasprintf("%s%s%s%s%s%s", ch->realm, svc ? (has_query ? "&service=" : "?service=") : "",
                                         svc ? svc : "", sc ? (svc || has_query ? "&scope=" : "?scope=") : "",
                                         sc ? sc : "", "");
    if (strncmp(ch->realm, "https://", 8) != 0 && strncmp(ch->realm, "http://", 7) != 0)
        return husk_fail(err, 0, "registry %s: token realm \"%s\" is not an http(s) URL", ep->host, ch->realm);
    struct req q = { .method = "GET", .url = url, .fd = -1, .max_body = 1u << 20 };
    struct resp rs = { 0 };
    if (perform(r, ep, &q, NULL, ep->user, ep->pass, &rs, err) < 0)
        return husk_err_prefix(err, "registry %s: token", ep->host);
    int ret = 0;
    if (rs.status == 401 || rs.status == 403) {
        _cleanup_free_ char *why = reg_error_text(&rs);
        ret = ep->user ? husk_fail(err, 0, "registry %s: unauthorized: the credentials of \"%s\" were refused (%s)",
                                   ep->host, ep->user, why)
                       : husk_fail(err, 0, "registry %s: unauthorized: authentication required (%s)", ep->host, why);
    } else if (rs.status != 200) {
        _cleanup_free_ char *why = reg_error_text(&rs);
        ret = husk_fail(err, 0, "registry %s: token from %s: %s", ep->host, ch->realm, why);
    } else {
        json_object *root = json_tokener_parse(rs.body ? rs.body : ""), *t = NULL;
        if (!root || !((json_object_object_get_ex(root, "token", &t) && json_object_get_string_len(t) > 0) ||
                       (json_object_object_get_ex(root, "access_token", &t) && json_object_get_string_len(t) > 0)))
            ret = husk_fail(err, 0, "registry %s: the token server %s sent no token", ep->host, ch->realm);
        else
            *header = xasprintf("Authorization: Bearer %s", json_object_get_string(t));
        json_object_put(root);
    }
    resp_free(&rs);
    return ret;
}

static struct token *token_find(struct endpoint *ep, const char *scope)
{
    for (struct token *t = ep->tokens; t; t = t->next)
        if (strcmp(t->scope, scope ? scope : "") == 0)
            return t;
    return NULL;
}

static void token_drop(struct endpoint *ep, const char *scope)
{
    for (struct token **pp = &ep->tokens; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->scope, scope ? scope : "") == 0) {
            struct token *t = *pp;
            *pp = t->next;
            free(t->scope);
            free(t->header);
            free(t);
            return;
        }
}

static struct token *token_add(struct endpoint *ep, const char *scope, char *header)
{
    struct token *t = xcalloc(1, sizeof(*t));
    t->scope = xstrdup(scope ? scope : "");
    t->header = header;
    t->next = ep->tokens;
    ep->tokens = t;
    return t;
}

int reg_auth_header(struct registry *r, struct endpoint *ep, const char *scope, const char **out, husk_err **err)
{
    *out = NULL;
    if (!ep->ch.scheme)
        return 0;
    struct token *t = token_find(ep, scope);
    if (t) {
        *out = t->header;
        return 0;
    }
    char *header = NULL;
    if (strcmp(ep->ch.scheme, "bearer") == 0) {
        if (fetch_token(r, ep, &ep->ch, scope, &header, err) < 0)
            return -1;
    } else if (strcmp(ep->ch.scheme, "basic") == 0 && ep->user) {
        _cleanup_free_ char *plain = xasprintf("%s:%s", ep->user, ep->pass ? ep->pass : "");
        size_t n = strlen(plain);
        _cleanup_free_ char *b64 = xmalloc((n + 2) / 3 * 4 + 1);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)n);
        explicit_bzero(plain, n);
        header = xasprintf("Authorization: Basic %s", b64);
    } else {
        return 0;   /* Basic asked and no credentials: go without, the 401 says so */
    }
    *out = token_add(ep, scope, header)->header;
    return 0;
}

int reg_reauth(struct registry *r, struct endpoint *ep, const char *scope, const struct resp *rs, husk_err **err)
{
    struct auth_challenge ch;
    if (pick_challenge(rs, &ch, err) < 0)
        return husk_err_prefix(err, "registry %s", ep->host);
    token_drop(ep, scope);
    int ret = 0;
    if (strcmp(ch.scheme, "bearer") == 0) {
        char *header = NULL;
        /* the scope the registry names is the one it wants; the token is kept under ours */
        if (fetch_token(r, ep, &ch, ch.scope ? ch.scope : scope, &header, err) < 0)
            ret = -1;
        else
            token_add(ep, scope, header);
    }
    auth_challenge_free(&ep->ch);
    ep->ch = ch;
    return ret;
}

int reg_do(struct registry *r, struct endpoint *ep, const struct req *q, struct resp *rs, husk_err **err)
{
    if (reg_ping(r, ep, err) < 0)
        return -1;
    for (bool reauthed = false;; reauthed = true) {
        const char *auth = NULL;
        if (reg_auth_header(r, ep, q->scope, &auth, err) < 0)
            return -1;
        if (perform(r, ep, q, auth, NULL, NULL, rs, err) < 0)
            return -1;
        if (rs->status != 401 || reauthed || rs->n_www == 0)
            return 0;
        /* a token expired or lacks the scope, or Basic is asked only now */
        if (reg_reauth(r, ep, q->scope, rs, err) < 0)
            return -1;
        if (strcmp(ep->ch.scheme, "basic") == 0 && !ep->user)
            return 0;   /* nothing to try: the caller reports the 401 */
    }
}

/* ---------------------------------------------------------------- open */

static char *read_engine_config(const struct registry_opts *o, husk_err **err)
{
    const char *path = o->config_file ? o->config_file : getenv("HUSK_ENGINE_CONFIG");
    if (!path || !*path)
        path = ENGINE_CONFIG;
    char *data = NULL;
    _cleanup_err_ husk_err *rerr = NULL;
    if (read_file_at(AT_FDCWD, path, ENGINE_CONFIG_MAX, &data, NULL, &rerr) < 0) {
        if (rerr->errnum == ENOENT)
            return NULL;
        husk_fail(err, 0, "engine configuration: %s", rerr->msg);
        return (char *)-1;
    }
    json_object *root = json_tokener_parse(data);
    bool ok = root && json_object_is_type(root, json_type_object);
    json_object_put(root);
    if (!ok) {
        free(data);
        husk_fail(err, 0, "engine configuration %s: not a JSON object", path);
        return (char *)-1;
    }
    return data;
}

static int endpoint_init(struct registry *r, struct endpoint *ep, const char *base, const char *host, bool verify,
                         bool http_ok, husk_err **err)
{
    ep->base = xstrdup(base);
    size_t n = strlen(ep->base);
    while (n > 0 && ep->base[n - 1] == '/')
        ep->base[--n] = '\0';
    ep->host = xstrdup(host);
    ep->verify = verify;
    ep->http_ok = http_ok;
    const char *certs = r->certs_dir;
    if (certs) {
        ep->cadirs[0] = xasprintf("%s/%s", certs, host);
    } else {
        ep->cadirs[0] = xasprintf("/etc/containers/certs.d/%s", host);
        ep->cadirs[1] = xasprintf("/etc/docker/certs.d/%s", host);
    }
    int ret = auth_lookup(strcmp(host, "registry-1.docker.io") == 0 ? "docker.io" : host, &ep->user, &ep->pass, err);
    return ret < 0 ? -1 : 0;
}

int registry_open(const char *domain, const struct registry_opts *o, struct registry **out, husk_err **err)
{
    *out = NULL;
    static bool curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return husk_fail(err, 0, "libcurl: initialisation failed");
        curl_ready = true;
    }
    char *config = read_engine_config(o, err);
    if (config == (char *)-1)
        return -1;
    _cleanup_free_ char *cfg = config;
    struct registry *r = xcalloc(1, sizeof(*r));
    r->domain = xstrdup(domain);
    const char *certs = o->certs_dir ? o->certs_dir : getenv("HUSK_CERTS_DIR");
    r->certs_dir = certs && *certs ? xstrdup(certs) : NULL;
    bool hub = strcmp(domain, REF_DEFAULT_DOMAIN) == 0;

    /* mirrors (docker's "registry-mirrors") serve docker.io only, and pulls only */
    json_object *root = cfg ? json_tokener_parse(cfg) : NULL, *mirrors;
    size_t nm = 0;
    if (hub && root && json_object_object_get_ex(root, "registry-mirrors", &mirrors) &&
        json_object_is_type(mirrors, json_type_array))
        nm = json_object_array_length(mirrors);
    r->eps = xcalloc(nm + 1, sizeof(*r->eps));
    int ret = 0;
    for (size_t i = 0; i < nm && ret == 0; i++) {
        const char *m = json_object_get_string(json_object_array_get_idx(mirrors, i));
        if (!m || (strncmp(m, "https://", 8) != 0 && strncmp(m, "http://", 7) != 0)) {
            ret = husk_fail(err, 0, "engine configuration: registry-mirrors: \"%s\" is not an http(s) URL",
                            m ? m : "");
            break;
        }
        const char *h = strstr(m, "://") + 3;
        _cleanup_free_ char *host = strndup(h, strcspn(h, "/"));
        bool insecure = registry_host_insecure(cfg, host) || o->tls_verify == 0;
        ret = endpoint_init(r, &r->eps[r->n_eps++], m, host, !insecure, strncmp(m, "http://", 7) == 0 || insecure,
                            err);
    }
    json_object_put(root);
    if (ret == 0) {
        const char *host = hub ? "registry-1.docker.io" : domain;
        bool insecure = o->tls_verify == 0 || (o->tls_verify < 0 && registry_host_insecure(cfg, domain));
        _cleanup_free_ char *base = xasprintf("https://%s", host);
        struct endpoint *ep = &r->eps[r->n_eps++];
        ret = endpoint_init(r, ep, base, host, !insecure, insecure, err);
        if (ret == 0 && o->creds) {
            free(ep->user);
            free(ep->pass);
            auth_split_creds(o->creds, &ep->user, &ep->pass);
        }
    }
    if (ret < 0) {
        registry_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

void registry_close(struct registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_eps; i++)
        endpoint_free(&r->eps[i]);
    free(r->eps);
    free(r->domain);
    free(r->certs_dir);
    free(r);
}

void registry_set_push(struct registry *r, bool push)
{
    r->push = push;
    if (push)
        r->cur = r->n_eps - 1;   /* never push to a mirror */
}

/* ---------------------------------------------------------------- login */

int registry_ping(struct registry *r, husk_err **err)
{
    struct endpoint *ep = &r->eps[r->n_eps - 1];
    if (reg_ping(r, ep, err) < 0)
        return -1;
    if (!ep->ch.scheme)
        return 0;   /* the registry asks for nothing */
    if (!ep->user)
        return husk_fail(err, 0, "registry %s: credentials required", ep->host);
    if (strcmp(ep->ch.scheme, "bearer") == 0) {
        /* a token for no scope: the token server checks the password (docker login does this) */
        char *header = NULL;
        if (fetch_token(r, ep, &ep->ch, NULL, &header, err) < 0)
            return -1;
        free(header);
        return 0;
    }
    _cleanup_free_ char *url = xasprintf("%s/v2/", ep->base);
    struct req q = { .method = "GET", .url = url, .fd = -1 };
    struct resp rs = { 0 };
    if (reg_do(r, ep, &q, &rs, err) < 0)
        return -1;
    int ret = 0;
    if (rs.status == 401) {
        _cleanup_free_ char *why = reg_error_text(&rs);
        ret = husk_fail(err, 0, "registry %s: unauthorized: the credentials of \"%s\" were refused (%s)", ep->host,
                        ep->user, why);
    } else if (rs.status / 100 != 2) {
        ret = husk_fail(err, 0, "registry %s: GET /v2/: HTTP status %ld", ep->host, rs.status);
    }
    resp_free(&rs);
    return ret;
}

/* ---------------------------------------------------------------- manifests */

static bool known_manifest_type(const char *mt)
{
    return strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0 ||
           strcmp(mt, MT_DOCKER_LIST) == 0;
}

static int status_error(const struct endpoint *ep, const struct resp *rs, const char *what, husk_err **err)
{
    _cleanup_free_ char *why = reg_error_text(rs);
    if (rs->status == 401 || rs->status == 403)
        return ep->user ? husk_fail(err, 0, "%s: unauthorized: the credentials of \"%s\" were refused (%s)", what,
                                    ep->user, why)
                        : husk_fail(err, 0, "%s: unauthorized: authentication required (%s)", what, why);
    return husk_fail(err, 0, "%s: %s", what, why);
}

static int get_manifest_at(struct registry *r, struct endpoint *ep, const char *repo, const char *ref, char **body,
                           size_t *len, char **media_type, char **digest, husk_err **err)
{
    if (reg_ping(r, ep, err) < 0)   /* first: it settles the scheme of every URL */
        return -1;
    _cleanup_free_ char *url = xasprintf("%s/v2/%s/manifests/%s", ep->base, repo, ref);
    _cleanup_free_ char *scope = reg_scope(r, repo);
    struct req q = { .method = "GET", .url = url, .scope = scope, .fd = -1, .max_body = REGISTRY_MANIFEST_MAX,
                     .accept = MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST };
    struct resp rs = { 0 };
    if (reg_do(r, ep, &q, &rs, err) < 0)
        return -1;
    int ret = 0;
    _cleanup_free_ char *what = xasprintf("manifest %s", ref);
    _cleanup_free_ char *sum = NULL, *mt = NULL;
    if (rs.status == 404) {
        _cleanup_free_ char *why = reg_error_text(&rs);
        ret = husk_fail(err, 0, "manifest %s not found (%s)", ref, why);
        goto out;
    }
    if (rs.status != 200) {
        ret = status_error(ep, &rs, what, err);
        goto out;
    }
    sum = sha256_digest(rs.body ? rs.body : "", rs.len);
    bool by_digest = strchr(ref, ':') != NULL;
    if ((by_digest && strcmp(sum, ref) != 0) ||
        (!by_digest && rs.digest && strncmp(rs.digest, "sha256:", 7) == 0 && strcmp(rs.digest, sum) != 0)) {
        ret = husk_fail(err, 0, "manifest %s: digest mismatch: the bytes received hash to %s, not %s", ref, sum,
                        by_digest ? ref : rs.digest);
        goto out;
    }
    json_object *root = json_tokener_parse(rs.body ? rs.body : ""), *v;
    if (!root || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        ret = husk_fail(err, 0, "manifest %s: not a JSON object", ref);
        goto out;
    }
    if (json_object_object_get_ex(root, "mediaType", &v) && json_object_is_type(v, json_type_string))
        mt = xstrdup(json_object_get_string(v));
    else if (rs.content_type)
        mt = strndup(rs.content_type, strcspn(rs.content_type, "; "));
    int schema = json_object_object_get_ex(root, "schemaVersion", &v) ? json_object_get_int(v) : 0;
    json_object_put(root);
    if (!mt || !known_manifest_type(mt)) {
        ret = husk_fail(err, 0, "manifest %s: unsupported media type \"%s\"%s", ref, mt ? mt : "",
                        schema == 1 ? " (docker schema 1 is not supported)" : "");
        goto out;
    }
    *body = steal_ptr(rs.body);
    *len = rs.len;
    *media_type = steal_ptr(mt);
    *digest = steal_ptr(sum);
out:
    resp_free(&rs);
    return ret;
}

int registry_get_manifest(struct registry *r, const char *repo, const char *ref, char **body, size_t *len,
                          char **media_type, char **digest, husk_err **err)
{
    *body = *media_type = *digest = NULL;
    *len = 0;
    for (;;) {
        struct endpoint *ep = &r->eps[r->cur];
        _cleanup_err_ husk_err *merr = NULL;
        if (get_manifest_at(r, ep, repo, ref, body, len, media_type, digest, &merr) == 0)
            return 0;
        if (r->cur + 1 == r->n_eps) {
            *err = steal_ptr(merr);
            return -1;
        }
        /* a mirror that fails is passed over for the registry itself */
        husk_log(HUSK_LOG_DEBUG, "mirror %s: %s; trying the next", ep->host, merr->msg);
        r->cur++;
    }
}

int registry_put_manifest(struct registry *r, const char *repo, const char *ref, const char *media_type,
                          const char *body, size_t len, husk_err **err)
{
    struct endpoint *ep = &r->eps[r->cur];
    if (reg_ping(r, ep, err) < 0)
        return -1;
    _cleanup_free_ char *url = xasprintf("%s/v2/%s/manifests/%s", ep->base, repo, ref);
    _cleanup_free_ char *scope = reg_scope(r, repo);
    struct req q = { .method = "PUT", .url = url, .scope = scope, .content_type = media_type, .data = body,
                     .data_len = len, .fd = -1 };
    struct resp rs = { 0 };
    if (reg_do(r, ep, &q, &rs, err) < 0)
        return -1;
    int ret = 0;
    if (rs.status != 201 && rs.status != 200 && rs.status != 202) {
        _cleanup_free_ char *what = xasprintf("push manifest %s", ref);
        ret = status_error(ep, &rs, what, err);
    }
    resp_free(&rs);
    return ret;
}

int registry_blob_exists(struct registry *r, const char *repo, const char *digest, bool *exists, husk_err **err)
{
    struct endpoint *ep = &r->eps[r->cur];
    if (reg_ping(r, ep, err) < 0)
        return -1;
    _cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/%s", ep->base, repo, digest);
    _cleanup_free_ char *scope = reg_scope(r, repo);
    struct req q = { .method = "HEAD", .url = url, .scope = scope, .fd = -1 };
    struct resp rs = { 0 };
    if (reg_do(r, ep, &q, &rs, err) < 0)
        return -1;
    int ret = 0;
    if (rs.status == 200) {
        *exists = true;
    } else if (rs.status == 404) {
        *exists = false;
    } else {
        _cleanup_free_ char *what = xasprintf("blob %s", digest);
        ret = status_error(ep, &rs, what, err);
    }
    resp_free(&rs);
    return ret;
}
