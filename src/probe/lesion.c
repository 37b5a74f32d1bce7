/* lesion.c - Veit et al.'s lesion study (DESIGN.md §3): test error with
 * residual blocks (or a plain net's same-shape layers) deleted or reordered,
 * in eval mode.
 *
 * The network runs node by node as usual, except that units are taken in the
 * order given and a deleted unit passes its input on: a residual block as
 * σ(S x_b) (post) or S x_b (pre) — its shortcut and post activation run, its
 * branch and addition do not — and a plain unit as x_b.  Running unit j at
 * position p copies the running activation into j's input value first.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "probe/paths.h"

typedef struct lesion_net {
    gs_model *m;
    int residual;
    int n;                   /* units */
    const int *in;           /* (n + 1) unit boundaries (value ids) */
    gs_block_ops *blocks;    /* residual: the block structure */
    int first, last;         /* nodes [0, first) before the units, [last, n_nodes) after */
    gs_exec e;
} lesion_net;

static void run_node(lesion_net *L, int i, const float *x)
{
    gs_model *m = L->m;
    gs_node *n = &m->nodes[i];
    const float *a = x ? x : gs_value_data(m, n->in[0]);
    const float *b = gs_node_input(m, n, 1);
    n->ops->forward(&L->e, n, a, b, m->values[n->out].data);
}

static size_t vlen(const lesion_net *L, int v) { return (size_t)L->e.N * (size_t)L->m->values[v].features; }

/* Logits of x (N samples) with units in `order` (NULL: 0..n-1), those with del[j] set deleted. */
static void lesion_forward(lesion_net *L, const float *x, int N, const int *order, const unsigned char *del)
{
    gs_model *m = L->m;
    m->input = x; m->N = N; L->e.N = N;
    for (int i = 0; i < L->first; i++) run_node(L, i, NULL);
    const float *cur = gs_value_data(m, L->in[0]);
    for (int p = 0; p < L->n; p++) {
        const int j = order ? order[p] : p;
        float *xin = m->values[L->in[j]].data;
        if (cur != xin) memcpy(xin, cur, vlen(L, L->in[j]) * sizeof *xin);
        if (!del[j]) {
            const int lo = L->residual ? L->blocks[j].lo : gs_model_producer(m, L->in[j]) + 1;
            const int hi = gs_model_producer(m, L->in[j + 1]) + 1;
            for (int i = lo; i < hi; i++) run_node(L, i, NULL);
            cur = m->values[L->in[j + 1]].data;
        } else if (L->residual) {
            const gs_block_ops *o = &L->blocks[j];
            for (int k = 0; k < o->n_short; k++) run_node(L, o->shortcut[k], NULL);
            const float *s = gs_value_data(m, m->nodes[o->add].in[0]);
            for (int i = o->post0; i < o->post1; i++) run_node(L, i, i == o->post0 ? s : NULL);
            cur = o->post1 > o->post0 ? m->values[L->in[j + 1]].data : s;
        } else {
            cur = xin;
        }
    }
    float *xout = m->values[L->in[L->n]].data;
    if (cur != xout) memcpy(xout, cur, vlen(L, L->in[L->n]) * sizeof *xout);
    for (int i = L->last; i < m->n_nodes; i++) run_node(L, i, NULL);
}

/* Error (fraction misclassified) over the whole of d. */
static double lesion_error(lesion_net *L, const gs_dataset *d, const int *order, const unsigned char *del)
{
    gs_model *m = L->m;
    const int K = m->cfg.classes;
    int64_t wrong = 0;
    for (int64_t s = 0; s < d->n; s += m->max_batch) {
        const int N = (int)(d->n - s < m->max_batch ? d->n - s : m->max_batch);
        lesion_forward(L, d->x + (size_t)s * (size_t)d->features, N, order, del);
        wrong += N - gs_count_correct(gs_model_logits(m), d->y + s, N, K);
    }
    return d->n ? (double)wrong / (double)d->n : NAN;
}

/* Kendall's τ of order against 0..n-1. */
static double kendall_tau(const int *order, int n)
{
    long conc = 0, disc = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            if (order[i] < order[j]) conc++;
            else disc++;
        }
    return n > 1 ? (double)(conc - disc) / (double)(conc + disc) : 1.0;
}

void gs_lesion_result_free(gs_lesion_result *r)
{
    if (!r) return;
    free(r->single_error); free(r->k); free(r->k_mean); free(r->k_std); free(r->k_sets);
    free(r->swaps); free(r->tau); free(r->reorder_error);
    memset(r, 0, sizeof *r);
}

void gs_lesion_config_default(gs_lesion_config *c)
{
    memset(c, 0, sizeof *c);
    c->sets = 10; c->max_k = 0; c->max_swaps = 0; c->seed = 42;
}

