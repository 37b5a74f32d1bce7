/* test_gemm.c - gs_sgemm against the naive triple loop.
 *
 * Every instruction-set path this CPU runs, all four transpose combinations,
 * random shapes (odd sizes 1..70 and the MLP's 128/256/784/10), alpha and
 * beta variants, padded leading dimensions, threads 1 and 2.  The tolerance
 * of each element is relative to sum_k |a||b|, the scale of its rounding
 * error.  Also: beta == 0 ignores NaN in C, K == 0 and alpha == 0 scale C,
 * padding outside C is never written, and threads do not change a bit.
 * gs_sgemm_bias: the bits of gs_sgemm over C holding the bias.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/act.h"
#include "team.h"

struct lcg { unsigned long long s; };

static unsigned lcg_u32(struct lcg *g)
{
    g->s = g->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(g->s >> 33);
}

static float lcg_unit(struct lcg *g) { return (float)lcg_u32(g) / 2147483648.0f - 1.0f; }   /* [-1, 1) */

static int lcg_below(struct lcg *g, int n) { return (int)(lcg_u32(g) % (unsigned)n); }

static const float SENTINEL = 12345.0f;

/* One case: random A, B, C with padding; gs_sgemm_path vs gs_sgemm_naive.
 * Returns the worst error over the tolerance (<= 1 passes). */
static double check_case(struct lcg *g, int path, int ta, int tb, int M, int N, int K, float alpha, float beta,
                         int pad, int threads, const char *what)
{
    int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    size_t na = (size_t)(ta ? K : M) * lda + 1, nb = (size_t)(tb ? N : K) * ldb + 1, nc = (size_t)M * ldc;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
    float *C = malloc(nc * sizeof *C), *R = malloc(nc * sizeof *R);
    double *scale = calloc((size_t)M * N, sizeof *scale);
    double worst = 0.0;
    if (!A || !B || !C || !R || !scale) {
        CHECK(0, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < na; i++) A[i] = lcg_unit(g);
    for (size_t i = 0; i < nb; i++) B[i] = lcg_unit(g);
    for (size_t i = 0; i < nc; i++) {
        int col = (int)(i % ldc);
        C[i] = col >= N ? SENTINEL : beta == 0.0f ? NAN : lcg_unit(g);
        R[i] = C[i];
    }
    /* |alpha| sum |a||b| + |beta c| bounds the size of what rounding can touch */
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += fabs(a * b);
            }
            scale[(size_t)i * N + j] = fabs(alpha) * s + (beta == 0.0f ? 0.0 : fabs(beta * C[(size_t)i * ldc + j]));
        }
    gs_sgemm_naive(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, R, ldc);
    gs_sgemm_path(path, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads);
    int wi = 0, wj = 0, bad_pad = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++) {
            float c = C[(size_t)i * ldc + j], r = R[(size_t)i * ldc + j];
            if (j >= N) {
                bad_pad += c != SENTINEL;
                continue;
            }
            /* twice the worst-case rounding bound of a length-K float sum, (K + 2) * 2^-24 */
            double tol = 2.0 * 5.97e-8 * (K + 2) * scale[(size_t)i * N + j] + 1e-30;
            double e = isnan(c) ? INFINITY : fabs((double)c - r) / tol;
            if (e > worst) {
                worst = e;
                wi = i;
                wj = j;
            }
        }
    CHECK(worst <= 1.0, "%s: path %d ta %d tb %d M %d N %d K %d alpha %g beta %g pad %d threads %d: C[%d][%d] = %.9g, "
          "expected %.9g (error %.3g of tolerance)", what, path, ta, tb, M, N, K, alpha, beta, pad, threads, wi, wj,
          C[(size_t)wi * ldc + wj], R[(size_t)wi * ldc + wj], worst);
    CHECK(bad_pad == 0, "%s: %d elements of C's padding written (M %d N %d K %d)", what, bad_pad, M, N, K);
done:
    free(A);
    free(B);
    free(C);
    free(R);
    free(scale);
    return worst;
}

static int paths[3], n_paths;

static void find_paths(void)
{
    n_paths = 0;
    for (int p = GS_GEMM_PORTABLE; p <= gs_gemm_best_path(); p++) paths[n_paths++] = p;
}

/* Every small size 1..9 in every dimension, all transposes, one thread. */
static void test_tiny_exhaustive(void)
{
    struct lcg g = {1};
    for (int pi = 0; pi < n_paths; pi++)
        for (int t = 0; t < 4; t++)
            for (int M = 1; M <= 9; M++)
                for (int N = 1; N <= 9; N++)
                    for (int K = 1; K <= 9; K += 2)
                        check_case(&g, paths[pi], t & 1, t >> 1, M, N, K, 1.0f, 0.0f, 0, 1, "tiny");
}

