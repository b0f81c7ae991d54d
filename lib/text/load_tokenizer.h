// The tokenizer of a model folder: tokenizer.json (Hugging Face) when present, else tokenizer.model
// (SentencePiece).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace af::text {

/// The tokenizer files a model folder may hold, in the order they are preferred.
const std::vector<std::string>& tokenizer_file_names();

/// Loads the tokenizer of `dir`; a folder with neither file is a usage error that names what was looked for.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir);

}  // namespace af::text
