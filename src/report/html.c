/* html.c - gs_report_write: validates the study, writes report.json and the
 * self-contained index.html (inline CSS and SVG; no scripts, no fonts, no
 * images, nothing fetched), each through a temporary file and a rename.
 *
 * The page: title, a one-paragraph summary, the generated findings, then one
 * section per question with its figures (figures.c), and a table of every run;
 * then the convolutional part (figures_conv.c) with its own table, the
 * ensemble part (figures_ensemble.c) and the norm-preservation part
 * (figures_normratio.c).  Any part may be absent: its sections are then left
 * out (the mlp or the conv part must be there).
 * Every number on the page is in report.json (json_out.c).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "page.h"
#include "svg.h"

static const char CSS[] =
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:#fbfbfa;color:#1d1d1f;font:15px/1.55 system-ui,-apple-system,"
    "\"Segoe UI\",Roboto,\"Helvetica Neue\",\"Noto Sans\",\"Liberation Sans\",Arial,sans-serif}\n"
    "main{max-width:1240px;margin:0 auto;padding:36px 20px 60px;background:#fff}\n"
    "h1{font-size:28px;line-height:1.2;margin:0 0 6px;font-weight:650;letter-spacing:-0.01em}\n"
    "h2{font-size:20px;margin:42px 0 8px;padding-top:14px;border-top:1px solid #e4e4e4;font-weight:620}\n"
    ".sub{color:#555;margin:0 0 22px;font-size:15px}\n"
    ".summary{font-size:16.5px;line-height:1.6;max-width:70em;margin:0 0 18px}\n"
    ".lead{max-width:70em;color:#333;margin:4px 0 14px}\n"
    "ul.findings{max-width:74em;padding:0;margin:8px 0;list-style:none}\n"
    "ul.findings li{display:grid;grid-template-columns:9.5em 1fr;column-gap:1em;margin:0 0 10px}\n"
    ".tag{font-size:11.5px;font-weight:600;text-transform:uppercase;letter-spacing:0.04em;"
    "color:#6b6b6b;padding-top:2px;text-align:right}\n"
    ".setup{color:#444;font-size:14px;max-width:70em}\n"
    "figure{margin:10px 0 26px}\n"
    "figcaption{font-size:13.5px;color:#444;max-width:76em;margin-top:4px;line-height:1.5}\n"
    "figcaption .zero{color:#333}\n"
    "svg.chart{display:block;max-width:100%;height:auto;overflow:visible}\n"
    "svg text{font-family:inherit}\n"
    "svg .tick{font-size:10.5px;fill:#555;font-variant-numeric:tabular-nums}\n"
    "svg .tick.minor{font-size:9px;fill:#888}\n"
    "svg .axt{font-size:11.5px;fill:#222}\n"
    "svg .ttl{font-size:12px;font-weight:600;fill:#1d1d1f}\n"
    "svg .leg{font-size:12px;fill:#222}\n"
    "svg .note{font-size:12px;fill:#999;font-style:italic}\n"
    "svg .reflab{font-size:10px;fill:#777}\n"
    "svg .grid{stroke:#ededed;stroke-width:1}\n"
    "svg .tk{stroke:#777;stroke-width:1}\n"
    "svg .ax{stroke:#555;stroke-width:1;fill:none}\n"
    "svg .pbg{fill:#fff}\n"
    "svg .zband{fill:#f7eeee}\n"
    "svg .brk{stroke:#555;stroke-width:1;fill:none}\n"
    "svg path.data{stroke-width:1.7;stroke-linejoin:round;stroke-linecap:round}\n"
    "svg path.data.thin{stroke-width:1.1}svg path.data.bold{stroke-width:2.8}\n"
    "svg path.zm{fill:#fff;stroke-width:1.3}\n"
    "svg rect.sq{fill:#fff;stroke-width:1.5}\n"
    "svg .ref{stroke:#888;stroke-width:1;stroke-dasharray:4 3}\n"
    "svg path.data.eb{stroke-width:1.2}\n"
    ".pair{display:flex;flex-wrap:wrap;column-gap:24px}.pair figure{flex:1 1 520px;min-width:0}\n"
    "table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums;margin-top:8px}\n"
    "th,td{padding:3px 9px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}\n"
    "th{font-weight:600;border-bottom:1.5px solid #999;vertical-align:bottom}\n"
    "td.l,th.l{text-align:left}\n"
    "tr.sep td{border-top:1.5px solid #ccc}\n"
    "td.bad{background:#fbe3e0}td.ok{background:#e3f3e6}\n"
    ".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}\n"
    "footer{margin-top:36px;font-size:12.5px;color:#777}\n";

/* ---- validation ---- */

