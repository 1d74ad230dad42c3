/* cuda_solve.cu - the CUDA backend's solver-program ops (backend.h; the
 * programs are engine/solvers/sstep.h's): vector operations on operand
 * references resolved on the device, scalar steps as one-thread kernels,
 * the energies' step bound as a min-reduction, host-visible memory, and
 * the executor `run`, which records a program once into a CUDA graph whose
 * conditional nodes evaluate the loop and branch conditions on the device,
 * so an iteration never waits for the host.
 *
 * Recording (run): the program is captured on the problem's own stream into
 * a graph created here (cudaStreamBeginCaptureToGraph).  A loop or branch
 * met while capturing adds a conditional node (WHILE / IF) to the graph the
 * stream is capturing into, then pauses that capture (cudaStreamEndCapture;
 * the graph is ours or a parent's body, so nothing is lost), captures the
 * body on the same stream into the node's body graph, and resumes the
 * parent capture after the node (cudaStreamBeginCaptureToGraph with the node
 * as the dependency).  Only one capture is ever active, on the one stream
 * every op already uses, so nesting is plain recursion and code that asks
 * whether the stream captures (cuda_linsolve.cu) sees the truth.  The
 * condition is set by a one-thread kernel (cudaGraphSetConditional) before
 * the node, and for WHILE also at the end of the body.
 *
 * A program that cannot be recorded (an op that waits, allocates, or
 * refuses: the direct linear solve) falls back to eager execution: the ops
 * run on the stream as issued, and each loop or branch test reads its
 * condition into pinned host memory with one counted synchronisation.  A
 * capture that the runtime invalidated is ended and its graphs are left to
 * the driver: ending an invalidated capture into a body graph frees that
 * body while its conditional node still refers to it (NVIDIA/cuda-python
 * #2918, NVBUG 6805256), so destroying the parent could crash; at most two
 * failed recordings per key happen before the key runs eagerly for good.
 *
 * Scratch (reduction partials, step-bound partials, the condition word) is
 * sized in run before recording; nothing allocates while a capture is
 * active.  Every stream synchronisation of this path is counted
 * (lc_cu_count_sync). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda/cuda_impl.h"
#include "energies/max_step.h"
#include "solvers/sstep.h"

#define VB LC_CU_BLOCK
#define POLL_NS 50000L          /* host poll period while a graph runs */
#define CAP_MODE cudaStreamCaptureModeThreadLocal
#define FAIL_LIMIT 2            /* failed recordings of one key before it runs eagerly */

/* The executor's state in a problem's context. */
struct lc_cu_solve {
  cudaGraphExec_t exec;      /* the recorded program (NULL: none) */
  uint64_t key, lin_gen;     /* what exec was recorded under */
  const double *red, *ms;    /* the scratch exec refers to */
  uint64_t fail_key;         /* key whose recording failed ... */
  int fail_count;            /* ... this many times in a row */
  int recording;             /* run is capturing the program */
  int capturing;             /* a capture begun here is active on the stream */
  int invalid;               /* the runtime invalidated the capture */
  int32_t *cond_h;           /* eager condition word (pinned, mapped) */
  double *ms_part;           /* step-bound partials, one per chunk */
  int64_t n_ms;
};

/* ---- bookkeeping ------------------------------------------------------------- */

/* Counts one synchronisation of the solve path as a read (lc_backend.n_reads). */
void lc_cu_count_sync(lc_backend *b) { b->n_reads++; }

/* The executor state of b (NULL before the first use). */
static lc_cu_solve *sv(lc_backend *b) { return lc_cu(b)->solve; }

/* Makes b's device current on this thread. */
static int use_dev(lc_backend *b, lc_error *err) {
  return lc_cu_check(b, cudaSetDevice(b->ordinal), err, "selecting the device");
}

/* Waits for the problem's stream, counted as one read. */
static int wait_counted(lc_backend *b, lc_error *err) {
  lc_cu_count_sync(b);
  return lc_cu_check(b, cudaStreamSynchronize(lc_cu(b)->stream), err, "waiting for the device");
}

/* Forgets the recorded program. */
static void drop_exec(lc_cu_solve *s) {
  if (s->exec) cudaGraphExecDestroy(s->exec);
  s->exec = NULL;
  s->key = 0;
}

