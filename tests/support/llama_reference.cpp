#include "support/llama_reference.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/temp_dir.h"

namespace af::test {
namespace {

nlohmann::json run_reference(const nlohmann::json& request) {
  TempDir dir;
  std::ofstream(dir.file("in.json")) << request.dump();
  std::string cmd = "NODE_LLAMA_CPP=" + node_llama_cpp() + " node " + ASTFORGE_SOURCE_DIR +
                    "/tests/support/llama_reference.mjs < " + dir.file("in.json") + " > " +
                    dir.file("out.json");
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "llama.cpp (node-llama-cpp) failed on " << request["model"]);
  std::ifstream in(dir.file("out.json"));
  return nlohmann::json::parse(in);
}

}  // namespace

std::string node_llama_cpp() {
  std::string entry =
      std::string(ASTFORGE_SOURCE_DIR) + "/.fixtures/node_modules/node-llama-cpp/dist/index.js";
  REQUIRE_MESSAGE(std::filesystem::exists(entry),
                  "the llama.cpp fixture (node-llama-cpp) is missing: run `make deps`");
  return entry;
}

std::vector<std::vector<double>> llama_probabilities(const std::string& gguf,
                                                     const std::vector<int32_t>& tokens, int64_t vocab,
                                                     const std::string& lora) {
  nlohmann::json req = {{"model", gguf},
                        {"vocab", vocab},
                        {"lora", lora.empty() ? nlohmann::json(nullptr) : nlohmann::json(lora)},
                        {"runs", {{{"tokens", tokens}, {"probs", true}}}}};
  return run_reference(req)["runs"][0]["probs"].get<std::vector<std::vector<double>>>();
}

std::vector<int32_t> llama_greedy(const std::string& gguf, const std::vector<int32_t>& tokens,
                                  int64_t max_tokens, const std::string& lora) {
  nlohmann::json req = {{"model", gguf},
                        {"vocab", 0},
                        {"lora", lora.empty() ? nlohmann::json(nullptr) : nlohmann::json(lora)},
                        {"runs", {{{"tokens", tokens}, {"greedy", max_tokens}}}}};
  return run_reference(req)["runs"][0]["tokens"].get<std::vector<int32_t>>();
}

LlamaText llama_tokenize(const std::string& gguf, const std::string& text, const std::vector<int32_t>& ids) {
  nlohmann::json req = {
      {"model", gguf}, {"vocab", 0}, {"lora", nullptr}, {"runs", {{{"text", text}, {"tokens", ids}}}}};
  nlohmann::json run = run_reference(req)["runs"][0];
  return {run["tokens"].get<std::vector<int32_t>>(), run["text"].get<std::string>()};
}

}  // namespace af::test
