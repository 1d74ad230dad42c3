/* contact_impl.h - the state of a contact (contact.h), shared by the files
 * that implement it: contact.c (lists, rounds, planes, stiffness) and
 * friction.c (lagged friction).  Not a public header. */
#ifndef LC_CONTACT_IMPL_H
#define LC_CONTACT_IMPL_H

#include "broad.h"
#include "contact.h"

#define DEFAULT_ROUNDS 50
#define MARGIN_REUSE 0.9 /* a solve that moved no vertex beyond this x r ends the rounds */
#define MARGIN_AHEAD 2.0 /* a solve starts with r = this x the last solve's motion (at least the margin) */
#define MANUAL_R 1e150   /* the margin radius with a client's list: never binding (r^2 finite) */
#define PATTERN_SHRINK 0.8 /* a list below this x the pairs of the pattern rebuilds it exactly */
#define MARGIN_MAX 4.0   /* r stays within this x the margin: the candidates grow with the padding dhat + 2 r */

struct lc_contact {
  lc_problem *p;
  const lc_mesh *m;
  int var;
  int32_t nv;
  lc_contact_opts o;
  int t_pt, t_ee, t_margin; /* term ids, -1: none */
  int n_planes;
  int t_plane[LC_CONTACT_MAX_PLANES];       /* plane obstacle term ids */
  double plane[LC_CONTACT_MAX_PLANES][6];   /* o, unit n of each */
  lc_pairs pairs;           /* the current candidates */
  double *x_ref;            /* nv x 3: where they were gathered */
  double *x;                /* nv x 3 scratch */
  double *k;                /* nv x 4: the margin term's constants (x_ref, r) */
  double r;                 /* the current margin radius (>= o.margin) */
  double last_motion;       /* largest vertex motion over the last lc_contact_solve */
  int32_t *comp;            /* nv: connected component (smallest vertex id) of each vertex */
  uint8_t *still;           /* nv: 1 where every DOF of the vertex is fixed (a static obstacle) */
  int manual;               /* the pairs are the client's (lc_contact_set_pairs): no broad phase */
  int adaptive, kappa_set;  /* adaptive stiffness on; kappa0 taken from the gradients */
  double kappa_min, kappa_max, diag, prev_min; /* its bounds, scene diagonal, last minimum distance */
  int rounds;
  double t_broad, t_pattern; /* seconds in the broad phase and in installing lists, last solve */
  int t_fr_pair, t_fr_point;  /* lagged friction term ids (pairs, plane contacts), -1: none */
  int64_t n_fr_pair, n_fr_point; /* their elements at the last lag */
  double fr_eps;            /* their ramp eps_v h */
  int64_t kept, rebuilds;   /* lists that kept the Hessian pattern; lists that rebuilt it */
  int64_t pat_pairs;        /* pairs the current pattern was made for (list or reserve) */
};

/* Removes the friction terms altogether (friction.c). */
void lc_contact_friction_remove(lc_contact *c);

#endif
