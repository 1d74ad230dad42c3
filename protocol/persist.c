/* persist.c - the object store on disk (lc_rpc_config.state_dir): a SQLite
 * database (WAL) that keeps everything clients built, written as it changes
 * and replayed at start-up.
 *
 * Two tables carry the state:
 *  - journal(seq, method, params, created): every successful request that
 *    builds or removes structure (meshes, problems, variables, terms, term
 *    weights and constants, contact settings, deletions), as the msgpack
 *    bytes of its params, with the id it created;
 *  - state(problem, x, fixed): each problem's latest state vector and fixed
 *    flags, replaced after every request that may change them (solves,
 *    steps, set_variable, fix, unfix, new variables).
 * A request's rows are committed before its answer leaves (the caller
 * persists, then answers), so a SIGKILL at any moment loses no answered
 * change: SQLite's WAL keeps committed transactions across a process crash.
 * Replay runs the journal through the ordinary dispatcher with each
 * creation's recorded id, then restores every problem's state.  The schema
 * is versioned (meta.schema); a newer one, or a file that is not a locad
 * state database, refuses to start with a message that says so. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "rpc_impl.h"

#define LC_PERSIST_SCHEMA 1

struct lc_persist {
  sqlite3 *db;
  pthread_mutex_t lock; /* one writer at a time (requests of several problems run in parallel) */
  char path[4096];
};

/* Sets err from the database's last error. */
static int db_fail(lc_persist *ps, lc_error *err, const char *what) {
  return lc_error_set(err, LC_EIO, "state %s: %s: %s", ps->path, what, sqlite3_errmsg(ps->db));
}

/* Runs sql (no results). */
static int db_exec(lc_persist *ps, const char *sql, lc_error *err) {
  return sqlite3_exec(ps->db, sql, NULL, NULL, NULL) == SQLITE_OK ? LC_OK : db_fail(ps, err, sql);
}

