/* test_energies.c - Check suite for the energy sources, their host kernels,
 * the registry and the setup functions.
 *
 * Every instance of LC_ENERGY_LIST is exercised at random, well-conditioned
 * configurations (perturbed rest elements of a jittered open pyramid): AD
 * derivatives against central finite differences, agreement of the four
 * modes, residual Jacobians, invariances.  Specific tests pin down rest
 * states, rigid motions, +inf domains, setup constants on small meshes and
 * the benchmark check values of W1 (camelhead), W2 (spot) and W3 (armadillo). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custom/custom.h"
#include "energies/kernels.h"
#include "mesh/mesh.h"
#include "testutil.h"

#define MAXN LC_ENERGY_MAX_N
#define NSEEDS 8

/* ---- invariance table (one row per energy name) -------------------------- */

typedef struct {
  const char *name;
  int trans; /* energy invariant under translation of all entities */
  int rot;   /* energy invariant under rotation (about the origin) */
} inv_row;

static const inv_row inv_table[] = {
    {"spring", 1, 1},         {"inertia", 0, 0},     {"gravity", 0, 0},
    {"target", 0, 0},         {"stvk", 1, 1},        {"neohookean", 1, 1},
    {"bending", 1, 1},        {"symmetric_dirichlet", 1, 1}, {"arap", 1, 1},
    {"dirichlet", 1, 1},      {"cot_dirichlet", 1, 1}, {"area", 1, 1},
    {"sphere_param", 0, 1},   {"res_position", 0, 0}, {"res_edge_length", 1, 1},
    {"contact_pt", 1, 1},     {"contact_ee", 1, 1},  {"contact_margin", 1, 1},
    {"contact_plane", 0, 0},  {"friction_pair", 0, 0}, {"friction_point", 0, 0},
    {"ff_smooth", 0, 0},      {"ff_curl", 0, 0},     {"ff_close", 0, 0},    {"ff_barrier", 0, 0},
    {"ed_fit", 0, 0},         {"ed_rot", 0, 0},      {"ed_reg", 0, 0},
};

/* The invariance row of energy name, or NULL. */
static const inv_row *inv_of(const char *name) {
  for (size_t i = 0; i < sizeof inv_table / sizeof inv_table[0]; ++i)
    if (strcmp(inv_table[i].name, name) == 0) return &inv_table[i];
  return NULL;
}

/* ---- small linear algebra ----------------------------------------------- */

/* Euclidean norm of a[n]. */
static double vnorm(const double *a, int n) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += a[i] * a[i];
  return sqrt(s);
}

/* |a - b| / max(|a|, |b|, floor) for vectors of length n. */
static double vrel(const double *a, const double *b, int n, double floor) {
  double d = 0.0;
  for (int i = 0; i < n; ++i) d += (a[i] - b[i]) * (a[i] - b[i]);
  return sqrt(d) / fmax(fmax(vnorm(a, n), vnorm(b, n)), floor);
}

/* ---- meshes ---------------------------------------------------------------- */

/* Creates a mesh or fails the test. */
static lc_mesh *mk_mesh(const double *V, int32_t nv, const int32_t *F, int32_t nf) {
  lc_mesh *m = NULL;
  lc_error err;
  int rc = lc_mesh_create(V, nv, F, nf, &m, &err);
  ck_assert_msg(rc == LC_OK, "lc_mesh_create: %s", err.msg);
  return m;
}

/* An open square pyramid (4 side faces, apex interior) centred so that the
 * origin is inside, every coordinate jittered by up to `jit`. */
static lc_mesh *pyramid(unsigned long long *rng, double jit) {
  double V[15] = {-1, -1, -0.5, 1, -1, -0.5, 1, 1, -0.5, -1, 1, -0.5, 0, 0, 1};
  const int32_t F[12] = {0, 1, 4, 1, 2, 4, 2, 3, 4, 3, 0, 4};
  for (int i = 0; i < 15; ++i) V[i] += lc_test_rand(rng, -jit, jit);
  return mk_mesh(V, 5, F, 4);
}

/* The unit square (0,0,0) (1,0,0) (1,1,0) (0,1,0) as faces (0,1,2), (0,2,3). */
static lc_mesh *square(void) {
  const double V[12] = {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0};
  const int32_t F[6] = {0, 1, 2, 0, 2, 3};
  return mk_mesh(V, 4, F, 2);
}

/* ---- one element of one instance ----------------------------------------- */

typedef struct {
  int id;
  const lc_energy_info *info;
  const lc_elem_kernel *kern;
  int N;
  double x[MAXN + 4];          /* variables, NaN-padded past N */
  double rest[MAXN];           /* rest variables (first D rest coordinates) */
  double k[LC_ENERGY_MAX_CONSTS];
  double p[LC_ENERGY_MAX_PARAMS];
} ecase;

/* Number of elements of kind `kind` in m and the entities of element e. */
static int32_t elem_count(const lc_mesh *m, lc_elem_kind kind) {
  switch (kind) {
    case LC_ELEM_VERTEX: return lc_mesh_nv(m);
    case LC_ELEM_EDGE: return lc_mesh_ne(m);
    case LC_ELEM_FACE: return lc_mesh_nf(m);
    case LC_ELEM_FLAP: return lc_mesh_nflaps(m);
    case LC_ELEM_FACE_PAIR: return lc_mesh_nflaps(m);
    default: return 0;
  }
}

/* The K entity indices of element e of kind `kind`. */
static void elem_ents(const lc_mesh *m, lc_elem_kind kind, int32_t e, int32_t *ent) {
  switch (kind) {
    case LC_ELEM_VERTEX: ent[0] = e; break;
    case LC_ELEM_EDGE: memcpy(ent, lc_mesh_edges(m) + 2 * e, 2 * sizeof *ent); break;
    case LC_ELEM_FACE: memcpy(ent, lc_mesh_F(m) + 3 * e, 3 * sizeof *ent); break;
    case LC_ELEM_FLAP: memcpy(ent, lc_mesh_flaps(m) + 4 * e, 4 * sizeof *ent); break;
    case LC_ELEM_FACE_PAIR: memcpy(ent, lc_mesh_face_pairs(m) + 2 * e, 2 * sizeof *ent); break;
    default: break;
  }
}

/* Fills c->k (setup) and c->rest for element e of m; returns the setup code. */
static int case_setup(ecase *c, const lc_mesh *m, int32_t e) {
  const lc_energy_info *in = c->info;
  int32_t ent[LC_ENERGY_MAX_K];
  char why[128] = "";
  elem_ents(m, in->kind, e, ent);
  int rc = in->setup ? in->setup(m, e, ent, c->p, c->k, why) : LC_OK;
  ck_assert_msg(rc == LC_OK, "%s setup: %s", in->inst, why);
  for (int a = 0; a < in->K; ++a)
    for (int d = 0; d < in->dim; ++d)
      c->rest[a * in->dim + d] = d < 3 ? lc_mesh_V(m)[3 * ent[a] + d] : 0.0;
  return rc;
}

/* x = rest + uniform noise in [-noise, noise] (rng may be NULL for none),
 * NaN past N. */
static void set_x(ecase *c, unsigned long long *rng, double noise) {
  for (int i = 0; i < MAXN + 4; ++i) c->x[i] = NAN;
  for (int i = 0; i < c->N && i < MAXN; ++i)
    c->x[i] = c->rest[i] + (rng ? lc_test_rand(rng, -noise, noise) : 0.0);
}

