/* broad.c - the contact broad phase on the CPU (broad.h): sweep and prune
 * along the axis where the box centres spread most.  Every primitive gets
 * an axis-aligned box over its positions at x and x + d, padded; boxes are
 * sorted by their low end on the axis and each one scans forward while the
 * next box starts before its high end.  Both passes (count, then write at
 * the prefix-summed offsets) run under OpenMP; the pairs are then sorted by
 * key, so the list does not depend on the threads.  The same sweep over
 * edges and faces counts intersections (lc_contact_intersections). */
#include "threads.h"
#include "broad.h"

#include "../energies/contact_geom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One primitive's box and identity in a sweep. */
typedef struct sbox {
  double lo[3], hi[3];
  double key;   /* lo on the sweep axis (the sort key) */
  int32_t id;   /* vertex, face or edge index */
  int16_t kind; /* 0: vertex, 1: face, 2: edge */
  int16_t still; /* 1: every vertex of the primitive is still (a static obstacle) */
} sbox;

/* What a sweep sorts and scans. */
typedef struct sweep {
  sbox *b;
  int64_t n;
  int axis;
  const int32_t *F, *E;
  int edge_face; /* 1: the edge-face sweep of lc_contact_intersections (no edge-edge pairs) */
} sweep;

/* Grows box b by the positions of vertex v at x and x + d. */
static void box_add(sbox *b, const double *x, const double *d, int32_t v) {
  for (int c = 0; c < 3; ++c) {
    const double p = x[3 * (int64_t)v + c], q = d ? p + d[3 * (int64_t)v + c] : p;
    b->lo[c] = fmin(b->lo[c], fmin(p, q));
    b->hi[c] = fmax(b->hi[c], fmax(p, q));
  }
}

/* The padded box of the k vertices vs[0..k) of a primitive; still: the
 * per-vertex mask of static vertices (NULL: none). */
static sbox make_box(const double *x, const double *d, const int32_t *vs, int k, double pad, int32_t id,
                     int kind, const uint8_t *still) {
  sbox b = {0}; /* key is set by the sweep */
  for (int c = 0; c < 3; ++c) b.lo[c] = INFINITY, b.hi[c] = -INFINITY;
  for (int a = 0; a < k; ++a) box_add(&b, x, d, vs[a]);
  for (int c = 0; c < 3; ++c) b.lo[c] -= pad, b.hi[c] += pad;
  b.id = id;
  b.kind = (int16_t)kind;
  b.still = still != NULL;
  for (int a = 0; still && a < k; ++a) b.still = (int16_t)(b.still && still[vs[a]]);
  return b;
}

/* Order of boxes by low end on the sweep axis (key), then kind and id. */
static int cmp_box(const void *pa, const void *pb) {
  const sbox *a = pa, *b = pb;
  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  if (a->kind != b->kind) return a->kind - b->kind;
  return (a->id > b->id) - (a->id < b->id);
}

/* The axis along which the box centres spread most. */
static int pick_axis(const sbox *b, int64_t n) {
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (int64_t i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c) {
      const double m = 0.5 * (b[i].lo[c] + b[i].hi[c]);
      lo[c] = fmin(lo[c], m);
      hi[c] = fmax(hi[c], m);
    }
  int ax = 0;
  for (int c = 1; c < 3; ++c)
    if (hi[c] - lo[c] > hi[ax] - lo[ax]) ax = c;
  return ax;
}

/* 1 if the boxes overlap on all three axes. */
static int overlap(const sbox *a, const sbox *b) {
  for (int c = 0; c < 3; ++c)
    if (a->lo[c] > b->hi[c] || b->lo[c] > a->hi[c]) return 0;
  return 1;
}

/* The pair key of boxes a, b if they form a candidate (else UINT64_MAX):
 * vertex-face with the vertex not a corner, or two edges sharing no vertex. */
