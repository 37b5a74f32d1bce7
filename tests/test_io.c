/* test_io.c - file formats and datasets: round trips, every reader's error
 * paths (truncated, lying sizes, wrong magic, bad dtype, corrupt gzip), the
 * real Fashion-MNIST, and the synthetic sets' determinism.
 *
 * All test files are generated here, in a fresh temporary directory that is
 * removed at the end.  Error messages must name the file.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef GS_HAVE_ZLIB
#include <zlib.h>
#endif
#include "harness.h"
#include "io/io.h"
#include "io/json.h"

static gs_ctx *ctx;
static char tmpdir[64];

/* A path inside the temporary directory (rotating static buffers). */
static const char *tmp_path(const char *name)
{
    static char bufs[8][256];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, 256, "%s/%s", tmpdir, name);
    return b;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    if (len && fwrite(data, 1, len, f) != len) { perror(path); exit(2); }
    fclose(f);
}

/* A string literal's bytes, without the terminating NUL. */
#define WRITE_LIT(path, lit) write_bytes((path), (lit), sizeof(lit) - 1)

static unsigned char *read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); fclose(f); return NULL; }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* rc must be code, and the message must contain needle. */
#define CHECK_ERR(rc, code, needle) do { \
    int t_rc = (rc); const char *t_m = gs_errmsg(ctx); \
    CHECK(t_rc == (code), "got %d (%s), expected %d; message: %s", t_rc, gs_strerror(t_rc), (code), t_m); \
    CHECK(strstr(t_m, (needle)) != NULL, "message \"%s\" lacks \"%s\"", t_m, (needle)); \
    } while (0)

/* ---------------------------------------------------------------- JSON */

static void test_json_parse(void)
{
    const char *s = " {\"a\": [1, -2.5e2, true, false, null, {\"b\": \"x\\\"y\\\\z\\n\\u00e9\\ud83d\\ude00\"}],"
                    " \"big\": 9007199254740993, \"e\": {}, \"z\": []} ";
    gs_json *j = NULL;
    CHECK_EQ_INT(gs_json_parse(ctx, s, strlen(s), "t", &j), GS_OK);
    if (!j) return;
    const gs_json *a = gs_json_get(j, "a");
    CHECK(a && a->type == GS_JSON_ARRAY && a->n == 6, "array a");
    CHECK_NEAR(gs_json_number(gs_json_at(a, 0), 0), 1, 0, 0);
    CHECK_NEAR(gs_json_number(gs_json_at(a, 1), 0), -250, 0, 0);
    CHECK(gs_json_at(a, 2)->type == GS_JSON_BOOL && gs_json_at(a, 2)->boolean == 1, "true");
    CHECK(gs_json_at(a, 4)->type == GS_JSON_NULL, "null");
    CHECK(gs_json_at(a, 6) == NULL && gs_json_at(a, -1) == NULL, "out of range");
    const char *b = gs_json_string(gs_json_get(gs_json_at(a, 5), "b"));
    CHECK(b && strcmp(b, "x\"y\\z\n\xc3\xa9\xf0\x9f\x98\x80") == 0, "escapes decoded: %s", b ? b : "(null)");
    int64_t big = 0;
    CHECK(gs_json_int64(gs_json_get(j, "big"), &big) && big == INT64_C(9007199254740993), "exact int64");
    CHECK(!gs_json_int64(gs_json_at(a, 1), &big), "-2.5e2 is not an integer");
    CHECK(gs_json_get(j, "e")->n == 0 && gs_json_get(j, "z")->n == 0, "empty containers");
    CHECK(gs_json_get(j, "missing") == NULL, "missing key");
    gs_json_free(j);

    const char *bad[] = { "[1,]", "{\"a\" 1}", "[1 2]", "\"abc", "tru", "01", "1.", "{\"a\":1}}", "[\"\\x\"]",
                          "\"\\ud800\"", "-", "[", "", "{1:2}", "\"a\x01\"" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = NULL;
        CHECK_ERR(gs_json_parse(ctx, bad[i], strlen(bad[i]), "hdr.json", &j), GS_EFORMAT, "hdr.json");
        CHECK(j == NULL, "output untouched for %s", bad[i]);
    }
    char deep[300];
    memset(deep, '[', 200);
    CHECK_ERR(gs_json_parse(ctx, deep, 200, "deep", &j), GS_EFORMAT, "too deep");
}

static void test_json_escape(void)
{
    const char *in = "q\"b\\s/n\nt\tc\x01\x1f utf8 \xc3\xa9";
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CHECK_EQ_INT(gs_json_escape(m, in), 0);
    fclose(m);
    CHECK(strstr(buf, "\\u0001") && strstr(buf, "\\u001f") && strstr(buf, "\\\""), "escaped: %s", buf);
    gs_json *j = NULL;
    CHECK_EQ_INT(gs_json_parse(ctx, buf, len, "esc", &j), GS_OK);
    CHECK(j && j->type == GS_JSON_STRING && strcmp(j->string, in) == 0, "round trip");
    gs_json_free(j);
    free(buf);
}

/* --------------------------------------------------------- safetensors */

static gs_tensor_list *sample_list(void)
{
    gs_tensor_list *t = gs_tensor_list_create();
    float w[6] = { 1.5f, -2, 3, 4e-8f, -0.0f, 1e30f };
    double d[3] = { 1.0 / 3, -1e300, 2 };
    int32_t i32[4] = { -7, 0, 2147483647, -2147483647 - 1 };
    int64_t i64[2] = { INT64_MIN, INT64_C(1) << 40 };
    uint8_t u8[5] = { 0, 1, 128, 254, 255 };
    float s = 42;
    int64_t sh_w[2] = { 2, 3 }, sh_d[1] = { 3 }, sh_i[2] = { 2, 2 }, sh_l[1] = { 2 }, sh_u[3] = { 5, 1, 1 },
            sh_z[2] = { 0, 4 };
    int rc = 0;
    rc |= gs_tensor_list_add(ctx, t, "layers.0.weight", GS_DT_F32, 2, sh_w, w);
    rc |= gs_tensor_list_add(ctx, t, "d", GS_DT_F64, 1, sh_d, d);
    rc |= gs_tensor_list_add(ctx, t, "i32", GS_DT_I32, 2, sh_i, i32);
    rc |= gs_tensor_list_add(ctx, t, "a.i64", GS_DT_I64, 1, sh_l, i64);
    rc |= gs_tensor_list_add(ctx, t, "u8", GS_DT_U8, 3, sh_u, u8);
    rc |= gs_tensor_list_add(ctx, t, "scalar", GS_DT_F32, 0, NULL, &s);
    rc |= gs_tensor_list_add(ctx, t, "empty", GS_DT_F32, 2, sh_z, NULL);
    rc |= gs_tensor_list_set_meta(ctx, t, "config", "{\"width\": 256, \"name\": \"a\\\"b\"}");
    rc |= gs_tensor_list_set_meta(ctx, t, "version", "0.0.1");
    rc |= gs_tensor_list_set_meta(ctx, t, "version", GS_VERSION);
    CHECK_EQ_INT(rc, GS_OK);
    return t;
}

