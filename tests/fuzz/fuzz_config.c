/* fuzz_config.c — libFuzzer target for the config.json parser (config.c, config_json.c,
 * config_linux.c): every byte string must either parse into an oci_config or fail
 * with exactly one error message — never crash, leak, read out of bounds or hit
 * undefined behaviour (built with ASan+UBSan, see `make fuzz`).
 *
 * The same bytes also go through config_parse_process(), the parser of
 * `husk exec --process FILE`, which shares the process section's code. */
#include "config.h"
#include "error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_one(int r, void *obj, husk_err *err)
{
    /* The contract every caller relies on: failure fills err with a message and
     * gives no object; success gives an object and no error. */
    if (r < 0) {
        if (err == NULL || err->msg == NULL || err->msg[0] == '\0' || obj != NULL)
            abort();
        /* one line: the CLI prints it as is */
        if (strchr(err->msg, '\n') != NULL)
            abort();
    } else if (r != 0 || obj == NULL || err != NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy without a terminating NUL: config_load() does not add one
     * either, so any read past `size` is a bug ASan must see. */
    char *text = malloc(size ? size : 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);

    struct oci_config *cfg = NULL;
    husk_err *err = NULL;
    int r = config_parse(text, size, "config.json", &cfg, &err);
    check_one(r, cfg, err);
    config_free(cfg);
    husk_err_free(&err);

    struct oci_process *p = NULL;
    r = config_parse_process(text, size, "process.json", &p, &err);
    check_one(r, p, err);
    process_free(p);
    husk_err_free(&err);

    free(text);
    return 0;
}
