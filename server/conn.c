/* conn.c - client connections on the loop thread: accept, read into a
 * growing buffer, cut frames with the pre-scanner (lc_scan_frame) before
 * msgpack-c sees them, dispatch requests (loop-thread methods or the engine
 * queue), write responses, pause reading under back-pressure, and close
 * with reference counting against in-flight work. */
#define _POSIX_C_SOURCE 200809L /* uv.h needs pthread_rwlock_t */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "codec.h"
#include "server_impl.h"

#define LC_READ_CHUNK 65536
#define LC_KEEP_BUFFER ((size_t)4 << 20) /* larger read buffers are freed when empty */

typedef struct lc_wreq {
  uv_write_t req;
  lc_conn *c;
  char *data;
  size_t len;
} lc_wreq;

static void process(lc_conn *c);

void lc_conn_unref(lc_conn *c) {
  if (--c->refs > 0) return;
  free(c->buf);
  free(c);
}

static void on_close(uv_handle_t *h) {
  lc_conn *c = h->data;
  lc_server *s = c->srv;
  if (c->prev) c->prev->next = c->next;
  else s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->n_conns--;
  lc_conn_unref(c);
  lc_server_conn_closed(s);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  lc_conn *c = req->data;
  (void)status;
  if (!uv_is_closing(&c->h.handle)) uv_close(&c->h.handle, on_close);
}

void lc_conn_close(lc_conn *c, int flush) {
  if (c->closing) return;
  c->closing = 1;
  if (c->reading) uv_read_stop(&c->h.stream);
  c->reading = 0;
  lc_pool_cancel_conn(c->srv, c);
  lc_log(LC_LOG_INFO, c->id, -1, "closed (%u requests cancelled or running)", c->inflight);
  c->shut.data = c;
  if (flush && c->pending_write > 0 && uv_shutdown(&c->shut, &c->h.stream, on_shutdown) == 0)
    return;
  uv_close(&c->h.handle, on_close);
}

void lc_conn_abort(lc_conn *c) {
  if (!c->closing) lc_conn_close(c, 0);
  else if (!uv_is_closing(&c->h.handle)) uv_close(&c->h.handle, on_close);
}

static void on_write(uv_write_t *req, int status) {
  lc_wreq *w = (lc_wreq *)req;
  lc_conn *c = w->c;
  c->pending_write -= w->len;
  c->t_active = uv_now(&c->srv->loop);
  if (status == 0) c->srv->st.bytes_out += w->len;
  else if (!c->closing) {
    lc_log(LC_LOG_INFO, c->id, -1, "write failed: %s", uv_strerror(status));
    lc_conn_close(c, 0);
  }
  free(w->data);
  free(w);
  lc_conn_unref(c);
}

void lc_conn_write(lc_conn *c, char *data, size_t len) {
  lc_wreq *w = NULL;
  if (c->closing) goto drop;
  if (c->pending_write > 0 && c->pending_write + len > c->srv->cfg.max_write_queue) {
    lc_log(LC_LOG_WARN, c->id, -1, "client not reading (%zu bytes unsent): disconnecting",
           c->pending_write);
    c->srv->st.slow_dropped++;
    lc_conn_close(c, 0);
    goto drop;
  }
  w = malloc(sizeof *w);
  if (!w) goto fail;
  w->c = c;
  w->data = data;
  w->len = len;
  uv_buf_t b = uv_buf_init(data, (unsigned)len);
  if (uv_write(&w->req, &c->h.stream, &b, 1, on_write) != 0) goto fail;
  c->pending_write += len;
  c->refs++;
  return;
fail:
  lc_conn_close(c, 0);
drop:
  free(w);
  free(data);
}

void lc_conn_write_error(lc_conn *c, uint32_t msgid, int code, const char *msg) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  if (c->closing) return;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  lc_rpc_pack_error(&pk, msgid, code, msg);
  size_t len = sb.size;
  lc_conn_write(c, msgpack_sbuffer_release(&sb), len);
  msgpack_sbuffer_destroy(&sb);
}

/* Best-effort msgid of a (possibly malformed) request frame, else 0. */
static uint32_t peek_msgid(const unsigned char *b, size_t n) {
  if (n < 3 || b[0] != 0x94 || b[1] != 0) return 0;
  if (b[2] < 0x80) return b[2];
  if (b[2] == 0xcc && n >= 4) return b[3];
  if (b[2] == 0xcd && n >= 5) return (uint32_t)b[3] << 8 | b[4];
  if (b[2] == 0xce && n >= 7)
    return (uint32_t)b[3] << 24 | (uint32_t)b[4] << 16 | (uint32_t)b[5] << 8 | b[6];
  return 0;
}

