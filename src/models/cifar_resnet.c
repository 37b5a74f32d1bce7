/* cifar_resnet.c - He et al. 2015 §4.2: the CIFAR ResNets of depth 6n+2 and
 * their plain twins, exactly as DESIGN.md §1 (post and pre blocks, shortcut
 * A or B, --width scaling the 16/32/64 channels).  Inputs of any size work:
 * the head reads a global average pool.
 *
 * Tensors are registered as the nodes are wired, in forward order, which is
 * the registration order of the equivalent PyTorch module tree: conv, bn,
 * blocks.{k}.{c1,b1,c2,b2,proj,proj_bn} for post blocks and
 * blocks.{k}.{b1,c1,b2,c2,proj,proj_bn} for pre blocks, bn_final, fc
 * (tests/ref/gen_resnet.py builds the same tree).
 */
#include <stdio.h>
#include <string.h>
#include "models/model.h"

typedef struct shape { int C, H, W; } shape;

typedef struct builder {
    gs_model *m;
    int h;                   /* current value */
    shape s;                 /* its shape */
    int rc;
} builder;

static int new_node(builder *b, int in0, int in1, int64_t out_features, gs_node **n)
{
    int out = gs_model_add_value(b->m, out_features);
    if (out < 0) return out;
    *n = gs_model_add_node(b->m, in0, in1, out);
    if (!*n) return gs_error(b->m->ctx, GS_ENOMEM, "resnet: out of memory");
    return out;
}

/* conv (3x3 or 1x1) named prefix.weight (+ .bias), from value `in` of shape s */
static int conv(builder *b, int in, shape s, const char *prefix, int O, int k, int stride, int bias, shape *out_s)
{
    char name[96];
    size_t w_off, b_off = GS_NO_OFFSET;
    int64_t ws[4] = { O, s.C, k, k }, bs[1] = { O };
    int rc;
    snprintf(name, sizeof name, "%s.weight", prefix);
    if ((rc = gs_model_add_tensor(b->m, name, GS_ROLE_WEIGHT, 4, ws, s.C * k * k, O * k * k, &w_off))) return rc;
    if (bias) {
        snprintf(name, sizeof name, "%s.bias", prefix);
        if ((rc = gs_model_add_tensor(b->m, name, GS_ROLE_BIAS, 1, bs, s.C * k * k, O * k * k, &b_off))) return rc;
    }
    const int pad = k / 2;
    shape o = { O, (s.H + 2 * pad - k) / stride + 1, (s.W + 2 * pad - k) / stride + 1 };
    gs_node *n;
    int v = new_node(b, in, -1, (int64_t)o.C * o.H * o.W, &n);
    if (v < 0) return v;
    if ((rc = gs_conv2d_node(b->m->ctx, n, s.C, s.H, s.W, O, k, k, stride, pad, b->m->max_batch, w_off, b_off))) return rc;
    *out_s = o;
    return v;
}

static int bnorm(builder *b, int in, shape s, const char *prefix)
{
    char name[96];
    int64_t cs[1] = { s.C };
    size_t off[4];
    const char *suffix[4] = { "weight", "bias", "running_mean", "running_var" };
    const gs_role role[4] = { GS_ROLE_NORM_WEIGHT, GS_ROLE_NORM_BIAS, GS_ROLE_RUNNING_MEAN, GS_ROLE_RUNNING_VAR };
    int rc;
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%s.%s", prefix, suffix[i]);
        if ((rc = gs_model_add_tensor(b->m, name, role[i], 1, cs, s.C, s.C, &off[i]))) return rc;
    }
    gs_node *n;
    int v = new_node(b, in, -1, (int64_t)s.C * s.H * s.W, &n);
    if (v < 0) return v;
    if ((rc = gs_batchnorm_node(b->m->ctx, n, s.C, s.H * s.W, b->m->max_batch, off[0], off[1], off[2], off[3]))) return rc;
    return v;
}

static int act(builder *b, int in, shape s, const char *point)
{
    gs_node *n;
    int v = new_node(b, in, -1, (int64_t)s.C * s.H * s.W, &n);
    if (v < 0) return v;
    int rc = gs_act_node(b->m->ctx, n, b->m->cfg.act, (int64_t)s.C * s.H * s.W);
    if (rc == GS_OK && point) rc = gs_model_add_point(b->m, point);
    return rc ? rc : v;
}

