/* team.c - see team.h. */
#include "team.h"

/* The units each thread runs before the shared count: the 3/8 nearest its end. */
static int ends_sure(int units) { return units * 3 / 8; }

uint64_t gs_team_ends_start(int units)
{
    const int sure = ends_sure(units);
    return (uint64_t)sure << 32 | (uint64_t)(units - sure);
}

void gs_team_ends(int t, int units, _Atomic uint64_t *middle, gs_units_fn *run, void *arg)
{
    const int sure = ends_sure(units);
    if (sure > 0) {
        if (t == 0) run(arg, 0, sure);
        else run(arg, units - sure, units);
    }
    uint64_t s = atomic_load_explicit(middle, memory_order_relaxed);
    for (;;) {
        const uint32_t lo = (uint32_t)(s >> 32), hi = (uint32_t)s;
        if (lo >= hi) return;
        const uint64_t next = t == 0 ? (uint64_t)(lo + 1) << 32 | hi : (uint64_t)lo << 32 | (hi - 1);
        if (atomic_compare_exchange_weak_explicit(middle, &s, next, memory_order_relaxed, memory_order_relaxed)) {
            if (t == 0) run(arg, (int)lo, (int)lo + 1);
            else run(arg, (int)hi - 1, (int)hi);
        }
    }
}

#ifdef _OPENMP
#include <omp.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GS_SPIN_PAUSE() _mm_pause()
#else
#define GS_SPIN_PAUSE() ((void)0)
#endif

typedef struct gs_team {
    /* the job line: written by the host, read by the workers */
    _Alignas(64) _Atomic unsigned seq;      /* bumped once per job: the workers wait for it to change */
    gs_team_fn *fn;                         /* NULL with a new seq: leave */
    void *arg;
    int T;
    /* the done line: one count per finished share, written by the workers */
    _Alignas(64) _Atomic unsigned done;
    unsigned want;                          /* host only: what done reaches when this job is over */
} gs_team;

static _Thread_local gs_team *current;

static void serve(gs_team *tm, int t)
{
    unsigned seen = 0;
    for (;;) {
        unsigned s;
        while ((s = atomic_load_explicit(&tm->seq, memory_order_acquire)) == seen) GS_SPIN_PAUSE();
        seen = s;
        gs_team_fn *fn = tm->fn;
        if (!fn) return;
        fn(tm->arg, t, tm->T);
        atomic_fetch_add_explicit(&tm->done, 1, memory_order_release);
    }
}

void gs_team_run(gs_team_fn *fn, void *arg)
{
    gs_team *tm = current;
    tm->fn = fn;
    tm->arg = arg;
    tm->want += (unsigned)(tm->T - 1);
    atomic_fetch_add_explicit(&tm->seq, 1, memory_order_release);
    fn(arg, 0, tm->T);
    while (atomic_load_explicit(&tm->done, memory_order_acquire) != tm->want) GS_SPIN_PAUSE();
}

int gs_team_size(void) { return current ? current->T : 0; }

void gs_team_host(int threads, void (*body)(void *arg), void *arg)
{
    if (threads < 2 || current || omp_in_parallel()) { body(arg); return; }
    gs_team tm;
    atomic_init(&tm.seq, 0);
    atomic_init(&tm.done, 0);
    tm.fn = NULL; tm.arg = NULL; tm.T = threads; tm.want = 0;
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num();
        if (t == 0) {
            /* fewer threads than asked: the region's own count */
            tm.T = omp_get_num_threads();
            current = tm.T > 1 ? &tm : NULL;
            body(arg);
            current = NULL;
            tm.fn = NULL;
            atomic_fetch_add_explicit(&tm.seq, 1, memory_order_release);
        } else {
            serve(&tm, t);
        }
    }
}
#else
void gs_team_host(int threads, void (*body)(void *arg), void *arg) { (void)threads; body(arg); }
int gs_team_size(void) { return 0; }
void gs_team_run(gs_team_fn *fn, void *arg) { fn(arg, 0, 1); }
#endif
