/* conv2d.c - 2-d convolution, PyTorch's nn.Conv2d (zero padding, dilation 1, groups 1).
 *
 * x (N, C, H, W) -> y (N, O, Ho, Wo), Ho = (H + 2 pad - kh) / stride + 1; weight (O, C, kh, kw) and
 * bias (O) are offsets into the model's flat blocks.  The math is im2col + the backend's GEMM: for
 * a group of G samples the column matrices sit side by side, col (C kh kw, G Ho Wo), so one GEMM
 * does y_g = W col with a wide enough N even on 7x7 maps (G is picked so G Ho Wo >= CONV_WIDE).  A
 * 1x1 stride-1 unpadded convolution is its own column matrix and skips im2col.
 *
 * Threads: the groups of a batch are split between threads, each with its own work area (column
 * matrix, gathered dy, partial dW and db) allocated once by the constructor, and each calling the
 * GEMM single-threaded (measured ~2x faster at 2 threads than one work area with the GEMM's own
 * threads, whose im2col/col2im stay serial); the partial parameter gradients are then added in
 * thread order.  So dW and db may differ in the last bits between thread counts (y and dx do not),
 * unless the context is deterministic: then the groups fall into CONV_DET_CHUNKS fixed chunks whose
 * partial sums are added in chunk order, whatever the thread count.
 * Stride-1 layers with kw == 2 pad + 1 go through the backend's conv_gemm (implicit im2col, one
 * thread per group) whenever it takes them, whatever the thread count, so that y and dx keep
 * their bits from one thread count to another.  3x3 padding-1 layers on maps of at least
 * GS_CONV3X3_MIN_PIXELS, or 7 wide (the third stage), go, for y and for dx, through the backend's
 * conv3x3 instead, straight from the image without packing (1.55x the implicit GEMM on 28x28 maps
 * with 16 channels, 1.08x on 14x14 with 32, 1.2x on 7x7 with 64; the same sums, so the same bits
 * while C 9 fits one GEMM K block); its weights are rearranged into wt's scratch at the start of
 * each pass.  Layers with CONV_WINO_MIN_CHANNELS or more
 * channels in and out whose shape the backend's Winograd F(2x2, 3x3) takes (even maps at most 32
 * wide: the study's 14x14 stage) go for y and dx through it instead, with its transformed weights in
 * the same scratch: 16 multiplies per 2x2 tile instead of 36, at roundings a few ulp from the direct
 * sums.  3x3 stride-2 padding-1 layers (the resnets' transitions) go, for y, dx and dW, through the
 * backend's conv3x3s2 where it takes them: x split into its four phase images, each tap one of them
 * at a fixed shift, so the direct kernel's scheme applies (resnet-20's 28x28 transition 1.9 -> 1.1 ms
 * forward, 3.9 -> 2.5 backward a step, against im2col + GEMM).
 * Nothing is allocated during a step.  e->N must not exceed the max_batch given to the constructor.
 * The work areas and the flipped weights live in a scratch area the model shares between all its
 * nodes (set_work; nothing in it outlives a call), or one of the node's own (gs_conv2d_own_work).
 */
#include <stdlib.h>
#include <string.h>
#include "layers/layer.h"
#include "kernels/cpu/im2col.h"
#include "team.h"

/* The parallel region of a pass over groups (T threads, a local of the caller); one thread without OpenMP. */
#ifdef _OPENMP
#define CONV_PARALLEL _Pragma("omp parallel num_threads(T)")
#define CONV_THREAD_NUM() omp_get_thread_num()
#define CONV_NUM_THREADS() omp_get_num_threads()
#else
#define CONV_PARALLEL
#define CONV_THREAD_NUM() 0
#define CONV_NUM_THREADS() 1
#endif

/* Columns per GEMM that a group of samples aims for (see the file comment). */
#define CONV_WIDE 256
/* Work areas: at most this many threads share a batch. */
#define CONV_MAX_SLOTS 64
/* Deterministic mode: the batch's groups fall into this many chunks whatever the thread count, each
 * chunk's dW and db summed in its own slot, the slots then added in order. */
