/* team.h - a cheap fork/join for the many short parallel steps of a pass.
 *
 * An OpenMP fork/join of 2 threads costs ~3.5-5 µs on the 2-vCPU machines this was measured on
 * (several cache lines cross between the cores each time, ~250 ns apiece), and an mlp-50 step makes
 * 250-400 of them.  gs_team_host opens one OpenMP region for a whole pass: the calling thread runs
 * the pass, the others wait (spinning) for jobs, and gs_team_run hands each job to all of them
 * through one cache line and collects them through another (~0.5 µs).  Shares are split exactly as
 * the OpenMP regions split them, so the results have the same bits.
 */
#ifndef GS_TEAM_H
#define GS_TEAM_H

#include <stdatomic.h>
#include <stdint.h>

/* A job: thread t of T does its share of arg. */
typedef void gs_team_fn(void *arg, int t, int T);

/* Run body(arg) on the calling thread while threads - 1 others serve gs_team_run's jobs; returns
 * when body has returned and the others have left.  threads < 2, no OpenMP, or already inside a
 * team or a parallel region: body(arg) runs alone and gs_team_size() stays 0. */
void gs_team_host(int threads, void (*body)(void *arg), void *arg);

/* Inside gs_team_host's body, on the calling thread: the team's size; else 0. */
int gs_team_size(void);

/* Run fn(arg, t, T) for t = 0..T-1 on the team (t = 0 on the caller) and return when every share is
 * done.  Only where gs_team_size() > 0. */
void gs_team_run(gs_team_fn *fn, void *arg);

/* Two threads sharing `units` units of a job from both ends: thread 0 runs the first 3/8 and thread
 * 1 the last 3/8 straight away, then each takes the middle ones one at a time, from the front and
 * from the back, through *middle (set to gs_team_ends_start(units) before the job), so the thread on
 * a slower cpu runs fewer.  run(arg, u0, u1) does units [u0, u1).  Which thread runs a unit depends
 * on the timing; what a unit computes must not. */
typedef void gs_units_fn(void *arg, int u0, int u1);
uint64_t gs_team_ends_start(int units);
void gs_team_ends(int t, int units, _Atomic uint64_t *middle, gs_units_fn *run, void *arg);

#endif
