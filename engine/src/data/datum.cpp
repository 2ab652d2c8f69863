// Datum decoding, mean files and the per-example transformation (host work, before one upload).
#include "engine/src/data/datum.h"

#include <google/protobuf/unknown_field_set.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace lamina::engine {

void decodeDatum(const void *bytes, size_t size, const std::string &where, pb::Datum &out) {
  if (!out.ParseFromArray(bytes, int(size)))
    throw DataError(where + ": not a Datum (corrupt record)");
  if (out.encoded())
    throw DataError(where + ": encoded datums are not supported (store raw C x H x W pixels)");
  if (out.channels() <= 0 || out.height() <= 0 || out.width() <= 0)
    throw DataError(where + ": bad datum shape " + std::to_string(out.channels()) + "x" + std::to_string(out.height()) +
                    "x" + std::to_string(out.width()));
  const int64_t n = int64_t(out.channels()) * out.height() * out.width();
  const int64_t have = out.data().empty() ? int64_t(out.float_data_size()) : int64_t(out.data().size());
  if (have != n)
    throw DataError(where + ": datum of shape " + std::to_string(out.channels()) + "x" + std::to_string(out.height()) +
                    "x" + std::to_string(out.width()) + " holds " + std::to_string(have) + " values, not " +
                    std::to_string(n));
}

namespace {
// Field numbers of a BlobProto dialect: ours (engine/proto/lamina_net.proto) or Caffe's.
struct BlobFields {
  int shape, data, doubleData, num, channels, height, width;
};
constexpr BlobFields kOurs{1, 2, 4, 6, 7, 8, 9};
constexpr BlobFields kCaffe{7, 5, 8, 1, 2, 3, 4};

template <typename T> void appendPacked(const std::string &bytes, std::vector<float> &out) {
  const size_t n = bytes.size() / sizeof(T);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, bytes.data() + i * sizeof(T), sizeof(T));
    out.push_back(float(v));
  }
}
} // namespace

MeanBlob readMeanBlob(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw DataError("mean file '" + path + "' cannot be read");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string bytes = ss.str();
  google::protobuf::UnknownFieldSet fields;
  if (bytes.empty() || !fields.ParseFromString(bytes))
    throw DataError("mean file '" + path + "' is not a binary BlobProto");
  using UF = google::protobuf::UnknownField;
  // Caffe's legacy dims (1..4) are varints and its data (5) floats; in ours 1..4 are never varints,
  // 5 is double_diff (never fixed32) and 7 is a varint (channels), not a message.
  bool caffe = false;
  for (int i = 0; i < fields.field_count(); ++i) {
    const UF &u = fields.field(i);
    caffe = caffe || (u.number() >= 1 && u.number() <= 4 && u.type() == UF::TYPE_VARINT) ||
            (u.number() == 5 && u.type() == UF::TYPE_FIXED32) ||
            (u.number() == 7 && u.type() == UF::TYPE_LENGTH_DELIMITED);
  }
  const BlobFields &fl = caffe ? kCaffe : kOurs;
  MeanBlob m;
  int64_t legacy[4] = {0, 0, 0, 0};
  for (int i = 0; i < fields.field_count(); ++i) {
    const UF &u = fields.field(i);
    const int num = u.number();
    if (num == fl.shape && u.type() == UF::TYPE_LENGTH_DELIMITED) {
      pb::BlobShape s;
      if (!s.ParseFromString(u.length_delimited()))
        throw DataError("mean file '" + path + "': bad shape");
      m.shape.assign(s.dim().begin(), s.dim().end());
    } else if (num == fl.data && u.type() == UF::TYPE_LENGTH_DELIMITED) {
      appendPacked<float>(u.length_delimited(), m.data);
    } else if (num == fl.data && u.type() == UF::TYPE_FIXED32) {
      float v;
      uint32_t bits = u.fixed32();
      std::memcpy(&v, &bits, 4);
      m.data.push_back(v);
    } else if (num == fl.doubleData && u.type() == UF::TYPE_LENGTH_DELIMITED) {
      appendPacked<double>(u.length_delimited(), m.data);
    } else if (num == fl.doubleData && u.type() == UF::TYPE_FIXED64) {
      double v;
      uint64_t bits = u.fixed64();
      std::memcpy(&v, &bits, 8);
      m.data.push_back(float(v));
    } else if (u.type() == UF::TYPE_VARINT) {
      const int *legacyNums[4] = {&fl.num, &fl.channels, &fl.height, &fl.width};
      for (int k = 0; k < 4; ++k)
        if (num == *legacyNums[k])
          legacy[k] = int64_t(u.varint());
    }
  }
  if (m.shape.empty() && (legacy[1] || legacy[2] || legacy[3]))
    m.shape = {legacy[0] ? legacy[0] : 1, legacy[1] ? legacy[1] : 1, legacy[2] ? legacy[2] : 1,
               legacy[3] ? legacy[3] : 1};
  int64_t count = 1;
  for (int64_t d : m.shape)
    count *= d;
  if (m.shape.empty() || count != int64_t(m.data.size()))
    throw DataError("mean file '" + path + "': the blob's shape and its " + std::to_string(m.data.size()) +
                    " values do not agree");
  return m;
}

