/* conv_avx2.c - the direct 3x3 convolution (stride 1, padding 1) on CPUs with AVX2 and FMA.
 *
 * With 16-64 channels, im2col + GEMM spends as long packing the column panels as multiplying them
 * (a panel of C 9 rows serves O / 6 row tiles), then col2im's scatter on the way back.  Here each
 * sample is first copied into a bordered image, C planes of (H + 2) x (W + 2) with zeros around, so
 * that every tap is a fixed displacement from the output pixel and needs no mask.  The outputs are
 * computed on that bordered grid, whose rows are W + 2 long: a register tile of 6 output channels x
 * 16 consecutive grid positions (2 vectors, 12 accumulators) takes, for each input channel and tap, 2
 * loads of the image and 6 broadcasts of weights, rearranged per call so that the tile reads them in
 * order, 12 FMAs.  The two border columns of each row come out as
 * garbage and are dropped when the rows are copied out (W / (W + 2) of the work is useful: 93% on
 * 28-wide maps, 78% on 7-wide ones).  Each sum runs over (c, tap) in the order of the im2col GEMM's k,
 * one FMA chain from zero.
 */
#include <string.h>
#include "kernels/cpu/gemm.h"

#ifdef GS_GEMM_X86
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma")))
#define D_MR 6      /* output channels of a register tile (then 4 or 2 for the last) */
#define D_NV 2      /* vectors of 8 grid positions of a register tile */
#define D_PX (8 * D_NV)

/* The bordered image and the outputs on the grid, per call on the stack (GS_CONV3X3_AVX2_FLOATS each). */
static size_t d_plane(int H, int W) { return (size_t)(H + 2) * (size_t)(W + 2); }
/* grid positions from the first output pixel (row 1, column 1) to the last, inclusive */
static size_t d_span(int H, int W) { return (size_t)(H - 1) * (size_t)(W + 2) + (size_t)W; }
/* a tile reads up to D_PX - 1 positions past the span's end, plus the taps' reach (W + 3): slack after
 * the last plane, and the outputs' rows padded to whole tiles */
static size_t d_tiles(int H, int W) { return (d_span(H, W) + D_PX - 1) / D_PX * D_PX; }
static size_t d_image_floats(int C, int H, int W) { return (size_t)C * d_plane(H, W) + D_PX + (size_t)W + 8; }
static size_t d_out_floats(int H, int W, int O) { return (size_t)O * d_tiles(H, W); }

int gs_conv3x3_avx2_fits(int C, int H, int W, int O)
{
    return C >= 1 && H >= 1 && W >= 1 && O >= 2 && O % 2 == 0 && (long)H * W <= GS_CONV3X3_MAX_PIXELS &&
           d_image_floats(C, H, W) <= GS_CONV3X3_AVX2_FLOATS && d_out_floats(H, W, O) <= GS_CONV3X3_AVX2_FLOATS && C <= GS_CONV3X3_AVX2_CHANNELS;
}

/* yb (mr rows, ld floats apart) at grid positions p .. p + 8 nv = the sums over c and the taps of
 * wp[(c 9 + t) mr + r] times the image at p + the tap's displacement; x0 points at position p's tap
 * (0, 0), the row above and the column left. */
