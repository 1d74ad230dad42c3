/* rpc_problem.c - the structural problem methods: problem.create, variables
 * (add, set, get), terms (add, remove, set, get), fixed DOFs (fix, unfix),
 * problem.info and problem.delete.  The store and the dispatcher are in
 * rpc.c, the numerical methods in rpc_solve.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad/lc_psd.h"
#include "custom/custom.h"
#include "dag_codec.h"
#include "rpc_impl.h"

/* ---- problem.* : structure -------------------------------------------- */

/* Adds the variable described by map vm {name, loc?, dim, init?} to p. */
static int add_variable(lc_problem *p, const msgpack_object *vm, int *var, lc_error *err) {
  char name[RPC_NAME_MAX], loc_s[16];
  int64_t dim = 0;
  lc_ndarray init = {0};
  int code = rpc_pcode(lc_codec_get_str(vm, "name", 1, name, sizeof name, err));
  if (!code) code = rpc_pcode(lc_codec_get_str(vm, "loc", 0, loc_s, sizeof loc_s, err));
  if (!code) code = rpc_pcode(lc_codec_get_int(vm, "dim", 1, 1, LC_VAR_MAX_DIM, 0, &dim, err));
  const int face = !strcmp(loc_s, "face");
  if (!code && loc_s[0] && !face && strcmp(loc_s, "vertex"))
    code = RPC_FAIL(err, LC_RPC_EINVAL, "'loc' must be \"vertex\" or \"face\"");
  const lc_mesh *m = lc_problem_mesh(p);
  const int32_t n = face ? lc_mesh_nf(m) : lc_mesh_nv(m);
  if (!code) code = rpc_pcode(lc_codec_get_ndarray(vm, "init", 0, LC_DT_F8, n, (int)dim, &init, err));
  if (!code)
    code = rpc_ecode(lc_problem_add_variable(p, name, face ? LC_LOC_FACE : LC_LOC_VERTEX, (int)dim,
                                         init.n >= 0 ? init.data : NULL, var, err));
  lc_codec_ndarray_free(&init);
  return code;
}

/* Packs {"var", "name", "loc", "dim", "n", "offset"} of variable var. */
static void pack_var_info(msgpack_packer *pk, const lc_problem *p, int var) {
  lc_var_loc loc;
  int dim;
  int32_t n;
  int64_t off;
  lc_problem_var_info(p, var, &loc, &dim, &n, &off);
  msgpack_pack_map(pk, 6);
  rpc_kv_int(pk, "var", var);
  rpc_kv_str(pk, "name", lc_problem_var_name(p, var));
  rpc_kv_str(pk, "loc", loc == LC_LOC_FACE ? "face" : "vertex");
  rpc_kv_int(pk, "dim", dim);
  rpc_kv_int(pk, "n", n);
  rpc_kv_int(pk, "offset", off);
}

/* Reads params.device into dev[cap] (absent: the daemon's default) and checks
 * it: a malformed name is a PARAMS error, a device that cannot be used an
 * INVAL error whose message names it and says why. */
static int get_device(const lc_rpc *r, const msgpack_object *params, char *dev, size_t cap,
                      lc_error *err) {
  lc_device_kind kind;
  int ordinal;
  if (!lc_codec_get(params, "device")) {
    snprintf(dev, cap, "%s", r->device);
    return 0;
  }
  if (lc_codec_get_str(params, "device", 1, dev, cap, err) != LC_OK) return LC_RPC_EPARAMS;
  const int rc = lc_device_resolve(dev, &kind, &ordinal, err);
  if (rc == LC_EINVAL)
    return RPC_FAIL(err, LC_RPC_EPARAMS,
                    "parameter 'device': '%.40s' is not a device (expected \"cpu\", \"cuda:N\" or \"auto\")",
                    dev);
  return rpc_ecode(rc);
}