/* A per-connection protocol error: reply where possible, count, close. */
static void protocol_error(lc_conn *c, uint32_t msgid, int code, const char *msg) {
  c->srv->st.protocol_errors++;
  lc_log(LC_LOG_WARN, c->id, msgid, "protocol error: %s", msg);
  lc_conn_write_error(c, msgid, code, msg);
  lc_conn_close(c, 1);
}

/* Checks the message shape; fills msgid and a printable method name (for
 * logs and the loop-thread dispatch: a name with a NUL or another
 * non-printable byte shows it as \\xHH, so it matches no method by a
 * truncated prefix).  0 request, 1 notification (any message [2, ...],
 * however malformed: it is never answered), -1 bad. */
static int request_shape(const msgpack_object *o, uint32_t *msgid, char *method, size_t cap) {
  const msgpack_object *a = o->via.array.ptr;
  const char *name;
  size_t len;
  method[0] = '\0';
  if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1) return -1;
  if (a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER) return -1;
  if (a[0].via.u64 == 2) {
    if (o->via.array.size >= 2 && lc_codec_strbin(&a[1], &name, &len)) lc_codec_printable(method, cap, name, len);
    return 1;
  }
  if (a[0].via.u64 != 0 || o->via.array.size != 4) return -1;
  if (a[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[1].via.u64 > UINT32_MAX) return -1;
  if (!lc_codec_strbin(&a[2], &name, &len)) return -1;
  *msgid = (uint32_t)a[1].via.u64;
  lc_codec_printable(method, cap, name, len);
  return 0;
}

/* Dispatches one decoded request (j owned here). */
static void dispatch(lc_conn *c, lc_job *j) {
  lc_server *s = c->srv;
  const msgpack_object *o = &j->req.data;
  int kind = request_shape(o, &j->msgid, j->method, sizeof j->method);
  s->st.requests += kind == 0;
  if (kind < 0) { /* well-formed MessagePack: answer and keep the connection (SPEC.md) */
    s->st.protocol_errors++;
    lc_log(LC_LOG_WARN, c->id, -1, "not a request [0, msgid, method, params]");
    lc_conn_write_error(c, peek_msgid((const unsigned char *)j->frame, j->frame_len), LC_RPC_EPARSE,
                        "not a request [0, uint32 msgid, str or bin method, params]");
  } else if (kind == 1) {
    s->st.notifications_in++;
    lc_log(LC_LOG_DEBUG, c->id, -1, "notification '%s' ignored", j->method);
  } else if (!c->authed && strcmp(j->method, "auth") && strcmp(j->method, "server.health")) {
    s->st.auth_failures++;
    protocol_error(c, j->msgid, LC_RPC_EAUTH, "authentication required");
  } else if (lc_server_local(s, c, o, j->msgid, j->method)) {
    /* answered on the loop thread */
  } else if (s->stopping) {
    lc_conn_write_error(c, j->msgid, LC_RPC_ESHUTDOWN, "the daemon is shutting down");
  } else {
    j->problem = lc_rpc_request_problem(s->rpc, o);
    lc_log(LC_LOG_DEBUG, c->id, j->msgid, "%s queued", j->method);
    if (lc_pool_push(s, j) == 0) return;
    s->st.busy++;
    lc_log(LC_LOG_WARN, c->id, j->msgid, "%s rejected: queue full", j->method);
    lc_conn_write_error(c, j->msgid, LC_RPC_EBUSY, "server busy: queue full, try later");
  }
  lc_job_free(j);
}

/* Refuses a frame whose decoded form (est bytes, estimated from its object
 * count before anything is decoded) does not fit the memory budgets: the
 * daemon's (--max-memory) and the connection's (--max-conn-memory).  A
 * request that could fit once others finish gets BUSY; one larger than a
 * budget gets NOMEM.  Notifications are dropped silently.  Returns 1 when
 * refused (the frame is then skipped, the connection kept). */
static int over_budget(lc_conn *c, const unsigned char *p, size_t flen, size_t est) {
  lc_server *s = c->srv;
  const size_t cap = s->cfg.max_conn_memory < s->cfg.max_memory ? s->cfg.max_conn_memory : s->cfg.max_memory;
  if (s->mem_inflight + est <= s->cfg.max_memory && c->mem + est <= s->cfg.max_conn_memory) return 0;
  s->st.memory_rejections++;
  if (flen > 0 && (p[0] & 0xf0) == 0x90 && flen > 1 && p[1] == 2) return 1; /* [2, ...]: a notification */
  char msg[200];
  if (est > cap)
    snprintf(msg, sizeof msg, "request too large: about %zu MB decoded, over the memory budget of %zu MB",
             est >> 20, cap >> 20);
  else
    snprintf(msg, sizeof msg, "server busy: about %zu MB of requests in flight, this one needs %zu MB more; "
             "try later", (c->mem + est > s->cfg.max_conn_memory ? c->mem : s->mem_inflight) >> 20, est >> 20);
  lc_log(LC_LOG_WARN, c->id, peek_msgid(p, flen), "%s", msg);
  lc_conn_write_error(c, peek_msgid(p, flen), est > cap ? LC_RPC_ENOMEM : LC_RPC_EBUSY, msg);
  return 1;
}

