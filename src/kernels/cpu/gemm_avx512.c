/* gemm_avx512.c - the AVX-512 block function of gs_sgemm.
 *
 * B is packed one panel of 32 columns at a time (k-major, two zmm per k,
 * zero-padded past N; op(B) = B^T is packed with 16 x 16 register
 * transposes).  The panel stays in L1 while every 8-row tile of the share
 * runs over it.  A is not packed: the micro-kernel broadcasts op(A) straight
 * from A (embedded broadcasts when trans_a), so no thread copies A.  The
 * micro-kernel holds an 8 x 32 tile of C in 16 zmm accumulators; tiles cut by
 * the edge of M get their own unrolled instance, tiles cut by the edge of N
 * store through a mask; each tile prefetches its rows of C before its k loop
 * (in training C is rarely in cache), and its part of the next panel's B (a
 * layer's weights or saved input, rarely in cache either), so that the next
 * packing finds it there.  Compiled with target attributes only, so the file
 * builds with plain flags; called only after the driver has checked the CPU
 * for avx512f.
 */
#include "kernels/cpu/gemm.h"

#ifdef GS_GEMM_X86
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define TGT __attribute__((target("avx512f,fma")))
#define INL static inline __attribute__((always_inline)) TGT

#define X_MR 8   /* rows of the register tile; x_tile spells out this many */
#define X_NV 2
#define X_NR GS_GEMM_NR_AVX512
#define X_MC GS_GEMM_POST_MAX_ROWS

/* Low `lanes` bits set, lanes clamped to [0, 16]. */
static inline __mmask16 lane_mask(int lanes)
{
    return lanes >= 16 ? (__mmask16)0xFFFF : lanes <= 0 ? (__mmask16)0 : (__mmask16)((1u << lanes) - 1);
}

/* _mm512_permutex2var_ps indices over a pair of vectors (32 lanes): their even lanes, their odd lanes
 * (a row split into even and odd columns: Winograd, the stride-2 phases), and two vectors interleaved,
 * the low and the high half (the stride-2 dx's phases merged back into rows) */
static const int x_even_idx[16] = { 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30 };
static const int x_odd_idx[16] = { 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31 };
static const int x_lo_idx[16] = { 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23 };
static const int x_hi_idx[16] = { 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31 };

/* bp[k][0..32) = B[k0 + k][0..nw), zero beyond nw (op(B) = B, rows of B are rows of the panel). */
static TGT void x_pack_b_rows(const float *B, ptrdiff_t ldb, int k0, int kc, int nw, float *bp)
{
    __mmask16 m0 = lane_mask(nw), m1 = lane_mask(nw - 16);
    const float *src = B + (size_t)k0 * ldb;
    for (int k = 0; k < kc; k++, src += ldb, bp += X_NR) {
        _mm512_store_ps(bp, _mm512_maskz_loadu_ps(m0, src));
        _mm512_store_ps(bp + 16, _mm512_maskz_loadu_ps(m1, src + 16));
    }
}

/* In-register transpose: on return r[c] holds column c of the 16 x 16 block whose rows were r[0..16). */
INL void x_transpose16(__m512 r[16])
{
    __m512 t[16], u[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4g + c] lane L: column 4L + c of rows 4g..4g+3 */
#pragma GCC unroll 4
    for (int g = 0; g < 4; g++) {
        __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
        __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
        u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m512 x = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), y = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
        __m512 x2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
        __m512 y2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
        r[c] = _mm512_shuffle_f32x4(x, x2, 0x88);
        r[4 + c] = _mm512_shuffle_f32x4(x, x2, 0xDD);
        r[8 + c] = _mm512_shuffle_f32x4(y, y2, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(y, y2, 0xDD);
    }
}

/* bp[k][j] = B[j][k0 + k] for j < nw, zero beyond (op(B) = B^T: rows of B are columns of the panel).
 * Writes whole 16-row groups: bp must hold 15 rows past kc. */
static TGT void x_pack_b_cols(const float *B, ptrdiff_t ldb, int k0, int kc, int nw, float *bp)
{
    for (int v = 0; v < X_NV; v++) {
        int rows = nw - 16 * v;
        if (rows > 16) rows = 16;
        if (rows <= 0) break;   /* nw <= 16: the kernel reads only the first vector */
        for (int kb = 0; kb < kc; kb += 16) {
            int kn = kc - kb < 16 ? kc - kb : 16;
            const float *src = B + (size_t)16 * v * ldb + k0 + kb;
            float *dst = bp + (size_t)kb * X_NR + 16 * v;
            __m512 r[16];
            if (kn == 16 && rows == 16) {   /* the common case: plain loads */
#pragma GCC unroll 16
                for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + i * ldb);
            } else {
                __mmask16 km = lane_mask(kn);
#pragma GCC unroll 16
                for (int i = 0; i < 16; i++)
                    r[i] = i < rows ? _mm512_maskz_loadu_ps(km, src + i * ldb) : _mm512_setzero_ps();
            }
            x_transpose16(r);
#pragma GCC unroll 16
            for (int c = 0; c < 16; c++) _mm512_store_ps(dst + c * X_NR, r[c]);
        }
    }
}

/* C tile (mr x 16nv, last vector masked by mlast) = alpha * op(A) tile * bp + beta * C.
 * op(A)(r, k) is a[k * lda + r] when trans_a, else a[r * lda + k].  Written out row by row
 * (not as loops over an array of accumulators) so that every compiler keeps the tile in
 * registers; mr, nv and trans_a are constants at each call, so the untaken rows vanish. */
#define X_ROWS(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7)
INL void x_tile(const int mr, const int nv, const int trans_a, int kc, const float *a, ptrdiff_t lda,
                const float *bp, float *C, ptrdiff_t ldc, float alpha, float beta, const float *bias, __mmask16 mlast)
{
#define X_ZERO(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();
    X_ROWS(X_ZERO)
#undef X_ZERO
    /* Fetch the C tile while the k loop runs: in training, C (a gradient accumulated with
     * beta == 1, or an output) is rarely in cache, and its rows are a stride apart. */
#define X_PREFETCH(r) \
    if (mr > r) { \
        _mm_prefetch((const char *)(C + r * ldc), _MM_HINT_T0); \
        if (nv > 1) _mm_prefetch((const char *)(C + r * ldc + 16), _MM_HINT_T0); \
    }
    X_ROWS(X_PREFETCH)
#undef X_PREFETCH
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(bp), b1 = nv > 1 ? _mm512_load_ps(bp + 16) : _mm512_setzero_ps();
#define X_FMA(r) \
        if (mr > r) { \
            __m512 ar = _mm512_set1_ps(trans_a ? a[r] : a[r * lda]); \
            c##r##0 = _mm512_fmadd_ps(ar, b0, c##r##0); \
            if (nv > 1) c##r##1 = _mm512_fmadd_ps(ar, b1, c##r##1); \
        }
        X_ROWS(X_FMA)
#undef X_FMA
        a += trans_a ? lda : 1;
        bp += X_NR;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __mmask16 m0 = nv > 1 ? (__mmask16)0xFFFF : mlast;
    /* the bias row, added as beta 1 would add it from C: alpha acc + bias, one rounding */
    const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    const __m512 bias1 = bias && nv > 1 ? _mm512_maskz_loadu_ps(mlast, bias + 16) : _mm512_setzero_ps();
    /* beta == 0: C is written, never read */
#define X_STORE1(r, v, m) do { \
        float *c = C + r * ldc + 16 * v; \
        __m512 x = _mm512_mul_ps(va, c##r##v); \
        if (bias) x = _mm512_add_ps(x, bias##v); \
        else if (beta != 0.0f) x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, c), x); \
        _mm512_mask_storeu_ps(c, m, x); \
    } while (0);
#define X_STORE(r) \
    if (mr > r) { \
        X_STORE1(r, 0, m0) \
        if (nv > 1) X_STORE1(r, 1, mlast) \
    }
    X_ROWS(X_STORE)