/* Creates the executor state of b if it has none. */
static int solve_state(lc_backend *b, lc_error *err) {
  lc_cu_ctx *c = lc_cu(b);
  if (c->solve) return LC_OK;
  c->solve = (lc_cu_solve *)calloc(1, sizeof *c->solve);
  return c->solve ? LC_OK : lc_error_set(err, LC_ENOMEM, "%s: out of host memory", b->id);
}

/* Frees the executor state (after the stream's pending work). */
void lc_cu_solve_free(lc_backend *b) {
  lc_cu_ctx *c = lc_cu(b);
  lc_cu_solve *s = c ? c->solve : NULL;
  if (!s) return;
  cudaSetDevice(b->ordinal);
  cudaStreamSynchronize(c->stream); /* teardown, not a read of the solve path */
  drop_exec(s);
  if (s->cond_h) cudaFreeHost(s->cond_h);
  if (s->ms_part) cudaFree(s->ms_part);
  cudaGetLastError();
  free(s);
  c->solve = NULL;
}

/* An error while recording refuses to allocate: names what and how much. */
static int no_alloc_recording(lc_backend *b, const char *what, lc_error *err) {
  return lc_error_set(err, LC_ESTATE, "%s: %s too small while recording a program (sized by run)", b->id,
                      what);
}

/* Makes the reduction scratch hold one partial per chunk of n entries
 * (every reduction of the backend shares it); the old one is freed after a
 * counted wait; refused while a program is being recorded. */
int lc_cu_red_reserve(lc_backend *b, int64_t n, lc_error *err) {
  lc_cu_ctx *c = lc_cu(b);
  const int64_t need = (n + LC_CU_RED_CHUNK - 1) / LC_CU_RED_CHUNK;
  if (need <= c->n_red) return LC_OK;
  if (c->solve && c->solve->recording) return no_alloc_recording(b, "reduction scratch", err);
  if (c->red) {
    int rc = wait_counted(b, err);
    if (rc) return rc;
    cudaFree(c->red);
  }
  c->red = NULL;
  c->n_red = 0;
  int rc = lc_cu_alloc(b, (void **)&c->red, (size_t)need * sizeof(double), "reduction scratch", err);
  if (!rc) c->n_red = need;
  return rc;
}

/* Makes the step-bound scratch hold n partials. */
static int ms_reserve(lc_backend *b, int64_t n, lc_error *err) {
  lc_cu_solve *s = sv(b);
  if (n <= s->n_ms) return LC_OK;
  if (s->recording) return no_alloc_recording(b, "step-bound scratch", err);
  if (s->ms_part) {
    int rc = wait_counted(b, err);
    if (rc) return rc;
    cudaFree(s->ms_part);
  }
  s->ms_part = NULL;
  s->n_ms = 0;
  int rc = lc_cu_alloc(b, (void **)&s->ms_part, (size_t)n * sizeof(double), "step-bound partials", err);
  if (!rc) s->n_ms = n;
  return rc;
}

/* Allocates the eager condition word (pinned, device-addressable). */
static int cond_reserve(lc_backend *b, lc_error *err) {
  lc_cu_solve *s = sv(b);
  if (s->cond_h) return LC_OK;
  if (s->recording) return no_alloc_recording(b, "condition word", err);
  const cudaError_t e = cudaHostAlloc((void **)&s->cond_h, sizeof *s->cond_h,
                                      cudaHostAllocMapped | cudaHostAllocPortable);
  if (e) s->cond_h = NULL;
  return lc_cu_check(b, e, err, "allocating the condition word (pinned host memory)");
}

/* Launch status of the last kernel, as an lc code. */
static int launched(void) { return cudaGetLastError() ? LC_ENUMERIC : LC_OK; }

/* Launch status of the last kernel, as an lc error naming what. */
static int launched_err(lc_backend *b, const char *what, lc_error *err) {
  return lc_cu_check(b, cudaGetLastError(), err, "launching %s", what);
}

/* ---- vector operations on references ------------------------------------------ */

/* Blocks covering n entries, one per thread. */
static unsigned blocks_for(int64_t n) { return (unsigned)((n + VB - 1) / VB); }

