/* jacobian.c - the spectrum of ∂h_L/∂h_0 (dynamical isometry, DESIGN.md §2).
 *
 * Products: J v runs the nodes from h_0 to h_L forward on tangents (each
 * layer's jvp), Jᵀ u runs them backward on cotangents (each layer's own
 * backward, adding into zeroed buffers, parameter gradients to a scratch
 * block).  Largest singular values: Golub–Kahan–Lanczos with full
 * reorthogonalisation of both bases (classical Gram–Schmidt twice), every
 * sample its own recurrence but all samples in one batched product; the
 * bidiagonal matrix's SVD is a one-sided Jacobi SVD.  Hutchinson's estimate of
 * Σσ² takes the converged Ritz directions' part exactly and samples only the
 * rest (random signs projected away from them).  A recurrence that breaks
 * down (an invariant subspace, rank below the steps) restarts from a random
 * vector orthogonal to the basis, with a zero coefficient.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "probe/jacobian.h"
#include "probe/paths.h"
#include "probe/probe.h"

struct gs_jac {
    gs_model *m;
    int N;
    int first, last;         /* nodes [first, last] */
    int h0, hL;              /* value ids */
    int residual;
    int64_t din, dout;
    int *map;                /* value id -> buffer, -1 outside the range */
    float **buf;
    int nbuf;
    float *grads;            /* scratch parameter gradients */
    gs_exec e;
};

void gs_jac_free(gs_jac *J)
{
    if (!J) return;
    for (int i = 0; J->buf && i < J->nbuf; i++) free(J->buf[i]);
    free(J->buf); free(J->map); free(J->grads);
    free(J);
}

int64_t gs_jac_in_features(const gs_jac *J) { return J->din; }
int64_t gs_jac_out_features(const gs_jac *J) { return J->dout; }
int gs_jac_residual(const gs_jac *J) { return J->residual; }

int gs_jac_prepare(gs_model *m, const float *x, int N, gs_jac **out)
{
    *out = NULL;
    int h0, hL, residual;
    if (m->n_block_in >= 2) { h0 = m->block_in[0]; hL = m->block_in[m->n_block_in - 1]; residual = 1; }
    else if (m->n_plain_in >= 2) { h0 = m->plain_in[0]; hL = m->plain_in[m->n_plain_in - 1]; residual = 0; }
    else return gs_error(m->ctx, GS_EINVAL, "jacobian: the %s network has neither residual blocks nor same-shape "
                         "layers between which to take it", m->cfg.family);
    if (N < 1 || N > m->max_batch)
        return gs_error(m->ctx, GS_EINVAL, "jacobian: %d samples (the network was built for 1 to %d)", N, m->max_batch);
    gs_jac *J = calloc(1, sizeof *J);
    if (!J) return gs_error(m->ctx, GS_ENOMEM, "jacobian: out of memory");
    J->m = m; J->N = N; J->h0 = h0; J->hL = hL; J->residual = residual;
    J->first = gs_model_producer(m, h0) + 1;
    J->last = gs_model_producer(m, hL);
    J->din = m->values[h0].features; J->dout = m->values[hL].features;
    J->map = malloc((size_t)m->n_values * sizeof *J->map);
    J->buf = calloc((size_t)(J->last - J->first + 2), sizeof *J->buf);
    J->grads = malloc((m->n_params ? m->n_params : 1) * sizeof(float));
    if (!J->map || !J->buf || !J->grads) { gs_jac_free(J); return gs_error(m->ctx, GS_ENOMEM, "jacobian: out of memory"); }
    for (int v = 0; v < m->n_values; v++) J->map[v] = -1;
    J->map[h0] = J->nbuf++;
    for (int i = J->first; i <= J->last; i++) {
        const gs_node *n = &m->nodes[i];
        for (int k = 0; k < 2; k++)
            if (n->in[k] >= 0 && J->map[n->in[k]] < 0) {
                gs_jac_free(J);
                return gs_error(m->ctx, GS_EINVAL, "jacobian: node %d (%s) reads a value from outside h_0..h_L", i,
                                n->ops->kind);
            }
        if (!n->ops->jvp) {
            gs_jac_free(J);
            return gs_error(m->ctx, GS_EINVAL, "jacobian: a %s layer between h_0 and h_L has no forward-mode product",
                            n->ops->kind);
        }
        J->map[n->out] = J->nbuf++;
    }
    for (int v = 0; v < m->n_values; v++) {
        if (J->map[v] < 0) continue;
        if (!(J->buf[J->map[v]] = malloc((size_t)N * (size_t)m->values[v].features * sizeof(float)))) {
            gs_jac_free(J);
            return gs_error(m->ctx, GS_ENOMEM, "jacobian: out of memory");
        }
    }
    const int training = m->training;
    gs_model_set_training(m, 0);
    int rc = gs_model_forward(m, x, N);
    gs_model_set_training(m, training);
    if (rc) { gs_jac_free(J); return rc; }
    J->e.be = m->be; J->e.threads = gs_ctx_threads(m->ctx); J->e.N = N;
    J->e.params = m->params; J->e.grads = J->grads; J->e.buffers = m->buffers;
    *out = J;
    return GS_OK;
}

