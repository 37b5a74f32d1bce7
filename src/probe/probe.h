/* probe.h - internal side of the instruments: where the optimizer writes
 * the per-parameter statistics, and the first non-finite value's origin. */
#ifndef GS_PROBE_H
#define GS_PROBE_H
#include "models/model.h"

/* ||x||_2 of n floats, accumulated in double. */
double gs_probe_norm2(const float *x, size_t n);

/* (n_trainable x 3) floats: grad_norm, param_norm, update_ratio per
 * trainable tensor in model order; NULL-safe (returns NULL). */
float *gs_probe_param_slots(gs_probe *p);

/* Find the first non-finite value of the last step: forward in node order,
 * then backward in reverse order.  Writes "layer <node's layer>, tensor
 * <output|gradient>, <forward|backward>" into buf; 0 if none was found. */
int gs_model_find_nonfinite(const gs_model *m, int backward, char *buf, size_t len);

#endif
