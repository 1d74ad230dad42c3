/* cuda_linsolve.cu - the CUDA backend's linear solves of Newton-type steps
 * (backend.h: lin_prepare, lin_solve): (A + shift I) sol = rhs on the
 * problem's stream, with the shift read on the device.
 *
 *  - PCG (LC_LIN_PCG) on the resident assembled Hessian, Jacobi or
 *    block-Jacobi preconditioned (the arithmetic of solvers/lin_block.h,
 *    shared with the CPU), and matrix-free CG (LC_LIN_CG_MATFREE) on HVPs
 *    of the eval op.  Both are solver programs of backend ops (vaxpy, vdot,
 *    step, loop, branch over the state's cg_* fields, sstep.h) plus this
 *    file's kernels, so the same code runs eagerly or recorded into a CUDA
 *    graph with conditional nodes: lin_solve only enqueues kernels and
 *    async memsets / copies, never allocates, waits or decides on the host.
 *  - Direct (LC_LIN_CHOLMOD) with cuSOLVER's low-level sparse Cholesky
 *    (csrchol*): symbolic analysis once per Hessian pattern in lin_prepare,
 *    numeric factorisation of A + shift I and the solve in lin_solve, with
 *    the CPU's growing-shift retries.  csrchol is not capture-safe as far as
 *    its documentation goes, so a direct solve runs eagerly: see
 *    lc_cu_lin_capturable and the notes at "direct solve" below.
 *
 * SpMV is this file's own CSR kernel, one row per thread summed in column
 * order (the CPU's order, so the two differ only by FMA contraction), not
 * cusparseSpMV: the product runs inside conditional-node bodies, whose
 * contents the CUDA runtime restricts to kernel, memset, memcpy, empty,
 * child-graph and conditional nodes, all in one context (runtime API,
 * cudaConditionalNodeParams), while the cuSPARSE generic-API reference
 * lists "CUDA graph capture" among its routines' supported optimisations
 * for stream capture in general and says nothing of conditional bodies or
 * of which nodes (event, host, allocation) its capture produces.
 *
 * cuSOLVER is loaded with dlopen on the first direct solve instead of being
 * linked: libcusolver pulls in libcusparse, libcublas, libcublasLt and
 * libnvJitLink (about 1 GB), which bench/gpu-pack.sh would otherwise have
 * to carry to the GPU machine within its 64 MiB.  Without the library a
 * direct solve fails with LC_ENOTSUP naming it; the CG kinds need nothing. */
#define DISABLE_CUSOLVER_DEPRECATED /* csrchol is deprecated in favour of cuDSS */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cusolverSp.h>
#include <cusolverSp_LOWLEVEL_PREVIEW.h>

#include "cuda/cuda_impl.h"
#include "solvers/lin_block.h"
#include "solvers/sstep.h"

#define LB LC_CU_BLOCK   /* threads per block of the vector kernels */
#define LIN_RETRIES 8    /* shifted refactorisations after a failure (as linsolve.c) */
#define LIN_WS_THREADS 128 /* most block-Jacobi blocks per thread block */
#define LIN_WS_BYTES 49152 /* dynamic shared memory of one block-Jacobi thread block */

/* ---- cuSOLVER, loaded on demand ----------------------------------------------- */

/* The cuSOLVER / cuSPARSE entry points a direct solve uses. */
typedef struct sp_api {
  decltype(&cusolverSpCreate) create;
  decltype(&cusolverSpDestroy) destroy;
  decltype(&cusolverSpSetStream) set_stream;
  decltype(&cusolverSpCreateCsrcholInfo) info_create;
  decltype(&cusolverSpDestroyCsrcholInfo) info_destroy;
  decltype(&cusolverSpXcsrcholAnalysis) analysis;
  decltype(&cusolverSpDcsrcholBufferInfo) buffer_info;
  decltype(&cusolverSpDcsrcholFactor) factor;
  decltype(&cusolverSpDcsrcholDiag) diag;
  decltype(&cusolverSpDcsrcholSolve) solve;
  decltype(&cusparseCreateMatDescr) descr_create;
  decltype(&cusparseDestroyMatDescr) descr_destroy;
  decltype(&cusparseSetMatType) descr_type;
  decltype(&cusparseSetMatIndexBase) descr_base;
} sp_api;

static char sp_why[200]; /* why loading failed (set once) */

/* Looks up symbol name in library h into *fn; 0 when it is missing. */
template <typename F> static int sp_sym(void *h, const char *name, F *fn) {
  void *s = dlsym(h, name);
  memcpy(fn, &s, sizeof s); /* object -> function pointer without a cast */
  if (!s) snprintf(sp_why, sizeof sp_why, "symbol %s missing", name);
  return s != NULL;
}

