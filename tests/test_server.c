/* test_server.c - integration test of the locad daemon: starts the real
 * binary (LOCAD_BIN) on an ephemeral loopback port and a Unix socket in a
 * temporary directory, runs whole sessions over both, disconnects a client
 * in the middle of a long solve, sends malformed bytes, checks that an
 * unusable --device stops the start-up, and that SIGTERM gives a clean exit
 * 0 within a deadline.  Every wait is bounded. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "rpc_msgs.h"
#include "testutil.h"

#ifndef LOCAD_BIN
#define LOCAD_BIN "locad"
#endif

#define IO_TIMEOUT_S 20

typedef struct daemon_proc {
  pid_t pid;
  int port;
  char dir[64], log[96], sock[96];
} daemon_t;

typedef struct client {
  int fd;
  msgpack_unpacker up;
  int notifications;
} client_t;

/* The daemon binary: LOCAD_TEST_BIN (e.g. a valgrind wrapper script) or LOCAD_BIN. */
static const char *daemon_bin(void) {
  const char *b = getenv("LOCAD_TEST_BIN");
  return b && *b ? b : LOCAD_BIN;
}

/* Reads the daemon log into buf (NUL-terminated); returns its length. */
static size_t read_log(const daemon_t *d, char *buf, size_t cap) {
  FILE *f = fopen(d->log, "r");
  size_t n = 0;
  if (f) {
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
  }
  buf[n] = '\0';
  return n;
}

/* Starts the daemon with extra arguments (NULL-terminated, at most 8) and
 * waits (bounded) for its "listening" and "ready" log lines. */
static void daemon_start_args(daemon_t *d, const char *const *extra) {
  static char logbuf[1 << 16];
  memset(d, 0, sizeof *d);
  strcpy(d->dir, "/tmp/locad-test-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(d->dir));
  snprintf(d->log, sizeof d->log, "%s/log", d->dir);
  snprintf(d->sock, sizeof d->sock, "%s/sock", d->dir);
  d->pid = fork();
  ck_assert_int_ge(d->pid, 0);
  if (d->pid == 0) {
    const char *argv[24] = {"locad", "--listen", "127.0.0.1:0", "--unix", d->sock,
                            "--workers", "2", "--shutdown-timeout", "5", "--log-level", "debug"};
    int a = 11;
    for (int i = 0; extra && extra[i] && i < 8; i++) argv[a++] = extra[i];
    int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) dup2(fd, 2);
    execv(daemon_bin(), (char *const *)argv);
    _exit(127);
  }
  double t0 = now_s();
  while (now_s() - t0 < 30.0) {
    read_log(d, logbuf, sizeof logbuf);
    const char *p = strstr(logbuf, "listening on tcp 127.0.0.1:");
    if (p && strstr(logbuf, " ready")) {
      d->port = atoi(p + strlen("listening on tcp 127.0.0.1:"));
      break;
    }
    int st;
    if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
      d->pid = 0;
      ck_abort_msg("locad exited at start-up:\n%s", logbuf);
    }
    sleep_ms(20);
  }
  ck_assert_msg(d->port > 0, "no listening line in the log:\n%s", logbuf);
}

static void daemon_start(daemon_t *d) { daemon_start_args(d, NULL); }

/* Sends sig and waits up to timeout_s; returns the exit status or -1 (then kills). */
static int daemon_stop_sig(daemon_t *d, int sig, double timeout_s) {
  int st = 0, code = -1;
  if (d->pid <= 0) return -1;
  kill(d->pid, sig);
  double t0 = now_s();
  while (now_s() - t0 < timeout_s) {
    if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
      code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    sleep_ms(10);
  }
  if (code < 0) {
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &st, 0);
  }
  d->pid = 0;
  return code;
}

/* Stops the daemon with SIGTERM, checks exit 0, removes the temp dir. */
static void daemon_finish(daemon_t *d) {
  static char logbuf[1 << 16];
  int code = daemon_stop_sig(d, SIGTERM, 15.0);
  read_log(d, logbuf, sizeof logbuf);
  ck_assert_msg(code == 0, "locad exit code %d; log:\n%s", code, logbuf);
  unlink(d->log);
  unlink(d->sock);
  rmdir(d->dir);
}

static void client_init(client_t *c, int fd) {
  struct timeval tv = {IO_TIMEOUT_S, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  c->fd = fd;
  c->notifications = 0;
  ck_assert(msgpack_unpacker_init(&c->up, 1 << 16));
}

static void client_tcp(client_t *c, const daemon_t *d) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)d->port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  client_init(c, fd);
}

static void client_unix(client_t *c, const daemon_t *d) {
  struct sockaddr_un sa;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strncpy(sa.sun_path, d->sock, sizeof sa.sun_path - 1);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  client_init(c, fd);
}

static void client_close(client_t *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  msgpack_unpacker_destroy(&c->up);
}

static void send_all(client_t *c, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    ck_assert_msg(n > 0, "send failed: %s", strerror(errno));
    p += n;
    len -= (size_t)n;
  }
}

/* Next message from the daemon into out; 1 on success, 0 on EOF/timeout. */
static int next_msg(client_t *c, msgpack_unpacked *out) {
  for (int i = 0; i < 100000; i++) {
    msgpack_unpack_return r = msgpack_unpacker_next(&c->up, out);
    if (r == MSGPACK_UNPACK_SUCCESS) return 1;
    ck_assert_int_ne(r, MSGPACK_UNPACK_PARSE_ERROR);
    ck_assert(msgpack_unpacker_reserve_buffer(&c->up, 1 << 16));
    ssize_t n = recv(c->fd, msgpack_unpacker_buffer(&c->up), msgpack_unpacker_buffer_capacity(&c->up), 0);
    if (n <= 0) return 0;
    msgpack_unpacker_buffer_consumed(&c->up, (size_t)n);
  }
  return 0;
}

