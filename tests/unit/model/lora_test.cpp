// LoRA: y = base(x) + B(A(x)) * scaling, PEFT's init and file format, loading, merging.
#include "support/torch_doctest.h"

#include <filesystem>

#include "core/error.h"
#include "model/lora.h"
#include "model/model_folder.h"
#include "model/weight_files.h"
#include "support/temp_dir.h"
#include "tiny_model.h"

using namespace af::model;
using af::test::random_ids;
using af::test::tiny_model;

TEST_CASE("scaling is alpha / r, or alpha / sqrt(r) with rslora") {
  LoraSettings s;
  s.r = 16;
  s.lora_alpha = 32;
  CHECK(s.scaling() == 2.0);
  s.use_rslora = true;
  CHECK(s.scaling() == 8.0);
}

TEST_CASE("targets match module names, all-linear matches every projection") {
  auto m = tiny_model(31);
  LoraSettings s;
  s.target_modules = {"q_proj", "v_proj"};
  CHECK(add_lora(*m, s, 1) == 2 * 3);
  CHECK(m->layers()[0].q_proj.lora);
  CHECK(!m->layers()[0].k_proj.lora);
  auto all = tiny_model(31);
  s.target_modules = {"all-linear"};
  CHECK(add_lora(*all, s, 1) == 7 * 3);
  s.target_modules = {"nothing"};
  CHECK_THROWS_AS(add_lora(*tiny_model(31), s, 1), af::Error);
  s.target_modules.clear();
  s.target_regex = R"(.*layers\.1\..*_proj)";
  CHECK(add_lora(*tiny_model(31), s, 1) == 7);
}

TEST_CASE("PEFT's initialisations: A Kaiming-uniform or gaussian, B zeros (or random with false)") {
  LoraSettings s;
  s.r = 4;
  s.target_modules = {"gate_proj"};
  auto m = tiny_model(32);
  add_lora(*m, s, 5);
  const LoraPair& p = *m->layers()[0].gate_proj.lora;
  CHECK((p.a.sizes() == at::IntArrayRef({4, 16})));
  CHECK((p.b.sizes() == at::IntArrayRef({24, 4})));
  CHECK(p.a.abs().max().item<float>() <= 0.25f);  // bound 1/sqrt(in) = 1/4
  CHECK(p.a.abs().max().item<float>() > 0.15f);
  CHECK(p.b.abs().sum().item<float>() == 0.0f);
  // With B zero the adapter changes nothing.
  auto base = tiny_model(32);
  at::Tensor ids = random_ids(1, 5, 50, 1);
  at::NoGradGuard no_grad;
  CHECK(at::equal(m->forward(ids, at::ones_like(ids)), base->forward(ids, at::ones_like(ids))));
  s.init_lora_weights = "gaussian";
  auto g = tiny_model(32);
  add_lora(*g, s, 5);
  CHECK(g->layers()[0].gate_proj.lora->a.std().item<float>() == doctest::Approx(0.25).epsilon(0.3));
  s.init_lora_weights = "false";
  auto f = tiny_model(32);
  add_lora(*f, s, 5);
  CHECK(f->layers()[0].gate_proj.lora->b.abs().sum().item<float>() > 0.0f);
}

TEST_CASE("the adapter adds B A x * scaling, and merging folds it into the weight") {
  LoraSettings s;
  s.r = 2;
  s.lora_alpha = 6;
  s.init_lora_weights = "false";
  auto m = tiny_model(33);
  add_lora(*m, s, 9);
  Linear& l = m->layers()[1].up_proj;
  at::NoGradGuard no_grad;
  at::Tensor x = at::randn({3, 16});
  at::Tensor expect =
      at::matmul(x, l.weight.t()) + at::matmul(at::matmul(x, l.lora->a.t()), l.lora->b.t()) * 3.0;
  CHECK(at::allclose(l.forward(x, false), expect, 1e-5, 1e-6));
  at::Tensor ids = random_ids(2, 6, 50, 2);
  at::Tensor before = m->logits(m->forward(ids, at::ones_like(ids)));
  merge_lora(*m);
  CHECK(!l.lora);
  CHECK(at::allclose(m->logits(m->forward(ids, at::ones_like(ids))), before, 1e-4, 1e-5));
}

