/* study.c - trains the study grid {acts} x {plain, residual} x {no norm,
 * batch norm} x {depths} on one dataset, same seed and budget for each, and
 * condenses each run's instruments into a gs_study_run: gradient norm of
 * every Linear weight at initialisation (the first step's gradient, before
 * any update) and at the end (mean of the last tenth of training), a layer x
 * step heat map, dead and saturated fractions at the end, and the mean norm
 * ratio of each residual block over training. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "train/study.h"
#include "models/model.h"

void gs_study_config_default(gs_study_config *c, int quick)
{
    memset(c, 0, sizeof *c);
    c->data = "fashion-mnist";
    c->n_depths = 3; c->depths[0] = 5; c->depths[1] = 20; c->depths[2] = 50;
    c->n_acts = 3; c->acts[0] = GS_ACT_SIGMOID; c->acts[1] = GS_ACT_TANH; c->acts[2] = GS_ACT_RELU;
    c->n_skips = 2; c->skips[0] = 0; c->skips[1] = 2;
    c->n_norms = 2; c->norms[0] = GS_NORM_NONE; c->norms[1] = GS_NORM_BATCH;
    c->width = 256; c->batch = 128;
    c->steps = quick ? 40 : 600;
    c->lr = 0.01f; c->momentum = 0.9f;
    c->init = GS_INIT_HE_NORMAL;
    c->seed = 42;
    c->test_samples = quick ? 2000 : 0;
    c->dead_samples = quick ? 1000 : 10000;
    c->heat_points = quick ? 20 : 60;
    c->mlp = 1;
    c->n_conv_depths = 2; c->conv_depths[0] = 20; c->conv_depths[1] = 56;
    c->conv_width = 16;
    c->conv_shortcut = 'A';
    c->conv_steps = quick ? 6 : 200;
    c->conv_lr = 0.1f; c->conv_weight_decay = 1e-4f;
    c->conv_points = quick ? 3 : 10;
    c->conv_eval_samples = quick ? 256 : 500;
    c->ens_blocks = quick ? 6 : 54;
    c->ens_width = quick ? 32 : 128;
    c->ens_steps = quick ? 20 : 400;
    c->ens_path_samples = quick ? 32 : 128;
    c->ens_veit_sets = quick ? 5 : 10;
    c->ens_jac_samples = quick ? 4 : 8;
    c->ens_lesion_samples = quick ? 500 : 2000;
    c->ens_lesion_sets = quick ? 2 : 5;
    c->ens_max_k = quick ? 3 : 10;
    static const int nr_conv[5] = {8, 20, 56, 110, 1004}, nr_mlp[5] = {8, 32, 128, 512, 1024};
    static const int nr_conv_quick[2] = {8, 14}, nr_mlp_quick[2] = {4, 8};
    c->n_nr_conv_depths = quick ? 2 : 5;
    c->n_nr_mlp_depths = quick ? 2 : 5;
    memcpy(c->nr_conv_depths, quick ? nr_conv_quick : nr_conv, (size_t)c->n_nr_conv_depths * sizeof(int));
    memcpy(c->nr_mlp_depths, quick ? nr_mlp_quick : nr_mlp, (size_t)c->n_nr_mlp_depths * sizeof(int));
    c->nr_conv_samples = 8;      /* the 1004-layer resnet at 8 images: 2.6 GB peak (measured) */
    c->nr_mlp_samples = 16;
}

/* What the probe callback gathers for one run. */
typedef struct collector {
    gs_study_run *run;
    int64_t total_steps;
    int heat_every;
    int ready;
    int *grad_tag;           /* (n_layers) index of grad_norm/<layer weight> */
    int *dead_tag, *sat_tag; /* (n_layers) or -1 */
    int *ratio_tag;          /* (n_blocks) */
    int loss_tag;
    int64_t end_from;        /* steps >= this count toward the "end" mean */
    int n_end, n_ratio;
    double loss_acc; int loss_n;
} collector;

static int find_tag(const gs_probe_stats *s, const char *tag)
{
    for (int i = 0; i < s->n; i++) if (!strcmp(s->tags[i], tag)) return i;
    return -1;
}

static void layer_name(const gs_study_run *r, int l, char *buf, size_t len)
{
    if (l == 0) snprintf(buf, len, "stem");
    else if (l == r->n_layers - 1) snprintf(buf, len, "head");
    else snprintf(buf, len, "layers.%d", l - 1);
}

