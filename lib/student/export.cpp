#include "student/export.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <sstream>

#include "core/atomic_dir.h"
#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "core/output_lock.h"
#include "model/gguf_export.h"
#include "model/model_folder.h"
#include "student/load.h"
#include "text/chat_template.h"

namespace af::student {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string quoted(const std::string& s) {
  return json(s).dump();
}

// The README beside an export: what the folder holds and the exact commands that run it.
std::string readme_text(const ExportSettings& s, const ExportResult& r) {
  const std::string model_file = fs::path(r.model).filename().string();
  std::ostringstream out;
  out << "# " << s.name << "\n\n"
      << "Exported by astforge `export --format " << s.format << "` from " << s.model.dir
      << (s.adapter.empty() ? "" : " + " + s.adapter) << ".\n\n"
      << "## Ollama\n\n```sh\ncd " << r.dir << "\nollama create " << s.name << " -f Modelfile\nollama run "
      << s.name << "\n```\n\n";
  if (s.format != "hf") {
    out << "## llama.cpp\n\n```sh\nllama-cli -m " << (fs::path(r.dir) / model_file).string();
    if (!r.adapter.empty()) out << " --lora " << r.adapter;
    out << " -no-cnv -n " << s.generation.max_new_tokens << " --temp 0 \\\n  -p \"$(printf '"
        << "<start_of_turn>user\\n%s<end_of_turn>\\n<start_of_turn>model\\n' \"$PROMPT\")\" -r "
        << quoted(std::string(text::end_of_turn())) << "\n```\n\n";
  } else {
    out << "## transformers\n\n```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n"
        << "model = AutoModelForCausalLM.from_pretrained(" << quoted(r.dir) << ")\n"
        << "tokenizer = AutoTokenizer.from_pretrained(" << quoted(r.dir) << ")\n```\n\n";
  }
  out << "Answers end with `" << text::end_of_turn()
      << "`: the Modelfile makes it a stop, and llama.cpp stops on it as the end-of-turn token.\n";
  return out.str();
}

void write_generation_config_stops(const std::string& dir, const text::Tokenizer& tok) {
  // Both of Gemma's stops (<eos> and <end_of_turn>), whatever the base's config listed: runtimes that read
  // generation_config.json then end an answer where astforge does.
  const std::string path = (fs::path(dir) / "generation_config.json").string();
  json g = json::parse(read_file(path));
  g["eos_token_id"] = text::stop_tokens(tok);
  write_file_atomic(path, g.dump(2) + "\n");
}

}  // namespace

std::string modelfile_text(const std::string& model_file, const std::string& adapter_file,
                           const model::GenerationSettings& generation) {
  std::ostringstream out;
  out << "FROM " << model_file << "\n";
  if (!adapter_file.empty()) out << "ADAPTER " << adapter_file << "\n";
  out << "TEMPLATE \"\"\"" << text::ollama_chat_template() << "\"\"\"\n";
  out << "PARAMETER stop " << quoted(std::string(text::end_of_turn())) << "\n";
  const json parameters = modelfile_parameters(generation);  // a named object: iterating a temporary warns
  for (auto it = parameters.begin(); it != parameters.end(); ++it)
    out << "PARAMETER " << it.key() << " " << it.value().dump() << "\n";
  return out.str();
}

ExportResult run_export(const ExportSettings& s) {
  apply_threads(s.runtime.threads);
  const at::Device device = resolve_device(s.runtime.device);  // refuses cuda where there is none
  (void)device;                                                // export computes on the CPU
  if (s.format != "hf" && s.format != "gguf" && s.format != "gguf-lora")
    throw usage_error("export.format '" + s.format + "' is not a format export writes",
                      "use hf, gguf or gguf-lora");
  const model::GgmlType type = model::parse_gguf_type(s.gguf_type);
  const bool lora = s.format == "gguf-lora";
  if (lora && s.adapter.empty())
    throw usage_error("export --format gguf-lora needs an adapter (export.adapter is null)",
                      "pass --adapter with a LoRA checkpoint of train-sft or train-dpo");
  Student st = load_student(s.model.dir, s.adapter, at::kFloat, at::Device(at::kCPU), /*merge=*/!lora);
  if (lora && !st.adapter)
    throw usage_error(
        s.adapter + " is a whole model, not a LoRA adapter: there is no adapter to export alone",
        "export it with --format gguf or --format hf");

  ExportResult r;
  r.dir = s.output_dir;
  const std::string stem = s.name + "-" + model::ggml_type_name(type);
  auto lock = lock_folder_of(s.output_dir, "export");
  write_dir_atomic(s.output_dir, [&](const std::string& tmp) {
    std::string from, adapter;
    if (s.format == "hf") {
      model::save_model(*st.model, tmp, model::parse_dtype_name(s.dtype), st.tokenizer_dir);
      write_generation_config_stops(tmp, *st.tokenizer);
      from = ".";
    } else if (s.format == "gguf") {
      from = stem + ".gguf";
      model::write_gemma3_gguf(*st.model, type, {s.name, st.tokenizer_dir}, (fs::path(tmp) / from).string());
    } else {
      // The adapter first: it is what can be refused (modules_to_save, biases) before the large base is
      // written.
      adapter = s.name + "-lora.gguf";
      model::write_gemma3_lora_gguf(*st.model, *st.adapter, s.name, (fs::path(tmp) / adapter).string());
      from = s.name + "-base-" + model::ggml_type_name(type) + ".gguf";
      // The base alone: adapters detached, the weights as the base folder holds them.
      for (auto& [name, linear] : st.model->named_linears()) linear->lora.reset();
      model::write_gemma3_gguf(*st.model, type, {s.name + "-base", st.tokenizer_dir},
                               (fs::path(tmp) / from).string());
    }
    r.model = from == "." ? s.output_dir : (fs::path(s.output_dir) / from).string();
    r.adapter = adapter.empty() ? "" : (fs::path(s.output_dir) / adapter).string();
    write_file_atomic(
        (fs::path(tmp) / "Modelfile").string(),
        modelfile_text(from == "." ? "." : "./" + from, adapter.empty() ? "" : "./" + adapter, s.generation));
    write_file_atomic((fs::path(tmp) / "README.md").string(), readme_text(s, r));
  });
  log_info("exported ",
           s.format == "hf"     ? "a Hugging Face folder"
           : s.format == "gguf" ? "GGUF " + stem
                                : "GGUF base + LoRA",
           " to ", s.output_dir);
  log_info("run it in Ollama: cd ", s.output_dir, " && ollama create ", s.name,
           " -f Modelfile && ollama run ", s.name);
  return r;
}

}  // namespace af::student
