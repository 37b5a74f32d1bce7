/* figures_normratio.c - the report's norm-preservation part (Zaeemzadeh et
 * al. 2018), measured at initialisation: how far from 1 the ratio
 * ||dL/dx_b|| / ||dL/dx_{b+1}|| of a residual block is, against the depth of
 * the net (the identity blocks' mean, one line per family) and block by block
 * along one family's nets (relative position, so that every depth shares the
 * x axis; the transition blocks, which change the shape, as open squares).
 * Same primitives and style as figures_ensemble.c; the two figures sit side
 * by side.  A figure is written only when it has something finite to draw.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "page.h"
#include "svg.h"

#define C_RESNET "#1d1d1f"
#define C_MLP "#C51B7D"
#define C_TRANS "#555555"
#define FIG_W (GS_PAGE_WIDTH / 2)
#define FIG_H 300.0
#define SQ 3.6                   /* half side of a transition block's square (px) */

static const char *family_colour(const gs_study_nr_series *S)
{
    return strcmp(S->family, "resnet") == 0 ? C_RESNET : C_MLP;
}

static const char *family_label(const gs_study_nr_series *S, char *b, size_t n)
{
    if (strcmp(S->family, "resnet") == 0)
        snprintf(b, n, "resnet (shortcut %c, width %d)", S->shortcut ? S->shortcut : 'A', S->width);
    else
        snprintf(b, n, "residual mlp (BN, skip 2, width %d)", S->width);
    return b;
}