/* Opens libcusolver and resolves every entry point (NULL on failure). */
static const sp_api *sp_load(void) {
  static sp_api a;
  static const char *const libs[] = {"libcusolver.so.12", "libcusolver.so"};
  void *h = NULL;
  for (size_t i = 0; !h && i < sizeof libs / sizeof *libs; ++i) h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(sp_why, sizeof sp_why, "%s", dlerror());
    return NULL;
  }
  const int ok = sp_sym(h, "cusolverSpCreate", &a.create) && sp_sym(h, "cusolverSpDestroy", &a.destroy) &&
                 sp_sym(h, "cusolverSpSetStream", &a.set_stream) &&
                 sp_sym(h, "cusolverSpCreateCsrcholInfo", &a.info_create) &&
                 sp_sym(h, "cusolverSpDestroyCsrcholInfo", &a.info_destroy) &&
                 sp_sym(h, "cusolverSpXcsrcholAnalysis", &a.analysis) &&
                 sp_sym(h, "cusolverSpDcsrcholBufferInfo", &a.buffer_info) &&
                 sp_sym(h, "cusolverSpDcsrcholFactor", &a.factor) &&
                 sp_sym(h, "cusolverSpDcsrcholDiag", &a.diag) &&
                 sp_sym(h, "cusolverSpDcsrcholSolve", &a.solve) &&
                 sp_sym(h, "cusparseCreateMatDescr", &a.descr_create) &&
                 sp_sym(h, "cusparseDestroyMatDescr", &a.descr_destroy) &&
                 sp_sym(h, "cusparseSetMatType", &a.descr_type) &&
                 sp_sym(h, "cusparseSetMatIndexBase", &a.descr_base);
  return ok ? &a : NULL; /* the library stays loaded for the process */
}

/* The loaded entry points, or NULL (the reason in sp_why); thread-safe. */
static const sp_api *sp_get(void) {
  static const sp_api *api = sp_load(); /* initialised once, under the C++ static-init lock */
  return api;
}

/* cuSOLVER status -> lc error naming the device and the call. */
static int sp_check(lc_backend *b, int status, const char *what, lc_error *err) {
  if (status == CUSOLVER_STATUS_SUCCESS) return LC_OK;
  cudaGetLastError();
  if (status == CUSOLVER_STATUS_ALLOC_FAILED)
    return lc_error_set(err, LC_ENOMEM, "%s: %s: cuSOLVER could not allocate device memory", b->id, what);
  return lc_error_set(err, LC_ENUMERIC, "%s: %s failed (cuSOLVER status %d)", b->id, what, status);
}

/* ---- per-context state ---------------------------------------------------------- */

/* What lin_prepare readied for one kind of request (lc_cu_ctx.lin). */
typedef struct cu_lin {
  lc_lin_kind kind;
  int block;             /* PCG: block-Jacobi block size, 0 for Jacobi */
  int64_t n, nnz;
  uint64_t gen_pattern;  /* the problem's gen_pattern of col and the analysis */
  uint64_t gen;          /* new at every build (all buffers below move then) */
  double *r, *z, *p, *q; /* CG vectors (matrix-free: z == r) */
  int32_t *col;          /* Hessian column indices (the resident copy has none) */
  double *pre;           /* Jacobi inverses (n) or inverse blocks (nb b^2) */
  /* direct */
  const sp_api *sp;
  cusolverSpHandle_t sh;
  cusparseMatDescr_t descr;
  csrcholInfo_t info;
  void *work;            /* cuSOLVER workspace */
  double *aval;          /* nnz: A + beta I */
  double *dl;            /* n: diag(L) */
  double *sc;            /* 2: beta of the attempt, max |A_ii| */
} cu_lin;

static uint64_t lin_gen_counter; /* process-wide, so a rebuilt state never repeats one */

/* The context's linear-solve state (NULL before lin_prepare). */
static cu_lin *lin_of(lc_backend *b) { return (cu_lin *)lc_cu(b)->lin; }

/* Frees one device pointer and clears it. */
template <typename T> static void release(T **ptr) {
  if (*ptr) cudaFree((void *)*ptr);
  *ptr = NULL;
}

/* Frees the cuSOLVER objects of l. */
static void chol_free(cu_lin *l) {
  if (l->sp) {
    if (l->info) l->sp->info_destroy(l->info);
    if (l->descr) l->sp->descr_destroy(l->descr);
    if (l->sh) l->sp->destroy(l->sh);
  }
  l->info = NULL;
  l->descr = NULL;
  l->sh = NULL;
  release(&l->work);
  release(&l->aval);
  release(&l->dl);
  release(&l->sc);
}

/* Frees the context's linear-solve state (after the stream's pending work). */
void lc_cu_lin_free(lc_backend *b) {
  lc_cu_ctx *c = lc_cu(b);
  cu_lin *l = c ? (cu_lin *)c->lin : NULL;
  if (!l) return;
  cudaSetDevice(b->ordinal);
  cudaStreamSynchronize(c->stream);
  chol_free(l);
  release(&l->r);
  release(&l->col);
  release(&l->pre);
  cudaGetLastError();
  free(l);
  c->lin = NULL;
}

