/* contact.c - contact on a problem (contact.h): the candidate list of the
 * broad phase as the elements of two barrier terms, the margin term that
 * keeps one list complete over a solve, and the solve rounds. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime (lc_time.h) */
#include "contact.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../energies/contact_geom.h"
#include "../lc_time.h"
#include "broad.h"
#include "contact_impl.h"

static void label_components(const lc_mesh *m, int32_t nv, int32_t *comp);

/* Fills o with the defaults. */
void lc_contact_opts_default(lc_contact_opts *o) {
  memset(o, 0, sizeof *o);
  o->dhat = 1e-3;
  o->kappa = 1.0;
  o->eps_v = 1e-3;
}

/* Checks the settings; resolves the margin and round defaults into *r. */
static int check_opts(const lc_contact_opts *o, lc_contact_opts *r, lc_error *err) {
  if (!o) return lc_error_set(err, LC_EINVAL, "contact: settings are required");
  if (!(o->dhat > 0.0) || !isfinite(o->dhat))
    return lc_error_set(err, LC_EINVAL, "contact: dhat must be finite and > 0 (got %g)", o->dhat);
  if (!(o->dmin >= 0.0) || !isfinite(o->dmin))
    return lc_error_set(err, LC_EINVAL, "contact: dmin must be finite and >= 0 (got %g)", o->dmin);
  if (!(o->kappa > 0.0) || !isfinite(o->kappa))
    return lc_error_set(err, LC_EINVAL, "contact: kappa must be finite and > 0 (got %g)", o->kappa);
  if (!(o->margin >= 0.0) || !isfinite(o->margin))
    return lc_error_set(err, LC_EINVAL, "contact: margin must be finite and >= 0 (got %g)", o->margin);
  if (o->max_rounds < 0) return lc_error_set(err, LC_EINVAL, "contact: max_rounds must be >= 0");
  if (!(o->mu >= 0.0) || !isfinite(o->mu))
    return lc_error_set(err, LC_EINVAL, "contact: the friction coefficient mu must be finite and >= 0 (got %g)", o->mu);
  if (!(o->reserve == 0.0 || o->reserve >= 1.0) || !isfinite(o->reserve))
    return lc_error_set(err, LC_EINVAL, "contact: the pattern reserve must be 0 or >= 1 (got %g)", o->reserve);
  if (o->friction_iters < 0 || o->friction_iters > 100)
    return lc_error_set(err, LC_EINVAL, "contact: friction_iters must be in [0, 100] (got %d)", o->friction_iters);
  if (!(o->eps_v > 0.0) || !isfinite(o->eps_v))
    return lc_error_set(err, LC_EINVAL, "contact: friction eps_v must be finite and > 0 (got %g)", o->eps_v);
  *r = *o;
  if (r->margin == 0.0) r->margin = r->dhat;
  if (r->max_rounds == 0) r->max_rounds = DEFAULT_ROUNDS;
  if (r->friction_iters == 0) r->friction_iters = 1;
  return LC_OK;
}

/* Checks that var of p is a 3D vertex variable over the mesh's vertices. */
static int check_var(lc_problem *p, int var, int32_t *nv, lc_error *err) {
  lc_var_loc loc;
  int dim = 0;
  if (!p) return lc_error_set(err, LC_EINVAL, "contact: problem is required");
  if (lc_problem_var_info(p, var, &loc, &dim, nv, NULL))
    return lc_error_set(err, LC_ENOTFOUND, "contact: no variable %d", var);
  if (loc != LC_LOC_VERTEX || dim != 3)
    return lc_error_set(err, LC_EINVAL, "contact: variable %d must be a vertex variable of dimension 3", var);
  return LC_OK;
}

/* Marks the still vertices (every DOF fixed: static obstacles) into c->still. */
static void mark_still(lc_contact *c) {
  int64_t off = 0;
  lc_var_loc loc;
  int dim = 0;
  int32_t n = 0;
  const uint8_t *fixed = lc_problem_fixed(c->p);
  lc_problem_var_info(c->p, c->var, &loc, &dim, &n, &off);
  for (int64_t v = 0; v < c->nv; ++v) {
    const uint8_t *f = fixed + off + 3 * v;
    c->still[v] = f[0] && f[1] && f[2];
  }
}

/* The candidates' padding: dhat + dmin + 2 r (contact.h) for the current r. */
static double padding(const lc_contact *c) { return c->o.dhat + c->o.dmin + 2.0 * c->r; }

