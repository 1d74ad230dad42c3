/* test_ws.c - integration test of the daemon's WebSocket transport (--ws):
 * starts the real binary (LOCAD_TEST_BIN or LOCAD_BIN) with --ws on an
 * ephemeral loopback port (and --http, --web-root), talks to ws://.../rpc
 * with a libwebsockets client (lws_client_connect_via_info), and checks
 * round trips, a solve with progress, pipelining past the in-flight cap
 * (reading paused and resumed), auth, refused frames (too large, text,
 * malformed, two objects in one message), a client vanishing mid-solve,
 * static files with path traversal refused, and a clean SIGTERM exit 0
 * (under ASan: no leak).  Every wait is bounded. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rpc_msgs.h"
#include "testutil.h"

#ifndef LOCAD_BIN
#define LOCAD_BIN "locad"
#endif

#define WAIT_S 20.0 /* bound of every wait */
#define TOKEN "0123456789abcdef-ws-token"

/* ---- the daemon --------------------------------------------------------- */

typedef struct daemon_proc {
  pid_t pid;
  int ws_port;
  char dir[64], log[96], root[96];
} daemon_t;

/* The daemon binary: LOCAD_TEST_BIN (e.g. the ASan build) or LOCAD_BIN. */
static const char *daemon_bin(void) {
  const char *b = getenv("LOCAD_TEST_BIN");
  return b && *b ? b : LOCAD_BIN;
}

static size_t read_file(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "r");
  size_t n = 0;
  if (f) {
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
  }
  buf[n] = '\0';
  return n;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

/* A TCP port free right now on 127.0.0.1 (for --http, which needs one). */
static int free_port(void) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
  close(fd);
  return ntohs(sa.sin_port);
}

/* Starts the daemon with --ws 127.0.0.1:0, a web root holding index.html
 * and app.mjs (a file "secret" beside it, outside), and extra flags (at
 * most 8); waits for its websocket and ready log lines. */
static void daemon_start(daemon_t *d, const char *const *extra) {
  static char logbuf[1 << 16];
  char path[160], http[32];
  memset(d, 0, sizeof *d);
  strcpy(d->dir, "/tmp/locad-ws-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(d->dir));
  snprintf(d->log, sizeof d->log, "%s/log", d->dir);
  snprintf(d->root, sizeof d->root, "%s/www", d->dir);
  ck_assert_int_eq(mkdir(d->root, 0700), 0);
  snprintf(path, sizeof path, "%s/index.html", d->root);
  write_file(path, "<!doctype html><title>locad-ws-index</title>\n");
  snprintf(path, sizeof path, "%s/app.mjs", d->root);
  write_file(path, "export const answer = 42;\n");
  snprintf(path, sizeof path, "%s/secret", d->dir);
  write_file(path, "TOP-SECRET-OUTSIDE-ROOT\n");
  snprintf(path, sizeof path, "%s/token", d->dir);
  write_file(path, TOKEN "\n");
  snprintf(http, sizeof http, "127.0.0.1:%d", free_port());
  d->pid = fork();
  ck_assert_int_ge(d->pid, 0);
  if (d->pid == 0) {
    const char *argv[32] = {"locad", "--listen", "127.0.0.1:0", "--ws", "127.0.0.1:0", "--http", http,
                            "--workers", "2", "--shutdown-timeout", "5", "--device", "cpu",
                            "--log-level", "debug"};
    int a = 15;
    for (int i = 0; extra && extra[i] && i < 12; i++) argv[a++] = extra[i];
    int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) dup2(fd, 2);
    execv(daemon_bin(), (char *const *)argv);
    _exit(127);
  }
  const char *key = "websocket on ws://127.0.0.1:";
  for (double t0 = now_s(); now_s() - t0 < 30.0 && !d->ws_port; sleep_ms(20)) {
    read_file(d->log, logbuf, sizeof logbuf);
    const char *p = strstr(logbuf, key);
    if (p && strstr(logbuf, " ready")) d->ws_port = atoi(p + strlen(key));
    int st;
    if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
      d->pid = 0;
      ck_abort_msg("locad exited at start-up:\n%s", logbuf);
    }
  }
  ck_assert_msg(d->ws_port > 0, "no websocket line in the log:\n%s", logbuf);
}

