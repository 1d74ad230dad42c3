/* server.h - the locad daemon: a libuv event loop serving MessagePack-RPC
 * (protocol/rpc.h) on TCP and Unix sockets and WebSockets, with engine work on a pool of
 * worker threads.  main.c fills an lc_server_config from flags and the
 * environment and calls lc_server_run. */
#ifndef LC_SERVER_H
#define LC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#define LC_SERVER_MAX_LISTEN 16
#define LC_MIN_TOKEN 16 /* bytes of the shortest auth token accepted */

typedef struct lc_server_config {
  const char *listen[LC_SERVER_MAX_LISTEN]; /* "HOST:PORT" or "[V6]:PORT" */
  int n_listen;
  const char *unix_path;        /* Unix socket path or NULL */
  const char *http;             /* "HOST:PORT" of /healthz, /readyz, /metrics, or NULL */
  const char *ws;               /* "HOST:PORT" of the WebSocket endpoint /rpc, or NULL */
  const char *web_root;         /* directory served over HTTP GET on the ws port, or NULL */
  const char *ws_origins;       /* comma-separated browser origins allowed on ws besides the
                                   daemon's own ("*": any), or NULL */
  const char *state_dir;        /* keep and restore the store there (locad.db), or NULL */
  const char *token;            /* required auth token (at least LC_MIN_TOKEN bytes) or NULL */
  int workers;                  /* engine worker threads (default 2) */
  int threads;                  /* CPU threads the workers share (0: the cores available) */
  int thread_share_off;         /* 1: every request takes all of them (for comparisons) */
  size_t queue_depth;           /* global queue of engine requests (default 256) */
  size_t max_frame;             /* bytes of one message (default 256 MiB) */
  size_t max_frame_unauth;      /* before authentication (default 64 KiB) */
  unsigned max_inflight;        /* per-connection requests before reading pauses (default 32) */
  size_t max_write_queue;       /* unsent response bytes before a client is dropped (default 64 MiB;
                                  a single larger response is still queued when nothing is pending) */
  unsigned max_connections;     /* open connections (default 1024) */
  double shutdown_timeout;      /* seconds to drain on SIGTERM (default 10) */
  double idle_timeout;          /* seconds a connection may stay idle: nothing in flight, unsent or
                                  half-received (default 3600; 0: never closed) */
  double read_timeout;          /* seconds a frame may stay half-received (default 60; 0: off) */
  double auth_timeout;          /* seconds to authenticate when a token is set (default 10; 0: off) */
  uint64_t max_objects;         /* meshes + problems in the store (default 4096) */
  size_t max_memory;            /* decoded requests in flight, all connections (default 1/4 of RAM) */
  size_t max_conn_memory;       /* decoded requests in flight, one connection (default max_memory/4) */
  const char *device;           /* default device of problems: "cpu", "cuda:N" or "auto"
                                 * (default); one that cannot be used stops the start-up */
} lc_server_config;

/* Fills cfg with the defaults above (no listen address, no token). */
void lc_server_config_default(lc_server_config *cfg);

/* Whether host (without port) is a loopback address or "localhost". */
int lc_server_is_loopback(const char *host);

/* Splits "HOST:PORT" / "[V6]:PORT" into host (hostcap bytes) and port;
 * returns 0 or -1 when malformed. */
int lc_server_parse_addr(const char *addr, char *host, size_t hostcap, int *port);

/* Runs the daemon until SIGTERM/SIGINT and a drained shutdown.  Returns the
 * process exit code: 0 on a clean shutdown (uv_loop_close returned 0), 1 on
 * a start-up failure, 2 when the shutdown deadline forced unfinished work. */
int lc_server_run(const lc_server_config *cfg);

#endif
