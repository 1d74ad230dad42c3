/* rpc.h - the locad MessagePack-RPC methods (protocol/SPEC.md): an object
 * store of meshes, problems and solvers addressed by ids (and optional
 * names), and the dispatcher that turns one decoded request into one
 * response.  Transport-agnostic; tests call it directly.
 *
 * Threading: lc_rpc_handle may be called from several engine worker threads
 * at once.  The store's maps (create, look-up, delete) are protected by a
 * mutex; the daemon guarantees that requests for one problem (params.problem,
 * see lc_rpc_request_problem) run one at a time and in arrival order, so a
 * problem and its solver are never used by two threads together.  Meshes are
 * immutable and reference-counted.  The store also takes a per-object lock
 * and reference for the duration of each request, so a delete racing a
 * request is still safe.
 *
 * problem.cancel: the daemon must handle it itself - set the cancel flag of
 * the running request for params.problem - and not queue it behind that
 * request (the store's own handler only answers true).
 *
 * Messages (MessagePack-RPC): request [0, msgid, method, params], response
 * [1, msgid, error, result], notification [2, method, params].  Errors are
 * [code, message] with the stable codes below. */
#ifndef LC_RPC_H
#define LC_RPC_H

#include <msgpack.h>
#include <stdint.h>

#include "device.h"
#include "lc_error.h"

/* Stable protocol error codes (never renumber). */
enum {
  LC_RPC_EPARSE = 1,       /* malformed message */
  LC_RPC_EMETHOD = 2,      /* unknown method */
  LC_RPC_EPARAMS = 3,      /* missing / wrongly typed parameter */
  LC_RPC_ENOTFOUND = 4,    /* unknown object id or name */
  LC_RPC_EINVAL = 5,       /* invalid value (ranges, shapes, NaN, mesh errors) */
  LC_RPC_ENOMEM = 6,       /* out of memory / over a configured cap */
  LC_RPC_EBUSY = 7,        /* queue full, try later */
  LC_RPC_ECANCELED = 8,    /* cancelled */
  LC_RPC_EAUTH = 9,        /* authentication required or failed */
  LC_RPC_ENUMERIC = 10,    /* numerical failure */
  LC_RPC_EINTERNAL = 11,   /* a bug: please report */
  LC_RPC_ESHUTDOWN = 12    /* the daemon is shutting down */
};

typedef struct lc_rpc lc_rpc;

/* Sends a notification frame (already encoded) on the requesting connection;
 * used for solve progress.  May be NULL. */
typedef void (*lc_rpc_notify_fn)(void *user, const char *data, size_t len);

/* Per-request context given by the transport. */
typedef struct lc_rpc_call {
  lc_rpc_notify_fn notify;  /* progress notifications, or NULL */
  void *user;
  volatile int *cancel;     /* set by problem.cancel / a vanished client */
} lc_rpc_call;

/* Limits, identity and devices the store reports in server.info. */
typedef struct lc_rpc_config {
  const char *version;
  const char *backend;      /* NULL: the default device's kind, "cpu" or "cuda" */
  const char *device;       /* default device of problem.create: "cpu", "cuda:N", "auto" or
                             * NULL (auto); resolved once by lc_rpc_create */
  uint64_t max_frame;
  uint64_t max_objects;     /* meshes + problems */
  const lc_device_info *devices; /* server.info's device list (copied), or NULL: lc_rpc_create
                                  * lists them (lc_device_list) */
  int n_devices;
  const char *state_dir;    /* keep the store in state_dir/locad.db (SQLite) and restore it
                             * at creation; NULL: in memory only */
} lc_rpc_config;

/* Creates an object store, empty or (cfg->state_dir) as the state directory
 * holds it, with the same ids and names; fails (LC_EINVAL, LC_ENOTSUP,
 * naming the device) when cfg->device cannot be used, and (LC_EIO, with the
 * reason) when the state cannot be read or replayed. */
int lc_rpc_create(const lc_rpc_config *cfg, lc_rpc **out, lc_error *err);

/* Destroys the store and every object in it. NULL is a no-op. */
void lc_rpc_destroy(lc_rpc *r);

/* Handles one decoded request [0, msgid, method, params] and packs the full
 * response frame [1, msgid, error, result] into pk.  Never fails: every
 * problem becomes an error response. */
void lc_rpc_handle(lc_rpc *r, const msgpack_object *req, msgpack_packer *pk, const lc_rpc_call *call);

/* Packs an error response [1, msgid, [code, message], nil]. */
void lc_rpc_pack_error(msgpack_packer *pk, uint32_t msgid, int code, const char *msg);

/* The problem id a request targets (params.problem as an id, or a name
 * resolved in r), or -1: the daemon uses it to keep requests for one problem
 * in order and to route problem.cancel.  r may be NULL (ids only). */
int64_t lc_rpc_request_problem(lc_rpc *r, const msgpack_object *req);

/* Counters for server.stats: live objects and bytes held. */
void lc_rpc_stats(const lc_rpc *r, uint64_t *objects, uint64_t *bytes);

#define LC_RPC_MAX_DEVICES 16
/* What the store holds and has done, for metrics. */
typedef struct lc_rpc_figures {
  uint64_t meshes, problems, bytes;   /* live objects and their memory */
  int n_devices;                      /* "host" (meshes) and every problem device */
  char device[LC_RPC_MAX_DEVICES][16];
  uint64_t device_bytes[LC_RPC_MAX_DEVICES];
  uint64_t requests, errors;          /* handled by the store */
  uint64_t solve_iters, host_syncs;   /* summed over problem.solve / problem.step */
} lc_rpc_figures;

/* Fills f (under the store lock; never waits behind a running request). */
void lc_rpc_metrics(const lc_rpc *r, lc_rpc_figures *f);

#endif
