/* augment.c - pad-and-crop and horizontal flip, in place, seeded.
 *
 * The padded image is never materialised: a sample is copied to scratch and
 * each output pixel reads its source through the crop offset, zero where the
 * source falls in the padding.  The result equals cropping an explicitly
 * zero-padded image (torchvision's RandomCrop(padding=pad), fill 0).  The
 * order of rng draws per sample is part of the contract (augment.h): a seed
 * reproduces a run's augmentation exactly.
 */
#include <stdlib.h>
#include <string.h>
#include "augment.h"

#define AUGMENT_MAX_PAD 1024

void gs_augment_batch(float *x, int N, int C, int H, int W, int pad, int flip, gs_rng *r, float *scratch)
{
    if (pad < 0) pad = 0;
    if ((pad == 0 && !flip) || !x || !r || !scratch || N <= 0 || C <= 0 || H <= 0 || W <= 0) return;
    size_t plane = (size_t)H * (size_t)W, image = (size_t)C * plane;
    for (int s = 0; s < N; s++) {
        float *img = x + (size_t)s * image;
        int dy = pad, dx = pad;           /* offset pad = the centre window: identity */
        if (pad > 0) {
            dy = (int)gs_rng_below(r, (uint64_t)(2 * pad + 1));
            dx = (int)gs_rng_below(r, (uint64_t)(2 * pad + 1));
        }
        int mirror = flip && gs_rng_below(r, 2) == 1;
        if (dy == pad && dx == pad && !mirror) continue;
        memcpy(scratch, img, image * sizeof *img);
        /* Output row i, column j reads source row i + oy, column j + ox
         * (before the mirror); columns j with 0 <= j + ox < W are in range. */
        int oy = dy - pad, ox = dx - pad;
        int j0 = ox < 0 ? -ox : 0, j1 = ox > 0 ? W - ox : W;   /* [j0, j1) in range */
        if (j1 < j0) j1 = j0;
        for (int c = 0; c < C; c++) {
            const float *src = scratch + (size_t)c * plane;
            float *dst = img + (size_t)c * plane;
            for (int i = 0; i < H; i++) {
                float *row = dst + (size_t)i * W;
                int si = i + oy;
                if (si < 0 || si >= H) {
                    memset(row, 0, (size_t)W * sizeof *row);
                    continue;
                }
                const float *srow = src + (size_t)si * W + ox;
                if (!mirror) {
                    for (int j = 0; j < j0; j++) row[j] = 0.0f;
                    for (int j = j0; j < j1; j++) row[j] = srow[j];
                    for (int j = j1; j < W; j++) row[j] = 0.0f;
                } else {
                    for (int j = 0; j < W; j++) {
                        int k = W - 1 - j;        /* the unmirrored column */
                        row[j] = k >= j0 && k < j1 ? srow[k] : 0.0f;
                    }
                }
            }
        }
    }
}

/* Parse a decimal 0..AUGMENT_MAX_PAD filling the whole of [s, end). */
static int parse_pad(const char *s, const char *end, int *out)
{
    if (s == end || end - s > 4) return -1;
    int v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (*s - '0');
    }
    if (v > AUGMENT_MAX_PAD) return -1;
    *out = v;
    return 0;
}

int gs_augment_parse(const char *spec, int *pad, int *flip)
{
    if (!spec || !spec[0] || !pad || !flip) return -1;
    int p = 0, f = 0;
    const char *w = spec;
    for (;;) {
        const char *end = strchr(w, ',');
        if (!end) end = w + strlen(w);
        size_t n = (size_t)(end - w);
        if (n == 4 && memcmp(w, "none", 4) == 0) {
            /* nothing */
        } else if (n == 4 && memcmp(w, "flip", 4) == 0) {
            f = 1;
        } else if (n == 4 && memcmp(w, "crop", 4) == 0) {
            p = 4;
        } else if (n > 5 && memcmp(w, "crop:", 5) == 0) {
            if (parse_pad(w + 5, end, &p) != 0) return -1;
        } else {
            return -1;                    /* unknown or empty word */
        }
        if (!*end) break;
        w = end + 1;
    }
    *pad = p;
    *flip = f;
    return 0;
}