/* problem.create {mesh, name?, device?, variables?: [{name, loc?, dim, init?}]}. */
int rpc_m_problem_create(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                         msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)call;
  const msgpack_object *vars = NULL;
  lc_problem *p = NULL;
  rpc_obj *po = NULL;
  char name[RPC_NAME_MAX], device[RPC_NAME_MAX];
  int code = rpc_get_name(params, name, err);
  if (!code) code = get_device(r, params, device, sizeof device, err);
  if (!code) code = rpc_pcode(lc_codec_get_array(params, "variables", 0, &vars, err));
  if (!code) code = rpc_ecode(lc_problem_create(o->mesh, device, &p, err));
  for (uint32_t i = 0; !code && vars && i < vars->via.array.size; ++i) {
    int var;
    if (vars->via.array.ptr[i].type != MSGPACK_OBJECT_MAP)
      code = RPC_FAIL(err, LC_RPC_EPARAMS, "variables[%u] must be a map", i);
    else
      code = add_variable(p, &vars->via.array.ptr[i], &var, err);
  }
  if (!code) {
    code = rpc_obj_insert(r, OBJ_PROBLEM, name, NULL, p, o->id, &po, err);
    p = NULL; /* owned by the store now, or freed */
  }
  if (!code) {
    const int nv = lc_problem_n_vars(po->prob);
    msgpack_pack_map(pk, 5);
    rpc_kv_int(pk, "problem", (int64_t)po->id);
    rpc_kv_str(pk, "name", po->name);
    rpc_kv_str(pk, "device", lc_problem_device(po->prob));
    rpc_kv_int(pk, "n_dofs", lc_problem_n_dofs(po->prob));
    lc_codec_pack_str(pk, "variables");
    msgpack_pack_array(pk, (size_t)nv);
    for (int v = 0; v < nv; ++v) pack_var_info(pk, po->prob, v);
  }
  lc_problem_destroy(p);
  return code;
}

/* problem.add_variable {problem, name, loc?, dim, init?}. */
int rpc_m_problem_add_variable(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                               msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)call;
  int var = -1;
  int code = add_variable(o->prob, params, &var, err);
  if (!code) {
    rpc_problem_changed(o);
    pack_var_info(pk, o->prob, var);
  }
  return code;
}

/* Number of natural elements of kind for variable var (the rows of consts). */
static int64_t natural_count(const lc_problem *p, int var, lc_elem_kind kind) {
  const lc_mesh *m = lc_problem_mesh(p);
  int32_t n;
  int dim;
  rpc_var_shape(p, var, &n, &dim);
  switch (kind) {
    case LC_ELEM_VERTEX: return n;
    case LC_ELEM_EDGE: return lc_mesh_ne(m);
    case LC_ELEM_FACE: return lc_mesh_nf(m);
    case LC_ELEM_FLAP: case LC_ELEM_FACE_PAIR: return lc_mesh_nflaps(m);
    default: return -1;
  }
}

/* Reads the "params" map of add_term into names/values (at most LC_ENERGY_MAX_PARAMS). */
static int term_params(const msgpack_object *params, char names[][RPC_NAME_MAX], double *vals,
                       int *n, lc_error *err) {
  const msgpack_object *pm = NULL;
  int code = rpc_pcode(lc_codec_get_map(params, "params", 0, &pm, err));
  *n = 0;
  if (code || !pm) return code;
  if (pm->via.map.size > LC_ENERGY_MAX_PARAMS)
    return RPC_FAIL(err, LC_RPC_EINVAL, "'params': more than %d entries", LC_ENERGY_MAX_PARAMS);
  for (uint32_t i = 0; !code && i < pm->via.map.size; ++i) {
    const msgpack_object *k = &pm->via.map.ptr[i].key;
    if (k->type != MSGPACK_OBJECT_STR || k->via.str.size >= RPC_NAME_MAX ||
        memchr(k->via.str.ptr, 0, k->via.str.size)) {
      code = RPC_FAIL(err, LC_RPC_EPARAMS, "'params' keys must be short strings");
      break;
    }
    memcpy(names[i], k->via.str.ptr, k->via.str.size);
    names[i][k->via.str.size] = '\0';
    code = rpc_pcode(lc_codec_get_double(pm, names[i], 1, 0.0, &vals[i], err));
  }
  if (!code) *n = (int)pm->via.map.size;
  return code;
}

/* A custom energy: the description map eo (SPEC.md, "Custom energies")
 * decoded into a payload *c (NULL on failure). */