#define CONV_DET_CHUNKS 8
/* Winograd for y and dx only from this many channels in and out: in the resnet-20 step (2 threads, 3
 * alternating rounds, per-node timing) its 32-channel 14x14 layers took 6-9% less time than by the
 * direct kernel, its 16-channel 28x28 ones 4-10% more (the transforms' memory traffic against too
 * few multiplies saved). */
#define CONV_WINO_MIN_CHANNELS 32
/* Below this many multiply-adds per pass, one thread. */
#define CONV_MT_MIN_MACS (1L << 21)

typedef struct conv_state {
    int C, H, W, O, kh, kw, stride, pad, Ho, Wo;
    int rows;               /* C kh kw: rows of a column matrix, columns of W */
    int pixels;             /* Ho Wo */
    int group;              /* samples per GEMM (G) */
    int direct;             /* 1x1, stride 1, pad 0: x is its own column matrix */
    int slots;              /* work areas, one per thread */
    int implicit;           /* stride 1, kw == 2 pad + 1: the backend may skip im2col (conv_gemm) */
    int implicit_dx;        /* and kh == kw too: dx is the convolution of dy with wt, same geometry */
    int deterministic;      /* dW, db in CONV_DET_CHUNKS fixed chunks (slots >= CONV_DET_CHUNKS) */
    int d3_fwd, d3_dx;      /* 3x3 stride 1 pad 1 that the backend's conv3x3 takes: y, and dx (the
                               convolution of dy with the flipped weights), straight from the image */
    uint16_t *d3_masks;     /* its masks for H x W (the same for dx: Ho x Wo = H x W) */
    int wino_fwd, wino_dx;  /* y, and dx, by the backend's Winograd F(2x2, 3x3) instead (wino3x3): its
                               transformed weights in wt's scratch, its work in the column buffer */
    int d3_dw;              /* and dW by the backend's conv3x3_dw, in the column buffer's room */
    int s2;                 /* 3x3 stride 2 padding 1 that the backend's conv3x3s2 takes: y, dx and dW through
                               x's phase images, with the column buffer's room as their scratch */
    float *wt;              /* the pass's rearranged weights: for the implicit dx, (C, O, kh, kw), w with
                               in/out swapped and the taps flipped; for conv3x3, its layout; for
                               Winograd, the transformed filters */
    size_t w_off, b_off;    /* weight (O, C, kh, kw); bias (O) or GS_NO_OFFSET */
    size_t col_floats, tmp_floats, dw_floats, slot_floats;
    float *work;            /* slots x [col (rows, G pixels) | tmp (O, G pixels) | dw (O, rows) | db (O)] */
    size_t wt_floats;       /* the scratch area is [wt | work] */
    float *owned;           /* the scratch area when the node owns it */
} conv_state;

static void conv_free(void *p)
{
    conv_state *s = p;
    if (!s) return;
    free(s->owned); free(s->d3_masks);
    free(s);
}

static float *slot_col(const conv_state *s, int t) { return s->work + (size_t)t * s->slot_floats; }
static float *slot_tmp(const conv_state *s, int t) { return slot_col(s, t) + s->col_floats; }
static float *slot_dw(const conv_state *s, int t) { return slot_tmp(s, t) + s->tmp_floats; }
static float *slot_db(const conv_state *s, int t) { return slot_dw(s, t) + s->dw_floats; }

/* Column matrix of samples [n0, n0 + g) into col (row stride g pixels), or x itself when direct. */
static const float *columns(const conv_state *s, const float *x, int n0, int g, float *col)
{
    const size_t in = (size_t)s->C * s->H * s->W, P = (size_t)s->pixels;
    if (s->direct && g == 1) return x + (size_t)n0 * in;
    for (int i = 0; i < g; i++)
        gs_im2col(x + (size_t)(n0 + i) * in, s->C, s->H, s->W, s->kh, s->kw, s->stride, s->pad,
                  col + (size_t)i * P, (size_t)g * P);
    return col;
}

