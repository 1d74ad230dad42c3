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
#include "eval/el_vec.h"
#include "lc_error.h"
#include "solvers/linsolve.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct lc_problem lc_problem;
typedef struct lc_backend lc_backend;
struct lc_sstate;

/* A piece of a solver program (engine/solvers/sstep.h): issues backend
 * operations; returns LC_OK or an error code with err set. */
typedef int (*lc_prog_fn)(void *user, lc_error *err);

/* A host callback of a running program (progress drain). */
typedef void (*lc_poll_fn)(void *user);

/* One linear solve (A + shift I) sol = rhs of a Newton-type step; pointers
 * are backend memory.  A is the problem's resident Hessian values (after a
 * HESS/GN eval) for LC_LIN_CHOLMOD and LC_LIN_PCG, and H(x) through HVPs
 * for LC_LIN_CG_MATFREE (from the element Hessians cached at x when
 * `cached`).  sol starts at 0.  A matrix the solver cannot use (not
 * positive definite after the retries, negative curvature on the first CG
 * iteration) is not an error: *fail = 1 and sol is unspecified. */
typedef struct lc_lin_req {
  struct lc_sstate *st; /* the solver state: a device CG loops on its cg_* fields */
  lc_lin_kind kind;
  lc_lin_opts opts;     /* opts.reg is ignored: the shift is *shift */
  int project;          /* matrix-free: projected HVPs */
  int cached;           /* matrix-free: element Hessians cached at x */
  const double *shift;  /* 1 scalar */
  const double *x;      /* n_dofs state (matrix-free) */
  const double *rhs;    /* n_dofs */
  double *sol;          /* n_dofs */
  int32_t *iters;       /* 1: CG iterations (&st->lin_iters) */
  int32_t *fail;        /* 1: 1 when the matrix was unusable (&st->lin_fail) */
} lc_lin_req;

/* Element Hessian cache of matrix-free Newton-CG (lc_eval_req.cache, mode
 * HVP only; other modes require LC_CACHE_NONE):
 *  - LC_CACHE_STORE: HVP mode as usual (E, g if asked, hv = H v if v and hv
 *    are given; v and hv may both be NULL: store only), and every element's
 *    weighted local Hessian (PSD-projected when q->project and the term
 *    allows it: the matrix whose product the HVP mode applies) is kept in a
 *    cache of the backend context, packed upper triangle, N(N+1)/2 doubles
 *    per element.  Allocated on the first STORE (LC_ENOMEM naming the device
 *    and the bytes when it cannot be; the problem stays usable), kept while
 *    the sizes hold, freed when the terms change and in fini.  hv is then
 *    computed from the stored matrices (as USE would).
 *  - LC_CACHE_USE: hv = H v from the stored matrices only: no AD, no energy,
 *    x is not read; E and g must be NULL, v and hv are required; fixed DOFs
 *    as in HVP mode (hv_i = v_i, their rows and columns left out).  LC_EINVAL
 *    when the cache is empty or stale: not stored since the terms, a term's
 *    weight or constants, or the fixed DOFs last changed, or stored with
 *    another q->project.
 * Results are deterministic (colour-by-colour assembly, no atomics) and on
 * the CPU independent of the thread count. */
enum { LC_CACHE_NONE = 0, LC_CACHE_STORE = 1, LC_CACHE_USE = 2 };

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
  int cache;         /* LC_CACHE_NONE, _STORE or _USE (HVP; see above) */
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

  /* ---- solver programs (engine/solvers/sstep.h, engine/solvers/solve.c) ----
   * Operands are references into backend memory (el_vec.h); scalars the
   * program decides stay in the state.  While `run` records a program (a
   * device backend), none of these may wait for the device or allocate. */
  /* z = a x + y per entry (lc_vaxpy_one); z may alias x or y. */
  int (*vaxpy)(lc_backend *b, int64_t n, lc_sref a, lc_vref x, lc_vref y, lc_vref z);
  /* *out = x . y (the same fixed-order sum as dot). */
  int (*vdot)(lc_backend *b, int64_t n, lc_vref x, lc_vref y, double *out);
  /* Scalar step id (lc_sstep) on the state. */
  int (*step)(lc_backend *b, struct lc_sstate *st, int id);
  /* while (lc_scond(st, cond)) body;  and  if (lc_scond(st, cond)) body. */
  int (*loop)(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
              lc_error *err);
  int (*branch)(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
                lc_error *err);
  /* Runs the program prog once to completion.  Meanwhile the host calls
   * poll (at `notify` points on a backend that runs the program on the
   * host; repeatedly while it runs elsewhere, and once after).  key != 0
   * names the program's structure and buffers: a backend may keep what it
   * recorded under it and replay it for the next run with the same key. */
  int (*run)(lc_backend *b, struct lc_sstate *st, uint64_t key, lc_prog_fn prog, void *user,
             lc_poll_fn poll, void *puser, lc_error *err);
  /* A point where a host-run program calls poll (no-op elsewhere). */
  int (*notify)(lc_backend *b, lc_poll_fn poll, void *puser);
  /* Memory that the host and the backend both address with one pointer. */
  int (*alloc_host)(lc_backend *b, size_t bytes, void **ptr, lc_error *err);
  void (*free_host)(lc_backend *b, void *ptr);
  /* *out = the largest admissible step along d from x (+inf: no bound). */
  int (*max_step)(lc_backend *b, lc_problem *p, const double *x, const double *d, double *out,
                  lc_error *err);
  /* Before a run that will call lin_solve with requests like q (same kind,
   * options and pattern): allocations, symbolic analysis, workspace. */
  int (*lin_prepare)(lc_backend *b, lc_problem *p, const lc_lin_req *q, lc_error *err);
  /* One linear solve (lc_lin_req). */
  int (*lin_solve)(lc_backend *b, lc_problem *p, const lc_lin_req *q, lc_error *err);
  /* Device -> host copy ordered on the problem's stream, without waiting:
   * valid after the next download or read_scalars. */
  int (*download_async)(lc_backend *b, void *dst, const void *src, size_t bytes, lc_error *err);
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

/* Downloads n blocks (dst[i] <- src[i], bytes[i]) with one wait on the
 * device, counted as one read. */
int lc_backend_download_many(lc_backend *b, int n, void *const *dst, const void *const *src,
                             const size_t *bytes, lc_error *err);

/* Reads n scalars through b->ops->read_scalars and counts the read. */
int lc_backend_read_scalars(lc_backend *b, double *host, const double *src, int n, lc_error *err);

#if defined(__cplusplus)
}
#endif

#endif
