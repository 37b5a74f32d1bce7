/* figures.c - the study report's figures, each one <figure> with an inline SVG
 * chart and a caption (see page.h).
 *
 * Small multiples share their y range along a row so that panels compare at a
 * glance; colour always encodes the activation and dash the architecture
 * (svg.c's gs_act_colour / gs_arch_dash), and every chart carries the same
 * legend.  Heat maps share one colour scale across the whole page.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "page.h"
#include "svg.h"

/* ---- indexing ---- */

void gs_page_index(gs_page *pg, const gs_study *s)
{
    memset(pg, 0, sizeof *pg);
    pg->s = s;
    static const char *const order[] = {"sigmoid", "tanh", "relu"};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < s->n_runs; i++)
            if (strcmp(s->runs[i].act, order[k]) == 0) { pg->acts[pg->n_acts++] = order[k]; break; }
    for (int i = 0; i < s->n_runs; i++) {
        const gs_study_run *r = &s->runs[i];
        int seen = 0;
        for (int a = 0; a < pg->n_acts; a++) seen |= strcmp(pg->acts[a], r->act) == 0;
        if (!seen && pg->n_acts < GS_PAGE_MAX_ACTS) pg->acts[pg->n_acts++] = r->act;
        seen = 0;
        for (int d = 0; d < pg->n_depths; d++) seen |= pg->depths[d] == r->depth;
        if (!seen && pg->n_depths < GS_PAGE_MAX_DEPTHS) {
            int d = pg->n_depths++;
            while (d > 0 && pg->depths[d - 1] > r->depth) { pg->depths[d] = pg->depths[d - 1]; d--; }
            pg->depths[d] = r->depth;
        }
        if (strcmp(r->norm, "none") == 0 || strcmp(r->norm, "batch") == 0)
            pg->has_arch[r->skip > 0][strcmp(r->norm, "batch") == 0] = 1;
    }
    for (int i = 0; i < s->n_conv_runs; i++) {
        int D = s->conv_runs[i].depth, d = pg->n_conv_depths, seen = 0;
        for (int e = 0; e < d; e++) seen |= pg->conv_depths[e] == D;
        if (seen || d == GS_PAGE_MAX_DEPTHS) continue;
        for (; d > 0 && pg->conv_depths[d - 1] > D; d--) pg->conv_depths[d] = pg->conv_depths[d - 1];
        pg->conv_depths[d] = D;
        pg->n_conv_depths++;
    }
    /* a depth held only by residual nets rounded down to whole blocks joins its nominal row */
    for (int d = 0; d < pg->n_depths; d++) {
        int only_rounded = 1;
        for (int i = 0; i < s->n_runs && only_rounded; i++) {
            const gs_study_run *r = &s->runs[i];
            if (r->depth != pg->depths[d]) continue;
            int nominal = 0;
            for (int e = 0; e < pg->n_depths && r->skip > 0; e++)
                nominal |= pg->depths[e] != r->depth &&
                           pg->depths[e] - pg->depths[e] % r->skip == r->depth;
            only_rounded = nominal;
        }
        if (only_rounded) {
            memmove(&pg->depths[d], &pg->depths[d + 1], (size_t)(pg->n_depths - d - 1) * sizeof(int));
            pg->n_depths--;
            d--;
        }
    }
}

int gs_page_row_depth(const gs_page *pg, const gs_study_run *r)
{
    for (int d = 0; d < pg->n_depths; d++)
        if (pg->depths[d] == r->depth) return r->depth;
    for (int d = 0; d < pg->n_depths && r->skip > 0; d++)
        if (pg->depths[d] - pg->depths[d] % r->skip == r->depth) return pg->depths[d];
    return r->depth;
}

/* Whether run r is drawn in the row of nominal depth D. */
static int in_row(const gs_page *pg, const gs_study_run *r, int D)
{
    if (strcmp(r->norm, "none") && strcmp(r->norm, "batch")) return 0;
    return gs_page_run(pg, r->act, r->skip > 0, strcmp(r->norm, "batch") == 0, D) == r;
}

const gs_study_run *gs_page_run(const gs_page *pg, const char *act, int residual, int batch_norm,
                                int depth)
{
    int i = gs_report_find(pg->s, act, residual, batch_norm ? "batch" : "none", depth);
    return i < 0 ? NULL : &pg->s->runs[i];
}

