/* config_json.c — see config_json.h. */
#include "config_json.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- strings ------------------------------------------------------------ */

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
 * json-c passes raw bytes through unchecked, and these strings end up in paths,
 * environment variables and error messages, so they are checked here. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static bool is_identifier(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

/* Append s to a growing buffer, escaping what must not reach a terminal raw:
 * user-supplied text is echoed in error messages. */
static void append_escaped(char **buf, size_t *len, size_t *cap, const char *s, size_t max)
{
    size_t n = strlen(s);
    bool truncated = false, keep_utf8 = utf8_valid((const unsigned char *)s, n);

    if (n > max) {
        n = max;
        /* do not cut a multi-byte character in half */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        truncated = true;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char tmp[8];

        if (ch == '"' || ch == '\\')
            snprintf(tmp, sizeof tmp, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !keep_utf8))
            snprintf(tmp, sizeof tmp, "\\x%02x", ch);
        else
            tmp[0] = (char)ch, tmp[1] = '\0';
        size_t tl = strlen(tmp);
        if (*len + tl + 4 >= *cap) {
            *cap = (*cap + tl + 4) * 2;
            *buf = xrealloc(*buf, *cap);
        }
        memcpy(*buf + *len, tmp, tl);
        *len += tl;
    }
    if (truncated) {
        memcpy(*buf + *len, "...", 3);
        *len += 3;
    }
    (*buf)[*len] = '\0';
}

static char *escape(const char *s, size_t max)
{
    size_t len = 0, cap = 64;
    char *buf = xmalloc(cap);

    buf[0] = '\0';
    append_escaped(&buf, &len, &cap, s, max);
    return buf;
}

char *cj_quote(const char *s)
{
    _cleanup_free_ char *e = escape(s ? s : "", 200);
    return xasprintf("\"%s\"", e);
}

char *cj_path_key(const char *parent, const char *key)
{
    const char *sep = (parent && *parent) ? "." : "";

    if (parent == NULL)
        parent = "";
    if (is_identifier(key))
        return xasprintf("%s%s%s", parent, sep, key);
    _cleanup_free_ char *e = escape(key, 200);
    return xasprintf("%s[\"%s\"]", parent, e);
}

char *cj_path_index(const char *parent, size_t i)
{
    return xasprintf("%s[%zu]", parent ? parent : "", i);
}

int cj_fail(const struct cj *c, const char *path, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (path && *path)
        return husk_fail(c->err, 0, "%s: %s: %s", c->name, path, msg ? msg : "error");
    return husk_fail(c->err, 0, "%s: %s", c->name, msg ? msg : "error");
}

/* ---- parsing the text ----------------------------------------------------- */

static size_t line_of(const char *text, size_t len, size_t off)
{
    size_t line = 1;

    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++)
        if (text[i] == '\n')
            line++;
    return line;
}

/* Compare a run of decimal digits (no leading zeros) with a decimal limit. */
static bool digits_exceed(const char *d, size_t n, const char *limit)
{
    size_t ln = strlen(limit);

    if (n != ln)
        return n > ln;
    return memcmp(d, limit, n) > 0;
}

/* Where check_raw_text() is in the document: one frame per open object or array,
 * enough to name the JSON path of a bad number the way the typed parser would. */
struct raw_frame {
    bool is_array;
    size_t index;              /* arrays: the current element */
    size_t key_off, key_len;   /* objects: the current key, quotes included (0 len: none yet) */
};

#define RAW_MAX_DEPTH 64   /* json-c (default depth 32) has accepted the text already */

/* The JSON path of the value at the top of the stack, for an error message. */
static char *raw_path(const char *text, const struct raw_frame *st, size_t depth)
{
    char *path = xstrdup("");

    for (size_t k = 0; k < depth; k++) {
        char *next;
        if (st[k].is_array) {
            next = cj_path_index(path, st[k].index);
        } else {
            /* the key as written, decoded by json-c (it may hold \u escapes) */
            _cleanup_free_ char *raw = xasprintf("%.*s", (int)st[k].key_len, text + st[k].key_off);
            struct json_object *ks = json_tokener_parse(raw);
            next = cj_path_key(path, ks && json_object_is_type(ks, json_type_string)
                                         ? json_object_get_string(ks) : "?");
            json_object_put(ks);
        }
        free(path);
        path = next;
    }
    return path;
}

