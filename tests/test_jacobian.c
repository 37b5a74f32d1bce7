/* test_jacobian.c - the spectrum of ∂h_L/∂h_0 (DESIGN.md §2):
 *  - every layer's forward-mode product against central finite differences of its own forward,
 *    node by node through whole networks (mlp post/pre, batch and layer norm, rezero, plain;
 *    resnet A post, B pre, plain conv);
 *  - J and Jᵀ are adjoint (⟨Jv, u⟩ = ⟨v, Jᵀu⟩), and Jᵀ ∂L/∂h_L equals the ordinary backward's
 *    ∂L/∂h_0 in eval mode;
 *  - the dense Jacobi SVD recovers the singular values of matrices built from them;
 *  - Lanczos' largest singular values and Hutchinson's mean squared singular value against the
 *    dense SVD of J formed column by column (mlp) and row by row (resnet, in > out);
 *  - known answers: pre blocks x + c x (J = (1 + c)^n I: every Lanczos step after the first
 *    breaks down) and a plain linear net of diagonal layers (σ = the products of the diagonals);
 *  - bad settings and a dense SVD too large are refused with the numbers named.
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "probe/jacobian.h"
#include "probe/paths.h"

#define NB 3   /* samples */

static void fill(float *x, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)sin(0.7 * (double)i + seed) + 0.3f * (float)cos(1.3 * (double)(i % 11));
}

static gs_model *build(gs_ctx *ctx, const gs_model_config *c, int seed)
{
    gs_model *m = NULL;
    int rc = gs_model_create(ctx, c, NB, &m);
    if (rc == GS_OK) rc = gs_model_init(m, (uint64_t)seed);
    CHECK(rc == GS_OK, "build: %s", gs_errmsg(ctx));
    if (rc) { gs_model_free(m); return NULL; }
    for (int i = 0; i < gs_model_n_tensors(m); i++) {
        const gs_tensor_info *t = gs_model_tensor(m, i);
        int64_t n = 1;
        for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
        /* rezero's alphas start at 0; running statistics and norm affines away from 0/1 so that
           eval mode is not the identity */
        if (!strncmp(t->name, "alphas.", 7)) t->data[0] = 0.5f + 0.1f * (float)i;
        else if (strstr(t->name, "running_var")) for (int64_t k = 0; k < n; k++) t->data[k] = 0.5f + 0.05f * (float)(k % 7);
        else if (strstr(t->name, "running_mean")) for (int64_t k = 0; k < n; k++) t->data[k] = 0.1f * (float)(k % 5) - 0.2f;
        else if (t->ndim == 1 && strstr(t->name, "weight")) for (int64_t k = 0; k < n; k++) t->data[k] = 0.7f + 0.15f * (float)(k % 5);
    }
    return m;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static double rel_diff(const float *a, const float *b, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) { d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]); s += (double)b[i] * b[i]; }
    return s > 0 ? sqrt(d / s) : sqrt(d);
}

