/* peak.c - this machine's FP32 FMA peak, the denominator of bench/table.sh's "% of peak".
 *
 * Each thread runs 12 independent chains of vector FMAs on registers (no memory), with the widest
 * vectors the CPU has (AVX-512, else AVX2+FMA, else scalar C), long enough that the clock settles;
 * the best of a few repeats counts.  Prints the figure on stdout:
 *   peak_gflops 188.1 threads 2 isa avx2 (one thread 101.4)
 * Usage: peak [threads] (default: every CPU OpenMP sees).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PEAK_X86 1
#endif

#define CHAINS 12
#define STEPS 20000000L

#ifdef PEAK_X86
#define CHAIN_LOOP(V, SET1, FMA)                                                          \
    V a[CHAINS];                                                                          \
    const V m = SET1(0.999999f), c = SET1(1e-7f);                                         \
    for (int i = 0; i < CHAINS; i++) a[i] = SET1((float)i);                               \
    for (long k = 0; k < STEPS; k++) {                                                    \
        _Pragma("GCC unroll 12") for (int i = 0; i < CHAINS; i++) a[i] = FMA(a[i], m, c); \
    }                                                                                     \
    float s = 0;                                                                          \
    for (int i = 0; i < CHAINS; i++) s += a[i][0];                                      \
    return s;

__attribute__((target("avx512f"))) static float chains_avx512(void)
{
    CHAIN_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps)
}

__attribute__((target("avx2,fma"))) static float chains_avx2(void)
{
    CHAIN_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps)
}
#endif

static float chains_scalar(void)
{
    float a[CHAINS];
    for (int i = 0; i < CHAINS; i++) a[i] = (float)i;
    for (long k = 0; k < STEPS; k++)
        for (int i = 0; i < CHAINS; i++) a[i] = a[i] * 0.999999f + 1e-7f;
    float s = 0;
    for (int i = 0; i < CHAINS; i++) s += a[i];
    return s;
}

typedef float chains_fn(void);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* GFLOP/s of T threads running fn at once (2 FLOPs per lane per FMA), the best of 3 */
static double measure(chains_fn *fn, int lanes, int T)
{
    double best = 0;
    volatile float sink = 0;
    for (int r = 0; r < 3; r++) {
        float s = 0;
        const double t0 = now();
#ifdef _OPENMP
#pragma omp parallel num_threads(T) reduction(+ : s)
#endif
        s += fn();
        const double t = now() - t0;
        sink += s;
        const double g = 2.0 * lanes * CHAINS * (double)STEPS * T / t / 1e9;
        if (g > best) best = g;
    }
    (void)sink;
    return best;
}

int main(int argc, char **argv)
{
    int T = 1;
#ifdef _OPENMP
    T = omp_get_num_procs();
#endif
    if (argc > 1) {
        char *end;
        long v = strtol(argv[1], &end, 10);
        if (*end || v < 1 || v > 1024) {
            fprintf(stderr, "peak: threads must be a number from 1 to 1024, not '%s'\n", argv[1]);
            return 2;
        }
        T = (int)v;
    }
#ifndef _OPENMP
    if (T > 1) fprintf(stderr, "peak: built without OpenMP: one thread\n");
    T = 1;
#endif
    chains_fn *fn = chains_scalar;
    int lanes = 1;
    const char *isa = "scalar";
#ifdef PEAK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) { fn = chains_avx512; lanes = 16; isa = "avx512"; }
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) { fn = chains_avx2; lanes = 8; isa = "avx2"; }
#endif
    const double one = measure(fn, lanes, 1), all = T > 1 ? measure(fn, lanes, T) : one;
    printf("peak_gflops %.1f threads %d isa %s (one thread %.1f)\n", all, T, isa, one);
    return 0;
}
