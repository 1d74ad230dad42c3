/* test_protocol.c - Check suite for protocol/: the frame pre-scanner against
 * malformed and truncated input, the codec's array validation, and whole
 * sessions through lc_rpc_handle (meshes, problems, terms, variables, fixes,
 * every eval output, solves with progress notifications, dynamics steps,
 * deletion and the errors that follow; devices in server.info and
 * problem.create). Requests are built with msgpack_packer, as a client
 * would. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <check.h>
#include <sqlite3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "rpc.h"
#include "scan.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static void pstr(msgpack_packer *pk, const char *s) { lc_codec_pack_str(pk, s); }

/* Scans buf expecting a complete frame of exactly len bytes. */
static void expect_frame(const char *buf, size_t len) {
  size_t fl = 99;
  lc_error err = {0};
  ck_assert_int_eq(lc_scan_frame((const uint8_t *)buf, len, NULL, &fl, &err), LC_OK);
  ck_assert_uint_eq(fl, len);
  for (size_t cut = 0; cut < len; ++cut) {
    fl = 99;
    ck_assert_msg(lc_scan_frame((const uint8_t *)buf, cut, NULL, &fl, &err) == LC_OK && fl == 0,
                  "prefix of %zu/%zu bytes: rc or frame_len wrong (%s)", cut, len, err.msg);
  }
}

/* Scans bytes expecting error code want. */
static void expect_scan(const uint8_t *b, size_t len, const lc_scan_limits *lim, int want) {
  size_t fl = 99;
  lc_error err = {0};
  const int rc = lc_scan_frame(b, len, lim, &fl, &err);
  ck_assert_msg(rc == want, "rc %d, wanted %d (%s)", rc, want, err.msg);
  if (want != LC_OK) ck_assert_uint_eq(fl, 0);
}

/* ---- scanner ------------------------------------------------------------ */

