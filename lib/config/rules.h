// Settings derived from what the user set, and the rules that involve more than one key.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "config/findings.h"

namespace af::config {

class Resolved;

/// Applies the precedence rules between related keys: an explicit warmup_ratio turns the default
/// warmup_steps off; an explicit num_epochs turns the default max_steps off (max_steps then is null).
void derive_settings(Resolved& r, Findings& findings);

/// Mutually exclusive settings, settings that have no effect, and settings that would fail later.
void check_cross_field_rules(const Resolved& r, Findings& findings,
                             const std::function<std::optional<std::string>(const std::string&)>& getenv);

}  // namespace af::config
