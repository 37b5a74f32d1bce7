/* mlp.c - the mlp family of DESIGN.md §1, exactly: plain, post and pre
 * residual blocks of span T, optional BatchNorm/LayerNorm, ReZero scalars.
 *
 * Tensors are registered first, in PyTorch state_dict order (stem, layers,
 * norms, final_norm, alphas, head); nodes are then wired over them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/model.h"

typedef struct mlp_offsets {
    size_t w, b;                 /* Linear */
    size_t nw, nb, nm, nv;       /* its norm */
} mlp_offsets;

static int add_linear(gs_model *m, const char *prefix, int in_f, int out_f, mlp_offsets *o)
{
    char name[96];
    int64_t ws[2] = { out_f, in_f }, bs[1] = { out_f };
    snprintf(name, sizeof name, "%s.weight", prefix);
    int rc = gs_model_add_tensor(m, name, GS_ROLE_WEIGHT, 2, ws, in_f, out_f, &o->w);
    if (rc) return rc;
    snprintf(name, sizeof name, "%s.bias", prefix);
    return gs_model_add_tensor(m, name, GS_ROLE_BIAS, 1, bs, in_f, out_f, &o->b);
}

static int add_norm(gs_model *m, const char *prefix, int F, mlp_offsets *o)
{
    char name[96];
    int64_t s[1] = { F };
    int rc;
    snprintf(name, sizeof name, "%s.weight", prefix);
    if ((rc = gs_model_add_tensor(m, name, GS_ROLE_NORM_WEIGHT, 1, s, F, F, &o->nw))) return rc;
    snprintf(name, sizeof name, "%s.bias", prefix);
    if ((rc = gs_model_add_tensor(m, name, GS_ROLE_NORM_BIAS, 1, s, F, F, &o->nb))) return rc;
    if (m->cfg.norm != GS_NORM_BATCH) return GS_OK;
    snprintf(name, sizeof name, "%s.running_mean", prefix);
    if ((rc = gs_model_add_tensor(m, name, GS_ROLE_RUNNING_MEAN, 1, s, F, F, &o->nm))) return rc;
    snprintf(name, sizeof name, "%s.running_var", prefix);
    return gs_model_add_tensor(m, name, GS_ROLE_RUNNING_VAR, 1, s, F, F, &o->nv);
}

/* Wire one node; returns the output value id or a negative code. */
static int wire(gs_model *m, int in0, int in1, int64_t out_f, int kind, const mlp_offsets *o,
                int in_f, size_t alpha_off)
{
    int out = gs_model_add_value(m, out_f);
    if (out < 0) return out;
    gs_node *n = gs_model_add_node(m, in0, in1, out);
    if (!n) return gs_error(m->ctx, GS_ENOMEM, "mlp: out of memory");
    int rc;
    switch (kind) {
    case 'L': rc = gs_linear_node(m->ctx, n, in_f, (int)out_f, o->w, o->b); break;
    case 'N': rc = m->cfg.norm == GS_NORM_BATCH
                       ? gs_batchnorm_node(m->ctx, n, (int)out_f, 1, m->max_batch, o->nw, o->nb, o->nm, o->nv)
                       : gs_layernorm_node(m->ctx, n, (int)out_f, m->max_batch, o->nw, o->nb); break;
    case 'A': rc = gs_act_node(m->ctx, n, m->cfg.act, out_f); break;
    default:  rc = gs_add_node(m->ctx, n, out_f, alpha_off); break;
    }
    return rc < 0 ? rc : out;
}

static int check_config(gs_model *m)
{
    const gs_model_config *c = &m->cfg;
    if (c->in_features < 1) return gs_error(m->ctx, GS_EINVAL, "mlp: in_features %d must be >= 1", c->in_features);
    if (c->classes < 1) return gs_error(m->ctx, GS_EINVAL, "mlp: classes %d must be >= 1", c->classes);
    if (c->width < 1) return gs_error(m->ctx, GS_EINVAL, "mlp: --width %d must be >= 1", c->width);
    if (c->depth < 0) return gs_error(m->ctx, GS_EINVAL, "mlp: --depth %d must be >= 0", c->depth);
    if (c->skip < 0) return gs_error(m->ctx, GS_EINVAL, "mlp: --skip %d must be >= 0", c->skip);
    if (c->skip > 0 && (c->depth == 0 || c->depth % c->skip != 0))
        return gs_error(m->ctx, GS_EINVAL, "mlp: --depth %d must be a positive multiple of --skip %d",
                        c->depth, c->skip);
    if (c->skip == 0 && c->block == GS_BLOCK_PRE)
        return gs_error(m->ctx, GS_EINVAL, "mlp: --block pre needs residual blocks (--skip >= 1)");
    if (c->skip == 0 && c->res_scale == GS_RES_SCALE_REZERO)
        return gs_error(m->ctx, GS_EINVAL, "mlp: --res-scale rezero needs residual blocks (--skip >= 1)");
    if ((int)c->act < 0 || c->act >= GS_ACT_COUNT) return gs_error(m->ctx, GS_EINVAL, "mlp: bad activation");
    return GS_OK;
}

