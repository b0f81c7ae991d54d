// safetensors: bit-exact round trips, sharded folders, and every corruption rejected with a clear error.
#include "support/torch_doctest.h"

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "model/safetensors.h"
#include "model/weight_files.h"
#include "support/temp_dir.h"

using namespace af::model;

namespace {

std::string header_bytes(const std::string& json) {
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>(n >> (8 * i));
  return out + json;
}

std::string open_error(const std::string& path) {
  try {
    SafetensorsFile::open(path);
  } catch (const af::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("write then read gives back every byte, dtype and shape") {
  af::test::TempDir dir;
  std::vector<float> a = {1.5f, -0.0f, 3.25f, 1e-30f, 7, 8};
  std::vector<uint16_t> b = {0x3f80, 0xc000, 0x7f80};
  write_safetensors(
      dir.file("w.safetensors"),
      {{"b.weight", DType::BF16, {3}, b.data(), 6}, {"a.weight", DType::F32, {2, 3}, a.data(), 24}},
      {{"note", "x"}});
  std::string raw = af::test::slurp(dir.file("w.safetensors"));
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  CHECK(n % 8 == 0);  // header padded so the data is 8-byte aligned
  auto f = SafetensorsFile::open(dir.file("w.safetensors"));
  CHECK(f->metadata()["format"] == "pt");
  CHECK(f->metadata()["note"] == "x");
  const TensorInfo* ta = f->find("a.weight");
  REQUIRE(ta != nullptr);
  CHECK(ta->shape == std::vector<int64_t>{2, 3});
  CHECK(ta->dtype == DType::F32);
  CHECK(std::memcmp(f->data(*ta), a.data(), 24) == 0);
  const TensorInfo* tb = f->find("b.weight");
  REQUIRE(tb != nullptr);
  CHECK(tb->dtype == DType::BF16);
  CHECK(std::memcmp(f->data(*tb), b.data(), 6) == 0);
  CHECK(f->find("c") == nullptr);
  CHECK(!std::filesystem::exists(dir.file("w.safetensors.tmp")));
}

TEST_CASE("corrupt and truncated files are rejected, never read out of bounds") {
  af::test::TempDir dir;
  std::vector<float> a = {1, 2, 3, 4};
  write_safetensors(dir.file("ok.safetensors"), {{"a", DType::F32, {4}, a.data(), 16}});
  std::string good = af::test::slurp(dir.file("ok.safetensors"));

  CHECK(open_error(dir.write("short", good.substr(0, 5))).find("shorter than its 8-byte header length") !=
        std::string::npos);
  CHECK(open_error(dir.write("trunc", good.substr(0, good.size() - 4)))
            .find("the tensors cover 16 bytes but the data section has 12") != std::string::npos);
  CHECK(open_error(dir.write("extra", good + "xxxx")).find("the data section has 20") != std::string::npos);
  std::string huge = good;
  huge[6] = '\x7f';
  CHECK(open_error(dir.write("huge", huge)).find("exceeds the 100 MiB limit") != std::string::npos);
  std::string past = good;
  past[0] = static_cast<char>(past[0] + 64);
  CHECK(open_error(dir.write("past", past)).find("runs past the end") != std::string::npos);
  CHECK(open_error(dir.write("notjson", header_bytes("{nope") + std::string(16, '\0')))
            .find("not valid JSON") != std::string::npos);
  CHECK(
      open_error(dir.write("gap", header_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})") +
                                      std::string(16, '\0')))
          .find("starts at byte 8, expected 0") != std::string::npos);
  CHECK(open_error(
            dir.write("size", header_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})") +
                                  std::string(16, '\0')))
            .find("16 bytes do not match shape (12 bytes expected)") != std::string::npos);
  CHECK(open_error(
            dir.write("dtype", header_bytes(R"({"a":{"dtype":"I8","shape":[16],"data_offsets":[0,16]}})") +
                                   std::string(16, '\0')))
            .find("dtype I8 is not supported") != std::string::npos);
  CHECK(open_error(
            dir.write("overlap", header_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})") +
                                     std::string(16, '\0')))
            .find("expected 16") != std::string::npos);
  CHECK(open_error(dir.file("missing")).find("cannot open") != std::string::npos);
}

TEST_CASE("weights larger than a shard are split with an index, and read back as one set") {
  af::test::TempDir dir;
  std::vector<float> a(100, 1.0f), b(100, 2.0f), c(100, 3.0f);
  write_weight_files(dir.path(),
                     {{"a", DType::F32, {100}, a.data(), 400},
                      {"b", DType::F32, {100}, b.data(), 400},
                      {"c", DType::F32, {100}, c.data(), 400}},
                     800);
  CHECK(std::filesystem::exists(dir.file("model-00001-of-00002.safetensors")));
  CHECK(std::filesystem::exists(dir.file("model-00002-of-00002.safetensors")));
  CHECK(std::filesystem::exists(dir.file("model.safetensors.index.json")));
  CHECK(!std::filesystem::exists(dir.file("model.safetensors")));
  WeightFiles files = WeightFiles::open(dir.path());
  CHECK(files.names() == std::vector<std::string>{"a", "b", "c"});
  FoundTensor fc = files.find("c");
  REQUIRE(fc.info != nullptr);
  float v = 0;
  std::memcpy(&v, fc.file->data(*fc.info), 4);
  CHECK(v == 3.0f);
  // Written again below the limit: one file, and the stale index is gone.
  write_weight_files(dir.path(), {{"a", DType::F32, {100}, a.data(), 400}}, 800);
  CHECK(!std::filesystem::exists(dir.file("model.safetensors.index.json")));
  CHECK(WeightFiles::open(dir.path()).names() == std::vector<std::string>{"a"});
}

TEST_CASE("a folder without weights says what was looked for") {
  af::test::TempDir dir;
  CHECK_THROWS_WITH_AS(WeightFiles::open(dir.path()),
                       doctest::Contains("no model.safetensors or model.safetensors.index.json"), af::Error);
}
