// cfg-resolve: merge defaults < files < environment < --set, validate, and write run_config.json.
#include <iostream>

#include "config/cli.h"
#include "config/explain.h"
#include "core/files.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("cfg-resolve", [&] {
    ToolCli cli(
        std::nullopt, "cfg-resolve",
        "Resolve the configuration (defaults < files < LLM_MODEL/OLLAMA_HOST < --set) and write\n"
        "run_config.json: every value with its source, the field-table and astforge versions. Secrets\n"
        "are redacted.");
    std::string output, explain, get;
    cli.app().add_option(
        "-o,--output", output,
        "Where to write run_config.json (default: <run.output_root>/run_config.json; - for stdout)");
    cli.app().add_option("--explain", explain, "Print one key's value, source and consumers, and exit");
    cli.app().add_option("--get", get, "Print one key's value for shell scripts, and exit");
    if (auto code = cli.parse(argc, argv)) return *code;
    std::vector<std::string> warnings;
    Resolved resolved = cli.resolve(&warnings);
    if (!explain.empty()) {
      std::cout << explain_key(resolved, explain);
      return 0;
    }
    if (!get.empty()) {
      std::cout << value_for_shell(resolved, get) << "\n";
      return 0;
    }
    std::string text = resolved.run_config(warnings).dump(2) + "\n";
    if (cli.dry_run() || output == "-") {
      std::cout << text;
      return 0;
    }
    if (output.empty()) output = resolved.get_string("run.output_root") + "/run_config.json";
    af::write_file_atomic(output, text);
    std::cerr << "cfg-resolve: wrote " << output << "\n";
    return 0;
  });
}
