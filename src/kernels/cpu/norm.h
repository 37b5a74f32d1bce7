/* norm.h - BatchNorm1d kernels on x (N, C) row-major, for the channel range
 * [c0, c1) (so threads can split the channels).  Loops run along C. */
#ifndef GS_NORM_KERNELS_H
#define GS_NORM_KERNELS_H
#include <stddef.h>

/* mean[c] = Σ_i x[i,c] / N;  var[c] = Σ_i (x[i,c] - mean[c])² / N (biased) */
void gs_bn1d_stats(const float *x, int N, int C, int c0, int c1, float *mean, float *var);
/* y = x * scale[c] + shift[c], and r = relu(y) (y < 0 ? 0 : y, as the relu node) unless r is NULL; r alone
 * where y is NULL */
void gs_bn1d_apply(const float *x, float *y, float *r, int N, int C, int c0, int c1, const float *scale,
                   const float *shift);
/* sdy[c] = Σ dy;  sdyx[c] = Σ dy (x - mean) rstd.  With scale and shift (else NULL) dy is the gradient of
 * relu(y), y = x * scale[c] + shift[c] as gs_bn1d_apply computes it, and the sums run over the relu's
 * backward of it, y <= 0 ? 0 : dy: the fused relu's backward, bit for bit the relu node's. */
void gs_bn1d_sums(const float *x, const float *dy, int N, int C, int c0, int c1, const float *mean,
                  const float *rstd, const float *scale, const float *shift, float *sdy, float *sdyx);
/* dx (=|+=) ka[c] dy + kb[c] x + kc[c], dy through the relu's backward as in gs_bn1d_sums when scale and
 * shift are given; dx may be dy (in place) */
void gs_bn1d_dx(const float *x, const float *dy, float *dx, int N, int C, int c0, int c1,
                const float *ka, const float *kb, const float *kc, const float *scale, const float *shift,
                int accumulate);

#endif
