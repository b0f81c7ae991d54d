#include "config/check.h"

#include "config/resolve.h"

namespace af::config {
namespace {

// cfg-check judges files, not the caller's shell: the environment is left out.
std::optional<std::string> no_env(const std::string&) {
  return std::nullopt;
}

}  // namespace

std::vector<CheckResult> check_config_files(const std::vector<std::string>& files, bool merge,
                                            const std::vector<std::string>& sets) {
  std::vector<CheckResult> out;
  auto check = [&](std::vector<std::string> layer, std::string label) {
    CheckResult result;
    result.label = std::move(label);
    ResolveInput in;
    in.config_files = std::move(layer);
    in.getenv = no_env;
    in.sets = sets;
    resolve(in, result.findings);
    out.push_back(std::move(result));
  };
  if (merge) {
    std::string label;
    for (const auto& f : files) label += (label.empty() ? "" : " + ") + f;
    check(files, label);
  } else {
    for (const auto& f : files) check({f}, f);
  }
  return out;
}

}  // namespace af::config
