// Runs a real astforge tool as a child process and captures its exit code, stdout and stderr.
#pragma once
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace af::test {

struct ToolRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Starts build/bin/<tool> (or `tool` itself when it is an absolute path, e.g. a pipelines/ script) with
/// `args` in the source directory (or `cwd`), stdin from /dev/null and stdout/stderr into the given files,
/// with `env` added to (or, for empty values, removed from) the environment. Returns its pid.
pid_t spawn_tool(const std::string& tool, const std::vector<std::string>& args, const std::string& out_path,
                 const std::string& err_path, const std::map<std::string, std::string>& env = {},
                 const std::string& cwd = "");

/// Runs build/bin/<tool> with `args`, in the source directory (or `cwd`), with `env` added to (or, for empty
/// values, removed from) the environment.
ToolRun run_tool(const std::string& tool, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env = {}, const std::string& cwd = "");

}  // namespace af::test
