/* pool.c - max pool (nn.MaxPool2d), global average pool, and He et al.'s option A shortcut.
 *
 * All three move or reduce values within one (sample, channel) plane, so threads split the
 * N C planes and never write the same element.  Max pool keeps, for every output, the index of
 * its input inside the plane (the first maximum, a NaN wins as in PyTorch) for backward, in a
 * buffer sized for max_batch by the constructor; e->N must not exceed max_batch.  The padding of
 * max pool is -inf (it never wins) and limited to k/2 as in PyTorch.  None of these has parameters.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "layers/layer.h"
#include "kernels/cpu/im2col.h"

/* ---- max pool ---- */

typedef struct maxpool_state {
    int C, H, W, k, stride, pad, Ho, Wo, max_batch;
    int32_t *argmax;        /* (max_batch, C, Ho, Wo): index into the (H, W) plane */
} maxpool_state;

static void maxpool_free(void *p)
{
    maxpool_state *s = p;
    if (!s) return;
    free(s->argmax);
    free(s);
}

static void maxpool_planes(const maxpool_state *s, const float *x, float *y, size_t p0, size_t p1)
{
    const int H = s->H, W = s->W, k = s->k, st = s->stride, pad = s->pad, Ho = s->Ho, Wo = s->Wo;
    for (size_t p = p0; p < p1; p++) {
        const float *xp = x + p * H * W;
        float *yp = y + p * Ho * Wo;
        int32_t *ap = s->argmax + p * Ho * Wo;
        for (int oh = 0; oh < Ho; oh++) {
            const int h0 = oh * st - pad, ha = h0 < 0 ? 0 : h0, hb = h0 + k > H ? H : h0 + k;
            for (int ow = 0; ow < Wo; ow++) {
                const int w0 = ow * st - pad, wa = w0 < 0 ? 0 : w0, wb = w0 + k > W ? W : w0 + k;
                int best = ha * W + wa;
                float m = xp[best];
                for (int ih = ha; ih < hb; ih++)
                    for (int iw = wa; iw < wb; iw++) {
                        const float v = xp[ih * W + iw];
                        if (v > m || (isnan(v) && !isnan(m))) { m = v; best = ih * W + iw; }
                    }
                yp[oh * Wo + ow] = m;
                ap[oh * Wo + ow] = best;
            }
        }
    }
}

static void maxpool_forward(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y)
{
    maxpool_state *s = n->state;
    const size_t planes = (size_t)e->N * s->C;
    (void)x2;
    GS_PARALLEL_RANGES_W(e, planes, planes * s->Ho * s->Wo * s->k * s->k, maxpool_planes(s, x, y, lo, hi));
}

/* dx[argmax] += dy: the gradient goes to the input that won. */
static void maxpool_dplanes(const maxpool_state *s, const float *dy, float *dx, int acc, size_t p0, size_t p1)
{
    const size_t in = (size_t)s->H * s->W, out = (size_t)s->Ho * s->Wo;
    for (size_t p = p0; p < p1; p++) {
        float *dxp = dx + p * in;
        const float *dyp = dy + p * out;
        const int32_t *ap = s->argmax + p * out;
        if (!acc) memset(dxp, 0, in * sizeof *dxp);
        for (size_t j = 0; j < out; j++) dxp[ap[j]] += dyp[j];
    }
}

static void maxpool_backward(const gs_exec *e, gs_node *n, const float *x, const float *x2,
                             const float *y, const float *dy, float *dx, float *dx2)
{
    maxpool_state *s = n->state;
    const size_t planes = (size_t)e->N * s->C;
    (void)x; (void)x2; (void)y; (void)dx2;
    if (!dx) return;
    GS_PARALLEL_RANGES_W(e, planes, planes * s->H * s->W, maxpool_dplanes(s, dy, dx, n->acc[0], lo, hi));
}

static const gs_layer_ops maxpool_ops = { .kind = "maxpool", .forward = maxpool_forward,
                                          .backward = maxpool_backward, .free_state = maxpool_free };

