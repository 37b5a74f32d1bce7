/* gradscope - the command-line tool.  The only code that prints to stdout
 * or calls exit(): it turns library status codes into messages on stderr and
 * distinct exit codes (see usage()).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "gradscope.h"
#include "io/io.h"
#include "io/json.h"
#include "train/checkpoint.h"
#include "train/study.h"
#include "io/augment.h"

/* Exit codes: one per kind of failure, so scripts can tell them apart. */
enum {
    EXIT_OK = 0, EXIT_USAGE = 2, EXIT_INVALID = 3, EXIT_IO = 4, EXIT_FORMAT = 5, EXIT_SHAPE = 6,
    EXIT_NONFINITE = 7, EXIT_NOTFOUND = 8, EXIT_NOMEM = 9, EXIT_UNSUPPORTED = 10, EXIT_OTHER = 1
};

static int exit_code(int rc)
{
    switch (rc) {
    case GS_OK: return EXIT_OK;
    case GS_EINVAL: return EXIT_INVALID;
    case GS_EIO: return EXIT_IO;
    case GS_EFORMAT: return EXIT_FORMAT;
    case GS_ESHAPE: return EXIT_SHAPE;
    case GS_ENONFINITE: return EXIT_NONFINITE;
    case GS_ENOTFOUND: return EXIT_NOTFOUND;
    case GS_ENOMEM: return EXIT_NOMEM;
    case GS_EUNSUPPORTED: return EXIT_UNSUPPORTED;
    default: return EXIT_OTHER;
    }
}

static const char *cmd_name = "gradscope";

static void die_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "gradscope %s: ", cmd_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'gradscope %s --help')\n", cmd_name);
    exit(EXIT_USAGE);
}

static int fail(gs_ctx *ctx, int rc)
{
    fprintf(stderr, "gradscope %s: error: %s\n", cmd_name, gs_errmsg(ctx));
    return exit_code(rc);
}

/* ---- options: a table per command; every default is shown in --help ---- */
typedef struct opt {
    const char *name;        /* without the leading -- */
    const char *meta;        /* NULL for a flag */
    const char *def;         /* default as text (NULL: none) */
    const char *help;
    const char *value;       /* parsed value (or def) */
    int given;
} opt;

#define OPT_END { NULL, NULL, NULL, NULL, NULL, 0 }

static opt *find_opt(opt *o, const char *name)
{
    for (; o->name; o++) if (!strcmp(o->name, name)) return o;
    return NULL;
}

static void print_help(const char *synopsis, const char *about, opt *opts)
{
    printf("usage: gradscope %s\n\n%s\n\noptions:\n", synopsis, about);
    for (opt *o = opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->meta ? " " : "", o->meta ? o->meta : "");
        printf("  %-24s %s", left, o->help);
        if (o->def) printf(" (default: %s)", o->def);
        else if (!o->meta) printf(" (default: off)");
        else if (!strstr(o->help, "(required)")) printf(" (default: none)");
        printf("\n");
    }
    printf("  %-24s %s\n", "--help", "show this help");
}

static void parse_opts(int argc, char **argv, opt *opts, const char *synopsis, const char *about)
{
    for (opt *o = opts; o->name; o++) o->value = o->def;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { print_help(synopsis, about, opts); exit(EXIT_OK); }
        if (strncmp(a, "--", 2) != 0) die_usage("unexpected argument '%s'", a);
        char name[64];
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (len >= sizeof name) die_usage("unknown option '%s'", a);
        memcpy(name, a + 2, len); name[len] = 0;
        opt *o = find_opt(opts, name);
        if (!o) die_usage("unknown option '--%s'", name);
        if (o->given) die_usage("option '--%s' given twice", name);
        o->given = 1;
        if (!o->meta) {
            if (eq) die_usage("option '--%s' takes no value", name);
            o->value = "1";
        } else if (eq) {
            o->value = eq + 1;
        } else {
            if (i + 1 >= argc) die_usage("option '--%s' needs a value (%s)", name, o->meta);
            o->value = argv[++i];
        }
    }
}

static const char *get(opt *opts, const char *name) { return find_opt(opts, name)->value; }
static int given(opt *opts, const char *name) { return find_opt(opts, name)->given; }
static int flag(opt *opts, const char *name) { const char *v = get(opts, name); return v && !strcmp(v, "1"); }

static long long get_int(opt *opts, const char *name, long long lo, long long hi)
{
    const char *s = get(opts, name);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno) die_usage("--%s '%s' is not an integer", name, s);
    if (v < lo || v > hi) die_usage("--%s %lld is out of range [%lld, %lld]", name, v, lo, hi);
    return v;
}

static double get_float(opt *opts, const char *name, double lo, double hi)
{
    const char *s = get(opts, name);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v)) die_usage("--%s '%s' is not a number", name, s);
    if (v < lo || v > hi) die_usage("--%s %g is out of range [%g, %g]", name, v, lo, hi);
    return v;
}

static void log_stderr(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "%s\n", line);
}

/* ---- model options, shared by train, inspect, grad ---- */
#define MODEL_OPTS \
    { "model", "NAME", "mlp", "architecture family: mlp, resnet or plain (He et al.'s CIFAR nets)", NULL, 0 }, \
    { "width", "W", "256 (mlp), 16 (resnet/plain)", "mlp: hidden width; resnet/plain: channels of the first stage", NULL, 0 }, \
    { "depth", "D", "20", "mlp: hidden Linear(W, W) layers; resnet/plain: 6n+2 layers", NULL, 0 }, \
    { "shortcut", "A|B", "A", "resnet: A = subsample + zero channels, B = 1x1 conv + BN where shapes change", NULL, 0 }, \
    { "skip", "T", "0", "residual span in layers; 0 = plain network", NULL, 0 }, \
    { "block", "post|pre", "post", "residual block form", NULL, 0 }, \
    { "act", "NAME", "relu", "identity sigmoid tanh relu leaky_relu elu selu gelu silu softplus hardtanh", NULL, 0 }, \
    { "norm", "none|batch|layer", "none (mlp), batch (resnet/plain)", "normalisation after each hidden layer", NULL, 0 }, \
    { "res-scale", "none|rezero", "none", "rezero: learned scalar per residual branch, initialised 0", NULL, 0 }, \
    { "init", "NAME", "he_normal", "he_normal he_uniform glorot_uniform glorot_normal lecun_normal orthogonal torch fixup", NULL, 0 }, \
    { "zero-last", NULL, NULL, "zero the last norm weight (or layer) of each residual branch", NULL, 0 }, \
    { "loss", "ce|mse", "ce", "softmax cross-entropy or MSE against one-hot targets", NULL, 0 }

static void model_from_opts(opt *opts, gs_model_config *c)
{
    gs_model_config_default(c);
    const char *fam = get(opts, "model");
    const int conv = !strcmp(fam, "resnet") || !strcmp(fam, "plain");
    if (strcmp(fam, "mlp") != 0 && !conv) die_usage("--model '%s' is not a known family (mlp, resnet, plain)", fam);
    strcpy(c->family, fam);
    if (given(opts, "width")) c->width = (int)get_int(opts, "width", 1, 1 << 20);
    else c->width = conv ? 16 : 256;
    if (conv && c->width % 16) die_usage("--width %d must be a multiple of 16 for %s", c->width, fam);
    const char *sc = get(opts, "shortcut");
    if (strcmp(sc, "A") && strcmp(sc, "B")) die_usage("--shortcut '%s' must be A or B", sc);
    c->shortcut = sc[0];
    c->depth = (int)get_int(opts, "depth", 0, 1 << 20);
    c->skip = (int)get_int(opts, "skip", 0, 1 << 20);
    const char *s = get(opts, "block");
    if (!strcmp(s, "post")) c->block = GS_BLOCK_POST;
    else if (!strcmp(s, "pre")) c->block = GS_BLOCK_PRE;
    else die_usage("--block '%s' must be post or pre", s);
    if (gs_act_from_name(get(opts, "act"), &c->act) != 0) die_usage("--act '%s' is not a known activation", get(opts, "act"));
    if (!given(opts, "norm")) c->norm = conv ? GS_NORM_BATCH : GS_NORM_NONE;
    else if (gs_norm_from_name(get(opts, "norm"), &c->norm) != 0) die_usage("--norm '%s' must be none, batch or layer", get(opts, "norm"));
    if (gs_init_from_name(get(opts, "init"), &c->init) != 0) die_usage("--init '%s' is not a known initialisation", get(opts, "init"));
    s = get(opts, "res-scale");
    if (!strcmp(s, "none")) c->res_scale = GS_RES_SCALE_NONE;
    else if (!strcmp(s, "rezero")) c->res_scale = GS_RES_SCALE_REZERO;
    else die_usage("--res-scale '%s' must be none or rezero", s);
    s = get(opts, "loss");
    if (!strcmp(s, "ce")) c->loss = GS_LOSS_CE;
    else if (!strcmp(s, "mse")) c->loss = GS_LOSS_MSE;
    else die_usage("--loss '%s' must be ce or mse", s);
    c->zero_last = flag(opts, "zero-last");
    if (conv) {
        if (c->depth < 8 || (c->depth - 2) % 6) die_usage("--depth %d must be 6n+2 for %s (8, 14, 20, 32, 44, 56, 110)", c->depth, fam);
        if (c->norm == GS_NORM_LAYER) die_usage("--norm layer is not defined for %s (none or batch)", fam);
        if (c->skip) die_usage("--skip is for the mlp family (resnet blocks span 2 convolutions)");
        if (c->res_scale != GS_RES_SCALE_NONE) die_usage("--res-scale is for the mlp family");
        return;
    }
    if (c->skip > 0 && (c->depth == 0 || c->depth % c->skip))
        die_usage("--depth %d must be a positive multiple of --skip %d", c->depth, c->skip);
    if (c->skip == 0 && c->block == GS_BLOCK_PRE) die_usage("--block pre needs --skip >= 1");
    if (c->skip == 0 && c->res_scale == GS_RES_SCALE_REZERO) die_usage("--res-scale rezero needs --skip >= 1");
}

