/* friction.c - lagged friction on a contact (contact.h, IPC: Li et al.
 * 2020, section 5): at the start of a time step every acting pair and
 * plane contact fixes its normal force, closest points and normal; the
 * friction terms (friction_pair, friction_point: e_friction_*.h) then
 * dissipate the tangential part of the step's relative displacement with
 * the smooth Coulomb ramp f1 of width eps_v h; friction iterations lag
 * again at the step's iterate (displacements still from the start).  The
 * two terms are ordinary problem terms with explicit elements, made once
 * and their elements replaced at each lag (emptied between steps), so the
 * Hessian pattern stays; the same element code runs on every backend. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../energies/contact_geom.h"
#include "contact_impl.h"

#define FR_PAIR_K 11  /* friction_pair constants: w(4), n(3), c(3), mu lambda */
#define FR_POINT_K 7  /* friction_point constants: n(3), c(3), mu lambda */

/* Growable element and constant arrays of one friction term. */
typedef struct fr_list {
  int32_t *elems;
  double *k;
  int64_t n, cap;
  int K, nk;
} fr_list;

/* Appends one element (K entities, nk constants); LC_ENOMEM on failure. */
static int fr_push(fr_list *l, const int32_t *ent, const double *k) {
  if (l->n == l->cap) {
    const int64_t cap = l->cap ? 2 * l->cap : 64;
    int32_t *e = realloc(l->elems, (size_t)cap * (size_t)l->K * sizeof *e);
    if (e) l->elems = e;
    double *kk = e ? realloc(l->k, (size_t)cap * (size_t)l->nk * sizeof *kk) : NULL;
    if (kk) l->k = kk;
    if (!e || !kk) return LC_ENOMEM;
    l->cap = cap;
  }
  memcpy(l->elems + l->n * l->K, ent, (size_t)l->K * sizeof *ent);
  memcpy(l->k + l->n * l->nk, k, (size_t)l->nk * sizeof *k);
  l->n++;
  return LC_OK;
}

/* The normal force kappa m |db/dd| of a contact at squared distance d2
 * (0 when it does not act), for mollifier value moll. */
static double normal_force(const lc_contact *c, double d2, double moll) {
  const double sh = lc_ct_shat(c->o.dhat, c->o.dmin), s = d2 - c->o.dmin * c->o.dmin;
  double b1 = 0.0;
  if (!(s > 0.0) || !(s < sh)) return 0.0;
  lc_ct_barrier(s, sh, &b1, NULL);
  return c->o.kappa * moll * fabs(b1) * 2.0 * sqrt(d2);
}

/* The mollifier of edge-edge pair q (vertices) at local values xl. */
static double pair_mollifier(const lc_contact *c, const int32_t *q, const double *xl) {
  const double *V = lc_mesh_V(c->m);
  double ua[3], ub[3], u[3], v[3], n[3];
  lc_ct_sub(V + 3 * (int64_t)q[1], V + 3 * (int64_t)q[0], ua);
  lc_ct_sub(V + 3 * (int64_t)q[3], V + 3 * (int64_t)q[2], ub);
  lc_ct_sub(xl + 3, xl, u);
  lc_ct_sub(xl + 9, xl + 6, v);
  lc_ct_cross(u, v, n);
  return lc_ct_mollifier(lc_ct_dot(n, n), lc_ct_moll_eps(ua, ub));
}

/* Friction elements of the listed pairs acting at x into l: normal force,
 * closest points and normal at x, the offset c = sum w x0 at the step's
 * start x0 (x0 = x for the first lag of a step). */
static int lag_pairs(const lc_contact *c, const double *x, const double *x0, fr_list *l) {
  int rc = LC_OK;
  for (int ee = 0; !rc && ee < 2; ++ee)
    for (int64_t i = 0; !rc && i < (ee ? c->pairs.n_ee : c->pairs.n_pt); ++i) {
      int32_t q[4];
      double xl[12], x0l[12], k[FR_PAIR_K];
      lc_pairs_local(c->m, &c->pairs, ee, i, x, q, xl);
      lc_pairs_local(c->m, &c->pairs, ee, i, x0, q, x0l);
      const lc_ct_dist t = ee ? lc_ct_classify_ee(xl) : lc_ct_classify_pt(xl);
      const double d2 = lc_ct_d2(t, xl);
      const double lam = normal_force(c, d2, ee ? pair_mollifier(c, q, xl) : 1.0);
      if (!(lam > 0.0)) continue;
      double dv[3];
      lc_ct_closest_weights(t, xl, k);
      for (int j = 0; j < 3; ++j) {
        dv[j] = k[0] * xl[j] + k[1] * xl[3 + j] + k[2] * xl[6 + j] + k[3] * xl[9 + j];
        k[7 + j] = k[0] * x0l[j] + k[1] * x0l[3 + j] + k[2] * x0l[6 + j] + k[3] * x0l[9 + j];
      }
      const double len = sqrt(lc_ct_dot(dv, dv));
      if (!(len > 0.0)) continue; /* no normal: the pair is at distance 0, which no state reaches */
      for (int j = 0; j < 3; ++j) k[4 + j] = dv[j] / len;
      k[10] = c->o.mu * lam;
      rc = fr_push(l, q, k);
    }
  return rc;
}

/* Friction elements of the plane contacts acting at x into l (offsets
 * from the step's start x0, as lag_pairs). */
