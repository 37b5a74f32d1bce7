/* test_paths.c - the gradient at x_0 by path length (DESIGN.md §3):
 *  - Σ_k g^(k) equals ∂L/∂x_0 from the ordinary backward, on mlp (post, pre, rezero; batch and
 *    layer norm) and resnet (shortcut A and B, post and pre) networks;
 *  - brute force: the sum over all 2^n sets of k branches, each sent backward through its branches
 *    alone, equals the dynamic programme's g^(k) (n <= 8 here);
 *  - a network whose answer is known in closed form: pre blocks x + c x (identity activation, no
 *    norm, weights c I, no bias), where g^(k) = C(n, k) c^k ∂L/∂x_n and every set of k branches
 *    gives c^k ∂L/∂x_n, so Veit's estimate is exact too;
 *  - a plain network is refused;
 *  - the norm ratio of blocks whose branch ends in a zero layer is exactly 1, and shape-changing
 *    blocks are marked.
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "probe/paths.h"

#define NB 6   /* samples */

static void fill_input(float *x, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)sin(0.7 * (double)i + seed) + 0.3f * (float)cos(1.3 * (double)(i % 11));
}

static double rel_diff(const float *a, const float *b, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) { d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]); s += (double)b[i] * b[i]; }
    return s > 0 ? sqrt(d / s) : sqrt(d);
}

static gs_model *build(gs_ctx *ctx, const gs_model_config *c, int seed)
{
    gs_model *m = NULL;
    int rc = gs_model_create(ctx, c, NB, &m);
    if (rc == GS_OK) rc = gs_model_init(m, (uint64_t)seed);
    CHECK(rc == GS_OK, "build: %s", gs_errmsg(ctx));
    if (rc) { gs_model_free(m); return NULL; }
    /* rezero's alphas start at 0, which would silence every branch: give them a value */
    for (int i = 0; i < gs_model_n_tensors(m); i++) {
        const gs_tensor_info *t = gs_model_tensor(m, i);
        if (!strncmp(t->name, "alphas.", 7)) t->data[0] = 0.5f + 0.1f * (float)i;
    }
    return m;
}

/* Σ g^(k) against the true gradient, and all 2^n subsets against each g^(k). */
static void check_net(const char *label, const gs_model_config *c, int seed)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model *m = build(ctx, c, seed);
    if (!m) { gs_ctx_free(ctx); return; }
    const size_t F = (size_t)c->in_features;
    float *x = malloc(NB * F * sizeof *x);
    int32_t y[NB];
    fill_input(x, NB * F, (unsigned)seed);
    for (int i = 0; i < NB; i++) y[i] = (i * 7 + seed) % c->classes;
    gs_paths_work *w = NULL;
    int rc = gs_paths_prepare(m, x, y, NB, &w);
    CHECK(rc == GS_OK, "%s: prepare: %s", label, gs_errmsg(ctx));
    if (rc) goto done;
    const int n = gs_paths_blocks(w);
    const size_t len = gs_paths_x0_len(w);
    float *const *g;
    gs_paths_exact(w, &g);
    float *sum = calloc(len, sizeof *sum), *v = malloc(len * sizeof *v), **brute = calloc((size_t)n + 1, sizeof *brute);
    for (int k = 0; k <= n; k++) {
        brute[k] = calloc(len, sizeof(float));
        for (size_t i = 0; i < len; i++) sum[i] += g[k][i];
    }
    double err = rel_diff(sum, gs_paths_x0_grad(w), len);
    CHECK(err < 2e-5, "%s: Σ_k g^(k) differs from ∂L/∂x_0 by %.3g (relative)", label, err);
    /* every one of the 2^n sets of branches */
    unsigned char sel[16];
    for (unsigned mask = 0; mask < (1u << n); mask++) {
        int k = 0;
        for (int b = 0; b < n; b++) { sel[b] = (mask >> b) & 1; k += sel[b]; }
        gs_paths_subset(w, sel, v);
        for (size_t i = 0; i < len; i++) brute[k][i] += v[i];
    }
    double total = 0;
    for (int k = 0; k <= n; k++) {
        double s = 0;
        for (size_t i = 0; i < len; i++) s += (double)g[k][i] * g[k][i];
        total += s;
    }
    for (int k = 0; k <= n; k++) {
        double d = 0;
        for (size_t i = 0; i < len; i++) d += ((double)brute[k][i] - g[k][i]) * ((double)brute[k][i] - g[k][i]);
        CHECK(sqrt(d) <= 1e-5 * sqrt(total) + 1e-12, "%s: k = %d: brute force over 2^%d sets differs by %.3g (scale %.3g)",
              label, k, n, sqrt(d), sqrt(total));
    }
    for (int k = 0; k <= n; k++) free(brute[k]);
    free(brute); free(sum); free(v);
