/* reduce.c - see reduce.h.  Every loop works on GS_LANES independent lanes
 * so gcc vectorises it without reassociating float sums. */
#include <math.h>
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/simd.h"

GS_CLONES
void gs_reduce_sums(const float *x, size_t n, double *sum, double *sumsq)
{
    double s = 0, q = 0;
    for (size_t i = 0; i < n; i += GS_FLUSH) {
        const size_t end = n - i < GS_FLUSH ? n : i + GS_FLUSH;
        float ls[GS_LANES] = { 0 }, lq[GS_LANES] = { 0 };
        size_t j = i;
        for (; j + GS_LANES <= end; j += GS_LANES)
            for (int k = 0; k < GS_LANES; k++) { const float v = x[j + k]; ls[k] += v; lq[k] += v * v; }
        for (; j < end; j++) { s += x[j]; q += (double)x[j] * x[j]; }
        for (int k = 0; k < GS_LANES; k++) { s += ls[k]; q += lq[k]; }
    }
    if (sum) *sum = s;
    if (sumsq) *sumsq = q;
}

GS_CLONES
double gs_reduce_centered_sq(const float *x, size_t n, double mu)
{
    const float m = (float)mu;
    double q = 0;
    for (size_t i = 0; i < n; i += GS_FLUSH) {
        const size_t end = n - i < GS_FLUSH ? n : i + GS_FLUSH;
        float lq[GS_LANES] = { 0 };
        size_t j = i;
        for (; j + GS_LANES <= end; j += GS_LANES)
            for (int k = 0; k < GS_LANES; k++) { const float d = x[j + k] - m; lq[k] += d * d; }
        for (; j < end; j++) q += ((double)x[j] - mu) * ((double)x[j] - mu);
        for (int k = 0; k < GS_LANES; k++) q += lq[k];
    }
    return q;
}

GS_CLONES
void gs_reduce_dot_centered(const float *restrict dy, const float *restrict x, size_t n, float mu,
                            double *sdy, double *sdyx)
{
    double a = 0, b = 0;
    for (size_t i = 0; i < n; i += GS_FLUSH) {
        const size_t end = n - i < GS_FLUSH ? n : i + GS_FLUSH;
        float la[GS_LANES] = { 0 }, lb[GS_LANES] = { 0 };
        size_t j = i;
        for (; j + GS_LANES <= end; j += GS_LANES)
            for (int k = 0; k < GS_LANES; k++) { la[k] += dy[j + k]; lb[k] += dy[j + k] * (x[j + k] - mu); }
        for (; j < end; j++) { a += dy[j]; b += (double)dy[j] * (x[j] - mu); }
        for (int k = 0; k < GS_LANES; k++) { a += la[k]; b += lb[k]; }
    }
    *sdy = a; *sdyx = b;
}

GS_CLONES
void gs_affine(const float *restrict x, float *restrict y, size_t n, float a, float b)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] * a + b;
}

GS_CLONES
void gs_affine2(const float *restrict dy, const float *restrict x, float *restrict dx, size_t n, float a,
                float b, float c, int accumulate)
{
    if (accumulate) for (size_t i = 0; i < n; i++) dx[i] += a * dy[i] + b * x[i] + c;
    else for (size_t i = 0; i < n; i++) dx[i] = a * dy[i] + b * x[i] + c;
}

/* The fused updates: one pass reads g, p and the moments, writes p and the
 * moments, and sums g², p², (Δp)² in lanes.  BODY computes float dp from
 * gv and pv for element i. */
#define FUSED_LOOP(BODY) do { \
    double sg = 0, sp = 0, sd = 0; \
    for (size_t i0 = 0; i0 < n; i0 += GS_FLUSH) { \
        const size_t end = n - i0 < GS_FLUSH ? n : i0 + GS_FLUSH; \
        float lg[GS_LANES] = { 0 }, lp[GS_LANES] = { 0 }, ld[GS_LANES] = { 0 }; \
        size_t j = i0; \
        for (; j + GS_LANES <= end; j += GS_LANES) \
            for (int k = 0; k < GS_LANES; k++) { \
                const size_t i = j + (size_t)k; \
                const float gv = g[i], pv = p[i]; \
                float dp; \
                BODY \
                lg[k] += gv * gv; lp[k] += pv * pv; ld[k] += dp * dp; \
            } \
        for (; j < end; j++) { \
            const size_t i = j; \
            const float gv = g[i], pv = p[i]; \
            float dp; \
            BODY \
            sg += (double)gv * gv; sp += (double)pv * pv; sd += (double)dp * dp; \
        } \
        for (int k = 0; k < GS_LANES; k++) { sg += lg[k]; sp += lp[k]; sd += ld[k]; } \
    } \
    acc[0] += sg; acc[1] += sp; acc[2] += sd; \
} while (0)

GS_CLONES
void gs_sgd_update(float *restrict p, const float *restrict g, float *restrict m, size_t n, float lr,
                   float scale, float wd, float mu, int first, int nesterov, double acc[3])
{
    if (mu == 0.0f) {
        FUSED_LOOP({ const float d = gv * scale + wd * pv; p[i] = pv - lr * d; dp = p[i] - pv; });
    } else if (first) {
        FUSED_LOOP({ const float d = gv * scale + wd * pv; m[i] = d;
                     const float u = nesterov ? d + mu * d : d; p[i] = pv - lr * u; dp = p[i] - pv; });
    } else if (nesterov) {
        FUSED_LOOP({ const float d = gv * scale + wd * pv; const float b = mu * m[i] + d; m[i] = b;
                     p[i] = pv - lr * (d + mu * b); dp = p[i] - pv; });
    } else {
        FUSED_LOOP({ const float d = gv * scale + wd * pv; const float b = mu * m[i] + d; m[i] = b;
                     p[i] = pv - lr * b; dp = p[i] - pv; });
    }
}

GS_CLONES
void gs_adam_update(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                    size_t n, float step, float scale, float l2, float decay, float b1, float b2,
                    float bc2_sqrt, float eps, double acc[3])
{
    FUSED_LOOP({
        const float d = gv * scale + l2 * pv;
        const float mm = b1 * m[i] + (1.0f - b1) * d;
        const float vv = b2 * v[i] + (1.0f - b2) * d * d;
        m[i] = mm; v[i] = vv;
        p[i] = pv * decay - step * mm / (sqrtf(vv) / bc2_sqrt + eps);
        dp = p[i] - pv;
    });
}
