/* worker.c - the engine side of the daemon: a global FIFO of decoded
 * requests, a small pool of worker threads that run lc_rpc_handle on them
 * (at most one request per problem at a time, in arrival order), and the
 * hand-back of completions and progress notifications to the loop thread
 * through uv_async_send. */
#define _POSIX_C_SOURCE 200809L /* uv.h needs pthread_rwlock_t */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server_impl.h"
#include "threads.h"

#define LC_MAX_NOTIFS 4096 /* notifications waiting for the loop; more are dropped */

typedef struct lc_worker {
  uv_thread_t tid;
  lc_server *s;
  int idx;
} lc_worker;

int lc_job_decode(lc_job *j) {
  size_t off = 0;
  j->decoded = msgpack_unpack_next(&j->req, j->frame, j->frame_len, &off) == MSGPACK_UNPACK_SUCCESS &&
               off == j->frame_len;
  return j->decoded ? 0 : -1;
}

lc_job *lc_job_new(lc_conn *c, char *frame, size_t len, int defer) {
  lc_job *j = calloc(1, sizeof *j);
  if (!j) {
    free(frame);
    return NULL;
  }
  j->frame = frame;
  j->frame_len = len;
  j->problem = -1;
  msgpack_unpacked_init(&j->req);
  msgpack_sbuffer_init(&j->resp);
  if (!defer && lc_job_decode(j) != 0) {
    msgpack_unpacked_destroy(&j->req);
    free(frame);
    free(j);
    return NULL;
  }
  j->conn = c;
  c->refs++;
  j->t0 = uv_hrtime();
  return j;
}

void lc_job_free(lc_job *j) {
  if (!j) return;
  if (j->conn) { /* loop thread: give back the memory budget */
    j->conn->srv->mem_inflight -= j->mem;
    j->conn->mem -= j->mem;
  }
  msgpack_unpacked_destroy(&j->req);
  msgpack_sbuffer_destroy(&j->resp);
  free(j->frame);
  lc_conn_unref(j->conn);
  free(j);
}

/* Whether a job of problem could start now (caller holds mu). */
static int problem_free(const lc_server *s, int64_t problem) {
  if (problem < 0) return 1;
  for (int i = 0; i < s->cfg.workers; i++)
    if (s->running[i] && s->running[i]->problem == problem) return 0;
  return 1;
}

/* Unlinks and returns the first job that may run now, or NULL (holds mu). */
static lc_job *pick(lc_server *s) {
  lc_job *prev = NULL;
  for (lc_job *j = s->q_head; j; prev = j, j = j->next) {
    if (!problem_free(s, j->problem)) continue;
    if (prev) prev->next = j->next;
    else s->q_head = j->next;
    if (s->q_tail == j) s->q_tail = prev;
    j->next = NULL;
    s->q_len--;
    return j;
  }
  return NULL;
}

/* lc_rpc_notify_fn on a worker thread: copies a notification for the loop. */
static void worker_notify(void *user, const char *data, size_t len) {
  lc_job *j = user;
  lc_server *s = j->conn->srv;
  lc_notif *n = malloc(sizeof *n);
  char *copy = malloc(len ? len : 1);
  if (!n || !copy || j->cancel) goto drop;
  memcpy(copy, data, len);
  n->next = NULL;
  n->job = j;
  n->len = len;
  n->data = copy;
  uv_mutex_lock(&s->done_mu);
  if (s->async_closed || s->nt_count >= LC_MAX_NOTIFS) {
    uv_mutex_unlock(&s->done_mu);
    goto drop;
  }
  if (s->nt_tail) s->nt_tail->next = n;
  else s->nt_head = n;
  s->nt_tail = n;
  s->nt_count++;
  uv_async_send(&s->async);
  uv_mutex_unlock(&s->done_mu);
  return;
drop:
  free(n);
  free(copy);
}

/* Runs one request: packs its response into j->resp. */
static void run_job(lc_server *s, lc_job *j) {
  msgpack_packer pk;
  lc_rpc_call call = {worker_notify, j, &j->cancel};
  msgpack_packer_init(&pk, &j->resp, msgpack_sbuffer_write);
  lc_threads_enter(); /* the running requests share the thread budget (engine/threads.h) */
  if (j->cancel) lc_rpc_pack_error(&pk, j->msgid, LC_RPC_ECANCELED, "cancelled");
  else lc_rpc_handle(s->rpc, &j->req.data, &pk, &call);
  lc_threads_leave();
}

