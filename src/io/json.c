/* json.c - strict recursive-descent JSON parser (see json.h).
 *
 * Every value is parsed into a caller-provided node; containers collect their
 * children in a growing array (moving a finished child is safe: nodes hold no
 * pointers into themselves).  Recursion depth is bounded by GS_JSON_MAX_DEPTH.
 * On any error the partial tree is freed and nothing escapes.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"

typedef struct parser {
    gs_ctx *ctx;
    const char *origin;
    const char *s;
    size_t len, pos;
    int depth;
} parser;

static int fail(parser *p, const char *what)
{
    return gs_error(p->ctx, GS_EFORMAT, "%s: JSON: %s at byte %zu", p->origin, what, p->pos);
}

static int nomem(parser *p)
{
    return gs_error(p->ctx, GS_ENOMEM, "%s: JSON: out of memory", p->origin);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static void node_clear(gs_json *v)
{
    if (!v) return;
    free(v->string);
    for (int i = 0; i < v->n; i++) {
        node_clear(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

void gs_json_free(gs_json *v)
{
    node_clear(v);
    free(v);
}

static int parse_value(parser *p, gs_json *out);

static int hex4(parser *p, unsigned *out)
{
    if (p->len - p->pos < 4) return fail(p, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos + i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return fail(p, "bad hex digit in \\u escape");
    }
    p->pos += 4;
    *out = v;
    return GS_OK;
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) { d[0] = (char)cp; return 1; }
    if (cp < 0x800) { d[0] = (char)(0xC0 | cp >> 6); d[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | cp >> 12); d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | cp >> 18); d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* p->pos at the opening quote.  The decoded string is never longer than its
 * source text, so one allocation of the remaining length bound suffices once
 * the closing quote is found. */
static int parse_string(parser *p, char **out, size_t *out_len)
{
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\') end++;
        end++;
    }
    if (end >= p->len) return fail(p, "unterminated string");
    char *d = malloc(end - start + 1);
    if (!d) return nomem(p);
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) { free(d); return fail(p, "control character in string"); }
        if (c != '\\') { d[n++] = (char)c; p->pos++; continue; }
        p->pos++;
        char e = p->s[p->pos++];
        switch (e) {
        case '"': d[n++] = '"'; break;
        case '\\': d[n++] = '\\'; break;
        case '/': d[n++] = '/'; break;
        case 'b': d[n++] = '\b'; break;
        case 'f': d[n++] = '\f'; break;
        case 'n': d[n++] = '\n'; break;
        case 'r': d[n++] = '\r'; break;
        case 't': d[n++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(p, &cp) != GS_OK) { free(d); return GS_EFORMAT; }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p->pos + 6 > end || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    free(d);
                    return fail(p, "unpaired surrogate in \\u escape");
                }
                p->pos += 2;
                if (hex4(p, &lo) != GS_OK) { free(d); return GS_EFORMAT; }
                if (lo < 0xDC00 || lo > 0xDFFF) { free(d); return fail(p, "bad low surrogate"); }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                free(d);
                return fail(p, "unpaired low surrogate");
            }
            n += put_utf8(d + n, cp);   /* at most as long as the 6+ source bytes */
            break;
        }
        default:
            free(d);
            p->pos--;
            return fail(p, "bad escape in string");
        }
    }
    d[n] = 0;
    p->pos = end + 1;
    *out = d;
    if (out_len) *out_len = n;
    return GS_OK;
}

static int parse_number(parser *p, gs_json *out)
{
    size_t start = p->pos;
    const char *s = p->s;
    int integer = 1;
    if (p->pos < p->len && s[p->pos] == '-') p->pos++;
    if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') return fail(p, "bad number");
    if (s[p->pos] == '0') p->pos++;
    else while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    if (p->pos < p->len && s[p->pos] == '.') {
        integer = 0;
        p->pos++;
        if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') return fail(p, "bad fraction");
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        integer = 0;
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-')) p->pos++;
        if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') return fail(p, "bad exponent");
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    /* The text is not NUL-terminated: copy the lexeme before strtod. */
    size_t n = p->pos - start;
    char small[64], *tmp = n < sizeof small ? small : malloc(n + 1);
    if (!tmp) return nomem(p);
    memcpy(tmp, s + start, n);
    tmp[n] = 0;
    out->type = GS_JSON_NUMBER;
    out->number = strtod(tmp, NULL);
    if (integer) {
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno == 0) {
            out->is_integer = 1;
            out->integer = (int64_t)v;
        }
    }
    if (tmp != small) free(tmp);
    return GS_OK;
}

static int literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return 0;
    p->pos += n;
    return 1;
}

