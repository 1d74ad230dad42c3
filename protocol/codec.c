/* codec.c - frame decoding, typed params look-ups, ndarray decode/encode and
 * packing helpers for the locad protocol (codec.h). */
#include "codec.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LC_CODEC_LE 1
#else
#define LC_CODEC_LE 0
#endif

static const double lc_codec_empty_[1] = {0.0};

/* Unpacks the frame buf[0..len) into *out; see codec.h. */
int lc_codec_decode(const char *buf, size_t len, msgpack_unpacked *out, lc_error *err) {
  size_t off = 0;
  int rc = LC_OK;
  msgpack_unpacked_init(out);
  const msgpack_unpack_return ur = msgpack_unpack_next(out, buf, len, &off);
  if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
    rc = lc_error_set(err, LC_ENOMEM, "out of memory decoding a frame of %zu bytes", len);
  else if (ur == MSGPACK_UNPACK_CONTINUE)
    rc = lc_error_set(err, LC_EPARSE, "truncated frame");
  else if (ur != MSGPACK_UNPACK_SUCCESS)
    rc = lc_error_set(err, LC_EPARSE, "malformed frame");
  else if (off != len)
    rc = lc_error_set(err, LC_EPARSE, "%zu bytes after the frame's object", len - off);
  if (rc != LC_OK) msgpack_unpacked_destroy(out);
  return rc;
}

/* 1 when o is a str equal to s. */
int lc_codec_str_eq(const msgpack_object *o, const char *s) {
  const size_t n = strlen(s);
  return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
         memcmp(o->via.str.ptr, s, n) == 0;
}

/* The bytes of a str or bin object. */
int lc_codec_strbin(const msgpack_object *o, const char **ptr, size_t *len) {
  if (!o || (o->type != MSGPACK_OBJECT_STR && o->type != MSGPACK_OBJECT_BIN)) return 0;
  *ptr = o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;
  *len = o->type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
  return 1;
}

/* Printable copy of len bytes for logs and messages. */
void lc_codec_printable(char *dst, size_t cap, const char *p, size_t len) {
  size_t o = 0;
  for (size_t i = 0; i < len; ++i) {
    const unsigned char ch = (unsigned char)p[i];
    const size_t need = ch >= 0x20 && ch < 0x7f && ch != '\\' ? 1 : 4;
    if (o + need + 4 > cap) { /* room for "..." and the NUL */
      if (cap >= 4) memcpy(dst + o, "...", 3), o += 3;
      break;
    }
    if (need == 1) dst[o++] = (char)ch;
    else o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", ch);
  }
  dst[o < cap ? o : cap - 1] = '\0';
}

/* The value for str key in map (NULL when absent or map is not a map). */
const msgpack_object *lc_codec_get(const msgpack_object *map, const char *key) {
  if (!map || map->type != MSGPACK_OBJECT_MAP) return NULL;
  for (uint32_t i = 0; i < map->via.map.size; ++i)
    if (lc_codec_str_eq(&map->via.map.ptr[i].key, key)) return &map->via.map.ptr[i].val;
  return NULL;
}

/* Reports a missing key (required) or returns LC_OK with *o = NULL. */
static int absent(const char *key, int required, lc_error *err) {
  return required ? lc_error_set(err, LC_EINVAL, "missing parameter '%s'", key) : LC_OK;
}

/* Integer key in [lo, hi]. */
int lc_codec_get_int(const msgpack_object *map, const char *key, int required, int64_t lo,
                     int64_t hi, int64_t def, int64_t *out, lc_error *err) {
  const msgpack_object *o = lc_codec_get(map, key);
  int rc = LC_OK;
  *out = def;
  if (!o) {
    rc = absent(key, required, err);
  } else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
    if (o->via.u64 > (uint64_t)INT64_MAX || (int64_t)o->via.u64 > hi || (int64_t)o->via.u64 < lo)
      rc = lc_error_set(err, LC_ERANGE, "parameter '%s' = %llu out of range [%lld, %lld]", key,
                        (unsigned long long)o->via.u64, (long long)lo, (long long)hi);
    else
      *out = (int64_t)o->via.u64;
  } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
    if (o->via.i64 < lo || o->via.i64 > hi)
      rc = lc_error_set(err, LC_ERANGE, "parameter '%s' = %lld out of range [%lld, %lld]", key,
                        (long long)o->via.i64, (long long)lo, (long long)hi);
    else
      *out = o->via.i64;
  } else {
    rc = lc_error_set(err, LC_EINVAL, "parameter '%s' must be an integer", key);
  }
  return rc;
}