/* Hands a finished job to the loop thread. */
static void post_done(lc_server *s, lc_job *j) {
  uv_mutex_lock(&s->done_mu);
  if (s->done_tail) s->done_tail->next = j;
  else s->done_head = j;
  s->done_tail = j;
  if (!s->async_closed) uv_async_send(&s->async);
  uv_mutex_unlock(&s->done_mu);
}

static void worker_main(void *arg) {
  lc_worker *w = arg;
  lc_server *s = w->s;
  uv_mutex_lock(&s->mu);
  for (;;) {
    lc_job *j = NULL;
    while (!s->stop_workers && !(j = pick(s))) uv_cond_wait(&s->cv, &s->mu);
    if (!j) break;
    s->running[w->idx] = j;
    uv_mutex_unlock(&s->mu);
    run_job(s, j);
    uv_mutex_lock(&s->mu);
    s->running[w->idx] = NULL;
    post_done(s, j);
    uv_cond_broadcast(&s->cv); /* the next request of that problem may start */
  }
  uv_mutex_unlock(&s->mu);
}

int lc_pool_start(lc_server *s) {
  int n = s->cfg.workers, rc = 0;
  s->running = calloc((size_t)n, sizeof *s->running);
  s->workers = calloc((size_t)n, sizeof *s->workers);
  if (!s->running || !s->workers) return UV_ENOMEM;
  for (int i = 0; i < n && rc == 0; i++) {
    s->workers[i].s = s;
    s->workers[i].idx = i;
    rc = uv_thread_create(&s->workers[i].tid, worker_main, &s->workers[i]);
    if (rc == 0) s->n_workers++;
  }
  return rc;
}

int lc_pool_push(lc_server *s, lc_job *j) {
  uv_mutex_lock(&s->mu);
  if (s->q_len >= s->cfg.queue_depth) {
    uv_mutex_unlock(&s->mu);
    return LC_RPC_EBUSY;
  }
  if (s->q_tail) s->q_tail->next = j;
  else s->q_head = j;
  s->q_tail = j;
  s->q_len++;
  uv_cond_signal(&s->cv);
  uv_mutex_unlock(&s->mu);
  s->inflight++;
  j->conn->inflight++;
  return 0;
}

size_t lc_pool_depth(lc_server *s) {
  uv_mutex_lock(&s->mu);
  size_t n = s->q_len;
  uv_mutex_unlock(&s->mu);
  return n;
}

/* Unlinks the queued jobs for which keep() is false into a list (holds mu). */
static lc_job *take_queued(lc_server *s, const lc_conn *c) {
  lc_job *out = NULL, **pp = &s->q_head;
  s->q_tail = NULL;
  while (*pp) {
    lc_job *j = *pp;
    if (!c || j->conn == c) {
      *pp = j->next;
      j->next = out;
      out = j;
      s->q_len--;
    } else {
      s->q_tail = j;
      pp = &j->next;
    }
  }
  return out;
}

/* Flags the running jobs of c (every running job when c is NULL; holds mu);
 * returns how many were not flagged before. */
static int flag_running(lc_server *s, const lc_conn *c) {
  int n = 0;
  for (int i = 0; i < s->cfg.workers; i++)
    if (s->running[i] && (!c || s->running[i]->conn == c)) {
      n += !s->running[i]->cancel;
      s->running[i]->cancel = 1;
    }
  return n;
}

/* Retires a dropped job on the loop thread, replying code unless 0. */
static void drop_job(lc_server *s, lc_job *j, int code) {
  s->inflight--;
  j->conn->inflight--;
  s->st.cancelled += !j->cancel; /* a flagged job was counted when flagged */
  if (code) lc_conn_write_error(j->conn, j->msgid, code, "the daemon is shutting down");
  lc_job_free(j);
}

void lc_pool_cancel_conn(lc_server *s, lc_conn *c) {
  uv_mutex_lock(&s->mu);
  lc_job *list = take_queued(s, c);
  s->st.cancelled += (uint64_t)flag_running(s, c);
  uv_mutex_unlock(&s->mu);
  while (list) {
    lc_job *next = list->next;
    drop_job(s, list, 0);
    list = next;
  }
}

