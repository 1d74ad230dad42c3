/* registry.c - the table of built-in energies and their setup functions.
 *
 * The table is generated from LC_ENERGY_LIST: every instance contributes its
 * name, energy name and dimension from the list, and the rest of its entry
 * from the macro LC_SPEC_<instance> below (a missing spec does not compile).
 * Setup functions compute per-element constants from the rest mesh (3D
 * positions lc_mesh_V) exactly as docs/energies.md and
 * shared/benchmarks.md describe. */
#include "registry.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- small 3D helpers on rest positions --------------------------------- */

/* d = a - b */
static void r3_sub(const double *a, const double *b, double *d) {
  for (int c = 0; c < 3; ++c) d[c] = a[c] - b[c];
}

/* a . b */
static double r3_dot(const double *a, const double *b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* r = a x b */
static void r3_cross(const double *a, const double *b, double *r) {
  r[0] = a[1] * b[2] - a[2] * b[1];
  r[1] = a[2] * b[0] - a[0] * b[2];
  r[2] = a[0] * b[1] - a[1] * b[0];
}

/* |a| */
static double r3_norm(const double *a) { return sqrt(r3_dot(a, a)); }

/* Rest position of vertex v (3 doubles). */
static const double *rest_pos(const lc_mesh *m, int32_t v) { return lc_mesh_V(m) + 3 * (size_t)v; }

/* Area of the rest triangle (a, b, c). */
static double rest_area(const lc_mesh *m, int32_t a, int32_t b, int32_t c) {
  double u[3], v[3], n[3];
  r3_sub(rest_pos(m, b), rest_pos(m, a), u);
  r3_sub(rest_pos(m, c), rest_pos(m, a), v);
  r3_cross(u, v, n);
  return 0.5 * r3_norm(n);
}

/* Checks that the K entity indices are vertices of m; LC_ERANGE otherwise. */
static int check_verts(const lc_mesh *m, const int32_t *ent, int K, char *why) {
  for (int i = 0; i < K; ++i)
    if (ent[i] < 0 || ent[i] >= lc_mesh_nv(m)) {
      snprintf(why, 128, "vertex index %ld out of range [0, %ld)", (long)ent[i],
               (long)lc_mesh_nv(m));
      return LC_ERANGE;
    }
  return LC_OK;
}

/* Index of the edge (a, b) in the sorted edge list of m, or -1. */
static int32_t find_edge(const lc_mesh *m, int32_t a, int32_t b) {
  const int32_t *E = lc_mesh_edges(m);
  if (a > b) { int32_t t = a; a = b; b = t; }
  int32_t lo = 0, hi = lc_mesh_ne(m);
  while (lo < hi) {
    int32_t mid = lo + (hi - lo) / 2;
    const int32_t *e = E + 2 * (size_t)mid;
    if (e[0] < a || (e[0] == a && e[1] < b)) lo = mid + 1;
    else hi = mid;
  }
  return lo < lc_mesh_ne(m) && E[2 * lo] == a && E[2 * lo + 1] == b ? lo : -1;
}

/* Rest area of face f. */
static double face_area(const lc_mesh *m, int32_t f) {
  const int32_t *t = lc_mesh_F(m) + 3 * (size_t)f;
  return rest_area(m, t[0], t[1], t[2]);
}

/* One third of the rest areas of the faces incident to vertex v.  Walks the
 * edges at v: every incident face has two edges at v, hence the 1/6. */
static double lumped_area(const lc_mesh *m, int32_t v) {
  const int32_t *ptr = lc_mesh_vadj_ptr(m), *adj = lc_mesh_vadj(m);
  const int32_t *ef = lc_mesh_edge_faces(m);
  double sum = 0.0;
  for (int32_t i = ptr[v]; i < ptr[v + 1]; ++i) {
    int32_t e = find_edge(m, v, adj[i]);
    if (e < 0) continue;
    for (int s = 0; s < 2; ++s)
      if (ef[2 * e + s] >= 0) sum += face_area(m, ef[2 * e + s]);
  }
  return sum / 6.0;
}

/* ---- setup functions ------------------------------------------------------ */

/* Rest length of the edge ent[0]-ent[1] into k[0]; error when zero. */
static int setup_length(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p,
                        double *k, char *why) {
  (void)elem;
  (void)p;
  int rc = check_verts(m, ent, 2, why);
  if (rc) return rc;
  double d[3];
  r3_sub(rest_pos(m, ent[1]), rest_pos(m, ent[0]), d);
  k[0] = r3_norm(d);
  if (!(k[0] > 0.0) || !isfinite(k[0])) {
    snprintf(why, 128, "edge (%ld, %ld) has zero rest length", (long)ent[0], (long)ent[1]);
    return LC_EMESH;
  }
  return LC_OK;
}

/* k[0..dim-1] = the first dim coordinates of the rest position of v, zero-padded. */
static void rest_coords(const lc_mesh *m, int32_t v, int dim, double *k) {
  for (int c = 0; c < dim; ++c) k[c] = c < 3 ? rest_pos(m, v)[c] : 0.0;
}

/* Lumped mass density * (1/3 incident rest area) of vertex ent[0] into k[0]
 * and, when dim > 0, its rest position into k[1..dim]. */
static int setup_mass(const lc_mesh *m, const int32_t *ent, double density, int dim, double *k,
                      char *why) {
  int rc = check_verts(m, ent, 1, why);
  if (rc) return rc;
  k[0] = density * lumped_area(m, ent[0]);
  rest_coords(m, ent[0], dim, k + 1);
  return LC_OK;
}

/* inertia_2: [m, x~(2)] */
static int setup_inertia_2(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p,
                           double *k, char *why) {
  (void)elem;
  return setup_mass(m, ent, p[0], 2, k, why);
}

/* inertia_3: [m, x~(3)] */
static int setup_inertia_3(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p,
                           double *k, char *why) {
  (void)elem;
  return setup_mass(m, ent, p[0], 3, k, why);
}

/* gravity_3: [m], density in p[3] */
static int setup_gravity(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p,
                         double *k, char *why) {
  (void)elem;
  return setup_mass(m, ent, p[3], 0, k, why);
}

/* Rest position (first dim coordinates, zero-padded) of vertex ent[0] into k. */
static int setup_pos(const lc_mesh *m, const int32_t *ent, int dim, double *k, char *why) {
  int rc = check_verts(m, ent, 1, why);
  if (rc) return rc;
  rest_coords(m, ent[0], dim, k);
  return LC_OK;
}

#define LC_SETUP_POS_(dim)                                                               \
  /* [t(dim)]: the rest position */                                                      \
  static int setup_pos_##dim(const lc_mesh *m, int32_t elem, const int32_t *ent,         \
                             const double *p, double *k, char *why) {                    \
    (void)elem;                                                                          \
    (void)p;                                                                             \
    return setup_pos(m, ent, dim, k, why);                                               \
  }
