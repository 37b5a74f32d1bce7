/* conclusion.c - the written conclusion of the study, generated from its numbers.
 *
 * Every sentence is computed: which activations make the gradient vanish, by
 * how many orders of magnitude, whether skip connections keep the first/last
 * ratio within one order, what ReLU costs in dead units, and whether He et
 * al.'s point (a plain net with batch norm has healthy gradient norms yet
 * trains worse than the residual net) holds on these runs - stated only when
 * the numbers support it, otherwise what was found instead; and for the conv
 * nets whether the deeper plain net ends with the higher training error (He et
 * al.'s degradation) or not within the steps used.  Each claim cites
 * the numbers it rests on.  The thresholds are fixed and named below.
 * Nothing here allocates; text goes into the fixed buffers of gs_report_text.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "page.h"

#define VANISH_ORDERS 2.0    /* |log10(first/last)| above this: vanishes (or explodes) */
#define HEALTHY_ORDERS 1.0   /* within this: "within one order of magnitude" */
#define WORSE_PP 1.0         /* accuracy gap (percentage points) that counts as worse */
#define GS_MAX_ACTS 8       /* as facts.acts */
#define FLT_TRUE_MIN_D 1.401298464324817e-45   /* smallest positive float32 */

/* ---- shared numbers ---- */

double gs_report_log10_ratio(const double *g, int n_layers)
{
    if (!g || n_layers < 2) return NAN;
    double a = g[0], b = g[n_layers - 1];
    if (isnan(a) || isnan(b) || isinf(a) || isinf(b) || a < 0 || b <= 0) return NAN;
    if (a == 0.0) return -INFINITY;
    return log10(a / b);
}

int gs_report_count_zero(const double *g, int n_layers)
{
    int z = 0;
    for (int i = 0; g && i < n_layers; i++) z += g[i] == 0.0;
    return z;
}

double gs_report_mean_finite(const double *x, int n)
{
    double sum = 0.0;
    int k = 0;
    for (int i = 0; x && i < n; i++)
        if (isfinite(x[i])) { sum += x[i]; k++; }
    return k ? sum / k : NAN;
}

int gs_report_find(const gs_study *s, const char *act, int residual, const char *norm, int depth)
{
    int near = -1;
    for (int i = 0; i < s->n_runs; i++) {
        const gs_study_run *r = &s->runs[i];
        if (strcmp(r->act, act) || (r->skip > 0) != (residual != 0) || strcmp(r->norm, norm))
            continue;
        if (r->depth == depth) return i;
        if (r->skip > 0 && near < 0 && r->depth == depth - depth % r->skip) near = i;
    }
    return near;
}

int gs_report_find_conv(const gs_study *s, const char *family, int depth)
{
    for (int i = 0; s && i < s->n_conv_runs; i++)
        if (s->conv_runs[i].depth == depth &&
            strncmp(s->conv_runs[i].family, family, sizeof s->conv_runs[i].family) == 0)
            return i;
    return -1;
}

/* ---- text helpers ---- */

