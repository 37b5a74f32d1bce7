/* paths.h - the gradient at x_0 split by path length (DESIGN.md §3), the
 * pieces below gs_paths_compute that the tests reach too.
 *
 * A residual block b maps x_b to x_{b+1} through a shortcut S_b (identity,
 * option A, or a projection), a branch F_b, their sum, and for post blocks
 * an activation.  Linearised at an eval-mode forward pass, the backward step
 * is g_b = S_bᵀ D_b g_{b+1} + A_bᵀ D_b g_{b+1}; every vector-Jacobian
 * product here is the layers' own backward, run on scratch buffers (the
 * model's activations and gradients are left as they are, parameter
 * gradients go to a scratch block).
 */
#ifndef GS_PATHS_H
#define GS_PATHS_H
#include "models/model.h"

typedef struct gs_paths_work gs_paths_work;

/* Eval-mode forward, loss and backward of (x, labels) (N samples), then the
 * block structure.  GS_EINVAL when m has no residual blocks or N is out of
 * range; GS_ENOMEM. */
int gs_paths_prepare(gs_model *m, const float *x, const int32_t *labels, int N, gs_paths_work **out);
void gs_paths_work_free(gs_paths_work *w);
int gs_paths_blocks(const gs_paths_work *w);
/* Floats of one vector at x_0 (N times its features). */
size_t gs_paths_x0_len(const gs_paths_work *w);
/* ∂L/∂x_0 from the ordinary backward. */
const float *gs_paths_x0_grad(const gs_paths_work *w);
/* g[k] (k = 0..blocks), each gs_paths_x0_len floats: the part of ∂L/∂x_0
 * carried by the paths through exactly k branches (a dynamic programme over
 * blocks).  The arrays belong to w and stay valid until the next call. */
int gs_paths_exact(gs_paths_work *w, float *const **g);
/* ∂L/∂x_n sent backward through the branch alone in the blocks b with
 * branch[b] != 0 and through the shortcut alone in the others, into out
 * (gs_paths_x0_len floats). */
void gs_paths_subset(gs_paths_work *w, const unsigned char *branch, float *out);

#endif
