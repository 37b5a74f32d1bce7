/* linear.c - y = x W^T + b, PyTorch's nn.Linear (W is (O, I)).
 * Does not own W or b: they are offsets into the model's flat blocks. */
#include <stdlib.h>
#include <string.h>
#include "layers/layer.h"

typedef struct linear_state {
    int in_features, out_features;
    size_t w_off, b_off;    /* b_off == GS_NO_OFFSET: no bias */
} linear_state;

/* db = Σ over the batch of dy for the features [lo, hi), each summed in batch order, split among
 * the threads by features */
typedef struct bias_job {
    int N, O, accumulate;
    const float *dy;
    float *db;
} bias_job;

static void bias_grad_range(void *arg, size_t lo, size_t hi)
{
    const bias_job *j = arg;
    float *db = j->db;
    if (!j->accumulate) memset(db + lo, 0, (hi - lo) * sizeof *db);
    for (int i = 0; i < j->N; i++) {
        const float *row = j->dy + (size_t)i * (size_t)j->O;
        for (size_t o = lo; o < hi; o++) db[o] += row[o];
    }
}

static void linear_forward(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y)
{
    linear_state *s = n->state;
    const int I = s->in_features, O = s->out_features, N = e->N;
    (void)x2;
    const float *w = e->params + s->w_off;  /* (O, I) */
    if (s->b_off != GS_NO_OFFSET) {   /* the bias added as the product is stored */
        e->be->sgemm_bias(0, 1, N, O, I, x, I, w, I, e->params + s->b_off, y, O, e->threads);
    } else {
        e->be->sgemm(0, 1, N, O, I, 1.0f, x, I, w, I, 0.0f, y, O, e->threads);
    }
}

/* r = act(x W^T + b), y left unwritten: each thread applies act to the panels of its share of the
 * product as it finishes them, in place in r */
static void linear_forward_act(const gs_exec *e, gs_node *n, const float *x, const float *x2, gs_act act, float *r)
{
    linear_state *s = n->state;
    const int I = s->in_features, O = s->out_features;
    (void)x2;
    e->be->sgemm_act(0, 1, e->N, O, I, x, I, e->params + s->w_off, I,
                     s->b_off != GS_NO_OFFSET ? e->params + s->b_off : NULL, act, r, O, e->threads);
}

/* dW = dy^T x;  db = sum over the batch of dy */
static void linear_param_grads(const gs_exec *e, const linear_state *s, const float *x, const float *dy)
{
    const int I = s->in_features, O = s->out_features, N = e->N;
    e->be->sgemm(1, 0, O, I, N, 1.0f, dy, O, x, I, e->accumulate ? 1.0f : 0.0f, e->grads + s->w_off, I, e->threads);
    if (s->b_off != GS_NO_OFFSET) {
        bias_job j = { N, O, e->accumulate, dy, e->grads + s->b_off };
        gs_parallel_ranges(e, (size_t)O, (size_t)N * (size_t)O, bias_grad_range, &j);
    }
}

/* dx = dy W, and the parameters' gradients */
static void linear_backward(const gs_exec *e, gs_node *n, const float *x, const float *x2,
                            const float *y, const float *dy, float *dx, float *dx2)
{
    linear_state *s = n->state;
    const int I = s->in_features, O = s->out_features;
    (void)x2; (void)y; (void)dx2;
    linear_param_grads(e, s, x, dy);
    if (dx) e->be->sgemm(0, 0, e->N, I, O, 1.0f, dy, O, e->params + s->w_off, I, n->acc[0] ? 1.0f : 0.0f, dx, I,
                         e->threads);
}

typedef struct next_job {
    const gs_exec *e;
    gs_node *next;
    const float *y;
    float *ny, *nr;
} next_job;

static void next_cols(void *arg, int c0, int c1)
{
    const next_job *j = arg;
    j->next->ops->forward_cols(j->e, j->next, j->y, j->ny, j->nr, c0, c1);
}

/* y = x W^T + b, and next's forward on each range of y's features as it is done */
static void linear_forward_next(const gs_exec *e, gs_node *n, const float *x, gs_node *next, float *y, float *ny,
                                float *nr)
{
    linear_state *s = n->state;
    const int I = s->in_features, O = s->out_features;
    next_job j = { e, next, y, ny, nr };
    e->be->sgemm_cols(0, 1, e->N, O, I, x, I, e->params + s->w_off, I,
                      s->b_off != GS_NO_OFFSET ? e->params + s->b_off : NULL, y, O, e->threads, next_cols, &j);
}

/* linear_backward with dx = dy W, written to dh, followed by dz = dx * act'(x) for the sigmoid or tanh
 * whose output x is: each thread on the panels of dx it computes */
static void linear_backward_act(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                                const float *dy, gs_act act, float *dh, float *dz)
{
    linear_state *s = n->state;
    const int I = s->in_features, O = s->out_features;
    (void)x2; (void)y;
    linear_param_grads(e, s, x, dy);
    e->be->sgemm_dact(0, 0, e->N, I, O, dy, O, e->params + s->w_off, I, act, x, dh, dz, I, e->threads);
}

/* ty = tx W^T (the bias is constant) */
static void linear_jvp(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                       const float *tx, const float *tx2, float *ty)
{
    linear_state *s = n->state;
    const int I = s->in_features, O = s->out_features;
    (void)x; (void)x2; (void)y; (void)tx2;
    e->be->sgemm(0, 1, e->N, O, I, 1.0f, tx, I, e->params + s->w_off, I, 0.0f, ty, O, e->threads);
}

static const gs_layer_ops linear_ops = { .kind = "linear", .forward = linear_forward, .backward = linear_backward,
                                         .free_state = free, .jvp = linear_jvp, .forward_act = linear_forward_act,
                                         .backward_act = linear_backward_act,
                                         .forward_next = linear_forward_next };

int gs_linear_node(gs_ctx *ctx, gs_node *n, int in_f, int out_f, size_t w_off, size_t b_off)
{
    if (in_f < 1 || out_f < 1)
        return gs_error(ctx, GS_ESHAPE, "linear: features must be >= 1 (in %d, out %d)", in_f, out_f);
    linear_state *s = calloc(1, sizeof *s);
    if (!s) return gs_error(ctx, GS_ENOMEM, "linear: out of memory");
    s->in_features = in_f; s->out_features = out_f; s->w_off = w_off; s->b_off = b_off;
    n->ops = &linear_ops; n->state = s;
    n->team = 1;
    n->in_features = in_f; n->out_features = out_f;
    n->macs = (int64_t)in_f * out_f;
    return GS_OK;
}
