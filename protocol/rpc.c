/* rpc.c - the locad object store and MessagePack-RPC dispatcher (rpc.h,
 * protocol/SPEC.md): meshes and problems addressed by id or name, one short
 * function per method, results packed into a scratch buffer and copied into
 * the response only on success, so that a failure never leaves a half-packed
 * result behind.  The problem methods live in rpc_problem.c (structure) and
 * rpc_solve.c (eval, solve, step).
 *
 * Objects are reference counted inside the store: a request takes a
 * reference under the store lock and then the object's own mutex, so a
 * concurrent delete (or two requests for one problem that the daemon did not
 * order, e.g. addressed by name) can never free or share an object in use. */
#include "rpc.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "solvers/dynamics.h"
#include "solvers/solver.h"

#include "rpc_impl.h"

/* ---- error codes ------------------------------------------------------- */

/* Maps a codec (params) error to a protocol code. */
int rpc_pcode(int lc) {
  switch (lc) {
    case LC_OK: return 0;
    case LC_EINVAL: return LC_RPC_EPARAMS;
    case LC_ENOMEM: return LC_RPC_ENOMEM;
    default: return LC_RPC_EINVAL;
  }
}

/* Maps an engine error to a protocol code. */
int rpc_ecode(int lc) {
  switch (lc) {
    case LC_OK: return 0;
    case LC_EINVAL: case LC_ERANGE: case LC_EPARSE: case LC_EMESH: case LC_ESTATE:
    case LC_ENOTSUP: return LC_RPC_EINVAL;
    case LC_ENOMEM: return LC_RPC_ENOMEM;
    case LC_ENOTFOUND: return LC_RPC_ENOTFOUND;
    case LC_ENUMERIC: return LC_RPC_ENUMERIC;
    case LC_EBUSY: return LC_RPC_EBUSY;
    case LC_ECANCELED: return LC_RPC_ECANCELED;
    default: return LC_RPC_EINTERNAL;
  }
}


/* ---- the store --------------------------------------------------------- */

/* Copies s into dst[cap] (NULL: default). */
static void copy_str(char *dst, size_t cap, const char *s, const char *def) {
  snprintf(dst, cap, "%s", s ? s : def);
}

/* Creates an empty object store; fails when cfg->device cannot be used. */
static int restore(lc_rpc *r, const char *dir, lc_error *err);

int lc_rpc_create(const lc_rpc_config *cfg, lc_rpc **out, lc_error *err) {
  lc_device_kind kind;
  int ordinal, rc;
  *out = NULL;
  if ((rc = lc_device_resolve(cfg ? cfg->device : NULL, &kind, &ordinal, err)) != LC_OK) return rc;
  lc_rpc *r = calloc(1, sizeof *r);
  if (!r) return lc_error_set(err, LC_ENOMEM, "rpc: out of memory");
  copy_str(r->version, sizeof r->version, cfg ? cfg->version : NULL, "0.1.0");
  copy_str(r->backend, sizeof r->backend, cfg ? cfg->backend : NULL,
           kind == LC_DEV_CUDA ? "cuda" : "cpu");
  if (kind == LC_DEV_CUDA) snprintf(r->device, sizeof r->device, "cuda:%d", ordinal);
  else snprintf(r->device, sizeof r->device, "cpu");
  if (cfg && cfg->devices) {
    r->n_devices = cfg->n_devices < 0 ? 0 : cfg->n_devices > LC_DEVICE_MAX ? LC_DEVICE_MAX : cfg->n_devices;
    memcpy(r->devices, cfg->devices, (size_t)r->n_devices * sizeof *r->devices);
  } else {
    lc_device_list(r->devices, LC_DEVICE_MAX, &r->n_devices);
  }
  r->max_frame = cfg && cfg->max_frame ? cfg->max_frame : (uint64_t)256 << 20;
  r->max_objects = cfg ? cfg->max_objects : 0;
  r->next_id = 1;
  if (pthread_mutex_init(&r->lock, NULL) != 0) {
    free(r);
    return lc_error_set(err, LC_ENOMEM, "rpc: mutex init failed");
  }
  if (cfg && cfg->state_dir && (rc = restore(r, cfg->state_dir, err)) != LC_OK) {
    lc_rpc_destroy(r);
    return rc;
  }
  *out = r;
  return LC_OK;
}

/* Frees an object (no references left). */
static void obj_free(rpc_obj *o) {
  lc_dynamics_destroy(o->dyn);
  lc_contact_destroy(o->contact);
  lc_solver_destroy(o->solver);
  lc_problem_destroy(o->prob);
  lc_mesh_destroy(o->mesh);
  pthread_mutex_destroy(&o->use);
  free(o);
}

