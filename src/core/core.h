/* core.h - internal core of gradscope: context, status messages, rng, arena.
 *
 * Every other layer of the library includes this; it includes only the public
 * header and libc.  Nothing here prints or exits: errors are recorded in the
 * context with gs_error() and returned as negative GS_E* codes.
 */
#ifndef GS_CORE_H
#define GS_CORE_H

#include <stddef.h>
#include <stdint.h>
#include "gradscope.h"

struct gs_ctx {
    char errmsg[1024];
    int threads;            /* 0 = OpenMP default */
    int deterministic;      /* results independent of the thread count (gs_ctx_set_deterministic) */
    int no_team;            /* tests: the OpenMP regions even where a team could serve (test_team_bits) */
    gs_log_fn log;          /* progress/log sink, NULL = silent */
    void *log_user;
};

/* Record a formatted message in ctx (may be NULL) and return code. */
int gs_error(gs_ctx *ctx, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A formatted progress line to ctx's log sink (nothing when there is none). */
void gs_logf(gs_ctx *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Number of threads the kernels should use (>= 1). */
int gs_ctx_threads(const gs_ctx *ctx);

/* ---- random numbers: xoshiro256** seeded by splitmix64; state is plain data ---- */
typedef struct gs_rng { uint64_t s[4]; } gs_rng;
void gs_rng_seed(gs_rng *r, uint64_t seed);
uint64_t gs_rng_u64(gs_rng *r);
double gs_rng_uniform(gs_rng *r);                 /* [0, 1) */
double gs_rng_normal(gs_rng *r);                  /* N(0, 1) */
uint64_t gs_rng_below(gs_rng *r, uint64_t n);     /* [0, n) without bias */

/* ---- n zero floats at a 64-byte boundary, blocks of 2 MB and more in 2 MB pages where the system
 * grants them (memory.c); free() them.  NULL when out of memory. ---- */
float *gs_alloc_zeros(size_t n);

/* ---- checked size arithmetic: return 0 on overflow ---- */
static inline int gs_mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

#endif
