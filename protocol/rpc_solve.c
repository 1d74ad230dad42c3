/* rpc_solve.c - the numerical RPC methods: problem.eval (energy, gradient,
 * Hessian, HVP, Jacobian), problem.solve (with progress notifications and
 * cancellation) and problem.step (implicit Euler). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_impl.h"
#include "solvers/lin_block.h"
#include "solvers/local_global.h"

/* ---- problem.eval ------------------------------------------------------ */

enum { W_ENERGY = 1, W_GRADIENT = 2, W_HESSIAN = 4, W_HVP = 8, W_JACOBIAN = 16 };

/* Parses one "what" name into its flag (0: unknown). */
static int what_flag(const msgpack_object *s) {
  static const char *names[] = {"energy", "gradient", "hessian", "hvp", "jacobian"};
  for (int i = 0; i < 5; ++i)
    if (lc_codec_str_eq(s, names[i])) return 1 << i;
  return 0;
}

/* Reads "what" (a name or a list of names; default "energy") into flags. */
static int get_what(const msgpack_object *params, int *flags, lc_error *err) {
  const msgpack_object *w = lc_codec_get(params, "what");
  *flags = W_ENERGY;
  if (!w) return 0;
  if (w->type == MSGPACK_OBJECT_STR) *flags = what_flag(w);
  else if (w->type == MSGPACK_OBJECT_ARRAY) {
    *flags = 0;
    for (uint32_t i = 0; i < w->via.array.size; ++i) {
      const int f = what_flag(&w->via.array.ptr[i]);
      if (!f) { *flags = 0; break; }
      *flags |= f;
    }
  } else {
    return RPC_FAIL(err, LC_RPC_EPARAMS, "'what' must be a string or a list of strings");
  }
  if (!*flags)
    return RPC_FAIL(err, LC_RPC_EINVAL,
                    "'what' must name energy, gradient, hessian, hvp or jacobian");
  return 0;
}

/* Evaluation inputs and scratch. */
typedef struct eval_ctx {
  lc_problem *p;
  const double *x, *v;
  int project;
  int64_t n;
  double E;
} eval_ctx;

/* Packs the vector y (n values) under key. */
static void kv_vec(msgpack_packer *pk, const char *key, const double *y, int64_t n) {
  lc_codec_pack_str(pk, key);
  lc_codec_pack_ndarray(pk, LC_DT_F8, 1, &n, y);
}

/* Evaluates the outputs named by flags and packs them (energy last). */
static int eval_pack(eval_ctx *c, int flags, msgpack_packer *pk, lc_error *err) {
  const int64_t m = lc_problem_n_residuals(c->p);
  double *buf = malloc(((size_t)(c->n > m ? c->n : m) + 1) * sizeof *buf);
  int code = buf ? 0 : RPC_FAIL(err, LC_RPC_ENOMEM, "out of memory");
  lc_csr H;
  if (!code && (flags & W_GRADIENT)) {
    code = rpc_ecode(lc_problem_gradient(c->p, c->x, &c->E, buf, err));
    if (!code) kv_vec(pk, "gradient", buf, c->n);
  }
  if (!code && (flags & W_HESSIAN)) {
    code = rpc_ecode(lc_problem_hessian(c->p, c->x, c->project, &c->E, NULL, &H, err));
    if (!code) {
      lc_codec_pack_str(pk, "hessian");
      lc_codec_pack_csr(pk, &H);
    }
  }
  if (!code && (flags & W_HVP)) {
    code = rpc_ecode(lc_problem_hvp(c->p, c->x, c->v, c->project, &c->E, NULL, buf, err));
    if (!code) kv_vec(pk, "hvp", buf, c->n);
  }
  if (!code && (flags & W_JACOBIAN)) {
    code = rpc_ecode(lc_problem_jacobian(c->p, c->x, buf, &H, err));
    if (!code) {
      kv_vec(pk, "residual", buf, m);
      lc_codec_pack_str(pk, "jacobian");
      lc_codec_pack_csr(pk, &H);
    }
  }
  if (!code && !(flags & (W_GRADIENT | W_HESSIAN | W_HVP)))
    code = rpc_ecode(lc_problem_energy(c->p, c->x, &c->E, err));
  if (!code) rpc_kv_dbl(pk, "energy", c->E);
  free(buf);
  return code;
}

