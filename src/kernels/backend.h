/* backend.h - the table through which layers reach their math.
 *
 * Layers never call a kernel directly: they call ctx's backend, so a CUDA
 * backend can replace the CPU one behind the same layers (DESIGN.md §6).
 * Kernels work on raw pointers and shape ints, never allocate, never fail.
 */
#ifndef GS_BACKEND_H
#define GS_BACKEND_H
#include <stddef.h>
#include <stdint.h>
#include "gradscope.h"

typedef struct gs_backend {
    const char *name;
    /* C (M x N) = alpha op(A) op(B) + beta C, row-major (see kernels/cpu/gemm.h) */
    void (*sgemm)(int trans_a, int trans_b, int M, int N, int K, float alpha,
                  const float *A, int lda, const float *B, int ldb, float beta,
                  float *C, int ldc, int threads);
    /* C = op(A) op(B) + bias, the row bias (N) added to every row: the bits of sgemm with beta 1 over
     * C holding the bias in every row */
    void (*sgemm_bias)(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                       const float *B, int ldb, const float *bias, float *C, int ldc, int threads);
    /* C = act(op(A) op(B) + bias) (bias NULL: none), each thread applying act to its panels of C as it
     * finishes them: the bits of sgemm_bias (sgemm, beta 0) then act_forward over C */
    void (*sgemm_act)(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda, const float *B,
                      int ldb, const float *bias, gs_act act, float *C, int ldc, int threads);
    /* C = op(A) op(B) + bias (NULL: none), then cols(ctx, j0, j1) on each share of whole columns by the
     * thread that computed it (kernels/cpu/gemm.h gs_sgemm_cols) */
    void (*sgemm_cols)(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda, const float *B,
                       int ldb, const float *bias, float *C, int ldc, int threads, void (*cols)(void *ctx, int j0, int j1),
                       void *ctx);
    /* C = op(A) op(B), then out = C * act'(s) from a sigmoid's or tanh's output s (laid out as C; out
     * may be C), each thread on its panels: the bits of sgemm then act_backward */
    void (*sgemm_dact)(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda, const float *B,
                       int ldb, gs_act act, const float *s, float *C, float *out, int ldc, int threads);
    /* For a stride-1 convolution with kw == 2 pad + 1 over g samples of x (C, H, W), with
     * col = im2col(x) never formed (kernels/cpu/gemm.h), one thread: trans 0: Cm (M x g Ho W) =
     * A (M x C kh kw) col + beta Cm; trans 1: Cm (M x C kh kw) = A (M x g Ho W) colᵀ + beta Cm.
     * Returns 0, touching nothing, where the backend cannot (the caller then forms col). */
    int (*conv_gemm)(int trans, int M, const float *A, int lda, int C, int H, int W, int kh, int kw, int pad,
                     int g, const float *x, float beta, float *Cm, int ldc);
    /* The 3x3 stride-1 padding-1 convolution straight from the image (kernels/cpu/gemm.h gs_conv3x3):
     * 1 when done, 0 (nothing touched) where the backend cannot; g == 0 asks whether it could. */
    int (*conv3x3)(int g, int C, int H, int W, int O, const float *x, const float *wd, const float *bias,
                   const uint16_t *masks, float *y, int accumulate);
    size_t (*conv3x3_masks_len)(int H, int W);
    void (*conv3x3_masks)(int H, int W, uint16_t *masks);
    /* and its weight gradient (gs_conv3x3_dw): 1 when done, 0 (nothing touched) where not */
    int (*conv3x3_dw)(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw,
                      int accumulate, float *work, size_t work_floats);
    /* The same 3x3 convolution by Winograd's F(2x2, 3x3) (gs_wino3x3): weights transformed once per
     * pass (wino3x3_filter into wino3x3_filter_floats(C, O) floats), work of wino3x3_work floats;
     * 1 when done, 0 (nothing touched) where the backend cannot; g == 0 asks whether it could. */
    int (*wino3x3)(int g, int C, int H, int W, int O, const float *x, const float *U, const float *bias,
                   float *y, int accumulate, float *work, size_t work_floats);
    void (*wino3x3_filter)(int C, int O, const float *w, int flip, float *U);
    size_t (*wino3x3_filter_floats)(int C, int O);
    size_t (*wino3x3_work)(int C, int H, int W, int O);
    /* The 3x3 stride-2 padding-1 convolution through phase images (gs_conv3x3s2: y, dx, dW, with the
     * weights as they are), conv3x3s2_work floats of scratch: 1 when done, 0 (nothing touched) where the
     * backend cannot; g == 0 asks whether it could. */
    int (*conv3x3s2)(int g, int C, int H, int W, int O, const float *x, const float *w, const float *bias, float *y,
                     int accumulate, float *work, size_t work_floats);
    int (*conv3x3s2_dx)(int g, int C, int H, int W, int O, const float *dy, const float *w, float *dx,
                        int accumulate, float *work, size_t work_floats);
    int (*conv3x3s2_dw)(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw,
                        int accumulate, float *work, size_t work_floats);
    size_t (*conv3x3s2_work)(int C, int H, int W, int O);
    void (*act_forward)(gs_act act, const float *x, float *y, size_t n);
    void (*act_backward)(gs_act act, const float *x, const float *y, const float *dy,
                         float *dx, size_t n, int accumulate);
} gs_backend;

const gs_backend *gs_backend_cpu(void);

#endif