/* Destroys the store and every object in it. */
void lc_rpc_destroy(lc_rpc *r) {
  if (!r) return;
  lc_persist_close(r->persist);
  for (size_t i = 0; i < r->n; ++i) obj_free(r->objs[i]);
  free(r->objs);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

/* Counters for server.stats: live objects and bytes held. */
void lc_rpc_stats(const lc_rpc *r, uint64_t *objects, uint64_t *bytes) {
  lc_rpc *rw = (lc_rpc *)r; /* the lock is the only mutable part */
  uint64_t b = 0;
  pthread_mutex_lock(&rw->lock);
  for (size_t i = 0; i < r->n; ++i) b += r->objs[i]->bytes;
  if (objects) *objects = r->n;
  if (bytes) *bytes = b;
  pthread_mutex_unlock(&rw->lock);
}

/* The store's figures for metrics (see rpc.h). */
void lc_rpc_metrics(const lc_rpc *r, lc_rpc_figures *f) {
  lc_rpc *rw = (lc_rpc *)r;
  memset(f, 0, sizeof *f);
  pthread_mutex_lock(&rw->lock);
  for (size_t i = 0; i < r->n; ++i) {
    const rpc_obj *o = r->objs[i];
    f->meshes += o->kind == OBJ_MESH;
    f->problems += o->kind == OBJ_PROBLEM;
    f->bytes += o->bytes;
    const char *dev = o->kind == OBJ_PROBLEM ? lc_problem_device(o->prob) : "host";
    int k = 0;
    while (k < f->n_devices && strcmp(f->device[k], dev)) ++k;
    if (k == f->n_devices && k < LC_RPC_MAX_DEVICES) snprintf(f->device[f->n_devices++], sizeof f->device[0], "%s", dev);
    if (k < f->n_devices) f->device_bytes[k] += o->bytes;
  }
  f->requests = r->requests;
  f->errors = r->errors;
  f->solve_iters = r->solve_iters;
  f->host_syncs = r->host_syncs;
  pthread_mutex_unlock(&rw->lock);
}

/* Index of the live object matching ref (id or name) and kind, or -1. */
static long find_locked(const lc_rpc *r, const msgpack_object *ref, obj_kind kind) {
  for (size_t i = 0; i < r->n; ++i) {
    const rpc_obj *o = r->objs[i];
    if (o->kind != kind) continue;
    if (ref->type == MSGPACK_OBJECT_POSITIVE_INTEGER && ref->via.u64 == o->id) return (long)i;
    if (ref->type == MSGPACK_OBJECT_STR && o->name[0] && lc_codec_str_eq(ref, o->name))
      return (long)i;
  }
  return -1;
}

/* Takes a reference to the object params[key] and locks it for use. */
static int obj_acquire(lc_rpc *r, const msgpack_object *params, obj_kind kind, rpc_obj **out,
                       lc_error *err) {
  const char *key = kind == OBJ_MESH ? "mesh" : "problem";
  const msgpack_object *ref = lc_codec_get(params, key);
  *out = NULL;
  if (!ref) return RPC_FAIL(err, LC_RPC_EPARAMS, "missing parameter '%s'", key);
  if (ref->type != MSGPACK_OBJECT_POSITIVE_INTEGER && ref->type != MSGPACK_OBJECT_STR)
    return RPC_FAIL(err, LC_RPC_EPARAMS, "parameter '%s' must be an id or a name", key);
  pthread_mutex_lock(&r->lock);
  const long i = find_locked(r, ref, kind);
  rpc_obj *o = i >= 0 ? r->objs[i] : NULL;
  if (o) o->refs++;
  pthread_mutex_unlock(&r->lock);
  if (!o) return RPC_FAIL(err, LC_RPC_ENOTFOUND, "no %s with that %s", key,
                          ref->type == MSGPACK_OBJECT_STR ? "name" : "id");
  pthread_mutex_lock(&o->use);
  if (o->dead) { /* deleted while we waited */
    pthread_mutex_unlock(&o->use);
    pthread_mutex_lock(&r->lock);
    const int last = --o->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last) obj_free(o);
    return RPC_FAIL(err, LC_RPC_ENOTFOUND, "%s was deleted", key);
  }
  *out = o;
  return 0;
}

/* Unlocks and drops a reference taken by obj_acquire (frees a deleted object). */
static void obj_release(lc_rpc *r, rpc_obj *o) {
  if (!o) return;
  const uint64_t bytes = o->prob ? lc_problem_bytes(o->prob) : o->mesh ? lc_mesh_bytes(o->mesh) : 0;
  pthread_mutex_unlock(&o->use);
  pthread_mutex_lock(&r->lock);
  o->bytes = bytes;
  const int last = --o->refs == 0;
  pthread_mutex_unlock(&r->lock);
  if (last) obj_free(o);
}

/* Removes o (acquired) from the store; it is freed on release. */
void rpc_obj_remove(lc_rpc *r, rpc_obj *o) {
  pthread_mutex_lock(&r->lock);
  for (size_t i = 0; i < r->n; ++i)
    if (r->objs[i] == o) {
      r->objs[i] = r->objs[--r->n];
      break;
    }
  o->dead = 1;
  o->refs--; /* the store's reference */
  pthread_mutex_unlock(&r->lock);
}

/* Inserts a new object (taking ownership of mesh/prob); on failure frees it. */
int rpc_obj_insert(lc_rpc *r, obj_kind kind, const char *name, lc_mesh *mesh, lc_problem *prob,
                      uint64_t mesh_id, rpc_obj **out, lc_error *err) {
  rpc_obj *o = calloc(1, sizeof *o);
  int code = 0;
  *out = NULL;
  if (!o || pthread_mutex_init(&o->use, NULL) != 0) {
    free(o);
    lc_mesh_destroy(mesh);
    lc_problem_destroy(prob);
    return RPC_FAIL(err, LC_RPC_ENOMEM, "out of memory");
  }
  o->kind = kind;
  o->mesh = mesh;
  o->prob = prob;
  o->mesh_id = mesh_id;
  o->refs = 1;
  snprintf(o->name, sizeof o->name, "%s", name ? name : "");
  o->bytes = prob ? lc_problem_bytes(prob) : lc_mesh_bytes(mesh);
  pthread_mutex_lock(&r->lock);
  if (r->max_objects && r->n >= r->max_objects)
    code = RPC_FAIL(err, LC_RPC_ENOMEM, "object limit reached (%llu)",
                    (unsigned long long)r->max_objects);
  else if (o->name[0]) {
    msgpack_object ref = {.type = MSGPACK_OBJECT_STR};
    ref.via.str.ptr = o->name;
    ref.via.str.size = (uint32_t)strlen(o->name);
    if (find_locked(r, &ref, kind) >= 0)
      code = RPC_FAIL(err, LC_RPC_EINVAL, "name '%s' is already in use", o->name);
  }
  if (!code && r->n == r->cap) {
    const size_t cap = r->cap ? 2 * r->cap : 16;
    rpc_obj **objs = realloc(r->objs, cap * sizeof *objs);
    if (!objs) code = RPC_FAIL(err, LC_RPC_ENOMEM, "out of memory");
    else { r->objs = objs; r->cap = cap; }
  }
  if (!code) {
    o->id = r->force_id ? r->force_id : r->next_id;
    if (o->id >= r->next_id) r->next_id = o->id + 1;
    r->force_id = 0;
    r->objs[r->n++] = o;
  }
  pthread_mutex_unlock(&r->lock);
  if (code) obj_free(o);
  else *out = o;
  return code;
}

