/* gemm_avx2.c - the AVX2+FMA block function of gs_sgemm.
 *
 * Same scheme as gemm_avx512.c at half the width: B packed one panel of 16
 * columns at a time (two ymm per k, zero-padded past N), A broadcast straight
 * from memory, a 6 x 16 tile of C in 12 ymm accumulators, edges of N stored
 * through vmaskmov; the bias added and the post step run on each panel as the AVX-512 block does
 * them.  Only called after the driver has checked for avx2 and fma.
 */
#include "kernels/cpu/gemm.h"

#ifdef GS_GEMM_X86
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma")))
#define INL static inline __attribute__((always_inline)) TGT

#define Y_MR 6   /* rows of the register tile; y_tile spells out this many */
#define Y_NR GS_GEMM_NR_AVX2
#define Y_MC 240

/* Lane i of the mask is set (all ones) when i < lanes. */
INL __m256i y_lane_mask(int lanes)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* In-register transpose: on return r[c] holds column c of the 8 x 8 block whose rows were r[0..8). */
INL void y_transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/* bp[k][0..16) = op(B)[k0 + k][0..nw), zero beyond nw. */
static TGT void y_pack_b(int trans_b, const float *B, ptrdiff_t ldb, int k0, int kc, int nw, float *bp)
{
    if (!trans_b) {
        __m256i m0 = y_lane_mask(nw), m1 = y_lane_mask(nw - 8);
        const float *src = B + (size_t)k0 * ldb;
        for (int k = 0; k < kc; k++, src += ldb, bp += Y_NR) {
            _mm256_store_ps(bp, _mm256_maskload_ps(src, m0));
            _mm256_store_ps(bp + 8, _mm256_maskload_ps(src + 8, m1));
        }
        return;
    }
    /* op(B) = Bᵀ: rows of B are columns of the panel; 8 x 8 blocks transposed in registers */
    const int k8 = kc & ~7;
    for (int j0 = 0; j0 < Y_NR; j0 += 8) {
        if (j0 + 8 <= nw) {
            const float *src = B + (size_t)j0 * ldb + k0;
            for (int k = 0; k < k8; k += 8) {
                __m256 r[8];
                for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(src + (size_t)j * ldb + k);
                y_transpose8(r);
                for (int q = 0; q < 8; q++) _mm256_store_ps(bp + (size_t)(k + q) * Y_NR + j0, r[q]);
            }
        } else {
            for (int k = 0; k < k8; k++) _mm256_store_ps(bp + (size_t)k * Y_NR + j0, _mm256_setzero_ps());
            for (int j = j0; j < nw; j++) {
                const float *src = B + (size_t)j * ldb + k0;
                for (int k = 0; k < k8; k++) bp[(size_t)k * Y_NR + j] = src[k];
            }
        }
    }
    for (int j = 0; j < Y_NR; j++) {   /* the last kc % 8 rows of the panel */
        const float *src = B + (size_t)j * ldb + k0;
        for (int k = k8; k < kc; k++) bp[(size_t)k * Y_NR + j] = j < nw ? src[k] : 0.0f;
    }
}

/* C tile (mr x 16, columns past nw untouched) = alpha * op(A) tile * bp + beta * C.
 * Spelled out row by row so that every compiler keeps the tile in registers. */
#define Y_ROWS(F) F(0) F(1) F(2) F(3) F(4) F(5)
INL void y_tile(const int mr, const int trans_a, int kc, const float *a, ptrdiff_t lda, const float *bp,
                float *C, ptrdiff_t ldc, float alpha, float beta, const float *bias, int nw)
{
#define Y_ZERO(r) __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = _mm256_setzero_ps();
    Y_ROWS(Y_ZERO)
#undef Y_ZERO
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
#define Y_FMA(r) \
        if (mr > r) { \
            __m256 ar = _mm256_broadcast_ss(trans_a ? a + r : a + r * lda); \
            c##r##0 = _mm256_fmadd_ps(ar, b0, c##r##0); \
            c##r##1 = _mm256_fmadd_ps(ar, b1, c##r##1); \
        }
        Y_ROWS(Y_FMA)
#undef Y_FMA
        a += trans_a ? lda : 1;
        bp += Y_NR;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    __m256i m0 = y_lane_mask(nw), m1 = y_lane_mask(nw - 8);
    /* the bias row, added as beta 1 would add it from C: alpha acc + bias, one rounding */
    const __m256 bias0 = bias ? _mm256_maskload_ps(bias, m0) : _mm256_setzero_ps();
    const __m256 bias1 = bias ? _mm256_maskload_ps(bias + 8, m1) : _mm256_setzero_ps();
    /* beta == 0: C is written, never read */
#define Y_STORE(r) \
    if (mr > r) { \
        float *c = C + r * ldc; \
        __m256 x0 = _mm256_mul_ps(va, c##r##0), x1 = _mm256_mul_ps(va, c##r##1); \
        if (bias) { \
            x0 = _mm256_add_ps(x0, bias0); \
            x1 = _mm256_add_ps(x1, bias1); \
        } \
        if (nw == Y_NR) { \
            if (!bias && beta != 0.0f) { \
                x0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), x0); \
                x1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), x1); \
            } \
            _mm256_storeu_ps(c, x0); \
            _mm256_storeu_ps(c + 8, x1); \
        } else { \
            if (!bias && beta != 0.0f) { \
                x0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c, m0), x0); \
                x1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c + 8, m1), x1); \
            } \
            _mm256_maskstore_ps(c, m0, x0); \
            _mm256_maskstore_ps(c + 8, m1, x1); \
        } \
    }
    Y_ROWS(Y_STORE)