/* SIGTERM; checks exit 0 within a deadline (ASan reports leaks as non-zero). */
static void daemon_finish(daemon_t *d) {
  static char logbuf[1 << 16];
  int st = 0, code = -1;
  char cmd[128];
  kill(d->pid, SIGTERM);
  for (double t0 = now_s(); now_s() - t0 < 15.0; sleep_ms(10))
    if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
      code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
  if (code < 0) {
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &st, 0);
  }
  read_file(d->log, logbuf, sizeof logbuf);
  ck_assert_msg(code == 0, "locad exit code %d; log:\n%s", code, logbuf);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->dir);
  ck_assert_int_eq(system(cmd), 0);
}

/* ---- a WebSocket client on libwebsockets ----------------------------------- */

typedef struct wmsg {
  struct wmsg *next;
  char *data;
  size_t len;
  int text;
} wmsg;

typedef struct wsc {
  struct lws_context *ctx;
  struct lws *wsi;
  int connected, failed, closed, close_code;
  wmsg *in_head, *in_tail;   /* complete received messages */
  char *rx;                  /* the message being received */
  size_t rx_len;
  wmsg *out_head, *out_tail; /* messages to send */
  char *last;                /* the bytes the last decoded message refers to */
  int notifications;
} wsc_t;

static void push(wmsg **head, wmsg **tail, char *data, size_t len, int text) {
  wmsg *m = calloc(1, sizeof *m);
  ck_assert_ptr_nonnull(m);
  *m = (wmsg){NULL, data, len, text};
  if (*tail) (*tail)->next = m;
  else *head = m;
  *tail = m;
}

/* Sends the next queued message whole (lws buffers what the socket refuses). */
static int client_write(wsc_t *w, struct lws *wsi) {
  wmsg *m = w->out_head;
  if (!m) return 0;
  w->out_head = m->next;
  if (!w->out_head) w->out_tail = NULL;
  unsigned char *buf = malloc(LWS_PRE + m->len + 1);
  ck_assert_ptr_nonnull(buf);
  memcpy(buf + LWS_PRE, m->data, m->len);
  int n = lws_write(wsi, buf + LWS_PRE, m->len, m->text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
  free(buf);
  free(m->data);
  free(m);
  if (n < 0) return -1;
  if (w->out_head) lws_callback_on_writable(wsi);
  return 0;
}

/* Appends a received piece; a final piece completes the message. */
static void client_receive(wsc_t *w, struct lws *wsi, const void *in, size_t len) {
  w->rx = realloc(w->rx, w->rx_len + len + 1);
  ck_assert_ptr_nonnull(w->rx);
  memcpy(w->rx + w->rx_len, in, len);
  w->rx_len += len;
  if (!lws_is_final_fragment(wsi)) return;
  push(&w->in_head, &w->in_tail, w->rx, w->rx_len, !lws_frame_is_binary(wsi));
  w->rx = NULL;
  w->rx_len = 0;
}

static int client_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  wsc_t *w = user;
  switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      w->connected = 1;
      if (w->out_head) lws_callback_on_writable(wsi);
      break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      if (w) w->failed = 1;
      break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      client_receive(w, wsi, in, len);
      break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return client_write(w, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (len >= 2) w->close_code = ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1];
      break;
    case LWS_CALLBACK_CLIENT_CLOSED:
      w->closed = 1;
      w->wsi = NULL;
      break;
    default:
      break;
  }
  return 0;
}

