/* cpu_eval.c - the CPU (OpenMP) backend's evaluation: energy, gradient,
 * assembled Hessian, matrix-free Hessian-vector products and residual
 * Jacobians.
 *
 * One loop shape serves every mode: for each term, colour by colour, chunks
 * of elements are spread over the threads; each element gathers its local
 * variables, calls its host kernel (value, gradient, HVP or Hessian, all from
 * the same element source), optionally PSD-projects the weighted element
 * Hessian and scatters straight into the global arrays.  Elements of one
 * colour share no entity, so no atomics are needed, and every global entry
 * receives its contributions in the same order whatever the thread count:
 * results are bit-identical for 1, 2 or 64 threads. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ad/lc_psd.h"
#include "problem_impl.h"

#define LC_PSD_EPS 1e-9
#define NMAX LC_ENERGY_MAX_N

typedef enum { EV_ENERGY, EV_GRAD, EV_HESS, EV_HVP } ev_mode;

/* Everything an element needs to evaluate and scatter. */
typedef struct ev_ctx {
  const lc_problem *p;
  ev_mode mode;
  int project;
  int gauss_newton; /* EV_HESS: residual terms give J^T J */
  const double *x, *v;
  double *g, *H, *hv;
} ev_ctx;

/* Per-element scratch: local variables, derivatives and DOF indices. */
typedef struct ev_local {
  double x[NMAX], v[NMAX], g[NMAX], hv[NMAX], H[NMAX * NMAX];
  int64_t dof[NMAX];
  uint8_t fixed[NMAX];
} ev_local;

/* Gathers the element's variables, DOF indices and fixed flags. */
static void gather(const ev_ctx *c, const lc_term *t, int64_t off, const int32_t *en, ev_local *l) {
  for (int a = 0, i = 0; a < t->K; ++a)
    for (int d = 0; d < t->D; ++d, ++i) {
      const int64_t dof = off + (int64_t)en[a] * t->D + d;
      l->dof[i] = dof;
      l->x[i] = c->x[dof];
      l->fixed[i] = c->p->fixed[dof];
      if (c->v) l->v[i] = l->fixed[i] ? 0.0 : c->v[dof];
    }
}

/* Adds w * local[i] into out at the free DOFs. */
static void scatter_vec(const ev_local *l, int N, double w, const double *local, double *out) {
  for (int i = 0; i < N; ++i)
    if (!l->fixed[i]) out[l->dof[i]] += w * local[i];
}

/* Adds the element Hessian into the global values through its slots. */
static void scatter_hess(const ev_ctx *c, const lc_term *t, const int32_t *slots, const ev_local *l) {
  const int K = t->K, D = t->D, N = t->N;
  const int32_t *rowptr = c->p->rowptr;
  for (int i = 0; i < K; ++i)
    for (int a = 0; a < D; ++a) {
      const int r = i * D + a;
      if (l->fixed[r]) continue;
      double *row = c->H + rowptr[l->dof[r]];
      const double *hl = l->H + r * N;
      for (int j = 0; j < K; ++j) {
        double *blk = row + slots[i * K + j];
        for (int b = 0; b < D; ++b)
          if (!l->fixed[j * D + b]) blk[b] += hl[j * D + b];
      }
    }
}

/* Evaluates the weighted element Hessian in l->H (projected if asked). */
static double element_hessian(const ev_ctx *c, const lc_term *t, const double *k, ev_local *l) {
  const int N = t->N;
  const double e = t->kern->hess(l->x, k, t->params, l->g, l->H);
  if (!isfinite(e)) return e;
  for (int i = 0; i < N * N; ++i) l->H[i] *= t->weight;
  if (c->project && t->project) lc_psd_project_elem(l->H, t->K, t->D, LC_PSD_EPS);
  return e;
}

