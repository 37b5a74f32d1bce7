/* test_layers.c - finite-difference gradient checks of every layer kind, one node at a time.
 *
 * Each layer is built with its constructor and run through its ops table on a gs_exec of our own
 * (CPU backend, one thread, parameter/gradient/buffer arrays allocated here).  The objective is
 * L = sum_i r_i y_i with a fixed random r, so backward gets dy = r; dx (dx2) and every parameter
 * gradient are compared with central differences of L, summed in double over the float forward,
 * with h = 1e-3 relative.  Points within 2h of a kink (relu, leaky_relu, elu, selu at 0; hardtanh
 * at +-1) are skipped.  Error of an element: |a - b| / max(|a|, |b|, FLOOR * scale), scale the
 * largest |b| of the tensor.  Also: accumulate semantics (n->acc[i] for dx, e->accumulate for
 * parameter gradients, overwrite otherwise), BatchNorm's running statistics, and the two losses.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "layers/layer.h"
#include "kernels/backend.h"

#define REL_H 1e-3     /* finite-difference step, relative to max(|v|, 1) */
#define FLOOR 1e-3     /* of the tensor's scale: below it errors count as absolute */
#ifndef TOL
#define TOL 1e-2       /* worst relative error accepted */
#endif
#define SENTINEL 777.0f

/* ---- deterministic random numbers (xorshift64*, independent of the library's) ---- */
static uint64_t rng_state = 0x2545F4914F6CDD1DULL;
static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ULL + 1; }
static double urand(void)   /* [0, 1) */
{
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) * 0x1p-53;
}
static void fill(float *a, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * urand());
}

/* ---- a rig: one node, its exec, its inputs, outputs and parameter blocks ---- */
typedef struct rig {
    gs_ctx *ctx;
    gs_node n;
    gs_exec e;
    int two;                    /* two inputs (residual add) */
    size_t nx, ny, np, nb;      /* element counts: input, output, params, buffers */
    float *x, *x2, *y, *r, *dx, *dx2;
    float *p, *g, *buf, *buf0;
    gs_act act;                 /* for kink skipping; GS_ACT_IDENTITY = no kinks */
} rig;

