/* cifar.c - the binary CIFAR-10 batches (data_batch_1..5.bin, test_batch.bin).
 *
 * A batch file is a sequence of 3073-byte records: one label byte (0..9), then
 * 3072 pixel bytes, 1024 red, 1024 green, 1024 blue, each plane 32x32
 * row-major.  That is exactly (C, H, W) order, so a record's pixels become one
 * row of x (n, 3*32*32) in file order, scaled /255.  A file holds 10000
 * records in the official release; any whole number >= 1 is accepted (small
 * test files).  Every file of a split is read and checked (size, labels)
 * before the float arrays are allocated.  Nothing is downloaded: the user
 * brings the files, either directly in DIR or in DIR/cifar-10-batches-bin/
 * (how the official tarball unpacks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io.h"

#define CIFAR_PIXELS (GS_CIFAR_CHANNELS * GS_CIFAR_SIDE * GS_CIFAR_SIDE)
#define CIFAR_TRAIN_FILES 5
#define CIFAR_SUBDIR "cifar-10-batches-bin"

/* Validate a batch: size a whole, non-zero number of records, every label
 * below GS_CIFAR_CLASSES.  *n_out gets the record count. */
static int check_batch(gs_ctx *ctx, const uint8_t *b, size_t len, const char *origin, int64_t *n_out)
{
    if (len == 0)
        return gs_error(ctx, GS_EFORMAT, "%s: file is empty, expected records of %d bytes (1 label + "
                        "3072 pixels)", origin, GS_CIFAR_RECORD_BYTES);
    if (len % GS_CIFAR_RECORD_BYTES != 0)
        return gs_error(ctx, GS_EFORMAT, "%s: file is %zu bytes, not a whole number of %d-byte records "
                        "(%zu records and %zu bytes over: truncated or not a CIFAR-10 batch)", origin,
                        len, GS_CIFAR_RECORD_BYTES, len / GS_CIFAR_RECORD_BYTES,
                        len % GS_CIFAR_RECORD_BYTES);
    size_t n = len / GS_CIFAR_RECORD_BYTES;
    for (size_t i = 0; i < n; i++) {
        int label = b[i * GS_CIFAR_RECORD_BYTES];
        if (label >= GS_CIFAR_CLASSES)
            return gs_error(ctx, GS_EFORMAT, "%s: record %zu (byte offset %zu) has label %d, expected 0 "
                            "to %d", origin, i, i * GS_CIFAR_RECORD_BYTES, label, GS_CIFAR_CLASSES - 1);
    }
    *n_out = (int64_t)n;
    return GS_OK;
}

/* Allocate x and y for n samples; the shape fields too.  Outputs untouched
 * on failure. */
static int alloc_dataset(gs_ctx *ctx, const char *origin, int64_t n, gs_dataset *out)
{
    size_t nx, bx, by;
    if (n <= 0 || (uint64_t)n > SIZE_MAX || !gs_mul_ok((size_t)n, CIFAR_PIXELS, &nx) ||
        !gs_mul_ok(nx, sizeof(float), &bx) || !gs_mul_ok((size_t)n, sizeof(int32_t), &by))
        return gs_error(ctx, GS_EFORMAT, "%s: %lld images is too large", origin, (long long)n);
    float *x = malloc(bx);
    int32_t *y = malloc(by);
    if (!x || !y) {
        free(x);
        free(y);
        return gs_error(ctx, GS_ENOMEM, "%s: out of memory for %lld images", origin, (long long)n);
    }
    out->n = n;
    out->channels = GS_CIFAR_CHANNELS;
    out->height = GS_CIFAR_SIDE;
    out->width = GS_CIFAR_SIDE;
    out->features = CIFAR_PIXELS;
    out->classes = GS_CIFAR_CLASSES;
    out->x = x;
    out->y = y;
    return GS_OK;
}

/* Decode n checked records into x (n, 3072) and y (n,). */
static void decode(const uint8_t *b, int64_t n, float *x, int32_t *y)
{
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *rec = b + (size_t)i * GS_CIFAR_RECORD_BYTES;
        float *xi = x + (size_t)i * CIFAR_PIXELS;
        y[i] = rec[0];
        for (int k = 0; k < CIFAR_PIXELS; k++) xi[k] = (float)rec[1 + k] / 255.0f;
    }
}

