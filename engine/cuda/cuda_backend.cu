/* cuda_backend.cu - the CUDA backend's ops table (backend.h) and device
 * enumeration (cuda_api.h): per-problem context and stream, device memory,
 * transfers, the counted scalar read, and the vector operations solvers run
 * on device vectors (deterministic: fixed-size blocks, fixed-order sums).
 *
 * Every op first makes the problem's device current on the calling thread:
 * a problem may be served by different worker threads over its life, one
 * at a time.  Errors name the device and what was being done; a failed
 * allocation leaves the problem as it was. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda_api.h"
#include "cuda/cuda_impl.h"
#include "eval/el_vec.h"

/* ---- errors and memory ----------------------------------------------------- */

/* CUDA status -> lc error naming the device and the action. */
int lc_cu_check(lc_backend *b, cudaError_t e, lc_error *err, const char *what, ...) {
  if (e == cudaSuccess) return LC_OK;
  char msg[160];
  va_list ap;
  va_start(ap, what);
  vsnprintf(msg, sizeof msg, what, ap);
  va_end(ap);
  cudaGetLastError(); /* clear a sticky-free error so the problem stays usable */
  const int code = e == cudaErrorMemoryAllocation ? LC_ENOMEM : LC_ENUMERIC;
  return lc_error_set(err, code, "%s: %s failed: %s", b->id, msg, cudaGetErrorString(e));
}

/* cudaMalloc with an error naming device, size and purpose. */
int lc_cu_alloc(lc_backend *b, void **ptr, size_t bytes, const char *what, lc_error *err) {
  *ptr = NULL;
  if (!bytes) return LC_OK;
  const cudaError_t e = cudaMalloc(ptr, bytes);
  if (e == cudaSuccess) return LC_OK;
  *ptr = NULL;
  cudaGetLastError();
  return lc_error_set(err, e == cudaErrorMemoryAllocation ? LC_ENOMEM : LC_ENUMERIC,
                      "%s: out of device memory allocating %zu bytes for %s (%s)", b->id, bytes, what,
                      cudaGetErrorString(e));
}

/* Makes b's device current on this thread. */
static int use_device(lc_backend *b, lc_error *err) {
  return lc_cu_check(b, cudaSetDevice(b->ordinal), err, "selecting the device");
}

/* ---- enumeration --------------------------------------------------------- */

/* A trivial kernel: its attributes exist only if this build has code for the device. */
__global__ static void k_probe(void) {}

/* 1 if device i can run this build's kernels. */
static int usable(int i) {
  cudaFuncAttributes a;
  if (cudaSetDevice(i) != cudaSuccess) return 0;
  const int ok = cudaFuncGetAttributes(&a, k_probe) == cudaSuccess;
  cudaGetLastError();
  return ok;
}

/* Number of usable CUDA devices (0 without a driver or device). */
int lc_cuda_device_count(lc_error *why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    if (why) lc_error_set(why, LC_ENOTSUP, "%s", cudaGetErrorString(e));
    return 0;
  }
  int k = 0;
  while (k < n && usable(k)) ++k; /* ordinals stay dense: stop at the first unusable one */
  if (k == 0 && n > 0 && why) lc_error_set(why, LC_ENOTSUP, "no device can run this build's kernels");
  return k;
}

/* Describes device ordinal. */
int lc_cuda_device_info(int ordinal, lc_device_info *out, lc_error *err) {
  cudaDeviceProp pr;
  const cudaError_t e = cudaGetDeviceProperties(&pr, ordinal);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return lc_error_set(err, LC_ENOTSUP, "cuda:%d: %s", ordinal, cudaGetErrorString(e));
  }
  memset(out, 0, sizeof *out);
  snprintf(out->id, sizeof out->id, "cuda:%d", ordinal);
  snprintf(out->name, sizeof out->name, "%s", pr.name);
  out->memory = (int64_t)pr.totalGlobalMem;
  out->cc_major = pr.major;
  out->cc_minor = pr.minor;
  out->cores = pr.multiProcessorCount;
  return LC_OK;
}