/* Next response [1, msgid, error, result] (notifications counted and skipped). */
static int next_response(client_t *c, msgpack_unpacked *out) {
  while (next_msg(c, out)) {
    const msgpack_object *o = &out->data;
    ck_assert_int_eq(o->type, MSGPACK_OBJECT_ARRAY);
    if (o->via.array.size == 3 && o->via.array.ptr[0].via.u64 == 2) {
      c->notifications++;
      continue;
    }
    ck_assert_int_eq(o->via.array.size, 4);
    ck_assert_int_eq(o->via.array.ptr[0].via.u64, 1);
    return 1;
  }
  return 0;
}

static void req_send(client_t *c, req_t *r) {
  send_all(c, r->sb.data, r->sb.size);
  msgpack_sbuffer_destroy(&r->sb);
}

/* Sends a finished request and waits for its response; returns the error
 * code (0: success) and points *res at the result (owned by out). */
static int call(client_t *c, req_t *r, uint32_t msgid, msgpack_unpacked *out,
                const msgpack_object **res) {
  req_send(c, r);
  ck_assert_msg(next_response(c, out), "no response to msgid %u", msgid);
  const msgpack_object *a = out->data.via.array.ptr;
  ck_assert_int_eq(a[1].via.u64, msgid);
  *res = &a[3];
  if (a[2].type == MSGPACK_OBJECT_NIL) return 0;
  ck_assert_int_eq(a[2].type, MSGPACK_OBJECT_ARRAY);
  ck_assert_int_ge(a[2].via.array.size, 2);
  return (int)a[2].via.array.ptr[0].via.i64;
}

/* Calls a method with empty params ({}); returns the error code. */
static int call_simple(client_t *c, uint32_t msgid, const char *method) {
  req_t r;
  msgpack_unpacked out;
  const msgpack_object *res;
  msgpack_unpacked_init(&out);
  msgpack_pack_map(req_begin(&r, msgid, method), 0);
  int code = call(c, &r, msgid, &out, &res);
  msgpack_unpacked_destroy(&out);
  return code;
}

/* A counter from server.stats. */
static int64_t stat_of(client_t *c, const char *key) {
  req_t r;
  msgpack_unpacked out;
  const msgpack_object *res;
  msgpack_unpacked_init(&out);
  msgpack_pack_map(req_begin(&r, 900, "server.stats"), 0);
  ck_assert_int_eq(call(c, &r, 900, &out, &res), 0);
  int64_t v = get_int(res, key);
  msgpack_unpacked_destroy(&out);
  return v;
}

/* Creates a grid mesh and a problem with springs and Dirichlet smoothing on
 * a vertex variable "x"; returns the problem id. */
static int64_t make_problem(client_t *c, int n, uint32_t *msgid) {
  req_t r;
  msgpack_unpacked out;
  const msgpack_object *res;
  msgpack_packer *pk;
  msgpack_unpacked_init(&out);
  pk = req_begin(&r, ++*msgid, "mesh.create");
  msgpack_pack_map(pk, 2);
  pack_grid(pk, n);
  ck_assert_int_eq(call(c, &r, *msgid, &out, &res), 0);
  int64_t mesh = get_int(res, "mesh");
  ck_assert_int_eq(get_int(res, "nv"), n * n);

  pk = req_begin(&r, ++*msgid, "problem.create");
  msgpack_pack_map(pk, 2);
  kv_i(pk, "mesh", mesh);
  pack_str(pk, "variables");
  msgpack_pack_array(pk, 1);
  msgpack_pack_map(pk, 2);
  kv_s(pk, "name", "x");
  kv_i(pk, "dim", 3);
  ck_assert_int_eq(call(c, &r, *msgid, &out, &res), 0);
  int64_t prob = get_int(res, "problem");
  ck_assert_int_eq(get_int(res, "n_dofs"), 3 * n * n);
  ck_assert_int_eq(get(res, "device")->type, MSGPACK_OBJECT_STR); /* where it lives */

  static const char *const energies[] = {"spring", "dirichlet"};
  for (int e = 0; e < 2; e++) {
    pk = req_begin(&r, ++*msgid, "problem.add_term");
    msgpack_pack_map(pk, 4);
    kv_i(pk, "problem", prob);
    kv_s(pk, "energy", energies[e]);
    kv_i(pk, "var", 0);
    pack_str(pk, "weight");
    msgpack_pack_double(pk, e ? 0.01 : 1.0);
    ck_assert_msg(call(c, &r, *msgid, &out, &res) == 0, "add_term %s failed", energies[e]);
  }
  msgpack_unpacked_destroy(&out);
  return prob;
}

/* Sends (without waiting) a solve that runs until cancelled. */
static void send_long_solve(client_t *c, uint32_t msgid, int64_t prob) {
  req_t r;
  msgpack_packer *pk = req_begin(&r, msgid, "problem.solve");
  msgpack_pack_map(pk, 3);
  kv_i(pk, "problem", prob);
  kv_s(pk, "method", "gd");
  pack_str(pk, "options");
  msgpack_pack_map(pk, 5);
  kv_i(pk, "max_iters", 1000000000);
  pack_str(pk, "gtol");
  msgpack_pack_double(pk, 0.0);
  pack_str(pk, "ftol");
  msgpack_pack_double(pk, 0.0);
  pack_str(pk, "dtol");
  msgpack_pack_double(pk, 0.0);
  kv_i(pk, "progress_every", 5);
  req_send(c, &r);
}

