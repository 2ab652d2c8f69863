// Shared by `lamina check` and `lamina time`: reading a net file, the nets a solver names (with
// their NetState), Caffe-relative path resolution and comma lists.
#pragma once

#include "engine/src/context.h"
#include "engine/src/io.h"

#include <string>
#include <vector>

namespace lamina::cli {

namespace pb = ::lamina::net;

// One net to build: where it came from, its definition and its state (phase, level, stages).
struct NetSpec {
  std::string label; // "train net (examples/mnist/lenet_train_test.prototxt)", "test net #0 ..."
  pb::NetParameter param;
  pb::NetState state;
};

std::vector<std::string> splitList(const std::string &s, char sep = ',');

// A prototxt path named inside a solver: under `paths.root` when given; otherwise (root ".") as is
// when it exists, else against the solver's directory and its parents (Caffe's paths are relative
// to a Caffe checkout that holds the solver).
std::string resolveNetPath(const std::string &p, const std::string &solverPath, const engine::PathMap &paths);

// A net file, read and upgraded (V1 layers, legacy inputs).
pb::NetParameter readNet(const std::string &path);

// The train net and every test net of a solver (Caffe's rules: train_net_param, train_net,
// net_param or net; test_net_param, test_net, then generic instances of net/net_param up to
// test_iter's count; test_state per test net). Throws ParseError or std::runtime_error.
std::vector<NetSpec> solverNets(const std::string &solverPath, const pb::SolverParameter &s,
                                const engine::PathMap &paths);

pb::Phase parsePhase(const std::string &s); // "train" / "test" (any case)

} // namespace lamina::cli