/* problem.eval {problem, what, x?, v?, project?}. */
int rpc_m_problem_eval(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                          msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)call;
  eval_ctx c = {.p = o->prob, .n = lc_problem_n_dofs(o->prob)};
  lc_ndarray x = {0}, v = {0};
  int flags = 0;
  int code = get_what(params, &flags, err);
  if (!code) code = rpc_pcode(lc_codec_get_bool(params, "project", 0, &c.project, err));
  if (!code) code = rpc_pcode(lc_codec_get_ndarray(params, "x", 0, LC_DT_F8, c.n, 0, &x, err));
  if (!code && (flags & W_HVP))
    code = rpc_pcode(lc_codec_get_ndarray(params, "v", 1, LC_DT_F8, c.n, 0, &v, err));
  if (!code) {
    c.x = x.n >= 0 ? x.data : NULL;
    c.v = v.data;
    const int entries = 1 + !!(flags & W_GRADIENT) + !!(flags & W_HESSIAN) + !!(flags & W_HVP) +
                        2 * !!(flags & W_JACOBIAN);
    msgpack_pack_map(pk, (size_t)entries);
    code = eval_pack(&c, flags, pk, err);
  }
  lc_codec_ndarray_free(&x);
  lc_codec_ndarray_free(&v);
  return code;
}

/* ---- problem.solve / problem.step -------------------------------------- */

/* Progress context: the call, the problem id, notify every k iterations. */
typedef struct progress_ctx {
  const lc_rpc_call *call;
  uint64_t problem;
  const char *method;
  int every;
} progress_ctx;

/* Solver progress callback: packs and sends a problem.progress notification. */
static int on_progress(void *user, const lc_iter_stats *it) {
  const progress_ctx *c = user;
  if (!c->call || !c->call->notify || c->every <= 0 || it->iter % c->every) return 0;
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 3);
  msgpack_pack_int(&pk, 2);
  lc_codec_pack_str(&pk, "problem.progress");
  msgpack_pack_map(&pk, 9);
  rpc_kv_int(&pk, "problem", (int64_t)c->problem);
  rpc_kv_str(&pk, "method", c->method);
  rpc_kv_int(&pk, "iter", it->iter);
  rpc_kv_dbl(&pk, "energy", it->energy);
  rpc_kv_dbl(&pk, "gnorm", it->gnorm);
  rpc_kv_dbl(&pk, "step", it->step);
  rpc_kv_dbl(&pk, "decrement", it->decrement);
  rpc_kv_int(&pk, "ls_trials", it->ls_trials);
  rpc_kv_int(&pk, "lin_iters", it->lin_iters);
  if (sb.data) c->call->notify(c->call->user, sb.data, sb.size);
  msgpack_sbuffer_destroy(&sb);
  return 0;
}

/* Reads options.condense {var, first, count}: components [first, first +
 * count) of every entity of var eliminated by static condensation. */
static int condense_option(const lc_problem *p, const msgpack_object *cm, lc_solve_opts *o, lc_error *err) {
  int64_t first = 0, count = 0;
  int dim = 0;
  lc_var_loc loc;
  if (cm->type != MSGPACK_OBJECT_MAP) return RPC_FAIL(err, LC_RPC_EPARAMS, "options.condense must be a map");
  int code = rpc_get_var(p, cm, "var", &o->condense_var, err);
  if (!code) lc_problem_var_info(p, o->condense_var, &loc, &dim, NULL, NULL);
  if (!code) code = rpc_pcode(lc_codec_get_int(cm, "first", 1, 0, dim - 1, 0, &first, err));
  if (!code) code = rpc_pcode(lc_codec_get_int(cm, "count", 1, 1, dim - first, 1, &count, err));
  o->condense_c0 = (int)first;
  o->condense_c1 = (int)(first + count);
  return code;
}

