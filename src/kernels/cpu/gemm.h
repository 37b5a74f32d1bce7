/* gemm.h - single-precision matrix multiply on raw row-major pointers.
 *
 * gs_sgemm is the fast path (packed B panels, register-blocked micro-kernels
 * chosen at run time: AVX-512, AVX2+FMA or portable C, OpenMP over N or M);
 * gs_sgemm_naive is the plain triple loop kept alive as its test oracle.
 * Neither allocates, fails, prints or exits.  Results are deterministic: every
 * element of C is computed by one thread in a fixed order of K, and the same
 * call gives the same bits whatever `threads` is.
 */
#ifndef GS_KERNELS_CPU_GEMM_H
#define GS_KERNELS_CPU_GEMM_H

#include <stddef.h>

/* C (M x N) = alpha * op(A) * op(B) + beta * C.  Row-major.
 * op(A) is M x K: A is M x K (lda >= K) when trans_a == 0, K x M (lda >= M)
 * when trans_a == 1.  op(B) is K x N: B is K x N (ldb >= N) when trans_b == 0,
 * N x K (ldb >= K) when trans_b == 1.  C is M x N with ldc >= N.
 * beta == 0 means C is overwritten and never read (NaN garbage is ignored).
 * K == 0 or alpha == 0 gives C = beta * C without reading A or B.
 * M <= 0 or N <= 0 does nothing.  threads >= 1 is how many OpenMP threads to
 * use at most; small problems (under ~1M multiply-adds) run on one.  Uses up to
 * 52 KB of stack per thread. */
void gs_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc, int threads);

/* The reference: plain triple loop with double accumulation, the test oracle.
 * Same contract as gs_sgemm, one thread. */
void gs_sgemm_naive(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                    const float *B, int ldb, float beta, float *C, int ldc);

/* ---- internal to the gemm*.c files (and tests/test_gemm.c) ---- */

/* The x86 SIMD paths are built with gcc/clang on x86-64; -DGS_GEMM_NO_X86
 * builds the portable path alone, as on other architectures. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(GS_GEMM_NO_X86)
#define GS_GEMM_X86 1
#endif

/* Instruction-set paths, in increasing order. */
enum { GS_GEMM_PORTABLE = 0, GS_GEMM_AVX2 = 1, GS_GEMM_AVX512 = 2 };

/* The best path this CPU runs. */
int gs_gemm_best_path(void);

/* gs_sgemm forced onto one path; a path this CPU cannot run falls back to the
 * best one it can.  Lets the tests check every path on one machine. */
void gs_sgemm_path(int path, int trans_a, int trans_b, int M, int N, int K, float alpha,
                   const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc,
                   int threads);

/* One thread's share: rows [0, M) and columns [0, N) of C, all of K, with the
 * pointers already offset to the share's corner (A to its first row of op(A),
 * B to its first column of op(B), C to C[0][0]).  K >= 1, alpha != 0. */
typedef void gs_gemm_block_fn(int trans_a, int trans_b, int M, int N, int K, float alpha,
                              const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                              float beta, float *C, ptrdiff_t ldc);
gs_gemm_block_fn gs_gemm_block_portable;
#ifdef GS_GEMM_X86
gs_gemm_block_fn gs_gemm_block_avx2;
gs_gemm_block_fn gs_gemm_block_avx512;
#endif

/* Width of one packed B panel (columns of C per micro-tile) for each path;
 * the driver splits N between threads in multiples of it. */
#define GS_GEMM_NR_PORTABLE 16
#define GS_GEMM_NR_AVX2 16
#define GS_GEMM_NR_AVX512 32

/* Longest run of K one packed panel holds; longer K is done in near-equal
 * blocks, the first applying beta and the rest accumulating. */
#define GS_GEMM_KC 384

#endif