/* An active contact pair (explicit-list energies): a jittered triangle
 * with a point above it (p, t0, t1, t2), or two crossing or nearly parallel
 * edges (ea0, ea1, eb0, eb1), within dhat = 0.6 of each other; rest = x,
 * the weight random, the mollifier threshold from the rest edges. */
static void contact_case(ecase *c, unsigned long long *rng) {
  static const double tri[12] = {0.3, 0.3, 0.2, 0, 0, 0, 1, 0, 0, 0, 1, 0};
  static const double edges[12] = {-1, 0, 0, 1, 0, 0, 0.2, -1, 0.2, -0.1, 1, 0.2};
  const int ee = strcmp(c->info->name, "contact_ee") == 0;
  static const double off[3] = {-0.1, 0.25, 0.2};
  for (int i = 0; i < 12; ++i) c->x[i] = (ee ? edges : tri)[i] + lc_test_rand(rng, -0.12, 0.12);
  if (!ee) { /* any of the 7 regions */
    c->x[0] = lc_test_rand(rng, -0.4, 1.1);
    c->x[1] = lc_test_rand(rng, -0.4, 1.1);
    c->x[2] = lc_test_rand(rng, 0.08, 0.3);
  }
  if (ee && lc_test_rand(rng, 0, 1) < 0.3) /* nearly parallel: mollified */
    for (int i = 0; i < 3; ++i) {
      c->x[9 + i] = c->x[3 + i] + off[i];
      c->x[6 + i] = c->x[9 + i] - (c->x[3 + i] - c->x[i]) * 0.9 + 0.02 * i;
    }
  c->p[0] = 0.6;
  c->p[1] = lc_test_rand(rng, 0.0, 0.05);
  c->k[0] = lc_test_rand(rng, 0.5, 2.0);
  if (ee) {
    double ua[3], ub[3];
    for (int i = 0; i < 3; ++i) ua[i] = c->x[3 + i] - c->x[i], ub[i] = c->x[9 + i] - c->x[6 + i];
    c->k[1] = lc_ct_moll_eps(ua, ub) * (lc_test_rand(rng, 0, 1) < 0.5 ? 1.0 : 1e3);
  }
  memcpy(c->rest, c->x, 12 * sizeof *c->rest);
}

/* A lagged friction element: random closest-point weights (point-triangle
 * barycentrics or edge-edge line parameters, summing to 0), a random unit
 * normal, mu lambda and eps, and a start c such that the tangential
 * displacement falls below or beyond eps (both branches of f0). */
static void friction_case(ecase *c, unsigned long long *rng) {
  const int pair = strcmp(c->info->name, "friction_pair") == 0;
  double *n = c->k + (pair ? 4 : 0), *c0 = c->k + (pair ? 7 : 3), nn = 0.0;
  for (int i = 0; i < MAXN + 4; ++i) c->x[i] = NAN;
  for (int i = 0; i < c->N; ++i) c->x[i] = lc_test_rand(rng, -1.0, 1.0);
  if (pair) {
    const double a = lc_test_rand(rng, 0.0, 1.0), b = lc_test_rand(rng, 0.0, 1.0 - a);
    const double s = lc_test_rand(rng, 0.0, 1.0), t = lc_test_rand(rng, 0.0, 1.0);
    const double pt[4] = {1.0, -(1.0 - a - b), -a, -b}, ee[4] = {1.0 - s, s, -(1.0 - t), -t};
    memcpy(c->k, lc_test_rand(rng, 0, 1) < 0.5 ? pt : ee, sizeof pt);
  }
  for (int i = 0; i < 3; ++i) n[i] = lc_test_rand(rng, -1.0, 1.0), nn += n[i] * n[i];
  for (int i = 0; i < 3; ++i) n[i] /= sqrt(nn);
  c->p[0] = lc_test_rand(rng, 0.05, 0.5);
  const double slide = c->p[0] * lc_test_rand(rng, 0.1, 3.0); /* |u| relative to eps */
  double v[3] = {0, 0, 0}, u[3], un = 0.0;
  for (int a = 0; a < c->info->K; ++a)
    for (int j = 0; j < 3; ++j) v[j] += (pair ? c->k[a] : 1.0) * c->x[3 * a + j];
  for (int j = 0; j < 3; ++j) u[j] = lc_test_rand(rng, -1.0, 1.0);
  const double un0 = u[0] * n[0] + u[1] * n[1] + u[2] * n[2];
  for (int j = 0; j < 3; ++j) u[j] -= un0 * n[j], un += u[j] * u[j];
  const double off = lc_test_rand(rng, -0.3, 0.3); /* normal offsets do not count */
  for (int j = 0; j < 3; ++j) c0[j] = v[j] - slide * u[j] / sqrt(un) - off * n[j];
  c->k[pair ? 10 : 6] = lc_test_rand(rng, 0.5, 2.0);
  memcpy(c->rest, c->x, (size_t)c->N * sizeof *c->rest);
}

/* A frame-field case (face variables, D = 4): an element of a jittered
 * pyramid (a face pair, or one face) with its setup constants, a random
 * reference for ff_close, and random fields; for ff_barrier a field with
 * Im(beta conj(alpha)) in (0, 1.2 s), inside and beyond the barrier's reach. */
static void ff_case(ecase *c, unsigned long long *rng) {
  lc_mesh *m = pyramid(rng, 0.15);
  const int32_t n = c->info->kind == LC_ELEM_FACE_PAIR ? lc_mesh_nflaps(m) : lc_mesh_nf(m);
  ck_assert_int_gt(n, 0);
  const int32_t e = (int32_t)lc_test_rand(rng, 0, n);
  case_setup(c, m, e);
  lc_mesh_destroy(m);
  for (int i = 0; i < MAXN + 4; ++i) c->x[i] = NAN;
  for (int i = 0; i < c->N; ++i) c->x[i] = lc_test_rand(rng, -1.0, 1.0);
  if (strcmp(c->info->name, "ff_close") == 0)
    for (int i = 0; i < 4; ++i) c->k[i] = lc_test_rand(rng, -1.0, 1.0);
  if (strcmp(c->info->name, "ff_barrier") == 0) { /* w > 0; beta = i rho alpha + a little of alpha */
    c->p[1] = lc_test_rand(rng, 0.05, 0.3);
    const double rho = lc_test_rand(rng, 0.05, 1.2) * c->p[0] / (c->x[0] * c->x[0] + c->x[1] * c->x[1]);
    const double mu = lc_test_rand(rng, -0.5, 0.5);
    c->x[2] = -rho * c->x[1] + mu * c->x[0];
    c->x[3] = rho * c->x[0] + mu * c->x[1];
  }
  memcpy(c->rest, c->x, (size_t)c->N * sizeof *c->rest);
}

/* An active plane contact: a random unit normal n and point o, the vertex
 * at distance d in (dmin, dmin + dhat) from the plane, dhat = 0.6. */
static void plane_case(ecase *c, unsigned long long *rng) {
  double *o = c->p + 2, *n = c->p + 5, nn = 0.0, tn = 0.0, t[3];
  for (int i = 0; i < 3; ++i) n[i] = lc_test_rand(rng, -1.0, 1.0), nn += n[i] * n[i];
  n[2] += nn < 0.01 ? 1.0 : 0.0;
  nn = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  for (int i = 0; i < 3; ++i) n[i] /= nn, o[i] = lc_test_rand(rng, -0.5, 0.5);
  for (int i = 0; i < 3; ++i) t[i] = lc_test_rand(rng, -0.5, 0.5), tn += t[i] * n[i];
  c->p[0] = 0.6;
  c->p[1] = lc_test_rand(rng, 0.0, 0.05);
  const double d = c->p[1] + lc_test_rand(rng, 0.05, 0.55);
  for (int i = 0; i < MAXN + 4; ++i) c->x[i] = NAN;
  for (int i = 0; i < 3; ++i) c->x[i] = c->rest[i] = o[i] + d * n[i] + t[i] - tn * n[i];
}