static void test_tensor_list(void)
{
    gs_tensor_list *t = sample_list();
    int64_t sh[1] = { 1 };
    float v = 0;
    CHECK_ERR(gs_tensor_list_add(ctx, t, "d", GS_DT_F32, 1, sh, &v), GS_EINVAL, "duplicate");
    CHECK_ERR(gs_tensor_list_add(ctx, t, "__metadata__", GS_DT_F32, 1, sh, &v), GS_EINVAL, "__metadata__");
    CHECK_ERR(gs_tensor_list_add(ctx, t, "x", GS_DT_F32, 9, sh, &v), GS_EINVAL, "ndim");
    sh[0] = -1;
    CHECK_ERR(gs_tensor_list_add(ctx, t, "x", GS_DT_F32, 1, sh, &v), GS_EINVAL, "dimension");
    CHECK_EQ_INT(t->n, 7);
    CHECK(gs_tensor_list_find(t, "u8") && gs_tensor_list_find(t, "u8")->nbytes == 5, "find");
    CHECK(gs_tensor_list_find(t, "nope") == NULL, "find missing");
    CHECK(strcmp(gs_tensor_list_meta(t, "version"), GS_VERSION) == 0 && t->n_meta == 2, "meta replaced");
    CHECK(gs_tensor_list_find(t, "scalar")->nbytes == 4 && gs_tensor_list_find(t, "empty")->nbytes == 0, "sizes");
    gs_tensor_list_free(t);
    gs_tensor_list_free(NULL);
}

static void test_safetensors_roundtrip(void)
{
    gs_tensor_list *t = sample_list(), *r = NULL;
    const char *path = tmp_path("model.safetensors");
    CHECK_EQ_INT(gs_safetensors_save(ctx, path, t), GS_OK);
    size_t len = 0;
    unsigned char *raw = read_bytes(path, &len);
    CHECK(raw != NULL, "file written");
    if (!raw) return;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | raw[i];
    CHECK((8 + hlen) % 8 == 0, "header padded to 8: %llu", (unsigned long long)hlen);
    CHECK(raw[8] == '{' && (raw[8 + hlen - 1] == ' ' || raw[8 + hlen - 1] == '}'), "header shape");
    free(raw);
    char tmpname[300];
    snprintf(tmpname, sizeof tmpname, "%s.tmp.%ld", path, (long)getpid());
    CHECK(access(tmpname, F_OK) != 0, "no temp file left");
    CHECK_EQ_INT(gs_safetensors_load(ctx, path, &r), GS_OK);
    if (!r) { gs_tensor_list_free(t); return; }
    CHECK_EQ_INT(r->n, t->n);
    for (int i = 0; i < t->n && i < r->n; i++) {
        const gs_tensor_entry *a = &t->items[i], *b = &r->items[i];
        CHECK(strcmp(a->name, b->name) == 0, "order kept: %s vs %s", a->name, b->name);
        CHECK(a->dtype == b->dtype && a->ndim == b->ndim && a->nbytes == b->nbytes, "%s: type/shape", a->name);
        CHECK(memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim) == 0, "%s: shape", a->name);
        CHECK(a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0, "%s: data", a->name);
    }
    CHECK(strcmp(gs_tensor_list_meta(r, "config"), gs_tensor_list_meta(t, "config")) == 0, "meta config");
    CHECK(strcmp(gs_tensor_list_meta(r, "version"), GS_VERSION) == 0, "meta version");
    gs_tensor_list_free(r);
    /* Saving over an existing file replaces it. */
    gs_tensor_list *small = gs_tensor_list_create();
    CHECK_EQ_INT(gs_safetensors_save(ctx, path, small), GS_OK);
    r = NULL;
    CHECK_EQ_INT(gs_safetensors_load(ctx, path, &r), GS_OK);
    CHECK(r && r->n == 0 && r->n_meta == 0, "empty list round trip");
    gs_tensor_list_free(r);
    gs_tensor_list_free(small);
    gs_tensor_list_free(t);
    CHECK_ERR(gs_safetensors_save(ctx, tmp_path("no/such/dir.safetensors"), t = gs_tensor_list_create()),
              GS_EIO, "no/such/dir");
    gs_tensor_list_free(t);
}

/* Build a safetensors buffer from a header text and raw data. */
static unsigned char *st_build(const char *header, size_t pad, const void *data, size_t dlen, size_t *len)
{
    size_t h = strlen(header) + pad;
    unsigned char *b = malloc(8 + h + dlen + 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, strlen(header));
    memset(b + 8 + strlen(header), ' ', pad);
    if (dlen) memcpy(b + 8 + h, data, dlen);
    *len = 8 + h + dlen;
    return b;
}

