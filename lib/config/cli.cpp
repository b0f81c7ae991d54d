#include "config/cli.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "config/read_trace.h"
#include "config/table.h"
#include "config/value_check.h"
#include "core/error.h"
#include "core/log.h"

namespace af::config {
namespace {

using json = nlohmann::json;

std::string help_text(const Field& f) {
  std::string text = f.description;
  std::string def =
      f.default_value.is_string() ? f.default_value.get<std::string>() : describe_value(f.default_value);
  text += " [" + describe_expected(f) + "; default: " + def + "]";
  if (!f.env.empty()) text += " [env: " + f.env + "]";
  return text;
}

}  // namespace

std::vector<std::string> flag_spellings(const Field& f) {
  std::vector<std::string> out = {"--" + f.flag};
  for (const auto& a : f.flag_aliases) out.push_back("--" + a);
  if (f.type == FieldType::Bool) out.push_back("--no-" + f.flag);
  return out;
}

ToolCli::ToolCli(std::optional<Tool> tool, std::string name, std::string description)
    : app_(std::move(description), name), tool_(tool), name_(std::move(name)) {
  app_.set_help_flag("-h,--help", "Print this help and exit");
  app_.add_option("-c,--config", configs_,
                  "Config file (YAML, JSON, or a resolved run_config.json); repeat to layer files in order")
      ->type_name("FILE")
      ->take_all()
      ->expected(1);
  app_.add_option("--set", sets_, "Set any key: --set section.key=value (repeatable; tool flags win)")
      ->type_name("KEY=VALUE")
      ->take_all()
      ->expected(1);
  app_.add_flag("--dry-run", dry_run_, "Print the effective settings as JSON on stdout and do nothing else");
  if (!tool_) return;
  for (const Field* f : fields_for(*tool_)) {
    std::string names = "--" + f->flag;
    for (const auto& a : f->flag_aliases) names += ",--" + a;
    CLI::Option* opt = app_.add_option(names)->description(help_text(*f));
    opt->group(f->path.substr(0, f->path.rfind('.')));
    opt->multi_option_policy(f->is_list() ? CLI::MultiOptionPolicy::TakeAll
                                          : CLI::MultiOptionPolicy::TakeLast);
    CLI::Option* neg = nullptr;
    if (f->type == FieldType::Bool) {
      opt->expected(0, 1)->type_name("[BOOL]");
      neg = app_.add_flag("--no-" + f->flag)->description("Same as --" + f->flag + "=false");
      neg->group(opt->get_group());
      opt->excludes(neg);
    } else {
      opt->expected(1)->type_name(f->is_list() ? "A,B,..." : "VALUE");
    }
    key_options_.push_back({f, opt, neg});
  }
  // A removed key's flag still parses, so old scripts run; resolving it warns that the value is ignored.
  for (const auto& gone : removed_keys()) {
    if (!has_tool(gone.tools, *tool_)) continue;
    std::string flag = gone.path.substr(gone.path.rfind('.') + 1);
    std::replace(flag.begin(), flag.end(), '_', '-');
    CLI::Option* opt = app_.add_option("--" + flag)->description("Removed: " + gone.reason)->expected(1);
    opt->group("removed");
    removed_options_.push_back({&gone, opt});
  }
}

std::optional<int> ToolCli::parse(int argc, const char* const* argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app_.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << name_ << ": error: " << e.what() << "\n  hint: run " << name_ << " --help for the flags\n";
    return static_cast<int>(ExitCode::Usage);
  }
  return std::nullopt;
}

ResolveInput ToolCli::resolve_input() const {
  ResolveInput in;
  in.config_files = configs_;
  in.sets = sets_;
  for (const auto& k : key_options_) {
    if (k.negation && k.negation->count() > 0) {
      in.flags.push_back({k.field->path, "false", "--no-" + k.field->flag});
      continue;
    }
    if (k.option->count() == 0) continue;
    const auto& results = k.option->results();
    std::string typed = k.option->get_name();  // the canonical spelling
    if (k.field->type == FieldType::Bool) {
      std::string text = results.empty() || results.back().empty() ? "true" : results.back();
      in.flags.push_back({k.field->path, text, typed});
    } else if (k.field->is_list()) {
      std::string joined;
      for (const auto& r : results) joined += (joined.empty() ? "" : ",") + r;
      in.flags.push_back({k.field->path, joined, typed});
    } else {
      in.flags.push_back({k.field->path, results.back(), typed});
    }
  }
  for (const auto& [gone, option] : removed_options_)
    if (option->count() > 0) in.flags.push_back({gone->path, option->results().back(), option->get_name()});
  return in;
}

Resolved ToolCli::resolve(std::vector<std::string>* warnings) const {
  Findings findings;
  Resolved r = config::resolve(resolve_input(), findings);
  std::vector<std::string> warn_texts;
  for (const auto& f : findings.all()) {
    if (f.severity == Severity::Warning) warn_texts.push_back(f.to_text());
    std::cerr << name_ << ": " << f.to_text() << "\n";
  }
  if (findings.has_errors()) {
    throw usage_error(std::to_string(findings.error_count()) + " configuration error(s); nothing was run",
                      "fix the errors above (cfg-check FILE checks a config without running anything)");
  }
  if (warnings) *warnings = std::move(warn_texts);
  return r;
}

Resolved ToolCli::resolve_for_run() const {
  Resolved resolved = resolve(&warnings_);
  if (tool_) resolved.trace_reads_as(*tool_);
  apply_logging(resolved);
  return resolved;
}

int ToolCli::print_dry_run(const Resolved& resolved, const json& settings) const {
  json sources = json::object(), referenced = json::object();
  for (const auto& [key, kind] : reads_so_far())
    (kind == ReadKind::Direct ? sources : referenced)[key] = resolved.origin(key).describe();
  json out = {{"tool", name_},
              {"settings", settings},
              {"sources", sources},
              {"referenced", referenced},
              {"warnings", warnings_}};
  std::cout << out.dump(2) << "\n";
  return 0;
}

std::string ToolCli::run_config(const Resolved& resolved) const {
  return resolved.run_config(warnings_).dump(2) + "\n";
}

void apply_logging(const Resolved& resolved) {
  set_log_level(parse_log_level(resolved.get_string("run.log_level")));
}

// A tool started by a pipeline runner dies with it: a runner killed with SIGKILL runs no trap, and its
// children would go on as orphans writing into the folders a re-run then uses. The runner names itself in
// ASTFORGE_RUNNER_PID; when that is our parent, the kernel sends us SIGTERM when it goes (we stop at a clean
// point, as on Ctrl-C).
namespace {
void die_with_runner() {
  const char* runner = std::getenv("ASTFORGE_RUNNER_PID");
  if (runner == nullptr || std::to_string(::getppid()) != runner) return;
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (std::to_string(::getppid()) != runner) ::raise(SIGTERM);  // it went before prctl took effect
}
}  // namespace

int run_main(std::string_view program, const std::function<int()>& body) {
  set_log_program(program);
  die_with_runner();
  try {
    return body();
  } catch (const Error& e) {
    log_error(e.describe());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    log_error("unexpected failure: ", e.what());
    return static_cast<int>(ExitCode::Runtime);
  }
}

}  // namespace af::config
