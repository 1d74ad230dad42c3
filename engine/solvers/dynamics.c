/* dynamics.c - implicit-Euler time stepping (dynamics.h): prediction x~,
 * inertia constants, one minimisation per step, velocity update. */
#include "dynamics.h"

#include "../contact/contact.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct lc_dynamics {
  lc_problem *p;
  int var, term, dim;
  int32_t n;      /* vertices */
  int64_t off;    /* first DOF of the variable */
  double h, damping;
  long steps;
  double *mass;   /* n */
  double *v;      /* n x dim */
  double *f;      /* n x dim, NULL: no external force */
  double *k;      /* n x (1 + dim): the inertia constants */
  double *x0;     /* n x dim: x_n during a step */
  double *xt;     /* n x dim: x~ (then x_{n+1}) */
  lc_contact *contact; /* NULL: no contact */
};

/* Checks that term is an inertia term on var covering every vertex. */
static int check_inertia(const lc_problem *p, int var, int term, int dim, int32_t n,
                         lc_error *err) {
  int energy = -1, tvar = -1;
  int32_t n_elems = 0;
  int rc = lc_problem_term_info(p, term, &energy, &tvar, &n_elems, NULL, err);
  if (rc) return rc;
  const lc_energy_info *e = lc_energy_get(energy);
  if (!e || strcmp(e->name, "inertia") != 0 || e->dim != dim || tvar != var || n_elems != n)
    return lc_error_set(err, LC_EINVAL,
                        "dynamics: term %d must be an \"inertia\" term on variable %d over all %d vertices",
                        term, var, (int)n);
  return LC_OK;
}

/* Validates the arguments of lc_dynamics_create and reads the variable's layout. */
static int check_create(lc_problem *p, int var, int term, double h, int *dim, int32_t *n,
                        int64_t *off, lc_error *err) {
  lc_var_loc loc;
  if (!p) return lc_error_set(err, LC_EINVAL, "dynamics: problem is required");
  if (!(h > 0.0) || !isfinite(h)) return lc_error_set(err, LC_EINVAL, "dynamics: h must be finite and > 0");
  if (lc_problem_var_info(p, var, &loc, dim, n, off))
    return lc_error_set(err, LC_ENOTFOUND, "dynamics: no variable %d", var);
  if (loc != LC_LOC_VERTEX || (*dim != 2 && *dim != 3))
    return lc_error_set(err, LC_EINVAL, "dynamics: variable %d must be a vertex variable of dimension 2 or 3", var);
  return check_inertia(p, var, term, *dim, *n, err);
}

/* Allocates the per-vertex arrays (zeroed). */
static int alloc_arrays(lc_dynamics *d) {
  const size_t nv = (size_t)(d->n > 0 ? d->n : 1), nd = nv * (size_t)d->dim;
  d->mass = calloc(nv, sizeof *d->mass);
  d->v = calloc(nd, sizeof *d->v);
  d->k = calloc(nv * (size_t)(1 + d->dim), sizeof *d->k);
  d->x0 = calloc(nd, sizeof *d->x0);
  d->xt = calloc(nd, sizeof *d->xt);
  return d->mass && d->v && d->k && d->x0 && d->xt ? LC_OK : LC_ENOMEM;
}

/* Creates a stepper for variable var of p with inertia term inertia_term and step h > 0; v = 0. */
int lc_dynamics_create(lc_problem *p, int var, int inertia_term, double h, lc_dynamics **out,
                       lc_error *err) {
  int dim = 0;
  int32_t n = 0;
  int64_t off = 0;
  if (!out) return lc_error_set(err, LC_EINVAL, "dynamics: out is required");
  int rc = check_create(p, var, inertia_term, h, &dim, &n, &off, err);
  if (rc) return rc;
  lc_dynamics *d = calloc(1, sizeof *d);
  if (!d) return lc_error_set(err, LC_ENOMEM, "dynamics: out of memory");
  *d = (lc_dynamics){.p = p, .var = var, .term = inertia_term, .dim = dim, .n = n, .off = off, .h = h};
  rc = alloc_arrays(d);
  if (rc) rc = lc_error_set(err, rc, "dynamics: out of memory for %d vertices", (int)n);
  if (!rc) rc = lc_problem_get_term_consts(p, inertia_term, d->k, err);
  for (int32_t i = 0; !rc && i < n; ++i) d->mass[i] = d->k[(int64_t)i * (1 + dim)];
  if (rc) {
    lc_dynamics_destroy(d);
    return rc;
  }
  *out = d;
  return LC_OK;
}

