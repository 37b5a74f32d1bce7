/* norm.h - BatchNorm1d kernels on x (N, C) row-major, for the channel range
 * [c0, c1) (so threads can split the channels).  Loops run along C. */
#ifndef GS_NORM_KERNELS_H
#define GS_NORM_KERNELS_H
#include <stddef.h>

/* mean[c] = Σ_i x[i,c] / N;  var[c] = Σ_i (x[i,c] - mean[c])² / N (biased) */
void gs_bn1d_stats(const float *x, int N, int C, int c0, int c1, float *mean, float *var);
/* y = x * scale[c] + shift[c] */
void gs_bn1d_apply(const float *x, float *y, int N, int C, int c0, int c1, const float *scale,
                   const float *shift);
/* sdy[c] = Σ dy;  sdyx[c] = Σ dy (x - mean) rstd */
void gs_bn1d_sums(const float *x, const float *dy, int N, int C, int c0, int c1, const float *mean,
                  const float *rstd, float *sdy, float *sdyx);
/* dx (=|+=) ka[c] dy + kb[c] x + kc[c] */
void gs_bn1d_dx(const float *x, const float *dy, float *dx, int N, int C, int c0, int c1,
                const float *ka, const float *kb, const float *kc, int accumulate);

/* With a relu after the norm (its passes fused into these; y = x * scale[c] + shift[c] exactly as
 * gs_bn1d_apply computes it, so the relu's mask is the relu node's):
 * gs_bn1d_apply_relu: y as gs_bn1d_apply, and r = relu(y);
 * gs_bn1d_sums_relu, gs_bn1d_dx_relu: gs_bn1d_sums and gs_bn1d_dx on dy = (y <= 0 ? 0 : dr), dx may be dr. */
void gs_bn1d_apply_relu(const float *x, float *y, float *r, int N, int C, int c0, int c1, const float *scale,
                        const float *shift);
void gs_bn1d_sums_relu(const float *x, const float *dr, int N, int C, int c0, int c1, const float *mean,
                       const float *rstd, const float *scale, const float *shift, float *sdy, float *sdyx);
void gs_bn1d_dx_relu(const float *x, const float *dr, float *dx, int N, int C, int c0, int c1, const float *ka,
                     const float *kb, const float *kc, const float *scale, const float *shift, int accumulate);

#endif