/* The schema version in meta, 0 when the database is new; -1 on error. */
static int db_schema(lc_persist *ps, lc_error *err) {
  sqlite3_stmt *st = NULL;
  int v = -1;
  if (sqlite3_prepare_v2(ps->db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'", -1, &st,
                         NULL) != SQLITE_OK) {
    db_fail(ps, err, "not a locad state database (or corrupt)");
    return -1;
  }
  const int has_meta = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  if (!has_meta) return 0;
  if (sqlite3_prepare_v2(ps->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (v < 1) lc_error_set(err, LC_EIO, "state %s: no schema version: not a locad state database", ps->path);
  return v;
}

/* Creates the tables of a new database, or checks an existing one's version. */
static int db_init(lc_persist *ps, lc_error *err) {
  int rc = db_exec(ps, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;", err);
  const int v = rc ? -1 : db_schema(ps, err);
  if (rc || v < 0) return rc ? rc : LC_EIO;
  if (v > LC_PERSIST_SCHEMA)
    return lc_error_set(err, LC_EIO, "state %s: written by a newer locad (schema %d; this one reads %d)", ps->path,
                        v, LC_PERSIST_SCHEMA);
  if (v == LC_PERSIST_SCHEMA) return db_exec(ps, "PRAGMA quick_check;", err);
  return db_exec(ps,
                 "BEGIN;"
                 "CREATE TABLE meta (key TEXT PRIMARY KEY, value);"
                 "INSERT INTO meta VALUES ('schema', 1), ('app', 'locad');"
                 "CREATE TABLE journal (seq INTEGER PRIMARY KEY, method TEXT NOT NULL, params BLOB NOT NULL,"
                 "  created INTEGER NOT NULL, target INTEGER NOT NULL, key TEXT);"
                 "CREATE INDEX journal_target ON journal (target);"
                 "CREATE INDEX journal_key ON journal (key);"
                 "INSERT INTO meta VALUES ('next_id', 1);"
                 "CREATE TABLE state (problem INTEGER PRIMARY KEY, x BLOB NOT NULL, fixed BLOB NOT NULL,"
                 "  stepper BLOB);"
                 "COMMIT;",
                 err);
}

/* Opens (creating) dir/locad.db. */
int lc_persist_open(const char *dir, lc_persist **out, lc_error *err) {
  lc_persist *ps = calloc(1, sizeof *ps);
  *out = NULL;
  if (!ps) return lc_error_set(err, LC_ENOMEM, "state: out of memory");
  snprintf(ps->path, sizeof ps->path, "%s/locad.db", dir);
  pthread_mutex_init(&ps->lock, NULL);
  int rc = LC_OK;
  if (sqlite3_open_v2(ps->path, &ps->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
      SQLITE_OK)
    rc = db_fail(ps, err, "cannot open");
  if (!rc) rc = db_init(ps, err);
  if (rc) {
    lc_persist_close(ps);
    return rc;
  }
  *out = ps;
  return LC_OK;
}

/* Closes the database (every transaction is already committed). */
void lc_persist_close(lc_persist *ps) {
  if (!ps) return;
  sqlite3_close(ps->db);
  pthread_mutex_destroy(&ps->lock);
  free(ps);
}

/* Binds and steps one statement; returns LC_OK or an error. */
static int db_write(lc_persist *ps, const char *sql, int n, const int64_t *ints, const void *const *blobs,
                    const int *blob_len, const char *text, lc_error *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(ps->db, sql, -1, &st, NULL) != SQLITE_OK) return db_fail(ps, err, sql);
  for (int i = 0; i < n; ++i) {
    if (blobs && blobs[i]) sqlite3_bind_blob(st, i + 1, blobs[i], blob_len[i], SQLITE_STATIC);
    else if (text && i == 0) sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else sqlite3_bind_int64(st, i + 1, ints[i]);
  }
  const int ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  return ok ? LC_OK : db_fail(ps, err, sql);
}

/* Appends a journal entry (see rpc_impl.h), in one transaction with the
 * removal of what it supersedes and the raise of meta.next_id. */
int lc_persist_journal(lc_persist *ps, const lc_persist_entry *e, lc_error *err) {
  const void *blobs[5] = {NULL, e->params, NULL, NULL, NULL};
  const int lens[5] = {0, (int)e->len, 0, 0, 0};
  const int64_t ints[5] = {0, 0, (int64_t)e->created, (int64_t)e->target, 0};
  pthread_mutex_lock(&ps->lock);
  int rc = db_exec(ps, "BEGIN IMMEDIATE", err);
  for (int k = 0; !rc && k < 3 && e->supersedes[k]; ++k) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ps->db, "DELETE FROM journal WHERE key = ?1", -1, &st, NULL) != SQLITE_OK) {
      rc = db_fail(ps, err, "superseding journal entries");
      break;
    }
    sqlite3_bind_text(st, 1, e->supersedes[k], -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(ps, err, "superseding journal entries");
    sqlite3_finalize(st);
  }
  if (!rc && e->purge_target) {
    const int64_t t[1] = {(int64_t)e->target};
    rc = db_write(ps, "DELETE FROM journal WHERE target = ?1", 1, t, NULL, NULL, NULL, err);
  }
  if (!rc && !e->purge_target) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ps->db, "INSERT INTO journal (method, params, created, target, key) VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &st, NULL) != SQLITE_OK) {
      rc = db_fail(ps, err, "writing the journal");
    } else {
      sqlite3_bind_text(st, 1, e->method, -1, SQLITE_STATIC);
      sqlite3_bind_blob(st, 2, blobs[1], lens[1], SQLITE_STATIC);
      sqlite3_bind_int64(st, 3, ints[2]);
      sqlite3_bind_int64(st, 4, ints[3]);
      if (e->key) sqlite3_bind_text(st, 5, e->key, -1, SQLITE_STATIC);
      else sqlite3_bind_null(st, 5);
      if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(ps, err, "writing the journal");
      sqlite3_finalize(st);
    }
  }
  if (!rc && e->created) {
    const int64_t t[1] = {(int64_t)e->created + 1};
    rc = db_write(ps, "UPDATE meta SET value = max(value, ?1) WHERE key = 'next_id'", 1, t, NULL, NULL, NULL, err);
  }
  if (!rc) rc = db_exec(ps, "COMMIT", err);
  else sqlite3_exec(ps->db, "ROLLBACK", NULL, NULL, NULL);
  pthread_mutex_unlock(&ps->lock);
  return rc;
}