LC_SETUP_POS_(1)
LC_SETUP_POS_(2)
LC_SETUP_POS_(3)
LC_SETUP_POS_(4)

/* Rest frame of the triangle (p0, p1, p2): k[0..3] = Mr^-1 (row-major), k[4] = A. */
static int rest_frame(const double *p0, const double *p1, const double *p2, double *k) {
  double a[3], b[3], r[3];
  r3_sub(p1, p0, a);
  r3_sub(p2, p0, b);
  const double l = r3_norm(a), lb = r3_norm(b);
  if (!(l > 0.0) || !isfinite(l) || !isfinite(lb)) return LC_EMESH;
  const double xi = r3_dot(b, a) / l;
  for (int c = 0; c < 3; ++c) r[c] = b[c] - xi * a[c] / l;
  const double eta = r3_norm(r);
  if (!(eta > 64.0 * DBL_EPSILON * fmax(l, lb))) return LC_EMESH;
  k[0] = 1.0 / l;
  k[1] = -xi / (l * eta);
  k[2] = 0.0;
  k[3] = 1.0 / eta;
  k[4] = 0.5 * l * eta;
  return LC_OK;
}

/* Face energies: [Mr^-1 (4), A] from the rest triangle ent[0..2]. */
static int setup_frame(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p,
                       double *k, char *why) {
  (void)elem;
  (void)p;
  int rc = check_verts(m, ent, 3, why);
  if (rc) return rc;
  if (rest_frame(rest_pos(m, ent[0]), rest_pos(m, ent[1]), rest_pos(m, ent[2]), k)) {
    snprintf(why, 128, "triangle (%ld, %ld, %ld) has zero rest area", (long)ent[0],
             (long)ent[1], (long)ent[2]);
    return LC_EMESH;
  }
  return LC_OK;
}

/* Signed dihedral angle of the flap (x0, x1, x2, x3), as in e_bending.h. */
static double flap_angle(const double *x0, const double *x1, const double *x2,
                         const double *x3) {
  double e[3], a[3], b[3], c[3], n0[3], n1[3], nn[3];
  r3_sub(x1, x0, e);
  r3_sub(x2, x0, a);
  r3_cross(e, a, n0);
  r3_sub(x0, x1, b);
  r3_sub(x3, x1, c);
  r3_cross(b, c, n1);
  r3_cross(n0, n1, nn);
  const double il = 1.0 / r3_norm(e);
  for (int i = 0; i < 3; ++i) e[i] *= il;
  return atan2(r3_dot(nn, e), r3_dot(n0, n1));
}