/* Gauss-Newton element: energy 1/2|r|^2, gradient J^T r, weighted J^T J in l->H. */
static double element_gn(const lc_term *t, const double *k, ev_local *l) {
  const int N = t->N, m = t->n_resid;
  double r[LC_ENERGY_MAX_RESID], J[LC_ENERGY_MAX_RESID * NMAX], e = 0.0;
  t->kern->resid(l->x, k, t->params, r, J);
  for (int i = 0; i < m; ++i) e += 0.5 * r[i] * r[i];
  for (int a = 0; a < N; ++a) {
    double ga = 0.0;
    for (int i = 0; i < m; ++i) ga += J[i * N + a] * r[i];
    l->g[a] = ga;
    for (int b = 0; b <= a; ++b) {
      double h = 0.0;
      for (int i = 0; i < m; ++i) h += J[i * N + a] * J[i * N + b];
      l->H[a * N + b] = l->H[b * N + a] = t->weight * h;
    }
  }
  return e;
}

/* Evaluates one element in the context's mode; returns its weighted energy. */
static double eval_element(const ev_ctx *c, const lc_term *t, int32_t s, int64_t off, ev_local *l) {
  const int32_t *en = t->ent + (int64_t)s * t->K;
  const double *k = t->consts + (int64_t)s * t->n_const;
  const int N = t->N;
  gather(c, t, off, en, l);
  double e = 0.0;
  switch (c->mode) {
    case EV_ENERGY:
      return t->weight * t->kern->value(l->x, k, t->params);
    case EV_GRAD:
      e = t->kern->grad(l->x, k, t->params, l->g);
      break;
    case EV_HVP:
      if (c->project && t->project) {
        e = element_hessian(c, t, k, l);
        for (int i = 0; isfinite(e) && i < N; ++i) {
          double acc = 0.0;
          for (int j = 0; j < N; ++j) acc += l->H[i * N + j] * l->v[j];
          l->hv[i] = acc;
        }
      } else {
        e = t->kern->hvp(l->x, l->v, k, t->params, l->g, l->hv);
        for (int i = 0; i < N; ++i) l->hv[i] *= t->weight;
      }
      if (isfinite(e)) scatter_vec(l, N, 1.0, l->hv, c->hv);
      break;
    case EV_HESS:
      e = c->gauss_newton && t->n_resid ? element_gn(t, k, l) : element_hessian(c, t, k, l);
      if (isfinite(e)) scatter_hess(c, t, t->slots + (int64_t)s * t->K * t->K, l);
      break;
  }
  if (isfinite(e) && c->g) scatter_vec(l, N, t->weight, l->g, c->g);
  return t->weight * e;
}

/* Evaluates chunk ch of term t; returns the sum of its energies. */
static double eval_chunk(const ev_ctx *c, const lc_term *t, int32_t ch) {
  ev_local l;
  const int64_t off = c->p->vars[t->var].off;
  double acc = 0.0;
  for (int32_t s = t->chunk_ptr[ch]; s < t->chunk_ptr[ch + 1]; ++s) acc += eval_element(c, t, s, off, &l);
  return acc;
}

/* Evaluates every term colour by colour (call inside a parallel region). */
static void eval_terms(const ev_ctx *c, double *partials) {
  const lc_problem *p = c->p;
  int32_t base = 0;
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    if (!t) continue;
    for (int col = 0; col < t->n_colors; ++col) {
#pragma omp for schedule(static)
      for (int32_t ch = t->color_chunk[col]; ch < t->color_chunk[col + 1]; ++ch)
        partials[base + ch] = t->weight > 0.0 ? eval_chunk(c, t, ch) : 0.0;
    }
    base += t->n_chunks;
  }
}

/* Makes sure the partial-sum buffer holds one slot per chunk of every term. */
static int ensure_partials(lc_problem *p, int32_t *n, lc_error *err) {
  int64_t total = 0;
  for (int ti = 0; ti < p->n_term_slots; ++ti)
    if (p->terms[ti]) total += p->terms[ti]->n_chunks;
  if (total > p->partials_cap) {
    double *b = realloc(p->partials, (size_t)total * sizeof *b);
    if (!b) return lc_error_set(err, LC_ENOMEM, "evaluation: out of memory");
    p->partials = b;
    p->partials_cap = (int32_t)total;
  }
  *n = (int32_t)total;
  return LC_OK;
}

