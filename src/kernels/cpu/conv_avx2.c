/* conv_avx2.c - the direct 3x3 convolution (stride 1, padding 1) on CPUs with AVX2 and FMA.
 *
 * With 16-64 channels, im2col + GEMM spends as long packing the column panels as multiplying them
 * (a panel of C 9 rows serves O / 6 row tiles), then col2im's scatter on the way back.  Here each
 * sample is first copied into a bordered image, C planes of (H + 2) x (W + 2) with zeros around, so
 * that every tap is a fixed displacement from the output pixel and needs no mask.  The outputs are
 * computed on that bordered grid, whose rows are W + 2 long: a register tile of 6 output channels x
 * 16 consecutive grid positions (2 vectors, 12 accumulators) takes, for each input channel and tap, 2
 * loads of the image and 6 broadcasts of weights, rearranged per call so that the tile reads them in
 * order, 12 FMAs.  The two border columns of each row come out as garbage and are dropped when the
 * rows are copied out (W / (W + 2) of the work is useful: 93% on 28-wide maps, 78% on 7-wide ones).
 * Each sum runs over (c, tap) in the order of the im2col GEMM's k, one FMA chain from zero.
 */
#include <stdint.h>
#include <string.h>
#include "kernels/cpu/gemm.h"

#ifdef GS_GEMM_X86
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma")))
#define D_MR 6      /* output channels of a register tile (then 4 or 2 for the last) */
#define D_NV 2      /* vectors of 8 grid positions of a register tile */
#define D_PX (8 * D_NV)
/* the rearranged weights' room: one group's of D_MR output channels at the most input channels; every
 * group's where they fit in it too (O C 9 <= 13824: the study's nets up to 32 x 32 channels) */
#define D_WP_FLOATS (9 * D_MR * GS_CONV3X3_AVX2_CHANNELS)

/* The bordered image and the outputs on the grid, per call on the stack (GS_CONV3X3_AVX2_FLOATS each). */
static size_t d_plane(int H, int W) { return (size_t)(H + 2) * (size_t)(W + 2); }
/* grid positions from the first output pixel (row 1, column 1) to the last, inclusive */
static size_t d_span(int H, int W) { return (size_t)(H - 1) * (size_t)(W + 2) + (size_t)W; }
/* a tile reads up to D_PX - 1 positions past the span's end, plus the taps' reach (W + 3): slack after
 * the last plane, and the outputs' rows padded to whole tiles */
static size_t d_tiles(int H, int W) { return (d_span(H, W) + D_PX - 1) / D_PX * D_PX; }
static size_t d_image_floats(int C, int H, int W) { return (size_t)C * d_plane(H, W) + D_PX + (size_t)W + 8; }
static size_t d_out_floats(int H, int W, int O) { return (size_t)O * d_tiles(H, W); }

/* d[0..W) = s[0..W): a map's row into the grid (a call to memcpy per row of 7-28 floats costs more) */
static inline __attribute__((always_inline)) TGT void d_copy_row(float *d, const float *s, int W)
{
    int j = 0;
    for (; j + 8 <= W; j += 8) _mm256_storeu_ps(d + j, _mm256_loadu_ps(s + j));
    for (; j < W; j++) d[j] = s[j];
}

