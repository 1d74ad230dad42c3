/* workloads.c - W1-W6 of shared/benchmarks.md as locad problems, with their
 * published check values.  Setup (files, topology, rest frames) is not part
 * of any timing. */
#include "workloads.h"

#include "custom/dag_build.h"

#include "apps/apps.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Mean rest length h over the unique undirected edges (W2-W4 states).  The
 * check values use h at full precision, not the 8 digits printed in
 * benchmarks.md (which moves the W2 energy by ~4e-9 relative). */
static double mean_edge(const lc_mesh *m) {
  const double *V = lc_mesh_V(m);
  const int32_t *E = lc_mesh_edges(m), ne = lc_mesh_ne(m);
  double sum = 0.0;
  for (int32_t e = 0; e < ne; ++e) {
    const double *a = V + 3 * (int64_t)E[2 * e], *b = V + 3 * (int64_t)E[2 * e + 1];
    sum += sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
  }
  return sum / ne;
}

/* Published check values: id, mesh, energy, |g|, g.v, |Hv|, v.Hv, |H_proj|_F. */
static const struct {
  int id;
  const char *mesh;
  lc_check c;
} checks[] = {
    {1, "camelhead", {144.95861683552215, 15524.632818107197, -5478.6122094870, 1.0793640470785e9, 6.7851940983135e9, 1.9627681979629e9}},
    {1, "face", {207280.16619477276, 2250350.405536436, 457798.97202399, 1.1971679475016e10, 1.2069129925271e11, 1.5557626728865e10}},
    {1, "grid_224", {6.3415424499927671, 122692.72055612195, -1034.2470692459, 9.3476909914079e9, 3.8817985255091e9, 3.2566097600105e10}},
    {2, "spot", {0.26097729242595624, 1.664173105000498, -0.23005442245649, 774.46355025343, 33541.813762077, 1055.0286894765}},
    {2, "armadillo", {0.077404359076258283, 0.93224401659849543, 0.47545723944025, 2774.3952504200, 442448.38392796, 4068.7391434925}},
    {2, "igea", {9.2958398798186e-4, 0.11043679653144527, -6.2841355503876e-3, 6225.2801442192, 1651330.7774115, 9867.6659903227}},
    {3, "armadillo", {0.0318032004098876, 0.27969310578993895, 0.036785873571352, 763.03894092558, 140208.04315707, 1083.6302399533}},
    {3, "igea", {3.9113537926081619e-4, 0.028450157132175344, 4.8606374117678e-3, 1525.4871700533, 519081.80930590, 1902.3796980874}},
};

/* The published check values for (id, mesh); returns 0 when none exist. */
int lc_workload_check(int id, const char *mesh, lc_check *out) {
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; ++i)
    if (checks[i].id == id && !strcmp(checks[i].mesh, mesh)) {
      *out = checks[i].c;
      return 1;
    }
  return 0;
}

/* The benchmark direction v_k = sin(0.7 k + 0.3). */
void lc_workload_direction(double *v, int64_t n) {
  for (int64_t k = 0; k < n; ++k) v[k] = sin(0.7 * (double)k + 0.3);
}

/* Generates the n x n grid mesh on [0,1]^2 of benchmarks.md (W5, W6): the
 * applications' grid generator with size 1. */
int lc_workload_grid(int n, lc_mesh **out, lc_error *err) { return lc_app_grid(n, 1.0, out, err); }

/* Reads the Tutte UV file of mesh into uv (nv x 2). */
static int read_uv(const char *dir, const char *mesh, int32_t nv, double *uv, lc_error *err) {
  char path[1024], line[256];
  snprintf(path, sizeof path, "%s/%s.tutte_uv.txt", dir, mesh);
  FILE *f = fopen(path, "r");
  if (!f) return lc_error_set(err, LC_EIO, "cannot open %s", path);
  int32_t i = 0;
  while (i < nv && fgets(line, sizeof line, f))
    if (line[0] != '#' && sscanf(line, "%lf %lf", &uv[2 * i], &uv[2 * i + 1]) == 2) ++i;
  fclose(f);
  return i == nv ? LC_OK : lc_error_set(err, LC_EPARSE, "%s: %d UV lines, expected %d", path, i, nv);
}

