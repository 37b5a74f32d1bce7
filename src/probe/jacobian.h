/* jacobian.h - the Jacobian ∂h_L/∂h_0 of a network's body (DESIGN.md §2,
 * "Jacobian spectrum"): products with it and its transpose, and the dense
 * SVD that checks the iterative answer where widths are small.
 *
 * h_0 and h_L are the input of the first and the output of the last residual
 * block (x_0, x_n), or for a plain net the input of its first and the output
 * of its last same-shape unit (the units a lesion deletes).  Everything is
 * linearised at one eval-mode forward pass; samples do not interact in eval
 * mode, so J is block diagonal over the batch and every vector here holds one
 * vector per sample, (N, features) row-major.
 */
#ifndef GS_JACOBIAN_H
#define GS_JACOBIAN_H
#include "models/model.h"

typedef struct gs_jac gs_jac;

/* Eval-mode forward of x (N samples), then the node range from h_0 to h_L.
 * GS_EINVAL when m has neither residual blocks nor plain units, a node in the
 * range reads a value from outside it, or a node kind has no forward-mode
 * product (naming it); GS_ENOMEM. */
int gs_jac_prepare(gs_model *m, const float *x, int N, gs_jac **out);
void gs_jac_free(gs_jac *J);
int64_t gs_jac_in_features(const gs_jac *J);
int64_t gs_jac_out_features(const gs_jac *J);
int gs_jac_residual(const gs_jac *J);
/* u = J v: v (N, in), u (N, out). */
void gs_jac_jvp(gs_jac *J, const float *v, float *u);
/* v = Jᵀ u: u (N, out), v (N, in). */
void gs_jac_vjp(gs_jac *J, const float *u, float *v);

/* One-sided Jacobi SVD of A (rows x cols, column-major, rows >= cols): A
 * becomes U Σ (its columns are the left singular vectors scaled by σ), sv the
 * singular values, descending, the columns of A (and of V when not NULL,
 * cols x cols column-major, set to the right singular vectors) in the same
 * order.  Converges to working precision; returns the sweeps taken. */
int gs_svd_jacobi(double *A, int rows, int cols, double *sv, double *V);

#endif