static float *tan_of(gs_jac *J, int v) { return J->buf[J->map[v]]; }

void gs_jac_jvp(gs_jac *J, const float *v, float *u)
{
    gs_model *m = J->m;
    memcpy(tan_of(J, J->h0), v, (size_t)J->N * (size_t)J->din * sizeof *v);
    for (int i = J->first; i <= J->last; i++) {
        gs_node *n = &m->nodes[i];
        n->ops->jvp(&J->e, n, gs_node_input(m, n, 0), gs_node_input(m, n, 1), m->values[n->out].data,
                    tan_of(J, n->in[0]), n->in[1] >= 0 ? tan_of(J, n->in[1]) : NULL, tan_of(J, n->out));
    }
    memcpy(u, tan_of(J, J->hL), (size_t)J->N * (size_t)J->dout * sizeof *u);
}

void gs_jac_vjp(gs_jac *J, const float *u, float *v)
{
    gs_model *m = J->m;
    for (int v0 = 0; v0 < m->n_values; v0++)
        if (J->map[v0] >= 0 && v0 != J->hL)
            memset(tan_of(J, v0), 0, (size_t)J->N * (size_t)m->values[v0].features * sizeof(float));
    memcpy(tan_of(J, J->hL), u, (size_t)J->N * (size_t)J->dout * sizeof *u);
    for (int i = J->last; i >= J->first; i--) {
        gs_node *n = &m->nodes[i];
        const int acc0 = n->acc[0], acc1 = n->acc[1];
        n->acc[0] = n->acc[1] = 1;           /* every cotangent starts at zero */
        n->ops->backward(&J->e, n, gs_node_input(m, n, 0), gs_node_input(m, n, 1), m->values[n->out].data,
                         tan_of(J, n->out), tan_of(J, n->in[0]), n->in[1] >= 0 ? tan_of(J, n->in[1]) : NULL);
        n->acc[0] = acc0; n->acc[1] = acc1;
    }
    memcpy(v, tan_of(J, J->h0), (size_t)J->N * (size_t)J->din * sizeof *v);
}

/* ---- dense SVD ---- */

int gs_svd_jacobi(double *A, int rows, int cols, double *sv, double *V)
{
    if (V)
        for (int j = 0; j < cols; j++)
            for (int i = 0; i < cols; i++) V[(size_t)j * cols + i] = i == j;
    int sweep;
    for (sweep = 1; sweep <= 80; sweep++) {
        int rotated = 0;
        for (int p = 0; p < cols - 1; p++)
            for (int q = p + 1; q < cols; q++) {
                double *ap = A + (size_t)p * rows, *aq = A + (size_t)q * rows;
                double a = 0, b = 0, g = 0;
                for (int i = 0; i < rows; i++) { a += ap[i] * ap[i]; b += aq[i] * aq[i]; g += ap[i] * aq[i]; }
                if (g == 0 || fabs(g) <= 1e-15 * sqrt(a * b)) continue;
                rotated = 1;
                const double zeta = (b - a) / (2 * g);
                const double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1 + zeta * zeta));
                const double c = 1 / sqrt(1 + t * t), s = c * t;
                for (int i = 0; i < rows; i++) {
                    const double xp = ap[i], xq = aq[i];
                    ap[i] = c * xp - s * xq; aq[i] = s * xp + c * xq;
                }
                if (V) {
                    double *vp = V + (size_t)p * cols, *vq = V + (size_t)q * cols;
                    for (int i = 0; i < cols; i++) {
                        const double xp = vp[i], xq = vq[i];
                        vp[i] = c * xp - s * xq; vq[i] = s * xp + c * xq;
                    }
                }
            }
        if (!rotated) break;
    }
    for (int j = 0; j < cols; j++) {
        double s = 0;
        for (int i = 0; i < rows; i++) s += A[(size_t)j * rows + i] * A[(size_t)j * rows + i];
        sv[j] = sqrt(s);
    }
    /* descending, columns along */
    for (int j = 0; j < cols; j++) {
        int best = j;
        for (int k = j + 1; k < cols; k++) if (sv[k] > sv[best]) best = k;
        if (best == j) continue;
        const double t = sv[j]; sv[j] = sv[best]; sv[best] = t;
        for (int i = 0; i < rows; i++) {
            const double x = A[(size_t)j * rows + i];
            A[(size_t)j * rows + i] = A[(size_t)best * rows + i]; A[(size_t)best * rows + i] = x;
        }
        for (int i = 0; V && i < cols; i++) {
            const double x = V[(size_t)j * cols + i];
            V[(size_t)j * cols + i] = V[(size_t)best * cols + i]; V[(size_t)best * cols + i] = x;
        }
    }
    return sweep;
}

