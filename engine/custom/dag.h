/* dag.h - custom energies as data: a typed expression DAG over one element's
 * local variables, constants and parameters, checked and lowered to a flat
 * scalar program.
 *
 * A client describes an energy (or a residual vector) as nodes in order; each
 * node names an operation and earlier nodes as arguments, so a valid DAG has
 * no cycles by construction (an argument that is not an earlier node is
 * refused, naming both nodes).  Nodes have shapes: scalar, boolean (the
 * comparisons, only for select), vector (n <= LC_DAG_MAX_VEC) and matrix
 * (r, c <= LC_DAG_MAX_MAT).  lc_dag_create checks every node (operation,
 * arity, shapes, index ranges, finite literals, limits on nodes, depth and
 * program size), lowers vectors and matrices to scalars, drops what no output
 * uses, and fingerprints the program.  The lowered program is what the
 * evaluators run: lc_dag_eval here (doubles, the reference), and the per-
 * element AD interpreter and the generated CUDA source over the same
 * instructions.  Nothing from a client is ever compiled as given: only this
 * program, after these checks.
 *
 * Ownership: lc_dag_create copies what it needs from the description; the
 * lc_dag is immutable and freed by lc_dag_destroy. */
#ifndef LC_DAG_H
#define LC_DAG_H

#include <stdint.h>

#include "../lc_error.h"

#define LC_DAG_MAX_NODES 4096   /* nodes of a description */
#define LC_DAG_MAX_DEPTH 256    /* longest argument chain, in nodes */
#define LC_DAG_MAX_INS 16384    /* scalar instructions after lowering */
#define LC_DAG_MAX_VEC 12       /* vector length */
#define LC_DAG_MAX_MAT 3        /* matrix rows and columns */
#define LC_DAG_MAX_ARGS 16      /* arguments of one node (vec, mat) */
#define LC_DAG_MAX_K 4          /* entities per element */
#define LC_DAG_MAX_N 24         /* local variables K * D */
#define LC_DAG_MAX_CONSTS 16    /* per-element constants */
#define LC_DAG_MAX_PARAMS 8     /* term parameters */
#define LC_DAG_MAX_OUT 6        /* residual components */
#define LC_DAG_MAX_COUT 16      /* outputs of a constants DAG (LC_DAG_CONSTS) */

/* What a DAG's outputs are (lc_dag_desc.residual). */
enum { LC_DAG_ENERGY = 0, LC_DAG_RESIDUALS = 1, LC_DAG_CONSTS = 2 };

/* Operations of a description.  The scalar program uses the subset up to
 * LC_DAG_SELECT; the rest are lowered away. */
typedef enum {
  /* leaves */
  LC_DAG_X = 0,   /* x(e) vector of entity e's D components; x(e, c) scalar */
  LC_DAG_K,       /* k(i) scalar constant i; k(i, n) vector of constants i..i+n-1 */
  LC_DAG_P,       /* p(i) scalar parameter i */
  LC_DAG_C,       /* literal value */
  /* arithmetic: scalars, or elementwise on equal shapes (mul, div: see SPEC) */
  LC_DAG_ADD, LC_DAG_SUB, LC_DAG_MUL, LC_DAG_DIV, LC_DAG_NEG,
  /* elementwise functions */
  LC_DAG_SQRT, LC_DAG_EXP, LC_DAG_LOG, LC_DAG_SIN, LC_DAG_COS, LC_DAG_TAN, LC_DAG_ABS,
  LC_DAG_POWC,    /* a ^ value (literal exponent) */
  /* scalar binary functions */
  LC_DAG_POW, LC_DAG_ATAN2, LC_DAG_MIN, LC_DAG_MAX,
  /* comparisons of scalars: boolean results */
  LC_DAG_LT, LC_DAG_LE, LC_DAG_GT, LC_DAG_GE, LC_DAG_EQ, LC_DAG_NE,
  LC_DAG_SELECT,  /* select(cond, a, b): a where cond holds, else b (equal shapes) */
  /* shape builders and helpers, lowered to the above */
  LC_DAG_VEC,     /* vec(s0, ..., sn-1) */
  LC_DAG_MAT,     /* mat(s...) row-major; i0 = rows, i1 = columns */
  LC_DAG_INDEX,   /* index(v, i0) or index(m, i0, i1) */
  LC_DAG_DOT, LC_DAG_CROSS, LC_DAG_NORM, LC_DAG_SQNORM,
  LC_DAG_DET2, LC_DAG_DET3, LC_DAG_INV2, LC_DAG_INV3, LC_DAG_TRANSPOSE, LC_DAG_TRACE,
  LC_DAG_OP_COUNT,
  /* register form only (lc_dag_program_regs): an arithmetic operation with
   * one operand a constant, a = the other operand's register, b = where the
   * constant is (LC_DAG_K, LC_DAG_P: c = its index; LC_DAG_C: v) */
  LC_DAG_ADDC = LC_DAG_OP_COUNT, /* a + const */
  LC_DAG_SUBC,                   /* a - const */
  LC_DAG_CSUB,                   /* const - a */
  LC_DAG_MULC,                   /* a * const */
  LC_DAG_DIVC,                   /* a / const */
  LC_DAG_CDIV,                   /* const / a */
  LC_DAG_LOWERED_COUNT
} lc_dag_op;

