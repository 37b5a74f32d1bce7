/* test_conv.c - the convolutional nodes: conv2d, max pool, global average pool, option A shortcut.
 *
 * Each node is built with its constructor and driven through its ops table on a gs_exec of our
 * own (CPU backend), as in test_layers.c.  Checks:
 *  - finite differences (double sums over the float forward, h = 1e-3 relative) of L = sum r y for
 *    dx and every parameter gradient, conv2d over several kernel/stride/padding sets with and
 *    without bias, and the pools and shortcut; max pool on inputs with no near-ties;
 *  - accumulate semantics: n->acc[0] adds into dx, e->accumulate into parameter gradients;
 *  - the im2col + GEMM convolution against the naive direct one (kernels/cpu/im2col.h) on random
 *    shapes, forward, dx, dW and db, one and two threads, batches that do not fill a group;
 *  - PyTorch 1.13 golden values (tests/ref/gen_conv.py -> conv_golden.h) to 1e-5 relative;
 *  - bad shapes give the right code and allocate nothing.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "layers/layer.h"
#include "kernels/backend.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/im2col.h"
#include "ref/conv_golden.h"

/* Finite-difference step, relative to max(|v|, 1).  Conv, pools and shortcut are linear in x and in
 * their parameters, so a wide step adds no truncation error and shrinks the share of the float
 * forward's rounding; max pool (piecewise linear, exact forward) uses 1e-3 on inputs 0.05 apart, so
 * no step crosses a tie. */
static double rel_h = 1e-2;
#define FLOOR 1e-3     /* of the tensor's scale: below it errors count as absolute */
#define TOL 1e-2       /* worst relative error accepted from finite differences */
#define SENTINEL 777.0f

/* ---- deterministic random numbers (xorshift64*, independent of the library's) ---- */
static uint64_t rng_state = 0x2545F4914F6CDD1DULL;
static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ULL + 1; }
static double urand(void)   /* [0, 1) */
{
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) * 0x1p-53;
}
static int irand(int lo, int hi) { return lo + (int)(urand() * (hi - lo + 1)); }   /* [lo, hi] */
static void fill(float *a, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * urand());
}
static float *falloc(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* ---- a rig: one node, its exec, its input, output and parameter blocks ---- */
typedef struct rig {
    gs_ctx *ctx;
    gs_node n;
    gs_exec e;
    size_t nx, ny, np;
    float *x, *y, *r, *dx, *p, *g;
} rig;

static int rig_deterministic;   /* contexts of new rigs: gs_ctx_set_deterministic */

static void rig_alloc(rig *R, int N, int64_t in_f, int64_t out_f, size_t np, int threads)
{
    memset(R, 0, sizeof *R);
    R->ctx = gs_ctx_create();
    gs_ctx_set_threads(R->ctx, threads);
    gs_ctx_set_deterministic(R->ctx, rig_deterministic);
    R->nx = (size_t)N * (size_t)in_f; R->ny = (size_t)N * (size_t)out_f; R->np = np;
    R->x = falloc(R->nx); R->dx = falloc(R->nx); R->y = falloc(R->ny); R->r = falloc(R->ny);
    R->p = falloc(np); R->g = falloc(np);
    R->e.be = gs_backend_cpu(); R->e.threads = threads; R->e.N = N; R->e.training = 1;
    R->e.params = R->p; R->e.grads = R->g;
    fill(R->x, R->nx, -2, 2); fill(R->r, R->ny, -1, 1); fill(R->p, np, -1, 1);
}

static void rig_free(rig *R)
{
    if (R->n.ops && R->n.ops->free_state) R->n.ops->free_state(R->n.state);
    free(R->x); free(R->dx); free(R->y); free(R->r); free(R->p); free(R->g);
    gs_ctx_free(R->ctx);
}

static void rig_forward(rig *R) { R->n.ops->forward(&R->e, &R->n, R->x, NULL, R->y); }

static double objective(rig *R)
{
    rig_forward(R);
    double L = 0;
    for (size_t i = 0; i < R->ny; i++) L += (double)R->r[i] * R->y[i];
    return L;
}

static void rig_backward(rig *R)
{
    rig_forward(R);
    R->n.ops->backward(&R->e, &R->n, R->x, NULL, R->y, R->r, R->dx, NULL);
}

/* analytic[0..n) against central differences of the objective over v[0..n). */
static void fd_compare(rig *R, const char *what, float *v, size_t n, const float *analytic)
{
    double *num = malloc(n * sizeof *num);
    double scale = 0, worst = 0;
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        const float v0 = v[k];
        const double h = rel_h * fmax(fabs(v0), 1.0);
        const float vp = (float)(v0 + h), vm = (float)(v0 - h);
        v[k] = vp; const double Lp = objective(R);
        v[k] = vm; const double Lm = objective(R);
        v[k] = v0;
        num[k] = (Lp - Lm) / ((double)vp - (double)vm);
        scale = fmax(scale, fabs(num[k]));
    }
    for (size_t k = 0; k < n; k++) {
        const double a = analytic[k], b = num[k];
        const double err = fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), fmax(FLOOR * scale, 1e-30));
        if (!(err <= worst)) { worst = err; at = k; }
    }
    CHECK(worst <= TOL, "%s: worst relative error %.3g at [%zu] (analytic %.9g, numeric %.9g, scale %.3g)",
          what, worst, at, analytic[at], num[at], scale);
    free(num);
}

/* Gradients against finite differences, then accumulate semantics. */
static void check_rig(rig *R, const char *label)
{
    char what[160];
    float *gx = falloc(R->nx), *gp = falloc(R->np), *c = falloc(R->np + R->nx);

    R->n.acc[0] = 0; R->e.accumulate = 0;   /* overwrite: stale values must not leak in */
    for (size_t i = 0; i < R->nx; i++) R->dx[i] = SENTINEL;
    for (size_t i = 0; i < R->np; i++) R->g[i] = SENTINEL;
    rig_backward(R);
    memcpy(gx, R->dx, R->nx * sizeof *gx);
    memcpy(gp, R->g, R->np * sizeof *gp);
    snprintf(what, sizeof what, "%s dx", label);
    fd_compare(R, what, R->x, R->nx, gx);
    if (R->np) {
        snprintf(what, sizeof what, "%s dparams", label);
        fd_compare(R, what, R->p, R->np, gp);
    }

    fill(c, R->np + R->nx, -1, 1);          /* n->acc: dx += ..., parameters still overwritten */
    R->n.acc[0] = 1;
    memcpy(R->dx, c, R->nx * sizeof *c);
    for (size_t i = 0; i < R->np; i++) R->g[i] = SENTINEL;
    rig_backward(R);
    double worst = 0, worstp = 0;
    for (size_t i = 0; i < R->nx; i++) worst = fmax(worst, fabs(R->dx[i] - (c[i] + gx[i])) / (1 + fabs(gx[i])));
    for (size_t i = 0; i < R->np; i++) worstp = fmax(worstp, fabs(R->g[i] - gp[i]) / (1 + fabs(gp[i])));
    CHECK(worst <= 1e-5, "%s: acc[0]=1 must add into dx: worst error %.3g", label, worst);
    CHECK(worstp <= 1e-5, "%s: accumulate=0 must overwrite parameter gradients: worst error %.3g", label, worstp);

    R->n.acc[0] = 0; R->e.accumulate = 1;   /* e->accumulate: g += ..., dx overwritten again */
    memcpy(R->g, c + R->nx, R->np * sizeof *c);
    for (size_t i = 0; i < R->nx; i++) R->dx[i] = SENTINEL;
    rig_backward(R);
    worst = worstp = 0;
    for (size_t i = 0; i < R->np; i++)
        worstp = fmax(worstp, fabs(R->g[i] - (c[R->nx + i] + gp[i])) / (1 + fabs(gp[i])));
    for (size_t i = 0; i < R->nx; i++) worst = fmax(worst, fabs(R->dx[i] - gx[i]) / (1 + fabs(gx[i])));
    CHECK(worstp <= 1e-5, "%s: accumulate=1 must add into parameter gradients: worst error %.3g", label, worstp);
    CHECK(worst <= 1e-5, "%s: acc[0]=0 must overwrite dx: worst error %.3g", label, worst);

    /* dx == NULL: parameter gradients only, nothing else written */
    R->e.accumulate = 0;
    for (size_t i = 0; i < R->np; i++) R->g[i] = SENTINEL;
    rig_forward(R);
    R->n.ops->backward(&R->e, &R->n, R->x, NULL, R->y, R->r, NULL, NULL);
    worstp = 0;
    for (size_t i = 0; i < R->np; i++) worstp = fmax(worstp, fabs(R->g[i] - gp[i]) / (1 + fabs(gp[i])));
    CHECK(worstp <= 1e-5, "%s: dx NULL changed the parameter gradients: worst error %.3g", label, worstp);
    free(gx); free(gp); free(c);
}

