// `lamina <command> [args]`: the training engine's command line (see `lamina help`).
#include "engine/cli/commands.h"

#include <cstdio>
#include <exception>

namespace lamina::cli {

std::map<std::string, Command> &commands() {
  static std::map<std::string, Command> c;
  return c;
}

namespace {
int help() {
  std::printf("usage: lamina <command> [options]\n\ncommands:\n");
  for (const auto &kv : commands())
    std::printf("  %s\n", kv.second.usage.c_str());
  return 0;
}
} // namespace

} // namespace lamina::cli

int main(int argc, char **argv) {
  using namespace lamina::cli;
  if (argc < 2 || std::string(argv[1]) == "help" || std::string(argv[1]) == "--help")
    return help();
  auto it = commands().find(argv[1]);
  if (it == commands().end()) {
    std::fprintf(stderr, "lamina: unknown command '%s' (lamina help lists them)\n", argv[1]);
    return 2;
  }
  Args a;
  for (int i = 2; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0 && s.size() > 2) {
      std::string k = s.substr(2), v = "1";
      if (auto eq = k.find('='); eq != std::string::npos) {
        v = k.substr(eq + 1);
        k = k.substr(0, eq);
      } else {
        bool flag = false;
        for (const auto &f : it->second.flags)
          flag = flag || f == k;
        if (!flag) {
          if (i + 1 >= argc) {
            std::fprintf(stderr, "lamina %s: option --%s needs a value\n", argv[1], k.c_str());
            return 2;
          }
          v = argv[++i];
        }
      }
      a.options[k] = v;
    } else {
      a.positional.push_back(s);
    }
  }
  try {
    return it->second.run(a);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "lamina %s: %s\n", argv[1], e.what());
    return 1;
  }
}
