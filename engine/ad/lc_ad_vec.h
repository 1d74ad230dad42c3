/* lc_ad_vec.h - 2/3-vectors and 2x2/3x3 matrices over the current AD scalar
 * (no include guard: lc_ad_def.h and lc_ad_passive.h include it once per type).
 *
 * Written in the vocabulary of lc_ad_bind.h, so it is itself an example of
 * code that serves every mode.  Vectors hold components in c[], matrices are
 * row-major m[row][col]; both are plain values, and assigning a single
 * component (v.c[2] = ...) keeps every derivative exact. */

typedef struct { S c[2]; } V2;
typedef struct { S c[3]; } V3;
typedef struct { S m[2][2]; } M2;
typedef struct { S m[3][3]; } M3;

/* ---- 2-vectors ---------------------------------------------------------- */

/* (x, y) */
LC_HD V2 v2_make(S x, S y) { V2 r; r.c[0] = x; r.c[1] = y; return r; }
/* constant (x, y) */
LC_HD V2 v2_c(double x, double y) { return v2_make(s_c(x), s_c(y)); }
/* a + b */
LC_HD V2 v2_add(V2 a, V2 b) { return v2_make(s_add(a.c[0], b.c[0]), s_add(a.c[1], b.c[1])); }
/* a - b */
LC_HD V2 v2_sub(V2 a, V2 b) { return v2_make(s_sub(a.c[0], b.c[0]), s_sub(a.c[1], b.c[1])); }
/* -a */
LC_HD V2 v2_neg(V2 a) { return v2_make(s_neg(a.c[0]), s_neg(a.c[1])); }
/* s * a */
LC_HD V2 v2_scale(V2 a, S s) { return v2_make(s_mul(a.c[0], s), s_mul(a.c[1], s)); }
/* c * a for a constant c */
LC_HD V2 v2_scalec(V2 a, double c) { return v2_make(s_mulc(a.c[0], c), s_mulc(a.c[1], c)); }
/* a . b */
LC_HD S v2_dot(V2 a, V2 b) { return s_add(s_mul(a.c[0], b.c[0]), s_mul(a.c[1], b.c[1])); }
/* a.x b.y - a.y b.x */
LC_HD S v2_cross(V2 a, V2 b) { return s_sub(s_mul(a.c[0], b.c[1]), s_mul(a.c[1], b.c[0])); }
/* |a|^2 */
LC_HD S v2_sqnorm(V2 a) { return s_add(s_sq(a.c[0]), s_sq(a.c[1])); }
/* |a| */
LC_HD S v2_norm(V2 a) { return s_sqrt(v2_sqnorm(a)); }
/* a / |a| */
LC_HD V2 v2_normalize(V2 a) { return v2_scale(a, s_recip(v2_norm(a))); }

/* ---- complex numbers as 2-vectors (re, im) ------------------------------- */

/* a b */
LC_HD V2 cx_mul(V2 a, V2 b) {
  return v2_make(s_sub(s_mul(a.c[0], b.c[0]), s_mul(a.c[1], b.c[1])),
                 s_add(s_mul(a.c[0], b.c[1]), s_mul(a.c[1], b.c[0])));
}
/* a (cr + i ci) for a constant */
LC_HD V2 cx_mulc(V2 a, double cr, double ci) {
  return v2_make(s_sub(s_mulc(a.c[0], cr), s_mulc(a.c[1], ci)), s_add(s_mulc(a.c[0], ci), s_mulc(a.c[1], cr)));
}
/* a^2 */
LC_HD V2 cx_sq(V2 a) { return v2_make(s_sub(s_sq(a.c[0]), s_sq(a.c[1])), s_mulc(s_mul(a.c[0], a.c[1]), 2.0)); }

/* ---- 3-vectors ---------------------------------------------------------- */

