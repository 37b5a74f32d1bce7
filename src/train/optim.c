/* optim.c - SGD (momentum, Nesterov, weight decay), Adam and AdamW with
 * PyTorch's update rules, learning-rate schedules, clipping by global norm.
 * All of it is flat loops over the parameter block: the moments have the
 * same layout as the parameters. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "models/model.h"
#include "probe/probe.h"
#include "kernels/cpu/reduce.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* Parameters from which SGD streams its writes (gs_sgd_update): 2^21 floats, 8 MB, so p, g and m
 * together are three times that, past what the caches keep from one step to the next. */
#define OPTIM_STREAM_FLOATS ((size_t)1 << 21)

struct gs_optim {
    gs_ctx *ctx;
    gs_model *model;
    gs_optim_config cfg;
    float *m1, *m2;      /* momentum / exp_avg, exp_avg_sq */
    int64_t t;           /* updates taken (Adam's bias correction, SGD's first step) */
    int n_train;         /* trainable tensors */
    size_t *off, *len;   /* (n_train) their ranges in the flat block */
    int max_threads;
    int stream;          /* the block is far larger than the caches: SGD writes p and m past them */
    double *partial;     /* (max_threads x n_train x 3): Σg², Σp², Σ(Δp)² per thread */
};

void gs_optim_config_default(gs_optim_config *oc)
{
    memset(oc, 0, sizeof *oc);
    oc->kind = GS_OPTIM_SGD;
    oc->lr = 0.01f;
    oc->momentum = 0.9f;
    oc->beta1 = 0.9f; oc->beta2 = 0.999f; oc->eps = 1e-8f;
    oc->schedule = GS_SCHED_CONSTANT;
    oc->step_size = 1000; oc->gamma = 0.1f;
}

int gs_optim_from_name(const char *s, gs_optim_kind *out)
{
    if (!strcmp(s, "sgd")) *out = GS_OPTIM_SGD;
    else if (!strcmp(s, "adam")) *out = GS_OPTIM_ADAM;
    else if (!strcmp(s, "adamw")) *out = GS_OPTIM_ADAMW;
    else return -1;
    return 0;
}

int gs_sched_from_name(const char *s, gs_sched_kind *out)
{
    if (!strcmp(s, "constant")) *out = GS_SCHED_CONSTANT;
    else if (!strcmp(s, "step")) *out = GS_SCHED_STEP;
    else if (!strcmp(s, "cosine")) *out = GS_SCHED_COSINE;
    else return -1;
    return 0;
}