/* Arrays and objects: children go into a growing array. */
static int parse_container(parser *p, gs_json *out, int object)
{
    char close = object ? '}' : ']';
    int rc, cap = 0;
    out->type = object ? GS_JSON_OBJECT : GS_JSON_ARRAY;
    if (++p->depth > GS_JSON_MAX_DEPTH) return fail(p, "nesting too deep");
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return GS_OK;
    }
    for (;;) {
        if (out->n == cap) {
            int ncap = cap ? cap * 2 : 4;
            if (ncap > (1 << 28)) return fail(p, "too many elements");
            gs_json *ni = realloc(out->items, (size_t)ncap * sizeof *ni);
            if (!ni) return nomem(p);
            out->items = ni;
            if (object) {
                char **nk = realloc(out->keys, (size_t)ncap * sizeof *nk);
                if (!nk) return nomem(p);
                out->keys = nk;
            }
            cap = ncap;
        }
        gs_json *child = &out->items[out->n];
        memset(child, 0, sizeof *child);
        char *key = NULL;
        skip_ws(p);
        if (object) {
            if (p->pos >= p->len || p->s[p->pos] != '"') return fail(p, "expected a member name");
            if ((rc = parse_string(p, &key, NULL)) != GS_OK) return rc;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                free(key);
                return fail(p, "expected ':' after member name");
            }
            p->pos++;
        }
        if ((rc = parse_value(p, child)) != GS_OK) {
            node_clear(child);
            free(key);
            return rc;
        }
        if (object) out->keys[out->n] = key;
        out->n++;
        skip_ws(p);
        if (p->pos >= p->len) return fail(p, object ? "unterminated object" : "unterminated array");
        if (p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->s[p->pos] == close) { p->pos++; break; }
        return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    p->depth--;
    return GS_OK;
}

static int parse_value(parser *p, gs_json *out)
{
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, "unexpected end of input");
    char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_container(p, out, 1);
    case '[': return parse_container(p, out, 0);
    case '"':
        out->type = GS_JSON_STRING;
        return parse_string(p, &out->string, &out->string_len);
    case 't': case 'f': case 'n':
        if (literal(p, "true")) { out->type = GS_JSON_BOOL; out->boolean = 1; return GS_OK; }
        if (literal(p, "false")) { out->type = GS_JSON_BOOL; return GS_OK; }
        if (literal(p, "null")) { out->type = GS_JSON_NULL; return GS_OK; }
        return fail(p, "unknown literal");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, out);
        return fail(p, "unexpected character");
    }
}

int gs_json_parse(gs_ctx *ctx, const char *text, size_t len, const char *origin, gs_json **out)
{
    if (!origin) origin = "(json)";
    if (!out || (!text && len)) return gs_error(ctx, GS_EINVAL, "%s: gs_json_parse: NULL argument", origin);
    parser p = { ctx, origin, text, len, 0, 0 };
    gs_json *v = calloc(1, sizeof *v);
    if (!v) return gs_error(ctx, GS_ENOMEM, "%s: JSON: out of memory", origin);
    int rc = parse_value(&p, v);
    if (rc == GS_OK) {
        skip_ws(&p);
        if (p.pos != p.len) rc = fail(&p, "trailing characters after the value");
    }
    if (rc != GS_OK) {
        gs_json_free(v);
        return rc;
    }
    *out = v;
    return GS_OK;
}

const gs_json *gs_json_get(const gs_json *v, const char *key)
{
    if (!v || v->type != GS_JSON_OBJECT || !key) return NULL;
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0) return &v->items[i];
    return NULL;
}

const gs_json *gs_json_at(const gs_json *v, int i)
{
    if (!v || v->type != GS_JSON_ARRAY || i < 0 || i >= v->n) return NULL;
    return &v->items[i];
}

double gs_json_number(const gs_json *v, double fallback)
{
    return v && v->type == GS_JSON_NUMBER ? v->number : fallback;
}

int gs_json_int64(const gs_json *v, int64_t *out)
{
    if (!v || v->type != GS_JSON_NUMBER || !v->is_integer) return 0;
    *out = v->integer;
    return 1;
}

const char *gs_json_string(const gs_json *v)
{
    return v && v->type == GS_JSON_STRING ? v->string : NULL;
}

void gs_json_write_number(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, "%.9g", v);
    else fputs("null", f);
}

int gs_json_escape(FILE *f, const char *s)
{
    if (fputc('"', f) == EOF) return -1;
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        int r;
        switch (*c) {
        case '"': r = fputs("\\\"", f); break;
        case '\\': r = fputs("\\\\", f); break;
        case '\n': r = fputs("\\n", f); break;
        case '\r': r = fputs("\\r", f); break;
        case '\t': r = fputs("\\t", f); break;
        case '\b': r = fputs("\\b", f); break;
        case '\f': r = fputs("\\f", f); break;
        default:
            r = *c < 0x20 ? fprintf(f, "\\u%04x", *c) : fputc(*c, f);
        }
        if (r < 0) return -1;
    }
    return fputc('"', f) == EOF ? -1 : 0;
}