static uint64_t pair_key(const sweep *s, const sbox *a, const sbox *b) {
  if (a->still && b->still) return UINT64_MAX; /* two static primitives: nothing moves */
  if (a->kind == 2 && b->kind == 2) {
    if (s->edge_face) return UINT64_MAX;
    const int32_t *ea = s->E + 2 * (int64_t)a->id, *eb = s->E + 2 * (int64_t)b->id;
    if (ea[0] == eb[0] || ea[0] == eb[1] || ea[1] == eb[0] || ea[1] == eb[1]) return UINT64_MAX;
    const uint32_t lo = (uint32_t)(a->id < b->id ? a->id : b->id), hi = (uint32_t)(a->id < b->id ? b->id : a->id);
    return (uint64_t)lo << 32 | hi;
  }
  if (a->kind + b->kind == 3) { /* edge-face: no shared vertex */
    const sbox *e = a->kind == 2 ? a : b, *f = a->kind == 2 ? b : a;
    const int32_t *ev = s->E + 2 * (int64_t)e->id, *t = s->F + 3 * (int64_t)f->id;
    for (int i = 0; i < 2; ++i)
      if (ev[i] == t[0] || ev[i] == t[1] || ev[i] == t[2]) return UINT64_MAX;
    return (uint64_t)(uint32_t)e->id << 32 | (uint32_t)f->id;
  }
  if (a->kind + b->kind != 1) return UINT64_MAX; /* vertex-vertex or face-face */
  const sbox *v = a->kind == 0 ? a : b, *f = a->kind == 0 ? b : a;
  const int32_t *t = s->F + 3 * (int64_t)f->id;
  if (t[0] == v->id || t[1] == v->id || t[2] == v->id) return UINT64_MAX;
  return (uint64_t)(uint32_t)v->id << 32 | (uint32_t)f->id;
}

/* Candidates of box i with the boxes after it in sweep order: counts them
 * (keys NULL) or writes their keys. */
static int64_t scan_one(const sweep *s, int64_t i, uint64_t *keys) {
  const sbox *a = &s->b[i];
  int64_t k = 0;
  for (int64_t j = i + 1; j < s->n && s->b[j].lo[s->axis] <= a->hi[s->axis]; ++j) {
    if (!overlap(a, &s->b[j])) continue;
    const uint64_t key = pair_key(s, a, &s->b[j]);
    if (key == UINT64_MAX) continue;
    if (keys) keys[k] = key;
    k++;
  }
  return k;
}

/* Ascending order of keys. */
static int cmp_key(const void *pa, const void *pb) {
  const uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
  return (a > b) - (a < b);
}

/* Runs the sweep over s->b: the sorted pair keys into *keys (malloc'ed,
 * *n of them). */
static int run_sweep(sweep *s, uint64_t **keys, int64_t *n, lc_error *err) {
  *keys = NULL;
  *n = 0;
  s->axis = pick_axis(s->b, s->n);
  for (int64_t i = 0; i < s->n; ++i) s->b[i].key = s->b[i].lo[s->axis];
  qsort(s->b, (size_t)s->n, sizeof *s->b, cmp_box);
  int64_t *off = malloc((size_t)(s->n + 1) * sizeof *off);
  if (!off) return lc_error_set(err, LC_ENOMEM, "contact broad phase: out of memory for %lld boxes", (long long)s->n);
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(dynamic, 256)
  for (int64_t i = 0; i < s->n; ++i) off[i + 1] = scan_one(s, i, NULL);
  off[0] = 0;
  for (int64_t i = 0; i < s->n; ++i) off[i + 1] += off[i];
  uint64_t *k = malloc((size_t)(off[s->n] > 0 ? off[s->n] : 1) * sizeof *k);
  if (!k) {
    const long long pairs = (long long)off[s->n];
    free(off);
    return lc_error_set(err, LC_ENOMEM, "contact broad phase: out of memory for %lld pairs", pairs);
  }
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(dynamic, 256)
  for (int64_t i = 0; i < s->n; ++i) scan_one(s, i, k + off[i]);
  *n = off[s->n];
  free(off);
  qsort(k, (size_t)*n, sizeof *k, cmp_key);
  *keys = k;
  return LC_OK;
}

/* Unpacks n keys into pairs (hi word, lo word). */
static int32_t *unpack(const uint64_t *keys, int64_t n) {
  int32_t *p = malloc((size_t)(n > 0 ? 2 * n : 1) * sizeof *p);
  for (int64_t i = 0; p && i < n; ++i) {
    p[2 * i] = (int32_t)(keys[i] >> 32);
    p[2 * i + 1] = (int32_t)(keys[i] & 0xffffffffu);
  }
  return p;
}

/* The pairs of one sweep over boxes b[0..n) into *pairs, *count. */
static int sweep_pairs(const lc_mesh *m, sbox *b, int64_t n, int32_t **pairs, int64_t *count, lc_error *err) {
  sweep s = {b, n, 0, lc_mesh_F(m), lc_mesh_edges(m), 0};
  uint64_t *keys = NULL;
  int rc = run_sweep(&s, &keys, count, err);
  if (rc) return rc;
  *pairs = unpack(keys, *count);
  free(keys);
  if (!*pairs) {
    *count = 0;
    return lc_error_set(err, LC_ENOMEM, "contact broad phase: out of memory for the pair list");
  }
  return LC_OK;
}

