/* json_log.h — docker's json-file log line, written by husk-monitor (libc only).
 *
 * One JSON object per line: {"log":"<bytes>","stream":"stdout","time":"<RFC3339Nano>"}
 * with the bytes escaped as Go's encoding/json escapes a string (docker's logs are
 * made by it): `"` `\` and control characters escaped (\n \r \t, else \u00XX),
 * `<` `>` `&` U+2028 U+2029 as \u003c … (Go's HTML-safe default), and every byte that
 * is not part of valid UTF-8 as \ufffd. The engine's reader is ctr_log.c. */
#ifndef HUSK_MONITOR_JSON_LOG_H
#define HUSK_MONITOR_JSON_LOG_H

#include <stddef.h>
#include <time.h>

/* Longest encoding of len bytes: 6 output bytes per input byte at worst, plus the
 * object's frame and a 35-byte time. */
#define JSON_LOG_MAX(len) ((len) * 6 + 96)

/* Time as Go's time.RFC3339Nano in UTC: "2006-01-02T15:04:05.999999999Z" with the
 * fraction's trailing zeros (and an all-zero fraction's dot) dropped. out: 40 bytes. */
void json_log_time(char out[40], const struct timespec *ts);

/* Encode one log entry into out (at least JSON_LOG_MAX(len) bytes), ending in '\n'.
 * Returns the length written. */
size_t json_log_encode(char *out, const char *data, size_t len, const char *stream, const char *time);

/* How many bytes at the end of p[0..len) are the start of a UTF-8 sequence that the
 * next read may complete (0..3): kept back so that a character split between two
 * reads is not logged as two \ufffd. */
size_t json_log_utf8_tail(const char *p, size_t len);

#endif
