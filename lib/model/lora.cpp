#include "model/lora.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <filesystem>
#include <regex>

#include "core/error.h"
#include "core/files.h"
#include "model/model_folder.h"
#include "model/weight_files.h"

namespace af::model {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kPeftPrefix = "base_model.model.";

std::string last_component(const std::string& name) {
  return name.substr(name.rfind('.') + 1);
}

}  // namespace

double LoraSettings::scaling() const {
  return use_rslora ? lora_alpha / std::sqrt(static_cast<double>(r)) : lora_alpha / static_cast<double>(r);
}

bool LoraSettings::targets(const std::string& module_name) const {
  if (!target_regex.empty()) return std::regex_match(module_name, std::regex(target_regex));
  std::string leaf = last_component(module_name);
  for (const auto& t : target_modules)
    if (t == "all-linear" || t == leaf || t == module_name) return true;
  return false;
}

LoraSettings parse_adapter_config(const json& doc, const std::string& source) {
  auto fail = [&](const std::string& key, const std::string& what) -> void {
    throw usage_error(source + ": key '" + key + "' " + what);
  };
  if (!doc.is_object()) throw usage_error(source + ": expected a JSON object");
  if (doc.value("peft_type", "LORA") != "LORA") fail("peft_type", "must be \"LORA\"");
  LoraSettings s;
  if (!doc.contains("r") || !doc["r"].is_number_integer() || doc["r"].get<int64_t>() < 1)
    fail("r", "must be a positive integer");
  s.r = doc["r"].get<int64_t>();
  if (doc.contains("lora_alpha")) {
    if (!doc["lora_alpha"].is_number()) fail("lora_alpha", "must be a number");
    s.lora_alpha = doc["lora_alpha"].get<double>();
  }
  if (doc.contains("lora_dropout") && doc["lora_dropout"].is_number())
    s.lora_dropout = doc["lora_dropout"].get<double>();
  const json& targets = doc.value("target_modules", json(nullptr));
  if (targets.is_string()) {
    std::string t = targets.get<std::string>();
    if (t == "all-linear") {
      s.target_modules = {"all-linear"};
    } else {
      s.target_modules.clear();
      s.target_regex = t;
    }
  } else if (targets.is_array()) {
    s.target_modules.clear();
    for (const auto& t : targets) {
      if (!t.is_string()) fail("target_modules", "must list module names");
      s.target_modules.push_back(t.get<std::string>());
    }
  } else {
    fail("target_modules", "must be a list of module names or a regex string");
  }
  s.bias = doc.value("bias", "none");
  if (s.bias != "none" && s.bias != "all" && s.bias != "lora_only")
    fail("bias", "must be none, all or lora_only");
  s.use_rslora = doc.value("use_rslora", false);
  const json& init = doc.value("init_lora_weights", json(true));
  s.init_lora_weights = init.is_boolean() ? (init.get<bool>() ? "true" : "false") : init.get<std::string>();
  if (doc.contains("modules_to_save") && doc["modules_to_save"].is_array())
    for (const auto& m : doc["modules_to_save"]) s.modules_to_save.push_back(m.get<std::string>());
  s.base_model_name_or_path = doc.value("base_model_name_or_path", json("")).is_string()
                                  ? doc.value("base_model_name_or_path", "")
                                  : "";
  if (doc.value("fan_in_fan_out", false))
    fail("fan_in_fan_out", "is for Conv1D layers; Gemma 3 uses Linear layers");
  if (doc.value("use_dora", false)) fail("use_dora", "DoRA adapters are not supported");
  for (const char* k : {"rank_pattern", "alpha_pattern"})
    if (doc.contains(k) && doc[k].is_object() && !doc[k].empty())
      fail(k, "per-layer ranks are not supported");
  for (const char* k : {"layers_to_transform", "layers_pattern"})
    if (doc.contains(k) && !doc[k].is_null()) fail(k, "adapters on a subset of layers are not supported");
  return s;
}

json adapter_config_json(const LoraSettings& s) {
  json targets = s.target_regex.empty() ? json(s.target_modules) : json(s.target_regex);
  if (s.target_regex.empty() && s.target_modules == std::vector<std::string>{"all-linear"})
    targets = "all-linear";
  json init = s.init_lora_weights == "true"    ? json(true)
              : s.init_lora_weights == "false" ? json(false)
                                               : json(s.init_lora_weights);
  return {{"peft_type", "LORA"},
          {"task_type", "CAUSAL_LM"},
          {"base_model_name_or_path", s.base_model_name_or_path},
          {"r", s.r},
          {"lora_alpha", s.lora_alpha},
          {"lora_dropout", s.lora_dropout},
          {"target_modules", targets},
          {"bias", s.bias},
          {"use_rslora", s.use_rslora},
          {"init_lora_weights", init},
          {"modules_to_save", s.modules_to_save.empty() ? json(nullptr) : json(s.modules_to_save)},
          {"fan_in_fan_out", false},
          {"use_dora", false},
          {"inference_mode", true},
          {"rank_pattern", json::object()},
          {"alpha_pattern", json::object()},
          {"layers_to_transform", nullptr},
          {"layers_pattern", nullptr},
          {"revision", nullptr}};
}

