/* server_impl.h - the daemon's internal state shared by server.c (loop,
 * listeners, shutdown, loop-thread methods), conn.c (connections, framing,
 * writes) and worker.c (engine queue, worker threads, completions).
 *
 * Threads: everything here belongs to the loop thread except the fields
 * marked [mu] (queue and running slots, guarded by lc_server.mu) and [done]
 * (completed jobs and notifications, guarded by lc_server.done_mu).  A
 * connection is reference-counted: one reference while its channel (libuv
 * handle or WebSocket) is open, one per job that names it, one per pending
 * libuv write; it is freed at zero. */
#ifndef LC_SERVER_IMPL_H
#define LC_SERVER_IMPL_H

#include <msgpack.h>
#include <stdint.h>
#include <uv.h>

#include "rpc.h"
#include "scan.h"
#include "server.h"

typedef struct lc_server lc_server;
typedef struct lc_conn lc_conn;

/* How a connection's bytes travel (loop thread): a libuv stream, TCP or
 * Unix socket (stream.c), or a WebSocket (ws.c).  conn.c frames, checks and
 * dispatches what either delivers; a transport only moves bytes.  A stream
 * delivers a byte stream cut into frames by the pre-scanner; a WebSocket
 * delivers messages (msg_mode), each of which must be exactly one frame. */
typedef struct lc_transport {
  const char *name; /* "tcp", "unix" or "websocket", for logs */
  /* Queues len bytes of one message (ownership taken); 0, or -1 when it
   * cannot (data freed, the connection left to close). */
  int (*write)(lc_conn *c, char *data, size_t len);
  /* Starts (on) or stops delivering received bytes; 0, or -1 when it cannot. */
  int (*read)(lc_conn *c, int on);
  /* Closes the channel, after the queued writes when flush; calls
   * lc_conn_closed once it is gone.  Called again, it closes at once. */
  void (*close)(lc_conn *c, int flush);
} lc_transport;

struct lc_conn {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h;                /* the stream transport's handle */
  uv_shutdown_t shut;
  const lc_transport *tp;
  struct lc_ws_conn *ws; /* the WebSocket transport's state (ws.c), or NULL */
  int msg_mode;       /* input arrives as whole messages (WebSocket) */
  int msg_done;       /* msg_mode: buf holds one complete message */
  lc_server *srv;
  int64_t id;
  int refs;
  int closing;        /* no more reads or writes (handle closing or shutting down) */
  int reading;        /* the transport delivers received bytes */
  int authed;
  char peer[72];      /* "tcp ADDRESS" (no port) or "unix": the key of auth rate limits */
  uint64_t t_accept, t_active; /* loop time (ms) of the accept and of the last read or write */
  uint64_t t_partial; /* loop time since a frame is half-received (0: none) */
  unsigned inflight;  /* requests queued or running */
  size_t mem;         /* estimated bytes of its requests in flight */
  size_t pending_write;
  char *buf;          /* unprocessed input bytes */
  int decoding;       /* a large frame is being decoded off the loop: later frames wait */
  lc_scan_ctx scan;   /* the pre-scan of the frame at buf[0], resumed as bytes come */
  size_t len, cap;
  lc_conn *prev, *next;
};

typedef struct lc_job {
  struct lc_job *next;       /* queue / done list */
  lc_conn *conn;             /* referenced */
  uint32_t msgid;
  int64_t problem;           /* params.problem or -1 */
  int notify_count;
  char method[1040]; /* printable (lc_codec_printable): 256 bytes, 4 per escaped byte */
  char *frame;               /* the request bytes that req references */
  size_t frame_len;
  size_t mem;                /* estimated bytes of frame + decoded form (lc_server.mem_inflight) */
  msgpack_unpacked req;
  volatile int cancel;
  msgpack_sbuffer resp;      /* the response frame, filled by the worker */
  uint64_t t0;               /* uv_hrtime at arrival */
  uv_work_t work;            /* decoding off the event loop (large frames) */
  int decoded;               /* req holds the decoded frame */
} lc_job;

typedef struct lc_notif {
  struct lc_notif *next;
  lc_job *job;               /* still alive: its completion comes later */
  size_t len;
  char *data;
} lc_notif;

typedef struct lc_stats {
  uint64_t conns_total, requests, responses, protocol_errors, busy, auth_failures;
  uint64_t cancelled, slow_dropped, bytes_in, bytes_out, notifications;
  uint64_t notifications_in; /* notifications received (never answered) */
  uint64_t timeouts;         /* connections closed by a timeout */
  uint64_t memory_rejections; /* requests refused by the memory budget */
} lc_stats;

/* Requests of one method, for /metrics (metrics.c). */
#define LC_METHOD_STATS 48    /* methods tracked; later names count as "other" */
#define LC_LATENCY_BUCKETS 11 /* upper bounds in metrics.c, the last one +Inf */
typedef struct lc_method_stat {
  char name[40];
  uint64_t count, errors;
  uint64_t bucket[LC_LATENCY_BUCKETS]; /* cumulative at export, plain counts here */
  double sum_s;
} lc_method_stat;

