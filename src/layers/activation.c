/* activation.c - the activation layer: y = act(x) elementwise.  The math is
 * the backend's (kernels/cpu/act.c); this file only wires shapes. */
#include <stdlib.h>
#include "layers/layer.h"

typedef struct act_state { gs_act act; } act_state;

typedef struct act_job {
    const gs_exec *e;
    gs_act act;
    int accumulate;
    const float *x, *y, *dy;
    float *out;
} act_job;

static void act_forward_range(void *arg, size_t lo, size_t hi)
{
    const act_job *j = arg;
    j->e->be->act_forward(j->act, j->x + lo, j->out + lo, hi - lo);
}

static void act_backward_range(void *arg, size_t lo, size_t hi)
{
    const act_job *j = arg;
    j->e->be->act_backward(j->act, j->x + lo, j->y + lo, j->dy + lo, j->out + lo, hi - lo, j->accumulate);
}

static void act_forward(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y)
{
    act_state *s = n->state;
    (void)x2;
    const size_t len = (size_t)e->N * (size_t)n->in_features;
    act_job j = { e, s->act, 0, x, NULL, NULL, y };
    gs_parallel_ranges(e, len, len, act_forward_range, &j);
}

/* dx = dy * act'(x) */
static void act_backward(const gs_exec *e, gs_node *n, const float *x, const float *x2,
                         const float *y, const float *dy, float *dx, float *dx2)
{
    act_state *s = n->state;
    (void)x2; (void)dx2;
    if (!dx) return;
    const size_t len = (size_t)e->N * (size_t)n->in_features;
    act_job j = { e, s->act, n->acc[0], x, y, dy, dx };
    gs_parallel_ranges(e, len, len, act_backward_range, &j);
}

/* ty = act'(x) tx: the Jacobian is diagonal, so backward's product is this one */
static void act_jvp(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                    const float *tx, const float *tx2, float *ty)
{
    act_state *s = n->state;
    (void)x2; (void)tx2;
    GS_PARALLEL_RANGES(e, (size_t)e->N * (size_t)n->in_features,
                       e->be->act_backward(s->act, x + lo, y + lo, tx + lo, ty + lo, hi - lo, 0));
}

static const gs_layer_ops act_ops = { .kind = "activation", .forward = act_forward, .backward = act_backward,
                                      .free_state = free, .jvp = act_jvp };

int gs_act_node(gs_ctx *ctx, gs_node *n, gs_act act, int64_t F)
{
    if ((int)act < 0 || act >= GS_ACT_COUNT)
        return gs_error(ctx, GS_EINVAL, "activation: unknown kind %d", (int)act);
    act_state *s = calloc(1, sizeof *s);
    if (!s) return gs_error(ctx, GS_ENOMEM, "activation: out of memory");
    s->act = act;
    n->ops = &act_ops; n->state = s;
    n->team = 1;
    n->in_features = n->out_features = F;
    return GS_OK;
}

int gs_act_node_act(const gs_node *n)
{
    return n->ops == &act_ops ? (int)((const act_state *)n->state)->act : -1;
}

int gs_act_node_is_relu(const gs_node *n)
{
    return n->ops == &act_ops && ((const act_state *)n->state)->act == GS_ACT_RELU;
}
