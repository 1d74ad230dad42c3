/* conn.c - client connections on the loop thread, whatever their transport
 * (stream.c: TCP and Unix sockets; ws.c: WebSockets): gather input into a
 * growing buffer, cut frames with the pre-scanner (lc_scan_resume) before
 * msgpack-c sees them (on a WebSocket, check that each message is exactly
 * one frame), dispatch requests (loop-thread methods or the engine queue),
 * queue responses, pause reading under back-pressure, time out, and close
 * with reference counting against in-flight work. */
#define _POSIX_C_SOURCE 200809L /* uv.h needs pthread_rwlock_t */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "codec.h"
#include "server_impl.h"

#define LC_READ_CHUNK 65536
#define LC_KEEP_BUFFER ((size_t)4 << 20) /* larger read buffers are freed when empty */

static void process(lc_conn *c);

void lc_conn_unref(lc_conn *c) {
  if (--c->refs > 0) return;
  free(c->buf);
  free(c);
}

void lc_conn_closed(lc_conn *c) {
  lc_server *s = c->srv;
  if (c->prev) c->prev->next = c->next;
  else s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->n_conns--;
  lc_conn_unref(c);
  lc_server_conn_closed(s);
}

void lc_conn_close(lc_conn *c, int flush) {
  if (c->closing) return;
  c->closing = 1;
  if (c->reading) c->tp->read(c, 0);
  c->reading = 0;
  lc_pool_cancel_conn(c->srv, c);
  lc_log(LC_LOG_INFO, c->id, -1, "closed (%u requests cancelled or running)", c->inflight);
  c->tp->close(c, flush);
}

void lc_conn_abort(lc_conn *c) {
  if (!c->closing) lc_conn_close(c, 0);
  else c->tp->close(c, 0);
}

void lc_conn_sent(lc_conn *c, size_t len, int ok) {
  c->pending_write -= len;
  c->t_active = uv_now(&c->srv->loop);
  if (ok) c->srv->st.bytes_out += len;
  else if (!c->closing) lc_conn_close(c, 0);
}

