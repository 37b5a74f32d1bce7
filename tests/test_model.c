/* test_model.c - whole networks through the public API.
 *
 * Gradient checks: small mlps (in 5, classes 3, width 6, N 4) of every block form (plain, post, pre),
 * skip 1 and 2, norm none/batch/layer, ReZero, MSE, eval mode: a sample of elements of every
 * parameter tensor and the whole input gradient against central differences (in double) of
 * gs_model_loss over the float forward, with the step chosen per point (see central()); error of an
 * element (|a - b| - the differences' error bound) / max(|a|, |b|, 1e-3 of the tensor's largest
 * gradient).  Smooth activations there; relu once, skipping any point
 * where a step of +-h flips the sign of some pre-activation (read from the model's values).
 * Then error paths, determinism of init and SGD steps, and the save/load round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "train/procrustes.h"
#include "models/model.h"
#include "kernels/cpu/reduce.h"

#define IN 5
#define CLASSES 3
#define NB 4     /* samples per batch */
#define REL_H 1e-3     /* smallest step, relative to max(|v|, 1); see central() */
#define FLOOR 1e-3     /* of the tensor's scale */
#ifndef TOL
#define TOL 1e-2
#endif
#define SAMPLES 8      /* elements checked per tensor (all if fewer) */

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ULL + 1; }
static double urand(void)
{
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) * 0x1p-53;
}

static gs_model_config small_config(int depth, int skip, gs_block block, gs_norm norm, gs_act act)
{
    gs_model_config c;
    gs_model_config_default(&c);
    c.in_features = IN; c.classes = CLASSES; c.width = 6;
    c.depth = depth; c.skip = skip; c.block = block; c.norm = norm; c.act = act;
    return c;
}

static float loss_at(gs_model *m, const float *x, const int32_t *y)
{
    float l = NAN;
    CHECK_EQ_INT(gs_model_forward(m, x, NB), GS_OK);
    CHECK_EQ_INT(gs_model_loss(m, y, &l), GS_OK);
    return l;
}

/* Pre-activation signs (inputs of the activation nodes) of the last forward: a bit per value. */
static size_t kink_signs(const gs_model *m, unsigned char *out)
{
    size_t k = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const gs_node *n = &m->nodes[i];
        if (strcmp(n->ops->kind, "activation") != 0 || n->in[0] <= 0) continue;
        const gs_value *v = &m->values[n->in[0]];
        for (size_t j = 0; j < (size_t)m->N * (size_t)v->features; j++) {
            if (out) out[k] = v->data[j] > 0;
            k++;
        }
    }
    return k;
}

typedef struct fd_ctx {
    gs_model *m;
    const float *x;
    const int32_t *y;
    int kinks;                 /* skip points where +-h flips a pre-activation sign */
    unsigned char *sp, *sm;
    size_t n_signs;
    size_t skipped;
} fd_ctx;

/* Derivative of the loss in v[k] (*out) and a bound on its error (*err); returns 0 (and counts
 * it) if the point is skipped.  The loss comes back as a float, so a difference carries noise of
 * ~ulp(L) / h, while a batch norm over 4 samples can bend the loss sharply: no single step suits
 * every point.  So, as numerical differentiation does: central differences D_j at steps 2^j h
 * (j = 0..4, h = 1e-3 relative), Richardson combinations R_j = (4 D_j - D_{j+1}) / 3 (the h^2 term
 * cancels), and of R_0..R_2 the one with the smallest error estimate: noise NOISE |L| / 2^j h plus
 * truncation |R_j - R_{j+1}|. */
#define STEPS 5
#define NOISE 5e-7     /* 4 ulp of the float loss, relative */
static int central(fd_ctx *f, float *v, size_t k, double *out, double *err)
{
    const float v0 = v[k];
    const double h = REL_H * fmax(fabs(v0), 1.0);
    double d[STEPS], r[STEPS - 1], L = 0;
    int flipped = 0;
    for (int j = 0; j < STEPS; j++) {
        const float vp = (float)(v0 + ldexp(h, j)), vm = (float)(v0 - ldexp(h, j));
        v[k] = vp;
        const double lp = loss_at(f->m, f->x, f->y);
        if (f->kinks) {
            kink_signs(f->m, j ? f->sm : f->sp);
            if (j) flipped |= memcmp(f->sp, f->sm, f->n_signs) != 0;
        }
        v[k] = vm;
        const double lm = loss_at(f->m, f->x, f->y);
        if (f->kinks) { kink_signs(f->m, f->sm); flipped |= memcmp(f->sp, f->sm, f->n_signs) != 0; }
        d[j] = (lp - lm) / ((double)vp - (double)vm);
        L = fmax(L, fmax(fabs(lp), fabs(lm)));
    }
    v[k] = v0;
    if (flipped) { f->skipped++; return 0; }
    for (int j = 0; j < STEPS - 1; j++) r[j] = (4 * d[j] - d[j + 1]) / 3;
    *err = INFINITY;
    for (int j = 0; j < STEPS - 2; j++) {
        const double e = NOISE * fmax(L, 1.0) / ldexp(h, j) + fabs(r[j] - r[j + 1]);
        if (e < *err) { *err = e; *out = r[j]; }
    }
    return 1;
}

/* Worst relative error over the sampled elements of one tensor, beyond the differences' own error. */
static void check_tensor(fd_ctx *f, const char *label, const char *name, float *v, const float *grad,
                         size_t numel, int all)
{
    double scale = 0, worst = 0, at_a = 0, at_b = 0, at_e = 0;
    size_t at = 0, checked = 0;
    for (size_t k = 0; k < numel; k++) scale = fmax(scale, fabs(grad[k]));
    const size_t n = all || numel <= SAMPLES ? numel : SAMPLES;
    for (size_t s = 0; s < n; s++) {
        const size_t k = n == numel ? s : s * numel / n + (s * 7) % (numel / n);
        double b = 0, e = 0;
        if (!central(f, v, k, &b, &e)) continue;
        checked++;
        const double a = grad[k];
        const double err = fmax(fabs(a - b) - e, 0) / fmax(fmax(fabs(a), fabs(b)), FLOOR * scale);
        if (!(err <= worst)) { worst = err; at = k; at_a = a; at_b = b; at_e = e; }
    }
    CHECK(worst <= TOL && checked > 0, "%s: %s: worst relative error %.3g at [%zu] (analytic %.9g, numeric %.9g "
          "+- %.3g, scale %.3g, %zu checked)", label, name, worst, at, at_a, at_b, at_e, scale, checked);
}

