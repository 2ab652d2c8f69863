// The oneDNN peer (built only when oneDNN is found; linked by lamina-bench, never by the library).
// Two figures per problem:
//  - plain: the caller's memory is plain NCHW/KCRS (or NHWC/KRSC) in and out, as with Lamina's API.
//    The faster of (a) oneDNN's pick for its own blocked layouts with the reorders in and out
//    counted and (b) a primitive created directly on the plain layouts (skipped when oneDNN only
//    has its reference code for that), so the peer is given its best plain-memory showing.
//  - native: oneDNN's pick on its own blocked layouts, reorders excluded (for information).
#include "peer.h"

#include <dnnl.hpp>
#include <omp.h>

#include <cstring>
#include <stdexcept>
#include <unordered_map>

namespace bench {
namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;

struct Operand {
  int arg;                                               // DNNL_ARG_*
  memory::dims dims;                                     // logical dims
  tag plain;                                             // the caller's memory order
  const std::vector<std::vector<float>> *sets = nullptr; // inputs only
};

class OnednnPeer final : public Peer {
public:
  OnednnPeer() : eng_(dnnl::engine::kind::cpu, 0), strm_(eng_) {}
  const char *name() const override { return "onednn"; }
  std::string version() const override {
    const dnnl_version_t *v = dnnl_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
           (v->cpu_runtime == DNNL_RUNTIME_OMP ? " (OpenMP)" : "");
  }
  void setThreads(int threads) override {
    if (threads > 0)
      omp_set_num_threads(threads);
  }

  PeerResult run(const ConvSpec &s, Dir dir, const HostData &data, const TimingOptions &t) override {
    PeerResult r;
    try {
      // Other types: no timing (oneDNN 2.6 has no f64 convolution, no bf16/f16 one on AVX2), but the
      // f32 result on the same (already rounded) inputs still checks Lamina's output.
      if (s.dtype != LAMINA_DATA_FLOAT) {
        r = runF32(s, dir, data, t, false);
        r.ok = false;
        r.why = "peer times float data only (output still compared, in f32)";
        return r;
      }
      return runF32(s, dir, data, t, true);
    } catch (const dnnl::error &e) {
      r.why = std::string("oneDNN: ") + e.what();
      return r;
    }
  }

private:
  dnnl::engine eng_;
  dnnl::stream strm_;

  PeerResult runF32(const ConvSpec &s, Dir dir, const HostData &data, const TimingOptions &t, bool timed) {
    const int sd = s.spatialDims;
    memory::dims xd = {s.N, s.C}, yd = {s.N, s.K}, wd;
    if (s.G > 1)
      wd = {s.G, s.K / s.G, s.C / s.G};
    else
      wd = {s.K, s.C};
    memory::dims strides, dil, padL, padR;
    for (int i = 3 - sd; i < 3; ++i) {
      xd.push_back(s.in[i]);
      yd.push_back(s.out[i]);
      wd.push_back(s.filt[i]);
      strides.push_back(s.stride[i]);
      dil.push_back(s.dil[i] - 1); // oneDNN counts dilation from 0
      padL.push_back(s.pad[i]);
      // Enough on the right for oneDNN's output-size check (it rounds down as Lamina does).
      padR.push_back((s.out[i] - 1) * s.stride[i] + (s.filt[i] - 1) * s.dil[i] + 1 - s.in[i] - s.pad[i]);
    }
    tag xt, wt;
    if (sd == 1) {
      xt = s.nhwc ? tag::nwc : tag::ncw;
      wt = s.G > 1 ? (s.nhwc ? tag::gowi : tag::goiw) : (s.nhwc ? tag::owi : tag::oiw);
    } else if (sd == 2) {
      xt = s.nhwc ? tag::nhwc : tag::nchw;
      wt = s.G > 1 ? (s.nhwc ? tag::gohwi : tag::goihw) : (s.nhwc ? tag::ohwi : tag::oihw);
    } else {
      xt = s.nhwc ? tag::ndhwc : tag::ncdhw;
      wt = s.G > 1 ? (s.nhwc ? tag::godhwi : tag::goidhw) : (s.nhwc ? tag::odhwi : tag::oidhw);
    }
    const auto f32 = memory::data_type::f32;
    auto anyMd = [&](const memory::dims &d) { return memory::desc(d, f32, tag::any); };
    auto plainMd = [&](const memory::dims &d, tag tg) { return memory::desc(d, f32, tg); };

    // Forward descriptor (also the hint for the backward ones).
    const auto algo = dnnl::algorithm::convolution_direct;
    auto fwdDesc = [&](bool any) {
      return dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, any ? anyMd(xd) : plainMd(xd, xt),
                                             any ? anyMd(wd) : plainMd(wd, wt), any ? anyMd(yd) : plainMd(yd, xt),
                                             strides, dil, padL, padR);
    };
    dnnl::convolution_forward::primitive_desc fwdAny(fwdDesc(true), eng_);

