/* Trains a LeNet-like network on MNIST with the Lamina API only (every numeric step is a Lamina
 * call; the host reads the data, computes the loss value and the softmax-cross-entropy gradient
 * p - onehot) and prints the training loss and the test accuracy.
 *
 *   conv 5x5x20 - maxpool 2 - conv 5x5x50 - maxpool 2 - fc 500 - relu - fc 10 - softmax
 *   SGD, momentum 0.9, weight decay 5e-4, learning rate 0.01, batch 64 (Caffe's LeNet solver).
 *
 * usage: mnist_train [--backend cpu|cuda] [--epochs E] [--limit N] [--test-limit N] [--batch B]
 *                    [--lr LR] [--data DIR] [--expect-accuracy A]
 * Exit status: 0, 1 on failure (or accuracy below --expect-accuracy, or a loss that did not fall),
 * 77 when the MNIST files are absent (scripts/fetch_mnist.sh fetches them). */
#include <lamina/lamina.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CK(call)                                                                                                       \
  do {                                                                                                                 \
    laminaStatus_t s_ = (call);                                                                                        \
    if (s_ != LAMINA_STATUS_SUCCESS) {                                                                                 \
      fprintf(stderr, "%s:%d: %s: %s: %s\n", __FILE__, __LINE__, #call, laminaGetErrorString(s_),                      \
              laminaGetLastErrorMessage());                                                                            \
      exit(1);                                                                                                         \
    }                                                                                                                  \
  } while (0)

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ------------------------------------------------------------------ MNIST idx files */

static uint32_t be32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Reads an idx file; returns the payload (malloc'd) and the item count, or NULL when absent. */
static unsigned char *read_idx(const char *dir, const char *name, uint32_t magic, int *count) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  unsigned char head[16];
  size_t headLen = magic == 0x803 ? 16 : 8;
  if (fread(head, 1, headLen, f) != headLen || be32(head) != magic) {
    fprintf(stderr, "%s: not an idx file of the expected kind\n", path);
    exit(1);
  }
  *count = (int)be32(head + 4);
  size_t item = magic == 0x803 ? (size_t)be32(head + 8) * be32(head + 12) : 1;
  if (magic == 0x803 && item != 28 * 28) {
    fprintf(stderr, "%s: images are not 28x28\n", path);
    exit(1);
  }
  unsigned char *data = malloc(item * (size_t)*count);
  if (!data || fread(data, 1, item * (size_t)*count, f) != item * (size_t)*count) {
    fprintf(stderr, "%s: truncated\n", path);
    exit(1);
  }
  fclose(f);
  return data;
}

/* ------------------------------------------------------------------ the network */

typedef struct {
  laminaTensorDescriptor_t desc; /* numel x 1 x 1 x 1, for the SGD update */
  float *w, *g, *v;              /* weights, gradient, velocity (backend memory) */
  size_t n;
} Param;

typedef struct {
  laminaHandle_t h;
  int maxBatch;
  /* parameters: conv1 w/b, conv2 w/b, fc1 w/b, fc2 w/b */
  Param p[8];
  laminaFilterDescriptor_t w1d, w2d;
  laminaTensorDescriptor_t b1d, b2d, b3d, b4d; /* 1xCx1x1 biases */
  laminaConvolutionDescriptor_t conv;
  laminaPoolingDescriptor_t pool;
  laminaActivationDescriptor_t relu;
  /* activations (N-dependent descriptors) */
  laminaTensorDescriptor_t xd, c1d, p1d, c2d, p2d, f1d, f2d;
  float *x, *c1, *p1, *c2, *p2, *f1, *h1, *f2, *prob;
  float *dc1, *dp1, *dc2, *dp2, *dh1, *df2;
  laminaConvolutionFwdAlgo_t fwd1, fwd2;
  laminaConvolutionBwdDataAlgo_t bwdData2;
  laminaConvolutionBwdFilterAlgo_t bwdFilt1, bwdFilt2;
  void *ws;
  size_t wsBytes;
} Net;

static float *dalloc(laminaHandle_t h, size_t n) {
  void *p = NULL;
  CK(laminaMalloc(h, &p, n * sizeof(float)));
  return (float *)p;
}