/* y of samples [n0, n0 + g) = W col + b, the GEMM on tg threads, work area t (the implicit path,
 * which never forms col, on one). */
static void forward_group(const gs_exec *e, const conv_state *s, const float *x, float *y, int n0, int g,
                          int t, int tg, int bias)
{
    const int O = s->O, P = s->pixels, ld = g * P;
    const size_t out = (size_t)O * P, in = (size_t)s->C * s->H * s->W;
    const float *w = e->params + s->w_off;
    const float *b = bias && s->b_off != GS_NO_OFFSET ? e->params + s->b_off : NULL;
    if (s->wino_fwd && e->be->wino3x3(g, s->C, s->H, s->W, O, x + (size_t)n0 * in, s->wt, b, y + (size_t)n0 * out, 0,
                                      slot_col(s, t), s->col_floats))
        return;
    if (s->s2 && e->be->conv3x3s2(g, s->C, s->H, s->W, O, x + (size_t)n0 * in, w, b, y + (size_t)n0 * out, 0,
                                  slot_col(s, t), s->col_floats))
        return;
    if (s->d3_fwd && e->be->conv3x3(g, s->C, s->H, s->W, O, x + (size_t)n0 * in, s->wt, b, s->d3_masks, y + (size_t)n0 * out, 0))
        return;
    float *dst = g == 1 ? y + (size_t)n0 * out : slot_tmp(s, t);    /* (O, g P) */
    if (!(s->implicit && e->be->conv_gemm &&
          e->be->conv_gemm(0, O, w, s->rows, s->C, s->H, s->W, s->kh, s->kw, s->pad, g, x + (size_t)n0 * in, 0.0f,
                           dst, ld))) {
        const float *col = columns(s, x, n0, g, slot_col(s, t));
        e->be->sgemm(0, 0, O, ld, s->rows, 1.0f, w, s->rows, col, ld, 0.0f, dst, ld, tg);
    }
    if (g == 1) {
        if (b)
            for (int o = 0; o < O; o++)
                for (int k = 0; k < P; k++) dst[(size_t)o * P + k] += b[o];
        return;
    }
    for (int i = 0; i < g; i++)
        for (int o = 0; o < O; o++) {
            const float *src = dst + (size_t)o * ld + (size_t)i * P;
            float *yo = y + (size_t)(n0 + i) * out + (size_t)o * P;
            const float bo = b ? b[o] : 0.0f;
            for (int k = 0; k < P; k++) yo[k] = src[k] + bo;
        }
}

/* Which groups thread t of T runs: [*q0, *q1). */
static void share(int groups, int t, int T, int *q0, int *q1)
{
    *q0 = (int)((long)groups * t / T);
    *q1 = (int)((long)groups * (t + 1) / T);
}

/* Threads for a pass over `groups` groups: one per group at most, one for small work. */
static int outer_threads(const gs_exec *e, const conv_state *s, int groups)
{
#ifndef _OPENMP
    (void)e; (void)s; (void)groups;
    return 1;
#else
    long macs = (long)e->N * s->pixels * s->O * s->rows;
    int T = e->threads < 1 ? 1 : e->threads;
    if (T > s->slots) T = s->slots;
    if (T > groups) T = groups;
    if (macs < CONV_MT_MIN_MACS) T = 1;
    return T;
#endif
}

/* The weights as conv3x3 takes them, into the scratch area of wt: for y, wd[(c 9 + t) O + o] = w[o][c][t];
 * for dx, the flipped taps with C and O swapped, wd[(o 9 + t) C + c] = w[o][c][8 - t]. */
static void direct_weights(const gs_exec *e, conv_state *s, int for_dx)
{
    const float *w = e->params + s->w_off;
    const int C = s->C, O = s->O;
    for (int o = 0; o < O; o++)
        for (int c = 0; c < C; c++)
            for (int t = 0; t < 9; t++) {
                const float v = w[((size_t)o * C + c) * 9 + t];
                if (for_dx) s->wt[((size_t)o * 9 + (8 - t)) * C + c] = v;
                else s->wt[((size_t)c * 9 + t) * O + o] = v;
            }
}