void lc_conn_write(lc_conn *c, char *data, size_t len) {
  if (c->closing) goto drop;
  if (c->pending_write > 0 && c->pending_write + len > c->srv->cfg.max_write_queue) {
    lc_log(LC_LOG_WARN, c->id, -1, "client not reading (%zu bytes unsent): disconnecting",
           c->pending_write);
    c->srv->st.slow_dropped++;
    lc_conn_close(c, 0);
    goto drop;
  }
  c->pending_write += len;
  if (c->tp->write(c, data, len) == 0) return;
  c->pending_write -= len;
  lc_conn_close(c, 0);
  return;
drop:
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
void lc_conn_protocol_error(lc_conn *c, uint32_t msgid, int code, const char *msg) {
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
    lc_conn_protocol_error(c, j->msgid, LC_RPC_EAUTH, "authentication required");
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
    lc_conn_protocol_error(c, msgid, LC_RPC_EPARSE, "undecodable frame");
  } else {
    dispatch(c, j);
    if (!c->closing) process(c);
    lc_conn_resume(c);
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
  lc_conn_protocol_error(c, msgid, LC_RPC_ENOMEM, "cannot queue the decoding of a large frame");
  return -1;
}

/* The frame limits that apply to c now (tighter before authentication). */
static const lc_scan_limits *limits(const lc_conn *c) {
  return c->authed ? &c->srv->lim : &c->srv->lim_unauth;
}

/* Refuses a WebSocket message that has grown to n bytes when that is over
 * c's frame limit (p: its first bytes, k of them, for the msgid); returns 1
 * when refused (a protocol error: c closes). */
static int message_too_large(lc_conn *c, const unsigned char *p, size_t k, size_t n) {
  char msg[160];
  if (n <= limits(c)->max_frame) return 0;
  snprintf(msg, sizeof msg, "message too large: over %zu bytes%s", limits(c)->max_frame,
           c->authed ? "" : " before authentication");
  lc_conn_protocol_error(c, peek_msgid(p, k), LC_RPC_ENOMEM, msg);
  return 1;
}

/* One WebSocket message at p[0..n): its frame length (n), 0 while it is
 * incomplete, or -1 after a protocol error (malformed, or not exactly one
 * MessagePack object; c then closes). */
static long long message_frame(lc_conn *c, const unsigned char *p, size_t n, uint64_t *objects) {
  lc_error err = {0, ""};
  size_t flen = 0;
  if (message_too_large(c, p, n, n)) return -1;
  if (!c->msg_done) return 0;
  int rc = lc_scan_frame_objects(p, n, limits(c), &flen, objects, &err);
  if (rc == LC_OK && flen == n && n > 0) return (long long)flen;
  if (rc == LC_OK)
    snprintf(err.msg, sizeof err.msg, "%s", n == 0 ? "empty WebSocket message"
             : flen == 0 ? "the WebSocket message ends inside a MessagePack object"
                         : "the WebSocket message holds more than one MessagePack object");
  lc_conn_protocol_error(c, peek_msgid(p, n), rc == LC_ERANGE ? LC_RPC_ENOMEM : LC_RPC_EPARSE,
                         err.msg[0] ? err.msg : "malformed message");
  return -1;
}

/* The next frame of a byte stream at p (n bytes buffered, resuming the scan
 * of an earlier read when fresh is 0): its length, 0 while incomplete, or -1
 * after a protocol error (c then closes). */
static long long stream_frame(lc_conn *c, const unsigned char *p, size_t n, int fresh, uint64_t *objects) {
  lc_error err = {0, ""};
  size_t flen = 0;
  if (fresh) lc_scan_reset(&c->scan);
  int rc = lc_scan_resume(&c->scan, p, n, limits(c), &flen, objects, &err);
  if (rc != LC_OK) {
    lc_conn_protocol_error(c, peek_msgid(p, n), rc == LC_ERANGE ? LC_RPC_ENOMEM : LC_RPC_EPARSE,
                           err.msg[0] ? err.msg : "malformed frame");
    return -1;
  }
  if (flen == 0 && n > limits(c)->max_frame) {
    lc_conn_protocol_error(c, peek_msgid(p, n), LC_RPC_ENOMEM, "frame too large");
    return -1;
  }
  return (long long)flen;
}

/* Queues (or decodes off the loop) one frame of flen bytes at p, est
 * bytes decoded; returns 1 when c's later frames must wait (a large frame
 * decoding), else 0.  A failure is a protocol error (c closes). */
static int take_frame(lc_conn *c, const unsigned char *p, size_t flen, size_t est) {
  lc_server *s = c->srv;
  char *frame = malloc(flen);
  if (frame) memcpy(frame, p, flen);
  const int defer = flen > LC_DECODE_OFF_LOOP;
  lc_job *j = frame ? lc_job_new(c, frame, flen, defer) : NULL;
  if (!j) {
    lc_conn_protocol_error(c, peek_msgid(p, flen), LC_RPC_EPARSE, "undecodable frame");
    return 0;
  }
  j->mem = est;
  s->mem_inflight += est;
  c->mem += est;
  if (!defer) {
    dispatch(c, j);
    return 0;
  }
  return decode_off_loop(c, j) == 0;
}

/* Keeps the unprocessed tail of c's buffer (from off) at its start, and
 * gives back a large frame's buffer once empty. */
static void compact(lc_conn *c, size_t off) {
  if (off > 0 && !c->closing) memmove(c->buf, c->buf + off, c->len - off);
  c->len = c->closing ? 0 : c->len - off;
  if (c->len == 0 && c->cap > LC_KEEP_BUFFER) {
    free(c->buf);
    c->buf = NULL;
    c->cap = 0;
  }
}

/* Cuts and dispatches the complete frames in c's buffer while c may take
 * more; pauses reading when c has too many requests in flight, or (on a
 * WebSocket) a complete message waits. */
static void process(lc_conn *c) {
  lc_server *s = c->srv;
  size_t off = 0;
  while (!c->closing && !c->decoding && c->inflight < s->cfg.max_inflight && (off < c->len || c->msg_done)) {
    uint64_t objects = 0;
    const unsigned char *p = (const unsigned char *)c->buf + off;
    /* the frame at the buffer's start may be half-scanned from an earlier read: resume it */
    long long got = c->msg_mode ? message_frame(c, p, c->len - off, &objects)
                                : stream_frame(c, p, c->len - off, off > 0, &objects);
    if (got <= 0) break;
    const size_t flen = (size_t)got, est = flen + (size_t)objects * LC_DECODED_PER_OBJECT;
    off += flen;
    c->msg_done = 0;
    if (over_budget(c, p, flen, est)) continue;
    if (take_frame(c, p, flen, est)) break; /* later frames wait for this one */
  }
  compact(c, off);
  const int wait = c->inflight >= s->cfg.max_inflight || (c->msg_mode && c->msg_done);
  if (!c->closing && c->reading && wait) {
    c->tp->read(c, 0);
    c->reading = 0;
    lc_log(LC_LOG_DEBUG, c->id, -1, "reading paused: %u requests in flight", c->inflight);
  }
}

int lc_conn_in_space(lc_conn *c, size_t want, char **p, size_t *avail) {
  if (c->cap - c->len < want) {
    size_t ncap = c->cap * 2 > c->len + want ? c->cap * 2 : c->len + want;
    char *nb = realloc(c->buf, ncap);
    if (!nb) return -1;
    c->buf = nb;
    c->cap = ncap;
  }
  *p = c->buf + c->len;
  *avail = c->cap - c->len;
  return 0;
}

void lc_conn_received(lc_conn *c, size_t n, int end) {
  c->len += n;
  c->msg_done = c->msg_mode && end;
  c->srv->st.bytes_in += (uint64_t)n;
  c->t_active = uv_now(&c->srv->loop);
  process(c);
  /* bytes left while reading is on: a frame is half-received */
  if (c->len == 0 || !c->reading) c->t_partial = 0;
  else if (!c->t_partial) c->t_partial = c->t_active;
}

void lc_conn_feed(lc_conn *c, const char *data, size_t n, int end) {
  char *p;
  size_t avail;
  if (c->closing) return;
  if (c->msg_done) { /* the transport delivered past a pause: never merge two messages */
    lc_conn_protocol_error(c, 0, LC_RPC_EINTERNAL, "input arrived while reading was paused");
    return;
  }
  const int first = c->len == 0; /* the msgid is in the first piece */
  if (message_too_large(c, (const unsigned char *)(first ? data : c->buf), first ? n : c->len, c->len + n))
    return; /* refused before it is stored */
  if (lc_conn_in_space(c, n ? n : 1, &p, &avail) != 0) {
    lc_log(LC_LOG_WARN, c->id, -1, "out of memory for a %zu-byte message", c->len + n);
    lc_conn_close(c, 0);
    return;
  }
  memcpy(p, data, n);
  lc_conn_received(c, n, end);
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

/* Starts the transport's reading of c; a failure closes c. */
static void start_reading(lc_conn *c) {
  if (c->tp->read(c, 1) == 0) c->reading = 1;
  else lc_conn_close(c, 0);
}

void lc_conn_resume(lc_conn *c) {
  if (c->closing || c->reading || c->inflight >= c->srv->cfg.max_inflight) return;
  process(c); /* frames already buffered come first */
  if (!c->closing && !c->reading && c->inflight < c->srv->cfg.max_inflight && !c->msg_done) {
    lc_log(LC_LOG_DEBUG, c->id, -1, "reading resumed");
    start_reading(c);
  }
}

lc_conn *lc_conn_new(lc_server *s, const lc_transport *tp) {
  lc_conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->srv = s;
  c->tp = tp;
  c->id = ++s->next_conn_id;
  c->refs = 1;
  c->authed = s->cfg.token == NULL;
  c->t_accept = c->t_active = uv_now(&s->loop);
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->n_conns++;
  s->st.conns_total++;
  return c;
}

int lc_conn_admit(lc_conn *c) {
  lc_server *s = c->srv;
  if (s->stopping || s->n_conns > s->cfg.max_connections) {
    lc_log(LC_LOG_WARN, c->id, -1, "refused %s%s: %s", c->msg_mode ? "websocket " : "", c->peer,
           s->stopping ? "shutting down" : "too many connections");
    lc_conn_close(c, 0);
    return -1;
  }
  lc_log(LC_LOG_INFO, c->id, -1, "accepted %s%s", c->msg_mode ? "websocket " : "", c->peer);
  start_reading(c);
  return c->closing ? -1 : 0;
}
