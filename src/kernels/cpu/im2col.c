/* im2col.c - im2col / col2im for the GEMM convolution, and the naive direct
 * convolution kept alive as its oracle (see im2col.h for the layouts).
 *
 * Both im2col and col2im walk one output row (oh) of one kernel tap at a time
 * and work out, once per row, the range of ow whose input column lies inside
 * the image, so the inner loops carry no bounds tests (a memcpy at stride 1).
 */
#include "kernels/cpu/im2col.h"

#include <string.h>

/* The ow in [*lo, *hi) for which 0 <= ow*stride - pad + kj < W. */
static void valid_range(int Wo, int W, int stride, int pad, int kj, int *lo, int *hi)
{
    int a = pad - kj;                                   /* need ow*stride >= a */
    int l = a <= 0 ? 0 : (a + stride - 1) / stride;
    int b = W - 1 + pad - kj;                           /* need ow*stride <= b */
    int h = b < 0 ? 0 : b / stride + 1;
    if (l > Wo) l = Wo;
    if (h > Wo) h = Wo;
    if (h < l) h = l;
    *lo = l; *hi = h;
}

/* Stride 1 with Wo == W ("same" width, e.g. 3x3 pad 1): a kernel tap's row of col is the image
 * plane shifted by delta = (ki - pad) W + (kj - pad) as one flat array, except the columns ow
 * whose input column falls off the left or right edge ([0, lo) and [hi, Wo)), which are zero. */
static int flat_shift(int W, int kw, int stride, int pad) { return stride == 1 && 2 * pad + 1 == kw && W > 0; }

static void flat_span(int H, int W, int Ho, int ki, int kj, int pad, long *delta, long *jlo, long *jhi)
{
    const long P = (long)Ho * W, HW = (long)H * W;
    *delta = (long)(ki - pad) * W + (kj - pad);
    *jlo = *delta < 0 ? -*delta : 0;
    *jhi = HW - *delta < P ? HW - *delta : P;
    if (*jlo > P) *jlo = P;
    if (*jhi < *jlo) *jhi = *jlo;
}

/* Zero columns [c0, c1) of the n_rows rows of width Wo starting at dst.  Column by column with
 * the rows inner: written row by row, gcc turns each row's one or two floats into a memset call. */
static void zero_columns(float *dst, int n_rows, int Wo, int c0, int c1)
{
    for (int ow = c0; ow < c1; ow++)
        for (int oh = 0; oh < n_rows; oh++) dst[(size_t)oh * Wo + ow] = 0.0f;
}

static void im2col_flat(const float *x, int C, int H, int W, int kh, int kw, int pad, float *col, size_t ldcol)
{
    const int Ho = H + 2 * pad - kh + 1, Wo = W;
    const size_t P = (size_t)Ho * Wo;
    for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t)c * H * W;
        for (int ki = 0; ki < kh; ki++)
            for (int kj = 0; kj < kw; kj++) {
                float *row = col + ((size_t)(c * kh + ki) * kw + kj) * ldcol;
                long delta, jlo, jhi;
                int lo, hi;
                flat_span(H, W, Ho, ki, kj, pad, &delta, &jlo, &jhi);
                if (jlo > 0) memset(row, 0, (size_t)jlo * sizeof *row);
                if (jhi > jlo) memcpy(row + jlo, xc + (jlo + delta), (size_t)(jhi - jlo) * sizeof *row);
                if ((size_t)jhi < P) memset(row + jhi, 0, (P - (size_t)jhi) * sizeof *row);
                valid_range(Wo, W, 1, pad, kj, &lo, &hi);
                zero_columns(row, Ho, Wo, 0, lo);
                zero_columns(row, Ho, Wo, hi, Wo);
            }
    }
}

