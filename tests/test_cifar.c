/* test_cifar.c - the CIFAR-10 binary reader and image augmentation.
 *
 * Batch files are made here in the CIFAR-10 format (a few records each, with
 * pixel values that encode record, channel, row and column) in a fresh
 * temporary directory that is removed at the end; nothing is downloaded.
 * Corrupt files must give the right code and a message naming the file.
 * Augmentation is checked against an explicit pad-then-crop-then-mirror
 * oracle, plus identities, a known shift, determinism and flip frequency.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "io/augment.h"
#include "io/io.h"

#define REC GS_CIFAR_RECORD_BYTES
#define PIX 3072

static gs_ctx *ctx;
static char tmpdir[64];

#define CHECK_ERR(rc, code, needle) do { \
    int t_rc = (rc); const char *t_m = gs_errmsg(ctx); \
    CHECK(t_rc == (code), "got %d (%s), expected %d; message: %s", t_rc, gs_strerror(t_rc), (code), t_m); \
    CHECK(strstr(t_m, (needle)) != NULL, "message \"%s\" lacks \"%s\"", t_m, (needle)); \
    } while (0)

/* Pixel byte of global record g, channel c, row i, column j: distinct per
 * channel so a channel-order mix-up shows. */
static uint8_t pixel(int g, int c, int i, int j)
{
    return (uint8_t)((g * 7 + c * 85 + i * 3 + j) & 0xff);
}

static int label_of(int g) { return (g * 3 + 1) % 10; }

/* n records for global indices g0.. in memory (caller frees). */
static uint8_t *make_records(int g0, int n)
{
    uint8_t *b = malloc((size_t)n * REC);
    for (int r = 0; r < n; r++) {
        uint8_t *rec = b + (size_t)r * REC;
        rec[0] = (uint8_t)label_of(g0 + r);
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 32; i++)
                for (int j = 0; j < 32; j++) rec[1 + c * 1024 + i * 32 + j] = pixel(g0 + r, c, i, j);
    }
    return b;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    if (len && fwrite(data, 1, len, f) != len) { perror(path); exit(2); }
    fclose(f);
}

static const char *path_in(const char *dir, const char *name)
{
    static char bufs[4][512];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 512, "%s/%s", dir, name);
    return b;
}

/* A fresh sub-directory of tmpdir. */
static const char *make_dir(const char *name)
{
    static char bufs[8][256];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, 256, "%s/%s", tmpdir, name);
    mkdir(b, 0700);
    return b;
}

/* The five training batches of n_per records each, then a test batch of
 * n_test records (global indices continue). */
static void write_split_files(const char *dir, int n_per, int n_test)
{
    char name[32];
    for (int f = 0; f < 5; f++) {
        uint8_t *b = make_records(f * n_per, n_per);
        snprintf(name, sizeof name, "data_batch_%d.bin", f + 1);
        write_bytes(path_in(dir, name), b, (size_t)n_per * REC);
        free(b);
    }
    uint8_t *b = make_records(5 * n_per, n_test);
    write_bytes(path_in(dir, "test_batch.bin"), b, (size_t)n_test * REC);
    free(b);
}

/* Every field, pixel and label of d against records g0 .. g0 + n - 1. */
static void check_dataset(const gs_dataset *d, int g0, int n)
{
    CHECK_EQ_INT(d->n, n);
    CHECK_EQ_INT(d->channels, 3);
    CHECK_EQ_INT(d->height, 32);
    CHECK_EQ_INT(d->width, 32);
    CHECK_EQ_INT(d->features, 3072);
    CHECK_EQ_INT(d->classes, 10);
    int bad_x = 0, bad_y = 0;
    double worst = 0;
    for (int r = 0; r < n && r < d->n; r++) {
        if (d->y[r] != label_of(g0 + r)) bad_y++;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 32; i++)
                for (int j = 0; j < 32; j++) {
                    double want = pixel(g0 + r, c, i, j) / 255.0;
                    double got = d->x[(size_t)r * PIX + (size_t)c * 1024 + (size_t)i * 32 + j];
                    if (fabs(got - want) > worst) worst = fabs(got - want);
                    if (fabs(got - want) > 1e-6) bad_x++;
                }
    }
    CHECK(bad_x == 0, "%d pixels differ, worst |error| %g", bad_x, worst);
    CHECK(bad_y == 0, "%d labels differ", bad_y);
}