/* z_i = a x_i + y_i, with the references resolved on the device. */
__global__ static void __launch_bounds__(VB)
    k_vaxpy(int64_t n, lc_sref a, lc_vref x, lc_vref y, lc_vref z) {
  const int64_t i = (int64_t)blockIdx.x * VB + threadIdx.x;
  if (i >= n) return;
  const double av = lc_sref_val(a);
  const double *xp = lc_vref_ptr(x), *yp = lc_vref_ptr(y);
  double *zp = lc_vref_ptr(z);
  zp[i] = lc_vaxpy_one(av, xp, yp, i);
}

/* z = a x + y per entry (lc_vaxpy_one); z may alias x or y. */
int lc_cu_vaxpy(lc_backend *b, int64_t n, lc_sref a, lc_vref x, lc_vref y, lc_vref z) {
  if (use_dev(b, NULL)) return LC_ENUMERIC;
  if (n <= 0) return LC_OK;
  if (!z.p) return LC_EINVAL;
  k_vaxpy<<<blocks_for(n), VB, 0, lc_cu(b)->stream>>>(n, a, x, y, z);
  return launched();
}

/* Per-block partial of x.y over a fixed chunk of LC_CU_RED_CHUNK entries,
 * in the dot op's order (thread t takes t, t + VB, ...; fixed tree). */
__global__ static void __launch_bounds__(VB) k_vdot_chunk(int64_t n, lc_vref x, lc_vref y, double *part) {
  const double *xp = lc_vref_ptr(x), *yp = lc_vref_ptr(y);
  const int64_t lo = (int64_t)blockIdx.x * LC_CU_RED_CHUNK;
  const int64_t hi = lo + LC_CU_RED_CHUNK < n ? lo + LC_CU_RED_CHUNK : n;
  double acc = 0.0;
  for (int64_t i = lo + threadIdx.x; i < hi; i += VB) acc = acc + xp[i] * yp[i];
  lc_cu_block_reduce(acc, 0, part + blockIdx.x);
}

/* *out = x . y, the dot op's fixed-order sum. */
int lc_cu_vdot(lc_backend *b, int64_t n, lc_vref x, lc_vref y, double *out) {
  lc_cu_ctx *c = lc_cu(b);
  if (use_dev(b, NULL)) return LC_ENUMERIC;
  if (!out || ((!x.p || !y.p) && n > 0)) return LC_EINVAL;
  const int64_t nb = n > 0 ? (n + LC_CU_RED_CHUNK - 1) / LC_CU_RED_CHUNK : 0;
  if (nb == 0) return cudaMemsetAsync(out, 0, sizeof *out, c->stream) ? LC_ENUMERIC : LC_OK;
  int rc = lc_cu_red_reserve(b, n, NULL);
  if (rc) return rc;
  k_vdot_chunk<<<(unsigned)nb, VB, 0, c->stream>>>(n, x, y, c->red);
  rc = launched();
  return rc ? rc : (lc_cu_launch_sum(c->red, nb, out, c->stream) ? LC_ENUMERIC : LC_OK);
}

/* ---- scalar steps and conditions ------------------------------------------------ */

/* Scalar step id on the device state. */
__global__ static void k_step(lc_sstate *st, int id) { lc_sstep(st, id); }

/* The graph's condition value of handle h := lc_scond(st, cond). */
__global__ static void k_set_cond(cudaGraphConditionalHandle h, const lc_sstate *st, int cond) {
  cudaGraphSetConditional(h, lc_scond(st, cond) ? 1u : 0u);
}

/* *out := lc_scond(st, cond) (out: pinned host memory). */
__global__ static void k_store_cond(const lc_sstate *st, int cond, int32_t *out) {
  *(volatile int32_t *)out = lc_scond(st, cond);
}

/* Scalar step id (lc_sstep) as a one-thread kernel. */
int lc_cu_step(lc_backend *b, struct lc_sstate *st, int id) {
  if (use_dev(b, NULL)) return LC_ENUMERIC;
  if (!st || id < 0 || id >= LC_SS_COUNT) return LC_EINVAL;
  k_step<<<1, 1, 0, lc_cu(b)->stream>>>(st, id);
  return launched();
}

/* ---- eager control flow ----------------------------------------------------------- */

