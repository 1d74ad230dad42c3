/* problem.c - problem objects: variables, state, fixed DOFs and terms.
 * Evaluation lives in the backends (engine/cpu/cpu_eval.c); colouring and
 * sparsity patterns in pattern.c. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "ad/lc_psd.h"
#include "problem_impl.h"

/* Creates an empty problem on mesh (the problem retains it), bound to the
 * device named by device (NULL: "auto"). */
int lc_problem_create(lc_mesh *mesh, const char *device, lc_problem **out, lc_error *err) {
  if (!mesh || !out) return lc_error_set(err, LC_EINVAL, "problem.create: mesh and out are required");
  lc_problem *p = calloc(1, sizeof *p);
  if (!p) return lc_error_set(err, LC_ENOMEM, "problem.create: out of memory");
  int rc = lc_backend_open(&p->be, device, err);
  if (rc) {
    free(p);
    return rc;
  }
  p->mesh = lc_mesh_retain(mesh);
  p->gen_terms = p->gen_fixed = p->gen_pattern = p->gen_x = 1;
  *out = p;
  return LC_OK;
}

/* The device the problem lives on ("cpu", "cuda:0"). */
const char *lc_problem_device(const lc_problem *p) { return p->be.id; }

/* The backend the problem is bound to. */
lc_backend *lc_problem_backend(lc_problem *p) { return &p->be; }

/* Counted host reads of backend scalars so far (0 on the CPU). */
uint64_t lc_problem_host_reads(const lc_problem *p) { return p->be.n_reads; }

/* Destroys the problem and releases its mesh reference. NULL is a no-op. */
void lc_problem_destroy(lc_problem *p) {
  if (!p) return;
  lc_pattern_invalidate(p);
  lc_problem_free_staging(p);
  lc_backend_close(&p->be);
  for (int i = 0; i < p->n_term_slots; ++i) lc_term_free(p->terms[i]);
  free(p->terms);
  free(p->vars);
  free(p->x);
  free(p->fixed);
  free(p->partials);
  free(p->rsv_ent);
  lc_mesh_destroy(p->mesh);
  free(p);
}

/* The problem's mesh (borrowed). */
const lc_mesh *lc_problem_mesh(const lc_problem *p) { return p->mesh; }

/* Number of entities at a location. */
static int32_t n_entities(const lc_problem *p, lc_var_loc loc) {
  return loc == LC_LOC_VERTEX ? lc_mesh_nv(p->mesh) : lc_mesh_nf(p->mesh);
}

/* 1 if all n values are finite. */
static int all_finite(const double *v, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!isfinite(v[i])) return 0;
  return 1;
}

/* Index of the first non-finite value among n, or -1. */
static int64_t first_nonfinite(const double *v, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!isfinite(v[i])) return i;
  return -1;
}

/* Fills a new variable's initial values: init, rest positions or zeros. */
static void init_values(const lc_problem *p, const lc_variable *v, const double *init, double *x) {
  const double *V = lc_mesh_V(p->mesh);
  for (int32_t e = 0; e < v->n; ++e)
    for (int c = 0; c < v->dim; ++c) {
      double val = 0.0;
      if (init) val = init[(int64_t)e * v->dim + c];
      else if (v->loc == LC_LOC_VERTEX && v->dim <= 3) val = V[3 * (int64_t)e + c];
      x[(int64_t)e * v->dim + c] = val;
    }
}

/* Validates add_variable's arguments. */
static int check_new_var(const lc_problem *p, const char *name, lc_var_loc loc, int dim,
                         const double *init, lc_error *err) {
  if (!name || !*name || strlen(name) >= sizeof p->vars[0].name)
    return lc_error_set(err, LC_EINVAL, "variable name must have 1 to 63 characters");
  if (lc_problem_find_var(p, name) >= 0)
    return lc_error_set(err, LC_EINVAL, "variable '%s' already exists", name);
  if (loc != LC_LOC_VERTEX && loc != LC_LOC_FACE)
    return lc_error_set(err, LC_EINVAL, "variable '%s': location must be vertex or face", name);
  if (dim < 1 || dim > LC_VAR_MAX_DIM)
    return lc_error_set(err, LC_EINVAL, "variable '%s': dimension %d not in 1..%d", name, dim,
                        LC_VAR_MAX_DIM);
  if (init) {
    int64_t bad = first_nonfinite(init, (int64_t)n_entities(p, loc) * dim);
    if (bad >= 0)
      return lc_error_set(err, LC_EINVAL, "variable '%s': value %lld (entity %lld) is not finite",
                          name, (long long)bad, (long long)(bad / dim));
  }
  return LC_OK;
}

