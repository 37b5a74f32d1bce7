/* test_cli.c - the gradscope command line: exit codes, messages, --help, inspect, grad against
 * PyTorch, exact resume and divergence.
 *
 * Runs $GS_BUILD/gradscope (GS_BUILD defaults to "build"; run from the repository root) through
 * system() with stdout and stderr sent to files in a temporary directory, which is removed at the
 * end.  Exit codes are those of tools/gradscope.c's usage(): 2 usage, 3 invalid value, 5 malformed
 * file, 6 shape mismatch, 7 diverged, 8 not found.  grad is checked against the golden PyTorch
 * values of tests/ref/mlp_*.safetensors (see tests/ref/README.md).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "io/io.h"

static char bin[512];
static char tmp[64];
static char out[1 << 16], err[1 << 16];

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
}

/* Run gradscope with the given arguments; stdout/stderr land in out/err.  Returns the exit code
 * (-1 if the program did not exit normally). */
static int cli(const char *fmt, ...)
{
    char args[2048], cmd[4096], po[128], pe[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(po, sizeof po, "%s/stdout", tmp);
    snprintf(pe, sizeof pe, "%s/stderr", tmp);
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", bin, args, po, pe);
    int st = system(cmd);
    slurp(po, out, sizeof out);
    slurp(pe, err, sizeof err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define EXPECT_EXIT(code, ...) do { int rc_ = cli(__VA_ARGS__); \
    CHECK(rc_ == (code), "exit %d, expected %d; stderr: %.400s", rc_, (code), err); } while (0)
#define EXPECT_IN(hay, needle) CHECK(strstr((hay), (needle)) != NULL, "'%s' not in: %.600s", (needle), (hay))

static void test_no_command(void)
{
    EXPECT_EXIT(2, "");
    EXPECT_IN(err, "usage");
    EXPECT_EXIT(0, "--help");
    EXPECT_IN(out, "train");
    EXPECT_IN(out, "grad");
    EXPECT_EXIT(0, "version");
    EXPECT_IN(out, GS_VERSION);
}

static void test_unknown_command(void)
{
    EXPECT_EXIT(2, "frobnicate");
    EXPECT_IN(err, "frobnicate");
}

static void test_unknown_option(void)
{
    const char *cmds[] = { "train", "eval", "inspect", "grad" };
    for (int i = 0; i < 4; i++) {
        EXPECT_EXIT(2, "%s --bogus-option 3", cmds[i]);
        EXPECT_IN(err, "--bogus-option");
    }
    EXPECT_EXIT(2, "train stray");
    EXPECT_IN(err, "stray");
}

static void test_bad_values(void)
{
    static const struct { const char *args, *option; } cases[] = {
        { "train --depth x", "--depth" },
        { "train --depth 4x", "--depth" },
        { "train --lr -1", "--lr" },
        { "train --lr nan", "--lr" },
        { "train --act nope", "--act" },
        { "train --norm nope", "--norm" },
        { "train --block sideways", "--block" },
        { "train --depth 4 --skip 3", "--skip" },
        { "train --skip 0 --block pre", "--block" },
        { "train --res-scale rezero", "--res-scale" },
        { "train --batch 0", "--batch" },
        { "train --optim rmsprop", "--optim" },
        { "train --lr", "--lr" },
        { "train --depth 2 --depth 3", "--depth" },
        { "inspect --width 0", "--width" },
        { "inspect --loss hinge", "--loss" },
        { "eval --weights w --split validation", "--split" },
        { "grad --weights w --input x --labels y --out g --mode sideways", "--mode" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = cli("%s", cases[i].args);
        CHECK(rc == 2, "'%s': exit %d, expected 2; stderr: %.300s", cases[i].args, rc, err);
        CHECK(strstr(err, cases[i].option) != NULL, "'%s': message does not name %s: %.300s", cases[i].args,
              cases[i].option, err);
    }
}

/* ---- --help: every option with its default ---- */
typedef struct optdef { const char *name, *def; } optdef;   /* def NULL: no default to show */

#define MODEL_DEFAULTS { "model", "mlp" }, { "width", "256 (mlp), 16 (resnet/plain)" }, { "depth", "20" }, \
    { "skip", "0" }, { "shortcut", "A" }, \
    { "block", "post" }, { "act", "relu" }, { "norm", "none (mlp), batch (resnet/plain)" }, { "res-scale", "none" }, \
    { "init", "he_normal" }, { "zero-last", "off" }, { "loss", "ce" }

static const optdef train_opts[] = {
    MODEL_DEFAULTS, { "data", "fashion-mnist" }, { "epochs", "1" }, { "steps", "0" }, { "batch", "128" },
    { "optim", "sgd" }, { "lr", "0.01" }, { "momentum", "0.9" }, { "nesterov", "off" }, { "wd", "0" },
    { "beta1", "0.9" }, { "beta2", "0.999" }, { "eps", "1e-8" }, { "schedule", "cosine" },
    { "step-size", "1000" }, { "gamma", "0.1" }, { "warmup", "0" }, { "clip", "0" }, { "seed", "42" },
    { "threads", "0" }, { "log", NULL }, { "log-every", "50" }, { "save", NULL }, { "resume", NULL }, { "augment", "none" },
    { NULL, NULL }
};
static const optdef eval_opts[] = {
    { "weights", NULL }, { "data", "fashion-mnist" }, { "split", "test" }, { "batch", "256" }, { "seed", "42" },
    { "threads", "0" }, { NULL, NULL }
};
static const optdef inspect_opts[] = {
    MODEL_DEFAULTS, { "in-features", "784" }, { "in-shape", "1,28,28" }, { "classes", "10" }, { "weights", NULL },
    { NULL, NULL }
};
static const optdef grad_opts[] = {
    MODEL_DEFAULTS, { "weights", NULL }, { "input", NULL }, { "labels", NULL }, { "out", NULL },
    { "mode", "train" }, { "classes", "10" }, { "threads", "0" }, { NULL, NULL }
};

/* The line of --help that describes --name (an option line starts with spaces and the option). */
static const char *option_line(const char *text, const char *name)
{
    char pat[80];
    snprintf(pat, sizeof pat, "\n  --%s", name);
    for (const char *p = text; (p = strstr(p, pat)) != NULL; p++) {
        const char c = p[strlen(pat)];
        if (c == ' ' || c == '\n') return p + 3;
    }
    return NULL;
}

static void help_case(const char *cmd, const optdef *opts)
{
    int rc = cli("%s --help", cmd);
    CHECK(rc == 0, "%s --help: exit %d", cmd, rc);
    EXPECT_IN(out, "usage");
    for (const optdef *o = opts; o->name; o++) {
        const char *line = option_line(out, o->name);
        CHECK(line != NULL, "%s --help does not list --%s", cmd, o->name);
        if (!line || !o->def) continue;
        const char *eol = strchr(line, '\n');
        char want[96], text[512];
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        snprintf(text, sizeof text, "%.*s", (int)(len < sizeof text ? len : sizeof text - 1), line);
        snprintf(want, sizeof want, "(default: %s)", o->def);
        CHECK(strstr(text, want) != NULL, "%s --help: --%s should show %s: '%s'", cmd, o->name, want, text);
    }
}

static void test_help(void)
{
    help_case("train", train_opts);
    help_case("eval", eval_opts);
    help_case("inspect", inspect_opts);
    help_case("grad", grad_opts);
}

/* ---- data errors ---- */
static void test_data_not_found(void)
{
    EXPECT_EXIT(8, "train --data idx:/nonexistent/gs_data/ --steps 1 --depth 1 --width 8");
    EXPECT_IN(err, "/nonexistent/gs_data/");
    EXPECT_EXIT(8, "eval --weights /nonexistent/gs_w.safetensors --data teacher");
    EXPECT_IN(err, "/nonexistent/gs_w.safetensors");
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    fwrite(data, 1, n, f);
    fclose(f);
}

/* An IDX pair of n 28x28 images: images_bytes of pixel data (n*784 for a valid file). */
static void write_idx_pair(const char *dir, int n_images, size_t image_bytes, int n_labels)
{
    char path[256];
    unsigned char hdr[16] = { 0, 0, 8, 3, 0, 0, 0, (unsigned char)n_images, 0, 0, 0, 28, 0, 0, 0, 28 };
    unsigned char *buf = calloc(16 + image_bytes + 8 + (size_t)n_labels, 1);
    memcpy(buf, hdr, 16);
    for (size_t i = 0; i < image_bytes; i++) buf[16 + i] = (unsigned char)(i * 7);
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    write_bytes(path, buf, 16 + image_bytes);
    unsigned char lh[8] = { 0, 0, 8, 1, 0, 0, 0, (unsigned char)n_labels };
    memcpy(buf, lh, 8);
    for (int i = 0; i < n_labels; i++) buf[8 + i] = (unsigned char)(i % 3);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    write_bytes(path, buf, 8 + (size_t)n_labels);
    free(buf);
}

static void test_corrupt_dataset(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/idx", tmp);
    mkdir(dir, 0777);
    write_idx_pair(dir, 10, 10 * 784 - 300, 10);     /* images truncated */
    EXPECT_EXIT(5, "train --data idx:%s/ --steps 1 --depth 1 --width 8 --batch 2", dir);
    EXPECT_IN(err, "train-images-idx3-ubyte");
    write_idx_pair(dir, 10, 10 * 784, 9);            /* 10 images, 9 labels */
    EXPECT_EXIT(5, "train --data idx:%s/ --steps 1 --depth 1 --width 8 --batch 2", dir);
    EXPECT_IN(err, dir);
}

/* ---- inspect ---- */
static void test_inspect(void)
{
    static const char *want[][2] = {
        { "stem.weight", "256, 784" }, { "stem.bias", "256" },
        { "layers.0.weight", "256, 256" }, { "layers.0.bias", "256" },
        { "layers.1.weight", "256, 256" }, { "layers.1.bias", "256" },
        { "norms.0.weight", "256" }, { "norms.0.bias", "256" },
        { "norms.0.running_mean", "256" }, { "norms.0.running_var", "256" },
        { "norms.1.weight", "256" }, { "norms.1.bias", "256" },
        { "norms.1.running_mean", "256" }, { "norms.1.running_var", "256" },
        { "final_norm.weight", "256" }, { "final_norm.bias", "256" },
        { "final_norm.running_mean", "256" }, { "final_norm.running_var", "256" },
        { "head.weight", "10, 256" }, { "head.bias", "10" },
    };
    const int n_want = (int)(sizeof want / sizeof want[0]);
    int rc = cli("inspect --depth 2 --skip 1 --norm batch --block pre");
    CHECK(rc == 0, "exit %d: %s", rc, err);
    int i = 0;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || strncmp(line, "parameters:", 11) == 0) continue;
        char name[128], shape[128];
        if (sscanf(line, "%127s (%127[^)])", name, shape) != 2) { CHECK(0, "unexpected line '%s'", line); continue; }
        if (i < n_want) {
            CHECK(strcmp(name, want[i][0]) == 0 && strcmp(shape, want[i][1]) == 0,
                  "line %d: %s (%s), expected %s (%s)", i, name, shape, want[i][0], want[i][1]);
            const int buffer = strstr(name, "running_") != NULL;
            CHECK((strstr(line, "buffer") != NULL) == buffer, "line %d: '%s' buffer marking", i, line);
        }
        i++;
    }
    CHECK_EQ_INT(i, n_want);
    /* stem 784*256+256, 2 layers 2*(256*256+256), 3 norms 3*512 trainable, head 256*10+10 */
    cli("inspect --depth 2 --skip 1 --norm batch --block pre");
    EXPECT_IN(out, "parameters: 336650");
    EXPECT_IN(out, "buffers: 1536");
}

/* ---- grad against PyTorch ---- */
static int load_list(gs_ctx *ctx, const char *path, gs_tensor_list **t)
{
    int rc = gs_safetensors_load(ctx, path, t);
    CHECK(rc == GS_OK, "%s: %s", path, gs_errmsg(ctx));
    return rc;
}

/* worst |got - want| <= atol + rtol * max |want| */
static void compare(const char *file, const char *what, const gs_tensor_entry *got, const gs_tensor_entry *want,
                    double rtol, double atol)
{
    CHECK(got && want, "%s: %s: %s missing", file, what, got ? "golden" : "output");
    if (!got || !want) return;
    CHECK(got->dtype == GS_DT_F32 && got->nbytes == want->nbytes, "%s: %s: %zu bytes, expected %zu", file, what,
          got->nbytes, want->nbytes);
    if (got->nbytes != want->nbytes || got->dtype != GS_DT_F32) return;
    const float *g = got->data, *w = want->data;
    size_t n = want->nbytes / sizeof(float), at = 0;
    double scale = 0, worst = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(w[i]));
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)g[i] - w[i]) <= worst)) { worst = fabs((double)g[i] - w[i]); at = i; }
    CHECK(worst <= atol + rtol * scale, "%s: %s: worst error %.3g at [%zu] (got %.9g, want %.9g, scale %.3g)", file,
          what, worst, at, g[at], w[at], scale);
}

