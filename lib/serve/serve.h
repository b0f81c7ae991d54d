// serve: the student behind Ollama's and OpenAI's chat endpoints until SIGTERM, answers held to the request's
// schema by the constrained decoder and concurrent requests generated in shared batches.
#pragma once
#include "serve/settings.h"

namespace af::serve {

/// Loads the student, listens as `settings` say, prints the port (and writes the port file), and serves
/// until SIGTERM or SIGINT; requests in flight are answered before it returns.
void run_serve(const ServeSettings& settings);

}  // namespace af::serve