/* ---------------------------------------------------------------- reader */

static void test_parse_buffer(void)
{
    uint8_t *b = make_records(0, 3);
    /* Channel order spelled out for record 1: red plane all 200, green 100,
     * blue 50; x keeps the file's (C, H, W) order. */
    memset(b + REC + 1, 200, 1024);
    memset(b + REC + 1 + 1024, 100, 1024);
    memset(b + REC + 1 + 2048, 50, 1024);
    gs_dataset d = { 0 };
    CHECK_EQ_INT(gs_cifar_parse(ctx, b, 3 * REC, "mem.bin", &d), GS_OK);
    CHECK_EQ_INT(d.n, 3);
    CHECK_EQ_INT(d.classes, 10);
    if (d.n == 3) {
        CHECK_NEAR(d.x[PIX + 0], 200 / 255.0, 1e-7, 0);
        CHECK_NEAR(d.x[PIX + 1023], 200 / 255.0, 1e-7, 0);
        CHECK_NEAR(d.x[PIX + 1024], 100 / 255.0, 1e-7, 0);
        CHECK_NEAR(d.x[PIX + 2047], 100 / 255.0, 1e-7, 0);
        CHECK_NEAR(d.x[PIX + 2048], 50 / 255.0, 1e-7, 0);
        CHECK_NEAR(d.x[2 * PIX - 1], 50 / 255.0, 1e-7, 0);
        /* Record 0 and 2 untouched: row 5, column 9 of the green plane. */
        CHECK_NEAR(d.x[1024 + 5 * 32 + 9], pixel(0, 1, 5, 9) / 255.0, 1e-7, 0);
        CHECK_NEAR(d.x[2 * PIX + 2048 + 31 * 32 + 31], pixel(2, 2, 31, 31) / 255.0, 1e-7, 0);
        CHECK_EQ_INT(d.y[0], label_of(0));
        CHECK_EQ_INT(d.y[1], label_of(1));
        CHECK_EQ_INT(d.y[2], label_of(2));
    }
    free(d.x);
    free(d.y);
    /* Extreme bytes: 0 -> 0, 255 -> 1 exactly. */
    b[1] = 0;
    b[2] = 255;
    gs_dataset e = { 0 };
    CHECK_EQ_INT(gs_cifar_parse(ctx, b, REC, NULL, &e), GS_OK);
    if (e.n == 1) {
        CHECK(e.x[0] == 0.0f, "x[0] = %g", e.x[0]);
        CHECK(e.x[1] == 1.0f, "x[1] = %g", e.x[1]);
    }
    free(e.x);
    free(e.y);
    /* Errors in memory: origin named, output untouched. */
    gs_dataset u = { .n = -5 };
    CHECK_ERR(gs_cifar_parse(ctx, b, 2 * REC + 100, "short.bin", &u), GS_EFORMAT, "short.bin");
    CHECK(strstr(gs_errmsg(ctx), "3073"), "%s", gs_errmsg(ctx));
    CHECK_ERR(gs_cifar_parse(ctx, b, 0, "none.bin", &u), GS_EFORMAT, "empty");
    b[2 * REC] = 10;
    CHECK_ERR(gs_cifar_parse(ctx, b, 3 * REC, "lab.bin", &u), GS_EFORMAT, "record 2");
    CHECK(strstr(gs_errmsg(ctx), "label 10") && strstr(gs_errmsg(ctx), "lab.bin"), "%s", gs_errmsg(ctx));
    CHECK_ERR(gs_cifar_parse(ctx, NULL, 5, "x", &u), GS_EINVAL, "NULL");
    CHECK(u.n == -5 && u.x == NULL && u.y == NULL, "output untouched");
    free(b);
}

/* Every prefix length of a valid 2-record file: only the two whole lengths
 * parse; the rest are GS_EFORMAT, and nothing leaks (ASan build). */
