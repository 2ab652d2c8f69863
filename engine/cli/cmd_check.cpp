// `lamina check FILE`: parse a net or a solver, build every net it names on the CPU (all blob shapes
// inferred) and print the layer tables, or the error (exit status 1).
#include "engine/cli/commands.h"
#include "engine/cli/net_files.h"
#include "engine/src/net.h"

#include <cstdio>

namespace lamina::cli {

namespace {

using engine::Net;

// Builds one net and prints its table; false (and the error on stderr) when it cannot be built.
bool checkOne(const NetSpec &spec, engine::Context &ctx) {
  std::string stages;
  for (const auto &s : spec.state.stage())
    stages += (stages.empty() ? "" : ",") + s;
  std::printf("== %s: phase %s%s%s%s\n", spec.label.c_str(), pb::Phase_Name(spec.state.phase()).c_str(),
              stages.empty() ? "" : ", stages ", stages.c_str(),
              spec.state.level() ? (", level " + std::to_string(spec.state.level())).c_str() : "");
  try {
    std::vector<std::string> st(spec.state.stage().begin(), spec.state.stage().end());
    Net net(spec.param, spec.state.phase(), ctx, st, spec.state.level());
    std::printf("%s\n", net.describe().c_str());
    return true;
  } catch (const std::exception &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n\n", e.what());
    return false;
  }
}

bool usesPhaseRules(const pb::NetParameter &n) {
  for (const auto &l : n.layer())
    for (const auto &rules : {&l.include(), &l.exclude()})
      for (const auto &r : *rules)
        if (r.has_phase())
          return true;
  return false;
}

int runCheck(const Args &a) {
  if (a.positional.size() != 1) {
    std::fprintf(stderr, "usage: %s\n", commands()["check"].usage.c_str());
    return 2;
  }
  const std::string file = a.positional[0];
  engine::Context ctx("cpu");
  ctx.paths.root = a.get("root", ".");
  ctx.paths.dataRoot = a.get("data-root", ".");
  const std::vector<std::string> extraStages = splitList(a.get("stage"));

  std::vector<NetSpec> specs;
  try {
    if (engine::looksLikeSolver(file)) {
      pb::SolverParameter s;
      engine::readTextProto(file, s);
      std::printf("%s: solver (type %s, base_lr %g, max_iter %d)\n", file.c_str(), s.type().c_str(),
                  double(s.base_lr()), s.max_iter());
      specs = solverNets(file, s, ctx.paths);
    } else {
      pb::NetParameter n = readNet(file);
      std::printf("%s: net '%s'\n", file.c_str(), n.name().c_str());
      std::vector<pb::Phase> phases;
      if (a.has("phase"))
        phases = {parsePhase(a.get("phase"))};
      else if (usesPhaseRules(n))
        phases = {pb::TRAIN, pb::TEST};
      else
        phases = {pb::TEST};
      for (pb::Phase ph : phases) {
        NetSpec spec;
        spec.label = "net '" + n.name() + "'";
        spec.param = n;
        spec.state = n.state();
        spec.state.set_phase(ph);
        specs.push_back(spec);
      }
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  int failures = 0;
  for (auto &spec : specs) {
    if (a.has("phase") && spec.state.phase() != parsePhase(a.get("phase")))
      continue;
    for (const auto &s : extraStages)
      spec.state.add_stage(s);
    failures += checkOne(spec, ctx) ? 0 : 1;
  }
  if (failures)
    std::fprintf(stderr, "%d of %zu nets failed\n", failures, specs.size());
  return failures ? 1 : 0;
}

} // namespace

LAMINA_REGISTER_COMMAND(check, runCheck,
                        "check FILE [--phase train|test] [--stage S[,S...]] [--root R] [--data-root D]\n"
                        "      parse a net or solver, build each net it names on the CPU, print the layer\n"
                        "      table (blob shapes, learnable parameters) or the error",
                        {});

} // namespace lamina::cli
