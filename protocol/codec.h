/* codec.h - decoding and encoding helpers for the locad protocol: one frame
 * (already accepted by lc_scan_frame) into msgpack objects, typed look-ups
 * in params maps with errors that name the key, n-dimensional arrays as
 * {"dtype", "shape", "data": bin} maps (protocol/SPEC.md, "Arrays"), and
 * packing helpers.
 *
 * Error convention of the getters: LC_EINVAL when a parameter is missing or
 * has the wrong MessagePack type (protocol code PARAMS), LC_ERANGE when it
 * has the right type but an invalid value - out of range, a dtype/shape/
 * length mismatch, a non-finite float (protocol code INVAL).  The message
 * names the key. */
#ifndef LC_CODEC_H
#define LC_CODEC_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "lc_error.h"
#include "problem.h"

/* Element types of arrays on the wire (little-endian). */
typedef enum { LC_DT_F8 = 0, LC_DT_I4 = 1 } lc_dtype;

#define LC_NDARRAY_MAX_DIM 4

/* A decoded array: data holds n native elements, either a zero-copy view
 * into the frame buffer (aligned little-endian bin payloads) or an owned
 * copy.  Valid while the frame buffer lives; free with lc_codec_ndarray_free. */
typedef struct lc_ndarray {
  lc_dtype dtype;
  int ndim;
  int64_t shape[LC_NDARRAY_MAX_DIM];
  int64_t n;
  const void *data;
  void *owned;
} lc_ndarray;

/* Unpacks the frame buf[0..len) (exactly one object, scanned) into *out;
 * objects may point into buf, which must outlive them.  On success the
 * caller owns *out (msgpack_unpacked_destroy); on failure nothing is held.
 * msgpack-c failures are reported (LC_EPARSE, LC_ENOMEM), never fatal. */
int lc_codec_decode(const char *buf, size_t len, msgpack_unpacked *out, lc_error *err);

/* The value for str key in map (NULL when absent or map is not a map). */
const msgpack_object *lc_codec_get(const msgpack_object *map, const char *key);

/* 1 when o is a str equal to s. */
int lc_codec_str_eq(const msgpack_object *o, const char *s);

/* The bytes of o when it is a str or a bin (MessagePack-RPC method names may
 * be either): sets *ptr and *len and returns 1; else returns 0. */
int lc_codec_strbin(const msgpack_object *o, const char **ptr, size_t *len);

/* Writes len bytes at p into dst (cap > 0 bytes, always NUL-terminated) for
 * logs and error messages: printable ASCII as is, any other byte (an
 * embedded NUL too) as \xHH, cut with "..." when it does not fit. */
void lc_codec_printable(char *dst, size_t cap, const char *p, size_t len);

/* Integer key in [lo, hi]; absent: def when !required, else LC_EINVAL. */
int lc_codec_get_int(const msgpack_object *map, const char *key, int required, int64_t lo,
                     int64_t hi, int64_t def, int64_t *out, lc_error *err);

/* Finite number (int or float) key; absent: def when !required. */
int lc_codec_get_double(const msgpack_object *map, const char *key, int required, double def,
                        double *out, lc_error *err);

/* Boolean key; absent: def. */
int lc_codec_get_bool(const msgpack_object *map, const char *key, int def, int *out,
                      lc_error *err);

/* str key copied NUL-terminated into out[cap] (no NUL bytes inside, shorter
 * than cap); absent: out = "" when !required. */
int lc_codec_get_str(const msgpack_object *map, const char *key, int required, char *out,
                     size_t cap, lc_error *err);

/* Map / array key (borrowed); absent: *out = NULL when !required. */
int lc_codec_get_map(const msgpack_object *map, const char *key, int required,
                     const msgpack_object **out, lc_error *err);
int lc_codec_get_array(const msgpack_object *map, const char *key, int required,
                       const msgpack_object **out, lc_error *err);

/* Decodes o as an array of dtype want: an ndarray map, or (small inputs) a
 * flat msgpack array of numbers (shape [n]) or an array of equal-length
 * arrays of numbers (shape [n, k]).  f8 values must be finite; i4 plain
 * values must fit int32.  key names it in errors. */
int lc_codec_ndarray_decode(const msgpack_object *o, lc_dtype want, const char *key,
                            lc_ndarray *out, lc_error *err);

/* Looks up key and decodes it as a (rows x cols) matrix: shape [rows, cols],
 * or [rows] when cols == 1; rows < 0: any row count; cols == 0: any shape
 * with rows elements in all (a vector).  Absent: out->n = -1, data NULL when
 * !required.  The out array is always safe to free. */
int lc_codec_get_ndarray(const msgpack_object *map, const char *key, int required, lc_dtype want,
                         int64_t rows, int cols, lc_ndarray *out, lc_error *err);

/* Frees what a decoded array owns (safe on a zeroed or failed array). */
void lc_codec_ndarray_free(lc_ndarray *a);

/* Checks every int32 of a in [0, hi); key names it in errors (LC_ERANGE). */
int lc_codec_check_indices(const lc_ndarray *a, int64_t hi, const char *key, lc_error *err);

/* Packs a NUL-terminated string. */
void lc_codec_pack_str(msgpack_packer *pk, const char *s);

/* Packs an ndarray map {"dtype", "shape", "data": bin} of ndim dims. */
void lc_codec_pack_ndarray(msgpack_packer *pk, lc_dtype dt, int ndim, const int64_t *shape,
                           const void *data);

/* Packs a CSR matrix as {"shape": [r, c], "indptr": i4, "indices": i4, "data": f8}. */
void lc_codec_pack_csr(msgpack_packer *pk, const lc_csr *m);

/* Appends raw, already encoded bytes to pk's output. */
void lc_codec_pack_raw(msgpack_packer *pk, const char *data, size_t len);

#endif