int gs_maxpool_node(gs_ctx *ctx, gs_node *n, int C, int H, int W, int k, int stride, int pad, int max_batch)
{
    if (C < 1 || H < 1 || W < 1 || k < 1)
        return gs_error(ctx, GS_ESHAPE, "maxpool: sizes must be >= 1 (C %d, H %d, W %d, kernel %d)", C, H, W, k);
    if (stride < 1 || pad < 0 || pad > k / 2 || max_batch < 1)
        return gs_error(ctx, GS_EINVAL, "maxpool: need stride >= 1, 0 <= pad <= kernel/2, max_batch >= 1 "
                        "(stride %d, pad %d, kernel %d, max_batch %d)", stride, pad, k, max_batch);
    if ((long)H + 2L * pad < k || (long)W + 2L * pad < k)
        return gs_error(ctx, GS_ESHAPE, "maxpool: kernel %d larger than the padded input %ldx%ld",
                        k, (long)H + 2L * pad, (long)W + 2L * pad);
    if ((long)H * W >= INT32_MAX || (long)C * H * W >= (1L << 30))
        return gs_error(ctx, GS_ESHAPE, "maxpool: input too large (C %d, H %d, W %d)", C, H, W);
    const int Ho = gs_conv_out_size(H, k, stride, pad), Wo = gs_conv_out_size(W, k, stride, pad);
    size_t count;
    if (!gs_mul_ok((size_t)max_batch * C, (size_t)Ho * Wo, &count) || count > SIZE_MAX / sizeof(int32_t))
        return gs_error(ctx, GS_ESHAPE, "maxpool: max_batch %d too large", max_batch);
    maxpool_state *s = calloc(1, sizeof *s);
    if (!s) return gs_error(ctx, GS_ENOMEM, "maxpool: out of memory");
    s->C = C; s->H = H; s->W = W; s->k = k; s->stride = stride; s->pad = pad;
    s->Ho = Ho; s->Wo = Wo; s->max_batch = max_batch;
    s->argmax = calloc(count, sizeof *s->argmax);
    if (!s->argmax) {
        maxpool_free(s);
        return gs_error(ctx, GS_ENOMEM, "maxpool: out of memory for %zu indices", count);
    }
    n->ops = &maxpool_ops; n->state = s;
    n->in_features = (int64_t)C * H * W;
    n->out_features = (int64_t)C * Ho * Wo;
    return GS_OK;
}

/* ---- global average pool: (N, C, H, W) -> (N, C) ---- */

typedef struct avgpool_state { int C, S; } avgpool_state;

static void avgpool_forward(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y)
{
    avgpool_state *s = n->state;
    const size_t planes = (size_t)e->N * s->C, S = (size_t)s->S;
    (void)x2;
    GS_PARALLEL_RANGES_W(e, planes, planes * S, {
        for (size_t p = lo; p < hi; p++) {
            const float *xp = x + p * S;
            double sum = 0;
            for (size_t k = 0; k < S; k++) sum += xp[k];
            y[p] = (float)(sum / (double)S);
        }
    });
}

/* dx = dy / S everywhere in the plane */
static void avgpool_backward(const gs_exec *e, gs_node *n, const float *x, const float *x2,
                             const float *y, const float *dy, float *dx, float *dx2)
{
    avgpool_state *s = n->state;
    const size_t planes = (size_t)e->N * s->C, S = (size_t)s->S;
    const int acc = n->acc[0];
    (void)x; (void)x2; (void)y; (void)dx2;
    if (!dx) return;
    GS_PARALLEL_RANGES_W(e, planes, planes * S, {
        for (size_t p = lo; p < hi; p++) {
            const float g = dy[p] / (float)S;
            float *dxp = dx + p * S;
            if (acc) for (size_t k = 0; k < S; k++) dxp[k] += g;
            else for (size_t k = 0; k < S; k++) dxp[k] = g;
        }
    });
}

/* linear: ty = avgpool(tx) */
static void avgpool_jvp(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                        const float *tx, const float *tx2, float *ty)
{
    (void)x; (void)x2; (void)y; (void)tx2;
    avgpool_forward(e, n, tx, NULL, ty);
}

static const gs_layer_ops avgpool_ops = { .kind = "avgpool", .forward = avgpool_forward,
                                          .backward = avgpool_backward, .free_state = free, .jvp = avgpool_jvp };

int gs_avgpool_node(gs_ctx *ctx, gs_node *n, int C, int H, int W)
{
    if (C < 1 || H < 1 || W < 1)
        return gs_error(ctx, GS_ESHAPE, "avgpool: sizes must be >= 1 (C %d, H %d, W %d)", C, H, W);
    if ((long)C * H * W >= (1L << 30))
        return gs_error(ctx, GS_ESHAPE, "avgpool: input too large (C %d, H %d, W %d)", C, H, W);
    avgpool_state *s = calloc(1, sizeof *s);
    if (!s) return gs_error(ctx, GS_ENOMEM, "avgpool: out of memory");
    s->C = C; s->S = H * W;
    n->ops = &avgpool_ops; n->state = s;
    n->in_features = (int64_t)C * H * W;
    n->out_features = C;
    return GS_OK;
}

/* ---- option A shortcut: y[:, p + c, i, j] = x[:, c, i stride, j stride], other channels 0 ----
 * p = (O - C) / 2 zero channels on each side, as F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p)). */

typedef struct shortcut_state { int C, H, W, O, stride, Ho, Wo, p; } shortcut_state;

