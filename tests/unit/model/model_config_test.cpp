// config.json: the fields of gemma-3-270m, older and multimodal layouts, and clear errors.
#include "support/torch_doctest.h"

#include "core/error.h"
#include "model/config.h"
#include "support/temp_dir.h"

using af::model::ModelConfig;
using af::model::parse_model_config;
using nlohmann::json;

namespace {
// gemma-3-270m's config.json, as published (text fields).
json gemma3_270m() {
  json types = json::array();
  for (int i = 0; i < 18; ++i) types.push_back((i + 1) % 6 == 0 ? "full_attention" : "sliding_attention");
  return {{"architectures", {"Gemma3ForCausalLM"}},
          {"model_type", "gemma3_text"},
          {"hidden_size", 640},
          {"intermediate_size", 2048},
          {"num_hidden_layers", 18},
          {"num_attention_heads", 4},
          {"num_key_value_heads", 1},
          {"head_dim", 256},
          {"vocab_size", 262144},
          {"sliding_window", 512},
          {"rope_theta", 1000000.0},
          {"rope_local_base_freq", 10000.0},
          {"query_pre_attn_scalar", 256},
          {"layer_types", types},
          {"rms_norm_eps", 1e-06},
          {"hidden_activation", "gelu_pytorch_tanh"},
          {"final_logit_softcapping", nullptr},
          {"attn_logit_softcapping", nullptr},
          {"attention_bias", false},
          {"max_position_embeddings", 32768},
          {"rope_scaling", nullptr},
          {"eos_token_id", {1, 106}},
          {"pad_token_id", 0},
          {"bos_token_id", 2},
          {"torch_dtype", "bfloat16"},
          {"use_cache", true}};
}
}  // namespace

TEST_CASE("gemma-3-270m's config.json reads every field") {
  ModelConfig c = parse_model_config(gemma3_270m(), "config.json");
  CHECK(c.hidden_size == 640);
  CHECK(c.intermediate_size == 2048);
  CHECK(c.num_hidden_layers == 18);
  CHECK(c.num_attention_heads == 4);
  CHECK(c.num_key_value_heads == 1);
  CHECK(c.kv_groups() == 4);
  CHECK(c.head_dim == 256);
  CHECK(c.vocab_size == 262144);
  CHECK(c.sliding_window == 512);
  CHECK(c.rope_theta == 1e6);
  CHECK(c.rope_local_base_freq == 1e4);
  CHECK(c.query_pre_attn_scalar == 256);
  CHECK(c.rms_norm_eps == 1e-6);
  CHECK(!c.final_logit_softcapping);
  CHECK(!c.attn_logit_softcapping);
  CHECK(c.tie_word_embeddings);
  CHECK(c.eos_token_ids == std::vector<int64_t>{1, 106});
  CHECK(c.torch_dtype == "bfloat16");
  std::vector<int> full;
  for (size_t i = 0; i < c.sliding_layers.size(); ++i)
    if (!c.sliding_layers[i]) full.push_back(static_cast<int>(i));
  CHECK(full == std::vector<int>{5, 11, 17});
  // 268,098,176 parameters: the published size of gemma-3-270m.
  CHECK(c.parameter_count() == 268098176);
}

TEST_CASE("older configs give layer kinds by sliding_window_pattern") {
  json doc = gemma3_270m();
  doc.erase("layer_types");
  doc["sliding_window_pattern"] = 6;
  ModelConfig c = parse_model_config(doc, "config.json");
  CHECK(c.sliding_layers == parse_model_config(gemma3_270m(), "x").sliding_layers);
}

TEST_CASE("a multimodal gemma3 config uses its text_config") {
  json text = gemma3_270m();
  text.erase("model_type");
  json doc = {{"model_type", "gemma3"}, {"text_config", text}, {"vision_config", json::object()}};
  ModelConfig c = parse_model_config(doc, "config.json");
  CHECK(c.hidden_size == 640);
  CHECK(c.num_hidden_layers == 18);
}

TEST_CASE("config.json round-trips through model_config_json, keeping unknown keys") {
  ModelConfig c = parse_model_config(gemma3_270m(), "config.json");
  json out = af::model::model_config_json(c);
  CHECK(out["use_cache"] == true);
  ModelConfig again = parse_model_config(out, "again");
  CHECK(again.sliding_layers == c.sliding_layers);
  CHECK(again.eos_token_ids == c.eos_token_ids);
  CHECK(again.parameter_count() == c.parameter_count());
}

TEST_CASE("config mistakes are usage errors naming the key") {
  auto message = [](json doc) {
    try {
      parse_model_config(doc, "m/config.json");
    } catch (const af::Error& e) {
      CHECK(e.code() == af::ExitCode::Usage);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  json doc = gemma3_270m();
  doc["model_type"] = "llama";
  CHECK(message(doc).find("model_type 'llama' is not supported") != std::string::npos);
  doc = gemma3_270m();
  doc["hidden_size"] = "640";
  CHECK(message(doc) == "m/config.json: key 'hidden_size' must be an integer");
  doc = gemma3_270m();
  doc["num_key_value_heads"] = 3;
  CHECK(message(doc).find("key 'num_key_value_heads' must divide num_attention_heads (4)") !=
        std::string::npos);
  doc = gemma3_270m();
  doc["layer_types"] = json::array({"full_attention"});
  CHECK(message(doc).find("key 'layer_types' must list one type per layer (18)") != std::string::npos);
  doc = gemma3_270m();
  doc["hidden_activation"] = "relu";
  CHECK(message(doc).find("'relu' is not supported") != std::string::npos);
  doc = gemma3_270m();
  doc["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 8}};
  CHECK(message(doc).find("key 'rope_scaling'") != std::string::npos);
}

TEST_CASE("a folder without config.json is named in the error") {
  af::test::TempDir dir;
  CHECK_THROWS_WITH_AS(af::model::load_model_config(dir.path()), doctest::Contains("no config.json"),
                       af::Error);
}
