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
#include <stdint.h>
#include "gradscope.h"

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

/* C = op(A) op(B) + bias, bias (N) added to every row of C: gs_sgemm's contract and bits with beta 1
 * over a C holding the bias in every row (nn.Linear's forward), without that pass over C: on CPUs
 * with AVX-512 or AVX2 the bias joins the product's sums as they are stored. */
void gs_sgemm_bias(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                   const float *bias, float *C, int ldc, int threads);

/* C = act(op(A) op(B) + bias) (bias NULL: none): the bits of gs_sgemm_bias (gs_sgemm with beta 0 when
 * bias is NULL) followed by gs_act_forward over C, with each thread applying act to the panels of C it
 * has just computed, in place, while they are in its cache (a linear layer and its sigmoid or tanh). */
void gs_sgemm_act(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                  const float *bias, gs_act act, float *C, int ldc, int threads);

/* C = op(A) op(B) (beta 0), then out = C * act'(s) with act' taken from the activation's output s
 * (act sigmoid or tanh, as gs_act_backward computes it), s and out laid out as C (row stride ldc), out
 * == C for in place: the bits of gs_sgemm then gs_act_backward, each thread on the panels of C it has
 * just computed (a linear layer's dx and the backward of the activation before it). */
void gs_sgemm_dact(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                   gs_act act, const float *s, float *C, float *out, int ldc, int threads);

/* C = op(A) op(B) + bias (bias NULL: beta 0), then cols(ctx, j0, j1) on every column of C exactly once, in
 * ranges of whole columns (all M rows), each called by the thread that has just computed them, while they
 * are in its cache (a linear layer and the batch norm after it, whose statistics are per column). */
typedef void gs_cols_fn(void *ctx, int j0, int j1);
void gs_sgemm_cols(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                   const float *bias, float *C, int ldc, int threads, gs_cols_fn *cols, void *ctx);

/* The implicit-im2col convolution GEMM of gs_backend.conv_gemm: done (1) on CPUs with AVX-512
 * for kh kw <= GS_CONV_IMPLICIT_MAX_TAPS taps and Ho W >= GS_CONV_IMPLICIT_MIN_PIXELS, else 0. */
int gs_conv_gemm(int trans, int M, const float *A, int lda, int C, int H, int W, int kh, int kw, int pad, int g,
                 const float *x, float beta, float *Cm, int ldc);

/* The 3x3, stride 1, padding 1 convolution of g samples x (g, C, H, W) into y (g, O, H, W), straight
 * from the image (no im2col), one thread: y = conv + bias (bias NULL: none), or y += that when
 * accumulate.  wd holds the weights as (C, 9, O): wd[(c 9 + t) O + o] = w[o][c][t].  Done (1) on CPUs
 * with AVX-512 for O a multiple of 8 and GS_CONV3X3_MIN_PIXELS <= H W <= GS_CONV3X3_MAX_PIXELS, and for maps
 * 7 wide with O a multiple of 32 (C (H + 2) 9 and H 7 O at most 8192: vectors over output channels
 * there, 1.6 -> 1.3 ms a layer forward in resnet-20's 7 x 7 stage against the implicit GEMM); on CPUs
 * with AVX2 and FMA (no AVX-512) for the shapes gs_conv3x3_avx2_fits takes; else 0 with nothing
 * touched; g == 0 asks only whether it would be done. */
#define GS_CONV3X3_MAX_PIXELS 4096
/* Smaller images go to the implicit GEMM, which fills its vectors across samples: on 7 x 7 maps a
 * 32-pixel tile of one sample is a quarter empty (measured 0.87x the implicit GEMM there, 1.08x on
 * 14 x 14 and 1.55x on 28 x 28 with 16-32 channels). */
#define GS_CONV3X3_MIN_PIXELS 128
int gs_conv3x3(int g, int C, int H, int W, int O, const float *x, const float *wd, const float *bias,
               const uint16_t *masks, float *y, int accumulate);
