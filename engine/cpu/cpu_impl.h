/* cpu_impl.h - internals shared by the files of the CPU backend
 * (engine/cpu): the chunk-function table of the shared element loop and
 * the OpenMP evaluation entry point.  Not a public header. */
#ifndef LC_CPU_IMPL_H
#define LC_CPU_IMPL_H

#include "backend.h"
#include "eval/el_types.h"

/* The chunk function of energy id in mode m (cpu_kernels.c), or NULL. */
lc_el_chunk_fn lc_cpu_chunk_fn(int id, lc_el_mode m);

/* Evaluation ops of the CPU backend (cpu_eval.c); see backend.h. */
int lc_cpu_sync(lc_backend *b, lc_problem *p, lc_el_mode mode, lc_error *err);
int lc_cpu_eval(lc_backend *b, lc_problem *p, const lc_eval_req *q, lc_error *err);
double *lc_cpu_hess_values(lc_backend *b, lc_problem *p);
double *lc_cpu_jac_values(lc_backend *b, lc_problem *p);

/* Vector ops of the CPU backend (cpu_vec.c); see backend.h. */
int lc_cpu_dot(lc_backend *b, int64_t n, const double *x, const double *y, double *out);
int lc_cpu_nrm_inf(lc_backend *b, int64_t n, const double *x, double *out);
int lc_cpu_axpy(lc_backend *b, int64_t n, double a, const double *x, double *y);
int lc_cpu_axpby(lc_backend *b, int64_t n, double a, const double *x, double c, double *y);
int lc_cpu_copy(lc_backend *b, int64_t n, const double *x, double *y);
int lc_cpu_scale(lc_backend *b, int64_t n, double a, double *x);
int lc_cpu_zero_fixed(lc_backend *b, lc_problem *p, double *x);
int lc_cpu_sphere_tangent(lc_backend *b, int64_t off, int32_t n, const double *x, double *d);
int lc_cpu_sphere_retract(lc_backend *b, int64_t off, int32_t n, double *x);

#endif
