/* test_tfevents.c - TensorBoard event files: CRC-32C vectors, write/read round
 * trips of scalars and histograms, TensorFlow's bucket rules, corrupted and
 * truncated files, argument errors, a failing disk (RLIMIT_FSIZE) that must
 * leave earlier records intact, and an independent decode of the same file by
 * tests/ref/read_tfevents.py through the protobuf runtime (Debian's
 * python3-protobuf, run with /usr/bin/python3).
 *
 * Files live in a fresh temporary directory, removed at the end.
 */
#include <float.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "io/io.h"
#include "io/json.h"
#include "io/tfevents.h"

static gs_ctx *ctx;
static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

static unsigned char *read_bytes(const char *path, size_t *len)
{
    uint8_t *b = NULL;
    if (gs_io_read_file(ctx, path, (size_t)1 << 30, &b, len) != GS_OK) return NULL;
    return b;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len)) { perror(path); exit(2); }
    fclose(f);
}

#define CHECK_ERR(rc, code, needle) do { \
    int t_rc = (rc); const char *t_m = gs_errmsg(ctx); \
    CHECK(t_rc == (code), "got %d (%s), expected %d; message: %s", t_rc, gs_strerror(t_rc), (code), t_m); \
    CHECK(strstr(t_m, (needle)) != NULL, "message \"%s\" lacks \"%s\"", t_m, (needle)); \
    } while (0)

/* The values every histogram test uses: zeros, both signs, tiny and huge
 * magnitudes, exact bucket limits, plus NaN and Inf (left out by the writer). */
#define N_HIST 1000
static float hist_values[N_HIST];
static void make_values(void)
{
    gs_rng r;
    gs_rng_seed(&r, 7);
    for (int i = 0; i < N_HIST; i++) hist_values[i] = (float)(gs_rng_normal(&r) * 0.01);
    const float special[] = { 0.0f, -0.0f, 1e-12f, -1e-12f, 1e-30f, -3e38f, 3e38f, 1.0f, -1.0f, 0.0f };
    memcpy(hist_values, special, sizeof special);
    hist_values[20] = NAN;
    hist_values[21] = INFINITY;
    hist_values[22] = -INFINITY;
}

/* num, sum, sum of squares, min, max over the finite values, in the writer's order. */
static void hist_stats(const float *v, size_t n, double *st)
{
    st[0] = st[1] = st[2] = 0;
    st[3] = DBL_MAX;
    st[4] = -DBL_MAX;
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (!isfinite(x)) continue;
        st[0] += 1; st[1] += x; st[2] += x * x;
        if (x < st[3]) st[3] = x;
        if (x > st[4]) st[4] = x;
    }
}

/* ------------------------------------------------------------------ CRC */

static uint32_t crc_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    }
    return ~c;
}

