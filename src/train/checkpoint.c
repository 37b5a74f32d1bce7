/* checkpoint.c - model checkpoints as safetensors (F32, PyTorch names).
 * Resume state lives beside the weights under the reserved prefix
 * "gradscope.": optimizer moments per parameter and the step/seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/checkpoint.h"
#include "io/json.h"

static int add_tensor(gs_ctx *ctx, gs_tensor_list *t, const char *name, const gs_tensor_info *ti,
                      const float *data)
{
    return gs_tensor_list_add(ctx, t, name, GS_DT_F32, ti->ndim, ti->shape, data);
}

int gs_checkpoint_save(gs_ctx *ctx, const char *path, gs_model *m, gs_optim *opt, const gs_resume_state *rs)
{
    gs_tensor_list *t = gs_tensor_list_create();
    if (!t) return gs_error(ctx, GS_ENOMEM, "%s: out of memory", path);
    char json[1024], name[256];
    int rc = GS_OK;
    for (int i = 0; rc == GS_OK && i < m->n_tensors; i++) {
        const gs_tensor_info *ti = &m->tensors[i].info;
        rc = add_tensor(ctx, t, ti->name, ti, ti->data);
    }
    if (rc == GS_OK && opt) {
        size_t n;
        float *m1 = gs_optim_state(opt, 0, &n), *m2 = gs_optim_state(opt, 1, &n);
        for (int i = 0; rc == GS_OK && i < m->n_tensors; i++) {
            const gs_tensor_slot *s = &m->tensors[i];
            if (!s->info.trainable) continue;
            snprintf(name, sizeof name, "gradscope.optim.m1.%s", s->info.name);
            rc = add_tensor(ctx, t, name, &s->info, m1 + s->offset);
            snprintf(name, sizeof name, "gradscope.optim.m2.%s", s->info.name);
            if (rc == GS_OK) rc = add_tensor(ctx, t, name, &s->info, m2 + s->offset);
        }
        if (rc == GS_OK) {
            snprintf(json, sizeof json, "{\"step\":%lld,\"optim_steps\":%lld,\"seed\":%llu}",
                     (long long)(rs ? rs->step : 0), (long long)gs_optim_steps_taken(opt),
                     (unsigned long long)(rs ? rs->seed : 0));
            rc = gs_tensor_list_set_meta(ctx, t, "gradscope.resume", json);
        }
    }
    gs_model_config_to_json(&m->cfg, json, sizeof json);
    if (rc == GS_OK) rc = gs_tensor_list_set_meta(ctx, t, "gradscope.config", json);
    if (rc == GS_OK) rc = gs_tensor_list_set_meta(ctx, t, "gradscope.version", GS_VERSION);
    if (rc == GS_OK) rc = gs_safetensors_save(ctx, path, t);
    gs_tensor_list_free(t);
    return rc;
}

static int json_str(const gs_json *o, const char *key, const char **out)
{
    const gs_json *v = gs_json_get(o, key);
    if (!v) return 0;
    const char *s = gs_json_string(v);
    if (!s) return -1;
    *out = s;
    return 1;
}

static int json_int(const gs_json *o, const char *key, int *out)
{
    const gs_json *v = gs_json_get(o, key);
    int64_t x;
    if (!v) return 0;
    if (gs_json_int64(v, &x) != 1 || x < INT32_MIN || x > INT32_MAX) return -1;
    *out = (int)x;
    return 1;
}

int gs_model_config_from_json(gs_ctx *ctx, const char *text, gs_model_config *cfg)
{
    gs_json *root = NULL;
    int rc = gs_json_parse(ctx, text, strlen(text), "model config", &root);
    if (rc) return rc;
    gs_model_config c;
    gs_model_config_default(&c);
    const char *s;
    const char *bad = NULL;
    if (json_str(root, "family", &s) > 0 || json_str(root, "model", &s) > 0) {
        if (strlen(s) >= sizeof c.family) bad = "family";
        else strcpy(c.family, s);
    }
    if (json_int(root, "in_features", &c.in_features) < 0) bad = "in_features";
    if (json_int(root, "classes", &c.classes) < 0) bad = "classes";
    if (json_int(root, "width", &c.width) < 0) bad = "width";
    if (json_int(root, "depth", &c.depth) < 0) bad = "depth";
    if (json_int(root, "skip", &c.skip) < 0) bad = "skip";
    if (json_int(root, "zero_last", &c.zero_last) < 0) bad = "zero_last";
    if (json_int(root, "in_channels", &c.in_channels) < 0) bad = "in_channels";
    if (json_int(root, "in_height", &c.in_height) < 0) bad = "in_height";
    if (json_int(root, "in_width", &c.in_width) < 0) bad = "in_width";
    if (json_str(root, "shortcut", &s) > 0) {
        if ((s[0] == 'A' || s[0] == 'B') && !s[1]) c.shortcut = s[0];
        else bad = "shortcut";
    }
    if (json_str(root, "block", &s) > 0) {
        if (!strcmp(s, "post")) c.block = GS_BLOCK_POST;
        else if (!strcmp(s, "pre")) c.block = GS_BLOCK_PRE;
        else bad = "block";
    }
    if (json_str(root, "act", &s) > 0 && gs_act_from_name(s, &c.act) != 0) bad = "act";
    if (json_str(root, "norm", &s) > 0 && gs_norm_from_name(s, &c.norm) != 0) bad = "norm";
    if (json_str(root, "init", &s) > 0 && gs_init_from_name(s, &c.init) != 0) bad = "init";
    if (json_str(root, "res_scale", &s) > 0) {
        if (!strcmp(s, "rezero")) c.res_scale = GS_RES_SCALE_REZERO;
        else if (!strcmp(s, "none")) c.res_scale = GS_RES_SCALE_NONE;
        else bad = "res_scale";
    }
    if (json_str(root, "loss", &s) > 0) {
        if (!strcmp(s, "mse")) c.loss = GS_LOSS_MSE;
        else if (!strcmp(s, "ce")) c.loss = GS_LOSS_CE;
        else bad = "loss";
    }
    gs_json_free(root);
    if (bad) return gs_error(ctx, GS_EINVAL, "model config: bad value for \"%s\"", bad);
    *cfg = c;
    return GS_OK;
}

int gs_checkpoint_config(gs_ctx *ctx, const gs_tensor_list *t, const char *origin, gs_model_config *cfg)
{
    const char *json = gs_tensor_list_meta(t, "gradscope.config");
    if (!json)
        return gs_error(ctx, GS_ENOTFOUND, "%s: no gradscope.config in __metadata__: not a gradscope "
                        "checkpoint (give the model with --model and its options)", origin);
    int rc = gs_model_config_from_json(ctx, json, cfg);
    if (rc) {
        char msg[sizeof ctx->errmsg];
        snprintf(msg, sizeof msg, "%s", gs_errmsg(ctx));
        return gs_error(ctx, rc, "%s: %s", origin, msg);
    }
    return GS_OK;
}

static int copy_in(gs_ctx *ctx, const gs_tensor_entry *e, const gs_tensor_info *ti, const char *origin,
                   float *dst)
{
    int same = e->ndim == ti->ndim;
    for (int d = 0; same && d < ti->ndim; d++) same = e->shape[d] == ti->shape[d];
    if (!same) {
        char want[96] = "", got[96] = "";
        for (int d = 0; d < ti->ndim; d++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? ", " : "", (long long)ti->shape[d]);
        for (int d = 0; d < e->ndim; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? ", " : "", (long long)e->shape[d]);
        return gs_error(ctx, GS_ESHAPE, "%s: tensor %s has shape (%s), the model needs (%s)",
                        origin, e->name, got, want);
    }
    if (e->dtype == GS_DT_F32) memcpy(dst, e->data, ti->numel * sizeof *dst);
    else if (e->dtype == GS_DT_F64)
        for (size_t i = 0; i < ti->numel; i++) dst[i] = (float)((const double *)e->data)[i];
    else
        return gs_error(ctx, GS_EFORMAT, "%s: tensor %s is %s, expected F32", origin, e->name, gs_dtype_name(e->dtype));
    return GS_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int gs_checkpoint_apply(gs_ctx *ctx, const gs_tensor_list *t, const char *origin, gs_model *m)
{
    for (int i = 0; i < t->n; i++) {
        const char *nm = t->items[i].name;
        if (!strncmp(nm, "gradscope.", 10) || ends_with(nm, "num_batches_tracked")) continue;
        if (!gs_model_slot(m, nm))
            return gs_error(ctx, GS_EINVAL, "%s: tensor %s is not part of this model (check --model, --depth, "
                            "--skip, --norm, --block, --res-scale)", origin, nm);
    }
    for (int i = 0; i < m->n_tensors; i++) {
        const gs_tensor_info *ti = &m->tensors[i].info;
        if (!gs_tensor_list_find(t, ti->name))
            return gs_error(ctx, GS_ENOTFOUND, "%s: tensor %s is missing", origin, ti->name);
    }
    for (int i = 0; i < m->n_tensors; i++) {
        const gs_tensor_info *ti = &m->tensors[i].info;
        int rc = copy_in(ctx, gs_tensor_list_find(t, ti->name), ti, origin, ti->data);
        if (rc) return rc;
    }
    return GS_OK;
}

int gs_checkpoint_resume(gs_ctx *ctx, const gs_tensor_list *t, const char *origin, gs_optim *opt,
                         gs_resume_state *rs)
{
    const char *json = gs_tensor_list_meta(t, "gradscope.resume");
    if (!json) return gs_error(ctx, GS_ENOTFOUND, "%s: no resume state (saved without an optimizer?)", origin);
    gs_json *root = NULL;
    int rc = gs_json_parse(ctx, json, strlen(json), origin, &root);
    if (rc) return rc;
    int64_t step = -1, osteps = -1, seed = 0;
    const gs_json *v;
    if ((v = gs_json_get(root, "step"))) gs_json_int64(v, &step);
    if ((v = gs_json_get(root, "optim_steps"))) gs_json_int64(v, &osteps);
    if ((v = gs_json_get(root, "seed"))) seed = (int64_t)gs_json_number(v, 0);
    gs_json_free(root);
    if (step < 0 || osteps < 0) return gs_error(ctx, GS_EFORMAT, "%s: resume state has no valid step", origin);
    size_t n;
    float *m1 = gs_optim_state(opt, 0, &n), *m2 = gs_optim_state(opt, 1, &n);
    char name[256];
    gs_model *model = gs_optim_model(opt);
    for (int i = 0; i < model->n_tensors; i++) {
        const gs_tensor_slot *s = &model->tensors[i];
        if (!s->info.trainable) continue;
        for (int k = 0; k < 2; k++) {
            snprintf(name, sizeof name, "gradscope.optim.m%d.%s", k + 1, s->info.name);
            const gs_tensor_entry *e = gs_tensor_list_find(t, name);
            if (!e) return gs_error(ctx, GS_ENOTFOUND, "%s: resume tensor %s is missing", origin, name);
            if ((rc = copy_in(ctx, e, &s->info, origin, (k ? m2 : m1) + s->offset))) return rc;
        }
    }
    gs_optim_set_steps_taken(opt, osteps);
    rs->step = step;
    rs->seed = (uint64_t)seed;
    return GS_OK;
}

int gs_checkpoint_load_model(gs_ctx *ctx, const char *path, int max_batch, gs_model **out, gs_tensor_list **list)
{
    gs_tensor_list *t = NULL;
    gs_model *m = NULL;
    gs_model_config cfg;
    int rc = gs_safetensors_load(ctx, path, &t);
    if (rc) return rc;
    if ((rc = gs_checkpoint_config(ctx, t, path, &cfg))) goto fail;
    if ((rc = gs_model_create(ctx, &cfg, max_batch, &m))) goto fail;
    if ((rc = gs_checkpoint_apply(ctx, t, path, m))) goto fail;
    *out = m;
    if (list) *list = t; else gs_tensor_list_free(t);
    return GS_OK;
fail:
    gs_model_free(m);
    gs_tensor_list_free(t);
    return rc;
}

int gs_model_save(gs_ctx *ctx, gs_model *m, const char *path)
{
    return gs_checkpoint_save(ctx, path, m, NULL, NULL);
}

int gs_model_load(gs_ctx *ctx, const char *path, int max_batch, gs_model **out)
{
    return gs_checkpoint_load_model(ctx, path, max_batch, out, NULL);
}

int gs_model_load_weights(gs_ctx *ctx, gs_model *m, const char *path)
{
    gs_tensor_list *t = NULL;
    int rc = gs_safetensors_load(ctx, path, &t);
    if (rc == GS_OK) rc = gs_checkpoint_apply(ctx, t, path, m);
    gs_tensor_list_free(t);
    return rc;
}
