/* model.c - runs a built model: forward, loss, backward, parameter tables.
 *
 * Memory is sized once in gs_model_finish: the parameter, gradient and
 * buffer blocks, one arena holding every activation for max_batch samples
 * and a smaller one for the activations' gradients, most of which share
 * buffers (gs_model_plan_grads).  A step allocates nothing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/model.h"
#include "team.h"

#define GS_ALIGN_FLOATS 16   /* 64-byte alignment of every tensor and value */

static size_t round_up(size_t x) { return (x + GS_ALIGN_FLOATS - 1) / GS_ALIGN_FLOATS * GS_ALIGN_FLOATS; }

static void *grow(void *p, int *cap, int need, size_t elem)
{
    if (need <= *cap) return p;
    int nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    void *q = realloc(p, (size_t)nc * elem);
    if (!q) return NULL;
    memset((char *)q + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *cap = nc;
    return q;
}

int gs_model_add_tensor(gs_model *m, const char *name, gs_role role, int ndim,
                        const int64_t *shape, int fan_in, int fan_out, size_t *off)
{
    gs_tensor_slot *t = grow(m->tensors, &m->cap_tensors, m->n_tensors + 1, sizeof *t);
    if (!t) return gs_error(m->ctx, GS_ENOMEM, "model: out of memory registering %s", name);
    m->tensors = t;
    gs_tensor_slot *s = &t[m->n_tensors];
    char *copy = malloc(strlen(name) + 1);
    if (!copy) return gs_error(m->ctx, GS_ENOMEM, "model: out of memory registering %s", name);
    strcpy(copy, name);
    s->info.name = copy;
    s->info.ndim = ndim;
    s->info.numel = 1;
    for (int i = 0; i < ndim; i++) { s->info.shape[i] = shape[i]; s->info.numel *= (size_t)shape[i]; }
    s->info.trainable = role != GS_ROLE_RUNNING_MEAN && role != GS_ROLE_RUNNING_VAR;
    s->role = role; s->fan_in = fan_in; s->fan_out = fan_out;
    size_t *total = s->info.trainable ? &m->n_params : &m->n_buffers;
    s->offset = *total;
    *total += round_up(s->info.numel);
    *off = s->offset;
    m->n_tensors++;
    return GS_OK;
}

int gs_model_add_value(gs_model *m, int64_t features)
{
    gs_value *v = grow(m->values, &m->cap_values, m->n_values + 1, sizeof *v);
    if (!v) return gs_error(m->ctx, GS_ENOMEM, "model: out of memory");
    m->values = v;
    v[m->n_values].features = features;
    return m->n_values++;
}

gs_node *gs_model_add_node(gs_model *m, int in0, int in1, int out)
{
    gs_node *n = grow(m->nodes, &m->cap_nodes, m->n_nodes + 1, sizeof *n);
    if (!n) return NULL;
    m->nodes = n;
    gs_node *x = &n[m->n_nodes++];
    memset(x, 0, sizeof *x);
    x->in[0] = in0; x->in[1] = in1; x->out = out;
    return x;
}

int gs_model_add_point(gs_model *m, const char *name)
{
    gs_act_point *p = grow(m->points, &m->cap_points, m->n_points + 1, sizeof *p);
    if (!p) return gs_error(m->ctx, GS_ENOMEM, "model: out of memory");
    m->points = p;
    gs_act_point *q = &p[m->n_points++];
    const gs_node *n = &m->nodes[m->n_nodes - 1];
    snprintf(q->name, sizeof q->name, "%s", name);
    q->node = m->n_nodes - 1;
    q->pre = n->in[0];
    q->out = n->out;
    q->act = m->cfg.act;
    return GS_OK;
}

int gs_model_add_block_boundary(gs_model *m, int v)
{
    int *b = grow(m->block_in, &m->cap_block_in, m->n_block_in + 1, sizeof *b);
    if (!b) return gs_error(m->ctx, GS_ENOMEM, "model: out of memory");
    m->block_in = b;
    b[m->n_block_in++] = v;
    return GS_OK;
}

int gs_model_add_plain_boundary(gs_model *m, int v)
{
    int *b = grow(m->plain_in, &m->cap_plain_in, m->n_plain_in + 1, sizeof *b);
    if (!b) return gs_error(m->ctx, GS_ENOMEM, "model: out of memory");
    m->plain_in = b;
    b[m->n_plain_in++] = v;
    return GS_OK;
}

gs_tensor_slot *gs_model_slot(gs_model *m, const char *name)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].info.name, name) == 0) return &m->tensors[i];
    return NULL;
}

