/* json_cleanup.h — `_cleanup_json_`: a json-c object put when its variable goes
 * out of scope (systemd's style, as util.h's _cleanup_free_). */
#ifndef HUSK_JSON_CLEANUP_H
#define HUSK_JSON_CLEANUP_H

#include <json-c/json.h>

#include "util.h"

static inline void json_putp(struct json_object **o)
{
    if (*o)
        json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

#endif
