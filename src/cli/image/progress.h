/* progress.h — pull and push progress as docker shows it on a terminal: one line
 * per layer, redrawn in place ("a3ed95caeb02: Downloading [=====>   ] 1.2MB/3.4MB").
 * Nothing is drawn when the output is not a terminal. */
#ifndef HUSK_CLI_PROGRESS_H
#define HUSK_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "pull.h"

struct progress_line;

struct progress_ui {
    FILE *out;
    bool push;
    size_t n;
    struct progress_line *lines;
    struct transfer_progress tp;
};

/* Set up ui; *tp_out is what to give image_pull/image_push: NULL when out is not a
 * terminal or quiet is set. */
void progress_ui_init(struct progress_ui *ui, FILE *out, bool quiet, bool push,
                      const struct transfer_progress **tp_out);
void progress_ui_done(struct progress_ui *ui);

#endif