/* 1: this build has the CUDA backend. */
int lc_device_have_cuda(void) { return 1; }

/* ---- context --------------------------------------------------------------- */

/* Creates the context: the device's stream. */
static int cu_init(lc_backend *b, lc_error *err) {
  lc_cu_ctx *c = (lc_cu_ctx *)calloc(1, sizeof *c);
  if (!c) return lc_error_set(err, LC_ENOMEM, "%s: out of host memory", b->id);
  b->ctx = c;
  c->dev = b->ordinal;
  int rc = use_device(b, err);
  if (!rc) rc = lc_cu_check(b, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), err,
                            "creating the problem's stream");
  if (rc) {
    free(c);
    b->ctx = NULL;
  }
  return rc;
}

/* Frees everything the context holds. */
static void cu_fini(lc_backend *b) {
  lc_cu_ctx *c = lc_cu(b);
  if (!c) return;
  cudaSetDevice(b->ordinal);
  cudaStreamSynchronize(c->stream);
  lc_cu_lin_free(b);
  lc_cu_solve_free(b);
  lc_cu_free_resident(b);
  if (c->red) cudaFree(c->red);
  cudaStreamDestroy(c->stream);
  cudaGetLastError();
  free(c);
  b->ctx = NULL;
}

/* Device memory for the caller. */
static int cu_alloc_op(lc_backend *b, size_t bytes, void **ptr, lc_error *err) {
  int rc = use_device(b, err);
  return rc ? rc : lc_cu_alloc(b, ptr, bytes ? bytes : 1, "a caller's buffer", err);
}

/* Frees device memory after the stream's pending work. */
static void cu_free_op(lc_backend *b, void *ptr) {
  if (!ptr) return;
  cudaSetDevice(b->ordinal);
  cudaStreamSynchronize(lc_cu(b)->stream);
  cudaFree(ptr);
  cudaGetLastError();
}

/* Host -> device, ordered on the stream. */
static int cu_upload(lc_backend *b, void *dst, const void *src, size_t bytes, lc_error *err) {
  int rc = use_device(b, err);
  if (rc || !bytes) return rc;
  return lc_cu_check(b, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, lc_cu(b)->stream), err,
                     "uploading %zu bytes", bytes);
}

/* Device -> host: waits for the stream (a synchronisation; callers count it). */
static int cu_download(lc_backend *b, void *dst, const void *src, size_t bytes, lc_error *err) {
  int rc = use_device(b, err);
  if (rc || !bytes) return rc;
  lc_cu_ctx *c = lc_cu(b);
  rc = lc_cu_check(b, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream), err,
                   "downloading %zu bytes", bytes);
  if (!rc) rc = lc_cu_check(b, cudaStreamSynchronize(c->stream), err, "waiting for the device");
  return rc;
}

/* n scalars to the host. */
static int cu_read_scalars(lc_backend *b, double *host, const double *src, int n, lc_error *err) {
  return cu_download(b, host, src, (size_t)n * sizeof *host, err);
}

/* Sync then eval on the problem's device. */
static int cu_sync_op(lc_backend *b, lc_problem *p, lc_el_mode mode, lc_error *err) {
  int rc = use_device(b, err);
  return rc ? rc : lc_cu_sync(b, p, mode, err);
}

/* Evaluation on the problem's device. */
static int cu_eval_op(lc_backend *b, lc_problem *p, const lc_eval_req *q, lc_error *err) {
  int rc = use_device(b, err);
  return rc ? rc : lc_cu_eval(b, p, q, err);
}

/* ---- vector operations ------------------------------------------------------ */

#define VB LC_CU_BLOCK
/* Blocks covering n entries, one entry per thread. */
static unsigned blocks_for(int64_t n) { return (unsigned)((n + VB - 1) / VB); }

/* Per-block partial of x.y (or max |x| when y is NULL) over a fixed chunk of
 * LC_CU_RED_CHUNK entries: thread t takes entries t, t + VB, ... in order,
 * then the block combines in a fixed tree. */