/* Write input, labels and weights (init.* without the prefix, num_batches_tracked kept) of a golden
 * file; drop: a tensor to leave out; reshape: one to give a transposed shape.  Returns the config. */
static int write_inputs(gs_ctx *ctx, const gs_tensor_list *g, int n_labels, const char *drop, const char *reshape,
                        gs_model_config *cfg)
{
    char path[256];
    const gs_tensor_entry *x = gs_tensor_list_find(g, "input"), *y = gs_tensor_list_find(g, "labels");
    const char *cj = gs_tensor_list_meta(g, "config");
    CHECK(x && y && cj, "golden file lacks input, labels or config");
    if (!x || !y || !cj || gs_model_config_from_json(ctx, cj, cfg) != GS_OK) return -1;
    snprintf(path, sizeof path, "%s/x.npy", tmp);
    int rc = gs_npy_save(ctx, path, GS_DT_F32, x->ndim, x->shape, x->data);
    int64_t ny = n_labels;
    snprintf(path, sizeof path, "%s/y.npy", tmp);
    if (rc == GS_OK) rc = gs_npy_save(ctx, path, GS_DT_I64, 1, &ny, y->data);
    gs_tensor_list *w = gs_tensor_list_create();
    for (int i = 0; rc == GS_OK && i < g->n; i++) {
        const gs_tensor_entry *e = &g->items[i];
        if (strncmp(e->name, "init.", 5) != 0 || (drop && !strcmp(e->name + 5, drop))) continue;
        int64_t shape[GS_TENSOR_MAX_DIMS];
        memcpy(shape, e->shape, sizeof shape);
        if (reshape && !strcmp(e->name + 5, reshape)) { shape[0] = e->shape[1]; shape[1] = e->shape[0]; }
        rc = gs_tensor_list_add(ctx, w, e->name + 5, e->dtype, e->ndim, shape, e->data);
    }
    snprintf(path, sizeof path, "%s/w.safetensors", tmp);
    if (rc == GS_OK) rc = gs_safetensors_save(ctx, path, w);
    gs_tensor_list_free(w);
    CHECK(rc == GS_OK, "writing inputs: %s", gs_errmsg(ctx));
    return rc;
}

