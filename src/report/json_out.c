/* json_out.c - report.json: every number the page shows, so others can script
 * against the study without scraping HTML.
 *
 * Keys per run (contract of issue 3): act norm skip depth steps train_acc
 * test_acc grad_norm_by_layer_init grad_norm_by_layer_end dead_fraction_by_layer
 * saturated_fraction_by_layer norm_ratio_by_block; plus the derived numbers
 * the table and conclusion show, the loss curve and the heat map.  NaN and
 * infinities are written as null (JSON has neither); an absent array is
 * written as n nulls so that lengths always match n_layers / n_blocks.
 *
 * "conv_runs" (always present, [] without conv nets), per net: family shortcut
 * ("A" | "B" | null) depth width steps seconds train_error test_error
 * curve_steps train_error_curve test_error_curve layers (conv, blocks.k.c1,
 * blocks.k.c2, ..., fc) grad_norm_by_layer_init grad_norm_by_layer_end, and the
 * derived log10_first_last_init / _end; plus "conv_test_samples" at the top.
 *
 * "ensemble" (null without the part; Veit et al. 2016): blocks width steps
 * test_error plain_depth plain_test_error path_samples exact_norm_by_length
 * veit_total_by_length (nulls when absent) path_count_fraction (n + 1 each)
 * sum_check_rel_err half_gradient_lengths [half_lo, half_hi] lesion_samples
 * baseline_error plain_baseline_error single_block_error (n)
 * plain_single_layer_error (plain_depth) jacobian ({samples sigma1_median
 * sigma2_over_sigma1_median mean_sq_median plain_sigma1_median
 * plain_sigma2_over_sigma1_median plain_mean_sq_median} of J = dh_L/dh_0, or
 * null) n_k k_deleted [{k mean_error std_error plain_mean_error
 * plain_std_error}] (k = 1..n_k).
 *
 * "normratio" (null without the part; Zaeemzadeh et al. 2018, at
 * initialisation): {"series": [{family ("resnet" | "mlp") shortcut ("A" | "B"
 * | null) width samples depths blocks mean_identity_ratio
 * mean_transition_ratio (one per depth; null where the net has no such block)
 * ratios [[per block] per depth] transition [[true | false per block] per
 * depth]}]}.  samples is per series: the two families may use different
 * batches.
 */
#include <inttypes.h>
#include <math.h>
#include "io/json.h"
#include "page.h"


static void arr(FILE *f, const double *x, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', f);
        gs_json_write_number(f, x ? x[i] : NAN);
    }
    fputc(']', f);
}

static void key(FILE *f, const char *k)
{
    fprintf(f, ",\n      \"%s\": ", k);
}

static void arr_i64(FILE *f, const int64_t *x, int n)
{
    fputc('[', f);
    for (int i = 0; x && i < n; i++) fprintf(f, "%s%" PRId64, i ? "," : "", x[i]);
    fputc(']', f);
}

static void layer_names(FILE *f, const gs_study_run *r)
{
    fputc('[', f);
    for (int i = 0; i < r->n_layers; i++) {
        if (i) fputc(',', f);
        if (i == 0) fputs("\"stem.weight\"", f);
        else if (i == r->n_layers - 1) fputs("\"head.weight\"", f);
        else fprintf(f, "\"layers.%d.weight\"", i - 1);
    }
    fputc(']', f);
}