/* Reads condition cond of the state to the host: one counted wait. */
static int eager_test(lc_backend *b, const lc_sstate *st, int cond, int *val, lc_error *err) {
  int rc = cond_reserve(b, err);
  if (rc) return rc;
  k_store_cond<<<1, 1, 0, lc_cu(b)->stream>>>(st, cond, sv(b)->cond_h);
  rc = launched_err(b, "the condition test", err);
  if (!rc) rc = wait_counted(b, err);
  if (!rc) *val = *(volatile int32_t *)sv(b)->cond_h;
  return rc;
}

/* while (cond) body  or  if (cond) body, with host tests. */
static int eager_control(lc_backend *b, lc_sstate *st, int cond, int is_while, lc_prog_fn body,
                         void *user, lc_error *err) {
  int v = 0;
  int rc = eager_test(b, st, cond, &v, err);
  while (!rc && v) {
    rc = body(user, err);
    if (rc || !is_while) break;
    rc = eager_test(b, st, cond, &v, err);
  }
  return rc;
}

/* ---- recording ------------------------------------------------------------------------ */

/* A failed recording step: an error naming the device and the step. */
static int rec_fail(lc_backend *b, cudaError_t e, const char *what, lc_error *err) {
  return lc_cu_check(b, e ? e : cudaErrorStreamCaptureInvalidated, err, "recording the program: %s", what);
}

/* Ends the capture begun here, if one is active; notes an invalidated one. */
static int cap_end(lc_backend *b, lc_error *err) {
  lc_cu_solve *s = sv(b);
  if (!s->capturing) return LC_OK;
  const cudaStream_t st = lc_cu(b)->stream;
  cudaStreamCaptureStatus cs = cudaStreamCaptureStatusNone;
  const cudaError_t q = cudaStreamIsCapturing(st, &cs);
  cudaGraph_t g = NULL;
  const cudaError_t e = cudaStreamEndCapture(st, &g);
  s->capturing = 0;
  if (q == cudaSuccess && cs == cudaStreamCaptureStatusActive && e == cudaSuccess) return LC_OK;
  s->invalid = 1;
  return rec_fail(b, e, "the capture was invalidated (an operation is not capture-safe)", err);
}

/* Ends the active capture and continues capturing into graph g (after
 * node dep, if not NULL). */
static int cap_switch(lc_backend *b, cudaGraph_t g, const cudaGraphNode_t *dep, lc_error *err) {
  int rc = cap_end(b, err);
  if (rc) return rc;
  const cudaError_t e = cudaStreamBeginCaptureToGraph(lc_cu(b)->stream, g, dep, NULL, dep ? 1 : 0, CAP_MODE);
  if (e) return rec_fail(b, e, "beginning a capture", err);
  sv(b)->capturing = 1;
  return LC_OK;
}

/* The graph the stream is capturing into. */
static int cap_graph(lc_backend *b, cudaGraph_t *g, lc_error *err) {
  cudaStreamCaptureStatus cs = cudaStreamCaptureStatusNone;
  const cudaError_t e = cudaStreamGetCaptureInfo(lc_cu(b)->stream, &cs, NULL, g);
  if (e || cs != cudaStreamCaptureStatusActive) {
    if (cs == cudaStreamCaptureStatusInvalidated) sv(b)->invalid = 1;
    return rec_fail(b, e, "the stream is not capturing", err);
  }
  return LC_OK;
}

/* Adds a conditional node of type ty on handle h to g after the stream's
 * current dependencies; its body graph goes to *body. */
static int add_cond_node(lc_backend *b, cudaGraph_t g, cudaGraphConditionalHandle h,
                         cudaGraphConditionalNodeType ty, cudaGraphNode_t *node, cudaGraph_t *body,
                         lc_error *err) {
  cudaStreamCaptureStatus cs = cudaStreamCaptureStatusNone;
  const cudaGraphNode_t *deps = NULL;
  size_t nd = 0;
  cudaError_t e = cudaStreamGetCaptureInfo(lc_cu(b)->stream, &cs, NULL, NULL, &deps, NULL, &nd);
  if (e || cs != cudaStreamCaptureStatusActive) return rec_fail(b, e, "reading the capture's dependencies", err);
  cudaGraphNodeParams np = {cudaGraphNodeTypeConditional}; /* aggregate: the union has no default constructor */
  np.conditional.handle = h;
  np.conditional.type = ty;
  np.conditional.size = 1;
  e = cudaGraphAddNode(node, g, deps, NULL, nd, &np);
  if (e) return rec_fail(b, e, "adding a conditional node", err);
  *body = np.conditional.phGraph_out[0];
  return LC_OK;
}