/* Statistics of pair list c->pairs at x. */
static void pair_stats(const lc_contact *c, const double *x, lc_contact_stats *st) {
  memset(st, 0, sizeof *st);
  st->n_pt = c->pairs.n_pt;
  st->n_ee = c->pairs.n_ee;
  st->min_dist = INFINITY;
  st->rounds = c->rounds;
  st->t_broad = c->t_broad;
  st->t_pattern = c->t_pattern;
  st->friction_pairs = c->n_fr_pair;
  st->lists_kept = c->kept;
  st->pattern_rebuilds = c->rebuilds;
  st->friction_planes = c->n_fr_point;
  const double sh = lc_ct_shat(c->o.dhat, c->o.dmin), m2 = c->o.dmin * c->o.dmin;
  for (int ee = 0; ee < 2; ++ee)
    for (int64_t i = 0; i < (ee ? c->pairs.n_ee : c->pairs.n_pt); ++i) {
      int32_t q[4];
      double xl[12];
      lc_pairs_local(c->m, &c->pairs, ee, i, x, q, xl);
      const lc_ct_dist t = ee ? lc_ct_classify_ee(xl) : lc_ct_classify_pt(xl);
      const double d2 = lc_ct_d2(t, xl);
      st->min_dist = fmin(st->min_dist, sqrt(d2));
      if (d2 - m2 < sh) st->active[t.type]++;
    }
  for (int k = 0; k < c->n_planes; ++k)
    for (int64_t v = 0; v < c->nv; ++v) {
      const double d = lc_ct_plane_dist(x + 3 * v, c->plane[k], c->plane[k] + 3);
      st->min_dist = fmin(st->min_dist, d);
      if (d * d - m2 < sh) st->active_plane++;
    }
}

/* Adds a contact term of energy name over the n elements elems; *id = -1 when n = 0. */
static int add_pairs(lc_contact *c, const char *name, const int32_t *elems, int64_t n, int *id, lc_error *err) {
  static const char *const names[] = {"dhat", "dmin"};
  *id = -1;
  if (n == 0) return LC_OK;
  const double vals[2] = {c->o.dhat, c->o.dmin};
  lc_term_desc d = {.energy = name, .var = c->var, .weight = c->o.kappa, .weight_set = 1, .elems = elems,
                    .n_elems = (int32_t)n, .n_params = 2, .param_names = names, .param_values = vals};
  return lc_problem_add_term(c->p, &d, id, err);
}

/* Makes the n elements the pair term *id of energy name: replaced in place
 * when the term exists (the pattern kept when it holds them: *kept), else
 * a new term (*kept = 0 unless n = 0). */
static int put_pairs(lc_contact *c, const char *name, const int32_t *elems, int64_t n, int *id, int *kept,
                     lc_error *err) {
  *kept = n == 0;
  if (n > INT32_MAX) return lc_error_set(err, LC_ERANGE, "contact: %lld candidate pairs is too many", (long long)n);
  if (*id >= 0) return lc_problem_replace_elements(c->p, *id, elems, (int32_t)n, NULL, kept, err);
  return add_pairs(c, name, elems, n, id, err);
}

/* The elements (n x 4) of pair list q into *pe, *ee (malloc'ed). */
static int pair_elements(const lc_contact *c, const lc_pairs *q, int32_t **pe, int32_t **ee, lc_error *err) {
  *pe = malloc((size_t)(q->n_pt > 0 ? q->n_pt : 1) * 4 * sizeof **pe);
  *ee = malloc((size_t)(q->n_ee > 0 ? q->n_ee : 1) * 4 * sizeof **ee);
  if (!*pe || !*ee) return lc_error_set(err, LC_ENOMEM, "contact: out of memory for the pair elements");
  lc_pairs_elements(c->m, q, *pe, *ee);
  return LC_OK;
}

/* Reserves in the Hessian pattern the couplings of the pairs closer than
 * o.reserve x the padding at the current state c->x, so that the next
 * lists, gathered as the state moves on, fit the pattern and keep the
 * direct solver's symbolic factorisation (a superset pattern). */
static int reserve_pairs(lc_contact *c, lc_error *err) {
  lc_pairs q = {0};
  int32_t *all = NULL;
  const double pad = c->o.reserve * padding(c);
  int rc = lc_contact_candidates_still(c->m, c->x, NULL, pad, c->still, &q, err);
  if (!rc) lc_pairs_filter(c->m, c->x, pad, &q);
  const int64_t n = q.n_pt + q.n_ee;
  if (!rc && !(all = malloc((size_t)(n > 0 ? n : 1) * 4 * sizeof *all)))
    rc = lc_error_set(err, LC_ENOMEM, "contact: out of memory for the pattern reserve");
  if (!rc) {
    lc_pairs_elements(c->m, &q, all, all + 4 * q.n_pt); /* point-triangle rows, then edge-edge */
    rc = lc_problem_reserve_pattern(c->p, c->var, 4, all, n, err);
  }
  if (!rc && n > c->pat_pairs) c->pat_pairs = n;
  free(all);
  lc_pairs_free(&q);
  return rc;
}

