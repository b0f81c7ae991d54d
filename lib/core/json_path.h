// Dotted paths into JSON documents ("data.epoch", "training.learning_rate"): how checkpoint checks and resume
// checks name the fields they read.
#pragma once
#include <nlohmann/json.hpp>
#include <string_view>

namespace af {

/// The value at `path` (object keys joined by '.'), or nullptr when some key on the way is missing.
const nlohmann::json* find_dotted(const nlohmann::json& doc, std::string_view path);

}  // namespace af
