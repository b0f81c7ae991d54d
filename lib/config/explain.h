// Human-readable answers about one key: its value, where it came from, and who consumes it.
#pragma once
#include <string>

#include "config/resolve.h"

namespace af::config {

/// Multi-line text for `cfg-resolve --explain KEY`. Throws a usage error (with a suggestion) for an unknown
/// key.
std::string explain_key(const Resolved& resolved, const std::string& key);

/// The value of a key as a shell script wants it: strings bare, lists one item per line, the rest as JSON.
std::string value_for_shell(const Resolved& resolved, const std::string& key);

}  // namespace af::config
