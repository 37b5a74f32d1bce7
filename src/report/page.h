/* page.h - internal to src/report: the study indexed for drawing, and the
 * figure writers (figures.c) that html.c puts on the page and json.c mirrors.
 *
 * Architectures are the four of the study: plain / residual (skip > 0) x
 * norm "none" / "batch".  Runs with another norm ("layer") appear in the
 * table and in report.json but in no chart.
 */
#ifndef GS_REPORT_PAGE_H
#define GS_REPORT_PAGE_H

#include <stdio.h>
#include "report.h"

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
    int n_charts;                           /* <svg class="chart"> written so far */
    int next_pattern;                       /* unique ids for hatch patterns */
} gs_page;

void gs_page_index(gs_page *pg, const gs_study *s);
/* The row (nominal depth) run r is shown in: its depth, or for a residual net
 * rounded down to whole blocks the listed depth it came from. */
int gs_page_row_depth(const gs_page *pg, const gs_study_run *r);
const gs_study_run *gs_page_run(const gs_page *pg, const char *act, int residual, int batch_norm,
                                int depth);

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

/* report.json (json.c) */
int gs_report_write_json(gs_ctx *ctx, const gs_study *s, const gs_report_text *t, FILE *f);

#endif
