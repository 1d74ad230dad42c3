/* ws.c - the WebSocket transport of connections (--ws HOST:PORT), served by
 * libwebsockets inside the daemon's libuv loop (a foreign loop, as http.c):
 *   ws://HOST:PORT/rpc   MessagePack-RPC, one message per binary WebSocket
 *                        message each way (subprotocol "locad-rpc" or none);
 *   GET /PATH            the files of --web-root DIR (an lws file mount,
 *                        index.html for "/"), else 404.
 * Each WebSocket is an lc_conn with this file's lc_transport: conn.c frames,
 * authenticates, limits and dispatches its messages as it does a socket's
 * bytes.  Responses are queued here and sent in pieces of LC_WS_PIECE bytes
 * when lws says the socket is writable; reading pauses with
 * lws_rx_flow_control. */
#define _XOPEN_SOURCE 700 /* uv.h needs pthread_rwlock_t; realpath */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "codec.h"
#include "log.h"
#include "server_impl.h"

#define LC_WS_PIECE ((size_t)1 << 16) /* bytes of an outgoing message sent per writable turn */
#define LC_WS_FLUSH_S 5               /* seconds a closing WebSocket may take to flush */

/* One queued outgoing message. */
typedef struct lc_ws_msg {
  struct lc_ws_msg *next;
  char *data;
  size_t len, sent;
} lc_ws_msg;

/* The WebSocket side of one connection (lc_conn.ws). */
struct lc_ws_conn {
  struct lws *wsi;        /* NULL once lws closed it */
  lc_ws_msg *head, *tail; /* queued messages, the head partly sent */
  int close_after;        /* close once the queue is sent (a flushing close) */
  int kill;               /* close at the next writable turn (or lws's timeout) */
};

/* The listener: its lws context and what must outlive it. */
struct lc_ws_listener {
  struct lws_context *ctx;   /* NULL once lc_ws_stop began its destruction */
  struct lws_context *alive; /* lws writes NULL here once the destruction completed */
  struct lws_http_mount mount;
  char root[PATH_MAX];       /* --web-root, resolved */
  unsigned char out[LWS_PRE + LC_WS_PIECE]; /* staging of one outgoing piece */
  uv_timer_t *stop;          /* destroys the context outside lws's callbacks */
};

/* Per-session data of the "locad-rpc" protocol (also its HTTP sessions). */
typedef struct ws_pss {
  lc_conn *c; /* the connection of an established WebSocket, else NULL */
} ws_pss;

/* ---- the transport ---------------------------------------------------- */

/* lc_transport.write: queues one message and asks for a writable turn. */
static int ws_write(lc_conn *c, char *data, size_t len) {
  lc_ws_msg *m = c->ws && c->ws->wsi ? malloc(sizeof *m) : NULL;
  if (!m) {
    free(data);
    return -1;
  }
  *m = (lc_ws_msg){NULL, data, len, 0};
  if (c->ws->tail) c->ws->tail->next = m;
  else c->ws->head = m;
  c->ws->tail = m;
  lws_callback_on_writable(c->ws->wsi);
  return 0;
}

/* lc_transport.read: lws_rx_flow_control. */
static int ws_read(lc_conn *c, int on) {
  if (!c->ws || !c->ws->wsi) return -1;
  return lws_rx_flow_control(c->ws->wsi, on ? 1 : 0) < 0 ? -1 : 0;
}

/* lc_transport.close: after the queue when flush (bounded by LC_WS_FLUSH_S),
 * else at once; lws then reports LWS_CALLBACK_CLOSED. */
static void ws_close(lc_conn *c, int flush) {
  struct lc_ws_conn *w = c->ws;
  if (!w || !w->wsi) return;
  if (flush && w->head && !w->kill) {
    w->close_after = 1;
    lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LC_WS_FLUSH_S);
  } else {
    w->kill = 1;
    lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  }
  lws_callback_on_writable(w->wsi);
}

static const lc_transport ws_transport = {"websocket", ws_write, ws_read, ws_close};

/* ---- lws callbacks -------------------------------------------------------- */