/* bending: [theta_bar, |e_bar|^2 / A_bar], A_bar = (A0 + A1) / 3. */
static int setup_bending(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p,
                         double *k, char *why) {
  (void)elem;
  (void)p;
  int rc = check_verts(m, ent, 4, why);
  if (rc) return rc;
  const double *x0 = rest_pos(m, ent[0]), *x1 = rest_pos(m, ent[1]);
  const double *x2 = rest_pos(m, ent[2]), *x3 = rest_pos(m, ent[3]);
  double f0[5], f1[5], e[3];
  if (rest_frame(x0, x1, x2, f0) || rest_frame(x1, x0, x3, f1)) {
    snprintf(why, 128, "flap (%ld, %ld, %ld, %ld) has a zero-area rest face", (long)ent[0],
             (long)ent[1], (long)ent[2], (long)ent[3]);
    return LC_EMESH;
  }
  r3_sub(x1, x0, e);
  k[0] = flap_angle(x0, x1, x2, x3);
  k[1] = r3_dot(e, e) / ((f0[4] + f1[4]) / 3.0);
  return LC_OK;
}

/* cot of the rest angle at vertex o of the triangle (o, a, b); 0 on failure. */
static int rest_cot(const lc_mesh *m, int32_t o, int32_t a, int32_t b, double *cot) {
  double u[3], v[3], n[3];
  r3_sub(rest_pos(m, a), rest_pos(m, o), u);
  r3_sub(rest_pos(m, b), rest_pos(m, o), v);
  r3_cross(u, v, n);
  const double s = r3_norm(n);
  if (!(s > 64.0 * DBL_EPSILON * r3_norm(u) * r3_norm(v))) return LC_EMESH;
  *cot = r3_dot(u, v) / s;
  return LC_OK;
}

/* The vertex of face f that is neither a nor b. */
static int32_t face_opposite(const lc_mesh *m, int32_t f, int32_t a, int32_t b) {
  const int32_t *t = lc_mesh_F(m) + 3 * (size_t)f;
  for (int i = 0; i < 3; ++i)
    if (t[i] != a && t[i] != b) return t[i];
  return -1;
}

/* cot_dirichlet: [w], w = 1/2 (cot alpha + cot beta) of mesh edge elem. */
static int setup_cot(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p,
                     double *k, char *why) {
  (void)p;
  if (elem < 0 || elem >= lc_mesh_ne(m)) {
    snprintf(why, 128, "cot_dirichlet needs mesh edges (element %ld)", (long)elem);
    return LC_EINVAL;
  }
  const int32_t *e = lc_mesh_edges(m) + 2 * (size_t)elem;
  const int32_t *ef = lc_mesh_edge_faces(m) + 2 * (size_t)elem;
  double w = 0.0;
  for (int s = 0; s < 2; ++s) {
    if (ef[s] < 0) continue;
    double c;
    if (rest_cot(m, face_opposite(m, ef[s], e[0], e[1]), e[0], e[1], &c)) {
      snprintf(why, 128, "edge (%ld, %ld) has a zero-area rest face", (long)ent[0], (long)ent[1]);
      return LC_EMESH;
    }
    w += 0.5 * c;
  }
  k[0] = w;
  return LC_OK;
}

/* ---- the table ------------------------------------------------------------ */

#define LC_FRAME_DOC \
  "Minv(4): rest frame Mr^-1 row-major [1/l, -xi/(l eta), 0, 1/eta]; A: rest area l eta / 2"

/* Flip-free step bound of a 2D triangle (max_step.h, shared with the
 * device backends). */
static double max_step_flip2(const double *x, const double *d, const double *k, const double *p) {
  return lc_max_step_elem(LC_BOUND_FLIP2, x, d, k, p);
}

#define LC_SPEC_SPRING_                                                                 \
  .kind = LC_ELEM_EDGE, .K = 2, .n_const = 1, .n_param = 1, .param_names = {"k"},       \
  .param_defaults = {1.0}, .const_doc = "L: rest length |p_j - p_i| (3D rest mesh)",   \
  .setup = setup_length, .formula = "E = 1/2 k (|x_j - x_i| - L)^2"
#define LC_SPEC_spring_2 LC_SPEC_SPRING_
#define LC_SPEC_spring_3 LC_SPEC_SPRING_

#define LC_SPEC_INERTIA_(dim)                                                          \
  .kind = LC_ELEM_VERTEX, .K = 1, .n_const = 1 + (dim), .n_param = 1,                  \
  .param_names = {"density"}, .param_defaults = {1.0},                                 \
  .const_doc = "m: density * 1/3 incident rest face areas; xt(D): rest position",       \
  .setup = setup_inertia_##dim, .formula = "E = 1/2 m |x - xt|^2"
#define LC_SPEC_inertia_2 LC_SPEC_INERTIA_(2)
#define LC_SPEC_inertia_3 LC_SPEC_INERTIA_(3)

#define LC_SPEC_gravity_3                                                              \
  .kind = LC_ELEM_VERTEX, .K = 1, .n_const = 1, .n_param = 4,                          \
  .param_names = {"gx", "gy", "gz", "density"}, .param_defaults = {0.0, 0.0, -9.8, 1.0}, \
  .const_doc = "m: density * 1/3 incident rest face areas", .setup = setup_gravity,     \
  .formula = "E = -m g.x"