START_TEST(scan_every_type_truncated) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  char big[300];
  memset(big, 'a', sizeof big);
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 4);
  msgpack_pack_int(&pk, 0);
  msgpack_pack_uint32(&pk, 70000);
  pstr(&pk, "server.info");
  msgpack_pack_map(&pk, 3);
  pstr(&pk, "scalars");
  msgpack_pack_array(&pk, 20);
  msgpack_pack_nil(&pk);
  msgpack_pack_true(&pk);
  msgpack_pack_false(&pk);
  msgpack_pack_float(&pk, 1.5f);
  msgpack_pack_double(&pk, -2.25);
  msgpack_pack_uint8(&pk, 200);
  msgpack_pack_uint16(&pk, 60000);
  msgpack_pack_uint32(&pk, 4000000000u);
  msgpack_pack_uint64(&pk, 1ull << 60);
  msgpack_pack_int8(&pk, -100);
  msgpack_pack_int16(&pk, -30000);
  msgpack_pack_int32(&pk, -2000000000);
  msgpack_pack_int64(&pk, -(1ll << 60));
  msgpack_pack_int(&pk, -5);
  msgpack_pack_str(&pk, 40);
  msgpack_pack_str_body(&pk, big, 40);
  msgpack_pack_str(&pk, 300);
  msgpack_pack_str_body(&pk, big, 300);
  msgpack_pack_bin(&pk, 10);
  msgpack_pack_bin_body(&pk, big, 10);
  msgpack_pack_bin(&pk, 300);
  msgpack_pack_bin_body(&pk, big, 300);
  msgpack_pack_array(&pk, 0);
  msgpack_pack_map(&pk, 0);
  pstr(&pk, "ext");
  msgpack_pack_array(&pk, 7);
  const size_t ext_len[7] = {1, 2, 4, 8, 16, 3, 300};
  for (int i = 0; i < 7; ++i) {
    msgpack_pack_ext(&pk, ext_len[i], 5);
    msgpack_pack_ext_body(&pk, big, ext_len[i]);
  }
  pstr(&pk, "wide");
  /* 32-bit and 16-bit headers written by hand (non-minimal but valid) */
  static const uint8_t wide[] = {
      0xdd, 0, 0, 0, 6,                     /* array32 of 6 */
      0xdb, 0, 0, 0, 2, 'h', 'i',           /* str32 */
      0xc6, 0, 0, 0, 1, 7,                  /* bin32 */
      0xc9, 0, 0, 0, 1, 3, 9,               /* ext32 */
      0xdf, 0, 0, 0, 1, 0xa1, 'k', 0xc0,    /* map32 */
      0xde, 0, 1, 0xa1, 'k', 0xdc, 0, 1, 1, /* map16 { k: array16 [1] } */
      0xc8, 0, 1, 1, 2};                    /* ext16 */
  msgpack_sbuffer_write(&sb, (const char *)wide, sizeof wide);
  expect_frame(sb.data, sb.size);
  /* resumed piece by piece (each call sees the bytes so far, as a socket delivers them), the
   * walk finds the same frame and object count as one pass, and only at the last piece */
  size_t fl1 = 0;
  uint64_t obj1 = 0;
  lc_error e1;
  ck_assert_int_eq(lc_scan_frame_objects((const uint8_t *)sb.data, sb.size, NULL, &fl1, &obj1, &e1), LC_OK);
  ck_assert_uint_eq(fl1, sb.size);
  const size_t pieces[4] = {1, 3, 64, 1000};
  for (int k = 0; k < 4; ++k) {
    lc_scan_ctx ctx;
    lc_scan_reset(&ctx);
    size_t have = 0, fl = 0;
    uint64_t obj = 0;
    while (fl == 0) {
      have = have + pieces[k] < sb.size ? have + pieces[k] : sb.size;
      ck_assert_int_eq(lc_scan_resume(&ctx, (const uint8_t *)sb.data, have, NULL, &fl, &obj, &e1), LC_OK);
      ck_assert(fl == 0 || have == sb.size);
      if (have == sb.size) ck_assert_uint_eq(fl, sb.size);
    }
    ck_assert_uint_eq(obj, obj1);
  }
  /* and msgpack-c decodes what the scanner accepted */
  msgpack_unpacked u;
  lc_error err;
  ck_assert_int_eq(lc_codec_decode(sb.data, sb.size, &u, &err), LC_OK);
  ck_assert_int_eq(u.data.via.array.ptr[3].via.map.size, 3);
  msgpack_unpacked_destroy(&u);
  msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(scan_huge_counts) {
  static const uint8_t arr32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
  static const uint8_t map32[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
  static const uint8_t str32[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'};
  static const uint8_t bin32[] = {0xc6, 0x7f, 0xff, 0xff, 0xff};
  static const uint8_t ext32[] = {0xc9, 0xff, 0xff, 0xff, 0xff, 1};
  static const uint8_t nested[] = {0x91, 0xdd, 0x10, 0x00, 0x00, 0x00}; /* [array32 2^28] */
  expect_scan(arr32, sizeof arr32, NULL, LC_ERANGE);
  expect_scan(map32, sizeof map32, NULL, LC_ERANGE);
  expect_scan(str32, sizeof str32, NULL, LC_ERANGE);
  expect_scan(bin32, sizeof bin32, NULL, LC_ERANGE);
  expect_scan(ext32, sizeof ext32, NULL, LC_ERANGE);
  expect_scan(nested, sizeof nested, NULL, LC_ERANGE);
  /* a length past the end but within max_frame only needs more bytes */
  static const uint8_t str_short[] = {0xdb, 0, 0, 0, 10, 'a', 'b'};
  expect_scan(str_short, sizeof str_short, NULL, LC_OK);
  /* small max_frame */
  lc_scan_limits lim;
  lc_scan_limits_default(&lim);
  lim.max_frame = 100;
  static uint8_t bin8[202] = {0xc4, 200};
  expect_scan(bin8, sizeof bin8, &lim, LC_ERANGE);
  expect_scan(bin8, 2, &lim, LC_ERANGE);
  static uint8_t arr16[3] = {0xdc, 0, 101};
  expect_scan(arr16, sizeof arr16, &lim, LC_ERANGE);
  arr16[2] = 90;
  expect_scan(arr16, sizeof arr16, &lim, LC_OK);
  /* object cap */
  lim.max_frame = 1000;
  lim.max_objects = 10;
  static uint8_t many[21] = {0xdc, 0, 18};
  memset(many + 3, 0xc0, 18);
  expect_scan(many, sizeof many, &lim, LC_ERANGE);
}
END_TEST

START_TEST(scan_depth_and_types) {
  uint8_t deep[64];
  memset(deep, 0x91, sizeof deep);
  deep[40] = 0x00;
  expect_scan(deep, 41, NULL, LC_EPARSE); /* 40 levels > 16 */
  deep[16] = 0x00;
  expect_scan(deep, 17, NULL, LC_OK);     /* exactly 16 */
  deep[16] = 0x90;
  expect_scan(deep, 17, NULL, LC_EPARSE); /* 17 with an empty array */
  lc_scan_limits lim;
  lc_scan_limits_default(&lim);
  lim.max_depth = 1000; /* clamped to msgpack-c's 32 */
  memset(deep, 0x91, sizeof deep);
  deep[32] = 0x00;
  size_t fl = 0;
  lc_error err;
  ck_assert_int_eq(lc_scan_frame(deep, 33, &lim, &fl, &err), LC_OK);
  ck_assert_uint_eq(fl, 33);
  msgpack_unpacked u;
  ck_assert_int_eq(lc_codec_decode((const char *)deep, 33, &u, &err), LC_OK);
  msgpack_unpacked_destroy(&u);
  deep[32] = 0x91;
  deep[33] = 0x00;
  expect_scan(deep, 34, &lim, LC_EPARSE);
  static const uint8_t bad[] = {0xc1};
  static const uint8_t bad_in[] = {0x93, 0x01, 0xc1, 0x02};
  expect_scan(bad, 1, NULL, LC_EPARSE);
  expect_scan(bad_in, sizeof bad_in, NULL, LC_EPARSE);
  expect_scan(bad, 0, NULL, LC_OK); /* empty buffer: need more */
  /* msgpack-c's own errors are reported, not fatal */
  ck_assert_int_eq(lc_codec_decode((const char *)bad_in, sizeof bad_in, &u, &err), LC_EPARSE);
  ck_assert_int_eq(lc_codec_decode((const char *)bad_in, 2, &u, &err), LC_EPARSE);
}
END_TEST

START_TEST(scan_method_names) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  char name[300];
  memset(name, 'm', sizeof name);
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  /* request method names: str or bin of up to 256 bytes; 257 is refused, as a notification is not */
  for (int bin = 0; bin < 2; ++bin)
    for (int len = 256; len <= 257; ++len)
      for (int note = 0; note < 2; ++note) {
        msgpack_pack_array(&pk, note ? 3 : 4);
        msgpack_pack_int(&pk, note ? 2 : 0);
        if (!note) msgpack_pack_int(&pk, 1);
        if (bin) msgpack_pack_bin(&pk, (size_t)len), msgpack_pack_bin_body(&pk, name, (size_t)len);
        else msgpack_pack_str(&pk, (size_t)len), msgpack_pack_str_body(&pk, name, (size_t)len);
        msgpack_pack_map(&pk, 0);
        expect_scan((const uint8_t *)sb.data, sb.size, NULL, len > 256 && !note ? LC_EPARSE : LC_OK);
        msgpack_sbuffer_clear(&sb);
      }
  /* method neither str nor bin: a request is refused (uint8-encoded type too), a notification
   * passes (it is never answered), a response has no method */
  static const uint8_t req_int[] = {0x94, 0x00, 0x01, 0x05, 0x80};
  static const uint8_t req_u8[] = {0x94, 0xcc, 0x00, 0x01, 0xc0, 0x80};
  static const uint8_t req_u8_bin[] = {0x94, 0xcc, 0x00, 0x01, 0xc4, 0x01, 'a', 0x80};
  static const uint8_t note_int[] = {0x93, 0x02, 0x05, 0x90};
  static const uint8_t resp[] = {0x94, 0x01, 0x01, 0xc0, 0x05};
  expect_scan(req_int, sizeof req_int, NULL, LC_EPARSE);
  expect_scan(req_u8, sizeof req_u8, NULL, LC_EPARSE);
  expect_scan(req_u8_bin, sizeof req_u8_bin, NULL, LC_OK);
  expect_scan(note_int, sizeof note_int, NULL, LC_OK);
  expect_scan(resp, sizeof resp, NULL, LC_OK);
  msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* ---- RPC session helpers -------------------------------------------------- */

typedef struct session {
  lc_rpc *r;
  msgpack_sbuffer req, resp;
  msgpack_packer pk; /* packs the request params */
  msgpack_unpacked out;
  int have_out;
  int notes;         /* problem.progress notifications received */
  int last_iter;
  uint32_t msgid;
} session;

static void on_notify(void *user, const char *data, size_t len) {
  session *s = user;
  size_t fl = 0;
  lc_error err;
  msgpack_unpacked u;
  ck_assert_int_eq(lc_scan_frame((const uint8_t *)data, len, NULL, &fl, &err), LC_OK);
  ck_assert_uint_eq(fl, len);
  ck_assert_int_eq(lc_codec_decode(data, len, &u, &err), LC_OK);
  ck_assert_int_eq(u.data.via.array.size, 3);
  ck_assert_int_eq(u.data.via.array.ptr[0].via.u64, 2);
  ck_assert(lc_codec_str_eq(&u.data.via.array.ptr[1], "problem.progress"));
  int64_t it = -1;
  ck_assert_int_eq(lc_codec_get_int(&u.data.via.array.ptr[2], "iter", 1, 0, 1000000, 0, &it, &err),
                   LC_OK);
  s->last_iter = (int)it;
  s->notes++;
  msgpack_unpacked_destroy(&u);
}

/* Opens a session on a store kept in state_dir (NULL: memory only). */
static void s_open_state(session *s, const char *state_dir) {
  memset(s, 0, sizeof *s);
  lc_error err;
  lc_rpc_config cfg = {.version = "test", .backend = "cpu", .device = "cpu", .max_frame = 1 << 20,
                       .max_objects = 100, .state_dir = state_dir};
  ck_assert_msg(lc_rpc_create(&cfg, &s->r, &err) == LC_OK, "%s", err.msg);
  msgpack_sbuffer_init(&s->req);
  msgpack_sbuffer_init(&s->resp);
}

static void s_open(session *s) { s_open_state(s, NULL); }

static void s_close(session *s) {
  if (s->have_out) msgpack_unpacked_destroy(&s->out);
  msgpack_sbuffer_destroy(&s->req);
  msgpack_sbuffer_destroy(&s->resp);
  lc_rpc_destroy(s->r);
}

/* Starts a request: [0, msgid, method, <params packed next>]. */
static msgpack_packer *begin(session *s, const char *method) {
  msgpack_sbuffer_clear(&s->req);
  msgpack_packer_init(&s->pk, &s->req, msgpack_sbuffer_write);
  msgpack_pack_array(&s->pk, 4);
  msgpack_pack_int(&s->pk, 0);
  msgpack_pack_uint32(&s->pk, ++s->msgid);
  pstr(&s->pk, method);
  return &s->pk;
}

/* Packs the key and value variables: [{name: "x", dim: 3}] of problem.create. */
static void pack_x3_variable(msgpack_packer *pk) {
  pstr(pk, "variables");
  msgpack_pack_array(pk, 1);
  msgpack_pack_map(pk, 2);
  pstr(pk, "name");
  pstr(pk, "x");
  pstr(pk, "dim");
  msgpack_pack_int(pk, 3);
}

/* Sends the request built since begin(); returns the error code (0 = ok) and
 * sets *result to the result object (valid until the next send). */
static int send_req(session *s, const msgpack_object **result, char *msg) {
  size_t fl = 0;
  lc_error err;
  msgpack_unpacked u;
  ck_assert_msg(lc_scan_frame((const uint8_t *)s->req.data, s->req.size, NULL, &fl, &err) == LC_OK,
                "%s", err.msg);
  ck_assert_uint_eq(fl, s->req.size);
  ck_assert_int_eq(lc_codec_decode(s->req.data, s->req.size, &u, &err), LC_OK);
  msgpack_sbuffer_clear(&s->resp);
  msgpack_packer rpk;
  msgpack_packer_init(&rpk, &s->resp, msgpack_sbuffer_write);
  lc_rpc_call call = {.notify = on_notify, .user = s, .cancel = NULL};
  lc_rpc_handle(s->r, &u.data, &rpk, &call);
  msgpack_unpacked_destroy(&u);
  if (s->have_out) msgpack_unpacked_destroy(&s->out);
  ck_assert_int_eq(lc_scan_frame((const uint8_t *)s->resp.data, s->resp.size, NULL, &fl, &err),
                   LC_OK);
  ck_assert_uint_eq(fl, s->resp.size);
  ck_assert_int_eq(lc_codec_decode(s->resp.data, s->resp.size, &s->out, &err), LC_OK);
  s->have_out = 1;
  const msgpack_object *a = s->out.data.via.array.ptr;
  ck_assert_int_eq(s->out.data.via.array.size, 4);
  ck_assert_int_eq(a[0].via.u64, 1);
  ck_assert_int_eq(a[1].via.u64, s->msgid);
  if (result) *result = &a[3];
  if (a[2].type == MSGPACK_OBJECT_NIL) return 0;
  ck_assert_int_eq(a[2].type, MSGPACK_OBJECT_ARRAY);
  ck_assert_int_eq(a[3].type, MSGPACK_OBJECT_NIL);
  if (msg)
    snprintf(msg, 256, "%.*s", (int)a[2].via.array.ptr[1].via.str.size,
             a[2].via.array.ptr[1].via.str.ptr);
  return (int)a[2].via.array.ptr[0].via.u64;
}

/* Sends and expects success; returns the result. */
static const msgpack_object *ok(session *s) {
  const msgpack_object *res = NULL;
  char msg[256] = "";
  const int code = send_req(s, &res, msg);
  ck_assert_msg(code == 0, "request %u failed: %d %s", s->msgid, code, msg);
  return res;
}

/* Sends and expects error code want. */
static void fails(session *s, int want) {
  char msg[256] = "";
  const int code = send_req(s, NULL, msg);
  ck_assert_msg(code == want, "request %u: code %d, wanted %d (%s)", s->msgid, code, want, msg);
  ck_assert(msg[0] != '\0');
}

/* fails(), and the message must contain what (it says what to do). */
static void fails_saying(session *s, int want, const char *what) {
  char msg[256] = "";
  const int code = send_req(s, NULL, msg);
  ck_assert_msg(code == want, "request %u: code %d, wanted %d (%s)", s->msgid, code, want, msg);
  ck_assert_msg(strstr(msg, what) != NULL, "'%s' does not say '%s'", msg, what);
}

static int64_t res_int(const msgpack_object *res, const char *key) {
  int64_t v = -1;
  lc_error err;
  ck_assert_msg(lc_codec_get_int(res, key, 1, INT64_MIN, INT64_MAX, 0, &v, &err) == LC_OK, "%s",
                err.msg);
  return v;
}

static double res_dbl(const msgpack_object *res, const char *key) {
  double v = NAN;
  lc_error err;
  const msgpack_object *o = lc_codec_get(res, key);
  ck_assert_ptr_nonnull(o);
  if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32) return o->via.f64;
  ck_assert_int_eq(lc_codec_get_double(res, key, 1, 0, &v, &err), LC_OK);
  return v;
}

/* Packs an ndarray map with the given dtype string, shape and raw bytes. */
static void pack_arr(msgpack_packer *pk, const char *dtype, int ndim, const int64_t *shape,
                     const void *data, size_t bytes) {
  msgpack_pack_map(pk, 3);
  pstr(pk, "dtype");
  pstr(pk, dtype);
  pstr(pk, "shape");
  msgpack_pack_array(pk, (size_t)ndim);
  for (int d = 0; d < ndim; ++d) msgpack_pack_int64(pk, shape[d]);
  pstr(pk, "data");
  msgpack_pack_bin(pk, bytes);
  msgpack_pack_bin_body(pk, data, bytes);
}

/* An (n+1) x (n+1) vertex grid on [0,1]^2 (z = 0). */
typedef struct grid {
  int nv, nf;
  double V[36 * 3];
  int32_t F[50 * 3];
} grid;

static void make_grid(grid *g, int n) {
  g->nv = (n + 1) * (n + 1);
  g->nf = 2 * n * n;
  for (int j = 0; j <= n; ++j)
    for (int i = 0; i <= n; ++i) {
      double *p = g->V + 3 * (j * (n + 1) + i);
      p[0] = (double)i / n;
      p[1] = (double)j / n;
      p[2] = 0.0;
    }
  int f = 0;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      const int a = j * (n + 1) + i, b = a + 1, c = a + n + 1, d = c + 1;
      const int32_t t[6] = {a, b, d, a, d, c};
      memcpy(g->F + 3 * f, t, sizeof t);
      f += 2;
    }
}

/* mesh.create with V as an f8 ndarray and F as plain arrays; returns the id. */
static int64_t create_grid(session *s, const grid *g, const char *name) {
  msgpack_packer *pk = begin(s, "mesh.create");
  const int64_t sv[2] = {g->nv, 3};
  msgpack_pack_map(pk, name ? 3 : 2);
  pstr(pk, "V");
  pack_arr(pk, "f8", 2, sv, g->V, sizeof(double) * 3 * (size_t)g->nv);
  pstr(pk, "F");
  msgpack_pack_array(pk, (size_t)g->nf);
  for (int f = 0; f < g->nf; ++f) {
    msgpack_pack_array(pk, 3);
    for (int k = 0; k < 3; ++k) msgpack_pack_int32(pk, g->F[3 * f + k]);
  }
  if (name) {
    pstr(pk, "name");
    pstr(pk, name);
  }
  const msgpack_object *res = ok(s);
  ck_assert_int_eq(res_int(res, "nv"), g->nv);
  ck_assert_int_eq(res_int(res, "nf"), g->nf);
  return res_int(res, "mesh");
}

/* Reads an f8 ndarray result (copy into out, n values). */
static void res_vec(const msgpack_object *res, const char *key, double *out, int64_t n) {
  lc_ndarray a;
  lc_error err;
  const msgpack_object *o = lc_codec_get(res, key);
  ck_assert_ptr_nonnull(o);
  ck_assert_int_eq(lc_codec_ndarray_decode(o, LC_DT_F8, key, &a, &err), LC_OK);
  ck_assert_int_eq(a.n, n);
  memcpy(out, a.data, (size_t)n * sizeof *out);
  lc_codec_ndarray_free(&a);
}

