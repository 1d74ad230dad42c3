/* threads.h - the process's thread budget: how many CPU threads the
 * engine's parallel regions may use together.
 *
 * A daemon runs several requests at once (one per worker); each request's
 * parallel regions would otherwise take every core, so W workers on C cores
 * ran W x C threads.  Instead the budget (the daemon's --threads, default
 * the cores it may use) is shared: a request marks itself running with
 * lc_threads_enter / lc_threads_leave, and each parallel region asks
 * lc_threads_share for its team size, budget / (requests running), at least
 * 1.  One busy request still gets the whole budget; two share it.  The share
 * is read afresh at every region, so it follows the load within a request.
 *
 * Thread safety: every function may be called from any thread. */
#ifndef LC_THREADS_H
#define LC_THREADS_H

#if defined(__cplusplus)
extern "C" {
#endif

/* Sets the budget to n threads (n <= 0: every thread OpenMP would use, i.e.
 * OMP_NUM_THREADS or the cores). */
void lc_threads_set_budget(int n);

/* The budget in threads (>= 1). */
int lc_threads_budget(void);

/* Marks one more request running. */
void lc_threads_enter(void);

/* Marks one request done (pairs with lc_threads_enter). */
void lc_threads_leave(void);

/* Sharing on (1, the default) or off (0: every request takes the whole
 * budget, as before the budget existed; for comparisons). */
void lc_threads_set_sharing(int on);

/* The team size for a parallel region: requested when > 0 (a problem's own
 * setting), else the budget divided among the running requests (>= 1). */
int lc_threads_share(int requested);

#if defined(__cplusplus)
}
#endif

#endif
