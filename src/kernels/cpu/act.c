/* act.c - activation kernels: forward, backward, derivative reference, saturation count, names.
 *
 * The hot activations (sigmoid, tanh, relu, and the cheap relu relatives and silu) are branchless loops
 * over vmath.h, compiled three times on x86-64 with glibc (AVX-512, AVX2, baseline) and picked by an ifunc
 * when the library loads; elsewhere they are compiled once for the baseline.  Measured on one Zen 5 core
 * (AVX-512), 32768 elements: sigmoid forward ~0.3 ns/element, tanh ~0.4, relu ~0.07, each backward ~0.1.
 * The others (elu, selu, gelu, softplus) call libm per element: correct, 5-35 ns per element, not on
 * the hot path.
 * Backward expressions follow PyTorch 1.13's kernels operation by operation (e.g. sigmoid's
 * (dy*(1-y))*y), so results usually agree with it to the last bit.  Nothing here allocates or fails.
 */
#include "kernels/cpu/act.h"

#include <math.h>
#include <string.h>
#include "kernels/cpu/vmath.h"

#include "kernels/cpu/simd.h"

#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
#define LEAKY_SLOPE 0.01f
#define SOFTPLUS_THRESHOLD 20.0f

/* dx = expr or dx += expr, expr written in terms of g = dy[i] and the index i (scalar, cold paths). */
#define GS_BWD_LOOP(expr) do { \
        if (accumulate) { for (size_t i = 0; i < n; i++) { float g = dy[i]; dx[i] += (expr); } } \
        else            { for (size_t i = 0; i < n; i++) { float g = dy[i]; dx[i] = (expr); } } \
    } while (0)

/* ---- hot loops ----
   gcc -O2 vectorises only loops whose trip count is a known multiple of the vector length and that need
   no run-time overlap check (its "very-cheap" cost model).  So the arrays are walked in blocks of
   GS_BLOCK: each block of input is first copied into a local array, which nothing else can alias, and
   the fixed-length loop over it vectorises in every clone.  The last n % GS_BLOCK elements go through
   the same vector code on a padded local copy (padding 0, or NaN for counts, which never count), so
   every element of any length gets the same bits.  The copy also makes x == y (in place) and dx == dy
   safe.  256 rather than 64 per block: ~10% faster with AVX-512 and ~30% with AVX2 (more independent
   work in flight for these latency-bound chains). */
#define GS_BLOCK 256

/* y[i] = EXPR, EXPR in terms of v = x[i] */
#define GS_MAP1(x, y, n, EXPR) do { \
        float t_[GS_BLOCK]; \
        size_t i_ = 0; \
        for (; n - i_ >= GS_BLOCK; i_ += GS_BLOCK) { \
            memcpy(t_, (x) + i_, sizeof t_); \
            for (size_t j_ = 0; j_ < GS_BLOCK; j_++) { float v = t_[j_]; (y)[i_ + j_] = (EXPR); } \
        } \
        if (i_ < n) { \
            size_t m_ = n - i_; \
            memcpy(t_, (x) + i_, m_ * sizeof *t_); \
            memset(t_ + m_, 0, (GS_BLOCK - m_) * sizeof *t_); \
            for (size_t j_ = 0; j_ < GS_BLOCK; j_++) { float v = t_[j_]; t_[j_] = (EXPR); } \
            memcpy((y) + i_, t_, m_ * sizeof *t_); \
        } \
    } while (0)