#define LC_SPEC_TARGET_(dim)                                                           \
  .kind = LC_ELEM_VERTEX, .K = 1, .n_const = (dim), .n_param = 1, .param_names = {"k"}, \
  .param_defaults = {1.0}, .const_doc = "t(D): target, default the rest position (zero-padded)", \
  .setup = setup_pos_##dim, .formula = "E = 1/2 k |x - t|^2"
#define LC_SPEC_target_1 LC_SPEC_TARGET_(1)
#define LC_SPEC_target_2 LC_SPEC_TARGET_(2)
#define LC_SPEC_target_3 LC_SPEC_TARGET_(3)
#define LC_SPEC_target_4 LC_SPEC_TARGET_(4)

#define LC_SPEC_stvk_3                                                                 \
  .kind = LC_ELEM_FACE, .K = 3, .n_const = 5, .n_param = 2,                            \
  .param_names = {"mu", "lambda"}, .param_defaults = {1.0, 1.0}, .const_doc = LC_FRAME_DOC, \
  .setup = setup_frame,                                                                \
  .formula = "F = [x1-x0, x2-x0] Mr^-1, E = (F^T F - I)/2, W = A (mu |E|^2 + lambda/2 tr(E)^2)"

#define LC_SPEC_neohookean_3                                                           \
  .kind = LC_ELEM_FACE, .K = 3, .n_const = 5, .n_param = 2,                            \
  .param_names = {"mu", "lambda"}, .param_defaults = {1.0, 1.0}, .const_doc = LC_FRAME_DOC, \
  .setup = setup_frame,                                                                \
  .formula = "C = F^T F, J = sqrt(det C), W = A (mu/2 (tr C - 2) - mu log J + lambda/2 log(J)^2)"

#define LC_SPEC_bending_3                                                              \
  .kind = LC_ELEM_FLAP, .K = 4, .n_const = 2, .n_param = 1, .param_names = {"k"},      \
  .param_defaults = {1.0},                                                             \
  .const_doc = "theta_bar: rest dihedral angle; w: |e_bar|^2 / A_bar, A_bar = (A0 + A1)/3", \
  .setup = setup_bending,                                                              \
  .formula = "theta = atan2((n0 x n1).e, n0.n1), E = k (theta - theta_bar)^2 w"

#define LC_SPEC_symdir_2                                                               \
  .kind = LC_ELEM_FACE, .K = 3, .n_const = 5, .n_param = 0, .const_doc = LC_FRAME_DOC, \
  .setup = setup_frame, .max_step = max_step_flip2, .bound = LC_BOUND_FLIP2,            \
  .formula = "J = [u1-u0, u2-u0] Mr^-1, E = A (|J|^2 + |J^-1|^2) if det M > 0 else +inf"

#define LC_SPEC_arap_2                                                                 \
  .kind = LC_ELEM_FACE, .K = 3, .n_const = 5, .n_param = 0, .const_doc = LC_FRAME_DOC, \
  .setup = setup_frame,                                                                \
  .formula = "J = [u1-u0, u2-u0] Mr^-1, E = A |J - R(J)|^2, R(J) the closest rotation"
#define LC_SPEC_arap_3                                                                 \
  .kind = LC_ELEM_FACE, .K = 3, .n_const = 5, .n_param = 0, .const_doc = LC_FRAME_DOC, \
  .setup = setup_frame,                                                                \
  .formula = "F = [x1-x0, x2-x0] Mr^-1, E = A (|F|^2 + 2 - 2 (sigma1 + sigma2))"

#define LC_SPEC_DIRICHLET_                                                             \
  .kind = LC_ELEM_EDGE, .K = 2, .n_const = 0, .n_param = 0, .const_doc = "",          \
  .setup = NULL, .formula = "E = |x_i - x_j|^2"
#define LC_SPEC_dirichlet_1 LC_SPEC_DIRICHLET_
#define LC_SPEC_dirichlet_2 LC_SPEC_DIRICHLET_
#define LC_SPEC_dirichlet_3 LC_SPEC_DIRICHLET_
#define LC_SPEC_dirichlet_4 LC_SPEC_DIRICHLET_

#define LC_SPEC_COT_                                                                   \
  .kind = LC_ELEM_EDGE, .K = 2, .n_const = 1, .n_param = 0,                            \
  .const_doc = "w: 1/2 (cot alpha + cot beta) of the rest angles opposite the edge",   \
  .setup = setup_cot, .formula = "E = w |x_i - x_j|^2"
#define LC_SPEC_cot_dirichlet_1 LC_SPEC_COT_
#define LC_SPEC_cot_dirichlet_2 LC_SPEC_COT_
#define LC_SPEC_cot_dirichlet_3 LC_SPEC_COT_