/* 1 when lin_solve of the readied request may be recorded into a graph;
 * 0 when the executor must run the program eagerly (direct solves). */
int lc_cu_lin_capturable(lc_backend *b) {
  const cu_lin *l = lc_cu(b) ? lin_of(b) : NULL;
  return !l || l->kind != LC_LIN_CHOLMOD;
}

/* Generation of the buffers a recorded lin_solve refers to: a recorded
 * program must not be replayed under another generation. */
uint64_t lc_cu_lin_generation(lc_backend *b) {
  const cu_lin *l = lc_cu(b) ? lin_of(b) : NULL;
  return l ? l->gen : 0;
}

/* ---- kernels ---------------------------------------------------------------------- */

/* Blocks covering n items, one per thread. */
static unsigned nblocks(int64_t n) { return (unsigned)((n + LB - 1) / LB); }

/* y = (A + s I) v, one row per thread, summed in column order (linsolve.c's
 * lin_spmv, then y += s v when s != 0). */
__global__ static void __launch_bounds__(LB)
    k_spmv(int64_t n, const int32_t *rowptr, const int32_t *col, const double *val, const double *shift,
           const double *v, double *y) {
  const int64_t i = (int64_t)blockIdx.x * LB + threadIdx.x;
  if (i >= n) return;
  double acc = 0.0;
  for (int32_t k = rowptr[i]; k < rowptr[i + 1]; ++k) acc += val[k] * v[col[k]];
  const double s = *shift;
  y[i] = s != 0.0 ? acc + s * v[i] : acc;
}

/* Jacobi: inv_i = 1 / (A_ii + s) where usable (lc_lin_inv_diag). */
__global__ static void __launch_bounds__(LB)
    k_jacobi_setup(int64_t n, const int32_t *diag, const double *val, const double *shift, double *inv) {
  const int64_t i = (int64_t)blockIdx.x * LB + threadIdx.x;
  if (i < n) inv[i] = lc_lin_inv_diag(val[diag[i]] + *shift);
}

/* z = inv .* r */
__global__ static void __launch_bounds__(LB)
    k_jacobi_apply(int64_t n, const double *inv, const double *r, double *z) {
  const int64_t i = (int64_t)blockIdx.x * LB + threadIdx.x;
  if (i < n) z[i] = inv[i] * r[i];
}

/* Block-Jacobi: one diagonal block of A + s I per thread (lc_lin_block_one),
 * workspaces in dynamic shared memory (2 b^2 + b doubles per thread). */
__global__ static void k_block_setup(int64_t n, int64_t nb, int b, const int32_t *rowptr, const int32_t *col,
                                     const double *val, const double *shift, double *pre) {
  extern __shared__ double ws[];
  const int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= nb) return;
  double *B = ws + (size_t)threadIdx.x * (2 * b * b + b), *L = B + b * b, *y = L + b * b;
  lc_lin_block_one(rowptr, col, val, n, k, b, *shift, B, L, y, pre + k * b * b);
}

/* z = blockdiag(B_k^-1) r, one row per thread (linsolve.c's lin_prec_block). */
__global__ static void __launch_bounds__(LB)
    k_block_apply(int64_t n, int b, const double *pre, const double *r, double *z) {
  const int64_t row = (int64_t)blockIdx.x * LB + threadIdx.x;
  if (row >= n) return;
  const int64_t k = row / b, r0 = k * b;
  const int i = (int)(row - r0), m = (int)(r0 + b <= n ? b : n - r0);
  const double *Bi = pre + k * b * b;
  double acc = 0.0;
  for (int j = 0; j < m; ++j) acc += Bi[i * b + j] * r[r0 + j];
  z[row] = acc;
}

/* *out = max |A_ii| over the finite diagonal entries (one block, fixed order). */
__global__ static void __launch_bounds__(LB)
    k_max_abs_diag(int64_t n, const int32_t *diag, const double *val, double *out) {
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += LB) {
    const double d = val[diag[i]];
    if (isfinite(d)) acc = fmax(acc, fabs(d));
  }
  lc_cu_block_reduce(acc, 1, out);
}

/* sc[0] = the diagonal shift of attempt a (linsolve.c's lin_cholmod_factor:
 * *shift, then 1e-8 max|A_ii| grown x10 per retry, at least 10x the last). */
__global__ static void k_retry_shift(int a, const double *shift, double *sc) {
  if (a == 0) {
    sc[0] = *shift;
    return;
  }
  const double m = sc[1] > 0.0 ? sc[1] : 1.0;
  const double grown = 1e-8 * m * pow(10.0, a - 1);
  sc[0] = grown > sc[0] ? grown : 10.0 * sc[0];
}

/* aval[diag_i] += beta (aval holds a copy of A). */
__global__ static void __launch_bounds__(LB)
    k_add_diag(int64_t n, const int32_t *diag, const double *sc, double *aval) {
  const int64_t i = (int64_t)blockIdx.x * LB + threadIdx.x;
  if (i < n) aval[diag[i]] += sc[0];
}

