/* main.c - the locad executable: reads flags and environment variables into
 * an lc_server_config and runs the daemon (server.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"

#ifndef LOCAD_VERSION
#define LOCAD_VERSION "0.0.0"
#endif

static const char *const usage =
    "usage: locad [options]\n"
    "MessagePack-RPC mesh-optimization daemon.\n"
    "\n"
    "  --listen HOST:PORT      listen on TCP (repeatable; [V6]:PORT for IPv6; port 0 picks one)\n"
    "                          env LOCAD_LISTEN (comma-separated); default 127.0.0.1:7878 unless\n"
    "                          --unix is given\n"
    "  --unix PATH             listen on a Unix socket (mode 0600)       env LOCAD_UNIX\n"
    "  --state-dir DIR         keep every mesh and problem in DIR/locad.db (SQLite) as it\n"
    "                          changes, and restore them at start (default: memory only)\n"
    "                                                                    env LOCAD_STATE_DIR\n"
    "  --http HOST:PORT        serve /healthz, /readyz and /metrics (Prometheus) over HTTP; no\n"
    "                          auth: use a private address              env LOCAD_HTTP\n"
    "  --ws HOST:PORT          serve MessagePack-RPC over WebSocket at ws://HOST:PORT/rpc (one\n"
    "                          message per binary frame; same auth and limits as --listen; port 0\n"
    "                          picks one)                               env LOCAD_WS\n"
    "  --web-root DIR          with --ws, also serve DIR's files over HTTP GET on that port\n"
    "                          (index.html for /; no auth: only what a browser may fetch)\n"
    "                                                                    env LOCAD_WEB_ROOT\n"
    "  --ws-origin LIST        browser origins allowed on --ws besides the daemon's own page\n"
    "                          (comma-separated, e.g. http://localhost:5173; * allows any)\n"
    "                                                                    env LOCAD_WS_ORIGIN\n"
    ;
/* The second half (a string literal stays under C99's 4095 bytes). */
static const char *const usage_more =
    "  --token-file PATH       file holding the auth token (>= 16 bytes) env LOCAD_TOKEN_FILE\n"
    "                          (or the token itself in env LOCAD_TOKEN); required to listen on a\n"
    "                          non-loopback address\n"
    "  --workers N             engine worker threads (default 2)         env LOCAD_WORKERS\n"
    "  --threads N             CPU threads the running requests share: one busy request uses\n"
    "                          all, two half each (default: the cores available; OpenMP threads\n"
    "                          sleep 5 ms after a parallel region unless KMP_BLOCKTIME says\n"
    "                          otherwise)                                env LOCAD_THREADS\n"
    "  --thread-share on|off   off: every running request takes all --threads, as before the\n"
    "                          budget was shared (for comparisons; default on)\n"
    "                                                                    env LOCAD_THREAD_SHARE\n"
    "  --queue-depth N         queued engine requests before 'busy' (default 256)\n"
    "                                                                    env LOCAD_QUEUE_DEPTH\n"
    "  --max-frame BYTES       largest message (default 256M)            env LOCAD_MAX_FRAME\n"
    "  --max-frame-unauth BYTES  largest message before auth (default 64K)\n"
    "                                                                    env LOCAD_MAX_FRAME_UNAUTH\n"
    "  --max-inflight N        requests in flight per connection before reading pauses\n"
    "                          (default 32)                              env LOCAD_MAX_INFLIGHT\n"
    "  --max-write-queue BYTES unsent response bytes before a slow client is dropped (default 64M;\n"
    "                          one response larger than that is still sent whole)\n"
    "                                                                    env LOCAD_MAX_WRITE_QUEUE\n"
    "  --max-connections N     open connections (default 1024)           env LOCAD_MAX_CONNECTIONS\n"
    "  --max-memory BYTES      requests in flight, decoded, all connections together (default a\n"
    "                          quarter of RAM; at least 1M)              env LOCAD_MAX_MEMORY\n"
    "  --max-conn-memory BYTES the same for one connection (default a quarter of --max-memory)\n"
    "                                                                    env LOCAD_MAX_CONN_MEMORY\n"
    "  --max-objects N         meshes + problems in the store (default 4096)\n"
    "                                                                    env LOCAD_MAX_OBJECTS\n"
    "  --device D              default device of problems: cpu, cuda:N or auto (the first usable\n"
    "                          GPU, else cpu; default auto). A device that cannot be used stops\n"
    "                          the start-up                              env LOCAD_DEVICE\n"
    "  --shutdown-timeout SEC  drain time on SIGTERM/SIGINT (default 10) env LOCAD_SHUTDOWN_TIMEOUT\n"
    "  --idle-timeout SEC      close a connection idle that long: nothing in flight, unsent or\n"
    "                          half-received (default 3600; 0: never)    env LOCAD_IDLE_TIMEOUT\n"
    "  --read-timeout SEC      close a connection whose frame stays half-received that long\n"
    "                          (default 60; 0: never)                    env LOCAD_READ_TIMEOUT\n"
    "  --auth-timeout SEC      close a connection not authenticated that long, when a token is\n"
    "                          set (default 10; 0: never)                env LOCAD_AUTH_TIMEOUT\n"
    "  --log-level LEVEL       debug, info, warn or error (default info) env LOCAD_LOG_LEVEL\n"
    "  --version               print the version\n"
    "  --help                  print this help\n"
    "\n"
    "Flags override environment variables. Sizes take a K, M or G suffix.\n";