/* Adds a variable of dimension dim on loc with initial values init (or defaults). */
int lc_problem_add_variable(lc_problem *p, const char *name, lc_var_loc loc, int dim,
                            const double *init, int *var, lc_error *err) {
  int rc = check_new_var(p, name, loc, dim, init, err);
  if (rc) return rc;
  lc_variable v = {{0}, loc, dim, n_entities(p, loc), p->n_dofs};
  strcpy(v.name, name);
  const int64_t nd = p->n_dofs + (int64_t)v.n * dim;
  if (nd >= INT32_MAX) return lc_error_set(err, LC_ERANGE, "problem would exceed 2^31 DOFs");
  lc_variable *vars = realloc(p->vars, (size_t)(p->n_vars + 1) * sizeof *vars);
  if (!vars) return lc_error_set(err, LC_ENOMEM, "add_variable: out of memory");
  p->vars = vars;
  double *x = realloc(p->x, (size_t)nd * sizeof *x);
  if (!x) return lc_error_set(err, LC_ENOMEM, "add_variable: out of memory");
  p->x = x;
  uint8_t *fx = realloc(p->fixed, (size_t)nd);
  if (!fx) return lc_error_set(err, LC_ENOMEM, "add_variable: out of memory");
  p->fixed = fx;
  memset(fx + p->n_dofs, 0, (size_t)(nd - p->n_dofs));
  init_values(p, &v, init, x + p->n_dofs);
  p->vars[p->n_vars] = v;
  p->n_dofs = nd;
  if (var) *var = p->n_vars;
  p->n_vars++;
  p->gen_terms++;
  p->gen_fixed++;
  p->gen_x++;
  lc_pattern_invalidate(p);
  return LC_OK;
}

/* Number of variables. */
int lc_problem_n_vars(const lc_problem *p) { return p->n_vars; }

/* Checks a variable id. */
static int check_var(const lc_problem *p, int var, lc_error *err) {
  if (var < 0 || var >= p->n_vars)
    return lc_error_set(err, LC_ENOTFOUND, "no variable with id %d", var);
  return LC_OK;
}

/* Describes variable var: location, dimension, entity count, first DOF. */
int lc_problem_var_info(const lc_problem *p, int var, lc_var_loc *loc, int *dim, int32_t *n,
                        int64_t *offset) {
  if (check_var(p, var, NULL)) return LC_ENOTFOUND;
  const lc_variable *v = &p->vars[var];
  if (loc) *loc = v->loc;
  if (dim) *dim = v->dim;
  if (n) *n = v->n;
  if (offset) *offset = v->off;
  return LC_OK;
}

/* Finds a variable by name; returns its id or LC_ENOTFOUND. */
int lc_problem_find_var(const lc_problem *p, const char *name) {
  for (int i = 0; name && i < p->n_vars; ++i)
    if (!strcmp(p->vars[i].name, name)) return i;
  return LC_ENOTFOUND;
}

/* Name of variable var, or NULL when there is no such variable. */
const char *lc_problem_var_name(const lc_problem *p, int var) {
  return var >= 0 && var < p->n_vars ? p->vars[var].name : NULL;
}

/* Total number of DOFs. */
int64_t lc_problem_n_dofs(const lc_problem *p) { return p->n_dofs; }

/* The current state x (borrowed, n_dofs). */
const double *lc_problem_x(const lc_problem *p) { return p->x; }

/* Replaces the whole state x (n_dofs values; must be finite). */
int lc_problem_set_x(lc_problem *p, const double *x, lc_error *err) {
  int64_t bad = x ? first_nonfinite(x, p->n_dofs) : 0;
  if (bad >= 0) return lc_error_set(err, LC_EINVAL, "state value %lld is not finite", (long long)bad);
  memcpy(p->x, x, (size_t)p->n_dofs * sizeof *x);
  p->gen_x++;
  return LC_OK;
}

/* Sets the values of variable var (n_entities x dim, finite). */
int lc_problem_set_variable(lc_problem *p, int var, const double *vals, lc_error *err) {
  int rc = check_var(p, var, err);
  if (rc) return rc;
  const lc_variable *v = &p->vars[var];
  const int64_t n = (int64_t)v->n * v->dim;
  int64_t bad = vals ? first_nonfinite(vals, n) : 0;
  if (bad >= 0)
    return lc_error_set(err, LC_EINVAL, "variable '%s': value %lld (entity %lld) is not finite",
                        v->name, (long long)bad, (long long)(bad / v->dim));
  memcpy(p->x + v->off, vals, (size_t)n * sizeof *vals);
  p->gen_x++;
  return LC_OK;
}

