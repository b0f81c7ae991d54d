#include "propagation_scenarios.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <stdexcept>
#include <thread>

#include "config/read_trace.h"
#include "config/resolve.h"
#include "core/files.h"
#include "core/jsonl_writer.h"
#include "dataset/student_prompt.h"
#include "eval/summary.h"
#include "support/json_lines.h"
#include "support/recording_teacher.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"
#include "teacher/prompts.h"

namespace af::test {
namespace fs = std::filesystem;
using json = nlohmann::json;
using config::Tool;

namespace {

const std::string kRoot = ASTFORGE_SOURCE_DIR;
// Bump when what the fixture holds changes in a way the tools' timestamps do not show.
constexpr int kFixtureVersion = 3;

json nested(const json& flat) {
  json doc = json::object();
  for (const auto& [key, value] : flat.items()) put_key(doc, key, value);
  return doc;
}

json merged(json base, const json& over) {
  for (const auto& [key, value] : over.items()) base[key] = value;
  return base;
}

std::vector<std::string> with_config(std::vector<std::string> args, const std::string& file) {
  args.push_back("--config");
  args.push_back(file);
  return args;
}

// Runs a tool for the fixture; a failure stops the test with the tool's stderr.
void fixture_run(const std::string& tool, const std::vector<std::string>& args, const std::string& cwd) {
  ToolRun r = run_tool(tool, args, {{"LLM_MODEL", ""}, {"OLLAMA_HOST", ""}}, cwd);
  if (r.exit_code != 0)
    throw std::runtime_error("building the propagation fixture: " + tool + " failed (exit " +
                             std::to_string(r.exit_code) + "):\n" + r.err);
}

std::string write_config(const std::string& path, const json& flat) {
  write_file_atomic(path, nested(flat).dump(2) + "\n");
  return path;
}

json scratch_sizes() {
  return {{"training.scratch.vocab_size", 512},       {"training.scratch.hidden_size", 16},
          {"training.scratch.num_layers", 2},         {"training.scratch.num_heads", 2},
          {"training.scratch.num_kv_heads", 1},       {"training.scratch.head_dim", 8},
          {"training.scratch.intermediate_size", 32}, {"training.scratch.max_position_embeddings", 8192},
          {"training.scratch.sliding_window", 32},    {"training.scratch.sliding_window_pattern", 2}};
}

json data_paths() {
  return {{"dataset_generation.prompts_path", kRoot + "/data/domain_prompts.jsonl"},
          {"dataset_generation.base_schema_template", kRoot + "/data/base_schema_template.json"},
          {"dataset_generation.operator_catalog", kRoot + "/data/operator_catalog.json"},
          {"teacher_sim.lexicon_dir", kRoot + "/data/teacher_sim"}};
}

json teacher_settings(const std::string& url) {
  return {{"teacher.host", json::array({url})},
          {"teacher.model", "teacher-sim"},
          {"teacher.retry_wait", 0.01},
          {"teacher.timeout", 60.0}};
}

// What identifies the tools and this test: the fixture is rebuilt when any of them changes.
std::string fixture_stamp() {
  std::string stamp = "v" + std::to_string(kFixtureVersion);
  std::vector<std::string> files = {fs::read_symlink("/proc/self/exe").string()};
  for (const char* tool : {"ds-build", "train-sft", "eval-teacher", "train-dpo"})
    files.push_back(std::string(ASTFORGE_BIN_DIR) + "/" + tool);
  for (const auto& f : files) {
    struct stat st {};
    if (stat(f.c_str(), &st) == 0)
      stamp += " " + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  }
  return stamp + "\n";
}

void build_fixture(const Fixture& f) {
  fs::create_directories(f.dir);
  // The dataset, from a teacher whose first AST answers are sometimes schema-invalid (negatives for d_06).
  {
    teachersim::Faults faults;
    faults.invalid_rate = 0.3;
    RecordingTeacher teacher(faults, 0);
    json ds = merged(merged(data_paths(), teacher_settings(teacher.url())),
                     {{"run.output_root", f.ds},
                      {"run.progress", "off"},
                      {"dataset_generation.max_domains", 2},
                      {"dataset_generation.examples_per_schema", 3},
                      {"dataset_generation.samples_per_schema", 12},
                      {"dataset_generation.eval_schema_fraction", 0.0},
                      {"dataset_generation.eval_row_fraction", 0.25}});
    fixture_run("ds-build", with_config({"all"}, write_config(f.dir + "/ds.json", ds)), f.dir);
  }
  // A corpus of short rows (a schema's field list and a request; its AST): the rows of one schema share
  // their start, as real prompts do, at a tenth of their length, so each training step takes milliseconds.
  std::map<std::string, std::string> fields_of;
  for (const json& s : json_lines(slurp(f.ds + "/d_02_final_schemas.jsonl")))
    fields_of[s["schema_id"]] = s["schema"]["$defs"]["field"]["description"];
  std::vector<json> short_rows;
  for (const json& r : json_lines(slurp(f.ds + "/d_03_dataset.jsonl"))) {
    if (!r["is_valid"].get<bool>()) continue;
    const std::string schema_id = r["schema_id"];
    short_rows.push_back({{"id", schema_id + "/" + std::to_string(r["index"].get<int>())},
                          {"schema_id", schema_id},
                          {"prompt", "Schema " + schema_id + ". Fields: " + fields_of.at(schema_id) +
                                         "\nRequest: " + r["query"].get<std::string>()},
                          {"completion", r["ast_canonical"]}});
  }
  write_jsonl_atomic(f.sft_corpus, short_rows);
  const std::string& corpus = f.sft_corpus;
  json sft = merged(scratch_sizes(), {{"run.output_root", f.dir + "/runs"},
                                      {"run.threads", 1},
                                      {"run.progress", "off"},
                                      {"training.training_corpus", corpus},
                                      {"training.base_model", "scratch"},
                                      {"training.output_dir", f.dir + "/sft-full"},
                                      {"training.max_seq_length", 8192},
                                      {"training.batch_size", 2},
                                      {"training.grad_accum", 1},
                                      {"training.learning_rate", 0.01},
                                      {"training.warmup_steps", 1},
                                      {"training.max_steps", 2},
                                      {"training.save_steps", 100},
                                      {"training.val_split", 0.0},
                                      {"training.early_stop_patience", 0},
                                      {"training.bf16", false},
                                      {"training.lora.enabled", false}});
  fixture_run("train-sft", with_config({}, write_config(f.dir + "/sft-full.json", sft)), f.dir);
  json lora = merged(sft, {{"training.base_model", f.model},
                           {"training.output_dir", f.dir + "/sft-lora"},
                           {"training.lora.enabled", true},
                           {"training.lora.r", 4},
                           {"training.lora.lora_alpha", 8},
                           {"training.learning_rate", 0.05},
                           {"training.max_steps", 4},
                           {"training.eval_steps", 2},
                           {"training.logging_steps", 1},
                           {"training.val_split", 0.2}});
  fixture_run("train-sft", with_config({}, write_config(f.dir + "/sft-lora.json", lora)), f.dir);

  // The eval set in the short prompts' form, with one row whose stored target is invalid
  // (evaluation.include_invalid).
  std::vector<json> rows = json_lines(slurp(f.ds + "/d_05_eval_set.jsonl"));
  if (rows.size() < 3) throw std::runtime_error("the fixture's eval set is too small");
  for (json& r : rows)
    r["prompt"] = "Schema " + r["schema_id"].get<std::string>() +
                  ". Fields: " + fields_of.at(r["schema_id"]) + "\nRequest: " + r["query"].get<std::string>();
  rows[0]["is_valid"] = false;
  write_jsonl_atomic(f.eval_set, rows);
  {
    RecordingTeacher teacher({}, 0);
    json eval =
        merged(teacher_settings(teacher.url()), {{"run.threads", 1},
                                                 {"run.progress", "off"},
                                                 {"evaluation.dataset", f.eval_set},
                                                 {"evaluation.schemas", f.ds + "/d_02_final_schemas.jsonl"},
                                                 {"evaluation.base_model", f.model},
                                                 {"evaluation.adapter", f.adapter},
                                                 {"evaluation.max_new_tokens", 40},
                                                 {"evaluation.batch_size", 2},
                                                 {"evaluation.out_dir", f.dir + "/eval"}});
    fixture_run("eval-teacher", with_config({}, write_config(f.dir + "/eval.json", eval)), f.dir);
  }
  // The same records with one the teacher accepted (alignment.only_rejected), and their summary.
  std::vector<json> records = json_lines(slurp(f.eval_results));
  records[0]["teacher_verdict"] = "accept";
  records[0]["teacher_accept"] = true;
  records[0]["semantic_pass"] = records[0]["schema_valid"];
  fs::create_directories(fs::path(f.pairs_results).parent_path());
  write_jsonl_atomic(f.pairs_results, records);
  json summary = eval::summarize(records, {{"teacher_model", "teacher-sim"}});
  write_file_atomic(f.pairs_summary, summary.dump(2) + "\n");

  // DPO pairs from the corpus: each row's completion preferred to the next row's.
  std::vector<json> corpus_rows = json_lines(slurp(corpus));
  std::vector<json> pairs;
  for (size_t i = 0; i < corpus_rows.size() && pairs.size() < 6; ++i) {
    const json& r = corpus_rows[i];
    const json& other = corpus_rows[(i + 1) % corpus_rows.size()];
    if (r["completion"] == other["completion"]) continue;
    pairs.push_back({{"id", r["id"]},
                     {"schema_id", r["schema_id"]},
                     {"prompt", r["prompt"]},
                     {"chosen", r["completion"]},
                     {"rejected", other["completion"]}});
  }
  write_jsonl_atomic(f.dpo_pairs, pairs);
  json dpo = {{"run.threads", 1},
              {"run.progress", "off"},
              {"alignment.adapter", f.adapter},
              {"alignment.base_model", f.model},
              {"alignment.pairs_out", f.dpo_pairs},
              {"alignment.output_dir", f.dir + "/dpo"},
              {"alignment.max_steps", 2},
              {"alignment.save_steps", 100},
              {"alignment.logging_steps", 1},
              {"alignment.batch_size", 2},
              {"alignment.learning_rate", 0.01},
              {"alignment.warmup_steps", 1},
              {"alignment.bf16", false},
              {"alignment.max_seq_length", 8192}};
  fixture_run("train-dpo", with_config({}, write_config(f.dir + "/dpo.json", dpo)), f.dir);

  // predict's input: {id, schema, query} rows of the eval set.
  std::map<std::string, json> schemas;
  for (const json& s : json_lines(slurp(f.ds + "/d_02_final_schemas.jsonl")))
    schemas[s["schema_id"]] = s["schema"];
  std::vector<json> inputs;
  for (const json& r : rows)
    inputs.push_back({{"id", r["id"]},
                      {"prompt", r["prompt"]},
                      {"schema", schemas.at(r["schema_id"])},
                      {"query", r["query"]}});
  write_jsonl_atomic(f.predict_input, inputs);
}

Fixture make_fixture() {
  Fixture f;
  f.dir = fs::weakly_canonical(std::string(ASTFORGE_BIN_DIR) + "/../propagation-fixture").string();
  f.ds = f.dir + "/ds";
  f.sft_corpus = f.dir + "/sft_corpus.jsonl";
  f.model = f.dir + "/sft-full/checkpoint-final";
  f.adapter = f.dir + "/sft-lora/checkpoint-final";
  f.eval_set = f.dir + "/eval_set.jsonl";
  f.eval_results = f.dir + "/eval/evaluation_results.jsonl";
  f.eval_summary = f.dir + "/eval/evaluation_summary.json";
  f.pairs_results = f.dir + "/pairs-input/evaluation_results.jsonl";
  f.pairs_summary = f.dir + "/pairs-input/evaluation_summary.json";
  f.dpo_pairs = f.dir + "/dpo_pairs.jsonl";
  f.training_metrics = f.dir + "/sft-lora/training_metrics.jsonl";
  f.dpo_metrics = f.dir + "/dpo/dpo_metrics.jsonl";
  f.predict_input = f.dir + "/predict_input.jsonl";
  // Several test processes may start at once: one builds, the others wait on the lock and reuse.
  int lock = ::open((f.dir + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock < 0) throw std::runtime_error("cannot open " + f.dir + ".lock");
  flock(lock, LOCK_EX);
  const std::string stamp = fixture_stamp();
  if (slurp(f.dir + "/stamp") != stamp) {
    std::error_code ec;
    fs::remove_all(f.dir, ec);
    try {
      build_fixture(f);
    } catch (...) {
      flock(lock, LOCK_UN);
      ::close(lock);
      throw;
    }
    write_file_atomic(f.dir + "/stamp", stamp);
  }
  flock(lock, LOCK_UN);
  ::close(lock);
  return f;
}

// The teacher the ds-build and eval-teacher scenarios talk to (first answers sometimes schema-invalid, as in
// the fixture, so dataset_generation.include_invalid has negatives to keep).
teachersim::Faults some_invalid_answers() {
  teachersim::Faults faults;
  faults.invalid_rate = 0.3;
  return faults;
}

RecordingTeacher& scenario_teacher() {
  static RecordingTeacher teacher(some_invalid_answers());
  return teacher;
}

// One run of a tool in a fresh folder: the base settings with the run's over them, written as the folder's
// config.json; an optional first run in the same folder; then everything the tool did.
RunResult run_scenario(const std::string& tool, const std::vector<std::string>& args, const json& base,
                       const RunSpec& spec, RecordingTeacher* teacher) {
  TempDir dir;
  const std::string config = dir.path() + "/config.json";
  const std::string reads = dir.path() + "/.reads";
  std::map<std::string, std::string> env = spec.env;
  env[config::kReadTraceEnv] = reads;
  env["LLM_MODEL"] = "";
  env["OLLAMA_HOST"] = "";
  if (spec.prerun) {
    write_config(config, merged(merged(base, spec.settings), *spec.prerun));
    run_tool(tool, with_config(args, "config.json"), env, dir.path());
  }
  if (teacher) teacher->reset(spec.options.count("fail_first") > 0);
  write_config(config, merged(base, spec.settings));
  ToolRun r = run_tool(tool, with_config(args, "config.json"), env, dir.path());
  RunResult out;
  out.observed["exit"] = std::to_string(r.exit_code);
  out.observed["stdout"] = replace_all(r.out, dir.path(), "<run>");
  out.observed["stderr"] = replace_all(r.err, dir.path(), "<run>");
  if (teacher) {
    out.observed["requests"] = teacher->recorded();
    out.observed["~concurrency"] = teacher->overlapped() ? "overlapped" : "one at a time";
  }
  observe_files(dir.path(), out.observed, {"config.json", ".reads"});
  out.reads = parse_read_trace(slurp(reads));
  return out;
}

// What a server scenario asks once the server listens on `port`: appends each answer to `answers`, sets
// `slow` when one took over a second, and may add parts of its own to `observed`.
using AskServer = std::function<void(int port, std::string& answers, bool& slow, Observation& observed)>;

// A server (teacher-sim, serve): started with the settings, asked a fixed set of questions, stopped with
// SIGTERM; what it answered (and how fast, and where it listened) is what it did.
RunResult run_server(const std::string& tool, const json& base, const RunSpec& spec, const AskServer& ask) {
  TempDir dir;
  const std::string config = dir.path() + "/config.json";
  const std::string reads = dir.path() + "/.reads";
  json settings = merged(base, spec.settings);
  write_config(config, settings);
  std::map<std::string, std::string> env = spec.env;
  env[config::kReadTraceEnv] = reads;
  pid_t pid = spawn_tool(tool, {"--config", "config.json"}, dir.path() + "/.stdout", dir.path() + "/.stderr",
                         env, dir.path());
  RunResult out;
  // The port is the first line the server prints; it exits at once when it cannot start.
  std::string port;
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 3000 && port.empty(); ++i) {
    std::string text = slurp(dir.path() + "/.stdout");
    if (text.find('\n') != std::string::npos) port = text.substr(0, text.find('\n'));
    if (port.empty() && waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string answers;
  bool slow = false;
  if (!port.empty()) {
    const std::string port_key = tool == "serve" ? "serve.port" : "teacher_sim.port";
    json asked = settings.value(port_key, json(0));
    out.observed["port"] =
        asked.is_number() && asked.get<int>() != 0 && std::to_string(asked.get<int>()) == port
            ? "the port asked for"
            : "a free port";
    ask(std::stoi(port), answers, slow, out.observed);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
  } else if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  out.observed["exit"] = WIFEXITED(status) ? std::to_string(WEXITSTATUS(status)) : "signal";
  out.observed["answers"] = answers;
  out.observed["~speed"] = slow ? "an answer took over a second" : "every answer under a second";
  out.observed["stderr"] = slurp(dir.path() + "/.stderr");
  // How serve batched the requests, in order (the concurrent ones' batching depends on timing).
  std::regex batch_line("batch of ([0-9]+) request");
  const std::string& err = out.observed["stderr"];
  for (auto it = std::sregex_iterator(err.begin(), err.end(), batch_line); it != std::sregex_iterator(); ++it)
    out.observed["~batches"] += (*it)[1].str() + " ";
  observe_files(dir.path(), out.observed, {"config.json", ".reads", ".stdout", ".stderr"});
  // Each run listens on a port of its own: where it says which, it says "<port>".
  if (!port.empty())
    for (auto& [name, text] : out.observed) text = replace_all(text, port, "<port>");
  out.reads = parse_read_trace(slurp(reads));
  return out;
}

// teacher-sim: each of its tasks, four rounds.
void ask_teacher_sim(int port, std::string& answers, bool& slow, Observation&) {
  const Fixture& f = fixture();
  json schema_row = json_lines(slurp(f.ds + "/d_02_final_schemas.jsonl")).at(0);
  json sample = json_lines(slurp(f.ds + "/d_03_dataset.jsonl")).at(0);
  json prompt = json_lines(slurp(kRoot + "/data/domain_prompts.jsonl")).at(0);
  std::vector<teacher::ChatRequest> questions;
  for (uint64_t round = 0; round < 4; ++round) {
    questions.push_back(teacher::domain_spec_request(prompt, 3, 0.3, round));
    questions.push_back(teacher::queries_request(schema_row, 3, 0, 0.3, 0.1, round));
    questions.push_back(teacher::ast_request(schema_row["schema"], sample["query"], round));
    questions.push_back(teacher::judge_request(schema_row["schema"], sample["query"], sample["ast"], round));
  }
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  for (const auto& q : questions) {
    json body = {
        {"model", "teacher-sim"},
        {"stream", false},
        {"format", q.format},
        {"options", {{"seed", q.seed}}},
        {"messages", {{{"role", "system"}, {"content", q.system}}, {{"role", "user"}, {"content", q.user}}}}};
    auto t0 = std::chrono::steady_clock::now();
    auto res = client.Post("/api/chat", body.dump(), "application/json");
    slow = slow || std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(1000);
    answers += res ? std::to_string(res->status) + " " + res->body + "\n" : "no answer\n";
  }
}

// serve: what it lists, then answers with the config's defaults (with and without a schema, on each
// endpoint) and with a request's own options, one at a time; then three requests at once, whose batches are
// "~batches". Timings are left out of the answers.
void ask_serve(int port, std::string& answers, bool& slow, Observation& observed) {
  const Fixture& f = fixture();
  json row = json_lines(slurp(f.predict_input)).at(0);
  const std::string prompt = dataset::student_prompt(row["schema"], row["query"].get<std::string>());
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  auto tags = client.Get("/api/tags");
  answers += tags ? tags->body + "\n" : "no tags\n";
  auto answer_of = [](const std::string& body) {
    json reply = json::parse(body, nullptr, false);
    if (!reply.is_object()) return body;
    for (const char* timing : {"total_duration", "created"}) reply.erase(timing);
    return reply.dump();
  };
  auto chat = [&](const std::string& path, const json& body) {
    auto t0 = std::chrono::steady_clock::now();
    auto res = client.Post(path, body.dump(), "application/json");
    slow = slow || std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(1000);
    return res ? std::to_string(res->status) + " " + answer_of(res->body) + "\n" : std::string("no answer\n");
  };
  auto messages = [](const std::string& text) {
    return json::array({{{"role", "user"}, {"content", text}}});
  };
  answers +=
      chat("/api/chat", {{"stream", false}, {"messages", messages(prompt)}, {"format", row["schema"]}});
  answers += chat("/api/chat", {{"stream", false}, {"messages", messages(prompt)}});
  answers += chat("/api/generate", {{"stream", false}, {"prompt", prompt}, {"format", row["schema"]}});
  answers +=
      chat("/v1/chat/completions", {{"messages", messages(prompt)}, {"temperature", 0}, {"max_tokens", 5}});
  answers += chat("/api/chat", {{"stream", false},
                                {"messages", messages(prompt)},
                                {"options", {{"temperature", 1.5}, {"seed", 9}, {"num_predict", 8}}}});
  std::vector<std::string> together(3);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < together.size(); ++i)
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(60, 0);
      json body = {{"stream", false}, {"messages", messages(prompt + std::to_string(i))}};
      auto res = c.Post("/api/chat", body.dump(), "application/json");
      together[i] = res ? answer_of(res->body) : "no answer";
    });
  for (auto& t : threads) t.join();
  for (const auto& a : together) answers += a + "\n";
  (void)observed;
}

}  // namespace