static void cat(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void cat(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

/* v as "3.2×10⁻⁴³" (UTF-8 superscripts), or plainly near 1. */
static const char *sci(char *b, size_t n, double v)
{
    static const char *const sup[10] = {
        "\xe2\x81\xb0", "\xc2\xb9", "\xc2\xb2", "\xc2\xb3", "\xe2\x81\xb4",
        "\xe2\x81\xb5", "\xe2\x81\xb6", "\xe2\x81\xb7", "\xe2\x81\xb8", "\xe2\x81\xb9"};
    if (isnan(v)) { snprintf(b, n, "n/a"); return b; }
    if (v == 0.0) { snprintf(b, n, "0"); return b; }
    double a = fabs(v);
    if (a >= 0.01 && a < 1000.0) { snprintf(b, n, "%.3g", v); return b; }
    int e = (int)floor(log10(a));
    double m = v / pow(10.0, e);
    if (fabs(m) >= 9.95) { m /= 10.0; e++; }
    snprintf(b, n, "%.1f\xc3\x97" "10%s", m, e < 0 ? "\xe2\x81\xbb" : "");
    char digits[16];
    snprintf(digits, sizeof digits, "%d", e < 0 ? -e : e);
    for (const char *d = digits; *d; d++) cat(b, n, "%s", sup[*d - '0']);
    return b;
}

/* "a", "a and b", "a, b and c" */
static const char *join(char *b, size_t n, const char *const *names, int k)
{
    b[0] = '\0';
    for (int i = 0; i < k; i++)
        cat(b, n, "%s%s", i == 0 ? "" : i == k - 1 ? " and " : ", ", names[i]);
    return b;
}

static const char *pct(char *b, size_t n, double v)
{
    if (isnan(v)) snprintf(b, n, "n/a");
    else snprintf(b, n, "%.1f%%", 100.0 * v);
    return b;
}

static gs_report_claim *claim(gs_report_text *out, const char *topic)
{
    if (out->n_claims >= GS_REPORT_MAX_CLAIMS) return NULL;
    gs_report_claim *c = &out->claims[out->n_claims++];
    snprintf(c->topic, sizeof c->topic, "%s", topic);
    c->text[0] = '\0';
    return c;
}

static const char *gs_arch_name_text(int residual, int batch_norm)
{
    if (!residual) return batch_norm ? "plain + batch norm" : "plain";
    return batch_norm ? "residual + batch norm" : "residual";
}

#define CT(c, ...) cat((c)->text, sizeof (c)->text, __VA_ARGS__)

/* ---- the study's shape ---- */

typedef struct facts {
    const gs_study *s;
    int n_acts;
    const char *acts[GS_MAX_ACTS];   /* distinct activations, study order */
    int d_plain_lo, d_plain_hi;   /* shallowest / deepest depth with a plain no-norm run */
    int d_res_hi;                 /* deepest depth with a residual run */
} facts;

static const gs_study_run *run(const facts *F, const char *act, int res, const char *norm, int d)
{
    int i = gs_report_find(F->s, act, res, norm, d);
    return i < 0 ? NULL : &F->s->runs[i];
}

static double ratio_init(const gs_study_run *r)
{
    return r ? gs_report_log10_ratio(r->grad_norm_init, r->n_layers) : NAN;
}

static double ratio_end(const gs_study_run *r)
{
    return r ? gs_report_log10_ratio(r->grad_norm_end, r->n_layers) : NAN;
}

/* The first/last ratio of g (n_layers) as text, e.g. "3.2×10⁻⁴³ (42.5 orders
 * of magnitude)". */
static const char *grad_ratio_text(char *b, size_t n, const double *g, int n_layers)
{
    double L = gs_report_log10_ratio(g, n_layers);
    char v[48];
    if (isnan(L)) snprintf(b, n, "not measured");
    else if (isinf(L))
        snprintf(b, n, "exactly 0 (more than %.0f orders of magnitude: %d of %d layers get 0.0 "
                       "in float32)", floor(log10(g[n_layers - 1] / FLT_TRUE_MIN_D)),
                 gs_report_count_zero(g, n_layers), n_layers);
    else {
        snprintf(b, n, "%s (%.1f order%s of magnitude)", sci(v, sizeof v, pow(10.0, L)),
                 fabs(L), fabs(L) >= 0.95 && fabs(L) < 1.05 ? "" : "s");
        int z = gs_report_count_zero(g, n_layers);
        if (z) cat(b, n, "; %d of %d layers get exactly 0.0", z, n_layers);
    }
    return b;
}

static const char *ratio_text(char *b, size_t n, const gs_study_run *r, int at_init)
{
    return grad_ratio_text(b, n, at_init ? r->grad_norm_init : r->grad_norm_end, r->n_layers);
}

static void collect(facts *F, const gs_study *s)
{
    memset(F, 0, sizeof *F);
    F->s = s;
    F->d_plain_lo = F->d_plain_hi = F->d_res_hi = -1;
    /* the study's three first, in the order of the question */
    static const char *const order[] = {"sigmoid", "tanh", "relu"};
    for (size_t k = 0; k < 3; k++)
        for (int i = 0; i < s->n_runs; i++)
            if (strcmp(s->runs[i].act, order[k]) == 0) { F->acts[F->n_acts++] = order[k]; break; }
    for (int i = 0; i < s->n_runs && F->n_acts < GS_MAX_ACTS; i++) {
        int seen = 0;
        for (int a = 0; a < F->n_acts; a++) seen |= strcmp(F->acts[a], s->runs[i].act) == 0;
        if (!seen) F->acts[F->n_acts++] = s->runs[i].act;
    }
    for (int i = 0; i < s->n_runs; i++) {
        const gs_study_run *r = &s->runs[i];
        if (r->skip == 0 && strcmp(r->norm, "none") == 0) {
            if (F->d_plain_hi < 0 || r->depth > F->d_plain_hi) F->d_plain_hi = r->depth;
            if (F->d_plain_lo < 0 || r->depth < F->d_plain_lo) F->d_plain_lo = r->depth;
        }
        if (r->skip > 0 && r->depth > F->d_res_hi) F->d_res_hi = r->depth;
    }
}

/* ---- the claims ---- */

static void claim_vanishing(const facts *F, gs_report_text *out, int *vanish_mask)
{
    int D = F->d_plain_hi, d0 = F->d_plain_lo;
    gs_report_claim *c = claim(out, "vanishing");
    if (!c) return;
    CT(c, "At initialisation, in the plain %d-layer nets without normalisation, the first "
          "layer's gradient norm relative to the last layer's (\xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82W"
          "\xe2\x80\x96 of the stem over the head) is: ", D);
    int listed = 0, n_vanish = 0, n_explode = 0;
    const char *vanish[GS_MAX_ACTS];
    char names[160], grow[300] = "";
    for (int a = 0; a < F->n_acts; a++) {
        const gs_study_run *r = run(F, F->acts[a], 0, "none", D);
        if (!r) continue;
        char rt[200];
        double L = ratio_init(r);
        CT(c, "%s%s %s", listed ? "; " : "", r->act, ratio_text(rt, sizeof rt, r, 1));
        listed++;
        if (L < -VANISH_ORDERS) {
            vanish[n_vanish++] = r->act;
            *vanish_mask |= 1 << a;
            const gs_study_run *r0 = d0 < D ? run(F, F->acts[a], 0, "none", d0) : NULL;
            double L0 = ratio_init(r0);
            if (r0 && !isnan(L0) && (isinf(L) || fabs(L) > fabs(L0) + 1.0))
                cat(grow, sizeof grow, "%s%.1f orders at depth %d for %s", grow[0] ? ", " : "",
                    fabs(L0), d0, r->act);
        } else if (L > VANISH_ORDERS) {
            n_explode++;
        }
    }
    CT(c, ". ");
    if (n_vanish) {
        CT(c, "The gradient vanishes toward the input for %s (more than %.0f orders of magnitude "
              "between the first and the last layer)", join(names, sizeof names, vanish, n_vanish),
           VANISH_ORDERS);
        if (grow[0]) CT(c, ", and the attenuation grows with depth (from %s)", grow);
        CT(c, ".");
    } else {
        CT(c, "None of these activations makes the gradient vanish at depth %d: every first/last "
              "ratio stays within %.0f orders of magnitude.", D, VANISH_ORDERS);
    }
    if (n_explode) CT(c, " %d configuration%s instead grow%s toward the input (explode).",
                      n_explode, n_explode > 1 ? "s" : "", n_explode > 1 ? "" : "s");
}

static void claim_relu(const facts *F, gs_report_text *out)
{
    int D = F->d_plain_hi;
    const gs_study_run *r = run(F, "relu", 0, "none", D);
    if (!r) return;
    double L = ratio_init(r);
    if (isnan(L)) return;
    double worst_sat = NAN;
    const char *worst = NULL;
    static const char *const sat[] = {"sigmoid", "tanh"};
    for (int k = 0; k < 2; k++) {
        double Ls = ratio_init(run(F, sat[k], 0, "none", D));
        if (!isnan(Ls) && (isnan(worst_sat) || fabs(Ls) > fabs(worst_sat))) {
            worst_sat = Ls;
            worst = sat[k];
        }
    }
    gs_report_claim *c = claim(out, "relu");
    if (!c) return;
    char rt[200];
    ratio_text(rt, sizeof rt, r, 1);
    if (fabs(L) <= HEALTHY_ORDERS)
        CT(c, "ReLU cures it at initialisation: in the plain %d-layer ReLU net the first/last "
              "ratio is %s, within one order of magnitude", D, rt);
    else if (!isnan(worst_sat) && fabs(L) < fabs(worst_sat) - 1.0)
        CT(c, "ReLU reduces the attenuation but does not cure it: the plain %d-layer ReLU net's "
              "first/last ratio is %s", D, rt);
    else
        CT(c, "ReLU does not cure it here: the plain %d-layer ReLU net's first/last ratio is %s",
           D, rt);
    if (worst) {
        char v[200];
        CT(c, ", against %s for %s", ratio_text(v, sizeof v, run(F, worst, 0, "none", D), 1), worst);
    }
    double Le = ratio_end(r);
    if (!isnan(Le)) {
        char v[200];
        CT(c, "; after training it is %s", ratio_text(v, sizeof v, r, 0));
    }
    CT(c, ".");
}

/* Mean and worst layer of a fraction; 0 when none is finite. */
static int frac_stats(const gs_study_run *r, const double *x, double *mean, double *max, int *at)
{
    *mean = gs_report_mean_finite(x, r->n_layers);
    *max = NAN;
    *at = -1;
    for (int i = 0; x && i < r->n_layers; i++)
        if (isfinite(x[i]) && (isnan(*max) || x[i] > *max)) { *max = x[i]; *at = i; }
    return !isnan(*mean);
}

static void claim_dead(const facts *F, gs_report_text *out)
{
    int D = F->d_plain_hi > F->d_res_hi ? F->d_plain_hi : F->d_res_hi;
    static const struct { int res; const char *norm; } arch[4] = {
        {0, "none"}, {0, "batch"}, {1, "none"}, {1, "batch"}};
    gs_report_claim *c = NULL;
    int listed = 0;
    double worst = 0.0;
    for (int k = 0; k < 4; k++) {
        const gs_study_run *r = run(F, "relu", arch[k].res, arch[k].norm, D);
        double mean, max;
        int at;
        if (!r || !frac_stats(r, r->dead_fraction, &mean, &max, &at)) continue;
        if (!c) {
            c = claim(out, "dead_units");
            if (!c) return;
            CT(c, "The cost of ReLU in dead units (no positive pre-activation on any evaluation "
                  "sample) at the end of training, %d layers, mean over layers: ", D);
        }
        char m[16], x[16];
        CT(c, "%s%s %s (worst layer %d: %s)", listed ? "; " : "",
           gs_arch_name_text(arch[k].res, strcmp(arch[k].norm, "batch") == 0),
           pct(m, sizeof m, mean), at, pct(x, sizeof x, max));
        if (mean > worst) worst = mean;
        listed++;
    }
    if (!c) return;
    if (worst < 0.01) CT(c, ". The cost is small here: under 1%% of units die in any architecture.");
    else if (worst < 0.10) CT(c, ". A modest cost: at most %.1f%% of units on average.", 100 * worst);
    else CT(c, ". A real cost: up to %.1f%% of the units no longer learn.", 100 * worst);
}

static void claim_saturation(const facts *F, gs_report_text *out)
{
    int D = F->d_plain_hi;
    gs_report_claim *c = NULL;
    static const char *const sat[] = {"sigmoid", "tanh"};
    for (int k = 0; k < 2; k++) {
        const gs_study_run *p = run(F, sat[k], 0, "none", D), *q = run(F, sat[k], 1, "none", D);
        double mp, xp, mq, xq;
        int ap, aq;
        int hp = p && frac_stats(p, p->saturated_fraction, &mp, &xp, &ap);
        int hq = q && frac_stats(q, q->saturated_fraction, &mq, &xq, &aq);
        if (!hp && !hq) continue;
        if (!c) {
            c = claim(out, "saturation");
            if (!c) return;
            CT(c, "Saturation at the end of training (unit-samples whose derivative is below 5%% "
                  "of the maximum), %d layers: ", D);
        } else {
            CT(c, "; ");
        }
        char a[16], b[16];
        CT(c, "%s", sat[k]);
        if (hp) CT(c, " plain %s (worst layer %d: %s)", pct(a, sizeof a, mp), ap, pct(b, sizeof b, xp));
        if (hp && hq) CT(c, ",");
        if (hq) CT(c, " residual %s", pct(a, sizeof a, mq));
    }
    if (c) CT(c, ".");
}

static void claim_residual(const facts *F, gs_report_text *out)
{
    int D = F->d_res_hi;
    if (D < 0) return;
    gs_report_claim *c = claim(out, "residual");
    if (!c) return;
    CT(c, "With identity skip connections (residual, %d layers) the first/last ratio at "
          "initialisation is: ", D);
    int within = 0, total = 0;
    char outside[300] = "";
    for (int a = 0; a < F->n_acts; a++) {
        for (int bn = 0; bn < 2; bn++) {
            const gs_study_run *r = run(F, F->acts[a], 1, bn ? "batch" : "none", D);
            double L = ratio_init(r);
            if (!r || isnan(L)) continue;
            char v[48];
            CT(c, "%s%s%s %s", total ? "; " : "", r->act, bn ? " + BN" : "",
               isinf(L) ? "0" : sci(v, sizeof v, pow(10.0, L)));
            total++;
            if (fabs(L) <= HEALTHY_ORDERS) within++;
            else cat(outside, sizeof outside, "%s%s%s (%.1f orders)", outside[0] ? ", " : "",
                     r->act, bn ? " + BN" : "", isinf(L) ? 99.0 : fabs(L));
        }
    }
    if (!total) { out->n_claims--; return; }
    if (within == total)
        CT(c, ". All %d residual configurations keep it within one order of magnitude: the skip "
              "connections carry the gradient to the first layer undiminished.", total);
    else if (within)
        CT(c, ". %d of %d stay within one order of magnitude; not %s.", within, total, outside);
    else
        CT(c, ". None stays within one order of magnitude (%s).", outside);
}

static void claim_batchnorm(const facts *F, gs_report_text *out)
{
    int D = F->d_plain_hi;
    gs_report_claim *c = NULL;
    int n = 0, healthy = 0;
    for (int a = 0; a < F->n_acts; a++) {
        const gs_study_run *b = run(F, F->acts[a], 0, "batch", D);
        double L = ratio_init(b);
        if (!b || isnan(L)) continue;
        if (!c) {
            c = claim(out, "batch_norm");
            if (!c) return;
            CT(c, "Batch norm without skip connections (plain + BN, %d layers), first/last ratio at "
                  "initialisation: ", D);
        }
        char v[200];
        CT(c, "%s%s %s", n ? "; " : "", b->act, ratio_text(v, sizeof v, b, 1));
        const gs_study_run *p = run(F, F->acts[a], 0, "none", D);
        double Lp = ratio_init(p);
        if (isinf(Lp)) CT(c, " (without BN: first layer exactly 0)");
        else if (!isnan(Lp)) CT(c, " (without BN: %.1f orders)", fabs(Lp));
        n++;
        healthy += fabs(L) <= HEALTHY_ORDERS;
    }
    if (!c) return;
    if (healthy == n) CT(c, ". Batch norm alone keeps every plain net within one order of magnitude.");
    else if (healthy) CT(c, ". Batch norm alone keeps %d of %d plain nets within one order of magnitude.",
                         healthy, n);
    else CT(c, ". Batch norm alone does not keep any plain net within one order of magnitude.");
}

static void claim_accuracy(const facts *F, gs_report_text *out)
{
    int D = F->d_plain_hi > F->d_res_hi ? F->d_plain_hi : F->d_res_hi;
    gs_report_claim *c = claim(out, "accuracy");
    if (!c) return;
    CT(c, "Test accuracy at %d layers: ", D);
    const gs_study_run *best = NULL;
    int listed = 0;
    double chance = F->s->n_classes > 0 ? 1.0 / F->s->n_classes : NAN;
    char at_chance[200] = "";
    for (int a = 0; a < F->n_acts; a++) {
        int first = 1;
        for (int k = 0; k < 4; k++) {
            const gs_study_run *r = run(F, F->acts[a], k >= 2, k & 1 ? "batch" : "none", D);
            if (!r || isnan(r->test_acc)) continue;
            char v[16];
            if (first) CT(c, "%s%s: ", listed ? "; " : "", r->act);
            CT(c, "%s%s %s", first ? "" : ", ", gs_arch_name_text(k >= 2, k & 1),
               pct(v, sizeof v, r->test_acc));
            first = 0;
            listed++;
            if (!best || r->test_acc > best->test_acc) best = r;
            if (!isnan(chance) && r->test_acc < chance + 0.02)
                cat(at_chance, sizeof at_chance, "%s%s %s", at_chance[0] ? ", " : "", r->act,
                    gs_arch_name_text(k >= 2, k & 1));
        }
    }
    if (!best) { out->n_claims--; return; }
    char v[16];
    CT(c, ". Best: %s %s at %s.", best->act,
       gs_arch_name_text(best->skip > 0, strcmp(best->norm, "batch") == 0),
       pct(v, sizeof v, best->test_acc));
    if (at_chance[0]) CT(c, " At chance level (%s): %s.", pct(v, sizeof v, chance), at_chance);
}

/* He et al. 2015: a plain net with batch norm has healthy gradients yet trains worse. */
static void claim_he(const facts *F, gs_report_text *out)
{
    int D = F->d_plain_hi;
    gs_report_claim *c = claim(out, "degradation");
    if (!c) return;
    int supported = 0, tested = 0;
    char found[600] = "";
    for (int a = 0; a < F->n_acts; a++) {
        const gs_study_run *p = run(F, F->acts[a], 0, "batch", D);
        const gs_study_run *r = run(F, F->acts[a], 1, "batch", D);
        if (!r) r = run(F, F->acts[a], 1, "none", D);
        if (!p || !r || isnan(p->test_acc) || isnan(r->test_acc)) continue;
        double Li = ratio_init(p), Le = ratio_end(p);
        int zeros = gs_report_count_zero(p->grad_norm_init, p->n_layers) +
                    gs_report_count_zero(p->grad_norm_end, p->n_layers);
        int healthy = !isnan(Li) && fabs(Li) <= HEALTHY_ORDERS && zeros == 0 &&
                      (isnan(Le) || fabs(Le) <= HEALTHY_ORDERS);
        double gap = 100.0 * (r->test_acc - p->test_acc);
        char a1[16], a2[16], v1[48], v2[48];
        tested++;
        if (healthy && gap >= WORSE_PP) {
            if (!supported)
                CT(c, "He et al. (2015)'s point holds on these runs: ");
            else
                CT(c, " Likewise ");
            CT(c, "the plain %d-layer %s net with batch norm has healthy gradient norms (first/last "
                  "%s at initialisation, %s at the end, within one order of magnitude, no layer at 0) "
                  "yet reaches %s test accuracy against %s for the %s %s net (%.1f points lower",
               D, p->act, sci(v1, sizeof v1, pow(10.0, Li)),
               isnan(Le) ? "n/a" : sci(v2, sizeof v2, pow(10.0, Le)),
               pct(a1, sizeof a1, p->test_acc), pct(a2, sizeof a2, r->test_acc),
               gs_arch_name_text(1, strcmp(r->norm, "batch") == 0), r->act, gap);
            if (!isnan(p->train_acc) && !isnan(r->train_acc))
                CT(c, "; training accuracy %s vs %s", pct(a1, sizeof a1, p->train_acc),
                   pct(a2, sizeof a2, r->train_acc));
            CT(c, ").");
            supported++;
        } else {
            cat(found, sizeof found, "%s%s plain + BN %s with %s gradients (first/last %s at init) "
                "vs residual %s", found[0] ? "; " : "", p->act, pct(a1, sizeof a1, p->test_acc),
                healthy ? "healthy" : "unhealthy",
                isnan(Li) ? "n/a" : isinf(Li) ? "0" : sci(v1, sizeof v1, pow(10.0, Li)),
                pct(a2, sizeof a2, r->test_acc));
        }
    }
    if (supported)
        CT(c, " Healthy gradient norms are therefore not sufficient: the residual form is easier "
              "to optimise.");
    if (!tested) {
        CT(c, "He et al. (2015)'s comparison (plain net with batch norm against the residual net) "
              "cannot be made: the study has no plain + batch norm and residual pair at %d layers.", D);
    } else if (!supported) {
        CT(c, "He et al. (2015)'s point - healthy gradient norms in a plain net with batch norm, "
              "yet worse training than the residual net - is not borne out by these runs at %d "
              "layers. Found instead: %s.", D, found);
    } else if (found[0]) {
        CT(c, " Not for the others: %s.", found);
    }
}

static void claim_depth(const facts *F, gs_report_text *out)
{
    int d0 = F->d_plain_lo, D = F->d_plain_hi;
    if (d0 < 0 || d0 == D) return;
    const char *act = NULL;
    for (int a = 0; a < F->n_acts && !act; a++)
        if (strcmp(F->acts[a], "relu") == 0) act = F->acts[a];
    if (!act && F->n_acts) act = F->acts[0];
    const gs_study_run *p0 = run(F, act, 0, "none", d0), *p1 = run(F, act, 0, "none", D);
    if (!p0 || !p1 || isnan(p0->test_acc) || isnan(p1->test_acc)) return;
    gs_report_claim *c = claim(out, "depth");
    if (!c) return;
    char a[16], b[16];
    double drop = 100.0 * (p0->test_acc - p1->test_acc);
    CT(c, "From %d to %d layers the plain %s net's test accuracy goes from %s to %s (%s%.1f "
          "points)", d0, D, act, pct(a, sizeof a, p0->test_acc), pct(b, sizeof b, p1->test_acc),
       drop >= 0 ? "\xe2\x88\x92" : "+", fabs(drop));
    const gs_study_run *r0 = run(F, act, 1, "none", d0), *r1 = run(F, act, 1, "none", D);
    if (r0 && r1 && !isnan(r0->test_acc) && !isnan(r1->test_acc)) {
        double dr = 100.0 * (r0->test_acc - r1->test_acc);
        CT(c, "; the residual %s net's from %s to %s (%s%.1f points)", act,
           pct(a, sizeof a, r0->test_acc), pct(b, sizeof b, r1->test_acc),
           dr >= 0 ? "\xe2\x88\x92" : "+", fabs(dr));
        if (drop >= WORSE_PP && dr < drop - WORSE_PP)
            CT(c, ". Depth hurts the plain net and not (or much less) the residual one");
    }
    CT(c, ".");
}

/* ---- the convolutional part: He et al. 2015, Fig. 1 ---- */

#define DEGRADE_PP 1.0       /* training-error gap (percentage points) that counts as higher */

/* The shallowest and deepest conv net of each family ([0] plain, [1] resnet);
 * the first run of a family and depth counts, as gs_report_find_conv. */
typedef struct conv_facts {
    const gs_study_conv_run *lo[2], *hi[2];
} conv_facts;

static void conv_collect(conv_facts *C, const gs_study *s)
{
    static const char *const family[2] = {"plain", "resnet"};
    memset(C, 0, sizeof *C);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < s->n_conv_runs; i++) {
            const gs_study_conv_run *r = &s->conv_runs[i];
            if (strncmp(r->family, family[k], sizeof r->family)) continue;
            if (!C->lo[k] || r->depth < C->lo[k]->depth) C->lo[k] = r;
            if (!C->hi[k] || r->depth > C->hi[k]->depth) C->hi[k] = r;
        }
}

/* Final training error of the deeper net minus the shallower one's, in
 * points; NAN when the family lacks two depths or an error. */
static double conv_gap(const conv_facts *C, int k)
{
    const gs_study_conv_run *a = C->lo[k], *b = C->hi[k];
    if (!a || a == b || isnan(a->train_err) || isnan(b->train_err)) return NAN;
    return 100.0 * (b->train_err - a->train_err);
}

static const char *conv_name(char *b, size_t n, const gs_study_conv_run *r)
{
    snprintf(b, n, "%s-%d", r->family, r->depth);
    return b;
}

/* "plain-56's training error is 5.0 points higher than plain-20's" */
static void gap_sentence(gs_report_claim *c, const conv_facts *C, int k, double gap)
{
    char a[24], b[24];
    CT(c, "%s's training error is ", conv_name(b, sizeof b, C->hi[k]));
    if (fabs(gap) >= DEGRADE_PP) CT(c, "%.1f points %s than", fabs(gap), gap > 0 ? "higher" : "lower");
    else CT(c, "within %.0f point (%+.1f) of", DEGRADE_PP, gap);
    CT(c, " %s's", conv_name(a, sizeof a, C->lo[k]));
}

static void claim_conv(const conv_facts *C, gs_report_text *out)
{
    if (!C->lo[0] && !C->lo[1]) return;
    gs_report_claim *c = claim(out, "conv_degradation");
    if (!c) return;
    CT(c, "Convolutional nets, final training error:");
    int listed = 0, steps = -1, same = 1;
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 2; j++) {
            const gs_study_conv_run *r = j ? C->hi[k] : C->lo[k];
            if (!r || (j && r == C->lo[k])) continue;
            char v[16], nm[24];
            CT(c, "%s %s %s", listed++ ? "," : "", conv_name(nm, sizeof nm, r),
               pct(v, sizeof v, r->train_err));
            same &= steps < 0 || r->steps == steps;
            steps = r->steps;
        }
    if (same) CT(c, ", after %d steps each", steps);
    else CT(c, " (different step counts: see the table)");
    CT(c, ". ");
    double gp = conv_gap(C, 0), gr = conv_gap(C, 1);
    if (isnan(gp)) {
        CT(c, "He et al.'s degradation cannot be tested: the study has %s. ", C->lo[0]
           ? "a single plain depth (or no measured training error)" : "no plain net");
    } else {
        gap_sentence(c, C, 0, gp);
        if (gp >= DEGRADE_PP)
            CT(c, ": this is He et al.'s degradation - the deeper plain net fits its own training "
                  "data worse (optimisation, not overfitting). ");
        else
            CT(c, ": He et al.'s degradation (a deeper plain net with a higher training error) did "
                  "not appear within the %d steps used (He et al. trained for 64k iterations). ",
               C->hi[0]->steps);
    }
    if (!isnan(gr)) {
        gap_sentence(c, C, 1, gr);
        if (gr >= DEGRADE_PP) CT(c, ": the residual nets degrade as well here. ");
        else if (gp >= DEGRADE_PP) CT(c, ": the residual form removes the degradation, as in He et al. ");
        else CT(c, ". ");
    }
    const gs_study_conv_run *p = C->hi[0], *r = C->hi[1];
    double Lp = p ? gs_report_log10_ratio(p->grad_norm_init, p->n_layers) : NAN;
    double Lr = r ? gs_report_log10_ratio(r->grad_norm_init, r->n_layers) : NAN;
    if (!isnan(Lp) || !isnan(Lr)) {
        char v[200], nm[24];
        CT(c, "At initialisation the first/last gradient-norm ratio (conv.weight over fc.weight) "
              "is ");
        if (!isnan(Lp))
            CT(c, "%s in %s", grad_ratio_text(v, sizeof v, p->grad_norm_init, p->n_layers),
               conv_name(nm, sizeof nm, p));
        if (!isnan(Lr))
            CT(c, "%s%s in %s", isnan(Lp) ? "" : " and ",
               grad_ratio_text(v, sizeof v, r->grad_norm_init, r->n_layers),
               conv_name(nm, sizeof nm, r));
        if (isnan(Lp)) CT(c, ".");
        else if (Lp < -VANISH_ORDERS)
            CT(c, ": the deep plain net's gradient vanishes toward the input%s.", gp >= DEGRADE_PP
               ? ", so here the degradation comes with a vanishing gradient" : "");
        else if (fabs(Lp) <= HEALTHY_ORDERS)
            CT(c, ": the deep plain net's gradient does not vanish%s.", gp >= DEGRADE_PP
               ? ", so its higher training error is not a vanishing-gradient effect, as He et al. "
                 "argued" : "");
        else if (Lp > VANISH_ORDERS)
            CT(c, ": the deep plain net's gradient grows toward the input (explodes).");
        else
            CT(c, ": the deep plain net's gradient is attenuated toward the input, but by less than "
                  "%.0f orders of magnitude.", VANISH_ORDERS);
    }
}