/* The number in o (int or float) into *v; 0 when o is not a number. */
static int as_double(const msgpack_object *o, double *v) {
  switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *v = (double)o->via.u64; return 1;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *v = (double)o->via.i64; return 1;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *v = o->via.f64; return 1;
    default: return 0;
  }
}

/* Finite number key. */
int lc_codec_get_double(const msgpack_object *map, const char *key, int required, double def,
                        double *out, lc_error *err) {
  const msgpack_object *o = lc_codec_get(map, key);
  int rc = LC_OK;
  *out = def;
  if (!o)
    rc = absent(key, required, err);
  else if (!as_double(o, out))
    rc = lc_error_set(err, LC_EINVAL, "parameter '%s' must be a number", key);
  else if (!isfinite(*out))
    rc = lc_error_set(err, LC_ERANGE, "parameter '%s' must be finite", key);
  return rc;
}

/* Boolean key. */
int lc_codec_get_bool(const msgpack_object *map, const char *key, int def, int *out,
                      lc_error *err) {
  const msgpack_object *o = lc_codec_get(map, key);
  int rc = LC_OK;
  *out = def;
  if (o && o->type == MSGPACK_OBJECT_BOOLEAN)
    *out = o->via.boolean ? 1 : 0;
  else if (o)
    rc = lc_error_set(err, LC_EINVAL, "parameter '%s' must be a boolean", key);
  return rc;
}

/* str key copied into out[cap]. */
int lc_codec_get_str(const msgpack_object *map, const char *key, int required, char *out,
                     size_t cap, lc_error *err) {
  const msgpack_object *o = lc_codec_get(map, key);
  int rc = LC_OK;
  out[0] = '\0';
  if (!o)
    rc = absent(key, required, err);
  else if (o->type != MSGPACK_OBJECT_STR)
    rc = lc_error_set(err, LC_EINVAL, "parameter '%s' must be a string", key);
  else if (o->via.str.size >= cap || memchr(o->via.str.ptr, 0, o->via.str.size))
    rc = lc_error_set(err, LC_ERANGE, "parameter '%s': string longer than %zu bytes or with NUL",
                      key, cap - 1);
  else {
    memcpy(out, o->via.str.ptr, o->via.str.size);
    out[o->via.str.size] = '\0';
  }
  return rc;
}

/* Container key of the given type. */
static int get_typed(const msgpack_object *map, const char *key, int required,
                     msgpack_object_type t, const char *what, const msgpack_object **out,
                     lc_error *err) {
  const msgpack_object *o = lc_codec_get(map, key);
  int rc = LC_OK;
  *out = NULL;
  if (!o)
    rc = absent(key, required, err);
  else if (o->type != t)
    rc = lc_error_set(err, LC_EINVAL, "parameter '%s' must be %s", key, what);
  else
    *out = o;
  return rc;
}

/* Map key. */
int lc_codec_get_map(const msgpack_object *map, const char *key, int required,
                     const msgpack_object **out, lc_error *err) {
  return get_typed(map, key, required, MSGPACK_OBJECT_MAP, "a map", out, err);
}

/* Array key. */
int lc_codec_get_array(const msgpack_object *map, const char *key, int required,
                       const msgpack_object **out, lc_error *err) {
  return get_typed(map, key, required, MSGPACK_OBJECT_ARRAY, "an array", out, err);
}

/* ---- arrays ------------------------------------------------------------ */

static size_t dt_size(lc_dtype dt) { return dt == LC_DT_F8 ? 8 : 4; }
static const char *dt_name(lc_dtype dt) { return dt == LC_DT_F8 ? "f8" : "i4"; }

/* Checks that every f8 element is finite. */
static int check_finite(const lc_ndarray *a, const char *key, lc_error *err) {
  const double *d = a->data;
  if (a->dtype != LC_DT_F8) return LC_OK;
  for (int64_t i = 0; i < a->n; ++i)
    if (!isfinite(d[i]))
      return lc_error_set(err, LC_ERANGE, "'%s': non-finite value at element %lld", key,
                          (long long)i);
  return LC_OK;
}

