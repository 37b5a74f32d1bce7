/* train.c - the training loop: batches in a seeded order, forward, loss,
 * backward, optimizer step; progress to the log sink; run.json and
 * metrics.jsonl in the log directory; checkpoints at every epoch end.
 *
 * Exact resume: epoch e's sample order depends only on (seed, e), and a
 * checkpoint holds the step, the weights, the buffers and the optimizer
 * moments, so N steps + resume + M steps equals N + M steps in one run.
 * Buffers for a batch are allocated once, before the first step.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "train/checkpoint.h"
#include "kernels/cpu/gemm.h"
#include "probe/probe.h"
#include "io/tfevents.h"
#include "io/augment.h"
#include "train/procrustes.h"

void gs_train_config_default(gs_train_config *tc)
{
    memset(tc, 0, sizeof *tc);
    tc->epochs = 1;
    tc->batch = 128;
    tc->seed = 42;
    tc->log_every = 50;
    tc->probe_every = 1;
    tc->dead_samples = 10000;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One metrics.jsonl record: step, the train/ scalars given, every probe tag. */
static void write_record(FILE *f, int64_t step, int n_train, const char *const *tags, const float *vals,
                         const gs_probe_stats *ps)
{
    fprintf(f, "{\"step\":%lld", (long long)step);
    for (int i = 0; i < n_train; i++) fprintf(f, ",\"%s\":%.7g", tags[i], vals[i]);
    for (int i = 0; ps && i < ps->n; i++) {
        if (isfinite(ps->values[i])) fprintf(f, ",\"%s\":%.7g", ps->tags[i], ps->values[i]);
        else fprintf(f, ",\"%s\":null", ps->tags[i]);
    }
    fputs("}\n", f);
    fflush(f);
}

static int all_finite(const float *x, size_t n)
{
    float acc = 0;
    for (size_t i = 0; i < n; i++) acc += x[i] * 0.0f;   /* NaN/Inf make it NaN */
    return acc == 0.0f;
}


static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Epoch e's order: Fisher-Yates from a generator seeded by (seed, e). */
static void epoch_order(int64_t *perm, int64_t n, uint64_t seed, int64_t epoch)
{
    gs_rng r;
    gs_rng_seed(&r, seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(epoch + 1)));
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)gs_rng_below(&r, (uint64_t)(i + 1));
        int64_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
}

int gs_evaluate(gs_ctx *ctx, gs_model *m, const gs_dataset *d, int batch, float *loss, float *acc)
{
    if (batch > m->max_batch) batch = m->max_batch;
    const int training = m->training;
    gs_model_set_training(m, 0);
    double total = 0;
    int64_t correct = 0;
    int rc = GS_OK;
    for (int64_t i = 0; i < d->n && rc == GS_OK; i += batch) {
        int N = (int)(d->n - i < batch ? d->n - i : batch);
        float l;
        rc = gs_model_forward(m, d->x + (size_t)i * (size_t)d->features, N);
        if (rc == GS_OK) rc = gs_model_loss(m, d->y + i, &l);
        if (rc == GS_OK) {
            total += (double)l * N;
            correct += gs_count_correct(gs_model_logits(m), d->y + i, N, m->cfg.classes);
        }
    }
    gs_model_set_training(m, training);
    if (rc) return rc;
    if (loss) *loss = (float)(total / (double)d->n);
    if (acc) *acc = (float)((double)correct / (double)d->n);
    (void)ctx;
    return GS_OK;
}

static int mkdir_p(gs_ctx *ctx, const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return gs_error(ctx, GS_EINVAL, "log dir: path too long");
    for (char *p = path + 1; *p; p++)
        if (*p == '/') { *p = 0; mkdir(path, 0777); *p = '/'; }
    if (mkdir(path, 0777) != 0) {
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            return gs_error(ctx, GS_EIO, "%s: cannot create the log directory", dir);
    }
    return GS_OK;
}

static const char *kernel_name(void)
{
    int p = gs_gemm_best_path();
    return p == GS_GEMM_AVX512 ? "avx512" : p == GS_GEMM_AVX2 ? "avx2" : "portable";
}