const gs_study_conv_run *gs_page_conv(const gs_page *pg, const char *family, int depth)
{
    int i = gs_report_find_conv(pg->s, family, depth);
    return i < 0 ? NULL : &pg->s->conv_runs[i];
}

const char *gs_page_ramp_colour(int rank)
{
    /* shallow light, deep dark, none of them an activation's colour */
    static const char *const ramp[] = {"#E69F00", "#B2182B", "#5E3C99", "#1B7837", "#2166AC",
                                       "#636363", "#8C510A", "#35978F"};
    return rank < 0 ? "#333333" : ramp[rank % (int)(sizeof ramp / sizeof ramp[0])];
}

const char *gs_page_depth_colour(const gs_page *pg, int depth)
{
    for (int d = 0; d < pg->n_conv_depths; d++)
        if (pg->conv_depths[d] == depth) return gs_page_ramp_colour(d);
    return "#333333";
}

/* ---- shared pieces ---- */

void gs_range_add(gs_range *R, const double *x, int n)
{
    for (int i = 0; x && i < n; i++) {
        if (x[i] == 0.0) { R->zero = 1; continue; }
        if (!isfinite(x[i]) || x[i] < 0) continue;
        double l = log10(x[i]);
        if (!R->any || l < R->lo) R->lo = l;
        if (!R->any || l > R->hi) R->hi = l;
        R->any = 1;
    }
}

gs_axis gs_log_axis(const gs_range *R, double min_decades)
{
    gs_axis a = gs_axis_make(0.0, 1.0, 1, 0);
    if (!R->any) return a;
    a.lo = floor(R->lo + 1e-9);
    a.hi = ceil(R->hi - 1e-9);
    while (a.hi - a.lo < min_decades) { a.lo -= 0.5; a.hi += 0.5; }
    a.lo = floor(a.lo);
    a.hi = ceil(a.hi);
    if (a.hi - a.lo <= 2.0 && min_decades < 2.0) {
        /* a short range (ratios near 1): tighten to the 1-2-5 steps around the data */
        static const double m[3] = {1.0, 2.0, 5.0};
        double lo = a.lo, hi = a.hi;
        for (int k = (int)a.lo; k <= (int)a.hi; k++)
            for (int j = 0; j < 3; j++) {
                double v = log10(m[j]) + k;
                if (v <= R->lo - 0.02 && v > lo) lo = v;
                if (v >= R->hi + 0.02 && v < hi) hi = v;
            }
        a.lo = lo;
        a.hi = hi;
    }
    return a;
}

/* The legend every chart carries: activations by colour, architectures by dash. */
static double std_legend(FILE *f, const gs_page *pg, double y, int residual_only, int zero,
                         const char *ref)
{
    gs_legend_item it[GS_PAGE_MAX_ACTS + 7];
    int n = 0;
    for (int a = 0; a < pg->n_acts; a++)
        it[n++] = (gs_legend_item){pg->acts[a], gs_act_colour(pg->acts[a]), "", GS_LEG_LINE, 0};
    for (int res = residual_only; res < 2; res++)
        for (int bn = 0; bn < 2; bn++)
            if (pg->has_arch[res][bn])
                it[n++] = (gs_legend_item){gs_arch_name(res, bn), "#444444", gs_arch_dash(res, bn),
                                           GS_LEG_LINE, 0};
    if (zero) it[n++] = (gs_legend_item){"gradient exactly 0", "#444444", "", GS_LEG_ZERO, 0};
    if (ref) it[n++] = (gs_legend_item){ref, "#888888", "", GS_LEG_REF, 0};
    return gs_svg_legend(f, GS_PANEL_LEFT, y, GS_PAGE_WIDTH - GS_PANEL_LEFT, n, it) + 10.0;
}

double *gs_steps_xs(const int64_t *steps, int n)
{
    double *xs = n > 0 && steps ? malloc((size_t)n * sizeof *xs) : NULL;
    for (int i = 0; xs && i < n; i++) xs[i] = (double)steps[i];
    return xs;
}

void gs_fig_open(FILE *f, const char *id)
{
    fprintf(f, "<figure id=\"%s\">\n", id);
}

void gs_fig_caption(FILE *f, const char *html)
{
    fprintf(f, "<figcaption>%s</figcaption>\n</figure>\n", html);
}

