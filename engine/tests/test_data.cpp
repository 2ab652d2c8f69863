// The data path: LMDB wrapper, Datum decoding and transformation, the Data layer (values after
// scale/mean, crop, mirror determinism, wrap-around, prefetch == no prefetch, seek), the MNIST
// converter on synthetic idx files (and on corrupt ones), and the errors for missing or bad databases.
#include "common/test_util.h"
#include "engine/src/data/convert.h"
#include "engine/src/data/datum.h"
#include "engine/src/data/lmdb.h"
#include "engine/src/layers/data.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;
using namespace lamina::engine;

namespace {

std::string deviceName() { return lt::testBackend() == LAMINA_BACKEND_CUDA ? "cuda" : "cpu"; }

// A fresh directory per test, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = fs::temp_directory_path() /
           ("lamina_test_data_" + std::to_string(getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string &name) const { return (path / name).string(); }
};

pb::Datum byteDatum(int c, int h, int w, int label, int base) {
  pb::Datum d;
  d.set_channels(c);
  d.set_height(h);
  d.set_width(w);
  d.set_label(label);
  std::string bytes(size_t(c * h * w), '\0');
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = char((base + int(i)) % 256);
  d.set_data(bytes);
  return d;
}

void writeDb(const std::string &path, const std::vector<pb::Datum> &datums) {
  LmdbWriter w(path);
  char key[16];
  for (size_t i = 0; i < datums.size(); ++i) {
    std::snprintf(key, sizeof key, "%08zu", i);
    w.put(key, datums[i].SerializeAsString());
  }
  w.commit();
}

// `n` datums C x H x W with label i and pixel (i*7 + j) % 256 at flat index j.
std::vector<pb::Datum> makeDatums(int n, int c, int h, int w) {
  std::vector<pb::Datum> v;
  for (int i = 0; i < n; ++i)
    v.push_back(byteDatum(c, h, w, i, i * 7));
  return v;
}

pb::LayerParameter dataParam(const std::string &source, int batch, pb::Phase phase, int prefetch = 0) {
  pb::LayerParameter p;
  p.set_name("mnist");
  p.set_type("Data");
  p.add_top("data");
  p.add_top("label");
  p.set_phase(phase);
  p.mutable_data_param()->set_source(source);
  p.mutable_data_param()->set_batch_size(uint32_t(batch));
  p.mutable_data_param()->set_backend(pb::DataParameter::LMDB);
  p.mutable_data_param()->set_prefetch(uint32_t(prefetch));
  return p;
}

// A Data layer set up with its two tops.
struct DataRig {
  Context ctx;
  std::unique_ptr<Layer> layer;
  Blob data, label;
  Blobs top;
  explicit DataRig(const pb::LayerParameter &p, uint64_t seed = 1701, const std::string &dataRoot = ".")
      : ctx(deviceName(), seed), data(ctx), label(ctx), top{&data, &label} {
    ctx.paths.dataRoot = dataRoot;
    layer = createLayer(p, ctx);
    layer->setUp({}, top);
    layer->reshape({}, top);
  }
  DataLayer &dl() { return dynamic_cast<DataLayer &>(*layer); }
  std::pair<std::vector<float>, std::vector<float>> next() {
    layer->forward({}, top);
    return {data.dataToHost(), label.dataToHost()};
  }
};

bool contains(const std::string &s, const std::string &needle) { return s.find(needle) != std::string::npos; }

template <typename F> std::string errorOf(F f) {
  try {
    f();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

TEST(Lmdb, WriterGrowsTheMapAndCursorWalksInKeyOrderWrapping) {
  TempDir t;
  {
    LmdbWriter w(t / "db", /*batch=*/16, /*initialMapBytes=*/64 << 10);
    for (int i = 199; i >= 0; --i) { // out of order: the cursor must sort them
      char key[16];
      std::snprintf(key, sizeof key, "%08d", i);
      w.put(key, std::string(1000, char('a' + i % 26)));
    }
    w.commit();
    EXPECT_GT(w.mapSize(), size_t(64) << 10); // 200 KB of values did not fit in 64 KiB
    EXPECT_EQ(w.written(), 200u);
  }
  auto env = LmdbEnv::openReadOnly(t / "db");
  EXPECT_EQ(env->entries(), 200u);
  EXPECT_EQ(LmdbEnv::openReadOnly(t / "db"), env); // shared within the process
  LmdbCursor c(env);
  ASSERT_EQ(c.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "%08d", i);
    ASSERT_EQ(c.key(), key);
    ASSERT_EQ(c.valueString(), std::string(1000, char('a' + i % 26)));
    EXPECT_EQ(c.next(), i == 199);
  }
  EXPECT_EQ(c.key(), "00000000");
  c.seekOrdinal(205);
  EXPECT_EQ(c.key(), "00000005");
  c.seekOrdinal(2);
  EXPECT_EQ(c.key(), "00000002");
  EXPECT_TRUE(contains(errorOf([&] { LmdbWriter again(t / "db"); }), "already exists"));
}

TEST(Lmdb, MissingCorruptAndTruncatedDatabasesAreErrorsNamingThePath) {
  TempDir t;
  EXPECT_TRUE(contains(errorOf([&] { LmdbEnv::openReadOnly(t / "nope"); }), t / "nope"));
  fs::create_directories(t / "empty");
  EXPECT_TRUE(contains(errorOf([&] { LmdbEnv::openReadOnly(t / "empty"); }), "no data.mdb"));
  fs::create_directories(t / "garbage");
  std::ofstream(t / "garbage/data.mdb") << std::string(20000, 'x');
  std::string e = errorOf([&] { LmdbEnv::openReadOnly(t / "garbage"); });
  EXPECT_TRUE(contains(e, t / "garbage")) << e;
  EXPECT_TRUE(contains(e, "not an LMDB database")) << e;

  writeDb(t / "db", makeDatums(300, 3, 16, 16));
  fs::resize_file(t / "db/data.mdb", fs::file_size(t / "db/data.mdb") / 2);
  e = errorOf([&] { LmdbEnv::openReadOnly(t / "db"); });
  EXPECT_TRUE(contains(e, "truncated")) << e;
}

TEST(Datum, DecodeChecksSizeAndRejectsEncoded) {
  pb::Datum d = byteDatum(1, 2, 3, 4, 0), out;
  std::string s = d.SerializeAsString();
  decodeDatum(s.data(), s.size(), "rec", out);
  EXPECT_EQ(out.label(), 4);
  d.set_encoded(true);
  s = d.SerializeAsString();
  EXPECT_TRUE(
      contains(errorOf([&] { decodeDatum(s.data(), s.size(), "rec", out); }), "encoded datums are not supported"));
  d = byteDatum(1, 2, 3, 4, 0);
  d.set_width(4);
  s = d.SerializeAsString();
  EXPECT_TRUE(contains(errorOf([&] { decodeDatum(s.data(), s.size(), "rec 7", out); }), "rec 7"));
  const char junk[] = "\xff\xff\xff\xff";
  EXPECT_TRUE(contains(errorOf([&] { decodeDatum(junk, 4, "rec 8", out); }), "not a Datum"));
}

TEST(DataLayer, ScaleMeanValueShapesAndLabels) {
  TempDir t;
  writeDb(t / "db", makeDatums(5, 2, 3, 4));
  for (int prefetch : {0, 3}) {
    pb::LayerParameter p = dataParam(t / "db", 2, pb::TEST, prefetch);
    p.mutable_transform_param()->set_scale(0.5f);
    p.mutable_transform_param()->add_mean_value(10);
    p.mutable_transform_param()->add_mean_value(20);
    DataRig r(p);
    EXPECT_EQ(r.data.shape(), (Shape{2, 2, 3, 4}));
    EXPECT_EQ(r.label.shape(), (Shape{2}));
    EXPECT_EQ(r.dl().size(), 5u);
    auto [data, label] = r.next();
    EXPECT_EQ(label, (std::vector<float>{0, 1}));
    for (int n = 0; n < 2; ++n)
      for (int j = 0; j < 24; ++j) {
        const float pixel = float((n * 7 + j) % 256), mean = j < 12 ? 10.f : 20.f;
        ASSERT_FLOAT_EQ(data[size_t(n * 24 + j)], (pixel - mean) * 0.5f) << "prefetch " << prefetch;
      }
    EXPECT_EQ(r.dl().position(), 2u);
  }
}

TEST(DataLayer, FloatDatumsAndOneMeanValueForAllChannels) {
  TempDir t;
  pb::Datum d;
  d.set_channels(2);
  d.set_height(1);
  d.set_width(2);
  d.set_label(3);
  for (float v : {1.5f, -2.f, 4.f, 8.f})
    d.add_float_data(v);
  writeDb(t / "db", {d});
  pb::LayerParameter p = dataParam(t / "db", 2, pb::TEST);
  p.mutable_transform_param()->add_mean_value(1);
  DataRig r(p);
  auto [data, label] = r.next();
  EXPECT_EQ(data, (std::vector<float>{0.5f, -3.f, 3.f, 7.f, 0.5f, -3.f, 3.f, 7.f}));
  EXPECT_EQ(label, (std::vector<float>{3, 3}));
}

namespace {
void putVarint(std::string &s, uint64_t v) {
  while (v >= 0x80) {
    s += char(v | 0x80);
    v >>= 7;
  }
  s += char(v);
}
} // namespace

TEST(DataLayer, MeanFileInOurAndCaffesBlobProtoNumbering) {
  TempDir t;
  writeDb(t / "db", makeDatums(3, 1, 2, 3));
  const std::vector<float> mean = {1, 2, 3, 4, 5, 6};
  pb::BlobProto ours;
  for (int64_t d : {1, 1, 2, 3})
    ours.mutable_shape()->add_dim(d);
  for (float v : mean)
    ours.add_data(v);
  std::ofstream(t / "ours.binaryproto", std::ios::binary) << ours.SerializeAsString();
  // Caffe's compute_image_mean output: num=1, channels=2, height=3, width=4 as varints, data=5 packed.
  std::string caffe;
  for (int f : {1, 2, 3, 4}) {
    putVarint(caffe, uint64_t(f) << 3);
    putVarint(caffe, f == 1 ? 1 : f == 2 ? 1 : f == 3 ? 2 : 3);
  }
  putVarint(caffe, (5 << 3) | 2);
  putVarint(caffe, mean.size() * 4);
  caffe.append(reinterpret_cast<const char *>(mean.data()), mean.size() * 4);
  std::ofstream(t / "caffe.binaryproto", std::ios::binary) << caffe;

  for (const char *file : {"ours.binaryproto", "caffe.binaryproto"}) {
    pb::LayerParameter p = dataParam("db", 1, pb::TEST);
    p.mutable_transform_param()->set_mean_file(file); // relative: resolved against the data root
    p.mutable_transform_param()->set_scale(2);
    DataRig r(p, 1701, t.path.string());
    r.next();
    auto [data, label] = r.next(); // record 1: pixels 7..12
    for (int j = 0; j < 6; ++j)
      EXPECT_FLOAT_EQ(data[size_t(j)], (float(7 + j) - mean[size_t(j)]) * 2) << file;
  }
  pb::LayerParameter p = dataParam(t / "db", 1, pb::TEST);
  p.mutable_transform_param()->set_mean_file(t / "ours.binaryproto");
  p.mutable_transform_param()->add_mean_value(3);
  EXPECT_TRUE(contains(errorOf([&] { DataRig r(p); }), "not both"));
  writeDb(t / "db2", makeDatums(1, 1, 3, 3));
  p = dataParam(t / "db2", 1, pb::TEST);
  p.mutable_transform_param()->set_mean_file(t / "ours.binaryproto");
  EXPECT_TRUE(contains(errorOf([&] { DataRig r(p); }), "1x3x3"));
}

TEST(DataLayer, TestPhaseCropsTheCentreAndNeverMirrors) {
  TempDir t;
  writeDb(t / "db", makeDatums(4, 1, 5, 5));
  pb::LayerParameter p = dataParam(t / "db", 4, pb::TEST);
  p.mutable_transform_param()->set_crop_size(3);
  p.mutable_transform_param()->set_mirror(true);
  DataRig r(p);
  EXPECT_EQ(r.data.shape(), (Shape{4, 1, 3, 3}));
  auto [data, label] = r.next();
  for (int n = 0; n < 4; ++n)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x)
        ASSERT_EQ(data[size_t(n * 9 + y * 3 + x)], float((n * 7 + (y + 1) * 5 + (x + 1)) % 256));
  p.mutable_transform_param()->set_crop_size(6);
  EXPECT_TRUE(contains(errorOf([&] { DataRig bad(p); }), "crop_size 6"));
}

TEST(DataLayer, TrainCropAndMirrorAreRandomButDeterministicForASeed) {
  TempDir t;
  const int n = 7, h = 6, w = 5, crop = 3;
  writeDb(t / "db", makeDatums(n, 2, h, w));
  auto param = [&](int prefetch) {
    pb::LayerParameter p = dataParam(t / "db", 4, pb::TRAIN, prefetch);
    p.mutable_transform_param()->set_crop_size(crop);
    p.mutable_transform_param()->set_mirror(true);
    return p;
  };
  DataRig a(param(0), 42), b(param(3), 42), c(param(2), 43);
  std::set<std::tuple<int, int, int>> seen; // (hOff, wOff, mirror)
  bool differsFromOtherSeed = false;
  for (int it = 0; it < 12; ++it) {
    auto [da, la] = a.next();
    auto [db, lb] = b.next();
    auto [dc, lc] = c.next();
    ASSERT_EQ(da, db) << "prefetch changed batch " << it;
    ASSERT_EQ(la, lb);
    EXPECT_EQ(la, lc); // labels do not depend on the seed
    differsFromOtherSeed = differsFromOtherSeed || da != dc;
    // Each example is some crop of its record, mirrored or not, the same for both channels.
    for (int i = 0; i < 4; ++i) {
      const int rec = int(la[size_t(i)]);
      bool found = false;
      for (int ho = 0; ho <= h - crop && !found; ++ho)
        for (int wo = 0; wo <= w - crop && !found; ++wo)
          for (int m = 0; m < 2 && !found; ++m) {
            bool ok = true;
            for (int ch = 0; ch < 2 && ok; ++ch)
              for (int y = 0; y < crop && ok; ++y)
                for (int x = 0; x < crop && ok; ++x) {
                  const int sx = m ? crop - 1 - x : x;
                  const float want = float((rec * 7 + (ch * h + y + ho) * w + sx + wo) % 256);
                  ok = da[size_t(((i * 2 + ch) * crop + y) * crop + x)] == want;
                }
            if (ok) {
              found = true;
              seen.insert({ho, wo, m});
            }
          }
      ASSERT_TRUE(found) << "example " << i << " of batch " << it << " is no crop of record " << rec;
    }
  }
  EXPECT_TRUE(differsFromOtherSeed);
  std::set<int> mirrors, hOffs;
  for (auto [ho, wo, m] : seen) {
    mirrors.insert(m);
    hOffs.insert(ho);
  }
  EXPECT_EQ(mirrors.size(), 2u); // 48 draws: both mirror states and several offsets occur
  EXPECT_GE(hOffs.size(), 3u);
}

TEST(DataLayer, WrapsAroundAndSeekResumesExactly) {
  TempDir t;
  writeDb(t / "db", makeDatums(5, 1, 4, 4));
  for (int prefetch : {0, 2}) {
    pb::LayerParameter p = dataParam(t / "db", 2, pb::TRAIN, prefetch);
    p.mutable_transform_param()->set_crop_size(2);
    p.mutable_transform_param()->set_mirror(true);
    DataRig r(p, 5);
    std::vector<std::vector<float>> data, labels;
    for (int i = 0; i < 5; ++i) {
      auto [d, l] = r.next();
      data.push_back(d);
      labels.push_back(l);
    }
    EXPECT_EQ(labels[0], (std::vector<float>{0, 1}));
    EXPECT_EQ(labels[2], (std::vector<float>{4, 0})); // wraps at the end of the database
    EXPECT_EQ(labels[3], (std::vector<float>{1, 2}));
    EXPECT_EQ(r.dl().position(), 10u);

    // A rebuilt layer with the same seed, moved to a saved position, continues with the same batches.
    DataRig resumed(p, 5);
    resumed.dl().seek(4);
    EXPECT_EQ(resumed.dl().position(), 4u);
    for (int i = 2; i < 5; ++i) {
      auto [d, l] = resumed.next();
      EXPECT_EQ(l, labels[size_t(i)]) << "prefetch " << prefetch;
      EXPECT_EQ(d, data[size_t(i)]) << "batch " << i << " prefetch " << prefetch;
    }
    r.dl().seek(0); // backwards too
    EXPECT_EQ(r.next().first, data[0]);
  }
}

TEST(DataLayer, RandSkipStartsAtARandomRecord) {
  TempDir t;
  writeDb(t / "db", makeDatums(50, 1, 2, 2));
  std::set<float> firsts;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    pb::LayerParameter p = dataParam(t / "db", 1, pb::TEST);
    p.mutable_data_param()->set_rand_skip(40);
    DataRig r(p, seed);
    const float first = r.next().second[0];
    EXPECT_LT(first, 40.f);
    firsts.insert(first);
    DataRig again(p, seed);
    EXPECT_EQ(again.next().second[0], first); // fixed by the seed
  }
  EXPECT_GE(firsts.size(), 3u);
}