    Operand in1, in2, out;
    auto makePd = [&](bool any) -> dnnl::primitive_desc {
      switch (dir) {
      case Dir::Fwd:
        return any ? dnnl::primitive_desc(fwdAny) : dnnl::convolution_forward::primitive_desc(fwdDesc(false), eng_);
      case Dir::BwdData: {
        dnnl::convolution_backward_data::desc d(algo, any ? anyMd(xd) : plainMd(xd, xt),
                                                any ? anyMd(wd) : plainMd(wd, wt), any ? anyMd(yd) : plainMd(yd, xt),
                                                strides, dil, padL, padR);
        return dnnl::convolution_backward_data::primitive_desc(d, eng_, fwdAny);
      }
      case Dir::BwdFilter: {
        dnnl::convolution_backward_weights::desc d(algo, any ? anyMd(xd) : plainMd(xd, xt),
                                                   any ? anyMd(wd) : plainMd(wd, wt), any ? anyMd(yd) : plainMd(yd, xt),
                                                   strides, dil, padL, padR);
        return dnnl::convolution_backward_weights::primitive_desc(d, eng_, fwdAny);
      }
      }
      throw std::logic_error("direction");
    };
    switch (dir) {
    case Dir::Fwd:
      in1 = {DNNL_ARG_SRC, xd, xt, &data.x};
      in2 = {DNNL_ARG_WEIGHTS, wd, wt, &data.w};
      out = {DNNL_ARG_DST, yd, xt};
      break;
    case Dir::BwdData:
      in1 = {DNNL_ARG_DIFF_DST, yd, xt, &data.dy};
      in2 = {DNNL_ARG_WEIGHTS, wd, wt, &data.w};
      out = {DNNL_ARG_DIFF_SRC, xd, xt};
      break;
    case Dir::BwdFilter:
      in1 = {DNNL_ARG_SRC, xd, xt, &data.x};
      in2 = {DNNL_ARG_DIFF_DST, yd, xt, &data.dy};
      out = {DNNL_ARG_DIFF_WEIGHTS, wd, wt};
      break;
    }

    // The caller's plain memories, one per input set.
    auto userMem = [&](const Operand &o, size_t set) {
      memory m(plainMd(o.dims, o.plain), eng_);
      const auto &v = (*o.sets)[set];
      if (m.get_desc().get_size() != v.size() * sizeof(float))
        throw std::logic_error("peer: input size");
      std::memcpy(m.get_data_handle(), v.data(), v.size() * sizeof(float));
      return m;
    };
    const size_t sets = in1.sets->size();
    std::vector<memory> u1, u2;
    for (size_t i = 0; i < sets; ++i) {
      u1.push_back(userMem(in1, i));
      u2.push_back(userMem(in2, std::min(i, in2.sets->size() - 1)));
    }
    memory uOut(plainMd(out.dims, out.plain), eng_);

