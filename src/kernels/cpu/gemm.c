/* gemm.c - the sgemm driver, its portable C path and the naive oracle.
 *
 * The driver handles the degenerate cases (empty C, K == 0, alpha == 0),
 * picks the instruction-set path, and splits C between OpenMP threads: by
 * whole packed panels of N when there are enough of them, else by rows.  Each
 * thread then runs the path's block function on its share with its own stack
 * buffer; threads share nothing but read-only A and B, so there is no barrier
 * and no heap.  Per-element arithmetic does not depend on where a share
 * starts, so any thread count gives the same bits.
 *
 * The portable path is plain C (4 x 16 register tile, packed B panels); it is
 * what non-x86 builds run and the fallback on x86 CPUs without AVX2+FMA.
 */
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/act.h"

#include <stdint.h>
#include "team.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* Below this many multiply-adds a second thread costs more than it saves. */
#define GS_GEMM_MT_MIN_MACS (1L << 20)
/* Rows per share when splitting M: a multiple of every path's micro-tile height. */
#define GS_GEMM_ROW_QUANTUM 24

void gs_sgemm_naive(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                    const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) {
                double a = trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = trans_b ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            /* beta == 0 must not read C: NaN garbage there is overwritten. */
            *c = beta == 0.0f ? (float)(alpha * s) : (float)(alpha * s + (double)beta * *c);
        }
    }
}

/* ---- portable C path ---- */

#define P_MR 4
#define P_NR GS_GEMM_NR_PORTABLE
#define P_MC 240

/* bp[k][0..P_NR) = op(B)[k0 + k][j], zero beyond column nw. */
static void p_pack_b(int trans_b, const float *B, ptrdiff_t ldb, int k0, int kc, int nw, float *bp)
{
    for (int k = 0; k < kc; k++) {
        float *dst = bp + (size_t)k * P_NR;
        for (int j = 0; j < P_NR; j++) {
            if (j >= nw) dst[j] = 0.0f;
            else dst[j] = trans_b ? B[(size_t)j * ldb + k0 + k] : B[(size_t)(k0 + k) * ldb + j];
        }
    }
}

/* C tile (mr x nw) = alpha * a-tile * bp + beta * C; a(r, k) = a[r * rs + k * cs]. */
static void p_tile(int mr, int nw, int kc, const float *a, ptrdiff_t rs, ptrdiff_t cs,
                   const float *bp, float *C, ptrdiff_t ldc, float alpha, float beta)
{
    float acc[P_MR][P_NR] = {{0.0f}};
    for (int k = 0; k < kc; k++) {
        const float *b = bp + (size_t)k * P_NR;
        for (int r = 0; r < P_MR; r++) {
            float ar = r < mr ? a[r * rs + k * cs] : 0.0f;
            for (int j = 0; j < P_NR; j++) acc[r][j] += ar * b[j];
        }
    }
    for (int r = 0; r < mr; r++) {
        float *c = C + r * ldc;
        for (int j = 0; j < nw; j++)
            c[j] = beta == 0.0f ? alpha * acc[r][j] : alpha * acc[r][j] + beta * c[j];
    }
}

void gs_gemm_block_portable(int trans_a, int trans_b, int M, int N, int K, float alpha,
                            const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                            float beta, float *C, ptrdiff_t ldc)
{
    float bp[GS_GEMM_KC * P_NR];
    int nkb = (K + GS_GEMM_KC - 1) / GS_GEMM_KC;
    for (int kb = 0; kb < nkb; kb++) {
        int k0 = (int)((long)K * kb / nkb), kc = (int)((long)K * (kb + 1) / nkb) - k0;
        float be = kb == 0 ? beta : 1.0f;
        for (int ic = 0; ic < M; ic += P_MC) {
            int mc = M - ic < P_MC ? M - ic : P_MC;
            for (int jr = 0; jr < N; jr += P_NR) {
                int nw = N - jr < P_NR ? N - jr : P_NR;
                p_pack_b(trans_b, trans_b ? B + (size_t)jr * ldb : B + jr, ldb, k0, kc, nw, bp);
                for (int ir = ic; ir < ic + mc; ir += P_MR) {
                    int mr = ic + mc - ir < P_MR ? ic + mc - ir : P_MR;
                    const float *a = trans_a ? A + (size_t)k0 * lda + ir : A + (size_t)ir * lda + k0;
                    p_tile(mr, nw, kc, a, trans_a ? 1 : lda, trans_a ? lda : 1, bp,
                           C + (size_t)ir * ldc + jr, ldc, alpha, be);
                }
            }
        }
    }
}

