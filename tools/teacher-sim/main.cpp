// teacher-sim: a deterministic stand-in teacher served over the Ollama and OpenAI protocols on loopback.
#include <iostream>

#include "config/cli.h"
#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "core/stop_signal.h"
#include "teachersim/server.h"
#include "teachersim/settings.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("teacher-sim", [&] {
    ToolCli cli(
        Tool::TeacherSim, "teacher-sim",
        "Serve a deterministic stand-in teacher (Ollama /api/chat, /api/generate, /api/tags, /api/version;\n"
        "OpenAI /v1/chat/completions, /v1/models) on loopback. It writes domain specs from its lexicons,\n"
        "requests in English and French, ASTs by parsing them, and verdicts. Prints the port it listens on.");
    if (auto code = cli.parse(argc, argv)) return *code;
    Resolved cfg = cli.resolve_for_run();
    const af::teachersim::SimSettings s = af::teachersim::sim_settings(cfg);
    if (cli.dry_run()) return cli.print_dry_run(cfg, s.to_json());
    af::teachersim::Sim sim(af::teachersim::Lexicon::load(s.lexicon_dir),
                            af::dataset::load_operator_catalog(s.operator_catalog), s.seed);
    // SIGTERM and SIGINT stop the server from a thread of their own (taken before the port is announced):
    // the server threads never see them.
    af::StopOnSignal signals;
    af::teachersim::SimServer server(std::move(sim), s.faults, s.seed);
    signals.on_signal([&](int sig) {
      af::log_info("stopping (signal ", sig, ") after ", server.requests_served(), " requests");
      server.stop();
    });
    const std::string& bind = s.bind;
    int port = server.bind(bind, s.port);
    if (port <= 0) {
      throw af::runtime_error("cannot listen on " + bind + ":" + std::to_string(s.port),
                              "the port is taken: choose another, or --port 0 for a free one");
    }
    if (s.port_file) af::write_file_atomic(*s.port_file, std::to_string(port) + "\n");
    std::cout << port << std::endl;
    af::log_info("listening on http://", bind, ":", port);
    server.listen();
    return 0;
  });
}