/* dx[i] = EXPR or dx[i] += EXPR, EXPR in terms of v = s[i] and g = dy[i] */
#define GS_MAP2(s, dy, dx, n, accumulate, EXPR) do { \
        float s_[GS_BLOCK], g_[GS_BLOCK]; \
        size_t i_ = 0; \
        for (; n - i_ >= GS_BLOCK; i_ += GS_BLOCK) { \
            memcpy(s_, (s) + i_, sizeof s_); \
            memcpy(g_, (dy) + i_, sizeof g_); \
            if (accumulate) { \
                for (size_t j_ = 0; j_ < GS_BLOCK; j_++) { float v = s_[j_], g = g_[j_]; (dx)[i_ + j_] += (EXPR); } \
            } else { \
                for (size_t j_ = 0; j_ < GS_BLOCK; j_++) { float v = s_[j_], g = g_[j_]; (dx)[i_ + j_] = (EXPR); } \
            } \
        } \
        if (i_ < n) { \
            size_t m_ = n - i_; \
            memcpy(s_, (s) + i_, m_ * sizeof *s_); \
            memcpy(g_, (dy) + i_, m_ * sizeof *g_); \
            memset(s_ + m_, 0, (GS_BLOCK - m_) * sizeof *s_); \
            memset(g_ + m_, 0, (GS_BLOCK - m_) * sizeof *g_); \
            for (size_t j_ = 0; j_ < GS_BLOCK; j_++) { float v = s_[j_], g = g_[j_]; g_[j_] = (EXPR); } \
            if (accumulate) { for (size_t j_ = 0; j_ < m_; j_++) (dx)[i_ + j_] += g_[j_]; } \
            else memcpy((dx) + i_, g_, m_ * sizeof *g_); \
        } \
    } while (0)

/* y[r ld + c] = EXPR in place for r < rows, c < cols, EXPR in terms of v: the block's elements row by
 * row gathered into runs of GS_BLOCK, padded with 0 like GS_MAP1's tail, so every element gets the bits
 * the flat loop gives it.  cols a multiple of 16 (whole gs_vf copies). */
/* The strided walk both use: the next vector of row r_ (columns c_), wrapping to the next row at cols;
 * and the m_ floats of buf written back from (r_, c_) on.  Macros, not functions: as inline functions
 * the backward block measured 5.8-6.6 -> 6.6-6.9 us. */
#define GS_ROWS_NEXT(r_, c_, cols) do { if (((c_) += GS_LANES) == (cols)) { (c_) = 0; (r_)++; } } while (0)
#define GS_ROWS_SCATTER(out, ld, cols, buf, m_, r_, c_) do { \
        for (size_t k_ = 0; k_ < (m_); k_ += GS_LANES) { \
            GS_VSTORE((out) + (r_) * (ld) + (c_), GS_VLOAD((buf) + k_)); \
            GS_ROWS_NEXT(r_, c_, cols); \
        } \
    } while (0)

#define GS_MAP1_ROWS(y, ld, rows, cols, EXPR) do { \
        float t_[GS_BLOCK]; \
        size_t r_ = 0, c_ = 0; \
        while (r_ < (rows)) { \
            const size_t r0_ = r_, c0_ = c_; \
            size_t m_ = 0; \
            for (; m_ < GS_BLOCK && r_ < (rows); m_ += GS_LANES) { \
                GS_VSTORE(t_ + m_, GS_VLOAD((y) + r_ * (ld) + c_)); \
                GS_ROWS_NEXT(r_, c_, cols); \
            } \
            for (size_t j_ = m_; j_ < GS_BLOCK; j_++) t_[j_] = 0.0f; \
            for (size_t j_ = 0; j_ < GS_BLOCK; j_++) { float v = t_[j_]; t_[j_] = (EXPR); } \
            r_ = r0_; c_ = c0_; \
            GS_ROWS_SCATTER(y, ld, cols, t_, m_, r_, c_); \
        } \
    } while (0)

/* dx[r ld + c] = EXPR for r < rows, c < cols, EXPR in terms of v = s[r ld + c] and g = dy[r ld + c],
 * gathered as GS_MAP1_ROWS does (dx may be dy) */
#define GS_MAP2_ROWS(s, dy, dx, ld, rows, cols, EXPR) do { \
        float s_[GS_BLOCK], g_[GS_BLOCK]; \
        size_t r_ = 0, c_ = 0; \
        while (r_ < (rows)) { \
            const size_t r0_ = r_, c0_ = c_; \
            size_t m_ = 0; \
            for (; m_ < GS_BLOCK && r_ < (rows); m_ += GS_LANES) { \
                GS_VSTORE(s_ + m_, GS_VLOAD((s) + r_ * (ld) + c_)); \
                GS_VSTORE(g_ + m_, GS_VLOAD((dy) + r_ * (ld) + c_)); \
                GS_ROWS_NEXT(r_, c_, cols); \
            } \
            for (size_t j_ = m_; j_ < GS_BLOCK; j_++) s_[j_] = g_[j_] = 0.0f; \
            for (size_t j_ = 0; j_ < GS_BLOCK; j_++) { float v = s_[j_], g = g_[j_]; g_[j_] = (EXPR); } \
            r_ = r0_; c_ = c0_; \
            GS_ROWS_SCATTER(dx, ld, cols, g_, m_, r_, c_); \
        } \
    } while (0)