static void test_parse_every_length(void)
{
    uint8_t *b = make_records(0, 2);
    int ok = 0, fmt = 0, other = 0;
    for (size_t len = 0; len <= 2 * REC; len++) {
        gs_dataset d = { 0 };
        int rc = gs_cifar_parse(ctx, b, len, "cut.bin", &d);
        if (rc == GS_OK) {
            ok++;
            CHECK(len % REC == 0, "length %zu accepted", len);
            free(d.x);
            free(d.y);
        } else if (rc == GS_EFORMAT) {
            fmt++;
        } else {
            other++;
        }
    }
    CHECK_EQ_INT(ok, 2);
    CHECK_EQ_INT(fmt, 2 * REC - 1);
    CHECK_EQ_INT(other, 0);
    free(b);
}

static void test_load_splits(void)
{
    const char *dir = make_dir("flat");
    write_split_files(dir, 7, 4);
    char spec[300];
    snprintf(spec, sizeof spec, "cifar10:%s", dir);
    gs_dataset *d = NULL;
    CHECK_EQ_INT(gs_dataset_load(ctx, spec, 0, 0, &d), GS_OK);
    if (d) check_dataset(d, 0, 35);
    gs_dataset_free(d);
    d = NULL;
    CHECK_EQ_INT(gs_dataset_load(ctx, spec, 1, 0, &d), GS_OK);
    if (d) check_dataset(d, 35, 4);
    gs_dataset_free(d);
    /* Direct call: the same result, outputs in a caller's struct. */
    gs_dataset s = { 0 };
    CHECK_EQ_INT(gs_cifar_load(ctx, dir, 1, &s), GS_OK);
    check_dataset(&s, 35, 4);
    free(s.x);
    free(s.y);
    CHECK_ERR(gs_cifar_load(ctx, dir, 2, &s), GS_EINVAL, "split 2");
}

/* The official tarball unpacks to DIR/cifar-10-batches-bin/. */
static void test_load_tarball_layout(void)
{
    make_dir("tar");
    const char *sub = make_dir("tar/cifar-10-batches-bin");
    write_split_files(sub, 2, 3);
    char spec[300];
    snprintf(spec, sizeof spec, "cifar10:%s/tar", tmpdir);
    gs_dataset *d = NULL;
    CHECK_EQ_INT(gs_dataset_load(ctx, spec, 0, 0, &d), GS_OK);
    if (d) check_dataset(d, 0, 10);
    gs_dataset_free(d);
    d = NULL;
    CHECK_EQ_INT(gs_dataset_load(ctx, spec, 1, 0, &d), GS_OK);
    if (d) check_dataset(d, 10, 3);
    gs_dataset_free(d);
}

