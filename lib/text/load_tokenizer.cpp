#include "text/load_tokenizer.h"

#include <filesystem>

#include "core/error.h"
#include "text/hf_tokenizer.h"
#include "text/sp_tokenizer.h"

namespace af::text {

const std::vector<std::string>& tokenizer_file_names() {
  // tokenizer_config.json and special_tokens_map.json are copied with a model but not read here.
  static const std::vector<std::string> names = {"tokenizer.json", "tokenizer.model", "tokenizer_config.json",
                                                 "special_tokens_map.json"};
  return names;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path json = fs::path(dir) / "tokenizer.json";
  if (fs::exists(json)) return std::make_unique<HfTokenizer>(HfTokenizer::load(json.string()));
  fs::path model = fs::path(dir) / "tokenizer.model";
  if (fs::exists(model)) return std::make_unique<SpTokenizer>(SpTokenizer::load(model.string()));
  throw usage_error(dir + ": no tokenizer.json or tokenizer.model in the model folder",
                    "copy the tokenizer files of the model into the folder");
}

}  // namespace af::text
