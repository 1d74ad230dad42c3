/* solve.c - the minimisers of solver.h: one loop (derivatives, direction,
 * step bound, Armijo line search, update, stopping tests, progress) with
 * the direction chosen per method.  Vector work goes through lc_vecops so
 * that the loop is backend-agnostic. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval/el_vec.h"
#include "solver.h"
#include "vecops.h"

/* Iterations in a row without a strict energy decrease before stopping. */
#define LC_STALL_ITERS 10

struct lc_solver {
  lc_problem *p;
  int64_t n;
  const lc_vecops *ops;
  double *g, *d, *x0, *gprev, *tmp;
  double *S, *Y, *rho; /* L-BFGS history, m_cap pairs */
  int m_cap, head, count;
  lc_linsolve *lin;
  lc_lin_kind lin_kind;
};

/* Seconds on a monotonic clock. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Fills o with the defaults for method. */
void lc_solve_opts_default(lc_solve_opts *o, lc_solve_method method) {
  memset(o, 0, sizeof *o);
  o->method = method;
  o->linear = LC_LIN_CHOLMOD;
  o->lin.rtol = 1e-8;
  o->lin.max_iters = 1000;
  o->lin.block = 3;
  o->max_iters = 100;
  o->gtol = 1e-8;
  o->lbfgs_m = 8;
  o->ls_c = 1e-4;
  o->ls_shrink = 0.5;
  o->ls_max = 60;
  o->max_step_frac = 0.9;
  o->project = 1;
  o->reg = 1e-9;
  o->lm_lambda = 1e-3;
  o->sphere_var = -1;
}

/* Creates a solver for problem p. */
int lc_solver_create(lc_problem *p, lc_solver **out, lc_error *err) {
  if (!p || !out) return lc_error_set(err, LC_EINVAL, "solver.create: problem and out are required");
  lc_solver *s = calloc(1, sizeof *s);
  if (!s) return lc_error_set(err, LC_ENOMEM, "solver.create: out of memory");
  s->p = p;
  s->ops = lc_vecops_cpu();
  s->lin_kind = (lc_lin_kind)-1;
  *out = s;
  return LC_OK;
}

/* Frees the per-size workspace. */
static void free_work(lc_solver *s) {
  free(s->g); free(s->d); free(s->x0); free(s->gprev); free(s->tmp);
  free(s->S); free(s->Y); free(s->rho);
  s->g = s->d = s->x0 = s->gprev = s->tmp = s->S = s->Y = s->rho = NULL;
  s->n = 0;
  s->m_cap = s->count = s->head = 0;
}

/* Destroys the solver. */
void lc_solver_destroy(lc_solver *s) {
  if (!s) return;
  free_work(s);
  lc_linsolve_destroy(s->lin);
  free(s);
}

/* Sizes the workspace for the problem's current DOF count and history m. */
static int ensure_work(lc_solver *s, int m, lc_error *err) {
  const int64_t n = lc_problem_n_dofs(s->p);
  if (n == s->n && m <= s->m_cap) return LC_OK;
  free_work(s);
  const size_t b = (size_t)(n > 0 ? n : 1) * sizeof(double);
  s->g = malloc(b); s->d = malloc(b); s->x0 = malloc(b); s->gprev = malloc(b); s->tmp = malloc(b);
  s->S = malloc(b * (size_t)m); s->Y = malloc(b * (size_t)m); s->rho = malloc(sizeof(double) * (size_t)(m + 1));
  if (!s->g || !s->d || !s->x0 || !s->gprev || !s->tmp || !s->S || !s->Y || !s->rho) {
    free_work(s);
    return lc_error_set(err, LC_ENOMEM, "solver: out of memory for %lld DOFs", (long long)n);
  }
  s->n = n;
  s->m_cap = m;
  return LC_OK;
}

/* ---- manifold: per-entity unit sphere ----------------------------------- */

/* Removes from v the radial component at x for every entity of the sphere variable. */
static void sphere_project(const lc_problem *p, int var, const double *x, double *v) {
  int64_t off;
  int32_t n;
  lc_problem_var_info(p, var, NULL, NULL, &n, &off);
  for (int32_t i = 0; i < n; ++i) lc_sphere_tangent_one(x + off + 3 * (int64_t)i, v + off + 3 * (int64_t)i);
}