static inline __attribute__((always_inline)) TGT void d_tile(const int mr, const int nv, const float *x0, size_t cs,
                                                              int W2, int C, const float *wp, float *yb, size_t ld)
{
    __m256 acc[D_MR][D_NV];
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) acc[r][v] = _mm256_setzero_ps();
    for (int c = 0; c < C; c++, x0 += cs) {
#pragma GCC unroll 3
        for (int i = 0; i < 3; i++) {
            const float *row = x0 + (size_t)i * W2;
#pragma GCC unroll 3
            for (int j = 0; j < 3; j++, wp += mr) {
                __m256 xv[D_NV];
#pragma GCC unroll 4
                for (int v = 0; v < nv; v++) {
                    xv[v] = _mm256_loadu_ps(row + j + 8 * v);
                    /* in a register: folded into each FMA, the load would be repeated mr times */
                    __asm__("" : "+x"(xv[v]));
                }
#pragma GCC unroll 8
                for (int r = 0; r < mr; r++) {
                    const __m256 k = _mm256_broadcast_ss(wp + r);
#pragma GCC unroll 4
                    for (int v = 0; v < nv; v++) acc[r][v] = _mm256_fmadd_ps(k, xv[v], acc[r][v]);
                }
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) _mm256_storeu_ps(yb + (size_t)r * ld + 8 * v, acc[r][v]);
}

/* The tiles of mr output channels over the whole grid, wp their weights as (C, 9, mr) */
static TGT void d_rows(int mr, const float *x0, size_t cs, int W2, int C, const float *wp, float *yb, size_t span)
{
    switch (mr) {
#define D_CASE(R) case R: \
        for (size_t p = 0; p < span; p += D_PX) d_tile(R, D_NV, x0 + p, cs, W2, C, wp, yb + p, span); \
        break;
        D_CASE(2) D_CASE(4) D_CASE(6)
#undef D_CASE
    default: break;
    }
}

TGT int gs_conv3x3_avx2(int g, int C, int H, int W, int O, const float *x, const float *wd, const float *bias,
                        float *y, int accumulate)
{
    if (!gs_conv3x3_avx2_fits(C, H, W, O)) return 0;
    if (g <= 0) return 1;
    _Alignas(32) float xb[GS_CONV3X3_AVX2_FLOATS], yb[GS_CONV3X3_AVX2_FLOATS], wp[(size_t)9 * D_MR * GS_CONV3X3_AVX2_CHANNELS];
    const int W2 = W + 2, HW = H * W;
    const size_t cs = d_plane(H, W), span = d_tiles(H, W);
    /* the border and the slack: zero once (calls often hold a single sample), the inside rewritten per sample */
    for (int c = 0; c < C; c++) {
        float *d = xb + (size_t)c * cs;
        memset(d, 0, (size_t)W2 * sizeof *d);
        memset(d + (size_t)(H + 1) * W2, 0, (size_t)W2 * sizeof *d);
        for (int h = 1; h <= H; h++) { d[(size_t)h * W2] = 0.0f; d[(size_t)h * W2 + W + 1] = 0.0f; }
    }
    memset(xb + (size_t)C * cs, 0, (d_image_floats(C, H, W) - (size_t)C * cs) * sizeof *xb);
    for (int n = 0; n < g; n++) {
        const float *xn = x + (size_t)n * C * HW;
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++) {
                const float *src = xn + ((size_t)c * H + h) * W;
                float *d = xb + (size_t)c * cs + (size_t)(h + 1) * W2 + 1;
                int j = 0;
                for (; j + 8 <= W; j += 8) _mm256_storeu_ps(d + j, _mm256_loadu_ps(src + j));
                for (; j < W; j++) d[j] = src[j];
            }
        /* output grid position p (from row 1, column 1) reads tap (i, j) at p + i W2 + j */
        for (int og = 0; og < O; og += D_MR) {
            const int mr = O - og < D_MR ? O - og : D_MR;
            /* the weights of these mr channels, in the order the tile reads them */
            for (int c = 0; c < C; c++)
                for (int t = 0; t < 9; t++)
                    for (int r = 0; r < mr; r++) wp[((size_t)c * 9 + t) * mr + r] = wd[((size_t)c * 9 + t) * O + og + r];
            d_rows(mr, xb, cs, W2, C, wp, yb + (size_t)og * span, span);
        }
        float *yn = y + (size_t)n * O * HW;
        for (int o = 0; o < O; o++) {
            const __m256 bb = _mm256_set1_ps(bias ? bias[o] : 0.0f);
            for (int h = 0; h < H; h++) {
                const float *s = yb + (size_t)o * span + (size_t)h * W2;
                float *d = yn + (size_t)o * HW + (size_t)h * W;
                int j = 0;
                for (; j + 8 <= W; j += 8) {
                    __m256 v = _mm256_loadu_ps(s + j);
                    if (bias) v = _mm256_add_ps(v, bb);
                    if (accumulate) v = _mm256_add_ps(_mm256_loadu_ps(d + j), v);
                    _mm256_storeu_ps(d + j, v);
                }
                for (; j < W; j++) {
                    float v = s[j];
                    if (bias) v += bias[o];
                    d[j] = accumulate ? d[j] + v : v;
                }
            }
        }
    }
    return 1;
}

#endif
