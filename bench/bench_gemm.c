/* bench_gemm.c - GFLOP/s of gs_sgemm on the shapes of the width-256 MLP at batch 128.
 *
 * For each shape and thread count: median over many timed batches of calls,
 * with OpenBLAS's cblas_sgemm timed in alternation when libopenblas.so.0 can
 * be dlopen'ed (it is not linked: bench/ links only against libgradscope).
 * This VM's speed drifts between runs, so read the two columns side by side.
 *   usage: bench_gemm [rounds (default 41)] [path: 0 portable, 1 avx2, 2 avx512 (default best)]
 *                     [blas: 1 compare with OpenBLAS (default), 0 do not]
 *                     [sets: 1 (default) one A, B, C kept warm in cache; 50 cycles through 50
 *                      of each, as the 50 layers of the MLP do, so operands come from L3/DRAM]
 * The two libraries are timed in alternating phases, not alternating calls:
 * each one's idle threads spin for a while after a parallel call and would
 * steal the other's cores (OpenBLAS's pthreads for up to ~0.1 s).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/cpu/gemm.h"

typedef void cblas_sgemm_fn(int order, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                            int lda, const float *B, int ldb, float beta, float *C, int ldc);
typedef void set_threads_fn(int n);

struct shape { const char *name; int ta, tb, M, N, K; float beta; };

static const struct shape shapes[] = {
    {"hidden fwd  Y=X.W^T", 0, 1, 128, 256, 256, 0.0f},
    {"hidden dX   dY.W   ", 0, 0, 128, 256, 256, 0.0f},
    {"hidden dW  +dY^T.X ", 1, 0, 256, 256, 128, 1.0f},
    {"input fwd   K=784  ", 0, 1, 128, 256, 784, 0.0f},
    {"input dW    N=784  ", 1, 0, 256, 784, 128, 1.0f},
    {"head fwd    N=10   ", 0, 1, 128, 10, 256, 0.0f},
    {"head dX     K=10   ", 0, 0, 128, 256, 10, 0.0f},
    {"head dW     M=10   ", 1, 0, 10, 256, 128, 1.0f},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void pause_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct run {
    const struct shape *s;
    const float *A, *B;
    float *C;
    int threads, path;
    cblas_sgemm_fn *blas;   /* NULL: gradscope */
    int sets, cur;          /* operand sets to cycle through, the next one */
    size_t stride;          /* floats between sets */
};

static void call(struct run *r)
{
    const struct shape *s = r->s;
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    size_t off = (size_t)r->cur * r->stride;
    r->cur = r->cur + 1 == r->sets ? 0 : r->cur + 1;
    if (r->blas)
        r->blas(101, s->ta ? 112 : 111, s->tb ? 112 : 111, s->M, s->N, s->K, 1.0f, r->A + off, lda, r->B + off,
                ldb, s->beta, r->C + off, s->N);
    else
        gs_sgemm_path(r->path, s->ta, s->tb, s->M, s->N, s->K, 1.0f, r->A + off, lda, r->B + off, ldb, s->beta,
                      r->C + off, s->N, r->threads);
}

/* Seconds per call of one timed batch (about 0.5 ms: short enough that some batches dodge
   the other processes of a shared machine, so the best one shows the kernel itself). */
