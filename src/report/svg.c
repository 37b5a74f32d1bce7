/* svg.c - chart primitives for the study report (see svg.h).
 *
 * Writes plain SVG 1.1 text: no scripts, no external references, no ids shared
 * between charts (a heat map's hatch pattern is numbered by the caller).
 * Coordinates are printed with one decimal; the page's CSS (html.c) sets the
 * font stack and the classes used here (.tick, .axt, .ttl, .leg, .note).
 */
#include <math.h>
#include <string.h>
#include "svg.h"

static const char *const MINUS = "\xe2\x88\x92";    /* U+2212, typographic minus */

const char *gs_act_colour(const char *act)
{
    /* Okabe-Ito, colour-blind safe; the three of the study first. */
    static const struct { const char *name, *colour; } map[] = {
        {"sigmoid", "#0072B2"}, {"tanh", "#009E73"}, {"relu", "#D55E00"},
        {"leaky_relu", "#CC79A7"}, {"elu", "#E69F00"}, {"selu", "#56B4E9"},
        {"gelu", "#882255"}, {"silu", "#44AA99"}, {"softplus", "#999933"},
        {"hardtanh", "#117733"}, {"identity", "#555555"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (act && strcmp(act, map[i].name) == 0) return map[i].colour;
    return "#333333";
}

const char *gs_arch_dash(int residual, int batch_norm)
{
    if (!residual) return batch_norm ? "7 3" : "";
    return batch_norm ? "9 3 2 3" : "2.5 2.5";
}

const char *gs_arch_name(int residual, int batch_norm)
{
    if (!residual) return batch_norm ? "plain + BN" : "plain";
    return batch_norm ? "residual + BN" : "residual";
}

void gs_html_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

void gs_svg_open(FILE *f, double w, double h, const char *label)
{
    fprintf(f, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
               "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
            w, h, w, h);
    gs_html_escape(f, label);
    fputs("\">\n", f);
}

void gs_svg_close(FILE *f)
{
    fputs("</svg>\n", f);
}

gs_plot gs_plot_make(double ox, double oy, double pw, double ph, gs_axis ax, gs_axis ay,
                     int zero_band)
{
    gs_plot p;
    p.x = ox + GS_PANEL_LEFT;
    p.y = oy + GS_PANEL_TOP;
    p.w = pw - GS_PANEL_LEFT - GS_PANEL_RIGHT;
    p.h = ph - GS_PANEL_TOP - GS_PANEL_BOTTOM - (zero_band ? GS_SVG_ZERO_BAND : 0.0);
    p.ax = ax;
    p.ay = ay;
    p.zero_band = zero_band && ay.log;
    if (p.ax.hi <= p.ax.lo) p.ax.hi = p.ax.lo + 1.0;
    if (p.ay.hi <= p.ay.lo) p.ay.hi = p.ay.lo + 1.0;
    return p;
}

/* ---- mapping ---- */

static double map_x(const gs_plot *p, double v)
{
    double t = ((p->ax.log ? log10(v) : v) - p->ax.lo) / (p->ax.hi - p->ax.lo);
    return p->x + t * p->w;
}

/* y pixel of v; 0 when v cannot be drawn (NaN, or <= 0 on a log axis
 * without a zero band); *zero set when v sits in the zero band. */
static int map_y(const gs_plot *p, double v, double *out, int *zero)
{
    *zero = 0;
    if (isnan(v) || isinf(v)) return 0;
    double u = v;
    if (p->ay.log) {
        if (v == 0.0 && p->zero_band) {
            *zero = 1;
            *out = p->y + p->h + GS_SVG_ZERO_BAND * 0.5;
            return 1;
        }
        if (v <= 0.0) return 0;
        u = log10(v);
    }
    double t = (u - p->ay.lo) / (p->ay.hi - p->ay.lo);
    if (t < -0.02) t = -0.02;     /* clamp: a value under the range hugs the floor */
    if (t > 1.02) t = 1.02;
    *out = p->y + p->h - t * p->h;
    return 1;
}

/* ---- ticks ---- */

static double nice_step(double range, int target)
{
    double raw = range / (target > 0 ? target : 1);
    double mag = pow(10.0, floor(log10(raw)));
    double r = raw / mag;
    double s = r <= 1.0 ? 1.0 : r <= 2.0 ? 2.0 : r <= 2.5 ? 2.5 : r <= 5.0 ? 5.0 : 10.0;
    return s * mag;
}

static void fmt_number(char *buf, size_t n, double v, double step)
{
    if (fabs(v) < step * 1e-6) v = 0.0;
    int dec = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6) dec = 6;
    snprintf(buf, n, "%.*f", dec, v);
}

void gs_svg_pow10(FILE *f, int k, int plain)
{
    if (plain) {
        char b[32];
        fmt_number(b, sizeof b, pow(10.0, k), k < 0 ? pow(10.0, k) : 1.0);
        fputs(b, f);
        return;
    }
    if (k == 0) { fputs("1", f); return; }
    fprintf(f, "10<tspan dy=\"-0.5em\" font-size=\"0.78em\">%s%d</tspan>",
            k < 0 ? MINUS : "", k < 0 ? -k : k);
}

static void axis_title(FILE *f, double x, double y, int rotate, const char *s)
{
    if (!s || !*s) return;
    if (rotate)
        fprintf(f, "<text class=\"axt\" transform=\"translate(%.1f %.1f) rotate(-90)\" "
                   "text-anchor=\"middle\">", x, y);
    else
        fprintf(f, "<text class=\"axt\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y);
    gs_html_escape(f, s);
    fputs("</text>\n", f);
}

static void x_ticks(FILE *f, const gs_plot *p)
{
    double yb = p->y + p->h + (p->zero_band ? GS_SVG_ZERO_BAND : 0.0);
    double step = nice_step(p->ax.hi - p->ax.lo, (int)(p->w / 45.0));
    if (p->ax.integer && step < 1.0) step = 1.0;
    double first = ceil(p->ax.lo / step - 1e-9) * step;
    int k = 0, explicit_ticks = p->ax.n_ticks > 0 && p->ax.ticks;
    for (double v = first; explicit_ticks ? k < p->ax.n_ticks : v <= p->ax.hi + step * 1e-9;
         v += step, k++) {
        if (explicit_ticks) v = p->ax.ticks[k];
        double x = map_x(p, v);
        char b[32];
        fmt_number(b, sizeof b, v, explicit_ticks ? 1.0 : step);
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                   "<line class=\"tk\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                   "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                x, p->y, x, p->y + p->h, x, yb, x, yb + 4, x, yb + 14, b);
    }
}

static void y_tick(FILE *f, const gs_plot *p, double y, int major)
{
    if (major)
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                p->x, y, p->x + p->w, y);
    fprintf(f, "<line class=\"tk\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
            p->x - (major ? 4 : 2.5), y, p->x, y);
}

