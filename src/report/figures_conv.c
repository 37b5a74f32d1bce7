/* figures_conv.c - the report's convolutional part (He et al. 2015, §4.2):
 * error curves of plain and residual nets at two or more depths, and their
 * gradient norm by layer.  Same primitives and style as figures.c; here colour
 * encodes the depth (gs_page_depth_colour), in every conv chart alike.
 *
 * Only the first run of each family and depth is drawn (gs_page_conv); a chart
 * is written only when some net has data for it, so none is ever empty.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "page.h"
#include "svg.h"

static const char *const FAMILY[2] = {"plain", "resnet"};
#define TRAIN_DASH "4 3"        /* thin dashed: training error; bold solid: test error */
#define TRAIN_WIDTH 1.1         /* legend widths, as the CSS classes thin / bold */
#define TEST_WIDTH 2.8

/* Depths by colour; then the line styles of the error curves and the zero marker. */
static double conv_legend(FILE *f, const gs_page *pg, int curves, int zero)
{
    gs_legend_item it[GS_PAGE_MAX_DEPTHS + 3];
    char label[GS_PAGE_MAX_DEPTHS][24];
    int n = 0;
    for (int d = 0; d < pg->n_conv_depths; d++) {
        snprintf(label[d], sizeof label[d], "%d layers", pg->conv_depths[d]);
        it[n++] = (gs_legend_item){label[d], gs_page_depth_colour(pg, pg->conv_depths[d]), "",
                                   GS_LEG_LINE, 0};
    }
    if (curves) {
        it[n++] = (gs_legend_item){"training error", "#444444", TRAIN_DASH, GS_LEG_LINE, TRAIN_WIDTH};
        it[n++] = (gs_legend_item){"test error", "#444444", "", GS_LEG_LINE, TEST_WIDTH};
    }
    if (zero) it[n++] = (gs_legend_item){"gradient exactly 0", "#444444", "", GS_LEG_ZERO, 0};
    return gs_svg_legend(f, GS_PANEL_LEFT, 4.0, GS_PAGE_WIDTH - GS_PANEL_LEFT, n, it) + 10.0;
}

/* The drawn net of family k and the d-th depth when it has error curves. */
static const gs_study_conv_run *with_curves(const gs_page *pg, int k, int d)
{
    const gs_study_conv_run *r = gs_page_conv(pg, FAMILY[k], pg->conv_depths[d]);
    return r && r->n_points > 0 && (r->train_err_curve || r->test_err_curve) ? r : NULL;
}

/* Title of the residual panel: the shortcut when every drawn net has the same. */
static void resnet_title(const gs_page *pg, char *b, size_t n)
{
    char sc = 0;
    int mixed = 0;
    for (int d = 0; d < pg->n_conv_depths; d++) {
        const gs_study_conv_run *r = gs_page_conv(pg, "resnet", pg->conv_depths[d]);
        if (!r) continue;
        mixed |= sc && r->shortcut != sc;
        sc = r->shortcut;
    }
    if (sc && !mixed) snprintf(b, n, "residual networks (shortcut %c)", sc);
    else snprintf(b, n, "residual networks");
}

int gs_fig_conv_error(FILE *f, gs_page *pg, int fig_no)
{
    double ymax = 0.0, xmax = 1.0;
    int any = 0;
    for (int k = 0; k < 2; k++)
        for (int d = 0; d < pg->n_conv_depths; d++) {
            const gs_study_conv_run *r = with_curves(pg, k, d);
            for (int j = 0; r && j < r->n_points; j++)
                for (int c = 0; c < 2; c++) {
                    const double *y = c ? r->test_err_curve : r->train_err_curve;
                    if (y && isfinite(y[j])) { any = 1; if (y[j] > ymax) ymax = y[j]; }
                }
            if (r && (double)r->curve_steps[r->n_points - 1] > xmax)
                xmax = (double)r->curve_steps[r->n_points - 1];
        }
    if (!any) return GS_OK;
    double top = ceil(100.0 * ymax * 1.08 / 5.0) * 5.0;
    top = top < 5.0 ? 5.0 : top > 100.0 ? 100.0 : top;
    double pw = GS_PAGE_WIDTH / 2, ph = 300.0;
    gs_fig_open(f, "fig-conv-error");
    gs_svg_open(f, GS_PAGE_WIDTH, 40.0 + ph,
                "Training and test error against steps, plain and residual conv nets");
    pg->n_charts++;
    double y0 = conv_legend(f, pg, 1, 0);
    gs_axis ax = gs_axis_make(0.0, xmax, 0, 1), ay = gs_axis_make(0.0, top, 0, 0);
    for (int k = 0; k < 2; k++) {
        gs_plot p = gs_plot_make(k * pw, y0, pw, ph, ax, ay, 0);
        char title[64] = "plain networks";
        if (k) resnet_title(pg, title, sizeof title);
        gs_plot_axes(f, &p, title, "training step", k == 0 ? "error (%)" : NULL);
        int drawn = 0;
        for (int d = 0; d < pg->n_conv_depths; d++) {
            const gs_study_conv_run *r = with_curves(pg, k, d);
            if (!r) continue;
            double *xs = gs_steps_xs(r->curve_steps, r->n_points);
            double *ys = malloc((size_t)r->n_points * sizeof *ys);
            if (!xs || !ys) {
                free(xs);
                free(ys);
                gs_svg_close(f);
                fputs("</figure>\n", f);
                return GS_ENOMEM;
            }
            const char *colour = gs_page_depth_colour(pg, r->depth);
            for (int c = 0; c < 2; c++) {
                const double *y = c ? r->test_err_curve : r->train_err_curve;
                if (!y) continue;
                for (int j = 0; j < r->n_points; j++) ys[j] = 100.0 * y[j];
                gs_plot_series_class(f, &p, r->n_points, xs, ys, colour, c ? "" : TRAIN_DASH, 0,
                                     c ? "bold" : "thin");
            }
            free(xs);
            free(ys);
            drawn++;
        }
        if (!drawn) gs_plot_note(f, &p, k ? "no residual nets" : "no plain nets");
    }
    gs_svg_close(f);
    char cap[900], n_test[48] = "a subset of the test set";
    if (pg->s->conv_test_samples > 0)
        snprintf(n_test, sizeof n_test, "%lld test images", (long long)pg->s->conv_test_samples);
    snprintf(cap, sizeof cap,
             "<b>Figure %d.</b> Error of the plain (left) and residual (right) convolutional nets "
             "against the training step, in the style of He et al. (2015), Fig. 1: thin dashed "
             "lines are the training error (the mini-batches since the previous point, train "
             "mode), bold lines the test error (eval mode, on %s); one colour per depth. In He et "
             "al.'s runs the deeper plain net has the higher error throughout training (left), "
             "while the deeper residual net has the lower one (right). The final errors are in "
             "the table below.", fig_no, n_test);
    gs_fig_caption(f, cap);
    return GS_OK;
}

