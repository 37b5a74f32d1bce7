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

/* exp(x): Cephes' range reduction x = n ln2 + r, |r| <= ln2/2, ln2 split so n*ln2_hi is exact; degree-7
   polynomial 1 + r + r^2 P5(r); 2^n built from exponent bits in two halves so that results down to the
   smallest denormal come out without an intermediate underflow.  Clamping x to [-104, 89] (a comparison,
   so NaN passes through) keeps n in [-150, 129]: exp(89) overflows to inf, exp(-104) rounds to 0. */
static inline float gs_vexpf(float x)
{
    x = x > 89.0f ? 89.0f : x;
    x = x < -104.0f ? -104.0f : x;
    /* x*log2(e) + 1.5*2^23 rounds to an integer held in the low mantissa bits */
    float t = x * 1.44269504088896341f + 12582912.0f;
    float n = t - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
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
    float num = x < 0.0f ? e : 1.0f;
    return num / (1.0f + e);
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
    float r = a < 0.625f ? small : big;
    return gs_u2f(gs_f2u(r) | (gs_f2u(x) & 0x80000000u));
}

#endif
