/* pull.c — `image pull`: registry → store → layers → image record (pull.h). */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "layer.h"
#include "manifest.h"
#include "pull.h"
#include "reference.h"
#include "testhooks.h"
#include "util.h"

#define CONFIG_MAX (8u << 20)
#define UNPACK_PARALLEL 4   /* layers unpacked at once, at most one per CPU */

void pull_result_free(struct pull_result *r)
{
    free(r->ref);
    free(r->id);
    free(r->digest);
    memset(r, 0, sizeof(*r));
}

/* Unpacking the layers: each into its own directory, independent of the others
 * (layer.h), so several at once, and each while its blob downloads: a worker reads
 * the blob's unnamed file as the download loop (this thread) writes it
 * (layer_ensure_stream), and publishes the layer only once the blob is whole and its
 * digest checked. Their chain ids are known from the config's diff_ids. The workers
 * take the layers bottom first, each waiting until its blob's download starts, or
 * the blob is done or there already. A download that restarts (a retry) abandons
 * what was unpacked from it: that layer is then unpacked from the stored blob. */
#define STREAM_STEP (256u << 10)   /* a streaming worker wakes for this much more, or the end */
struct unpack_jobs {
    struct store *st;
    const struct manifest *m;
    char *const *diff_ids;
    char **chains;                 /* computed before: ChainID(Ln) from the diff_ids */
    husk_err **errs;               /* one per layer */
    size_t next;                   /* the next layer to take, under mu */
    bool *ready;                   /* blob i is in the store */
    int *fd;                       /* blob i's file while it downloads (registry_tap_fn), or -1 */
    unsigned *gen;                 /* blob i's download (re)starts */
    uint64_t *have;                /* bytes in that file */
    uint64_t *want;                /* a worker waits until have[i] reaches this */
    bool stop;                     /* the downloads failed: take nothing more */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const struct transfer_progress *p;
};

struct stream {
    struct unpack_jobs *j;
    size_t i;
    unsigned gen;
    bool abandoned;
};

/* layer_source's wait, under the jobs' lock. */
static int stream_wait(void *ctx, uint64_t have)
{
    struct stream *s = ctx;
    struct unpack_jobs *j = s->j;
    size_t i = s->i;
    pthread_mutex_lock(&j->mu);
    j->want[i] = have + STREAM_STEP;
    while (!j->stop && j->gen[i] == s->gen && !j->ready[i] && j->have[i] < j->want[i])
        pthread_cond_wait(&j->cv, &j->mu);
    int r = j->stop || j->gen[i] != s->gen ? -1 : j->have[i] > have ? 1 : 0;
    j->want[i] = 0;
    pthread_mutex_unlock(&j->mu);
    if (r < 0)
        s->abandoned = true;
    return r;
}

static void *unpack_worker(void *arg)
{
    struct unpack_jobs *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        size_t i = j->next;
        if (i < j->m->n_layers && !j->stop)
            j->next++;
        while (i < j->m->n_layers && !j->stop && !j->ready[i] && j->fd[i] < 0)
            pthread_cond_wait(&j->cv, &j->mu);
        bool go = i < j->m->n_layers && !j->stop;
        _cleanup_close_ int fd = -1;
        struct stream s = { .j = j, .i = i };
        if (go) {
            fd = steal_fd(j->fd[i]);   /* a stored blob needs no file of the download */
            s.gen = j->gen[i];
            if (j->ready[i]) {
                close(fd);
                fd = -1;
            }
        }
        pthread_mutex_unlock(&j->mu);
        if (!go)
            return NULL;
        const char *blob = j->m->layers[i].digest, *parent = i ? j->chains[i - 1] : NULL;
        struct layer_source src = { stream_wait, &s };
        char *chain = NULL;
        int r = layer_ensure_stream(j->st, blob, j->diff_ids[i], parent, fd, fd >= 0 ? &src : NULL, &chain,
                                    &j->errs[i]);
        if (r < 0 && s.abandoned) {
            /* the download restarted (or failed): the stored blob, once it is there */
            husk_err_free(&j->errs[i]);
            pthread_mutex_lock(&j->mu);
            while (!j->stop && !j->ready[i])
                pthread_cond_wait(&j->cv, &j->mu);
            go = !j->stop;
            pthread_mutex_unlock(&j->mu);
            if (!go)
                return NULL;
            r = layer_ensure(j->st, blob, j->diff_ids[i], parent, &chain, &j->errs[i]);
        }
        if (r == 0)
            free(chain);   /* the same as chains[i] */
    }
}