/* Copies the values of variable var into out (n_entities x dim). */
int lc_problem_get_variable(const lc_problem *p, int var, double *out, lc_error *err) {
  int rc = check_var(p, var, err);
  if (rc) return rc;
  const lc_variable *v = &p->vars[var];
  memcpy(out, p->x + v->off, (size_t)v->n * v->dim * sizeof *out);
  return LC_OK;
}

/* Checks a list of entity indices of variable v. */
static int check_entities(const lc_variable *v, int32_t n, const int32_t *ent, lc_error *err) {
  if (n < 0 || (n > 0 && !ent))
    return lc_error_set(err, LC_EINVAL, "variable '%s': bad entity list", v->name);
  for (int32_t i = 0; i < n; ++i)
    if (ent[i] < 0 || ent[i] >= v->n)
      return lc_error_set(err, LC_ERANGE, "variable '%s': entity %d at position %d is out of range [0, %d)",
                          v->name, ent[i], i, v->n);
  return LC_OK;
}

/* Sets the fixed flag of the DOFs of n entities to on; updates the count. */
static void mark_fixed(lc_problem *p, const lc_variable *v, int32_t n, const int32_t *ent, int on) {
  for (int32_t i = 0; i < n; ++i)
    for (int c = 0; c < v->dim; ++c) {
      uint8_t *f = &p->fixed[v->off + (int64_t)ent[i] * v->dim + c];
      p->n_fixed += (on && !*f) - (!on && *f);
      *f = (uint8_t)on;
    }
  p->gen_fixed++;
}

/* Fixes n entities of variable var; values (n x dim) or NULL to keep the current ones. */
int lc_problem_fix(lc_problem *p, int var, int32_t n, const int32_t *entities,
                   const double *values, lc_error *err) {
  int rc = check_var(p, var, err);
  if (rc) return rc;
  const lc_variable *v = &p->vars[var];
  if ((rc = check_entities(v, n, entities, err))) return rc;
  if (values && !all_finite(values, (int64_t)n * v->dim))
    return lc_error_set(err, LC_EINVAL, "fix: variable '%s': values must be finite", v->name);
  for (int32_t i = 0; values && i < n; ++i)
    memcpy(p->x + v->off + (int64_t)entities[i] * v->dim, values + (int64_t)i * v->dim,
           (size_t)v->dim * sizeof *values);
  mark_fixed(p, v, n, entities, 1);
  if (values) p->gen_x++;
  return LC_OK;
}

/* Frees n entities of variable var; n < 0 frees every entity of var. */
int lc_problem_unfix(lc_problem *p, int var, int32_t n, const int32_t *entities, lc_error *err) {
  int rc = check_var(p, var, err);
  if (rc) return rc;
  const lc_variable *v = &p->vars[var];
  if (n < 0) {
    for (int64_t i = v->off; i < v->off + (int64_t)v->n * v->dim; ++i) {
      p->n_fixed -= p->fixed[i];
      p->fixed[i] = 0;
    }
    p->gen_fixed++;
    return LC_OK;
  }
  if ((rc = check_entities(v, n, entities, err))) return rc;
  mark_fixed(p, v, n, entities, 0);
  return LC_OK;
}

/* Sets every DOF's fixed flag from flags (n_dofs values, 0 or 1). */
int lc_problem_set_fixed_flags(lc_problem *p, const uint8_t *flags, lc_error *err) {
  if (!flags) return lc_error_set(err, LC_EINVAL, "set_fixed_flags: flags are required");
  int64_t n = 0;
  for (int64_t i = 0; i < p->n_dofs; ++i) {
    if (flags[i] > 1) return lc_error_set(err, LC_EINVAL, "set_fixed_flags: flag %lld is %d, not 0 or 1", (long long)i, flags[i]);
    n += flags[i];
  }
  memcpy(p->fixed, flags, (size_t)p->n_dofs);
  p->n_fixed = n;
  p->gen_fixed++;
  return LC_OK;
}

/* Per-DOF fixed flags (borrowed, n_dofs; 1 = fixed). */
const uint8_t *lc_problem_fixed(const lc_problem *p) { return p->fixed; }