/* Its masks for an H x W image, worked out once per geometry: for each block of 16 pixels and tap,
 * the lanes whose tap lands inside the image; gs_conv3x3_masks_len(H, W) of them. */
size_t gs_conv3x3_masks_len(int H, int W);
void gs_conv3x3_masks(int H, int W, uint16_t *masks);
/* Its weight gradient, one thread: dw (O, C, 3, 3) = (or += when accumulate) the sum over g samples of
 * dy (g, O, H, W) times x (g, C, H, W) shifted by each tap.  work: gs_conv3x3_dw_work(C, H, W, O) floats
 * of scratch.  Done (1) on CPUs with AVX-512 for O a multiple of 16 and the pixels conv3x3 takes, and on CPUs
 * with AVX2 and FMA for the shapes gs_conv3x3_dw_avx2 takes, work enough, else 0 with nothing touched;
 * g == 0 asks only. */
size_t gs_conv3x3_dw_work(int C, int H, int W, int O);
int gs_conv3x3_dw(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw, int accumulate,
                  float *work, size_t work_floats);

/* The 3x3, stride 2, padding 1 convolution of g samples x (g, C, H, W) into y (g, O, H / 2, W / 2) through
 * x's four phase images (x[c][2i + p][2j + q] for each p, q), one thread, with the weights w as they are
 * (O, C, 3, 3): gs_conv3x3s2 y = conv + bias (or += with accumulate); gs_conv3x3s2_dx the transposed
 * convolution, dx (g, C, H, W) from dy (g, O, H / 2, W / 2) (or += with accumulate); gs_conv3x3s2_dw
 * dw (O, C, 3, 3) = (or += with accumulate) the sum over the samples.  The same sums as im2col + GEMM,
 * in another order.  gs_conv3x3s2_work(C, H, W, O) floats of scratch for any of them.  Done (1) on CPUs
 * with AVX-512 for the shapes gs_conv3x3s2_fits takes (H, W even, W / 2 <= 31, GS_CONV3X3S2_MIN_PIXELS
 * <= H W / 4 <= GS_CONV3X3_MAX_PIXELS, C a multiple of 8, O of 16) and work enough, else 0 with nothing
 * touched; g == 0 asks only. */
/* Its smallest output: 7 x 7 maps still pay (32 -> 64 channels, the resnets' second transition: forward
 * 1.23 -> 1.17 ms a step, backward 2.75 -> 2.5 against im2col + GEMM). */
#define GS_CONV3X3S2_MIN_PIXELS 32
/* The dW's bordered phase rows: floats a row, the four phases' 32 each (so W / 2 + 1 <= 32) */
#define GS_CONV3X3S2_ROW 128
int gs_conv3x3s2_fits(int C, int H, int W, int O);
size_t gs_conv3x3s2_work(int C, int H, int W, int O);
int gs_conv3x3s2(int g, int C, int H, int W, int O, const float *x, const float *w, const float *bias, float *y,
                 int accumulate, float *work, size_t work_floats);
int gs_conv3x3s2_dx(int g, int C, int H, int W, int O, const float *dy, const float *w, float *dx, int accumulate,
                    float *work, size_t work_floats);
int gs_conv3x3s2_dw(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw, int accumulate,
                    float *work, size_t work_floats);

/* The same convolution by Winograd's F(2x2, 3x3): 16 multiplies per 2x2 output tile and channel pair
 * instead of 36, at the price of roundings a few ulp apart from the direct sums (relative error
 * ~1e-6, measured against double sums in test_conv).  gs_wino3x3_filter transforms the weights
 * once per pass into U (gs_wino3x3_filter_floats(C, O) floats): flip 0 takes w as (O, C, 3, 3), the
 * layer's y; flip 1 takes the same w and gives the filters of dx = the convolution of dy (O
 * channels in, C out) with the flipped taps, so its C and O are then the layer's O and C.
 * gs_wino3x3: y (g, O, H, W) = conv(x (g, C, H, W)) + bias (NULL: none), or y += that when accumulate;
 * one thread; work of gs_wino3x3_work(C, H, W, O) floats.  Done (1) on CPUs with AVX-512 for the
 * shapes gs_wino3x3_fits takes (H and W even, W <= 32, at least GS_CONV3X3_MIN_PIXELS pixels, 8 <= C,
 * O a multiple of 8), else 0 with nothing touched; g == 0 asks only. */