/* The W2-W4 state: scaled rest positions plus a deterministic wiggle. */
static void deformed_state(const lc_mesh *m, double h, double *x) {
  const double *V = lc_mesh_V(m);
  for (int32_t i = 0; i < lc_mesh_nv(m); ++i) {
    const double di = (double)i;
    x[3 * i + 0] = 1.2 * V[3 * i + 0] + 0.05 * h * sin(12.9898 * di);
    x[3 * i + 1] = 0.9 * V[3 * i + 1] + 0.05 * h * sin(78.233 * di);
    x[3 * i + 2] = 1.0 * V[3 * i + 2] + 0.05 * h * sin(37.719 * di);
  }
}

/* Adds a term with optional parameters to the workload's problem. */
static int add(lc_workload *w, const char *energy, double weight, int np, const char *const *names,
               const double *vals, int *id, lc_error *err) {
  lc_term_desc d = {0};
  d.energy = energy;
  d.var = 0;
  d.weight = weight;
  d.weight_set = 1;
  d.n_params = np;
  d.param_names = names;
  d.param_values = vals;
  return lc_problem_add_term(w->p, &d, id, err);
}

/* W1-W4: a shared mesh file, one term. */
static int setup_file(lc_workload *w, const char *dir, lc_error *err) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.obj", dir, w->mesh);
  int rc = lc_mesh_read_obj_file(path, &w->m, err);
  if (!rc) rc = lc_problem_create(w->m, w->device, &w->p, err);
  if (rc) return rc;
  const int32_t nv = lc_mesh_nv(w->m);
  const int dim = w->id == 1 ? 2 : 3;
  double *x = malloc((size_t)nv * dim * sizeof *x);
  if (!x) return lc_error_set(err, LC_ENOMEM, "workload: out of memory");
  if (w->id == 1) rc = read_uv(dir, w->mesh, nv, x, err);
  else deformed_state(w->m, mean_edge(w->m), x);
  if (!rc) rc = lc_problem_add_variable(w->p, "x", LC_LOC_VERTEX, dim, x, NULL, err);
  free(x);
  static const char *const energy[] = {"", "symmetric_dirichlet", "stvk", "spring", "bending"};
  if (!rc) rc = add(w, energy[w->id], 1.0, 0, NULL, NULL, NULL, err);
  if (!rc) lc_problem_term_info(w->p, 0, NULL, NULL, &w->n_elem, NULL, NULL);
  return rc;
}

/* W5 inertia constants: keep the lumped masses, set x~ to the state. */
static int cloth_inertia(lc_workload *w, int term, const double *x, lc_error *err) {
  const int32_t nv = lc_mesh_nv(w->m);
  double *k = malloc((size_t)nv * 4 * sizeof *k);
  if (!k) return lc_error_set(err, LC_ENOMEM, "workload: out of memory");
  int rc = lc_problem_get_term_consts(w->p, term, k, err);
  for (int32_t i = 0; !rc && i < nv; ++i) memcpy(k + 4 * i + 1, x + 3 * i, 3 * sizeof *k);
  if (!rc) rc = lc_problem_set_term_consts(w->p, term, k, err);
  free(k);
  return rc;
}