/* number of elements with COND true, COND in terms of v = s[i], false for NaN; 32-bit counts per block */
#define GS_COUNT(s, n, COND, total) do { \
        float s_[GS_BLOCK]; \
        for (size_t i_ = 0; i_ < n; i_ += GS_BLOCK) { \
            size_t m_ = n - i_ < GS_BLOCK ? n - i_ : GS_BLOCK; \
            uint32_t c_ = 0; \
            if (m_ == GS_BLOCK) { \
                memcpy(s_, (s) + i_, sizeof s_); \
            } else { \
                memcpy(s_, (s) + i_, m_ * sizeof *s_); \
                for (size_t j_ = m_; j_ < GS_BLOCK; j_++) s_[j_] = NAN; \
            } \
            for (size_t j_ = 0; j_ < GS_BLOCK; j_++) { float v = s_[j_]; c_ += (COND); } \
            (total) += c_; \
        } \
    } while (0)

GS_CLONES static void sigmoid_forward(const float *x, float *y, size_t n)
{
    GS_MAP1(x, y, n, gs_vsigmoidf(v));
}

GS_CLONES static void tanh_forward(const float *x, float *y, size_t n)
{
    GS_MAP1(x, y, n, gs_vtanhf(v));
}

/* x < 0 ? 0 : x is PyTorch's clamp_min(x, 0): relu(-0) = -0, relu(NaN) = NaN */
GS_CLONES static void relu_forward(const float *x, float *y, size_t n)
{
    GS_MAP1(x, y, n, gs_selectf(v < 0.0f, 0.0f, v));
}

GS_CLONES static void leaky_forward(const float *x, float *y, size_t n)
{
    GS_MAP1(x, y, n, gs_selectf(v > 0.0f, v, v * LEAKY_SLOPE));
}

/* clamp(x, -1, 1); NaN passes */
GS_CLONES static void hardtanh_forward(const float *x, float *y, size_t n)
{
    GS_MAP1(x, y, n, gs_selectf(v < -1.0f, -1.0f, gs_selectf(v > 1.0f, 1.0f, v)));
}

GS_CLONES static void silu_forward(const float *x, float *y, size_t n)
{
    GS_MAP1(x, y, n, v * gs_vsigmoidf(v));
}

GS_CLONES static void sigmoid_rows(float *y, size_t ld, size_t rows, size_t cols)
{
    GS_MAP1_ROWS(y, ld, rows, cols, gs_vsigmoidf(v));
}

GS_CLONES static void tanh_rows(float *y, size_t ld, size_t rows, size_t cols)
{
    GS_MAP1_ROWS(y, ld, rows, cols, gs_vtanhf(v));
}

/* sigmoid' = y(1-y), in PyTorch's order (dy*(1-y))*y */
GS_CLONES static void sigmoid_backward(const float *y, const float *dy, float *dx, size_t n, int accumulate)
{
    GS_MAP2(y, dy, dx, n, accumulate, g * (1.0f - v) * v);
}

GS_CLONES static void sigmoid_backward_rows(const float *y, const float *dy, float *dx, size_t ld, size_t rows,
                                            size_t cols)
{
    GS_MAP2_ROWS(y, dy, dx, ld, rows, cols, g * (1.0f - v) * v);
}

/* tanh' = 1 - y^2, as (1-y)(1+y): 1-y is exact for y >= 0.5, so no cancellation as |y| -> 1 (PyTorch's
   1 - y*y gets the same accuracy from an FMA; without one, y*y's rounding would cost up to 1e-4 relative) */
GS_CLONES static void tanh_backward(const float *y, const float *dy, float *dx, size_t n, int accumulate)
{
    GS_MAP2(y, dy, dx, n, accumulate, g * ((1.0f - v) * (1.0f + v)));
}

