/* reduce.c - see reduce.h.  Every loop works on GS_LANES independent lanes
 * so gcc vectorises it without reassociating float sums. */
#include <math.h>
#include <stdint.h>
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/simd.h"

/* The reductions below walk `rows` rows of S floats, `stride` apart (one row: a plain array), in float
 * lanes flushed into double once GS_FLUSH elements have gone in (at the end of a row; within a row longer
 * than that, every GS_FLUSH), the scalar tails straight into double.  Across many short rows (a
 * BatchNorm2d channel: N rows of H W) the lanes are summed once per GS_FLUSH elements, not once a row.
 * Where FETCH, the next row's lines (and PF2's) are fetched while a row is summed (rows a stride apart are
 * too short a stream for the hardware's prefetcher). */
#define ROWS_LOOP(INIT, VBODY, SBODY, FLUSH) do { \
        INIT \
        size_t cnt_ = 0; \
        for (int i_ = 0; i_ < rows; i_++) { \
            const size_t r_ = (size_t)i_ * stride; \
            if (FETCH && i_ + 1 < rows) \
                for (size_t k_ = 0; k_ < S; k_ += 16) { \
                    __builtin_prefetch(x + r_ + stride + k_, 0, 3); \
                    if (PF2) __builtin_prefetch(PF2 + r_ + stride + k_, 0, 3); \
                } \
            for (size_t j0_ = 0; j0_ < S; j0_ += GS_FLUSH) { \
                const size_t end_ = S - j0_ < GS_FLUSH ? S : j0_ + GS_FLUSH; \
                size_t j = j0_; \
                for (; j + GS_LANES <= end_; j += GS_LANES) { const size_t o = r_ + j; VBODY } \
                for (; j < end_; j++) { const size_t o = r_ + j; SBODY } \
                cnt_ += end_ - j0_; \
                if (cnt_ >= GS_FLUSH) { FLUSH cnt_ = 0; } \
            } \
        } \
        FLUSH \
    } while (0)

#define PF2 ((const float *)0)
#define FETCH 1
GS_CLONES
void gs_rows_sums(const float *x, int rows, size_t S, size_t stride, double *sum, double *sumsq)
{
    double s = 0, q = 0;
    gs_vacc ls, lq;
    ROWS_LOOP(ls = GS_VACC_ZERO; lq = GS_VACC_ZERO;,
              { const gs_vf v = GS_VLOAD(x + o); GS_VACC_ADD(ls, v); GS_VACC_ADD(lq, v * v); },
              { s += x[o]; q += (double)x[o] * x[o]; },
              { s += GS_VACC_SUM(ls); q += GS_VACC_SUM(lq); ls = GS_VACC_ZERO; lq = GS_VACC_ZERO; });
    if (sum) *sum = s;
    if (sumsq) *sumsq = q;
}

/* (a second pass over what gs_rows_sums just fetched: nothing to fetch) */
#undef FETCH
#define FETCH 0
GS_CLONES
double gs_rows_centered_sq(const float *x, int rows, size_t S, size_t stride, double mu)
{
    const float m = (float)mu;
    double q = 0;
    gs_vacc lq;
    ROWS_LOOP(lq = GS_VACC_ZERO;,
              { const gs_vf d = GS_VLOAD(x + o) - m; GS_VACC_ADD(lq, d * d); },
              { q += ((double)x[o] - mu) * ((double)x[o] - mu); },
              { q += GS_VACC_SUM(lq); lq = GS_VACC_ZERO; });
    return q;
}
#undef PF2
#undef FETCH

void gs_reduce_sums(const float *x, size_t n, double *sum, double *sumsq) { gs_rows_sums(x, 1, n, n, sum, sumsq); }
double gs_reduce_centered_sq(const float *x, size_t n, double mu) { return gs_rows_centered_sq(x, 1, n, n, mu); }

