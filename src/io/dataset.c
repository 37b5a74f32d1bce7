/* dataset.c - whole datasets in memory: IDX pairs (Fashion-MNIST), CIFAR-10
 * (read by cifar.c) and the synthetic sets generated from a seed.
 *
 * A spec names a source; each source is one entry of the table at the end.
 * Images become float32 pixel/255 in (n, C*H*W) order; labels int32, checked
 * against the class count.  Synthetic sets depend only on (seed, split), are
 * identical on every host (xoshiro + libm sin/cos/tanh in double) and draw
 * train and test from different streams of the same distribution.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io.h"

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

static const char *const split_stem[2] = { "train", "t10k" };

void gs_dataset_free(gs_dataset *d)
{
    if (!d) return;
    free(d->x);
    free(d->y);
    free(d);
}

/* Allocate x and y for n samples of `features` floats. */
static int alloc_samples(gs_ctx *ctx, const char *origin, gs_dataset *d, int64_t n, int64_t features)
{
    size_t nx, bx, by;
    if (n <= 0 || features <= 0 || !gs_mul_ok((size_t)n, (size_t)features, &nx) ||
        !gs_mul_ok(nx, sizeof(float), &bx) || !gs_mul_ok((size_t)n, sizeof(int32_t), &by))
        return gs_error(ctx, GS_EFORMAT, "%s: %lld samples of %lld features is too large", origin,
                        (long long)n, (long long)features);
    d->x = malloc(bx);
    d->y = malloc(by);
    if (!d->x || !d->y) {
        free(d->x);
        free(d->y);
        d->x = NULL;
        d->y = NULL;
        return gs_error(ctx, GS_ENOMEM, "%s: out of memory for %lld samples", origin, (long long)n);
    }
    d->n = n;
    d->features = features;
    return GS_OK;
}

/* ---- IDX pairs ---- */

/* Load PREFIX + stem + ".gz", else PREFIX + stem.  *path_out gets the name
 * that was read (owned). */
static int load_idx_file(gs_ctx *ctx, const char *prefix, const char *stem, gs_idx *out, char **path_out)
{
    size_t n = strlen(prefix) + strlen(stem) + 4;
    char *gz = malloc(n), *plain = malloc(n);
    if (!gz || !plain) {
        free(gz);
        free(plain);
        return gs_error(ctx, GS_ENOMEM, "%s%s: out of memory", prefix, stem);
    }
    snprintf(gz, n, "%s%s.gz", prefix, stem);
    snprintf(plain, n, "%s%s", prefix, stem);
    int rc = gs_idx_load(ctx, gz, out);
    if (rc == GS_OK) {
        free(plain);
        *path_out = gz;
        return GS_OK;
    }
    /* Fall back to the plain file when the .gz is absent, or present but this
     * build has no zlib (then a missing plain file reports the zlib problem). */
    if (rc == GS_ENOTFOUND || rc == GS_EUNSUPPORTED) {
        int gz_rc = rc;
        char gz_msg[256];
        snprintf(gz_msg, sizeof gz_msg, "%s", gs_errmsg(ctx));
        rc = gs_idx_load(ctx, plain, out);
        if (rc == GS_OK) {
            free(gz);
            *path_out = plain;
            return GS_OK;
        }
        if (rc == GS_ENOTFOUND && gz_rc == GS_ENOTFOUND)
            rc = gs_error(ctx, rc, "%s: not found (nor %s)", gz, plain);
        else if (rc == GS_ENOTFOUND)
            rc = gs_error(ctx, gz_rc, "%s", gz_msg);
    }
    free(gz);
    free(plain);
    return rc;
}

static int max_label(const gs_idx *labels)
{
    int m = 0;
    for (size_t i = 0; i < labels->nbytes; i++)
        if (labels->data[i] > m) m = labels->data[i];
    return m;
}

/* classes > 0: labels must be below it; classes == 0: derive it from the
 * labels of both splits (see io.h). */
