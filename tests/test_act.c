/* test_act.c - activation kernels against double references, finite differences and PyTorch.
 *
 * (a) forward of every activation on a grid of ordinary and special values (+-0, tiny, denormal, large,
 *     +-inf, NaN) against a double-precision reference, in ulp; sweeps over float bit patterns for exp,
 *     sigmoid and tanh; (b) gs_act_backward against central differences of the float forward and against
 *     gs_act_deriv_ref; (c) accumulate mode; (d) every length 1..67 and a few around the block size,
 *     in place, misaligned: all bitwise equal to one element at a time; (e) PyTorch's values from
 *     tests/ref/act_golden.h; names, deriv_max and the saturation count; (f) the norm kernels with a relu
 *     fused in, bitwise against the affine map, the relu kernels and the plain norm kernels in turn, on
 *     values that make y exactly 0, -0 and NaN.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernels/cpu/act.h"
#include "kernels/cpu/vmath.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/reduce.h"
#include "ref/act_golden.h"

#define SELU_A 1.6732632423543772848170429916717
#define SELU_S 1.0507009873554804934193349852946

/* the activation in double, written independently of act.c */
static double ref_forward(gs_act act, double x)
{
    switch (act) {
    case GS_ACT_SIGMOID:    return 1.0 / (1.0 + exp(-x));
    case GS_ACT_TANH:       return tanh(x);
    case GS_ACT_RELU:       return x < 0.0 ? 0.0 : x;
    case GS_ACT_LEAKY_RELU: return x > 0.0 ? x : x * (double)0.01f;
    case GS_ACT_ELU:        return x <= 0.0 ? expm1(x) : x;
    case GS_ACT_SELU:       return x <= 0.0 ? SELU_S * SELU_A * expm1(x) : SELU_S * x;
    case GS_ACT_GELU:       return 0.5 * x * erfc(-x / sqrt(2.0));
    case GS_ACT_SILU:       return x / (1.0 + exp(-x));
    case GS_ACT_SOFTPLUS:   return x > 20.0 ? x : log1p(exp(x));
    case GS_ACT_HARDTANH:   return x < -1.0 ? -1.0 : x > 1.0 ? 1.0 : x;
    default:                return x;
    }
}

/* |a - ref| in units of the float spacing at ref.  Where ref rounds to a float denormal, the result
   has only a few significant bits (e.g. x * sigmoid(x) for x = -100): there an absolute error up to
   2^-140 (512 denormal spacings) counts as 0 ulp and more as infinitely many. */
static double ulp_err(float a, double ref)
{
    if (isnan(ref)) return isnan(a) ? 0.0 : INFINITY;
    if (isinf((float)ref) || isinf(a)) return a == (float)ref ? 0.0 : INFINITY;
    if (isnan(a)) return INFINITY;
    if (fabs(ref) < 0x1p-126) return fabs((double)a - ref) <= 0x1p-140 ? 0.0 : INFINITY;
    int e;
    frexp(fabs(ref), &e);
    double ulp = ldexp(1.0, (e - 24 < -149 ? -149 : e - 24));
    return fabs((double)a - ref) / ulp;
}

static float f_of_bits(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }

static float forward1(gs_act act, float x)
{
    float y;
    gs_act_forward(act, &x, &y, 1);
    return y;
}

/* dy * act'(x) for one element, with y = act(x) as the layer would keep it */
static float backward1(gs_act act, float x, float dy)
{
    float y = forward1(act, x), dx;
    gs_act_backward(act, &x, &y, &dy, &dx, 1, 0);
    return dx;
}

/* ---- (a) forward accuracy ---- */

static const float special_x[] = {
    0.0f, -0.0f, 1e-40f, -1e-40f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 1e-3f, -1e-3f, 0.1f, -0.1f, 0.5f, -0.5f,
    0.62f, -0.62f, 0.63f, -0.63f, 1.0f, -1.0f, 2.0f, -2.0f, 7.5f, -7.5f, 9.0f, -9.0f, 15.0f, -15.0f, 19.99f,
    20.0f, 20.01f, -20.0f, 44.0f, -44.0f, 87.0f, -87.0f, 88.7f, -88.7f, 89.0f, -89.0f, 100.0f, -100.0f,
    103.0f, -103.0f, 110.0f, -110.0f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN,
};