/* What json-c lets through in strict mode but JSON (RFC 8259) forbids, checked on
 * the raw text once json-c has accepted it:
 *  - raw control characters inside strings;
 *  - single-quoted strings;
 *  - integers beyond [INT64_MIN, UINT64_MAX], which json-c silently saturates, so
 *    18446744073709551616 would otherwise read as UINT64_MAX (json-c keeps no
 *    trace of the overflow in the parsed value, hence the raw-text check). Such an
 *    error names the JSON path like the typed checks do, from a stack of the
 *    objects and arrays the scan is in. */
static int check_raw_text(const char *text, size_t len, const char *name, husk_err **err)
{
    struct raw_frame st[RAW_MAX_DEPTH];
    size_t depth = 0;
    bool in_str = false, expect_key = false;
    size_t str_start = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];

        if (in_str) {
            if (ch == '\\') {
                i++;
            } else if (ch == '"') {
                in_str = false;
                if (expect_key && depth > 0) {
                    st[depth - 1].key_off = str_start;
                    st[depth - 1].key_len = i + 1 - str_start;
                    expect_key = false;
                }
            } else if (ch < 0x20) {
                return husk_fail(err, 0, "%s: invalid JSON: control character in string at line %zu",
                                 name, line_of(text, len, i));
            }
            continue;
        }
        if (ch == '"') {
            in_str = true;
            str_start = i;
        } else if (ch == '{' || ch == '[') {
            if (depth == RAW_MAX_DEPTH)
                return husk_fail(err, 0, "%s: invalid JSON: nested too deeply at line %zu", name,
                                 line_of(text, len, i));
            st[depth++] = (struct raw_frame){ .is_array = ch == '[' };
            expect_key = ch == '{';
        } else if (ch == '}' || ch == ']') {
            if (depth > 0)
                depth--;
            expect_key = false;
        } else if (ch == ',') {
            if (depth > 0 && st[depth - 1].is_array)
                st[depth - 1].index++;
            else
                expect_key = true;
        } else if (ch == '\'') {
            return husk_fail(err, 0, "%s: invalid JSON: unexpected character at line %zu", name,
                             line_of(text, len, i));
        } else if (ch == '-' || isdigit(ch)) {
            size_t start = i;
            bool neg = ch == '-';

            if (neg)
                i++;
            size_t d = i;
            while (i < len && isdigit((unsigned char)text[i]))
                i++;
            size_t nd = i - d;
            bool is_double = i < len && (text[i] == '.' || text[i] == 'e' || text[i] == 'E');
            while (i < len && (isalnum((unsigned char)text[i]) || text[i] == '.' || text[i] == '+' ||
                               text[i] == '-'))
                i++;
            if (nd > 0 && !is_double &&
                digits_exceed(text + d, nd, neg ? "9223372036854775808" : "18446744073709551615")) {
                _cleanup_free_ char *path = raw_path(text, st, depth);
                return husk_fail(err, 0, "%s: %s%sinteger %.*s out of range", name, path,
                                 *path ? ": " : "", (int)(i - start > 40 ? 40 : i - start),
                                 text + start);
            }
            i--;
        }
    }
    return 0;
}

int cj_parse_text(const char *text, size_t len, const char *name, struct json_object **out,
                  husk_err **err)
{
    struct json_tokener *tok;
    struct json_object *obj;
    enum json_tokener_error e;
    size_t off;
    bool at_eof = false;

    if (len > CJ_MAX_DOCUMENT)
        return husk_fail(err, 0, "%s: larger than %u bytes", name, CJ_MAX_DOCUMENT);
    /* The default depth (32) is far more than any valid config needs and keeps a
     * hostile document from exhausting anything. */
    tok = json_tokener_new();
    if (tok == NULL)
        return husk_fail(err, ENOMEM, "%s", name);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, text, (int)len);
    e = json_tokener_get_error(tok);
    off = json_tokener_get_parse_end(tok);
    if (obj == NULL && e == json_tokener_continue) {
        /* All input consumed: a final NUL tells json-c the text has ended. */
        obj = json_tokener_parse_ex(tok, "", 1);
        e = json_tokener_get_error(tok);
        off = len;
        at_eof = true;
    }
    json_tokener_free(tok);
    if (e != json_tokener_success) {
        json_object_put(obj);
        return husk_fail(err, 0, "%s: invalid JSON: %s at line %zu", name, json_tokener_error_desc(e),
                         line_of(text, len, off));
    }
    if (!at_eof) {
        size_t i = off;
        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
            i++;
        if (i < len) {
            json_object_put(obj);
            return husk_fail(err, 0, "%s: invalid JSON: unexpected data after the document at line %zu",
                             name, line_of(text, len, i));
        }
    }
    if (check_raw_text(text, len, name, err) < 0) {
        json_object_put(obj);
        return -1;
    }
    if (obj == NULL || json_object_get_type(obj) != json_type_object) {
        json_object_put(obj);
        return husk_fail(err, 0, "%s: expected an object", name);
    }
    *out = obj;
    return 0;
}