typedef struct mcase {
    const char *label;
    int depth, skip;
    gs_block block;
    gs_norm norm;
    gs_act act;
    gs_res_scale res_scale;
    gs_loss loss;
    int eval;
} mcase;

static void gradcheck(const mcase *mc)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_ctx_set_threads(ctx, 1);
    gs_model_config c = small_config(mc->depth, mc->skip, mc->block, mc->norm, mc->act);
    c.res_scale = mc->res_scale; c.loss = mc->loss;
    gs_model *m = NULL;
    int rc = gs_model_create(ctx, &c, NB, &m);
    CHECK(rc == GS_OK, "%s: create: %s", mc->label, gs_errmsg(ctx));
    if (rc) { gs_ctx_free(ctx); return; }
    CHECK_EQ_INT(gs_model_init(m, 7), GS_OK);
    /* move every parameter off its initial value (biases 0, norm weights 1, alphas 0) */
    rng_seed(100);
    for (int i = 0; i < gs_model_n_tensors(m); i++) {
        const gs_tensor_info *t = gs_model_tensor(m, i);
        for (size_t k = 0; k < t->numel; k++) {
            if (!t->trainable) t->data[k] = strstr(t->name, "var") ? (float)(0.5 + urand()) : (float)(urand() - 0.5);
            else if (strncmp(t->name, "alphas.", 7) == 0) t->data[k] = (float)(0.5 + 0.2 * urand());
            else t->data[k] += (float)(0.4 * (urand() - 0.5));
        }
    }
    float x[NB * IN];
    int32_t y[NB] = { 0, 2, 1, 2 };
    for (int k = 0; k < NB * IN; k++) x[k] = (float)(4 * urand() - 2);

    gs_model_set_training(m, !mc->eval);
    gs_model_set_input_grad(m, 1);
    gs_model_zero_grad(m);
    loss_at(m, x, y);
    CHECK_EQ_INT(gs_model_backward(m), GS_OK);
    size_t np;
    const float *grads = gs_model_grads(m, &np);
    float *g = malloc(np * sizeof *g);
    memcpy(g, grads, np * sizeof *g);
    float dx[NB * IN];
    CHECK(gs_model_input_grad(m) != NULL, "%s: no input gradient", mc->label);
    if (gs_model_input_grad(m)) memcpy(dx, gs_model_input_grad(m), sizeof dx);

    fd_ctx f = { m, x, y, mc->act == GS_ACT_RELU, NULL, NULL, 0, 0 };
    if (f.kinks) {
        f.n_signs = kink_signs(m, NULL);
        f.sp = malloc(f.n_signs); f.sm = malloc(f.n_signs);
    }
    for (int i = 0; i < gs_model_n_tensors(m); i++) {
        const gs_tensor_info *t = gs_model_tensor(m, i);
        if (!t->trainable) continue;
        check_tensor(&f, mc->label, t->name, t->data, g + (t->grad - grads), t->numel, 0);
    }
    check_tensor(&f, mc->label, "input", x, dx, NB * IN, 1);
    if (f.kinks) {
        CHECK(f.skipped < 40, "%s: %zu points skipped near kinks", mc->label, f.skipped);
        free(f.sp); free(f.sm);
    }
    free(g);
    gs_model_free(m);
    gs_ctx_free(ctx);
}

static const mcase cases[] = {
    { "plain tanh", 2, 0, GS_BLOCK_POST, GS_NORM_NONE, GS_ACT_TANH, GS_RES_SCALE_NONE, GS_LOSS_CE, 0 },
    { "plain gelu batch", 2, 0, GS_BLOCK_POST, GS_NORM_BATCH, GS_ACT_GELU, GS_RES_SCALE_NONE, GS_LOSS_CE, 0 },
    { "plain silu layer", 2, 0, GS_BLOCK_POST, GS_NORM_LAYER, GS_ACT_SILU, GS_RES_SCALE_NONE, GS_LOSS_CE, 0 },
    { "plain softplus batch eval", 2, 0, GS_BLOCK_POST, GS_NORM_BATCH, GS_ACT_SOFTPLUS, GS_RES_SCALE_NONE, GS_LOSS_CE, 1 },
    { "post skip 1 softplus", 2, 1, GS_BLOCK_POST, GS_NORM_NONE, GS_ACT_SOFTPLUS, GS_RES_SCALE_NONE, GS_LOSS_CE, 0 },
    { "post skip 2 elu batch", 4, 2, GS_BLOCK_POST, GS_NORM_BATCH, GS_ACT_ELU, GS_RES_SCALE_NONE, GS_LOSS_CE, 0 },
    { "post skip 2 tanh layer rezero", 4, 2, GS_BLOCK_POST, GS_NORM_LAYER, GS_ACT_TANH, GS_RES_SCALE_REZERO, GS_LOSS_CE, 0 },
    { "post skip 1 gelu batch rezero", 2, 1, GS_BLOCK_POST, GS_NORM_BATCH, GS_ACT_GELU, GS_RES_SCALE_REZERO, GS_LOSS_CE, 0 },
    { "pre skip 1 gelu batch", 2, 1, GS_BLOCK_PRE, GS_NORM_BATCH, GS_ACT_GELU, GS_RES_SCALE_NONE, GS_LOSS_CE, 0 },
    { "pre skip 2 silu layer", 4, 2, GS_BLOCK_PRE, GS_NORM_LAYER, GS_ACT_SILU, GS_RES_SCALE_NONE, GS_LOSS_CE, 0 },
    { "pre skip 2 softplus none rezero", 2, 2, GS_BLOCK_PRE, GS_NORM_NONE, GS_ACT_SOFTPLUS, GS_RES_SCALE_REZERO, GS_LOSS_CE, 0 },
    { "pre skip 1 elu batch eval", 2, 1, GS_BLOCK_PRE, GS_NORM_BATCH, GS_ACT_ELU, GS_RES_SCALE_NONE, GS_LOSS_CE, 1 },
    { "post skip 1 tanh layer mse", 2, 1, GS_BLOCK_POST, GS_NORM_LAYER, GS_ACT_TANH, GS_RES_SCALE_NONE, GS_LOSS_MSE, 0 },
    { "plain silu mse", 1, 0, GS_BLOCK_POST, GS_NORM_NONE, GS_ACT_SILU, GS_RES_SCALE_NONE, GS_LOSS_MSE, 0 },
    { "post skip 2 relu batch (kinks skipped)", 4, 2, GS_BLOCK_POST, GS_NORM_BATCH, GS_ACT_RELU, GS_RES_SCALE_NONE, GS_LOSS_CE, 0 },
};