/* Destroys the stepper (the problem is untouched). NULL is a no-op. */
void lc_dynamics_destroy(lc_dynamics *d) {
  if (!d) return;
  free(d->mass);
  free(d->v);
  free(d->f);
  free(d->k);
  free(d->x0);
  free(d->xt);
  free(d);
}

/* 1 if DOF c of vertex i of the variable is fixed. */
static int is_fixed(const lc_dynamics *d, int32_t i, int c) {
  return lc_problem_fixed(d->p)[d->off + (int64_t)i * d->dim + c] != 0;
}

/* x~ = x0 + h v / (1 + c h) + h^2 f / m into xt (x0 on fixed DOFs). */
static void predict(const lc_dynamics *d) {
  const double h2 = d->h * d->h, vs = d->h / (1.0 + d->damping * d->h);
  for (int32_t i = 0; i < d->n; ++i)
    for (int c = 0; c < d->dim; ++c) {
      const int64_t j = (int64_t)i * d->dim + c;
      double x = d->x0[j];
      if (!is_fixed(d, i, c)) {
        x += vs * d->v[j];
        if (d->f && d->mass[i] > 0.0) x += h2 * d->f[j] / d->mass[i];
      }
      d->xt[j] = x;
    }
}

/* Writes positions pos (n x dim) as the x~ of the inertia constants. */
static int write_inertia(lc_dynamics *d, const double *pos, lc_error *err) {
  for (int32_t i = 0; i < d->n; ++i) {
    double *k = d->k + (int64_t)i * (1 + d->dim);
    k[0] = d->mass[i];
    memcpy(k + 1, pos + (int64_t)i * d->dim, (size_t)d->dim * sizeof *k);
  }
  return lc_problem_set_term_consts(d->p, d->term, d->k, err);
}

/* Sets the initial guess: x~ if the energy is finite there, else x_n. */
static int initial_guess(lc_dynamics *d, lc_error *err) {
  double E = INFINITY;
  int rc = lc_problem_set_variable(d->p, d->var, d->xt, err);
  if (!rc) rc = lc_problem_energy(d->p, NULL, &E, err);
  if (!rc && !isfinite(E)) rc = lc_problem_set_variable(d->p, d->var, d->x0, err);
  return rc;
}

/* v = (x_{n+1} - x_n) / h from xt (holding x_{n+1}); 0 on fixed DOFs. */
static void update_velocity(lc_dynamics *d) {
  for (int32_t i = 0; i < d->n; ++i)
    for (int c = 0; c < d->dim; ++c) {
      const int64_t j = (int64_t)i * d->dim + c;
      d->v[j] = is_fixed(d, i, c) ? 0.0 : (d->xt[j] - d->x0[j]) / d->h;
    }
}

/* IPC's friction iterations: friction lagged again at the iterate (offsets
 * from x_n) and the step solved again, lc_contact_friction_iters - 1
 * times (none without friction); iterations and times add up in *res. */
static int friction_rounds(lc_dynamics *d, lc_solver *s, const lc_solve_opts *o, lc_solve_result *res,
                           lc_error *err) {
  int rc = LC_OK;
  const int n = lc_contact_mu(d->contact) > 0.0 ? lc_contact_friction_iters(d->contact) : 1;
  for (int k = 1; !rc && k < n && res->reason != LC_STOP_INFEASIBLE; ++k) {
    lc_solve_result r = {0};
    rc = lc_contact_friction_relag(d->contact, d->x0, d->h, err);
    if (!rc) rc = lc_contact_solve(d->contact, s, o, &r, err);
    if (!rc) lc_solve_result_add(res, &r);
  }
  return rc;
}

