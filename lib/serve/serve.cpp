#include "serve/serve.h"

#include <iostream>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "core/stop_signal.h"
#include "model/model_folder.h"
#include "serve/batcher.h"
#include "serve/engine.h"
#include "serve/server.h"
#include "student/allocator.h"
#include "student/load.h"

namespace af::serve {

void run_serve(const ServeSettings& s) {
  // Before libtorch's threads and the server's: SIGTERM must reach only the thread that stops the server.
  StopOnSignal signals;
  student::apply_threads(s.runtime.threads);
  student::keep_freed_memory();
  student::Student loaded = student::load_student(s.model.dir, s.adapter, model::parse_dtype_name(s.dtype),
                                                  student::resolve_device(s.runtime.device), /*merge=*/true);
  ModelCard card = model_card(loaded, s.name, s.dtype);
  Engine engine(std::move(loaded), s.generation, s.key_order);
  Batcher batcher(s.max_batch, std::chrono::milliseconds(s.batch_window_ms),
                  [&engine](const std::vector<const Job*>& jobs) { return engine.run(jobs); });
  Server server(card, engine, batcher, s.max_batch);
  signals.on_signal([&](int sig) {
    log_info("stopping (signal ", sig, "): answering the requests in flight");
    server.stop();
  });
  int port = server.bind(s.bind, s.port);
  if (port <= 0)
    throw runtime_error("cannot listen on " + s.bind + ":" + std::to_string(s.port),
                        "the port is taken or the address is not this machine's: choose another (serve.port, "
                        "--port; 0 picks a free one) or serve.bind");
  if (s.port_file) write_file_atomic(*s.port_file, std::to_string(port) + "\n");
  std::cout << port << std::endl;
  log_info("serving ", s.name, " on http://", s.bind, ":", port,
           " (Ollama /api/chat, /api/generate; OpenAI /v1/chat/completions)");
  server.listen();
  batcher.stop();
  log_info("stopped after ", server.requests_answered(), " answers in ", batcher.batches(), " batches");
}

}  // namespace af::serve