static void y_ticks_log(FILE *f, const gs_plot *p)
{
    int klo = (int)ceil(p->ay.lo - 1e-9), khi = (int)floor(p->ay.hi + 1e-9);
    int decades = khi - klo;
    int max_labels = (int)(p->h / 22.0);
    if (max_labels < 2) max_labels = 2;
    static const int steps[] = {1, 2, 5, 10, 20, 50};
    int s = 50;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (decades / steps[i] + 1 <= max_labels) { s = steps[i]; break; }
    int plain = p->ay.lo >= -2.0 - 1e-9 && p->ay.hi <= 3.0 + 1e-9;
    int minor_each = decades > 60 ? 5 : 1;
    for (int k = klo; k <= khi; k++) {
        double y; int z;
        if (!map_y(p, pow(10.0, k), &y, &z)) continue;
        int major = ((k % s) + s) % s == 0;
        if (!major && k % minor_each != 0) continue;
        y_tick(f, p, y, major);
        if (major) {
            fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                    p->x - 6, y + 3.5);
            gs_svg_pow10(f, k, plain);
            fputs("</text>\n", f);
        }
    }
    if (decades <= 2) {           /* short ranges: 2 and 5 within each decade */
        for (int k = klo - 1; k <= khi; k++) {
            for (int m = 2; m <= 5; m += 3) {
                double v = m * pow(10.0, k), y; int z;
                if (log10(v) < p->ay.lo - 1e-9 || log10(v) > p->ay.hi + 1e-9) continue;
                if (!map_y(p, v, &y, &z)) continue;
                y_tick(f, p, y, 1);
                char b[32];
                fmt_number(b, sizeof b, v, v);
                fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
                           "text-anchor=\"end\">%s</text>\n", p->x - 6, y + 3.5, b);
            }
        }
    }
    if (p->zero_band) {
        double yz = p->y + p->h + GS_SVG_ZERO_BAND * 0.5;
        fprintf(f, "<rect class=\"zband\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
                   "<line class=\"tk\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                   "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>\n",
                p->x, p->y + p->h + 2, p->w, GS_SVG_ZERO_BAND - 2,
                p->x - 4, yz, p->x, yz, p->x - 6, yz + 3.5);
        /* the break between the log axis and the zero band */
        fprintf(f, "<path class=\"brk\" d=\"M%.1f %.1fl6 -3M%.1f %.1fl6 -3\"/>\n",
                p->x - 3, p->y + p->h + 2.5, p->x - 3, p->y + p->h + 5.5);
    }
}