static int write_run_json(gs_ctx *ctx, const char *dir, gs_model *m, gs_optim *opt, const gs_train_config *tc)
{
    char path[4200], cfg[1024], host[256] = "unknown";
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) return gs_error(ctx, GS_EIO, "%s: cannot write", path);
    gs_model_config_to_json(&m->cfg, cfg, sizeof cfg);
    gethostname(host, sizeof host - 1);
    struct utsname u;
    if (uname(&u) != 0) strcpy(u.machine, "unknown");
    const gs_optim_config *oc = gs_optim_get_config(opt);
    const char *optn = oc->kind == GS_OPTIM_SGD ? "sgd" : oc->kind == GS_OPTIM_ADAM ? "adam" : "adamw";
    const char *sched = oc->schedule == GS_SCHED_STEP ? "step" : oc->schedule == GS_SCHED_COSINE ? "cosine" : "constant";
    fprintf(f, "{\n  \"version\": \"%s\",\n  \"model\": %s,\n  \"seed\": %llu,\n", GS_VERSION, cfg,
            (unsigned long long)tc->seed);
    fprintf(f, "  \"data\": \"%s\",\n  \"batch\": %d,\n  \"epochs\": %lld,\n  \"steps\": %lld,\n",
            tc->data_name ? tc->data_name : "", tc->batch, (long long)tc->epochs, (long long)tc->steps);
    fprintf(f, "  \"optimizer\": {\"kind\": \"%s\", \"lr\": %g, \"momentum\": %g, \"nesterov\": %s, "
            "\"weight_decay\": %g, \"beta1\": %g, \"beta2\": %g, \"eps\": %g, \"clip\": %g, "
            "\"schedule\": \"%s\", \"warmup\": %lld},\n", optn, oc->lr, oc->momentum,
            oc->nesterov ? "true" : "false", oc->weight_decay, oc->beta1, oc->beta2, oc->eps, oc->clip,
            sched, (long long)oc->warmup);
    fprintf(f, "  \"parameters\": %zu,\n  \"threads\": %d,\n  \"blas\": \"gradscope gemm (%s)\",\n",
            gs_model_n_params(m), gs_ctx_threads(ctx), kernel_name());
    fprintf(f, "  \"host\": {\"name\": \"%s\", \"machine\": \"%s\", \"cpus\": %ld},\n",
            host, u.machine, sysconf(_SC_NPROCESSORS_ONLN));
    fprintf(f, "  \"resumed_from\": %s%s%s\n}\n", tc->resume_path ? "\"" : "",
            tc->resume_path ? tc->resume_path : "null", tc->resume_path ? "\"" : "");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return gs_error(ctx, GS_EIO, "%s: write failed", path);
    return GS_OK;
}

/* Name where the first NaN/Inf of this step appeared and return GS_ENONFINITE. */
static int diverged(gs_ctx *ctx, gs_model *m, int64_t step, int backward, const char *what)
{
    char where[256] = "";
    if (!gs_model_find_nonfinite(m, backward, where, sizeof where))
        snprintf(where, sizeof where, "%s", backward ? "backward" : "forward");
    return gs_error(ctx, GS_ENONFINITE, "training diverged at step %lld: %s; first non-finite value: %s "
                    "(try a smaller --lr, --clip, or --on-nonfinite skip)", (long long)step, what, where);
}