/* Sets handle h's condition from the state (a kernel in the capture). */
static int set_cond(lc_backend *b, cudaGraphConditionalHandle h, const lc_sstate *st, int cond, lc_error *err) {
  k_set_cond<<<1, 1, 0, lc_cu(b)->stream>>>(h, st, cond);
  return launched_err(b, "the condition kernel", err);
}

/* Records while (cond) body (is_while) or if (cond) body as a conditional
 * node of the graph being captured, its body captured into the node's body
 * graph on the same stream. */
static int record_control(lc_backend *b, lc_sstate *st, int cond, int is_while, lc_prog_fn body,
                          void *user, lc_error *err) {
  cudaGraph_t g = NULL, bg = NULL;
  cudaGraphNode_t node = NULL;
  cudaGraphConditionalHandle h = 0;
  int rc = cap_graph(b, &g, err);
  if (!rc) {
    const cudaError_t e = cudaGraphConditionalHandleCreate(&h, g, 0, cudaGraphCondAssignDefault);
    if (e) rc = rec_fail(b, e, "creating a conditional handle", err);
  }
  if (!rc) rc = set_cond(b, h, st, cond, err);
  if (!rc)
    rc = add_cond_node(b, g, h, is_while ? cudaGraphCondTypeWhile : cudaGraphCondTypeIf, &node, &bg, err);
  if (!rc) rc = cap_switch(b, bg, NULL, err);
  if (!rc) rc = body(user, err);
  if (!rc && is_while) rc = set_cond(b, h, st, cond, err);
  if (!rc) rc = cap_switch(b, g, &node, err);
  return rc;
}

/* while (lc_scond(st, cond)) body: a WHILE node while recording, else host tests. */
int lc_cu_loop(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
               lc_error *err) {
  int rc = use_dev(b, err);
  if (!rc) rc = solve_state(b, err);
  if (rc) return rc;
  if (!st || !body || cond < 0 || cond >= LC_SC_COUNT)
    return lc_error_set(err, LC_EINVAL, "%s: loop: bad state, body or condition %d", b->id, cond);
  if (sv(b)->recording) return record_control(b, st, cond, 1, body, user, err);
  return eager_control(b, st, cond, 1, body, user, err);
}

/* if (lc_scond(st, cond)) body: an IF node while recording, else a host test. */
int lc_cu_branch(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
                 lc_error *err) {
  int rc = use_dev(b, err);
  if (!rc) rc = solve_state(b, err);
  if (rc) return rc;
  if (!st || !body || cond < 0 || cond >= LC_SC_COUNT)
    return lc_error_set(err, LC_EINVAL, "%s: branch: bad state, body or condition %d", b->id, cond);
  if (sv(b)->recording) return record_control(b, st, cond, 0, body, user, err);
  return eager_control(b, st, cond, 0, body, user, err);
}

/* Captures prog into a new graph and instantiates it into *exec; on
 * failure the stream is not capturing and *exec is NULL. */
static int record(lc_backend *b, lc_prog_fn prog, void *user, cudaGraphExec_t *exec, lc_error *err) {
  lc_cu_solve *s = sv(b);
  cudaGraph_t root = NULL;
  *exec = NULL;
  s->invalid = 0;
  cudaError_t e = cudaGraphCreate(&root, 0);
  if (e) return rec_fail(b, e, "creating the graph", err);
  e = cudaStreamBeginCaptureToGraph(lc_cu(b)->stream, root, NULL, NULL, 0, CAP_MODE);
  int rc = e ? rec_fail(b, e, "beginning the capture", err) : LC_OK;
  if (!rc) {
    s->capturing = 1;
    s->recording = 1;
    rc = prog(user, err);
    s->recording = 0;
  }
  const int rc_end = cap_end(b, rc ? NULL : err);
  if (!rc) rc = rc_end;
  if (!rc) {
    e = cudaGraphInstantiate(exec, root, 0);
    if (e) {
      *exec = NULL;
      rc = rec_fail(b, e, "instantiating the graph", err);
    }
  }
  if (!s->invalid) cudaGraphDestroy(root); /* else left to the driver (file comment) */
  cudaGetLastError();
  return rc;
}