/* A context with --threads applied; NULL (after saying so) when out of memory. */
static gs_ctx *ctx_from_opts(opt *opts)
{
    gs_ctx *ctx = gs_ctx_create();
    if (!ctx) { fprintf(stderr, "gradscope: out of memory\n"); return NULL; }
    gs_ctx_set_threads(ctx, (int)get_int(opts, "threads", 0, 1024));
    if (find_opt(opts, "deterministic")) gs_ctx_set_deterministic(ctx, flag(opts, "deterministic"));
    return ctx;
}

static int load_data(gs_ctx *ctx, const char *spec, uint64_t seed, gs_dataset **train, gs_dataset **test)
{
    int rc = train ? gs_dataset_load(ctx, spec, 0, seed, train) : GS_OK;
    if (rc == GS_OK && test) rc = gs_dataset_load(ctx, spec, 1, seed, test);
    return rc;
}

static int parse_list(const char *opt_name, const char *s, int *out, int cap, int lo, int hi)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',')) die_usage("--%s '%s' must be a comma-separated list of integers", opt_name, s);
        if (v < lo || v > hi) die_usage("--%s: %ld is out of range [%d, %d]", opt_name, v, lo, hi);
        if (n == cap) die_usage("--%s: at most %d values", opt_name, cap);
        out[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (n == 0) die_usage("--%s is empty", opt_name);
    return n;
}

/* ---- train ---- */
static int cmd_train(int argc, char **argv)
{
    opt opts[] = {
        MODEL_OPTS,
        { "data", "SPEC", "fashion-mnist", "fashion-mnist, idx:PREFIX, cifar10:DIR, spirals or teacher", NULL, 0 },
        { "epochs", "N", "1", "passes over the training set", NULL, 0 },
        { "steps", "N", "0", "optimizer steps instead of epochs (0 = use --epochs)", NULL, 0 },
        { "batch", "N", "128", "samples per step", NULL, 0 },
        { "optim", "sgd|adam|adamw", "sgd", "optimizer", NULL, 0 },
        { "lr", "X", "0.01", "learning rate", NULL, 0 },
        { "momentum", "X", "0.9", "SGD momentum", NULL, 0 },
        { "nesterov", NULL, NULL, "Nesterov momentum", NULL, 0 },
        { "wd", "X", "0", "weight decay (L2 for sgd/adam, decoupled for adamw)", NULL, 0 },
        { "beta1", "X", "0.9", "Adam beta1", NULL, 0 },
        { "beta2", "X", "0.999", "Adam beta2", NULL, 0 },
        { "eps", "X", "1e-8", "Adam epsilon", NULL, 0 },
        { "schedule", "NAME", "cosine", "constant, step or cosine (decay to 0 over the run)", NULL, 0 },
        { "step-size", "N", "1000", "step schedule: steps between decays", NULL, 0 },
        { "gamma", "X", "0.1", "step schedule: decay factor", NULL, 0 },
        { "warmup", "N", "0", "linear warm-up steps", NULL, 0 },
        { "clip", "X", "0", "clip gradients to this global norm (0 = off)", NULL, 0 },
        { "seed", "N", "42", "seed for initialisation and data order", NULL, 0 },
        { "threads", "N", "0", "threads (0 = all cores)", NULL, 0 },
        { "deterministic", NULL, NULL, "results bit-identical whatever --threads (conv weight gradients summed in fixed chunks)", NULL, 0 },
        { "log", "DIR", NULL, "write run.json and metrics.jsonl here", NULL, 0 },
        { "log-every", "N", "50", "steps between progress lines and metrics records", NULL, 0 },
        { "save", "CKPT", NULL, "save a checkpoint (safetensors) at each epoch end", NULL, 0 },
        { "resume", "CKPT", NULL, "continue exactly from a checkpoint saved by --save", NULL, 0 },
        { "probe", NULL, NULL, "instruments at every step: gradient, activation, saturation, dead-unit, norm-ratio statistics", NULL, 0 },
        { "probe-every", "N", "1", "steps between instrument readings (with --probe)", NULL, 0 },
        { "hist-every", "K", "100", "TensorBoard gradient histograms every K steps (0 = never; needs --log)", NULL, 0 },
        { "procrustes", NULL, NULL, "after each update, project the transition layers (residual mlp stem, resnet 1x1 projections) to their scaled polar factor", NULL, 0 },
        { "eval-every", "K", "0", "test loss and accuracy every K steps too (test/ in the logs; 0 = at the end only)", NULL, 0 },
        { "eval-samples", "N", "0", "test samples for those (0 = all; the final one uses all)", NULL, 0 },
        { "dead-samples", "N", "10000", "training samples for the dead-unit count (with --probe)", NULL, 0 },
        { "on-nonfinite", "stop|skip", "stop", "on NaN/Inf: stop naming where it appeared, or skip the update", NULL, 0 },
        { "augment", "LIST", "none", "image data: crop (pad 4 + random crop), crop:N, flip; e.g. crop,flip", NULL, 0 },
        OPT_END
    };
    parse_opts(argc, argv, opts, "train [options]",
               "Train a network on a dataset; progress on stderr, test accuracy at the end.");
    gs_model_config mc;
    model_from_opts(opts, &mc);
    gs_optim_config oc;
    gs_optim_config_default(&oc);
    if (gs_optim_from_name(get(opts, "optim"), &oc.kind) != 0) die_usage("--optim '%s' must be sgd, adam or adamw", get(opts, "optim"));
    if (gs_sched_from_name(get(opts, "schedule"), &oc.schedule) != 0) die_usage("--schedule '%s' must be constant, step or cosine", get(opts, "schedule"));
    oc.lr = (float)get_float(opts, "lr", 0, 1e6);
    oc.momentum = (float)get_float(opts, "momentum", 0, 1);
    oc.nesterov = flag(opts, "nesterov");
    if (oc.nesterov && oc.momentum <= 0) die_usage("--nesterov needs --momentum > 0");
    oc.weight_decay = (float)get_float(opts, "wd", 0, 1e6);
    oc.beta1 = (float)get_float(opts, "beta1", 0, 0.999999);
    oc.beta2 = (float)get_float(opts, "beta2", 0, 0.999999999);
    oc.eps = (float)get_float(opts, "eps", 0, 1);
    oc.step_size = get_int(opts, "step-size", 1, LLONG_MAX);
    oc.gamma = (float)get_float(opts, "gamma", 0, 1e6);
    oc.warmup = get_int(opts, "warmup", 0, LLONG_MAX);
    oc.clip = (float)get_float(opts, "clip", 0, 1e30);
    gs_train_config tc;
    gs_train_config_default(&tc);
    tc.epochs = get_int(opts, "epochs", 1, 1000000);
    tc.steps = get_int(opts, "steps", 0, LLONG_MAX / 2);
    tc.batch = (int)get_int(opts, "batch", 1, 1 << 20);
    tc.seed = (uint64_t)get_int(opts, "seed", 0, LLONG_MAX);
    tc.log_every = (int)get_int(opts, "log-every", 1, INT_MAX);
    tc.log_dir = get(opts, "log");
    tc.save_path = get(opts, "save");
    tc.resume_path = get(opts, "resume");
    tc.data_name = get(opts, "data");
    tc.probe = flag(opts, "probe");
    tc.probe_every = (int)get_int(opts, "probe-every", 1, INT_MAX);
    tc.hist_every = (int)get_int(opts, "hist-every", 0, INT_MAX);
    tc.procrustes = flag(opts, "procrustes");
    tc.eval_every = get_int(opts, "eval-every", 0, LLONG_MAX);
    tc.eval_samples = get_int(opts, "eval-samples", 0, LLONG_MAX);
    tc.dead_samples = get_int(opts, "dead-samples", 1, LLONG_MAX);
    if (gs_augment_parse(get(opts, "augment"), &tc.augment_pad, &tc.augment_flip) != 0)
        die_usage("--augment '%s' must be a list of crop, crop:N, flip or none", get(opts, "augment"));
    const char *onf = get(opts, "on-nonfinite");
    if (!strcmp(onf, "skip")) tc.skip_nonfinite = 1;
    else if (strcmp(onf, "stop")) die_usage("--on-nonfinite '%s' must be stop or skip", onf);
    const int threads = (int)get_int(opts, "threads", 0, 1024);

    gs_ctx *ctx = gs_ctx_create();
    if (!ctx) { fprintf(stderr, "gradscope: out of memory\n"); return EXIT_NOMEM; }
    gs_ctx_set_threads(ctx, threads);
    gs_ctx_set_deterministic(ctx, flag(opts, "deterministic"));
    gs_ctx_set_log(ctx, log_stderr, NULL);
    gs_dataset *train = NULL, *test = NULL;
    gs_model *m = NULL;
    gs_optim *o = NULL;
    gs_train_result res;
    int rc = load_data(ctx, tc.data_name, tc.seed, &train, &test);
    if (rc) goto done;
    if (tc.resume_path) {
        /* The model is the one the checkpoint was saved from. */
        gs_tensor_list *t = NULL;
        rc = gs_safetensors_load(ctx, tc.resume_path, &t);
        if (rc == GS_OK) rc = gs_checkpoint_config(ctx, t, tc.resume_path, &mc);
        gs_tensor_list_free(t);
        if (rc) goto done;
    } else {
        mc.in_features = (int)train->features;
        mc.in_channels = train->channels; mc.in_height = train->height; mc.in_width = train->width;
        mc.classes = train->classes;
    }
    if (tc.steps == 0) oc.total_steps = tc.epochs * (train->n / tc.batch);
    else oc.total_steps = tc.steps;
    if ((rc = gs_model_create(ctx, &mc, tc.batch, &m))) goto done;
    if ((rc = gs_model_init(m, tc.seed))) goto done;
    if ((rc = gs_optim_create(ctx, m, &oc, &o))) goto done;
    fprintf(stderr, "gradscope train: %s %s, %zu parameters, %lld train / %lld test samples, batch %d, %d threads\n",
            mc.family, get(opts, "act"), gs_model_n_params(m), (long long)train->n, (long long)test->n,
            tc.batch, gs_ctx_threads(ctx) );
    rc = gs_train(ctx, m, o, train, test, &tc, &res);
    if (rc) goto done;
    printf("test accuracy %.4f  test loss %.4f  (%lld steps, %.1f s)\n", res.test_acc, res.test_loss,
           (long long)res.steps, res.seconds);
    if (res.skipped) printf("updates skipped for NaN/Inf: %lld\n", (long long)res.skipped);
done:
    if (rc) rc = fail(ctx, rc);
    gs_optim_free(o);
    gs_model_free(m);
    gs_dataset_free(train);
    gs_dataset_free(test);
    gs_ctx_free(ctx);
    return rc;
}