/* Retraction: normalises every entity of the sphere variable in x. */
static void sphere_retract(const lc_problem *p, int var, double *x) {
  int64_t off;
  int32_t n;
  lc_problem_var_info(p, var, NULL, NULL, &n, &off);
  for (int32_t i = 0; i < n; ++i) lc_sphere_retract_one(x + off + 3 * (int64_t)i);
}

/* ---- directions --------------------------------------------------------- */

/* L-BFGS two-loop recursion: d = -H_k g from the stored pairs. */
static void lbfgs_direction(lc_solver *s, const double *g, double *d) {
  const lc_vecops *v = s->ops;
  double alpha[64];
  v->copy(s->n, g, d);
  for (int k = 0; k < s->count; ++k) {
    const int i = (s->head - 1 - k + s->m_cap) % s->m_cap;
    alpha[k] = s->rho[i] * v->dot(s->n, s->S + i * s->n, d);
    v->axpy(s->n, -alpha[k], s->Y + i * s->n, d);
  }
  if (s->count > 0) {
    const int i = (s->head - 1 + s->m_cap) % s->m_cap;
    const double yy = v->dot(s->n, s->Y + i * s->n, s->Y + i * s->n);
    if (yy > 0.0) v->scale(s->n, 1.0 / (s->rho[i] * yy), d);
  }
  for (int k = s->count - 1; k >= 0; --k) {
    const int i = (s->head - 1 - k + s->m_cap) % s->m_cap;
    const double beta = s->rho[i] * v->dot(s->n, s->Y + i * s->n, d);
    v->axpy(s->n, alpha[k] - beta, s->S + i * s->n, d);
  }
  v->scale(s->n, -1.0, d);
}

/* Stores the pair s = x - x0, y = g - gprev unless s.y <= eps |s||y|. */
static void lbfgs_update(lc_solver *s, const double *x) {
  const lc_vecops *v = s->ops;
  double *si = s->S + s->head * s->n, *yi = s->Y + s->head * s->n;
  v->copy(s->n, x, si);
  v->axpy(s->n, -1.0, s->x0, si);
  v->copy(s->n, s->g, yi);
  v->axpy(s->n, -1.0, s->gprev, yi);
  const double sy = v->dot(s->n, si, yi);
  const double ss = v->dot(s->n, si, si), yy = v->dot(s->n, yi, yi);
  if (!(sy > 1e-12 * sqrt(ss * yy))) return; /* skip: curvature condition fails */
  s->rho[s->head] = 1.0 / sy;
  s->head = (s->head + 1) % s->m_cap;
  if (s->count < s->m_cap) s->count++;
}

/* Operator context for matrix-free Newton: (H + reg I) v at x. */
typedef struct hvp_ctx {
  lc_problem *p;
  const double *x;
  int project;
  double reg;
} hvp_ctx;

static int hvp_op(void *user, const double *v, double *y) {
  hvp_ctx *c = user;
  int rc = lc_problem_hvp(c->p, c->x, v, c->project, NULL, NULL, y, NULL);
  const int64_t n = lc_problem_n_dofs(c->p);
  for (int64_t i = 0; rc == LC_OK && i < n; ++i) y[i] += c->reg * v[i];
  return rc;
}

/* Makes sure the linear solver matches the requested kind. */
static int ensure_linsolve(lc_solver *s, lc_lin_kind kind, lc_error *err) {
  if (s->lin && s->lin_kind == kind) return LC_OK;
  lc_linsolve_destroy(s->lin);
  s->lin = NULL;
  int rc = lc_linsolve_create(kind, s->n, &s->lin, err);
  s->lin_kind = rc ? (lc_lin_kind)-1 : kind;
  return rc;
}

