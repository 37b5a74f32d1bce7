/* paths.c - the gradient at x_0 by path length: exact (a dynamic programme
 * over blocks) and Veit et al.'s sampling estimator (DESIGN.md §3).
 *
 * Going backward through block b, the parts g_j (j = branches passed so far)
 * become g'_j = Sᵀ D g_j + Aᵀ D g_{j-1}.  Processing j from the top down lets
 * each level be rewritten in place: level j's shortcut image becomes the new
 * g_j, its branch image is added to the new g_{j+1} (already written).  n
 * blocks cost n(n+1)/2 branch and as many shortcut products.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "probe/paths.h"
#include "probe/probe.h"

struct gs_paths_work {
    gs_model *m;
    int n;                   /* blocks */
    int N;
    gs_block_ops *blocks;
    size_t vec;              /* floats of the largest vector at a block boundary or inside a block */
    float **g;               /* (n + 1) levels */
    float *u, *s, *v, *t1, *t2, *t3; /* scratch vectors */
    float *grads;            /* scratch parameter gradients */
    gs_exec e;
};

/* The node in [lo, hi) whose output is value v, or -1. */
static int producer(const gs_model *m, int v, int lo, int hi)
{
    for (int i = hi - 1; i >= lo; i--)
        if (m->nodes[i].out == v) return i;
    return -1;
}

int gs_model_producer(const gs_model *m, int v) { return producer(m, v, 0, m->n_nodes); }

/* Nodes from value `from` back to value `to`, forward order, into *out (malloc'd). */
static int chain(const gs_model *m, int from, int to, int lo, int hi, int **out, int *n)
{
    int cap = hi - lo + 1, k = 0;
    int *c = malloc((size_t)cap * sizeof *c);
    if (!c) return GS_ENOMEM;
    for (int v = from; v != to;) {
        const int p = producer(m, v, lo, hi);
        if (p < 0 || m->nodes[p].in[1] >= 0 || k == cap) { free(c); return GS_EINVAL; }
        c[k++] = p;
        v = m->nodes[p].in[0];
    }
    for (int i = 0; i < k / 2; i++) { int t = c[i]; c[i] = c[k - 1 - i]; c[k - 1 - i] = t; }
    *out = c; *n = k;
    return GS_OK;
}

int gs_blocks_find(gs_model *m, gs_block_ops **out)
{
    const int n = m->n_block_in - 1;
    *out = NULL;
    if (n < 1) return gs_error(m->ctx, GS_EINVAL, "the %s network has no residual blocks", m->cfg.family);
    gs_block_ops *blocks = calloc((size_t)n, sizeof *blocks);
    if (!blocks) return gs_error(m->ctx, GS_ENOMEM, "out of memory");
    for (int b = 0; b < n; b++) {
        const int xb = m->block_in[b], xe = m->block_in[b + 1];
        const int lo = gs_model_producer(m, xb) + 1, hi = gs_model_producer(m, xe) + 1;
        gs_block_ops *o = &blocks[b];
        o->lo = lo; o->hi = hi;
        o->add = -1;
        for (int i = lo; i < hi; i++)
            if (m->nodes[i].in[1] >= 0) o->add = i;
        int rc = GS_OK;
        if (o->add < 0 || hi <= lo) rc = gs_error(m->ctx, GS_EINVAL, "block %d has no residual addition", b);
        o->post0 = o->add + 1; o->post1 = hi;
        for (int i = o->post0; rc == GS_OK && i < o->post1; i++)
            if (m->nodes[i].in[1] >= 0 || m->nodes[i].in[0] != m->nodes[i - 1].out)
                rc = gs_error(m->ctx, GS_EINVAL, "block %d: unexpected node after the addition", b);
        const gs_node *a = rc == GS_OK ? &m->nodes[o->add] : NULL;
        if (rc == GS_OK && (chain(m, a->in[1], xb, lo, o->add, &o->branch, &o->n_branch) ||
                            chain(m, a->in[0], xb, lo, o->add, &o->shortcut, &o->n_short)))
            rc = gs_error(m->ctx, GS_EINVAL, "block %d: shortcut or branch is not a chain from x_%d", b, b);
        if (rc) { gs_blocks_free(blocks, n); return rc; }
    }
    *out = blocks;
    return GS_OK;
}