/* ---- the spectrum ---- */

void gs_jacobian_config_default(gs_jacobian_config *c)
{
    memset(c, 0, sizeof *c);
    c->top = 5; c->steps = 0; c->probes = 32; c->full = 0; c->seed = 42;
}

void gs_jacobian_result_free(gs_jacobian_result *r)
{
    if (!r) return;
    free(r->top_sv); free(r->top_residual); free(r->mean_sq); free(r->mean_sq_stderr);
    free(r->full_sv); free(r->full_mean_sq);
    memset(r, 0, sizeof *r);
}

/* Per-sample vector algebra over (N, d) blocks. */
static void dots(const float *a, const float *b, int N, int64_t d, double *out)
{
    for (int s = 0; s < N; s++) {
        const float *x = a + (size_t)s * d, *y = b + (size_t)s * d;
        double acc = 0;
        for (int64_t i = 0; i < d; i++) acc += (double)x[i] * y[i];
        out[s] = acc;
    }
}

/* x -= Σ_i <Q_i[s], x> Q_i[s] (Gram–Schmidt, `passes` times), x sample s's vector (d floats). */
static void orth_sample(float *const *Q, int k, float *x, int s, int64_t d, int passes)
{
    for (int pass = 0; pass < passes; pass++)
        for (int i = 0; i < k; i++) {
            const float *q = Q[i] + (size_t)s * d;
            double acc = 0;
            for (int64_t t = 0; t < d; t++) acc += (double)q[t] * x[t];
            const float c = (float)acc;
            for (int64_t t = 0; t < d; t++) x[t] -= c * q[t];
        }
}

/* Every sample's w against Q[0..k), twice. */
static void reorth(float *const *Q, int k, float *w, int N, int64_t d)
{
    for (int s = 0; s < N; s++) orth_sample(Q, k, w + (size_t)s * d, s, d, 2);
}

static void random_normal(gs_rng *r, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)gs_rng_normal(r);
}

/* Normalise each sample's w; where its norm is below tol[s] (a breakdown)
 * put a fresh random unit vector orthogonal to Q[0..k) there and report 0. */
static void normalise(gs_rng *r, float *const *Q, int k, float *w, int N, int64_t d, const double *tol, double *nrm)
{
    dots(w, w, N, d, nrm);
    for (int s = 0; s < N; s++) {
        nrm[s] = sqrt(nrm[s]);
        float *x = w + (size_t)s * d;
        if (nrm[s] > tol[s] && nrm[s] > 0) {
            const float inv = (float)(1.0 / nrm[s]);
            for (int64_t t = 0; t < d; t++) x[t] *= inv;
            continue;
        }
        nrm[s] = 0;
        for (int tries = 0; tries < 3; tries++) {
            random_normal(r, x, (size_t)d);
            orth_sample(Q, k, x, s, d, 2);
            double n2 = 0;
            for (int64_t t = 0; t < d; t++) n2 += (double)x[t] * x[t];
            if (n2 > 1e-6 * (double)d) {
                const float inv = (float)(1.0 / sqrt(n2));
                for (int64_t t = 0; t < d; t++) x[t] *= inv;
                break;
            }
        }
    }
}