/* ---- eval ---- */
static int cmd_eval(int argc, char **argv)
{
    opt opts[] = {
        { "weights", "CKPT", NULL, "checkpoint saved by 'gradscope train --save' (required)", NULL, 0 },
        { "data", "SPEC", "fashion-mnist", "dataset (fashion-mnist, idx:PREFIX, cifar10:DIR, spirals, teacher)", NULL, 0 },
        { "split", "train|test", "test", "which split", NULL, 0 },
        { "batch", "N", "256", "samples per forward pass", NULL, 0 },
        { "seed", "N", "42", "seed of the synthetic datasets", NULL, 0 },
        { "threads", "N", "0", "threads (0 = all cores)", NULL, 0 },
        OPT_END
    };
    parse_opts(argc, argv, opts, "eval --weights CKPT [options]", "Evaluate a checkpoint: loss and accuracy (eval mode).");
    if (!get(opts, "weights")) die_usage("--weights CKPT is required");
    const char *split = get(opts, "split");
    if (strcmp(split, "train") && strcmp(split, "test")) die_usage("--split '%s' must be train or test", split);
    const int batch = (int)get_int(opts, "batch", 1, 1 << 20);
    gs_ctx *ctx = ctx_from_opts(opts);
    if (!ctx) return EXIT_NOMEM;
    gs_dataset *d = NULL;
    gs_model *m = NULL;
    float loss, acc;
    int rc = gs_dataset_load(ctx, get(opts, "data"), !strcmp(split, "test"), (uint64_t)get_int(opts, "seed", 0, LLONG_MAX), &d);
    if (rc == GS_OK) rc = gs_model_load(ctx, get(opts, "weights"), batch, &m);
    if (rc == GS_OK && d->features != gs_model_get_config(m)->in_features)
        rc = gs_error(ctx, GS_ESHAPE, "%s has %lld features per sample, the model takes %d", get(opts, "data"),
                      (long long)d->features, gs_model_get_config(m)->in_features);
    if (rc == GS_OK) rc = gs_evaluate(ctx, m, d, batch, &loss, &acc);
    if (rc == GS_OK) printf("%s accuracy %.4f  loss %.4f  (%lld samples)\n", split, acc, loss, (long long)d->n);
    else rc = fail(ctx, rc);
    gs_model_free(m);
    gs_dataset_free(d);
    gs_ctx_free(ctx);
    return rc;
}

