/* tfevents.c - write and read TensorBoard event files (see tfevents.h).
 *
 * Fields written (protobuf field number, wire type):
 *   Event:          wall_time 1 fixed64 double, step 2 varint, file_version 3 bytes, summary 5 bytes
 *   Summary:        value 1 bytes (repeated)
 *   Summary.Value:  tag 1 bytes, simple_value 2 fixed32 float, histo 5 bytes
 *   HistogramProto: min 1, max 2, num 3, sum 4, sum_squares 5 (fixed64 doubles),
 *                   bucket_limit 6, bucket 7 (packed doubles)
 * Every message size is computed before it is encoded, so a record is built
 * in place in the pending buffer with one pass and no temporary copies.
 * The writer does not fsync: records reach the kernel on each flush.
 * Invariant: the file always ends on a record boundary (a failed write is
 * cut back), and `committed` is its length.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "io.h"
#include "tfevents.h"

#define TF_N_LIMITS 1551                  /* 2 * (774 exponential edges + DBL_MAX) + 0 */
#define TF_FLUSH_BYTES (256u << 10)
#define TF_MAX_SCALARS (1 << 20)
#define TF_READ_MAX ((size_t)1 << 30)

/* The byte-wise CRC-32C table (reflected polynomial 0x82F63B78).  Built per
 * writer and per parse rather than kept in a global. */
static void crc32c_init(uint32_t table[256])
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
        table[i] = c;
    }
}

static uint32_t crc32c(const uint32_t *table, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

uint32_t gs_crc32c(const void *data, size_t len)
{
    uint32_t table[256];
    crc32c_init(table);
    return crc32c(table, data, len);
}

uint32_t gs_crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

double gs_tfevents_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (double)time(NULL);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------ encoding */

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}
static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) { *p++ = (unsigned char)(v | 0x80); v >>= 7; }
    *p++ = (unsigned char)v;
    return p;
}
static unsigned char *put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) *p++ = (unsigned char)(v >> (8 * i));
    return p;
}
static unsigned char *put_double(unsigned char *p, unsigned char key, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    *p++ = key;
    return put_le(p, u, 8);
}
/* The key and length of a length-delimited field. */
static unsigned char *put_key_len(unsigned char *p, unsigned char key, size_t len)
{
    *p++ = key;
    return put_varint(p, len);
}
static unsigned char *put_bytes(unsigned char *p, unsigned char key, const void *s, size_t len)
{
    p = put_key_len(p, key, len);
    memcpy(p, s, len);
    return p + len;
}
/* Bytes of a length-delimited field holding len bytes. */
static size_t field_size(size_t len) { return 1 + varint_size(len) + len; }

struct gs_tfevents {
    gs_ctx *ctx;
    int fd;
    char *path;
    unsigned char *buf;        /* pending whole records */
    size_t len, cap;
    off_t committed;           /* file length: bytes of whole records written */
    double limits[TF_N_LIMITS];
    size_t counts[TF_N_LIMITS];
    uint32_t crc_table[256];
};

/* Room for a record of data_len bytes at the end of the pending buffer;
 * returns where the data goes, or NULL (GS_ENOMEM recorded). */
static unsigned char *record_begin(gs_tfevents *w, size_t data_len)
{
    size_t need = w->len + 16 + data_len;
    if (need > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < need) cap *= 2;
        unsigned char *b = realloc(w->buf, cap);
        if (!b) {
            gs_error(w->ctx, GS_ENOMEM, "%s: cannot buffer a %zu-byte record", w->path, data_len);
            return NULL;
        }
        w->buf = b;
        w->cap = cap;
    }
    return w->buf + w->len + 12;
}

