// Host interface of the tensor-core implicit-GEMM convolutions (conv_tc_fwd.cu: forward and
// backward-data; conv_tc_bwd_filter.cu: backward-filter), used by the IMPLICIT_GEMM /
// IMPLICIT_PRECOMP_GEMM algorithm entries when the problem suits them (half, bfloat16 or float as
// TF32, TENSOR_OP math, channels contiguous with 16-byte aligned pixels: NHWC activations and KRSC
// filters, or staged into that layout).
#pragma once

#include "core/conv_problem.h"
#include "core/plan_memo.h"

#include <cuda_runtime.h>

#include <string>

namespace lamina::cuda::tc {

enum class Dir { Forward, BackwardData };

// What a caller allows the path to use its workspace for.
enum Flags : unsigned {
  kSplitK = 1, // split the reduction over several blocks (fp32 partials; the cp.async plans: forward only)
  kStage = 2,  // copy operands whose layout does not suit the 16-byte channel loads (channels per group
               // not a multiple of 8 half / 4 float, NCHW, odd strides) into channel-padded NHWC
               // (ungrouped only)
};

// Empty when the tensor-core path applies to p (data pointers are checked again at run time: when one
// read in place is not 16-byte aligned the caller falls back to its general kernel).
std::string whyNotConv(const ConvProblem &p, Dir dir, unsigned flags);
size_t convWorkspace(const ConvProblem &p, Dir dir, unsigned flags);
double convEstimateMs(const ConvProblem &p, Dir dir, unsigned flags);
// Runs the convolution; false (nothing launched) when no tensor-core path applies (whyNotConv), a
// pointer read in place is not aligned or the workspace is too small.
bool runConv(const ConvArgs &a, Dir dir, unsigned flags);
// Tools (lamina-heuristic-replay --paths): the path runConv takes ("tma", "tma staged", "cp.async"; empty
// when none applies) with the TMA and cp.async models' times, e.g. "tma (tma 0.041, cp.async 0.035 ms)".
std::string convPathName(const ConvProblem &p, Dir dir, unsigned flags);
// The plan memos' key (plan_memo.h) of a problem on the current device.
PlanKey planKey(const ConvProblem &p, Dir dir, unsigned flags);

// Loads every kernel of these paths and sets their shared-memory limits on the current device
// (at handle creation: modules are otherwise loaded on first launch, which makes first calls slow).
void preloadKernels();
// Runs a one-thread probe kernel once per device (conv_tc_device.cu): wgmmaReady's answer.
void probeWgmma();
// Whether the current device runs the sm_90a (wgmma) kernels: known after preloadKernels on it.
bool wgmmaReady();
// Tools only (lamina-heuristic-replay): plan as on an sm_90a device with the driver's tensor-map
// encoder where there is none, so the wgmma/TMA paths' estimates replay offline. Nothing runs then.
void assumeHopperForPlanning();
bool planningAssumesHopper();
// LAMINA_TC_TILE=L|M|S|T|W|WN|WK|TMA forces the tile of the forward/backward-data plans where it applies
// (tests and the kernel sandbox); -1 when unset.
int forcedTile();
// LAMINA_TC_TILE as seen by the TMA paths (conv_tc_tma.cu, beside the tile names' parser): 1 when it
// forces them (TMA or a TMA tile), -1 when it forces another tile (then no TMA path runs), 0 when unset.
int tmaForcing();
void preloadBwdFilterKernels();

// Forward and backward-data with TMA loads (conv_tc_tma.cu: half/bf16, float as TF32; forward strides up
// to 8, backward-data stride 1; 2-D, ungrouped, channels contiguous in 16-byte chunks (float's
// backward-data: a K-major filter), sm_90a). No workspace of its own: runConv takes it where it applies
// and its model beats the cp.async plan, reading staged copies (kStage) where it cannot read in place.
// whyNotTmaDevice: empty when the TMA kernels can run p's data and math types on this device (half,
// bfloat16 or float under TENSOR_OP math, the sm_90a image loaded, the driver's encoder found).
std::string whyNotTmaDevice(const ConvProblem &p);
// With kSplitK in flags it may split the reduction over blocks (fp32 partials in tmaWorkspace bytes
// at the workspace's start, summed by a second kernel in a fixed order).
std::string whyNotTma(const ConvProblem &p, Dir dir);
double tmaEstimateMs(const ConvProblem &p, Dir dir, unsigned flags);
// Whether the TMA plan is a persistent launch (one block per SM taking the tiles in turn).
bool tmaPersistent(const ConvProblem &p, Dir dir, unsigned flags);
size_t tmaWorkspace(const ConvProblem &p, Dir dir, unsigned flags);
// false: nothing launched (alignment, tensor-map limits, workspace)
bool runTma(const ConvArgs &a, Dir dir, unsigned flags);
void preloadTmaKernels();

// Tap packing (conv_tc_tap_pack.cu), for few input channels: the innermost filter dim folded into
// the channels, x'[n][i0][i1][q][s*C + c] = x[n][c][i0][i1][q*str - pad + s*dil] (and, forward, w' alike),
// so the tensor-core paths run q, a problem with one tap along that dim and C' = S*C channels rounded to
// a chunk or a 64-byte slice, on the packed copies in the workspace (x' at its start, w' after xBytes).
// why: not empty when it does not apply (grouped, one tap, or saving less than a third of the reduction).
struct TapPack {
  ConvProblem q;
  int64_t cPad = 0;
  size_t xBytes = 0, wBytes = 0; // each 256-byte aligned; wBytes: q's filter (forward: written by the pack)
  bool packW = false;            // forward: w' is packed too; backward-filter: dw' is q's result
  std::string why;
};
TapPack tapPackFor(const ConvProblem &p, ConvDirection dir);
double tapPackMs(const ConvProblem &p, const TapPack &t); // the packing launch's model time
// Packs x (and, when t.packW, w) of a's problem into ws (256-byte aligned); one launch on stream.
void runTapPack(const ConvArgs &a, const TapPack &t, void *ws, cudaStream_t stream);
// Backward-filter: dw = alpha * (q's result dw', at packed) + beta * dw, in a's layout; one launch.
void runTapUnpack(const ConvArgs &a, const TapPack &t, const void *packed, cudaStream_t stream);
void preloadTapPackKernels();
// LAMINA_TC_PACK: 1 (set, not 0) packs wherever it applies, 0 never; -1 unset (the models decide).
int tapPackForcing();

// Backward-filter (split-K always allowed; staging as kStage). runBwdFilter takes the TMA path below
// where it applies and its model beats the cp.async plan (or LAMINA_TC_TILE=TMA forces it).
std::string whyNotBwdFilter(const ConvProblem &p);
size_t bwdFilterWorkspace(const ConvProblem &p);
double bwdFilterEstimateMs(const ConvProblem &p);
bool runBwdFilter(const ConvArgs &a);

// Backward-filter with TMA loads and wgmma (conv_tc_tma_bwd_filter.cu: half/bf16, 2-D, ungrouped,
// strides up to 8, channels contiguous in 16-byte chunks, sm_90a); workspace for its split partials.
std::string whyNotTmaBwdFilter(const ConvProblem &p);
size_t tmaBwdFilterWorkspace(const ConvProblem &p);
double tmaBwdFilterEstimateMs(const ConvProblem &p);
bool runTmaBwdFilter(const ConvArgs &a); // false: nothing launched (alignment, workspace, tensor maps)
void preloadTmaBwdFilterKernels();

// TF32 backward-filter with TMA loads and wgmma (conv_tc_tma_wgrad_tf32.cu: float under TENSOR_OP math,
// 2-D, ungrouped, stride 1, pixels contiguous along W as in NCHW, sm_90a): per tap a GEMM over the
// zero-padded, flattened planes of x and dy (staged in the workspace), split over blocks, fp32
// partials summed in a fixed order.
std::string whyNotTf32BwdFilter(const ConvProblem &p);
size_t tf32BwdFilterWorkspace(const ConvProblem &p);
double tf32BwdFilterEstimateMs(const ConvProblem &p);
bool runTf32BwdFilter(const ConvArgs &a); // false: nothing launched (workspace, tensor maps)
void preloadTf32BwdFilterKernels();

} // namespace lamina::cuda::tc
