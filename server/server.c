/* server.c - the daemon's loop: start-up (store, listeners, signals, worker
 * pool), the methods answered on the loop thread (auth, server.info,
 * server.health, server.stats, problem.cancel), and the graceful shutdown
 * (stop accepting, cancel, drain within a deadline, close every handle,
 * uv_loop_close). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "server_impl.h"
#include "threads.h"

#ifdef LOCAD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
/* Tells systemd (Type=notify units) about the daemon's state; a no-op
 * outside systemd (no NOTIFY_SOCKET). */
#define LC_SD_NOTIFY(...) sd_notifyf(0, __VA_ARGS__)
#else
#define LC_SD_NOTIFY(...) ((void)0)
#endif

#ifndef LOCAD_VERSION
#define LOCAD_VERSION "0.0.0"
#endif

void lc_server_config_default(lc_server_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->workers = 2;
  cfg->queue_depth = 256;
  cfg->max_frame = (size_t)256 << 20;
  cfg->max_frame_unauth = (size_t)64 << 10;
  cfg->max_inflight = 32;
  cfg->max_write_queue = (size_t)64 << 20;
  cfg->max_connections = 1024;
  cfg->shutdown_timeout = 10.0;
  cfg->idle_timeout = 3600.0;
  cfg->read_timeout = 60.0;
  cfg->auth_timeout = 10.0;
  cfg->max_objects = 4096;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  cfg->max_memory = pages > 0 && page > 0 ? (size_t)pages * (size_t)page / 4 : (size_t)1 << 30;
  cfg->max_conn_memory = 0; /* max_memory / 4, resolved at start */
  cfg->device = "auto";
}

int lc_server_is_loopback(const char *host) {
  return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
         strcmp(host, "::1") == 0;
}

int lc_server_parse_addr(const char *addr, char *host, size_t hostcap, int *port) {
  const char *colon, *h = addr;
  size_t hl;
  char *end;
  if (addr[0] == '[') {
    const char *rb = strchr(addr, ']');
    if (!rb || rb[1] != ':') return -1;
    h = addr + 1;
    hl = (size_t)(rb - h);
    colon = rb + 1;
  } else {
    colon = strrchr(addr, ':');
    if (!colon) return -1;
    hl = (size_t)(colon - addr);
  }
  long p = strtol(colon + 1, &end, 10);
  if (hl == 0 || hl >= hostcap || *end || end == colon + 1 || p < 0 || p > 65535) return -1;
  memcpy(host, h, hl);
  host[hl] = '\0';
  *port = (int)p;
  return 0;
}

/* ---- methods answered on the loop thread -------------------------------- */

/* Starts a success response [1, msgid, nil, <result follows>]. */
static void begin_result(msgpack_packer *pk, uint32_t msgid) {
  msgpack_pack_array(pk, 4);
  msgpack_pack_int(pk, 1);
  msgpack_pack_uint32(pk, msgid);
  msgpack_pack_nil(pk);
}

static void pack_kv_str(msgpack_packer *pk, const char *k, const char *v) {
  msgpack_pack_str_with_body(pk, k, strlen(k));
  msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void pack_kv_u64(msgpack_packer *pk, const char *k, uint64_t v) {
  msgpack_pack_str_with_body(pk, k, strlen(k));
  msgpack_pack_uint64(pk, v);
}

/* The value of key in params o (a map, or [map]), or NULL. */
static const msgpack_object *map_get(const msgpack_object *o, const char *key) {
  size_t kl = strlen(key);
  if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 1) o = &o->via.array.ptr[0];
  if (o->type != MSGPACK_OBJECT_MAP) return NULL;
  for (uint32_t i = 0; i < o->via.map.size; i++) {
    const msgpack_object *k = &o->via.map.ptr[i].key;
    if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl && !memcmp(k->via.str.ptr, key, kl))
      return &o->via.map.ptr[i].val;
  }
  return NULL;
}