/* ---- driver ---- */

int gs_gemm_best_path(void)
{
#ifdef GS_GEMM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return GS_GEMM_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GS_GEMM_AVX2;
#endif
    return GS_GEMM_PORTABLE;
}

/* C = beta * C, never reading C when beta == 0. */
static void scale_c(int M, int N, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < N; j++) c[j] = 0.0f;
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) c[j] *= beta;
    }
}

/* C = the bias row in every row */
static void fill_bias_rows(int M, int N, const float *bias, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = bias[j];
}

/* What follows the product on each share of C, by the thread that computed it while the share is in its
 * cache: with s NULL, C = act(C) in place (a linear layer's sigmoid or tanh); else out = C * act'(s),
 * act' from the activation's output s (the backward of the sigmoid or tanh whose output is the layer's
 * input), out and s laid out as C (the share at C + i has them at s + i and out + i, i counted from c0),
 * out == c0 in place. */
typedef struct gs_post {
    gs_act act;
    const float *s;
    float *out;
    const float *c0;
    gs_cols_fn *cols;    /* not NULL: cols(cctx, j0, j1) for each share of whole columns of C instead */
    void *cctx;
} gs_post;

static void run_post(const void *arg, float *C, ptrdiff_t ldc, int M, int N)
{
    const gs_post *post = arg;
    if (post->cols) {   /* shares are whole columns: C is in the first row */
        const int j0 = (int)(C - post->c0);
        post->cols(post->cctx, j0, j0 + N);
        return;
    }
    if (!post->s) {
        gs_act_forward_rows(post->act, C, (size_t)ldc, (size_t)M, (size_t)N);
        return;
    }
    const ptrdiff_t i = C - post->c0;
    gs_act_backward_rows(post->act, post->s + i, C, post->out + i, (size_t)ldc, (size_t)M, (size_t)N);
}

/* fn on one share; with a bias (not NULL: the row added to C, beta unused) the AVX-512 and AVX2 blocks
 * add it as they store, the portable one after a copy of it into the share's rows, with beta 1.  Then
 * post on the share, unless NULL: the AVX-512 and AVX2 blocks run it on each panel as they finish it,
 * except on whole rows (one thread), where one flat pass after the product is faster. */
