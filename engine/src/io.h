// Reading prototxt files (protobuf text format, full library) with errors that name the file,
// line and column; V1 nets (NetParameter.layers) are converted to the current form on load.
#pragma once

#include "lamina_net.pb.h"

#include <stdexcept>
#include <string>

namespace lamina::engine {

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error; // "file:line:col: message"
};

// Parses `path` into msg; unknown fields and malformed text throw ParseError.
void readTextProto(const std::string &path, google::protobuf::Message &msg);
void parseTextProto(const std::string &text, const std::string &nameForErrors, google::protobuf::Message &msg);
// Upgrades V1 layers (NetParameter.layers) in place into NetParameter.layer; throws ParseError naming
// the layer for a V1 type with no current equivalent.
void upgradeNet(lamina::net::NetParameter &net);
// True when the text parses as a SolverParameter (has solver fields), false for a NetParameter: how
// `lamina check FILE` tells them apart.
bool looksLikeSolver(const std::string &path);

} // namespace lamina::engine