static void layer_xs(double *xs, int n)
{
    for (int i = 0; i < n; i++) xs[i] = i;
}

/* ---- figure 1: gradient norm by layer ---- */

int gs_fig_grad_by_layer(FILE *f, gs_page *pg)
{
    int norms[2], n_norms = 0;
    for (int bn = 0; bn < 2; bn++)
        if (pg->has_arch[0][bn] || pg->has_arch[1][bn]) norms[n_norms++] = bn;
    if (!n_norms || !pg->n_depths) return GS_OK;
    int cols = 2 * n_norms;
    double pw = GS_PAGE_WIDTH / cols, ph = 236.0;
    int any_zero = 0;
    for (int i = 0; i < pg->s->n_runs; i++) {
        const gs_study_run *r = &pg->s->runs[i];
        any_zero |= gs_report_count_zero(r->grad_norm_init, r->n_layers) > 0 ||
                    gs_report_count_zero(r->grad_norm_end, r->n_layers) > 0;
    }
    gs_fig_open(f, "fig-grad-by-layer");
    gs_svg_open(f, GS_PAGE_WIDTH, 40.0 + pg->n_depths * ph,
                "Gradient norm of each layer's weight, at initialisation and at the end");
    pg->n_charts++;
    double top = std_legend(f, pg, 4.0, 0, any_zero, NULL);
    double xs[4096];
    for (int d = 0; d < pg->n_depths; d++) {
        int D = pg->depths[d];
        gs_range R = {0, 0, 0, 0};
        for (int i = 0; i < pg->s->n_runs; i++) {
            const gs_study_run *r = &pg->s->runs[i];
            if (!in_row(pg, r, D)) continue;
            gs_range_add(&R, r->grad_norm_init, r->n_layers);
            gs_range_add(&R, r->grad_norm_end, r->n_layers);
        }
        gs_axis ay = gs_log_axis(&R, 2.0);
        gs_axis ax = gs_axis_make(0.0, D + 1.0, 0, 1);
        for (int c = 0; c < cols; c++) {
            int end = c >= n_norms, bn = norms[c % n_norms];
            gs_plot p = gs_plot_make(c * pw, top + d * ph, pw, ph, ax, ay, R.zero);
            char title[96];
            snprintf(title, sizeof title, "%d layers \xc2\xb7 %s \xc2\xb7 %s", D,
                     end ? "end of training" : "initialisation", bn ? "BN" : "no norm");
            gs_plot_axes(f, &p, title, "layer (input \xe2\x86\x92 output)",
                         c == 0 ? "\xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82W\xe2\x80\x96" : NULL);
            int drawn = 0;
            for (int a = 0; a < pg->n_acts; a++)
                for (int res = 0; res < 2; res++) {
                    const gs_study_run *r = gs_page_run(pg, pg->acts[a], res, bn, D);
                    if (!r || r->n_layers > 4096) continue;
                    const double *g = end ? r->grad_norm_end : r->grad_norm_init;
                    if (!g) continue;
                    layer_xs(xs, r->n_layers);
                    gs_plot_series(f, &p, r->n_layers, xs, g, gs_act_colour(r->act),
                                   gs_arch_dash(res, bn), 0);
                    drawn++;
                }
            if (!drawn) gs_plot_note(f, &p, "no runs");
        }
    }
    gs_svg_close(f);
    gs_fig_caption(f, "<b>Figure 1.</b> Gradient norm \xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82W\xe2\x80\x96\xe2\x82\x82 "
                   "of every Linear weight, from the stem (layer 0) through the hidden layers to "
                   "the head (layer D+1), on a log scale (dimensionless: L is the mean cross-entropy "
                   "in nats, W the weights). Left: at initialisation (step 0); right: mean over the "
                   "last logged steps. Rows share their y range. A vanishing gradient shows as a line "
                   "that falls toward the input (left). "
                   "<span class=\"zero\">\xe2\x96\xbd</span> on the band marked 0 under the axis: a "
                   "gradient of exactly 0.0 (float32 underflow), which no log scale can show; "
                   "gaps: not measured (NaN).");
    return GS_OK;
}

/* ---- figure 2: layer x step heat maps ---- */

