/* vecops.h - the vector operations solvers use, behind a backend table so
 * that the same solver code runs on host arrays (CPU backend) and, later, on
 * device-resident vectors (CUDA backend).  Every reduction is deterministic:
 * the same inputs give bit-identical results whatever the thread count. */
#ifndef LC_VECOPS_H
#define LC_VECOPS_H

#include <stdint.h>

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct lc_vecops {
  double (*dot)(int64_t n, const double *x, const double *y);   /* x . y */
  double (*nrm_inf)(int64_t n, const double *x);                /* max |x_i| */
  void (*axpy)(int64_t n, double a, const double *x, double *y);/* y += a x */
  void (*axpby)(int64_t n, double a, const double *x, double b, double *y); /* y = a x + b y */
  void (*copy)(int64_t n, const double *x, double *y);          /* y = x */
  void (*scale)(int64_t n, double a, double *x);                /* x *= a */
} lc_vecops;

/* The CPU backend's vector operations (OpenMP, fixed-chunk reductions). */
const lc_vecops *lc_vecops_cpu(void);

#if defined(__cplusplus)
}
#endif

#endif
