/* normratio.c - Zaeemzadeh et al.'s norm preservation at one step: the ratio
 * ||∂L/∂x_b|| / ||∂L/∂x_{b+1}|| of every residual block after one forward and
 * backward pass in train mode (DESIGN.md §2, the instrument's definition),
 * with the blocks that change the shape marked. */
#include <math.h>
#include <string.h>
#include "models/model.h"
#include "probe/probe.h"


int gs_block_norm_ratios(gs_model *m, const float *x, const int32_t *labels, int N, double *ratio, int *transition)
{
    const int nb = m->n_block_in - 1;
    if (nb < 1) return gs_error(m->ctx, GS_EINVAL, "norm ratios: the %s network has no residual blocks", m->cfg.family);
    const int training = m->training, freeze = m->freeze_stats;
    gs_model_set_training(m, 1);
    m->freeze_stats = 1;
    gs_model_zero_grad(m);
    int rc = gs_model_forward(m, x, N);
    if (rc == GS_OK) rc = gs_model_loss(m, labels, NULL);
    if (rc == GS_OK) rc = gs_model_backward(m);
    m->freeze_stats = freeze;
    gs_model_set_training(m, training);
    if (rc) return rc;
    for (int b = 0; b < nb; b++) {
        const gs_value *u = &m->values[m->block_in[b]], *v = &m->values[m->block_in[b + 1]];
        const double gu = gs_probe_norm2(u->grad, (size_t)N * (size_t)u->features);
        const double gv = gs_probe_norm2(v->grad, (size_t)N * (size_t)v->features);
        ratio[b] = gv > 0 ? gu / gv : (gu > 0 ? INFINITY : NAN);
        transition[b] = u->features != v->features;
    }
    return GS_OK;
}

int gs_model_n_blocks(const gs_model *m) { return m->n_block_in > 1 ? m->n_block_in - 1 : 0; }
