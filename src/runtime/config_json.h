/* config_json.h — typed, path-aware accessors over json-c, used by the config
 * parser (config.c, config_linux.c). Internal to the config module.
 *
 * Every accessor knows the JSON path of the value it looks at, so an error reads
 *     config.json: linux.namespaces[2].type: unknown namespace "foo"
 * Paths are built with cj_path_key()/cj_path_index(); the root path is "".
 *
 * Member accessors (cj_string, cj_uint, ...) look `key` up in an object whose
 * path is `path` and return 1 when the member is present (out set), 0 when it is
 * absent or JSON null (out untouched; an error if `required`), -1 on error. */
#ifndef HUSK_CONFIG_JSON_H
#define HUSK_CONFIG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

struct json_object;

/* Parsing context: the document name that prefixes every error, and where the
 * error goes. */
struct cj {
    const char *name;
    husk_err **err;
};

/* The largest config husk reads; guards against a hostile bundle exhausting memory. */
#define CJ_MAX_DOCUMENT (32u * 1024u * 1024u)

/* Parse a complete JSON document (exactly one value, nothing after it) whose top
 * level must be an object. Errors: "<name>: invalid JSON: <why> at line L". */
int cj_parse_text(const char *text, size_t len, const char *name, struct json_object **out,
                  husk_err **err);

/* Path building (results are heap strings). A key that is not a plain
 * identifier is written as ["..."] with unprintable bytes escaped. */
char *cj_path_key(const char *parent, const char *key);
char *cj_path_index(const char *parent, size_t i);
/* A user string quoted for an error message: "…", escaped, truncated if huge. */
char *cj_quote(const char *s);

/* "<name>: <path>: <message>" (or "<name>: <message>" at the root). Returns -1. */
int cj_fail(const struct cj *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The member `key` of obj, or NULL when absent or null. */
struct json_object *cj_member(struct json_object *obj, const char *key);

/* Value checks: v is a non-NULL value named by path. Return 0 or -1. */
int cj_as_string(const struct cj *c, struct json_object *v, const char *path, const char **out);
int cj_as_bool(const struct cj *c, struct json_object *v, const char *path, bool *out);
int cj_as_int(const struct cj *c, struct json_object *v, const char *path, int64_t min, int64_t max,
              int64_t *out);
int cj_as_uint(const struct cj *c, struct json_object *v, const char *path, uint64_t max,
               uint64_t *out);
int cj_as_object(const struct cj *c, struct json_object *v, const char *path);
int cj_as_array(const struct cj *c, struct json_object *v, const char *path, size_t *n);

/* Member accessors: 1 present, 0 absent, -1 error (see above). */
int cj_string(const struct cj *c, struct json_object *obj, const char *path, const char *key,
              bool required, char **out);
int cj_bool(const struct cj *c, struct json_object *obj, const char *path, const char *key,
            bool required, bool *out);
int cj_int(const struct cj *c, struct json_object *obj, const char *path, const char *key,
           bool required, int64_t min, int64_t max, int64_t *out);
int cj_uint(const struct cj *c, struct json_object *obj, const char *path, const char *key,
            bool required, uint64_t max, uint64_t *out);
int cj_object(const struct cj *c, struct json_object *obj, const char *path, const char *key,
              bool required, struct json_object **out);
int cj_array(const struct cj *c, struct json_object *obj, const char *path, const char *key,
             bool required, struct json_object **out, size_t *n);
/* Array of strings -> NULL-terminated heap vector (n optional). */
int cj_strv(const struct cj *c, struct json_object *obj, const char *path, const char *key,
            bool required, char ***out, size_t *n);
/* Object of string values -> flat NULL-terminated vector k0, v0, k1, v1, ...;
 * *n is the number of pairs. Keys are validated like values. */
int cj_string_map(const struct cj *c, struct json_object *obj, const char *path, const char *key,
                  char ***out, size_t *n);

/* Check that a string names an absolute path ("must be an absolute path"). */
int cj_check_abs(const struct cj *c, const char *path, const char *value);

/* Convenience: the required/optional string must be one of a NULL-terminated
 * list; the index is returned in *idx. `what` names the kind in the error
 * (unknown <what> "x"). */
int cj_enum(const struct cj *c, struct json_object *obj, const char *path, const char *key,
            bool required, const char *const *names, const char *what, size_t *idx);

/* ---- shared between config.c and config_linux.c -------------------------- */

/* uidMappings/gidMappings-style array at obj.key. */
int cj_id_mappings(const struct cj *c, struct json_object *obj, const char *path, const char *key,
                   struct oci_id_mapping **out, size_t *n);
/* The linux object (path is "linux"). */
int config_parse_linux(const struct cj *c, struct json_object *obj, const char *path,
                       struct oci_linux *out);
void config_linux_clear(struct oci_linux *l);

/* The largest uid/gid accepted: (uid_t)-1 means "leave unchanged" to set*id(2)
 * and chown(2), so it can never be a real id in a config. */
#define CJ_MAX_ID 4294967294u

#endif
