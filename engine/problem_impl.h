/* problem_impl.h - internal layout of problems and terms, shared by
 * problem.c (object management), pattern.c (colouring, sparsity patterns)
 * and the backends' evaluation code.  Not a public header.
 *
 * Element data of a term is stored in colour order: elements of colour c
 * occupy [color_ptr[c], color_ptr[c+1]) and share no entity, so their
 * contributions can be scattered in parallel without atomics and in an
 * order that does not depend on the thread count.  Each colour is cut into
 * chunks of at most LC_CHUNK elements whose energies are summed separately
 * and then added in chunk order.  perm maps stored positions back to the
 * order in which the user gave the elements. */
#ifndef LC_PROBLEM_IMPL_H
#define LC_PROBLEM_IMPL_H

#include "backend.h"
#include "custom/custom.h"
#include "energies/kernels.h"
#include "problem.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define LC_CHUNK 256
#define LC_MAX_COLORS 256

typedef struct lc_variable {
  char name[64];
  lc_var_loc loc;
  int dim;
  int32_t n;   /* entities */
  int64_t off; /* first DOF */
} lc_variable;

typedef struct lc_term {
  int energy;
  const lc_energy_info *info;
  const lc_elem_kernel *kern;
  int var;
  double weight;
  int project;
  double params[LC_ENERGY_MAX_PARAMS];
  int32_t n_elem;
  int K, D, N, n_const, n_resid;
  int32_t *ent;        /* n_elem x K entity indices, stored order */
  double *consts;      /* n_elem x n_const, stored order */
  int32_t *perm;       /* stored position -> user element index */
  int32_t n_colors;
  int32_t *color_ptr;  /* n_colors + 1 element offsets */
  int32_t *color_chunk;/* n_colors + 1 chunk offsets */
  int32_t n_chunks;
  int32_t *chunk_ptr;  /* n_chunks + 1 element offsets */
  int serial_color;    /* colour whose elements may conflict (-1: none) */
  int32_t *slots;      /* n_elem x K x K row offsets into the Hessian, or NULL */
  int64_t res_row0;    /* first residual row (residual terms) */
  uint64_t gen_consts; /* bumped when the constants change (set_term_consts) */
  lc_custom *custom;   /* custom energy (retained), or NULL */
  lc_dag_ctx cctx;     /* its interpreter context with this term's parameters */
} lc_term;

/* The parameter pointer of term t's element functions: its parameters, or
 * for a custom term its context (which begins with them). */
static inline const double *lc_term_params(const lc_term *t) { return t->custom ? t->cctx.params : t->params; }

struct lc_problem {
  lc_mesh *mesh;
  lc_variable *vars;
  int n_vars;
  int64_t n_dofs;
  double *x;
  uint8_t *fixed;
  int64_t n_fixed;
  lc_term **terms; /* NULL where removed */
  int n_term_slots;
  int n_live_terms;
  /* Hessian pattern (full symmetric CSR) and values */
  int hess_valid;
  int32_t *rowptr, *col, *diag;
  double *hval;
  int64_t nnz;
  /* Jacobian (CSR, residual rows x DOFs) */
  int jac_valid;
  int64_t n_res;
  int32_t *jrowptr, *jcol;
  double *jval;
  int64_t jnnz;
  /* scratch */
  double *partials;
  int32_t partials_cap;
  int threads;
  /* where the problem is evaluated, and what its resident copy is behind */
  lc_backend be;
  uint64_t gen_terms;   /* terms and variables added or removed (weights and
                           constants are tracked per term) */
  uint64_t gen_fixed;   /* fixed flags */
  uint64_t gen_pattern; /* Hessian / Jacobian patterns rebuilt or dropped */
  uint64_t hess_gen;    /* the Hessian pattern's process-unique generation (0: none) */
  uint64_t gen_x;       /* the state x */
  /* staging buffers in backend memory for host-pointer calls (non-CPU) */
  double *st_x, *st_v, *st_g, *st_hv, *st_r, *st_E;
  int64_t st_n, st_nres;
  uint64_t st_xgen;     /* gen_x of the state in st_x (0: none) */
  /* pattern reserve (lc_problem_reserve_pattern): entity tuples whose
     couplings the Hessian pattern holds whether or not a term has them */
  int32_t *rsv_ent;     /* n_rsv x rsv_K entities of variable rsv_var */
  int64_t n_rsv;
  int rsv_var, rsv_K;
};

