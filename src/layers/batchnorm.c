/* batchnorm.c - BatchNorm1d/2d over x (N, C, S) with S = H*W (S = 1 for 1d).
 *
 * Train: batch statistics (biased variance for normalising), running
 * averages updated with momentum and the unbiased variance, as PyTorch.
 * Eval: running statistics.  The statistics used are kept for backward.
 * A relu right after the norm may run inside its passes (forward_relu, backward_relu: the model fuses
 * them, layer.h): the same sums in the same order, so the same bits as the two nodes one after the other.
 */
#include <math.h>
#include <stdlib.h>
#include "layers/layer.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/reduce.h"

typedef struct bn_state {
    int C, S;
    size_t w_off, b_off, mean_off, var_off;
    float momentum, eps;
    float *mean, *rstd;     /* (C) statistics used by the last forward */
    float *ya, *yb;         /* (C) its affine map y = x ya + yb, which a fused relu's backward recomputes */
    float *f1, *f2, *f3;    /* (C) scratch for the S == 1 fast path */
} bn_state;

static void bn_free(void *p)
{
    bn_state *s = p;
    if (!s) return;
    free(s->mean); free(s->rstd); free(s->ya); free(s->yb); free(s->f1); free(s->f2); free(s->f3);
    free(s);
}

/* BatchNorm1d on channels [c0, c1): statistics, running averages, the
 * affine map, all per channel, so threads split channels with no barrier. */
static void bn1d_forward_range(const gs_exec *e, bn_state *s, const float *x, float *y, float *r, int c0, int c1)
{
    const int C = s->C, N = e->N;
    const float *gamma = e->params + s->w_off, *beta = e->params + s->b_off;
    float *rmean = e->buffers + s->mean_off, *rvar = e->buffers + s->var_off;
    if (e->training) {
        gs_bn1d_stats(x, N, C, c0, c1, s->mean, s->f2);
        for (int c = c0; c < c1; c++) {
            const float var = s->f2[c];
            s->rstd[c] = 1.0f / sqrtf(var + s->eps);
            if (e->freeze_stats) continue;
            rmean[c] = (1.0f - s->momentum) * rmean[c] + s->momentum * s->mean[c];
            rvar[c] = (1.0f - s->momentum) * rvar[c] + s->momentum * (N > 1 ? var * (float)N / (float)(N - 1) : var);
        }
    } else {
        for (int c = c0; c < c1; c++) {
            s->mean[c] = rmean[c];
            s->rstd[c] = (float)(1.0 / sqrt((double)rvar[c] + s->eps));
        }
    }
    for (int c = c0; c < c1; c++) {
        s->ya[c] = s->rstd[c] * gamma[c];
        s->yb[c] = beta[c] - s->mean[c] * s->ya[c];
    }
    gs_bn1d_apply(x, y, r, N, C, c0, c1, s->ya, s->yb);
}

/* dγ, dβ and dx for channels [c0, c1) (see bn_backward for the formulas); relu: dy is the gradient of
 * relu(y) (the fused relu's backward). */
static void bn1d_backward_range(const gs_exec *e, const gs_node *n, bn_state *s, const float *x,
                                const float *dy, float *dx, int relu, int c0, int c1)
{
    const int C = s->C, N = e->N;
    const float *gamma = e->params + s->w_off;
    float *dgamma = e->grads + s->w_off, *dbeta = e->grads + s->b_off;
    float *sdy = s->f1, *sdyx = s->f2;
    const float *ya = relu ? s->ya : NULL, *yb = relu ? s->yb : NULL;
    gs_bn1d_sums(x, dy, N, C, c0, c1, s->mean, s->rstd, ya, yb, sdy, sdyx);
    for (int c = c0; c < c1; c++) {
        if (e->accumulate) { dgamma[c] += sdyx[c]; dbeta[c] += sdy[c]; }
        else { dgamma[c] = sdyx[c]; dbeta[c] = sdy[c]; }
    }
    if (!dx) return;
    /* dx = a_c dy + b_c x + c_c, coefficients per channel, into f1 f2 f3 */
    for (int c = c0; c < c1; c++) {
        const float r = s->rstd[c], g = gamma[c] * r;
        if (e->training) {
            const float k1 = sdy[c] / (float)N, k2 = sdyx[c] / (float)N;
            s->f1[c] = g; s->f2[c] = -g * r * k2; s->f3[c] = -g * k1 + g * r * k2 * s->mean[c];
        } else {
            s->f1[c] = g; s->f2[c] = 0; s->f3[c] = 0;
        }
    }
    gs_bn1d_dx(x, dy, dx, N, C, c0, c1, s->f1, s->f2, s->f3, ya, yb, n->acc[0]);
}

