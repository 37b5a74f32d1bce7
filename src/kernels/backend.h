/* backend.h - the table through which layers reach their math.
 *
 * Layers never call a kernel directly: they call ctx's backend, so a CUDA
 * backend can replace the CPU one behind the same layers (DESIGN.md §6).
 * Kernels work on raw pointers and shape ints, never allocate, never fail.
 */
#ifndef GS_BACKEND_H
#define GS_BACKEND_H
#include <stddef.h>
#include "gradscope.h"

typedef struct gs_backend {
    const char *name;
    /* C (M x N) = alpha op(A) op(B) + beta C, row-major (see kernels/cpu/gemm.h) */
    void (*sgemm)(int trans_a, int trans_b, int M, int N, int K, float alpha,
                  const float *A, int lda, const float *B, int ldb, float beta,
                  float *C, int ldc, int threads);
    /* Cm (M x g Ho W, ldc) = A (M x C kh kw, lda) im2col(x) + beta Cm for a stride-1 convolution
     * with kw == 2 pad + 1 over g samples of x (C, H, W), without forming the column matrix
     * (kernels/cpu/gemm.h); one thread.  Returns 0, touching nothing, where the backend cannot
     * (the caller then forms the column matrix and calls sgemm). */
    int (*conv_gemm)(int M, const float *A, int lda, int C, int H, int W, int kh, int kw, int pad, int g,
                     const float *x, float beta, float *Cm, int ldc);
    void (*act_forward)(gs_act act, const float *x, float *y, size_t n);
    void (*act_backward)(gs_act act, const float *x, const float *y, const float *dy,
                         float *dx, size_t n, int accumulate);
} gs_backend;

const gs_backend *gs_backend_cpu(void);

#endif