/* *fail = 1 if some x_i is not finite or some dl_i is not a finite positive
 * (x or dl may be NULL). */
__global__ static void __launch_bounds__(LB)
    k_check(int64_t n, const double *x, const double *dl, int32_t *fail) {
  const int64_t i = (int64_t)blockIdx.x * LB + threadIdx.x;
  if (i >= n) return;
  const int bad = (x && !isfinite(x[i])) || (dl && !(dl[i] > 0.0 && isfinite(dl[i])));
  if (bad) *fail = 1;
}

/* Launch status of the kernel just enqueued, as an lc error. */
static int launched(lc_backend *b, const char *what, lc_error *err) {
  return lc_cu_check(b, cudaGetLastError(), err, "launching %s", what);
}

/* ---- preparation -------------------------------------------------------------------- */

/* The block-Jacobi block size q asks for (0: Jacobi). */
static int req_block(const lc_lin_req *q) {
  const int blk = q->opts.block > 0 ? q->opts.block : 3;
  return q->kind == LC_LIN_PCG && q->opts.precond == LC_PRECOND_BLOCK_JACOBI && blk > 1 ? blk : 0;
}

/* Checks what q needs of its arguments and of the backend. */
static int check_req(lc_backend *b, const lc_problem *p, const lc_lin_req *q, lc_error *err) {
  const lc_backend_ops *o = b->ops;
  if (q->kind != LC_LIN_CHOLMOD && q->kind != LC_LIN_PCG && q->kind != LC_LIN_CG_MATFREE)
    return lc_error_set(err, LC_EINVAL, "%s: lin_prepare: unknown solver kind %d", b->id, (int)q->kind);
  if (!q->st || !q->shift || !q->rhs || !q->sol || !q->iters || !q->fail ||
      (q->kind == LC_LIN_CG_MATFREE && !q->x))
    return lc_error_set(err, LC_EINVAL,
                        "%s: lin_prepare: a state, shift, rhs, sol, iters, fail or x is missing", b->id);
  if (q->kind != LC_LIN_CHOLMOD && (q->iters != &q->st->lin_iters || q->fail != &q->st->lin_fail))
    return lc_error_set(err, LC_EINVAL, "%s: lin_prepare: CG reports through st->lin_iters / st->lin_fail",
                        b->id);
  if (q->opts.block < 0 || q->opts.block > LC_LIN_MAX_BLOCK ||
      (q->opts.precond != LC_PRECOND_JACOBI && q->opts.precond != LC_PRECOND_BLOCK_JACOBI))
    return lc_error_set(err, LC_EINVAL, "%s: lin_prepare: preconditioner %d with block %d (1..%d)", b->id,
                        (int)q->opts.precond, q->opts.block, LC_LIN_MAX_BLOCK);
  if (q->opts.cond.n > 0)
    return lc_error_set(err, LC_ENOTSUP, "%s: lin_prepare: static condensation (condense) runs on the CPU backend only",
                        b->id);
  if (q->kind != LC_LIN_CHOLMOD && (!o->vaxpy || !o->vdot || !o->step || !o->loop || !o->branch || !o->eval))
    return lc_error_set(err, LC_ENOTSUP, "%s: lin_prepare: the backend lacks the solver-program ops", b->id);
  const lc_cu_ctx *c = lc_cu(b);
  if (c->n_dofs != p->n_dofs || p->n_dofs < 1)
    return lc_error_set(err, LC_ESTATE, "%s: lin_prepare before sync (or a problem without DOFs)", b->id);
  if (q->kind != LC_LIN_CG_MATFREE &&
      (!p->hess_valid || !c->rowptr || !c->diag || !c->hval || c->nnz != p->nnz || p->n_dofs > INT32_MAX))
    return lc_error_set(err, LC_ESTATE,
                        "%s: lin_prepare: the Hessian pattern is not resident (sync HESS/GN first)", b->id);
  return LC_OK;
}

/* 1 if l was readied for requests like q on p as it is now. */
static int lin_ready(const cu_lin *l, const lc_problem *p, const lc_lin_req *q) {
  if (!l || l->kind != q->kind || l->n != p->n_dofs || l->block != req_block(q)) return 0;
  return q->kind == LC_LIN_CG_MATFREE || (l->gen_pattern == p->gen_pattern && l->nnz == p->nnz);
}

/* Allocates the CG vectors: r, z, p, q (matrix-free: z is r). */
static int alloc_vectors(lc_backend *b, cu_lin *l, lc_error *err) {
  const int64_t n = l->n, nv = l->kind == LC_LIN_PCG ? 4 : 3;
  int rc = lc_cu_alloc(b, (void **)&l->r, (size_t)(nv * n) * sizeof(double), "CG vectors", err);
  if (rc) return rc;
  l->p = l->r + n;
  l->q = l->r + 2 * n;
  l->z = nv == 4 ? l->r + 3 * n : l->r;
  return LC_OK;
}

