/* scan.c - the pre-scanner for untrusted MessagePack frames (scan.h).
 *
 * An iterative walk over one MessagePack object that never allocates and
 * never reads past len.  It keeps, per nesting level, the number of elements
 * still to come; every declared element counts as at least one byte, so the
 * smallest size the frame can still have (bytes seen + payloads declared +
 * elements declared) is known at every step and checked against max_frame
 * before anything is trusted.  A frame it accepts is therefore one that
 * msgpack-c can unpack with bounded allocation: every container count and
 * every str/bin/ext length is backed by real bytes of the frame. */
#include "scan.h"

#include <string.h>


/* What one header byte announces. */
typedef struct scan_item {
  size_t head;      /* bytes of the header (type byte and lengths) */
  uint64_t payload; /* bytes after the header (str/bin/ext data, scalar bodies) */
  uint64_t count;   /* elements of a container (map: keys + values) */
  int container;    /* 1: array or map */
  int is_str;       /* 1: str family */
  int is_bin;       /* 1: bin family */
  int is_int;       /* 1: integer family (value in ival when read) */
} scan_item;

/* Fills lim with the defaults above. */
void lc_scan_limits_default(lc_scan_limits *lim) {
  memset(lim, 0, sizeof *lim);
  lim->max_frame = (size_t)256 << 20;
  lim->max_depth = 16;
  lim->max_method = 256;
  lim->max_objects = (uint64_t)1 << 24;
}