/* Number of fixed DOFs. */
int64_t lc_problem_n_fixed(const lc_problem *p) { return p->n_fixed; }

/* Frees a term and everything it owns. */
void lc_term_free(lc_term *t) {
  if (!t) return;
  lc_custom_release(t->custom);
  free(t->ent);
  free(t->consts);
  free(t->perm);
  free(t->color_ptr);
  free(t->color_chunk);
  free(t->chunk_ptr);
  free(t->slots);
  free(t);
}

/* The mesh's natural element list of kind, its length in *n (NULL: none). */
static const int32_t *natural_elements(const lc_mesh *m, lc_elem_kind kind, int32_t *n) {
  switch (kind) {
    case LC_ELEM_EDGE: *n = lc_mesh_ne(m); return lc_mesh_edges(m);
    case LC_ELEM_FACE: *n = lc_mesh_nf(m); return lc_mesh_F(m);
    case LC_ELEM_FLAP: *n = lc_mesh_nflaps(m); return lc_mesh_flaps(m);
    case LC_ELEM_FACE_PAIR: *n = lc_mesh_nflaps(m); return lc_mesh_face_pairs(m);
    default: *n = 0; return NULL;
  }
}

/* Copies the term's elements (explicit list or the mesh's) into t->ent. */
static int load_elements(const lc_problem *p, lc_term *t, const lc_term_desc *d,
                         const lc_variable *v, lc_error *err) {
  const int K = t->K;
  const int32_t *src = d->elems;
  int32_t n = d->n_elems;
  if (!src && t->info->kind == LC_ELEM_VERTEX) n = v->n;
  else if (!src) src = natural_elements(p->mesh, t->info->kind, &n);
  if (!src && t->info->kind != LC_ELEM_VERTEX)
    return lc_error_set(err, LC_EINVAL, "energy '%s' needs an explicit element list", t->info->name);
  if (n <= 0 && d->elems) return lc_error_set(err, LC_EINVAL, "term has an empty element list");
  t->n_elem = n;
  t->ent = malloc((size_t)n * K * sizeof *t->ent + 1);
  if (!t->ent) return lc_error_set(err, LC_ENOMEM, "add_term: out of memory");
  for (int64_t i = 0; i < (int64_t)n * K; ++i) t->ent[i] = src ? src[i] : (int32_t)i;
  return LC_OK;
}

/* Checks explicit elements: indices in range and distinct within an element. */
static int check_elements(const lc_term *t, const lc_variable *v, lc_error *err) {
  for (int32_t e = 0; e < t->n_elem; ++e) {
    const int32_t *en = t->ent + (int64_t)e * t->K;
    for (int a = 0; a < t->K; ++a) {
      if (en[a] < 0 || en[a] >= v->n)
        return lc_error_set(err, LC_ERANGE, "element %d: index %d (%d) out of range [0, %d) of variable '%s'",
                            e, a, en[a], v->n, v->name);
      for (int b = 0; b < a; ++b)
        if (en[a] == en[b])
          return lc_error_set(err, LC_EINVAL, "element %d: entity %d appears twice", e, en[a]);
    }
  }
  return LC_OK;
}

/* Resolves parameters: defaults, then named overrides. */
static int load_params(lc_term *t, const lc_term_desc *d, lc_error *err) {
  for (int i = 0; i < t->info->n_param; ++i) t->params[i] = t->info->param_defaults[i];
  for (int i = 0; i < d->n_params; ++i) {
    const char *name = d->param_names ? d->param_names[i] : NULL;
    const int k = lc_energy_info_param_index(t->info, name);
    if (k < 0) {
      char list[256] = "";
      for (int j = 0, at = 0; j < t->info->n_param && at < (int)sizeof list; ++j)
        at += snprintf(list + at, sizeof list - (size_t)at, "%s%s", j ? ", " : "", t->info->param_names[j]);
      return lc_error_set(err, LC_ENOTFOUND, "energy '%s' has no parameter '%s' (its parameters: %s)",
                          t->info->name, name ? name : "(null)", t->info->n_param ? list : "none");
    }
    if (!isfinite(d->param_values[i]))
      return lc_error_set(err, LC_EINVAL, "parameter '%s' is not finite", name);
    t->params[k] = d->param_values[i];
  }
  return LC_OK;
}