/* ---- conv2d ---- */
typedef struct conv_case { int N, C, H, W, O, kh, kw, stride, pad; } conv_case;

static int out_size(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

static int conv_rig(rig *R, conv_case k, int bias, int threads, int max_batch)
{
    const int Ho = out_size(k.H, k.kh, k.stride, k.pad), Wo = out_size(k.W, k.kw, k.stride, k.pad);
    const size_t nw = (size_t)k.O * k.C * k.kh * k.kw;
    rig_alloc(R, k.N, (int64_t)k.C * k.H * k.W, (int64_t)k.O * Ho * Wo, nw + (bias ? (size_t)k.O : 0), threads);
    int rc = gs_conv2d_node(R->ctx, &R->n, k.C, k.H, k.W, k.O, k.kh, k.kw, k.stride, k.pad, max_batch, 0,
                            bias ? nw : GS_NO_OFFSET);
    return rc ? rc : gs_conv2d_own_work(R->ctx, &R->n);
}

static const conv_case fd_cases[] = {
    { 2, 3, 4, 5, 4, 1, 1, 1, 0 },     /* 1x1 stride 1: no im2col */
    { 2, 2, 5, 5, 3, 3, 3, 1, 1 },     /* 3x3 same */
    { 2, 2, 6, 7, 3, 3, 3, 2, 1 },     /* 3x3 stride 2 */
    { 2, 2, 7, 6, 2, 5, 5, 2, 2 },     /* 5x5 stride 2 pad 2 */
    { 2, 2, 5, 7, 3, 2, 3, 2, 0 },     /* non-square kernel */
    { 2, 3, 7, 9, 5, 3, 3, 1, 1 },     /* odd sizes */
    { 1, 2, 3, 4, 2, 3, 3, 1, 2 },     /* padding wider than needed */
    { 2, 2, 4, 4, 3, 1, 1, 2, 0 },     /* 1x1 stride 2 (shortcut B's projection) */
};

static void test_conv_fd(void)
{
    for (size_t i = 0; i < sizeof fd_cases / sizeof *fd_cases; i++)
        for (int bias = 0; bias <= 1; bias++) {
            const conv_case k = fd_cases[i];
            char label[128];
            rig R;
            rng_seed(100 + 2 * i + bias);
            snprintf(label, sizeof label, "conv2d N%d C%d %dx%d O%d k%dx%d s%d p%d%s", k.N, k.C, k.H, k.W, k.O,
                     k.kh, k.kw, k.stride, k.pad, bias ? " bias" : "");
            CHECK_EQ_INT(conv_rig(&R, k, bias, 1, k.N), GS_OK);
            if (R.n.ops) check_rig(&R, label);
            rig_free(&R);
        }
}

/* worst |a - b| / (scale of b), scale = max |b| (at least 1e-30) */
static double rel_err(const float *a, const float *b, size_t n)
{
    double scale = 1e-30, worst = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(b[i]));
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - b[i]) / scale;
        if (!(d <= worst)) worst = d;
    }
    return worst;
}

/* The fast conv against the naive one: y, dx, dW, db; also dx += and dW += . */
static void naive_case(conv_case k, int bias, int threads, int max_batch, const char *label)
{
    rig R;
    if (conv_rig(&R, k, bias, threads, max_batch) != GS_OK) {
        CHECK(0, "%s: constructor failed: %s", label, gs_errmsg(R.ctx));
        rig_free(&R);
        return;
    }
    const size_t nw = (size_t)k.O * k.C * k.kh * k.kw;
    float *y = falloc(R.ny), *dx = falloc(R.nx), *dw = falloc(nw), *db = falloc((size_t)k.O);
    const float *b = bias ? R.p + nw : NULL;
    gs_conv2d_naive_forward(R.x, R.p, b, y, k.N, k.C, k.H, k.W, k.O, k.kh, k.kw, k.stride, k.pad);
    gs_conv2d_naive_backward(R.x, R.p, R.r, dx, dw, db, k.N, k.C, k.H, k.W, k.O, k.kh, k.kw, k.stride, k.pad);
    R.n.acc[0] = 0; R.e.accumulate = 0;
    for (size_t i = 0; i < R.nx; i++) R.dx[i] = SENTINEL;
    for (size_t i = 0; i < R.np; i++) R.g[i] = SENTINEL;
    for (size_t i = 0; i < R.ny; i++) R.y[i] = SENTINEL;
    rig_backward(&R);
    double ey = rel_err(R.y, y, R.ny), ex = rel_err(R.dx, dx, R.nx), ew = rel_err(R.g, dw, nw);
    double eb = bias ? rel_err(R.g + nw, db, (size_t)k.O) : 0;
    CHECK(ey < 1e-5 && ex < 1e-5 && ew < 1e-5 && eb < 1e-5,
          "%s: fast vs naive: y %.3g, dx %.3g, dW %.3g, db %.3g", label, ey, ex, ew, eb);
    /* accumulate: a second backward adds the same again */
    R.n.acc[0] = 1; R.e.accumulate = 1;
    R.n.ops->backward(&R.e, &R.n, R.x, NULL, R.y, R.r, R.dx, NULL);
    for (size_t i = 0; i < R.nx; i++) dx[i] *= 2;
    for (size_t i = 0; i < nw; i++) dw[i] *= 2;
    for (int o = 0; o < k.O; o++) db[o] *= 2;
    ex = rel_err(R.dx, dx, R.nx); ew = rel_err(R.g, dw, nw); eb = bias ? rel_err(R.g + nw, db, (size_t)k.O) : 0;
    CHECK(ex < 1e-5 && ew < 1e-5 && eb < 1e-5, "%s: twice accumulated: dx %.3g, dW %.3g, db %.3g", label, ex, ew, eb);
    free(y); free(dx); free(dw); free(db);
    rig_free(&R);
}

/* The 3x3 stride-1 padding-1 layers that go straight from the image (gs_conv3x3: at least
 * GS_CONV3X3_MIN_PIXELS pixels, O a multiple of 8 for y, C a multiple of 8 for dx, O a multiple of 16
 * for dW) against the naive
 * conv, with odd sizes, bias, one and two threads; and the kernel itself against the implicit GEMM,
 * whose bits it keeps while C 9 fits one K block. */