void lc_pool_cancel_all(lc_server *s) {
  uv_mutex_lock(&s->mu);
  lc_job *list = take_queued(s, NULL);
  s->st.cancelled += (uint64_t)flag_running(s, NULL);
  uv_mutex_unlock(&s->mu);
  while (list) {
    lc_job *next = list->next;
    drop_job(s, list, LC_RPC_ESHUTDOWN);
    list = next;
  }
}

int lc_pool_cancel_problem(lc_server *s, int64_t problem) {
  int n = 0;
  uv_mutex_lock(&s->mu);
  for (lc_job *j = s->q_head; j; j = j->next)
    if (j->problem == problem) s->st.cancelled += !j->cancel, j->cancel = 1, n++;
  for (int i = 0; i < s->cfg.workers; i++)
    if (s->running[i] && s->running[i]->problem == problem)
      s->st.cancelled += !s->running[i]->cancel, s->running[i]->cancel = 1, n++;
  uv_mutex_unlock(&s->mu);
  return n;
}

int lc_pool_stop(lc_server *s) {
  int busy = 0;
  if (!s->workers) return 0;
  uv_mutex_lock(&s->mu);
  s->stop_workers = 1;
  for (int i = 0; i < s->n_workers; i++) busy |= s->running[i] != NULL;
  uv_cond_broadcast(&s->cv);
  uv_mutex_unlock(&s->mu);
  if (busy) return -1;
  for (int i = 0; i < s->n_workers; i++) uv_thread_join(&s->workers[i].tid);
  free(s->workers);
  free(s->running);
  s->workers = NULL;
  s->running = NULL;
  return 0;
}

/* Whether a response frame carries a nil error (a success). */
int lc_response_ok(const char *d, size_t n) {
  size_t i = 2;
  if (n < 4 || (unsigned char)d[0] != 0x94 || d[1] != 1) return 0;
  unsigned char t = (unsigned char)d[2];
  i = t < 0x80 ? 3 : t == 0xcc ? 4 : t == 0xcd ? 5 : t == 0xce ? 7 : n;
  return i < n && (unsigned char)d[i] == 0xc0;
}

/* Delivers a completed job on the loop thread. */
static void complete(lc_server *s, lc_job *j) {
  lc_conn *c = j->conn;
  double ms = (double)(uv_hrtime() - j->t0) / 1e6;
  int ok = lc_response_ok(j->resp.data, j->resp.size);
  lc_metrics_record(s, j->method, ok, ms / 1000.0);
  s->inflight--;
  c->inflight--;
  s->st.responses++;
  lc_log(ok ? LC_LOG_INFO : LC_LOG_WARN, c->id, j->msgid, "%s %s %.1fms%s", j->method,
         ok ? "done" : "error", ms, c->closing ? " (client gone)" : "");
  if (!c->closing && j->resp.size) {
    size_t len = j->resp.size;
    lc_conn_write(c, msgpack_sbuffer_release(&j->resp), len);
  } else if (!c->closing) {
    lc_conn_write_error(c, j->msgid, LC_RPC_EINTERNAL, "no response was produced");
  }
  lc_conn_resume(c);
  lc_job_free(j);
}

void lc_pool_on_async(uv_async_t *a) {
  lc_server *s = a->data;
  uv_mutex_lock(&s->done_mu);
  lc_notif *nt = s->nt_head;
  lc_job *done = s->done_head;
  s->nt_head = s->nt_tail = NULL;
  s->done_head = s->done_tail = NULL;
  s->nt_count = 0;
  uv_mutex_unlock(&s->done_mu);
  while (nt) { /* before the completions: a job's notifications precede its response */
    lc_notif *next = nt->next;
    lc_conn *c = nt->job->conn;
    if (!c->closing && c->pending_write < s->cfg.max_write_queue / 2) {
      s->st.notifications++;
      lc_conn_write(c, nt->data, nt->len);
    } else {
      free(nt->data);
    }
    free(nt);
    nt = next;
  }
  while (done) {
    lc_job *next = done->next;
    complete(s, done);
    done = next;
  }
  lc_server_check_drained(s);
}