/* Runs an evaluation: zeroes outputs, evaluates all terms, sums energies. */
static int run(lc_problem *p, ev_ctx *c, double *E, lc_error *err) {
  int32_t n = 0;
  int rc = ensure_partials(p, &n, err);
  if (rc) return rc;
  const int64_t nd = p->n_dofs;
  if (c->g) memset(c->g, 0, (size_t)nd * sizeof *c->g);
  if (c->hv) memset(c->hv, 0, (size_t)nd * sizeof *c->hv);
  if (c->H) memset(c->H, 0, (size_t)p->nnz * sizeof *c->H);
  const int nt = p->threads > 0 ? p->threads : omp_get_max_threads();
#pragma omp parallel num_threads(nt)
  eval_terms(c, p->partials);
  double e = 0.0;
  for (int32_t i = 0; i < n; ++i) e += p->partials[i];
  if (E) *E = e;
  return LC_OK;
}

/* Resolves x (NULL: the current state). */
static const double *state(const lc_problem *p, const double *x) { return x ? x : p->x; }

/* Total energy. */
int lc_problem_energy(lc_problem *p, const double *x, double *E, lc_error *err) {
  ev_ctx c = {p, EV_ENERGY, 0, 0, state(p, x), NULL, NULL, NULL, NULL};
  return run(p, &c, E, err);
}

/* Energy and gradient g (n_dofs, caller-owned). */
int lc_problem_gradient(lc_problem *p, const double *x, double *E, double *g, lc_error *err) {
  if (!g) return lc_error_set(err, LC_EINVAL, "gradient: output array required");
  ev_ctx c = {p, EV_GRAD, 0, 0, state(p, x), NULL, g, NULL, NULL};
  return run(p, &c, E, err);
}

/* Assembles the Hessian (gauss_newton: J^T J for residual terms). */
static int assemble(lc_problem *p, const double *x, int project, int gauss_newton, double *E,
                    double *g, lc_csr *H, lc_error *err) {
  int rc = lc_pattern_build_hessian(p, err);
  if (rc) return rc;
  ev_ctx c = {p, EV_HESS, project, gauss_newton, state(p, x), NULL, g, p->hval, NULL};
  if ((rc = run(p, &c, E, err))) return rc;
  for (int64_t i = 0; i < p->n_dofs; ++i)
    if (p->fixed[i]) p->hval[p->diag[i]] = 1.0;
  if (H) *H = (lc_csr){(int32_t)p->n_dofs, (int32_t)p->n_dofs, p->nnz, p->rowptr, p->col, p->hval};
  return LC_OK;
}

/* Energy, gradient (g may be NULL) and the assembled Hessian. */
int lc_problem_hessian(lc_problem *p, const double *x, int project, double *E, double *g,
                       lc_csr *H, lc_error *err) {
  return assemble(p, x, project, 0, E, g, H, err);
}

/* Energy, gradient and the Gauss-Newton Hessian (J^T J for residual terms). */
int lc_problem_gn_hessian(lc_problem *p, const double *x, int project, double *E, double *g,
                          lc_csr *H, lc_error *err) {
  return assemble(p, x, project, 1, E, g, H, err);
}