/* Uploads the Hessian's column indices (the pattern of p as it is now). */
static int upload_col(lc_backend *b, lc_problem *p, cu_lin *l, lc_error *err) {
  const size_t bytes = (size_t)p->nnz * sizeof(int32_t);
  int rc = lc_cu_alloc(b, (void **)&l->col, bytes ? bytes : 1, "Hessian column indices", err);
  if (!rc && bytes)
    rc = lc_cu_check(b, cudaMemcpyAsync(l->col, p->col, bytes, cudaMemcpyHostToDevice, lc_cu(b)->stream), err,
                     "uploading the Hessian column indices");
  l->nnz = p->nnz;
  return rc;
}

/* Allocates the preconditioner data (PCG). */
static int alloc_pre(lc_backend *b, cu_lin *l, lc_error *err) {
  const int64_t len = l->block ? (l->n + l->block - 1) / l->block * l->block * l->block : l->n;
  return lc_cu_alloc(b, (void **)&l->pre, (size_t)len * sizeof(double), "the preconditioner", err);
}

/* cuSOLVER handle on the problem's stream and a general zero-based descriptor. */
static int chol_handle(lc_backend *b, cu_lin *l, lc_error *err) {
  l->sp = sp_get();
  if (!l->sp)
    return lc_error_set(err, LC_ENOTSUP, "%s: direct solve: cuSOLVER could not be loaded (%s)", b->id,
                        sp_why);
  int rc = sp_check(b, l->sp->create(&l->sh), "cusolverSpCreate", err);
  if (!rc) rc = sp_check(b, l->sp->set_stream(l->sh, lc_cu(b)->stream), "cusolverSpSetStream", err);
  if (!rc && l->sp->descr_create(&l->descr) != CUSPARSE_STATUS_SUCCESS)
    rc = lc_error_set(err, LC_ENOMEM, "%s: cusparseCreateMatDescr failed", b->id);
  if (!rc) l->sp->descr_type(l->descr, CUSPARSE_MATRIX_TYPE_GENERAL);
  if (!rc) l->sp->descr_base(l->descr, CUSPARSE_INDEX_BASE_ZERO);
  return rc;
}

/* Symbolic analysis of the pattern (full symmetric CSR) and the buffers of
 * the numeric factorisation: the values copy, diag(L), two scalars and the
 * workspace cuSOLVER asks for. */
static int chol_analyze(lc_backend *b, cu_lin *l, lc_error *err) {
  const lc_cu_ctx *c = lc_cu(b);
  const int n = (int)l->n, nnz = (int)l->nnz;
  int rc = sp_check(b, l->sp->info_create(&l->info), "cusolverSpCreateCsrcholInfo", err);
  if (!rc) rc = sp_check(b, l->sp->analysis(l->sh, n, nnz, l->descr, c->rowptr, l->col, l->info),
                         "cusolverSpXcsrcholAnalysis", err);
  if (!rc) rc = lc_cu_alloc(b, (void **)&l->aval, (size_t)(nnz > 0 ? nnz : 1) * sizeof(double),
                            "the shifted Hessian", err);
  if (!rc) rc = lc_cu_alloc(b, (void **)&l->dl, (size_t)n * sizeof(double), "the Cholesky diagonal", err);
  if (!rc) rc = lc_cu_alloc(b, (void **)&l->sc, 2 * sizeof(double), "the Cholesky shift", err);
  if (!rc) rc = lc_cu_check(b, cudaMemsetAsync(l->aval, 0, (size_t)nnz * sizeof(double), c->stream), err,
                            "clearing the shifted Hessian");
  size_t internal = 0, work = 0;
  if (!rc) rc = sp_check(b, l->sp->buffer_info(l->sh, n, nnz, l->descr, l->aval, c->rowptr, l->col, l->info,
                                               &internal, &work), "cusolverSpDcsrcholBufferInfo", err);
  if (!rc) rc = lc_cu_alloc(b, &l->work, work ? work : 1, "the Cholesky workspace", err);
  return rc;
}

/* Builds a state for requests like q on p. */
static int lin_build(lc_backend *b, lc_problem *p, const lc_lin_req *q, cu_lin *l, lc_error *err) {
  l->kind = q->kind;
  l->block = req_block(q);
  l->n = p->n_dofs;
  l->gen = __atomic_add_fetch(&lin_gen_counter, 1, __ATOMIC_RELAXED);
  int rc = l->kind == LC_LIN_CHOLMOD ? LC_OK : alloc_vectors(b, l, err);
  if (!rc && l->kind != LC_LIN_CG_MATFREE) rc = upload_col(b, p, l, err);
  if (!rc && l->kind == LC_LIN_PCG) rc = alloc_pre(b, l, err);
  if (!rc && l->kind == LC_LIN_CHOLMOD) rc = chol_handle(b, l, err);
  if (!rc && l->kind == LC_LIN_CHOLMOD) rc = chol_analyze(b, l, err);
  l->gen_pattern = p->gen_pattern;
  return rc;
}

