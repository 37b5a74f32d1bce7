/* norm.c - see norm.h.  Per-channel accumulators live in the caller's
 * arrays; every inner loop is over channels, so it vectorises. */
#include <string.h>
#include "kernels/cpu/norm.h"
#include "kernels/cpu/simd.h"

GS_CLONES
void gs_bn1d_stats(const float *restrict x, int N, int C, int c0, int c1, float *restrict mean,
                   float *restrict var)
{
    for (int c = c0; c < c1; c++) { mean[c] = 0; var[c] = 0; }
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C;
        for (int c = c0; c < c1; c++) mean[c] += xr[c];
    }
    for (int c = c0; c < c1; c++) mean[c] /= (float)N;
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C;
        for (int c = c0; c < c1; c++) { const float d = xr[c] - mean[c]; var[c] += d * d; }
    }
    for (int c = c0; c < c1; c++) var[c] /= (float)N;
}

GS_CLONES
void gs_bn1d_apply(const float *restrict x, float *restrict y, int N, int C, int c0, int c1,
                   const float *restrict scale, const float *restrict shift)
{
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C;
        float *yr = y + (size_t)i * C;
        for (int c = c0; c < c1; c++) yr[c] = xr[c] * scale[c] + shift[c];
    }
}

GS_CLONES
void gs_bn1d_sums(const float *restrict x, const float *restrict dy, int N, int C, int c0, int c1,
                  const float *restrict mean, const float *restrict rstd, float *restrict sdy,
                  float *restrict sdyx)
{
    for (int c = c0; c < c1; c++) { sdy[c] = 0; sdyx[c] = 0; }
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C, *dr = dy + (size_t)i * C;
        for (int c = c0; c < c1; c++) { sdy[c] += dr[c]; sdyx[c] += dr[c] * (xr[c] - mean[c]); }
    }
    for (int c = c0; c < c1; c++) sdyx[c] *= rstd[c];
}

GS_CLONES
void gs_bn1d_dx(const float *restrict x, const float *restrict dy, float *restrict dx, int N, int C,
                int c0, int c1, const float *restrict ka, const float *restrict kb,
                const float *restrict kc, int accumulate)
{
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C, *dr = dy + (size_t)i * C;
        float *o = dx + (size_t)i * C;
        if (accumulate) for (int c = c0; c < c1; c++) o[c] += ka[c] * dr[c] + kb[c] * xr[c] + kc[c];
        else for (int c = c0; c < c1; c++) o[c] = ka[c] * dr[c] + kb[c] * xr[c] + kc[c];
    }
}