/* ---- the ensemble part (Veit et al. 2016) ---- */

static int argmax_finite(const double *x, int n)
{
    int at = -1;
    for (int i = 0; x && i < n; i++)
        if (isfinite(x[i]) && (at < 0 || x[i] > x[at])) at = i;
    return at;
}

static void mean_worst(const double *x, int n, double *mean, double *worst, int *at)
{
    *mean = gs_report_mean_finite(x, n);
    *at = argmax_finite(x, n);
    *worst = *at >= 0 ? x[*at] : NAN;
}

void gs_ens_facts_get(const gs_study_ensemble *e, gs_ens_facts *F)
{
    memset(F, 0, sizeof *F);
    F->half_share = NAN;
    F->exact_peak = F->veit_peak = F->single_worst_at = F->plain_single_worst_at = -1;
    F->single_mean = F->single_worst = F->plain_single_mean = F->plain_single_worst = NAN;
    if (!e || e->blocks < 1 || !e->exact_norm || !e->count_fraction || !e->single_err ||
        e->half_lo < 0 || e->half_lo > e->half_hi || e->half_hi > e->blocks || e->plain_depth < 0)
        return;
    F->valid = 1;
    int n = e->blocks;
    double tot = 0.0, in = 0.0;
    for (int k = 0; k <= n; k++) {
        double v = e->exact_norm[k];
        if (!isfinite(v)) continue;
        tot += v;
        if (k >= e->half_lo && k <= e->half_hi) in += v;
    }
    if (tot > 0.0) F->half_share = in / tot;
    F->exact_peak = argmax_finite(e->exact_norm, n + 1);
    F->veit_peak = argmax_finite(e->veit_total, n + 1);
    mean_worst(e->single_err, n, &F->single_mean, &F->single_worst, &F->single_worst_at);
    mean_worst(e->plain_single_err, e->plain_depth, &F->plain_single_mean, &F->plain_single_worst,
               &F->plain_single_worst_at);
}