static void test_safetensors_pytorch_layout(void)
{
    /* What safetensors.torch.save_file writes for {"fc.weight": (2,2), "fc.bias": (2,)}:
     * keys sorted, __metadata__ first, header padded with spaces to 8. */
    const char *h = "{\"__metadata__\":{\"format\":\"pt\"},\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],"
                    "\"data_offsets\":[0,8]},\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                    "\"data_offsets\":[8,24]}}";
    float data[6] = { 0.5f, -0.5f, 1, 2, 3, 4 };
    size_t pad = (8 - strlen(h) % 8) % 8, len;
    for (int variant = 0; variant < 2; variant++) {
        unsigned char *b = st_build(h, variant ? 0 : pad, data, sizeof data, &len);
        gs_tensor_list *t = NULL;
        CHECK_EQ_INT(gs_safetensors_parse(ctx, b, len, "torch.safetensors", &t), GS_OK);
        if (t) {
            const gs_tensor_entry *w = gs_tensor_list_find(t, "fc.weight"), *bi = gs_tensor_list_find(t, "fc.bias");
            CHECK(w && bi && w->ndim == 2 && w->shape[0] == 2 && w->shape[1] == 2, "weight shape");
            CHECK(w && ((float *)w->data)[3] == 4 && bi && ((float *)bi->data)[1] == -0.5f, "data");
            CHECK(strcmp(gs_tensor_list_meta(t, "format"), "pt") == 0, "format meta");
        }
        gs_tensor_list_free(t);
        free(b);
    }
    /* Header order differs from data order: entries come back in data order. */
    const char *h2 = "{\"z\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                     "\"a\":{\"data_offsets\":[8,9],\"shape\":[1],\"dtype\":\"U8\"}}";
    unsigned char d2[9] = { 7, 0, 0, 0, 0, 0, 0, 0, 200 };
    unsigned char *b = st_build(h2, 0, d2, 9, &len);
    gs_tensor_list *t = NULL;
    CHECK_EQ_INT(gs_safetensors_parse(ctx, b, len, "order", &t), GS_OK);
    CHECK(t && t->n == 2 && strcmp(t->items[0].name, "z") == 0 && *(int64_t *)t->items[0].data == 7 &&
          t->items[0].ndim == 0 && ((uint8_t *)t->items[1].data)[0] == 200, "order and values");
    gs_tensor_list_free(t);
    free(b);
}

