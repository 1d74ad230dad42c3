/* cuda_impl.h - internals shared by the files of the CUDA backend
 * (engine/cuda/*.cu): the per-problem context with its resident data, error
 * helpers and the kernel launchers of the shared element loop.  CUDA C++
 * only; not a public header.
 *
 * Resident data of a problem (refreshed by lc_cu_sync when a generation
 * counter of the problem moved): per term the element indices, constants,
 * colour permutation, chunk offsets and Hessian slots; the fixed flags and
 * the list of fixed DOFs; the Hessian pattern's row pointers and diagonal
 * positions with room for its values; the Jacobian's row pointers and
 * values; one partial energy per chunk. */
#ifndef LC_CUDA_IMPL_H
#define LC_CUDA_IMPL_H

#include <cuda_runtime.h>

#include "backend.h"
#include "problem_impl.h"

/* The solver-program executor's per-problem state (cuda_solve.cu). */
typedef struct lc_cu_solve lc_cu_solve;

/* Threads per block of the element kernels: one chunk per block. */
#define LC_CU_BLOCK LC_CHUNK

/* Elements per block of the deterministic vector reductions. */
#define LC_CU_RED_CHUNK 4096

/* Device copies of one term's element data. */
typedef struct lc_cu_term {
  int32_t *ent, *slots, *perm, *chunk_ptr;
  double *consts;
  int32_t part0;      /* first partial of this term's chunks */
  uint64_t gen_consts; /* the term's gen_consts of the resident constants */
} lc_cu_term;

/* The CUDA backend's per-problem context. */
typedef struct lc_cu_ctx {
  int dev;
  cudaStream_t stream;
  lc_cu_term *terms;  /* n_terms (term slots; unused slots zero) */
  int n_terms;
  uint8_t *fixed;
  int64_t *fixed_idx;
  int64_t n_dofs, n_fixed;
  int32_t *rowptr, *diag, *jrowptr;
  double *hval, *jval;
  int64_t nnz, jnnz;
  double *partials;   /* one per chunk of every term */
  int64_t n_partials;
  double *red;        /* reduction scratch */
  int64_t n_red;
  uint64_t gen_terms, gen_fixed, gen_pattern; /* what is resident (0: nothing) */
  void *lin;          /* linear-solve state of lin_prepare (cuda_linsolve.cu) */
  struct lc_cu_solve *solve; /* solver-program executor state (cuda_solve.cu) */
} lc_cu_ctx;

/* The context of backend b. */
static inline lc_cu_ctx *lc_cu(lc_backend *b) { return (lc_cu_ctx *)b->ctx; }

/* Turns a CUDA status into an lc error naming the device and what was being
 * done (printf-style); cudaSuccess gives LC_OK. */