static void test_load_errors(void)
{
    char spec[300];
    gs_dataset *d = NULL;
    uint8_t *b = make_records(0, 7);

    /* Truncated: data_batch_2.bin loses 5 bytes. */
    const char *dir = make_dir("trunc");
    write_split_files(dir, 7, 2);
    write_bytes(path_in(dir, "data_batch_2.bin"), b, 7 * REC - 5);
    snprintf(spec, sizeof spec, "cifar10:%s", dir);
    CHECK_ERR(gs_dataset_load(ctx, spec, 0, 0, &d), GS_EFORMAT, "data_batch_2.bin");
    CHECK(strstr(gs_errmsg(ctx), "not a whole number of 3073-byte records"), "%s", gs_errmsg(ctx));
    CHECK(d == NULL, "output untouched");
    /* The test split of the same directory is fine. */
    CHECK_EQ_INT(gs_dataset_load(ctx, spec, 1, 0, &d), GS_OK);
    gs_dataset_free(d);
    d = NULL;

    /* A label of 12 in record 4 of data_batch_5.bin. */
    dir = make_dir("label");
    write_split_files(dir, 7, 2);
    b[4 * REC] = 12;
    write_bytes(path_in(dir, "data_batch_5.bin"), b, 7 * REC);
    b[4 * REC] = 0;
    snprintf(spec, sizeof spec, "cifar10:%s", dir);
    CHECK_ERR(gs_dataset_load(ctx, spec, 0, 0, &d), GS_EFORMAT, "data_batch_5.bin");
    CHECK(strstr(gs_errmsg(ctx), "label 12") && strstr(gs_errmsg(ctx), "record 4"), "%s", gs_errmsg(ctx));
    CHECK(d == NULL, "output untouched");

    /* A missing data_batch_3.bin. */
    dir = make_dir("missing");
    write_split_files(dir, 7, 2);
    remove(path_in(dir, "data_batch_3.bin"));
    snprintf(spec, sizeof spec, "cifar10:%s", dir);
    CHECK_ERR(gs_dataset_load(ctx, spec, 0, 0, &d), GS_ENOTFOUND, "data_batch_3.bin");
    CHECK(strstr(gs_errmsg(ctx), dir), "%s", gs_errmsg(ctx));
    CHECK(d == NULL, "output untouched");

    /* An empty test_batch.bin. */
    dir = make_dir("zero");
    write_split_files(dir, 7, 2);
    write_bytes(path_in(dir, "test_batch.bin"), b, 0);
    snprintf(spec, sizeof spec, "cifar10:%s", dir);
    CHECK_ERR(gs_dataset_load(ctx, spec, 1, 0, &d), GS_EFORMAT, "test_batch.bin");
    CHECK(strstr(gs_errmsg(ctx), "file is empty"), "%s", gs_errmsg(ctx));
    CHECK(d == NULL, "output untouched");

    /* No batches at all: both places named. */
    dir = make_dir("nothing");
    snprintf(spec, sizeof spec, "cifar10:%s", dir);
    CHECK_ERR(gs_dataset_load(ctx, spec, 0, 0, &d), GS_ENOTFOUND, "data_batch_1.bin");
    CHECK(strstr(gs_errmsg(ctx), "cifar-10-batches-bin"), "%s", gs_errmsg(ctx));
    CHECK_ERR(gs_dataset_load(ctx, spec, 1, 0, &d), GS_ENOTFOUND, "test_batch.bin");
    CHECK_ERR(gs_dataset_load(ctx, "cifar10:/nonexistent/cifar", 0, 0, &d), GS_ENOTFOUND,
              "/nonexistent/cifar/data_batch_1.bin");
    CHECK_ERR(gs_dataset_load(ctx, "cifar10:", 0, 0, &d), GS_EINVAL, "missing argument");
    CHECK(d == NULL, "output untouched");

    /* gs_cifar_load leaves a caller's struct untouched on failure. */
    gs_dataset s = { .n = 99 };
    CHECK_ERR(gs_cifar_load(ctx, path_in(tmpdir, "label"), 0, &s), GS_EFORMAT, "label 12");
    CHECK(s.n == 99 && s.x == NULL, "output untouched");
    free(b);
}

/* ---------------------------------------------------------------- augmentation */

/* The oracle: zero-pad explicitly, crop at (dy, dx), mirror if asked. */
static void augment_ref(float *img, int C, int H, int W, int pad, int dy, int dx, int mirror)
{
    int Hp = H + 2 * pad, Wp = W + 2 * pad;
    float *p = calloc((size_t)C * Hp * Wp, sizeof *p);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                p[((size_t)c * Hp + i + pad) * Wp + j + pad] = img[((size_t)c * H + i) * W + j];
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                int jj = mirror ? W - 1 - j : j;
                img[((size_t)c * H + i) * W + j] = p[((size_t)c * Hp + i + dy) * Wp + jj + dx];
            }
    free(p);
}

static void fill_distinct(float *x, size_t n, float base)
{
    for (size_t k = 0; k < n; k++) x[k] = base + 1.0f + (float)k;   /* never 0: padding shows */
}