static void process(lc_conn *c);

/* Thread pool: decodes a large frame. */
static void decode_work(uv_work_t *w) {
  lc_job *j = w->data;
  lc_job_decode(j);
}

/* Loop thread: dispatches the decoded frame (or reports it undecodable),
 * then lets the connection's later frames through. */
static void decode_done(uv_work_t *w, int status) {
  lc_job *j = w->data;
  lc_conn *c = j->conn;
  c->decoding = 0;
  if (c->closing || status != 0) {
    lc_job_free(j);
  } else if (!j->decoded) {
    const uint32_t msgid = peek_msgid((const unsigned char *)j->frame, j->frame_len);
    lc_job_free(j);
    protocol_error(c, msgid, LC_RPC_EPARSE, "undecodable frame");
  } else {
    dispatch(c, j);
    if (!c->closing) process(c);
  }
}

/* Hands j's frame to libuv's thread pool: a frame of many megabytes must
 * not stall the loop while msgpack-c builds its objects.  Returns 0 when
 * queued (c's later frames then wait), else dispatches nothing and
 * reports the failure. */
static int decode_off_loop(lc_conn *c, lc_job *j) {
  j->work.data = j;
  c->decoding = 1;
  if (uv_queue_work(&c->srv->loop, &j->work, decode_work, decode_done) == 0) return 0;
  c->decoding = 0;
  const uint32_t msgid = peek_msgid((const unsigned char *)j->frame, j->frame_len);
  lc_job_free(j);
  protocol_error(c, msgid, LC_RPC_ENOMEM, "cannot queue the decoding of a large frame");
  return -1;
}