static void test_forward_grid(void)
{
    for (int a = 0; a < GS_ACT_COUNT; a++) {
        double worst = 0.0;
        float worst_x = 0.0f;
        /* special values plus a grid of 1/64 steps over [-12, 12] */
        for (int k = 0; k < (int)(sizeof special_x / sizeof *special_x) + 1537; k++) {
            int ns = (int)(sizeof special_x / sizeof *special_x);
            float x = k < ns ? special_x[k] : (float)(k - ns - 768) / 64.0f;
            float y = forward1((gs_act)a, x);
            double r = ref_forward((gs_act)a, x), e = ulp_err(y, r);
            if (e > worst) { worst = e; worst_x = x; }
        }
        CHECK(worst <= 4.0, "%s: worst error %.2f ulp at x = %.9g", gs_act_name((gs_act)a), worst, worst_x);
        fprintf(stderr, "       %-10s forward worst %.2f ulp\n", gs_act_name((gs_act)a), worst);
    }
    /* signs and limits PyTorch relies on */
    CHECK(signbit(forward1(GS_ACT_RELU, -0.0f)), "relu(-0) keeps the sign, as clamp_min does");
    CHECK(signbit(forward1(GS_ACT_TANH, -0.0f)), "tanh(-0) = -0");
    CHECK(forward1(GS_ACT_TANH, 10.0f) == 1.0f && forward1(GS_ACT_TANH, -10.0f) == -1.0f, "tanh(+-10) = +-1");
    CHECK(forward1(GS_ACT_SIGMOID, 20.0f) == 1.0f && forward1(GS_ACT_SIGMOID, -200.0f) == 0.0f, "sigmoid limits");
    CHECK(forward1(GS_ACT_SOFTPLUS, 20.5f) == 20.5f, "softplus(x > 20) = x");
    for (int a = 0; a < GS_ACT_COUNT; a++)
        CHECK(isnan(forward1((gs_act)a, NAN)), "%s(NaN) is not NaN", gs_act_name((gs_act)a));
}

/* every k-th float bit pattern in [lo_bits, hi_bits] of both signs, against a double reference */
static double sweep(float (*f)(float), double (*ref)(double), uint32_t hi_bits, uint32_t step, float *at)
{
    double worst = 0.0;
    for (uint32_t u = 0; u <= hi_bits; u += step) {
        for (int s = 0; s < 2; s++) {
            float x = f_of_bits(u | (s ? 0x80000000u : 0u));
            double e = ulp_err(f(x), ref(x));
            if (e > worst) { worst = e; *at = x; }
        }
    }
    return worst;
}

static float vexp(float x) { return gs_vexpf(x); }
static float vsig(float x) { return forward1(GS_ACT_SIGMOID, x); }
static float vtanh(float x) { return forward1(GS_ACT_TANH, x); }
static double dsig(double x) { return 1.0 / (1.0 + exp(-x)); }

static void test_sweeps(void)
{
    float at = 0.0f;
    double e = sweep(vexp, exp, 0x42E00000u /* 112 */, 613, &at);
    fprintf(stderr, "       exp     sweep worst %.3f ulp at %.9g\n", e, at);
    CHECK(e <= 2.0, "gs_vexpf: %.3f ulp at x = %.9g", e, at);
    e = sweep(vsig, dsig, 0x7F800000u, 1009, &at);
    fprintf(stderr, "       sigmoid sweep worst %.3f ulp at %.9g\n", e, at);
    CHECK(e <= 3.0, "sigmoid: %.3f ulp at x = %.9g", e, at);
    e = sweep(vtanh, tanh, 0x7F800000u, 1009, &at);
    fprintf(stderr, "       tanh    sweep worst %.3f ulp at %.9g\n", e, at);
    CHECK(e <= 3.0, "tanh: %.3f ulp at x = %.9g", e, at);
    CHECK(gs_vexpf(INFINITY) == INFINITY && gs_vexpf(-INFINITY) == 0.0f && isnan(gs_vexpf(NAN)), "exp specials");
    CHECK(gs_vexpf(88.8f) == INFINITY && gs_vexpf(88.7f) < INFINITY, "exp overflow threshold");
    CHECK(gs_vexpf(-100.0f) > 0.0f && gs_vexpf(-100.0f) < 1e-43f, "exp(-100) is a denormal, not 0");
    CHECK(gs_vexpf(-104.0f) == 0.0f && gs_vexpf(0.0f) == 1.0f, "exp(-104) = 0, exp(0) = 1");
}

/* ---- (b) gradients ---- */

