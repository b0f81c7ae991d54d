// THE config field table: every key of the whole pipeline, declared once. Defaults follow seeds/004
// ("Defaults explained") unless a comment says why not. "${a.b}" in a default refers to another key.
#include <algorithm>
#include <functional>
#include <map>

#include "config/table.h"
#include "core/hash.h"

namespace af::config {
namespace {

using json = nlohmann::json;
using T = FieldType;

constexpr ToolSet DS = static_cast<ToolSet>(Tool::DsBuild);
constexpr ToolSet SFT = static_cast<ToolSet>(Tool::TrainSft);
constexpr ToolSet EVAL = static_cast<ToolSet>(Tool::EvalTeacher);
constexpr ToolSet PAIRS = static_cast<ToolSet>(Tool::PairsBuild);
constexpr ToolSet DPO = static_cast<ToolSet>(Tool::TrainDpo);
constexpr ToolSet REPORT = static_cast<ToolSet>(Tool::Report);
constexpr ToolSet PREDICT = static_cast<ToolSet>(Tool::Predict);
constexpr ToolSet SIM = static_cast<ToolSet>(Tool::TeacherSim);
constexpr ToolSet EXPORT = static_cast<ToolSet>(Tool::Export);
constexpr ToolSet SERVE = static_cast<ToolSet>(Tool::Serve);
constexpr ToolSet STAGES = DS | SFT | EVAL | PAIRS | DPO | REPORT;
constexpr ToolSet MODEL_TOOLS = SFT | EVAL | DPO | PREDICT | EXPORT | SERVE;
constexpr ToolSet ALL = STAGES | PREDICT | EXPORT | SERVE | SIM;
// The tools that generate with the evaluation.* decoding settings.
constexpr ToolSet DECODERS = EVAL | PREDICT | SERVE;

// Fluent declaration of one key.
class Def {
 public:
  Def(std::string path, T type, json def) {
    f_.path = std::move(path);
    f_.type = type;
    f_.default_value = std::move(def);
  }
  Def& doc(std::string d) { return f_.description = std::move(d), *this; }
  Def& tools(ToolSet t) { return f_.consumers = t, *this; }
  Def& nullable() { return f_.nullable = true, *this; }
  Def& ge(double v) { return f_.min = v, f_.min_exclusive = false, *this; }
  Def& gt(double v) { return f_.min = v, f_.min_exclusive = true, *this; }
  Def& le(double v) { return f_.max = v, f_.max_exclusive = false, *this; }
  Def& lt(double v) { return f_.max = v, f_.max_exclusive = true, *this; }
  Def& choices(std::vector<std::string> c) { return f_.choices = std::move(c), *this; }
  Def& flag(std::string name) { return f_.flag = std::move(name), *this; }
  Def& flag_alias(std::string name) { return f_.flag_aliases.push_back(std::move(name)), *this; }
  Def& env(std::string name) { return f_.env = std::move(name), *this; }
  Def& secret() { return f_.secret = true, *this; }
  Def& not_yet(std::vector<json> values, std::string reason) {
    f_.unsupported_values = std::move(values);
    f_.unsupported_reason = std::move(reason);
    return *this;
  }
  Def& invalid(std::vector<json> values, std::string reason) {
    f_.invalid_values = std::move(values);
    f_.invalid_reason = std::move(reason);
    return *this;
  }
  operator Field() const { return f_; }