#define LC_SPEC_area_2                                                                 \
  .kind = LC_ELEM_FACE, .K = 3, .n_const = 0, .n_param = 0, .const_doc = "",           \
  .setup = NULL, .formula = "E = 1/2 (x1 - x0) x (x2 - x0) (signed)"
#define LC_SPEC_area_3                                                                 \
  .kind = LC_ELEM_FACE, .K = 3, .n_const = 0, .n_param = 0, .const_doc = "",           \
  .setup = NULL, .formula = "E = 1/2 |(x1 - x0) x (x2 - x0)|"

#define LC_SPEC_sphere_param_3                                                         \
  .kind = LC_ELEM_FACE, .K = 3, .n_const = 0, .n_param = 1,                            \
  .param_names = {"edge_weight"}, .param_defaults = {1.0}, .const_doc = "", .setup = NULL, \
  .formula = "E = -log(det[x0,x1,x2]/6) + w (|x1-x0|^2 + |x2-x1|^2 + |x0-x2|^2) if det > 0 " \
             "else +inf"

#define LC_SPEC_RES_POSITION_(dim)                                                     \
  .kind = LC_ELEM_VERTEX, .K = 1, .n_const = (dim), .n_resid = (dim), .n_param = 0,    \
  .const_doc = "t(D): target, default the rest position", .setup = setup_pos_##dim,    \
  .formula = "r = x - t, E = 1/2 |r|^2"
#define LC_SPEC_res_position_2 LC_SPEC_RES_POSITION_(2)
#define LC_SPEC_res_position_3 LC_SPEC_RES_POSITION_(3)

#define LC_SPEC_RES_EDGE_LENGTH_                                                       \
  .kind = LC_ELEM_EDGE, .K = 2, .n_const = 1, .n_resid = 1, .n_param = 0,              \
  .const_doc = "L: rest length |p_j - p_i| (3D rest mesh)", .setup = setup_length,     \
  .formula = "r = |x_j - x_i| - L, E = 1/2 r^2"
#define LC_SPEC_res_edge_length_2 LC_SPEC_RES_EDGE_LENGTH_
#define LC_SPEC_res_edge_length_3 LC_SPEC_RES_EDGE_LENGTH_

/* Pair weight 1 (contact_pt; the caller may supply area weights). */
static int setup_contact_pt(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p,
                            double *k, char *why) {
  (void)elem;
  (void)p;
  int rc = check_verts(m, ent, 4, why);
  if (rc) return rc;
  k[0] = 1.0;
  return LC_OK;
}

/* Pair weight 1 and the mollifier threshold of the rest edges (contact_ee). */
static int setup_contact_ee(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p,
                            double *k, char *why) {
  (void)elem;
  (void)p;
  int rc = check_verts(m, ent, 4, why);
  if (rc) return rc;
  double ua[3], ub[3];
  r3_sub(rest_pos(m, ent[1]), rest_pos(m, ent[0]), ua);
  r3_sub(rest_pos(m, ent[3]), rest_pos(m, ent[2]), ub);
  k[0] = 1.0;
  k[1] = lc_ct_moll_eps(ua, ub);
  return LC_OK;
}

/* Conservative step bounds of the contact pairs (max_step.h). */
static double max_step_ccd_pt(const double *x, const double *d, const double *k, const double *p) {
  return lc_max_step_elem(LC_BOUND_CCD_PT, x, d, k, p);
}
static double max_step_ccd_ee(const double *x, const double *d, const double *k, const double *p) {
  return lc_max_step_elem(LC_BOUND_CCD_EE, x, d, k, p);
}

static double max_step_margin(const double *x, const double *d, const double *k, const double *p) {
  return lc_max_step_elem(LC_BOUND_MARGIN, x, d, k, p);
}

/* [x_ref(3), r]: the rest position and radius 1e-3 (contact_margin). */
static int setup_margin(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p, double *k,
                        char *why) {
  (void)elem;
  (void)p;
  int rc = setup_pos(m, ent, 3, k, why);
  k[3] = 1e-3;
  return rc;
}

#define LC_SPEC_contact_margin_3                                                       \
  .kind = LC_ELEM_VERTEX, .K = 1, .n_const = 4, .n_param = 0,                          \
  .const_doc = "x_ref(3), r: reference position (default the rest position) and radius (default 1e-3)", \
  .setup = setup_margin, .max_step = max_step_margin, .bound = LC_BOUND_MARGIN,        \
  .formula = "E = 0; the line search keeps |x - x_ref| <= r"

static double max_step_plane(const double *x, const double *d, const double *k, const double *p) {
  return lc_max_step_elem(LC_BOUND_PLANE, x, d, k, p);
}