/* ---- running --------------------------------------------------------------------------- */

/* Waits for the stream without blocking: poll every POLL_NS, and once
 * after completion.  Not a counted read (the caller's download is). */
static int wait_polling(lc_backend *b, lc_poll_fn poll, void *puser, const char *what, lc_error *err) {
  const cudaStream_t st = lc_cu(b)->stream;
  const struct timespec nap = {0, POLL_NS};
  for (;;) {
    const cudaError_t e = cudaStreamQuery(st);
    if (e == cudaSuccess) break;
    if (e != cudaErrorNotReady) return lc_cu_check(b, e, err, "%s", what);
    if (poll) poll(puser);
    nanosleep(&nap, NULL);
  }
  if (poll) poll(puser);
  return LC_OK;
}

/* Runs prog eagerly: the ops as issued, host tests for control flow. */
static int run_eager(lc_backend *b, lc_prog_fn prog, void *user, lc_poll_fn poll, void *puser,
                     lc_error *err) {
  const int rc = prog(user, err);
  const int rw = wait_polling(b, poll, puser, "running the program", rc ? NULL : err);
  return rc ? rc : rw;
}

/* Sizes the scratch a recorded program may use for the problem as last
 * synced: reductions of n_dofs entries, one step-bound partial per chunk,
 * the condition word.  A new scratch buffer retires the recorded program. */
static int reserve_all(lc_backend *b, lc_error *err) {
  lc_cu_ctx *c = lc_cu(b);
  int rc = lc_cu_red_reserve(b, c->n_dofs > 0 ? c->n_dofs : 1, err);
  if (!rc) rc = ms_reserve(b, c->n_partials > 0 ? c->n_partials : 1, err);
  if (!rc) rc = cond_reserve(b, err);
  return rc;
}

/* 1 if the recorded program may be replayed for key. */
static int replayable(lc_backend *b, uint64_t key) {
  const lc_cu_solve *s = sv(b);
  return s->exec && key && s->key == key && s->lin_gen == lc_cu_lin_generation(b) &&
         s->red == lc_cu(b)->red && s->ms == s->ms_part;
}

/* 1 if run should try to record prog under key at all. */
static int recordable(lc_backend *b, uint64_t key) {
  const lc_cu_solve *s = sv(b);
  if (!lc_cu_lin_capturable(b)) return 0;
  return !(key && s->fail_key == key && s->fail_count >= FAIL_LIMIT);
}

/* Notes a failed recording of key. */
static void note_failure(lc_cu_solve *s, uint64_t key) {
  if (key && s->fail_key == key) s->fail_count++;
  else {
    s->fail_key = key;
    s->fail_count = 1;
  }
}

/* Launches exec and polls until it completes. */
static int launch(lc_backend *b, cudaGraphExec_t exec, lc_poll_fn poll, void *puser, lc_error *err) {
  const cudaError_t e = cudaGraphLaunch(exec, lc_cu(b)->stream);
  if (e) return lc_cu_check(b, e, err, "launching the program's graph");
  return wait_polling(b, poll, puser, "running the program's graph", err);
}

/* Records (unless replayable) and launches the program; *fell_back = 1
 * when it could not be recorded and nothing was launched. */
static int run_graph(lc_backend *b, uint64_t key, lc_prog_fn prog, void *user, lc_poll_fn poll,
                     void *puser, int *fell_back, lc_error *err) {
  lc_cu_solve *s = sv(b);
  cudaGraphExec_t exec = NULL;
  *fell_back = 0;
  if (replayable(b, key)) return launch(b, s->exec, poll, puser, err);
  drop_exec(s);
  lc_error why; /* a recording failure only selects the eager run */
  if (record(b, prog, user, &exec, &why)) {
    note_failure(s, key);
    *fell_back = 1;
    return LC_OK;
  }
  if (key && s->fail_key == key) s->fail_count = 0;
  const int rc = launch(b, exec, poll, puser, err);
  if (key) {
    s->exec = exec;
    s->key = key;
    s->lin_gen = lc_cu_lin_generation(b);
    s->red = lc_cu(b)->red;
    s->ms = s->ms_part;
  } else {
    cudaGraphExecDestroy(exec);
  }
  return rc;
}

