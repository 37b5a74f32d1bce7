/* figures_ensemble.c - the report's ensemble part (Veit et al. 2016): how the
 * gradient at the first block's input splits over path lengths k (the number
 * of residual branches a path passes), and how the test error grows as blocks
 * (of the residual net) or layers (of the plain net) are deleted.  Same
 * primitives and style as figures.c; the two figures sit side by side.
 * A figure is written only when it has something finite to draw.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "page.h"
#include "svg.h"

#define C_EXACT "#1f4e9c"
#define C_VEIT "#d9661f"
#define C_COUNT "#999999"
#define C_BAND "#e6edf8"
#define C_RES "#1f4e9c"
#define C_RES_DOT "#86a6d8"
#define C_PLAIN "#c0392b"
#define C_PLAIN_DOT "#e8a197"
#define VEIT_DASH "6 4"
#define FIG_W (GS_PAGE_WIDTH / 2)
#define FIG_H 300.0

/* x normalised to sum 1 over its finite values into out (n); 0 when nothing to draw. */
static int normalise(const double *x, int n, double *out)
{
    double tot = 0.0;
    for (int i = 0; x && i < n; i++)
        if (isfinite(x[i]) && x[i] >= 0.0) tot += x[i];
    if (!(tot > 0.0)) return 0;
    for (int i = 0; i < n; i++) out[i] = isfinite(x[i]) && x[i] >= 0.0 ? x[i] / tot : NAN;
    return 1;
}

static int fig_paths(FILE *f, gs_page *pg, int fig_no)
{
    const gs_study_ensemble *e = pg->s->ensemble;
    int n = e->blocks;
    double *buf = malloc(4 * (size_t)(n + 1) * sizeof *buf);
    if (!buf) return GS_ENOMEM;
    double *ex = buf, *ve = buf + (n + 1), *ct = buf + 2 * (n + 1), *xs = buf + 3 * (n + 1);
    int has_ex = normalise(e->exact_norm, n + 1, ex);
    int has_ve = normalise(e->veit_total, n + 1, ve);
    int has_ct = normalise(e->count_fraction, n + 1, ct);
    if (!has_ex && !has_ve && !has_ct) { free(buf); return GS_OK; }
    double ymax = 0.0;
    for (int k = 0; k <= n; k++) {
        xs[k] = k;
        if (has_ex && ex[k] > ymax) ymax = ex[k];
        if (has_ve && ve[k] > ymax) ymax = ve[k];
        if (has_ct && ct[k] > ymax) ymax = ct[k];
    }
    double top = ceil(ymax * 1.1 * 20.0) / 20.0;
    if (top <= 0.0) top = 0.05;
    gs_fig_open(f, "fig-ensemble-paths");
    gs_svg_open(f, FIG_W, 40.0 + FIG_H, "Gradient at the first block's input by path length");
    pg->n_charts++;
    char band[64];
    snprintf(band, sizeof band, "half of the gradient (k = %d\xe2\x80\x93%d)", e->half_lo,
             e->half_hi);
    gs_legend_item it[4];
    int ni = 0;
    if (has_ex) it[ni++] = (gs_legend_item){"exact \xe2\x80\x96g\xe2\x81\xbd\xe1\xb5\x8f\xe2\x81\xbe\xe2\x80\x96",
                                            C_EXACT, "", GS_LEG_LINE, 2.8};
    if (has_ve) it[ni++] = (gs_legend_item){"Veit et al.'s estimate", C_VEIT, VEIT_DASH, GS_LEG_LINE, 1.7};
    if (has_ct) it[ni++] = (gs_legend_item){"share of paths C(n,k)/2\xe2\x81\xbf", C_COUNT, "",
                                            GS_LEG_LINE, 1.1};
    it[ni++] = (gs_legend_item){band, C_BAND, "", GS_LEG_SWATCH, 0};
    double y0 = gs_svg_legend(f, GS_PANEL_LEFT, 4.0, FIG_W - GS_PANEL_LEFT, ni, it) + 10.0;
    gs_axis ax = gs_axis_make(0.0, n, 0, 1), ay = gs_axis_make(0.0, top, 0, 0);
    gs_plot p = gs_plot_make(0.0, y0, FIG_W, FIG_H, ax, ay, 0);
    char title[64];
    snprintf(title, sizeof title, "residual net, %d blocks", n);
    gs_plot_axes(f, &p, title, "path length k (residual branches passed)", "share of the total");
    gs_plot_xband(f, &p, e->half_lo - 0.5, e->half_hi + 0.5, C_BAND);
    if (has_ct) gs_plot_series_class(f, &p, n + 1, xs, ct, C_COUNT, "", 0, "thin");
    if (has_ve) gs_plot_series_class(f, &p, n + 1, xs, ve, C_VEIT, VEIT_DASH, 0, NULL);
    if (has_ex) gs_plot_series_class(f, &p, n + 1, xs, ex, C_EXACT, "", 1, "bold");
    gs_svg_close(f);
    free(buf);
    char cap[1000];
    snprintf(cap, sizeof cap,
             "<b>Figure %d.</b> The gradient of the loss at the first block's input x<sub>0</sub> "
             "of the trained %d-block residual net, split by path length k (the number of "
             "residual branches a path passes; the other n\xe2\x88\x92k blocks are skipped), mean "
             "over %d test images in eval mode. Bold: the exact norm "
             "\xe2\x80\x96g<sup>(k)</sup>\xe2\x80\x96 of the sum of all paths of length k; "
             "%sthin grey: the share of paths of length k, C(n,k)/2<sup>n</sup>. Each line is "
             "normalised to sum 1. The shaded run of k around the peak holds half of "
             "\xce\xa3<sub>k</sub>\xe2\x80\x96g<sup>(k)</sup>\xe2\x80\x96 (Veit et al. 2016, "
             "Fig. 6).", fig_no, n, e->path_samples,
             has_ve ? "dashed: Veit et al.'s estimate C(n,k) \xc3\x97 the mean norm of one sampled "
                      "path of length k; " : "");
    gs_fig_caption(f, cap);
    return GS_OK;
}