/* ---- codec validation through mesh.create --------------------------------- */

/* mesh.create with custom V/F packers. */
typedef void (*pack_fn)(msgpack_packer *pk, const grid *g);

static void bad_mesh(session *s, const grid *g, pack_fn pv, pack_fn pf, int want) {
  msgpack_packer *pk = begin(s, "mesh.create");
  msgpack_pack_map(pk, 2);
  pstr(pk, "V");
  pv(pk, g);
  pstr(pk, "F");
  pf(pk, g);
  fails(s, want);
}

static void v_ok(msgpack_packer *pk, const grid *g) {
  const int64_t sv[2] = {g->nv, 3};
  pack_arr(pk, "f8", 2, sv, g->V, 24 * (size_t)g->nv);
}
static void f_ok(msgpack_packer *pk, const grid *g) {
  const int64_t sf[2] = {g->nf, 3};
  pack_arr(pk, "i4", 2, sf, g->F, 12 * (size_t)g->nf);
}
static void v_dtype(msgpack_packer *pk, const grid *g) {
  const int64_t sv[2] = {g->nv, 3};
  pack_arr(pk, "i4", 2, sv, g->V, 12 * (size_t)g->nv);
}
static void v_shape(msgpack_packer *pk, const grid *g) {
  const int64_t sv[2] = {g->nv * 3 / 2, 2};
  pack_arr(pk, "f8", 2, sv, g->V, 24 * (size_t)g->nv);
}
static void v_short(msgpack_packer *pk, const grid *g) {
  const int64_t sv[2] = {g->nv, 3};
  pack_arr(pk, "f8", 2, sv, g->V, 24 * (size_t)g->nv - 8);
}
static void v_str(msgpack_packer *pk, const grid *g) {
  (void)g;
  pstr(pk, "vertices");
}
static void v_nan(msgpack_packer *pk, const grid *g) {
  double V[36 * 3];
  memcpy(V, g->V, sizeof V);
  V[4] = NAN;
  const int64_t sv[2] = {g->nv, 3};
  pack_arr(pk, "f8", 2, sv, V, 24 * (size_t)g->nv);
}
static void v_plain_str(msgpack_packer *pk, const grid *g) {
  (void)g;
  msgpack_pack_array(pk, 2);
  msgpack_pack_double(pk, 1.0);
  pstr(pk, "x");
}
static void f_neg(msgpack_packer *pk, const grid *g) {
  int32_t F[50 * 3];
  memcpy(F, g->F, sizeof F);
  F[7] = -1;
  const int64_t sf[2] = {g->nf, 3};
  pack_arr(pk, "i4", 2, sf, F, 12 * (size_t)g->nf);
}
static void f_big(msgpack_packer *pk, const grid *g) {
  int32_t F[50 * 3];
  memcpy(F, g->F, sizeof F);
  F[5] = g->nv;
  const int64_t sf[2] = {g->nf, 3};
  pack_arr(pk, "i4", 2, sf, F, 12 * (size_t)g->nf);
}
static void f_float(msgpack_packer *pk, const grid *g) {
  msgpack_pack_array(pk, 1);
  msgpack_pack_array(pk, 3);
  msgpack_pack_double(pk, 0.0);
  msgpack_pack_int(pk, 1);
  msgpack_pack_int(pk, 2);
  (void)g;
}
static void f_ragged(msgpack_packer *pk, const grid *g) {
  msgpack_pack_array(pk, 2);
  msgpack_pack_array(pk, 3);
  for (int k = 0; k < 3; ++k) msgpack_pack_int(pk, g->F[k]);
  msgpack_pack_array(pk, 2);
  msgpack_pack_int(pk, 0);
  msgpack_pack_int(pk, 1);
}

/* A wide first row over many empty rows: rows x cols would be 2 * 10^10
 * numbers (160 GB) from a 300 KB frame; the shape check comes first. */
static void v_wide_then_empty(msgpack_packer *pk, const grid *g) {
  (void)g;
  msgpack_pack_array(pk, 200000);
  msgpack_pack_array(pk, 100000);
  for (int i = 0; i < 100000; ++i) msgpack_pack_int(pk, 1);
  for (int r = 1; r < 200000; ++r) msgpack_pack_array(pk, 0);
}
START_TEST(codec_validation) {
  session s;
  grid g;
  make_grid(&g, 3);
  s_open(&s);
  bad_mesh(&s, &g, v_dtype, f_ok, LC_RPC_EINVAL);
  bad_mesh(&s, &g, v_shape, f_ok, LC_RPC_EINVAL);
  bad_mesh(&s, &g, v_short, f_ok, LC_RPC_EINVAL);
  bad_mesh(&s, &g, v_str, f_ok, LC_RPC_EPARAMS);
  bad_mesh(&s, &g, v_nan, f_ok, LC_RPC_EINVAL);
  bad_mesh(&s, &g, v_plain_str, f_ok, LC_RPC_EPARAMS);
  bad_mesh(&s, &g, v_ok, f_neg, LC_RPC_EINVAL);
  bad_mesh(&s, &g, v_ok, f_big, LC_RPC_EINVAL);
  bad_mesh(&s, &g, v_ok, f_float, LC_RPC_EPARAMS);
  bad_mesh(&s, &g, v_ok, f_ragged, LC_RPC_EINVAL);
  bad_mesh(&s, &g, v_wide_then_empty, f_ok, LC_RPC_EINVAL); /* not NOMEM: nothing was allocated */
  /* missing F */
  msgpack_packer *pk = begin(&s, "mesh.create");
  msgpack_pack_map(pk, 1);
  pstr(pk, "V");
  v_ok(pk, &g);
  fails(&s, LC_RPC_EPARAMS);
  /* unknown method, bad envelope pieces */
  pk = begin(&s, "mesh.explode");
  msgpack_pack_map(pk, 0);
  fails(&s, LC_RPC_EMETHOD);
  pk = begin(&s, "contacts.update");
  msgpack_pack_map(pk, 0);
  fails(&s, LC_RPC_EPARAMS); /* no problem named */
  pk = begin(&s, "server.health");
  msgpack_pack_int(pk, 3); /* params not a map */
  fails(&s, LC_RPC_EPARAMS);
  /* params as [map] and nil are accepted */
  pk = begin(&s, "server.health");
  msgpack_pack_array(pk, 1);
  msgpack_pack_map(pk, 0);
  ok(&s);
  pk = begin(&s, "server.health");
  msgpack_pack_nil(pk);
  ok(&s);
  /* unknown ids, wrong id types */
  pk = begin(&s, "mesh.info");
  msgpack_pack_map(pk, 1);
  pstr(pk, "mesh");
  msgpack_pack_int(pk, 12345);
  fails(&s, LC_RPC_ENOTFOUND);
  pk = begin(&s, "problem.eval");
  msgpack_pack_map(pk, 1);
  pstr(pk, "problem");
  msgpack_pack_double(pk, 1.0);
  fails(&s, LC_RPC_EPARAMS);
  pk = begin(&s, "problem.eval");
  msgpack_pack_map(pk, 0);
  fails(&s, LC_RPC_EPARAMS);
  s_close(&s);
}
END_TEST

START_TEST(envelope_errors) {
  session s;
  s_open(&s);
  /* a request that is not [0, msgid, method, params] still gets a response */
  static const uint8_t req3[] = {0x93, 0x00, 0x07, 0xa1, 'x'};
  static const uint8_t neg_id[] = {0x94, 0x00, 0xff, 0xa1, 'x', 0x80};
  const uint8_t *cases[2] = {req3, neg_id};
  const size_t lens[2] = {sizeof req3, sizeof neg_id};
  for (int i = 0; i < 2; ++i) {
    msgpack_unpacked u;
    lc_error err;
    ck_assert_int_eq(lc_codec_decode((const char *)cases[i], lens[i], &u, &err), LC_OK);
    msgpack_sbuffer_clear(&s.resp);
    msgpack_packer rpk;
    msgpack_packer_init(&rpk, &s.resp, msgpack_sbuffer_write);
    lc_rpc_handle(s.r, &u.data, &rpk, NULL);
    ck_assert_int_eq(lc_rpc_request_problem(NULL, &u.data), -1);
    msgpack_unpacked_destroy(&u);
    ck_assert_int_eq(lc_codec_decode(s.resp.data, s.resp.size, &u, &err), LC_OK);
    ck_assert_int_eq(u.data.via.array.ptr[2].via.array.ptr[0].via.u64, LC_RPC_EPARSE);
    msgpack_unpacked_destroy(&u);
  }
  /* a bin method name works like a str; one with an embedded NUL matches no method (not its
   * prefix "server.info") and is shown with \x00 */
  static const uint8_t bin_info[] = {0x94, 0x00, 0x09, 0xc4, 11, 's', 'e', 'r', 'v', 'e', 'r', '.', 'i', 'n', 'f', 'o',
                                     0x80};
  static const uint8_t nul_info[] = {0x94, 0x00, 0x0a, 0xad, 's', 'e', 'r', 'v', 'e', 'r', '.', 'i', 'n', 'f', 'o',
                                     0x00, 'x', 0x80};
  for (int i = 0; i < 2; ++i) {
    msgpack_unpacked u;
    lc_error err;
    const uint8_t *req = i ? nul_info : bin_info;
    ck_assert_int_eq(lc_codec_decode((const char *)req, i ? sizeof nul_info : sizeof bin_info, &u, &err), LC_OK);
    msgpack_sbuffer_clear(&s.resp);
    msgpack_packer rpk;
    msgpack_packer_init(&rpk, &s.resp, msgpack_sbuffer_write);
    lc_rpc_handle(s.r, &u.data, &rpk, NULL);
    msgpack_unpacked_destroy(&u);
    ck_assert_int_eq(lc_codec_decode(s.resp.data, s.resp.size, &u, &err), LC_OK);
    const msgpack_object *e = &u.data.via.array.ptr[2];
    if (i == 0) {
      ck_assert_int_eq(e->type, MSGPACK_OBJECT_NIL);
    } else {
      ck_assert_int_eq(e->via.array.ptr[0].via.u64, LC_RPC_EMETHOD);
      const msgpack_object *m = &e->via.array.ptr[1];
      char msg[256];
      snprintf(msg, sizeof msg, "%.*s", (int)m->via.str.size, m->via.str.ptr);
      ck_assert_msg(strstr(msg, "'server.info\\x00x'") != NULL, "%s", msg);
    }
    msgpack_unpacked_destroy(&u);
  }
  s_close(&s);
}
END_TEST

/* Begins method {problem: pid, and n_more keys the caller packs}. */
static msgpack_packer *begin_on(session *s, const char *method, int64_t pid, int n_more) {
  msgpack_packer *pk = begin(s, method);
  msgpack_pack_map(pk, 1 + (size_t)n_more);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  return pk;
}