/* The error of an unknown options key: names it (printable) and lists the known ones. */
static int unknown_option(const msgpack_object *key, const char *const *known, size_t n, lc_error *err) {
  char shown[80] = "(not a string)", list[512] = "";
  const char *p;
  size_t len;
  if (lc_codec_strbin(key, &p, &len)) lc_codec_printable(shown, sizeof shown, p, len);
  for (size_t k = 0, at = 0; k < n && at < sizeof list; ++k)
    at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", k ? ", " : "", known[k]);
  return RPC_FAIL(err, LC_RPC_EPARAMS, "options: unknown key '%s'; known: %s", shown, list);
}

/* Reads the "options" map into o (method already set); unknown keys are errors. */
static int solve_options(const lc_problem *p, const msgpack_object *params, lc_solve_opts *o,
                         int *every, lc_error *err) {
  static const char *known[] = {"max_iters", "gtol", "dtol", "ftol", "time_budget", "lbfgs_m",
                                "ls_c", "ls_shrink", "ls_max", "max_step_frac", "project", "reg",
                                "lm_lambda", "sphere_var", "linear", "lin_rtol", "lin_max_iters",
                                "lin_block", "condense", "progress_every", "anderson"};
  const msgpack_object *m = NULL;
  int64_t i64;
  char lin[16];
  int code = rpc_pcode(lc_codec_get_map(params, "options", 0, &m, err));
  for (uint32_t i = 0; !code && m && i < m->via.map.size; ++i) {
    int ok = 0;
    for (size_t k = 0; k < sizeof known / sizeof *known; ++k)
      ok |= lc_codec_str_eq(&m->via.map.ptr[i].key, known[k]);
    if (!ok) code = unknown_option(&m->via.map.ptr[i].key, known, sizeof known / sizeof *known, err);
  }
#define OPT_INT(key, lo, hi, field)                                                     \
  if (!code) {                                                                          \
    code = rpc_pcode(lc_codec_get_int(m, key, 0, lo, hi, (int64_t)(field), &i64, err));   \
    field = (int)i64;                                                                   \
  }
#define OPT_DBL(key, field) \
  if (!code) code = rpc_pcode(lc_codec_get_double(m, key, 0, field, &field, err));
  OPT_INT("max_iters", 0, 1000000000, o->max_iters)
  OPT_INT("lbfgs_m", 1, 1000, o->lbfgs_m)
  OPT_INT("ls_max", 1, 1000, o->ls_max)
  OPT_INT("lin_max_iters", 1, 100000000, o->lin.max_iters)
  OPT_INT("lin_block", 1, LC_LIN_MAX_BLOCK, o->lin.block)
  if (!code && lc_codec_get(m, "lin_block"))
    o->lin.precond = o->lin.block > 1 ? LC_PRECOND_BLOCK_JACOBI : LC_PRECOND_JACOBI;
  OPT_INT("progress_every", 0, INT32_MAX, *every)
  OPT_INT("anderson", 0, LC_LG_MAX_ANDERSON, o->anderson_m)
  OPT_DBL("gtol", o->gtol)
  OPT_DBL("dtol", o->dtol)
  OPT_DBL("ftol", o->ftol)
  OPT_DBL("time_budget", o->time_budget)
  OPT_DBL("ls_c", o->ls_c)
  OPT_DBL("ls_shrink", o->ls_shrink)
  OPT_DBL("max_step_frac", o->max_step_frac)
  OPT_DBL("reg", o->reg)
  OPT_DBL("lm_lambda", o->lm_lambda)
  OPT_DBL("lin_rtol", o->lin.rtol)
#undef OPT_INT
#undef OPT_DBL
  if (!code) code = rpc_pcode(lc_codec_get_bool(m, "project", o->project, &o->project, err));
  if (!code && (o->gtol < 0 || o->dtol < 0 || o->ftol < 0 || o->time_budget < 0 || o->reg < 0 ||
                o->lm_lambda < 0 || !(o->ls_c > 0 && o->ls_c < 1) ||
                !(o->ls_shrink > 0 && o->ls_shrink < 1) ||
                !(o->max_step_frac > 0 && o->max_step_frac <= 1) || o->lin.rtol <= 0))
    code = RPC_FAIL(err, LC_RPC_EINVAL, "options: a tolerance, factor or budget is out of range");
  if (!code && lc_codec_get(m, "sphere_var")) code = rpc_get_var(p, m, "sphere_var", &o->sphere_var, err);
  if (!code && lc_codec_get(m, "condense")) code = condense_option(p, lc_codec_get(m, "condense"), o, err);
  if (!code) code = rpc_pcode(lc_codec_get_str(m, "linear", 0, lin, sizeof lin, err));
  if (!code && lin[0]) {
    if (!strcmp(lin, "cholmod")) o->linear = LC_LIN_CHOLMOD;
    else if (!strcmp(lin, "pcg")) o->linear = LC_LIN_PCG;
    else if (!strcmp(lin, "cg")) o->linear = LC_LIN_CG_MATFREE;
    else code = RPC_FAIL(err, LC_RPC_EINVAL, "options.linear must be cholmod, pcg or cg");
  }
  return code;
}

