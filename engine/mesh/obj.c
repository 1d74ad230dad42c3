/* obj.c - Wavefront OBJ reading and writing for triangle meshes.
 *
 * The reader works on a bounded buffer (text need not be NUL-terminated).  A
 * first pass counts `v` lines so that positive indices can be checked as they
 * are read; the second pass parses `v` and `f` statements (v, v/vt, v//vn,
 * v/vt/vn, negative indices; polygons fan-triangulated) and ignores all other
 * statements.  Numbers take a fast, correctly rounded path (Clinger: at most
 * 2^53 mantissa and |exponent| <= 22) and fall back to strtod on a bounded,
 * NUL-terminated copy of the token (which assumes the "C" locale).  A "#"
 * starts a comment anywhere on a line; "\r\n" line ends are accepted. */
#include "mesh.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OBJ_OTHER, OBJ_V, OBJ_F };

/* Parser state for one OBJ text. */
typedef struct obj_parser {
  long long line;  /* current line, 1-based */
  int32_t nv_total; /* `v` lines in the whole text */
  int32_t nv;       /* vertices read so far */
  double *V;
  int32_t nt, cap; /* triangles stored, capacity */
  int32_t *F;
} obj_parser;

static const double obj_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* True for the in-line white-space characters of OBJ. */
static int obj_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/* First non-blank character at or after p (or end). */
static const char *obj_skip_blank(const char *p, const char *end) {
  while (p < end && obj_blank(*p)) p++;
  return p;
}

/* End of the token starting at p (first blank or end). */
static const char *obj_token_end(const char *p, const char *end) {
  while (p < end && !obj_blank(*p)) p++;
  return p;
}

/* Splits the line at p: *le is its end before any "#" comment, "\n" or
 * "\r\n"; returns the start of the next line. */
static const char *obj_next_line(const char *p, const char *end, const char **le) {
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  const char *e = nl ? nl : end;
  const char *hash = memchr(p, '#', (size_t)(e - p));
  if (hash) e = hash;
  else if (e > p && e[-1] == '\r') e--;
  *le = e;
  return nl ? nl + 1 : end;
}

/* Classifies the statement of line [p, le); *args is set past its keyword. */
static int obj_keyword(const char *p, const char *le, const char **args) {
  p = obj_skip_blank(p, le);
  const char *t = obj_token_end(p, le);
  *args = t;
  if (t - p != 1) return OBJ_OTHER;
  return *p == 'v' ? OBJ_V : *p == 'f' ? OBJ_F : OBJ_OTHER;
}

/* Counts `v` and `f` lines of the text (first pass). */
static void obj_count(const char *text, size_t len, long long *nv, long long *nf) {
  const char *p = text, *end = text + len, *le, *args;
  *nv = *nf = 0;
  while (p < end) {
    const char *next = obj_next_line(p, end, &le);
    int kw = obj_keyword(p, le, &args);
    *nv += kw == OBJ_V;
    *nf += kw == OBJ_F;
    p = next;
  }
}

/* Reads the decimal exponent digits of [p, end) after 'e'; 0 if malformed. */
static int obj_exponent(const char *p, const char *end, int *ex) {
  int neg = 0, n = 0, v = 0;
  if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
  for (; p < end && *p >= '0' && *p <= '9'; p++, n++)
    if (v < 10000) v = 10 * v + (*p - '0');
  if (n == 0 || p != end) return 0;
  *ex = neg ? -v : v;
  return 1;
}

/* Fast path for the number [p, end): 1 with *x set when exact, 0 to fall back. */
static int obj_fast_double(const char *p, const char *end, double *x) {
  int neg = 0, sig = 0, nd = 0, e10 = 0, ex = 0, dot = 0;
  uint64_t m = 0;
  if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
  for (; p < end; p++) {
    if (*p == '.' && !dot) { dot = 1; continue; }
    if (*p < '0' || *p > '9') break;
    nd++;
    if (m == 0 && *p == '0') { e10 -= dot; continue; }
    if (++sig > 19) return 0;
    m = 10 * m + (uint64_t)(*p - '0');
    e10 -= dot;
  }
  if (nd == 0) return 0;
  if (p < end && ((*p != 'e' && *p != 'E') || !obj_exponent(p + 1, end, &ex))) return 0;
  e10 += ex;
  if (m > (1ULL << 53)) return 0;
  if (m == 0) e10 = 0;
  if (e10 < -22 || e10 > 22) return 0;
  double v = e10 < 0 ? (double)m / obj_pow10[-e10] : (double)m * obj_pow10[e10];
  *x = neg ? -v : v;
  return 1;
}