/* Makes the candidates in *pairs (taken over on success) the elements of
 * the contact terms; a list that does not fit the pattern grows its
 * reserve.  On failure the old list stays. */
static int install(lc_contact *c, lc_pairs *pairs, lc_error *err) {
  int32_t *pe = NULL, *ee = NULL, *ope = NULL, *oee = NULL;
  int kept_pt = 1, kept_ee = 1, k = 0;
  int rc = pair_elements(c, pairs, &pe, &ee, err);
  if (!rc) rc = put_pairs(c, "contact_pt", pe, pairs->n_pt, &c->t_pt, &kept_pt, err);
  if (!rc) {
    rc = put_pairs(c, "contact_ee", ee, pairs->n_ee, &c->t_ee, &kept_ee, err);
    if (rc && pair_elements(c, &c->pairs, &ope, &oee, NULL) == LC_OK) /* the old point-triangle list back */
      put_pairs(c, "contact_pt", ope, c->pairs.n_pt, &c->t_pt, &k, NULL);
  }
  free(pe);
  free(ee);
  free(ope);
  free(oee);
  if (rc) return rc;
  lc_pairs_free(&c->pairs);
  c->pairs = *pairs;
  memset(pairs, 0, sizeof *pairs);
  const int64_t n = c->pairs.n_pt + c->pairs.n_ee;
  const int fits = kept_pt && kept_ee;
  if (fits && !(n < PATTERN_SHRINK * (double)c->pat_pairs)) {
    c->kept++;
    return LC_OK;
  }
  c->pat_pairs = n;
  c->rebuilds++;
  if (fits) return lc_problem_reserve_pattern(c->p, c->var, 4, NULL, 0, err); /* shrunk: back to the exact one */
  return !c->manual && c->o.reserve > 0.0 ? reserve_pairs(c, err) : LC_OK; /* rebuilt at the next assembly */
}

/* Gathers the candidate list at the current state into the terms. */
int lc_contact_update(lc_contact *c, lc_error *err) {
  lc_pairs pairs = {0};
  const double t0 = lc_time_now();
  int rc = lc_problem_get_variable(c->p, c->var, c->x, err);
  if (c->manual) c->r = MANUAL_R; /* the client's list: no margin to keep */
  if (!c->manual) mark_still(c);
  if (!rc && !c->manual) rc = lc_contact_candidates_still(c->m, c->x, NULL, padding(c), c->still, &pairs, err);
  if (!rc && !c->manual) lc_pairs_filter(c->m, c->x, padding(c), &pairs);
  const double t1 = lc_time_now();
  if (!rc && !c->manual) rc = install(c, &pairs, err);
  c->t_broad += t1 - t0;
  c->t_pattern += lc_time_now() - t1;
  for (int64_t v = 0; !rc && v < c->nv; ++v) {
    memcpy(c->k + 4 * v, c->x + 3 * v, 3 * sizeof *c->k);
    c->k[4 * v + 3] = c->r;
  }
  if (!rc && c->t_margin >= 0) rc = lc_problem_set_term_consts(c->p, c->t_margin, c->k, err);
  if (!rc) memcpy(c->x_ref, c->x, (size_t)c->nv * 3 * sizeof *c->x);
  lc_pairs_free(&pairs);
  return rc;
}

/* Checks that the state x has no crossing and no pair within dmin. */
static int check_start(lc_contact *c, lc_error *err) {
  int64_t hits = 0;
  mark_still(c);
  int rc = lc_contact_intersections_still(c->m, c->x, c->still, &hits, err);
  if (rc) return rc;
  if (hits)
    return lc_error_set(err, LC_EINVAL, "contact: the starting state already intersects (%lld edge-face crossings)",
                        (long long)hits);
  rc = lc_contact_candidates_still(c->m, c->x, NULL, padding(c), c->still, &c->pairs, err);
  if (rc) return rc;
  lc_contact_stats st;
  pair_stats(c, c->x, &st);
  lc_pairs_free(&c->pairs);
  if (!(st.min_dist > c->o.dmin))
    return lc_error_set(err, LC_EINVAL, "contact: the starting state has a pair at distance %g <= dmin = %g",
                        st.min_dist, c->o.dmin);
  return LC_OK;
}

/* Adds the margin term over every vertex of the variable. */
static int add_margin(lc_contact *c, lc_error *err) {
  lc_term_desc d = {.energy = "contact_margin", .var = c->var, .weight = 1.0, .weight_set = 1};
  return lc_problem_add_term(c->p, &d, &c->t_margin, err);
}