static void st_expect(const char *name, const char *header, const void *data, size_t dlen, int code,
                      const char *needle)
{
    size_t len;
    unsigned char *b = st_build(header, 0, data, dlen, &len);
    const char *path = tmp_path(name);
    write_bytes(path, b, len);
    free(b);
    gs_tensor_list *t = NULL;
    int rc = gs_safetensors_load(ctx, path, &t);
    CHECK_ERR(rc, code, path);
    CHECK(strstr(gs_errmsg(ctx), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", name, gs_errmsg(ctx), needle);
    CHECK(t == NULL, "%s: output untouched", name);
}

static void test_safetensors_errors(void)
{
    float d[4] = { 1, 2, 3, 4 };
    const char *ok = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    st_expect("trunc.st", ok, d, 12, GS_EFORMAT, "run past");
    size_t oklen;
    unsigned char *okb = st_build(ok, 0, d, 16, &oklen);
    gs_tensor_list *good = NULL;
    CHECK_EQ_INT(gs_safetensors_parse(ctx, okb, oklen, "good", &good), GS_OK);   /* the control loads */
    gs_tensor_list_free(good);
    free(okb);
    st_expect("garbage.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", d, 16,
              GS_EFORMAT, "describes 12 bytes");
    st_expect("f16.st", "{\"w\":{\"dtype\":\"F16\",\"shape\":[8],\"data_offsets\":[0,16]}}", d, 16,
              GS_EUNSUPPORTED, "F16");
    st_expect("dtype.st", "{\"w\":{\"dtype\":\"Q7\",\"shape\":[4],\"data_offsets\":[0,16]}}", d, 16,
              GS_EFORMAT, "unknown dtype");
    st_expect("shape.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[0,16]}}", d, 16,
              GS_EFORMAT, "need 20 bytes");
    st_expect("overlap.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", d, 12, GS_EFORMAT, "overlap");
    st_expect("gap.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", d, 16,
              GS_EFORMAT, "contiguous");
    st_expect("dup.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", d, 16, GS_EFORMAT, "twice");
    st_expect("meta.st", "{\"__metadata__\":{\"n\":3},\"w\":{\"dtype\":\"F32\",\"shape\":[4],"
              "\"data_offsets\":[0,16]}}", d, 16, GS_EFORMAT, "not a string");
    st_expect("neg.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", d, 16,
              GS_EFORMAT, "shape[0]");
    st_expect("json.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}", d, 16,
              GS_EFORMAT, "JSON");
    st_expect("ndim.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,4],\"data_offsets\":[0,16]}}",
              d, 16, GS_EUNSUPPORTED, "dimensions");
    /* Lying header length, absurd header length, wrong magic, too short. */
    unsigned char lie[24] = { 200, 0, 0, 0, 0, 0, 0, 0, '{', '}' };
    write_bytes(tmp_path("lie.st"), lie, sizeof lie);
    gs_tensor_list *t = NULL;
    CHECK_ERR(gs_safetensors_load(ctx, tmp_path("lie.st"), &t), GS_EFORMAT, "lie.st");
    CHECK(strstr(gs_errmsg(ctx), "header length says 200"), "%s", gs_errmsg(ctx));
    unsigned char huge[16] = { 0, 0, 0, 0, 0, 0, 0, 1, '{', '}' };
    write_bytes(tmp_path("huge.st"), huge, sizeof huge);
    CHECK_ERR(gs_safetensors_load(ctx, tmp_path("huge.st"), &t), GS_EFORMAT, "limit");
    WRITE_LIT(tmp_path("magic.st"), "\x93NUMPY\x01\x00\x00\x00{}");
    CHECK_ERR(gs_safetensors_load(ctx, tmp_path("magic.st"), &t), GS_EFORMAT, "magic.st");
    WRITE_LIT(tmp_path("short.st"), "\x02\0\0");
    CHECK_ERR(gs_safetensors_load(ctx, tmp_path("short.st"), &t), GS_EFORMAT, "too short");
    CHECK_ERR(gs_safetensors_load(ctx, tmp_path("absent.st"), &t), GS_ENOTFOUND, "absent.st");
    CHECK(t == NULL, "untouched");
    /* Every prefix of a valid file is rejected cleanly. */
    gs_tensor_list *s = sample_list();
    CHECK_EQ_INT(gs_safetensors_save(ctx, tmp_path("full.st"), s), GS_OK);
    gs_tensor_list_free(s);
    size_t len = 0;
    unsigned char *raw = read_bytes(tmp_path("full.st"), &len);
    int bad = 0;
    for (size_t cut = 0; raw && cut < len; cut++) {
        if (gs_safetensors_parse(ctx, raw, cut, "cut", &t) != GS_EFORMAT) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    free(raw);
}

/* ----------------------------------------------------------------- npy */

static void test_npy_roundtrip(void)
{
    float f[6] = { 1, -2, 3.5f, 0, 1e-20f, 7 };
    int64_t l[5] = { 0, 1, -1, INT64_MAX, 9 };
    int64_t sf[2] = { 2, 3 }, sl[1] = { 5 };
    CHECK_EQ_INT(gs_npy_save(ctx, tmp_path("f.npy"), GS_DT_F32, 2, sf, f), GS_OK);
    CHECK_EQ_INT(gs_npy_save(ctx, tmp_path("l.npy"), GS_DT_I64, 1, sl, l), GS_OK);
    CHECK_EQ_INT(gs_npy_save(ctx, tmp_path("s.npy"), GS_DT_F32, 0, NULL, f), GS_OK);
    size_t len = 0;
    unsigned char *raw = read_bytes(tmp_path("f.npy"), &len);
    CHECK(raw && len == 128 + 24, "f.npy is %zu bytes", len);
    if (raw) {
        const char *want = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        CHECK(memcmp(raw, "\x93NUMPY\x01\x00", 8) == 0 && raw[8] + 256 * raw[9] == 118, "preamble");
        CHECK(memcmp(raw + 10, want, strlen(want)) == 0 && raw[127] == '\n', "numpy's header text");
    }
    free(raw);
    raw = read_bytes(tmp_path("l.npy"), &len);
    CHECK(raw && strstr((char *)raw + 10, "'<i8'") && strstr((char *)raw + 10, "(5,)"), "1-D header");
    free(raw);
    gs_tensor_entry e = { 0 };
    CHECK_EQ_INT(gs_npy_load(ctx, tmp_path("f.npy"), &e), GS_OK);
    CHECK(e.dtype == GS_DT_F32 && e.ndim == 2 && e.shape[0] == 2 && e.shape[1] == 3 && e.nbytes == 24 &&
          memcmp(e.data, f, 24) == 0 && e.name == NULL, "f32 round trip");
    gs_tensor_entry_clear(&e);
    CHECK_EQ_INT(gs_npy_load(ctx, tmp_path("l.npy"), &e), GS_OK);
    CHECK(e.dtype == GS_DT_I64 && e.ndim == 1 && e.shape[0] == 5 && memcmp(e.data, l, 40) == 0, "i64 round trip");
    gs_tensor_entry_clear(&e);
    CHECK_EQ_INT(gs_npy_load(ctx, tmp_path("s.npy"), &e), GS_OK);
    CHECK(e.ndim == 0 && e.nbytes == 4 && ((float *)e.data)[0] == 1, "0-d round trip");
    gs_tensor_entry_clear(&e);
    CHECK(e.data == NULL && e.nbytes == 0, "cleared");
}

/* An .npy buffer with an arbitrary version and header text. */
static unsigned char *npy_build(int major, const char *dict, const void *data, size_t dlen, size_t *len)
{
    size_t pre = major == 1 ? 10 : 12, h = strlen(dict) + 1;
    unsigned char *b = malloc(pre + h + dlen + 1);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) b[8 + i] = (unsigned char)(h >> (8 * i));
    memcpy(b + pre, dict, h - 1);
    b[pre + h - 1] = '\n';
    if (dlen) memcpy(b + pre + h, data, dlen);
    *len = pre + h + dlen;
    return b;
}

static void test_npy_variants(void)
{
    size_t len;
    gs_tensor_entry e = { 0 };
    double d[3] = { 0.1, -2, 1e10 };
    unsigned char *b = npy_build(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", d, 24, &len);
    CHECK_EQ_INT(gs_npy_parse(ctx, b, len, "f8", &e), GS_OK);
    CHECK(e.dtype == GS_DT_F32 && e.nbytes == 12 && ((float *)e.data)[0] == 0.1f &&
          ((float *)e.data)[2] == 1e10f, "f8 -> f32");
    gs_tensor_entry_clear(&e);
    free(b);
    int32_t i4[4] = { 1, -2, 3, -4 };
    b = npy_build(2, "{\"shape\": (2, 2), \"fortran_order\": False, \"descr\": \"<i4\"}", i4, 16, &len);
    CHECK_EQ_INT(gs_npy_parse(ctx, b, len, "v2", &e), GS_OK);
    CHECK(e.dtype == GS_DT_I32 && e.shape[1] == 2 && ((int32_t *)e.data)[3] == -4, "v2 i4");
    gs_tensor_entry_clear(&e);
    free(b);
    unsigned char be[8] = { 0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0 };   /* 1.0f, -2.0f big-endian */
    b = npy_build(3, "{'descr': '>f4', 'fortran_order': False, 'shape': (1L, 2L), }", be, 8, &len);
    CHECK_EQ_INT(gs_npy_parse(ctx, b, len, "v3", &e), GS_OK);
    CHECK(e.nbytes == 8 && ((float *)e.data)[0] == 1 && ((float *)e.data)[1] == -2, "big-endian f4");
    gs_tensor_entry_clear(&e);
    free(b);
    unsigned char u1[3] = { 0, 128, 255 };
    b = npy_build(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 1, 1, 1, 1, 1, 1, 1), }", u1, 3, &len);
    CHECK_EQ_INT(gs_npy_parse(ctx, b, len, "u1", &e), GS_OK);
    CHECK(e.dtype == GS_DT_U8 && e.ndim == 8 && ((uint8_t *)e.data)[2] == 255, "u1 8-d");
    gs_tensor_entry_clear(&e);
    free(b);
    b = npy_build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", NULL, 0, &len);
    CHECK_EQ_INT(gs_npy_parse(ctx, b, len, "empty", &e), GS_OK);
    CHECK(e.nbytes == 0 && e.shape[0] == 0 && e.shape[1] == 5, "empty array");
    gs_tensor_entry_clear(&e);
    free(b);
}

static void npy_expect(const char *name, int major, const char *dict, size_t dlen, int code, const char *needle)
{
    static const unsigned char zeros[64];
    size_t len;
    unsigned char *b = npy_build(major, dict, zeros, dlen, &len);
    const char *path = tmp_path(name);
    write_bytes(path, b, len);
    free(b);
    gs_tensor_entry e = { 0 };
    e.nbytes = 12345;
    CHECK_ERR(gs_npy_load(ctx, path, &e), code, path);
    CHECK(strstr(gs_errmsg(ctx), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", name, gs_errmsg(ctx), needle);
    CHECK(e.nbytes == 12345 && e.data == NULL, "%s: output untouched", name);
}

static void test_npy_errors(void)
{
    const char *d34 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
    npy_expect("trunc.npy", 1, d34, 40, GS_EFORMAT, "truncated");
    npy_expect("trail.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 16, GS_EFORMAT,
               "trailing");
    npy_expect("lie.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3000000000, 4), }", 48,
               GS_EFORMAT, "header says 48000000000 bytes");
    npy_expect("c8.npy", 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, GS_EUNSUPPORTED, "<c8");
    npy_expect("f2.npy", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", 4, GS_EUNSUPPORTED, "<f2");
    npy_expect("fort.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", 48, GS_EUNSUPPORTED,
               "fortran_order");
    npy_expect("v4.npy", 4, d34, 48, GS_EUNSUPPORTED, "version 4");
    npy_expect("key.npy", 1, "{'descr': '<f4', 'shape': (3, 4), }", 48, GS_EFORMAT, "fortran_order");
    npy_expect("extra.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}", 48,
               GS_EFORMAT, "unexpected");
    npy_expect("ndim.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4,
               GS_EUNSUPPORTED, "dimensions");
    npy_expect("rec.npy", 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4,
               GS_EUNSUPPORTED, "structured");
    npy_expect("order.npy", 1, "{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }", 4, GS_EFORMAT,
               "byte-order");
    npy_expect("ovf.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 4,
               GS_EFORMAT, "overflows");
    WRITE_LIT(tmp_path("magic.npy"), "PK\x03\x04 zip file, not npy");
    gs_tensor_entry e = { 0 };
    CHECK_ERR(gs_npy_load(ctx, tmp_path("magic.npy"), &e), GS_EFORMAT, "magic.npy");
    unsigned char lie[16] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x7f, '{' };
    write_bytes(tmp_path("hlen.npy"), lie, sizeof lie);
    CHECK_ERR(gs_npy_load(ctx, tmp_path("hlen.npy"), &e), GS_EFORMAT, "header length says 32767");
    CHECK_ERR(gs_npy_load(ctx, tmp_path("absent.npy"), &e), GS_ENOTFOUND, "absent.npy");
    /* Every prefix of a valid file is rejected cleanly. */
    size_t len = 0;
    int64_t sh[1] = { 3 };
    float v[3] = { 1, 2, 3 };
    CHECK_EQ_INT(gs_npy_save(ctx, tmp_path("ok.npy"), GS_DT_F32, 1, sh, v), GS_OK);
    unsigned char *raw = read_bytes(tmp_path("ok.npy"), &len);
    int bad = 0;
    for (size_t cut = 0; raw && cut < len; cut++)
        if (gs_npy_parse(ctx, raw, cut, "cut", &e) != GS_EFORMAT) bad++;
    CHECK_EQ_INT(bad, 0);
    free(raw);
}

/* ----------------------------------------------------------------- IDX */

/* An IDX buffer: type, ndim, dims, then fill bytes (data = i * 7 mod 256). */
static unsigned char *idx_build(int type, int ndim, const uint32_t *dims, size_t data_len, size_t *len)
{
    unsigned char *b = malloc(4 + 4 * (size_t)ndim + data_len + 1);
    b[0] = 0; b[1] = 0; b[2] = (unsigned char)type; b[3] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++)
        for (int k = 0; k < 4; k++) b[4 + 4 * i + k] = (unsigned char)(dims[i] >> (24 - 8 * k));
    for (size_t i = 0; i < data_len; i++) b[4 + 4 * ndim + i] = (unsigned char)(i * 7);
    *len = 4 + 4 * (size_t)ndim + data_len;
    return b;
}

static void idx_expect(const char *name, int type, int ndim, const uint32_t *dims, size_t dlen, int code,
                       const char *needle)
{
    size_t len;
    unsigned char *b = idx_build(type, ndim, dims, dlen, &len);
    const char *path = tmp_path(name);
    write_bytes(path, b, len);
    free(b);
    gs_idx x = { 0 };
    x.nbytes = 999;
    CHECK_ERR(gs_idx_load(ctx, path, &x), code, path);
    CHECK(strstr(gs_errmsg(ctx), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", name, gs_errmsg(ctx), needle);
    CHECK(x.nbytes == 999 && x.data == NULL, "%s: output untouched", name);
}

static void test_idx(void)
{
    uint32_t dims[3] = { 2, 3, 4 };
    size_t len;
    unsigned char *b = idx_build(8, 3, dims, 24, &len);
    gs_idx x = { 0 };
    CHECK_EQ_INT(gs_idx_parse(ctx, b, len, "mem", &x), GS_OK);
    CHECK(x.ndim == 3 && x.dims[0] == 2 && x.dims[2] == 4 && x.nbytes == 24 && x.data[5] == 35, "parsed");
    gs_idx_clear(&x);
    write_bytes(tmp_path("ok-idx3-ubyte"), b, len);
    CHECK_EQ_INT(gs_idx_load(ctx, tmp_path("ok-idx3-ubyte"), &x), GS_OK);
    CHECK(x.nbytes == 24 && x.data[23] == (unsigned char)(23 * 7), "loaded");
    gs_idx_clear(&x);
    int bad = 0;
    for (size_t cut = 0; cut < len; cut++)
        if (gs_idx_parse(ctx, b, cut, "cut", &x) != GS_EFORMAT) bad++;
    CHECK_EQ_INT(bad, 0);
    free(b);
    idx_expect("trunc.idx", 8, 3, dims, 20, GS_EFORMAT, "header says 24 bytes of data, file has 20");
    uint32_t lying[3] = { 60000, 28, 28 };
    idx_expect("lie.idx", 8, 3, lying, 1000, GS_EFORMAT, "header says 47040000 bytes");
    idx_expect("trail.idx", 8, 3, dims, 30, GS_EFORMAT, "trailing garbage");
    idx_expect("float.idx", 0x0D, 3, dims, 96, GS_EUNSUPPORTED, "0x0d");
    idx_expect("type.idx", 0x07, 3, dims, 24, GS_EFORMAT, "unknown IDX element type");
    uint32_t zero[3] = { 2, 0, 4 };
    idx_expect("zero.idx", 8, 3, zero, 0, GS_EFORMAT, "dimension 1 is 0");
    uint32_t absurd[3] = { 0xffffffffu, 1, 1 };
    idx_expect("absurd.idx", 8, 3, absurd, 4, GS_EFORMAT, "dimension 0");
    uint32_t big[4] = { 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff };
    idx_expect("ovf.idx", 8, 4, big, 4, GS_EFORMAT, "overflow");
    idx_expect("ndim.idx", 8, 0, dims, 4, GS_EFORMAT, "0 dimensions");
    WRITE_LIT(tmp_path("magic.idx"), "\x50\x4b\x08\x03 zip");
    CHECK_ERR(gs_idx_load(ctx, tmp_path("magic.idx"), &x), GS_EFORMAT, "bad IDX magic");
    CHECK_ERR(gs_idx_load(ctx, tmp_path("absent.idx"), &x), GS_ENOTFOUND, "absent.idx");
}

#ifdef GS_HAVE_ZLIB
/* gzip-compress buf into a new buffer. */
static unsigned char *gz(const unsigned char *buf, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    size_t cap = deflateBound(&zs, (uLong)len) + 64;
    unsigned char *o = malloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)buf;
    zs.avail_in = (uInt)len;
    zs.next_out = o;
    zs.avail_out = (uInt)cap;
    deflate(&zs, Z_FINISH);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return o;
}
#endif

static void test_idx_gzip(void)
{
#ifdef GS_HAVE_ZLIB
    uint32_t dims[3] = { 50, 28, 28 };
    size_t len, zlen;
    unsigned char *b = idx_build(8, 3, dims, 50 * 784, &len);
    unsigned char *z = gz(b, len, &zlen);
    write_bytes(tmp_path("img.gz"), z, zlen);
    gs_idx x = { 0 };
    CHECK_EQ_INT(gs_idx_load(ctx, tmp_path("img.gz"), &x), GS_OK);
    CHECK(x.nbytes == 50 * 784 && memcmp(x.data, b + 16, x.nbytes) == 0, "gunzipped content");
    gs_idx_clear(&x);
    /* Two gzip members concatenated (what `cat a.gz b.gz` gives). */
    size_t z1, z2;
    unsigned char *p1 = gz(b, 1000, &z1), *p2 = gz(b + 1000, len - 1000, &z2);
    unsigned char *cat = malloc(z1 + z2);
    memcpy(cat, p1, z1);
    memcpy(cat + z1, p2, z2);
    write_bytes(tmp_path("cat.gz"), cat, z1 + z2);
    CHECK_EQ_INT(gs_idx_load(ctx, tmp_path("cat.gz"), &x), GS_OK);
    CHECK(x.nbytes == 50 * 784, "multi-member gzip");
    gs_idx_clear(&x);
    free(p1); free(p2); free(cat);
    /* Truncated stream, corrupt stream, trailing garbage, bad CRC. */
    write_bytes(tmp_path("trunc.gz"), z, zlen / 2);
    CHECK_ERR(gs_idx_load(ctx, tmp_path("trunc.gz"), &x), GS_EFORMAT, "trunc.gz");
    CHECK(strstr(gs_errmsg(ctx), "truncated"), "%s", gs_errmsg(ctx));
    unsigned char *c = malloc(zlen);
    memcpy(c, z, zlen);
    for (size_t i = 20; i < 60; i++) c[i] ^= 0x5a;
    write_bytes(tmp_path("corrupt.gz"), c, zlen);
    CHECK_ERR(gs_idx_load(ctx, tmp_path("corrupt.gz"), &x), GS_EFORMAT, "corrupt.gz");
    memcpy(c, z, zlen);
    c[zlen - 6] ^= 1;   /* CRC32 field */
    write_bytes(tmp_path("crc.gz"), c, zlen);
    CHECK_ERR(gs_idx_load(ctx, tmp_path("crc.gz"), &x), GS_EFORMAT, "crc.gz");
    free(c);
    unsigned char *tg = malloc(zlen + 5);
    memcpy(tg, z, zlen);
    memcpy(tg + zlen, "junk!", 5);
    write_bytes(tmp_path("tail.gz"), tg, zlen + 5);
    CHECK_ERR(gs_idx_load(ctx, tmp_path("tail.gz"), &x), GS_EFORMAT, "trailing garbage");
    free(tg);
    /* Output is bounded: 4 MB of zeros (a 4 KB stream) against a 1 MB cap. */
    unsigned char *zeros = calloc(1, 4 << 20);
    size_t bl, ol = 0;
    unsigned char *bomb = gz(zeros, 4 << 20, &bl), *o = NULL;
    CHECK_ERR(gs_io_gunzip(ctx, bomb, bl, "bomb.gz", 1 << 20, &o, &ol), GS_EFORMAT, "more than 1048576 bytes");
    CHECK(o == NULL && ol == 0, "untouched");
    CHECK_EQ_INT(gs_io_gunzip(ctx, bomb, bl, "bomb.gz", 4 << 20, &o, &ol), GS_OK);
    CHECK(o && ol == (size_t)4 << 20 && memcmp(o, zeros, ol) == 0, "exactly at the cap");
    free(o);
    free(bomb);
    free(zeros);
    /* A valid gzip of a lying IDX: the IDX check still fires, naming the file. */
    dims[0] = 51;
    free(b);
    b = idx_build(8, 3, dims, 50 * 784, &len);
    free(z);
    z = gz(b, len, &zlen);
    write_bytes(tmp_path("lie.gz"), z, zlen);
    CHECK_ERR(gs_idx_load(ctx, tmp_path("lie.gz"), &x), GS_EFORMAT, "lie.gz");
    CHECK(x.data == NULL, "untouched");
    free(b);
    free(z);
#else
    unsigned char fake[20] = { 0x1f, 0x8b, 8, 0 };
    write_bytes(tmp_path("x.gz"), fake, sizeof fake);
    gs_idx x = { 0 };
    CHECK_ERR(gs_idx_load(ctx, tmp_path("x.gz"), &x), GS_EUNSUPPORTED, "zlib");
#endif
}

/* ------------------------------------------------------------ datasets */

static void write_idx_pair(const char *prefix, const char *split, int n, int rows, int cols, int label_mod,
                           int n_labels, int gzip)
{
    char path[300];
    uint32_t d3[3] = { (uint32_t)n, (uint32_t)rows, (uint32_t)cols }, d1[1] = { (uint32_t)n_labels };
    size_t len;
    unsigned char *b = idx_build(8, 3, d3, (size_t)n * rows * cols, &len);
    snprintf(path, sizeof path, "%s%s-images-idx3-ubyte%s", prefix, split, gzip ? ".gz" : "");
#ifdef GS_HAVE_ZLIB
    if (gzip) {
        size_t zl;
        unsigned char *z = gz(b, len, &zl);
        write_bytes(path, z, zl);
        free(z);
    } else
#endif
        write_bytes(path, b, len);
    free(b);
    b = idx_build(8, 1, d1, (size_t)n_labels, &len);
    for (int i = 0; i < n_labels; i++) b[8 + i] = (unsigned char)(i % label_mod);
    snprintf(path, sizeof path, "%s%s-labels-idx1-ubyte", prefix, split);
    write_bytes(path, b, len);
    free(b);
}

static void test_dataset_idx(void)
{
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s/my-", tmpdir);
#ifdef GS_HAVE_ZLIB
    int gzip = 1;
#else
    int gzip = 0;
#endif
    write_idx_pair(prefix, "train", 30, 5, 6, 4, 30, gzip);
    write_idx_pair(prefix, "t10k", 10, 5, 6, 7, 10, 0);
    char spec[300];
    snprintf(spec, sizeof spec, "idx:%s", prefix);
    gs_dataset *d = NULL;
    CHECK_EQ_INT(gs_dataset_load(ctx, spec, 0, 0, &d), GS_OK);
    if (d) {
        CHECK(d->n == 30 && d->channels == 1 && d->height == 5 && d->width == 6 && d->features == 30, "dims");
        CHECK_EQ_INT(d->classes, 7);   /* the test split has labels up to 6 */
        CHECK_NEAR(d->x[3], (double)(unsigned char)(3 * 7) / 255.0, 1e-7, 0);
        CHECK(d->y[5] == 1 && d->y[3] == 3, "labels");
    }
    gs_dataset_free(d);
    d = NULL;
    CHECK_EQ_INT(gs_dataset_load(ctx, spec, 1, 0, &d), GS_OK);
    CHECK(d && d->n == 10 && d->classes == 7 && d->y[6] == 6, "test split");
    gs_dataset_free(d);
    /* Counts disagree: both files named. */
    write_idx_pair(prefix, "t10k", 10, 5, 6, 7, 9, 0);
    d = NULL;
    CHECK_ERR(gs_dataset_load(ctx, spec, 1, 0, &d), GS_EFORMAT, "my-t10k-images-idx3-ubyte");
    CHECK(strstr(gs_errmsg(ctx), "my-t10k-labels-idx1-ubyte") && strstr(gs_errmsg(ctx), "9 labels"), "%s",
          gs_errmsg(ctx));
    CHECK(d == NULL, "untouched");
    /* Labels out of range for Fashion-MNIST's 10 classes (directory override). */
    char dir[200];
    snprintf(dir, sizeof dir, "%s/fm", tmpdir);
    mkdir(dir, 0700);
    snprintf(prefix, sizeof prefix, "%s/", dir);
    write_idx_pair(prefix, "train", 20, 2, 2, 13, 20, 0);
    setenv("GS_FASHION_MNIST_DIR", dir, 1);
    CHECK_ERR(gs_dataset_load(ctx, "fashion-mnist", 0, 0, &d), GS_EFORMAT, "train-labels-idx1-ubyte");
    CHECK(strstr(gs_errmsg(ctx), "label 10 at index 10"), "%s", gs_errmsg(ctx));
    CHECK_ERR(gs_dataset_load(ctx, "fashion-mnist", 1, 0, &d), GS_ENOTFOUND, "GS_FASHION_MNIST_DIR");
    CHECK(strstr(gs_errmsg(ctx), "t10k-images-idx3-ubyte.gz"), "%s", gs_errmsg(ctx));
    unsetenv("GS_FASHION_MNIST_DIR");
    /* Bad specs. */
    CHECK_ERR(gs_dataset_load(ctx, "mnistt", 0, 0, &d), GS_EINVAL, "unknown dataset");
    CHECK_ERR(gs_dataset_load(ctx, "spirals", 2, 0, &d), GS_EINVAL, "split 2");
    CHECK_ERR(gs_dataset_load(ctx, "idx:", 0, 0, &d), GS_EINVAL, "missing argument");
    CHECK_ERR(gs_dataset_load(ctx, "cifar10:/data/cifar", 0, 0, &d), GS_ENOTFOUND, "/data/cifar");
    CHECK(d == NULL, "untouched");
    gs_dataset_free(NULL);
}

static void test_fashion_mnist(void)
{
    const char *dir = "/usr/share/datasets/fashion-mnist";
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "  SKIP test_fashion_mnist: %s is absent (install dataset-fashion-mnist)\n", dir);
        return;
    }
    unsetenv("GS_FASHION_MNIST_DIR");
#ifndef GS_HAVE_ZLIB
    gs_dataset *none = NULL;
    CHECK_ERR(gs_dataset_load(ctx, "fashion-mnist", 0, 0, &none), GS_EUNSUPPORTED, "no zlib");
    fprintf(stderr, "  SKIP test_fashion_mnist content: built without zlib\n");
    return;
#endif
    for (int split = 0; split < 2; split++) {
        gs_dataset *d = NULL;
        int rc = gs_dataset_load(ctx, "fashion-mnist", split, 0, &d);
        CHECK(rc == GS_OK, "split %d: %s", split, gs_errmsg(ctx));
        if (!d) continue;
        int64_t want = split ? 10000 : 60000;
        CHECK_EQ_INT(d->n, want);
        CHECK(d->channels == 1 && d->height == 28 && d->width == 28 && d->features == 784 && d->classes == 10,
              "1x28x28, 10 classes");
        int64_t count[10] = { 0 }, bad = 0;
        for (int64_t i = 0; i < d->n; i++) {
            if (d->y[i] < 0 || d->y[i] > 9) bad++;
            else count[d->y[i]]++;
        }
        CHECK_EQ_INT(bad, 0);
        for (int c = 0; c < 10; c++) CHECK_EQ_INT(count[c], want / 10);   /* balanced classes */
        double sum = 0, lo = 1, hi = 0;
        for (int64_t i = 0; i < d->n * 784; i++) {
            sum += d->x[i];
            if (d->x[i] < lo) lo = d->x[i];
            if (d->x[i] > hi) hi = d->x[i];
        }
        CHECK(lo == 0 && hi == 1, "pixels in [0, 1]: %g..%g", lo, hi);
        CHECK_NEAR(sum / (double)(d->n * 784), 0.286, 0.005, 0);   /* Fashion-MNIST's known mean */
        gs_dataset_free(d);
    }
}

static int same_dataset(const gs_dataset *a, const gs_dataset *b)
{
    return a->n == b->n && a->features == b->features &&
           memcmp(a->x, b->x, (size_t)(a->n * a->features) * sizeof(float)) == 0 &&
           memcmp(a->y, b->y, (size_t)a->n * sizeof(int32_t)) == 0;
}

static void test_synthetic(void)
{
    const char *names[2] = { "spirals", "teacher" };
    for (int k = 0; k < 2; k++) {
        gs_dataset *a = NULL, *b = NULL, *c = NULL, *t = NULL;
        CHECK_EQ_INT(gs_dataset_load(ctx, names[k], 0, 7, &a), GS_OK);
        CHECK_EQ_INT(gs_dataset_load(ctx, names[k], 0, 7, &b), GS_OK);
        CHECK_EQ_INT(gs_dataset_load(ctx, names[k], 0, 8, &c), GS_OK);
        CHECK_EQ_INT(gs_dataset_load(ctx, names[k], 1, 7, &t), GS_OK);
        if (!a || !b || !c || !t) continue;
        CHECK(same_dataset(a, b), "%s: same seed, same data", names[k]);
        CHECK(!same_dataset(a, c), "%s: other seed, other data", names[k]);
        CHECK(a->n == 10000 && t->n == 2000, "%s: sizes", names[k]);
        CHECK(memcmp(a->x, t->x, 64) != 0, "%s: test differs from train", names[k]);
        CHECK_EQ_INT(a->features, k ? 32 : 2);
        CHECK_EQ_INT(a->classes, k ? 10 : 3);
        CHECK(a->features == (int64_t)a->channels * a->height * a->width, "features = C*H*W");
        int64_t count[10] = { 0 }, bad = 0;
        for (int64_t i = 0; i < a->n; i++) {
            if (a->y[i] < 0 || a->y[i] >= a->classes) bad++;
            else count[a->y[i]]++;
        }
        CHECK_EQ_INT(bad, 0);
        int present = 0;
        int64_t most = 0;
        for (int i = 0; i < a->classes; i++) {
            present += count[i] > 0;
            if (count[i] > most) most = count[i];
        }
        CHECK(present == a->classes && most <= 3 * a->n / a->classes, "%s: classes all used, none dominant (max %lld)",
              names[k], (long long)most);
        if (k == 1) {
            /* Train and test share the teacher, so their class frequencies agree. */
            int64_t tc[10] = { 0 };
            for (int64_t i = 0; i < t->n; i++) tc[t->y[i]]++;
            double l1 = 0;
            for (int i = 0; i < 10; i++) l1 += fabs((double)count[i] / a->n - (double)tc[i] / t->n);
            CHECK(l1 < 0.1, "teacher: train and test class frequencies agree (L1 %.3f)", l1);
            fprintf(stderr, "  teacher class counts:");
            for (int i = 0; i < 10; i++) fprintf(stderr, " %lld", (long long)count[i]);
            fputc('\n', stderr);
        } else {
            double r2 = 0;
            for (int64_t i = 0; i < a->n; i++) r2 += a->x[2 * i] * a->x[2 * i] + a->x[2 * i + 1] * a->x[2 * i + 1];
            CHECK(r2 / a->n > 0.2 && r2 / a->n < 0.5, "spirals: mean squared radius %.3f", r2 / a->n);
        }
        gs_dataset_free(a); gs_dataset_free(b); gs_dataset_free(c); gs_dataset_free(t);
    }
}

/* ---------------------------------------------------------------- main */

static void remove_tmpdir(void)
{
    DIR *dir = opendir(tmpdir);
    if (!dir) return;
    struct dirent *e;
    char path[600];
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        if (strcmp(e->d_name, "fm") == 0) {
            DIR *sub = opendir(path);
            struct dirent *f;
            char p2[900];
            while (sub && (f = readdir(sub)) != NULL) {
                if (f->d_name[0] == '.') continue;
                snprintf(p2, sizeof p2, "%s/%s", path, f->d_name);
                remove(p2);
            }
            if (sub) closedir(sub);
        }
        remove(path);
    }
    closedir(dir);
    rmdir(tmpdir);
}

int main(void)
{
    ctx = gs_ctx_create();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gs_test_io_XXXXXX");
    if (!ctx || !mkdtemp(tmpdir)) {
        perror("test_io setup");
        return 2;
    }
    RUN(test_json_parse);
    RUN(test_json_escape);
    RUN(test_tensor_list);
    RUN(test_safetensors_roundtrip);
    RUN(test_safetensors_pytorch_layout);
    RUN(test_safetensors_errors);
    RUN(test_npy_roundtrip);
    RUN(test_npy_variants);
    RUN(test_npy_errors);
    RUN(test_idx);
    RUN(test_idx_gzip);
    RUN(test_dataset_idx);
    RUN(test_fashion_mnist);
    RUN(test_synthetic);
    remove_tmpdir();
    gs_ctx_free(ctx);
    return FINISH();
}