__global__ static void __launch_bounds__(VB)
    k_red_chunk(int64_t n, const double *x, const double *y, double *part) {
  const int64_t lo = (int64_t)blockIdx.x * LC_CU_RED_CHUNK;
  const int64_t hi = lo + LC_CU_RED_CHUNK < n ? lo + LC_CU_RED_CHUNK : n;
  double acc = 0.0;
  for (int64_t i = lo + threadIdx.x; i < hi; i += VB) acc = y ? acc + x[i] * y[i] : fmax(acc, fabs(x[i]));
  lc_cu_block_reduce(acc, !y, part + blockIdx.x);
}

/* Final max of n partials (one block, fixed order). */
__global__ static void __launch_bounds__(VB) k_max(const double *part, int64_t n, double *out) {
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += VB) acc = fmax(acc, part[i]);
  lc_cu_block_reduce(acc, 1, out);
}

/* x.y (y != NULL) or max |x| into device *out. */
static int reduce(lc_backend *b, int64_t n, const double *x, const double *y, double *out) {
  lc_cu_ctx *c = lc_cu(b);
  if (use_device(b, NULL) || lc_cu_red_reserve(b, n, NULL)) return LC_ENOMEM;
  const int64_t nb = (n + LC_CU_RED_CHUNK - 1) / LC_CU_RED_CHUNK;
  if (nb == 0) return cudaMemsetAsync(out, 0, sizeof *out, c->stream) ? LC_ENUMERIC : LC_OK;
  k_red_chunk<<<(unsigned)nb, VB, 0, c->stream>>>(n, x, y, c->red);
  if (y) lc_cu_launch_sum(c->red, nb, out, c->stream);
  else k_max<<<1, VB, 0, c->stream>>>(c->red, nb, out);
  return cudaGetLastError() ? LC_ENUMERIC : LC_OK;
}

/* *out = x . y */
static int cu_dot(lc_backend *b, int64_t n, const double *x, const double *y, double *out) {
  return reduce(b, n, x, y, out);
}

/* *out = max |x_i| */
static int cu_nrm_inf(lc_backend *b, int64_t n, const double *x, double *out) {
  return reduce(b, n, x, NULL, out);
}

/* y = a x + c y (c == 1: axpy) */
__global__ static void k_axpby(int64_t n, double a, const double *x, double c, double *y) {
  const int64_t i = (int64_t)blockIdx.x * VB + threadIdx.x;
  if (i < n) y[i] = c == 1.0 ? y[i] + a * x[i] : a * x[i] + c * y[i];
}

/* x *= a */
__global__ static void k_scale(int64_t n, double a, double *x) {
  const int64_t i = (int64_t)blockIdx.x * VB + threadIdx.x;
  if (i < n) x[i] *= a;
}

/* Launch status of the last kernel (vector ops make the problem's device
 * current first: a worker thread may have another one current). */
static int launched(void) { return cudaGetLastError() ? LC_ENUMERIC : LC_OK; }

/* y += a x */
static int cu_axpy(lc_backend *b, int64_t n, double a, const double *x, double *y) {
  if (use_device(b, NULL)) return LC_ENUMERIC;
  if (n <= 0) return LC_OK;
  k_axpby<<<blocks_for(n), VB, 0, lc_cu(b)->stream>>>(n, a, x, 1.0, y);
  return launched();
}

/* y = a x + c y */
static int cu_axpby(lc_backend *b, int64_t n, double a, const double *x, double c, double *y) {
  if (use_device(b, NULL)) return LC_ENUMERIC;
  if (n <= 0) return LC_OK;
  k_axpby<<<blocks_for(n), VB, 0, lc_cu(b)->stream>>>(n, a, x, c, y);
  return launched();
}