static float *falloc(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static void rig_alloc(rig *R, int N, int64_t in_f, int64_t out_f, int two, size_t np, size_t nb)
{
    memset(R, 0, sizeof *R);
    R->ctx = gs_ctx_create();
    R->two = two;
    R->nx = (size_t)N * (size_t)in_f; R->ny = (size_t)N * (size_t)out_f; R->np = np; R->nb = nb;
    R->x = falloc(R->nx); R->x2 = falloc(R->nx); R->dx = falloc(R->nx); R->dx2 = falloc(R->nx);
    R->y = falloc(R->ny); R->r = falloc(R->ny);
    R->p = falloc(np); R->g = falloc(np); R->buf = falloc(nb); R->buf0 = falloc(nb);
    R->e.be = gs_backend_cpu(); R->e.threads = 1; R->e.N = N; R->e.training = 1;
    R->e.params = R->p; R->e.grads = R->g; R->e.buffers = R->buf;
    R->act = GS_ACT_IDENTITY;
    fill(R->x, R->nx, -2, 2); fill(R->x2, R->nx, -2, 2); fill(R->r, R->ny, -1, 1);
    fill(R->p, np, -1, 1);
}

static void rig_free(rig *R)
{
    if (R->n.ops && R->n.ops->free_state) R->n.ops->free_state(R->n.state);
    free(R->x); free(R->x2); free(R->dx); free(R->dx2); free(R->y); free(R->r);
    free(R->p); free(R->g); free(R->buf); free(R->buf0);
    gs_ctx_free(R->ctx);
}

/* Forward from the saved buffers (BatchNorm's train forward updates them). */
static void rig_forward(rig *R)
{
    if (R->nb) memcpy(R->buf, R->buf0, R->nb * sizeof *R->buf);
    R->n.ops->forward(&R->e, &R->n, R->x, R->two ? R->x2 : NULL, R->y);
}

static double objective(rig *R)
{
    rig_forward(R);
    double L = 0;
    for (size_t i = 0; i < R->ny; i++) L += (double)R->r[i] * R->y[i];
    return L;
}

/* Forward, then backward with dy = r into dx, dx2, g (flags as set in R->n.acc and R->e.accumulate). */
static void rig_backward(rig *R)
{
    rig_forward(R);
    R->n.ops->backward(&R->e, &R->n, R->x, R->two ? R->x2 : NULL, R->y, R->r, R->dx, R->two ? R->dx2 : NULL);
}

static int near_kink(gs_act act, double x, double h)
{
    switch (act) {
    case GS_ACT_RELU: case GS_ACT_LEAKY_RELU: case GS_ACT_ELU: case GS_ACT_SELU: return fabs(x) < 2 * h;
    case GS_ACT_HARDTANH: return fabs(x - 1) < 2 * h || fabs(x + 1) < 2 * h;
    default: return 0;
    }
}

/* Compare analytic[0..n) with central differences of the objective over v[0..n). kinky: v is the
 * input of an activation, skip points near its kinks. */
static void fd_compare(rig *R, const char *what, float *v, size_t n, const float *analytic, int kinky)
{
    double *num = malloc(n * sizeof *num);
    unsigned char *skip = calloc(n, 1);
    double scale = 0, worst = 0;
    size_t at = 0, skipped = 0;
    for (size_t k = 0; k < n; k++) {
        const float v0 = v[k];
        const double h = REL_H * fmax(fabs(v0), 1.0);
        if (kinky && near_kink(R->act, v0, h)) { skip[k] = 1; skipped++; num[k] = 0; continue; }
        const float vp = (float)(v0 + h), vm = (float)(v0 - h);
        v[k] = vp; const double Lp = objective(R);
        v[k] = vm; const double Lm = objective(R);
        v[k] = v0;
        num[k] = (Lp - Lm) / ((double)vp - (double)vm);
        scale = fmax(scale, fabs(num[k]));
    }
    for (size_t k = 0; k < n; k++) {
        if (skip[k]) continue;
        const double a = analytic[k], b = num[k];
        const double err = fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), fmax(FLOOR * scale, 1e-30));
        if (!(err <= worst)) { worst = err; at = k; }
    }
    CHECK(worst <= TOL && skipped < n, "%s: worst relative error %.3g at [%zu] (analytic %.9g, numeric %.9g, "
          "scale %.3g, %zu of %zu skipped near kinks)", what, worst, at, analytic[at], num[at], scale, skipped, n);
    free(num); free(skip);
}