double *gs_heat_bin(const gs_study_run *r, int *cols, int *oom)
{
    *oom = 0;
    *cols = 0;
    if (!r->grad_norm_heat || r->n_logged <= 0 || r->n_layers <= 0) return NULL;
    int n = r->n_logged, C = n < GS_HEAT_MAX_COLUMNS ? n : GS_HEAT_MAX_COLUMNS;
    double *v = malloc((size_t)C * r->n_layers * sizeof *v);
    if (!v) { *oom = 1; return NULL; }
    for (int l = 0; l < r->n_layers; l++)
        for (int c = 0; c < C; c++) {
            int a = (int)((long long)c * n / C), b = (int)((long long)(c + 1) * n / C);
            double sum = 0.0;
            int pos = 0, zero = 0;
            for (int k = a; k < b; k++) {
                double x = r->grad_norm_heat[(size_t)k * r->n_layers + l];
                if (x == 0.0) zero++;
                else if (isfinite(x) && x > 0) { sum += log10(x); pos++; }
            }
            v[(size_t)l * C + c] = pos && pos >= zero ? sum / pos : zero ? -INFINITY : NAN;
        }
    *cols = C;
    return v;
}

static void heat_range(const gs_page *pg, double *vlo, double *vhi)
{
    gs_range R = {0, 0, 0, 0};
    for (int i = 0; i < pg->s->n_runs; i++) {
        const gs_study_run *r = &pg->s->runs[i];
        if (r->grad_norm_heat && r->n_logged > 0)
            gs_range_add(&R, r->grad_norm_heat, r->n_logged * r->n_layers);
    }
    gs_axis a = gs_log_axis(&R, 2.0);
    *vlo = a.lo;
    *vhi = a.hi;
}

int gs_fig_heat(FILE *f, gs_page *pg, int D)
{
    int archs[4][2], n_arch = 0, rows = 0;
    for (int res = 0; res < 2; res++)
        for (int bn = 0; bn < 2; bn++)
            if (pg->has_arch[res][bn]) { archs[n_arch][0] = res; archs[n_arch][1] = bn; n_arch++; }
    for (int a = 0; a < pg->n_acts; a++) {
        int has = 0;
        for (int k = 0; k < n_arch; k++) {
            const gs_study_run *r = gs_page_run(pg, pg->acts[a], archs[k][0], archs[k][1], D);
            has |= r && r->grad_norm_heat && r->n_logged > 0;
        }
        rows += has;
    }
    if (!rows) return GS_OK;
    double vlo, vhi;
    heat_range(pg, &vlo, &vhi);
    double bar = 150.0, pw = (GS_PAGE_WIDTH - bar) / n_arch, ph = 190.0;
    int pattern = ++pg->next_pattern;
    char id[32], label[96];
    snprintf(id, sizeof id, "fig-heat-%d", D);
    snprintf(label, sizeof label, "Heat maps of log10 gradient norm, layer by step, %d layers", D);
    gs_fig_open(f, id);
    gs_svg_open(f, GS_PAGE_WIDTH, rows * ph + 8.0, label);
    pg->n_charts++;
    int row = 0;
    for (int a = 0; a < pg->n_acts; a++) {
        int has = 0;
        for (int k = 0; k < n_arch; k++) {
            const gs_study_run *r = gs_page_run(pg, pg->acts[a], archs[k][0], archs[k][1], D);
            has |= r && r->grad_norm_heat && r->n_logged > 0;
        }
        if (!has) continue;
        for (int k = 0; k < n_arch; k++) {
            int res = archs[k][0], bn = archs[k][1];
            const gs_study_run *r = gs_page_run(pg, pg->acts[a], res, bn, D);
            int C = 0, oom = 0;
            double *v = r ? gs_heat_bin(r, &C, &oom) : NULL;
            if (oom) { gs_svg_close(f); fputs("</figure>\n", f); return GS_ENOMEM; }
            gs_axis ax = gs_axis_make(0.0, 1.0, 0, 1);
            gs_axis ay = gs_axis_make(-0.5, (r ? r->n_layers : D + 2) - 0.5, 0, 1);
            if (v && r->logged_steps) {
                ax.lo = (double)r->logged_steps[0];
                ax.hi = (double)r->logged_steps[r->n_logged - 1];
            }
            gs_plot p = gs_plot_make(k * pw, 4.0 + row * ph, pw, ph, ax, ay, 0);
            char title[96];
            snprintf(title, sizeof title, "%s \xc2\xb7 %s", pg->acts[a], gs_arch_name(res, bn));
            gs_plot_axes(f, &p, title, "training step", k == 0 ? "layer (input = 0)" : NULL);
            if (v) gs_plot_heat(f, &p, r->n_layers, C, v, vlo, vhi, pattern);
            else gs_plot_note(f, &p, r ? "not logged" : "no run");
            free(v);
        }
        row++;
    }
    gs_svg_colourbar(f, GS_PAGE_WIDTH - bar + 30.0, 40.0, 16.0, rows * ph - 120.0 > 120.0 ?
                     rows * ph - 120.0 : 120.0, vlo, vhi,
                     "\xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82W\xe2\x80\x96", pattern);
    gs_svg_close(f);
    char cap[900];
    snprintf(cap, sizeof cap,
             "<b>Figure 2 (%d layers).</b> Gradient norm of each layer's weight (rows, input at the "
             "bottom) at each logged training step (columns; up to %d columns, each the geometric "
             "mean of its steps). One colour scale for every heat map on the page, "
             "10<sup>%d</sup> to 10<sup>%d</sup>. Hatched red: exactly 0.0; white: not logged.",
             D, GS_HEAT_MAX_COLUMNS, (int)vlo, (int)vhi);
    gs_fig_caption(f, cap);
    return GS_OK;
}