/* Frame the data_len bytes written after record_begin and keep them. */
static int record_end(gs_tfevents *w, size_t data_len)
{
    unsigned char *r = w->buf + w->len;
    put_le(r, data_len, 8);
    put_le(r + 8, gs_crc32c_mask(crc32c(w->crc_table, r, 8)), 4);
    put_le(r + 12 + data_len, gs_crc32c_mask(crc32c(w->crc_table, r + 12, data_len)), 4);
    w->len += 16 + data_len;
    return w->len >= TF_FLUSH_BYTES ? gs_tfevents_flush(w) : GS_OK;
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int gs_tfevents_flush(gs_tfevents *w)
{
    if (!w) return GS_EINVAL;
    size_t done = 0;
    while (done < w->len) {
        ssize_t k = write(w->fd, w->buf + done, w->len - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            int e = k < 0 ? errno : ENOSPC;
            /* Keep the whole records that made it; cut the partial one. */
            size_t keep = 0;
            while (keep + 12 <= done) {
                uint64_t l = get_le(w->buf + keep, 8);
                if (l > done - keep - 12 || done - keep - 12 - l < 4) break;
                keep += 16 + (size_t)l;
            }
            w->committed += (off_t)keep;
            w->len = 0;
            if (ftruncate(w->fd, w->committed) != 0 || lseek(w->fd, w->committed, SEEK_SET) < 0)
                return gs_error(w->ctx, GS_EIO, "%s: write failed (%s) and cannot cut the file back: %s",
                                w->path, strerror(e), strerror(errno));
            return gs_error(w->ctx, GS_EIO, "%s: write failed: %s (%zu record bytes dropped; the file keeps "
                            "its first %lld bytes of whole records)", w->path, strerror(e), done - keep,
                            (long long)w->committed);
        }
        done += (size_t)k;
    }
    w->committed += (off_t)done;
    w->len = 0;
    return GS_OK;
}

/* mkdir -p; 0 or -1 with errno set. */
static int make_dirs(char *path)
{
    for (char *s = path + 1;; s++) {
        if (*s != '/' && *s != '\0') continue;
        char c = *s;
        *s = '\0';
        int r = mkdir(path, 0777);
        *s = c;
        if (r != 0 && errno != EEXIST) return -1;
        if (c == '\0') return 0;
    }
}

int gs_tfevents_open(gs_ctx *ctx, const char *dir, gs_tfevents **out)
{
    if (!dir || !*dir || !out) return gs_error(ctx, GS_EINVAL, "gs_tfevents_open: NULL or empty argument");
    int rc = GS_EIO;
    gs_tfevents *w = calloc(1, sizeof *w);
    char host[256] = "localhost";
    size_t plen = strlen(dir) + sizeof host + 80;
    if (!w || !(w->path = malloc(plen))) {
        free(w);
        return gs_error(ctx, GS_ENOMEM, "gs_tfevents_open: out of memory");
    }
    w->ctx = ctx;
    w->fd = -1;
    crc32c_init(w->crc_table);
    if (gethostname(host, sizeof host - 1) != 0) strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    for (char *h = host; *h; h++)
        if (*h == '/' || (unsigned char)*h <= ' ' || (unsigned char)*h >= 0x7f) *h = '_';
    snprintf(w->path, plen, "%s", dir);
    struct stat st;
    if (stat(w->path, &st) != 0 && make_dirs(w->path) != 0) {
        gs_error(ctx, GS_EIO, "%s: cannot create the log directory: %s", dir, strerror(errno));
        goto fail;
    }
    long long now = (long long)time(NULL);
    for (int n = 0; w->fd < 0 && n < 1000; n++) {
        snprintf(w->path, plen, "%s/events.out.tfevents.%010lld.%s.%ld.%d", dir, now, host, (long)getpid(), n);
        w->fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (w->fd < 0 && errno != EEXIST) break;
    }
    if (w->fd < 0) {
        gs_error(ctx, GS_EIO, "%s: cannot create: %s", w->path, strerror(errno));
        goto fail;
    }
    /* TensorFlow's default bucket limits, built exactly as its
     * InitDefaultBucketsInner: v = 1e-12, v *= 1.1 while v < 1e20. */
    int k = 0;
    for (double v = 1e-12; v < 1e20; v *= 1.1) k++;
    if (2 * k + 3 != TF_N_LIMITS) {      /* only if double arithmetic is not IEEE binary64 */
        rc = gs_error(ctx, GS_EUNSUPPORTED, "%s: %d default bucket edges, TensorFlow has 774", w->path, k);
        goto fail;
    }
    double v = 1e-12;
    for (int i = 0; i < k; i++, v *= 1.1) {
        w->limits[k + 2 + i] = v;
        w->limits[k - i] = -v;
    }
    w->limits[0] = -DBL_MAX;
    w->limits[k + 1] = 0.0;
    w->limits[2 * k + 2] = DBL_MAX;

    static const char version[] = "brain.Event:2";
    size_t dlen = 9 + field_size(sizeof version - 1);
    unsigned char *p = record_begin(w, dlen);
    if (!p) {
        rc = GS_ENOMEM;
        goto fail;
    }
    p = put_double(p, 0x09, gs_tfevents_now());
    put_bytes(p, 0x1a, version, sizeof version - 1);
    if ((rc = record_end(w, dlen)) != GS_OK || (rc = gs_tfevents_flush(w)) != GS_OK) goto fail;
    *out = w;
    return GS_OK;
fail:
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->path);
    }
    free(w->buf);
    free(w->path);
    free(w);
    return rc;
}