static int load_idx_pair(gs_ctx *ctx, const char *prefix, int split, int classes, gs_dataset *d)
{
    char stem[64];
    char *img_path = NULL, *lab_path = NULL;
    gs_idx img = { 0 }, lab = { 0 };
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", split_stem[split]);
    int rc = load_idx_file(ctx, prefix, stem, &img, &img_path);
    if (rc != GS_OK) goto done;
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", split_stem[split]);
    if ((rc = load_idx_file(ctx, prefix, stem, &lab, &lab_path)) != GS_OK) goto done;
    if (img.ndim != 3) {
        rc = gs_error(ctx, GS_EFORMAT, "%s: images must have 3 dimensions (N, rows, cols), file has %d",
                      img_path, img.ndim);
        goto done;
    }
    if (lab.ndim != 1) {
        rc = gs_error(ctx, GS_EFORMAT, "%s: labels must have 1 dimension, file has %d", lab_path, lab.ndim);
        goto done;
    }
    if (img.dims[0] != lab.dims[0]) {
        rc = gs_error(ctx, GS_EFORMAT, "%s has %lld images but %s has %lld labels", img_path,
                      (long long)img.dims[0], lab_path, (long long)lab.dims[0]);
        goto done;
    }
    int top = max_label(&lab);
    if (classes > 0 && top >= classes) {
        size_t i = 0;
        while (lab.data[i] < classes) i++;
        rc = gs_error(ctx, GS_EFORMAT, "%s: label %d at index %zu is not below the %d classes", lab_path,
                      lab.data[i], i, classes);
        goto done;
    }
    if (classes == 0) {
        /* The other split's labels, when present, so train and test agree
         * (a missing or bad file there is not this split's error: NULL ctx). */
        gs_idx other = { 0 };
        char *other_path = NULL;
        snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", split_stem[1 - split]);
        if (load_idx_file(NULL, prefix, stem, &other, &other_path) == GS_OK) {
            int o = max_label(&other);
            if (o > top) top = o;
            gs_idx_clear(&other);
            free(other_path);
        }
        classes = top + 1;
    }
    d->channels = 1;
    d->height = (int)img.dims[1];
    d->width = (int)img.dims[2];
    d->classes = classes;
    if ((rc = alloc_samples(ctx, img_path, d, img.dims[0], img.dims[1] * img.dims[2])) != GS_OK) goto done;
    for (size_t i = 0; i < img.nbytes; i++) d->x[i] = (float)img.data[i] / 255.0f;
    for (int64_t i = 0; i < d->n; i++) d->y[i] = lab.data[i];
done:
    gs_idx_clear(&img);
    gs_idx_clear(&lab);
    free(img_path);
    free(lab_path);
    return rc;
}

static int load_fashion(gs_ctx *ctx, const char *arg, int split, uint64_t seed, gs_dataset *d)
{
    (void)arg; (void)seed;
    const char *dir = getenv("GS_FASHION_MNIST_DIR");
    if (!dir || !dir[0]) dir = FASHION_MNIST_DIR;
    size_t n = strlen(dir) + 2;
    char *prefix = malloc(n);
    if (!prefix) return gs_error(ctx, GS_ENOMEM, "fashion-mnist: out of memory");
    snprintf(prefix, n, "%s/", dir);
    int rc = load_idx_pair(ctx, prefix, split, 10, d);
    if (rc == GS_ENOTFOUND) {
        char msg[sizeof ctx->errmsg];
        snprintf(msg, sizeof msg, "%s", gs_errmsg(ctx));
        rc = gs_error(ctx, rc, "fashion-mnist: %s; install Debian's dataset-fashion-mnist or set "
                      "GS_FASHION_MNIST_DIR", msg);
    }
    free(prefix);
    return rc;
}

static int load_idx_spec(gs_ctx *ctx, const char *arg, int split, uint64_t seed, gs_dataset *d)
{
    (void)seed;
    return load_idx_pair(ctx, arg, split, 0, d);
}

static int load_cifar10(gs_ctx *ctx, const char *arg, int split, uint64_t seed, gs_dataset *d)
{
    (void)seed;
    return gs_cifar_load(ctx, arg, split, d);
}

/* ---- synthetic sets ---- */

/* Independent streams per purpose and split. */
static void seed_stream(gs_rng *r, uint64_t seed, uint64_t stream)
{
    gs_rng_seed(r, seed ^ (0x9E3779B97F4A7C15ull * (stream + 1)));
}

#define SYNTH_TRAIN 10000
#define SYNTH_TEST 2000
#define SPIRAL_CLASSES 3
#define TEACHER_IN 32
#define TEACHER_WIDTH 64
#define TEACHER_LAYERS 4
#define TEACHER_CLASSES 10

static int gen_spirals(gs_ctx *ctx, const char *arg, int split, uint64_t seed, gs_dataset *d)
{
    (void)arg;
    gs_rng r;
    seed_stream(&r, seed, 10 + (uint64_t)split);
    int rc = alloc_samples(ctx, "spirals", d, split ? SYNTH_TEST : SYNTH_TRAIN, 2);
    if (rc != GS_OK) return rc;
    d->channels = 1;
    d->height = 1;
    d->width = 2;
    d->classes = SPIRAL_CLASSES;
    /* Arm k: radius t in [0, 1), angle 2 pi k / K + 2.5 pi t (1.25 turns), with
     * a little angular and positional noise; labels cycle so classes balance. */
    for (int64_t i = 0; i < d->n; i++) {
        int k = (int)(i % SPIRAL_CLASSES);
        double t = gs_rng_uniform(&r);
        double theta = 6.283185307179586 * k / SPIRAL_CLASSES + 7.853981633974483 * t +
                       0.15 * gs_rng_normal(&r);
        d->x[2 * i] = (float)(t * cos(theta) + 0.02 * gs_rng_normal(&r));
        d->x[2 * i + 1] = (float)(t * sin(theta) + 0.02 * gs_rng_normal(&r));
        d->y[i] = k;
    }
    return GS_OK;
}