GS_CLONES static void tanh_backward_rows(const float *y, const float *dy, float *dx, size_t ld, size_t rows,
                                         size_t cols)
{
    GS_MAP2_ROWS(y, dy, dx, ld, rows, cols, g * ((1.0f - v) * (1.0f + v)));
}

/* relu' = 0 for s <= 0 (s = x or y, same sign), else 1; NaN passes dy through like threshold_backward */
GS_CLONES static void relu_backward(const float *s, const float *dy, float *dx, size_t n, int accumulate)
{
    GS_MAP2(s, dy, dx, n, accumulate, gs_selectf(v <= 0.0f, 0.0f, g));
}

/* leaky' = x > 0 ? 1 : 0.01 */
GS_CLONES static void leaky_backward(const float *x, const float *dy, float *dx, size_t n, int accumulate)
{
    GS_MAP2(x, dy, dx, n, accumulate, gs_selectf(v > 0.0f, g, g * LEAKY_SLOPE));
}

/* hardtanh' = 1 on the open interval (-1, 1), 0 at and beyond the corners */
GS_CLONES static void hardtanh_backward(const float *x, const float *dy, float *dx, size_t n,
                                        int accumulate)
{
    GS_MAP2(x, dy, dx, n, accumulate, gs_selectf((v <= -1.0f) | (v >= 1.0f), 0.0f, g));
}

/* silu' = s(1 + x(1-s)), s = sigmoid(x), in PyTorch's order dy * s * (1 + x * (1 - s)) */
static inline float silu_grad(float g, float x)
{
    float s = gs_vsigmoidf(x);
    return g * s * (1.0f + x * (1.0f - s));
}

GS_CLONES static void silu_backward(const float *x, const float *dy, float *dx, size_t n, int accumulate)
{
    GS_MAP2(x, dy, dx, n, accumulate, silu_grad(g, v));
}

/* Saturation counts: the number of elements whose derivative, computed in float as backward computes
   it (softplus: through the vectorised sigmoid, which agrees with backward's expf form to a few ulp), is
   below thr; NaN inputs are never counted.  s is y for sigmoid and tanh, x otherwise. */
GS_CLONES static size_t count_below(gs_act act, const float *s, size_t n, float thr)
{
    size_t total = 0;
    switch (act) {
    case GS_ACT_SIGMOID:    GS_COUNT(s, n, (1.0f - v) * v < thr, total); break;
    case GS_ACT_TANH:       GS_COUNT(s, n, (1.0f - v) * (1.0f + v) < thr, total); break;
    case GS_ACT_RELU:       GS_COUNT(s, n, (gs_selectf(v <= 0.0f, 0.0f, 1.0f) < thr) & (v == v), total); break;
    case GS_ACT_LEAKY_RELU: GS_COUNT(s, n, (gs_selectf(v > 0.0f, 1.0f, LEAKY_SLOPE) < thr) & (v == v), total); break;
    case GS_ACT_HARDTANH:
        GS_COUNT(s, n, (gs_selectf((v <= -1.0f) | (v >= 1.0f), 0.0f, 1.0f) < thr) & (v == v), total);
        break;
    case GS_ACT_SOFTPLUS:
        GS_COUNT(s, n, gs_selectf(v > SOFTPLUS_THRESHOLD, 1.0f, gs_vsigmoidf(v)) < thr, total);
        break;
    default:                GS_COUNT(s, n, (1.0f < thr) & (v == v), total); break;   /* identity */
    }
    return total;
}

/* ---- the cold activations, per element through libm ---- */

/* elu / selu: x <= 0 ? negcoef * expm1(x) : poscoef * x.  (PyTorch 1.13 computes (exp(x)-1)*negcoef,
   which loses all relative accuracy as x -> 0-; expm1 is the same function without the cancellation.) */
static void elu_forward(const float *x, float *y, size_t n, float negcoef, float poscoef)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] <= 0.0f ? expm1f(x[i]) * negcoef : x[i] * poscoef;
}

/* gelu = x Phi(x), Phi(x) = erfc(-x/sqrt2)/2: the same function as 0.5x(1+erf(x/sqrt2)) without the
   cancellation for x < 0; in double so the rounding of x/sqrt2 is not amplified by erfc's slope. */
static float gelu_value(float x)
{
    return (float)(0.5 * x * erfc(-x * 0.70710678118654752440));
}