/* Adds contact to variable var of p. */
int lc_contact_create(lc_problem *p, int var, const lc_contact_opts *o, lc_contact **out, lc_error *err) {
  lc_contact_opts ro;
  int32_t nv = 0;
  if (!out) return lc_error_set(err, LC_EINVAL, "contact: out is required");
  *out = NULL;
  int rc = check_opts(o, &ro, err);
  if (!rc) rc = check_var(p, var, &nv, err);
  if (rc) return rc;
  lc_contact *c = calloc(1, sizeof *c);
  if (!c) return lc_error_set(err, LC_ENOMEM, "contact: out of memory");
  *c = (lc_contact){.p = p, .m = lc_problem_mesh(p), .var = var, .nv = nv, .o = ro, .t_pt = -1, .t_ee = -1,
                    .t_margin = -1, .r = ro.margin, .t_fr_pair = -1, .t_fr_point = -1};
  c->x_ref = malloc((size_t)(nv > 0 ? nv : 1) * 3 * sizeof *c->x_ref);
  c->x = malloc((size_t)(nv > 0 ? nv : 1) * 3 * sizeof *c->x);
  c->k = malloc((size_t)(nv > 0 ? nv : 1) * 4 * sizeof *c->k);
  c->comp = malloc((size_t)(nv > 0 ? nv : 1) * sizeof *c->comp);
  c->still = calloc((size_t)(nv > 0 ? nv : 1), sizeof *c->still);
  if (c->comp) label_components(c->m, nv, c->comp);
  if (!c->x_ref || !c->x || !c->k || !c->comp || !c->still) rc = lc_error_set(err, LC_ENOMEM, "contact: out of memory for %d vertices", (int)nv);
  if (!rc) rc = lc_problem_get_variable(p, var, c->x, err);
  if (!rc) rc = check_start(c, err);
  if (!rc) rc = add_margin(c, err);
  if (!rc) rc = lc_contact_update(c, err);
  if (rc) {
    lc_contact_destroy(c);
    return rc;
  }
  *out = c;
  return LC_OK;
}

/* Removes the contact terms and frees c. */
void lc_contact_destroy(lc_contact *c) {
  if (!c) return;
  lc_contact_friction_remove(c);
  const int ids[3] = {c->t_pt, c->t_ee, c->t_margin};
  for (int i = 0; i < 3; ++i)
    if (ids[i] >= 0) lc_problem_remove_term(c->p, ids[i], NULL);
  for (int k = 0; k < c->n_planes; ++k) lc_problem_remove_term(c->p, c->t_plane[k], NULL);
  if (c->o.reserve > 0.0) lc_problem_reserve_pattern(c->p, c->var, 4, NULL, 0, NULL);
  lc_pairs_free(&c->pairs);
  free(c->x_ref);
  free(c->x);
  free(c->k);
  free(c->comp);
  free(c->still);
  free(c);
}

/* Largest |x - x_ref| over the vertices at the current state. */
static int max_motion(lc_contact *c, double *out, lc_error *err) {
  int rc = lc_problem_get_variable(c->p, c->var, c->x, err);
  double m = 0.0;
  for (int64_t v = 0; !rc && v < c->nv; ++v) {
    double r[3];
    lc_ct_sub(c->x + 3 * v, c->x_ref + 3 * v, r);
    m = fmax(m, lc_ct_dot(r, r));
  }
  *out = sqrt(m);
  return rc;
}

/* 1 if reason ends the rounds whatever the margin (the caller's limits). */
static int final_reason(lc_stop_reason r) {
  return r == LC_STOP_CANCELLED || r == LC_STOP_TIME || r == LC_STOP_INFEASIBLE;
}

/* Sets the weight of every pair and plane term to kappa. */
static int set_kappa(lc_contact *c, double kappa, lc_error *err) {
  int rc = LC_OK;
  c->o.kappa = kappa;
  if (c->t_pt >= 0) rc = lc_problem_set_term_weight(c->p, c->t_pt, kappa, err);
  if (!rc && c->t_ee >= 0) rc = lc_problem_set_term_weight(c->p, c->t_ee, kappa, err);
  for (int k = 0; !rc && k < c->n_planes; ++k) rc = lc_problem_set_term_weight(c->p, c->t_plane[k], kappa, err);
  return rc;
}

/* Gradient g (n_dofs) of the problem with the contact terms weighted kappa. */
static int gradient_at(lc_contact *c, double kappa, double *g, lc_error *err) {
  double E = 0.0;
  int rc = set_kappa(c, kappa, err);
  if (!rc) rc = lc_problem_gradient(c->p, NULL, &E, g, err);
  return rc;
}

/* kappa0 = clamp(-gB.gE / |gB|^2, kappa_min, kappa_max) over the free DOFs
 * (kappa_min while no pair acts); marks kappa as set once a pair acts. */
