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

/* CRC-32C table for the reflected polynomial 0x82F63B78. */
static const uint32_t crc32c_table[256] = {
    0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb,
    0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b, 0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24,
    0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
    0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b,
    0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a, 0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35,
    0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
    0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
    0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a, 0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595,
    0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
    0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198,
    0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927, 0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38,
    0xdbfc821c, 0x2997011f, 0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
    0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789,
    0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859, 0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
    0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
    0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de, 0xdde0eb2a, 0x2f8b6829,
    0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c, 0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93,
    0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
    0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc,
    0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c, 0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033,
    0xa24bb5a6, 0x502036a5, 0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
    0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982,
    0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d, 0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622,
    0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
    0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f,
    0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff, 0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0,
    0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
    0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
    0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee, 0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1,
    0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
    0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e,
    0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e, 0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

uint32_t gs_crc32c(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) c = crc32c_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
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
static unsigned char *put_bytes(unsigned char *p, unsigned char key, const void *s, size_t len)
{
    *p++ = key;
    p = put_varint(p, len);
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
    put_le(r + 8, gs_crc32c_mask(gs_crc32c(r, 8)), 4);
    put_le(r + 12 + data_len, gs_crc32c_mask(gs_crc32c(r + 12, data_len)), 4);
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