/* A random case of instance id: a random element of a jittered pyramid,
 * parameters near their defaults, variables = rest + noise (contact pairs:
 * contact_case). */
static void case_make(ecase *c, int id, unsigned long long *rng, double noise) {
  memset(c, 0, sizeof *c);
  c->id = id;
  c->info = lc_energy_get(id);
  c->kern = lc_cpu_kernel(id);
  ck_assert_ptr_nonnull(c->info);
  ck_assert_ptr_nonnull(c->kern);
  c->N = c->info->K * c->info->dim;
  for (int i = 0; i < c->info->n_param; ++i)
    c->p[i] = c->info->param_defaults[i] * lc_test_rand(rng, 0.7, 1.3) +
              lc_test_rand(rng, -0.2, 0.2);
  if (c->info->loc == LC_LOC_FACE) {
    ff_case(c, rng);
    return;
  }
  if (strncmp(c->info->name, "friction_", 9) == 0) {
    friction_case(c, rng);
    return;
  }
  if (c->info->kind == LC_ELEM_LIST) {
    contact_case(c, rng);
    return;
  }
  if (strcmp(c->info->name, "contact_plane") == 0) {
    plane_case(c, rng);
    return;
  }
  lc_mesh *m = pyramid(rng, 0.15);
  int32_t n = elem_count(m, c->info->kind);
  ck_assert_int_gt(n, 0);
  case_setup(c, m, (int32_t)lc_test_rand(rng, 0, n));
  lc_mesh_destroy(m);
  set_x(c, rng, noise);
}

/* Energy of c at x (value kernel). */
static double c_val(const ecase *c, const double *x) { return c->kern->value(x, c->k, c->p); }

/* Energy and gradient of c at x; checks that all N entries were written. */
static double c_grad(const ecase *c, const double *x, double *g) {
  for (int i = 0; i < MAXN; ++i) g[i] = NAN;
  double e = c->kern->grad(x, c->k, c->p, g);
  for (int i = 0; i < c->N; ++i)
    ck_assert_msg(isfinite(g[i]), "%s: g[%d] not written", c->info->inst, i);
  return e;
}

/* Copy of c->x (NaN padding included) with x[i] += h. */
static void shifted(const ecase *c, int i, double h, double *x) {
  memcpy(x, c->x, sizeof c->x);
  x[i] += h;
}

/* Finite-difference step for c: 1e-6 relative to the scale of x. */
static double fd_step(const ecase *c) {
  double s = 1.0;
  for (int i = 0; i < c->N; ++i) s = fmax(s, fabs(c->x[i]));
  return 1e-6 * s;
}

/* ---- per-instance checks --------------------------------------------------- */

/* AD gradient vs central differences of the value. */
static void check_grad_fd(const ecase *c, int seed) {
  double g[MAXN], gf[MAXN], xp[MAXN + 4], xm[MAXN + 4];
  const double h = fd_step(c), e = c_grad(c, c->x, g);
  ck_assert_msg(isfinite(e), "%s seed %d: energy %g", c->info->inst, seed, e);
  for (int i = 0; i < c->N; ++i) {
    shifted(c, i, h, xp);
    shifted(c, i, -h, xm);
    gf[i] = (c_val(c, xp) - c_val(c, xm)) / (2.0 * h);
  }
  double err = vrel(g, gf, c->N, 1e-6);
  ck_assert_msg(err < 1e-6, "%s seed %d: gradient vs FD rel err %g", c->info->inst, seed, err);
}

/* AD Hessian vs central differences of the AD gradient; H symmetric. */
static void check_hess_fd(const ecase *c, int seed) {
  const int N = c->N;
  double g[MAXN], H[MAXN * MAXN], Hf[MAXN * MAXN] = {0}, gp[MAXN], gm[MAXN], xp[MAXN + 4], xm[MAXN + 4];
  const double h = fd_step(c);
  c->kern->hess(c->x, c->k, c->p, g, H);
  for (int j = 0; j < N; ++j) {
    shifted(c, j, h, xp);
    shifted(c, j, -h, xm);
    c_grad(c, xp, gp);
    c_grad(c, xm, gm);
    for (int i = 0; i < N; ++i) Hf[i * N + j] = (gp[i] - gm[i]) / (2.0 * h);
  }
  double err = vrel(H, Hf, N * N, 1e-6);
  ck_assert_msg(err < 1e-6, "%s seed %d: Hessian vs FD rel err %g", c->info->inst, seed, err);
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < i; ++j) ck_assert(H[i * N + j] == H[j * N + i]);
}

/* The four modes agree on value and gradient; HVP equals H v. */
static void check_modes(const ecase *c, unsigned long long *rng, int seed) {
  const int N = c->N;
  double g1[MAXN], g2[MAXN], g3[MAXN], H[MAXN * MAXN], v[MAXN], hv[MAXN], Hv[MAXN];
  for (int i = 0; i < N; ++i) v[i] = lc_test_rand(rng, -1, 1);
  const double e0 = c_val(c, c->x), e1 = c_grad(c, c->x, g1);
  const double e2 = c->kern->hvp(c->x, v, c->k, c->p, g2, hv);
  const double e3 = c->kern->hess(c->x, c->k, c->p, g3, H);
  ck_assert_msg(lc_test_reldiff(e0, e1, 1e-300) < 1e-14 &&
                    lc_test_reldiff(e0, e2, 1e-300) < 1e-14 &&
                    lc_test_reldiff(e0, e3, 1e-300) < 1e-14,
                "%s seed %d: mode values %.17g %.17g %.17g %.17g", c->info->inst, seed, e0, e1,
                e2, e3);
  ck_assert_msg(vrel(g1, g2, N, 1e-300) < 1e-14 && vrel(g1, g3, N, 1e-300) < 1e-14,
                "%s seed %d: mode gradients differ", c->info->inst, seed);
  for (int i = 0; i < N; ++i) {
    Hv[i] = 0.0;
    for (int j = 0; j < N; ++j) Hv[i] += H[i * N + j] * v[j];
  }
  double err = vrel(hv, Hv, N, 1e-12);
  ck_assert_msg(err < 1e-12, "%s seed %d: HVP vs H v rel err %g", c->info->inst, seed, err);
}

/* Residual Jacobian vs central differences; energy = 1/2 |r|^2. */
static void check_resid(const ecase *c, int seed) {
  const int N = c->N, m = c->info->n_resid;
  ck_assert_msg((c->kern->resid != NULL) == (m > 0), "%s: residual kernel presence", c->info->inst);
  if (m == 0) return;
  double r[LC_ENERGY_MAX_RESID], J[LC_ENERGY_MAX_RESID * MAXN], Jf[LC_ENERGY_MAX_RESID * MAXN];
  double rp[LC_ENERGY_MAX_RESID], rm[LC_ENERGY_MAX_RESID], Jd[LC_ENERGY_MAX_RESID * MAXN], xp[MAXN + 4], xm[MAXN + 4];
  const double h = fd_step(c);
  c->kern->resid(c->x, c->k, c->p, r, J);
  for (int j = 0; j < N; ++j) {
    shifted(c, j, h, xp);
    shifted(c, j, -h, xm);
    c->kern->resid(xp, c->k, c->p, rp, Jd);
    c->kern->resid(xm, c->k, c->p, rm, Jd);
    for (int i = 0; i < m; ++i) Jf[i * N + j] = (rp[i] - rm[i]) / (2.0 * h);
  }
  double err = vrel(J, Jf, m * N, 1e-6);
  ck_assert_msg(err < 1e-6, "%s seed %d: residual Jacobian vs FD rel err %g", c->info->inst, seed,
                err);
  double half = 0.0;
  for (int i = 0; i < m; ++i) half += 0.5 * r[i] * r[i];
  ck_assert_msg(lc_test_reldiff(half, c_val(c, c->x), 1e-300) < 1e-14, "%s: E != |r|^2/2",
                c->info->inst);
}

