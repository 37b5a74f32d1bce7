/* test_lesion.c - the lesion study (DESIGN.md §3) on networks built so the answer is known:
 *  - deleting a post block with batch norm equals zeroing its branch's last norm (the branch then
 *    adds 0, so the block gives act(S x_b)): mlp, and resnet with option A and B transition blocks;
 *    deleting a pre block equals zeroing its branch's last layer;
 *  - blocks whose branch is zero are identities: deleting them, or reordering them, changes
 *    nothing, while deleting the one block that acts does;
 *  - a plain mlp layer that is the identity can be deleted without any change;
 *  - Kendall's tau, the k-deleted statistics and the errors' shapes.
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "gradscope.h"

#define NS 40   /* test samples */

static void make_data(gs_dataset *d, int features, int classes, int C, int H, int W, unsigned seed)
{
    memset(d, 0, sizeof *d);
    d->n = NS; d->features = features; d->classes = classes;
    d->channels = C; d->height = H; d->width = W;
    d->x = malloc((size_t)NS * (size_t)features * sizeof *d->x);
    d->y = malloc(NS * sizeof *d->y);
    for (size_t i = 0; i < (size_t)NS * (size_t)features; i++)
        d->x[i] = (float)sin(0.37 * (double)i + seed) + 0.2f * (float)((i * 7 + seed) % 5);
    for (int i = 0; i < NS; i++) d->y[i] = (i * 3 + (int)seed) % classes;
}

static gs_model *build(gs_ctx *ctx, const gs_model_config *c)
{
    gs_model *m = NULL;
    int rc = gs_model_create(ctx, c, 16, &m);
    if (rc == GS_OK) rc = gs_model_init(m, 11);
    CHECK(rc == GS_OK, "build: %s", gs_errmsg(ctx));
    if (rc) { gs_model_free(m); return NULL; }
    return m;
}

static float *tensor(gs_model *m, const char *name, size_t *n)
{
    const gs_tensor_info *t = gs_model_find(m, name);
    CHECK(t != NULL, "no tensor %s", name);
    if (n) *n = t ? t->numel : 0;
    return t ? t->data : NULL;
}

static double eval_error(gs_ctx *ctx, gs_model *m, const gs_dataset *d)
{
    float acc = 0;
    CHECK(gs_evaluate(ctx, m, d, 16, NULL, &acc) == GS_OK, "evaluate: %s", gs_errmsg(ctx));
    return 1.0 - acc;
}

/* single_error[j] against the error of the net with the tensors zero[] ("%d" = the block) of
 * block j set to zero. */
static void check_delete_equals_zeroed(const char *label, const gs_model_config *c, const gs_dataset *d,
                                       const char *const *zero, int n_zero)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model *m = build(ctx, c);
    if (!m) { gs_ctx_free(ctx); return; }
    gs_lesion_config lc;
    gs_lesion_config_default(&lc);
    lc.sets = 2; lc.max_k = 2; lc.max_swaps = 2;
    gs_lesion_result r;
    int rc = gs_lesion_compute(m, d, &lc, &r);
    CHECK(rc == GS_OK, "%s: lesion: %s", label, gs_errmsg(ctx));
    if (rc) goto done;
    CHECK(r.residual == 1, "%s: not seen as residual", label);
    CHECK_NEAR(r.baseline_error, eval_error(ctx, m, d), 1e-6, 0);
    int differs = 0;
    for (int j = 0; j < r.units; j++) {
        float *saved[4];
        size_t len[4];
        for (int z = 0; z < n_zero; z++) {
            char name[64];
            snprintf(name, sizeof name, zero[z], j);
            float *t = tensor(m, name, &len[z]);
            saved[z] = malloc(len[z] * sizeof(float));
            memcpy(saved[z], t, len[z] * sizeof(float));
            memset(t, 0, len[z] * sizeof(float));
        }
        const double want = eval_error(ctx, m, d);
        CHECK_NEAR(r.single_error[j], want, 1e-6, 0);
        differs += fabs(want - r.baseline_error) > 1e-6;
        for (int z = 0; z < n_zero; z++) {
            char name[64];
            snprintf(name, sizeof name, zero[z], j);
            memcpy(tensor(m, name, NULL), saved[z], len[z] * sizeof(float));
            free(saved[z]);
        }
    }
    CHECK(differs > 0, "%s: no deletion changed the error: the test shows nothing", label);
    CHECK_EQ_INT(r.n_k, 2);
    for (int k = 0; k < r.n_k; k++)
        CHECK(r.k[k] == k + 1 && r.k_sets[k] == 2 && r.k_mean[k] >= 0 && r.k_mean[k] <= 1 && r.k_std[k] >= 0,
              "%s: k-deleted entry %d", label, k);
    CHECK(r.n_reorder == 4, "%s: %d reorderings", label, r.n_reorder);
    for (int i = 0; i < r.n_reorder; i++)
        CHECK(r.tau[i] >= -1 && r.tau[i] <= 1 && (r.swaps[i] != 1 || r.tau[i] < 1), "%s: tau %g after %d swaps",
              label, r.tau[i], r.swaps[i]);
    gs_lesion_result_free(&r);
done:
    gs_model_free(m);
    gs_ctx_free(ctx);
}

static void test_mlp_post_bn(void)
{
    gs_model_config c;
    gs_model_config_default(&c);
    /* span 1: block j's branch is layers.j then norms.j */
    c.in_features = 12; c.classes = 5; c.width = 16; c.depth = 4; c.skip = 1; c.norm = GS_NORM_BATCH;
    gs_dataset d;
    make_data(&d, 12, 5, 1, 1, 12, 1);
    const char *z[2] = { "norms.%d.weight", "norms.%d.bias" };
    check_delete_equals_zeroed("mlp post relu bn, 4 blocks", &c, &d, z, 2);
    free(d.x); free(d.y);
}