DataTransformer::DataTransformer(const pb::TransformationParameter &p, pb::Phase phase, const std::string &meanPath)
    : p_(p), phase_(phase), meanPath_(meanPath) {
  if (!meanPath.empty() && p.mean_value_size() > 0)
    throw DataError("transform_param: give mean_file or mean_value, not both");
  if (!meanPath.empty())
    mean_ = readMeanBlob(meanPath);
}

void DataTransformer::setInputShape(int channels, int height, int width) {
  c_ = channels;
  h_ = height;
  w_ = width;
  const int crop = int(p_.crop_size());
  if (crop > 0 && (crop > height || crop > width))
    throw DataError("crop_size " + std::to_string(crop) + " is larger than the " + std::to_string(height) + "x" +
                    std::to_string(width) + " images");
  outH_ = crop > 0 ? crop : height;
  outW_ = crop > 0 ? crop : width;
  if (!meanPath_.empty() && int64_t(mean_.data.size()) != int64_t(c_) * h_ * w_)
    throw DataError("mean file '" + meanPath_ + "' has " + std::to_string(mean_.data.size()) +
                    " values; the images are " + std::to_string(c_) + "x" + std::to_string(h_) + "x" +
                    std::to_string(w_));
  meanValues_.clear();
  if (p_.mean_value_size() > 0) {
    // Caffe: one value serves every channel; otherwise one per channel.
    if (p_.mean_value_size() != 1 && p_.mean_value_size() != c_)
      throw DataError("transform_param has " + std::to_string(p_.mean_value_size()) +
                      " mean_value entries for images of " + std::to_string(c_) + " channels (1 or " +
                      std::to_string(c_) + ")");
    for (int c = 0; c < c_; ++c)
      meanValues_.push_back(p_.mean_value(p_.mean_value_size() == 1 ? 0 : c));
  }
}

TransformDraw DataTransformer::draw(uint64_t bits) const {
  TransformDraw d;
  if (phase_ == pb::TRAIN) {
    d.mirror = p_.mirror() && (bits >> 63);
    uint64_t rest = bits & ((uint64_t(1) << 63) - 1);
    if (p_.crop_size() > 0) {
      const uint64_t hRange = uint64_t(h_ - outH_ + 1), wRange = uint64_t(w_ - outW_ + 1);
      d.hOff = int(rest % hRange);
      d.wOff = int((rest / hRange) % wRange);
    }
  } else {
    d.hOff = (h_ - outH_) / 2;
    d.wOff = (w_ - outW_) / 2;
  }
  return d;
}

void DataTransformer::transform(const pb::Datum &datum, const TransformDraw &d, float *out,
                                const std::string &where) const {
  if (datum.channels() != c_ || datum.height() != h_ || datum.width() != w_)
    throw DataError(where + ": datum of shape " + std::to_string(datum.channels()) + "x" +
                    std::to_string(datum.height()) + "x" + std::to_string(datum.width()) + " where the first one was " +
                    std::to_string(c_) + "x" + std::to_string(h_) + "x" + std::to_string(w_));
  const bool bytes = !datum.data().empty();
  const auto *u8 = reinterpret_cast<const uint8_t *>(datum.data().data());
  const float *f32 = datum.float_data().data();
  const float scale = p_.scale();
  const float *meanImage = meanPath_.empty() ? nullptr : mean_.data.data();
  for (int c = 0; c < c_; ++c) {
    const float meanValue = meanValues_.empty() ? 0.f : meanValues_[size_t(c)];
    for (int y = 0; y < outH_; ++y) {
      const int64_t inRow = (int64_t(c) * h_ + y + d.hOff) * w_ + d.wOff;
      float *outRow = out + (int64_t(c) * outH_ + y) * outW_;
      for (int x = 0; x < outW_; ++x) {
        const int64_t i = inRow + x;
        float v = bytes ? float(u8[i]) : f32[i];
        v -= meanImage ? meanImage[i] : meanValue;
        outRow[d.mirror ? outW_ - 1 - x : x] = v * scale;
      }
    }
  }
}

} // namespace lamina::engine