/* The next row of a channel: its lines are fetched while this row is summed (a channel's rows are
 * S values apart by C S, too short a stream for the hardware's prefetcher to follow). */
static inline void fetch_row(const float *p, int S)
{
    for (int k = 0; k < S; k += 16) __builtin_prefetch(p + k, 0, 3);
}

/* BatchNorm2d (S > 1) on channels [c0, c1): each channel is N rows of S
 * contiguous values. */
static void bn2d_forward_range(const gs_exec *e, bn_state *s, const float *x, float *y, float *r, int c0, int c1)
{
    const int C = s->C, S = s->S, N = e->N;
    const double M = (double)N * S;
    const float *gamma = e->params + s->w_off, *beta = e->params + s->b_off;
    float *rmean = e->buffers + s->mean_off, *rvar = e->buffers + s->var_off;
    for (int c = c0; c < c1; c++) {
        if (e->training) {
            double sum;
            gs_rows_sums(x + (size_t)c * S, N, (size_t)S, (size_t)C * S, &sum, NULL);
            const double mu = sum / M;
            const double sq = gs_rows_centered_sq(x + (size_t)c * S, N, (size_t)S, (size_t)C * S, mu);
            const double var = sq / M;
            s->mean[c] = (float)mu;
            s->rstd[c] = (float)(1.0 / sqrt(var + s->eps));
            if (!e->freeze_stats) {
                rmean[c] = (1.0f - s->momentum) * rmean[c] + s->momentum * (float)mu;
                rvar[c] = (1.0f - s->momentum) * rvar[c] + s->momentum * (float)(M > 1 ? sq / (M - 1) : var);
            }
        } else {
            s->mean[c] = rmean[c];
            s->rstd[c] = (float)(1.0 / sqrt((double)rvar[c] + s->eps));
        }
        const float a = s->rstd[c] * gamma[c], b = beta[c] - s->mean[c] * a;
        s->ya[c] = a; s->yb[c] = b;
        for (int i = 0; i < N; i++) {
            const size_t off = ((size_t)i * C + c) * S;
            if (!e->training && i + 1 < N) fetch_row(x + off + (size_t)C * S, S);   /* no statistics pass before */
            gs_affine(x + off, y ? y + off : NULL, r ? r + off : NULL, (size_t)S, a, b);
        }
    }
}

static void bn2d_backward_range(const gs_exec *e, const gs_node *n, bn_state *s, const float *x,
                                const float *dy, float *dx, int relu, int c0, int c1)
{
    const int C = s->C, S = s->S, N = e->N;
    const float M = (float)N * S;
    const float *gamma = e->params + s->w_off;
    float *dgamma = e->grads + s->w_off, *dbeta = e->grads + s->b_off;
    for (int c = c0; c < c1; c++) {
        double sdy, sdyx;
        gs_rows_dot_centered(dy + (size_t)c * S, x + (size_t)c * S, N, (size_t)S, (size_t)C * S, s->mean[c], relu,
                             s->ya[c], s->yb[c], &sdy, &sdyx);
        sdyx *= s->rstd[c];
        if (e->accumulate) { dgamma[c] += (float)sdyx; dbeta[c] += (float)sdy; }
        else { dgamma[c] = (float)sdyx; dbeta[c] = (float)sdy; }
        if (!dx) continue;
        const float r = s->rstd[c], g = gamma[c] * r;
        float ka = g, kb = 0, kc = 0;
        if (e->training) {
            const float k1 = (float)(sdy / M), k2 = (float)(sdyx / M);
            kb = -g * r * k2; kc = -g * k1 + g * r * k2 * s->mean[c];
        }
        for (int i = 0; i < N; i++) {
            const size_t off = ((size_t)i * C + c) * S;
            gs_affine2(dy + off, x + off, dx + off, (size_t)S, ka, kb, kc, relu, s->ya[c], s->yb[c], n->acc[0]);
        }
    }
}