int lc_cu_check(lc_backend *b, cudaError_t e, lc_error *err, const char *what, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* cudaMalloc of bytes into *ptr (NULL for 0 bytes) with an error naming the
 * device, the size and what it is for; *ptr stays NULL on failure. */
int lc_cu_alloc(lc_backend *b, void **ptr, size_t bytes, const char *what, lc_error *err);

/* Combines the block's values e (one per thread, LC_CU_BLOCK threads) in a
 * fixed tree order, by sum or (is_max) by max, and stores the result in
 * *out (thread 0). */
__device__ static inline void lc_cu_block_reduce(double e, int is_max, double *out) {
  __shared__ double sh[LC_CU_BLOCK];
  sh[threadIdx.x] = e;
  __syncthreads();
  for (int w = LC_CU_BLOCK / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w) {
      const double a = sh[threadIdx.x], b = sh[threadIdx.x + w];
      sh[threadIdx.x] = is_max ? fmax(a, b) : a + b;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = sh[0];
}

/* The fixed-order sum of the block's values into *out. */
__device__ static inline void lc_cu_block_sum(double e, double *out) { lc_cu_block_reduce(e, 0, out); }

/* An element-kernel launcher: mode m over chunks [ch0, ch0 + nch) of a term. */
typedef cudaError_t (*lc_cu_launch_fn)(lc_el_mode m, const lc_el_term *t, const lc_el_out *o,
                                       int32_t ch0, int32_t nch, int serial, double *partials,
                                       cudaStream_t st);

/* The launchers of the three kernel parts (cuda_kernels_*.cu), by energy id. */
cudaError_t lc_cu_launch_part0(int id, lc_el_mode m, const lc_el_term *t, const lc_el_out *o,
                               int32_t ch0, int32_t nch, int serial, double *partials, cudaStream_t st);
cudaError_t lc_cu_launch_part1(int id, lc_el_mode m, const lc_el_term *t, const lc_el_out *o,
                               int32_t ch0, int32_t nch, int serial, double *partials, cudaStream_t st);
cudaError_t lc_cu_launch_part2(int id, lc_el_mode m, const lc_el_term *t, const lc_el_out *o,
                               int32_t ch0, int32_t nch, int serial, double *partials, cudaStream_t st);

/* Launches the element kernel of energy id in mode m over chunks
 * [ch0, ch0 + nch) of a term (serial: one thread walks the single chunk). */
cudaError_t lc_cu_launch_elements(int id, lc_el_mode m, const lc_el_term *t, const lc_el_out *o,
                                  int32_t ch0, int32_t nch, int serial, double *partials,
                                  cudaStream_t st);

/* Sums n partials (fixed order) into *out on stream st. */
cudaError_t lc_cu_launch_sum(const double *partials, int64_t n, double *out, cudaStream_t st);

/* Ops of cuda_eval.cu (see backend.h). */
int lc_cu_sync(lc_backend *b, lc_problem *p, lc_el_mode mode, lc_error *err);
int lc_cu_eval(lc_backend *b, lc_problem *p, const lc_eval_req *q, lc_error *err);
double *lc_cu_hess_values(lc_backend *b, lc_problem *p);
double *lc_cu_jac_values(lc_backend *b, lc_problem *p);
void lc_cu_free_resident(lc_backend *b);

/* Linear solves of Newton-type steps (cuda_linsolve.cu); see backend.h. */
int lc_cu_lin_prepare(lc_backend *b, lc_problem *p, const lc_lin_req *q, lc_error *err);
int lc_cu_lin_solve(lc_backend *b, lc_problem *p, const lc_lin_req *q, lc_error *err);
/* Frees the linear-solve state of the context. */
void lc_cu_lin_free(lc_backend *b);
/* 1 when the lin_solve readied by lin_prepare may be recorded into a graph;
 * 0 when the program must run eagerly (direct solves: cuSOLVER's csrchol is
 * not documented as capture-safe, and lin_solve refuses to be recorded). */
int lc_cu_lin_capturable(lc_backend *b);
/* Generation of the buffers a recorded lin_solve refers to (moves whenever
 * lin_prepare rebuilds them): never replay a program recorded under another. */
uint64_t lc_cu_lin_generation(lc_backend *b);

/* Solver-program ops (cuda_solve.cu); see backend.h.  While run records a
 * program, loop and branch become conditional graph nodes; otherwise they
 * test their condition on the host (one counted wait per test). */
int lc_cu_vaxpy(lc_backend *b, int64_t n, lc_sref a, lc_vref x, lc_vref y, lc_vref z);
int lc_cu_vdot(lc_backend *b, int64_t n, lc_vref x, lc_vref y, double *out);
int lc_cu_step(lc_backend *b, struct lc_sstate *st, int id);
int lc_cu_loop(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
               lc_error *err);
int lc_cu_branch(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
                 lc_error *err);
int lc_cu_run(lc_backend *b, struct lc_sstate *st, uint64_t key, lc_prog_fn prog, void *user,
              lc_poll_fn poll, void *puser, lc_error *err);
int lc_cu_notify(lc_backend *b, lc_poll_fn poll, void *puser);
int lc_cu_alloc_host(lc_backend *b, size_t bytes, void **ptr, lc_error *err);
void lc_cu_free_host(lc_backend *b, void *ptr);
int lc_cu_max_step(lc_backend *b, lc_problem *p, const double *x, const double *d, double *out,
                   lc_error *err);
int lc_cu_download_async(lc_backend *b, void *dst, const void *src, size_t bytes, lc_error *err);
/* Frees the executor state of the context (recorded graph, scratch). */
void lc_cu_solve_free(lc_backend *b);
/* Counts one stream or device synchronisation of the solve path as a read
 * (b->n_reads): every such wait in the CUDA backend goes through it. */
void lc_cu_count_sync(lc_backend *b);

/* Makes the shared reduction scratch hold one partial per chunk of n
 * entries (cuda_solve.cu); refused while a program is being recorded. */
int lc_cu_red_reserve(lc_backend *b, int64_t n, lc_error *err);

#endif
