#include "reference/activation_ref.h"

#include <cmath>

namespace ref {

double activation(int mode, double coef, bool nanPropagate, double x) {
  if (std::isnan(x)) {
    // ReLU-like modes map NaN to 0 unless propagating; the others propagate by arithmetic.
    if ((mode == 1 || mode == 3) && !nanPropagate)
      return 0.0;
    return x;
  }
  switch (mode) {
  case 0: return 1.0 / (1.0 + std::exp(-x));             // sigmoid
  case 1: return x > 0 ? x : 0.0;                        // relu
  case 2: return std::tanh(x);                           // tanh
  case 3: return x <= 0 ? 0.0 : (x < coef ? x : coef);   // clipped relu
  case 4: return x > 0 ? x : coef * (std::exp(x) - 1.0); // elu
  case 5: return x;                                      // identity
  case 6: return x > 0 ? x : coef * x;                   // leaky relu
  }
  return NAN;
}

double activationGrad(int mode, double coef, double x, double y, double dy) {
  switch (mode) {
  case 0: return dy * y * (1.0 - y);
  case 1: return x > 0 ? dy : 0.0;
  case 2: return dy * (1.0 - y * y);
  case 3: return (x > 0 && x < coef) ? dy : 0.0;
  case 4: return x > 0 ? dy : dy * (y + coef);
  case 5: return dy;
  case 6: return x > 0 ? dy : coef * dy;
  }
  return NAN;
}

std::vector<double> activationForward(int mode, double coef, bool nanPropagate, const std::vector<double> &x) {
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = activation(mode, coef, nanPropagate, x[i]);
  return y;
}

std::vector<double> activationBackward(int mode, double coef, const std::vector<double> &x,
                                       const std::vector<double> &y, const std::vector<double> &dy) {
  std::vector<double> dx(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    dx[i] = activationGrad(mode, coef, x[i], y[i], dy[i]);
  return dx;
}

} // namespace ref
