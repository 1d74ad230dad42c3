/* dag_rev.h - value and gradient of a custom energy by reverse mode: one
 * passive pass over the register-form program (custom/dag.h) that records
 * each instruction's partial derivatives, then one sweep back that carries
 * adjoints.  Host and device code (LC_HD).
 *
 * Why: in gradient mode the forward interpreter (custom/dag_ad.h) moves an
 * AD scalar of N + 1 doubles through memory per instruction; the reverse
 * sweep moves two doubles forward and one adjoint back, whatever N is.
 *
 * Same rules as the forward interpreter: values are computed with the same
 * operations as the AD types' (so the energy is the same to the bit);
 * comparisons carry no derivative; select, min and max pass the adjoint to
 * the operand taken (the first on a tie); abs takes +1 at 0; pow of a
 * non-positive base differentiates like a constant exponent, and its
 * exponent's partial (f log a, not finite there) only reaches the gradient
 * when the exponent depends on the variables, as the forward mode's does.
 * A zero adjoint is not propagated, so a branch that select did not take
 * adds nothing even where its partials are infinite. */
#ifndef LC_DAG_REV_H
#define LC_DAG_REV_H

#include <math.h>

#include "ad/lc_ad_base.h"
#include "custom/custom.h"

/* Longest program the reverse sweep takes (its record lives on the stack:
 * 2 doubles per instruction); longer ones run forward. */
#define LC_DAG_REV_MAX_INS 1024

/* Value of instruction q from the registers r, with the partials p[0], p[1]
 * of its operands (a, b; for select b, c). */
LC_HD double lc_dag_rev_step_(const lc_dag_ins *q, const double *r, const double *x,
                              const double *k, const double *prm, double *p) {
  p[0] = p[1] = 0.0;
  switch (q->op) { /* the leaves: a indexes x, k or p, not a register */
  case LC_DAG_X: return x[q->a];
  case LC_DAG_K: return k[q->a];
  case LC_DAG_P: return prm[q->a];
  case LC_DAG_C: return q->v;
  default: break;
  }
  const double a = r[q->a];
#define LC_DAG_REV_CONST_ (q->b == LC_DAG_K ? k[q->c] : q->b == LC_DAG_P ? prm[q->c] : q->v)
  switch (q->op) {
  case LC_DAG_ADD: p[0] = p[1] = 1.0; return a + r[q->b];
  case LC_DAG_SUB: p[0] = 1.0; p[1] = -1.0; return a - r[q->b];
  case LC_DAG_MUL: p[0] = r[q->b]; p[1] = a; return a * r[q->b];
  case LC_DAG_DIV: {
    const double ib = 1.0 / r[q->b], f = a / r[q->b];
    p[0] = ib;
    p[1] = -f * ib;
    return f;
  }
  case LC_DAG_NEG: p[0] = -1.0; return a * -1.0;
  case LC_DAG_SQRT: {
    const double f = sqrt(a);
    p[0] = 0.5 / f;
    return f;
  }
  case LC_DAG_EXP: {
    const double f = exp(a);
    p[0] = f;
    return f;
  }
  case LC_DAG_LOG: p[0] = 1.0 / a; return log(a);
  case LC_DAG_SIN: p[0] = cos(a); return sin(a);
  case LC_DAG_COS: p[0] = -sin(a); return cos(a);
  case LC_DAG_TAN: {
    const double t = tan(a);
    p[0] = 1.0 + t * t;
    return t;
  }
  case LC_DAG_ABS: p[0] = a < 0.0 ? -1.0 : 1.0; return a < 0.0 ? a * -1.0 : a;
  case LC_DAG_POWC:
    if (q->v == 2.0) {
      p[0] = 2.0 * a;
      return a * a;
    }
    p[0] = q->v == 0.0 ? 0.0 : q->v * pow(a, q->v - 1.0);
    return pow(a, q->v);
  case LC_DAG_POW: {
    const double b = r[q->b], f = pow(a, b); /* a <= 0: as a^const (forward mode) */
    p[0] = a <= 0.0 && b == 0.0 ? 0.0 : b * pow(a, b - 1.0);
    p[1] = f * log(a);
    return f;
  }
  case LC_DAG_ATAN2: {
    const double xb = r[q->b], ir2 = 1.0 / (xb * xb + a * a);
    p[0] = xb * ir2;
    p[1] = -a * ir2;
    return atan2(a, xb);
  }
  case LC_DAG_MIN: p[r[q->b] < a] = 1.0; return r[q->b] < a ? r[q->b] : a;
  case LC_DAG_MAX: p[r[q->b] > a] = 1.0; return r[q->b] > a ? r[q->b] : a;
  case LC_DAG_LT: return a < r[q->b] ? 1.0 : 0.0;
  case LC_DAG_LE: return a <= r[q->b] ? 1.0 : 0.0;
  case LC_DAG_GT: return a > r[q->b] ? 1.0 : 0.0;
  case LC_DAG_GE: return a >= r[q->b] ? 1.0 : 0.0;
  case LC_DAG_EQ: return a == r[q->b] ? 1.0 : 0.0;
  case LC_DAG_NE: return a != r[q->b] ? 1.0 : 0.0;
  case LC_DAG_SELECT: p[a == 0.0] = 1.0; return a != 0.0 ? r[q->b] : r[q->c];
  case LC_DAG_ADDC: p[0] = 1.0; return a + LC_DAG_REV_CONST_;
  case LC_DAG_SUBC: p[0] = 1.0; return a - LC_DAG_REV_CONST_;
  case LC_DAG_CSUB: p[0] = -1.0; return a * -1.0 + LC_DAG_REV_CONST_;
  case LC_DAG_MULC: p[0] = LC_DAG_REV_CONST_; return a * p[0];
  case LC_DAG_DIVC: p[0] = 1.0 / LC_DAG_REV_CONST_; return a / LC_DAG_REV_CONST_;
  case LC_DAG_CDIV: {
    const double ia = 1.0 / a, f = LC_DAG_REV_CONST_ / a;
    p[0] = -f * ia;
    return f;
  }
  default: return NAN; /* lowered away by lc_dag_create */
  }
#undef LC_DAG_REV_CONST_
}