/* Reads the optional "name" parameter into name[RPC_NAME_MAX]. */
int rpc_get_name(const msgpack_object *params, char *name, lc_error *err) {
  int rc = lc_codec_get_str(params, "name", 0, name, RPC_NAME_MAX, err);
  return rpc_pcode(rc);
}

/* Drops the solver handle after a structural change (variables, terms): its
 * cached analysis belongs to the old Hessian pattern. */
void rpc_problem_changed(rpc_obj *o) {
  lc_solver_destroy(o->solver);
  o->solver = NULL;
}

/* ---- helpers ----------------------------------------------------------- */

/* Packs "key": value pairs. */
void rpc_kv_int(msgpack_packer *pk, const char *k, int64_t v) {
  lc_codec_pack_str(pk, k);
  msgpack_pack_int64(pk, v);
}
void rpc_kv_dbl(msgpack_packer *pk, const char *k, double v) {
  lc_codec_pack_str(pk, k);
  msgpack_pack_double(pk, v);
}
void rpc_kv_str(msgpack_packer *pk, const char *k, const char *v) {
  lc_codec_pack_str(pk, k);
  lc_codec_pack_str(pk, v);
}

/* Resolves params[key] (a variable id or name) of problem p. */
int rpc_get_var(const lc_problem *p, const msgpack_object *params, const char *key, int *var,
                   lc_error *err) {
  const msgpack_object *v = lc_codec_get(params, key);
  char name[RPC_NAME_MAX];
  *var = -1;
  if (!v) return RPC_FAIL(err, LC_RPC_EPARAMS, "missing parameter '%s'", key);
  if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
    if (v->via.u64 >= (uint64_t)lc_problem_n_vars(p))
      return RPC_FAIL(err, LC_RPC_ENOTFOUND, "'%s': no variable %llu", key,
                      (unsigned long long)v->via.u64);
    *var = (int)v->via.u64;
    return 0;
  }
  if (v->type != MSGPACK_OBJECT_STR)
    return RPC_FAIL(err, LC_RPC_EPARAMS, "'%s' must be a variable id or name", key);
  if (v->via.str.size >= sizeof name || memchr(v->via.str.ptr, 0, v->via.str.size))
    return RPC_FAIL(err, LC_RPC_ENOTFOUND, "'%s': no such variable", key);
  memcpy(name, v->via.str.ptr, v->via.str.size);
  name[v->via.str.size] = '\0';
  *var = lc_problem_find_var(p, name);
  if (*var < 0) return RPC_FAIL(err, LC_RPC_ENOTFOUND, "'%s': no variable '%s'", key, name);
  return 0;
}

/* Entities and dimension of variable var. */
void rpc_var_shape(const lc_problem *p, int var, int32_t *n, int *dim) {
  lc_var_loc loc;
  int64_t off;
  lc_problem_var_info(p, var, &loc, dim, n, &off);
}

/* Packs variable var's values as an f8 [n, dim] array. */
int rpc_pack_variable(msgpack_packer *pk, const lc_problem *p, int var, lc_error *err) {
  int32_t n;
  int dim;
  rpc_var_shape(p, var, &n, &dim);
  double *vals = malloc(((size_t)n * dim + 1) * sizeof *vals);
  if (!vals) return RPC_FAIL(err, LC_RPC_ENOMEM, "out of memory");
  int code = rpc_ecode(lc_problem_get_variable(p, var, vals, err));
  if (!code) {
    const int64_t shape[2] = {n, dim};
    lc_codec_pack_ndarray(pk, LC_DT_F8, 2, shape, vals);
  }
  free(vals);
  return code;
}

/* ---- server.* ---------------------------------------------------------- */

static const rpc_method *method_table(size_t *n);

/* Packs one device {id, name, memory, compute_capability: "M.m" | nil, cores}. */
static void pack_device(msgpack_packer *pk, const lc_device_info *d) {
  char cc[24];
  msgpack_pack_map(pk, 5);
  rpc_kv_str(pk, "id", d->id);
  rpc_kv_str(pk, "name", d->name);
  rpc_kv_int(pk, "memory", d->memory);
  lc_codec_pack_str(pk, "compute_capability");
  if (d->cc_major > 0) {
    snprintf(cc, sizeof cc, "%d.%d", d->cc_major, d->cc_minor);
    lc_codec_pack_str(pk, cc);
  } else {
    msgpack_pack_nil(pk);
  }
  rpc_kv_int(pk, "cores", d->cores);
}

/* server.info: identity, devices, limits, methods, energies. */
static int m_server_info(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                         const lc_rpc_call *call, lc_error *err) {
  (void)o; (void)params; (void)call; (void)err;
  size_t nm;
  const rpc_method *t = method_table(&nm);
  msgpack_pack_map(pk, 8);
  rpc_kv_str(pk, "version", r->version);
  rpc_kv_str(pk, "backend", r->backend);
  rpc_kv_str(pk, "device", r->device);
  lc_codec_pack_str(pk, "devices");
  msgpack_pack_array(pk, (size_t)r->n_devices);
  for (int i = 0; i < r->n_devices; ++i) pack_device(pk, &r->devices[i]);
  rpc_kv_int(pk, "protocol", 1);
  lc_codec_pack_str(pk, "limits");
  msgpack_pack_map(pk, 2);
  rpc_kv_int(pk, "max_frame", (int64_t)r->max_frame);
  rpc_kv_int(pk, "max_objects", (int64_t)r->max_objects);
  lc_codec_pack_str(pk, "methods");
  msgpack_pack_array(pk, nm);
  for (size_t i = 0; i < nm; ++i) lc_codec_pack_str(pk, t[i].name);
  lc_codec_pack_str(pk, "energies");
  msgpack_pack_array(pk, LC_E_COUNT);
  for (int e = 0; e < LC_E_COUNT; ++e) {
    const lc_energy_info *in = lc_energy_get(e);
    msgpack_pack_map(pk, 7);
    rpc_kv_str(pk, "name", in->name);
    rpc_kv_int(pk, "dim", in->dim);
    rpc_kv_int(pk, "K", in->K);
    rpc_kv_int(pk, "n_const", in->n_const);
    rpc_kv_int(pk, "n_resid", in->n_resid);
    rpc_kv_str(pk, "formula", in->formula);
    lc_codec_pack_str(pk, "params");
    msgpack_pack_map(pk, (size_t)in->n_param);
    for (int k = 0; k < in->n_param; ++k) rpc_kv_dbl(pk, in->param_names[k], in->param_defaults[k]);
  }
  return 0;
}

