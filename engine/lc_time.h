/* lc_time.h - the host's monotonic clock in seconds, for timings in results
 * and reports (the solver programs time device steps with lc_sclock,
 * solvers/sstep.h).  Needs _POSIX_C_SOURCE >= 199309L before <time.h>. */
#ifndef LC_TIME_H
#define LC_TIME_H

#include <time.h>

/* Seconds on a monotonic clock (only differences mean anything). */
static inline double lc_time_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
