// SentencePiece: training a tokenizer for the scratch student on real corpus text, loading it, and the chat
// template over it.
#include <doctest/doctest.h>

#include <algorithm>

#include "core/error.h"
#include "core/jsonl_reader.h"
#include "support/temp_dir.h"
#include "text/chat_template.h"
#include "text/sp_tokenizer.h"

using af::text::SpTokenizer;

namespace {
std::vector<std::string> corpus() {
  std::vector<std::string> texts;
  for (const auto& row :
       af::read_jsonl(std::string(ASTFORGE_SOURCE_DIR) + "/tests/fixtures/domain_specs.jsonl")) {
    texts.push_back(row.dump());
    for (const auto& q : row.value("example_queries", nlohmann::json::array()))
      texts.push_back(q["text"].get<std::string>());
  }
  texts.push_back("{\"query\":{\"filter\":{\"field\":\"total\",\"op\":\"above\",\"value\":16},\"limit\":3}}");
  texts.push_back("affiche les commandes dont le montant est sup\xc3\xa9rieur \xc3\xa0 100");
  return texts;
}
}  // namespace

TEST_CASE("a trained tokenizer keeps Gemma's special ids and round-trips any text") {
  af::test::TempDir dir;
  std::string model = dir.file("tok/tokenizer.model");
  SpTokenizer::train(corpus(), 400, model);
  SpTokenizer tok = SpTokenizer::load(model);
  CHECK(tok.vocab_size() == 400);
  CHECK(tok.token_to_id("<pad>") == 0);
  CHECK(tok.token_to_id("<eos>") == 1);
  CHECK(tok.token_to_id("<bos>") == 2);
  CHECK(tok.token_to_id("<unk>") == 3);
  CHECK(tok.token_to_id("<start_of_turn>") >= 0);
  CHECK(tok.token_to_id("<end_of_turn>") >= 0);
  CHECK(tok.token_to_id("not-a-piece-at-all") == -1);
  for (const std::string text :
       {"{\"query\":{\"limit\":5}}", "  two  spaces\n\nand\ttabs", "caf\xc3\xa9 \xf0\x9f\x98\x80",
        "\xe6\x97\xa5\xe6\x9c\xac unseen script", "123456 digits"}) {
    CAPTURE(text);
    CHECK(tok.decode(tok.encode(text)) == text);
  }
  CHECK(tok.encode("hi", true).front() == 2);
}

TEST_CASE("a space is a piece of its own: a word is the same tokens in a request and in a JSON answer") {
  af::test::TempDir dir;
  std::string model = dir.file("tokenizer.model");
  SpTokenizer::train(corpus(), 400, model);
  SpTokenizer tok = SpTokenizer::load(model);
  for (int32_t id = 0; id < static_cast<int32_t>(tok.vocab_size()); ++id) {
    std::string piece = tok.token_bytes(id);
    CAPTURE(piece);
    CHECK((piece.find(' ') == std::string::npos || piece.find_first_not_of(' ') == std::string::npos));
  }
  for (const std::string word : {"orders", "total", "status"}) {
    CAPTURE(word);
    std::vector<int32_t> alone = tok.encode(word), in_request = tok.encode("list " + word + " among"),
                         in_json = tok.encode("{\"field\":\"" + word + "\"}");
    CHECK(std::search(in_request.begin(), in_request.end(), alone.begin(), alone.end()) != in_request.end());
    CHECK(std::search(in_json.begin(), in_json.end(), alone.begin(), alone.end()) != in_json.end());
  }
}

TEST_CASE("the chat template works over a trained tokenizer") {
  af::test::TempDir dir;
  std::string model = dir.file("tokenizer.model");
  SpTokenizer::train(corpus(), 400, model);
  SpTokenizer tok = SpTokenizer::load(model);
  auto ex = af::text::tokenize_example(tok, "Request: orders above 10", "{\"query\":{\"limit\":10}}");
  CHECK(std::count(ex.ids.begin(), ex.ids.end(), 2) == 1);
  CHECK(ex.ids.front() == 2);
  CHECK(ex.ids[1] == tok.token_to_id("<start_of_turn>"));
  CHECK(ex.ids[ex.completion_end - 1] == tok.token_to_id("<end_of_turn>"));
  std::vector<int32_t> answer(ex.ids.begin() + static_cast<long>(ex.completion_begin),
                              ex.ids.begin() + static_cast<long>(ex.completion_end) - 1);
  CHECK(tok.decode(answer) == "{\"query\":{\"limit\":10}}");
  CHECK(af::text::stop_tokens(tok) == std::vector<int32_t>{tok.token_to_id("<end_of_turn>"), 1});
}

TEST_CASE("a missing model file is a clear error") {
  CHECK_THROWS_WITH_AS(SpTokenizer::load("/nonexistent/tokenizer.model"),
                       doctest::Contains("/nonexistent/tokenizer.model"), af::Error);
}

TEST_CASE("the same corpus gives the same tokenizer bytes wherever it is trained") {
  af::test::TempDir dir;
  std::string a = dir.file("first/tokenizer.model"), b = dir.file("second-place/x/tokenizer.model");
  SpTokenizer::train(corpus(), 400, a);
  SpTokenizer::train(corpus(), 400, b);
  const std::string bytes = af::test::slurp(a);
  CHECK(bytes == af::test::slurp(b));
  // The training paths are gone: SentencePiece would otherwise record where it read and wrote.
  CHECK(bytes.find(dir.path()) == std::string::npos);
  CHECK(af::text::without_training_paths(bytes) == bytes);
  CHECK(SpTokenizer::load(b).vocab_size() == 400);
  CHECK_THROWS_AS(af::text::without_training_paths(bytes.substr(0, bytes.size() / 2)), af::Error);
}