/* ---- error paths ---- */
static void expect_create_fails(gs_model_config c, const char *option)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model *m = (gs_model *)&m;   /* must stay untouched */
    gs_model *keep = m;
    CHECK_EQ_INT(gs_model_create(ctx, &c, 4, &m), GS_EINVAL);
    CHECK(m == keep, "output pointer changed on failure");
    CHECK(strstr(gs_errmsg(ctx), option) != NULL, "message '%s' does not name %s", gs_errmsg(ctx), option);
    gs_ctx_free(ctx);
}

static void test_bad_configs(void)
{
    gs_model_config c = small_config(3, 2, GS_BLOCK_POST, GS_NORM_NONE, GS_ACT_RELU);
    expect_create_fails(c, "skip");                                   /* depth 3 not a multiple of 2 */
    c = small_config(0, 1, GS_BLOCK_POST, GS_NORM_NONE, GS_ACT_RELU);
    expect_create_fails(c, "skip");                                   /* residual blocks need layers */
    c = small_config(2, 0, GS_BLOCK_PRE, GS_NORM_NONE, GS_ACT_RELU);
    expect_create_fails(c, "block");                                  /* pre without skip */
    c = small_config(2, 0, GS_BLOCK_POST, GS_NORM_NONE, GS_ACT_RELU);
    c.res_scale = GS_RES_SCALE_REZERO;
    expect_create_fails(c, "rezero");
    c = small_config(2, 0, GS_BLOCK_POST, GS_NORM_NONE, GS_ACT_RELU);
    c.width = 0;
    expect_create_fails(c, "width");
    c = small_config(2, -1, GS_BLOCK_POST, GS_NORM_NONE, GS_ACT_RELU);
    expect_create_fails(c, "skip");
    c = small_config(2, 0, GS_BLOCK_POST, GS_NORM_NONE, GS_ACT_RELU);
    strcpy(c.family, "transformer");
    expect_create_fails(c, "transformer");

    gs_ctx *ctx = gs_ctx_create();
    gs_model *m = NULL;
    c = small_config(2, 0, GS_BLOCK_POST, GS_NORM_NONE, GS_ACT_RELU);
    CHECK_EQ_INT(gs_model_create(ctx, &c, 0, &m), GS_EINVAL);
    CHECK(m == NULL, "model returned for max_batch 0");
    gs_model_free(NULL);
    gs_ctx_free(ctx);
}

static void test_bad_calls(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c = small_config(2, 1, GS_BLOCK_POST, GS_NORM_BATCH, GS_ACT_RELU);
    gs_model *m = NULL;
    CHECK_EQ_INT(gs_model_create(ctx, &c, NB, &m), GS_OK);
    if (!m) { gs_ctx_free(ctx); return; }
    gs_model_init(m, 1);
    float x[(NB + 1) * IN] = { 0 }, loss;
    int32_t y[NB] = { 0, 1, 2, 0 };
    for (int k = 0; k < (NB + 1) * IN; k++) x[k] = (float)(k % 7) - 3;
    /* backward before any loss */
    CHECK_EQ_INT(gs_model_backward(m), GS_EINVAL);
    CHECK_EQ_INT(gs_model_loss(m, y, &loss), GS_EINVAL);
    CHECK_EQ_INT(gs_model_forward(m, x, NB + 1), GS_ESHAPE);
    CHECK(strstr(gs_errmsg(ctx), "5") != NULL, "message '%s' does not give the batch", gs_errmsg(ctx));
    CHECK_EQ_INT(gs_model_forward(m, x, 0), GS_ESHAPE);
    CHECK_EQ_INT(gs_model_forward(m, x, 1), GS_ESHAPE);   /* batch norm in training needs 2 samples */
    CHECK_EQ_INT(gs_model_forward(m, x, NB), GS_OK);
    CHECK_EQ_INT(gs_model_backward(m), GS_EINVAL);         /* forward, but no loss yet */
    y[2] = CLASSES;
    CHECK_EQ_INT(gs_model_loss(m, y, &loss), GS_EINVAL);
    CHECK(strstr(gs_errmsg(ctx), "label") != NULL, "message '%s' does not mention the label", gs_errmsg(ctx));
    y[2] = -1;
    CHECK_EQ_INT(gs_model_loss(m, y, &loss), GS_EINVAL);
    CHECK_EQ_INT(gs_model_backward(m), GS_EINVAL);         /* the failed loss is not a loss */
    y[2] = 2;
    CHECK_EQ_INT(gs_model_loss(m, y, &loss), GS_OK);
    CHECK_EQ_INT(gs_model_backward(m), GS_OK);
    CHECK(gs_model_input_grad(m) == NULL, "input gradient without gs_model_set_input_grad");
    gs_model_set_training(m, 0);
    CHECK_EQ_INT(gs_model_forward(m, x, 1), GS_OK);        /* eval mode: one sample is fine */
    gs_model_free(m);
    gs_ctx_free(ctx);
}

/* ---- determinism: same seed, same parameters, same losses over 3 SGD steps ---- */
/* Three SGD steps (momentum 0.9) on the batch x, y of N samples; the losses. */
static void train3_n(gs_ctx *ctx, gs_model *m, const float *x, const int32_t *y, int N, float lr, float *losses)
{
    gs_optim_config oc;
    gs_optim_config_default(&oc);
    oc.kind = GS_OPTIM_SGD; oc.lr = lr; oc.momentum = 0.9f;
    gs_optim *o = NULL;
    CHECK_EQ_INT(gs_optim_create(ctx, m, &oc, &o), GS_OK);
    if (!o) return;
    gs_model_set_training(m, 1);
    for (int s = 0; s < 3; s++) {
        gs_model_zero_grad(m);
        CHECK_EQ_INT(gs_model_forward(m, x, N), GS_OK);
        CHECK_EQ_INT(gs_model_loss(m, y, &losses[s]), GS_OK);
        CHECK_EQ_INT(gs_model_backward(m), GS_OK);
        CHECK_EQ_INT(gs_optim_step(o, s, NULL), GS_OK);
    }
    gs_optim_free(o);
}

