/* procrustes.h - the scaled polar factor of a weight matrix (Zaeemzadeh et
 * al. 2018's Procrustes step, applied by gs_train with procrustes set). */
#ifndef GS_PROCRUSTES_H
#define GS_PROCRUSTES_H
#include <stddef.h>
#include "kernels/backend.h"

/* Floats of work gs_procrustes_project needs for an r x c matrix (the buffer aligned for doubles). */
size_t gs_procrustes_work_floats(int r, int c);
/* W (r x c, row-major) <- s U Vᵀ with W = U Σ Vᵀ and s = ||W||_F / sqrt(min(r, c)); a zero W stays.
 * Returns the Newton-Schulz iterations used. */
int gs_procrustes_project(const gs_backend *be, float *W, int r, int c, float *work, int threads);

#endif