/* Each node from h_0 to h_L: its jvp against (f(x + εv) - f(x - εv)) / 2ε of its forward. */
static void check_layer_jvps(const char *label, gs_model *m, const float *x)
{
    gs_jac *J = NULL;
    if (gs_jac_prepare(m, x, NB, &J)) { CHECK(0, "%s: prepare: %s", label, gs_errmsg(m->ctx)); return; }
    const int h0 = m->n_block_in >= 2 ? m->block_in[0] : m->plain_in[0];
    const int hL = m->n_block_in >= 2 ? m->block_in[m->n_block_in - 1] : m->plain_in[m->n_plain_in - 1];
    const int first = gs_model_producer(m, h0) + 1, last = gs_model_producer(m, hL);
    gs_exec e = { m->be, 1, NB, 0, 0, 0, m->params, m->grads, m->buffers };
    int checked = 0;
    for (int i = first; i <= last; i++) {
        gs_node *n = &m->nodes[i];
        const size_t fi = (size_t)NB * n->in_features, fo = (size_t)NB * n->out_features;
        const int two = n->in[1] >= 0;
        const float *a = gs_value_data(m, n->in[0]), *b = two ? gs_value_data(m, n->in[1]) : NULL;
        float *v = malloc(fi * sizeof *v), *v2 = malloc(fi * sizeof *v2), *ap = malloc(fi * sizeof *ap),
              *bp = malloc(fi * sizeof *bp), *yp = malloc(fo * sizeof *yp), *ym = malloc(fo * sizeof *ym),
              *fd = malloc(fo * sizeof *fd), *jv = malloc(fo * sizeof *jv);
        fill(v, fi, (unsigned)i);
        fill(v2, fi, (unsigned)i + 100);
        const float eps = 1e-2f;
        for (int sgn = 1; sgn >= -1; sgn -= 2) {
            for (size_t k = 0; k < fi; k++) {
                ap[k] = a[k] + sgn * eps * v[k];
                if (two) bp[k] = b[k] + sgn * eps * v2[k];
            }
            n->ops->forward(&e, n, ap, two ? bp : NULL, sgn > 0 ? yp : ym);
        }
        for (size_t k = 0; k < fo; k++) fd[k] = (yp[k] - ym[k]) / (2 * eps);
        n->ops->forward(&e, n, a, b, m->values[n->out].data);   /* the statistics of the point again */
        n->ops->jvp(&e, n, a, b, m->values[n->out].data, v, two ? v2 : NULL, jv);
        const double err = rel_diff(jv, fd, fo);
        CHECK(err < 2e-3, "%s: node %d (%s): jvp differs from finite differences by %.3g", label, i, n->ops->kind, err);
        checked++;
        free(v); free(v2); free(ap); free(bp); free(yp); free(ym); free(fd); free(jv);
    }
    CHECK(checked >= 3, "%s: only %d nodes", label, checked);
    gs_jac_free(J);
}

/* Adjointness, and Jᵀ ∂L/∂h_L = ∂L/∂h_0 of the model's own eval-mode backward. */
static void check_products(const char *label, gs_model *m, const float *x, int classes)
{
    int32_t y[NB];
    for (int i = 0; i < NB; i++) y[i] = (i * 3 + 1) % classes;
    gs_model_set_training(m, 0);
    gs_model_set_input_grad(m, 1);
    gs_model_zero_grad(m);
    int rc = gs_model_forward(m, x, NB);
    if (rc == GS_OK) rc = gs_model_loss(m, y, NULL);
    if (rc == GS_OK) rc = gs_model_backward(m);
    CHECK(rc == GS_OK, "%s: backward: %s", label, gs_errmsg(m->ctx));
    const int h0 = m->n_block_in >= 2 ? m->block_in[0] : m->plain_in[0];
    const int hL = m->n_block_in >= 2 ? m->block_in[m->n_block_in - 1] : m->plain_in[m->n_plain_in - 1];
    const size_t ni = (size_t)NB * m->values[h0].features, no = (size_t)NB * m->values[hL].features;
    float *gL = malloc(no * sizeof *gL), *g0 = malloc(ni * sizeof *g0);
    memcpy(gL, m->values[hL].grad, no * sizeof *gL);
    memcpy(g0, m->values[h0].grad, ni * sizeof *g0);
    gs_jac *J = NULL;
    rc = gs_jac_prepare(m, x, NB, &J);
    CHECK(rc == GS_OK, "%s: prepare: %s", label, gs_errmsg(m->ctx));
    if (rc == GS_OK) {
        CHECK_EQ_INT(gs_jac_in_features(J) * NB, (long long)ni);
        CHECK_EQ_INT(gs_jac_out_features(J) * NB, (long long)no);
        float *v = malloc(ni * sizeof *v), *u = malloc(no * sizeof *u), *jv = malloc(no * sizeof *jv),
              *jtu = malloc(ni * sizeof *jtu);
        fill(v, ni, 3); fill(u, no, 4);
        gs_jac_jvp(J, v, jv);
        gs_jac_vjp(J, u, jtu);
        const double l = dot(jv, u, no), r = dot(v, jtu, ni);
        CHECK(fabs(l - r) <= 1e-5 * (fabs(l) + fabs(r)) + 1e-9, "%s: <Jv,u> = %.9g, <v,J'u> = %.9g", label, l, r);
        gs_jac_vjp(J, gL, jtu);
        const double err = rel_diff(jtu, g0, ni);
        CHECK(err < 1e-5, "%s: J' dL/dh_L differs from dL/dh_0 by %.3g", label, err);
        /* a second product gives the same (no state left behind) */
        gs_jac_jvp(J, v, u);
        CHECK(rel_diff(u, jv, no) == 0, "%s: a repeated JVP differs", label);
        free(v); free(u); free(jv); free(jtu);
    }
    gs_jac_free(J);
    free(gL); free(g0);
}