int gs_fig_conv_grad_by_layer(FILE *f, gs_page *pg, int fig_no)
{
    gs_range R = {0, 0, 0, 0};
    int max_depth = 2;
    for (int k = 0; k < 2; k++)
        for (int d = 0; d < pg->n_conv_depths; d++) {
            const gs_study_conv_run *r = gs_page_conv(pg, FAMILY[k], pg->conv_depths[d]);
            if (!r) continue;
            gs_range_add(&R, r->grad_norm_init, r->n_layers);
            gs_range_add(&R, r->grad_norm_end, r->n_layers);
            if (r->n_layers > max_depth) max_depth = r->n_layers;
        }
    if (!R.any && !R.zero) return GS_OK;
    double pw = GS_PAGE_WIDTH / 4, ph = 236.0;
    gs_fig_open(f, "fig-conv-grad-by-layer");
    gs_svg_open(f, GS_PAGE_WIDTH, 40.0 + ph,
                "Gradient norm of each conv net's weights by layer, at initialisation and at the end");
    pg->n_charts++;
    double y0 = conv_legend(f, pg, 0, R.zero);
    gs_axis ay = gs_log_axis(&R, 2.0), ax = gs_axis_make(0.0, max_depth - 1.0, 0, 1);
    for (int c = 0; c < 4; c++) {
        int end = c >= 2, k = c % 2;
        gs_plot p = gs_plot_make(c * pw, y0, pw, ph, ax, ay, R.zero);
        char title[64];
        snprintf(title, sizeof title, "%s \xc2\xb7 %s", FAMILY[k],
                 end ? "end of training" : "initialisation");
        gs_plot_axes(f, &p, title, "layer (input \xe2\x86\x92 output)",
                     c == 0 ? "\xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82W\xe2\x80\x96" : NULL);
        int drawn = 0;
        for (int d = 0; d < pg->n_conv_depths; d++) {
            const gs_study_conv_run *r = gs_page_conv(pg, FAMILY[k], pg->conv_depths[d]);
            const double *g = r ? (end ? r->grad_norm_end : r->grad_norm_init) : NULL;
            if (!g) continue;
            gs_plot_series(f, &p, r->n_layers, NULL, g, gs_page_depth_colour(pg, r->depth), "", 0);
            drawn++;
        }
        if (!drawn) gs_plot_note(f, &p, "not measured");
    }
    gs_svg_close(f);
    char cap[900];
    snprintf(cap, sizeof cap,
             "<b>Figure %d.</b> Gradient norm \xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82W\xe2\x80\x96\xe2\x82\x82 "
             "of every weight on the main path of the conv nets, from the first convolution "
             "(layer 0) through the two convolutions of each block to the fully connected layer "
             "(layer depth\xe2\x88\x92" "1), on a log scale shared by the four panels (projection "
             "shortcuts are not on the main path). Left pair: at initialisation (the first step, "
             "before any update); right pair: mean over the last tenth of training. A line that "
             "falls toward the input (left) is a vanishing gradient.%s", fig_no, R.zero
             ? " <span class=\"zero\">\xe2\x96\xbd</span> on the band marked 0: a gradient of "
               "exactly 0.0." : "");
    gs_fig_caption(f, cap);
    return GS_OK;
}
