/* act.h - elementwise activation kernels: forward, backward, derivative reference, saturation count.
 *
 * Definitions are PyTorch's (float32), including the derivative it uses at every kink:
 *   identity  x                               1
 *   sigmoid   1/(1+exp(-x))                   y(1-y)            (from y)
 *   tanh      tanh(x)                         (1-y)(1+y)        (from y)
 *   relu      x<0 ? 0 : x  (keeps -0, NaN)    x<=0 ? 0 : 1
 *   leaky     x>0 ? x : 0.01x                 x>0 ? 1 : 0.01
 *   elu       x<=0 ? expm1(x) : x             x<=0 ? exp(x) : 1
 *   selu      s*(x<=0 ? a*expm1(x) : x)       x<=0 ? s*a*exp(x) : s      a = 1.67326..., s = 1.05070...
 *   gelu      x*Phi(x) = 0.5x(1+erf(x/sqrt2)) Phi(x) + x*phi(x)
 *   silu      x*sigmoid(x)                    s(1 + x(1-s))
 *   softplus  x>20 ? x : log1p(exp(x))        x>20 ? 1 : exp(x)/(exp(x)+1)
 *   hardtanh  clamp(x, -1, 1)                 -1<x<1 ? 1 : 0
 * Kernels work on raw arrays, never allocate, never fail; an unknown gs_act value behaves as identity.
 * sigmoid, tanh and relu (the hot ones) are branchless loops compiled for AVX-512, AVX2 and baseline
 * x86-64 and picked at load time; results are bitwise the same on all three.  Single-threaded: callers
 * split long arrays into ranges for threads.
 */
#ifndef GS_KERNELS_CPU_ACT_H
#define GS_KERNELS_CPU_ACT_H

#include <stddef.h>
#include "gradscope.h"

/* y = act(x) for n elements.  x and y are either the same array (in place) or do not overlap. */
void gs_act_forward(gs_act act, const float *x, float *y, size_t n);

/* The same in place over a rows x cols block of a row-major array with row stride ld >= cols: each
   element gets the bits gs_act_forward gives it (the activation of a GEMM's panel, gemm.h). */
void gs_act_forward_rows(gs_act act, float *y, size_t ld, size_t rows, size_t cols);

/* dx = dy * act'(x), or dx += dy * act'(x) when accumulate != 0.  x is the pre-activation, y the forward
   output: sigmoid and tanh read only y (x may be NULL), every other activation reads only x (y may be
   NULL), except relu, which reads x, or y when x is NULL (same sign test).  dx may be the same array as
   dy when accumulate == 0; otherwise arrays do not overlap. */
void gs_act_backward(gs_act act, const float *x, const float *y, const float *dy, float *dx, size_t n,
                     int accumulate);

/* dx = dy * act'(y) for a sigmoid or tanh (y its output) over a rows x cols block of row-major arrays
   with row stride ld >= cols, each element with the bits gs_act_backward gives it; dx may be dy. */
void gs_act_backward_rows(gs_act act, const float *y, const float *dy, float *dx, size_t ld, size_t rows,
                          size_t cols);

/* act'(x) in double, with PyTorch's choice at kinks (see the table above); for tests and instruments. */
double gs_act_deriv_ref(gs_act act, double x);
/* sup over x of act'(x): sigmoid 0.25, tanh 1, selu scale*alpha, gelu 1.1289..., silu 1.0998..., ... */
double gs_act_deriv_max(gs_act act);

/* Number of the n elements whose derivative (computed in float from y for sigmoid and tanh, from x
   otherwise, like gs_act_backward) is below frac * gs_act_deriv_max(act): the saturation instrument of
   DESIGN §2 (frac = 0.05).  NaN inputs are not counted. */
size_t gs_act_count_saturated(gs_act act, const float *x, const float *y, size_t n, double frac);

/* "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus",
   "hardtanh" as on the command line; "?" for a value out of range. */
const char *gs_act_name(gs_act act);
/* Parse a name above (exact, lower case) into *out: 0, or -1 for an unknown name (*out untouched). */
int gs_act_from_name(const char *s, gs_act *out);

#endif