/* ---- inspect ---- */
static int cmd_inspect(int argc, char **argv)
{
    opt opts[] = {
        MODEL_OPTS,
        { "in-features", "N", "784", "mlp: input features per sample", NULL, 0 },
        { "in-shape", "C,H,W", "1,28,28", "resnet/plain: input image shape", NULL, 0 },
        { "classes", "K", "10", "outputs of the head", NULL, 0 },
        { "weights", "CKPT", NULL, "inspect this checkpoint's model instead of --model", NULL, 0 },
        OPT_END
    };
    parse_opts(argc, argv, opts, "inspect (--model NAME [options] | --weights CKPT)",
               "List every parameter and buffer with its name and shape, in order, and the parameter count.");
    gs_ctx *ctx = gs_ctx_create();
    if (!ctx) return EXIT_NOMEM;
    gs_model *m = NULL;
    int rc;
    if (get(opts, "weights")) {
        rc = gs_model_load(ctx, get(opts, "weights"), 1, &m);
    } else {
        gs_model_config mc;
        model_from_opts(opts, &mc);
        mc.in_features = (int)get_int(opts, "in-features", 1, 1 << 30);
        mc.classes = (int)get_int(opts, "classes", 1, 1 << 20);
        int shp[3];
        if (parse_list("in-shape", get(opts, "in-shape"), shp, 3, 1, 1 << 16) != 3)
            die_usage("--in-shape '%s' must be C,H,W", get(opts, "in-shape"));
        mc.in_channels = shp[0]; mc.in_height = shp[1]; mc.in_width = shp[2];
        rc = gs_model_create(ctx, &mc, 1, &m);
    }
    if (rc) { rc = fail(ctx, rc); gs_ctx_free(ctx); return rc; }
    char cfg[1024];
    gs_model_config_to_json(gs_model_get_config(m), cfg, sizeof cfg);
    printf("# %s\n", cfg);
    size_t buffers = 0;
    for (int i = 0; i < gs_model_n_tensors(m); i++) {
        const gs_tensor_info *t = gs_model_tensor(m, i);
        char shape[96] = "";
        for (int d = 0; d < t->ndim; d++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", d ? ", " : "", (long long)t->shape[d]);
        printf("%-32s (%s)%s\n", t->name, shape, t->trainable ? "" : "  buffer");
        if (!t->trainable) buffers += t->numel;
    }
    printf("parameters: %zu  buffers: %zu  tensors: %d\n", gs_model_n_params(m), buffers, gs_model_n_tensors(m));
    gs_model_free(m);
    gs_ctx_free(ctx);
    return EXIT_OK;
}

/* X (float32 (N, features), or (N, C, H, W) for the conv families, whose shape it sets in *mc) and
 * labels (int64/int32 (N,) in [0, mc->classes)) from .npy files; ypath NULL: no labels (all 0). */
static int read_batch(gs_ctx *ctx, const char *xpath, const char *ypath, gs_model_config *mc, gs_tensor_entry *X,
                      int32_t **labels_out, int64_t *n_out)
{
    gs_tensor_entry Y = { 0 };
    int32_t *labels = NULL;
    int rc = gs_npy_load(ctx, xpath, X);
    if (rc) goto done;
    if (ypath && (rc = gs_npy_load(ctx, ypath, &Y))) goto done;
    if (X->dtype != GS_DT_F32 || X->ndim < 2) {
        rc = gs_error(ctx, GS_EFORMAT, "%s: expected float32 (N, features), got %s with %d dimensions",
                      xpath, gs_dtype_name(X->dtype), X->ndim);
        goto done;
    }
    int64_t N = X->shape[0], F = 1;
    for (int d = 1; d < X->ndim; d++) F *= X->shape[d];
    if (ypath && (Y.ndim != 1 || Y.shape[0] != N || (Y.dtype != GS_DT_I64 && Y.dtype != GS_DT_I32))) {
        rc = gs_error(ctx, GS_ESHAPE, "%s: expected int64 or int32 labels of shape (%lld,)", ypath, (long long)N);
        goto done;
    }
    if (N < 1 || N > (1 << 20) || F > INT_MAX) {
        rc = gs_error(ctx, GS_ESHAPE, "%s: batch of %lld samples is out of range", xpath, (long long)N);
        goto done;
    }
    labels = malloc((size_t)N * sizeof *labels);
    if (!labels) { rc = gs_error(ctx, GS_ENOMEM, "out of memory"); goto done; }
    for (int64_t i = 0; !ypath && i < N; i++) labels[i] = 0;
    for (int64_t i = 0; ypath && i < N; i++) {
        int64_t v = Y.dtype == GS_DT_I64 ? ((int64_t *)Y.data)[i] : ((int32_t *)Y.data)[i];
        if (v < 0 || v >= mc->classes) {
            rc = gs_error(ctx, GS_EINVAL, "%s: label %lld of sample %lld is outside [0, %d) (see --classes)",
                          ypath, (long long)v, (long long)i, mc->classes);
            goto done;
        }
        labels[i] = (int32_t)v;
    }
    mc->in_features = (int)F;
    if (strcmp(mc->family, "mlp") != 0) {
        if (X->ndim != 4) {
            rc = gs_error(ctx, GS_ESHAPE, "%s: %s takes images: expected float32 (N, C, H, W), got %d dimensions",
                          xpath, mc->family, X->ndim);
            goto done;
        }
        mc->in_channels = (int)X->shape[1]; mc->in_height = (int)X->shape[2]; mc->in_width = (int)X->shape[3];
    }
    *n_out = N;
done:
    gs_tensor_entry_clear(&Y);
    if (rc) free(labels);
    else *labels_out = labels;
    return rc;
}

/* ---- grad ---- */
static int cmd_grad(int argc, char **argv)
{
    opt opts[] = {
        MODEL_OPTS,
        { "weights", "W", NULL, "safetensors with every parameter and buffer under PyTorch names (required)", NULL, 0 },
        { "input", "X.npy", NULL, "float32 inputs (N, features) (required)", NULL, 0 },
        { "labels", "Y.npy", NULL, "int64 or int32 labels (N,) (required)", NULL, 0 },
        { "out", "G.safetensors", NULL, "where to write loss, logits, input.grad, <param>.grad (required)", NULL, 0 },
        { "mode", "train|eval", "train", "batch statistics (train) or running statistics (eval)", NULL, 0 },
        { "classes", "K", "10", "outputs of the head", NULL, 0 },
        { "threads", "N", "0", "threads (0 = all cores)", NULL, 0 },
        OPT_END
    };
    parse_opts(argc, argv, opts, "grad --model NAME [options] --weights W --input X.npy --labels Y.npy --out G.safetensors",
               "One forward and backward pass of the mean loss on one batch; writes every gradient.");
    const char *need[] = { "weights", "input", "labels", "out" };
    for (int i = 0; i < 4; i++) if (!get(opts, need[i])) die_usage("--%s is required", need[i]);
    const char *mode = get(opts, "mode");
    if (strcmp(mode, "train") && strcmp(mode, "eval")) die_usage("--mode '%s' must be train or eval", mode);
    gs_model_config mc;
    model_from_opts(opts, &mc);
    mc.classes = (int)get_int(opts, "classes", 1, 1 << 20);
    gs_ctx *ctx = ctx_from_opts(opts);
    if (!ctx) return EXIT_NOMEM;
    gs_tensor_entry X = { 0 };
    gs_model *m = NULL;
    gs_tensor_list *out = NULL;
    int32_t *labels = NULL;
    float loss;
    int64_t N = 0;
    int rc = read_batch(ctx, get(opts, "input"), get(opts, "labels"), &mc, &X, &labels, &N);
    if (rc) goto done;
    if ((rc = gs_model_create(ctx, &mc, (int)N, &m))) goto done;
    if ((rc = gs_model_load_weights(ctx, m, get(opts, "weights")))) goto done;
    gs_model_set_training(m, !strcmp(mode, "train"));
    gs_model_set_input_grad(m, 1);
    gs_model_zero_grad(m);
    if ((rc = gs_model_forward(m, X.data, (int)N))) goto done;
    if ((rc = gs_model_loss(m, labels, &loss))) goto done;
    if ((rc = gs_model_backward(m))) goto done;
    out = gs_tensor_list_create();
    if (!out) { rc = gs_error(ctx, GS_ENOMEM, "out of memory"); goto done; }
    int64_t one = 1, lshape[2] = { N, mc.classes };
    if ((rc = gs_tensor_list_add(ctx, out, "loss", GS_DT_F32, 1, &one, &loss))) goto done;
    if ((rc = gs_tensor_list_add(ctx, out, "logits", GS_DT_F32, 2, lshape, gs_model_logits(m)))) goto done;
    if ((rc = gs_tensor_list_add(ctx, out, "input.grad", GS_DT_F32, X.ndim, X.shape, gs_model_input_grad(m)))) goto done;
    for (int i = 0; i < gs_model_n_tensors(m); i++) {
        const gs_tensor_info *t = gs_model_tensor(m, i);
        char name[256];
        if (!t->trainable) continue;
        snprintf(name, sizeof name, "%s.grad", t->name);
        if ((rc = gs_tensor_list_add(ctx, out, name, GS_DT_F32, t->ndim, t->shape, t->grad))) goto done;
    }
    if ((rc = gs_safetensors_save(ctx, get(opts, "out"), out))) goto done;
    fprintf(stderr, "gradscope grad: loss %.6g over %lld samples; wrote %s\n", loss, (long long)N, get(opts, "out"));
done:
    if (rc) rc = fail(ctx, rc);
    gs_tensor_list_free(out);
    gs_tensor_entry_clear(&X);
    free(labels);
    gs_model_free(m);
    gs_ctx_free(ctx);
    return rc;
}

/* ---- paths ---- */
/* The network of --weights: built from its gradscope config, or with --model from the options
 * (the input shape from d when given) and loaded by name (a PyTorch state_dict works). */
static int open_net(gs_ctx *ctx, opt *opts, gs_model_config *mc, const gs_dataset *d, int max_batch, gs_model **m)
{
    if (!given(opts, "model")) return gs_model_load(ctx, get(opts, "weights"), max_batch, m);
    if (d) {
        mc->in_features = (int)d->features;
        mc->in_channels = d->channels; mc->in_height = d->height; mc->in_width = d->width;
    }
    int rc = gs_model_create(ctx, mc, max_batch, m);
    if (rc == GS_OK && !get(opts, "weights"))   /* --model alone: at initialisation (--init, --seed) */
        return gs_model_init(*m, (uint64_t)get_int(opts, "seed", 0, LLONG_MAX));
    if (rc == GS_OK) rc = gs_model_load_weights(ctx, *m, get(opts, "weights"));
    return rc;
}

static void json_array(FILE *f, const char *key, const double *x, int n)
{
    fprintf(f, "  \"%s\": [", key);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        gs_json_write_number(f, x[i]);
    }
    fputs("]", f);
}

/* Close f, an open_memstream over *buf and *len, and write its text to path (temporary file + rename). */
static int write_json_text(gs_ctx *ctx, FILE *f, char **buf, size_t *len, const char *path)
{
    if (fclose(f) != 0) return gs_error(ctx, GS_ENOMEM, "out of memory");
    gs_io_chunk chunk = { *buf, *len };
    return gs_io_write_atomic(ctx, path, &chunk, 1);
}

/* The samples a probe command runs on: --input X.npy (and --labels Y.npy where the command has that
 * option) or the first `want` test
 * samples of --data; then the net (open_net) for that many, its input size checked against them. */
typedef struct sample_batch {
    gs_tensor_entry X;
    int32_t *labels;
    gs_dataset *d;
    int64_t N;
    const float *x;
    const int32_t *y;
} sample_batch;

static int open_batch(gs_ctx *ctx, opt *opts, gs_model_config *mc, int64_t want, const char *cmd, sample_batch *b,
                      gs_model **m)
{
    const int from_files = get(opts, "input") != NULL;
    int rc;
    if (from_files) {
        rc = read_batch(ctx, get(opts, "input"), find_opt(opts, "labels") ? get(opts, "labels") : NULL, mc, &b->X,
                        &b->labels, &b->N);
        b->x = b->X.data; b->y = b->labels;
    } else {
        rc = gs_dataset_load(ctx, get(opts, "data"), 1, 42, &b->d);
        if (rc == GS_OK) {
            b->N = b->d->n < want ? b->d->n : want;
            b->x = b->d->x; b->y = b->d->y;
        }
    }
    if (rc) return rc;
    if ((rc = open_net(ctx, opts, mc, from_files ? NULL : b->d, (int)b->N, m))) return rc;
    const int64_t F = from_files ? (int64_t)(b->X.nbytes / sizeof(float) / (size_t)b->N) : b->d->features;
    if (F != gs_model_get_config(*m)->in_features)
        return gs_error(ctx, GS_ESHAPE, "%s: the data has %lld features per sample, the network takes %d", cmd,
                        (long long)F, gs_model_get_config(*m)->in_features);
    return GS_OK;
}

static void sample_batch_clear(sample_batch *b)
{
    gs_tensor_entry_clear(&b->X);
    free(b->labels);
    gs_dataset_free(b->d);
    memset(b, 0, sizeof *b);
}