/* Newton / Gauss-Newton / LM direction: solves (H + shift) d = -g. */
static int newton_direction(lc_solver *s, const lc_solve_opts *o, const lc_csr *H, double shift,
                            lc_iter_stats *it, lc_error *err) {
  int rc = ensure_linsolve(s, o->linear, err);
  if (rc) return rc;
  lc_lin_opts lo = o->lin;
  lc_lin_stats st = {0};
  lo.reg = shift;
  s->ops->copy(s->n, s->g, s->tmp);
  s->ops->scale(s->n, -1.0, s->tmp);
  memset(s->d, 0, (size_t)s->n * sizeof *s->d);
  if (o->linear == LC_LIN_CG_MATFREE) {
    hvp_ctx c = {s->p, lc_problem_x(s->p), o->project, shift};
    rc = lc_linsolve_cg(s->lin, hvp_op, &c, NULL, s->tmp, s->d, &lo, &st, err);
  } else {
    rc = lc_linsolve_solve(s->lin, H, s->tmp, s->d, &lo, &st, err);
  }
  it->lin_iters = st.iters;
  return rc;
}

/* ---- the loop ----------------------------------------------------------- */

/* Evaluates what the method needs at the current state: E, g (and H). */
static int derivatives(lc_solver *s, const lc_solve_opts *o, double *E, lc_csr *H, lc_error *err) {
  lc_problem *p = s->p;
  switch (o->method) {
    case LC_SOLVE_NEWTON: return lc_problem_hessian(p, NULL, o->project, E, s->g, H, err);
    case LC_SOLVE_GAUSS_NEWTON:
    case LC_SOLVE_LM: return lc_problem_gn_hessian(p, NULL, o->project, E, s->g, H, err);
    default: return lc_problem_gradient(p, NULL, E, s->g, err);
  }
}

/* Backtracking Armijo along d from x0 (copied from the state): accepts the
 * first alpha with finite f <= E + c alpha g.d; leaves the accepted point
 * in the state.  Returns 1 if a step was accepted. */
static int line_search(lc_solver *s, const lc_solve_opts *o, double E, double gd, double alpha,
                       double *E_new, double *step, int *trials, lc_error *err) {
  lc_problem *p = s->p;
  double *xt = s->tmp;
  for (int t = 0; t < o->ls_max; ++t) {
    s->ops->copy(s->n, s->x0, xt);
    s->ops->axpy(s->n, alpha, s->d, xt);
    if (o->sphere_var >= 0) sphere_retract(p, o->sphere_var, xt);
    double f;
    *trials = t + 1;
    if (lc_problem_energy(p, xt, &f, err)) return 0;
    if (isfinite(f) && f <= E + o->ls_c * alpha * gd) {
      lc_problem_set_x(p, xt, NULL);
      *E_new = f;
      *step = alpha;
      return 1;
    }
    alpha *= o->ls_shrink;
  }
  return 0;
}

/* Validates options against the problem. */
static int check_opts(const lc_solver *s, const lc_solve_opts *o, lc_error *err) {
  if (o->method < LC_SOLVE_GD || o->method > LC_SOLVE_LM)
    return lc_error_set(err, LC_EINVAL, "solve: unknown method %d", (int)o->method);
  if (o->max_iters < 0 || o->lbfgs_m < 1 || o->lbfgs_m > 64 || !(o->ls_c > 0.0 && o->ls_c < 1.0) ||
      !(o->ls_shrink > 0.0 && o->ls_shrink < 1.0) || o->ls_max < 1)
    return lc_error_set(err, LC_EINVAL, "solve: option out of range (max_iters >= 0, 1 <= lbfgs_m <= 64, 0 < ls_c < 1, 0 < ls_shrink < 1, ls_max >= 1)");
  if (o->sphere_var >= 0) {
    int dim;
    lc_var_loc loc;
    if (lc_problem_var_info(s->p, o->sphere_var, &loc, &dim, NULL, NULL) || dim != 3)
      return lc_error_set(err, LC_EINVAL, "solve: sphere_var %d must be a variable of dimension 3", o->sphere_var);
  }
  return LC_OK;
}

/* Computes the search direction of the method into s->d; g is already projected. */
static int direction(lc_solver *s, const lc_solve_opts *o, const lc_csr *H, double lm_lambda,
                     lc_iter_stats *it, lc_error *err) {
  switch (o->method) {
    case LC_SOLVE_GD:
      s->ops->copy(s->n, s->g, s->d);
      s->ops->scale(s->n, -1.0, s->d);
      return LC_OK;
    case LC_SOLVE_LBFGS:
      lbfgs_direction(s, s->g, s->d);
      return LC_OK;
    case LC_SOLVE_LM: return newton_direction(s, o, H, o->reg + lm_lambda, it, err);
    default: return newton_direction(s, o, H, o->reg, it, err);
  }
}