const char *gs_tfevents_path(const gs_tfevents *w) { return w ? w->path : NULL; }

static int check_tag(gs_tfevents *w, const char *fn, const char *tag, size_t *len)
{
    size_t l = tag ? strlen(tag) : 0;
    if (l == 0 || l > GS_TF_TAG_MAX)
        return gs_error(w->ctx, GS_EINVAL, "%s: %s: tag %s is %zu bytes, need 1..%d", fn, w->path,
                        tag ? "" : "(NULL)", l, GS_TF_TAG_MAX);
    *len = l;
    return GS_OK;
}

static size_t event_size(int64_t step, size_t summary_len)
{
    return 9 + 1 + varint_size((uint64_t)step) + field_size(summary_len);
}

/* Event.wall_time, Event.step and the key and length of Event.summary. */
static unsigned char *put_event_head(unsigned char *p, double wall_time, int64_t step, size_t summary_len)
{
    p = put_double(p, 0x09, wall_time);
    *p++ = 0x10;
    p = put_varint(p, (uint64_t)step);
    return put_key_len(p, 0x2a, summary_len);
}

int gs_tfevents_scalars(gs_tfevents *w, int64_t step, double wall_time, int n, const char *const *tags,
                        const float *values)
{
    if (!w) return GS_EINVAL;
    if (n == 0) return GS_OK;
    if (n < 0 || n > TF_MAX_SCALARS || !tags || !values)
        return gs_error(w->ctx, GS_EINVAL, "gs_tfevents_scalars: %s: n = %d (need 0..%d) and non-NULL tags and "
                        "values", w->path, n, TF_MAX_SCALARS);
    size_t summary_len = 0, tl = 0;
    for (int i = 0; i < n; i++) {
        if (check_tag(w, "gs_tfevents_scalars", tags[i], &tl) != GS_OK) return GS_EINVAL;
        summary_len += field_size(field_size(tl) + 5);
    }
    size_t dlen = event_size(step, summary_len);
    unsigned char *p = record_begin(w, dlen);
    if (!p) return GS_ENOMEM;
    p = put_event_head(p, wall_time, step, summary_len);
    for (int i = 0; i < n; i++) {
        uint32_t u;
        tl = strlen(tags[i]);
        p = put_key_len(p, 0x0a, field_size(tl) + 5);
        p = put_bytes(p, 0x0a, tags[i], tl);
        *p++ = 0x15;
        memcpy(&u, &values[i], 4);
        p = put_le(p, u, 4);
    }
    return record_end(w, dlen);
}

