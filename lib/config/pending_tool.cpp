#include "config/pending_tool.h"

#include <iostream>

#include "config/cli.h"
#include "core/error.h"

namespace af::config {

int run_pending_tool(int argc, const char* const* argv, Tool tool, const std::string& description,
                     const std::string& pending) {
  std::string name(tool_name(tool));
  return run_main(name, [&] {
    ToolCli cli(tool, name, description);
    if (auto code = cli.parse(argc, argv)) return *code;
    if (!cli.resolve_for_run()) return 0;
    throw runtime_error(name + " is not implemented yet (" + pending + "); only --help and --dry-run work",
                        "see README.md for what runs today");
  });
}

}  // namespace af::config