/* Waits (bounded) for the first progress notification of a running solve. */
static void wait_progress(client_t *c) {
  msgpack_unpacked out;
  msgpack_unpacked_init(&out);
  ck_assert_msg(next_msg(c, &out), "no progress notification from the solve");
  ck_assert_int_eq(out.data.via.array.size, 3);
  ck_assert_int_eq(out.data.via.array.ptr[0].via.u64, 2);
  c->notifications++;
  msgpack_unpacked_destroy(&out);
}

/* A whole session: info, mesh, problem, terms, solve, get_variable. */
/* Packs problem.solve {problem, method: lbfgs, options: {max_iters,
 * progress_every (if > 0)}} into r. */
static void req_lbfgs(req_t *r, uint32_t msgid, int64_t prob, int max_iters, int progress_every) {
  msgpack_packer *pk = req_begin(r, msgid, "problem.solve");
  msgpack_pack_map(pk, 3);
  kv_i(pk, "problem", prob);
  kv_s(pk, "method", "lbfgs");
  pack_str(pk, "options");
  msgpack_pack_map(pk, progress_every > 0 ? 2 : 1);
  kv_i(pk, "max_iters", max_iters);
  if (progress_every > 0) kv_i(pk, "progress_every", progress_every);
}

static void run_session(client_t *c) {
  req_t r;
  msgpack_unpacked out;
  const msgpack_object *res;
  msgpack_packer *pk;
  uint32_t id = 0;
  msgpack_unpacked_init(&out);
  msgpack_pack_map(req_begin(&r, ++id, "server.info"), 0);
  ck_assert_int_eq(call(c, &r, id, &out, &res), 0);
  ck_assert_int_eq(res->type, MSGPACK_OBJECT_MAP);
  ck_assert_int_eq(call_simple(c, ++id, "server.health"), 0);

  const int n = 6;
  int64_t prob = make_problem(c, n, &id);
  req_lbfgs(&r, ++id, prob, 20, 1);
  ck_assert_int_eq(call(c, &r, id, &out, &res), 0);
  ck_assert_int_eq(res->type, MSGPACK_OBJECT_MAP);

  pk = req_begin(&r, ++id, "problem.get_variable");
  msgpack_pack_map(pk, 2);
  kv_i(pk, "problem", prob);
  kv_s(pk, "var", "x");
  ck_assert_int_eq(call(c, &r, id, &out, &res), 0);
  const msgpack_object *vals = get(res, "values");
  ck_assert_ptr_nonnull(vals);
  const msgpack_object *shape = get(vals, "shape");
  ck_assert_ptr_nonnull(shape);
  ck_assert_int_eq(shape->via.array.ptr[0].via.i64, n * n);
  ck_assert_int_eq(shape->via.array.ptr[1].via.i64, 3);

  ck_assert_int_eq(call_simple(c, ++id, "no.such.method"), 2);
  msgpack_unpacked_destroy(&out);
}

START_TEST(test_session_tcp) {
  daemon_t d;
  client_t c;
  daemon_start(&d);
  client_tcp(&c, &d);
  run_session(&c);
  ck_assert_int_gt(c.notifications, 0);
  client_close(&c);
  daemon_finish(&d);
}
END_TEST

/* --threads sets the budget the running requests share (server.stats threads);
 */
START_TEST(test_thread_budget) {
  daemon_t d;
  client_t c;
  static const char *const extra[] = {"--threads", "3", "--thread-share", "on", NULL};
  daemon_start_args(&d, extra);
  client_tcp(&c, &d);
  ck_assert_int_eq(stat_of(&c, "threads"), 3);
  ck_assert_int_eq(stat_of(&c, "workers"), 2);
  run_session(&c); /* requests run as before under the budget */
  client_close(&c);
  daemon_finish(&d);
}
END_TEST

/* Bad thread settings, as flags or environment, stop the start-up (exit 64)
 * with a message naming them. */
START_TEST(test_thread_flags_refused) {
  static const char *const cases[][3] = {{"", "--threads abc", "bad value for --threads: 'abc'"},
                                         {"", "--threads 5000", "bad value for --threads: '5000'"},
                                         {"", "--thread-share maybe", "bad value for --thread-share: 'maybe'"},
                                         {"LOCAD_THREADS=-2", "", "bad value for LOCAD_THREADS: '-2'"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    char cmd[512], out[1024] = "";
    snprintf(cmd, sizeof cmd, "%s %s %s --unix /nonexistent/sock 2>&1", cases[i][0], daemon_bin(), cases[i][1]);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    const size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    const int st = pclose(f);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 64, "%s %s: status %d, output %s", cases[i][0], cases[i][1],
                  st, out);
    ck_assert_msg(strstr(out, cases[i][2]), "output lacks \"%s\": %s", cases[i][2], out);
  }
}
END_TEST

START_TEST(test_session_unix) {
  daemon_t d;
  client_t c;
  daemon_start(&d);
  client_unix(&c, &d);
  run_session(&c);
  client_close(&c);
  daemon_finish(&d);
}
END_TEST

/* Waits until server.stats in_flight is 0 (bounded); returns the seconds taken or -1. */
static double wait_idle(client_t *c, double timeout_s) {
  double t0 = now_s();
  while (now_s() - t0 < timeout_s) {
    if (stat_of(c, "in_flight") == 0) return now_s() - t0;
    sleep_ms(20);
  }
  return -1;
}