static void train3(gs_ctx *ctx, gs_model *m, const float *x, const int32_t *y, float *losses)
{
    train3_n(ctx, m, x, y, NB, 0.1f, losses);
}

static int same_tensors(const gs_model *a, const gs_model *b)
{
    if (gs_model_n_tensors(a) != gs_model_n_tensors(b)) return 0;
    for (int i = 0; i < gs_model_n_tensors(a); i++) {
        const gs_tensor_info *ta = gs_model_tensor(a, i), *tb = gs_model_tensor(b, i);
        if (strcmp(ta->name, tb->name) || ta->numel != tb->numel ||
            memcmp(ta->data, tb->data, ta->numel * sizeof(float)))
            return 0;
    }
    return 1;
}

static void test_determinism(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c = small_config(4, 2, GS_BLOCK_POST, GS_NORM_BATCH, GS_ACT_RELU);
    gs_model *a = NULL, *b = NULL, *d = NULL;
    CHECK_EQ_INT(gs_model_create(ctx, &c, NB, &a), GS_OK);
    CHECK_EQ_INT(gs_model_create(ctx, &c, NB, &b), GS_OK);
    CHECK_EQ_INT(gs_model_create(ctx, &c, NB, &d), GS_OK);
    if (!a || !b || !d) goto done;
    gs_model_init(a, 1234); gs_model_init(b, 1234); gs_model_init(d, 1235);
    CHECK(same_tensors(a, b), "seed 1234 twice gives different parameters");
    CHECK(!same_tensors(a, d), "seeds 1234 and 1235 give the same parameters");
    float x[NB * IN], la[3], lb[3];
    int32_t y[NB] = { 2, 0, 1, 1 };
    rng_seed(5);
    for (int k = 0; k < NB * IN; k++) x[k] = (float)(2 * urand() - 1);
    train3(ctx, a, x, y, la);
    train3(ctx, b, x, y, lb);
    CHECK(memcmp(la, lb, sizeof la) == 0, "losses differ: %.9g %.9g %.9g vs %.9g %.9g %.9g",
          la[0], la[1], la[2], lb[0], lb[1], lb[2]);
    CHECK(la[2] != la[0], "three SGD steps did not change the loss (%.9g)", la[0]);
    CHECK(same_tensors(a, b), "parameters differ after 3 identical SGD steps");
done:
    gs_model_free(a); gs_model_free(b); gs_model_free(d);
    gs_ctx_free(ctx);
}

/* ---- the team (src/core/team.h): 2 threads, served by a team and by OpenMP regions, give the bits
 * of 1 thread.  Width 256 and 64 samples, so that every GEMM and elementwise pass is split. ---- */
#define TEAM_N 64
static void train_wide(int threads, int no_team, const gs_model_config *c, gs_model **out, float *losses)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_ctx_set_threads(ctx, threads);
    ctx->no_team = no_team;
    gs_model *m = NULL;
    *out = NULL;
    CHECK_EQ_INT(gs_model_create(ctx, c, TEAM_N, &m), GS_OK);
    if (!m) { gs_ctx_free(ctx); return; }
    CHECK_EQ_INT(gs_model_init(m, 99), GS_OK);
    float *x = malloc(sizeof(float) * TEAM_N * 20);
    int32_t y[TEAM_N];
    rng_seed(17);
    for (int k = 0; k < TEAM_N * 20; k++) x[k] = (float)(2 * urand() - 1);
    for (int k = 0; k < TEAM_N; k++) y[k] = k % 3;
    train3_n(ctx, m, x, y, TEAM_N, 0.05f, losses);
    free(x);
    m->ctx = NULL;          /* the context goes now; only the tensors are compared */
    gs_ctx_free(ctx);
    *out = m;
}

static void test_team_bits(void)
{
    struct { const char *label; int skip; gs_norm norm; gs_act act; gs_res_scale rs; int team; } cs[] = {
        { "plain sigmoid", 0, GS_NORM_NONE, GS_ACT_SIGMOID, GS_RES_SCALE_NONE, 1 },
        { "post relu batch norm", 2, GS_NORM_BATCH, GS_ACT_RELU, GS_RES_SCALE_NONE, 1 },
        { "rezero tanh", 2, GS_NORM_NONE, GS_ACT_TANH, GS_RES_SCALE_REZERO, 1 },
        { "layer norm (no team)", 2, GS_NORM_LAYER, GS_ACT_RELU, GS_RES_SCALE_NONE, 0 },
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        gs_model_config c = small_config(4, cs[i].skip, GS_BLOCK_POST, cs[i].norm, cs[i].act);
        c.in_features = 20; c.width = 256; c.res_scale = cs[i].rs;
        gs_model *m[3] = { NULL, NULL, NULL };
        float l[3][3];
        train_wide(1, 0, &c, &m[0], l[0]);
        train_wide(2, 0, &c, &m[1], l[1]);
        train_wide(2, 1, &c, &m[2], l[2]);
        if (m[0] && m[1] && m[2]) {
            CHECK(m[1]->team_ok == cs[i].team, "%s: team_ok %d, expected %d", cs[i].label, m[1]->team_ok, cs[i].team);
            CHECK(l[0][2] != l[0][0], "%s: three steps did not change the loss", cs[i].label);
            for (int k = 1; k < 3; k++) {
                CHECK(memcmp(l[0], l[k], sizeof l[0]) == 0, "%s, 2 threads%s: losses %.9g %.9g %.9g, 1 thread %.9g %.9g %.9g",
                      cs[i].label, k == 1 ? "" : " without the team", l[k][0], l[k][1], l[k][2], l[0][0], l[0][1], l[0][2]);
                CHECK(same_tensors(m[0], m[k]), "%s, 2 threads%s: parameters differ from 1 thread's",
                      cs[i].label, k == 1 ? "" : " without the team");
            }
        }
        for (int k = 0; k < 3; k++) gs_model_free(m[k]);
    }
}