int gs_train(gs_ctx *ctx, gs_model *m, gs_optim *opt, const gs_dataset *train, const gs_dataset *test,
             const gs_train_config *tc, gs_train_result *res)
{
    if (tc->batch < 1 || tc->batch > m->max_batch)
        return gs_error(ctx, GS_EINVAL, "train: --batch %d must be in 1..%d", tc->batch, m->max_batch);
    if (train->features != m->cfg.in_features)
        return gs_error(ctx, GS_ESHAPE, "train: data has %lld features per sample, the model takes %d",
                        (long long)train->features, m->cfg.in_features);
    if (train->classes > m->cfg.classes)
        return gs_error(ctx, GS_ESHAPE, "train: data has %d classes, the model's head has %d",
                        train->classes, m->cfg.classes);
    const int64_t spe = train->n / tc->batch;   /* steps per epoch */
    if (spe < 1)
        return gs_error(ctx, GS_EINVAL, "train: %lld samples are fewer than one batch of %d",
                        (long long)train->n, tc->batch);
    const int64_t total = tc->steps > 0 ? tc->steps : tc->epochs * spe;
    const int B = tc->batch;
    const int probe_every = tc->probe_every > 0 ? tc->probe_every : 1;
    const size_t F = (size_t)train->features;
    const int64_t dead_n = tc->dead_samples < train->n ? tc->dead_samples : train->n;
    int rc = GS_OK;
    int64_t step = 0, skipped = 0;
    uint64_t seed = tc->seed;
    FILE *metrics = NULL;
    gs_probe *probe = NULL;
    gs_tfevents *tb = NULL;
    gs_probe_stats ps;
    char path[4200];
    const int augment = tc->augment_pad > 0 || tc->augment_flip;
    if (augment && (train->height < 2 || train->width < 2))
        return gs_error(ctx, GS_EINVAL, "train: --augment needs image data (%s is %dx%dx%d)",
                        tc->data_name ? tc->data_name : "the dataset", train->channels, train->height, train->width);
    int64_t *perm = malloc((size_t)train->n * sizeof *perm);
    float *xb = malloc((size_t)B * F * sizeof *xb);
    int32_t *yb = malloc((size_t)B * sizeof *yb);
    float *pwork = NULL;
    float *aug = augment ? malloc(gs_augment_scratch_floats(train->channels, train->height, train->width,
                                                             tc->augment_pad) * sizeof *aug) : NULL;
    if (!perm || !xb || !yb || (augment && !aug)) { rc = gs_error(ctx, GS_ENOMEM, "train: out of memory"); goto done; }
    if (tc->procrustes) {
        size_t need = 0;
        int n_trans = 0;
        for (int i = 0; i < m->n_tensors; i++) {
            const gs_tensor_slot *s = &m->tensors[i];
            if (!s->transition) continue;
            const size_t w = gs_procrustes_work_floats((int)s->info.shape[0], (int)(s->info.numel / (size_t)s->info.shape[0]));
            need = w > need ? w : need;
            n_trans++;
        }
        if (!n_trans) { rc = gs_error(ctx, GS_EINVAL, "train: --procrustes: the network has no transition layers "
                                      "(a residual mlp's stem, a resnet's 1x1 projections with --shortcut B)"); goto done; }
        if (!(pwork = malloc(need * sizeof *pwork))) { rc = gs_error(ctx, GS_ENOMEM, "train: out of memory"); goto done; }
    }

    if (tc->resume_path) {
        gs_tensor_list *t = NULL;
        gs_resume_state rs;
        rc = gs_safetensors_load(ctx, tc->resume_path, &t);
        if (rc == GS_OK) rc = gs_checkpoint_apply(ctx, t, tc->resume_path, m);
        if (rc == GS_OK) rc = gs_checkpoint_resume(ctx, t, tc->resume_path, opt, &rs);
        gs_tensor_list_free(t);
        if (rc) goto done;
        step = rs.step;
        seed = rs.seed;
        gs_logf(ctx, "resumed from %s at step %lld", tc->resume_path, (long long)step);
    }
    if (tc->probe && (rc = gs_probe_create(ctx, m, &probe))) goto done;
    if (tc->log_dir) {
        if ((rc = mkdir_p(ctx, tc->log_dir))) goto done;
        if ((rc = write_run_json(ctx, tc->log_dir, m, opt, tc))) goto done;
        snprintf(path, sizeof path, "%s/metrics.jsonl", tc->log_dir);
        metrics = fopen(path, tc->resume_path ? "a" : "w");
        if (!metrics) { rc = gs_error(ctx, GS_EIO, "%s: cannot write", path); goto done; }
        if ((rc = gs_tfevents_open(ctx, tc->log_dir, &tb))) goto done;
    }
    if (probe && step == 0) {
        if ((rc = gs_probe_dead_units(probe, train->x, dead_n, train->features))) goto done;
    }

    gs_model_set_training(m, 1);
    const double t0 = now_s();
    double win_loss = 0, t_last = t0;
    int64_t win_correct = 0, win_n = 0, win_steps = 0, epoch = -1;
    const int64_t start = step;
    float last_loss = NAN, last_acc = 0, gnorm = NAN;
    double ev_loss = 0;                 /* the mini-batches since the last test evaluation */
    int64_t ev_correct = 0, ev_n = 0, ev_steps = 0;
    gs_dataset test_sub;
    if (test) {
        test_sub = *test;
        if (tc->eval_samples > 0 && tc->eval_samples < test->n) test_sub.n = tc->eval_samples;
    }
    while (step < total) {
        const int64_t e = step / spe, pos = step % spe;
        if (e != epoch) { epoch_order(perm, train->n, seed, e); epoch = e; }
        for (int i = 0; i < B; i++) {
            const int64_t s = perm[pos * B + i];
            memcpy(xb + (size_t)i * F, train->x + (size_t)s * F, F * sizeof *xb);
            yb[i] = train->y[s];
        }
        if (augment) {
            /* the draws depend on (seed, step) only, so a resumed run augments identically */
            gs_rng ar;
            gs_rng_seed(&ar, seed ^ (0xd1b54a32d192ed03ULL * (uint64_t)(step + 1)));
            gs_augment_batch(xb, B, train->channels, train->height, train->width, tc->augment_pad,
                             tc->augment_flip, &ar, aug);
        }
        float loss;
        const int probing = probe && (step + 1) % probe_every == 0;
        gs_model_zero_grad(m);
        if ((rc = gs_model_forward(m, xb, B))) goto done;
        if ((rc = gs_model_loss(m, yb, &loss))) goto done;
        int skip = 0;
        if (!isfinite(loss)) {
            if (!tc->skip_nonfinite) { rc = diverged(ctx, m, step + 1, 0, "the loss is not finite"); goto done; }
            skip = 1;
        }
        if (!skip) {
            const int64_t correct = gs_count_correct(gs_model_logits(m), yb, B, m->cfg.classes);
            win_correct += correct;
            ev_correct += correct; ev_loss += loss; ev_n += B; ev_steps++;
            if ((rc = gs_model_backward(m))) goto done;
            if (tc->skip_nonfinite && !all_finite(m->grads, m->n_params)) skip = 1;
        }
        if (skip) {
            skipped++;
            gs_logf(ctx, "step %lld: NaN/Inf, update skipped (%lld so far)", (long long)step + 1, (long long)skipped);
            step++;
            continue;
        }
        if (probing && (rc = gs_probe_collect(probe))) goto done;
        rc = gs_optim_step_probe(opt, step, &gnorm, probing ? probe : NULL);
        if (rc == GS_ENONFINITE) { rc = diverged(ctx, m, step + 1, 1, "a gradient is not finite"); goto done; }
        if (rc) goto done;
        for (int i = 0; pwork && i < m->n_tensors; i++) {
            const gs_tensor_slot *s = &m->tensors[i];
            if (s->transition)
                gs_procrustes_project(m->be, s->info.data, (int)s->info.shape[0],
                                      (int)(s->info.numel / (size_t)s->info.shape[0]), pwork, gs_ctx_threads(ctx));
        }
        step++;
        win_loss += loss; win_n += B; win_steps++;
        const int end_of_epoch = step % spe == 0 || step == total;
        if (probe && end_of_epoch) {
            if ((rc = gs_probe_dead_units(probe, train->x, dead_n, train->features))) goto done;
        }
        const int logging = step % tc->log_every == 0 || end_of_epoch;
        const char *ttags[5] = { "train/loss", "train/acc", "train/lr", "train/grad_norm", "train/samples_per_s" };
        float tvals[5] = { loss, NAN, gs_optim_lr(opt, step - 1), gnorm, NAN };
        int n_t = 1;
        if (logging) {
            const double t = now_s();
            const double rate = (double)win_n / (t - t_last > 1e-9 ? t - t_last : 1e-9);
            const double eta = (double)(total - step) * (t - t0) / (double)(step - start);
            last_loss = (float)(win_loss / win_steps);
            last_acc = win_n ? (float)win_correct / (float)win_n : 0.0f;
            gs_logf(ctx, "step %lld/%lld  epoch %lld  loss %.4f  acc %.3f  lr %.3g  %.0f samples/s  ETA %d:%02d",
                  (long long)step, (long long)total, (long long)e + 1, last_loss, last_acc,
                  gs_optim_lr(opt, step - 1), rate, (int)(eta / 60), (int)eta % 60);
            tvals[0] = last_loss; tvals[1] = last_acc; tvals[4] = (float)rate;
            n_t = 5;
            win_loss = 0; win_correct = 0; win_n = 0; win_steps = 0; t_last = t;
        }
        if (probing || logging) {
            const gs_probe_stats *view = NULL;
            if (probing) { gs_probe_stats_view(probe, step, &ps); ps.loss = loss; view = &ps; }
            if (metrics) write_record(metrics, step, n_t, ttags, tvals, view);
            if (tb) {
                const double wt = wall_now();
                if ((rc = gs_tfevents_scalars(tb, step, wt, n_t, ttags, tvals))) goto done;
                if (view && (rc = gs_tfevents_scalars(tb, step, wt, view->n, view->tags, view->values))) goto done;
            }
            if (view && tc->on_probe) tc->on_probe(tc->probe_user, view);
        }
        if (tb && tc->hist_every > 0 && step % tc->hist_every == 0) {
            /* The histograms are of the gradients of this step (the update used them). */
            char tag[200];
            for (int i = 0; i < m->n_tensors; i++) {
                const gs_tensor_info *ti = &m->tensors[i].info;
                if (m->tensors[i].role != GS_ROLE_WEIGHT) continue;
                snprintf(tag, sizeof tag, "grad/%s", ti->name);
                if ((rc = gs_tfevents_histogram(tb, step, wall_now(), tag, ti->grad, ti->numel))) goto done;
            }
        }
        if (test && tc->eval_every > 0 && (step % tc->eval_every == 0 || step == total) && step < total) {
            gs_eval_point ep = { step, ev_steps ? (float)(ev_loss / ev_steps) : NAN,
                                 ev_n ? (float)ev_correct / (float)ev_n : NAN, NAN, NAN, test_sub.n };
            if ((rc = gs_evaluate(ctx, m, &test_sub, m->max_batch, &ep.test_loss, &ep.test_acc))) goto done;
            ev_loss = 0; ev_correct = ev_n = ev_steps = 0;
            gs_logf(ctx, "step %lld: test loss %.4f  accuracy %.4f  (%lld samples)", (long long)step, ep.test_loss,
                    ep.test_acc, (long long)test_sub.n);
            const char *tt[2] = { "test/loss", "test/acc" };
            float tv[2] = { ep.test_loss, ep.test_acc };
            if (metrics) write_record(metrics, step, 2, tt, tv, NULL);
            if (tb && (rc = gs_tfevents_scalars(tb, step, wall_now(), 2, tt, tv))) goto done;
            if (tc->on_eval) tc->on_eval(tc->eval_user, &ep);
        }
        if (end_of_epoch && tb && (rc = gs_tfevents_flush(tb))) goto done;
        if (end_of_epoch && tc->save_path) {
            gs_resume_state rs = { step, seed };
            if ((rc = gs_checkpoint_save(ctx, tc->save_path, m, opt, &rs))) goto done;
        }
    }
    if (res) {
        memset(res, 0, sizeof *res);
        res->steps = step;
        res->last_loss = last_loss;
        res->train_acc = last_acc;
        res->seconds = now_s() - t0;
        res->test_loss = res->test_acc = NAN;
        res->skipped = skipped;
    }
    if (test) {
        float tl, ta;
        if ((rc = gs_evaluate(ctx, m, test, m->max_batch, &tl, &ta))) goto done;
        if (res) { res->test_loss = tl; res->test_acc = ta; }
        gs_logf(ctx, "test: loss %.4f  accuracy %.4f  (%lld samples)", tl, ta, (long long)test->n);
        const char *tt[2] = { "test/loss", "test/acc" };
        float tv[2] = { tl, ta };
        if (metrics) write_record(metrics, step, 2, tt, tv, NULL);
        if (tb && (rc = gs_tfevents_scalars(tb, step, wall_now(), 2, tt, tv))) goto done;
        if (tc->on_eval && tc->eval_every > 0) {
            gs_eval_point ep = { step, ev_steps ? (float)(ev_loss / ev_steps) : NAN,
                                 ev_n ? (float)ev_correct / (float)ev_n : NAN, tl, ta, test->n };
            tc->on_eval(tc->eval_user, &ep);
        }
    }
done:
    if (metrics && fclose(metrics) != 0 && rc == GS_OK)
        rc = gs_error(ctx, GS_EIO, "%s/metrics.jsonl: write failed", tc->log_dir);
    if (tb) {
        int rc2 = gs_tfevents_close(tb);
        if (rc == GS_OK) rc = rc2;
    }
    gs_probe_free(probe);
    free(perm); free(xb); free(yb); free(aug); free(pwork);
    return rc;
}
