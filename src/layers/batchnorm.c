/* batchnorm.c - BatchNorm1d/2d over x (N, C, S) with S = H*W (S = 1 for 1d).
 *
 * Train: batch statistics (biased variance for normalising), running
 * averages updated with momentum and the unbiased variance, as PyTorch.
 * Eval: running statistics.  The statistics used are kept for backward.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "layers/layer.h"

typedef struct bn_state {
    int C, S;
    size_t w_off, b_off, mean_off, var_off;
    float momentum, eps;
    float *mean, *rstd;     /* (C) statistics used by the last forward */
    double *acc1, *acc2;    /* (C) scratch for the reductions */
    float *f1, *f2, *f3;    /* (C) scratch for the S == 1 fast path */
} bn_state;

/* BatchNorm1d (S == 1): loops run along C so they vectorise. */
static void bn1d_stats(bn_state *s, const float *x, int N)
{
    const int C = s->C;
    float *sum = s->f1, *sq = s->f2;
    memset(sum, 0, (size_t)C * sizeof *sum);
    memset(sq, 0, (size_t)C * sizeof *sq);
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C;
        for (int c = 0; c < C; c++) sum[c] += xr[c];
    }
    for (int c = 0; c < C; c++) sum[c] /= (float)N;
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C;
        for (int c = 0; c < C; c++) { float d = xr[c] - sum[c]; sq[c] += d * d; }
    }
}

static void bn1d_sums(bn_state *s, const float *x, const float *dy, int N)
{
    const int C = s->C;
    float *sdy = s->f1, *sdyx = s->f2;
    memset(sdy, 0, (size_t)C * sizeof *sdy);
    memset(sdyx, 0, (size_t)C * sizeof *sdyx);
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C, *dr = dy + (size_t)i * C;
        for (int c = 0; c < C; c++) {
            sdy[c] += dr[c];
            sdyx[c] += dr[c] * (xr[c] - s->mean[c]);
        }
    }
    for (int c = 0; c < C; c++) sdyx[c] *= s->rstd[c];
}

static void bn_free(void *p)
{
    bn_state *s = p;
    if (!s) return;
    free(s->mean); free(s->rstd); free(s->acc1); free(s->acc2); free(s->f1); free(s->f2); free(s->f3);
    free(s);
}

static void bn_forward(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y)
{
    bn_state *s = n->state;
    const int C = s->C, S = s->S, N = e->N;
    const float *gamma = e->params + s->w_off, *beta = e->params + s->b_off;
    float *rmean = e->buffers + s->mean_off, *rvar = e->buffers + s->var_off;
    (void)x2;
    if (e->training && S == 1) {
        bn1d_stats(s, x, N);
        for (int c = 0; c < C; c++) {
            float var = s->f2[c] / (float)N;
            s->mean[c] = s->f1[c];
            s->rstd[c] = 1.0f / sqrtf(var + s->eps);
            if (e->freeze_stats) continue;
            rmean[c] = (1.0f - s->momentum) * rmean[c] + s->momentum * s->f1[c];
            rvar[c] = (1.0f - s->momentum) * rvar[c] + s->momentum * (N > 1 ? s->f2[c] / (float)(N - 1) : var);
        }
    } else if (e->training) {
        const double M = (double)N * S;
        double *sum = s->acc1, *sq = s->acc2;
        memset(sum, 0, (size_t)C * sizeof *sum);
        memset(sq, 0, (size_t)C * sizeof *sq);
        for (int i = 0; i < N; i++)
            for (int c = 0; c < C; c++) {
                const float *xc = x + ((size_t)i * C + c) * S;
                double a = 0;
                for (int k = 0; k < S; k++) a += xc[k];
                sum[c] += a;
            }
        for (int c = 0; c < C; c++) sum[c] /= M;
        for (int i = 0; i < N; i++)
            for (int c = 0; c < C; c++) {
                const float *xc = x + ((size_t)i * C + c) * S;
                double a = 0, mu = sum[c];
                for (int k = 0; k < S; k++) a += (xc[k] - mu) * (xc[k] - mu);
                sq[c] += a;
            }
        for (int c = 0; c < C; c++) {
            double var = sq[c] / M;
            s->mean[c] = (float)sum[c];
            s->rstd[c] = (float)(1.0 / sqrt(var + s->eps));
            if (e->freeze_stats) continue;
            rmean[c] = (1.0f - s->momentum) * rmean[c] + s->momentum * (float)sum[c];
            rvar[c] = (1.0f - s->momentum) * rvar[c] + s->momentum * (float)(M > 1 ? sq[c] / (M - 1) : var);
        }
    } else {
        for (int c = 0; c < C; c++) {
            s->mean[c] = rmean[c];
            s->rstd[c] = (float)(1.0 / sqrt((double)rvar[c] + s->eps));
        }
    }
    if (S == 1) {
        float *scale = s->f1, *shift = s->f2;
        for (int c = 0; c < C; c++) {
            scale[c] = s->rstd[c] * gamma[c];
            shift[c] = beta[c] - s->mean[c] * scale[c];
        }
        for (int i = 0; i < N; i++) {
            const float *xr = x + (size_t)i * C;
            float *yr = y + (size_t)i * C;
            for (int c = 0; c < C; c++) yr[c] = xr[c] * scale[c] + shift[c];
        }
        return;
    }
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) {
            const size_t off = ((size_t)i * C + c) * S;
            const float mu = s->mean[c], scale = s->rstd[c] * gamma[c], shift = beta[c];
            for (int k = 0; k < S; k++) y[off + k] = (x[off + k] - mu) * scale + shift;
        }
}