/* (x, y, z) */
LC_HD V3 v3_make(S x, S y, S z) { V3 r; r.c[0] = x; r.c[1] = y; r.c[2] = z; return r; }
/* constant (x, y, z) */
LC_HD V3 v3_c(double x, double y, double z) { return v3_make(s_c(x), s_c(y), s_c(z)); }
/* a + b */
LC_HD V3 v3_add(V3 a, V3 b) {
  return v3_make(s_add(a.c[0], b.c[0]), s_add(a.c[1], b.c[1]), s_add(a.c[2], b.c[2]));
}
/* a - b */
LC_HD V3 v3_sub(V3 a, V3 b) {
  return v3_make(s_sub(a.c[0], b.c[0]), s_sub(a.c[1], b.c[1]), s_sub(a.c[2], b.c[2]));
}
/* -a */
LC_HD V3 v3_neg(V3 a) { return v3_make(s_neg(a.c[0]), s_neg(a.c[1]), s_neg(a.c[2])); }
/* s * a */
LC_HD V3 v3_scale(V3 a, S s) {
  return v3_make(s_mul(a.c[0], s), s_mul(a.c[1], s), s_mul(a.c[2], s));
}
/* c * a for a constant c */
LC_HD V3 v3_scalec(V3 a, double c) {
  return v3_make(s_mulc(a.c[0], c), s_mulc(a.c[1], c), s_mulc(a.c[2], c));
}
/* a . b */
LC_HD S v3_dot(V3 a, V3 b) {
  return s_add(s_add(s_mul(a.c[0], b.c[0]), s_mul(a.c[1], b.c[1])), s_mul(a.c[2], b.c[2]));
}
/* a . b for a constant vector b */
LC_HD S v3_dotc(V3 a, const double b[3]) {
  return s_add(s_add(s_mulc(a.c[0], b[0]), s_mulc(a.c[1], b[1])), s_mulc(a.c[2], b[2]));
}
/* a x b */
LC_HD V3 v3_cross(V3 a, V3 b) {
  return v3_make(s_sub(s_mul(a.c[1], b.c[2]), s_mul(a.c[2], b.c[1])),
                 s_sub(s_mul(a.c[2], b.c[0]), s_mul(a.c[0], b.c[2])),
                 s_sub(s_mul(a.c[0], b.c[1]), s_mul(a.c[1], b.c[0])));
}
/* |a|^2 */
LC_HD S v3_sqnorm(V3 a) { return s_add(s_add(s_sq(a.c[0]), s_sq(a.c[1])), s_sq(a.c[2])); }
/* |a| */
LC_HD S v3_norm(V3 a) { return s_sqrt(v3_sqnorm(a)); }
/* a / |a| */
LC_HD V3 v3_normalize(V3 a) { return v3_scale(a, s_recip(v3_norm(a))); }
/* Squared distance of form f from contact difference vectors d[3]
 * (contact_geom.h lc_ct_weights; differentiated by contact_jet.h):
 * 0 |d0|^2, 1 |d0 x d1|^2 / |d1|^2, 2 (d0 . (d1 x d2))^2 / |d1 x d2|^2. */
LC_HD S v3_d2_form(int f, const V3 *d) {
  if (f == 0) return v3_sqnorm(d[0]);
  if (f == 1) return s_div(v3_sqnorm(v3_cross(d[0], d[1])), v3_sqnorm(d[1]));
  const V3 n = v3_cross(d[1], d[2]);
  return s_div(s_sq(v3_dot(d[0], n)), v3_sqnorm(n));
}

/* ---- 2x2 matrices ------------------------------------------------------- */

