// Datums (one C x H x W example and its label, Caffe's record format) and the DataTransformer of
// TransformationParameter: scale, mirror, crop, mean file / mean values. Data loading is host work:
// the transformer writes one example into a host batch buffer that the Data layer uploads once.
#pragma once

#include "lamina_net.pb.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace lamina::engine {

namespace pb = ::lamina::net;

struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses a serialized Datum and checks it: a known size (data holds C*H*W bytes or float_data C*H*W
// values), not encoded. `where` names the record in errors ("key 00000042 of db/x").
void decodeDatum(const void *bytes, size_t size, const std::string &where, pb::Datum &out);

// A mean image read from a binaryproto BlobProto: our schema's field numbers or Caffe's
// (compute_image_mean's output) are both recognised.
struct MeanBlob {
  std::vector<int64_t> shape; // as stored (e.g. 1 x C x H x W)
  std::vector<float> data;
};
MeanBlob readMeanBlob(const std::string &path);

// Per-example random choices of the transformer, derived from 64 random bits.
struct TransformDraw {
  bool mirror = false;
  int hOff = 0, wOff = 0;
};

class DataTransformer {
public:
  // `meanPath` is the resolved mean_file path (empty when none). Throws DataError for a bad parameter
  // (mean_file and mean_value together, an unreadable mean file).
  DataTransformer(const pb::TransformationParameter &p, pb::Phase phase, const std::string &meanPath);
  // Checks the parameters against the datum shape (crop not larger than the image, mean shape and
  // mean_value count) and fixes the output shape {C, H', W'}. Throws DataError.
  void setInputShape(int channels, int height, int width);
  int channels() const { return c_; }
  int outHeight() const { return outH_; }
  int outWidth() const { return outW_; }
  int64_t outCount() const { return int64_t(c_) * outH_ * outW_; }

  // Mirror and crop offsets from 64 random bits: random in TRAIN, centre crop and no mirror in TEST.
  TransformDraw draw(uint64_t randomBits) const;
  // (datum - mean) * scale, cropped and mirrored per `d`, into out[0 .. outCount()). The datum must
  // have the shape given to setInputShape (DataError otherwise, naming `where`).
  void transform(const pb::Datum &datum, const TransformDraw &d, float *out, const std::string &where) const;

private:
  pb::TransformationParameter p_;
  pb::Phase phase_;
  std::string meanPath_;
  MeanBlob mean_;
  std::vector<float> meanValues_; // one per channel once the shape is known
  int c_ = 0, h_ = 0, w_ = 0, outH_ = 0, outW_ = 0;
};

} // namespace lamina::engine