int gs_model_finish(gs_model *m)
{
    m->params = gs_alloc_zeros(m->n_params);
    m->grads = gs_alloc_zeros(m->n_params);
    m->buffers = gs_alloc_zeros(m->n_buffers);
    size_t arena = 0;
    for (int v = 0; v < m->n_values; v++) arena += round_up((size_t)m->max_batch * (size_t)m->values[v].features);
    m->arena = gs_alloc_zeros(arena);
    if (!m->params || !m->grads || !m->buffers || !m->arena)
        return gs_error(m->ctx, GS_ENOMEM, "model: out of memory for %zu parameters and %zu activation floats",
                        m->n_params, arena);
    float *p = m->arena;
    for (int v = 0; v < m->n_values; v++) {
        m->values[v].data = p;
        p += round_up((size_t)m->max_batch * (size_t)m->values[v].features);
    }
    int rc = gs_model_plan_grads(m);
    if (rc) return rc;
    m->team_ok = 1;
    for (int i = 0; i < m->n_nodes; i++) if (!m->nodes[i].team) m->team_ok = 0;
    size_t work = 0;
    for (int i = 0; i < m->n_nodes; i++) if (m->nodes[i].work_floats > work) work = m->nodes[i].work_floats;
    if (work) {
        if (!(m->work = gs_alloc_zeros(work)))
            return gs_error(m->ctx, GS_ENOMEM, "model: out of memory for %zu scratch floats", work);
        for (int i = 0; i < m->n_nodes; i++)
            if (m->nodes[i].work_floats) m->nodes[i].ops->set_work(&m->nodes[i], m->work);
    }
    for (int i = 0; i < m->n_tensors; i++) {
        gs_tensor_slot *s = &m->tensors[i];
        s->info.data = (s->info.trainable ? m->params : m->buffers) + s->offset;
        s->info.grad = s->info.trainable ? m->grads + s->offset : NULL;
    }
    /* Backward runs the nodes in reverse: the first to reach a value's
     * gradient overwrites it, later ones add. */
    char *seen = calloc((size_t)m->n_values, 1);
    if (!seen) return gs_error(m->ctx, GS_ENOMEM, "model: out of memory");
    for (int i = m->n_nodes - 1; i >= 0; i--)
        for (int k = 0; k < 2; k++) {
            int v = m->nodes[i].in[k];
            if (v < 0) continue;
            m->nodes[i].acc[k] = seen[v];
            seen[v] = 1;
        }
    free(seen);
    return gs_model_plan_fusion(m);
}

/* The activations whose backward reads only their output, which the linear layers run in their products */
static int output_act(int act) { return act == GS_ACT_SIGMOID || act == GS_ACT_TANH; }

/* Node i takes the output of a sigmoid or tanh right before it as its only input, and has backward_act:
 * its backward and the activation's can run as one (the activation's input must feed nothing else). */
static int dact_pair(const gs_model *m, int i)
{
    const gs_node *n = &m->nodes[i], *a = &m->nodes[i - 1];
    return n->ops->backward_act && output_act(gs_act_node_act(a)) && n->in[0] == a->out && n->in[1] < 0 &&
           a->in[0] > 0;
}

