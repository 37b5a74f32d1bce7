/* probe.c - the instruments of DESIGN.md §2, read from a model after its
 * backward pass: per activation point h_l the gradient norm ‖∂L/∂h_l‖ over
 * the batch, mean and std of h_l, the saturated fraction; per residual block
 * the norm ratio ‖∂L/∂x_b‖ / ‖∂L/∂x_{b+1}‖; dead units on demand.  The
 * per-parameter statistics are filled by the optimizer's fused update
 * (optim.c), so the parameter block is read once per step.
 * Tags and value slots are allocated at creation: collecting allocates
 * nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe/probe.h"
#include "kernels/cpu/act.h"
#include "kernels/cpu/reduce.h"

enum { P_GRAD, P_MEAN, P_STD, P_SAT, P_COUNT };

struct gs_probe {
    gs_ctx *ctx;
    gs_model *m;
    int n_train;             /* trainable tensors */
    int n_tags, n_dead;      /* dead tags are the last n_dead */
    char **tags;
    float *values;
    int param_base;          /* 3 per trainable tensor */
    int point_base;          /* P_COUNT per activation point (P_SAT unused for non-saturating) */
    int ratio_base;          /* one per residual block */
    int dead_base;
    int *dead_point;         /* (n_dead) point index */
    int *ratio_point;        /* (n_block_in) the point whose output is x_b, or -1 */
    int dead_fresh;
    unsigned char *alive;    /* (width) scratch for dead units */
};

static int is_dead_family(gs_act a) { return a == GS_ACT_RELU || a == GS_ACT_LEAKY_RELU; }

static int add_tag(gs_probe *p, const char *a, const char *b)
{
    size_t len = strlen(a) + strlen(b) + 2;
    char *t = malloc(len);
    if (!t) return GS_ENOMEM;
    snprintf(t, len, "%s/%s", a, b);
    p->tags[p->n_tags++] = t;
    return GS_OK;
}

void gs_probe_free(gs_probe *p)
{
    if (!p) return;
    for (int i = 0; i < p->n_tags; i++) free(p->tags[i]);
    free(p->tags); free(p->values); free(p->dead_point); free(p->alive); free(p->ratio_point);
    free(p);
}

int gs_probe_create(gs_ctx *ctx, gs_model *m, gs_probe **out)
{
    gs_probe *p = calloc(1, sizeof *p);
    if (!p) return gs_error(ctx, GS_ENOMEM, "probe: out of memory");
    p->ctx = ctx; p->m = m;
    if (!m->keep_point_grads) {                  /* the points' gradients must outlive backward */
        m->keep_point_grads = 1;
        int rc = gs_model_plan_grads(m);
        if (rc) { free(p); return rc; }
    }
    for (int i = 0; i < m->n_tensors; i++) p->n_train += m->tensors[i].info.trainable;
    const int n_blocks = m->n_block_in > 0 ? m->n_block_in - 1 : 0;
    int n_dead = 0;
    for (int i = 0; i < m->n_points; i++) n_dead += is_dead_family(m->points[i].act);
    const int cap = 3 * p->n_train + P_COUNT * m->n_points + n_blocks + n_dead;
    int64_t widest = 1;
    for (int i = 0; i < m->n_values; i++) widest = m->values[i].features > widest ? m->values[i].features : widest;
    p->tags = calloc((size_t)cap, sizeof *p->tags);
    p->values = calloc((size_t)cap, sizeof *p->values);
    p->dead_point = calloc((size_t)(n_dead ? n_dead : 1), sizeof *p->dead_point);
    p->alive = calloc((size_t)widest, 1);
    p->ratio_point = calloc((size_t)(m->n_block_in + 1), sizeof *p->ratio_point);
    if (!p->tags || !p->values || !p->dead_point || !p->alive || !p->ratio_point) goto oom;
    /* x_b is usually some activation point's output (post blocks): reuse its norm */
    for (int b = 0; b < m->n_block_in; b++) {
        p->ratio_point[b] = -1;
        for (int i = 0; i < m->n_points; i++) if (m->points[i].out == m->block_in[b]) p->ratio_point[b] = i;
    }
    p->param_base = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const gs_tensor_info *t = &m->tensors[i].info;
        if (!t->trainable) continue;
        if (add_tag(p, "grad_norm", t->name) || add_tag(p, "param_norm", t->name) ||
            add_tag(p, "update_ratio", t->name)) goto oom;
    }
    p->point_base = p->n_tags;
    for (int i = 0; i < m->n_points; i++) {
        const char *nm = m->points[i].name;
        if (add_tag(p, "act_grad_norm", nm) || add_tag(p, "act_mean", nm) || add_tag(p, "act_std", nm) ||
            add_tag(p, "saturated", nm)) goto oom;
    }
    p->ratio_base = p->n_tags;
    for (int b = 0; b < n_blocks; b++) {
        char nm[32];
        snprintf(nm, sizeof nm, "block.%d", b);
        if (add_tag(p, "norm_ratio", nm)) goto oom;
    }
    p->dead_base = p->n_tags;
    for (int i = 0; i < m->n_points; i++) {
        if (!is_dead_family(m->points[i].act)) continue;
        p->dead_point[p->n_dead++] = i;
        if (add_tag(p, "dead", m->points[i].name)) goto oom;
    }
    *out = p;
    return GS_OK;
