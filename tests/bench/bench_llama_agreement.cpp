// Benchmark: how often llama.cpp's greedy answer on the exported student equals astforge's, on the dev eval
// set. Loads the student (base + checkpoint), exports it as f32 and q8_0 GGUF, lets astforge generate
// greedily for the first --rows eval prompts, lets llama.cpp (node-llama-cpp 3.21.1, the npm fixture)
// continue the same token ids on each GGUF, and writes the exact-match rates (whole answers, token for token)
// as JSON.
#include <ATen/ATen.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/jsonl_reader.h"
#include "model/generate.h"
#include "model/gguf_export.h"
#include "student/load.h"
#include "text/chat_template.h"

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// llama.cpp's greedy continuations of `prompts` on `gguf` (tests/support/llama_reference.mjs).
std::vector<std::vector<int32_t>> llama_greedy(const std::string& gguf,
                                               const std::vector<std::vector<int32_t>>& prompts,
                                               int64_t max_tokens, const std::string& work) {
  json req = {{"model", gguf}, {"vocab", 0}, {"lora", nullptr}, {"runs", json::array()}};
  for (const auto& p : prompts) req["runs"].push_back({{"tokens", p}, {"greedy", max_tokens}});
  std::ofstream(work + "/in.json") << req.dump();
  const std::string cmd =
      "NODE_LLAMA_CPP=.fixtures/node_modules/node-llama-cpp/dist/index.js node "
      "tests/support/llama_reference.mjs < " +
      work + "/in.json > " + work + "/out.json";
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("llama.cpp failed on " + gguf + " (make deps?)");
  std::ifstream in(work + "/out.json");
  std::vector<std::vector<int32_t>> out;
  const json reply = json::parse(in);  // named: a loop over a temporary's member would dangle
  for (const auto& r : reply["runs"]) out.push_back(r["tokens"].get<std::vector<int32_t>>());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("bench_llama_agreement");
  std::string base = "outputs/dev/student_runs/dev-tiny/scratch-base",
              checkpoint = "outputs/dev/student_runs/dev-tiny-dpo/checkpoint-final",
              eval_set = "outputs/dev/d_05_eval_set.jsonl", out = "build/bench/llama_agreement.json";
  size_t rows = 40;
  int64_t max_tokens = 200;
  app.add_option("--base", base, "The base model folder");
  app.add_option("--checkpoint", checkpoint, "The student's checkpoint (adapter or whole model)");
  app.add_option("--eval-set", eval_set, "d_05_eval_set.jsonl (its prompts)");
  app.add_option("--rows", rows, "Eval rows compared");
  app.add_option("--max-tokens", max_tokens, "Longest answer");
  app.add_option("--out", out, "Where the JSON figures go");
  CLI11_PARSE(app, argc, argv);

  af::student::apply_threads(2);
  auto st = af::student::load_student(base, checkpoint, at::kFloat, at::Device(at::kCPU), /*merge=*/true);
  std::vector<std::vector<int32_t>> prompts;
  for (const json& row : af::read_jsonl(eval_set)) {
    if (prompts.size() == rows) break;
    prompts.push_back(af::text::tokenize_prompt(*st.tokenizer, row["prompt"].get<std::string>()));
  }
  af::model::GenerationSettings g;
  g.max_new_tokens = max_tokens;
  g.stop_tokens = af::text::stop_tokens(*st.tokenizer);
  std::vector<std::vector<int32_t>> ours;
  for (const auto& p : prompts) ours.push_back(af::model::generate(*st.model, {p}, g)[0].tokens);

  const std::string work = fs::temp_directory_path() / ("astforge-agreement-" + std::to_string(::getpid()));
  fs::create_directories(work);
  json result = {{"rows", prompts.size()}, {"max_tokens", max_tokens}, {"checkpoint", checkpoint}};
  std::map<std::string, std::vector<std::vector<int32_t>>> answers;
  for (auto type : {af::model::GgmlType::F32, af::model::GgmlType::Q8_0}) {
    const std::string name = af::model::ggml_type_name(type), gguf = work + "/student-" + name + ".gguf";
    af::model::write_gemma3_gguf(*st.model, type, {"student", st.tokenizer_dir}, gguf);
    answers[name] = llama_greedy(gguf, prompts, max_tokens, work);
    size_t same = 0;
    for (size_t i = 0; i < prompts.size(); ++i) same += answers[name][i] == ours[i] ? 1 : 0;
    result["llama_" + name + "_equals_astforge"] =
        static_cast<double>(same) / static_cast<double>(prompts.size());
  }
  size_t same = 0;
  for (size_t i = 0; i < prompts.size(); ++i) same += answers["q8_0"][i] == answers["f32"][i] ? 1 : 0;
  result["llama_q8_0_equals_llama_f32"] = static_cast<double>(same) / static_cast<double>(prompts.size());
  fs::remove_all(work);
  fs::create_directories(fs::path(out).parent_path());
  std::ofstream(out) << result.dump(2) << "\n";
  std::cout << result.dump(2) << "\n";
  return 0;
}