int gs_model_plan_fusion(gs_model *m)
{
    int *uses = calloc((size_t)m->n_values, sizeof *uses);
    if (!uses) return gs_error(m->ctx, GS_ENOMEM, "model: out of memory");
    for (int v = 0; v < m->n_values; v++) m->values[v].stale = 0;   /* until a forward leaves one unwritten */
    for (int i = 0; i < m->n_nodes; i++)
        for (int k = 0; k < 2; k++)
            if (m->nodes[i].in[k] >= 0) uses[m->nodes[i].in[k]]++;
    for (int i = 0; i < m->n_nodes; i++) {
        gs_node *n = &m->nodes[i];
        const gs_node *r = i + 1 < m->n_nodes ? &m->nodes[i + 1] : NULL;
        /* r takes n's output as its only input */
        const int after = !m->no_fusion && r && r->in[0] == n->out && r->in[1] < 0;
        /* ... and nothing else takes it: no one else needs it written */
        const int sole = after && uses[n->out] == 1 && n->out != m->n_values - 1;
        n->fuse_relu = sole && n->ops->forward_relu && n->ops->backward_relu && gs_act_node_is_relu(r);
        /* a sigmoid or tanh reads only its output in backward (and the instruments only it too) */
        n->fuse_act = sole && !n->fuse_relu && n->ops->forward_act && output_act(gs_act_node_act(r));
        n->fuse_next = after && !n->fuse_relu && !n->fuse_act && n->ops->forward_next && r->ops->forward_cols &&
                       r->by_cols;
        n->fuse_dact = !m->no_fusion && i > 0 && dact_pair(m, i) && uses[m->nodes[i - 1].out] == 1 &&
                       uses[m->nodes[i - 1].in[0]] == 1;
    }
    free(uses);
    return GS_OK;
}

int gs_model_plan_grads(gs_model *m)
{
    const int nv = m->n_values;
    int *first = malloc((size_t)nv * sizeof *first), *last = malloc((size_t)nv * sizeof *last);
    int *buf = malloc((size_t)nv * sizeof *buf), *busy = malloc((size_t)nv * sizeof *busy);
    size_t *cap = malloc((size_t)nv * sizeof *cap);
    char *kept = calloc((size_t)nv, 1);
    if (!first || !last || !buf || !busy || !cap || !kept) {
        free(first); free(last); free(buf); free(busy); free(cap); free(kept);
        return gs_error(m->ctx, GS_ENOMEM, "model: out of memory");
    }
    /* a value's gradient is live from its last consumer (written first in backward) down to its producer */
    for (int v = 0; v < nv; v++) { first[v] = -1; last[v] = -1; }
    for (int i = 0; i < m->n_nodes; i++) {
        const gs_node *n = &m->nodes[i];
        first[n->out] = i;
        for (int k = 0; k < 2; k++) if (n->in[k] >= 0) last[n->in[k]] = i;
        /* a backward_act pair writes the activation's input gradient in the node's backward, while
           it reads its own output's: the two must not share a buffer */
        if (i > 0 && dact_pair(m, i) && last[m->nodes[i - 1].in[0]] < i) last[m->nodes[i - 1].in[0]] = i;
    }
    kept[0] = 1;
    kept[nv - 1] = 1;                            /* the logits: the loss writes their gradient */
    for (int b = 0; b < m->n_block_in; b++) kept[m->block_in[b]] = 1;
    for (int b = 0; b < m->n_plain_in; b++) kept[m->plain_in[b]] = 1;
    for (int i = 0; m->keep_point_grads && i < m->n_points; i++) kept[m->points[i].out] = 1;
    /* values in order of their producer: reuse the smallest free buffer that is large enough, else
       grow the largest free one, else open a new one */
    int nbuf = 0;
    size_t total = 0;
    for (int v = 0; v < nv; v++) {
        const size_t len = round_up((size_t)m->max_batch * (size_t)m->values[v].features);
        if (kept[v]) { total += len; buf[v] = -1; continue; }
        const int end = last[v] > first[v] ? last[v] : first[v];
        int best = -1, big = -1;
        for (int j = 0; j < nbuf; j++) {
            if (busy[j] >= first[v]) continue;
            if (cap[j] >= len && (best < 0 || cap[j] < cap[best])) best = j;
            if (big < 0 || cap[j] > cap[big]) big = j;
        }
        if (best < 0 && big >= 0) { best = big; cap[best] = len; }
        if (best < 0) { best = nbuf++; cap[best] = len; }
        busy[best] = end;
        buf[v] = best;
    }
    for (int j = 0; j < nbuf; j++) total += cap[j];
    free(m->grad_arena);
    m->grad_arena = gs_alloc_zeros(total);
    int rc = GS_OK;
    if (!m->grad_arena) rc = gs_error(m->ctx, GS_ENOMEM, "model: out of memory for %zu gradient floats", total);
    else {
        float *p = m->grad_arena;
        for (int v = 0; v < nv; v++)
            if (kept[v]) {
                m->values[v].grad = p; m->values[v].grad_shared = 0;
                p += round_up((size_t)m->max_batch * (size_t)m->values[v].features);
            }
        for (int j = 0; j < nbuf; j++) {
            for (int v = 0; v < nv; v++)
                if (!kept[v] && buf[v] == j) { m->values[v].grad = p; m->values[v].grad_shared = 1; }
            p += cap[j];
        }
    }
    free(first); free(last); free(buf); free(busy); free(cap); free(kept);
    return rc;
}