/* Advances one implicit-Euler step with solver s and options o (r may be NULL). */
int lc_dynamics_step(lc_dynamics *d, lc_solver *s, const lc_solve_opts *o, lc_solve_result *r,
                     lc_error *err) {
  lc_solve_result res = {0};
  if (!d || !s || !o) return lc_error_set(err, LC_EINVAL, "dynamics.step: handle, solver and options are required");
  int rc = lc_problem_get_variable(d->p, d->var, d->x0, err);
  if (rc) return rc;
  predict(d);
  rc = write_inertia(d, d->xt, err);
  if (!rc && !d->contact) rc = initial_guess(d, err);
  if (!rc && d->contact) rc = lc_contact_friction_lag(d->contact, d->h, err); /* at x_n */
  if (!rc && d->contact && d->dim == 3) rc = lc_contact_advance(d->contact, d->xt, NULL, err);
  if (!rc) rc = d->contact ? lc_contact_solve(d->contact, s, o, &res, err) : lc_solver_solve(s, o, &res, err);
  if (!rc && d->contact) rc = friction_rounds(d, s, o, &res, err);
  if (d->contact) lc_contact_friction_clear(d->contact); /* friction lives for one step */
  if (!rc && res.reason == LC_STOP_INFEASIBLE)
    rc = lc_error_set(err, LC_ENUMERIC, "dynamics.step: the energy is +inf or NaN at x~ and at x_n");
  if (!rc) rc = lc_problem_get_variable(d->p, d->var, d->xt, err);
  if (rc) {
    lc_problem_set_variable(d->p, d->var, d->x0, NULL); /* roll back to x_n */
  } else {
    update_velocity(d);
    d->steps++;
  }
  if (r) *r = res;
  return rc;
}

/* Steps under contact c (NULL: none). */
void lc_dynamics_set_contact(lc_dynamics *d, lc_contact *c) { d->contact = c; }

/* The velocities (borrowed, n_vertices x D), valid until the next step or set. */
const double *lc_dynamics_velocity(const lc_dynamics *d) { return d->v; }

/* 1 if all n values of a are finite. */
static int finite_array(const double *a, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!isfinite(a[i])) return 0;
  return 1;
}

/* Replaces the velocities (n_vertices x D, finite; fixed DOFs are set to 0). */
int lc_dynamics_set_velocity(lc_dynamics *d, const double *v, lc_error *err) {
  const int64_t nd = (int64_t)d->n * d->dim;
  if (!v || !finite_array(v, nd))
    return lc_error_set(err, LC_EINVAL, "dynamics.set_velocity: %lld finite values required", (long long)nd);
  for (int32_t i = 0; i < d->n; ++i)
    for (int c = 0; c < d->dim; ++c) {
      const int64_t j = (int64_t)i * d->dim + c;
      d->v[j] = is_fixed(d, i, c) ? 0.0 : v[j];
    }
  return LC_OK;
}

/* Sets the external per-vertex force (n_vertices x D, finite) or clears it (f = NULL). */
int lc_dynamics_set_force(lc_dynamics *d, const double *f, lc_error *err) {
  const int64_t nd = (int64_t)d->n * d->dim;
  if (!f) {
    free(d->f);
    d->f = NULL;
    return LC_OK;
  }
  if (!finite_array(f, nd))
    return lc_error_set(err, LC_EINVAL, "dynamics.set_force: %lld finite values required", (long long)nd);
  if (!d->f && !(d->f = malloc((size_t)(nd > 0 ? nd : 1) * sizeof *d->f)))
    return lc_error_set(err, LC_ENOMEM, "dynamics.set_force: out of memory");
  memcpy(d->f, f, (size_t)nd * sizeof *f);
  return LC_OK;
}

/* The mass-proportional damping rate (1/s). */
double lc_dynamics_damping(const lc_dynamics *d) { return d->damping; }