static int kappa_initial(lc_contact *c, lc_error *err) {
  const int64_t n = lc_problem_n_dofs(c->p);
  double *gE = malloc((size_t)(n > 0 ? n : 1) * sizeof *gE), *g1 = malloc((size_t)(n > 0 ? n : 1) * sizeof *g1);
  double bb = 0.0, be = 0.0;
  int rc = gE && g1 ? gradient_at(c, 0.0, gE, err) : lc_error_set(err, LC_ENOMEM, "contact: out of memory");
  if (!rc) rc = gradient_at(c, 1.0, g1, err);
  const uint8_t *fixed = lc_problem_fixed(c->p);
  for (int64_t j = 0; !rc && j < n; ++j) {
    const double gb = fixed[j] ? 0.0 : g1[j] - gE[j];
    bb += gb * gb;
    be += gb * (fixed[j] ? 0.0 : gE[j]);
  }
  double k = c->kappa_min;
  if (!rc && bb > 0.0) {
    k = fmin(fmax(-be / bb, c->kappa_min), c->kappa_max);
    c->kappa_set = 1;
  }
  const int rc2 = set_kappa(c, k, rc ? NULL : err);
  free(gE);
  free(g1);
  return rc ? rc : rc2;
}

/* After a solve: doubles kappa (up to kappa_max) while the minimum distance
 * is below 1e-9 diag and still decreasing. */
static int kappa_after(lc_contact *c, lc_error *err) {
  lc_contact_stats st;
  int rc = lc_contact_stats_get(c, &st, err);
  if (rc) return rc;
  if (st.min_dist < 1e-9 * c->diag && st.min_dist < c->prev_min && c->o.kappa < c->kappa_max)
    rc = set_kappa(c, fmin(2.0 * c->o.kappa, c->kappa_max), err);
  c->prev_min = st.min_dist;
  return rc;
}

/* Turns on adaptive stiffness with mean vertex mass mbar. */
int lc_contact_set_adaptive(lc_contact *c, double mbar, lc_error *err) {
  if (!(mbar > 0.0) || !isfinite(mbar))
    return lc_error_set(err, LC_EINVAL, "contact: the mean vertex mass must be finite and > 0 (got %g)", mbar);
  int rc = lc_problem_get_variable(c->p, c->var, c->x, err);
  if (rc) return rc;
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY}, d2 = 0.0, b1, b2;
  for (int64_t v = 0; v < c->nv; ++v)
    for (int k = 0; k < 3; ++k) lo[k] = fmin(lo[k], c->x[3 * v + k]), hi[k] = fmax(hi[k], c->x[3 * v + k]);
  for (int k = 0; k < 3 && c->nv > 0; ++k) d2 += (hi[k] - lo[k]) * (hi[k] - lo[k]);
  const double diag = sqrt(d2), d0 = (1e-8 * diag + c->o.dmin) * (1e-8 * diag + c->o.dmin);
  const double s0 = d0 - c->o.dmin * c->o.dmin, sh = lc_ct_shat(c->o.dhat, c->o.dmin);
  lc_ct_barrier(s0, sh, &b1, &b2);
  if (!(diag > 0.0) || !(b2 > 0.0) || !isfinite(b2))
    return lc_error_set(err, LC_EINVAL, "contact: adaptive stiffness needs a scene of positive size");
  c->diag = diag;
  c->kappa_min = 1e11 * mbar / (4.0 * d0 * b2);
  c->kappa_max = 100.0 * c->kappa_min;
  c->adaptive = 1;
  c->kappa_set = 0;
  c->prev_min = INFINITY;
  return set_kappa(c, c->kappa_min, err);
}

/* The current stiffness (the contact terms' weight). */
double lc_contact_kappa(const lc_contact *c) { return c->o.kappa; }

/* Minimises under contact in rounds of one candidate list each. */
int lc_contact_solve(lc_contact *c, lc_solver *s, const lc_solve_opts *o, lc_solve_result *r, lc_error *err) {
  lc_solve_result sum = {0}, one;
  lc_solve_opts ro = *o;
  int rc = LC_OK;
  double total = 0.0; /* motion over the rounds (triangle inequality) */
  c->rounds = 0;
  c->t_broad = c->t_pattern = 0.0;
  c->r = c->manual ? MANUAL_R : fmin(fmax(c->o.margin, MARGIN_AHEAD * c->last_motion), MARGIN_MAX * c->o.margin);
  while (!rc && c->rounds < c->o.max_rounds) {
    ro.max_iters = o->max_iters - sum.iters;
    if (c->rounds > 0 && ro.max_iters <= 0) break;
    rc = lc_contact_update(c, err);
    if (!rc && c->adaptive && !c->kappa_set) rc = kappa_initial(c, err);
    if (!rc) rc = lc_solver_solve(s, &ro, &one, err);
    if (rc) break;
    lc_solve_result_add(&sum, &one);
    c->rounds++;
    double moved = 0.0;
    rc = max_motion(c, &moved, err);
    total += moved;
    if (rc || final_reason(one.reason) || moved <= MARGIN_REUSE * c->r) break;
    c->r = fmin(2.0 * c->r, MARGIN_MAX * c->o.margin); /* the margin stopped this round: allow more motion */
  }
  c->last_motion = total;
  if (!rc && c->adaptive && c->kappa_set) rc = kappa_after(c, err);
  if (r) *r = sum;
  return rc;
}