/* Parses the number token [p, end) into *x; 0 if it is not a number. */
static int obj_parse_double(const char *p, const char *end, double *x) {
  char buf[128], *stop;
  size_t n = (size_t)(end - p);
  if (obj_fast_double(p, end, x)) return 1;
  if (n == 0 || n >= sizeof buf) return 0;
  memcpy(buf, p, n);
  buf[n] = '\0';
  *x = strtod(buf, &stop);
  return stop == buf + n;
}

/* Parses a `v` statement: three coordinates (further values are ignored). */
static int obj_vertex(obj_parser *op, const char *p, const char *le, lc_error *err) {
  double *x = op->V + 3 * (size_t)op->nv;
  for (int k = 0; k < 3; k++) {
    p = obj_skip_blank(p, le);
    const char *t = obj_token_end(p, le);
    if (p == t)
      return lc_error_set(err, LC_EPARSE, "line %lld: vertex has %d coordinates, need 3",
                          op->line, k);
    if (!obj_parse_double(p, t, x + k))
      return lc_error_set(err, LC_EPARSE, "line %lld: bad number '%.*s' in vertex %d", op->line,
                          (int)(t - p > 40 ? 40 : t - p), p, (int)op->nv);
    p = t;
  }
  if (!isfinite(x[0]) || !isfinite(x[1]) || !isfinite(x[2]))
    return lc_error_set(err, LC_EMESH, "line %lld: vertex %d has a non-finite coordinate",
                        op->line, (int)op->nv);
  op->nv++;
  return LC_OK;
}

/* Parses a face corner token [p, end) (v, v/vt, v//vn, v/vt/vn); 0 if malformed. */
static int obj_parse_corner(const char *p, const char *end, long long *idx) {
  int neg = 0, n = 0;
  long long v = 0;
  if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
  for (; p < end && *p >= '0' && *p <= '9'; p++, n++)
    if (v < 100000000000LL) v = 10 * v + (*p - '0');
  if (n == 0 || (p < end && *p != '/')) return 0;
  for (; p < end; p++)
    if (*p != '/' && *p != '-' && *p != '+' && (*p < '0' || *p > '9')) return 0;
  *idx = neg ? -v : v;
  return 1;
}

/* Turns OBJ index idx (1-based or negative) into a 0-based vertex in *v. */
static int obj_resolve(const obj_parser *op, long long idx, int32_t *v, lc_error *err) {
  if (idx == 0)
    return lc_error_set(err, LC_EPARSE, "line %lld: vertex index 0 is invalid (indices start at 1)",
                        op->line);
  if (idx > op->nv_total)
    return lc_error_set(err, LC_ERANGE,
                        "line %lld: vertex index %lld is out of range (the file has %d vertices)",
                        op->line, idx, (int)op->nv_total);
  if (idx < 0 && -idx > op->nv)
    return lc_error_set(err, LC_ERANGE,
                        "line %lld: relative vertex index %lld is out of range "
                        "(%d vertices defined so far)",
                        op->line, idx, (int)op->nv);
  *v = (int32_t)(idx > 0 ? idx - 1 : op->nv + idx);
  return LC_OK;
}

/* Appends triangle (a, b, c), growing the face array when needed. */
static int obj_push(obj_parser *op, int32_t a, int32_t b, int32_t c, lc_error *err) {
  if (op->nt == op->cap) {
    if (op->cap >= INT32_MAX / 6)
      return lc_error_set(err, LC_ERANGE, "line %lld: too many triangles", op->line);
    int32_t cap = op->cap > INT32_MAX / 12 ? INT32_MAX / 6 : 2 * op->cap;
    int32_t *F = realloc(op->F, 3 * (size_t)cap * sizeof *F);
    if (!F) return lc_error_set(err, LC_ENOMEM, "out of memory reading %d triangles", (int)cap);
    op->F = F;
    op->cap = cap;
  }
  int32_t *t = op->F + 3 * (size_t)op->nt++;
  t[0] = a;
  t[1] = b;
  t[2] = c;
  return LC_OK;
}