/* points where act' jumps (or the forward has a kink); finite differences skip a neighbourhood */
static int near_kink(gs_act act, double x, double r)
{
    switch (act) {
    case GS_ACT_RELU: case GS_ACT_LEAKY_RELU: case GS_ACT_ELU: case GS_ACT_SELU: return fabs(x) < r;
    case GS_ACT_HARDTANH: return fabs(x - 1.0) < r || fabs(x + 1.0) < r;
    case GS_ACT_SOFTPLUS: return fabs(x - 20.0) < r;
    default: return 0;
    }
}

static void test_finite_differences(void)
{
    const double h = 1.0 / 32.0;    /* x +- h, x +- 2h are exact on the grid below; error h^4 f^(5) / 30 */
    for (int a = 0; a < GS_ACT_COUNT; a++) {
        gs_act act = (gs_act)a;
        double worst_rel = 0.0;
        int checked = 0, failed = 0;
        for (int k = -1600; k <= 1600; k++) {
            double x = k / 128.0 + (k > 1400 ? 12.0 : 0.0);   /* [-12.5, 12.5] and ~[23, 25] */
            if (near_kink(act, x, 2.0 * h + 1e-3)) continue;
            double f[4], w = 0.0;
            const double off[4] = {-2.0 * h, -h, h, 2.0 * h};
            for (int j = 0; j < 4; j++) { f[j] = forward1(act, (float)(x + off[j])); w += fabs(f[j]); }
            double fd = (f[0] - 8.0 * f[1] + 8.0 * f[2] - f[3]) / (12.0 * h);
            double noise = 6.0 * 0x1p-24 * 8.0 * w / (12.0 * h);   /* a few ulp of each f, through the stencil */
            double d = backward1(act, (float)x, 1.0f);
            double err = fabs(d - fd), rel = fabs(fd) >= 1e-2 ? err / fabs(fd) : 0.0;
            checked++;
            if (err > 1e-4 * fabs(fd) + noise + 1e-9) {
                if (failed++ < 3)
                    CHECK(0, "%s'(%g): backward %.9g, finite difference %.9g (noise bound %.3g)",
                          gs_act_name(act), x, d, fd, noise);
            }
            if (rel > worst_rel) worst_rel = rel;
        }
        fprintf(stderr, "       %-10s %d points, worst relative error vs finite differences %.2e "
                "(where |act'| >= 0.01)\n",
                gs_act_name(act), checked, worst_rel);
    }
}

/* backward against the double derivative, kinks included (PyTorch's convention at the kink) */
static void test_backward_vs_deriv_ref(void)
{
    const float kinks[] = {0.0f, -0.0f, 1.0f, -1.0f, 20.0f};
    for (int a = 0; a < GS_ACT_COUNT; a++) {
        gs_act act = (gs_act)a;
        double worst = 0.0;
        for (int k = -2000 - 5; k <= 2000; k++) {
            float x = k < -2000 ? kinks[-2001 - k] : (float)k / 100.0f;
            float dy = 0.75f;
            double ref = dy * gs_act_deriv_ref(act, x);
            /* sigmoid and tanh derive from the float y, silu from the float s = sigmoid(x): the rounding of
               y (or s) near 1 costs ~2^-24 absolute in 1-y, times |x| for silu's x(1-s) */
            double tol = 4e-7 * fabs(ref) + 1e-30;
            if (act == GS_ACT_SIGMOID || act == GS_ACT_TANH) tol += 3.0 * 0x1p-24;
            if (act == GS_ACT_SILU) tol += 3.0 * 0x1p-24 * (1.0 + fabs(x));
            double err = fabs(backward1(act, x, dy) - ref);
            CHECK(err <= tol, "%s'(%.9g): %.9g vs %.9g", gs_act_name(act), x, backward1(act, x, dy), ref);
            if (fabs(ref) >= 1e-2 && err / fabs(ref) > worst) worst = err / fabs(ref);
        }
        fprintf(stderr, "       %-10s backward vs double derivative: worst relative error %.2e "
                "(where |act'| >= 0.01)\n",
                gs_act_name(act), worst);
    }
    CHECK(backward1(GS_ACT_RELU, 0.0f, 1.0f) == 0.0f, "relu'(0) = 0");
    CHECK(backward1(GS_ACT_LEAKY_RELU, 0.0f, 1.0f) == 0.01f, "leaky'(0) = 0.01");
    CHECK(backward1(GS_ACT_HARDTANH, 1.0f, 1.0f) == 0.0f && backward1(GS_ACT_HARDTANH, -1.0f, 1.0f) == 0.0f,
          "hardtanh'(+-1) = 0");
    CHECK(backward1(GS_ACT_ELU, 0.0f, 1.0f) == 1.0f, "elu'(0) = alpha exp(0)");
    CHECK_NEAR(backward1(GS_ACT_SELU, 0.0f, 1.0f), SELU_S * SELU_A, 0, 1e-7);
    CHECK(backward1(GS_ACT_SOFTPLUS, 21.0f, 1.0f) == 1.0f, "softplus'(x > 20) = 1");
}