static int check_run(gs_ctx *ctx, const gs_study_run *r, int i)
{
    if (!memchr(r->act, '\0', sizeof r->act) || !r->act[0])
        return gs_error(ctx, GS_EINVAL, "gs_report_write: run %d: act is empty or unterminated", i);
    if (!memchr(r->norm, '\0', sizeof r->norm) ||
        (strcmp(r->norm, "none") && strcmp(r->norm, "batch") && strcmp(r->norm, "layer")))
        return gs_error(ctx, GS_EINVAL, "gs_report_write: run %d (%s): norm must be none, batch "
                        "or layer", i, r->act);
    if (r->depth < 1 || r->n_layers != r->depth + 2)
        return gs_error(ctx, GS_EINVAL, "gs_report_write: run %d (%s, depth %d): n_layers %d, "
                        "expected depth + 2 (stem, hidden layers, head)", i, r->act, r->depth,
                        r->n_layers);
    if (r->skip < 0 || r->n_blocks < 0 || r->n_logged < 0 || r->steps < 0)
        return gs_error(ctx, GS_EINVAL, "gs_report_write: run %d (%s): negative skip, n_blocks, "
                        "n_logged or steps", i, r->act);
    if (r->n_blocks > 0 && !r->norm_ratio)
        return gs_error(ctx, GS_EINVAL, "gs_report_write: run %d (%s): n_blocks %d but norm_ratio "
                        "is NULL", i, r->act, r->n_blocks);
    if (r->n_logged > 0 && !r->logged_steps)
        return gs_error(ctx, GS_EINVAL, "gs_report_write: run %d (%s): n_logged %d but "
                        "logged_steps is NULL", i, r->act, r->n_logged);
    for (int k = 1; k < r->n_logged; k++)
        if (r->logged_steps[k] <= r->logged_steps[k - 1])
            return gs_error(ctx, GS_EINVAL, "gs_report_write: run %d (%s): logged_steps not "
                            "increasing at %d", i, r->act, k);
    return GS_OK;
}

static int check_conv_run(gs_ctx *ctx, const gs_study_conv_run *r, int i)
{
    if (!memchr(r->family, '\0', sizeof r->family) ||
        (strcmp(r->family, "plain") && strcmp(r->family, "resnet")))
        return gs_error(ctx, GS_EINVAL, "gs_report_write: conv run %d: family must be plain or "
                        "resnet", i);
    int plain = strcmp(r->family, "plain") == 0;
    if (plain ? r->shortcut != 0 : r->shortcut && r->shortcut != 'A' && r->shortcut != 'B')
        return gs_error(ctx, GS_EINVAL, "gs_report_write: conv run %d (%s-%d): shortcut %d, "
                        "expected %s", i, r->family, r->depth, r->shortcut,
                        plain ? "0 for a plain net" : "'A', 'B' or 0");
    if (r->depth < 8 || (r->depth - 2) % 6)
        return gs_error(ctx, GS_EINVAL, "gs_report_write: conv run %d (%s): depth %d is not 6n + 2 "
                        "with n >= 1", i, r->family, r->depth);
    if (r->n_layers != r->depth)
        return gs_error(ctx, GS_EINVAL, "gs_report_write: conv run %d (%s-%d): n_layers %d, "
                        "expected depth (conv, two per block, fc)", i, r->family, r->depth,
                        r->n_layers);
    if (r->width < 0 || r->steps < 0 || r->n_points < 0)
        return gs_error(ctx, GS_EINVAL, "gs_report_write: conv run %d (%s-%d): negative width, "
                        "steps or n_points (%d, %d, %d)", i, r->family, r->depth, r->width,
                        r->steps, r->n_points);
    if (r->n_points > 0 && !r->curve_steps)
        return gs_error(ctx, GS_EINVAL, "gs_report_write: conv run %d (%s-%d): n_points %d but "
                        "curve_steps is NULL", i, r->family, r->depth, r->n_points);
    for (int k = 1; k < r->n_points; k++)
        if (r->curve_steps[k] <= r->curve_steps[k - 1])
            return gs_error(ctx, GS_EINVAL, "gs_report_write: conv run %d (%s-%d): curve_steps "
                            "not increasing at %d", i, r->family, r->depth, k);
    return GS_OK;
}