/* Reads "method" and "options" into o. */
static int solve_setup(const lc_problem *p, const msgpack_object *params, lc_solve_opts *o,
                       int *every, lc_error *err) {
  char method[32];
  int code = rpc_pcode(lc_codec_get_str(params, "method", 0, method, sizeof method, err));
  int mid = LC_SOLVE_NEWTON;
  if (!code && method[0]) {
    mid = lc_solve_method_parse(method);
    if (mid < 0)
      code = RPC_FAIL(err, LC_RPC_EINVAL, "method '%s' is unknown: gd, lbfgs, newton, gauss_newton, lm or "
                      "local_global", method);
  }
  lc_solve_opts_default(o, (lc_solve_method)(mid < 0 ? 0 : mid));
  *every = 1;
  if (!code) code = solve_options(p, params, o, every, err);
  return code;
}

#define RPC_MAX_RETURN 1024 /* entries of a "return" list */

/* Resolves "return" (a list of variable ids/names, or true: all) into
 * vars[*n]: each variable once, in the order of its first mention (a list
 * of the same variable repeated must not repeat its values in the answer);
 * a list longer than RPC_MAX_RETURN is refused. */
static int get_return(const lc_problem *p, const msgpack_object *params, int **vars, int *n,
                      lc_error *err) {
  const msgpack_object *ret = lc_codec_get(params, "return");
  const int nv = lc_problem_n_vars(p);
  int code = 0;
  *vars = NULL;
  *n = 0;
  if (!ret || (ret->type == MSGPACK_OBJECT_BOOLEAN && !ret->via.boolean)) return 0;
  const int all = ret->type == MSGPACK_OBJECT_BOOLEAN;
  if (!all && ret->type != MSGPACK_OBJECT_ARRAY)
    return RPC_FAIL(err, LC_RPC_EPARAMS, "'return' must be a list of variables or true");
  if (!all && ret->via.array.size > RPC_MAX_RETURN)
    return RPC_FAIL(err, LC_RPC_EINVAL, "'return' lists %u entries (at most %d)", ret->via.array.size,
                    RPC_MAX_RETURN);
  const uint32_t cnt = all ? (uint32_t)nv : ret->via.array.size;
  *vars = malloc(((size_t)nv + 1) * sizeof **vars);
  uint8_t *seen = calloc((size_t)nv + 1, 1);
  if (!*vars || !seen) code = RPC_FAIL(err, LC_RPC_ENOMEM, "out of memory");
  for (uint32_t i = 0; !code && i < cnt; ++i) {
    int v = (int)i;
    if (!all) {
      msgpack_object_kv kv = {.val = ret->via.array.ptr[i]};
      msgpack_object one = {.type = MSGPACK_OBJECT_MAP};
      kv.key.type = MSGPACK_OBJECT_STR;
      kv.key.via.str.ptr = "return";
      kv.key.via.str.size = 6;
      one.via.map.size = 1;
      one.via.map.ptr = &kv;
      code = rpc_get_var(p, &one, "return", &v, err);
    }
    if (!code && !seen[v]) seen[v] = 1, (*vars)[(*n)++] = v;
  }
  free(seen);
  if (code) *n = 0;
  return code;
}