/* Constant-time comparison: the time depends only on the configured token's length. */
static int token_equal(const char *want, const char *got, size_t got_len) {
  size_t wl = strlen(want);
  unsigned diff = (unsigned)(wl ^ got_len);
  for (size_t i = 0; i < wl; i++)
    diff |= (unsigned char)want[i] ^ (unsigned char)(i < got_len ? got[i] : 0);
  return diff == 0;
}

#define LC_N_DAEMON_STATS 21

/* Packs the daemon's counters as LC_N_DAEMON_STATS map entries. */
static void pack_daemon_stats(lc_server *s, msgpack_packer *pk) {
  pack_kv_u64(pk, "connections", s->n_conns);
  pack_kv_u64(pk, "connections_total", s->st.conns_total);
  pack_kv_u64(pk, "requests_received", s->st.requests);
  pack_kv_u64(pk, "responses_sent", s->st.responses);
  pack_kv_u64(pk, "protocol_errors", s->st.protocol_errors);
  pack_kv_u64(pk, "busy_rejections", s->st.busy);
  pack_kv_u64(pk, "auth_failures", s->st.auth_failures);
  pack_kv_u64(pk, "cancelled", s->st.cancelled);
  pack_kv_u64(pk, "slow_clients_dropped", s->st.slow_dropped);
  pack_kv_u64(pk, "timeouts", s->st.timeouts);
  pack_kv_u64(pk, "memory_rejections", s->st.memory_rejections);
  pack_kv_u64(pk, "memory_in_flight", s->mem_inflight);
  pack_kv_u64(pk, "memory_budget", s->cfg.max_memory);
  pack_kv_u64(pk, "notifications", s->st.notifications);
  pack_kv_u64(pk, "notifications_received", s->st.notifications_in);
  pack_kv_u64(pk, "bytes_in", s->st.bytes_in);
  pack_kv_u64(pk, "bytes_out", s->st.bytes_out);
  pack_kv_u64(pk, "queue_depth", lc_pool_depth(s));
  pack_kv_u64(pk, "in_flight", s->inflight);
  pack_kv_u64(pk, "workers", (uint64_t)s->cfg.workers);
  pack_kv_u64(pk, "threads", (uint64_t)lc_threads_budget());
}

/* server.stats: the store's counters (rpc.c) merged with the daemon's. */
static void do_stats(lc_server *s, const msgpack_object *req, uint32_t msgid, msgpack_packer *pk) {
  volatile int never = 0;
  lc_rpc_call call = {NULL, NULL, &never};
  msgpack_sbuffer sb;
  msgpack_packer tmp;
  msgpack_unpacked u;
  const msgpack_object *store = NULL;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&tmp, &sb, msgpack_sbuffer_write);
  msgpack_unpacked_init(&u);
  lc_rpc_handle(s->rpc, req, &tmp, &call);
  if (sb.size && msgpack_unpack_next(&u, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS &&
      u.data.type == MSGPACK_OBJECT_ARRAY && u.data.via.array.size == 4 &&
      u.data.via.array.ptr[3].type == MSGPACK_OBJECT_MAP)
    store = &u.data.via.array.ptr[3];
  uint32_t n = store ? store->via.map.size : 0;
  begin_result(pk, msgid);
  msgpack_pack_map(pk, n + LC_N_DAEMON_STATS);
  for (uint32_t i = 0; i < n; i++) {
    msgpack_pack_object(pk, store->via.map.ptr[i].key);
    msgpack_pack_object(pk, store->via.map.ptr[i].val);
  }
  pack_daemon_stats(s, pk);
  msgpack_unpacked_destroy(&u);
  msgpack_sbuffer_destroy(&sb);
}

/* The failure record of peer (a fresh or the least recently used one when
 * the peer has none yet). */
static lc_auth_peer *auth_peer(lc_server *s, const char *peer) {
  lc_auth_peer *oldest = &s->auth_peers[0];
  for (int i = 0; i < LC_AUTH_PEERS; ++i) {
    lc_auth_peer *a = &s->auth_peers[i];
    if (a->peer[0] && !strcmp(a->peer, peer)) return a;
    if (!a->peer[0] || (oldest->peer[0] && a->last < oldest->last)) oldest = a;
  }
  memset(oldest, 0, sizeof *oldest);
  snprintf(oldest->peer, sizeof oldest->peer, "%s", peer);
  return oldest;
}