/* Readies the context for lin_solve requests like q (same kind, options and
 * pattern): vectors, column indices, preconditioner, cuSOLVER analysis.
 * Kept while they match; rebuilt (all buffers move) when they do not. */
int lc_cu_lin_prepare(lc_backend *b, lc_problem *p, const lc_lin_req *q, lc_error *err) {
  int rc = lc_cu_check(b, cudaSetDevice(b->ordinal), err, "selecting the device");
  if (!rc) rc = check_req(b, p, q, err);
  if (rc || lin_ready(lin_of(b), p, q)) return rc;
  lc_cu_lin_free(b);
  cu_lin *l = (cu_lin *)calloc(1, sizeof *l);
  if (!l) return lc_error_set(err, LC_ENOMEM, "%s: out of host memory for the linear solver", b->id);
  lc_cu(b)->lin = l;
  rc = lin_build(b, p, q, l, err);
  if (rc) lc_cu_lin_free(b); /* nothing half-built stays; the next call retries */
  return rc;
}

/* ---- conjugate gradients as a program --------------------------------------------- */

/* One CG solve being issued. */
typedef struct cg_prog {
  lc_backend *b;
  lc_problem *p;
  const lc_lin_req *q;
  cu_lin *l;
  lc_sstate *st; /* backend memory: only addresses are taken */
  int64_t n;
} cg_prog;

/* An op's status as an lc error naming the device and the step. */
static int op_rc(const cg_prog *g, int rc, const char *what, lc_error *err) {
  if (rc == LC_OK) return LC_OK;
  return lc_error_set(err, rc, "%s: CG: %s failed (%s)", g->b->id, what, lc_strerror(rc));
}

/* z = a x + y (x or y NULL: absent). */
static int cg_axpy(const cg_prog *g, lc_sref a, const double *x, const double *y, double *z, lc_error *err) {
  lc_backend *b = g->b;
  return op_rc(g, b->ops->vaxpy(b, g->n, a, lc_v((double *)x), lc_v((double *)y), lc_v(z)), "vaxpy", err);
}

/* *out = x . y */
static int cg_dot(const cg_prog *g, const double *x, const double *y, double *out, lc_error *err) {
  lc_backend *b = g->b;
  return op_rc(g, b->ops->vdot(b, g->n, lc_v((double *)x), lc_v((double *)y), out), "vdot", err);
}

/* Scalar step id on the state. */
static int cg_step(const cg_prog *g, int id, lc_error *err) {
  return op_rc(g, g->b->ops->step(g->b, g->st, id), "scalar step", err);
}

/* Builds the preconditioner of A + shift I (PCG) on the stream. */
static int cg_setup_pre(const cg_prog *g, lc_error *err) {
  const lc_cu_ctx *c = lc_cu(g->b);
  const cu_lin *l = g->l;
  if (!l->block) {
    k_jacobi_setup<<<nblocks(g->n), LB, 0, c->stream>>>(g->n, c->diag, c->hval, g->q->shift, l->pre);
    return launched(g->b, "the Jacobi set-up", err);
  }
  const int b = l->block;
  const size_t per = (size_t)(2 * b * b + b) * sizeof(double);
  const int64_t nb = (g->n + b - 1) / b;
  int th = (int)(LIN_WS_BYTES / per);
  th = th > LIN_WS_THREADS ? LIN_WS_THREADS : th < 1 ? 1 : th;
  k_block_setup<<<(unsigned)((nb + th - 1) / th), th, (size_t)th * per, c->stream>>>(
      g->n, nb, b, c->rowptr, l->col, c->hval, g->q->shift, l->pre);
  return launched(g->b, "the block-Jacobi set-up", err);
}

/* z = M r (matrix-free: z is r, nothing to do). */
static int cg_precond(const cg_prog *g, lc_error *err) {
  const cu_lin *l = g->l;
  const cudaStream_t s = lc_cu(g->b)->stream;
  if (l->kind == LC_LIN_CG_MATFREE) return LC_OK;
  if (l->block) k_block_apply<<<nblocks(g->n), LB, 0, s>>>(g->n, l->block, l->pre, l->r, l->z);
  else k_jacobi_apply<<<nblocks(g->n), LB, 0, s>>>(g->n, l->pre, l->r, l->z);
  return launched(g->b, "the preconditioner", err);
}

/* q = (A + shift I) p: the assembled Hessian, or HVPs of the eval op. */
static int cg_apply(const cg_prog *g, lc_error *err) {
  const lc_cu_ctx *c = lc_cu(g->b);
  cu_lin *l = g->l;
  if (l->kind == LC_LIN_PCG) {
    k_spmv<<<nblocks(g->n), LB, 0, c->stream>>>(g->n, c->rowptr, l->col, c->hval, g->q->shift, l->p, l->q);
    return launched(g->b, "the Hessian product", err);
  }
  lc_eval_req e;
  memset(&e, 0, sizeof e);
  e.mode = LC_EL_HVP;
  e.project = g->q->project;
  e.x = g->q->x;
  e.v = l->p;
  e.hv = l->q;
  e.cache = g->q->cached ? LC_CACHE_USE : LC_CACHE_NONE;
  int rc = g->b->ops->eval(g->b, g->p, &e, err);
  return rc ? rc : cg_axpy(g, lc_s_at(g->q->shift, 1.0), l->p, l->q, l->q, err);
}

