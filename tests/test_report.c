/* test_report.c - the study report: report.json round trip through the project's
 * JSON parser (keys, lengths, values, NaN as null), the page's self-containment
 * (an <svg> per chart, nothing fetched, no scripts), the generated conclusion
 * changing with the numbers, and the error paths.
 *
 * The study is synthetic but shaped like the real one: depths 5 and 50 x
 * {sigmoid, tanh, relu} x {plain, residual skip 2} x {no norm, batch norm},
 * with float32-style underflow to exactly 0.0 in the deep plain sigmoid net;
 * plus the conv part: plain-20/56 and resnet-20/56, where the deeper plain net
 * trains worse (He et al.'s degradation) and its gradient vanishes.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "io/json.h"
#include "report/report.h"

static gs_ctx *ctx;
static char tmpdir[64];

/* ---- a synthetic study ---- */

#define N_LOGGED 40
static const char *const ACTS[3] = {"sigmoid", "tanh", "relu"};
static const int DEPTHS[2] = {5, 50};   /* residual: rounded down to whole blocks, 5 -> 4 */

#define N_POINTS 12
static const int CONV_DEPTHS[2] = {20, 56};

typedef struct synth {
    gs_study s;
    gs_study_run runs[24];
    gs_study_conv_run conv[4];   /* plain-20, plain-56, resnet-20, resnet-56 */
    gs_study_ensemble ens;       /* Veit et al.: 6 blocks against a plain net of 6 layers */
    double exact[7], veit[7], cnt[7], single[6], psingle[6], km[3], ks[3], pkm[3], pks[3];
    gs_study_normratio nr;       /* Zaeemzadeh et al.: resnet 8/20/56, residual mlp 8/32 */
    double nr_res[3][27], nr_mlp[2][16];
    int nr_trans[3][27];
} synth;

static double *dup_zero(int n)
{
    double *p = calloc((size_t)n, sizeof *p);
    if (!p) { perror("calloc"); exit(2); }
    return p;
}

/* Per-layer attenuation factor of the gradient toward the input. */
static double factor(const char *act, int res, int bn)
{
    if (res) return bn ? 0.995 : 0.99;
    if (strcmp(act, "sigmoid") == 0) return bn ? 0.985 : 0.16;
    if (strcmp(act, "tanh") == 0) return bn ? 0.98 : 0.6;
    return bn ? 0.85 : 0.8;
}

static void fill_grads(double *g, int n, double head, double f)
{
    for (int l = n - 1; l >= 0; l--) {
        double v = head * pow(f, n - 1 - l) * (1.0 + 0.05 * ((l * 7) % 5 - 2) / 2.0);
        g[l] = v < 1e-38 ? 0.0 : v;    /* float32 underflow, as in deep sigmoid nets */
    }
}

static void synth_conv(synth *y)
{
    /* final training error [resnet][deep]: the deeper plain net worse, the deeper resnet better */
    static const double err[2][2] = {{0.08, 0.13}, {0.07, 0.05}};
    for (int k = 0; k < 4; k++) {
        gs_study_conv_run *r = &y->conv[k];
        int res = k / 2, deep = k % 2, D = CONV_DEPTHS[deep];
        snprintf(r->family, sizeof r->family, "%s", res ? "resnet" : "plain");
        r->shortcut = res ? 'A' : 0;
        r->depth = D;
        r->width = 16;
        r->steps = 1200;
        r->seconds = 30.0 + D;
        r->train_err = err[res][deep];
        r->test_err = r->train_err + 0.03;
        r->n_points = N_POINTS;
        r->curve_steps = malloc(N_POINTS * sizeof *r->curve_steps);
        if (!r->curve_steps) { perror("malloc"); exit(2); }
        r->train_err_curve = dup_zero(N_POINTS);
        r->test_err_curve = dup_zero(N_POINTS);
        for (int t = 0; t < N_POINTS; t++) {
            double u = (t + 1.0) / N_POINTS;
            r->curve_steps[t] = (t + 1) * 100;
            r->train_err_curve[t] = r->train_err + (0.85 - r->train_err) * exp(-4 * u) + 0.01 * (t % 3);
            r->test_err_curve[t] = r->test_err + (0.85 - r->test_err) * exp(-4 * u);
        }
        r->test_err_curve[3] = NAN;      /* one point not measured */
        r->n_layers = D;
        r->grad_norm_init = dup_zero(D);
        r->grad_norm_end = dup_zero(D);
        fill_grads(r->grad_norm_init, D, 0.5, res ? 0.995 : 0.9);   /* plain-56: 2.5 orders */
        fill_grads(r->grad_norm_end, D, 0.2, res ? 0.998 : 0.95);
    }
    y->s.n_conv_runs = 4;
    y->s.conv_runs = y->conv;
    y->s.conv_test_samples = 1000;
}

/* The ensemble part: the gradient from paths of 1-2 branches (typical 3), Veit's
 * estimate peaking at k = 2; one deleted block costs 4 points on average, one
 * deleted plain layer 72. */
static void synth_ensemble(synth *y)
{
    static const double exact[7] = {0.05, 0.30, 0.35, 0.18, 0.08, 0.03, 0.01};
    static const double veit[7] = {0.04, 0.25, 0.38, 0.20, 0.09, 0.03, NAN};
    static const double single[6] = {0.30, 0.14, 0.13, 0.135, 0.125, 0.128};
    static const double psingle[6] = {0.85, 0.80, 0.88, 0.90, 0.82, 0.75};
    static const double km[3] = {0.16, 0.22, 0.30}, ks[3] = {0.02, 0.04, 0.06};
    static const double pkm[3] = {0.86, 0.89, 0.90}, pks[3] = {0.02, 0.01, NAN};
    gs_study_ensemble *e = &y->ens;
    memcpy(y->exact, exact, sizeof exact);
    memcpy(y->veit, veit, sizeof veit);
    memcpy(y->single, single, sizeof single);
    memcpy(y->psingle, psingle, sizeof psingle);
    memcpy(y->km, km, sizeof km); memcpy(y->ks, ks, sizeof ks);
    memcpy(y->pkm, pkm, sizeof pkm); memcpy(y->pks, pks, sizeof pks);
    static const double binom[7] = {1, 6, 15, 20, 15, 6, 1};
    for (int k = 0; k < 7; k++) y->cnt[k] = binom[k] / 64.0;
    e->blocks = 6;
    e->width = 64;
    e->steps = 2000;
    e->test_err = 0.118;
    e->plain_depth = 6;
    e->plain_test_err = 0.109;
    e->path_samples = 256;
    e->exact_norm = y->exact;
    e->veit_total = y->veit;
    e->count_fraction = y->cnt;
    e->sum_check_rel_err = 3e-7;
    e->half_lo = 1;
    e->half_hi = 2;
    e->lesion_samples = 2000;
    e->base_err = 0.12;
    e->plain_base_err = 0.11;
    e->single_err = y->single;
    e->plain_single_err = y->psingle;
    e->n_k = 3;
    e->k_mean = y->km; e->k_std = y->ks;
    e->plain_k_mean = y->pkm; e->plain_k_std = y->pks;
    e->jac_samples = 8;
    e->jac_sigma1 = 5.25; e->jac_sigma_ratio = 0.71; e->jac_mean_sq = 0.59;
    e->plain_jac_sigma1 = 0.0125; e->plain_jac_sigma_ratio = 3.7e-5; e->plain_jac_mean_sq = 6e-7;
    y->s.ensemble = e;
}

/* The norm-ratio part: resnet depths 8, 20, 56 (3, 9, 27 blocks; the first block
 * of stages 2 and 3 a transition) with identity blocks at 2.40, 1.44, 1.05 and
 * transition blocks 0.84/0.90, 0.86/0.90, 0.80/0.90; a residual mlp of 8 and 32
 * hidden layers (4, 16 blocks, no transition) at 2.20 and 1.40, one block NaN. */
static const double NR_RES_ID[3] = {2.40, 1.44, 1.05}, NR_RES_TR[3][2] = {{0.84, 0.90}, {0.86, 0.90}, {0.80, 0.90}};
static const double NR_MLP_ID[2] = {2.20, 1.40};

static void synth_normratio(synth *y)
{
    gs_study_normratio *nr = &y->nr;
    gs_study_nr_series *R = &nr->series[0], *M = &nr->series[1];
    static const int rd[3] = {8, 20, 56}, md[2] = {8, 32};
    snprintf(R->family, sizeof R->family, "resnet");
    R->shortcut = 'A';
    R->width = 16;
    R->samples = 8;
    R->n_depths = 3;
    for (int d = 0; d < 3; d++) {
        int nb = (rd[d] - 2) / 2, stage = nb / 3;
        R->depths[d] = rd[d];
        R->blocks[d] = nb;
        for (int b = 0; b < nb; b++) {
            y->nr_trans[d][b] = b == stage || b == 2 * stage;
            y->nr_res[d][b] = b == stage ? NR_RES_TR[d][0] : b == 2 * stage ? NR_RES_TR[d][1] : NR_RES_ID[d];
        }
        R->ratio[d] = y->nr_res[d];
        R->transition[d] = y->nr_trans[d];
    }
    snprintf(M->family, sizeof M->family, "mlp");
    M->width = 256;
    M->samples = 16;
    M->n_depths = 2;
    for (int d = 0; d < 2; d++) {
        M->depths[d] = md[d];
        M->blocks[d] = md[d] / 2;
        for (int b = 0; b < md[d] / 2; b++) y->nr_mlp[d][b] = NR_MLP_ID[d];
        M->ratio[d] = y->nr_mlp[d];
    }
    y->nr_mlp[1][5] = NAN;
    nr->n_series = 2;
    y->s.normratio = nr;
}