int gs_optim_create(gs_ctx *ctx, gs_model *m, const gs_optim_config *oc, gs_optim **out)
{
    if (!(oc->lr >= 0) || !isfinite(oc->lr)) return gs_error(ctx, GS_EINVAL, "optimizer: --lr %g must be >= 0", oc->lr);
    if (oc->momentum < 0 || oc->momentum >= 1 + 1e-6f)
        return gs_error(ctx, GS_EINVAL, "optimizer: --momentum %g must be in [0, 1]", oc->momentum);
    if (oc->nesterov && oc->momentum <= 0)
        return gs_error(ctx, GS_EINVAL, "optimizer: Nesterov needs --momentum > 0");
    if (oc->weight_decay < 0) return gs_error(ctx, GS_EINVAL, "optimizer: --wd %g must be >= 0", oc->weight_decay);
    if (oc->clip < 0) return gs_error(ctx, GS_EINVAL, "optimizer: --clip %g must be >= 0", oc->clip);
    if (oc->kind != GS_OPTIM_SGD && (oc->beta1 < 0 || oc->beta1 >= 1 || oc->beta2 < 0 || oc->beta2 >= 1))
        return gs_error(ctx, GS_EINVAL, "optimizer: Adam betas must be in [0, 1)");
    gs_optim *o = calloc(1, sizeof *o);
    if (!o) return gs_error(ctx, GS_ENOMEM, "optimizer: out of memory");
    size_t n;
    gs_model_params(m, &n);
    o->ctx = ctx; o->model = m; o->cfg = *oc;
    o->m1 = gs_alloc_zeros(n);
    /* SGD never touches the second moment (a checkpoint saves its zeros): calloc's untouched pages */
    o->m2 = oc->kind == GS_OPTIM_SGD ? calloc(n ? n : 1, sizeof *o->m2) : gs_alloc_zeros(n);
    for (int i = 0; i < m->n_tensors; i++) o->n_train += m->tensors[i].info.trainable;
    o->max_threads = gs_ctx_threads(ctx);
    o->off = calloc((size_t)o->n_train + 1, sizeof *o->off);
    o->len = calloc((size_t)o->n_train + 1, sizeof *o->len);
    o->partial = calloc((size_t)o->max_threads * (size_t)(o->n_train + 1) * 3, sizeof *o->partial);
    if (!o->m1 || !o->m2 || !o->off || !o->len || !o->partial) {
        gs_optim_free(o);
        return gs_error(ctx, GS_ENOMEM, "optimizer: out of memory");
    }
    o->stream = n >= OPTIM_STREAM_FLOATS;
    for (int i = 0, k = 0; i < m->n_tensors; i++)
        if (m->tensors[i].info.trainable) { o->off[k] = m->tensors[i].offset; o->len[k] = m->tensors[i].info.numel; k++; }
    *out = o;
    return GS_OK;
}

void gs_optim_free(gs_optim *o)
{
    if (!o) return;
    free(o->m1); free(o->m2); free(o->off); free(o->len); free(o->partial); free(o);
}

float gs_optim_lr(const gs_optim *o, int64_t step)
{
    const gs_optim_config *c = &o->cfg;
    double lr = c->lr;
    if (c->warmup > 0 && step < c->warmup) return (float)(lr * (double)(step + 1) / (double)c->warmup);
    int64_t t = step - c->warmup, total = c->total_steps - c->warmup;
    switch (c->schedule) {
    case GS_SCHED_STEP:
        if (c->step_size > 0) lr *= pow(c->gamma, (double)(t / c->step_size));
        break;
    case GS_SCHED_COSINE:
        if (total > 0) lr *= 0.5 * (1.0 + cos(3.14159265358979323846 * (double)(t < total ? t : total) / (double)total));
        break;
    default: break;
    }
    return (float)lr;
}

static double sum_squares(const float *g, size_t n, int threads)
{
    double total = 0;
    (void)threads;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+:total) if (n > 65536)
    {
        const size_t T = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
        double q;
        gs_reduce_sums(g + n * t / T, n * (t + 1) / T - n * t / T, NULL, &q);
        total += q;
    }
#else
    gs_reduce_sums(g, n, NULL, &total);
#endif
    return total;
}

/* Update elements [lo, hi) of the flat block; add Σg², Σp², Σ(Δp)²
 * (g before clipping, p before the update) to acc[0..2]. */
static void update_range(gs_optim *o, size_t lo, size_t hi, float lr, float scale, double *acc)
{
    float *p = o->model->params + lo, *m1 = o->m1 + lo, *m2 = o->m2 + lo;
    const float *g = o->model->grads + lo;
    const gs_optim_config *c = &o->cfg;
    if (c->kind == GS_OPTIM_SGD) {
        gs_sgd_update(p, g, m1, hi - lo, lr, scale, c->weight_decay, c->momentum, o->t == 1, c->nesterov,
                      o->stream, acc);
    } else {
        const double bc1 = 1.0 - pow(c->beta1, (double)o->t), bc2 = 1.0 - pow(c->beta2, (double)o->t);
        const int adamw = c->kind == GS_OPTIM_ADAMW;
        gs_adam_update(p, g, m1, m2, hi - lo, (float)(lr / bc1), scale, adamw ? 0.0f : c->weight_decay,
                       adamw ? 1.0f - lr * c->weight_decay : 1.0f, c->beta1, c->beta2, (float)sqrt(bc2),
                       c->eps, acc);
    }
}

