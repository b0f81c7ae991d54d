// predict: the trained student over JSONL rows ({schema, query} or {prompt}), writing the raw output, the
// canonical AST or the parse error, and timing; and --tokenize, which prints the token ids of each row.
#pragma once
#include "student/predict_settings.h"

namespace af::student {

/// Runs predict as `settings` say.
void run_predict(const PredictSettings& settings);
/// Prints one JSON array of token ids per input row, using only the model folder's tokenizer: {text} raw,
/// {prompt} or {schema, query} through the chat template's prompt, plus {completion} for a training example.
void run_tokenize(const PredictSettings& settings);

}  // namespace af::student
