/* procrustes.c - Zaeemzadeh et al.'s Procrustes step: after each update, the
 * transition layers (the dense and 1x1 convolutions that change the width:
 * the mlp's stem in a residual net, the resnet's projection shortcuts) are
 * replaced by their scaled polar factor s U Vᵀ (W = U Σ Vᵀ), s = ||W||_F /
 * sqrt(min(rows, cols)), so every singular value becomes s and the Frobenius
 * norm stays.  The polar factor comes from Newton-Schulz iterations
 * X <- 1.5 X - 0.5 (X Xᵀ) X on the short side, started from W scaled to a
 * largest singular value of 1 (estimated by power iteration on X Xᵀ), which
 * converges for any W and in a few steps for a W already near orthogonal. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "train/procrustes.h"

#define NS_MAX_ITERS 80
#define NS_TOL 1e-5

/* G (k x k) = X Xᵀ (wide) or Xᵀ X (tall). */
static void gram(const gs_backend *be, const float *X, int r, int c, float *G, int threads)
{
    if (r <= c) be->sgemm(0, 1, r, r, c, 1.0f, X, c, X, c, 0.0f, G, r, threads);
    else be->sgemm(1, 0, c, c, r, 1.0f, X, c, X, c, 0.0f, G, c, threads);
}

static double largest_eig(const float *G, int k, double *v, double *w)
{
    for (int i = 0; i < k; i++) v[i] = 1.0 + 0.01 * (i % 7);
    double lam = 0;
    for (int it = 0; it < 30; it++) {
        double nrm = 0;
        for (int i = 0; i < k; i++) {
            double s = 0;
            for (int j = 0; j < k; j++) s += (double)G[(size_t)i * k + j] * v[j];
            w[i] = s;
            nrm += s * s;
        }
        nrm = sqrt(nrm);
        if (nrm == 0) return 0;
        double vn = 0;
        for (int i = 0; i < k; i++) vn += v[i] * v[i];
        lam = nrm / sqrt(vn);
        for (int i = 0; i < k; i++) v[i] = w[i] / nrm;
    }
    return lam * 1.02;   /* power iteration approaches from below: a margin */
}

size_t gs_procrustes_work_floats(int r, int c)
{
    const size_t k = (size_t)(r < c ? r : c);
    return k * k + (size_t)r * c + 4 * k;
}

int gs_procrustes_project(const gs_backend *be, float *W, int r, int c, float *work, int threads)
{
    const int k = r < c ? r : c;
    /* work: 2 k doubles first (aligned as the buffer is), then G (k x k), then T (r x c) */
    double *v = (double *)(void *)work, *w = v + k;
    float *G = work + 4 * (size_t)k, *T = G + (size_t)k * k;
    const size_t n = (size_t)r * c;
    double fro = 0;
    for (size_t i = 0; i < n; i++) fro += (double)W[i] * W[i];
    fro = sqrt(fro);
    if (fro == 0) return 0;
    const double s = fro / sqrt((double)k);
    gram(be, W, r, c, G, threads);
    const double lmax = largest_eig(G, k, v, w);
    if (!(lmax > 0)) return 0;
    const float scale = (float)(1.0 / sqrt(lmax));
    for (size_t i = 0; i < n; i++) W[i] *= scale;
    int it;
    for (it = 0; it < NS_MAX_ITERS; it++) {
        gram(be, W, r, c, G, threads);
        double dev = 0;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                const double d = G[(size_t)i * k + j] - (i == j);
                dev += d * d;
            }
        if (sqrt(dev / k) < NS_TOL) break;
        /* T = G X (wide) or X G (tall); X = 1.5 X - 0.5 T */
        if (r <= c) be->sgemm(0, 0, r, c, r, 1.0f, G, r, W, c, 0.0f, T, c, threads);
        else be->sgemm(0, 0, r, c, c, 1.0f, W, c, G, c, 0.0f, T, c, threads);
        for (size_t i = 0; i < n; i++) W[i] = 1.5f * W[i] - 0.5f * T[i];
    }
    for (size_t i = 0; i < n; i++) W[i] *= (float)s;
    return it;
}