static int lag_planes(const lc_contact *c, const double *x, const double *x0, fr_list *l) {
  int rc = LC_OK;
  for (int p = 0; !rc && p < c->n_planes; ++p)
    for (int32_t v = 0; !rc && v < c->nv; ++v) {
      const double d = lc_ct_plane_dist(x + 3 * (int64_t)v, c->plane[p], c->plane[p] + 3);
      const double lam = d > 0.0 ? normal_force(c, d * d, 1.0) : 0.0;
      if (!(lam > 0.0)) continue;
      double k[FR_POINT_K];
      memcpy(k, c->plane[p] + 3, 3 * sizeof *k);
      memcpy(k + 3, x0 + 3 * (int64_t)v, 3 * sizeof *k);
      k[6] = c->o.mu * lam;
      rc = fr_push(l, &v, k);
    }
  return rc;
}

/* Makes l's elements those of friction term *id of energy name with ramp
 * eps: replaced in place while the term exists with the same eps (the
 * Hessian pattern kept when it holds them: a pair's friction couples the
 * same vertices as the pair), else a new term (none while l is empty). */
static int put_friction(lc_contact *c, const char *name, const fr_list *l, double eps, int *id, lc_error *err) {
  static const char *const names[1] = {"eps"};
  if (l->n > INT32_MAX)
    return lc_error_set(err, LC_ERANGE, "contact: %lld friction contacts is too many", (long long)l->n);
  if (*id >= 0 && eps == c->fr_eps) return lc_problem_replace_elements(c->p, *id, l->elems, (int32_t)l->n, l->k, NULL, err);
  if (*id >= 0) lc_problem_remove_term(c->p, *id, NULL); /* another step length: another eps */
  *id = -1;
  if (l->n == 0) return LC_OK;
  lc_term_desc d = {.energy = name, .var = c->var, .weight = 1.0, .weight_set = 1, .elems = l->elems,
                    .n_elems = (int32_t)l->n, .n_params = 1, .param_names = names, .param_values = &eps,
                    .consts = l->k};
  return lc_problem_add_term(c->p, &d, id, err);
}

/* Lags friction at state x with offsets from x0 (both nv x 3) for a step
 * of length h: the terms' elements are replaced by the new ones. */
static int lag_at(lc_contact *c, const double *x, const double *x0, double h, lc_error *err) {
  fr_list pairs = {.K = 4, .nk = FR_PAIR_K}, points = {.K = 1, .nk = FR_POINT_K};
  if (!(h > 0.0) || !isfinite(h)) {
    lc_contact_friction_clear(c);
    return lc_error_set(err, LC_EINVAL, "contact: friction needs a step h > 0 (got %g)", h);
  }
  if (c->o.mu == 0.0) return LC_OK; /* no terms were ever made */
  int rc = LC_OK;
  if (lag_pairs(c, x, x0, &pairs) || lag_planes(c, x, x0, &points))
    rc = lc_error_set(err, LC_ENOMEM, "contact: out of memory for the friction elements");
  const double eps = c->o.eps_v * h;
  if (!rc) rc = put_friction(c, "friction_pair", &pairs, eps, &c->t_fr_pair, err);
  if (!rc) rc = put_friction(c, "friction_point", &points, eps, &c->t_fr_point, err);
  if (!rc) {
    c->fr_eps = eps;
    c->n_fr_pair = pairs.n;
    c->n_fr_point = points.n;
  } else {
    lc_contact_friction_remove(c);
  }
  free(pairs.elems);
  free(pairs.k);
  free(points.elems);
  free(points.k);
  return rc;
}

/* Lags friction at the current state for a step of length h. */
int lc_contact_friction_lag(lc_contact *c, double h, lc_error *err) {
  int rc = lc_problem_get_variable(c->p, c->var, c->x, err);
  return rc ? rc : lag_at(c, c->x, c->x, h, err);
}

/* Lags again at the current iterate, offsets still from the step's start x0. */
int lc_contact_friction_relag(lc_contact *c, const double *x0, double h, lc_error *err) {
  if (!x0) return lc_error_set(err, LC_EINVAL, "contact: friction relag needs the step's start");
  int rc = lc_problem_get_variable(c->p, c->var, c->x, err);
  return rc ? rc : lag_at(c, c->x, x0, h, err);
}

/* Empties the lagged friction terms (they stay, with no elements, so the
 * Hessian pattern stays too). */
void lc_contact_friction_clear(lc_contact *c) {
  if (!c) return;
  int *ids[2] = {&c->t_fr_pair, &c->t_fr_point};
  for (int i = 0; i < 2; ++i)
    if (*ids[i] >= 0 && lc_problem_replace_elements(c->p, *ids[i], NULL, 0, NULL, NULL, NULL) != LC_OK) {
      lc_problem_remove_term(c->p, *ids[i], NULL); /* out of memory: drop it instead */
      *ids[i] = -1;
    }
}

/* Removes the friction terms altogether (lc_contact_destroy, failures). */
void lc_contact_friction_remove(lc_contact *c) {
  if (!c) return;
  if (c->t_fr_pair >= 0) lc_problem_remove_term(c->p, c->t_fr_pair, NULL);
  if (c->t_fr_point >= 0) lc_problem_remove_term(c->p, c->t_fr_point, NULL);
  c->t_fr_pair = c->t_fr_point = -1;
}