void gs_blocks_free(gs_block_ops *blocks, int n)
{
    for (int b = 0; blocks && b < n; b++) { free(blocks[b].branch); free(blocks[b].shortcut); }
    free(blocks);
}

/* dx = (node i)ᵀ dy; which = 0: its (only or first) input, 1: its second. */
static void node_vjp(gs_paths_work *w, int i, int which, const float *dy, float *dx)
{
    gs_model *m = w->m;
    gs_node *n = &m->nodes[i];
    const int acc0 = n->acc[0], acc1 = n->acc[1];
    n->acc[0] = n->acc[1] = 0;
    n->ops->backward(&w->e, n, gs_node_input(m, n, 0), gs_node_input(m, n, 1), m->values[n->out].data, dy,
                     which == 0 ? dx : NULL, which == 1 ? dx : NULL);
    n->acc[0] = acc0; n->acc[1] = acc1;
}

/* Through nodes c[0..k) backward from dy into out, ping-ponging t1/t2; dy may be out. */
static void chain_vjp(gs_paths_work *w, const int *c, int k, const float *dy, float *out)
{
    const float *cur = dy;
    for (int i = k - 1; i >= 0; i--) {
        float *dst = i == 0 ? out : (cur == w->t1 ? w->t2 : w->t1);
        node_vjp(w, c[i], 0, cur, dst);
        cur = dst;
    }
    if (k == 0 && out != dy) memcpy(out, dy, w->vec * sizeof *out);
}

static size_t feats(const gs_model *m, int v) { return (size_t)m->N * (size_t)m->values[v].features; }

/* u = D_b g (the post activation's product; a copy for pre blocks). */
static void post_vjp(gs_paths_work *w, const gs_block_ops *o, const float *g, float *u)
{
    const float *cur = g;
    for (int i = o->post1 - 1; i >= o->post0; i--) {
        float *dst = i == o->post0 ? u : (cur == w->t1 ? w->t2 : w->t1);
        node_vjp(w, i, 0, cur, dst);
        cur = dst;
    }
    if (o->post1 == o->post0) memcpy(u, g, feats(w->m, w->m->block_in[o - w->blocks + 1]) * sizeof *u);
}

/* out = Sᵀ u (branch = 0) or Aᵀ u (branch = 1), u the gradient at the addition's output. */
static void side_vjp(gs_paths_work *w, const gs_block_ops *o, int branch, const float *u, float *out)
{
    node_vjp(w, o->add, branch, u, w->t3);
    if (branch) chain_vjp(w, o->branch, o->n_branch, w->t3, out);
    else chain_vjp(w, o->shortcut, o->n_short, w->t3, out);
}

void gs_paths_work_free(gs_paths_work *w)
{
    if (!w) return;
    gs_blocks_free(w->blocks, w->n);
    if (w->g) for (int k = 0; k <= w->n; k++) free(w->g[k]);
    free(w->g);
    free(w->u); free(w->s); free(w->v); free(w->t1); free(w->t2); free(w->t3); free(w->grads);
    free(w);
}

