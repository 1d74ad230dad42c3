/* render.c - software rasteriser and PNG writer of render.h. */
#include "render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small vector helpers ---------------------------------------------------- */

static void v_sub(const double *a, const double *b, double *r) {
  for (int i = 0; i < 3; ++i) r[i] = a[i] - b[i];
}
static double v_dot(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
static void v_cross(const double *a, const double *b, double *r) {
  r[0] = a[1] * b[2] - a[2] * b[1];
  r[1] = a[2] * b[0] - a[0] * b[2];
  r[2] = a[0] * b[1] - a[1] * b[0];
}
/* a / |a| (a unchanged if zero). */
static void v_unit(double *a) {
  const double l = sqrt(v_dot(a, a));
  if (l > 0.0)
    for (int i = 0; i < 3; ++i) a[i] /= l;
}

/* ---- camera -------------------------------------------------------------------- */

/* The camera basis (right r, up u, forward f) of view. */
static void camera_basis(const lc_render_view *v, double *r, double *u, double *f) {
  v_sub(v->target, v->eye, f);
  v_unit(f);
  v_cross(f, v->up, r);
  v_unit(r);
  v_cross(r, f, u);
}

/* Projects p to pixel coordinates (px, py) and depth z (> 0 in front). */
static void project(const lc_render_view *v, const double *basis, const double *p, double *out) {
  double d[3];
  v_sub(p, v->eye, d);
  const double x = v_dot(d, basis), y = v_dot(d, basis + 3), z = v_dot(d, basis + 6);
  const double s = 0.5 * v->height / tan(0.5 * v->fov_deg * (3.14159265358979323846 / 180.0));
  out[0] = 0.5 * v->width + s * x / z;
  out[1] = 0.5 * v->height - s * y / z;
  out[2] = z;
}

/* ---- rasteriser ----------------------------------------------------------------- */

/* Fills triangle q[3][3] (pixel x, y, depth) with colour c into img/zbuf. */
static void raster(const lc_render_view *v, const double q[3][3], const uint8_t *c, uint8_t *img, double *zbuf) {
  const double area = (q[1][0] - q[0][0]) * (q[2][1] - q[0][1]) - (q[2][0] - q[0][0]) * (q[1][1] - q[0][1]);
  if (!(fabs(area) > 1e-12) || q[0][2] <= 0 || q[1][2] <= 0 || q[2][2] <= 0) return;
  int x0 = (int)floor(fmin(q[0][0], fmin(q[1][0], q[2][0]))), x1 = (int)ceil(fmax(q[0][0], fmax(q[1][0], q[2][0])));
  int y0 = (int)floor(fmin(q[0][1], fmin(q[1][1], q[2][1]))), y1 = (int)ceil(fmax(q[0][1], fmax(q[1][1], q[2][1])));
  x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
  x1 = x1 >= v->width ? v->width - 1 : x1, y1 = y1 >= v->height ? v->height - 1 : y1;
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double px = x + 0.5, py = y + 0.5;
      const double w0 = ((q[1][0] - px) * (q[2][1] - py) - (q[2][0] - px) * (q[1][1] - py)) / area;
      const double w1 = ((q[2][0] - px) * (q[0][1] - py) - (q[0][0] - px) * (q[2][1] - py)) / area;
      const double w2 = 1.0 - w0 - w1;
      if (w0 < 0 || w1 < 0 || w2 < 0) continue;
      const double z = w0 * q[0][2] + w1 * q[1][2] + w2 * q[2][2];
      const int64_t k = (int64_t)y * v->width + x;
      if (z >= zbuf[k]) continue;
      zbuf[k] = z;
      memcpy(img + 3 * k, c, 3);
    }
}

/* Colour of face f lit from the camera: base colour times 0.25 + 0.75 |n . f|. */
static void shade(const double *V, const int32_t *t, const double *fwd, const uint8_t *base, uint8_t *c) {
  double a[3], b[3], n[3];
  v_sub(V + 3 * (int64_t)t[1], V + 3 * (int64_t)t[0], a);
  v_sub(V + 3 * (int64_t)t[2], V + 3 * (int64_t)t[0], b);
  v_cross(a, b, n);
  v_unit(n);
  const double l = 0.25 + 0.75 * fabs(v_dot(n, fwd));
  for (int i = 0; i < 3; ++i) c[i] = (uint8_t)lround(fmin(255.0, base[i] * l));
}

/* ---- PNG --------------------------------------------------------------------------- */

/* CRC-32 (ISO 3309, as PNG) of buf[n] continuing from crc. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *buf, size_t n) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= buf[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Writes one PNG chunk of type[4] and data[n]; 0 on success. */
static int chunk(FILE *f, const char *type, const uint8_t *data, uint32_t n) {
  uint8_t hd[8], tl[4];
  put_be32(hd, n);
  memcpy(hd + 4, type, 4);
  put_be32(tl, crc32_update(crc32_update(0, hd + 4, 4), data, n));
  return fwrite(hd, 1, 8, f) != 8 || (n && fwrite(data, 1, n, f) != n) || fwrite(tl, 1, 4, f) != 4;
}

