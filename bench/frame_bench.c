/* frame_bench.c - locad-bench-frame: the "interactive frame" benchmark, timed
 * through the real daemon as a client sees it.
 *
 *   locad-bench-frame [--locad PATH] [--device DEV] [--grid N] [--frames R]
 *                     [--warmup W] [--lin-rtol X] [--lin-max-iters K] [--return]
 *
 * Starts the locad daemon (--locad; default: the `locad` next to this binary,
 * as in carry-bin/, else ../server/locad of the build) on a private Unix
 * socket in a temporary directory with --device DEV (default cpu).  Over one
 * connection it sets up the W5 cloth of shared/benchmarks.md on an N x N grid
 * (default 317, about 100k vertices): mesh.create, problem.create with the
 * 1.3-stretched state, spring (k 4e4, weight h^2), inertia (density 100,
 * weight 1) and gravity (gz -9.8, density 100, weight h^2) terms, h = 0.01.
 * Each frame is ONE problem.step request: one implicit-Euler step solved by
 * one projected-Newton iteration with the PCG linear solver (max_iters 1,
 * gtol/dtol/ftol 0, lin_rtol 1e-8 and lin_max_iters 1000 unless given,
 * progress_every 1: its one problem.progress notification gives the PCG
 * iterations; --return also returns x), timed from just before the request is
 * written until its response is decoded (CLOCK_MONOTONIC).  W warm-up frames
 * (default 3) are not counted.
 *
 * Prints one JSON line (nearest-rank percentiles) and exits 0; on an error it
 * prints a message on stderr (with the daemon's log) and exits 1.  The daemon
 * is always stopped (SIGTERM, then SIGKILL) and its directory removed; it dies
 * with this process (PR_SET_PDEATHSIG), and SIGINT/SIGTERM/SIGHUP stop it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <msgpack.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_S 300 /* one response: setup of a large grid, a slow CPU frame */
#define START_TIMEOUT_S 60
#define CLOTH_H 0.01 /* W5: time step, spring stiffness, density, gravity */
#define CLOTH_K 4e4
#define CLOTH_RHO 100.0
#define CLOTH_G (-9.8)
#define TARGET_MS 16

typedef struct opts {
  char locad[PATH_MAX];
  const char *device;
  int grid, frames, warmup, ret, lin_max_iters;
  double lin_rtol;
} opts_t;

typedef struct client {
  int fd;
  msgpack_unpacker up;
  msgpack_unpacked msg; /* the last message read */
  uint32_t msgid;       /* of the last request */
  int64_t lin_iters;    /* of the last problem.progress notification */
} client_t;

typedef struct req { /* a request under construction */
  msgpack_sbuffer sb;
  msgpack_packer pk;
  const char *method;
} req_t;

typedef struct frame { /* one frame's figures */
  double ms, solve_ms, lin_iters;
  int64_t host_syncs, iters;
} frame_t;

/* The daemon and its directory; global so that the signal handler can reach them. */
static volatile pid_t g_pid = 0;
static char g_dir[64], g_sock[96], g_log[96];

/* Seconds on CLOCK_MONOTONIC. */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sleeps ms milliseconds. */
static void sleep_ms(int ms) { nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL); }

/* Prints "locad-bench-frame: <message>" on stderr; returns -1. */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("locad-bench-frame: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return -1;
}

/* ---- decoding ---------------------------------------------------------------- */

/* Map value for key k (NULL when absent or m not a map). */
static const msgpack_object *get(const msgpack_object *m, const char *k) {
  for (uint32_t i = 0; m && m->type == MSGPACK_OBJECT_MAP && i < m->via.map.size; i++) {
    const msgpack_object *o = &m->via.map.ptr[i].key;
    if (o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(k) && !memcmp(o->via.str.ptr, k, o->via.str.size))
      return &m->via.map.ptr[i].val;
  }
  return NULL;
}

