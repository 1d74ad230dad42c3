/* contact.h - contact on a problem: the broad phase's candidate pairs
 * become the elements of a point-triangle and an edge-edge barrier term
 * (contact_pt, contact_ee), and a contact_margin term keeps every solve
 * within the distance for which one candidate list is complete.
 *
 * The list holds the pairs closer than dhat + dmin + 2 r at a reference
 * state x_ref (boxes padded by that much, then the distance: a pair's
 * distance moves by at most 2 r while its vertices move by r); the margin
 * term's step bound keeps every vertex within r of x_ref,
 * so a pair that is not listed stays farther than dhat + dmin apart: it
 * neither acts nor touches, and the listed pairs' CCD bounds keep the
 * listed ones apart.  lc_contact_solve re-gathers the list and solves again
 * whenever a solve ended with a vertex near its margin.  The radius adapts:
 * a solve starts with r = max(margin, 2 x the last solve's largest motion)
 * (time steps move about as far as the last one) and doubles it for the
 * next round whenever the margin stopped a round, up to 4 x margin (the
 * candidates grow with the padding), so the margin rarely binds and
 * Newton does not grind against it.
 *
 * Each list replaces the elements of the two pair terms in place
 * (lc_problem_replace_elements): a list that fits the current Hessian
 * pattern keeps it (and a direct solver's symbolic factorisation) unless it
 * has shrunk below 0.8 x the pairs the pattern was made for; otherwise the
 * pattern is rebuilt, optionally with a reserve of the pairs within
 * o.reserve x the padding (lc_problem_reserve_pattern), a superset pattern
 * that later lists fit.  The GPU broad phase is the next step of the
 * contact work (docs/contact.md). */
#ifndef LC_CONTACT_H
#define LC_CONTACT_H

#include <stdint.h>

#include "../problem.h"
#include "../solvers/solver.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* Contact settings. */
typedef struct lc_contact_opts {
  double dhat;   /* activation distance, > 0 */
  double dmin;   /* thickness, >= 0 */
  double kappa;  /* barrier stiffness (the terms' weight), > 0 */
  double margin; /* smallest r: how far a vertex may move per candidate list; 0: dhat */
  int max_rounds; /* candidate lists per lc_contact_solve; 0: 50 */
  double mu;     /* friction coefficient, >= 0 (0: no friction) */
  double eps_v;  /* friction: the sliding speed below which it ramps (static friction), > 0 */
  int friction_iters; /* friction lags (and solves) per time step, >= 0 (0: 1) */
  double reserve; /* 0, or >= 1: a rebuilt Hessian pattern also holds the pairs within this x the
                     padding (a superset pattern that later lists fit; docs/contact.md) */
} lc_contact_opts;

/* What the current candidates look like. */
typedef struct lc_contact_stats {
  int64_t n_pt, n_ee;         /* candidate pairs */
  int64_t active[4];          /* active pairs by distance type (lc_ct_type: PP, PE, PT, EE) */
  int64_t active_plane;       /* active vertex-plane contacts */
  double min_dist;            /* smallest distance over the candidates and planes (+inf: none) */
  int rounds;                 /* candidate lists of the last lc_contact_solve */
  double t_broad;             /* its seconds in the broad phase */
  double t_pattern;           /* its seconds installing the lists as terms (pattern update) */
  int64_t friction_pairs;     /* pairs under lagged friction (lc_contact_friction_lag) */
  int64_t friction_planes;    /* vertex-plane contacts under lagged friction */
  int64_t lists_kept;         /* lists installed so far within the Hessian pattern (no rebuild) */
  int64_t pattern_rebuilds;   /* lists so far that rebuilt it (did not fit, or it had grown too large) */
} lc_contact_stats;

typedef struct lc_contact lc_contact;

/* Fills o with the defaults: dhat 1e-3, dmin 0, kappa 1, margin 0 (= dhat),
 * mu 0, eps_v 1e-3. */
void lc_contact_opts_default(lc_contact_opts *o);

/* Adds contact to variable var of p (a 3D vertex variable) with settings o:
 * checks o and that the current state has no edge through a face and no
 * pair within dmin, then adds the margin term and gathers the first list.
 * On failure p is unchanged and *out is NULL. */
int lc_contact_create(lc_problem *p, int var, const lc_contact_opts *o, lc_contact **out, lc_error *err);

/* Removes the contact terms from the problem and frees c. NULL is a no-op. */
void lc_contact_destroy(lc_contact *c);

/* Gathers the candidate list at the current state and makes it the contact
 * terms' elements (x_ref := x).  On failure the old terms stay. */
int lc_contact_update(lc_contact *c, lc_error *err);

/* Minimises with solver s and options o under contact: update, solve, and
 * again while a solve ended with a vertex beyond 0.9 r of x_ref (at most
 * max_rounds lists).  r sums the iterations and times of the rounds. */