/* CCD bounds along d (nv x 3) from x, each in [0, 1]: with vb != NULL, the
 * smallest bound of every pair or plane involving each vertex into vb[nv];
 * always the smallest of all into *all. */
static int ccd_bounds(lc_contact *c, const double *x, const double *d, double *vb, double *all, lc_error *err) {
  lc_pairs sw = {0};
  double a = 1.0;
  mark_still(c);
  int rc = lc_contact_candidates_still(c->m, x, d, c->o.dmin, c->still, &sw, err);
  for (int64_t v = 0; vb && v < c->nv; ++v) vb[v] = 1.0;
  for (int ee = 0; !rc && ee < 2; ++ee)
    for (int64_t i = 0; i < (ee ? sw.n_ee : sw.n_pt); ++i) {
      int32_t q[4];
      double xl[12], dl[12];
      lc_pairs_local(c->m, &sw, ee, i, x, q, xl);
      lc_pairs_local(c->m, &sw, ee, i, d, q, dl);
      const double t = lc_ct_accd(ee, xl, dl, c->o.dmin, 1.0);
      a = fmin(a, t);
      for (int k = 0; vb && k < 4; ++k) vb[q[k]] = fmin(vb[q[k]], t);
    }
  for (int k = 0; !rc && k < c->n_planes; ++k)
    for (int64_t v = 0; v < c->nv; ++v) {
      const double t = lc_ct_plane_step(x + 3 * v, d + 3 * v, c->plane[k], c->plane[k] + 3, c->o.dmin, 1.0);
      a = fmin(a, t);
      if (vb) vb[v] = fmin(vb[v], t);
    }
  lc_pairs_free(&sw);
  *all = a;
  return rc;
}

/* Scales d per connected component by the smallest vertex bound vb of the
 * component (bodies that collide with nothing keep their whole motion). */
static void scale_components(const lc_contact *c, const double *vb, double *cb, double *d) {
  for (int64_t v = 0; v < c->nv; ++v) cb[v] = 1.0;
  for (int64_t v = 0; v < c->nv; ++v) cb[c->comp[v]] = fmin(cb[c->comp[v]], vb[v]);
  for (int64_t v = 0; v < c->nv; ++v)
    for (int k = 0; k < 3; ++k) d[3 * v + k] *= cb[c->comp[v]];
}

/* Moves the variable from its value toward target as far as CCD allows. */
int lc_contact_advance(lc_contact *c, const double *target, double *alpha, lc_error *err) {
  const int64_t n = (int64_t)c->nv * 3, nb = n > 0 ? n : 1;
  double *d = malloc((size_t)nb * sizeof *d), *vb = malloc((size_t)nb * sizeof *vb), a = 0.0, E = INFINITY;
  int rc = d && vb ? lc_problem_get_variable(c->p, c->var, c->x, err)
                   : lc_error_set(err, LC_ENOMEM, "contact: out of memory for %d vertices", (int)c->nv);
  for (int64_t j = 0; !rc && j < n; ++j) d[j] = target[j] - c->x[j];
  if (!rc) rc = ccd_bounds(c, c->x, d, vb, &a, err);
  if (!rc && a < 1.0) { /* per body, then one bound for the scaled motion */
    scale_components(c, vb, vb + c->nv, d);
    rc = ccd_bounds(c, c->x, d, NULL, &a, err);
  }
  if (!rc && a > 0.0) {
    for (int64_t j = 0; j < n; ++j) d[j] = c->x[j] + a * d[j];
    rc = lc_problem_set_variable(c->p, c->var, d, err);
    if (!rc) rc = lc_problem_energy(c->p, NULL, &E, err);
    if (!rc && !isfinite(E)) { /* another term refuses the state: stay */
      a = 0.0;
      rc = lc_problem_set_variable(c->p, c->var, c->x, err);
    }
  }
  if (alpha) *alpha = a;
  free(d);
  free(vb);
  return rc;
}

/* The root of v in the union-find forest comp (path halving). */
static int32_t comp_root(int32_t *comp, int32_t v) {
  while (comp[v] != v) v = comp[v] = comp[comp[v]];
  return v;
}

/* Labels the connected components of the mesh's vertices (faces join
 * vertices) into comp[nv]: the smallest vertex id of each component
 * (union-find, near-linear in the faces). */