static int gen_teacher(gs_ctx *ctx, const char *arg, int split, uint64_t seed, gs_dataset *d)
{
    (void)arg;
    enum { HIDDEN_W = TEACHER_WIDTH * TEACHER_IN + (TEACHER_LAYERS - 1) * TEACHER_WIDTH * TEACHER_WIDTH };
    size_t n_weights = HIDDEN_W + TEACHER_CLASSES * TEACHER_WIDTH;
    double *w = malloc(n_weights * sizeof *w);
    if (!w) return gs_error(ctx, GS_ENOMEM, "teacher: out of memory");
    /* The teacher depends on the seed only: train and test share it. */
    gs_rng r;
    seed_stream(&r, seed, 0);
    double *p = w;
    for (int l = 0; l <= TEACHER_LAYERS; l++) {
        int fan_in = l == 0 ? TEACHER_IN : TEACHER_WIDTH;
        int fan_out = l == TEACHER_LAYERS ? TEACHER_CLASSES : TEACHER_WIDTH;
        double sd = 1.0 / sqrt((double)fan_in);
        for (int i = 0; i < fan_out * fan_in; i++) *p++ = sd * gs_rng_normal(&r);
    }
    int rc = alloc_samples(ctx, "teacher", d, split ? SYNTH_TEST : SYNTH_TRAIN, TEACHER_IN);
    if (rc != GS_OK) {
        free(w);
        return rc;
    }
    d->channels = 1;
    d->height = 1;
    d->width = TEACHER_IN;
    d->classes = TEACHER_CLASSES;
    seed_stream(&r, seed, 20 + (uint64_t)split);
    for (int64_t s = 0; s < d->n; s++) {
        double a[TEACHER_WIDTH], b[TEACHER_WIDTH];
        float *x = d->x + s * TEACHER_IN;
        for (int i = 0; i < TEACHER_IN; i++) {
            x[i] = (float)gs_rng_normal(&r);
            a[i] = x[i];
        }
        const double *wl = w;
        int in = TEACHER_IN;
        for (int l = 0; l <= TEACHER_LAYERS; l++) {
            int outn = l == TEACHER_LAYERS ? TEACHER_CLASSES : TEACHER_WIDTH;
            for (int o = 0; o < outn; o++) {
                double z = 0;
                for (int i = 0; i < in; i++) z += wl[o * in + i] * a[i];
                b[o] = l == TEACHER_LAYERS ? z : tanh(z);
            }
            wl += outn * in;
            in = outn;
            memcpy(a, b, (size_t)outn * sizeof *a);
        }
        int best = 0;
        for (int c = 1; c < TEACHER_CLASSES; c++)
            if (a[c] > a[best]) best = c;
        d->y[s] = best;
    }
    free(w);
    return GS_OK;
}

/* ---- the sources ---- */
typedef int (*source_fn)(gs_ctx *ctx, const char *arg, int split, uint64_t seed, gs_dataset *d);
static const struct {
    const char *name;        /* exact name, or a prefix ending in ':' taking an argument */
    source_fn load;
} sources[] = {
    { "fashion-mnist", load_fashion },
    { "idx:", load_idx_spec },
    { "cifar10:", load_cifar10 },
    { "spirals", gen_spirals },
    { "teacher", gen_teacher },
};

int gs_dataset_load(gs_ctx *ctx, const char *spec, int split, uint64_t seed, gs_dataset **out)
{
    if (!spec || !out) return gs_error(ctx, GS_EINVAL, "gs_dataset_load: NULL spec or output");
    if (split != 0 && split != 1)
        return gs_error(ctx, GS_EINVAL, "%s: split %d, expected 0 (train) or 1 (test)", spec, split);
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        const char *name = sources[i].name;
        size_t n = strlen(name);
        int prefix = name[n - 1] == ':';
        if (prefix ? strncmp(spec, name, n) != 0 : strcmp(spec, name) != 0) continue;
        const char *arg = prefix ? spec + n : "";
        if (prefix && !arg[0])
            return gs_error(ctx, GS_EINVAL, "%s: missing argument after '%s'", spec, name);
        gs_dataset *d = calloc(1, sizeof *d);
        if (!d) return gs_error(ctx, GS_ENOMEM, "%s: out of memory", spec);
        int rc = sources[i].load(ctx, arg, split, seed, d);
        if (rc != GS_OK) {
            gs_dataset_free(d);
            return rc;
        }
        *out = d;
        return GS_OK;
    }
    return gs_error(ctx, GS_EINVAL, "unknown dataset \"%s\" (known: fashion-mnist, idx:PREFIX, "
                    "cifar10:DIR, spirals, teacher)", spec);
}