/* Runs prog once to completion: as a recorded graph (replayed when key
 * names the last one recorded), or eagerly when it cannot be recorded.
 * poll runs every POLL_NS while the device works, and once after. */
int lc_cu_run(lc_backend *b, struct lc_sstate *st, uint64_t key, lc_prog_fn prog, void *user,
              lc_poll_fn poll, void *puser, lc_error *err) {
  (void)st;
  int rc = use_dev(b, err);
  if (!rc) rc = solve_state(b, err);
  if (rc) return rc;
  if (!prog) return lc_error_set(err, LC_EINVAL, "%s: run: no program", b->id);
  if (sv(b)->recording) return lc_error_set(err, LC_ESTATE, "%s: run inside a recorded program", b->id);
  if ((rc = reserve_all(b, err))) return rc;
  int fell_back = 1;
  if (recordable(b, key)) rc = run_graph(b, key, prog, user, poll, puser, &fell_back, err);
  if (rc || !fell_back) return rc;
  rc = run_eager(b, prog, user, poll, puser, err);
  if (rc && key && sv(b)->fail_key == key) sv(b)->fail_count = 0; /* the program fails anyway: retry recording */
  return rc;
}

/* A host-run program's poll point: polls unless the program is being
 * recorded (a graph's host polls while it runs). */
int lc_cu_notify(lc_backend *b, lc_poll_fn poll, void *puser) {
  const lc_cu_solve *s = lc_cu(b) ? sv(b) : NULL;
  if (poll && !(s && s->recording)) poll(puser);
  return LC_OK;
}

/* ---- host-visible memory and transfers ------------------------------------------------ */

/* Pinned host memory, mapped and portable: with unified virtual addressing
 * (every 64-bit CUDA platform) device code uses the same pointer as the
 * host; checked here (cudaHostGetDevicePointer) and refused otherwise. */
int lc_cu_alloc_host(lc_backend *b, size_t bytes, void **ptr, lc_error *err) {
  *ptr = NULL;
  int rc = use_dev(b, err);
  if (rc) return rc;
  void *p = NULL, *dp = NULL;
  cudaError_t e = cudaHostAlloc(&p, bytes ? bytes : 1, cudaHostAllocMapped | cudaHostAllocPortable);
  if (e) {
    cudaGetLastError();
    return lc_error_set(err, e == cudaErrorMemoryAllocation ? LC_ENOMEM : LC_ENUMERIC,
                        "%s: out of pinned host memory allocating %zu bytes (%s)", b->id, bytes,
                        cudaGetErrorString(e));
  }
  e = cudaHostGetDevicePointer(&dp, p, 0);
  if (e || dp != p) {
    cudaFreeHost(p);
    cudaGetLastError();
    return lc_error_set(err, LC_ENOTSUP, "%s: the device cannot address pinned host memory by its host "
                        "pointer (no unified addressing)", b->id);
  }
  memset(p, 0, bytes);
  *ptr = p;
  return LC_OK;
}

/* Frees memory of lc_cu_alloc_host. */
void lc_cu_free_host(lc_backend *b, void *ptr) {
  if (!ptr) return;
  cudaSetDevice(b->ordinal);
  cudaFreeHost(ptr);
  cudaGetLastError();
}

/* Device -> host copy ordered on the stream, without waiting (into
 * pageable memory the runtime may finish it before returning). */
int lc_cu_download_async(lc_backend *b, void *dst, const void *src, size_t bytes, lc_error *err) {
  int rc = use_dev(b, err);
  if (rc || !bytes) return rc;
  return lc_cu_check(b, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, lc_cu(b)->stream), err,
                     "downloading %zu bytes", bytes);
}

/* ---- step bound ------------------------------------------------------------------------ */

/* What the step-bound kernel reads of one term (device arrays). */
typedef struct ms_term {
  const int32_t *ent, *chunk_ptr;
  const double *consts;
  double params[LC_ENERGY_MAX_PARAMS];
  int64_t off;
  int K, D, n_const, bound;
} ms_term;

/* Fixed-tree min of the block's values into *out (thread 0). */
__device__ static void block_min(double v, double *out) {
  __shared__ double sh[VB];
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int w = VB / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w) sh[threadIdx.x] = fmin(sh[threadIdx.x], sh[threadIdx.x + w]);
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = sh[0];
}