static void mlp_config(gs_model_config *c, int depth, int skip, gs_block block, gs_act act, gs_norm norm)
{
    gs_model_config_default(c);
    c->in_features = 12; c->classes = 5; c->width = 10;
    c->depth = depth; c->skip = skip; c->block = block; c->act = act; c->norm = norm;
}

static void resnet_config(gs_model_config *c, const char *family, char shortcut, gs_block block, int hw)
{
    gs_model_config_default(c);
    snprintf(c->family, sizeof c->family, "%s", family);
    c->in_channels = 2; c->in_height = hw; c->in_width = hw; c->in_features = 2 * hw * hw;
    c->classes = 4; c->width = 16; c->depth = 8; c->shortcut = shortcut; c->block = block;
    c->norm = GS_NORM_BATCH;
}

/* fd: also the finite-difference check of every node (smooth activations only: a relu's kink
 * inside ±ε spoils a difference quotient, not the product) */
static void run_net(const char *label, const gs_model_config *c, int seed, int fd)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model *m = build(ctx, c, seed);
    if (m) {
        float *x = malloc((size_t)NB * c->in_features * sizeof *x);
        fill(x, (size_t)NB * c->in_features, (unsigned)seed);
        if (fd) check_layer_jvps(label, m, x);
        check_products(label, m, x, c->classes);
        free(x);
    }
    gs_model_free(m);
    gs_ctx_free(ctx);
}

static void test_mlp_post_bn(void)
{
    gs_model_config c;
    mlp_config(&c, 6, 2, GS_BLOCK_POST, GS_ACT_TANH, GS_NORM_BATCH);
    run_net("mlp post tanh bn", &c, 1, 1);
}

static void test_mlp_pre_ln(void)
{
    gs_model_config c;
    mlp_config(&c, 4, 1, GS_BLOCK_PRE, GS_ACT_GELU, GS_NORM_LAYER);
    run_net("mlp pre gelu ln", &c, 2, 1);
}

static void test_mlp_rezero(void)
{
    gs_model_config c;
    mlp_config(&c, 6, 3, GS_BLOCK_POST, GS_ACT_SIGMOID, GS_NORM_NONE);
    c.res_scale = GS_RES_SCALE_REZERO;
    run_net("mlp post sigmoid rezero", &c, 3, 1);
}

static void test_mlp_plain(void)
{
    gs_model_config c;
    mlp_config(&c, 5, 0, GS_BLOCK_POST, GS_ACT_RELU, GS_NORM_BATCH);
    run_net("plain mlp relu bn", &c, 4, 0);
    mlp_config(&c, 5, 0, GS_BLOCK_POST, GS_ACT_GELU, GS_NORM_LAYER);
    run_net("plain mlp gelu ln", &c, 4, 1);
}

static void test_resnet_a_post(void)
{
    gs_model_config c;
    resnet_config(&c, "resnet", 'A', GS_BLOCK_POST, 8);
    run_net("resnet-8 A post relu", &c, 5, 0);
    c.act = GS_ACT_GELU;
    run_net("resnet-8 A post gelu", &c, 5, 1);
}

static void test_resnet_b_pre(void)
{
    gs_model_config c;
    resnet_config(&c, "resnet", 'B', GS_BLOCK_PRE, 8);
    run_net("resnet-8 B pre relu", &c, 6, 0);
    c.act = GS_ACT_TANH;
    run_net("resnet-8 B pre tanh", &c, 6, 1);
}

static void test_plain_conv(void)
{
    gs_model_config c;
    resnet_config(&c, "plain", 'A', GS_BLOCK_POST, 8);
    run_net("plain-8 relu", &c, 7, 0);
    c.act = GS_ACT_SIGMOID;
    run_net("plain-8 sigmoid", &c, 7, 1);
}