#define LC_SPEC_contact_plane_3                                                        \
  .kind = LC_ELEM_VERTEX, .K = 1, .n_const = 0, .n_param = 8,                          \
  .param_names = {"dhat", "dmin", "ox", "oy", "oz", "nx", "ny", "nz"},                 \
  .param_defaults = {1e-3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0}, .const_doc = "",        \
  .setup = NULL, .max_step = max_step_plane, .bound = LC_BOUND_PLANE,                  \
  .formula = "d = n.(x - o) (n unit), s = d^2 - dmin^2, E = -(s - sh)^2 ln(s/sh) for s < sh " \
             "= (2 dmin + dhat) dhat, 0 beyond, +inf for d <= dmin"

/* friction_pair default: lagged at the rest state as a point-triangle pair
 * (closest points, normal, c), with no force (mu lambda = 0). */
static int setup_friction_pair(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p, double *k,
                               char *why) {
  (void)elem;
  (void)p;
  double x[12];
  int rc = check_verts(m, ent, 4, why);
  if (rc) return rc;
  for (int a = 0; a < 4; ++a) memcpy(x + 3 * a, rest_pos(m, ent[a]), 3 * sizeof *x);
  lc_ct_closest_weights(lc_ct_classify_pt(x), x, k);
  for (int j = 0; j < 3; ++j) k[7 + j] = k[0] * x[j] + k[1] * x[3 + j] + k[2] * x[6 + j] + k[3] * x[9 + j];
  const double l = sqrt(lc_ct_dot(k + 7, k + 7));
  for (int j = 0; j < 3; ++j) k[4 + j] = l > 0.0 ? k[7 + j] / l : (j == 2);
  k[10] = 0.0;
  return LC_OK;
}

/* friction_point default: normal +z, lagged at the rest position, no force. */
static int setup_friction_point(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p, double *k,
                                char *why) {
  (void)elem;
  (void)p;
  int rc = check_verts(m, ent, 1, why);
  if (rc) return rc;
  k[0] = k[1] = 0.0, k[2] = 1.0;
  memcpy(k + 3, rest_pos(m, ent[0]), 3 * sizeof *k);
  k[6] = 0.0;
  return LC_OK;
}

#define LC_SPEC_friction_pair_3                                                        \
  .kind = LC_ELEM_LIST, .K = 4, .n_const = 11, .n_param = 1, .param_names = {"eps"},   \
  .param_defaults = {1e-5}, .setup = setup_friction_pair,                              \
  .const_doc = "w(4): closest-point weights; n(3): unit normal; c(3): sum w x at the step's " \
               "start; mu_lambda: friction coefficient x lagged normal force (default: the " \
               "rest state as a point-triangle pair, mu_lambda 0)",                    \
  .formula = "v = sum w_a x_a - c, s = |v|^2 - (n.v)^2, E = mu_lambda f0(sqrt(s)), f0(y) = " \
             "-y^3/(3 eps^2) + y^2/eps + eps/3 for y < eps, else y"
#define LC_SPEC_friction_point_3                                                       \
  .kind = LC_ELEM_VERTEX, .K = 1, .n_const = 7, .n_param = 1, .param_names = {"eps"},  \
  .param_defaults = {1e-5}, .setup = setup_friction_point,                             \
  .const_doc = "n(3): obstacle unit normal; c(3): the vertex at the step's start; "    \
               "mu_lambda: friction coefficient x lagged normal force (default: +z, the " \
               "rest position, mu_lambda 0)",                                          \
  .formula = "v = x - c, s = |v|^2 - (n.v)^2, E = mu_lambda f0(sqrt(s)) (as friction_pair)"

/* ---- frame fields (face variables, D = 4; reference-values.md section 2) ---- */

/* ebar_f, ebar_g (Re, Im each, into e[4]) of the edge shared by faces
 * ent[0] and ent[1]: the conjugate of the unit edge direction in each
 * face's frame. */
static int edge_conj_dirs(const lc_mesh *m, const int32_t *ent, double *e, char *why) {
  const int32_t nf = lc_mesh_nf(m);
  if (ent[0] < 0 || ent[0] >= nf || ent[1] < 0 || ent[1] >= nf) {
    snprintf(why, 128, "face index out of range [0, %ld)", (long)nf);
    return LC_ERANGE;
  }
  const int32_t *f = lc_mesh_F(m) + 3 * (int64_t)ent[0], *g = lc_mesh_F(m) + 3 * (int64_t)ent[1];
  int32_t sh[2], n = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      if (f[i] == g[j] && n < 2) sh[n++] = f[i];
  if (n != 2 || ent[0] == ent[1]) {
    snprintf(why, 128, "faces %ld and %ld share no edge", (long)ent[0], (long)ent[1]);
    return LC_EINVAL;
  }
  double u[3], b1[3], b2[3];
  r3_sub(rest_pos(m, sh[1]), rest_pos(m, sh[0]), u);
  const double l = r3_norm(u);
  for (int c = 0; c < 3; ++c) u[c] /= l;
  for (int k = 0; k < 2; ++k) {
    lc_mesh_face_frame(m, ent[k], b1, b2);
    e[2 * k] = r3_dot(b1, u);
    e[2 * k + 1] = -r3_dot(b2, u);
  }
  return LC_OK;
}