/* The zlib stream of raw[n] in stored (uncompressed) deflate blocks into a new buffer. */
static uint8_t *zlib_stored(const uint8_t *raw, size_t n, size_t *len) {
  const size_t nb = n / 65535 + 1;
  uint8_t *z = malloc(2 + nb * 5 + n + 4), *p = z;
  if (!z) return NULL;
  *p++ = 0x78, *p++ = 0x01;
  uint32_t a = 1, b = 0;
  for (size_t i = 0; i < nb; ++i) {
    const size_t k = i + 1 < nb ? 65535 : n - i * 65535;
    *p++ = (uint8_t)(i + 1 == nb);
    *p++ = (uint8_t)k, *p++ = (uint8_t)(k >> 8), *p++ = (uint8_t)~k, *p++ = (uint8_t)(~k >> 8);
    memcpy(p, raw + i * 65535, k);
    p += k;
  }
  for (size_t i = 0; i < n; ++i) a = (a + raw[i]) % 65521u, b = (b + a) % 65521u;
  put_be32(p, (b << 16) | a);
  *len = (size_t)(p + 4 - z);
  return z;
}

/* Writes img (w x h RGB) as a PNG file. */
static int write_png(const char *path, const uint8_t *img, int w, int h, lc_error *err) {
  const size_t row = 1 + 3 * (size_t)w, n = row * (size_t)h;
  uint8_t *raw = malloc(n), ihdr[13] = {0}, *z = NULL;
  size_t zlen = 0;
  if (!raw) return lc_error_set(err, LC_ENOMEM, "render: out of memory");
  for (int y = 0; y < h; ++y) {
    raw[row * y] = 0; /* filter: none */
    memcpy(raw + row * y + 1, img + 3 * (size_t)w * y, 3 * (size_t)w);
  }
  z = zlib_stored(raw, n, &zlen);
  free(raw);
  if (!z) return lc_error_set(err, LC_ENOMEM, "render: out of memory");
  put_be32(ihdr, (uint32_t)w);
  put_be32(ihdr + 4, (uint32_t)h);
  ihdr[8] = 8, ihdr[9] = 2; /* 8 bits, RGB */
  FILE *f = fopen(path, "wb");
  int rc = f ? LC_OK : lc_error_set(err, LC_EIO, "render: cannot open %s", path);
  if (!rc && (fwrite("\x89PNG\r\n\x1a\n", 1, 8, f) != 8 || chunk(f, "IHDR", ihdr, 13) ||
              chunk(f, "IDAT", z, (uint32_t)zlen) || chunk(f, "IEND", NULL, 0)))
    rc = lc_error_set(err, LC_EIO, "render: cannot write %s", path);
  if (f && fclose(f) && !rc) rc = lc_error_set(err, LC_EIO, "render: cannot write %s", path);
  free(z);
  return rc;
}

/* Renders the triangles and writes the PNG. */
int lc_render_png(const double *V, int32_t nv, const int32_t *F, int32_t nf, const uint8_t *rgb,
                  const lc_render_view *view, const char *path, lc_error *err) {
  static const uint8_t grey[3] = {200, 200, 200};
  if (!view || view->width <= 0 || view->height <= 0 || view->width > 8192 || view->height > 8192)
    return lc_error_set(err, LC_EINVAL, "render: image size must be 1..8192 pixels");
  const int64_t np = (int64_t)view->width * view->height;
  uint8_t *img = malloc((size_t)np * 3);
  double *zbuf = malloc((size_t)np * sizeof *zbuf), basis[9], *P = malloc((size_t)(nv > 0 ? nv : 1) * 3 * sizeof *P);
  int rc = img && zbuf && P ? LC_OK : lc_error_set(err, LC_ENOMEM, "render: out of memory");
  if (!rc) {
    memset(img, 255, (size_t)np * 3);
    for (int64_t k = 0; k < np; ++k) zbuf[k] = INFINITY;
    camera_basis(view, basis, basis + 3, basis + 6);
    for (int32_t i = 0; i < nv; ++i) project(view, basis, V + 3 * (int64_t)i, P + 3 * (int64_t)i);
    for (int32_t f = 0; f < nf; ++f) {
      const int32_t *t = F + 3 * (int64_t)f;
      double q[3][3];
      uint8_t c[3];
      for (int a = 0; a < 3; ++a) memcpy(q[a], P + 3 * (int64_t)t[a], sizeof q[a]);
      shade(V, t, basis + 6, rgb ? rgb + 3 * (int64_t)f : grey, c);
      raster(view, (const double(*)[3])q, c, img, zbuf);
    }
    rc = write_png(path, img, view->width, view->height, err);
  }
  free(img);
  free(zbuf);
  free(P);
  return rc;
}