static int run_grad(const gs_model_config *c, const char *mode, int with_out)
{
    return cli("grad --model mlp --width %d --depth %d --skip %d --block %s --act %s --norm %s --res-scale %s "
               "--loss %s --classes %d --weights %s/w.safetensors --input %s/x.npy --labels %s/y.npy %s%s%s "
               "--mode %s --threads 1",
               c->width, c->depth, c->skip, c->block == GS_BLOCK_PRE ? "pre" : "post", gs_act_name(c->act),
               gs_norm_name(c->norm), c->res_scale == GS_RES_SCALE_REZERO ? "rezero" : "none",
               c->loss == GS_LOSS_MSE ? "mse" : "ce", c->classes, tmp, tmp, tmp,
               with_out ? "--out " : "", with_out ? tmp : "", with_out ? "/g.safetensors" : "", mode);
}

static void grad_case(const char *name)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_tensor_list *g = NULL, *o = NULL;
    gs_model_config c;
    char path[256], oname[256];
    snprintf(path, sizeof path, "tests/ref/%s", name);
    if (load_list(ctx, path, &g) || write_inputs(ctx, g, 8, NULL, NULL, &c)) goto done;
    int rc = run_grad(&c, "train", 1);
    CHECK(rc == 0, "%s: grad exit %d: %s", name, rc, err);
    snprintf(path, sizeof path, "%s/g.safetensors", tmp);
    if (rc || load_list(ctx, path, &o)) goto done;
    compare(name, "loss", gs_tensor_list_find(o, "loss"), gs_tensor_list_find(g, "loss"), 2e-5, 5e-7);
    compare(name, "logits", gs_tensor_list_find(o, "logits"), gs_tensor_list_find(g, "logits"), 2e-5, 5e-7);
    compare(name, "input.grad", gs_tensor_list_find(o, "input.grad"), gs_tensor_list_find(g, "grad.input"), 2e-5, 5e-7);
    int n_grads = 0;
    for (int i = 0; i < g->n; i++) {
        const char *nm = g->items[i].name;
        if (strncmp(nm, "grad.", 5) != 0 || !strcmp(nm, "grad.input")) continue;
        snprintf(oname, sizeof oname, "%s.grad", nm + 5);
        compare(name, oname, gs_tensor_list_find(o, oname), &g->items[i], 2e-5, 5e-7);
        n_grads++;
    }
    CHECK(n_grads >= 10, "%s: only %d golden gradients", name, n_grads);
    CHECK_EQ_INT(o->n, n_grads + 3);
    /* eval mode: running statistics; PyTorch's eval logits and loss */
    rc = run_grad(&c, "eval", 1);
    CHECK(rc == 0, "%s: grad --mode eval exit %d: %s", name, rc, err);
    gs_tensor_list_free(o); o = NULL;
    if (rc || load_list(ctx, path, &o)) goto done;
    compare(name, "eval loss", gs_tensor_list_find(o, "loss"), gs_tensor_list_find(g, "eval.loss"), 2e-5, 5e-7);
    compare(name, "eval logits", gs_tensor_list_find(o, "logits"), gs_tensor_list_find(g, "eval.logits"), 2e-5, 5e-7);
done:
    gs_tensor_list_free(g);
    gs_tensor_list_free(o);
    gs_ctx_free(ctx);
}

static void test_grad_post_relu_bn(void) { grad_case("mlp_post_relu_bn.safetensors"); }
static void test_grad_pre_gelu_ln(void) { grad_case("mlp_pre_gelu_ln.safetensors"); }
static void test_grad_pre_silu_rezero(void) { grad_case("mlp_pre_silu_none_rezero.safetensors"); }
static void test_grad_plain_relu_ln_mse(void) { grad_case("mlp_plain_relu_ln_mse.safetensors"); }

