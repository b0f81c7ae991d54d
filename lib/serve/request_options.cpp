#include "serve/request_options.h"

#include "core/error.h"

namespace af::serve {

using nlohmann::json;

namespace {

// A number in [low, high] (above low when `above_low`); `range` says so in words.
double number_option(const json& options, const char* key, double low, double high, bool above_low,
                     const char* range) {
  const json& v = options[key];
  const bool in_range = v.is_number() && (above_low ? v.get<double>() > low : v.get<double>() >= low) &&
                        v.get<double>() <= high;
  if (!in_range)
    throw usage_error(std::string("option ") + key + " must be a number " + range + " (found " + v.dump() +
                      ")");
  return v.get<double>();
}

int64_t integer_option(const json& options, const char* key) {
  const json& v = options[key];
  if (!v.is_number_integer())
    throw usage_error(std::string("option ") + key + " must be an integer (found " + v.dump() + ")");
  return v.get<int64_t>();
}

}  // namespace

model::GenerationSettings request_generation(const model::GenerationSettings& defaults, const json& options) {
  model::GenerationSettings g = defaults;
  if (!options.is_object()) {
    if (options.is_null()) return g;
    throw usage_error("options must be a JSON object (found " + options.dump() + ")");
  }
  auto has = [&](const char* key) { return options.contains(key) && !options[key].is_null(); };
  if (has("temperature")) {
    double t = number_option(options, "temperature", 0, 5, false, "from 0 (greedy) to 5");
    g.do_sample = t > 0;
    if (t > 0) g.temperature = t;
  }
  if (has("top_p")) g.top_p = number_option(options, "top_p", 0, 1, true, "above 0, at most 1");
  if (has("top_k")) {
    int64_t k = integer_option(options, "top_k");
    if (k < 0) throw usage_error("option top_k must be 0 (off) or more (found " + std::to_string(k) + ")");
    g.top_k = k;
  }
  if (has("repeat_penalty"))
    g.repetition_penalty = number_option(options, "repeat_penalty", 0, 10, true, "above 0, at most 10");
  if (has("seed")) {
    int64_t seed = integer_option(options, "seed");
    if (seed < 0) throw usage_error("option seed must be 0 or more (found " + std::to_string(seed) + ")");
    g.seed = static_cast<uint64_t>(seed);
  }
  for (const char* key : {"num_predict", "max_tokens", "max_completion_tokens"}) {
    if (!has(key)) continue;
    int64_t n = integer_option(options, key);
    if (n == 0 || n < -2)
      throw usage_error(std::string("option ") + key + " must be 1 or more, or -1 for serve's limit (found " +
                        std::to_string(n) + ")");
    if (n > 0) g.max_new_tokens = std::min(n, defaults.max_new_tokens);
  }
  return g;
}

bool same_batch(const model::GenerationSettings& a, const model::GenerationSettings& b) {
  return a.max_new_tokens == b.max_new_tokens && a.do_sample == b.do_sample &&
         a.temperature == b.temperature && a.top_p == b.top_p && a.top_k == b.top_k &&
         a.repetition_penalty == b.repetition_penalty;
}

}  // namespace af::serve