typedef struct opts {
  lc_server_config cfg;
  char *token_buf;
  char *listen_env;
} opts;

/* Parses a byte count with an optional K/M/G suffix; 0 or -1. */
static int parse_size(const char *s, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10, end++;
  else if (*end == 'M' || *end == 'm') shift = 20, end++;
  else if (*end == 'G' || *end == 'g') shift = 30, end++;
  if (errno || end == s || *end || s[0] == '-' || v == 0 || v > (SIZE_MAX >> shift)) return -1;
  *out = (size_t)(v << shift);
  return 0;
}

/* Parses a positive count within max; 0 or -1. */
static int parse_count(const char *s, unsigned long max, unsigned long *out) {
  size_t v;
  if (parse_size(s, &v) != 0 || v > max) return -1;
  *out = (unsigned long)v;
  return 0;
}

/* Reads the token file: its first line without trailing whitespace. */
static char *read_token(const char *path) {
  FILE *f = fopen(path, "r");
  char *buf = calloc(1, 4097);
  size_t n = 0;
  if (f && buf) n = fread(buf, 1, 4096, f);
  if (f) fclose(f);
  if (!f || !buf) {
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  buf[strcspn(buf, "\r\n")] = '\0';
  n = strlen(buf);
  while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t')) buf[--n] = '\0';
  return buf;
}

/* Applies one option (flag name without "--") to o; 0 or -1. */
static int apply(opts *o, const char *name, const char *val) {
  lc_server_config *c = &o->cfg;
  unsigned long n = 0;
  size_t z = 0;
  char *end;
  if (!strcmp(name, "listen")) {
    if (c->n_listen >= LC_SERVER_MAX_LISTEN) return -1;
    c->listen[c->n_listen++] = val;
  } else if (!strcmp(name, "unix")) {
    c->unix_path = val;
  } else if (!strcmp(name, "state-dir")) {
    if (!val[0]) return -1;
    c->state_dir = val;
  } else if (!strcmp(name, "http")) {
    if (!strchr(val, ':')) return -1;
    c->http = val;
  } else if (!strcmp(name, "ws")) {
    if (!strchr(val, ':')) return -1;
    c->ws = val;
  } else if (!strcmp(name, "ws-origin")) {
    if (!val[0]) return -1;
    c->ws_origins = val;
  } else if (!strcmp(name, "web-root")) {
    if (!val[0]) return -1;
    c->web_root = val;
  } else if (!strcmp(name, "token-file")) {
    free(o->token_buf);
    o->token_buf = read_token(val);
    if (!o->token_buf || !o->token_buf[0]) return -1;
    c->token = o->token_buf;
  } else if (!strcmp(name, "thread-share")) {
    if (strcmp(val, "on") && strcmp(val, "off")) return -1;
    c->thread_share_off = !strcmp(val, "off");
  } else if (!strcmp(name, "threads")) {
    if (parse_count(val, 4096, &n)) return -1;
    c->threads = (int)n;
  } else if (!strcmp(name, "workers")) {
    if (parse_count(val, 64, &n)) return -1;
    c->workers = (int)n;
  } else if (!strcmp(name, "queue-depth")) {
    if (parse_count(val, 1000000, &n)) return -1;
    c->queue_depth = n;
  } else if (!strcmp(name, "max-frame") || !strcmp(name, "max-frame-unauth") ||
             !strcmp(name, "max-write-queue")) {
    if (parse_size(val, &z)) return -1;
    *(name[4] == 'w' ? &c->max_write_queue : name[9] ? &c->max_frame_unauth : &c->max_frame) = z;
  } else if (!strcmp(name, "max-memory") || !strcmp(name, "max-conn-memory")) {
    if (parse_size(val, &z) || z < ((size_t)1 << 20)) return -1;
    *(name[4] == 'm' ? &c->max_memory : &c->max_conn_memory) = z;
  } else if (!strcmp(name, "max-inflight")) {
    if (parse_count(val, 100000, &n)) return -1;
    c->max_inflight = (unsigned)n;
  } else if (!strcmp(name, "max-connections")) {
    if (parse_count(val, 1000000, &n)) return -1;
    c->max_connections = (unsigned)n;
  } else if (!strcmp(name, "max-objects")) {
    if (parse_count(val, 100000000, &n)) return -1;
    c->max_objects = n;
  } else if (!strcmp(name, "shutdown-timeout") || !strcmp(name, "idle-timeout") ||
             !strcmp(name, "read-timeout") || !strcmp(name, "auth-timeout")) {
    double *t = name[0] == 's' ? &c->shutdown_timeout : name[0] == 'i' ? &c->idle_timeout
                : name[0] == 'r' ? &c->read_timeout : &c->auth_timeout;
    *t = strtod(val, &end);
    if (*end || end == val || !(*t >= 0 && *t < 86400 * 7)) return -1;
  } else if (!strcmp(name, "device")) {
    if (!val[0]) return -1;
    c->device = val; /* checked at start-up (lc_device_resolve) */
  } else if (!strcmp(name, "log-level")) {
    int lv = lc_log_parse_level(val);
    if (lv < 0) return -1;
    lc_log_set_level(lv);
  } else {
    return -1;
  }
  return 0;
}

/* Environment variables, applied before the flags. */
static int apply_env(opts *o) {
  static const char *const names[] = {
      "unix", "http", "ws", "ws-origin", "web-root", "state-dir", "token-file", "workers", "threads", "thread-share", "queue-depth", "max-frame", "max-frame-unauth",
      "max-inflight", "max-write-queue", "max-connections", "max-objects", "max-memory", "max-conn-memory", "shutdown-timeout",
      "idle-timeout", "read-timeout", "auth-timeout",
      "device", "log-level"};
  char var[64];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    size_t k = 0;
    for (const char *p = "LOCAD_"; *p; p++) var[k++] = *p;
    for (const char *p = names[i]; *p; p++) var[k++] = *p == '-' ? '_' : (char)(*p - 'a' + 'A');
    var[k] = '\0';
    const char *v = getenv(var);
    if (v && *v && apply(o, names[i], v) != 0) {
      fprintf(stderr, "locad: bad value for %s: '%s'\n", var, v);
      return -1;
    }
  }
  const char *tok = getenv("LOCAD_TOKEN");
  if (tok && *tok && !o->cfg.token) o->cfg.token = tok;
  const char *l = getenv("LOCAD_LISTEN");
  if (l && *l) {
    o->listen_env = strdup(l);
    if (!o->listen_env) return -1;
    for (char *save = NULL, *t = strtok_r(o->listen_env, ",", &save); t; t = strtok_r(NULL, ",", &save))
      if (apply(o, "listen", t) != 0) return -1;
  }
  return 0;
}

