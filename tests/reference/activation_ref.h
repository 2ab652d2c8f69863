// fp64 reference for activations (plain formulas, independent of src/).
#pragma once

#include <vector>

namespace ref {

// mode: laminaActivationMode_t value; nanPropagate: for RELU and CLIPPED_RELU, whether NaN stays NaN.
double activation(int mode, double coef, bool nanPropagate, double x);
// d act / d x times dy, from the forward input x and output y.
double activationGrad(int mode, double coef, double x, double y, double dy);

std::vector<double> activationForward(int mode, double coef, bool nanPropagate, const std::vector<double> &x);
std::vector<double> activationBackward(int mode, double coef, const std::vector<double> &x,
                                       const std::vector<double> &y, const std::vector<double> &dy);

} // namespace ref
