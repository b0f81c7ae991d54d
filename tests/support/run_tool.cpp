#include "support/run_tool.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "support/temp_dir.h"

extern char** environ;

namespace af::test {

pid_t spawn_tool(const std::string& tool, const std::vector<std::string>& args, const std::string& out_path,
                 const std::string& err_path, const std::map<std::string, std::string>& env,
                 const std::string& cwd) {
  std::string exe = tool.rfind('/', 0) == 0 ? tool : std::string(ASTFORGE_BIN_DIR) + "/" + tool;
  std::vector<std::string> argv_store = {exe};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  // The environment of this process, minus what the test overrides, plus the overrides.
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    std::string key = kv.substr(0, kv.find('='));
    if (!env.count(key)) env_store.push_back(kv);
  }
  for (const auto& [k, v] : env)
    if (!v.empty()) env_store.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.empty() ? ASTFORGE_SOURCE_DIR : cwd.c_str());
  pid_t pid = 0;
  int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + exe + ": " + std::strerror(rc));
  return pid;
}

ToolRun run_tool(const std::string& tool, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env, const std::string& cwd) {
  TempDir capture;
  std::string out_path = capture.file("stdout"), err_path = capture.file("stderr");
  pid_t pid = spawn_tool(tool, args, out_path, err_path, env, cwd);
  int status = 0;
  waitpid(pid, &status, 0);
  ToolRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = slurp(out_path);
  run.err = slurp(err_path);
  return run;
}

}  // namespace af::test