done:
    gs_paths_work_free(w);
    free(x);
    gs_model_free(m);
    gs_ctx_free(ctx);
}

static void mlp_config(gs_model_config *c, int depth, int skip, gs_block block, gs_act act, gs_norm norm)
{
    gs_model_config_default(c);
    c->in_features = 12; c->classes = 5; c->width = 10;
    c->depth = depth; c->skip = skip; c->block = block; c->act = act; c->norm = norm;
}

static void resnet_config(gs_model_config *c, char shortcut, gs_block block)
{
    gs_model_config_default(c);
    snprintf(c->family, sizeof c->family, "resnet");
    c->in_channels = 2; c->in_height = 8; c->in_width = 8; c->in_features = 2 * 8 * 8;
    c->classes = 4; c->width = 16; c->depth = 14; c->shortcut = shortcut; c->block = block;
    c->norm = GS_NORM_BATCH;
}

static void test_mlp_post_bn(void)
{
    gs_model_config c;
    mlp_config(&c, 12, 2, GS_BLOCK_POST, GS_ACT_RELU, GS_NORM_BATCH);
    check_net("mlp post relu bn, 6 blocks", &c, 1);
}

static void test_mlp_pre_ln(void)
{
    gs_model_config c;
    mlp_config(&c, 8, 1, GS_BLOCK_PRE, GS_ACT_GELU, GS_NORM_LAYER);
    check_net("mlp pre gelu ln, 8 blocks", &c, 2);
}

static void test_mlp_rezero(void)
{
    gs_model_config c;
    mlp_config(&c, 9, 3, GS_BLOCK_POST, GS_ACT_TANH, GS_NORM_NONE);
    c.res_scale = GS_RES_SCALE_REZERO;
    check_net("mlp post tanh rezero, 3 blocks", &c, 3);
}

static void test_resnet_a_post(void)
{
    gs_model_config c;
    resnet_config(&c, 'A', GS_BLOCK_POST);
    check_net("resnet-14 A post, 6 blocks", &c, 4);
}

static void test_resnet_b_pre(void)
{
    gs_model_config c;
    resnet_config(&c, 'B', GS_BLOCK_PRE);
    check_net("resnet-14 B pre, 6 blocks", &c, 5);
}

/* Known answer: x_{b+1} = x_b + c x_b. */
static void test_known_answer(void)
{
    const int n = 7;
    const float cval = 0.6f;
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c;
    mlp_config(&c, n, 1, GS_BLOCK_PRE, GS_ACT_IDENTITY, GS_NORM_NONE);
    gs_model *m = build(ctx, &c, 6);
    if (!m) { gs_ctx_free(ctx); return; }
    for (int l = 0; l < n; l++) {
        char name[32];
        snprintf(name, sizeof name, "layers.%d.weight", l);
        const gs_tensor_info *t = gs_model_find(m, name);
        snprintf(name, sizeof name, "layers.%d.bias", l);
        const gs_tensor_info *bt = gs_model_find(m, name);
        CHECK(t && bt, "no %s", name);
        if (!t || !bt) goto done;
        for (int i = 0; i < c.width; i++)
            for (int j = 0; j < c.width; j++) t->data[i * c.width + j] = i == j ? cval : 0.0f;
        memset(bt->data, 0, (size_t)c.width * sizeof(float));
    }
    float x[NB * 12];
    int32_t y[NB] = { 0, 1, 2, 3, 4, 0 };
    fill_input(x, NB * 12, 9);
    gs_paths_result r;
    int rc = gs_paths_compute(m, x, y, NB, 20, 1, &r);
    CHECK(rc == GS_OK, "compute: %s", gs_errmsg(ctx));
    if (rc) goto done;
    CHECK_EQ_INT(r.blocks, n);
    /* ‖∂L/∂x_n‖ = ‖g^(0)‖ (the all-shortcut path) */
    const double gn = r.exact_norm[0];
    CHECK(gn > 0, "zero gradient");
    double binom = 1;
    for (int k = 0; k <= n; k++) {
        const double want = binom * pow(cval, k) * gn;
        CHECK_NEAR(r.exact_norm[k], want, 1e-9, 2e-5);
        CHECK_NEAR(r.veit_mean[k], pow(cval, k) * gn, 1e-9, 2e-5);
        CHECK_NEAR(r.veit_total[k], want, 1e-9, 2e-5);
        CHECK_NEAR(r.count_fraction[k], binom / pow(2.0, n), 1e-15, 1e-12);
        binom = binom * (n - k) / (k + 1);
    }
    CHECK_NEAR(r.input_grad_norm, pow(1 + cval, n) * gn, 1e-9, 2e-5);
    CHECK(r.sum_check_rel_err < 1e-5, "sum check %.3g", r.sum_check_rel_err);
    gs_paths_result_free(&r);
done:
    gs_model_free(m);
    gs_ctx_free(ctx);
}

