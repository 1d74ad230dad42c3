/* test_solve_prog.c - Check suite for the solver program (engine/solvers/
 * solve.c, sstep.h) run the way a GPU runs it, on the CPU.
 *
 * A recording backend wraps the CPU ops: `run` first records the program
 * into a tree of operations (loops and branches become nodes holding their
 * recorded bodies, as conditional nodes of a CUDA graph do) while all
 * backend memory is mprotect()ed, so any host decision the solver made from
 * device data would crash the test; then it replays the tree, evaluating
 * the conditions on the state.  A run with the same key replays the tree
 * without recording.  In "async" mode the host polls only after a run (as
 * it would while a graph runs), so the progress ring fills and the solve
 * must suspend and resume.  Every method must give bit-identical results to
 * the direct CPU run, with one device read per run. */
#define _DEFAULT_SOURCE
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "solvers/solver.h"
#include "solvers/sstep.h"
#include "testutil.h"
#include "workloads.h"

/* ---- the recording backend ------------------------------------------------ */

typedef enum { N_VAXPY, N_VDOT, N_STEP, N_LOOP, N_BRANCH, N_NOTIFY, N_COPY, N_NRM, N_DOT,
               N_ZERO, N_TAN, N_RET, N_EVAL, N_MAXSTEP, N_LIN } nkind;

typedef struct node node;
typedef struct nlist {
  node *v;
  int n, cap;
} nlist;

struct node {
  nkind k;
  int64_t n;
  int id;
  lc_sref a;
  lc_vref x, y, z;
  const double *cx, *cy;
  double *out, *dx;
  int64_t off;
  int32_t cnt;
  lc_problem *p;
  lc_eval_req q;
  const lc_lin_req *lq;
  lc_sstate *st;
  lc_poll_fn poll;
  void *puser;
  nlist body;
};

typedef struct rec_state {
  int recording, async;
  nlist root, *cur;
  uint64_t key;
  int records, replays;
  struct { void *p; size_t len; } mem[64];
  int n_mem;
} rec_state;

static rec_state R;
static lc_backend_ops rec_ops;
static const lc_backend_ops *cpu;

/* Appends a node to the list being recorded. */
static node *push(nkind k) {
  nlist *l = R.cur;
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 16;
    l->v = realloc(l->v, (size_t)l->cap * sizeof *l->v);
  }
  node *n = l->v + l->n++;
  memset(n, 0, sizeof *n);
  n->k = k;
  return n;
}