/* Finds the candidate pairs of m at x swept along d, padded by pad. */
int lc_contact_candidates(const lc_mesh *m, const double *x, const double *d, double pad, lc_pairs *out,
                          lc_error *err) {
  return lc_contact_candidates_still(m, x, d, pad, NULL, out, err);
}

/* As lc_contact_candidates, without the pairs whose vertices are all still. */
int lc_contact_candidates_still(const lc_mesh *m, const double *x, const double *d, double pad,
                                const uint8_t *still, lc_pairs *out, lc_error *err) {
  memset(out, 0, sizeof *out);
  if (!m) return lc_error_set(err, LC_EINVAL, "contact broad phase: no mesh");
  if (!(pad >= 0.0) || !isfinite(pad))
    return lc_error_set(err, LC_EINVAL, "contact broad phase: the padding must be finite and >= 0 (got %g)", pad);
  const int32_t nv = lc_mesh_nv(m), nf = lc_mesh_nf(m), ne = lc_mesh_ne(m);
  const int32_t *F = lc_mesh_F(m), *E = lc_mesh_edges(m);
  if (!x) x = lc_mesh_V(m);
  const int64_t npt = (int64_t)nv + nf;
  sbox *b = malloc((size_t)(npt > ne ? npt : ne > 0 ? ne : 1) * sizeof *b);
  if (!b) return lc_error_set(err, LC_ENOMEM, "contact broad phase: out of memory for %lld boxes", (long long)npt);
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static)
  for (int64_t i = 0; i < npt; ++i) {
    const int32_t v = (int32_t)i;
    b[i] = i < nv ? make_box(x, d, &v, 1, pad, v, 0, still)
                  : make_box(x, d, F + 3 * (i - nv), 3, pad, (int32_t)(i - nv), 1, still);
  }
  int rc = sweep_pairs(m, b, npt, &out->pt, &out->n_pt, err);
  if (!rc) {
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static)
    for (int32_t e = 0; e < ne; ++e) b[e] = make_box(x, d, E + 2 * (int64_t)e, 2, pad, e, 2, still);
    rc = sweep_pairs(m, b, ne, &out->ee, &out->n_ee, err);
  }
  free(b);
  if (rc) lc_pairs_free(out);
  return rc;
}

/* orient3d(a, b, c, d): 6 x the signed volume of (a, b, c, d). */
static double orient3d(const double *a, const double *b, const double *c, const double *d) {
  double u[3], v[3], w[3], n[3];
  lc_ct_sub(b, a, u);
  lc_ct_sub(c, a, v);
  lc_ct_sub(d, a, w);
  lc_ct_cross(u, v, n);
  return lc_ct_dot(n, w);
}

/* Largest |u|^2 over the segment and the triangle's edges. */
static double scale2(const double *p, const double *q, const double *a, const double *b, const double *c) {
  return fmax(fmax(lc_ct_d2_pp(p, q), lc_ct_d2_pp(a, b)), fmax(lc_ct_d2_pp(b, c), lc_ct_d2_pp(c, a)));
}

/* 1 if segment (p, q) crosses or touches triangle (a, b, c).  Signed
 * volumes within rounding of 0 (1e-12 L^3, L the longest edge) count as 0,
 * and a segment in the triangle's plane does not cross it. */
static int segment_hits_triangle(const double *p, const double *q, const double *a, const double *b,
                                 const double *c) {
  const double L2 = scale2(p, q, a, b, c), tol = 1e-12 * L2 * sqrt(L2);
  double o1 = orient3d(a, b, c, p), o2 = orient3d(a, b, c, q);
  if (fabs(o1) <= tol) o1 = 0.0;
  if (fabs(o2) <= tol) o2 = 0.0;
  if ((o1 > 0.0 && o2 > 0.0) || (o1 < 0.0 && o2 < 0.0) || (o1 == 0.0 && o2 == 0.0)) return 0;
  const double s1 = orient3d(p, q, a, b), s2 = orient3d(p, q, b, c), s3 = orient3d(p, q, c, a);
  return (s1 >= 0.0 && s2 >= 0.0 && s3 >= 0.0) || (s1 <= 0.0 && s2 <= 0.0 && s3 <= 0.0);
}

/* Counts the edge-triangle crossings of m at x (edges and faces that share
 * no vertex): 0 exactly when no two non-adjacent triangles intersect, up to
 * coplanar overlaps, which a barrier keeps apart before they happen. */
int lc_contact_intersections(const lc_mesh *m, const double *x, int64_t *count, lc_error *err) {
  return lc_contact_intersections_still(m, x, NULL, count, err);
}