/* The converged right singular vectors Lanczos found: Hutchinson's estimator
 * takes their part of Σσ² exactly and samples only the rest, which removes
 * most of its variance when a few directions dominate the spectrum. */
typedef struct deflation {
    float **r;               /* (kmax) vectors (N, in): r[i] + s in is sample s's i-th, if i < k[s] */
    int *k;                  /* (N) converged vectors of each sample */
    double *sq;              /* (N) Σ σ_i² over them */
    int kmax;
} deflation;

static void deflation_free(deflation *d)
{
    for (int i = 0; d->r && i < d->kmax; i++) free(d->r[i]);
    free(d->r); free(d->k); free(d->sq);
    memset(d, 0, sizeof *d);
}

/* Golub–Kahan–Lanczos: the top singular values and their residuals, per
 * sample, and the converged right singular vectors into *d. */
static int lanczos(gs_jac *J, const gs_jacobian_config *c, int steps, gs_jacobian_result *out, deflation *d)
{
    const int N = J->N, m = steps;
    const int64_t din = J->din, dout = J->dout;
    float **V = calloc((size_t)m + 1, sizeof *V), **U = calloc((size_t)m, sizeof *U);
    double *alpha = calloc((size_t)N * m, sizeof *alpha), *beta = calloc((size_t)N * (m + 1), sizeof *beta);
    double *nrm = malloc((size_t)N * sizeof *nrm);
    double *tol = calloc((size_t)N, sizeof *tol), *B = malloc((size_t)m * m * sizeof *B);
    double *sv = malloc((size_t)m * sizeof *sv), *Y = malloc((size_t)m * m * sizeof *Y);
    d->kmax = m;
    d->r = calloc((size_t)m, sizeof *d->r);
    d->k = calloc((size_t)N, sizeof *d->k);
    d->sq = calloc((size_t)N, sizeof *d->sq);
    int ok = V && U && alpha && beta && nrm && tol && B && sv && Y && d->r && d->k && d->sq;
    for (int j = 0; ok && j < m; j++) ok = (d->r[j] = calloc((size_t)N * din, sizeof(float))) != NULL;
    for (int j = 0; ok && j <= m; j++) ok = (V[j] = malloc((size_t)N * din * sizeof(float))) != NULL;
    for (int j = 0; ok && j < m; j++) ok = (U[j] = malloc((size_t)N * dout * sizeof(float))) != NULL;
    int rc = ok ? GS_OK : gs_error(J->m->ctx, GS_ENOMEM, "jacobian: out of memory (%d Lanczos steps)", m);
    if (rc == GS_OK) {
        gs_rng r;
        gs_rng_seed(&r, c->seed);
        random_normal(&r, V[0], (size_t)N * din);
        normalise(&r, V, 0, V[0], N, din, tol, nrm);
        for (int j = 0; j < m; j++) {
            gs_jac_jvp(J, V[j], U[j]);
            if (j > 0)
                for (int s = 0; s < N; s++) {
                    float *x = U[j] + (size_t)s * dout;
                    const float *p = U[j - 1] + (size_t)s * dout;
                    const float b = (float)beta[(size_t)s * (m + 1) + j];
                    for (int64_t t = 0; t < dout; t++) x[t] -= b * p[t];
                }
            reorth(U, j, U[j], N, dout);
            normalise(&r, U, j, U[j], N, dout, tol, nrm);
            for (int s = 0; s < N; s++) {
                alpha[(size_t)s * m + j] = nrm[s];
                if (nrm[s] * 1e-6 > tol[s]) tol[s] = nrm[s] * 1e-6;
            }
            gs_jac_vjp(J, U[j], V[j + 1]);
            for (int s = 0; s < N; s++) {
                float *x = V[j + 1] + (size_t)s * din;
                const float *p = V[j] + (size_t)s * din;
                const float a = (float)alpha[(size_t)s * m + j];
                for (int64_t t = 0; t < din; t++) x[t] -= a * p[t];
            }
            reorth(V, j + 1, V[j + 1], N, din);
            normalise(&r, V, j + 1, V[j + 1], N, din, tol, nrm);
            for (int s = 0; s < N; s++) {
                beta[(size_t)s * (m + 1) + j + 1] = nrm[s];
                if (nrm[s] * 1e-6 > tol[s]) tol[s] = nrm[s] * 1e-6;
            }
        }
        /* B (m x m, upper bidiagonal) per sample; residual of Ritz pair i: β_m |x_i[m-1]| */
        for (int s = 0; s < N; s++) {
            memset(B, 0, (size_t)m * m * sizeof *B);
            for (int j = 0; j < m; j++) {
                B[(size_t)j * m + j] = alpha[(size_t)s * m + j];
                if (j + 1 < m) B[(size_t)(j + 1) * m + j] = beta[(size_t)s * (m + 1) + j + 1];
            }
            gs_svd_jacobi(B, m, m, sv, Y);
            const double bm = beta[(size_t)s * (m + 1) + m];
            for (int i = 0; i < m && sv[0] > 0; i++) {
                const double res = bm * fabs(B[(size_t)i * m + m - 1]) / (sv[i] > 0 ? sv[i] : 1);
                if (sv[i] <= 0 || res > 1e-4 * sv[0]) continue;
                float *dst = d->r[d->k[s]] + (size_t)s * din;
                for (int j = 0; j < m; j++) {
                    const float y = (float)Y[(size_t)i * m + j], *src = V[j] + (size_t)s * din;
                    for (int64_t t = 0; t < din; t++) dst[t] += y * src[t];
                }
                d->sq[s] += sv[i] * sv[i];
                d->k[s]++;
            }
            for (int i = 0; i < c->top; i++) {
                const int ok_i = i < m;
                out->top_sv[(size_t)s * c->top + i] = ok_i ? sv[i] : NAN;
                out->top_residual[(size_t)s * c->top + i] =
                    ok_i && sv[i] > 0 ? bm * fabs(B[(size_t)i * m + m - 1]) / sv[i] : (ok_i ? 0 : NAN);
            }
        }
    }
    for (int j = 0; V && j <= m; j++) free(V[j]);
    for (int j = 0; U && j < m; j++) free(U[j]);
    free(V); free(U); free(alpha); free(beta); free(nrm); free(tol); free(B); free(sv); free(Y);
    return rc;
}

