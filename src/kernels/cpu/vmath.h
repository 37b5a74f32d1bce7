/* vmath.h - branchless float exp, sigmoid and tanh that vectorise.
 *
 * Plain C written so that gcc's vectoriser turns a loop over them into AVX2 or AVX-512 code: no branches,
 * no calls, no table look-ups, bit casts through memcpy.  Results do not depend on the instruction set:
 * nothing is contracted into an FMA (see below), so every clone rounds the same way.
 *
 * Accuracy, every one of the 2^32 floats checked against double: gs_vexpf <= 1.02 ulp, gs_vsigmoidf
 * <= 2.41 ulp, gs_vtanhf <= 2.33 ulp; denormal results within 0.75 of a denormal step (tests/test_act.c
 * checks a strided sweep).  Special values follow expf: exp(+inf) = inf, exp(-inf) = 0, overflow gives
 * inf, underflow gives denormals and then 0, NaN propagates; tanh(+-large) = +-1 exactly, tanh(-0) = -0.
 * Deliberately not here: the float rounding mode is assumed to be round-to-nearest.
 */
#ifndef GS_VMATH_H
#define GS_VMATH_H

/* No a*b+c -> fma contraction, so that the AVX-512/AVX2 clones and the baseline round alike: gcc in
   ISO mode (-std=c11) already does not contract; clang does by default, so tell it (for the rest of
   the including file too, which is what a kernel including this wants). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t gs_f2u(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }
static inline float gs_u2f(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }

/* c ? a : b as bit operations on a 0/1 condition: no branch for the compiler's jump threading to
   split (a float ?: with a constant arm gets threaded at -O2 and then the loop no longer vectorises). */
static inline float gs_selectf(int c, float a, float b)
{
    uint32_t m = 0u - (uint32_t)c;
    return gs_u2f((gs_f2u(a) & m) | (gs_f2u(b) & ~m));
}

/* The shared core of exp and expm1: x = n ln2 + r with |r| <= ln2/2 (Cephes' reduction, ln2 split so
   that n*ln2_hi is exact), returns expm1(r) ~ r + r^2 q(r), q of degree 4 fitted for least maximum
   relative error of exp on [-ln2/2, ln2/2] (0.05 ulp before rounding), evaluated in Estrin's scheme
   (shorter dependency chains than Horner: the loops are latency-bound).  *t gets x*log2(e) + 1.5*2^23,
   whose low mantissa bits hold n (valid for |x| < 2^21). */
static inline float gs_vexp_core(float x, float *t)
{
    *t = x * 1.44269504088896341f + 12582912.0f;
    float n = *t - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float r2 = r * r;
    float lo = 4.9999993451647434e-1f + 1.6666520688956998e-1f * r;
    float hi = 4.1668387370341606e-2f + 8.368709928144199e-3f * r;
    float q = (lo + hi * r2) + 1.3814613179679476e-3f * (r2 * r2);
    return q * r2 + r;
}

/* bits of 2^(n + bias) for the n held in t (see gs_vexp_core); valid while n + bias + 127 is in [1, 254] */
static inline uint32_t gs_vexp_scale_bits(float t, uint32_t bias)
{
    return (gs_f2u(t) - 0x4B400000u + 127u + bias) << 23;
}

/* exp(x) for any x: 2^n built from exponent bits in two halves so that results down to the smallest
   denormal come out without an intermediate underflow.  x is first clamped to [-104, 89]
   (compare-and-select, so NaN passes): that keeps n in [-150, 129], so exp(89) overflows to inf and
   exp(-104) rounds to 0. */
static inline float gs_vexpf(float x)
{
    float t;
    x = gs_selectf(x > 89.0f, 89.0f, x);
    x = gs_selectf(x < -104.0f, -104.0f, x);
    float p = gs_vexp_core(x, &t) + 1.0f;
    /* n + 254 in [104, 383]: split into two biased exponents e1 + e2 = n + 254, each in [52, 192] */
    uint32_t b = gs_f2u(t) - 0x4B400000u + 254u;
    uint32_t e1 = b >> 1, e2 = b - e1;
    return p * gs_u2f(e1 << 23) * gs_u2f(e2 << 23);
}

/* exp(-a) for a >= 0 (or NaN), the one sigmoid needs: cheaper than gs_vexpf because n <= 0.  The result
   is built as (p * 2^(n+64)) * 2^-64: the first product is a normal float for every n >= -150, and the
   last multiplication rounds once into the denormals, exactly as gs_vexpf does. */
static inline float gs_vexpf_neg(float a)
{
    float t;
    a = gs_selectf(a > 104.0f, 104.0f, a);
    float p = gs_vexp_core(-a, &t) + 1.0f;
    return p * gs_u2f(gs_vexp_scale_bits(t, 64u)) * 0x1p-64f;
}

/* 1/(1+exp(-x)) without overflow or cancellation for either sign: with e = exp(-|x|) in (0, 1],
   x >= 0 gives 1/(1+e), x < 0 gives e/(1+e).  One exp, one division. */
static inline float gs_vsigmoidf(float x)
{
    float e = gs_vexpf_neg(fabsf(x));
    return gs_selectf(x < 0.0f, e, 1.0f) / (1.0f + e);
}

/* tanh(a), a = |x|, sign put back from x's bit.  One reduction of -2a gives E = exp(-2a) = 2^n (1 + m)
   and em1 = expm1(-2a) = (2^n - 1) + 2^n m (2^n - 1 is exact for the n in play, -28..0, and m = expm1(r)
   keeps full relative accuracy).  Then with d = 2 + em1 = 1 + E:
     a <  0.55:  tanh = -em1 / d      relative accuracy as a -> 0, no cancellation anywhere;
     a >= 0.55:  tanh = 1 - 2E / d    the quotient is small, so its rounding hardly reaches the result.
   One division either way.  a is clamped at 9.5 (NaN passes): 2E/d < 2^-25 there, so tanh is exactly 1. */
static inline float gs_vtanhf(float x)
{
    float t;
    float a = fabsf(x);
    a = gs_selectf(a > 9.5f, 9.5f, a);
    float m = gs_vexp_core(-2.0f * a, &t);
    float s = gs_u2f(gs_vexp_scale_bits(t, 0u));
    float sm = s * m;
    float em1 = (s - 1.0f) + sm;
    float e2 = 2.0f * (s + sm);
    int big = a >= 0.55f;
    float q = gs_selectf(big, e2, -em1) / (2.0f + em1);
    float r = gs_selectf(big, 1.0f - q, q);
    return gs_u2f(gs_f2u(r) | (gs_f2u(x) & 0x80000000u));
}

#endif