static int check_ensemble(gs_ctx *ctx, const gs_study_ensemble *e)
{
#define ENS_BAD(field, ...) gs_error(ctx, GS_EINVAL, "gs_report_write: ensemble." field ": " __VA_ARGS__)
    if (e->blocks < 1) return ENS_BAD("blocks", "%d, expected >= 1", e->blocks);
    if (e->plain_depth < 0) return ENS_BAD("plain_depth", "%d is negative", e->plain_depth);
    if (e->n_k < 0) return ENS_BAD("n_k", "%d is negative", e->n_k);
    if (e->half_lo < 0 || e->half_lo > e->blocks)
        return ENS_BAD("half_lo", "%d, expected 0..blocks (%d)", e->half_lo, e->blocks);
    if (e->half_hi < e->half_lo || e->half_hi > e->blocks)
        return ENS_BAD("half_hi", "%d, expected half_lo (%d)..blocks (%d)", e->half_hi, e->half_lo,
                       e->blocks);
    if (!e->exact_norm) return ENS_BAD("exact_norm", "NULL");
    if (!e->count_fraction) return ENS_BAD("count_fraction", "NULL");
    if (!e->single_err) return ENS_BAD("single_err", "NULL");
#undef ENS_BAD
    return GS_OK;
}

static int check_normratio(gs_ctx *ctx, const gs_study_normratio *nr)
{
#define NR_BAD(field, ...) gs_error(ctx, GS_EINVAL, "gs_report_write: normratio." field ": " __VA_ARGS__)
    if (nr->n_series < 1 || nr->n_series > 2) return NR_BAD("n_series", "%d, expected 1 or 2", nr->n_series);
    for (int i = 0; i < nr->n_series; i++) {
        const gs_study_nr_series *S = &nr->series[i];
        if (!memchr(S->family, '\0', sizeof S->family) ||
            (strcmp(S->family, "resnet") && strcmp(S->family, "mlp")))
            return NR_BAD("family", "series %d: must be resnet or mlp", i);
        if (S->samples < 1) return NR_BAD("samples", "series %d (%s): %d, expected >= 1", i, S->family, S->samples);
        if (S->n_depths < 1 || S->n_depths > GS_NR_MAX_DEPTHS)
            return NR_BAD("n_depths", "series %d (%s): %d, expected 1..%d", i, S->family, S->n_depths,
                          GS_NR_MAX_DEPTHS);
        for (int d = 0; d < S->n_depths; d++) {
            if (S->depths[d] < 1 || (d && S->depths[d] <= S->depths[d - 1]))
                return NR_BAD("depths", "series %d (%s): depth %d at %d is not positive and increasing",
                              i, S->family, S->depths[d], d);
            if (S->blocks[d] < 1)
                return NR_BAD("blocks", "series %d (%s), depth %d: %d, expected >= 1", i, S->family,
                              S->depths[d], S->blocks[d]);
            if (!S->ratio[d])
                return NR_BAD("ratio", "series %d (%s), depth %d: NULL", i, S->family, S->depths[d]);
        }
    }
#undef NR_BAD
    return GS_OK;
}

static int check_study(gs_ctx *ctx, const gs_study *s, const char *dir)
{
    if (!s || !dir || !*dir)
        return gs_error(ctx, GS_EINVAL, "gs_report_write: study and dir are required");
    if (s->n_runs < 0 || s->n_conv_runs < 0 || (s->n_runs && !s->runs) ||
        (s->n_conv_runs && !s->conv_runs))
        return gs_error(ctx, GS_EINVAL, "gs_report_write: n_runs %d / n_conv_runs %d negative, or "
                        "runs / conv_runs NULL", s->n_runs, s->n_conv_runs);
    if (s->n_runs + s->n_conv_runs == 0)
        return gs_error(ctx, GS_EINVAL, "gs_report_write: the study has no runs (n_runs 0, "
                        "n_conv_runs 0)");
    if (!memchr(s->notes, '\0', sizeof s->notes))
        return gs_error(ctx, GS_EINVAL, "gs_report_write: notes are not NUL-terminated");
    int rc = GS_OK;
    for (int i = 0; i < s->n_runs && !rc; i++) rc = check_run(ctx, &s->runs[i], i);
    for (int i = 0; i < s->n_conv_runs && !rc; i++) rc = check_conv_run(ctx, &s->conv_runs[i], i);
    if (!rc && s->ensemble) rc = check_ensemble(ctx, s->ensemble);
    if (!rc && s->normratio) rc = check_normratio(ctx, s->normratio);
    return rc;
}