/* auth: checks params.token; a failure closes the connection.  A peer with
 * LC_AUTH_MAX_FAILS failures within LC_AUTH_WINDOW seconds is locked out
 * for LC_AUTH_LOCKOUT seconds: its attempts fail without a token check. */
static void do_auth(lc_server *s, lc_conn *c, const msgpack_object *params, uint32_t msgid,
                    msgpack_packer *pk) {
  const double now = (double)uv_now(&s->loop) / 1000.0;
  lc_auth_peer *a = auth_peer(s, c->peer);
  a->last = now;
  if (a->locked_until > now) {
    char msg[160];
    s->st.auth_failures++;
    snprintf(msg, sizeof msg, "too many failed authentications from %s: retry in %.0f s", c->peer,
             ceil(a->locked_until - now));
    lc_rpc_pack_error(pk, msgid, LC_RPC_EAUTH, msg);
    lc_log(LC_LOG_WARN, c->id, msgid, "%s", msg);
    return;
  }
  const msgpack_object *t = map_get(params, "token");
  int ok = !s->cfg.token ||
           (t && t->type == MSGPACK_OBJECT_STR && token_equal(s->cfg.token, t->via.str.ptr, t->via.str.size));
  if (ok) {
    c->authed = 1;
    a->fails = 0;
    begin_result(pk, msgid);
    msgpack_pack_true(pk);
    lc_log(LC_LOG_INFO, c->id, msgid, "authenticated");
    return;
  }
  if (a->fails == 0 || now - a->first > LC_AUTH_WINDOW) a->fails = 0, a->first = now;
  if (++a->fails >= LC_AUTH_MAX_FAILS) a->locked_until = now + LC_AUTH_LOCKOUT, a->fails = 0;
  s->st.auth_failures++;
  lc_rpc_pack_error(pk, msgid, LC_RPC_EAUTH, "authentication failed");
  lc_log(LC_LOG_WARN, c->id, msgid, "authentication failed");
}

/* problem.cancel: flags the queued and running requests of params.problem. */
static void do_cancel(lc_server *s, lc_conn *c, const msgpack_object *req, uint32_t msgid,
                      msgpack_packer *pk) {
  int64_t pid = lc_rpc_request_problem(s->rpc, req);
  if (pid < 0) {
    lc_rpc_pack_error(pk, msgid, LC_RPC_EPARAMS, "params.problem: expected a problem id");
    return;
  }
  int n = lc_pool_cancel_problem(s, pid);
  begin_result(pk, msgid);
  msgpack_pack_map(pk, 1); /* SPEC.md: problem.cancel {problem} -> {cancelled: n} */
  pack_kv_u64(pk, "cancelled", (uint64_t)(n > 0 ? n : 0));
  lc_log(LC_LOG_INFO, c->id, msgid, "problem.cancel problem=%lld: %d request(s) flagged",
         (long long)pid, n);
}

int lc_server_local(lc_server *s, lc_conn *c, const msgpack_object *req, uint32_t msgid,
                    const char *method) {
  const msgpack_object *params = &req->via.array.ptr[3];
  msgpack_sbuffer sb;
  msgpack_packer pk;
  int close_after = 0;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  if (!strcmp(method, "auth")) {
    do_auth(s, c, params, msgid, &pk);
    close_after = !c->authed;
  } else if (!strcmp(method, "server.health")) {
    begin_result(&pk, msgid);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "ok", 2);
    if (s->stopping) msgpack_pack_false(&pk);
    else msgpack_pack_true(&pk);
    pack_kv_str(&pk, "status", s->stopping ? "stopping" : "ok");
  } else if (!strcmp(method, "server.stats")) {
    do_stats(s, req, msgid, &pk);
  } else if (!strcmp(method, "server.info")) {
    volatile int never = 0;
    lc_rpc_call call = {NULL, NULL, &never};
    lc_rpc_handle(s->rpc, req, &pk, &call);
  } else if (!strcmp(method, "problem.cancel")) {
    do_cancel(s, c, req, msgid, &pk);
  } else {
    msgpack_sbuffer_destroy(&sb);
    return 0;
  }
  size_t len = sb.size;
  lc_metrics_record(s, method, lc_response_ok(sb.data, sb.size), 0.0); /* answered at once */
  lc_log(LC_LOG_DEBUG, c->id, msgid, "%s done on the loop thread", method);
  lc_conn_write(c, msgpack_sbuffer_release(&sb), len);
  msgpack_sbuffer_destroy(&sb);
  if (close_after) lc_conn_close(c, 1);
  return 1;
}