/* Adds a solve's iterations and host reads to the store's counters (metrics). */
static void count_solve(lc_rpc *r, const lc_solve_result *res, uint64_t host_syncs) {
  pthread_mutex_lock(&r->lock);
  r->solve_iters += (uint64_t)(res->iters > 0 ? res->iters : 0);
  r->host_syncs += host_syncs;
  pthread_mutex_unlock(&r->lock);
}

/* Packs "warnings": what a client should know about a solve that did not
 * fail: the iteration budget ran out, it was cancelled, the energy is
 * unbounded below, or Gauss-Newton / LM ran without residual terms. */
static void pack_warnings(msgpack_packer *pk, const lc_problem *p, const lc_solve_opts *o,
                          const lc_solve_result *res) {
  const char *w[4];
  int n = 0;
  if (res->reason == LC_STOP_MAX_ITERS && o->max_iters > 1)
    w[n++] = "max_iters reached before the tolerance: the result is not converged";
  if (res->reason == LC_STOP_CANCELLED) w[n++] = "cancelled: the state is the last accepted iterate";
  if (isinf(res->energy) && res->energy < 0) w[n++] = "the energy is unbounded below";
  if ((o->method == LC_SOLVE_GAUSS_NEWTON || o->method == LC_SOLVE_LM) && lc_problem_n_residuals(p) == 0)
    w[n++] = "gauss_newton / lm on a problem without residual terms: these were Newton steps on the projected "
             "Hessian";
  lc_codec_pack_str(pk, "warnings");
  msgpack_pack_array(pk, (size_t)n);
  for (int i = 0; i < n; ++i) lc_codec_pack_str(pk, w[i]);
}

/* Packs the common solve result fields (host_syncs: device-to-host reads the
 * solver made, warnings: pack_warnings); extra entries follow (counted in extra). */
static int pack_solve_result(msgpack_packer *pk, const lc_problem *p, const lc_solve_opts *o,
                             const lc_solve_result *res, uint64_t host_syncs, const int *vars, int nvars,
                             int extra, lc_error *err) {
  int code = 0;
  msgpack_pack_map(pk, (size_t)(11 + extra));
  rpc_kv_str(pk, "reason", lc_stop_reason_name(res->reason));
  pack_warnings(pk, p, o, res);
  rpc_kv_int(pk, "iters", res->iters);
  rpc_kv_dbl(pk, "energy", res->energy);
  rpc_kv_dbl(pk, "gnorm", res->gnorm);
  rpc_kv_dbl(pk, "t_deriv", res->t_deriv);
  rpc_kv_dbl(pk, "t_linear", res->t_linear);
  rpc_kv_dbl(pk, "t_ls", res->t_ls);
  rpc_kv_dbl(pk, "t_total", res->t_total);
  rpc_kv_int(pk, "host_syncs", (int64_t)host_syncs);
  lc_codec_pack_str(pk, "variables");
  msgpack_pack_map(pk, (size_t)nvars);
  for (int i = 0; !code && i < nvars; ++i) {
    msgpack_pack_int(pk, vars[i]);
    code = rpc_pack_variable(pk, p, vars[i], err);
  }
  return code;
}