/* ---- save + load: same config, tensors and logits ---- */
static void test_save_load(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c = small_config(2, 1, GS_BLOCK_PRE, GS_NORM_BATCH, GS_ACT_GELU);
    c.res_scale = GS_RES_SCALE_REZERO; c.loss = GS_LOSS_MSE;
    gs_model *a = NULL, *b = NULL;
    char path[64];
    snprintf(path, sizeof path, "/tmp/gs_test_model_%d.safetensors", (int)getpid());
    CHECK_EQ_INT(gs_model_create(ctx, &c, NB, &a), GS_OK);
    if (!a) goto done;
    gs_model_init(a, 99);
    float x[NB * IN], la[3];
    int32_t y[NB] = { 1, 0, 2, 1 };
    rng_seed(6);
    for (int k = 0; k < NB * IN; k++) x[k] = (float)(2 * urand() - 1);
    train3(ctx, a, x, y, la);              /* alphas and running statistics off their initial values */
    int rc = gs_model_save(ctx, a, path);
    CHECK(rc == GS_OK, "save: %s", gs_errmsg(ctx));
    rc = gs_model_load(ctx, path, NB, &b);
    CHECK(rc == GS_OK, "load: %s", gs_errmsg(ctx));
    if (!b) goto done;
    char ja[1024], jb[1024];
    gs_model_config_to_json(gs_model_get_config(a), ja, sizeof ja);
    gs_model_config_to_json(gs_model_get_config(b), jb, sizeof jb);
    CHECK(strcmp(ja, jb) == 0, "config %s came back as %s", ja, jb);
    CHECK(same_tensors(a, b), "tensors differ after save + load");
    for (int train = 0; train < 2; train++) {
        gs_model_set_training(a, train); gs_model_set_training(b, train);
        CHECK_EQ_INT(gs_model_forward(a, x, NB), GS_OK);
        CHECK_EQ_INT(gs_model_forward(b, x, NB), GS_OK);
        CHECK(memcmp(gs_model_logits(a), gs_model_logits(b), NB * CLASSES * sizeof(float)) == 0,
              "%s-mode logits differ after save + load", train ? "train" : "eval");
    }
    gs_model *z = NULL;
    CHECK_EQ_INT(gs_model_load(ctx, "/nonexistent/gs_model.safetensors", NB, &z), GS_ENOTFOUND);
    CHECK(z == NULL, "model returned for a missing file");
done:
    unlink(path);
    gs_model_free(a); gs_model_free(b);
    gs_ctx_free(ctx);
}

/* --zero-last and fixup on both families: which tensors are zero, and fixup's scale. */
static double rms(const gs_tensor_info *t)
{
    double s = 0;
    for (size_t i = 0; i < t->numel; i++) s += (double)t->data[i] * t->data[i];
    return sqrt(s / (double)t->numel);
}

static int all_zero(const gs_tensor_info *t)
{
    for (size_t i = 0; i < t->numel; i++) if (t->data[i] != 0.0f) return 0;
    return 1;
}

static void test_zero_last_fixup(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model *m = NULL;
    gs_model_config c;
    /* mlp: 12 layers in 4 blocks of 3, no norm, fixup */
    gs_model_config_default(&c);
    c.in_features = 20; c.classes = 5; c.width = 200; c.depth = 12; c.skip = 3; c.init = GS_INIT_FIXUP;
    CHECK(gs_model_create(ctx, &c, 4, &m) == GS_OK && gs_model_init(m, 1) == GS_OK, "mlp: %s", gs_errmsg(ctx));
    if (m) {
        CHECK(all_zero(gs_model_find(m, "head.weight")), "fixup: head not zero");
        CHECK(all_zero(gs_model_find(m, "layers.2.weight")) && all_zero(gs_model_find(m, "layers.11.weight")),
              "fixup: last layers of the branches not zero");
        /* he_normal std sqrt(2/200) = 0.1, times L^(-1/(2m-2)) = 4^(-1/4) */
        CHECK_NEAR(rms(gs_model_find(m, "layers.0.weight")), 0.1 * pow(4.0, -0.25), 0, 0.02);
        CHECK_NEAR(rms(gs_model_find(m, "stem.weight")), sqrt(2.0 / 20), 0, 0.03);
    }
    gs_model_free(m); m = NULL;
    /* resnet: --zero-last zeroes every b2.weight (the branch's last norm) */
    gs_model_config_default(&c);
    snprintf(c.family, sizeof c.family, "resnet");
    c.in_channels = 1; c.in_height = 8; c.in_width = 8; c.in_features = 64; c.classes = 4; c.width = 16; c.depth = 8;
    c.norm = GS_NORM_BATCH; c.zero_last = 1;
    CHECK(gs_model_create(ctx, &c, 4, &m) == GS_OK && gs_model_init(m, 1) == GS_OK, "resnet: %s", gs_errmsg(ctx));
    if (m) {
        for (int b = 0; b < 3; b++) {
            char name[40];
            snprintf(name, sizeof name, "blocks.%d.b2.weight", b);
            CHECK(all_zero(gs_model_find(m, name)), "--zero-last: %s not zero", name);
            snprintf(name, sizeof name, "blocks.%d.b1.weight", b);
            CHECK(!all_zero(gs_model_find(m, name)), "--zero-last: %s zero", name);
        }
    }
    gs_model_free(m); m = NULL;
    /* resnet without norm, fixup: c2 and fc zero, c1 scaled by 3^(-1/2) */
    c.norm = GS_NORM_NONE; c.zero_last = 0; c.init = GS_INIT_FIXUP; c.width = 64;
    CHECK(gs_model_create(ctx, &c, 4, &m) == GS_OK && gs_model_init(m, 1) == GS_OK, "resnet fixup: %s", gs_errmsg(ctx));
    if (m) {
        CHECK(all_zero(gs_model_find(m, "fc.weight")) && all_zero(gs_model_find(m, "blocks.1.c2.weight")), "fixup zeros");
        CHECK_NEAR(rms(gs_model_find(m, "blocks.0.c1.weight")), sqrt(2.0 / (64 * 9)) / sqrt(3.0), 0, 0.03);
    }
    gs_model_free(m);
    gs_ctx_free(ctx);
}

