// llama.cpp as a test reference: tests/support/llama_reference.mjs run by node on node-llama-cpp 3.21.1's
// prebuilt CPU build (the npm fixture `make deps` installs).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace af::test {

/// The entry point of the node-llama-cpp fixture; the test fails (naming `make deps`) when it is missing.
std::string node_llama_cpp();
/// llama.cpp's next-token probabilities after each of `tokens` (row i: after tokens[0..i]), over `vocab` ids.
std::vector<std::vector<double>> llama_probabilities(const std::string& gguf,
                                                     const std::vector<int32_t>& tokens, int64_t vocab,
                                                     const std::string& lora = "");
/// llama.cpp's greedy continuation of `tokens`: at most `max_tokens`, ending before an end-of-generation
/// token.
std::vector<int32_t> llama_greedy(const std::string& gguf, const std::vector<int32_t>& tokens,
                                  int64_t max_tokens, const std::string& lora = "");

/// llama.cpp's tokenization of `text` (no BOS; special tokens parsed, as in chat) and its detokenization of
/// `ids` (special tokens printed).
struct LlamaText {
  std::vector<int32_t> tokens;
  std::string text;
};
LlamaText llama_tokenize(const std::string& gguf, const std::string& text, const std::vector<int32_t>& ids);

}  // namespace af::test