/* ---- the table of runs ---- */

static void cell_ratio(FILE *f, const double *g, int n)
{
    double L = gs_report_log10_ratio(g, n);
    if (isnan(L)) { fputs("<td>\xe2\x80\x93</td>", f); return; }
    const char *cls = fabs(L) <= 1.0 ? "ok" : fabs(L) > 2.0 ? "bad" : "";
    if (isinf(L)) { fputs("<td class=\"bad\">0</td>", f); return; }
    if (L >= -2.0 && L < 3.0) { fprintf(f, "<td class=\"%s\">%.3g</td>", cls, pow(10.0, L)); return; }
    int e = (int)floor(L);
    double m = pow(10.0, L - e);
    if (m >= 9.95) { m /= 10.0; e++; }
    fprintf(f, "<td class=\"%s\">%.1f\xc3\x97" "10<sup>%s%d</sup></td>", cls, m,
            e < 0 ? "\xe2\x88\x92" : "", e < 0 ? -e : e);
}

static void cell_pct(FILE *f, double v)
{
    if (isnan(v)) fputs("<td>\xe2\x80\x93</td>", f);
    else fprintf(f, "<td>%.1f</td>", 100.0 * v);
}

static void run_table(FILE *f, const gs_page *pg)
{
    const gs_study *s = pg->s;
    fputs("<table>\n<tr><th class=\"l\">depth</th><th class=\"l\">activation</th>"
          "<th class=\"l\">architecture</th><th>steps</th><th>test acc (%)</th>"
          "<th>train acc (%)</th><th>final loss</th><th>first/last<br>at init</th>"
          "<th>first/last<br>at end</th><th>layers at 0<br>(init)</th><th>dead<br>mean (%)</th>"
          "<th>saturated<br>mean (%)</th><th>norm ratio<br>mean</th></tr>\n", f);
    int last_depth = -1;
    /* depth, then activation in page order, then architecture; other norms last */
    for (int d = 0; d < pg->n_depths; d++)
        for (int a = 0; a < pg->n_acts; a++)
            for (int i = 0; i < s->n_runs; i++) {
                const gs_study_run *r = &s->runs[i];
                if (gs_page_row_depth(pg, r) != pg->depths[d] || strcmp(r->act, pg->acts[a]))
                    continue;
                int bn = strcmp(r->norm, "batch") == 0;
                fprintf(f, "<tr%s><td class=\"l\">%d</td><td class=\"l\"><span class=\"sw\" "
                           "style=\"background:%s\"></span>", pg->depths[d] != last_depth &&
                           last_depth >= 0 ? " class=\"sep\"" : "", r->depth, gs_act_colour(r->act));
                gs_html_escape(f, r->act);
                fprintf(f, "</td><td class=\"l\">%s%s</td><td>%d</td>",
                        strcmp(r->norm, "layer") == 0 ? (r->skip > 0 ? "residual" : "plain")
                                                      : gs_arch_name(r->skip > 0, bn),
                        strcmp(r->norm, "layer") == 0 ? " + LN" : "", r->steps);
                last_depth = pg->depths[d];
                cell_pct(f, r->test_acc);
                cell_pct(f, r->train_acc);
                if (isnan(r->final_loss)) fputs("<td>\xe2\x80\x93</td>", f);
                else fprintf(f, "<td>%.3f</td>", r->final_loss);
                cell_ratio(f, r->grad_norm_init, r->n_layers);
                cell_ratio(f, r->grad_norm_end, r->n_layers);
                fprintf(f, "<td>%d</td>", gs_report_count_zero(r->grad_norm_init, r->n_layers));
                cell_pct(f, gs_report_mean_finite(r->dead_fraction, r->n_layers));
                cell_pct(f, gs_report_mean_finite(r->saturated_fraction, r->n_layers));
                double nr = gs_report_mean_finite(r->norm_ratio, r->n_blocks);
                if (isnan(nr)) fputs("<td>\xe2\x80\x93</td>", f);
                else fprintf(f, "<td>%.3g</td>", nr);
                fputs("</tr>\n", f);
            }
    fputs("</table>\n", f);
}