oom:
    gs_probe_free(p);
    return gs_error(ctx, GS_ENOMEM, "probe: out of memory");
}

float *gs_probe_param_slots(gs_probe *p) { return p ? p->values + p->param_base : NULL; }

double gs_probe_norm2(const float *x, size_t n)
{
    double q;
    gs_reduce_sums(x, n, NULL, &q);
    return sqrt(q);
}

int gs_probe_collect(gs_probe *p)
{
    gs_model *m = p->m;
    const size_t N = (size_t)m->N;
    const int np = m->n_points;
    (void)N;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 2) num_threads(gs_ctx_threads(p->ctx))
#endif
    for (int i = 0; i < np; i++) {
        const gs_act_point *pt = &m->points[i];
        const gs_value *h = &m->values[pt->out], *z = &m->values[pt->pre];
        const size_t n = (size_t)m->N * (size_t)h->features;
        double s, sq;
        gs_reduce_sums(h->data, n, &s, &sq);
        const double mean = s / (double)n, var = sq / (double)n - mean * mean;
        float *v = p->values + p->point_base + P_COUNT * i;
        v[P_GRAD] = (float)gs_probe_norm2(h->grad, n);
        v[P_MEAN] = (float)mean;
        v[P_STD] = (float)sqrt(var > 0 ? var : 0);
        /* relu's from its output h (the same sign test as from z), which the sums above just read */
        v[P_SAT] = pt->act == GS_ACT_IDENTITY ? 0.0f
                 : (float)((double)gs_act_count_saturated(pt->act, pt->act == GS_ACT_RELU || z->stale ? NULL : z->data, h->data, n,
                                                          0.05) / (double)n);
    }
    const int nb = m->n_block_in - 1;
    for (int b = 0; b < nb; b++) {
        double g[2];
        for (int k = 0; k < 2; k++) {
            const int pi = p->ratio_point[b + k];
            const gs_value *x = &m->values[m->block_in[b + k]];
            g[k] = pi >= 0 ? p->values[p->point_base + P_COUNT * pi + P_GRAD]
                           : gs_probe_norm2(x->grad, (size_t)m->N * (size_t)x->features);
        }
        p->values[p->ratio_base + b] = (float)(g[1] > 0 ? g[0] / g[1] : (g[0] > 0 ? INFINITY : NAN));
    }
    return GS_OK;
}

int gs_probe_stats_view(gs_probe *p, int64_t step, gs_probe_stats *out)
{
    out->step = step;
    out->n = p->dead_fresh ? p->n_tags : p->dead_base;
    out->tags = (const char *const *)p->tags;
    out->values = p->values;
    p->dead_fresh = 0;
    return GS_OK;
}

