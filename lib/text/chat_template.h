// Gemma's chat template, in one place: how a prompt (and, for training, its completion) becomes tokens, which
// tokens the loss covers, and which tokens end generation.
//
//   <bos><start_of_turn>user\n{prompt}<end_of_turn>\n<start_of_turn>model\n{completion}<end_of_turn>\n
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace af::text {

/// The text of the prompt turn, ending where the model's answer begins.
std::string render_prompt(std::string_view user_prompt);
/// The user turn's text of a chat with a system message: the system text before the user's, as Gemma's own
/// template (and jinja_chat_template, ollama_chat_template) puts it; the user text alone without one.
std::string with_system(std::string_view system, std::string_view user);
/// The whole text of a training example.
std::string render_example(std::string_view user_prompt, std::string_view completion);

/// A tokenized training example; ids[completion_begin, completion_end) are supervised: the completion and the
/// closing <end_of_turn>, so the model learns to stop.
struct ChatExample {
  std::vector<int32_t> ids;
  size_t completion_begin = 0;
  size_t completion_end = 0;
};

/// Tokens of the prompt turn, exactly as generation sees them (<bos> comes from the text, never twice).
std::vector<int32_t> tokenize_prompt(const Tokenizer& tok, std::string_view user_prompt);

/// Tokens of a training example. The prompt is tokenized as at generation time and the completion after it,
/// so what the model is trained to continue is what it is later asked to continue.
ChatExample tokenize_example(const Tokenizer& tok, std::string_view user_prompt, std::string_view completion);

/// The id batches are padded with: <pad>, or 0 when the vocabulary has none.
int32_t pad_token(const Tokenizer& tok);

/// The same template in Jinja (GGUF's tokenizer.chat_template, for llama.cpp and Ollama): user turns as
/// render_prompt writes them (a system message goes before the first user text, as Gemma's own template
/// does), model turns closed by <end_of_turn>, and the model turn opened when a generation prompt is asked.
std::string jinja_chat_template();
/// The same template in Ollama's Go template language (a Modelfile's TEMPLATE).
std::string ollama_chat_template();
/// The text that ends a model turn (<end_of_turn>): the stop string other runtimes need.
std::string_view end_of_turn();
/// The text that opens a turn (<start_of_turn>).
std::string_view start_of_turn();

/// Tokens that end generation: <end_of_turn> and <eos>.
std::vector<int32_t> stop_tokens(const Tokenizer& tok);

}  // namespace af::text