static int cmd_paths(int argc, char **argv)
{
    opt opts[] = {
        MODEL_OPTS,
        { "weights", "W", NULL, "a gradscope checkpoint (its config builds the net), or with --model a PyTorch "
                                "state_dict as safetensors (required)", NULL, 0 },
        { "input", "X.npy", NULL, "float32 inputs (N, features) or (N, C, H, W), with --labels", NULL, 0 },
        { "labels", "Y.npy", NULL, "int64 or int32 labels (N,)", NULL, 0 },
        { "data", "SPEC", NULL, "or: the first --samples test samples of a dataset", NULL, 0 },
        { "samples", "N", "128", "samples from --data", NULL, 0 },
        { "veit-sets", "M", "100", "Veit et al.'s estimator: sampled sets of k branches per k (0 = skip it)", NULL, 0 },
        { "seed", "N", "42", "seed of those samples", NULL, 0 },
        { "classes", "K", "10", "outputs of the head (with --model)", NULL, 0 },
        { "out", "P.json", NULL, "where the numbers go (required)", NULL, 0 },
        { "threads", "N", "0", "threads (0 = all cores)", NULL, 0 },
        OPT_END
    };
    parse_opts(argc, argv, opts, "paths --weights W (--input X.npy --labels Y.npy | --data D [--samples N]) --out P.json",
               "The gradient at the first residual block's input split by path length (eval mode): exactly, by a\n"
               "dynamic programme over blocks, and by Veit et al.'s sampling estimator.");
    if (!get(opts, "weights")) die_usage("--weights is required");
    if (!get(opts, "out")) die_usage("--out is required");
    const int from_files = get(opts, "input") != NULL;
    if (from_files != (get(opts, "labels") != NULL)) die_usage("--input and --labels go together");
    if (from_files == (get(opts, "data") != NULL)) die_usage("give either --input and --labels or --data");
    const int veit = (int)get_int(opts, "veit-sets", 0, 1000000);
    const int64_t want = get_int(opts, "samples", 1, 1 << 20);
    gs_model_config mc;
    model_from_opts(opts, &mc);
    mc.classes = (int)get_int(opts, "classes", 1, 1 << 20);
    gs_ctx *ctx = ctx_from_opts(opts);
    if (!ctx) return EXIT_NOMEM;
    sample_batch sb = { 0 };
    gs_model *m = NULL;
    gs_paths_result r = { 0 };
    char *buf = NULL;
    size_t len = 0;
    int rc = open_batch(ctx, opts, &mc, want, "paths", &sb, &m);
    if (rc) goto done;
    const int64_t N = sb.N;
    fprintf(stderr, "gradscope paths: %lld samples, Veit's estimator with %d sets per length\n", (long long)N, veit);
    if ((rc = gs_paths_compute(m, sb.x, sb.y, (int)N, veit, (uint64_t)get_int(opts, "seed", 0, LLONG_MAX), &r))) goto done;
    FILE *f = open_memstream(&buf, &len);
    if (!f) { rc = gs_error(ctx, GS_ENOMEM, "out of memory"); goto done; }
    const int n1 = r.blocks + 1;
    fprintf(f, "{\n  \"blocks\": %d,\n  \"samples\": %lld,\n  \"veit_sets\": %d,\n", r.blocks, (long long)N, veit);
    json_array(f, "exact_norm_by_length", r.exact_norm, n1);
    fprintf(f, ",\n  \"input_grad_norm\": %.9g,\n  \"sum_check_rel_err\": %.9g,\n", r.input_grad_norm, r.sum_check_rel_err);
    if (veit) {
        json_array(f, "veit_mean_norm_by_length", r.veit_mean, n1);
        fputs(",\n", f);
        json_array(f, "veit_total_by_length", r.veit_total, n1);
    } else {
        fputs("  \"veit_mean_norm_by_length\": null,\n  \"veit_total_by_length\": null", f);
    }
    fputs(",\n", f);
    json_array(f, "path_count_fraction", r.count_fraction, n1);
    fputs("\n}\n", f);
    if ((rc = write_json_text(ctx, f, &buf, &len, get(opts, "out")))) goto done;
    printf("%4s %14s %14s %12s\n", "k", "exact ||g_k||", "Veit total", "C(n,k)/2^n");
    for (int k = 0; k < n1; k++)
        printf("%4d %14.6g %14.6g %12.4g\n", k, r.exact_norm[k], veit ? r.veit_total[k] : NAN, r.count_fraction[k]);
    printf("||dL/dx_0|| = %.6g; sum over k of g_k matches it to %.2g (relative); wrote %s\n", r.input_grad_norm,
           r.sum_check_rel_err, get(opts, "out"));
done:
    if (rc) rc = fail(ctx, rc);
    free(buf);
    gs_paths_result_free(&r);
    sample_batch_clear(&sb);
    gs_model_free(m);
    gs_ctx_free(ctx);
    return rc;
}

/* ---- jacobian ---- */
static void json_rows(FILE *f, const char *key, const double *x, int rows, int cols)
{
    fprintf(f, "  \"%s\": [", key);
    for (int r = 0; r < rows; r++) {
        fputs(r ? ",\n    [" : "\n    [", f);
        for (int c = 0; c < cols; c++) {
            if (c) fputs(", ", f);
            gs_json_write_number(f, x[(size_t)r * cols + c]);
        }
        fputs("]", f);
    }
    fputs("]", f);
}

static int cmd_jacobian(int argc, char **argv)
{
    opt opts[] = {
        MODEL_OPTS,
        { "weights", "W", NULL, "a gradscope checkpoint (its config builds the net), or with --model a PyTorch "
                                "state_dict as safetensors; --model without it: the net at initialisation", NULL, 0 },
        { "input", "X.npy", NULL, "float32 inputs (N, features) or (N, C, H, W)", NULL, 0 },
        { "data", "SPEC", NULL, "or: the first --samples test samples of a dataset", NULL, 0 },
        { "samples", "N", "4", "samples from --data (each has its own Jacobian)", NULL, 0 },
        { "top", "K", "5", "largest singular values wanted", NULL, 0 },
        { "steps", "M", "0", "Lanczos steps (0 = 4 K + 20; at most min(in, out))", NULL, 0 },
        { "probes", "P", "32", "random sign vectors for the mean squared singular value (0 = skip)", NULL, 0 },
        { "full", NULL, NULL, "also form J and take its dense SVD (min(in, out) <= 1024), to check the rest", NULL, 0 },
        { "calibrate", "K", "0", "first K train-mode forward passes over the samples, so that batch norm's running "
                                 "statistics become theirs (a net at initialisation has 0 and 1); 60 leaves 0.2% of the old", NULL, 0 },
        { "seed", "N", "42", "seed of the start vector, the probes and (without --weights) the initialisation", NULL, 0 },
        { "classes", "K", "10", "outputs of the head (with --model)", NULL, 0 },
        { "out", "J.json", NULL, "where the numbers go (required)", NULL, 0 },
        { "threads", "N", "0", "threads (0 = all cores)", NULL, 0 },
        OPT_END
    };
    parse_opts(argc, argv, opts, "jacobian (--weights W | --model ...) (--input X.npy | --data D [--samples N]) --out J.json",
               "The spectrum of J = dh_L/dh_0 of each sample (eval mode): h_0, h_L the input of the first and the\n"
               "output of the last residual block (a plain net: of its first and last same-shape layer or block).\n"
               "Largest singular values by Golub-Kahan-Lanczos from Jacobian-vector products, the mean squared\n"
               "singular value sum(s^2)/min(in, out) by Hutchinson's estimator; --full checks both against J's\n"
               "dense SVD.");
    if (!get(opts, "weights") && !given(opts, "model")) die_usage("give --weights, or --model for a net at initialisation");
    if (!get(opts, "out")) die_usage("--out is required");
    const int from_file = get(opts, "input") != NULL;
    if (from_file == (get(opts, "data") != NULL)) die_usage("give either --input or --data");
    gs_jacobian_config jc;
    gs_jacobian_config_default(&jc);
    jc.top = (int)get_int(opts, "top", 1, 100000);
    jc.steps = (int)get_int(opts, "steps", 0, 100000);
    jc.probes = (int)get_int(opts, "probes", 0, 1000000);
    jc.full = given(opts, "full");
    jc.seed = (uint64_t)get_int(opts, "seed", 0, LLONG_MAX);
    const int calibrate = (int)get_int(opts, "calibrate", 0, 100000);
    const int64_t want = get_int(opts, "samples", 1, 1 << 16);
    gs_model_config mc;
    model_from_opts(opts, &mc);
    mc.classes = (int)get_int(opts, "classes", 1, 1 << 20);
    gs_ctx *ctx = ctx_from_opts(opts);
    if (!ctx) return EXIT_NOMEM;
    sample_batch sb = { 0 };
    gs_model *m = NULL;
    gs_jacobian_result r = { 0 };
    char *buf = NULL;
    size_t len = 0;
    int rc = open_batch(ctx, opts, &mc, want, "jacobian", &sb, &m);
    if (rc) goto done;
    const gs_model_config *net = gs_model_get_config(m);
    const int64_t N = sb.N;
    fprintf(stderr, "gradscope jacobian: %s, %lld samples, top %d, %d probes%s\n", net->family, (long long)N, jc.top,
            jc.probes, jc.full ? ", dense SVD" : "");
    if (!get(opts, "weights") && net->norm == GS_NORM_BATCH && !calibrate)
        fprintf(stderr, "gradscope jacobian: note: at initialisation the running statistics are 0 and 1, so batch norm "
                "is the identity in eval mode (--calibrate K sets them from the samples)\n");
    if (calibrate > 0) {   /* running averages move by momentum 0.1 a pass toward the samples' statistics */
        gs_model_set_training(m, 1);
        for (int k = 0; rc == GS_OK && k < calibrate; k++) rc = gs_model_forward(m, sb.x, (int)N);
        gs_model_set_training(m, 0);
        if (rc) goto done;
    }
    if ((rc = gs_jacobian_compute(m, sb.x, (int)N, &jc, &r))) goto done;
    const int S = r.samples, K = r.top;
    double *mean_top = calloc((size_t)K, sizeof *mean_top);
    if (!mean_top) { rc = gs_error(ctx, GS_ENOMEM, "out of memory"); goto done; }
    double mean_sq = 0, full_err = 0;
    for (int s = 0; s < S; s++) {
        for (int i = 0; i < K; i++) mean_top[i] += r.top_sv[(size_t)s * K + i] / S;
        mean_sq += r.mean_sq[s] / S;
        for (int i = 0; r.full_sv && i < K && i < r.n_full; i++) {
            const double *fs = r.full_sv + (size_t)s * r.n_full;
            const double e = fabs(r.top_sv[(size_t)s * K + i] - fs[i]) / (fs[0] > 0 ? fs[0] : 1);
            if (e > full_err) full_err = e;
        }
    }
    FILE *f = open_memstream(&buf, &len);
    if (!f) { free(mean_top); rc = gs_error(ctx, GS_ENOMEM, "out of memory"); goto done; }
    fprintf(f, "{\n  \"family\": \"%s\",\n  \"depth\": %d,\n  \"residual\": %s,\n  \"samples\": %d,\n"
               "  \"calibration_passes\": %d,\n  \"in_features\": %lld,\n  \"out_features\": %lld,\n"
               "  \"lanczos_steps\": %d,\n  \"probes\": %d,\n",
            net->family, net->depth, r.residual ? "true" : "false", S, calibrate, (long long)r.in_features,
            (long long)r.out_features, r.steps, r.probes);
    json_rows(f, "top_singular_values", r.top_sv, S, K);
    fputs(",\n", f);
    json_rows(f, "top_residual", r.top_residual, S, K);
    fputs(",\n", f);
    json_array(f, "top_singular_values_mean", mean_top, K);
    fputs(",\n", f);
    json_array(f, "mean_sq_singular_value", r.mean_sq, S);
    fputs(",\n", f);
    json_array(f, "mean_sq_singular_value_stderr", r.mean_sq_stderr, S);
    fputs(",\n  \"mean_sq_singular_value_mean\": ", f);
    gs_json_write_number(f, mean_sq);
    if (r.full_sv) {
        fputs(",\n", f);
        json_rows(f, "full_singular_values", r.full_sv, S, r.n_full);
        fputs(",\n", f);
        json_array(f, "full_mean_sq_singular_value", r.full_mean_sq, S);
        fputs(",\n  \"full_top_max_rel_err\": ", f);
        gs_json_write_number(f, full_err);
    } else {
        fputs(",\n  \"full_singular_values\": null,\n  \"full_mean_sq_singular_value\": null,\n"
              "  \"full_top_max_rel_err\": null", f);
    }
    fputs("\n}\n", f);
    rc = write_json_text(ctx, f, &buf, &len, get(opts, "out"));
    if (rc == GS_OK) {
        printf("J = dh_L/dh_0: %lld x %lld per sample (%s), %d Lanczos steps\n", (long long)r.out_features,
               (long long)r.in_features, r.residual ? "x_n from x_0 of the residual blocks" : "a plain net's units",
               r.steps);
        printf("%6s", "sample");
        for (int i = 0; i < K && i < 6; i++) printf("  %11s%d", "sigma_", i + 1);
        printf("  %14s%s\n", "mean sigma^2", r.full_sv ? "  (dense SVD)" : "");
        for (int s = 0; s < S; s++) {
            printf("%6d", s);
            for (int i = 0; i < K && i < 6; i++) printf("  %12.6g", r.top_sv[(size_t)s * K + i]);
            printf("  %14.6g", r.mean_sq[s]);
            if (r.full_sv) printf("  (%.6g)", r.full_mean_sq[s]);
            printf("\n");
        }
        if (r.full_sv) printf("Lanczos against the dense SVD: largest difference %.2g of sigma_1\n", full_err);
        printf("wrote %s\n", get(opts, "out"));
    }
    free(mean_top);
done:
    if (rc) rc = fail(ctx, rc);
    free(buf);
    gs_jacobian_result_free(&r);
    sample_batch_clear(&sb);
    gs_model_free(m);
    gs_ctx_free(ctx);
    return rc;
}