static void write_run(FILE *f, const gs_study_run *r)
{
    fputs("    {\n      \"act\": ", f);
    gs_json_escape(f, r->act);
    key(f, "norm"); gs_json_escape(f, r->norm);
    key(f, "skip"); fprintf(f, "%d", r->skip);
    key(f, "residual"); fputs(r->skip > 0 ? "true" : "false", f);
    key(f, "depth"); fprintf(f, "%d", r->depth);
    key(f, "width"); fprintf(f, "%d", r->width);
    key(f, "steps"); fprintf(f, "%d", r->steps);
    key(f, "train_acc"); gs_json_write_number(f, r->train_acc);
    key(f, "test_acc"); gs_json_write_number(f, r->test_acc);
    key(f, "final_loss"); gs_json_write_number(f, r->final_loss);
    key(f, "n_layers"); fprintf(f, "%d", r->n_layers);
    key(f, "layer_names"); layer_names(f, r);
    key(f, "grad_norm_by_layer_init"); arr(f, r->grad_norm_init, r->n_layers);
    key(f, "grad_norm_by_layer_end"); arr(f, r->grad_norm_end, r->n_layers);
    key(f, "dead_fraction_by_layer"); arr(f, r->dead_fraction, r->n_layers);
    key(f, "saturated_fraction_by_layer"); arr(f, r->saturated_fraction, r->n_layers);
    key(f, "n_blocks"); fprintf(f, "%d", r->n_blocks);
    key(f, "norm_ratio_by_block"); arr(f, r->n_blocks ? r->norm_ratio : NULL, r->n_blocks);
    /* derived: what the table and the conclusion show */
    double li = gs_report_log10_ratio(r->grad_norm_init, r->n_layers);
    double le = gs_report_log10_ratio(r->grad_norm_end, r->n_layers);
    key(f, "log10_first_last_init"); gs_json_write_number(f, li);
    key(f, "log10_first_last_end"); gs_json_write_number(f, le);
    key(f, "first_is_zero_init"); fputs(isinf(li) ? "true" : "false", f);
    key(f, "first_is_zero_end"); fputs(isinf(le) ? "true" : "false", f);
    key(f, "zero_grad_layers_init");
    fprintf(f, "%d", gs_report_count_zero(r->grad_norm_init, r->n_layers));
    key(f, "zero_grad_layers_end");
    fprintf(f, "%d", gs_report_count_zero(r->grad_norm_end, r->n_layers));
    key(f, "dead_fraction_mean"); gs_json_write_number(f, gs_report_mean_finite(r->dead_fraction, r->n_layers));
    key(f, "saturated_fraction_mean");
    gs_json_write_number(f, gs_report_mean_finite(r->saturated_fraction, r->n_layers));
    key(f, "norm_ratio_mean"); gs_json_write_number(f, gs_report_mean_finite(r->norm_ratio, r->n_blocks));
    /* the series behind the loss curves and heat maps */
    key(f, "logged_steps"); arr_i64(f, r->logged_steps, r->n_logged);
    key(f, "train_loss_curve"); arr(f, r->train_loss_curve, r->n_logged);
    key(f, "grad_norm_heat");
    fputc('[', f);
    for (int i = 0; r->grad_norm_heat && i < r->n_logged; i++) {
        fputs(i ? ",\n        " : "\n        ", f);
        arr(f, r->grad_norm_heat + (size_t)i * r->n_layers, r->n_layers);
    }
    fputs("]\n    }", f);
}

static void write_conv_run(FILE *f, const gs_study_conv_run *r)
{
    fputs("    {\n      \"family\": ", f);
    gs_json_escape(f, r->family);
    key(f, "shortcut");
    if (r->shortcut) fprintf(f, "\"%c\"", r->shortcut); else fputs("null", f);
    key(f, "depth"); fprintf(f, "%d", r->depth);
    key(f, "width"); fprintf(f, "%d", r->width);
    key(f, "steps"); fprintf(f, "%d", r->steps);
    key(f, "seconds"); gs_json_write_number(f, r->seconds);
    key(f, "train_error"); gs_json_write_number(f, r->train_err);
    key(f, "test_error"); gs_json_write_number(f, r->test_err);
    key(f, "curve_steps"); arr_i64(f, r->curve_steps, r->n_points);
    key(f, "train_error_curve"); arr(f, r->train_err_curve, r->n_points);
    key(f, "test_error_curve"); arr(f, r->test_err_curve, r->n_points);
    key(f, "layers");
    fputc('[', f);
    for (int i = 0; i < r->n_layers; i++) {
        if (i == 0) fputs("\"conv\"", f);
        else if (i == r->n_layers - 1) fputs(",\"fc\"", f);
        else fprintf(f, ",\"blocks.%d.c%d\"", (i - 1) / 2, (i - 1) % 2 + 1);
    }
    fputc(']', f);
    key(f, "grad_norm_by_layer_init"); arr(f, r->grad_norm_init, r->n_layers);
    key(f, "grad_norm_by_layer_end"); arr(f, r->grad_norm_end, r->n_layers);
    key(f, "log10_first_last_init"); gs_json_write_number(f, gs_report_log10_ratio(r->grad_norm_init, r->n_layers));
    key(f, "log10_first_last_end"); gs_json_write_number(f, gs_report_log10_ratio(r->grad_norm_end, r->n_layers));
    fputs("\n    }", f);
}