static const struct lws_protocols client_protocols[] = {
    {"locad-rpc", client_cb, 0, 65536, 0, NULL, 0}, {NULL, NULL, 0, 0, 0, NULL, 0}};

/* The Origin the test client sends ("127.0.0.1": this daemon's own page,
 * as lws writes it, http://127.0.0.1 with Host 127.0.0.1). */
static const char *client_origin = "127.0.0.1";

/* Connects to ws://127.0.0.1:port + path, offering subprotocol (or none);
 * returns 1 when established, 0 when refused (bounded wait). */
static int wsc_open(wsc_t *w, int port, const char *path, const char *subprotocol) {
  struct lws_context_creation_info info;
  struct lws_client_connect_info ci;
  memset(w, 0, sizeof *w);
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = client_protocols;
  lws_set_log_level(LLL_ERR, NULL);
  w->ctx = lws_create_context(&info);
  ck_assert_ptr_nonnull(w->ctx);
  memset(&ci, 0, sizeof ci);
  ci.context = w->ctx;
  ci.address = "127.0.0.1";
  ci.port = port;
  ci.path = path;
  ci.host = "127.0.0.1";
  ci.origin = client_origin;
  ci.protocol = subprotocol;
  ci.local_protocol_name = "locad-rpc";
  ci.userdata = w;
  ci.pwsi = &w->wsi;
  if (!lws_client_connect_via_info(&ci)) return 0;
  for (double t0 = now_s(); now_s() - t0 < WAIT_S && !w->connected && !w->failed && !w->closed;)
    lws_service(w->ctx, 50);
  return w->connected && !w->closed;
}

/* Queues one message (copied). */
static void wsc_send(wsc_t *w, const void *data, size_t len, int text) {
  char *copy = malloc(len ? len : 1);
  ck_assert_ptr_nonnull(copy);
  memcpy(copy, data, len);
  push(&w->out_head, &w->out_tail, copy, len, text);
  if (w->wsi) lws_callback_on_writable(w->wsi);
}

/* Next received message decoded into out; 1, or 0 when the connection
 * closed first or nothing came within WAIT_S. */
static int wsc_next(wsc_t *w, msgpack_unpacked *out) {
  for (double t0 = now_s(); !w->in_head && !w->closed && now_s() - t0 < WAIT_S;) lws_service(w->ctx, 20);
  wmsg *m = w->in_head;
  if (!m) return 0;
  w->in_head = m->next;
  if (!w->in_head) w->in_tail = NULL;
  ck_assert_msg(!m->text, "the daemon sent a text message");
  size_t off = 0;
  ck_assert_int_eq(msgpack_unpack_next(out, m->data, m->len, &off), MSGPACK_UNPACK_SUCCESS);
  ck_assert_msg(off == m->len, "a WebSocket message holds more than one MessagePack object");
  free(w->last); /* out's strings and bins point into the message */
  w->last = m->data;
  free(m);
  return 1;
}

/* Next response (notifications counted and skipped). */
static int wsc_response(wsc_t *w, msgpack_unpacked *out) {
  while (wsc_next(w, out)) {
    const msgpack_object *o = &out->data;
    ck_assert_int_eq(o->type, MSGPACK_OBJECT_ARRAY);
    if (o->via.array.size == 3 && o->via.array.ptr[0].via.u64 == 2) {
      w->notifications++;
      continue;
    }
    ck_assert_int_eq(o->via.array.size, 4);
    return 1;
  }
  return 0;
}

/* Waits (bounded) until the daemon closed the connection. */
static int wsc_wait_closed(wsc_t *w) {
  for (double t0 = now_s(); !w->closed && now_s() - t0 < WAIT_S;) lws_service(w->ctx, 20);
  return w->closed;
}

/* Drops the connection (without waiting for anything) and frees w. */
static void wsc_free(wsc_t *w) {
  lws_context_destroy(w->ctx);
  for (wmsg *m = w->in_head, *n; m; m = n) n = m->next, free(m->data), free(m);
  for (wmsg *m = w->out_head, *n; m; m = n) n = m->next, free(m->data), free(m);
  free(w->rx);
  free(w->last);
}

