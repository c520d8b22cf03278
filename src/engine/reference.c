/* reference.c — docker's image reference grammar and normalization (reference.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "util.h"

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_word(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* One path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*, exactly n bytes. */
static bool path_component_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_lower_alnum(s[0]))
        return false;
    while (i < n) {
        while (i < n && is_lower_alnum(s[i]))
            i++;
        if (i == n)
            return true;
        /* a separator, then at least one alnum */
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            return false;
        }
        if (i == n || !is_lower_alnum(s[i]))
            return false;
    }
    return true;
}

/* A domain: host components ([A-Za-z0-9] or [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])
 * joined by '.', or an IPv6 address in brackets; then an optional :PORT. */
static bool domain_valid(const char *s)
{
    const char *p = s;
    if (*p == '[') {
        const char *end = strchr(p, ']');
        if (!end || end == p + 1)
            return false;
        for (const char *q = p + 1; q < end; q++)
            if (!isxdigit((unsigned char)*q) && *q != ':')
                return false;
        p = end + 1;
    } else {
        for (;;) {
            const char *start = p;
            while (isalnum((unsigned char)*p) || *p == '-')
                p++;
            if (p == start || start[0] == '-' || p[-1] == '-')
                return false;
            if (*p != '.')
                break;
            p++;
        }
    }
    if (*p == ':') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

static bool tag_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128 || !is_word(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

bool image_ref_digest_valid(const char *s)
{
    const char *colon = strchr(s, ':');
    if (!colon || colon == s)
        return false;
    /* algorithm: [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* */
    for (const char *p = s; p < colon; p++) {
        bool sep = *p == '-' || *p == '_' || *p == '+' || *p == '.';
        if (sep) {
            if (p + 1 >= colon || !isalpha((unsigned char)p[1]))
                return false;
        } else if (!isalnum((unsigned char)*p) || (p == s && !isalpha((unsigned char)*p))) {
            return false;
        }
    }
    const char *hex = colon + 1;
    size_t n = strlen(hex), want = 0, alg = (size_t)(colon - s);
    if (alg == 6 && strncmp(s, "sha256", 6) == 0)
        want = 64;
    else if (alg == 6 && strncmp(s, "sha512", 6) == 0)
        want = 128;
    if (want ? n != want : n < 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        /* registered algorithms are lower-case hex; others any hex */
        if (!isxdigit((unsigned char)hex[i]) || (want && isupper((unsigned char)hex[i])))
            return false;
    }
    return true;
}

static bool all_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return false;
    return true;
}

static int bad(husk_err **err, const char *ref, const char *why)
{
    return husk_fail(err, 0, "invalid reference \"%s\": %s", ref, why);
}

void image_ref_free(struct image_ref *r)
{
    free(r->domain);
    free(r->path);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof(*r));
}

int image_ref_parse(const char *s, struct image_ref *out, husk_err **err)
{
    memset(out, 0, sizeof(*out));
    if (*s == '\0')
        return bad(err, s, "empty");
    if (all_hex64(s))
        return bad(err, s, "a 64-hex string is an image id, not a repository name");

    _cleanup_free_ char *name = xstrdup(s);
    char *at = strchr(name, '@');
    if (at) {
        *at = '\0';
        if (!image_ref_digest_valid(at + 1))
            return bad(err, s, "malformed digest (want sha256:<64 lower-case hex>)");
    }
    /* The tag is after the last ':' that follows the last '/' (a ':' before it is a port). */
    char *slash = strrchr(name, '/');
    char *colon = strrchr(slash ? slash : name, ':');
    if (colon) {
        *colon = '\0';
        if (!tag_valid(colon + 1))
            return bad(err, s, "malformed tag (want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
    }
    if (name[0] == '\0')
        return bad(err, s, "no repository name");
    if (strlen(name) > REF_NAME_MAX)
        return bad(err, s, "repository name longer than 255 characters");

    /* docker's split: the first component is a registry only if it looks like a host. */
    const char *domain = REF_DEFAULT_DOMAIN;
    char *remainder = name;
    char *first_slash = strchr(name, '/');
    if (first_slash) {
        *first_slash = '\0';
        bool host = strpbrk(name, ".:") || strcmp(name, "localhost") == 0;
        for (const char *p = name; !host && *p; p++)
            host = isupper((unsigned char)*p);
        if (host) {
            domain = name;
            remainder = first_slash + 1;
        } else {
            *first_slash = '/';
        }
    }
    if (strcmp(domain, "index.docker.io") == 0)
        domain = REF_DEFAULT_DOMAIN;
    if (!domain_valid(domain))
        return bad(err, s, "malformed registry host");

    for (const char *p = remainder; *p; p++)
        if (isupper((unsigned char)*p))
            return bad(err, s, "repository name must be lowercase");
    for (const char *p = remainder;;) {
        size_t n = strcspn(p, "/");
        if (!path_component_valid(p, n))
            return bad(err, s, "malformed repository name (components are [a-z0-9] joined by '.', '_', '__' or '-')");
        if (p[n] == '\0')
            break;
        p += n + 1;
    }

    out->domain = xstrdup(domain);
    if (strcmp(domain, REF_DEFAULT_DOMAIN) == 0 && !strchr(remainder, '/'))
        out->path = xasprintf("library/%s", remainder);
    else
        out->path = xstrdup(remainder);
    if (strlen(out->domain) + 1 + strlen(out->path) > REF_NAME_MAX) {
        image_ref_free(out);
        return bad(err, s, "repository name longer than 255 characters");
    }
    if (colon)
        out->tag = xstrdup(colon + 1);
    else if (!at)
        out->tag = xstrdup(REF_DEFAULT_TAG);
    if (at)
        out->digest = xstrdup(at + 1);
    return 0;
}

char *image_ref_repository(const struct image_ref *r)
{
    return xasprintf("%s/%s", r->domain, r->path);
}

static char *with_suffix(const char *repo, const struct image_ref *r)
{
    return xasprintf("%s%s%s%s%s", repo, r->tag ? ":" : "", r->tag ? r->tag : "",
                     r->digest ? "@" : "", r->digest ? r->digest : "");
}

char *image_ref_string(const struct image_ref *r)
{
    _cleanup_free_ char *repo = image_ref_repository(r);
    return with_suffix(repo, r);
}

char *image_ref_familiar(const struct image_ref *r)
{
    _cleanup_free_ char *repo = NULL;
    if (strcmp(r->domain, REF_DEFAULT_DOMAIN) != 0)
        repo = image_ref_repository(r);
    else if (strncmp(r->path, "library/", 8) == 0 && !strchr(r->path + 8, '/'))
        repo = xstrdup(r->path + 8);
    else
        repo = xstrdup(r->path);
    return with_suffix(repo, r);
}
