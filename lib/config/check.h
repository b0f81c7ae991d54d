// cfg-check's work: validating config files and reporting every finding at once.
#pragma once
#include <string>
#include <vector>

#include "config/findings.h"

namespace af::config {

/// The findings for one checked unit (one file, or all files layered with --merge).
struct CheckResult {
  std::string label;
  Findings findings;
};

/// Checks each file on its own (on top of the defaults and `sets`), or all of them layered in order when
/// `merge`. The environment is left out: cfg-check judges files, not the caller's shell.
std::vector<CheckResult> check_config_files(const std::vector<std::string>& files, bool merge,
                                            const std::vector<std::string>& sets = {});

}  // namespace af::config
