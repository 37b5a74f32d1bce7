/* loss.c - softmax cross-entropy and MSE against one-hot targets, both the
 * mean over the batch as PyTorch's defaults (MSE: mean over N*K elements).
 * Labels are checked: a label outside [0, K) gives GS_EINVAL. */
#include <math.h>
#include "layers/layer.h"

/* dlogits = (softmax(z) - onehot(y)) / N */
int gs_loss_ce(const float *logits, const int32_t *labels, int N, int K, float *loss, float *dlogits)
{
    double total = 0;
    for (int i = 0; i < N; i++)
        if (labels[i] < 0 || labels[i] >= K) return GS_EINVAL;
    for (int i = 0; i < N; i++) {
        const float *z = logits + (size_t)i * K;
        float mx = z[0];
        for (int k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
        double sum = 0;
        for (int k = 0; k < K; k++) sum += exp((double)z[k] - mx);
        const double lse = mx + log(sum);
        total += lse - z[labels[i]];
        if (dlogits) {
            float *d = dlogits + (size_t)i * K;
            for (int k = 0; k < K; k++) d[k] = (float)(exp((double)z[k] - lse) / N);
            d[labels[i]] -= 1.0f / (float)N;
        }
    }
    *loss = (float)(total / N);
    return GS_OK;
}

/* L = mean (z - onehot)^2;  dL/dz = 2 (z - onehot) / (N K) */
int gs_loss_mse(const float *logits, const int32_t *labels, int N, int K, float *loss, float *dlogits)
{
    double total = 0;
    const double scale = 2.0 / ((double)N * K);
    for (int i = 0; i < N; i++)
        if (labels[i] < 0 || labels[i] >= K) return GS_EINVAL;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++) {
            const double d = logits[(size_t)i * K + k] - (k == labels[i] ? 1.0 : 0.0);
            total += d * d;
            if (dlogits) dlogits[(size_t)i * K + k] = (float)(scale * d);
        }
    *loss = (float)(total / ((double)N * K));
    return GS_OK;
}