void gs_ens_claim_text(const gs_study_ensemble *e, const gs_ens_facts *F, int interpret, char *b,
                       size_t n)
{
    b[0] = '\0';
    if (!F->valid) return;
    char v[4][16];
    cat(b, n, "Half of the gradient at the first block's input of the trained %d-block residual "
              "net comes from paths through %d\xe2\x80\x93%d branches", e->blocks, e->half_lo,
        e->half_hi);
    if (!isnan(F->half_share))
        cat(b, n, " (%.0f%% of \xce\xa3\xe2\x80\x96g\xe2\x81\xbd\xe1\xb5\x8f\xe2\x81\xbe"
                  "\xe2\x80\x96)", 100.0 * F->half_share);
    cat(b, n, ", while the typical path passes %g (n/2)", e->blocks / 2.0);
    if (F->veit_peak >= 0) cat(b, n, "; Veit's estimate peaks at k = %d", F->veit_peak);
    else cat(b, n, "; Veit's estimate was not computed");
    cat(b, n, ". ");
    if (!isnan(F->single_mean))
        cat(b, n, "Deleting one block raises its error from %s to %s on average (worst %s, block "
                  "%d)", pct(v[0], sizeof v[0], e->base_err), pct(v[1], sizeof v[1], F->single_mean),
            pct(v[2], sizeof v[2], F->single_worst), F->single_worst_at);
    else
        cat(b, n, "The single-block lesion was not measured");
    if (!isnan(F->plain_single_mean))
        cat(b, n, ", deleting one layer of the plain net raises it from %s to %s (worst %s)",
            pct(v[0], sizeof v[0], e->plain_base_err), pct(v[1], sizeof v[1], F->plain_single_mean),
            pct(v[3], sizeof v[3], F->plain_single_worst));
    cat(b, n, ".");
    if (!interpret) return;
    double dr = F->single_mean - e->base_err, dp = F->plain_single_mean - e->plain_base_err;
    if (isfinite(dr) && isfinite(dp) && dp > 0.0) {
        if (dr < 0.5 * dp)
            cat(b, n, " The residual net degrades smoothly, as an ensemble of paths would "
                      "(Veit et al. 2016), while the plain net breaks.");
        else
            cat(b, n, " The residual net is not much more robust to a deleted block than the plain "
                      "net is to a deleted layer here.");
    }
    if (e->half_hi < e->blocks / 2.0)
        cat(b, n, " The gradient comes from paths shorter than the typical one, as Veit et al. "
                  "found.");
}