/* Fills per-element constants: given, or computed from the rest mesh. */
static int load_consts(const lc_problem *p, lc_term *t, const lc_term_desc *d, lc_error *err) {
  const int nc = t->n_const;
  t->consts = malloc((size_t)t->n_elem * nc * sizeof *t->consts + 1);
  if (!t->consts) return lc_error_set(err, LC_ENOMEM, "add_term: out of memory");
  if (d->consts) {
    int64_t bad = first_nonfinite(d->consts, (int64_t)t->n_elem * nc);
    if (bad >= 0)
      return lc_error_set(err, LC_EINVAL, "constant %lld (element %lld) is not finite",
                          (long long)bad, (long long)(bad / nc));
    memcpy(t->consts, d->consts, (size_t)t->n_elem * nc * sizeof *t->consts);
    return LC_OK;
  }
  if (nc == 0) return LC_OK;
  if (t->custom && lc_custom_rest(t->custom)) { /* custom energies: constants from the rest shape */
    if (p->vars[t->var].loc != LC_LOC_VERTEX)
      return lc_error_set(err, LC_EINVAL, "constants from the rest shape need a vertex variable; '%s' lives on faces",
                          p->vars[t->var].name);
    for (int32_t e = 0; e < t->n_elem; ++e) {
      char why[128] = "";
      int rc = lc_custom_rest_consts(t->custom, p->mesh, t->ent + (int64_t)e * t->K, t->consts + (int64_t)e * nc, why);
      if (rc) return lc_error_set(err, rc, "custom energy, element %d: %s", e, why);
    }
    return LC_OK;
  }
  if (!t->info->setup)
    return lc_error_set(err, LC_EINVAL, "energy '%s' needs per-element constants (%s)",
                        t->info->name, t->info->const_doc ? t->info->const_doc : "");
  for (int32_t e = 0; e < t->n_elem; ++e) {
    char why[128] = "";
    int rc = t->info->setup(p->mesh, d->elems ? -1 : e, t->ent + (int64_t)e * t->K, t->params,
                            t->consts + (int64_t)e * nc, why);
    if (rc) return lc_error_set(err, rc, "energy '%s', element %d: %s", t->info->name, e, why);
  }
  return LC_OK;
}

/* Takes the custom energy of d for variable v of problem p. */
static int resolve_custom(const lc_problem *p, const lc_term_desc *d, const lc_variable *v, lc_term *t,
                          lc_error *err) {
  t->custom = lc_custom_retain(d->custom);
  t->energy = lc_custom_energy(t->custom);
  t->info = lc_custom_info(t->custom);
  t->kern = lc_cpu_kernel(t->energy);
  if (strcmp(lc_problem_device(p), "cpu"))
    return lc_error_set(err, LC_EINVAL, "custom energies run on the CPU backend for now; this problem is on %s",
                        lc_problem_device(p));
  if (t->info->dim != v->dim)
    return lc_error_set(err, LC_EINVAL, "the custom energy is written for dimension %d; variable '%s' has %d",
                        t->info->dim, v->name, v->dim);
  const int any_loc = t->info->kind == LC_ELEM_VERTEX || t->info->kind == LC_ELEM_LIST; /* the variable's entities */
  if (!any_loc && t->info->loc != v->loc)
    return lc_error_set(err, LC_EINVAL, "the custom energy's elements need a %s variable; '%s' lives on %s",
                        t->info->loc == LC_LOC_VERTEX ? "vertex" : "face", v->name,
                        v->loc == LC_LOC_VERTEX ? "vertices" : "faces");
  t->K = t->info->K;
  t->D = v->dim;
  t->N = t->K * t->D;
  t->n_const = t->info->n_const;
  t->n_resid = t->info->n_resid;
  return LC_OK;
}

/* Finds the energy instance for desc on variable v. */
static int resolve_energy(const lc_problem *p, const lc_term_desc *d, const lc_variable *v, lc_term *t,
                          lc_error *err) {
  if (d->custom) return resolve_custom(p, d, v, t, err);
  int id = d->energy ? lc_energy_find(d->energy, v->dim) : LC_ENOTFOUND;
  if (id < 0)
    return lc_error_set(err, LC_ENOTFOUND, "no energy '%s' for variables of dimension %d",
                        d->energy ? d->energy : "(null)", v->dim);
  t->energy = id;
  t->info = lc_energy_get(id);
  t->kern = lc_cpu_kernel(id);
  if (t->info->loc != v->loc)
    return lc_error_set(err, LC_EINVAL, "energy '%s' needs a %s variable; '%s' lives on %s",
                        d->energy, t->info->loc == LC_LOC_VERTEX ? "vertex" : "face", v->name,
                        v->loc == LC_LOC_VERTEX ? "vertices" : "faces");
  t->K = t->info->K;
  t->D = v->dim;
  t->N = t->K * t->D;
  t->n_const = t->info->n_const;
  t->n_resid = t->info->n_resid;
  return LC_OK;
}