static int add_term_custom(const msgpack_object *eo, lc_custom **c, lc_error *err) {
  lc_dag_wire w;
  int code = rpc_pcode(lc_dag_decode(eo, &w, err));
  if (!code) {
    const char *names[LC_DAG_MAX_PARAMS];
    for (int i = 0; i < w.n_param; ++i) names[i] = w.param_names[i];
    code = rpc_ecode(lc_custom_create(w.dag, w.elem, names, c, err));
  }
  if (!code && w.rest && (code = rpc_ecode(lc_custom_set_rest(*c, w.rest, err)))) {
    lc_custom_release(*c);
    *c = NULL;
  }
  lc_dag_destroy(w.dag);
  lc_dag_destroy(w.rest);
  return code;
}

/* problem.add_term {problem, energy, var, weight?, elements?, params?, consts?, project?}. */
int rpc_m_problem_add_term(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                           msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)call;
  char energy[RPC_NAME_MAX], pn[LC_ENERGY_MAX_PARAMS][RPC_NAME_MAX];
  const char *pnames[LC_ENERGY_MAX_PARAMS];
  double pv[LC_ENERGY_MAX_PARAMS], weight = 1.0;
  lc_ndarray el = {0}, k = {0};
  int var = -1, np = 0, project = 1, term = -1, id = -1, dim = 0;
  int32_t n = 0, ne = 0, nc = 0;
  const lc_energy_info *info = NULL;
  lc_custom *custom = NULL;
  const msgpack_object *eo = lc_codec_get(params, "energy");
  int code = eo && eo->type == MSGPACK_OBJECT_MAP ? add_term_custom(eo, &custom, err)
                                                  : rpc_pcode(lc_codec_get_str(params, "energy", 1, energy, sizeof energy, err));
  if (custom) snprintf(energy, sizeof energy, "custom");
  if (!code) code = rpc_get_var(o->prob, params, "var", &var, err);
  if (!code && custom) {
    rpc_var_shape(o->prob, var, &n, &dim);
    info = lc_custom_info(custom);
  } else if (!code) {
    rpc_var_shape(o->prob, var, &n, &dim);
    id = lc_energy_find(energy, dim);
    info = lc_energy_get(id);
    int known = 0; /* unknown name: NOTFOUND; known name, other dimension: INVAL */
    for (int d = 1; d <= LC_VAR_MAX_DIM && !info; ++d) known |= lc_energy_find(energy, d) >= 0;
    if (!info && !known) {
      char list[1024] = "";
      for (int id2 = 0, at = 0; id2 < LC_E_COUNT && at < (int)sizeof list; ++id2) {
        const char *nm = lc_energy_get(id2)->name; /* each name once (instances repeat it) */
        if (id2 > 0 && !strcmp(nm, lc_energy_get(id2 - 1)->name)) continue;
        at += snprintf(list + at, sizeof list - (size_t)at, "%s%s", at ? ", " : "", nm);
      }
      code = RPC_FAIL(err, LC_RPC_ENOTFOUND, "no energy named '%s'; energies: %s", energy, list);
    }
    else if (!info)
      code = RPC_FAIL(err, LC_RPC_EINVAL, "energy '%s' has no instance for variables of dimension %d",
                      energy, dim);
  }
  if (!code) code = rpc_pcode(lc_codec_get_double(params, "weight", 0, 1.0, &weight, err));
  if (!code) code = rpc_pcode(lc_codec_get_bool(params, "project", 1, &project, err));
  if (!code && project && lc_codec_get(params, "project") && info->K * dim > LC_PSD_MAXN)
    code = RPC_FAIL(err, LC_RPC_EINVAL,
                    "energy '%s' has %d local variables; PSD projection supports at most %d: "
                    "leave 'project' out or false", energy, info->K * dim, LC_PSD_MAXN);
  if (!code) code = term_params(params, pn, pv, &np, err);
  if (!code)
    code = rpc_pcode(lc_codec_get_ndarray(params, "elements", 0, LC_DT_I4, -1, info->K, &el, err));
  if (!code && el.n >= 0) code = rpc_pcode(lc_codec_check_indices(&el, n, "elements", err));
  if (!code && el.n >= 0 && (el.shape[0] == 0 || el.shape[0] > INT32_MAX))
    code = RPC_FAIL(err, LC_RPC_EINVAL, "'elements' must have 1 to 2^31-1 rows");
  const int64_t rows = el.n >= 0 ? el.shape[0] : natural_count(o->prob, var, info ? info->kind : 0);
  if (!code && rows == 0) /* e.g. flaps of a mesh without interior edges: a term that does nothing */
    code = RPC_FAIL(err, LC_RPC_EINVAL, "energy '%s' has no elements on this mesh: give 'elements'", energy);
  if (!code && info->n_const > 0)
    code = rpc_pcode(lc_codec_get_ndarray(params, "consts", 0, LC_DT_F8, rows, info->n_const, &k, err));
  if (!code) {
    lc_term_desc d = {0};
    for (int i = 0; i < np; ++i) pnames[i] = pn[i];
    d.energy = energy;
    d.custom = custom;
    d.var = var;
    d.weight = weight;
    d.weight_set = 1;
    d.elems = el.n >= 0 ? el.data : NULL;
    d.n_elems = el.n >= 0 ? (int32_t)el.shape[0] : 0;
    d.n_params = np;
    d.param_names = pnames;
    d.param_values = pv;
    d.consts = k.n >= 0 && info->n_const > 0 ? k.data : NULL;
    d.no_project = !project;
    code = rpc_ecode(lc_problem_add_term(o->prob, &d, &term, err));
  }
  if (!code) {
    rpc_problem_changed(o);
    lc_problem_term_info(o->prob, term, NULL, NULL, &ne, &nc, NULL);
    msgpack_pack_map(pk, 3);
    rpc_kv_int(pk, "term", term);
    rpc_kv_int(pk, "n_elems", ne);
    rpc_kv_int(pk, "n_colors", nc);
  }
  lc_codec_ndarray_free(&el);
  lc_codec_ndarray_free(&k);
  lc_custom_release(custom); /* the term holds its own reference */
  return code;
}