static void conv_table(FILE *f, const gs_page *pg)
{
    const gs_study *s = pg->s;
    fputs("<table>\n<tr><th class=\"l\">network</th><th>depth</th><th>steps</th>"
          "<th>final train<br>error (%)</th><th>test<br>error (%)</th><th>seconds</th>"
          "<th>first/last<br>at init</th><th>first/last<br>at end</th></tr>\n", f);
    int last = -1;
    for (int k = 0; k < 2; k++)            /* plain, then resnet; depth ascending */
        for (int d = 0; d < pg->n_conv_depths; d++)
            for (int i = 0; i < s->n_conv_runs; i++) {
                const gs_study_conv_run *r = &s->conv_runs[i];
                if (r->depth != pg->conv_depths[d] || strcmp(r->family, k ? "resnet" : "plain"))
                    continue;
                fprintf(f, "<tr data-net=\"%s-%d\"%s><td class=\"l\"><span class=\"sw\" "
                           "style=\"background:%s\"></span>%s-%d", r->family, r->depth,
                        last >= 0 && last != k ? " class=\"sep\"" : "",
                        gs_page_depth_colour(pg, r->depth), r->family, r->depth);
                last = k;
                if (r->shortcut) fprintf(f, " (shortcut %c)", r->shortcut);
                fprintf(f, "</td><td>%d</td><td>%d</td>", r->depth, r->steps);
                cell_pct(f, r->train_err);
                cell_pct(f, r->test_err);
                if (isfinite(r->seconds)) fprintf(f, "<td>%.1f</td>", r->seconds);
                else fputs("<td>\xe2\x80\x93</td>", f);
                cell_ratio(f, r->grad_norm_init, r->n_layers);
                cell_ratio(f, r->grad_norm_end, r->n_layers);
                fputs("</tr>\n", f);
            }
    fputs("</table>\n", f);
}

/* The convolutional part: He et al.'s degradation experiment. */
static int conv_section(FILE *f, gs_page *pg, int *next_fig)
{
    const gs_study *s = pg->s;
    int lo = pg->conv_depths[0], hi = pg->conv_depths[pg->n_conv_depths - 1];
    fputs("<h2>", f);
    if (s->n_runs) fputs("6. ", f);
    fprintf(f, "Convolutional networks: depth %d", lo);
    if (hi != lo) fprintf(f, " \xe2\x86\x92 %d", hi);
    fputs(" (He et al.'s degradation)</h2>\n<p class=\"lead\">He et al. (2015) found that a "
          "deeper plain convolutional net ends with a higher <i>training</i> error than a "
          "shallower one \xe2\x80\x94 an optimisation difficulty, not overfitting \xe2\x80\x94 "
          "while with identity shortcuts the deeper net is the better one. The same comparison "
          "here: plain and residual nets of depth 6n+2 (He et al. \xc2\xa7" "4.2) trained on the "
          "same data; the setup above gives the details.</p>\n", f);
    int base = s->n_runs ? 7 : 1, before = pg->n_charts, rc;
    if ((rc = gs_fig_conv_error(f, pg, base))) return rc;
    if (pg->n_charts == before) fputs("<p class=\"lead\"><i>No error curves were recorded for "
                                      "these nets.</i></p>\n", f);
    if ((rc = gs_fig_conv_grad_by_layer(f, pg, base + (pg->n_charts > before)))) return rc;
    fputs("<p class=\"lead\">Final errors measured in eval mode; first/last: "
          "\xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82W\xe2\x80\x96 of the first convolution over "
          "that of the fully connected layer.</p>\n", f);
    conv_table(f, pg);
    *next_fig = base + (pg->n_charts - before);
    return GS_OK;
}