/* As lc_contact_intersections, without crossings of two static primitives. */
int lc_contact_intersections_still(const lc_mesh *m, const double *x, const uint8_t *still, int64_t *count,
                                   lc_error *err) {
  *count = 0;
  if (!x) x = lc_mesh_V(m);
  const int32_t nf = lc_mesh_nf(m), ne = lc_mesh_ne(m);
  const int32_t *F = lc_mesh_F(m), *E = lc_mesh_edges(m);
  const int64_t n = (int64_t)ne + nf;
  sbox *b = malloc((size_t)(n > 0 ? n : 1) * sizeof *b);
  if (!b) return lc_error_set(err, LC_ENOMEM, "contact intersections: out of memory for %lld boxes", (long long)n);
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static)
  for (int64_t i = 0; i < n; ++i)
    b[i] = i < ne ? make_box(x, NULL, E + 2 * i, 2, 0.0, (int32_t)i, 2, still)
                  : make_box(x, NULL, F + 3 * (i - ne), 3, 0.0, (int32_t)(i - ne), 1, still);
  sweep s = {b, n, 0, F, E, 1};
  uint64_t *keys = NULL;
  int64_t nk = 0;
  int rc = run_sweep(&s, &keys, &nk, err);
  free(b);
  if (rc) return rc;
  int64_t hits = 0;
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) reduction(+ : hits)
  for (int64_t i = 0; i < nk; ++i) {
    const int32_t *e = E + 2 * (int64_t)(keys[i] >> 32), *t = F + 3 * (int64_t)(keys[i] & 0xffffffffu);
    hits += segment_hits_triangle(x + 3 * (int64_t)e[0], x + 3 * (int64_t)e[1], x + 3 * (int64_t)t[0],
                                  x + 3 * (int64_t)t[1], x + 3 * (int64_t)t[2]);
  }
  free(keys);
  *count = hits;
  return LC_OK;
}

/* The 4 vertices of every candidate as contact elements. */
void lc_pairs_elements(const lc_mesh *m, const lc_pairs *c, int32_t *pt_elems, int32_t *ee_elems) {
  const int32_t *F = lc_mesh_F(m), *E = lc_mesh_edges(m);
  for (int64_t i = 0; pt_elems && i < c->n_pt; ++i) {
    const int32_t *t = F + 3 * (int64_t)c->pt[2 * i + 1];
    int32_t *q = pt_elems + 4 * i;
    q[0] = c->pt[2 * i], q[1] = t[0], q[2] = t[1], q[3] = t[2];
  }
  for (int64_t i = 0; ee_elems && i < c->n_ee; ++i) {
    const int32_t *a = E + 2 * (int64_t)c->ee[2 * i], *b = E + 2 * (int64_t)c->ee[2 * i + 1];
    int32_t *q = ee_elems + 4 * i;
    q[0] = a[0], q[1] = a[1], q[2] = b[0], q[3] = b[1];
  }
}

/* The vertices q[4] of candidate i of c's pt (ee = 0) or ee list and their 12 values at x. */
void lc_pairs_local(const lc_mesh *m, const lc_pairs *c, int ee, int64_t i, const double *x, int32_t *q,
                    double *xl) {
  lc_pairs one = {0};
  if (ee) one.ee = c->ee + 2 * i, one.n_ee = 1;
  else one.pt = c->pt + 2 * i, one.n_pt = 1;
  lc_pairs_elements(m, &one, ee ? NULL : q, ee ? q : NULL);
  for (int a = 0; a < 4; ++a) memcpy(xl + 3 * a, x + 3 * (int64_t)q[a], 3 * sizeof *xl);
}

/* Keeps the pairs of one list of c (pt: ee = 0) closer than dist at x, in order; returns how many. */
static int64_t filter_list(const lc_mesh *m, const double *x, double dist, int ee, lc_pairs *c) {
  const double d2 = dist * dist;
  int32_t *list = ee ? c->ee : c->pt;
  const int64_t n = ee ? c->n_ee : c->n_pt;
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    int32_t q[4];
    double xl[12];
    lc_pairs_local(m, c, ee, i, x, q, xl);
    if (!(lc_ct_pair_d2(ee, xl) < d2)) continue;
    list[2 * k] = list[2 * i], list[2 * k + 1] = list[2 * i + 1];
    ++k;
  }
  return k;
}

/* Keeps the candidates of c closer than dist at x. */
void lc_pairs_filter(const lc_mesh *m, const double *x, double dist, lc_pairs *c) {
  c->n_pt = filter_list(m, x, dist, 0, c);
  c->n_ee = filter_list(m, x, dist, 1, c);
}

/* Frees the lists of c and empties it. */
void lc_pairs_free(lc_pairs *c) {
  if (!c) return;
  free(c->pt);
  free(c->ee);
  memset(c, 0, sizeof *c);
}
