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

/* Each pass below in one body for both forms, the relu a constant in each call (so each form's loop
 * vectorises as if written alone). */
#define AI static inline __attribute__((always_inline))

AI void bn1d_apply(const float *restrict x, float *restrict y, float *restrict r, int N, int C, int c0, int c1,
                   const float *restrict scale, const float *restrict shift, const int relu, const int write_y)
{
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C;
        float *yr = write_y ? y + (size_t)i * C : NULL, *rr = relu ? r + (size_t)i * C : NULL;
        for (int c = c0; c < c1; c++) {
            const float v = xr[c] * scale[c] + shift[c];
            if (write_y) yr[c] = v;
            if (relu) rr[c] = gs_relu(v);
        }
    }
}

GS_CLONES
void gs_bn1d_apply(const float *x, float *y, float *r, int N, int C, int c0, int c1, const float *scale,
                   const float *shift)
{
    if (r && y) bn1d_apply(x, y, r, N, C, c0, c1, scale, shift, 1, 1);
    else if (r) bn1d_apply(x, NULL, r, N, C, c0, c1, scale, shift, 1, 0);
    else bn1d_apply(x, y, NULL, N, C, c0, c1, scale, shift, 0, 1);
}

AI void bn1d_sums(const float *restrict x, const float *dy, int N, int C, int c0, int c1, const float *restrict mean,
                  const float *restrict rstd, const float *restrict scale, const float *restrict shift,
                  float *restrict sdy, float *restrict sdyx, const int relu)
{
    for (int c = c0; c < c1; c++) { sdy[c] = 0; sdyx[c] = 0; }
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C, *dr = dy + (size_t)i * C;
        for (int c = c0; c < c1; c++) {
            const float g = relu ? gs_relu_grad(xr[c] * scale[c] + shift[c], dr[c]) : dr[c];
            sdy[c] += g; sdyx[c] += g * (xr[c] - mean[c]);
        }
    }
    for (int c = c0; c < c1; c++) sdyx[c] *= rstd[c];
}

GS_CLONES
void gs_bn1d_sums(const float *x, const float *dy, int N, int C, int c0, int c1, const float *mean, const float *rstd,
                  const float *scale, const float *shift, float *sdy, float *sdyx)
{
    if (scale) bn1d_sums(x, dy, N, C, c0, c1, mean, rstd, scale, shift, sdy, sdyx, 1);
    else bn1d_sums(x, dy, N, C, c0, c1, mean, rstd, NULL, NULL, sdy, sdyx, 0);
}

/* explicit vectors: dx may be dy, which a compiler's overlap check would send down a scalar loop */
AI void bn1d_dx(const float *restrict x, const float *dy, float *dx, int N, int C, int c0, int c1,
                const float *restrict ka, const float *restrict kb, const float *restrict kc,
                const float *restrict scale, const float *restrict shift, int accumulate, const int relu)
{
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C, *dr = dy + (size_t)i * C;
        float *o = dx + (size_t)i * C;
        int c = c0;
        for (; c + GS_LANES <= c1; c += GS_LANES) {
            const gs_vf xv = GS_VLOAD(xr + c), dv = GS_VLOAD(dr + c);
            const gs_vf g = relu ? GS_RELU_GRAD_V(xv * GS_VLOAD(scale + c) + GS_VLOAD(shift + c), dv) : dv;
            gs_vf v = GS_VLOAD(ka + c) * g + GS_VLOAD(kb + c) * xv + GS_VLOAD(kc + c);
            if (accumulate) v += GS_VLOAD(o + c);
            GS_VSTORE(o + c, v);
        }
        for (; c < c1; c++) {
            const float g = relu ? gs_relu_grad(xr[c] * scale[c] + shift[c], dr[c]) : dr[c];
            const float v = ka[c] * g + kb[c] * xr[c] + kc[c];
            o[c] = accumulate ? o[c] + v : v;
        }
    }
}

GS_CLONES
void gs_bn1d_dx(const float *x, const float *dy, float *dx, int N, int C, int c0, int c1, const float *ka,
                const float *kb, const float *kc, const float *scale, const float *shift, int accumulate)
{
    if (scale) bn1d_dx(x, dy, dx, N, C, c0, c1, ka, kb, kc, scale, shift, accumulate, 1);
    else bn1d_dx(x, dy, dx, N, C, c0, c1, ka, kb, kc, NULL, NULL, accumulate, 0);
}
#undef AI
