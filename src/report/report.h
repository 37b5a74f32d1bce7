/* report.h - the vanishing-gradient study report: what a person looks at.
 *
 * The study code (src/train or tools/) trains a grid of mlp configurations
 * and a few convolutional nets (plain and resnet at two depths), fills one
 * gs_study_run / gs_study_conv_run per net from its instruments, and calls
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

/* One convolutional network of the study's degradation part (He et al. 2015
 * §4.2: plain-20/56 against resnet-20/56).  Layer convention ("by layer") for
 * these: every weight on the main path, input side first: index 0 =
 * conv.weight, then blocks.k.c1.weight, blocks.k.c2.weight for k = 0..3n-1,
 * last = fc.weight; so n_layers = depth (6n + 2).  Projection shortcuts
 * (shortcut B) are not on the main path and not counted.  All arrays are
 * borrowed; any may be NULL (treated as absent). */
typedef struct gs_study_conv_run {
    char family[8];              /* "plain" | "resnet" */
    char shortcut;               /* 'A' | 'B' for resnet, 0 for plain */
    int depth;                   /* 6n + 2 (20, 56, ...) */
    int width;                   /* channels of the first stage (16) */
    int steps;                   /* optimiser steps taken */
    double seconds;              /* training wall time */
    double train_err, test_err;  /* final errors in [0, 1], eval mode (NAN = not measured) */

    int n_points;                /* points of the error curves */
    int64_t *curve_steps;        /* (n_points) step of each point, increasing */
    double *train_err_curve;     /* (n_points) training error of the mini-batches since the previous
                                    point (train mode, as He et al.'s thin curves) */
    double *test_err_curve;      /* (n_points) test error at that step (eval mode, a test subset) */

    int n_layers;                /* must equal depth */
    double *grad_norm_init;      /* (n_layers) ||dL/dW|| at step 1, before any update */
    double *grad_norm_end;       /* (n_layers) mean over the last tenth of training */
} gs_study_conv_run;

/* The study's ensemble part (Veit et al. 2016): one trained residual mlp of n
 * blocks and a plain mlp with one layer per block, analysed in eval mode
 * (DESIGN.md §3).  All arrays borrowed; NULL = absent. */
typedef struct gs_study_ensemble {
    int blocks;                  /* n residual blocks (skip 2: 2n hidden layers) */
    int width;
    int steps;                   /* SGD steps each net was trained */
    double test_err;             /* residual net, whole test split used by the study */
    int plain_depth;             /* hidden layers of the plain net (= blocks) */
    double plain_test_err;
    /* gradient by path length at x_0, on path_samples test images */
    int path_samples;
    double *exact_norm;          /* (n + 1) ||g^(k)|| */
    double *veit_total;          /* (n + 1) Veit et al.'s estimate C(n,k) * mean, or NULL */
    double *count_fraction;      /* (n + 1) C(n,k) / 2^n */
    double sum_check_rel_err;
    int half_lo, half_hi;        /* the run of k around the peak holding half of sum_k ||g^(k)|| */
    /* lesion on lesion_samples test images */
    int lesion_samples;
    double base_err, plain_base_err;
    double *single_err;          /* (n) residual net with one block deleted */
    double *plain_single_err;    /* (plain_depth) plain net with one layer deleted */
    int n_k;                     /* k = 1..n_k blocks (layers) deleted at random */
    double *k_mean, *k_std;      /* (n_k) residual */
    double *plain_k_mean, *plain_k_std;  /* (n_k) plain */
    /* the spectrum of J = dh_L/dh_0 (eval mode, DESIGN.md §2) on jac_samples test images, medians
       over them: the largest singular value, the second over the first, the mean squared one;
       jac_samples 0: not measured (then ignored, written as null) */
    int jac_samples;
    double jac_sigma1, jac_sigma_ratio, jac_mean_sq;                 /* residual net */
    double plain_jac_sigma1, plain_jac_sigma_ratio, plain_jac_mean_sq;
} gs_study_ensemble;

/* The study's norm-preservation part (Zaeemzadeh et al. 2018), at
 * initialisation: ratio[d][b] = ||dL/dx_b|| / ||dL/dx_{b+1}|| of block b of
 * the net of depth depths[d], after one train-mode forward and backward on
 * the first `samples` training samples (running statistics frozen; DESIGN.md
 * §2).  One series per family; all arrays borrowed. */
