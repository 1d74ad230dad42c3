/* fuzz_protocol.c - libFuzzer target for everything that reads the wire:
 * the pre-scanner, msgpack-c decoding of accepted frames, and the RPC
 * dispatcher with a live object store (so that sequences of valid-looking
 * requests reach deep into mesh and problem methods).  Built only with
 * clang; CTest runs it for a bounded time (see tests/CMakeLists.txt). */
#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rpc.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One store for the whole run, like a long-lived daemon. */
static lc_rpc *store(void) {
  static lc_rpc *r;
  if (!r) {
    lc_rpc_config cfg = {.version = "fuzz", .device = "cpu", .max_frame = 1u << 20, .max_objects = 64};
    lc_error err;
    if (lc_rpc_create(&cfg, &r, &err)) abort();
  }
  return r;
}

/* The resumable scan of buf[0..len) fed in pieces of step bytes must agree
 * with one pass: the same verdict, frame length and object count. */
static void check_resume(const uint8_t *buf, size_t len, const lc_scan_limits *lim, size_t step) {
  size_t n1 = 0, n2 = 0, have = 0;
  uint64_t o1 = 0, o2 = 0;
  const int rc1 = lc_scan_frame_objects(buf, len, lim, &n1, &o1, NULL);
  lc_scan_ctx ctx;
  lc_scan_reset(&ctx);
  int rc2 = LC_OK;
  while (rc2 == LC_OK && n2 == 0 && have < len) {
    have = have + step < len ? have + step : len;
    rc2 = lc_scan_resume(&ctx, buf, have, lim, &n2, &o2, NULL);
  }
  /* an error may show earlier on a prefix (a declared size that cannot fit); a frame found on a
   * prefix is the same frame */
  if (rc1 == LC_OK && (rc2 != LC_OK || n1 != n2 || o1 != o2)) abort();
  if (rc1 != LC_OK && rc2 == LC_OK && n2 != 0) abort();
}

/* Feeds every complete frame of the input to the dispatcher. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lc_scan_limits lim;
  lc_scan_limits_default(&lim);
  lim.max_frame = 1u << 20;
  if (size > 0) check_resume(data, size, &lim, 1 + data[0] % 17);
  size_t off = 0;
  while (off < size) {
    size_t n = 0;
    if (lc_scan_frame(data + off, size - off, &lim, &n, NULL) || n == 0) break;
    msgpack_unpacked msg;
    msgpack_unpacked_init(&msg);
    size_t pos = 0;
    if (msgpack_unpack_next(&msg, (const char *)data + off, n, &pos) == MSGPACK_UNPACK_SUCCESS &&
        msg.data.type == MSGPACK_OBJECT_ARRAY && msg.data.via.array.size == 4 &&
        msg.data.via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
        msg.data.via.array.ptr[0].via.u64 == 0) {
      msgpack_sbuffer sb;
      msgpack_packer pk;
      msgpack_sbuffer_init(&sb);
      msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
      lc_rpc_call call = {NULL, NULL, NULL};
      lc_rpc_handle(store(), &msg.data, &pk, &call);
      msgpack_sbuffer_destroy(&sb);
    }
    msgpack_unpacked_destroy(&msg);
    off += n;
  }
  return 0;
}