/* The ensemble part: Veit et al.'s residual networks as ensembles of paths. */
static int ensemble_section(FILE *f, gs_page *pg, int section, int fig_no)
{
    const gs_study_ensemble *e = pg->s->ensemble;
    fprintf(f, "<h2 id=\"ensemble\">%d. Residual networks as ensembles (Veit et al. 2016)</h2>\n"
               "<p class=\"lead\">Veit et al. (2016) unroll a residual net of n blocks into "
               "2<sup>n</sup> paths, one per subset of residual branches, and find that the "
               "gradient comes mostly from short paths and that deleting a single block barely "
               "hurts, unlike deleting a layer of a plain net. The same here: a residual MLP of "
               "%d blocks (%d hidden layers, width %d) and a plain MLP of %d layers, %d SGD steps "
               "each; test error %.1f%% and %.1f%% on the whole test split.</p>\n", section,
            e->blocks, 2 * e->blocks, e->width, e->plain_depth, e->steps, 100.0 * e->test_err,
            100.0 * e->plain_test_err);
    const int rc = gs_ensemble_section_figures(f, pg, fig_no);
    if (e->jac_samples > 0)
        fprintf(f, "<p>Jacobian spectrum of J = &part;h<sub>L</sub>/&part;h<sub>0</sub>, from the first "
                   "block's input to the last block's output (the plain net: its first to last hidden "
                   "layer), eval mode, medians over %d test images (<code>gradscope jacobian</code>): "
                   "residual net &sigma;<sub>1</sub> = %.3g, &sigma;<sub>2</sub>/&sigma;<sub>1</sub> = %.3g, "
                   "mean &sigma;<sup>2</sup> = %.3g; plain net &sigma;<sub>1</sub> = %.3g, "
                   "&sigma;<sub>2</sub>/&sigma;<sub>1</sub> = %.3g, mean &sigma;<sup>2</sup> = %.3g. "
                   "Dynamical isometry would put every singular value near 1; a ratio "
                   "&sigma;<sub>2</sub>/&sigma;<sub>1</sub> near 0 means the Jacobian has collapsed "
                   "towards rank one, a mean &sigma;<sup>2</sup> far below 1 that it shrinks most "
                   "directions.</p>\n", e->jac_samples, e->jac_sigma1, e->jac_sigma_ratio, e->jac_mean_sq,
                e->plain_jac_sigma1, e->plain_jac_sigma_ratio, e->plain_jac_mean_sq);
    return rc;
}

/* The norm-preservation part: Zaeemzadeh et al.'s ratio at initialisation against depth. */
static int normratio_section(FILE *f, gs_page *pg, int section, int fig_no)
{
    const gs_study *s = pg->s;
    fprintf(f, "<h2 id=\"normratio\">%d. Norm preservation against depth (Zaeemzadeh et al. "
               "2018)</h2>\n<p class=\"lead\">The norm-preservation ratio of a residual block b is "
               "\xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82x<sub>b</sub>\xe2\x80\x96 / "
               "\xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82x<sub>b+1</sub>\xe2\x80\x96, the "
               "gradient's norm at the block's input over that at its output: 1.0 means the block "
               "passes the gradient back with its norm preserved, above 1 it amplifies it, below 1 it "
               "shrinks it. Zaeemzadeh et al. (2018) show that identity shortcuts bring the ratio "
               "closer to 1 the deeper the net, while the transition blocks, which change the shape, "
               "do not. Measured here at initialisation (no training): each net is built, "
               "initialised and given one train-mode forward and backward pass on the first "
               "training samples, batch-norm running statistics left untouched.</p>\n", section);
    int rc = gs_normratio_section_figures(f, pg, fig_no);
    if (rc) return rc;
    int trained = 0;
    for (int i = 0; i < s->n_runs && !trained; i++) {
        const gs_study_run *r = &s->runs[i];
        for (int b = 0; r->skip > 0 && r->norm_ratio && b < r->n_blocks && !trained; b++)
            trained = isfinite(r->norm_ratio[b]) && r->norm_ratio[b] > 0.0;
    }
    if (trained)
        fputs("<p class=\"lead\">The same ratio during training, averaged over every step, is "
              "drawn block by block for every residual MLP run of the grid in Figure 6 "
              "(section 5).</p>\n", f);
    return GS_OK;
}

/* ---- the page ---- */

static const char *topic_label(const char *topic)
{
    static const struct { const char *topic, *label; } map[] = {
        {"vanishing", "vanishing"}, {"relu", "ReLU"}, {"saturation", "saturation"},
        {"dead_units", "dead units"}, {"residual", "skip connections"},
        {"batch_norm", "batch norm"}, {"accuracy", "accuracy"}, {"degradation", "He et al."},
        {"depth", "depth"}, {"conv_degradation", "conv degradation"},
        {"ensemble", "Veit et al."}, {"norm_preservation", "norm preservation"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].topic, topic) == 0) return map[i].label;
    return topic;
}

