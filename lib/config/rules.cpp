#include "config/rules.h"

#include <regex>

#include "config/resolve.h"

namespace af::config {
namespace {

using json = nlohmann::json;

// Where to point at for a rule about several keys: the first one the user set, else the first.
const Origin& place(const Resolved& r, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (r.is_explicit(k)) return r.origin(k);
  return r.origin(*keys.begin());
}

const char* first_explicit(const Resolved& r, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (r.is_explicit(k)) return k;
  return *keys.begin();
}

double num(const Resolved& r, const std::string& key) {
  const json& v = r.get(key);
  return v.is_number() ? v.get<double>() : 0.0;
}

bool flag_on(const Resolved& r, const std::string& key) {
  const json& v = r.get(key);
  return v.is_boolean() && v.get<bool>();
}

void derive_schedule(Resolved& r, const std::string& sec, Findings& out) {
  const std::string ws = sec + ".warmup_steps", wr = sec + ".warmup_ratio";
  if (r.is_explicit(wr) && num(r, wr) > 0) {
    if (!r.is_explicit(ws)) {
      r.values[ws] = 0;
      r.origins[ws] = Origin::derived(wr + " is set");
    } else if (num(r, ws) > 0) {
      out.error("mutually_exclusive", wr, r.origin(wr), "warmup_ratio and warmup_steps are both set").hint =
          "set one of them (" + ws + " at " + r.origin(ws).describe() + ")";
    }
  }
  const std::string ms = sec + ".max_steps", ne = sec + ".num_epochs";
  if (r.is_explicit(ne)) {
    if (!r.is_explicit(ms)) {
      r.values[ms] = nullptr;
      r.origins[ms] = Origin::derived(ne + " is set");
    } else if (!r.is_null(ms)) {
      out.warning("ignored", ne, r.origin(ne), "num_epochs is ignored because max_steps is also set").hint =
          "max_steps takes precedence; set " + ms + ": null to train by epochs";
    }
  }
}

void check_precision(const Resolved& r, const std::string& sec, Findings& out) {
  const std::string bf = sec + ".bf16", fp = sec + ".fp16";
  if (flag_on(r, bf) && flag_on(r, fp)) {
    out.error("mutually_exclusive", fp, place(r, {fp.c_str(), bf.c_str()}), "bf16 and fp16 are both true")
        .hint = "choose one precision: set " + bf + ": false to use fp16";
  }
  if (flag_on(r, fp)) {
    const std::string device = r.get_string("run.device");
    if (device == "cpu") {
      out.error("cross_field", fp, r.origin(fp), "fp16 needs a CUDA device, and run.device is cpu").hint =
          "use bf16 on CPU";
    } else if (device == "auto") {
      out.warning("cross_field", fp, r.origin(fp), "fp16 works only when a CUDA device is found").hint =
          "set run.device: cuda to fail early when there is none";
    }
  }
}

// True when `key` was set explicitly at or after the place that set `other`: a setting a base config made
// and a later layer made moot (a child config's val_split: 0 over the parent's eval_steps) is not an error.
bool set_since(const Resolved& r, const std::string& key, const std::string& other) {
  return r.is_explicit(key) && r.origin(key).layer >= r.origin(other).layer;
}

void check_training(const Resolved& r, Findings& out) {
  const bool no_eval = num(r, "training.val_split") == 0;
  if (no_eval) {
    for (const char* k : {"training.eval_steps", "training.eval_max_samples", "training.eval_batch_size"}) {
      if (set_since(r, k, "training.val_split")) {
        out.error("cross_field", k, r.origin(k),
                  "has no effect: training.val_split is 0, so nothing is evaluated")
            .hint = "set training.val_split > 0, or remove this key";
      }
    }
    if (flag_on(r, "training.load_best_model_at_end")) {
      out.error("cross_field", "training.load_best_model_at_end", r.origin("training.load_best_model_at_end"),
                "needs evaluation, but training.val_split is 0")
          .hint = "set training.val_split > 0";
    }
    if (set_since(r, "training.early_stop_patience", "training.val_split") &&
        num(r, "training.early_stop_patience") > 0) {
      out.error("cross_field", "training.early_stop_patience", r.origin("training.early_stop_patience"),
                "early stopping watches eval_loss, but training.val_split is 0")
          .hint = "set training.val_split > 0, or early_stop_patience: 0";
    }
  }
  if (flag_on(r, "training.load_best_model_at_end")) {
    auto save = static_cast<int64_t>(num(r, "training.save_steps"));
    auto eval = static_cast<int64_t>(num(r, "training.eval_steps"));
    if (eval > 0 && save % eval != 0) {
      out.error("cross_field", "training.save_steps",
                place(r, {"training.save_steps", "training.eval_steps"}),
                "load_best_model_at_end needs save_steps to be a multiple of eval_steps (" +
                    std::to_string(save) + " is not a multiple of " + std::to_string(eval) + ")")
          .hint = "otherwise the best evaluated step may have no checkpoint";
    }
  }
  if (!r.is_null("training.max_steps")) {
    auto steps = num(r, "training.max_steps");
    if (num(r, "training.warmup_steps") >= steps && steps > 0) {
      out.warning("cross_field", "training.warmup_steps",
                  place(r, {"training.warmup_steps", "training.max_steps"}),
                  "warmup lasts the whole run (warmup_steps >= max_steps)")
          .hint = "the learning rate never reaches its peak; lower warmup_steps";
    }
    if (num(r, "training.logging_steps") > steps) {
      out.warning("cross_field", "training.logging_steps",
                  place(r, {"training.logging_steps", "training.max_steps"}),
                  "logging_steps > max_steps: no training metrics line will be written");
    }
    if (!no_eval && num(r, "training.eval_steps") > steps) {
      out.warning("cross_field", "training.eval_steps",
                  place(r, {"training.eval_steps", "training.max_steps"}),
                  "eval_steps > max_steps: evaluation runs only at the end");
    }
  }
  const auto modules = r.get_list("training.lora.target_modules");
  if (modules.size() > 1 && std::find(modules.begin(), modules.end(), "all-linear") != modules.end()) {
    out.error("cross_field", "training.lora.target_modules", r.origin("training.lora.target_modules"),
              "all-linear already names every linear layer; it cannot be combined with module names")
        .hint = "write target_modules: all-linear, or list the modules";
  }
  if (r.get_string("training.base_model") == "scratch") {
    auto heads = static_cast<int64_t>(num(r, "training.scratch.num_heads"));
    auto kv = static_cast<int64_t>(num(r, "training.scratch.num_kv_heads"));
    if (kv > 0 && heads % kv != 0) {
      out.error("cross_field", "training.scratch.num_kv_heads",
                place(r, {"training.scratch.num_kv_heads", "training.scratch.num_heads"}),
                "num_kv_heads must divide num_heads (" + std::to_string(heads) + " % " + std::to_string(kv) +
                    " != 0)");
    }
    if (num(r, "training.max_seq_length") > num(r, "training.scratch.max_position_embeddings")) {
      out.error("cross_field", "training.max_seq_length",
                place(r, {"training.max_seq_length", "training.scratch.max_position_embeddings"}),
                "max_seq_length is longer than the scratch model's max_position_embeddings")
          .hint = "lower training.max_seq_length or raise training.scratch.max_position_embeddings";
    }
    if (r.is_explicit("training.lora.enabled") && flag_on(r, "training.lora.enabled")) {
      out.warning("cross_field", "training.lora.enabled", r.origin("training.lora.enabled"),
                  "LoRA on a randomly initialised scratch model trains only the adapters")
          .hint = "set training.lora.enabled: false to train the whole scratch model";
    }
  }
}

void check_generation(const Resolved& r, Findings& out) {
  if (flag_on(r, "evaluation.do_sample")) return;
  for (const char* k : {"evaluation.temperature", "evaluation.top_p", "evaluation.top_k"}) {
    if (r.is_explicit(k)) {
      out.warning("ignored", k, r.origin(k), "has no effect: evaluation.do_sample is false (greedy decoding)")
          .hint = "set evaluation.do_sample: true to sample";
    }
  }
}

void check_teacher(const Resolved& r, Findings& out,
                   const std::function<std::optional<std::string>(const std::string&)>& getenv) {
  static const std::regex kHost(
      R"(^(https?://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?(/[^\s]*)?$)");
  for (const auto& host : r.get_list("teacher.host")) {
    if (!std::regex_match(host, kHost)) {
      Finding& e =
          out.error("invalid_value", "teacher.host", r.origin("teacher.host"), "not a server address");
      e.found = "\"" + host + "\"";
      e.expected = "http://HOST:PORT, https://HOST:PORT or HOST:PORT";
    }
  }
  if (!r.is_null("teacher.api_key_env")) {
    std::string var = r.get_string("teacher.api_key_env");
    if (!getenv(var)) {
      out.warning("missing_env", "teacher.api_key_env", r.origin("teacher.api_key_env"),
                  "environment variable " + var + " is not set")
          .hint = "export " + var + "=... before running, or set teacher.api_key_env: null";
    }
  }
  if (!r.is_null("teacher.api_key") && !r.is_null("teacher.api_key_env")) {
    out.error("mutually_exclusive", "teacher.api_key", place(r, {"teacher.api_key", "teacher.api_key_env"}),
              "teacher.api_key and teacher.api_key_env are both set")
        .hint = "keep api_key_env (the key stays out of config files)";
  }
}

}  // namespace

static void check_all(const Resolved& r, Findings& findings,
                      const std::function<std::optional<std::string>(const std::string&)>& getenv);

void derive_settings(Resolved& r, Findings& findings) {
  derive_schedule(r, "training", findings);
  derive_schedule(r, "alignment", findings);
}

void check_cross_field_rules(const Resolved& r, Findings& findings,
                             const std::function<std::optional<std::string>(const std::string&)>& getenv) {
  try {
    check_all(r, findings, getenv);
  } catch (const nlohmann::json::exception&) {
    // A key involved still holds a value that failed its own check; that error is already reported.
  }
}

static void check_all(const Resolved& r, Findings& findings,
                      const std::function<std::optional<std::string>(const std::string&)>& getenv) {
  check_precision(r, "training", findings);
  check_precision(r, "alignment", findings);
  if (flag_on(r, "training.load_in_4bit") && flag_on(r, "training.load_in_8bit")) {
    findings
        .error("mutually_exclusive", "training.load_in_8bit",
               place(r, {"training.load_in_8bit", "training.load_in_4bit"}),
               "load_in_4bit and load_in_8bit are both true")
        .hint = "choose one quantization";
  }
  if (num(r, "dataset_generation.min_operators") > num(r, "dataset_generation.max_operators")) {
    const char* k =
        first_explicit(r, {"dataset_generation.min_operators", "dataset_generation.max_operators"});
    findings.error("cross_field", k, r.origin(k), "min_operators is greater than max_operators").hint =
        "min_operators must be <= max_operators";
  }
  check_training(r, findings);
  check_generation(r, findings);
  check_teacher(r, findings, getenv);
}

}  // namespace af::config