int gs_wino3x3_fits(int C, int H, int W, int O);
/* Tiles per block of its work (whole tile rows of one sample; W <= 32 makes at most 16 a row). */
#define GS_WINO_BLOCK_TILES 32
size_t gs_wino3x3_filter_floats(int C, int O);
void gs_wino3x3_filter(int C, int O, const float *w, int flip, float *U);
size_t gs_wino3x3_work(int C, int H, int W, int O);
int gs_wino3x3(int g, int C, int H, int W, int O, const float *x, const float *U, const float *bias, float *y,
               int accumulate, float *work, size_t work_floats);

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
void gs_sgemm_bias_path(int path, int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, const float *bias, float *C, int ldc, int threads);
void gs_sgemm_act_path(int path, int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                       const float *B, int ldb, const float *bias, gs_act act, float *C, int ldc, int threads);
void gs_sgemm_cols_path(int path, int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, const float *bias, float *C, int ldc, int threads, gs_cols_fn *cols,
                        void *ctx);
void gs_sgemm_dact_path(int path, int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, gs_act act, const float *s, float *C, float *out, int ldc, int threads);

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
/* Part `part` of `parts` of the next panel's B (columns jn .. jn + nw of op(B), rows k0 .. k0 + kc),
 * fetched while this panel's tiles run, so its packing finds it in cache (in training a layer's
 * weights come from memory); the AVX-512 and AVX2 blocks call it once per row tile. */
static inline void gs_gemm_fetch_panel(int trans_b, const float *B, ptrdiff_t ldb, int k0, int kc, int jn, int nw,
                                       int part, int parts)
{
    if (trans_b) {   /* rows jn.. of B, kc floats each */
        const int r0 = (int)((long)nw * part / parts), r1 = (int)((long)nw * (part + 1) / parts);
        for (int r = r0; r < r1; r++)
            for (int k = 0; k < kc; k += 16) __builtin_prefetch(B + (size_t)(jn + r) * ldb + k0 + k, 0, 3);
    } else {         /* nw floats of each row k0.. */
        const int q0 = (int)((long)kc * part / parts), q1 = (int)((long)kc * (part + 1) / parts);
        for (int k = q0; k < q1; k++)
            for (int j = 0; j < nw; j += 16) __builtin_prefetch(B + (size_t)(k0 + k) * ldb + jn + j, 0, 3);
    }
}
/* What follows the product on a part of C (rows x cols at C), run by the block on each panel as soon as it
 * is complete, while it is in L1 */
typedef void gs_gemm_post_fn(const void *ctx, float *C, ptrdiff_t ldc, int rows, int cols);
/* The AVX-512 block with, where bias is not NULL, C = alpha op(A) op(B) + bias, bias a row of N added to
 * every row (gs_sgemm_bias; beta unused), else gs_gemm_block_avx512's beta; and post(pctx, ...) on each
 * panel unless post is NULL */
void gs_gemm_block_post_avx512(int trans_a, int trans_b, int M, int N, int K, float alpha,
                               const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,
                               const float *bias, float *C, ptrdiff_t ldc, gs_gemm_post_fn *post, const void *pctx);
/* The same for the AVX2 block */
void gs_gemm_block_post_avx2(int trans_a, int trans_b, int M, int N, int K, float alpha,
                             const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,
                             const float *bias, float *C, ptrdiff_t ldc, gs_gemm_post_fn *post, const void *pctx);
#endif

/* A stride-1 convolution whose output is as wide as its input (kw == 2 pad + 1) over g
 * consecutive samples: its column matrix (C kh kw rows, g Ho W columns, column i Ho W + p for
 * sample i) is what gs_conv_gemm_avx512 multiplies by, packing each panel straight from x. */