/* Stores the number o as element i of a (plain-array path). */
static int put_plain(lc_ndarray *a, int64_t i, const msgpack_object *o, const char *key,
                     lc_error *err) {
  double v;
  if (!as_double(o, &v))
    return lc_error_set(err, LC_EINVAL, "'%s': element %lld is not a number", key, (long long)i);
  if (a->dtype == LC_DT_F8) {
    ((double *)a->owned)[i] = v;
    return LC_OK;
  }
  if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER && o->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
    return lc_error_set(err, LC_EINVAL, "'%s': element %lld is not an integer (dtype i4)", key,
                        (long long)i);
  if ((o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 > INT32_MAX) ||
      (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 < INT32_MIN))
    return lc_error_set(err, LC_ERANGE, "'%s': element %lld does not fit int32", key,
                        (long long)i);
  ((int32_t *)a->owned)[i] =
      o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int32_t)o->via.u64 : (int32_t)o->via.i64;
  return LC_OK;
}

/* Decodes a plain msgpack array (flat or array of equal-length arrays).
 * Every row's shape is checked before anything is allocated, so the
 * allocation never exceeds the elements the frame actually holds (a first
 * row of a million entries over a million empty rows must not reserve
 * 10^12 numbers). */
static int decode_plain(const msgpack_object *o, const char *key, lc_ndarray *a, lc_error *err) {
  const uint32_t rows = o->via.array.size;
  const int nested = rows > 0 && o->via.array.ptr[0].type == MSGPACK_OBJECT_ARRAY;
  const uint32_t cols = nested ? o->via.array.ptr[0].via.array.size : 1;
  int rc = LC_OK;
  for (uint32_t r = 0; nested && r < rows; ++r) {
    const msgpack_object *row = &o->via.array.ptr[r];
    if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != cols)
      return lc_error_set(err, LC_ERANGE, "'%s': row %u is not an array of %u numbers", key, r, cols);
  }
  a->ndim = nested ? 2 : 1;
  a->shape[0] = rows;
  a->shape[1] = cols;
  a->n = (int64_t)rows * cols;
  a->owned = malloc((size_t)(a->n > 0 ? a->n : 1) * dt_size(a->dtype));
  if (!a->owned) return lc_error_set(err, LC_ENOMEM, "'%s': out of memory", key);
  a->data = a->owned;
  for (uint32_t r = 0; r < rows && rc == LC_OK; ++r) {
    const msgpack_object *row = &o->via.array.ptr[r];
    if (!nested) {
      rc = put_plain(a, r, row, key, err);
    } else {
      for (uint32_t c = 0; c < cols && rc == LC_OK; ++c)
        rc = put_plain(a, (int64_t)r * cols + c, &row->via.array.ptr[c], key, err);
    }
  }
  return rc;
}

/* Reads the "shape" array of an ndarray map into a. */
static int decode_shape(const msgpack_object *shape, const char *key, lc_ndarray *a,
                        lc_error *err) {
  if (!shape || shape->type != MSGPACK_OBJECT_ARRAY || shape->via.array.size < 1 ||
      shape->via.array.size > LC_NDARRAY_MAX_DIM)
    return lc_error_set(err, LC_EINVAL, "'%s': 'shape' must be an array of 1 to %d integers",
                        key, LC_NDARRAY_MAX_DIM);
  a->ndim = (int)shape->via.array.size;
  a->n = 1;
  for (int d = 0; d < a->ndim; ++d) {
    const msgpack_object *s = &shape->via.array.ptr[d];
    if (s->type != MSGPACK_OBJECT_POSITIVE_INTEGER || s->via.u64 > INT32_MAX)
      return lc_error_set(err, LC_ERANGE, "'%s': shape[%d] must be an integer in [0, 2^31)", key,
                          d);
    a->shape[d] = (int64_t)s->via.u64;
    if (a->n > (INT64_MAX >> 4) / (a->shape[d] > 0 ? a->shape[d] : 1))
      return lc_error_set(err, LC_ERANGE, "'%s': shape too large", key);
    a->n *= a->shape[d];
  }
  return LC_OK;
}

/* Byte-swaps n elements of size sz in place. */
static void swap_bytes(void *p, int64_t n, size_t sz) {
  unsigned char *b = p;
  for (int64_t i = 0; i < n; ++i, b += sz)
    for (size_t j = 0; j < sz / 2; ++j) {
      const unsigned char t = b[j];
      b[j] = b[sz - 1 - j];
      b[sz - 1 - j] = t;
    }
}