void gs_im2col(const float *x, int C, int H, int W, int kh, int kw, int stride, int pad,
               float *col, size_t ldcol)
{
    const int Ho = (H + 2 * pad - kh) / stride + 1, Wo = (W + 2 * pad - kw) / stride + 1;
    if (flat_shift(W, kw, stride, pad)) {
        im2col_flat(x, C, H, W, kh, kw, pad, col, ldcol);
        return;
    }
    for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t)c * H * W;
        for (int ki = 0; ki < kh; ki++)
            for (int kj = 0; kj < kw; kj++) {
                float *row = col + ((size_t)(c * kh + ki) * kw + kj) * ldcol;
                int lo, hi;
                valid_range(Wo, W, stride, pad, kj, &lo, &hi);
                /* the rows oh whose input row oh stride - pad + ki lies inside the image */
                int oh0, oh1;
                valid_range(Ho, H, stride, pad, ki, &oh0, &oh1);
                if (lo == hi) oh1 = oh0;
                if (oh0 > 0) memset(row, 0, (size_t)oh0 * Wo * sizeof *row);
                for (int oh = oh0; oh < oh1; oh++) {
                    float *dst = row + (size_t)oh * Wo;
                    const float *src = xc + (size_t)(oh * stride - pad + ki) * W + (lo * stride - pad + kj);
                    if (stride == 1) memcpy(dst + lo, src, (size_t)(hi - lo) * sizeof *dst);
                    else for (int ow = lo; ow < hi; ow++) dst[ow] = src[(size_t)(ow - lo) * stride];
                }
                if (oh1 < Ho) memset(row + (size_t)oh1 * Wo, 0, (size_t)(Ho - oh1) * Wo * sizeof *row);
                zero_columns(row + (size_t)oh0 * Wo, oh1 - oh0, Wo, 0, lo);
                zero_columns(row + (size_t)oh0 * Wo, oh1 - oh0, Wo, hi, Wo);
            }
    }
}

/* The adjoint of im2col_flat: zero the edge columns of dcol, then add each row back as one flat
 * shifted array.  Overwriting, the first tap of a plane is stored rather than added to zeros (the
 * same sums), and only the rest of the plane is zeroed first. */
static void col2im_flat(float *dcol, size_t ldcol, int C, int H, int W, int kh, int kw, int pad, float *dx,
                        int accumulate)
{
    const int Ho = H + 2 * pad - kh + 1, Wo = W;
    const long HW = (long)H * W;
    for (int c = 0; c < C; c++) {
        float *dxc = dx + (size_t)c * H * W;
        for (int ki = 0; ki < kh; ki++)
            for (int kj = 0; kj < kw; kj++) {
                float *row = dcol + ((size_t)(c * kh + ki) * kw + kj) * ldcol;
                long delta, jlo, jhi;
                int lo, hi;
                flat_span(H, W, Ho, ki, kj, pad, &delta, &jlo, &jhi);
                valid_range(Wo, W, 1, pad, kj, &lo, &hi);
                zero_columns(row, Ho, Wo, 0, lo);
                zero_columns(row, Ho, Wo, hi, Wo);
                float *restrict d = dxc + (jlo + delta);
                const float *restrict r = row + jlo;
                const long a = jlo + delta, b = jhi + delta;    /* the span of dx this tap reaches */
                if (!accumulate && ki == 0 && kj == 0) {
                    if (jhi > jlo && a >= 0 && b <= HW) {
                        if (a > 0) memset(dxc, 0, (size_t)a * sizeof *dxc);
                        for (long j = 0; j < jhi - jlo; j++) d[j] = r[j];
                        if (b < HW) memset(dxc + b, 0, (size_t)(HW - b) * sizeof *dxc);
                        continue;
                    }
                    memset(dxc, 0, (size_t)HW * sizeof *dxc);
                }
                for (long j = 0; j < jhi - jlo; j++) d[j] += r[j];
            }
    }
}

void gs_col2im(float *dcol, size_t ldcol, int C, int H, int W, int kh, int kw, int stride, int pad, float *dx,
               int accumulate)
{
    const int Ho = (H + 2 * pad - kh) / stride + 1, Wo = (W + 2 * pad - kw) / stride + 1;
    if (flat_shift(W, kw, stride, pad)) {
        col2im_flat(dcol, ldcol, C, H, W, kh, kw, pad, dx, accumulate);
        return;
    }
    if (!accumulate) memset(dx, 0, (size_t)C * H * W * sizeof *dx);
    for (int c = 0; c < C; c++) {
        float *dxc = dx + (size_t)c * H * W;
        for (int ki = 0; ki < kh; ki++)
            for (int kj = 0; kj < kw; kj++) {
                const float *row = dcol + ((size_t)(c * kh + ki) * kw + kj) * ldcol;
                int lo, hi;
                valid_range(Wo, W, stride, pad, kj, &lo, &hi);
                if (lo == hi) continue;
                for (int oh = 0; oh < Ho; oh++) {
                    const int ih = oh * stride - pad + ki;
                    if (ih < 0 || ih >= H) continue;
                    const float *src = row + (size_t)oh * Wo;
                    float *dst = dxc + (size_t)ih * W + (lo * stride - pad + kj);
                    if (stride == 1) for (int ow = lo; ow < hi; ow++) dst[ow - lo] += src[ow];
                    else for (int ow = lo; ow < hi; ow++) dst[(size_t)(ow - lo) * stride] += src[ow];
                }
            }
    }
}