/* W5 (cloth) and W6 (smooth) on a generated grid. */
static int setup_grid(lc_workload *w, int n, lc_error *err) {
  int rc = lc_workload_grid(n, &w->m, err);
  if (!rc) rc = lc_problem_create(w->m, w->device, &w->p, err);
  if (rc) return rc;
  const int32_t nv = lc_mesh_nv(w->m);
  double *x = malloc((size_t)nv * 3 * sizeof *x);
  if (!x) return lc_error_set(err, LC_ENOMEM, "workload: out of memory");
  memcpy(x, lc_mesh_V(w->m), (size_t)nv * 3 * sizeof *x);
  for (int32_t v = 0; v < nv; ++v) {
    if (w->id == 5) { x[3 * v] *= 1.3; x[3 * v + 1] *= 1.3; }
    else x[3 * v + 2] = 0.01 * sin(12.9898 * v);
  }
  rc = lc_problem_add_variable(w->p, "x", LC_LOC_VERTEX, 3, x, NULL, err);
  const double h2 = 0.01 * 0.01;
  static const char *const kn[] = {"k"}, *const dn[] = {"density"}, *const gn[] = {"gz", "density"};
  const double kv[] = {4e4}, dv[] = {100.0}, gv[] = {-9.8, 100.0};
  int inertia = -1;
  if (!rc && w->id == 6) rc = add(w, "dirichlet", 1.0, 0, NULL, NULL, NULL, err);
  if (!rc && w->id == 5) rc = add(w, "spring", h2, 1, kn, kv, NULL, err);
  if (!rc && w->id == 5) rc = add(w, "inertia", 1.0, 1, dn, dv, &inertia, err);
  if (!rc && w->id == 5) rc = add(w, "gravity", h2, 2, gn, gv, NULL, err);
  if (!rc && w->id == 5) rc = cloth_inertia(w, inertia, x, err);
  free(x);
  if (!rc) lc_problem_term_info(w->p, 0, NULL, NULL, &w->n_elem, NULL, NULL);
  w->grad_only = w->id == 6;
  return rc;
}

/* Sets up workload id on mesh `name` (or grid size grid_n for W5/W6). */
int lc_workload_setup(int id, const char *name, const char *mesh_dir, int grid_n,
                      const char *device, lc_workload *w, lc_error *err) {
  memset(w, 0, sizeof *w);
  w->device = device ? device : "cpu";
  w->id = id;
  int rc;
  if (id >= 1 && id <= 4) {
    snprintf(w->mesh, sizeof w->mesh, "%s", name ? name : "");
    rc = setup_file(w, mesh_dir, err);
  } else if (id == 5 || id == 6) {
    snprintf(w->mesh, sizeof w->mesh, "grid%d", grid_n);
    rc = setup_grid(w, grid_n, err);
  } else {
    rc = lc_error_set(err, LC_EINVAL, "no workload W%d (W1..W6)", id);
  }
  if (rc) lc_workload_free(w);
  return rc;
}

/* Frees what lc_workload_setup created. */
void lc_workload_free(lc_workload *w) {
  lc_problem_destroy(w->p);
  lc_mesh_destroy(w->m);
  w->p = NULL;
  w->m = NULL;
}


/* ---- W1-W3 as custom-energy DAGs (the builder is the argument G) ------------------ */

#define B(op, a, b) lc_dagb_bin(G, op, a, b)
#define U(op, a) lc_dagb_un(G, op, a)
#define C(v) lc_dagb_lit(G, v)
#define X(e) lc_dagb_x(G, e, -1)
#define Xc(e, c) lc_dagb_x(G, e, c)
#define K(i) lc_dagb_k(G, i)
#define P(i) lc_dagb_p(G, i)
#define SQ(a) lc_dagb_powc(G, a, 2.0)
#define MAT2(a, b, c, d) lc_dagb_n(G, LC_DAG_MAT, 4, (const int32_t[]){a, b, c, d}, 2, 2)

/* W1: A |J|^2 (1 + 1/det(J)^2) with J = M Mr^-1 if det M > 0, else 1/0. */
static int32_t dag_symdir(lc_dag_builder *G) {
  const int32_t e1x = B(LC_DAG_SUB, Xc(1, 0), Xc(0, 0)), e1y = B(LC_DAG_SUB, Xc(1, 1), Xc(0, 1));
  const int32_t e2x = B(LC_DAG_SUB, Xc(2, 0), Xc(0, 0)), e2y = B(LC_DAG_SUB, Xc(2, 1), Xc(0, 1));
  const int32_t M = MAT2(e1x, e2x, e1y, e2y), J = B(LC_DAG_MUL, M, MAT2(K(0), K(1), K(2), K(3)));
  const int32_t detm = U(LC_DAG_DET2, M), detj = U(LC_DAG_DET2, J);
  const int32_t fro = U(LC_DAG_TRACE, B(LC_DAG_MUL, U(LC_DAG_TRANSPOSE, J), J));
  const int32_t E = B(LC_DAG_MUL, B(LC_DAG_MUL, fro, B(LC_DAG_ADD, B(LC_DAG_DIV, C(1.0), SQ(detj)), C(1.0))), K(4));
  const int32_t args[3] = {B(LC_DAG_GT, detm, C(0.0)), E, B(LC_DAG_DIV, C(1.0), C(0.0))};
  return lc_dagb_n(G, LC_DAG_SELECT, 3, args, -1, -1);
}

