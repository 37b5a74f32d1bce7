/* residual.c - the residual addition y = a + alpha * b, with alpha = 1 or a
 * learned scalar (ReZero's alphas.{b}). */
#include <stdlib.h>
#include <string.h>
#include "layers/layer.h"

typedef struct add_state { size_t alpha_off; } add_state;

static void add_forward(const gs_exec *e, gs_node *n, const float *a, const float *b, float *y)
{
    add_state *s = n->state;
    const size_t len = (size_t)e->N * (size_t)n->in_features;
    const float alpha = s->alpha_off == GS_NO_OFFSET ? 1.0f : e->params[s->alpha_off];
    GS_PARALLEL_RANGES(e, len, { for (size_t i = lo; i < hi; i++) y[i] = a[i] + alpha * b[i]; });
}

/* da = dy;  db = alpha dy;  dalpha = Σ dy b */
static void add_backward(const gs_exec *e, gs_node *n, const float *a, const float *b,
                         const float *y, const float *dy, float *da, float *db)
{
    add_state *s = n->state;
    const size_t len = (size_t)e->N * (size_t)n->in_features;
    const float alpha = s->alpha_off == GS_NO_OFFSET ? 1.0f : e->params[s->alpha_off];
    (void)a; (void)y;
    if (s->alpha_off != GS_NO_OFFSET) {
        double acc = 0;
        for (size_t i = 0; i < len; i++) acc += (double)dy[i] * b[i];
        float *dalpha = e->grads + s->alpha_off;
        *dalpha = e->accumulate ? *dalpha + (float)acc : (float)acc;
    }
    const int acc_a = n->acc[0], acc_b = n->acc[1];
    GS_PARALLEL_RANGES(e, len, {
        if (da) {
            if (acc_a) for (size_t i = lo; i < hi; i++) da[i] += dy[i];
            else if (da != dy) memcpy(da + lo, dy + lo, (hi - lo) * sizeof *da);
        }
        if (db) {
            if (acc_b) for (size_t i = lo; i < hi; i++) db[i] += alpha * dy[i];
            else for (size_t i = lo; i < hi; i++) db[i] = alpha * dy[i];
        }
    });
}

/* ty = ta + alpha tb */
static void add_jvp(const gs_exec *e, gs_node *n, const float *a, const float *b, const float *y,
                    const float *ta, const float *tb, float *ty)
{
    (void)a; (void)b; (void)y;
    if (tb) { add_forward(e, n, ta, tb, ty); return; }
    const size_t len = (size_t)e->N * (size_t)n->in_features;
    if (ty != ta) memcpy(ty, ta, len * sizeof *ty);
}

static const gs_layer_ops add_ops = { "add", add_forward, add_backward, free, add_jvp, NULL };

int gs_add_node(gs_ctx *ctx, gs_node *n, int64_t F, size_t alpha_off)
{
    add_state *s = calloc(1, sizeof *s);
    if (!s) return gs_error(ctx, GS_ENOMEM, "residual add: out of memory");
    s->alpha_off = alpha_off;
    n->ops = &add_ops; n->state = s;
    n->in_features = n->out_features = F;
    return GS_OK;
}
