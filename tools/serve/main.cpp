// serve: the trained student behind Ollama's and OpenAI's chat endpoints, answers held to the request's
// schema.
#include "config/cli.h"
#include "serve/serve.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("serve", [&] {
    ToolCli cli(
        Tool::Serve, "serve",
        "Serve the trained student over HTTP: Ollama's /api/chat, /api/generate, /api/tags and\n"
        "OpenAI's /v1/chat/completions, /v1/models. A request's format (Ollama) or response_format\n"
        "json_schema (OpenAI) is enforced by the constrained decoder, so every such answer validates;\n"
        "concurrent requests are generated together in batches. Prints the port; stops on SIGTERM.");
    if (auto code = cli.parse(argc, argv)) return *code;
    Resolved cfg = cli.resolve_for_run();
    const af::serve::ServeSettings s = af::serve::serve_settings(cfg);
    if (cli.dry_run()) return cli.print_dry_run(cfg, s.to_json());
    af::serve::run_serve(s);
    return 0;
  });
}
