/* study.h - the vanishing-gradient study: a grid of mlp configurations
 * trained with the same seed and budget, instruments on, He et al.'s plain
 * and residual conv nets at two depths, Veit et al.'s ensemble part and the
 * norm ratio against depth at initialisation (Zaeemzadeh et al.), summarised
 * into a gs_study for the report (src/report). */
#ifndef GS_STUDY_H
#define GS_STUDY_H
#include "report/report.h"

typedef struct gs_study_config {
    const char *data;        /* dataset spec, default "fashion-mnist" */
    int n_depths; int depths[16];
    int n_acts; gs_act acts[16];
    int n_skips; int skips[4];       /* 0 = plain, T = residual span */
    int n_norms; gs_norm norms[3];
    int width, batch;
    int64_t steps;
    float lr, momentum;
    gs_init init;
    uint64_t seed;
    int64_t test_samples;    /* 0 = the whole test split */
    int64_t dead_samples;
    int heat_points;         /* rows of each heat map */
    int mlp;                 /* train the mlp grid (default 1) */

    /* the convolutional part: {plain, resnet} x {conv_depths} (He et al. §4.2) */
    int n_conv_depths; int conv_depths[8];   /* 6n+2 each; 0 depths = no conv part */
    int conv_width;          /* first stage's channels (16) */
    char conv_shortcut;      /* 'A' (default) or 'B' */
    int64_t conv_steps;
    float conv_lr, conv_weight_decay;        /* SGD momentum 0.9, cosine, 2% linear warm-up */
    int conv_points;         /* points of the error curves */
    int64_t conv_eval_samples;               /* test samples at each point (the last uses all) */

    /* the ensemble part (Veit et al.): a residual mlp of ens_blocks post blocks (skip 2, batch
       norm, relu) and a plain mlp of ens_blocks layers, trained alike, then paths and lesions */
    int ens_blocks;          /* 0 = no ensemble part */
    int ens_width;
    int64_t ens_steps;
    int ens_path_samples, ens_veit_sets;
    int ens_jac_samples;     /* test images for the Jacobian spectrum of both nets (0 = none) */
    int64_t ens_lesion_samples;
    int ens_lesion_sets, ens_max_k;

    /* the norm-preservation part (Zaeemzadeh et al. 2018), at initialisation, no training:
       he_normal, the study's seed, one train-mode forward and backward (running statistics
       frozen) on the first samples of the training split; the ratio of every residual block.
       0 depths on both = no part; the resnet series is left out when the data are not images. */
    int n_nr_conv_depths; int nr_conv_depths[8];  /* resnet (relu, BN, conv_width, conv_shortcut), 6n+2 */
    int n_nr_mlp_depths; int nr_mlp_depths[8];    /* residual mlp (relu, BN, skip 2, width): hidden
                                                     layers, even */
    int nr_conv_samples, nr_mlp_samples;          /* images / samples in the batch (8, 16) */
} gs_study_config;

void gs_study_config_default(gs_study_config *c, int quick);
/* Train every configuration; fills *out (arrays owned: gs_study_free).
 * Progress lines go to ctx's log sink. */
int gs_study_train(gs_ctx *ctx, const gs_study_config *c, gs_study *out);
void gs_study_free(gs_study *s);

#endif