/* Integer value for key k, or dflt. */
static int64_t get_int(const msgpack_object *m, const char *k, int64_t dflt) {
  const msgpack_object *v = get(m, k);
  return v && (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
             ? v->via.i64 : dflt;
}

/* Float value for key k, or dflt. */
static double get_dbl(const msgpack_object *m, const char *k, double dflt) {
  const msgpack_object *v = get(m, k);
  return v && (v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_FLOAT32) ? v->via.f64 : dflt;
}

/* String value for key k copied into out (empty when absent). */
static void get_str(const msgpack_object *m, const char *k, char *out, size_t cap) {
  const msgpack_object *v = get(m, k);
  out[0] = '\0';
  if (v && v->type == MSGPACK_OBJECT_STR) snprintf(out, cap, "%.*s", (int)v->via.str.size, v->via.str.ptr);
}

/* ---- the daemon -------------------------------------------------------------- */

/* Removes the daemon's socket, log and directory (async-signal-safe). */
static void remove_dir(void) {
  if (!g_dir[0]) return;
  unlink(g_sock);
  unlink(g_log);
  rmdir(g_dir);
}

/* Signal handler: kills the daemon, removes its directory, exits 1. */
static void on_signal(int sig) {
  (void)sig;
  if (g_pid > 0 && kill(g_pid, SIGKILL) == 0) waitpid(g_pid, NULL, 0);
  remove_dir();
  _exit(1);
}

/* Copies the daemon's log to stderr (after a failure). */
static void dump_log(void) {
  char buf[4096];
  size_t n;
  FILE *f = fopen(g_log, "r");
  if (!f) return;
  fputs("---- locad log ----\n", stderr);
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stderr);
  fputs("-------------------\n", stderr);
  fclose(f);
}

/* Child side of the fork: dies with the parent, logs to g_log, execs the daemon. */
static void exec_daemon(const opts_t *o, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  int fd = open(g_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
  const char *argv[] = {"locad", "--unix", g_sock, "--device", o->device, "--log-level", "info", NULL};
  execv(o->locad, (char *const *)argv);
  dprintf(2, "exec %s: %s\n", o->locad, strerror(errno));
  _exit(127);
}

/* Starts the daemon on a Unix socket in a new temporary directory; 0 or -1. */
static int daemon_start(const opts_t *o) {
  strcpy(g_dir, "/tmp/locad-frame-XXXXXX");
  if (!mkdtemp(g_dir)) {
    g_dir[0] = '\0';
    return fail("mkdtemp: %s", strerror(errno));
  }
  snprintf(g_sock, sizeof g_sock, "%s/sock", g_dir);
  snprintf(g_log, sizeof g_log, "%s/log", g_dir);
  const pid_t parent = getpid(), pid = fork();
  if (pid < 0) return fail("fork: %s", strerror(errno));
  if (pid == 0) exec_daemon(o, parent);
  g_pid = pid;
  return 0;
}

/* Stops the daemon: SIGTERM, up to 15 s, then SIGKILL; returns its exit status (-1: killed). */
static int daemon_stop(void) {
  int st = 0, code = -1;
  if (g_pid <= 0) return 0;
  kill(g_pid, SIGTERM);
  for (double t0 = now_s(); code < 0 && now_s() - t0 < 15.0; sleep_ms(10))
    if (waitpid(g_pid, &st, WNOHANG) == g_pid) code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (code < 0) kill(g_pid, SIGKILL), waitpid(g_pid, &st, 0);
  g_pid = 0;
  return code;
}

/* ---- the connection ---------------------------------------------------------- */

/* One connect() attempt to the daemon's socket; the fd or -1. */
static int try_connect(void) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", g_sock);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) return fd;
  close(fd);
  return -1;
}