static void claim_ensemble(const gs_study *s, gs_report_text *out)
{
    gs_ens_facts F;
    gs_ens_facts_get(s->ensemble, &F);
    if (!F.valid) return;
    gs_report_claim *c = claim(out, "ensemble");
    if (c) gs_ens_claim_text(s->ensemble, &F, 1, c->text, sizeof c->text);
}

/* ---- the norm-preservation part (Zaeemzadeh et al. 2018) ---- */

#define NR_NEAR 0.05         /* |ratio - 1| under this: the norm is preserved */

double gs_nr_mean(const gs_study_nr_series *S, int d, int transition)
{
    double sum = 0.0;
    int n = 0;
    if (!S || d < 0 || d >= S->n_depths || !S->ratio[d]) return NAN;
    for (int b = 0; b < S->blocks[d]; b++) {
        int t = S->transition[d] ? S->transition[d][b] != 0 : 0;
        if (t != transition || !isfinite(S->ratio[d][b])) continue;
        sum += S->ratio[d][b];
        n++;
    }
    return n ? sum / n : NAN;
}

/* Mean ratio of the transition blocks over every depth of S (NAN: none), their count. */
static double nr_transition_mean(const gs_study_nr_series *S, int *count)
{
    double sum = 0.0;
    int n = 0;
    for (int d = 0; d < S->n_depths; d++)
        for (int b = 0; S->ratio[d] && S->transition[d] && b < S->blocks[d]; b++)
            if (S->transition[d][b] && isfinite(S->ratio[d][b])) { sum += S->ratio[d][b]; n++; }
    *count = n;
    return n ? sum / n : NAN;
}