/* A long solve stalls neither server.info nor another problem; problem.cancel ends it. */
START_TEST(test_long_solve_and_cancel) {
  daemon_t d;
  client_t a, b;
  msgpack_unpacked out;
  const msgpack_object *res;
  req_t r;
  uint32_t id = 0;
  daemon_start(&d);
  client_tcp(&a, &d);
  client_unix(&b, &d);
  msgpack_unpacked_init(&out);
  int64_t p1 = make_problem(&a, 120, &id);
  int64_t p2 = make_problem(&b, 5, &id);
  send_long_solve(&a, 500, p1);
  wait_progress(&a);
  double t0 = now_s();
  ck_assert_int_eq(call_simple(&b, ++id, "server.info"), 0);
  msgpack_packer *pk = req_begin(&r, ++id, "problem.get_variable");
  msgpack_pack_map(pk, 2);
  kv_i(pk, "problem", p2);
  kv_i(pk, "var", 0);
  ck_assert_int_eq(call(&b, &r, id, &out, &res), 0);
  ck_assert_msg(now_s() - t0 < 2.0, "other requests stalled %.2fs behind a solve", now_s() - t0);
  ck_assert_int_eq(stat_of(&b, "in_flight"), 1);

  pk = req_begin(&r, ++id, "problem.cancel");
  msgpack_pack_map(pk, 1);
  kv_i(pk, "problem", p1);
  ck_assert_int_eq(call(&b, &r, id, &out, &res), 0);
  ck_assert_int_eq(get_int(res, "cancelled"), 1); /* SPEC.md: {cancelled: n} */
  ck_assert_msg(next_response(&a, &out), "no response to the cancelled solve");
  ck_assert_int_eq(out.data.via.array.ptr[1].via.u64, 500);
  ck_assert_int_gt(a.notifications, 0);
  msgpack_unpacked_destroy(&out);
  client_close(&a);
  client_close(&b);
  daemon_finish(&d);
}
END_TEST

/* A client that vanishes mid-solve: its work is cancelled, others are served. */
START_TEST(test_disconnect_mid_solve) {
  daemon_t d;
  client_t a, b;
  uint32_t id = 0;
  daemon_start(&d);
  client_tcp(&a, &d);
  client_tcp(&b, &d);
  int64_t p1 = make_problem(&a, 120, &id);
  send_long_solve(&a, 600, p1);
  send_long_solve(&a, 601, p1); /* queued behind the first: dropped */
  wait_progress(&a);
  ck_assert_int_eq(stat_of(&b, "in_flight"), 2);
  client_close(&a);
  ck_assert_msg(wait_idle(&b, 10.0) >= 0, "the vanished client's solve was not cancelled");
  ck_assert_int_eq(stat_of(&b, "cancelled"), 2); /* the running solve and the queued one */
  ck_assert_int_eq(call_simple(&b, ++id, "server.info"), 0);
  client_tcp(&a, &d);
  run_session(&a);
  client_close(&a);
  client_close(&b);
  daemon_finish(&d);
}
END_TEST

/* Sends raw bytes on a fresh connection; expects an error reply with code
 * want (0: any) and then the connection closed. */
static void expect_protocol_error(const daemon_t *d, const void *bytes, size_t len, int want) {
  client_t x;
  msgpack_unpacked out;
  client_tcp(&x, d);
  msgpack_unpacked_init(&out);
  send_all(&x, bytes, len);
  ck_assert_msg(next_response(&x, &out), "no error reply to malformed bytes");
  const msgpack_object *e = &out.data.via.array.ptr[2];
  ck_assert_int_eq(e->type, MSGPACK_OBJECT_ARRAY);
  if (want) ck_assert_int_eq(e->via.array.ptr[0].via.i64, want);
  ck_assert_msg(!next_msg(&x, &out), "connection not closed after a protocol error");
  msgpack_unpacked_destroy(&out);
  client_close(&x);
}

START_TEST(test_malformed) {
  daemon_t d;
  client_t b;
  static const unsigned char c1[] = {0xc1};
  static const unsigned char huge[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x00};
  static const unsigned char notreq[] = {0x93, 0x01, 0x02, 0x03};
  static const unsigned char badreq[] = {0x94, 0x00, 0x07, 0x05, 0x80}; /* method not a str */
  unsigned char deep[200];
  daemon_start(&d);
  client_unix(&b, &d);
  memset(deep, 0x91, sizeof deep);
  deep[sizeof deep - 1] = 0x00;
  expect_protocol_error(&d, c1, sizeof c1, 1);
  expect_protocol_error(&d, huge, sizeof huge, 0);
  expect_protocol_error(&d, deep, sizeof deep, 1);
  expect_protocol_error(&d, badreq, sizeof badreq, 1);
  { /* well-formed MessagePack that is not a request: an error, the connection stays */
    client_t x;
    msgpack_unpacked out;
    client_tcp(&x, &d);
    msgpack_unpacked_init(&out);
    send_all(&x, notreq, sizeof notreq);
    ck_assert(next_response(&x, &out));
    ck_assert_int_eq(out.data.via.array.ptr[2].via.array.ptr[0].via.i64, 1);
    ck_assert_int_eq(call_simple(&x, 2, "server.health"), 0);
    msgpack_unpacked_destroy(&out);
    client_close(&x);
  }
  ck_assert_int_eq(call_simple(&b, 1, "server.health"), 0);
  ck_assert_int_ge(stat_of(&b, "protocol_errors"), 5);
  ck_assert_int_ge(stat_of(&b, "meshes"), 0); /* the store's counters are merged in */
  run_session(&b);
  client_close(&b);
  daemon_finish(&d);
}
END_TEST

/* Requests pipelined in one write, answered in order for one problem. */
START_TEST(test_pipelined) {
  daemon_t d;
  client_t c;
  req_t r;
  msgpack_unpacked out;
  msgpack_sbuffer all;
  uint32_t id = 0;
  daemon_start(&d);
  client_tcp(&c, &d);
  int64_t p = make_problem(&c, 5, &id);
  msgpack_sbuffer_init(&all);
  msgpack_unpacked_init(&out);
  for (uint32_t i = 0; i < 100; i++) {
    msgpack_packer *pk = req_begin(&r, 1000 + i, "problem.get_variable");
    msgpack_pack_map(pk, 2);
    kv_i(pk, "problem", p);
    kv_i(pk, "var", 0);
    msgpack_sbuffer_write(&all, r.sb.data, r.sb.size);
    msgpack_sbuffer_destroy(&r.sb);
  }
  send_all(&c, all.data, all.size);
  for (uint32_t i = 0; i < 100; i++) {
    ck_assert(next_response(&c, &out));
    ck_assert_int_eq(out.data.via.array.ptr[1].via.u64, 1000 + i);
    ck_assert_int_eq(out.data.via.array.ptr[2].type, MSGPACK_OBJECT_NIL);
  }
  msgpack_sbuffer_destroy(&all);
  msgpack_unpacked_destroy(&out);
  client_close(&c);
  daemon_finish(&d);
}
END_TEST