/* [t]: the transport ebar_f / ebar_g (ff_smooth). */
static int setup_ff_smooth(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p, double *k,
                           char *why) {
  (void)elem;
  (void)p;
  double e[4];
  int rc = edge_conj_dirs(m, ent, e, why);
  if (rc) return rc;
  const double d = e[2] * e[2] + e[3] * e[3];
  k[0] = (e[0] * e[2] + e[1] * e[3]) / d;
  k[1] = (e[1] * e[2] - e[0] * e[3]) / d;
  return LC_OK;
}

/* [ebar_f, ebar_g] (ff_curl). */
static int setup_ff_curl(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p, double *k,
                         char *why) {
  (void)elem;
  (void)p;
  return edge_conj_dirs(m, ent, k, why);
}

/* [0, 0, 0, 0]: the reference field (ff_close); the caller sets it. */
static int setup_ff_close(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p, double *k,
                          char *why) {
  (void)elem;
  (void)p;
  if (ent[0] < 0 || ent[0] >= lc_mesh_nf(m)) {
    snprintf(why, 128, "face index %ld out of range [0, %ld)", (long)ent[0], (long)lc_mesh_nf(m));
    return LC_ERANGE;
  }
  k[0] = k[1] = k[2] = k[3] = 0.0;
  return LC_OK;
}

static double max_step_ff_orient(const double *x, const double *d, const double *k, const double *p) {
  return lc_max_step_elem(LC_BOUND_FF_ORIENT, x, d, k, p);
}

#define LC_SPEC_ff_smooth_4                                                            \
  .kind = LC_ELEM_FACE_PAIR, .loc = LC_LOC_FACE, .K = 2, .n_const = 2, .n_resid = 4,   \
  .n_param = 0, .const_doc = "t(2): transport ebar_f / ebar_g across the shared edge (rest mesh)", \
  .setup = setup_ff_smooth,                                                            \
  .formula = "C0 = a^2 b^2, C2 = -(a^2 + b^2) per face (a = x0 + i x1, b = x2 + i x3); r = "  \
             "(C0_f t^4 - C0_g, C2_f t^2 - C2_g) (Re, Im)"
#define LC_SPEC_ff_curl_4                                                              \
  .kind = LC_ELEM_FACE_PAIR, .loc = LC_LOC_FACE, .K = 2, .n_const = 4, .n_resid = 3,   \
  .n_param = 2, .param_names = {"wc", "wq"}, .param_defaults = {100.0, 10.0},          \
  .const_doc = "ebar_f(2), ebar_g(2): conjugate edge direction in each face's frame", \
  .setup = setup_ff_curl,                                                              \
  .formula = "a = Re(alpha ebar), b = Re(beta ebar); r = (wc (a_f^2 b_f^2 - a_g^2 b_g^2), "  \
             "sqrt(wc) (c2_f - c2_g), sqrt(wq) ((b_f^2 - a_f^2) a_g b_g - (b_g^2 - a_g^2) a_f b_f))"
#define LC_SPEC_ff_close_4                                                             \
  .kind = LC_ELEM_VERTEX, .loc = LC_LOC_FACE, .K = 1, .n_const = 4, .n_resid = 4,      \
  .n_param = 0, .const_doc = "ref(4): the reference alpha, beta (default 0)",          \
  .setup = setup_ff_close, .formula = "r = (alpha - alpha_ref, beta - beta_ref) (Re, Im)"
#define LC_SPEC_ff_barrier_4                                                           \
  .kind = LC_ELEM_VERTEX, .loc = LC_LOC_FACE, .K = 1, .n_const = 0, .n_resid = 1,      \
  .n_param = 2, .param_names = {"s", "w"}, .param_defaults = {0.9, 0.1}, .const_doc = "", \
  .setup = NULL, .max_step = max_step_ff_orient, .bound = LC_BOUND_FF_ORIENT,          \
  .formula = "x = Im(beta conj(alpha)); r = sqrt(w) (1/g - 1), g = x^3/s^3 - 3x^2/s^2 + 3x/s, " \
             "for 0 < x < s; 0 beyond; +inf for x <= 0"

/* ed_fit: [p(3), q(3)] the rest position and the target (default p). */
static int setup_ed_fit(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p, double *k,
                        char *why) {
  (void)elem;
  (void)p;
  int rc = check_verts(m, ent, 1, why);
  if (rc) return rc;
  rest_coords(m, ent[0], 3, k);
  rest_coords(m, ent[0], 3, k + 3);
  return LC_OK;
}

/* ed_reg: [e(3)] = p_j - p_i of the rest mesh. */
static int setup_ed_reg(const lc_mesh *m, int32_t elem, const int32_t *ent, const double *p, double *k,
                        char *why) {
  (void)elem;
  (void)p;
  int rc = check_verts(m, ent, 2, why);
  if (rc) return rc;
  r3_sub(rest_pos(m, ent[1]), rest_pos(m, ent[0]), k);
  return LC_OK;
}