static int add(builder *b, int x, int z, shape s)
{
    gs_node *n;
    int v = new_node(b, x, z, (int64_t)s.C * s.H * s.W, &n);
    if (v < 0) return v;
    int rc = gs_add_node(b->m->ctx, n, (int64_t)s.C * s.H * s.W, GS_NO_OFFSET);
    return rc ? rc : v;
}

#define TRY(expr) do { int r_ = (expr); if (r_ < 0) return r_; } while (0)
#define SET(var, expr) do { int r_ = (expr); if (r_ < 0) return r_; (var) = r_; } while (0)

/* The shortcut S(h) of block k from shape s to shape o. */
static int shortcut(builder *b, int h, shape s, shape o, int stride, int k)
{
    char name[64];
    if (s.C == o.C && stride == 1) return h;
    if (b->m->cfg.shortcut == 'B') {
        shape ps;
        int v;
        snprintf(name, sizeof name, "blocks.%d.proj", k);
        SET(v, conv(b, h, s, name, o.C, 1, stride, 0, &ps));
        snprintf(name, sizeof name, "blocks.%d.proj_bn", k);
        return bnorm(b, v, ps, name);
    }
    gs_node *n;
    int v = new_node(b, h, -1, (int64_t)o.C * o.H * o.W, &n);
    if (v < 0) return v;
    int rc = gs_shortcut_a_node(b->m->ctx, n, s.C, s.H, s.W, o.C, stride);
    return rc ? rc : v;
}