/* ---- figure 3: accuracy against depth, and the loss curves ---- */

int gs_fig_accuracy(FILE *f, gs_page *pg)
{
    int norms[2], n_norms = 0;
    for (int bn = 0; bn < 2; bn++)
        if (pg->has_arch[0][bn] || pg->has_arch[1][bn]) norms[n_norms++] = bn;
    if (!n_norms || !pg->n_depths) return GS_OK;
    int cols = 2 * n_norms;
    double pw = GS_PAGE_WIDTH / cols, ph = 250.0;
    gs_fig_open(f, "fig-accuracy");
    gs_svg_open(f, GS_PAGE_WIDTH, 40.0 + ph, "Accuracy against depth");
    pg->n_charts++;
    double chance = pg->s->n_classes > 0 ? 100.0 / pg->s->n_classes : NAN;
    double top = std_legend(f, pg, 4.0, 0, 0, isnan(chance) ? NULL : "chance level");
    double span = pg->depths[pg->n_depths - 1] - pg->depths[0];
    gs_axis ax = gs_axis_make(pg->depths[0] - 0.04 * span - 1,
                              pg->depths[pg->n_depths - 1] + 0.04 * span + 1, 0, 1);
    double ticks[GS_PAGE_MAX_DEPTHS];
    for (int d = 0; d < pg->n_depths; d++) ticks[d] = pg->depths[d];
    ax.n_ticks = pg->n_depths;
    ax.ticks = ticks;
    gs_axis ay = gs_axis_make(0.0, 100.0, 0, 0);
    for (int c = 0; c < cols; c++) {
        int train = c >= n_norms, bn = norms[c % n_norms];
        gs_plot p = gs_plot_make(c * pw, top, pw, ph, ax, ay, 0);
        char title[80];
        snprintf(title, sizeof title, "%s accuracy \xc2\xb7 %s", train ? "training" : "test",
                 bn ? "batch norm" : "no norm");
        gs_plot_axes(f, &p, title, "depth (hidden layers)", c == 0 ? "accuracy (%)" : NULL);
        if (!isnan(chance)) gs_plot_hline(f, &p, chance);
        for (int a = 0; a < pg->n_acts; a++)
            for (int res = 0; res < 2; res++) {
                double xs[GS_PAGE_MAX_DEPTHS], ys[GS_PAGE_MAX_DEPTHS];
                int n = 0;
                for (int d = 0; d < pg->n_depths; d++) {
                    const gs_study_run *r = gs_page_run(pg, pg->acts[a], res, bn, pg->depths[d]);
                    if (!r) continue;
                    xs[n] = r->depth;
                    ys[n++] = 100.0 * (train ? r->train_acc : r->test_acc);
                }
                if (n) gs_plot_series(f, &p, n, xs, ys, gs_act_colour(pg->acts[a]),
                                      gs_arch_dash(res, bn), 1);
            }
    }
    gs_svg_close(f);
    gs_fig_caption(f, "<b>Figure 3.</b> Test (left) and training (right) accuracy at the end of "
                   "training against the number of hidden layers, same seed and step budget for "
                   "every configuration. The dashed grey line is chance level.");
    return GS_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Top of the loss axis: the 95th percentile of every logged loss (at least
 * ln C), so that one diverging run does not flatten the others; *clipped set
 * when some value lies above it. */
static double loss_top(const gs_page *pg, int *clipped)
{
    size_t n = 0, k = 0;
    for (int i = 0; i < pg->s->n_runs; i++)
        if (pg->s->runs[i].train_loss_curve && pg->s->runs[i].logged_steps)
            n += (size_t)pg->s->runs[i].n_logged;
    double *v = n ? malloc(n * sizeof *v) : NULL, top = 0.0, max = 0.0;
    for (int i = 0; v && i < pg->s->n_runs; i++) {
        const gs_study_run *r = &pg->s->runs[i];
        for (int j = 0; r->train_loss_curve && r->logged_steps && j < r->n_logged; j++)
            if (isfinite(r->train_loss_curve[j])) {
                v[k++] = r->train_loss_curve[j];
                if (v[k - 1] > max) max = v[k - 1];
            }
    }
    if (k) {
        qsort(v, k, sizeof *v, cmp_double);
        top = 1.15 * v[(size_t)(0.95 * (k - 1))];
        if (pg->s->n_classes > 1 && top < 1.15 * log((double)pg->s->n_classes))
            top = 1.15 * log((double)pg->s->n_classes);
        if (top > max) top = max * 1.05;
    }
    *clipped = max > top;
    free(v);
    return top;
}

int gs_fig_loss(FILE *f, gs_page *pg)
{
    int n_panels = 0, clipped = 0;
    double lmax = loss_top(pg, &clipped);
    if (lmax <= 0.0) return GS_OK;
    int norms[2], n_norms = 0;
    for (int bn = 0; bn < 2; bn++)
        if (pg->has_arch[0][bn] || pg->has_arch[1][bn]) norms[n_norms++] = bn;
    n_panels = n_norms * pg->n_depths;
    int cols = pg->n_depths <= 4 ? pg->n_depths : 4;
    if (cols < 1) return GS_OK;
    int rows = (n_panels + cols - 1) / cols;
    double pw = GS_PAGE_WIDTH / cols, ph = 220.0;
    gs_fig_open(f, "fig-loss");
    gs_svg_open(f, GS_PAGE_WIDTH, 40.0 + rows * ph, "Training loss curves");
    pg->n_charts++;
    double top = std_legend(f, pg, 4.0, 0, 0, pg->s->n_classes > 1 ?
                            "ln C: loss of a uniform guess" : NULL);
    gs_axis ay = gs_axis_make(0.0, lmax, 0, 0);
    int k = 0;
    for (int nb = 0; nb < n_norms; nb++)
        for (int d = 0; d < pg->n_depths; d++, k++) {
            int bn = norms[nb], D = pg->depths[d];
            gs_axis ax = gs_axis_make(0.0, 1.0, 0, 1);
            for (int i = 0; i < pg->s->n_runs; i++) {
                const gs_study_run *r = &pg->s->runs[i];
                if (in_row(pg, r, D) && r->logged_steps && r->n_logged > 0 &&
                    r->logged_steps[r->n_logged - 1] > ax.hi)
                    ax.hi = (double)r->logged_steps[r->n_logged - 1];
            }
            gs_plot p = gs_plot_make((k % cols) * pw, top + (k / cols) * ph, pw, ph, ax, ay, 0);
            char title[80];
            snprintf(title, sizeof title, "%d layers \xc2\xb7 %s", D, bn ? "batch norm" : "no norm");
            gs_plot_axes(f, &p, title, "training step", k % cols == 0 ? "loss (nats)" : NULL);
            for (int a = 0; a < pg->n_acts; a++)
                for (int res = 0; res < 2; res++) {
                    const gs_study_run *r = gs_page_run(pg, pg->acts[a], res, bn, D);
                    if (!r || !r->train_loss_curve || !r->logged_steps || r->n_logged <= 0) continue;
                    double *xs = gs_steps_xs(r->logged_steps, r->n_logged);
                    if (!xs) { gs_svg_close(f); fputs("</figure>\n", f); return GS_ENOMEM; }
                    gs_plot_series(f, &p, r->n_logged, xs, r->train_loss_curve,
                                   gs_act_colour(r->act), gs_arch_dash(res, bn), 0);
                    free(xs);
                }
            if (pg->s->n_classes > 1) gs_plot_hline(f, &p, log((double)pg->s->n_classes));
        }
    gs_svg_close(f);
    fprintf(f, "<figcaption><b>Figure 4.</b> Training loss (mean cross-entropy of the batch, "
               "nats) at each logged step. The dashed grey line is ln C, the loss of a uniform "
               "guess over the C classes: a net stuck there has learnt nothing.%s</figcaption>\n"
               "</figure>\n", clipped ? " A few diverging values lie above the top of the axis "
               "and are drawn at its edge (all of them are in report.json)." : "");
    return GS_OK;
}

/* ---- figure 5: dead and saturated fractions by layer ---- */

static int relu_family(const char *act)
{
    return strcmp(act, "relu") == 0 || strcmp(act, "leaky_relu") == 0;
}

int gs_fig_fractions(FILE *f, gs_page *pg)
{
    int norms[2], n_norms = 0, any = 0;
    for (int bn = 0; bn < 2; bn++)
        if (pg->has_arch[0][bn] || pg->has_arch[1][bn]) norms[n_norms++] = bn;
    for (int i = 0; i < pg->s->n_runs; i++) {
        const gs_study_run *r = &pg->s->runs[i];
        any |= !isnan(gs_report_mean_finite(r->dead_fraction, r->n_layers)) ||
               !isnan(gs_report_mean_finite(r->saturated_fraction, r->n_layers));
    }
    if (!n_norms || !any) return GS_OK;
    int cols = 2 * n_norms;
    double pw = GS_PAGE_WIDTH / cols, ph = 220.0;
    gs_fig_open(f, "fig-fractions");
    gs_svg_open(f, GS_PAGE_WIDTH, 40.0 + pg->n_depths * ph,
                "Dead and saturated units by layer at the end of training");
    pg->n_charts++;
    double top = std_legend(f, pg, 4.0, 0, 0, NULL);
    double xs[4096];
    gs_axis ay = gs_axis_make(0.0, 100.0, 0, 0);
    for (int d = 0; d < pg->n_depths; d++) {
        int D = pg->depths[d];
        gs_axis ax = gs_axis_make(0.0, D + 1.0, 0, 1);
        for (int c = 0; c < cols; c++) {
            int sat = c >= n_norms, bn = norms[c % n_norms];
            gs_plot p = gs_plot_make(c * pw, top + d * ph, pw, ph, ax, ay, 0);
            char title[96];
            snprintf(title, sizeof title, "%d layers \xc2\xb7 %s \xc2\xb7 %s", D,
                     sat ? "saturated" : "dead", bn ? "batch norm" : "no norm");
            gs_plot_axes(f, &p, title, "layer (input \xe2\x86\x92 output)",
                         c == 0 ? "units (%)" : c == n_norms ? "unit-samples (%)" : NULL);
            int drawn = 0;
            for (int a = 0; a < pg->n_acts; a++)
                for (int res = 0; res < 2; res++) {
                    const gs_study_run *r = gs_page_run(pg, pg->acts[a], res, bn, D);
                    if (!r || r->n_layers > 4096) continue;
                    const double *x = sat ? r->saturated_fraction : r->dead_fraction;
                    if (sat && relu_family(r->act)) continue;   /* saturation is not defined there */
                    if (!x || isnan(gs_report_mean_finite(x, r->n_layers))) continue;
                    double ys[4096];
                    layer_xs(xs, r->n_layers);
                    for (int l = 0; l < r->n_layers; l++) ys[l] = 100.0 * x[l];
                    gs_plot_series(f, &p, r->n_layers, xs, ys, gs_act_colour(r->act),
                                   gs_arch_dash(res, bn), 0);
                    drawn++;
                }
            if (!drawn) gs_plot_note(f, &p, sat ? "no saturating activation" : "no ReLU-family run");
        }
    }
    gs_svg_close(f);
    gs_fig_caption(f, "<b>Figure 5.</b> At the end of training. Dead (left): percentage of units "
                   "whose pre-activation is \xe2\x89\xa4 0 on every evaluation sample, for "
                   "ReLU-family activations. Saturated (right): percentage of unit-samples whose "
                   "derivative is below 5% of the activation's maximum derivative, for saturating "
                   "activations (sigmoid, tanh). Each point is the layer whose output the "
                   "activation follows; layers without one are left out.");
    return GS_OK;
}

/* ---- figure 6: norm-preservation ratio by residual block ---- */

int gs_fig_norm_ratio(FILE *f, gs_page *pg)
{
    int depths[GS_PAGE_MAX_DEPTHS], n = 0;
    gs_range R = {0, 0, 0, 0};
    for (int d = 0; d < pg->n_depths; d++) {
        int has = 0;
        for (int i = 0; i < pg->s->n_runs; i++) {
            const gs_study_run *r = &pg->s->runs[i];
            if (!in_row(pg, r, pg->depths[d]) || r->skip <= 0 || r->n_blocks <= 0 || !r->norm_ratio)
                continue;
            gs_range_add(&R, r->norm_ratio, r->n_blocks);
            has = 1;
        }
        if (has) depths[n++] = pg->depths[d];
    }
    if (!n || !R.any) return GS_OK;
    if (R.lo > 0.0) R.lo = 0.0;    /* always show the reference line at 1 */
    if (R.hi < 0.0) R.hi = 0.0;
    gs_axis ay = gs_log_axis(&R, 1.0);
    int cols = n <= 4 ? n : 4, rows = (n + cols - 1) / cols;
    double pw = GS_PAGE_WIDTH / cols, ph = 240.0;
    gs_fig_open(f, "fig-norm-ratio");
    gs_svg_open(f, GS_PAGE_WIDTH, 40.0 + rows * ph, "Norm-preservation ratio by residual block");
    pg->n_charts++;
    double top = std_legend(f, pg, 4.0, 1, R.zero, "ratio 1: norm preserved");
    for (int k = 0; k < n; k++) {
        int D = depths[k], nb = 1;
        for (int i = 0; i < pg->s->n_runs; i++)
            if (in_row(pg, &pg->s->runs[i], D) && pg->s->runs[i].n_blocks > nb)
                nb = pg->s->runs[i].n_blocks;
        gs_axis ax = gs_axis_make(0.0, nb - 1.0 > 1.0 ? nb - 1.0 : 1.0, 0, 1);
        gs_plot p = gs_plot_make((k % cols) * pw, top + (k / cols) * ph, pw, ph, ax, ay, R.zero);
        char title[64];
        int Dr = D;
        for (int i = 0; i < pg->s->n_runs; i++)
            if (pg->s->runs[i].skip > 0 && in_row(pg, &pg->s->runs[i], D)) Dr = pg->s->runs[i].depth;
        snprintf(title, sizeof title, "%d layers, %d blocks", Dr, nb);
        gs_plot_axes(f, &p, title, "block (input \xe2\x86\x92 output)",
                     k % cols == 0 ? "norm ratio (block input / output)" : NULL);
        gs_plot_hline(f, &p, 1.0);
        double xs[4096];
        for (int a = 0; a < pg->n_acts; a++)
            for (int bn = 0; bn < 2; bn++) {
                const gs_study_run *r = gs_page_run(pg, pg->acts[a], 1, bn, D);
                if (!r || !r->norm_ratio || r->n_blocks <= 0 || r->n_blocks > 4096) continue;
                layer_xs(xs, r->n_blocks);
                gs_plot_series(f, &p, r->n_blocks, xs, r->norm_ratio, gs_act_colour(r->act),
                               gs_arch_dash(1, bn), 1);
            }
    }
    gs_svg_close(f);
    gs_fig_caption(f, "<b>Figure 6.</b> Norm-preservation ratio of each residual block b, "
                   "\xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82x<sub>b</sub>\xe2\x80\x96 / "
                   "\xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82x<sub>b+1</sub>\xe2\x80\x96 "
                   "(x<sub>b</sub> the block's input), mean over training, log scale. Above 1 the "
                   "block amplifies the gradient on its way to the input, below 1 it attenuates "
                   "it; the product over blocks is the whole net's first/last ratio of activation "
                   "gradients. Residual nets only.");
    return GS_OK;
}