/* The single entry of mesh.list / problem.list (method), under key. */
static const msgpack_object *list_one(session *s, const char *method, const char *key) {
  msgpack_packer *pk = begin(s, method);
  msgpack_pack_map(pk, 0);
  const msgpack_object *l = lc_codec_get(ok(s), key);
  ck_assert_int_eq(l->via.array.size, 1);
  return &l->via.array.ptr[0];
}

/* ---- a whole session ------------------------------------------------------- */

/* problem.eval with what; returns the result. */
static const msgpack_object *eval(session *s, int64_t pid, const char *what, const double *v,
                                  int64_t n) {
  msgpack_packer *pk = begin(s, "problem.eval");
  msgpack_pack_map(pk, v ? 3 : 2);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "what");
  pstr(pk, what);
  if (v) {
    pstr(pk, "v");
    pack_arr(pk, "f8", 1, &n, v, (size_t)n * 8);
  }
  return ok(s);
}

/* Decodes a CSR result {shape, indptr, indices, data} and returns y = A v. */
static void csr_mul(const msgpack_object *csr, const double *v, double *y, int64_t nrows,
                    int64_t ncols) {
  lc_ndarray ip, ix, d;
  lc_error err;
  const msgpack_object *shape = lc_codec_get(csr, "shape");
  ck_assert_int_eq(shape->via.array.ptr[0].via.u64, nrows);
  ck_assert_int_eq(shape->via.array.ptr[1].via.u64, ncols);
  ck_assert_int_eq(lc_codec_get_ndarray(csr, "indptr", 1, LC_DT_I4, nrows + 1, 0, &ip, &err), 0);
  ck_assert_int_eq(lc_codec_get_ndarray(csr, "indices", 1, LC_DT_I4, -1, 0, &ix, &err), 0);
  ck_assert_int_eq(lc_codec_get_ndarray(csr, "data", 1, LC_DT_F8, ix.n, 0, &d, &err), 0);
  const int32_t *rp = ip.data, *ci = ix.data;
  const double *a = d.data;
  for (int64_t i = 0; i < nrows; ++i) {
    y[i] = 0.0;
    for (int32_t k = rp[i]; k < rp[i + 1]; ++k) y[i] += a[k] * v[ci[k]];
  }
  lc_codec_ndarray_free(&ip);
  lc_codec_ndarray_free(&ix);
  lc_codec_ndarray_free(&d);
}

START_TEST(session_full) {
  session s;
  grid g;
  make_grid(&g, 4);
  s_open(&s);
  const int64_t mid = create_grid(&s, &g, "sheet");
  const int64_t n = 3 * g.nv;
  /* problem.create on the mesh by name, with one variable */
  msgpack_packer *pk = begin(&s, "problem.create");
  msgpack_pack_map(pk, 3);
  pstr(pk, "mesh");
  pstr(pk, "sheet");
  pstr(pk, "name");
  pstr(pk, "p");
  pack_x3_variable(pk);
  const msgpack_object *res = ok(&s);
  const int64_t pid = res_int(res, "problem");
  ck_assert_int_eq(res_int(res, "n_dofs"), n);
  ck_assert_int_ne(pid, mid);
  /* a second variable through problem.add_variable (2D UVs on faces) */
  pk = begin(&s, "problem.add_variable");
  msgpack_pack_map(pk, 4);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "name");
  pstr(pk, "u");
  pstr(pk, "loc");
  pstr(pk, "face");
  pstr(pk, "dim");
  msgpack_pack_int(pk, 2);
  res = ok(&s);
  ck_assert_int_eq(res_int(res, "var"), 1);
  ck_assert_int_eq(res_int(res, "offset"), n);
  /* terms: springs (k = 10), bending, a residual term with explicit elements */
  pk = begin(&s, "problem.add_term");
  msgpack_pack_map(pk, 4);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "energy");
  pstr(pk, "spring");
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "params");
  msgpack_pack_map(pk, 1);
  pstr(pk, "k");
  msgpack_pack_double(pk, 10.0);
  res = ok(&s);
  ck_assert_int_gt(res_int(res, "n_elems"), 0);
  pk = begin(&s, "problem.add_term");
  msgpack_pack_map(pk, 4);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "energy");
  pstr(pk, "res_position");
  pstr(pk, "var");
  msgpack_pack_int(pk, 0);
  pstr(pk, "elements");
  msgpack_pack_array(pk, 3);
  for (int i = 0; i < 3; ++i) msgpack_pack_int(pk, 5 + i);
  res = ok(&s);
  const int64_t rterm = res_int(res, "term");
  ck_assert_int_eq(res_int(res, "n_elems"), 3);
  /* bad terms: unknown energy, out-of-range element, consts of the wrong shape */
  pk = begin(&s, "problem.add_term");
  msgpack_pack_map(pk, 3);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "energy");
  pstr(pk, "nonsense");
  pstr(pk, "var");
  pstr(pk, "x");
  fails(&s, LC_RPC_ENOTFOUND); /* SPEC: unknown energy names are NOTFOUND */
  pk = begin(&s, "problem.add_term");
  msgpack_pack_map(pk, 4);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "energy");
  pstr(pk, "spring");
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "elements");
  msgpack_pack_array(pk, 1);
  msgpack_pack_array(pk, 2);
  msgpack_pack_int(pk, 0);
  msgpack_pack_int(pk, 1000);
  fails(&s, LC_RPC_EINVAL);
  pk = begin(&s, "problem.add_term");
  msgpack_pack_map(pk, 4);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "energy");
  pstr(pk, "spring");
  pstr(pk, "var");
  pstr(pk, "nope");
  pstr(pk, "consts");
  msgpack_pack_array(pk, 1);
  msgpack_pack_double(pk, 1.0);
  fails(&s, LC_RPC_ENOTFOUND);
  /* set_variable: a perturbed state; get_variable returns it */
  double x[36 * 3], y[36 * 3], gr[36 * 3 + 50 * 2], dir[36 * 3];
  unsigned long long seed = 7;
  for (int64_t i = 0; i < n; ++i) x[i] = g.V[i] + lc_test_rand(&seed, -0.05, 0.05);
  pk = begin(&s, "problem.set_variable");
  msgpack_pack_map(pk, 3);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "values");
  const int64_t sx[2] = {g.nv, 3};
  pack_arr(pk, "f8", 2, sx, x, (size_t)n * 8);
  ok(&s);
  pk = begin(&s, "problem.get_variable");
  msgpack_pack_map(pk, 2);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "var");
  msgpack_pack_int(pk, 0);
  res = ok(&s);
  res_vec(res, "values", y, n);
  for (int64_t i = 0; i < n; ++i) ck_assert_double_eq(x[i], y[i]);
  /* set_variable with the wrong row count and with NaN */
  pk = begin(&s, "problem.set_variable");
  msgpack_pack_map(pk, 3);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "values");
  const int64_t sbad[2] = {g.nv - 1, 3};
  pack_arr(pk, "f8", 2, sbad, x, (size_t)(n - 3) * 8);
  fails(&s, LC_RPC_EINVAL);
  /* fix vertices 0 and 1 at their rest positions */
  pk = begin(&s, "problem.fix");
  msgpack_pack_map(pk, 4);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "entities");
  msgpack_pack_array(pk, 2);
  msgpack_pack_int(pk, 0);
  msgpack_pack_int(pk, 1);
  pstr(pk, "values");
  const int64_t sfix[2] = {2, 3};
  pack_arr(pk, "f8", 2, sfix, g.V, 48);
  res = ok(&s);
  ck_assert_int_eq(res_int(res, "n_fixed"), 6);
  pk = begin(&s, "problem.fix");
  msgpack_pack_map(pk, 3);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "entities");
  msgpack_pack_array(pk, 1);
  msgpack_pack_int(pk, -1);
  fails(&s, LC_RPC_EINVAL);
  /* eval: energy, gradient, hessian, hvp, jacobian */
  const int64_t N = n + 2 * g.nf;
  res = eval(&s, pid, "energy", NULL, 0);
  const double E = res_dbl(res, "energy");
  ck_assert(E > 0.0 && isfinite(E));
  res = eval(&s, pid, "gradient", NULL, 0);
  ck_assert_double_eq(res_dbl(res, "energy"), E);
  res_vec(res, "gradient", gr, N);
  ck_assert_double_eq(gr[0], 0.0); /* fixed */
  for (int64_t i = 0; i < n; ++i) dir[i] = sin(0.7 * (double)i + 0.3);
  double vN[36 * 3 + 50 * 2] = {0};
  memcpy(vN, dir, (size_t)n * 8);
  res = eval(&s, pid, "hvp", vN, N);
  double hvN[36 * 3 + 50 * 2];
  res_vec(res, "hvp", hvN, N);
  res = eval(&s, pid, "hessian", NULL, 0);
  double HvN[36 * 3 + 50 * 2];
  csr_mul(lc_codec_get(res, "hessian"), vN, HvN, N, N);
  for (int64_t i = 0; i < N; ++i)
    ck_assert_msg(fabs(HvN[i] - hvN[i]) < 1e-9 * (1 + fabs(hvN[i])), "hvp %lld", (long long)i);
  res = eval(&s, pid, "jacobian", NULL, 0);
  double r[9], Jv[9];
  res_vec(res, "residual", r, 9);
  csr_mul(lc_codec_get(res, "jacobian"), vN, Jv, 9, N);
  for (int k = 0; k < 9; ++k) ck_assert_double_eq_tol(Jv[k], vN[15 + k], 1e-12);
  /* hvp without v, x of the wrong length, unknown what */
  pk = begin(&s, "problem.eval");
  msgpack_pack_map(pk, 2);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "what");
  pstr(pk, "hvp");
  fails(&s, LC_RPC_EPARAMS);
  pk = begin(&s, "problem.eval");
  msgpack_pack_map(pk, 3);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "what");
  pstr(pk, "laplacian");
  pstr(pk, "x");
  pack_arr(pk, "f8", 1, &n, x, (size_t)n * 8);
  fails(&s, LC_RPC_EINVAL);
  /* solve (Newton) with progress notifications, handle moved, x returned */
  s.notes = 0;
  pk = begin(&s, "problem.solve");
  msgpack_pack_map(pk, 5);
  pstr(pk, "problem");
  pstr(pk, "p");
  pstr(pk, "method");
  pstr(pk, "newton");
  pstr(pk, "options");
  msgpack_pack_map(pk, 2);
  pstr(pk, "max_iters");
  msgpack_pack_int(pk, 50);
  pstr(pk, "gtol");
  msgpack_pack_double(pk, 1e-9);
  pstr(pk, "fix");
  msgpack_pack_map(pk, 3);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "entities");
  msgpack_pack_array(pk, 1);
  msgpack_pack_int(pk, 24);
  pstr(pk, "values");
  msgpack_pack_array(pk, 1);
  msgpack_pack_array(pk, 3);
  msgpack_pack_double(pk, 0.8);
  msgpack_pack_double(pk, 0.8);
  msgpack_pack_double(pk, 0.3);
  pstr(pk, "return"); /* the same variable three times: returned once */
  msgpack_pack_array(pk, 3);
  pstr(pk, "x");
  msgpack_pack_int(pk, 0);
  pstr(pk, "x");
  res = ok(&s);
  const int64_t iters = res_int(res, "iters");
  ck_assert_int_gt(iters, 0);
  ck_assert_int_eq(s.notes, iters);
  ck_assert_int_eq(s.last_iter, iters);
  ck_assert_int_eq(res_int(res, "host_syncs"), 0); /* the session's problems are on the CPU */
  const msgpack_object *reason = lc_codec_get(res, "reason");
  ck_assert_int_eq(reason->type, MSGPACK_OBJECT_STR);
  ck_assert(isfinite(res_dbl(res, "energy")) && isfinite(res_dbl(res, "gnorm")));
  const msgpack_object *vars = lc_codec_get(res, "variables");
  ck_assert_int_eq(vars->via.map.size, 1);
  ck_assert_int_eq(vars->via.map.ptr[0].key.via.u64, 0); /* keyed by variable id */
  lc_ndarray xr;
  lc_error err;
  ck_assert_int_eq(lc_codec_ndarray_decode(&vars->via.map.ptr[0].val, LC_DT_F8, "x", &xr, &err), 0);
  ck_assert_int_eq(xr.n, n);
  ck_assert_double_eq(((const double *)xr.data)[3 * 24 + 2], 0.3); /* the handle */
  ck_assert_double_eq(((const double *)xr.data)[0], 0.0);          /* pinned */
  lc_codec_ndarray_free(&xr);
  /* unknown option, bad method */
  pk = begin(&s, "problem.solve");
  msgpack_pack_map(pk, 2);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "options");
  msgpack_pack_map(pk, 1);
  pstr(pk, "max_iterz");
  msgpack_pack_int(pk, 3);
  fails_saying(&s, LC_RPC_EPARAMS, "unknown key 'max_iterz'; known: max_iters");
  /* a "return" list of 1025 entries is refused before anything is solved */
  pk = begin_on(&s, "problem.solve", pid, 1);
  pstr(pk, "return");
  msgpack_pack_array(pk, 1025);
  for (int i = 0; i < 1025; ++i) msgpack_pack_int(pk, 0);
  fails(&s, LC_RPC_EINVAL);
  /* a PCG block out of [1, 32]: range errors; a string: a type error */
  for (int bad = 0; bad < 3; ++bad) {
    pk = begin_on(&s, "problem.solve", pid, 1);
    pstr(pk, "options");
    msgpack_pack_map(pk, 1);
    pstr(pk, "lin_block");
    if (bad < 2) msgpack_pack_int(pk, bad ? 33 : 0);
    else pstr(pk, "12");
    fails(&s, bad < 2 ? LC_RPC_EINVAL : LC_RPC_EPARAMS);
  }
  pk = begin(&s, "problem.solve");
  msgpack_pack_map(pk, 2);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "method");
  pstr(pk, "simplex");
  fails(&s, LC_RPC_EINVAL);
  /* L-BFGS and LM run too */
  const char *methods[2] = {"lbfgs", "lm"};
  for (int m = 0; m < 2; ++m) {
    pk = begin(&s, "problem.solve");
    msgpack_pack_map(pk, 3);
    pstr(pk, "problem");
    msgpack_pack_int64(pk, pid);
    pstr(pk, "method");
    pstr(pk, methods[m]);
    pstr(pk, "options");
    msgpack_pack_map(pk, 2);
    pstr(pk, "max_iters");
    msgpack_pack_int(pk, 5);
    pstr(pk, "progress_every");
    msgpack_pack_int(pk, 0);
    ok(&s);
  }
  /* remove the residual term, info, stats */
  pk = begin(&s, "problem.remove_term");
  msgpack_pack_map(pk, 2);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "term");
  msgpack_pack_int64(pk, rterm);
  ok(&s);
  fails(&s, LC_RPC_ENOTFOUND); /* twice */
  pk = begin(&s, "problem.info");
  msgpack_pack_map(pk, 1);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  res = ok(&s);
  ck_assert_int_eq(res_int(res, "n_residuals"), 0);
  ck_assert_int_eq(lc_codec_get(res, "terms")->via.array.size, 1);
  /* the lists: one mesh "sheet", one problem "p" on it */
  const msgpack_object *ml = list_one(&s, "mesh.list", "meshes");
  ck_assert_int_eq(res_int(ml, "mesh"), mid);
  ck_assert(lc_codec_str_eq(lc_codec_get(ml, "name"), "sheet"));
  const msgpack_object *pl = list_one(&s, "problem.list", "problems");
  ck_assert_int_eq(res_int(pl, "problem"), pid);
  ck_assert_int_eq(res_int(pl, "mesh"), mid);
  ck_assert(lc_codec_str_eq(lc_codec_get(pl, "device"), "cpu"));
  pk = begin(&s, "server.stats");
  msgpack_pack_map(pk, 0);
  res = ok(&s);
  ck_assert_int_eq(res_int(res, "objects"), 2);
  ck_assert_int_gt(res_int(res, "bytes"), 0);
  pk = begin(&s, "server.info");
  msgpack_pack_map(pk, 0);
  res = ok(&s);
  ck_assert(lc_codec_str_eq(lc_codec_get(res, "version"), "test"));
  /* the mesh can go first: the problem keeps its reference */
  pk = begin(&s, "mesh.delete");
  msgpack_pack_map(pk, 1);
  pstr(pk, "mesh");
  msgpack_pack_int64(pk, mid);
  ok(&s);
  fails(&s, LC_RPC_ENOTFOUND);
  eval(&s, pid, "gradient", NULL, 0);
  pk = begin(&s, "problem.delete");
  msgpack_pack_map(pk, 1);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  ok(&s);
  fails(&s, LC_RPC_ENOTFOUND);
  pk = begin(&s, "problem.eval");
  msgpack_pack_map(pk, 1);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  fails(&s, LC_RPC_ENOTFOUND);
  ck_assert_int_eq(lc_rpc_request_problem(NULL, &(msgpack_object){.type = MSGPACK_OBJECT_NIL}), -1);
  uint64_t objs = 9, bytes = 9;
  lc_rpc_stats(s.r, &objs, &bytes);
  ck_assert_int_eq(objs, 0);
  ck_assert_int_eq(bytes, 0);
  s_close(&s);
}
END_TEST