/* Creates the problem's solver handle if needed. */
static int ensure_solver(rpc_obj *o, lc_error *err) {
  return o->solver ? 0 : rpc_ecode(lc_solver_create(o->prob, &o->solver, err));
}

/* problem.solve {problem, method?, options?, fix?, unfix?, return?}. */
int rpc_m_problem_solve(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                           msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r;
  lc_solve_opts opts;
  lc_solve_result res;
  progress_ctx pc = {.call = call, .problem = o->id};
  int *vars = NULL, nvars = 0;
  uint64_t reads0 = 0;
  int code = solve_setup(o->prob, params, &opts, &pc.every, err);
  if (!code) code = get_return(o->prob, params, &vars, &nvars, err);
  if (!code) code = rpc_apply_fixes(o->prob, params, "unfix", 1, err);
  if (!code) code = rpc_apply_fixes(o->prob, params, "fix", 0, err);
  if (!code) code = ensure_solver(o, err);
  if (!code) {
    pc.method = lc_solve_method_name(opts.method);
    opts.progress = on_progress;
    opts.user = &pc;
    opts.cancel = call ? call->cancel : NULL;
    memset(&res, 0, sizeof res);
    reads0 = lc_problem_host_reads(o->prob);
    code = rpc_ecode(o->contact ? lc_contact_solve(o->contact, o->solver, &opts, &res, err)
                                : lc_solver_solve(o->solver, &opts, &res, err));
  }
  const uint64_t syncs = lc_problem_host_reads(o->prob) - reads0;
  if (!code) count_solve(r, &res, syncs);
  if (!code) code = pack_solve_result(pk, o->prob, &opts, &res, syncs, vars, nvars, o->contact ? 1 : 0, err);
  if (!code && o->contact) {
    lc_codec_pack_str(pk, "contact");
    code = rpc_pack_contact(pk, o->contact, err);
  }
  free(vars);
  return code;
}

/* Creates or re-creates the dynamics handle from params (h, var, inertia_term). */
static int ensure_dynamics(rpc_obj *o, const msgpack_object *params, lc_error *err) {
  double h = o->dyn ? lc_dynamics_h(o->dyn) : 0.0;
  int64_t term = o->dyn ? o->dyn_term : -1;
  int var = o->dyn ? o->dyn_var : -1;
  int code = rpc_pcode(lc_codec_get_double(params, "h", o->dyn == NULL, h, &h, err));
  if (!code && (!o->dyn || lc_codec_get(params, "var"))) code = rpc_get_var(o->prob, params, "var", &var, err);
  if (!code) code = rpc_pcode(lc_codec_get_int(params, "inertia_term", o->dyn == NULL, 0, INT32_MAX, term, &term, err));
  /* a stepper keeps its velocities: re-create it only when h, var or the term change */
  const int fresh = !o->dyn || h != lc_dynamics_h(o->dyn) || var != o->dyn_var || term != o->dyn_term;
  if (code || !fresh) return code;
  lc_dynamics *d = NULL;
  code = rpc_ecode(lc_dynamics_create(o->prob, var, (int)term, h, &d, err));
  if (!code) {
    lc_dynamics_destroy(o->dyn);
    o->dyn = d;
    o->dyn_term = (int)term;
    o->dyn_var = var;
  }
  return code;
}

