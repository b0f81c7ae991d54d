// The Markdown reference of every config key, generated from the field table (configs/REFERENCE.md).
#pragma once
#include <string>

namespace af::config {

/// Markdown: per section, every key with type, default, allowed values, flag, env, consumers and meaning.
std::string reference_markdown();

}  // namespace af::config