/* Checks that a custom term got every parameter and makes its context. */
static int custom_params(lc_term *t, lc_error *err) {
  for (int i = 0; i < t->info->n_param; ++i)
    if (!isfinite(t->params[i]))
      return lc_error_set(err, LC_EINVAL, "the custom energy's parameter '%s' has no value: give it in params",
                          t->info->param_names[i]);
  lc_custom_context(t->custom, t->params, &t->cctx);
  return LC_OK;
}

/* Stores t in the first free slot; its id goes to *term. */
static int store_term(lc_problem *p, lc_term *t, int *term, lc_error *err) {
  int slot = 0;
  while (slot < p->n_term_slots && p->terms[slot]) ++slot;
  if (slot == p->n_term_slots) {
    lc_term **ts = realloc(p->terms, (size_t)(p->n_term_slots + 1) * sizeof *ts);
    if (!ts) return lc_error_set(err, LC_ENOMEM, "add_term: out of memory");
    p->terms = ts;
    p->terms[p->n_term_slots++] = NULL;
  }
  p->terms[slot] = t;
  p->n_live_terms++;
  if (term) *term = slot;
  return LC_OK;
}

/* Builds a term from d (everything but storing it). */
static int build_term(lc_problem *p, const lc_term_desc *d, lc_term *t, lc_error *err) {
  int rc = check_var(p, d->var, err);
  if (rc) return rc;
  const lc_variable *v = &p->vars[d->var];
  t->var = d->var;
  t->weight = d->weight_set || d->weight != 0.0 ? d->weight : 1.0;
  t->project = !d->no_project;
  if (!(t->weight >= 0.0) || !isfinite(t->weight))
    return lc_error_set(err, LC_EINVAL, "term weight must be finite and >= 0");
  if ((rc = resolve_energy(p, d, v, t, err))) return rc;
  t->project = t->project && t->N <= LC_PSD_MAXN; /* larger elements: never projected */
  if ((rc = load_params(t, d, err))) return rc;
  if (t->custom && (rc = custom_params(t, err))) return rc;
  if ((rc = load_elements(p, t, d, v, err))) return rc;
  if ((rc = check_elements(t, v, err))) return rc;
  const int from_rest = t->custom && lc_custom_rest(t->custom);
  if (d->elems && d->consts == NULL && t->n_const && t->info->setup == NULL && !from_rest)
    return lc_error_set(err, LC_EINVAL, "energy '%s' needs constants", d->energy);
  if ((rc = load_consts(p, t, d, err))) return rc;
  return lc_term_color(t, v->n, err);
}

/* Adds a term; its id goes to *term. */
int lc_problem_add_term(lc_problem *p, const lc_term_desc *d, int *term, lc_error *err) {
  if (!d) return lc_error_set(err, LC_EINVAL, "add_term: no description");
  lc_term *t = calloc(1, sizeof *t);
  int rc = t ? build_term(p, d, t, err) : lc_error_set(err, LC_ENOMEM, "add_term: out of memory");
  if (rc == LC_OK) rc = store_term(p, t, term, err);
  if (rc) {
    lc_term_free(t);
    return rc;
  }
  p->gen_terms++;
  lc_pattern_invalidate(p);
  return LC_OK;
}

/* Checks a term id. */
static int check_term(const lc_problem *p, int term, lc_error *err) {
  if (term < 0 || term >= p->n_term_slots || !p->terms[term])
    return lc_error_set(err, LC_ENOTFOUND, "no term with id %d", term);
  return LC_OK;
}

/* Removes term `term`. */
int lc_problem_remove_term(lc_problem *p, int term, lc_error *err) {
  int rc = check_term(p, term, err);
  if (rc) return rc;
  lc_term_free(p->terms[term]);
  p->terms[term] = NULL;
  p->n_live_terms--;
  p->gen_terms++;
  lc_pattern_invalidate(p);
  return LC_OK;
}

/* Builds term t as a copy of term o's energy, variable, weight, projection
 * and parameters over n >= 0 new elements (constants given or from the
 * setup), coloured. */