int gs_probe_dead_units(gs_probe *p, const float *x, int64_t n_samples, int64_t features)
{
    gs_model *m = p->m;
    if (p->n_dead == 0) return GS_OK;
    if (features != m->cfg.in_features)
        return gs_error(p->ctx, GS_ESHAPE, "probe: %lld features per sample, the model takes %d",
                        (long long)features, m->cfg.in_features);
    /* Batch statistics, as training sees them, without moving the running averages. */
    const int training = m->training;
    m->training = 1;
    m->freeze_stats = 1;
    int rc = GS_OK;
    int64_t seen = 0;
    unsigned char *alive = calloc((size_t)p->n_dead * 4096, 1);
    if (!alive) { rc = gs_error(p->ctx, GS_ENOMEM, "probe: out of memory"); goto done; }
    for (int64_t i = 0; i < n_samples && rc == GS_OK; i += m->max_batch) {
        int B = (int)(n_samples - i < m->max_batch ? n_samples - i : m->max_batch);
        if (B < 2 && m->cfg.norm == GS_NORM_BATCH) break;
        rc = gs_model_forward(m, x + (size_t)i * (size_t)features, B);
        for (int d = 0; rc == GS_OK && d < p->n_dead; d++) {
            const gs_act_point *pt = &m->points[p->dead_point[d]];
            /* a fused relu's input is not kept in training: relu(z) > 0 exactly where z > 0 */
            const gs_value *z = &m->values[m->values[pt->pre].stale ? pt->out : pt->pre];
            const int64_t W = z->features < 4096 ? z->features : 4096;
            unsigned char *al = alive + (size_t)d * 4096;
            for (int s = 0; s < B; s++)
                for (int64_t u = 0; u < W; u++) al[u] |= z->data[(size_t)s * (size_t)z->features + (size_t)u] > 0;
        }
        seen += B;
    }
    for (int d = 0; rc == GS_OK && d < p->n_dead; d++) {
        const gs_value *z = &m->values[m->points[p->dead_point[d]].pre];
        const int64_t W = z->features < 4096 ? z->features : 4096;
        int64_t dead = 0;
        for (int64_t u = 0; u < W; u++) dead += !alive[(size_t)d * 4096 + (size_t)u];
        p->values[p->dead_base + d] = seen ? (float)dead / (float)W : NAN;
    }
    if (rc == GS_OK) p->dead_fresh = 1;
done:
    free(alive);
    m->training = training;
    m->freeze_stats = 0;
    m->have_loss = 0;
    return rc;
}

static const char *node_layer(const gs_model *m, int node)
{
    /* The activation point at or after this node names its layer. */
    for (int i = 0; i < m->n_points; i++) if (m->points[i].node >= node) return m->points[i].name;
    return "head";
}

static int finite_all(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) if (!isfinite(x[i])) return 0;
    return 1;
}

int gs_model_find_nonfinite(const gs_model *m, int backward, char *buf, size_t len)
{
    const size_t N = (size_t)m->N;
    if (!backward) {
        for (int i = 0; i < m->n_nodes; i++) {
            const gs_node *n = &m->nodes[i];
            if (m->values[n->out].stale) continue;   /* not written: its activation's output, next, tells */
            if (!finite_all(m->values[n->out].data, N * (size_t)n->out_features)) {
                snprintf(buf, len, "layer %s (%s), tensor output, forward", node_layer(m, i), n->ops->kind);
                return 1;
            }
        }
        return 0;
    }
    for (int i = m->n_nodes - 1; i >= 0; i--) {
        const gs_node *n = &m->nodes[i];
        if (m->values[n->out].grad_shared) continue;   /* reused by now: only the kept gradients tell */
        if (!finite_all(m->values[n->out].grad, N * (size_t)n->out_features)) {
            snprintf(buf, len, "layer %s (%s), tensor gradient of its output, backward", node_layer(m, i), n->ops->kind);
            return 1;
        }
    }
    for (int i = 0; i < m->n_tensors; i++) {
        const gs_tensor_info *t = &m->tensors[i].info;
        if (t->trainable && !finite_all(t->grad, t->numel)) {
            snprintf(buf, len, "parameter %s, tensor gradient, backward", t->name);
            return 1;
        }
    }
    return 0;
}
