/* rpc_impl.h - internals shared by the RPC store and dispatcher (rpc.c), the
 * structural problem methods (rpc_problem.c) and the numerical methods
 * problem.eval / solve / step (rpc_solve.c).  Not a public header. */
#ifndef LC_RPC_IMPL_H
#define LC_RPC_IMPL_H

#include <pthread.h>

#include "codec.h"
#include "rpc.h"
#include "contact/contact.h"
#include "solvers/dynamics.h"
#include "solvers/solver.h"

#define RPC_NAME_MAX 64

typedef enum { OBJ_MESH = 1, OBJ_PROBLEM = 2 } obj_kind;

/* One stored object (mesh or problem) with its per-problem handles. */
typedef struct rpc_obj {
  uint64_t id;
  obj_kind kind;
  char name[RPC_NAME_MAX];
  lc_mesh *mesh;          /* mesh objects: the store's reference */
  uint64_t mesh_id;       /* problems: the mesh they were created on */
  lc_problem *prob;
  lc_solver *solver;      /* created lazily, reset on structural changes */
  lc_dynamics *dyn;       /* problem.step state, or NULL */
  lc_contact *contact;    /* problem.set_contact state, or NULL */
  int dyn_term;           /* the inertia term dyn relies on */
  int dyn_var;            /* the variable dyn steps */
  pthread_mutex_t use;    /* held while a request uses the object */
  int refs;               /* the store's reference + requests in flight */
  int dead;               /* removed from the store */
  uint64_t bytes;
} rpc_obj;

struct lc_rpc {
  char version[32], backend[32], device[32]; /* device: the resolved default, "cpu" / "cuda:N" */
  lc_device_info devices[LC_DEVICE_MAX];      /* listed once at creation (server.info) */
  int n_devices;
  uint64_t max_frame, max_objects;
  pthread_mutex_t lock;
  rpc_obj **objs;
  size_t n, cap;
  uint64_t next_id;
  uint64_t requests, errors;
  uint64_t solve_iters, host_syncs; /* over every problem.solve / problem.step */
  struct lc_persist *persist;       /* the state directory's database, or NULL (persist.c) */
  int replaying;                    /* replaying the journal: nothing is written */
  uint64_t force_id;                /* replay: the id the next created object gets (0: none) */
};

/* ---- persist.c: the store on disk ---- */
typedef struct lc_persist lc_persist;
/* Opens (creating) dir/locad.db: checks its schema version (a newer one or
 * a file that is not a locad state database is an error). */
int lc_persist_open(const char *dir, lc_persist **out, lc_error *err);
/* Closes the database. NULL is a no-op. */
void lc_persist_close(lc_persist *ps);
/* One journal entry. */
typedef struct lc_persist_entry {
  const char *method;
  const char *params;        /* msgpack bytes of the request's params */
  size_t len;
  uint64_t created;          /* the id it created, or 0 */
  uint64_t target;           /* the object it builds on (its problem, or what it created) */
  const char *key;           /* a later entry with this key replaces it (set_term), or NULL */
  const char *supersedes[3]; /* keys of earlier entries it replaces, NULL-terminated */
  int purge_target;          /* problem.delete: drop every entry of target instead of adding one */
} lc_persist_entry;
/* Appends (or purges) as e says, and raises the next id past e->created, in one transaction. */
int lc_persist_journal(lc_persist *ps, const lc_persist_entry *e, lc_error *err);
/* The first id never given out (creations ever made, deleted ones included). */
uint64_t lc_persist_next_id(lc_persist *ps);
/* Replaces problem id's state row (x and fixed flags, n DOFs; the problem.step
 * state as sbytes of stepper, or NULL), committed. */
int lc_persist_state(lc_persist *ps, uint64_t id, const double *x, const uint8_t *fixed, int64_t n,
                     const void *stepper, size_t sbytes, lc_error *err);
/* Drops problem id's state row, committed. */
int lc_persist_forget(lc_persist *ps, uint64_t id, lc_error *err);
/* Calls fn for every journal entry in order (a non-zero return stops and is returned). */
int lc_persist_each_journal(lc_persist *ps, int (*fn)(void *, const char *, const char *, size_t, uint64_t),
                            void *user, lc_error *err);
/* A state row: problem id, x and fixed flags (n DOFs), the stepper bytes or NULL. */
typedef int (*lc_persist_state_fn)(void *user, uint64_t id, const double *x, const uint8_t *fixed, int64_t n,
                                   const void *stepper, size_t sbytes);
/* Calls fn for every state row (a non-zero return stops and is returned). */
int lc_persist_each_state(lc_persist *ps, lc_persist_state_fn fn, void *user, lc_error *err);