/* problem.remove_term {problem, term}. */
int rpc_m_problem_remove_term(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                              msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)call;
  int64_t term = -1;
  int code = rpc_pcode(lc_codec_get_int(params, "term", 1, 0, INT32_MAX, 0, &term, err));
  if (!code && (term >= lc_problem_term_capacity(o->prob) ||
                lc_problem_term_info(o->prob, (int)term, NULL, NULL, NULL, NULL, NULL) != LC_OK))
    code = RPC_FAIL(err, LC_RPC_ENOTFOUND, "no term %lld", (long long)term);
  if (!code && rpc_contact_owns(o, (int)term, err)) code = LC_RPC_EINVAL;
  if (!code) code = rpc_ecode(lc_problem_remove_term(o->prob, (int)term, err));
  if (!code) {
    rpc_problem_changed(o);
    if (o->dyn && o->dyn_term == (int)term) {
      lc_dynamics_destroy(o->dyn);
      o->dyn = NULL;
    }
    msgpack_pack_true(pk);
  }
  return code;
}

/* The term id params.term of problem o, checked; -1 with an error otherwise. */
static int get_term(rpc_obj *o, const msgpack_object *params, int *term, int *n_const,
                    int32_t *n_elems, lc_error *err) {
  int64_t t = -1;
  int energy = -1;
  int code = rpc_pcode(lc_codec_get_int(params, "term", 1, 0, INT32_MAX, 0, &t, err));
  if (!code && (t >= lc_problem_term_capacity(o->prob) ||
                lc_problem_term_info(o->prob, (int)t, &energy, NULL, n_elems, NULL, NULL) != LC_OK))
    code = RPC_FAIL(err, LC_RPC_ENOTFOUND, "no term %lld", (long long)t);
  if (!code) {
    *term = (int)t;
    *n_const = lc_problem_term_energy_info(o->prob, (int)t)->n_const;
  }
  return code;
}

/* problem.set_term {problem, term, weight?, consts?: f8 [n_elems, n_const]}:
 * changes a term's weight or per-element constants (moving targets, x~). */
int rpc_m_problem_set_term(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                           msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)call;
  int term = -1, nc = 0;
  int32_t ne = 0;
  double weight = -1.0;
  lc_ndarray k = {0};
  int code = get_term(o, params, &term, &nc, &ne, err);
  if (!code) code = rpc_pcode(lc_codec_get_double(params, "weight", 0, -1.0, &weight, err));
  if (!code && nc > 0) code = rpc_pcode(lc_codec_get_ndarray(params, "consts", 0, LC_DT_F8, ne, nc, &k, err));
  if (!code && lc_codec_get(params, "weight")) code = rpc_ecode(lc_problem_set_term_weight(o->prob, term, weight, err));
  if (!code && k.n >= 0 && k.data) code = rpc_ecode(lc_problem_set_term_consts(o->prob, term, k.data, err));
  if (!code) msgpack_pack_true(pk);
  lc_codec_ndarray_free(&k);
  return code;
}

