/* page.h - internal to src/report: the study indexed for drawing, and the
 * figure writers (figures.c for the mlp part, figures_conv.c for the
 * convolutional part) that html.c puts on the page and json_out.c mirrors.
 *
 * Architectures are the four of the study: plain / residual (skip > 0) x
 * norm "none" / "batch".  Runs with another norm ("layer") appear in the
 * table and in report.json but in no chart.  Conv nets are drawn by family
 * and depth (one colour per depth); a second run of the same family and depth
 * appears in the table and in report.json only.
 */
#ifndef GS_REPORT_PAGE_H
#define GS_REPORT_PAGE_H

#include <stdio.h>
#include "report.h"
#include "svg.h"

#define GS_PAGE_MAX_ACTS 8
#define GS_PAGE_MAX_DEPTHS 16
#define GS_PAGE_WIDTH 1200.0
#define GS_HEAT_MAX_COLUMNS 60   /* logged steps are averaged (in log10) into at most this many */

typedef struct gs_page {
    const gs_study *s;
    int n_acts;
    const char *acts[GS_PAGE_MAX_ACTS];    /* sigmoid, tanh, relu first, then study order */
    int n_depths;
    int depths[GS_PAGE_MAX_DEPTHS];         /* ascending */
    int has_arch[2][2];                     /* [residual][batch_norm] some run exists */
    int n_conv_depths;
    int conv_depths[GS_PAGE_MAX_DEPTHS];    /* depths of the conv runs, ascending */
    int n_charts;                           /* <svg class="chart"> written so far */
    int next_pattern;                       /* unique ids for hatch patterns */
} gs_page;

void gs_page_index(gs_page *pg, const gs_study *s);
/* The row (nominal depth) run r is shown in: its depth, or for a residual net
 * rounded down to whole blocks the listed depth it came from. */
int gs_page_row_depth(const gs_page *pg, const gs_study_run *r);
const gs_study_run *gs_page_run(const gs_page *pg, const char *act, int residual, int batch_norm,
                                int depth);

/* The conv run of family ("plain" | "resnet") and depth, or NULL. */
const gs_study_conv_run *gs_page_conv(const gs_page *pg, const char *family, int depth);
/* Colour of a conv depth (by its rank among the study's conv depths). */
const char *gs_page_depth_colour(const gs_page *pg, int depth);
/* The depth ramp itself: colour of the rank-th depth (shallow light, deep dark). */
const char *gs_page_ramp_colour(int rank);

/* ---- shared by the figure writers (figures.c) ---- */

/* log10 range [lo, hi] of the positive finite values; zero set when an exact
 * 0 was seen, any when something positive was. */
typedef struct gs_range { double lo, hi; int any, zero; } gs_range;
void gs_range_add(gs_range *R, const double *x, int n);
/* A log axis over whole decades (at least min_decades) around R. */
gs_axis gs_log_axis(const gs_range *R, double min_decades);
void gs_fig_open(FILE *f, const char *id);
/* The caption (html) and the closing </figure>. */
void gs_fig_caption(FILE *f, const char *html);
/* steps as doubles (x values of a series): malloc'd, NULL when n <= 0 or out of memory. */
double *gs_steps_xs(const int64_t *steps, int n);

/* Averaged heat map of run r: (n_layers rows) x (*cols) row-major, log10 values
 * (-INFINITY = exactly zero, NAN = missing).
 * Returns a malloc'd array or NULL (no data, or out of memory: *oom set). */
double *gs_heat_bin(const gs_study_run *r, int *cols, int *oom);

/* Each writes one <figure> (chart + caption), or a short note when the study
 * has nothing to draw.  GS_OK or GS_ENOMEM. */
int gs_fig_grad_by_layer(FILE *f, gs_page *pg);
int gs_fig_heat(FILE *f, gs_page *pg, int depth);
int gs_fig_accuracy(FILE *f, gs_page *pg);
int gs_fig_loss(FILE *f, gs_page *pg);
int gs_fig_fractions(FILE *f, gs_page *pg);
int gs_fig_norm_ratio(FILE *f, gs_page *pg);
/* The convolutional part (figures_conv.c), numbered from fig_no: training and
 * test error against steps, plain beside resnet (He et al. Fig. 1); gradient
 * norm by layer at initialisation and at the end. */
int gs_fig_conv_error(FILE *f, gs_page *pg, int fig_no);
int gs_fig_conv_grad_by_layer(FILE *f, gs_page *pg, int fig_no);

/* The ensemble part (figures_ensemble.c, Veit et al. 2016), numbered from
 * fig_no: gradient at x_0 by path length; test error against the number of
 * blocks (layers) deleted.  Both figures side by side, then two sentences. */
int gs_ensemble_section_figures(FILE *f, gs_page *pg, int fig_no);

/* Numbers the ensemble figures, sentences and claim share (conclusion.c). */
typedef struct gs_ens_facts {
    int valid;                   /* the part is usable (blocks >= 1, required arrays set) */
    double half_share;           /* exact ||g^(k)|| in [half_lo, half_hi] over the sum (NAN: none) */
    int exact_peak, veit_peak;   /* argmax k (-1 when absent / no finite value) */
    double single_mean, single_worst;     /* residual, one block deleted */
    int single_worst_at;
    double plain_single_mean, plain_single_worst;
    int plain_single_worst_at;
} gs_ens_facts;
void gs_ens_facts_get(const gs_study_ensemble *e, gs_ens_facts *F);
/* The claim's text (plain UTF-8) into b (n); "" when !F->valid.  interpret: add
 * the sentences that read the numbers (the conclusion); 0: the two sentences
 * with the numbers only (the section's text). */
void gs_ens_claim_text(const gs_study_ensemble *e, const gs_ens_facts *F, int interpret, char *b,
                       size_t n);

/* The norm-preservation part (figures_normratio.c, Zaeemzadeh et al. 2018),
 * numbered from fig_no: the identity blocks' mean ratio against depth, one
 * line per family; the ratio of every block against its relative position,
 * one line per depth of the resnet family (else the first family), the
 * transition blocks as open squares.  Side by side, then the sentences. */
int gs_normratio_section_figures(FILE *f, gs_page *pg, int fig_no);

/* Numbers the norm-ratio figures, sentences and claim share (conclusion.c).
 * gs_nr_mean: mean of the finite ratios of the d-th net's identity
 * (transition 0) or transition (1) blocks; NAN when there are none. */
double gs_nr_mean(const gs_study_nr_series *S, int d, int transition);
/* The claim's text (plain UTF-8) into b (n); "" without the part.  interpret:
 * add the sentences that read the numbers (the conclusion); 0: the numbers
 * only (the section's text). */
void gs_nr_claim_text(const gs_study_normratio *nr, int interpret, char *b, size_t n);

/* report.json (json.c) */
int gs_report_write_json(gs_ctx *ctx, const gs_study *s, const gs_report_text *t, FILE *f);

#endif