/* ---- requests --------------------------------------------------------------- */

static void req_send(wsc_t *w, req_t *r) {
  wsc_send(w, r->sb.data, r->sb.size, 0);
  msgpack_sbuffer_destroy(&r->sb);
}

/* Sends r and waits for its response: the error code (0: success), the
 * error message into msg (when given), *res at the result. */
static int call(wsc_t *w, req_t *r, uint32_t msgid, msgpack_unpacked *out, const msgpack_object **res) {
  req_send(w, r);
  ck_assert_msg(wsc_response(w, out), "no response to msgid %u", msgid);
  const msgpack_object *a = out->data.via.array.ptr;
  ck_assert_int_eq(a[0].via.u64, 1);
  ck_assert_int_eq(a[1].via.u64, msgid);
  *res = &a[3];
  if (a[2].type == MSGPACK_OBJECT_NIL) return 0;
  return (int)a[2].via.array.ptr[0].via.i64;
}

/* Calls method with params {} (or {token} for auth); returns the error code. */
static int call_simple(wsc_t *w, uint32_t msgid, const char *method, const char *token) {
  req_t r;
  msgpack_unpacked out;
  const msgpack_object *res;
  msgpack_unpacked_init(&out);
  msgpack_packer *pk = req_begin(&r, msgid, method);
  msgpack_pack_map(pk, token ? 1 : 0);
  if (token) kv_s(pk, "token", token);
  int code = call(w, &r, msgid, &out, &res);
  msgpack_unpacked_destroy(&out);
  return code;
}

/* A counter of server.stats. */
static int64_t stat_of(wsc_t *w, const char *key) {
  req_t r;
  msgpack_unpacked out;
  const msgpack_object *res;
  msgpack_unpacked_init(&out);
  msgpack_pack_map(req_begin(&r, 900, "server.stats"), 0);
  ck_assert_int_eq(call(w, &r, 900, &out, &res), 0);
  int64_t v = get_int(res, key);
  msgpack_unpacked_destroy(&out);
  return v;
}

/* mesh.create + problem.create (variable x) + spring and Dirichlet terms; the problem id. */
static int64_t make_problem(wsc_t *w, int n, uint32_t *id) {
  req_t r;
  msgpack_unpacked out;
  const msgpack_object *res;
  msgpack_unpacked_init(&out);
  msgpack_packer *pk = req_begin(&r, ++*id, "mesh.create");
  msgpack_pack_map(pk, 2);
  pack_grid(pk, n);
  ck_assert_int_eq(call(w, &r, *id, &out, &res), 0);
  const int64_t mesh = get_int(res, "mesh");
  pk = req_begin(&r, ++*id, "problem.create");
  msgpack_pack_map(pk, 2);
  kv_i(pk, "mesh", mesh);
  pack_str(pk, "variables");
  msgpack_pack_array(pk, 1);
  msgpack_pack_map(pk, 2);
  kv_s(pk, "name", "x");
  kv_i(pk, "dim", 3);
  ck_assert_int_eq(call(w, &r, *id, &out, &res), 0);
  const int64_t prob = get_int(res, "problem");
  ck_assert_int_eq(get_int(res, "n_dofs"), 3 * n * n);
  static const char *const energies[] = {"spring", "dirichlet"}; /* the bumps make it move */
  for (int e = 0; e < 2; e++) {
    pk = req_begin(&r, ++*id, "problem.add_term");
    msgpack_pack_map(pk, 4);
    kv_i(pk, "problem", prob);
    kv_s(pk, "energy", energies[e]);
    kv_i(pk, "var", 0);
    pack_str(pk, "weight");
    msgpack_pack_double(pk, e ? 0.01 : 1.0);
    ck_assert_int_eq(call(w, &r, *id, &out, &res), 0);
  }
  msgpack_unpacked_destroy(&out);
  return prob;
}

