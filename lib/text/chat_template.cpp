#include "text/chat_template.h"

#include "core/error.h"

namespace af::text {
namespace {

constexpr std::string_view kBos = "<bos>";
constexpr std::string_view kStart = "<start_of_turn>";
constexpr std::string_view kEnd = "<end_of_turn>";

int32_t require_token(const Tokenizer& tok, std::string_view name) {
  int32_t id = tok.token_to_id(name);
  if (id < 0) {
    throw usage_error("the tokenizer has no " + std::string(name) + " token",
                      "the chat template needs Gemma's special tokens");
  }
  return id;
}

}  // namespace

std::string render_prompt(std::string_view user_prompt) {
  std::string out;
  out.append(kBos).append(kStart).append("user\n").append(user_prompt).append(kEnd).append("\n");
  out.append(kStart).append("model\n");
  return out;
}

std::string with_system(std::string_view system, std::string_view user) {
  if (system.empty()) return std::string(user);
  return std::string(system) + "\n\n" + std::string(user);
}

std::string render_example(std::string_view user_prompt, std::string_view completion) {
  return render_prompt(user_prompt).append(completion).append(kEnd).append("\n");
}

std::string jinja_chat_template() {
  const std::string start(kStart), end(kEnd);
  return "{{ bos_token }}"
         "{%- set system = '' -%}"
         "{%- if messages[0]['role'] == 'system' -%}"
         "{%- set system = messages[0]['content'] + '\\n\\n' -%}"
         "{%- set messages = messages[1:] -%}"
         "{%- endif -%}"
         "{%- for message in messages -%}"
         "{%- if message['role'] == 'assistant' or message['role'] == 'model' -%}"
         "{{ '" +
         start + "model\\n' + message['content'] + '" + end +
         "\\n' }}"
         "{%- else -%}"
         "{{ '" +
         start + "user\\n' + (system if loop.first else '') + message['content'] + '" + end +
         "\\n' }}"
         "{%- endif -%}"
         "{%- endfor -%}"
         "{%- if add_generation_prompt -%}{{ '" +
         start + "model\\n' }}{%- endif -%}";
}

std::string ollama_chat_template() {
  const std::string start(kStart), end(kEnd);
  return "{{- $system := \"\" }}"
         "{{- range .Messages }}{{- if eq .Role \"system\" }}{{ $system = printf \"%s\\n\\n\" .Content }}"
         "{{- end }}{{- end }}"
         "{{- $first := true }}"
         "{{- range $i, $_ := .Messages }}"
         "{{- $last := eq (len (slice $.Messages $i)) 1 }}"
         "{{- if eq .Role \"user\" }}" +
         start + "user\n{{ if $first }}{{ $system }}{{ end }}{{ .Content }}" + end +
         "\n{{ $first = false }}"
         "{{- if $last }}" +
         start +
         "model\n{{ end }}"
         "{{- else if eq .Role \"assistant\" }}" +
         start + "model\n{{ .Content }}" + "{{ if not $last }}" + end +
         "\n{{ end }}"
         "{{- end }}"
         "{{- end }}";
}

std::string_view end_of_turn() {
  return kEnd;
}

std::string_view start_of_turn() {
  return kStart;
}

std::vector<int32_t> tokenize_prompt(const Tokenizer& tok, std::string_view user_prompt) {
  // <bos> is part of the rendered text: add_special_tokens would add a second one.
  return tok.encode(render_prompt(user_prompt), false);
}

ChatExample tokenize_example(const Tokenizer& tok, std::string_view user_prompt,
                             std::string_view completion) {
  ChatExample ex;
  ex.ids = tokenize_prompt(tok, user_prompt);
  ex.completion_begin = ex.ids.size();
  std::vector<int32_t> answer = tok.encode(completion, false);
  ex.ids.insert(ex.ids.end(), answer.begin(), answer.end());
  ex.ids.push_back(require_token(tok, kEnd));
  ex.completion_end = ex.ids.size();
  std::vector<int32_t> newline = tok.encode("\n", false);
  ex.ids.insert(ex.ids.end(), newline.begin(), newline.end());
  return ex;
}

int32_t pad_token(const Tokenizer& tok) {
  int32_t pad = tok.token_to_id("<pad>");
  return pad >= 0 ? pad : 0;
}

std::vector<int32_t> stop_tokens(const Tokenizer& tok) {
  return {require_token(tok, kEnd), require_token(tok, "<eos>")};
}

}  // namespace af::text