/* Parses argv; returns -1 on error, 1 when done (help/version), 0 to run. */
static int parse_args(opts *o, int argc, char **argv) {
  int env_listen = o->cfg.n_listen;
  for (int i = 1; i < argc; i += 2) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      fputs(usage_more, stdout);
      return 1;
    }
    if (!strcmp(a, "--version")) {
      printf("locad %s\n", LOCAD_VERSION);
      return 1;
    }
    if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
      fprintf(stderr, "locad: unknown or incomplete option '%s' (see --help)\n", a);
      return -1;
    }
    if (!strcmp(a, "--listen") && env_listen > 0) { /* flags replace LOCAD_LISTEN */
      o->cfg.n_listen = 0;
      env_listen = 0;
    }
    if (apply(o, a + 2, argv[i + 1]) != 0) {
      fprintf(stderr, "locad: bad value for %s: '%s' (see --help)\n", a, argv[i + 1]);
      return -1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  opts o;
  int rc;
  memset(&o, 0, sizeof o);
  lc_server_config_default(&o.cfg);
  signal(SIGPIPE, SIG_IGN);
  /* Before the first parallel region: libomp's threads spin 200 ms after
   * each one by default, so a daemon answering a request every frame kept
   * every core busy; 5 ms keeps back-to-back regions as fast (bench/
   * results/2026-12-02-threads.md) and lets an idle daemon sleep. */
  setenv("KMP_BLOCKTIME", "5", 0);
  rc = apply_env(&o);
  if (rc == 0) rc = parse_args(&o, argc, argv);
  if (rc == 0 && o.cfg.token && strlen(o.cfg.token) < LC_MIN_TOKEN) {
    fprintf(stderr, "locad: the auth token has %zu bytes; at least %d are required\n", strlen(o.cfg.token),
            LC_MIN_TOKEN);
    rc = -1;
  }
  if (rc == 0 && o.cfg.web_root && !o.cfg.ws) {
    fprintf(stderr, "locad: --web-root serves files on the --ws port: give --ws HOST:PORT too\n");
    rc = -1;
  }
  if (rc == 0 && o.cfg.n_listen == 0 && !o.cfg.unix_path) o.cfg.listen[o.cfg.n_listen++] = "127.0.0.1:7878";
  if (rc == 0) rc = lc_server_run(&o.cfg);
  else rc = rc > 0 ? 0 : 64;
  free(o.token_buf);
  free(o.listen_env);
  return rc;
}