/* The downloads' progress: passed on, and a blob done or found wakes its unpacker. */
static void unpack_progress(void *ctx, size_t i, enum blob_state state, uint64_t done, uint64_t total)
{
    struct unpack_jobs *j = ctx;
    if (j->p && j->p->blob)
        j->p->blob(j->p->ctx, i, state, done, total);
    if (state == BLOB_DONE || state == BLOB_EXISTS) {
        pthread_mutex_lock(&j->mu);
        j->ready[i] = true;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    } else if (state == BLOB_DOWNLOADING) {
        pthread_mutex_lock(&j->mu);
        j->have[i] = done;
        if (j->want[i] && done >= j->want[i])
            pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
}

/* A blob's download (re)starts: its file for the worker that takes layer i. */
static void unpack_tap(void *ctx, size_t i, int fd)
{
    struct unpack_jobs *j = ctx;
    pthread_mutex_lock(&j->mu);
    if (j->fd[i] >= 0)
        close(j->fd[i]);   /* the file of an attempt nobody took */
    j->fd[i] = fd;
    j->gen[i]++;
    j->have[i] = 0;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static int fetch_and_unpack(struct registry *reg, const char *repo, struct store *st, const struct manifest *m,
                            const struct blob_desc *blobs, char *const *diff_ids, char **chains,
                            const struct transfer_progress *p, husk_err **err)
{
    for (size_t i = 0; i < m->n_layers; i++)
        chains[i] = layer_chain_id(i ? chains[i - 1] : NULL, diff_ids[i]);
    size_t n_slots = m->n_layers + 1;
    struct unpack_jobs j = { .st = st, .m = m, .diff_ids = diff_ids, .chains = chains,
                             .errs = xcalloc(n_slots, sizeof(husk_err *)), .ready = xcalloc(n_slots, sizeof(bool)),
                             .fd = xcalloc(n_slots, sizeof(int)), .gen = xcalloc(n_slots, sizeof(unsigned)),
                             .have = xcalloc(n_slots, sizeof(uint64_t)), .want = xcalloc(n_slots, sizeof(uint64_t)),
                             .p = p };
    for (size_t i = 0; i < n_slots; i++)
        j.fd[i] = -1;
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = m->n_layers < UNPACK_PARALLEL ? m->n_layers : UNPACK_PARALLEL;
    if (cpus > 0 && n > (size_t)cpus)
        n = (size_t)cpus;
    pthread_t th[UNPACK_PARALLEL];
    size_t started = 0;
    for (; started < n; started++)
        if (pthread_create(&th[started], NULL, unpack_worker, &j) != 0)
            break;
    int ret = registry_fetch_blobs(reg, repo, st, blobs, m->n_layers, unpack_progress, unpack_tap, &j, err);
    if (ret < 0) {
        pthread_mutex_lock(&j.mu);
        j.stop = true;
        pthread_cond_broadcast(&j.cv);
        pthread_mutex_unlock(&j.mu);
    }
    if (started == 0 && ret == 0)
        unpack_worker(&j);   /* no thread could be made: this one does it all */
    for (size_t k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    for (size_t i = 0; i < m->n_layers; i++) {
        if (j.fd[i] >= 0)
            close(j.fd[i]);
        if (j.errs[i] && ret == 0) {
            *err = steal_ptr(j.errs[i]);   /* the lowest layer's error */
            ret = -1;
        }
        husk_err_free(&j.errs[i]);
    }
    pthread_cond_destroy(&j.cv);
    pthread_mutex_destroy(&j.mu);
    free(j.errs);
    free(j.ready);
    free(j.fd);
    free(j.gen);
    free(j.have);
    free(j.want);
    return ret;
}

/* Fetch the manifest ref names and keep it in the store (image_register reads it
 * there). */
static int fetch_manifest(struct registry *reg, struct store *st, const char *repo, const char *ref, char **text,
                          size_t *len, char **mt, char **digest, husk_err **err)
{
    if (registry_get_manifest(reg, repo, ref, text, len, mt, digest, err) < 0)
        return -1;
    return store_put_blob(st, *text, *len, NULL, err);
}

static int do_pull(struct store *st, const struct image_ref *ref, const char *full, const struct pull_opts *o,
                   struct pull_result *res, husk_err **err)
{
    struct registry *reg = NULL;
    _cleanup_free_ char *text = NULL, *mt = NULL, *top_digest = NULL, *mdigest = NULL, *ctext = NULL;
    _cleanup_free_ char *index_digest = NULL, *mname = NULL, *cname = NULL, *repo = NULL, *repo_digest = NULL;
    struct image_index ix = { 0 };
    struct manifest m = { 0 };
    struct image_config cfg = { 0 };
    struct platform want = { 0 };
    struct blob_desc *blobs = NULL;
    char **chains = NULL;
    size_t len = 0;
    int ret = -1;

    if (platform_parse(o->platform, &want, err) < 0)
        goto out;
    if (registry_open(ref->domain, &o->reg, &reg, err) < 0)
        goto out;
    if (fetch_manifest(reg, st, ref->path, ref->digest ? ref->digest : ref->tag, &text, &len, &mt, &top_digest,
                       err) < 0)
        goto out;
    husk_kill_point("pull.after-manifest");
    if (manifest_kind(mt) == 'i') {
        _cleanup_free_ char *name = xasprintf("index %s", top_digest);
        if (image_index_parse(text, len, name, mt, &ix, err) < 0)
            goto out;
        const struct descriptor *d = image_index_pick(&ix, want.os, want.arch, want.variant, name, err);
        if (!d)
            goto out;
        index_digest = xstrdup(top_digest);
        _cleanup_free_ char *child = xstrdup(d->digest);
        free(text);
        free(mt);
        text = mt = NULL;
        if (fetch_manifest(reg, st, ref->path, child, &text, &len, &mt, &mdigest, err) < 0)
            goto out;
        if (manifest_kind(mt) != 'm') {
            husk_fail(err, 0, "manifest %s: an index inside an index is not supported", child);
            goto out;
        }
    } else {
        mdigest = xstrdup(top_digest);
    }
    mname = xasprintf("manifest %s", mdigest);
    if (manifest_parse(text, len, mname, mt, &m, err) < 0)
        goto out;
    for (size_t i = 0; i < m.n_layers; i++)
        if (!manifest_layer_type_known(m.layers[i].media_type)) {
            husk_fail(err, 0, "%s: layer %zu (%s): unsupported media type \"%s\"", mname, i, m.layers[i].digest,
                      m.layers[i].media_type);
            goto out;
        }

    /* the config first: its diff_ids check every layer as it is unpacked */
    struct blob_desc cdesc = { m.config.digest, (uint64_t)m.config.size };
    if (registry_fetch_blobs(reg, ref->path, st, &cdesc, 1, NULL, NULL, NULL, err) < 0 ||
        store_read_blob(st, m.config.digest, CONFIG_MAX, &ctext, &len, err) < 0)
        goto out;
    cname = xasprintf("config %s", m.config.digest);
    if (image_config_parse(ctext, len, cname, &cfg, err) < 0)
        goto out;
    if (cfg.n_diff_ids != m.n_layers) {
        husk_fail(err, 0, "%s: %zu layers, but its config has %zu diff_ids", mname, m.n_layers, cfg.n_diff_ids);
        goto out;
    }
    if (o->platform && !index_digest &&
        (strcmp(cfg.os, want.os) != 0 || strcmp(cfg.architecture, want.arch) != 0 ||
         (want.variant && (!cfg.variant || strcmp(cfg.variant, want.variant) != 0)))) {
        husk_fail(err, 0, "the image is for %s/%s%s%s, not %s", cfg.os, cfg.architecture, cfg.variant ? "/" : "",
                  cfg.variant ? cfg.variant : "", o->platform);
        goto out;
    }

    blobs = xcalloc(m.n_layers ? m.n_layers : 1, sizeof(*blobs));
    for (size_t i = 0; i < m.n_layers; i++)
        blobs[i] = (struct blob_desc){ m.layers[i].digest, (uint64_t)m.layers[i].size };
    const struct transfer_progress *p = o->progress;
    if (p && p->begin)
        p->begin(p->ctx, blobs, m.n_layers);
    chains = xcalloc(m.n_layers + 1, sizeof(char *));
    if (fetch_and_unpack(reg, ref->path, st, &m, blobs, cfg.diff_ids, chains, p, err) < 0)
        goto out;

    /* last: the record and its names */
    repo = image_ref_repository(ref);
    repo_digest = xasprintf("%s@%s", repo, top_digest);
    struct image_record old = { 0 };
    bool had = image_lookup(st, full, &old, NULL) == 0;
    res->up_to_date = had && strcmp(old.id, m.config.digest) == 0;
    if (had)
        image_record_free(&old);
    struct image_register_args a = { .manifest = mdigest, .index = index_digest, .tag = ref->tag ? full : NULL,
                                     .repo_digest = repo_digest };
    husk_kill_point("pull.before-register");
    if (image_register(st, &a, &res->id, err) < 0)
        goto out;
    res->digest = steal_ptr(top_digest);
    ret = 0;
out:
    registry_close(reg);
    image_index_free(&ix);
    manifest_free(&m);
    image_config_free(&cfg);
    platform_free(&want);
    free(blobs);
    strv_free(chains);
    return ret;
}

int image_pull(struct store *st, const char *refstr, const struct pull_opts *o, struct pull_result *res, husk_err **err)
{
    memset(res, 0, sizeof(*res));
    struct image_ref ref;
    if (image_ref_parse(refstr, &ref, err) < 0)
        return -1;
    _cleanup_free_ char *full = image_ref_string(&ref);
    int ret = do_pull(st, &ref, full, o, res, err);
    image_ref_free(&ref);
    if (ret < 0) {
        pull_result_free(res);
        return husk_err_prefix(err, "%s", full);
    }
    res->ref = steal_ptr(full);
    return 0;
}