/* server.stats: objects and bytes held, requests handled. */
static int m_server_stats(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                          const lc_rpc_call *call, lc_error *err) {
  (void)o; (void)params; (void)call; (void)err;
  uint64_t objects, bytes, meshes = 0, requests, errors;
  lc_rpc_stats(r, &objects, &bytes);
  pthread_mutex_lock(&r->lock);
  for (size_t i = 0; i < r->n; ++i) meshes += r->objs[i]->kind == OBJ_MESH;
  requests = r->requests;
  errors = r->errors;
  pthread_mutex_unlock(&r->lock);
  msgpack_pack_map(pk, 6);
  rpc_kv_int(pk, "objects", (int64_t)objects);
  rpc_kv_int(pk, "meshes", (int64_t)meshes);
  rpc_kv_int(pk, "problems", (int64_t)(objects - meshes));
  rpc_kv_int(pk, "bytes", (int64_t)bytes);
  rpc_kv_int(pk, "requests", (int64_t)requests);
  rpc_kv_int(pk, "errors", (int64_t)errors);
  return 0;
}

/* server.health: always ok when the store answers. */
static int m_server_health(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                           msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)o; (void)params; (void)call; (void)err;
  msgpack_pack_map(pk, 1);
  lc_codec_pack_str(pk, "ok");
  msgpack_pack_true(pk);
  return 0;
}

/* ---- mesh.* ------------------------------------------------------------ */

/* Packs the summary of a mesh object (extra 1: topology counts, 2: and V, F). */
static void pack_mesh_summary(msgpack_packer *pk, const rpc_obj *o, int extra) {
  const lc_mesh *m = o->mesh;
  int32_t nb = 0, nd = 0;
  lc_mesh_boundary_edges(m, &nb);
  lc_mesh_degenerate_faces(m, &nd);
  msgpack_pack_map(pk, 6 + (extra ? 5 : 0) + (extra > 1 ? 2 : 0));
  rpc_kv_int(pk, "mesh", (int64_t)o->id);
  rpc_kv_str(pk, "name", o->name);
  rpc_kv_int(pk, "nv", lc_mesh_nv(m));
  rpc_kv_int(pk, "nf", lc_mesh_nf(m));
  rpc_kv_int(pk, "ne", lc_mesh_ne(m));
  rpc_kv_int(pk, "degenerate_faces", nd);
  if (extra) {
    rpc_kv_int(pk, "interior_edges", lc_mesh_nflaps(m));
    rpc_kv_int(pk, "boundary_edges", nb);
    rpc_kv_int(pk, "boundary_loops", lc_mesh_n_boundary_loops(m));
    rpc_kv_int(pk, "euler", lc_mesh_euler(m));
    rpc_kv_int(pk, "bytes", (int64_t)lc_mesh_bytes(m));
  }
  if (extra > 1) {
    const int64_t sv[2] = {lc_mesh_nv(m), 3}, sf[2] = {lc_mesh_nf(m), 3};
    lc_codec_pack_str(pk, "V");
    lc_codec_pack_ndarray(pk, LC_DT_F8, 2, sv, lc_mesh_V(m));
    lc_codec_pack_str(pk, "F");
    lc_codec_pack_ndarray(pk, LC_DT_I4, 2, sf, lc_mesh_F(m));
  }
}

/* Stores a freshly built mesh and packs its summary. */
static int store_mesh(lc_rpc *r, lc_mesh *m, const char *name, msgpack_packer *pk, lc_error *err) {
  rpc_obj *o;
  int code = rpc_obj_insert(r, OBJ_MESH, name, m, NULL, 0, &o, err);
  if (!code) pack_mesh_summary(pk, o, 0);
  return code;
}

/* mesh.create {V: f8 [nv,3], F: i4 [nf,3], name?}. */
static int m_mesh_create(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                         const lc_rpc_call *call, lc_error *err) {
  (void)o; (void)call;
  lc_ndarray V = {0}, F = {0};
  lc_mesh *m = NULL;
  char name[RPC_NAME_MAX];
  int code = rpc_get_name(params, name, err);
  if (!code) code = rpc_pcode(lc_codec_get_ndarray(params, "V", 1, LC_DT_F8, -1, 3, &V, err));
  if (!code) code = rpc_pcode(lc_codec_get_ndarray(params, "F", 1, LC_DT_I4, -1, 3, &F, err));
  if (!code && (V.shape[0] > INT32_MAX || F.shape[0] > INT32_MAX || F.shape[0] == 0))
    code = RPC_FAIL(err, LC_RPC_EINVAL, "mesh.create: need 1 to 2^31-1 faces and vertices");
  if (!code) code = rpc_pcode(lc_codec_check_indices(&F, V.shape[0], "F", err));
  if (!code)
    code = rpc_ecode(lc_mesh_create(V.data, (int32_t)V.shape[0], F.data, (int32_t)F.shape[0], &m, err));
  if (!code) code = store_mesh(r, m, name, pk, err);
  lc_codec_ndarray_free(&V);
  lc_codec_ndarray_free(&F);
  return code;
}

