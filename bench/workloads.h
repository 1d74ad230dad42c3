/* workloads.h - the standard workloads W1-W6 of shared/benchmarks.md, set up
 * as locad problems.  Shared by locad-bench and the test suites (which check
 * the published check values). */
#ifndef LC_WORKLOADS_H
#define LC_WORKLOADS_H

#include <stdint.h>

#include "lc_error.h"
#include "problem.h"

/* A workload set up and ready to evaluate. */
typedef struct lc_workload {
  int id;             /* 1..6 */
  char mesh[64];      /* mesh name ("face", "grid100", ...) */
  lc_mesh *m;         /* owned reference */
  lc_problem *p;      /* owned */
  int32_t n_elem;     /* elements of the main term */
  int grad_only;      /* W6: gradient only */
  const char *device; /* where the problem lives (set up with it) */
} lc_workload;

/* Check values of one workload/mesh pair (NaN where none is published). */
typedef struct lc_check {
  double energy, gnorm, gv, hvnorm, vhv, hfro;
} lc_check;

/* Sets up workload id (1..6) on mesh `name` (a file in mesh_dir, or the grid
 * size n for W5/W6) on device ("cpu", "cuda:N"; NULL: "cpu"); fills *w.
 * Release with lc_workload_free. */
int lc_workload_setup(int id, const char *name, const char *mesh_dir, int grid_n,
                      const char *device, lc_workload *w, lc_error *err);

/* Frees what lc_workload_setup created. */
void lc_workload_free(lc_workload *w);

/* The published check values for (id, mesh); returns 0 when none exist. */
int lc_workload_check(int id, const char *mesh, lc_check *out);

/* The benchmark direction v_k = sin(0.7 k + 0.3), n values into v. */
void lc_workload_direction(double *v, int64_t n);

struct lc_dag_builder;

/* The main energy of workload id (1: symmetric Dirichlet, 2: StVK with
 * parameters mu, lambda, 3: spring with parameter k, 4: dihedral bending
 * with parameter k), with the built-in's constants, written as a
 * custom-energy DAG into b (reset first; K 3 / 3 / 2 / 4 entities of
 * dimension 2 / 3 / 3 / 3); *out: the output node.  LC_EINVAL for other ids
 * or a builder too small. */
int lc_workload_custom_dag(int id, struct lc_dag_builder *b, int32_t *out);

/* Generates the n x n grid mesh on [0,1]^2 of benchmarks.md (W5, W6). */
int lc_workload_grid(int n, lc_mesh **out, lc_error *err);

#endif
