/* threads.c - the thread budget (threads.h): two atomic counters. */
#include "threads.h"

#include <omp.h>
#include <stdatomic.h>

static atomic_int budget;  /* 0: not set, OpenMP's count */
static atomic_int running; /* requests between enter and leave */
static atomic_int unshared; /* 1: sharing off */

/* Sets the budget. */
void lc_threads_set_budget(int n) { atomic_store(&budget, n > 0 ? n : 0); }

/* The budget. */
int lc_threads_budget(void) {
  const int b = atomic_load(&budget);
  return b > 0 ? b : omp_get_max_threads();
}

void lc_threads_set_sharing(int on) { atomic_store(&unshared, !on); }

void lc_threads_enter(void) { atomic_fetch_add(&running, 1); }
void lc_threads_leave(void) { atomic_fetch_sub(&running, 1); }

/* The team size of a region. */
int lc_threads_share(int requested) {
  if (requested > 0) return requested;
  const int r = atomic_load(&unshared) ? 1 : atomic_load(&running), b = lc_threads_budget();
  const int n = r > 1 ? b / r : b;
  return n > 0 ? n : 1;
}