/* Random odd shapes 1..70 with alpha/beta variants and padding. */
static void test_random_shapes(void)
{
    struct lcg g = {2};
    static const float alphas[] = {1.0f, -0.5f, 2.0f}, betas[] = {0.0f, 1.0f, 0.25f};
    for (int pi = 0; pi < n_paths; pi++)
        for (int it = 0; it < 150; it++) {
            int M = 1 + lcg_below(&g, 70), N = 1 + lcg_below(&g, 70), K = 1 + lcg_below(&g, 70);
            check_case(&g, paths[pi], it & 1, (it >> 1) & 1, M, N, K, alphas[lcg_below(&g, 3)], betas[lcg_below(&g, 3)],
                       lcg_below(&g, 3) * 7, 1 + (it >> 2) % 2, "random");
        }
}

/* The MLP's shapes, threads 1 and 2. */
static void test_mlp_shapes(void)
{
    struct lcg g = {3};
    static const int s[][6] = {
        {0, 1, 128, 256, 256, 0}, {0, 0, 128, 256, 256, 0}, {1, 0, 256, 256, 128, 1},
        {0, 1, 128, 256, 784, 0}, {1, 0, 256, 784, 128, 1}, {0, 1, 128, 10, 256, 0},
        {0, 0, 128, 256, 10, 0}, {1, 0, 10, 256, 128, 1},
    };
    for (int pi = 0; pi < n_paths; pi++)
        for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
            for (int threads = 1; threads <= 2; threads++)
                check_case(&g, paths[pi], s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], 1.0f, (float)s[i][5],
                           (int)i % 2 * 5, threads, "mlp");
}

/* Sizes around the blocking edges: K past one block (GS_GEMM_KC), M past one row chunk, N odd past panels. */
static void test_block_edges(void)
{
    struct lcg g = {4};
    static const int s[][3] = {
        {1, 1, 1000}, {7, 33, GS_GEMM_KC}, {7, 33, GS_GEMM_KC + 1}, {250, 47, 3}, {241, 65, 2 * GS_GEMM_KC + 5},
        {1, 300, 17}, {300, 1, 17}, {129, 257, 255},
    };
    for (int pi = 0; pi < n_paths; pi++)
        for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
            for (int t = 0; t < 4; t++)
                check_case(&g, paths[pi], t & 1, t >> 1, s[i][0], s[i][1], s[i][2], 0.75f, t == 2 ? 0.0f : -1.0f, 3,
                           1 + (int)i % 2, "edges");
}

/* K == 0 and alpha == 0: C = beta * C, A and B never read (NULL here). */
static void test_degenerate(void)
{
    float C[6] = {1, 2, 3, 4, 5, 6};
    gs_sgemm(0, 0, 2, 3, 0, 1.0f, NULL, 1, NULL, 3, 2.0f, C, 3, 2);
    CHECK_NEAR(C[5], 12.0f, 0, 0);
    gs_sgemm(1, 1, 2, 3, 5, 0.0f, NULL, 2, NULL, 5, 0.5f, C, 3, 1);
    CHECK_NEAR(C[5], 6.0f, 0, 0);
    C[0] = NAN;
    gs_sgemm(0, 1, 2, 3, 0, 1.0f, NULL, 1, NULL, 1, 0.0f, C, 3, 1);
    CHECK_NEAR(C[0], 0.0f, 0, 0);
    gs_sgemm(0, 0, 0, 3, 4, 1.0f, NULL, 4, NULL, 3, 0.0f, NULL, 3, 2);   /* M == 0: nothing touched */
    gs_sgemm(0, 0, 3, 0, 4, 1.0f, NULL, 4, NULL, 1, 0.0f, NULL, 1, 2);
    CHECK(1, "reached");
}

/* One thread and two give the same bits (each element one thread, fixed K order). */
static void test_threads_bitwise(void)
{
    struct lcg g = {5};
    static const int s[][5] = {{0, 1, 128, 256, 256}, {1, 0, 256, 784, 128}, {0, 0, 200, 24, 70}, {1, 1, 61, 97, 400}};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        int ta = s[i][0], tb = s[i][1], M = s[i][2], N = s[i][3], K = s[i][4];
        size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
        float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
        float *C1 = malloc(nc * sizeof *C1), *C2 = malloc(nc * sizeof *C2);
        if (A && B && C1 && C2) {
            for (size_t k = 0; k < na; k++) A[k] = lcg_unit(&g);
            for (size_t k = 0; k < nb; k++) B[k] = lcg_unit(&g);
            for (size_t k = 0; k < nc; k++) C1[k] = C2[k] = lcg_unit(&g);
            gs_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.5f, C1, N, 1);
            gs_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.5f, C2, N, 2);
            size_t diff = 0;
            for (size_t k = 0; k < nc; k++) diff += memcmp(&C1[k], &C2[k], sizeof(float)) != 0;
            CHECK(diff == 0, "shape %zu: %zu of %zu elements differ between 1 and 2 threads", i, diff, nc);
        } else {
            CHECK(0, "out of memory");
        }
        free(A);
        free(B);
        free(C1);
        free(C2);
    }
}

