/* reduce.h - vectorised reductions and the optimizers' fused update
 * kernels.  Sums are taken in float lanes and flushed into double every
 * GS_FLUSH elements: fast, and accurate to ~1e-6 relative. */
#ifndef GS_REDUCE_H
#define GS_REDUCE_H
#include <stddef.h>

/* Σx and Σx² of n floats (either output may be NULL). */
void gs_reduce_sums(const float *x, size_t n, double *sum, double *sumsq);
/* Σ(x - mu)² */
double gs_reduce_centered_sq(const float *x, size_t n, double mu);
/* The same two over `rows` rows of S floats `stride` apart (a BatchNorm2d channel): the float lanes are
 * flushed into double once per GS_FLUSH elements, not once a row (see reduce.c); the one-array forms
 * above are their one-row case. */
void gs_rows_sums(const float *x, int rows, size_t S, size_t stride, double *sum, double *sumsq);
double gs_rows_centered_sq(const float *x, int rows, size_t S, size_t stride, double mu);
/* Σ g and Σ g (x - mu) over such rows, g = dy; with relu, dy is the gradient of relu(y) for
 * y = x * ya + yb (computed as gs_affine does, so the mask is bit for bit the relu node's) and
 * g = y <= 0 ? 0 : dy, the fused relu's backward. */
void gs_rows_dot_centered(const float *dy, const float *x, int rows, size_t S, size_t stride, float mu, int relu,
                          float ya, float yb, double *sdy, double *sdyx);
/* y = x * a + b, and r = relu(y) (y < 0 ? 0 : y, as the relu node) unless r is NULL; r alone where y is NULL */
void gs_affine(const float *x, float *y, float *r, size_t n, float a, float b);
/* dx (=|+=) a g + b x + c, g = dy or, with relu, the relu's backward of dy as in gs_rows_dot_centered;
 * dx may be dy (in place) */
void gs_affine2(const float *dy, const float *x, float *dx, size_t n, float a, float b, float c, int relu, float ya,
                float yb, int accumulate);

/* SGD on n elements (PyTorch's rule, dampening 0): d = scale*g + wd*p;
 * m = d (first) or mu*m + d; d = nesterov ? d + mu*m : m; p -= lr*d.
 * mu == 0: plain SGD, m untouched.  acc += (Σg², Σp², Σ(Δp)²).
 * stream: p and m go straight to memory (non-temporal stores) where the machine has AVX-512 and both
 * are 64-byte aligned, for parameter blocks far larger than the caches: the same bits. */
void gs_sgd_update(float *p, const float *g, float *m, size_t n, float lr, float scale, float wd,
                   float mu, int first, int nesterov, int stream, double acc[3]);
/* Adam(W): d = scale*g + l2*p; p *= decay; m = b1 m + (1-b1) d;
 * v = b2 v + (1-b2) d²; p -= step * m / (sqrt(v)/bc2_sqrt + eps). */
void gs_adam_update(float *p, const float *g, float *m, float *v, size_t n, float step, float scale,
                    float l2, float decay, float b1, float b2, float bc2_sqrt, float eps, double acc[3]);

#endif
