/* dag_ad.h - the custom-energy interpreter over the AD scalar of the current
 * mode (no include guard: included once per AD type with LC_AD_T defined,
 * like an energy source).  Host and device code (LC_HD): it runs the
 * register form of a checked DAG (custom/dag.h) instruction by instruction
 * on S values, so value, gradient, HVP and Hessian come from the same
 * forward-mode arithmetic as the built-in energies, and a program that
 * writes the same operations as a built-in source gives the same numbers.
 *
 * Derivative rules: comparisons give constants (1 or 0) and have none;
 * select, min and max carry the derivatives of the branch taken (min and max
 * the first operand on a tie, like s_min / s_max); abs takes +1 at 0. */

/* Runs n register-form instructions on r[n_regs] from the local variables
 * x[N] (seeded AD scalars), constants k and parameters p; the outputs are
 * then in the registers lc_dag_output_regs names.  The function is
 * LC_F(dag_run), or LC_DAG_RUN when the includer names it (one per
 * instance and mode: custom/e_custom.h). */
#ifndef LC_DAG_RUN
#define LC_DAG_RUN LC_F(dag_run)
#define LC_DAG_RUN_DEFAULT_
#endif
LC_HD void LC_DAG_RUN(const lc_dag_ins *ins, int32_t n, S *r, const S *x, const double *k, const double *p) {
  for (int32_t i = 0; i < n; ++i) {
    const lc_dag_ins *q = &ins[i];
    S *o = &r[q->d]; /* operands are read (copied) before o is written: o may be one of them */
#define LC_DAG_CONST_ (q->b == LC_DAG_K ? k[q->c] : q->b == LC_DAG_P ? p[q->c] : q->v)
    switch (q->op) {
    case LC_DAG_X: *o = x[q->a]; break;
    case LC_DAG_K: *o = s_c(k[q->a]); break;
    case LC_DAG_P: *o = s_c(p[q->a]); break;
    case LC_DAG_C: *o = s_c(q->v); break;
    case LC_DAG_ADD: *o = s_add(r[q->a], r[q->b]); break;
    case LC_DAG_SUB: *o = s_sub(r[q->a], r[q->b]); break;
    case LC_DAG_MUL: *o = s_mul(r[q->a], r[q->b]); break;
    case LC_DAG_DIV: *o = s_div(r[q->a], r[q->b]); break;
    case LC_DAG_NEG: *o = s_neg(r[q->a]); break;
    case LC_DAG_SQRT: *o = s_sqrt(r[q->a]); break;
    case LC_DAG_EXP: *o = s_exp(r[q->a]); break;
    case LC_DAG_LOG: *o = s_log(r[q->a]); break;
    case LC_DAG_SIN: *o = s_sin(r[q->a]); break;
    case LC_DAG_COS: *o = s_cos(r[q->a]); break;
    case LC_DAG_TAN: *o = s_tan(r[q->a]); break;
    case LC_DAG_ABS: *o = s_abs(r[q->a]); break;
    case LC_DAG_POWC: *o = q->v == 2.0 ? s_sq(r[q->a]) : s_powc(r[q->a], q->v); break;
    case LC_DAG_POW: *o = s_pow(r[q->a], r[q->b]); break;
    case LC_DAG_ATAN2: *o = s_atan2(r[q->a], r[q->b]); break;
    case LC_DAG_MIN: *o = s_min(r[q->a], r[q->b]); break;
    case LC_DAG_MAX: *o = s_max(r[q->a], r[q->b]); break;
    case LC_DAG_LT: *o = s_c(s_lt(r[q->a], r[q->b]) ? 1.0 : 0.0); break;
    case LC_DAG_LE: *o = s_c(s_le(r[q->a], r[q->b]) ? 1.0 : 0.0); break;
    case LC_DAG_GT: *o = s_c(s_gt(r[q->a], r[q->b]) ? 1.0 : 0.0); break;
    case LC_DAG_GE: *o = s_c(s_ge(r[q->a], r[q->b]) ? 1.0 : 0.0); break;
    case LC_DAG_EQ: *o = s_c(s_v(r[q->a]) == s_v(r[q->b]) ? 1.0 : 0.0); break;
    case LC_DAG_NE: *o = s_c(s_v(r[q->a]) != s_v(r[q->b]) ? 1.0 : 0.0); break;
    case LC_DAG_SELECT: *o = s_v(r[q->a]) != 0.0 ? r[q->b] : r[q->c]; break;
    case LC_DAG_ADDC: *o = s_addc(r[q->a], LC_DAG_CONST_); break;
    case LC_DAG_SUBC: *o = s_subc(r[q->a], LC_DAG_CONST_); break;
    case LC_DAG_CSUB: *o = s_csub(LC_DAG_CONST_, r[q->a]); break;
    case LC_DAG_MULC: *o = s_mulc(r[q->a], LC_DAG_CONST_); break;
    case LC_DAG_DIVC: *o = s_divc(r[q->a], LC_DAG_CONST_); break;
    case LC_DAG_CDIV: *o = s_cdiv(LC_DAG_CONST_, r[q->a]); break;
    default: *o = s_c(NAN); break; /* lowered away by lc_dag_create */
    }
#undef LC_DAG_CONST_
  }
}
#ifdef LC_DAG_RUN_DEFAULT_
#undef LC_DAG_RUN
#undef LC_DAG_RUN_DEFAULT_
#endif