/* A WebSocket was established on /rpc: its connection is admitted (or
 * refused); returns 0, or -1 (lws closes it) when out of memory. */
static int on_established(lc_server *s, struct lws *wsi, ws_pss *pss) {
  char ip[64] = "?";
  struct lc_ws_conn *w = calloc(1, sizeof *w);
  lc_conn *c = w ? lc_conn_new(s, &ws_transport) : NULL;
  if (!c) {
    free(w);
    return -1;
  }
  w->wsi = wsi;
  c->ws = w;
  c->msg_mode = 1;
  pss->c = c;
  s->n_ws_conns++;
  lws_get_peer_simple(wsi, ip, sizeof ip);
  snprintf(c->peer, sizeof c->peer, "tcp %s", ip); /* the auth rate limit is per address */
  lc_conn_admit(c);
  return 0;
}

/* lws closed the WebSocket: its connection closes (work cancelled) and is
 * released; unsent messages are dropped. */
static void on_closed(lc_server *s, ws_pss *pss) {
  lc_conn *c = pss->c;
  pss->c = NULL;
  if (!c) return;
  struct lc_ws_conn *w = c->ws;
  w->wsi = NULL;
  if (!c->closing) lc_log(LC_LOG_INFO, c->id, -1, "websocket closed by the client");
  lc_conn_close(c, 0);
  while (w->head) {
    lc_ws_msg *m = w->head;
    w->head = m->next;
    c->pending_write -= m->len;
    free(m->data);
    free(m);
  }
  free(w);
  c->ws = NULL;
  s->n_ws_conns--;
  lc_conn_closed(c);
}

/* A received piece of a message: binary messages go to conn.c whole; a
 * text message is a protocol error. */
static void on_receive(struct lws *wsi, lc_conn *c, const char *in, size_t len) {
  if (c->closing) return;
  if (c->len == 0 && lws_is_first_fragment(wsi) && !lws_frame_is_binary(wsi)) {
    lc_conn_protocol_error(c, 0, LC_RPC_EPARSE,
                           "text WebSocket message: send each MessagePack-RPC message as one binary message");
    return;
  }
  lc_conn_feed(c, in, len, lws_is_final_fragment(wsi));
}

/* Sends the next piece of the queue's head; returns -1 when the WebSocket
 * must close (killed, flushed for a close, or a failed write). */
static int on_writable(struct lc_ws_listener *l, lc_conn *c, struct lws *wsi) {
  struct lc_ws_conn *w = c->ws;
  lc_ws_msg *m = w->head;
  if (w->kill) return -1;
  if (!m) {
    if (!w->close_after) return 0;
    /* a close code for the client (lws 4.1 may close without it: the error response says why) */
    lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
    return -1;
  }
  const size_t n = m->len - m->sent < LC_WS_PIECE ? m->len - m->sent : LC_WS_PIECE;
  const int last = m->sent + n == m->len;
  int flags = m->sent == 0 ? LWS_WRITE_BINARY : LWS_WRITE_CONTINUATION;
  if (!last) flags |= LWS_WRITE_NO_FIN;
  memcpy(l->out + LWS_PRE, m->data + m->sent, n);
  if (lws_write(wsi, l->out + LWS_PRE, n, (enum lws_write_protocol)flags) < (int)n) return -1;
  m->sent += n;
  if (last) {
    w->head = m->next;
    if (!w->head) w->tail = NULL;
    lc_conn_sent(c, m->len, 1);
    free(m->data);
    free(m);
  }
  if (w->head || w->close_after) lws_callback_on_writable(wsi);
  return 0;
}

/* Whether the request of wsi asks for path /rpc. */
static int wants_rpc(struct lws *wsi) {
  char uri[64];
  if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0) return 0;
  return !strcmp(uri, "/rpc");
}

/* An HTTP request no file mount answered: 404, naming what is served. */
static int not_found(lc_server *s, struct lws *wsi) {
  const char *msg = s->cfg.web_root ? "not found (WebSocket endpoint: /rpc; files from --web-root)"
                                    : "not found: this port serves only the WebSocket endpoint /rpc "
                                      "(start locad with --web-root DIR to serve files)";
  if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, msg)) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Whether origin (one "scheme://host[:port]") is in the comma-separated list. */