static void test_conv3x3_direct(void)
{
    static const conv_case cases[] = {
        { 2, 8, 12, 11, 8, 3, 3, 1, 1 },      /* 132 pixels, dx direct too */
        { 3, 3, 13, 11, 16, 3, 3, 1, 1 },     /* C 3: y direct, dx by the implicit GEMM */
        { 2, 16, 28, 28, 16, 3, 3, 1, 1 },    /* the study's first stage */
        { 2, 16, 14, 14, 24, 3, 3, 1, 1 },
        { 2, 24, 16, 9, 12, 3, 3, 1, 1 },     /* O 12: y by the implicit GEMM, dx direct */
        { 1, 1, 28, 28, 16, 3, 3, 1, 1 },     /* a net's first layer */
        { 2, 32, 14, 14, 32, 3, 3, 1, 1 },    /* the study's second stage: y and dx by Winograd */
        { 3, 64, 7, 7, 64, 3, 3, 1, 1 },      /* the third: y and dx on 7-wide maps, vectors over channels */
        { 2, 16, 5, 7, 32, 3, 3, 1, 1 },      /* 7 wide, 5 rows: y by them, dx (16 out) by the implicit GEMM */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int threads = 1; threads <= 2; threads++) {
            const conv_case k = cases[i];
            char label[128];
            rng_seed(700 + 2 * i + threads);
            snprintf(label, sizeof label, "conv3x3 N%d C%d %dx%d O%d, %d thread%s", k.N, k.C, k.H, k.W, k.O, threads,
                     threads > 1 ? "s" : "");
            naive_case(k, (int)(i % 2), threads, k.N, label);
        }
    /* finite differences through a direct layer (y and dx both direct); 132 pixels x 8 channels is a
       larger sum than the other cases', so a wider step (exact: the layer is linear) keeps the float
       forward's rounding below the tolerance */
    const conv_case fdk[] = { { 1, 8, 12, 11, 8, 3, 3, 1, 1 }, { 2, 2, 11, 12, 16, 3, 3, 1, 1 } };  /* the second: dW too */
    const double h = rel_h;
    rel_h = 0.25;
    for (int i = 0; i < 2; i++) {
        rig R;
        rng_seed(777 + i);
        CHECK_EQ_INT(conv_rig(&R, fdk[i], 1, 1, fdk[i].N), GS_OK);
        if (R.n.ops) check_rig(&R, i ? "conv3x3 direct y and dW, finite differences" : "conv3x3 direct y and dx, finite differences");
        rig_free(&R);
    }
    rel_h = h;

    const gs_backend *be = gs_backend_cpu();
    const int path = gs_gemm_best_path();
    if (path == GS_GEMM_AVX2) {   /* bordered images on the stack: any map up to their size, O even */
        CHECK(be->conv3x3(0, 16, 28, 28, 16, NULL, NULL, NULL, NULL, NULL, 0), "AVX2 refused a 28x28 layer");
        CHECK(be->conv3x3(0, 16, 7, 7, 12, NULL, NULL, NULL, NULL, NULL, 0), "AVX2 refused 7x7 maps, O 12");
        CHECK(!be->conv3x3(0, 16, 28, 28, 7, NULL, NULL, NULL, NULL, NULL, 0), "AVX2 took O 7");
        CHECK(!be->conv3x3(0, 32, 28, 28, 16, NULL, NULL, NULL, NULL, NULL, 0), "AVX2 took an image past its buffer");
        CHECK(!be->conv3x3(0, 16, 28, 28, 32, NULL, NULL, NULL, NULL, NULL, 0), "AVX2 took outputs past their buffer");
    }
    if (path != GS_GEMM_AVX512) {
        if (path == GS_GEMM_PORTABLE)
            CHECK(!be->conv3x3(0, 16, 28, 28, 16, NULL, NULL, NULL, NULL, NULL, 0), "the portable path took a layer");
        return;
    }
    CHECK(be->conv3x3(0, 16, 28, 28, 16, NULL, NULL, NULL, NULL, NULL, 0), "AVX-512 refused a 28x28 layer");
    CHECK(!be->conv3x3(0, 16, 7, 7, 16, NULL, NULL, NULL, NULL, NULL, 0), "7x7 maps belong to the implicit GEMM");
    CHECK(!be->conv3x3(0, 16, 28, 28, 12, NULL, NULL, NULL, NULL, NULL, 0), "O 12 is not a multiple of 8");
    /* bits: the same sums as the implicit GEMM's (C 9 = 144 <= one K block) */
    const int C = 16, H = 28, W = 28, O = 16, P = H * W;
    float *x = falloc((size_t)C * P), *w = falloc((size_t)O * C * 9), *wd = falloc((size_t)O * C * 9);
    float *y1 = falloc((size_t)O * P), *y2 = falloc((size_t)O * P);
    uint16_t *masks = malloc(be->conv3x3_masks_len(H, W) * sizeof *masks);
    fill(x, (size_t)C * P, -1, 1);
    fill(w, (size_t)O * C * 9, -1, 1);
    for (int o = 0; o < O; o++)
        for (int c = 0; c < C; c++)
            for (int t = 0; t < 9; t++) wd[((size_t)c * 9 + t) * O + o] = w[((size_t)o * C + c) * 9 + t];
    be->conv3x3_masks(H, W, masks);
    CHECK(be->conv3x3(1, C, H, W, O, x, wd, NULL, masks, y1, 0) == 1, "conv3x3 refused a 28x28 layer");
    if (be->conv_gemm(0, O, w, C * 9, C, H, W, 3, 3, 1, 1, x, 0.0f, y2, P)) {
        size_t diff = 0;
        for (size_t i = 0; i < (size_t)O * P; i++) diff += memcmp(&y1[i], &y2[i], sizeof *y1) != 0;
        CHECK(diff == 0, "%zu of %d outputs differ from the implicit GEMM's bits", diff, O * P);
    }
    free(x); free(w); free(wd); free(y1); free(y2); free(masks);
}

/* Winograd F(2x2, 3x3): y and dx (the flipped filters) against double sums, with bias and accumulate;
 * the shapes it declines. */
static double wino_ref(const float *in, const float *w, int C, int H, int W, int O, int o, int h, int ww, int flip)
{
    double s = 0;
    for (int c = 0; c < C; c++)
        for (int t = 0; t < 9; t++) {
            const int ki = t / 3, kj = t % 3;
            /* y: in[c][h + ki - 1][w + kj - 1] w[o][c][t];  dx (flip): in[c][h - ki + 1][w - kj + 1] w[c][o][t] */
            const int hh = flip ? h - ki + 1 : h + ki - 1, w2 = flip ? ww - kj + 1 : ww + kj - 1;
            if (hh < 0 || hh >= H || w2 < 0 || w2 >= W) continue;
            const float wt = flip ? w[((size_t)c * O + o) * 9 + t] : w[((size_t)o * C + c) * 9 + t];
            s += (double)wt * in[((size_t)c * H + hh) * W + w2];
        }
    return s;
}