/* Matrices of known singular values: Q1 diag(s) Q2ᵀ with Householder reflections Q. */
static void reflect(double *A, int rows, int cols, const double *h, int left)
{
    const int n = left ? rows : cols;
    double hh = 0;
    for (int i = 0; i < n; i++) hh += h[i] * h[i];
    if (left)
        for (int j = 0; j < cols; j++) {
            double s = 0;
            for (int i = 0; i < rows; i++) s += h[i] * A[(size_t)j * rows + i];
            for (int i = 0; i < rows; i++) A[(size_t)j * rows + i] -= 2 * s / hh * h[i];
        }
    else
        for (int i = 0; i < rows; i++) {
            double s = 0;
            for (int j = 0; j < cols; j++) s += A[(size_t)j * rows + i] * h[j];
            for (int j = 0; j < cols; j++) A[(size_t)j * rows + i] -= 2 * s / hh * h[j];
        }
}

static void test_svd_known(void)
{
    const int rows = 9, cols = 6;
    const double s[6] = { 7.5, 3.25, 3.0, 1.0, 0.01, 0.0 };
    double A[54] = { 0 }, A0[54], V[36], sv[6], h[9];
    for (int j = 0; j < cols; j++) A[(size_t)j * rows + j] = s[(j * 5) % cols];  /* shuffled */
    for (int r = 0; r < 3; r++) {
        for (int i = 0; i < rows; i++) h[i] = sin(1.7 * i + r) + 0.2;
        reflect(A, rows, cols, h, 1);
        reflect(A, rows, cols, h, 0);
    }
    memcpy(A0, A, sizeof A);
    const int sweeps = gs_svd_jacobi(A, rows, cols, sv, V);
    CHECK(sweeps >= 2 && sweeps < 20, "sweeps %d", sweeps);
    for (int j = 0; j < cols; j++) CHECK_NEAR(sv[j], s[j], 1e-12, 1e-12);
    /* A0 V = A (= U Σ), V orthogonal */
    double worst = 0;
    for (int j = 0; j < cols; j++)
        for (int i = 0; i < rows; i++) {
            double acc = 0;
            for (int k = 0; k < cols; k++) acc += A0[(size_t)k * rows + i] * V[(size_t)j * cols + k];
            worst = fmax(worst, fabs(acc - A[(size_t)j * rows + i]));
        }
    CHECK(worst < 1e-12, "A V differs from U Σ by %.3g", worst);
    for (int a = 0; a < cols; a++)
        for (int b = 0; b < cols; b++) {
            double acc = 0;
            for (int k = 0; k < cols; k++) acc += V[(size_t)a * cols + k] * V[(size_t)b * cols + k];
            CHECK_NEAR(acc, a == b ? 1.0 : 0.0, 1e-12, 0);
        }
}

/* Lanczos and Hutchinson against the dense SVD of J. */
/* check_top: Lanczos has enough steps to have converged; sampled: few enough that Hutchinson
 * samples a real remainder (its standard error is then positive) */
static void check_spectrum(const char *label, const gs_model_config *c, int seed, int steps, int check_top, int sampled)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model *m = build(ctx, c, seed);
    if (!m) { gs_ctx_free(ctx); return; }
    float *x = malloc((size_t)NB * c->in_features * sizeof *x);
    fill(x, (size_t)NB * c->in_features, (unsigned)seed);
    gs_jacobian_config jc;
    gs_jacobian_config_default(&jc);
    jc.top = 5; jc.steps = steps; jc.probes = 400; jc.full = 1; jc.seed = 11;
    gs_jacobian_result r;
    int rc = gs_jacobian_compute(m, x, NB, &jc, &r);
    CHECK(rc == GS_OK, "%s: %s", label, gs_errmsg(ctx));
    if (rc == GS_OK) {
        CHECK(r.n_full > jc.top && r.full_sv && r.full_mean_sq, "%s: no dense spectrum", label);
        for (int s = 0; s < NB; s++) {
            const double *full = r.full_sv + (size_t)s * r.n_full;
            for (int i = 0; check_top && i < jc.top; i++) {
                const double got = r.top_sv[s * jc.top + i], res = r.top_residual[s * jc.top + i];
                CHECK(fabs(got - full[i]) <= 1e-4 * full[0], "%s: sample %d σ_%d: Lanczos %.7g, dense %.7g", label,
                      s, i, got, full[i]);
                CHECK(res <= 1e-3 * full[0], "%s: sample %d σ_%d residual %.3g", label, s, i, res);
            }
            for (int i = 1; i < r.n_full; i++) CHECK(full[i] <= full[i - 1], "%s: not descending at %d", label, i);
            /* Hutchinson within 4 standard errors (and a loose relative band) of Σσ²/n */
            const double est = r.mean_sq[s], se = r.mean_sq_stderr[s], want = r.full_mean_sq[s];
            CHECK(se < 0.2 * want && (!sampled || se > 1e-4 * want), "%s: stderr %.3g of %.3g", label, se, want);
            CHECK(fabs(est - want) <= 4 * se + 1e-5 * want, "%s: sample %d mean σ²: Hutchinson %.6g ± %.3g, dense %.6g", label, s,
                  est, se, want);
        }
    }
    gs_jacobian_result_free(&r);
    free(x);
    gs_model_free(m);
    gs_ctx_free(ctx);
}

