// Propagation, proven by behaviour (seeds/000, seeds/001; issue 21): for every key of the field table and
// every tool that claims to consume it, the tool runs on tiny real inputs with the key at its scenario value
// and at another value, and what the tool does must change: weights after a step, metrics lines, checkpoint
// folders, rows written, the requests the teacher receives, the exit code, or (for keys whose only effect is
// what a tool prints) the stderr lines they govern. A key that changes nothing is dead, and this test names
// it and the tool. While the runs execute, the config's read trace records every key the code read: a key a
// tool claims but never reads fails too. Keys whose feature is not built are refused instead
// (propagation_test.cpp proves the refusal on every path).
#include "support/torch_doctest.h"

#include <map>
#include <set>

#include "config/table.h"
#include "propagation_scenarios.h"

using namespace af::test;
using af::config::Field;
using af::config::FieldType;
using af::config::Tool;
using json = nlohmann::json;

namespace {

// How a probe differs from the automatic one (a value one step from the scenario's, the base as it is).
struct Shape {
  std::optional<json> value;
  json with = json::object();
  std::map<std::string, std::string> env, options;
  std::optional<json> prerun;
  std::string watch, why;
};

// The loop keys train-sft and train-dpo share, shaped alike under either section.
void add_loop_shapes(std::map<std::string, Shape>& s, const std::string& tool, const std::string& sec) {
  auto k = [&](const char* name) { return tool + ":" + sec + "." + name; };
  s[k("fp16")] = {true,
                  {{sec + ".bf16", false}},
                  {},
                  {},
                  {},
                  "",
                  "float16 needs CUDA: on this CPU-only machine its only effect is the refusal"};
  s[k("max_seq_length")] = {64, {}, {}, {}, {}, "", "a budget shorter than the rows drops them"};
  s[k("warmup_ratio")] = {0.5,
                          {{sec + ".warmup_steps", 0}},
                          {},
                          {},
                          {},
                          "",
                          "an explicit warmup_steps > 0 would make the ratio an error"};
  s[k("num_epochs")] = {1.0,
                        {{sec + ".max_steps", nullptr}, {sec + ".num_epochs", 0.5}},
                        {},
                        {},
                        {},
                        "",
                        "num_epochs counts only when max_steps is null"};
  s[k("adam_epsilon")] = {1e-3, {}, {}, {}, {}, "", "a change the float32 update shows for sure"};
  s[k("max_grad_norm")] = {1e-3, {}, {}, {}, {}, "", "a norm every step's gradient exceeds"};
  s[k("nonfinite_patience")] = {1,
                                {},
                                {{"ASTFORGE_FAULT_NONFINITE_STEPS", "1,2"}},
                                {},
                                {},
                                "",
                                "steps 1 and 2 have a NaN loss (fault injection): patience 1 stops the run"};
  s[k("resume_from_checkpoint")] = {
      "latest",
      {},
      {},
      {},
      json{{sec + ".learning_rate", 0.2}, {sec + ".max_steps", 2}},
      "",
      "a first run with another learning rate leaves checkpoint-2 to resume from"};
  s[k("gradient_checkpointing")] = {
      {},
      {},
      {},
      {},
      {},
      "stderr~gradient checkpointing",
      "the same gradients by design: the run says how many layers it recomputed"};
}

std::map<std::string, Shape> make_shapes() {
  const Fixture& f = fixture();
  std::map<std::string, Shape> s;
  // Keys whose effect is only what a tool prints.
  s["*:run.log_level"] = {
      "error", {}, {}, {}, {}, "stderr", "log lines are its only effect: error hides the rest"};
  s["*:run.progress"] = {{},
                         {{"run.progress_interval", 3600.0}},  // no timed lines on a slow run (see below)
                         {},
                         {},
                         {},
                         "stderr",
                         "progress lines are its only effect"};
  // The baseline's interval is an hour, not the default 10 s: a run slowed past 10 s on a loaded machine
  // would print a timed line one baseline run lacks (CI saw it).
  s["*:run.progress_interval"] = {
      1e-6,     {{"run.progress", "lines"}, {"run.progress_interval", 3600.0}}, {}, {}, {},
      "stderr", "a line per unit of work instead of none within the hour"};
  s["*:run.threads"] = {2,
                        {{"run.log_level", "debug"}},
                        {},
                        {},
                        {},
                        "stderr~tensor math on",
                        "the numbers do not depend on threads; the tool logs the count torch took"};
  s["*:run.device"] = {
      "cuda",
      {},
      {},
      {},
      {},
      "",
      "no CUDA here: auto and cpu both run on the CPU, so refusing cuda is the visible effect"};
  // The teacher's settings, as they reach the wire.
  s["*:teacher.timeout"] = {0.001, {}, {}, {}, {}, "", "answers take 100 ms here: 1 ms fails every request"};
  s["*:teacher.retries"] = {0,
                            {{"teacher.concurrency", 1}},
                            {},
                            {{"fail_first", "1"}},
                            {},
                            "",
                            "the first request fails once (one request in flight: always the same one)"};
  s["*:teacher.retry_wait"] = {{},
                               {{"run.log_level", "debug"}, {"teacher.concurrency", 1}},
                               {},
                               {{"fail_first", "1"}},
                               {},
                               "stderr~retry ",
                               "the first request fails once; the client logs the wait before the retry"};
  s["*:teacher.concurrency"] = {
      1, {}, {}, {}, {}, "~concurrency", "one request in flight instead of several"};
  s["*:teacher.host"] = {json::array({"http://127.0.0.1:9"}), {}, {}, {}, {}, "", "a host nobody listens on"};
  s["*:teacher.api_key_env"] = {"HOME", {}, {}, {}, {}, "", "the variable's value becomes the bearer token"};
  // ds-build.
  s["ds-build:teacher_sim.lexicon_dir"] = {{},
                                           {{"dataset_generation.offline_fallback", true}},
                                           {},
                                           {},
                                           {},
                                           "",
                                           "ds-build reads the lexicons only for its in-process teacher"};
  s["ds-build:dataset_generation.eval_schema_fraction"] = {
      0.5, {}, {}, {}, {}, "", "the scenario holds no schema out; 0.5 of two holds one"};
  s["ds-build:dataset_generation.eval_row_fraction"] = {0.5, {}, {}, {}, {}, "", "a share that moves rows"};
  s["ds-build:dataset_generation.french_ratio"] = {0.9, {}, {}, {}, {}, "", "a share that moves requests"};
  s["ds-build:dataset_generation.refusal_ratio"] = {0.5, {}, {}, {}, {}, "", "a share that moves requests"};
  s["ds-build:dataset_generation.checkpoint_every"] = {
      {},
      {{"run.log_level", "debug"}},
      {},
      {},
      {},
      "stderr~checkpoint:",
      "a finished run's files are the same: it saves more often"};
  s["ds-build:dataset_generation.resume"] = {
      false, {}, {}, {}, json::object(), "", "after a finished run, resuming asks the teacher nothing"};
  // train-sft.
  add_loop_shapes(s, "train-sft", "training");
  s["train-sft:training.eval_max_samples"] = {1, {}, {}, {}, {}, "", "fewer eval rows than the split holds"};
  s["train-sft:training.early_stop_min_delta"] = {
      100.0,
      {{"training.eval_steps", 1}, {"training.early_stop_patience", 1}},
      {},
      {},
      {},
      "",
      "no evaluation can improve by 100: it stops early"};
  s["train-sft:training.early_stop_patience"] = {
      {},
      {{"training.eval_steps", 1}, {"training.early_stop_min_delta", 100.0}, {"training.max_steps", 6}},
      {},
      {},
      {},
      "",
      "no evaluation counts as progress: patience decides the step it stops at"};
  const json best = {{"training.learning_rate", 0.3},
                     {"training.max_steps", 6},
                     {"training.save_steps", 1},
                     {"training.eval_steps", 1},
                     {"training.early_stop_patience", 0}};
  json best_by_loss = best;
  best_by_loss["training.metric_for_best_model"] = "loss";
  s["train-sft:training.load_best_model_at_end"] = {{},
                                                    best_by_loss,
                                                    {},
                                                    {},
                                                    {},
                                                    "",
                                                    "at a high learning rate the training loss is lowest "
                                                    "before the last step: that checkpoint is the best"};
  json best_on = best;
  best_on["training.load_best_model_at_end"] = true;
  s["train-sft:training.metric_for_best_model"] = {
      {}, best_on, {}, {}, {}, "", "eval_loss and the training loss pick different checkpoints"};
  s["train-sft:training.scratch.head_dim"] = {16, {}, {}, {}, {}, "", "RoPE needs an even head size"};
  s["train-sft:training.lora.bias"] = {
      "all", {}, {}, {}, {}, "", "Gemma 3 has no bias terms: refusing is what the key does on it"};
  // train-dpo.
  add_loop_shapes(s, "train-dpo", "alignment");
  s["train-dpo:training.scratch.dir"] = {
      {},
      {{"alignment.base_model", "scratch"}, {"training.scratch.dir", f.model}},
      {},
      {},
      {},
      "",
      "read when the base model is \"scratch\""};
  // eval-teacher and predict decode alike.
  for (const std::string tool : {"eval-teacher", "predict", "serve"}) {
    for (const char* key : {"evaluation.temperature", "evaluation.top_p", "evaluation.top_k"})
      s[tool + ":" + key] = {{}, {{"evaluation.do_sample", true}},  {}, {}, {},
                             "", "sampling settings need do_sample"};
    s[tool + ":evaluation.key_order"] = {
        {}, {{"evaluation.constrained", true}, {"evaluation.max_new_tokens", 300}},       {}, {}, {},
        "", "key order matters under constrained decoding, once several keys are written"};
    s[tool + ":evaluation.repetition_penalty"] = {
        2.0, {}, {}, {}, {}, "", "the barely trained student repeats tokens: a penalty changes them"};
    s[tool + ":evaluation.dtype"] = {
        {},
        {},
        {},
        {},
        {},
        "stderr~ loaded ",
        "greedy choices of a tiny model survive bfloat16 rounding: the load line says "
        "what the weights were converted to (read back from them)"};
  }
  s["predict:run.seed"] = {{}, {{"evaluation.do_sample", true}}, {}, {}, {},
                           "", "greedy decoding draws nothing"};
  s["predict:training.scratch.dir"] = {{},
                                       {{"predict.model", "scratch"}, {"training.scratch.dir", f.model}},
                                       {},
                                       {},
                                       {},
                                       "",
                                       "read when the model is \"scratch\""};
  s["export:training.scratch.dir"] = {{},
                                      {{"export.model", "scratch"}, {"training.scratch.dir", f.model}},
                                      {},
                                      {},
                                      {},
                                      "",
                                      "read when the model is \"scratch\""};
  s["serve:training.scratch.dir"] = {{},
                                     {{"serve.model", "scratch"}, {"training.scratch.dir", f.model}},
                                     {},
                                     {},
                                     {},
                                     "",
                                     "read when the model is \"scratch\""};
  s["serve:evaluation.key_order"] = {
      {},
      {{"evaluation.max_new_tokens", 300}},
      {},
      {},
      {},
      "",
      "key order matters in the answers held to a schema, once several keys are written"};
  s["serve:serve.bind"] = {"127.0.0.2", {}, {}, {}, {}, "", "the test asks 127.0.0.1"};
  s["serve:serve.port"] = {free_port(), {}, {}, {}, {}, "", "a free port instead of any"};
  s["serve:serve.max_batch"] = {
      1,
      {{"serve.batch_window_ms", 1500}},
      {},
      {},
      {},
      "~batches",
      "three requests at once share a batch within a 1.5 s window, unless one fills it"};
  s["serve:serve.batch_window_ms"] = {
      1500, {}, {}, {}, {}, "~speed", "a request alone waits the whole window for company"};
  s["export:export.dtype"] = {
      "bfloat16", {{"export.format", "hf"}}, {}, {}, {}, "", "the hf folder's weights are what it sets"};
  s["eval-teacher:training.scratch.dir"] = {
      {},
      {{"evaluation.base_model", "scratch"}, {"training.scratch.dir", f.model}},
      {},
      {},
      {},
      "",
      "read when the base model is \"scratch\""};
  s["eval-teacher:evaluation.sample_seed"] = {{}, {{"evaluation.max_samples", 2}},   {}, {}, {},
                                              "", "the seed of the max_samples draw"};
  s["eval-teacher:evaluation.checkpoint_every"] = {
      {},
      {{"run.log_level", "debug"}},
      {},
      {},
      {},
      "stderr~checkpoint:",
      "a finished run's files are the same: it saves more often"};
  s["eval-teacher:evaluation.resume"] = {
      false, {}, {}, {}, json::object(), "", "after a finished run, resuming generates and asks nothing"};
  // pairs-build.
  s["pairs-build:alignment.negative_pairs"] = {
      nullptr, {}, {}, {}, {}, "", "without it, no dataset negatives"};
  // report.
  s["report:report.worst_failures"] = {1, {}, {}, {}, {}, "", "fewer rows than the failures there are"};
  // teacher-sim.
  s["teacher-sim:teacher_sim.bind"] = {"127.0.0.2", {}, {}, {}, {}, "", "the test asks 127.0.0.1"};
  s["teacher-sim:teacher_sim.port"] = {free_port(), {}, {}, {}, {}, "", "a free port instead of any"};
  s["teacher-sim:teacher_sim.invalid_rate"] = {
      1.0, {}, {}, {}, {}, "", "chosen by the question: at 1 every first AST answer is invalid"};
  s["teacher-sim:teacher_sim.delay_ms"] = {1500, {}, {}, {}, {}, "~speed", "each answer waits 1.5 s"};
  return s;
}

const Shape* shape_of(const std::string& tool, const std::string& key) {
  static const std::map<std::string, Shape> shapes = make_shapes();
  for (const std::string& k : {tool + ":" + key, "*:" + key}) {
    auto it = shapes.find(k);
    if (it != shapes.end()) return &it->second;
  }
  return nullptr;
}

// A valid value one step from `now` (the key's value in the scenario).
json next_value(const Field& f, const json& now) {
  switch (f.type) {
    case FieldType::Bool:
      return !(now.is_boolean() && now.get<bool>());
    case FieldType::Int: {
      if (now.is_null()) return static_cast<int64_t>(std::max(1.0, f.min.value_or(1.0)));
      int64_t up = now.get<int64_t>() + 1;
      return f.max && static_cast<double>(up) > *f.max ? now.get<int64_t>() - 1 : up;
    }
    case FieldType::Float: {
      double d = now.is_number() ? now.get<double>() : 0.0;
      return d > 0 ? d / 2 : 0.25;
    }
    case FieldType::String:
      return "probe-" + f.name();
    case FieldType::Path:
      return "probe/" + f.name() + ".out";
    case FieldType::Enum:
      for (const auto& c : f.choices)
        if (c != now) return c;
      break;
    case FieldType::StringList:
      return json::array({"http://127.0.0.1:9"});
    case FieldType::EnumList:
      for (const auto& c : f.choices)
        if (json::array({c}) != now && c != "all-linear") return json::array({c});
      break;
    case FieldType::BoolOrEnum:
      return "gaussian";
  }
  return nullptr;
}

// Proves every key `tool` consumes (those `take` selects), in the scenario's variant `variant_of(key)`.
void prove_tool(
    Tool tool, const std::function<bool(const Field&)>& take,
    const std::function<std::string(const Field&)>& variant_of = [](const Field&) { return ""; }) {
  const std::string name(af::config::tool_name(tool));
  std::map<std::string, PropagationChecker> checkers;
  size_t proven = 0, refused = 0;
  std::vector<std::string> failures;
  for (const Field* f : af::config::fields_for(tool)) {
    if (!take(*f)) continue;
    if (refused_when_set(*f)) {
      ++refused;
      continue;
    }
    const std::string variant = variant_of(*f);
    auto it = checkers.find(variant);
    if (it == checkers.end())
      it = checkers.emplace(variant, PropagationChecker(name, scenario_for(tool, variant))).first;
    Probe p;
    p.key = f->path;
    const Shape* shape = shape_of(name, f->path);
    if (shape) {
      p.with = shape->with;
      p.env = shape->env;
      p.options = shape->options;
      p.prerun = shape->prerun;
      p.watch = shape->watch;
      p.why = shape->why;
    }
    p.value = shape && shape->value ? *shape->value
                                    : next_value(*f, scenario_value(tool, variant, p.with, f->path));
    Verdict v = it->second.check(p);
    if (v.alive) {
      ++proven;
    } else {
      failures.push_back(v.message);
    }
    // The read trace: the key reached the code (read by name, or through a value built from it).
    if (!it->second.reads().count(f->path))
      failures.push_back(f->path + ": " + name + " claims it (field table) but never read it in any run");
  }
  for (const auto& [variant, checker] : checkers) {
    for (const auto& [key, kind] : checker.reads()) {
      const Field* f = af::config::find_field(key);
      if (kind == "direct" && (f == nullptr || !af::config::has_tool(f->consumers, tool)))
        failures.push_back(name + " read " + key + ", which the field table does not say it consumes");
    }
  }
  size_t runs = 0;
  for (const auto& [variant, checker] : checkers) runs += checker.runs();
  MESSAGE(name, ": ", proven, " keys proven by behaviour, ", refused, " refused when set (not built), ",
          failures.size(), " failures, in ", runs, " runs");
  for (const auto& failure : failures) CHECK_MESSAGE(false, failure);
}

bool all(const Field&) {
  return true;
}

}  // namespace