static void synth_build(synth *y)
{
    memset(y, 0, sizeof *y);
    y->s.runs = y->runs;
    y->s.dataset = "fashion-mnist";
    y->s.n_classes = 10;
    y->s.seed = 1;
    y->s.seconds = 312.5;
    snprintf(y->s.notes, sizeof y->s.notes, "width 256, batch 128, SGD lr 0.01 momentum 0.9, "
             "He-normal init, %d steps, synthetic numbers for the test", 400);
    int k = 0;
    for (int d = 0; d < 2; d++)
        for (int a = 0; a < 3; a++)
            for (int res = 0; res < 2; res++)
                for (int bn = 0; bn < 2; bn++, k++) {
                    gs_study_run *r = &y->runs[k];
                    int D = DEPTHS[d] - (res ? DEPTHS[d] % 2 : 0), L = D + 2;
                    snprintf(r->act, sizeof r->act, "%s", ACTS[a]);
                    snprintf(r->norm, sizeof r->norm, "%s", bn ? "batch" : "none");
                    r->skip = res ? 2 : 0;
                    r->depth = D;
                    r->width = 256;
                    r->steps = 400;
                    r->n_layers = L;
                    double f = factor(ACTS[a], res, bn);
                    if (D < 10) f = pow(f, 0.5);
                    r->grad_norm_init = dup_zero(L);
                    r->grad_norm_end = dup_zero(L);
                    fill_grads(r->grad_norm_init, L, 0.8, f);
                    fill_grads(r->grad_norm_end, L, 0.3, f);
                    r->dead_fraction = dup_zero(L);
                    r->saturated_fraction = dup_zero(L);
                    for (int l = 0; l < L; l++) {
                        int has_act = l < L - 1;
                        r->dead_fraction[l] = has_act && a == 2
                            ? (res ? 0.02 : bn ? 0.05 : 0.25 + 0.1 * l / L) : NAN;
                        r->saturated_fraction[l] = has_act && a < 2
                            ? (res ? 0.15 : 0.55 + 0.3 * l / L) * (a == 0 ? 1.0 : 0.7) : NAN;
                    }
                    if (res) {
                        r->n_blocks = D / 2;
                        r->norm_ratio = dup_zero(r->n_blocks);
                        for (int b = 0; b < r->n_blocks; b++)
                            r->norm_ratio[b] = (bn ? 0.93 : 1.04) + 0.02 * ((b * 3) % 4 - 1.5)
                                               + 0.08 * (a - 1) + (a == 1 && !bn ? 0.3 : 0.0);
                    }
                    double acc = D < 10 ? 0.84 + 0.01 * a : res ? 0.85 + 0.01 * bn
                                 : bn ? (a == 2 ? 0.30 : 0.80) : (a == 1 ? 0.55 : 0.10);
                    r->test_acc = acc;
                    r->train_acc = acc + 0.02;
                    r->n_logged = N_LOGGED;
                    r->logged_steps = malloc(N_LOGGED * sizeof *r->logged_steps);
                    r->train_loss_curve = dup_zero(N_LOGGED);
                    r->grad_norm_heat = dup_zero(N_LOGGED * L);
                    if (!r->logged_steps) { perror("malloc"); exit(2); }
                    for (int t = 0; t < N_LOGGED; t++) {
                        double u = t / (N_LOGGED - 1.0);
                        r->logged_steps[t] = t * 10;
                        r->train_loss_curve[t] = 2.3026 - (2.3026 - (1.0 - acc) * 2.2) * (1 - exp(-5 * u));
                        for (int l = 0; l < L; l++) {
                            double gi = r->grad_norm_init[l], ge = r->grad_norm_end[l];
                            r->grad_norm_heat[t * L + l] =
                                gi == 0.0 || ge == 0.0 ? 0.0 : exp((1 - u) * log(gi) + u * log(ge));
                        }
                    }
                    r->grad_norm_heat[5 * L + 3] = NAN;   /* one step not logged */
                    r->final_loss = r->train_loss_curve[N_LOGGED - 1];
                }
    y->s.n_runs = k;
    synth_conv(y);
    synth_ensemble(y);
    synth_normratio(y);
}

static void synth_free(synth *y)
{
    for (int i = 0; i < y->s.n_runs; i++) {
        gs_study_run *r = &y->runs[i];
        free(r->grad_norm_init); free(r->grad_norm_end); free(r->dead_fraction);
        free(r->saturated_fraction); free(r->norm_ratio); free(r->logged_steps);
        free(r->train_loss_curve); free(r->grad_norm_heat);
    }
    for (int i = 0; i < 4; i++) {
        gs_study_conv_run *r = &y->conv[i];
        free(r->curve_steps); free(r->train_err_curve); free(r->test_err_curve);
        free(r->grad_norm_init); free(r->grad_norm_end);
    }
}

static gs_study_run *find(synth *y, const char *act, int res, int bn, int depth)
{
    int i = gs_report_find(&y->s, act, res, bn ? "batch" : "none", depth);
    return i < 0 ? NULL : &y->runs[i];
}

/* ---- file helpers ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    if (b) { b[n] = '\0'; *len = (size_t)n; }
    return b;
}

/* DIR/report.json parsed (NULL on failure, reported); *text is the file, to free. */
static gs_json *load_json(const char *dir, char **text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/report.json", dir);
    size_t len = 0;
    gs_json *root = NULL;
    *text = slurp(path, &len);
    CHECK(*text != NULL, "read %s", path);
    int rc = *text ? gs_json_parse(ctx, *text, len, path, &root) : GS_EIO;
    CHECK(root && rc == GS_OK, "parse: %s", gs_errmsg(ctx));
    return root;
}

/* DIR/index.html, or NULL (reported). */
static char *load_page(const char *dir)
{
    char path[256];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *html = slurp(path, &len);
    CHECK(html != NULL, "read %s", path);
    return html;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static const char *claim_text(const gs_report_text *t, const char *topic)
{
    for (int i = 0; i < t->n_claims; i++)
        if (strcmp(t->claims[i].topic, topic) == 0) return t->claims[i].text;
    return "";
}

/* Array a of report.json against want (n): same length, NaN as null, exact
 * zeros; *worst relative error, and the nulls and zeros seen, accumulate. */
static void check_array(const gs_json *a, const double *want, int n, int run, const char *key,
                        double *worst, int *nulls, int *zeros)
{
    CHECK(a && a->type == GS_JSON_ARRAY && a->n == n, "run %d %s: length %d, expected %d", run,
          key, a ? a->n : -1, n);
    for (int j = 0; a && j < a->n && j < n; j++) {
        const gs_json *v = gs_json_at(a, j);
        if (isnan(want[j])) {
            CHECK(v->type == GS_JSON_NULL, "run %d %s[%d]: NaN not written as null", run, key, j);
            (*nulls)++;
            continue;
        }
        double got = gs_json_number(v, NAN);
        if (want[j] == 0.0) {
            CHECK(got == 0.0, "run %d %s[%d] = %g", run, key, j, got);
            (*zeros)++;
        }
        double e = fabs(got - want[j]) / fabs(want[j] ? want[j] : 1.0);
        if (!(e <= *worst)) *worst = e;
    }
}

/* ---- tests ---- */

static void test_helpers(void)
{
    double g[4] = {1e-10, 1.0, 2.0, 1.0};
    CHECK_NEAR(gs_report_log10_ratio(g, 4), -10.0, 1e-12, 0);
    g[0] = 0.0;
    CHECK(isinf(gs_report_log10_ratio(g, 4)) && gs_report_log10_ratio(g, 4) < 0, "zero first layer");
    g[3] = NAN;
    CHECK(isnan(gs_report_log10_ratio(g, 4)), "NaN last layer");
    CHECK(isnan(gs_report_log10_ratio(NULL, 4)), "absent array");
    CHECK_EQ_INT(gs_report_count_zero(g, 4), 1);
    double x[3] = {NAN, 0.25, 0.75};
    CHECK_NEAR(gs_report_mean_finite(x, 3), 0.5, 1e-15, 0);
    CHECK(isnan(gs_report_mean_finite(x, 1)), "no finite value");
}

static void test_json_roundtrip(void)
{
    synth y;
    synth_build(&y);
    int rc = gs_report_write(ctx, &y.s, tmpdir);
    CHECK(rc == GS_OK, "gs_report_write: %d %s", rc, gs_errmsg(ctx));
    char path[256];
    snprintf(path, sizeof path, "%s/report.json", tmpdir);
    size_t len = 0;
    char *text = slurp(path, &len);
    CHECK(text != NULL, "read %s", path);
    gs_json *root = NULL;
    if (text) rc = gs_json_parse(ctx, text, len, path, &root);
    CHECK(root && rc == GS_OK, "parse: %s", gs_errmsg(ctx));
    const gs_json *runs = gs_json_get(root, "runs");
    CHECK(runs && runs->type == GS_JSON_ARRAY && runs->n == y.s.n_runs, "runs: %d",
          runs ? runs->n : -1);
    static const char *const keys[] = {"act", "norm", "skip", "depth", "steps", "train_acc",
        "test_acc", "grad_norm_by_layer_init", "grad_norm_by_layer_end", "dead_fraction_by_layer",
        "saturated_fraction_by_layer", "norm_ratio_by_block", "train_loss_curve", "logged_steps",
        "grad_norm_heat", "log10_first_last_init", "zero_grad_layers_init"};
    double worst = 0.0;
    int nulls = 0, zeros = 0;
    for (int i = 0; runs && i < runs->n; i++) {
        const gs_json *r = gs_json_at(runs, i);
        const gs_study_run *s = &y.runs[i];
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            CHECK(gs_json_get(r, keys[k]) != NULL, "run %d lacks \"%s\"", i, keys[k]);
        CHECK(strcmp(gs_json_string(gs_json_get(r, "act")) ? gs_json_string(gs_json_get(r, "act"))
                     : "", s->act) == 0, "run %d act", i);
        CHECK(strcmp(gs_json_string(gs_json_get(r, "norm")) ? gs_json_string(gs_json_get(r, "norm"))
                     : "", s->norm) == 0, "run %d norm", i);
        CHECK_EQ_INT((long long)gs_json_number(gs_json_get(r, "depth"), -1), s->depth);
        CHECK_EQ_INT((long long)gs_json_number(gs_json_get(r, "skip"), -1), s->skip);
        CHECK_EQ_INT((long long)gs_json_number(gs_json_get(r, "steps"), -1), s->steps);
        CHECK_NEAR(gs_json_number(gs_json_get(r, "test_acc"), NAN), s->test_acc, 0, 1e-8);
        CHECK_NEAR(gs_json_number(gs_json_get(r, "train_acc"), NAN), s->train_acc, 0, 1e-8);
        const struct { const char *key; const double *x; int n; } arrays[] = {
            {"grad_norm_by_layer_init", s->grad_norm_init, s->n_layers},
            {"grad_norm_by_layer_end", s->grad_norm_end, s->n_layers},
            {"dead_fraction_by_layer", s->dead_fraction, s->n_layers},
            {"saturated_fraction_by_layer", s->saturated_fraction, s->n_layers},
            {"norm_ratio_by_block", s->norm_ratio, s->n_blocks},
            {"train_loss_curve", s->train_loss_curve, s->n_logged},
        };
        for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++)
            check_array(gs_json_get(r, arrays[k].key), arrays[k].x, arrays[k].n, i, arrays[k].key,
                        &worst, &nulls, &zeros);
        const gs_json *heat = gs_json_get(r, "grad_norm_heat");
        CHECK(heat && heat->n == s->n_logged, "run %d heat rows", i);
        CHECK(heat && gs_json_at(heat, 5) && gs_json_at(heat, 5)->n == s->n_layers, "heat cols");
        CHECK(gs_json_at(gs_json_at(heat, 5), 3) && gs_json_at(gs_json_at(heat, 5), 3)->type ==
              GS_JSON_NULL, "heat NaN as null");
        const gs_json *names = gs_json_get(r, "layer_names");
        CHECK(names && names->n == s->n_layers &&
              strcmp(gs_json_string(gs_json_at(names, 0)), "stem.weight") == 0 &&
              strcmp(gs_json_string(gs_json_at(names, names->n - 1)), "head.weight") == 0,
              "run %d layer names", i);
    }
    CHECK(worst <= 1e-8, "worst relative error %g", worst);
    CHECK(nulls > 0 && zeros > 0, "the synthetic study has NaN (%d) and zeros (%d)", nulls, zeros);
    /* the plain 50-layer sigmoid net's first layer is exactly zero: ratio written as null + flag */
    int si = gs_report_find(&y.s, "sigmoid", 0, "none", 50);
    const gs_json *sr = gs_json_at(runs, si);
    CHECK(gs_json_get(sr, "log10_first_last_init")->type == GS_JSON_NULL &&
          gs_json_get(sr, "first_is_zero_init")->type == GS_JSON_BOOL &&
          gs_json_get(sr, "first_is_zero_init")->boolean == 1, "zero first layer flagged");
    const gs_json *concl = gs_json_get(root, "conclusion");
    CHECK(concl && concl->n >= 6, "conclusion claims: %d", concl ? concl->n : -1);
    CHECK(gs_json_string(gs_json_get(root, "summary")) &&
          strlen(gs_json_string(gs_json_get(root, "summary"))) > 100, "summary");
    gs_json_free(root);
    free(text);
    synth_free(&y);
}