#undef X_STORE
#undef X_STORE1
}

/* One instance per (rows, vectors, trans_a), so every loop above unrolls to straight code. */
INL void x_tile_any(int mr, int nw, int trans_a, int kc, const float *a, ptrdiff_t lda,
                           const float *bp, float *C, ptrdiff_t ldc, float alpha, float beta, const float *bias)
{
    int nv = (nw + 15) / 16;
    __mmask16 mlast = lane_mask(nw - 16 * (nv - 1));
#define X_CALL(R, V, T) x_tile(R, V, T, kc, a, lda, bp, C, ldc, alpha, beta, bias, mlast)
#define X_CASE(R) case R: \
        if (nv == 2) { if (trans_a) X_CALL(R, 2, 1); else X_CALL(R, 2, 0); } \
        else { if (trans_a) X_CALL(R, 1, 1); else X_CALL(R, 1, 0); } \
        break;
    switch (mr) {
        X_CASE(1) X_CASE(2) X_CASE(3) X_CASE(4) X_CASE(5) X_CASE(6) X_CASE(7) X_CASE(8)
    default: break;
    }
#undef X_CASE
#undef X_CALL
}

/* The block with, where bias is not NULL, C = alpha op(A) op(B) + bias (the row vector added to every
 * row; beta unused): the bits of beta 1 over C holding the bias in every row. */
static TGT void x_block(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, ptrdiff_t lda,
                        const float *B, ptrdiff_t ldb, float beta, const float *bias, float *C, ptrdiff_t ldc,
                        gs_gemm_post_fn *post, const void *pctx)
{
    _Alignas(64) float bp[(GS_GEMM_KC + 15) * X_NR];   /* + 15: x_pack_b_cols writes whole groups of 16 */
    int nkb = (K + GS_GEMM_KC - 1) / GS_GEMM_KC;
    for (int kb = 0; kb < nkb; kb++) {
        int k0 = (int)((long)K * kb / nkb), kc = (int)((long)K * (kb + 1) / nkb) - k0;
        float be = kb == 0 ? beta : 1.0f;
        const float *bk = kb == 0 ? bias : NULL;
        for (int ic = 0; ic < M; ic += X_MC) {
            int mc = M - ic < X_MC ? M - ic : X_MC;
            for (int jr = 0; jr < N; jr += X_NR) {
                int nw = N - jr < X_NR ? N - jr : X_NR;
                if (trans_b) x_pack_b_cols(B + (size_t)jr * ldb, ldb, k0, kc, nw, bp);
                else x_pack_b_rows(B + jr, ldb, k0, kc, nw, bp);
                const int tiles = (mc + X_MR - 1) / X_MR, jn = jr + X_NR;
                const int nwn = N - jn < X_NR ? N - jn : X_NR;
                for (int ir = ic; ir < ic + mc; ir += X_MR) {
                    int mr = ic + mc - ir < X_MR ? ic + mc - ir : X_MR;
                    if (nwn > 0) gs_gemm_fetch_panel(trans_b, B, ldb, k0, kc, jn, nwn, (ir - ic) / X_MR, tiles);
                    const float *a = trans_a ? A + (size_t)k0 * lda + ir : A + (size_t)ir * lda + k0;
                    x_tile_any(mr, nw, trans_a, kc, a, lda, bp, C + (size_t)ir * ldc + jr, ldc, alpha, be,
                               bk ? bk + jr : NULL);
                }
                if (post && kb == nkb - 1) post(pctx, C + (size_t)ic * ldc + jr, ldc, mc, nw);   /* in L1 still */
            }
        }
    }
}

TGT void gs_gemm_block_avx512(int trans_a, int trans_b, int M, int N, int K, float alpha,
                              const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                              float beta, float *C, ptrdiff_t ldc)
{
    x_block(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, NULL, C, ldc, NULL, NULL);
}

TGT void gs_gemm_block_post_avx512(int trans_a, int trans_b, int M, int N, int K, float alpha,
                                   const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,
                                   const float *bias, float *C, ptrdiff_t ldc, gs_gemm_post_fn *post, const void *pctx)
{
    x_block(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, bias ? 0.0f : beta, bias, C, ldc, post, pctx);
}

/* ---- direct 3x3 convolution ----
 *
 * For the small channel counts of the study's nets (16-32), packing im2col panels costs as much as
 * multiplying them (a panel of C 9 rows x 32 pixels serves only O / 8 row tiles).  Here the image is
 * the operand as it is: a register tile of 8 output channels x 32 pixels (two vectors of 16
 * consecutive pixels of one sample) takes, for each input channel and tap, two masked loads of the
 * image shifted by the tap (lanes whose tap falls in the padding are masked off, and so are lanes
 * past the image's end) and 8 broadcasts of weights, 16 FMAs.  The sums run over (c, tap) in the
 * order the implicit GEMM's k runs, with the same FMAs, so the bits are its bits while C 9 fits one
 * GEMM K block. */
/* One sample of it over taps in general: y (O, HW) = (or += when accumulate) bias + the sum over c < C and
 * t < nt of wd[(c nt + t) O + o] times x's plane c (planes cs apart) at the pixel's flat offset + delta[t],
 * lanes masked by masks[b nt + t] for block b of 16 pixels.  fetch: x streams from memory (prefetch W + 1
 * pixels past each tile, as the 3x3 taps reach). */
INL void x_conv_taps(int C, size_t cs, int HW, int W, int O, const float *x, const int *delta, const int nt,
                     const float *wd, const float *bias, const uint16_t *masks, float *y, int accumulate, int fetch)
{
    const int blocks = (HW + 15) / 16;
    for (int og = 0; og < O; og += 8)
        for (int b = 0; b < blocks; b += 2) {
            const int p0 = b * 16, two = b + 1 < blocks;
            const uint16_t *m0 = masks + b * nt, *m1 = masks + (b + 1) * nt;
#define X_Z(r) __m512 u##r = _mm512_setzero_ps(), v##r = _mm512_setzero_ps();
            X_ROWS(X_Z)
#undef X_Z
            const float *xs = x + p0;
            /* y's lines two tiles ahead when it is read: a gradient being added to, rarely in cache */
            if (accumulate)
                for (int r = 0; r < 8; r++) {
                    const float *pf = y + (size_t)(og + r) * HW + p0 + 64;
                    _mm_prefetch((const char *)pf, _MM_HINT_T0);
                    _mm_prefetch((const char *)(pf + 16), _MM_HINT_T0);
                }
            /* The image streams from memory in training (each sample once per pass), through C
             * planes at once, more streams than the hardware follows: fetch the lines two tiles
             * ahead (the taps reach W + 1 pixels past a tile). */
            if (fetch && og == 0)
                for (int c = 0; c < C; c++) {
                    const float *pf = xs + (size_t)c * cs;
                    /* a sample's first tile: its own lines and the next one's too */
                    if (b == 0)
                        for (int k = -W - 1; k < 64 + W; k += 16) _mm_prefetch((const char *)(pf + k), _MM_HINT_T0);
                    _mm_prefetch((const char *)(pf + 64 + W), _MM_HINT_T0);
                    _mm_prefetch((const char *)(pf + 80 + W), _MM_HINT_T0);
                }
            for (int c = 0; c < C; c++, xs += cs) {
                const float *wc = wd + (size_t)c * nt * O + og;
                for (int t = 0; t < nt; t++, wc += O) {
                    const __m512 a = _mm512_maskz_loadu_ps((__mmask16)m0[t], xs + delta[t]);
                    const __m512 z = two ? _mm512_maskz_loadu_ps((__mmask16)m1[t], xs + 16 + delta[t]) : _mm512_setzero_ps();
#define X_F(r) { const __m512 q = _mm512_set1_ps(wc[r]); u##r = _mm512_fmadd_ps(q, a, u##r); v##r = _mm512_fmadd_ps(q, z, v##r); }
                    X_ROWS(X_F)
#undef X_F
                }
            }
            const int left = HW - p0;
            const __mmask16 s0 = lane_mask(left), s1 = lane_mask(left - 16);
            float *yo = y + (size_t)og * HW + p0;
#define X_S(r) { \
                float *d = yo + (size_t)(r) * HW; \
                __m512 e0 = u##r, e1 = v##r; \
                if (bias) { const __m512 bb = _mm512_set1_ps(bias[og + r]); e0 = _mm512_add_ps(e0, bb); e1 = _mm512_add_ps(e1, bb); } \
                if (accumulate) { e0 = _mm512_add_ps(_mm512_maskz_loadu_ps(s0, d), e0); e1 = _mm512_add_ps(_mm512_maskz_loadu_ps(s1, d + 16), e1); } \
                _mm512_mask_storeu_ps(d, s0, e0); _mm512_mask_storeu_ps(d + 16, s1, e1); }
            X_ROWS(X_S)
#undef X_S
        }
}