/* [[a, b], [c, d]] */
LC_HD M2 m2_make(S a, S b, S c, S d) {
  M2 r;
  r.m[0][0] = a; r.m[0][1] = b; r.m[1][0] = c; r.m[1][1] = d;
  return r;
}
/* constant matrix from row-major k[4] */
LC_HD M2 m2_c(const double k[4]) { return m2_make(s_c(k[0]), s_c(k[1]), s_c(k[2]), s_c(k[3])); }
/* matrix with columns c0, c1 */
LC_HD M2 m2_cols(V2 c0, V2 c1) { return m2_make(c0.c[0], c1.c[0], c0.c[1], c1.c[1]); }
/* column j of a */
LC_HD V2 m2_col(M2 a, int j) { return v2_make(a.m[0][j], a.m[1][j]); }
/* a + b */
LC_HD M2 m2_add(M2 a, M2 b) {
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) a.m[i][j] = s_add(a.m[i][j], b.m[i][j]);
  return a;
}
/* a - b */
LC_HD M2 m2_sub(M2 a, M2 b) {
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) a.m[i][j] = s_sub(a.m[i][j], b.m[i][j]);
  return a;
}
/* s * a */
LC_HD M2 m2_scale(M2 a, S s) {
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) a.m[i][j] = s_mul(a.m[i][j], s);
  return a;
}
/* a * b */
LC_HD M2 m2_mul(M2 a, M2 b) {
  M2 r;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      r.m[i][j] = s_add(s_mul(a.m[i][0], b.m[0][j]), s_mul(a.m[i][1], b.m[1][j]));
  return r;
}
/* a * K for a constant row-major K[4] */
LC_HD M2 m2_mulc(M2 a, const double k[4]) {
  M2 r;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      r.m[i][j] = s_add(s_mulc(a.m[i][0], k[j]), s_mulc(a.m[i][1], k[2 + j]));
  return r;
}
/* a * v */
LC_HD V2 m2_mulv(M2 a, V2 v) {
  return v2_make(s_add(s_mul(a.m[0][0], v.c[0]), s_mul(a.m[0][1], v.c[1])),
                 s_add(s_mul(a.m[1][0], v.c[0]), s_mul(a.m[1][1], v.c[1])));
}
/* a^T */
LC_HD M2 m2_T(M2 a) { return m2_make(a.m[0][0], a.m[1][0], a.m[0][1], a.m[1][1]); }
/* det a */
LC_HD S m2_det(M2 a) { return s_sub(s_mul(a.m[0][0], a.m[1][1]), s_mul(a.m[0][1], a.m[1][0])); }
/* a^-1 (no check for singular a) */
LC_HD M2 m2_inv(M2 a) {
  const S id = s_recip(m2_det(a));
  return m2_make(s_mul(a.m[1][1], id), s_neg(s_mul(a.m[0][1], id)),
                 s_neg(s_mul(a.m[1][0], id)), s_mul(a.m[0][0], id));
}
/* trace a */
LC_HD S m2_tr(M2 a) { return s_add(a.m[0][0], a.m[1][1]); }
/* |a|_F^2 */
LC_HD S m2_sqfro(M2 a) {
  return s_add(s_add(s_sq(a.m[0][0]), s_sq(a.m[0][1])), s_add(s_sq(a.m[1][0]), s_sq(a.m[1][1])));
}
/* |a|_F */
LC_HD S m2_fro(M2 a) { return s_sqrt(m2_sqfro(a)); }
/* Rotation factor R of the polar decomposition a = R P, R in SO(2), in closed
 * form: R = [[c, -s], [s, c]] with (c, s) = (a00 + a11, a10 - a01) / norm.
 * Differentiable wherever that norm is non-zero, inverted a included. */
LC_HD M2 m2_rot(M2 a) {
  const S c = s_add(a.m[0][0], a.m[1][1]), s = s_sub(a.m[1][0], a.m[0][1]);
  const S in = s_recip(s_hypot(c, s));
  const S cn = s_mul(c, in), sn = s_mul(s, in);
  return m2_make(cn, s_neg(sn), sn, cn);
}

/* ---- 3x3 matrices ------------------------------------------------------- */

