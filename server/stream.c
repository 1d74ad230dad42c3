/* stream.c - the libuv stream transport of connections (lc_transport):
 * TCP and Unix-socket clients.  It accepts, reads into the connection's
 * buffer (conn.c frames it), writes responses with uv_write, pauses with
 * uv_read_stop, and closes with a shutdown that flushes queued writes. */
#define _POSIX_C_SOURCE 200809L /* uv.h needs pthread_rwlock_t */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server_impl.h"

#define LC_READ_CHUNK 65536

/* One uv_write in flight; it holds a reference to its connection. */
typedef struct lc_wreq {
  uv_write_t req;
  lc_conn *c;
  char *data;
  size_t len;
} lc_wreq;

static void on_close(uv_handle_t *h) { lc_conn_closed(h->data); }

static void on_shutdown(uv_shutdown_t *req, int status) {
  lc_conn *c = req->data;
  (void)status;
  if (!uv_is_closing(&c->h.handle)) uv_close(&c->h.handle, on_close);
}

/* lc_transport.close: a shutdown after the queued writes when flush, else
 * (or when the shutdown cannot start) uv_close at once. */
static void stream_close(lc_conn *c, int flush) {
  c->shut.data = c;
  if (uv_is_closing(&c->h.handle)) return;
  if (flush && c->pending_write > 0 && uv_shutdown(&c->shut, &c->h.stream, on_shutdown) == 0) return;
  uv_close(&c->h.handle, on_close);
}

static void on_write(uv_write_t *req, int status) {
  lc_wreq *w = (lc_wreq *)req;
  lc_conn *c = w->c;
  if (status != 0 && !c->closing) lc_log(LC_LOG_INFO, c->id, -1, "write failed: %s", uv_strerror(status));
  lc_conn_sent(c, w->len, status == 0);
  free(w->data);
  free(w);
  lc_conn_unref(c);
}

/* lc_transport.write: one uv_write per message. */
static int stream_write(lc_conn *c, char *data, size_t len) {
  lc_wreq *w = malloc(sizeof *w);
  if (!w) goto fail;
  w->c = c;
  w->data = data;
  w->len = len;
  uv_buf_t b = uv_buf_init(data, (unsigned)len);
  if (uv_write(&w->req, &c->h.stream, &b, 1, on_write) != 0) goto fail;
  c->refs++;
  return 0;
fail:
  free(w);
  free(data);
  return -1;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  lc_conn *c = h->data;
  char *p;
  size_t avail;
  (void)suggested;
  if (lc_conn_in_space(c, LC_READ_CHUNK, &p, &avail) != 0) *buf = uv_buf_init(NULL, 0);
  else *buf = uv_buf_init(p, (unsigned)avail);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  lc_conn *c = st->data;
  (void)buf;
  if (nread < 0) {
    if (nread != UV_EOF) lc_log(LC_LOG_INFO, c->id, -1, "read failed: %s", uv_strerror((int)nread));
    lc_conn_close(c, 0);
    return;
  }
  lc_conn_received(c, (size_t)nread, 0);
}

/* lc_transport.read: uv_read_start / uv_read_stop. */
static int stream_read(lc_conn *c, int on) {
  if (on) return uv_read_start(&c->h.stream, on_alloc, on_read) == 0 ? 0 : -1;
  uv_read_stop(&c->h.stream);
  return 0;
}

static const lc_transport tcp_transport = {"tcp", stream_write, stream_read, stream_close};
static const lc_transport unix_transport = {"unix", stream_write, stream_read, stream_close};

/* Describes the peer of a connection into out: "tcp ADDRESS" or "unix". */
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

void lc_stream_accept(lc_server *s, uv_stream_t *listener) {
  const int tcp = listener->type == UV_TCP;
  lc_conn *c = lc_conn_new(s, tcp ? &tcp_transport : &unix_transport);
  if (!c) return; /* the pending connection stays queued in the kernel */
  if (tcp) uv_tcp_init(&s->loop, &c->h.tcp);
  else uv_pipe_init(&s->loop, &c->h.pipe, 0);
  c->h.handle.data = c;
  if (uv_accept(listener, &c->h.stream) != 0) {
    lc_conn_close(c, 0);
    return;
  }
  peer_name(c, c->peer, sizeof c->peer);
  if (tcp) uv_tcp_nodelay(&c->h.tcp, 1);
  lc_conn_admit(c);
}
