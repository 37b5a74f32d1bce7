/* svg.h - internal to src/report: chart primitives that write SVG to a FILE.
 *
 * A chart is one <svg class="chart"> holding one or more panels (small
 * multiples) and a legend.  A panel maps data to pixels through a gs_plot:
 * linear or log10 axes; on a log y axis, exact zeros go to a separate "0"
 * band under the plot area (drawn with a distinct marker) and NaN/negative
 * values leave gaps.  Everything that shows data carries class="data" so the
 * screenshot test can tell an empty chart from a drawn one.
 * Write errors are not checked here: the caller checks ferror() once.
 */
#ifndef GS_REPORT_SVG_H
#define GS_REPORT_SVG_H

#include <stdio.h>

#define GS_SVG_ZERO_BAND 16.0     /* px height of the "exactly 0" band under a log axis */

typedef struct gs_axis {
    double lo, hi;                /* data range; for log axes the log10 of the range */
    int log;                      /* 1: log10 scale */
    int integer;                  /* 1: ticks on integers only (layer, block, depth) */
    int n_ticks;                  /* > 0: label exactly these x values (e.g. the depths) */
    const double *ticks;
} gs_axis;

static inline gs_axis gs_axis_make(double lo, double hi, int log, int integer)
{
    gs_axis a = {lo, hi, log, integer, 0, NULL};
    return a;
}

typedef struct gs_plot {
    double x, y, w, h;            /* plot area in px, inside the axes */
    gs_axis ax, ay;
    int zero_band;                /* 1: y is log and exact zeros are shown under it */
} gs_plot;

typedef enum { GS_LEG_LINE, GS_LEG_ZERO, GS_LEG_SWATCH, GS_LEG_REF, GS_LEG_SQUARE } gs_legend_kind;
typedef struct gs_legend_item {
    const char *label;
    const char *colour;
    const char *dash;             /* stroke-dasharray or NULL/"" for solid */
    gs_legend_kind kind;
    double width;                 /* GS_LEG_LINE stroke width; 0 = the default 2 px */
} gs_legend_item;

/* Panel geometry: margins around the plot area inside a panel box. */
#define GS_PANEL_LEFT 54.0
#define GS_PANEL_RIGHT 10.0
#define GS_PANEL_TOP 24.0
#define GS_PANEL_BOTTOM 40.0

/* Fixed style per activation (colour) and per architecture (dash). */
const char *gs_act_colour(const char *act);
const char *gs_arch_dash(int residual, int batch_norm);
const char *gs_arch_name(int residual, int batch_norm);

void gs_svg_open(FILE *f, double w, double h, const char *label);
void gs_svg_close(FILE *f);
/* Write s with &, <, >, " escaped. */
void gs_html_escape(FILE *f, const char *s);

/* A plot area inside the panel box (ox, oy, pw, ph) with the standard margins. */
gs_plot gs_plot_make(double ox, double oy, double pw, double ph, gs_axis ax, gs_axis ay,
                     int zero_band);
/* Grid, ticks, tick labels, axis titles (NULL = none) and the panel title. */
void gs_plot_axes(FILE *f, const gs_plot *p, const char *title, const char *xlabel,
                  const char *ylabel);
/* A line through (xs[i], ys[i]); NAN or (log) negative y breaks it; (log)
 * zeros are drawn in the zero band with a down-triangle marker. */
void gs_plot_series(FILE *f, const gs_plot *p, int n, const double *xs, const double *ys,
                    const char *colour, const char *dash, int markers);
/* The same with an extra class on the line (e.g. "thin", "bold": stroke widths
 * set by the page's CSS); xs NULL means x = index. */
void gs_plot_series_class(FILE *f, const gs_plot *p, int n, const double *xs, const double *ys,
                          const char *colour, const char *dash, int markers, const char *cls);
/* A horizontal reference line at data value y (its meaning goes in the legend). */
void gs_plot_hline(FILE *f, const gs_plot *p, double y);
/* A shaded vertical band over x in [x0, x1] (data coordinates), full plot
 * height; drawn before the series so they stay on top.  Not data. */
void gs_plot_xband(FILE *f, const gs_plot *p, double x0, double x1, const char *fill);
/* Dots at (xs[i], ys[i]) of radius r (class "data"), with vertical error bars
 * ys[i] +- err[i] when err is not NULL; NAN values are skipped. */
void gs_plot_points(FILE *f, const gs_plot *p, int n, const double *xs, const double *ys,
                    const double *err, const char *colour, double r);
/* Open squares (white fill, coloured outline, half side h px; class "data sq")
 * at (xs[i], ys[i]): marked points that differ from the dots of a series.
 * NAN values are skipped. */
void gs_plot_squares(FILE *f, const gs_plot *p, int n, const double *xs, const double *ys,
                     const char *colour, double h);
/* A message in the middle of an empty panel. */
void gs_plot_note(FILE *f, const gs_plot *p, const char *text);

/* Legend items side by side from (x, y), wrapping at max_width; returns its height. */
double gs_svg_legend(FILE *f, double x, double y, double max_width, int n,
                     const gs_legend_item *items);
/* The height gs_svg_legend will return, without drawing (to size the <svg> first). */
double gs_svg_legend_height(double max_width, int n, const gs_legend_item *items);

/* Heat map: cells (rows x cols) row-major, row 0 at the bottom; each value is a
 * log10 (NAN = missing, -INFINITY = exactly zero), coloured on [vlo, vhi]. */
void gs_plot_heat(FILE *f, const gs_plot *p, int rows, int cols, const double *v,
                  double vlo, double vhi, int pattern_id);
/* Vertical colour bar for log10 values [vlo, vhi] at (x, y), w x h px, with the
 * zero and NaN swatches under it. */
void gs_svg_colourbar(FILE *f, double x, double y, double w, double h, double vlo,
                      double vhi, const char *title, int pattern_id);
/* Viridis colour of t in [0, 1] as "#rrggbb". */
void gs_viridis(double t, char out[8]);

/* Tick label for log10 value k: "10^k" with a superscript (or a plain number
 * near 1 when plain is set). */
void gs_svg_pow10(FILE *f, int k, int plain);

#endif
