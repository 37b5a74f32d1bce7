/* layer.h - what every layer kind implements, and what a layer sees of a step.
 *
 * A network is a list of nodes over numbered values (activations).  Each
 * node has one kind (an ops table) and its own small state struct.  Layers
 * own shapes, parameter offsets and the state kept for backward; they reach
 * their math through the backend table and never allocate during a step.
 * Backward of parameters: accumulate into the gradient block when
 * exec->accumulate is set, else overwrite (the lazy form of zero_grad).
 */
#ifndef GS_LAYER_H
#define GS_LAYER_H
#include <stddef.h>
#include <stdint.h>
#include "core.h"
#include "kernels/backend.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define GS_NO_OFFSET ((size_t)-1)

typedef struct gs_exec {
    const gs_backend *be;
    int threads;
    int N;                 /* samples in this batch */
    int training;          /* batch statistics + running averages */
    int freeze_stats;      /* with training: leave the running averages alone */
    int accumulate;        /* parameter gradients: += (1) or = (0) */
    float *params;         /* flat parameter block */
    float *grads;          /* flat gradient block, same layout */
    float *buffers;        /* running statistics */
} gs_exec;

typedef struct gs_node gs_node;

typedef struct gs_layer_ops {
    const char *kind;
    /* y = f(x[, x2]); x: (N, in_features), y: (N, out_features) */
    void (*forward)(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y);
    /* dx (and dx2) from dy; dx or dx2 NULL when that input needs no gradient;
     * n->acc[i] says whether to add into dx/dx2 or overwrite. */
    void (*backward)(const gs_exec *e, gs_node *n, const float *x, const float *x2,
                     const float *y, const float *dy, float *dx, float *dx2);
    void (*free_state)(void *state);
    /* Forward-mode product (eval mode, at the point x of the last forward):
     * ty = (∂y/∂x) tx + (∂y/∂x2) tx2, tx2 NULL meaning zero.  NULL where the
     * kind has none (max pool); never touches parameter gradients. */
    void (*jvp)(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                const float *tx, const float *tx2, float *ty);
    /* Hand the node its scratch area (n->work_floats floats, 64-byte aligned), shared with the other
     * nodes of its model: nothing in it outlives one forward or backward call.  NULL: no scratch. */
    void (*set_work)(gs_node *n, float *work);
    /* A relu right after the node, in the node's own passes (NULL where the kind has none).  The model
     * uses them when the relu is the only consumer of y (gs_model_finish): forward_relu writes y and
     * r = relu(y), bit for bit what forward then the relu node write, or r alone where y is NULL;
     * backward_relu takes dr, the gradient of r, and gives what the relu's backward then this node's
     * would, without writing y's gradient and without reading y, which it may be given stale (dx may be
     * the same buffer as dr). */
    void (*forward_relu)(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y, float *r);
    void (*backward_relu)(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                          const float *r, const float *dr, float *dx, float *dx2);
    /* A sigmoid or tanh right after the node, whose backward reads only r: forward_act writes
     * r = act(y), bit for bit what forward then the activation node write, without writing y (NULL
     * where the kind has none).  The model uses it in training, when nothing reads y (gs_model_finish). */
    void (*forward_act)(const gs_exec *e, gs_node *n, const float *x, const float *x2, gs_act act, float *r);
    /* The node's backward where its input x is the output of a sigmoid or tanh (act) whose input z feeds
     * nothing else: dz, the gradient of z, in place of dx, each thread applying act' to the panels of
     * dx it computes; dx is written to dh, which may be dz (dx is then not kept).  The bits of backward
     * then the activation's (NULL where the kind has none). */
    void (*backward_act)(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                         const float *dy, gs_act act, float *dh, float *dz);
    /* forward on the features [c0, c1) alone, every sample, where n->by_cols: y (or NULL) and r = relu(y)
     * (or NULL) as forward_relu/forward write them; the same bits as one call over all features */
    void (*forward_cols)(const gs_exec *e, gs_node *n, const float *x, float *y, float *r, int c0, int c1);
    /* forward, then next's forward_cols on each range of y's features as soon as this node has computed
     * it, by the thread that computed it (ny, nr: next's outputs, as forward_cols takes them) */
    void (*forward_next)(const gs_exec *e, gs_node *n, const float *x, gs_node *next, float *y, float *ny, float *nr);
} gs_layer_ops;

struct gs_node {
    const gs_layer_ops *ops;
    void *state;
    int in[2];             /* value ids; in[1] = -1 for one-input nodes */
    int out;
    int acc[2];            /* backward adds into d(in[i]) rather than overwriting */
    int64_t in_features, out_features;
    size_t work_floats;    /* scratch it needs during a call (set_work), 0 for none */
    int64_t macs;          /* multiply-adds of one sample's forward (linear and conv layers), else 0 */
    int team;              /* forward and backward split their work only through gs_sgemm and
                            * gs_parallel_ranges, so they can run inside a team (team.h) */
    int fuse_relu;         /* the next node is a relu of this one's output alone, run by this node's
                            * forward_relu/backward_relu (gs_model_finish) */
    int fuse_act;          /* the next node is a sigmoid or tanh of this one's output alone: in training
                            * this node's forward_act writes only its output (gs_model_finish) */
    int by_cols;           /* forward_cols may be used: each feature's outputs depend on that feature alone */
    int fuse_next;         /* the next node (a batch norm, with its fused relu if any) runs inside this node's
                            * forward_next (gs_model_finish) */
    int fuse_dact;         /* the node before is a sigmoid or tanh giving this node's input alone: backward
                            * runs both through backward_act (gs_model_finish) */
};