static void run_block(gs_gemm_block_fn *fn, int trans_a, int trans_b, int M, int N, int K, float alpha,
                      const float *A, int lda, const float *B, int ldb, float beta, const float *bias,
                      const gs_post *post, float *C, int ldc)
{
    const int per_panel = post && N < ldc && M <= GS_GEMM_POST_MAX_ROWS;
#ifdef GS_GEMM_X86
    if ((fn == gs_gemm_block_avx512 || fn == gs_gemm_block_avx2) && (bias || per_panel)) {
        (fn == gs_gemm_block_avx512 ? gs_gemm_block_post_avx512 : gs_gemm_block_post_avx2)(
            trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias, C, ldc, per_panel ? run_post : NULL, post);
        if (post && !per_panel) run_post(post, C, ldc, M, N);
        return;
    }
#endif
    if (bias) {
        fill_bias_rows(M, N, bias, C, ldc);
        beta = 1.0f;
    }
    fn(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (post) run_post(post, C, ldc, M, N);
}

#ifdef _OPENMP
/* Share t of T: columns in whole panels of nr when there are at least T
 * panels, else rows in multiples of GS_GEMM_ROW_QUANTUM. */
static void run_share(gs_gemm_block_fn *fn, int nr, int t, int T, int trans_a, int trans_b,
                      int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                      float beta, const float *bias, const gs_post *post, float *C, int ldc)
{
    int panels = (N + nr - 1) / nr;
    if (T <= 1) {
        run_block(fn, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias, post, C, ldc);
    } else if (panels >= T) {
        int j0 = (int)((long)panels * t / T) * nr, j1 = (int)((long)panels * (t + 1) / T) * nr;
        if (j1 > N) j1 = N;
        if (j0 >= j1) return;
        run_block(fn, trans_a, trans_b, M, j1 - j0, K, alpha, A, lda, trans_b ? B + (size_t)j0 * ldb : B + j0, ldb,
                  beta, bias ? bias + j0 : NULL, post, C + j0, ldc);
    } else {
        int q = GS_GEMM_ROW_QUANTUM, blocks = (M + q - 1) / q;
        int i0 = (int)((long)blocks * t / T) * q, i1 = (int)((long)blocks * (t + 1) / T) * q;
        if (i1 > M) i1 = M;
        if (i0 >= i1) return;
        run_block(fn, trans_a, trans_b, i1 - i0, N, K, alpha, trans_a ? A + i0 : A + (size_t)i0 * lda, lda, B, ldb,
                  beta, bias, post, C + (size_t)i0 * ldc, ldc);
    }
}

/* run_share as a team job.  Two threads on whole panels share them from both ends (gs_team_ends),
 * so the thread on the slower vCPU does fewer.  Every panel of C is the same computation whoever
 * does it, so the bits are those of run_share. */
typedef struct share_job {
    gs_gemm_block_fn *fn;
    int nr, nt, trans_a, trans_b, M, N, K, lda, ldb, ldc;
    float alpha, beta;
    const float *A, *B, *bias;
    const gs_post *post;
    float *C;
    _Atomic uint64_t middle;   /* gs_team_ends' count */
} share_job;

static void run_panels(void *arg, int p0, int p1)
{
    const share_job *j = arg;
    const int j0 = p0 * j->nr, j1 = p1 * j->nr < j->N ? p1 * j->nr : j->N;
    run_block(j->fn, j->trans_a, j->trans_b, j->M, j1 - j0, j->K, j->alpha, j->A, j->lda,
              j->trans_b ? j->B + (size_t)j0 * j->ldb : j->B + j0, j->ldb, j->beta, j->bias ? j->bias + j0 : NULL,
              j->post, j->C + j0, j->ldc);
}

static int share_panels(int N, int nr) { return (N + nr - 1) / nr; }

static void share_job_run(void *arg, int t, int T)
{
    share_job *j = arg;
    (void)T;
    if (t >= j->nt) return;
    const int panels = share_panels(j->N, j->nr);
    if (j->nt == 2 && panels >= 4) gs_team_ends(t, panels, &j->middle, run_panels, j);
    else run_share(j->fn, j->nr, t, j->nt, j->trans_a, j->trans_b, j->M, j->N, j->K, j->alpha, j->A, j->lda,
                   j->B, j->ldb, j->beta, j->bias, j->post, j->C, j->ldc);
}
#endif

/* gs_sgemm_path, and with bias not NULL gs_sgemm_bias_path (alpha 1, beta unused); act applied to C
 * (gs_sgemm_act_path) */
static void sgemm_run(int path, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, const float *bias, const gs_post *post, float *C,
                      int ldc, int threads)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        if (!bias) scale_c(M, N, beta, C, ldc);
        else fill_bias_rows(M, N, bias, C, ldc);
        if (post) run_post(post, C, ldc, M, N);
        return;
    }
    int best = gs_gemm_best_path();
    if (path > best) path = best;
    gs_gemm_block_fn *fn = gs_gemm_block_portable;
    int nr = GS_GEMM_NR_PORTABLE;
#ifdef GS_GEMM_X86
    if (path == GS_GEMM_AVX512) {
        fn = gs_gemm_block_avx512;
        nr = GS_GEMM_NR_AVX512;
    } else if (path == GS_GEMM_AVX2) {
        fn = gs_gemm_block_avx2;
        nr = GS_GEMM_NR_AVX2;
    }
#endif
    /* Threads: only if the work pays for the fork, and no more than there are
     * panels of N or row quanta of M to hand out. */
    int nt = threads < 1 ? 1 : threads;
    if ((long)M * N * K < GS_GEMM_MT_MIN_MACS) nt = 1;
    int panels = (N + nr - 1) / nr, quanta = (M + GS_GEMM_ROW_QUANTUM - 1) / GS_GEMM_ROW_QUANTUM;
    int most = panels > quanta ? panels : quanta;
    if (nt > most) nt = most;
    if (post && post->cols && panels < nt) nt = 1;   /* cols takes whole columns: no split by rows */