static double at(const double *x, int i)
{
    return x ? x[i] : NAN;
}

static void write_ensemble(FILE *f, const gs_study_ensemble *e)
{
    int n = e->blocks;
    fprintf(f, "{\n    \"blocks\": %d", n);
    fputs(",\n    \"width\": ", f); fprintf(f, "%d", e->width);
    fputs(",\n    \"steps\": ", f); fprintf(f, "%d", e->steps);
    fputs(",\n    \"test_error\": ", f); gs_json_write_number(f, e->test_err);
    fputs(",\n    \"plain_depth\": ", f); fprintf(f, "%d", e->plain_depth);
    fputs(",\n    \"plain_test_error\": ", f); gs_json_write_number(f, e->plain_test_err);
    fputs(",\n    \"path_samples\": ", f); fprintf(f, "%d", e->path_samples);
    fputs(",\n    \"exact_norm_by_length\": ", f); arr(f, e->exact_norm, n + 1);
    fputs(",\n    \"veit_total_by_length\": ", f); arr(f, e->veit_total, n + 1);
    fputs(",\n    \"path_count_fraction\": ", f); arr(f, e->count_fraction, n + 1);
    fputs(",\n    \"sum_check_rel_err\": ", f); gs_json_write_number(f, e->sum_check_rel_err);
    fprintf(f, ",\n    \"half_gradient_lengths\": [%d,%d]", e->half_lo, e->half_hi);
    fputs(",\n    \"lesion_samples\": ", f); fprintf(f, "%d", e->lesion_samples);
    fputs(",\n    \"baseline_error\": ", f); gs_json_write_number(f, e->base_err);
    fputs(",\n    \"plain_baseline_error\": ", f); gs_json_write_number(f, e->plain_base_err);
    fputs(",\n    \"single_block_error\": ", f); arr(f, e->single_err, n);
    fputs(",\n    \"plain_single_layer_error\": ", f); arr(f, e->plain_single_err, e->plain_depth);
    if (e->jac_samples > 0) {
        fprintf(f, ",\n    \"jacobian\": {\"samples\": %d, \"sigma1_median\": ", e->jac_samples);
        gs_json_write_number(f, e->jac_sigma1);
        fputs(", \"sigma2_over_sigma1_median\": ", f); gs_json_write_number(f, e->jac_sigma_ratio);
        fputs(", \"mean_sq_median\": ", f); gs_json_write_number(f, e->jac_mean_sq);
        fputs(", \"plain_sigma1_median\": ", f); gs_json_write_number(f, e->plain_jac_sigma1);
        fputs(", \"plain_sigma2_over_sigma1_median\": ", f); gs_json_write_number(f, e->plain_jac_sigma_ratio);
        fputs(", \"plain_mean_sq_median\": ", f); gs_json_write_number(f, e->plain_jac_mean_sq);
        fputc('}', f);
    } else {
        fputs(",\n    \"jacobian\": null", f);
    }
    fprintf(f, ",\n    \"n_k\": %d,\n    \"k_deleted\": [", e->n_k);
    for (int k = 0; k < e->n_k; k++) {
        fprintf(f, "%s\n      {\"k\": %d, \"mean_error\": ", k ? "," : "", k + 1);
        gs_json_write_number(f, at(e->k_mean, k));
        fputs(", \"std_error\": ", f); gs_json_write_number(f, at(e->k_std, k));
        fputs(", \"plain_mean_error\": ", f); gs_json_write_number(f, at(e->plain_k_mean, k));
        fputs(", \"plain_std_error\": ", f); gs_json_write_number(f, at(e->plain_k_std, k));
        fputc('}', f);
    }
    fputs(e->n_k ? "\n    ]\n  }" : "]\n  }", f);
}

