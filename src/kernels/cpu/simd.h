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
/* eight lanes: the widest comparison every clone has in one instruction */
typedef float gs_vh __attribute__((vector_size(32)));
typedef int gs_vhi __attribute__((vector_size(32)));
/* the low and high halves of a gs_vf */
#define GS_VLO(v) __builtin_shufflevector((v), (v), 0, 1, 2, 3, 4, 5, 6, 7)
#define GS_VHI(v) __builtin_shufflevector((v), (v), 8, 9, 10, 11, 12, 13, 14, 15)
/* -1 in the lanes of y that are <= 0, else 0 (a NaN: 0), compared in two halves of 8: gcc 12 lowers a
 * comparison of all 16 lanes, in the AVX2 and baseline clones, to one scalar compare and branch a lane
 * (measured 4x slower than the halves in the BatchNorm2d backward's sums on Zen 3) */
#define GS_VLE0(y) ((gs_vi)__builtin_shufflevector((gs_vhi)(GS_VLO(y) <= 0.0f), (gs_vhi)(GS_VHI(y) <= 0.0f), \
                                                  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
/* relu's backward on lanes: 0 where y <= 0, dr elsewhere (a NaN y passes dr), as the relu node's (a macro:
 * a function taking gs_vf by value has no fixed ABI outside the clones) */
#define GS_RELU_GRAD_V(y, dr) ((gs_vf)((gs_vi)(dr) & ~GS_VLE0(y)))
/* and the same on one value; the relu node's forward clamp (PyTorch's clamp_min(y, 0): -0 and NaN pass) */
static inline float gs_relu_grad(float y, float dr) { return y <= 0.0f ? 0.0f : dr; }
static inline float gs_relu(float y) { return y < 0.0f ? 0.0f : y; }
#define GS_VLOAD(p) (*(const gs_vf_u *)(p))
#define GS_VSTORE(p, v) (*(gs_vf_u *)(p) = (v))
/* An accumulator of 16 float lanes as two halves of 8, lane k of the sums in lane k % 8 of one: the same
 * float additions lane by lane as a gs_vf accumulator, hence the same bits, but gcc 12 keeps the halves
 * in registers in every clone, where it keeps a whole gs_vf accumulator in memory in the AVX2 clones
 * (through every iteration of the loop: 4x slower in the BatchNorm2d backward's sums on Zen 3) */
typedef struct gs_vacc { gs_vh lo, hi; } gs_vacc;
#define GS_VACC_ZERO ((gs_vacc){ { 0 }, { 0 } })
#define GS_VACC_ADD(a, v) do { const gs_vf v_ = (v); (a).lo += GS_VLO(v_); (a).hi += GS_VHI(v_); } while (0)
#define GS_VACC_SUM(a) (0.0 + (a).lo[0] + (a).lo[1] + (a).lo[2] + (a).lo[3] + (a).lo[4] + (a).lo[5] + (a).lo[6] + \
                        (a).lo[7] + (a).hi[0] + (a).hi[1] + (a).hi[2] + (a).hi[3] + (a).hi[4] + (a).hi[5] +  \
                        (a).hi[6] + (a).hi[7])

#endif