/* Packs problem.solve {problem, method, options: {max_iters, progress_every,
 * and zero tolerances when endless}, return: ["x"]}. */
static void req_solve(req_t *r, uint32_t msgid, int64_t prob, const char *method, int64_t iters, int endless) {
  msgpack_packer *pk = req_begin(r, msgid, "problem.solve");
  msgpack_pack_map(pk, 4);
  kv_i(pk, "problem", prob);
  kv_s(pk, "method", method);
  pack_str(pk, "options");
  msgpack_pack_map(pk, endless ? 5 : 2);
  kv_i(pk, "max_iters", iters);
  kv_i(pk, "progress_every", 1);
  if (endless) {
    static const char *const tol[] = {"gtol", "ftol", "dtol"};
    for (int i = 0; i < 3; i++) {
      pack_str(pk, tol[i]);
      msgpack_pack_double(pk, 0.0);
    }
  }
  pack_str(pk, "return");
  msgpack_pack_array(pk, 1);
  pack_str(pk, "x");
}

/* Sends raw bytes as one message (binary or text) and expects an error
 * response of code want (msgid want_id), then the daemon's close. */
static void expect_refused(int port, const void *bytes, size_t len, int text, int want, uint32_t want_id) {
  wsc_t w;
  msgpack_unpacked out;
  msgpack_unpacked_init(&out);
  ck_assert(wsc_open(&w, port, "/rpc", "locad-rpc"));
  wsc_send(&w, bytes, len, text);
  ck_assert_msg(wsc_response(&w, &out), "no error response");
  const msgpack_object *a = out.data.via.array.ptr;
  ck_assert_int_eq(a[1].via.u64, want_id);
  ck_assert_int_eq(a[2].type, MSGPACK_OBJECT_ARRAY);
  ck_assert_int_eq(a[2].via.array.ptr[0].via.i64, want);
  ck_assert_msg(wsc_wait_closed(&w), "the daemon kept a connection after a protocol error");
  msgpack_unpacked_destroy(&out);
  wsc_free(&w);
}

/* ---- HTTP (static files) ---------------------------------------------------------- */

/* GET path (sent as is) from 127.0.0.1:port; the whole answer into buf;
 * returns the status code (0 when none). */
static int http_get(int port, const char *path, char *buf, size_t cap) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct timeval tv = {(time_t)WAIT_S, 0};
  char rq[512];
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  size_t n = 0;
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int k = snprintf(rq, sizeof rq, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
  ck_assert_int_eq(send(fd, rq, (size_t)k, MSG_NOSIGNAL), k);
  for (ssize_t got; n + 1 < cap && (got = recv(fd, buf + n, cap - 1 - n, 0)) > 0;) n += (size_t)got;
  close(fd);
  buf[n] = '\0';
  return strncmp(buf, "HTTP/1.", 7) == 0 ? atoi(buf + 9) : 0;
}

/* ---- tests ----------------------------------------------------------------------- */

/* server.info, a solve returning x with progress, problem.get_variable;
 * with and without the subprotocol. */