/* ---- value checks ----------------------------------------------------------- */

struct json_object *cj_member(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;

    if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;   /* NULL for JSON null: treated as absent, like Go's encoding/json */
}

int cj_as_string(const struct cj *c, struct json_object *v, const char *path, const char **out)
{
    if (!json_object_is_type(v, json_type_string))
        return cj_fail(c, path, "expected a string");
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    /* An embedded NUL would silently truncate the value in every C consumer
     * ("/dev/null\u0000/../x" is not "/dev/null"). */
    if (strlen(s) != n)
        return cj_fail(c, path, "string contains a NUL character");
    if (!utf8_valid((const unsigned char *)s, n))
        return cj_fail(c, path, "invalid UTF-8 in string");
    *out = s;
    return 0;
}

int cj_as_bool(const struct cj *c, struct json_object *v, const char *path, bool *out)
{
    if (!json_object_is_type(v, json_type_boolean))
        return cj_fail(c, path, "expected a boolean");
    *out = json_object_get_boolean(v);
    return 0;
}

int cj_as_int(const struct cj *c, struct json_object *v, const char *path, int64_t min, int64_t max,
              int64_t *out)
{
    if (!json_object_is_type(v, json_type_int))
        return cj_fail(c, path, "expected an integer");
    int64_t i = json_object_get_int64(v);
    uint64_t u = json_object_get_uint64(v);
    /* json-c stores values above INT64_MAX as uint64 and get_int64 clamps them. */
    if (i == INT64_MAX && u > (uint64_t)INT64_MAX)
        return cj_fail(c, path, "%" PRIu64 " out of range [%" PRId64 ", %" PRId64 "]", u, min, max);
    if (i < min || i > max)
        return cj_fail(c, path, "%" PRId64 " out of range [%" PRId64 ", %" PRId64 "]", i, min, max);
    *out = i;
    return 0;
}

int cj_as_uint(const struct cj *c, struct json_object *v, const char *path, uint64_t max,
               uint64_t *out)
{
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return cj_fail(c, path, "expected a non-negative integer");
    uint64_t u = json_object_get_uint64(v);
    if (u > max)
        return cj_fail(c, path, "%" PRIu64 " out of range [0, %" PRIu64 "]", u, max);
    *out = u;
    return 0;
}

int cj_as_object(const struct cj *c, struct json_object *v, const char *path)
{
    if (!json_object_is_type(v, json_type_object))
        return cj_fail(c, path, "expected an object");
    return 0;
}

int cj_as_array(const struct cj *c, struct json_object *v, const char *path, size_t *n)
{
    if (!json_object_is_type(v, json_type_array))
        return cj_fail(c, path, "expected an array");
    if (n)
        *n = json_object_array_length(v);
    return 0;
}

int cj_check_abs(const struct cj *c, const char *path, const char *value)
{
    if (value[0] != '/') {
        _cleanup_free_ char *q = cj_quote(value);
        return cj_fail(c, path, "must be an absolute path (got %s)", q);
    }
    return 0;
}

/* ---- member accessors -------------------------------------------------------- */

/* Look up a member; on absence fail if required. Sets *kpath to the member's path. */
static int member(const struct cj *c, struct json_object *obj, const char *path, const char *key,
                  bool required, struct json_object **v, char **kpath)
{
    *v = cj_member(obj, key);
    *kpath = cj_path_key(path, key);
    if (*v == NULL) {
        if (required)
            return cj_fail(c, *kpath, "missing required field");
        return 0;
    }
    return 1;
}

int cj_string(const struct cj *c, struct json_object *obj, const char *path, const char *key,
              bool required, char **out)
{
    _cleanup_free_ char *kp = NULL;
    struct json_object *v;
    const char *s;
    int r = member(c, obj, path, key, required, &v, &kp);

    if (r <= 0)
        return r;
    if (cj_as_string(c, v, kp, &s) < 0)
        return -1;
    free(*out);
    *out = xstrdup(s);
    return 1;
}

int cj_bool(const struct cj *c, struct json_object *obj, const char *path, const char *key,
            bool required, bool *out)
{
    _cleanup_free_ char *kp = NULL;
    struct json_object *v;
    int r = member(c, obj, path, key, required, &v, &kp);

    if (r <= 0)
        return r;
    return cj_as_bool(c, v, kp, out) < 0 ? -1 : 1;
}