int gs_lesion_compute(gs_model *m, const gs_dataset *test, const gs_lesion_config *c, gs_lesion_result *out)
{
    memset(out, 0, sizeof *out);
    if (test->features != m->cfg.in_features)
        return gs_error(m->ctx, GS_ESHAPE, "lesion: the data has %lld features per sample, the network takes %d",
                        (long long)test->features, m->cfg.in_features);
    if (c->sets < 1) return gs_error(m->ctx, GS_EINVAL, "lesion: %d sets per point", c->sets);
    lesion_net L = { 0 };
    L.m = m;
    L.residual = m->n_block_in > 1;
    L.n = L.residual ? m->n_block_in - 1 : m->n_plain_in - 1;
    L.in = L.residual ? m->block_in : m->plain_in;
    if (L.n < 1) return gs_error(m->ctx, GS_EINVAL, "lesion: the %s network has no blocks or layers to delete", m->cfg.family);
    int rc = L.residual ? gs_blocks_find(m, &L.blocks) : GS_OK;
    if (rc) return rc;
    /* a plain unit can go only where its input and output have one shape */
    for (int j = 0; !L.residual && j < L.n; j++)
        if (m->values[L.in[j]].features != m->values[L.in[j + 1]].features) {
            gs_blocks_free(L.blocks, 0);
            return gs_error(m->ctx, GS_EINVAL, "lesion: plain unit %d changes shape; deleting it is not defined", j);
        }
    L.first = gs_model_producer(m, L.in[0]) + 1;
    L.last = gs_model_producer(m, L.in[L.n]) + 1;
    L.e.be = m->be; L.e.threads = gs_ctx_threads(m->ctx); L.e.training = 0; L.e.accumulate = 0;
    L.e.params = m->params; L.e.grads = m->grads; L.e.buffers = m->buffers;
    const int n = L.n, max_k = c->max_k > 0 && c->max_k < n ? c->max_k : n - 1;
    /* swaps only between units of one shape (in and out): group[j] = first unit with j's shape */
    int *order = malloc((size_t)n * sizeof *order), *group = malloc((size_t)n * sizeof *group);
    int *idx = malloc((size_t)n * sizeof *idx);
    unsigned char *del = calloc((size_t)n, 1);
    const int max_swaps = c->max_swaps > 0 ? c->max_swaps : n / 2;
    int n_swap_points = 0;
    for (int s = 1; s <= max_swaps; s *= 2) n_swap_points++;
    out->units = n;
    out->residual = L.residual;
    out->single_error = calloc((size_t)n, sizeof(double));
    out->k = calloc((size_t)max_k, sizeof(int));
    out->k_mean = calloc((size_t)max_k, sizeof(double));
    out->k_std = calloc((size_t)max_k, sizeof(double));
    out->k_sets = calloc((size_t)max_k, sizeof(int));
    out->swaps = calloc((size_t)n_swap_points * (size_t)c->sets + 1, sizeof(int));
    out->tau = calloc((size_t)n_swap_points * (size_t)c->sets + 1, sizeof(double));
    out->reorder_error = calloc((size_t)n_swap_points * (size_t)c->sets + 1, sizeof(double));
    if (!order || !group || !idx || !del || !out->single_error || !out->k || !out->k_mean || !out->k_std ||
        !out->k_sets || !out->swaps || !out->tau || !out->reorder_error) {
        rc = gs_error(m->ctx, GS_ENOMEM, "lesion: out of memory");
        goto done;
    }
    for (int j = 0; j < n; j++) {
        group[j] = j;
        for (int i = 0; i < j; i++)
            if (m->values[L.in[i]].features == m->values[L.in[j]].features &&
                m->values[L.in[i + 1]].features == m->values[L.in[j + 1]].features) { group[j] = group[i]; break; }
    }
    out->baseline_error = lesion_error(&L, test, NULL, del);
    for (int j = 0; j < n; j++) {
        del[j] = 1;
        out->single_error[j] = lesion_error(&L, test, NULL, del);
        del[j] = 0;
    }
    gs_rng r;
    gs_rng_seed(&r, c->seed);
    for (int k = 1; k <= max_k; k++) {
        double s1 = 0, s2 = 0;
        for (int t = 0; t < c->sets; t++) {
            for (int j = 0; j < n; j++) { idx[j] = j; del[j] = 0; }
            for (int j = 0; j < k; j++) {
                const int q = j + (int)gs_rng_below(&r, (uint64_t)(n - j));
                const int tmp = idx[j]; idx[j] = idx[q]; idx[q] = tmp;
                del[idx[j]] = 1;
            }
            const double e = lesion_error(&L, test, NULL, del);
            s1 += e; s2 += e * e;
        }
        memset(del, 0, (size_t)n);
        const double mean = s1 / c->sets;
        out->k[k - 1] = k;
        out->k_mean[k - 1] = mean;
        out->k_std[k - 1] = c->sets > 1 ? sqrt(fmax(0.0, (s2 - c->sets * mean * mean) / (c->sets - 1))) : 0.0;
        out->k_sets[k - 1] = c->sets;
    }
    out->n_k = max_k;
    /* swaps: pairs of distinct units of one shape, drawn at random */
    for (int s = 1; s <= max_swaps; s *= 2)
        for (int t = 0; t < c->sets; t++) {
            for (int j = 0; j < n; j++) order[j] = j;
            int done_swaps = 0;
            for (int tries = 0; done_swaps < s && tries < 100 * s; tries++) {
                const int a = (int)gs_rng_below(&r, (uint64_t)n), b = (int)gs_rng_below(&r, (uint64_t)n);
                if (a == b || group[order[a]] != group[order[b]]) continue;
                const int tmp = order[a]; order[a] = order[b]; order[b] = tmp;
                done_swaps++;
            }
            out->swaps[out->n_reorder] = done_swaps;
            out->tau[out->n_reorder] = kendall_tau(order, n);
            out->reorder_error[out->n_reorder] = lesion_error(&L, test, order, del);
            out->n_reorder++;
        }
done:
    free(order); free(group); free(idx); free(del);
    gs_blocks_free(L.blocks, L.residual ? n : 0);
    if (rc) gs_lesion_result_free(out);
    return rc;
}
