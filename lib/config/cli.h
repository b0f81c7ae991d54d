// Command-line binding shared by every tool: --config, --set, --dry-run, and one flag per consumed key,
// generated from the field table (kebab-case of the key name).
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/field.h"
#include "config/findings.h"
#include "config/resolve.h"

namespace af::config {

/// The flag texts a field answers to ("--learning-rate", plus aliases and --no-X for booleans).
std::vector<std::string> flag_spellings(const Field& field);

/// A tool's command line. Tools add their own options and subcommands through app().
class ToolCli {
 public:
  /// `tool` is nullopt for cfg-check and cfg-resolve, which get --config/--set but no per-key flags.
  ToolCli(std::optional<Tool> tool, std::string name, std::string description);
  CLI::App& app() { return app_; }

  /// Parses argv. Returns an exit code when the tool should stop now (0 after --help, 2 on a usage error,
  /// with the message printed), or nullopt to go on.
  std::optional<int> parse(int argc, const char* const* argv);

  /// The resolution input built from the parsed command line (files, --set, this tool's flags).
  ResolveInput resolve_input() const;

  /// Resolves the configuration and prints every finding on stderr. Throws a usage error (exit 2) when any
  /// is an error; the returned warnings are the warning texts.
  Resolved resolve(std::vector<std::string>* warnings = nullptr) const;

  bool dry_run() const { return dry_run_; }
  const std::vector<std::string>& config_files() const { return configs_; }

  /// The common start of a tool: resolve (findings on stderr, errors thrown), apply run.log_level, and trace
  /// every key the tool's code reads from here on (config/read_trace.h).
  Resolved resolve_for_run() const;

  /// What --dry-run prints, and returns the exit code: the settings the tool's consumers built from the
  /// config (`settings`, the same structs a real run acts on), the source of every key they read
  /// ("sources"), and of every key those values were built from by "${...}" references ("referenced").
  int print_dry_run(const Resolved& resolved, const nlohmann::json& settings) const;

  /// The text of run_config.json for this run: every value with its source, and resolve's warnings.
  std::string run_config(const Resolved& resolved) const;

 private:
  struct KeyOption {
    const Field* field;
    CLI::Option* option;
    CLI::Option* negation;  // --no-X for booleans
  };

  CLI::App app_;
  std::optional<Tool> tool_;
  std::string name_;
  std::vector<std::string> configs_;
  std::vector<std::string> sets_;
  bool dry_run_ = false;
  std::vector<KeyOption> key_options_;
  std::vector<std::pair<const RemovedKey*, CLI::Option*>> removed_options_;
  mutable std::vector<std::string> warnings_;
};

/// Sets logging from the resolved run.log_level.
void apply_logging(const Resolved& resolved);

/// Runs a tool body: sets the log program name, maps af::Error (and unexpected exceptions) to exit codes
/// with their message and hint on stderr.
int run_main(std::string_view program, const std::function<int()>& body);

}  // namespace af::config