static void on_probe(void *user, const gs_probe_stats *s)
{
    collector *c = user;
    gs_study_run *r = c->run;
    char tag[96], nm[48];
    if (!c->ready) {
        for (int l = 0; l < r->n_layers; l++) {
            layer_name(r, l, nm, sizeof nm);
            snprintf(tag, sizeof tag, "grad_norm/%s.weight", nm);
            c->grad_tag[l] = find_tag(s, tag);
            snprintf(tag, sizeof tag, "saturated/%s", nm);
            c->sat_tag[l] = find_tag(s, tag);
            /* the first reading follows the dead-unit count at initialisation, so it has them */
            snprintf(tag, sizeof tag, "dead/%s", nm);
            c->dead_tag[l] = find_tag(s, tag);
        }
        for (int b = 0; b < r->n_blocks; b++) {
            snprintf(tag, sizeof tag, "norm_ratio/block.%d", b);
            c->ratio_tag[b] = find_tag(s, tag);
        }
        c->ready = 1;
    }
    const float *v = s->values;
    if (s->step == 1)
        for (int l = 0; l < r->n_layers; l++) r->grad_norm_init[l] = c->grad_tag[l] >= 0 ? v[c->grad_tag[l]] : NAN;
    if (s->step >= c->end_from) {
        for (int l = 0; l < r->n_layers; l++) r->grad_norm_end[l] += c->grad_tag[l] >= 0 ? v[c->grad_tag[l]] : NAN;
        c->n_end++;
    }
    for (int b = 0; b < r->n_blocks; b++)
        if (c->ratio_tag[b] >= 0) r->norm_ratio[b] += v[c->ratio_tag[b]];
    c->n_ratio++;
    /* relu-family units do not saturate, they die: their fraction is the dead one */
    const int saturating = strcmp(r->act, "relu") != 0 && strcmp(r->act, "leaky_relu") != 0;
    for (int l = 0; l < r->n_layers; l++)
        r->saturated_fraction[l] = saturating && c->sat_tag[l] >= 0 ? v[c->sat_tag[l]] : NAN;
    /* dead/<layer> tags come last, and only in readings right after a dead-unit count */
    for (int l = 0; l < r->n_layers; l++)
        if (c->dead_tag[l] >= 0 && c->dead_tag[l] < s->n) r->dead_fraction[l] = v[c->dead_tag[l]];
    if ((s->step - 1) % c->heat_every == 0 && r->n_logged < c->total_steps) {
        double *row = r->grad_norm_heat + (size_t)r->n_logged * (size_t)r->n_layers;
        for (int l = 0; l < r->n_layers; l++) row[l] = c->grad_tag[l] >= 0 ? v[c->grad_tag[l]] : NAN;
        r->logged_steps[r->n_logged] = s->step;
        r->train_loss_curve[r->n_logged] = s->loss;
        r->n_logged++;
    }
}

static void run_free(gs_study_run *r)
{
    free(r->grad_norm_init); free(r->grad_norm_end); free(r->dead_fraction); free(r->saturated_fraction);
    free(r->norm_ratio); free(r->logged_steps); free(r->grad_norm_heat); free(r->train_loss_curve);
}

static void conv_run_free(gs_study_conv_run *r);
static void ensemble_free(gs_study_ensemble *e);
static void normratio_free(gs_study_normratio *nr);

void gs_study_free(gs_study *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_runs; i++) run_free(&s->runs[i]);
    for (int i = 0; i < s->n_conv_runs; i++) conv_run_free(&s->conv_runs[i]);
    ensemble_free(s->ensemble);
    s->ensemble = NULL;
    normratio_free(s->normratio);
    s->normratio = NULL;
    free(s->runs); free(s->conv_runs);
    s->runs = NULL; s->n_runs = 0;
    s->conv_runs = NULL; s->n_conv_runs = 0;
}