/* ---- listeners ------------------------------------------------------------ */

static void on_connection(uv_stream_t *listener, int status) {
  lc_server *s = listener->data;
  if (status < 0) {
    lc_log(LC_LOG_WARN, -1, -1, "accept failed: %s", uv_strerror(status));
    return;
  }
  lc_stream_accept(s, listener);
}

static void free_handle(uv_handle_t *h) { free(h); }

/* Registers a listener handle (allocated by the caller) for shutdown. */
static void add_listener(lc_server *s, uv_handle_t *h) {
  h->data = s;
  s->listeners[s->n_listeners++] = h;
}

static int listen_tcp(lc_server *s, const char *addr) {
  char host[256], ip[64];
  int port, rc;
  struct sockaddr_storage ss;
  int sl = sizeof ss;
  if (lc_server_parse_addr(addr, host, sizeof host, &port) != 0) {
    lc_log(LC_LOG_ERROR, -1, -1, "bad listen address '%s' (expected HOST:PORT)", addr);
    return -1;
  }
  if (!lc_server_is_loopback(host) && !s->cfg.token) {
    lc_log(LC_LOG_ERROR, -1, -1,
           "refusing to listen on non-loopback %s without a token (--token-file or LOCAD_TOKEN)",
           addr);
    return -1;
  }
  const char *h = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
  if (strchr(h, ':')) rc = uv_ip6_addr(h, port, (struct sockaddr_in6 *)&ss);
  else rc = uv_ip4_addr(h, port, (struct sockaddr_in *)&ss);
  uv_tcp_t *t = malloc(sizeof *t);
  if (rc != 0 || !t) {
    lc_log(LC_LOG_ERROR, -1, -1, "bad listen address '%s'", addr);
    free(t);
    return -1;
  }
  uv_tcp_init(&s->loop, t);
  add_listener(s, (uv_handle_t *)t);
  rc = uv_tcp_bind(t, (const struct sockaddr *)&ss, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)t, 128, on_connection);
  if (rc == 0) rc = uv_tcp_getsockname(t, (struct sockaddr *)&ss, &sl);
  if (rc != 0) {
    lc_log(LC_LOG_ERROR, -1, -1, "cannot listen on %s: %s", addr, uv_strerror(rc));
    return -1;
  }
  if (ss.ss_family == AF_INET6) {
    uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
    lc_log(LC_LOG_INFO, -1, -1, "listening on tcp [%s]:%d", ip,
           ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
  } else {
    uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
    lc_log(LC_LOG_INFO, -1, -1, "listening on tcp %s:%d", ip,
           ntohs(((struct sockaddr_in *)&ss)->sin_port));
  }
  return 0;
}

/* Whether a process accepts connections on the Unix socket at path. */
static int unix_in_use(const char *path) {
  struct sockaddr_un sa;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0), used = 0;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (fd >= 0 && strlen(path) < sizeof sa.sun_path) {
    memcpy(sa.sun_path, path, strlen(path));
    used = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  }
  if (fd >= 0) close(fd);
  return used;
}