int gs_paths_prepare(gs_model *m, const float *x, const int32_t *labels, int N, gs_paths_work **out)
{
    *out = NULL;
    if (m->n_block_in < 2)
        return gs_error(m->ctx, GS_EINVAL, "paths: the %s network has no residual blocks (a plain net has no paths "
                        "to split)", m->cfg.family);
    gs_paths_work *w = calloc(1, sizeof *w);
    if (!w) return gs_error(m->ctx, GS_ENOMEM, "paths: out of memory");
    w->m = m; w->n = m->n_block_in - 1; w->N = N;
    const int training = m->training, input_grad = m->input_grad;
    gs_model_set_training(m, 0);
    gs_model_zero_grad(m);
    int rc = gs_model_forward(m, x, N);
    if (rc == GS_OK) rc = gs_model_loss(m, labels, NULL);
    if (rc == GS_OK) rc = gs_model_backward(m);
    gs_model_set_training(m, training);
    m->input_grad = input_grad;
    if (rc) { gs_paths_work_free(w); return rc; }
    if ((rc = gs_blocks_find(m, &w->blocks))) { gs_paths_work_free(w); return rc; }
    /* the largest value from x_0 to x_n */
    const int first = gs_model_producer(m, m->block_in[0]);
    const int last = gs_model_producer(m, m->block_in[w->n]);
    for (int i = first; i <= last; i++) {
        const size_t f = feats(m, m->nodes[i].out);
        if (f > w->vec) w->vec = f;
    }
    w->g = calloc((size_t)w->n + 1, sizeof *w->g);
    int ok = w->g != NULL;
    for (int k = 0; ok && k <= w->n; k++) ok = (w->g[k] = malloc(w->vec * sizeof(float))) != NULL;
    ok = ok && (w->u = malloc(w->vec * sizeof(float))) && (w->s = malloc(w->vec * sizeof(float))) &&
         (w->v = malloc(w->vec * sizeof(float))) && (w->t1 = malloc(w->vec * sizeof(float))) &&
         (w->t2 = malloc(w->vec * sizeof(float))) && (w->t3 = malloc(w->vec * sizeof(float))) &&
         (w->grads = malloc((m->n_params ? m->n_params : 1) * sizeof(float)));
    if (!ok) { gs_paths_work_free(w); return gs_error(m->ctx, GS_ENOMEM, "paths: out of memory"); }
    w->e.be = m->be; w->e.threads = gs_ctx_threads(m->ctx); w->e.N = N;
    w->e.training = 0; w->e.freeze_stats = 0; w->e.accumulate = 0;
    w->e.params = m->params; w->e.grads = w->grads; w->e.buffers = m->buffers;
    *out = w;
    return GS_OK;
}

int gs_paths_blocks(const gs_paths_work *w) { return w->n; }
size_t gs_paths_x0_len(const gs_paths_work *w) { return feats(w->m, w->m->block_in[0]); }
const float *gs_paths_x0_grad(const gs_paths_work *w) { return w->m->values[w->m->block_in[0]].grad; }

int gs_paths_exact(gs_paths_work *w, float *const **g)
{
    gs_model *m = w->m;
    const int n = w->n;
    memcpy(w->g[0], m->values[m->block_in[n]].grad, feats(m, m->block_in[n]) * sizeof(float));
    for (int b = n - 1; b >= 0; b--) {
        const gs_block_ops *o = &w->blocks[b];
        const size_t fb = feats(m, m->block_in[b]);
        const int top = n - 1 - b;                   /* levels 0..top are filled at x_{b+1} */
        for (int j = top; j >= 0; j--) {
            post_vjp(w, o, w->g[j], w->u);
            if (j == top) side_vjp(w, o, 1, w->u, w->g[j + 1]);
            else {
                side_vjp(w, o, 1, w->u, w->s);
                float *dst = w->g[j + 1];
                for (size_t i = 0; i < fb; i++) dst[i] += w->s[i];
            }
            side_vjp(w, o, 0, w->u, w->g[j]);
        }
    }
    *g = w->g;
    return GS_OK;
}

void gs_paths_subset(gs_paths_work *w, const unsigned char *branch, float *out)
{
    gs_model *m = w->m;
    memcpy(w->v, m->values[m->block_in[w->n]].grad, feats(m, m->block_in[w->n]) * sizeof(float));
    for (int b = w->n - 1; b >= 0; b--) {
        post_vjp(w, &w->blocks[b], w->v, w->u);
        side_vjp(w, &w->blocks[b], branch[b] != 0, w->u, w->v);
    }
    memcpy(out, w->v, gs_paths_x0_len(w) * sizeof *out);
}


