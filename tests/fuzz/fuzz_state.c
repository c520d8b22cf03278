/* fuzz_state.c — libFuzzer target for husk's state.json reader (state_parse in
 * state.c). state.json is husk's own record, but a crash or a half-written file,
 * or a hand edit, can leave anything there; `delete` and `list` must then report
 * corruption naming the field, never crash or trust garbage. */
#include "error.h"
#include "state.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* state_read() hands state_parse() a NUL-terminated buffer of `size` bytes. */
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    struct husk_state *s = NULL;
    husk_err *err = NULL;
    /* The seeds' id: a document naming another id is rejected as corrupt. */
    int r = state_parse(text, size, "fuzz", &s, &err);
    if (r < 0) {
        if (err == NULL || err->msg == NULL || s != NULL || strchr(err->msg, '\n') != NULL)
            abort();
    } else {
        if (s == NULL || err != NULL)
            abort();
        /* Touch what the readers use, so ASan checks it was filled properly. */
        if (strcmp(s->id, "fuzz") != 0 || s->bundle == NULL || s->created == NULL)
            abort();
        for (size_t i = 0; s->cgroup_paths[i] != NULL; i++)
            if (s->cgroup_paths[i][0] != '/')
                abort();
        char *j = state_oci_json(s, HUSK_STOPPED);
        free(j);
    }
    state_free(s);
    husk_err_free(&err);
    free(text);
    return 0;
}
