/* json.h - a small, strict JSON (RFC 8259) parser into a tree, and an
 * escaping writer helper.
 *
 * Meant for headers and configs of modest size (safetensors headers, run.json),
 * not for streaming.  Strict: no comments, no trailing commas, no NaN; nesting
 * deeper than GS_JSON_MAX_DEPTH is rejected (so fuzzed input cannot overflow
 * the stack).  Strings are decoded to UTF-8 (\uXXXX escapes and surrogate
 * pairs included) and NUL-terminated; string_len counts an embedded \u0000.
 * Duplicate object keys are kept in order; gs_json_get returns the first.
 */
#ifndef GS_JSON_H
#define GS_JSON_H

#include <stdint.h>
#include <stdio.h>
#include "core.h"

#define GS_JSON_MAX_DEPTH 64

typedef enum {
    GS_JSON_NULL, GS_JSON_BOOL, GS_JSON_NUMBER, GS_JSON_STRING, GS_JSON_ARRAY, GS_JSON_OBJECT
} gs_json_type;

typedef struct gs_json gs_json;
struct gs_json {
    gs_json_type type;
    int boolean;             /* GS_JSON_BOOL: 0 or 1 */
    double number;           /* GS_JSON_NUMBER */
    int is_integer;          /* number written without fraction/exponent and fits int64 */
    int64_t integer;         /* exact value when is_integer */
    char *string;            /* GS_JSON_STRING: decoded, NUL-terminated */
    size_t string_len;
    int n;                   /* array elements or object members */
    gs_json *items;          /* (n,) values */
    char **keys;             /* (n,) member names (objects only) */
};

/* Parse text[0..len) as one JSON value (surrounding whitespace allowed).
 * GS_EFORMAT with "<origin>: JSON: <problem> at byte <offset>", GS_ENOMEM.
 * *out untouched on failure; free the result with gs_json_free. */
int gs_json_parse(gs_ctx *ctx, const char *text, size_t len, const char *origin, gs_json **out);
void gs_json_free(gs_json *v);

/* Member key of an object (first match), or NULL (also when v is not an object). */
const gs_json *gs_json_get(const gs_json *v, const char *key);
/* Element i of an array, or NULL when out of range or v is not an array. */
const gs_json *gs_json_at(const gs_json *v, int i);
/* The number in v, or fallback when v is NULL or not a number. */
double gs_json_number(const gs_json *v, double fallback);
/* 1 and *out set when v is an integer-valued number that fits int64, else 0. */
int gs_json_int64(const gs_json *v, int64_t *out);
/* The string in v, or NULL when v is NULL or not a string. */
const char *gs_json_string(const gs_json *v);

/* Write s as a JSON string literal, quotes included, escaping ", \ and control
 * characters (UTF-8 passes through).  Returns 0, or -1 on a write error. */
int gs_json_escape(FILE *f, const char *s);
/* Write v with 9 significant digits, or null when it is NaN or infinite (JSON has neither). */
void gs_json_write_number(FILE *f, double v);

#endif