/* A, B and a bias row of random values in [-1, 1) */
static void fill_operands(struct lcg *g, float *A, size_t na, float *B, size_t nb, float *bias, int N)
{
    for (size_t q = 0; q < na; q++) A[q] = lcg_unit(g);
    for (size_t q = 0; q < nb; q++) B[q] = lcg_unit(g);
    for (int j = 0; j < N; j++) bias[j] = lcg_unit(g);
}

/* gs_sgemm_bias: bit for bit gs_sgemm with beta 1 over C holding the bias in every row, on every path,
 * the bias per column (masked vectors at N's end), K past a block (784), 1 and 2 threads, inside a team,
 * padding untouched. */
typedef struct bias_run {
    int path, ta, tb, M, N, K, lda, ldb, ldc, threads;
    const float *A, *B, *bias;
    float *C;
} bias_run;

static void bias_body(void *arg)
{
    const bias_run *r = arg;
    gs_sgemm_bias_path(r->path, r->ta, r->tb, r->M, r->N, r->K, r->A, r->lda, r->B, r->ldb, r->bias, r->C, r->ldc,
                       r->threads);
}

static void test_bias(void)
{
    struct lcg g = {13};
    static const int s[][5] = {{0, 1, 128, 256, 256}, {0, 1, 128, 256, 784}, {0, 1, 37, 10, 256}, {1, 0, 61, 97, 70},
                               {0, 0, 9, 33, 5}, {0, 1, 5, 3, 0}};
    for (size_t c = 0; c < sizeof s / sizeof s[0]; c++)
        for (int p = 0; p < n_paths; p++)
            for (int mode = 0; mode < 3; mode++) {
                const int ta = s[c][0], tb = s[c][1], M = s[c][2], N = s[c][3], K = s[c][4];
                const int lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 3;
                const size_t na = (size_t)(ta ? K : M) * lda + 1, nb = (size_t)(tb ? N : K) * ldb + 1,
                             nc = (size_t)M * ldc;
                float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *bias = malloc((size_t)N * sizeof *bias);
                float *C = malloc(nc * sizeof *C), *R = malloc(nc * sizeof *R);
                if (A && B && bias && C && R) {
                    fill_operands(&g, A, na, B, nb, bias, N);
                    for (size_t q = 0; q < nc; q++) {
                        const int j = (int)(q % (size_t)ldc);
                        C[q] = j >= N ? SENTINEL : NAN;
                        R[q] = j >= N ? SENTINEL : bias[j];
                    }
                    gs_sgemm_path(paths[p], ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 1.0f, R, ldc, 1);
                    bias_run r = { paths[p], ta, tb, M, N, K, lda, ldb, ldc, mode == 0 ? 1 : 2, A, B, bias, C };
                    if (mode == 2) gs_team_host(2, bias_body, &r);
                    else bias_body(&r);
                    size_t diff = 0;
                    for (size_t q = 0; q < nc; q++) diff += memcmp(&C[q], &R[q], sizeof(float)) != 0;
                    CHECK(diff == 0, "shape %zu path %d mode %d: %zu of %zu elements (padding included) differ from "
                          "gs_sgemm over the bias", c, paths[p], mode, diff, nc);
                } else {
                    CHECK(0, "out of memory");
                }
                free(A); free(B); free(bias); free(C); free(R);
            }
}

/* gs_sgemm_act and gs_sgemm_dact: bit for bit the plain product (with its bias) followed by the flat
 * activation kernels, on every path, 1 thread, 2 in an OpenMP region and 2 in a team (each thread
 * applying the activation to its own panels), odd shapes and strides, out == C and out apart, the
 * padding past N untouched. */
typedef struct act_run {
    int path, ta, tb, M, N, K, lda, ldb, ldc, threads, back;
    gs_act act;
    const float *A, *B, *bias, *S;
    float *C, *out;
} act_run;