static void test_augment_oracle(void)
{
    /* Shapes: CIFAR's, non-square, tiny, pad larger than the image. */
    static const int shapes[][5] = { /* N C H W pad */
        { 6, 3, 32, 32, 4 }, { 9, 2, 5, 7, 2 }, { 8, 1, 1, 3, 1 }, { 7, 2, 3, 4, 6 }, { 5, 3, 6, 6, 0 },
    };
    int bad = 0, cases = 0;
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        int N = shapes[t][0], C = shapes[t][1], H = shapes[t][2], W = shapes[t][3], pad = shapes[t][4];
        for (int flip = 0; flip <= 1; flip++) {
            size_t image = (size_t)C * H * W;
            float *x = malloc(N * image * sizeof *x), *want = malloc(N * image * sizeof *x);
            float *scratch = malloc(gs_augment_scratch_floats(C, H, W, pad) * sizeof *scratch);
            fill_distinct(x, N * image, 0);
            memcpy(want, x, N * image * sizeof *x);
            gs_rng r, shadow;
            gs_rng_seed(&r, 1000 + t);
            shadow = r;
            /* The draws augment.h promises, in its order. */
            for (int s = 0; s < N; s++) {
                int dy = pad, dx = pad, mirror = 0;
                if (pad > 0) {
                    dy = (int)gs_rng_below(&shadow, 2 * pad + 1);
                    dx = (int)gs_rng_below(&shadow, 2 * pad + 1);
                }
                if (flip) mirror = gs_rng_below(&shadow, 2) == 1;
                augment_ref(want + s * image, C, H, W, pad, dy, dx, mirror);
            }
            gs_augment_batch(x, N, C, H, W, pad, flip, &r, scratch);
            for (size_t k = 0; k < N * image; k++) bad += x[k] != want[k];
            CHECK(memcmp(&r, &shadow, sizeof r) == 0, "rng state after the batch (shape %zu flip %d)", t, flip);
            cases++;
            free(x);
            free(want);
            free(scratch);
        }
    }
    CHECK(bad == 0, "%d pixels differ from the explicit pad-crop-mirror oracle", bad);
    CHECK_EQ_INT(cases, 10);
}

static void test_augment_identities(void)
{
    enum { N = 4, C = 3, H = 8, W = 8 };
    float x[N * C * H * W], orig[N * C * H * W], scratch[C * (H + 8) * (W + 8)];
    fill_distinct(orig, N * C * H * W, 0);
    /* pad 0, no flip: identity, no draws. */
    memcpy(x, orig, sizeof x);
    gs_rng r, r0;
    gs_rng_seed(&r, 5);
    r0 = r;
    gs_augment_batch(x, N, C, H, W, 0, 0, &r, scratch);
    CHECK(memcmp(x, orig, sizeof x) == 0, "pad 0, no flip changed the images");
    CHECK(memcmp(&r, &r0, sizeof r) == 0, "pad 0, no flip drew from the rng");

    /* Flip with a fixed choice: a seed whose first draw flips the one image. */
    uint64_t seed = 0;
    for (;; seed++) {
        gs_rng_seed(&r, seed);
        if (gs_rng_below(&r, 2) == 1) break;
    }
    memcpy(x, orig, sizeof x);
    gs_rng_seed(&r, seed);
    gs_augment_batch(x, 1, C, H, W, 0, 1, &r, scratch);
    int bad = 0;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                bad += x[(c * H + i) * W + j] != orig[(c * H + i) * W + (W - 1 - j)];
    CHECK(bad == 0, "%d pixels are not the mirror image", bad);
    gs_rng_seed(&r, seed);
    gs_augment_batch(x, 1, C, H, W, 0, 1, &r, scratch);
    CHECK(memcmp(x, orig, C * H * W * sizeof *x) == 0, "flip twice is not the identity");
    /* The other images of the batch were not touched by a 1-image call. */
    CHECK(memcmp(x + C * H * W, orig + C * H * W, (N - 1) * C * H * W * sizeof *x) == 0, "others touched");

    /* pad > 0 with offset (pad, pad) is the centre window: identity. */
    for (seed = 0;; seed++) {
        gs_rng_seed(&r, seed);
        if (gs_rng_below(&r, 9) == 4 && gs_rng_below(&r, 9) == 4) break;
    }
    memcpy(x, orig, sizeof x);
    gs_rng_seed(&r, seed);
    gs_augment_batch(x, 1, C, H, W, 4, 0, &r, scratch);
    CHECK(memcmp(x, orig, C * H * W * sizeof *x) == 0, "centre crop is not the identity");
}

