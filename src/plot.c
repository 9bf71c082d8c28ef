/* Leaky ReLU's picture as SVG 1.1: the curves from the kernel's values,
 * axes through the origin, ticks at round numbers, a grid, a legend. */
#include "plot.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lrelu.h"
#include "numfmt.h"
#include "numparse.h"
#include "version.h"

/* One vertex per this many pixels of width, and at most this many. */
#define SAMPLE_PX 6
#define SAMPLES_MAX 400
/* Samples and the two at the origin (0, and the smallest positive x). */
#define POINTS_MAX (SAMPLES_MAX + 2)

/* The most ticks an axis gets (the nice step keeps it near the target). */
#define TICKS_MAX 24

#define FONT "DejaVu Sans, Verdana, Arial, sans-serif"
#define CHAR_PX 7.0 /* a 12 px sans-serif character's width, about */

/* Okabe and Ito's colours, told apart with any colour vision
 * ("Color Universal Design", 2002), in the order the slopes come. */
static const char *const colours[PLOT_SLOPES_MAX] = {
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999",
};

typedef struct out {
    char *p, *end; /* what is left of the buffer; p == end once it is full */
    int full;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->full || n >= (size_t)(o->end - o->p)) {
        o->full = 1;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

/* A string literal. */
#define PUT(o, lit) put(o, lit, sizeof lit - 1)

static void putf(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p, (size_t)(o->end - o->p), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= (size_t)(o->end - o->p))
        o->full = 1;
    else
        o->p += n;
}

/* Character data and attribute values, escaped for XML. */
static void put_text(out *o, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': PUT(o, "&amp;"); break;
        case '<': PUT(o, "&lt;"); break;
        case '>': PUT(o, "&gt;"); break;
        case '"': PUT(o, "&quot;"); break;
        default: put(o, s, 1); break;
        }
    }
}

/* A coordinate to 0.01 px, as "%.2f" writes it ("-0.00" as "0.00"), from
 * the whole number of hundredths: a picture has thousands of them, and
 * this is several times quicker than snprintf. */
static void put_px(out *o, double v)
{
    double hundredths = round(v * 100);
    if (!(fabs(hundredths) < 1e15)) { /* never, inside a picture's bounds */
        putf(o, "%.2f", hundredths / 100);
        return;
    }
    char buf[24], *p = buf + sizeof buf;
    long long n = (long long)fabs(hundredths);
    for (int digits = 0; digits < 3 || n; digits++) {
        if (digits == 2)
            *--p = '.';
        *--p = (char)('0' + n % 10);
        n /= 10;
    }
    if (hundredths < 0)
        *--p = '-';
    put(o, p, (size_t)(buf + sizeof buf - p));
}

/* Ends the number text buf[0..end) with a NUL, without a bare ".0". */
static void end_number(char *buf, char *end)
{
    if (end - buf >= 2 && end[-2] == '.' && end[-1] == '0')
        end -= 2;
    *end = '\0';
}

/* A number as Python prints it, without a bare ".0": "2", "0.25", "1e-05". */
static void number_text(double v, char buf[NUMFMT_F64_BUF])
{
    end_number(buf, numfmt_f64(v, buf));
}

/* A slope as the computation uses it (in float32, the float32's shortest). */
static void slope_text(const plot_spec *spec, size_t i, char buf[NUMFMT_F64_BUF])
{
    end_number(buf, spec->f32 ? numfmt_f32((float)spec->slopes[i], buf)
                              : numfmt_f64(spec->slopes[i], buf));
}

/* A linear map from [lo, hi] onto pixels [from, to]. */
typedef struct axis {
    double lo, hi;
    double from, to;
} axis;

static double axis_px(const axis *a, double v)
{
    return a->from + (v - a->lo) / (a->hi - a->lo) * (a->to - a->from);
}

/* Ticks: the round numbers k * m * 10^e in [lo, hi], m in {1, 2, 5} chosen
 * for about `target` of them (Heckbert's "nice numbers", Graphics Gems,
 * 1990). Each value is the double nearest its decimal text, and its label
 * that text as Python prints it. */
typedef struct ticks {
    size_t n;
    double value[TICKS_MAX];
    char label[TICKS_MAX][NUMFMT_F64_BUF];
} ticks;