int gs_mlp_build(gs_model *m)
{
    const gs_model_config *c = &m->cfg;
    int rc = check_config(m);
    if (rc) return rc;
    const int W = c->width, D = c->depth, T = c->skip;
    const int n_blocks = T ? D / T : 0;
    const int has_norm = c->norm != GS_NORM_NONE;
    const int final_norm = T && c->block == GS_BLOCK_PRE && has_norm;
    char name[64];
    mlp_offsets stem = { 0 }, head = { 0 }, fin = { 0 };
    mlp_offsets *L = calloc((size_t)(D ? D : 1), sizeof *L);
    size_t *alpha = calloc((size_t)(n_blocks ? n_blocks : 1), sizeof *alpha);
    if (!L || !alpha) { free(L); free(alpha); return gs_error(m->ctx, GS_ENOMEM, "mlp: out of memory"); }

    /* 1. tensors, in state_dict order */
    rc = add_linear(m, "stem", c->in_features, W, &stem);
    for (int i = 0; !rc && i < D; i++) {
        snprintf(name, sizeof name, "layers.%d", i);
        rc = add_linear(m, name, W, W, &L[i]);
    }
    for (int i = 0; !rc && has_norm && i < D; i++) {
        snprintf(name, sizeof name, "norms.%d", i);
        rc = add_norm(m, name, W, &L[i]);
    }
    if (!rc && final_norm) rc = add_norm(m, "final_norm", W, &fin);
    for (int b = 0; !rc && c->res_scale == GS_RES_SCALE_REZERO && b < n_blocks; b++) {
        int64_t one[1] = { 1 };
        snprintf(name, sizeof name, "alphas.%d", b);
        rc = gs_model_add_tensor(m, name, GS_ROLE_ALPHA, 1, one, 1, 1, &alpha[b]);
    }
    if (!rc) rc = add_linear(m, "head", W, c->classes, &head);
    if (rc) { free(L); free(alpha); return rc; }

    /* the last layer (or norm) of each residual branch, for --zero-last; the roles fixup needs */
    for (int i = T - 1; T && i < D; i += T) {
        snprintf(name, sizeof name, has_norm && c->block == GS_BLOCK_POST ? "norms.%d.weight" : "layers.%d.weight", i);
        gs_tensor_slot *s = gs_model_slot(m, name);
        if (s) s->branch_last = 1;
    }
    for (int i = 0; T && i < D; i++) {
        snprintf(name, sizeof name, "layers.%d.weight", i);
        gs_tensor_slot *s = gs_model_slot(m, name);
        if (s) s->fixup = i % T == T - 1 ? 2 : 1;
    }
    {
        gs_tensor_slot *s = gs_model_slot(m, "head.weight");
        if (s) s->fixup = 3;
        if (T && (s = gs_model_slot(m, "stem.weight"))) s->transition = 1;
    }

    /* 2. nodes */
    int h = gs_model_add_value(m, c->in_features);    /* value 0: the input */
    rc = h < 0 ? h : GS_OK;
    const size_t none = GS_NO_OFFSET;
#define W2(...) do { int r_ = wire(__VA_ARGS__); if (r_ < 0) { rc = r_; goto done; } h = r_; } while (0)
#define POINT(...) do { snprintf(name, sizeof name, __VA_ARGS__); \
                        if ((rc = gs_model_add_point(m, name))) goto done; } while (0)
#define BOUNDARY(v) do { if ((rc = gs_model_add_block_boundary(m, v))) goto done; } while (0)
    W2(m, h, -1, W, 'L', &stem, c->in_features, none);
    W2(m, h, -1, W, 'A', &stem, W, none);
    POINT("stem");
    if (T == 0) {
        for (int i = 0; i < D; i++) {
            if ((rc = gs_model_add_plain_boundary(m, h))) goto done;
            W2(m, h, -1, W, 'L', &L[i], W, none);
            if (has_norm) W2(m, h, -1, W, 'N', &L[i], W, none);
            W2(m, h, -1, W, 'A', &L[i], W, none);
            POINT("layers.%d", i);
        }
        if (D > 0 && (rc = gs_model_add_plain_boundary(m, h))) goto done;
    } else {
        for (int b = 0; b < n_blocks; b++) {
            const int x = h;
            BOUNDARY(x);
            const size_t a = c->res_scale == GS_RES_SCALE_REZERO ? alpha[b] : none;
            for (int j = b * T; j < (b + 1) * T; j++) {
                const int last = j == (b + 1) * T - 1;
                if (c->block == GS_BLOCK_POST) {
                    W2(m, h, -1, W, 'L', &L[j], W, none);
                    if (has_norm) W2(m, h, -1, W, 'N', &L[j], W, none);
                    if (!last) { W2(m, h, -1, W, 'A', &L[j], W, none); POINT("layers.%d", j); }
                } else {
                    if (has_norm) W2(m, h, -1, W, 'N', &L[j], W, none);
                    W2(m, h, -1, W, 'A', &L[j], W, none);
                    POINT("layers.%d.in", j);
                    W2(m, h, -1, W, 'L', &L[j], W, none);
                }
            }
            W2(m, x, h, W, '+', NULL, W, a);
            if (c->block == GS_BLOCK_POST) { W2(m, h, -1, W, 'A', NULL, W, none); POINT("layers.%d", (b + 1) * T - 1); }
        }
        BOUNDARY(h);
        if (c->block == GS_BLOCK_PRE) {
            if (final_norm) W2(m, h, -1, W, 'N', &fin, W, none);
            W2(m, h, -1, W, 'A', NULL, W, none);
            POINT("final");
        }
    }
    W2(m, h, -1, c->classes, 'L', &head, W, none);
#undef W2
#undef POINT
#undef BOUNDARY
done:
    free(L); free(alpha);
    return rc;
}