#ifdef _OPENMP
    if (nt > 1 && gs_team_size() > 1) {
        if (nt > gs_team_size()) nt = gs_team_size();
        share_job j = { fn, nr, nt, trans_a, trans_b, M, N, K, lda, ldb, ldc, alpha, beta, A, B, bias, post, C, 0 };
        atomic_init(&j.middle, gs_team_ends_start(share_panels(N, nr)));
        gs_team_run(share_job_run, &j);
        return;
    }
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        run_share(fn, nr, omp_get_thread_num(), omp_get_num_threads(), trans_a, trans_b, M, N, K, alpha,
                  A, lda, B, ldb, beta, bias, post, C, ldc);
        return;
    }
#endif
    run_block(fn, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias, post, C, ldc);
}

void gs_sgemm_path(int path, int trans_a, int trans_b, int M, int N, int K, float alpha,
                   const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc,
                   int threads)
{
    sgemm_run(path, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, NULL, NULL, C, ldc, threads);
}

void gs_sgemm_bias_path(int path, int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, const float *bias, float *C, int ldc, int threads)
{
    sgemm_run(path, trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, 1.0f, bias, NULL, C, ldc, threads);
}

void gs_sgemm_act_path(int path, int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                       const float *B, int ldb, const float *bias, gs_act act, float *C, int ldc, int threads)
{
    const gs_post post = { act, NULL, NULL, C, NULL, NULL };
    sgemm_run(path, trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, bias ? 1.0f : 0.0f, bias,
              act != GS_ACT_IDENTITY ? &post : NULL, C, ldc, threads);
}

void gs_sgemm_dact_path(int path, int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, gs_act act, const float *s, float *C, float *out, int ldc, int threads)
{
    const gs_post post = { act, s, out, C, NULL, NULL };
    sgemm_run(path, trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, NULL, &post, C, ldc, threads);
}

void gs_sgemm_cols_path(int path, int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, const float *bias, float *C, int ldc, int threads, gs_cols_fn *cols,
                        void *ctx)
{
    const gs_post post = { GS_ACT_IDENTITY, NULL, NULL, C, cols, ctx };
    sgemm_run(path, trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, bias ? 1.0f : 0.0f, bias, &post, C, ldc, threads);
}

int gs_conv_gemm(int trans, int M, const float *A, int lda, int C, int H, int W, int kh, int kw, int pad, int g,
                 const float *x, float beta, float *Cm, int ldc)
{
#ifdef GS_GEMM_X86
    const int path = gs_gemm_best_path(), Ho = H + 2 * pad - kh + 1;
    if (path != GS_GEMM_AVX512 || kw != 2 * pad + 1 || kh * kw > GS_CONV_IMPLICIT_MAX_TAPS ||
        Ho < 1 || (long)Ho * W < GS_CONV_IMPLICIT_MIN_PIXELS || M < 1 || g < 1 || C < 1)
        return 0;
    const gs_conv_geom geo = { C, H, W, kh, kw, pad, g };
    gs_conv_gemm_avx512(trans, M, A, lda, &geo, x, beta, Cm, ldc);
    return 1;
#else
    (void)trans; (void)M; (void)A; (void)lda; (void)C; (void)H; (void)W; (void)kh; (void)kw; (void)pad; (void)g;
    (void)x; (void)beta; (void)Cm; (void)ldc;
    return 0;
#endif
}

int gs_conv3x3(int g, int C, int H, int W, int O, const float *x, const float *wd, const float *bias,
               const uint16_t *masks, float *y, int accumulate)
{
#ifdef GS_GEMM_X86
    const int path = gs_gemm_best_path();
    if (path == GS_GEMM_AVX512) return gs_conv3x3_avx512(g, C, H, W, O, x, wd, bias, masks, y, accumulate);
    if (path == GS_GEMM_AVX2) return gs_conv3x3_avx2(g, C, H, W, O, x, wd, bias, y, accumulate);
#endif
    (void)g; (void)C; (void)H; (void)W; (void)O; (void)x; (void)wd; (void)bias; (void)masks; (void)y; (void)accumulate;
    return 0;
}