/* y = x */
static int cu_copy(lc_backend *b, int64_t n, const double *x, double *y) {
  if (use_device(b, NULL)) return LC_ENUMERIC;
  if (n <= 0) return LC_OK;
  return cudaMemcpyAsync(y, x, (size_t)n * sizeof *y, cudaMemcpyDeviceToDevice, lc_cu(b)->stream)
             ? LC_ENUMERIC : LC_OK;
}

/* x *= a */
static int cu_scale(lc_backend *b, int64_t n, double a, double *x) {
  if (use_device(b, NULL)) return LC_ENUMERIC;
  if (n <= 0) return LC_OK;
  k_scale<<<blocks_for(n), VB, 0, lc_cu(b)->stream>>>(n, a, x);
  return launched();
}

/* x[idx[k]] = 0 */
__global__ static void k_zero_at(const int64_t *idx, int64_t n, double *x) {
  const int64_t k = (int64_t)blockIdx.x * VB + threadIdx.x;
  if (k < n) x[idx[k]] = 0.0;
}

/* x_i = 0 at the fixed DOFs (as of the last sync). */
static int cu_zero_fixed(lc_backend *b, lc_problem *p, double *x) {
  if (use_device(b, NULL)) return LC_ENUMERIC;
  (void)p;
  lc_cu_ctx *c = lc_cu(b);
  if (!c->n_fixed) return LC_OK;
  k_zero_at<<<blocks_for(c->n_fixed), VB, 0, c->stream>>>(c->fixed_idx, c->n_fixed, x);
  return launched();
}

/* Tangent projection per sphere entity (el_vec.h). */
__global__ static void k_sphere_tangent(int64_t off, int32_t n, const double *x, double *d) {
  const int64_t i = (int64_t)blockIdx.x * VB + threadIdx.x;
  if (i < n) lc_sphere_tangent_one(x + off + 3 * i, d + off + 3 * i);
}

/* Retraction per sphere entity (el_vec.h). */
__global__ static void k_sphere_retract(int64_t off, int32_t n, double *x) {
  const int64_t i = (int64_t)blockIdx.x * VB + threadIdx.x;
  if (i < n) lc_sphere_retract_one(x + off + 3 * i);
}

/* d -= (d.x) x per sphere entity. */
static int cu_sphere_tangent(lc_backend *b, int64_t off, int32_t n, const double *x, double *d) {
  if (use_device(b, NULL)) return LC_ENUMERIC;
  if (n <= 0) return LC_OK;
  k_sphere_tangent<<<blocks_for(n), VB, 0, lc_cu(b)->stream>>>(off, n, x, d);
  return launched();
}

/* x /= |x| per sphere entity. */
static int cu_sphere_retract(lc_backend *b, int64_t off, int32_t n, double *x) {
  if (use_device(b, NULL)) return LC_ENUMERIC;
  if (n <= 0) return LC_OK;
  k_sphere_retract<<<blocks_for(n), VB, 0, lc_cu(b)->stream>>>(off, n, x);
  return launched();
}

static const lc_backend_ops cuda_ops = {
    "cuda",        cu_init,         cu_fini,          cu_alloc_op,       cu_free_op,
    cu_upload,     cu_download,     cu_sync_op,       cu_eval_op,        lc_cu_hess_values,
    lc_cu_jac_values, cu_dot,       cu_nrm_inf,       cu_axpy,           cu_axpby,
    cu_copy,       cu_scale,        cu_zero_fixed,    cu_sphere_tangent, cu_sphere_retract,
    cu_read_scalars,
    /* solver programs (cuda_solve.cu, cuda_linsolve.cu) */
    lc_cu_vaxpy,   lc_cu_vdot,      lc_cu_step,       lc_cu_loop,        lc_cu_branch,
    lc_cu_run,     lc_cu_notify,    lc_cu_alloc_host, lc_cu_free_host,   lc_cu_max_step,
    lc_cu_lin_prepare, lc_cu_lin_solve, lc_cu_download_async};

/* The CUDA backend's ops. */
const lc_backend_ops *lc_backend_cuda_ops(void) { return &cuda_ops; }