static void act_body(void *arg)
{
    const act_run *r = arg;
    if (r->back)
        gs_sgemm_dact_path(r->path, r->ta, r->tb, r->M, r->N, r->K, r->A, r->lda, r->B, r->ldb, r->act, r->S, r->C,
                           r->out, r->ldc, r->threads);
    else
        gs_sgemm_act_path(r->path, r->ta, r->tb, r->M, r->N, r->K, r->A, r->lda, r->B, r->ldb, r->bias, r->act, r->C,
                          r->ldc, r->threads);
}

static void test_act_epilogue(void)
{
    struct lcg g = {17};
    static const int s[][5] = {{0, 1, 128, 256, 256}, {0, 0, 128, 256, 256}, {0, 1, 37, 100, 64}, {0, 0, 61, 97, 70},
                               {1, 0, 96, 160, 33}, {0, 1, 9, 33, 5}};
    const gs_act acts[] = {GS_ACT_SIGMOID, GS_ACT_TANH, GS_ACT_RELU};
    for (size_t c = 0; c < sizeof s / sizeof s[0]; c++)
        for (int p = 0; p < n_paths; p++)
            for (int v = 0; v < 8; v++) {
                const int ta = s[c][0], tb = s[c][1], M = s[c][2], N = s[c][3], K = s[c][4];
                const int back = v >= 4, apart = v & 1, nobias = v & 1;
                const gs_act act = acts[back ? (v >> 1) & 1 : (v >> 1) % 3];
                const int lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 3;
                const size_t na = (size_t)(ta ? K : M) * lda + 1, nb = (size_t)(tb ? N : K) * ldb + 1,
                             nc = (size_t)M * ldc;
                float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *bias = malloc((size_t)N * sizeof *bias);
                float *S = malloc(nc * sizeof *S), *R = malloc(nc * sizeof *R), *Ro = malloc(nc * sizeof *Ro);
                float *C = malloc(nc * sizeof *C), *O = malloc(nc * sizeof *O);
                if (!A || !B || !bias || !S || !R || !Ro || !C || !O) {
                    CHECK(0, "out of memory");
                    free(A); free(B); free(bias); free(S); free(R); free(Ro); free(C); free(O);
                    continue;
                }
                fill_operands(&g, A, na, B, nb, bias, N);
                for (size_t q = 0; q < nc; q++) S[q] = 0.5f * lcg_unit(&g) + (act == GS_ACT_SIGMOID ? 0.5f : 0.0f);
                const float *bs = back || nobias ? NULL : bias;
                for (size_t q = 0; q < nc; q++) {
                    const int j = (int)(q % (size_t)ldc);
                    R[q] = j >= N ? SENTINEL : bs ? bs[j] : 0.0f;
                    Ro[q] = SENTINEL;
                }
                gs_sgemm_path(paths[p], ta, tb, M, N, K, 1.0f, A, lda, B, ldb, bs ? 1.0f : 0.0f, R, ldc, 1);
                for (int i = 0; i < M; i++) {
                    float *r = R + (size_t)i * ldc;
                    if (!back) gs_act_forward(act, r, r, (size_t)N);
                    else gs_act_backward(act, NULL, S + (size_t)i * ldc, r, (apart ? Ro : R) + (size_t)i * ldc, (size_t)N, 0);
                }
                for (int mode = 0; mode < 3; mode++) {
                    for (size_t q = 0; q < nc; q++) {
                        C[q] = q % (size_t)ldc >= (size_t)N ? SENTINEL : NAN;
                        O[q] = SENTINEL;
                    }
                    act_run r = { paths[p], ta, tb, M, N, K, lda, ldb, ldc, mode == 0 ? 1 : 2, back, act, A, B, bias,
                                  S, C, apart ? O : C };
                    if (!back && nobias) r.bias = NULL;
                    if (mode == 2) gs_team_host(2, act_body, &r);
                    else act_body(&r);
                    size_t diff = 0;
                    for (size_t q = 0; q < nc; q++) diff += memcmp(&C[q], &R[q], sizeof(float)) != 0;
                    if (back && apart)
                        for (size_t q = 0; q < nc; q++) diff += memcmp(&O[q], &Ro[q], sizeof(float)) != 0;
                    CHECK(diff == 0, "shape %zu path %d %s %s%s mode %d: %zu elements (padding included) differ from the "
                          "product then the activation", c, paths[p], gs_act_name(act), back ? "backward" : "forward",
                          apart ? " apart" : "", mode, diff);
                }
                free(A); free(B); free(bias); free(S); free(R); free(Ro); free(C); free(O);
            }
}

