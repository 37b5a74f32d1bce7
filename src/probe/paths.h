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

/* The nodes of residual block b (x_b = m->block_in[b] to x_{b+1}). */
typedef struct gs_block_ops {
    int lo, hi;              /* all its nodes: [lo, hi) */
    int add;                 /* the node adding shortcut (in[0]) and branch (in[1]) */
    int post0, post1;        /* nodes [post0, post1) after the add, up to x_{b+1} (post activation) */
    int *branch, n_branch;   /* nodes from x_b to add.in[1], forward order */
    int *shortcut, n_short;  /* nodes from x_b to add.in[0], forward order (none: identity) */
} gs_block_ops;

/* Every residual block's nodes, (m->n_block_in - 1) of them; GS_EINVAL naming
 * the block when the graph is not shortcut + branch (+ activation). */
int gs_blocks_find(gs_model *m, gs_block_ops **out);
void gs_blocks_free(gs_block_ops *blocks, int n);
/* The node whose output is value v (-1 for the input). */
int gs_model_producer(const gs_model *m, int v);

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