static void test_spectrum_mlp(void)
{
    gs_model_config c;
    mlp_config(&c, 8, 2, GS_BLOCK_POST, GS_ACT_TANH, GS_NORM_BATCH);
    c.width = 24;
    check_spectrum("residual mlp width 24", &c, 21, 24, 1, 0);   /* steps = width: exact in exact arithmetic */
    check_spectrum("residual mlp width 24, 5 steps", &c, 21, 5, 0, 1);
}

static void test_spectrum_resnet(void)
{
    gs_model_config c;
    resnet_config(&c, "resnet", 'A', GS_BLOCK_POST, 4);  /* J: (64·1·1) x (16·4·4) = 64 x 256, by rows */
    check_spectrum("resnet-8 A", &c, 22, 40, 1, 0);
    check_spectrum("resnet-8 A, 6 steps", &c, 22, 6, 0, 1);
}

static void test_known_identity(void)
{
    const int n = 5;
    const float cval = 0.3f;
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c;
    mlp_config(&c, n, 1, GS_BLOCK_PRE, GS_ACT_IDENTITY, GS_NORM_NONE);
    gs_model *m = build(ctx, &c, 8);
    if (!m) { gs_ctx_free(ctx); return; }
    for (int l = 0; l < n; l++) {
        char name[32];
        snprintf(name, sizeof name, "layers.%d.weight", l);
        const gs_tensor_info *t = gs_model_find(m, name);
        CHECK(t != NULL, "no %s", name);
        if (!t) goto done;
        for (int i = 0; i < c.width; i++)
            for (int j = 0; j < c.width; j++) t->data[i * c.width + j] = i == j ? cval : 0.0f;
    }
    float x[NB * 12];
    fill(x, NB * 12, 9);
    gs_jacobian_config jc;
    gs_jacobian_config_default(&jc);
    jc.top = 4; jc.probes = 3;
    gs_jacobian_result r;
    int rc = gs_jacobian_compute(m, x, NB, &jc, &r);
    CHECK(rc == GS_OK, "%s", gs_errmsg(ctx));
    if (rc) goto done;
    const double want = pow(1 + cval, n);
    CHECK_EQ_INT(r.steps, c.width);                      /* 4·4 + 20 capped at the width */
    CHECK_EQ_INT(r.in_features, c.width);
    CHECK(r.residual == 1, "residual %d", r.residual);
    for (int s = 0; s < NB; s++) {
        for (int i = 0; i < jc.top; i++) CHECK_NEAR(r.top_sv[s * jc.top + i], want, 0, 1e-5);
        /* every random sign vector has ‖z‖² = width, so the estimate is exact */
        CHECK_NEAR(r.mean_sq[s], want * want, 0, 1e-5);
    }
    gs_jacobian_result_free(&r);
done:
    gs_model_free(m);
    gs_ctx_free(ctx);
}