static void test_wino3x3(void)
{
    const gs_backend *be = gs_backend_cpu();
    if (!be->wino3x3(0, 16, 28, 28, 16, NULL, NULL, NULL, NULL, 0, NULL, be->wino3x3_work(16, 28, 28, 16))) return;
    const size_t big = (size_t)1 << 20;
    CHECK(!be->wino3x3(0, 16, 28, 27, 16, NULL, NULL, NULL, NULL, 0, NULL, big), "odd width taken");
    CHECK(!be->wino3x3(0, 16, 7, 34, 16, NULL, NULL, NULL, NULL, 0, NULL, big), "width 34 taken");
    CHECK(!be->wino3x3(0, 16, 28, 28, 12, NULL, NULL, NULL, NULL, 0, NULL, big), "O 12 taken");
    CHECK(!be->wino3x3(0, 4, 28, 28, 16, NULL, NULL, NULL, NULL, 0, NULL, big), "C 4 taken");
    CHECK(!be->wino3x3(0, 16, 8, 8, 16, NULL, NULL, NULL, NULL, 0, NULL, big), "64 pixels taken");
    CHECK(!be->wino3x3(0, 16, 28, 28, 16, NULL, NULL, NULL, NULL, 0, NULL, be->wino3x3_work(16, 28, 28, 16) - 1),
          "too little work taken");
    static const int shapes[][4] = { { 16, 28, 28, 16 }, { 24, 14, 14, 16 }, { 8, 16, 12, 8 }, { 16, 12, 32, 24 } };
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++)
        for (int flip = 0; flip < 2; flip++)
            for (int mode = 0; mode < 2; mode++) {   /* 0: y = conv; 1: y += conv + bias */
                const int Cl = shapes[k][0], H = shapes[k][1], W = shapes[k][2], Ol = shapes[k][3], g = 2;
                /* flip: dx of a layer (Ol, Cl): Ol channels in, Cl out */
                const int C = flip ? Ol : Cl, O = flip ? Cl : Ol, P = H * W;
                if (!be->wino3x3(0, C, H, W, O, NULL, NULL, NULL, NULL, 0, NULL, big)) continue;
                rng_seed(900 + 4 * k + 2 * flip + mode);
                float *x = falloc((size_t)g * C * P), *w = falloc((size_t)Ol * Cl * 9), *b = falloc((size_t)O);
                float *y = falloc((size_t)g * O * P), *y0 = falloc((size_t)g * O * P);
                float *U = falloc(be->wino3x3_filter_floats(C, O));
                const size_t nw = be->wino3x3_work(C, H, W, O);
                float *work = falloc(nw);
                fill(x, (size_t)g * C * P, -1, 1);
                fill(w, (size_t)Ol * Cl * 9, -1, 1);
                fill(b, (size_t)O, -1, 1);
                fill(y0, (size_t)g * O * P, -1, 1);
                memcpy(y, y0, (size_t)g * O * P * sizeof *y);
                be->wino3x3_filter(C, O, w, flip, U);
                CHECK(be->wino3x3(g, C, H, W, O, x, U, mode ? b : NULL, y, mode, work, nw) == 1, "declined");
                double worst = 0, scale = 1e-30;
                for (int n = 0; n < g; n++)
                    for (int o = 0; o < O; o++)
                        for (int p = 0; p < P; p++) {
                            const size_t i = ((size_t)n * O + o) * P + (size_t)p;
                            double r = wino_ref(x + (size_t)n * C * P, w, C, H, W, O, o, p / W, p % W, flip);
                            if (mode) r += (double)y0[i] + b[o];
                            worst = fmax(worst, fabs(y[i] - r));
                            scale = fmax(scale, fabs(r));
                        }
                CHECK(worst <= 1e-5 * scale, "wino3x3 C%d %dx%d O%d%s%s: worst error %.3g of %.3g", C, H, W, O,
                      flip ? " (dx filters)" : "", mode ? " accumulate + bias" : "", worst, scale);
                free(x); free(w); free(b); free(y); free(y0); free(U); free(work);
            }
}

/* The direct kernels, against double sums: y = conv, and y += conv + bias, two samples, on the study's
 * three stages and odd shapes (one pixel, 3 rows, 40 wide, 5 input channels): the backend's gs_conv3x3
 * on the CPU's best path, and the AVX2 kernel itself wherever the CPU has AVX2 (on AVX-512 CPUs the
 * backend never calls it). */
static int conv3x3_best(int g, int C, int H, int W, int O, const float *x, const float *wd, const float *bias,
                        const uint16_t *masks, float *y, int accumulate)
{
    return gs_backend_cpu()->conv3x3(g, C, H, W, O, x, wd, bias, masks, y, accumulate);
}
#ifdef GS_GEMM_X86
static int conv3x3_avx2(int g, int C, int H, int W, int O, const float *x, const float *wd, const float *bias,
                        const uint16_t *masks, float *y, int accumulate)
{
    (void)masks;
    return gs_conv3x3_avx2(g, C, H, W, O, x, wd, bias, y, accumulate);
}
#endif
typedef int conv3x3_fn(int g, int C, int H, int W, int O, const float *x, const float *wd, const float *bias,
                       const uint16_t *masks, float *y, int accumulate);

static void conv3x3_kernel_case(conv3x3_fn *fn, const char *name)
{
    const gs_backend *be = gs_backend_cpu();
    static const int shapes[][4] = { { 16, 28, 28, 16 }, { 32, 14, 14, 32 }, { 64, 7, 7, 64 }, { 16, 7, 7, 32 },
                                     { 5, 3, 40, 12 }, { 3, 13, 11, 16 }, { 8, 1, 1, 8 }, { 1, 28, 28, 16 },
                                     { 24, 16, 9, 8 } };
    int taken = 0;
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++)
        for (int mode = 0; mode < 2; mode++) {
            const int C = shapes[k][0], H = shapes[k][1], W = shapes[k][2], O = shapes[k][3], P = H * W, g = 2;
            if (!fn(0, C, H, W, O, NULL, NULL, NULL, NULL, NULL, 0)) continue;
            taken++;
            rng_seed(880 + 2 * k + mode);
            float *x = falloc((size_t)g * C * P), *w = falloc((size_t)O * C * 9), *wd = falloc((size_t)O * C * 9);
            float *b = falloc((size_t)O), *y = falloc((size_t)g * O * P), *y0 = falloc((size_t)g * O * P);
            uint16_t *masks = malloc(be->conv3x3_masks_len(H, W) * sizeof *masks);
            fill(x, (size_t)g * C * P, -1, 1);
            fill(w, (size_t)O * C * 9, -1, 1);
            fill(b, (size_t)O, -1, 1);
            fill(y0, (size_t)g * O * P, -1, 1);
            memcpy(y, y0, (size_t)g * O * P * sizeof *y);
            for (int o = 0; o < O; o++)
                for (int c = 0; c < C; c++)
                    for (int t = 0; t < 9; t++) wd[((size_t)c * 9 + t) * O + o] = w[((size_t)o * C + c) * 9 + t];
            be->conv3x3_masks(H, W, masks);
            CHECK(fn(g, C, H, W, O, x, wd, mode ? b : NULL, masks, y, mode) == 1, "%s declined", name);
            double worst = 0, scale = 1e-30;
            for (int n = 0; n < g; n++)
                for (int o = 0; o < O; o++)
                    for (int p = 0; p < P; p++) {
                        const size_t i = ((size_t)n * O + o) * P + (size_t)p;
                        double r = wino_ref(x + (size_t)n * C * P, w, C, H, W, O, o, p / W, p % W, 0);
                        if (mode) r += (double)y0[i] + b[o];
                        worst = fmax(worst, fabs(y[i] - r));
                        scale = fmax(scale, fabs(r));
                    }
            CHECK(worst <= 1e-5 * scale, "%s C%d %dx%d O%d%s: worst error %.3g of %.3g", name, C, H, W, O,
                  mode ? " accumulate + bias" : "", worst, scale);
            free(x); free(w); free(wd); free(b); free(y); free(y0); free(masks);
        }
    CHECK(taken >= 4, "%s took %d of the shapes", name, taken);
}

static void test_conv3x3_kernel(void)
{
    if (gs_gemm_best_path() == GS_GEMM_PORTABLE) return;   /* no direct kernel: im2col + GEMM, tested above */
    conv3x3_kernel_case(conv3x3_best, "conv3x3");
#ifdef GS_GEMM_X86
    if (gs_gemm_best_path() >= GS_GEMM_AVX2) conv3x3_kernel_case(conv3x3_avx2, "conv3x3 AVX2");
#endif
}

/* The direct weight gradient against double sums, accumulating into dW and not, three samples, on the
 * study's stages and odd shapes: the backend's on the best path, and the AVX2 kernel itself wherever
 * the CPU has AVX2, once with the least work it takes (a sample at a time) and once with room for all. */
static int conv3x3_dw_best(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw, int acc,
                           float *work, size_t nw)
{
    return gs_backend_cpu()->conv3x3_dw(g, C, H, W, O, x, dy, dw, acc, work, nw);
}
typedef int conv3x3_dw_fn(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw, int acc,
                          float *work, size_t nw);