/* The full check of a rig: gradients against finite differences, then accumulate semantics. */
static void check_rig(rig *R, const char *label)
{
    char what[128];
    float *gx = falloc(R->nx), *gx2 = falloc(R->nx), *gp = falloc(R->np), *c = falloc(R->np + R->nx);

    /* overwrite mode: stale values in dx, dx2 and g must not leak into the result */
    R->n.acc[0] = R->n.acc[1] = 0; R->e.accumulate = 0;
    for (size_t i = 0; i < R->nx; i++) R->dx[i] = R->dx2[i] = SENTINEL;
    for (size_t i = 0; i < R->np; i++) R->g[i] = SENTINEL;
    rig_backward(R);
    memcpy(gx, R->dx, R->nx * sizeof *gx);
    memcpy(gx2, R->dx2, R->nx * sizeof *gx2);
    memcpy(gp, R->g, R->np * sizeof *gp);

    snprintf(what, sizeof what, "%s dx", label);
    fd_compare(R, what, R->x, R->nx, gx, 1);
    if (R->two) {
        snprintf(what, sizeof what, "%s dx2", label);
        fd_compare(R, what, R->x2, R->nx, gx2, 0);
    }
    if (R->np) {
        snprintf(what, sizeof what, "%s dparams", label);
        fd_compare(R, what, R->p, R->np, gp, 0);
    }

    /* n->acc: dx += ..., parameters still overwritten */
    fill(c, R->np + R->nx, -1, 1);
    R->n.acc[0] = R->n.acc[1] = 1;
    memcpy(R->dx, c, R->nx * sizeof *c);
    memcpy(R->dx2, c, R->nx * sizeof *c);
    for (size_t i = 0; i < R->np; i++) R->g[i] = SENTINEL;
    rig_backward(R);
    double worst = 0, worst2 = 0, worstp = 0;
    for (size_t i = 0; i < R->nx; i++) {
        worst = fmax(worst, fabs(R->dx[i] - (c[i] + gx[i])) / (1 + fabs(gx[i])));
        if (R->two) worst2 = fmax(worst2, fabs(R->dx2[i] - (c[i] + gx2[i])) / (1 + fabs(gx2[i])));
    }
    for (size_t i = 0; i < R->np; i++) worstp = fmax(worstp, fabs(R->g[i] - gp[i]) / (1 + fabs(gp[i])));
    CHECK(worst <= 1e-5, "%s: acc[0]=1 must add into dx: worst error %.3g", label, worst);
    CHECK(worst2 <= 1e-5, "%s: acc[1]=1 must add into dx2: worst error %.3g", label, worst2);
    CHECK(worstp <= 1e-5, "%s: accumulate=0 must overwrite parameter gradients: worst error %.3g", label, worstp);

    /* e->accumulate: g += ..., dx overwritten again */
    R->n.acc[0] = R->n.acc[1] = 0; R->e.accumulate = 1;
    memcpy(R->g, c + R->nx, R->np * sizeof *c);
    for (size_t i = 0; i < R->nx; i++) R->dx[i] = SENTINEL;
    rig_backward(R);
    worst = worstp = 0;
    for (size_t i = 0; i < R->np; i++)
        worstp = fmax(worstp, fabs(R->g[i] - (c[R->nx + i] + gp[i])) / (1 + fabs(gp[i])));
    for (size_t i = 0; i < R->nx; i++) worst = fmax(worst, fabs(R->dx[i] - gx[i]) / (1 + fabs(gx[i])));
    CHECK(worstp <= 1e-5, "%s: accumulate=1 must add into parameter gradients: worst error %.3g", label, worstp);
    CHECK(worst <= 1e-5, "%s: acc[0]=0 must overwrite dx: worst error %.3g", label, worst);
    R->e.accumulate = 0;
    free(gx); free(gx2); free(gp); free(c);
}

/* ---- Linear ---- */
static void linear_case(int bias)
{
    const int N = 3, I = 5, O = 7;
    rig R;
    rng_seed(10 + bias);
    rig_alloc(&R, N, I, O, 0, (size_t)O * I + (bias ? O : 0), 0);
    CHECK_EQ_INT(gs_linear_node(R.ctx, &R.n, I, O, 0, bias ? (size_t)O * I : GS_NO_OFFSET), GS_OK);
    check_rig(&R, bias ? "linear 5->7 bias" : "linear 5->7 no bias");
    if (!bias) {   /* a bias-less linear is x W^T exactly */
        rig_forward(&R);
        double worst = 0;
        for (int i = 0; i < N; i++)
            for (int o = 0; o < O; o++) {
                double s = 0;
                for (int k = 0; k < I; k++) s += (double)R.x[i * I + k] * R.p[o * I + k];
                worst = fmax(worst, fabs(s - R.y[i * O + o]));
            }
        CHECK(worst < 1e-5, "linear forward: worst error %.3g against x W^T", worst);
    }
    rig_free(&R);
}
static void test_linear_bias(void) { linear_case(1); }
static void test_linear_no_bias(void) { linear_case(0); }

static void test_linear_bad_shape(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_node n;
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(gs_linear_node(ctx, &n, 0, 3, 0, GS_NO_OFFSET), GS_ESHAPE);
    CHECK(n.state == NULL, "state allocated on failure");
    gs_ctx_free(ctx);
}

/* ---- BatchNorm: params (gamma C, beta C), buffers (running mean C, running var C) ---- */
static void bn_rig(rig *R, int N, int C, int S, int training)
{
    rig_alloc(R, N, (int64_t)C * S, (int64_t)C * S, 0, 2 * (size_t)C, 2 * (size_t)C);
    for (int c = 0; c < C; c++) {
        R->p[c] = (float)(0.5 + urand());              /* gamma */
        R->buf0[c] = (float)(urand() - 0.5);           /* running mean */
        R->buf0[C + c] = (float)(0.5 + 1.5 * urand()); /* running var */
    }
    for (size_t i = 0; i < R->nx; i++) R->x[i] = (float)(3 * R->x[i] + (i % C) - 1.0);
    R->e.training = training;
    CHECK_EQ_INT(gs_batchnorm_node(R->ctx, &R->n, C, S, N, 0, (size_t)C, 0, (size_t)C), GS_OK);
}