/* TensorFlow's EncodeToProto: each non-empty bucket, and each run of empty
 * ones merged under the run's last limit.  Writes the packed limits at pl and
 * counts at pc when they are not NULL; returns the number of entries. */
static size_t put_buckets(const gs_tfevents *w, unsigned char *pl, unsigned char *pc)
{
    size_t k = 0;
    for (size_t i = 0; i < TF_N_LIMITS; k++) {
        double end = w->limits[i], count = (double)w->counts[i++];
        if (count == 0)
            while (i < TF_N_LIMITS && w->counts[i] == 0) end = w->limits[i++];
        if (pl) {
            uint64_t u;
            memcpy(&u, &end, 8);
            put_le(pl + 8 * k, u, 8);
            memcpy(&u, &count, 8);
            put_le(pc + 8 * k, u, 8);
        }
    }
    return k;
}

int gs_tfevents_histogram(gs_tfevents *w, int64_t step, double wall_time, const char *tag, const float *values,
                          size_t n)
{
    size_t tl = 0;
    if (!w) return GS_EINVAL;
    if (check_tag(w, "gs_tfevents_histogram", tag, &tl) != GS_OK) return GS_EINVAL;
    if (!values && n) return gs_error(w->ctx, GS_EINVAL, "gs_tfevents_histogram: %s: values NULL", w->path);
    memset(w->counts, 0, sizeof w->counts);
    double lo_v = 0, hi_v = 0, sum = 0, sum_squares = 0;
    size_t num = 0;
    for (size_t i = 0; i < n; i++) {
        double v = values[i];
        if (!isfinite(v)) continue;
        /* upper_bound: the first limit > v (v <= FLT_MAX < DBL_MAX, so one exists). */
        size_t lo = 0, hi = TF_N_LIMITS - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (w->limits[mid] > v) hi = mid;
            else lo = mid + 1;
        }
        w->counts[lo]++;
        if (num == 0 || v < lo_v) lo_v = v;
        if (num == 0 || v > hi_v) hi_v = v;
        sum += v;
        sum_squares += v * v;
        num++;
    }
    size_t k = put_buckets(w, NULL, NULL), arr = 8 * k;
    size_t histo_len = 5 * 9 + 2 * field_size(arr);
    size_t value_len = field_size(tl) + field_size(histo_len);
    size_t summary_len = field_size(value_len), dlen = event_size(step, summary_len);
    unsigned char *p = record_begin(w, dlen);
    if (!p) return GS_ENOMEM;
    p = put_event_head(p, wall_time, step, summary_len);
    p = put_key_len(p, 0x0a, value_len);
    p = put_bytes(p, 0x0a, tag, tl);
    p = put_key_len(p, 0x2a, histo_len);
    const double stats[5] = { lo_v, hi_v, (double)num, sum, sum_squares };   /* fields 1..5 */
    for (int i = 0; i < 5; i++) p = put_double(p, (unsigned char)(0x09 + 8 * i), stats[i]);
    unsigned char *pl = put_key_len(p, 0x32, arr);
    put_buckets(w, pl, put_key_len(pl + arr, 0x3a, arr));
    return record_end(w, dlen);
}

int gs_tfevents_close(gs_tfevents *w)
{
    if (!w) return GS_OK;
    int rc = gs_tfevents_flush(w);
    if (close(w->fd) != 0 && rc == GS_OK)
        rc = gs_error(w->ctx, GS_EIO, "%s: close failed: %s", w->path, strerror(errno));
    free(w->buf);
    free(w->path);
    free(w);
    return rc;
}

/* ------------------------------------------------------------ decoding */

/* One protobuf field: number, wire type, value (varint, fixed64, fixed32, or
 * the length of a length-delimited field) and where its bytes start. */
typedef struct pb_field { uint64_t number, v; int wt; const unsigned char *data; } pb_field;