static int run_alloc(gs_study_run *r, int heat_rows)
{
    const size_t L = (size_t)r->n_layers;
    r->grad_norm_init = calloc(L, sizeof(double));
    r->grad_norm_end = calloc(L, sizeof(double));
    r->dead_fraction = malloc(L * sizeof(double));
    r->saturated_fraction = malloc(L * sizeof(double));
    r->norm_ratio = r->n_blocks ? calloc((size_t)r->n_blocks, sizeof(double)) : NULL;
    r->logged_steps = calloc((size_t)heat_rows, sizeof(int64_t));
    r->grad_norm_heat = calloc((size_t)heat_rows * L, sizeof(double));
    r->train_loss_curve = calloc((size_t)heat_rows, sizeof(double));
    if (!r->grad_norm_init || !r->grad_norm_end || !r->dead_fraction || !r->saturated_fraction ||
        (r->n_blocks && !r->norm_ratio) || !r->logged_steps || !r->grad_norm_heat || !r->train_loss_curve) return GS_ENOMEM;
    for (size_t l = 0; l < L; l++) r->dead_fraction[l] = r->saturated_fraction[l] = NAN;
    return GS_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Build, initialise and train one network; then its eval-mode training
 * accuracy on the first test->n training samples. */
static int fit(gs_ctx *ctx, const gs_model_config *mc, const gs_optim_config *oc, const gs_train_config *tc,
               const gs_dataset *train, const gs_dataset *test, gs_train_result *res, double *train_acc)
{
    gs_model *m = NULL;
    gs_optim *o = NULL;
    int rc = gs_model_create(ctx, mc, tc->batch, &m);
    if (rc == GS_OK) rc = gs_model_init(m, tc->seed);
    if (rc == GS_OK) rc = gs_optim_create(ctx, m, oc, &o);
    if (rc == GS_OK) rc = gs_train(ctx, m, o, train, test, tc, res);
    if (rc == GS_OK) {
        float ta;
        gs_dataset tv = *train;
        tv.n = test->n < train->n ? test->n : train->n;
        rc = gs_evaluate(ctx, m, &tv, tc->batch, NULL, &ta);
        *train_acc = ta;
    }
    gs_optim_free(o);
    gs_model_free(m);
    return rc;
}


/* ---- the convolutional part ---- */

typedef struct conv_collector {
    gs_study_conv_run *run;
    int *grad_tag;           /* (n_layers) */
    int ready, n_end, cap;
    int64_t end_from;
} conv_collector;

static void conv_layer_name(int l, int n_layers, char *buf, size_t len)
{
    if (l == 0) snprintf(buf, len, "conv");
    else if (l == n_layers - 1) snprintf(buf, len, "fc");
    else snprintf(buf, len, "blocks.%d.c%d", (l - 1) / 2, (l - 1) % 2 + 1);
}

static void conv_on_probe(void *user, const gs_probe_stats *s)
{
    conv_collector *c = user;
    gs_study_conv_run *r = c->run;
    if (!c->ready) {
        char tag[96], nm[48];
        for (int l = 0; l < r->n_layers; l++) {
            conv_layer_name(l, r->n_layers, nm, sizeof nm);
            snprintf(tag, sizeof tag, "grad_norm/%s.weight", nm);
            c->grad_tag[l] = find_tag(s, tag);
        }
        c->ready = 1;
    }
    if (s->step == 1)
        for (int l = 0; l < r->n_layers; l++) r->grad_norm_init[l] = c->grad_tag[l] >= 0 ? s->values[c->grad_tag[l]] : NAN;
    if (s->step >= c->end_from) {
        for (int l = 0; l < r->n_layers; l++) r->grad_norm_end[l] += c->grad_tag[l] >= 0 ? s->values[c->grad_tag[l]] : NAN;
        c->n_end++;
    }
}

static void conv_on_eval(void *user, const gs_eval_point *p)
{
    conv_collector *c = user;
    gs_study_conv_run *r = c->run;
    if (r->n_points == c->cap) return;
    r->curve_steps[r->n_points] = p->step;
    r->train_err_curve[r->n_points] = 1.0 - p->train_acc;
    r->test_err_curve[r->n_points] = 1.0 - p->test_acc;
    r->n_points++;
}

static void conv_run_free(gs_study_conv_run *r)
{
    free(r->curve_steps); free(r->train_err_curve); free(r->test_err_curve);
    free(r->grad_norm_init); free(r->grad_norm_end);
}

static int conv_part(gs_ctx *ctx, const gs_study_config *c, const gs_dataset *train, const gs_dataset *test,
                     gs_study *s)
{
    const int n_total = 2 * c->n_conv_depths;
    s->conv_runs = calloc((size_t)n_total, sizeof *s->conv_runs);
    if (!s->conv_runs) return gs_error(ctx, GS_ENOMEM, "study: out of memory");
    for (int fi = 0; fi < 2; fi++)
    for (int di = 0; di < c->n_conv_depths; di++) {
        gs_study_conv_run *r = &s->conv_runs[s->n_conv_runs++];
        gs_model_config mc;
        gs_model_config_default(&mc);
        snprintf(mc.family, sizeof mc.family, "%s", fi ? "resnet" : "plain");
        mc.in_channels = train->channels; mc.in_height = train->height; mc.in_width = train->width;
        mc.in_features = (int)train->features; mc.classes = train->classes;
        mc.width = c->conv_width; mc.depth = c->conv_depths[di];
        mc.shortcut = fi ? c->conv_shortcut : 'A';
        mc.act = GS_ACT_RELU; mc.norm = GS_NORM_BATCH; mc.init = GS_INIT_HE_NORMAL;
        snprintf(r->family, sizeof r->family, "%s", fi ? "resnet" : "plain");
        r->shortcut = fi ? mc.shortcut : 0;
        r->depth = mc.depth; r->width = mc.width;
        r->n_layers = mc.depth;
        const int cap = c->conv_points + 1;
        r->curve_steps = calloc((size_t)cap, sizeof *r->curve_steps);
        r->train_err_curve = calloc((size_t)cap, sizeof(double));
        r->test_err_curve = calloc((size_t)cap, sizeof(double));
        r->grad_norm_init = calloc((size_t)r->n_layers, sizeof(double));
        r->grad_norm_end = calloc((size_t)r->n_layers, sizeof(double));
        int *tags = malloc((size_t)r->n_layers * sizeof *tags);
        if (!r->curve_steps || !r->train_err_curve || !r->test_err_curve || !r->grad_norm_init ||
            !r->grad_norm_end || !tags) { free(tags); return gs_error(ctx, GS_ENOMEM, "study: out of memory"); }
        conv_collector col = { r, tags, 0, 0, cap, c->conv_steps - (c->conv_steps / 10 > 0 ? c->conv_steps / 10 : 1) + 1 };

        gs_optim_config oc;
        gs_optim_config_default(&oc);
        oc.lr = c->conv_lr; oc.momentum = 0.9f; oc.weight_decay = c->conv_weight_decay;
        oc.schedule = GS_SCHED_COSINE; oc.total_steps = c->conv_steps; oc.warmup = c->conv_steps / 50;
        gs_train_config tc;
        gs_train_config_default(&tc);
        tc.steps = c->conv_steps; tc.batch = c->batch; tc.seed = c->seed;
        tc.log_every = (int)(c->conv_steps > 10 ? c->conv_steps / 10 : 1);
        tc.probe = 1; tc.on_probe = conv_on_probe; tc.probe_user = &col;
        tc.dead_samples = 0;
        tc.eval_every = (c->conv_steps + c->conv_points - 1) / c->conv_points;
        tc.eval_samples = c->conv_eval_samples;
        tc.on_eval = conv_on_eval; tc.eval_user = &col;
        tc.data_name = c->data;
        gs_logf(ctx, "study conv %d/%d: %s-%d, %lld steps", s->n_conv_runs, n_total, mc.family, mc.depth,
                 (long long)c->conv_steps);
        gs_train_result res;
        double train_acc = NAN;
        int rc = fit(ctx, &mc, &oc, &tc, train, test, &res, &train_acc);
        free(tags);
        if (rc) return rc;
        r->steps = (int)res.steps;
        r->seconds = res.seconds;
        r->train_err = 1.0 - train_acc;
        r->test_err = 1.0 - res.test_acc;
        for (int l = 0; l < r->n_layers; l++) r->grad_norm_end[l] = col.n_end ? r->grad_norm_end[l] / col.n_end : NAN;
    }
    s->conv_test_samples = c->conv_eval_samples < test->n ? c->conv_eval_samples : test->n;
    return GS_OK;
}

/* ---- the ensemble part ---- */

static void ensemble_free(gs_study_ensemble *e)
{
    if (!e) return;
    free(e->exact_norm); free(e->veit_total); free(e->count_fraction); free(e->single_err);
    free(e->plain_single_err); free(e->k_mean); free(e->k_std); free(e->plain_k_mean); free(e->plain_k_std);
    free(e);
}

/* Train one mlp (skip 0 or 2) and keep it; its eval-mode test error into *err. */
static int ens_train(gs_ctx *ctx, const gs_study_config *c, int skip, const gs_dataset *train, const gs_dataset *test,
                     gs_model **out, double *err)
{
    gs_model_config mc;
    gs_model_config_default(&mc);
    mc.in_features = (int)train->features; mc.classes = train->classes;
    mc.width = c->ens_width; mc.skip = skip; mc.depth = skip ? 2 * c->ens_blocks : c->ens_blocks;
    mc.act = GS_ACT_RELU; mc.norm = GS_NORM_BATCH; mc.init = c->init;
    gs_optim_config oc;
    gs_optim_config_default(&oc);
    oc.lr = c->lr; oc.momentum = c->momentum; oc.total_steps = c->ens_steps;
    oc.schedule = GS_SCHED_COSINE;
    gs_train_config tc;
    gs_train_config_default(&tc);
    tc.steps = c->ens_steps; tc.batch = c->batch; tc.seed = c->seed;
    tc.log_every = (int)(c->ens_steps > 4 ? c->ens_steps / 4 : 1);
    tc.skip_nonfinite = 1;
    tc.data_name = c->data;
    gs_logf(ctx, "study ensemble: %s mlp, %d hidden layers, width %d, %lld steps", skip ? "residual" : "plain",
            mc.depth, mc.width, (long long)c->ens_steps);
    gs_model *m = NULL;
    gs_optim *o = NULL;
    gs_train_result res;
    int rc = gs_model_create(ctx, &mc, c->batch > c->ens_path_samples ? c->batch : c->ens_path_samples, &m);
    if (rc == GS_OK) rc = gs_model_init(m, c->seed);
    if (rc == GS_OK) rc = gs_optim_create(ctx, m, &oc, &o);
    if (rc == GS_OK) rc = gs_train(ctx, m, o, train, test, &tc, &res);
    gs_optim_free(o);
    if (rc) { gs_model_free(m); return rc; }
    *err = 1.0 - res.test_acc;
    *out = m;
    return GS_OK;
}

static int ens_lesion(const gs_study_config *c, gs_model *m, const gs_dataset *test, double *base,
                      double **single, double **kmean, double **kstd, int *n_k)
{
    gs_dataset sub = *test;
    if (c->ens_lesion_samples > 0 && c->ens_lesion_samples < sub.n) sub.n = c->ens_lesion_samples;
    gs_lesion_config lc;
    gs_lesion_config_default(&lc);
    lc.sets = c->ens_lesion_sets; lc.max_k = c->ens_max_k; lc.max_swaps = 1; lc.seed = c->seed;
    gs_lesion_result r;
    int rc = gs_lesion_compute(m, &sub, &lc, &r);
    if (rc) return rc;
    *base = r.baseline_error;
    *single = r.single_error; r.single_error = NULL;
    *kmean = r.k_mean; r.k_mean = NULL;
    *kstd = r.k_std; r.k_std = NULL;
    *n_k = r.n_k;
    gs_lesion_result_free(&r);
    return GS_OK;
}

static int cmp_dbl(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median over the first n of v (sorted in place); NAN when n is 0. */
static double median(double *v, int n)
{
    if (n < 1) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The Jacobian spectrum of m on the first N test images: medians of σ₁, σ₂/σ₁ and mean σ². */
static int ens_jacobian(const gs_study_config *c, gs_model *m, const gs_dataset *test, int N, double *s1,
                        double *ratio, double *msq)
{
    gs_jacobian_config jc;
    gs_jacobian_config_default(&jc);
    jc.top = 2; jc.seed = c->seed;
    gs_jacobian_result r;
    int rc = gs_jacobian_compute(m, test->x, N, &jc, &r);
    if (rc) return rc;
    double *v = malloc((size_t)N * 3 * sizeof *v);
    if (!v) { gs_jacobian_result_free(&r); return GS_ENOMEM; }
    for (int i = 0; i < N; i++) {
        v[i] = r.top_sv[2 * i];
        v[N + i] = r.top_sv[2 * i] > 0 ? r.top_sv[2 * i + 1] / r.top_sv[2 * i] : NAN;
        v[2 * N + i] = r.mean_sq[i];
    }
    *s1 = median(v, N); *ratio = median(v + N, N); *msq = median(v + 2 * N, N);
    free(v);
    gs_jacobian_result_free(&r);
    return GS_OK;
}

static int ensemble_part(gs_ctx *ctx, const gs_study_config *c, const gs_dataset *train, const gs_dataset *test,
                         gs_study_ensemble **out)
{
    gs_study_ensemble *e = calloc(1, sizeof *e);
    if (!e) return gs_error(ctx, GS_ENOMEM, "study: out of memory");
    gs_model *m = NULL;
    gs_paths_result pr = { 0 };
    int n_k_plain = 0;
    e->blocks = c->ens_blocks; e->width = c->ens_width; e->steps = (int)c->ens_steps;
    e->plain_depth = c->ens_blocks;
    int rc = ens_train(ctx, c, 2, train, test, &m, &e->test_err);
    if (rc) goto done;
    const int N = (int)(c->ens_path_samples < test->n ? c->ens_path_samples : test->n);
    e->path_samples = N;
    gs_logf(ctx, "study ensemble: gradient by path length on %d test samples", N);
    if ((rc = gs_paths_compute(m, test->x, test->y, N, c->ens_veit_sets, c->seed, &pr))) goto done;
    e->exact_norm = pr.exact_norm; pr.exact_norm = NULL;
    e->veit_total = pr.veit_total; pr.veit_total = NULL;
    e->count_fraction = pr.count_fraction; pr.count_fraction = NULL;
    e->sum_check_rel_err = pr.sum_check_rel_err;
    {   /* the run of k around the peak that holds half of sum_k ||g^(k)|| */
        const int n = e->blocks;
        double tot = 0;
        int peak = 0;
        for (int k = 0; k <= n; k++) { tot += e->exact_norm[k]; if (e->exact_norm[k] > e->exact_norm[peak]) peak = k; }
        int lo = peak, hi = peak;
        double sum = e->exact_norm[peak];
        while (sum < tot / 2 && (lo > 0 || hi < n)) {
            const double a = lo > 0 ? e->exact_norm[lo - 1] : -1, b = hi < n ? e->exact_norm[hi + 1] : -1;
            if (a >= b) sum += e->exact_norm[--lo];
            else sum += e->exact_norm[++hi];
        }
        e->half_lo = lo; e->half_hi = hi;
    }
    e->lesion_samples = (int)(c->ens_lesion_samples < test->n ? c->ens_lesion_samples : test->n);
    gs_logf(ctx, "study ensemble: lesions on %d test samples", e->lesion_samples);
    if ((rc = ens_lesion(c, m, test, &e->base_err, &e->single_err, &e->k_mean, &e->k_std, &e->n_k))) goto done;
    int nj = c->ens_jac_samples < N ? c->ens_jac_samples : N;
    if (nj > 0) {
        gs_logf(ctx, "study ensemble: Jacobian spectra on %d test samples", nj);
        if ((rc = ens_jacobian(c, m, test, nj, &e->jac_sigma1, &e->jac_sigma_ratio, &e->jac_mean_sq))) goto done;
    }
    gs_model_free(m); m = NULL;
    if ((rc = ens_train(ctx, c, 0, train, test, &m, &e->plain_test_err))) goto done;
    if ((rc = ens_lesion(c, m, test, &e->plain_base_err, &e->plain_single_err, &e->plain_k_mean,
                         &e->plain_k_std, &n_k_plain))) goto done;
    if (nj > 0 && (rc = ens_jacobian(c, m, test, nj, &e->plain_jac_sigma1, &e->plain_jac_sigma_ratio,
                                     &e->plain_jac_mean_sq))) goto done;
    e->jac_samples = nj;
    if (n_k_plain < e->n_k) e->n_k = n_k_plain;
done:
    gs_paths_result_free(&pr);
    gs_model_free(m);
    if (rc) ensemble_free(e);
    else *out = e;
    return rc;
}

/* ---- the norm-preservation part ---- */

static void normratio_free(gs_study_normratio *nr)
{
    if (!nr) return;
    for (int i = 0; i < nr->n_series; i++)
        for (int d = 0; d < nr->series[i].n_depths; d++) {
            free(nr->series[i].ratio[d]);
            free(nr->series[i].transition[d]);
        }
    free(nr);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* One family at every depth of depths (n): build, initialise, one step, the ratios into S. */
static int nr_series(gs_ctx *ctx, const gs_study_config *c, int resnet, const int *depths, int n,
                     const gs_dataset *train, gs_study_nr_series *S)
{
    int sorted[GS_NR_MAX_DEPTHS];
    memcpy(sorted, depths, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_int);
    const int want = resnet ? c->nr_conv_samples : c->nr_mlp_samples;
    const int N = (int)(want < train->n ? want : train->n);
    snprintf(S->family, sizeof S->family, "%s", resnet ? "resnet" : "mlp");
    S->shortcut = resnet ? c->conv_shortcut : 0;
    S->width = resnet ? c->conv_width : c->width;
    S->samples = N;
    for (int i = 0; i < n; i++) {
        if (S->n_depths && sorted[i] == S->depths[S->n_depths - 1]) continue;   /* listed twice */
        gs_model_config mc;
        gs_model_config_default(&mc);
        snprintf(mc.family, sizeof mc.family, "%s", S->family);
        mc.in_channels = train->channels; mc.in_height = train->height; mc.in_width = train->width;
        mc.in_features = (int)train->features; mc.classes = train->classes;
        mc.width = S->width; mc.depth = sorted[i];
        mc.skip = resnet ? 0 : 2;
        mc.shortcut = resnet ? c->conv_shortcut : 'A';
        mc.act = GS_ACT_RELU; mc.norm = GS_NORM_BATCH; mc.init = GS_INIT_HE_NORMAL;
        gs_model *m = NULL;
        int rc = gs_model_create(ctx, &mc, N, &m);
        if (rc == GS_OK) rc = gs_model_init(m, c->seed);
        if (rc) { gs_model_free(m); return rc; }
        const int d = S->n_depths, nb = gs_model_n_blocks(m);
        S->depths[d] = mc.depth;
        S->blocks[d] = nb;
        S->ratio[d] = malloc((size_t)(nb > 0 ? nb : 1) * sizeof(double));
        S->transition[d] = malloc((size_t)(nb > 0 ? nb : 1) * sizeof(int));
        S->n_depths++;
        if (!S->ratio[d] || !S->transition[d]) { gs_model_free(m); return gs_error(ctx, GS_ENOMEM, "study: out of memory"); }
        gs_logf(ctx, "study normratio: %s, depth %d (%d blocks), %d samples", S->family, mc.depth, nb, N);
        rc = gs_block_norm_ratios(m, train->x, train->y, N, S->ratio[d], S->transition[d]);
        gs_model_free(m);
        if (rc) return rc;
    }
    return GS_OK;
}

static int normratio_part(gs_ctx *ctx, const gs_study_config *c, const gs_dataset *train,
                          gs_study_normratio **out)
{
    gs_study_normratio *nr = calloc(1, sizeof *nr);
    if (!nr) return gs_error(ctx, GS_ENOMEM, "study: out of memory");
    int rc = GS_OK;
    const int images = train->height >= 2 && train->width >= 2;
    if (c->n_nr_conv_depths > 0 && !images)
        gs_logf(ctx, "study normratio: %s is not images; the resnet series is left out", c->data);
    if (c->n_nr_conv_depths > 0 && images)
        rc = nr_series(ctx, c, 1, c->nr_conv_depths, c->n_nr_conv_depths, train, &nr->series[nr->n_series++]);
    if (rc == GS_OK && c->n_nr_mlp_depths > 0)
        rc = nr_series(ctx, c, 0, c->nr_mlp_depths, c->n_nr_mlp_depths, train, &nr->series[nr->n_series++]);
    if (rc || nr->n_series == 0) { normratio_free(nr); return rc; }
    *out = nr;
    return GS_OK;
}

int gs_study_train(gs_ctx *ctx, const gs_study_config *c, gs_study *out)
{
    gs_dataset *train = NULL, *test = NULL, test_view;
    gs_study s;
    memset(&s, 0, sizeof s);
    const double t0 = now_s();
    int rc = gs_dataset_load(ctx, c->data, 0, c->seed, &train);
    if (rc == GS_OK) rc = gs_dataset_load(ctx, c->data, 1, c->seed, &test);
    if (rc) goto fail;
    test_view = *test;
    if (c->test_samples > 0 && c->test_samples < test->n) test_view.n = c->test_samples;
    for (int i = 0; i < c->n_conv_depths; i++)
        if (c->conv_depths[i] < 8 || (c->conv_depths[i] - 2) % 6) {
            rc = gs_error(ctx, GS_EINVAL, "study: conv depth %d is not 6n+2 with n >= 1 (20, 56, 110 ...)",
                          c->conv_depths[i]);
            goto fail;
        }
    if (c->n_nr_conv_depths < 0 || c->n_nr_conv_depths > GS_NR_MAX_DEPTHS ||
        c->n_nr_mlp_depths < 0 || c->n_nr_mlp_depths > GS_NR_MAX_DEPTHS) {
        rc = gs_error(ctx, GS_EINVAL, "study: %d / %d norm-ratio depths, at most %d each",
                      c->n_nr_conv_depths, c->n_nr_mlp_depths, GS_NR_MAX_DEPTHS);
        goto fail;
    }
    for (int i = 0; i < c->n_nr_conv_depths; i++)
        if (c->nr_conv_depths[i] < 8 || (c->nr_conv_depths[i] - 2) % 6) {
            rc = gs_error(ctx, GS_EINVAL, "study: norm-ratio resnet depth %d is not 6n+2 with n >= 1 "
                          "(8, 20, 56, 110 ...)", c->nr_conv_depths[i]);
            goto fail;
        }
    for (int i = 0; i < c->n_nr_mlp_depths; i++)
        if (c->nr_mlp_depths[i] < 2 || c->nr_mlp_depths[i] % 2) {
            rc = gs_error(ctx, GS_EINVAL, "study: norm-ratio mlp depth %d is not an even number of hidden "
                          "layers >= 2 (blocks of 2)", c->nr_mlp_depths[i]);
            goto fail;
        }
    if ((c->n_nr_conv_depths > 0 && c->nr_conv_samples < 1) || (c->n_nr_mlp_depths > 0 && c->nr_mlp_samples < 1)) {
        rc = gs_error(ctx, GS_EINVAL, "study: norm-ratio samples %d / %d, expected >= 1", c->nr_conv_samples,
                      c->nr_mlp_samples);
        goto fail;
    }
    if (c->n_conv_depths > 0 && (train->height < 2 || train->width < 2)) {
        rc = gs_error(ctx, GS_EINVAL, "study: the conv part needs image data, and %s is %lld features per "
                      "sample; leave it out with --conv-depths none", c->data, (long long)train->features);
        goto fail;
    }
    const int n_total = c->mlp ? c->n_depths * c->n_acts * c->n_skips * c->n_norms : 0;
    s.runs = calloc((size_t)n_total + 1, sizeof *s.runs);
    if (!s.runs) { rc = gs_error(ctx, GS_ENOMEM, "study: out of memory"); goto fail; }
    int idx = 0;
    for (int di = 0; di < (c->mlp ? c->n_depths : 0); di++)
    for (int si = 0; si < c->n_skips; si++)
    for (int ni = 0; ni < c->n_norms; ni++)
    for (int ai = 0; ai < c->n_acts; ai++) {
        gs_study_run *r = &s.runs[idx];
        gs_model_config mc;
        gs_model_config_default(&mc);
        mc.in_features = (int)train->features; mc.classes = train->classes;
        mc.width = c->width; mc.depth = c->depths[di]; mc.skip = c->skips[si];
        mc.act = c->acts[ai]; mc.norm = c->norms[ni]; mc.init = c->init;
        if (mc.skip > 0) mc.depth -= mc.depth % mc.skip;   /* whole blocks only */
        if (mc.skip > 0 && mc.depth == 0) continue;
        snprintf(r->act, sizeof r->act, "%s", gs_act_name(mc.act));
        snprintf(r->norm, sizeof r->norm, "%s", gs_norm_name(mc.norm));
        r->skip = mc.skip; r->depth = mc.depth; r->width = mc.width;
        r->n_layers = mc.depth + 2;
        r->n_blocks = mc.skip ? mc.depth / mc.skip : 0;
        const int heat_every = (int)((c->steps + c->heat_points - 1) / c->heat_points);
        if (run_alloc(r, c->heat_points + 1) != GS_OK) { rc = gs_error(ctx, GS_ENOMEM, "study: out of memory"); goto fail; }
        s.n_runs = ++idx;
        collector col;
        memset(&col, 0, sizeof col);
        int *tags = malloc(sizeof(int) * (size_t)(3 * r->n_layers + r->n_blocks + 1));
        if (!tags) { rc = gs_error(ctx, GS_ENOMEM, "study: out of memory"); goto fail; }
        col.run = r; col.total_steps = c->heat_points + 1; col.heat_every = heat_every > 0 ? heat_every : 1;
        col.grad_tag = tags; col.dead_tag = tags + r->n_layers; col.sat_tag = tags + 2 * r->n_layers;
        col.ratio_tag = tags + 3 * r->n_layers;
        col.end_from = c->steps - (c->steps / 10 > 0 ? c->steps / 10 : 1) + 1;

        gs_optim_config oc;
        gs_optim_config_default(&oc);
        oc.lr = c->lr; oc.momentum = c->momentum; oc.total_steps = c->steps;
        gs_train_config tc;
        gs_train_config_default(&tc);
        tc.steps = c->steps; tc.batch = c->batch; tc.seed = c->seed;
        tc.log_every = (int)(c->steps > 4 ? c->steps / 4 : 1);
        tc.probe = 1; tc.on_probe = on_probe; tc.probe_user = &col;
        tc.dead_samples = c->dead_samples;
        tc.skip_nonfinite = 1;
        tc.data_name = c->data;
        gs_train_result res;
        gs_logf(ctx, "study %d/%d: %s %s, norm %s, depth %d, %lld steps", idx, n_total,
                 mc.skip ? "residual" : "plain", r->act, r->norm, mc.depth, (long long)c->steps);
        rc = fit(ctx, &mc, &oc, &tc, train, &test_view, &res, &r->train_acc);
        if (rc == GS_OK) {
            r->steps = (int)res.steps;
            r->final_loss = res.last_loss;
            r->test_acc = res.test_acc;
            for (int l = 0; l < r->n_layers; l++) r->grad_norm_end[l] = col.n_end ? r->grad_norm_end[l] / col.n_end : NAN;
            for (int b = 0; b < r->n_blocks; b++) r->norm_ratio[b] = col.n_ratio ? r->norm_ratio[b] / col.n_ratio : NAN;
        }
        free(tags);
        if (rc) goto fail;
    }
    if (c->n_conv_depths > 0 && (rc = conv_part(ctx, c, train, &test_view, &s))) goto fail;
    if (c->ens_blocks > 0) {
        gs_study_ensemble *e = NULL;
        if ((rc = ensemble_part(ctx, c, train, &test_view, &e))) goto fail;
        s.ensemble = e;
    }
    if (c->n_nr_conv_depths > 0 || c->n_nr_mlp_depths > 0) {
        gs_study_normratio *nr = NULL;
        if ((rc = normratio_part(ctx, c, train, &nr))) goto fail;
        s.normratio = nr;
    }
    s.dataset = c->data;
    s.n_classes = train->classes;
    s.seed = c->seed;
    s.seconds = now_s() - t0;
    if (s.n_runs) snprintf(s.notes, sizeof s.notes,
             "Every network: width %d, batch %d, %lld steps of SGD (lr %g, momentum %g), %s initialisation, "
             "seed %llu, cross-entropy; instruments read at every step. Accuracy on %lld test samples.",
             c->width, c->batch, (long long)c->steps, c->lr, c->momentum, gs_init_name(c->init),
             (unsigned long long)c->seed, (long long)test_view.n);
    if (s.n_conv_runs) {
        const size_t used = strlen(s.notes);
        snprintf(s.notes + used, sizeof s.notes - used,
                 "%sConv nets (He et al. §4.2: relu, batch norm, width %d%s): batch %d, %lld steps of SGD "
                 "(lr %g, cosine with %lld warm-up steps, momentum 0.9, weight decay %g), he_normal, seed %llu; "
                 "error curves on %lld test samples, final errors on %lld.",
                 used ? " " : "", c->conv_width, c->conv_shortcut == 'B' ? ", shortcut B" : ", shortcut A",
                 c->batch, (long long)c->conv_steps, c->conv_lr, (long long)(c->conv_steps / 50),
                 c->conv_weight_decay, (unsigned long long)c->seed, (long long)s.conv_test_samples,
                 (long long)test_view.n);
    }
    gs_dataset_free(train);
    gs_dataset_free(test);
    *out = s;
    return GS_OK;
fail:
    gs_study_free(&s);
    gs_dataset_free(train);
    gs_dataset_free(test);
    return rc;
}