/* Big-endian unsigned integer of n bytes at p. */
static uint64_t be_uint(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

/* Header size of type byte b: the type byte and any length / ext type bytes,
 * not scalar bodies (0: invalid). */
static size_t head_size(uint8_t b) {
  if (b <= 0xbf || b >= 0xe0) return 1; /* fixint, fixmap, fixarray, fixstr */
  static const uint8_t sizes[0x20] = {
      /* c0 */ 1, 0, 1, 1, 2, 3, 5, 3, 4, 6, 1, 1, 1, 1, 1, 1,
      /* d0 */ 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 5, 3, 5, 3, 5};
  return sizes[b - 0xc0];
}

/* Decodes the header at p (head_size(p[0]) bytes available) into it. */
static void decode_head(const uint8_t *p, scan_item *it) {
  const uint8_t b = p[0];
  memset(it, 0, sizeof *it);
  it->head = head_size(b);
  if (b <= 0x7f || b >= 0xe0) { it->is_int = 1; return; }
  if (b <= 0x8f) { it->container = 1; it->count = 2u * (uint64_t)(b & 0x0f); return; }
  if (b <= 0x9f) { it->container = 1; it->count = b & 0x0f; return; }
  if (b <= 0xbf) { it->is_str = 1; it->payload = b & 0x1f; return; }
  switch (b) {
    case 0xc4: case 0xc5: case 0xc6: it->payload = be_uint(p + 1, it->head - 1); it->is_bin = 1; break;
    case 0xc7: case 0xc8: case 0xc9: it->payload = be_uint(p + 1, it->head - 2); break;
    case 0xca: it->payload = 4; break;
    case 0xcb: it->payload = 8; break;
    case 0xcc: case 0xd0: it->payload = 1; it->is_int = 1; break;
    case 0xcd: case 0xd1: it->payload = 2; it->is_int = 1; break;
    case 0xce: case 0xd2: it->payload = 4; it->is_int = 1; break;
    case 0xcf: case 0xd3: it->payload = 8; it->is_int = 1; break;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
      it->payload = (uint64_t)1 << (b - 0xd4);
      break;
    case 0xd9: case 0xda: case 0xdb:
      it->is_str = 1;
      it->payload = be_uint(p + 1, it->head - 1);
      break;
    case 0xdc: case 0xdd:
      it->container = 1;
      it->count = be_uint(p + 1, it->head - 1);
      break;
    case 0xde: case 0xdf:
      it->container = 1;
      it->count = 2 * be_uint(p + 1, it->head - 1);
      break;
    default: break; /* nil, bool */
  }
}

/* The value of a non-negative integer item at p (payload available), else -1. */
static int64_t small_uint(const uint8_t *p, const scan_item *it) {
  if (p[0] <= 0x7f) return p[0];
  if (p[0] >= 0xcc && p[0] <= 0xcf) {
    const uint64_t v = be_uint(p + 1, it->payload);
    return v <= 2 ? (int64_t)v : -1;
  }
  if (p[0] >= 0xd0 && p[0] <= 0xd3) {
    uint64_t v = be_uint(p + 1, it->payload);
    const int neg = (p[1] & 0x80) != 0;
    return (!neg && v <= 2) ? (int64_t)v : -1;
  }
  return -1;
}

typedef lc_scan_ctx scan_state; /* the walk's state (scan.h) */

/* Checks the RPC rules for the element at index idx of the top-level array. */
static int check_rpc(scan_state *s, size_t pos, const scan_item *it, uint64_t idx, lc_error *err) {
  if (idx == 0) {
    s->msgtype = it->is_int ? small_uint(s->buf + pos, it) : -1;
    return LC_OK;
  }
  /* requests only: a notification is never answered, whatever its shape */
  if (s->msgtype != 0 || idx != 2) return LC_OK;
  if (!it->is_str && !it->is_bin) return lc_error_set(err, LC_EPARSE, "method name is not a str or bin");
  if (it->payload > s->max_method)
    return lc_error_set(err, LC_EPARSE, "method name of %llu bytes (limit %llu)",
                        (unsigned long long)it->payload, (unsigned long long)s->max_method);
  return LC_OK;
}

/* Scans one object header at *pos; advances *pos past it (and its payload).
 * Returns LC_OK, 1 when more bytes are needed, or an error code. */
static int scan_one(scan_state *s, size_t *pos, lc_error *err) {
  const size_t p = *pos;
  if (p >= s->len) {
    if ((uint64_t)p + s->pending > s->max_frame)
      return lc_error_set(err, LC_ERANGE, "frame over %llu bytes", (unsigned long long)s->max_frame);
    return 1;
  }
  const uint8_t b = s->buf[p];
  const size_t hs = head_size(b);
  if (hs == 0) return lc_error_set(err, LC_EPARSE, "invalid type byte 0xc1 at offset %zu", p);
  if (s->len - p < hs) return 1;
  scan_item it;
  decode_head(s->buf + p, &it);
  /* checks first, state changes after: a return of 1 (more bytes needed) leaves the state as it
   * was, so the walk can resume at p once more bytes came */
  if (s->objects + 1 > s->max_objects)
    return lc_error_set(err, LC_ERANGE, "more than %llu objects in one frame",
                        (unsigned long long)s->max_objects);
  const int inner = s->depth > 0; /* the element just started was counted in pending */
  const uint64_t idx = s->depth == 1 ? s->top_count - s->rem[1] : 0;
  const uint64_t min_size = (uint64_t)p + hs + it.payload + it.count + s->pending - (uint64_t)inner;
  if (min_size > s->max_frame)
    return lc_error_set(err, LC_ERANGE, "frame of at least %llu bytes (limit %llu) at offset %zu",
                        (unsigned long long)min_size, (unsigned long long)s->max_frame, p);
  if (it.container && s->depth + 1 > s->max_depth)
    return lc_error_set(err, LC_EPARSE, "nesting deeper than %d at offset %zu", s->max_depth, p);
  if (it.payload > s->len - p - hs) return 1;
  s->objects++;
  if (inner) {
    s->rem[s->depth]--;
    s->pending--;
  }
  if (s->depth == 1 && s->top_count > 0) {
    const int rc = check_rpc(s, p, &it, idx, err);
    if (rc != LC_OK) return rc;
  }
  *pos = p + hs + (size_t)it.payload;
  if (it.container && it.count > 0) {
    const int is_array = (b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd;
    if (s->depth == 0 && is_array) s->top_count = it.count;
    s->rem[++s->depth] = it.count;
    s->pending += it.count;
  }
  while (s->depth > 0 && s->rem[s->depth] == 0) s->depth--;
  return LC_OK;
}

/* Scans the first MessagePack object in buf[0..len); see scan.h. */
int lc_scan_frame(const uint8_t *buf, size_t len, const lc_scan_limits *lim, size_t *frame_len,
                  lc_error *err) {
  uint64_t objects;
  return lc_scan_frame_objects(buf, len, lim, frame_len, &objects, err);
}

/* lc_scan_frame, with the number of MessagePack objects of a complete frame. */
int lc_scan_frame_objects(const uint8_t *buf, size_t len, const lc_scan_limits *lim, size_t *frame_len,
                          uint64_t *objects, lc_error *err) {
  lc_scan_ctx ctx;
  lc_scan_reset(&ctx);
  return lc_scan_resume(&ctx, buf, len, lim, frame_len, objects, err);
}

/* Forgets a walk in progress. */
void lc_scan_reset(lc_scan_ctx *ctx) { memset(ctx, 0, sizeof *ctx); }

/* Starts the walk of a frame with lim. */
static void scan_start(lc_scan_ctx *s, const lc_scan_limits *lim) {
  lc_scan_limits def;
  if (!lim) {
    lc_scan_limits_default(&def);
    lim = &def;
  }
  memset(s, 0, sizeof *s);
  s->max_frame = lim->max_frame;
  s->max_objects = lim->max_objects ? lim->max_objects : UINT64_MAX;
  s->max_method = lim->max_method;
  s->max_depth = lim->max_depth < 1 ? 1 : lim->max_depth > LC_SCAN_DEPTH_CAP ? LC_SCAN_DEPTH_CAP
                                                                            : lim->max_depth;
  s->msgtype = -1;
  s->active = 1;
}

/* Scans on from where the last call stopped (see scan.h). */
int lc_scan_resume(lc_scan_ctx *ctx, const uint8_t *buf, size_t len, const lc_scan_limits *lim,
                   size_t *frame_len, uint64_t *objects, lc_error *err) {
  if (!ctx->active) scan_start(ctx, lim);
  ctx->buf = buf;
  ctx->len = len;
  *frame_len = 0;
  *objects = 0;
  size_t pos = ctx->pos;
  int rc = LC_OK;
  do {
    rc = scan_one(ctx, &pos, err);
  } while (rc == LC_OK && ctx->depth > 0);
  if (rc == 1) { /* need more bytes: the walk stays where it is */
    ctx->pos = pos;
    ctx->buf = NULL;
    return LC_OK;
  }
  if (rc == LC_OK) {
    *frame_len = pos;
    *objects = ctx->objects;
  }
  lc_scan_reset(ctx);
  return rc;
}
