// cfg-check: validate config files and report every problem at once, with file:line:col and the key.
#include <iostream>

#include "config/check.h"
#include "config/cli.h"
#include "config/reference.h"
#include "core/error.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("cfg-check", [&] {
    ToolCli cli(
        std::nullopt, "cfg-check",
        "Check astforge config files (YAML or JSON): unknown keys, types, ranges, enums, duplicates,\n"
        "conflicting settings and deprecated keys, all reported at once. Exit 0 when valid (warnings\n"
        "allowed), 2 otherwise.");
    std::vector<std::string> files;
    std::string format = "text";
    bool reference = false, merge = false;
    cli.app().add_option("FILE", files, "Config files to check (each on its own unless --merge)");
    cli.app()
        .add_option("--format", format, "Output: text, or json (one finding per line)")
        ->check(CLI::IsMember({"text", "json"}));
    cli.app().add_flag("--merge", merge, "Check the files layered in order, as one config");
    cli.app().add_flag("--reference", reference, "Print the Markdown reference of every key and exit");
    if (auto code = cli.parse(argc, argv)) return *code;
    if (reference) {
      std::cout << reference_markdown();
      return 0;
    }
    files.insert(files.begin(), cli.config_files().begin(), cli.config_files().end());
    if (files.empty()) throw af::usage_error("no config file given", "cfg-check FILE... (or --reference)");
    if (cli.dry_run()) merge = true;
    auto results = check_config_files(files, merge, cli.resolve_input().sets);
    bool errors = false;
    for (const auto& r : results) {
      for (const auto& f : r.findings.all()) {
        if (format == "json") {
          std::cout << f.to_json().dump() << "\n";
        } else {
          std::cout << f.to_text() << "\n";
        }
      }
      errors = errors || r.findings.has_errors();
      std::cerr << r.label << ": "
                << (r.findings.has_errors() ? std::to_string(r.findings.error_count()) + " error(s)" : "ok");
      if (r.findings.warning_count()) std::cerr << ", " << r.findings.warning_count() << " warning(s)";
      std::cerr << "\n";
    }
    if (cli.dry_run() && !errors) {
      af::config::ResolveInput in = cli.resolve_input();
      in.config_files = files;
      af::config::Findings ignored;
      std::cout << resolve(in, ignored).nested().dump(2) << "\n";
    }
    return errors ? 2 : 0;
  });
}