/* The first id never given out (meta.next_id). */
uint64_t lc_persist_next_id(lc_persist *ps) {
  sqlite3_stmt *st = NULL;
  uint64_t v = 1;
  if (sqlite3_prepare_v2(ps->db, "SELECT value FROM meta WHERE key = 'next_id'", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = (uint64_t)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* Replaces the state row of problem id (x: n doubles, fixed: n flags,
 * stepper: sbytes of the problem.step state or NULL). */
int lc_persist_state(lc_persist *ps, uint64_t id, const double *x, const uint8_t *fixed, int64_t n,
                     const void *stepper, size_t sbytes, lc_error *err) {
  sqlite3_stmt *st = NULL;
  pthread_mutex_lock(&ps->lock);
  int rc = LC_OK;
  if (sqlite3_prepare_v2(ps->db, "INSERT OR REPLACE INTO state (problem, x, fixed, stepper) VALUES (?1, ?2, ?3, ?4)",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = db_fail(ps, err, "writing a state");
  } else {
    sqlite3_bind_int64(st, 1, (int64_t)id);
    sqlite3_bind_blob(st, 2, n > 0 ? (const void *)x : "", (int)(n * (int64_t)sizeof *x), SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, n > 0 ? (const void *)fixed : "", (int)n, SQLITE_STATIC);
    if (stepper) sqlite3_bind_blob(st, 4, stepper, (int)sbytes, SQLITE_STATIC);
    else sqlite3_bind_null(st, 4);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(ps, err, "writing a state");
    sqlite3_finalize(st);
  }
  pthread_mutex_unlock(&ps->lock);
  return rc;
}

/* Drops the state row of problem id (deleted). */
int lc_persist_forget(lc_persist *ps, uint64_t id, lc_error *err) {
  const int64_t ints[1] = {(int64_t)id};
  pthread_mutex_lock(&ps->lock);
  int rc = db_write(ps, "DELETE FROM state WHERE problem = ?1", 1, ints, NULL, NULL, NULL, err);
  pthread_mutex_unlock(&ps->lock);
  return rc;
}

/* Calls fn(user, method, params, len, created) for every journal entry in
 * order; stops at the first non-zero return (passed through). */
int lc_persist_each_journal(lc_persist *ps, int (*fn)(void *, const char *, const char *, size_t, uint64_t),
                            void *user, lc_error *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(ps->db, "SELECT method, params, created FROM journal ORDER BY seq", -1, &st, NULL) !=
      SQLITE_OK)
    return db_fail(ps, err, "reading the journal");
  int rc = LC_OK, s;
  while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW)
    rc = fn(user, (const char *)sqlite3_column_text(st, 0), sqlite3_column_blob(st, 1),
            (size_t)sqlite3_column_bytes(st, 1), (uint64_t)sqlite3_column_int64(st, 2));
  if (!rc && s != SQLITE_DONE) rc = db_fail(ps, err, "reading the journal");
  sqlite3_finalize(st);
  return rc;
}

/* Calls fn(user, problem, x, fixed, n, stepper, sbytes) for every state row. */
int lc_persist_each_state(lc_persist *ps, lc_persist_state_fn fn, void *user, lc_error *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(ps->db, "SELECT problem, x, fixed, stepper FROM state", -1, &st, NULL) != SQLITE_OK)
    return db_fail(ps, err, "reading the states");
  int rc = LC_OK, s;
  while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
    const int64_t n = sqlite3_column_bytes(st, 2);
    if (sqlite3_column_bytes(st, 1) != n * (int64_t)sizeof(double))
      rc = lc_error_set(err, LC_EIO, "state %s: problem %lld: x and fixed flags disagree in size", ps->path,
                        (long long)sqlite3_column_int64(st, 0));
    else
      rc = fn(user, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1), sqlite3_column_blob(st, 2), n,
              sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3));
  }
  if (!rc && s != SQLITE_DONE) rc = db_fail(ps, err, "reading the states");
  sqlite3_finalize(st);
  return rc;
}