/* A random orthogonal transform Q (D x D, det +1) as a product of Givens rotations. */
static void rand_rotation(int D, unsigned long long *rng, double *Q) {
  for (int i = 0; i < D * D; ++i) Q[i] = i % (D + 1) == 0 ? 1.0 : 0.0;
  for (int a = 0; a < D; ++a)
    for (int b = a + 1; b < D; ++b) {
      const double t = lc_test_rand(rng, -3.0, 3.0), cs = cos(t), sn = sin(t);
      for (int r = 0; r < D; ++r) {
        const double qa = Q[r * D + a], qb = Q[r * D + b];
        Q[r * D + a] = cs * qa - sn * qb;
        Q[r * D + b] = sn * qa + cs * qb;
      }
    }
}

/* y = per-entity Q x + t (Q D x D or NULL, t D or NULL); NaN padding kept. */
static void transform(const ecase *c, const double *Q, const double *t, double *y) {
  const int D = c->info->dim;
  memcpy(y, c->x, sizeof c->x);
  for (int a = 0; a < c->info->K; ++a)
    for (int r = 0; r < D; ++r) {
      double s = t ? t[r] : 0.0;
      for (int j = 0; j < D; ++j) s += (Q ? Q[r * D + j] : (r == j)) * c->x[a * D + j];
      y[a * D + r] = s;
    }
}

/* Translation and rotation invariance as declared in inv_table. */
static void check_invariance(const ecase *c, unsigned long long *rng, int seed) {
  const inv_row *row = inv_of(c->info->name);
  const int D = c->info->dim, N = c->N;
  double y[MAXN + 4], g[MAXN], t[4], Q[16];
  ck_assert_msg(row != NULL, "%s missing from inv_table", c->info->name);
  const double e = c_grad(c, c->x, g);
  if (row->trans) {
    for (int d = 0; d < D; ++d) t[d] = lc_test_rand(rng, -1, 1);
    transform(c, NULL, t, y);
    ck_assert_msg(lc_test_reldiff(c_val(c, y), e, 1e-3) < 1e-9, "%s seed %d: translation changes E",
                  c->info->inst, seed);
    for (int d = 0; d < D; ++d) {
      double s = 0.0;
      for (int a = 0; a < c->info->K; ++a) s += g[a * D + d];
      ck_assert_msg(fabs(s) < 1e-10 * (1.0 + vnorm(g, N)), "%s seed %d: gradient sum %g",
                    c->info->inst, seed, s);
    }
  }
  if (row->rot && D >= 2) {
    rand_rotation(D, rng, Q);
    transform(c, Q, NULL, y);
    ck_assert_msg(lc_test_reldiff(c_val(c, y), e, 1e-3) < 1e-9, "%s seed %d: rotation changes E",
                  c->info->inst, seed);
  }
}

/* All checks on NSEEDS random cases of instance _i. */
START_TEST(test_instance_derivatives) {
  for (int seed = 0; seed < NSEEDS; ++seed) {
    unsigned long long rng = 1000ULL * (unsigned long long)_i + (unsigned long long)seed;
    ecase c;
    case_make(&c, _i, &rng, 0.1);
    check_grad_fd(&c, seed);
    check_hess_fd(&c, seed);
    check_modes(&c, &rng, seed);
    check_resid(&c, seed);
    check_invariance(&c, &rng, seed);
  }
}
END_TEST

/* ---- registry ---------------------------------------------------------------- */

#define LIST_ROW_(inst, name, dim) {#inst, name, dim},
static const struct {
  const char *inst, *name;
  int dim;
} list_rows[] = {LC_ENERGY_LIST(LIST_ROW_)};

START_TEST(test_registry_table) {
  ck_assert_int_eq((int)(sizeof list_rows / sizeof list_rows[0]), LC_E_COUNT);
  ck_assert_ptr_null(lc_energy_get(-1));
  ck_assert_ptr_null(lc_energy_get(LC_E_COUNT));
  ck_assert_ptr_nonnull(lc_cpu_kernel(LC_E_CUSTOM_BASE)); /* custom instances follow the built-ins */
  ck_assert_ptr_null(lc_cpu_kernel(LC_E_CUSTOM_BASE + LC_EC_COUNT));
  for (int id = 0; id < LC_E_COUNT; ++id) {
    const lc_energy_info *in = lc_energy_get(id);
    ck_assert_ptr_nonnull(in);
    ck_assert_str_eq(in->inst, list_rows[id].inst);
    ck_assert_str_eq(in->name, list_rows[id].name);
    ck_assert_int_eq(in->dim, list_rows[id].dim);
    ck_assert_int_ge(in->K, 1);
    ck_assert_int_le(in->K, LC_ENERGY_MAX_K);
    ck_assert_int_le(in->K * in->dim, LC_ENERGY_MAX_N);
    ck_assert_int_le(in->n_const, LC_ENERGY_MAX_CONSTS);
    ck_assert_int_le(in->n_param, LC_ENERGY_MAX_PARAMS);
    ck_assert_int_le(in->n_resid, LC_ENERGY_MAX_RESID);
    ck_assert_msg((in->setup != NULL) == (in->n_const > 0), "%s: setup vs n_const", in->inst);
    ck_assert_ptr_nonnull(in->formula);
    ck_assert_ptr_nonnull(in->const_doc);
    ck_assert_ptr_nonnull(inv_of(in->name));
    for (int i = 0; i < in->n_param; ++i) {
      ck_assert_ptr_nonnull(in->param_names[i]);
      ck_assert_int_eq(lc_energy_param_index(id, in->param_names[i]), i);
    }
    ck_assert_int_eq(lc_energy_find(in->name, in->dim), id);
  }
}
END_TEST

START_TEST(test_registry_find) {
  ck_assert_int_eq(lc_energy_find("spring", 3), LC_E_spring_3);
  ck_assert_int_eq(lc_energy_find("symmetric_dirichlet", 2), LC_E_symdir_2);
  ck_assert_int_eq(lc_energy_find("target", 4), LC_E_target_4);
  ck_assert_int_eq(lc_energy_find("spring", 4), LC_ENOTFOUND);
  ck_assert_int_eq(lc_energy_find("stvk", 2), LC_ENOTFOUND);
  ck_assert_int_eq(lc_energy_find("spring_3", 3), LC_ENOTFOUND);
  ck_assert_int_eq(lc_energy_find("nope", 3), LC_ENOTFOUND);
  ck_assert_int_eq(lc_energy_find("", 3), LC_ENOTFOUND);
  ck_assert_int_eq(lc_energy_find(NULL, 3), LC_ENOTFOUND);
  ck_assert_int_eq(lc_energy_param_index(LC_E_stvk_3, "lambda"), 1);
  ck_assert_int_eq(lc_energy_param_index(LC_E_gravity_3, "density"), 3);
  ck_assert_int_eq(lc_energy_param_index(LC_E_stvk_3, "nu"), LC_ENOTFOUND);
  ck_assert_int_eq(lc_energy_param_index(LC_E_stvk_3, NULL), LC_ENOTFOUND);
  ck_assert_int_eq(lc_energy_param_index(-1, "k"), LC_ENOTFOUND);
  ck_assert_int_eq(lc_energy_param_index(LC_E_dirichlet_2, "k"), LC_ENOTFOUND);
}
END_TEST