/* Cuts and dispatches the complete frames in c's buffer while c may take more. */
static void process(lc_conn *c) {
  lc_server *s = c->srv;
  size_t off = 0;
  while (!c->closing && !c->decoding && c->inflight < s->cfg.max_inflight && off < c->len) {
    lc_error err = {0, ""};
    size_t flen = 0;
    const unsigned char *p = (const unsigned char *)c->buf + off;
    uint64_t objects = 0;
    /* the frame at the buffer's start may be half-scanned from an earlier read: resume it */
    if (off > 0) lc_scan_reset(&c->scan);
    int rc = lc_scan_resume(&c->scan, p, c->len - off, c->authed ? &s->lim : &s->lim_unauth, &flen, &objects,
                            &err);
    if (rc != LC_OK) {
      protocol_error(c, peek_msgid(p, c->len - off), rc == LC_ERANGE ? LC_RPC_ENOMEM : LC_RPC_EPARSE,
                     err.msg[0] ? err.msg : "malformed frame");
      break;
    }
    if (flen == 0 && c->len - off > (c->authed ? s->lim : s->lim_unauth).max_frame) {
      protocol_error(c, peek_msgid(p, c->len - off), LC_RPC_ENOMEM, "frame too large");
      break;
    }
    if (flen == 0) break;
    const size_t est = flen + (size_t)objects * LC_DECODED_PER_OBJECT;
    if (over_budget(c, p, flen, est)) {
      off += flen;
      continue;
    }
    char *frame = malloc(flen);
    if (frame) memcpy(frame, p, flen);
    off += flen;
    const int defer = flen > LC_DECODE_OFF_LOOP;
    lc_job *j = frame ? lc_job_new(c, frame, flen, defer) : NULL;
    if (!j) {
      protocol_error(c, peek_msgid(p, flen), LC_RPC_EPARSE, "undecodable frame");
    } else {
      j->mem = est;
      s->mem_inflight += est;
      c->mem += est;
      if (!defer) {
        dispatch(c, j);
      } else if (decode_off_loop(c, j) == 0) {
        break; /* later frames wait for this one */
      }
    }
  }
  if (off > 0 && !c->closing) memmove(c->buf, c->buf + off, c->len - off);
  c->len = c->closing ? 0 : c->len - off;
  if (c->len == 0 && c->cap > LC_KEEP_BUFFER) { /* give back a large frame's buffer */
    free(c->buf);
    c->buf = NULL;
    c->cap = 0;
  }
  if (!c->closing && c->reading && c->inflight >= s->cfg.max_inflight) {
    uv_read_stop(&c->h.stream);
    c->reading = 0;
    lc_log(LC_LOG_DEBUG, c->id, -1, "reading paused: %u requests in flight", c->inflight);
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  lc_conn *c = h->data;
  (void)suggested;
  if (c->cap - c->len < LC_READ_CHUNK) {
    size_t ncap = c->cap * 2 > c->len + LC_READ_CHUNK ? c->cap * 2 : c->len + LC_READ_CHUNK;
    char *nb = realloc(c->buf, ncap);
    if (!nb) {
      *buf = uv_buf_init(NULL, 0);
      return;
    }
    c->buf = nb;
    c->cap = ncap;
  }
  *buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  lc_conn *c = st->data;
  (void)buf;
  if (nread < 0) {
    if (nread != UV_EOF) lc_log(LC_LOG_INFO, c->id, -1, "read failed: %s", uv_strerror((int)nread));
    lc_conn_close(c, 0);
    return;
  }
  c->len += (size_t)nread;
  c->srv->st.bytes_in += (uint64_t)nread;
  c->t_active = uv_now(&c->srv->loop);
  process(c);
  /* bytes left while reading is on: a frame is half-received */
  if (c->len == 0 || !c->reading) c->t_partial = 0;
  else if (!c->t_partial) c->t_partial = c->t_active;
}

/* Why c is past a timeout at now (ms), or NULL. */
static const char *timed_out(const lc_conn *c, uint64_t now) {
  const lc_server_config *k = &c->srv->cfg;
  if (!c->authed && k->auth_timeout > 0 && now - c->t_accept > (uint64_t)(k->auth_timeout * 1000.0))
    return "not authenticated in time";
  if (c->t_partial && k->read_timeout > 0 && now - c->t_partial > (uint64_t)(k->read_timeout * 1000.0))
    return "a frame half-received for too long";
  if (k->idle_timeout > 0 && c->inflight == 0 && c->pending_write == 0 && c->len == 0 &&
      now - c->t_active > (uint64_t)(k->idle_timeout * 1000.0))
    return "idle";
  return NULL;
}

void lc_conn_sweep(lc_server *s, uint64_t now) {
  for (lc_conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    const char *why = c->closing ? NULL : timed_out(c, now);
    if (!why) continue;
    s->st.timeouts++;
    lc_log(LC_LOG_INFO, c->id, -1, "closing %s: %s", c->peer, why);
    lc_conn_close(c, 0);
  }
}

/* Starts reading c. */
static void start_reading(lc_conn *c) {
  if (uv_read_start(&c->h.stream, on_alloc, on_read) == 0) c->reading = 1;
  else lc_conn_close(c, 0);
}

void lc_conn_resume(lc_conn *c) {
  if (c->closing || c->reading || c->inflight >= c->srv->cfg.max_inflight) return;
  process(c); /* frames already buffered come first */
  if (!c->closing && !c->reading && c->inflight < c->srv->cfg.max_inflight) {
    lc_log(LC_LOG_DEBUG, c->id, -1, "reading resumed");
    start_reading(c);
  }
}

/* Describes the peer of a TCP connection into out. */
static void peer_name(lc_conn *c, char *out, size_t cap) {
  struct sockaddr_storage ss;
  int n = sizeof ss;
  char ip[64] = "?";
  if (c->h.handle.type != UV_TCP) {
    snprintf(out, cap, "unix");
    return;
  }
  if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &n) == 0) {
    if (ss.ss_family == AF_INET6) uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
    else uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
  }
  snprintf(out, cap, "tcp %s", ip);
}

void lc_conn_accept(lc_server *s, uv_stream_t *listener) {
  lc_conn *c = calloc(1, sizeof *c);
  char peer[96];
  if (!c) return; /* the pending connection stays queued in the kernel */
  c->srv = s;
  c->id = ++s->next_conn_id;
  c->refs = 1;
  c->authed = s->cfg.token == NULL;
  c->t_accept = c->t_active = uv_now(&s->loop);
  if (listener->type == UV_TCP) uv_tcp_init(&s->loop, &c->h.tcp);
  else uv_pipe_init(&s->loop, &c->h.pipe, 0);
  c->h.handle.data = c;
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->n_conns++;
  s->st.conns_total++;
  if (uv_accept(listener, &c->h.stream) != 0) {
    lc_conn_close(c, 0);
    return;
  }
  peer_name(c, peer, sizeof peer);
  snprintf(c->peer, sizeof c->peer, "%s", peer);
  if (s->stopping || s->n_conns > s->cfg.max_connections) {
    lc_log(LC_LOG_WARN, c->id, -1, "refused %s: %s", peer,
           s->stopping ? "shutting down" : "too many connections");
    lc_conn_close(c, 0);
    return;
  }
  if (listener->type == UV_TCP) uv_tcp_nodelay(&c->h.tcp, 1);
  lc_log(LC_LOG_INFO, c->id, -1, "accepted %s", peer);
  start_reading(c);
}
