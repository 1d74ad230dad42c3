/* render.h - a small software renderer for the demos' final frames: flat
 * shaded, z-buffered triangles under a perspective camera, written as an
 * uncompressed PNG (RGB, 8 bits; deflate "stored" blocks).  No image
 * library is among locad's dependencies; a demo only needs a picture. */
#ifndef LC_RENDER_H
#define LC_RENDER_H

#include <stdint.h>

#include "../lc_error.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* A camera: eye and target positions, up direction, vertical field of view. */
typedef struct lc_render_view {
  double eye[3], target[3], up[3];
  double fov_deg;
  int width, height; /* pixels */
} lc_render_view;

/* Renders triangles F[nf x 3] over positions V[nv x 3] with per-face colours
 * rgb[nf x 3] (NULL: light grey) seen by view, and writes the PNG to path.
 * Faces are lit from the camera (two-sided); the background is white.  On
 * failure no file is left half-written beyond what fopen created. */
int lc_render_png(const double *V, int32_t nv, const int32_t *F, int32_t nf, const uint8_t *rgb,
                  const lc_render_view *view, const char *path, lc_error *err);

#if defined(__cplusplus)
}
#endif

#endif