static void test_grad_errors(void)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_tensor_list *g = NULL;
    gs_model_config c;
    if (load_list(ctx, "tests/ref/mlp_post_relu_bn.safetensors", &g) || write_inputs(ctx, g, 8, NULL, NULL, &c))
        goto done;
    EXPECT_EXIT(2, "grad --weights %s/w.safetensors --input %s/x.npy --labels %s/y.npy", tmp, tmp, tmp);
    EXPECT_IN(err, "--out");
    CHECK_EQ_INT(run_grad(&c, "train", 0), 2);
    EXPECT_EXIT(8, "grad --weights %s/w.safetensors --input %s/nothere.npy --labels %s/y.npy --out %s/g.safetensors",
                tmp, tmp, tmp, tmp);
    EXPECT_IN(err, "nothere.npy");
    write_inputs(ctx, g, 7, NULL, NULL, &c);              /* 7 labels for 8 samples */
    CHECK_EQ_INT(run_grad(&c, "train", 1), 6);
    EXPECT_IN(err, "y.npy");
    write_inputs(ctx, g, 8, "head.bias", NULL, &c);       /* a tensor missing */
    CHECK_EQ_INT(run_grad(&c, "train", 1), 8);
    EXPECT_IN(err, "head.bias");
    write_inputs(ctx, g, 8, NULL, "stem.weight", &c);     /* (12, 16) instead of (16, 12) */
    CHECK_EQ_INT(run_grad(&c, "train", 1), 6);
    EXPECT_IN(err, "stem.weight");
    write_inputs(ctx, g, 8, NULL, NULL, &c);
    gs_model_config wrong = c;
    wrong.depth = 2;                                      /* the file has layers.2 and .3 too */
    CHECK_EQ_INT(run_grad(&wrong, "train", 1), 3);
    EXPECT_IN(err, "layers.2");
    wrong = c;
    wrong.classes = 3;                                    /* labels up to 4 */
    CHECK_EQ_INT(run_grad(&wrong, "train", 1), 3);
    EXPECT_IN(err, "label");
done:
    gs_tensor_list_free(g);
    gs_ctx_free(ctx);
}

/* ---- resume: N steps + resume N more == 2N steps, bit for bit ---- */
static void same_checkpoints(const char *a_path, const char *b_path)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_tensor_list *a = NULL, *b = NULL;
    if (load_list(ctx, a_path, &a) || load_list(ctx, b_path, &b)) goto done;
    CHECK_EQ_INT(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        const gs_tensor_entry *ea = &a->items[i], *eb = gs_tensor_list_find(b, ea->name);
        CHECK(eb != NULL, "%s lacks %s", b_path, ea->name);
        if (!eb) continue;
        CHECK(ea->dtype == eb->dtype && ea->nbytes == eb->nbytes && ea->ndim == eb->ndim &&
              (ea->nbytes == 0 || memcmp(ea->data, eb->data, ea->nbytes) == 0),
              "tensor %s differs between the uninterrupted and the resumed run", ea->name);
    }
    const char *ra = gs_tensor_list_meta(a, "gradscope.resume"), *rb = gs_tensor_list_meta(b, "gradscope.resume");
    CHECK(ra && rb && strcmp(ra, rb) == 0, "resume state %s vs %s", ra ? ra : "(none)", rb ? rb : "(none)");
done:
    gs_tensor_list_free(a);
    gs_tensor_list_free(b);
    gs_ctx_free(ctx);
}

/* The train/ record of a step from metrics.jsonl, without the timing field. */
static int metrics_line(const char *dir, int step, char *line, size_t cap)
{
    char path[256], buf[1024], key[32];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    snprintf(key, sizeof key, "{\"step\":%d,", step);
    FILE *f = fopen(path, "r");
    int found = 0;
    while (f && fgets(buf, sizeof buf, f))
        if (!strncmp(buf, key, strlen(key)) && strstr(buf, "train/loss")) {
            char *t = strstr(buf, ",\"train/samples_per_s\"");
            if (t) *t = 0;
            snprintf(line, cap, "%s", buf);
            found++;
        }
    if (f) fclose(f);
    return found;
}

static void resume_case(const char *model, const char *optim)
{
    enum { HALF = 7 };
    char common[512], a[96], b[96], c[96], d1[96], d2[96], la[1024], lc[1024];
    /* constant lr: the two runs are given different totals (--steps), which a
     * cosine schedule would see; an interrupted run resumed with its own total
     * is exact under any schedule. */
    snprintf(common, sizeof common, "train --data teacher --batch 50 --log-every 1 --threads 1 --seed 5 "
             "--schedule constant %s %s",
             model, optim);
    snprintf(a, sizeof a, "%s/A.safetensors", tmp);
    snprintf(b, sizeof b, "%s/B.safetensors", tmp);
    snprintf(c, sizeof c, "%s/C.safetensors", tmp);
    snprintf(d1, sizeof d1, "%s/run1", tmp);
    snprintf(d2, sizeof d2, "%s/run2", tmp);
    EXPECT_EXIT(0, "%s --steps %d --save %s --log %s", common, 2 * HALF, a, d1);
    EXPECT_EXIT(0, "%s --steps %d --save %s --log %s", common, HALF, b, d2);
    EXPECT_EXIT(0, "%s --steps %d --resume %s --save %s --log %s", common, 2 * HALF, b, c, d2);
    same_checkpoints(a, c);
    for (int s = HALF + 1; s <= 2 * HALF; s++) {
        CHECK(metrics_line(d1, s, la, sizeof la) == 1, "%s: step %d: not once in the uninterrupted log", model, s);
        CHECK(metrics_line(d2, s, lc, sizeof lc) == 1, "%s: step %d: not once in the resumed log", model, s);
        CHECK(strcmp(la, lc) == 0, "%s: step %d: '%s' vs resumed '%s'", model, s, la, lc);
    }
    CHECK(metrics_line(d2, HALF, lc, sizeof lc) == 1, "%s: step %d missing from the first half", model, HALF);
    char cmd[640];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s %s %s %s", a, b, c, d1, d2);
    CHECK(system(cmd) == 0, "cleanup failed");
}

static void test_resume_plain_sgd(void) { resume_case("--depth 2 --width 32", "--lr 0.05 --momentum 0.9"); }
static void test_resume_batchnorm_adam(void)
{
    resume_case("--depth 2 --width 32 --skip 1 --norm batch --act tanh", "--optim adam --lr 0.003");
}

