/* init.c - parameter initialisation from a seed (DESIGN.md §1): he/glorot/
 * lecun/orthogonal/torch for Linear weights, zero biases (torch: uniform
 * ±1/sqrt(fan_in) like nn.Linear), norms weight 1 bias 0, running mean 0
 * var 1, ReZero alphas 0; --zero-last zeroes the last norm weight (or last
 * layer) of each residual branch; fixup (Zhang et al. 2019, without its
 * scalar biases and multipliers) zeroes each branch's last layer and the
 * classifier and scales the branches' other layers by L^(-1/(2m-2)).  Tensors are drawn in state_dict order
 * from one generator, so the same seed gives the same network. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "models/model.h"

/* Rows of w (O x I) orthonormal when O <= I, else columns (modified Gram-Schmidt). */
static void orthogonalise(float *w, int O, int I)
{
    const int rows = O <= I;
    const int n = rows ? O : I, len = rows ? I : O;
    for (int a = 0; a < n; a++) {
        for (int b = 0; b < a; b++) {
            double dot = 0;
            for (int k = 0; k < len; k++)
                dot += (double)(rows ? w[(size_t)a * I + k] : w[(size_t)k * I + a]) *
                       (rows ? w[(size_t)b * I + k] : w[(size_t)k * I + b]);
            for (int k = 0; k < len; k++) {
                if (rows) w[(size_t)a * I + k] -= (float)dot * w[(size_t)b * I + k];
                else w[(size_t)k * I + a] -= (float)dot * w[(size_t)k * I + b];
            }
        }
        double nrm = 0;
        for (int k = 0; k < len; k++) {
            double v = rows ? w[(size_t)a * I + k] : w[(size_t)k * I + a];
            nrm += v * v;
        }
        nrm = nrm > 0 ? 1.0 / sqrt(nrm) : 0;
        for (int k = 0; k < len; k++) {
            if (rows) w[(size_t)a * I + k] *= (float)nrm;
            else w[(size_t)k * I + a] *= (float)nrm;
        }
    }
}

static void init_weight(gs_rng *r, gs_init kind, float *w, const gs_tensor_slot *s)
{
    const double fi = s->fan_in, fo = s->fan_out;
    const size_t n = s->info.numel;
    double bound = 0, std = 0;
    switch (kind) {
    case GS_INIT_HE_NORMAL:      std = sqrt(2.0 / fi); break;
    case GS_INIT_HE_UNIFORM:     bound = sqrt(6.0 / fi); break;
    case GS_INIT_GLOROT_UNIFORM: bound = sqrt(6.0 / (fi + fo)); break;
    case GS_INIT_GLOROT_NORMAL:  std = sqrt(2.0 / (fi + fo)); break;
    case GS_INIT_LECUN_NORMAL:   std = sqrt(1.0 / fi); break;
    case GS_INIT_TORCH:          bound = 1.0 / sqrt(fi); break;
    case GS_INIT_ORTHOGONAL:     std = 1.0; break;
    case GS_INIT_FIXUP:          std = sqrt(2.0 / fi); break;   /* scaled or zeroed by gs_model_init */
    }
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(std > 0 ? std * gs_rng_normal(r) : bound * (2.0 * gs_rng_uniform(r) - 1.0));
    if (kind == GS_INIT_ORTHOGONAL && s->info.ndim == 2)
        orthogonalise(w, (int)s->info.shape[0], (int)s->info.shape[1]);
}

int gs_model_init(gs_model *m, uint64_t seed)
{
    gs_rng r;
    gs_rng_seed(&r, seed);
    const int residual = m->n_block_in > 1;
    /* fixup: L residual branches of m layers each */
    const int L = m->n_block_in - 1, per = strcmp(m->cfg.family, "mlp") == 0 ? m->cfg.skip : 2;
    const double fixup_scale = residual && per > 1 ? pow((double)L, -1.0 / (2.0 * per - 2.0)) : 1.0;
    for (int i = 0; i < m->n_tensors; i++) {
        gs_tensor_slot *s = &m->tensors[i];
        float *d = s->info.data;
        const size_t n = s->info.numel;
        switch (s->role) {
        case GS_ROLE_WEIGHT:
            init_weight(&r, m->cfg.init, d, s);
            if (m->cfg.zero_last && residual && s->branch_last) memset(d, 0, n * sizeof *d);
            if (m->cfg.init == GS_INIT_FIXUP && residual) {
                if (s->fixup >= 2) memset(d, 0, n * sizeof *d);
                else if (s->fixup == 1) for (size_t k = 0; k < n; k++) d[k] *= (float)fixup_scale;
            }
            break;
        case GS_ROLE_BIAS:
            for (size_t k = 0; k < n; k++)
                d[k] = m->cfg.init == GS_INIT_TORCH ? (float)((2.0 * gs_rng_uniform(&r) - 1.0) / sqrt((double)s->fan_in)) : 0.0f;
            break;
        case GS_ROLE_NORM_WEIGHT:
            for (size_t k = 0; k < n; k++) d[k] = m->cfg.zero_last && residual && s->branch_last ? 0.0f : 1.0f;
            break;
        case GS_ROLE_RUNNING_VAR:
            for (size_t k = 0; k < n; k++) d[k] = 1.0f;
            break;
        default:
            memset(d, 0, n * sizeof *d);
            break;
        }
    }
    return GS_OK;
}