/* Split [0, n) into e->threads ranges aligned to 16 elements and run
 * BODY(lo, hi) on each in parallel (serially when small or one thread). */
#ifndef GS_PAR_MIN
#define GS_PAR_MIN 16384
#endif
/* Share t of T of [0, n), cut at multiples of 16 elements. */
static inline void gs_range_share(size_t n, size_t t, size_t T, size_t *lo, size_t *hi)
{
    *lo = (n * t / T) & ~(size_t)15;
    *hi = t + 1 == T ? n : (n * (t + 1) / T) & ~(size_t)15;
}
/* Threads for n elements of this much work: e->threads when it pays, else 1. */
#define GS_RANGE_THREADS(e, n, work) \
    ((size_t)(work) >= (size_t)GS_PAR_MIN && (size_t)(n) >= 32 && (e)->threads > 1 ? (e)->threads : 1)
#define GS_PARALLEL_RANGES(e, n, BODY) GS_PARALLEL_RANGES_W(e, n, n, BODY)
/* The same with the amount of work given separately from the range. */
#ifdef _OPENMP
#define GS_PARALLEL_RANGES_W(e, n, work, BODY) do { \
    const size_t n_ = (n); \
    const int T_ = GS_RANGE_THREADS(e, n_, work); \
    _Pragma("omp parallel num_threads(T_) if (T_ > 1)") \
    { \
        size_t lo, hi; \
        gs_range_share(n_, (size_t)omp_get_thread_num(), (size_t)omp_get_num_threads(), &lo, &hi); \
        if (lo < hi) { BODY; } \
    } \
} while (0)
#else
#define GS_PARALLEL_RANGES_W(e, n, work, BODY) do { const size_t lo = 0, hi = (n); (void)(work); if (lo < hi) { BODY; } } while (0)
#endif

/* GS_PARALLEL_RANGES_W as a function, for the nodes whose passes run inside a team (team.h): the
 * same ranges, handed to the team's threads when the caller hosts one, else an OpenMP region. */
typedef void gs_range_fn(void *arg, size_t lo, size_t hi);
void gs_parallel_ranges(const gs_exec *e, size_t n, size_t work, gs_range_fn *fn, void *arg);

/* Constructors: allocate the state, check shapes (GS_ESHAPE/GS_EINVAL), set ops. */
int gs_linear_node(gs_ctx *ctx, gs_node *n, int in_f, int out_f, size_t w_off, size_t b_off);
int gs_batchnorm_node(gs_ctx *ctx, gs_node *n, int C, int S, int max_batch, size_t w_off,
                      size_t b_off, size_t mean_off, size_t var_off);
int gs_layernorm_node(gs_ctx *ctx, gs_node *n, int F, int max_batch, size_t w_off, size_t b_off);
int gs_act_node(gs_ctx *ctx, gs_node *n, gs_act act, int64_t F);
/* Whether n is an activation node computing relu. */
int gs_act_node_is_relu(const gs_node *n);
/* n's activation when n is an activation node, else -1 */
int gs_act_node_act(const gs_node *n);
/* y = a + alpha * b (alpha_off == GS_NO_OFFSET: alpha = 1) */
int gs_add_node(gs_ctx *ctx, gs_node *n, int64_t F, size_t alpha_off);

/* Convolutional nodes (issue 4).  Images are (N, C, H, W) row-major; a
 * value's features are C*H*W.  Conv2d weight (O, C, kh, kw) at w_off, bias
 * (O) at b_off or GS_NO_OFFSET; any kernel, stride, padding (zero). */
int gs_conv2d_node(gs_ctx *ctx, gs_node *n, int C, int H, int W, int O, int kh, int kw, int stride,
                   int pad, int max_batch, size_t w_off, size_t b_off);
/* A conv node outside a model: give it a scratch area of its own (freed with its state). */
int gs_conv2d_own_work(gs_ctx *ctx, gs_node *n);
/* Max pool k x k with stride and padding (padding never wins), as MaxPool2d. */
int gs_maxpool_node(gs_ctx *ctx, gs_node *n, int C, int H, int W, int k, int stride, int pad, int max_batch);
/* Global average pool: (N, C, H, W) -> (N, C). */
int gs_avgpool_node(gs_ctx *ctx, gs_node *n, int C, int H, int W);
/* He et al.'s option A shortcut: take every stride-th row and column, pad
 * channels C -> O with zeros equally on both sides. */
int gs_shortcut_a_node(gs_ctx *ctx, gs_node *n, int C, int H, int W, int O, int stride);

/* Losses on logits (N, K): value and d(loss)/d(logits), mean over the batch. */
int gs_loss_ce(const float *logits, const int32_t *labels, int N, int K, float *loss, float *dlogits);
int gs_loss_mse(const float *logits, const int32_t *labels, int N, int K, float *loss, float *dlogits);

#endif