/* ---- divergence: exit 7 naming the step; the metrics written before stay ---- */
static void test_diverge(void)
{
    char dir[128], path[256], buf[1024];
    snprintf(dir, sizeof dir, "%s/diverge", tmp);
    EXPECT_EXIT(7, "train --data teacher --act relu --lr 1e6 --depth 2 --width 32 --batch 50 --steps 100 "
                "--log-every 1 --threads 1 --log %s", dir);
    EXPECT_IN(err, "step 3");
    /* the first NaN/Inf: which layer, which tensor, which direction */
    EXPECT_IN(err, "layer layers.0 (linear)");
    EXPECT_IN(err, "tensor output");
    EXPECT_IN(err, "forward");
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "%s is gone", path);
    int lines = 0;
    while (f && fgets(buf, sizeof buf, f)) {
        lines++;
        CHECK(buf[0] == '{' && strstr(buf, "}\n") != NULL, "%s line %d is not a whole record: %s", path, lines, buf);
    }
    if (f) fclose(f);
    CHECK(lines >= 1, "%s is empty", path);
    snprintf(path, sizeof path, "%s/run.json", dir);
    CHECK(access(path, R_OK) == 0, "%s is gone", path);
    /* --on-nonfinite skip: the run finishes and says how many updates it skipped */
    EXPECT_EXIT(0, "train --data teacher --act relu --lr 1e6 --depth 2 --width 32 --batch 50 --steps 20 "
                "--threads 1 --on-nonfinite skip");
    EXPECT_IN(out, "updates skipped for NaN/Inf");
}

/* ---- the instruments on a convolutional net: every tag family in metrics.jsonl ---- */
static void test_probe_resnet(void)
{
    char dir[128], path[256];
    static char buf[1 << 17];
    snprintf(dir, sizeof dir, "%s/probe_resnet", tmp);
    EXPECT_EXIT(0, "train --model resnet --depth 8 --data teacher --probe --steps 3 --batch 50 --threads 1 "
                "--log-every 1 --log %s", dir);
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "%s missing", path);
    if (!f) return;
    int found[6] = { 0 };
    const char *tags[6] = { "\"grad_norm/blocks.1.c1.weight\":", "\"act_grad_norm/blocks.2\":",
                            "\"saturated/conv\":", "\"norm_ratio/block.2\":", "\"dead/blocks.0.c1\":",
                            "\"update_ratio/fc.weight\":" };
    while (fgets(buf, sizeof buf, f))
        for (int i = 0; i < 6; i++) found[i] |= strstr(buf, tags[i]) != NULL;
    fclose(f);
    for (int i = 0; i < 6; i++) CHECK(found[i], "%s not in %s", tags[i], path);
    /* test evaluations during training: at steps 2 and 4 on 30 samples, then the whole test set at 5 */
    EXPECT_EXIT(0, "train --model plain --depth 8 --data teacher --steps 5 --batch 50 --threads 1 --eval-every 2 "
                "--eval-samples 30 --log %s", dir);
    EXPECT_IN(err, "step 2: test loss");
    EXPECT_IN(err, "step 4: test loss");
    EXPECT_IN(err, "(30 samples)");
    f = fopen(path, "r");
    int at[6] = { 0 };
    while (f && fgets(buf, sizeof buf, f)) {
        long long st = -1;
        if (strstr(buf, "\"test/acc\":") && sscanf(buf, "{\"step\":%lld", &st) == 1 && st >= 0 && st < 6) at[st]++;
    }
    if (f) fclose(f);
    CHECK(at[2] == 1 && at[4] == 1 && at[5] == 1 && at[1] + at[3] == 0, "test/acc at steps 1..5: %d %d %d %d %d",
          at[1], at[2], at[3], at[4], at[5]);
}

/* ---- grad on a conv net: X as (N, C, H, W), the same numbers as the library in-process ---- */
static void same(const char *what, const gs_tensor_entry *e, const float *want, size_t n)
{
    CHECK(e && e->dtype == GS_DT_F32 && e->nbytes == n * sizeof(float), "grad --model resnet: %s missing or "
          "of the wrong size", what);
    if (!e || e->nbytes != n * sizeof(float)) return;
    const float *g = e->data;
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)g[i] - want[i]));
        scale = fmax(scale, fabs(want[i]));
    }
    CHECK(worst <= 1e-6 * scale + 1e-9, "grad --model resnet: %s differs by %.3g (scale %.3g)", what, worst, scale);
}

static void test_grad_resnet_images(void)
{
    enum { N = 3, C = 2, H = 10, W = 9 };
    gs_ctx *ctx = gs_ctx_create();
    gs_model *m = NULL;
    gs_tensor_list *o = NULL;
    gs_model_config c;
    gs_model_config_default(&c);
    snprintf(c.family, sizeof c.family, "resnet");
    c.depth = 8; c.width = 16; c.shortcut = 'B'; c.norm = GS_NORM_BATCH; c.classes = 5;
    c.in_channels = C; c.in_height = H; c.in_width = W; c.in_features = C * H * W;
    float x[N * C * H * W];
    int64_t y[N] = { 4, 0, 2 };
    int32_t y32[N] = { 4, 0, 2 };
    for (int i = 0; i < N * C * H * W; i++) x[i] = (float)sin(0.37 * i) + 0.1f * (float)(i % 7);
    char path[256];
    int rc = gs_model_create(ctx, &c, N, &m);
    if (rc == GS_OK) rc = gs_model_init(m, 3);
    snprintf(path, sizeof path, "%s/rw.safetensors", tmp);
    if (rc == GS_OK) rc = gs_model_save(ctx, m, path);
    int64_t xs[4] = { N, C, H, W }, ys[1] = { N };
    snprintf(path, sizeof path, "%s/rx.npy", tmp);
    if (rc == GS_OK) rc = gs_npy_save(ctx, path, GS_DT_F32, 4, xs, x);
    snprintf(path, sizeof path, "%s/ry.npy", tmp);
    if (rc == GS_OK) rc = gs_npy_save(ctx, path, GS_DT_I64, 1, ys, y);
    snprintf(path, sizeof path, "%s/rx2.npy", tmp);
    int64_t flat[2] = { N, C * H * W };
    if (rc == GS_OK) rc = gs_npy_save(ctx, path, GS_DT_F32, 2, flat, x);
    CHECK(rc == GS_OK, "setup: %s", gs_errmsg(ctx));
    if (rc) goto done;
    const char *net = "--model resnet --depth 8 --width 16 --shortcut B --classes 5";
    EXPECT_EXIT(0, "grad %s --weights %s/rw.safetensors --input %s/rx.npy --labels %s/ry.npy --out %s/rg.safetensors "
                "--threads 1", net, tmp, tmp, tmp, tmp);
    snprintf(path, sizeof path, "%s/rg.safetensors", tmp);
    if (gs_safetensors_load(ctx, path, &o) != GS_OK) { CHECK(0, "%s: %s", path, gs_errmsg(ctx)); goto done; }
    /* the same pass in-process */
    float loss;
    gs_model_set_training(m, 1);
    gs_model_set_input_grad(m, 1);
    gs_model_zero_grad(m);
    rc = gs_model_forward(m, x, N);
    if (rc == GS_OK) rc = gs_model_loss(m, y32, &loss);
    if (rc == GS_OK) rc = gs_model_backward(m);
    CHECK(rc == GS_OK, "in-process pass: %s", gs_errmsg(ctx));
    if (rc) goto done;
    const gs_tensor_entry *ig = gs_tensor_list_find(o, "input.grad");
    CHECK(ig && ig->ndim == 4 && ig->shape[1] == C && ig->shape[2] == H && ig->shape[3] == W,
          "input.grad is not (N, C, H, W)");
    same("loss", gs_tensor_list_find(o, "loss"), &loss, 1);
    same("logits", gs_tensor_list_find(o, "logits"), gs_model_logits(m), (size_t)N * 5);
    same("input.grad", ig, gs_model_input_grad(m), (size_t)N * C * H * W);
    int n_grads = 0;
    for (int i = 0; i < gs_model_n_tensors(m); i++) {
        const gs_tensor_info *t = gs_model_tensor(m, i);
        if (!t->trainable) continue;
        char name[160];
        snprintf(name, sizeof name, "%s.grad", t->name);
        same(name, gs_tensor_list_find(o, name), t->grad, t->numel);
        n_grads++;
    }
    CHECK(n_grads >= 20, "only %d parameter gradients", n_grads);
    /* images must come as (N, C, H, W) */
    EXPECT_EXIT(6, "grad %s --weights %s/rw.safetensors --input %s/rx2.npy --labels %s/ry.npy --out %s/rg2.safetensors "
                "--threads 1", net, tmp, tmp, tmp, tmp);
    EXPECT_IN(err, "(N, C, H, W)");
done:
    gs_tensor_list_free(o);
    gs_model_free(m);
    gs_ctx_free(ctx);
}