size_t add_lora(Gemma3& model, const LoraSettings& s, uint64_t seed) {
  at::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto f32 = at::TensorOptions().dtype(at::kFloat);
  size_t count = 0;
  for (auto& [name, linear] : model.named_linears()) {
    if (!s.targets(name)) continue;
    int64_t out = linear->weight.size(0), in = linear->weight.size(1);
    auto pair = std::make_unique<LoraPair>();
    pair->a = at::empty({s.r, in}, f32);
    pair->b = at::zeros({out, s.r}, f32);
    // Kaiming-uniform with a = sqrt(5) (nn.Linear's default) is uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    if (s.init_lora_weights == "gaussian") {
      pair->a.normal_(0.0, 1.0 / static_cast<double>(s.r), gen);
    } else {
      double bound = 1.0 / std::sqrt(static_cast<double>(in));
      pair->a.uniform_(-bound, bound, gen);
    }
    if (s.init_lora_weights == "false") {
      double bound = 1.0 / std::sqrt(static_cast<double>(s.r));
      pair->b.uniform_(-bound, bound, gen);
    }
    pair->a = pair->a.to(model.options().device());
    pair->b = pair->b.to(model.options().device());
    pair->scaling = s.scaling();
    pair->dropout = s.lora_dropout;
    linear->lora = std::move(pair);
    ++count;
  }
  if (count == 0) throw usage_error("training.lora.target_modules matches no linear layer of the model");
  return count;
}

std::vector<NamedTensor> adapter_tensors(Gemma3& model, const LoraSettings& s) {
  std::vector<NamedTensor> out;
  for (auto& [name, linear] : model.named_linears()) {
    if (linear->lora) {
      out.push_back({kPeftPrefix + name + ".lora_A.weight", &linear->lora->a});
      out.push_back({kPeftPrefix + name + ".lora_B.weight", &linear->lora->b});
    }
    bool bias = linear->bias.defined() && (s.bias == "all" || (s.bias == "lora_only" && linear->lora));
    if (bias) out.push_back({kPeftPrefix + name + ".bias", &linear->bias});
  }
  for (const auto& m : s.modules_to_save) {
    std::string weight = m == "lm_head" ? "lm_head.weight" : "model." + m + ".weight";
    for (auto& nt : model.named_weights())
      if (nt.name == weight ||
          (m == "lm_head" && nt.name == "model.embed_tokens.weight" && model.config().tie_word_embeddings))
        out.push_back({kPeftPrefix + weight, nt.tensor});
  }
  return out;
}

void save_adapter(Gemma3& model, const LoraSettings& s, const std::string& dir) {
  fs::create_directories(dir);
  std::vector<at::Tensor> keep;
  std::vector<TensorBytes> tensors;
  for (auto& nt : adapter_tensors(model, s)) {
    keep.push_back(nt.tensor->detach().to(at::kCPU).contiguous());
    tensors.push_back(tensor_bytes(nt.name, keep.back()));
  }
  write_safetensors((fs::path(dir) / "adapter_model.safetensors").string(), tensors);
  write_file_atomic((fs::path(dir) / "adapter_config.json").string(), adapter_config_json(s).dump(2) + "\n");
}

void load_adapter_weights(Gemma3& model, const LoraSettings& s, const std::string& dir) {
  WeightFiles files = WeightFiles::open(dir, "adapter_model");
  at::NoGradGuard no_grad;
  for (auto& nt : adapter_tensors(model, s)) {
    FoundTensor found = files.find(nt.name);
    if (found.info == nullptr) {
      // PEFT files from older versions carry the adapter name: ...lora_A.default.weight.
      std::string named = nt.name;
      auto dot = named.rfind(".weight");
      if (dot != std::string::npos) named.insert(dot, ".default");
      found = files.find(named);
    }
    if (found.info == nullptr)
      throw runtime_error(dir + "/adapter_model.safetensors: no tensor '" + nt.name + "'",
                          "the adapter was trained for another model or with other target_modules");
    at::Tensor stored = read_tensor(found);
    if (stored.sizes() != nt.tensor->sizes())
      throw runtime_error(dir + "/adapter_model.safetensors: tensor '" + nt.name + "' has shape " +
                              c10::str(stored.sizes()) + ", the model needs " + c10::str(nt.tensor->sizes()),
                          "the adapter was trained for another base model");
    nt.tensor->copy_(stored);
  }
}

LoraSettings load_adapter(Gemma3& model, const std::string& dir) {
  fs::path config_path = fs::path(dir) / "adapter_config.json";
  if (!fs::exists(config_path))
    throw usage_error(dir + ": not an adapter folder (no adapter_config.json)",
                      "point at a checkpoint folder written by train-sft (or by PEFT)");
  json doc =
      json::parse(read_file_limited(config_path.string(), 4u << 20, "adapter_config.json"), nullptr, false);
  if (doc.is_discarded()) throw usage_error(config_path.string() + ": not valid JSON");
  LoraSettings s = parse_adapter_config(doc, config_path.string());
  if (!fs::exists(fs::path(dir) / "adapter_model.safetensors"))
    throw usage_error(
        dir + ": no adapter_model.safetensors",
        fs::exists(fs::path(dir) / "adapter_model.bin")
            ? "convert adapter_model.bin to safetensors (PEFT: save_pretrained(safe_serialization=True))"
            : "");
  add_lora(model, s, 0);
  load_adapter_weights(model, s, dir);
  return s;
}

void merge_lora(Gemma3& model) {
  for (auto& [name, linear] : model.named_linears()) linear->merge_lora();
}

}  // namespace af::model