START_TEST(test_round_trip) {
  daemon_t d;
  wsc_t w;
  req_t r;
  msgpack_unpacked out;
  const msgpack_object *res;
  uint32_t id = 0;
  daemon_start(&d, NULL);
  msgpack_unpacked_init(&out);
  ck_assert(wsc_open(&w, d.ws_port, "/rpc", _i ? NULL : "locad-rpc"));
  msgpack_pack_map(req_begin(&r, ++id, "server.info"), 0);
  ck_assert_int_eq(call(&w, &r, id, &out, &res), 0);
  ck_assert_int_eq(get_int(res, "protocol"), 1);
  const int n = 8;
  const int64_t prob = make_problem(&w, n, &id);
  req_solve(&r, ++id, prob, "lbfgs", 30, 0);
  ck_assert_int_eq(call(&w, &r, id, &out, &res), 0);
  ck_assert_int_ge(w.notifications, 1); /* problem.progress, one message each */
  const msgpack_object *vars = get(res, "variables");
  ck_assert_msg(vars && vars->type == MSGPACK_OBJECT_MAP && vars->via.map.size == 1, "no variables returned");
  const msgpack_object *x = &vars->via.map.ptr[0].val;
  ck_assert_int_eq(get(x, "shape")->via.array.ptr[0].via.i64, n * n);
  ck_assert_int_eq(get(x, "data")->via.bin.size, (uint32_t)(n * n * 3 * 8));
  ck_assert_int_eq(call_simple(&w, ++id, "no.such.method", NULL), 2); /* an error keeps the connection */
  ck_assert_int_eq(call_simple(&w, ++id, "server.health", NULL), 0);
  ck_assert_int_ge(stat_of(&w, "responses_sent"), 5);
  msgpack_unpacked_destroy(&out);
  wsc_free(&w);
  daemon_finish(&d);
}
END_TEST

/* 24 engine requests sent at once with --max-inflight 2: reading pauses and
 * resumes; every request is answered, in order for one problem. */
START_TEST(test_pipelined_past_inflight_cap) {
  static const char *const extra[] = {"--max-inflight", "2", NULL};
  daemon_t d;
  wsc_t w;
  req_t r;
  msgpack_unpacked out;
  uint32_t id = 0;
  daemon_start(&d, extra);
  msgpack_unpacked_init(&out);
  ck_assert(wsc_open(&w, d.ws_port, "/rpc", "locad-rpc"));
  const int64_t prob = make_problem(&w, 5, &id);
  for (int i = 0; i < 24; i++) {
    msgpack_packer *pk = req_begin(&r, 100 + (uint32_t)i, "problem.info");
    msgpack_pack_map(pk, 1);
    kv_i(pk, "problem", prob);
    req_send(&w, &r);
  }
  for (int i = 0; i < 24; i++) {
    ck_assert_msg(wsc_response(&w, &out), "response %d missing", i);
    ck_assert_int_eq(out.data.via.array.ptr[1].via.u64, 100 + (uint64_t)i);
    ck_assert_int_eq(out.data.via.array.ptr[2].type, MSGPACK_OBJECT_NIL);
  }
  msgpack_unpacked_destroy(&out);
  wsc_free(&w);
  daemon_finish(&d);
}
END_TEST

/* With a token: a first request other than auth closes; a wrong token
 * closes; the right one opens every method; an unauthenticated message
 * over --max-frame-unauth is refused. */
START_TEST(test_auth) {
  daemon_t da;
  wsc_t w;
  static const char *const extra[] = {"--max-frame-unauth", "4K", NULL};
  setenv("LOCAD_TOKEN", TOKEN, 1); /* the daemon inherits it */
  daemon_start(&da, extra);
  unsetenv("LOCAD_TOKEN");
  ck_assert(wsc_open(&w, da.ws_port, "/rpc", "locad-rpc"));
  ck_assert_int_eq(call_simple(&w, 1, "server.info", NULL), 9);
  ck_assert(wsc_wait_closed(&w));
  wsc_free(&w);
  ck_assert(wsc_open(&w, da.ws_port, "/rpc", "locad-rpc"));
  ck_assert_int_eq(call_simple(&w, 1, "auth", "not-the-token-at-all"), 9);
  ck_assert(wsc_wait_closed(&w));
  wsc_free(&w);
  ck_assert(wsc_open(&w, da.ws_port, "/rpc", NULL));
  ck_assert_int_eq(call_simple(&w, 1, "auth", TOKEN), 0);
  ck_assert_int_eq(call_simple(&w, 2, "server.info", NULL), 0);
  ck_assert_int_ge(stat_of(&w, "auth_failures"), 2);
  wsc_free(&w);
  char big[8192];
  memset(big, 0, sizeof big);
  big[0] = (char)0x94, big[1] = 0, big[2] = 7, big[3] = (char)0xc5, big[4] = 0x1f, big[5] = (char)0xf0;
  expect_refused(da.ws_port, big, sizeof big, 0, 6, 7); /* 8 KB before auth: NOMEM */
  daemon_finish(&da);
}
END_TEST

