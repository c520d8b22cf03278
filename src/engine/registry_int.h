/* registry_int.h — what registry.c (requests, auth, manifests) and registry_blobs.c
 * (parallel downloads, uploads) share. Not part of the engine's interface. */
#ifndef HUSK_ENGINE_REGISTRY_INT_H
#define HUSK_ENGINE_REGISTRY_INT_H

#include <curl/curl.h>

#include "registry.h"

#define REG_ATTEMPTS 4          /* one try and three retries */
#define REG_BACKOFF_MS 250      /* doubled after each retry */
#define REG_ERRBODY_MAX 16384
#define REG_RETRY_AFTER_MAX_MS 30000   /* a longer Retry-After is waited for this long */

struct token {
    char *scope;
    char *header;   /* "Authorization: Bearer …" */
    struct token *next;
};

/* One place the registry's API is reached at: the registry itself or a mirror. */
struct endpoint {
    char *base;        /* "https://host:port" (no trailing slash) */
    char *host;        /* "host:port" as written, for certs.d, auth files and messages */
    bool verify;       /* verify the TLS certificate */
    bool http_ok;      /* may fall back to plain HTTP (tls_verify=false / insecure) */
    bool pinged;
    char *user, *pass;
    struct auth_challenge ch;   /* the /v2/ challenge; scheme NULL when none was made */
    struct token *tokens;
    char *cadirs[2];   /* certs.d directories for host */
};

struct registry {
    char *domain;
    struct endpoint *eps;
    size_t n_eps, cur;   /* eps[cur] is used; mirrors first, then the registry */
    bool push;
    char *certs_dir;     /* NULL: the two defaults */
};

/* Response headers worth keeping (the last response's, after redirects). */
struct resp {
    long status;
    char *content_type;
    char *digest;         /* Docker-Content-Digest */
    char *location;
    char **www_auth;      /* NULL-terminated */
    size_t n_www;
    char *body;           /* NUL-terminated, up to max_body */
    size_t len, max_body;
    bool too_big;
    long retry_after_ms;  /* Retry-After (seconds or an HTTP date), capped; 0 when none */
    int attempts;         /* how many times the request was sent (kept by resp_free) */
};
void resp_free(struct resp *r);
/* Header and body callbacks for a struct resp. */
size_t resp_header_cb(char *buf, size_t size, size_t n, void *ud);
size_t resp_body_cb(char *buf, size_t size, size_t n, void *ud);

/* A curl handle for url with the endpoint's TLS settings, redirects, timeouts. */
CURL *reg_easy(struct registry *r, struct endpoint *ep, const char *url, char *errbuf);
/* Make sure the endpoint was pinged (and its scheme settled: https, or http when allowed). */
int reg_ping(struct registry *r, struct endpoint *ep, husk_err **err);
/* "Authorization: …" for scope (a token fetched when needed), or NULL for none. */
int reg_auth_header(struct registry *r, struct endpoint *ep, const char *scope, const char **out, husk_err **err);
/* Forget the token for scope and fetch another using the challenges of a 401 response. */
int reg_reauth(struct registry *r, struct endpoint *ep, const char *scope, const struct resp *rs, husk_err **err);
/* "repository:REPO:pull" or ":pull,push". */
char *reg_scope(const struct registry *r, const char *repo);
/* The registry's own message from an error body ({"errors":[{"message":…}]}), or "HTTP status N";
 * a request sent more than once says so: "… (HTTP status 503, 4 attempts)". */
char *reg_error_text(const struct resp *rs);
bool reg_retryable(CURLcode rc, long status);
void reg_sleep_ms(long ms);
/* How long to wait before retrying after rs: its Retry-After when longer than backoff_ms. */
long reg_retry_delay(const struct resp *rs, long backoff_ms);

/* A request made in full, retried, re-authenticated once on 401. */
struct req {
    const char *method;           /* GET HEAD PUT POST PATCH */
    const char *url;              /* absolute */
    const char *scope;
    const char *accept;           /* Accept header value or NULL */
    const char *content_type;
    const char *content_range;
    const char *data;             /* upload from memory … */
    size_t data_len;
    int fd;                       /* … or from a file (fd >= 0) */
    uint64_t off, len;
    size_t max_body;
};
int reg_do(struct registry *r, struct endpoint *ep, const struct req *q, struct resp *rs, husk_err **err);

#endif