/* With a token: only auth/server.health before auth, a small frame cap, a
 * wrong token closes the connection. */
START_TEST(test_auth) {
  daemon_t d;
  client_t c;
  req_t r;
  msgpack_unpacked out;
  const msgpack_object *res;
  static const char *const extra[] = {"--max-frame-unauth", "4K", NULL};
  setenv("LOCAD_TOKEN", "s3cret-token-0123", 1);
  daemon_start_args(&d, extra);
  unsetenv("LOCAD_TOKEN");
  msgpack_unpacked_init(&out);

  client_tcp(&c, &d);
  ck_assert_int_eq(call_simple(&c, 1, "server.health"), 0);
  ck_assert_int_eq(call_simple(&c, 2, "server.info"), 9);
  ck_assert(!next_msg(&c, &out));
  client_close(&c);

  client_tcp(&c, &d);
  msgpack_pack_map(req_begin(&r, 3, "auth"), 1);
  kv_s(&r.pk, "token", "wrong");
  ck_assert_int_eq(call(&c, &r, 3, &out, &res), 9);
  ck_assert(!next_msg(&c, &out));
  client_close(&c);

  client_tcp(&c, &d); /* over the pre-auth frame cap */
  msgpack_packer *pk = req_begin(&r, 4, "auth");
  msgpack_pack_map(pk, 1);
  pack_str(pk, "token");
  msgpack_pack_str(pk, 8000);
  static char pad[8000];
  memset(pad, 'a', sizeof pad);
  msgpack_pack_str_body(pk, pad, sizeof pad);
  req_send(&c, &r);
  ck_assert(next_response(&c, &out));
  ck_assert_int_eq(out.data.via.array.ptr[2].type, MSGPACK_OBJECT_ARRAY);
  ck_assert(!next_msg(&c, &out));
  client_close(&c);

  /* 5 failures from one peer lock it out: the right token then fails too, with a retry time;
   * the Unix socket is another peer and still gets in */
  for (int k = 0; k < 5; ++k) {
    client_tcp(&c, &d);
    msgpack_pack_map(req_begin(&r, 6, "auth"), 1);
    kv_s(&r.pk, "token", "wrong-wrong-wrong");
    ck_assert_int_eq(call(&c, &r, 6, &out, &res), 9);
    client_close(&c);
  }
  client_tcp(&c, &d);
  msgpack_pack_map(req_begin(&r, 7, "auth"), 1);
  kv_s(&r.pk, "token", "s3cret-token-0123");
  ck_assert_int_eq(call(&c, &r, 7, &out, &res), 9);
  const msgpack_object *em = &out.data.via.array.ptr[2].via.array.ptr[1];
  ck_assert_msg(em->via.str.size > 20 && !memcmp(em->via.str.ptr, "too many failed", 15), "%.*s",
                (int)em->via.str.size, em->via.str.ptr);
  client_close(&c);

  client_unix(&c, &d);
  msgpack_pack_map(req_begin(&r, 5, "auth"), 1);
  kv_s(&r.pk, "token", "s3cret-token-0123");
  ck_assert_int_eq(call(&c, &r, 5, &out, &res), 0);
  run_session(&c);
  client_close(&c);
  msgpack_unpacked_destroy(&out);
  daemon_finish(&d);
}
END_TEST

/* SIGTERM during a long solve: the solve is cancelled and the daemon exits 0. */
START_TEST(test_sigterm_mid_solve) {
  daemon_t d;
  client_t a;
  msgpack_unpacked out;
  uint32_t id = 0;
  daemon_start(&d);
  client_tcp(&a, &d);
  int64_t p1 = make_problem(&a, 120, &id);
  send_long_solve(&a, 700, p1);
  wait_progress(&a);
  double t0 = now_s();
  daemon_finish(&d);
  ck_assert_msg(now_s() - t0 < 6.0, "shutdown took %.1fs", now_s() - t0);
  msgpack_unpacked_init(&out);
  if (next_response(&a, &out)) { /* the cancelled solve's answer, then EOF */
    ck_assert_int_eq(out.data.via.array.ptr[1].via.u64, 700);
    ck_assert(!next_msg(&a, &out));
  }
  msgpack_unpacked_destroy(&out);
  client_close(&a);
}
END_TEST

/* Authenticates c with the token of test_timeouts. */
static void auth_ok(client_t *c, uint32_t msgid) {
  req_t r;
  msgpack_unpacked out;
  const msgpack_object *res;
  msgpack_unpacked_init(&out);
  msgpack_pack_map(req_begin(&r, msgid, "auth"), 1);
  kv_s(&r.pk, "token", "timeout-token-0123");
  ck_assert_int_eq(call(c, &r, msgid, &out, &res), 0);
  msgpack_unpacked_destroy(&out);
}

/* Timeouts of 1 s: an idle connection, one with a half-sent frame and one
 * that never authenticates are closed; one that keeps asking stays open;
 * server.stats counts the three. */