/* Sections 1-5 and the table: the mlp part. */
static int mlp_sections(FILE *f, gs_page *pg)
{
    int rc = GS_OK;
    fputs("<h2>1. Gradient norm by layer</h2>\n<p class=\"lead\">How large is the gradient that "
          "reaches each layer? If it vanishes, the lines fall from right (output) to left (input) "
          "by orders of magnitude, and the first layers cannot learn.</p>\n", f);
    rc = gs_fig_grad_by_layer(f, pg);
    if (rc) return rc;
    fputs("<h2>2. Gradient norm during training</h2>\n<p class=\"lead\">The same norm at every "
          "logged step, layer by layer: does training repair a vanishing gradient, or does it "
          "stay? Dark is small, yellow large.</p>\n", f);
    for (int d = pg->n_depths - 1; d >= 0 && !rc; d--) rc = gs_fig_heat(f, pg, pg->depths[d]);
    if (rc) return rc;
    fputs("<h2>3. Accuracy and loss</h2>\n<p class=\"lead\">What the gradients mean for "
          "learning: accuracy against depth, and the training loss over the run.</p>\n", f);
    if ((rc = gs_fig_accuracy(f, pg)) || (rc = gs_fig_loss(f, pg))) return rc;
    fputs("<h2>4. Dead and saturated units</h2>\n<p class=\"lead\">The price of each "
          "activation: ReLU units that never fire again, sigmoid and tanh units stuck where "
          "their derivative is near zero.</p>\n", f);
    if ((rc = gs_fig_fractions(f, pg))) return rc;
    fputs("<h2>5. Skip connections, block by block</h2>\n<p class=\"lead\">How much each "
          "residual block changes the gradient norm on its way back to the input.</p>\n", f);
    int before = pg->n_charts;
    if ((rc = gs_fig_norm_ratio(f, pg))) return rc;
    if (pg->n_charts == before) fputs("<p class=\"lead\"><i>No residual runs with a measured "
                                     "norm ratio in this study.</i></p>\n", f);
    fputs("<h2>All MLP runs</h2>\n<p class=\"lead\">First/last: \xe2\x80\x96\xe2\x88\x82L/\xe2\x88\x82W"
          "\xe2\x80\x96 of the stem over that of the head (green: within one order of magnitude; "
          "red: more than two orders apart, or 0).</p>\n", f);
    run_table(f, pg);
    return GS_OK;
}

static int write_page(FILE *f, const gs_study *s, const gs_report_text *t)
{
    gs_page pg;
    gs_page_index(&pg, s);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Do gradients vanish with depth? \xe2\x80\x94 gradscope study</title>\n<style>\n", f);
    fputs(CSS, f);
    fputs("</style>\n</head>\n<body>\n<main>\n<h1>Do gradients vanish with depth?</h1>\n"
          "<p class=\"sub\">", f);
    if (s->n_runs) fputs("Sigmoid, tanh and ReLU in plain and residual MLPs, with and without "
                         "batch norm", f);
    if (s->n_conv_runs) fputs(s->n_runs ? "; plain against residual conv nets" : "Plain against "
                              "residual convolutional nets (He et al. 2015)", f);
    fputs(" \xe2\x80\x94 measured by gradscope on ", f);
    gs_html_escape(f, s->dataset ? s->dataset : "the data set");
    if (s->n_runs) fprintf(f, ", %d configurations", s->n_runs);
    if (s->n_conv_runs) fprintf(f, ", %d conv nets", s->n_conv_runs);
    if (s->seconds > 0) fprintf(f, ", %.0f s of training", s->seconds);
    fputs(".</p>\n<p class=\"summary\">", f);
    gs_html_escape(f, t->summary);
    fputs("</p>\n", f);
    if (s->notes[0]) {
        fputs("<p class=\"setup\"><b>Setup.</b> ", f);
        gs_html_escape(f, s->notes);
        fputs("</p>\n", f);
    }
    for (int i = 0; i < s->n_runs; i++) {       /* say where a depth was rounded to whole blocks */
        const gs_study_run *r = &s->runs[i];
        int exact = 0, nominal = -1;
        for (int d = 0; d < pg.n_depths; d++) exact |= pg.depths[d] == r->depth;
        nominal = gs_page_row_depth(&pg, r);
        if (!exact && nominal != r->depth) {
            fprintf(f, "<p class=\"setup\">Residual nets hold whole blocks of %d layers, so a depth "
                       "that is not a multiple of %d is rounded down (%d \xe2\x86\x92 %d); those nets "
                       "are drawn with the nominal depth and listed with their true depth in the "
                       "table.</p>\n", r->skip, r->skip, nominal, r->depth);
            break;
        }
    }
    fputs("<h2>Findings</h2>\n<ul class=\"findings\">\n", f);
    for (int i = 0; i < t->n_claims; i++) {
        fprintf(f, "<li data-topic=\"%s\"><span class=\"tag\">%s</span> ", t->claims[i].topic,
                topic_label(t->claims[i].topic));
        fputs("<span>", f);
        gs_html_escape(f, t->claims[i].text);
        fputs("</span></li>\n", f);
    }
    fputs("</ul>\n", f);

    int rc = s->n_runs ? mlp_sections(f, &pg) : GS_OK;
    int next_fig = s->n_runs ? 7 : 1;     /* the mlp part has Figures 1-6 */
    if (!rc && s->n_conv_runs) rc = conv_section(f, &pg, &next_fig);
    int section = (s->n_runs ? 5 : 0) + (s->n_conv_runs ? 1 : 0) + 1, before = pg.n_charts;
    if (!rc && s->ensemble) {
        rc = ensemble_section(f, &pg, section++, next_fig);
        next_fig += pg.n_charts - before;
    }
    if (!rc && s->normratio) rc = normratio_section(f, &pg, section, next_fig);
    if (rc) return rc;
    fprintf(f, "<footer data-charts=\"%d\">Generated by gradscope from the measured numbers; "
               "every number on this page is in <code>report.json</code> next to it.", pg.n_charts);
    if (s->n_runs)
        fputs(" MLP layers: 0 = stem.weight, 1\xe2\x80\xa6" "D = layers.0\xe2\x80\xa6"
              "D\xe2\x88\x92" "1.weight, D+1 = head.weight.", f);
    if (s->n_conv_runs)
        fputs(" Conv layers: 0 = conv.weight, then blocks.k.c1.weight and blocks.k.c2.weight, "
              "last = fc.weight.", f);
    fputs("</footer>\n</main>\n</body>\n</html>\n", f);
    return GS_OK;
}