/* One node of a description.  args are earlier node indices; i0, i1 the
 * integer operands (entity and component, constant index and length, matrix
 * shape, index); value the literal (C) or exponent (POWC). */
typedef struct lc_dag_node {
  int op;                           /* lc_dag_op */
  int nargs;
  int32_t args[LC_DAG_MAX_ARGS];
  int32_t i0, i1;                   /* -1 when absent */
  double value;
} lc_dag_node;

/* A description: the element shape, counts, nodes, and outputs (one scalar
 * node for an energy; scalar or vector nodes, flattened, for residuals). */
typedef struct lc_dag_desc {
  int K, D;                         /* entities per element, components (N = K D) */
  int n_const, n_param;
  int residual;                     /* LC_DAG_ENERGY, LC_DAG_RESIDUALS (<= 6 outputs) or LC_DAG_CONSTS
                                       (per-element constants from the rest shape, <= 16) */
  int32_t n_nodes;
  const lc_dag_node *nodes;
  int n_out;
  const int32_t *out;
} lc_dag_desc;

/* One scalar instruction.  X: a = local variable (entity * D + component);
 * K, P: a = index; C: v; POWC: a, v; unary: a; binary and comparisons: a, b;
 * SELECT: a = condition, b, c.  In the slot form (lc_dag_program) operands
 * name earlier instructions and d is the instruction's own index; in the
 * register form (lc_dag_program_regs) operands and d are registers, reused
 * once a value is dead, so an evaluator holds only n_regs values. */
typedef struct lc_dag_ins {
  int32_t op, a, b, c, d;
  double v;
} lc_dag_ins;

typedef struct lc_dag lc_dag;

/* Checks and lowers d into *out (NULL on failure, with err naming the node:
 * "node 7 (add): ..."). */
int lc_dag_create(const lc_dag_desc *d, lc_dag **out, lc_error *err);

/* A copy of g into *out (NULL and an error when out of memory). */
int lc_dag_clone(const lc_dag *g, lc_dag **out, lc_error *err);

/* Frees a DAG; NULL is a no-op. */
void lc_dag_destroy(lc_dag *g);

/* The lowered program: *n instructions (valid while g lives). */
const lc_dag_ins *lc_dag_program(const lc_dag *g, int32_t *n);

/* The same program in register form: *n instructions over *n_regs
 * registers (valid while g lives).  Arithmetic with a constant operand (a
 * k, p or c node used only there) becomes one of the fused operations
 * LC_DAG_ADDC..LC_DAG_CDIV, as the built-in sources write s_mulc and the
 * like, so no AD scalar is made for the constant. */
const lc_dag_ins *lc_dag_program_regs(const lc_dag *g, int32_t *n, int32_t *n_regs);

/* The registers holding the outputs after the register-form program: *n of them. */
const int32_t *lc_dag_output_regs(const lc_dag *g, int *n);

/* The output slots: *n of them (1 for an energy). */
const int32_t *lc_dag_outputs(const lc_dag *g, int *n);

/* Element shape and counts as described: K, D, n_const, n_param, residual. */
void lc_dag_shape(const lc_dag *g, int *K, int *D, int *n_const, int *n_param, int *residual);

/* 64-bit fingerprint of the shape and the lowered program (equal programs,
 * equal hashes; the key of compiled-kernel caches). */
uint64_t lc_dag_hash(const lc_dag *g);

/* Evaluates the outputs in doubles at local variables x (N), constants k
 * and parameters p into out (n outputs), running the register form; work
 * holds n_regs doubles (NULL: allocated and freed here).  Returns LC_OK, or
 * LC_ENOMEM. */
int lc_dag_eval(const lc_dag *g, const double *x, const double *k, const double *p, double *out, double *work);

/* How many of an instruction's operands a, b, c (in that order) name
 * instructions (slot form) or registers (register form) for scalar op op. */
int lc_dag_ins_nargs(int op);

/* The name of operation op ("add", "x", ...), or NULL outside the enum. */
const char *lc_dag_op_name(int op);

/* The operation named name (as lc_dag_op_name), or -1. */
int lc_dag_op_find(const char *name, int len);

#endif
