/* metrics.c - the daemon's metrics in the Prometheus text exposition format
 * (served at /metrics by http.c): requests and errors by method with latency
 * histograms, queue depth, requests in flight, connections, objects, memory
 * (the store's by device, the requests' in flight), solve iterations and
 * host synchronisations.  Loop thread only. */
#define _POSIX_C_SOURCE 200809L /* uv.h needs pthread_rwlock_t */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_impl.h"

/* Upper bounds (seconds) of the latency buckets; the last is +Inf. */
static const double lc_bucket_le[LC_LATENCY_BUCKETS - 1] = {0.0005, 0.001, 0.005, 0.01, 0.05,
                                                             0.1,    0.5,   1.0,   5.0,  30.0};

/* The stat of method (a new one while room is left, else "other"). */
static lc_method_stat *method_stat(lc_server *s, const char *method) {
  for (int i = 0; i < s->n_mstats; ++i)
    if (!strcmp(s->mstats[i].name, method)) return &s->mstats[i];
  const int printable = strlen(method) < sizeof s->mstats[0].name && !strpbrk(method, "\"\\\\\n");
  const char *name = printable && s->n_mstats < LC_METHOD_STATS - 1 ? method : "other";
  for (int i = 0; i < s->n_mstats; ++i)
    if (!strcmp(s->mstats[i].name, name)) return &s->mstats[i];
  lc_method_stat *m = &s->mstats[s->n_mstats++];
  memset(m, 0, sizeof *m);
  snprintf(m->name, sizeof m->name, "%s", name);
  return m;
}

void lc_metrics_record(lc_server *s, const char *method, int ok, double seconds) {
  lc_method_stat *m = method_stat(s, method);
  int b = 0;
  while (b < LC_LATENCY_BUCKETS - 1 && seconds > lc_bucket_le[b]) ++b;
  m->count++;
  m->errors += !ok;
  m->bucket[b]++;
  m->sum_s += seconds;
}

/* A growing text buffer. */
typedef struct mbuf {
  char *p;
  size_t len, cap;
  int failed;
} mbuf;

/* Appends printf-formatted text to b. */
static void put(mbuf *b, const char *fmt, ...) {
  va_list ap;
  for (int tries = 0; tries < 2 && !b->failed; ++tries) {
    va_start(ap, fmt);
    const int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) break;
    if ((size_t)n < b->cap - b->len) {
      b->len += (size_t)n;
      return;
    }
    const size_t cap = (b->cap + (size_t)n + 1) * 2;
    char *q = realloc(b->p, cap);
    if (!q) b->failed = 1;
    else b->p = q, b->cap = cap;
  }
}

/* One gauge or counter with its help and type lines. */
static void metric(mbuf *b, const char *name, const char *type, const char *help, double v) {
  put(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

/* The per-method counters and latency histograms. */
static void method_metrics(mbuf *b, const lc_server *s) {
  put(b, "# HELP locad_requests_total Requests answered, by method.\n# TYPE locad_requests_total counter\n");
  for (int i = 0; i < s->n_mstats; ++i)
    put(b, "locad_requests_total{method=\"%s\"} %llu\n", s->mstats[i].name, (unsigned long long)s->mstats[i].count);
  put(b, "# HELP locad_request_errors_total Requests answered with an error, by method.\n"
         "# TYPE locad_request_errors_total counter\n");
  for (int i = 0; i < s->n_mstats; ++i)
    put(b, "locad_request_errors_total{method=\"%s\"} %llu\n", s->mstats[i].name,
        (unsigned long long)s->mstats[i].errors);
  put(b, "# HELP locad_request_duration_seconds Time from a request's arrival to its answer, by method.\n"
         "# TYPE locad_request_duration_seconds histogram\n");
  for (int i = 0; i < s->n_mstats; ++i) {
    const lc_method_stat *m = &s->mstats[i];
    uint64_t cum = 0;
    for (int k = 0; k < LC_LATENCY_BUCKETS; ++k) {
      cum += m->bucket[k];
      if (k < LC_LATENCY_BUCKETS - 1)
        put(b, "locad_request_duration_seconds_bucket{method=\"%s\",le=\"%g\"} %llu\n", m->name, lc_bucket_le[k],
            (unsigned long long)cum);
      else
        put(b, "locad_request_duration_seconds_bucket{method=\"%s\",le=\"+Inf\"} %llu\n", m->name,
            (unsigned long long)cum);
    }
    put(b, "locad_request_duration_seconds_sum{method=\"%s\"} %.9g\n", m->name, m->sum_s);
    put(b, "locad_request_duration_seconds_count{method=\"%s\"} %llu\n", m->name, (unsigned long long)m->count);
  }
}

int lc_metrics_text(lc_server *s, char **out, size_t *len) {
  mbuf b = {malloc(8192), 0, 8192, 0};
  if (!b.p) return -1;
  b.p[0] = '\0';
  lc_rpc_figures f;
  lc_rpc_metrics(s->rpc, &f);
  method_metrics(&b, s);
  metric(&b, "locad_queue_depth", "gauge", "Engine requests waiting for a worker.", (double)lc_pool_depth(s));
  metric(&b, "locad_requests_in_flight", "gauge", "Requests queued, running or being answered.", (double)s->inflight);
  metric(&b, "locad_connections", "gauge", "Open client connections.", (double)s->n_conns);
  metric(&b, "locad_connections_total", "counter", "Client connections accepted.", (double)s->st.conns_total);
  metric(&b, "locad_protocol_errors_total", "counter", "Malformed frames and requests.", (double)s->st.protocol_errors);
  metric(&b, "locad_busy_rejections_total", "counter", "Requests refused: queue full.", (double)s->st.busy);
  metric(&b, "locad_memory_rejections_total", "counter", "Requests refused by the memory budget.",
         (double)s->st.memory_rejections);
  metric(&b, "locad_cancelled_total", "counter", "Requests cancelled while queued or running.", (double)s->st.cancelled);
  metric(&b, "locad_timeouts_total", "counter", "Connections closed by a timeout.", (double)s->st.timeouts);
  metric(&b, "locad_auth_failures_total", "counter", "Failed authentications.", (double)s->st.auth_failures);
  put(&b, "# HELP locad_objects Meshes and problems in the store.\n# TYPE locad_objects gauge\n"
          "locad_objects{kind=\"mesh\"} %llu\nlocad_objects{kind=\"problem\"} %llu\n",
      (unsigned long long)f.meshes, (unsigned long long)f.problems);
  put(&b, "# HELP locad_memory_bytes Memory of the store's objects, by device (meshes: host).\n"
          "# TYPE locad_memory_bytes gauge\n");
  for (int k = 0; k < f.n_devices; ++k)
    put(&b, "locad_memory_bytes{device=\"%s\"} %llu\n", f.device[k], (unsigned long long)f.device_bytes[k]);
  metric(&b, "locad_request_memory_bytes", "gauge", "Estimated memory of the requests in flight.",
         (double)s->mem_inflight);
  metric(&b, "locad_request_memory_budget_bytes", "gauge", "The budget of that memory (--max-memory).",
         (double)s->cfg.max_memory);
  metric(&b, "locad_solve_iterations_total", "counter", "Solver iterations of problem.solve and problem.step.",
         (double)f.solve_iters);
  metric(&b, "locad_host_syncs_total", "counter", "Device-to-host reads made by solves.", (double)f.host_syncs);
  if (b.failed) {
    free(b.p);
    return -1;
  }
  *out = b.p;
  *len = b.len;
  return 0;
}