/* ---- lesion ---- */
static int cmd_lesion(int argc, char **argv)
{
    opt opts[] = {
        MODEL_OPTS,
        { "weights", "W", NULL, "a gradscope checkpoint, or with --model a PyTorch state_dict as safetensors (required)", NULL, 0 },
        { "data", "SPEC", "fashion-mnist", "dataset; its test split is used", NULL, 0 },
        { "samples", "N", "0", "the first N test samples (0 = all)", NULL, 0 },
        { "sets", "R", "10", "random sets for each k deleted and each number of swaps", NULL, 0 },
        { "max-k", "K", "0", "most units deleted at once (0 = all but one)", NULL, 0 },
        { "max-swaps", "S", "0", "swaps of same-shape units: 1, 2, 4 ... up to S (0 = units / 2)", NULL, 0 },
        { "batch", "N", "256", "samples per forward pass", NULL, 0 },
        { "seed", "N", "42", "seed of the random sets", NULL, 0 },
        { "classes", "K", "10", "outputs of the head (with --model)", NULL, 0 },
        { "out", "L.json", NULL, "where the numbers go (required)", NULL, 0 },
        { "threads", "N", "0", "threads (0 = all cores)", NULL, 0 },
        OPT_END
    };
    parse_opts(argc, argv, opts, "lesion --weights W [--data D] --out L.json",
               "Veit et al.'s lesion study (eval mode): test error with residual blocks deleted alone, k at a time,\n"
               "or reordered; for a plain net the same over its same-shape layers.");
    if (!get(opts, "weights")) die_usage("--weights is required");
    if (!get(opts, "out")) die_usage("--out is required");
    gs_lesion_config lc;
    gs_lesion_config_default(&lc);
    lc.sets = (int)get_int(opts, "sets", 1, 1000000);
    lc.max_k = (int)get_int(opts, "max-k", 0, INT_MAX);
    lc.max_swaps = (int)get_int(opts, "max-swaps", 0, INT_MAX);
    lc.seed = (uint64_t)get_int(opts, "seed", 0, LLONG_MAX);
    const int64_t samples = get_int(opts, "samples", 0, LLONG_MAX);
    const int batch = (int)get_int(opts, "batch", 1, 1 << 20);
    gs_model_config mc;
    model_from_opts(opts, &mc);
    mc.classes = (int)get_int(opts, "classes", 1, 1 << 20);
    gs_ctx *ctx = ctx_from_opts(opts);
    if (!ctx) return EXIT_NOMEM;
    gs_dataset *d = NULL;
    gs_model *m = NULL;
    gs_lesion_result r = { 0 };
    char *buf = NULL;
    size_t len = 0;
    int rc = gs_dataset_load(ctx, get(opts, "data"), 1, 42, &d);
    if (rc) goto done;
    if (samples > 0 && samples < d->n) d->n = samples;
    if ((rc = open_net(ctx, opts, &mc, d, batch, &m))) goto done;
    fprintf(stderr, "gradscope lesion: %lld test samples, %d sets per point\n", (long long)d->n, lc.sets);
    if ((rc = gs_lesion_compute(m, d, &lc, &r))) goto done;
    FILE *f = open_memstream(&buf, &len);
    if (!f) { rc = gs_error(ctx, GS_ENOMEM, "out of memory"); goto done; }
    fprintf(f, "{\n  \"units\": %d,\n  \"residual\": %s,\n  \"samples\": %lld,\n  \"baseline_error\": %.9g,\n",
            r.units, r.residual ? "true" : "false", (long long)d->n, r.baseline_error);
    json_array(f, "single_block_error", r.single_error, r.units);
    fputs(",\n  \"k_deleted\": [", f);
    for (int i = 0; i < r.n_k; i++)
        fprintf(f, "%s\n    {\"k\": %d, \"mean_error\": %.9g, \"std_error\": %.9g, \"sets\": %d}", i ? "," : "", r.k[i],
                r.k_mean[i], r.k_std[i], r.k_sets[i]);
    fputs("\n  ],\n  \"reorder\": [", f);
    for (int i = 0; i < r.n_reorder; i++)
        fprintf(f, "%s\n    {\"swaps\": %d, \"kendall_tau\": %.9g, \"error\": %.9g}", i ? "," : "", r.swaps[i], r.tau[i],
                r.reorder_error[i]);
    fputs("\n  ]\n}\n", f);
    if ((rc = write_json_text(ctx, f, &buf, &len, get(opts, "out")))) goto done;
    printf("baseline error %.4f; one %s deleted: ", r.baseline_error, r.residual ? "block" : "layer");
    double worst = 0, mean = 0;
    for (int j = 0; j < r.units; j++) { mean += r.single_error[j] / r.units; worst = fmax(worst, r.single_error[j]); }
    printf("mean %.4f, worst %.4f (%d units); wrote %s\n", mean, worst, r.units, get(opts, "out"));
done:
    if (rc) rc = fail(ctx, rc);
    free(buf);
    gs_lesion_result_free(&r);
    gs_dataset_free(d);
    gs_model_free(m);
    gs_ctx_free(ctx);
    return rc;
}