/* Zeroes fixed DOFs of v (directions must not move them). */
static void zero_fixed(const lc_solver *s, double *v) {
  const uint8_t *f = lc_problem_fixed(s->p);
  for (int64_t i = 0; i < s->n; ++i)
    if (f[i]) v[i] = 0.0;
}

/* Initial step: 1 (Newton-type, L-BFGS) or the previous GD step doubled,
 * capped by the energies' admissible step. */
static double initial_step(lc_solver *s, const lc_solve_opts *o, double prev, lc_error *err) {
  double a = o->method == LC_SOLVE_GD && prev > 0.0 ? fmin(2.0 * prev, 1e6) : 1.0;
  if (o->method == LC_SOLVE_GD && prev <= 0.0) {
    const double gn = s->ops->nrm_inf(s->n, s->g);
    a = gn > 0.0 ? fmin(1.0, 1.0 / gn) : 1.0;
  }
  double amax = INFINITY;
  if (lc_problem_max_step(s->p, NULL, s->d, &amax, err) == LC_OK && amax < INFINITY)
    a = fmin(a, o->max_step_frac * amax);
  return a;
}

/* One iteration from the current state with E, g (and H) evaluated; *moved
 * tells whether the line search accepted a step. */
static int iterate(lc_solver *s, const lc_solve_opts *o, double *E, const lc_csr *H, double *lm,
                   double *prev_step, lc_iter_stats *it, int *moved, lc_error *err) {
  double t0 = now();
  int rc = direction(s, o, H, *lm, it, err);
  if (rc && o->method != LC_SOLVE_GD && o->method != LC_SOLVE_LBFGS && rc == LC_ENUMERIC) {
    s->ops->copy(s->n, s->g, s->d); /* linear solve failed: steepest descent */
    s->ops->scale(s->n, -1.0, s->d);
    rc = LC_OK;
  }
  if (rc) return rc;
  if (o->sphere_var >= 0) sphere_project(s->p, o->sphere_var, lc_problem_x(s->p), s->d);
  zero_fixed(s, s->d);
  double gd = s->ops->dot(s->n, s->g, s->d);
  if (!(gd < 0.0)) { /* not a descent direction: fall back to -g */
    s->ops->copy(s->n, s->g, s->d);
    s->ops->scale(s->n, -1.0, s->d);
    gd = s->ops->dot(s->n, s->g, s->d);
  }
  it->t_linear = now() - t0;
  it->decrement = -gd;
  t0 = now();
  s->ops->copy(s->n, lc_problem_x(s->p), s->x0);
  const double a0 = initial_step(s, o, *prev_step, err);
  double E_new = *E;
  const int ok = line_search(s, o, *E, gd, a0, &E_new, &it->step, &it->ls_trials, err);
  it->t_ls = now() - t0;
  if (o->method == LC_SOLVE_LM) *lm = ok ? *lm / 3.0 : *lm * 4.0;
  *moved = ok;
  if (ok) {
    *prev_step = it->step;
    *E = E_new;
  }
  return LC_OK;
}

/* Stopping test after an accepted step; returns the reason or NONE. */
static lc_stop_reason stop_test(const lc_solve_opts *o, double E_old, double E, const lc_iter_stats *it) {
  if (o->dtol > 0.0 && 0.5 * it->decrement <= o->dtol) return LC_STOP_DECREMENT;
  if (o->ftol > 0.0 && fabs(E_old - E) <= o->ftol * fmax(fabs(E_old), 1e-300)) return LC_STOP_FTOL;
  return LC_STOP_NONE;
}