/* Failed authentications of one peer (server.c: rate limit). */
#define LC_AUTH_PEERS 64      /* peers remembered (the oldest entry is reused) */
#define LC_AUTH_MAX_FAILS 5   /* failures within LC_AUTH_WINDOW s before a lock-out ... */
#define LC_AUTH_WINDOW 60.0
#define LC_AUTH_LOCKOUT 30.0  /* ... of this many seconds */
typedef struct lc_auth_peer {
  char peer[72];
  unsigned fails;
  double first, locked_until, last; /* loop time, seconds */
} lc_auth_peer;

struct lc_server {
  lc_server_config cfg;
  uv_loop_t loop;
  lc_rpc *rpc;
  lc_scan_limits lim, lim_unauth;
  /* listeners */
  uv_handle_t *listeners[LC_SERVER_MAX_LISTEN + 1];
  int n_listeners;
  int unix_bound;    /* the Unix socket file is ours to remove */
  uv_signal_t sigterm, sigint;
  uv_timer_t timer;
  uv_timer_t sweep;  /* timeouts (idle, read, auth) */
  uv_async_t async;
  /* connections */
  lc_conn *conns;
  unsigned n_conns;
  int64_t next_conn_id;
  /* shutdown */
  int stopping;      /* SIGTERM seen: no new work */
  int finishing;     /* connections closing, handles closing */
  int forced;        /* the deadline passed with work still running */
  /* engine queue [mu] */
  uv_mutex_t mu;
  uv_cond_t cv;
  lc_job *q_head, *q_tail;
  size_t q_len;
  lc_job **running;  /* one slot per worker */
  int stop_workers;
  struct lc_worker *workers;
  int n_workers;       /* threads started */
  unsigned inflight; /* loop thread: jobs not yet completed on the loop */
  /* completions [done] */
  uv_mutex_t done_mu;
  lc_job *done_head, *done_tail;
  lc_notif *nt_head, *nt_tail;
  size_t nt_count;
  int async_closed;
  lc_auth_peer auth_peers[LC_AUTH_PEERS]; /* loop thread */
  size_t mem_inflight; /* loop thread: estimated bytes of every request in flight */
  lc_method_stat mstats[LC_METHOD_STATS]; /* loop thread */
  int n_mstats;
  struct lws_context *http; /* --http listener (http.c), or NULL */
  struct lws_context *http_alive; /* set while lws has not finished destroying its context */
  int http_ready;           /* the loop serves: /readyz answers 200 until shutdown */
  struct lc_ws_listener *wsl; /* --ws listener (ws.c), or NULL */
  unsigned n_ws_conns;      /* open WebSocket connections (their wsi alive) */
  lc_stats st;
};

#define LC_SWEEP_MS 250 /* period of the timeout sweep */

/* Whether a response frame carries a nil error (a success; worker.c). */
int lc_response_ok(const char *d, size_t n);

/* ---- metrics.c ---- */
/* Counts one answered request of method (loop thread): ok or an error,
 * seconds from arrival to answer. */
void lc_metrics_record(lc_server *s, const char *method, int ok, double seconds);
/* The Prometheus text exposition of the daemon's metrics, malloc'ed into
 * *out (*len bytes); returns 0, or -1 when out of memory. */
int lc_metrics_text(lc_server *s, char **out, size_t *len);

/* ---- http.c ---- */
/* Starts the HTTP listener on s->cfg.http ("HOST:PORT") in s's loop:
 * /healthz, /readyz, /metrics; returns 0 or -1 (logged). */
int lc_http_start(lc_server *s);
/* Closes the listener (its handles close with the loop's next turns). */
void lc_http_stop(lc_server *s);
/* Completes the listener's destruction after the loop ran out; returns 1
 * when it is gone entirely (or never was), else the loop must run again. */
int lc_http_finish(lc_server *s);
/* Bytes a decoded request takes per MessagePack object beyond its frame:
 * msgpack-c's msgpack_object (24) plus its zone's map-pair and alignment
 * overhead, rounded up. */
#define LC_DECODED_PER_OBJECT 32
/* Frames larger than this are decoded on libuv's thread pool, not the loop. */
#define LC_DECODE_OFF_LOOP ((size_t)1 << 20)

/* ---- ws.c ---- */
/* Starts the WebSocket listener on s->cfg.ws ("HOST:PORT"): MessagePack-RPC
 * at /rpc, s->cfg.web_root's files over HTTP GET when set; returns 0 or -1
 * (logged; nothing left listening). */
int lc_ws_start(lc_server *s);
/* Closes the listener once no WebSocket connection is open (its handles
 * close with the loop's next turns); a no-op before that or when gone. */
