/* test_golden_conv.c - the resnet / plain family (DESIGN.md §1) against
 * PyTorch: train-mode logits, loss, ∂loss/∂input, every parameter gradient,
 * the running statistics after one train forward, eval-mode logits and loss.
 * Golden files: tests/ref/resnet_*.safetensors, made by tests/ref/gen_resnet.py
 * with Debian's python3-torch.
 *
 * The files hold no parameters: this test and the generator draw every
 * parameter, buffer, input and label from the same exact integer hash
 * (golden_hash below, mix64/hash64 in gen_resnet.py).  Gradients of more than
 * 2048 elements are stored as a float64 signature (gsig.<p>): sum, sum of
 * squares, dot with a hash vector, sum |g|, max |g|, and 8 elements.
 * Run from the repository root. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "io/io.h"
#include "io/json.h"

#define BATCH 4
#define SIG_SEED 777
#define N_PICK 8
#define SIG_LEN (5 + N_PICK)

static const char *cur_file;

/* ---- the shared hash (identical to gen_resnet.py) ---- */
static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t golden_hash(uint64_t seed, uint64_t t, uint64_t i)
{
    return mix64(mix64(mix64(seed) ^ t) ^ i);
}

/* u in [0, 1), 24 bits: exact in float and double */
static double golden_u(uint64_t seed, uint64_t t, uint64_t i)
{
    return (double)(golden_hash(seed, t, i) >> 40) / 16777216.0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Is the module of name ("blocks.3.proj_bn.weight" -> "proj_bn") a norm? */
static int is_norm_module(const char *name)
{
    const char *last = strrchr(name, '.');
    if (!last) return 0;
    const char *p = last;
    while (p > name && p[-1] != '.') p--;
    size_t len = (size_t)(last - p);
    static const char *const norms[] = { "bn", "b1", "b2", "proj_bn", "bn_final" };
    for (size_t k = 0; k < sizeof norms / sizeof *norms; k++)
        if (strlen(norms[k]) == len && !strncmp(p, norms[k], len)) return 1;
    return 0;
}

/* Fill tensor ti (index t in param_order) from the hash, exactly as
 * gen_resnet.py's role_value: computed in double, rounded to float once. */
static void fill_tensor(const gs_tensor_info *ti, uint64_t seed, int t)
{
    const int norm = is_norm_module(ti->name);
    int64_t fan_in = 1;
    for (int d = 1; d < ti->ndim; d++) fan_in *= ti->shape[d];
    const double wscale = sqrt(3.0 / (double)fan_in);
    for (size_t i = 0; i < ti->numel; i++) {
        const double u = golden_u(seed, (uint64_t)t, i), s = 2.0 * u - 1.0;
        double v;
        if (ends_with(ti->name, ".running_mean")) v = 0.1 * s;
        else if (ends_with(ti->name, ".running_var")) v = 1.0 + 0.3 * u;
        else if (norm && ends_with(ti->name, ".weight")) v = 1.0 + 0.2 * s;
        else if (norm && ends_with(ti->name, ".bias")) v = 0.1 * s;
        else if (ends_with(ti->name, ".weight")) v = s * wscale;
        else v = 0.1 * s;   /* conv / fc bias */
        ti->data[i] = (float)v;
    }
}

static const gs_tensor_entry *need(const gs_tensor_list *t, const char *name, gs_dtype dt)
{
    const gs_tensor_entry *e = gs_tensor_list_find(t, name);
    CHECK(e != NULL, "%s: golden tensor %s missing", cur_file, name);
    if (e && e->dtype != dt) {
        CHECK(e->dtype == dt, "%s: %s has dtype %s", cur_file, name, gs_dtype_name(e->dtype));
        return NULL;
    }
    return e;
}

/* Worst |got - want| relative to the largest |want| of the tensor (plus atol). */
static void compare(const char *what, const float *got, size_t n, const gs_tensor_entry *want, double rtol,
                    double atol)
{
    if (!want || !got) { CHECK(got != NULL, "%s: %s: nothing computed", cur_file, what); return; }
    CHECK(want->nbytes == n * sizeof(float), "%s: %s: %zu elements, golden has %zu", cur_file, what, n,
          want->nbytes / sizeof(float));
    if (want->nbytes != n * sizeof(float)) return;
    const float *w = want->data;
    double scale = 0, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) scale = fabs(w[i]) > scale ? fabs(w[i]) : scale;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - w[i]);
        if (!(d <= worst)) { worst = d; at = i; }
    }