static double gelu_deriv(double x)
{
    return 0.5 * erfc(-x * 0.70710678118654752440) + x * exp(-0.5 * x * x) * 0.39894228040143267794;
}

static float softplus_value(float x)
{
    return x > SOFTPLUS_THRESHOLD ? x : log1pf(expf(x));
}

static float softplus_grad(float g, float x)
{
    if (x > SOFTPLUS_THRESHOLD) return g;
    float z = expf(x);
    return g * z / (z + 1.0f);
}

void gs_act_forward(gs_act act, const float *x, float *y, size_t n)
{
    switch (act) {
    case GS_ACT_SIGMOID:    sigmoid_forward(x, y, n); return;
    case GS_ACT_TANH:       tanh_forward(x, y, n); return;
    case GS_ACT_RELU:       relu_forward(x, y, n); return;
    case GS_ACT_LEAKY_RELU: leaky_forward(x, y, n); return;
    case GS_ACT_HARDTANH:   hardtanh_forward(x, y, n); return;
    case GS_ACT_SILU:       silu_forward(x, y, n); return;
    case GS_ACT_ELU:        elu_forward(x, y, n, 1.0f, 1.0f); return;
    case GS_ACT_SELU:       elu_forward(x, y, n, (float)(SELU_ALPHA * SELU_SCALE), (float)SELU_SCALE); return;
    case GS_ACT_GELU:       for (size_t i = 0; i < n; i++) y[i] = gelu_value(x[i]); return;
    case GS_ACT_SOFTPLUS:   for (size_t i = 0; i < n; i++) y[i] = softplus_value(x[i]); return;
    default:
        if (x != y && n) memcpy(y, x, n * sizeof *y);
        return;
    }
}

void gs_act_forward_rows(gs_act act, float *y, size_t ld, size_t rows, size_t cols)
{
    if (!rows || !cols) return;
    if (cols == ld || rows == 1) { gs_act_forward(act, y, y, (rows - 1) * ld + cols); return; }
    if (cols % GS_LANES == 0 && act == GS_ACT_SIGMOID) { sigmoid_rows(y, ld, rows, cols); return; }
    if (cols % GS_LANES == 0 && act == GS_ACT_TANH) { tanh_rows(y, ld, rows, cols); return; }
    for (size_t r = 0; r < rows; r++) gs_act_forward(act, y + r * ld, y + r * ld, cols);
}

void gs_act_backward_rows(gs_act act, const float *y, const float *dy, float *dx, size_t ld, size_t rows,
                          size_t cols)
{
    if (!rows || !cols) return;
    if (cols == ld || rows == 1) { gs_act_backward(act, NULL, y, dy, dx, (rows - 1) * ld + cols, 0); return; }
    if (cols % GS_LANES == 0 && act == GS_ACT_SIGMOID) { sigmoid_backward_rows(y, dy, dx, ld, rows, cols); return; }
    if (cols % GS_LANES == 0 && act == GS_ACT_TANH) { tanh_backward_rows(y, dy, dx, ld, rows, cols); return; }
    for (size_t r = 0; r < rows; r++) gs_act_backward(act, NULL, y + r * ld, dy + r * ld, dx + r * ld, cols, 0);
}

void gs_act_backward(gs_act act, const float *x, const float *y, const float *dy, float *dx, size_t n,
                     int accumulate)
{
    switch (act) {
    case GS_ACT_SIGMOID:    sigmoid_backward(y, dy, dx, n, accumulate); return;
    case GS_ACT_TANH:       tanh_backward(y, dy, dx, n, accumulate); return;
    case GS_ACT_RELU:       relu_backward(x ? x : y, dy, dx, n, accumulate); return;
    case GS_ACT_LEAKY_RELU: leaky_backward(x, dy, dx, n, accumulate); return;
    case GS_ACT_HARDTANH:   hardtanh_backward(x, dy, dx, n, accumulate); return;
    case GS_ACT_SILU:       silu_backward(x, dy, dx, n, accumulate); return;
    case GS_ACT_ELU:        /* elu_backward(is_result=false): x <= 0 ? dy*alpha*exp(x) : dy */
        GS_BWD_LOOP(x[i] <= 0.0f ? g * expf(x[i]) : g);
        return;
    case GS_ACT_SELU: {     /* x <= 0 ? dy*scale*alpha*exp(x) : dy*scale */
        const float negcoef = (float)(SELU_ALPHA * SELU_SCALE), poscoef = (float)SELU_SCALE;
        GS_BWD_LOOP(x[i] <= 0.0f ? g * negcoef * expf(x[i]) : g * poscoef);
        return;
    }
    case GS_ACT_GELU:       /* Phi(x) + x phi(x) */
        GS_BWD_LOOP(g * (float)gelu_deriv(x[i]));
        return;
    case GS_ACT_SOFTPLUS:   /* z = exp(x); x > 20 ? dy : dy*z/(z+1) */
        GS_BWD_LOOP(softplus_grad(g, x[i]));
        return;
    default:
        GS_BWD_LOOP(g);
        return;
    }
}