/* ---- setup constants ------------------------------------------------------- */

/* Runs the setup of instance id on element e of m with default parameters
 * (density overridden by `density` when > 0); returns the code. */
static int run_setup(int id, const lc_mesh *m, int32_t e, double density, double *k, char *why) {
  const lc_energy_info *in = lc_energy_get(id);
  double p[LC_ENERGY_MAX_PARAMS];
  int32_t ent[LC_ENERGY_MAX_K];
  memcpy(p, in->param_defaults, sizeof p);
  int di = lc_energy_param_index(id, "density");
  if (density > 0 && di >= 0) p[di] = density;
  elem_ents(m, in->kind, e, ent);
  why[0] = '\0';
  return in->setup(m, e, ent, p, k, why);
}

/* Asserts k[0..n-1] == want[0..n-1] to 1e-14. */
static void expect_k(const char *what, const double *k, const double *want, int n) {
  for (int i = 0; i < n; ++i)
    ck_assert_msg(fabs(k[i] - want[i]) < 1e-14, "%s: k[%d] = %.17g, want %.17g", what, i, k[i],
                  want[i]);
}

START_TEST(test_setup_square) {
  lc_mesh *m = square();
  double k[LC_ENERGY_MAX_CONSTS];
  char why[128];
  const double r2 = sqrt(2.0);
  /* edges: (0,1) (0,2) (0,3) (1,2) (2,3) */
  ck_assert_int_eq(lc_mesh_ne(m), 5);
  ck_assert_int_eq(run_setup(LC_E_spring_3, m, 1, 0, k, why), LC_OK);
  expect_k("spring L", k, (double[]){r2}, 1);
  ck_assert_int_eq(run_setup(LC_E_res_edge_length_2, m, 0, 0, k, why), LC_OK);
  expect_k("res_edge_length L", k, (double[]){1.0}, 1);
  ck_assert_int_eq(run_setup(LC_E_inertia_3, m, 0, 2.0, k, why), LC_OK);
  expect_k("inertia v0", k, (double[]){2.0 / 3.0, 0, 0, 0}, 4);
  ck_assert_int_eq(run_setup(LC_E_inertia_2, m, 1, 0, k, why), LC_OK);
  expect_k("inertia v1", k, (double[]){1.0 / 6.0, 1, 0}, 3);
  ck_assert_int_eq(run_setup(LC_E_gravity_3, m, 2, 3.0, k, why), LC_OK);
  expect_k("gravity v2", k, (double[]){1.0}, 1);
  ck_assert_int_eq(run_setup(LC_E_target_4, m, 2, 0, k, why), LC_OK);
  expect_k("target_4 v2", k, (double[]){1, 1, 0, 0}, 4);
  ck_assert_int_eq(run_setup(LC_E_target_1, m, 1, 0, k, why), LC_OK);
  expect_k("target_1 v1", k, (double[]){1}, 1);
  ck_assert_int_eq(run_setup(LC_E_res_position_2, m, 3, 0, k, why), LC_OK);
  expect_k("res_position v3", k, (double[]){0, 1}, 2);
  ck_assert_int_eq(run_setup(LC_E_cot_dirichlet_2, m, 1, 0, k, why), LC_OK);
  expect_k("cot diagonal", k, (double[]){0.0}, 1);
  ck_assert_int_eq(run_setup(LC_E_cot_dirichlet_1, m, 0, 0, k, why), LC_OK);
  expect_k("cot boundary (0,1)", k, (double[]){0.5}, 1);
  ck_assert_int_eq(run_setup(LC_E_cot_dirichlet_3, m, 2, 0, k, why), LC_OK);
  expect_k("cot boundary (0,3)", k, (double[]){0.5}, 1);
  ck_assert_int_eq(run_setup(LC_E_stvk_3, m, 0, 0, k, why), LC_OK);
  expect_k("frame face 0", k, (double[]){1, -1, 0, 1, 0.5}, 5);
  ck_assert_int_eq(run_setup(LC_E_symdir_2, m, 1, 0, k, why), LC_OK);
  expect_k("frame face 1", k, (double[]){1 / r2, -1 / r2, 0, r2, 0.5}, 5);
  ck_assert_int_eq(lc_mesh_nflaps(m), 1);
  ck_assert_int_eq(run_setup(LC_E_bending_3, m, 0, 0, k, why), LC_OK);
  expect_k("bending flap", k, (double[]){0.0, 6.0}, 2);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_setup_tetrahedron) {
  const double V[12] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  const int32_t F[12] = {0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3};
  lc_mesh *m = mk_mesh(V, 4, F, 4);
  double k[LC_ENERGY_MAX_CONSTS];
  char why[128];
  ck_assert_int_eq(run_setup(LC_E_inertia_3, m, 0, 0, k, why), LC_OK);
  expect_k("tet v0", k, (double[]){0.5, 0, 0, 0}, 4);
  ck_assert_int_eq(run_setup(LC_E_gravity_3, m, 1, 0, k, why), LC_OK);
  expect_k("tet v1", k, (double[]){(1.0 + sqrt(3.0) / 2.0) / 3.0}, 1);
  ck_assert_int_eq(lc_mesh_nflaps(m), 6);
  for (int f = 0; f < 6; ++f) {
    ck_assert_int_eq(run_setup(LC_E_bending_3, m, f, 0, k, why), LC_OK);
    ck_assert(fabs(k[0]) > 0.5 && fabs(k[0]) < 3.141592653589793);
    ck_assert(k[1] > 0.0);
  }
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_setup_degenerate) {
  /* collinear triangle (0,1,2) and a zero-length edge (3,4) in triangle (3,4,5) */
  const double V[18] = {0, 0, 0, 1, 0, 0, 2, 0, 0, 5, 5, 5, 5, 5, 5, 5, 6, 5};
  const int32_t F[6] = {0, 1, 2, 3, 4, 5};
  lc_mesh *m = mk_mesh(V, 6, F, 2);
  double k[LC_ENERGY_MAX_CONSTS], p[LC_ENERGY_MAX_PARAMS] = {1, 1, 1, 1};
  char why[128];
  const int face_ids[] = {LC_E_stvk_3, LC_E_neohookean_3, LC_E_symdir_2, LC_E_arap_2, LC_E_arap_3};
  for (size_t i = 0; i < sizeof face_ids / sizeof face_ids[0]; ++i) {
    ck_assert_int_eq(run_setup(face_ids[i], m, 0, 0, k, why), LC_EMESH);
    ck_assert_msg(strstr(why, "zero rest area") != NULL, "why = '%s'", why);
    ck_assert_int_eq(run_setup(face_ids[i], m, 1, 0, k, why), LC_EMESH);
  }
  const int32_t e34[2] = {3, 4};
  why[0] = '\0';
  ck_assert_int_eq(lc_energy_get(LC_E_spring_3)->setup(m, -1, e34, p, k, why), LC_EMESH);
  ck_assert_msg(strstr(why, "zero rest length") != NULL, "why = '%s'", why);
  ck_assert_int_eq(lc_energy_get(LC_E_res_edge_length_3)->setup(m, -1, e34, p, k, why), LC_EMESH);
  ck_assert_int_eq(lc_energy_get(LC_E_cot_dirichlet_2)->setup(m, -1, e34, p, k, why), LC_EINVAL);
  ck_assert_msg(strstr(why, "cot_dirichlet needs mesh edges") != NULL, "why = '%s'", why);
  ck_assert_int_eq(run_setup(LC_E_cot_dirichlet_2, m, 0, 0, k, why), LC_EMESH);
  ck_assert(why[0] != '\0');
  const int32_t bad[2] = {0, 99};
  ck_assert_int_eq(lc_energy_get(LC_E_spring_3)->setup(m, -1, bad, p, k, why), LC_ERANGE);
  /* a flap whose second face is degenerate */
  const double W[12] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 0, 0};
  const int32_t G[6] = {0, 1, 2, 1, 0, 3};
  lc_mesh *m2 = mk_mesh(W, 4, G, 2);
  ck_assert_int_eq(lc_mesh_nflaps(m2), 1);
  ck_assert_int_eq(run_setup(LC_E_bending_3, m2, 0, 0, k, why), LC_EMESH);
  ck_assert(why[0] != '\0');
  lc_mesh_destroy(m2);
  lc_mesh_destroy(m);
}
END_TEST