static void test_mlp_pre(void)
{
    gs_model_config c;
    gs_model_config_default(&c);
    c.in_features = 12; c.classes = 5; c.width = 16; c.depth = 5; c.skip = 1; c.block = GS_BLOCK_PRE;
    c.act = GS_ACT_TANH;
    gs_dataset d;
    make_data(&d, 12, 5, 1, 1, 12, 2);
    const char *z[2] = { "layers.%d.weight", "layers.%d.bias" };
    check_delete_equals_zeroed("mlp pre tanh, 5 blocks", &c, &d, z, 2);
    free(d.x); free(d.y);
}

static void test_resnet(void)
{
    for (int sc = 0; sc < 2; sc++) {
        gs_model_config c;
        gs_model_config_default(&c);
        snprintf(c.family, sizeof c.family, "resnet");
        c.in_channels = 1; c.in_height = 8; c.in_width = 8; c.in_features = 64; c.classes = 4; c.width = 16;
        c.depth = 14; c.shortcut = sc ? 'B' : 'A'; c.norm = GS_NORM_BATCH;
        gs_dataset d;
        make_data(&d, 64, 4, 1, 8, 8, 3);
        const char *z[2] = { "blocks.%d.b2.weight", "blocks.%d.b2.bias" };
        check_delete_equals_zeroed(sc ? "resnet-14 B post" : "resnet-14 A post", &c, &d, z, 2);
        free(d.x); free(d.y);
    }
}

/* Identity blocks commute and vanish: only the block that acts matters. */
static void test_identity_blocks(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c;
    gs_model_config_default(&c);
    c.in_features = 10; c.classes = 4; c.width = 8; c.depth = 6; c.skip = 1; c.block = GS_BLOCK_PRE;
    c.act = GS_ACT_IDENTITY;
    gs_model *m = build(ctx, &c);
    gs_dataset d;
    make_data(&d, 10, 4, 1, 1, 10, 4);
    if (!m) goto out;
    const int acting = 3;
    for (int j = 0; j < 6; j++) {
        char name[32];
        size_t nw, nb;
        snprintf(name, sizeof name, "layers.%d.weight", j);
        float *w = tensor(m, name, &nw);
        snprintf(name, sizeof name, "layers.%d.bias", j);
        float *b = tensor(m, name, &nb);
        if (!w || !b) goto out;
        memset(b, 0, nb * sizeof *b);
        for (size_t i = 0; i < nw; i++) w[i] = j == acting ? (i % 9 == 0 ? -2.0f : 0.0f) : 0.0f;
    }
    gs_lesion_config lc;
    gs_lesion_config_default(&lc);
    lc.sets = 3; lc.max_swaps = 2;
    gs_lesion_result r;
    CHECK(gs_lesion_compute(m, &d, &lc, &r) == GS_OK, "lesion: %s", gs_errmsg(ctx));
    for (int j = 0; j < r.units; j++)
        if (j != acting) CHECK_NEAR(r.single_error[j], r.baseline_error, 0, 0);
    CHECK(r.single_error[acting] != r.baseline_error, "deleting the acting block changed nothing (%g)", r.baseline_error);
    for (int i = 0; i < r.n_reorder; i++) CHECK_NEAR(r.reorder_error[i], r.baseline_error, 0, 0);
    CHECK_EQ_INT(r.n_k, 5);
    gs_lesion_result_free(&r);
out:
    free(d.x); free(d.y);
    gs_model_free(m);
    gs_ctx_free(ctx);
}

/* A plain mlp whose layer 2 is the identity map. */
static void test_plain_identity_layer(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_model_config c;
    gs_model_config_default(&c);
    c.in_features = 10; c.classes = 4; c.width = 8; c.depth = 4; c.act = GS_ACT_RELU;
    gs_model *m = build(ctx, &c);
    gs_dataset d;
    make_data(&d, 10, 4, 1, 1, 10, 5);
    if (!m) goto out;
    size_t nw, nb;
    float *w = tensor(m, "layers.2.weight", &nw), *b = tensor(m, "layers.2.bias", &nb);
    if (!w || !b) goto out;
    memset(b, 0, nb * sizeof *b);
    for (size_t i = 0; i < nw; i++) w[i] = i % 9 == 0 ? 1.0f : 0.0f;   /* relu(I h) = h: h >= 0 already */
    gs_lesion_config lc;
    gs_lesion_config_default(&lc);
    lc.sets = 2;
    gs_lesion_result r;
    CHECK(gs_lesion_compute(m, &d, &lc, &r) == GS_OK, "lesion: %s", gs_errmsg(ctx));
    CHECK_EQ_INT(r.units, 4);
    CHECK_EQ_INT(r.residual, 0);
    CHECK_NEAR(r.single_error[2], r.baseline_error, 0, 0);
    int other = 0;
    for (int j = 0; j < 4; j++) other += j != 2 && r.single_error[j] != r.baseline_error;
    CHECK(other > 0, "no other deletion mattered");
    gs_lesion_result_free(&r);
out:
    free(d.x); free(d.y);
    gs_model_free(m);
    gs_ctx_free(ctx);
}

int main(void)
{
    RUN(test_mlp_post_bn);
    RUN(test_mlp_pre);
    RUN(test_resnet);
    RUN(test_identity_blocks);
    RUN(test_plain_identity_layer);
    return FINISH();
}