static void test_page_self_contained(void)
{
    synth y;
    synth_build(&y);
    int rc = gs_report_write(ctx, &y.s, tmpdir);
    CHECK(rc == GS_OK, "gs_report_write: %s", gs_errmsg(ctx));
    char path[256];
    snprintf(path, sizeof path, "%s/index.html", tmpdir);
    size_t len = 0;
    char *html = slurp(path, &len);
    CHECK(html != NULL, "read %s", path);
    if (!html) { synth_free(&y); return; }
    size_t n_svg = count(html, "<svg class=\"chart\"");
    /* grad by layer, heat x 2 depths, accuracy, loss, dead/saturated, norm ratio; conv error
       curves and conv grad by layer; ensemble paths and lesion; norm ratio against depth and
       block by block */
    CHECK_EQ_INT((long long)n_svg, 13);
    const char *ens = strstr(html, "<h2 id=\"ensemble\">7. Residual networks as ensembles (Veit et "
                                   "al. 2016)</h2>");
    CHECK(ens && ens > strstr(html, "<h2>6. Convolutional"), "ensemble section after the conv one");
    CHECK(ens && strstr(ens, "id=\"fig-ensemble-paths\"") && strstr(ens, "id=\"fig-ensemble-lesion\"")
          && strstr(ens, "<b>Figure 9.</b>") && strstr(ens, "<b>Figure 10.</b>"),
          "ensemble figures, numbered after the conv ones");
    CHECK(ens && strstr(ens, "class=\"band\"") && strstr(ens, "class=\"data eb\""),
          "half-gradient band and error bars");
    CHECK(ens && strstr(ens, "medians over 8 test images") && strstr(ens, "residual net &sigma;<sub>1</sub> = 5.25") &&
          strstr(ens, "plain net &sigma;<sub>1</sub> = 0.0125") && strstr(ens, "= 3.7e-05"),
          "the Jacobian spectra paragraph");
    CHECK(ens && strstr(ens, "Half of the gradient at the first block's input of the trained "
                             "6-block residual net") && strstr(ens, "from 11.0% to 83.3%"),
          "the section's sentences");
    CHECK(strstr(html, "data-topic=\"ensemble\"><span class=\"tag\">Veit et al.") != NULL,
          "ensemble claim labelled");
    const char *conv = strstr(html, "<h2>6. Convolutional networks: depth 20 \xe2\x86\x92 56");
    CHECK(conv && conv > strstr(html, "All MLP runs"), "conv section after the mlp sections");
    CHECK(conv && strstr(conv, "id=\"fig-conv-error\"") && strstr(conv, "id=\"fig-conv-grad-by-layer\""),
          "conv figures in the conv section");
    /* 4 + 4 conv curves, and the ensemble's path-count (thin) and exact (bold) lines */
    CHECK(count(html, "class=\"data thin\"") == 5 && count(html, "class=\"data bold\"") == 5,
          "thin training and bold test curves: %zu, %zu", count(html, "class=\"data thin\""),
          count(html, "class=\"data bold\""));
    CHECK(count(html, "<tr data-net=") == 4 && strstr(html, "resnet-56 (shortcut A)"), "conv table");
    CHECK(strstr(html, "data-topic=\"conv_degradation\"><span class=\"tag\">conv degradation")
          != NULL, "conv claim labelled");
    CHECK_EQ_INT((long long)count(html, "<svg"), (long long)n_svg);
    const char *foot = strstr(html, "data-charts=\"");
    CHECK(foot && atoi(foot + 13) == (int)n_svg, "footer chart count");
    size_t urls = count(html, "http://") + count(html, "https://");
    size_t xmlns = count(html, "xmlns=\"http://www.w3.org/2000/svg\"");
    CHECK(urls == xmlns, "%zu URLs besides %zu xmlns attributes", urls - xmlns, xmlns);
    CHECK(!strstr(html, "<script"), "a script in the page");
    CHECK(!strstr(html, "<link"), "a link element in the page");
    CHECK(!strstr(html, "@import") && !strstr(html, "url(http"), "CSS fetch");
    CHECK(!strstr(html, "<img"), "an external image");
    /* every chart draws data, and the zero markers of the plain sigmoid net are there */
    size_t n_fig = 0;
    for (const char *p = strstr(html, "<svg class=\"chart\""); p; p = strstr(p + 1, "<svg class=\"chart\"")) {
        const char *end = strstr(p, "</svg>");
        const char *data = strstr(p, "class=\"data");
        CHECK(end && data && data < end, "chart %zu has no data element", n_fig);
        n_fig++;
    }
    CHECK(strstr(html, "class=\"data zm\"") != NULL, "zero markers drawn");
    CHECK(strstr(html, "url(#gs-zero-") != NULL, "zero cells hatched in the heat map");
    CHECK(count(html, "<figure") == n_svg, "a figure per chart");
    CHECK(strstr(html, "exactly 0.0") != NULL, "caption explains the zero band");
    CHECK(strstr(html, "rounded down (5 \xe2\x86\x92 4)") != NULL, "the depth rounding is stated");
    CHECK_EQ_INT((long long)count(html, "<tr><td") + (long long)count(html, "<tr class=\"sep\">"),
                 y.s.n_runs);
    /* no temporary file left behind */
    DIR *dir = opendir(tmpdir);
    int stray = 0;
    for (struct dirent *e; dir && (e = readdir(dir));)
        stray += strstr(e->d_name, ".tmp") != NULL;
    if (dir) closedir(dir);
    CHECK(stray == 0, "%d temporary files left", stray);
    free(html);
    synth_free(&y);
}