static void conv3x3_dw_case(conv3x3_dw_fn *fn, size_t (*work_of)(int, int, int, int), int least, const char *name)
{
    static const int shapes[][4] = { { 16, 28, 28, 16 }, { 32, 14, 14, 32 }, { 64, 7, 7, 64 }, { 5, 3, 40, 12 },
                                     { 3, 13, 11, 16 }, { 8, 1, 1, 8 }, { 24, 16, 9, 16 } };
    int taken = 0;
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++)
        for (int acc = 0; acc < 2; acc++) {
            const int C = shapes[k][0], H = shapes[k][1], W = shapes[k][2], O = shapes[k][3], P = H * W, g = 3;
            const size_t nw = least ? work_of(C, H, W, O) : (size_t)1 << 22;
            if (!fn(0, C, H, W, O, NULL, NULL, NULL, 0, NULL, nw)) continue;
            taken++;
            rng_seed(990 + 2 * k + acc);
            float *x = falloc((size_t)g * C * P), *dy = falloc((size_t)g * O * P), *work = falloc(nw);
            float *dw = falloc((size_t)O * C * 9), *dw0 = falloc((size_t)O * C * 9);
            fill(x, (size_t)g * C * P, -1, 1);
            fill(dy, (size_t)g * O * P, -1, 1);
            fill(dw0, (size_t)O * C * 9, -1, 1);
            memcpy(dw, dw0, (size_t)O * C * 9 * sizeof *dw);
            CHECK(fn(g, C, H, W, O, x, dy, dw, acc, work, nw) == 1, "%s declined", name);
            double worst = 0, scale = 1e-30;
            for (int o = 0; o < O; o++)
                for (int c = 0; c < C; c++)
                    for (int t = 0; t < 9; t++) {
                        double r = acc ? dw0[((size_t)o * C + c) * 9 + t] : 0.0;
                        for (int n = 0; n < g; n++)
                            for (int p = 0; p < P; p++) {
                                const int h = p / W + t / 3 - 1, w2 = p % W + t % 3 - 1;
                                if (h < 0 || h >= H || w2 < 0 || w2 >= W) continue;
                                r += (double)dy[((size_t)n * O + o) * P + p] * x[((size_t)n * C + c) * P + (size_t)h * W + w2];
                            }
                        worst = fmax(worst, fabs(dw[((size_t)o * C + c) * 9 + t] - r));
                        scale = fmax(scale, fabs(r));
                    }
            CHECK(worst <= 1e-5 * scale, "%s C%d %dx%d O%d%s%s: worst error %.3g of %.3g", name, C, H, W, O,
                  acc ? " accumulate" : "", least ? " least work" : "", worst, scale);
            free(x); free(dy); free(work); free(dw); free(dw0);
        }
    CHECK(taken >= 3, "%s took %d of the shapes", name, taken);
}

static void test_conv3x3_dw_kernel(void)
{
    if (gs_gemm_best_path() == GS_GEMM_PORTABLE) return;   /* im2col + GEMM, tested through the layer */
    conv3x3_dw_case(conv3x3_dw_best, gs_conv3x3_dw_work, 1, "conv3x3_dw");
#ifdef GS_GEMM_X86
    if (gs_gemm_best_path() >= GS_GEMM_AVX2) {
        conv3x3_dw_case(gs_conv3x3_dw_avx2, gs_conv3x3_dw_avx2_work, 1, "conv3x3_dw AVX2");
        conv3x3_dw_case(gs_conv3x3_dw_avx2, gs_conv3x3_dw_avx2_work, 0, "conv3x3_dw AVX2");
        CHECK(!gs_conv3x3_dw_avx2(0, 16, 28, 28, 16, NULL, NULL, NULL, 0, NULL, gs_conv3x3_dw_avx2_work(16, 28, 28, 16) - 1),
              "AVX2 dW took too little work");
        CHECK(!gs_conv3x3_dw_avx2(0, 16, 28, 28, 6, NULL, NULL, NULL, 0, NULL, (size_t)1 << 22), "AVX2 dW took O 6");
    }
#endif
}

/* The stride-2 kernels through phase images against double sums: y (with bias and accumulate), dx
 * (accumulate) and dW (accumulate) on shapes with 7-, 14-, 15-, 16- and 31-wide outputs; the shapes they decline. */
static double s2_x(const float *x, int H, int W, int c, int h, int w)
{
    return h < 0 || w < 0 || h >= H || w >= W ? 0.0 : (double)x[((size_t)c * H + h) * W + w];
}

static void test_conv3x3s2(void)
{
    const gs_backend *be = gs_backend_cpu();
    const size_t big = (size_t)1 << 22;
    if (!be->conv3x3s2(0, 16, 28, 28, 32, NULL, NULL, NULL, NULL, 0, NULL, big)) return;   /* no AVX-512 */
    CHECK(!be->conv3x3s2(0, 16, 28, 27, 32, NULL, NULL, NULL, NULL, 0, NULL, big), "odd width taken");
    CHECK(!be->conv3x3s2(0, 16, 8, 64, 32, NULL, NULL, NULL, NULL, 0, NULL, big), "32-wide output taken");
    CHECK(!be->conv3x3s2(0, 16, 8, 8, 32, NULL, NULL, NULL, NULL, 0, NULL, big), "16 output pixels taken");
    CHECK(!be->conv3x3s2(0, 12, 28, 28, 32, NULL, NULL, NULL, NULL, 0, NULL, big), "C 12 taken");
    CHECK(!be->conv3x3s2_dw(0, 16, 28, 28, 24, NULL, NULL, NULL, 0, NULL, big), "O 24 taken");
    CHECK(!be->conv3x3s2_dx(0, 16, 28, 28, 32, NULL, NULL, NULL, 0, NULL, be->conv3x3s2_work(16, 28, 28, 32) - 1),
          "too little work taken");
    static const int shapes[][4] = { { 16, 28, 28, 32 }, { 32, 14, 14, 64 }, { 8, 26, 30, 16 }, { 24, 32, 32, 16 },
                                     { 8, 24, 62, 32 } };
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        const int C = shapes[k][0], H = shapes[k][1], W = shapes[k][2], O = shapes[k][3], g = 2;
        const int Ho = H / 2, Wo = W / 2, P = Ho * Wo;
        rng_seed(950 + k);
        const size_t nx = (size_t)g * C * H * W, ny = (size_t)g * O * P, nw = (size_t)O * C * 9;
        float *x = falloc(nx), *w = falloc(nw), *b = falloc((size_t)O), *y = falloc(ny), *y0 = falloc(ny);
        float *dx = falloc(nx), *dx0 = falloc(nx), *dw = falloc(nw), *dw0 = falloc(nw);
        const size_t nwk = be->conv3x3s2_work(C, H, W, O);
        float *work = falloc(nwk);
        fill(x, nx, -1, 1); fill(w, nw, -1, 1); fill(b, (size_t)O, -1, 1);
        fill(y0, ny, -1, 1); fill(dx0, nx, -1, 1); fill(dw0, nw, -1, 1);
        memcpy(y, y0, ny * sizeof *y); memcpy(dx, dx0, nx * sizeof *dx); memcpy(dw, dw0, nw * sizeof *dw);
        const float *dy = y0;    /* any values do for dy */
        CHECK(be->conv3x3s2(g, C, H, W, O, x, w, b, y, 1, work, nwk) == 1, "y declined");
        CHECK(be->conv3x3s2_dx(g, C, H, W, O, dy, w, dx, 1, work, nwk) == 1, "dx declined");
        CHECK(be->conv3x3s2_dw(g, C, H, W, O, x, dy, dw, 1, work, nwk) == 1, "dW declined");
        double ey = 0, sy = 1e-30, ex = 0, sx = 1e-30, ew = 0, sw = 1e-30;
        for (int n = 0; n < g; n++) {
            const float *xn = x + (size_t)n * C * H * W, *dn = dy + (size_t)n * O * P;
            for (int o = 0; o < O; o++)
                for (int i = 0; i < Ho; i++)
                    for (int j = 0; j < Wo; j++) {
                        double r = (double)y0[((size_t)n * O + o) * P + (size_t)i * Wo + j] + b[o];
                        for (int c = 0; c < C; c++)
                            for (int t = 0; t < 9; t++)
                                r += (double)w[((size_t)o * C + c) * 9 + t] * s2_x(xn, H, W, c, 2 * i + t / 3 - 1, 2 * j + t % 3 - 1);
                        const size_t q = ((size_t)n * O + o) * P + (size_t)i * Wo + j;
                        ey = fmax(ey, fabs(y[q] - r)); sy = fmax(sy, fabs(r));
                    }
            for (int c = 0; c < C; c++)
                for (int h = 0; h < H; h++)
                    for (int v = 0; v < W; v++) {
                        const size_t q = (size_t)n * C * H * W + ((size_t)c * H + h) * W + v;
                        double r = dx0[q];
                        for (int o = 0; o < O; o++)
                            for (int t = 0; t < 9; t++) {
                                const int hh = h + 1 - t / 3, ww = v + 1 - t % 3;   /* = 2 i, 2 j */
                                if (hh < 0 || ww < 0 || hh % 2 || ww % 2 || hh / 2 >= Ho || ww / 2 >= Wo) continue;
                                r += (double)w[((size_t)o * C + c) * 9 + t] * dn[(size_t)o * P + (size_t)(hh / 2) * Wo + ww / 2];
                            }
                        ex = fmax(ex, fabs(dx[q] - r)); sx = fmax(sx, fabs(r));
                    }
        }
        for (int o = 0; o < O; o++)
            for (int c = 0; c < C; c++)
                for (int t = 0; t < 9; t++) {
                    double r = dw0[((size_t)o * C + c) * 9 + t];
                    for (int n = 0; n < g; n++)
                        for (int i = 0; i < Ho; i++)
                            for (int j = 0; j < Wo; j++)
                                r += (double)dy[((size_t)n * O + o) * P + (size_t)i * Wo + j] *
                                     s2_x(x + (size_t)n * C * H * W, H, W, c, 2 * i + t / 3 - 1, 2 * j + t % 3 - 1);
                    const size_t q = ((size_t)o * C + c) * 9 + t;
                    ew = fmax(ew, fabs(dw[q] - r)); sw = fmax(sw, fabs(r));
                }
        CHECK(ey <= 1e-5 * sy, "conv3x3s2 y C%d %dx%d O%d: worst error %.3g of %.3g", C, H, W, O, ey, sy);
        CHECK(ex <= 1e-5 * sx, "conv3x3s2 dx C%d %dx%d O%d: worst error %.3g of %.3g", C, H, W, O, ex, sx);
        CHECK(ew <= 1e-5 * sw, "conv3x3s2 dW C%d %dx%d O%d: worst error %.3g of %.3g", C, H, W, O, ew, sw);
        free(x); free(w); free(b); free(y); free(y0); free(dx); free(dx0); free(dw); free(dw0); free(work);
    }
}