/* BatchNorm2d's threads split the channels evenly (GS_PARALLEL_RANGES aligns its ranges to 16, which
 * for C = 16 gave one thread every channel): a channel is N rows of S values, so ranges of channels
 * share no cache lines of x, y, dx or dy. */
#ifdef _OPENMP
#define BN_CHANNEL_SPLIT(e, C, work, BODY) do { \
    const int C_ = (C); \
    int T_ = (size_t)(work) >= (size_t)GS_PAR_MIN && (e)->threads > 1 ? (e)->threads : 1; \
    if (T_ > C_) T_ = C_; \
    _Pragma("omp parallel num_threads(T_) if (T_ > 1)") \
    { \
        const int t_ = omp_get_thread_num(), nt_ = omp_get_num_threads(); \
        const int lo = (int)((long)C_ * t_ / nt_), hi = (int)((long)C_ * (t_ + 1) / nt_); \
        if (lo < hi) { BODY; } \
    } \
} while (0)
#else
#define BN_CHANNEL_SPLIT(e, C, work, BODY) do { const int lo = 0, hi = (C); (void)(work); if (lo < hi) { BODY; } } while (0)
#endif

/* BatchNorm1d's passes as team jobs (ranges of features) */
typedef struct bn1d_job {
    const gs_exec *e;
    gs_node *n;
    const float *x, *dy;
    float *out, *r;         /* r: the fused relu's output (forward); backward: dy is relu(y)'s gradient */
    int relu;
} bn1d_job;

static void bn1d_forward_job(void *arg, size_t lo, size_t hi)
{
    const bn1d_job *j = arg;
    bn1d_forward_range(j->e, j->n->state, j->x, j->out, j->r, (int)lo, (int)hi);
}

/* A thread's features in blocks of BN1D_BACKWARD_BLOCK: the sums pass reads a block's columns of x and dy
 * (128 rows x 32 features, 32 KB), and the dx pass then finds them in L1, where a whole share (128 features
 * of 256 on 2 threads) left them in L2.  Every feature is computed alone, so the blocks give the same bits.
 * Measured (residual relu+BN mlp-50, batch 128, against whole shares, ABBA rounds): 2 threads 0.96-1.06,
 * median 1.025 over 9 rounds; 1 thread 1.007-1.019 over 4. */
#define BN1D_BACKWARD_BLOCK 32
static void bn1d_backward_job(void *arg, size_t lo, size_t hi)
{
    const bn1d_job *j = arg;
    for (size_t c = lo; c < hi; c += BN1D_BACKWARD_BLOCK) {
        const size_t end = hi - c < BN1D_BACKWARD_BLOCK ? hi : c + BN1D_BACKWARD_BLOCK;
        bn1d_backward_range(j->e, j->n, j->n->state, j->x, j->dy, j->out, j->relu, (int)c, (int)end);
    }
}

/* y = BN(x), and r = relu(y) unless r is NULL; r alone where y is NULL */
static void bn_apply(const gs_exec *e, gs_node *n, const float *x, float *y, float *r)
{
    bn_state *s = n->state;
    const int C = s->C, S = s->S, N = e->N;
    if (S == 1) {
        bn1d_job j = { e, n, x, NULL, y, r, 0 };
        gs_parallel_ranges(e, (size_t)C, (size_t)N * C, bn1d_forward_job, &j);
        return;
    }
    BN_CHANNEL_SPLIT(e, C, (size_t)N * C * S, bn2d_forward_range(e, s, x, y, r, lo, hi));
}

static void bn_forward_cols(const gs_exec *e, gs_node *n, const float *x, float *y, float *r, int c0, int c1)
{
    bn1d_forward_range(e, n->state, x, y, r, c0, c1);
}

static void bn_forward(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y)
{
    (void)x2;
    bn_apply(e, n, x, y, NULL);
}

static void bn_forward_relu(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y, float *r)
{
    (void)x2;
    bn_apply(e, n, x, y, r);
}