TEST(DataLayer, ErrorsNameTheLayerAndThePath) {
  TempDir t;
  // A missing database: the message names the layer and the resolved path.
  pb::LayerParameter p = dataParam("examples/mnist/mnist_train_lmdb", 4, pb::TRAIN);
  std::string e = errorOf([&] { DataRig r(p, 1, t.path.string()); });
  EXPECT_TRUE(contains(e, "layer 'mnist' (Data)")) << e;
  EXPECT_TRUE(contains(e, t / "examples/mnist/mnist_train_lmdb")) << e;
  try {
    DataRig r(p, 1, t.path.string());
    FAIL();
  } catch (const NetError &) {
  }

  writeDb(t / "db", makeDatums(3, 1, 2, 2));
  p = dataParam(t / "db", 2, pb::TRAIN);
  p.mutable_data_param()->set_backend(pb::DataParameter::LEVELDB);
  EXPECT_TRUE(contains(errorOf([&] { DataRig r(p); }), "LEVELDB is not supported, convert to LMDB"));
  p = dataParam(t / "db", 0, pb::TRAIN);
  EXPECT_TRUE(contains(errorOf([&] { DataRig r(p); }), "batch_size"));

  // Encoded, and a record of another shape (found in forward: NetError naming the layer and record).
  pb::Datum enc = byteDatum(1, 2, 2, 0, 0);
  enc.set_encoded(true);
  writeDb(t / "enc", {enc});
  e = errorOf([&] { DataRig r(dataParam(t / "enc", 1, pb::TRAIN)); });
  EXPECT_TRUE(contains(e, "encoded datums are not supported")) << e;
  writeDb(t / "mixed", {byteDatum(1, 2, 2, 0, 0), byteDatum(1, 3, 3, 1, 0)});
  for (int prefetch : {0, 2}) {
    DataRig r(dataParam(t / "mixed", 1, pb::TRAIN, prefetch));
    r.next();
    e = errorOf([&] { r.next(); });
    EXPECT_TRUE(contains(e, "layer 'mnist'")) << e;
    EXPECT_TRUE(contains(e, "record '00000001'")) << e;
    EXPECT_TRUE(contains(errorOf([&] { r.next(); }), "record '00000001'")); // again, not a hang
  }
}

