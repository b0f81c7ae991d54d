// predict: the trained student over JSONL rows ({schema, query} or {prompt}), writing the raw output, the
// canonical AST or the parse error, and timing; and --tokenize, which prints the token ids of each row.
#pragma once
#include "config/resolve.h"

namespace af::student {

/// Runs predict with the resolved settings (predict.*, evaluation.* generation keys, run.*).
void run_predict(const config::Resolved& cfg);
/// Prints one JSON array of token ids per input row, using only the model folder's tokenizer: {text} raw,
/// {prompt} or {schema, query} through the chat template's prompt, plus {completion} for a training example.
void run_tokenize(const config::Resolved& cfg);

}  // namespace af::student
