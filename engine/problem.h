/* problem.h - optimization problems: a mesh, variables, fixed DOFs and a sum
 * of energy terms, with evaluation of the energy and its derivatives.
 *
 * Variables live on the vertices or faces of the mesh and have dimension 1-12
 * (3D positions, 2D UVs, per-face complex numbers, the 12-component nodes of
 * embedded deformation).  All variables together
 * form one flat DOF vector x: variable after variable, each entity-major
 * (x0 y0 z0 x1 y1 z1 ...).  The problem owns x (its current state).
 *
 * A term is an energy (engine/energies/registry.h) applied, with a weight,
 * to every element of one kind (all vertices, edges, faces, edge flaps, face
 * pairs of the mesh) or to an explicit list of elements (vertex pairs,
 * vertex-face and edge-edge contacts ...).  Its per-element constants (rest
 * shapes) are computed from the mesh when the term is added, or supplied.
 *
 * Fixed DOFs keep prescribed values.  Derivatives treat them as constants:
 * their gradient entries are 0; the Hessian keeps its sparsity pattern but
 * has zero rows and columns for them except a 1 on the diagonal; a
 * Hessian-vector product returns v_i for a fixed DOF i and ignores v_i in
 * the free rows; Jacobian columns of fixed DOFs are 0.
 *
 * Evaluation is deterministic: bit-identical results whatever the number of
 * threads (elements are coloured so that no two elements of a colour share
 * an entity, and energies are summed in a fixed order).  A term may evaluate
 * to +inf (a flipped triangle); then the total energy is +inf and the
 * gradient, Hessian and HVP omit that element.
 *
 * Ownership: the problem holds a reference to its mesh.  Arrays passed in are
 * copied; arrays returned (lc_csr views, lc_problem_x) are borrowed and valid
 * until the next call that changes the problem or evaluates the same kind of
 * output. */
#ifndef LC_PROBLEM_H
#define LC_PROBLEM_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "energies/registry.h"
#include "lc_error.h"
#include "mesh/mesh.h"

/* Largest variable dimension. */
#define LC_VAR_MAX_DIM 12

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct lc_problem lc_problem;

/* A borrowed compressed-sparse-row matrix (int32 indices, float64 values). */
typedef struct lc_csr {
  int32_t nrows, ncols;
  int64_t nnz;
  const int32_t *rowptr; /* nrows + 1 (int32: nnz must stay below 2^31) */
  const int32_t *col;    /* nnz, sorted within each row */
  const double *val;     /* nnz */
  uint64_t gen;          /* the pattern's generation, unique in the process while
                            rowptr and col stay as they are (0: unknown); lets a
                            solver reuse its symbolic analysis without reading
                            the pattern */
} lc_csr;

/* What a term is made of; zero-initialise and fill what applies. */
typedef struct lc_term_desc {
  const char *energy;          /* energy name, e.g. "stvk" */
  int var;                     /* variable id */
  double weight;               /* >= 0 (0 treated as 1 unless weight_set) */
  int weight_set;              /* 1: weight is used as given, 0 included */
  const int32_t *elems;        /* explicit elements (n_elems x K) or NULL for all */
  int32_t n_elems;
  int n_params;                /* named parameters overriding defaults */
  const char *const *param_names;
  const double *param_values;
  const double *consts;        /* per-element constants (n_elems x n_const) or NULL */
  int no_project;              /* 1: never PSD-project this term's element Hessians; elements
                                * of more than LC_PSD_MAXN (12) local variables never are */
  struct lc_custom *custom;    /* a custom energy (custom/custom.h) instead of `energy`: the
                                * term retains it; every one of its parameters must be given */
} lc_term_desc;

/* Creates an empty problem on mesh (the problem retains it), evaluated on
 * device: "cpu", "cuda:N" or "auto"/NULL (the first usable GPU, else the
 * CPU; see device.h).  A named device that cannot be used is an error. */
int lc_problem_create(lc_mesh *mesh, const char *device, lc_problem **out, lc_error *err);

/* The device the problem lives on: "cpu" or "cuda:N" (borrowed). */
const char *lc_problem_device(const lc_problem *p);

/* How many times the host has read data back from the problem's backend
 * (on a GPU every read is a synchronisation; on the CPU it is a copy). */