/* Stride 2 on wide rows: im2col's gathers and col2im's adds over rows of 14 (the study's
 * transitions), 20 and 17 output columns. */
static void test_conv_stride2_rows(void)
{
    static const conv_case cases[] = {
        { 2, 4, 28, 28, 8, 3, 3, 2, 1 },
        { 1, 3, 9, 40, 8, 3, 3, 2, 1 },
        { 2, 2, 10, 33, 4, 1, 1, 2, 0 },      /* 1x1 stride 2: the option-B shortcut, 17 a row */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const conv_case k = cases[i];
        char label[128];
        rng_seed(1100 + i);
        snprintf(label, sizeof label, "stride 2 N%d C%d %dx%d O%d k%dx%d", k.N, k.C, k.H, k.W, k.O, k.kh, k.kw);
        naive_case(k, 1, 1 + (int)(i % 2), k.N, label);
    }
}

static void test_conv_vs_naive_random(void)
{
    rng_seed(200);
    for (int it = 0; it < 40; it++) {
        conv_case k;
        k.kh = irand(1, 5); k.kw = irand(1, 5); k.stride = irand(1, 3); k.pad = irand(0, 2);
        k.N = irand(1, 7); k.C = irand(1, 6); k.O = irand(1, 9);
        k.H = irand(1, 12); k.W = irand(1, 12);
        if (k.H + 2 * k.pad < k.kh) k.H = k.kh;
        if (k.W + 2 * k.pad < k.kw) k.W = k.kw;
        const int threads = 1 + it % 2, bias = it % 3 != 0, max_batch = k.N + irand(0, 3);
        char label[160];
        snprintf(label, sizeof label, "random %d: N%d C%d %dx%d O%d k%dx%d s%d p%d bias %d threads %d", it, k.N,
                 k.C, k.H, k.W, k.O, k.kh, k.kw, k.stride, k.pad, bias, threads);
        naive_case(k, bias, threads, max_batch, label);
    }
}

/* Shapes big enough for two threads to split the batch, small maps where samples share a GEMM
 * (groups, the last one partial), and the implicit im2col's edges (K blocks, 25 taps, kh != kw). */
static void test_conv_vs_naive_threads(void)
{
    static const conv_case cases[] = {
        { 16, 16, 14, 14, 16, 3, 3, 1, 1 },
        { 13, 8, 7, 7, 16, 3, 3, 1, 1 },      /* 7x7: several samples per GEMM, a partial last group */
        { 12, 16, 12, 12, 32, 3, 3, 2, 1 },
        { 9, 32, 8, 8, 32, 1, 1, 1, 0 },      /* 1x1 direct */
        { 10, 16, 9, 9, 32, 1, 1, 2, 0 },     /* 1x1 stride 2 */
        { 5, 4, 3, 3, 8, 3, 3, 1, 1 },        /* 3x3 map, 29 samples fit a group: all in one */
        { 6, 48, 8, 8, 8, 3, 3, 1, 1 },       /* C kh kw = 432 > GS_GEMM_KC: two K blocks */
        { 7, 3, 6, 11, 5, 5, 5, 1, 2 },       /* 5x5 "same": 25 taps on the implicit path */
        { 4, 2, 9, 6, 3, 2, 3, 1, 1 },        /* kh != kw: implicit y and dW, dx through col2im */
    };
    rng_seed(300);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int threads = 1; threads <= 3; threads++) {
            char label[160];
            const conv_case k = cases[i];
            snprintf(label, sizeof label, "N%d C%d %dx%d O%d k%dx%d s%d p%d threads %d", k.N, k.C, k.H, k.W,
                     k.O, k.kh, k.kw, k.stride, k.pad, threads);
            naive_case(k, (int)(i % 2), threads, k.N + 3, label);
            /* and a batch smaller than max_batch */
            conv_case small = k;
            small.N = k.N / 2 + 1;
            naive_case(small, (int)(i % 2), threads, k.N + 3, label);
        }
}

/* y and dx do not depend on the thread count (each element is computed by one thread in a fixed order). */
static void test_conv_threads_same_bits(void)
{
    const conv_case k = { 16, 16, 14, 14, 16, 3, 3, 1, 1 };
    rig A, B;
    rng_seed(310); CHECK_EQ_INT(conv_rig(&A, k, 1, 1, k.N), GS_OK);
    rng_seed(310); CHECK_EQ_INT(conv_rig(&B, k, 1, 2, k.N), GS_OK);
    if (A.n.ops && B.n.ops) {
        rig_backward(&A); rig_backward(&B);
        CHECK(memcmp(A.y, B.y, A.ny * sizeof *A.y) == 0, "y differs between 1 and 2 threads");
        CHECK(memcmp(A.dx, B.dx, A.nx * sizeof *A.dx) == 0, "dx differs between 1 and 2 threads");
        CHECK(rel_err(B.g, A.g, A.np) < 1e-5, "dW differs between 1 and 2 threads by %.3g", rel_err(B.g, A.g, A.np));
    }
    rig_free(&A); rig_free(&B);
}

