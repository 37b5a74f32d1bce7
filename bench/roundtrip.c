/* roundtrip.c - how far apart the two cpus are: the time one cache line takes to go from cpu 0
 * to cpu 1 and back, two threads pinned one to each, passing a counter back and forth.
 *
 * A 2-thread training step hands every layer's output from one core to the other, so its speed
 * follows this figure.  On a virtual machine it changes with where the host places the vCPUs
 * (this project's VM has shown 110 ns to 1.1 us, sometimes within minutes), and table.sh prints
 * it beside the thread scaling so a reader can tell which placement a table was taken in.
 *   usage: roundtrip [trips (default 200000)] [cpu a (0)] [cpu b (1)]
 * Prints "roundtrip_ns <median of 5 runs>" on stdout, each run on stderr; exit 1 when the
 * threads cannot be started or pinned. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static _Alignas(64) _Atomic long ball;
static long trips;

static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

typedef struct { int cpu, ok; } other_arg;

/* The other side: waits for each odd value and answers with the next even one. */
static void *other(void *p)
{
    other_arg *a = p;
    a->ok = pin(a->cpu) == 0;
    for (long i = 0; i < trips; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1) { }
        atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    trips = argc > 1 ? atol(argv[1]) : 200000;
    const int cpu_a = argc > 2 ? atoi(argv[2]) : 0, cpu_b = argc > 3 ? atoi(argv[3]) : 1;
    if (trips < 1) { fprintf(stderr, "roundtrip: trips must be at least 1\n"); return 1; }
    if (pin(cpu_a) != 0) { fprintf(stderr, "roundtrip: cannot pin to cpu %d\n", cpu_a); return 1; }
    double runs[5];
    for (int r = 0; r < 5; r++) {
        atomic_store(&ball, 0);
        other_arg a = { cpu_b, 0 };
        pthread_t t;
        if (pthread_create(&t, NULL, other, &a) != 0) { fprintf(stderr, "roundtrip: cannot start a thread\n"); return 1; }
        const double t0 = now_ns();
        for (long i = 0; i < trips; i++) {
            atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
            while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2) { }
        }
        runs[r] = (now_ns() - t0) / (double)trips;
        pthread_join(t, NULL);
        if (!a.ok) { fprintf(stderr, "roundtrip: cannot pin to cpu %d\n", cpu_b); return 1; }
        fprintf(stderr, "roundtrip: cpu %d <-> cpu %d: %.0f ns\n", cpu_a, cpu_b, runs[r]);
    }
    qsort(runs, 5, sizeof *runs, cmp_double);
    printf("roundtrip_ns %.0f\n", runs[2]);
    return 0;
}
