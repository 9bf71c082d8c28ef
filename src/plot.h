/* The function's picture: Leaky ReLU and its gradient drawn as an SVG 1.1
 * document from the kernel's own values (lrelu.h), with axes through the
 * origin, round-number ticks, a grid, a legend and a title. Knows nothing
 * of HTTP; GET /plot.svg (api_plot.c) checks the query and calls it. */
#ifndef LEAKYRELU_PLOT_H
#define LEAKYRELU_PLOT_H

#include <stddef.h>

/* The most slopes (curves) one plot draws: PReLU's short lists. */
#define PLOT_SLOPES_MAX 8

/* The picture's size in pixels, each side. */
#define PLOT_WIDTH_MIN 240
#define PLOT_WIDTH_MAX 4096
#define PLOT_HEIGHT_MIN 160
#define PLOT_HEIGHT_MAX 4096

/* Which curves: the function, its gradient, or both in two panels (side
 * by side when the picture is at least as wide as it is tall, else one
 * above the other). */
typedef enum plot_what {
    PLOT_FORWARD = 1,
    PLOT_GRADIENT = 2,
    PLOT_BOTH = 3
} plot_what;

typedef struct plot_spec {
    double slopes[PLOT_SLOPES_MAX]; /* one curve each, in this order */
    size_t nslopes;                 /* 1 to PLOT_SLOPES_MAX */
    double xmin, xmax;              /* the x range, xmin < xmax, both finite */
    plot_what what;
    int f32;                        /* computed in float32, as PyTorch's float32
                                       tensors (the slopes and x rounded to float32) */
    int width, height;              /* within the bounds above */
} plot_spec;

/* Why a spec cannot be drawn (plot_check). */
typedef enum plot_problem {
    PLOT_OK,
    PLOT_BAD_RANGE,   /* xmin >= xmax, or not finite, or xmax - xmin too small to
                         draw (under a millionth of the larger |x|, or the two the
                         same float32) */
    PLOT_BAD_SIZE,    /* width or height outside the bounds */
    PLOT_BAD_SLOPES,  /* no slope, more than PLOT_SLOPES_MAX, or one not finite
                         (in float32: outside its range) */
    PLOT_NOT_FINITE   /* a value of the curve, or its axis' range, overflows */
} plot_problem;

/* PLOT_OK when spec can be drawn, else why not. Thread-safe. */
plot_problem plot_check(const plot_spec *spec);

/* The most bytes plot_svg writes for spec (a NUL included). */
size_t plot_svg_max(const plot_spec *spec);

/* Writes the SVG document for spec (which plot_check passed) into
 * out[0..cap) with a terminating NUL and returns its length, or 0 when
 * cap is too small (plot_svg_max(spec) always suffices). The curves are
 * polylines through the kernel's values at evenly spaced x, x = 0 among
 * them: the function's kink is a vertex, and the gradient is two pieces
 * (x <= 0 at a, x > 0 at 1, from the smallest positive x) that no segment
 * joins, the value at 0 marked by a filled dot and the one just after by
 * an open one. Coordinates are printed to 0.01 px; text is escaped.
 * Does not allocate; thread-safe. */
size_t plot_svg(const plot_spec *spec, char *out, size_t cap);

#endif