static void test_batchnorm1d_train(void)
{
    rig R; rng_seed(20);
    bn_rig(&R, 3, 6, 1, 1);
    check_rig(&R, "batchnorm1d train");
    rig_free(&R);
}

/* More features than the backward's blocks of 32 and not a multiple of them (the last block short), on
 * 1 thread: dx, dgamma and dbeta against the formulas in double. */
static void test_batchnorm1d_blocks(void)
{
    enum { N = 8, C = 70 };
    rig R; rng_seed(22);
    bn_rig(&R, N, C, 1, 1);
    rig_backward(&R);
    double wx = 0, wp = 0, sx = 0, sp = 0;
    for (int c = 0; c < C; c++) {
        double mean = 0, var = 0, sdy = 0, sdyx = 0;
        for (int i = 0; i < N; i++) mean += R.x[i * C + c];
        mean /= N;
        for (int i = 0; i < N; i++) var += (R.x[i * C + c] - mean) * (R.x[i * C + c] - mean);
        const double rstd = 1.0 / sqrt(var / N + 1e-5), gamma = R.p[c];
        for (int i = 0; i < N; i++) {
            sdy += R.r[i * C + c];
            sdyx += R.r[i * C + c] * (R.x[i * C + c] - mean) * rstd;
        }
        for (int i = 0; i < N; i++) {
            const double xh = (R.x[i * C + c] - mean) * rstd;
            const double dx = gamma * rstd / N * (N * R.r[i * C + c] - sdy - xh * sdyx);
            wx = fmax(wx, fabs(dx - R.dx[i * C + c]));
            sx = fmax(sx, fabs(dx));
        }
        wp = fmax(wp, fmax(fabs(sdyx - R.g[c]), fabs(sdy - R.g[C + c])));
        sp = fmax(sp, fmax(fabs(sdyx), fabs(sdy)));
    }
    CHECK(wx <= 1e-4 * sx, "batchnorm1d (C %d): dx off by %.3g (largest %.3g)", C, wx, sx);
    CHECK(wp <= 1e-4 * sp, "batchnorm1d (C %d): dgamma/dbeta off by %.3g (largest %.3g)", C, wp, sp);
    rig_free(&R);
}

static void test_batchnorm1d_eval(void)
{
    rig R; rng_seed(21);
    bn_rig(&R, 3, 6, 1, 0);
    check_rig(&R, "batchnorm1d eval");
    /* eval mode leaves the running statistics alone */
    rig_forward(&R);
    CHECK(memcmp(R.buf, R.buf0, R.nb * sizeof *R.buf) == 0, "eval forward changed the running statistics");
    rig_free(&R);
}

static void test_batchnorm2d_train(void)
{
    rig R; rng_seed(22);
    bn_rig(&R, 3, 3, 4, 1);
    check_rig(&R, "batchnorm2d (C 3, S 4) train");
    rig_free(&R);
}

static void test_batchnorm2d_eval(void)
{
    rig R; rng_seed(23);
    bn_rig(&R, 3, 3, 4, 0);
    check_rig(&R, "batchnorm2d (C 3, S 4) eval");
    rig_free(&R);
}