int gs_optim_step_probe(gs_optim *o, int64_t step, float *grad_norm, gs_probe *probe)
{
    size_t n;
    gs_model_params(o->model, &n);
    const float *g = gs_model_grads(o->model, NULL);
    int threads = gs_ctx_threads(o->ctx);
    if (threads > o->max_threads) threads = o->max_threads;
    if (n < 65536) threads = 1;
    const gs_optim_config *c = &o->cfg;
    const float lr = gs_optim_lr(o, step);
    float scale = 1.0f;
    if (c->clip > 0) {
        /* Clipping needs the global norm before any update: one extra pass. */
        const double norm = sqrt(sum_squares(g, n, threads));
        if (!isfinite(norm))
            return gs_error(o->ctx, GS_ENONFINITE, "the gradient norm is %g (a NaN or Inf in a gradient)", norm);
        const double coef = c->clip / (norm + 1e-6);   /* torch.nn.utils.clip_grad_norm_ */
        if (coef < 1.0) scale = (float)coef;
    }
    o->t++;
    const int K = o->n_train;
    memset(o->partial, 0, (size_t)threads * (size_t)K * 3 * sizeof *o->partial);
    const size_t total = o->off[K - 1] + o->len[K - 1];
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        /* Each thread a contiguous range, cut at 16-float boundaries. */
        const size_t lo = (total * (size_t)tid / (size_t)threads) & ~(size_t)15;
        const size_t hi = tid == threads - 1 ? total : (total * (size_t)(tid + 1) / (size_t)threads) & ~(size_t)15;
        double *acc = o->partial + (size_t)tid * (size_t)K * 3;
        for (int k = 0; k < K; k++) {
            const size_t a = o->off[k] > lo ? o->off[k] : lo;
            const size_t b = o->off[k] + o->len[k] < hi ? o->off[k] + o->len[k] : hi;
            if (a < b) update_range(o, a, b, lr, scale, acc + 3 * k);
        }
    }
    double g2 = 0;
    float *slots = gs_probe_param_slots(probe);
    for (int k = 0; k < K; k++) {
        double s[3] = { 0, 0, 0 };
        for (int t = 0; t < threads; t++)
            for (int j = 0; j < 3; j++) s[j] += o->partial[((size_t)t * (size_t)K + (size_t)k) * 3 + (size_t)j];
        g2 += s[0];
        if (slots) {
            slots[3 * k] = (float)sqrt(s[0]);
            slots[3 * k + 1] = (float)sqrt(s[1]);
            slots[3 * k + 2] = s[1] > 0 ? (float)sqrt(s[2] / s[1]) : (s[2] > 0 ? INFINITY : 0.0f);
        }
    }
    if (grad_norm) *grad_norm = (float)sqrt(g2);
    if (!isfinite(g2))
        return gs_error(o->ctx, GS_ENONFINITE, "the gradient norm is %g (a NaN or Inf in a gradient)", sqrt(g2));
    return GS_OK;
}

int gs_optim_step(gs_optim *o, int64_t step, float *grad_norm)
{
    return gs_optim_step_probe(o, step, grad_norm, NULL);
}

float *gs_optim_state(gs_optim *o, int which, size_t *n)
{
    gs_model_params(o->model, n);
    return which == 0 ? o->m1 : which == 1 ? o->m2 : NULL;
}
int64_t gs_optim_steps_taken(const gs_optim *o) { return o->t; }
void gs_optim_set_steps_taken(gs_optim *o, int64_t t) { o->t = t; }
gs_model *gs_optim_model(const gs_optim *o) { return o->model; }
const gs_optim_config *gs_optim_get_config(const gs_optim *o) { return &o->cfg; }