/* mesh.load_obj {data: bin or str (OBJ text), name?}. */
static int m_mesh_load_obj(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                           msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)o; (void)call;
  const msgpack_object *d = lc_codec_get(params, "data");
  lc_mesh *m = NULL;
  char name[RPC_NAME_MAX];
  int code = rpc_get_name(params, name, err);
  if (!code && !d) code = RPC_FAIL(err, LC_RPC_EPARAMS, "missing parameter 'data'");
  if (!code && d->type == MSGPACK_OBJECT_BIN)
    code = rpc_ecode(lc_mesh_load_obj(d->via.bin.ptr, d->via.bin.size, &m, err));
  else if (!code && d->type == MSGPACK_OBJECT_STR)
    code = rpc_ecode(lc_mesh_load_obj(d->via.str.ptr, d->via.str.size, &m, err));
  else if (!code)
    code = RPC_FAIL(err, LC_RPC_EPARAMS, "parameter 'data' must be bin or str (OBJ text)");
  if (!code) code = store_mesh(r, m, name, pk, err);
  return code;
}

/* mesh.info {mesh, arrays?}: counts and topology summary (V, F when arrays). */
static int m_mesh_info(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                       const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)call;
  int arrays = 0;
  int code = rpc_pcode(lc_codec_get_bool(params, "arrays", 0, &arrays, err));
  if (!code) pack_mesh_summary(pk, o, 1 + arrays);
  return code;
}

/* mesh.delete {mesh}: forgets the mesh (problems on it keep their reference). */
static int m_mesh_delete(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                         const lc_rpc_call *call, lc_error *err) {
  (void)params; (void)call; (void)err;
  rpc_obj_remove(r, o);
  msgpack_pack_true(pk);
  return 0;
}

/* Packs {key: [summary of every live object of kind, in creation order]}
 * under the store lock: meshes {mesh, name, nv, nf} (immutable), problems
 * {problem, name, mesh, device} (fixed at creation), so no object is locked
 * and a list never waits behind a running solve. */
static void pack_list(lc_rpc *r, obj_kind kind, const char *key, msgpack_packer *pk) {
  pthread_mutex_lock(&r->lock);
  size_t cnt = 0;
  for (size_t i = 0; i < r->n; ++i) cnt += r->objs[i]->kind == kind;
  msgpack_pack_map(pk, 1);
  lc_codec_pack_str(pk, key);
  msgpack_pack_array(pk, cnt);
  for (size_t i = 0; i < r->n; ++i) {
    const rpc_obj *o = r->objs[i];
    if (o->kind != kind) continue;
    msgpack_pack_map(pk, 4);
    rpc_kv_int(pk, kind == OBJ_MESH ? "mesh" : "problem", (int64_t)o->id);
    rpc_kv_str(pk, "name", o->name);
    if (kind == OBJ_MESH) {
      rpc_kv_int(pk, "nv", lc_mesh_nv(o->mesh));
      rpc_kv_int(pk, "nf", lc_mesh_nf(o->mesh));
    } else {
      rpc_kv_int(pk, "mesh", (int64_t)o->mesh_id);
      rpc_kv_str(pk, "device", lc_problem_device(o->prob));
    }
  }
  pthread_mutex_unlock(&r->lock);
}

/* mesh.list {} -> {meshes: [{mesh, name, nv, nf}]}. */
static int m_mesh_list(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                       const lc_rpc_call *call, lc_error *err) {
  (void)o; (void)params; (void)call; (void)err;
  pack_list(r, OBJ_MESH, "meshes", pk);
  return 0;
}

/* problem.list {} -> {problems: [{problem, name, mesh, device}]}. */
static int m_problem_list(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                          const lc_rpc_call *call, lc_error *err) {
  (void)o; (void)params; (void)call; (void)err;
  pack_list(r, OBJ_PROBLEM, "problems", pk);
  return 0;
}

/* problem.cancel {problem} -> {cancelled: 0}: the daemon sets the running
 * requests' cancel flags itself and answers how many (it must not queue this
 * behind the solve); without a daemon nothing is in flight. */
static int m_problem_cancel(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                            msgpack_packer *pk, const lc_rpc_call *call, lc_error *err) {
  (void)r; (void)o; (void)call;
  const msgpack_object *ref = lc_codec_get(params, "problem");
  if (!ref) return RPC_FAIL(err, LC_RPC_EPARAMS, "missing parameter 'problem'");
  msgpack_pack_map(pk, 1);
  rpc_kv_int(pk, "cancelled", 0);
  return 0;
}

/* ---- dispatch ---------------------------------------------------------- */

static const rpc_method lc_rpc_methods[] = {
    {"server.info", m_server_info, 0},
    {"server.stats", m_server_stats, 0},
    {"server.health", m_server_health, 0},
    {"mesh.create", m_mesh_create, 0},
    {"mesh.load_obj", m_mesh_load_obj, 0},
    {"mesh.info", m_mesh_info, OBJ_MESH},
    {"mesh.delete", m_mesh_delete, OBJ_MESH},
    {"mesh.list", m_mesh_list, 0},
    {"problem.create", rpc_m_problem_create, OBJ_MESH},
    {"problem.add_variable", rpc_m_problem_add_variable, OBJ_PROBLEM},
    {"problem.add_term", rpc_m_problem_add_term, OBJ_PROBLEM},
    {"problem.remove_term", rpc_m_problem_remove_term, OBJ_PROBLEM},
    {"problem.set_term", rpc_m_problem_set_term, OBJ_PROBLEM},
    {"problem.get_term", rpc_m_problem_get_term, OBJ_PROBLEM},
    {"problem.set_variable", rpc_m_problem_set_variable, OBJ_PROBLEM},
    {"problem.get_variable", rpc_m_problem_get_variable, OBJ_PROBLEM},
    {"problem.fix", rpc_m_problem_fix, OBJ_PROBLEM},
    {"problem.unfix", rpc_m_problem_unfix, OBJ_PROBLEM},
    {"problem.info", rpc_m_problem_info, OBJ_PROBLEM},
    {"problem.eval", rpc_m_problem_eval, OBJ_PROBLEM},
    {"problem.solve", rpc_m_problem_solve, OBJ_PROBLEM},
    {"problem.step", rpc_m_problem_step, OBJ_PROBLEM},
    {"problem.set_contact", rpc_m_problem_set_contact, OBJ_PROBLEM},
    {"problem.cancel", m_problem_cancel, 0},
    {"problem.delete", rpc_m_problem_delete, OBJ_PROBLEM},
    {"problem.list", m_problem_list, 0},
    {"contacts.update", rpc_m_contacts_update, OBJ_PROBLEM},
};