static int listen_unix(lc_server *s, const char *path) {
  struct stat st;
  int rc;
  if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
    if (unix_in_use(path)) {
      lc_log(LC_LOG_ERROR, -1, -1, "unix socket %s is in use by another process", path);
      return -1;
    }
    unlink(path); /* stale socket of an earlier run */
  }
  uv_pipe_t *p = malloc(sizeof *p);
  if (!p) return -1;
  uv_pipe_init(&s->loop, p, 0);
  add_listener(s, (uv_handle_t *)p);
  const mode_t old_mask = umask(0177); /* the socket is 0600 from its creation, never wider */
  rc = uv_pipe_bind(p, path);
  umask(old_mask);
  if (rc == 0) chmod(path, 0600);
  if (rc == 0) rc = uv_listen((uv_stream_t *)p, 128, on_connection);
  if (rc != 0) {
    lc_log(LC_LOG_ERROR, -1, -1, "cannot listen on unix %s: %s", path, uv_strerror(rc));
    return -1;
  }
  s->unix_bound = 1;
  lc_log(LC_LOG_INFO, -1, -1, "listening on unix %s", path);
  return 0;
}

/* ---- shutdown --------------------------------------------------------------- */

static void close_if_open(uv_handle_t *h, uv_close_cb cb) {
  if (h->loop && !uv_is_closing(h)) uv_close(h, cb);
}

static void close_listeners(lc_server *s) {
  for (int i = 0; i < s->n_listeners; i++) close_if_open(s->listeners[i], free_handle);
  s->n_listeners = 0;
}

#define LC_FLUSH_MS 2000 /* time given to clients to take their last responses */

static void on_timer(uv_timer_t *t);

/* The timeout sweep: every LC_SWEEP_MS, connections past a timeout close. */
static void on_sweep(uv_timer_t *t) {
  lc_server *s = t->data;
  lc_conn_sweep(s, uv_now(&s->loop));
}

/* Closes everything; the loop then runs out. */
static void finish(lc_server *s) {
  if (s->finishing) return;
  s->finishing = 1;
  s->stopping = 1;
  close_listeners(s);
  lc_http_stop(s);
  uv_timer_stop(&s->sweep);
  close_if_open((uv_handle_t *)&s->sweep, NULL);
  for (lc_conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    lc_conn_close(c, 1);
  }
  if (lc_pool_stop(s) != 0) {
    s->forced = 1;
    lc_log(LC_LOG_ERROR, -1, -1, "engine work still running after the deadline");
  }
  uv_mutex_lock(&s->done_mu);
  s->async_closed = 1;
  uv_mutex_unlock(&s->done_mu);
  close_if_open((uv_handle_t *)&s->async, NULL);
  close_if_open((uv_handle_t *)&s->sigterm, NULL);
  close_if_open((uv_handle_t *)&s->sigint, NULL);
  uv_timer_stop(&s->timer);
  lc_ws_stop(s); /* at once when no WebSocket is open, else once the last one closed */
  if (s->n_conns == 0) close_if_open((uv_handle_t *)&s->timer, NULL);
  else uv_timer_start(&s->timer, on_timer, LC_FLUSH_MS, 0);
}

void lc_server_conn_closed(lc_server *s) {
  if (!s->finishing) return;
  lc_ws_stop(s);
  if (s->n_conns == 0) close_if_open((uv_handle_t *)&s->timer, NULL);
}

void lc_server_check_drained(lc_server *s) {
  if (s->stopping && !s->finishing && s->inflight == 0) finish(s);
}

/* Shutdown deadline (before finish) or end of the final flush (after). */
static void on_timer(uv_timer_t *t) {
  lc_server *s = t->data;
  if (s->finishing) {
    for (lc_conn *c = s->conns, *next; c; c = next) {
      next = c->next;
      lc_conn_abort(c);
    }
    close_if_open((uv_handle_t *)&s->timer, NULL);
    return;
  }
  if (s->inflight > 0) {
    lc_log(LC_LOG_ERROR, -1, -1, "shutdown deadline: %u request(s) still in flight", s->inflight);
  }
  finish(s);
}