static void nr_series_text(const gs_study_nr_series *S, int interpret, char *b, size_t n)
{
    int lo = -1, hi = -1;            /* shallowest and deepest depth with an identity-block mean */
    for (int d = 0; d < S->n_depths; d++)
        if (!isnan(gs_nr_mean(S, d, 0))) { if (lo < 0) lo = d; hi = d; }
    int resnet = strcmp(S->family, "resnet") == 0, n_tr = 0;
    if (resnet) cat(b, n, "ResNet (shortcut %c, width %d, %d images): ", S->shortcut ? S->shortcut : 'A',
                    S->width, S->samples);
    else cat(b, n, "Residual MLP (batch norm, skip 2, width %d, %d samples): ", S->width, S->samples);
    if (lo < 0) { cat(b, n, "no identity block has a finite ratio"); }
    else {
        double mlo = gs_nr_mean(S, lo, 0), mhi = gs_nr_mean(S, hi, 0);
        cat(b, n, "the identity blocks' mean ratio is %.2f at depth %d", mlo, S->depths[lo]);
        if (hi != lo) cat(b, n, " and %.2f at depth %d", mhi, S->depths[hi]);
    }
    double tr = nr_transition_mean(S, &n_tr), tlo = INFINITY, thi = -INFINITY;
    for (int d = 0; d < S->n_depths; d++) {
        double m = gs_nr_mean(S, d, 1);
        if (!isfinite(m)) continue;
        if (m < tlo) tlo = m;
        if (m > thi) thi = m;
    }
    if (n_tr) {
        cat(b, n, "; the %d transition block%s average %.2f", n_tr, n_tr == 1 ? "" : "s", tr);
        if (thi > tlo) cat(b, n, " (%.2f\xe2\x80\x93%.2f by depth)", tlo, thi);
    }
    cat(b, n, ".");
    if (!interpret || lo < 0) return;
    double mhi = gs_nr_mean(S, hi, 0), dlo = fabs(gs_nr_mean(S, lo, 0) - 1.0), dhi = fabs(mhi - 1.0);
    if (hi == lo) {
        cat(b, n, " A single depth: no trend with depth can be read.");
    } else if (dhi < dlo) {
        int monotone = 1;
        double prev = dlo;
        for (int d = lo + 1; d <= hi; d++) {
            double m = gs_nr_mean(S, d, 0);
            if (isnan(m)) continue;
            if (fabs(m - 1.0) > prev) monotone = 0;
            prev = fabs(m - 1.0);
        }
        cat(b, n, " The ratio approaches 1 with depth%s%s, as Zaeemzadeh et al. (2018) found.",
            monotone ? "" : " (though not at every depth)",
            dhi < NR_NEAR ? ": on average the deepest net's identity blocks are within 5% of norm "
                            "preservation" : "");
    } else {
        cat(b, n, " The ratio is not closer to 1 at depth %d than at depth %d: no approach to norm "
                  "preservation with depth here.", S->depths[hi], S->depths[lo]);
    }
    double thd = gs_nr_mean(S, hi, 1);
    if (isfinite(thd)) {
        if (fabs(thd - 1.0) > dhi)
            cat(b, n, " At depth %d the transition blocks (%.2f) stay further from 1 than the "
                      "identity blocks (%.2f): changing the shape breaks norm preservation.",
                S->depths[hi], thd, mhi);
        else
            cat(b, n, " At depth %d the transition blocks (%.2f) are no further from 1 than the "
                      "identity blocks (%.2f).", S->depths[hi], thd, mhi);
    }
}