/* gs_sgemm_cols: every column handed to the callback exactly once, with all its rows final (the
 * callback sums each column it gets, in row order, and the sums must equal those of the plain product),
 * on every path, 1 thread, 2 in an OpenMP region and 2 in a team, with and without a bias, few panels
 * (no split by rows then) and more rows than a block's panel holds. */
typedef struct cols_run {
    int path, ta, tb, M, N, K, lda, ldb, ldc, threads;
    const float *A, *B, *bias;
    float *C, *sums;
    int *seen;
} cols_run;

static void cols_visit(void *arg, int j0, int j1)
{
    const cols_run *r = arg;
    for (int j = j0; j < j1; j++) {
        float t = 0.0f;
        for (int i = 0; i < r->M; i++) t += r->C[(size_t)i * r->ldc + j];
        r->sums[j] = t;
        r->seen[j]++;
    }
}

static void cols_body(void *arg)
{
    const cols_run *r = arg;
    gs_sgemm_cols_path(r->path, r->ta, r->tb, r->M, r->N, r->K, r->A, r->lda, r->B, r->ldb, r->bias, r->C, r->ldc,
                       r->threads, cols_visit, (void *)r);
}

static void test_cols(void)
{
    struct lcg g = {19};
    static const int s[][5] = {{0, 1, 128, 256, 256}, {0, 1, 300, 96, 64}, {0, 1, 64, 40, 512}, {0, 0, 61, 97, 70},
                               {1, 0, 128, 256, 128}};
    for (size_t c = 0; c < sizeof s / sizeof s[0]; c++)
        for (int p = 0; p < n_paths; p++)
            for (int v = 0; v < 6; v++) {
                const int ta = s[c][0], tb = s[c][1], M = s[c][2], N = s[c][3], K = s[c][4], mode = v % 3, nob = v / 3;
                const int lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + (v & 1) * 3;
                const size_t na = (size_t)(ta ? K : M) * lda + 1, nb = (size_t)(tb ? N : K) * ldb + 1,
                             nc = (size_t)M * ldc;
                float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *bias = malloc((size_t)N * sizeof *bias);
                float *C = malloc(nc * sizeof *C), *R = malloc(nc * sizeof *R), *sums = malloc((size_t)N * sizeof *sums);
                int *seen = calloc((size_t)N, sizeof *seen);
                if (!A || !B || !bias || !C || !R || !sums || !seen) {
                    CHECK(0, "out of memory");
                    free(A); free(B); free(bias); free(C); free(R); free(sums); free(seen);
                    continue;
                }
                fill_operands(&g, A, na, B, nb, bias, N);
                for (size_t q = 0; q < nc; q++) {
                    const int j = (int)(q % (size_t)ldc);
                    C[q] = j >= N ? SENTINEL : NAN;
                    R[q] = j >= N ? SENTINEL : nob ? 0.0f : bias[j];
                }
                gs_sgemm_path(paths[p], ta, tb, M, N, K, 1.0f, A, lda, B, ldb, nob ? 0.0f : 1.0f, R, ldc, 1);
                cols_run r = { paths[p], ta, tb, M, N, K, lda, ldb, ldc, mode == 0 ? 1 : 2, A, B, nob ? NULL : bias, C,
                               sums, seen };
                if (mode == 2) gs_team_host(2, cols_body, &r);
                else cols_body(&r);
                size_t diff = 0, bad_seen = 0, bad_sum = 0;
                for (size_t q = 0; q < nc; q++) diff += memcmp(&C[q], &R[q], sizeof(float)) != 0;
                for (int j = 0; j < N; j++) {
                    float t = 0.0f;
                    for (int i = 0; i < M; i++) t += R[(size_t)i * ldc + j];
                    bad_seen += seen[j] != 1;
                    bad_sum += memcmp(&t, &sums[j], sizeof t) != 0;
                }
                CHECK(diff == 0 && bad_seen == 0 && bad_sum == 0, "shape %zu path %d mode %d%s: %zu elements differ, %zu "
                      "columns not handed over once, %zu handed over before all their rows were done", c, paths[p], mode,
                      nob ? " no bias" : "", diff, bad_seen, bad_sum);
                free(A); free(B); free(bias); free(C); free(R); free(sums); free(seen);
            }
}

int main(void)
{
    find_paths();
    fprintf(stderr, "gemm paths tested: %d (best %d)\n", n_paths, gs_gemm_best_path());
    RUN(test_tiny_exhaustive);
    RUN(test_random_shapes);
    RUN(test_mlp_shapes);
    RUN(test_block_edges);
    RUN(test_degenerate);
    RUN(test_threads_bitwise);
    RUN(test_act_epilogue);
    RUN(test_cols);
    RUN(test_bias);
    return FINISH();
}