/* W2: A (mu |E|^2 + lambda/2 tr(E)^2), E = (F^T F - I)/2, F = [x1-x0, x2-x0] Mr^-1. */
static int32_t dag_stvk(lc_dag_builder *G) {
  const int32_t d1 = B(LC_DAG_SUB, X(1), X(0)), d2 = B(LC_DAG_SUB, X(2), X(0));
  const int32_t f0 = B(LC_DAG_ADD, B(LC_DAG_MUL, d1, K(0)), B(LC_DAG_MUL, d2, K(2)));
  const int32_t f1 = B(LC_DAG_ADD, B(LC_DAG_MUL, d1, K(1)), B(LC_DAG_MUL, d2, K(3)));
  const int32_t e00 = B(LC_DAG_MUL, B(LC_DAG_SUB, U(LC_DAG_SQNORM, f0), C(1.0)), C(0.5));
  const int32_t e11 = B(LC_DAG_MUL, B(LC_DAG_SUB, U(LC_DAG_SQNORM, f1), C(1.0)), C(0.5));
  const int32_t e01 = B(LC_DAG_MUL, B(LC_DAG_DOT, f0, f1), C(0.5));
  const int32_t fro = B(LC_DAG_ADD, B(LC_DAG_ADD, SQ(e00), SQ(e11)), B(LC_DAG_MUL, SQ(e01), C(2.0)));
  const int32_t lam = B(LC_DAG_MUL, SQ(B(LC_DAG_ADD, e00, e11)), B(LC_DAG_MUL, C(0.5), P(1)));
  return B(LC_DAG_MUL, B(LC_DAG_ADD, B(LC_DAG_MUL, fro, P(0)), lam), K(4));
}

/* W3: 1/2 k (|x1 - x0| - L)^2. */
static int32_t dag_spring(lc_dag_builder *G) {
  const int32_t e = B(LC_DAG_SUB, U(LC_DAG_NORM, B(LC_DAG_SUB, X(1), X(0))), K(0));
  return B(LC_DAG_MUL, SQ(e), B(LC_DAG_MUL, C(0.5), P(0)));
}

/* W4: k (theta - theta_bar)^2 |e_bar|^2 / A_bar, theta = atan2((n0 x n1).e, n0.n1). */
static int32_t dag_bending(lc_dag_builder *G) {
  const int32_t e01 = B(LC_DAG_SUB, X(1), X(0));
  const int32_t n0 = B(LC_DAG_CROSS, e01, B(LC_DAG_SUB, X(2), X(0)));
  const int32_t n1 = B(LC_DAG_CROSS, B(LC_DAG_SUB, X(0), X(1)), B(LC_DAG_SUB, X(3), X(1)));
  const int32_t e = B(LC_DAG_DIV, e01, U(LC_DAG_NORM, e01));
  const int32_t th = B(LC_DAG_ATAN2, B(LC_DAG_DOT, B(LC_DAG_CROSS, n0, n1), e), B(LC_DAG_DOT, n0, n1));
  return B(LC_DAG_MUL, SQ(B(LC_DAG_SUB, th, K(0))), B(LC_DAG_MUL, P(0), K(1)));
}

#undef B
#undef U
#undef C
#undef X
#undef Xc
#undef K
#undef P
#undef SQ
#undef MAT2

/* The main energy of workload id as a DAG. */
int lc_workload_custom_dag(int id, lc_dag_builder *b, int32_t *out) {
  b->n = 0;
  if (id < 1 || id > 4) return LC_EINVAL;
  *out = id == 1 ? dag_symdir(b) : id == 2 ? dag_stvk(b) : id == 3 ? dag_spring(b) : dag_bending(b);
  return *out >= 0 ? LC_OK : LC_EINVAL;
}
