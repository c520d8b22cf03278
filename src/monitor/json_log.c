/* json_log.c — docker's json-file log line (see json_log.h). libc only: it is
 * linked into husk-monitor, which must stay small. */
#include <string.h>

#include "json_log.h"

static char *put_uint(char *o, unsigned long v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < width);
    while (n)
        *o++ = tmp[--n];
    return o;
}

void json_log_time(char out[40], const struct timespec *ts)
{
    struct tm tm;
    time_t t = ts->tv_sec;
    gmtime_r(&t, &tm);
    char *o = out;
    o = put_uint(o, (unsigned long)tm.tm_year + 1900, 4);
    *o++ = '-';
    o = put_uint(o, (unsigned long)tm.tm_mon + 1, 2);
    *o++ = '-';
    o = put_uint(o, (unsigned long)tm.tm_mday, 2);
    *o++ = 'T';
    o = put_uint(o, (unsigned long)tm.tm_hour, 2);
    *o++ = ':';
    o = put_uint(o, (unsigned long)tm.tm_min, 2);
    *o++ = ':';
    o = put_uint(o, (unsigned long)tm.tm_sec, 2);
    long ns = ts->tv_nsec;
    if (ns > 0) {
        char frac[9];
        for (int i = 8; i >= 0; i--) {
            frac[i] = (char)('0' + ns % 10);
            ns /= 10;
        }
        int n = 9;
        while (n > 0 && frac[n - 1] == '0')
            n--;
        *o++ = '.';
        memcpy(o, frac, (size_t)n);
        o += n;
    }
    *o++ = 'Z';
    *o = '\0';
}

/* Length of the valid UTF-8 sequence at p (at most avail bytes), 0 if invalid or
 * incomplete; *incomplete set when it is a valid prefix cut by avail. */
static size_t utf8_seq(const unsigned char *p, size_t avail, int *incomplete)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;   /* range of the second byte */
    *incomplete = 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;          /* overlong */
        else if (c == 0xED)
            hi = 0x9F;          /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;          /* beyond U+10FFFF */
    } else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (i >= avail) {
            *incomplete = 1;
            return 0;
        }
        unsigned char b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
            return 0;
    }
    return n;
}

size_t json_log_utf8_tail(const char *p, size_t len)
{
    size_t start = len > 3 ? len - 3 : 0;
    for (size_t i = start; i < len; i++) {
        int incomplete;
        if ((unsigned char)p[i] >= 0xC0 && utf8_seq((const unsigned char *)p + i, len - i, &incomplete) == 0 &&
            incomplete)
            return len - i;
    }
    return 0;
}

static char *put_str(char *o, const char *s)
{
    size_t n = strlen(s);
    memcpy(o, s, n);
    return o + n;
}

static char *put_u(char *o, unsigned v)
{
    static const char hex[] = "0123456789abcdef";
    *o++ = '\\';
    *o++ = 'u';
    *o++ = hex[(v >> 12) & 15];
    *o++ = hex[(v >> 8) & 15];
    *o++ = hex[(v >> 4) & 15];
    *o++ = hex[v & 15];
    return o;
}

size_t json_log_encode(char *out, const char *data, size_t len, const char *stream, const char *time)
{
    const unsigned char *p = (const unsigned char *)data;
    char *o = put_str(out, "{\"log\":\"");
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            int incomplete;
            size_t n = utf8_seq(p + i, len - i, &incomplete);
            if (n == 0) {
                o = put_u(o, 0xFFFD);
                i++;
            } else if (n == 3 && c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
                o = put_u(o, p[i + 2] == 0xA8 ? 0x2028 : 0x2029);
                i += 3;
            } else {
                memcpy(o, p + i, n);
                o += n;
                i += n;
            }
            continue;
        }
        switch (c) {
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '<': case '>': case '&': o = put_u(o, c); break;
        default:
            if (c < 0x20)
                o = put_u(o, c);
            else
                *o++ = (char)c;
        }
        i++;
    }
    o = put_str(o, "\",\"stream\":\"");
    o = put_str(o, stream);
    o = put_str(o, "\",\"time\":\"");
    o = put_str(o, time);
    o = put_str(o, "\"}\n");
    return (size_t)(o - out);
}