void gs_model_free(gs_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].ops && m->nodes[i].ops->free_state) m->nodes[i].ops->free_state(m->nodes[i].state);
    for (int i = 0; i < m->n_tensors; i++) free((char *)m->tensors[i].info.name);
    free(m->tensors); free(m->nodes); free(m->values); free(m->points); free(m->block_in); free(m->plain_in);
    free(m->params); free(m->grads); free(m->buffers); free(m->arena); free(m->grad_arena); free(m->work);
    free(m);
}

int gs_model_create(gs_ctx *ctx, const gs_model_config *cfg, int max_batch, gs_model **out)
{
    if (!cfg || !out) return gs_error(ctx, GS_EINVAL, "gs_model_create: NULL argument");
    if (max_batch < 1) return gs_error(ctx, GS_EINVAL, "gs_model_create: max_batch %d must be >= 1", max_batch);
    gs_model *m = calloc(1, sizeof *m);
    if (!m) return gs_error(ctx, GS_ENOMEM, "gs_model_create: out of memory");
    m->ctx = ctx; m->cfg = *cfg; m->max_batch = max_batch; m->training = 1;
    m->be = gs_backend_cpu();
    int rc;
    if (strcmp(cfg->family, "mlp") == 0) rc = gs_mlp_build(m);
    else if (strcmp(cfg->family, "resnet") == 0 || strcmp(cfg->family, "plain") == 0) rc = gs_resnet_build(m);
    else rc = gs_error(ctx, GS_EINVAL, "model: unknown family '%s' (expected mlp, resnet or plain)", cfg->family);
    if (rc == GS_OK) rc = gs_model_finish(m);
    if (rc != GS_OK) { gs_model_free(m); return rc; }
    *out = m;
    return GS_OK;
}

const gs_model_config *gs_model_get_config(const gs_model *m) { return &m->cfg; }
void gs_model_set_training(gs_model *m, int training) { m->training = training != 0; }
void gs_model_set_input_grad(gs_model *m, int on) { m->input_grad = on != 0; }
void gs_model_zero_grad(gs_model *m) { m->accumulate = 0; }
int gs_model_n_tensors(const gs_model *m) { return m->n_tensors; }
const gs_tensor_info *gs_model_tensor(const gs_model *m, int i)
{
    return i >= 0 && i < m->n_tensors ? &m->tensors[i].info : NULL;
}
const gs_tensor_info *gs_model_find(const gs_model *m, const char *name)
{
    gs_tensor_slot *s = gs_model_slot((gs_model *)m, name);
    return s ? &s->info : NULL;
}
float *gs_model_params(gs_model *m, size_t *n) { if (n) *n = m->n_params; return m->params; }
float *gs_model_grads(gs_model *m, size_t *n)
{
    /* The lazy zero: a caller reading the block before any backward sees zeros. */
    if (!m->accumulate) { memset(m->grads, 0, m->n_params * sizeof *m->grads); m->accumulate = 1; }
    if (n) *n = m->n_params;
    return m->grads;
}
int64_t gs_model_macs(const gs_model *m)
{
    int64_t s = 0;
    for (int i = 0; i < m->n_nodes; i++) s += m->nodes[i].macs;
    return s;
}