static void ticks_choose(double lo, double hi, double target, ticks *t)
{
    /* 2 to 10 wanted: the nice step then gives at most 1.5 times as many
     * (16 <= TICKS_MAX), however large the picture. */
    double raw = (hi - lo) / (target < 2 ? 2 : target > 10 ? 10 : target);
    int e = (int)floor(log10(raw));
    double f = raw / pow(10, e);
    long m = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    if (m == 10) {
        m = 1;
        e++;
    }
    double step = (double)m * pow(10, e);
    long k = (long)floor(lo / step) - 1, last = (long)ceil(hi / step) + 1;
    t->n = 0;
    for (; k <= last && t->n < TICKS_MAX; k++) {
        char text[48];
        double v;
        const char *stop;
        int len = snprintf(text, sizeof text, "%lde%d", k * m, e);
        if (len <= 0 || (size_t)len >= sizeof text ||
            numparse_f64(text, text + len, &v, &stop) != NUMPARSE_OK)
            continue;
        if (v < lo || v > hi)
            continue;
        t->value[t->n] = v == 0 ? 0.0 : v; /* "0e-1" is 0, never -0 */
        number_text(t->value[t->n], t->label[t->n]);
        t->n++;
    }
}

/* One panel's curves: x at evenly spaced points with 0 (and, for the
 * gradient, the smallest positive x) among them, and y for each slope. */
typedef struct curves {
    size_t n;
    double x[POINTS_MAX];
    double y[PLOT_SLOPES_MAX][POINTS_MAX];
    double ylo, yhi; /* the y axis' range: the values, 0, and a margin */
} curves;

static size_t samples(const plot_spec *spec)
{
    size_t n = (size_t)spec->width / SAMPLE_PX;
    return n < 16 ? 16 : n > SAMPLES_MAX ? SAMPLES_MAX : n;
}

/* The x range as computed: in float32, its endpoints rounded to float32. */
static void x_range(const plot_spec *spec, double *lo, double *hi)
{
    *lo = spec->f32 ? (double)(float)spec->xmin : spec->xmin;
    *hi = spec->f32 ? (double)(float)spec->xmax : spec->xmax;
}

/* Fills c for the forward (gradient = 0) or gradient curves, from the
 * kernel itself: lrelu_forward_* and lrelu_gradient_*, the variant the
 * service computes with. */
static void curves_compute(const plot_spec *spec, int gradient, curves *c)
{
    double lo, hi;
    x_range(spec, &lo, &hi);
    size_t m = samples(spec);
    c->n = 0;
    for (size_t i = 0; i < m; i++) {
        /* the fraction first: the span times i alone can overflow */
        double x = i + 1 == m ? hi : lo + (hi - lo) * ((double)i / (double)(m - 1));
        if (spec->f32)
            x = (double)(float)x;
        if (c->n && c->x[c->n - 1] < 0 && x > 0) /* the origin, exactly */
            c->x[c->n++] = 0.0;
        if (gradient && c->n && c->x[c->n - 1] == 0 && x > 0) /* just after it: the jump */
            c->x[c->n++] = spec->f32 ? (double)FLT_TRUE_MIN : DBL_TRUE_MIN;
        if (c->n == 0 || x > c->x[c->n - 1])
            c->x[c->n++] = x;
    }
    c->ylo = 0;
    c->yhi = 0;
    for (size_t s = 0; s < spec->nslopes; s++) {
        if (spec->f32) {
            float xf[POINTS_MAX], yf[POINTS_MAX];
            for (size_t i = 0; i < c->n; i++)
                xf[i] = (float)c->x[i];
            (gradient ? lrelu_gradient_f32 : lrelu_forward_f32)(xf, yf, c->n,
                                                               (float)spec->slopes[s]);
            for (size_t i = 0; i < c->n; i++)
                c->y[s][i] = (double)yf[i];
        } else {
            (gradient ? lrelu_gradient_f64 : lrelu_forward_f64)(c->x, c->y[s], c->n,
                                                               spec->slopes[s]);
        }
        for (size_t i = 0; i < c->n; i++) {
            c->ylo = fmin(c->ylo, c->y[s][i]);
            c->yhi = fmax(c->yhi, c->y[s][i]);
        }
    }
    if (c->ylo == c->yhi) { /* a flat curve on the axis */
        c->ylo = -1;
        c->yhi = 1;
    }
    double pad = (c->yhi - c->ylo) * 0.06;
    c->ylo -= pad;
    c->yhi += pad;
}

