/* threads.c - how many threads the kernels use.  OpenMP when built with it,
 * one thread otherwise. */
#ifdef _OPENMP
#include <omp.h>
#endif
#include "core.h"

int gs_ctx_threads(const gs_ctx *ctx)
{
    if (ctx && ctx->threads > 0) return ctx->threads;
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