static int origin_listed(const char *list, const char *origin) {
  const size_t n = strlen(origin);
  for (const char *p = list; p && *p;) {
    const char *e = strchr(p, ',');
    const size_t k = e ? (size_t)(e - p) : strlen(p);
    if ((k == 1 && *p == '*') || (k == n && !strncmp(p, origin, n))) return 1;
    p = e ? e + 1 : NULL;
  }
  return 0;
}

/* Whether the WebSocket handshake of wsi may proceed: a request without an
 * Origin header (not a browser), a page of this very host and port (Origin
 * http(s)://Host), or an origin of --ws-origin.  Browsers send Origin on
 * every WebSocket, so another site open in the user's browser cannot drive
 * the daemon on loopback. */
static int origin_allowed(lc_server *s, struct lws *wsi) {
  char origin[256], host[256], self[300];
  if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0) return 1;
  if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) > 0) {
    snprintf(self, sizeof self, "http://%s", host);
    if (!strcmp(origin, self)) return 1;
    snprintf(self, sizeof self, "https://%s", host);
    if (!strcmp(origin, self)) return 1;
  }
  if (origin_listed(s->cfg.ws_origins, origin)) return 1;
  char shown[1100];
  lc_codec_printable(shown, sizeof shown, origin, strlen(origin));
  lc_log(LC_LOG_WARN, -1, -1, "websocket from origin '%s' refused (not this daemon's page; allow it with --ws-origin)",
         shown);
  return 0;
}

static int rpc_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  ws_pss *pss = user;
  lc_server *s = lws_context_user(lws_get_context(wsi));
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      return wants_rpc(wsi) && origin_allowed(s, wsi) ? 0 : -1;
    case LWS_CALLBACK_ESTABLISHED:
      pss->c = NULL;
      return on_established(s, wsi, pss);
    case LWS_CALLBACK_RECEIVE:
      if (pss && pss->c) on_receive(wsi, pss->c, in, len);
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return pss && pss->c ? on_writable(s->wsl, pss->c, wsi) : 0;
    case LWS_CALLBACK_CLOSED:
      if (pss) on_closed(s, pss);
      return 0;
    case LWS_CALLBACK_HTTP:
      return not_found(s, wsi);
    default:
      break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* Protocol 0 is also taken by a WebSocket that names no subprotocol. */