/* Step bound of term t: the smallest element bound along d. */
static double term_max_step(const lc_problem *p, const lc_term *t, const double *x, const double *d) {
  const int64_t off = p->vars[t->var].off;
  double amax = INFINITY;
#pragma omp parallel for schedule(static) reduction(min : amax)
  for (int32_t s = 0; s < t->n_elem; ++s) {
    double xl[NMAX], dl[NMAX];
    const int32_t *en = t->ent + (int64_t)s * t->K;
    for (int a = 0; a < t->K; ++a)
      for (int k = 0; k < t->D; ++k) {
        const int64_t dof = off + (int64_t)en[a] * t->D + k;
        xl[a * t->D + k] = x[dof];
        dl[a * t->D + k] = d[dof];
      }
    const double a = t->info->max_step(xl, dl, t->consts + (int64_t)s * t->n_const, t->params);
    if (a < amax) amax = a;
  }
  return amax;
}

/* Largest admissible step along d from x, over all terms with a bound. */
int lc_problem_max_step(lc_problem *p, const double *x, const double *d, double *alpha,
                        lc_error *err) {
  if (!d || !alpha) return lc_error_set(err, LC_EINVAL, "max_step: d and alpha are required");
  const double *xs = state(p, x);
  double amax = INFINITY;
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    if (t && t->info->max_step && t->weight > 0.0) amax = fmin(amax, term_max_step(p, t, xs, d));
  }
  *alpha = amax;
  return LC_OK;
}

/* Energy, gradient (g may be NULL) and Hv = H v, matrix-free. */
int lc_problem_hvp(lc_problem *p, const double *x, const double *v, int project, double *E,
                   double *g, double *Hv, lc_error *err) {
  if (!v || !Hv) return lc_error_set(err, LC_EINVAL, "hvp: v and Hv are required");
  ev_ctx c = {p, EV_HVP, project, 0, state(p, x), v, g, NULL, Hv};
  int rc = run(p, &c, E, err);
  if (rc) return rc;
  for (int64_t i = 0; i < p->n_dofs; ++i)
    if (p->fixed[i]) Hv[i] = v[i];
  return LC_OK;
}

/* Evaluates the residuals and Jacobian rows of one stored element of t. */
static void jacobian_element(const lc_problem *p, const lc_term *t, int32_t s, const double *x,
                             double *r) {
  const int N = t->N, m = t->n_resid;
  const int32_t *en = t->ent + (int64_t)s * t->K;
  const int64_t off = p->vars[t->var].off;
  double xl[NMAX], rl[LC_ENERGY_MAX_RESID], J[LC_ENERGY_MAX_RESID * NMAX];
  int ord[LC_ENERGY_MAX_K];
  for (int a = 0; a < t->K; ++a)
    for (int d = 0; d < t->D; ++d) xl[a * t->D + d] = x[off + (int64_t)en[a] * t->D + d];
  t->kern->resid(xl, t->consts + (int64_t)s * t->n_const, t->params, rl, J);
  lc_entity_order(en, t->K, ord);
  const double sw = sqrt(t->weight);
  for (int i = 0; i < m; ++i) {
    const int64_t row = t->res_row0 + (int64_t)t->perm[s] * m + i;
    if (r) r[row] = sw * rl[i];
    double *val = p->jval + p->jrowptr[row];
    for (int q = 0; q < t->K; ++q)
      for (int d = 0; d < t->D; ++d) {
        const int li = ord[q] * t->D + d;
        *val++ = p->fixed[off + (int64_t)en[ord[q]] * t->D + d] ? 0.0 : sw * J[i * N + li];
      }
  }
}

/* Residual vector r and its sparse Jacobian, weighted by sqrt(weight). */
int lc_problem_jacobian(lc_problem *p, const double *x, double *r, lc_csr *J, lc_error *err) {
  int rc = lc_pattern_build_jacobian(p, err);
  if (rc) return rc;
  const double *xs = state(p, x);
  const int nt = p->threads > 0 ? p->threads : omp_get_max_threads();
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    if (!t || !t->n_resid) continue;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int32_t s = 0; s < t->n_elem; ++s) jacobian_element(p, t, s, xs, r);
  }
  if (J) *J = (lc_csr){(int32_t)p->n_res, (int32_t)p->n_dofs, p->jnnz, p->jrowptr, p->jcol, p->jval};
  return LC_OK;
}