START_TEST(test_timeouts) {
  daemon_t d;
  client_t idle, half, noauth, busy;
  msgpack_unpacked out;
  static const char *const extra[] = {"--idle-timeout", "1", "--read-timeout", "1", "--auth-timeout", "1", NULL};
  setenv("LOCAD_TOKEN", "timeout-token-0123", 1);
  daemon_start_args(&d, extra);
  unsetenv("LOCAD_TOKEN");
  msgpack_unpacked_init(&out);
  client_tcp(&idle, &d);
  client_tcp(&half, &d);
  client_tcp(&noauth, &d);
  client_tcp(&busy, &d);
  auth_ok(&idle, 1);
  auth_ok(&half, 1);
  auth_ok(&busy, 1);
  send_all(&half, "\x94\x00", 2); /* the start of a request, never finished */
  const double t0 = now_s();
  uint32_t id = 1;
  while (now_s() - t0 < 2.5) {
    ck_assert_int_eq(call_simple(&busy, ++id, "server.health"), 0);
    sleep_ms(200);
  }
  ck_assert(!next_msg(&idle, &out));
  ck_assert(!next_msg(&half, &out));
  ck_assert(!next_msg(&noauth, &out));
  ck_assert_msg(now_s() - t0 < 6.0, "the timed-out connections were not closed (%.1f s)", now_s() - t0);
  ck_assert_int_eq(stat_of(&busy, "timeouts"), 3);
  msgpack_unpacked_destroy(&out);
  client_close(&idle);
  client_close(&half);
  client_close(&noauth);
  client_close(&busy);
  daemon_finish(&d);
}
END_TEST

/* Sends problem.set_variable {problem, var 0, values: rows x 3 nested plain
 * arrays} without waiting: its decoded form is estimated from its objects. */
static void send_values(client_t *c, uint32_t msgid, int64_t prob, int rows) {
  req_t r;
  msgpack_packer *pk = req_begin(&r, msgid, "problem.set_variable");
  msgpack_pack_map(pk, 3);
  kv_i(pk, "problem", prob);
  kv_i(pk, "var", 0);
  pack_str(pk, "values");
  msgpack_pack_array(pk, (size_t)rows);
  for (int i = 0; i < rows; ++i) {
    msgpack_pack_array(pk, 3);
    for (int k = 0; k < 3; ++k) msgpack_pack_double(pk, 0.5);
  }
  req_send(c, &r);
}

/* The memory budget (--max-conn-memory 4M): a request estimated over it is
 * refused as NOMEM before it is decoded; one that fits alone but not next
 * to a queued one gets BUSY; the connection stays usable and the budget
 * returns to 0 when the work is done. */
START_TEST(test_memory_budget) {
  daemon_t d;
  client_t a;
  uint32_t id = 0;
  msgpack_unpacked out;
  static const char *const extra[] = {"--max-conn-memory", "4M", "--max-memory", "64M", NULL};
  daemon_start_args(&d, extra);
  msgpack_unpacked_init(&out);
  client_tcp(&a, &d);
  const int64_t p1 = make_problem(&a, 40, &id);
  send_values(&a, 700, p1, 30000); /* ~4.7 MB decoded: over the cap */
  ck_assert(next_response(&a, &out));
  ck_assert_int_eq(out.data.via.array.ptr[1].via.u64, 700);
  ck_assert_int_eq(out.data.via.array.ptr[2].via.array.ptr[0].via.i64, 6); /* NOMEM */
  send_long_solve(&a, 701, p1);
  wait_progress(&a);
  send_values(&a, 702, p1, 16000); /* ~2.5 MB: queued behind the solve */
  send_values(&a, 703, p1, 16000); /* another 2.5 MB: over the cap while 702 waits */
  ck_assert(next_response(&a, &out));
  ck_assert_int_eq(out.data.via.array.ptr[1].via.u64, 703);
  ck_assert_int_eq(out.data.via.array.ptr[2].via.array.ptr[0].via.i64, 7); /* BUSY */
  ck_assert_int_eq(stat_of(&a, "memory_rejections"), 2);
  ck_assert_int_gt(stat_of(&a, "memory_in_flight"), 2 << 20);
  req_t r;
  const msgpack_object *res;
  msgpack_pack_map(req_begin(&r, ++id, "problem.cancel"), 1);
  kv_i(&r.pk, "problem", p1);
  ck_assert_int_eq(call(&a, &r, id, &out, &res), 0);
  for (int k = 0; k < 2; ++k) ck_assert(next_response(&a, &out)); /* the solve, then 702 (bad shape) */
  ck_assert_int_lt(stat_of(&a, "memory_in_flight"), 1024); /* the server.stats request itself */
  msgpack_unpacked_destroy(&out);
  client_close(&a);
  daemon_finish(&d);
}
END_TEST

/* A non-loopback address without a token is refused at start-up, and so is
 * a token shorter than 16 bytes (_i = 1). */
START_TEST(test_refuse_public_without_token) {
  int st = 0;
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fd = open("/dev/null", O_WRONLY);
    if (fd >= 0) dup2(fd, 2);
    if (_i) setenv("LOCAD_TOKEN", "fifteen-bytes!!", 1);
    else unsetenv("LOCAD_TOKEN");
    execl(daemon_bin(), "locad", "--listen", _i ? "127.0.0.1:0" : "0.0.0.0:0", (char *)NULL);
    _exit(127);
  }
  double t0 = now_s();
  while (waitpid(pid, &st, WNOHANG) != pid && now_s() - t0 < 10.0) sleep_ms(10);
  if (now_s() - t0 >= 10.0) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    ck_abort_msg(_i ? "locad kept running with a 15-byte token" : "locad kept running on 0.0.0.0 without a token");
  }
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 127);
}
END_TEST

/* Whether the string object o equals z. */
static int str_is(const msgpack_object *o, const char *z) {
  return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(z) &&
         !memcmp(o->via.str.ptr, z, o->via.str.size);
}

