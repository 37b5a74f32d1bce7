/* threads.c - how many threads the kernels use.  OpenMP when built with it,
 * one thread otherwise, whatever was asked (the kernels split their work by
 * this number, and without OpenMP only one share would run). */
#ifdef _OPENMP
#include <omp.h>
#endif
#include "core.h"

int gs_ctx_threads(const gs_ctx *ctx)
{
#ifdef _OPENMP
    if (ctx && ctx->threads > 0) return ctx->threads;
    return omp_get_max_threads();
#else
    (void)ctx;
    return 1;
#endif
}