/* Minimises from the problem's current state. */
int lc_solver_solve(lc_solver *s, const lc_solve_opts *o, lc_solve_result *r, lc_error *err) {
  lc_solve_result res = {0};
  const double t_start = now();
  int rc = check_opts(s, o, err);
  if (!rc) rc = ensure_work(s, o->lbfgs_m, err);
  if (rc) return rc;
  s->count = s->head = 0;
  if (o->sphere_var >= 0) {
    s->ops->copy(s->n, lc_problem_x(s->p), s->tmp);
    sphere_retract(s->p, o->sphere_var, s->tmp);
    lc_problem_set_x(s->p, s->tmp, NULL);
  }
  double E = 0.0, lm = o->lm_lambda, prev_step = 0.0;
  int stalled = 0;
  lc_csr H = {0};
  double t0 = now();
  if ((rc = derivatives(s, o, &E, &H, err))) return rc;
  res.t_deriv += now() - t0;
  res.reason = isfinite(E) ? LC_STOP_NONE : LC_STOP_INFEASIBLE;
  while (res.reason == LC_STOP_NONE) {
    if (o->sphere_var >= 0) sphere_project(s->p, o->sphere_var, lc_problem_x(s->p), s->g);
    lc_iter_stats it = {0};
    it.iter = res.iters + 1;
    it.gnorm = s->ops->nrm_inf(s->n, s->g);
    res.gnorm = it.gnorm;
    if (it.gnorm <= o->gtol) { res.reason = LC_STOP_GRAD; break; }
    if (res.iters >= o->max_iters) { res.reason = LC_STOP_MAX_ITERS; break; }
    if (o->cancel && *o->cancel) { res.reason = LC_STOP_CANCELLED; break; }
    if (o->time_budget > 0.0 && now() - t_start >= o->time_budget) { res.reason = LC_STOP_TIME; break; }
    const double E_old = E;
    int moved = 0;
    if ((rc = iterate(s, o, &E, &H, &lm, &prev_step, &it, &moved, err))) break;
    if (!moved) { /* LM retries with more damping; others are done */
      if (o->method == LC_SOLVE_LM && lm < 1e12) continue;
      res.reason = LC_STOP_LINE_SEARCH;
      break;
    }
    /* At rounding level Armijo accepts f == E; such steps may still shrink the
     * gradient, but a run of them means the energy cannot resolve progress */
    stalled = E < E_old ? 0 : stalled + 1;
    if (stalled >= LC_STALL_ITERS) {
      res.iters++;
      res.reason = LC_STOP_LINE_SEARCH;
      break;
    }
    res.iters++;
    if (o->method == LC_SOLVE_LBFGS) s->ops->copy(s->n, s->g, s->gprev);
    t0 = now();
    /* the last allowed iteration needs only E and g (for the report), not H:
     * an editor's one-iteration frame then assembles one Hessian, not two */
    if (res.iters >= o->max_iters) rc = lc_problem_gradient(s->p, NULL, &E, s->g, err);
    else rc = derivatives(s, o, &E, &H, err);
    if (rc) break;
    it.t_deriv = now() - t0;
    if (o->method == LC_SOLVE_LBFGS) lbfgs_update(s, lc_problem_x(s->p));
    it.energy = E;
    res.t_deriv += it.t_deriv;
    res.t_linear += it.t_linear;
    res.t_ls += it.t_ls;
    res.reason = stop_test(o, E_old, E, &it);
    if (o->progress && o->progress(o->user, &it)) res.reason = LC_STOP_CANCELLED;
  }
  res.energy = E;
  res.t_total = now() - t_start;
  if (r) *r = res;
  return rc;
}

/* Name of a stop reason. */
const char *lc_stop_reason_name(lc_stop_reason r) {
  static const char *const names[] = {"none", "gradient", "decrement", "ftol", "max_iters",
                                      "time", "cancelled", "line_search", "infeasible"};
  return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unknown";
}

static const char *const method_names[] = {"gd", "lbfgs", "newton", "gauss_newton", "lm"};

/* Name of a method. */
const char *lc_solve_method_name(lc_solve_method m) {
  return (unsigned)m < 5 ? method_names[m] : "unknown";
}

/* Parses a method name; returns the method or LC_ENOTFOUND. */
int lc_solve_method_parse(const char *name) {
  for (int i = 0; name && i < 5; ++i)
    if (!strcmp(name, method_names[i])) return i;
  return LC_ENOTFOUND;
}