/* The forward's groups for 2 threads: CONV_FWD_UNITS units of groups shared from both ends
 * (gs_team_ends), so the thread on the slower vCPU runs fewer; a group's output is the same
 * whichever thread computes it. */
#define CONV_FWD_UNITS 16
typedef struct fwd_job {
    const gs_exec *e;
    conv_state *s;
    const float *x;
    float *y;
    int bias, groups, units;
    _Atomic uint64_t middle;
} fwd_job;
typedef struct fwd_share { fwd_job *j; int t; } fwd_share;

static void forward_units(void *arg, int u0, int u1)
{
    const fwd_share *sh = arg;
    const fwd_job *j = sh->j;
    const int N = j->e->N, G = j->s->group;
    const int q0 = (int)((long)j->groups * u0 / j->units), q1 = (int)((long)j->groups * u1 / j->units);
    for (int q = q0; q < q1; q++)
        forward_group(j->e, j->s, j->x, j->y, q * G, N - q * G < G ? N - q * G : G, sh->t, 1, j->bias);
}

/* y = W * x (+ b when bias) */
static void conv_apply(const gs_exec *e, conv_state *s, const float *x, float *y, int bias)
{
    const int N = e->N, G = s->group, groups = (N + G - 1) / G;
    if (s->wino_fwd) e->be->wino3x3_filter(s->C, s->O, e->params + s->w_off, 0, s->wt);
    else if (s->d3_fwd) direct_weights(e, s, 0);
    const int T = outer_threads(e, s, groups);
    if (T <= 1) {
        for (int q = 0; q < groups; q++)
            forward_group(e, s, x, y, q * G, N - q * G < G ? N - q * G : G, 0, e->threads, bias);
        return;
    }
    /* 2 threads: units of groups from both ends; more: a group per unit, a static share each */
    fwd_job j = { e, s, x, y, bias, groups, T == 2 && groups > CONV_FWD_UNITS ? CONV_FWD_UNITS : groups, 0 };
    atomic_init(&j.middle, gs_team_ends_start(j.units));
    CONV_PARALLEL
    {
        const int t = CONV_THREAD_NUM(), nt = CONV_NUM_THREADS();
        fwd_share sh = { &j, t };
        if (nt == 2) gs_team_ends(t, j.units, &j.middle, forward_units, &sh);
        else forward_units(&sh, (int)((long)j.units * t / nt), (int)((long)j.units * (t + 1) / nt));
    }
}

static void conv_forward(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y)
{
    (void)x2;
    conv_apply(e, n->state, x, y, 1);
}

/* linear in x: ty = W * tx */
static void conv_jvp(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                     const float *tx, const float *tx2, float *ty)
{
    (void)x; (void)x2; (void)y; (void)tx2;
    conv_apply(e, n->state, tx, ty, 0);
}

/* One group's share of backward, work area t, GEMMs on tg threads:
 * dW (beta_w) += dy_g col^T,  db (beta_w) += row sums of dy_g,
 * dcol = W^T dy_g, dx = col2im(dcol) (added when n->acc[0]). */
