// teacher-sim: a deterministic stand-in teacher served over the Ollama and OpenAI protocols on loopback.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "config/cli.h"
#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "teachersim/server.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("teacher-sim", [&] {
    ToolCli cli(
        Tool::TeacherSim, "teacher-sim",
        "Serve a deterministic stand-in teacher (Ollama /api/chat, /api/generate, /api/tags, /api/version;\n"
        "OpenAI /v1/chat/completions, /v1/models) on loopback. It writes domain specs from its lexicons,\n"
        "requests in English and French, ASTs by parsing them, and verdicts. Prints the port it listens on.");
    if (auto code = cli.parse(argc, argv)) return *code;
    std::optional<Resolved> resolved = cli.resolve_for_run();
    if (!resolved) return 0;
    const Resolved& cfg = *resolved;
    auto seed = static_cast<uint64_t>(cfg.get_int("run.seed"));
    af::teachersim::Sim sim(
        af::teachersim::Lexicon::load(cfg.get_string("teacher_sim.lexicon_dir")),
        af::dataset::load_operator_catalog(cfg.get_string("dataset_generation.operator_catalog")), seed);
    af::teachersim::Faults faults{
        cfg.get_double("teacher_sim.fail_rate"), cfg.get_double("teacher_sim.garbage_rate"),
        cfg.get_double("teacher_sim.drop_rate"), static_cast<int>(cfg.get_int("teacher_sim.delay_ms"))};
    // SIGTERM and SIGINT are taken by one thread that stops the server: the server threads never see them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    af::teachersim::SimServer server(std::move(sim), faults, seed);
    const std::string bind = cfg.get_string("teacher_sim.bind");
    int port = server.bind(bind, static_cast<int>(cfg.get_int("teacher_sim.port")));
    if (port <= 0) {
      throw af::runtime_error(
          "cannot listen on " + bind + ":" + std::to_string(cfg.get_int("teacher_sim.port")),
          "the port is taken: choose another, or --port 0 for a free one");
    }
    if (!cfg.is_null("teacher_sim.port_file")) {
      af::write_file_atomic(cfg.get_string("teacher_sim.port_file"), std::to_string(port) + "\n");
    }
    std::cout << port << std::endl;
    af::log_info("listening on http://", bind, ":", port);
    std::thread waiter([&] {
      int sig = 0;
      sigwait(&signals, &sig);
      af::log_info("stopping (signal ", sig, ") after ", server.requests_served(), " requests");
      server.stop();
    });
    server.listen();
    // listen() also returns when the socket fails; wake the waiter so it can be joined.
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    return 0;
  });
}
