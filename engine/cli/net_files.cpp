// Net files and the nets a solver names, for `lamina check` and `lamina time`.
#include "engine/cli/net_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>

namespace lamina::cli {

namespace fs = std::filesystem;

std::vector<std::string> splitList(const std::string &s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos)
      end = s.size();
    if (end > start)
      out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string resolveNetPath(const std::string &p, const std::string &solverPath, const engine::PathMap &paths) {
  if (!p.empty() && p[0] == '/')
    return p;
  if (paths.root != "." && !paths.root.empty())
    return paths.proto(p);
  if (fs::exists(p))
    return p;
  std::error_code ec;
  fs::path dir = fs::absolute(solverPath, ec).parent_path();
  for (; !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / p))
      return (dir / p).string();
    if (dir == dir.parent_path())
      break;
  }
  return p; // reading it reports "cannot open" with the name as written
}

pb::NetParameter readNet(const std::string &path) {
  pb::NetParameter n;
  engine::readTextProto(path, n);
  engine::upgradeNet(n);
  return n;
}

std::vector<NetSpec> solverNets(const std::string &solverPath, const pb::SolverParameter &s,
                                const engine::PathMap &paths) {
  auto load = [&](const std::string &p) { return readNet(resolveNetPath(p, solverPath, paths)); };
  auto upgraded = [](pb::NetParameter n) {
    engine::upgradeNet(n);
    return n;
  };
  std::vector<NetSpec> out;
  const int trainSources =
      int(s.has_train_net_param()) + int(s.has_train_net()) + int(s.has_net_param()) + int(s.has_net());
  if (trainSources != 1)
    throw std::runtime_error(solverPath + ": give exactly one of train_net_param, train_net, net_param, net (got " +
                             std::to_string(trainSources) + ")");
  NetSpec train;
  if (s.has_train_net_param()) {
    train.label = "train net (train_net_param)";
    train.param = upgraded(s.train_net_param());
  } else if (s.has_train_net()) {
    train.label = "train net (" + s.train_net() + ")";
    train.param = load(s.train_net());
  } else if (s.has_net_param()) {
    train.label = "train net (net_param)";
    train.param = upgraded(s.net_param());
  } else {
    train.label = "train net (" + s.net() + ")";
    train.param = load(s.net());
  }
  train.state.set_phase(pb::TRAIN);
  train.state.MergeFrom(train.param.state());
  train.state.MergeFrom(s.train_state());
  out.push_back(train);

  const bool generic = s.has_net() || s.has_net_param();
  const int specified = s.test_net_param_size() + s.test_net_size();
  if (generic ? s.test_iter_size() < specified : s.test_iter_size() != specified)
    throw std::runtime_error(solverPath + ": test_iter has " + std::to_string(s.test_iter_size()) + " values for " +
                             std::to_string(specified) + " test nets");
  const int instances = generic ? s.test_iter_size() : specified;
  if (s.test_state_size() && s.test_state_size() != instances)
    throw std::runtime_error(solverPath + ": " + std::to_string(s.test_state_size()) + " test_state entries for " +
                             std::to_string(instances) + " test nets");
  for (int i = 0; i < instances; ++i) {
    NetSpec t;
    const std::string num = "test net #" + std::to_string(i);
    if (i < s.test_net_param_size()) {
      t.label = num + " (test_net_param)";
      t.param = upgraded(s.test_net_param(i));
    } else if (i < specified) {
      const std::string &f = s.test_net(i - s.test_net_param_size());
      t.label = num + " (" + f + ")";
      t.param = load(f);
    } else if (s.has_net_param()) {
      t.label = num + " (net_param)";
      t.param = upgraded(s.net_param());
    } else {
      t.label = num + " (" + s.net() + ")";
      t.param = load(s.net());
    }
    t.state.set_phase(pb::TEST);
    t.state.MergeFrom(t.param.state());
    if (s.test_state_size())
      t.state.MergeFrom(s.test_state(i));
    out.push_back(t);
  }
  return out;
}

pb::Phase parsePhase(const std::string &s) {
  std::string l = s;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (l == "train")
    return pb::TRAIN;
  if (l == "test")
    return pb::TEST;
  throw std::runtime_error("unknown phase '" + s + "' (train or test)");
}

} // namespace lamina::cli