/* Applies the optional force / velocity / damping of problem.step. */
static int step_inputs(rpc_obj *o, const msgpack_object *params, int64_t rows, int dim,
                       lc_error *err) {
  lc_ndarray f = {0}, v = {0};
  double c = -1.0;
  int code = rpc_pcode(lc_codec_get_ndarray(params, "force", 0, LC_DT_F8, rows, dim, &f, err));
  if (!code) code = rpc_pcode(lc_codec_get_ndarray(params, "velocity", 0, LC_DT_F8, rows, dim, &v, err));
  if (!code) code = rpc_pcode(lc_codec_get_double(params, "damping", 0, -1.0, &c, err));
  if (!code && f.n >= 0) code = rpc_ecode(lc_dynamics_set_force(o->dyn, f.data, err));
  if (!code && lc_codec_get(params, "force") && lc_codec_get(params, "force")->type ==
                                                    MSGPACK_OBJECT_NIL)
    code = rpc_ecode(lc_dynamics_set_force(o->dyn, NULL, err));
  if (!code && v.n >= 0) code = rpc_ecode(lc_dynamics_set_velocity(o->dyn, v.data, err));
  if (!code && c >= 0.0) code = rpc_ecode(lc_dynamics_set_damping(o->dyn, c, err));
  lc_codec_ndarray_free(&f);
  lc_codec_ndarray_free(&v);
  return code;
}

/* problem.step {problem, h, var, inertia_term, steps?, method?, options?, fix?, force?,
 * velocity?, damping?, return?}: implicit-Euler steps (engine/solvers/dynamics.h). */
int rpc_m_problem_step(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                          msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r;
  lc_solve_opts opts;
  lc_solve_result res;
  progress_ctx pc = {.call = call, .problem = o->id};
  int *vars = NULL, nvars = 0, every = 1;
  int64_t steps = 1;
  int code = ensure_dynamics(o, params, err);
  if (!code) code = solve_setup(o->prob, params, &opts, &every, err);
  if (!code) code = rpc_pcode(lc_codec_get_int(params, "steps", 0, 1, 100000, 1, &steps, err));
  if (!code) code = get_return(o->prob, params, &vars, &nvars, err);
  if (!code) {
    int tvar = 0, dim = 0; /* the dynamics variable: the one its inertia term is on */
    int32_t vn = 0;
    lc_problem_term_info(o->prob, o->dyn_term, NULL, &tvar, NULL, NULL, NULL);
    rpc_var_shape(o->prob, tvar, &vn, &dim);
    code = step_inputs(o, params, vn, dim, err);
  }
  if (!code) code = rpc_apply_fixes(o->prob, params, "unfix", 1, err);
  if (!code) code = rpc_apply_fixes(o->prob, params, "fix", 0, err);
  if (!code) code = ensure_solver(o, err);
  pc.every = every;
  pc.method = lc_solve_method_name(opts.method);
  opts.progress = on_progress;
  opts.user = &pc;
  opts.cancel = call ? call->cancel : NULL;
  memset(&res, 0, sizeof res);
  const uint64_t reads0 = lc_problem_host_reads(o->prob);
  if (!code) lc_dynamics_set_contact(o->dyn, o->contact);
  for (int64_t s = 0; !code && s < steps; ++s) {
    code = rpc_ecode(lc_dynamics_step(o->dyn, o->solver, &opts, &res, err));
    if (!code && opts.cancel && *opts.cancel) break;
  }
  const uint64_t syncs = lc_problem_host_reads(o->prob) - reads0;
  if (!code) count_solve(r, &res, syncs);
  if (!code) code = pack_solve_result(pk, o->prob, &opts, &res, syncs, vars, nvars, o->contact ? 5 : 4, err);
  if (!code) {
    rpc_kv_int(pk, "steps", lc_dynamics_steps(o->dyn));
    rpc_kv_dbl(pk, "time", lc_dynamics_time(o->dyn));
    rpc_kv_dbl(pk, "kinetic", lc_dynamics_kinetic(o->dyn));
    rpc_kv_dbl(pk, "max_speed", lc_dynamics_max_speed(o->dyn));
  }
  if (!code && o->contact) {
    lc_codec_pack_str(pk, "contact");
    code = rpc_pack_contact(pk, o->contact, err);
  }
  free(vars);
  return code;
}