void gs_conv2d_naive_forward(const float *x, const float *w, const float *b, float *y, int N, int C, int H,
                             int W, int O, int kh, int kw, int stride, int pad)
{
    const int Ho = (H + 2 * pad - kh) / stride + 1, Wo = (W + 2 * pad - kw) / stride + 1;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++)
            for (int oh = 0; oh < Ho; oh++)
                for (int ow = 0; ow < Wo; ow++) {
                    double s = b ? b[o] : 0.0;
                    for (int c = 0; c < C; c++)
                        for (int ki = 0; ki < kh; ki++) {
                            const int ih = oh * stride - pad + ki;
                            if (ih < 0 || ih >= H) continue;
                            for (int kj = 0; kj < kw; kj++) {
                                const int iw = ow * stride - pad + kj;
                                if (iw < 0 || iw >= W) continue;
                                s += (double)x[(((size_t)n * C + c) * H + ih) * W + iw] *
                                     w[(((size_t)o * C + c) * kh + ki) * kw + kj];
                            }
                        }
                    y[(((size_t)n * O + o) * Ho + oh) * Wo + ow] = (float)s;
                }
}

/* dw[o][c][ki][kj] = sum_{n,oh,ow} dy[n][o][oh][ow] x[n][c][ih][iw];  db[o] = sum dy[n][o];
 * dx[n][c][ih][iw] = sum over (o, ki, kj, oh, ow) hitting (ih, iw) of dy w. */
void gs_conv2d_naive_backward(const float *x, const float *w, const float *dy, float *dx, float *dw,
                              float *db, int N, int C, int H, int W, int O, int kh, int kw, int stride,
                              int pad)
{
    const int Ho = (H + 2 * pad - kh) / stride + 1, Wo = (W + 2 * pad - kw) / stride + 1;
    if (db)
        for (int o = 0; o < O; o++) {
            double s = 0;
            for (int n = 0; n < N; n++)
                for (int k = 0; k < Ho * Wo; k++) s += dy[((size_t)n * O + o) * Ho * Wo + k];
            db[o] = (float)s;
        }
    if (dw)
        for (int o = 0; o < O; o++)
            for (int c = 0; c < C; c++)
                for (int ki = 0; ki < kh; ki++)
                    for (int kj = 0; kj < kw; kj++) {
                        double s = 0;
                        for (int n = 0; n < N; n++)
                            for (int oh = 0; oh < Ho; oh++) {
                                const int ih = oh * stride - pad + ki;
                                if (ih < 0 || ih >= H) continue;
                                for (int ow = 0; ow < Wo; ow++) {
                                    const int iw = ow * stride - pad + kj;
                                    if (iw < 0 || iw >= W) continue;
                                    s += (double)dy[(((size_t)n * O + o) * Ho + oh) * Wo + ow] *
                                         x[(((size_t)n * C + c) * H + ih) * W + iw];
                                }
                            }
                        dw[(((size_t)o * C + c) * kh + ki) * kw + kj] = (float)s;
                    }
    if (dx)
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int ih = 0; ih < H; ih++)
                    for (int iw = 0; iw < W; iw++) {
                        double s = 0;
                        for (int ki = 0; ki < kh; ki++) {
                            const int t = ih + pad - ki;           /* = oh * stride */
                            if (t < 0 || t % stride) continue;
                            const int oh = t / stride;
                            if (oh >= Ho) continue;
                            for (int kj = 0; kj < kw; kj++) {
                                const int u = iw + pad - kj;
                                if (u < 0 || u % stride) continue;
                                const int ow = u / stride;
                                if (ow >= Wo) continue;
                                for (int o = 0; o < O; o++)
                                    s += (double)dy[(((size_t)n * O + o) * Ho + oh) * Wo + ow] *
                                         w[(((size_t)o * C + c) * kh + ki) * kw + kj];
                            }
                        }
                        dx[(((size_t)n * C + c) * H + ih) * W + iw] = (float)s;
                    }
}
