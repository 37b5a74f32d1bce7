/* residual.c - the residual addition y = a + alpha * b, with alpha = 1 or a
 * learned scalar (ReZero's alphas.{b}). */
#include <stdlib.h>
#include <string.h>
#include "layers/layer.h"

typedef struct add_state { size_t alpha_off; } add_state;

typedef struct add_job {
    const float *a, *b, *dy;
    float *y, *da, *db;
    float alpha;
    int acc_a, acc_b;
} add_job;

static void add_forward_range(void *arg, size_t lo, size_t hi)
{
    const add_job *j = arg;
    const float *a = j->a, *b = j->b, alpha = j->alpha;
    float *y = j->y;
    for (size_t i = lo; i < hi; i++) y[i] = a[i] + alpha * b[i];
}

static void add_backward_range(void *arg, size_t lo, size_t hi)
{
    const add_job *j = arg;
    const float *dy = j->dy, alpha = j->alpha;
    float *da = j->da, *db = j->db;
    if (da) {
        if (j->acc_a) for (size_t i = lo; i < hi; i++) da[i] += dy[i];
        else if (da != dy) memcpy(da + lo, dy + lo, (hi - lo) * sizeof *da);
    }
    if (db) {
        if (j->acc_b) for (size_t i = lo; i < hi; i++) db[i] += alpha * dy[i];
        else for (size_t i = lo; i < hi; i++) db[i] = alpha * dy[i];
    }
}

static void add_forward(const gs_exec *e, gs_node *n, const float *a, const float *b, float *y)
{
    add_state *s = n->state;
    const size_t len = (size_t)e->N * (size_t)n->in_features;
    add_job j = { a, b, NULL, y, NULL, NULL, s->alpha_off == GS_NO_OFFSET ? 1.0f : e->params[s->alpha_off], 0, 0 };
    gs_parallel_ranges(e, len, len, add_forward_range, &j);
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
    add_job j = { NULL, b, dy, NULL, da, db, alpha, n->acc[0], n->acc[1] };
    gs_parallel_ranges(e, len, len, add_backward_range, &j);
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
    n->team = 1;
    n->in_features = n->out_features = F;
    return GS_OK;
}