/* ---- rest states, rigid motions and domains ------------------------------------ */

/* The case of instance id on element e of mesh m with default parameters,
 * at the rest configuration. */
static void rest_case(ecase *c, int id, const lc_mesh *m, int32_t e) {
  memset(c, 0, sizeof *c);
  c->id = id;
  c->info = lc_energy_get(id);
  c->kern = lc_cpu_kernel(id);
  c->N = c->info->K * c->info->dim;
  memcpy(c->p, c->info->param_defaults, sizeof c->p);
  case_setup(c, m, e);
  set_x(c, NULL, 0.0);
}

/* Asserts |E| <= etol and |g| <= gtol at c->x. */
static void expect_zero(const ecase *c, double etol, double gtol, const char *what) {
  double g[MAXN];
  const double e = c_grad(c, c->x, g);
  ck_assert_msg(fabs(e) <= etol, "%s %s: E = %g", c->info->inst, what, e);
  ck_assert_msg(vnorm(g, c->N) <= gtol, "%s %s: |g| = %g", c->info->inst, what, vnorm(g, c->N));
}

/* Replaces the variables of a face case (D = 2) by its rest triangle laid out
 * in its rest frame, rotated by angle t and translated by (tx, ty). */
static void flat_rest(ecase *c, double t, double tx, double ty) {
  const double l = 1.0 / c->k[0], eta = 1.0 / c->k[3], xi = -c->k[1] * l * eta;
  const double P[6] = {0, 0, l, 0, xi, eta};
  for (int a = 0; a < 3; ++a) {
    c->x[2 * a] = cos(t) * P[2 * a] - sin(t) * P[2 * a + 1] + tx;
    c->x[2 * a + 1] = sin(t) * P[2 * a] + cos(t) * P[2 * a + 1] + ty;
  }
}

START_TEST(test_rest_zero) {
  unsigned long long rng = 77;
  for (int rep = 0; rep < 4; ++rep) {
    lc_mesh *m = pyramid(&rng, 0.15);
    ecase c;
    double Q[9], t[3], y[MAXN + 4];
    const int ids[] = {LC_E_stvk_3, LC_E_neohookean_3, LC_E_arap_3};
    for (size_t i = 0; i < 3; ++i)
      for (int f = 0; f < 4; ++f) {
        rest_case(&c, ids[i], m, f);
        expect_zero(&c, 1e-13, 1e-13, "at rest");
        rand_rotation(3, &rng, Q);
        for (int d = 0; d < 3; ++d) t[d] = lc_test_rand(&rng, -2, 2);
        transform(&c, Q, t, y);
        memcpy(c.x, y, sizeof y);
        expect_zero(&c, 1e-12, 1e-12, "rigidly moved");
      }
    for (int f = 0; f < lc_mesh_nflaps(m); ++f) {
      rest_case(&c, LC_E_bending_3, m, f);
      expect_zero(&c, 1e-28, 1e-14, "at rest");
    }
    for (int e = 0; e < lc_mesh_ne(m); ++e) {
      rest_case(&c, LC_E_spring_3, m, e);
      expect_zero(&c, 1e-28, 1e-14, "at rest");
      rest_case(&c, LC_E_res_edge_length_3, m, e);
      expect_zero(&c, 1e-28, 1e-14, "at rest");
    }
    for (int v = 0; v < 5; ++v) {
      rest_case(&c, LC_E_inertia_3, m, v);
      expect_zero(&c, 0.0, 0.0, "at rest");
      rest_case(&c, LC_E_target_4, m, v);
      expect_zero(&c, 0.0, 0.0, "at rest");
      rest_case(&c, LC_E_res_position_3, m, v);
      expect_zero(&c, 0.0, 0.0, "at rest");
    }
    for (int f = 0; f < 4; ++f) {
      const double t0 = lc_test_rand(&rng, -3, 3), tx = lc_test_rand(&rng, -2, 2);
      rest_case(&c, LC_E_arap_2, m, f);
      flat_rest(&c, t0, tx, 0.5);
      expect_zero(&c, 1e-12, 1e-12, "rigid");
      rest_case(&c, LC_E_symdir_2, m, f);
      flat_rest(&c, t0, tx, 0.5);
      double g[MAXN];
      const double e = c_grad(&c, c.x, g);
      ck_assert_msg(fabs(e - 4.0 * c.k[4]) < 1e-12 * e, "symdir rigid: E = %.17g, 4A = %.17g", e,
                    4.0 * c.k[4]);
      ck_assert_msg(vnorm(g, 6) < 1e-11, "symdir rigid: |g| = %g", vnorm(g, 6));
    }
    lc_mesh_destroy(m);
  }
}
END_TEST