const Fixture& fixture() {
  static const Fixture f = make_fixture();
  return f;
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

json base_settings(Tool tool, const std::string& variant) {
  const Fixture& f = fixture();
  const json quiet = {{"run.output_root", "out"}, {"run.threads", 1}, {"run.progress", "off"}};
  switch (tool) {
    case Tool::DsBuild:
      return merged(merged(merged(data_paths(), teacher_settings(scenario_teacher().url())), quiet),
                    {{"dataset_generation.max_domains", 2},
                     {"dataset_generation.examples_per_schema", 3},
                     {"dataset_generation.samples_per_schema", 8},
                     {"dataset_generation.eval_schema_fraction", 0.0},
                     {"dataset_generation.eval_schema_fraction", 0.0},
                     {"dataset_generation.checkpoint_every", 4},
                     {"teacher.concurrency", 4}});
    case Tool::TrainSft: {
      json s = merged(merged(scratch_sizes(), quiet), {{"training.training_corpus", f.sft_corpus},
                                                       {"training.base_model", "scratch"},
                                                       {"training.max_seq_length", 8192},
                                                       {"training.batch_size", 2},
                                                       {"training.grad_accum", 1},
                                                       {"training.learning_rate", 0.01},
                                                       {"training.warmup_steps", 1},
                                                       {"training.max_steps", 4},
                                                       {"training.save_steps", 2},
                                                       {"training.eval_steps", 2},
                                                       {"training.logging_steps", 1},
                                                       {"training.val_split", 0.2},
                                                       {"training.save_total_limit", nullptr},
                                                       {"training.bf16", false},
                                                       {"training.lora.enabled", false}});
      if (variant == "lora")
        s = merged(s, {{"training.base_model", f.model},
                       {"training.lora.enabled", true},
                       {"training.lora.r", 4},
                       {"training.lora.lora_alpha", 8},
                       {"training.lora.lora_dropout", 0.1}});
      return s;
    }
    case Tool::EvalTeacher:
      return merged(merged(teacher_settings(scenario_teacher().url()), quiet),
                    {{"evaluation.dataset", f.eval_set},
                     {"evaluation.schemas", f.ds + "/d_02_final_schemas.jsonl"},
                     {"evaluation.base_model", f.model},
                     {"evaluation.adapter", f.adapter},
                     {"evaluation.max_new_tokens", 40},
                     {"evaluation.batch_size", 2},
                     {"evaluation.checkpoint_every", 2},
                     {"teacher.concurrency", 2}});
    case Tool::PairsBuild:
      return merged(quiet, {{"alignment.eval_results", f.pairs_results},
                            {"alignment.eval_summary", f.pairs_summary},
                            {"alignment.negative_pairs", f.ds + "/d_06_negative_pairs.jsonl"}});
    case Tool::TrainDpo:
      return merged(quiet, {{"alignment.adapter", f.adapter},
                            {"alignment.base_model", f.model},
                            {"alignment.pairs_out", f.dpo_pairs},
                            {"alignment.max_steps", 4},
                            {"alignment.save_steps", 1},
                            {"alignment.logging_steps", 1},
                            {"alignment.batch_size", 2},
                            {"alignment.grad_accum", 1},
                            {"alignment.learning_rate", 0.01},
                            {"alignment.warmup_steps", 1},
                            {"alignment.bf16", false},
                            {"alignment.max_seq_length", 8192},
                            {"alignment.save_total_limit", nullptr}});
    case Tool::Report:
      return merged(quiet, {{"report.training_metrics", f.training_metrics},
                            {"report.dpo_metrics", f.dpo_metrics},
                            {"report.eval_summary", f.eval_summary},
                            {"report.eval_results", f.eval_results},
                            {"report.dpo_eval_summary", f.eval_summary},
                            {"report.plot_formats", json::array({"svg"})}});
    case Tool::Predict:
      return merged(quiet, {{"predict.model", f.model},
                            {"predict.adapter", f.adapter},
                            {"predict.input", f.predict_input},
                            {"predict.output", "out/predictions.jsonl"},
                            {"evaluation.max_new_tokens", 6},
                            {"evaluation.batch_size", 2}});
    case Tool::Export:
      return merged(quiet, {{"export.model", f.model},
                            {"export.adapter", f.adapter},
                            {"export.output_dir", "out/export"},
                            {"export.gguf_type", "f32"},
                            {"evaluation.do_sample", true}});
    case Tool::Serve:
      return merged(quiet, {{"serve.model", f.model},
                            {"serve.adapter", f.adapter},
                            {"serve.port", 0},
                            {"serve.port_file", "port"},
                            {"serve.batch_window_ms", 5},
                            {"evaluation.max_new_tokens", 24},
                            {"evaluation.do_sample", true}});
    case Tool::TeacherSim:
      return {{"teacher_sim.lexicon_dir", kRoot + "/data/teacher_sim"},
              {"dataset_generation.operator_catalog", kRoot + "/data/operator_catalog.json"},
              {"teacher_sim.port_file", "port"}};
  }
  return json::object();
}

Scenario scenario_for(Tool tool, const std::string& variant) {
  json base = base_settings(tool, variant);
  // Keys a tool does not consume are not in its base (the read trace would flag them).
  const std::string name(config::tool_name(tool));
  if (tool == Tool::TeacherSim)
    return [base](const RunSpec& spec) { return run_server("teacher-sim", base, spec, ask_teacher_sim); };
  if (tool == Tool::Serve)
    return [base](const RunSpec& spec) { return run_server("serve", base, spec, ask_serve); };
  std::vector<std::string> args =
      tool == Tool::DsBuild ? std::vector<std::string>{"all"} : std::vector<std::string>{};
  RecordingTeacher* teacher =
      tool == Tool::DsBuild || tool == Tool::EvalTeacher ? &scenario_teacher() : nullptr;
  return [name, args, base, teacher](const RunSpec& spec) {
    return run_scenario(name, args, base, spec, teacher);
  };
}

json scenario_value(Tool tool, const std::string& variant, const json& with, const std::string& key) {
  TempDir dir;
  std::string file = write_config(dir.path() + "/c.json", merged(base_settings(tool, variant), with));
  config::Findings findings;
  config::ResolveInput in;
  in.config_files = {file};
  in.getenv = [](const std::string&) { return std::optional<std::string>(); };
  config::Resolved r = config::resolve(in, findings);
  return r.values.at(key);
}

}  // namespace af::test