/* The Procrustes step: every singular value becomes ||W||_F / sqrt(min(r, c)), and the result is
 * the polar factor of W (W Qᵀ symmetric positive definite for a wide W, Qᵀ W for a tall one). */
static void test_procrustes(void)
{
    const int shapes[3][2] = { { 6, 15 }, { 17, 5 }, { 9, 9 } };
    for (int t = 0; t < 3; t++) {
        const int r = shapes[t][0], c = shapes[t][1], k = r < c ? r : c;
        float *W = malloc((size_t)r * c * sizeof *W), *Q = malloc((size_t)r * c * sizeof *Q);
        float *work = malloc(gs_procrustes_work_floats(r, c) * sizeof *work);
        double fro = 0;
        for (int i = 0; i < r * c; i++) { W[i] = (float)sin(1.7 * i + t) + (i % 4 == 0 ? 0.8f : 0.0f); fro += (double)W[i] * W[i]; }
        memcpy(Q, W, (size_t)r * c * sizeof *Q);
        const int iters = gs_procrustes_project(gs_backend_cpu(), Q, r, c, work, 1);
        CHECK(iters > 0 && iters < 80, "%dx%d: %d iterations", r, c, iters);
        const double s2 = fro / k;
        double worst = 0, asym = 0, fro2 = 0;
        for (int i = 0; i < r * c; i++) fro2 += (double)Q[i] * Q[i];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                double g = 0, p = 0, pt = 0;   /* Gram of Q; W Qᵀ (or Qᵀ W) and its transpose */
                if (r <= c) for (int l = 0; l < c; l++) {
                    g += (double)Q[i * c + l] * Q[j * c + l];
                    p += (double)W[i * c + l] * Q[j * c + l]; pt += (double)W[j * c + l] * Q[i * c + l];
                } else for (int l = 0; l < r; l++) {
                    g += (double)Q[l * c + i] * Q[l * c + j];
                    p += (double)Q[l * c + i] * W[l * c + j]; pt += (double)Q[l * c + j] * W[l * c + i];
                }
                worst = fmax(worst, fabs(g / s2 - (i == j)));
                asym = fmax(asym, fabs(p - pt));
                if (i == j) CHECK(p > 0, "%dx%d: diagonal %d of the symmetric factor is %g", r, c, i, p);
            }
        CHECK(worst < 1e-4, "%dx%d: singular values not equal: %.3g", r, c, worst);
        CHECK(asym < 1e-4 * fro, "%dx%d: not the polar factor (asymmetry %.3g)", r, c, asym);
        CHECK_NEAR(fro2, fro, 0, 1e-4);
        free(W); free(Q); free(work);
    }
}

/* Gradient buffers: most of a resnet's inner values share them, the kept ones (input, block boundaries, logits) do not, and a step gives the same
 * parameter gradients before and after the instruments ask to keep the activation points' too. */
static void test_grad_sharing(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c;
    gs_model_config_default(&c);
    snprintf(c.family, sizeof c.family, "resnet");
    c.in_channels = 1; c.in_height = 8; c.in_width = 8; c.in_features = 64;
    c.classes = 3; c.width = 16; c.depth = 14; c.norm = GS_NORM_BATCH;
    gs_model *m = NULL;
    int rc = gs_model_create(ctx, &c, NB, &m);
    if (rc == GS_OK) rc = gs_model_init(m, 5);
    CHECK(rc == GS_OK, "%s", gs_errmsg(ctx));
    if (rc) { gs_model_free(m); gs_ctx_free(ctx); return; }
    size_t shared = 0;
    for (int v = 0; v < m->n_values; v++) shared += m->values[v].grad_shared;
    for (int b = 0; b < m->n_block_in; b++) CHECK(!m->values[m->block_in[b]].grad_shared, "x_%d shared", b);
    CHECK(!m->values[0].grad_shared && !m->values[m->n_values - 1].grad_shared, "input or logits shared");
    CHECK(shared * 2 > (size_t)m->n_values, "only %zu of %d gradients shared", shared, m->n_values);
    /* no two values whose gradients are live at once share a buffer */
    for (int u = 0; u < m->n_values; u++)
        for (int v = u + 1; v < m->n_values; v++) {
            if (m->values[u].grad != m->values[v].grad) continue;
            CHECK(m->values[u].grad_shared && m->values[v].grad_shared, "%d and %d share a kept buffer", u, v);
            int pu = -1, pv = -1, lu = -1, lv = -1;
            for (int i = 0; i < m->n_nodes; i++) {
                const gs_node *n = &m->nodes[i];
                if (n->out == u) pu = i;
                if (n->out == v) pv = i;
                for (int k = 0; k < 2; k++) { if (n->in[k] == u) lu = i; if (n->in[k] == v) lv = i; }
            }
            CHECK(lu < pv || lv < pu, "values %d [%d, %d] and %d [%d, %d] overlap", u, pu, lu, v, pv, lv);
        }
    float x[NB * 64];
    int32_t y[NB] = { 0, 1, 2, 1 };
    for (int i = 0; i < NB * 64; i++) x[i] = (float)sin(0.3 * i);
    float *g1 = malloc(m->n_params * sizeof *g1);
    gs_model_zero_grad(m);
    rc = gs_model_forward(m, x, NB);
    if (rc == GS_OK) rc = gs_model_loss(m, y, NULL);
    if (rc == GS_OK) rc = gs_model_backward(m);
    memcpy(g1, m->grads, m->n_params * sizeof *g1);
    gs_probe *p = NULL;
    CHECK(gs_probe_create(ctx, m, &p) == GS_OK, "%s", gs_errmsg(ctx));
    for (int i = 0; i < m->n_points; i++) CHECK(!m->values[m->points[i].out].grad_shared, "point %d shared", i);
    gs_model_zero_grad(m);
    if (rc == GS_OK) rc = gs_model_forward(m, x, NB);
    if (rc == GS_OK) rc = gs_model_loss(m, y, NULL);
    if (rc == GS_OK) rc = gs_model_backward(m);
    CHECK(rc == GS_OK, "%s", gs_errmsg(ctx));
    CHECK(memcmp(g1, m->grads, m->n_params * sizeof *g1) == 0, "parameter gradients changed with the layout");
    free(g1);
    gs_probe_free(p);
    gs_model_free(m);
    gs_ctx_free(ctx);
}