/* The method table and its length. */
static const rpc_method *method_table(size_t *n) {
  *n = sizeof lc_rpc_methods / sizeof lc_rpc_methods[0];
  return lc_rpc_methods;
}

/* Packs an error response [1, msgid, [code, message], nil]. */
void lc_rpc_pack_error(msgpack_packer *pk, uint32_t msgid, int code, const char *msg) {
  msgpack_pack_array(pk, 4);
  msgpack_pack_int(pk, 1);
  msgpack_pack_uint32(pk, msgid);
  msgpack_pack_array(pk, 2);
  msgpack_pack_int(pk, code);
  lc_codec_pack_str(pk, msg ? msg : "");
  msgpack_pack_nil(pk);
}

/* The params map of a request: a map, or the single map inside an array
 * (MessagePack-RPC clients that pass arguments positionally); nil and [] are
 * an empty map (returned as NULL). */
static int request_params(const msgpack_object *p, const msgpack_object **out, lc_error *err) {
  *out = NULL;
  if (p->type == MSGPACK_OBJECT_NIL) return 0;
  if (p->type == MSGPACK_OBJECT_ARRAY && p->via.array.size == 0) return 0;
  if (p->type == MSGPACK_OBJECT_ARRAY && p->via.array.size == 1)
    p = &p->via.array.ptr[0];
  if (p->type != MSGPACK_OBJECT_MAP)
    return RPC_FAIL(err, LC_RPC_EPARAMS, "params must be a map (or [map])");
  *out = p;
  return 0;
}

/* Checks the request envelope; fills msgid, the method entry and params. */
static int parse_request(const msgpack_object *req, uint32_t *msgid, const rpc_method **m,
                         const msgpack_object **params, lc_error *err) {
  size_t nm;
  const rpc_method *t = method_table(&nm);
  *msgid = 0;
  *m = NULL;
  if (req->type != MSGPACK_OBJECT_ARRAY || req->via.array.size != 4)
    return RPC_FAIL(err, LC_RPC_EPARSE, "a request is [0, msgid, method, params]");
  const msgpack_object *a = req->via.array.ptr;
  if (a[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER && a[1].via.u64 <= UINT32_MAX)
    *msgid = (uint32_t)a[1].via.u64;
  else
    return RPC_FAIL(err, LC_RPC_EPARSE, "msgid must be an unsigned 32-bit integer");
  if (a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[0].via.u64 != 0)
    return RPC_FAIL(err, LC_RPC_EPARSE, "not a request (type must be 0)");
  const char *name;
  size_t len;
  if (!lc_codec_strbin(&a[2], &name, &len)) return RPC_FAIL(err, LC_RPC_EPARSE, "method must be a str or bin");
  for (size_t i = 0; i < nm && !*m; ++i)
    if (strlen(t[i].name) == len && !memcmp(t[i].name, name, len)) *m = &t[i];
  if (!*m) {
    char shown[96];
    lc_codec_printable(shown, sizeof shown, name, len);
    return RPC_FAIL(err, LC_RPC_EMETHOD, "unknown method '%s'", shown);
  }
  return request_params(&a[3], params, err);
}

/* ---- the state directory (persist.c) -------------------------------------- */

/* Methods whose successful requests the journal keeps (they build or remove
 * structure); the state of x and the fixed DOFs goes to the state table. */
static const char *const journaled[] = {"mesh.create", "mesh.load_obj", "mesh.delete", "problem.create",
                                        "problem.add_variable", "problem.add_term", "problem.remove_term",
                                        "problem.set_term", "problem.set_contact", "problem.delete"};

/* Problem methods that change neither structure nor state. */
static const char *const read_only[] = {"problem.info", "problem.eval", "problem.get_variable", "problem.get_term",
                                        "contacts.update"};

/* 1 when name is in list[n]. */
static int in_list(const char *name, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!strcmp(name, list[i])) return 1;
  return 0;
}

/* The id key of a creation's result (packed in sb), or 0. */
static uint64_t created_id(const msgpack_sbuffer *sb, const char *key) {
  msgpack_unpacked u;
  lc_error e;
  uint64_t id = 0;
  if (!sb->data || lc_codec_decode(sb->data, sb->size, &u, &e) != LC_OK) return 0;
  const msgpack_object *v = lc_codec_get(&u.data, key);
  if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) id = v->via.u64;
  msgpack_unpacked_destroy(&u);
  return id;
}

/* The problem.step state kept with a problem: its settings, then the velocities. */
typedef struct stepper_head {
  double h, damping;
  int32_t var, inertia_term;
  int64_t n_velocity;
} stepper_head;

/* Writes problem o's state row (with its stepper, if it has one). */
static int persist_problem_state(lc_rpc *r, const rpc_obj *o, lc_error *err) {
  char *stepper = NULL;
  size_t sbytes = 0;
  if (o->dyn) {
    int32_t n = 0;
    int dim = 0;
    lc_var_loc loc;
    lc_problem_var_info(o->prob, o->dyn_var, &loc, &dim, &n, NULL);
    const stepper_head hd = {lc_dynamics_h(o->dyn), lc_dynamics_damping(o->dyn), o->dyn_var, o->dyn_term,
                             (int64_t)n * dim};
    sbytes = sizeof hd + (size_t)hd.n_velocity * sizeof(double);
    if (!(stepper = malloc(sbytes))) return lc_error_set(err, LC_ENOMEM, "out of memory");
    memcpy(stepper, &hd, sizeof hd);
    memcpy(stepper + sizeof hd, lc_dynamics_velocity(o->dyn), (size_t)hd.n_velocity * sizeof(double));
  }
  const int rc = lc_persist_state(r->persist, o->id, lc_problem_x(o->prob), lc_problem_fixed(o->prob),
                                  lc_problem_n_dofs(o->prob), stepper, sbytes, err);
  free(stepper);
  return rc;
}