/* Adds adjoint w of instruction q's result into its operands' adjoints
 * (variables: into g), with the partials p recorded by the forward pass. */
LC_HD void lc_dag_rev_back_(const lc_dag_ins *q, double w, const double *p, double *adj,
                            double *g) {
  switch (q->op) {
  case LC_DAG_X: g[q->a] += w; return;
  case LC_DAG_K: case LC_DAG_P: case LC_DAG_C:
  case LC_DAG_LT: case LC_DAG_LE: case LC_DAG_GT: case LC_DAG_GE: case LC_DAG_EQ: case LC_DAG_NE:
    return;
  case LC_DAG_SELECT:
    adj[q->b] += w * p[0];
    adj[q->c] += w * p[1];
    return;
  case LC_DAG_ADD: case LC_DAG_SUB: case LC_DAG_MUL: case LC_DAG_DIV: case LC_DAG_POW:
  case LC_DAG_ATAN2: case LC_DAG_MIN: case LC_DAG_MAX:
    if (p[0] != 0.0) adj[q->a] += w * p[0]; /* the operand not taken by min / max: nothing */
    if (p[1] != 0.0) adj[q->b] += w * p[1];
    return;
  default: adj[q->a] += w * p[0]; return; /* one operand */
  }
}

/* Value and gradient g[n_var] of the custom element of context c at the
 * local variables x (constants k): for an energy DAG its output, for a
 * residual DAG 1/2 |r|^2 (summed as custom/e_custom.h sums it).  Returns 1
 * with *e set, or 0 (g untouched) for a program longer than
 * LC_DAG_REV_MAX_INS, which the caller then runs forward. */
LC_HD int lc_dag_rev_grad(const lc_dag_ctx *c, const double *x, const double *k, int n_var,
                          double *g, double *e) {
  double r[LC_DAG_MAX_REGS], adj[LC_DAG_MAX_REGS], tape[2 * LC_DAG_REV_MAX_INS];
  const int32_t n = c->n_ins;
  if (n > LC_DAG_REV_MAX_INS) return 0;
  for (int32_t i = 0; i < n; ++i) r[c->ins[i].d] = lc_dag_rev_step_(&c->ins[i], r, x, k, c->params, tape + 2 * i);
  for (int32_t i = 0; i < c->n_regs; ++i) adj[i] = 0.0;
  for (int i = 0; i < n_var; ++i) g[i] = 0.0;
  if (c->n_res == 0) {
    *e = r[c->outs[0]];
    adj[c->outs[0]] = 1.0;
  } else {
    double s = r[c->outs[0]] * r[c->outs[0]];
    for (int i = 1; i < c->n_res; ++i) s = s + r[c->outs[i]] * r[c->outs[i]];
    *e = s * 0.5;
    for (int i = 0; i < c->n_res; ++i) adj[c->outs[i]] += r[c->outs[i]];
  }
  for (int32_t i = n - 1; i >= 0; --i) {
    const lc_dag_ins *q = &c->ins[i];
    const double w = adj[q->d];
    adj[q->d] = 0.0; /* the register's earlier value starts with no adjoint */
    if (w != 0.0) lc_dag_rev_back_(q, w, tape + 2 * i, adj, g);
  }
  return 1;
}

#endif