/* With x̂ = (x - μ) rstd over M = N*S values per channel:
 * dγ = Σ dy x̂,  dβ = Σ dy,
 * train: dx = γ rstd / M (M dy - Σ dy - x̂ Σ dy x̂);  eval: dx = γ rstd dy. */
static void bn_backward(const gs_exec *e, gs_node *n, const float *x, const float *x2,
                        const float *y, const float *dy, float *dx, float *dx2)
{
    bn_state *s = n->state;
    const int C = s->C, S = s->S, N = e->N;
    const float *gamma = e->params + s->w_off;
    float *dgamma = e->grads + s->w_off, *dbeta = e->grads + s->b_off;
    double *sdy = s->acc1, *sdyx = s->acc2;
    (void)x2; (void)y; (void)dx2;
    if (S == 1) {
        bn1d_sums(s, x, dy, N);
        for (int c = 0; c < C; c++) { sdy[c] = s->f1[c]; sdyx[c] = s->f2[c]; }
    } else {
    memset(sdy, 0, (size_t)C * sizeof *sdy);
    memset(sdyx, 0, (size_t)C * sizeof *sdyx);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) {
            const size_t off = ((size_t)i * C + c) * S;
            const float mu = s->mean[c], r = s->rstd[c];
            double a = 0, b = 0;
            for (int k = 0; k < S; k++) {
                a += dy[off + k];
                b += dy[off + k] * (x[off + k] - mu) * r;
            }
            sdy[c] += a; sdyx[c] += b;
        }
    }
    for (int c = 0; c < C; c++) {
        if (e->accumulate) { dgamma[c] += (float)sdyx[c]; dbeta[c] += (float)sdy[c]; }
        else { dgamma[c] = (float)sdyx[c]; dbeta[c] = (float)sdy[c]; }
    }
    if (!dx) return;
    const float M = (float)N * S;
    if (S == 1) {
        /* dx = a_c dy + b_c x + c_c, coefficients per channel */
        float *ka = s->f1, *kb = s->f2, *kc = s->f3;
        for (int c = 0; c < C; c++) {
            const float r = s->rstd[c], g = gamma[c] * r;
            if (e->training) {
                const float k1 = (float)(sdy[c] / M), k2 = (float)(sdyx[c] / M);
                ka[c] = g; kb[c] = -g * r * k2; kc[c] = -g * k1 + g * r * k2 * s->mean[c];
            } else {
                ka[c] = g; kb[c] = 0; kc[c] = 0;
            }
        }
        for (int i = 0; i < N; i++) {
            const float *xr = x + (size_t)i * C, *dr = dy + (size_t)i * C;
            float *o = dx + (size_t)i * C;
            if (n->acc[0]) for (int c = 0; c < C; c++) o[c] += ka[c] * dr[c] + kb[c] * xr[c] + kc[c];
            else for (int c = 0; c < C; c++) o[c] = ka[c] * dr[c] + kb[c] * xr[c] + kc[c];
        }
        return;
    }
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) {
            const size_t off = ((size_t)i * C + c) * S;
            const float mu = s->mean[c], r = s->rstd[c], g = gamma[c] * r;
            if (e->training) {
                const float k1 = (float)(sdy[c] / M), k2 = (float)(sdyx[c] / M);
                if (n->acc[0])
                    for (int k = 0; k < S; k++) dx[off + k] += g * (dy[off + k] - k1 - (x[off + k] - mu) * r * k2);
                else
                    for (int k = 0; k < S; k++) dx[off + k] = g * (dy[off + k] - k1 - (x[off + k] - mu) * r * k2);
            } else {
                if (n->acc[0]) for (int k = 0; k < S; k++) dx[off + k] += g * dy[off + k];
                else for (int k = 0; k < S; k++) dx[off + k] = g * dy[off + k];
            }
        }
}

static const gs_layer_ops bn_ops = { "batchnorm", bn_forward, bn_backward, bn_free };

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
    s->acc1 = calloc((size_t)C, sizeof *s->acc1);
    s->acc2 = calloc((size_t)C, sizeof *s->acc2);
    s->f1 = calloc((size_t)C, sizeof *s->f1);
    s->f2 = calloc((size_t)C, sizeof *s->f2);
    s->f3 = calloc((size_t)C, sizeof *s->f3);
    if (!s->mean || !s->rstd || !s->acc1 || !s->acc2 || !s->f1 || !s->f2 || !s->f3) {
        bn_free(s);
        return gs_error(ctx, GS_ENOMEM, "batchnorm: out of memory");
    }
    n->ops = &bn_ops; n->state = s;
    n->in_features = n->out_features = (int64_t)C * S;
    return GS_OK;
}