/* matrix from row-major entries k[9] of scalars */
LC_HD M3 m3_make(const S k[9]) {
  M3 r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r.m[i][j] = k[3 * i + j];
  return r;
}
/* constant matrix from row-major k[9] */
LC_HD M3 m3_c(const double k[9]) {
  M3 r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r.m[i][j] = s_c(k[3 * i + j]);
  return r;
}
/* matrix with columns c0, c1, c2 */
LC_HD M3 m3_cols(V3 c0, V3 c1, V3 c2) {
  M3 r;
  for (int i = 0; i < 3; ++i) {
    r.m[i][0] = c0.c[i]; r.m[i][1] = c1.c[i]; r.m[i][2] = c2.c[i];
  }
  return r;
}
/* column j of a */
LC_HD V3 m3_col(M3 a, int j) { return v3_make(a.m[0][j], a.m[1][j], a.m[2][j]); }
/* a + b */
LC_HD M3 m3_add(M3 a, M3 b) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) a.m[i][j] = s_add(a.m[i][j], b.m[i][j]);
  return a;
}
/* a - b */
LC_HD M3 m3_sub(M3 a, M3 b) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) a.m[i][j] = s_sub(a.m[i][j], b.m[i][j]);
  return a;
}
/* s * a */
LC_HD M3 m3_scale(M3 a, S s) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) a.m[i][j] = s_mul(a.m[i][j], s);
  return a;
}
/* a * b */
LC_HD M3 m3_mul(M3 a, M3 b) {
  M3 r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      r.m[i][j] = s_add(s_add(s_mul(a.m[i][0], b.m[0][j]), s_mul(a.m[i][1], b.m[1][j])),
                        s_mul(a.m[i][2], b.m[2][j]));
  return r;
}
/* a * K for a constant row-major K[9] */
LC_HD M3 m3_mulc(M3 a, const double k[9]) {
  M3 r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      r.m[i][j] = s_add(s_add(s_mulc(a.m[i][0], k[j]), s_mulc(a.m[i][1], k[3 + j])),
                        s_mulc(a.m[i][2], k[6 + j]));
  return r;
}
/* a * v */
LC_HD V3 m3_mulv(M3 a, V3 v) {
  V3 r;
  for (int i = 0; i < 3; ++i)
    r.c[i] = s_add(s_add(s_mul(a.m[i][0], v.c[0]), s_mul(a.m[i][1], v.c[1])),
                   s_mul(a.m[i][2], v.c[2]));
  return r;
}
/* a^T */
LC_HD M3 m3_T(M3 a) {
  M3 r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r.m[i][j] = a.m[j][i];
  return r;
}
/* det a */
LC_HD S m3_det(M3 a) {
  return v3_dot(m3_col(a, 0), v3_cross(m3_col(a, 1), m3_col(a, 2)));
}
/* a^-1 via the adjugate (no check for singular a) */
LC_HD M3 m3_inv(M3 a) {
  const V3 c0 = m3_col(a, 0), c1 = m3_col(a, 1), c2 = m3_col(a, 2);
  const V3 r0 = v3_cross(c1, c2), r1 = v3_cross(c2, c0), r2 = v3_cross(c0, c1);
  const S id = s_recip(v3_dot(c0, r0));
  M3 r;
  for (int j = 0; j < 3; ++j) {
    r.m[0][j] = s_mul(r0.c[j], id);
    r.m[1][j] = s_mul(r1.c[j], id);
    r.m[2][j] = s_mul(r2.c[j], id);
  }
  return r;
}
/* trace a */
LC_HD S m3_tr(M3 a) { return s_add(s_add(a.m[0][0], a.m[1][1]), a.m[2][2]); }
/* |a|_F^2 */
LC_HD S m3_sqfro(M3 a) {
  S r = s_c(0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r = s_add(r, s_sq(a.m[i][j]));
  return r;
}
/* |a|_F */
LC_HD S m3_fro(M3 a) { return s_sqrt(m3_sqfro(a)); }
/* Rotation of the value of a (lc_rot.h, after Mueller et al. 2016; at most
 * 20 updates; q (w,x,y,z) is the warm start on entry and the result on exit)
 * returned as a CONSTANT matrix: all derivatives zero, NOT the derivative of
 * the polar factor.  Meant for local/global (ARAP-style) schemes where the
 * rotation is held fixed: at the optimal rotation this gives the exact
 * gradient of min_R E(F, R) (envelope theorem), and the fixed-rotation
 * Hessian, e.g. 2 J^T J for E = |F - R|^2 with F linear in the variables,
 * which is PSD. */
LC_HD M3 m3_rot(M3 a, double q[4]) {
  double av[9], rv[9];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) av[3 * i + j] = s_v(a.m[i][j]);
  lc_rot3_extract(av, q, 20);
  lc_quat_to_mat3(q, rv);
  return m3_c(rv);
}

/* ---- triangle deformation (shared by membrane and parameterization
 * energies) --------------------------------------------------------------- */

/* Edge matrix [x1 - x0, x2 - x0] of a 2D triangle, x = (u0, u1, u2). */
LC_HD M2 tri2_edges(const S *x) {
  const V2 u0 = v2_make(x[0], x[1]);
  return m2_cols(v2_sub(v2_make(x[2], x[3]), u0), v2_sub(v2_make(x[4], x[5]), u0));
}

/* Columns f0, f1 of the 3x2 deformation gradient F = [x1 - x0, x2 - x0] Mr^-1
 * of a 3D triangle, x = (x0, x1, x2), minv = Mr^-1 row-major. */
LC_HD void tri3_deformation(const S *x, const double *minv, V3 *f0, V3 *f1) {
  const V3 x0 = v3_make(x[0], x[1], x[2]);
  const V3 d1 = v3_sub(v3_make(x[3], x[4], x[5]), x0);
  const V3 d2 = v3_sub(v3_make(x[6], x[7], x[8]), x0);
  *f0 = v3_add(v3_scalec(d1, minv[0]), v3_scalec(d2, minv[2]));
  *f1 = v3_add(v3_scalec(d1, minv[1]), v3_scalec(d2, minv[3]));
}