/* Frames the daemon refuses, each answered with an error and a close: over
 * --max-frame, text, malformed MessagePack, two objects in one message, a
 * message cut inside its object; the daemon keeps serving. */
START_TEST(test_refused_frames) {
  static const char *const extra[] = {"--max-frame", "64K", NULL};
  daemon_t d;
  wsc_t w;
  daemon_start(&d, extra);
  const size_t big_n = 200000;
  char *big = calloc(1, big_n);
  ck_assert_ptr_nonnull(big);
  big[0] = (char)0x94, big[1] = 0, big[2] = 5, big[3] = (char)0xc6;
  big[4] = 0, big[5] = 3, big[6] = 0x0d, big[7] = 0x38; /* bin32 of 199992 bytes */
  expect_refused(d.ws_port, big, big_n, 0, 6, 5);
  free(big);
  expect_refused(d.ws_port, "[0, 1, \"server.info\", {}]", 25, 1, 1, 0);
  static const unsigned char bad[] = {0x94, 0x00, 0x03, 0xc1, 0x80};
  expect_refused(d.ws_port, bad, sizeof bad, 0, 1, 3);
  static const unsigned char two[] = {0x94, 0x00, 0x04, 0xad, 's', 'e', 'r', 'v', 'e', 'r', '.', 'h', 'e', 'a', 'l',
                                      't', 'h', 0x80, 0x94, 0x00, 0x05, 0xad, 's', 'e', 'r', 'v', 'e', 'r', '.',
                                      'h', 'e', 'a', 'l', 't', 'h', 0x80};
  expect_refused(d.ws_port, two, sizeof two, 0, 1, 4);
  expect_refused(d.ws_port, two, 10, 0, 1, 4); /* cut inside the method name */
  ck_assert(wsc_open(&w, d.ws_port, "/rpc", "locad-rpc"));
  ck_assert_int_eq(call_simple(&w, 1, "server.health", NULL), 0);
  ck_assert_int_ge(stat_of(&w, "protocol_errors"), 5);
  wsc_free(&w);
  ck_assert(!wsc_open(&w, d.ws_port, "/elsewhere", "locad-rpc")); /* only /rpc upgrades */
  wsc_free(&w);
  daemon_finish(&d);
}
END_TEST

/* A client vanishes with an endless solve running: the solve is cancelled,
 * the daemon keeps serving, nothing stays in flight. */
START_TEST(test_vanish_mid_solve) {
  daemon_t d;
  wsc_t w, w2;
  req_t r;
  msgpack_unpacked out;
  uint32_t id = 0;
  daemon_start(&d, NULL);
  msgpack_unpacked_init(&out);
  ck_assert(wsc_open(&w, d.ws_port, "/rpc", "locad-rpc"));
  const int64_t prob = make_problem(&w, 20, &id);
  req_solve(&r, ++id, prob, "gd", 1000000000, 1);
  req_send(&w, &r);
  ck_assert_msg(wsc_next(&w, &out), "no progress from the solve");
  ck_assert_int_eq(out.data.via.array.ptr[0].via.u64, 2);
  wsc_free(&w); /* gone, without a word */
  ck_assert(wsc_open(&w2, d.ws_port, "/rpc", "locad-rpc"));
  int64_t inflight = -1;
  for (double t0 = now_s(); now_s() - t0 < WAIT_S && inflight != 0; sleep_ms(50))
    inflight = stat_of(&w2, "in_flight");
  ck_assert_int_eq(inflight, 0);
  ck_assert_int_ge(stat_of(&w2, "cancelled"), 1);
  ck_assert_int_eq(call_simple(&w2, 7, "server.health", NULL), 0);
  msgpack_unpacked_destroy(&out);
  wsc_free(&w2);
  daemon_finish(&d);
}
END_TEST