/* Starts locad with --device flag_dev (NULL: none) and LOCAD_DEVICE env_dev
 * (NULL: unset); expects a non-zero exit within 10 s with a log line naming
 * want. */
static void expect_device_refused(const char *flag_dev, const char *env_dev, const char *want) {
  char dir[] = "/tmp/locad-test-XXXXXX", log[64], sock[64], buf[4096];
  int st = 0;
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(log, sizeof log, "%s/log", dir);
  snprintf(sock, sizeof sock, "%s/sock", dir);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) dup2(fd, 2);
    if (env_dev) setenv("LOCAD_DEVICE", env_dev, 1);
    else unsetenv("LOCAD_DEVICE");
    if (flag_dev) execl(daemon_bin(), "locad", "--unix", sock, "--device", flag_dev, (char *)NULL);
    else execl(daemon_bin(), "locad", "--unix", sock, (char *)NULL);
    _exit(127);
  }
  double t0 = now_s();
  while (waitpid(pid, &st, WNOHANG) != pid && now_s() - t0 < 10.0) sleep_ms(10);
  const int hung = now_s() - t0 >= 10.0;
  if (hung) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
  }
  daemon_t d = {0};
  snprintf(d.log, sizeof d.log, "%s", log);
  read_log(&d, buf, sizeof buf);
  unlink(log);
  unlink(sock);
  rmdir(dir);
  ck_assert_msg(!hung, "locad kept running with device '%s'", want);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 127,
                "device '%s': exit status %d", want, st);
  ck_assert_msg(strstr(buf, want) && strstr(buf, "error"), "device '%s': log:\n%s", want, buf);
}

/* --device / LOCAD_DEVICE: an unusable or malformed device stops the start-up
 * (nothing falls back); the default (auto) starts, logs its device once and
 * reports it in server.info with the device list; --device cpu places
 * problems on the CPU. */
START_TEST(test_device_selection) {
  static char logbuf[1 << 16];
  lc_device_info devs[LC_DEVICE_MAX];
  int nd = 0;
  lc_device_list(devs, LC_DEVICE_MAX, &nd);
  expect_device_refused("gpu", NULL, "'gpu'");
  expect_device_refused(NULL, "cuda:x", "'cuda:x'");
  if (nd < 17) expect_device_refused("cuda:15", NULL, "'cuda:15'"); /* no 16th GPU */
  if (nd < 2) expect_device_refused(NULL, "cuda:0", "'cuda:0'");     /* no GPU here */
  const char *const defaults[] = {NULL, "cpu"};
  for (int k = 0; k < 2; k++) {
    daemon_t d;
    client_t c;
    req_t r;
    msgpack_unpacked out;
    const msgpack_object *res;
    uint32_t id = 0;
    const char *const extra[] = {"--device", defaults[k], NULL};
    const char *want = defaults[k] ? defaults[k] : nd > 1 ? "cuda:0" : "cpu";
    char line[64];
    daemon_start_args(&d, defaults[k] ? extra : NULL);
    read_log(&d, logbuf, sizeof logbuf);
    snprintf(line, sizeof line, "info device %s", want);
    ck_assert_msg(strstr(logbuf, line), "no '%s' in the log:\n%s", line, logbuf);
    client_tcp(&c, &d);
    msgpack_unpacked_init(&out);
    msgpack_pack_map(req_begin(&r, ++id, "server.info"), 0);
    ck_assert_int_eq(call(&c, &r, id, &out, &res), 0);
    ck_assert(str_is(get(res, "device"), want));
    ck_assert(str_is(get(res, "backend"), strncmp(want, "cuda", 4) ? "cpu" : "cuda"));
    const msgpack_object *list = get(res, "devices");
    ck_assert(list && list->type == MSGPACK_OBJECT_ARRAY && (int)list->via.array.size == nd);
    ck_assert(str_is(get(&list->via.array.ptr[0], "id"), "cpu"));
    ck_assert_int_eq(get(&list->via.array.ptr[0], "compute_capability")->type, MSGPACK_OBJECT_NIL);
    const int64_t prob = make_problem(&c, 3, &id);
    msgpack_pack_map(req_begin(&r, ++id, "problem.info"), 1);
    kv_i(&r.pk, "problem", prob);
    ck_assert_int_eq(call(&c, &r, id, &out, &res), 0);
    ck_assert(str_is(get(res, "device"), want));
    msgpack_unpacked_destroy(&out);
    client_close(&c);
    daemon_finish(&d);
  }
}
END_TEST

/* A full queue answers "busy" (7); queued work still runs after a cancel. */
START_TEST(test_busy) {
  daemon_t d;
  client_t a, b;
  msgpack_unpacked out;
  req_t r;
  const msgpack_object *res;
  uint32_t id = 0;
  static const char *const extra[] = {"--workers", "1", "--queue-depth", "2", NULL};
  daemon_start_args(&d, extra);
  client_tcp(&a, &d);
  client_tcp(&b, &d);
  msgpack_unpacked_init(&out);
  int64_t p1 = make_problem(&a, 60, &id);
  send_long_solve(&a, 800, p1);
  wait_progress(&a);
  for (uint32_t i = 1; i <= 5; i++) send_long_solve(&a, 800 + i, p1);
  int busy = 0;
  for (int i = 0; i < 3; i++) { /* 801, 802 queued; 803-805 rejected at once */
    ck_assert(next_response(&a, &out));
    ck_assert_int_ge(out.data.via.array.ptr[1].via.u64, 803);
    ck_assert_int_eq(out.data.via.array.ptr[2].via.array.ptr[0].via.i64, 7);
    busy++;
  }
  ck_assert_int_eq(stat_of(&b, "busy_rejections"), busy);
  msgpack_packer *pk = req_begin(&r, ++id, "problem.cancel");
  msgpack_pack_map(pk, 1);
  kv_i(pk, "problem", p1);
  ck_assert_int_eq(call(&b, &r, id, &out, &res), 0);
  ck_assert_int_eq(get_int(res, "cancelled"), 3); /* the running solve and two queued */
  for (uint32_t i = 0; i < 3; i++) { /* the running solve, then the queued ones, in order */
    ck_assert(next_response(&a, &out));
    ck_assert_int_eq(out.data.via.array.ptr[1].via.u64, 800 + i);
  }
  msgpack_unpacked_destroy(&out);
  client_close(&a);
  client_close(&b);
  daemon_finish(&d);
}
END_TEST