static int rebuild_term(const lc_problem *p, const lc_term *o, const int32_t *elems, int32_t n,
                        const double *consts, lc_term *t, lc_error *err) {
  const lc_variable *v = &p->vars[o->var];
  *t = (lc_term){.energy = o->energy, .info = o->info, .kern = o->kern, .var = o->var, .weight = o->weight,
                 .project = o->project, .K = o->K, .D = o->D, .N = o->N, .n_const = o->n_const,
                 .n_resid = o->n_resid, .n_elem = n};
  memcpy(t->params, o->params, sizeof t->params);
  t->custom = lc_custom_retain(o->custom);
  t->cctx = o->cctx;
  t->ent = malloc((size_t)n * t->K * sizeof *t->ent + 1);
  if (!t->ent) return lc_error_set(err, LC_ENOMEM, "replace_elements: out of memory");
  if (n) memcpy(t->ent, elems, (size_t)n * t->K * sizeof *t->ent);
  int rc = check_elements(t, v, err);
  const lc_term_desc d = {.elems = elems, .n_elems = n, .consts = consts};
  if (!rc && !consts && t->n_const && !t->info->setup && !(t->custom && lc_custom_rest(t->custom)))
    rc = lc_error_set(err, LC_EINVAL, "energy '%s' needs constants", t->info->name);
  if (!rc) rc = load_consts(p, t, &d, err);
  if (!rc) rc = lc_term_color(t, v->n, err);
  return rc;
}

/* Replaces the elements of a term, keeping the pattern when it holds them. */
int lc_problem_replace_elements(lc_problem *p, int term, const int32_t *elems, int32_t n, const double *consts,
                                int *kept, lc_error *err) {
  if (kept) *kept = 0;
  int rc = check_term(p, term, err);
  if (rc) return rc;
  if (n < 0 || (n > 0 && !elems))
    return lc_error_set(err, LC_EINVAL, "replace_elements: %d elements without a list", (int)n);
  lc_term *t = calloc(1, sizeof *t), *o = p->terms[term];
  rc = t ? rebuild_term(p, o, elems, n, consts, t, err) : lc_error_set(err, LC_ENOMEM, "replace_elements: out of memory");
  const int keep = !rc && p->hess_valid && t->n_resid == 0;
  const int slots_rc = keep ? lc_pattern_term_slots(p, t) : LC_ENOTFOUND;
  if (!rc && slots_rc == LC_ENOMEM) rc = lc_error_set(err, LC_ENOMEM, "replace_elements: out of memory");
  if (rc) {
    lc_term_free(t);
    return rc;
  }
  p->terms[term] = t;
  lc_term_free(o);
  p->gen_terms++;
  if (slots_rc == LC_OK) {
    if (kept) *kept = 1;
  } else {
    lc_pattern_invalidate(p);
  }
  return LC_OK;
}

/* Sets the pattern reserve of variable var. */
int lc_problem_reserve_pattern(lc_problem *p, int var, int K, const int32_t *elems, int64_t n, lc_error *err) {
  int rc = check_var(p, var, err);
  if (rc) return rc;
  if (K < 1 || K > LC_ENERGY_MAX_K || n < 0 || (n > 0 && !elems))
    return lc_error_set(err, LC_EINVAL, "reserve_pattern: K must be in [1, %d] and n >= 0 with a list",
                        LC_ENERGY_MAX_K);
  for (int64_t i = 0; i < n * K; ++i)
    if (elems[i] < 0 || elems[i] >= p->vars[var].n)
      return lc_error_set(err, LC_ERANGE, "reserve_pattern: entity %d out of range [0, %d)", elems[i],
                          p->vars[var].n);
  int32_t *e = n ? malloc((size_t)(n * K) * sizeof *e) : NULL;
  if (n && !e) return lc_error_set(err, LC_ENOMEM, "reserve_pattern: out of memory");
  if (n) memcpy(e, elems, (size_t)(n * K) * sizeof *e);
  free(p->rsv_ent);
  p->rsv_ent = e;
  p->n_rsv = n;
  p->rsv_var = var;
  p->rsv_K = K;
  lc_pattern_invalidate(p);
  return LC_OK;
}

/* Replaces the per-element constants of a term (user element order). */
int lc_problem_set_term_consts(lc_problem *p, int term, const double *consts, lc_error *err) {
  int rc = check_term(p, term, err);
  if (rc) return rc;
  lc_term *t = p->terms[term];
  const int nc = t->n_const;
  int64_t bad = consts ? first_nonfinite(consts, (int64_t)t->n_elem * nc) : 0;
  if (bad >= 0) return lc_error_set(err, LC_EINVAL, "constant %lld is not finite", (long long)bad);
  for (int32_t s = 0; s < t->n_elem; ++s)
    memcpy(t->consts + (int64_t)s * nc, consts + (int64_t)t->perm[s] * nc, (size_t)nc * sizeof *consts);
  t->gen_consts++; /* only this term's constants need refreshing on a device */
  return LC_OK;
}

