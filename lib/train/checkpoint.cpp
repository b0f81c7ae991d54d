#include "train/checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <filesystem>

#include "core/atomic_dir.h"
#include "core/error.h"
#include "core/files.h"
#include "core/json_path.h"
#include "core/log.h"
#include "model/model_folder.h"
#include "model/weight_files.h"

namespace af::train {
namespace fs = std::filesystem;

std::string checkpoint_name(int64_t step) {
  return "checkpoint-" + std::to_string(step);
}

int64_t checkpoint_step(const std::string& name) {
  const std::string prefix = "checkpoint-";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) return -1;
  std::string digits = name.substr(prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
  if (digits.size() > 18) return -1;  // beyond any step count (and int64): not a folder astforge wrote
  return std::stoll(digits);
}

namespace {

void write_weights(const std::string& dir, const CheckpointParts& parts) {
  if (parts.lora->has_value())
    model::save_adapter(*parts.model, **parts.lora, dir);
  else
    model::save_model(*parts.model, dir, at::kFloat, "");
}

std::string to_hex(const at::Tensor& bytes) {
  static const char* digits = "0123456789abcdef";
  at::Tensor b = bytes.contiguous();
  const auto* p = b.data_ptr<uint8_t>();
  std::string out;
  for (int64_t i = 0; i < b.numel(); ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

at::Tensor from_hex(const std::string& hex) {
  at::Tensor out = at::empty({static_cast<int64_t>(hex.size() / 2)}, at::TensorOptions().dtype(at::kByte));
  auto* p = out.data_ptr<uint8_t>();
  auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    p[i / 2] = static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  return out;
}

}  // namespace

void save_checkpoint(const std::string& dir, const CheckpointParts& parts,
                     const nlohmann::json& trainer_state) {
  write_dir_atomic(dir, [&](const std::string& tmp) {
    write_weights(tmp, parts);
    parts.optimizer->save(tmp);
    at::Tensor rng = at::detail::getDefaultCPUGenerator().get_state();
    write_file_atomic((fs::path(tmp) / "rng_state.json").string(),
                      nlohmann::json{{"cpu", to_hex(rng)}}.dump() + "\n");
    // trainer_state.json last: its presence marks the folder complete.
    write_file_atomic((fs::path(tmp) / "trainer_state.json").string(), trainer_state.dump(2) + "\n");
  });
}

void save_final(const std::string& dir, const CheckpointParts& parts) {
  write_dir_atomic(dir, [&](const std::string& tmp) {
    write_weights(tmp, parts);
    if (!parts.tokenizer_dir.empty()) model::copy_tokenizer_files(parts.tokenizer_dir, tmp);
  });
}

namespace {

// The JSON document in `file`, or a description of what is wrong with it.
std::optional<nlohmann::json> read_json_object(const fs::path& file, std::string& problem) {
  if (!fs::exists(file)) {
    problem = file.filename().string() + " is missing";
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(read_file(file.string()), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    problem = file.filename().string() + " is not a JSON object (damaged?)";
    return std::nullopt;
  }
  return doc;
}

// The first of `fields` (paths "a.b") that `doc` lacks or holds with another type, or "".
std::string missing_field(const nlohmann::json& doc,
                          const std::vector<std::pair<std::string, nlohmann::json::value_t>>& fields) {
  for (const auto& [path, type] : fields) {
    const nlohmann::json* v = find_dotted(doc, path);
    const bool integer = type == nlohmann::json::value_t::number_integer;
    const bool number = type == nlohmann::json::value_t::number_float;
    if (v == nullptr || (integer && !v->is_number_integer()) || (number && !v->is_number()) ||
        (!integer && !number && v->type() != type))
      return path;
  }
  return "";
}

}  // namespace

std::string checkpoint_problem(const std::string& dir) {
  using T = nlohmann::json::value_t;
  fs::path d(dir);
  std::string problem;
  auto state = read_json_object(d / "trainer_state.json", problem);
  if (!state) return problem;
  if (auto f = missing_field(*state, {{"global_step", T::number_integer},
                                      {"data.epoch", T::number_integer},
                                      {"data.batch", T::number_integer},
                                      {"window.loss", T::number_float},
                                      {"window.steps", T::number_integer}});
      !f.empty())
    return "trainer_state.json has no valid \"" + f + "\"";
  if ((*state)["global_step"].get<int64_t>() < 0) return "trainer_state.json: global_step is negative";
  auto rng = read_json_object(d / "rng_state.json", problem);
  if (!rng) return problem;
  const auto& cpu = rng->value("cpu", nlohmann::json());
  if (!cpu.is_string() || cpu.get<std::string>().empty() || cpu.get<std::string>().size() % 2 != 0 ||
      cpu.get<std::string>().find_first_not_of("0123456789abcdef") != std::string::npos)
    return "rng_state.json has no valid \"cpu\" state (hex bytes)";
  const auto state_bytes = at::detail::getDefaultCPUGenerator().get_state().numel();
  if (cpu.get<std::string>().size() != static_cast<size_t>(state_bytes) * 2)
    return "rng_state.json: the \"cpu\" state is " + std::to_string(cpu.get<std::string>().size() / 2) +
           " bytes, not the generator's " + std::to_string(state_bytes);
  auto opt = read_json_object(d / "optimizer.json", problem);
  if (!opt) return problem;
  if (auto f = missing_field(*opt, {{"steps", T::number_integer}}); !f.empty())
    return "optimizer.json has no valid \"steps\"";
  // The weight files, opened as a load would open them: header, byte ranges and length (a truncated file).
  try {
    (void)model::WeightFiles::open(dir, "optimizer");
    if (fs::exists(d / "adapter_model.safetensors")) {
      (void)model::WeightFiles::open(dir, "adapter_model");
    } else if (fs::exists(d / "model.safetensors") || fs::exists(d / "model.safetensors.index.json")) {
      (void)model::WeightFiles::open(dir);
    } else {
      return "no weights (adapter_model.safetensors or model.safetensors)";
    }
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool checkpoint_valid(const std::string& dir) {
  return checkpoint_problem(dir).empty();
}

std::string latest_checkpoint(const std::string& output_dir) {
  if (!fs::is_directory(output_dir)) return "";
  std::vector<std::pair<int64_t, std::string>> found;
  for (const auto& entry : fs::directory_iterator(output_dir)) {
    const std::string name = entry.path().filename().string();
    int64_t step = checkpoint_step(name);
    if (step >= 0 && entry.is_directory()) {
      found.emplace_back(step, entry.path().string());
    } else if (step < 0 && entry.is_directory() && name.rfind("checkpoint-", 0) == 0 &&
               name != "checkpoint-final" && name.find(".tmp") == std::string::npos) {
      log_warn(entry.path().string(), " is not a checkpoint-<step> folder astforge writes; ignoring it");
    }
  }
  std::sort(found.rbegin(), found.rend());
  for (const auto& [step, path] : found) {
    std::string problem = checkpoint_problem(path);
    if (problem.empty()) return path;
    log_warn(path, " is not a whole checkpoint (", problem, "); skipping it for an earlier one");
  }
  return "";
}

void load_checkpoint_weights(const std::string& dir, model::Gemma3& m,
                             const std::optional<model::LoraSettings>& lora) {
  if (lora) {
    model::load_adapter_weights(m, *lora, dir);  // the adapters exist already, with the same settings
    return;
  }
  model::load_weights(m, model::WeightFiles::open(dir), dir);
}

void load_rng_state(const std::string& dir) {
  auto doc = nlohmann::json::parse(read_file((fs::path(dir) / "rng_state.json").string()));
  at::Generator gen = at::detail::getDefaultCPUGenerator();  // a handle to the process-wide generator
  gen.set_state(from_hex(doc.at("cpu").get<std::string>()));
}

nlohmann::json read_trainer_state(const std::string& dir) {
  return nlohmann::json::parse(read_file((fs::path(dir) / "trainer_state.json").string()));
}

void rotate_checkpoints(const std::string& output_dir, int64_t limit, const std::string& keep_a,
                        const std::string& keep_b) {
  if (limit <= 0) return;
  std::vector<std::pair<int64_t, fs::path>> found;
  for (const auto& entry : fs::directory_iterator(output_dir)) {
    int64_t step = checkpoint_step(entry.path().filename().string());
    if (step >= 0 && entry.is_directory()) found.emplace_back(step, entry.path());
  }
  std::sort(found.begin(), found.end());
  auto excess = static_cast<int64_t>(found.size()) - limit;
  for (const auto& [step, path] : found) {
    if (excess <= 0) break;
    if (path == fs::path(keep_a) || path == fs::path(keep_b)) continue;
    fs::remove_all(path);
    --excess;
  }
}

}  // namespace af::train