/* A method: params map, the acquired object (or NULL), result packer. */
typedef int (*rpc_method_fn)(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                             msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

typedef struct rpc_method {
  const char *name;
  rpc_method_fn fn;
  obj_kind needs; /* 0: none; else the object named by params.mesh / params.problem */
} rpc_method;

/* Sets a protocol error code with a message; returns code. */
#define RPC_FAIL(err, code, ...) (lc_error_set((err), LC_EINVAL, __VA_ARGS__), (code))

/* Maps a codec (params) error to a protocol code. */
int rpc_pcode(int lc);

/* Maps an engine error to a protocol code. */
int rpc_ecode(int lc);

/* Packs a "key": integer pair. */
void rpc_kv_int(msgpack_packer *pk, const char *k, int64_t v);

/* Packs a "key": double pair. */
void rpc_kv_dbl(msgpack_packer *pk, const char *k, double v);

/* Packs a "key": string pair. */
void rpc_kv_str(msgpack_packer *pk, const char *k, const char *v);

/* Inserts a new object (taking ownership of mesh/prob) and sets *out; on
 * failure (object limit, name in use, memory) frees them. */
int rpc_obj_insert(lc_rpc *r, obj_kind kind, const char *name, lc_mesh *mesh, lc_problem *prob,
                   uint64_t mesh_id, rpc_obj **out, lc_error *err);

/* Removes o (acquired) from the store; it is freed on release. */
void rpc_obj_remove(lc_rpc *r, rpc_obj *o);

/* Reads the optional "name" parameter into name[RPC_NAME_MAX]. */
int rpc_get_name(const msgpack_object *params, char *name, lc_error *err);

/* Resolves params[key] (a variable id or name) of problem p. */
int rpc_get_var(const lc_problem *p, const msgpack_object *params, const char *key, int *var,
                lc_error *err);

/* Entities and dimension of variable var. */
void rpc_var_shape(const lc_problem *p, int var, int32_t *n, int *dim);

/* Packs variable var's values as an f8 [n, dim] array. */
int rpc_pack_variable(msgpack_packer *pk, const lc_problem *p, int var, lc_error *err);

/* Applies params[key]: one fix map or an array of them. */
int rpc_apply_fixes(lc_problem *p, const msgpack_object *params, const char *key, int unfix,
                       lc_error *err);

/* Drops the solver handle after a structural change (variables, terms): its
 * cached analysis belongs to the old Hessian pattern. */
void rpc_problem_changed(rpc_obj *o);

/* ---- rpc_problem.c ---- */

/* problem.create {mesh, name?, device?, variables?: [{name, loc?, dim, init?}]}. */
int rpc_m_problem_create(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                         msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* problem.add_variable {problem, name, loc?, dim, init?}. */
int rpc_m_problem_add_variable(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                               msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* problem.add_term {problem, energy, var, weight?, elements?, params?, consts?, project?}. */
int rpc_m_problem_add_term(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                           msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* problem.remove_term {problem, term}. */
int rpc_m_problem_remove_term(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                              msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* problem.set_term {problem, term, weight?, consts?}. */
int rpc_m_problem_set_term(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                           msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* problem.get_term {problem, term}. */
int rpc_m_problem_get_term(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                           msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* problem.set_variable {problem, var, values}. */
int rpc_m_problem_set_variable(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                               msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* problem.get_variable {problem, var}. */
int rpc_m_problem_get_variable(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                               msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* problem.fix {problem, var, entities?, values?}. */
int rpc_m_problem_fix(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                      const lc_rpc_call *call, lc_error *err);

/* problem.unfix {problem, var, entities?}. */
int rpc_m_problem_unfix(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                        const lc_rpc_call *call, lc_error *err);

/* problem.info {problem}: device, sizes, variables, terms. */
int rpc_m_problem_info(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                       const lc_rpc_call *call, lc_error *err);

/* problem.delete {problem}. */
int rpc_m_problem_delete(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                         msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* ---- rpc_solve.c ---- */

/* problem.eval {problem, what, x?, v?, project?}. */
int rpc_m_problem_eval(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                          msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* problem.solve {problem, method?, options?, fix?, unfix?, return?}. */
int rpc_m_problem_solve(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                           msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* problem.step {problem, h, var, inertia_term, steps?, method?, options?, fix?, force?,
 * velocity?, damping?, return?}: implicit-Euler steps (engine/solvers/dynamics.h). */
int rpc_m_problem_step(lc_rpc *r, rpc_obj *o, const msgpack_object *params,
                          msgpack_packer *pk, const lc_rpc_call *call, lc_error *err);

/* problem.set_contact {problem, enabled?, var, dhat, kappa?, dmin?, margin?, max_rounds?}. */
int rpc_m_problem_set_contact(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                              const lc_rpc_call *call, lc_error *err);
int rpc_m_contacts_update(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                          const lc_rpc_call *call, lc_error *err);
/* Packs the contact statistics of c as one map value. */
int rpc_pack_contact(msgpack_packer *pk, lc_contact *c, lc_error *err);
/* 1 (with an error in err) if term belongs to the problem's contact. */
int rpc_contact_owns(const rpc_obj *o, int term, lc_error *err);

#endif