#ifdef GOLDEN_VERBOSE
    fprintf(stderr, "    %-34s worst %.3g  tol %.3g  ratio %.3f\n", what, worst, atol + rtol * scale,
            worst / (atol + rtol * scale + 1e-300));
#endif
    CHECK(worst <= atol + rtol * scale, "%s: %s: worst error %.3g at [%zu] (got %.9g, want %.9g; scale %.3g)",
          cur_file, what, worst, at, got[at], w[at], scale);
}

/* The float64 signature of a gradient, as gen_resnet.py's signature(). */
static void signature(const float *g, size_t n, int t, double sig[SIG_LEN])
{
    double sum = 0, sq = 0, dot = 0, l1 = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        const double v = g[i];
        sum += v;
        sq += v * v;
        dot += v * (2.0 * golden_u(SIG_SEED, (uint64_t)t, i) - 1.0);
        l1 += fabs(v);
        mx = fabs(v) > mx ? fabs(v) : mx;
    }
    sig[0] = sum; sig[1] = sq; sig[2] = dot; sig[3] = l1; sig[4] = mx;
    for (int k = 0; k < N_PICK; k++) sig[5 + k] = g[(size_t)k * n / N_PICK];
}

/* Aggregates to 1e-4: sum of squares, sum |g| relative to themselves; sum
 * and dot (which may cancel) relative to sum |g|.  max |g| and the picked
 * elements as a full gradient: 2e-5 · max |g| + 5e-7. */
static void compare_sig(const char *what, const float *g, size_t n, int t, const gs_tensor_entry *want)
{
    if (!want || !g) { CHECK(g != NULL, "%s: %s: nothing computed", cur_file, what); return; }
    CHECK(want->nbytes == SIG_LEN * sizeof(double), "%s: %s: signature of %zu bytes", cur_file, what,
          want->nbytes);
    if (want->nbytes != SIG_LEN * sizeof(double)) return;
    const double *w = want->data;
    double s[SIG_LEN];
    signature(g, n, t, s);
    static const char *const part[5] = { "sum", "sum of squares", "dot with hash", "sum |g|", "max |g|" };
    const double agg_tol[5] = { 1e-4 * w[3] + 1e-12, 1e-4 * w[1] + 1e-20, 1e-4 * w[3] + 1e-12,
                                1e-4 * w[3] + 1e-12, 2e-5 * w[4] + 5e-7 };
#ifdef GOLDEN_VERBOSE
    double r = 0;
    for (int k = 0; k < 5; k++) r = fmax(r, fabs(s[k] - w[k]) / agg_tol[k]);
    for (int k = 0; k < N_PICK; k++) r = fmax(r, fabs(s[5 + k] - w[5 + k]) / (2e-5 * w[4] + 5e-7));
    fprintf(stderr, "    %-34s signature worst ratio %.3f\n", what, r);
#endif
    for (int k = 0; k < 5; k++)
        CHECK(fabs(s[k] - w[k]) <= agg_tol[k], "%s: %s: %s %.9g, want %.9g (tol %.3g)", cur_file, what, part[k],
              s[k], w[k], agg_tol[k]);
    const double etol = 2e-5 * w[4] + 5e-7;
    for (int k = 0; k < N_PICK; k++)
        CHECK(fabs(s[5 + k] - w[5 + k]) <= etol, "%s: %s: element [%zu] %.9g, want %.9g (tol %.3g)", cur_file,
              what, (size_t)k * n / N_PICK, s[5 + k], w[5 + k], etol);
}

static int64_t jint(const gs_json *o, const char *k)
{
    int64_t v = -1;
    const gs_json *j = gs_json_get(o, k);
    if (!j || gs_json_int64(j, &v) != 1) {
        CHECK(0, "%s: metadata key %s missing or not an integer", cur_file, k);
        return -1;
    }
    return v;
}