size_t gs_conv3x3_dw_work(int C, int H, int W, int O)
{
#ifdef GS_GEMM_X86
    if (gs_gemm_best_path() == GS_GEMM_AVX2) return gs_conv3x3_dw_avx2_work(C, H, W, O);
#endif
    /* x with a zero border, dy transposed for 16 channels, the sums (O x C 9), 64-byte alignment */
    return (size_t)C * (size_t)(H + 2) * (size_t)(W + 2) + (size_t)16 * H * W + (size_t)O * 9 * C + 16;
}

int gs_conv3x3_dw(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw, int accumulate,
                  float *work, size_t work_floats)
{
#ifdef GS_GEMM_X86
    const int path = gs_gemm_best_path();
    if (path == GS_GEMM_AVX512) return gs_conv3x3_dw_avx512(g, C, H, W, O, x, dy, dw, accumulate, work, work_floats);
    if (path == GS_GEMM_AVX2) return gs_conv3x3_dw_avx2(g, C, H, W, O, x, dy, dw, accumulate, work, work_floats);
#endif
    (void)g; (void)C; (void)H; (void)W; (void)O; (void)x; (void)dy; (void)dw; (void)accumulate; (void)work;
    (void)work_floats;
    return 0;
}

int gs_conv3x3s2_fits(int C, int H, int W, int O)
{
    const long Ho = H / 2, Wo = W / 2;
    return C >= 1 && H % 2 == 0 && W % 2 == 0 && Wo < GS_CONV3X3S2_ROW / 4 && Ho * Wo >= GS_CONV3X3S2_MIN_PIXELS &&
           Ho * Wo <= GS_CONV3X3_MAX_PIXELS && O % 16 == 0 && C % 8 == 0;
}

size_t gs_conv3x3s2_work(int C, int H, int W, int O)
{
    /* forward and dx: the four phase images and the weights rearranged; dW: x's bordered phase rows
     * (gs_conv3x3s2_dw_avx512), dy transposed for 16 channels, the sums, 64-byte alignment */
    const size_t HWo = (size_t)(H / 2) * (size_t)(W / 2), wts = (size_t)9 * C * O;
    const size_t a = 4 * (size_t)C * HWo + wts, b = (size_t)C * (size_t)(H / 2 + 1) * GS_CONV3X3S2_ROW + 16 * HWo + wts + 16;
    return a > b ? a : b;
}

int gs_conv3x3s2(int g, int C, int H, int W, int O, const float *x, const float *w, const float *bias, float *y,
                 int accumulate, float *work, size_t work_floats)
{
#ifdef GS_GEMM_X86
    if (gs_gemm_best_path() == GS_GEMM_AVX512)
        return gs_conv3x3s2_avx512(g, C, H, W, O, x, w, bias, y, accumulate, work, work_floats);
#endif
    (void)g; (void)C; (void)H; (void)W; (void)O; (void)x; (void)w; (void)bias; (void)y; (void)accumulate; (void)work;
    (void)work_floats;
    return 0;
}

int gs_conv3x3s2_dx(int g, int C, int H, int W, int O, const float *dy, const float *w, float *dx, int accumulate,
                    float *work, size_t work_floats)
{
#ifdef GS_GEMM_X86
    if (gs_gemm_best_path() == GS_GEMM_AVX512)
        return gs_conv3x3s2_dx_avx512(g, C, H, W, O, dy, w, dx, accumulate, work, work_floats);
#endif
    (void)g; (void)C; (void)H; (void)W; (void)O; (void)dy; (void)w; (void)dx; (void)accumulate; (void)work;
    (void)work_floats;
    return 0;
}

int gs_conv3x3s2_dw(int g, int C, int H, int W, int O, const float *x, const float *dy, float *dw, int accumulate,
                    float *work, size_t work_floats)
{
#ifdef GS_GEMM_X86
    if (gs_gemm_best_path() == GS_GEMM_AVX512)
        return gs_conv3x3s2_dw_avx512(g, C, H, W, O, x, dy, dw, accumulate, work, work_floats);
#endif
    (void)g; (void)C; (void)H; (void)W; (void)O; (void)x; (void)dy; (void)dw; (void)accumulate; (void)work;
    (void)work_floats;
    return 0;
}

int gs_wino3x3_fits(int C, int H, int W, int O)
{
    return H >= 2 && W >= 2 && H % 2 == 0 && W % 2 == 0 && W <= 32 && (long)H * W >= GS_CONV3X3_MIN_PIXELS &&
           (long)H * W <= GS_CONV3X3_MAX_PIXELS && C >= 8 && O >= 8 && O % 8 == 0;
}