/* Starts the shutdown: no new connections or work, cancel, drain. */
static void begin_stop(lc_server *s) {
  s->stopping = 1;
  LC_SD_NOTIFY("STOPPING=1\nSTATUS=draining %u request(s)", s->inflight);
  close_listeners(s);
  lc_pool_cancel_all(s);
  lc_log(LC_LOG_INFO, -1, -1, "shutting down: %u request(s) to drain, deadline %.1fs", s->inflight,
         s->cfg.shutdown_timeout);
  uv_timer_start(&s->timer, on_timer, (uint64_t)(s->cfg.shutdown_timeout * 1000.0), 0);
  lc_server_check_drained(s);
}

static void on_signal(uv_signal_t *h, int signum) {
  lc_server *s = h->data;
  lc_log(LC_LOG_INFO, -1, -1, "signal %d received", signum);
  if (!s->stopping) begin_stop(s);
  else finish(s); /* a second signal: do not wait for the drain */
}

/* ---- start and run -------------------------------------------------------------- */

/* Logs the default device (its id, marked when "auto" chose it),
 * as found in the device list. */
static void log_device(const char *spec, lc_device_kind kind, int ordinal,
                       const lc_device_info *devs, int nd) {
  char id[16];
  if (kind == LC_DEV_CUDA) snprintf(id, sizeof id, "cuda:%d", ordinal);
  else snprintf(id, sizeof id, "cpu");
  const char *how = strcmp(spec, "auto") ? "" : " (auto)";
  for (int i = 0; i < nd; i++) {
    const lc_device_info *d = &devs[i];
    if (strcmp(d->id, id)) continue;
    if (kind == LC_DEV_CUDA)
      lc_log(LC_LOG_INFO, -1, -1, "device %s%s: %s, %.1f GiB, compute capability %d.%d, %d SMs", id,
             how, d->name, (double)d->memory / (1 << 30), d->cc_major, d->cc_minor, d->cores);
    else
      lc_log(LC_LOG_INFO, -1, -1, "device %s%s: %s, %d threads, %.1f GiB", id, how, d->name,
             d->cores, (double)d->memory / (1 << 30));
    return;
  }
  lc_log(LC_LOG_INFO, -1, -1, "device %s%s", id, how);
}

/* Resolves the default device (a device that cannot be used stops the
 * start-up: nothing falls back), lists the devices once (server.info is
 * answered on this thread) and creates the store; returns 0 or -1. */
static int start_store(lc_server *s) {
  lc_error err = {0, ""};
  lc_device_info devs[LC_DEVICE_MAX];
  lc_device_kind kind;
  int ordinal, nd = 0;
  const char *spec = s->cfg.device && s->cfg.device[0] ? s->cfg.device : "auto";
  if (lc_device_resolve(spec, &kind, &ordinal, &err) != LC_OK) {
    lc_log(LC_LOG_ERROR, -1, -1, "--device / LOCAD_DEVICE: %s", err.msg);
    return -1;
  }
  lc_device_list(devs, LC_DEVICE_MAX, &nd);
  lc_rpc_config rc = {.version = LOCAD_VERSION, .device = spec, .max_frame = s->cfg.max_frame,
                      .max_objects = s->cfg.max_objects, .devices = devs, .n_devices = nd,
                      .state_dir = s->cfg.state_dir};
  if (lc_rpc_create(&rc, &s->rpc, &err) != LC_OK) {
    lc_log(LC_LOG_ERROR, -1, -1, "cannot create the object store: %s", err.msg);
    return -1;
  }
  if (s->cfg.state_dir) {
    uint64_t objects = 0;
    lc_rpc_stats(s->rpc, &objects, NULL);
    lc_log(LC_LOG_INFO, -1, -1, "state %s/locad.db: %llu object(s) restored", s->cfg.state_dir,
           (unsigned long long)objects);
  }
  log_device(spec, kind, ordinal, devs, nd);
  return 0;
}