TEST_CASE("adapters are saved in PEFT's layout and load back into a fresh base") {
  af::test::TempDir dir;
  LoraSettings s;
  s.r = 4;
  s.lora_alpha = 8;
  s.lora_dropout = 0.1;
  s.target_modules = {"q_proj", "down_proj"};
  s.init_lora_weights = "false";
  s.base_model_name_or_path = "models/tiny";
  auto m = tiny_model(34);
  add_lora(*m, s, 3);
  save_adapter(*m, s, dir.path());
  auto config = nlohmann::json::parse(af::test::slurp(dir.file("adapter_config.json")));
  CHECK(config["peft_type"] == "LORA");
  CHECK(config["task_type"] == "CAUSAL_LM");
  CHECK(config["r"] == 4);
  CHECK(config["lora_alpha"] == 8.0);
  CHECK(config["target_modules"] == nlohmann::json({"q_proj", "down_proj"}));
  CHECK(config["bias"] == "none");
  CHECK(config["use_rslora"] == false);
  CHECK(config["fan_in_fan_out"] == false);
  CHECK(config["init_lora_weights"] == false);
  CHECK(config["base_model_name_or_path"] == "models/tiny");
  auto file = SafetensorsFile::open(dir.file("adapter_model.safetensors"));
  const TensorInfo* a = file->find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  const TensorInfo* b = file->find("base_model.model.model.layers.2.mlp.down_proj.lora_B.weight");
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK((a->shape == std::vector<int64_t>{4, 16}));  // [r, in]
  CHECK((b->shape == std::vector<int64_t>{16, 4}));  // [out, r]
  CHECK(file->tensors().size() == 2 * 2 * 3);

  auto fresh = tiny_model(34);
  LoraSettings loaded = load_adapter(*fresh, dir.path());
  CHECK(loaded.r == 4);
  CHECK(loaded.scaling() == 2.0);
  at::Tensor ids = random_ids(1, 7, 50, 3);
  at::NoGradGuard no_grad;
  CHECK(at::equal(fresh->forward(ids, at::ones_like(ids)), m->forward(ids, at::ones_like(ids))));
}

TEST_CASE("adapters PEFT wrote with the adapter name in the keys load too, foreign options are refused") {
  af::test::TempDir dir;
  auto m = tiny_model(35);
  std::vector<at::Tensor> keep;
  std::vector<TensorBytes> tensors;
  for (auto& [name, linear] : m->named_linears()) {
    if (name.find("v_proj") == std::string::npos) continue;
    keep.push_back(at::full({2, 16}, 0.5f));
    tensors.push_back(tensor_bytes("base_model.model." + name + ".lora_A.default.weight", keep.back()));
    keep.push_back(at::full({16, 2}, 0.25f));
    tensors.push_back(tensor_bytes("base_model.model." + name + ".lora_B.default.weight", keep.back()));
  }
  write_safetensors(dir.file("adapter_model.safetensors"), tensors);
  nlohmann::json config = {{"peft_type", "LORA"}, {"r", 2}, {"lora_alpha", 4}, {"target_modules", "v_proj"}};
  config["target_modules"] = nlohmann::json::array({"v_proj"});
  dir.write("adapter_config.json", config.dump());
  auto fresh = tiny_model(35);
  load_adapter(*fresh, dir.path());
  CHECK(fresh->layers()[2].v_proj.lora->b[0][0].item<float>() == 0.25f);

  config["use_dora"] = true;
  dir.write("adapter_config.json", config.dump());
  CHECK_THROWS_WITH_AS(load_adapter(*tiny_model(35), dir.path()), doctest::Contains("key 'use_dora'"),
                       af::Error);
  config["use_dora"] = false;
  config["fan_in_fan_out"] = true;
  dir.write("adapter_config.json", config.dump());
  CHECK_THROWS_WITH_AS(load_adapter(*tiny_model(35), dir.path()), doctest::Contains("key 'fan_in_fan_out'"),
                       af::Error);
  af::test::TempDir empty;
  CHECK_THROWS_WITH_AS(load_adapter(*tiny_model(35), empty.path()),
                       doctest::Contains("no adapter_config.json"), af::Error);
}

TEST_CASE("LoRA gradients reach A and B only, the base stays frozen") {
  LoraSettings s;
  s.r = 2;
  s.target_modules = {"o_proj"};
  s.init_lora_weights = "false";
  auto m = tiny_model(36);
  add_lora(*m, s, 4);
  for (auto& nt : adapter_tensors(*m, s)) nt.tensor->set_requires_grad(true);
  at::Tensor ids = random_ids(1, 5, 50, 4);
  m->logits(m->forward(ids, at::ones_like(ids))).sum().backward();
  CHECK(m->layers()[0].o_proj.lora->a.grad().defined());
  CHECK(m->layers()[0].o_proj.lora->b.grad().abs().sum().item<float>() > 0);
  CHECK(!m->layers()[0].o_proj.weight.grad().defined());
}