/* Deterministic contexts: dW and db too are bit-identical for 1, 2 and 3 threads, and still right. */
static void test_conv_deterministic(void)
{
    static const conv_case cases[] = {
        { 16, 16, 14, 14, 16, 3, 3, 1, 1 },   /* implicit path, one sample a group */
        { 13, 8, 7, 7, 16, 3, 3, 1, 1 },      /* several samples a group, a partial last group */
        { 12, 16, 12, 12, 32, 3, 3, 2, 1 },   /* im2col, stride 2 */
        { 3, 4, 8, 8, 8, 1, 1, 1, 0 },        /* fewer groups than chunks */
    };
    rig_deterministic = 1;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const conv_case k = cases[i];
        rig R[3];
        for (int t = 0; t < 3; t++) {
            rng_seed(320 + (unsigned)i);
            CHECK_EQ_INT(conv_rig(&R[t], k, 1, t + 1, k.N), GS_OK);
            if (R[t].n.ops) rig_backward(&R[t]);
        }
        for (int t = 1; t < 3; t++)
            if (R[0].n.ops && R[t].n.ops) {
                CHECK(memcmp(R[0].g, R[t].g, R[0].np * sizeof *R[0].g) == 0, "case %zu: dW/db differ, 1 and %d threads",
                      i, t + 1);
                CHECK(memcmp(R[0].dx, R[t].dx, R[0].nx * sizeof *R[0].dx) == 0, "case %zu: dx differs", i);
            }
        for (int t = 0; t < 3; t++) rig_free(&R[t]);
        char label[64];
        snprintf(label, sizeof label, "deterministic case %zu, 2 threads", i);
        naive_case(k, 1, 2, k.N + 2, label);
    }
    rig_deterministic = 0;
}

static void test_conv_golden(void)
{
    for (size_t i = 0; i < sizeof conv_goldens / sizeof *conv_goldens; i++) {
        const conv_golden *G = &conv_goldens[i];
        const conv_case k = { G->N, G->C, G->H, G->W, G->O, G->kh, G->kw, G->stride, G->pad };
        const size_t nw = (size_t)G->O * G->C * G->kh * G->kw;
        for (int threads = 1; threads <= 2; threads++) {
            rig R;
            CHECK_EQ_INT(conv_rig(&R, k, G->bias, threads, G->N), GS_OK);
            if (!R.n.ops) { rig_free(&R); continue; }
            memcpy(R.x, G->x, R.nx * sizeof *R.x);
            memcpy(R.p, G->w, nw * sizeof *R.p);
            if (G->bias) memcpy(R.p + nw, G->b, (size_t)G->O * sizeof *R.p);
            memcpy(R.r, G->dy, R.ny * sizeof *R.r);
            rig_backward(&R);
            const double ey = rel_err(R.y, G->y, R.ny), ex = rel_err(R.dx, G->dx, R.nx), ew = rel_err(R.g, G->dw, nw);
            const double eb = G->bias ? rel_err(R.g + nw, G->db, (size_t)G->O) : 0;
            CHECK(ey < 1e-5 && ex < 1e-5 && ew < 1e-5 && eb < 1e-5,
                  "%s threads %d vs PyTorch: y %.3g, dx %.3g, dW %.3g, db %.3g", G->name, threads, ey, ex, ew, eb);
            rig_free(&R);
        }
    }
}

static void test_conv_bad_shapes(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_node n;
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(gs_conv2d_node(ctx, &n, 0, 4, 4, 2, 3, 3, 1, 1, 1, 0, GS_NO_OFFSET), GS_ESHAPE);
    CHECK_EQ_INT(gs_conv2d_node(ctx, &n, 2, 4, 4, 2, 3, 3, 0, 1, 1, 0, GS_NO_OFFSET), GS_EINVAL);
    CHECK_EQ_INT(gs_conv2d_node(ctx, &n, 2, 4, 4, 2, 3, 3, 1, -1, 1, 0, GS_NO_OFFSET), GS_EINVAL);
    CHECK_EQ_INT(gs_conv2d_node(ctx, &n, 2, 4, 4, 2, 3, 3, 1, 1, 0, 0, GS_NO_OFFSET), GS_EINVAL);
    CHECK_EQ_INT(gs_conv2d_node(ctx, &n, 2, 2, 4, 2, 5, 3, 1, 1, 1, 0, GS_NO_OFFSET), GS_ESHAPE);
    CHECK_EQ_INT(gs_conv2d_node(ctx, &n, 1 << 16, 1 << 10, 1 << 10, 2, 3, 3, 1, 1, 1, 0, GS_NO_OFFSET), GS_ESHAPE);
    CHECK(strstr(gs_errmsg(ctx), "conv2d") != NULL, "message names the layer: %s", gs_errmsg(ctx));
    CHECK_EQ_INT(gs_maxpool_node(ctx, &n, 2, 4, 4, 2, 2, 2, 1), GS_EINVAL);   /* pad > k/2 */
    CHECK_EQ_INT(gs_maxpool_node(ctx, &n, 2, 4, 4, 0, 2, 0, 1), GS_ESHAPE);
    CHECK_EQ_INT(gs_maxpool_node(ctx, &n, 2, 2, 2, 3, 1, 0, 1), GS_ESHAPE);
    CHECK_EQ_INT(gs_avgpool_node(ctx, &n, 2, 0, 4), GS_ESHAPE);
    CHECK_EQ_INT(gs_shortcut_a_node(ctx, &n, 4, 4, 4, 2, 2), GS_ESHAPE);     /* O < C */
    CHECK_EQ_INT(gs_shortcut_a_node(ctx, &n, 4, 4, 4, 7, 2), GS_ESHAPE);     /* odd padding */
    CHECK_EQ_INT(gs_shortcut_a_node(ctx, &n, 4, 4, 4, 8, 0), GS_ESHAPE);
    CHECK(n.state == NULL && n.ops == NULL, "state allocated on failure");
    gs_ctx_free(ctx);
}

/* ---- max pool ---- */
static void maxpool_case(int N, int C, int H, int W, int k, int s, int p)
{
    const int Ho = out_size(H, k, s, p), Wo = out_size(W, k, s, p);
    char label[96];
    rig R;
    snprintf(label, sizeof label, "maxpool %dx%d k%d s%d p%d", H, W, k, s, p);
    rig_alloc(&R, N, (int64_t)C * H * W, (int64_t)C * Ho * Wo, 0, 1);
    /* a shuffled ladder of distinct values 0.05 apart: no near-ties for the finite differences */
    for (size_t i = 0; i < R.nx; i++) R.x[i] = (float)(0.05 * (double)i - 0.025 * (double)R.nx);
    for (size_t i = R.nx - 1; i > 0; i--) {
        size_t j = (size_t)(urand() * (double)(i + 1));
        float t = R.x[i]; R.x[i] = R.x[j]; R.x[j] = t;
    }
    CHECK_EQ_INT(gs_maxpool_node(R.ctx, &R.n, C, H, W, k, s, p, N), GS_OK);
    if (R.n.ops) {
        rel_h = 1e-3;
        check_rig(&R, label);
        rel_h = 1e-2;
        /* forward against a direct maximum over the window */
        rig_forward(&R);
        double worst = 0;
        for (int i = 0; i < N * C; i++)
            for (int a = 0; a < Ho; a++)
                for (int b = 0; b < Wo; b++) {
                    float m = -INFINITY;
                    for (int u = a * s - p; u < a * s - p + k; u++)
                        for (int v = b * s - p; v < b * s - p + k; v++)
                            if (u >= 0 && u < H && v >= 0 && v < W && R.x[((size_t)i * H + u) * W + v] > m)
                                m = R.x[((size_t)i * H + u) * W + v];
                    worst = fmax(worst, fabs(m - R.y[((size_t)i * Ho + a) * Wo + b]));
                }
        CHECK(worst == 0, "%s: forward off by %.3g", label, worst);
    }
    rig_free(&R);
}

static void test_maxpool(void)
{
    rng_seed(400);
    maxpool_case(2, 3, 6, 6, 2, 2, 0);
    maxpool_case(2, 2, 7, 6, 3, 2, 1);   /* overlapping windows, padding */
    maxpool_case(1, 2, 5, 5, 3, 1, 1);
    maxpool_case(2, 1, 7, 9, 2, 3, 1);   /* stride > kernel: some inputs get no gradient */
}

