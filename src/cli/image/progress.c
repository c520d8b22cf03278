/* progress.c — per-layer progress lines on a terminal (progress.h). */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "progress.h"
#include "util.h"

#define BAR_WIDTH 50
#define REDRAW_MS 100

struct progress_line {
    char id[13];
    enum blob_state st;
    uint64_t done, total;
    long drawn_ms;
};

static long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void line_text(const struct progress_ui *ui, const struct progress_line *l, char *buf, size_t cap)
{
    switch (l->st) {
    case BLOB_WAITING:
        snprintf(buf, cap, "%s: %s", l->id, ui->push ? "Preparing" : "Pulling fs layer");
        return;
    case BLOB_EXISTS:
        snprintf(buf, cap, "%s: %s", l->id, ui->push ? "Layer already exists" : "Already exists");
        return;
    case BLOB_DONE:
        snprintf(buf, cap, "%s: %s", l->id, ui->push ? "Pushed" : "Download complete");
        return;
    case BLOB_DOWNLOADING:
        break;
    }
    char bar[BAR_WIDTH + 1];
    size_t fill = l->total ? (size_t)(l->done * BAR_WIDTH / l->total) : 0;
    if (fill > BAR_WIDTH)
        fill = BAR_WIDTH;
    for (size_t i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[BAR_WIDTH] = '\0';
    _cleanup_free_ char *done = fmt_size(l->done), *total = l->total ? fmt_size(l->total) : NULL;
    snprintf(buf, cap, "%s: %s [%s] %8s%s%s", l->id, ui->push ? "Pushing" : "Downloading", bar, done,
             total ? "/" : "", total ? total : "");
}

/* Redraw line i in place: up to it, clear, write, back down below the last line. */
static void redraw(struct progress_ui *ui, size_t i)
{
    char buf[256];
    line_text(ui, &ui->lines[i], buf, sizeof(buf));
    size_t up = ui->n - i;
    fprintf(ui->out, "\033[%zuA\r\033[2K%s\r\033[%zuB", up, buf, up);
    fflush(ui->out);
    ui->lines[i].drawn_ms = mono_ms();
}

static void on_begin(void *ctx, const struct blob_desc *blobs, size_t n)
{
    struct progress_ui *ui = ctx;
    free(ui->lines);
    ui->lines = xcalloc(n ? n : 1, sizeof(*ui->lines));
    ui->n = n;
    for (size_t i = 0; i < n; i++) {
        const char *hex = strchr(blobs[i].digest, ':');
        snprintf(ui->lines[i].id, sizeof(ui->lines[i].id), "%.12s", hex ? hex + 1 : blobs[i].digest);
        ui->lines[i].total = blobs[i].size;
        char buf[256];
        line_text(ui, &ui->lines[i], buf, sizeof(buf));
        fprintf(ui->out, "%s\n", buf);
    }
    fflush(ui->out);
}

static void on_blob(void *ctx, size_t i, enum blob_state st, uint64_t done, uint64_t total)
{
    struct progress_ui *ui = ctx;
    if (i >= ui->n)
        return;
    struct progress_line *l = &ui->lines[i];
    bool changed = l->st != st;
    l->st = st;
    l->done = done;
    if (total)
        l->total = total;
    if (changed || mono_ms() - l->drawn_ms >= REDRAW_MS)
        redraw(ui, i);
}

void progress_ui_init(struct progress_ui *ui, FILE *out, bool quiet, bool push,
                      const struct transfer_progress **tp_out)
{
    memset(ui, 0, sizeof(*ui));
    ui->out = out;
    ui->push = push;
    ui->tp = (struct transfer_progress){ on_begin, on_blob, ui };
    *tp_out = !quiet && isatty(fileno(out)) ? &ui->tp : NULL;
}

void progress_ui_done(struct progress_ui *ui)
{
    free(ui->lines);
    ui->lines = NULL;
    ui->n = 0;
}