#undef Y_STORE
}

static TGT void y_tile_any(int mr, int nw, int trans_a, int kc, const float *a, ptrdiff_t lda,
                           const float *bp, float *C, ptrdiff_t ldc, float alpha, float beta, const float *bias)
{
#define Y_CASE(R) case R: \
        if (trans_a) y_tile(R, 1, kc, a, lda, bp, C, ldc, alpha, beta, bias, nw); \
        else y_tile(R, 0, kc, a, lda, bp, C, ldc, alpha, beta, bias, nw); \
        break;
    switch (mr) {
        Y_CASE(1) Y_CASE(2) Y_CASE(3) Y_CASE(4) Y_CASE(5) Y_CASE(6)
    default: break;
    }
#undef Y_CASE
}

/* The block with, where bias is not NULL, C = alpha op(A) op(B) + bias (the row vector added to every
 * row; beta unused): the bits of beta 1 over C holding the bias in every row; post on each panel of
 * C as soon as it is done, while it is in L1, unless post is NULL. */
static TGT void y_block(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, ptrdiff_t lda,
                        const float *B, ptrdiff_t ldb, float beta, const float *bias, float *C, ptrdiff_t ldc,
                        gs_gemm_post_fn *post, const void *pctx)
{
    _Alignas(32) float bp[GS_GEMM_KC * Y_NR];
    int nkb = (K + GS_GEMM_KC - 1) / GS_GEMM_KC;
    for (int kb = 0; kb < nkb; kb++) {
        int k0 = (int)((long)K * kb / nkb), kc = (int)((long)K * (kb + 1) / nkb) - k0;
        float be = kb == 0 ? beta : 1.0f;
        const float *bk = kb == 0 ? bias : NULL;
        for (int ic = 0; ic < M; ic += Y_MC) {
            int mc = M - ic < Y_MC ? M - ic : Y_MC;
            for (int jr = 0; jr < N; jr += Y_NR) {
                int nw = N - jr < Y_NR ? N - jr : Y_NR;
                y_pack_b(trans_b, trans_b ? B + (size_t)jr * ldb : B + jr, ldb, k0, kc, nw, bp);
                const int tiles = (mc + Y_MR - 1) / Y_MR, jn = jr + Y_NR;
                const int nwn = N - jn < Y_NR ? N - jn : Y_NR;
                for (int ir = ic; ir < ic + mc; ir += Y_MR) {
                    int mr = ic + mc - ir < Y_MR ? ic + mc - ir : Y_MR;
                    if (nwn > 0) gs_gemm_fetch_panel(trans_b, B, ldb, k0, kc, jn, nwn, (ir - ic) / Y_MR, tiles);
                    const float *a = trans_a ? A + (size_t)k0 * lda + ir : A + (size_t)ir * lda + k0;
                    y_tile_any(mr, nw, trans_a, kc, a, lda, bp, C + (size_t)ir * ldc + jr, ldc, alpha, be,
                               bk ? bk + jr : NULL);
                }
                if (post && kb == nkb - 1) post(pctx, C + (size_t)ic * ldc + jr, ldc, mc, nw);   /* in L1 still */
            }
        }
    }
}

TGT void gs_gemm_block_avx2(int trans_a, int trans_b, int M, int N, int K, float alpha,
                            const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                            float beta, float *C, ptrdiff_t ldc)
{
    y_block(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, NULL, C, ldc, NULL, NULL);
}

TGT void gs_gemm_block_post_avx2(int trans_a, int trans_b, int M, int N, int K, float alpha,
                                 const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,
                                 const float *bias, float *C, ptrdiff_t ldc, gs_gemm_post_fn *post, const void *pctx)
{
    y_block(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, bias ? 0.0f : beta, bias, C, ldc, post, pctx);
}

#endif
