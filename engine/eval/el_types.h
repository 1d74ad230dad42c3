/* el_types.h - what the shared element loop (eval/el_inst.h) reads and
 * writes, as plain structs that compile as C11 and as CUDA C++.
 *
 * A backend fills one lc_el_term per term and one lc_el_out per evaluation
 * with pointers into its own memory (host arrays for the CPU backend, device
 * arrays for the CUDA backend) and calls the element functions of the term's
 * energy instance.  Nothing here owns memory. */
#ifndef LC_EL_TYPES_H
#define LC_EL_TYPES_H

#include <stdint.h>

#include "energies/registry.h"

/* Threshold below which projected eigenvalues are raised (lc_psd.h). */
#define LC_PSD_EPS 1e-9

/* Evaluation modes of the element loop. */
typedef enum {
  LC_EL_ENERGY = 0, /* weighted energy */
  LC_EL_GRAD,       /* + gradient */
  LC_EL_HESS,       /* + gradient (if g) + Hessian values through the slots */
  LC_EL_GN,         /* as HESS, residual terms give w J^T J */
  LC_EL_HVP,        /* + gradient (if g) + H v */
  LC_EL_JAC,        /* residuals and Jacobian rows (residual terms only) */
  LC_EL_NMODES,
  /* element passes of the Hessian cache (lc_eval_req.cache), numbered after
   * the modes so that the chunk tables and launchers take them alike */
  LC_EL_HVP_STORE = LC_EL_NMODES, /* as HVP; element Hessians into the cache */
  LC_EL_HVP_USE,                  /* H v from the cache only */
  LC_EL_NPASSES
} lc_el_mode;

/* One term, as the element loop sees it (stored = colour order). */
typedef struct lc_el_term {
  const int32_t *ent;     /* n_elem x K entity indices */
  const double *consts;   /* n_elem x n_const */
  const int32_t *slots;   /* n_elem x K x K block offsets (HESS/GN), or NULL */
  const int32_t *perm;    /* stored -> user element index (JAC) */
  const int32_t *chunk_ptr; /* n_chunks + 1 element offsets */
  double params[LC_ENERGY_MAX_PARAMS];
  double weight;
  int64_t off;            /* first DOF of the term's variable */
  int64_t res_row0;       /* first residual row (JAC) */
  int n_const;
  int project;            /* 1: PSD-project this term's element Hessians now */
  double *hc;             /* n_elem x N(N+1)/2 packed element Hessians (cache
                             passes), or NULL */
  const void *user;       /* custom terms: the interpreter context (custom/custom.h);
                             NULL for built-ins */
} lc_el_term;

/* The arrays of one evaluation. Outputs that are NULL are not written. */
typedef struct lc_el_out {
  const double *x;        /* n_dofs state */
  const double *v;        /* n_dofs direction (HVP) */
  const uint8_t *fixed;   /* n_dofs fixed flags */
  double *g;              /* n_dofs gradient (accumulated) */
  double *hv;             /* n_dofs H v (accumulated) */
  double *H;              /* Hessian values (accumulated) */
  const int32_t *rowptr;  /* Hessian CSR row pointers */
  double *r;              /* residuals (JAC) */
  double *J;              /* Jacobian values (JAC) */
  const int32_t *jrowptr; /* Jacobian CSR row pointers (JAC) */
} lc_el_out;

/* Evaluates the elements [s0, s1) of a term in one mode and returns the sum
 * of their weighted energies, added in element order. */
typedef double (*lc_el_chunk_fn)(const lc_el_term *t, const lc_el_out *o, int32_t s0, int32_t s1);

#endif