/* ---- maps 7 wide: vectors over output channels ----
 *
 * On 7 x 7 maps a 32-pixel tile of one sample is a quarter empty, so there the vectors run over 32 output
 * channels instead: a register tile of one output row (7 pixels) x 32 output channels takes, for each
 * input channel and tap, two loads of weights and 7 broadcasts of the image, bordered with zeros so that
 * no tap needs a mask and every one is a fixed displacement from one pointer; 14 FMAs (two rows, 28
 * accumulators, run out of registers: 132 GFLOP/s against 205 on one core).  The sums (over c,
 * then the taps, one FMA chain each) wait pixel-major in a small buffer and are transposed into y. */
#define X7_W 7
#define X7_W2 9
#define X7_MAX_FLOATS 8192      /* each of the bordered image and the pixel-major sums, on the stack */

INL void x_conv7_tile(const float *xb, size_t cs, int C, const float *wd, int O, float *yt)
{
    __m512 a[X7_W][2];
#pragma GCC unroll 7
    for (int j = 0; j < X7_W; j++) a[j][0] = a[j][1] = _mm512_setzero_ps();
    for (int c = 0; c < C; c++) {
        const float *xc = xb + (size_t)c * cs, *wc = wd + (size_t)c * 9 * O;
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++) {
            const __m512 w0 = _mm512_loadu_ps(wc + (size_t)t * O), w1 = _mm512_loadu_ps(wc + (size_t)t * O + 16);
            const float *q = xc + (t / 3) * X7_W2 + t % 3;
#pragma GCC unroll 7
            for (int j = 0; j < X7_W; j++) {
                const __m512 b = _mm512_set1_ps(q[j]);
                a[j][0] = _mm512_fmadd_ps(b, w0, a[j][0]);
                a[j][1] = _mm512_fmadd_ps(b, w1, a[j][1]);
            }
        }
    }
#pragma GCC unroll 7
    for (int j = 0; j < X7_W; j++) {
        _mm512_storeu_ps(yt + (size_t)j * O, a[j][0]);
        _mm512_storeu_ps(yt + (size_t)j * O + 16, a[j][1]);
    }
}

static int x_conv7_fits(int C, int H, int O)
{
    return O % 32 == 0 && (long)C * (H + 2) * X7_W2 <= X7_MAX_FLOATS && (long)H * X7_W * O <= X7_MAX_FLOATS;
}

static TGT void x_conv7(int g, int C, int H, int O, const float *x, const float *wd, const float *bias, float *y,
                        int accumulate)
{
    _Alignas(64) float xb[X7_MAX_FLOATS], yt[X7_MAX_FLOATS];
    const int HW = H * X7_W;
    const size_t cs = (size_t)(H + 2) * X7_W2;
    for (int c = 0; c < C; c++) {   /* the border: zero once, the inside rewritten per sample */
        float *d = xb + (size_t)c * cs;
        memset(d, 0, X7_W2 * sizeof *d);
        memset(d + (size_t)(H + 1) * X7_W2, 0, X7_W2 * sizeof *d);
        for (int h = 1; h <= H; h++) { d[h * X7_W2] = 0.0f; d[h * X7_W2 + X7_W + 1] = 0.0f; }
    }
    for (int n = 0; n < g; n++) {
        const float *xn = x + (size_t)n * C * HW;
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                memcpy(xb + (size_t)c * cs + (size_t)(h + 1) * X7_W2 + 1, xn + ((size_t)c * H + h) * X7_W, X7_W * sizeof(float));
        for (int og = 0; og < O; og += 32)
            for (int i = 0; i < H; i++) x_conv7_tile(xb + (size_t)i * X7_W2, cs, C, wd + og, O, yt + (size_t)i * X7_W * O + og);
        float *yn = y + (size_t)n * O * HW;
        for (int o0 = 0; o0 < O; o0 += 16)
            for (int p0 = 0; p0 < HW; p0 += 16) {
                const int lanes = HW - p0 < 16 ? HW - p0 : 16;
                const __mmask16 m = lane_mask(lanes);
                __m512 r[16];
                for (int l = 0; l < 16; l++)
                    r[l] = l < lanes ? _mm512_loadu_ps(yt + (size_t)(p0 + l) * O + o0) : _mm512_setzero_ps();
                x_transpose16(r);
                for (int k = 0; k < 16; k++) {
                    float *d = yn + (size_t)(o0 + k) * HW + p0;
                    __m512 v = r[k];
                    if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[o0 + k]));
                    if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, d), v);
                    _mm512_mask_storeu_ps(d, m, v);
                }
            }
    }
}

TGT int gs_conv3x3_avx512(int g, int C, int H, int W, int O, const float *x, const float *wd, const float *bias,
                          const uint16_t *masks, float *y, int accumulate)
{
    if (W == X7_W && C >= 1 && H >= 1 && x_conv7_fits(C, H, O)) {
        if (g > 0) x_conv7(g, C, H, O, x, wd, bias, y, accumulate);
        return 1;
    }
    const int HW = H * W;
    if (O % 8 || C < 1 || HW < GS_CONV3X3_MIN_PIXELS || HW > GS_CONV3X3_MAX_PIXELS) return 0;
    if (g <= 0) return 1;
    int delta[9];
    for (int t = 0; t < 9; t++) delta[t] = (t / 3 - 1) * W + (t % 3 - 1);
    const size_t in = (size_t)C * HW, out = (size_t)O * HW;
    for (int n = 0; n < g; n++)
        x_conv_taps(C, (size_t)HW, HW, W, O, x + (size_t)n * in, delta, 9, wd, bias, masks, y + (size_t)n * out,
                    accumulate, 1);
    return 1;
}

/* One sample's share of the weight gradient for 16 output channels and the 9 taps of two input channels
 * (one where `two` is 0, the last of an odd C): a[c 9 + t] (16 lanes: the output channels) += sum over the pixels (h, w), in order, of
 * dyt[h W + w] times the bordered x at row h + t / 3, column w + t % 3.  The sums live in registers for
 * the whole map; acc holds them between samples. */
