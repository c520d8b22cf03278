/* registry_parse.c — the registry client's pure parts (registry.h): WWW-Authenticate
 * challenges, platforms, the insecure-registries list. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include <json-c/json.h>

#include "registry.h"
#include "util.h"

/* ---------------------------------------------------------------- challenges */

void auth_challenge_free(struct auth_challenge *c)
{
    free(c->scheme);
    free(c->realm);
    free(c->service);
    free(c->scope);
    free(c->error);
    memset(c, 0, sizeof(*c));
}

static bool is_tchar(char c)
{
    return c && (isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 7235: challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ],
 * auth-param = token BWS "=" BWS ( token / quoted-string ). */
int registry_parse_challenge(const char *value, struct auth_challenge *out, husk_err **err)
{
    memset(out, 0, sizeof(*out));
    const char *p = value;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *s = p;
    while (is_tchar(*p))
        p++;
    if (p == s) {
        return husk_fail(err, 0, "WWW-Authenticate \"%s\": no auth scheme", value);
    }
    out->scheme = strndup(s, (size_t)(p - s));
    if (!out->scheme)
        abort();
    for (char *c = out->scheme; *c; c++)
        *c = (char)tolower((unsigned char)*c);

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *k = p;
        while (is_tchar(*p))
            p++;
        size_t klen = (size_t)(p - k);
        while (*p == ' ' || *p == '\t')
            p++;
        if (klen == 0 || *p != '=')
            goto bad;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        _cleanup_free_ char *v = xmalloc(strlen(p) + 1);
        size_t n = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                v[n++] = *p++;
            }
            if (*p != '"')
                goto bad;
            p++;
        } else {
            while (*p && *p != ',' && *p != ' ' && *p != '\t')
                v[n++] = *p++;
        }
        v[n] = '\0';
        char **slot = NULL;
        if (klen == 5 && strncasecmp(k, "realm", 5) == 0)
            slot = &out->realm;
        else if (klen == 7 && strncasecmp(k, "service", 7) == 0)
            slot = &out->service;
        else if (klen == 5 && strncasecmp(k, "scope", 5) == 0)
            slot = &out->scope;
        else if (klen == 5 && strncasecmp(k, "error", 5) == 0)
            slot = &out->error;
        if (slot) {
            free(*slot);
            *slot = steal_ptr(v);
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p && *p != ',')
            goto bad;
    }
    if (strcmp(out->scheme, "bearer") == 0 && (!out->realm || !*out->realm)) {
        auth_challenge_free(out);
        return husk_fail(err, 0, "WWW-Authenticate \"%s\": a Bearer challenge without a realm", value);
    }
    return 0;
bad:
    auth_challenge_free(out);
    return husk_fail(err, 0, "WWW-Authenticate \"%s\": malformed", value);
}

/* ---------------------------------------------------------------- platforms */

void platform_free(struct platform *p)
{
    free(p->os);
    free(p->arch);
    free(p->variant);
    memset(p, 0, sizeof(*p));
}

/* GOARCH names, as images use them. */
static const char *norm_arch(const char *a, const char **variant)
{
    static const struct { const char *from, *to, *variant; } m[] = {
        { "x86_64", "amd64", NULL }, { "x86-64", "amd64", NULL }, { "aarch64", "arm64", NULL },
        { "armhf", "arm", "v7" },    { "armel", "arm", "v6" },    { "armv7l", "arm", "v7" },
        { "armv6l", "arm", "v6" },   { "i386", "386", NULL },     { "i686", "386", NULL },
    };
    for (size_t i = 0; i < ARRAY_SIZE(m); i++)
        if (strcmp(a, m[i].from) == 0) {
            if (variant && m[i].variant && !*variant)
                *variant = m[i].variant;
            return m[i].to;
        }
    return a;
}

int platform_parse(const char *s, struct platform *out, husk_err **err)
{
    memset(out, 0, sizeof(*out));
    if (!s || !*s) {
        struct utsname u;
        const char *variant = NULL;
        if (uname(&u) < 0)
            return husk_fail(err, errno, "uname");
        out->os = xstrdup("linux");
        out->arch = xstrdup(norm_arch(u.machine, &variant));
        out->variant = variant ? xstrdup(variant) : NULL;
        return 0;
    }
    _cleanup_free_ char *copy = xstrdup(s);
    char *parts[4] = { 0 };
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (n == 3)
            return husk_fail(err, 0, "platform \"%s\": not OS/ARCH[/VARIANT]", s);
        parts[n++] = t;
    }
    if (n < 2 || strchr(s, '/') == s || s[strlen(s) - 1] == '/' || strstr(s, "//"))
        return husk_fail(err, 0, "platform \"%s\": not OS/ARCH[/VARIANT]", s);
    for (size_t i = 0; i < n; i++)
        for (char *c = parts[i]; *c; c++) {
            if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.')
                return husk_fail(err, 0, "platform \"%s\": not OS/ARCH[/VARIANT]", s);
            *c = (char)tolower((unsigned char)*c);
        }
    const char *variant = n == 3 ? parts[2] : NULL;
    out->os = xstrdup(parts[0]);
    out->arch = xstrdup(norm_arch(parts[1], &variant));
    if (variant && strcmp(out->arch, "arm64") == 0 && strcmp(variant, "v8") == 0)
        variant = NULL;
    out->variant = variant ? xstrdup(variant) : NULL;
    return 0;
}

/* ---------------------------------------------------------------- insecure registries */

/* Does address text ip fall inside cidr "a.b.c.d/n" or "x::/n"? */
static bool in_cidr(const char *ip, const char *cidr)
{
    const char *slash = strchr(cidr, '/');
    if (!slash)
        return false;
    _cleanup_free_ char *net = strndup(cidr, (size_t)(slash - cidr));
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    if (!net || *end || end == slash + 1)
        return false;
    unsigned char a[16], b[16];
    int fam = strchr(net, ':') ? AF_INET6 : AF_INET;
    int len = fam == AF_INET ? 4 : 16;
    if (bits < 0 || bits > len * 8 || inet_pton(fam, ip, a) != 1 || inet_pton(fam, net, b) != 1)
        return false;
    for (int i = 0; i < len && bits > 0; i++, bits -= 8) {
        unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
        if ((a[i] & mask) != (b[i] & mask))
            return false;
    }
    return true;
}

bool registry_host_insecure(const char *config_json, const char *host)
{
    if (!config_json)
        return false;
    json_object *root = json_tokener_parse(config_json), *list;
    bool found = false;
    if (!root || !json_object_object_get_ex(root, "insecure-registries", &list) ||
        !json_object_is_type(list, json_type_array)) {
        json_object_put(root);
        return false;
    }
    /* the host without its port, and without [] around an IPv6 address */
    _cleanup_free_ char *bare = NULL;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        bare = close ? strndup(host + 1, (size_t)(close - host - 1)) : xstrdup(host);
    } else {
        const char *colon = strrchr(host, ':');
        bare = colon ? strndup(host, (size_t)(colon - host)) : xstrdup(host);
    }
    for (size_t i = 0; i < json_object_array_length(list) && !found; i++) {
        const char *e = json_object_get_string(json_object_array_get_idx(list, i));
        if (!e)
            continue;
        if (strncmp(e, "http://", 7) == 0)
            e += 7;
        else if (strncmp(e, "https://", 8) == 0)
            e += 8;
        found = strcmp(e, host) == 0 || (strchr(e, '/') && bare && in_cidr(bare, e));
    }
    json_object_put(root);
    return found;
}
