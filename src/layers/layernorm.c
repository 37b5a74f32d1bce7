/* layernorm.c - LayerNorm over the F features of each sample (eps 1e-5),
 * elementwise weight and bias, as PyTorch's nn.LayerNorm(F). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "layers/layer.h"

typedef struct ln_state {
    int F;
    size_t w_off, b_off;
    float eps;
    float *mean, *rstd;     /* (max_batch) per-sample statistics of the last forward */
} ln_state;

static void ln_free(void *p)
{
    ln_state *s = p;
    if (!s) return;
    free(s->mean); free(s->rstd); free(s);
}

static void ln_forward(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y)
{
    ln_state *s = n->state;
    const int F = s->F;
    const float *gamma = e->params + s->w_off, *beta = e->params + s->b_off;
    (void)x2;
    for (int i = 0; i < e->N; i++) {
        const float *xr = x + (size_t)i * F;
        float *yr = y + (size_t)i * F;
        double sum = 0, sq = 0;
        for (int f = 0; f < F; f++) sum += xr[f];
        const double mu = sum / F;
        for (int f = 0; f < F; f++) sq += (xr[f] - mu) * (xr[f] - mu);
        const float m = (float)mu, r = (float)(1.0 / sqrt(sq / F + s->eps));
        s->mean[i] = m; s->rstd[i] = r;
        for (int f = 0; f < F; f++) yr[f] = (xr[f] - m) * r * gamma[f] + beta[f];
    }
}

/* g = dy γ:  dx = rstd (g - mean(g) - x̂ mean(g x̂));  dγ = Σ dy x̂;  dβ = Σ dy */
static void ln_backward(const gs_exec *e, gs_node *n, const float *x, const float *x2,
                        const float *y, const float *dy, float *dx, float *dx2)
{
    ln_state *s = n->state;
    const int F = s->F;
    const float *gamma = e->params + s->w_off;
    float *dgamma = e->grads + s->w_off, *dbeta = e->grads + s->b_off;
    (void)x2; (void)y; (void)dx2;
    if (!e->accumulate) {
        memset(dgamma, 0, (size_t)F * sizeof *dgamma);
        memset(dbeta, 0, (size_t)F * sizeof *dbeta);
    }
    for (int i = 0; i < e->N; i++) {
        const float *xr = x + (size_t)i * F, *dr = dy + (size_t)i * F;
        const float m = s->mean[i], r = s->rstd[i];
        double sg = 0, sgx = 0;
        for (int f = 0; f < F; f++) {
            const float xh = (xr[f] - m) * r, g = dr[f] * gamma[f];
            dgamma[f] += dr[f] * xh;
            dbeta[f] += dr[f];
            sg += g; sgx += g * xh;
        }
        if (!dx) continue;
        const float k1 = (float)(sg / F), k2 = (float)(sgx / F);
        float *o = dx + (size_t)i * F;
        for (int f = 0; f < F; f++) {
            const float v = r * (dr[f] * gamma[f] - k1 - (xr[f] - m) * r * k2);
            o[f] = n->acc[0] ? o[f] + v : v;
        }
    }
}

/* tx̂ = rstd (tx - mean(tx) - x̂ mean(x̂ tx));  ty = γ tx̂ (statistics of the last forward) */
static void ln_jvp(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                   const float *tx, const float *tx2, float *ty)
{
    ln_state *s = n->state;
    const int F = s->F;
    const float *gamma = e->params + s->w_off;
    (void)x2; (void)y; (void)tx2;
    for (int i = 0; i < e->N; i++) {
        const float *xr = x + (size_t)i * F, *tr = tx + (size_t)i * F;
        const float m = s->mean[i], r = s->rstd[i];
        double st = 0, stx = 0;
        for (int f = 0; f < F; f++) { st += tr[f]; stx += (double)tr[f] * ((xr[f] - m) * r); }
        const float k1 = (float)(st / F), k2 = (float)(stx / F);
        float *o = ty + (size_t)i * F;
        for (int f = 0; f < F; f++) o[f] = gamma[f] * r * (tr[f] - k1 - (xr[f] - m) * r * k2);
    }
}

static const gs_layer_ops ln_ops = { .kind = "layernorm", .forward = ln_forward, .backward = ln_backward,
                                     .free_state = ln_free, .jvp = ln_jvp };

int gs_layernorm_node(gs_ctx *ctx, gs_node *n, int F, int max_batch, size_t w_off, size_t b_off)
{
    if (F < 1 || max_batch < 1)
        return gs_error(ctx, GS_ESHAPE, "layernorm: features and batch must be >= 1 (F %d)", F);
    ln_state *s = calloc(1, sizeof *s);
    if (!s) return gs_error(ctx, GS_ENOMEM, "layernorm: out of memory");
    s->F = F; s->w_off = w_off; s->b_off = b_off; s->eps = 1e-5f;
    s->mean = calloc((size_t)max_batch, sizeof *s->mean);
    s->rstd = calloc((size_t)max_batch, sizeof *s->rstd);
    if (!s->mean || !s->rstd) {
        ln_free(s);
        return gs_error(ctx, GS_ENOMEM, "layernorm: out of memory");
    }
    n->ops = &ln_ops; n->state = s;
    n->in_features = n->out_features = F;
    return GS_OK;
}
