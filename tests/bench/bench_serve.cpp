// Benchmark: serve under load. Starts build/bin/serve on the dev student (the reference run's aligned
// checkpoint), sends the first --rows eval prompts as Ollama /api/chat requests with their schema as
// `format` (greedy, constrained), one client at a time and then 8 at once, and writes requests/s, latency
// (mean, p50, p95) and how many answers validated under their schema, as JSON.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "eval/eval_set.h"
#include "jsonschema/schema.h"

using json = nlohmann::json;

namespace {

struct Load {
  int concurrency = 1;
  double seconds = 0;
  std::vector<double> latencies;
  size_t valid = 0, failed = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

Load run_load(int port, const af::eval::EvalSet& set, int concurrency) {
  Load load;
  load.concurrency = concurrency;
  load.latencies.resize(set.samples.size());
  std::vector<bool> valid(set.samples.size()), ok(set.samples.size());
  std::atomic<size_t> next{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < concurrency; ++c)
    clients.emplace_back([&] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(600, 0);
      for (size_t i = next++; i < set.samples.size(); i = next++) {
        const auto& s = set.samples[i];
        json body = {{"model", "student"},
                     {"stream", false},
                     {"format", *s.schema},
                     {"options", {{"temperature", 0}}},
                     {"messages", {{{"role", "user"}, {"content", s.prompt}}}}};
        auto r0 = std::chrono::steady_clock::now();
        auto res = client.Post("/api/chat", body.dump(), "application/json");
        load.latencies[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();
        ok[i] = res && res->status == 200;
        if (!ok[i]) continue;
        json answer =
            json::parse(json::parse(res->body)["message"]["content"].get<std::string>(), nullptr, false);
        valid[i] = !answer.is_discarded() && af::jsonschema::Schema::compile(*s.schema).is_valid(answer);
      }
    });
  for (auto& t : clients) t.join();
  load.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t i = 0; i < ok.size(); ++i) {
    load.valid += valid[i];
    load.failed += !ok[i];
  }
  return load;
}

json figures(const Load& l) {
  double sum = 0;
  for (double x : l.latencies) sum += x;
  const double n = static_cast<double>(l.latencies.size());
  return {{"concurrency", l.concurrency},
          {"requests", l.latencies.size()},
          {"seconds", l.seconds},
          {"requests_per_second", n / l.seconds},
          {"latency_mean_s", sum / n},
          {"latency_p50_s", percentile(l.latencies, 0.5)},
          {"latency_p95_s", percentile(l.latencies, 0.95)},
          {"answers_valid", l.valid},
          {"failed", l.failed}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("bench_serve");
  std::string base = "outputs/dev/student_runs/dev-tiny/scratch-base",
              checkpoint = "outputs/dev/student_runs/dev-tiny-dpo/checkpoint-final",
              eval_set = "outputs/dev/d_05_eval_set.jsonl", schemas = "outputs/dev/d_02_final_schemas.jsonl",
              out = "build/bench/serve.json", bin = "build/bin";
  int64_t rows = 32, max_tokens = 256;
  app.add_option("--base", base, "The base model folder");
  app.add_option("--checkpoint", checkpoint, "The student's checkpoint (adapter or whole model)");
  app.add_option("--eval-set", eval_set, "d_05_eval_set.jsonl (its prompts)");
  app.add_option("--schemas", schemas, "d_02_final_schemas.jsonl (the prompts' schemas)");
  app.add_option("--rows", rows, "Requests per load");
  app.add_option("--max-tokens", max_tokens, "Longest answer");
  app.add_option("--bin", bin, "Where serve is");
  app.add_option("--out", out, "Where the JSON figures go");
  CLI11_PARSE(app, argc, argv);

  af::eval::EvalSelection pick;
  pick.max_samples = rows;
  af::eval::EvalSet set = af::eval::load_eval_set(eval_set, schemas, pick);
  const std::string port_file = out + ".port";
  std::remove(port_file.c_str());
  pid_t pid = fork();
  if (pid == 0) {
    if (FILE* quiet = std::freopen("/dev/null", "w", stdout)) (void)quiet;  // serve prints its port there
    const std::string serve = bin + "/serve", mt = std::to_string(max_tokens);
    execl(serve.c_str(), serve.c_str(), "--model", base.c_str(), "--adapter", checkpoint.c_str(), "--port",
          "0", "--port-file", port_file.c_str(), "--name", "student", "--max-new-tokens", mt.c_str(),
          "--max-batch", "8", "--log-level", "warn", static_cast<char*>(nullptr));
    _exit(127);
  }
  int port = 0;
  for (int i = 0; i < 6000 && port == 0; ++i) {
    std::ifstream in(port_file);
    if (!(in >> port)) port = 0;
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (port == 0) {
    kill(pid, SIGKILL);
    std::cerr << "bench_serve: serve did not start\n";
    return 1;
  }
  run_load(port, set, 1);  // warm-up: the schemas' grammars compiled, the allocator's pools grown
  json result = {{"model", checkpoint},
                 {"rows", set.samples.size()},
                 {"max_new_tokens", max_tokens},
                 {"decoding", "greedy, constrained to each row's schema"},
                 {"loads", json::array()}};
  for (int concurrency : {1, 8}) result["loads"].push_back(figures(run_load(port, set, concurrency)));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  std::remove(port_file.c_str());
  std::ofstream(out) << result.dump(2) << "\n";
  std::cout << result.dump(2) << "\n";
  return 0;
}