#define X_DW_TAPS(P, a, k) \
    a[k + 0] = _mm512_fmadd_ps(_mm512_set1_ps(P##0[w]), v, a[k + 0]); \
    a[k + 1] = _mm512_fmadd_ps(_mm512_set1_ps(P##0[w + 1]), v, a[k + 1]); \
    a[k + 2] = _mm512_fmadd_ps(_mm512_set1_ps(P##0[w + 2]), v, a[k + 2]); \
    a[k + 3] = _mm512_fmadd_ps(_mm512_set1_ps(P##1[w]), v, a[k + 3]); \
    a[k + 4] = _mm512_fmadd_ps(_mm512_set1_ps(P##1[w + 1]), v, a[k + 4]); \
    a[k + 5] = _mm512_fmadd_ps(_mm512_set1_ps(P##1[w + 2]), v, a[k + 5]); \
    a[k + 6] = _mm512_fmadd_ps(_mm512_set1_ps(P##2[w]), v, a[k + 6]); \
    a[k + 7] = _mm512_fmadd_ps(_mm512_set1_ps(P##2[w + 1]), v, a[k + 7]); \
    a[k + 8] = _mm512_fmadd_ps(_mm512_set1_ps(P##2[w + 2]), v, a[k + 8]);

static TGT void x_dw_tile(const float *xc, int PP, int two, int W2, int H, int W, const float *dyt, float *acc)
{
    __m512 a[18];
    const int na = two ? 18 : 9;
    for (int j = 0; j < na; j++) a[j] = _mm512_load_ps(acc + (size_t)j * 16);
    for (int j = na; j < 18; j++) a[j] = _mm512_setzero_ps();
    for (int h = 0; h < H; h++) {
        const float *p0 = xc + (size_t)h * W2, *p1 = p0 + W2, *p2 = p1 + W2;
        const float *q0 = p0 + PP, *q1 = p1 + PP, *q2 = p2 + PP;
        const float *d = dyt + (size_t)h * W * 16;
        if (two)
            for (int w = 0; w < W; w++) {
                const __m512 v = _mm512_loadu_ps(d + (size_t)w * 16);
                X_DW_TAPS(p, a, 0)
                X_DW_TAPS(q, a, 9)
            }
        else
            for (int w = 0; w < W; w++) {
                const __m512 v = _mm512_loadu_ps(d + (size_t)w * 16);
                X_DW_TAPS(p, a, 0)
            }
    }
    for (int j = 0; j < na; j++) _mm512_store_ps(acc + (size_t)j * 16, a[j]);
}
#undef X_DW_TAPS

/* Its weight gradient: dw[o][c][t] (+)= sum over the g samples and their pixels p of
 * dy[n][o][p] x[n][c][p shifted by tap t].  Vectors run over 16 output channels: dy is transposed to
 * (pixel, 16 channels), x copied with a zero border, and for the 18 (c, t) columns of two input
 * channels (x_dw_tile) each pixel costs one load of dy, 18 broadcasts of x at fixed displacements from
 * six row pointers, and 18 FMAs; the sums wait in `work` between samples (each sample's x is bordered
 * once, for all output channels).  Sums over pixels in order, one sample after the other.  One core,
 * warm: 185-188 GFLOP/s on 28x28x16 and 14x14x32 (16 columns a tile, with their 16 offsets kept on
 * the stack: 162-172; three channels' 27 columns: 136, out of registers). */
TGT int gs_conv3x3_dw_avx512(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw,
                             int accumulate, float *work, size_t work_floats)
{
    const int HW = H * W, W2 = W + 2, PP = (H + 2) * W2, K = C * 9;
    if (O % 16 || C < 1 || HW < GS_CONV3X3_MIN_PIXELS || HW > GS_CONV3X3_MAX_PIXELS ||
        work_floats < gs_conv3x3_dw_work(C, H, W, O))
        return 0;
    if (g <= 0) return 1;
    float *xp = work, *dyt = xp + (size_t)C * PP, *acc = dyt + (size_t)16 * HW;
    acc = (float *)(((uintptr_t)acc + 63) & ~(uintptr_t)63);   /* (O / 16, K, 16) */
    memset(acc, 0, (size_t)O * K * sizeof *acc);
    for (int n = 0; n < g; n++) {
        const float *xn = x + (size_t)n * C * HW;
        for (int c = 0; c < C; c++) {   /* x with a zero border */
            float *d = xp + (size_t)c * PP;
            memset(d, 0, (size_t)W2 * sizeof *d);
            for (int h = 0; h < H; h++) {
                float *r = d + (size_t)(h + 1) * W2;
                r[0] = 0.0f; r[W + 1] = 0.0f;
                memcpy(r + 1, xn + ((size_t)c * H + h) * W, (size_t)W * sizeof *r);
            }
            memset(d + (size_t)(H + 1) * W2, 0, (size_t)W2 * sizeof *d);
        }
        for (int og = 0; og < O; og += 16) {
            const float *dn = dy + ((size_t)n * O + og) * HW;
            float *ag = acc + (size_t)og * K;
            for (int p0 = 0; p0 < HW; p0 += 16) {   /* dy's 16 channels at each pixel, 16 pixels at a time */
                const int lanes = HW - p0 < 16 ? HW - p0 : 16;
                const __mmask16 m = lane_mask(lanes);
                __m512 r[16];
                /* 16 channel planes at once, as in the forward: their lines four blocks ahead */
                for (int i = 0; i < 16; i++) _mm_prefetch((const char *)(dn + (size_t)i * HW + p0 + 64), _MM_HINT_T0);
                for (int i = 0; i < 16; i++) r[i] = _mm512_maskz_loadu_ps(m, dn + (size_t)i * HW + p0);
                x_transpose16(r);
                for (int l = 0; l < lanes; l++) _mm512_storeu_ps(dyt + (size_t)(p0 + l) * 16, r[l]);
            }
            /* two channels' 18 columns at a time (one channel's 9 when C is odd): three rows of the
             * bordered x per channel, each tap a broadcast at a fixed displacement from them */
            for (int c0 = 0; c0 < C; c0 += 2)
                x_dw_tile(xp + (size_t)c0 * PP, PP, c0 + 1 < C, W2, H, W, dyt, ag + (size_t)c0 * 9 * 16);
        }
    }
    for (int o = 0; o < O; o++)
        for (int k = 0; k < K; k++) {
            const float v = acc[((size_t)(o / 16) * K + k) * 16 + o % 16];
            float *d = dw + (size_t)o * K + k;
            *d = accumulate ? *d + v : v;
        }
    return 1;
}

/* ---- implicit im2col: panels packed straight from the image ----
 *
 * Column j of the group's column matrix is pixel p = j mod P of sample j / P (P = Ho W), and row
 * (c, ki, kj) of it is x[sample][c] at the flat offset p + delta, delta = (ki - pad) W + (kj - pad),
 * where the tap lands inside the image and 0 where it lands in the padding.  A 16-lane vector of
 * a panel covers at most two samples (P >= 16): each part is one masked load per row, the mask
 * being the part's lanes whose tap lands inside the image (worked out once per panel). */
typedef struct x_implicit_vec {
    const float *base[2];                        /* lane l of part s reads base[s] + l + c HW + delta */
    __mmask16 mask[2][GS_CONV_IMPLICIT_MAX_TAPS];
    int parts;
} x_implicit_vec;

static void x_implicit_setup(const gs_conv_geom *g, const float *x, int P, int j0, int lanes, x_implicit_vec *v)
{
    const int W = g->W;
    const size_t in = (size_t)g->C * g->H * W;
    v->parts = 0;
    if (lanes <= 0) return;
    if (lanes > 16) lanes = 16;
    const int i = j0 / P, p = j0 % P, n0 = P - p < lanes ? P - p : lanes;
    v->base[0] = x + (size_t)i * in + p;
    v->base[1] = x + (size_t)(i + 1) * in - n0;
    v->parts = n0 < lanes ? 2 : 1;
    /* lanes whose tap row ki / column kj lands inside the image, then each tap's pair */
    __mmask16 row_ok[GS_CONV_IMPLICIT_MAX_TAPS] = { 0 }, col_ok[GS_CONV_IMPLICIT_MAX_TAPS] = { 0 };
    int oh = p / W, ow = p % W;
    for (int l = 0; l < lanes; l++) {
        if (l == n0) oh = ow = 0;       /* the next sample starts */
        const __mmask16 bit = (__mmask16)(1u << l);
        for (int ki = 0; ki < g->kh; ki++) {
            const int ih = oh + ki - g->pad;
            if (ih >= 0 && ih < g->H) row_ok[ki] |= bit;
        }
        for (int kj = 0; kj < g->kw; kj++) {
            const int iw = ow + kj - g->pad;
            if (iw >= 0 && iw < W) col_ok[kj] |= bit;
        }
        if (++ow == W) { ow = 0; oh++; }
    }
    const __mmask16 first = (__mmask16)((1u << n0) - 1), all = (__mmask16)((1u << lanes) - 1);
    for (int ki = 0, t = 0; ki < g->kh; ki++)
        for (int kj = 0; kj < g->kw; kj++, t++) {
            const __mmask16 m = row_ok[ki] & col_ok[kj];
            v->mask[0][t] = m & first;
            v->mask[1][t] = m & all & (__mmask16)~first;
        }
}

/* bp[k][0..32) = rows k0 .. k0 + kc of the panel's columns, v[q] the setup of its q-th 16 columns. */
static TGT void x_pack_implicit(const gs_conv_geom *g, const x_implicit_vec *v, int k0, int kc, float *bp)
{
    const int taps = g->kh * g->kw, HW = g->H * g->W;
    ptrdiff_t delta[GS_CONV_IMPLICIT_MAX_TAPS];
    for (int t = 0; t < taps; t++) delta[t] = (ptrdiff_t)(t / g->kw - g->pad) * g->W + (t % g->kw - g->pad);
    int c = k0 / taps, t = k0 % taps;
    for (int k = 0; k < kc; k++, bp += X_NR) {
        const ptrdiff_t off = (ptrdiff_t)c * HW + delta[t];
        for (int q = 0; q < X_NV; q++) {
            __m512 r = _mm512_setzero_ps();
            if (v[q].parts > 0) r = _mm512_maskz_loadu_ps(v[q].mask[0][t], v[q].base[0] + off);
            if (v[q].parts > 1) r = _mm512_mask_loadu_ps(r, v[q].mask[1][t], v[q].base[1] + off);
            _mm512_store_ps(bp + 16 * q, r);
        }
        if (++t == taps) { t = 0; c++; }
    }
}

/* bp[k][j] = col[jr + j][k0 + k] (the panel of colᵀ: columns jr .. jr + nw are rows of col, rows
 * k are pixels), 16 x 16 blocks loaded as rows of col and transposed; vs[kb / 16] the setup of
 * pixels k0 + kb .. k0 + kb + 16.  Writes whole 16-row groups: bp must hold 15 rows past kc. */
static TGT void x_pack_implicit_t(const gs_conv_geom *g, const x_implicit_vec *vs, int jr, int nw, int kc,
                                  float *bp)
{
    const int taps = g->kh * g->kw, HW = g->H * g->W;
    ptrdiff_t delta[GS_CONV_IMPLICIT_MAX_TAPS];
    for (int t = 0; t < taps; t++) delta[t] = (ptrdiff_t)(t / g->kw - g->pad) * g->W + (t % g->kw - g->pad);
    for (int kb = 0; kb < kc; kb += 16) {
        const x_implicit_vec v = vs[kb / 16];
        for (int q = 0; q < X_NV; q++) {
            const int rows = nw - 16 * q < 16 ? nw - 16 * q : 16;
            if (rows <= 0) break;   /* nw <= 16: the kernel reads only the first vector */
            __m512 r[16];
            int c = (jr + 16 * q) / taps, t = (jr + 16 * q) % taps;
            for (int i = 0; i < 16; i++) {
                r[i] = _mm512_setzero_ps();
                if (i < rows) {
                    const ptrdiff_t off = (ptrdiff_t)c * HW + delta[t];
                    r[i] = _mm512_maskz_loadu_ps(v.mask[0][t], v.base[0] + off);
                    if (v.parts > 1) r[i] = _mm512_mask_loadu_ps(r[i], v.mask[1][t], v.base[1] + off);
                    if (++t == taps) { t = 0; c++; }
                }
            }
            x_transpose16(r);
            float *dst = bp + (size_t)kb * X_NR + 16 * q;
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) _mm512_store_ps(dst + i * X_NR, r[i]);
        }
    }
}

TGT void gs_conv_gemm_avx512(int trans, int M, const float *A, ptrdiff_t lda, const gs_conv_geom *geo,
                             const float *x, float beta, float *C, ptrdiff_t ldc)
{
    _Alignas(64) float bp[(GS_GEMM_KC + 15) * X_NR];
    const int Ho = geo->H + 2 * geo->pad - geo->kh + 1, P = Ho * geo->W, pixels = geo->g * P;
    const int rows = geo->C * geo->kh * geo->kw;
    const int N = trans ? rows : pixels, K = trans ? pixels : rows;
    const int nkb = (K + GS_GEMM_KC - 1) / GS_GEMM_KC;
    /* The masks of a 16-pixel group are worked out once per call: per panel (y, dx: panels of
     * pixels, K blocks inside) or per K block (dW: blocks of pixels, panels of weight rows
     * inside).  Either nesting adds each element's K blocks in the same order. */
    if (!trans) {
        for (int jr = 0; jr < N; jr += X_NR) {
            const int nw = N - jr < X_NR ? N - jr : X_NR;
            x_implicit_vec v[X_NV];
            for (int q = 0; q < X_NV; q++) x_implicit_setup(geo, x, P, jr + 16 * q, nw - 16 * q, &v[q]);
            for (int kb = 0; kb < nkb; kb++) {
                const int k0 = (int)((long)K * kb / nkb), kc = (int)((long)K * (kb + 1) / nkb) - k0;
                x_pack_implicit(geo, v, k0, kc, bp);
                for (int ir = 0; ir < M; ir += X_MR) {
                    const int mr = M - ir < X_MR ? M - ir : X_MR;
                    x_tile_any(mr, nw, 0, kc, A + (size_t)ir * lda + k0, lda, bp, C + (size_t)ir * ldc + jr, ldc,
                               1.0f, kb == 0 ? beta : 1.0f, NULL);
                }
            }
        }
        return;
    }
    x_implicit_vec vs[(GS_GEMM_KC + 15) / 16];
    for (int kb = 0; kb < nkb; kb++) {
        const int k0 = (int)((long)K * kb / nkb), kc = (int)((long)K * (kb + 1) / nkb) - k0;
        for (int q = 0; q * 16 < kc; q++) x_implicit_setup(geo, x, P, k0 + 16 * q, kc - 16 * q, &vs[q]);
        for (int jr = 0; jr < N; jr += X_NR) {
            const int nw = N - jr < X_NR ? N - jr : X_NR;
            x_pack_implicit_t(geo, vs, jr, nw, kc, bp);
            for (int ir = 0; ir < M; ir += X_MR) {
                const int mr = M - ir < X_MR ? M - ir : X_MR;
                x_tile_any(mr, nw, 0, kc, A + (size_t)ir * lda + k0, lda, bp, C + (size_t)ir * ldc + jr, ldc,
                           1.0f, kb == 0 ? beta : 1.0f, NULL);
            }
        }
    }
}

/* ---- Winograd F(2x2, 3x3) ----
 *
 * The 3x3 stride-1 padding-1 convolution in 2x2 output tiles (Lavin & Gray's F(2x2, 3x3)): 16
 * multiplies per tile and channel pair instead of 36.  Per sample: the input transform
 * V[xi][c][t] = (Bᵀ d B)[xi] of each tile's 4x4 window d (rows 2i-1..2i+2, columns 2j-1..2j+2),
 * 16 products M[xi] (O x T) = U[xi]ᵀ (O x C) V[xi] (C x T), and the output transform
 * y = Aᵀ M A.  A vector holds the W / 2 tiles of one tile row (so W <= 32): a row of the image is
 * loaded as two vectors and split into its even and odd columns by two permutes, which gives the
 * window's four columns for all the row's tiles at once.  A sample goes in blocks of whole tile rows,
 * at most GS_WINO_BLOCK_TILES tiles each, so that a block's V and M stay in L1; the products run
 * over a block's tiles, 8 output channels x 32 tiles per register tile, like the direct kernel's. */
TGT int gs_wino3x3_avx512(int g, int C, int H, int W, int O, const float *x, const float *U, const float *bias,
                          float *y, int accumulate, float *work, size_t work_floats)
{
    const int th = H / 2, tw = W / 2, HW = H * W;
    if (!gs_wino3x3_fits(C, H, W, O) || work_floats < gs_wino3x3_work(C, H, W, O)) return 0;
    if (g <= 0) return 1;
    const int rb = GS_WINO_BLOCK_TILES / tw;   /* tile rows per block */
    const __mmask16 mt = lane_mask(tw), ml0 = lane_mask(W), ml1 = lane_mask(W - 16);
    const __m512i ie = _mm512_loadu_si512(x_even_idx), io = _mm512_loadu_si512(x_odd_idx);
    const __m512i lo = _mm512_loadu_si512(x_lo_idx), hi = _mm512_loadu_si512(x_hi_idx);
    const __m512 z = _mm512_setzero_ps();
    for (int n = 0; n < g; n++) {
        const float *xn = x + (size_t)n * C * HW;
        float *yn = y + (size_t)n * O * HW;
        for (int i0 = 0; i0 < th; i0 += rb) {
            const int rows = th - i0 < rb ? th - i0 : rb, T = rows * tw;
            float *V = work, *M = V + (size_t)16 * C * T;
            const size_t vstep = (size_t)C * T, mstep = (size_t)O * T;
            for (int c = 0; c < C; c++) {
                const float *xc = xn + (size_t)c * HW;
                /* the rows this channel's next block reads first (the next sample's at the last
                 * block): in training the image comes from memory, a channel's rows a plane apart */
                {
                    const int last = i0 + rb >= th, r0 = last ? 0 : 2 * (i0 + rb) + 1;
                    const int r1 = last ? 2 * rb + 1 : 2 * (i0 + 2 * rb) + 1;
                    const float *pc = last ? (n + 1 < g ? xc + (size_t)C * HW : NULL) : xc;
                    for (int r = r0; pc && r < r1 && r < H; r++) {
                        _mm_prefetch((const char *)(pc + (size_t)r * W), _MM_HINT_T0);
                        _mm_prefetch((const char *)(pc + (size_t)r * W + W - 1), _MM_HINT_T0);
                    }
                }
                for (int i = i0; i < i0 + rows; i++) {
                    __m512 t0[4], t1[4], t2[4], t3[4];   /* row r of the window, its columns transformed */
#pragma GCC unroll 4
                    for (int r = 0; r < 4; r++) {
                        const int row = 2 * i - 1 + r;
                        __m512 a = z, b = z;
                        if (row >= 0 && row < H) {
                            a = _mm512_maskz_loadu_ps(ml0, xc + (size_t)row * W);
                            b = _mm512_maskz_loadu_ps(ml1, xc + (size_t)row * W + 16);
                        }
                        /* columns 2j, 2j + 1 of tile j; 2j - 1 is the odd column one lane up, 2j + 2
                         * the even one a lane down (zeros past the edges: the padding) */
                        const __m512 ev = _mm512_permutex2var_ps(a, ie, b), od = _mm512_permutex2var_ps(a, io, b);
                        const __m512 c0 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(od),
                                                                                  _mm512_castps_si512(z), 15));
                        const __m512 c3 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(z),
                                                                                  _mm512_castps_si512(ev), 1));
                        t0[r] = _mm512_sub_ps(c0, od);
                        t1[r] = _mm512_add_ps(ev, od);
                        t2[r] = _mm512_sub_ps(od, ev);
                        t3[r] = _mm512_sub_ps(ev, c3);
                    }
                    float *vi = V + (size_t)c * T + (size_t)(i - i0) * tw;
#define X_WROW(s, t) \
                    _mm512_mask_storeu_ps(vi + (size_t)(0 + s) * vstep, mt, _mm512_sub_ps(t[0], t[2])); \
                    _mm512_mask_storeu_ps(vi + (size_t)(4 + s) * vstep, mt, _mm512_add_ps(t[1], t[2])); \
                    _mm512_mask_storeu_ps(vi + (size_t)(8 + s) * vstep, mt, _mm512_sub_ps(t[2], t[1])); \
                    _mm512_mask_storeu_ps(vi + (size_t)(12 + s) * vstep, mt, _mm512_sub_ps(t[1], t[3]));
                    X_WROW(0, t0) X_WROW(1, t1) X_WROW(2, t2) X_WROW(3, t3)
#undef X_WROW
                }
            }
            /* 16 products M[xi] (O x T) = U[xi]ᵀ V[xi], 8 output channels x the block's tiles at a time */
            const __mmask16 m0 = lane_mask(T), m1 = lane_mask(T - 16);
            for (int xi = 0; xi < 16; xi++) {
                const float *Vx = V + (size_t)xi * vstep, *Ux = U + (size_t)xi * C * O;
                float *Mx = M + (size_t)xi * mstep;
                for (int o0 = 0; o0 < O; o0 += 8) {
#define X_Z(r) __m512 u##r = _mm512_setzero_ps(), v##r = _mm512_setzero_ps();
                    X_ROWS(X_Z)
#undef X_Z
                    for (int c = 0; c < C; c++) {
                        const __m512 e0 = _mm512_maskz_loadu_ps(m0, Vx + (size_t)c * T);
                        const __m512 e1 = _mm512_maskz_loadu_ps(m1, Vx + (size_t)c * T + 16);
                        const float *u = Ux + (size_t)c * O + o0;
#define X_F(r) { const __m512 b = _mm512_set1_ps(u[r]); u##r = _mm512_fmadd_ps(b, e0, u##r); v##r = _mm512_fmadd_ps(b, e1, v##r); }
                        X_ROWS(X_F)
#undef X_F
                    }
#define X_S(r) _mm512_mask_storeu_ps(Mx + (size_t)(o0 + r) * T, m0, u##r); \
               _mm512_mask_storeu_ps(Mx + (size_t)(o0 + r) * T + 16, m1, v##r);
                    X_ROWS(X_S)
#undef X_S
                }
            }
            /* y = Aᵀ M A, Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]] */
            for (int o = 0; o < O; o++) {
                const __m512 bo = _mm512_set1_ps(bias ? bias[o] : 0.0f);
                for (int i = i0; i < i0 + rows; i++) {
                    const float *mo = M + (size_t)o * T + (size_t)(i - i0) * tw;
                    __m512 q0[4], q1[4];
#pragma GCC unroll 4
                    for (int s2 = 0; s2 < 4; s2++) {
                        const __m512 a0 = _mm512_maskz_loadu_ps(mt, mo + (size_t)(0 + s2) * mstep);
                        const __m512 a1 = _mm512_maskz_loadu_ps(mt, mo + (size_t)(4 + s2) * mstep);
                        const __m512 a2 = _mm512_maskz_loadu_ps(mt, mo + (size_t)(8 + s2) * mstep);
                        const __m512 a3 = _mm512_maskz_loadu_ps(mt, mo + (size_t)(12 + s2) * mstep);
                        q0[s2] = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
                        q1[s2] = _mm512_sub_ps(_mm512_sub_ps(a1, a2), a3);
                    }
#pragma GCC unroll 2
                    for (int a = 0; a < 2; a++) {
                        const __m512 *q = a ? q1 : q0;
                        const __m512 y0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(q[0], q[1]), q[2]), bo);
                        const __m512 y1 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(q[1], q[2]), q[3]), bo);
                        /* row 2i + a: columns 2j from y0 and 2j + 1 from y1 */
                        float *yr = yn + (size_t)o * HW + (size_t)(2 * i + a) * W;
                        __m512 r0 = _mm512_permutex2var_ps(y0, lo, y1), r1 = _mm512_permutex2var_ps(y0, hi, y1);
                        if (accumulate) {   /* y a gradient being added to, rarely in cache: the next rows' lines */
                            _mm_prefetch((const char *)(yr + 2 * W), _MM_HINT_T0);
                            _mm_prefetch((const char *)(yr + 2 * W + 16), _MM_HINT_T0);
                            r0 = _mm512_add_ps(_mm512_maskz_loadu_ps(ml0, yr), r0);
                            r1 = _mm512_add_ps(_mm512_maskz_loadu_ps(ml1, yr + 16), r1);
                        }
                        _mm512_mask_storeu_ps(yr, ml0, r0);
                        _mm512_mask_storeu_ps(yr + 16, ml1, r1);
                    }
                }
            }
        }
    }
    return 1;
}


/* ---- the 3x3 stride-2 padding-1 convolution through phase images ----
 *
 * With x split into its four phase images x_pq[c][i][j] = x[c][2i + p][2j + q] (Ho x Wo each), every tap
 * (kh, kw) of output pixel (i, j) reads one phase image at (i + di, j + dj), di, dj in {-1, 0}: phase
 * p = (kh != 1), di = -(kh == 0), the same for the columns.  So y is x_conv_taps over the phase images
 * with a tap table instead of im2col and a GEMM; dx, phase by phase, is the same kernel over dy with each
 * phase's 1, 2 or 4 taps; dW, x_dw_tile's scheme over bordered phase rows. */

/* Row r of width W into its even and odd columns (W / 2 each) */
INL void x_split_row(const float *r, int W, float *even, float *odd)
{
    const __m512i ie = _mm512_loadu_si512(x_even_idx), io = _mm512_loadu_si512(x_odd_idx);
    for (int j = 0; j < W; j += 32) {
        const int n = W - j < 32 ? W - j : 32;
        const __m512 a = _mm512_maskz_loadu_ps(lane_mask(n), r + j), b = _mm512_maskz_loadu_ps(lane_mask(n - 16), r + j + 16);
        const __mmask16 m = lane_mask(n / 2);
        _mm512_mask_storeu_ps(even + j / 2, m, _mm512_permutex2var_ps(a, ie, b));
        _mm512_mask_storeu_ps(odd + j / 2, m, _mm512_permutex2var_ps(a, io, b));
    }
}

/* (kh, kw) of tap t, its phase image and its shift */
#define X_S2_PH(t) (((t) / 3 != 1) * 2 + ((t) % 3 != 1))
#define X_S2_DI(t) (-((t) / 3 == 0))
#define X_S2_DJ(t) (-((t) % 3 == 0))

TGT int gs_conv3x3s2_avx512(int g, int C, int H, int W, int O, const float *x, const float *w, const float *bias,
                            float *y, int accumulate, float *work, size_t work_floats)
{
    const int Ho = H / 2, Wo = W / 2, HWo = Ho * Wo, blocks = (HWo + 15) / 16;
    if (!gs_conv3x3s2_fits(C, H, W, O) || work_floats < gs_conv3x3s2_work(C, H, W, O)) return 0;
    if (g <= 0) return 1;
    float *wd = work, *ph = wd + (size_t)C * 9 * O;     /* (C, 9, O); the phases (4, C, Ho Wo) */
    for (int o = 0; o < O; o++)
        for (int k = 0; k < C * 9; k++) wd[(size_t)k * O + o] = w[(size_t)o * C * 9 + k];
    int delta[9];
    uint16_t masks[(GS_CONV3X3_MAX_PIXELS / 16) * 9];
    for (int t = 0; t < 9; t++) delta[t] = X_S2_PH(t) * C * HWo + X_S2_DI(t) * Wo + X_S2_DJ(t);
    for (int b = 0; b < blocks; b++)
        for (int t = 0; t < 9; t++) {
            unsigned m = 0;
            for (int l = 0; l < 16 && b * 16 + l < HWo; l++) {
                const int p = b * 16 + l;
                if (p / Wo + X_S2_DI(t) >= 0 && p % Wo + X_S2_DJ(t) >= 0) m |= 1u << l;
            }
            masks[b * 9 + t] = (uint16_t)m;
        }
    const size_t in = (size_t)C * H * W, out = (size_t)O * HWo, plane = (size_t)C * HWo;
    for (int n = 0; n < g; n++) {
        const float *xn = x + (size_t)n * in;
        for (int c = 0; c < C; c++)
            for (int i = 0; i < Ho; i++)
                for (int p = 0; p < 2; p++)
                    x_split_row(xn + ((size_t)c * H + 2 * i + p) * W, W, ph + (2 * p) * plane + (size_t)c * HWo + (size_t)i * Wo,
                                ph + (2 * p + 1) * plane + (size_t)c * HWo + (size_t)i * Wo);
        x_conv_taps(C, (size_t)HWo, HWo, Wo, O, ph, delta, 9, wd, bias, masks, y + (size_t)n * out, accumulate, 0);
    }
    return 1;
}

/* dx (g, C, H, W) (+)= the transposed stride-2 convolution of dy (g, O, H / 2, W / 2): phase (p, q) of dx,
 * dx[c][2a + p][2b + q], sums the taps with kh = 1 (p = 0) or kh in {0, 2} (p = 1), which read dy at
 * row a + 1 (kh = 0) or a, and the same for the columns. */
TGT int gs_conv3x3s2_dx_avx512(int g, int C, int H, int W, int O, const float *dy, const float *w, float *dx,
                               int accumulate, float *work, size_t work_floats)
{
    const int Ho = H / 2, Wo = W / 2, HWo = Ho * Wo, blocks = (HWo + 15) / 16;
    if (!gs_conv3x3s2_fits(C, H, W, O) || work_floats < gs_conv3x3s2_work(C, H, W, O)) return 0;
    if (g <= 0) return 1;
    const size_t plane = (size_t)C * HWo;
    float *ph = work, *wd = ph + 4 * plane;            /* the phases of dx (4, C, Ho Wo); weights per phase */
    int nt[4], taps[4][4], delta[4][4];
    uint16_t masks[4][(GS_CONV3X3_MAX_PIXELS / 16) * 4];
    const float *wp[4];
    float *q = wd;
    for (int f = 0; f < 4; f++) {
        nt[f] = 0;
        for (int t = 0; t < 9; t++)
            if (X_S2_PH(t) == f) {
                taps[f][nt[f]] = t;
                delta[f][nt[f]] = -X_S2_DI(t) * Wo - X_S2_DJ(t);    /* dy at (a - di, b - dj) */
                nt[f]++;
            }
        for (int o = 0; o < O; o++)
            for (int k = 0; k < nt[f]; k++)
                for (int c = 0; c < C; c++) q[((size_t)o * nt[f] + k) * C + c] = w[((size_t)o * C + c) * 9 + taps[f][k]];
        wp[f] = q;
        q += (size_t)O * nt[f] * C;
        for (int b = 0; b < blocks; b++)
            for (int k = 0; k < nt[f]; k++) {
                unsigned m = 0;
                for (int l = 0; l < 16 && b * 16 + l < HWo; l++) {
                    const int p = b * 16 + l, t = taps[f][k];
                    if (p / Wo - X_S2_DI(t) < Ho && p % Wo - X_S2_DJ(t) < Wo) m |= 1u << l;
                }
                masks[f][b * nt[f] + k] = (uint16_t)m;
            }
    }
    const __m512i ilo = _mm512_loadu_si512(x_lo_idx), ihi = _mm512_loadu_si512(x_hi_idx);
    const size_t in = (size_t)C * H * W, out = (size_t)O * HWo;
    for (int n = 0; n < g; n++) {
        const float *dn = dy + (size_t)n * out;
        /* nt is 1, 2, 2, 4: one call each, the tap count a constant in it */
        x_conv_taps(O, (size_t)HWo, HWo, Wo, C, dn, delta[0], 1, wp[0], NULL, masks[0], ph, 0, 0);
        x_conv_taps(O, (size_t)HWo, HWo, Wo, C, dn, delta[1], 2, wp[1], NULL, masks[1], ph + plane, 0, 0);
        x_conv_taps(O, (size_t)HWo, HWo, Wo, C, dn, delta[2], 2, wp[2], NULL, masks[2], ph + 2 * plane, 0, 0);
        x_conv_taps(O, (size_t)HWo, HWo, Wo, C, dn, delta[3], 4, wp[3], NULL, masks[3], ph + 3 * plane, 0, 0);
        float *xn = dx + (size_t)n * in;
        for (int c = 0; c < C; c++)
            for (int a = 0; a < Ho; a++)
                for (int p = 0; p < 2; p++) {
                    const float *e = ph + (2 * p) * plane + (size_t)c * HWo + (size_t)a * Wo, *o = e + plane;
                    float *r = xn + ((size_t)c * H + 2 * a + p) * W;
                    for (int j = 0; j < Wo; j += 16) {
                        const int nn = Wo - j < 16 ? Wo - j : 16;
                        const __m512 u = _mm512_maskz_loadu_ps(lane_mask(nn), e + j), v = _mm512_maskz_loadu_ps(lane_mask(nn), o + j);
                        __m512 lo = _mm512_permutex2var_ps(u, ilo, v), hi = _mm512_permutex2var_ps(u, ihi, v);
                        const __mmask16 m0 = lane_mask(2 * nn), m1 = lane_mask(2 * nn - 16);
                        if (accumulate) {   /* as in the Winograd kernel: the next row pair's lines */
                            _mm_prefetch((const char *)(r + 2 * W + 2 * j), _MM_HINT_T0);
                            _mm_prefetch((const char *)(r + 2 * W + 2 * j + 16), _MM_HINT_T0);
                            lo = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, r + 2 * j), lo);
                            hi = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, r + 2 * j + 16), hi);
                        }
                        _mm512_mask_storeu_ps(r + 2 * j, m0, lo);
                        _mm512_mask_storeu_ps(r + 2 * j + 16, m1, hi);
                    }
                }
    }
    return 1;
}

/* dW (O, C, 3, 3) (+)= the sum over g samples of dy (g, O, H / 2, W / 2) times x's taps.  x's phase rows
 * are laid out bordered as B[c][r][phase][32]: B[c][r][f][s] = x_f[c][r - 1][s - 1], zero for r = 0 or
 * s = 0, so that every tap of pixel (i, j) is row i or i + 1 of B at a fixed displacement (phase f at
 * 32 f, plus 0 or 1 for the column); two channels' 18 columns at a time, as x_dw_tile. */
#define X_S2_TAPS(R0, R1, a, k) \
    a[k + 0] = _mm512_fmadd_ps(_mm512_set1_ps(R0[96 + j]), v, a[k + 0]); \
    a[k + 1] = _mm512_fmadd_ps(_mm512_set1_ps(R0[64 + j + 1]), v, a[k + 1]); \
    a[k + 2] = _mm512_fmadd_ps(_mm512_set1_ps(R0[96 + j + 1]), v, a[k + 2]); \
    a[k + 3] = _mm512_fmadd_ps(_mm512_set1_ps(R1[32 + j]), v, a[k + 3]); \
    a[k + 4] = _mm512_fmadd_ps(_mm512_set1_ps(R1[j + 1]), v, a[k + 4]); \
    a[k + 5] = _mm512_fmadd_ps(_mm512_set1_ps(R1[32 + j + 1]), v, a[k + 5]); \
    a[k + 6] = _mm512_fmadd_ps(_mm512_set1_ps(R1[96 + j]), v, a[k + 6]); \
    a[k + 7] = _mm512_fmadd_ps(_mm512_set1_ps(R1[64 + j + 1]), v, a[k + 7]); \
    a[k + 8] = _mm512_fmadd_ps(_mm512_set1_ps(R1[96 + j + 1]), v, a[k + 8]);

static TGT void x_dw_s2(const float *bc, size_t cs, int two, int Ho, int Wo, const float *dyt, float *acc)
{
    __m512 a[18];
    const int na = two ? 18 : 9;
    for (int j = 0; j < na; j++) a[j] = _mm512_load_ps(acc + (size_t)j * 16);
    for (int j = na; j < 18; j++) a[j] = _mm512_setzero_ps();
    for (int i = 0; i < Ho; i++) {
        const float *r0 = bc + (size_t)i * GS_CONV3X3S2_ROW, *r1 = r0 + GS_CONV3X3S2_ROW, *s0 = r0 + cs, *s1 = r1 + cs;
        const float *d = dyt + (size_t)i * Wo * 16;
        if (two)
            for (int j = 0; j < Wo; j++) {
                const __m512 v = _mm512_loadu_ps(d + (size_t)j * 16);
                X_S2_TAPS(r0, r1, a, 0)
                X_S2_TAPS(s0, s1, a, 9)
            }
        else
            for (int j = 0; j < Wo; j++) {
                const __m512 v = _mm512_loadu_ps(d + (size_t)j * 16);
                X_S2_TAPS(r0, r1, a, 0)
            }
    }
    for (int j = 0; j < na; j++) _mm512_store_ps(acc + (size_t)j * 16, a[j]);
}
#undef X_S2_TAPS

TGT int gs_conv3x3s2_dw_avx512(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw,
                               int accumulate, float *work, size_t work_floats)
{
    const int Ho = H / 2, Wo = W / 2, HWo = Ho * Wo, K = C * 9;
    if (!gs_conv3x3s2_fits(C, H, W, O) || work_floats < gs_conv3x3s2_work(C, H, W, O)) return 0;
    if (g <= 0) return 1;
    const size_t cs = (size_t)(Ho + 1) * GS_CONV3X3S2_ROW;      /* one channel of B */
    float *bp = work, *dyt = bp + (size_t)C * cs, *acc = dyt + (size_t)16 * HWo;
    acc = (float *)(((uintptr_t)acc + 63) & ~(uintptr_t)63);   /* (O / 16, K, 16) */
    memset(acc, 0, (size_t)O * K * sizeof *acc);
    for (int c = 0; c < C; c++)     /* the border: row 0, and column 0 of every row */
        for (int r = 0; r <= Ho; r++)
            for (int f = 0; f < 4; f++) {
                float *seg = bp + (size_t)c * cs + (size_t)r * GS_CONV3X3S2_ROW + 32 * f;
                if (r == 0) memset(seg, 0, 32 * sizeof *seg);
                else seg[0] = 0.0f;
            }
    const size_t in = (size_t)C * H * W;
    for (int n = 0; n < g; n++) {
        const float *xn = x + (size_t)n * in;
        for (int c = 0; c < C; c++)
            for (int i = 0; i < Ho; i++)
                for (int p = 0; p < 2; p++) {
                    float *row = bp + (size_t)c * cs + (size_t)(i + 1) * GS_CONV3X3S2_ROW + 64 * p + 1;
                    x_split_row(xn + ((size_t)c * H + 2 * i + p) * W, W, row, row + 32);
                }
        for (int og = 0; og < O; og += 16) {
            const float *dn = dy + ((size_t)n * O + og) * HWo;
            for (int p0 = 0; p0 < HWo; p0 += 16) {
                const int lanes = HWo - p0 < 16 ? HWo - p0 : 16;
                const __mmask16 m = lane_mask(lanes);
                __m512 r[16];
                for (int i = 0; i < 16; i++) r[i] = _mm512_maskz_loadu_ps(m, dn + (size_t)i * HWo + p0);
                x_transpose16(r);
                for (int l = 0; l < lanes; l++) _mm512_storeu_ps(dyt + (size_t)(p0 + l) * 16, r[l]);
            }
            float *ag = acc + (size_t)og * K;
            for (int c0 = 0; c0 < C; c0 += 2)
                x_dw_s2(bp + (size_t)c0 * cs, cs, c0 + 1 < C, Ho, Wo, dyt, ag + (size_t)c0 * 9 * 16);
        }
    }
    for (int o = 0; o < O; o++)
        for (int k = 0; k < K; k++) {
            const float v = acc[((size_t)(o / 16) * K + k) * 16 + o % 16];
            float *d = dw + (size_t)o * K + k;
            *d = accumulate ? *d + v : v;
        }
    return 1;
}

#endif