/* ---- the study, end to end on a tiny budget: mlp grid + conv part, and its errors ---- */
static void test_study_small(void)
{
    char dir[128], path[256];
    static char buf[1 << 20];
    snprintf(dir, sizeof dir, "%s/study", tmp);
    EXPECT_EXIT(0, "study --quick --depths 2 --acts relu --steps 3 --conv-depths 8,14 --conv-steps 4 "
                "--conv-points 2 --out %s --threads 1", dir);
    EXPECT_IN(out, "report: ");
    EXPECT_IN(out, "resnet     14      4");
    EXPECT_IN(out, "ensemble: residual mlp of 6 blocks");
    snprintf(path, sizeof path, "%s/report.json", dir);
    slurp(path, buf, sizeof buf);
    int families = 0;
    const char *conv_end = strstr(buf, "\"ensemble\":");   /* the norm-ratio series have a family too */
    for (const char *p = buf; (p = strstr(p, "\"family\":")) != NULL && (!conv_end || p < conv_end); p++) families++;
    CHECK(families == 4, "report.json has %d conv runs, expected 4", families);
    EXPECT_IN(buf, "\"curve_steps\": [2,4]");
    EXPECT_IN(buf, "\"jacobian\": {\"samples\": 4, \"sigma1_median\": ");   /* the ensemble nets' spectra */
    /* the norm-ratio part at its quick depths: resnet 8 and 14 (3 and 6 blocks), mlp 4 and 8 */
    const char *nr = strstr(buf, "\"normratio\": {");
    CHECK(nr != NULL, "report.json has no normratio part: %.300s", buf);
    if (nr) {
        EXPECT_IN(nr, "{\"family\": \"resnet\", \"shortcut\": \"A\", \"width\": 16, \"samples\": 8,");
        EXPECT_IN(nr, "\"depths\": [8,14], \"blocks\": [3,6]");
        EXPECT_IN(nr, "{\"family\": \"mlp\", \"shortcut\": null, \"width\": 256, \"samples\": 16,");
        EXPECT_IN(nr, "\"depths\": [4,8], \"blocks\": [2,4]");
        EXPECT_IN(nr, "[false,true,true]");       /* resnet-8: both later stages start with a transition */
    }
    snprintf(path, sizeof path, "%s/index.html", dir);
    slurp(path, buf, sizeof buf);
    EXPECT_IN(buf, "He et al.");
    EXPECT_IN(buf, "<h2 id=\"normratio\">8. Norm preservation against depth");
    EXPECT_IN(buf, "Jacobian spectrum of J = ");
    /* only the conv part */
    EXPECT_EXIT(0, "study --quick --conv-only --conv-depths 8 --conv-steps 2 --conv-points 1 --out %s --threads 1", dir);
    EXPECT_IN(out, "plain       8      2");
    EXPECT_EXIT(2, "study --conv-depths 9 --out %s", dir);
    EXPECT_IN(err, "6n+2");
    EXPECT_EXIT(2, "study --conv-only --conv-depths none --out %s", dir);
    EXPECT_EXIT(3, "study --quick --data spirals --depths 2 --steps 2 --conv-steps 2 --out %s", dir);
    EXPECT_IN(err, "--conv-depths none");
    EXPECT_EXIT(0, "study --quick --data spirals --acts relu --depths 2 --steps 2 --conv-depths none --out %s", dir);
    EXPECT_IN(err, "not images; the resnet series is left out");
    snprintf(path, sizeof path, "%s/report.json", dir);
    slurp(path, buf, sizeof buf);
    CHECK(strstr(buf, "\"family\": \"mlp\"") && !strstr(buf, "\"family\": \"resnet\""),
          "spirals: the mlp norm-ratio series only");
    EXPECT_EXIT(2, "study --normratio-conv-depths 9 --out %s", dir);
    EXPECT_IN(err, "6n+2");
    EXPECT_EXIT(2, "study --normratio-mlp-depths 7 --out %s", dir);
    EXPECT_IN(err, "odd");
    /* the norm-ratio part off, the ensemble too: report.json says null */
    EXPECT_EXIT(0, "study --quick --data spirals --acts relu --depths 2 --steps 2 --conv-depths none --ensemble-blocks 0 "
                "--normratio-conv-depths none --normratio-mlp-depths none --out %s", dir);
    slurp(path, buf, sizeof buf);
    EXPECT_IN(buf, "\"normratio\": null");
}