static void check_file(const char *path)
{
    gs_ctx *ctx = gs_ctx_create();
    gs_tensor_list *t = NULL;
    gs_model *m = NULL;
    gs_json *order = NULL, *hash = NULL;
    int *tidx = NULL;
    float *x = NULL;
    cur_file = path;
    int rc = gs_safetensors_load(ctx, path, &t);
    CHECK(rc == GS_OK, "%s: %s", path, gs_errmsg(ctx));
    if (rc) { gs_ctx_free(ctx); return; }
    gs_model_config cfg;
    const char *cj = gs_tensor_list_meta(t, "config");
    rc = cj ? gs_model_config_from_json(ctx, cj, &cfg) : GS_EINVAL;
    CHECK(rc == GS_OK, "%s: config: %s", path, gs_errmsg(ctx));
    if (rc == GS_OK) rc = gs_model_create(ctx, &cfg, BATCH, &m);
    CHECK(rc == GS_OK, "%s: model: %s", path, gs_errmsg(ctx));
    if (rc) goto done;
    const char *oj = gs_tensor_list_meta(t, "param_order"), *hj = gs_tensor_list_meta(t, "hash");
    CHECK(oj && hj, "%s: metadata param_order or hash missing", path);
    if (!oj || !hj || gs_json_parse(ctx, oj, strlen(oj), "param_order", &order) != GS_OK ||
        gs_json_parse(ctx, hj, strlen(hj), "hash", &hash) != GS_OK || order->type != GS_JSON_ARRAY) {
        CHECK(0, "%s: bad param_order or hash metadata", path);
        goto done;
    }
    const int64_t pseed = jint(hash, "param_seed"), xseed = jint(hash, "input_seed");
    if (pseed < 0 || xseed < 0) goto done;

    /* the model's tensors, names and order, against PyTorch's state_dict order */
    const int nt = gs_model_n_tensors(m);
    CHECK(nt == order->n, "%s: gradscope has %d tensors, PyTorch's state_dict (less num_batches_tracked) %d",
          path, nt, order->n);
    tidx = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *tidx);
    if (!tidx) goto done;
    int named_ok = 1;
    for (int i = 0; i < nt; i++) {
        const gs_tensor_info *ti = gs_model_tensor(m, i);
        const char *want = gs_json_string(gs_json_at(order, i));
        CHECK(want && !strcmp(ti->name, want), "%s: tensor %d is %s, PyTorch's is %s", path, i, ti->name,
              want ? want : "(none)");
        /* the hash index is the PyTorch position, so the values stay right
         * (and the numbers comparable) even where the order differs */
        tidx[i] = -1;
        for (int j = 0; j < order->n; j++)
            if (gs_json_string(&order->items[j]) && !strcmp(gs_json_string(&order->items[j]), ti->name)) tidx[i] = j;
        CHECK(tidx[i] >= 0, "%s: gradscope tensor %s is not in PyTorch's state_dict", path, ti->name);
        if (tidx[i] < 0) named_ok = 0;
    }
    if (!named_ok) goto done;

    /* parameters and buffers from the hash; the sums against PyTorch's */
    const gs_tensor_entry *isum = need(t, "init.sum", GS_DT_F64);
    for (int i = 0; i < nt; i++) {
        const gs_tensor_info *ti = gs_model_tensor(m, i);
        fill_tensor(ti, (uint64_t)pseed, tidx[i]);
        if (isum && (size_t)tidx[i] < isum->nbytes / sizeof(double)) {
            double s = 0, a = 0;
            for (size_t k = 0; k < ti->numel; k++) { s += ti->data[k]; a += fabs(ti->data[k]); }
            const double w = ((const double *)isum->data)[tidx[i]];
            CHECK(fabs(s - w) <= 1e-12 * a + 1e-300, "%s: %s from the hash sums to %.17g, PyTorch's to %.17g",
                  path, ti->name, s, w);
        }
    }

    /* input and labels from the hash */
    const int64_t nin = (int64_t)BATCH * cfg.in_channels * cfg.in_height * cfg.in_width;
    x = malloc((size_t)nin * sizeof *x);
    if (!x) goto done;
    for (int64_t i = 0; i < nin; i++) x[i] = (float)(2.0 * golden_u((uint64_t)xseed, 0, (uint64_t)i) - 1.0);
    int32_t y[BATCH];
    for (int i = 0; i < BATCH; i++) y[i] = (int32_t)((golden_hash((uint64_t)xseed, 1, (uint64_t)i) >> 40) % (uint64_t)cfg.classes);
    const gs_tensor_entry *xe = need(t, "input", GS_DT_F32), *ye = need(t, "labels", GS_DT_I64);
    if (xe) compare("input (hash)", x, (size_t)nin, xe, 0, 0);
    for (int i = 0; ye && i < BATCH && (size_t)i < ye->nbytes / 8; i++)
        CHECK_EQ_INT(y[i], ((const int64_t *)ye->data)[i]);

    /* train mode: forward, loss, every gradient, running stats after one forward */
    gs_model_set_training(m, 1);
    gs_model_set_input_grad(m, 1);
    gs_model_zero_grad(m);
    float loss = NAN;
    CHECK_EQ_INT(gs_model_forward(m, x, BATCH), GS_OK);
    CHECK_EQ_INT(gs_model_loss(m, y, &loss), GS_OK);
    CHECK_EQ_INT(gs_model_backward(m), GS_OK);
    const size_t nlog = (size_t)BATCH * cfg.classes;
    compare("logits", gs_model_logits(m), nlog, need(t, "logits", GS_DT_F32), 2e-6, 1e-7);
    compare("loss", &loss, 1, need(t, "loss", GS_DT_F32), 2e-6, 1e-7);
    compare("grad.input", gs_model_input_grad(m), (size_t)nin, need(t, "grad.input", GS_DT_F32), 2e-5, 1e-8);
    char name[256];
    int n_full = 0, n_sig = 0, n_buf = 0;
    for (int i = 0; i < nt; i++) {
        const gs_tensor_info *ti = gs_model_tensor(m, i);
        if (!ti->trainable) {
            snprintf(name, sizeof name, "train_fwd.%s", ti->name);
            compare(name, ti->data, ti->numel, need(t, name, GS_DT_F32), 2e-5, 5e-7);
            n_buf++;
        } else if (ti->numel <= 2048) {
            snprintf(name, sizeof name, "grad.%s", ti->name);
            compare(name, ti->grad, ti->numel, need(t, name, GS_DT_F32), 2e-5, 5e-7);
            n_full++;
        } else {
            snprintf(name, sizeof name, "gsig.%s", ti->name);
            compare_sig(name, ti->grad, ti->numel, tidx[i], need(t, name, GS_DT_F64));
            n_sig++;
        }
    }
    /* every golden gradient / buffer was looked at */
    int n_golden = 0;
    for (int i = 0; i < t->n; i++) {
        const char *tn = t->items[i].name;
        n_golden += !strncmp(tn, "grad.", 5) || !strncmp(tn, "gsig.", 5) || !strncmp(tn, "train_fwd.", 10);
    }
    CHECK_EQ_INT(n_golden, n_full + n_sig + n_buf + 1);   /* + grad.input */

    /* eval mode from the init state */
    for (int i = 0; i < nt; i++) fill_tensor(gs_model_tensor(m, i), (uint64_t)pseed, tidx[i]);
    gs_model_set_training(m, 0);
    gs_model_set_input_grad(m, 0);
    CHECK_EQ_INT(gs_model_forward(m, x, BATCH), GS_OK);
    CHECK_EQ_INT(gs_model_loss(m, y, &loss), GS_OK);
    compare("eval.logits", gs_model_logits(m), nlog, need(t, "eval.logits", GS_DT_F32), 2e-6, 1e-7);
    compare("eval.loss", &loss, 1, need(t, "eval.loss", GS_DT_F32), 2e-6, 1e-7);