static void test_crc32c(void)
{
    unsigned char buf[300];
    CHECK_EQ_INT(gs_crc32c("123456789", 9), 0xE3069283u);
    CHECK_EQ_INT(gs_crc32c("", 0), 0);
    memset(buf, 0, 32);
    CHECK_EQ_INT(gs_crc32c(buf, 32), 0x8A9136AAu);          /* RFC 3720 B.4 */
    memset(buf, 0xff, 32);
    CHECK_EQ_INT(gs_crc32c(buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)i;
    CHECK_EQ_INT(gs_crc32c(buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 300; i++) buf[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= 300; n += 13) CHECK_EQ_INT(gs_crc32c(buf, n), crc_bitwise(buf, n));
    CHECK_EQ_INT(gs_crc32c_mask(0), 0xa282ead8u);
    CHECK_EQ_INT(gs_crc32c_mask(0x12345678u), ((0x12345678u >> 15) | (0x12345678u << 17)) + 0xa282ead8u);
}

/* ------------------------------------------------------------ round trip */

static const char *const tags3[3] = { "loss/train", "grad_norm/layers.3.weight", "lr" };

/* A file with a few scalar events and histograms; returns its path (static). */
static const char *write_sample(const char *sub)
{
    static char path[512];
    gs_tfevents *w = NULL;
    int rc = gs_tfevents_open(ctx, tmp_path(sub), &w);
    CHECK(rc == GS_OK, "open: %s", gs_errmsg(ctx));
    if (rc) return NULL;
    snprintf(path, sizeof path, "%s", gs_tfevents_path(w));
    for (int s = 0; s < 5; s++) {
        float v[3] = { 2.5f / (float)(s + 1), (float)s * 1e-7f, -0.125f };
        CHECK_EQ_INT(gs_tfevents_scalars(w, s, 1.7e9 + s * 0.25, 3, tags3, v), GS_OK);
    }
    const char *big = "big_step";
    float bv = 3e38f;
    CHECK_EQ_INT(gs_tfevents_scalars(w, INT64_C(1) << 40, 1.7e9, 1, &big, &bv), GS_OK);
    CHECK_EQ_INT(gs_tfevents_histogram(w, 3, 1.7e9 + 3, "grad/layers.0.weight", hist_values, N_HIST), GS_OK);
    CHECK_EQ_INT(gs_tfevents_histogram(w, 4, 1.7e9 + 4, "grad/empty", hist_values, 0), GS_OK);
    CHECK_EQ_INT(gs_tfevents_flush(w), GS_OK);
    CHECK_EQ_INT(gs_tfevents_close(w), GS_OK);
    return path;
}

static void test_round_trip(void)
{
    const char *path = write_sample("logs/run1/tb");     /* nested, created */
    if (!path) return;
    const char *base = strrchr(path, '/') + 1;
    char host[256] = "", want[64];
    gethostname(host, sizeof host - 1);
    snprintf(want, sizeof want, ".%ld.0", (long)getpid());
    CHECK(strncmp(base, "events.out.tfevents.", 20) == 0 && strlen(base) > 31 && base[30] == '.',
          "file name %s", base);
    CHECK(strstr(base, host) != NULL && strcmp(base + strlen(base) - strlen(want), want) == 0,
          "file name %s lacks host %s or .pid.0", base, host);

    gs_tf_record *r = NULL;
    size_t n = 0;
    int rc = gs_tfevents_read(ctx, path, &r, &n);
    CHECK(rc == GS_OK, "read: %s", gs_errmsg(ctx));
    CHECK_EQ_INT(n, 1 + 15 + 1 + 2);
    if (rc || n != 19) { free(r); return; }
    CHECK(r[0].kind == GS_TF_FILE_VERSION && strcmp(r[0].tag, "brain.Event:2") == 0, "first %s", r[0].tag);
    CHECK(fabs(r[0].wall_time - gs_tfevents_now()) < 60, "file_version wall_time %.3f", r[0].wall_time);
    for (int s = 0; s < 5; s++)
        for (int i = 0; i < 3; i++) {
            const gs_tf_record *x = &r[1 + 3 * s + i];
            float v[3] = { 2.5f / (float)(s + 1), (float)s * 1e-7f, -0.125f };
            CHECK(x->kind == GS_TF_SCALAR && strcmp(x->tag, tags3[i]) == 0, "record %d: %s", 1 + 3 * s + i, x->tag);
            CHECK_EQ_INT(x->step, s);
            CHECK(x->value == v[i], "value %.9g, expected %.9g", x->value, v[i]);
            CHECK(x->wall_time == 1.7e9 + s * 0.25, "wall_time %.17g", x->wall_time);
        }
    CHECK(r[16].step == INT64_C(1) << 40 && r[16].value == 3e38f && strcmp(r[16].tag, "big_step") == 0,
          "big step %lld %g", (long long)r[16].step, r[16].value);
    double st[5];
    hist_stats(hist_values, N_HIST, st);
    const gs_tf_record *h = &r[17];
    CHECK(h->kind == GS_TF_HISTOGRAM && h->step == 3 && strcmp(h->tag, "grad/layers.0.weight") == 0, "histo %s", h->tag);
    CHECK_EQ_INT((long long)h->hnum, N_HIST - 3);
    CHECK(h->hsum == st[1] && h->hsum_squares == st[2] && h->hmin == st[3] && h->hmax == st[4],
          "sum %.17g/%.17g sq %.17g/%.17g min %g max %g", h->hsum, st[1], h->hsum_squares, st[2], h->hmin, h->hmax);
    CHECK(h->hbucket_total == h->hnum, "buckets sum to %.0f, num %.0f", h->hbucket_total, h->hnum);
    CHECK(h->n_buckets > 10 && h->n_buckets <= 1551, "n_buckets %d", h->n_buckets);
    h = &r[18];
    CHECK(h->kind == GS_TF_HISTOGRAM && h->hnum == 0 && h->hmin == 0 && h->hmax == 0 && h->n_buckets == 1
          && h->hbucket_total == 0, "empty histogram: num %g buckets %d", h->hnum, h->n_buckets);
    free(r);

    /* A second writer in the same second and directory gets its own file. */
    gs_tfevents *a = NULL, *b = NULL;
    CHECK_EQ_INT(gs_tfevents_open(ctx, tmp_path("same"), &a), GS_OK);
    CHECK_EQ_INT(gs_tfevents_open(ctx, tmp_path("same"), &b), GS_OK);
    if (a && b) CHECK(strcmp(gs_tfevents_path(a), gs_tfevents_path(b)) != 0, "two writers share %s", gs_tfevents_path(a));
    CHECK_EQ_INT(gs_tfevents_close(a), GS_OK);
    CHECK_EQ_INT(gs_tfevents_close(b), GS_OK);
    CHECK_EQ_INT(gs_tfevents_close(NULL), GS_OK);
}

/* Bucket counts for simple inputs: TensorFlow merges each run of empty
 * buckets into one entry, so the entries are easy to predict. */
static void test_bucket_entries(void)
{
    struct { float v[4]; int n, entries; } cases[] = {
        { { 0 }, 1, 3 },                    /* (empty run up to 0), [0, 1e-12), (empty run up to DBL_MAX) */
        { { 1.0f }, 1, 3 },
        { { -1.0f, 1.0f }, 2, 5 },
        { { 1.0f, 1.0f, 1.0f }, 3, 3 },
        { { -3e38f, 3e38f }, 2, 4 },      /* (-DBL_MAX, 0), [-DBL_MAX, -9.6e19), empty run, [9.6e19, DBL_MAX) */
        { { NAN }, 1, 1 },                  /* nothing finite: one (DBL_MAX, 0) entry */
    };
    gs_tfevents *w = NULL;
    if (gs_tfevents_open(ctx, tmp_path("buckets"), &w) != GS_OK) { CHECK(0, "open: %s", gs_errmsg(ctx)); return; }
    int nc = (int)(sizeof cases / sizeof cases[0]);
    for (int c = 0; c < nc; c++)
        CHECK_EQ_INT(gs_tfevents_histogram(w, c, 0, "h", cases[c].v, (size_t)cases[c].n), GS_OK);
    char path[512];
    snprintf(path, sizeof path, "%s", gs_tfevents_path(w));
    CHECK_EQ_INT(gs_tfevents_close(w), GS_OK);
    gs_tf_record *r = NULL;
    size_t n = 0;
    CHECK_EQ_INT(gs_tfevents_read(ctx, path, &r, &n), GS_OK);
    CHECK_EQ_INT(n, 1 + nc);
    for (int c = 0; c < nc && (size_t)c + 1 < n; c++) {
        CHECK(r[c + 1].n_buckets == cases[c].entries, "case %d: %d entries, expected %d", c, r[c + 1].n_buckets,
              cases[c].entries);
        CHECK(r[c + 1].hbucket_total == r[c + 1].hnum, "case %d: bucket total %g num %g", c,
              r[c + 1].hbucket_total, r[c + 1].hnum);
    }
    free(r);
}

/* ------------------------------------------------------------ bad files */

static void test_corrupt_and_truncated(void)
{
    const char *path = write_sample("corrupt");
    size_t len = 0;
    unsigned char *good = path ? read_bytes(path, &len) : NULL;
    CHECK(good != NULL, "read %s", path ? path : "(none)");
    if (!good) return;
    unsigned char *bad = malloc(len);
    const char *bad_path = tmp_path("bad.tfevents");
    /* Record boundaries, from the framing. */
    size_t bounds[64], nb = 0;
    for (size_t off = 0; off < len && nb < 64; off += 16 + (size_t)good[off] + ((size_t)good[off + 1] << 8))
        bounds[nb++] = off;
    CHECK_EQ_INT(nb, 9);
    gs_tf_record *r = (gs_tf_record *)&r, *keep = r;
    size_t n = 12345;
    /* One flipped byte in each part of record 3: length, length CRC, data, data CRC. */
    size_t at = bounds[3], rec_len = bounds[4] - bounds[3];
    size_t flips[4] = { at + 0, at + 9, at + 12 + (rec_len - 16) / 2, at + rec_len - 1 };
    for (int i = 0; i < 4; i++) {
        memcpy(bad, good, len);
        bad[flips[i]] ^= 0x10;
        write_bytes(bad_path, bad, len);
        char want[64];
        snprintf(want, sizeof want, "record at offset %zu", at);
        CHECK_ERR(gs_tfevents_read(ctx, bad_path, &r, &n), GS_EFORMAT, want);
        CHECK(strstr(gs_errmsg(ctx), "bad.tfevents") != NULL, "message names the file: %s", gs_errmsg(ctx));
        CHECK(r == keep && n == 12345, "outputs untouched");
    }
    /* Every cut inside a record is a truncated file; a cut at a record
     * boundary is a shorter valid file. */
    int inner = 0, cut_bad = 0;
    for (size_t cut = 1; cut < len; cut += 1 + cut / 40) {
        int at_bound = 0;
        for (size_t b = 0; b < nb; b++) at_bound |= bounds[b] == cut;
        if (at_bound) continue;
        gs_tf_record *rr = NULL;
        size_t nn = 0;
        inner++;
        cut_bad += gs_tfevents_parse(ctx, good, cut, "cut", &rr, &nn) == GS_EFORMAT
                   && strstr(gs_errmsg(ctx), "truncated") != NULL && rr == NULL;
    }
    CHECK(cut_bad == inner && inner > 50, "%d of %d mid-record cuts gave GS_EFORMAT \"truncated\" (%s)", cut_bad,
          inner, gs_errmsg(ctx));
    for (size_t b = 1; b < nb; b++) {
        gs_tf_record *rr = NULL;
        size_t nn = 0;
        CHECK_EQ_INT(gs_tfevents_parse(ctx, good, bounds[b], "cut", &rr, &nn), GS_OK);
        free(rr);
    }
    /* A lying length with a correct length CRC, and garbage protobuf with correct CRCs. */
    unsigned char rec[32] = { 0 };
    uint64_t huge = UINT64_C(1) << 40;
    for (int i = 0; i < 8; i++) rec[i] = (unsigned char)(huge >> (8 * i));
    uint32_t m = gs_crc32c_mask(gs_crc32c(rec, 8));
    for (int i = 0; i < 4; i++) rec[8 + i] = (unsigned char)(m >> (8 * i));
    CHECK_ERR(gs_tfevents_parse(ctx, rec, sizeof rec, "lying", &r, &n), GS_EFORMAT, "truncated");
    memset(rec, 0, sizeof rec);
    rec[0] = 4;
    m = gs_crc32c_mask(gs_crc32c(rec, 8));
    for (int i = 0; i < 4; i++) rec[8 + i] = (unsigned char)(m >> (8 * i));
    memcpy(rec + 12, "\x0f\xff\xff\xff", 4);          /* field 1 with wire type 7 */
    m = gs_crc32c_mask(gs_crc32c(rec + 12, 4));
    for (int i = 0; i < 4; i++) rec[16 + i] = (unsigned char)(m >> (8 * i));
    CHECK_ERR(gs_tfevents_parse(ctx, rec, 20, "garbage", &r, &n), GS_EFORMAT, "malformed");
    CHECK_EQ_INT(gs_tfevents_parse(ctx, rec, 0, "empty", &r, &n), GS_OK);
    CHECK(n == 0 && r == NULL, "empty file: %zu records", n);
    CHECK_ERR(gs_tfevents_read(ctx, tmp_path("missing"), &r, &n), GS_ENOTFOUND, "missing");
    free(bad);
    free(good);
}

/* Random bytes written into Events, with the data CRC fixed up so that the
 * protobuf decoder sees them: every result is GS_OK or GS_EFORMAT, never a
 * crash or an overread (the sanitizer build checks the bounds). */
static void test_fuzz_decoder(void)
{
    const char *path = write_sample("fuzz");
    size_t len = 0;
    unsigned char *good = path ? read_bytes(path, &len) : NULL, *buf = malloc(len + 1);
    if (!good || !buf) { CHECK(0, "sample"); free(good); free(buf); return; }
    gs_rng rng;
    gs_rng_seed(&rng, 11);
    int ok = 0, other = 0, insane = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(buf, good, len);
        size_t off = 0, dl = 0;
        for (uint64_t k = gs_rng_below(&rng, 9);; k--) {
            dl = (size_t)buf[off] | (size_t)buf[off + 1] << 8 | (size_t)buf[off + 2] << 16;
            if (k == 0) break;
            off += 16 + dl;
        }
        for (uint64_t k = 1 + gs_rng_below(&rng, 3); k > 0; k--)
            buf[off + 12 + gs_rng_below(&rng, dl)] = (unsigned char)gs_rng_u64(&rng);
        uint32_t m = gs_crc32c_mask(gs_crc32c(buf + off + 12, dl));
        for (int k = 0; k < 4; k++) buf[off + 12 + dl + (size_t)k] = (unsigned char)(m >> (8 * k));
        gs_tf_record *r = NULL;
        size_t n = 0;
        int rc = gs_tfevents_parse(ctx, buf, len, "fuzz", &r, &n);
        ok += rc == GS_OK;
        other += rc != GS_OK && rc != GS_EFORMAT;
        for (size_t i = 0; rc == GS_OK && i < n; i++)
            insane += r[i].kind < 0 || r[i].kind > 2 || !memchr(r[i].tag, 0, sizeof r[i].tag);
        free(r);
    }
    CHECK(other == 0 && insane == 0, "%d results neither GS_OK nor GS_EFORMAT, %d bad records", other, insane);
    CHECK(ok > 100 && ok < 2900, "%d of 3000 mutated files decoded: both paths should be exercised", ok);
    free(good);
    free(buf);
}

static void test_bad_arguments(void)
{
    gs_tfevents *w = (gs_tfevents *)&w, *keep = w;
    const char *fpath = tmp_path("plainfile");
    write_bytes(fpath, "x", 1);
    char under[600];
    snprintf(under, sizeof under, "%s/sub", fpath);
    CHECK_ERR(gs_tfevents_open(ctx, under, &w), GS_EIO, "plainfile/sub");
    CHECK(w == keep, "output untouched");
    CHECK_ERR(gs_tfevents_open(ctx, NULL, &w), GS_EINVAL, "gs_tfevents_open");
    w = NULL;
    if (gs_tfevents_open(ctx, tmp_path("args"), &w) != GS_OK) { CHECK(0, "open: %s", gs_errmsg(ctx)); return; }
    char longtag[300];
    memset(longtag, 'a', sizeof longtag - 1);
    longtag[sizeof longtag - 1] = '\0';
    const char *bad_tags[3] = { "", NULL, longtag };
    float v = 1;
    for (int i = 0; i < 3; i++) {
        CHECK_ERR(gs_tfevents_scalars(w, 0, 0, 1, &bad_tags[i], &v), GS_EINVAL, "tag");
        CHECK_ERR(gs_tfevents_histogram(w, 0, 0, bad_tags[i], &v, 1), GS_EINVAL, "tag");
    }
    CHECK_ERR(gs_tfevents_scalars(w, 0, 0, -1, tags3, &v), GS_EINVAL, "n = -1");
    CHECK_ERR(gs_tfevents_scalars(w, 0, 0, 2, NULL, &v), GS_EINVAL, "NULL");
    CHECK_EQ_INT(gs_tfevents_scalars(w, 0, 0, 0, NULL, NULL), GS_OK);   /* nothing to write */
    CHECK_ERR(gs_tfevents_histogram(w, 0, 0, "h", NULL, 3), GS_EINVAL, "NULL");
    char path[512];
    snprintf(path, sizeof path, "%s", gs_tfevents_path(w));
    CHECK_EQ_INT(gs_tfevents_close(w), GS_OK);
    gs_tf_record *r = NULL;
    size_t n = 0;
    CHECK_EQ_INT(gs_tfevents_read(ctx, path, &r, &n), GS_OK);
    CHECK_EQ_INT(n, 1);                                 /* the rejected calls wrote nothing */
    free(r);
}

/* A write that fails half way (file size limit) cuts the file back to its
 * last whole record: every earlier record stays readable, and the writer
 * goes on once the disk accepts writes again. */
static void test_write_failure(void)
{
    gs_tfevents *w = NULL;
    if (gs_tfevents_open(ctx, tmp_path("full"), &w) != GS_OK) { CHECK(0, "open: %s", gs_errmsg(ctx)); return; }
    char path[512];
    snprintf(path, sizeof path, "%s", gs_tfevents_path(w));
    float v[3] = { 1, 2, 3 };
    CHECK_EQ_INT(gs_tfevents_scalars(w, 1, 1, 3, tags3, v), GS_OK);
    CHECK_EQ_INT(gs_tfevents_flush(w), GS_OK);
    struct stat st;
    stat(path, &st);
    off_t before = st.st_size;
    /* Pending: one small scalar record, then a large histogram that the limit cuts. */
    const char *t = "after";
    CHECK_EQ_INT(gs_tfevents_scalars(w, 2, 2, 1, &t, v), GS_OK);
    CHECK_EQ_INT(gs_tfevents_histogram(w, 2, 2, "h", hist_values, N_HIST), GS_OK);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)before + 200;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = gs_tfevents_flush(w);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CHECK_ERR(rc, GS_EIO, path);
    stat(path, &st);
    CHECK(st.st_size > before && st.st_size < before + 200, "file is %lld bytes, was %lld", (long long)st.st_size,
          (long long)before);
    gs_tf_record *r = NULL;
    size_t n = 0;
    CHECK_EQ_INT(gs_tfevents_read(ctx, path, &r, &n), GS_OK);
    CHECK(n == 5 && strcmp(r[4].tag, "after") == 0, "%zu records after the failed write", n);
    free(r);
    CHECK_EQ_INT(gs_tfevents_scalars(w, 3, 3, 3, tags3, v), GS_OK);
    CHECK_EQ_INT(gs_tfevents_close(w), GS_OK);
    r = NULL;
    CHECK_EQ_INT(gs_tfevents_read(ctx, path, &r, &n), GS_OK);
    CHECK(n == 8 && r[7].step == 3, "%zu records after recovering", n);
    free(r);
}