// ---- MNIST conversion ----

namespace {
void put32(std::string &s, uint32_t v) {
  for (int i = 3; i >= 0; --i)
    s += char((v >> (8 * i)) & 0xff);
}
// Synthetic idx files: `count` images rows x cols with pixel (i + j) % 256, label (3 i) % 10.
void writeIdx(const std::string &dir, const std::string &prefix, int count, int rows, int cols,
              const std::string &sep = "-") {
  std::string img, lab;
  put32(img, 0x803);
  put32(img, uint32_t(count));
  put32(img, uint32_t(rows));
  put32(img, uint32_t(cols));
  put32(lab, 0x801);
  put32(lab, uint32_t(count));
  for (int i = 0; i < count; ++i) {
    for (int j = 0; j < rows * cols; ++j)
      img += char((i + j) % 256);
    lab += char((3 * i) % 10);
  }
  std::ofstream(dir + "/" + prefix + "-images" + sep + "idx3-ubyte", std::ios::binary) << img;
  std::ofstream(dir + "/" + prefix + "-labels" + sep + "idx1-ubyte", std::ios::binary) << lab;
}
} // namespace

TEST(Mnist, ConvertsIdxFilesIntoDatumDatabases) {
  TempDir t;
  fs::create_directories(t / "idx");
  writeIdx(t / "idx", "train", 7, 4, 5);
  writeIdx(t / "idx", "t10k", 3, 4, 5, "."); // the original site's spelling works too
  auto r = convertMnist(t / "idx", t / "out");
  EXPECT_EQ(r.trainCount, 7u);
  EXPECT_EQ(r.testCount, 3u);
  EXPECT_EQ(r.trainPath, t / "out/mnist_train_lmdb");

  LmdbCursor c(LmdbEnv::openReadOnly(r.trainPath));
  ASSERT_EQ(c.size(), 7u);
  for (int i = 0; i < 7; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "%08d", i);
    EXPECT_EQ(c.key(), key);
    pb::Datum d;
    const std::string v = c.valueString();
    decodeDatum(v.data(), v.size(), key, d);
    EXPECT_EQ(d.channels(), 1);
    EXPECT_EQ(d.height(), 4);
    EXPECT_EQ(d.width(), 5);
    EXPECT_EQ(d.label(), (3 * i) % 10);
    for (int j = 0; j < 20; ++j)
      ASSERT_EQ(uint8_t(d.data()[size_t(j)]), uint8_t((i + j) % 256));
    c.next();
  }
  DatumDbSummary s = summarizeDatumDb(r.testPath);
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.firstKey, "00000000");
  EXPECT_EQ(s.lastKey, "00000002");
  EXPECT_EQ(s.labels, (std::map<int, uint64_t>{{0, 1}, {3, 1}, {6, 1}}));

  // The databases feed the Data layer (LeNet's scale).
  pb::LayerParameter p = dataParam("mnist_test_lmdb", 3, pb::TEST);
  p.mutable_transform_param()->set_scale(0.00390625f);
  DataRig rig(p, 1, t / "out");
  EXPECT_EQ(rig.data.shape(), (Shape{3, 1, 4, 5}));
  auto [data, label] = rig.next();
  EXPECT_EQ(label, (std::vector<float>{0, 3, 6}));
  EXPECT_FLOAT_EQ(data[21], 2.f / 256.f); // image 1, pixel 1

  // Existing outputs are kept unless replacing is asked for.
  EXPECT_TRUE(contains(errorOf([&] { convertMnist(t / "idx", t / "out"); }), "already exists"));
  writeIdx(t / "idx", "train", 9, 4, 5);
  EXPECT_EQ(convertMnist(t / "idx", t / "out", true).trainCount, 9u);
  EXPECT_EQ(LmdbEnv::openReadOnly(r.trainPath)->entries(), 9u);
}

