/* fuzz_dag.c - libFuzzer target for custom-energy descriptions: any bytes
 * that unpack to a MessagePack object go through lc_dag_decode; a decoded
 * DAG is evaluated, packed back and decoded again, and must keep its
 * fingerprint (the round trip get_term relies on).  The pre-scanner runs
 * first, as in the daemon: msgpack-c alone would allocate whatever count a
 * header declares.  Built only with clang;
 * CTest runs it for a bounded time from tests/fuzz/corpus_dag. */
#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dag_codec.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes, evaluates and round-trips one description. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lc_scan_limits lim;
  lc_scan_limits_default(&lim);
  size_t n = 0;
  if (lc_scan_frame(data, size, &lim, &n, NULL) || n == 0) return 0;
  msgpack_unpacked u;
  msgpack_unpacked_init(&u);
  size_t off = 0;
  if (msgpack_unpack_next(&u, (const char *)data, n, &off) == MSGPACK_UNPACK_SUCCESS) {
    lc_dag_wire w;
    lc_error err;
    if (lc_dag_decode(&u.data, &w, &err) == LC_OK) {
      double x[LC_DAG_MAX_N], k[LC_DAG_MAX_CONSTS], p[LC_DAG_MAX_PARAMS], out[LC_DAG_MAX_OUT];
      for (int i = 0; i < LC_DAG_MAX_N; ++i) x[i] = 0.25 + 0.5 * i;
      for (int i = 0; i < LC_DAG_MAX_CONSTS; ++i) k[i] = 1.0 + i;
      for (int i = 0; i < LC_DAG_MAX_PARAMS; ++i) p[i] = 2.0 - i;
      if (lc_dag_eval(w.dag, x, k, p, out, NULL)) abort();
      double kr[LC_DAG_MAX_COUT];
      if (w.rest && lc_dag_eval(w.rest, x, NULL, NULL, kr, NULL)) abort();
      msgpack_sbuffer sb;
      msgpack_packer pk;
      msgpack_sbuffer_init(&sb);
      msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
      lc_dag_pack(&pk, &w);
      msgpack_unpacked v;
      msgpack_unpacked_init(&v);
      size_t o2 = 0;
      lc_dag_wire w2;
      if (msgpack_unpack_next(&v, sb.data, sb.size, &o2) != MSGPACK_UNPACK_SUCCESS) abort();
      if (lc_dag_decode(&v.data, &w2, &err) != LC_OK || lc_dag_hash(w2.dag) != lc_dag_hash(w.dag)) abort();
      lc_dag_destroy(w2.dag);
      lc_dag_destroy(w2.rest);
      msgpack_unpacked_destroy(&v);
      msgpack_sbuffer_destroy(&sb);
      lc_dag_destroy(w.dag);
      lc_dag_destroy(w.rest);
    }
  }
  msgpack_unpacked_destroy(&u);
  return 0;
}