typedef struct gs_conv_geom {
    int C, H, W, kh, kw, pad;
    int g;                   /* samples side by side */
} gs_conv_geom;
/* Most kernel taps (kh kw) the implicit path takes; and the fewest output pixels per sample. */
#define GS_CONV_IMPLICIT_MAX_TAPS 25
#define GS_CONV_IMPLICIT_MIN_PIXELS 16
#ifdef GS_GEMM_X86
/* trans 0: C (M x g Ho W, ldc) = A (M x C kh kw, row-major, lda) col + beta C;
 * trans 1: C (M x C kh kw, ldc) = A (M x g Ho W, row-major, lda) colᵀ + beta C;
 * col = im2col(x) never formed; one thread; x holds g samples of C H W floats each.  Needs
 * avx512f, kh kw <= GS_CONV_IMPLICIT_MAX_TAPS and Ho W >= GS_CONV_IMPLICIT_MIN_PIXELS. */
void gs_conv_gemm_avx512(int trans, int M, const float *A, ptrdiff_t lda, const gs_conv_geom *geo,
                         const float *x, float beta, float *C, ptrdiff_t ldc);
int gs_conv3x3_avx512(int g, int C, int H, int W, int O, const float *x, const float *wd, const float *bias,
                      const uint16_t *masks, float *y, int accumulate);
int gs_conv3x3_dw_avx512(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw,
                         int accumulate, float *work, size_t work_floats);
/* gs_conv3x3 on CPUs with AVX2 and FMA (conv_avx2.c): O even, C <= GS_CONV3X3_AVX2_CHANNELS, H W <= GS_CONV3X3_MAX_PIXELS, and
 * the bordered image and the outputs on its grid within GS_CONV3X3_AVX2_FLOATS floats each (on the
 * stack); the masks are not used. */
#define GS_CONV3X3_AVX2_FLOATS 16384
#define GS_CONV3X3_AVX2_CHANNELS 256
int gs_conv3x3_avx2_fits(int C, int H, int W, int O);
int gs_conv3x3_avx2(int g, int C, int H, int W, int O, const float *x, const float *wd, const float *bias,
                    float *y, int accumulate);
/* gs_conv3x3_dw on CPUs with AVX2 and FMA: the shapes gs_conv3x3_avx2 takes with O a multiple of 4, and
 * work of at least gs_conv3x3_dw_avx2_work(C, H, W, O) floats (more lets it take more samples at once) */
size_t gs_conv3x3_dw_avx2_work(int C, int H, int W, int O);
int gs_conv3x3_dw_avx2(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw, int accumulate,
                       float *work, size_t work_floats);
int gs_wino3x3_avx512(int g, int C, int H, int W, int O, const float *x, const float *U, const float *bias,
                      float *y, int accumulate, float *work, size_t work_floats);
int gs_conv3x3s2_avx512(int g, int C, int H, int W, int O, const float *x, const float *w, const float *bias,
                        float *y, int accumulate, float *work, size_t work_floats);
int gs_conv3x3s2_dx_avx512(int g, int C, int H, int W, int O, const float *dy, const float *w, float *dx,
                           int accumulate, float *work, size_t work_floats);
int gs_conv3x3s2_dw_avx512(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw,
                           int accumulate, float *work, size_t work_floats);
#endif

/* Width of one packed B panel (columns of C per micro-tile) for each path;
 * the driver splits N between threads in multiples of it. */
#define GS_GEMM_NR_PORTABLE 16
#define GS_GEMM_NR_AVX2 16
#define GS_GEMM_NR_AVX512 32

/* Longest run of K one packed panel holds; longer K is done in near-equal
 * blocks, the first applying beta and the rest accumulating. */
#define GS_GEMM_KC 384
/* Blocks of at most this many rows run a post step on each panel as it is done (the X_MC of
 * gemm_avx512.c and Y_MC of gemm_avx2.c: their panels then hold every row) */
#define GS_GEMM_POST_MAX_ROWS 240

#endif
