/* scan.h - pre-scanner for untrusted MessagePack bytes.
 *
 * msgpack-c 4.0 allocates for a container as soon as it reads its header (a
 * 5-byte message can reserve gigabytes) and reports nesting deeper than 32 as
 * out-of-memory.  Every frame read from a socket therefore goes through
 * lc_scan_frame first: it walks the encoding without allocating and checks
 * the frame size, the nesting depth, that every container count and every
 * str/bin/ext length fits in the bytes that remain, and the length of the
 * method name of RPC requests.  Only a frame it accepts is handed to
 * msgpack-c. */
#ifndef LC_SCAN_H
#define LC_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "lc_error.h"

typedef struct lc_scan_limits {
  size_t max_frame;      /* bytes of one message (default 256 MiB) */
  int max_depth;         /* container nesting (default 16, at most 32) */
  size_t max_method;     /* bytes of a request's method name (default 256) */
  uint64_t max_objects;  /* MessagePack objects in one frame (default 2^24; 0 = no cap):
                            bounds msgpack-c's allocation (24-48 bytes per object) */
} lc_scan_limits;

#define LC_SCAN_DEPTH_CAP 32 /* msgpack-c 4.0 fails deeper nesting as "out of memory" */

/* A walk in progress (lc_scan_resume); its fields are private to scan.c. */
typedef struct lc_scan_ctx {
  const uint8_t *buf;
  size_t len, pos;                     /* pos: where the walk resumes */
  uint64_t max_frame, max_objects, max_method;
  int max_depth;
  uint64_t rem[LC_SCAN_DEPTH_CAP + 1]; /* elements still to come per level */
  uint64_t pending;                    /* sum of rem[] */
  uint64_t objects;
  int depth;
  uint64_t top_count;                  /* elements of a top-level array, else 0 */
  int64_t msgtype;                     /* first element of a top-level array, or -1 */
  int active;                          /* a walk is in progress */
} lc_scan_ctx;

/* Fills lim with the defaults above. */
void lc_scan_limits_default(lc_scan_limits *lim);

/* Scans the first MessagePack object in buf[0..len) (lim NULL: defaults).
 * Returns LC_OK with *frame_len = its size when it is complete and within
 * the limits; LC_OK with *frame_len = 0 when more bytes are needed (and
 * could still make a valid frame); otherwise LC_EPARSE (malformed: the type
 * byte 0xc1, nesting deeper than max_depth, or in an RPC request - a
 * top-level array whose first element is 0 - a method name that is not a
 * str or bin of at most max_method bytes; notifications are not checked:
 * they are never answered) or LC_ERANGE (the frame is or must
 * become larger than max_frame: a str/bin/ext length or a container count -
 * each element at least one byte - that cannot fit; or more than
 * max_objects objects), with a message.  Both errors are final for the
 * stream: the connection cannot resynchronise.  Never reads past len and
 * never allocates; the walk restarts from buf[0] on every call (lc_scan_resume
 * does not). */
int lc_scan_frame(const uint8_t *buf, size_t len, const lc_scan_limits *lim, size_t *frame_len,
                  lc_error *err);

/* lc_scan_frame that also sets *objects to the number of MessagePack objects
 * of a complete frame (0 otherwise): what msgpack-c will allocate one
 * msgpack_object (24 bytes) for, so the caller can bound the decoded size
 * before decoding. */
int lc_scan_frame_objects(const uint8_t *buf, size_t len, const lc_scan_limits *lim, size_t *frame_len,
                          uint64_t *objects, lc_error *err);

/* Forgets the walk of ctx (the next lc_scan_resume starts a new frame). */
void lc_scan_reset(lc_scan_ctx *ctx);

/* lc_scan_frame_objects for a frame that arrives in pieces: buf[0..len)
 * holds the frame's bytes so far (more each call, the earlier ones unchanged
 * at the same offsets, though buf may move).  When more bytes are needed it
 * returns LC_OK with *frame_len = 0 and remembers where it stopped, so the
 * next call scans only what is new: a frame of n bytes read in k pieces
 * costs O(n), not O(n k).  lim is read when a frame starts.  A complete
 * frame or an error ends the walk (ctx is reset). */
int lc_scan_resume(lc_scan_ctx *ctx, const uint8_t *buf, size_t len, const lc_scan_limits *lim,
                   size_t *frame_len, uint64_t *objects, lc_error *err);

#endif
