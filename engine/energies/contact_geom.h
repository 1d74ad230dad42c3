/* contact_geom.h - the passive geometry of contact pairs, written once as
 * host and device code (LC_HD; C11 and CUDA C++): the closest-feature
 * classification of point-triangle and edge-edge pairs, their squared
 * distances, the C2 log barrier on squared distances, the edge-edge
 * mollifier and additive continuous collision detection (ACCD).
 *
 * A pair has four vertices, 12 local values x[12] in the order of its
 * element: point-triangle (p, t0, t1, t2), edge-edge (ea0, ea1, eb0, eb1).
 * A classification names the distance type and the local vertices it uses
 * (lc_ct_dist), so the energies (e_contact_pt.h, e_contact_ee.h) evaluate
 * the one closed form of that type in any AD mode, and the CCD, the broad
 * phase and the tests use the same classification.  Formulas and check
 * values: shared/reference-values.md, section 1; docs/contact.md. */
#ifndef LC_CONTACT_GEOM_H
#define LC_CONTACT_GEOM_H

#include "../ad/lc_ad_base.h"

/* Distance types (reference-values.md section 1). */
typedef enum {
  LC_CT_PP = 0, /* point-point: |x_i - x_j|^2 */
  LC_CT_PE = 1, /* point-line: point i, line through j, k */
  LC_CT_PT = 2, /* point-plane: point 0, plane through 1, 2, 3 */
  LC_CT_EE = 3  /* line-line: lines (0, 1) and (2, 3) */
} lc_ct_type;

/* A classification: type and local vertices (0..3) it uses. */
typedef struct lc_ct_dist {
  int type, i, j, k;
} lc_ct_dist;

/* Edges count as parallel below this |u x v|^2 / (|u|^2 |v|^2). */
#define LC_CT_PARALLEL 2.5e-16
/* The mollifier threshold eps_x = LC_CT_MOLLIFY |ua|^2 |ub|^2 (rest edges). */
#define LC_CT_MOLLIFY 1e-3
/* ACCD: the separation kept (fraction of the start distance) and the
 * longest step searched. */
#define LC_CT_ACCD_S 0.1
#define LC_CT_ACCD_TMAX 2.0
#define LC_CT_ACCD_MAX_ITERS 100000

/* ---- small vector helpers (3D, passive) ------------------------------------ */

