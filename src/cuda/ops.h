// The CUDA backend's ops: the same signatures as the CPU backend's (src/cpu/*.h), called by src/api
// when the handle's backend is CUDA. Every buffer is device memory of the handle's GPU (checked by
// src/api); every kernel runs on the handle's stream. One translation unit per op family:
//   elementwise.cu (activation, tensor ops, dropout), reduce.cu, pooling.cu, softmax.cu, lrn.cu,
//   batchnorm.cu, matmul.cu, conv_*.cu (algorithms, listed in conv_lists.cpp), conv_bias.cu.
#pragma once

#include "core/descriptors.h"
#include "core/handle.h"
#include "core/op_args.h"

#include <cstdint>

namespace lamina::cuda {

// --- activation.cu
void activationForward(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &x,
                       const void *xData, double beta, const TensorDesc &y, void *yData);
void activationBackward(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &y,
                        const void *yData, const TensorDesc &dy, const void *dyData, const TensorDesc &x,
                        const void *xData, double beta, const TensorDesc &dx, void *dxData);

// --- tensor_ops.cu (same semantics as src/cpu/tensor_ops.h)
void addTensor(const laminaContext &h, double alpha, const TensorDesc &a, const void *aData, double beta,
               const TensorDesc &c, void *cData);
void setTensor(const laminaContext &h, const TensorDesc &y, void *yData, double value);
void scaleTensor(const laminaContext &h, const TensorDesc &y, void *yData, double alpha);
void transformTensor(const laminaContext &h, double alpha, const TensorDesc &x, const void *xData, double beta,
                     const TensorDesc &y, void *yData);
void opTensor(const laminaContext &h, const OpTensorDesc &op, double alpha1, const TensorDesc &a, const void *aData,
              double alpha2, const TensorDesc *b, const void *bData, double beta, const TensorDesc &c, void *cData);

// --- dropout.cu. states: device memory holding {seed, call counter} (two uint64); the forward reads
// them on the device and then increments the counter by a kernel on the stream (no host round trip).
// Mask bits are the same pure function of (seed, call, element) as on the CPU (core/philox.h).
void dropoutForward(const laminaContext &h, float dropout, uint64_t *states, const TensorDesc &x, const void *xData,
                    const TensorDesc &y, void *yData, uint8_t *mask);
void dropoutBackward(const laminaContext &h, float dropout, const TensorDesc &dy, const void *dyData,
                     const TensorDesc &dx, void *dxData, const uint8_t *mask);

// --- reduce.cu
size_t reduceWorkspaceBytes(const ReduceTensorDesc &d, const TensorDesc &a, const TensorDesc &c);
void reduceTensor(const laminaContext &h, const ReduceTensorDesc &d, int32_t *indices, void *workspace,
                  size_t workspaceBytes, double alpha, const TensorDesc &a, const void *aData, double beta,
                  const TensorDesc &c, void *cData);

// --- pooling.cu
void poolingForward(const laminaContext &h, const PoolingDesc &pool, double alpha, const TensorDesc &x,
                    const void *xData, double beta, const TensorDesc &y, void *yData);
void poolingBackward(const laminaContext &h, const PoolingDesc &pool, double alpha, const TensorDesc &dy,
                     const void *dyData, const TensorDesc &x, const void *xData, double beta, const TensorDesc &dx,
                     void *dxData);

// --- softmax.cu
void softmaxForward(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
                    const TensorDesc &x, const void *xData, double beta, const TensorDesc &y, void *yData);
void softmaxBackward(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
                     const TensorDesc &y, const void *yData, const TensorDesc &dy, const void *dyData, double beta,
                     const TensorDesc &dx, void *dxData);

// --- lrn.cu
void lrnForward(const laminaContext &h, const LRNDesc &lrn, laminaLRNMode_t mode, double alpha, const TensorDesc &x,
                const void *xData, double beta, const TensorDesc &y, void *yData);
void lrnBackward(const laminaContext &h, const LRNDesc &lrn, laminaLRNMode_t mode, double alpha, const TensorDesc &dy,
                 const void *dyData, const TensorDesc &x, const void *xData, double beta, const TensorDesc &dx,
                 void *dxData);

// --- batchnorm.cu
void bnForwardTraining(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *x, void *y,
                       const void *scale, const void *bias, double factor, void *runMean, void *runVar, void *saveMean,
                       void *saveInvVar);
void bnForwardInference(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *x, void *y,
                        const void *scale, const void *bias, const void *mean, const void *var);
void bnBackward(const laminaContext &h, const BNArgs &a, double alphaData, double betaData, double alphaParam,
                double betaParam, const void *x, const void *dy, void *dx, const void *scale, void *dScale, void *dBias,
                const void *savedMean, const void *savedInvVar);

// --- matmul.cu (cuBLASLt / cuBLAS; TF32 only when asked for, see laminaMatmul)
void matmul(const laminaContext &h, const MatmulArgs &a);

// --- conv_bias.cu: db = alpha * sum of dy over all dims but C + beta * db.
void convBackwardBias(const laminaContext &h, const TensorDesc &dy, const void *dyData, const TensorDesc &db,
                      void *dbData, double alpha, double beta);

} // namespace lamina::cuda