static void test_conclusion_follows_numbers(void)
{
    synth y;
    synth_build(&y);
    gs_report_text *t = malloc(sizeof *t), *u = malloc(sizeof *u);
    CHECK(gs_report_conclusion(ctx, &y.s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    const char *v = claim_text(t, "vanishing");
    CHECK(strstr(v, "vanishes toward the input for sigmoid, tanh and relu") != NULL, "%s", v);
    CHECK(strstr(v, "sigmoid exactly 0") != NULL, "zero first layer stated: %s", v);
    CHECK(strstr(claim_text(t, "residual"), "All 12 residual configurations keep it within one "
                 "order of magnitude") == NULL, "only the deepest depth counts");
    CHECK(strstr(claim_text(t, "residual"), "All 6 residual configurations keep it within one "
                 "order of magnitude") != NULL, "%s", claim_text(t, "residual"));
    CHECK(strstr(claim_text(t, "degradation"), "He et al. (2015)'s point holds") != NULL,
          "%s", claim_text(t, "degradation"));
    CHECK(strstr(claim_text(t, "dead_units"), "A real cost") != NULL, "%s",
          claim_text(t, "dead_units"));
    CHECK(strstr(claim_text(t, "accuracy"), "At chance level (10.0%): sigmoid plain") != NULL,
          "%s", claim_text(t, "accuracy"));
    CHECK(strstr(t->summary, "exactly 0 for sigmoid") != NULL, "%s", t->summary);
    CHECK(strstr(claim_text(t, "depth"), "From 5 to 50 layers the plain relu net's") != NULL &&
          strstr(claim_text(t, "depth"), "the residual relu net's") != NULL, "%s",
          claim_text(t, "depth"));

    /* sigmoid's gradients no longer vanish: the text must stop saying so */
    gs_study_run *s = find(&y, "sigmoid", 0, 0, 50);
    fill_grads(s->grad_norm_init, s->n_layers, 0.8, 0.999);
    /* a residual net that loses its gradient, and plain + BN that trains as well as residual */
    gs_study_run *r = find(&y, "tanh", 1, 0, 50);
    fill_grads(r->grad_norm_init, r->n_layers, 0.8, 0.8);
    for (int a = 0; a < 3; a++) find(&y, ACTS[a], 0, 1, 50)->test_acc = 0.9;
    /* no dead ReLU units */
    for (int k = 0; k < y.s.n_runs; k++)
        for (int l = 0; l < y.runs[k].n_layers; l++)
            if (!isnan(y.runs[k].dead_fraction[l])) y.runs[k].dead_fraction[l] = 0.001;
    CHECK(gs_report_conclusion(ctx, &y.s, u) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    v = claim_text(u, "vanishing");
    CHECK(strstr(v, "vanishes toward the input for tanh and relu") != NULL, "%s", v);
    CHECK(strstr(v, "for sigmoid") == NULL && strstr(v, "sigmoid exactly 0") == NULL, "%s", v);
    CHECK(strstr(claim_text(u, "residual"), "5 of 6 stay within one order of magnitude; not tanh")
          != NULL, "%s", claim_text(u, "residual"));
    CHECK(strstr(claim_text(u, "degradation"), "not borne out") != NULL, "%s",
          claim_text(u, "degradation"));
    CHECK(strstr(claim_text(u, "dead_units"), "The cost is small") != NULL, "%s",
          claim_text(u, "dead_units"));
    CHECK(strcmp(t->summary, u->summary) != 0, "summary unchanged");
    CHECK(strstr(u->summary, "exactly 0 for sigmoid") == NULL, "%s", u->summary);

    /* nothing vanishes at all */
    for (int k = 0; k < y.s.n_runs; k++)
        fill_grads(y.runs[k].grad_norm_init, y.runs[k].n_layers, 0.5, 0.999);
    CHECK(gs_report_conclusion(ctx, &y.s, u) == GS_OK, "conclusion");
    CHECK(strstr(claim_text(u, "vanishing"), "None of these activations makes the gradient "
                 "vanish at depth 50") != NULL, "%s", claim_text(u, "vanishing"));
    CHECK(strstr(claim_text(u, "relu"), "ReLU cures it") != NULL, "%s", claim_text(u, "relu"));
    free(t);
    free(u);
    synth_free(&y);
}

/* A study with one depth, plain nets only, nothing logged: fewer charts, none empty. */
static void test_sparse_study(void)
{
    synth y;
    synth_build(&y);
    gs_study_run keep[3];
    int n = 0;
    for (int k = 0; k < y.s.n_runs; k++) {
        gs_study_run *r = &y.runs[k];
        if (r->depth == 50 && r->skip == 0 && strcmp(r->norm, "none") == 0 && n < 3) {
            keep[n] = *r;
            keep[n].n_logged = 0;     /* borrowed arrays stay owned by y */
            n++;
        }
    }
    gs_study s = y.s;
    s.runs = keep;
    s.n_runs = n;
    s.n_classes = 0;
    s.n_conv_runs = 0;
    s.conv_runs = NULL;
    s.ensemble = NULL;
    s.normratio = NULL;
    CHECK_EQ_INT(n, 3);
    CHECK(gs_report_write(ctx, &s, tmpdir) == GS_OK, "sparse: %s", gs_errmsg(ctx));
    char path[256];
    snprintf(path, sizeof path, "%s/index.html", tmpdir);
    size_t len = 0;
    char *html = slurp(path, &len);
    CHECK(html != NULL, "read %s", path);
    if (html) {
        size_t n_svg = count(html, "<svg class=\"chart\"");
        CHECK_EQ_INT((long long)n_svg, 3);     /* by layer, accuracy, dead/saturated */
        const char *foot = strstr(html, "data-charts=\"");
        CHECK(foot && atoi(foot + 13) == (int)n_svg, "footer chart count");
        for (const char *p = strstr(html, "<svg"); p; p = strstr(p + 1, "<svg")) {
            const char *end = strstr(p, "</svg>"), *data = strstr(p, "class=\"data");
            CHECK(end && data && data < end, "an empty chart");
        }
        CHECK(strstr(html, "No residual runs") != NULL, "says why figure 6 is missing");
        CHECK(strstr(html, "Convolutional") == NULL, "no conv section without conv runs");
    }
    char *text = NULL;
    gs_json *root = load_json(tmpdir, &text);
    const gs_json *cr = gs_json_get(root, "conv_runs");
    CHECK(cr && cr->type == GS_JSON_ARRAY && cr->n == 0, "conv_runs always present, empty here");
    CHECK(gs_json_get(root, "ensemble") && gs_json_get(root, "ensemble")->type == GS_JSON_NULL,
          "ensemble: null without the part");
    CHECK(gs_json_get(root, "normratio") && gs_json_get(root, "normratio")->type == GS_JSON_NULL,
          "normratio: null without the part");
    gs_json_free(root);
    free(text);
    gs_report_text t;
    CHECK(gs_report_conclusion(ctx, &s, &t) == GS_OK, "conclusion");
    CHECK(strstr(claim_text(&t, "degradation"), "cannot be made") != NULL, "%s",
          claim_text(&t, "degradation"));
    free(html);
    synth_free(&y);
}

static void test_errors(void)
{
    synth y;
    synth_build(&y);
    gs_study empty = {0};
    CHECK(gs_report_write(ctx, &empty, tmpdir) == GS_EINVAL, "empty study");
    CHECK(gs_report_write(ctx, NULL, tmpdir) == GS_EINVAL, "NULL study");
    y.runs[3].n_layers = y.runs[3].depth;
    CHECK(gs_report_write(ctx, &y.s, tmpdir) == GS_EINVAL, "n_layers != depth + 2");
    CHECK(strstr(gs_errmsg(ctx), "run 3") && strstr(gs_errmsg(ctx), "n_layers"), "%s",
          gs_errmsg(ctx));
    y.runs[3].n_layers = y.runs[3].depth + 2;
    snprintf(y.runs[2].norm, sizeof y.runs[2].norm, "group");
    CHECK(gs_report_write(ctx, &y.s, tmpdir) == GS_EINVAL, "bad norm");
    snprintf(y.runs[2].norm, sizeof y.runs[2].norm, "batch");
    int64_t keep = y.runs[1].logged_steps[4];
    y.runs[1].logged_steps[4] = 0;
    CHECK(gs_report_write(ctx, &y.s, tmpdir) == GS_EINVAL, "steps not increasing");
    y.runs[1].logged_steps[4] = keep;
    char missing[128];
    snprintf(missing, sizeof missing, "%s/no/such/dir", tmpdir);
    CHECK(gs_report_write(ctx, &y.s, missing) == GS_EIO, "missing directory");
    CHECK(strstr(gs_errmsg(ctx), "no/such/dir") != NULL, "%s", gs_errmsg(ctx));
    /* optional arrays may be absent: still a valid report */
    for (int k = 0; k < y.s.n_runs; k++) {
        free(y.runs[k].grad_norm_heat);
        y.runs[k].grad_norm_heat = NULL;
        free(y.runs[k].saturated_fraction);
        y.runs[k].saturated_fraction = NULL;
    }
    CHECK(gs_report_write(ctx, &y.s, tmpdir) == GS_OK, "absent arrays: %s", gs_errmsg(ctx));
    synth_free(&y);
}

/* The synthetic study built, written to tmpdir and its report.json parsed. */
static gs_json *build_write_load(synth *y, char **text)
{
    synth_build(y);
    int rc = gs_report_write(ctx, &y->s, tmpdir);
    CHECK(rc == GS_OK, "gs_report_write: %d %s", rc, gs_errmsg(ctx));
    return load_json(tmpdir, text);
}

/* ---- the convolutional part ---- */

static void test_conv_json(void)
{
    synth y;
    char *text = NULL;
    gs_json *root = build_write_load(&y, &text);
    CHECK_EQ_INT((long long)gs_json_number(gs_json_get(root, "conv_test_samples"), -1), 1000);
    const gs_json *runs = gs_json_get(root, "conv_runs");
    CHECK(runs && runs->type == GS_JSON_ARRAY && runs->n == 4, "conv_runs: %d", runs ? runs->n : -1);
    static const char *const keys[] = {"family", "shortcut", "depth", "width", "steps", "seconds",
        "train_error", "test_error", "curve_steps", "train_error_curve", "test_error_curve",
        "layers", "grad_norm_by_layer_init", "grad_norm_by_layer_end"};
    double worst = 0.0;
    int nulls = 0, zeros = 0;
    for (int i = 0; runs && i < runs->n && i < 4; i++) {
        const gs_json *r = gs_json_at(runs, i);
        const gs_study_conv_run *c = &y.conv[i];
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            CHECK(gs_json_get(r, keys[k]) != NULL, "conv run %d lacks \"%s\"", i, keys[k]);
        const char *fam = gs_json_string(gs_json_get(r, "family"));
        CHECK(fam && strcmp(fam, c->family) == 0, "conv run %d family %s", i, fam ? fam : "?");
        const gs_json *sc = gs_json_get(r, "shortcut");
        if (c->shortcut)
            CHECK(gs_json_string(sc) && strcmp(gs_json_string(sc), "A") == 0, "conv run %d shortcut", i);
        else
            CHECK(sc && sc->type == GS_JSON_NULL, "conv run %d: plain shortcut not null", i);
        CHECK_EQ_INT((long long)gs_json_number(gs_json_get(r, "depth"), -1), c->depth);
        CHECK_EQ_INT((long long)gs_json_number(gs_json_get(r, "width"), -1), c->width);
        CHECK_EQ_INT((long long)gs_json_number(gs_json_get(r, "steps"), -1), c->steps);
        CHECK_NEAR(gs_json_number(gs_json_get(r, "seconds"), NAN), c->seconds, 0, 1e-8);
        CHECK_NEAR(gs_json_number(gs_json_get(r, "train_error"), NAN), c->train_err, 0, 1e-8);
        CHECK_NEAR(gs_json_number(gs_json_get(r, "test_error"), NAN), c->test_err, 0, 1e-8);
        CHECK_NEAR(gs_json_number(gs_json_get(r, "log10_first_last_init"), NAN),
                   gs_report_log10_ratio(c->grad_norm_init, c->n_layers), 1e-8, 0);
        const gs_json *st = gs_json_get(r, "curve_steps");
        CHECK(st && st->n == c->n_points, "conv run %d curve_steps: %d", i, st ? st->n : -1);
        for (int j = 0; st && j < st->n && j < c->n_points; j++) {
            int64_t v = -1;
            CHECK(gs_json_int64(gs_json_at(st, j), &v) && v == c->curve_steps[j],
                  "conv run %d curve_steps[%d] = %lld", i, j, (long long)v);
        }
        check_array(gs_json_get(r, "train_error_curve"), c->train_err_curve, c->n_points, i,
                    "train_error_curve", &worst, &nulls, &zeros);
        check_array(gs_json_get(r, "test_error_curve"), c->test_err_curve, c->n_points, i,
                    "test_error_curve", &worst, &nulls, &zeros);
        check_array(gs_json_get(r, "grad_norm_by_layer_init"), c->grad_norm_init, c->n_layers, i,
                    "grad_norm_by_layer_init", &worst, &nulls, &zeros);
        check_array(gs_json_get(r, "grad_norm_by_layer_end"), c->grad_norm_end, c->n_layers, i,
                    "grad_norm_by_layer_end", &worst, &nulls, &zeros);
        const gs_json *names = gs_json_get(r, "layers");
        char last_block[32];
        snprintf(last_block, sizeof last_block, "blocks.%d.c2", (c->depth - 3) / 2);
        static const char *const want[3] = {"conv", "blocks.0.c1", "blocks.0.c2"};
        CHECK(names && names->n == c->depth, "conv run %d: %d layer names", i, names ? names->n : -1);
        for (int j = 0; names && names->n == c->depth && j < c->depth; j++) {
            const char *w = j < 3 ? want[j] : j == c->depth - 1 ? "fc"
                          : j == c->depth - 2 ? last_block : NULL;
            const char *got = gs_json_string(gs_json_at(names, j));
            CHECK(got && (!w || strcmp(got, w) == 0), "conv run %d layers[%d] = %s, expected %s", i,
                  j, got ? got : "?", w ? w : "a name");
        }
    }
    CHECK(worst <= 1e-8, "worst relative error %g", worst);
    CHECK_EQ_INT(nulls, 4);      /* test_err_curve[3] of each net */
    const gs_json *concl = gs_json_get(root, "conclusion");
    int has = 0;
    for (int i = 0; concl && i < concl->n; i++)
        has |= gs_json_string(gs_json_get(gs_json_at(concl, i), "topic")) &&
               strcmp(gs_json_string(gs_json_get(gs_json_at(concl, i), "topic")), "conv_degradation") == 0;
    CHECK(has, "conv claim in report.json");
    gs_json_free(root);
    free(text);
    synth_free(&y);
}

/* Expect gs_report_write to refuse s with GS_EINVAL and a message naming a and b. */
static void expect_invalid(const gs_study *s, const char *a, const char *b, int line)
{
    int rc = gs_report_write(ctx, s, tmpdir);
    const char *m = gs_errmsg(ctx);
    CHECK(rc == GS_EINVAL && strstr(m, a) && (!b || strstr(m, b)), "line %d: rc %d, \"%s\" "
          "(expected GS_EINVAL naming \"%s\" and \"%s\")", line, rc, m, a, b ? b : "");
}

static void test_conv_validation(void)
{
    synth y;
    synth_build(&y);
    gs_study_conv_run *r = &y.conv[2];     /* resnet-20 */
    snprintf(r->family, sizeof r->family, "dense");
    expect_invalid(&y.s, "conv run 2", "family", __LINE__);
    snprintf(r->family, sizeof r->family, "resnet");
    r->shortcut = 'C';
    expect_invalid(&y.s, "conv run 2", "shortcut", __LINE__);
    r->shortcut = 'A';
    y.conv[0].shortcut = 'B';
    expect_invalid(&y.s, "conv run 0", "shortcut", __LINE__);
    y.conv[0].shortcut = 0;
    r->n_layers = 22;
    expect_invalid(&y.s, "conv run 2", "n_layers 22", __LINE__);
    r->depth = r->n_layers = 21;
    expect_invalid(&y.s, "conv run 2", "6n + 2", __LINE__);
    r->depth = r->n_layers = 20;
    r->n_points = -1;
    expect_invalid(&y.s, "conv run 2", "n_points", __LINE__);
    r->n_points = N_POINTS;
    r->steps = -5;
    expect_invalid(&y.s, "conv run 2", "steps", __LINE__);
    r->steps = 1200;
    int64_t *cs = r->curve_steps;
    r->curve_steps = NULL;
    expect_invalid(&y.s, "conv run 2", "curve_steps is NULL", __LINE__);
    r->curve_steps = cs;
    cs[5] = cs[4];
    expect_invalid(&y.s, "conv run 2", "curve_steps not increasing at 5", __LINE__);
    cs[5] = cs[4] + 100;
    CHECK(gs_report_write(ctx, &y.s, tmpdir) == GS_OK, "restored: %s", gs_errmsg(ctx));
    gs_study s = y.s;
    s.n_conv_runs = -1;
    expect_invalid(&s, "n_conv_runs -1", NULL, __LINE__);
    s.n_conv_runs = 4;
    s.conv_runs = NULL;
    expect_invalid(&s, "conv_runs NULL", NULL, __LINE__);
    s.n_runs = 0;
    s.runs = NULL;
    s.n_conv_runs = 0;
    expect_invalid(&s, "no runs", NULL, __LINE__);
    gs_report_text t;
    CHECK(gs_report_conclusion(ctx, &s, &t) == GS_EINVAL, "conclusion of an empty study");
    synth_free(&y);
}

static size_t charts_with_data(const char *html)
{
    size_t n = 0;
    for (const char *p = strstr(html, "<svg"); p; p = strstr(p + 1, "<svg")) {
        const char *end = strstr(p, "</svg>"), *data = strstr(p, "class=\"data");
        n += end && data && data < end;
    }
    return n;
}

/* A study of conv nets only, then fewer of them: the page and report.json
 * leave the mlp part out, the conclusion has the conv claim only. */
static void test_conv_only(void)
{
    synth y;
    synth_build(&y);
    gs_study s = y.s;
    s.n_runs = 0;
    s.runs = NULL;
    s.ensemble = NULL;
    s.normratio = NULL;
    y.conv[1].grad_norm_init[0] = 0.0;   /* drawn on the zero band */
    CHECK(gs_report_write(ctx, &s, tmpdir) == GS_OK, "conv only: %s", gs_errmsg(ctx));
    char *html = load_page(tmpdir);
    if (html) {
        const char *g = strstr(html, "id=\"fig-conv-grad-by-layer\"");
        CHECK(g && strstr(g, "class=\"zband\"") && strstr(g, "class=\"data zm\"") &&
              strstr(g, "gradient exactly 0"), "zero band in the conv gradient chart");
        CHECK_EQ_INT((long long)count(html, "<svg class=\"chart\""), 2);
        CHECK_EQ_INT((long long)charts_with_data(html), 2);
        const char *foot = strstr(html, "data-charts=\"");
        CHECK(foot && atoi(foot + 13) == 2, "footer chart count");
        CHECK(strstr(html, "<h2>Convolutional networks: depth 20 \xe2\x86\x92 56") != NULL,
              "conv section, unnumbered");
        CHECK(!strstr(html, "Gradient norm by layer</h2>") && !strstr(html, "All MLP runs") &&
              !strstr(html, "stem.weight"), "mlp sections left out");
        CHECK(strstr(html, "<b>Figure 1.</b>") && strstr(html, "<b>Figure 2.</b>"), "figures numbered");
        free(html);
    }
    char *text = NULL;
    gs_json *root = load_json(tmpdir, &text);
    CHECK(gs_json_get(root, "runs") && gs_json_get(root, "runs")->n == 0, "runs: []");
    CHECK(gs_json_get(root, "conv_runs") && gs_json_get(root, "conv_runs")->n == 4, "conv_runs");
    gs_json_free(root);
    free(text);
    gs_report_text *t = malloc(sizeof *t);
    CHECK(gs_report_conclusion(ctx, &s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    CHECK(t->n_claims == 1 && strcmp(t->claims[0].topic, "conv_degradation") == 0,
          "%d claims, first %s", t->n_claims, t->n_claims ? t->claims[0].topic : "-");
    CHECK(strncmp(t->summary, "4 convolutional nets were trained on fashion-mnist", 50) == 0 &&
          strstr(t->summary, "plain-56 ends with a higher training error"), "%s", t->summary);

    /* resnets only: no plain comparison, the resnet one still made */
    s.conv_runs = y.conv + 2;
    s.n_conv_runs = 2;
    CHECK(gs_report_conclusion(ctx, &s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    const char *c = claim_text(t, "conv_degradation");
    CHECK(strstr(c, "cannot be tested: the study has no plain net") &&
          strstr(c, "resnet-56's training error is 2.0 points lower than resnet-20's"), "%s", c);

    /* one plain net without curves: the gradient chart only, and no comparison */
    s.conv_runs = y.conv;
    s.n_conv_runs = 1;
    y.conv[0].n_points = 0;
    CHECK(gs_report_write(ctx, &s, tmpdir) == GS_OK, "one net: %s", gs_errmsg(ctx));
    html = load_page(tmpdir);
    if (html) {
        CHECK_EQ_INT((long long)count(html, "<svg class=\"chart\""), 1);
        CHECK_EQ_INT((long long)charts_with_data(html), 1);
        CHECK(strstr(html, "No error curves were recorded") != NULL, "says why the curves are missing");
        CHECK(strstr(html, "<h2>Convolutional networks: depth 20 (He") != NULL, "one depth");
        free(html);
    }
    CHECK(gs_report_conclusion(ctx, &s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    CHECK(strstr(claim_text(t, "conv_degradation"), "cannot be tested: the study has a single "
                 "plain depth") != NULL, "%s", claim_text(t, "conv_degradation"));
    free(t);
    synth_free(&y);
}

static void test_conv_claim_follows_numbers(void)
{
    synth y;
    synth_build(&y);
    gs_report_text *t = malloc(sizeof *t), *u = malloc(sizeof *u);
    CHECK(gs_report_conclusion(ctx, &y.s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    const char *c = claim_text(t, "conv_degradation");
    CHECK(strstr(c, "plain-20 8.0%, plain-56 13.0%, resnet-20 7.0%, resnet-56 5.0%, after 1200 "
                 "steps each") != NULL, "%s", c);
    CHECK(strstr(c, "plain-56's training error is 5.0 points higher than plain-20's: this is He "
                 "et al.'s degradation") != NULL, "%s", c);
    CHECK(strstr(c, "resnet-56's training error is 2.0 points lower than resnet-20's: the "
                 "residual form removes the degradation") != NULL, "%s", c);
    CHECK(strstr(c, "(2.5 orders of magnitude) in plain-56") && strstr(c, "in resnet-56: the deep "
                 "plain net's gradient vanishes toward the input, so here the degradation comes "
                 "with a vanishing gradient"), "%s", c);
    CHECK(strstr(t->summary, "plain-56 ends with a higher training error than plain-20 (+5.0 "
                 "points)") != NULL,
          "%s", t->summary);

    /* swap the plain nets' training errors: no degradation any more */
    y.conv[0].train_err = 0.13;
    y.conv[1].train_err = 0.08;
    CHECK(gs_report_conclusion(ctx, &y.s, u) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    c = claim_text(u, "conv_degradation");
    CHECK(strstr(c, "plain-56's training error is 5.0 points lower than plain-20's: He et al.'s "
                 "degradation (a deeper plain net with a higher training error) did not appear "
                 "within the 1200 steps used") != NULL, "%s", c);
    CHECK(!strstr(c, "this is He et al.'s degradation") && !strstr(c, "removes the degradation") &&
          !strstr(c, "comes with a vanishing gradient"), "%s", c);
    CHECK(strstr(u->summary, "plain-56 does not end with a higher training error than plain-20 "
                 "(-5.0 points): no degradation within 1200 steps") != NULL, "%s", u->summary);

    /* degradation with a healthy plain gradient, and in the residual nets too */
    y.conv[0].train_err = 0.08;
    y.conv[1].train_err = 0.14;
    y.conv[3].train_err = 0.09;
    fill_grads(y.conv[1].grad_norm_init, 56, 0.5, 0.999);
    CHECK(gs_report_conclusion(ctx, &y.s, u) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    c = claim_text(u, "conv_degradation");
    CHECK(strstr(c, "6.0 points higher") && strstr(c, "resnet-56's training error is 2.0 points "
                 "higher than resnet-20's: the residual nets degrade as well") &&
          strstr(c, "does not vanish, so its higher training error is not a vanishing-gradient "
                 "effect"), "%s", c);
    /* within a point: neither higher nor lower */
    y.conv[1].train_err = 0.084;
    CHECK(gs_report_conclusion(ctx, &y.s, u) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    CHECK(strstr(claim_text(u, "conv_degradation"), "within 1 point (+0.4) of plain-20's: He et "
                 "al.'s degradation") != NULL, "%s", claim_text(u, "conv_degradation"));
    free(t);
    free(u);
    synth_free(&y);
}

static void test_ensemble_json(void)
{
    synth y;
    char *text = NULL;
    gs_json *root = build_write_load(&y, &text);
    const gs_json *e = gs_json_get(root, "ensemble");
    CHECK(e && e->type == GS_JSON_OBJECT, "ensemble object");
    static const char *const keys[] = {"blocks", "width", "steps", "test_error", "plain_depth",
        "plain_test_error", "path_samples", "exact_norm_by_length", "veit_total_by_length",
        "path_count_fraction", "sum_check_rel_err", "half_gradient_lengths", "lesion_samples",
        "baseline_error", "plain_baseline_error", "single_block_error", "plain_single_layer_error",
        "n_k", "k_deleted"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        CHECK(gs_json_get(e, keys[k]) != NULL, "ensemble lacks \"%s\"", keys[k]);
    CHECK_EQ_INT((long long)gs_json_number(gs_json_get(e, "blocks"), -1), 6);
    CHECK(fabs(gs_json_number(gs_json_get(e, "test_error"), -1) - 0.118) < 1e-12, "test_error");
    CHECK(fabs(gs_json_number(gs_json_get(e, "sum_check_rel_err"), -1) - 3e-7) < 1e-15, "sum check");
    const gs_json *h = gs_json_get(e, "half_gradient_lengths");
    CHECK(h && h->type == GS_JSON_ARRAY && h->n == 2 &&
          gs_json_number(gs_json_at(h, 0), -1) == 1 && gs_json_number(gs_json_at(h, 1), -1) == 2,
          "half_gradient_lengths [1, 2]");
    double worst = 0.0;
    int nulls = 0, zeros = 0;
    check_array(gs_json_get(e, "exact_norm_by_length"), y.exact, 7, -1, "exact", &worst, &nulls, &zeros);
    check_array(gs_json_get(e, "veit_total_by_length"), y.veit, 7, -1, "veit", &worst, &nulls, &zeros);
    check_array(gs_json_get(e, "path_count_fraction"), y.cnt, 7, -1, "count", &worst, &nulls, &zeros);
    check_array(gs_json_get(e, "single_block_error"), y.single, 6, -1, "single", &worst, &nulls, &zeros);
    check_array(gs_json_get(e, "plain_single_layer_error"), y.psingle, 6, -1, "psingle", &worst,
                &nulls, &zeros);
    CHECK(worst <= 1e-8 && nulls == 1, "worst %g, nulls %d (Veit's NaN at k = 6)", worst, nulls);
    const gs_json *jac = gs_json_get(e, "jacobian");
    CHECK(jac && jac->type == GS_JSON_OBJECT && gs_json_number(gs_json_get(jac, "samples"), -1) == 8 &&
          fabs(gs_json_number(gs_json_get(jac, "sigma1_median"), -1) - 5.25) < 1e-12 &&
          fabs(gs_json_number(gs_json_get(jac, "sigma2_over_sigma1_median"), -1) - 0.71) < 1e-12 &&
          fabs(gs_json_number(gs_json_get(jac, "mean_sq_median"), -1) - 0.59) < 1e-12 &&
          fabs(gs_json_number(gs_json_get(jac, "plain_sigma1_median"), -1) - 0.0125) < 1e-12 &&
          fabs(gs_json_number(gs_json_get(jac, "plain_sigma2_over_sigma1_median"), -1) - 3.7e-5) < 1e-15 &&
          fabs(gs_json_number(gs_json_get(jac, "plain_mean_sq_median"), -1) - 6e-7) < 1e-18, "ensemble.jacobian");
    const gs_json *kd = gs_json_get(e, "k_deleted");
    CHECK(kd && kd->type == GS_JSON_ARRAY && kd->n == 3, "k_deleted: 3 rows");
    const gs_json *k2 = gs_json_at(kd, 2);
    CHECK(k2 && gs_json_number(gs_json_get(k2, "k"), -1) == 3 &&
          fabs(gs_json_number(gs_json_get(k2, "mean_error"), -1) - 0.30) < 1e-12 &&
          fabs(gs_json_number(gs_json_get(k2, "std_error"), -1) - 0.06) < 1e-12 &&
          fabs(gs_json_number(gs_json_get(k2, "plain_mean_error"), -1) - 0.90) < 1e-12 &&
          gs_json_get(k2, "plain_std_error") &&
          gs_json_get(k2, "plain_std_error")->type == GS_JSON_NULL, "k_deleted[2]");
    gs_json_free(root);
    free(text);
    /* optional arrays absent: written as nulls of the right length */
    y.ens.veit_total = NULL;
    y.ens.plain_single_err = NULL;
    y.ens.k_std = NULL;
    y.ens.jac_samples = 0;
    CHECK(gs_report_write(ctx, &y.s, tmpdir) == GS_OK, "absent arrays: %s", gs_errmsg(ctx));
    root = load_json(tmpdir, &text);
    e = gs_json_get(root, "ensemble");
    CHECK(gs_json_get(e, "jacobian") && gs_json_get(e, "jacobian")->type == GS_JSON_NULL, "jacobian: null when not measured");
    const gs_json *v = gs_json_get(e, "veit_total_by_length");
    CHECK(v && v->n == 7 && gs_json_at(v, 2)->type == GS_JSON_NULL, "veit absent: nulls");
    v = gs_json_get(e, "plain_single_layer_error");
    CHECK(v && v->n == 6 && gs_json_at(v, 0)->type == GS_JSON_NULL, "plain singles absent");
    gs_json_free(root);
    free(text);
    char *html = load_page(tmpdir);
    if (html) {
        const char *ens = strstr(html, "id=\"ensemble\"");
        CHECK(ens && !strstr(ens, "Veit et al.'s estimate C(n,k)") &&
              strstr(ens, "Veit's estimate was not computed"), "no Veit series when absent");
        CHECK(ens && !strstr(ens, "Jacobian spectrum of J"), "no Jacobian paragraph when not measured");
        CHECK_EQ_INT((long long)charts_with_data(html), (long long)count(html, "<svg class=\"chart\""));
        free(html);
    }
    synth_free(&y);
}

static void test_ensemble_validation(void)
{
    synth y;
    synth_build(&y);
    gs_study_ensemble *e = &y.ens;
    e->blocks = 0;
    expect_invalid(&y.s, "ensemble.blocks", NULL, __LINE__);
    e->blocks = 6;
    e->plain_depth = -1;
    expect_invalid(&y.s, "ensemble.plain_depth", NULL, __LINE__);
    e->plain_depth = 6;
    e->n_k = -2;
    expect_invalid(&y.s, "ensemble.n_k", NULL, __LINE__);
    e->n_k = 3;
    e->half_lo = 3;
    expect_invalid(&y.s, "ensemble.half_hi", NULL, __LINE__);     /* half_lo > half_hi */
    e->half_lo = -1;
    expect_invalid(&y.s, "ensemble.half_lo", NULL, __LINE__);
    e->half_lo = 1;
    e->half_hi = 7;
    expect_invalid(&y.s, "ensemble.half_hi", NULL, __LINE__);
    e->half_hi = 6;
    e->exact_norm = NULL;
    expect_invalid(&y.s, "ensemble.exact_norm", NULL, __LINE__);
    e->exact_norm = y.exact;
    e->count_fraction = NULL;
    expect_invalid(&y.s, "ensemble.count_fraction", NULL, __LINE__);
    e->count_fraction = y.cnt;
    e->single_err = NULL;
    expect_invalid(&y.s, "ensemble.single_err", NULL, __LINE__);
    e->single_err = y.single;
    CHECK(gs_report_write(ctx, &y.s, tmpdir) == GS_OK, "valid again: %s", gs_errmsg(ctx));
    synth_free(&y);
}

static void test_ensemble_claim_follows_numbers(void)
{
    synth y;
    synth_build(&y);
    gs_report_text *t = malloc(sizeof *t);
    CHECK(gs_report_conclusion(ctx, &y.s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    const char *c = claim_text(t, "ensemble");
    CHECK(strstr(c, "Half of the gradient at the first block's input of the trained 6-block "
                 "residual net comes from paths through 1\xe2\x80\x93" "2 branches (65%") &&
          strstr(c, "while the typical path passes 3 (n/2); Veit's estimate peaks at k = 2. ") &&
          strstr(c, "Deleting one block raises its error from 12.0% to 16.0% on average (worst "
                 "30.0%, block 0), deleting one layer of the plain net raises it from 11.0% to "
                 "83.3% (worst 90.0%).") &&
          strstr(c, "degrades smoothly") && strstr(c, "shorter than the typical one"), "%s", c);
    /* other numbers, other claim */
    y.ens.half_lo = 2;
    y.ens.half_hi = 4;
    y.veit[4] = 0.9;
    y.single[3] = 0.735;                       /* mean 26.0%, worst 73.5% at block 3 */
    y.ens.plain_base_err = 0.6;                 /* the plain net loses only 23 points now */
    CHECK(gs_report_conclusion(ctx, &y.s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    c = claim_text(t, "ensemble");
    CHECK(strstr(c, "through 2\xe2\x80\x93" "4 branches (61%") && strstr(c, "peaks at k = 4") &&
          strstr(c, "from 12.0% to 26.0% on average (worst 73.5%, block 3)") &&
          strstr(c, "from 60.0% to 83.3%") && !strstr(c, "degrades smoothly") &&
          strstr(c, "not much more robust") && !strstr(c, "shorter than the typical one"), "%s", c);
    /* without the part: no claim */
    y.s.ensemble = NULL;
    CHECK(gs_report_conclusion(ctx, &y.s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    CHECK(claim_text(t, "ensemble")[0] == '\0', "no ensemble claim without the part");
    free(t);
    synth_free(&y);
}

/* conv nets and the ensemble part, no mlp runs: sections and figures renumbered */
static void test_ensemble_with_conv_only(void)
{
    synth y;
    synth_build(&y);
    gs_study s = y.s;
    s.n_runs = 0;
    s.runs = NULL;
    CHECK(gs_report_write(ctx, &s, tmpdir) == GS_OK, "conv + ensemble: %s", gs_errmsg(ctx));
    char *html = load_page(tmpdir);
    if (html) {
        CHECK_EQ_INT((long long)count(html, "<svg class=\"chart\""), 6);
        CHECK_EQ_INT((long long)charts_with_data(html), 6);
        const char *ens = strstr(html, "<h2 id=\"ensemble\">2. Residual networks as ensembles");
        CHECK(ens && strstr(ens, "<b>Figure 3.</b>") && strstr(ens, "<b>Figure 4.</b>"),
              "section 2, figures 3 and 4");
        const char *nr = strstr(html, "<h2 id=\"normratio\">3. Norm preservation against depth");
        CHECK(nr && nr > ens && strstr(nr, "<b>Figure 5.</b>") && strstr(nr, "<b>Figure 6.</b>"),
              "norm-ratio section 3, figures 5 and 6");
        CHECK(nr && !strstr(nr, "in Figure 6 (section 5)"), "no pointer to the mlp figure without mlp runs");
        free(html);
    }
    /* nothing finite to draw: no empty chart, a note instead */
    for (int k = 0; k < 7; k++) y.exact[k] = y.veit[k] = y.cnt[k] = NAN;
    for (int k = 0; k < 6; k++) y.single[k] = y.psingle[k] = NAN;
    for (int k = 0; k < 3; k++) y.km[k] = y.pkm[k] = NAN;
    y.ens.base_err = y.ens.plain_base_err = NAN;
    CHECK(gs_report_write(ctx, &s, tmpdir) == GS_OK, "all NaN: %s", gs_errmsg(ctx));
    html = load_page(tmpdir);
    if (html) {
        CHECK_EQ_INT((long long)count(html, "<svg class=\"chart\""), 4);   /* conv 2, norm ratio 2 */
        CHECK(strstr(html, "No gradient by path length or lesion errors") != NULL, "note");
        free(html);
    }
    synth_free(&y);
}

/* ---- the norm-preservation part ---- */

static void test_normratio_json(void)
{
    synth y;
    char *text = NULL;
    gs_json *root = build_write_load(&y, &text);
    const gs_json *nr = gs_json_get(root, "normratio");
    CHECK(nr && nr->type == GS_JSON_OBJECT, "normratio object");
    const gs_json *series = gs_json_get(nr, "series");
    CHECK(series && series->type == GS_JSON_ARRAY && series->n == 2, "two series: %d",
          series ? series->n : -1);
    static const char *const keys[] = {"family", "shortcut", "width", "samples", "depths", "blocks",
        "mean_identity_ratio", "mean_transition_ratio", "ratios", "transition"};
    for (int i = 0; series && i < series->n; i++)
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            CHECK(gs_json_get(gs_json_at(series, i), keys[k]) != NULL, "series %d lacks \"%s\"", i, keys[k]);
    const gs_json *R = gs_json_at(series, 0), *M = gs_json_at(series, 1);
    CHECK(R && M, "both series");
    if (!R || !M) { gs_json_free(root); free(text); synth_free(&y); return; }
    CHECK(strcmp(gs_json_string(gs_json_get(R, "family")) ? gs_json_string(gs_json_get(R, "family")) : "",
                 "resnet") == 0 && strcmp(gs_json_string(gs_json_get(R, "shortcut")) ?
                 gs_json_string(gs_json_get(R, "shortcut")) : "", "A") == 0, "resnet, shortcut A");
    CHECK(gs_json_get(M, "shortcut")->type == GS_JSON_NULL, "mlp: shortcut null");
    CHECK_EQ_INT((long long)gs_json_number(gs_json_get(R, "samples"), -1), 8);
    CHECK_EQ_INT((long long)gs_json_number(gs_json_get(M, "samples"), -1), 16);
    CHECK_EQ_INT((long long)gs_json_number(gs_json_get(M, "width"), -1), 256);
    const gs_json *dp = gs_json_get(R, "depths"), *bl = gs_json_get(R, "blocks");
    CHECK(dp && dp->n == 3 && gs_json_number(gs_json_at(dp, 2), -1) == 56 && bl && bl->n == 3 &&
          gs_json_number(gs_json_at(bl, 1), -1) == 9, "resnet depths and blocks");
    double worst = 0.0;
    int nulls = 0, zeros = 0;
    const double tr[3] = {0.87, 0.88, 0.85}, none[2] = {NAN, NAN};
    check_array(gs_json_get(R, "mean_identity_ratio"), NR_RES_ID, 3, -1, "identity", &worst, &nulls, &zeros);
    check_array(gs_json_get(R, "mean_transition_ratio"), tr, 3, -1, "transition", &worst, &nulls, &zeros);
    check_array(gs_json_get(M, "mean_identity_ratio"), NR_MLP_ID, 2, -1, "mlp identity", &worst, &nulls, &zeros);
    CHECK(worst <= 1e-8 && nulls == 0, "means: worst %g, nulls %d", worst, nulls);
    check_array(gs_json_get(M, "mean_transition_ratio"), none, 2, -1, "mlp transition", &worst, &nulls, &zeros);
    const gs_json *ra = gs_json_get(R, "ratios"), *ma = gs_json_get(M, "ratios");
    CHECK(ra && ra->n == 3 && ma && ma->n == 2, "ratios: one array per depth");
    for (int d = 0; ra && d < ra->n && d < 3; d++)
        check_array(gs_json_at(ra, d), y.nr_res[d], y.nr.series[0].blocks[d], d, "ratios", &worst,
                    &nulls, &zeros);
    for (int d = 0; ma && d < ma->n && d < 2; d++)
        check_array(gs_json_at(ma, d), y.nr_mlp[d], y.nr.series[1].blocks[d], d, "mlp ratios", &worst,
                    &nulls, &zeros);
    CHECK(worst <= 1e-8 && nulls == 3, "ratios: worst %g, nulls %d (the two absent transition "
          "means and the mlp's NaN block)", worst, nulls);
    const gs_json *tf = gs_json_at(gs_json_get(R, "transition"), 2);
    int n_true = 0;
    for (int b = 0; tf && b < tf->n; b++)
        n_true += gs_json_at(tf, b)->type == GS_JSON_BOOL && gs_json_at(tf, b)->boolean;
    CHECK(tf && tf->n == 27 && n_true == 2 && gs_json_at(tf, 9)->boolean && gs_json_at(tf, 18)->boolean,
          "resnet-56 transition flags at blocks 9 and 18");
    tf = gs_json_at(gs_json_get(M, "transition"), 1);
    CHECK(tf && tf->n == 16 && gs_json_at(tf, 0)->type == GS_JSON_BOOL && !gs_json_at(tf, 0)->boolean,
          "mlp: no transition block (NULL flags written as false)");
    gs_json_free(root);
    free(text);
    synth_free(&y);
}

static void test_normratio_validation(void)
{
    synth y;
    synth_build(&y);
    gs_study_normratio *nr = &y.nr;
    gs_study_nr_series *R = &nr->series[0];
    nr->n_series = 0;
    expect_invalid(&y.s, "normratio.n_series", NULL, __LINE__);
    nr->n_series = 3;
    expect_invalid(&y.s, "normratio.n_series", NULL, __LINE__);
    nr->n_series = 2;
    snprintf(R->family, sizeof R->family, "plain");
    expect_invalid(&y.s, "normratio.family", "series 0", __LINE__);
    snprintf(R->family, sizeof R->family, "resnet");
    R->samples = 0;
    expect_invalid(&y.s, "normratio.samples", NULL, __LINE__);
    R->samples = 8;
    R->n_depths = 0;
    expect_invalid(&y.s, "normratio.n_depths", NULL, __LINE__);
    R->n_depths = GS_NR_MAX_DEPTHS + 1;
    expect_invalid(&y.s, "normratio.n_depths", NULL, __LINE__);
    R->n_depths = 3;
    R->depths[2] = 20;
    expect_invalid(&y.s, "normratio.depths", "not positive and increasing", __LINE__);
    R->depths[2] = 56;
    y.nr.series[1].blocks[1] = 0;
    expect_invalid(&y.s, "normratio.blocks", "series 1 (mlp), depth 32", __LINE__);
    y.nr.series[1].blocks[1] = 16;
    R->ratio[1] = NULL;
    expect_invalid(&y.s, "normratio.ratio", "depth 20", __LINE__);
    R->ratio[1] = y.nr_res[1];
    CHECK(gs_report_write(ctx, &y.s, tmpdir) == GS_OK, "valid again: %s", gs_errmsg(ctx));
    synth_free(&y);
}

static void test_normratio_claim_follows_numbers(void)
{
    synth y;
    synth_build(&y);
    gs_report_text *t = malloc(sizeof *t);
    CHECK(gs_report_conclusion(ctx, &y.s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    const char *c = claim_text(t, "norm_preservation");
    CHECK(strstr(c, "ResNet (shortcut A, width 16, 8 images): the identity blocks' mean ratio is "
                 "2.40 at depth 8 and 1.05 at depth 56; the 6 transition blocks average 0.87 "
                 "(0.85\xe2\x80\x93" "0.88 by depth). The ratio approaches 1 with depth, as "
                 "Zaeemzadeh et al. (2018) found. At depth 56 the transition blocks (0.85) stay "
                 "further from 1 than the identity blocks (1.05): changing the shape breaks norm "
                 "preservation.") &&
          strstr(c, "Residual MLP (batch norm, skip 2, width 256, 16 samples): the identity blocks' "
                 "mean ratio is 2.20 at depth 8 and 1.40 at depth 32. The ratio approaches 1 with "
                 "depth") && !strstr(c, "not at every depth") && !strstr(c, "within 5% of norm preservation"),
          "%s", c);
    /* the deepest resnet further from 1 than the shallowest: the claim turns */
    for (int b = 0; b < 27; b++) if (!y.nr_trans[2][b]) y.nr_res[2][b] = 2.60;
    CHECK(gs_report_conclusion(ctx, &y.s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    c = claim_text(t, "norm_preservation");
    CHECK(strstr(c, "2.40 at depth 8 and 2.60 at depth 56") &&
          strstr(c, "The ratio is not closer to 1 at depth 56 than at depth 8: no approach to norm "
                 "preservation with depth here.") && strstr(c, "Residual MLP") &&
          count(c, "approaches 1 with depth") == 1, "%s", c);
    /* closer at the deepest, but not at every depth; the deepest preserves the norm, and the
       transition blocks there sit as close to 1 */
    for (int b = 0; b < 27; b++) y.nr_res[2][b] = y.nr_trans[2][b] ? 1.01 : 0.98;
    for (int b = 0; b < 9; b++) if (!y.nr_trans[1][b]) y.nr_res[1][b] = 2.90;
    CHECK(gs_report_conclusion(ctx, &y.s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    c = claim_text(t, "norm_preservation");
    CHECK(strstr(c, "0.98 at depth 56") && strstr(c, "approaches 1 with depth (though not at every "
                 "depth): on average the deepest net's identity blocks are within 5% of norm "
                 "preservation") &&
          strstr(c, "At depth 56 the transition blocks (1.01) are no further from 1 than the "
                 "identity blocks (0.98).") && !strstr(c, "stay further"), "%s", c);
    CHECK(strlen(c) + 1 < sizeof t->claims[0].text && strstr(c, "Residual MLP") &&
          c[strlen(c) - 1] == '.', "the longest claim fits (%zu bytes)", strlen(c));
    /* one depth only: no trend read */
    y.nr.series[1].n_depths = 1;
    CHECK(gs_report_conclusion(ctx, &y.s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    c = claim_text(t, "norm_preservation");
    CHECK(strstr(c, "mean ratio is 2.20 at depth 8. A single depth: no trend with depth can be read."),
          "%s", c);
    /* without the part: no claim */
    y.s.normratio = NULL;
    CHECK(gs_report_conclusion(ctx, &y.s, t) == GS_OK, "conclusion: %s", gs_errmsg(ctx));
    CHECK(claim_text(t, "norm_preservation")[0] == '\0', "no norm-ratio claim without the part");
    free(t);
    synth_free(&y);
}

static void test_normratio_page(void)
{
    synth y;
    synth_build(&y);
    CHECK(gs_report_write(ctx, &y.s, tmpdir) == GS_OK, "write: %s", gs_errmsg(ctx));
    char *html = load_page(tmpdir);
    if (html) {
        const char *nr = strstr(html, "<h2 id=\"normratio\">8. Norm preservation against depth "
                                      "(Zaeemzadeh et al. 2018)</h2>");
        CHECK(nr && nr > strstr(html, "<h2 id=\"ensemble\">7."), "section 8, after the ensemble");
        CHECK(nr && strstr(nr, "id=\"fig-normratio-depth\"") && strstr(nr, "id=\"fig-normratio-profile\"")
              && strstr(nr, "<b>Figure 11.</b>") && strstr(nr, "<b>Figure 12.</b>"), "figures 11 and 12");
        /* transition blocks: 3 depth means in A, 2 + 2 + 2 blocks in B, and the two legend squares */
        CHECK(nr && count(nr, "class=\"data sq\"") == 9 && count(nr, "<rect class=\"sq\"") == 2,
              "open squares: %zu on the charts, %zu in legends", nr ? count(nr, "class=\"data sq\"") : 0,
              nr ? count(nr, "<rect class=\"sq\"") : 0);
        CHECK(nr && strstr(nr, ">transition block</text>") && strstr(nr, ">ratio 1: norm preserved</text>")
              && strstr(nr, "class=\"ref\""), "legends and the reference line at 1");
        CHECK(nr && strstr(nr, "1.0 means the block passes the gradient back with its norm preserved"),
              "the ratio explained");
        CHECK(nr && strstr(nr, "2.40 at depth 8 and 1.05 at depth 56") &&
              !strstr(nr, "approaches 1 with depth"), "the section's numbers, without the reading");
        CHECK(nr && strstr(nr, "in Figure 6 (section 5)"), "points to the training-time figure");
        CHECK(strstr(html, "data-topic=\"norm_preservation\"><span class=\"tag\">norm preservation")
              != NULL, "claim labelled");
        free(html);
    }
    /* without the ensemble part: section 7, figures 9 and 10 */
    y.s.ensemble = NULL;
    CHECK(gs_report_write(ctx, &y.s, tmpdir) == GS_OK, "write: %s", gs_errmsg(ctx));
    html = load_page(tmpdir);
    if (html) {
        const char *nr = strstr(html, "<h2 id=\"normratio\">7. Norm preservation");
        CHECK(nr && strstr(nr, "<b>Figure 9.</b>") && strstr(nr, "<b>Figure 10.</b>"), "renumbered");
        free(html);
    }
    /* only the mlp series, and nothing finite: no empty chart, a note */
    y.nr.series[0] = y.nr.series[1];
    y.nr.n_series = 1;
    for (int d = 0; d < 2; d++) for (int b = 0; b < 16; b++) y.nr_mlp[d][b] = NAN;
    CHECK(gs_report_write(ctx, &y.s, tmpdir) == GS_OK, "write: %s", gs_errmsg(ctx));
    html = load_page(tmpdir);
    if (html) {
        const char *nr = strstr(html, "id=\"normratio\"");
        CHECK(nr && !strstr(nr, "<svg") && strstr(nr, "No finite norm ratio was measured"), "note");
        CHECK(nr && strstr(nr, "no identity block has a finite ratio"), "the sentence says so");
        CHECK_EQ_INT((long long)charts_with_data(html), (long long)count(html, "<svg class=\"chart\""));
        free(html);
    }
    synth_free(&y);
}

int main(int argc, char **argv)
{
    ctx = gs_ctx_create();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gs_report_XXXXXX");
    if (!ctx || !mkdtemp(tmpdir)) { perror("mkdtemp"); return 2; }
    RUN(test_helpers);
    RUN(test_json_roundtrip);
    RUN(test_page_self_contained);
    RUN(test_conclusion_follows_numbers);
    RUN(test_sparse_study);
    RUN(test_errors);
    RUN(test_conv_json);
    RUN(test_conv_validation);
    RUN(test_conv_only);
    RUN(test_conv_claim_follows_numbers);
    RUN(test_ensemble_json);
    RUN(test_ensemble_validation);
    RUN(test_ensemble_claim_follows_numbers);
    RUN(test_ensemble_with_conv_only);
    RUN(test_normratio_json);
    RUN(test_normratio_validation);
    RUN(test_normratio_claim_follows_numbers);
    RUN(test_normratio_page);
    /* GS_REPORT_KEEP=DIR leaves a full synthetic report there (for the screenshot script) */
    const char *keep = getenv("GS_REPORT_KEEP");
    if (argc > 1) keep = argv[1];
    if (keep && *keep) {
        synth y;
        synth_build(&y);
        mkdir(keep, 0755);
        if (gs_report_write(ctx, &y.s, keep) != GS_OK) fprintf(stderr, "%s\n", gs_errmsg(ctx));
        synth_free(&y);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    gs_ctx_free(ctx);
    return FINISH();
}