uint64_t lc_problem_host_reads(const lc_problem *p);

/* Destroys the problem and releases its mesh reference. NULL is a no-op. */
void lc_problem_destroy(lc_problem *p);

/* The problem's mesh (borrowed). */
const lc_mesh *lc_problem_mesh(const lc_problem *p);

/* Adds a variable of dimension dim (1..LC_VAR_MAX_DIM) on loc; init (n_entities x dim) or
 * NULL: rest positions for vertex variables of dim <= 3 (first dim
 * coordinates), zeros otherwise.  Its id goes to *var. */
int lc_problem_add_variable(lc_problem *p, const char *name, lc_var_loc loc, int dim,
                            const double *init, int *var, lc_error *err);

/* Number of variables. */
int lc_problem_n_vars(const lc_problem *p);

/* Describes variable var: location, dimension, entity count, first DOF. */
int lc_problem_var_info(const lc_problem *p, int var, lc_var_loc *loc, int *dim, int32_t *n,
                        int64_t *offset);

/* Finds a variable by name; returns its id or LC_ENOTFOUND. */
int lc_problem_find_var(const lc_problem *p, const char *name);

/* Name of variable var (borrowed, valid while the problem lives), or NULL
 * when var is out of range. */
const char *lc_problem_var_name(const lc_problem *p, int var);

/* Total number of DOFs. */
int64_t lc_problem_n_dofs(const lc_problem *p);

/* The current state x (borrowed, n_dofs). */
const double *lc_problem_x(const lc_problem *p);

/* Replaces the whole state x (n_dofs values; must be finite). */
int lc_problem_set_x(lc_problem *p, const double *x, lc_error *err);

/* Sets the values of variable var (n_entities x dim, finite). */
int lc_problem_set_variable(lc_problem *p, int var, const double *vals, lc_error *err);

/* Copies the values of variable var into out (n_entities x dim). */
int lc_problem_get_variable(const lc_problem *p, int var, double *out, lc_error *err);

/* Fixes n entities of variable var (all dim components); values
 * (n x dim) or NULL to keep the current ones. */
int lc_problem_fix(lc_problem *p, int var, int32_t n, const int32_t *entities,
                   const double *values, lc_error *err);

/* Frees n entities of variable var; n < 0 frees every entity of var. */
int lc_problem_unfix(lc_problem *p, int var, int32_t n, const int32_t *entities, lc_error *err);

/* Sets every DOF's fixed flag from flags (n_dofs values, 0 or 1; the values
 * of x are kept); nothing changes on failure. */
int lc_problem_set_fixed_flags(lc_problem *p, const uint8_t *flags, lc_error *err);

/* Per-DOF fixed flags (borrowed, n_dofs; 1 = fixed). */
const uint8_t *lc_problem_fixed(const lc_problem *p);

/* Number of fixed DOFs. */
int64_t lc_problem_n_fixed(const lc_problem *p);

/* Adds a term; its id goes to *term. */
int lc_problem_add_term(lc_problem *p, const lc_term_desc *d, int *term, lc_error *err);

/* Removes term `term`. */
int lc_problem_remove_term(lc_problem *p, int term, lc_error *err);

/* The weighted energy of term `term` alone at x (n_dofs; NULL: the state)
 * into *E, summed on the host in stored element order with the CPU element
 * kernels (a diagnostic: per-term figures for reports and tests). */
int lc_problem_term_energy(lc_problem *p, int term, const double *x, double *E, lc_error *err);

/* Replaces the elements of term `term` by n >= 0 new ones (n x K entities
 * in elems; constants n x n_const, or NULL for the setup's), keeping its
 * energy, weight, parameters and projection flag.  When the current Hessian
 * pattern already holds every coupling of the new elements it is kept
 * (*kept = 1, may be NULL): no rebuild, and a direct solver keeps its
 * symbolic factorisation; otherwise it is rebuilt at the next assembly.
 * A term may be left with no elements (it then contributes nothing).  On
 * failure the term is unchanged. */
int lc_problem_replace_elements(lc_problem *p, int term, const int32_t *elems, int32_t n, const double *consts,
                                int *kept, lc_error *err);