/* Hutchinson: Σσ² = Σ_defl σ_i² + E‖J P z‖², z of random signs, P the
 * projection away from the deflated vectors. */
static int hutchinson(gs_jac *J, const gs_jacobian_config *c, const deflation *d, gs_jacobian_result *out)
{
    const int N = J->N;
    const int64_t din = J->din, dout = J->dout;
    const double dmin = (double)(din < dout ? din : dout);
    float *z = malloc((size_t)N * din * sizeof *z), *u = malloc((size_t)N * dout * sizeof *u);
    double *n2 = malloc((size_t)N * sizeof *n2), *sq = calloc((size_t)N, sizeof *sq);
    if (!z || !u || !n2 || !sq) {
        free(z); free(u); free(n2); free(sq);
        return gs_error(J->m->ctx, GS_ENOMEM, "jacobian: out of memory");
    }
    gs_rng r;
    gs_rng_seed(&r, c->seed ^ 0x9e3779b97f4a7c15ull);
    for (int s = 0; s < N; s++) out->mean_sq[s] = 0;
    for (int p = 0; p < c->probes; p++) {
        for (size_t i = 0; i < (size_t)N * din; i++) z[i] = gs_rng_below(&r, 2) ? 1.0f : -1.0f;
        for (int s = 0; s < N; s++) orth_sample(d->r, d->k[s], z + (size_t)s * din, s, din, 1);
        gs_jac_jvp(J, z, u);
        dots(u, u, N, dout, n2);
        for (int s = 0; s < N; s++) { out->mean_sq[s] += n2[s]; sq[s] += n2[s] * n2[s]; }
    }
    for (int s = 0; s < N; s++) {
        const double P = c->probes, mean = out->mean_sq[s] / P;
        const double var = P > 1 ? (sq[s] - P * mean * mean) / (P - 1) : NAN;
        out->mean_sq[s] = (d->sq[s] + mean) / dmin;
        out->mean_sq_stderr[s] = (var > 0 ? sqrt(var / P) : 0) / dmin;
    }
    free(z); free(u); free(n2); free(sq);
    return GS_OK;
}