size_t gs_model_n_params(const gs_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->n_tensors; i++) if (m->tensors[i].info.trainable) n += m->tensors[i].info.numel;
    return n;
}

static void exec_init(gs_model *m, gs_exec *e)
{
    e->be = m->be; e->threads = gs_ctx_threads(m->ctx); e->N = m->N;
    e->training = m->training; e->freeze_stats = m->freeze_stats; e->accumulate = m->accumulate;
    e->params = m->params; e->grads = m->grads; e->buffers = m->buffers;
}

/* Where node n, whose relu is fused, writes its own output y: nowhere in training when the backward
 * runs fused too, for nothing reads y then (the backward recomputes it or takes the mask from the relu's
 * output), and y is marked stale; else y. */
static float *fused_relu_y(gs_model *m, const gs_node *n)
{
    gs_value *y = &m->values[n->out];
    y->stale = m->training && y->grad_shared;
    return y->stale ? NULL : y->data;
}

static void forward_nodes(void *arg)
{
    gs_model *m = arg;
    gs_exec e; exec_init(m, &e);
    for (int i = 0; i < m->n_nodes; i++) {
        gs_node *n = &m->nodes[i];
        if (n->fuse_relu) {   /* the next node is its relu */
            n->ops->forward_relu(&e, n, gs_node_input(m, n, 0), gs_node_input(m, n, 1), fused_relu_y(m, n),
                                 m->values[m->nodes[++i].out].data);
            continue;
        }
        if (n->fuse_next) {   /* the next node (a batch norm, with its relu if fused) on y's columns as they come */
            gs_node *b = &m->nodes[++i];
            float *by = m->values[b->out].data, *br = NULL;
            m->values[n->out].stale = 0;
            m->values[b->out].stale = 0;
            if (b->fuse_relu) {
                by = fused_relu_y(m, b);
                br = m->values[m->nodes[++i].out].data;
            }
            n->ops->forward_next(&e, n, gs_node_input(m, n, 0), b, m->values[n->out].data, by, br);
            continue;
        }
        if (n->fuse_act && m->training) {   /* the next node is its sigmoid or tanh: in training nothing reads y */
            m->values[n->out].stale = 1;
            gs_node *a = &m->nodes[++i];
            n->ops->forward_act(&e, n, gs_node_input(m, n, 0), gs_node_input(m, n, 1),
                                (gs_act)gs_act_node_act(a), m->values[a->out].data);
            continue;
        }
        m->values[n->out].stale = 0;
        n->ops->forward(&e, n, gs_node_input(m, n, 0), gs_node_input(m, n, 1), m->values[n->out].data);
    }
}