void gs_nr_claim_text(const gs_study_normratio *nr, int interpret, char *b, size_t n)
{
    b[0] = '\0';
    if (!nr) return;
    for (int i = 0; i < nr->n_series && i < 2; i++) {
        if (i) cat(b, n, " ");
        nr_series_text(&nr->series[i], interpret, b, n);
    }
}

static void claim_normratio(const gs_study *s, gs_report_text *out)
{
    const gs_study_normratio *nr = s->normratio;
    if (!nr || nr->n_series < 1) return;
    gs_report_claim *c = claim(out, "norm_preservation");
    if (c) gs_nr_claim_text(nr, 1, c->text, sizeof c->text);
}

/* One sentence of the summary on the conv nets. */
static void summary_conv(const conv_facts *C, char *b, size_t n)
{
    double gp = conv_gap(C, 0), gr = conv_gap(C, 1);
    if (isnan(gp)) return;
    char lo[24], hi[24];
    conv_name(lo, sizeof lo, C->lo[0]);
    conv_name(hi, sizeof hi, C->hi[0]);
    if (gp >= DEGRADE_PP)
        cat(b, n, "Among the convolutional nets, %s ends with a higher training error than %s "
                  "(+%.1f points): He et al.'s degradation%s. ", hi, lo, gp, isnan(gr) ? "" : gr >= DEGRADE_PP
                  ? ", and the residual nets degrade too" : ", which the residual nets do not show");
    else
        cat(b, n, "Among the convolutional nets, %s does not end with a higher training error than "
                  "%s (%+.1f points): no degradation within %d steps. ", hi, lo, gp, C->hi[0]->steps);
}

