#include "model/config.h"

#include <filesystem>

#include "core/error.h"
#include "core/files.h"

namespace af::model {
namespace {

using nlohmann::json;

class Reader {
 public:
  Reader(const json& obj, std::string source) : obj_(obj), source_(std::move(source)) {}

  void integer(const char* key, int64_t& out, int64_t min = 1) const {
    if (!has(key)) return;
    const json& v = obj_.at(key);
    if (!v.is_number_integer()) fail(key, "must be an integer");
    out = v.get<int64_t>();
    if (out < min) fail(key, "must be at least " + std::to_string(min) + ", got " + std::to_string(out));
  }
  void number(const char* key, double& out) const {
    if (!has(key)) return;
    const json& v = obj_.at(key);
    if (!v.is_number()) fail(key, "must be a number");
    out = v.get<double>();
  }
  void optional_number(const char* key, std::optional<double>& out) const {
    if (!obj_.contains(key) || obj_.at(key).is_null()) return;
    double v = 0;
    number(key, v);
    out = v;
  }
  void boolean(const char* key, bool& out) const {
    if (!has(key)) return;
    if (!obj_.at(key).is_boolean()) fail(key, "must be true or false");
    out = obj_.at(key).get<bool>();
  }
  void string(const char* key, std::string& out) const {
    if (!has(key)) return;
    if (!obj_.at(key).is_string()) fail(key, "must be a string");
    out = obj_.at(key).get<std::string>();
  }
  bool has(const char* key) const { return obj_.contains(key) && !obj_.at(key).is_null(); }
  const json& at(const char* key) const { return obj_.at(key); }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw usage_error(source_ + ": key '" + key + "' " + what);
  }

 private:
  const json& obj_;
  std::string source_;
};

}  // namespace

int64_t ModelConfig::parameter_count() const {
  int64_t q = num_attention_heads * head_dim, kv = num_key_value_heads * head_dim;
  int64_t attn = hidden_size * q * 2 + hidden_size * kv * 2 + 2 * head_dim;
  int64_t mlp = 3 * hidden_size * intermediate_size;
  int64_t per_layer = attn + mlp + 4 * hidden_size;
  int64_t embed = vocab_size * hidden_size * (tie_word_embeddings ? 1 : 2);
  return embed + num_hidden_layers * per_layer + hidden_size;
}

std::vector<bool> sliding_layers_from_pattern(int64_t num_layers, int64_t pattern) {
  std::vector<bool> sliding(static_cast<size_t>(num_layers));
  for (int64_t i = 0; i < num_layers; ++i)
    sliding[static_cast<size_t>(i)] = pattern <= 0 || (i + 1) % pattern != 0;
  return sliding;
}