static void test_plain_refused(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c;
    mlp_config(&c, 4, 0, GS_BLOCK_POST, GS_ACT_RELU, GS_NORM_NONE);
    gs_model *m = build(ctx, &c, 7);
    float x[NB * 12] = { 0 };
    int32_t y[NB] = { 0 };
    gs_paths_result r;
    if (m) {
        CHECK_EQ_INT(gs_paths_compute(m, x, y, NB, 5, 1, &r), GS_EINVAL);
        CHECK(strstr(gs_errmsg(ctx), "no residual blocks") != NULL, "message: %s", gs_errmsg(ctx));
        CHECK(r.exact_norm == NULL, "arrays left behind");
    }
    gs_model_free(m);
    gs_ctx_free(ctx);
}

/* Norm ratios: blocks whose branch ends in a zero layer pass the gradient on unchanged (ratio 1);
 * the resnet's stride-2 blocks are marked as transitions. */
static void test_norm_ratios(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c;
    mlp_config(&c, 6, 2, GS_BLOCK_PRE, GS_ACT_RELU, GS_NORM_NONE);
    c.zero_last = 1;
    gs_model *m = build(ctx, &c, 8);
    float x[NB * 12];
    int32_t y[NB] = { 0, 1, 2, 3, 4, 0 };
    fill_input(x, NB * 12, 4);
    double ratio[8];
    int trans[8];
    if (m) {
        CHECK_EQ_INT(gs_model_n_blocks(m), 3);
        CHECK(gs_block_norm_ratios(m, x, y, NB, ratio, trans) == GS_OK, "%s", gs_errmsg(ctx));
        for (int b = 0; b < 3; b++) {
            CHECK_NEAR(ratio[b], 1.0, 1e-6, 0);
            CHECK_EQ_INT(trans[b], 0);
        }
    }
    gs_model_free(m);
    resnet_config(&c, 'A', GS_BLOCK_POST);
    m = build(ctx, &c, 9);
    float *xi = malloc((size_t)NB * (size_t)c.in_features * sizeof *xi);
    fill_input(xi, (size_t)NB * (size_t)c.in_features, 5);
    int32_t yi[NB] = { 0, 1, 2, 3, 0, 1 };
    if (m) {
        CHECK(gs_block_norm_ratios(m, xi, yi, NB, ratio, trans) == GS_OK, "%s", gs_errmsg(ctx));
        const int want[6] = { 0, 0, 1, 0, 1, 0 };
        for (int b = 0; b < 6; b++) {
            CHECK_EQ_INT(trans[b], want[b]);
            CHECK(isfinite(ratio[b]) && ratio[b] > 0, "ratio %d = %g", b, ratio[b]);
        }
    }
    free(xi);
    gs_model_free(m);
    gs_ctx_free(ctx);
}

int main(void)
{
    RUN(test_mlp_post_bn);
    RUN(test_mlp_pre_ln);
    RUN(test_mlp_rezero);
    RUN(test_resnet_a_post);
    RUN(test_resnet_b_pre);
    RUN(test_known_answer);
    RUN(test_plain_refused);
    RUN(test_norm_ratios);
    return FINISH();
}