plot_problem plot_check(const plot_spec *spec)
{
    if (spec->width < PLOT_WIDTH_MIN || spec->width > PLOT_WIDTH_MAX ||
        spec->height < PLOT_HEIGHT_MIN || spec->height > PLOT_HEIGHT_MAX)
        return PLOT_BAD_SIZE;
    if (spec->nslopes < 1 || spec->nslopes > PLOT_SLOPES_MAX)
        return PLOT_BAD_SLOPES;
    /* In float32, numbers past its range are refused before they are
     * converted: C leaves converting them undefined, and with such a
     * conversion tested by isfinite, gcc 12 at -O2 also lost the rounding
     * of the numbers within range (test_plot caught it). */
    double most = spec->f32 ? FLT_MAX : DBL_MAX;
    for (size_t i = 0; i < spec->nslopes; i++)
        if (!(fabs(spec->slopes[i]) <= most))
            return PLOT_BAD_SLOPES;
    if (!(fabs(spec->xmin) <= most) || !(fabs(spec->xmax) <= most) ||
        !(spec->xmin < spec->xmax))
        return PLOT_BAD_RANGE;
    double lo, hi;
    x_range(spec, &lo, &hi);
    if (!(lo < hi) || !isfinite(hi - lo) || hi - lo < 1e-6 * fmax(fabs(lo), fabs(hi)))
        return PLOT_BAD_RANGE;
    /* The curves' extremes are at the ends of the range (and 0, which
     * every axis holds): computed as the plot will compute them. */
    for (size_t s = 0; s < spec->nslopes; s++) {
        double y[2], x[2] = {lo, hi};
        if (spec->f32) {
            float xf[2] = {(float)lo, (float)hi}, yf[2];
            lrelu_forward_f32(xf, yf, 2, (float)spec->slopes[s]);
            y[0] = yf[0];
            y[1] = yf[1];
        } else {
            lrelu_forward_f64(x, y, 2, spec->slopes[s]);
        }
        double ylo = fmin(0, fmin(y[0], y[1])), yhi = fmax(0, fmax(y[0], y[1]));
        if (!isfinite(ylo) || !isfinite(yhi) || !isfinite((yhi - ylo) * 1.2))
            return PLOT_NOT_FINITE;
    }
    return PLOT_OK;
}

/* What the text above the panels takes: the title, then the legend in
 * rows as wide as the picture. */
#define TITLE_Y 20
#define LEGEND_ROW 18
#define LEGEND_SWATCH 22

static double legend_item_px(const plot_spec *spec, size_t i)
{
    char a[NUMFMT_F64_BUF];
    slope_text(spec, i, a);
    return LEGEND_SWATCH + 6 + CHAR_PX * (double)(strlen(a) + 4) + 18;
}

/* Draws the legend from y = top, returns where it ends. */
static double legend(out *o, const plot_spec *spec, double top)
{
    double x = 12, y = top + 12;
    for (size_t i = 0; i < spec->nslopes; i++) {
        double w = legend_item_px(spec, i);
        if (x > 12 && x + w > spec->width - 8) {
            x = 12;
            y += LEGEND_ROW;
        }
        char a[NUMFMT_F64_BUF];
        slope_text(spec, i, a);
        PUT(o, "<line x1=\"");
        put_px(o, x);
        PUT(o, "\" y1=\"");
        put_px(o, y - 4);
        PUT(o, "\" x2=\"");
        put_px(o, x + LEGEND_SWATCH);
        PUT(o, "\" y2=\"");
        put_px(o, y - 4);
        putf(o, "\" stroke=\"%s\" stroke-width=\"2.5\"/>\n", colours[i]);
        PUT(o, "<text x=\"");
        put_px(o, x + LEGEND_SWATCH + 6);
        PUT(o, "\" y=\"");
        put_px(o, y);
        PUT(o, "\">a = ");
        put_text(o, a);
        PUT(o, "</text>\n");
        x += w;
    }
    return y + 8;
}

/* A panel's place: the area inside its axes, in pixels. */
typedef struct box {
    double left, top, right, bottom;
} box;

static void line(out *o, double x1, double y1, double x2, double y2, const char *attrs)
{
    PUT(o, "<line x1=\"");
    put_px(o, x1);
    PUT(o, "\" y1=\"");
    put_px(o, y1);
    PUT(o, "\" x2=\"");
    put_px(o, x2);
    PUT(o, "\" y2=\"");
    put_px(o, y2);
    putf(o, "\" %s/>\n", attrs);
}

static void text_at(out *o, double x, double y, const char *attrs, const char *s)
{
    PUT(o, "<text x=\"");
    put_px(o, x);
    PUT(o, "\" y=\"");
    put_px(o, y);
    putf(o, "\"%s%s>", *attrs ? " " : "", attrs);
    put_text(o, s);
    PUT(o, "</text>\n");
}