/* running = 0.9 running + 0.1 batch, with the unbiased batch variance (PyTorch), over M = N*S values */
static void running_case(int N, int C, int S)
{
    rig R; rng_seed(24 + S);
    bn_rig(&R, N, C, S, 1);
    rig_forward(&R);
    const double M = (double)N * S;
    double worst = 0, worst_y = 0;
    for (int c = 0; c < C; c++) {
        double sum = 0, sq = 0;
        for (int i = 0; i < N; i++) for (int k = 0; k < S; k++) sum += R.x[((size_t)i * C + c) * S + k];
        const double mu = sum / M;
        for (int i = 0; i < N; i++)
            for (int k = 0; k < S; k++) { double d = R.x[((size_t)i * C + c) * S + k] - mu; sq += d * d; }
        const double rm = 0.9 * R.buf0[c] + 0.1 * mu, rv = 0.9 * R.buf0[C + c] + 0.1 * sq / (M - 1);
        worst = fmax(worst, fabs(R.buf[c] - rm) / (1 + fabs(rm)));
        worst = fmax(worst, fabs(R.buf[C + c] - rv) / (1 + fabs(rv)));
        /* and the output uses the biased variance, eps 1e-5 */
        const double rstd = 1 / sqrt(sq / M + 1e-5);
        for (int i = 0; i < N; i++)
            for (int k = 0; k < S; k++) {
                const size_t j = ((size_t)i * C + c) * S + k;
                const double want = (R.x[j] - mu) * rstd * R.p[c] + R.p[C + c];
                worst_y = fmax(worst_y, fabs(R.y[j] - want));
            }
    }
    CHECK(worst < 1e-6, "batchnorm (C %d, S %d): running statistics off by %.3g", C, S, worst);
    CHECK(worst_y < 1e-5, "batchnorm (C %d, S %d): train output off by %.3g", C, S, worst_y);
    rig_free(&R);
}
static void test_batchnorm_running_stats(void) { running_case(5, 6, 1); running_case(3, 3, 4); }

/* ---- LayerNorm: params (gamma F, beta F) ---- */
static void test_layernorm(void)
{
    const int N = 3, F = 7;
    rig R; rng_seed(30);
    rig_alloc(&R, N, F, F, 0, 2 * F, 0);
    for (int f = 0; f < F; f++) R.p[f] = (float)(0.5 + urand());
    for (size_t i = 0; i < R.nx; i++) R.x[i] = (float)(2 * R.x[i] + 0.3 * (i % F));
    CHECK_EQ_INT(gs_layernorm_node(R.ctx, &R.n, F, N, 0, F), GS_OK);
    check_rig(&R, "layernorm F 7");
    rig_free(&R);
}

/* ---- residual add ---- */
static void add_case(int rezero)
{
    const int N = 3, F = 7;
    rig R; rng_seed(40 + rezero);
    rig_alloc(&R, N, F, F, 1, rezero ? 1 : 0, 0);
    if (rezero) R.p[0] = 0.37f;
    CHECK_EQ_INT(gs_add_node(R.ctx, &R.n, F, rezero ? 0 : GS_NO_OFFSET), GS_OK);
    check_rig(&R, rezero ? "add rezero" : "add");
    rig_free(&R);
}
static void test_add(void) { add_case(0); }
static void test_add_rezero(void) { add_case(1); }

/* ReZero's alpha starts at 0: the branch gets no gradient but alpha does. */
static void test_add_rezero_zero_alpha(void)
{
    rig R; rng_seed(42);
    rig_alloc(&R, 3, 7, 7, 1, 1, 0);
    R.p[0] = 0;
    CHECK_EQ_INT(gs_add_node(R.ctx, &R.n, 7, 0), GS_OK);
    check_rig(&R, "add rezero alpha 0");
    rig_backward(&R);
    double m = 0;
    for (size_t i = 0; i < R.nx; i++) m = fmax(m, fabs(R.dx2[i]));
    CHECK(m == 0, "alpha 0: branch gradient should be 0, max %.3g", m);
    rig_free(&R);
}

/* ---- activations ---- */
static void test_activations(void)
{
    for (int a = 0; a < GS_ACT_COUNT; a++) {
        const int N = 3, F = 9;
        rig R; rng_seed(50 + a);
        rig_alloc(&R, N, F, F, 0, 0, 0);
        R.act = (gs_act)a;
        fill(R.x, R.nx, -3, 3);
        R.x[0] = 0.5f; R.x[1] = -0.5f; R.x[2] = 1.5f; R.x[3] = -1.5f;   /* both sides of every kink */
        R.x[4] = 0.0f; R.x[5] = 1.0f; R.x[6] = -1.0f;                    /* on the kinks: skipped */
        CHECK_EQ_INT(gs_act_node(R.ctx, &R.n, (gs_act)a, F), GS_OK);
        check_rig(&R, gs_act_name((gs_act)a));
        rig_free(&R);
    }
    gs_ctx *ctx = gs_ctx_create();
    gs_node n;
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(gs_act_node(ctx, &n, GS_ACT_COUNT, 4), GS_EINVAL);
    gs_ctx_free(ctx);
}