/* --web-root: files with their MIME types, index.html for /, 404 for a
 * missing file, nothing outside the root; without it, 404 with a reason. */
START_TEST(test_static_files) {
  static char buf[1 << 16];
  char extra_root[128];
  daemon_t d, plain;
  daemon_start(&plain, NULL);
  snprintf(extra_root, sizeof extra_root, "%s/www", plain.dir); /* plain's root: files exist there */
  const char *extra[] = {"--web-root", extra_root, NULL};
  daemon_start(&d, extra);
  ck_assert_int_eq(http_get(d.ws_port, "/", buf, sizeof buf), 200);
  ck_assert_ptr_nonnull(strstr(buf, "locad-ws-index"));
  ck_assert_ptr_nonnull(strcasestr(buf, "content-type: text/html"));
  ck_assert_int_eq(http_get(d.ws_port, "/app.mjs", buf, sizeof buf), 200);
  ck_assert_ptr_nonnull(strcasestr(buf, "content-type: text/javascript"));
  ck_assert_ptr_nonnull(strstr(buf, "answer = 42"));
  ck_assert_int_eq(http_get(d.ws_port, "/missing.js", buf, sizeof buf), 404);
  static const char *const escapes[] = {"/../secret", "/www/../../secret", "/%2e%2e/secret", "/..%2fsecret",
                                        "/./../secret"};
  for (int i = 0; i < 5; i++) {
    const int code = http_get(d.ws_port, escapes[i], buf, sizeof buf);
    ck_assert_msg(code >= 400 && !strstr(buf, "TOP-SECRET"), "%s answered %d:\n%s", escapes[i], code, buf);
  }
  ck_assert_int_eq(http_get(plain.ws_port, "/index.html", buf, sizeof buf), 404);
  ck_assert_ptr_nonnull(strstr(buf, "only the WebSocket endpoint /rpc"));
  daemon_finish(&d);
  daemon_finish(&plain);
}
END_TEST

/* A browser page of another site (Origin evil.example) is refused unless
 * --ws-origin lists it; the daemon's own page is always let in. */
START_TEST(test_origin) {
  daemon_t d, open_to;
  wsc_t w;
  const char *extra[] = {"--ws-origin", "http://other.example,http://evil.example", NULL};
  daemon_start(&d, NULL);
  daemon_start(&open_to, extra);
  client_origin = "evil.example";
  ck_assert(!wsc_open(&w, d.ws_port, "/rpc", "locad-rpc"));
  wsc_free(&w);
  ck_assert(wsc_open(&w, open_to.ws_port, "/rpc", "locad-rpc"));
  ck_assert_int_eq(call_simple(&w, 1, "server.health", NULL), 0);
  wsc_free(&w);
  client_origin = "127.0.0.1";
  ck_assert(wsc_open(&w, d.ws_port, "/rpc", "locad-rpc"));
  ck_assert_int_eq(call_simple(&w, 1, "server.health", NULL), 0);
  wsc_free(&w);
  daemon_finish(&d);
  daemon_finish(&open_to);
}
END_TEST

static Suite *ws_suite(void) {
  Suite *s = suite_create("ws");
  TCase *tc = tcase_create("ws");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_round_trip, 0, 2);
  tcase_add_test(tc, test_pipelined_past_inflight_cap);
  tcase_add_test(tc, test_auth);
  tcase_add_test(tc, test_refused_frames);
  tcase_add_test(tc, test_vanish_mid_solve);
  tcase_add_test(tc, test_static_files);
  tcase_add_test(tc, test_origin);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(ws_suite()); }