/* A plain linear net of diagonal layers: σ are |Π_l d_l[i]|, distinct. */
static void test_known_diagonal(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c;
    mlp_config(&c, 4, 0, GS_BLOCK_POST, GS_ACT_IDENTITY, GS_NORM_NONE);
    gs_model *m = build(ctx, &c, 9);
    if (!m) { gs_ctx_free(ctx); return; }
    const int W = c.width;
    double want[16];
    for (int i = 0; i < W; i++) want[i] = 1;
    for (int l = 0; l < c.depth; l++) {
        char name[32];
        snprintf(name, sizeof name, "layers.%d.weight", l);
        const gs_tensor_info *t = gs_model_find(m, name);
        CHECK(t != NULL, "no %s", name);
        if (!t) goto done;
        for (int i = 0; i < W; i++)
            for (int j = 0; j < W; j++) {
                const float d = (float)((i % 2 ? -1 : 1) * (0.5 + 0.17 * ((i * 3 + l) % W)));
                t->data[i * W + j] = i == j ? d : 0.0f;
                if (i == j) want[i] *= fabs(d);   /* h_0 is the stem's output */
            }
    }
    for (int i = 0; i < W; i++)
        for (int j = i + 1; j < W; j++)
            if (want[j] > want[i]) { const double t = want[i]; want[i] = want[j]; want[j] = t; }
    float x[NB * 12];
    fill(x, NB * 12, 10);
    gs_jacobian_config jc;
    gs_jacobian_config_default(&jc);
    jc.top = 6; jc.full = 1; jc.probes = 0;
    gs_jacobian_result r;
    int rc = gs_jacobian_compute(m, x, NB, &jc, &r);
    CHECK(rc == GS_OK, "%s", gs_errmsg(ctx));
    if (rc) goto done;
    CHECK(r.residual == 0, "a plain net reported residual");
    CHECK(isnan(r.mean_sq[0]), "no probes: mean_sq %g", r.mean_sq[0]);
    double sq = 0;
    for (int i = 0; i < W; i++) sq += want[i] * want[i];
    for (int s = 0; s < NB; s++) {
        for (int i = 0; i < jc.top; i++) CHECK_NEAR(r.top_sv[s * jc.top + i], want[i], 1e-6, 1e-5);
        for (int i = 0; i < W; i++) CHECK_NEAR(r.full_sv[s * W + i], want[i], 1e-6, 1e-5);
        CHECK_NEAR(r.full_mean_sq[s], sq / W, 0, 1e-5);
    }
    gs_jacobian_result_free(&r);
done:
    gs_model_free(m);
    gs_ctx_free(ctx);
}

static void test_refused(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c;
    mlp_config(&c, 4, 2, GS_BLOCK_POST, GS_ACT_RELU, GS_NORM_NONE);
    gs_model *m = build(ctx, &c, 10);
    float x[NB * 12];
    fill(x, NB * 12, 1);
    gs_jacobian_config jc;
    gs_jacobian_result r;
    if (m) {
        gs_jacobian_config_default(&jc);
        jc.top = 0;
        CHECK_EQ_INT(gs_jacobian_compute(m, x, NB, &jc, &r), GS_EINVAL);
        CHECK(strstr(gs_errmsg(ctx), "top 0") != NULL, "message: %s", gs_errmsg(ctx));
        CHECK(r.top_sv == NULL, "arrays left behind");
        gs_jacobian_config_default(&jc);
        CHECK_EQ_INT(gs_jacobian_compute(m, x, NB + 1, &jc, &r), GS_EINVAL);
        CHECK(strstr(gs_errmsg(ctx), "samples") != NULL, "message: %s", gs_errmsg(ctx));
    }
    gs_model_free(m);
    /* a dense SVD of a 4096-wide Jacobian */
    mlp_config(&c, 2, 1, GS_BLOCK_POST, GS_ACT_RELU, GS_NORM_NONE);
    c.width = 2 * GS_JACOBIAN_FULL_MAX;
    m = build(ctx, &c, 11);
    if (m) {
        gs_jacobian_config_default(&jc);
        jc.full = 1;
        CHECK_EQ_INT(gs_jacobian_compute(m, x, NB, &jc, &r), GS_EINVAL);
        CHECK(strstr(gs_errmsg(ctx), "2048 x 2048") != NULL, "message: %s", gs_errmsg(ctx));
    }
    gs_model_free(m);
    gs_ctx_free(ctx);
}

int main(void)
{
    RUN(test_mlp_post_bn);
    RUN(test_mlp_pre_ln);
    RUN(test_mlp_rezero);
    RUN(test_mlp_plain);
    RUN(test_resnet_a_post);
    RUN(test_resnet_b_pre);
    RUN(test_plain_conv);
    RUN(test_svd_known);
    RUN(test_spectrum_mlp);
    RUN(test_spectrum_resnet);
    RUN(test_known_identity);
    RUN(test_known_diagonal);
    RUN(test_refused);
    return FINISH();
}