int gs_conv3x3_avx2_fits(int C, int H, int W, int O)
{
    return C >= 1 && C <= GS_CONV3X3_AVX2_CHANNELS && H >= 1 && W >= 1 && O >= 2 && O % 2 == 0 &&
           (long)H * W <= GS_CONV3X3_MAX_PIXELS && d_image_floats(C, H, W) <= GS_CONV3X3_AVX2_FLOATS &&
           d_out_floats(H, W, O) <= GS_CONV3X3_AVX2_FLOATS;
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

/* wp (C, 9, mr) = the weights of output channels og .. og + mr, in the order a tile reads them */
static void d_pack_weights(int C, int O, int og, int mr, const float *wd, float *wp)
{
    for (int c = 0; c < C; c++)
        for (int t = 0; t < 9; t++)
            for (int r = 0; r < mr; r++) wp[((size_t)c * 9 + t) * mr + r] = wd[((size_t)c * 9 + t) * O + og + r];
}

/* d_tile for the mr (6, 4 or 2) of a group of output channels */
static TGT void d_tile_mr(int mr, const float *x0, size_t cs, int W2, int C, const float *wp, float *yb, size_t ld)
{
    if (mr == D_MR) d_tile(D_MR, D_NV, x0, cs, W2, C, wp, yb, ld);
    else if (mr == 4) d_tile(4, D_NV, x0, cs, W2, C, wp, yb, ld);
    else d_tile(2, D_NV, x0, cs, W2, C, wp, yb, ld);
}

/* Sample xn (C, H, W) into the inside of the bordered image xb (planes cs apart), the border untouched */
static TGT void d_load_image(float *xb, size_t cs, const float *xn, int C, int H, int W)
{
    for (int c = 0; c < C; c++)
        for (int h = 0; h < H; h++)
            d_copy_row(xb + (size_t)c * cs + (size_t)(h + 1) * (W + 2) + 1, xn + ((size_t)c * H + h) * W, W);
}

TGT int gs_conv3x3_avx2(int g, int C, int H, int W, int O, const float *x, const float *wd, const float *bias,
                        float *y, int accumulate)
{
    if (!gs_conv3x3_avx2_fits(C, H, W, O)) return 0;
    if (g <= 0) return 1;
    _Alignas(32) float xb[GS_CONV3X3_AVX2_FLOATS], yb[GS_CONV3X3_AVX2_FLOATS], wp[D_WP_FLOATS];
    const int W2 = W + 2, HW = H * W;
    const size_t cs = d_plane(H, W), span = d_tiles(H, W);
    /* the weights, in the order the tiles read them: all of them once, where they fit */
    const int all = (size_t)O * C * 9 <= D_WP_FLOATS;
    for (int og = 0; all && og < O; og += D_MR)
        d_pack_weights(C, O, og, O - og < D_MR ? O - og : D_MR, wd, wp + (size_t)og * C * 9);
    /* the border and the slack: zero once (calls often hold a single sample), the inside rewritten per sample */
    for (int c = 0; c < C; c++) {
        float *d = xb + (size_t)c * cs;
        memset(d, 0, (size_t)W2 * sizeof *d);
        memset(d + (size_t)(H + 1) * W2, 0, (size_t)W2 * sizeof *d);
        for (int h = 1; h <= H; h++) { d[(size_t)h * W2] = 0.0f; d[(size_t)h * W2 + W + 1] = 0.0f; }
    }
    memset(xb + (size_t)C * cs, 0, (d_image_floats(C, H, W) - (size_t)C * cs) * sizeof *xb);
    for (int n = 0; n < g; n++) {
        d_load_image(xb, cs, x + (size_t)n * C * HW, C, H, W);
        /* output grid position p (from row 1, column 1) reads tap (i, j) at p + i W2 + j */
        if (all)   /* a tile's columns of the image stay in L1 while every group of channels runs on them */
            for (size_t p = 0; p < span; p += D_PX)
                for (int og = 0; og < O; og += D_MR)
                    d_tile_mr(O - og < D_MR ? O - og : D_MR, xb + p, cs, W2, C, wp + (size_t)og * C * 9,
                              yb + (size_t)og * span + p, span);
        else
            for (int og = 0; og < O; og += D_MR) {
                const int mr = O - og < D_MR ? O - og : D_MR;
                d_pack_weights(C, O, og, mr, wd, wp);
                for (size_t p = 0; p < span; p += D_PX) d_tile_mr(mr, xb + p, cs, W2, C, wp, yb + (size_t)og * span + p, span);
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

/* ---- its weight gradient ----
 *
 * dw[o][c][t] = the sum over samples and pixels of dy[o][p] x[c][p + tap t], every pixel's taps read
 * from the bordered image, dy laid on the same grid (zeros in the two border columns and past the
 * end, so the grid's extra positions add nothing).  A register tile of 4 output channels x the 3 taps
 * of one tap row runs down the grid of every sample of a chunk, 8 positions a vector: 3 loads of the
 * image and 4 of dy for 12 FMAs; the 12 vectors are summed across their lanes once per chunk. */
#define DW_OC 4

/* floats of work a chunk of n samples needs: their bordered images and dy grids, then the sums */
static size_t dw_chunk_floats(int C, int H, int W, int O, int n)
{
    return (size_t)n * (d_image_floats(C, H, W) + (size_t)O * d_tiles(H, W));
}

size_t gs_conv3x3_dw_avx2_work(int C, int H, int W, int O)
{
    return dw_chunk_floats(C, H, W, O, 1) + (size_t)O * C * 9 + 32;   /* + rounding and alignment */
}

static inline __attribute__((always_inline)) TGT float d_hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* sums[r][c][3 i + j] += the dot of dy's grid rows og + r with the image's plane c shifted by tap (i, j),
 * over n samples (their buffers `stride` floats apart) */
static TGT void dw_rows(int n, size_t stride, const float *xb, size_t cs, const float *dyb, size_t span, int W2,
                        int C, int og, float *sums)
{
    for (int c = 0; c < C; c++)
        for (int i = 0; i < 3; i++) {
            __m256 a[DW_OC][3];
            for (int r = 0; r < DW_OC; r++) a[r][0] = a[r][1] = a[r][2] = _mm256_setzero_ps();
            for (int s = 0; s < n; s++) {
                const float *xr = xb + (size_t)s * stride + (size_t)c * cs + (size_t)i * W2;
                const float *dr = dyb + (size_t)s * stride + (size_t)og * span;
                for (size_t p = 0; p < span; p += 8) {
                    __m256 x0 = _mm256_loadu_ps(xr + p), x1 = _mm256_loadu_ps(xr + p + 1), x2 = _mm256_loadu_ps(xr + p + 2);
                    __asm__("" : "+x"(x0), "+x"(x1), "+x"(x2));   /* in registers, each used 4 times */
#pragma GCC unroll 4
                    for (int r = 0; r < DW_OC; r++) {
                        __m256 d = _mm256_load_ps(dr + (size_t)r * span + p);
                        __asm__("" : "+x"(d));
                        a[r][0] = _mm256_fmadd_ps(d, x0, a[r][0]);
                        a[r][1] = _mm256_fmadd_ps(d, x1, a[r][1]);
                        a[r][2] = _mm256_fmadd_ps(d, x2, a[r][2]);
                    }
                }
            }
            for (int r = 0; r < DW_OC; r++)
                for (int j = 0; j < 3; j++) sums[((size_t)(og + r) * C + c) * 9 + 3 * i + j] += d_hsum(a[r][j]);
        }
}

TGT int gs_conv3x3_dw_avx2(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw,
                           int accumulate, float *work, size_t work_floats)
{
    if (!gs_conv3x3_avx2_fits(C, H, W, O) || O % DW_OC || work_floats < gs_conv3x3_dw_avx2_work(C, H, W, O))
        return 0;
    if (g <= 0) return 1;
    const int W2 = W + 2, HW = H * W;
    const size_t cs = d_plane(H, W), span = d_tiles(H, W);
    /* 32-byte aligned: the sums first, then each sample's image and dy grid (both whole vectors long) */
    float *sums = (float *)(((uintptr_t)work + 31) & ~(uintptr_t)31);
    const size_t nsums = ((size_t)O * C * 9 + 7) & ~(size_t)7;
    const size_t img = (d_image_floats(C, H, W) + 7) & ~(size_t)7, stride = img + (size_t)O * span;
    const size_t room = work_floats - (size_t)(sums - work) - nsums;
    const int chunk = (int)(room / stride < (size_t)g ? room / stride : (size_t)g);
    if (chunk < 1) return 0;
    float *buf = sums + nsums;
    memset(sums, 0, (size_t)O * C * 9 * sizeof *sums);
    for (int s = 0; s < chunk; s++) {   /* borders and padding: zero once, the insides rewritten */
        memset(buf + (size_t)s * stride, 0, img * sizeof *buf);
        memset(buf + (size_t)s * stride + img, 0, (size_t)O * span * sizeof *buf);
    }
    for (int n0 = 0; n0 < g; n0 += chunk) {
        const int n = g - n0 < chunk ? g - n0 : chunk;
        for (int s = 0; s < n; s++) {
            const float *dn = dy + (size_t)(n0 + s) * O * HW;
            float *xb = buf + (size_t)s * stride, *db = xb + img;
            d_load_image(xb, cs, x + (size_t)(n0 + s) * C * HW, C, H, W);
            for (int o = 0; o < O; o++)
                for (int h = 0; h < H; h++)
                    d_copy_row(db + (size_t)o * span + (size_t)h * W2, dn + ((size_t)o * H + h) * W, W);
        }
        for (int og = 0; og < O; og += DW_OC) dw_rows(n, stride, buf, cs, buf + img, span, W2, C, og, sums);
    }
    const size_t len = (size_t)O * C * 9;
    for (size_t k = 0; k < len; k++) dw[k] = accumulate ? dw[k] + sums[k] : sums[k];
    return 1;
}

#endif