/* ---- (c), (d): accumulate, lengths, aliasing, alignment ---- */

static float test_value(int i) { return i % 50 == 7 ? -0.0f : (float)((i * 37 % 101) - 50) / 6.0f + 0.003f * i; }

static void test_lengths_alias_accumulate(void)
{
    enum { MAXN = 1100 };
    static float x[MAXN + 1], y[MAXN + 1], y1[MAXN], dy[MAXN + 1], dx[MAXN + 1], dx1[MAXN], acc[MAXN], buf[MAXN + 1];
    const size_t lengths[] = {63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025, 1099};
    for (int i = 0; i <= MAXN; i++) {
        x[i] = test_value(i);
        dy[i] = (float)((i * 13 % 17) - 8) / 4.0f;
    }
    for (int a = 0; a < GS_ACT_COUNT; a++) {
        gs_act act = (gs_act)a;
        int bad_fwd = 0, bad_inplace = 0, bad_bwd = 0, bad_acc = 0, bad_alias = 0;
        for (int li = 0; li < 67 + (int)(sizeof lengths / sizeof *lengths); li++) {
            size_t n = li < 67 ? (size_t)li + 1 : lengths[li - 67];
            for (int off = 0; off < 2; off++) {     /* off = 1: misaligned pointers */
                const float *xs = x + off, *dys = dy + off;
                /* one element at a time: the scalar path; the whole array: blocks plus tail */
                for (size_t i = 0; i < n; i++) gs_act_forward(act, xs + i, y1 + i, 1);
                gs_act_forward(act, xs, y + off, n);
                bad_fwd += memcmp(y + off, y1, n * sizeof *y1) != 0;
                memcpy(buf + off, xs, n * sizeof *buf);
                gs_act_forward(act, buf + off, buf + off, n);
                bad_inplace += memcmp(buf + off, y1, n * sizeof *y1) != 0;

                for (size_t i = 0; i < n; i++) gs_act_backward(act, xs + i, y1 + i, dys + i, dx1 + i, 1, 0);
                gs_act_backward(act, xs, y1, dys, dx + off, n, 0);
                bad_bwd += memcmp(dx + off, dx1, n * sizeof *dx1) != 0;
                memcpy(buf + off, dys, n * sizeof *buf);   /* dx == dy */
                gs_act_backward(act, xs, y1, buf + off, buf + off, n, 0);
                bad_alias += memcmp(buf + off, dx1, n * sizeof *dx1) != 0;

                for (size_t i = 0; i < n; i++) acc[i] = dx[off + i] = 0.5f - (float)(i % 5);
                gs_act_backward(act, xs, y1, dys, dx + off, n, 1);
                for (size_t i = 0; i < n; i++) {
                    float want = acc[i] + dx1[i];
                    bad_acc += !(dx[off + i] == want || (isnan(want) && isnan(dx[off + i])));
                }
            }
        }
        CHECK(bad_fwd == 0, "%s: %d lengths where forward differs from one-at-a-time", gs_act_name(act), bad_fwd);
        CHECK(bad_inplace == 0, "%s: %d lengths where in-place forward differs", gs_act_name(act), bad_inplace);
        CHECK(bad_bwd == 0, "%s: %d lengths where backward differs", gs_act_name(act), bad_bwd);
        CHECK(bad_alias == 0, "%s: %d lengths where backward with dx == dy differs", gs_act_name(act), bad_alias);
        CHECK(bad_acc == 0, "%s: %d elements where accumulate != old + dy*act'", gs_act_name(act), bad_acc);
    }
    /* sigmoid and tanh read only y, the others (but relu) only x; relu takes y when x is NULL */
    gs_act_forward(GS_ACT_SIGMOID, x, y, 100);
    gs_act_backward(GS_ACT_SIGMOID, NULL, y, dy, dx, 100, 0);
    gs_act_backward(GS_ACT_SIGMOID, x, y, dy, dx1, 100, 0);
    CHECK(memcmp(dx, dx1, 100 * sizeof *dx) == 0, "sigmoid backward with x == NULL");
    gs_act_forward(GS_ACT_RELU, x, y, 100);
    gs_act_backward(GS_ACT_RELU, NULL, y, dy, dx, 100, 0);
    gs_act_backward(GS_ACT_RELU, x, NULL, dy, dx1, 100, 0);
    CHECK(memcmp(dx, dx1, 100 * sizeof *dx) == 0, "relu backward from y equals from x");
    gs_act_forward(GS_ACT_SIGMOID, x, y, 0);   /* n = 0 touches nothing */
}