static void summary(const facts *F, const conv_facts *C, const gs_report_text *t,
                    gs_report_text *out, int vanish_mask)
{
    const gs_study *s = F->s;
    char *b = out->summary;
    size_t n = sizeof out->summary;
    b[0] = '\0';
    const char *data = s->dataset ? s->dataset : "the data set";
    if (s->n_runs)
        cat(b, n, "%d configurations were trained on %s with the same seed and budget (%d steps)",
            s->n_runs, data, s->runs[0].steps);
    else
        cat(b, n, "%d convolutional nets were trained on %s", s->n_conv_runs, data);
    if (s->seconds > 0) cat(b, n, " in %.0f s", s->seconds);
    cat(b, n, ". ");
    int D = F->d_plain_hi;
    if (D >= 0) {
        const char *zero[GS_MAX_ACTS], *orders[GS_MAX_ACTS], *v[GS_MAX_ACTS];
        char text[GS_MAX_ACTS][96], list[600], names[160];
        int nz = 0, no = 0, nv = 0;
        const char *first_dir = " below";
        for (int a = 0; a < F->n_acts; a++) {
            const gs_study_run *r = run(F, F->acts[a], 0, "none", D);
            double L = ratio_init(r);
            if (vanish_mask & (1 << a)) v[nv++] = F->acts[a];
            if (!r || isnan(L)) continue;
            if (isinf(L)) { zero[nz++] = r->act; continue; }
            /* the first item names the direction; later ones only when it changes */
            const char *dir = fabs(L) < 0.05 ? "" : L > 0 ? " above" : " below";
            if (no == 0)
                snprintf(text[no], sizeof text[no], "%.1f orders of magnitude%s the last "
                         "layer's for %s", fabs(L), *dir ? dir : " from", r->act);
            else
                snprintf(text[no], sizeof text[no], "%.1f%s for %s", fabs(L),
                         *dir && strcmp(dir, first_dir) ? dir : "", r->act);
            if (no == 0) first_dir = *dir ? dir : " below";
            orders[no] = text[no];
            no++;
        }
        if (no || nz) {
            cat(b, n, "At initialisation in the plain %d-layer nets, the first layer's gradient is ", D);
            if (no) cat(b, n, "%s", join(list, sizeof list, orders, no));
            if (nz) cat(b, n, "%sexactly 0 for %s", no ? ", and " : "",
                        join(names, sizeof names, zero, nz));
            cat(b, n, ". ");
        }
        if (nv) cat(b, n, "So the gradient vanishes with depth in plain nets for %s; ",
                    join(names, sizeof names, v, nv));
        else cat(b, n, "So no activation makes it vanish in the plain nets here; ");
    }
    int within = 0, total = 0;
    for (int i = 0; i < s->n_runs; i++) {
        const gs_study_run *r = &s->runs[i];
        if (r->skip <= 0 || r->depth != F->d_res_hi) continue;
        double L = ratio_init(r);
        if (isnan(L)) continue;
        total++;
        within += fabs(L) <= HEALTHY_ORDERS;
    }
    if (total) cat(b, n, "with identity skip connections %d of %d residual %d-layer nets keep the "
                         "first layer within one order of magnitude of the last. ",
                   within, total, F->d_res_hi);
    for (int k = 0; k < t->n_claims; k++)
        if (strcmp(t->claims[k].topic, "degradation") == 0) {
            const char *txt = t->claims[k].text;
            cat(b, n, "%s", strncmp(txt, "He et al. (2015)'s point holds", 30) == 0
                                ? "A plain net with batch norm can have healthy gradients and still "
                                  "train worse than the residual net (He et al. 2015). "
                                : "He et al.'s degradation of plain nets with batch norm does not "
                                  "show clearly here. ");
        }
    summary_conv(C, b, n);
    cat(b, n, "Details, with the numbers each claim rests on, below.");
}

int gs_report_conclusion(gs_ctx *ctx, const gs_study *s, gs_report_text *out)
{
    if (!s || !out || s->n_runs < 0 || s->n_conv_runs < 0 || s->n_runs + s->n_conv_runs <= 0 ||
        (s->n_runs && !s->runs) || (s->n_conv_runs && !s->conv_runs))
        return gs_error(ctx, GS_EINVAL, "gs_report_conclusion: empty study (n_runs %d, "
                        "n_conv_runs %d)", s ? s->n_runs : 0, s ? s->n_conv_runs : 0);
    memset(out, 0, sizeof *out);
    facts F;
    collect(&F, s);
    conv_facts C;
    conv_collect(&C, s);
    int vanish_mask = 0;
    if (F.d_plain_hi >= 0) {
        claim_vanishing(&F, out, &vanish_mask);
        claim_relu(&F, out);
        claim_saturation(&F, out);
    }
    claim_dead(&F, out);
    claim_residual(&F, out);
    if (F.d_plain_hi >= 0) claim_batchnorm(&F, out);
    claim_accuracy(&F, out);
    if (F.d_plain_hi >= 0) claim_he(&F, out);
    claim_depth(&F, out);
    claim_conv(&C, out);
    claim_ensemble(s, out);
    claim_normratio(s, out);
    summary(&F, &C, out, out, vanish_mask);
    return GS_OK;
}
