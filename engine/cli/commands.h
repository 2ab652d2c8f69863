// The `lamina` command line: each subcommand lives in its own cli/cmd_<name>.cpp and registers
// itself; main.cpp parses `lamina <command> [args]` and dispatches.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace lamina::cli {

// Parsed arguments: `--name value` options (a bare `--flag` maps to "1"), the rest positional.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  bool has(const std::string &k) const { return options.count(k) != 0; }
  std::string get(const std::string &k, const std::string &def = "") const {
    auto it = options.find(k);
    return it == options.end() ? def : it->second;
  }
};

struct Command {
  std::function<int(const Args &)> run; // exit status
  std::string usage;                    // one or more lines for `lamina help`
  std::vector<std::string> flags;       // options that take no value (e.g. "quiet")
};
std::map<std::string, Command> &commands();

struct CommandRegistrar {
  CommandRegistrar(const char *name, Command c) { commands()[name] = std::move(c); }
};
#define LAMINA_REGISTER_COMMAND(NAME, ...)                                                                             \
  static ::lamina::cli::CommandRegistrar command_registrar_##NAME(#NAME, ::lamina::cli::Command{__VA_ARGS__})

} // namespace lamina::cli