START_TEST(test_infinite_domains) {
  unsigned long long rng = 5;
  lc_mesh *m = pyramid(&rng, 0.1);
  ecase c;
  double g[MAXN], H[MAXN * MAXN], v[MAXN] = {0}, hv[MAXN];
  /* symmetric Dirichlet: mirror the UV triangle (flip) */
  rest_case(&c, LC_E_symdir_2, m, 0);
  ck_assert(isfinite(c_val(&c, c.x)));
  for (int a = 0; a < 3; ++a) c.x[2 * a] = -c.x[2 * a];
  ck_assert(isinf(c_val(&c, c.x)) && c_val(&c, c.x) > 0);
  ck_assert(isinf(c.kern->grad(c.x, c.k, c.p, g)));
  ck_assert(isinf(c.kern->hvp(c.x, v, c.k, c.p, g, hv)));
  ck_assert(isinf(c.kern->hess(c.x, c.k, c.p, g, H)));
  /* collapsed: all three UVs on a line */
  for (int a = 0; a < 3; ++a) c.x[2 * a + 1] = 0.0;
  ck_assert(isinf(c_val(&c, c.x)));
  /* sphere_param: a face seen clockwise from the origin */
  rest_case(&c, LC_E_sphere_param_3, m, 1);
  ck_assert(isfinite(c_val(&c, c.x)));
  for (int d = 0; d < 3; ++d) {
    double s = c.x[3 + d];
    c.x[3 + d] = c.x[6 + d];
    c.x[6 + d] = s;
  }
  ck_assert(isinf(c_val(&c, c.x)) && c_val(&c, c.x) > 0);
  /* neo-Hookean: a triangle collapsed to a point */
  rest_case(&c, LC_E_neohookean_3, m, 2);
  for (int i = 3; i < 9; ++i) c.x[i] = c.x[i % 3];
  ck_assert(isinf(c_val(&c, c.x)) && c_val(&c, c.x) > 0);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_bending_sign) {
  /* flat square: flap (0, 2, 3, 1); fold either wing up by z */
  lc_mesh *m = square();
  ecase c;
  rest_case(&c, LC_E_bending_3, m, 0);
  ck_assert_int_eq(lc_mesh_flaps(m)[0], 0);
  ck_assert_int_eq(lc_mesh_flaps(m)[1], 2);
  ck_assert_int_eq(lc_mesh_flaps(m)[2], 3);
  ck_assert_int_eq(lc_mesh_flaps(m)[3], 1);
  const double w = c.k[1];
  c.k[0] = 0.0;
  c.p[0] = 1.0;
  /* E = k theta^2 w, so theta = +-sqrt(E / w); the sign via theta_bar shifts */
  const double z = 0.3;
  double e2[2], e3[2];
  for (int s = 0; s < 2; ++s) {
    c.k[0] = s ? 0.1 : -0.1;
    memcpy(c.x, c.rest, sizeof c.rest);
    c.x[8] = z; /* lift x2 (vertex 3) */
    e2[s] = c_val(&c, c.x);
    memcpy(c.x, c.rest, sizeof c.rest);
    c.x[11] = z; /* lift x3 (vertex 1) */
    e3[s] = c_val(&c, c.x);
  }
  /* both lifts give the same theta: equal energies for either theta_bar */
  ck_assert(fabs(e2[0] - e3[0]) < 1e-14 && fabs(e2[1] - e3[1]) < 1e-14);
  /* lifting along +z (n0 = +z) gives theta < 0: closer to theta_bar = -0.1 */
  ck_assert(e2[0] < e2[1]);
  /* magnitude: lifting x2 by z over the diagonal gives |theta| = atan(z / d) */
  const double d = sqrt(0.5), th = -atan(z / d);
  ck_assert(fabs(e2[0] - w * (th + 0.1) * (th + 0.1)) < 1e-14);
  /* flat: theta = 0 */
  memcpy(c.x, c.rest, sizeof c.rest);
  c.k[0] = 0.0;
  ck_assert(c_val(&c, c.x) == 0.0);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_stvk_hand_value) {
  /* rest (0,0,0) (2,0,0) (1,1,0): l = 2, xi = 1, eta = 1, Mr^-1 = [[.5,-.5],[0,1]], A = 1.
   * deformed (0,0,0) (2,0,0) (1,2,0): F = diag(1, 2), E = diag(0, 1.5),
   * W = mu 2.25 + lambda/2 2.25 = 7.875 for mu = 2, lambda = 3. */
  const double V[9] = {0, 0, 0, 2, 0, 0, 1, 1, 0};
  const int32_t F[3] = {0, 1, 2};
  lc_mesh *m = mk_mesh(V, 3, F, 1);
  ecase c;
  rest_case(&c, LC_E_stvk_3, m, 0);
  expect_k("stvk frame", c.k, (double[]){0.5, -0.5, 0, 1, 1}, 5);
  c.p[0] = 2.0;
  c.p[1] = 3.0;
  const double x[9] = {0, 0, 0, 2, 0, 0, 1, 2, 0};
  memcpy(c.x, x, sizeof x);
  ck_assert(fabs(c_val(&c, c.x) - 7.875) < 1e-14);
  /* rigidly moved: same value; with defaults mu = lambda = 1: 3.375 */
  double Q[9], t[3] = {0.3, -1, 2}, y[MAXN + 4];
  unsigned long long rng = 9;
  rand_rotation(3, &rng, Q);
  transform(&c, Q, t, y);
  ck_assert(fabs(c_val(&c, y) - 7.875) < 1e-13);
  c.p[0] = c.p[1] = 1.0;
  ck_assert(fabs(c_val(&c, c.x) - 3.375) < 1e-14);
  /* neo-Hookean at the same state: I1 = 5, J = 2:
   * W = mu/2 3 - mu log 2 + lambda/2 log(2)^2 */
  rest_case(&c, LC_E_neohookean_3, m, 0);
  memcpy(c.x, x, sizeof x);
  const double l2 = log(2.0);
  ck_assert(fabs(c_val(&c, c.x) - (1.5 - l2 + 0.5 * l2 * l2)) < 1e-14);
  /* arap_3: sigma = (1, 2): |F - R|^2 = (2 - 1)^2 = 1 */
  rest_case(&c, LC_E_arap_3, m, 0);
  memcpy(c.x, x, sizeof x);
  ck_assert(fabs(c_val(&c, c.x) - 1.0) < 1e-14);
  /* area_3 and area_2 (signed) */
  rest_case(&c, LC_E_area_3, m, 0);
  memcpy(c.x, x, sizeof x);
  ck_assert(fabs(c_val(&c, c.x) - 2.0) < 1e-15);
  rest_case(&c, LC_E_area_2, m, 0);
  const double u[6] = {0, 0, 0, 2, 1, 2}; /* clockwise */
  memcpy(c.x, u, sizeof u);
  ck_assert(fabs(c_val(&c, c.x) + 1.0) < 1e-15);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_small_values) {
  /* direct values of the simple energies at fixed inputs */
  const lc_elem_kernel *kn;
  double x[8], k[8], p[8];
  kn = lc_cpu_kernel(LC_E_gravity_3);
  x[0] = 1, x[1] = 2, x[2] = 3, k[0] = 2.0, p[0] = 0, p[1] = 0.5, p[2] = -9.8, p[3] = 1;
  ck_assert(fabs(kn->value(x, k, p) - (-2.0 * (1.0 - 29.4))) < 1e-13);
  kn = lc_cpu_kernel(LC_E_inertia_2);
  x[0] = 1, x[1] = 2, k[0] = 3, k[1] = 0, k[2] = 0;
  ck_assert(fabs(kn->value(x, k, p) - 7.5) < 1e-15);
  kn = lc_cpu_kernel(LC_E_dirichlet_4);
  const double y[8] = {0, 0, 0, 0, 1, 2, 3, 4};
  ck_assert(fabs(kn->value(y, k, p) - 30.0) < 1e-15);
  kn = lc_cpu_kernel(LC_E_cot_dirichlet_1);
  x[0] = 1, x[1] = 4, k[0] = 0.25;
  ck_assert(fabs(kn->value(x, k, p) - 2.25) < 1e-15);
  kn = lc_cpu_kernel(LC_E_spring_2);
  x[0] = 0, x[1] = 0, x[2] = 3, x[3] = 4, k[0] = 2, p[0] = 4;
  ck_assert(fabs(kn->value(x, k, p) - 18.0) < 1e-15);
  kn = lc_cpu_kernel(LC_E_sphere_param_3);
  const double z[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  p[0] = 0.5;
  ck_assert(fabs(kn->value(z, k, p) - (log(6.0) + 0.5 * 6.0)) < 1e-14);
  kn = lc_cpu_kernel(LC_E_arap_2);
  /* J = diag(2, 1) with Mr^-1 = I, A = 1: E = (2 - 1)^2 = 1; reflected J = diag(-1, 1): 4 */
  const double kk[5] = {1, 0, 0, 1, 1}, u1[6] = {0, 0, 2, 0, 0, 1}, u2[6] = {0, 0, -1, 0, 0, 1};
  ck_assert(fabs(kn->value(u1, kk, p) - 1.0) < 1e-15);
  ck_assert(fabs(kn->value(u2, kk, p) - 4.0) < 1e-15);
  kn = lc_cpu_kernel(LC_E_symdir_2);
  /* J = diag(2, 1): |J|^2 = 5, |J^-1|^2 = 1.25 */
  ck_assert(fabs(kn->value(u1, kk, p) - 6.25) < 1e-15);
}
END_TEST

/* ---- benchmark check values (W1 camelhead, W2 spot, W3 armadillo) ---------- */

/* Reads a mesh from the shared folder; NULL (and a note) if it is absent. */
static lc_mesh *bench_mesh(const char *file) {
  lc_mesh *m = NULL;
  lc_error err;
  if (lc_mesh_read_obj_file(lc_test_mesh_path(file), &m, &err) != LC_OK) {
    fprintf(stderr, "note: skipping benchmark check (%s)\n", err.msg);
    return NULL;
  }
  return m;
}

/* Sums over the natural elements of m: E, |g|, g.v, |Hv|, v^T H v for
 * instance id (default parameters) with variables x (nv x D) and
 * v_k = sin(0.7 k + 0.3); out[5]. */
static void elem_sums(const lc_mesh *m, int id, const double *x, double *out) {
  const lc_energy_info *in = lc_energy_get(id);
  const lc_elem_kernel *kn = lc_cpu_kernel(id);
  const int D = in->dim, K = in->K, n = D * lc_mesh_nv(m);
  double *g = calloc((size_t)n, sizeof *g), *hv = calloc((size_t)n, sizeof *hv);
  double e = 0.0, k[LC_ENERGY_MAX_CONSTS], xl[MAXN], vl[MAXN], gl[MAXN], hl[MAXN];
  int32_t t[LC_ENERGY_MAX_K];
  char why[128];
  for (int32_t f = 0; f < elem_count(m, in->kind); ++f) {
    elem_ents(m, in->kind, f, t);
    ck_assert_int_eq(in->setup(m, f, t, in->param_defaults, k, why), LC_OK);
    for (int a = 0; a < K; ++a)
      for (int d = 0; d < D; ++d) {
        xl[a * D + d] = x[t[a] * D + d];
        vl[a * D + d] = sin(0.7 * (t[a] * D + d) + 0.3);
      }
    e += kn->hvp(xl, vl, k, in->param_defaults, gl, hl);
    for (int a = 0; a < K; ++a)
      for (int d = 0; d < D; ++d) {
        g[t[a] * D + d] += gl[a * D + d];
        hv[t[a] * D + d] += hl[a * D + d];
      }
  }
  double gv = 0.0, vhv = 0.0;
  for (int i = 0; i < n; ++i) {
    gv += g[i] * sin(0.7 * i + 0.3);
    vhv += hv[i] * sin(0.7 * i + 0.3);
  }
  out[0] = e, out[1] = vnorm(g, n), out[2] = gv, out[3] = vnorm(hv, n), out[4] = vhv;
  free(g);
  free(hv);
}

/* The W2-W4 state of benchmarks.md: x_i = diag(1.2, 0.9, 1) X_i + 0.05 h
 * (sin 12.9898 i, sin 78.233 i, sin 37.719 i), h the mean rest edge length
 * (checked against the rounded value h_doc); caller frees. */
static double *bench_state(const lc_mesh *m, double h_doc) {
  const int32_t nv = lc_mesh_nv(m), ne = lc_mesh_ne(m);
  const double *V = lc_mesh_V(m);
  double *x = malloc(3 * (size_t)nv * sizeof *x), h = 0.0;
  for (int32_t e = 0; e < ne; ++e) {
    const int32_t *ed = lc_mesh_edges(m) + 2 * e;
    double d2 = 0.0;
    for (int c = 0; c < 3; ++c) d2 += pow(V[3 * ed[1] + c] - V[3 * ed[0] + c], 2);
    h += sqrt(d2) / ne;
  }
  ck_assert_msg(lc_test_reldiff(h, h_doc, 1e-300) < 1e-7, "mean edge %.17g", h);
  for (int32_t i = 0; i < nv; ++i) {
    x[3 * i] = 1.2 * V[3 * i] + 0.05 * h * sin(12.9898 * i);
    x[3 * i + 1] = 0.9 * V[3 * i + 1] + 0.05 * h * sin(78.233 * i);
    x[3 * i + 2] = 1.0 * V[3 * i + 2] + 0.05 * h * sin(37.719 * i);
  }
  return x;
}

/* Compares elem_sums against the table of benchmarks.md. */
static void expect_sums(const char *what, const double *got, const double *want) {
  const double tol[5] = {1e-11, 1e-11, 1e-9, 1e-9, 1e-9};
  for (int i = 0; i < 5; ++i)
    ck_assert_msg(lc_test_reldiff(got[i], want[i], 1e-300) < tol[i], "%s value %d: %.17g vs %.17g",
                  what, i, got[i], want[i]);
}

START_TEST(test_bench_w2_spot) {
  lc_mesh *m = bench_mesh("spot.obj");
  if (!m) return;
  double *x = bench_state(m, 0.047684436), out[5];
  elem_sums(m, LC_E_stvk_3, x, out);
  expect_sums("W2 spot", out,
              (double[]){0.26097729242595624, 1.664173105000498, -0.23005442245649,
                         774.46355025343, 33541.813762077});
  free(x);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_bench_w3_armadillo) {
  lc_mesh *m = bench_mesh("armadillo.obj");
  if (!m) return;
  double *x = bench_state(m, 0.0067536652), out[5];
  elem_sums(m, LC_E_spring_3, x, out);
  expect_sums("W3 armadillo", out,
              (double[]){0.0318032004098876, 0.27969310578993895, 0.036785873571352,
                         763.03894092558, 140208.04315707});
  free(x);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_bench_w1_camelhead) {
  lc_mesh *m = bench_mesh("camelhead.obj");
  if (!m) return;
  const int32_t nv = lc_mesh_nv(m);
  FILE *fp = fopen(lc_test_mesh_path("camelhead.tutte_uv.txt"), "r");
  ck_assert_ptr_nonnull(fp);
  double *u = malloc(2 * (size_t)nv * sizeof *u), out[5];
  char line[256];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, fp)); /* comment line */
  for (int32_t i = 0; i < nv; ++i)
    ck_assert_int_eq(fscanf(fp, "%lf %lf", &u[2 * i], &u[2 * i + 1]), 2);
  fclose(fp);
  elem_sums(m, LC_E_symdir_2, u, out);
  expect_sums("W1 camelhead", out,
              (double[]){144.95861683552215, 15524.632818107197, -5478.6122094870,
                         1.0793640470785e9, 6.7851940983135e9});
  free(u);
  lc_mesh_destroy(m);
}
END_TEST

/* ---- suite -------------------------------------------------------------------- */

static Suite *energies_suite(void) {
  Suite *s = suite_create("energies");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, test_instance_derivatives, 0, LC_E_COUNT);
  tcase_add_test(tc, test_registry_table);
  tcase_add_test(tc, test_registry_find);
  tcase_add_test(tc, test_setup_square);
  tcase_add_test(tc, test_setup_tetrahedron);
  tcase_add_test(tc, test_setup_degenerate);
  tcase_add_test(tc, test_rest_zero);
  tcase_add_test(tc, test_infinite_domains);
  tcase_add_test(tc, test_bending_sign);
  tcase_add_test(tc, test_stvk_hand_value);
  tcase_add_test(tc, test_small_values);
  tcase_add_test(tc, test_bench_w2_spot);
  tcase_add_test(tc, test_bench_w3_armadillo);
  tcase_add_test(tc, test_bench_w1_camelhead);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(energies_suite()); }