/* gs_act_forward_rows / gs_act_backward_rows over blocks of a wider array: each element as the flat
 * kernels give it (special values included), the columns past the block untouched, blocks of 256 that
 * straddle rows (48 columns), the vector path (columns a multiple of 16) and the per-row one (odd). */
static void test_rows(void)
{
    enum { LD = 53, ROWS = 13 };
    static float y[ROWS * LD], s[ROWS * LD], g[ROWS * LD], want[ROWS * LD], out[ROWS * LD];
    const size_t cols[] = {16, 32, 48, 7, 40, 53};
    for (int a = 0; a < GS_ACT_COUNT; a++) {
        const gs_act act = (gs_act)a;
        const int dact = act == GS_ACT_SIGMOID || act == GS_ACT_TANH;
        int bad_fwd = 0, bad_bwd = 0, bad_inplace = 0;
        for (size_t ci = 0; ci < sizeof cols / sizeof *cols; ci++)
            for (size_t rows = 1; rows <= ROWS; rows += 4) {
                const size_t C = cols[ci], ld = C == 53 ? LD : LD - 1;
                for (size_t i = 0; i < ROWS * LD; i++) {
                    y[i] = want[i] = test_value((int)(i * 7 % 997));
                    g[i] = (float)((int)(i * 13 % 17) - 8) / 4.0f;
                }
                gs_act_forward(act, y, s, ROWS * LD);   /* s: the activation's outputs */
                for (size_t r = 0; r < rows; r++) gs_act_forward(act, want + r * ld, want + r * ld, C);
                gs_act_forward_rows(act, y, ld, rows, C);
                bad_fwd += memcmp(y, want, sizeof y) != 0;
                if (!dact) continue;
                memcpy(want, g, sizeof want);
                memcpy(out, g, sizeof out);
                for (size_t r = 0; r < rows; r++) gs_act_backward(act, NULL, s + r * ld, g + r * ld, want + r * ld, C, 0);
                gs_act_backward_rows(act, s, g, out, ld, rows, C);
                bad_bwd += memcmp(out, want, sizeof out) != 0;
                memcpy(out, g, sizeof out);
                gs_act_backward_rows(act, s, out, out, ld, rows, C);
                bad_inplace += memcmp(out, want, sizeof out) != 0;
            }
        CHECK(bad_fwd == 0, "%s: %d blocks where forward_rows differs from the flat kernel", gs_act_name(act), bad_fwd);
        CHECK(bad_bwd == 0, "%s: %d blocks where backward_rows differs", gs_act_name(act), bad_bwd);
        CHECK(bad_inplace == 0, "%s: %d blocks where backward_rows in place differs", gs_act_name(act), bad_inplace);
    }
}

/* ---- (e) PyTorch ---- */

static int near_or_nan(double a, double b, double atol, double rtol)
{
    if (isnan(b)) return isnan(a);
    if (isinf(b)) return a == b;
    return fabs(a - b) <= atol + rtol * fabs(b);
}