static void write_normratio(FILE *f, const gs_study_normratio *nr)
{
    fputs("{\n    \"series\": [", f);
    for (int i = 0; i < nr->n_series; i++) {
        const gs_study_nr_series *S = &nr->series[i];
        fprintf(f, "%s\n      {\"family\": ", i ? "," : "");
        gs_json_escape(f, S->family);
        fputs(", \"shortcut\": ", f);
        if (S->shortcut) fprintf(f, "\"%c\"", S->shortcut); else fputs("null", f);
        fprintf(f, ", \"width\": %d, \"samples\": %d,\n       \"depths\": [", S->width, S->samples);
        for (int d = 0; d < S->n_depths; d++) fprintf(f, "%s%d", d ? "," : "", S->depths[d]);
        fputs("], \"blocks\": [", f);
        for (int d = 0; d < S->n_depths; d++) fprintf(f, "%s%d", d ? "," : "", S->blocks[d]);
        for (int t = 0; t < 2; t++) {
            fputs(t ? ",\n       \"mean_transition_ratio\": [" : "],\n       \"mean_identity_ratio\": [", f);
            for (int d = 0; d < S->n_depths; d++) {
                if (d) fputc(',', f);
                gs_json_write_number(f, gs_nr_mean(S, d, t));
            }
            fputc(']', f);
        }
        fputs(",\n       \"ratios\": [", f);
        for (int d = 0; d < S->n_depths; d++) {
            fputs(d ? ",\n         " : "\n         ", f);
            arr(f, S->ratio[d], S->blocks[d]);
        }
        fputs("],\n       \"transition\": [", f);
        for (int d = 0; d < S->n_depths; d++) {
            fputs(d ? ",\n         [" : "\n         [", f);
            for (int b = 0; b < S->blocks[d]; b++)
                fprintf(f, "%s%s", b ? "," : "", S->transition[d] && S->transition[d][b] ? "true" : "false");
            fputc(']', f);
        }
        fputs("]}", f);
    }
    fputs("\n    ]\n  }", f);
}

int gs_report_write_json(gs_ctx *ctx, const gs_study *s, const gs_report_text *t, FILE *f)
{
    (void)ctx;
    fputs("{\n  \"generator\": \"gradscope report\",\n  \"dataset\": ", f);
    gs_json_escape(f, s->dataset ? s->dataset : "");
    fprintf(f, ",\n  \"n_classes\": %d,\n  \"seed\": %" PRIu64 ",\n  \"seconds\": ",
            s->n_classes, s->seed);
    gs_json_write_number(f, s->seconds);
    fputs(",\n  \"notes\": ", f);
    gs_json_escape(f, s->notes);
    fputs(",\n  \"layer_convention\": \"by layer = every Linear weight from the input side: "
          "0 = stem.weight, 1..depth = layers.0..depth-1.weight, depth+1 = head.weight; "
          "grad norm = ||dL/dW||_2; conv_runs: every weight on the main path, 0 = conv, then "
          "blocks.k.c1, blocks.k.c2, last = fc (n = depth)\",\n  \"summary\": ", f);
    gs_json_escape(f, t->summary);
    fputs(",\n  \"conclusion\": [", f);
    for (int i = 0; i < t->n_claims; i++) {
        fprintf(f, "%s\n    {\"topic\": ", i ? "," : "");
        gs_json_escape(f, t->claims[i].topic);
        fputs(", \"text\": ", f);
        gs_json_escape(f, t->claims[i].text);
        fputc('}', f);
    }
    fputs("\n  ],\n  \"runs\": [\n", f);
    for (int i = 0; i < s->n_runs; i++) {
        if (i) fputs(",\n", f);
        write_run(f, &s->runs[i]);
    }
    fprintf(f, "\n  ],\n  \"conv_test_samples\": %" PRId64 ",\n  \"conv_runs\": [\n",
            s->conv_test_samples);
    for (int i = 0; i < s->n_conv_runs; i++) {
        if (i) fputs(",\n", f);
        write_conv_run(f, &s->conv_runs[i]);
    }
    fputs("\n  ],\n  \"ensemble\": ", f);
    if (s->ensemble) write_ensemble(f, s->ensemble);
    else fputs("null", f);
    fputs(",\n  \"normratio\": ", f);
    if (s->normratio) write_normratio(f, s->normratio);
    else fputs("null", f);
    fputs("\n}\n", f);
    return GS_OK;
}