 private:
  Field f_;
};

const std::vector<std::string> kLoraTargets = {"q_proj",    "k_proj",  "v_proj",    "o_proj",
                                               "gate_proj", "up_proj", "down_proj", "all-linear"};

std::vector<Section> build_sections() {
  return {
      {"run", "What this run is called, its seed, where outputs go, and how tools log.", ""},
      {"teacher", "The teacher LLM: an Ollama (/api/chat) or OpenAI-compatible server, or teacher-sim.",
       "teacher-"},
      {"teacher_sim", "teacher-sim, the deterministic loopback teacher used by tests and the dev config.",
       ""},
      {"dataset_generation",
       "ds-build: domain specs, schemas, (query, AST) samples, the SFT corpus and the "
       "held-out eval set.",
       ""},
      {"training", "train-sft: supervised fine-tuning of the student.", ""},
      {"training.lora", "LoRA adapter settings (PEFT-compatible).", "lora-"},
      {"training.scratch", "Size of the student built from scratch when training.base_model is \"scratch\".",
       "scratch-"},
      {"evaluation",
       "eval-teacher (and the generation settings of predict, serve and export's Modelfile): the student "
       "judged by the teacher.",
       ""},
      {"predict", "predict: the trained student in use.", ""},
      {"export", "export: the student as a Hugging Face folder or GGUF files, with an Ollama Modelfile.", ""},
      {"serve",
       "serve: the student behind Ollama's and OpenAI's chat endpoints, answers held to the request's "
       "schema.",
       ""},
      {"alignment", "pairs-build and train-dpo: preference pairs from teacher verdicts and DPO.", ""},
      {"report", "report: Markdown and plots from metrics and evaluations.", ""},
  };
}

std::vector<Field> run_keys() {
  return {
      Def("run.name", T::String, "gemma3-270m")
          .flag("run-name")
          .tools(SFT | DPO | REPORT)
          .doc("Name of the run: names the student run directory and the report directory."),
      Def("run.seed", T::Int, 3407)
          .ge(0)
          .flag("seed")
          .tools(DS | SFT | EVAL | DPO | PREDICT | SERVE | SIM)
          .doc("Seeds everything: data shuffles and splits, initialisation, dropout, sampling, teacher-sim. "
               "Same inputs and seed give the same outputs."),
      Def("run.output_root", T::Path, "outputs")
          .tools(STAGES)
          .doc("Directory under which every stage writes its outputs (the default output paths start here)."),
      Def("run.log_level", T::Enum, "info")
          .choices({"debug", "info", "warn", "error"})
          .tools(ALL)
          .doc("Least severe log level printed on stderr."),
      Def("run.progress", T::Enum, "auto")
          .choices({"auto", "bar", "lines", "off"})
          .tools(DS | SFT | EVAL | DPO | PREDICT)
          .doc("Progress display: a bar on a terminal, periodic log lines otherwise (auto), or forced."),
      Def("run.progress_interval", T::Float, 10.0)
          .gt(0)
          .tools(DS | SFT | EVAL | DPO | PREDICT)
          .doc("Seconds between progress log lines when not on a terminal."),
      Def("run.device", T::Enum, "auto")
          .choices({"auto", "cpu", "cuda"})
          .tools(MODEL_TOOLS)
          .doc("Where the student runs: cuda when available (auto), or forced."),
      Def("run.threads", T::Int, 0)
          .ge(0)
          .le(1024)
          .tools(MODEL_TOOLS)
          .doc("CPU threads for tensor math; 0 uses every core."),
  };
}

std::vector<Field> teacher_keys() {
  return {
      Def("teacher.model", T::String, "gpt-oss:120b")
          .env("LLM_MODEL")
          .tools(DS | EVAL)
          .doc("Teacher model id (an Ollama tag such as gpt-oss:120b, or teacher-sim)."),
      Def("teacher.host", T::StringList, json::array({"http://127.0.0.1:11434"}))
          .env("OLLAMA_HOST")
          .tools(DS | EVAL)
          .doc("Teacher server URL, or several: requests are spread across them. OLLAMA_HOST sets one."),
      Def("teacher.protocol", T::Enum, "ollama")
          .choices({"ollama", "openai"})
          .tools(DS | EVAL)
          .doc("ollama: /api/chat with `format` set to the JSON Schema; openai: /v1/chat/completions."),
      Def("teacher.timeout", T::Float, 300.0)
          .gt(0)
          .tools(DS | EVAL)
          .doc("Seconds to wait for one teacher answer."),
      Def("teacher.retries", T::Int, 3)
          .ge(-1)
          .tools(DS | EVAL)
          .doc("Retries when a teacher answer fails or does not parse; -1 retries forever."),
      Def("teacher.retry_wait", T::Float, 1.0)
          .ge(0)
          .tools(DS | EVAL)
          .doc("Seconds before the first retry; later retries back off exponentially."),
      Def("teacher.concurrency", T::Int, 4)
          .ge(1)
          .le(256)
          .tools(DS | EVAL)
          .doc("Teacher requests in flight at once, across all hosts."),
      Def("teacher.temperature", T::Float, 0.2)
          .ge(0)
          .le(2)
          .tools(DS | EVAL)
          .doc("Sampling temperature of the teacher."),
      Def("teacher.api_key_env", T::String, nullptr)
          .nullable()
          .tools(DS | EVAL)
          .doc("Name of the environment variable holding the API key (openai protocol); null: no key."),
      Def("teacher.api_key", T::String, nullptr)
          .nullable()
          .secret()
          .tools(DS | EVAL)
          .doc("API key given directly (prefer api_key_env). Redacted in everything written or printed."),
      Def("teacher.num_ctx", T::Int, 16384)
          .ge(256)
          .le(1048576)
          .tools(DS | EVAL)
          .doc(
              "Context window Ollama gives each request (options.num_ctx): its own default of 2048 silently "
              "cuts a long prompt (a schema and its instructions take 2-4k tokens). Lower it on a small GPU. "
              "Sent with the ollama protocol; an OpenAI-compatible server sizes its context itself."),
      Def("teacher.num_predict", T::Int, 4096)
          .ge(16)
          .le(1048576)
          .tools(DS | EVAL)
          .doc("Most tokens the teacher may write in one answer (options.num_predict; max_tokens with "
               "openai). "
               "An answer cut at this limit is retried."),
  };
}

std::vector<Field> teacher_sim_keys() {
  return {
      Def("teacher_sim.bind", T::String, "127.0.0.1")
          .tools(SIM)
          .doc("Address teacher-sim listens on (loopback only by default)."),
      Def("teacher_sim.port", T::Int, 0)
          .ge(0)
          .le(65535)
          .tools(SIM)
          .doc("Port teacher-sim listens on; 0 picks a free one and prints it."),
      Def("teacher_sim.port_file", T::Path, nullptr)
          .nullable()
          .tools(SIM)
          .doc("File teacher-sim writes its port to once it listens; null: none."),
      Def("teacher_sim.lexicon_dir", T::Path, "data/teacher_sim")
          .tools(SIM | DS)
          .doc("Directory of the EN/FR lexicons teacher-sim writes specs and queries from."),
      Def("teacher_sim.fail_rate", T::Float, 0.0)
          .ge(0)
          .le(1)
          .tools(SIM)
          .doc("Fault injection: share of requests answered with HTTP 500."),
      Def("teacher_sim.garbage_rate", T::Float, 0.0)
          .ge(0)
          .le(1)
          .tools(SIM)
          .doc("Fault injection: share of answers replaced by non-JSON text."),
      Def("teacher_sim.drop_rate", T::Float, 0.0)
          .ge(0)
          .le(1)
          .tools(SIM)
          .doc("Fault injection: share of connections closed mid-answer."),
      Def("teacher_sim.invalid_rate", T::Float, 0.0)
          .ge(0)
          .le(1)
          .tools(SIM)
          .doc("Fault injection: share of first AST answers given a key the schema does not allow (a "
               "correction request is answered right): the negatives of dataset_generation.include_invalid."),
      Def("teacher_sim.delay_ms", T::Int, 0)
          .ge(0)
          .le(600000)
          .tools(SIM)
          .doc("Fault injection: milliseconds added to every answer."),
  };
}

std::vector<Field> dataset_keys() {
  return {
      Def("dataset_generation.prompts_path", T::Path, "data/domain_prompts.jsonl")
          .flag_alias("prompts")
          .tools(DS)
          .doc("Domain prompts given to the teacher to invent each domain's fields and values."),
      Def("dataset_generation.base_schema_template", T::Path, "data/base_schema_template.json")
          .tools(DS)
          .doc("JSON Schema (2020-12) of the query AST that each domain's fields and operators go into."),
      Def("dataset_generation.operator_catalog", T::Path, "data/operator_catalog.json")
          .tools(DS | SIM)
          .doc("Operators with meaning, arity, field types and synonyms."),
      Def("dataset_generation.examples_per_schema", T::Int, 60)
          .ge(1)
          .le(100000)
          .tools(DS)
          .doc("Example queries asked for inside each domain spec."),
      Def("dataset_generation.min_operators", T::Int, 4)
          .ge(1)
          .le(1000)
          .tools(DS)
          .doc("Fewest operators sampled into a schema."),
      Def("dataset_generation.max_operators", T::Int, 7)
          .ge(1)
          .le(1000)
          .tools(DS)
          .doc("Most operators sampled into a schema."),
      Def("dataset_generation.samples_per_schema", T::Int, 60)
          .ge(1)
          .le(1000000)
          .tools(DS)
          .doc("Teacher-validated (query, AST) rows kept per schema: the dataset size knob."),
      Def("dataset_generation.max_domains", T::Int, nullptr)
          .nullable()
          .ge(1)
          .tools(DS)
          .doc("Use only the first N domain prompts; null uses all."),
      Def("dataset_generation.french_ratio", T::Float, 0.3)
          .ge(0)
          .le(1)
          .tools(DS)
          .doc("Share of queries written in French (the rest in English)."),
      Def("dataset_generation.refusal_ratio", T::Float, 0.1)
          .ge(0)
          .lt(1)
          .tools(DS)
          .doc("Share of queries the schema cannot express (the target is a refusal)."),
      Def("dataset_generation.eval_schema_fraction", T::Float, 0.1)
          .ge(0)
          .lt(1)
          .tools(DS)
          .doc("Share of whole schemas held out for the eval set (d_05)."),
      Def("dataset_generation.eval_row_fraction", T::Float, 0.05)
          .ge(0)
          .lt(1)
          .tools(DS)
          .doc("Share of rows of the other schemas also held out for the eval set."),
      Def("dataset_generation.include_invalid", T::Bool, true)
          .tools(DS)
          .doc("Keep the teacher's schema-invalid answers as negatives. They are never SFT targets: the "
               "teacher "
               "is shown the validator's errors and asked once more, and each failed answer it corrected "
               "becomes a DPO pair (the corrected AST chosen, the failed one rejected, with its errors) in "
               "negative_pairs_out, which pairs-build adds to the student's pairs. false: negatives are "
               "dropped (the file is written empty)."),
      Def("dataset_generation.max_samples", T::Int, nullptr)
          .nullable()
          .ge(1)
          .tools(DS)
          .doc("Cap on the SFT corpus size; null: no cap."),
      Def("dataset_generation.checkpoint_path", T::Path, "${dataset_generation.dataset_out}.checkpoint.json")
          .tools(DS)
          .doc("Checkpoint of sample generation, for resuming."),
      Def("dataset_generation.checkpoint_every", T::Int, 10)
          .ge(1)
          .tools(DS)
          .doc("Rows between checkpoint saves."),
      Def("dataset_generation.resume", T::Bool, true)
          .tools(DS)
          .doc("Continue from the checkpoint when one exists."),
      Def("dataset_generation.offline_fallback", T::Bool, false)
          .tools(DS)
          .doc("Testing only: answer with an in-process teacher-sim instead of calling teacher.host."),
      Def("dataset_generation.schema_specs_out", T::Path, "${run.output_root}/d_01_domain_specs.jsonl")
          .flag_alias("domain-specs")
          .tools(DS)
          .doc("Domain specs (fields, values, example queries)."),
      Def("dataset_generation.final_schemas_out", T::Path, "${run.output_root}/d_02_final_schemas.jsonl")
          .tools(DS)
          .doc("Final JSON Schemas, one per domain/schema_id."),
      Def("dataset_generation.dataset_out", T::Path, "${run.output_root}/d_03_dataset.jsonl")
          .tools(DS)
          .doc("Dataset rows: schema id, query, language, AST, is_valid, errors, teacher metadata."),
      Def("dataset_generation.training_corpus_out", T::Path, "${run.output_root}/d_04_training_corpus.jsonl")
          .tools(DS)
          .doc("SFT corpus: prompt + completion (the canonical AST)."),
      Def("dataset_generation.eval_set_out", T::Path, "${run.output_root}/d_05_eval_set.jsonl")
          .tools(DS)
          .doc("Held-out eval set."),
      Def("dataset_generation.negative_pairs_out", T::Path, "${run.output_root}/d_06_negative_pairs.jsonl")
          .tools(DS)
          .doc("The dataset's negatives as preference pairs (prompt, chosen, rejected, rejected_errors): see "
               "include_invalid."),
      Def("dataset_generation.pretty_dir", T::Path, "${run.output_root}/pretty")
          .tools(DS)
          .doc("Prettified copies of the outputs, for reading."),
  };
}

// What differs between the two sections that run the training loop: train-sft's training.* and train-dpo's
// alignment.*. The keys themselves are declared once, by loop_keys().
struct LoopSection {
  std::string section;  // "training" or "alignment"
  ToolSet tools;
  std::string unit;  // what a batch holds: "examples" or "pairs"
  json batch_size, grad_accum, learning_rate, lr_scheduler_type, weight_decay, adam_beta1, adam_beta2,
      adam_epsilon, max_grad_norm, max_steps, num_epochs, save_steps, gradient_checkpointing;
};

// The 25 loop and optimizer keys train-sft and train-dpo share (lib/train/loop_config.cpp reads them for
// either section).
std::vector<Field> loop_keys(const LoopSection& s) {
  auto key = [&](const char* name) { return s.section + "." + name; };
  const std::vector<std::string> schedules = {"linear", "cosine", "constant", "constant_with_warmup"};
  return {
      Def(key("max_seq_length"), T::Int, 32768)
          .ge(16)
          .le(1048576)
          .tools(s.tools)
          .doc("Token budget of one example (prompt + completion); " + s.unit +
               " whose completion would be cut are dropped and counted."),
      Def(key("batch_size"), T::Int, s.batch_size)
          .ge(1)
          .le(65536)
          .tools(s.tools)
          .doc("The " + s.unit + " of one micro-batch (per device)."),
      Def(key("grad_accum"), T::Int, s.grad_accum)
          .ge(1)
          .le(65536)
          .tools(s.tools)
          .doc("Micro-batches per optimizer step; effective batch = batch_size x grad_accum (x ranks)."),
      Def(key("learning_rate"), T::Float, s.learning_rate)
          .gt(0)
          .le(1)
          .tools(s.tools)
          .doc("Peak learning rate."),
      Def(key("lr_scheduler_type"), T::Enum, s.lr_scheduler_type)
          .choices(schedules)
          .tools(s.tools)
          .doc("Learning-rate schedule after warmup."),
      Def(key("warmup_steps"), T::Int, 50)
          .ge(0)
          .tools(s.tools)
          .doc("Linear warmup steps. Setting warmup_ratio instead turns this default off."),
      Def(key("warmup_ratio"), T::Float, 0.0)
          .ge(0)
          .le(1)
          .tools(s.tools)
          .doc("Warmup as a share of the total steps (instead of warmup_steps)."),
      Def(key("weight_decay"), T::Float, s.weight_decay)
          .ge(0)
          .le(10)
          .tools(s.tools)
          .doc("AdamW weight decay (not applied to norms and biases)."),
      Def(key("adam_beta1"), T::Float, s.adam_beta1).ge(0).lt(1).tools(s.tools).doc("AdamW beta1."),
      Def(key("adam_beta2"), T::Float, s.adam_beta2).ge(0).lt(1).tools(s.tools).doc("AdamW beta2."),
      Def(key("adam_epsilon"), T::Float, s.adam_epsilon).gt(0).le(1).tools(s.tools).doc("AdamW epsilon."),
      Def(key("max_grad_norm"), T::Float, s.max_grad_norm)
          .nullable()
          .gt(0)
          .tools(s.tools)
          .doc("Clip the global gradient norm to this; null: no clipping."),
      Def(key("max_steps"), T::Int, s.max_steps)
          .nullable()
          .ge(1)
          .tools(s.tools)
          .doc("Optimizer steps to train (takes precedence over num_epochs). Setting num_epochs alone turns "
               "this default off; null trains by epochs."),
      Def(key("num_epochs"), T::Float, s.num_epochs)
          .gt(0)
          .le(100000)
          .tools(s.tools)
          .doc("Passes over the " + s.unit + "; used only when max_steps is null."),
      Def(key("logging_steps"), T::Int, 10).ge(1).tools(s.tools).doc("Write a metrics line every N steps."),
      Def(key("save_steps"), T::Int, s.save_steps)
          .ge(1)
          .tools(s.tools)
          .doc("Save a checkpoint every N steps."),
      Def(key("save_total_limit"), T::Int, 3)
          .nullable()
          .ge(1)
          .tools(s.tools)
          .doc("Checkpoints kept (the best and the latest are never deleted); null keeps all."),
      Def(key("resume_from_checkpoint"), T::String, nullptr)
          .nullable()
          .tools(s.tools)
          .doc("\"latest\" resumes from the newest valid checkpoint-* in the output folder; a path pins one; "
               "null starts fresh."),
      Def(key("gradient_checkpointing"), T::Bool, s.gradient_checkpointing)
          .tools(s.tools)
          .doc("Recompute each layer's activations in backward: less memory, more compute, the same "
               "gradients. train-sft and train-dpo say at the end how many layer forwards they recomputed."),
      Def(key("shared_prefix"), T::Bool, false)
          .tools(s.tools)
          .doc("Batch " + s.unit +
               " of one schema together and run the prompt start they share (the schema) once per batch: "
               "several times faster when the schema is most of the prompt. The loss is the plain batch's; "
               "gradient checkpointing does not apply to such batches."),
      Def(key("bf16"), T::Bool, true)
          .tools(s.tools)
          .doc("bfloat16 autocast (CPU where supported, and CUDA)."),
      Def(key("fp16"), T::Bool, false).tools(s.tools).doc("float16 autocast with loss scaling (CUDA only)."),
      Def(key("nonfinite_patience"), T::Int, 5)
          .ge(1)
          .tools(s.tools)
          .doc("Steps with a non-finite loss or gradient are skipped; after this many in a row the run "
               "stops with a checkpoint."),
      Def(key("load_in_4bit"), T::Bool, false)
          .tools(s.tools)
          .doc("Load the base weights quantized to 4 bits.")
          .not_yet({"*"}, "4-bit base weights need quantized kernels astforge does not have yet; use bf16"),
      Def(key("load_in_8bit"), T::Bool, false)
          .tools(s.tools)
          .doc("Load the base weights quantized to 8 bits.")
          .not_yet({"*"}, "8-bit base weights need quantized kernels astforge does not have yet; use bf16"),
  };
}

std::vector<Field> training_keys() {
  return {
      Def("training.training_corpus", T::Path, "${dataset_generation.training_corpus_out}")
          .tools(SFT)
          .doc("The SFT corpus (prompt + completion rows)."),
      Def("training.output_dir", T::Path, "${run.output_root}/student_runs/${run.name}")
          .tools(SFT)
          .doc("Where checkpoints, checkpoint-final/, training_metrics.jsonl and run_config.json go."),
      Def("training.base_model", T::String, "models/gemma-3-270m-it")
          .tools(SFT)
          .doc("A local Hugging Face folder with the student base model (config.json, model.safetensors, "
               "tokenizer), or \"scratch\" for a tiny model built from training.scratch."),
      Def("training.max_samples", T::Int, nullptr)
          .nullable()
          .ge(1)
          .tools(SFT)
          .doc("Load at most N training rows; null: all."),
      Def("training.eval_batch_size", T::Int, nullptr)
          .nullable()
          .ge(1)
          .tools(SFT)
          .doc("Examples per eval batch; null: batch_size."),
      Def("training.val_split", T::Float, 0.05)
          .ge(0)
          .lt(1)
          .tools(SFT)
          .doc("Share of the corpus held out for eval_loss; 0 disables evaluation."),
      Def("training.eval_max_samples", T::Int, 256)
          .nullable()
          .ge(1)
          .tools(SFT)
          .doc("Cap on the eval split size; null: no cap."),
      Def("training.eval_steps", T::Int, 50).ge(1).tools(SFT).doc("Evaluate every N steps."),
      Def("training.early_stop_min_delta", T::Float, 0.002)
          .ge(0)
          .tools(SFT)
          .doc("Least eval_loss improvement that counts as progress for early stopping."),
      Def("training.early_stop_patience", T::Int, 2)
          .ge(0)
          .tools(SFT)
          .doc("Stop after this many evaluations without progress; 0 disables early stopping."),
      Def("training.load_best_model_at_end", T::Bool, false)
          .tools(SFT)
          .doc("Make checkpoint-final the best checkpoint by metric_for_best_model."),
      Def("training.metric_for_best_model", T::Enum, "eval_loss")
          .choices({"eval_loss", "loss"})
          .tools(SFT)
          .doc("Metric that picks the best checkpoint (lower is better)."),
      Def("training.group_by_length", T::Bool, false)
          .tools(SFT)
          .doc("Batch examples of similar length together (less padding)."),
      Def("training.label_smoothing", T::Float, 0.0)
          .ge(0)
          .lt(1)
          .tools(SFT)
          .doc("Label smoothing of the cross-entropy."),
      Def("training.neftune_noise_alpha", T::Float, nullptr)
          .nullable()
          .ge(0)
          .le(100)
          .tools(SFT)
          .doc("NEFTune: uniform noise of this scale added to embeddings while training; null: off."),
      Def("training.push_to_hub", T::Bool, false)
          .tools(SFT)
          .doc("Upload checkpoint-final to the Hugging Face Hub.")
          .not_yet({"*"}, "pushing to the Hugging Face Hub is not built; copy checkpoint-final/ yourself"),
      Def("training.hub_model_id", T::String, nullptr)
          .nullable()
          .tools(SFT)
          .doc("Hub repository to upload to.")
          .not_yet({"*"}, "pushing to the Hugging Face Hub is not built"),
      Def("training.hub_token", T::String, nullptr)
          .nullable()
          .secret()
          .tools(SFT)
          .doc("Hub access token (secret).")
          .not_yet({"*"}, "pushing to the Hugging Face Hub is not built"),
  };
}

std::vector<Field> lora_keys() {
  return {
      Def("training.lora.enabled", T::Bool, true)
          .tools(SFT)
          .doc("Train a LoRA adapter; false fine-tunes every weight (sensible for the scratch student)."),
      Def("training.lora.r", T::Int, 64).ge(1).le(4096).tools(SFT).doc("LoRA rank (adapter capacity)."),
      Def("training.lora.lora_alpha", T::Float, 128)
          .gt(0)
          .tools(SFT)
          .doc("LoRA scaling numerator: scaling = lora_alpha / r (or / sqrt(r) with use_rslora)."),
      Def("training.lora.lora_dropout", T::Float, 0.05)
          .ge(0)
          .lt(1)
          .tools(SFT)
          .doc("Dropout on the LoRA input."),
      Def("training.lora.bias", T::Enum, "none")
          .choices({"none", "all", "lora_only"})
          .tools(SFT)
          .doc("Which biases train (PEFT semantics): all, or those of adapted layers (lora_only). A base "
               "model "
               "without bias terms (Gemma 3: attention_bias false) refuses anything but none."),
      Def("training.lora.target_modules", T::EnumList,
          json::array({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}))
          .choices(kLoraTargets)
          .tools(SFT)
          .doc("Linear layers that get adapters, by module name, or all-linear."),
      Def("training.lora.use_rslora", T::Bool, false)
          .flag("use-rslora")
          .tools(SFT)
          .doc("Rank-stabilised LoRA: scaling = lora_alpha / sqrt(r)."),
      Def("training.lora.init_lora_weights", T::BoolOrEnum, true)
          .choices({"true", "false", "gaussian", "pissa", "loftq"})
          .flag("init-lora-weights")
          .tools(SFT)
          .not_yet({"pissa", "loftq"}, "PiSSA and LoftQ initialisation are not built; use true or gaussian")
          .doc("true: A Kaiming-uniform, B zeros; gaussian: A normal(1/r); false: random B (testing)."),
      Def("training.lora.modules_to_save", T::EnumList, json::array())
          .choices({"embed_tokens", "lm_head"})
          .tools(SFT)
          .doc("Modules trained fully and saved with the adapter."),
      Def("training.lora.fan_in_fan_out", T::Bool, false)
          .tools(SFT)
          .doc("PEFT's flag for layers that store weights as (in, out).")
          .invalid({true}, "fan_in_fan_out is for Conv1D layers (GPT-2); Gemma 3 uses Linear layers"),
  };
}

std::vector<Field> scratch_keys() {
  return {
      Def("training.scratch.vocab_size", T::Int, 4096)
          .ge(260)
          .le(262144)
          .tools(SFT)
          .doc("Vocabulary of the SentencePiece tokenizer trained on the corpus."),
      Def("training.scratch.hidden_size", T::Int, 128).ge(8).le(16384).tools(SFT).doc("Model width."),
      Def("training.scratch.num_layers", T::Int, 4).ge(1).le(256).tools(SFT).doc("Decoder layers."),
      Def("training.scratch.num_heads", T::Int, 4).ge(1).le(256).tools(SFT).doc("Query heads."),
      Def("training.scratch.num_kv_heads", T::Int, 1)
          .ge(1)
          .le(256)
          .tools(SFT)
          .doc("Key/value heads (grouped-query attention); must divide num_heads."),
      Def("training.scratch.head_dim", T::Int, 32).ge(4).le(1024).tools(SFT).doc("Width of one head."),
      Def("training.scratch.intermediate_size", T::Int, 512)
          .ge(8)
          .le(65536)
          .tools(SFT)
          .doc("Width of the gated MLP."),
      Def("training.scratch.max_position_embeddings", T::Int, 4096)
          .ge(16)
          .le(1048576)
          .tools(SFT)
          .doc("Longest sequence the model is built for."),
      Def("training.scratch.sliding_window", T::Int, 512)
          .ge(1)
          .tools(SFT)
          .doc("Window of the local (sliding) attention layers."),
      Def("training.scratch.sliding_window_pattern", T::Int, 6)
          .ge(1)
          .le(256)
          .tools(SFT)
          .doc("Every Nth layer attends globally, the others through the sliding window (Gemma 3: 6)."),
      Def("training.scratch.dir", T::Path, "${training.output_dir}/scratch-base")
          .tools(SFT | EVAL | DPO | PREDICT | EXPORT | SERVE)
          .doc(
              "Folder of the scratch student: train-sft builds it there (tokenizer and initial weights) when "
              "training.base_model is \"scratch\", and the other tools load it from there when their base "
              "model is \"scratch\"."),
  };
}

std::vector<Field> evaluation_keys() {
  return {
      Def("evaluation.base_model", T::String, "${training.base_model}")
          .tools(EVAL)
          .doc("The student's base model folder, or \"scratch\" (the scratch student under "
               "training.output_dir)."),
      Def("evaluation.judge", T::Bool, true)
          .tools(EVAL)
          .doc("Ask the teacher to judge each sample; false (--no-judge) reports only the teacher-free "
               "rates."),
      Def("evaluation.adapter", T::Path, "${training.output_dir}/checkpoint-final")
          .nullable()
          .tools(EVAL)
          .doc("Checkpoint to evaluate; null evaluates the base model."),
      Def("evaluation.dataset", T::Path, "${dataset_generation.eval_set_out}")
          .tools(EVAL)
          .doc("Rows to evaluate (d_05 eval set; d_03-style rows work too)."),
      Def("evaluation.schemas", T::Path, "${dataset_generation.final_schemas_out}")
          .tools(EVAL)
          .doc("The JSON Schemas of the rows to evaluate (d_02): each row names its schema by schema_id."),
      Def("evaluation.out_dir", T::Path, "${run.output_root}/student_runs/eval")
          .tools(EVAL)
          .doc("Directory of the evaluation outputs."),
      Def("evaluation.eval_results", T::Path, "${evaluation.out_dir}/evaluation_results.jsonl")
          .tools(EVAL)
          .doc("Per-sample evaluation records."),
      Def("evaluation.eval_summary", T::Path, "${evaluation.out_dir}/evaluation_summary.json")
          .tools(EVAL)
          .doc("Aggregate rates."),
      Def("evaluation.max_new_tokens", T::Int, 512)
          .ge(1)
          .le(1048576)
          .tools(DECODERS | EXPORT)
          .doc("Most tokens generated per sample (serve: per answer; a request may ask for fewer)."),
      Def("evaluation.do_sample", T::Bool, false)
          .tools(DECODERS | EXPORT)
          .doc("Sample (with temperature, top_p, top_k) instead of greedy decoding."),
      Def("evaluation.temperature", T::Float, 0.7)
          .gt(0)
          .le(5)
          .tools(DECODERS | EXPORT)
          .doc("Sampling temperature (only when do_sample)."),
      Def("evaluation.top_p", T::Float, 0.95)
          .gt(0)
          .le(1)
          .tools(DECODERS | EXPORT)
          .doc("Nucleus sampling mass (only when do_sample)."),
      Def("evaluation.top_k", T::Int, 0)
          .ge(0)
          .tools(DECODERS | EXPORT)
          .doc("Sample among the k most likely tokens; 0: off (only when do_sample)."),
      Def("evaluation.repetition_penalty", T::Float, 1.0)
          .gt(0)
          .le(10)
          .tools(DECODERS | EXPORT)
          .doc("Penalty on tokens already generated; 1: off."),
      Def("evaluation.dtype", T::Enum, "float32")
          .choices({"float32", "bfloat16"})
          .tools(DECODERS)
          .doc("Weight dtype while generating: bfloat16 halves the memory and is faster on CPUs with bf16 "
               "units."),
      Def("evaluation.constrained", T::Bool, false)
          .tools(EVAL | PREDICT)
          .doc(
              "Schema-constrained decoding: at every step, tokens that cannot lead to a document valid under "
              "the row's schema are masked out, and the end of generation is allowed only once the document "
              "is complete. Keywords it cannot enforce are listed per row (constraint_unenforced)."),
      Def("evaluation.compare_constrained", T::Bool, false)
          .tools(EVAL)
          .doc("Also decode every sample the other way (unconstrained when evaluation.constrained, else "
               "constrained) and report both modes' rates side by side in the summary "
               "(constrained_comparison); the teacher judges the first mode's output only."),
      Def("evaluation.key_order", T::Enum, "sorted")
          .choices({"sorted", "free"})
          .tools(DECODERS)
          .doc("Object key order under constrained decoding: sorted (as canonical JSON writes them, which is "
               "what the student is trained on) or free (any order)."),
      Def("evaluation.batch_size", T::Int, 8)
          .ge(1)
          .le(4096)
          .tools(EVAL | PREDICT)
          .doc("Samples generated together."),
      Def("evaluation.max_samples", T::Int, nullptr)
          .nullable()
          .ge(1)
          .tools(EVAL)
          .doc("Evaluate at most N samples, drawn after a sample_seed shuffle; null: all."),
      Def("evaluation.sample_seed", T::Int, nullptr)
          .nullable()
          .ge(0)
          .tools(EVAL)
          .doc("Seed of the max_samples shuffle; null: run.seed."),
      Def("evaluation.include_invalid", T::Bool, false)
          .tools(EVAL)
          .doc("Also evaluate rows whose stored target is invalid."),
      Def("evaluation.checkpoint_path", T::Path, "${evaluation.eval_results}.checkpoint.json")
          .tools(EVAL)
          .doc("Checkpoint of a long evaluation, for resuming."),
      Def("evaluation.checkpoint_every", T::Int, 10).ge(1).tools(EVAL).doc("Samples between checkpoints."),
      Def("evaluation.resume", T::Bool, true)
          .tools(EVAL)
          .doc("Continue from the checkpoint when one exists."),
  };
}

std::vector<Field> predict_keys() {
  return {
      Def("predict.model", T::String, "${training.base_model}")
          .tools(PREDICT)
          .doc("Base model folder (or the merged/full checkpoint)."),
      Def("predict.adapter", T::Path, "${training.output_dir}/checkpoint-final")
          .nullable()
          .tools(PREDICT)
          .doc("LoRA adapter applied to predict.model; null: none."),
      Def("predict.input", T::Path, "-")
          .tools(PREDICT)
          .doc("JSONL rows with schema and query (or a raw prompt); - reads stdin."),
      Def("predict.output", T::Path, "-").tools(PREDICT).doc("Where predictions go; - writes stdout."),
  };
}

std::vector<Field> export_keys() {
  return {
      Def("export.model", T::String, "${training.base_model}")
          .tools(EXPORT)
          .doc("Base model folder (\"scratch\": training.scratch.dir), or a whole fully trained checkpoint."),
      Def("export.adapter", T::Path, "${training.output_dir}/checkpoint-final")
          .nullable()
          .tools(EXPORT)
          .doc("The checkpoint exported: a LoRA adapter merged into export.model (kept apart for gguf-lora), "
               "or a "
               "whole fully trained student; null: the base alone. runAll.sh passes the aligned one."),
      Def("export.format", T::Enum, "gguf")
          .choices({"hf", "gguf", "gguf-lora"})
          .tools(EXPORT)
          .doc("hf: a merged Hugging Face folder (transformers, Ollama's FROM <dir>); gguf: one GGUF file "
               "(llama.cpp, Ollama); gguf-lora: the base as GGUF plus the adapter as a llama.cpp LoRA GGUF "
               "(Ollama's ADAPTER, llama.cpp's --lora)."),
      Def("export.gguf_type", T::Enum, "q8_0")
          .choices({"f32", "bf16", "f16", "q8_0"})
          .flag("gguf-type")
          .tools(EXPORT)
          .doc("Element type of the GGUF's matrices (norms stay f32; q8_0 is llama.cpp's block format, 32 "
               "weights and one f16 scale)."),
      Def("export.dtype", T::Enum, "float32")
          .choices({"float32", "bfloat16", "float16"})
          .tools(EXPORT)
          .doc("Weights of the hf folder, cast after merging in float32."),
      Def("export.output_dir", T::Path, "${run.output_root}/export/${export.name}")
          .tools(EXPORT)
          .doc(
              "The export folder: the model, an Ollama Modelfile and a README with the commands that run it. "
              "Replaced whole."),
      Def("export.name", T::String, "astforge-student")
          .tools(EXPORT)
          .doc("The exported model's name: its files, general.name, and `ollama create NAME`."),
  };
}

std::vector<Field> serve_keys() {
  return {
      Def("serve.model", T::String, "${training.base_model}")
          .tools(SERVE)
          .doc("Base model folder (\"scratch\": training.scratch.dir), a whole fully trained checkpoint, or "
               "a folder export --format hf wrote."),
      Def("serve.adapter", T::Path, "${training.output_dir}/checkpoint-final")
          .nullable()
          .tools(SERVE)
          .doc("LoRA adapter merged into serve.model at load; null: the model alone."),
      Def("serve.bind", T::String, "127.0.0.1")
          .tools(SERVE)
          .doc("Address serve listens on (loopback by default; 0.0.0.0 opens it to the network)."),
      Def("serve.port", T::Int, 11435)
          .ge(0)
          .le(65535)
          .tools(SERVE)
          .doc("Port serve listens on (next to Ollama's 11434); 0 picks a free one. The port is printed."),
      Def("serve.port_file", T::Path, nullptr)
          .nullable()
          .tools(SERVE)
          .doc("File serve writes its port to once it listens; null: none."),
      Def("serve.name", T::String, "${export.name}")
          .tools(SERVE)
          .doc("The model's name in /api/tags, /v1/models and every answer; requests may name any model."),
      Def("serve.max_batch", T::Int, 8)
          .ge(1)
          .le(1024)
          .tools(SERVE)
          .doc("Most concurrent requests generated together in one batch."),
      Def("serve.batch_window_ms", T::Int, 5)
          .ge(0)
          .le(60000)
          .tools(SERVE)
          .doc("Milliseconds a request waits for others to share its batch (unless the batch fills first): "
               "longer windows batch more under load, at that much latency."),
  };
}

std::vector<Field> alignment_keys() {
  return {
      Def("alignment.eval_results", T::Path, "${evaluation.eval_results}")
          .tools(PAIRS)
          .doc("Evaluation records with teacher verdicts (eval-teacher run with a teacher)."),
      Def("alignment.eval_summary", T::Path, "${evaluation.eval_summary}")
          .tools(PAIRS)
          .doc("The summary eval-teacher wrote beside eval_results. pairs-build refuses to build pairs when "
               "it "
               "is missing, says the teacher did not judge the run (--no-judge), or does not describe "
               "eval_results (another file, or another number of records)."),
      Def("alignment.negative_pairs", T::Path, "${dataset_generation.negative_pairs_out}")
          .nullable()
          .tools(PAIRS)
          .doc("Preference pairs made from the dataset's negatives (ds-build corpus, include_invalid), added "
               "after the evaluation's pairs when the file exists; null: none."),
      Def("alignment.pairs_out", T::Path, "${run.output_root}/student_runs/alignment/dpo_pairs.jsonl")
          .flag_alias("pairs")
          .tools(PAIRS | DPO)
          .doc("Preference pairs (prompt, chosen, rejected)."),
      Def("alignment.only_rejected", T::Bool, true)
          .tools(PAIRS)
          .doc("Keep only samples the teacher rejected (higher signal)."),
      Def("alignment.max_pairs", T::Int, nullptr)
          .nullable()
          .ge(1)
          .tools(PAIRS)
          .doc("Cap on the number of pairs; null: no cap."),
      Def("alignment.adapter", T::Path, "${training.output_dir}/checkpoint-final")
          .tools(DPO)
          .doc("SFT checkpoint DPO starts from (also the frozen reference)."),
      Def("alignment.output_dir", T::Path, "${training.output_dir}-dpo")
          .tools(DPO)
          .doc("Where the aligned checkpoints and dpo_metrics.jsonl go."),
      Def("alignment.base_model", T::String, "${training.base_model}")
          .tools(DPO)
          .doc("Base model the adapter was trained on."),
      Def("alignment.beta", T::Float, 0.1)
          .gt(0)
          .le(100)
          .tools(DPO)
          .doc("DPO beta: strength of the preference objective."),
      Def("alignment.loss_type", T::Enum, "sigmoid")
          .choices({"sigmoid", "ipo", "hinge"})
          .tools(DPO)
          .doc("DPO loss: sigmoid (the DPO paper), ipo (squared, on token-averaged log-probabilities) or "
               "hinge."),
      Def("alignment.label_smoothing", T::Float, 0.0)
          .ge(0)
          .lt(0.5)
          .tools(DPO)
          .doc("Conservative DPO: the chance that a preference label is wrong (sigmoid loss only)."),
      Def("alignment.rpo_alpha", T::Float, nullptr)
          .nullable()
          .ge(0)
          .le(100)
          .tools(DPO)
          .doc(
              "RPO: adds rpo_alpha x the chosen answers' negative log-likelihood (mean per token) to the DPO "
              "loss, so the chosen answers' probability cannot fall while the margin grows; null: plain "
              "DPO."),
  };
}

std::vector<Field> report_keys() {
  return {
      Def("report.out_dir", T::Path, "${run.output_root}/reports/${run.name}")
          .tools(REPORT)
          .doc("Where report.md, alignment_report.md and the plots go."),
      Def("report.training_metrics", T::Path, "${training.output_dir}/training_metrics.jsonl")
          .tools(REPORT)
          .doc("SFT metrics to plot."),
      Def("report.dpo_metrics", T::Path, "${alignment.output_dir}/dpo_metrics.jsonl")
          .tools(REPORT)
          .doc("DPO metrics to plot (skipped when missing)."),
      Def("report.eval_summary", T::Path, "${evaluation.eval_summary}")
          .tools(REPORT)
          .doc("Evaluation summary of the SFT student."),
      Def("report.eval_results", T::Path, "${evaluation.eval_results}")
          .tools(REPORT)
          .doc("Per-sample evaluation records of the SFT student (for the worst failures)."),
      Def("report.dpo_eval_summary", T::Path, "${alignment.output_dir}/eval/evaluation_summary.json")
          .tools(REPORT)
          .doc("Evaluation summary of the DPO student (alignment_report.md; skipped when missing)."),
      Def("report.worst_failures", T::Int, 20)
          .ge(0)
          .le(10000)
          .tools(REPORT)
          .doc("Rows in the table of worst failures."),
      Def("report.plot_formats", T::EnumList, json::array({"svg", "png"}))
          .choices({"svg", "png"})
          .tools(REPORT)
          .doc("Image formats of the plots."),
  };
}

std::vector<Field> build_fields() {
  // train-sft's loop: the release defaults of seeds/004.
  const LoopSection training_loop{"training", SFT,   "examples", 4,   4,    5e-5, "linear", 0.01,
                                  0.9,        0.999, 1e-8,       1.0, 3000, 20.0, 200,      false};
  // train-dpo's loop: its own batch, rate and length; the optimizer settings follow train-sft's.
  const LoopSection alignment_loop{"alignment",
                                   DPO,
                                   "pairs",
                                   2,
                                   8,
                                   5e-6,
                                   "${training.lr_scheduler_type}",
                                   "${training.weight_decay}",
                                   "${training.adam_beta1}",
                                   "${training.adam_beta2}",
                                   "${training.adam_epsilon}",
                                   "${training.max_grad_norm}",
                                   500,
                                   1.0,
                                   100,
                                   "${training.gradient_checkpointing}"};
  std::vector<Field> all;
  for (const auto& part :
       {run_keys(), teacher_keys(), teacher_sim_keys(), dataset_keys(), training_keys(),
        loop_keys(training_loop), lora_keys(), scratch_keys(), evaluation_keys(), predict_keys(),
        export_keys(), serve_keys(), alignment_keys(), loop_keys(alignment_loop), report_keys()})
    all.insert(all.end(), part.begin(), part.end());
  return all;
}

std::vector<RemovedKey> build_removed() {
  return {
      {"training.eval_accumulation_steps",
       "astforge's evaluation keeps only each batch's summed loss, so its memory is one eval batch's at any "
       "setting (Hugging Face's Trainer used it to move accumulated predictions off the GPU); bound eval "
       "memory with training.eval_batch_size",
       SFT},
  };
}
std::vector<Alias> build_aliases() {
  return {
      {"training.seed", "run.seed"},
      {"dataset_generation.seed", "run.seed"},
      {"dataset_generation.teacher_model", "teacher.model"},
      {"dataset_generation.teacher_retries", "teacher.retries"},
      {"dataset_generation.teacher_retry_wait", "teacher.retry_wait"},
      {"evaluation.teacher_retries", "teacher.retries"},
      {"evaluation.teacher_retry_wait", "teacher.retry_wait"},
      {"training.use_gradient_checkpointing", "training.gradient_checkpointing"},
      {"training.gradient_accumulation_steps", "training.grad_accum"},
      {"training.num_train_epochs", "training.num_epochs"},
      {"training.lora_r", "training.lora.r"},
      {"training.lora_alpha", "training.lora.lora_alpha"},
      {"training.lora_dropout", "training.lora.lora_dropout"},
      {"alignment.use_gradient_checkpointing", "alignment.gradient_checkpointing"},
      {"alignment.gradient_accumulation_steps", "alignment.grad_accum"},
  };
}

std::string kebab(std::string s) {
  std::replace(s.begin(), s.end(), '_', '-');
  return s;
}

// Fills in flags that the table leaves implicit: the section's prefix plus the kebab-case name, unless the
// name already starts with the prefix word (lora_alpha -> --lora-alpha, not --lora-lora-alpha).
void derive_flags(std::vector<Field>& all, const std::vector<Section>& secs) {
  for (auto& f : all) {
    if (!f.flag.empty()) continue;
    std::string parent = f.path.substr(0, f.path.rfind('.'));
    std::string prefix;
    for (const auto& s : secs)
      if (s.path == parent) prefix = s.flag_prefix;
    std::string name = kebab(f.name());
    if (!prefix.empty() && name.rfind(prefix, 0) != 0 && name + "-" != prefix) name = prefix + name;
    f.flag = name;
  }
}

}  // namespace

const std::vector<Section>& sections() {
  static const std::vector<Section> all = build_sections();
  return all;
}

const std::vector<Field>& fields() {
  static const std::vector<Field> all = [] {
    auto f = build_fields();
    derive_flags(f, sections());
    return f;
  }();
  return all;
}

const std::vector<Alias>& aliases() {
  static const std::vector<Alias> all = build_aliases();
  return all;
}

const std::vector<std::string>& field_paths() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> out;
    for (const auto& f : fields()) out.push_back(f.path);
    return out;
  }();
  return all;
}