/* Positive curvature: x += alpha p, r -= alpha q, z = M r, the new r.z and
 * r.r, beta, p = z + beta p. */
static int cg_update(void *user, lc_error *err) {
  const cg_prog *g = (const cg_prog *)user;
  const cu_lin *l = g->l;
  lc_sstate *st = g->st;
  int rc = cg_axpy(g, lc_s_at(&st->cg_alpha, 1.0), l->p, g->q->sol, g->q->sol, err);
  if (!rc) rc = cg_axpy(g, lc_s_at(&st->cg_alpha, -1.0), l->q, l->r, l->r, err);
  if (!rc) rc = cg_precond(g, err);
  if (!rc) rc = cg_dot(g, l->r, l->z, &st->cg_rz_new, err);
  if (!rc) rc = cg_dot(g, l->r, l->r, &st->cg_rr, err);
  if (!rc) rc = cg_step(g, LC_SS_CG_BETA, err);
  if (!rc) rc = cg_axpy(g, lc_s_at(&st->cg_beta, 1.0), l->p, l->z, l->p, err);
  return rc;
}

/* One iteration: q = A p, p.q, alpha or the curvature stop, the update. */
static int cg_iteration(void *user, lc_error *err) {
  const cg_prog *g = (const cg_prog *)user;
  int rc = cg_apply(g, err);
  if (!rc) rc = cg_dot(g, g->l->p, g->l->q, &g->st->cg_pq, err);
  if (!rc) rc = cg_step(g, LC_SS_CG_ALPHA, err);
  if (!rc) rc = g->b->ops->branch(g->b, g->st, LC_SC_CG_STEP, cg_update, user, err);
  return rc;
}

/* A finite non-zero right-hand side: z = M r, p = z, r.z, r.r, the loop. */
static int cg_iterate(void *user, lc_error *err) {
  const cg_prog *g = (const cg_prog *)user;
  const cu_lin *l = g->l;
  int rc = cg_precond(g, err);
  if (!rc) rc = cg_axpy(g, lc_s(0.0), NULL, l->z, l->p, err);
  if (!rc) rc = cg_dot(g, l->r, l->z, &g->st->cg_rz, err);
  if (!rc) rc = cg_dot(g, l->r, l->r, &g->st->cg_rr, err);
  if (!rc) rc = cg_step(g, LC_SS_CG_INIT, err);
  if (!rc) rc = g->b->ops->loop(g->b, g->st, LC_SC_CG_ACTIVE, cg_iteration, user, err);
  return rc;
}

/* The whole CG solve from sol = 0 (linsolve.c's rules, decided by the
 * state's CG steps): preconditioner, r = rhs, b.b, then the iterations. */
static int cg_solve(const cg_prog *g, lc_error *err) {
  const cu_lin *l = g->l;
  int rc = l->kind == LC_LIN_PCG ? cg_setup_pre(g, err) : LC_OK;
  if (!rc) rc = cg_axpy(g, lc_s(0.0), NULL, NULL, g->q->sol, err);
  if (!rc) rc = cg_axpy(g, lc_s(0.0), NULL, g->q->rhs, l->r, err);
  if (!rc) rc = cg_dot(g, l->r, l->r, &g->st->cg_bb, err);
  if (!rc) rc = cg_step(g, LC_SS_CG_START, err);
  if (!rc) rc = g->b->ops->branch(g->b, g->st, LC_SC_CG_GO, cg_iterate, (void *)g, err);
  return rc;
}

/* ---- direct solve -------------------------------------------------------------------
 * cuSOLVER's low-level csrchol API is a preview API, documented only by its
 * header (cusolverSp_LOWLEVEL_PREVIEW.h, every function deprecated in favour
 * of cuDSS) and the cuSolverSp_LowlevelCholesky sample; the cuSOLVER guide
 * promises only that its functions "prefer to keep asynchronous execution
 * as much as possible", and nothing about stream capture.  Factor and solve
 * may allocate internal data or synchronise, and the zero-pivot query
 * (cusolverSpDcsrcholZeroPivot) returns its position to host memory, which
 * needs a synchronisation.  So a direct solve is never recorded:
 * lc_cu_lin_capturable says 0 for it and lin_solve refuses to run while the
 * stream captures, and the executor runs the program eagerly.  Eagerly,
 * one counted read per Newton iteration decides whether the factorisation
 * succeeded (diag(L) finite and positive, checked by a kernel), with the
 * CPU's growing-shift retries after a failure.  The solution is checked for
 * non-finite values on the device as well. */