double gs_act_deriv_ref(gs_act act, double x)
{
    if (isnan(x)) return NAN;
    switch (act) {
    case GS_ACT_SIGMOID: { double s = 1.0 / (1.0 + exp(-x)); return s * (1.0 - s); }
    case GS_ACT_TANH:       { double c = cosh(x); return 1.0 / (c * c); }
    case GS_ACT_RELU:       return x <= 0.0 ? 0.0 : 1.0;
    case GS_ACT_LEAKY_RELU: return x > 0.0 ? 1.0 : (double)LEAKY_SLOPE;
    case GS_ACT_ELU:        return x <= 0.0 ? exp(x) : 1.0;
    case GS_ACT_SELU:       return x <= 0.0 ? SELU_SCALE * SELU_ALPHA * exp(x) : SELU_SCALE;
    case GS_ACT_GELU:       return gelu_deriv(x);
    case GS_ACT_SILU: { double s = 1.0 / (1.0 + exp(-x)); return s * (1.0 + x * (1.0 - s)); }
    case GS_ACT_SOFTPLUS:   return x > SOFTPLUS_THRESHOLD ? 1.0 : 1.0 / (1.0 + exp(-x));
    case GS_ACT_HARDTANH:   return x > -1.0 && x < 1.0 ? 1.0 : 0.0;
    default:                return 1.0;
    }
}

double gs_act_deriv_max(gs_act act)
{
    switch (act) {
    case GS_ACT_SIGMOID: return 0.25;
    case GS_ACT_SELU:    return SELU_SCALE * SELU_ALPHA;          /* at x -> 0- */
    case GS_ACT_GELU:    return 1.1289041451851551;               /* at x = sqrt2: Phi(sqrt2) + e^-1/sqrt(pi) */
    case GS_ACT_SILU:    return 1.0998393201288670;               /* at x = 2.39936 */
    default:             return 1.0;  /* identity, tanh, relu family, elu, softplus (sup), hardtanh */
    }
}

size_t gs_act_count_saturated(gs_act act, const float *x, const float *y, size_t n, double frac)
{
    const double thr = frac * gs_act_deriv_max(act);
    switch (act) {
    case GS_ACT_SIGMOID: case GS_ACT_TANH:
        return count_below(act, y, n, (float)thr);
    case GS_ACT_RELU:
        return count_below(act, x ? x : y, n, (float)thr);
    case GS_ACT_ELU: case GS_ACT_SELU: case GS_ACT_GELU: case GS_ACT_SILU: {
        size_t c = 0;   /* one element at a time through backward */
        for (size_t i = 0; i < n; i++) {
            float d = 1.0f;
            gs_act_backward(act, x + i, NULL, &d, &d, 1, 0);
            c += (d < thr) & (x[i] == x[i]);
        }
        return c;
    }
    default:
        return count_below(act, x, n, (float)thr);
    }
}

static const char *const act_names[GS_ACT_COUNT] = {
    "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "hardtanh",
};

const char *gs_act_name(gs_act act)
{
    return (unsigned)act < GS_ACT_COUNT ? act_names[act] : "?";
}

int gs_act_from_name(const char *s, gs_act *out)
{
    for (int i = 0; s && i < GS_ACT_COUNT; i++) {
        if (strcmp(s, act_names[i]) == 0) { *out = (gs_act)i; return 0; }
    }
    return -1;
}