void gs_paths_result_free(gs_paths_result *r)
{
    if (!r) return;
    free(r->exact_norm); free(r->veit_mean); free(r->veit_total); free(r->count_fraction);
    memset(r, 0, sizeof *r);
}

int gs_paths_compute(gs_model *m, const float *x, const int32_t *labels, int N, int veit_sets, uint64_t seed,
                     gs_paths_result *out)
{
    memset(out, 0, sizeof *out);
    if (veit_sets < 0) return gs_error(m->ctx, GS_EINVAL, "paths: %d sampled sets per length", veit_sets);
    gs_paths_work *w = NULL;
    int rc = gs_paths_prepare(m, x, labels, N, &w);
    if (rc) return rc;
    const int n = w->n;
    const size_t len = gs_paths_x0_len(w);
    float *sum = calloc(len, sizeof *sum), *v = malloc(len * sizeof *v);
    unsigned char *sel = calloc((size_t)n, 1);
    int *idx = malloc((size_t)n * sizeof *idx);
    out->blocks = n;
    out->exact_norm = calloc((size_t)n + 1, sizeof(double));
    out->count_fraction = calloc((size_t)n + 1, sizeof(double));
    if (veit_sets > 0) {
        out->veit_mean = calloc((size_t)n + 1, sizeof(double));
        out->veit_total = calloc((size_t)n + 1, sizeof(double));
    }
    if (!sum || !v || !sel || !idx || !out->exact_norm || !out->count_fraction ||
        (veit_sets > 0 && (!out->veit_mean || !out->veit_total))) {
        rc = gs_error(m->ctx, GS_ENOMEM, "paths: out of memory");
        goto done;
    }
    float *const *g;
    gs_paths_exact(w, &g);
    for (int k = 0; k <= n; k++) {
        out->exact_norm[k] = gs_probe_norm2(g[k], len);
        for (size_t i = 0; i < len; i++) sum[i] += g[k][i];
        /* C(n, k) / 2^n through logarithms: exact enough and safe for any n */
        out->count_fraction[k] = exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) - n * log(2.0));
    }
    const float *true_g = gs_paths_x0_grad(w);
    out->input_grad_norm = gs_probe_norm2(true_g, len);
    for (size_t i = 0; i < len; i++) sum[i] -= true_g[i];
    out->sum_check_rel_err = out->input_grad_norm > 0 ? gs_probe_norm2(sum, len) / out->input_grad_norm : gs_probe_norm2(sum, len);
    if (veit_sets > 0) {
        gs_rng r;
        gs_rng_seed(&r, seed);
        for (int k = 0; k <= n; k++) {
            /* k = 0 and k = n have one set each: sampling it once is exact */
            const int sets = k == 0 || k == n ? 1 : veit_sets;
            double acc = 0;
            for (int s = 0; s < sets; s++) {
                for (int b = 0; b < n; b++) { idx[b] = b; sel[b] = 0; }
                for (int b = 0; b < k; b++) {   /* the first k of a partial Fisher-Yates shuffle */
                    const int j = b + (int)gs_rng_below(&r, (uint64_t)(n - b));
                    const int t = idx[b]; idx[b] = idx[j]; idx[j] = t;
                    sel[idx[b]] = 1;
                }
                gs_paths_subset(w, sel, v);
                acc += gs_probe_norm2(v, len);
            }
            out->veit_mean[k] = acc / sets;
            out->veit_total[k] = out->veit_mean[k] * exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0));
        }
    }
done:
    free(sum); free(v); free(sel); free(idx);
    gs_paths_work_free(w);
    if (rc) gs_paths_result_free(out);
    return rc;
}