TEST_CASE("propagation: every key ds-build consumes changes what ds-build does") {
  prove_tool(Tool::DsBuild, all);
}

TEST_CASE("propagation: every training.* loop key changes what train-sft does") {
  prove_tool(Tool::TrainSft, [](const Field& f) {
    return f.path.rfind("training.lora.", 0) != 0 && f.path.rfind("training.scratch.", 0) != 0;
  });
}

TEST_CASE("propagation: every LoRA and scratch-student key changes what train-sft does") {
  prove_tool(
      Tool::TrainSft,
      [](const Field& f) {
        return f.path.rfind("training.lora.", 0) == 0 || f.path.rfind("training.scratch.", 0) == 0;
      },
      [](const Field& f) { return f.path.rfind("training.lora.", 0) == 0 ? "lora" : ""; });
}

TEST_CASE("propagation: every key train-dpo consumes changes what train-dpo does") {
  prove_tool(Tool::TrainDpo, all);
}

TEST_CASE("propagation: every key eval-teacher consumes changes what eval-teacher does") {
  prove_tool(Tool::EvalTeacher, all);
}

TEST_CASE(
    "propagation: every key predict, pairs-build, report and teacher-sim consume changes what they do") {
  for (Tool t : {Tool::Predict, Tool::PairsBuild, Tool::Report, Tool::TeacherSim}) prove_tool(t, all);
}

TEST_CASE("propagation: every key serve consumes changes what serve answers") {
  prove_tool(Tool::Serve, all);
}

TEST_CASE("propagation: every key export consumes changes what export writes") {
  prove_tool(Tool::Export, all);
}