/* Frees a recorded list. */
static void free_list(nlist *l) {
  for (int i = 0; i < l->n; ++i) free_list(&l->v[i].body);
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* Makes all backend memory unreadable (1) or readable again (0). */
static void protect(int on) {
  for (int i = 0; i < R.n_mem; ++i)
    ck_assert_int_eq(mprotect(R.mem[i].p, R.mem[i].len, on ? PROT_NONE : PROT_READ | PROT_WRITE), 0);
}

/* Page-aligned backend memory, tracked for protect(). */
static int r_alloc(lc_backend *b, size_t bytes, void **ptr, lc_error *err) {
  (void)b; (void)err;
  const size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = (bytes + pg - 1) / pg * pg;
  void *p = mmap(NULL, len ? len : pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ck_assert(p != MAP_FAILED);
  ck_assert_int_lt(R.n_mem, 64);
  R.mem[R.n_mem].p = p;
  R.mem[R.n_mem++].len = len ? len : pg;
  *ptr = p;
  return LC_OK;
}

/* Frees tracked backend memory. */
static void r_free(lc_backend *b, void *ptr) {
  (void)b;
  for (int i = 0; i < R.n_mem; ++i)
    if (R.mem[i].p == ptr) {
      munmap(ptr, R.mem[i].len);
      R.mem[i] = R.mem[--R.n_mem];
      return;
    }
}

#define REC_OR(expr) if (!R.recording) return (expr)

static int r_vaxpy(lc_backend *b, int64_t n, lc_sref a, lc_vref x, lc_vref y, lc_vref z) {
  REC_OR(cpu->vaxpy(b, n, a, x, y, z));
  node *e = push(N_VAXPY);
  e->n = n, e->a = a, e->x = x, e->y = y, e->z = z;
  return LC_OK;
}
static int r_vdot(lc_backend *b, int64_t n, lc_vref x, lc_vref y, double *out) {
  REC_OR(cpu->vdot(b, n, x, y, out));
  node *e = push(N_VDOT);
  e->n = n, e->x = x, e->y = y, e->out = out;
  return LC_OK;
}
static int r_dot(lc_backend *b, int64_t n, const double *x, const double *y, double *out) {
  REC_OR(cpu->dot(b, n, x, y, out));
  node *e = push(N_DOT);
  e->n = n, e->cx = x, e->cy = y, e->out = out;
  return LC_OK;
}
static int r_nrm(lc_backend *b, int64_t n, const double *x, double *out) {
  REC_OR(cpu->nrm_inf(b, n, x, out));
  node *e = push(N_NRM);
  e->n = n, e->cx = x, e->out = out;
  return LC_OK;
}
static int r_copy(lc_backend *b, int64_t n, const double *x, double *y) {
  REC_OR(cpu->copy(b, n, x, y));
  node *e = push(N_COPY);
  e->n = n, e->cx = x, e->dx = y;
  return LC_OK;
}
static int r_zero(lc_backend *b, lc_problem *p, double *x) {
  REC_OR(cpu->zero_fixed(b, p, x));
  node *e = push(N_ZERO);
  e->p = p, e->dx = x;
  return LC_OK;
}
static int r_tan(lc_backend *b, int64_t off, int32_t n, const double *x, double *d) {
  REC_OR(cpu->sphere_tangent(b, off, n, x, d));
  node *e = push(N_TAN);
  e->off = off, e->cnt = n, e->cx = x, e->dx = d;
  return LC_OK;
}
static int r_ret(lc_backend *b, int64_t off, int32_t n, double *x) {
  REC_OR(cpu->sphere_retract(b, off, n, x));
  node *e = push(N_RET);
  e->off = off, e->cnt = n, e->dx = x;
  return LC_OK;
}
static int r_eval(lc_backend *b, lc_problem *p, const lc_eval_req *q, lc_error *err) {
  REC_OR(cpu->eval(b, p, q, err));
  node *e = push(N_EVAL);
  e->p = p, e->q = *q;
  return LC_OK;
}
static int r_maxstep(lc_backend *b, lc_problem *p, const double *x, const double *d, double *out,
                     lc_error *err) {
  REC_OR(cpu->max_step(b, p, x, d, out, err));
  node *e = push(N_MAXSTEP);
  e->p = p, e->cx = x, e->cy = d, e->out = out;
  return LC_OK;
}
static int r_lin(lc_backend *b, lc_problem *p, const lc_lin_req *q, lc_error *err) {
  REC_OR(cpu->lin_solve(b, p, q, err));
  node *e = push(N_LIN);
  e->p = p, e->lq = q;
  return LC_OK;
}
static int r_step(lc_backend *b, struct lc_sstate *st, int id) {
  REC_OR(cpu->step(b, st, id));
  node *e = push(N_STEP);
  e->st = st, e->id = id;
  return LC_OK;
}
static int r_notify(lc_backend *b, lc_poll_fn poll, void *puser) {
  if (!R.recording) return R.async ? LC_OK : cpu->notify(b, poll, puser);
  node *e = push(N_NOTIFY);
  e->poll = poll, e->puser = puser;
  return LC_OK;
}

/* Records body into a loop or branch node. */
static int record_ctl(nkind k, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
                      lc_error *err) {
  node *e = push(k);
  e->st = st, e->id = cond;
  nlist *saved = R.cur, child = {0};
  R.cur = &child;
  const int rc = body(user, err);
  R.cur = saved;
  /* the parent list may have grown while the body recorded: find e again */
  saved->v[saved->n - 1].body = child;
  return rc;
}
static int r_loop(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
                  lc_error *err) {
  REC_OR(cpu->loop(b, st, cond, body, user, err));
  return record_ctl(N_LOOP, st, cond, body, user, err);
}
static int r_branch(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
                    lc_error *err) {
  REC_OR(cpu->branch(b, st, cond, body, user, err));
  return record_ctl(N_BRANCH, st, cond, body, user, err);
}

static int replay(lc_backend *b, const nlist *l, lc_error *err);

/* Replays one node on the CPU ops. */
static int replay_node(lc_backend *b, const node *e, lc_error *err) {
  switch (e->k) {
    case N_VAXPY: return cpu->vaxpy(b, e->n, e->a, e->x, e->y, e->z);
    case N_VDOT: return cpu->vdot(b, e->n, e->x, e->y, e->out);
    case N_DOT: return cpu->dot(b, e->n, e->cx, e->cy, e->out);
    case N_NRM: return cpu->nrm_inf(b, e->n, e->cx, e->out);
    case N_COPY: return cpu->copy(b, e->n, e->cx, e->dx);
    case N_ZERO: return cpu->zero_fixed(b, e->p, e->dx);
    case N_TAN: return cpu->sphere_tangent(b, e->off, e->cnt, e->cx, e->dx);
    case N_RET: return cpu->sphere_retract(b, e->off, e->cnt, e->dx);
    case N_EVAL: return cpu->eval(b, e->p, &e->q, err);
    case N_MAXSTEP: return cpu->max_step(b, e->p, e->cx, e->cy, e->out, err);
    case N_LIN: return cpu->lin_solve(b, e->p, e->lq, err);
    case N_STEP: return cpu->step(b, e->st, e->id);
    case N_NOTIFY: return R.async ? LC_OK : cpu->notify(b, e->poll, e->puser);
    case N_LOOP: {
      int rc = LC_OK;
      while (rc == LC_OK && lc_scond(e->st, e->id)) rc = replay(b, &e->body, err);
      return rc;
    }
    case N_BRANCH: return lc_scond(e->st, e->id) ? replay(b, &e->body, err) : LC_OK;
  }
  return LC_EINVAL;
}

/* Replays a recorded list. */
static int replay(lc_backend *b, const nlist *l, lc_error *err) {
  int rc = LC_OK;
  for (int i = 0; rc == LC_OK && i < l->n; ++i) rc = replay_node(b, l->v + i, err);
  return rc;
}

/* Records the program (memory protected) unless key matches, then replays. */
static int r_run(lc_backend *b, struct lc_sstate *st, uint64_t key, lc_prog_fn prog, void *user,
                 lc_poll_fn poll, void *puser, lc_error *err) {
  (void)st;
  int rc = LC_OK;
  if (!key || key != R.key) {
    free_list(&R.root);
    R.cur = &R.root;
    R.recording = 1;
    protect(1);
    rc = prog(user, err);
    protect(0);
    R.recording = 0;
    R.key = rc ? 0 : key;
    R.records++;
  }
  if (!rc) rc = replay(b, &R.root, err);
  R.replays++;
  if (poll) poll(puser);
  return rc;
}

/* Binds p to the recording backend (host memory, counted reads). */
static void bind_recording(lc_problem *p, int async) {
  cpu = lc_backend_cpu_ops();
  rec_ops = *cpu;
  rec_ops.alloc = r_alloc;
  rec_ops.free = r_free;
  rec_ops.vaxpy = r_vaxpy;
  rec_ops.vdot = r_vdot;
  rec_ops.dot = r_dot;
  rec_ops.nrm_inf = r_nrm;
  rec_ops.copy = r_copy;
  rec_ops.zero_fixed = r_zero;
  rec_ops.sphere_tangent = r_tan;
  rec_ops.sphere_retract = r_ret;
  rec_ops.eval = r_eval;
  rec_ops.max_step = r_maxstep;
  rec_ops.lin_solve = r_lin;
  rec_ops.step = r_step;
  rec_ops.notify = r_notify;
  rec_ops.loop = r_loop;
  rec_ops.branch = r_branch;
  rec_ops.run = r_run;
  free_list(&R.root);
  memset(&R, 0, sizeof R);
  R.async = async;
  lc_backend *be = lc_problem_backend(p);
  be->ops = &rec_ops;
  be->kind = LC_DEV_CUDA; /* reads are counted as on a device */
}

/* ---- cases ------------------------------------------------------------------ */

typedef struct trace {
  int n;
  double e[4096];
  int iter[4096];
} trace;

static int record_it(void *user, const lc_iter_stats *it) {
  trace *t = user;
  if (t->n < 4096) {
    t->e[t->n] = it->energy;
    t->iter[t->n++] = it->iter;
  }
  return 0;
}

typedef struct outcome {
  lc_solve_result r;
  double *x;
  int64_t n;
  trace tr;
  uint64_t reads;
} outcome;

/* Solves workload (id, mesh, grid) with options o on the CPU or the recording backend. */
static void solve_one(int id, const char *mesh, int grid, const lc_solve_opts *o0, int mode,
                      outcome *out) {
  lc_workload w;
  lc_solver *s;
  lc_error err;
  ck_assert_msg(lc_workload_setup(id, mesh, lc_test_mesh_dir(), grid, "cpu", &w, &err) == LC_OK, "%s", err.msg);
  if (mode) bind_recording(w.p, mode == 2);
  ck_assert_int_eq(lc_solver_create(w.p, &s, &err), LC_OK);
  lc_solve_opts o = *o0;
  out->tr.n = 0;
  o.progress = record_it;
  o.user = &out->tr;
  const uint64_t r0 = lc_problem_host_reads(w.p);
  ck_assert_msg(lc_solver_solve(s, &o, &out->r, &err) == LC_OK, "%s", err.msg);
  out->reads = lc_problem_host_reads(w.p) - r0;
  out->n = lc_problem_n_dofs(w.p);
  out->x = malloc((size_t)out->n * sizeof *out->x);
  memcpy(out->x, lc_problem_x(w.p), (size_t)out->n * sizeof *out->x);
  lc_solver_destroy(s);
  lc_workload_free(&w);
  if (mode) free_list(&R.root);
}

/* The recorded/replayed solve equals the direct one bit for bit. */
static void check_same(int id, const char *mesh, int grid, const lc_solve_opts *o, int async) {
  outcome a, b;
  solve_one(id, mesh, grid, o, 0, &a);
  solve_one(id, mesh, grid, o, async ? 2 : 1, &b);
  ck_assert_int_eq(a.r.reason, b.r.reason);
  ck_assert_int_eq(a.r.iters, b.r.iters);
  ck_assert_msg(a.r.energy == b.r.energy, "energy %a vs %a", a.r.energy, b.r.energy);
  ck_assert(a.r.gnorm == b.r.gnorm);
  ck_assert(!memcmp(a.x, b.x, (size_t)a.n * sizeof *a.x));
  ck_assert_int_eq(a.tr.n, b.tr.n);
  for (int i = 0; i < a.tr.n; ++i) ck_assert(a.tr.e[i] == b.tr.e[i] && a.tr.iter[i] == b.tr.iter[i]);
  ck_assert_int_eq(a.reads, 0); /* CPU reads are host copies */
  /* one read per run: the state and x together (async: one more per resumption) */
  const int resumes = async ? (b.tr.n - 1) / 256 : 0;
  ck_assert_uint_eq(b.reads, 1 + (uint64_t)resumes);
  free(a.x);
  free(b.x);
}

START_TEST(gd_lbfgs_recorded) {
  lc_solve_opts o;
  lc_solve_opts_default(&o, LC_SOLVE_GD);
  o.max_iters = 40;
  check_same(5, NULL, 10, &o, 0);
  lc_solve_opts_default(&o, LC_SOLVE_LBFGS);
  o.max_iters = 40;
  check_same(5, NULL, 10, &o, 0);
  check_same(6, NULL, 12, &o, 0);
}
END_TEST

START_TEST(newton_recorded) {
  static const lc_lin_kind kinds[] = {LC_LIN_CHOLMOD, LC_LIN_PCG, LC_LIN_CG_MATFREE};
  for (int k = 0; k < 3; ++k)
    for (int pc = 0; pc < (kinds[k] == LC_LIN_PCG ? 2 : 1); ++pc) {
      lc_solve_opts o;
      lc_solve_opts_default(&o, LC_SOLVE_NEWTON);
      o.linear = kinds[k];
      o.lin.precond = pc ? LC_PRECOND_BLOCK_JACOBI : LC_PRECOND_JACOBI;
      o.max_iters = 6;
      check_same(5, NULL, 10, &o, 0);
    }
}
END_TEST

START_TEST(gauss_newton_lm_recorded) {
  for (int lm = 0; lm < 2; ++lm) {
    lc_solve_opts o;
    lc_solve_opts_default(&o, lm ? LC_SOLVE_LM : LC_SOLVE_GAUSS_NEWTON);
    o.max_iters = 5;
    check_same(5, NULL, 10, &o, 0);
  }
}
END_TEST

/* Flip-free symmetric Dirichlet: the energies' step bound on the device path. */
START_TEST(step_bound_recorded) {
  lc_solve_opts o;
  lc_solve_opts_default(&o, LC_SOLVE_NEWTON);
  o.max_iters = 3;
  check_same(1, "camelhead", 0, &o, 0);
}
END_TEST

/* The host polls only after a run: 600 GD iterations fill the 256-record
 * ring twice; the solve suspends, the host drains and resumes. */
START_TEST(ring_overflow_resumes) {
  lc_solve_opts o;
  lc_solve_opts_default(&o, LC_SOLVE_GD);
  o.max_iters = 600;
  o.gtol = 0.0;
  check_same(5, NULL, 6, &o, 1);
}
END_TEST

/* A second solve with the same structure replays without recording. */
START_TEST(key_reuse) {
  lc_workload w;
  lc_solver *s;
  lc_error err;
  ck_assert_int_eq(lc_workload_setup(5, NULL, lc_test_mesh_dir(), 8, "cpu", &w, &err), LC_OK);
  bind_recording(w.p, 0);
  ck_assert_int_eq(lc_solver_create(w.p, &s, &err), LC_OK);
  lc_solve_opts o;
  lc_solve_result r1, r2;
  lc_solve_opts_default(&o, LC_SOLVE_LBFGS);
  o.max_iters = 5;
  ck_assert_int_eq(lc_solver_solve(s, &o, &r1, &err), LC_OK);
  o.max_iters = 7; /* options live in the state, not in the recording */
  ck_assert_int_eq(lc_solver_solve(s, &o, &r2, &err), LC_OK);
  ck_assert_int_eq(R.records, 1);
  ck_assert_int_eq(R.replays, 2);
  ck_assert_int_eq(r2.iters, 7);
  lc_solve_opts_default(&o, LC_SOLVE_NEWTON); /* another structure records again */
  o.max_iters = 1;
  ck_assert_int_eq(lc_solver_solve(s, &o, &r2, &err), LC_OK);
  ck_assert_int_eq(R.records, 2);
  lc_solver_destroy(s);
  lc_workload_free(&w);
  free_list(&R.root);
}
END_TEST

/* Builds the suite. */
static Suite *suite(void) {
  Suite *s = suite_create("solve_prog");
  TCase *t = tcase_create("recorded");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, gd_lbfgs_recorded);
  tcase_add_test(t, newton_recorded);
  tcase_add_test(t, gauss_newton_lm_recorded);
  tcase_add_test(t, step_bound_recorded);
  tcase_add_test(t, ring_overflow_resumes);
  tcase_add_test(t, key_reuse);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return lc_test_run_suite(suite()); }