#define GS_NR_MAX_DEPTHS 8
typedef struct gs_study_nr_series {
    char family[8];              /* "resnet" (He et al.'s CIFAR net) | "mlp" (residual, skip 2) */
    char shortcut;               /* resnet: 'A' | 'B'; mlp: 0 */
    int width;                   /* resnet: first stage's channels; mlp: hidden width */
    int samples;                 /* images (samples) in the batch */
    int n_depths;                /* 1..GS_NR_MAX_DEPTHS */
    int depths[GS_NR_MAX_DEPTHS];/* resnet: 6n + 2 layers; mlp: hidden layers; ascending */
    int blocks[GS_NR_MAX_DEPTHS];/* residual blocks of each net, >= 1 */
    double *ratio[GS_NR_MAX_DEPTHS];     /* (blocks[d]) per block, input side first */
    int *transition[GS_NR_MAX_DEPTHS];   /* (blocks[d]) 1 where the block changes the shape;
                                            NULL = none does */
} gs_study_nr_series;

typedef struct gs_study_normratio {
    int n_series;                /* 1..2 */
    gs_study_nr_series series[2];
} gs_study_normratio;

typedef struct gs_study {
    int n_runs;
    gs_study_run *runs;          /* (n_runs) borrowed */
    int n_conv_runs;             /* the convolutional part, may be 0 */
    gs_study_conv_run *conv_runs;/* (n_conv_runs) borrowed */
    int64_t conv_test_samples;   /* test samples behind test_err_curve (0 = unknown) */
    gs_study_ensemble *ensemble; /* the ensemble part (borrowed), NULL = none */
    gs_study_normratio *normratio; /* the norm-preservation part (borrowed), NULL = none */
    const char *dataset;         /* e.g. "fashion-mnist" (may be NULL) */
    int n_classes;               /* for the chance-level line; 0 = unknown */
    uint64_t seed;
    double seconds;              /* wall time of the whole study */
    char notes[1024];            /* free text shown under the title: optimiser, batch, init ... */
} gs_study;

/* Write DIR/report.json and DIR/index.html (DIR must exist).  Validates the
 * study first: GS_EINVAL (naming the run and field) for no runs at all
 * (n_runs + n_conv_runs == 0; either part alone is a valid study), a negative
 * n_runs / n_conv_runs or a NULL array behind a positive one, a run with
 * n_layers != depth + 2, an empty act, a norm other than none/batch/layer, a
 * negative count, n_blocks > 0 without norm_ratio, n_logged > 0 without
 * logged_steps, or logged_steps not increasing; a conv run ("conv run I")
 * with a family other than plain/resnet, a shortcut other than 'A'/'B' (or 0;
 * plain nets: 0 only), a depth that is not 6n + 2, n_layers != depth, a
 * negative width, steps or n_points, n_points > 0 without curve_steps, or
 * curve_steps not increasing; with an ensemble part ("ensemble.<field>"):
 * blocks < 1, plain_depth or n_k negative, half_lo / half_hi not
 * 0 <= half_lo <= half_hi <= blocks, or exact_norm / count_fraction /
 * single_err NULL; with a norm-ratio part ("normratio.<field>"): n_series
 * not 1..2, a family other than resnet/mlp, n_depths not 1..GS_NR_MAX_DEPTHS,
 * depths not positive and increasing, blocks < 1, a NULL ratio, or samples
 * < 1; GS_EIO naming the file when
 * it cannot be written; GS_ENOMEM.  Each file is written to DIR/.NAME.tmp and
 * renamed, so the final names only ever hold complete files; on failure the
 * temporary is removed (report.json may already be complete when index.html
 * fails).  The study is only read. */
int gs_report_write(gs_ctx *ctx, const gs_study *s, const char *dir);

/* ---- the written conclusion (conclusion.c) ---- */

#define GS_REPORT_MAX_CLAIMS 14

/* One generated claim: a topic tag scripts can select on, and the sentence(s)
 * with the numbers it rests on.  Plain UTF-8 text, no markup. */
typedef struct gs_report_claim {
    char topic[24];              /* "vanishing", "relu", "saturation", "dead_units",
                                    "residual", "batch_norm", "accuracy", "degradation"
                                    (mlp: plain + BN against residual), "depth",
                                    "conv_degradation" (the conv nets, He et al. Fig. 1),
                                    "ensemble" (Veit et al. 2016), "norm_preservation"
                                    (Zaeemzadeh et al. 2018) */
    char text[1200];
} gs_report_claim;

typedef struct gs_report_text {
    char summary[1400];          /* one paragraph for the top of the page */
    int n_claims;
    gs_report_claim claims[GS_REPORT_MAX_CLAIMS];
} gs_report_text;

/* Generate the conclusion from the study's numbers into *out (no allocation).
 * Uses the deepest depth that has plain runs for the gradient claims; the conv
 * claim compares the shallowest and deepest net of each family.  A conv-only
 * study gets the conv claim only.  GS_EINVAL for an empty study. */
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
/* Index of the first conv run of family ("plain" | "resnet") and depth, or -1. */
int gs_report_find_conv(const gs_study *s, const char *family, int depth);

#endif