/* The bound of element s of term t along d from x. */
__device__ static double elem_bound(const ms_term *t, const double *x, const double *d, int32_t s) {
  double xl[LC_ENERGY_MAX_N], dl[LC_ENERGY_MAX_N];
  const int32_t *en = t->ent + (int64_t)s * t->K;
  for (int a = 0; a < t->K; ++a)
    for (int k = 0; k < t->D; ++k) {
      const int64_t dof = t->off + (int64_t)en[a] * t->D + k;
      xl[a * t->D + k] = x[dof];
      dl[a * t->D + k] = d[dof];
    }
  return lc_max_step_elem(t->bound, xl, dl, t->consts + (int64_t)s * t->n_const, t->params);
}

/* part[b] = min of the bounds of chunk b's elements (+inf if none; a NaN
 * bound is ignored, as on the host). */
__global__ static void __launch_bounds__(VB)
    k_max_step_term(ms_term t, const double *x, const double *d, double *part) {
  const int32_t s0 = t.chunk_ptr[blockIdx.x], s1 = t.chunk_ptr[blockIdx.x + 1];
  double a = INFINITY;
  for (int32_t s = s0 + (int32_t)threadIdx.x; s < s1; s += VB) a = fmin(a, elem_bound(&t, x, d, s));
  block_min(a, part + blockIdx.x);
}

/* *out = min of n partials (+inf for none). */
__global__ static void __launch_bounds__(VB) k_min(const double *part, int64_t n, double *out) {
  double a = INFINITY;
  for (int64_t i = threadIdx.x; i < n; i += VB) a = fmin(a, part[i]);
  block_min(a, out);
}

/* The step-bound view of term ti (device arrays of the last sync). */
static ms_term term_view(lc_backend *b, const lc_problem *p, int ti) {
  const lc_term *t = p->terms[ti];
  const lc_cu_term *ct = &lc_cu(b)->terms[ti];
  ms_term m;
  memset(&m, 0, sizeof m);
  m.ent = ct->ent;
  m.chunk_ptr = ct->chunk_ptr;
  m.consts = ct->consts;
  memcpy(m.params, t->params, sizeof m.params);
  m.off = p->vars[t->var].off;
  m.K = t->K;
  m.D = t->D;
  m.n_const = t->n_const;
  m.bound = t->info->bound;
  return m;
}

/* 1 if term t of p bounds the step (a bound kind and a positive weight). */
static int bounded(const lc_term *t) {
  return t && t->info->bound != LC_BOUND_NONE && t->weight > 0.0 && t->n_chunks > 0;
}

/* *out = the largest admissible step along d from x over the terms with a
 * bound (+inf for none), on the device; deterministic (min). */
int lc_cu_max_step(lc_backend *b, lc_problem *p, const double *x, const double *d, double *out,
                   lc_error *err) {
  lc_cu_ctx *c = lc_cu(b);
  int rc = use_dev(b, err);
  if (!rc) rc = solve_state(b, err);
  if (rc) return rc;
  if (!x || !d || !out) return lc_error_set(err, LC_EINVAL, "%s: max_step: x, d and out are required", b->id);
  if (!c->terms || c->n_terms < p->n_term_slots || c->gen_terms != p->gen_terms)
    return lc_error_set(err, LC_ESTATE, "%s: max_step before sync", b->id);
  if ((rc = ms_reserve(b, c->n_partials > 0 ? c->n_partials : 1, err))) return rc;
  int64_t at = 0;
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    if (!bounded(t)) continue;
    if (t->K * t->D > LC_ENERGY_MAX_N || at + t->n_chunks > sv(b)->n_ms)
      return lc_error_set(err, LC_ESTATE, "%s: max_step: term %d does not fit the step-bound scratch", b->id, ti);
    k_max_step_term<<<(unsigned)t->n_chunks, VB, 0, c->stream>>>(term_view(b, p, ti), x, d, sv(b)->ms_part + at);
    if ((rc = launched_err(b, "the step-bound kernel", err))) return rc;
    at += t->n_chunks;
  }
  k_min<<<1, VB, 0, c->stream>>>(sv(b)->ms_part, at, out);
  return launched_err(b, "the step-bound minimum", err);
}
