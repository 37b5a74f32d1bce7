/* residual.c - the residual addition y = a + alpha * b, with alpha = 1 or a
 * learned scalar (ReZero's alphas.{b}), and the post blocks' relu after it
 * when the model fuses the two (forward_relu, backward_relu). */
#include <stdlib.h>
#include <string.h>
#include "layers/layer.h"
#include "kernels/cpu/simd.h"

typedef struct add_state { size_t alpha_off; } add_state;

typedef struct add_job {
    const float *a, *b, *dy;
    float *y, *da, *db;
    const float *z;         /* backward with the relu: y = a + alpha b, dy is the gradient of relu(y) */
    float *r;               /* forward with the relu: relu(y) */
    float alpha;
    int acc_a, acc_b;
} add_job;

static void add_forward_range(void *arg, size_t lo, size_t hi)
{
    const add_job *j = arg;
    const float *a = j->a, *b = j->b, alpha = j->alpha;
    float *y = j->y;
    float *r = j->r;
    if (r && y)
        for (size_t i = lo; i < hi; i++) {
            const float v = a[i] + alpha * b[i];
            y[i] = v;
            r[i] = gs_relu(v);
        }
    else if (r)
        for (size_t i = lo; i < hi; i++) r[i] = gs_relu(a[i] + alpha * b[i]);
    else
        for (size_t i = lo; i < hi; i++) y[i] = a[i] + alpha * b[i];
}

/* The backward with the fused relu (z = y or r = relu(y), the same mask; dy the gradient of r), in explicit
 * vectors: da or db may be the same buffer as dr, element for element, which would send a
 * compiler-vectorised loop down its scalar path. */
GS_CLONES static void add_relu_backward_range(const add_job *j, size_t lo, size_t hi)
{
    const float *dr = j->dy, *z = j->z, alpha = j->alpha;
    float *da = j->da, *db = j->db;
    const int acc_a = j->acc_a, acc_b = j->acc_b;
    size_t i = lo;
    for (; i + GS_LANES <= hi; i += GS_LANES) {
        const gs_vf g = GS_RELU_GRAD_V(GS_VLOAD(z + i), GS_VLOAD(dr + i));
        if (da) { gs_vf v = g; if (acc_a) v += GS_VLOAD(da + i); GS_VSTORE(da + i, v); }
        if (db) { gs_vf v = alpha * g; if (acc_b) v += GS_VLOAD(db + i); GS_VSTORE(db + i, v); }
    }
    for (; i < hi; i++) {
        const float g = gs_relu_grad(z[i], dr[i]);
        if (da) da[i] = acc_a ? da[i] + g : g;
        if (db) db[i] = acc_b ? db[i] + alpha * g : alpha * g;
    }
}

static void add_backward_range(void *arg, size_t lo, size_t hi)
{
    const add_job *j = arg;
    const float *dy = j->dy, alpha = j->alpha;
    float *da = j->da, *db = j->db;
    if (j->z) { add_relu_backward_range(j, lo, hi); return; }
    if (da) {
        if (j->acc_a) for (size_t i = lo; i < hi; i++) da[i] += dy[i];
        else if (da != dy) memcpy(da + lo, dy + lo, (hi - lo) * sizeof *da);
    }
    if (db) {
        if (j->acc_b) for (size_t i = lo; i < hi; i++) db[i] += alpha * dy[i];
        else for (size_t i = lo; i < hi; i++) db[i] = alpha * dy[i];
    }
}

static float add_alpha(const gs_exec *e, const add_state *s)
{
    return s->alpha_off == GS_NO_OFFSET ? 1.0f : e->params[s->alpha_off];
}

/* y = a + alpha b, and r = relu(y) unless r is NULL; r alone where y is NULL */
static void add_forward_relu(const gs_exec *e, gs_node *n, const float *a, const float *b, float *y, float *r)
{
    const size_t len = (size_t)e->N * (size_t)n->in_features;
    add_job j = { a, b, NULL, y, NULL, NULL, NULL, r, add_alpha(e, n->state), 0, 0 };
    gs_parallel_ranges(e, len, len, add_forward_range, &j);
}

static void add_forward(const gs_exec *e, gs_node *n, const float *a, const float *b, float *y)
{
    add_forward_relu(e, n, a, b, y, NULL);
}

/* da = dy;  db = alpha dy;  dalpha = Σ dy b.  With z (the fused relu), dy = relu'(z) dr. */
static void add_grad(const gs_exec *e, gs_node *n, const float *b, const float *z, const float *dy, float *da,
                     float *db)
{
    add_state *s = n->state;
    const size_t len = (size_t)e->N * (size_t)n->in_features;
    const float alpha = add_alpha(e, s);
    if (s->alpha_off != GS_NO_OFFSET) {
        double acc = 0;
        for (size_t i = 0; i < len; i++) acc += (double)(z ? gs_relu_grad(z[i], dy[i]) : dy[i]) * b[i];
        float *dalpha = e->grads + s->alpha_off;
        *dalpha = e->accumulate ? *dalpha + (float)acc : (float)acc;
    }
    add_job j = { NULL, b, dy, NULL, da, db, z, NULL, alpha, n->acc[0], n->acc[1] };
    gs_parallel_ranges(e, len, len, add_backward_range, &j);
}

static void add_backward(const gs_exec *e, gs_node *n, const float *a, const float *b,
                         const float *y, const float *dy, float *da, float *db)
{
    (void)a; (void)y;
    add_grad(e, n, b, NULL, dy, da, db);
}

/* The mask from r = relu(y): r <= 0 exactly where y <= 0 (-0 and NaN included), so y may be stale. */
static void add_backward_relu(const gs_exec *e, gs_node *n, const float *a, const float *b, const float *y,
                              const float *r, const float *dr, float *da, float *db)
{
    (void)a; (void)y;
    add_grad(e, n, b, r, dr, da, db);
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

static const gs_layer_ops add_ops = { .kind = "add", .forward = add_forward, .backward = add_backward,
                                      .free_state = free, .jvp = add_jvp, .forward_relu = add_forward_relu,
                                      .backward_relu = add_backward_relu };

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
