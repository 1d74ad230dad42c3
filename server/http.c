/* http.c - the daemon's HTTP endpoints (--http HOST:PORT), served by
 * libwebsockets inside the daemon's own libuv loop (a foreign loop; the
 * libuv event-library plugin, libwebsockets-evlib-uv):
 *   GET /healthz  200 "ok" while the loop runs (liveness);
 *   GET /readyz   200 "ready" while the daemon accepts work, 503 "stopping"
 *                 once a shutdown began (readiness);
 *   GET /metrics  the Prometheus text exposition (metrics.c).
 * Anything else is 404.  No authentication: bind it to a private address. */
#define _POSIX_C_SOURCE 200809L /* uv.h needs pthread_rwlock_t; strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "log.h"
#include "server_impl.h"

/* One HTTP transaction: the body to send. */
typedef struct http_pss {
  char *body;
  size_t len;
} http_pss;

/* Prepares the answer of path into pss; returns the HTTP status. */
static int answer(lc_server *s, const char *path, http_pss *pss, const char **type) {
  *type = "text/plain; charset=utf-8";
  const char *text = NULL;
  int status = HTTP_STATUS_OK;
  if (!strcmp(path, "/metrics")) {
    *type = "text/plain; version=0.0.4; charset=utf-8";
    if (lc_metrics_text(s, &pss->body, &pss->len) == 0) return status;
    text = "out of memory\n";
    status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
  } else if (!strcmp(path, "/healthz")) {
    text = "ok\n";
  } else if (!strcmp(path, "/readyz")) {
    text = s->stopping ? "stopping\n" : "ready\n";
    status = s->stopping ? HTTP_STATUS_SERVICE_UNAVAILABLE : HTTP_STATUS_OK;
  } else {
    text = "not found: /healthz, /readyz and /metrics are served\n";
    status = HTTP_STATUS_NOT_FOUND;
  }
  pss->body = strdup(text);
  pss->len = pss->body ? strlen(text) : 0;
  return status;
}

/* Sends the headers of an answer (the body follows when writable). */
static int send_headers(struct lws *wsi, int status, const char *type, size_t len) {
  uint8_t buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  if (lws_add_http_common_headers(wsi, (unsigned)status, type, (lws_filepos_t)len, &p, end)) return -1;
  if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
  lws_callback_on_writable(wsi);
  return 0;
}

/* Writes the whole body (bodies are small: a few KB of metrics). */
static int send_body(struct lws *wsi, http_pss *pss) {
  uint8_t *buf = malloc(LWS_PRE + pss->len + 1);
  if (!buf) return -1;
  memcpy(buf + LWS_PRE, pss->body, pss->len);
  const int n = lws_write(wsi, buf + LWS_PRE, pss->len, LWS_WRITE_HTTP_FINAL);
  free(buf);
  if (n != (int)pss->len) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  http_pss *pss = user;
  lc_server *s = lws_context_user(lws_get_context(wsi));
  switch (reason) {
    case LWS_CALLBACK_HTTP: {
      const char *type;
      free(pss->body);
      pss->body = NULL;
      const int status = answer(s, (const char *)in, pss, &type);
      if (!pss->body) return -1;
      return send_headers(wsi, status, type, pss->len);
    }
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return pss && pss->body ? send_body(wsi, pss) : 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
      if (pss) {
        free(pss->body);
        pss->body = NULL;
      }
      break;
    default:
      break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols lc_http_protocols[] = {
    {"http", http_cb, sizeof(http_pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

/* Routes lws's log lines to the daemon's log (errors and warnings only). */
static void lws_log(int level, const char *line) {
  lc_log(level == LLL_ERR ? LC_LOG_ERROR : LC_LOG_WARN, -1, -1, "http: %.*s", (int)strcspn(line, "\n"), line);
}

int lc_http_start(lc_server *s) {
  char host[256];
  const char *colon = strrchr(s->cfg.http, ':');
  const int port = colon ? atoi(colon + 1) : 0;
  if (!colon || port <= 0 || port > 65535 || (size_t)(colon - s->cfg.http) >= sizeof host) {
    lc_log(LC_LOG_ERROR, -1, -1, "--http %s: expected HOST:PORT", s->cfg.http);
    return -1;
  }
  memcpy(host, s->cfg.http, (size_t)(colon - s->cfg.http));
  host[colon - s->cfg.http] = '\0';
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
  void *loops[1] = {&s->loop};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = port;
  info.iface = host[0] ? host : NULL;
  info.protocols = lc_http_protocols;
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
  if (!strchr(host, ':')) /* an IPv4 address: without this, lws 4.1 listens on every interface */
    info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  info.foreign_loops = loops;
  info.user = s;
  info.pcontext = &s->http_alive; /* lws writes NULL there once its destruction completed */
  s->http = lws_create_context(&info);
  s->http_alive = s->http;
  if (!s->http) {
    lc_log(LC_LOG_ERROR, -1, -1, "cannot serve http on %s (address in use, or no libuv event plugin)",
           s->cfg.http);
    return -1;
  }
  lc_log(LC_LOG_INFO, -1, -1, "http on %s: /healthz /readyz /metrics", s->cfg.http);
  return 0;
}

void lc_http_stop(lc_server *s) {
  if (!s->http) return;
  lws_context_destroy(s->http); /* with a foreign loop, it finishes as its handles close */
  s->http = NULL;
}

/* After the loop ran out: with a foreign loop, lws 4.1 finishes a context's
 * destruction on a second lws_context_destroy once its handles closed;
 * returns 1 when it is gone (the caller runs the loop again if not). */
int lc_http_finish(lc_server *s) {
  if (s->http_alive) lws_context_destroy(s->http_alive);
  return s->http_alive == NULL;
}