static void y_ticks_linear(FILE *f, const gs_plot *p)
{
    double step = nice_step(p->ay.hi - p->ay.lo, (int)(p->h / 30.0));
    if (p->ay.integer && step < 1.0) step = 1.0;
    double first = ceil(p->ay.lo / step - 1e-9) * step;
    for (double v = first; v <= p->ay.hi + step * 1e-9; v += step) {
        double y; int z;
        if (!map_y(p, v, &y, &z)) continue;
        y_tick(f, p, y, 1);
        char b[32];
        fmt_number(b, sizeof b, v, step);
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                p->x - 6, y + 3.5, b);
    }
}

void gs_plot_axes(FILE *f, const gs_plot *p, const char *title, const char *xlabel,
                  const char *ylabel)
{
    double yb = p->y + p->h + (p->zero_band ? GS_SVG_ZERO_BAND : 0.0);
    fprintf(f, "<rect class=\"pbg\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
            p->x, p->y, p->w, p->h);
    x_ticks(f, p);
    if (p->ay.log) y_ticks_log(f, p); else y_ticks_linear(f, p);
    fprintf(f, "<path class=\"ax\" d=\"M%.1f %.1fV%.1fH%.1f\"/>\n", p->x, p->y, yb, p->x + p->w);
    if (title && *title) {
        fprintf(f, "<text class=\"ttl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                p->x + p->w / 2, p->y - 9);
        gs_html_escape(f, title);
        fputs("</text>\n", f);
    }
    axis_title(f, p->x + p->w / 2, yb + 30, 0, xlabel);
    axis_title(f, p->x - 42, p->y + p->h / 2, 1, ylabel);
}

/* ---- marks ---- */

static void zero_marker(FILE *f, double x, double y, const char *colour)
{
    fprintf(f, "<path class=\"data zm\" d=\"M%.1f %.1fh7l-3.5 6z\" stroke=\"%s\"/>",
            x - 3.5, y - 3, colour);
}

void gs_plot_series(FILE *f, const gs_plot *p, int n, const double *xs, const double *ys,
                    const char *colour, const char *dash, int markers)
{
    gs_plot_series_class(f, p, n, xs, ys, colour, dash, markers, NULL);
}

void gs_plot_series_class(FILE *f, const gs_plot *p, int n, const double *xs, const double *ys,
                          const char *colour, const char *dash, int markers, const char *cls)
{
    if (n <= 0 || !ys) return;
    int open = 0, last_ok = 0;
    for (int i = 0; i < n; i++) {
        double y; int z;
        int ok = map_y(p, ys[i], &y, &z);
        if (!ok) { last_ok = 0; continue; }
        double x = map_x(p, xs ? xs[i] : i);
        if (!last_ok) {
            if (!open) {
                fprintf(f, "<path class=\"data%s%s\" fill=\"none\" stroke=\"%s\"%s%s%s d=\"",
                        cls && *cls ? " " : "", cls && *cls ? cls : "", colour, dash && *dash ? " stroke-dasharray=\"" : "",
                        dash && *dash ? dash : "", dash && *dash ? "\"" : "");
                open = 1;
            }
            fprintf(f, "M%.1f %.1f", x, y);
        } else {
            fprintf(f, "L%.1f %.1f", x, y);
        }
        last_ok = 1;
    }
    if (open) fputs("\"/>\n", f);
    /* isolated points and zeros get marks so that they are never invisible */
    for (int i = 0; i < n; i++) {
        double y; int z;
        if (!map_y(p, ys[i], &y, &z)) continue;
        double x = map_x(p, xs ? xs[i] : i);
        int prev = i > 0 && !isnan(ys[i - 1]) && !(p->ay.log && ys[i - 1] < 0);
        int next = i + 1 < n && !isnan(ys[i + 1]) && !(p->ay.log && ys[i + 1] < 0);
        if (z) zero_marker(f, x, y, colour);
        else if (markers || (!prev && !next))
            fprintf(f, "<circle class=\"data\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"%s\"/>",
                    x, y, colour);
    }
    fputc('\n', f);
}

void gs_plot_hline(FILE *f, const gs_plot *p, double v)
{
    double y; int z;
    if (!map_y(p, v, &y, &z) || z) return;
    fprintf(f, "<line class=\"ref\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            p->x, y, p->x + p->w, y);
}

void gs_plot_xband(FILE *f, const gs_plot *p, double x0, double x1, const char *fill)
{
    if (isnan(x0) || isnan(x1)) return;
    double a = map_x(p, x0), b = map_x(p, x1);
    if (b < a) { double t = a; a = b; b = t; }
    if (a < p->x) a = p->x;
    if (b > p->x + p->w) b = p->x + p->w;
    fprintf(f, "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"%s\" fill-opacity=\"0.8\"/>\n", a, p->y, b - a > 1.0 ? b - a : 1.0, p->h, fill);
}

void gs_plot_points(FILE *f, const gs_plot *p, int n, const double *xs, const double *ys,
                    const double *err, const char *colour, double r)
{
    for (int i = 0; ys && i < n; i++) {
        double y; int z;
        if (!map_y(p, ys[i], &y, &z)) continue;
        double x = map_x(p, xs ? xs[i] : i);
        if (err && isfinite(err[i]) && err[i] > 0.0) {
            double lo, hi; int z1, z2;
            if (map_y(p, ys[i] - err[i], &lo, &z1) && map_y(p, ys[i] + err[i], &hi, &z2))
                fprintf(f, "<path class=\"data eb\" stroke=\"%s\" fill=\"none\" "
                           "d=\"M%.1f %.1fV%.1fM%.1f %.1fh8M%.1f %.1fh8\"/>", colour, x, lo, hi,
                        x - 4, lo, x - 4, hi);
        }
        fprintf(f, "<circle class=\"data\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>",
                x, y, r, colour);
    }
    fputc('\n', f);
}

/* An open square; cls "data sq" on a chart, "sq" in a legend (not data). */
static void square(FILE *f, const char *cls, double x, double y, double h, const char *colour)
{
    fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "stroke=\"%s\"/>", cls, x - h, y - h, 2 * h, 2 * h, colour);
}

void gs_plot_squares(FILE *f, const gs_plot *p, int n, const double *xs, const double *ys,
                     const char *colour, double h)
{
    for (int i = 0; ys && i < n; i++) {
        double y; int z;
        if (!map_y(p, ys[i], &y, &z)) continue;
        square(f, "data sq", map_x(p, xs ? xs[i] : i), y, h, colour);
    }
    fputc('\n', f);
}

void gs_plot_note(FILE *f, const gs_plot *p, const char *text)
{
    fprintf(f, "<text class=\"note\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            p->x + p->w / 2, p->y + p->h / 2);
    gs_html_escape(f, text);
    fputs("</text>\n", f);
}

/* Rough width of s at the legend's 12px (UTF-8 characters, not bytes). */
static double text_width(const char *s)
{
    double w = 0.0;
    for (const unsigned char *c = (const unsigned char *)s; c && *c; c++)
        if ((*c & 0xC0) != 0x80) w += 6.7;
    return w;
}

double gs_svg_legend_height(double max_width, int n, const gs_legend_item *items)
{
    double lx = 0.0;
    int row = 0;
    for (int i = 0; i < n; i++) {
        double w = 37.0 + text_width(items[i].label) + 22.0;
        if (lx > 0.0 && lx + w > max_width) { lx = 0.0; row++; }
        lx += w;
    }
    return (row + 1) * 18.0;
}

double gs_svg_legend(FILE *f, double x, double y, double max_width, int n,
                     const gs_legend_item *items)
{
    fputs("<g class=\"legend\">\n", f);
    double lx = x, ly = y + 9, row = 0;
    for (int i = 0; i < n; i++) {
        const gs_legend_item *it = &items[i];
        double w = 37.0 + text_width(it->label) + 22.0;
        if (lx > x && lx + w > x + max_width) { lx = x; ly += 18.0; row++; }
        switch (it->kind) {
        case GS_LEG_LINE:
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                       "stroke-width=\"%.1f\"%s%s%s/>", lx, ly, lx + 30, ly, it->colour,
                    it->width > 0 ? it->width : 2.0,
                    it->dash && *it->dash ? " stroke-dasharray=\"" : "",
                    it->dash && *it->dash ? it->dash : "", it->dash && *it->dash ? "\"" : "");
            break;
        case GS_LEG_ZERO:
            zero_marker(f, lx + 15, ly - 1, it->colour);
            break;
        case GS_LEG_SWATCH:
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"30\" height=\"10\" fill=\"%s\" "
                       "stroke=\"#999\" stroke-width=\"0.5\"/>", lx, ly - 5, it->colour);
            break;
        case GS_LEG_SQUARE:
            square(f, "sq", lx + 15, ly, 4.0, it->colour);
            break;
        case GS_LEG_REF:
            fprintf(f, "<line class=\"ref\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                    lx, ly, lx + 30, ly);
            break;
        }
        fprintf(f, "<text class=\"leg\" x=\"%.1f\" y=\"%.1f\">", lx + 37, ly + 4);
        gs_html_escape(f, it->label);
        fputs("</text>\n", f);
        lx += w;
    }
    fputs("</g>\n", f);
    return (row + 1) * 18.0;
}

/* ---- colour ---- */

void gs_viridis(double t, char out[8])
{
    static const unsigned char stops[9][3] = {
        {68, 1, 84}, {71, 44, 122}, {59, 81, 139}, {44, 113, 142}, {33, 144, 141},
        {39, 173, 129}, {92, 200, 99}, {170, 220, 50}, {253, 231, 37},
    };
    if (!(t >= 0.0)) t = 0.0;
    if (t > 1.0) t = 1.0;
    double u = t * 8.0;
    int i = (int)u;
    if (i > 7) i = 7;
    double a = u - i;
    int rgb[3];
    for (int c = 0; c < 3; c++)
        rgb[c] = (int)lround(stops[i][c] + a * (stops[i + 1][c] - stops[i][c]));
    snprintf(out, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

static void hatch_pattern(FILE *f, int id)
{
    fprintf(f, "<defs><pattern id=\"gs-zero-%d\" width=\"4\" height=\"4\" "
               "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
               "<rect width=\"4\" height=\"4\" fill=\"#ffffff\"/>"
               "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"4\" stroke=\"#d62728\" stroke-width=\"1.4\"/>"
               "</pattern></defs>\n", id);
}

/* Quantised cell colour: one of 96 viridis levels, or the zero/NaN fills. */
static int cell_level(double v, double vlo, double vhi)
{
    if (isnan(v)) return -2;
    if (isinf(v) && v < 0) return -1;
    double t = (v - vlo) / (vhi > vlo ? vhi - vlo : 1.0);
    int q = (int)floor(t * 95.0 + 0.5);
    return q < 0 ? 0 : q > 95 ? 95 : q;
}

void gs_plot_heat(FILE *f, const gs_plot *p, int rows, int cols, const double *v,
                  double vlo, double vhi, int pattern_id)
{
    if (rows <= 0 || cols <= 0 || !v) return;
    hatch_pattern(f, pattern_id);
    double cw = p->w / cols, rh = p->h / rows;
    fputs("<g class=\"data heat\" shape-rendering=\"crispEdges\">\n", f);
    for (int r = 0; r < rows; r++) {
        double y = p->y + p->h - (r + 1) * rh;
        int c = 0;
        while (c < cols) {           /* merge runs of equal colour into one rect */
            int q = cell_level(v[(size_t)r * cols + c], vlo, vhi), e = c + 1;
            while (e < cols && cell_level(v[(size_t)r * cols + e], vlo, vhi) == q) e++;
            char fill[40];
            if (q == -2) snprintf(fill, sizeof fill, "#ffffff");
            else if (q == -1) snprintf(fill, sizeof fill, "url(#gs-zero-%d)", pattern_id);
            else gs_viridis(q / 95.0, fill);
            /* overlap neighbours by 0.4 px against hairline gaps, never the plot's edge */
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                    p->x + c * cw, y, (e - c) * cw + (e < cols ? 0.4 : 0.0),
                    rh + (r > 0 ? 0.4 : 0.0), fill);
            c = e;
        }
        fputc('\n', f);
    }
    fputs("</g>\n", f);
}

void gs_svg_colourbar(FILE *f, double x, double y, double w, double h, double vlo,
                      double vhi, const char *title, int pattern_id)
{
    const int n = 64;
    fputs("<g class=\"cbar\" shape-rendering=\"crispEdges\">\n", f);
    for (int i = 0; i < n; i++) {
        char c[8];
        gs_viridis((i + 0.5) / n, c);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.2f\" fill=\"%s\"/>",
                x, y + h - (i + 1) * h / n, w, h / n + 0.3, c);
    }
    fprintf(f, "\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"#666\" stroke-width=\"0.6\"/>\n", x, y, w, h);
    fputs("</g>\n", f);
    double range = vhi - vlo > 0 ? vhi - vlo : 1.0;
    int decades = (int)floor(vhi) - (int)ceil(vlo);
    int s = decades <= 8 ? 1 : decades <= 16 ? 2 : decades <= 40 ? 5 : 10;
    for (int k = (int)ceil(vlo); k <= (int)floor(vhi); k++) {
        if (((k % s) + s) % s) continue;
        double yy = y + h - (k - vlo) / range * h;
        fprintf(f, "<line class=\"tk\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                   "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">", x + w, yy, x + w + 4, yy,
                x + w + 6, yy + 3.5);
        gs_svg_pow10(f, k, 0);
        fputs("</text>\n", f);
    }
    if (title) {
        fprintf(f, "<text class=\"axt\" x=\"%.1f\" y=\"%.1f\">", x - 4, y - 10);
        gs_html_escape(f, title);
        fputs("</text>\n", f);
    }
    /* the two values no colour stands for */
    double sy = y + h + 14;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" fill=\"url(#gs-zero-%d)\" "
               "stroke=\"#666\" stroke-width=\"0.6\"/><text class=\"tick\" x=\"%.1f\" y=\"%.1f\">"
               "exactly 0</text>\n", x, sy, w, pattern_id, x + w + 6, sy + 9.5);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" fill=\"#ffffff\" "
               "stroke=\"#666\" stroke-width=\"0.6\"/><text class=\"tick\" x=\"%.1f\" y=\"%.1f\">"
               "not logged</text>\n", x, sy + 18, w, x + w + 6, sy + 27.5);
}