ModelConfig parse_model_config(const json& doc, const std::string& source) {
  if (!doc.is_object()) throw usage_error(source + ": expected a JSON object");
  std::string type = doc.value("model_type", "");
  const json* text = &doc;
  if (type == "gemma3" && doc.contains("text_config") && doc.at("text_config").is_object()) {
    text = &doc.at("text_config");  // multimodal checkpoint: the text decoder's own config
  } else if (type != "gemma3_text") {
    throw usage_error(
        source + ": model_type '" + type + "' is not supported",
        "astforge runs Gemma 3 text models (model_type gemma3_text, or gemma3 with a text_config)");
  }
  ModelConfig c;
  Reader r(*text, source);
  r.integer("vocab_size", c.vocab_size);
  r.integer("hidden_size", c.hidden_size);
  r.integer("intermediate_size", c.intermediate_size);
  r.integer("num_hidden_layers", c.num_hidden_layers);
  r.integer("num_attention_heads", c.num_attention_heads);
  r.integer("num_key_value_heads", c.num_key_value_heads);
  r.integer("head_dim", c.head_dim);
  r.integer("max_position_embeddings", c.max_position_embeddings);
  r.integer("sliding_window", c.sliding_window);
  r.number("rms_norm_eps", c.rms_norm_eps);
  r.number("rope_theta", c.rope_theta);
  r.number("rope_local_base_freq", c.rope_local_base_freq);
  r.number("query_pre_attn_scalar", c.query_pre_attn_scalar);
  r.number("initializer_range", c.initializer_range);
  r.optional_number("final_logit_softcapping", c.final_logit_softcapping);
  r.optional_number("attn_logit_softcapping", c.attn_logit_softcapping);
  r.string("hidden_activation", c.hidden_activation);
  r.boolean("attention_bias", c.attention_bias);
  r.boolean("tie_word_embeddings", c.tie_word_embeddings);
  if (doc.contains("tie_word_embeddings") && text != &doc)
    Reader(doc, source).boolean("tie_word_embeddings", c.tie_word_embeddings);
  r.integer("pad_token_id", c.pad_token_id, 0);
  r.integer("bos_token_id", c.bos_token_id, 0);
  r.string("torch_dtype", c.torch_dtype);
  if (r.has("eos_token_id")) {
    const json& eos = r.at("eos_token_id");
    c.eos_token_ids.clear();
    if (eos.is_number_integer()) {
      c.eos_token_ids.push_back(eos.get<int64_t>());
    } else if (eos.is_array()) {
      for (const auto& e : eos) {
        if (!e.is_number_integer()) r.fail("eos_token_id", "must be an integer or a list of integers");
        c.eos_token_ids.push_back(e.get<int64_t>());
      }
    } else {
      r.fail("eos_token_id", "must be an integer or a list of integers");
    }
  }
  if (r.has("rope_scaling")) {
    const json& rs = r.at("rope_scaling");
    std::string kind = rs.is_object() ? rs.value("rope_type", rs.value("type", "")) : "";
    if (kind != "linear" || !rs.contains("factor") || !rs.at("factor").is_number())
      r.fail("rope_scaling",
             "must be {\"rope_type\": \"linear\", \"factor\": N} (other RoPE scalings are not built)");
    c.rope_scaling_factor = rs.at("factor").get<double>();
  }
  if (c.hidden_activation != "gelu_pytorch_tanh" && c.hidden_activation != "gelu_tanh")
    r.fail("hidden_activation",
           "'" + c.hidden_activation + "' is not supported (Gemma 3 uses gelu_pytorch_tanh)");
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    r.fail("num_key_value_heads",
           "must divide num_attention_heads (" + std::to_string(c.num_attention_heads) + ")");
  if (c.rms_norm_eps <= 0) r.fail("rms_norm_eps", "must be positive");
  if (c.query_pre_attn_scalar <= 0) r.fail("query_pre_attn_scalar", "must be positive");
  if (c.head_dim % 2 != 0) r.fail("head_dim", "must be even (RoPE rotates pairs)");
  if (c.torch_dtype != "float32" && c.torch_dtype != "bfloat16" && c.torch_dtype != "float16")
    r.fail("torch_dtype", "must be float32, bfloat16 or float16");

  if (r.has("layer_types")) {
    const json& types = r.at("layer_types");
    if (!types.is_array() || static_cast<int64_t>(types.size()) != c.num_hidden_layers)
      r.fail("layer_types", "must list one type per layer (" + std::to_string(c.num_hidden_layers) + ")");
    for (const auto& t : types) {
      std::string s = t.is_string() ? t.get<std::string>() : "";
      if (s != "sliding_attention" && s != "full_attention")
        r.fail("layer_types", "entries must be \"sliding_attention\" or \"full_attention\"");
      c.sliding_layers.push_back(s == "sliding_attention");
    }
  } else {
    int64_t pattern = 6;
    r.integer("sliding_window_pattern", pattern);
    c.sliding_layers = sliding_layers_from_pattern(c.num_hidden_layers, pattern);
  }
  c.source = *text;
  return c;
}

ModelConfig load_model_config(const std::string& dir) {
  std::string path = (std::filesystem::path(dir) / "config.json").string();
  if (!std::filesystem::exists(path))
    throw usage_error(dir + ": not a model folder (no config.json)",
                      "point at a Hugging Face model folder (config.json, model.safetensors, tokenizer)");
  json doc = json::parse(read_file_limited(path, 16u << 20, "config.json"), nullptr, false);
  if (doc.is_discarded()) throw usage_error(path + ": not valid JSON");
  return parse_model_config(doc, path);
}

json model_config_json(const ModelConfig& c) {
  json j = c.source.is_object() ? c.source : json::object();
  j["architectures"] = json::array({"Gemma3ForCausalLM"});
  j["model_type"] = "gemma3_text";
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["sliding_window"] = c.sliding_window;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["rope_local_base_freq"] = c.rope_local_base_freq;
  j["rope_scaling"] = c.rope_scaling_factor == 1.0
                          ? json(nullptr)
                          : json{{"rope_type", "linear"}, {"factor", c.rope_scaling_factor}};
  j["query_pre_attn_scalar"] = c.query_pre_attn_scalar;
  j["initializer_range"] = c.initializer_range;
  j["final_logit_softcapping"] = c.final_logit_softcapping ? json(*c.final_logit_softcapping) : json(nullptr);
  j["attn_logit_softcapping"] = c.attn_logit_softcapping ? json(*c.attn_logit_softcapping) : json(nullptr);
  j["hidden_activation"] = c.hidden_activation;
  j["attention_bias"] = c.attention_bias;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  json types = json::array();
  for (bool s : c.sliding_layers) types.push_back(s ? "sliding_attention" : "full_attention");
  j["layer_types"] = types;
  j.erase("sliding_window_pattern");  // layer_types is the one source now
  j["pad_token_id"] = c.pad_token_id;
  j["bos_token_id"] = c.bos_token_id;
  j["eos_token_id"] = c.eos_token_ids.size() == 1 ? json(c.eos_token_ids[0]) : json(c.eos_token_ids);
  j["torch_dtype"] = c.torch_dtype;
  return j;
}

}  // namespace af::model