/* Re-creates problem o's stepper from its saved bytes. */
static int restore_stepper(rpc_obj *o, const void *bytes, size_t sbytes) {
  stepper_head hd;
  lc_error e;
  lc_dynamics *d = NULL;
  if (sbytes < sizeof hd) return LC_EIO;
  memcpy(&hd, bytes, sizeof hd);
  if (sbytes != sizeof hd + (size_t)hd.n_velocity * sizeof(double)) return LC_EIO;
  double *v = malloc((size_t)(hd.n_velocity > 0 ? hd.n_velocity : 1) * sizeof *v);
  if (!v) return LC_ENOMEM;
  memcpy(v, (const char *)bytes + sizeof hd, (size_t)hd.n_velocity * sizeof *v);
  int rc = lc_dynamics_create(o->prob, hd.var, hd.inertia_term, hd.h, &d, &e);
  if (!rc) rc = lc_dynamics_set_velocity(d, v, &e);
  if (!rc) rc = lc_dynamics_set_damping(d, hd.damping, &e);
  free(v);
  if (rc) {
    lc_dynamics_destroy(d);
    return LC_EIO;
  }
  lc_dynamics_destroy(o->dyn);
  o->dyn = d;
  o->dyn_var = hd.var;
  o->dyn_term = hd.inertia_term;
  return LC_OK;
}

/* The state row of the problem created with id (problem.create). */
static int persist_new_problem(lc_rpc *r, uint64_t id, lc_error *err) {
  int code = 0;
  pthread_mutex_lock(&r->lock);
  for (size_t i = 0; i < r->n && !code; ++i)
    if (r->objs[i]->id == id && r->objs[i]->kind == OBJ_PROBLEM) code = persist_problem_state(r, r->objs[i], err);
  pthread_mutex_unlock(&r->lock);
  return code;
}

/* The term id of a set_term / remove_term request's params, or -1. */
static int64_t param_term(const msgpack_object *params) {
  const msgpack_object *t = lc_codec_get(params, "term");
  return t && t->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)t->via.u64 : -1;
}

/* Journals a successful structural request: params as msgpack, the id it
 * created, the object it builds on; set_term entries supersede earlier ones
 * of the same term and fields, remove_term supersedes the term's set_term
 * entries, problem.delete purges the problem's entries. */
static int journal_change(lc_rpc *r, const char *method, const rpc_obj *o, const msgpack_object *params,
                          const msgpack_sbuffer *result, uint64_t *created, lc_error *err) {
  msgpack_sbuffer pb;
  msgpack_packer pp;
  char key[96] = "", k_w[96], k_c[96], k_wc[96];
  msgpack_sbuffer_init(&pb);
  msgpack_packer_init(&pp, &pb, msgpack_sbuffer_write);
  msgpack_pack_object(&pp, *params);
  const int mesh = !strncmp(method, "mesh.", 5);
  *created = strstr(method, "create") || !strcmp(method, "mesh.load_obj") ? created_id(result, mesh ? "mesh" : "problem")
                                                                         : 0;
  lc_persist_entry e = {.method = method, .params = pb.data, .len = pb.size, .created = *created,
                        .target = *created ? *created : o ? o->id : 0,
                        .purge_target = !strcmp(method, "problem.delete")};
  const int64_t term = param_term(params);
  if (term >= 0 && o) {
    snprintf(k_w, sizeof k_w, "set_term:%llu:%lld:w", (unsigned long long)o->id, (long long)term);
    snprintf(k_c, sizeof k_c, "set_term:%llu:%lld:c", (unsigned long long)o->id, (long long)term);
    snprintf(k_wc, sizeof k_wc, "set_term:%llu:%lld:wc", (unsigned long long)o->id, (long long)term);
  }
  if (term >= 0 && o && !strcmp(method, "problem.set_term")) {
    const int w = lc_codec_get(params, "weight") != NULL, c = lc_codec_get(params, "consts") != NULL;
    snprintf(key, sizeof key, "%s", w && c ? k_wc : w ? k_w : k_c);
    e.key = key;
    e.supersedes[0] = key;
    if (w && c) e.supersedes[1] = k_w, e.supersedes[2] = k_c;
  } else if (term >= 0 && o && !strcmp(method, "problem.remove_term")) {
    e.supersedes[0] = k_w, e.supersedes[1] = k_c, e.supersedes[2] = k_wc;
  }
  const int rc = pb.data ? lc_persist_journal(r->persist, &e, err) : lc_error_set(err, LC_ENOMEM, "out of memory");
  msgpack_sbuffer_destroy(&pb);
  return rc;
}

/* Writes what a successful request of method changed: its journal entry
 * and/or the problem's state row. */
static int persist_change(lc_rpc *r, const char *method, const rpc_obj *o, const msgpack_object *params,
                          const msgpack_sbuffer *result, lc_error *err) {
  int rc = LC_OK;
  uint64_t created = 0;
  if (in_list(method, journaled, sizeof journaled / sizeof *journaled)) {
    rc = journal_change(r, method, o, params, result, &created, err);
    if (!rc && !strcmp(method, "problem.create")) rc = persist_new_problem(r, created, err);
    if (!rc && !strcmp(method, "problem.delete") && o) rc = lc_persist_forget(r->persist, o->id, err);
  }
  if (!rc && o && o->kind == OBJ_PROBLEM && strcmp(method, "problem.delete") &&
      !in_list(method, read_only, sizeof read_only / sizeof *read_only))
    rc = persist_problem_state(r, o, err);
  return rc ? RPC_FAIL(err, LC_RPC_EINTERNAL, "the change was made but not saved: %s", err->msg) : 0;
}