static void backward_group(const gs_exec *e, const gs_node *n, const conv_state *s, const float *x,
                           const float *dy, float *dx, float *dw, float *db, float beta_w, int n0, int g,
                           int t, int tg)
{
    const int O = s->O, P = s->pixels, ld = g * P, rows = s->rows;
    const size_t in = (size_t)s->C * s->H * s->W, out = (size_t)O * P;
    const float *w = e->params + s->w_off;
    float *colbuf = slot_col(s, t);
    const float *dyg = dy + (size_t)n0 * out;   /* (O, g P) */
    const int implicit = s->implicit && e->be->conv_gemm;
    /* dy gathered (O, g P) for the GEMMs, unless dW and dx both go straight from the images */
    const int gather = !(s->d3_dw || s->s2) || (dx && !(s->d3_dx || s->s2));
    if (g > 1 && gather) {
        float *tmp = slot_tmp(s, t);
        for (int i = 0; i < g; i++)
            for (int o = 0; o < O; o++)
                memcpy(tmp + (size_t)o * ld + (size_t)i * P, dy + (size_t)(n0 + i) * out + (size_t)o * P,
                       (size_t)P * sizeof *tmp);
        dyg = tmp;
    }
    if (s->s2 && e->be->conv3x3s2_dw(g, s->C, s->H, s->W, O, x + (size_t)n0 * in, dy + (size_t)n0 * out, dw,
                                     beta_w != 0.0f, colbuf, s->col_floats)) {
    } else if (s->d3_dw && e->be->conv3x3_dw(g, s->C, s->H, s->W, O, x + (size_t)n0 * in, dy + (size_t)n0 * out, dw,
                                             beta_w != 0.0f, colbuf, s->col_floats)) {
    } else if (!(implicit && e->be->conv_gemm(1, O, dyg, ld, s->C, s->H, s->W, s->kh, s->kw, s->pad, g,
                                              x + (size_t)n0 * in, beta_w, dw, rows)))
        e->be->sgemm(0, 1, O, rows, ld, 1.0f, dyg, ld, columns(s, x, n0, g, colbuf), ld, beta_w, dw, rows, tg);
    if (db)   /* over the samples in order, each over its pixels: the gathered row's order */
        for (int o = 0; o < O; o++) {
            float sum = 0.0f;
            for (int i = 0; i < g; i++) {
                const float *r = dy + (size_t)(n0 + i) * out + (size_t)o * P;
                for (int k = 0; k < P; k++) sum += r[k];
            }
            db[o] = beta_w != 0.0f ? db[o] + sum : sum;
        }
    if (!dx) return;
    if (s->s2 && e->be->conv3x3s2_dx(g, s->C, s->H, s->W, O, dy + (size_t)n0 * out, w, dx + (size_t)n0 * in, n->acc[0],
                                     colbuf, s->col_floats))
        return;
    if (s->wino_dx && e->be->wino3x3(g, O, s->Ho, s->Wo, s->C, dy + (size_t)n0 * out, s->wt, NULL, dx + (size_t)n0 * in,
                                     n->acc[0], colbuf, s->col_floats))
        return;
    if (s->d3_dx && e->be->conv3x3(g, O, s->Ho, s->Wo, s->C, dy + (size_t)n0 * out, s->wt, NULL, s->d3_masks,
                                   dx + (size_t)n0 * in, n->acc[0]))
        return;
    if (s->implicit_dx && implicit) {
        /* dx = conv(dy, wt): the same stride-1 geometry with C and O swapped */
        const int acc = n->acc[0];
        float *dst = g == 1 ? dx + (size_t)n0 * in : slot_tmp(s, t);  /* (C, g P); dy is gathered already */
        if (e->be->conv_gemm(0, s->C, s->wt, O * s->kh * s->kw, O, s->Ho, s->Wo, s->kh, s->kw, s->pad, g,
                             dy + (size_t)n0 * out, g == 1 && acc ? 1.0f : 0.0f, dst, ld)) {
            for (int i = 0; g > 1 && i < g; i++)
                for (int c = 0; c < s->C; c++) {
                    const float *src = dst + (size_t)c * ld + (size_t)i * P;
                    float *d = dx + (size_t)(n0 + i) * in + (size_t)c * P;
                    if (acc) for (int k = 0; k < P; k++) d[k] += src[k];
                    else memcpy(d, src, (size_t)P * sizeof *d);
                }
            return;
        }
    }
    if (s->direct && g == 1) {
        e->be->sgemm(1, 0, rows, P, O, 1.0f, w, rows, dyg, P, n->acc[0] ? 1.0f : 0.0f,
                     dx + (size_t)n0 * in, P, tg);
        return;
    }
    e->be->sgemm(1, 0, rows, ld, O, 1.0f, w, rows, dyg, ld, 0.0f, colbuf, ld, tg);
    for (int i = 0; i < g; i++) {
        gs_col2im(colbuf + (size_t)i * P, (size_t)ld, s->C, s->H, s->W, s->kh, s->kw, s->stride, s->pad,
                  dx + (size_t)(n0 + i) * in, n->acc[0]);
    }
}