/* Σ d and Σ d (x - mu), d = dy, or with relu set the relu's gradient of dy at y = x * ya + yb */
#define PF2 dy
#define FETCH 1
static inline __attribute__((always_inline)) void dot_centered(const float *dy, const float *restrict x, int rows,
                                                               size_t S, size_t stride, float mu, int relu, float ya,
                                                               float yb, double *sdy, double *sdyx)
{
    const float m = mu;
    double a = 0, b = 0;
    gs_vacc la, lb;
    ROWS_LOOP(la = GS_VACC_ZERO; lb = GS_VACC_ZERO;,
              {
                  const gs_vf xv = GS_VLOAD(x + o);
                  const gs_vf dv = GS_VLOAD(dy + o);
                  const gs_vf d = relu ? GS_RELU_GRAD_V(xv * ya + yb, dv) : dv;
                  GS_VACC_ADD(la, d); GS_VACC_ADD(lb, d * (xv - m));
              },
              {
                  const float d = relu ? gs_relu_grad(x[o] * ya + yb, dy[o]) : dy[o];
                  a += d; b += (double)d * (x[o] - mu);
              },
              { a += GS_VACC_SUM(la); b += GS_VACC_SUM(lb); la = GS_VACC_ZERO; lb = GS_VACC_ZERO; });
    *sdy = a; *sdyx = b;
}
#undef PF2
#undef FETCH
#undef ROWS_LOOP

GS_CLONES
void gs_rows_dot_centered(const float *dy, const float *x, int rows, size_t S, size_t stride, float mu, int relu,
                          float ya, float yb, double *sdy, double *sdyx)
{
    if (relu) dot_centered(dy, x, rows, S, stride, mu, 1, ya, yb, sdy, sdyx);
    else dot_centered(dy, x, rows, S, stride, mu, 0, 0.0f, 0.0f, sdy, sdyx);
}

/* The two affine passes in one body for both forms, the relu a constant in each call. */
static inline __attribute__((always_inline)) void affine(const float *restrict x, float *restrict y,
                                                         float *restrict r, size_t n, float a, float b, const int relu,
                                                         const int write_y)
{
    for (size_t i = 0; i < n; i++) {
        const float v = x[i] * a + b;
        if (write_y) y[i] = v;
        if (relu) r[i] = gs_relu(v);
    }
}

GS_CLONES
void gs_affine(const float *x, float *y, float *r, size_t n, float a, float b)
{
    if (r && y) affine(x, y, r, n, a, b, 1, 1);
    else if (r) affine(x, NULL, r, n, a, b, 1, 0);
    else affine(x, y, NULL, n, a, b, 0, 1);
}

/* explicit vectors: dx may be dy, which a compiler's overlap check would send down a scalar loop */
static inline __attribute__((always_inline)) void affine2(const float *dy, const float *restrict x, float *dx,
                                                          size_t n, float a, float b, float c, const int relu,
                                                          float ya, float yb, int accumulate)
{
    size_t i = 0;
    for (; i + GS_LANES <= n; i += GS_LANES) {
        const gs_vf xv = GS_VLOAD(x + i), dv = GS_VLOAD(dy + i);
        const gs_vf g = relu ? GS_RELU_GRAD_V(xv * ya + yb, dv) : dv;
        gs_vf v = a * g + b * xv + c;
        if (accumulate) v += GS_VLOAD(dx + i);
        GS_VSTORE(dx + i, v);
    }
    for (; i < n; i++) {
        const float g = relu ? gs_relu_grad(x[i] * ya + yb, dy[i]) : dy[i];
        const float v = a * g + b * x[i] + c;
        dx[i] = accumulate ? dx[i] + v : v;
    }
}