/* ---- relu fused into the node before it, sigmoid and tanh into the linear layers around them: the
 * same bits as every node by itself ---- */
#define FUSE_N 6
/* Two forward and backward passes (mode 1: with a probe, which keeps the points' gradients; mode 2:
 * with the gradient between each fused pair marked kept, so backward runs the relu pairs one by one after
 * a fused forward, and the linear layers after a sigmoid or tanh write that gradient apart); fills the
 * activations, the kept gradients and the parameter gradients into out; returns the fused nodes
 * (fuse_relu + fuse_act + fuse_dact). */
/* *stale: the values the fused run's training forward left unwritten (filled by the first call, which
 * must be the fused one); both runs give zeros for those. */
static int fusion_run(const gs_model_config *c, int threads, int no_fusion, int mode, float **out, size_t *len,
                      char **stale, int *n_stale)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_ctx_set_threads(ctx, threads);
    gs_model *m = NULL;
    int fused = -1;
    *out = NULL; *len = 0;
    int rc = gs_model_create(ctx, c, FUSE_N, &m);
    if (rc == GS_OK) rc = gs_model_init(m, 7);
    CHECK(rc == GS_OK, "%s", gs_errmsg(ctx));
    if (rc) { gs_model_free(m); gs_ctx_free(ctx); return -1; }
    m->no_fusion = no_fusion;
    CHECK_EQ_INT(gs_model_plan_fusion(m), GS_OK);
    gs_probe *p = NULL;
    if (mode == 1) CHECK(gs_probe_create(ctx, m, &p) == GS_OK, "%s", gs_errmsg(ctx));
    char *kept = calloc((size_t)m->n_values, 1);
    for (int v = 0; v < m->n_values; v++) kept[v] = !m->values[v].grad_shared;
    fused = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        fused += m->nodes[i].fuse_relu + m->nodes[i].fuse_act + m->nodes[i].fuse_dact + m->nodes[i].fuse_next;
        if (mode == 2 && m->nodes[i].fuse_relu) m->values[m->nodes[i].out].grad_shared = 0;
        if (mode == 2 && m->nodes[i].fuse_dact) m->values[m->nodes[i].in[0]].grad_shared = 0;
    }
    const int F = (int)m->values[0].features;
    float *x = malloc(sizeof(float) * FUSE_N * F);
    int32_t y[FUSE_N];
    rng_seed(23);
    for (int k = 0; k < FUSE_N * F; k++) x[k] = (float)(2 * urand() - 1);
    for (int k = 0; k < FUSE_N; k++) y[k] = k % 3;
    /* two steps with an SGD-like move between, so the second runs on trained γ, β (the mask's map) */
    for (int step = 0; step < 2 && rc == GS_OK; step++) {
        gs_model_zero_grad(m);
        rc = gs_model_forward(m, x, FUSE_N);
        if (rc == GS_OK) rc = gs_model_loss(m, y, NULL);
        if (rc == GS_OK) rc = gs_model_backward(m);
        for (size_t k = 0; step == 0 && rc == GS_OK && k < m->n_params; k++) m->params[k] -= 0.5f * m->grads[k];
    }
    CHECK(rc == GS_OK, "%s", gs_errmsg(ctx));
    if (!*stale) {
        *stale = calloc((size_t)m->n_values, 1);
        for (int v = 0; *stale && v < m->n_values; v++) *n_stale += (*stale)[v] = (char)m->values[v].stale;
    }
    size_t n = m->n_params;
    for (int v = 1; v < m->n_values; v++) n += (size_t)FUSE_N * (size_t)m->values[v].features * (kept[v] ? 2 : 1);
    float *o = malloc(n * sizeof *o), *q = o;
    memcpy(q, m->grads, m->n_params * sizeof *q); q += m->n_params;
    for (int v = 1; v < m->n_values; v++) {
        const size_t k = (size_t)FUSE_N * (size_t)m->values[v].features;
        if (*stale && (*stale)[v]) memset(q, 0, k * sizeof *q);
        else memcpy(q, m->values[v].data, k * sizeof *q);
        q += k;
        if (kept[v]) { memcpy(q, m->values[v].grad, k * sizeof *q); q += k; }
    }
    free(kept);
    *out = o; *len = n;
    free(x);
    gs_probe_free(p);
    gs_model_free(m);
    gs_ctx_free(ctx);
    return fused;
}

