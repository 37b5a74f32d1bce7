/* im2col.h - the convolution's data movement on raw pointers, and its naive oracle.
 *
 * One image x is (C, H, W) row-major; its column matrix col has C*kh*kw rows
 * (row r = (c*kh + ki)*kw + kj) and Ho*Wo columns (oh*Wo + ow), row stride
 * ldcol >= Ho*Wo, so the columns of several images can sit side by side in one
 * buffer.  col[r][oh*Wo + ow] = x[c][oh*stride - pad + ki][ow*stride - pad + kj],
 * 0 outside the image (zero padding).  col2im is its adjoint and adds into dx.
 *
 * The naive direct convolutions (double accumulation, no im2col) are the test
 * oracle of the fast path; they overwrite their outputs.  Nothing here
 * allocates, fails, prints or exits; shapes are trusted (the layer checks them).
 * At stride 1 with Wo == W (odd kw, pad = (kw - 1) / 2: the "same" convolutions of a resnet) a
 * kernel tap's row is the plane shifted as one flat array, copied or added in one long run.
 */
#ifndef GS_KERNELS_CPU_IM2COL_H
#define GS_KERNELS_CPU_IM2COL_H

#include <stddef.h>

/* Output size of a convolution or pooling along one axis (PyTorch's floor rule). */
static inline int gs_conv_out_size(int in, int k, int stride, int pad)
{
    return (in + 2 * pad - k) / stride + 1;
}

/* col (C*kh*kw, Ho*Wo with row stride ldcol) = im2col(x (C, H, W)). */
void gs_im2col(const float *x, int C, int H, int W, int kh, int kw, int stride, int pad,
               float *col, size_t ldcol);

/* dx (C, H, W) += col2im(dcol) (accumulate != 0) or = col2im(dcol) (accumulate == 0, dx is
 * never read): every column entry added back to the pixel it came from (entries that came from
 * the zero padding are dropped).  dcol is scratch: the entries that came from the padding may be
 * set to zero. */
void gs_col2im(float *dcol, size_t ldcol, int C, int H, int W, int kh, int kw, int stride, int pad,
               float *dx, int accumulate);

/* y (N, O, Ho, Wo) = conv(x (N, C, H, W), w (O, C, kh, kw)) + b (O) (b may be NULL). */
void gs_conv2d_naive_forward(const float *x, const float *w, const float *b, float *y, int N, int C, int H,
                             int W, int O, int kh, int kw, int stride, int pad);

/* From dy (N, O, Ho, Wo): dx (N, C, H, W), dw (O, C, kh, kw), db (O); each may be NULL
 * (not computed); all overwritten. */
void gs_conv2d_naive_backward(const float *x, const float *w, const float *dy, float *dx, float *dw,
                              float *db, int N, int C, int H, int W, int O, int kh, int kw, int stride,
                              int pad);

#endif