done:
    free(x);
    free(tidx);
    gs_json_free(order);
    gs_json_free(hash);
    gs_model_free(m);
    gs_tensor_list_free(t);
    gs_ctx_free(ctx);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The hash itself: mix64(0) is splitmix64's well-known first output for
 * state 0; hash(100, 5, 7) is gen_resnet.py's hash64 (Python integers).  A
 * change to either side's definition shows here first. */
static void test_hash(void)
{
    CHECK(mix64(0) == 0xE220A8397B1DCDAFull, "mix64(0) = %016llx", (unsigned long long)mix64(0));
    CHECK(golden_hash(100, 5, 7) == 0xC58BDC7A15F34EE6ull, "hash(100, 5, 7) = %016llx",
          (unsigned long long)golden_hash(100, 5, 7));
}

/* One test per golden file, named after it. */
int main(void)
{
    RUN(test_hash);
    DIR *d = opendir("tests/ref");
    if (!d) { fprintf(stderr, "cannot open tests/ref (run from the repository root)\n"); return 1; }
    char *names[128];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 128)
        if (!strncmp(de->d_name, "resnet_", 7) && ends_with(de->d_name, ".safetensors"))
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "tests/ref/%s", names[i]);
        t_cur_name = names[i]; t_cur_failed = 0;
        check_file(path);
        if (t_cur_failed) { t_failed++; fprintf(stderr, "FAIL golden %s\n", names[i]); }
        else { t_passed++; fprintf(stderr, "ok   golden %s\n", names[i]); }
        free(names[i]);
    }
    if (n < 10) { t_failed++; fprintf(stderr, "FAIL only %d resnet golden files in tests/ref, expected 10\n", n); }
    return FINISH();
}