/* --------------------------------------------------- independent decode */

/* stdout of cmd, NUL-terminated, or NULL when it cannot run or exits non-zero. */
static char *run_capture(const char *cmd, size_t *len)
{
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *b = malloc(cap);
    while (b && (k = fread(b + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 2) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) free(b);
            b = nb;
        }
    }
    int st = pclose(p);
    if (!b || st != 0) { free(b); return NULL; }
    b[n] = '\0';
    *len = n;
    return b;
}

/* A number from the script, which writes non-finite ones as "nan", "inf", "-inf". */
static double jnum(const gs_json *v)
{
    const char *s = gs_json_string(v);
    if (s) return strcmp(s, "nan") == 0 ? NAN : strcmp(s, "inf") == 0 ? INFINITY : -INFINITY;
    return gs_json_number(v, NAN);
}

/* The same file decoded by protobuf's own parser must give the C reader's
 * values, and its buckets must hold exactly the values TensorFlow's rule puts
 * there: entry j counts the finite v with limit[j-1] <= v < limit[j]. */
static void test_python_decode(void)
{
    if (system("/usr/bin/python3 -c 'import google.protobuf' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "  note: /usr/bin/python3 cannot import google.protobuf (Debian package "
                        "python3-protobuf); the independent decode is skipped\n");
        return;
    }
    const char *path = write_sample("python");
    if (!path) return;
    char cmd[1200];
    size_t len = 0, n = 0;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/ref/read_tfevents.py '%s'", path);
    char *out = run_capture(cmd, &len);
    CHECK(out != NULL, "%s failed (run from the repository root)", cmd);
    gs_json *j = NULL;
    gs_tf_record *r = NULL;
    if (!out || gs_json_parse(ctx, out, len, "read_tfevents.py", &j) != GS_OK
        || gs_tfevents_read(ctx, path, &r, &n) != GS_OK) {
        CHECK(0, "%s", gs_errmsg(ctx));
        goto done;
    }
    const gs_json *sc = gs_json_get(j, "scalars"), *hi = gs_json_get(j, "histograms");
    CHECK_EQ_INT((long long)gs_json_number(gs_json_get(j, "records"), -1), 9);
    const char *fv = gs_json_string(gs_json_get(j, "file_version"));
    CHECK(fv && strcmp(fv, "brain.Event:2") == 0, "file_version %s", fv ? fv : "(none)");
    CHECK(sc && sc->n == 16 && hi && hi->n == 2, "%d scalars, %d histograms", sc ? sc->n : -1, hi ? hi->n : -1);
    if (!sc || !hi || sc->n != 16 || hi->n != 2 || n != 19) goto done;
    int is = 0, ih = 0;
    for (size_t i = 0; i < n; i++) {
        const gs_tf_record *x = &r[i];
        if (x->kind == GS_TF_FILE_VERSION) continue;
        const gs_json *e = x->kind == GS_TF_SCALAR ? gs_json_at(sc, is++) : gs_json_at(hi, ih++);
        int64_t step = -1;
        const char *tag = gs_json_string(gs_json_get(e, "tag"));
        CHECK(gs_json_int64(gs_json_get(e, "step"), &step) && step == x->step, "record %zu step %lld vs %lld", i,
              (long long)step, (long long)x->step);
        CHECK(tag && strcmp(tag, x->tag) == 0, "record %zu tag %s vs %s", i, tag ? tag : "(none)", x->tag);
        CHECK(jnum(gs_json_get(e, "wall_time")) == x->wall_time, "record %zu wall_time", i);
        if (x->kind == GS_TF_SCALAR) {
            CHECK((float)jnum(gs_json_get(e, "value")) == x->value, "record %zu value %.9g vs %.9g", i,
                  jnum(gs_json_get(e, "value")), x->value);
            continue;
        }
        const char *keys[5] = { "min", "max", "num", "sum", "sum_squares" };
        const double mine[5] = { x->hmin, x->hmax, x->hnum, x->hsum, x->hsum_squares };
        for (int k = 0; k < 5; k++)
            CHECK(jnum(gs_json_get(e, keys[k])) == mine[k], "%s: %s %.17g vs %.17g", x->tag, keys[k],
                  jnum(gs_json_get(e, keys[k])), mine[k]);
        const gs_json *lim = gs_json_get(e, "bucket_limit"), *cnt = gs_json_get(e, "bucket");
        const gs_json *tfd = gs_json_get(e, "limits_are_tf_defaults");
        CHECK(tfd && tfd->type == GS_JSON_BOOL && tfd->boolean, "%s: limits are not TensorFlow's defaults", x->tag);
        CHECK(lim && cnt && lim->n == cnt->n && cnt->n == x->n_buckets, "%s: %d limits, %d counts, C reader %d",
              x->tag, lim ? lim->n : -1, cnt ? cnt->n : -1, x->n_buckets);
        if (!lim || !cnt || lim->n != cnt->n) continue;
        size_t nv = strcmp(x->tag, "grad/empty") == 0 ? 0 : N_HIST;
        double prev = -INFINITY, total = 0;
        int wrong = 0, adjacent_empty = 0;
        for (int b = 0; b < lim->n; b++) {
            double L = jnum(gs_json_at(lim, b)), c = jnum(gs_json_at(cnt, b)), want = 0;
            for (size_t i = 0; i < nv; i++) want += isfinite(hist_values[i]) && hist_values[i] >= prev && hist_values[i] < L;
            wrong += c != want || !(L > prev);
            adjacent_empty += b > 0 && c == 0 && jnum(gs_json_at(cnt, b - 1)) == 0;
            total += c;
            prev = L;
        }
        CHECK(wrong == 0, "%s: %d bucket entries differ from TensorFlow's rule", x->tag, wrong);
        CHECK(adjacent_empty == 0, "%s: %d runs of empty buckets not merged", x->tag, adjacent_empty);
        CHECK(total == x->hnum && prev == DBL_MAX, "%s: counts sum to %g, num %g, last limit %g", x->tag, total,
              x->hnum, prev);
    }
done:
    gs_json_free(j);
    free(r);
    free(out);
}

int main(void)
{
    ctx = gs_ctx_create();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gs_tfevents_XXXXXX");
    if (!ctx || !mkdtemp(tmpdir)) { fprintf(stderr, "FAIL setup\n"); printf("RESULT 0 1\n"); return 1; }
    make_values();
    RUN(test_crc32c);
    RUN(test_round_trip);
    RUN(test_bucket_entries);
    RUN(test_corrupt_and_truncated);
    RUN(test_fuzz_decoder);
    RUN(test_bad_arguments);
    RUN(test_write_failure);
    RUN(test_python_decode);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    gs_ctx_free(ctx);
    return FINISH();
}