size_t gs_wino3x3_filter_floats(int C, int O) { return (size_t)16 * C * O; }

/* V and M of one block of tile rows (gs_wino3x3_avx512): at most GS_WINO_BLOCK_TILES tiles */
size_t gs_wino3x3_work(int C, int H, int W, int O)
{
    (void)H; (void)W;
    return (size_t)16 * ((size_t)C + O) * GS_WINO_BLOCK_TILES;
}

/* U[xi][c][o] = (G g Gᵀ)[xi], G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]], g the 3x3
 * filter from input channel c to output channel o. */
void gs_wino3x3_filter(int C, int O, const float *w, int flip, float *U)
{
    for (int o = 0; o < O; o++)
        for (int c = 0; c < C; c++) {
            float g[9];
            for (int t = 0; t < 9; t++)   /* flip: w is (C, O, 3, 3) of the layer, taps reversed */
                g[t] = flip ? w[((size_t)c * O + o) * 9 + 8 - t] : w[((size_t)o * C + c) * 9 + t];
            float r[4][3];
            for (int j = 0; j < 3; j++) {
                r[0][j] = g[j];
                r[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                r[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                r[3][j] = g[6 + j];
            }
            for (int i = 0; i < 4; i++) {
                const float u[4] = { r[i][0], 0.5f * (r[i][0] + r[i][1] + r[i][2]),
                                     0.5f * (r[i][0] - r[i][1] + r[i][2]), r[i][2] };
                for (int j = 0; j < 4; j++) U[((size_t)(i * 4 + j) * C + c) * O + o] = u[j];
            }
        }
}

int gs_wino3x3(int g, int C, int H, int W, int O, const float *x, const float *U, const float *bias, float *y,
               int accumulate, float *work, size_t work_floats)
{
#ifdef GS_GEMM_X86
    if (gs_gemm_best_path() == GS_GEMM_AVX512)
        return gs_wino3x3_avx512(g, C, H, W, O, x, U, bias, y, accumulate, work, work_floats);
#endif
    (void)g; (void)C; (void)H; (void)W; (void)O; (void)x; (void)U; (void)bias; (void)y; (void)accumulate;
    (void)work; (void)work_floats;
    return 0;
}

size_t gs_conv3x3_masks_len(int H, int W) { return (size_t)((H * W + 15) / 16) * 9; }

void gs_conv3x3_masks(int H, int W, uint16_t *masks)
{
    const int HW = H * W, blocks = (HW + 15) / 16;
    for (int b = 0; b < blocks; b++)
        for (int t = 0; t < 9; t++) {
            unsigned m = 0;
            for (int l = 0; l < 16 && b * 16 + l < HW; l++) {
                const int p = b * 16 + l, hh = p / W + t / 3 - 1, ww = p % W + t % 3 - 1;
                if (hh >= 0 && hh < H && ww >= 0 && ww < W) m |= 1u << l;
            }
            masks[b * 9 + t] = (uint16_t)m;
        }
}

void gs_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc, int threads)
{
    gs_sgemm_path(GS_GEMM_AVX512, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads);
}

void gs_sgemm_bias(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                   const float *bias, float *C, int ldc, int threads)
{
    gs_sgemm_bias_path(GS_GEMM_AVX512, trans_a, trans_b, M, N, K, A, lda, B, ldb, bias, C, ldc, threads);
}

void gs_sgemm_act(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                  const float *bias, gs_act act, float *C, int ldc, int threads)
{
    gs_sgemm_act_path(GS_GEMM_AVX512, trans_a, trans_b, M, N, K, A, lda, B, ldb, bias, act, C, ldc, threads);
}

void gs_sgemm_dact(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                   gs_act act, const float *s, float *C, float *out, int ldc, int threads)
{
    gs_sgemm_dact_path(GS_GEMM_AVX512, trans_a, trans_b, M, N, K, A, lda, B, ldb, act, s, C, out, ldc, threads);
}

void gs_sgemm_cols(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                   const float *bias, float *C, int ldc, int threads, gs_cols_fn *cols, void *ctx)
{
    gs_sgemm_cols_path(GS_GEMM_AVX512, trans_a, trans_b, M, N, K, A, lda, B, ldb, bias, C, ldc, threads, cols, ctx);
}