/* ---- normratio ---- */
static int cmd_normratio(int argc, char **argv)
{
    opt opts[] = {
        MODEL_OPTS,
        { "depths", "LIST", "8,20,56,110,200,1004", "depths to build (resnet/plain: 6n+2; mlp: hidden layers, a multiple of --skip)", NULL, 0 },
        { "data", "SPEC", "fashion-mnist", "dataset; the first --samples training samples are the batch", NULL, 0 },
        { "samples", "N", "16", "samples in the batch", NULL, 0 },
        { "seed", "N", "42", "initialisation seed", NULL, 0 },
        { "out", "N.json", NULL, "where the numbers go (required)", NULL, 0 },
        { "threads", "N", "0", "threads (0 = all cores)", NULL, 0 },
        OPT_END
    };
    parse_opts(argc, argv, opts, "normratio --model NAME [options] --depths LIST --out N.json",
               "Norm preservation at initialisation (Zaeemzadeh et al. 2018): ||dL/dx_b|| / ||dL/dx_{b+1}|| of every\n"
               "residual block after one train-mode step, for networks of each depth; shape-changing blocks marked.");
    if (!get(opts, "out")) die_usage("--out is required");
    int depths[16];
    const int nd = parse_list("depths", get(opts, "depths"), depths, 16, 1, 100000);
    const int want = (int)get_int(opts, "samples", 2, 1 << 16);
    const uint64_t seed = (uint64_t)get_int(opts, "seed", 0, LLONG_MAX);
    gs_model_config mc;
    model_from_opts(opts, &mc);
    if (!strcmp(mc.family, "mlp") && mc.skip < 1) die_usage("normratio: an mlp needs --skip T >= 1 (residual blocks)");
    if (!strcmp(mc.family, "plain")) die_usage("normratio: a plain network has no residual blocks (use --model resnet)");
    gs_ctx *ctx = ctx_from_opts(opts);
    if (!ctx) return EXIT_NOMEM;
    gs_dataset *d = NULL;
    gs_model *m = NULL;
    double *ratio = NULL;
    int *trans = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = f ? gs_dataset_load(ctx, get(opts, "data"), 0, seed, &d) : gs_error(ctx, GS_ENOMEM, "out of memory");
    if (rc) goto done;
    const int N = d->n < want ? (int)d->n : want;
    mc.in_features = (int)d->features; mc.classes = d->classes;
    mc.in_channels = d->channels; mc.in_height = d->height; mc.in_width = d->width;
    fprintf(f, "{\n  \"model\": \"%s\",\n  \"samples\": %d,\n  \"runs\": [", mc.family, N);
    printf("%6s %6s %12s %12s %12s\n", "depth", "blocks", "mean ratio", "min..max", "transition");
    for (int i = 0; i < nd; i++) {
        mc.depth = depths[i];
        if ((rc = gs_model_create(ctx, &mc, N, &m))) goto done;
        if ((rc = gs_model_init(m, seed))) goto done;
        const int nb = gs_model_n_blocks(m);
        ratio = malloc((size_t)nb * sizeof *ratio);
        trans = malloc((size_t)nb * sizeof *trans);
        if (!ratio || !trans) { rc = gs_error(ctx, GS_ENOMEM, "out of memory"); goto done; }
        fprintf(stderr, "normratio: depth %d (%d blocks)\n", depths[i], nb);
        if ((rc = gs_block_norm_ratios(m, d->x, d->y, N, ratio, trans))) goto done;
        double s = 0, st = 0, lo = INFINITY, hi = 0;
        int n = 0, nt = 0;
        for (int b = 0; b < nb; b++) {
            if (trans[b]) { st += ratio[b]; nt++; continue; }
            s += ratio[b]; n++;
            lo = fmin(lo, ratio[b]); hi = fmax(hi, ratio[b]);
        }
        const double mean = n ? s / n : NAN, mean_t = nt ? st / nt : NAN;
        fprintf(f, "%s\n    {\"depth\": %d, \"blocks\": %d, ", i ? "," : "", depths[i], nb);
        json_array(f, "ratio", ratio, nb);
        fputs(", \"transition\": [", f);
        for (int b = 0; b < nb; b++) fprintf(f, "%s%s", b ? ", " : "", trans[b] ? "true" : "false");
        fprintf(f, "], \"mean_ratio\": ");
        gs_json_write_number(f, mean);
        fprintf(f, ", \"mean_ratio_transition\": ");
        gs_json_write_number(f, mean_t);
        fputc('}', f);
        printf("%6d %6d %12.4f %5.3f..%-5.3f %12.4f\n", depths[i], nb, mean, lo, hi, mean_t);
        free(ratio); free(trans); ratio = NULL; trans = NULL;
        gs_model_free(m); m = NULL;
    }
    fputs("\n  ]\n}\n", f);
    rc = write_json_text(ctx, f, &buf, &len, get(opts, "out"));
    f = NULL;
    if (rc) goto done;
    printf("wrote %s\n", get(opts, "out"));
done:
    if (rc) rc = fail(ctx, rc);
    if (f) fclose(f);
    free(buf); free(ratio); free(trans);
    gs_dataset_free(d);
    gs_model_free(m);
    gs_ctx_free(ctx);
    return rc;
}