/* Decodes an ndarray map {"dtype", "shape", "data"}. */
static int decode_map(const msgpack_object *o, lc_dtype want, const char *key, lc_ndarray *a,
                      lc_error *err) {
  const msgpack_object *dt = lc_codec_get(o, "dtype"), *data = lc_codec_get(o, "data");
  int rc = LC_OK;
  if (!dt || dt->type != MSGPACK_OBJECT_STR)
    return lc_error_set(err, LC_EINVAL, "'%s': 'dtype' must be a string", key);
  if (!lc_codec_str_eq(dt, dt_name(want)))
    return lc_error_set(err, LC_ERANGE, "'%s': dtype must be \"%s\"", key, dt_name(want));
  rc = decode_shape(lc_codec_get(o, "shape"), key, a, err);
  if (rc != LC_OK) return rc;
  if (!data || data->type != MSGPACK_OBJECT_BIN)
    return lc_error_set(err, LC_EINVAL, "'%s': 'data' must be bin", key);
  const size_t sz = dt_size(want);
  if ((uint64_t)data->via.bin.size != (uint64_t)a->n * sz)
    return lc_error_set(err, LC_ERANGE, "'%s': data has %u bytes, shape needs %lld", key,
                        data->via.bin.size, (long long)a->n * (long long)sz);
  if (LC_CODEC_LE && a->n > 0 && ((uintptr_t)data->via.bin.ptr % sz) == 0) {
    a->data = data->via.bin.ptr; /* zero-copy view into the frame */
  } else if (a->n == 0) {
    a->data = lc_codec_empty_;
  } else {
    a->owned = malloc((size_t)a->n * sz);
    if (!a->owned) return lc_error_set(err, LC_ENOMEM, "'%s': out of memory", key);
    memcpy(a->owned, data->via.bin.ptr, (size_t)a->n * sz);
    if (!LC_CODEC_LE) swap_bytes(a->owned, a->n, sz);
    a->data = a->owned;
  }
  return rc;
}

/* Decodes o as an array of dtype want. */
int lc_codec_ndarray_decode(const msgpack_object *o, lc_dtype want, const char *key,
                            lc_ndarray *out, lc_error *err) {
  int rc = LC_OK;
  memset(out, 0, sizeof *out);
  out->dtype = want;
  out->data = lc_codec_empty_;
  if (o->type == MSGPACK_OBJECT_MAP)
    rc = decode_map(o, want, key, out, err);
  else if (o->type == MSGPACK_OBJECT_ARRAY)
    rc = decode_plain(o, key, out, err);
  else
    rc = lc_error_set(err, LC_EINVAL,
                      "'%s' must be an array ({dtype, shape, data} or a list of numbers)", key);
  if (rc == LC_OK) rc = check_finite(out, key, err);
  if (rc != LC_OK) lc_codec_ndarray_free(out);
  return rc;
}

/* Checks the shape of a against (rows, cols); see lc_codec_get_ndarray. */
static int check_shape(const lc_ndarray *a, int64_t rows, int cols, const char *key,
                       lc_error *err) {
  if (cols == 0) {
    if (rows >= 0 && a->n != rows)
      return lc_error_set(err, LC_ERANGE, "'%s' has %lld values, expected %lld", key,
                          (long long)a->n, (long long)rows);
    return LC_OK;
  }
  const int ok_shape = (a->ndim == 2 && a->shape[1] == cols) || (a->ndim == 1 && cols == 1);
  if (!ok_shape)
    return lc_error_set(err, LC_ERANGE, "'%s' must have shape [n, %d]", key, cols);
  if (rows >= 0 && a->shape[0] != rows)
    return lc_error_set(err, LC_ERANGE, "'%s' has %lld rows, expected %lld", key,
                        (long long)a->shape[0], (long long)rows);
  return LC_OK;
}

/* Looks up key and decodes it as a (rows x cols) matrix. */
int lc_codec_get_ndarray(const msgpack_object *map, const char *key, int required, lc_dtype want,
                         int64_t rows, int cols, lc_ndarray *out, lc_error *err) {
  const msgpack_object *o = lc_codec_get(map, key);
  int rc = LC_OK;
  memset(out, 0, sizeof *out);
  out->n = -1;
  if (!o) return absent(key, required, err);
  rc = lc_codec_ndarray_decode(o, want, key, out, err);
  if (rc == LC_OK) rc = check_shape(out, rows, cols, key, err);
  if (rc != LC_OK) {
    lc_codec_ndarray_free(out);
    out->n = -1;
  }
  return rc;
}