/* one output plane (sample i, channel o) */
static void shortcut_plane(const shortcut_state *s, const float *x, float *y, size_t q)
{
    const size_t i = q / (size_t)s->O;
    const int o = (int)(q % (size_t)s->O), c = o - s->p, Ho = s->Ho, Wo = s->Wo, st = s->stride;
    float *yp = y + q * Ho * Wo;
    if (c < 0 || c >= s->C) {
        memset(yp, 0, (size_t)Ho * Wo * sizeof *yp);
        return;
    }
    const float *xp = x + (i * s->C + (size_t)c) * s->H * s->W;
    for (int a = 0; a < Ho; a++)
        for (int b = 0; b < Wo; b++) yp[a * Wo + b] = xp[(size_t)a * st * s->W + (size_t)b * st];
}

static void shortcut_forward(const gs_exec *e, gs_node *n, const float *x, const float *x2, float *y)
{
    shortcut_state *s = n->state;
    const size_t planes = (size_t)e->N * s->O;
    (void)x2;
    GS_PARALLEL_RANGES_W(e, planes, planes * s->Ho * s->Wo, {
        for (size_t q = lo; q < hi; q++) shortcut_plane(s, x, y, q);
    });
}

/* dx[:, c, i stride, j stride] = dy[:, p + c, i, j]; dx is 0 at the rows and columns skipped. */
static void shortcut_dplane(const shortcut_state *s, const float *dy, float *dx, int acc, size_t q)
{
    const size_t i = q / (size_t)s->C;
    const int c = (int)(q % (size_t)s->C), Ho = s->Ho, Wo = s->Wo, st = s->stride, W = s->W;
    float *dxp = dx + q * s->H * W;
    const float *dyp = dy + (i * s->O + (size_t)(c + s->p)) * Ho * Wo;
    if (!acc) memset(dxp, 0, (size_t)s->H * W * sizeof *dxp);
    for (int a = 0; a < Ho; a++)
        for (int b = 0; b < Wo; b++) dxp[(size_t)a * st * W + (size_t)b * st] += dyp[a * Wo + b];
}

static void shortcut_backward(const gs_exec *e, gs_node *n, const float *x, const float *x2,
                              const float *y, const float *dy, float *dx, float *dx2)
{
    shortcut_state *s = n->state;
    const size_t planes = (size_t)e->N * s->C;
    const int acc = n->acc[0];
    (void)x; (void)x2; (void)y; (void)dx2;
    if (!dx) return;
    GS_PARALLEL_RANGES_W(e, planes, planes * s->H * s->W, {
        for (size_t q = lo; q < hi; q++) shortcut_dplane(s, dy, dx, acc, q);
    });
}

/* linear: ty = shortcut(tx) */
static void shortcut_jvp(const gs_exec *e, gs_node *n, const float *x, const float *x2, const float *y,
                         const float *tx, const float *tx2, float *ty)
{
    (void)x; (void)x2; (void)y; (void)tx2;
    shortcut_forward(e, n, tx, NULL, ty);
}

static const gs_layer_ops shortcut_ops = { .kind = "shortcut_a", .forward = shortcut_forward,
                                           .backward = shortcut_backward, .free_state = free,
                                           .jvp = shortcut_jvp };

int gs_shortcut_a_node(gs_ctx *ctx, gs_node *n, int C, int H, int W, int O, int stride)
{
    if (C < 1 || H < 1 || W < 1 || stride < 1)
        return gs_error(ctx, GS_ESHAPE, "shortcut_a: sizes and stride must be >= 1 (C %d, H %d, W %d, stride %d)",
                        C, H, W, stride);
    if (O < C || (O - C) % 2)
        return gs_error(ctx, GS_ESHAPE, "shortcut_a: output channels %d must be >= the input's %d and differ "
                        "by an even number (equal zero padding on both sides)", O, C);
    const int Ho = (H - 1) / stride + 1, Wo = (W - 1) / stride + 1;
    if ((long)C * H * W >= (1L << 30) || (long)O * Ho * Wo >= (1L << 30))
        return gs_error(ctx, GS_ESHAPE, "shortcut_a: input too large (C %d, H %d, W %d, O %d)", C, H, W, O);
    shortcut_state *s = calloc(1, sizeof *s);
    if (!s) return gs_error(ctx, GS_ENOMEM, "shortcut_a: out of memory");
    s->C = C; s->H = H; s->W = W; s->O = O; s->stride = stride; s->Ho = Ho; s->Wo = Wo; s->p = (O - C) / 2;
    n->ops = &shortcut_ops; n->state = s;
    n->in_features = (int64_t)C * H * W;
    n->out_features = (int64_t)O * Ho * Wo;
    return GS_OK;
}