LC_HD void lc_ct_sub(const double *a, const double *b, double *r) {
  r[0] = a[0] - b[0];
  r[1] = a[1] - b[1];
  r[2] = a[2] - b[2];
}
LC_HD double lc_ct_dot(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
LC_HD void lc_ct_cross(const double *a, const double *b, double *r) {
  r[0] = a[1] * b[2] - a[2] * b[1];
  r[1] = a[2] * b[0] - a[0] * b[2];
  r[2] = a[0] * b[1] - a[1] * b[0];
}

/* A classification value. */
LC_HD lc_ct_dist lc_ct_mk(int type, int i, int j, int k) {
  lc_ct_dist d;
  d.type = type;
  d.i = i;
  d.j = j;
  d.k = k;
  return d;
}

/* ---- squared distances by type ------------------------------------------------ */

/* |p - q|^2 */
LC_HD double lc_ct_d2_pp(const double *p, const double *q) {
  double r[3];
  lc_ct_sub(p, q, r);
  return lc_ct_dot(r, r);
}

/* The difference vectors of classification t as weights on the pair's four
 * points, d_r = sum_a w[4 r + a] x_a (r < 3), and the form of d^2 in them,
 * returned:
 *   0  |d0|^2                               (PP: d0 = x_i - x_j),
 *   1  |d0 x d1|^2 / |d1|^2                 (PE: d0 = x_i - x_j, d1 = x_k - x_j),
 *   2  (d0 . (d1 x d2))^2 / |d1 x d2|^2     (PT: d0 = p - t0, d1 = t1 - t0,
 *      d2 = t2 - t0; EE: d0 = ea0 - eb0, d1 = ea1 - ea0, d2 = eb1 - eb0).
 * The energies differentiate d^2 in these 9 differences and pull the
 * derivatives back through the weights (contact_jet.h), so no AD value is
 * ever selected by a run-time index (on the GPU that puts the element's
 * variables in local memory) and the AD work is on 9 variables, not 12. */
LC_HD int lc_ct_weights(lc_ct_dist t, double *w) {
  for (int i = 0; i < 12; ++i) w[i] = 0.0;
  switch (t.type) {
    case LC_CT_PP: w[t.i] = 1.0; w[t.j] = -1.0; return 0;
    case LC_CT_PE:
      w[t.i] = 1.0; w[t.j] = -1.0;
      w[4 + t.k] = 1.0; w[4 + t.j] = -1.0;
      return 1;
    case LC_CT_PT:
      w[0] = 1.0; w[1] = -1.0; w[4 + 2] = 1.0; w[4 + 1] = -1.0; w[8 + 3] = 1.0; w[8 + 1] = -1.0;
      return 2;
    default:
      w[0] = 1.0; w[2] = -1.0; w[4 + 1] = 1.0; w[4 + 0] = -1.0; w[8 + 3] = 1.0; w[8 + 2] = -1.0;
      return 2;
  }
}

/* The difference vectors of weights w[12] (lc_ct_weights) at x[12]:
 * d[3 r + c] = sum_a w[4 r + a] x[3 a + c]. */
LC_HD void lc_ct_diffs(const double *w, const double *x, double *d) {
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      d[3 * r + c] = w[4 * r] * x[c] + w[4 * r + 1] * x[3 + c] + w[4 * r + 2] * x[6 + c] +
                     w[4 * r + 3] * x[9 + c];
}

/* d^2 of form f (lc_ct_weights) of the difference vectors d[9]. */
LC_HD double lc_ct_d2_form(int f, const double *d) {
  double n[3];
  if (f == 0) return lc_ct_dot(d, d);
  if (f == 1) {
    lc_ct_cross(d, d + 3, n);
    return lc_ct_dot(n, n) / lc_ct_dot(d + 3, d + 3);
  }
  lc_ct_cross(d + 3, d + 6, n);
  const double s = lc_ct_dot(d, n);
  return s * s / lc_ct_dot(n, n);
}

/* The squared distance of type t on the pair's local values x[12]. */
LC_HD double lc_ct_d2(lc_ct_dist t, const double *x) {
  double w[12], d[9];
  const int f = lc_ct_weights(t, w);
  lc_ct_diffs(w, x, d);
  return lc_ct_d2_form(f, d);
}

/* Signed distance n.(x - o) of x from the plane through o with unit normal n. */
LC_HD double lc_ct_plane_dist(const double *x, const double *o, const double *n) {
  return n[0] * (x[0] - o[0]) + n[1] * (x[1] - o[1]) + n[2] * (x[2] - o[2]);
}

/* Conservative step bound of a point x moving along d against the plane
 * through o with unit normal n: the exact time at which n.(x - o) reaches
 * dmin, shortened by LC_CT_ACCD_S of the gap like the ACCD bound, capped at
 * tmax (tmax when x does not approach the plane; 0 when it is not beyond
 * dmin now). */
LC_HD double lc_ct_plane_step(const double *x, const double *d, const double *o, const double *n,
                              double dmin, double tmax) {
  const double gap = lc_ct_plane_dist(x, o, n) - dmin;
  const double rate = n[0] * d[0] + n[1] * d[1] + n[2] * d[2];
  if (!(gap > 0.0)) return 0.0;
  if (!(rate < 0.0)) return tmax;
  const double t = (1.0 - LC_CT_ACCD_S) * gap / -rate;
  return t < tmax ? t : tmax;
}

/* ---- classification -------------------------------------------------------------- */

/* Closest feature of segment (local j, k) to point (local i): PP or PE. */
LC_HD lc_ct_dist lc_ct_point_edge(const double *x, int i, int j, int k) {
  double e[3], r[3];
  lc_ct_sub(x + 3 * k, x + 3 * j, e);
  lc_ct_sub(x + 3 * i, x + 3 * j, r);
  const double ee = lc_ct_dot(e, e), t = lc_ct_dot(r, e);
  if (!(ee > 0.0) || t <= 0.0) return lc_ct_mk(LC_CT_PP, i, j, -1);
  if (t >= ee) return lc_ct_mk(LC_CT_PP, i, k, -1);
  return lc_ct_mk(LC_CT_PE, i, j, k);
}

/* Point-triangle (p = 0; t0, t1, t2 = 1, 2, 3): one of the 7 regions of the
 * projection of p (vertex, edge or interior; Ericson, Real-Time Collision
 * Detection 5.1.5), in exact comparisons of dot products. */
LC_HD lc_ct_dist lc_ct_classify_pt(const double *x) {
  const double *p = x, *a = x + 3, *b = x + 6, *c = x + 9;
  double ab[3], ac[3], ap[3], bp[3], cp[3];
  lc_ct_sub(b, a, ab);
  lc_ct_sub(c, a, ac);
  lc_ct_sub(p, a, ap);
  const double d1 = lc_ct_dot(ab, ap), d2 = lc_ct_dot(ac, ap);
  if (d1 <= 0.0 && d2 <= 0.0) return lc_ct_mk(LC_CT_PP, 0, 1, -1);
  lc_ct_sub(p, b, bp);
  const double d3 = lc_ct_dot(ab, bp), d4 = lc_ct_dot(ac, bp);
  if (d3 >= 0.0 && d4 <= d3) return lc_ct_mk(LC_CT_PP, 0, 2, -1);
  if (d1 * d4 - d3 * d2 <= 0.0 && d1 >= 0.0 && d3 <= 0.0) return lc_ct_mk(LC_CT_PE, 0, 1, 2);
  lc_ct_sub(p, c, cp);
  const double d5 = lc_ct_dot(ab, cp), d6 = lc_ct_dot(ac, cp);
  if (d6 >= 0.0 && d5 <= d6) return lc_ct_mk(LC_CT_PP, 0, 3, -1);
  if (d5 * d2 - d1 * d6 <= 0.0 && d2 >= 0.0 && d6 <= 0.0) return lc_ct_mk(LC_CT_PE, 0, 3, 1);
  if (d3 * d6 - d5 * d4 <= 0.0 && d4 - d3 >= 0.0 && d5 - d6 >= 0.0) return lc_ct_mk(LC_CT_PE, 0, 2, 3);
  return lc_ct_mk(LC_CT_PT, 0, 1, 2);
}

/* The nearest of the four point-segment features of two parallel edges. */
LC_HD lc_ct_dist lc_ct_classify_parallel(const double *x) {
  lc_ct_dist c[4];
  c[0] = lc_ct_point_edge(x, 0, 2, 3);
  c[1] = lc_ct_point_edge(x, 1, 2, 3);
  c[2] = lc_ct_point_edge(x, 2, 0, 1);
  c[3] = lc_ct_point_edge(x, 3, 0, 1);
  int best = 0;
  double dbest = lc_ct_d2(c[0], x);
  for (int q = 1; q < 4; ++q) {
    const double d = lc_ct_d2(c[q], x);
    if (d < dbest) {
      dbest = d;
      best = q;
    }
  }
  return c[best];
}

/* s clamped to [0, 1]. */
LC_HD double lc_ct_clamp01(double s) { return s < 0.0 ? 0.0 : s > 1.0 ? 1.0 : s; }

/* Edge-edge (ea = 0, 1; eb = 2, 3): the closest points of the segments
 * (Ericson 5.1.9) name one of the 9 types; parallel edges (|u x v|^2 <
 * LC_CT_PARALLEL |u|^2 |v|^2) take the nearest point-segment feature. */
LC_HD lc_ct_dist lc_ct_classify_ee(const double *x) {
  double u[3], v[3], r[3], n[3];
  lc_ct_sub(x + 3, x, u);
  lc_ct_sub(x + 9, x + 6, v);
  lc_ct_sub(x, x + 6, r);
  lc_ct_cross(u, v, n);
  const double a = lc_ct_dot(u, u), e = lc_ct_dot(v, v), b = lc_ct_dot(u, v);
  const double c = lc_ct_dot(u, r), f = lc_ct_dot(v, r), den = lc_ct_dot(n, n);
  if (!(a > 0.0) || !(e > 0.0) || den < LC_CT_PARALLEL * a * e) return lc_ct_classify_parallel(x);
  double s = lc_ct_clamp01((b * f - c * e) / den), t = (b * s + f) / e;
  if (t <= 0.0) {
    t = 0.0;
    s = lc_ct_clamp01(-c / a);
  } else if (t >= 1.0) {
    t = 1.0;
    s = lc_ct_clamp01((b - c) / a);
  }
  const int s_in = s > 0.0 && s < 1.0, t_in = t > 0.0 && t < 1.0;
  const int pa = s >= 1.0 ? 1 : 0, pb = t >= 1.0 ? 3 : 2;
  if (s_in && t_in) return lc_ct_mk(LC_CT_EE, 0, 1, 2);
  if (s_in) return lc_ct_mk(LC_CT_PE, pb, 0, 1);
  if (t_in) return lc_ct_mk(LC_CT_PE, pa, 2, 3);
  return lc_ct_mk(LC_CT_PP, pa, pb, -1);
}

/* Squared distance of a point-triangle or edge-edge pair (ee != 0). */
LC_HD double lc_ct_pair_d2(int ee, const double *x) {
  return lc_ct_d2(ee ? lc_ct_classify_ee(x) : lc_ct_classify_pt(x), x);
}

/* ---- barrier and mollifier ------------------------------------------------------- */

/* The log barrier b(s; sh) = -(s - sh)^2 ln(s / sh) for 0 < s < sh (0
 * beyond, +inf at or below 0), with b' and b'' into *b1, *b2 (may be NULL). */
LC_HD double lc_ct_barrier(double s, double sh, double *b1, double *b2) {
  double v = 0.0, d1 = 0.0, d2 = 0.0;
  if (!(s > 0.0)) v = INFINITY;
  else if (s < sh) {
    const double l = log(s / sh), q = sh / s;
    v = -(s - sh) * (s - sh) * l;
    d1 = (sh - s) * (2.0 * l - q + 1.0);
    d2 = (q + 2.0) * q - 2.0 * l - 3.0;
  }
  if (b1) *b1 = d1;
  if (b2) *b2 = d2;
  return v;
}

/* The barrier's argument and activation for distance d2 (squared),
 * activation distance dhat and thickness dmin: s = d2 - dmin^2, sh =
 * (2 dmin + dhat) dhat (reference-values.md: "A thickness d_min"). */
LC_HD double lc_ct_shat(double dhat, double dmin) { return (2.0 * dmin + dhat) * dhat; }

/* eps_x of edges with rest vectors ua, ub: LC_CT_MOLLIFY |ua|^2 |ub|^2. */
LC_HD double lc_ct_moll_eps(const double *ua, const double *ub) {
  return LC_CT_MOLLIFY * lc_ct_dot(ua, ua) * lc_ct_dot(ub, ub);
}

/* The mollifier m(c) = (2 - c/eps) c/eps below eps, else 1. */
LC_HD double lc_ct_mollifier(double c, double eps) {
  if (!(c < eps)) return 1.0;
  const double y = c / eps;
  return (2.0 - y) * y;
}

/* ---- additive continuous collision detection ----------------------------------- */

/* Largest |d_i - mean| over local vertices [lo, hi) of the mean-free motion. */
LC_HD double lc_ct_max_motion(const double *d, const double *mean, int lo, int hi) {
  double m = 0.0;
  for (int v = lo; v < hi; ++v) {
    double r[3];
    lc_ct_sub(d + 3 * v, mean, r);
    const double l = sqrt(lc_ct_dot(r, r));
    m = l > m ? l : m;
  }
  return m;
}

/* Additive CCD (Li, Kaufman, Jiang 2021) of a pair (ee: edge-edge, else
 * point-triangle) moving from x along d: a step t such that the distance
 * stays above dmin on [0, t] while it keeps at least LC_CT_ACCD_S of its
 * start separation, never beyond the exact time of impact; tmax when no
 * impact happens before tmax; 0 when the pair starts at or within dmin. */
LC_HD double lc_ct_accd(int ee, const double *x, const double *d, double dmin, double tmax) {
  double mean[3] = {0.0, 0.0, 0.0}, xt[12];
  for (int v = 0; v < 4; ++v)
    for (int c = 0; c < 3; ++c) mean[c] += 0.25 * d[3 * v + c];
  const int split = ee ? 2 : 1;
  const double lp = lc_ct_max_motion(d, mean, 0, split) + lc_ct_max_motion(d, mean, split, 4);
  double dist = sqrt(lc_ct_pair_d2(ee, x));
  if (!(dist > dmin)) return 0.0;
  if (!(lp > 0.0)) return tmax;
  const double g = LC_CT_ACCD_S * (dist - dmin);
  double t = 0.0, tl = (1.0 - LC_CT_ACCD_S) * (dist - dmin) / lp;
  for (int i = 0; i < 12; ++i) xt[i] = x[i];
  for (int it = 0; it < LC_CT_ACCD_MAX_ITERS; ++it) {
    for (int v = 0; v < 4; ++v)
      for (int c = 0; c < 3; ++c) xt[3 * v + c] += tl * (d[3 * v + c] - mean[c]);
    dist = sqrt(lc_ct_pair_d2(ee, xt));
    if (t > 0.0 && dist - dmin < g) return t;
    t += tl;
    if (t > tmax) return tmax;
    tl = (1.0 - LC_CT_ACCD_S) * (dist - dmin) / lp;
  }
  return t; /* not reached for a finite motion: the distance test ends the loop */
}

/* ---- lagged friction ---------------------------------------------------------------- */

/* The closest points of classification t on the pair's values x[12] as
 * weights w[4] on its points: sum_a w[a] x_a is the vector from the
 * closest point of the second feature (triangle, edge b, or the point's
 * partner) to that of the first (the point, edge a); w sums to 0.  Line
 * parameters are those of the type's closed form (point-line: the
 * projection on the line; point-plane: the barycentrics of the projection;
 * line-line: the closest points of the lines), so they match d^2. */
LC_HD void lc_ct_closest_weights(lc_ct_dist t, const double *x, double *w) {
  double e[3], r[3], f[3];
  for (int a = 0; a < 4; ++a) w[a] = 0.0;
  if (t.type == LC_CT_PP) {
    w[t.i] = 1.0;
    w[t.j] = -1.0;
  } else if (t.type == LC_CT_PE) {
    lc_ct_sub(x + 3 * t.k, x + 3 * t.j, e);
    lc_ct_sub(x + 3 * t.i, x + 3 * t.j, r);
    const double ee = lc_ct_dot(e, e), al = ee > 0.0 ? lc_ct_dot(r, e) / ee : 0.0;
    w[t.i] = 1.0;
    w[t.j] = -(1.0 - al);
    w[t.k] = -al;
  } else { /* PT: p - (t0 + b1 e1 + b2 e2); EE: (ea0 + s u) - (eb0 + t v) */
    const int pt = t.type == LC_CT_PT;
    lc_ct_sub(x + (pt ? 6 : 3), x + (pt ? 3 : 0), e);  /* e1 | u */
    lc_ct_sub(x + 9, x + (pt ? 3 : 6), f);             /* e2 | v */
    lc_ct_sub(x, x + (pt ? 3 : 6), r);                 /* p - t0 | ea0 - eb0 */
    if (!pt) f[0] = -f[0], f[1] = -f[1], f[2] = -f[2]; /* EE: f = -v */
    const double a = lc_ct_dot(e, e), b = lc_ct_dot(e, f), c = lc_ct_dot(f, f);
    const double re = lc_ct_dot(r, e), rf = lc_ct_dot(r, f), det = a * c - b * b;
    double s1 = 0.0, s2 = 0.0; /* minimise |r - s1 e - s2 f| (PT) or |r + s1 e + s2 f| (EE) */
    if (det > 0.0) {
      s1 = (c * re - b * rf) / det;
      s2 = (a * rf - b * re) / det;
    }
    if (pt) {
      w[0] = 1.0;
      w[1] = -(1.0 - s1 - s2);
      w[2] = -s1;
      w[3] = -s2;
    } else { /* s = -s1 on u, t = s2 on v (f = -v) */
      const double s = -s1, tt = -s2;
      w[0] = 1.0 - s;
      w[1] = s;
      w[2] = -(1.0 - tt);
      w[3] = -tt;
    }
  }
}

/* The friction mollifier f0 (IPC) of y = sqrt(s) as a function of the
 * squared tangential displacement s >= 0 (negative rounding counts as 0),
 * with its first and second derivatives in s into *g1, *g2:
 *   f0(y) = -y^3 / (3 eps^2) + y^2 / eps + eps / 3 for y < eps, y beyond
 * (f0' = f1, the smooth Coulomb ramp 2y/eps - y^2/eps^2, 1 beyond; C2 at
 * eps).  At s = 0 g2 is taken as 0: its term multiplies the outer product
 * of grad s, which vanishes there as fast as g2 grows. */
LC_HD double lc_ct_friction_f0(double s, double eps, double *g1, double *g2) {
  const double y = s > 0.0 ? sqrt(s) : 0.0;
  if (y >= eps) {
    *g1 = 0.5 / y;
    *g2 = -0.25 / (s * y);
    return y;
  }
  const double e2 = eps * eps;
  *g1 = 1.0 / eps - 0.5 * y / e2;
  *g2 = y > 0.0 ? -0.25 / (e2 * y) : 0.0;
  return (s > 0.0 ? s : 0.0) * (1.0 / eps - y / (3.0 * e2)) + eps / 3.0;
}

#endif