/* Begins a problem.step request of the cloth_problem pid (h = 0.01, var
 * "x", inertia term inertia, steps steps) whose map has n_more keys after these. */
static msgpack_packer *begin_step(session *s, int64_t pid, int64_t inertia, int steps, int n_more) {
  msgpack_packer *pk = begin(s, "problem.step");
  msgpack_pack_map(pk, 5 + (uint32_t)n_more);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "h");
  msgpack_pack_double(pk, 0.01);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "inertia_term");
  msgpack_pack_int64(pk, inertia);
  pstr(pk, "steps");
  msgpack_pack_int(pk, steps);
  return pk;
}

/* Creates a cloth problem on mesh mid over the session: variable "x" (3D),
 * inertia (weight 1; its term id into *inertia), springs and gravity
 * weighted h^2 (h = 0.01); returns the problem id. */
static int64_t cloth_problem(session *s, int64_t mid, int64_t *inertia) {
  msgpack_packer *pk = begin(s, "problem.create");
  msgpack_pack_map(pk, 2);
  pstr(pk, "mesh");
  msgpack_pack_int64(pk, mid);
  pack_x3_variable(pk);
  const int64_t pid = res_int(ok(s), "problem");
  const char *energies[3] = {"inertia", "spring", "gravity"};
  for (int e = 0; e < 3; ++e) {
    pk = begin(s, "problem.add_term");
    msgpack_pack_map(pk, 4);
    pstr(pk, "problem");
    msgpack_pack_int64(pk, pid);
    pstr(pk, "energy");
    pstr(pk, energies[e]);
    pstr(pk, "var");
    pstr(pk, "x");
    pstr(pk, "weight");
    msgpack_pack_double(pk, e == 0 ? 1.0 : 0.01 * 0.01);
    const msgpack_object *res = ok(s);
    if (e == 0) *inertia = res_int(res, "term");
  }
  return pid;
}

START_TEST(session_obj_and_step) {
  session s;
  s_open(&s);
  static const char obj[] = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n";
  msgpack_packer *pk = begin(&s, "mesh.load_obj");
  msgpack_pack_map(pk, 1);
  pstr(pk, "data");
  msgpack_pack_bin(pk, sizeof obj - 1);
  msgpack_pack_bin_body(pk, obj, sizeof obj - 1);
  const msgpack_object *res = ok(&s);
  const int64_t mid = res_int(res, "mesh");
  ck_assert_int_eq(res_int(res, "nf"), 2);
  pk = begin(&s, "mesh.load_obj");
  msgpack_pack_map(pk, 1);
  pstr(pk, "data");
  pstr(pk, "v 0 0 0\nf 1 2 3\n");
  fails(&s, LC_RPC_EINVAL);
  pk = begin(&s, "mesh.info");
  msgpack_pack_map(pk, 2);
  pstr(pk, "mesh");
  msgpack_pack_int64(pk, mid);
  pstr(pk, "arrays");
  msgpack_pack_true(pk);
  res = ok(&s);
  ck_assert_int_eq(res_int(res, "boundary_edges"), 4);
  double V[12];
  res_vec(res, "V", V, 12);
  ck_assert_double_eq(V[3], 1.0);
  /* a cloth problem stepped with implicit Euler: inertia + h^2-weighted springs and gravity */
  int64_t inertia = -1;
  const int64_t pid = cloth_problem(&s, mid, &inertia);
  pk = begin_step(&s, pid, inertia, 3, 2);
  pstr(pk, "fix");
  msgpack_pack_map(pk, 2);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "entities");
  msgpack_pack_array(pk, 1);
  msgpack_pack_int(pk, 3);
  pstr(pk, "return");
  msgpack_pack_true(pk);
  res = ok(&s);
  ck_assert_int_eq(res_int(res, "steps"), 3);
  ck_assert_int_eq(res_int(res, "host_syncs"), 0); /* a CPU problem reads nothing back */
  ck_assert(res_dbl(res, "kinetic") > 0.0);
  const msgpack_object *vars = lc_codec_get(res, "variables");
  ck_assert_int_eq(vars->via.map.size, 1);
  lc_ndarray xs;
  lc_error err;
  ck_assert_int_eq(lc_codec_ndarray_decode(&vars->via.map.ptr[0].val, LC_DT_F8, "x", &xs, &err), 0);
  const double *xv = xs.data;
  ck_assert(xv[2] < 0.0);          /* vertex 0 falls */
  ck_assert_double_eq(xv[11], 0.0); /* vertex 3 is pinned */
  lc_codec_ndarray_free(&xs);
  /* a second call continues with the same stepper */
  pk = begin(&s, "problem.step");
  msgpack_pack_map(pk, 1);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  res = ok(&s);
  ck_assert_int_eq(res_int(res, "steps"), 4);
  /* problem.step on a fresh problem without h */
  s_close(&s); /* destroys the store with live objects */
}
END_TEST


/* Begins problem.set_contact on problem pid, variable "x", dhat 0.02,
 * with room for n_more further key-value pairs. */
static msgpack_packer *begin_contact(session *s, int64_t pid, int n_more) {
  msgpack_packer *pk = begin(s, "problem.set_contact");
  msgpack_pack_map(pk, 3 + n_more);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "dhat");
  msgpack_pack_double(pk, 0.02);
  return pk;
}

