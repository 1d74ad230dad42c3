/* backend.h - the one internal interface between problems and the hardware
 * they are evaluated on (internal: not installed, not for clients).
 *
 * Every problem is bound to one backend instance (lc_backend) when it is
 * created: an ops table (one implementation per platform: engine/cpu,
 * engine/cuda) and that implementation's context for this problem (device
 * buffers, stream).  Problem data (terms, fixed DOFs, patterns, state) stays
 * on the host as the reference copy; the backend keeps its own resident copy
 * and refreshes it in `sync` when one of the problem's generation counters
 * has moved since the last sync, never by re-deriving or hashing.
 *
 * Memory passed to `eval`, the vector operations and `read_scalars` is
 * backend memory (from `alloc`; plain host memory for the CPU backend).
 * Scalar results of reductions stay in backend memory; `read_scalars` is
 * the only way to look at them from the host and counts every call
 * (lc_backend.n_reads), so a solver can prove how often it synchronises.
 *
 * Threading: a backend instance is used by one thread at a time (the thread
 * that runs its problem's request); the CUDA backend issues all work of a
 * problem on that problem's own stream. */
#ifndef LC_BACKEND_H
#define LC_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "eval/el_types.h"
#include "lc_error.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct lc_problem lc_problem;
typedef struct lc_backend lc_backend;

/* One evaluation. Pointers are backend memory; NULL outputs are skipped.
 * HESS/GN write the values of the problem's Hessian pattern into the
 * backend's resident copy (lc_backend_ops.hess_values), JAC those of the
 * Jacobian pattern; fixed DOFs get identity rows (HESS, GN), hv_i = v_i
 * (HVP) and zero columns (JAC). */
typedef struct lc_eval_req {
  lc_el_mode mode;
  int project;       /* HESS, GN, HVP: PSD-project the terms that allow it */
  const double *x;   /* n_dofs state */
  const double *v;   /* n_dofs direction (HVP) */
  double *E;         /* 1 scalar: total energy (all modes but JAC) */
  double *g;         /* n_dofs gradient (GRAD; optional for HESS, GN, HVP) */
  double *hv;        /* n_dofs H v (HVP) */
  double *r;         /* n_residuals (JAC, optional) */
} lc_eval_req;

/* What a backend implements. Every int-returning op returns LC_OK or an
 * error code with a message in err that names the problem's device and
 * what failed; on failure nothing the problem owns has changed, except
 * that outputs of the failed evaluation are unspecified. */
typedef struct lc_backend_ops {
  const char *kind;                         /* "cpu", "cuda" */
  /* Creates the context for device ordinal into b->ctx. */
  int (*init)(lc_backend *b, lc_error *err);
  /* Frees the context and everything it holds. */
  void (*fini)(lc_backend *b);
  /* Memory. */
  int (*alloc)(lc_backend *b, size_t bytes, void **ptr, lc_error *err);
  void (*free)(lc_backend *b, void *ptr);
  int (*upload)(lc_backend *b, void *dst, const void *src, size_t bytes, lc_error *err);
  int (*download)(lc_backend *b, void *dst, const void *src, size_t bytes, lc_error *err);
  /* Refreshes the resident copy of the problem's data whose generation
   * changed (terms, fixed flags, patterns); builds patterns that mode needs. */
  int (*sync)(lc_backend *b, lc_problem *p, lc_el_mode mode, lc_error *err);
  /* Evaluates q on resident data (after sync). */
  int (*eval)(lc_backend *b, lc_problem *p, const lc_eval_req *q, lc_error *err);
  /* Resident Hessian / Jacobian values (after a HESS/GN or JAC eval). */
  double *(*hess_values)(lc_backend *b, lc_problem *p);
  double *(*jac_values)(lc_backend *b, lc_problem *p);
  /* Vector operations on n doubles of backend memory; reductions write their
   * scalar to backend memory *out. Deterministic: fixed-order sums. */
  int (*dot)(lc_backend *b, int64_t n, const double *x, const double *y, double *out);
  int (*nrm_inf)(lc_backend *b, int64_t n, const double *x, double *out);
  int (*axpy)(lc_backend *b, int64_t n, double a, const double *x, double *y);
  int (*axpby)(lc_backend *b, int64_t n, double a, const double *x, double c, double *y);
  int (*copy)(lc_backend *b, int64_t n, const double *x, double *y);
  int (*scale)(lc_backend *b, int64_t n, double a, double *x);
  /* Fixed DOFs: x_i = 0 where the problem's fixed flag is set. */
  int (*zero_fixed)(lc_backend *b, lc_problem *p, double *x);
  /* Sphere variables (dimension 3, n entities from DOF off): d -= (d.x) x
   * per entity (tangent projection), and x /= |x| (retraction). */
  int (*sphere_tangent)(lc_backend *b, int64_t off, int32_t n, const double *x, double *d);
  int (*sphere_retract)(lc_backend *b, int64_t off, int32_t n, double *x);
  /* Copies n scalars of backend memory to the host: the one counted read. */
  int (*read_scalars)(lc_backend *b, double *host, const double *src, int n, lc_error *err);
} lc_backend_ops;

/* A problem's binding to a device. */
struct lc_backend {
  const lc_backend_ops *ops;
  void *ctx;               /* the implementation's per-problem state */
  lc_device_kind kind;
  int ordinal;             /* CUDA device number, 0 for the CPU */
  char id[16];             /* "cpu", "cuda:0" */
  int threads;             /* CPU threads (0: OpenMP default) */
  uint64_t n_reads;        /* read_scalars calls so far */
};

/* The CPU backend's ops (engine/cpu). */
const lc_backend_ops *lc_backend_cpu_ops(void);

/* The CUDA backend's ops (engine/cuda), or NULL in a build without CUDA. */
const lc_backend_ops *lc_backend_cuda_ops(void);

/* The backend a problem is bound to (problem.c; for the engine's own
 * layers and tests). */
lc_backend *lc_problem_backend(lc_problem *p);

/* Binds b to the device spec names (NULL = "auto"): resolves it, picks the
 * ops and creates the context. On failure b is left unbound (ops NULL). */
int lc_backend_open(lc_backend *b, const char *spec, lc_error *err);

/* Frees b's context. An unbound b is a no-op. */
void lc_backend_close(lc_backend *b);

/* Downloads bytes of backend memory through b->ops->download and counts
 * it: every device-to-host read goes through here or the call below. */
int lc_backend_download(lc_backend *b, void *host, const void *src, size_t bytes, lc_error *err);

/* Reads n scalars through b->ops->read_scalars and counts the read. */
int lc_backend_read_scalars(lc_backend *b, double *host, const double *src, int n, lc_error *err);

#if defined(__cplusplus)
}
#endif

#endif