/* problem.get_term {problem, term} → {term, energy, var, n_elems, consts: f8 [n_elems, n_const]}. */
int rpc_m_problem_get_term(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                           msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)call;
  int term = -1, nc = 0, energy = -1, var = -1;
  int32_t ne = 0;
  int code = get_term(o, params, &term, &nc, &ne, err);
  double *k = NULL;
  if (!code && !(k = malloc(((size_t)ne * nc + 1) * sizeof *k))) code = RPC_FAIL(err, LC_RPC_ENOMEM, "out of memory");
  if (!code) code = rpc_ecode(lc_problem_get_term_consts(o->prob, term, k, err));
  if (!code) {
    lc_problem_term_info(o->prob, term, &energy, &var, NULL, NULL, NULL);
    const int64_t shape[2] = {ne, nc};
    const lc_energy_info *info = lc_problem_term_energy_info(o->prob, term);
    const lc_custom *custom = lc_problem_term_custom(o->prob, term);
    msgpack_pack_map(pk, custom ? 6 : 5);
    rpc_kv_int(pk, "term", term);
    lc_codec_pack_str(pk, "energy");
    lc_codec_pack_str(pk, info->name);
    if (custom) { /* the description, as the lowered program */
      lc_dag_wire w = {.dag = (lc_dag *)lc_custom_dag(custom), .elem = info->kind, .n_param = info->n_param};
      for (int i = 0; i < info->n_param; ++i) snprintf(w.param_names[i], sizeof w.param_names[i], "%s", info->param_names[i]);
      lc_codec_pack_str(pk, "description");
      lc_dag_pack(pk, &w);
    }
    rpc_kv_int(pk, "var", var);
    rpc_kv_int(pk, "n_elems", ne);
    lc_codec_pack_str(pk, "consts");
    lc_codec_pack_ndarray(pk, LC_DT_F8, 2, shape, k);
  }
  free(k);
  return code;
}

/* problem.set_variable {problem, var, values: f8 [n, dim]}. */
int rpc_m_problem_set_variable(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                               msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)call;
  lc_ndarray v = {0};
  int var = -1, dim = 0;
  int32_t n = 0;
  int code = rpc_get_var(o->prob, params, "var", &var, err);
  if (!code) {
    rpc_var_shape(o->prob, var, &n, &dim);
    code = rpc_pcode(lc_codec_get_ndarray(params, "values", 1, LC_DT_F8, n, dim, &v, err));
  }
  if (!code) code = rpc_ecode(lc_problem_set_variable(o->prob, var, v.data, err));
  if (!code) msgpack_pack_true(pk);
  lc_codec_ndarray_free(&v);
  return code;
}

/* problem.get_variable {problem, var} -> {var, values}. */
int rpc_m_problem_get_variable(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                               msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)call;
  int var = -1;
  int code = rpc_get_var(o->prob, params, "var", &var, err);
  if (!code) {
    msgpack_pack_map(pk, 2);
    rpc_kv_int(pk, "var", var);
    lc_codec_pack_str(pk, "values");
    code = rpc_pack_variable(pk, o->prob, var, err);
  }
  return code;
}

/* Applies one fix map {var, entities?, values?} (entities absent: all; unfix: free them). */
static int apply_fix(lc_problem *p, const msgpack_object *fm, int unfix, lc_error *err) {
  lc_ndarray ent = {0}, val = {0};
  int var = -1, dim = 0;
  int32_t n = 0;
  int32_t *all = NULL;
  int code = fm->type == MSGPACK_OBJECT_MAP ? 0 : RPC_FAIL(err, LC_RPC_EPARAMS, "fix must be a map");
  if (!code) code = rpc_get_var(p, fm, "var", &var, err);
  if (!code) {
    rpc_var_shape(p, var, &n, &dim);
    code = rpc_pcode(lc_codec_get_ndarray(fm, "entities", 0, LC_DT_I4, -1, 1, &ent, err));
  }
  if (!code && ent.n >= 0) code = rpc_pcode(lc_codec_check_indices(&ent, n, "entities", err));
  const int64_t cnt = ent.n >= 0 ? ent.n : n;
  if (!code && !unfix)
    code = rpc_pcode(lc_codec_get_ndarray(fm, "values", 0, LC_DT_F8, cnt, dim, &val, err));
  if (!code && ent.n < 0 && !unfix) {
    all = malloc(((size_t)n + 1) * sizeof *all);
    if (!all) code = RPC_FAIL(err, LC_RPC_ENOMEM, "out of memory");
    for (int32_t i = 0; !code && i < n; ++i) all[i] = i;
  }
  const int32_t *e = ent.n >= 0 ? ent.data : all;
  if (!code && unfix)
    code = rpc_ecode(lc_problem_unfix(p, var, ent.n >= 0 ? (int32_t)ent.n : -1, e, err));
  else if (!code)
    code = rpc_ecode(lc_problem_fix(p, var, (int32_t)cnt, e, val.n >= 0 ? val.data : NULL, err));
  free(all);
  lc_codec_ndarray_free(&ent);
  lc_codec_ndarray_free(&val);
  return code;
}