static void conv_backward(const gs_exec *e, gs_node *n, const float *x, const float *x2,
                          const float *y, const float *dy, float *dx, float *dx2)
{
    conv_state *s = n->state;
    const int N = e->N, G = s->group, groups = (N + G - 1) / G, O = s->O;
    const int T = outer_threads(e, s, groups);
    const size_t nw = (size_t)O * s->rows;
    float *dw = e->grads + s->w_off;
    float *db = s->b_off != GS_NO_OFFSET ? e->grads + s->b_off : NULL;
    (void)x2; (void)y; (void)dx2;
    if (s->wino_dx && dx) {
        e->be->wino3x3_filter(O, s->C, e->params + s->w_off, 1, s->wt);
    } else if (s->d3_dx && dx) {
        direct_weights(e, s, 1);
    } else if (s->implicit_dx && dx) {
        const float *w = e->params + s->w_off;
        const int C = s->C, taps = s->kh * s->kw;
        for (int o = 0; o < O; o++)
            for (int c = 0; c < C; c++)
                for (int k = 0; k < taps; k++)
                    s->wt[((size_t)c * O + o) * taps + (taps - 1 - k)] = w[((size_t)o * C + c) * taps + k];
    }
    if (s->deterministic && groups > 0) {
        /* chunk c (groups [groups c / K, groups (c + 1) / K)) sums into slot c whatever thread runs it */
        const int K = groups < CONV_DET_CHUNKS ? groups : CONV_DET_CHUNKS;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(T) if (T > 1)
#endif
        for (int c = 0; c < K; c++) {
            const int t = CONV_THREAD_NUM(), q0 = (int)((long)groups * c / K), q1 = (int)((long)groups * (c + 1) / K);
            for (int q = q0; q < q1; q++)
                backward_group(e, n, s, x, dy, dx, slot_dw(s, c), db ? slot_db(s, c) : NULL, q == q0 ? 0.0f : 1.0f,
                               q * G, N - q * G < G ? N - q * G : G, t, T > 1 ? 1 : e->threads);
        }
        for (size_t k = 0; k < nw; k++) {
            float sum = e->accumulate ? dw[k] : 0.0f;
            for (int c = 0; c < K; c++) sum += slot_dw(s, c)[k];
            dw[k] = sum;
        }
        for (int o = 0; db && o < O; o++) {
            float sum = e->accumulate ? db[o] : 0.0f;
            for (int c = 0; c < K; c++) sum += slot_db(s, c)[o];
            db[o] = sum;
        }
        return;
    }
    if (T <= 1) {
        for (int q = 0; q < groups; q++)
            backward_group(e, n, s, x, dy, dx, dw, db, q == 0 && !e->accumulate ? 0.0f : 1.0f, q * G,
                           N - q * G < G ? N - q * G : G, 0, e->threads);
        if (groups == 0 && !e->accumulate) {
            memset(dw, 0, nw * sizeof *dw);
            if (db) memset(db, 0, (size_t)O * sizeof *db);
        }
        return;
    }
    int used = T;
    CONV_PARALLEL
    {
        const int t = CONV_THREAD_NUM(), nt = CONV_NUM_THREADS();
        int q0, q1;
        if (t == 0) used = nt;
        share(groups, t, nt, &q0, &q1);
        for (int q = q0; q < q1; q++)
            backward_group(e, n, s, x, dy, dx, slot_dw(s, t), db ? slot_db(s, t) : NULL,
                           q == q0 ? 0.0f : 1.0f, q * G, N - q * G < G ? N - q * G : G, t, 1);
    }
    /* the partial sums, added in thread order */
    for (size_t k = 0; k < nw; k++) {
        float sum = e->accumulate ? dw[k] : 0.0f;
        for (int t = 0; t < used; t++) sum += slot_dw(s, t)[k];
        dw[k] = sum;
    }
    if (db)
        for (int o = 0; o < O; o++) {
            float sum = e->accumulate ? db[o] : 0.0f;
            for (int t = 0; t < used; t++) sum += slot_db(s, t)[o];
            db[o] = sum;
        }
}