const Field* find_field(std::string_view path) {
  static const std::map<std::string, const Field*, std::less<>> index = [] {
    std::map<std::string, const Field*, std::less<>> m;
    for (const auto& f : fields()) m[f.path] = &f;
    return m;
  }();
  auto it = index.find(path);
  return it == index.end() ? nullptr : it->second;
}

const std::vector<RemovedKey>& removed_keys() {
  static const std::vector<RemovedKey> all = build_removed();
  return all;
}

const RemovedKey* find_removed(std::string_view path) {
  for (const auto& r : removed_keys())
    if (r.path == path) return &r;
  return nullptr;
}

const Alias* find_alias(std::string_view path) {
  for (const auto& a : aliases())
    if (a.old_path == path) return &a;
  return nullptr;
}

bool is_section(std::string_view path) {
  for (const auto& s : sections())
    if (s.path == path) return true;
  return false;
}

std::vector<const Field*> fields_for(Tool tool) {
  std::vector<const Field*> out;
  for (const auto& f : fields())
    if (has_tool(f.consumers, tool)) out.push_back(&f);
  return out;
}

std::string field_table_hash() {
  // FNV-1a over path, type and default of every key: cheap, stable across runs and platforms.
  uint64_t h = kFnvOffset;
  auto mix = [&](std::string_view s) { h = fnv1a64("\xff", fnv1a64(s, h)); };
  for (const auto& f : fields()) {
    mix(f.path);
    mix(type_name(f.type));
    mix(f.default_value.dump());
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace af::config