/* Bookkeeping of a backend's element Hessian cache (lc_eval_req.cache):
 * where each term's packed matrices start (stored element order) and what
 * they were stored from.  The matrices are backend memory, allocated and
 * freed by the backend; the rest is host memory (eval_cache.c). */
typedef struct lc_hcache {
  double *data;          /* size doubles of backend memory, or NULL */
  int64_t size;
  int64_t *off;          /* per term slot: first double of its matrices (-1: none) */
  uint64_t *gen_consts;  /* per term slot: its gen_consts at the last STORE */
  double *weight;        /* per term slot: its weight at the last STORE */
  int n_slots;           /* term slots of the three arrays */
  int valid;             /* a STORE completed on this layout */
  int project;           /* q->project of that STORE (0 or 1) */
  uint64_t gen_terms;    /* the problem's gen_terms of the layout */
  uint64_t gen_fixed;    /* the problem's gen_fixed at the last STORE */
} lc_hcache;

/* The element pass of q: its mode, or LC_EL_HVP_STORE / LC_EL_HVP_USE. */
lc_el_mode lc_eval_pass(const lc_eval_req *q);

/* Checks the cache request of q (the mode and which arrays it names); dev
 * names the device in the message. */
int lc_hcache_check_req(const lc_eval_req *q, const char *dev, lc_error *err);

/* Lays h out for p's terms and puts the doubles it needs into *need (the
 * backend then reallocates data when *need differs from size); forgets
 * what was stored. */
int lc_hcache_layout(lc_hcache *h, const lc_problem *p, int64_t *need, const char *dev, lc_error *err);

/* Records a completed STORE with projection flag project. */
void lc_hcache_mark(lc_hcache *h, const lc_problem *p, int project);

/* LC_OK if h holds the matrices of p's terms as they are now, stored with
 * projection flag project; else LC_EINVAL saying why (empty or stale). */
int lc_hcache_check_use(const lc_hcache *h, const lc_problem *p, int project, const char *dev,
                        lc_error *err);

/* 1 if h holds matrices and p's terms changed since they were laid out. */
int lc_hcache_outdated(const lc_hcache *h, const lc_problem *p);

/* Frees the host bookkeeping and clears h (the backend frees data first). */
void lc_hcache_reset(lc_hcache *h);

/* Runs q (host arrays; x NULL: the state) on p's backend, through the
 * staging buffers on a device: sync, evaluate, outputs back to q's arrays. */
int lc_problem_eval_req(lc_problem *p, const lc_eval_req *q, lc_error *err);

/* Colours the elements of t (entities are in t->ent, user order) and stores
 * them in colour order; fills perm, colours and chunks. */
int lc_term_color(lc_term *t, int32_t n_entities, lc_error *err);

/* Builds the Hessian pattern of all terms and each term's slots. */
int lc_pattern_build_hessian(lc_problem *p, lc_error *err);

/* Builds the Jacobian pattern of the residual terms. */
int lc_pattern_build_jacobian(lc_problem *p, lc_error *err);

/* Drops both patterns (terms or variables changed). */
void lc_pattern_invalidate(lc_problem *p);

/* Fills t's slots from the current Hessian pattern when every coupling of
 * its elements is in it: LC_OK; else LC_ENOTFOUND (slots freed) or
 * LC_ENOMEM.  The pattern must be valid and t stored on one variable. */
int lc_pattern_term_slots(const lc_problem *p, lc_term *t);

/* The element loop's view of term t with the problem's host arrays; a
 * device backend replaces the array pointers with its own copies. */
lc_el_term lc_term_el_view(const lc_problem *p, const lc_term *t, int project);

/* Frees the backend staging buffers of host-pointer evaluation calls. */
void lc_problem_free_staging(lc_problem *p);

/* Frees a term and everything it owns. */
void lc_term_free(lc_term *t);

#if defined(__cplusplus)
}
#endif

#endif