/* J formed from min(in, out) products (columns by JVPs or rows by VJPs), then its dense SVD. */
static int full_svd(gs_jac *J, gs_jacobian_result *out)
{
    const int N = J->N;
    const int64_t din = J->din, dout = J->dout;
    const int by_col = din <= dout;
    const int cols = (int)(by_col ? din : dout);
    const int64_t rows = by_col ? dout : din;
    float *e = calloc((size_t)N * (by_col ? din : dout), sizeof *e);
    float *img = malloc((size_t)N * rows * sizeof *img);
    double *A = malloc((size_t)N * rows * cols * sizeof *A);
    if (!e || !img || !A) {
        free(e); free(img); free(A);
        return gs_error(J->m->ctx, GS_ENOMEM, "jacobian: out of memory for the dense Jacobian (%lld x %d per sample)",
                        (long long)rows, cols);
    }
    for (int j = 0; j < cols; j++) {
        for (int s = 0; s < N; s++) e[(size_t)s * cols + j] = 1.0f;
        if (by_col) gs_jac_jvp(J, e, img); else gs_jac_vjp(J, e, img);
        for (int s = 0; s < N; s++) {
            e[(size_t)s * cols + j] = 0.0f;
            double *col = A + ((size_t)s * cols + j) * rows;
            for (int64_t i = 0; i < rows; i++) col[i] = img[(size_t)s * rows + i];
        }
    }
    for (int s = 0; s < N; s++) {
        double *sv = out->full_sv + (size_t)s * cols;
        gs_svd_jacobi(A + (size_t)s * cols * rows, (int)rows, cols, sv, NULL);
        double acc = 0;
        for (int j = 0; j < cols; j++) acc += sv[j] * sv[j];
        out->full_mean_sq[s] = acc / cols;
    }
    free(e); free(img); free(A);
    return GS_OK;
}

int gs_jacobian_compute(gs_model *m, const float *x, int N, const gs_jacobian_config *c, gs_jacobian_result *out)
{
    memset(out, 0, sizeof *out);
    if (c->top < 1 || c->steps < 0 || c->probes < 0)
        return gs_error(m->ctx, GS_EINVAL, "jacobian: top %d, steps %d, probes %d (need top >= 1, the others >= 0)",
                        c->top, c->steps, c->probes);
    gs_jac *J = NULL;
    int rc = gs_jac_prepare(m, x, N, &J);
    if (rc) return rc;
    const int64_t dmin = J->din < J->dout ? J->din : J->dout;
    if (c->full && dmin > GS_JACOBIAN_FULL_MAX) {
        const long long din = (long long)J->din, dout = (long long)J->dout;
        gs_jac_free(J);
        return gs_error(m->ctx, GS_EINVAL, "jacobian: the dense SVD needs min(in, out) <= %d features, and J is "
                        "%lld x %lld here", GS_JACOBIAN_FULL_MAX, dout, din);
    }
    int steps = c->steps ? c->steps : 4 * c->top + 20;
    if (steps > dmin) steps = (int)dmin;
    if (steps < 1) steps = 1;
    out->samples = N; out->top = c->top; out->steps = steps; out->probes = c->probes;
    out->residual = J->residual; out->in_features = J->din; out->out_features = J->dout;
    out->top_sv = malloc((size_t)N * c->top * sizeof(double));
    out->top_residual = malloc((size_t)N * c->top * sizeof(double));
    out->mean_sq = malloc((size_t)N * sizeof(double));
    out->mean_sq_stderr = malloc((size_t)N * sizeof(double));
    if (c->full) {
        out->n_full = (int)dmin;
        out->full_sv = malloc((size_t)N * dmin * sizeof(double));
        out->full_mean_sq = malloc((size_t)N * sizeof(double));
    }
    if (!out->top_sv || !out->top_residual || !out->mean_sq || !out->mean_sq_stderr ||
        (c->full && (!out->full_sv || !out->full_mean_sq)))
        rc = gs_error(m->ctx, GS_ENOMEM, "jacobian: out of memory");
    deflation defl = { 0 };
    if (rc == GS_OK) rc = lanczos(J, c, steps, out, &defl);
    if (rc == GS_OK && c->probes > 0) rc = hutchinson(J, c, &defl, out);
    else if (rc == GS_OK)
        for (int s = 0; s < N; s++) out->mean_sq[s] = out->mean_sq_stderr[s] = NAN;
    if (rc == GS_OK && c->full) rc = full_svd(J, out);
    deflation_free(&defl);
    gs_jac_free(J);
    if (rc) gs_jacobian_result_free(out);
    return rc;
}