/* With x̂ = (x - μ) rstd over M = N*S values per channel:
 * dγ = Σ dy x̂,  dβ = Σ dy,
 * train: dx = γ rstd / M (M dy - Σ dy - x̂ Σ dy x̂);  eval: dx = γ rstd dy. */
static void bn_grad(const gs_exec *e, gs_node *n, const float *x, const float *dy, float *dx, int relu)
{
    bn_state *s = n->state;
    const int C = s->C, S = s->S, N = e->N;
    if (S == 1) {
        bn1d_job j = { e, n, x, dy, dx, NULL, relu };
        gs_parallel_ranges(e, (size_t)C, (size_t)N * C, bn1d_backward_job, &j);
        return;
    }
    BN_CHANNEL_SPLIT(e, C, (size_t)N * C * S, bn2d_backward_range(e, n, s, x, dy, dx, relu, lo, hi));
}

static void bn_backward(const gs_exec *e, gs_node *n, const float *x, const float *x2,
                        const float *y, const float *dy, float *dx, float *dx2)
{
    (void)x2; (void)y; (void)dx2;
    bn_grad(e, n, x, dy, dx, 0);
}

/* dr: the gradient of r = relu(y); the relu's mask comes from y recomputed from x */
static void bn_backward_relu(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                             const float *r, const float *dr, float *dx, float *dx2)
{
    (void)x2; (void)y; (void)r; (void)dx2;
    bn_grad(e, n, x, dr, dx, 1);
}

/* Eval mode: ty = γ rstd tx per channel, rstd of the running variance. */
static void bn_jvp(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                   const float *tx, const float *tx2, float *ty)
{
    bn_state *s = n->state;
    const int C = s->C, S = s->S;
    const float *gamma = e->params + s->w_off, *rvar = e->buffers + s->var_off;
    (void)x; (void)x2; (void)y; (void)tx2;
    for (int i = 0; i < e->N; i++)
        for (int c = 0; c < C; c++) {
            const float a = (float)(1.0 / sqrt((double)rvar[c] + s->eps)) * gamma[c];
            const size_t off = ((size_t)i * C + c) * S;
            for (int k = 0; k < S; k++) ty[off + k] = a * tx[off + k];
        }
}

static const gs_layer_ops bn_ops = { .kind = "batchnorm", .forward = bn_forward, .backward = bn_backward,
                                     .free_state = bn_free, .jvp = bn_jvp, .forward_relu = bn_forward_relu,
                                     .backward_relu = bn_backward_relu, .forward_cols = bn_forward_cols };

int gs_batchnorm_node(gs_ctx *ctx, gs_node *n, int C, int S, int max_batch, size_t w_off,
                      size_t b_off, size_t mean_off, size_t var_off)
{
    (void)max_batch;
    if (C < 1 || S < 1)
        return gs_error(ctx, GS_ESHAPE, "batchnorm: channels and spatial size must be >= 1 (C %d, S %d)", C, S);
    bn_state *s = calloc(1, sizeof *s);
    if (!s) return gs_error(ctx, GS_ENOMEM, "batchnorm: out of memory");
    s->C = C; s->S = S; s->w_off = w_off; s->b_off = b_off; s->mean_off = mean_off; s->var_off = var_off;
    s->momentum = 0.1f; s->eps = 1e-5f;
    s->mean = calloc((size_t)C, sizeof *s->mean);
    s->rstd = calloc((size_t)C, sizeof *s->rstd);
    s->ya = calloc((size_t)C, sizeof *s->ya);
    s->yb = calloc((size_t)C, sizeof *s->yb);
    s->f1 = calloc((size_t)C, sizeof *s->f1);
    s->f2 = calloc((size_t)C, sizeof *s->f2);
    s->f3 = calloc((size_t)C, sizeof *s->f3);
    if (!s->mean || !s->rstd || !s->ya || !s->yb || !s->f1 || !s->f2 || !s->f3) {
        bn_free(s);
        return gs_error(ctx, GS_ENOMEM, "batchnorm: out of memory");
    }
    n->ops = &bn_ops; n->state = s;
    n->team = S == 1;
    n->by_cols = S == 1;
    n->in_features = n->out_features = (int64_t)C * S;
    return GS_OK;
}