/* ---- writing through a temporary file ---- */

typedef int (*writer_fn)(gs_ctx *ctx, FILE *f, const gs_study *s, const gs_report_text *t);

static int json_writer(gs_ctx *ctx, FILE *f, const gs_study *s, const gs_report_text *t)
{
    return gs_report_write_json(ctx, s, t, f);
}

static int page_writer(gs_ctx *ctx, FILE *f, const gs_study *s, const gs_report_text *t)
{
    int rc = write_page(f, s, t);
    return rc ? gs_error(ctx, rc, "gs_report_write: out of memory drawing the page") : GS_OK;
}

static int write_file(gs_ctx *ctx, const char *dir, const char *name, writer_fn fn,
                      const gs_study *s, const gs_report_text *t)
{
    size_t n = strlen(dir) + strlen(name) + 8;
    char *path = malloc(n), *tmp = malloc(n);
    if (!path || !tmp) {
        free(path);
        free(tmp);
        return gs_error(ctx, GS_ENOMEM, "gs_report_write: out of memory");
    }
    snprintf(path, n, "%s/%s", dir, name);
    snprintf(tmp, n, "%s/.%s.tmp", dir, name);
    int rc = GS_OK;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rc = gs_error(ctx, GS_EIO, "gs_report_write: cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    rc = fn(ctx, f, s, t);
    int bad = ferror(f);
    if (fclose(f) != 0) bad = 1;
    if (!rc && bad) rc = gs_error(ctx, GS_EIO, "gs_report_write: write error on %s", tmp);
    if (!rc && rename(tmp, path) != 0)
        rc = gs_error(ctx, GS_EIO, "gs_report_write: cannot rename %s to %s: %s", tmp, path,
                      strerror(errno));
    if (rc) remove(tmp);
done:
    free(path);
    free(tmp);
    return rc;
}

int gs_report_write(gs_ctx *ctx, const gs_study *s, const char *dir)
{
    int rc = check_study(ctx, s, dir);
    if (rc) return rc;
    gs_report_text *t = malloc(sizeof *t);
    if (!t) return gs_error(ctx, GS_ENOMEM, "gs_report_write: out of memory");
    rc = gs_report_conclusion(ctx, s, t);
    if (!rc) rc = write_file(ctx, dir, "report.json", json_writer, s, t);
    if (!rc) rc = write_file(ctx, dir, "index.html", page_writer, s, t);
    free(t);
    return rc;
}