/* ---- paths and lesion: from checkpoints and a dataset; their errors ---- */
static void test_paths_lesion(void)
{
    char ck[128], js[128];
    static char buf[1 << 14];
    snprintf(ck, sizeof ck, "%s/paths.safetensors", tmp);
    snprintf(js, sizeof js, "%s/paths.json", tmp);
    EXPECT_EXIT(0, "train --depth 6 --width 32 --skip 2 --norm batch --data teacher --steps 3 --batch 50 --threads 1 "
                "--save %s", ck);
    EXPECT_EXIT(0, "paths --weights %s --data teacher --samples 40 --veit-sets 5 --out %s --threads 1", ck, js);
    slurp(js, buf, sizeof buf);
    EXPECT_IN(buf, "\"blocks\": 3");
    EXPECT_IN(buf, "\"samples\": 40");
    EXPECT_IN(buf, "\"path_count_fraction\": [0.125, 0.375, 0.375, 0.125]");
    const char *keys[] = { "exact_norm_by_length", "input_grad_norm", "veit_mean_norm_by_length", "veit_total_by_length" };
    for (int i = 0; i < 4; i++) EXPECT_IN(buf, keys[i]);
    const char *p = strstr(buf, "\"sum_check_rel_err\": ");
    CHECK(p && atof(p + 21) < 1e-5, "sum check: %.80s", p ? p : "missing");
    EXPECT_IN(out, "matches it to");
    /* a plain net has no paths; the options go together */
    snprintf(ck, sizeof ck, "%s/plain.safetensors", tmp);
    EXPECT_EXIT(0, "train --depth 3 --width 16 --data teacher --steps 1 --batch 50 --threads 1 --save %s", ck);
    EXPECT_EXIT(3, "paths --weights %s --data teacher --out %s", ck, js);
    EXPECT_IN(err, "no residual blocks");
    EXPECT_EXIT(2, "paths --weights %s --data teacher", ck);
    EXPECT_EXIT(2, "paths --weights %s --data teacher --input x.npy --labels y.npy --out %s", ck, js);
    EXPECT_EXIT(8, "paths --weights %s/missing.safetensors --data teacher --out %s", tmp, js);
    /* lesion: the plain net over its layers, then the residual one over its blocks */
    EXPECT_EXIT(0, "lesion --weights %s --data teacher --samples 60 --sets 2 --out %s --threads 1", ck, js);
    slurp(js, buf, sizeof buf);
    EXPECT_IN(buf, "\"units\": 3");
    EXPECT_IN(buf, "\"residual\": false");
    snprintf(ck, sizeof ck, "%s/paths.safetensors", tmp);
    EXPECT_EXIT(0, "lesion --weights %s --data teacher --samples 60 --sets 2 --max-swaps 1 --out %s --threads 1", ck, js);
    slurp(js, buf, sizeof buf);
    const char *lkeys[] = { "\"baseline_error\": ", "\"single_block_error\": [", "\"k_deleted\": [",
                            "{\"k\": 2, \"mean_error\": ", "\"reorder\": [", "{\"swaps\": 1, \"kendall_tau\": " };
    for (int i = 0; i < 6; i++) EXPECT_IN(buf, lkeys[i]);
    EXPECT_IN(buf, "\"residual\": true");
    EXPECT_IN(out, "one block deleted");
    EXPECT_EXIT(2, "lesion --weights %s --data teacher", ck);
    EXPECT_EXIT(2, "lesion --weights %s --data teacher --sets 0 --out %s", ck, js);
    /* normratio: residual nets of two depths at initialisation; a transition block is marked */
    EXPECT_EXIT(0, "normratio --model mlp --skip 2 --width 16 --depths 4,8 --data teacher --samples 20 --out %s "
                "--threads 1", js);
    slurp(js, buf, sizeof buf);
    EXPECT_IN(buf, "{\"depth\": 8, \"blocks\": 4,");
    EXPECT_IN(buf, "\"ratio\": [");
    EXPECT_IN(buf, "\"transition\": [false, false, false, false], \"mean_ratio\": ");
    EXPECT_EXIT(0, "normratio --model resnet --depths 8 --data fashion-mnist --samples 8 --out %s --threads 1", js);
    slurp(js, buf, sizeof buf);
    EXPECT_IN(buf, "\"transition\": [false, true, true]");
    EXPECT_EXIT(2, "normratio --model plain --depths 8 --out %s", js);
    EXPECT_EXIT(2, "normratio --model mlp --depths 8 --out %s", js);
    /* --procrustes: the stem leaves training with equal singular values (its rows orthogonal, of one norm) */
    EXPECT_EXIT(0, "train --depth 4 --skip 2 --width 16 --data teacher --steps 3 --batch 50 --threads 1 --procrustes "
                "--save %s", ck);
    gs_ctx *ctx = gs_ctx_create();
    gs_tensor_list *t = NULL;
    CHECK(gs_safetensors_load(ctx, ck, &t) == GS_OK, "%s", gs_errmsg(ctx));
    const gs_tensor_entry *w = t ? gs_tensor_list_find(t, "stem.weight") : NULL;
    CHECK(w && w->ndim == 2 && w->shape[0] == 16, "stem.weight missing");
    if (w && w->ndim == 2) {
        const int r = (int)w->shape[0], c = (int)w->shape[1];
        const float *x = w->data;
        double g00 = 0, worst = 0;
        for (int l = 0; l < c; l++) g00 += (double)x[l] * x[l];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++) {
                double g = 0;
                for (int l = 0; l < c; l++) g += (double)x[i * c + l] * x[j * c + l];
                worst = fmax(worst, fabs(g / g00 - (i == j)));
            }
        CHECK(worst < 1e-3, "stem rows not orthogonal of one norm: %.3g", worst);
    }
    gs_tensor_list_free(t);
    gs_ctx_free(ctx);
    EXPECT_EXIT(3, "train --depth 4 --width 16 --data teacher --steps 1 --batch 50 --procrustes");
    EXPECT_IN(err, "no transition layers");
}

/* jacobian: the spectrum of dh_L/dh_0 on the residual (width 16, left by --procrustes) and plain
 * checkpoints of test_paths_lesion and the resnet of test_grad_resnet_images (images from a .npy file) */