/* The panel's ticks, grid, axes and curves. `area` is the panel's whole
 * share of the picture; the axes' box leaves room in it for the labels. */
static void panel(out *o, const plot_spec *spec, int gradient, box area)
{
    curves cv; /* 29 KB of stack */
    curves_compute(spec, gradient, &cv);
    double lo, hi;
    x_range(spec, &lo, &hi);
    ticks ty, tx;
    double height = area.bottom - area.top - 24 - 20;
    ticks_choose(cv.ylo, cv.yhi, height / 45, &ty);
    size_t widest = 1;
    for (size_t i = 0; i < ty.n; i++)
        widest = strlen(ty.label[i]) > widest ? strlen(ty.label[i]) : widest;
    box b = {area.left + 10 + CHAR_PX * (double)widest, area.top + 20, area.right - 14,
             area.bottom - 24};
    ticks_choose(lo, hi, (b.right - b.left) / 80, &tx);
    axis ax = {lo, hi, b.left, b.right}, ay = {cv.ylo, cv.yhi, b.bottom, b.top};

    PUT(o, "<g>\n");
    text_at(o, b.left, b.top - 8, "font-weight=\"bold\"",
            gradient ? "f\xe2\x80\xb2(x) = 1 if x > 0, else a" : "f(x) = x if x > 0, else a\xc2\xb7x");
    PUT(o, "<rect x=\"");
    put_px(o, b.left);
    PUT(o, "\" y=\"");
    put_px(o, b.top);
    PUT(o, "\" width=\"");
    put_px(o, b.right - b.left);
    PUT(o, "\" height=\"");
    put_px(o, b.bottom - b.top);
    PUT(o, "\" fill=\"none\" stroke=\"#cccccc\"/>\n");
    for (size_t i = 0; i < tx.n; i++) {
        double px = axis_px(&ax, tx.value[i]);
        line(o, px, b.top, px, b.bottom, "class=\"grid\" stroke=\"#e8e8e8\"");
        line(o, px, b.bottom, px, b.bottom + 4, "class=\"tick-x\" stroke=\"#666666\"");
        text_at(o, px, b.bottom + 17, "class=\"tick-x\" text-anchor=\"middle\"", tx.label[i]);
    }
    for (size_t i = 0; i < ty.n; i++) {
        double py = axis_px(&ay, ty.value[i]);
        line(o, b.left, py, b.right, py, "class=\"grid\" stroke=\"#e8e8e8\"");
        line(o, b.left - 4, py, b.left, py, "class=\"tick-y\" stroke=\"#666666\"");
        text_at(o, b.left - 6, py + 4, "class=\"tick-y\" text-anchor=\"end\"", ty.label[i]);
    }
    /* The axes through the origin (y's at the nearer edge when 0 is not
     * in the x range). */
    double y0 = axis_px(&ay, 0), x0 = lo > 0 ? b.left : hi < 0 ? b.right : axis_px(&ax, 0);
    line(o, b.left, y0, b.right, y0, "class=\"axis-x\" stroke=\"#333333\" stroke-width=\"1.2\"");
    line(o, x0, b.top, x0, b.bottom, "class=\"axis-y\" stroke=\"#333333\" stroke-width=\"1.2\"");
    text_at(o, b.right - 4, y0 - 6, "text-anchor=\"end\" font-style=\"italic\"", "x");
    text_at(o, x0 - b.left > 48 ? x0 - 6 : x0 + 6, b.top + 14,
            x0 - b.left > 48 ? "text-anchor=\"end\" font-style=\"italic\"" : "font-style=\"italic\"",
            gradient ? "f\xe2\x80\xb2(x)" : "f(x)");

    for (size_t s = 0; s < spec->nslopes; s++) {
        putf(o, "<path class=\"curve\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                "stroke-linejoin=\"round\" d=\"", colours[s]);
        for (size_t i = 0; i < cv.n; i++) {
            /* The gradient's two pieces are two subpaths: nothing joins
             * x = 0 to the smallest positive x. */
            int starts = i == 0 || (gradient && cv.x[i - 1] <= 0 && cv.x[i] > 0);
            if (i)
                PUT(o, " ");
            put(o, starts ? "M" : "L", 1);
            put_px(o, axis_px(&ax, cv.x[i]));
            PUT(o, ",");
            put_px(o, axis_px(&ay, cv.y[s][i]));
        }
        PUT(o, "\"/>\n");
        if (!gradient || lo > 0 || hi <= 0)
            continue;
        /* At 0 the gradient is a (filled); just after, 1 (open). */
        for (size_t i = 0; i + 1 < cv.n; i++) {
            if (cv.x[i] != 0)
                continue;
            putf(o, "<circle class=\"at-zero\" r=\"3.5\" fill=\"%s\" cx=\"", colours[s]);
            put_px(o, axis_px(&ax, 0));
            PUT(o, "\" cy=\"");
            put_px(o, axis_px(&ay, cv.y[s][i]));
            putf(o, "\"/>\n<circle class=\"after-zero\" r=\"3.5\" fill=\"#ffffff\" "
                    "stroke=\"%s\" stroke-width=\"1.5\" cx=\"", colours[s]);
            put_px(o, axis_px(&ax, cv.x[i + 1]));
            PUT(o, "\" cy=\"");
            put_px(o, axis_px(&ay, cv.y[s][i + 1]));
            PUT(o, "\"/>\n");
        }
    }
    PUT(o, "</g>\n");
}