    PeerResult r;
    r.ok = true;
    // (a) blocked layouts, reorders counted (plain) and excluded (native).
    {
      auto pd = makePd(true);
      dnnl::primitive prim(pd);
      memory::desc m1 = pd.query_md(dnnl::query::exec_arg_md, in1.arg);
      memory::desc m2 = pd.query_md(dnnl::query::exec_arg_md, in2.arg);
      memory::desc mo = pd.query_md(dnnl::query::exec_arg_md, out.arg);
      memory::desc ms = pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_SCRATCHPAD);
      bool re1 = m1 != u1[0].get_desc(), re2 = m2 != u2[0].get_desc(), reo = mo != uOut.get_desc();
      memory b1 = re1 ? memory(m1, eng_) : memory(), b2 = re2 ? memory(m2, eng_) : memory();
      memory bo = reo ? memory(mo, eng_) : uOut;
      memory scratch = ms.get_size() ? memory(ms, eng_) : memory();
      auto exec = [&](const memory &a1, const memory &a2, const memory &o) {
        std::unordered_map<int, memory> args = {{in1.arg, a1}, {in2.arg, a2}, {out.arg, o}};
        if (ms.get_size())
          args[DNNL_ARG_SCRATCHPAD] = scratch;
        prim.execute(strm_, args);
      };
      auto plainRun = [&](int i) {
        size_t k = size_t(i) % sets;
        if (re1)
          dnnl::reorder(u1[k], b1).execute(strm_, u1[k], b1);
        if (re2)
          dnnl::reorder(u2[k], b2).execute(strm_, u2[k], b2);
        exec(re1 ? b1 : u1[k], re2 ? b2 : u2[k], bo);
        if (reo)
          dnnl::reorder(bo, uOut).execute(strm_, bo, uOut);
        strm_.wait();
      };
      if (timed)
        r.plainMs = timeMedianMs(t, plainRun);
      plainRun(0); // the output of set 0 for the comparison
      const float *o = static_cast<const float *>(uOut.get_data_handle());
      r.out.assign(o, o + uOut.get_desc().get_size() / sizeof(float));
      r.impl = pd.impl_info_str();

      if (!timed)
        return r;
      // Native: every input set already in oneDNN's layout.
      std::vector<memory> n1, n2;
      for (size_t i = 0; i < sets; ++i) {
        n1.push_back(re1 ? memory(m1, eng_) : u1[i]);
        n2.push_back(re2 ? memory(m2, eng_) : u2[i]);
        if (re1)
          dnnl::reorder(u1[i], n1[i]).execute(strm_, u1[i], n1[i]);
        if (re2)
          dnnl::reorder(u2[i], n2[i]).execute(strm_, u2[i], n2[i]);
      }
      strm_.wait();
      r.nativeMs = timeMedianMs(t, [&](int i) {
        size_t k = size_t(i) % sets;
        exec(n1[k], n2[k], bo);
        strm_.wait();
      });
    }
    // (b) a primitive on the plain layouts themselves, unless it would be oneDNN's reference code.
    try {
      auto pd = makePd(false);
      std::string impl = pd.impl_info_str();
      if (impl.rfind("ref", 0) != 0) {
        dnnl::primitive prim(pd);
        memory::desc ms = pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_SCRATCHPAD);
        memory scratch = ms.get_size() ? memory(ms, eng_) : memory();
        double ms2 = timeMedianMs(t, [&](int i) {
          size_t k = size_t(i) % sets;
          std::unordered_map<int, memory> args = {{in1.arg, u1[k]}, {in2.arg, u2[k]}, {out.arg, uOut}};
          if (ms.get_size())
            args[DNNL_ARG_SCRATCHPAD] = scratch;
          prim.execute(strm_, args);
          strm_.wait();
        });
        if (ms2 < r.plainMs) {
          r.plainMs = ms2;
          r.impl += " | plain:" + impl;
        }
      }
    } catch (const dnnl::error &) {
      // No implementation on plain layouts: (a) stands.
    }
    return r;
  }
};

} // namespace

std::unique_ptr<Peer> makeOnednnPeer() { return std::make_unique<OnednnPeer>(); }

} // namespace bench
