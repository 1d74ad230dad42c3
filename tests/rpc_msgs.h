/* rpc_msgs.h - what the daemon suites (test_server over TCP and Unix
 * sockets, test_ws over WebSocket) share to talk to a real daemon, whatever
 * the transport: the clock, requests built as MessagePack-RPC frames, look-ups
 * in response maps, and the grid mesh they send.  Header-only (static inline);
 * include after <check.h>, <msgpack.h> and <time.h>. */
#ifndef LC_TEST_RPC_MSGS_H
#define LC_TEST_RPC_MSGS_H

#include <stdint.h>
#include <string.h>

/* Seconds on the monotonic clock. */
static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sleeps ms milliseconds. */
static inline void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A request under construction (its buffer is freed by the suite's req_send). */
typedef struct req {
  msgpack_sbuffer sb;
  msgpack_packer pk;
} req_t;

/* Packs a str. */
static inline void pack_str(msgpack_packer *pk, const char *s) { msgpack_pack_str_with_body(pk, s, strlen(s)); }

/* Starts [0, msgid, method, ...]; the caller packs the params next. */
static inline msgpack_packer *req_begin(req_t *r, uint32_t msgid, const char *method) {
  msgpack_sbuffer_init(&r->sb);
  msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
  msgpack_pack_array(&r->pk, 4);
  msgpack_pack_int(&r->pk, 0);
  msgpack_pack_uint32(&r->pk, msgid);
  pack_str(&r->pk, method);
  return &r->pk;
}

/* Packs "k": v (integer). */
static inline void kv_i(msgpack_packer *pk, const char *k, int64_t v) {
  pack_str(pk, k);
  msgpack_pack_int64(pk, v);
}

/* Packs "k": v (string). */
static inline void kv_s(msgpack_packer *pk, const char *k, const char *v) {
  pack_str(pk, k);
  pack_str(pk, v);
}

/* The value of str key in map m, or NULL. */
static inline const msgpack_object *get(const msgpack_object *m, const char *key) {
  if (!m || m->type != MSGPACK_OBJECT_MAP) return NULL;
  for (uint32_t i = 0; i < m->via.map.size; i++) {
    const msgpack_object *k = &m->via.map.ptr[i].key;
    if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
        !memcmp(k->via.str.ptr, key, k->via.str.size))
      return &m->via.map.ptr[i].val;
  }
  return NULL;
}

/* The integer at key (fails the test when there is none). */
static inline int64_t get_int(const msgpack_object *m, const char *key) {
  const msgpack_object *v = get(m, key);
  ck_assert_msg(v && (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER),
                "no integer '%s' in the result", key);
  return v->via.i64;
}

/* Packs "V" and "F" of an n x n vertex grid (bumpy z) as nested arrays. */
static inline void pack_grid(msgpack_packer *pk, int n) {
  pack_str(pk, "V");
  msgpack_pack_array(pk, (size_t)(n * n));
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++) {
      msgpack_pack_array(pk, 3);
      msgpack_pack_double(pk, i);
      msgpack_pack_double(pk, j);
      msgpack_pack_double(pk, 0.1 * ((i * 7 + j * 3) % 5));
    }
  pack_str(pk, "F");
  msgpack_pack_array(pk, (size_t)(2 * (n - 1) * (n - 1)));
  for (int j = 0; j + 1 < n; j++)
    for (int i = 0; i + 1 < n; i++) {
      const int v = j * n + i;
      const int t[6] = {v, v + 1, v + n + 1, v, v + n + 1, v + n};
      for (int k = 0; k < 6; k += 3) {
        msgpack_pack_array(pk, 3);
        for (int q = 0; q < 3; q++) msgpack_pack_int(pk, t[k + q]);
      }
    }
}

#endif