static double batch(struct run *r, int reps)
{
    double t0 = now();
    for (int i = 0; i < reps; i++) call(r);
    return (now() - t0) / reps;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 41;
    int path = argc > 2 ? atoi(argv[2]) : gs_gemm_best_path();
    int want_blas = argc > 3 ? atoi(argv[3]) : 1;
    int sets = argc > 4 ? atoi(argv[4]) : 1;
    if (rounds < 1) rounds = 1;
    if (sets < 1) sets = 1;
    cblas_sgemm_fn *blas = NULL;
    set_threads_fn *blas_threads = NULL;
    void *lib = want_blas ? dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL) : NULL;
    if (lib) {
        void *p = dlsym(lib, "cblas_sgemm"), *q = dlsym(lib, "openblas_set_num_threads");
        memcpy(&blas, &p, sizeof blas);
        memcpy(&blas_threads, &q, sizeof blas_threads);
        if (!blas_threads) blas = NULL;
    }
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("gs_sgemm path %s; median and best of %d batches; %d operand set%s; OpenBLAS %s "
           "(OPENBLAS_CORETYPE=%s)\n", path == GS_GEMM_AVX512 ? "avx512" : path == GS_GEMM_AVX2 ? "avx2" : "portable",
           rounds, sets, sets > 1 ? "s cycled" : " kept warm", blas ? "dlopen'ed" : (want_blas ? "not found" : "off"),
           ct ? ct : "unset");
    printf("%-20s %4s %4s %4s %3s  %9s %9s %9s  %6s\n", "shape", "M", "N", "K", "thr", "gs GF/s", "gs best",
           "blas GF/s", "ratio");

    size_t most = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        size_t a = (size_t)shapes[i].M * shapes[i].K, b = (size_t)shapes[i].K * shapes[i].N;
        size_t c = (size_t)shapes[i].M * shapes[i].N;
        if (a > most) most = a;
        if (b > most) most = b;
        if (c > most) most = c;
    }
    most = (most + 15) / 16 * 16;   /* every set 64-byte aligned like the first */
    size_t all = most * sets;
    float *A = aligned_alloc(64, all * sizeof *A), *B = aligned_alloc(64, all * sizeof *B);
    float *C = aligned_alloc(64, all * sizeof *C);
    double *t_gs = malloc(rounds * sizeof *t_gs), *t_bl = malloc(rounds * sizeof *t_bl);
    if (!A || !B || !C || !t_gs || !t_bl) return 1;
    unsigned x = 12345;
    for (size_t i = 0; i < all; i++) {
        x = x * 1664525u + 1013904223u;
        A[i] = (float)(x >> 8) / 16777216.0f - 0.5f;
        x = x * 1664525u + 1013904223u;
        B[i] = (float)(x >> 8) / 16777216.0f - 0.5f;
        C[i] = 0.0f;
    }

    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const struct shape *s = &shapes[i];
        double flop = 2.0 * s->M * s->N * s->K;
        for (int threads = 1; threads <= 2; threads++) {
            struct run g = {s, A, B, C, threads, path, NULL, sets, 0, most};
            struct run o = {s, A, B, C, threads, path, blas, sets, 0, most};
            int reps = (int)(1e8 / flop) + 1;   /* about 0.5 ms at 200 GFLOP/s */
            if (blas) blas_threads(threads);
            /* phases of `per` batches, gradscope then OpenBLAS, with a pause between
               so that the previous library's spinning threads have gone to sleep */
            int per = rounds < 10 ? rounds : 10;
            for (int r0 = 0; r0 < rounds; r0 += per) {
                int r1 = r0 + per < rounds ? r0 + per : rounds;
                if (blas) pause_ms(150);
                batch(&g, reps);
                for (int r = r0; r < r1; r++) t_gs[r] = batch(&g, reps);
                if (blas) {
                    pause_ms(150);
                    batch(&o, reps);
                    for (int r = r0; r < r1; r++) t_bl[r] = batch(&o, reps);
                }
            }
            qsort(t_gs, rounds, sizeof *t_gs, cmp_double);
            double gs = flop / t_gs[rounds / 2] * 1e-9, best = flop / t_gs[0] * 1e-9;
            if (blas) {
                qsort(t_bl, rounds, sizeof *t_bl, cmp_double);
                double bl = flop / t_bl[rounds / 2] * 1e-9;
                printf("%-20s %4d %4d %4d %3d  %9.1f %9.1f %9.1f  %6.2f\n", s->name, s->M, s->N, s->K, threads, gs,
                       best, bl, gs / bl);
            } else {
                printf("%-20s %4d %4d %4d %3d  %9.1f %9.1f %9s\n", s->name, s->M, s->N, s->K, threads, gs, best,
                       "-");
            }
            fflush(stdout);
        }
    }
    free(A);
    free(B);
    free(C);
    free(t_gs);
    free(t_bl);
    if (lib) dlclose(lib);
    return 0;
}