static void test_jacobian_cli(void)
{
    char ck[128], js[128];
    static char buf[1 << 16];
    snprintf(ck, sizeof ck, "%s/paths.safetensors", tmp);
    snprintf(js, sizeof js, "%s/jac.json", tmp);
    EXPECT_EXIT(0, "jacobian --weights %s --data teacher --samples 3 --full --probes 16 --out %s --threads 1", ck, js);
    slurp(js, buf, sizeof buf);
    const char *keys[] = { "\"residual\": true", "\"samples\": 3", "\"in_features\": 16", "\"out_features\": 16",
                           "\"lanczos_steps\": 16", "\"top_singular_values\": [", "\"top_residual\": [",
                           "\"top_singular_values_mean\": [", "\"mean_sq_singular_value\": [",
                           "\"mean_sq_singular_value_stderr\": [", "\"full_singular_values\": [",
                           "\"full_mean_sq_singular_value\": [" };
    for (int i = 0; i < 12; i++) EXPECT_IN(buf, keys[i]);
    const char *p = strstr(buf, "\"full_top_max_rel_err\": ");
    CHECK(p && atof(p + 24) < 1e-4, "Lanczos against the dense SVD: %.60s", p ? p : "missing");
    EXPECT_IN(out, "Lanczos against the dense SVD");
    EXPECT_IN(out, "sigma_1");
    snprintf(ck, sizeof ck, "%s/plain.safetensors", tmp);
    EXPECT_EXIT(0, "jacobian --weights %s --data teacher --samples 2 --top 3 --out %s --threads 1", ck, js);
    slurp(js, buf, sizeof buf);
    EXPECT_IN(buf, "\"residual\": false");
    EXPECT_IN(buf, "\"full_singular_values\": null");
    /* a resnet on (N, C, H, W) images: J is (64·3·3) x (16·10·9) */
    EXPECT_EXIT(0, "jacobian --weights %s/rw.safetensors --input %s/rx.npy --top 2 --steps 8 --probes 4 --out %s "
                "--threads 1", tmp, tmp, js);
    slurp(js, buf, sizeof buf);
    EXPECT_IN(buf, "\"in_features\": 1440");
    EXPECT_IN(buf, "\"out_features\": 576");
    EXPECT_IN(buf, "\"lanczos_steps\": 8");
    /* a batch-norm net at initialisation: eval mode's batch norm is the identity until --calibrate sets
       the running statistics from the samples, which changes the spectrum */
    static char buf2[1 << 16];
    EXPECT_EXIT(0, "jacobian --model mlp --depth 8 --skip 2 --norm batch --width 16 --data teacher --samples 8 "
                "--probes 0 --top 1 --out %s --threads 1", js);
    EXPECT_IN(err, "--calibrate K");
    slurp(js, buf, sizeof buf);
    EXPECT_EXIT(0, "jacobian --model mlp --depth 8 --skip 2 --norm batch --width 16 --data teacher --samples 8 "
                "--probes 0 --top 1 --calibrate 60 --out %s --threads 1", js);
    slurp(js, buf2, sizeof buf2);
    EXPECT_IN(buf2, "\"calibration_passes\": 60");
    const char *s0 = strstr(buf, "\"top_singular_values_mean\": ["), *s1 = strstr(buf2, "\"top_singular_values_mean\": [");
    CHECK(s0 && s1 && fabs(atof(s0 + 29) - atof(s1 + 29)) > 1e-3 * fabs(atof(s0 + 29)),
          "calibration left sigma_1 unchanged: %.40s / %.40s", s0 ? s0 : "-", s1 ? s1 : "-");
    /* usage and bad values */
    EXPECT_EXIT(2, "jacobian --weights %s --data teacher", ck);
    EXPECT_EXIT(2, "jacobian --weights %s --data teacher --input %s/rx.npy --out %s", ck, tmp, js);
    EXPECT_EXIT(2, "jacobian --weights %s --data teacher --top 0 --out %s", ck, js);
    EXPECT_EXIT(6, "jacobian --weights %s --input %s/rx.npy --out %s", ck, tmp, js);
    EXPECT_IN(err, "features");
    EXPECT_EXIT(5, "jacobian --weights %s --input %s/y.npy --out %s", ck, tmp, js);   /* int64 labels as inputs */
    EXPECT_IN(err, "float32");
    EXPECT_EXIT(8, "jacobian --weights %s --input %s/none.npy --out %s", ck, tmp, js);
    EXPECT_IN(err, "none.npy");
    /* calibrating batch norm needs two samples or more */
    EXPECT_EXIT(6, "jacobian --model mlp --depth 4 --skip 2 --norm batch --width 16 --data teacher --samples 1 "
                "--calibrate 5 --out %s --threads 1", js);
    EXPECT_IN(err, "more than 1 sample");
}

/* --deterministic: a resnet trained on 1 and on 2 threads ends with the same bytes */
static void test_deterministic(void)
{
    static char a[1 << 20], b[1 << 20];
    char ck1[128], ck2[128];
    snprintf(ck1, sizeof ck1, "%s/det1.safetensors", tmp);
    snprintf(ck2, sizeof ck2, "%s/det2.safetensors", tmp);
    for (int t = 1; t <= 2; t++)
        EXPECT_EXIT(0, "train --model resnet --depth 8 --data fashion-mnist --steps 3 --batch 64 --deterministic "
                    "--threads %d --save %s", t, t == 1 ? ck1 : ck2);
    FILE *f1 = fopen(ck1, "rb"), *f2 = fopen(ck2, "rb");
    const size_t n1 = f1 ? fread(a, 1, sizeof a, f1) : 0, n2 = f2 ? fread(b, 1, sizeof b, f2) : 0;
    if (f1) fclose(f1);
    if (f2) fclose(f2);
    CHECK(n1 > 1000 && n1 == n2 && n1 < sizeof a, "checkpoint sizes %zu and %zu", n1, n2);
    CHECK(n1 == n2 && memcmp(a, b, n1) == 0, "the checkpoints of 1 and 2 threads differ");
}

int main(void)
{
    const char *b = getenv("GS_BUILD");
    snprintf(bin, sizeof bin, "%s/gradscope", b && *b ? b : "build");
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "FAIL %s is not there (build it; run from the repository root)\n", bin);
        printf("RESULT 0 1\n");
        return 1;
    }
    snprintf(tmp, sizeof tmp, "/tmp/gs_test_cli_XXXXXX");
    if (!mkdtemp(tmp)) { fprintf(stderr, "FAIL mkdtemp\n"); printf("RESULT 0 1\n"); return 1; }
    RUN(test_no_command);
    RUN(test_unknown_command);
    RUN(test_unknown_option);
    RUN(test_bad_values);
    RUN(test_help);
    RUN(test_data_not_found);
    RUN(test_corrupt_dataset);
    RUN(test_inspect);
    RUN(test_grad_post_relu_bn);
    RUN(test_grad_pre_gelu_ln);
    RUN(test_grad_pre_silu_rezero);
    RUN(test_grad_plain_relu_ln_mse);
    RUN(test_grad_errors);
    RUN(test_resume_plain_sgd);
    RUN(test_resume_batchnorm_adam);
    RUN(test_diverge);
    RUN(test_probe_resnet);
    RUN(test_grad_resnet_images);
    RUN(test_study_small);
    RUN(test_paths_lesion);
    RUN(test_jacobian_cli);
    RUN(test_deterministic);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmp);
    return FINISH();
}