/* ---- study ---- */
static int cmd_study(int argc, char **argv)
{
    opt opts[] = {
        { "quick", NULL, NULL, "a one-minute version: 40 steps, smaller evaluation sets", NULL, 0 },
        { "out", "DIR", "study", "where index.html and report.json go", NULL, 0 },
        { "data", "SPEC", "fashion-mnist", "dataset", NULL, 0 },
        { "depths", "LIST", "5,20,50", "hidden-layer counts (an odd count gives the skip-2 residual nets one layer less)", NULL, 0 },
        { "acts", "LIST", "sigmoid,tanh,relu", "activations", NULL, 0 },
        { "steps", "N", "600 (40 with --quick)", "SGD steps per network", NULL, 0 },
        { "width", "W", "256", "hidden width", NULL, 0 },
        { "batch", "N", "128", "samples per step", NULL, 0 },
        { "lr", "X", "0.01", "learning rate", NULL, 0 },
        { "momentum", "X", "0.9", "SGD momentum", NULL, 0 },
        { "init", "NAME", "he_normal", "initialisation", NULL, 0 },
        { "seed", "N", "42", "seed (the same for every network)", NULL, 0 },
        { "threads", "N", "0", "threads (0 = all cores)", NULL, 0 },
        { "deterministic", NULL, NULL, "results bit-identical whatever --threads (conv weight gradients summed in fixed chunks)", NULL, 0 },
        { "conv-depths", "LIST", "20,56", "depths (6n+2) of the conv part's plain and resnet nets; 'none' leaves it out", NULL, 0 },
        { "conv-steps", "N", "200 (6 with --quick)", "SGD steps per conv net", NULL, 0 },
        { "conv-lr", "X", "0.1", "conv nets' peak learning rate (cosine schedule, 2% warm-up)", NULL, 0 },
        { "conv-shortcut", "A|B", "A", "the resnets' shortcut where the shape changes", NULL, 0 },
        { "conv-points", "N", "10 (3 with --quick)", "points of the conv error curves", NULL, 0 },
        { "conv-eval-samples", "N", "500 (256 with --quick)", "test samples behind each point of those curves", NULL, 0 },
        { "conv-only", NULL, NULL, "only the conv part (no mlp grid, no ensemble or norm-ratio part)", NULL, 0 },
        { "ensemble-blocks", "N", "54 (6 with --quick)", "the ensemble part: residual mlp of N blocks (skip 2) and a plain mlp of N layers; 0 leaves it out", NULL, 0 },
        { "ensemble-width", "W", "128 (32 with --quick)", "their width", NULL, 0 },
        { "ensemble-steps", "N", "400 (20 with --quick)", "SGD steps each", NULL, 0 },
        { "normratio-conv-depths", "LIST", "8,20,56,110,1004 (8,14 with --quick)", "the norm-ratio part (at initialisation, Zaeemzadeh et al.): resnet depths (6n+2); 'none' leaves them out", NULL, 0 },
        { "normratio-mlp-depths", "LIST", "8,32,128,512,1024 (4,8 with --quick)", "its residual mlp (skip 2, batch norm): hidden layers (even); 'none' leaves them out", NULL, 0 },
        { "normratio-samples", "N", "8 (resnet), 16 (mlp)", "training samples in the batch of every norm-ratio net", NULL, 0 },
        OPT_END
    };
    parse_opts(argc, argv, opts, "study [--quick] [--out DIR] [--depths LIST] [--acts LIST] [--steps N] [--conv-steps N]",
               "The vanishing-gradient study: {acts} x {plain, residual skip 2} x {no norm, batch norm} x {depths},\n"
               "trained with the instruments on, then He et al.'s plain and residual conv nets at two depths,\n"
               "Veit et al.'s ensemble part and the norm ratio against depth at initialisation;\n"
               "writes DIR/index.html and DIR/report.json.");
    gs_study_config c;
    gs_study_config_default(&c, flag(opts, "quick"));
    c.data = get(opts, "data");
    c.n_depths = parse_list("depths", get(opts, "depths"), c.depths, 16, 1, 100000);
    {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", get(opts, "acts"));
        c.n_acts = 0;
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            if (c.n_acts == 16) die_usage("--acts: at most 16");
            if (gs_act_from_name(tok, &c.acts[c.n_acts])) die_usage("--acts: '%s' is not a known activation", tok);
            c.n_acts++;
        }
        if (!c.n_acts) die_usage("--acts is empty");
    }
    if (given(opts, "steps")) c.steps = get_int(opts, "steps", 1, 100000000);
    c.width = (int)get_int(opts, "width", 1, 1 << 16);
    c.batch = (int)get_int(opts, "batch", 2, 1 << 16);
    c.lr = (float)get_float(opts, "lr", 0, 1e6);
    c.momentum = (float)get_float(opts, "momentum", 0, 1);
    if (gs_init_from_name(get(opts, "init"), &c.init)) die_usage("--init '%s' is not a known initialisation", get(opts, "init"));
    c.seed = (uint64_t)get_int(opts, "seed", 0, LLONG_MAX);
    if (!strcmp(get(opts, "conv-depths"), "none")) c.n_conv_depths = 0;
    else c.n_conv_depths = parse_list("conv-depths", get(opts, "conv-depths"), c.conv_depths, 8, 8, 100000);
    for (int i = 0; i < c.n_conv_depths; i++)
        if ((c.conv_depths[i] - 2) % 6) die_usage("--conv-depths: %d is not 6n+2 (20, 32, 44, 56, 110 ...)", c.conv_depths[i]);
    if (given(opts, "conv-steps")) c.conv_steps = get_int(opts, "conv-steps", 1, 100000000);
    if (given(opts, "conv-points")) c.conv_points = (int)get_int(opts, "conv-points", 1, 100000);
    if (given(opts, "conv-eval-samples")) c.conv_eval_samples = get_int(opts, "conv-eval-samples", 1, LLONG_MAX);
    c.conv_lr = (float)get_float(opts, "conv-lr", 0, 1e6);
    {
        const char *sc = get(opts, "conv-shortcut");
        if (strcmp(sc, "A") && strcmp(sc, "B")) die_usage("--conv-shortcut '%s' must be A or B", sc);
        c.conv_shortcut = sc[0];
    }
    if (given(opts, "ensemble-blocks")) c.ens_blocks = (int)get_int(opts, "ensemble-blocks", 0, 100000);
    if (given(opts, "ensemble-width")) c.ens_width = (int)get_int(opts, "ensemble-width", 1, 1 << 16);
    if (given(opts, "ensemble-steps")) c.ens_steps = get_int(opts, "ensemble-steps", 1, 100000000);
    if (given(opts, "normratio-conv-depths")) {
        if (!strcmp(get(opts, "normratio-conv-depths"), "none")) c.n_nr_conv_depths = 0;
        else c.n_nr_conv_depths = parse_list("normratio-conv-depths", get(opts, "normratio-conv-depths"), c.nr_conv_depths, 8, 8, 100000);
        for (int i = 0; i < c.n_nr_conv_depths; i++)
            if ((c.nr_conv_depths[i] - 2) % 6) die_usage("--normratio-conv-depths: %d is not 6n+2 (8, 20, 56, 110, 1004 ...)", c.nr_conv_depths[i]);
    }
    if (given(opts, "normratio-mlp-depths")) {
        if (!strcmp(get(opts, "normratio-mlp-depths"), "none")) c.n_nr_mlp_depths = 0;
        else c.n_nr_mlp_depths = parse_list("normratio-mlp-depths", get(opts, "normratio-mlp-depths"), c.nr_mlp_depths, 8, 2, 100000);
        for (int i = 0; i < c.n_nr_mlp_depths; i++)
            if (c.nr_mlp_depths[i] % 2) die_usage("--normratio-mlp-depths: %d is odd (blocks of 2 layers)", c.nr_mlp_depths[i]);
    }
    if (given(opts, "normratio-samples")) c.nr_conv_samples = c.nr_mlp_samples = (int)get_int(opts, "normratio-samples", 1, 1 << 16);
    if (flag(opts, "conv-only")) {
        if (!c.n_conv_depths) die_usage("--conv-only with --conv-depths none leaves nothing to train");
        c.mlp = 0;
        c.ens_blocks = 0;
        c.n_nr_conv_depths = c.n_nr_mlp_depths = 0;
    }
    const char *out = get(opts, "out");
    gs_ctx *ctx = ctx_from_opts(opts);
    if (!ctx) return EXIT_NOMEM;
    gs_ctx_set_log(ctx, log_stderr, NULL);
    gs_study s;
    int rc = gs_study_train(ctx, &c, &s);
    if (rc) { rc = fail(ctx, rc); gs_ctx_free(ctx); return rc; }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s", out);
    for (char *p = cmd + 1; *p; p++) if (*p == '/') { *p = 0; mkdir(cmd, 0777); *p = '/'; }
    mkdir(cmd, 0777);
    rc = gs_report_write(ctx, &s, out);
    printf("%-8s %-9s %-5s %5s %9s %8s %17s %8s %8s\n", "act", "arch", "norm", "depth", "train_acc", "test_acc",
           "log10 g1/gL init", "dead", "sat");
    for (int i = 0; i < s.n_runs; i++) {
        const gs_study_run *r = &s.runs[i];
        printf("%-8s %-9s %-5s %5d %9.3f %8.3f %17.2f %8.3f %8.3f\n", r->act, r->skip ? "residual" : "plain",
               r->norm, r->depth, r->train_acc, r->test_acc, gs_report_log10_ratio(r->grad_norm_init, r->n_layers),
               gs_report_mean_finite(r->dead_fraction, r->n_layers),
               gs_report_mean_finite(r->saturated_fraction, r->n_layers));
    }
    if (s.n_conv_runs)
        printf("\n%-7s %5s %6s %9s %9s %8s\n", "conv", "depth", "steps", "train_err", "test_err", "seconds");
    for (int i = 0; i < s.n_conv_runs; i++) {
        const gs_study_conv_run *r = &s.conv_runs[i];
        printf("%-7s %5d %6d %9.4f %9.4f %8.1f\n", r->family, r->depth, r->steps, r->train_err, r->test_err, r->seconds);
    }
    if (s.ensemble) {
        const gs_study_ensemble *e = s.ensemble;
        double ms = 0, mp = 0;
        for (int j = 0; j < e->blocks; j++) ms += e->single_err[j] / e->blocks;
        for (int j = 0; j < e->plain_depth; j++) mp += e->plain_single_err[j] / e->plain_depth;
        printf("\nensemble: residual mlp of %d blocks, test error %.4f; half of the gradient in paths through %d-%d "
               "branches; one block deleted: error %.4f -> %.4f; plain mlp of %d layers, test error %.4f; one layer "
               "deleted: %.4f -> %.4f\n", e->blocks, e->test_err, e->half_lo, e->half_hi, e->base_err, ms,
               e->plain_depth, e->plain_test_err, e->plain_base_err, mp);
    }
    if (rc == GS_OK) printf("report: %s/index.html (numbers: %s/report.json), %.0f s\n", out, out, s.seconds);
    else rc = fail(ctx, rc);
    gs_study_free(&s);
    gs_ctx_free(ctx);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: gradscope COMMAND [options]   (gradscope COMMAND --help for its options)\n\n"
        "commands:\n"
        "  train     train a network (mlp, resnet, plain) on a dataset\n"
        "  eval      evaluate a checkpoint on a dataset\n"
        "  inspect   list a model's parameters and buffers with their shapes\n"
        "  grad      one forward/backward pass on a given batch; write every gradient\n"
        "  paths     the gradient of a residual net split by path length (exact and Veit et al.'s estimate)\n"
        "  lesion    test error with residual blocks (or plain layers) deleted or reordered\n"
        "  normratio norm preservation of residual blocks at initialisation, across depths\n"
        "  jacobian  singular values of dh_L/dh_0 (dynamical isometry) from Jacobian-vector products\n"
        "  study     the vanishing-gradient study and its report\n"
        "  version   print the version\n\n"
        "exit codes: 0 ok, 1 other error, 2 usage error, 3 invalid value, 4 I/O error,\n"
        "  5 malformed file, 6 shape mismatch, 7 training diverged (NaN/Inf), 8 not found,\n"
        "  9 out of memory, 10 unsupported\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return EXIT_USAGE; }
    const char *cmd = argv[1];
    cmd_name = cmd;
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) { usage(stdout); return EXIT_OK; }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) { printf("gradscope %s\n", GS_VERSION); return EXIT_OK; }
    if (!strcmp(cmd, "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 2, argv + 2);
    if (!strcmp(cmd, "inspect")) return cmd_inspect(argc - 2, argv + 2);
    if (!strcmp(cmd, "grad")) return cmd_grad(argc - 2, argv + 2);
    if (!strcmp(cmd, "paths")) return cmd_paths(argc - 2, argv + 2);
    if (!strcmp(cmd, "lesion")) return cmd_lesion(argc - 2, argv + 2);
    if (!strcmp(cmd, "normratio")) return cmd_normratio(argc - 2, argv + 2);
    if (!strcmp(cmd, "jacobian")) return cmd_jacobian(argc - 2, argv + 2);
    if (!strcmp(cmd, "study")) return cmd_study(argc - 2, argv + 2);
    cmd_name = "";
    fprintf(stderr, "gradscope: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
