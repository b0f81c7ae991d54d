#include "serve/settings.h"

#include "config/run_settings.h"

namespace af::serve {

using nlohmann::json;

ServeSettings serve_settings(const config::Resolved& cfg) {
  ServeSettings s;
  s.model = student::base_model_from(cfg, "serve.model");
  s.adapter = config::optional_string(cfg, "serve.adapter").value_or("");
  s.bind = cfg.get_string("serve.bind");
  s.port = static_cast<int>(cfg.get_int("serve.port"));
  s.port_file = config::optional_string(cfg, "serve.port_file");
  s.name = cfg.get_string("serve.name");
  s.max_batch = static_cast<size_t>(cfg.get_int("serve.max_batch"));
  s.batch_window_ms = static_cast<int>(cfg.get_int("serve.batch_window_ms"));
  s.generation = student::sampling_settings(cfg);
  s.generation.seed = config::run_seed(cfg);
  s.dtype = cfg.get_string("evaluation.dtype");
  s.key_order = student::key_order_setting(cfg);
  s.runtime = student::runtime_settings(cfg);
  return s;
}

json ServeSettings::to_json() const {
  const model::GenerationSettings& g = generation;
  return {{"model", model.to_json()},
          {"adapter", adapter.empty() ? json(nullptr) : json(adapter)},
          {"listen", bind + ":" + (port == 0 ? std::string("<a free port>") : std::to_string(port))},
          {"port_file", port_file ? json(*port_file) : json(nullptr)},
          {"name", name},
          {"endpoints",
           {"POST /api/chat", "POST /api/generate", "POST /v1/chat/completions", "GET /api/tags",
            "GET /api/version", "GET /v1/models"}},
          {"batching", {{"max_batch", max_batch}, {"window_ms", batch_window_ms}}},
          {"answer_defaults",
           {{"max_new_tokens", g.max_new_tokens},
            {"sampling", student::sampling_json(g)},
            {"repetition_penalty", g.repetition_penalty},
            {"seed", g.seed},
            {"stop", "the tokenizer's <end_of_turn> and <eos>"},
            {"overridden_by",
             "a request's options (temperature, top_p, top_k, seed, num_predict / max_tokens up to "
             "max_new_tokens, repeat_penalty)"}}},
          {"constraint",
           {{"when",
             "a request's format (a JSON Schema, or \"json\") or response_format (json_schema, "
             "json_object)"},
            {"key_order", student::key_order_name(key_order)}}},
          {"dtype", dtype},
          {"runtime", runtime.to_json()}};
}

}  // namespace af::serve