/* ---- losses: dlogits against central differences of the loss ----
 * The loss comes back as a float, so its rounding (~1e-7 of ~1) would be most of a 1e-3 step's
 * difference; these functions are smooth, and a step of 1e-2 keeps the truncation error ~1e-6. */
#define LOSS_H 1e-2
typedef int (*loss_fn)(const float *, const int32_t *, int, int, float *, float *);

static void loss_case(loss_fn f, const char *label, double spread)
{
    enum { N = 4, K = 5 };
    float z[N * K], dz[N * K], loss, lp, lm, num[N * K];
    int32_t y[N] = { 0, 4, 2, 4 };
    rng_seed(60);
    fill(z, N * K, -spread, spread);
    CHECK_EQ_INT(f(z, y, N, K, &loss, dz), GS_OK);
    double scale = 0, worst = 0;
    int at = 0;
    for (int k = 0; k < N * K; k++) {
        const float z0 = z[k];
        const double h = LOSS_H;
        const float zp = (float)(z0 + h), zm = (float)(z0 - h);
        z[k] = zp; f(z, y, N, K, &lp, NULL);
        z[k] = zm; f(z, y, N, K, &lm, NULL);
        z[k] = z0;
        num[k] = (float)(((double)lp - lm) / ((double)zp - zm));
        scale = fmax(scale, fabs(num[k]));
    }
    for (int k = 0; k < N * K; k++) {
        double err = fabs(dz[k] - num[k]) / fmax(fmax(fabs(dz[k]), fabs(num[k])), FLOOR * scale);
        if (!(err <= worst)) { worst = err; at = k; }
    }
    CHECK(worst <= TOL, "%s: worst relative error %.3g at [%d] (analytic %.9g, numeric %.9g)", label, worst, at,
          dz[at], num[at]);
    /* loss without dlogits gives the same value; a label out of range is GS_EINVAL */
    float l2;
    CHECK_EQ_INT(f(z, y, N, K, &l2, NULL), GS_OK);
    CHECK(l2 == loss, "%s: loss %.9g with dlogits, %.9g without", label, loss, l2);
    y[1] = K;
    CHECK_EQ_INT(f(z, y, N, K, &l2, dz), GS_EINVAL);
    y[1] = -1;
    CHECK_EQ_INT(f(z, y, N, K, &l2, dz), GS_EINVAL);
}

static void test_loss_ce(void)
{
    loss_case(gs_loss_ce, "cross-entropy", 3);
    loss_case(gs_loss_ce, "cross-entropy, large logits", 40);
    /* value: mean of logsumexp - z_y, in double */
    float z[6] = { 1, 2, 3, -1, 0, 4 }, loss;
    int32_t y[2] = { 2, 0 };
    CHECK_EQ_INT(gs_loss_ce(z, y, 2, 3, &loss, NULL), GS_OK);
    double want = (log(exp(1.0) + exp(2.0) + exp(3.0)) - 3 + log(exp(-1.0) + exp(0.0) + exp(4.0)) + 1) / 2;
    CHECK_NEAR(loss, want, 1e-6, 1e-6);
}

static void test_loss_mse(void)
{
    loss_case(gs_loss_mse, "mse", 2);
    float z[6] = { 1, 2, 3, -1, 0, 4 }, loss;
    int32_t y[2] = { 2, 0 };
    CHECK_EQ_INT(gs_loss_mse(z, y, 2, 3, &loss, NULL), GS_OK);
    CHECK_NEAR(loss, (1 + 4 + 4 + 4 + 0 + 16) / 6.0, 1e-6, 1e-6);
}

int main(void)
{
    RUN(test_linear_bias);
    RUN(test_linear_no_bias);
    RUN(test_linear_bad_shape);
    RUN(test_batchnorm1d_train);
    RUN(test_batchnorm1d_blocks);
    RUN(test_batchnorm1d_eval);
    RUN(test_batchnorm2d_train);
    RUN(test_batchnorm2d_eval);
    RUN(test_batchnorm_running_stats);
    RUN(test_layernorm);
    RUN(test_add);
    RUN(test_add_rezero);
    RUN(test_add_rezero_zero_alpha);
    RUN(test_activations);
    RUN(test_loss_ce);
    RUN(test_loss_mse);
    return FINISH();
}