TEST(Mnist, CorruptOrTruncatedInputsAreErrorsNamingTheFile) {
  TempDir t;
  const std::string dir = t / "idx";
  fs::create_directories(dir);
  writeIdx(dir, "train", 6, 3, 3);
  writeIdx(dir, "t10k", 2, 3, 3);
  const std::string images = dir + "/train-images-idx3-ubyte", labels = dir + "/train-labels-idx1-ubyte";
  auto convertError = [&] { return errorOf([&] { convertMnist(dir, t / "out"); }); };

  fs::resize_file(images, fs::file_size(images) - 1);
  std::string e = convertError();
  EXPECT_TRUE(contains(e, images) && contains(e, "truncated")) << e;
  fs::resize_file(images, 10); // not even a header
  e = convertError();
  EXPECT_TRUE(contains(e, images) && contains(e, "truncated")) << e;

  writeIdx(dir, "train", 6, 3, 3);
  { // the labels' magic number in the image file
    std::fstream f(images, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put(char(0x01));
  }
  e = convertError();
  EXPECT_TRUE(contains(e, images) && contains(e, "bad magic number 0x00000801")) << e;

  writeIdx(dir, "train", 6, 3, 3);
  std::ofstream(labels, std::ios::app | std::ios::binary) << "extra";
  e = convertError();
  EXPECT_TRUE(contains(e, labels)) << e;

  writeIdx(dir, "train", 6, 3, 3);
  {
    std::string lab;
    put32(lab, 0x801);
    put32(lab, 5);
    lab += std::string(5, '\1');
    std::ofstream(labels, std::ios::binary | std::ios::trunc) << lab;
  }
  e = convertError();
  EXPECT_TRUE(contains(e, "6 images") && contains(e, "5 labels")) << e;

  fs::remove(labels);
  std::ofstream(labels + ".gz") << "x";
  e = convertError();
  EXPECT_TRUE(contains(e, "gzip")) << e;
  fs::remove(labels + ".gz");
  e = convertError();
  EXPECT_TRUE(contains(e, "train-labels-idx1-ubyte") && contains(e, dir)) << e;

  EXPECT_FALSE(fs::exists(t / "out/mnist_train_lmdb")); // nothing half-written
}
