// Runs a real astforge tool as a child process and captures its exit code, stdout and stderr.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace af::test {

struct ToolRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs build/bin/<tool> with `args`, in the source directory, with `env` added to (or, for empty values,
/// removed from) the environment.
ToolRun run_tool(const std::string& tool, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env = {});

}  // namespace af::test