/* Replays one journal entry through the dispatcher with its recorded id. */
static int replay_entry(void *user, const char *method, const char *params, size_t len, uint64_t created) {
  lc_rpc *r = user;
  msgpack_unpacked u;
  lc_error e;
  if (lc_codec_decode(params, len, &u, &e) != LC_OK) return LC_EIO;
  msgpack_object items[4];
  items[0] = (msgpack_object){.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 0};
  items[1] = (msgpack_object){.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 1};
  items[2] = (msgpack_object){.type = MSGPACK_OBJECT_STR};
  items[2].via.str.ptr = method;
  items[2].via.str.size = (uint32_t)strlen(method);
  items[3] = u.data;
  msgpack_object req = {.type = MSGPACK_OBJECT_ARRAY};
  req.via.array.size = 4;
  req.via.array.ptr = items;
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  r->force_id = created;
  lc_rpc_handle(r, &req, &pk, NULL);
  r->force_id = 0;
  msgpack_unpacked_destroy(&u);
  int ok = 0;
  msgpack_unpacked resp;
  if (sb.data && lc_codec_decode(sb.data, sb.size, &resp, &e) == LC_OK) {
    ok = resp.data.type == MSGPACK_OBJECT_ARRAY && resp.data.via.array.size == 4 &&
         resp.data.via.array.ptr[2].type == MSGPACK_OBJECT_NIL;
    msgpack_unpacked_destroy(&resp);
  }
  msgpack_sbuffer_destroy(&sb);
  return ok ? 0 : LC_EIO;
}

/* Restores one problem's state row. */
static int restore_state(void *user, uint64_t id, const double *x, const uint8_t *fixed, int64_t n,
                         const void *stepper, size_t sbytes) {
  lc_rpc *r = user;
  lc_error e;
  for (size_t i = 0; i < r->n; ++i) {
    rpc_obj *o = r->objs[i];
    if (o->id != id || o->kind != OBJ_PROBLEM) continue;
    if (lc_problem_n_dofs(o->prob) != n) return LC_EIO;
    if (lc_problem_set_x(o->prob, x, &e) || lc_problem_set_fixed_flags(o->prob, fixed, &e)) return LC_EIO;
    return stepper ? restore_stepper(o, stepper, sbytes) : 0;
  }
  return 0; /* a problem deleted after its last state row: nothing to restore */
}

/* Opens the state directory's database and replays it into r. */
static int restore(lc_rpc *r, const char *dir, lc_error *err) {
  int rc = lc_persist_open(dir, &r->persist, err);
  if (rc) return rc;
  r->replaying = 1;
  rc = lc_persist_each_journal(r->persist, replay_entry, r, err);
  if (rc && !err->msg[0]) lc_error_set(err, LC_EIO, "state %s: a journal entry failed to replay", dir);
  if (!rc) rc = lc_persist_each_state(r->persist, restore_state, r, err);
  const uint64_t next = lc_persist_next_id(r->persist); /* ids of deleted objects are never given again */
  if (next > r->next_id) r->next_id = next;
  if (rc && !err->msg[0]) lc_error_set(err, LC_EIO, "state %s: a problem's state does not fit it", dir);
  r->replaying = 0;
  return rc ? LC_EIO : LC_OK;
}

/* Runs method m into the scratch packer (its buffer sb); returns the
 * protocol code.  With a state directory, a successful change is written
 * (and committed) before the object is released and the answer sent. */
static int run_method(lc_rpc *r, const rpc_method *m, const msgpack_object *params,
                      msgpack_packer *pk, const msgpack_sbuffer *sb, const lc_rpc_call *call, lc_error *err) {
  static const msgpack_object empty = {.type = MSGPACK_OBJECT_MAP};
  rpc_obj *o = NULL;
  const msgpack_object *pm = params ? params : &empty;
  int code = m->needs ? obj_acquire(r, pm, m->needs, &o, err) : 0;
  if (!code) code = m->fn(r, o, pm, pk, call, err);
  if (!code && r->persist && !r->replaying) code = persist_change(r, m->name, o, pm, sb, err);
  obj_release(r, o);
  return code;
}

/* Handles one decoded request and packs the full response frame into pk. */
void lc_rpc_handle(lc_rpc *r, const msgpack_object *req, msgpack_packer *pk,
                   const lc_rpc_call *call) {
  lc_error err = {0};
  uint32_t msgid = 0;
  const rpc_method *m = NULL;
  const msgpack_object *params = NULL;
  msgpack_sbuffer sb;
  msgpack_packer rpk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&rpk, &sb, msgpack_sbuffer_write);
  int code = parse_request(req, &msgid, &m, &params, &err);
  if (!code) code = run_method(r, m, params, &rpk, &sb, call, &err);
  if (!code && !sb.data) code = RPC_FAIL(&err, LC_RPC_ENOMEM, "out of memory packing the result");
  pthread_mutex_lock(&r->lock);
  r->requests++;
  r->errors += code != 0;
  pthread_mutex_unlock(&r->lock);
  if (code) {
    lc_rpc_pack_error(pk, msgid, code, err.msg);
  } else {
    msgpack_pack_array(pk, 4);
    msgpack_pack_int(pk, 1);
    msgpack_pack_uint32(pk, msgid);
    msgpack_pack_nil(pk);
    lc_codec_pack_raw(pk, sb.data, sb.size);
  }
  msgpack_sbuffer_destroy(&sb);
}

/* The problem id a request targets (params.problem), or -1. */
int64_t lc_rpc_request_problem(lc_rpc *r, const msgpack_object *req) {
  const msgpack_object *params = NULL;
  if (req->type != MSGPACK_OBJECT_ARRAY || req->via.array.size != 4) return -1;
  lc_error err;
  if (request_params(&req->via.array.ptr[3], &params, &err) != 0 || !params) return -1;
  const msgpack_object *p = lc_codec_get(params, "problem");
  if (p && p->type == MSGPACK_OBJECT_POSITIVE_INTEGER) return p->via.u64 > INT64_MAX ? -1 : (int64_t)p->via.u64;
  if (!p || p->type != MSGPACK_OBJECT_STR || !r) return -1;
  int64_t id = -1; /* a name: resolve it, so that ordering and cancel work by name too */
  pthread_mutex_lock(&r->lock);
  const long i = find_locked(r, p, OBJ_PROBLEM);
  if (i >= 0) id = (int64_t)r->objs[i]->id;
  pthread_mutex_unlock(&r->lock);
  return id;
}