static int pb_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int s = 0; s < 70 && *p < end; s += 7) {
        unsigned char b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* The next field of the message in [*p, end): 1, 0 at the end, -1 when malformed. */
static int pb_next(const unsigned char **p, const unsigned char *end, pb_field *f)
{
    uint64_t key;
    if (*p == end) return 0;
    if (pb_varint(p, end, &key) < 0 || (key >> 3) == 0) return -1;
    f->number = key >> 3;
    f->wt = (int)(key & 7);
    f->data = *p;
    if (f->wt == 0) return pb_varint(p, end, &f->v) < 0 ? -1 : 1;
    if (f->wt == 2) {
        if (pb_varint(p, end, &f->v) < 0 || f->v > (uint64_t)(end - *p)) return -1;
        f->data = *p;
        *p += f->v;
        return 1;
    }
    size_t size = f->wt == 1 ? 8 : 4;
    if ((f->wt != 1 && f->wt != 5) || (size_t)(end - *p) < size) return -1;
    f->v = get_le(*p, (int)size);
    *p += size;
    return 1;
}

/* 1 when f has the wire type spec[number - 1] gives: '0' '1' '2' '5', '*' (1
 * or 2: a double, packed or not) or '-' (any); numbers past spec: any. */
static int wt_ok(const char *spec, const pb_field *f)
{
    if (f->number > strlen(spec)) return 1;
    char c = spec[f->number - 1];
    return c == '-' || c - '0' == f->wt || (c == '*' && (f->wt == 1 || f->wt == 2));
}

static double as_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void copy_tag(char *dst, const pb_field *f)
{
    size_t l = f->v > GS_TF_TAG_MAX ? GS_TF_TAG_MAX : (size_t)f->v;
    memcpy(dst, f->data, l);
    dst[l] = '\0';
}

static int decode_histo(const unsigned char *p, const unsigned char *end, gs_tf_record *r)
{
    double *stats[5] = { &r->hmin, &r->hmax, &r->hnum, &r->hsum, &r->hsum_squares };
    pb_field f;
    int st;
    while ((st = pb_next(&p, end, &f)) == 1) {
        if (!wt_ok("11111**", &f) || ((f.number == 6 || f.number == 7) && f.wt == 2 && f.v % 8)) return -1;
        if (f.number <= 5) *stats[f.number - 1] = as_double(f.v);
        if (f.number != 7) continue;
        size_t count = f.wt == 2 ? (size_t)f.v / 8 : 1;
        for (size_t i = 0; i < count; i++) r->hbucket_total += as_double(f.wt == 2 ? get_le(f.data + 8 * i, 8) : f.v);
        r->n_buckets = (size_t)r->n_buckets + count > INT_MAX ? INT_MAX : r->n_buckets + (int)count;
    }
    return st;
}

/* One Summary.Value into r (tag, kind and value fields); kind -1 for a kind not decoded. */
static int decode_value(const unsigned char *p, const unsigned char *end, gs_tf_record *r)
{
    pb_field f;
    int st;
    r->kind = -1;
    r->tag[0] = '\0';
    while ((st = pb_next(&p, end, &f)) == 1) {
        if (!wt_ok("25--2", &f)) return -1;
        if (f.number == 1) copy_tag(r->tag, &f);
        if (f.number == 2) {
            uint32_t u = (uint32_t)f.v;
            memcpy(&r->value, &u, 4);
            r->kind = GS_TF_SCALAR;
        }
        if (f.number == 5) {
            r->hmin = r->hmax = r->hnum = r->hsum = r->hsum_squares = r->hbucket_total = 0;
            r->n_buckets = 0;
            if (decode_histo(f.data, f.data + f.v, r) < 0) return -1;
            r->kind = GS_TF_HISTOGRAM;
        }
    }
    return st;
}

static int push(gs_tf_record **out, size_t *count, size_t *cap, const gs_tf_record *r)
{
    if (*count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        gs_tf_record *b = ncap < SIZE_MAX / sizeof *b ? realloc(*out, ncap * sizeof *b) : NULL;
        if (!b) return -1;
        *out = b;
        *cap = ncap;
    }
    (*out)[(*count)++] = *r;
    return 0;
}

/* Append the records of the Event in [d, end): 0, -1 when malformed, -2 out of memory. */
static int decode_event(const unsigned char *d, const unsigned char *end, gs_tf_record **out, size_t *count,
                        size_t *cap)
{
    gs_tf_record r;
    pb_field f, sf;
    int st, version = 0;
    const unsigned char *p = d;
    memset(&r, 0, sizeof r);
    while ((st = pb_next(&p, end, &f)) == 1) {
        if (!wt_ok("102-2", &f)) return -1;
        if (f.number == 1) r.wall_time = as_double(f.v);
        if (f.number == 2) r.step = (int64_t)f.v;
        if (f.number == 3) {
            copy_tag(r.tag, &f);
            version = 1;
        }
    }
    r.kind = GS_TF_FILE_VERSION;
    if (st < 0) return -1;
    if (version && push(out, count, cap, &r) < 0) return -2;
    /* A second pass, so that wall_time and step reach every value wherever they sit. */
    for (p = d; pb_next(&p, end, &f) == 1;) {
        if (f.number != 5) continue;
        const unsigned char *s = f.data, *send = f.data + f.v;
        while ((st = pb_next(&s, send, &sf)) == 1) {
            if (sf.number != 1) continue;
            if (sf.wt != 2 || decode_value(sf.data, sf.data + sf.v, &r) < 0) return -1;
            if (r.kind >= 0 && push(out, count, cap, &r) < 0) return -2;
        }
        if (st < 0) return -1;
    }
    return 0;
}

int gs_tfevents_parse(gs_ctx *ctx, const void *buf, size_t len, const char *origin, gs_tf_record **records,
                      size_t *n)
{
    if ((!buf && len) || !records || !n) return gs_error(ctx, GS_EINVAL, "gs_tfevents_parse: NULL argument");
    if (!origin) origin = "tfevents";
    const unsigned char *b = buf;
    gs_tf_record *out = NULL;
    size_t count = 0, cap = 0, off = 0;
    char why[160];
    uint32_t table[256];
    crc32c_init(table);
    while (off < len) {
        size_t left = len - off;
        uint64_t l = left >= 12 ? get_le(b + off, 8) : 0;
        const unsigned char *d = b + off + 12;
        int rc = 0;
        if (left < 12)
            snprintf(why, sizeof why, "truncated: %zu bytes left, a record header needs 12", left);
        else if (get_le(b + off + 8, 4) != gs_crc32c_mask(crc32c(table, b + off, 8)))
            snprintf(why, sizeof why, "length CRC mismatch");
        else if (left < 16 || l > left - 16)
            snprintf(why, sizeof why, "truncated: a %llu-byte record with %zu bytes left", (unsigned long long)l,
                     left - 12);
        else if (get_le(d + l, 4) != gs_crc32c_mask(crc32c(table, d, (size_t)l)))
            snprintf(why, sizeof why, "data CRC mismatch");
        else if ((rc = decode_event(d, d + l, &out, &count, &cap)) == -1)
            snprintf(why, sizeof why, "malformed Event protobuf in a %llu-byte record", (unsigned long long)l);
        else if (rc == -2) {
            free(out);
            return gs_error(ctx, GS_ENOMEM, "%s: out of memory after %zu records", origin, count);
        } else {
            off += 16 + (size_t)l;
            continue;
        }
        free(out);
        return gs_error(ctx, GS_EFORMAT, "%s: record at offset %zu: %s", origin, off, why);
    }
    *records = out;
    *n = count;
    return GS_OK;
}

int gs_tfevents_read(gs_ctx *ctx, const char *path, gs_tf_record **records, size_t *n)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = gs_io_read_file(ctx, path, TF_READ_MAX, &buf, &len);
    if (rc != GS_OK) return rc;
    rc = gs_tfevents_parse(ctx, buf, len, path, records, n);
    free(buf);
    return rc;
}