/* Factorisation of A + beta_a I for attempt a; the device flag *fail says
 * whether it was positive definite. */
static int chol_attempt(lc_backend *b, const lc_lin_req *q, cu_lin *l, int a, lc_error *err) {
  const lc_cu_ctx *c = lc_cu(b);
  const int n = (int)l->n, nnz = (int)l->nnz;
  if (a == 1) k_max_abs_diag<<<1, LB, 0, c->stream>>>(l->n, c->diag, c->hval, l->sc + 1);
  k_retry_shift<<<1, 1, 0, c->stream>>>(a, q->shift, l->sc);
  int rc = launched(b, "the Cholesky shift", err);
  if (!rc) rc = lc_cu_check(b, cudaMemcpyAsync(l->aval, c->hval, (size_t)nnz * sizeof(double),
                                               cudaMemcpyDeviceToDevice, c->stream),
                            err, "copying the Hessian");
  if (!rc) k_add_diag<<<nblocks(n), LB, 0, c->stream>>>(l->n, c->diag, l->sc, l->aval);
  if (!rc) rc = launched(b, "the diagonal shift", err);
  if (!rc) rc = lc_cu_check(b, cudaMemsetAsync(q->fail, 0, sizeof *q->fail, c->stream), err,
                            "clearing *fail");
  if (!rc) rc = sp_check(b, l->sp->factor(l->sh, n, nnz, l->descr, l->aval, c->rowptr, l->col, l->info,
                                          l->work), "cusolverSpDcsrcholFactor", err);
  if (!rc) rc = sp_check(b, l->sp->diag(l->sh, l->info, l->dl), "cusolverSpDcsrcholDiag", err);
  if (!rc) k_check<<<nblocks(n), LB, 0, c->stream>>>(l->n, NULL, l->dl, q->fail);
  return rc ? rc : launched(b, "the pivot check", err);
}

/* Direct solve, eagerly: factorisations until one is positive definite (at
 * most LIN_RETRIES retries), the solve, the finiteness check. */
static int chol_solve(lc_backend *b, const lc_lin_req *q, cu_lin *l, lc_error *err) {
  const lc_cu_ctx *c = lc_cu(b);
  cudaStreamCaptureStatus cs = cudaStreamCaptureStatusNone;
  int rc = lc_cu_check(b, cudaStreamIsCapturing(c->stream, &cs), err, "querying stream capture");
  if (!rc && cs != cudaStreamCaptureStatusNone)
    return lc_error_set(err, LC_ENOTSUP, "%s: a direct (cuSOLVER) solve cannot be recorded into a graph; "
                        "run the program eagerly (lc_cu_lin_capturable)", b->id);
  int32_t failed = 1;
  for (int a = 0; !rc && failed && a <= LIN_RETRIES; ++a) {
    rc = chol_attempt(b, q, l, a, err);
    if (!rc && a < LIN_RETRIES) rc = lc_backend_download(b, &failed, q->fail, sizeof failed, err);
  }
  if (!rc) rc = sp_check(b, l->sp->solve(l->sh, (int)l->n, q->rhs, q->sol, l->info, l->work),
                         "cusolverSpDcsrcholSolve", err);
  if (!rc) k_check<<<nblocks(l->n), LB, 0, c->stream>>>(l->n, q->sol, NULL, q->fail);
  if (!rc) rc = launched(b, "the solution check", err);
  if (!rc) rc = lc_cu_check(b, cudaMemsetAsync(q->iters, 0, sizeof *q->iters, c->stream), err,
                            "clearing *iters");
  return rc;
}

/* ---- the op ----------------------------------------------------------------------------- */

/* One solve of (A + shift I) sol = rhs as readied by lin_prepare.  CG kinds
 * only enqueue work (capture-safe); outside a capture a missing or stale
 * preparation is redone here, during one it is an error. */
int lc_cu_lin_solve(lc_backend *b, lc_problem *p, const lc_lin_req *q, lc_error *err) {
  int rc = lc_cu_check(b, cudaSetDevice(b->ordinal), err, "selecting the device");
  if (rc) return rc;
  if (!lin_ready(lin_of(b), p, q)) {
    cudaStreamCaptureStatus cs = cudaStreamCaptureStatusNone;
    rc = lc_cu_check(b, cudaStreamIsCapturing(lc_cu(b)->stream, &cs), err, "querying stream capture");
    if (!rc && cs != cudaStreamCaptureStatusNone)
      return lc_error_set(err, LC_ESTATE, "%s: lin_solve while recording, without a matching lin_prepare",
                          b->id);
    if (!rc) rc = lc_cu_lin_prepare(b, p, q, err);
    if (rc) return rc;
  }
  cu_lin *l = lin_of(b);
  if (l->kind == LC_LIN_CHOLMOD) return chol_solve(b, q, l, err);
  const cg_prog g = {b, p, q, l, q->st, p->n_dofs};
  return cg_solve(&g, err);
}
