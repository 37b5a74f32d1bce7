/* simd.h - run-time instruction-set dispatch for plain C loops: GS_CLONES
 * makes gcc build AVX-512, AVX2 and baseline copies of a function and pick
 * one when the program starts (glibc ifunc).  Loops meant to vectorise are
 * written with independent lanes so no reassociation of float sums is
 * needed (the build never uses -ffast-math). */
#ifndef GS_SIMD_H
#define GS_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define GS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define GS_HAVE_CLONES 1     /* x86-64 with run-time dispatch: target("avx512f") code may be called after a check */
#endif
#endif
#ifndef GS_CLONES
#define GS_CLONES
#endif

#define GS_LANES 16          /* one zmm of floats */
#define GS_FLUSH 4096        /* float lanes are flushed into double this often */

/* Sixteen float lanes as one value (GNU vector extension, which gcc and
 * clang both have): arithmetic on it is lane by lane, so a loop over
 * blocks of 16 keeps one accumulator per lane without the compiler having
 * to discover it (left to itself gcc -O3 unrolls a 16-lane inner loop and
 * vectorises across the outer one, with transposes: 10x slower). */
typedef float gs_vf __attribute__((vector_size(64)));
/* the same, for loads and stores at any float alignment */
typedef float gs_vf_u __attribute__((vector_size(64), aligned(4), may_alias));
/* sixteen int lanes: what a comparison of two gs_vf gives (-1 true, 0 false), and a mask to cast through */
typedef int gs_vi __attribute__((vector_size(64)));
/* relu's backward on lanes: 0 where y <= 0, dr elsewhere (a NaN y passes dr), as the relu node's (a macro:
 * a function taking gs_vf by value has no fixed ABI outside the clones) */
#define GS_RELU_GRAD_V(y, dr) ((gs_vf)((gs_vi)(dr) & ~(gs_vi)((y) <= 0.0f)))
/* and the same on one value; the relu node's forward clamp (PyTorch's clamp_min(y, 0): -0 and NaN pass) */
static inline float gs_relu_grad(float y, float dr) { return y <= 0.0f ? 0.0f : dr; }
static inline float gs_relu(float y) { return y < 0.0f ? 0.0f : y; }
#define GS_VLOAD(p) (*(const gs_vf_u *)(p))
#define GS_VSTORE(p, v) (*(gs_vf_u *)(p) = (v))
static inline double gs_vsum(const gs_vf *v)
{
    double s = 0;
    for (int k = 0; k < GS_LANES; k++) s += (*v)[k];
    return s;
}

#endif