int gs_cifar_parse(gs_ctx *ctx, const void *buf, size_t len, const char *origin, gs_dataset *out)
{
    if (!origin) origin = "(cifar10)";
    if (!out || (!buf && len)) return gs_error(ctx, GS_EINVAL, "%s: gs_cifar_parse: NULL argument", origin);
    int64_t n = 0;
    int rc = check_batch(ctx, buf, len, origin, &n);
    if (rc != GS_OK) return rc;
    gs_dataset d = { 0 };
    if ((rc = alloc_dataset(ctx, origin, n, &d)) != GS_OK) return rc;
    decode(buf, n, d.x, d.y);
    *out = d;
    return GS_OK;
}

/* dir + "/" + name, owned; NULL when out of memory. */
static char *join(const char *dir, const char *sub, const char *name)
{
    size_t n = strlen(dir) + (sub ? strlen(sub) + 1 : 0) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p) return NULL;
    if (sub)
        snprintf(p, n, "%s/%s/%s", dir, sub, name);
    else
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Read one batch file and check it (size, labels). */
static int read_batch(gs_ctx *ctx, const char *path, uint8_t **buf, size_t *len, int64_t *n)
{
    int rc = gs_io_read_file(ctx, path, GS_CIFAR_MAX_BYTES, buf, len);
    if (rc == GS_ENOTFOUND)
        return gs_error(ctx, rc, "%s: not found (a CIFAR-10 directory holds data_batch_1.bin .. "
                        "data_batch_5.bin and test_batch.bin)", path);
    if (rc != GS_OK) return rc;
    rc = check_batch(ctx, *buf, *len, path, n);
    if (rc != GS_OK) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

int gs_cifar_load(gs_ctx *ctx, const char *dir, int split, gs_dataset *out)
{
    if (!dir || !out) return gs_error(ctx, GS_EINVAL, "gs_cifar_load: NULL argument");
    if (split != 0 && split != 1)
        return gs_error(ctx, GS_EINVAL, "%s: split %d, expected 0 (train) or 1 (test)", dir, split);
    int n_files = split == 0 ? CIFAR_TRAIN_FILES : 1;
    char name[32];
    uint8_t *bufs[CIFAR_TRAIN_FILES] = { 0 };
    size_t lens[CIFAR_TRAIN_FILES] = { 0 };
    int64_t counts[CIFAR_TRAIN_FILES] = { 0 };
    char *paths[CIFAR_TRAIN_FILES] = { 0 };
    const char *sub = NULL;
    gs_dataset d = { 0 };
    int64_t total = 0;
    int rc = GS_OK;

    /* The first file decides where the batches are: DIR itself, else the
     * tarball's DIR/cifar-10-batches-bin/. */
    snprintf(name, sizeof name, "%s", split == 0 ? "data_batch_1.bin" : "test_batch.bin");
    char *direct = join(dir, NULL, name), *nested = join(dir, CIFAR_SUBDIR, name);
    if (!direct || !nested) {
        free(direct);
        free(nested);
        return gs_error(ctx, GS_ENOMEM, "%s: out of memory", dir);
    }
    rc = read_batch(ctx, direct, &bufs[0], &lens[0], &counts[0]);
    if (rc == GS_ENOTFOUND) {
        rc = read_batch(ctx, nested, &bufs[0], &lens[0], &counts[0]);
        if (rc == GS_OK)
            sub = CIFAR_SUBDIR;
        else if (rc == GS_ENOTFOUND)
            rc = gs_error(ctx, rc, "%s: not found (nor %s); a CIFAR-10 directory holds data_batch_1.bin "
                          ".. data_batch_5.bin and test_batch.bin (the binary version)", direct, nested);
    }
    if (rc != GS_OK) {
        free(direct);
        free(nested);
        return rc;
    }
    paths[0] = sub ? nested : direct;
    free(sub ? direct : nested);
    total = counts[0];

    for (int f = 1; f < n_files; f++) {
        snprintf(name, sizeof name, "data_batch_%d.bin", f + 1);
        if (!(paths[f] = join(dir, sub, name))) {
            rc = gs_error(ctx, GS_ENOMEM, "%s: out of memory", dir);
            goto done;
        }
        if ((rc = read_batch(ctx, paths[f], &bufs[f], &lens[f], &counts[f])) != GS_OK) goto done;
        total += counts[f];
    }

    if ((rc = alloc_dataset(ctx, paths[0], total, &d)) != GS_OK) goto done;
    int64_t at = 0;
    for (int f = 0; f < n_files; f++) {
        decode(bufs[f], counts[f], d.x + (size_t)at * CIFAR_PIXELS, d.y + at);
        at += counts[f];
    }
    *out = d;
done:
    for (int f = 0; f < n_files; f++) {
        free(bufs[f]);
        free(paths[f]);
    }
    return rc;
}
