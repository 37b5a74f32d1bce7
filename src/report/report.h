/* report.h - the vanishing-gradient study report: what a person looks at.
 *
 * The study code (src/train or tools/) trains a grid of mlp configurations,
 * fills one gs_study_run per configuration from its instruments, and calls
 * gs_report_write, which writes DIR/index.html (a self-contained page: inline
 * SVG charts, inline CSS, no scripts, nothing fetched from the network) and
 * DIR/report.json (every number the page shows, plus the raw series).
 *
 * Layer convention ("by layer"): every Linear weight of the mlp, from the input
 * side to the output side: index 0 = stem.weight, 1..D = layers.0..D-1.weight,
 * D+1 = head.weight; so n_layers = depth + 2.  A layer's gradient norm is
 * ||dL/dW||_2 of that weight (DESIGN.md section 2).  The report module depends
 * only on core; it reads the study, never the trainer.
 *
 * Missing values are NAN (written as null in report.json, drawn as gaps).  A
 * gradient of exactly 0.0 is a real measurement (float32 underflow in deep
 * sigmoid nets) and is drawn on a separate "0" band under the log axis.
 */
#ifndef GS_REPORT_H
#define GS_REPORT_H

#include <stdint.h>
#include "core.h"

/* One trained configuration.  All arrays are borrowed; any optional array may
 * be NULL (treated as all-NAN / absent). */
typedef struct gs_study_run {
    char act[16];                /* "sigmoid", "tanh", "relu", ... (gs activation names) */
    char norm[8];                /* "none" | "batch" (| "layer") */
    int skip;                    /* 0 = plain; T >= 1 = residual, T layers per block */
    int depth;                   /* hidden Linear(W, W) layers D */
    int width;                   /* W (informational; 0 = unknown) */
    int steps;                   /* optimiser steps taken */
    double train_acc, test_acc;  /* fractions in [0, 1] (NAN = not measured) */
    double final_loss;           /* mean training loss over the last logged steps */

    int n_layers;                /* must be depth + 2 (see the layer convention above) */
    double *grad_norm_init;      /* (n_layers) ||dL/dW|| at step 0, before any update */
    double *grad_norm_end;       /* (n_layers) mean over the last few steps */
    double *dead_fraction;       /* (n_layers) at the end; NAN where no relu-family act follows */
    double *saturated_fraction;  /* (n_layers) at the end; NAN where no saturating act follows */

    int n_blocks;                /* residual blocks (depth / skip), 0 for plain nets */
    double *norm_ratio;          /* (n_blocks) ||dL/dx_b|| / ||dL/dx_{b+1}||, mean over training;
                                    ignored when n_blocks is 0 */

    int n_logged;                /* logged steps (rows of the heat map), may be 0 */
    int64_t *logged_steps;       /* (n_logged) step number of each row, increasing */
    double *grad_norm_heat;      /* (n_logged, n_layers) row-major ||dL/dW|| per logged step */
    double *train_loss_curve;    /* (n_logged) training loss at each logged step */
} gs_study_run;

typedef struct gs_study {
    int n_runs;
    gs_study_run *runs;          /* (n_runs) borrowed */
    const char *dataset;         /* e.g. "fashion-mnist" (may be NULL) */
    int n_classes;               /* for the chance-level line; 0 = unknown */
    uint64_t seed;
    double seconds;              /* wall time of the whole study */
    char notes[1024];            /* free text shown under the title: optimiser, batch, init ... */
} gs_study;

/* Write DIR/report.json and DIR/index.html (DIR must exist).  Validates the
 * study first: GS_EINVAL (naming the run and field) for no runs, a run with
 * n_layers != depth + 2, an empty act, a norm other than none/batch/layer, a
 * negative count, n_blocks > 0 without norm_ratio, n_logged > 0 without
 * logged_steps, or logged_steps not increasing; GS_EIO naming the file when
 * it cannot be written; GS_ENOMEM.  Each file is written to DIR/.NAME.tmp and
 * renamed, so the final names only ever hold complete files; on failure the
 * temporary is removed (report.json may already be complete when index.html
 * fails).  The study is only read. */
int gs_report_write(gs_ctx *ctx, const gs_study *s, const char *dir);

/* ---- the written conclusion (conclusion.c) ---- */

#define GS_REPORT_MAX_CLAIMS 12

/* One generated claim: a topic tag scripts can select on, and the sentence(s)
 * with the numbers it rests on.  Plain UTF-8 text, no markup. */
typedef struct gs_report_claim {
    char topic[24];              /* "vanishing", "relu", "dead_units", "residual",
                                    "batch_norm", "accuracy", "degradation" */
    char text[900];
} gs_report_claim;

typedef struct gs_report_text {
    char summary[1400];          /* one paragraph for the top of the page */
    int n_claims;
    gs_report_claim claims[GS_REPORT_MAX_CLAIMS];
} gs_report_text;

/* Generate the conclusion from the study's numbers into *out (no allocation).
 * Uses the deepest depth that has plain runs for the gradient claims.
 * GS_EINVAL for an empty study. */
int gs_report_conclusion(gs_ctx *ctx, const gs_study *s, gs_report_text *out);

/* ---- numbers both the page and report.json show (conclusion.c) ---- */

/* Orders of magnitude log10(g[0] / g[n_layers-1]) of a run's gradient norms
 * (first over last Linear weight).  NAN when either is NAN or absent, or the
 * last is 0; -INFINITY when the first is exactly 0 and the last positive. */
double gs_report_log10_ratio(const double *g, int n_layers);
/* Number of layers whose value is exactly 0.0. */
int gs_report_count_zero(const double *g, int n_layers);
/* Mean of the finite values of x (n), NAN when none. */
double gs_report_mean_finite(const double *x, int n);
/* Index of the run matching act, residual (skip > 0), norm and depth, or -1.
 * A residual run whose depth was rounded down to whole blocks (depth - depth %
 * skip, e.g. 5 -> 4 with skip 2) matches the nominal depth when no run has it
 * exactly, so plain and residual nets of one nominal depth are compared. */
int gs_report_find(const gs_study *s, const char *act, int residual, const char *norm, int depth);

#endif