static const struct lws_protocols lc_ws_protocols[] = {
    {"locad-rpc", rpc_cb, sizeof(ws_pss), LC_WS_PIECE, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

/* MIME types of the served files (lws knows .html, .js, .css, .png; these
 * complete them, and any other file is application/octet-stream). */
static const struct lws_protocol_vhost_options mime_any = {NULL, NULL, "*", "application/octet-stream"};
static const struct lws_protocol_vhost_options mime_wasm = {&mime_any, NULL, ".wasm", "application/wasm"};
static const struct lws_protocol_vhost_options mime_obj = {&mime_wasm, NULL, ".obj", "model/obj"};
static const struct lws_protocol_vhost_options mime_json = {&mime_obj, NULL, ".json", "application/json"};
static const struct lws_protocol_vhost_options mime_mjs = {&mime_json, NULL, ".mjs", "text/javascript"};

/* ---- start and stop --------------------------------------------------------- */

/* Routes lws's log lines to the daemon's log (errors and warnings only). */
static void lws_log_line(int level, const char *line) {
  lc_log(level == LLL_ERR ? LC_LOG_ERROR : LC_LOG_WARN, -1, -1, "ws: %.*s", (int)strcspn(line, "\n"), line);
}

/* Resolves --web-root into l and fills its file mount; 0 or -1 (logged). */
static int mount_root(lc_server *s, struct lc_ws_listener *l) {
  if (!realpath(s->cfg.web_root, l->root)) {
    lc_log(LC_LOG_ERROR, -1, -1, "--web-root %s: not a directory we can read", s->cfg.web_root);
    return -1;
  }
  l->mount.mountpoint = "/";
  l->mount.mountpoint_len = 1;
  l->mount.origin = l->root;
  l->mount.def = "index.html";
  l->mount.origin_protocol = LWSMPRO_FILE;
  l->mount.extra_mimetypes = &mime_mjs;
  return 0;
}

/* Creates l's lws context on host:port in s's loop; 0 or -1 (logged). */
static int create_context(lc_server *s, struct lc_ws_listener *l, const char *host, int port) {
  void *loops[1] = {&s->loop};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = port;
  info.iface = host;
  info.protocols = lc_ws_protocols;
  info.mounts = s->cfg.web_root ? &l->mount : NULL;
  info.options = LWS_SERVER_OPTION_LIBUV;
  if (!strchr(host, ':')) /* an IPv4 address: without this, lws 4.1 listens on every interface */
    info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  info.foreign_loops = loops;
  info.user = s;
  info.pcontext = &l->alive;
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);
  l->ctx = lws_create_context(&info);
  l->alive = l->ctx;
  if (l->ctx) return 0;
  lc_log(LC_LOG_ERROR, -1, -1, "cannot serve websockets on %s (address in use, or no libuv event plugin)",
         s->cfg.ws);
  return -1;
}

int lc_ws_start(lc_server *s) {
  char host[256];
  int port;
  if (lc_server_parse_addr(s->cfg.ws, host, sizeof host, &port) != 0) {
    lc_log(LC_LOG_ERROR, -1, -1, "--ws %s: expected HOST:PORT", s->cfg.ws);
    return -1;
  }
  if (!lc_server_is_loopback(host) && !s->cfg.token) {
    lc_log(LC_LOG_ERROR, -1, -1, "refusing websockets on non-loopback %s without a token (--token-file or "
           "LOCAD_TOKEN)", s->cfg.ws);
    return -1;
  }
  struct lc_ws_listener *l = calloc(1, sizeof *l);
  s->wsl = l;
  if (!l || (s->cfg.web_root && mount_root(s, l) != 0)) return -1;
  if (create_context(s, l, strcmp(host, "localhost") ? host : "127.0.0.1", port) != 0) return -1;
  struct lws_vhost *vh = lws_get_vhost_by_name(l->ctx, "default");
  lc_log(LC_LOG_INFO, -1, -1, "websocket on ws://%s:%d/rpc%s%s", host, vh ? lws_get_vhost_listen_port(vh) : port,
         s->cfg.web_root ? ", files from " : "", s->cfg.web_root ? l->root : "");
  return 0;
}

static void free_timer(uv_handle_t *h) { free(h); }

/* Destroys the context, outside lws's callbacks (a timer of 0 ms). */
static void on_stop(uv_timer_t *t) {
  lc_server *s = t->data;
  struct lc_ws_listener *l = s->wsl;
  uv_close((uv_handle_t *)t, free_timer);
  l->stop = NULL;
  if (!l->ctx) return;
  struct lws_context *ctx = l->ctx;
  l->ctx = NULL;
  lws_context_destroy(ctx); /* with a foreign loop, it finishes as its handles close */
}

void lc_ws_stop(lc_server *s) {
  struct lc_ws_listener *l = s->wsl;
  if (!l || !l->ctx || l->stop || s->n_ws_conns > 0) return;
  l->stop = malloc(sizeof *l->stop);
  if (!l->stop) { /* not within a callback here when nothing is open: destroy at once */
    struct lws_context *ctx = l->ctx;
    l->ctx = NULL;
    lws_context_destroy(ctx);
    return;
  }
  uv_timer_init(&s->loop, l->stop);
  l->stop->data = s;
  uv_timer_start(l->stop, on_stop, 0, 0);
}

int lc_ws_finish(lc_server *s) {
  struct lc_ws_listener *l = s->wsl;
  if (!l) return 1;
  if (l->ctx) { /* never stopped (a failed start): begin now */
    struct lws_context *ctx = l->ctx;
    l->ctx = NULL;
    lws_context_destroy(ctx);
  }
  if (l->alive) lws_context_destroy(l->alive);
  if (l->alive) return 0;
  free(l);
  s->wsl = NULL;
  return 1;
}