void lc_ws_stop(lc_server *s);
/* Completes the listener's destruction after the loop ran out; returns 1
 * when it is gone entirely (or never was), else the loop must run again. */
int lc_ws_finish(lc_server *s);

/* ---- stream.c ---- */
/* Accepts a pending connection on listener (a uv_tcp_t or uv_pipe_t); a
 * failure leaves nothing behind (the pending connection refused or queued). */
void lc_stream_accept(lc_server *s, uv_stream_t *listener);

/* ---- conn.c ---- */
/* A new connection on transport tp, linked into s's list with one reference
 * (its channel); NULL when out of memory (nothing linked). */
lc_conn *lc_conn_new(lc_server *s, const lc_transport *tp);
/* Admits c once its peer is known: logs it and returns 0, or refuses it
 * (shutting down, too many connections), closes it and returns -1. */
int lc_conn_admit(lc_conn *c);
/* Room for at least want more input bytes at *p (*avail bytes); 0, or -1
 * when out of memory (c's buffer unchanged). */
int lc_conn_in_space(lc_conn *c, size_t want, char **p, size_t *avail);
/* Takes n bytes the transport wrote at lc_conn_in_space's pointer; end: the
 * current message is complete (msg_mode).  Frames and dispatches them. */
void lc_conn_received(lc_conn *c, size_t n, int end);
/* Takes one piece of a message (copied; msg_mode); end: its last piece.  A
 * failure to store it closes c. */
void lc_conn_feed(lc_conn *c, const char *data, size_t n, int end);
/* A protocol error: replies (msgid 0 when unknown), counts, closes c. */
void lc_conn_protocol_error(lc_conn *c, uint32_t msgid, int code, const char *msg);
/* The transport finished sending len bytes (ok) or failed (then c closes). */
void lc_conn_sent(lc_conn *c, size_t len, int ok);
/* The transport's channel is gone: unlinks c and drops its reference. */
void lc_conn_closed(lc_conn *c);
/* Closes the connections past a timeout at loop time now (ms). */
void lc_conn_sweep(lc_server *s, uint64_t now);
/* Queues len bytes of data (ownership taken, freed with free) on c; drops
 * them when c is closing; closes c when its unsent bytes exceed the cap. */
void lc_conn_write(lc_conn *c, char *data, size_t len);
/* Packs and writes an error response [1, msgid, [code, msg], nil]. */
void lc_conn_write_error(lc_conn *c, uint32_t msgid, int code, const char *msg);
/* Closes c: cancels its work; flush: send queued writes first. */
void lc_conn_close(lc_conn *c, int flush);
/* Closes c now, even when a flush is pending. */
void lc_conn_abort(lc_conn *c);
/* Drops one reference; frees c at zero. */
void lc_conn_unref(lc_conn *c);
/* Resumes reading when c has room for more requests (after a completion). */
void lc_conn_resume(lc_conn *c);

/* ---- worker.c ---- */
/* Starts cfg.workers threads; returns 0 or a libuv error. */
int lc_pool_start(lc_server *s);
/* Queues j (loop thread); returns 0, or LC_RPC_EBUSY when the queue is full. */
int lc_pool_push(lc_server *s, lc_job *j);
/* Cancels the work of c: queued jobs are dropped, running ones flagged. */
void lc_pool_cancel_conn(lc_server *s, lc_conn *c);
/* Flags the queued and running jobs of problem; returns how many. */
int lc_pool_cancel_problem(lc_server *s, int64_t problem);
/* Shutdown: replies ESHUTDOWN to queued jobs and flags running ones. */
void lc_pool_cancel_all(lc_server *s);
/* Stops the threads and joins them when none is busy; returns 0, or -1
 * when a job still runs (the threads are then left behind). */
int lc_pool_stop(lc_server *s);
/* uv_async_t callback: delivers notifications and completed jobs. */
void lc_pool_on_async(uv_async_t *a);
/* Allocates a job for a frame (frame ownership taken) and, unless defer,
 * decodes it; NULL when out of memory or the frame does not decode. */
lc_job *lc_job_new(lc_conn *c, char *frame, size_t len, int defer);
/* Decodes j's frame (any thread); returns 0, or -1 when it does not decode. */
int lc_job_decode(lc_job *j);
/* Frees j and releases its connection reference. */
void lc_job_free(lc_job *j);
/* Queued jobs (for server.stats). */
size_t lc_pool_depth(lc_server *s);

/* ---- server.c ---- */
/* Handles one decoded request on the loop thread when it is a loop-thread
 * method (auth, server.*, problem.cancel); returns 1 if handled. */
int lc_server_local(lc_server *s, lc_conn *c, const msgpack_object *req, uint32_t msgid,
                    const char *method);
/* Called after each completion: finishes a pending shutdown once drained. */
void lc_server_check_drained(lc_server *s);
/* A connection handle closed (loop thread). */
void lc_server_conn_closed(lc_server *s);

#endif