/* A known shift: offset (0, 3) with pad 2 moves the content down 2 rows and
 * left 1 column: out[i][j] = in[i - 2][j + 1], zero in rows 0-1 and the last
 * column. */
static void test_augment_known_shift(void)
{
    enum { C = 2, H = 5, W = 6, PAD = 2 };
    float x[C * H * W], orig[C * H * W], scratch[C * (H + 2 * PAD) * (W + 2 * PAD)];
    fill_distinct(orig, C * H * W, 0);
    memcpy(x, orig, sizeof x);
    uint64_t seed;
    gs_rng r;
    for (seed = 0;; seed++) {
        gs_rng_seed(&r, seed);
        if (gs_rng_below(&r, 5) == 0 && gs_rng_below(&r, 5) == 3) break;
    }
    gs_rng_seed(&r, seed);
    gs_augment_batch(x, 1, C, H, W, PAD, 0, &r, scratch);
    int bad = 0, zeros = 0;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                float got = x[(c * H + i) * W + j];
                int si = i - 2, sj = j + 1;
                float want = si >= 0 && sj < W ? orig[(c * H + si) * W + sj] : 0.0f;
                bad += got != want;
                zeros += got == 0.0f;
            }
    CHECK(bad == 0, "%d pixels misplaced by the (0, 3) crop", bad);
    /* Rows 0-1 (2 x 6) and column 5 of rows 2-4 (3): 15 zeros per channel. */
    CHECK_EQ_INT(zeros, C * 15);
    /* Spot checks: channel 1, row 2, column 0 holds input (1, 0, 1). */
    CHECK_NEAR(x[(1 * H + 2) * W + 0], orig[(1 * H + 0) * W + 1], 0, 0);
    CHECK_NEAR(x[(0 * H + 4) * W + 4], orig[(0 * H + 2) * W + 5], 0, 0);
}

static void test_augment_determinism(void)
{
    enum { N = 16, C = 3, H = 32, W = 32, PAD = 4 };
    size_t n = (size_t)N * C * H * W;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    float *scratch = malloc(gs_augment_scratch_floats(C, H, W, PAD) * sizeof *scratch);
    fill_distinct(a, n, 0);
    memcpy(b, a, n * sizeof *a);
    memcpy(c, a, n * sizeof *a);
    gs_rng r1, r2, r3;
    gs_rng_seed(&r1, 42);
    gs_rng_seed(&r2, 42);
    gs_rng_seed(&r3, 43);
    gs_augment_batch(a, N, C, H, W, PAD, 1, &r1, scratch);
    gs_augment_batch(b, N, C, H, W, PAD, 1, &r2, scratch);
    gs_augment_batch(c, N, C, H, W, PAD, 1, &r3, scratch);
    CHECK(memcmp(a, b, n * sizeof *a) == 0, "same seed, different augmentation");
    CHECK(memcmp(a, c, n * sizeof *a) != 0, "seeds 42 and 43 gave the same augmentation");
    free(a);
    free(b);
    free(c);
    free(scratch);
}

/* Over many samples both flip outcomes occur about half the time and every
 * crop offset 0..2 pad occurs. */
static void test_augment_frequencies(void)
{
    enum { N = 4000, W = 4, H = 3, PAD = 2 };
    float *x = malloc((size_t)N * H * W * sizeof *x), scratch[(H + 2 * PAD) * (W + 2 * PAD)];
    /* Image: value 1 + j in every row; flipped iff the centre row reads W..1. */
    for (int s = 0; s < N; s++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) x[(s * H + i) * W + j] = 1.0f + j;
    gs_rng r;
    gs_rng_seed(&r, 7);
    gs_augment_batch(x, N, 1, H, W, 0, 1, &r, scratch);
    int flipped = 0, kept = 0;
    for (int s = 0; s < N; s++) {
        const float *row = x + (size_t)s * H * W;
        if (row[0] == (float)W && row[W - 1] == 1.0f) flipped++;
        else if (row[0] == 1.0f && row[W - 1] == (float)W) kept++;
    }
    CHECK_EQ_INT(flipped + kept, N);
    CHECK(flipped > N * 0.45 && kept > N * 0.45, "flipped %d, kept %d of %d", flipped, kept, N);

    /* Crop offsets, read back from the oracle's draws. */
    int seen[2 * PAD + 1][2 * PAD + 1] = { { 0 } };
    gs_rng_seed(&r, 8);
    for (int s = 0; s < N; s++) {
        int dy = (int)gs_rng_below(&r, 2 * PAD + 1), dx = (int)gs_rng_below(&r, 2 * PAD + 1);
        seen[dy][dx]++;
    }
    int missing = 0;
    for (int a = 0; a <= 2 * PAD; a++)
        for (int b = 0; b <= 2 * PAD; b++) missing += seen[a][b] == 0;
    CHECK_EQ_INT(missing, 0);
    free(x);
}