static void span(double v, double *lo, double *hi)
{
    if (!isfinite(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

/* A linear y axis over [lo, hi] that always shows the reference line at 1. */
static gs_axis ratio_axis(double lo, double hi)
{
    if (lo > 0.9) lo = 0.9;
    if (hi < 1.1) hi = 1.1;
    double pad = 0.06 * (hi - lo);
    lo = floor((lo - pad) * 10.0) / 10.0;
    hi = ceil((hi + pad) * 10.0) / 10.0;
    return gs_axis_make(lo < 0.0 ? 0.0 : lo, hi, 0, 0);
}

/* The family figure B draws: resnet when there is one. */
static const gs_study_nr_series *profile_series(const gs_study_normratio *nr)
{
    for (int i = 0; i < nr->n_series; i++)
        if (strcmp(nr->series[i].family, "resnet") == 0) return &nr->series[i];
    return &nr->series[0];
}

static int has_transition(const gs_study_nr_series *S)
{
    for (int d = 0; d < S->n_depths; d++)
        for (int b = 0; S->ratio[d] && S->transition[d] && b < S->blocks[d]; b++)
            if (S->transition[d][b] && isfinite(S->ratio[d][b])) return 1;
    return 0;
}

/* Legends of figures A and B into it (labels in lab); the number of items. */
static int depth_legend(const gs_study_normratio *nr, gs_legend_item *it, char lab[][64])
{
    int ni = 0, any_tr = 0;
    for (int i = 0; i < nr->n_series && i < 2; i++) {
        it[ni++] = (gs_legend_item){family_label(&nr->series[i], lab[i], 64),
                                    family_colour(&nr->series[i]), "", GS_LEG_LINE, 0};
        any_tr |= has_transition(&nr->series[i]);
    }
    if (any_tr) it[ni++] = (gs_legend_item){"transition blocks (mean)", C_TRANS, "", GS_LEG_SQUARE, 0};
    it[ni++] = (gs_legend_item){"ratio 1: norm preserved", "#888888", "", GS_LEG_REF, 0};
    return ni;
}

static int profile_legend(const gs_study_nr_series *S, gs_legend_item *it, char lab[][64])
{
    int ni = 0;
    for (int d = 0; d < S->n_depths; d++) {
        snprintf(lab[d], 64, "depth %d (%d blocks)", S->depths[d], S->blocks[d]);
        it[ni++] = (gs_legend_item){lab[d], gs_page_ramp_colour(d), "", GS_LEG_LINE, 0};
    }
    if (has_transition(S)) it[ni++] = (gs_legend_item){"transition block", C_TRANS, "", GS_LEG_SQUARE, 0};
    it[ni++] = (gs_legend_item){"ratio 1", "#888888", "", GS_LEG_REF, 0};
    return ni;
}

#define LEGEND_W (FIG_W - GS_PANEL_LEFT)

/* Open figure `id`: its chart (counted on the page), the legend of ni items on top (legend_h
 * tall, the taller of the two figures' so that they line up), and the plot below it. */
static gs_plot open_chart(FILE *f, gs_page *pg, const char *id, const char *title, double legend_h, int ni,
                          const gs_legend_item *it, gs_axis x, gs_axis y)
{
    const double y0 = 4.0 + legend_h + 10.0;
    gs_fig_open(f, id);
    gs_svg_open(f, FIG_W, y0 + FIG_H, title);
    pg->n_charts++;
    gs_svg_legend(f, GS_PANEL_LEFT, 4.0, LEGEND_W, ni, it);
    return gs_plot_make(0.0, y0, FIG_W, FIG_H, x, y, 0);
}

/* Figure A: the identity blocks' mean ratio against depth (log x); the legend
 * gets legend_h px (the taller of the two, so that the plots line up). */
static int fig_by_depth(FILE *f, gs_page *pg, int fig_no, double legend_h)
{
    const gs_study_normratio *nr = pg->s->normratio;
    double dlo = INFINITY, dhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    int any_tr = 0;
    for (int i = 0; i < nr->n_series; i++) {
        const gs_study_nr_series *S = &nr->series[i];
        for (int d = 0; d < S->n_depths; d++) {
            double m = gs_nr_mean(S, d, 0), t = gs_nr_mean(S, d, 1);
            if (!isfinite(m) && !isfinite(t)) continue;
            span(S->depths[d], &dlo, &dhi);
            span(m, &ylo, &yhi);
            span(t, &ylo, &yhi);
            any_tr |= isfinite(t);
        }
    }
    if (!(dhi >= dlo)) return GS_OK;
    double pad = 0.06 * (log10(dhi) - log10(dlo)) + 0.08;
    gs_axis ax = gs_axis_make(log10(dlo) - pad, log10(dhi) + pad, 1, 0);
    /* decade ticks, with 2 and 5 between them when the range is short */
    double ticks[32];
    int n_ticks = 0;
    for (int pass = 0; pass < 2 && n_ticks < 2; pass++) {
        n_ticks = 0;
        for (int k = (int)floor(ax.lo); k <= (int)ceil(ax.hi); k++)
            for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
                double v = m * pow(10.0, k);
                if ((pass == 0 && m != 1) || log10(v) < ax.lo || log10(v) > ax.hi || n_ticks == 32)
                    continue;
                ticks[n_ticks++] = v;
            }
    }
    ax.n_ticks = n_ticks;
    ax.ticks = ticks;
    gs_legend_item it[4];
    char lab[2][64];
    int ni = depth_legend(nr, it, lab);
    gs_plot p = open_chart(f, pg, "fig-normratio-depth", "Mean norm ratio of the identity blocks against depth",
                           legend_h, ni, it, ax, ratio_axis(ylo, yhi));
    gs_plot_axes(f, &p, "identity blocks, mean over the net", "depth (resnet: layers; mlp: hidden "
                 "layers), log scale", "norm ratio (block input / output)");
    gs_plot_hline(f, &p, 1.0);
    for (int i = 0; i < nr->n_series; i++) {
        const gs_study_nr_series *S = &nr->series[i];
        double xs[GS_NR_MAX_DEPTHS], ym[GS_NR_MAX_DEPTHS], yt[GS_NR_MAX_DEPTHS];
        for (int d = 0; d < S->n_depths; d++) {
            xs[d] = S->depths[d];
            ym[d] = gs_nr_mean(S, d, 0);
            yt[d] = gs_nr_mean(S, d, 1);
        }
        gs_plot_squares(f, &p, S->n_depths, xs, yt, family_colour(S), SQ);
        gs_plot_series(f, &p, S->n_depths, xs, ym, family_colour(S), "", 1);
    }
    gs_svg_close(f);
    char cap[900];
    snprintf(cap, sizeof cap,
             "<b>Figure %d.</b> Norm-preservation ratio "
             "\xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82x<sub>b</sub>\xe2\x80\x96 / "
             "\xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82x<sub>b+1</sub>\xe2\x80\x96 at initialisation "
             "(he_normal, one train-mode forward and backward), mean over the identity-shortcut "
             "blocks of each net, against its depth.%s The dashed line at 1 is exact norm "
             "preservation (Zaeemzadeh et al. 2018).", fig_no,
             any_tr ? " Open squares: the mean over the transition blocks, which change the "
                      "shape (stride 2, more channels)." : "");
    gs_fig_caption(f, cap);
    return GS_OK;
}

/* Figure B: every block's ratio against its relative position, one line per depth. */
static int fig_profile(FILE *f, gs_page *pg, int fig_no, double legend_h)
{
    const gs_study_nr_series *S = profile_series(pg->s->normratio);
    double ylo = INFINITY, yhi = -INFINITY;
    int nb_max = 0, any_tr = 0;
    for (int d = 0; d < S->n_depths; d++)
        for (int b = 0; S->ratio[d] && b < S->blocks[d]; b++) {
            span(S->ratio[d][b], &ylo, &yhi);
            if (isfinite(S->ratio[d][b])) {
                if (S->blocks[d] > nb_max) nb_max = S->blocks[d];
                any_tr |= S->transition[d] && S->transition[d][b];
            }
        }
    if (!(yhi >= ylo)) return GS_OK;
    double *xs = malloc(2 * (size_t)nb_max * sizeof *xs);
    if (!xs) return GS_ENOMEM;
    double *ys = xs + nb_max;
    gs_legend_item it[GS_NR_MAX_DEPTHS + 2];
    char lab[GS_NR_MAX_DEPTHS][64];
    int ni = profile_legend(S, it, lab);
    gs_plot p = open_chart(f, pg, "fig-normratio-profile", "Norm ratio of every block against its relative position",
                           legend_h, ni, it, gs_axis_make(0.0, 1.0, 0, 0), ratio_axis(ylo, yhi));
    char title[80], fam[64];
    snprintf(title, sizeof title, "%s, block by block", family_label(S, fam, sizeof fam));
    gs_plot_axes(f, &p, title, "relative position of the block, (b + \xc2\xbd) / blocks "
                 "(input \xe2\x86\x92 output)", "norm ratio (block input / output)");
    gs_plot_hline(f, &p, 1.0);
    for (int d = S->n_depths - 1; d >= 0; d--) {   /* deepest first, the shallow nets on top */
        const int nb = S->blocks[d];
        if (!S->ratio[d]) continue;
        for (int b = 0; b < nb; b++) xs[b] = (b + 0.5) / nb;
        gs_plot_series(f, &p, nb, xs, S->ratio[d], gs_page_ramp_colour(d), "", nb <= 12);
    }
    for (int d = 0; d < S->n_depths; d++) {
        const int nb = S->blocks[d];
        if (!S->ratio[d] || !S->transition[d]) continue;
        int n = 0;
        for (int b = 0; b < nb; b++)
            if (S->transition[d][b]) { xs[n] = (b + 0.5) / nb; ys[n++] = S->ratio[d][b]; }
        gs_plot_squares(f, &p, n, xs, ys, gs_page_ramp_colour(d), SQ);
    }
    gs_svg_close(f);
    free(xs);
    char cap[900];
    snprintf(cap, sizeof cap,
             "<b>Figure %d.</b> The ratio of every residual block b of the %s nets at "
             "initialisation, on %d %s, against the block's relative position (b + \xc2\xbd) / "
             "blocks, so that nets of every depth share the axis; input side left.%s The dashed "
             "line at 1 is norm preservation.",
             fig_no, S->family, S->samples, strcmp(S->family, "resnet") == 0 ? "images" : "samples",
             any_tr ? " Open squares: the transition blocks (stride 2 and more channels), whose "
                      "shortcut is not the identity." : "");
    gs_fig_caption(f, cap);
    return GS_OK;
}

int gs_normratio_section_figures(FILE *f, gs_page *pg, int fig_no)
{
    const gs_study_normratio *nr = pg->s->normratio;
    gs_legend_item it[GS_NR_MAX_DEPTHS + 2];
    char lab[GS_NR_MAX_DEPTHS][64];
    double ha = gs_svg_legend_height(LEGEND_W, depth_legend(nr, it, lab), it);
    double hb = gs_svg_legend_height(LEGEND_W, profile_legend(profile_series(nr), it, lab), it);
    int before = pg->n_charts, rc;
    fputs("<div class=\"pair\">\n", f);
    if ((rc = fig_by_depth(f, pg, fig_no, ha > hb ? ha : hb))) return rc;
    if ((rc = fig_profile(f, pg, fig_no + (pg->n_charts > before), ha > hb ? ha : hb))) return rc;
    fputs("</div>\n", f);
    if (pg->n_charts == before)
        fputs("<p class=\"lead\"><i>No finite norm ratio was measured.</i></p>\n", f);
    char text[1200];
    gs_nr_claim_text(pg->s->normratio, 0, text, sizeof text);
    fputs("<p class=\"lead\">", f);
    gs_html_escape(f, text);
    fputs("</p>\n", f);
    return GS_OK;
}