/* Makes the Hessian pattern of variable var hold the couplings of n
 * entity tuples (n x K in elems, copied) whatever the terms, replacing any
 * earlier reserve (n = 0 drops it): a superset pattern that element lists
 * changing inside it (lc_problem_replace_elements) keep.  The pattern is
 * rebuilt at the next assembly.  On failure nothing changes. */
int lc_problem_reserve_pattern(lc_problem *p, int var, int K, const int32_t *elems, int64_t n, lc_error *err);

/* Replaces the per-element constants of a term (n_elems x n_const, element
 * order as given when the term was added). */
int lc_problem_set_term_consts(lc_problem *p, int term, const double *consts, lc_error *err);

/* Copies the per-element constants of a term into out (user element order). */
int lc_problem_get_term_consts(const lc_problem *p, int term, double *out, lc_error *err);

/* Sets a term's weight (>= 0, finite). */
int lc_problem_set_term_weight(lc_problem *p, int term, double weight, lc_error *err);

/* Number of live terms, and the largest term id + 1. */
int lc_problem_n_terms(const lc_problem *p);
int lc_problem_term_capacity(const lc_problem *p);

/* The energy info of term `term` (a built-in's, or its custom energy's), or NULL. */
const struct lc_energy_info *lc_problem_term_energy_info(const lc_problem *p, int term);

/* The custom energy of term `term` (borrowed), or NULL for a built-in. */
const struct lc_custom *lc_problem_term_custom(const lc_problem *p, int term);

/* Describes term `term`: energy id, variable, element count, colour count. */
int lc_problem_term_info(const lc_problem *p, int term, int *energy, int *var, int32_t *n_elems,
                         int32_t *n_colors, lc_error *err);

/* Number of residual rows (sum over residual terms of elements x m). */
int64_t lc_problem_n_residuals(const lc_problem *p);

/* Bytes of element and pattern data per element (indices, constants, colour
 * permutation, Hessian slots), summed over terms; 0 before the first
 * Hessian. */
double lc_problem_bytes_per_element(const lc_problem *p);

/* Heap bytes held by the problem (state, terms, pattern, values). */
size_t lc_problem_bytes(const lc_problem *p);

/* ---- evaluation (on the problem's device; x == NULL evaluates at the
 * current state; arrays are host memory, results bit-identical for any
 * number of CPU threads) ----------------------------------------------- */

/* Total energy. */
int lc_problem_energy(lc_problem *p, const double *x, double *E, lc_error *err);

/* Energy and gradient g (n_dofs, caller-owned). */
int lc_problem_gradient(lc_problem *p, const double *x, double *E, double *g, lc_error *err);

/* Energy, gradient (g may be NULL) and the assembled Hessian (full symmetric
 * CSR, borrowed view in *H); project: 1 = PSD-project the element Hessians of
 * every term that allows it, 0 = exact Hessian. */
int lc_problem_hessian(lc_problem *p, const double *x, int project, double *E, double *g,
                       lc_csr *H, lc_error *err);

/* Energy, gradient (g may be NULL) and Hv = H v, matrix-free (project as in
 * lc_problem_hessian). */
int lc_problem_hvp(lc_problem *p, const double *x, const double *v, int project, double *E,
                   double *g, double *Hv, lc_error *err);

/* Residual vector r (n_residuals, caller-owned, may be NULL) and its sparse
 * Jacobian (borrowed view in *J, may be NULL), weighted by sqrt(weight). */
int lc_problem_jacobian(lc_problem *p, const double *x, double *r, lc_csr *J, lc_error *err);

/* Largest step alpha along d (n_dofs) from x (NULL: the state) that keeps
 * every element admissible, from the energies' step bounds (+inf if none
 * applies). */
int lc_problem_max_step(lc_problem *p, const double *x, const double *d, double *alpha,
                        lc_error *err);

/* Energy, gradient (g may be NULL) and the Gauss-Newton Hessian: residual
 * terms contribute w J^T J per element, other terms their (projected, if
 * project) Hessian.  Same pattern as lc_problem_hessian. */
int lc_problem_gn_hessian(lc_problem *p, const double *x, int project, double *E, double *g,
                          lc_csr *H, lc_error *err);

/* Sets the number of CPU threads used by evaluation (0 = OpenMP default). */
void lc_problem_set_threads(lc_problem *p, int threads);

#if defined(__cplusplus)
}
#endif

#endif
