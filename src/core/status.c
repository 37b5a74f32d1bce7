/* status.c - error codes, their names and the per-context error message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

int gs_error(gs_ctx *ctx, int code, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void gs_logf(gs_ctx *ctx, const char *fmt, ...)
{
    if (!ctx || !ctx->log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_user, line);
}

const char *gs_errmsg(const gs_ctx *ctx)
{
    if (!ctx) return "no context";
    return ctx->errmsg[0] ? ctx->errmsg : "no error";
}

const char *gs_strerror(int code)
{
    switch (code) {
    case GS_OK: return "ok";
    case GS_EINVAL: return "invalid argument";
    case GS_ENOMEM: return "out of memory";
    case GS_EIO: return "input/output error";
    case GS_EFORMAT: return "malformed file";
    case GS_ESHAPE: return "shape mismatch";
    case GS_ENONFINITE: return "non-finite value";
    case GS_ENOTFOUND: return "not found";
    case GS_EUNSUPPORTED: return "unsupported";
    default: return "unknown error";
    }
}

gs_ctx *gs_ctx_create(void)
{
    gs_ctx *ctx = calloc(1, sizeof *ctx);
    return ctx;
}

void gs_ctx_free(gs_ctx *ctx)
{
    free(ctx);
}

void gs_ctx_set_threads(gs_ctx *ctx, int threads)
{
    if (ctx) ctx->threads = threads < 0 ? 0 : threads;
}

void gs_ctx_set_deterministic(gs_ctx *ctx, int on)
{
    if (ctx) ctx->deterministic = on != 0;
}

void gs_ctx_set_log(gs_ctx *ctx, gs_log_fn fn, void *user)
{
    if (!ctx) return;
    ctx->log = fn;
    ctx->log_user = user;
}