static void test_pytorch_golden(void)
{
    const double rtol = 2e-6, atol = 1e-37;
    int torch_off = 0, points = 0;
    for (int g = 0; g < ACT_GOLDEN_COUNT; g++) {
        const struct act_golden *ref = &act_golden[g];
        gs_act act = GS_ACT_COUNT;
        CHECK(gs_act_from_name(ref->name, &act) == 0, "golden activation %s unknown", ref->name);
        if (act == GS_ACT_COUNT) continue;
        const int from_y = act == GS_ACT_SIGMOID || act == GS_ACT_TANH;
        float y[ACT_GOLDEN_N], dx[ACT_GOLDEN_N];
        gs_act_forward(act, act_golden_x, y, ACT_GOLDEN_N);
        /* backward from PyTorch's own y, so sigmoid and tanh see the y its autograd saw */
        gs_act_backward(act, act_golden_x, ref->y32, act_golden_dy, dx, ACT_GOLDEN_N, 0);
        for (int i = 0; i < ACT_GOLDEN_N; i++) {
            double x = act_golden_x[i];
            points++;
            /* always: the definition itself */
            CHECK(near_or_nan(y[i], ref->yref[i], atol, rtol), "%s(%.9g) = %.9g, exact %.9g",
                  ref->name, x, y[i], ref->yref[i]);
            /* PyTorch's float32, wherever PyTorch's float32 is itself within tolerance of the definition */
            if (near_or_nan(ref->y32[i], ref->yref[i], atol, rtol))
                CHECK(near_or_nan(y[i], ref->y32[i], atol, rtol), "%s(%.9g) = %.9g, PyTorch float32 %.9g",
                      ref->name, x, y[i], ref->y32[i]);
            else
                torch_off++;
            if (from_y || near_or_nan(ref->dx32[i], ref->dxref[i], atol, rtol))
                CHECK(near_or_nan(dx[i], ref->dx32[i], atol, rtol), "%s'(%.9g)*%g = %.9g, PyTorch float32 %.9g",
                      ref->name, x, act_golden_dy[i], dx[i], ref->dx32[i]);
            else
                torch_off++;
            if (!from_y)   /* from x: the exact derivative (from y it inherits y's rounding) */
                CHECK(near_or_nan(dx[i], ref->dxref[i], atol, rtol), "%s'(%.9g)*%g = %.9g, exact %.9g",
                      ref->name, x, act_golden_dy[i], dx[i], ref->dxref[i]);
        }
    }
    fprintf(stderr, "       %d points x 11 activations; %d values where PyTorch float32 is off the definition "
            "by more than the tolerance (checked against the definition only)\n", points / ACT_GOLDEN_COUNT, torch_off);
}

/* ---- names, deriv_max, saturation ---- */

static void test_names(void)
{
    const char *want[GS_ACT_COUNT] = {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu",
                                      "gelu", "silu", "softplus", "hardtanh"};
    for (int a = 0; a < GS_ACT_COUNT; a++) {
        gs_act out = GS_ACT_COUNT;
        CHECK(strcmp(gs_act_name((gs_act)a), want[a]) == 0, "name %d = %s", a, gs_act_name((gs_act)a));
        CHECK(gs_act_from_name(want[a], &out) == 0 && out == (gs_act)a, "from_name(%s)", want[a]);
    }
    gs_act out = GS_ACT_TANH;
    CHECK(gs_act_from_name("Relu", &out) == -1 && out == GS_ACT_TANH, "unknown name rejected, *out untouched");
    CHECK(gs_act_from_name("", &out) == -1 && gs_act_from_name(NULL, &out) == -1, "empty and NULL names");
    CHECK(strcmp(gs_act_name(GS_ACT_COUNT), "?") == 0, "out-of-range name");
}

static void test_deriv_max(void)
{
    for (int a = 0; a < GS_ACT_COUNT; a++) {
        gs_act act = (gs_act)a;
        double m = 0.0;
        for (int k = -300000; k <= 300000; k++) m = fmax(m, gs_act_deriv_ref(act, k * 1e-4));
        m = fmax(m, gs_act_deriv_ref(act, 25.0));
        m = fmax(m, gs_act_deriv_ref(act, -1e-12));
        CHECK(m <= gs_act_deriv_max(act) * (1 + 1e-12) && m >= gs_act_deriv_max(act) * (1 - 1e-8),
              "%s: sampled max %.17g, deriv_max %.17g", gs_act_name(act), m, gs_act_deriv_max(act));
    }
}