/* Sets the mass-proportional damping rate c >= 0 (1/s). */
int lc_dynamics_set_damping(lc_dynamics *d, double c, lc_error *err) {
  if (!(c >= 0.0) || !isfinite(c)) return lc_error_set(err, LC_EINVAL, "dynamics: damping must be finite and >= 0");
  d->damping = c;
  return LC_OK;
}

/* The time step h. */
double lc_dynamics_h(const lc_dynamics *d) { return d->h; }

/* Number of steps taken. */
long lc_dynamics_steps(const lc_dynamics *d) { return d->steps; }

/* Simulated time (steps x h). */
double lc_dynamics_time(const lc_dynamics *d) { return (double)d->steps * d->h; }

/* Largest speed max_i |v_i| over the vertices. */
double lc_dynamics_max_speed(const lc_dynamics *d) {
  double m = 0.0;
  for (int32_t i = 0; i < d->n; ++i) {
    double s = 0.0;
    for (int c = 0; c < d->dim; ++c) s += d->v[(int64_t)i * d->dim + c] * d->v[(int64_t)i * d->dim + c];
    m = fmax(m, sqrt(s));
  }
  return m;
}

/* Kinetic energy 1/2 sum_i m_i |v_i|^2. */
double lc_dynamics_kinetic(const lc_dynamics *d) {
  double e = 0.0;
  for (int32_t i = 0; i < d->n; ++i)
    for (int c = 0; c < d->dim; ++c) {
      const double vi = d->v[(int64_t)i * d->dim + c];
      e += 0.5 * d->mass[i] * vi * vi;
    }
  return e;
}

/* -f_ext.x over the free DOFs of the current state x0 (0 without a force). */
static double force_work(const lc_dynamics *d) {
  double w = 0.0;
  for (int32_t i = 0; d->f && i < d->n; ++i)
    for (int c = 0; c < d->dim; ++c)
      if (!is_fixed(d, i, c)) w -= d->f[(int64_t)i * d->dim + c] * d->x0[(int64_t)i * d->dim + c];
  return w;
}

/* Largest |g - h^2 f| over the free DOFs of the variable. */
static double imbalance(const lc_dynamics *d, const double *g) {
  const double h2 = d->h * d->h;
  double m = 0.0;
  for (int32_t i = 0; i < d->n; ++i)
    for (int c = 0; c < d->dim; ++c) {
      const int64_t j = (int64_t)i * d->dim + c;
      if (!is_fixed(d, i, c)) m = fmax(m, fabs(g[d->off + j] - (d->f ? h2 * d->f[j] : 0.0)));
    }
  return m;
}

/* Potential energy W(x) - f_ext.x and static force imbalance at the current state. */
int lc_dynamics_potential(lc_dynamics *d, double *W, double *res, lc_error *err) {
  const int64_t n = lc_problem_n_dofs(d->p), nk = (int64_t)d->n * (1 + d->dim);
  double *g = malloc((size_t)(n > 0 ? n : 1) * sizeof *g);
  double *saved = malloc((size_t)(nk > 0 ? nk : 1) * sizeof *saved);
  double E = 0.0;
  int rc = g && saved ? LC_OK : lc_error_set(err, LC_ENOMEM, "dynamics: out of memory");
  if (!rc) {
    memcpy(saved, d->k, (size_t)nk * sizeof *saved);
    rc = lc_problem_get_variable(d->p, d->var, d->x0, err);
  }
  if (!rc) { /* x~ = x: the inertia term vanishes, the functional is h^2 W */
    rc = write_inertia(d, d->x0, err);
    if (!rc) rc = lc_problem_gradient(d->p, NULL, &E, g, err);
    memcpy(d->k, saved, (size_t)nk * sizeof *saved);
    const int rc2 = lc_problem_set_term_consts(d->p, d->term, d->k, rc ? NULL : err);
    if (!rc) rc = rc2;
  }
  if (!rc && W) *W = E / (d->h * d->h) + force_work(d);
  if (!rc && res) *res = imbalance(d, g) / (d->h * d->h);
  free(g);
  free(saved);
  return rc;
}