static void test_augment_parse(void)
{
    int pad = -7, flip = -7;
    CHECK_EQ_INT(gs_augment_parse("crop,flip", &pad, &flip), 0);
    CHECK_EQ_INT(pad, 4);
    CHECK_EQ_INT(flip, 1);
    CHECK_EQ_INT(gs_augment_parse("crop", &pad, &flip), 0);
    CHECK_EQ_INT(pad, 4);
    CHECK_EQ_INT(flip, 0);
    CHECK_EQ_INT(gs_augment_parse("flip", &pad, &flip), 0);
    CHECK_EQ_INT(pad, 0);
    CHECK_EQ_INT(flip, 1);
    CHECK_EQ_INT(gs_augment_parse("crop:2,flip", &pad, &flip), 0);
    CHECK_EQ_INT(pad, 2);
    CHECK_EQ_INT(flip, 1);
    CHECK_EQ_INT(gs_augment_parse("flip,crop:12", &pad, &flip), 0);
    CHECK_EQ_INT(pad, 12);
    CHECK_EQ_INT(gs_augment_parse("crop:0", &pad, &flip), 0);
    CHECK_EQ_INT(pad, 0);
    CHECK_EQ_INT(gs_augment_parse("none", &pad, &flip), 0);
    CHECK_EQ_INT(pad, 0);
    CHECK_EQ_INT(flip, 0);
    static const char *const bad[] = { "", "rotate", "crop,", ",flip", "crop:", "crop:x", "crop:-1",
                                       "crop:99999", "crop:4x", "Flip", "crop flip", "cropflip" };
    pad = 33;
    flip = 44;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(gs_augment_parse(bad[i], &pad, &flip) == -1, "\"%s\" accepted", bad[i]);
        CHECK(pad == 33 && flip == 44, "outputs changed by \"%s\"", bad[i]);
    }
    CHECK_EQ_INT(gs_augment_parse(NULL, &pad, &flip), -1);
}

/* Remove tmpdir and everything this file made under it. */
static void remove_tmpdir(void)
{
    static const char *const dirs[] = { "flat", "tar/cifar-10-batches-bin", "tar", "trunc", "label",
                                        "missing", "zero", "nothing", "." };
    static const char *const files[] = { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                         "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin" };
    char p[256];
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
            snprintf(p, sizeof p, "%s/%s/%s", tmpdir, dirs[d], files[f]);
            remove(p);
        }
        snprintf(p, sizeof p, "%s/%s", tmpdir, dirs[d]);
        rmdir(p);
    }
    rmdir(tmpdir);
}

int main(void)
{
    ctx = gs_ctx_create();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gs_test_cifar_XXXXXX");
    if (!ctx || !mkdtemp(tmpdir)) {
        perror("test_cifar setup");
        return 2;
    }
    RUN(test_parse_buffer);
    RUN(test_parse_every_length);
    RUN(test_load_splits);
    RUN(test_load_tarball_layout);
    RUN(test_load_errors);
    RUN(test_augment_oracle);
    RUN(test_augment_identities);
    RUN(test_augment_known_shift);
    RUN(test_augment_determinism);
    RUN(test_augment_frequencies);
    RUN(test_augment_parse);
    remove_tmpdir();
    gs_ctx_free(ctx);
    return FINISH();
}