static void conv_set_work(gs_node *n, float *work)
{
    conv_state *s = n->state;
    s->wt = s->implicit_dx ? work : NULL;
    s->work = work + s->wt_floats;
}

static const gs_layer_ops conv_ops = { .kind = "conv2d", .forward = conv_forward, .backward = conv_backward,
                                       .free_state = conv_free, .jvp = conv_jvp, .set_work = conv_set_work };

/* n rounded up to a whole number of 64-byte lines of floats */
static size_t lines(size_t n) { return (n + 15) & ~(size_t)15; }

int gs_conv2d_node(gs_ctx *ctx, gs_node *n, int C, int H, int W, int O, int kh, int kw, int stride,
                   int pad, int max_batch, size_t w_off, size_t b_off)
{
    if (C < 1 || H < 1 || W < 1 || O < 1 || kh < 1 || kw < 1)
        return gs_error(ctx, GS_ESHAPE, "conv2d: sizes must be >= 1 (C %d, H %d, W %d, O %d, kernel %dx%d)",
                        C, H, W, O, kh, kw);
    if (stride < 1 || pad < 0 || max_batch < 1)
        return gs_error(ctx, GS_EINVAL, "conv2d: need stride >= 1, pad >= 0, max_batch >= 1 (stride %d, pad %d, "
                        "max_batch %d)", stride, pad, max_batch);
    if ((long)H + 2L * pad < kh || (long)W + 2L * pad < kw)
        return gs_error(ctx, GS_ESHAPE, "conv2d: kernel %dx%d larger than the padded input %ldx%ld",
                        kh, kw, (long)H + 2L * pad, (long)W + 2L * pad);
    const long Ho = ((long)H + 2L * pad - kh) / stride + 1, Wo = ((long)W + 2L * pad - kw) / stride + 1;
    const long rows = (long)C * kh * kw, P = Ho * Wo;
    const long big = 1L << 30;
    if (rows >= big || P >= big || (long)O * P >= big || (long)C * H * W >= big)
        return gs_error(ctx, GS_ESHAPE, "conv2d: layer too large (C kh kw %ld, Ho Wo %ld, O %d)", rows, P, O);
    conv_state *s = calloc(1, sizeof *s);
    if (!s) return gs_error(ctx, GS_ENOMEM, "conv2d: out of memory");
    s->C = C; s->H = H; s->W = W; s->O = O; s->kh = kh; s->kw = kw; s->stride = stride; s->pad = pad;
    s->Ho = (int)Ho; s->Wo = (int)Wo; s->rows = (int)rows; s->pixels = (int)P;
    s->w_off = w_off; s->b_off = b_off;
    s->direct = kh == 1 && kw == 1 && stride == 1 && pad == 0;
    long G = s->direct || P >= CONV_WIDE ? 1 : (CONV_WIDE + P - 1) / P;
    if (G > max_batch) G = max_batch;
    while (G > 1 && (rows * G * P >= big || (long)O * G * P >= big)) G--;
    s->group = (int)G;
    int slots = gs_ctx_threads(ctx);
    s->slots = slots < 1 ? 1 : slots > CONV_MAX_SLOTS ? CONV_MAX_SLOTS : slots;
    s->deterministic = ctx && ctx->deterministic;
    if (s->deterministic && s->slots < CONV_DET_CHUNKS) s->slots = CONV_DET_CHUNKS;
    s->implicit = !s->direct && stride == 1 && kw == 2 * pad + 1;
    s->implicit_dx = s->implicit && kh == kw;
    s->col_floats = s->direct ? 0 : lines((size_t)rows * (size_t)(G * P));
    s->tmp_floats = G > 1 ? lines((size_t)(O > C ? O : C) * (size_t)(G * P)) : 0;
    s->dw_floats = lines((size_t)O * (size_t)rows);
    s->slot_floats = s->col_floats + s->tmp_floats + s->dw_floats + lines((size_t)O);
    s->wt_floats = s->implicit_dx ? lines((size_t)O * (size_t)rows) : 0;
    if (s->implicit_dx && kh == 3 && pad == 1) {   /* conv3x3 uses wt's scratch for its weights */
        const gs_backend *be = gs_backend_cpu();
        s->d3_fwd = be->conv3x3(0, C, H, W, O, NULL, NULL, NULL, NULL, NULL, 0);
        s->d3_dx = be->conv3x3(0, O, H, W, C, NULL, NULL, NULL, NULL, NULL, 0);
        if ((s->d3_fwd || s->d3_dx) && !(s->d3_masks = malloc(be->conv3x3_masks_len(H, W) * sizeof *s->d3_masks)))
            s->d3_fwd = s->d3_dx = 0;    /* no room for the masks: the implicit GEMM needs none */
        if (s->d3_masks) be->conv3x3_masks(H, W, s->d3_masks);
        /* dW in the column buffer's room, which the implicit GEMM never fills */
        s->d3_dw = be->conv3x3_dw(0, C, H, W, O, NULL, NULL, NULL, 0, NULL, s->col_floats);
        /* Winograd where the backend takes the shape and its work fits the column buffer's room */
        const int wide = C >= CONV_WINO_MIN_CHANNELS && O >= CONV_WINO_MIN_CHANNELS;
        s->wino_fwd = wide && be->wino3x3(0, C, H, W, O, NULL, NULL, NULL, NULL, 0, NULL, s->col_floats);
        s->wino_dx = wide && be->wino3x3(0, O, H, W, C, NULL, NULL, NULL, NULL, 0, NULL, s->col_floats);
        if (s->wino_fwd || s->wino_dx) {
            const size_t u = lines(be->wino3x3_filter_floats(C, O));
            if (u > s->wt_floats) s->wt_floats = u;
        }
    }
    if (kh == 3 && kw == 3 && stride == 2 && pad == 1) {   /* through phase images, in the column buffer's room */
        const gs_backend *be = gs_backend_cpu();
        s->s2 = be->conv3x3s2(0, C, H, W, O, NULL, NULL, NULL, NULL, 0, NULL, s->col_floats) &&
                be->conv3x3s2_dx(0, C, H, W, O, NULL, NULL, NULL, 0, NULL, s->col_floats) &&
                be->conv3x3s2_dw(0, C, H, W, O, NULL, NULL, NULL, 0, NULL, s->col_floats);
    }
    size_t work;
    if (!gs_mul_ok(s->slot_floats, (size_t)s->slots, &work) || work > ((size_t)1 << 40)) {
        const int slots = s->slots;
        const size_t per_slot = s->slot_floats;
        conv_free(s);
        return gs_error(ctx, GS_ENOMEM, "conv2d: work areas too large (%d x %zu floats)", slots, per_slot);
    }
    n->work_floats = s->wt_floats + work;
    n->ops = &conv_ops; n->state = s;
    n->in_features = (int64_t)C * H * W;
    n->out_features = (int64_t)O * P;
    n->macs = (int64_t)O * rows * P;
    return GS_OK;
}

int gs_conv2d_own_work(gs_ctx *ctx, gs_node *n)
{
    conv_state *s = n->state;
    size_t bytes;
    if (!gs_mul_ok(n->work_floats, sizeof(float), &bytes) || !(s->owned = aligned_alloc(64, bytes ? bytes : 64)))
        return gs_error(ctx, GS_ENOMEM, "conv2d: out of memory for the work areas (%zu floats)", n->work_floats);
    memset(s->owned, 0, bytes);
    conv_set_work(n, s->owned);
    return GS_OK;
}