size_t plot_svg_max(const plot_spec *spec)
{
    /* Per panel: its frame, ticks and labels (under 400 bytes each), and
     * each curve's vertices (" L" and two coordinates of at most 12
     * characters); the title, legend and description. */
    size_t panels = spec->what == PLOT_BOTH ? 2 : 1;
    size_t per_panel = 4096 + 2 * TICKS_MAX * 400 +
                       spec->nslopes * (512 + POINTS_MAX * 28);
    return 8192 + spec->nslopes * 512 + panels * per_panel;
}

size_t plot_svg(const plot_spec *spec, char *buf, size_t cap)
{
    out o = {buf, buf + cap, 0};
    char title[64 + PLOT_SLOPES_MAX * (NUMFMT_F64_BUF + 2)];
    size_t n = (size_t)snprintf(title, sizeof title, "Leaky ReLU, a = ");
    for (size_t i = 0; i < spec->nslopes; i++) {
        char a[NUMFMT_F64_BUF];
        slope_text(spec, i, a);
        n += (size_t)snprintf(title + n, sizeof title - n, "%s%s", i ? ", " : "", a);
    }
    snprintf(title + n, sizeof title - n, "%s, %s", spec->nslopes > 1 ? " (PReLU)" : "",
             spec->f32 ? "float32" : "float64");
    char xmin[NUMFMT_F64_BUF], xmax[NUMFMT_F64_BUF];
    double lo, hi;
    x_range(spec, &lo, &hi);
    number_text(lo, xmin);
    number_text(hi, xmax);

    putf(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
             "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"" FONT "\" font-size=\"12\">\n",
         spec->width, spec->height, spec->width, spec->height);
    PUT(&o, "<title>");
    put_text(&o, title);
    PUT(&o, "</title>\n<desc>");
    put_text(&o, spec->what == PLOT_GRADIENT ? "The gradient of Leaky ReLU"
                 : spec->what == PLOT_BOTH   ? "Leaky ReLU and its gradient"
                                             : "Leaky ReLU");
    putf(&o, " for x from %s to %s, computed by leakyrelu %s with its %s kernel. ", xmin, xmax,
         LEAKYRELU_VERSION, lrelu_variant());
    put_text(&o, "f(x) = x if x > 0, else a\xc2\xb7x; f\xe2\x80\xb2(x) = 1 if x > 0, else a "
                 "(so f\xe2\x80\xb2(0) = a).");
    PUT(&o, "</desc>\n");
    putf(&o, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", spec->width, spec->height);
    text_at(&o, 12, TITLE_Y, "font-size=\"15\" font-weight=\"bold\"", title);
    double top = legend(&o, spec, TITLE_Y + 6);

    box whole = {0, top, spec->width, spec->height};
    if (spec->what != PLOT_BOTH) {
        panel(&o, spec, spec->what == PLOT_GRADIENT, whole);
    } else if (spec->width >= spec->height) { /* side by side */
        double mid = spec->width / 2.0;
        panel(&o, spec, 0, (box){0, top, mid, spec->height});
        panel(&o, spec, 1, (box){mid, top, spec->width, spec->height});
    } else { /* one above the other */
        double mid = top + (spec->height - top) / 2.0;
        panel(&o, spec, 0, (box){0, top, spec->width, mid});
        panel(&o, spec, 1, (box){0, mid, spec->width, spec->height});
    }
    PUT(&o, "</svg>\n");
    if (o.full || o.p >= o.end)
        return 0;
    *o.p = '\0';
    return (size_t)(o.p - buf);
}
