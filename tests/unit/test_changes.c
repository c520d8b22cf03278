/* test_changes.c — Dockerfile instructions (--change) applied to an image config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "changes.h"
#include "util.h"

/* Apply the changes to a config parsed from start; compare with want (JSON). */
static void check(const char *start, const char *const *changes, const char *want)
{
    struct json_object *c = json_tokener_parse(start), *w = json_tokener_parse(want);
    assert_non_null(c);
    assert_non_null(w);
    for (size_t i = 0; changes[i]; i++) {
        _cleanup_err_ husk_err *err = NULL;
        if (image_config_apply_change(c, changes[i], &err) < 0)
            fail_msg("%s: %s", changes[i], err->msg);
    }
    if (!json_object_equal(c, w))
        fail_msg("got %s\nwant %s", json_object_to_json_string(c), json_object_to_json_string(w));
    json_object_put(c);
    json_object_put(w);
}

static void check_bad(const char *change, const char *want)
{
    struct json_object *c = json_object_new_object();
    _cleanup_err_ husk_err *err = NULL;
    assert_int_equal(image_config_apply_change(c, change, &err), -1);
    _cleanup_free_ char *prefix = xasprintf("--change \"%s\": ", change);
    if (strncmp(err->msg, prefix, strlen(prefix)) != 0 || !strstr(err->msg, want))
        fail_msg("%s: message \"%s\", want \"%s\"", change, err->msg, want);
    json_object_put(c);
}

static void test_cmd_entrypoint(void **state)
{
    (void)state;
    check("{}", (const char *[]){ "CMD [\"sh\",\"-c\",\"echo hi\"]", NULL }, "{\"Cmd\":[\"sh\",\"-c\",\"echo hi\"]}");
    check("{}", (const char *[]){ "CMD echo hi", NULL }, "{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"]}");
    check("{\"Cmd\":[\"old\"]}", (const char *[]){ "cmd [\"new\"]", "ENTRYPOINT [\"/init\"]", NULL },
          "{\"Cmd\":[\"new\"],\"Entrypoint\":[\"/init\"]}");
    /* not a JSON array of strings: the shell form, as docker takes it */
    check("{}", (const char *[]){ "CMD [1, 2]", NULL }, "{\"Cmd\":[\"/bin/sh\",\"-c\",\"[1, 2]\"]}");
}

static void test_env_label(void **state)
{
    (void)state;
    check("{\"Env\":[\"PATH=/bin\",\"A=1\"]}", (const char *[]){ "ENV A=2 B=\"x y\"", "ENV C the rest", NULL },
          "{\"Env\":[\"PATH=/bin\",\"A=2\",\"B=x y\",\"C=the rest\"]}");
    check("{}", (const char *[]){ "LABEL a=1 'b c'=2", "LABEL a=3", NULL }, "{\"Labels\":{\"a\":\"3\",\"b c\":\"2\"}}");
    check_bad("ENV =x", "KEY=VALUE");
    check_bad("ENV A=1 B", "KEY=VALUE");
    check_bad("ENV A=\"x", "unterminated quote");
}

static void test_others(void **state)
{
    (void)state;
    check("{}", (const char *[]){ "WORKDIR /a", "WORKDIR b", "USER 1000:1000", "STOPSIGNAL SIGINT", NULL },
          "{\"WorkingDir\":\"/a/b\",\"User\":\"1000:1000\",\"StopSignal\":\"SIGINT\"}");
    check("{}", (const char *[]){ "EXPOSE 80 53/UDP", "VOLUME /data /logs", "VOLUME [\"/x\"]", NULL },
          "{\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},\"Volumes\":{\"/data\":{},\"/logs\":{},\"/x\":{}}}");
    check_bad("EXPOSE 0", "1 to 65535");
    check_bad("EXPOSE 80/foo", "tcp, udp or sctp");
    check_bad("VOLUME data", "absolute");
    check_bad("RUN apt-get update", "RUN cannot be applied here");
    check_bad("CMD", "needs arguments");
    check_bad("USER a b", "exactly one");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_entrypoint),
        cmocka_unit_test(test_env_label),
        cmocka_unit_test(test_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