/* problem.set_contact: bad settings refused, stats reported, problem.step
 * keeps the falling square above the floor, contact terms protected,
 * contact disabled again. */
START_TEST(session_contact) {
  session s;
  s_open(&s);
  static const char obj[] = "v -1 -1 0\nv 2 -1 0\nv 2 2 0\nv -1 2 0\n"
                            "v 0 0 0.05\nv 1 0 0.05\nv 1 1 0.05\nv 0 1 0.05\nf 1 2 3 4\nf 5 6 7 8\n";
  msgpack_packer *pk = begin(&s, "mesh.load_obj");
  msgpack_pack_map(pk, 1);
  pstr(pk, "data");
  msgpack_pack_bin(pk, sizeof obj - 1);
  msgpack_pack_bin_body(pk, obj, sizeof obj - 1);
  const int64_t mid = res_int(ok(&s), "mesh");
  int64_t inertia = -1;
  const int64_t pid = cloth_problem(&s, mid, &inertia);
  /* bad settings: a negative dhat, no variable named */
  pk = begin(&s, "problem.set_contact");
  msgpack_pack_map(pk, 3);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "dhat");
  msgpack_pack_double(pk, -0.1);
  fails(&s, LC_RPC_EINVAL);
  pk = begin(&s, "problem.set_contact");
  msgpack_pack_map(pk, 2);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "dhat");
  msgpack_pack_double(pk, 0.02);
  fails(&s, LC_RPC_EPARAMS);
  pk = begin(&s, "contacts.update"); /* no contact yet */
  msgpack_pack_map(pk, 1);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  fails(&s, LC_RPC_EINVAL);
  pk = begin_contact(&s, pid, 1); /* a negative mass for adaptive stiffness */
  pstr(pk, "adaptive_mass");
  msgpack_pack_double(pk, -1.0);
  fails(&s, LC_RPC_EINVAL);
  /* planes: one above the floor (vertices behind it), one of 5 numbers */
  for (int bad = 0; bad < 2; ++bad) {
    pk = begin_contact(&s, pid, 1);
    pstr(pk, "planes");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, bad ? 5 : 6);
    const double pl[6] = {0, 0, 0.03, 0, 0, 1};
    for (int i = 0; i < (bad ? 5 : 6); ++i) msgpack_pack_double(pk, pl[i]);
    fails(&s, LC_RPC_EINVAL);
  }
  for (int bad = 0; bad < 2; ++bad) { /* a negative friction coefficient, a zero friction_eps */
    pk = begin_contact(&s, pid, 1);
    pstr(pk, bad ? "friction_eps" : "friction");
    msgpack_pack_double(pk, bad ? 0.0 : -0.5);
    char msg[256] = "";
    ck_assert_int_eq(send_req(&s, NULL, msg), LC_RPC_EINVAL);
    ck_assert_msg(strstr(msg, bad ? "eps_v" : "mu") != NULL, "%s", msg);
  }
  for (int bad = 0; bad < 2; ++bad) { /* friction iterations out of range, a pattern reserve in (0, 1) */
    pk = begin_contact(&s, pid, 1);
    pstr(pk, bad ? "pattern_reserve" : "friction_iters");
    if (bad) msgpack_pack_double(pk, 0.5);
    else msgpack_pack_int(pk, 1000);
    char msg[256] = "";
    const int code = send_req(&s, NULL, msg);
    ck_assert_msg((code == LC_RPC_EPARAMS || code == LC_RPC_EINVAL) && strstr(msg, bad ? "reserve" : "friction_iters"),
                  "%d %s", code, msg);
  }
  pk = begin_contact(&s, pid, 3);
  pstr(pk, "kappa");
  msgpack_pack_double(pk, 1e-2);
  pstr(pk, "friction");
  msgpack_pack_double(pk, 0.3);
  pstr(pk, "planes"); /* a floor plane below the floor mesh */
  msgpack_pack_array(pk, 1);
  msgpack_pack_array(pk, 6);
  const double floor_plane[6] = {0, 0, -0.5, 0, 0, 2};
  for (int i = 0; i < 6; ++i) msgpack_pack_double(pk, floor_plane[i]);
  const msgpack_object *res = ok(&s);
  ck_assert_int_gt(res_int(res, "n_pt"), 0);
  ck_assert_int_eq(res_int(res, "planes"), 1);
  ck_assert_double_eq_tol(res_dbl(res, "kappa"), 1e-2, 1e-15);
  ck_assert_double_eq_tol(res_dbl(res, "min_distance"), 0.05, 1e-12);
  ck_assert_double_eq_tol(res_dbl(lc_codec_get(res, "friction"), "mu"), 0.3, 1e-15);
  /* the contact's terms are the problem's business now */
  pk = begin(&s, "problem.remove_term");
  msgpack_pack_map(pk, 2);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "term");
  msgpack_pack_int(pk, 3); /* the margin term, added first */
  fails(&s, LC_RPC_EINVAL);
  pk = begin_step(&s, pid, inertia, 30, 2);
  pstr(pk, "velocity");
  {
    double v[24] = {0};
    for (int i = 4; i < 8; ++i) v[3 * i + 2] = -1.0;
    const int64_t sh[2] = {8, 3};
    pack_arr(pk, "f8", 2, sh, v, sizeof v);
  }
  pstr(pk, "fix");
  msgpack_pack_map(pk, 2);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "entities");
  msgpack_pack_array(pk, 4);
  for (int i = 0; i < 4; ++i) msgpack_pack_int(pk, i);
  res = ok(&s);
  const msgpack_object *c = lc_codec_get(res, "contact");
  ck_assert_ptr_nonnull(c);
  const double dmin = res_dbl(c, "min_distance");
  ck_assert_msg(dmin > 0.0 && dmin < 0.02, "min distance %g", dmin); /* it landed and stayed above */
  const msgpack_object *act = lc_codec_get(c, "active");
  ck_assert_int_gt(res_int(act, "pt") + res_int(act, "pe") + res_int(act, "pp") + res_int(act, "ee"), 0);
  ck_assert_int_gt(res_int(lc_codec_get(c, "friction"), "pairs"), 0); /* resting: friction acts */
  pk = begin(&s, "contacts.update"); /* pt not an array */
  msgpack_pack_map(pk, 2);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "pt");
  pstr(pk, "4 0");
  {
    char msg[256] = "";
    const int code = send_req(&s, NULL, msg);
    ck_assert_msg(code == LC_RPC_EPARAMS || code == LC_RPC_EINVAL, "pt as a string: code %d (%s)", code, msg);
  }
  /* client pairs: out of range, a vertex with its own face, then one good row (twice) */
  static const int32_t bad_pt[2][2] = {{99, 0}, {4, 2}}, good_pt[2][2] = {{4, 0}, {4, 0}};
  for (int k = 0; k < 3; ++k) {
    pk = begin(&s, "contacts.update");
    msgpack_pack_map(pk, 2);
    pstr(pk, "problem");
    msgpack_pack_int64(pk, pid);
    pstr(pk, "pt");
    msgpack_pack_array(pk, k < 2 ? 1 : 2);
    for (int i = 0; i < (k < 2 ? 1 : 2); ++i) {
      const int32_t *row = k < 2 ? bad_pt[k] : good_pt[i];
      msgpack_pack_array(pk, 2);
      msgpack_pack_int(pk, row[0]);
      msgpack_pack_int(pk, row[1]);
    }
    if (k < 2) {
      fails(&s, LC_RPC_EINVAL);
      continue;
    }
    res = ok(&s);
    ck_assert_int_eq(res_int(res, "n_pt"), 1);
    ck_assert_int_eq(res_int(res, "n_ee"), 0);
  }
  pk = begin(&s, "problem.set_contact");
  msgpack_pack_map(pk, 2);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "enabled");
  msgpack_pack_false(pk);
  res = ok(&s);
  pk = begin(&s, "problem.info");
  msgpack_pack_map(pk, 1);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  res = ok(&s);
  ck_assert_int_eq(lc_codec_get(res, "terms")->via.array.size, 3);
  s_close(&s);
}
END_TEST

/* ---- devices ------------------------------------------------------------- */

/* problem.create {mesh, device}: returns the error code (0: ok) and message;
 * on success *dev receives the result's device. */
static int create_on(session *s, int64_t mid, void (*pack_dev)(msgpack_packer *, const void *),
                     const void *dev_arg, char *msg, char *dev, int64_t *pid) {
  const msgpack_object *res = NULL;
  msgpack_packer *pk = begin(s, "problem.create");
  msgpack_pack_map(pk, 2);
  pstr(pk, "mesh");
  msgpack_pack_int64(pk, mid);
  pstr(pk, "device");
  pack_dev(pk, dev_arg);
  msg[0] = '\0';
  const int code = send_req(s, &res, msg);
  if (!code) {
    const msgpack_object *d = lc_codec_get(res, "device");
    ck_assert(d && d->type == MSGPACK_OBJECT_STR && d->via.str.size < 32);
    snprintf(dev, 32, "%.*s", (int)d->via.str.size, d->via.str.ptr);
    if (pid) *pid = res_int(res, "problem");
  }
  return code;
}
static void pack_dev_str(msgpack_packer *pk, const void *a) { pstr(pk, a); }
static void pack_dev_int(msgpack_packer *pk, const void *a) { msgpack_pack_int(pk, *(const int *)a); }

/* server.info lists the devices (CPU first); problem.create places problems on
 * the device asked for, or fails saying why.  Holds for CPU-only builds and
 * CUDA builds with or without a GPU: cuda:0 works iff server.info lists it. */
/* Begins problem.solve {problem: pid, method, options: {progress_every: 0, and n_more keys the
 * caller packs}}. */
static msgpack_packer *begin_method(session *s, int64_t pid, const char *method, int n_more) {
  msgpack_packer *pk = begin_on(s, "problem.solve", pid, 2);
  pstr(pk, "method");
  pstr(pk, method);
  pstr(pk, "options");
  msgpack_pack_map(pk, 1 + (size_t)n_more);
  pstr(pk, "progress_every");
  msgpack_pack_int(pk, 0);
  return pk;
}

/* Begins problem.solve with Gauss-Newton (see begin_method). */
static msgpack_packer *begin_gn(session *s, int64_t pid, int n_more) {
  return begin_method(s, pid, "gauss_newton", n_more);
}

/* mesh.load_obj of OBJ text sent as a str; returns the mesh id. */
static int64_t load_obj_str(session *s, const char *text) {
  msgpack_packer *pk = begin(s, "mesh.load_obj");
  msgpack_pack_map(pk, 1);
  pstr(pk, "data");
  pstr(pk, text);
  return res_int(ok(s), "mesh");
}

/* Variables of 12 components and a 24-variable residual term over the wire:
 * dimension 13 is refused, ed_reg takes no explicit PSD projection, and
 * without one its Gauss-Newton solve runs. */
