// Hugging Face folders: save -> load is bit-exact (float32, bfloat16, sharded), multimodal names load, and a
// scratch student is built as a folder like any other.
#include "support/torch_doctest.h"

#include <filesystem>

#include "core/error.h"
#include "model/model_folder.h"
#include "model/weight_files.h"
#include "support/temp_dir.h"
#include "text/load_tokenizer.h"
#include "tiny_model.h"

using namespace af::model;
using af::test::tiny_model;

namespace {
bool same_weights(Gemma3& a, Gemma3& b) {
  auto wa = a.named_weights(), wb = b.named_weights();
  if (wa.size() != wb.size()) return false;
  for (size_t i = 0; i < wa.size(); ++i)
    if (wa[i].name != wb[i].name || !at::equal(*wa[i].tensor, *wb[i].tensor)) return false;
  return true;
}

// A scratch student small enough to build in a blink.
ScratchSpec tiny_spec(int64_t vocab_size) {
  ScratchSpec spec;
  spec.vocab_size = vocab_size;
  spec.hidden_size = 32;
  spec.num_layers = 2;
  spec.head_dim = 8;
  spec.intermediate_size = 64;
  return spec;
}
}  // namespace

TEST_CASE("save then load gives back every weight bit for bit") {
  af::test::TempDir dir;
  auto m = tiny_model(21);
  save_model(*m, dir.file("f32"), at::kFloat, "");
  auto back = load_model(dir.file("f32"), at::TensorOptions().dtype(at::kFloat));
  CHECK(same_weights(*m, *back));
  CHECK(back->config().sliding_layers == m->config().sliding_layers);
  auto generation = nlohmann::json::parse(af::test::slurp(dir.file("f32/generation_config.json")));
  CHECK(generation["eos_token_id"] == nlohmann::json({1, 5}));

  auto bf = tiny_model(21, af::test::tiny_config(), at::kBFloat16);
  save_model(*bf, dir.file("bf16"), at::kBFloat16, "");
  auto bf_back = load_model(dir.file("bf16"), at::TensorOptions().dtype(at::kBFloat16));
  CHECK(same_weights(*bf, *bf_back));
  CHECK(load_model_config(dir.file("bf16")).torch_dtype == "bfloat16");
  CHECK(SafetensorsFile::open(dir.file("bf16/model.safetensors"))->find("model.norm.weight")->dtype ==
        DType::BF16);

  save_model(*m, dir.file("sharded"), at::kFloat, "", 4096);
  CHECK(std::filesystem::exists(dir.file("sharded/model.safetensors.index.json")));
  auto sharded = load_model(dir.file("sharded"), at::TensorOptions().dtype(at::kFloat));
  CHECK(same_weights(*m, *sharded));
}

TEST_CASE("multimodal checkpoints load through their prefixes, vision tensors are ignored") {
  CHECK(text_model_name("language_model.model.layers.3.mlp.up_proj.weight") ==
        "model.layers.3.mlp.up_proj.weight");
  CHECK(text_model_name("model.language_model.embed_tokens.weight") == "model.embed_tokens.weight");
  CHECK(text_model_name("language_model.lm_head.weight") == "lm_head.weight");
  CHECK(text_model_name("vision_tower.vision_model.embeddings.patch_embedding.weight").empty());
  CHECK(text_model_name("model.multi_modal_projector.mm_input_projection_weight").empty());

  af::test::TempDir dir;
  auto m = tiny_model(22);
  std::vector<at::Tensor> keep;
  std::vector<TensorBytes> tensors;
  for (auto& nt : m->named_weights()) {
    keep.push_back(nt.tensor->contiguous());
    std::string name = "model.language_model." + nt.name.substr(6);
    tensors.push_back(tensor_bytes(name, keep.back()));
  }
  std::vector<float> vision(6, 1.0f);
  tensors.push_back({"model.vision_tower.x.weight", DType::F32, {6}, vision.data(), 24});
  write_weight_files(dir.path(), tensors, uint64_t{1} << 30);
  nlohmann::json text = model_config_json(m->config());
  text.erase("model_type");
  nlohmann::json config = {{"model_type", "gemma3"}, {"text_config", text}};
  dir.write("config.json", config.dump());
  auto back = load_model(dir.path(), at::TensorOptions().dtype(at::kFloat));
  CHECK(same_weights(*m, *back));
}