static void label_components(const lc_mesh *m, int32_t nv, int32_t *comp) {
  const int32_t nf = lc_mesh_nf(m), *F = lc_mesh_F(m);
  for (int32_t v = 0; v < nv; ++v) comp[v] = v;
  for (int64_t f = 0; f < nf; ++f)
    for (int k = 1; k < 3; ++k) {
      const int32_t a = comp_root(comp, F[3 * f]), b = comp_root(comp, F[3 * f + k]);
      if (a < b) comp[b] = a; /* the smaller id stays the root */
      else if (b < a) comp[a] = b;
    }
  for (int32_t v = 0; v < nv; ++v) comp[v] = comp_root(comp, v);
}

/* Row-wise order of int32 pairs, for qsort. */
static int pair_cmp(const void *a, const void *b) {
  const int32_t *x = a, *y = b;
  return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : x[1] != y[1] ? (x[1] < y[1] ? -1 : 1) : 0;
}

/* Sorts the n rows of q and drops repeats; returns the count left. */
static int64_t sort_unique(int32_t *q, int64_t n) {
  int64_t k = 0;
  qsort(q, (size_t)n, 2 * sizeof *q, pair_cmp);
  for (int64_t i = 0; i < n; ++i)
    if (k == 0 || pair_cmp(q + 2 * (k - 1), q + 2 * i)) q[2 * k] = q[2 * i], q[2 * k + 1] = q[2 * i + 1], ++k;
  return k;
}

/* Checks client point-triangle rows (vertex, face): in range, the vertex not a corner. */
static int check_pt_rows(const lc_contact *c, const int32_t *pt, int64_t n, lc_error *err) {
  const int32_t nf = lc_mesh_nf(c->m), *F = lc_mesh_F(c->m);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = pt[2 * i], f = pt[2 * i + 1];
    if (v < 0 || v >= c->nv || f < 0 || f >= nf)
      return lc_error_set(err, LC_ERANGE, "contact: pt row %lld (%d, %d) is out of range (%d vertices, %d faces)",
                          (long long)i, v, f, (int)c->nv, (int)nf);
    const int32_t *t = F + 3 * (int64_t)f;
    if (v == t[0] || v == t[1] || v == t[2])
      return lc_error_set(err, LC_EINVAL, "contact: pt row %lld: vertex %d is a corner of face %d", (long long)i, v, f);
  }
  return LC_OK;
}

/* Checks client edge-edge rows: in range, two edges without a common vertex; orders each row. */
static int check_ee_rows(const lc_contact *c, int32_t *ee, int64_t n, lc_error *err) {
  const int32_t ne = lc_mesh_ne(c->m), *E = lc_mesh_edges(c->m);
  for (int64_t i = 0; i < n; ++i) {
    int32_t a = ee[2 * i], b = ee[2 * i + 1];
    if (a < 0 || a >= ne || b < 0 || b >= ne)
      return lc_error_set(err, LC_ERANGE, "contact: ee row %lld (%d, %d) is out of range (%d edges)", (long long)i,
                          a, b, (int)ne);
    const int32_t *u = E + 2 * (int64_t)a, *w = E + 2 * (int64_t)b;
    if (u[0] == w[0] || u[0] == w[1] || u[1] == w[0] || u[1] == w[1])
      return lc_error_set(err, LC_EINVAL, "contact: ee row %lld: edges %d and %d share a vertex", (long long)i, a, b);
    if (a > b) ee[2 * i] = b, ee[2 * i + 1] = a;
  }
  return LC_OK;
}

/* Replaces the candidate list by the client's pairs. */
int lc_contact_set_pairs(lc_contact *c, const int32_t *pt, int64_t n_pt, const int32_t *ee, int64_t n_ee,
                         lc_error *err) {
  lc_pairs q = {0};
  lc_contact_stats st;
  int rc = n_pt < 0 || n_ee < 0 || (n_pt && !pt) || (n_ee && !ee)
               ? lc_error_set(err, LC_EINVAL, "contact: pair counts must be >= 0 with their arrays")
               : LC_OK;
  q.pt = malloc((size_t)(n_pt > 0 ? n_pt : 1) * 2 * sizeof *q.pt);
  q.ee = malloc((size_t)(n_ee > 0 ? n_ee : 1) * 2 * sizeof *q.ee);
  if (!rc && (!q.pt || !q.ee)) rc = lc_error_set(err, LC_ENOMEM, "contact: out of memory for the pairs");
  if (!rc) {
    if (n_pt) memcpy(q.pt, pt, (size_t)n_pt * 2 * sizeof *pt);
    if (n_ee) memcpy(q.ee, ee, (size_t)n_ee * 2 * sizeof *ee);
    rc = check_pt_rows(c, q.pt, n_pt, err);
  }
  if (!rc) rc = check_ee_rows(c, q.ee, n_ee, err);
  if (!rc) {
    q.n_pt = sort_unique(q.pt, n_pt);
    q.n_ee = sort_unique(q.ee, n_ee);
    rc = lc_problem_get_variable(c->p, c->var, c->x, err);
  }
  if (!rc) {
    lc_contact tmp = *c; /* the distances of the new list, before anything changes */
    tmp.pairs = q;
    tmp.n_planes = 0;
    pair_stats(&tmp, c->x, &st);
    if (!(st.min_dist > c->o.dmin))
      rc = lc_error_set(err, LC_EINVAL, "contact: a supplied pair is at distance %g <= dmin = %g now", st.min_dist,
                        c->o.dmin);
  }
  const int was_manual = c->manual;
  c->manual = 1; /* the client's list: no reserve from the broad phase */
  if (!rc) rc = install(c, &q, err);
  if (rc) c->manual = was_manual;
  else rc = lc_contact_update(c, err);
  lc_pairs_free(&q);
  return rc;
}