static void test_saturation(void)
{
    enum { N = 3001 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = (float)(i - 1500) / 100.0f + 0.001f;
    x[N - 2] = NAN;   /* never counted */
    for (int a = 0; a < GS_ACT_COUNT; a++) {
        gs_act act = (gs_act)a;
        gs_act_forward(act, x, y, N);
        for (int f = 0; f < 4; f++) {
            const double frac = f == 0 ? 0.05 : f == 1 ? 0.5 : f == 2 ? 0.0 : 2.0;
            size_t want = 0;
            for (int i = 0; i < N; i++) {
                float one = 1.0f, d;
                gs_act_backward(act, x + i, y + i, &one, &d, 1, 0);
                want += d < frac * gs_act_deriv_max(act) && !isnan(x[i]);
            }
            CHECK_EQ_INT(gs_act_count_saturated(act, x, y, N, frac), want);
        }
    }
    /* sigmoid: y(1-y) < 0.0125 exactly where |x| > 4.35654 */
    x[N - 2] = 14.99f;
    gs_act_forward(GS_ACT_SIGMOID, x, y, N);
    size_t want = 0;
    for (int i = 0; i < N; i++) want += fabs(x[i]) > 4.35654;
    CHECK_EQ_INT(gs_act_count_saturated(GS_ACT_SIGMOID, NULL, y, N, 0.05), want);
    CHECK_EQ_INT(gs_act_count_saturated(GS_ACT_RELU, x, y, N, 0.05), 1500);
    /* relu from its output alone (the probe's way): the same count, -0 and NaN included */
    x[0] = -0.0f; x[1] = 0.0f; x[N - 1] = NAN;
    gs_act_forward(GS_ACT_RELU, x, y, N);
    CHECK_EQ_INT(gs_act_count_saturated(GS_ACT_RELU, NULL, y, N, 0.05), gs_act_count_saturated(GS_ACT_RELU, x, y, N, 0.05));
    CHECK_EQ_INT(gs_act_count_saturated(GS_ACT_RELU, NULL, y, N, 0.05), 1500);
}

/* x such that y = x * a + b hits 0 (x = -b / a exactly), -0, NaN, and ordinary values */
static float fused_x(size_t i, float a, float b)
{
    switch (i % 7) {
    case 0: return -b / a;            /* a = 1 or a power of two below: y == 0 exactly */
    case 1: return NAN;
    case 2: return (float)sin(0.7 * (double)i) * 3.0f;
    case 3: return -(float)(i % 5) * 0.25f;
    default: return (float)cos(1.3 * (double)i);
    }
}

static void test_relu_fused_norm(void)
{
    enum { N = 5, C = 37, S = 53 };
    static float x[N * C * S], dr[N * C * S], y0[N * C * S], r0[N * C * S], y1[N * C * S], r1[N * C * S];
    static float dy[N * C * S], dx0[N * C * S], dx1[N * C * S];
    float scale[C], shift[C], mean[C], rstd[C], ka[C], kb[C], kc[C], s0[C], q0[C], s1[C], q1[C];
    for (int c = 0; c < C; c++) {
        scale[c] = c % 3 == 0 ? 1.0f : c % 3 == 1 ? 0.5f : 2.0f;
        shift[c] = c % 4 == 0 ? 0.0f : (float)(c % 5) - 2.0f;
        mean[c] = 0.1f * (float)c; rstd[c] = 1.0f + 0.01f * (float)c;
        ka[c] = 0.3f; kb[c] = -0.02f * (float)c; kc[c] = 0.001f * (float)c;
    }
    for (size_t i = 0; i < (size_t)N * C * S; i++) dr[i] = (float)sin(0.37 * (double)i);
    /* BatchNorm1d's kernels on (N, C) rows, channel range [3, C): */
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) x[i * C + c] = fused_x((size_t)(i * C + c), scale[c], shift[c]);
    gs_bn1d_apply(x, y0, NULL, N, C, 3, C, scale, shift);
    gs_bn1d_apply(x, y1, r1, N, C, 3, C, scale, shift);
    for (int i = 0; i < N; i++) {
        gs_act_forward(GS_ACT_RELU, y0 + i * C + 3, r0 + i * C + 3, C - 3);
        gs_act_backward(GS_ACT_RELU, y0 + i * C + 3, NULL, dr + i * C + 3, dy + i * C + 3, C - 3, 0);
    }
    int same = 1;
    for (int i = 0; i < N; i++)
        same &= !memcmp(y0 + i * C + 3, y1 + i * C + 3, (C - 3) * sizeof(float)) &&
                !memcmp(r0 + i * C + 3, r1 + i * C + 3, (C - 3) * sizeof(float));
    CHECK(same, "gs_bn1d_apply with the relu: y or relu(y) differ from gs_bn1d_apply then relu");
    gs_bn1d_sums(x, dy, N, C, 3, C, mean, rstd, NULL, NULL, s0, q0);
    gs_bn1d_sums(x, dr, N, C, 3, C, mean, rstd, scale, shift, s1, q1);
    CHECK(!memcmp(s0 + 3, s1 + 3, (C - 3) * sizeof(float)) && !memcmp(q0 + 3, q1 + 3, (C - 3) * sizeof(float)),
          "gs_bn1d_sums with the relu differs from relu's backward then gs_bn1d_sums");
    for (int acc = 0; acc < 2; acc++) {
        for (int i = 0; i < N * C; i++) dx0[i] = dx1[i] = 0.5f;
        gs_bn1d_dx(x, dy, dx0, N, C, 3, C, ka, kb, kc, NULL, NULL, acc);
        gs_bn1d_dx(x, dr, dx1, N, C, 3, C, ka, kb, kc, scale, shift, acc);
        CHECK(!memcmp(dx0, dx1, N * C * sizeof(float)), "gs_bn1d_dx with the relu (accumulate %d) differs", acc);
        memcpy(dx1, dr, N * C * sizeof(float));       /* in place: dx is dr */
        if (acc) for (int i = 0; i < N * C; i++) dx0[i] = 0.5f;
        if (acc) gs_bn1d_dx(x, dy, dx0, N, C, 3, C, ka, kb, kc, NULL, NULL, 0);
        gs_bn1d_dx(x, dx1, dx1, N, C, 3, C, ka, kb, kc, scale, shift, 0);
        for (int i = 0; i < N; i++)
            CHECK(!memcmp(dx0 + i * C + 3, dx1 + i * C + 3, (C - 3) * sizeof(float)),
                  "gs_bn1d_dx with the relu, in place, differs");
    }
    /* BatchNorm2d's: rows of S, one channel's map a, b */
    const float a = 0.5f, b = -1.5f, mu = 0.25f;
    for (size_t i = 0; i < (size_t)N * S; i++) x[i] = fused_x(i, a, b);
    gs_affine(x, y0, NULL, (size_t)N * S, a, b);
    gs_affine(x, y1, r1, (size_t)N * S, a, b);
    gs_act_forward(GS_ACT_RELU, y0, r0, (size_t)N * S);
    gs_act_backward(GS_ACT_RELU, y0, NULL, dr, dy, (size_t)N * S, 0);
    CHECK(!memcmp(y0, y1, N * S * sizeof(float)) && !memcmp(r0, r1, N * S * sizeof(float)),
          "gs_affine with the relu differs from gs_affine then relu");
    for (size_t n = 1; n <= (size_t)N * S; n += n < 40 ? 1 : 37) {
        double a0, b0, a1, b1;
        /* one row of n, and (where n splits) 5 rows of n / 5 that are 2 n / 5 apart */
        for (int rows = 1; rows <= 5; rows += 4) {
            if (n % (size_t)rows || 2 * n > (size_t)N * S) continue;
            const size_t len = n / (size_t)rows, stride = rows > 1 ? 2 * len : len;
            gs_rows_dot_centered(dy, x, rows, len, stride, mu, 0, 0.0f, 0.0f, &a0, &b0);
            gs_rows_dot_centered(dr, x, rows, len, stride, mu, 1, a, b, &a1, &b1);
            CHECK((a0 == a1 || (isnan(a0) && isnan(a1))) && (b0 == b1 || (isnan(b0) && isnan(b1))),
                  "gs_rows_dot_centered with the relu, %d row(s) of %zu: %.17g %.17g, expected %.17g %.17g", rows,
                  len, a1, b1, a0, b0);
        }
        for (int acc = 0; acc < 2; acc++) {
            for (size_t i = 0; i < n; i++) dx0[i] = dx1[i] = 0.5f;
            gs_affine2(dy, x, dx0, n, 0.3f, -0.2f, 0.1f, 0, 0.0f, 0.0f, acc);
            gs_affine2(dr, x, dx1, n, 0.3f, -0.2f, 0.1f, 1, a, b, acc);
            CHECK(!memcmp(dx0, dx1, n * sizeof(float)), "gs_affine2 with the relu over %zu (accumulate %d) differs", n,
                  acc);
        }
        memcpy(dx1, dr, n * sizeof(float));
        gs_affine2(dy, x, dx0, n, 0.3f, -0.2f, 0.1f, 0, 0.0f, 0.0f, 0);
        gs_affine2(dx1, x, dx1, n, 0.3f, -0.2f, 0.1f, 1, a, b, 0);
        CHECK(!memcmp(dx0, dx1, n * sizeof(float)), "gs_affine2 with the relu over %zu, in place, differs", n);
    }
    size_t zeros = 0;
    for (size_t i = 0; i < (size_t)N * S; i++) zeros += y0[i] == 0.0f;
    CHECK(zeros >= 10, "only %zu exact zeros of y tried", zeros);
}

int main(void)
{
    RUN(test_forward_grid);
    RUN(test_sweeps);
    RUN(test_finite_differences);
    RUN(test_backward_vs_deriv_ref);
    RUN(test_lengths_alias_accumulate);
    RUN(test_rows);
    RUN(test_pytorch_golden);
    RUN(test_names);
    RUN(test_deriv_max);
    RUN(test_saturation);
    RUN(test_relu_fused_norm);
    return FINISH();
}