TEST_CASE("a folder whose weights do not fit its config is a clear error") {
  af::test::TempDir dir;
  auto m = tiny_model(23);
  save_model(*m, dir.path(), at::kFloat, "");
  auto config = nlohmann::json::parse(af::test::slurp(dir.file("config.json")));
  config["intermediate_size"] = 32;
  dir.write("config.json", config.dump());
  CHECK_THROWS_WITH_AS(
      load_model(dir.path(), at::TensorOptions().dtype(at::kFloat)),
      doctest::Contains(
          "'model.layers.0.mlp.gate_proj.weight' has shape [24, 16], config.json implies [32, 16]"),
      af::Error);
  config["num_hidden_layers"] = 4;
  config.erase("layer_types");
  config["intermediate_size"] = 24;
  dir.write("config.json", config.dump());
  CHECK_THROWS_WITH_AS(load_model(dir.path(), at::TensorOptions().dtype(at::kFloat)),
                       doctest::Contains("no tensor 'model.layers.3.input_layernorm.weight'"), af::Error);
}

TEST_CASE("the scratch student is a Hugging Face folder with a trained tokenizer, same seed, same weights") {
  af::test::TempDir dir;
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i)
    texts.push_back("{\"query\":{\"filter\":{\"field\":\"total\",\"op\":\"above\",\"value\":" +
                    std::to_string(i) + "}}} show orders above " + std::to_string(i));
  ScratchSpec spec = tiny_spec(300);
  build_scratch_model(spec, texts, dir.file("a"), 7);
  build_scratch_model(spec, texts, dir.file("b"), 7);
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.model", "generation_config.json"})
    CHECK(std::filesystem::exists(dir.file(std::string("a/") + f)));
  auto a = load_model(dir.file("a"), at::TensorOptions().dtype(at::kFloat));
  auto b = load_model(dir.file("b"), at::TensorOptions().dtype(at::kFloat));
  CHECK(same_weights(*a, *b));
  CHECK(a->config().vocab_size == 300);
  auto tok = af::text::load_tokenizer(dir.file("a"));
  CHECK((a->config().eos_token_ids == std::vector<int64_t>{1, tok->token_to_id("<end_of_turn>")}));
  // Norms start at zero (they scale by 1 + w), the padding row of the embedding too.
  CHECK(a->embed_tokens()[0].abs().sum().item<float>() == 0.0f);
  CHECK(a->layers()[0].input_layernorm.abs().sum().item<float>() == 0.0f);
  CHECK(a->layers()[0].q_proj.weight.std().item<float>() == doctest::Approx(0.02).epsilon(0.1));
}

TEST_CASE(
    "a scratch vocabulary the corpus cannot fill names training.scratch.vocab_size and leaves no folder") {
  af::test::TempDir dir;
  std::vector<std::string> texts(50, "show orders above 12");
  ScratchSpec spec = tiny_spec(2048);
  try {
    build_scratch_model(spec, texts, dir.file("s"), 7);
    FAIL("a 2048-token vocabulary trained on one sentence");
  } catch (const af::Error& e) {
    CHECK(e.code() == af::ExitCode::Usage);
    std::string what = e.what();
    CHECK(what.starts_with(
        "training.scratch.vocab_size (2048) is more tokens than the training corpus yields"));
    CHECK(e.hint().starts_with("set training.scratch.vocab_size to "));
  }
  // Nothing is left beside it either: no temporary folder survives the failed build.
  CHECK(std::filesystem::is_empty(dir.path()));
}