int cj_int(const struct cj *c, struct json_object *obj, const char *path, const char *key,
           bool required, int64_t min, int64_t max, int64_t *out)
{
    _cleanup_free_ char *kp = NULL;
    struct json_object *v;
    int r = member(c, obj, path, key, required, &v, &kp);

    if (r <= 0)
        return r;
    return cj_as_int(c, v, kp, min, max, out) < 0 ? -1 : 1;
}

int cj_uint(const struct cj *c, struct json_object *obj, const char *path, const char *key,
            bool required, uint64_t max, uint64_t *out)
{
    _cleanup_free_ char *kp = NULL;
    struct json_object *v;
    int r = member(c, obj, path, key, required, &v, &kp);

    if (r <= 0)
        return r;
    return cj_as_uint(c, v, kp, max, out) < 0 ? -1 : 1;
}

int cj_object(const struct cj *c, struct json_object *obj, const char *path, const char *key,
              bool required, struct json_object **out)
{
    _cleanup_free_ char *kp = NULL;
    struct json_object *v;
    int r = member(c, obj, path, key, required, &v, &kp);

    if (r <= 0)
        return r;
    if (cj_as_object(c, v, kp) < 0)
        return -1;
    *out = v;
    return 1;
}

int cj_array(const struct cj *c, struct json_object *obj, const char *path, const char *key,
             bool required, struct json_object **out, size_t *n)
{
    _cleanup_free_ char *kp = NULL;
    struct json_object *v;
    int r = member(c, obj, path, key, required, &v, &kp);

    if (r <= 0)
        return r;
    if (cj_as_array(c, v, kp, n) < 0)
        return -1;
    *out = v;
    return 1;
}

int cj_strv(const struct cj *c, struct json_object *obj, const char *path, const char *key,
            bool required, char ***out, size_t *n)
{
    _cleanup_free_ char *kp = NULL;
    _cleanup_strv_ char **vec = NULL;
    struct json_object *v;
    size_t len;
    int r = member(c, obj, path, key, required, &v, &kp);

    if (r <= 0)
        return r;
    if (cj_as_array(c, v, kp, &len) < 0)
        return -1;
    vec = xcalloc(len + 1, sizeof(char *));
    for (size_t i = 0; i < len; i++) {
        _cleanup_free_ char *ip = cj_path_index(kp, i);
        const char *s;
        if (cj_as_string(c, json_object_array_get_idx(v, i), ip, &s) < 0)
            return -1;
        vec[i] = xstrdup(s);
    }
    strv_free(*out);
    *out = steal_ptr(vec);
    if (n)
        *n = len;
    return 1;
}

int cj_string_map(const struct cj *c, struct json_object *obj, const char *path, const char *key,
                  char ***out, size_t *n)
{
    _cleanup_free_ char *kp = NULL;
    _cleanup_strv_ char **vec = NULL;
    struct json_object *v;
    size_t i = 0;
    int r = member(c, obj, path, key, false, &v, &kp);

    if (r <= 0)
        return r;
    if (cj_as_object(c, v, kp) < 0)
        return -1;
    vec = xcalloc(2 * (size_t)json_object_object_length(v) + 1, sizeof(char *));
    json_object_object_foreach(v, k, val) {
        _cleanup_free_ char *ep = cj_path_key(kp, k);
        const char *s;

        if (!utf8_valid((const unsigned char *)k, strlen(k)))
            return cj_fail(c, ep, "invalid UTF-8 in key");
        if (val == NULL)
            return cj_fail(c, ep, "expected a string");
        if (cj_as_string(c, val, ep, &s) < 0)
            return -1;
        vec[2 * i] = xstrdup(k);
        vec[2 * i + 1] = xstrdup(s);
        i++;
    }
    strv_free(*out);
    *out = steal_ptr(vec);
    *n = i;
    return 1;
}

int cj_enum(const struct cj *c, struct json_object *obj, const char *path, const char *key,
            bool required, const char *const *names, const char *what, size_t *idx)
{
    _cleanup_free_ char *kp = NULL;
    struct json_object *v;
    const char *s;
    int r = member(c, obj, path, key, required, &v, &kp);

    if (r <= 0)
        return r;
    if (cj_as_string(c, v, kp, &s) < 0)
        return -1;
    for (size_t i = 0; names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *idx = i;
            return 1;
        }
    }
    _cleanup_free_ char *q = cj_quote(s);
    return cj_fail(c, kp, "unknown %s %s", what, q);
}