static int fig_lesion(FILE *f, gs_page *pg, int fig_no)
{
    const gs_study_ensemble *e = pg->s->ensemble;
    int m = e->n_k + 1, nd = e->blocks > e->plain_depth ? e->blocks : e->plain_depth;
    size_t sz = 6 * (size_t)m + 2 * (size_t)(nd + 1);
    double *buf = malloc(sz * sizeof *buf);
    if (!buf) return GS_ENOMEM;
    double *xs = buf, *rm = xs + m, *rs = rm + m, *pm = rs + m, *ps = pm + m, *sx = ps + m;
    double *sy = sx + nd + 1;   /* (nd + 1) x positions, then (nd + 1) values (reused) */
    for (size_t i = 0; i < sz; i++) buf[i] = NAN;
    for (int k = 0; k < m; k++) {
        xs[k] = k;
        rm[k] = 100.0 * (k ? (e->k_mean ? e->k_mean[k - 1] : NAN) : e->base_err);
        rs[k] = k && e->k_std ? 100.0 * e->k_std[k - 1] : NAN;
        pm[k] = 100.0 * (k ? (e->plain_k_mean ? e->plain_k_mean[k - 1] : NAN) : e->plain_base_err);
        ps[k] = k && e->plain_k_std ? 100.0 * e->plain_k_std[k - 1] : NAN;
    }
    double ymax = 0.0;
    int any = 0;
    for (int k = 0; k < m; k++) {
        double a = rm[k] + (isfinite(rs[k]) ? rs[k] : 0.0), b = pm[k] + (isfinite(ps[k]) ? ps[k] : 0.0);
        if (isfinite(a)) { any = 1; if (a > ymax) ymax = a; }
        if (isfinite(b)) { any = 1; if (b > ymax) ymax = b; }
    }
    for (int i = 0; i < e->blocks; i++)
        if (isfinite(e->single_err[i])) { any = 1; if (100.0 * e->single_err[i] > ymax) ymax = 100.0 * e->single_err[i]; }
    for (int i = 0; e->plain_single_err && i < e->plain_depth; i++)
        if (isfinite(e->plain_single_err[i])) {
            any = 1;
            if (100.0 * e->plain_single_err[i] > ymax) ymax = 100.0 * e->plain_single_err[i];
        }
    if (!any) { free(buf); return GS_OK; }
    double top = ceil(ymax * 1.08 / 5.0) * 5.0;
    top = top < 5.0 ? 5.0 : top > 100.0 ? 100.0 : top;
    gs_fig_open(f, "fig-ensemble-lesion");
    gs_svg_open(f, FIG_W, 40.0 + FIG_H, "Test error against the number of blocks or layers deleted");
    pg->n_charts++;
    char lres[48], lplain[48];
    snprintf(lres, sizeof lres, "residual, %d blocks", e->blocks);
    snprintf(lplain, sizeof lplain, "plain, %d layers", e->plain_depth);
    gs_legend_item it[2] = {
        {lres, C_RES, "", GS_LEG_LINE, 0}, {lplain, C_PLAIN, "", GS_LEG_LINE, 0}};
    double y0 = gs_svg_legend(f, GS_PANEL_LEFT, 4.0, FIG_W - GS_PANEL_LEFT, 2, it) + 10.0;
    gs_axis ax = gs_axis_make(-0.3, m > 1 ? m - 1 + 0.3 : 1.3, 0, 1);
    gs_axis ay = gs_axis_make(0.0, top, 0, 0);
    gs_plot p = gs_plot_make(0.0, y0, FIG_W, FIG_H, ax, ay, 0);
    gs_plot_axes(f, &p, "lesion study", "units deleted k (blocks / layers)", "test error (%)");
    /* single deletions: small dots beside k = 1 */
    for (int i = 0; i < e->blocks; i++) { sx[i] = 0.88; sy[i] = 100.0 * e->single_err[i]; }
    gs_plot_points(f, &p, e->blocks, sx, sy, NULL, C_RES_DOT, 2.0);
    if (e->plain_single_err) {
        for (int i = 0; i < e->plain_depth; i++) { sx[i] = 1.12; sy[i] = 100.0 * e->plain_single_err[i]; }
        gs_plot_points(f, &p, e->plain_depth, sx, sy, NULL, C_PLAIN_DOT, 2.0);
    }
    gs_plot_series(f, &p, m, xs, pm, C_PLAIN, "", 0);
    gs_plot_points(f, &p, m, xs, pm, ps, C_PLAIN, 3.0);
    gs_plot_series(f, &p, m, xs, rm, C_RES, "", 0);
    gs_plot_points(f, &p, m, xs, rm, rs, C_RES, 3.0);
    gs_svg_close(f);
    free(buf);
    char cap[900];
    snprintf(cap, sizeof cap,
             "<b>Figure %d.</b> Test error (on %d test images, eval mode) of the trained nets "
             "with k units deleted at random: residual blocks (blue; a deleted block passes its "
             "input through the shortcut) and layers of the plain net (red). k = 0 is the intact "
             "net; the bars are \xc2\xb1 one standard deviation over random draws. The small "
             "light dots beside k = 1 are every single deletion, one per block (left, blue) or "
             "layer (right, red). An ensemble of paths degrades smoothly (Veit et al. 2016, "
             "Fig. 3 and 5).", fig_no, e->lesion_samples);
    gs_fig_caption(f, cap);
    return GS_OK;
}

int gs_ensemble_section_figures(FILE *f, gs_page *pg, int fig_no)
{
    const gs_study_ensemble *e = pg->s->ensemble;
    int before = pg->n_charts, rc;
    fputs("<div class=\"pair\">\n", f);
    if ((rc = fig_paths(f, pg, fig_no))) return rc;
    if ((rc = fig_lesion(f, pg, fig_no + (pg->n_charts > before)))) return rc;
    fputs("</div>\n", f);
    if (pg->n_charts == before)
        fputs("<p class=\"lead\"><i>No gradient by path length or lesion errors were "
              "measured.</i></p>\n", f);
    gs_ens_facts F;
    gs_ens_facts_get(e, &F);
    char text[900];
    gs_ens_claim_text(e, &F, 0, text, sizeof text);
    fputs("<p class=\"lead\">", f);
    gs_html_escape(f, text);
    fputs("</p>\n", f);
    return GS_OK;
}