/* Applies params[key]: one fix map or an array of them. */
int rpc_apply_fixes(lc_problem *p, const msgpack_object *params, const char *key, int unfix,
                       lc_error *err) {
  const msgpack_object *f = lc_codec_get(params, key);
  int code = 0;
  if (f && f->type == MSGPACK_OBJECT_ARRAY)
    for (uint32_t i = 0; !code && i < f->via.array.size; ++i)
      code = apply_fix(p, &f->via.array.ptr[i], unfix, err);
  else if (f)
    code = apply_fix(p, f, unfix, err);
  return code;
}

/* problem.fix {problem, var, entities?, values?} -> {n_fixed}. */
int rpc_m_problem_fix(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                      const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)call;
  int code = apply_fix(o->prob, params, 0, err);
  if (!code) {
    msgpack_pack_map(pk, 1);
    rpc_kv_int(pk, "n_fixed", lc_problem_n_fixed(o->prob));
  }
  return code;
}

/* problem.unfix {problem, var, entities?} -> {n_fixed}. */
int rpc_m_problem_unfix(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                        msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)call;
  int code = apply_fix(o->prob, params, 1, err);
  if (!code) {
    msgpack_pack_map(pk, 1);
    rpc_kv_int(pk, "n_fixed", lc_problem_n_fixed(o->prob));
  }
  return code;
}

/* problem.info {problem}: device, sizes, variables, terms. */
int rpc_m_problem_info(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                       msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)params; (void)call; (void)err;
  const lc_problem *p = o->prob;
  const int nv = lc_problem_n_vars(p), cap = lc_problem_term_capacity(p);
  msgpack_pack_map(pk, 10);
  rpc_kv_int(pk, "problem", (int64_t)o->id);
  rpc_kv_str(pk, "name", o->name);
  rpc_kv_str(pk, "device", lc_problem_device(p));
  rpc_kv_int(pk, "mesh", (int64_t)o->mesh_id);
  rpc_kv_int(pk, "n_dofs", lc_problem_n_dofs(p));
  rpc_kv_int(pk, "n_fixed", lc_problem_n_fixed(p));
  rpc_kv_int(pk, "n_residuals", lc_problem_n_residuals(p));
  rpc_kv_int(pk, "bytes", (int64_t)lc_problem_bytes(p));
  lc_codec_pack_str(pk, "variables");
  msgpack_pack_array(pk, (size_t)nv);
  for (int v = 0; v < nv; ++v) pack_var_info(pk, p, v);
  lc_codec_pack_str(pk, "terms");
  msgpack_pack_array(pk, (size_t)lc_problem_n_terms(p));
  for (int t = 0; t < cap; ++t) {
    int energy, var;
    int32_t ne, nc;
    if (lc_problem_term_info(p, t, &energy, &var, &ne, &nc, NULL) != LC_OK) continue;
    msgpack_pack_map(pk, 5);
    rpc_kv_int(pk, "term", t);
    rpc_kv_str(pk, "energy", lc_problem_term_energy_info(p, t)->name);
    rpc_kv_int(pk, "var", var);
    rpc_kv_int(pk, "n_elems", ne);
    rpc_kv_int(pk, "n_colors", nc);
  }
  return 0;
}

/* problem.delete {problem}. */
int rpc_m_problem_delete(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                         msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)params; (void)call; (void)err;
  rpc_obj_remove(r, o);
  msgpack_pack_true(pk);
  return 0;
}