#define LC_SPEC_ed_fit_12                                                              \
  .kind = LC_ELEM_VERTEX, .K = 1, .n_const = 6, .n_resid = 3, .n_param = 1,            \
  .param_names = {"w"}, .param_defaults = {3.0},                                       \
  .const_doc = "p(3): rest position; q(3): target (default p)", .setup = setup_ed_fit, \
  .formula = "x = [t(3), A(9) row-major]; r = sqrt(w) (p + t - q)"
#define LC_SPEC_ed_rot_12                                                              \
  .kind = LC_ELEM_VERTEX, .K = 1, .n_const = 0, .n_resid = 6, .n_param = 1,            \
  .param_names = {"w"}, .param_defaults = {5.0}, .const_doc = "", .setup = NULL,       \
  .formula = "x = [t(3), A(9) row-major], columns c_k of A; r = sqrt(w) (c0.c1, c0.c2, " \
             "c1.c2, |c0|^2 - 1, |c1|^2 - 1, |c2|^2 - 1)"
#define LC_SPEC_ed_reg_12                                                              \
  .kind = LC_ELEM_EDGE, .K = 2, .n_const = 3, .n_resid = 6, .n_param = 1,              \
  .param_names = {"w"}, .param_defaults = {12.0},                                      \
  .const_doc = "e(3): p_j - p_i (rest mesh)", .setup = setup_ed_reg,                   \
  .formula = "x = [t(3), A(9) row-major] per vertex, e = p_j - p_i; r = sqrt(w) (A_i e - e + " \
             "t_i - t_j, -A_j e + e + t_j - t_i)"

#define LC_CONTACT_PARAMS_                                                             \
  .kind = LC_ELEM_LIST, .K = 4, .n_param = 2, .param_names = {"dhat", "dmin"},         \
  .param_defaults = {1e-3, 0.0}
#define LC_SPEC_contact_pt_3                                                           \
  LC_CONTACT_PARAMS_, .n_const = 1, .const_doc = "w: pair weight (1 from the setup)",  \
  .setup = setup_contact_pt, .max_step = max_step_ccd_pt, .bound = LC_BOUND_CCD_PT,    \
  .formula = "s = d^2 - dmin^2 (d: point-triangle distance), E = -w (s - sh)^2 ln(s/sh) " \
             "for s < sh = (2 dmin + dhat) dhat, 0 beyond, +inf for s <= 0"
#define LC_SPEC_contact_ee_3                                                           \
  LC_CONTACT_PARAMS_, .n_const = 2,                                                    \
  .const_doc = "w: pair weight (1 from the setup); eps: 1e-3 |ua|^2 |ub|^2 of the rest edges", \
  .setup = setup_contact_ee, .max_step = max_step_ccd_ee, .bound = LC_BOUND_CCD_EE,    \
  .formula = "as contact_pt on the edge-edge distance, times m(c) = (2 - c/eps) c/eps for " \
             "c = |ua x ub|^2 < eps"

/* .loc defaults to LC_LOC_VERTEX (0); face energies set it in their spec. */
#define LC_ENERGY_ENTRY_(inst_, name_, dim_)                                           \
  {.inst = #inst_, .name = name_, .dim = (dim_), LC_CAT(LC_SPEC_, inst_)},

static const lc_energy_info lc_energies[] = {LC_ENERGY_LIST(LC_ENERGY_ENTRY_)};

_Static_assert(sizeof lc_energies / sizeof lc_energies[0] == LC_E_COUNT,
               "registry table out of sync with LC_ENERGY_LIST");

/* The info of energy id (0 <= id < LC_E_COUNT), or NULL. */
const lc_energy_info *lc_energy_get(int id) {
  return id >= 0 && id < LC_E_COUNT ? &lc_energies[id] : NULL;
}

/* Finds the instance of energy `name` for variables of dimension dim;
 * returns its id or LC_ENOTFOUND. */
int lc_energy_find(const char *name, int dim) {
  if (!name) return LC_ENOTFOUND;
  for (int id = 0; id < LC_E_COUNT; ++id)
    if (lc_energies[id].dim == dim && strcmp(lc_energies[id].name, name) == 0) return id;
  return LC_ENOTFOUND;
}

/* Index of parameter pname of energy id, or LC_ENOTFOUND. */
int lc_energy_param_index(int id, const char *pname) { return lc_energy_info_param_index(lc_energy_get(id), pname); }

/* Index of parameter pname in e, or LC_ENOTFOUND. */
int lc_energy_info_param_index(const lc_energy_info *e, const char *pname) {
  if (!e || !pname) return LC_ENOTFOUND;
  for (int i = 0; i < e->n_param; ++i)
    if (strcmp(e->param_names[i], pname) == 0) return i;
  return LC_ENOTFOUND;
}