int gs_resnet_build(gs_model *m)
{
    const gs_model_config *c = &m->cfg;
    const int residual = strcmp(c->family, "resnet") == 0;
    if (c->depth < 8 || (c->depth - 2) % 6)
        return gs_error(m->ctx, GS_EINVAL, "%s: --depth %d must be 6n+2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...)",
                        c->family, c->depth);
    if (c->in_channels < 1 || c->in_height < 1 || c->in_width < 1)
        return gs_error(m->ctx, GS_EINVAL, "%s: input shape %dx%dx%d is not valid", c->family,
                        c->in_channels, c->in_height, c->in_width);
    if (c->width < 1 || c->width % 16)
        return gs_error(m->ctx, GS_EINVAL, "%s: --width %d must be a positive multiple of 16", c->family, c->width);
    if (c->norm == GS_NORM_LAYER)
        return gs_error(m->ctx, GS_EINVAL, "%s: --norm layer is not defined for convolutional nets (none or batch)", c->family);
    if (c->shortcut != 'A' && c->shortcut != 'B')
        return gs_error(m->ctx, GS_EINVAL, "%s: --shortcut must be A or B", c->family);
    if (c->res_scale != GS_RES_SCALE_NONE)
        return gs_error(m->ctx, GS_EINVAL, "%s: --res-scale is for the mlp family", c->family);
    m->cfg.in_features = c->in_channels * c->in_height * c->in_width;
    const int n_per_stage = (c->depth - 2) / 6;
    const int bn = c->norm == GS_NORM_BATCH, pre = c->block == GS_BLOCK_PRE;
    const int W0 = c->width;
    builder b = { m, 0, { c->in_channels, c->in_height, c->in_width }, 0 };
    char name[64], name2[64];
    int h;
    SET(h, gs_model_add_value(m, m->cfg.in_features));   /* value 0: the input */
    shape s = b.s, o;
    SET(h, conv(&b, h, s, "conv", W0, 3, 1, !bn, &o));
    s = o;
    if (!pre) {
        if (bn) SET(h, bnorm(&b, h, s, "bn"));
        SET(h, act(&b, h, s, "conv"));
    }
    int k = 0;
    for (int stage = 0; stage < 3; stage++)
        for (int i = 0; i < n_per_stage; i++, k++) {
            const int O = W0 << stage, stride = stage > 0 && i == 0 ? 2 : 1;
            TRY(residual ? gs_model_add_block_boundary(m, h) : gs_model_add_plain_boundary(m, h));
            const int x = h;
            const shape xs = s;
            int z = h;
            shape zs = s;
            if (!pre) {
                snprintf(name, sizeof name, "blocks.%d.c1", k);
                SET(z, conv(&b, z, zs, name, O, 3, stride, !bn, &zs));
                if (bn) { snprintf(name, sizeof name, "blocks.%d.b1", k); SET(z, bnorm(&b, z, zs, name)); }
                snprintf(name, sizeof name, "blocks.%d.c1", k);
                SET(z, act(&b, z, zs, name));
                snprintf(name, sizeof name, "blocks.%d.c2", k);
                SET(z, conv(&b, z, zs, name, O, 3, 1, !bn, &zs));
                if (bn) { snprintf(name, sizeof name, "blocks.%d.b2", k); SET(z, bnorm(&b, z, zs, name)); }
                if (residual) {
                    int sc;
                    SET(sc, shortcut(&b, x, xs, zs, stride, k));
                    SET(z, add(&b, sc, z, zs));
                }
                snprintf(name, sizeof name, "blocks.%d", k);
                SET(h, act(&b, z, zs, name));
            } else {
                /* z = c2(act(b2(c1(act(b1(h)))))); h = z + S(h) */
                if (bn) { snprintf(name, sizeof name, "blocks.%d.b1", k); SET(z, bnorm(&b, z, zs, name)); }
                snprintf(name, sizeof name, "blocks.%d.in", k);
                SET(z, act(&b, z, zs, name));
                snprintf(name, sizeof name, "blocks.%d.c1", k);
                SET(z, conv(&b, z, zs, name, O, 3, stride, !bn, &zs));
                if (bn) { snprintf(name2, sizeof name2, "blocks.%d.b2", k); SET(z, bnorm(&b, z, zs, name2)); }
                SET(z, act(&b, z, zs, name));
                snprintf(name, sizeof name, "blocks.%d.c2", k);
                SET(z, conv(&b, z, zs, name, O, 3, 1, !bn, &zs));
                if (residual) {
                    int sc;
                    SET(sc, shortcut(&b, x, xs, zs, stride, k));
                    SET(h, add(&b, sc, z, zs));
                } else {
                    h = z;
                }
            }
            s = zs;
        }
    TRY(residual ? gs_model_add_block_boundary(m, h) : gs_model_add_plain_boundary(m, h));
    if (pre) {
        if (bn) SET(h, bnorm(&b, h, s, "bn_final"));
        SET(h, act(&b, h, s, "final"));
    }
    gs_node *n;
    int v;
    SET(v, new_node(&b, h, -1, s.C, &n));
    TRY(gs_avgpool_node(m->ctx, n, s.C, s.H, s.W));
    h = v;
    size_t w_off, b_off;
    int64_t ws[2] = { c->classes, s.C }, bs[1] = { c->classes };
    TRY(gs_model_add_tensor(m, "fc.weight", GS_ROLE_WEIGHT, 2, ws, s.C, c->classes, &w_off));
    TRY(gs_model_add_tensor(m, "fc.bias", GS_ROLE_BIAS, 1, bs, s.C, c->classes, &b_off));
    SET(v, new_node(&b, h, -1, c->classes, &n));
    TRY(gs_linear_node(m->ctx, n, s.C, c->classes, w_off, b_off));
    /* --zero-last: the last BN of each residual branch (b2), or c2 without norm */
    for (int j = 0; residual && j < k; j++) {
        snprintf(name, sizeof name, bn && !pre ? "blocks.%d.b2.weight" : "blocks.%d.c2.weight", j);
        gs_tensor_slot *t = gs_model_slot(m, name);
        if (t) t->branch_last = 1;
        for (int l = 1; l <= 2; l++) {
            snprintf(name, sizeof name, "blocks.%d.c%d.weight", j, l);
            if ((t = gs_model_slot(m, name))) t->fixup = l;
        }
        snprintf(name, sizeof name, "blocks.%d.proj.weight", j);
        if ((t = gs_model_slot(m, name))) t->transition = 1;
    }
    gs_tensor_slot *fc = gs_model_slot(m, "fc.weight");
    if (fc && residual) fc->fixup = 3;
    return GS_OK;
}