/* Parses an `f` statement and fan-triangulates it. */
static int obj_face(obj_parser *op, const char *p, const char *le, lc_error *err) {
  int32_t first = -1, prev = -1, v = -1, n = 0;
  int rc = LC_OK;
  for (p = obj_skip_blank(p, le); p < le; p = obj_skip_blank(p, le), n++) {
    const char *t = obj_token_end(p, le);
    long long idx = 0;
    if (!obj_parse_corner(p, t, &idx))
      return lc_error_set(err, LC_EPARSE, "line %lld: bad face vertex '%.*s'", op->line,
                          (int)(t - p > 40 ? 40 : t - p), p);
    if ((rc = obj_resolve(op, idx, &v, err))) return rc;
    if (n == 0) first = v;
    if (n >= 2 && (rc = obj_push(op, first, prev, v, err))) return rc;
    prev = v;
    p = t;
  }
  if (n < 3)
    return lc_error_set(err, LC_EPARSE, "line %lld: face has %d vertices, need at least 3",
                        op->line, (int)n);
  return LC_OK;
}

/* Parses every line of the text into op (second pass). */
static int obj_parse(obj_parser *op, const char *text, size_t len, lc_error *err) {
  const char *p = text, *end = text + len, *le, *args;
  int rc = LC_OK;
  for (op->line = 1; p < end && rc == LC_OK; op->line++) {
    const char *next = obj_next_line(p, end, &le);
    int kw = obj_keyword(p, le, &args);
    if (kw == OBJ_V) rc = obj_vertex(op, args, le, err);
    else if (kw == OBJ_F) rc = obj_face(op, args, le, err);
    p = next;
  }
  return rc;
}

/* Sizes and allocates the arrays of op from a first pass over the text. */
static int obj_prepare(obj_parser *op, const char *text, size_t len, lc_error *err) {
  long long nv, nf;
  obj_count(text, len, &nv, &nf);
  if (nv > INT32_MAX / 3)
    return lc_error_set(err, LC_ERANGE, "OBJ has too many vertices (%lld)", nv);
  op->nv_total = (int32_t)nv;
  op->cap = nf < 1 ? 1 : nf > INT32_MAX / 6 ? INT32_MAX / 6 : (int32_t)nf;
  op->V = malloc((nv ? (size_t)nv : 1) * 3 * sizeof *op->V);
  op->F = malloc((size_t)op->cap * 3 * sizeof *op->F);
  if (!op->V || !op->F)
    return lc_error_set(err, LC_ENOMEM, "out of memory reading %lld vertices", nv);
  return LC_OK;
}

/* Parses OBJ text of len bytes (v, f with v/vt/vn forms and negative indices,
 * polygons fan-triangulated; other statements ignored) and creates a mesh. */
int lc_mesh_load_obj(const char *text, size_t len, lc_mesh **out, lc_error *err) {
  obj_parser op = {0, 0, 0, NULL, 0, 0, NULL};
  int rc = LC_OK;
  if (out) *out = NULL;
  if (!out || (!text && len > 0)) {
    rc = lc_error_set(err, LC_EINVAL, "lc_mesh_load_obj: %s is NULL", out ? "text" : "out");
    goto fail;
  }
  if (!text) text = "";
  if ((rc = obj_prepare(&op, text, len, err))) goto fail;
  if ((rc = obj_parse(&op, text, len, err))) goto fail;
  if (op.nt == 0) {
    rc = lc_error_set(err, LC_EMESH, "OBJ has no faces (%d vertices)", (int)op.nv);
    goto fail;
  }
  rc = lc_mesh_create(op.V, op.nv, op.F, op.nt, out, err);
fail:
  free(op.V);
  free(op.F);
  return rc;
}

