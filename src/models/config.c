/* config.c - model configuration defaults, the names used on the command
 * line and in checkpoints, and the config as JSON. */
#include <stdio.h>
#include <string.h>
#include "core.h"

void gs_model_config_default(gs_model_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->family, "mlp");
    cfg->in_features = 784;
    cfg->classes = 10;
    cfg->width = 256;
    cfg->depth = 20;
    cfg->skip = 0;
    cfg->block = GS_BLOCK_POST;
    cfg->act = GS_ACT_RELU;
    cfg->norm = GS_NORM_NONE;
    cfg->res_scale = GS_RES_SCALE_NONE;
    cfg->init = GS_INIT_HE_NORMAL;
    cfg->loss = GS_LOSS_CE;
    cfg->in_channels = 1; cfg->in_height = 28; cfg->in_width = 28;
    cfg->shortcut = 'A';
}

static const char *const norm_names[] = { "none", "batch", "layer" };
static const char *const init_names[] = { "he_normal", "he_uniform", "glorot_uniform", "glorot_normal",
                                          "lecun_normal", "orthogonal", "torch", "fixup" };

static int lookup(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++) if (strcmp(names[i], s) == 0) return i;
    return -1;
}

int gs_norm_from_name(const char *s, gs_norm *out)
{
    int i = lookup(norm_names, 3, s);
    if (i < 0) return -1;
    *out = (gs_norm)i;
    return 0;
}

int gs_init_from_name(const char *s, gs_init *out)
{
    int i = lookup(init_names, 8, s);
    if (i < 0) return -1;
    *out = (gs_init)i;
    return 0;
}

const char *gs_norm_name(gs_norm n) { return (unsigned)n < 3 ? norm_names[n] : "?"; }
const char *gs_init_name(gs_init i) { return (unsigned)i < 8 ? init_names[i] : "?"; }

int gs_model_config_to_json(const gs_model_config *c, char *buf, size_t len)
{
    return snprintf(buf, len,
        "{\"family\":\"%s\",\"in_features\":%d,\"classes\":%d,\"width\":%d,\"depth\":%d,\"skip\":%d,"
        "\"block\":\"%s\",\"act\":\"%s\",\"norm\":\"%s\",\"res_scale\":\"%s\",\"init\":\"%s\","
        "\"zero_last\":%d,\"loss\":\"%s\",\"in_channels\":%d,\"in_height\":%d,\"in_width\":%d,"
        "\"shortcut\":\"%c\"}",
        c->family, c->in_features, c->classes, c->width, c->depth, c->skip,
        c->block == GS_BLOCK_PRE ? "pre" : "post", gs_act_name(c->act), gs_norm_name(c->norm),
        c->res_scale == GS_RES_SCALE_REZERO ? "rezero" : "none", gs_init_name(c->init),
        c->zero_last, c->loss == GS_LOSS_MSE ? "mse" : "ce", c->in_channels, c->in_height, c->in_width,
        c->shortcut ? c->shortcut : 'A');
}