START_TEST(session_twelve_components) {
  session s;
  s_open(&s);
  const int64_t mid = load_obj_str(&s, "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n");
  msgpack_packer *pk = begin(&s, "problem.create");
  msgpack_pack_map(pk, 1);
  pstr(pk, "mesh");
  msgpack_pack_int64(pk, mid);
  const int64_t pid = res_int(ok(&s), "problem");
  double init[48] = {0}; /* t = 0, A = 2 I: the rotation residuals pull A back to I */
  for (int v = 0; v < 4; ++v) init[12 * v + 3] = init[12 * v + 7] = init[12 * v + 11] = 2.0;
  const int64_t shape[2] = {4, 12};
  for (int dim = 13; dim >= 12; --dim) {
    pk = begin(&s, "problem.add_variable");
    msgpack_pack_map(pk, dim == 12 ? 4 : 3);
    if (dim == 12) {
      pstr(pk, "init");
      pack_arr(pk, "f8", 2, shape, init, sizeof init);
    }
    pstr(pk, "problem");
    msgpack_pack_int64(pk, pid);
    pstr(pk, "name");
    pstr(pk, "node");
    pstr(pk, "dim");
    msgpack_pack_int(pk, dim);
    if (dim == 13) fails(&s, LC_RPC_EINVAL);
    else ck_assert_int_eq(res_int(ok(&s), "n"), 4);
  }
  for (int project = 1; project >= 0; --project) {
    pk = begin(&s, "problem.add_term");
    msgpack_pack_map(pk, project ? 4 : 3);
    pstr(pk, "problem");
    msgpack_pack_int64(pk, pid);
    pstr(pk, "energy");
    pstr(pk, "ed_reg");
    pstr(pk, "var");
    pstr(pk, "node");
    if (project) {
      pstr(pk, "project");
      msgpack_pack_true(pk);
      fails(&s, LC_RPC_EINVAL);
    } else {
      ck_assert_int_eq(res_int(ok(&s), "n_elems"), 5);
    }
  }
  pk = begin(&s, "problem.add_term");
  msgpack_pack_map(pk, 3);
  pstr(pk, "problem");
  msgpack_pack_int64(pk, pid);
  pstr(pk, "energy");
  pstr(pk, "ed_rot");
  pstr(pk, "var");
  pstr(pk, "node");
  ok(&s);
  pk = begin_gn(&s, pid, 2);
  pstr(pk, "linear");
  pstr(pk, "pcg");
  pstr(pk, "lin_block");
  msgpack_pack_int(pk, 12);
  const msgpack_object *res = ok(&s);
  ck_assert_double_lt(res_dbl(res, "gnorm"), 1e-8);
  /* condensation over the wire: the matrices eliminated, then bad ranges and types */
  for (int bad = 0; bad < 4; ++bad) {
    pk = begin(&s, "problem.set_variable");
    msgpack_pack_map(pk, 3);
    pstr(pk, "problem");
    msgpack_pack_int64(pk, pid);
    pstr(pk, "var");
    pstr(pk, "node");
    pstr(pk, "values");
    pack_arr(pk, "f8", 2, shape, init, sizeof init);
    ok(&s);
    pk = begin_gn(&s, pid, 1);
    pstr(pk, "condense");
    if (bad == 3) {
      pstr(pk, "node");
      fails(&s, LC_RPC_EPARAMS);
      continue;
    }
    msgpack_pack_map(pk, 3);
    pstr(pk, "var");
    pstr(pk, "node");
    pstr(pk, "first");
    msgpack_pack_int(pk, bad == 1 ? 12 : 3);
    pstr(pk, "count");
    msgpack_pack_int(pk, bad == 2 ? 10 : 9);
    if (bad) {
      fails(&s, LC_RPC_EINVAL);
      continue;
    }
    res = ok(&s);
    ck_assert_double_lt(res_dbl(res, "gnorm"), 1e-8);
    ck_assert_int_gt(res_int(res, "iters"), 0);
  }
  /* a term without elements: bending (flaps) on a single triangle is refused, springs are not */
  const int64_t tri = load_obj_str(&s, "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  pk = begin(&s, "problem.create");
  msgpack_pack_map(pk, 2);
  pstr(pk, "mesh");
  msgpack_pack_int64(pk, tri);
  pack_x3_variable(pk);
  const int64_t tp = res_int(ok(&s), "problem");
  for (int e = 0; e < 2; ++e) {
    pk = begin(&s, "problem.add_term");
    msgpack_pack_map(pk, 3);
    pstr(pk, "problem");
    msgpack_pack_int64(pk, tp);
    pstr(pk, "energy");
    pstr(pk, e ? "spring" : "bending");
    pstr(pk, "var");
    pstr(pk, "x");
    if (e) ck_assert_int_eq(res_int(ok(&s), "n_elems"), 3);
    else fails(&s, LC_RPC_EINVAL);
  }
  s_close(&s);
}
END_TEST

/* The state directory: what a session built (meshes, problems, variables,
 * terms with their weights, fixed DOFs, the state after a solve, a deleted
 * problem) comes back in a new store with the same ids and names, bit for
 * bit; a later creation takes a fresh id; a file that is not a locad state
 * database, and one of a newer schema, refuse to open with a reason. */
START_TEST(session_state_dir) {
  char dir[] = "/tmp/locad-state-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  session s;
  s_open_state(&s, dir);
  const int64_t mid = load_obj_str(&s, "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n");
  msgpack_packer *pk = begin(&s, "problem.create");
  msgpack_pack_map(pk, 3);
  pstr(pk, "mesh");
  msgpack_pack_int64(pk, mid);
  pstr(pk, "name");
  pstr(pk, "kept");
  pack_x3_variable(pk);
  const int64_t pid = res_int(ok(&s), "problem");
  pk = begin_on(&s, "problem.add_term", pid, 2);
  pstr(pk, "energy");
  pstr(pk, "spring");
  pstr(pk, "var");
  pstr(pk, "x");
  const int64_t term = res_int(ok(&s), "term");
  for (int k = 0; k < 10; ++k) { /* ten weights: the journal keeps the last */
    pk = begin_on(&s, "problem.set_term", pid, 2);
    pstr(pk, "term");
    msgpack_pack_int64(pk, term);
    pstr(pk, "weight");
    msgpack_pack_double(pk, 3.5 + (9 - k));
    ok(&s);
  }
  pk = begin_on(&s, "problem.solve", pid, 2);
  pstr(pk, "options");
  msgpack_pack_map(pk, 1);
  pstr(pk, "progress_every");
  msgpack_pack_int(pk, 0);
  pstr(pk, "fix");
  msgpack_pack_map(pk, 3);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "entities");
  msgpack_pack_array(pk, 1);
  msgpack_pack_int(pk, 2);
  pstr(pk, "values");
  msgpack_pack_array(pk, 1);
  msgpack_pack_array(pk, 3);
  for (int k = 0; k < 3; ++k) msgpack_pack_double(pk, 1.5 + k);
  ok(&s);
  double x1[12];
  pk = begin_on(&s, "problem.get_variable", pid, 1);
  pstr(pk, "var");
  pstr(pk, "x");
  res_vec(ok(&s), "values", x1, 12);
  pk = begin(&s, "problem.create"); /* a second problem, deleted again */
  msgpack_pack_map(pk, 2);
  pstr(pk, "mesh");
  msgpack_pack_int64(pk, mid);
  pack_x3_variable(pk);
  const int64_t gone = res_int(ok(&s), "problem");
  pk = begin_on(&s, "problem.delete", gone, 0);
  ok(&s);
  s_close(&s);
  /* the journal holds one set_term entry, and nothing of the deleted problem */
  char path[256], cmd[2 * 256 + 32], sql[160];
  snprintf(path, sizeof path, "%s/locad.db", dir);
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM journal WHERE method = 'problem.set_term'), "
                            "(SELECT count(*) FROM journal WHERE target = %lld)", (long long)gone);
  ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  ck_assert_int_eq(sqlite3_column_int(st, 0), 1);
  ck_assert_int_eq(sqlite3_column_int(st, 1), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);

  s_open_state(&s, dir); /* a new store from the same directory */
  pk = begin_on(&s, "problem.info", pid, 0);
  const msgpack_object *res = ok(&s);
  ck_assert_int_eq(res_int(res, "n_fixed"), 3);
  const msgpack_object *terms = lc_codec_get(res, "terms");
  ck_assert_int_eq(terms->via.array.size, 1);
  pk = begin_on(&s, "problem.get_term", pid, 1);
  pstr(pk, "term");
  msgpack_pack_int64(pk, term);
  ck_assert(lc_codec_str_eq(lc_codec_get(ok(&s), "energy"), "spring"));
  double x2[12];
  pk = begin_on(&s, "problem.get_variable", pid, 1);
  pstr(pk, "var");
  pstr(pk, "x");
  res_vec(ok(&s), "values", x2, 12);
  ck_assert(memcmp(x1, x2, sizeof x1) == 0);
  pk = begin_on(&s, "problem.info", gone, 0);
  fails(&s, LC_RPC_ENOTFOUND);
  ck_assert(lc_codec_str_eq(lc_codec_get(list_one(&s, "problem.list", "problems"), "name"), "kept"));
  const int64_t fresh = load_obj_str(&s, "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  ck_assert_int_gt(fresh, gone);
  s_close(&s);

  /* a newer schema, then a file that is no database */
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(db, "UPDATE meta SET value = 9 WHERE key = 'schema'", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  lc_error err;
  lc_rpc *r = NULL;
  lc_rpc_config cfg = {.version = "test", .device = "cpu", .state_dir = dir};
  ck_assert_int_eq(lc_rpc_create(&cfg, &r, &err), LC_EIO);
  ck_assert_msg(strstr(err.msg, "newer") != NULL, "%s", err.msg);
  snprintf(cmd, sizeof cmd, "rm -f %s-wal %s-shm", path, path);
  ck_assert_int_eq(system(cmd), 0);
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  fputs("this is not a database, it only sits where one should be................................", f);
  fclose(f);
  ck_assert_int_eq(lc_rpc_create(&cfg, &r, &err), LC_EIO);
  ck_assert_msg(strstr(err.msg, "locad.db") != NULL, "%s", err.msg);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Two implicit-Euler steps on a cloth with a pinned corner, with a restart
 * of the store from state_dir between them when restart; returns x after the
 * second step into x (12 values). */
static void two_steps(const char *state_dir, int restart, double *x) {
  session s;
  s_open_state(&s, state_dir);
  const int64_t mid = load_obj_str(&s, "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n");
  int64_t inertia = -1;
  const int64_t pid = cloth_problem(&s, mid, &inertia);
  msgpack_packer *pk = begin_step(&s, pid, inertia, 1, 1);
  pstr(pk, "fix");
  msgpack_pack_map(pk, 2);
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "entities");
  msgpack_pack_array(pk, 1);
  msgpack_pack_int(pk, 0);
  ok(&s);
  if (restart) {
    s_close(&s);
    s_open_state(&s, state_dir);
  }
  pk = begin_on(&s, "problem.step", pid, 0); /* the stepper's settings and velocity carry over */
  ok(&s);
  pk = begin_on(&s, "problem.get_variable", pid, 1);
  pstr(pk, "var");
  pstr(pk, "x");
  res_vec(ok(&s), "values", x, 12);
  s_close(&s);
}

/* The problem.step state survives a restart: two steps with a restart
 * between them end where two steps without one end, bit for bit. */
START_TEST(session_state_dir_stepper) {
  char a[] = "/tmp/locad-step-a-XXXXXX", b[] = "/tmp/locad-step-b-XXXXXX", cmd[128];
  ck_assert_ptr_nonnull(mkdtemp(a));
  ck_assert_ptr_nonnull(mkdtemp(b));
  double xa[12], xb[12];
  two_steps(a, 0, xa);
  two_steps(b, 1, xb);
  ck_assert(memcmp(xa, xb, sizeof xa) == 0);
  ck_assert(xa[3 * 2 + 2] < 0.0); /* the free corner fell */
  snprintf(cmd, sizeof cmd, "rm -rf %s %s", a, b);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Errors that say what to do, and the warnings of a solve: an unknown
 * energy lists the energies, an unknown parameter the energy's parameters,
 * a bad F index names its row and column; a problem without terms cannot be
 * solved; Gauss-Newton without residual terms, and a budget that runs out,
 * are warnings. */
START_TEST(session_messages_and_warnings) {
  session s;
  s_open(&s);
  msgpack_packer *pk = begin(&s, "mesh.create");
  msgpack_pack_map(pk, 2);
  pstr(pk, "V");
  msgpack_pack_array(pk, 3);
  for (int i = 0; i < 3; ++i) {
    msgpack_pack_array(pk, 3);
    for (int c = 0; c < 3; ++c) msgpack_pack_double(pk, c == i ? 1.0 : 0.0);
  }
  pstr(pk, "F");
  msgpack_pack_array(pk, 2);
  msgpack_pack_array(pk, 3);
  for (int c = 0; c < 3; ++c) msgpack_pack_int(pk, c);
  msgpack_pack_array(pk, 3);
  msgpack_pack_int(pk, 0);
  msgpack_pack_int(pk, 1);
  msgpack_pack_int(pk, 7);
  fails_saying(&s, LC_RPC_EINVAL, "row 1, column 2: index 7");
  const int64_t mid = load_obj_str(&s, "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n");
  pk = begin(&s, "problem.create");
  msgpack_pack_map(pk, 2);
  pstr(pk, "mesh");
  msgpack_pack_int64(pk, mid);
  pack_x3_variable(pk);
  const int64_t pid = res_int(ok(&s), "problem");
  pk = begin_gn(&s, pid, 0);
  fails_saying(&s, LC_RPC_EINVAL, "no terms: nothing to minimise");
  pk = begin_on(&s, "problem.add_term", pid, 2);
  pstr(pk, "energy");
  pstr(pk, "sprung");
  pstr(pk, "var");
  pstr(pk, "x");
  fails_saying(&s, LC_RPC_ENOTFOUND, "energies: spring, inertia");
  pk = begin_on(&s, "problem.add_term", pid, 3);
  pstr(pk, "energy");
  pstr(pk, "spring");
  pstr(pk, "var");
  pstr(pk, "x");
  pstr(pk, "params");
  msgpack_pack_map(pk, 1);
  pstr(pk, "stiffness");
  msgpack_pack_double(pk, 2.0);
  fails_saying(&s, LC_RPC_ENOTFOUND, "its parameters: k");
  pk = begin_on(&s, "problem.add_term", pid, 2);
  pstr(pk, "energy");
  pstr(pk, "spring");
  pstr(pk, "var");
  pstr(pk, "x");
  ok(&s);
  pk = begin_gn(&s, pid, 1); /* GN without residual terms, one iteration of a budget that runs out */
  pstr(pk, "max_iters");
  msgpack_pack_int(pk, 2);
  const msgpack_object *w = lc_codec_get(ok(&s), "warnings");
  ck_assert_int_eq(w->type, MSGPACK_OBJECT_ARRAY);
  int residual = 0;
  for (uint32_t i = 0; i < w->via.array.size; ++i) {
    char msg[256];
    snprintf(msg, sizeof msg, "%.*s", (int)w->via.array.ptr[i].via.str.size, w->via.array.ptr[i].via.str.ptr);
    residual |= strstr(msg, "without residual terms") != NULL;
  }
  ck_assert(residual);
  /* local_global: arap terms only, named; then an arap problem with a good and a bad history */
  pk = begin_method(&s, pid, "local_global", 0);
  fails_saying(&s, LC_RPC_EINVAL, "arap terms only; term 0 is 'spring'");
  pk = begin_method(&s, pid, "local_globe", 0);
  fails_saying(&s, LC_RPC_EINVAL, "method 'local_globe' is unknown");
  pk = begin(&s, "problem.create");
  msgpack_pack_map(pk, 2);
  pstr(pk, "mesh");
  msgpack_pack_int64(pk, mid);
  pack_x3_variable(pk);
  const int64_t pa = res_int(ok(&s), "problem");
  pk = begin_on(&s, "problem.add_term", pa, 2);
  pstr(pk, "energy");
  pstr(pk, "arap");
  pstr(pk, "var");
  pstr(pk, "x");
  ok(&s);
  pk = begin_method(&s, pa, "local_global", 1);
  pstr(pk, "anderson");
  msgpack_pack_int(pk, 33);
  fails_saying(&s, LC_RPC_EINVAL, "anderson");
  pk = begin_method(&s, pa, "local_global", 2);
  pstr(pk, "anderson");
  msgpack_pack_int(pk, 3);
  pstr(pk, "max_iters");
  msgpack_pack_int(pk, 4);
  const msgpack_object *lg = ok(&s);
  ck_assert_double_lt(res_dbl(lg, "energy"), 1e-12); /* at rest, to rounding */
  s_close(&s);
}
END_TEST

START_TEST(session_devices) {
  session s;
  grid g;
  char msg[256], dev[32];
  make_grid(&g, 2);
  s_open(&s);
  msgpack_pack_map(begin(&s, "server.info"), 0);
  const msgpack_object *res = ok(&s);
  ck_assert(lc_codec_str_eq(lc_codec_get(res, "device"), "cpu")); /* the session's default */
  ck_assert(lc_codec_str_eq(lc_codec_get(res, "backend"), "cpu"));
  const msgpack_object *devs = lc_codec_get(res, "devices");
  ck_assert(devs && devs->type == MSGPACK_OBJECT_ARRAY && devs->via.array.size >= 1);
  const msgpack_object *cpu = &devs->via.array.ptr[0];
  ck_assert(lc_codec_str_eq(lc_codec_get(cpu, "id"), "cpu"));
  ck_assert_int_eq(lc_codec_get(cpu, "compute_capability")->type, MSGPACK_OBJECT_NIL);
  ck_assert_int_gt(res_int(cpu, "cores"), 0);
  ck_assert_int_gt(res_int(cpu, "memory"), 0);
  ck_assert_ptr_nonnull(lc_codec_get(cpu, "name"));
  const uint32_t n_devs = devs->via.array.size; /* res is valid until the next request */
  int have_cuda0 = 0;
  for (uint32_t i = 1; i < n_devs; ++i) {
    const msgpack_object *d = &devs->via.array.ptr[i];
    have_cuda0 |= lc_codec_str_eq(lc_codec_get(d, "id"), "cuda:0");
    ck_assert_int_eq(lc_codec_get(d, "compute_capability")->type, MSGPACK_OBJECT_STR);
  }
  const int64_t mid = create_grid(&s, &g, NULL);
  /* cpu: created there, and problem.info says so */
  int64_t pid = -1;
  ck_assert_int_eq(create_on(&s, mid, pack_dev_str, "cpu", msg, dev, &pid), 0);
  ck_assert_str_eq(dev, "cpu");
  msgpack_pack_map(begin(&s, "problem.info"), 1);
  pstr(&s.pk, "problem");
  msgpack_pack_int64(&s.pk, pid);
  ck_assert(lc_codec_str_eq(lc_codec_get(ok(&s), "device"), "cpu"));
  /* no device: the daemon's default */
  msgpack_pack_map(begin(&s, "problem.create"), 1);
  pstr(&s.pk, "mesh");
  msgpack_pack_int64(&s.pk, mid);
  ck_assert(lc_codec_str_eq(lc_codec_get(ok(&s), "device"), "cpu"));
  /* cuda:0 works only where listed; otherwise INVAL naming the device */
  int code = create_on(&s, mid, pack_dev_str, "cuda:0", msg, dev, NULL);
  if (have_cuda0) {
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(dev, "cuda:0");
  } else {
    ck_assert_msg(code == LC_RPC_EINVAL && strstr(msg, "cuda:0"), "cuda:0: %d %s", code, msg);
  }
  const int few = n_devs < 17; /* fewer than 16 GPUs: cuda:15 does not exist */
  code = create_on(&s, mid, pack_dev_str, "cuda:15", msg, dev, NULL);
  ck_assert_msg(!few || (code == LC_RPC_EINVAL && strstr(msg, "cuda:15")), "cuda:15: %d %s", code, msg);
  /* malformed: PARAMS naming the field */
  static const char *const bad[] = {"gpu", "cuda:x", "", "cuda:-1", "CPU"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    code = create_on(&s, mid, pack_dev_str, bad[i], msg, dev, NULL);
    ck_assert_msg(code == LC_RPC_EPARAMS && strstr(msg, "'device'"), "'%s': %d %s", bad[i], code, msg);
  }
  const int fortytwo = 42;
  code = create_on(&s, mid, pack_dev_int, &fortytwo, msg, dev, NULL);
  ck_assert_msg(code == LC_RPC_EPARAMS && strstr(msg, "'device'"), "42: %d %s", code, msg);
  /* auto: the first listed GPU, else the CPU */
  ck_assert_int_eq(create_on(&s, mid, pack_dev_str, "auto", msg, dev, NULL), 0);
  ck_assert_str_eq(dev, n_devs > 1 ? "cuda:0" : "cpu");
  s_close(&s);
  /* a store whose default device cannot be used is not created */
  lc_rpc *r = NULL;
  lc_error err = {0};
  lc_rpc_config cfg = {.version = "test", .device = "gpu"};
  ck_assert_int_eq(lc_rpc_create(&cfg, &r, &err), LC_EINVAL);
  ck_assert_ptr_null(r);
  cfg.device = "cuda:15";
  if (few) {
    ck_assert_int_eq(lc_rpc_create(&cfg, &r, &err), LC_ENOTSUP);
    ck_assert_ptr_nonnull(strstr(err.msg, "cuda:15"));
  }
  cfg.device = NULL; /* auto */
  ck_assert_int_eq(lc_rpc_create(&cfg, &r, &err), LC_OK);
  lc_rpc_destroy(r);
}
END_TEST

static Suite *protocol_suite(void) {
  Suite *s = suite_create("protocol");
  TCase *tc = tcase_create("scan");
  tcase_add_test(tc, scan_every_type_truncated);
  tcase_add_test(tc, scan_huge_counts);
  tcase_add_test(tc, scan_depth_and_types);
  tcase_add_test(tc, scan_method_names);
  suite_add_tcase(s, tc);
  tc = tcase_create("rpc");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, codec_validation);
  tcase_add_test(tc, envelope_errors);
  tcase_add_test(tc, session_full);
  tcase_add_test(tc, session_obj_and_step);
  tcase_add_test(tc, session_contact);
  tcase_add_test(tc, session_twelve_components);
  tcase_add_test(tc, session_state_dir);
  tcase_add_test(tc, session_state_dir_stepper);
  tcase_add_test(tc, session_messages_and_warnings);
  tcase_add_test(tc, session_devices);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(protocol_suite()); }
