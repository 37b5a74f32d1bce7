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
#endif
#endif
#ifndef GS_CLONES
#define GS_CLONES
#endif

#define GS_LANES 16          /* one zmm of floats */
#define GS_FLUSH 4096        /* float lanes are flushed into double this often */

#endif