/* Frees what a decoded array owns. */
void lc_codec_ndarray_free(lc_ndarray *a) {
  if (!a) return;
  free(a->owned);
  a->owned = NULL;
  a->data = NULL;
}

/* Checks every int32 of a in [0, hi). */
int lc_codec_check_indices(const lc_ndarray *a, int64_t hi, const char *key, lc_error *err) {
  const int32_t *d = a->data;
  const int64_t cols = a->ndim == 2 && a->shape[1] > 0 ? a->shape[1] : 1;
  for (int64_t i = 0; i < a->n; ++i) {
    if (d[i] >= 0 && d[i] < hi) continue;
    if (cols > 1)
      return lc_error_set(err, LC_ERANGE, "'%s': row %lld, column %lld: index %d out of range [0, %lld)", key,
                          (long long)(i / cols), (long long)(i % cols), d[i], (long long)hi);
    return lc_error_set(err, LC_ERANGE, "'%s': index %d at element %lld out of range [0, %lld)", key, d[i],
                        (long long)i, (long long)hi);
  }
  return LC_OK;
}

/* ---- packing ----------------------------------------------------------- */

/* Packs a NUL-terminated string. */
void lc_codec_pack_str(msgpack_packer *pk, const char *s) {
  const size_t n = strlen(s);
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, s, n);
}

/* Writes n elements of size sz as little-endian bytes (bin body). */
static void pack_le(msgpack_packer *pk, const void *data, int64_t n, size_t sz) {
  if (LC_CODEC_LE) {
    if (n > 0) msgpack_pack_bin_body(pk, data, (size_t)n * sz);
    return;
  }
  unsigned char tmp[4096];
  const unsigned char *src = data;
  const int64_t per = (int64_t)(sizeof tmp / sz);
  for (int64_t i = 0; i < n; i += per) {
    const int64_t k = n - i < per ? n - i : per;
    memcpy(tmp, src + (size_t)i * sz, (size_t)k * sz);
    swap_bytes(tmp, k, sz);
    msgpack_pack_bin_body(pk, tmp, (size_t)k * sz);
  }
}

/* Packs an ndarray map {"dtype", "shape", "data": bin}. */
void lc_codec_pack_ndarray(msgpack_packer *pk, lc_dtype dt, int ndim, const int64_t *shape,
                           const void *data) {
  int64_t n = 1;
  msgpack_pack_map(pk, 3);
  lc_codec_pack_str(pk, "dtype");
  lc_codec_pack_str(pk, dt_name(dt));
  lc_codec_pack_str(pk, "shape");
  msgpack_pack_array(pk, (size_t)ndim);
  for (int d = 0; d < ndim; ++d) {
    msgpack_pack_int64(pk, shape[d]);
    n *= shape[d];
  }
  lc_codec_pack_str(pk, "data");
  msgpack_pack_bin(pk, (size_t)n * dt_size(dt));
  pack_le(pk, data, n, dt_size(dt));
}

/* Packs a CSR matrix. */
void lc_codec_pack_csr(msgpack_packer *pk, const lc_csr *m) {
  const int64_t np = (int64_t)m->nrows + 1, nnz = m->nnz;
  msgpack_pack_map(pk, 4);
  lc_codec_pack_str(pk, "shape");
  msgpack_pack_array(pk, 2);
  msgpack_pack_int32(pk, m->nrows);
  msgpack_pack_int32(pk, m->ncols);
  lc_codec_pack_str(pk, "indptr");
  lc_codec_pack_ndarray(pk, LC_DT_I4, 1, &np, m->rowptr);
  lc_codec_pack_str(pk, "indices");
  lc_codec_pack_ndarray(pk, LC_DT_I4, 1, &nnz, m->col);
  lc_codec_pack_str(pk, "data");
  lc_codec_pack_ndarray(pk, LC_DT_F8, 1, &nnz, m->val);
}

/* Appends raw bytes to pk's output. */
void lc_codec_pack_raw(msgpack_packer *pk, const char *data, size_t len) {
  if (len > 0) pk->callback(pk->data, data, len);
}
