/* vmath.h - branchless float exp, sigmoid and tanh that vectorise.
 *
 * Plain C written so that gcc's vectoriser turns a loop over them into AVX2 or AVX-512 code: no branches,
 * no calls, no table look-ups, bit casts through memcpy.  Results do not depend on the instruction set:
 * under -std=c11 gcc does not contract a*b+c into an FMA, so every clone rounds the same way.
 *
 * Accuracy (float32, measured by tests/test_act.c against double): gs_vexpf <= 2 ulp, gs_vsigmoidf
 * <= 3 ulp, gs_vtanhf <= 3 ulp.  Special values follow expf: exp(+inf) = inf, exp(-inf) = 0, overflow
 * gives inf, underflow gives denormals and then 0, NaN propagates; tanh(+-large) = +-1 exactly, tanh(-0)
 * = -0.  Deliberately not here: the float rounding mode is assumed to be round-to-nearest.
 */
#ifndef GS_VMATH_H
#define GS_VMATH_H

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

/* exp(x): Cephes' range reduction x = n ln2 + r, |r| <= ln2/2, with ln2 split so that n*ln2_hi is exact;
   exp(r) ~ 1 + r + r^2 q(r), q of degree 4 fitted for least maximum relative error on [-ln2/2, ln2/2]
   (0.05 ulp before rounding); 2^n built from exponent bits in two halves so that results down to the
   smallest denormal come out without an intermediate underflow.  x is first clamped to [-104, 89]
   (compare-and-select, so NaN passes): that keeps n in [-150, 129], so exp(89) overflows to inf and
   exp(-104) rounds to 0. */
static inline float gs_vexpf(float x)
{
    x = gs_selectf(x > 89.0f, 89.0f, x);
    x = gs_selectf(x < -104.0f, -104.0f, x);
    /* x*log2(e) + 1.5*2^23 rounds to an integer held in the low mantissa bits */
    float t = x * 1.44269504088896341f + 12582912.0f;
    float n = t - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float q = 1.3814613179679476e-3f;
    q = q * r + 8.368709928144199e-3f;
    q = q * r + 4.1668387370341606e-2f;
    q = q * r + 1.6666520688956998e-1f;
    q = q * r + 4.9999993451647434e-1f;
    float p = q * (r * r) + r + 1.0f;
    /* n + 254 in [104, 383]: split into two biased exponents e1 + e2 = n + 254, each in [52, 192] */
    uint32_t b = gs_f2u(t) - 0x4B400000u + 254u;
    uint32_t e1 = b >> 1, e2 = b - e1;
    return p * gs_u2f(e1 << 23) * gs_u2f(e2 << 23);
}

/* 1/(1+exp(-x)) without overflow or cancellation for either sign: with e = exp(-|x|) in (0, 1],
   x >= 0 gives 1/(1+e), x < 0 gives e/(1+e).  One exp, one division. */
static inline float gs_vsigmoidf(float x)
{
    float e = gs_vexpf(-fabsf(x));
    return gs_selectf(x < 0.0f, e, 1.0f) / (1.0f + e);
}

/* tanh(x) on a = |x|, sign put back from x's bit: a < 0.625 uses Cephes' odd polynomial
   a + a^3 P4(a^2) (relative accuracy near 0, no cancellation); otherwise 1 - 2/(exp(2a)+1),
   which is exactly 1 once 2/(exp(2a)+1) < 2^-25 (and exp overflows to inf for a > 44.5). */
static inline float gs_vtanhf(float x)
{
    float a = fabsf(x);
    float z = a * a;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = a + a * (z * p);
    float big = 1.0f - 2.0f / (gs_vexpf(a + a) + 1.0f);
    float r = gs_selectf(a < 0.625f, small, big);
    return gs_u2f(gs_f2u(r) | (gs_f2u(x) & 0x80000000u));
}

#endif