int lc_contact_solve(lc_contact *c, lc_solver *s, const lc_solve_opts *o, lc_solve_result *r, lc_error *err);

/* Replaces the broad phase by the client's pairs: pt[n_pt x 2] rows
 * (vertex, face), ee[n_ee x 2] rows (edge, edge) in lc_mesh_edges order
 * (sorted, repeats dropped).  From then on the list stays as given (no
 * margin, one round per solve) until the contact is created again; CCD
 * still bounds every step, for the listed pairs only.  Refuses rows out of
 * range, a vertex paired with its own face, edges sharing a vertex, and a
 * pair within dmin now; on failure nothing changes. */
int lc_contact_set_pairs(lc_contact *c, const int32_t *pt, int64_t n_pt, const int32_t *ee, int64_t n_ee,
                         lc_error *err);

/* Adaptive stiffness (shared/reference-values.md section 1) for mean vertex
 * mass mbar > 0 (of the inertia term): kappa_min = 1e11 mbar / (4 d0
 * b''(d0)), d0 = (1e-8 diag + dmin)^2 (diag: the current bounding box),
 * kappa_max = 100 kappa_min; kappa starts at kappa_min; the first solve in
 * which a pair or plane acts sets kappa0 = clamp(-gB.gE / |gB|^2) from the
 * gradients of the barrier and of the rest; after each solve kappa doubles
 * (up to kappa_max) while the minimum distance is below 1e-9 diag and still
 * decreasing.  On failure nothing changes. */
int lc_contact_set_adaptive(lc_contact *c, double mbar, lc_error *err);
/* The current stiffness kappa. */
double lc_contact_kappa(const lc_contact *c);

/* Most plane obstacles of one contact. */
#define LC_CONTACT_MAX_PLANES 16

/* Adds an obstacle: the plane through o[3] with normal n[3] (normalised
 * here; its side is the free one), a contact_plane term of c's dhat, dmin
 * and kappa over every vertex.  Every vertex must lie beyond dmin on the
 * free side now.  On failure nothing changes. */
int lc_contact_add_plane(lc_contact *c, const double *o, const double *n, lc_error *err);
/* Moves c's variable from its current value x toward target (nv x 3) to
 * x + alpha (target - x), alpha in [0, 1] the largest step that CCD allows
 * for every pair whose swept boxes meet and every plane (so no pair comes
 * within dmin on the way), 0 if another term's energy is not finite there.
 * The time stepper starts each step's solve there (the inertial
 * prediction, where collisions allow), so the solve itself moves little and
 * the margin stays small.  *alpha (may be NULL) receives the step.  On
 * failure the variable is unchanged. */
int lc_contact_advance(lc_contact *c, const double *target, double *alpha, lc_error *err);
/* Lagged friction (IPC; docs/contact.md) for a time step of length h > 0
 * from the current state x_n: every listed pair and plane contact acting
 * at x_n (distance below dhat) gets a friction element with its normal
 * force lambda = kappa w m |db/dd| (barrier, pair weight and mollifier at
 * x_n), its closest points and normal there, weight mu lambda and the
 * smooth Coulomb ramp eps = eps_v h in sliding displacement.  They act
 * until lc_contact_friction_clear (the time stepper lags at the start of a
 * step and clears at its end).  The two friction terms are made once and
 * their elements replaced at each lag, so a list inside the Hessian
 * pattern keeps it.  A no-op with mu = 0.  On failure no friction term is
 * left. */
int lc_contact_friction_lag(lc_contact *c, double h, lc_error *err);
/* Lags friction again within a step: normal forces, closest points and
 * normals at the current iterate, relative displacements still from the
 * step's start x0 (nv x 3).  The time stepper solves again after it,
 * opts.friction_iters - 1 times per step (IPC's friction iterations), so a
 * contact that starts or ends within the step feels its own normal force.
 * On failure no friction term is left. */
int lc_contact_friction_relag(lc_contact *c, const double *x0, double h, lc_error *err);
/* Empties the lagged friction terms: they stay, with no elements and no
 * energy, until the next lag; a no-op without them. */
void lc_contact_friction_clear(lc_contact *c);

/* 1 if term is one of c's terms (pairs, margin, planes or friction). */
int lc_contact_owns(const lc_contact *c, int term);

/* The number of plane obstacles of c. */
int lc_contact_n_planes(const lc_contact *c);
/* The friction coefficient mu of c (0: none). */
double lc_contact_mu(const lc_contact *c);
/* Friction lags per time step (>= 1). */
int lc_contact_friction_iters(const lc_contact *c);
/* The variable c acts on. */
int lc_contact_var(const lc_contact *c);

/* Statistics of the current candidates at the current state. */
int lc_contact_stats_get(lc_contact *c, lc_contact_stats *st, lc_error *err);

#if defined(__cplusplus)
}
#endif

#endif