/* Unit normal of n into u; LC_EINVAL unless n is finite and non-zero. */
static int unit_normal(const double *n, double *u, lc_error *err) {
  const double l = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  if (!(l > 0.0) || !isfinite(l))
    return lc_error_set(err, LC_EINVAL, "contact: a plane normal must be finite and non-zero (got %g %g %g)", n[0],
                        n[1], n[2]);
  for (int i = 0; i < 3; ++i) u[i] = n[i] / l;
  return LC_OK;
}

/* Checks that every vertex of x lies farther than dmin on the free side of plane (o, n). */
static int check_plane_side(const lc_contact *c, const double *x, const double *o, const double *n,
                            lc_error *err) {
  for (int64_t v = 0; v < c->nv; ++v) {
    const double d = lc_ct_plane_dist(x + 3 * v, o, n);
    if (!(d > c->o.dmin))
      return lc_error_set(err, LC_EINVAL,
                          "contact: vertex %lld is at distance %g from the plane, not beyond dmin = %g on its "
                          "normal's side",
                          (long long)v, d, c->o.dmin);
  }
  return LC_OK;
}

/* Adds a plane obstacle through o with normal n. */
int lc_contact_add_plane(lc_contact *c, const double *o, const double *n, lc_error *err) {
  static const char *const names[8] = {"dhat", "dmin", "ox", "oy", "oz", "nx", "ny", "nz"};
  double vals[8] = {c->o.dhat, c->o.dmin, 0, 0, 0, 0, 0, 0};
  if (c->n_planes == LC_CONTACT_MAX_PLANES)
    return lc_error_set(err, LC_ERANGE, "contact: at most %d planes", LC_CONTACT_MAX_PLANES);
  for (int i = 0; i < 3; ++i)
    if (!isfinite(o[i])) return lc_error_set(err, LC_EINVAL, "contact: a plane point must be finite");
  int rc = unit_normal(n, vals + 5, err);
  memcpy(vals + 2, o, 3 * sizeof *o);
  if (!rc) rc = lc_problem_get_variable(c->p, c->var, c->x, err);
  if (!rc) rc = check_plane_side(c, c->x, o, vals + 5, err);
  lc_term_desc d = {.energy = "contact_plane", .var = c->var, .weight = c->o.kappa, .weight_set = 1,
                    .n_params = 8, .param_names = names, .param_values = vals};
  int id = -1;
  if (!rc) rc = lc_problem_add_term(c->p, &d, &id, err);
  if (rc) return rc;
  c->t_plane[c->n_planes] = id;
  memcpy(c->plane[c->n_planes], vals + 2, 6 * sizeof *vals);
  c->n_planes++;
  return LC_OK;
}

/* Statistics of the current candidates at the current state. */
int lc_contact_stats_get(lc_contact *c, lc_contact_stats *st, lc_error *err) {
  int rc = lc_problem_get_variable(c->p, c->var, c->x, err);
  if (!rc) pair_stats(c, c->x, st);
  return rc;
}

/* 1 if term is one of c's terms. */
int lc_contact_owns(const lc_contact *c, int term) {
  for (int k = 0; k < c->n_planes; ++k)
    if (term == c->t_plane[k]) return 1;
  return term >= 0 && (term == c->t_pt || term == c->t_ee || term == c->t_margin || term == c->t_fr_pair ||
                       term == c->t_fr_point);
}

/* The number of plane obstacles of c. */
int lc_contact_n_planes(const lc_contact *c) { return c->n_planes; }

/* The friction coefficient of c. */
double lc_contact_mu(const lc_contact *c) { return c->o.mu; }

/* Friction lags per time step. */
int lc_contact_friction_iters(const lc_contact *c) { return c->o.friction_iters; }

/* The variable c acts on. */
int lc_contact_var(const lc_contact *c) { return c->var; }