/* Copies the per-element constants of a term into out (user element order). */
int lc_problem_get_term_consts(const lc_problem *p, int term, double *out, lc_error *err) {
  int rc = check_term(p, term, err);
  if (rc) return rc;
  const lc_term *t = p->terms[term];
  const int nc = t->n_const;
  for (int32_t s = 0; s < t->n_elem; ++s)
    memcpy(out + (int64_t)t->perm[s] * nc, t->consts + (int64_t)s * nc, (size_t)nc * sizeof *out);
  return LC_OK;
}

/* Sets a term's weight (>= 0, finite). */
int lc_problem_set_term_weight(lc_problem *p, int term, double weight, lc_error *err) {
  int rc = check_term(p, term, err);
  if (rc) return rc;
  if (!(weight >= 0.0) || !isfinite(weight))
    return lc_error_set(err, LC_EINVAL, "term weight must be finite and >= 0");
  p->terms[term]->weight = weight;
  return LC_OK;
}

/* Number of live terms. */
int lc_problem_n_terms(const lc_problem *p) { return p->n_live_terms; }

/* The largest term id + 1. */
int lc_problem_term_capacity(const lc_problem *p) { return p->n_term_slots; }

/* The energy info of a term. */
const lc_energy_info *lc_problem_term_energy_info(const lc_problem *p, int term) {
  return term >= 0 && term < p->n_term_slots && p->terms[term] ? p->terms[term]->info : NULL;
}

/* The custom energy of a term. */
const lc_custom *lc_problem_term_custom(const lc_problem *p, int term) {
  return term >= 0 && term < p->n_term_slots && p->terms[term] ? p->terms[term]->custom : NULL;
}

/* Describes term `term`: energy id, variable, element count, colour count. */
int lc_problem_term_info(const lc_problem *p, int term, int *energy, int *var, int32_t *n_elems,
                         int32_t *n_colors, lc_error *err) {
  int rc = check_term(p, term, err);
  if (rc) return rc;
  const lc_term *t = p->terms[term];
  if (energy) *energy = t->energy;
  if (var) *var = t->var;
  if (n_elems) *n_elems = t->n_elem;
  if (n_colors) *n_colors = t->n_colors;
  return LC_OK;
}

/* Number of residual rows (sum over residual terms of elements x m). */
int64_t lc_problem_n_residuals(const lc_problem *p) {
  int64_t n = 0;
  for (int i = 0; i < p->n_term_slots; ++i)
    if (p->terms[i]) n += (int64_t)p->terms[i]->n_elem * p->terms[i]->n_resid;
  return n;
}

/* Bytes of element and pattern data per element, summed over terms. */
double lc_problem_bytes_per_element(const lc_problem *p) {
  double bytes = 0.0, elems = 0.0;
  for (int i = 0; i < p->n_term_slots; ++i) {
    const lc_term *t = p->terms[i];
    if (!t) continue;
    elems += t->n_elem;
    bytes += (double)t->n_elem * (t->K * 4.0 + t->n_const * 8.0 + 4.0);
    if (t->slots) bytes += (double)t->n_elem * t->K * t->K * 4.0;
  }
  return elems > 0 ? bytes / elems : 0.0;
}

/* Heap bytes held by the problem (state, terms, pattern, values). */
size_t lc_problem_bytes(const lc_problem *p) {
  double per = lc_problem_bytes_per_element(p), elems = 0.0;
  for (int i = 0; i < p->n_term_slots; ++i)
    if (p->terms[i]) elems += p->terms[i]->n_elem;
  size_t b = sizeof *p + (size_t)p->n_dofs * 9 + (size_t)(per * elems);
  if (p->hess_valid) b += (size_t)p->nnz * 12 + (size_t)p->n_dofs * 8;
  if (p->jac_valid) b += (size_t)p->jnnz * 12 + (size_t)p->n_res * 4;
  return b;
}

/* Sets the number of CPU threads used by evaluation (0 = OpenMP default). */
void lc_problem_set_threads(lc_problem *p, int threads) {
  p->threads = threads > 0 ? threads : 0;
  p->be.threads = p->threads;
}
