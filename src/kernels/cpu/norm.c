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

static inline float relu_grad(float y, float dr) { return y <= 0.0f ? 0.0f : dr; }

GS_CLONES
void gs_bn1d_apply_relu(const float *restrict x, float *restrict y, float *restrict r, int N, int C, int c0,
                        int c1, const float *restrict scale, const float *restrict shift)
{
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C;
        float *yr = y + (size_t)i * C, *rr = r + (size_t)i * C;
        for (int c = c0; c < c1; c++) {
            const float v = xr[c] * scale[c] + shift[c];
            yr[c] = v;
            rr[c] = v < 0.0f ? 0.0f : v;
        }
    }
}

GS_CLONES
void gs_bn1d_sums_relu(const float *restrict x, const float *dr, int N, int C, int c0, int c1,
                       const float *restrict mean, const float *restrict rstd, const float *restrict scale,
                       const float *restrict shift, float *restrict sdy, float *restrict sdyx)
{
    for (int c = c0; c < c1; c++) { sdy[c] = 0; sdyx[c] = 0; }
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C, *dr_ = dr + (size_t)i * C;
        for (int c = c0; c < c1; c++) {
            const float g = relu_grad(xr[c] * scale[c] + shift[c], dr_[c]);
            sdy[c] += g; sdyx[c] += g * (xr[c] - mean[c]);
        }
    }
    for (int c = c0; c < c1; c++) sdyx[c] *= rstd[c];
}

/* explicit vectors: dx may be dr (see gs_affine2_relu) */
GS_CLONES
void gs_bn1d_dx_relu(const float *restrict x, const float *dr, float *dx, int N, int C, int c0, int c1,
                     const float *restrict ka, const float *restrict kb, const float *restrict kc,
                     const float *restrict scale, const float *restrict shift, int accumulate)
{
    for (int i = 0; i < N; i++) {
        const float *xr = x + (size_t)i * C, *dr_ = dr + (size_t)i * C;
        float *o = dx + (size_t)i * C;
        int c = c0;
        for (; c + GS_LANES <= c1; c += GS_LANES) {
            const gs_vf xv = GS_VLOAD(xr + c);
            const gs_vf yv = xv * GS_VLOAD(scale + c) + GS_VLOAD(shift + c);
            const gs_vf g = (gs_vf)((gs_vi)GS_VLOAD(dr_ + c) & ~(gs_vi)(yv <= 0.0f));
            gs_vf v = GS_VLOAD(ka + c) * g + GS_VLOAD(kb + c) * xv + GS_VLOAD(kc + c);
            if (accumulate) v += GS_VLOAD(o + c);
            GS_VSTORE(o + c, v);
        }
        for (; c < c1; c++) {
            const float v = ka[c] * relu_grad(xr[c] * scale[c] + shift[c], dr_[c]) + kb[c] * xr[c] + kc[c];
            o[c] = accumulate ? o[c] + v : v;
        }
    }
}