/* Creates the store, the listeners and the workers; returns 0 or -1. */
static int start(lc_server *s) {
  if (start_store(s) != 0) return -1;
  if (!s->cfg.max_conn_memory) s->cfg.max_conn_memory = s->cfg.max_memory / 4;
  lc_scan_limits_default(&s->lim);
  s->lim.max_frame = s->cfg.max_frame;
  s->lim_unauth = s->lim;
  s->lim_unauth.max_frame = s->cfg.max_frame_unauth;
  for (int i = 0; i < s->cfg.n_listen; i++)
    if (listen_tcp(s, s->cfg.listen[i]) != 0) return -1;
  if (s->cfg.unix_path && listen_unix(s, s->cfg.unix_path) != 0) return -1;
  if (uv_signal_start(&s->sigterm, on_signal, SIGTERM) || uv_signal_start(&s->sigint, on_signal, SIGINT))
    return -1;
  lc_threads_set_budget(s->cfg.threads > 0 ? s->cfg.threads : (int)uv_available_parallelism());
  lc_threads_set_sharing(!s->cfg.thread_share_off);
  if (lc_pool_start(s) != 0) {
    lc_log(LC_LOG_ERROR, -1, -1, "cannot start %d worker thread(s)", s->cfg.workers);
    return -1;
  }
  if (s->cfg.http && lc_http_start(s) != 0) return -1;
  if (s->cfg.ws && lc_ws_start(s) != 0) return -1;
  if (s->cfg.idle_timeout > 0 || s->cfg.read_timeout > 0 || s->cfg.auth_timeout > 0)
    uv_timer_start(&s->sweep, on_sweep, LC_SWEEP_MS, LC_SWEEP_MS);
  lc_log(LC_LOG_INFO, -1, -1, "locad %s ready: %d worker(s), queue %zu, max frame %zu bytes%s",
         LOCAD_VERSION, s->cfg.workers, s->cfg.queue_depth, s->cfg.max_frame,
         s->cfg.token ? ", token required" : "");
  LC_SD_NOTIFY("READY=1\nSTATUS=serving: %d worker(s)", s->cfg.workers);
  return 0;
}

/* Initialises the loop and the handles every run closes. */
static int init(lc_server *s, const lc_server_config *cfg) {
  s->cfg = *cfg;
  if (uv_loop_init(&s->loop) != 0) return -1;
  if (uv_mutex_init(&s->mu) || uv_mutex_init(&s->done_mu) || uv_cond_init(&s->cv)) return -2;
  uv_async_init(&s->loop, &s->async, lc_pool_on_async);
  uv_signal_init(&s->loop, &s->sigterm);
  uv_signal_init(&s->loop, &s->sigint);
  uv_timer_init(&s->loop, &s->timer);
  uv_timer_init(&s->loop, &s->sweep);
  s->async.data = s->sigterm.data = s->sigint.data = s->timer.data = s->sweep.data = s;
  return 0;
}

int lc_server_run(const lc_server_config *cfg) {
  lc_server *s = calloc(1, sizeof *s);
  int code = 1, rc;
  if (!s) return 1;
  rc = init(s, cfg);
  if (rc != 0) {
    if (rc == -2) uv_loop_close(&s->loop);
    free(s);
    return 1;
  }
  if (start(s) == 0) code = 0;
  else finish(s);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  for (int k = 0; k < 3 && !(lc_http_finish(s) & lc_ws_finish(s)); ++k) uv_run(&s->loop, UV_RUN_DEFAULT);
  if (!lc_http_finish(s)) lc_log(LC_LOG_WARN, -1, -1, "http: the listener's destruction did not complete");
  if (!lc_ws_finish(s)) lc_log(LC_LOG_WARN, -1, -1, "ws: the listener's destruction did not complete");
  if (s->forced) code = 2;
  if (!s->forced) lc_rpc_destroy(s->rpc); /* a worker may still use it */
  rc = uv_loop_close(&s->loop);
  if (rc != 0) {
    lc_log(LC_LOG_ERROR, -1, -1, "uv_loop_close: %s", uv_strerror(rc));
    code = code ? code : 3;
  }
  if (s->unix_bound) unlink(cfg->unix_path);
  lc_log(LC_LOG_INFO, -1, -1, "exit %d", code);
  if (!s->forced) {
    uv_cond_destroy(&s->cv);
    uv_mutex_destroy(&s->mu);
    uv_mutex_destroy(&s->done_mu);
    free(s);
  }
  return code;
}
