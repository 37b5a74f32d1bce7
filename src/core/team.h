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

#endif