/* Ties go to the first maximum in the window (row-major), as PyTorch; a NaN wins. */
static void test_maxpool_ties(void)
{
    rig R;
    rig_alloc(&R, 1, 16, 4, 0, 1);
    CHECK_EQ_INT(gs_maxpool_node(R.ctx, &R.n, 1, 4, 4, 2, 2, 0, 1), GS_OK);
    for (int i = 0; i < 16; i++) R.x[i] = 1.0f;
    R.x[5] = NAN;                      /* window (0, 0)'s fourth element */
    R.x[10] = 2.0f; R.x[11] = 2.0f;    /* window (1, 1): first 2 at 10 */
    for (int j = 0; j < 4; j++) R.r[j] = (float)(j + 1);
    R.n.acc[0] = 0;
    rig_backward(&R);
    CHECK(isnan(R.y[0]) && R.y[1] == 1.0f && R.y[2] == 1.0f && R.y[3] == 2.0f, "y %g %g %g %g",
          R.y[0], R.y[1], R.y[2], R.y[3]);
    float want[16] = { 0 };
    want[5] = 1; want[2] = 2; want[8] = 3; want[10] = 4;
    int same = 1;
    for (int i = 0; i < 16; i++) same &= R.dx[i] == want[i];
    CHECK(same, "dx went to the wrong inputs (dx[2] %g, dx[5] %g, dx[8] %g, dx[10] %g)", R.dx[2], R.dx[5], R.dx[8],
          R.dx[10]);
    rig_free(&R);
}

static void test_maxpool_golden(void)
{
    const int Ho = out_size(MP_H, MP_K, MP_STRIDE, MP_PAD), Wo = out_size(MP_W, MP_K, MP_STRIDE, MP_PAD);
    for (int threads = 1; threads <= 2; threads++) {
        rig R;
        rig_alloc(&R, MP_N, MP_C * MP_H * MP_W, MP_C * Ho * Wo, 0, threads);
        CHECK_EQ_INT(gs_maxpool_node(R.ctx, &R.n, MP_C, MP_H, MP_W, MP_K, MP_STRIDE, MP_PAD, MP_N), GS_OK);
        CHECK_EQ_INT(R.ny, sizeof mp_y / sizeof *mp_y);
        if (R.n.ops && R.ny == sizeof mp_y / sizeof *mp_y) {
            memcpy(R.x, mp_x, sizeof mp_x); memcpy(R.r, mp_dy, sizeof mp_dy);
            rig_backward(&R);
            CHECK(rel_err(R.y, mp_y, R.ny) < 1e-6 && rel_err(R.dx, mp_dx, R.nx) < 1e-6,
                  "maxpool vs PyTorch: y %.3g dx %.3g", rel_err(R.y, mp_y, R.ny), rel_err(R.dx, mp_dx, R.nx));
        }
        rig_free(&R);
    }
}

/* ---- global average pool ---- */
static void test_avgpool(void)
{
    const int N = 3, C = 4, H = 3, W = 5;
    rig R;
    rng_seed(500);
    rig_alloc(&R, N, C * H * W, C, 0, 1);
    CHECK_EQ_INT(gs_avgpool_node(R.ctx, &R.n, C, H, W), GS_OK);
    CHECK_EQ_INT(R.n.out_features, C);
    if (R.n.ops) {
        check_rig(&R, "avgpool 3x5");
        rig_forward(&R);
        double worst = 0;
        for (int p = 0; p < N * C; p++) {
            double s = 0;
            for (int k = 0; k < H * W; k++) s += R.x[p * H * W + k];
            worst = fmax(worst, fabs(s / (H * W) - R.y[p]));
        }
        CHECK(worst < 1e-6, "avgpool forward off by %.3g", worst);
    }
    rig_free(&R);
    /* big enough for two threads */
    rig_alloc(&R, 64, 16 * 7 * 7, 16, 0, 2);
    CHECK_EQ_INT(gs_avgpool_node(R.ctx, &R.n, 16, 7, 7), GS_OK);
    if (R.n.ops) {
        rig_backward(&R);
        double worst = 0;
        for (int p = 0; p < 64 * 16; p++) {
            double s = 0;
            for (int k = 0; k < 49; k++) {
                s += R.x[p * 49 + k];
                worst = fmax(worst, fabs(R.dx[p * 49 + k] - R.r[p] / 49.0));
            }
            worst = fmax(worst, fabs(s / 49 - R.y[p]));
        }
        CHECK(worst < 1e-6, "avgpool two threads off by %.3g", worst);
    }
    rig_free(&R);
}

/* ---- option A shortcut ---- */
static void shortcut_case(int N, int C, int H, int W, int O, int s, int threads)
{
    const int Ho = (H - 1) / s + 1, Wo = (W - 1) / s + 1, p = (O - C) / 2;
    char label[96];
    rig R;
    snprintf(label, sizeof label, "shortcut A C%d->%d %dx%d stride %d threads %d", C, O, H, W, s, threads);
    rig_alloc(&R, N, (int64_t)C * H * W, (int64_t)O * Ho * Wo, 0, threads);
    CHECK_EQ_INT(gs_shortcut_a_node(R.ctx, &R.n, C, H, W, O, s), GS_OK);
    if (!R.n.ops) { rig_free(&R); return; }
    rig_forward(&R);
    int ok = 1;
    for (int i = 0; i < N; i++)
        for (int o = 0; o < O; o++)
            for (int a = 0; a < Ho; a++)
                for (int b = 0; b < Wo; b++) {
                    const int c = o - p;
                    const float want = c < 0 || c >= C ? 0.0f : R.x[(((size_t)i * C + c) * H + a * s) * W + b * s];
                    ok &= R.y[(((size_t)i * O + o) * Ho + a) * Wo + b] == want;
                }
    CHECK(ok, "%s: forward differs from the hand computation", label);
    if (N * C * H * W < 2000) check_rig(&R, label);
    rig_free(&R);
}

static void test_shortcut_a(void)
{
    rng_seed(600);
    shortcut_case(2, 2, 5, 6, 4, 2, 1);
    shortcut_case(2, 4, 4, 4, 8, 2, 1);
    shortcut_case(1, 3, 3, 3, 3, 1, 1);      /* identity */
    shortcut_case(3, 2, 7, 7, 6, 3, 1);
    shortcut_case(64, 16, 14, 14, 32, 2, 2);
}

static void test_shortcut_a_golden(void)
{
    const int Ho = (SA_H - 1) / SA_STRIDE + 1, Wo = (SA_W - 1) / SA_STRIDE + 1;
    rig R;
    rig_alloc(&R, SA_N, SA_C * SA_H * SA_W, SA_O * Ho * Wo, 0, 1);
    CHECK_EQ_INT(gs_shortcut_a_node(R.ctx, &R.n, SA_C, SA_H, SA_W, SA_O, SA_STRIDE), GS_OK);
    CHECK_EQ_INT(R.ny, sizeof sa_y / sizeof *sa_y);
    if (R.n.ops && R.ny == sizeof sa_y / sizeof *sa_y) {
        memcpy(R.x, sa_x, sizeof sa_x); memcpy(R.r, sa_dy, sizeof sa_dy);
        rig_backward(&R);
        CHECK(rel_err(R.y, sa_y, R.ny) == 0 && rel_err(R.dx, sa_dx, R.nx) == 0,
              "shortcut A vs PyTorch: y %.3g dx %.3g", rel_err(R.y, sa_y, R.ny), rel_err(R.dx, sa_dx, R.nx));
    }
    rig_free(&R);
}

int main(void)
{
    RUN(test_conv_fd);
    RUN(test_conv3x3_direct);
    RUN(test_wino3x3);
    RUN(test_conv3x3_kernel);
    RUN(test_conv3x3_dw_kernel);
    RUN(test_conv_stride2_rows);
    RUN(test_conv3x3s2);
    RUN(test_conv_vs_naive_random);
    RUN(test_conv_vs_naive_threads);
    RUN(test_conv_threads_same_bits);
    RUN(test_conv_deterministic);
    RUN(test_conv_golden);
    RUN(test_conv_bad_shapes);
    RUN(test_maxpool);
    RUN(test_maxpool_ties);
    RUN(test_maxpool_golden);
    RUN(test_avgpool);
    RUN(test_shortcut_a);
    RUN(test_shortcut_a_golden);
    return FINISH();
}
