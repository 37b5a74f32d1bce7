/* ranges.c - gs_parallel_ranges (layer.h). */
#include "layers/layer.h"
#include "team.h"

/* Two threads share the range in GS_RANGE_UNITS units from both ends (gs_team_ends); more split it
 * as GS_PARALLEL_RANGES_W does.  A range job's elements must not depend on how it is cut. */
#define GS_RANGE_UNITS 8
typedef struct ranges_job {
    size_t n;
    gs_range_fn *fn;
    void *arg;
    _Atomic uint64_t middle;
} ranges_job;

static void run_units(void *arg, int u0, int u1)
{
    const ranges_job *j = arg;
    size_t lo, hi, lo1, hi1;
    gs_range_share(j->n, (size_t)u0, GS_RANGE_UNITS, &lo, &hi);
    gs_range_share(j->n, (size_t)u1 - 1, GS_RANGE_UNITS, &lo1, &hi1);
    if (lo < hi1) j->fn(j->arg, lo, hi1);
}

static void ranges_job_run(void *arg, int t, int T)
{
    ranges_job *j = arg;
    if (T == 2) {
        gs_team_ends(t, GS_RANGE_UNITS, &j->middle, run_units, j);
        return;
    }
    size_t lo, hi;
    gs_range_share(j->n, (size_t)t, (size_t)T, &lo, &hi);
    if (lo < hi) j->fn(j->arg, lo, hi);
}

void gs_parallel_ranges(const gs_exec *e, size_t n, size_t work, gs_range_fn *fn, void *arg)
{
    const int T = GS_RANGE_THREADS(e, n, work);
    if (T > 1 && gs_team_size() == T) {
        ranges_job j = { n, fn, arg, 0 };
        atomic_init(&j.middle, gs_team_ends_start(GS_RANGE_UNITS));
        gs_team_run(ranges_job_run, &j);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        gs_range_share(n, (size_t)omp_get_thread_num(), (size_t)omp_get_num_threads(), &lo, &hi);
        if (lo < hi) fn(arg, lo, hi);
    }
#else
    if (n) fn(arg, 0, n);
#endif
}
