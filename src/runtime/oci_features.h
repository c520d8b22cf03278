/* oci_features.h — the Features structure (features.md, features-linux.md): what this
 * husk build recognises in config.json, for runtime callers deciding what they may
 * ask of it (`husk features`).
 *
 * Every list is read from the table the code that parses or applies the config
 * uses (mount options from mounts.c, namespaces from config.c, capabilities from
 * libcap as caps.c/config.c name them, seccomp names from config_linux.c and
 * seccomp_filter.c, hooks from config.c), never copied, so the answer cannot drift
 * from what `husk create` accepts. Names recognised only to be refused (the idmap mount
 * options) are left out. */
#ifndef HUSK_OCI_FEATURES_H
#define HUSK_OCI_FEATURES_H

struct json_object;

/* The lowest config.json ociVersion husk accepts (the highest is HUSK_OCI_VERSION). */
#define HUSK_OCI_VERSION_MIN "1.0.0"

/* A new json-c object (the caller puts it). Allocation failure aborts. */
struct json_object *features_json(void);

/* features_json() as pretty-printed text with a final newline; the caller frees it. */
char *features_text(void);

#endif