static void test_fusion_bits(void)
{
    /* fused: relu pairs; act: linear layers with their sigmoid or tanh (forward_act, whose input
       goes unwritten in every mode), and linear layers after one (backward_act); next: linear layers
       running the batch norm after them (forward_next) */
    struct { const char *label; const char *family; int depth, skip, width; gs_norm norm; gs_res_scale rs; gs_act a;
             int fused, act, next; } cs[] = {
        /* 40 features: two vectors and a tail of 8 in every row */
        { "mlp post relu batch norm", "mlp", 4, 2, 40, GS_NORM_BATCH, GS_RES_SCALE_NONE, GS_ACT_RELU, 2 + 2, 0, 4 },
        { "mlp plain relu batch norm", "mlp", 3, 0, 40, GS_NORM_BATCH, GS_RES_SCALE_NONE, GS_ACT_RELU, 3, 0, 3 },
        { "mlp rezero relu", "mlp", 4, 2, 256, GS_NORM_NONE, GS_RES_SCALE_REZERO, GS_ACT_RELU, 2, 0, 0 },
        { "resnet-8 batch norm", "resnet", 8, 0, 16, GS_NORM_BATCH, GS_RES_SCALE_NONE, GS_ACT_RELU, 1 + 3 + 3, 0, 0 },
        { "plain-8 batch norm", "plain", 8, 0, 16, GS_NORM_BATCH, GS_RES_SCALE_NONE, GS_ACT_RELU, 7, 0, 0 },
        { "mlp plain sigmoid", "mlp", 3, 0, 40, GS_NORM_NONE, GS_RES_SCALE_NONE, GS_ACT_SIGMOID, 0, 4, 0 },
        { "mlp plain tanh", "mlp", 4, 0, 48, GS_NORM_NONE, GS_RES_SCALE_NONE, GS_ACT_TANH, 0, 5, 0 },
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        gs_model_config c = small_config(cs[i].depth, cs[i].skip, GS_BLOCK_POST, cs[i].norm, cs[i].a);
        snprintf(c.family, sizeof c.family, "%s", cs[i].family);
        c.width = cs[i].width; c.res_scale = cs[i].rs;
        if (strcmp(cs[i].family, "mlp")) {   /* 9x9 images: odd rows, a vector and a tail */
            c.in_channels = 1; c.in_height = 9; c.in_width = 9; c.in_features = 81;
        }
        for (int mode = 0; mode < 3; mode++)
            for (int threads = 1; threads <= 2; threads++) {
                float *a = NULL, *b = NULL;
                size_t la = 0, lb = 0;
                char *stale = NULL;
                int n_stale = 0;
                const int fb = fusion_run(&c, threads, 0, mode, &b, &lb, &stale, &n_stale);
                const int fa = fusion_run(&c, threads, 1, mode, &a, &la, &stale, &n_stale);
                CHECK(fa == 0, "%s: %d nodes fused with no_fusion", cs[i].label, fa);
                CHECK(fb == cs[i].fused + 2 * cs[i].act + cs[i].next, "%s: %d nodes fused, expected %d", cs[i].label, fb,
                      cs[i].fused + 2 * cs[i].act + cs[i].next);
                /* the relu pairs' inputs go unwritten exactly when their backward is fused too; a linear
                   layer's output under its sigmoid or tanh always (nothing reads it in training) */
                const int want = (mode == 2 ? 0 : cs[i].fused) + cs[i].act;
                CHECK(stale && n_stale == want, "%s, %d thread(s), mode %d: %d values left unwritten, expected %d",
                      cs[i].label, threads, mode, n_stale, want);
                free(stale);
                CHECK(la == lb && a && b && memcmp(a, b, la * sizeof *a) == 0,
                      "%s, %d thread(s)%s: values or gradients differ with the relus fused", cs[i].label, threads,
                      mode == 1 ? ", probed" : mode == 2 ? ", backward unfused" : "");
                free(a); free(b);
            }
    }
}

/* SGD's streamed writes (non-temporal stores, AVX-512) against the clones' plain ones: every rule, lengths
 * with a flush of the lanes and a scalar tail, the same p, m and sums to the bit.  A start off the 64-byte
 * line takes the plain path.  (Where the machine has no AVX-512 both sides run the clones.) */
static void test_sgd_stream(void)
{
    const size_t lens[] = { 16, 4096 + 48 + 5, 3 * 4096 + 37 };
    const size_t cap = 3 * 4096 + 64 + 16;
    float *g = aligned_alloc(64, cap * 4), *pa = aligned_alloc(64, cap * 4), *ma = aligned_alloc(64, cap * 4);
    float *pb = aligned_alloc(64, cap * 4), *mb = aligned_alloc(64, cap * 4);
    if (!g || !pa || !ma || !pb || !mb) { CHECK(0, "out of memory"); goto out; }
    uint32_t s = 12345;
    for (int rule = 0; rule < 5; rule++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
            for (size_t at = 0; at <= 16; at += 16) {
                const size_t n = lens[li];
                for (size_t i = 0; i < cap; i++) {
                    s = s * 1664525u + 1013904223u; g[i] = (float)((int)(s >> 8) % 2001 - 1000) * 1e-3f;
                    s = s * 1664525u + 1013904223u; pa[i] = pb[i] = (float)((int)(s >> 8) % 2001 - 1000) * 3e-4f;
                    s = s * 1664525u + 1013904223u; ma[i] = mb[i] = (float)((int)(s >> 8) % 2001 - 1000) * 1e-4f;
                }
                const float mu = rule == 0 ? 0.0f : 0.9f;
                const int first = rule == 1 || rule == 4, nesterov = rule >= 3;
                const size_t o = at ? 1 : 0;   /* off the line: the plain path on both sides */
                double acc_a[3] = { 0.5, 0, 0 }, acc_b[3] = { 0.5, 0, 0 };
                gs_sgd_update(pa + o, g + o, ma + o, n, 0.05f, 0.7f, 1e-3f, mu, first, nesterov, 0, acc_a);
                gs_sgd_update(pb + o, g + o, mb + o, n, 0.05f, 0.7f, 1e-3f, mu, first, nesterov, 1, acc_b);
                CHECK(memcmp(pa, pb, cap * 4) == 0 && memcmp(ma, mb, cap * 4) == 0,
                      "rule %d, n %zu, offset %zu: p or m differ streamed", rule, n, o);
                CHECK(acc_a[0] == acc_b[0] && acc_a[1] == acc_b[1] && acc_a[2] == acc_b[2],
                      "rule %d, n %zu: sums %.17g %.17g %.17g streamed, %.17g %.17g %.17g not", rule, n,
                      acc_b[0], acc_b[1], acc_b[2], acc_a[0], acc_a[1], acc_a[2]);
                CHECK(acc_a[0] > 0.5 && acc_a[1] > 0 && acc_a[2] > 0, "rule %d: sums not taken", rule);
            }
out:
    free(g); free(pa); free(ma); free(pb); free(mb);
}

int main(void)
{
    /* one test per gradient-check case, named after it */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t_cur_name = cases[i].label; t_cur_failed = 0;
        gradcheck(&cases[i]);
        if (t_cur_failed) { t_failed++; fprintf(stderr, "FAIL gradcheck %s\n", cases[i].label); }
        else { t_passed++; fprintf(stderr, "ok   gradcheck %s\n", cases[i].label); }
    }
    RUN(test_bad_configs);
    RUN(test_bad_calls);
    RUN(test_determinism);
    RUN(test_team_bits);
    RUN(test_save_load);
    RUN(test_zero_last_fixup);
    RUN(test_procrustes);
    RUN(test_grad_sharing);
    RUN(test_fusion_bits);
    RUN(test_sgd_stream);
    return FINISH();
}