/* A client that sends requests but never reads its responses is dropped. */
START_TEST(test_slow_reader) {
  daemon_t d;
  client_t a, b;
  msgpack_sbuffer all;
  req_t r;
  uint32_t id = 0;
  static const char *const extra[] = {"--max-write-queue", "1M", NULL};
  daemon_start_args(&d, extra);
  client_tcp(&a, &d);
  client_unix(&b, &d);
  int64_t p = make_problem(&a, 100, &id); /* get_variable: 240 KB per response */
  msgpack_sbuffer_init(&all);
  for (uint32_t i = 0; i < 400; i++) {
    msgpack_packer *pk = req_begin(&r, 2000 + i, "problem.get_variable");
    msgpack_pack_map(pk, 2);
    kv_i(pk, "problem", p);
    kv_i(pk, "var", 0);
    msgpack_sbuffer_write(&all, r.sb.data, r.sb.size);
    msgpack_sbuffer_destroy(&r.sb);
  }
  send_all(&a, all.data, all.size);
  msgpack_sbuffer_destroy(&all);
  double t0 = now_s();
  while (stat_of(&b, "slow_clients_dropped") == 0 && now_s() - t0 < 20.0) sleep_ms(20);
  ck_assert_int_eq(stat_of(&b, "slow_clients_dropped"), 1);
  ck_assert_msg(wait_idle(&b, 20.0) >= 0, "work of the dropped client still in flight");
  ck_assert_int_eq(call_simple(&b, ++id, "server.info"), 0);
  client_close(&a);
  client_close(&b);
  daemon_finish(&d);
}
END_TEST

/* GPU (CTest server_gpu, label gpu): a daemon whose problems live on cuda:0
 * creates a problem, solves it and reports where it lives and how often
 * the host read from the device. */
START_TEST(test_daemon_on_gpu) {
  const char *const extra[] = {"--device", "cuda:0", NULL};
  daemon_t d;
  client_t c;
  req_t r;
  msgpack_unpacked out;
  const msgpack_object *res;
  uint32_t id = 0;
  daemon_start_args(&d, extra);
  client_tcp(&c, &d);
  msgpack_unpacked_init(&out);
  const int64_t prob = make_problem(&c, 12, &id);
  msgpack_packer *pk = req_begin(&r, ++id, "problem.info");
  msgpack_pack_map(pk, 1);
  kv_i(pk, "problem", prob);
  ck_assert_int_eq(call(&c, &r, id, &out, &res), 0);
  ck_assert(str_is(get(res, "device"), "cuda:0"));
  req_lbfgs(&r, ++id, prob, 10, 0);
  ck_assert_int_eq(call(&c, &r, id, &out, &res), 0);
  /* the whole solve is one device program: its one read is x and the state */
  ck_assert_int_eq(get_int(res, "host_syncs"), 1);
  req_lbfgs(&r, ++id, prob, 10, 0); /* again: the recorded program is replayed */
  ck_assert_int_eq(call(&c, &r, id, &out, &res), 0);
  ck_assert_int_eq(get_int(res, "host_syncs"), 1);
  msgpack_unpacked_destroy(&out);
  client_close(&c);
  daemon_finish(&d);
}
END_TEST

static Suite *server_suite(void) {
  Suite *s = suite_create("server");
  TCase *tc = tcase_create("daemon");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_session_tcp);
  tcase_add_test(tc, test_session_unix);
  tcase_add_test(tc, test_thread_budget);
  tcase_add_test(tc, test_thread_flags_refused);
  tcase_add_test(tc, test_malformed);
  tcase_add_test(tc, test_pipelined);
  tcase_add_test(tc, test_long_solve_and_cancel);
  tcase_add_test(tc, test_disconnect_mid_solve);
  tcase_add_test(tc, test_auth);
  tcase_add_test(tc, test_timeouts);
  tcase_add_test(tc, test_memory_budget);
  tcase_add_test(tc, test_sigterm_mid_solve);
  tcase_add_loop_test(tc, test_refuse_public_without_token, 0, 2);
  tcase_add_test(tc, test_device_selection);
  tcase_add_test(tc, test_busy);
  tcase_add_test(tc, test_slow_reader);
  suite_add_tcase(s, tc);
  const char *only = getenv("CK_RUN_CASE");
  if (only && !strcmp(only, "gpu")) { /* the GPU case runs alone, as CTest server_gpu */
    TCase *gpu = tcase_create("gpu");
    tcase_set_timeout(gpu, 120);
    tcase_add_test(gpu, test_daemon_on_gpu);
    suite_add_tcase(s, gpu);
  }
  return s;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  if (access(daemon_bin(), X_OK) != 0) {
    fprintf(stderr, "test_server: %s not built, skipping\n", daemon_bin());
    return 77;
  }
  const char *only = getenv("CK_RUN_CASE");
  lc_device_kind kind;
  int ord;
  lc_error err;
  if (only && !strcmp(only, "gpu") && lc_device_resolve("cuda:0", &kind, &ord, &err) != LC_OK) {
    printf("test_server (gpu): skipped: %s\n", err.msg);
    return 77;
  }
  return lc_test_run_suite(server_suite());
}