/* Reads all of stream f into a malloc'd buffer *buf of *len bytes. */
static int obj_read_all(FILE *f, char **buf, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  char *b = NULL, *nb;
  int rc = LC_OK;
  if (fseek(f, 0, SEEK_END) == 0) {
    long sz = ftell(f);
    if (sz > 0) cap = (size_t)sz + 1;
    rewind(f);
  }
  for (;; cap *= 2) {
    if (!(nb = realloc(b, cap))) {
      rc = LC_ENOMEM;
      goto fail;
    }
    b = nb;
    n += fread(b + n, 1, cap - n, f);
    if (n < cap) break;
  }
  if (ferror(f)) rc = LC_EIO;
fail:
  if (rc) {
    free(b);
  } else {
    *buf = b;
    *len = n;
  }
  return rc;
}

/* Prefixes the message in err with the file name of path. */
static void obj_prefix_error(lc_error *err, const char *path) {
  if (!err) return;
  char msg[sizeof err->msg];
  const char *name = strrchr(path, '/');
  memcpy(msg, err->msg, sizeof msg);
  msg[sizeof msg - 1] = '\0';
  lc_error_set(err, err->code, "%.64s: %s", name ? name + 1 : path, msg);
}

/* Reads the OBJ file at path and creates a mesh (lc_mesh_load_obj). */
int lc_mesh_read_obj_file(const char *path, lc_mesh **out, lc_error *err) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = NULL;
  int rc = LC_OK;
  if (out) *out = NULL;
  if (!path || !out) {
    rc = lc_error_set(err, LC_EINVAL, "lc_mesh_read_obj_file: %s is NULL", path ? "out" : "path");
    goto fail;
  }
  if (!(f = fopen(path, "rb"))) {
    rc = lc_error_set(err, LC_EIO, "cannot open '%.160s': %s", path, strerror(errno));
    goto fail;
  }
  if ((rc = obj_read_all(f, &buf, &len))) {
    rc = lc_error_set(err, rc, "cannot read '%.160s': %s", path,
                      rc == LC_ENOMEM ? "out of memory" : strerror(errno));
    goto fail;
  }
  if ((rc = lc_mesh_load_obj(buf, len, out, err))) obj_prefix_error(err, path);
fail:
  if (f) fclose(f);
  free(buf);
  return rc;
}

/* Prints the vertices and 1-based faces of m to f; nonzero on a write error. */
static int obj_print(FILE *f, const lc_mesh *m, const double *V) {
  const int32_t *F = lc_mesh_F(m);
  int32_t nv = lc_mesh_nv(m), nf = lc_mesh_nf(m);
  for (int32_t i = 0; i < nv; i++) {
    const double *x = V + 3 * (size_t)i;
    if (fprintf(f, "v %.17g %.17g %.17g\n", x[0], x[1], x[2]) < 0) return 1;
  }
  for (int32_t i = 0; i < nf; i++) {
    const int32_t *t = F + 3 * (size_t)i;
    if (fprintf(f, "f %d %d %d\n", (int)t[0] + 1, (int)t[1] + 1, (int)t[2] + 1) < 0) return 1;
  }
  return ferror(f);
}

/* Writes V (nv x 3, row-major; NULL: the mesh's own positions) and the faces
 * of m as OBJ text to path. */
int lc_mesh_write_obj_file(const lc_mesh *m, const double *V, const char *path, lc_error *err) {
  FILE *f = NULL;
  int rc = LC_OK, bad, cl;
  if (!m || !path) {
    rc = lc_error_set(err, LC_EINVAL, "lc_mesh_write_obj_file: %s is NULL", m ? "path" : "mesh");
    goto fail;
  }
  if (!(f = fopen(path, "w"))) {
    rc = lc_error_set(err, LC_EIO, "cannot create '%.160s': %s", path, strerror(errno));
    goto fail;
  }
  bad = obj_print(f, m, V ? V : lc_mesh_V(m));
  cl = fclose(f);
  f = NULL;
  if (bad || cl) rc = lc_error_set(err, LC_EIO, "cannot write '%.160s': %s", path, strerror(errno));
fail:
  if (f) fclose(f);
  return rc;
}