static laminaTensorDescriptor_t tdesc(int64_t n, int64_t c, int64_t hh, int64_t w) {
  laminaTensorDescriptor_t d;
  CK(laminaCreateTensorDescriptor(&d));
  CK(laminaSetTensor4dDescriptor(d, LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, n, c, hh, w));
  return d;
}

static uint64_t rngState = 0x853c49e6748fea9bULL;
static double urand(void) { /* uniform [0, 1) */
  rngState ^= rngState >> 12;
  rngState ^= rngState << 25;
  rngState ^= rngState >> 27;
  return (double)((rngState * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* Xavier-uniform weights (Caffe's "xavier" filler: scale sqrt(3 / fan_in)); biases zero. */
static void init_param(Net *net, Param *p, size_t n, int fanIn, int isBias) {
  p->n = n;
  p->w = dalloc(net->h, n);
  p->g = dalloc(net->h, n);
  p->v = dalloc(net->h, n);
  p->desc = tdesc((int64_t)n, 1, 1, 1);
  float *host = malloc(n * sizeof(float));
  double scale = sqrt(3.0 / fanIn);
  for (size_t i = 0; i < n; ++i)
    host[i] = isBias ? 0.0f : (float)((2.0 * urand() - 1.0) * scale);
  CK(laminaMemcpy(net->h, p->w, host, n * sizeof(float), LAMINA_MEMCPY_HOST_TO_DEVICE));
  CK(laminaMemset(net->h, p->v, 0, n * sizeof(float)));
  free(host);
}

static void set4d(laminaTensorDescriptor_t d, int64_t n, int64_t c, int64_t hh, int64_t w) {
  CK(laminaSetTensor4dDescriptor(d, LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, n, c, hh, w));
}

static size_t maxz(size_t a, size_t b) { return a > b ? a : b; }

/* Sets the activation descriptors to batch n and picks the convolution algorithms for it. */
static void set_batch(Net *net, int n) {
  set4d(net->xd, n, 1, 28, 28);
  set4d(net->c1d, n, 20, 24, 24);
  set4d(net->p1d, n, 20, 12, 12);
  set4d(net->c2d, n, 50, 8, 8);
  set4d(net->p2d, n, 50, 4, 4);
  set4d(net->f1d, n, 500, 1, 1);
  set4d(net->f2d, n, 10, 1, 1);
  laminaHandle_t h = net->h;
  const laminaConvolutionPreference_t pf = LAMINA_CONVOLUTION_PREFER_FASTEST;
  CK(laminaGetConvolutionForwardAlgorithm(h, net->xd, net->w1d, net->conv, net->c1d, pf, 0, &net->fwd1));
  CK(laminaGetConvolutionForwardAlgorithm(h, net->p1d, net->w2d, net->conv, net->c2d, pf, 0, &net->fwd2));
  CK(laminaGetConvolutionBackwardDataAlgorithm(h, net->w2d, net->c2d, net->conv, net->p1d, pf, 0, &net->bwdData2));
  CK(laminaGetConvolutionBackwardFilterAlgorithm(h, net->xd, net->c1d, net->conv, net->w1d, pf, 0, &net->bwdFilt1));
  CK(laminaGetConvolutionBackwardFilterAlgorithm(h, net->p1d, net->c2d, net->conv, net->w2d, pf, 0, &net->bwdFilt2));
  size_t b, need = 0;
  CK(laminaGetConvolutionForwardWorkspaceSize(h, net->xd, net->w1d, net->conv, net->c1d, net->fwd1, &b));
  need = maxz(need, b);
  CK(laminaGetConvolutionForwardWorkspaceSize(h, net->p1d, net->w2d, net->conv, net->c2d, net->fwd2, &b));
  need = maxz(need, b);
  CK(laminaGetConvolutionBackwardDataWorkspaceSize(h, net->w2d, net->c2d, net->conv, net->p1d, net->bwdData2, &b));
  need = maxz(need, b);
  CK(laminaGetConvolutionBackwardFilterWorkspaceSize(h, net->xd, net->c1d, net->conv, net->w1d, net->bwdFilt1, &b));
  need = maxz(need, b);
  CK(laminaGetConvolutionBackwardFilterWorkspaceSize(h, net->p1d, net->c2d, net->conv, net->w2d, net->bwdFilt2, &b));
  need = maxz(need, b);
  if (need > net->wsBytes) {
    CK(laminaFree(h, net->ws));
    net->ws = NULL;
    CK(laminaMalloc(h, &net->ws, need));
    net->wsBytes = need;
  }
}

static void net_create(Net *net, laminaHandle_t h, int maxBatch) {
  memset(net, 0, sizeof *net);
  net->h = h;
  net->maxBatch = maxBatch;
  init_param(net, &net->p[0], 20 * 1 * 5 * 5, 1 * 25, 0);
  init_param(net, &net->p[1], 20, 1, 1);
  init_param(net, &net->p[2], 50 * 20 * 5 * 5, 20 * 25, 0);
  init_param(net, &net->p[3], 50, 1, 1);
  init_param(net, &net->p[4], 500 * 800, 800, 0);
  init_param(net, &net->p[5], 500, 1, 1);
  init_param(net, &net->p[6], 10 * 500, 500, 0);
  init_param(net, &net->p[7], 10, 1, 1);
  CK(laminaCreateFilterDescriptor(&net->w1d));
  CK(laminaSetFilter4dDescriptor(net->w1d, LAMINA_DATA_FLOAT, LAMINA_TENSOR_NCHW, 20, 1, 5, 5));
  CK(laminaCreateFilterDescriptor(&net->w2d));
  CK(laminaSetFilter4dDescriptor(net->w2d, LAMINA_DATA_FLOAT, LAMINA_TENSOR_NCHW, 50, 20, 5, 5));
  net->b1d = tdesc(1, 20, 1, 1);
  net->b2d = tdesc(1, 50, 1, 1);
  net->b3d = tdesc(1, 500, 1, 1);
  net->b4d = tdesc(1, 10, 1, 1);
  CK(laminaCreateConvolutionDescriptor(&net->conv));
  CK(laminaSetConvolution2dDescriptor(net->conv, 0, 0, 1, 1, 1, 1, LAMINA_CROSS_CORRELATION, LAMINA_DATA_FLOAT));
  CK(laminaCreatePoolingDescriptor(&net->pool));
  CK(laminaSetPooling2dDescriptor(net->pool, LAMINA_POOLING_MAX, LAMINA_NOT_PROPAGATE_NAN, 2, 2, 0, 0, 2, 2));
  CK(laminaCreateActivationDescriptor(&net->relu));
  CK(laminaSetActivationDescriptor(net->relu, LAMINA_ACTIVATION_RELU, LAMINA_NOT_PROPAGATE_NAN, 0.0));
  net->xd = tdesc(maxBatch, 1, 28, 28);
  net->c1d = tdesc(maxBatch, 20, 24, 24);
  net->p1d = tdesc(maxBatch, 20, 12, 12);
  net->c2d = tdesc(maxBatch, 50, 8, 8);
  net->p2d = tdesc(maxBatch, 50, 4, 4);
  net->f1d = tdesc(maxBatch, 500, 1, 1);
  net->f2d = tdesc(maxBatch, 10, 1, 1);
  size_t B = (size_t)maxBatch;
  net->x = dalloc(h, B * 784);
  net->c1 = dalloc(h, B * 20 * 576);
  net->dc1 = dalloc(h, B * 20 * 576);
  net->p1 = dalloc(h, B * 20 * 144);
  net->dp1 = dalloc(h, B * 20 * 144);
  net->c2 = dalloc(h, B * 50 * 64);
  net->dc2 = dalloc(h, B * 50 * 64);
  net->p2 = dalloc(h, B * 800);
  net->dp2 = dalloc(h, B * 800);
  net->f1 = dalloc(h, B * 500);
  net->h1 = dalloc(h, B * 500);
  net->dh1 = dalloc(h, B * 500);
  net->f2 = dalloc(h, B * 10);
  net->df2 = dalloc(h, B * 10);
  net->prob = dalloc(h, B * 10);
  set_batch(net, maxBatch);
}

static void net_destroy(Net *net) {
  laminaHandle_t h = net->h;
  for (int i = 0; i < 8; ++i) {
    laminaFree(h, net->p[i].w);
    laminaFree(h, net->p[i].g);
    laminaFree(h, net->p[i].v);
    laminaDestroyTensorDescriptor(net->p[i].desc);
  }
  float *bufs[] = {net->x,   net->c1, net->dc1, net->p1,  net->dp1, net->c2,  net->dc2, net->p2,
                   net->dp2, net->f1, net->h1,  net->dh1, net->f2,  net->df2, net->prob};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; ++i)
    laminaFree(h, bufs[i]);
  laminaFree(h, net->ws);
  laminaTensorDescriptor_t ts[] = {net->b1d, net->b2d, net->b3d, net->b4d, net->xd, net->c1d,
                                   net->p1d, net->c2d, net->p2d, net->f1d, net->f2d};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; ++i)
    laminaDestroyTensorDescriptor(ts[i]);
  laminaDestroyFilterDescriptor(net->w1d);
  laminaDestroyFilterDescriptor(net->w2d);
  laminaDestroyConvolutionDescriptor(net->conv);
  laminaDestroyPoolingDescriptor(net->pool);
  laminaDestroyActivationDescriptor(net->relu);
}

static const float ONE = 1.0f, ZERO = 0.0f;

/* Forward pass of n images already in net->x; leaves class probabilities in net->prob. */
static void forward(Net *net, int n) {
  laminaHandle_t h = net->h;
  Param *P = net->p;
  CK(laminaConvolutionForward(h, &ONE, net->xd, net->x, net->w1d, P[0].w, net->conv, net->fwd1, net->ws, net->wsBytes,
                              &ZERO, net->c1d, net->c1));
  CK(laminaAddTensor(h, &ONE, net->b1d, P[1].w, &ONE, net->c1d, net->c1));
  CK(laminaPoolingForward(h, net->pool, &ONE, net->c1d, net->c1, &ZERO, net->p1d, net->p1));
  CK(laminaConvolutionForward(h, &ONE, net->p1d, net->p1, net->w2d, P[2].w, net->conv, net->fwd2, net->ws, net->wsBytes,
                              &ZERO, net->c2d, net->c2));
  CK(laminaAddTensor(h, &ONE, net->b2d, P[3].w, &ONE, net->c2d, net->c2));
  CK(laminaPoolingForward(h, net->pool, &ONE, net->c2d, net->c2, &ZERO, net->p2d, net->p2));
  /* fc1: f1[n x 500] = p2[n x 800] * W1^T, W1 stored 500 x 800 */
  CK(laminaMatmul(h, LAMINA_DATA_FLOAT, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_T, n, 500, 800, &ONE, net->p2, 800,
                  0, P[4].w, 800, 0, &ZERO, net->f1, 500, 0, 1));
  CK(laminaAddTensor(h, &ONE, net->b3d, P[5].w, &ONE, net->f1d, net->f1));
  CK(laminaActivationForward(h, net->relu, &ONE, net->f1d, net->f1, &ZERO, net->f1d, net->h1));
  /* fc2: f2[n x 10] = h1[n x 500] * W2^T, W2 stored 10 x 500 */
  CK(laminaMatmul(h, LAMINA_DATA_FLOAT, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_T, n, 10, 500, &ONE, net->h1, 500,
                  0, P[6].w, 500, 0, &ZERO, net->f2, 10, 0, 1));
  CK(laminaAddTensor(h, &ONE, net->b4d, P[7].w, &ONE, net->f2d, net->f2));
  CK(laminaSoftmaxForward(h, LAMINA_SOFTMAX_ACCURATE, LAMINA_SOFTMAX_MODE_INSTANCE, &ONE, net->f2d, net->f2, &ZERO,
                          net->f2d, net->prob));
}

/* Backward pass from d(loss)/d(logits) in net->df2; gradients land in P[i].g. */
static void backward(Net *net, int n) {
  laminaHandle_t h = net->h;
  Param *P = net->p;
  /* fc2: dW2[10 x 500] = df2^T * h1, db2 = sum over n, dh1 = df2 * W2 */
  CK(laminaMatmul(h, LAMINA_DATA_FLOAT, LAMINA_DEFAULT_MATH, LAMINA_OP_T, LAMINA_OP_N, 10, 500, n, &ONE, net->df2, 10,
                  0, net->h1, 500, 0, &ZERO, P[6].g, 500, 0, 1));
  CK(laminaConvolutionBackwardBias(h, &ONE, net->f2d, net->df2, &ZERO, net->b4d, P[7].g));
  CK(laminaMatmul(h, LAMINA_DATA_FLOAT, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_N, n, 500, 10, &ONE, net->df2, 10,
                  0, P[6].w, 500, 0, &ZERO, net->dh1, 500, 0, 1));
  /* relu, in place: dh1 becomes d(loss)/d(f1) */
  CK(laminaActivationBackward(h, net->relu, &ONE, net->f1d, net->h1, net->f1d, net->dh1, net->f1d, net->f1, &ZERO,
                              net->f1d, net->dh1));
  /* fc1: dW1[500 x 800] = df1^T * p2, db1, dp2 = df1 * W1 */
  CK(laminaMatmul(h, LAMINA_DATA_FLOAT, LAMINA_DEFAULT_MATH, LAMINA_OP_T, LAMINA_OP_N, 500, 800, n, &ONE, net->dh1, 500,
                  0, net->p2, 800, 0, &ZERO, P[4].g, 800, 0, 1));
  CK(laminaConvolutionBackwardBias(h, &ONE, net->f1d, net->dh1, &ZERO, net->b3d, P[5].g));
  CK(laminaMatmul(h, LAMINA_DATA_FLOAT, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_N, n, 800, 500, &ONE, net->dh1, 500,
                  0, P[4].w, 800, 0, &ZERO, net->dp2, 800, 0, 1));
  /* pool2, conv2 */
  CK(laminaPoolingBackward(h, net->pool, &ONE, net->p2d, net->p2, net->p2d, net->dp2, net->c2d, net->c2, &ZERO,
                           net->c2d, net->dc2));
  CK(laminaConvolutionBackwardBias(h, &ONE, net->c2d, net->dc2, &ZERO, net->b2d, P[3].g));
  CK(laminaConvolutionBackwardFilter(h, &ONE, net->p1d, net->p1, net->c2d, net->dc2, net->conv, net->bwdFilt2, net->ws,
                                     net->wsBytes, &ZERO, net->w2d, P[2].g));
  CK(laminaConvolutionBackwardData(h, &ONE, net->w2d, P[2].w, net->c2d, net->dc2, net->conv, net->bwdData2, net->ws,
                                   net->wsBytes, &ZERO, net->p1d, net->dp1));
  /* pool1, conv1 (no gradient for the input) */
  CK(laminaPoolingBackward(h, net->pool, &ONE, net->p1d, net->p1, net->p1d, net->dp1, net->c1d, net->c1, &ZERO,
                           net->c1d, net->dc1));
  CK(laminaConvolutionBackwardBias(h, &ONE, net->c1d, net->dc1, &ZERO, net->b1d, P[1].g));
  CK(laminaConvolutionBackwardFilter(h, &ONE, net->xd, net->x, net->c1d, net->dc1, net->conv, net->bwdFilt1, net->ws,
                                     net->wsBytes, &ZERO, net->w1d, P[0].g));
}

/* SGD with momentum and weight decay: g += wd * w; v = mu * v - lr * g; w += v. */
static void sgd_step(Net *net, float lr, float mu, float wd) {
  for (int i = 0; i < 8; ++i) {
    Param *p = &net->p[i];
    float nlr = -lr;
    if (wd != 0.0f && i % 2 == 0)
      CK(laminaAddTensor(net->h, &wd, p->desc, p->w, &ONE, p->desc, p->g));
    CK(laminaAddTensor(net->h, &nlr, p->desc, p->g, &mu, p->desc, p->v));
    CK(laminaAddTensor(net->h, &ONE, p->desc, p->v, &ONE, p->desc, p->w));
  }
}

/* Copies images [first, first + n) to net->x as floats in [0, 1). */
static void load_batch(Net *net, const unsigned char *images, int first, int n, float *host) {
  for (int i = 0; i < n * 784; ++i)
    host[i] = (float)images[(size_t)first * 784 + (size_t)i] * (1.0f / 256.0f);
  CK(laminaMemcpy(net->h, net->x, host, (size_t)n * 784 * sizeof(float), LAMINA_MEMCPY_HOST_TO_DEVICE));
}

static void usage(void) {
  fprintf(stderr, "usage: mnist_train [--backend cpu|cuda] [--epochs E] [--limit N] [--test-limit N] [--batch B]\n"
                  "                   [--lr LR] [--data DIR] [--expect-accuracy A]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *dataDir = getenv("LAMINA_MNIST_DIR") ? getenv("LAMINA_MNIST_DIR") : "data/mnist";
  int backendSet = 0, epochs = 1, limit = 0, testLimit = 0, batch = 64;
  laminaBackend_t backend = LAMINA_BACKEND_CPU;
  double lr = 0.01, expect = -1;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v)
      usage();
    if (!strcmp(a, "--backend")) {
      backendSet = 1;
      if (!strcmp(v, "cpu"))
        backend = LAMINA_BACKEND_CPU;
      else if (!strcmp(v, "cuda"))
        backend = LAMINA_BACKEND_CUDA;
      else
        usage();
    } else if (!strcmp(a, "--epochs"))
      epochs = atoi(v);
    else if (!strcmp(a, "--limit"))
      limit = atoi(v);
    else if (!strcmp(a, "--test-limit"))
      testLimit = atoi(v);
    else if (!strcmp(a, "--batch"))
      batch = atoi(v);
    else if (!strcmp(a, "--lr"))
      lr = atof(v);
    else if (!strcmp(a, "--data"))
      dataDir = v;
    else if (!strcmp(a, "--expect-accuracy"))
      expect = atof(v);
    else
      usage();
    ++i;
  }
  if (epochs < 1 || batch < 1 || limit < 0 || testLimit < 0)
    usage();

  int nTrain = 0, nTrainLabels = 0, nTest = 0, nTestLabels = 0;
  unsigned char *trainX = read_idx(dataDir, "train-images-idx3-ubyte", 0x803, &nTrain);
  unsigned char *trainY = read_idx(dataDir, "train-labels-idx1-ubyte", 0x801, &nTrainLabels);
  unsigned char *testX = read_idx(dataDir, "t10k-images-idx3-ubyte", 0x803, &nTest);
  unsigned char *testY = read_idx(dataDir, "t10k-labels-idx1-ubyte", 0x801, &nTestLabels);
  if (!trainX || !trainY || !testX || !testY) {
    fprintf(stderr, "MNIST files not found in %s (run scripts/fetch_mnist.sh): skipping\n", dataDir);
    return 77;
  }
  if (nTrain != nTrainLabels || nTest != nTestLabels) {
    fprintf(stderr, "MNIST image and label counts differ\n");
    return 1;
  }
  if (limit > 0 && limit < nTrain)
    nTrain = limit;
  if (testLimit > 0 && testLimit < nTest)
    nTest = testLimit;

  laminaHandle_t h;
  if (backendSet)
    CK(laminaCreateWithBackend(&h, backend));
  else
    CK(laminaCreate(&h));
  CK(laminaGetBackend(h, &backend));
  printf("mnist_train: backend %s, %d training images, %d test images, batch %d, %d epoch(s), lr %g\n",
         backend == LAMINA_BACKEND_CUDA ? "cuda" : "cpu", nTrain, nTest, batch, epochs, lr);

  Net net;
  net_create(&net, h, batch);
  float *hostX = malloc((size_t)batch * 784 * sizeof(float));
  float *hostP = malloc((size_t)batch * 10 * sizeof(float));
  float *hostD = malloc((size_t)batch * 10 * sizeof(float));
  int *order = malloc((size_t)nTrain * sizeof(int));
  for (int i = 0; i < nTrain; ++i)
    order[i] = i;

  /* Loss of the first and the last few steps, to check that training made progress. */
  double firstLoss = 0, recent[10] = {0}, windowLoss = 0;
  int firstCount = 0, windowCount = 0, step = 0, curBatch = batch;
  const int window = 100;
  double t0 = now_s();
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (int i = nTrain - 1; i > 0; --i) { /* shuffle */
      int j = (int)(urand() * (i + 1));
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    double te = now_s();
    for (int first = 0; first < nTrain; first += batch) {
      int n = nTrain - first < batch ? nTrain - first : batch;
      if (n != curBatch)
        set_batch(&net, curBatch = n);
      for (int b = 0; b < n; ++b)
        for (int k = 0; k < 784; ++k)
          hostX[b * 784 + k] = (float)trainX[(size_t)order[first + b] * 784 + (size_t)k] * (1.0f / 256.0f);
      CK(laminaMemcpy(h, net.x, hostX, (size_t)n * 784 * sizeof(float), LAMINA_MEMCPY_HOST_TO_DEVICE));
      forward(&net, n);
      CK(laminaMemcpy(h, hostP, net.prob, (size_t)n * 10 * sizeof(float), LAMINA_MEMCPY_DEVICE_TO_HOST));
      /* mean cross-entropy and its gradient (p - onehot) / n */
      double loss = 0;
      for (int b = 0; b < n; ++b) {
        int label = trainY[order[first + b]];
        loss -= log(fmax((double)hostP[b * 10 + label], 1e-30));
        for (int k = 0; k < 10; ++k)
          hostD[b * 10 + k] = (hostP[b * 10 + k] - (k == label ? 1.0f : 0.0f)) / (float)n;
      }
      loss /= n;
      if (!isfinite(loss)) {
        fprintf(stderr, "step %d: the loss is not finite\n", step);
        return 1;
      }
      CK(laminaMemcpy(h, net.df2, hostD, (size_t)n * 10 * sizeof(float), LAMINA_MEMCPY_HOST_TO_DEVICE));
      backward(&net, n);
      sgd_step(&net, (float)lr, 0.9f, 5e-4f);
      recent[step % 10] = loss;
      ++step;
      if (firstCount < 10)
        firstLoss += loss, ++firstCount;
      windowLoss += loss;
      if (++windowCount == window || first + batch >= nTrain) {
        printf("epoch %d step %5d: training loss %.4f (mean of the last %d steps)\n", epoch + 1, step,
               windowLoss / windowCount, windowCount);
        fflush(stdout);
        windowLoss = 0;
        windowCount = 0;
      }
    }
    CK(laminaSynchronize(h));
    printf("epoch %d: %.2f s (%.0f images/s)\n", epoch + 1, now_s() - te, nTrain / (now_s() - te));
  }
  double trainTime = now_s() - t0;
  firstLoss /= firstCount > 0 ? firstCount : 1;
  double lastLoss = 0;
  for (int i = 0; i < firstCount; ++i)
    lastLoss += recent[i];
  lastLoss /= firstCount > 0 ? firstCount : 1;

  /* Test accuracy. */
  int correct = 0;
  for (int first = 0; first < nTest; first += batch) {
    int n = nTest - first < batch ? nTest - first : batch;
    if (n != curBatch)
      set_batch(&net, curBatch = n);
    load_batch(&net, testX, first, n, hostX);
    forward(&net, n);
    CK(laminaMemcpy(h, hostP, net.prob, (size_t)n * 10 * sizeof(float), LAMINA_MEMCPY_DEVICE_TO_HOST));
    for (int b = 0; b < n; ++b) {
      int best = 0;
      for (int k = 1; k < 10; ++k)
        if (hostP[b * 10 + k] > hostP[b * 10 + best])
          best = k;
      correct += best == testY[first + b];
    }
  }
  double acc = (double)correct / nTest;
  printf("training: %.2f s for %d epoch(s); loss %.4f (first 10 steps) -> %.4f (last 10 steps)\n", trainTime, epochs,
         firstLoss, lastLoss);
  printf("test accuracy: %.2f%% (%d/%d)\n", 100.0 * acc, correct, nTest);

  int rc = 0;
  if (expect >= 0) {
    if (acc < expect) {
      fprintf(stderr, "FAIL: accuracy %.4f is below the expected %.4f\n", acc, expect);
      rc = 1;
    }
    if (!(lastLoss < firstLoss)) {
      fprintf(stderr, "FAIL: the training loss did not decrease (%.4f -> %.4f)\n", firstLoss, lastLoss);
      rc = 1;
    }
  }
  net_destroy(&net);
  CK(laminaDestroy(h));
  free(hostX);
  free(hostP);
  free(hostD);
  free(order);
  free(trainX);
  free(trainY);
  free(testX);
  free(testY);
  return rc;
}