/* Waits (bounded) until the daemon accepts a connection, and opens it; 0 or -1. */
static int client_open(client_t *c) {
  struct timeval tv = {IO_TIMEOUT_S, 0};
  int fd, st;
  for (double t0 = now_s(); (fd = try_connect()) < 0; sleep_ms(20)) {
    if (waitpid(g_pid, &st, WNOHANG) == g_pid) {
      g_pid = 0;
      return fail("locad exited at start-up (status %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    if (now_s() - t0 > START_TIMEOUT_S) return fail("locad did not accept within %d s", START_TIMEOUT_S);
  }
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  c->fd = fd;
  msgpack_unpacked_init(&c->msg);
  return msgpack_unpacker_init(&c->up, 1 << 20) ? 0 : fail("out of memory");
}

/* Closes the connection (c->fd < 0: never opened). */
static void client_close(client_t *c) {
  if (c->fd < 0) return;
  close(c->fd);
  c->fd = -1;
  msgpack_unpacked_destroy(&c->msg);
  msgpack_unpacker_destroy(&c->up);
}

/* Writes len bytes; 0 or -1. */
static int send_all(client_t *c, const char *p, size_t len) {
  for (ssize_t n; len > 0; p += n, len -= (size_t)n)
    if ((n = send(c->fd, p, len, MSG_NOSIGNAL)) <= 0)
      return fail("send: %s", n < 0 ? strerror(errno) : "connection closed");
  return 0;
}

/* Reads and decodes the next message into c->msg; 0 or -1. */
static int next_msg(client_t *c) {
  for (;;) {
    msgpack_unpack_return r = msgpack_unpacker_next(&c->up, &c->msg);
    if (r == MSGPACK_UNPACK_SUCCESS) return 0;
    if (r == MSGPACK_UNPACK_PARSE_ERROR) return fail("malformed MessagePack from locad");
    if (!msgpack_unpacker_reserve_buffer(&c->up, 1 << 20)) return fail("out of memory");
    ssize_t n = recv(c->fd, msgpack_unpacker_buffer(&c->up), msgpack_unpacker_buffer_capacity(&c->up), 0);
    if (n <= 0) return fail("recv: %s", n < 0 ? strerror(errno) : "locad closed the connection");
    msgpack_unpacker_buffer_consumed(&c->up, (size_t)n);
  }
}

/* Reads up to the response [1, msgid, error, result]; a notification [2, method, params]
 * only leaves its lin_iters in c->lin_iters; 0 or -1. */
static int next_response(client_t *c, uint32_t msgid) {
  for (;;) {
    if (next_msg(c)) return -1;
    const msgpack_object *o = &c->msg.data, *a = o->via.array.ptr;
    if (o->type != MSGPACK_OBJECT_ARRAY) return fail("a message from locad is not an array");
    if (o->via.array.size == 3) c->lin_iters = get_int(&a[2], "lin_iters", -1);
    else if (o->via.array.size == 4 && a[0].via.u64 == 1 && a[1].via.u64 == msgid) return 0;
    else return fail("unexpected message from locad (waiting for the response to msgid %u)", msgid);
  }
}

/* ---- requests ---------------------------------------------------------------- */

/* Starts [0, ++msgid, method, <params follow>]; returns the packer. */
static msgpack_packer *req_begin(req_t *r, client_t *c, const char *method) {
  msgpack_sbuffer_init(&r->sb);
  msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
  r->method = method;
  msgpack_pack_array(&r->pk, 4);
  msgpack_pack_int(&r->pk, 0);
  msgpack_pack_uint32(&r->pk, ++c->msgid);
  msgpack_pack_str_with_body(&r->pk, method, strlen(method));
  return &r->pk;
}

/* Sends the request, frees it, waits for its response; *res is the result (in c->msg); 0 or -1. */
static int call(client_t *c, req_t *r, const msgpack_object **res) {
  int rc = send_all(c, r->sb.data, r->sb.size);
  msgpack_sbuffer_destroy(&r->sb);
  if (rc || next_response(c, c->msgid)) return fail("%s: no response", r->method);
  const msgpack_object *a = c->msg.data.via.array.ptr, *e = a[2].via.array.ptr;
  *res = &a[3];
  if (a[2].type == MSGPACK_OBJECT_NIL) return 0;
  if (a[2].type == MSGPACK_OBJECT_ARRAY && a[2].via.array.size >= 2 && e[1].type == MSGPACK_OBJECT_STR)
    return fail("%s failed: error %lld: %.*s", r->method, (long long)e[0].via.i64, (int)e[1].via.str.size,
                e[1].via.str.ptr);
  return fail("%s failed (malformed error)", r->method);
}

/* Packs the string key k. */
static void key(msgpack_packer *pk, const char *k) { msgpack_pack_str_with_body(pk, k, strlen(k)); }

/* Packs k: integer v. */
static void kv_i(msgpack_packer *pk, const char *k, int64_t v) { key(pk, k), msgpack_pack_int64(pk, v); }

/* Packs k: double v. */
static void kv_d(msgpack_packer *pk, const char *k, double v) { key(pk, k), msgpack_pack_double(pk, v); }

/* Packs k: string v. */
static void kv_s(msgpack_packer *pk, const char *k, const char *v) {
  key(pk, k), msgpack_pack_str_with_body(pk, v, strlen(v));
}

/* Packs k: array map {dtype, shape [rows, 3], data: bin} of rows x 3 items of sz bytes (little-endian host). */
static void kv_nd3(msgpack_packer *pk, const char *k, const char *dtype, const void *data, int64_t rows, size_t sz) {
  key(pk, k);
  msgpack_pack_map(pk, 3);
  kv_s(pk, "dtype", dtype);
  key(pk, "shape");
  msgpack_pack_array(pk, 2);
  msgpack_pack_int64(pk, rows);
  msgpack_pack_int(pk, 3);
  key(pk, "data");
  msgpack_pack_bin_with_body(pk, data, (size_t)rows * 3 * sz);
}

/* ---- the W5 cloth ------------------------------------------------------------ */

/* The n x n grid of [0, s]^2 at z = 0 laid out as lc_app_grid does (vertex v: column v % n, row v / n). */
static double *grid_vertices(int n, double s) {
  double *V = calloc((size_t)n * n * 3, sizeof *V);
  for (int64_t v = 0; V && v < (int64_t)n * n; ++v) {
    V[3 * v] = s * (double)(v % n) / (n - 1);
    V[3 * v + 1] = s * (double)(v / n) / (n - 1);
  }
  return V;
}

/* Sends mesh.create with the n x n grid of [0,1]^2 (lc_app_grid's triangles); *mesh = its id; 0 or -1. */
static int create_mesh(client_t *c, int n, int64_t *mesh) {
  const int64_t nv = (int64_t)n * n, nq = (int64_t)(n - 1) * (n - 1);
  double *V = grid_vertices(n, 1.0);
  int32_t *F = malloc((size_t)nq * 6 * sizeof *F);
  for (int64_t q = 0; F && q < nq; ++q) {
    const int32_t a = (int32_t)((q / (n - 1)) * n + q % (n - 1)), f[6] = {a, a + 1, a + n + 1, a, a + n + 1, a + n};
    memcpy(F + 6 * q, f, sizeof f);
  }
  req_t r;
  const msgpack_object *res;
  msgpack_packer *pk = req_begin(&r, c, "mesh.create");
  msgpack_pack_map(pk, 3);
  kv_s(pk, "name", "frame-cloth");
  if (V && F) kv_nd3(pk, "V", "f8", V, nv, sizeof *V), kv_nd3(pk, "F", "i4", F, 2 * nq, sizeof *F);
  free(V);
  free(F);
  if (!V || !F) return msgpack_sbuffer_destroy(&r.sb), fail("out of memory for a %d x %d grid", n, n);
  if (call(c, &r, &res)) return -1;
  *mesh = get_int(res, "mesh", -1);
  return *mesh >= 0 && get_int(res, "nv", -1) == nv ? 0 : fail("mesh.create: unexpected result");
}

/* Sends problem.create with variable x (W5's state: the grid stretched 1.3 in x and y); fills *prob and
 * device (where it lives); 0 or -1. */
static int create_problem(client_t *c, int n, int64_t mesh, int64_t *prob, char *device, size_t cap) {
  double *x = grid_vertices(n, 1.3);
  if (!x) return fail("out of memory for a %d x %d grid", n, n);
  req_t r;
  const msgpack_object *res;
  msgpack_packer *pk = req_begin(&r, c, "problem.create");
  msgpack_pack_map(pk, 2);
  kv_i(pk, "mesh", mesh);
  key(pk, "variables");
  msgpack_pack_array(pk, 1);
  msgpack_pack_map(pk, 3);
  kv_s(pk, "name", "x");
  kv_i(pk, "dim", 3);
  kv_nd3(pk, "init", "f8", x, (int64_t)n * n, sizeof *x);
  free(x);
  if (call(c, &r, &res)) return -1;
  *prob = get_int(res, "problem", -1);
  get_str(res, "device", device, cap);
  return *prob >= 0 && get_int(res, "n_dofs", -1) == 3LL * n * n ? 0 : fail("problem.create: unexpected result");
}

/* Sends problem.add_term {energy, var x, weight, params (np names/values)}; *term = its id; 0 or -1. */
static int add_term(client_t *c, int64_t prob, const char *energy, double weight, int np,
                    const char *const *names, const double *vals, int64_t *term) {
  req_t r;
  const msgpack_object *res;
  msgpack_packer *pk = req_begin(&r, c, "problem.add_term");
  msgpack_pack_map(pk, 5);
  kv_i(pk, "problem", prob);
  kv_s(pk, "energy", energy);
  kv_s(pk, "var", "x");
  kv_d(pk, "weight", weight);
  key(pk, "params");
  msgpack_pack_map(pk, (size_t)np);
  for (int i = 0; i < np; ++i) kv_d(pk, names[i], vals[i]);
  if (call(c, &r, &res)) return -1;
  *term = get_int(res, "term", -1);
  return *term >= 0 ? 0 : fail("problem.add_term %s: no term id", energy);
}

/* Adds W5's terms: springs and gravity weighted h^2, inertia weight 1 (*inertia: its id); 0 or -1. */
static int add_cloth_terms(client_t *c, int64_t prob, int64_t *inertia) {
  static const char *const kn[] = {"k"}, *const dn[] = {"density"}, *const gn[] = {"gz", "density"};
  const double h2 = CLOTH_H * CLOTH_H, kv[] = {CLOTH_K}, dv[] = {CLOTH_RHO}, gv[] = {CLOTH_G, CLOTH_RHO};
  int64_t t;
  if (add_term(c, prob, "spring", h2, 1, kn, kv, &t)) return -1;
  if (add_term(c, prob, "inertia", 1.0, 1, dn, dv, inertia)) return -1;
  return add_term(c, prob, "gravity", h2, 2, gn, gv, &t);
}

/* The name of device id in server.info's device list, JSON-safe (empty when not listed); 0 or -1. */
static int device_name(client_t *c, const char *id, char *out, size_t cap) {
  req_t r;
  const msgpack_object *res, *list;
  char s[64];
  out[0] = '\0';
  msgpack_pack_map(req_begin(&r, c, "server.info"), 0);
  if (call(c, &r, &res)) return -1;
  list = get(res, "devices");
  for (uint32_t i = 0; list && list->type == MSGPACK_OBJECT_ARRAY && i < list->via.array.size; ++i) {
    get_str(&list->via.array.ptr[i], "id", s, sizeof s);
    if (!strcmp(s, id)) get_str(&list->via.array.ptr[i], "name", out, cap);
  }
  for (char *p = out; *p; ++p)
    if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) *p = ' ';
  return 0;
}

/* ---- frames ------------------------------------------------------------------ */

/* Packs one frame: problem.step {problem, h, var, inertia_term, method newton, options, return?}. */
static void pack_step(req_t *r, client_t *c, const opts_t *o, int64_t prob, int64_t inertia) {
  msgpack_packer *pk = req_begin(r, c, "problem.step");
  msgpack_pack_map(pk, o->ret ? 7 : 6);
  kv_i(pk, "problem", prob);
  kv_d(pk, "h", CLOTH_H);
  kv_s(pk, "var", "x");
  kv_i(pk, "inertia_term", inertia);
  kv_s(pk, "method", "newton");
  key(pk, "options");
  msgpack_pack_map(pk, 8);
  kv_i(pk, "max_iters", 1);
  kv_s(pk, "linear", "pcg");
  kv_d(pk, "lin_rtol", o->lin_rtol);
  kv_i(pk, "lin_max_iters", o->lin_max_iters);
  kv_d(pk, "gtol", 0.0);
  kv_d(pk, "dtol", 0.0);
  kv_d(pk, "ftol", 0.0);
  kv_i(pk, "progress_every", 1); /* one notification: its lin_iters are the PCG iterations */
  if (o->ret) {
    key(pk, "return");
    msgpack_pack_array(pk, 1);
    msgpack_pack_str_with_body(pk, "x", 1);
  }
}

/* Runs one frame (the request is packed before the clock starts); fills *f; 0 or -1. */
static int run_frame(client_t *c, const opts_t *o, int64_t prob, int64_t inertia, frame_t *f) {
  req_t r;
  const msgpack_object *res, *vars;
  pack_step(&r, c, o, prob, inertia);
  c->lin_iters = -1;
  const double t0 = now_s();
  if (call(c, &r, &res)) return -1;
  f->ms = (now_s() - t0) * 1e3;
  f->lin_iters = (double)c->lin_iters;
  f->solve_ms = get_dbl(res, "t_total", 0.0) * 1e3;
  f->host_syncs = get_int(res, "host_syncs", -1);
  f->iters = get_int(res, "iters", -1);
  vars = get(res, "variables");
  if (o->ret && !(vars && vars->type == MSGPACK_OBJECT_MAP && vars->via.map.size == 1))
    return fail("problem.step: x not returned");
  return f->host_syncs >= 0 ? 0 : fail("problem.step: no host_syncs in the result");
}

/* Ascending order of doubles, for qsort. */
static int cmp_dbl(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile q (0..1) of a double field (byte offset off) over the n frames; NaN on ENOMEM. */
static double frames_pct(const frame_t *f, int n, size_t off, double q) {
  double *v = malloc((size_t)n * sizeof *v), r;
  const int k = (int)(q * n + 0.999999);
  if (!v) return 0.0 / 0.0;
  for (int i = 0; i < n; ++i) memcpy(&v[i], (const char *)&f[i] + off, sizeof *v);
  qsort(v, (size_t)n, sizeof *v, cmp_dbl);
  r = v[k < 1 ? 0 : k > n ? n - 1 : k - 1];
  free(v);
  return r;
}

/* Prints the JSON line of the timed frames f[0..n). */
static void report(const opts_t *o, const char *dev, const char *name, const frame_t *f, int n) {
  int64_t smax = 0, not_one = 0;
  for (int i = 0; i < n; ++i) {
    smax = f[i].host_syncs > smax ? f[i].host_syncs : smax;
    not_one += f[i].iters != 1;
  }
  const size_t ms = offsetof(frame_t, ms), sv = offsetof(frame_t, solve_ms), li = offsetof(frame_t, lin_iters);
  printf("{\"bench\":\"frame\",\"device\":\"%s\",\"device_name\":\"%s\",\"grid\":%d,\"vertices\":%lld,"
         "\"frames\":%d,\"warmup\":%d,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,"
         "\"solve_p50_ms\":%.3f,\"host_syncs_per_frame\":%lld,\"host_syncs_max\":%lld,"
         "\"lin_iters_p50\":%.0f,\"lin_iters_max\":%.0f,\"lin_rtol\":%g,\"lin_max_iters\":%d,"
         "\"frames_not_one_iter\":%lld,\"method\":\"newton-pcg\",\"request\":\"problem.step\","
         "\"return_x\":%s,\"target_ms\":%d}\n",
         dev, name, o->grid, (long long)o->grid * o->grid, n, o->warmup, frames_pct(f, n, ms, 0.5),
         frames_pct(f, n, ms, 0.9), frames_pct(f, n, ms, 0.0), frames_pct(f, n, ms, 1.0),
         frames_pct(f, n, sv, 0.5), (long long)f[n - 1].host_syncs, (long long)smax, frames_pct(f, n, li, 0.5),
         frames_pct(f, n, li, 1.0), o->lin_rtol, o->lin_max_iters, (long long)not_one,
         o->ret ? "true" : "false", TARGET_MS);
  fflush(stdout);
}

/* Sets up the cloth, runs the warm-up and the timed frames over an open connection, reports; 0 or -1. */
static int bench(client_t *c, const opts_t *o) {
  int64_t mesh = -1, prob = -1, inertia = -1;
  char dev[32], name[256];
  if (create_mesh(c, o->grid, &mesh) || create_problem(c, o->grid, mesh, &prob, dev, sizeof dev)) return -1;
  if (add_cloth_terms(c, prob, &inertia) || device_name(c, dev, name, sizeof name)) return -1;
  frame_t *f = calloc((size_t)o->frames, sizeof *f), w;
  int rc = f ? 0 : fail("out of memory");
  for (int i = 0; !rc && i < o->warmup; ++i) rc = run_frame(c, o, prob, inertia, &w);
  for (int i = 0; !rc && i < o->frames; ++i) rc = run_frame(c, o, prob, inertia, &f[i]);
  if (!rc) report(o, dev, name, f, o->frames);
  free(f);
  return rc;
}

/* ---- options, main ----------------------------------------------------------- */

/* Default daemon: `locad` beside this executable (carry-bin/), else ../server/locad (a build). */
static void default_locad(char *out, size_t cap) {
  char self[PATH_MAX], alt[PATH_MAX + 64];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  snprintf(out, cap, "locad");
  if (n <= 0) return;
  self[n] = '\0';
  const char *dir = dirname(self);
  snprintf(alt, sizeof alt, "%s/locad", dir);
  if (access(alt, X_OK) != 0) snprintf(alt, sizeof alt, "%s/../server/locad", dir);
  const size_t len = strlen(alt);
  if (len < cap) memcpy(out, alt, len + 1); /* else "locad" from the PATH stays */
}

/* Prints the usage on f. */
static void usage(FILE *f) {
  fputs("usage: locad-bench-frame [--locad PATH] [--device cpu|cuda:N|auto] [--grid N] [--frames R]\n"
        "                         [--warmup W] [--lin-rtol X] [--lin-max-iters K] [--return]\n"
        "One problem.step (one Newton-PCG iteration) per frame on the W5 cloth (N x N grid,\n"
        "default 317), through a locad daemon started on a private Unix socket; one JSON line.\n",
        f);
}

/* Parses an integer option value in [lo, hi] into *v; 0 or -1. */
static int int_arg(const char *name, const char *s, int lo, int hi, int *v) {
  char *end;
  long x = strtol(s, &end, 10);
  if (!*s || *end || x < lo || x > hi) return fail("%s needs an integer in %d..%d", name, lo, hi);
  *v = (int)x;
  return 0;
}

/* Parses a positive finite option value into *v; 0 or -1. */
static int dbl_arg(const char *name, const char *s, double *v) {
  char *end;
  double x = strtod(s, &end);
  if (!*s || *end || !(x > 0.0 && x < 1e300)) return fail("%s needs a positive number", name);
  *v = x;
  return 0;
}

/* Parses the command line into o (lin_*: the solver's defaults, sent explicitly); 0, 1 (--help) or -1. */
static int parse(int argc, char **argv, opts_t *o) {
  *o = (opts_t){.device = "cpu", .grid = 317, .frames = 30, .warmup = 3, .lin_max_iters = 1000, .lin_rtol = 1e-8};
  default_locad(o->locad, sizeof o->locad);
  for (int i = 1, rc = 0; i < argc; ++i) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) return 1;
    else if (!strcmp(a, "--return")) { o->ret = 1; continue; }
    else if (!v) rc = fail("%s: unknown option or missing value", a);
    else if (!strcmp(a, "--locad")) snprintf(o->locad, sizeof o->locad, "%s", v);
    else if (!strcmp(a, "--device")) o->device = v;
    else if (!strcmp(a, "--grid")) rc = int_arg(a, v, 2, 2000, &o->grid);
    else if (!strcmp(a, "--frames")) rc = int_arg(a, v, 1, 1000000, &o->frames);
    else if (!strcmp(a, "--warmup")) rc = int_arg(a, v, 0, 1000000, &o->warmup);
    else if (!strcmp(a, "--lin-max-iters")) rc = int_arg(a, v, 1, 100000000, &o->lin_max_iters);
    else if (!strcmp(a, "--lin-rtol")) rc = dbl_arg(a, v, &o->lin_rtol);
    else rc = fail("unknown option %s", a);
    if (rc) return rc;
    ++i; /* the value */
  }
  return 0;
}

/* Starts the daemon, benchmarks, always stops the daemon; exit status 0 or 1. */
int main(int argc, char **argv) {
  opts_t o;
  client_t c = {.fd = -1};
  int rc = parse(argc, argv, &o);
  if (rc) {
    usage(rc > 0 ? stdout : stderr);
    return rc > 0 ? 0 : 1;
  }
  if (access(o.locad, X_OK) != 0) return fail("no locad daemon at %s (pass --locad PATH)", o.locad) ? 1 : 0;
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  rc = daemon_start(&o);
  if (!rc) rc = client_open(&c);
  if (!rc) rc = bench(&c, &o);
  client_close(&c);
  const int code = daemon_stop();
  if (code != 0) fprintf(stderr, "locad-bench-frame: warning: locad exit status %d (-1: killed)\n", code);
  if (rc) dump_log();
  remove_dir();
  return rc ? 1 : 0;
}