static void backward_nodes(void *arg)
{
    gs_model *m = arg;
    gs_exec e; exec_init(m, &e);
    for (int i = m->n_nodes - 1; i >= 0; i--) {
        gs_node *n = &m->nodes[i];
        if (n->fuse_dact) {   /* with the sigmoid or tanh before it, whose input's gradient it writes */
            const gs_node *a = &m->nodes[--i];
            gs_value *h = &m->values[a->out], *z = &m->values[a->in[0]];
            n->ops->backward_act(&e, n, h->data, NULL, m->values[n->out].data, m->values[n->out].grad,
                                 (gs_act)gs_act_node_act(a), h->grad_shared ? z->grad : h->grad, z->grad);
            continue;
        }
        /* n a relu fused into the node before it: both at once, unless someone keeps the gradient between them */
        const int fused = i > 0 && m->nodes[i - 1].fuse_relu && m->values[n->in[0]].grad_shared;
        if (fused) n = &m->nodes[--i];
        const float *a = gs_node_input(m, n, 0), *b = gs_node_input(m, n, 1);
        float *da = n->in[0] == 0 && !m->input_grad ? NULL : m->values[n->in[0]].grad;
        float *db = n->in[1] < 0 || (n->in[1] == 0 && !m->input_grad) ? NULL : m->values[n->in[1]].grad;
        if (fused) {
            const gs_value *r = &m->values[m->nodes[i + 1].out];
            n->ops->backward_relu(&e, n, a, b, m->values[n->out].data, r->data, r->grad, da, db);
        } else {
            n->ops->backward(&e, n, a, b, m->values[n->out].data, m->values[n->out].grad, da, db);
        }
    }
}

int gs_model_forward(gs_model *m, const float *x, int N)
{
    if (!x) return gs_error(m->ctx, GS_EINVAL, "gs_model_forward: input is NULL");
    if (N < 1 || N > m->max_batch)
        return gs_error(m->ctx, GS_ESHAPE, "gs_model_forward: batch of %d samples, model built for 1..%d",
                        N, m->max_batch);
    if (m->training && N < 2 && m->cfg.norm == GS_NORM_BATCH)
        return gs_error(m->ctx, GS_ESHAPE, "gs_model_forward: batch norm in training needs more than 1 sample per batch");
    m->N = N; m->input = x; m->have_loss = 0;
    if (m->team_ok && !m->ctx->no_team) gs_team_host(gs_ctx_threads(m->ctx), forward_nodes, m);
    else forward_nodes(m);
    return GS_OK;
}

const float *gs_model_logits(const gs_model *m) { return m->values[m->n_values - 1].data; }

int gs_model_loss(gs_model *m, const int32_t *labels, float *loss)
{
    if (!m->input) return gs_error(m->ctx, GS_EINVAL, "gs_model_loss: no forward pass yet");
    gs_value *out = &m->values[m->n_values - 1];
    const int K = (int)out->features;
    int rc = m->cfg.loss == GS_LOSS_MSE ? gs_loss_mse(out->data, labels, m->N, K, &m->loss, out->grad)
                                        : gs_loss_ce(out->data, labels, m->N, K, &m->loss, out->grad);
    if (rc != GS_OK) {
        for (int i = 0; i < m->N; i++)
            if (labels[i] < 0 || labels[i] >= K)
                return gs_error(m->ctx, GS_EINVAL, "gs_model_loss: label %d of sample %d is outside [0, %d)",
                                (int)labels[i], i, K);
        return gs_error(m->ctx, rc, "gs_model_loss: failed");
    }
    m->have_loss = 1;
    if (loss) *loss = m->loss;
    return GS_OK;
}

int gs_model_backward(gs_model *m)
{
    if (!m->have_loss) return gs_error(m->ctx, GS_EINVAL, "gs_model_backward: call gs_model_loss first");
    if (m->team_ok && !m->ctx->no_team) gs_team_host(gs_ctx_threads(m->ctx), backward_nodes, m);
    else backward_nodes(m);
    m->accumulate = 1;
    return GS_OK;
}

const float *gs_model_input_grad(const gs_model *m)
{
    return m->input_grad ? m->values[0].grad : NULL;
}

int gs_count_correct(const float *logits, const int32_t *y, int N, int K)
{
    int c = 0;
    for (int i = 0; i < N; i++) {
        const float *z = logits + (size_t)i * K;
        int best = 0;
        for (int k = 1; k < K; k++) if (z[k] > z[best]) best = k;
        c += best == y[i];
    }
    return c;
}