GS_CLONES
void gs_affine2(const float *dy, const float *x, float *dx, size_t n, float a, float b, float c, int relu, float ya,
                float yb, int accumulate)
{
    if (relu) affine2(dy, x, dx, n, a, b, c, 1, ya, yb, accumulate);
    else affine2(dy, x, dx, n, a, b, c, 0, 0.0f, 0.0f, accumulate);
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

/* SGD over blocks of 16 lanes; BODY maps (g, p, m) vectors to (p1, m1), STORE writes them. */
#define SGD_LOOP(STORE, VBODY, SBODY) do { \
    double sg = 0, sp = 0, sd = 0; \
    for (size_t i0 = 0; i0 < n; i0 += GS_FLUSH) { \
        const size_t end = n - i0 < GS_FLUSH ? n : i0 + GS_FLUSH; \
        gs_vacc lg = GS_VACC_ZERO, lp = GS_VACC_ZERO, ld = GS_VACC_ZERO; \
        size_t j = i0; \
        for (; j + GS_LANES <= end; j += GS_LANES) { \
            const gs_vf gv = GS_VLOAD(g + j), pv = GS_VLOAD(p + j); \
            gs_vf mv = GS_VLOAD(m + j), p1; \
            VBODY \
            STORE(p + j, p1); STORE(m + j, mv); \
            const gs_vf dp = p1 - pv; \
            GS_VACC_ADD(lg, gv * gv); GS_VACC_ADD(lp, pv * pv); GS_VACC_ADD(ld, dp * dp); \
        } \
        for (; j < end; j++) { \
            const float gv = g[j], pv = p[j]; \
            float mv = m[j], p1; \
            SBODY \
            p[j] = p1; m[j] = mv; \
            const float dp = p1 - pv; \
            sg += (double)gv * gv; sp += (double)pv * pv; sd += (double)dp * dp; \
        } \
        sg += GS_VACC_SUM(lg); sp += GS_VACC_SUM(lp); sd += GS_VACC_SUM(ld); \
    } \
    acc[0] += sg; acc[1] += sp; acc[2] += sd; \
} while (0)

/* The four rules of gs_sgd_update, each a SGD_LOOP with the given vector store. */
#define SGD_RULES(STORE) do { \
    /* m is read and written back unchanged when mu == 0: one code path */ \
    if (mu == 0.0f) { \
        SGD_LOOP(STORE, { p1 = pv - lr * (gv * scale + wd * pv); }, \
                        { p1 = pv - lr * (gv * scale + wd * pv); }); \
    } else if (first) { \
        SGD_LOOP(STORE, { const gs_vf d = gv * scale + wd * pv; mv = d; p1 = pv - lr * (nesterov ? d + mu * d : d); }, \
                        { const float d = gv * scale + wd * pv; mv = d; p1 = pv - lr * (nesterov ? d + mu * d : d); }); \
    } else if (nesterov) { \
        SGD_LOOP(STORE, { const gs_vf d = gv * scale + wd * pv; mv = mu * mv + d; p1 = pv - lr * (d + mu * mv); }, \
                        { const float d = gv * scale + wd * pv; mv = mu * mv + d; p1 = pv - lr * (d + mu * mv); }); \
    } else { \
        SGD_LOOP(STORE, { const gs_vf d = gv * scale + wd * pv; mv = mu * mv + d; p1 = pv - lr * mv; }, \
                        { const float d = gv * scale + wd * pv; mv = mu * mv + d; p1 = pv - lr * mv; }); \
    } \
} while (0)

#ifdef GS_HAVE_CLONES
#include <immintrin.h>
/* The same rules with p and m written by non-temporal stores (64-byte aligned p and m, AVX-512), the
 * arithmetic and the sums' order those of the clones, so the bits are too. */
#define SGD_STREAM(q, v) _mm512_stream_ps((q), (__m512)(v))
__attribute__((target("avx512f")))
static void sgd_stream(float *restrict p, const float *restrict g, float *restrict m, size_t n, float lr,
                       float scale, float wd, float mu, int first, int nesterov, double acc[3])
{
    SGD_RULES(SGD_STREAM);
    _mm_sfence();   /* the streamed lines reach memory before another thread reads them */
}
#endif

GS_CLONES
void gs_sgd_update(float *restrict p, const float *restrict g, float *restrict m, size_t n, float lr,
                   float scale, float wd, float mu, int first, int nesterov, int stream, double acc[3])
{
#ifdef GS_HAVE_CLONES
    if (stream && (((uintptr_t)p | (uintptr_t)m) & 63) == 0 && __builtin_cpu_supports("avx512f")) {
        sgd_stream(p, g, m, n, lr, scale, wd, mu, first, nesterov, acc);
        return;
    }
#else
    (void)stream;
#endif
    SGD_RULES(GS_VSTORE);
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
