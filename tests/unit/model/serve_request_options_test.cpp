// serve's request options over its defaults: what each option does to the generation settings, the length
// capped by the server's limit, refusals that name the option, and which requests may share a batch.
#include "support/torch_doctest.h"

#include "core/error.h"
#include "serve/request_options.h"

using af::serve::request_generation;
using af::serve::same_batch;
using json = nlohmann::json;

namespace {
af::model::GenerationSettings defaults() {
  af::model::GenerationSettings g;
  g.max_new_tokens = 100;
  g.do_sample = false;
  g.temperature = 0.7;
  g.top_p = 0.95;
  g.top_k = 0;
  g.repetition_penalty = 1.0;
  g.seed = 3407;
  return g;
}
}  // namespace

TEST_CASE("no options, or null: the server's defaults") {
  for (const json& options : {json(), json::object()}) {
    auto g = request_generation(defaults(), options);
    CHECK_FALSE(g.do_sample);
    CHECK(g.max_new_tokens == 100);
    CHECK(g.seed == 3407);
  }
}

TEST_CASE("temperature 0 is greedy, above 0 samples at it, and the other options land in their fields") {
  auto greedy = request_generation(
      [] {
        auto d = defaults();
        d.do_sample = true;
        return d;
      }(),
      {{"temperature", 0}});
  CHECK_FALSE(greedy.do_sample);
  CHECK(greedy.temperature == 0.7);  // kept: only sampling reads it
  auto g = request_generation(defaults(), {{"temperature", 1.5},
                                           {"top_p", 0.5},
                                           {"top_k", 7},
                                           {"repeat_penalty", 1.3},
                                           {"seed", 42},
                                           {"num_ctx", 4096},
                                           {"stop", {"x"}}});
  CHECK(g.do_sample);
  CHECK(g.temperature == 1.5);
  CHECK(g.top_p == 0.5);
  CHECK(g.top_k == 7);
  CHECK(g.repetition_penalty == 1.3);
  CHECK(g.seed == 42);
}

TEST_CASE("num_predict, max_tokens and max_completion_tokens ask for fewer tokens, never more") {
  CHECK(request_generation(defaults(), {{"num_predict", 12}}).max_new_tokens == 12);
  CHECK(request_generation(defaults(), {{"max_tokens", 4096}}).max_new_tokens == 100);
  CHECK(request_generation(defaults(), {{"max_completion_tokens", 30}}).max_new_tokens == 30);
  CHECK(request_generation(defaults(), {{"num_predict", -1}}).max_new_tokens == 100);
}

TEST_CASE("an option of the wrong type or range is refused by name") {
  auto refused = [](const json& options, const std::string& says) {
    CAPTURE(options.dump());
    CHECK_THROWS_WITH_AS(request_generation(defaults(), options), doctest::Contains(says.c_str()), af::Error);
  };
  refused({{"temperature", "hot"}},
          "option temperature must be a number from 0 (greedy) to 5 (found \"hot\")");
  refused({{"temperature", 9}}, "option temperature");
  refused({{"top_p", 0}}, "option top_p must be a number above 0, at most 1");
  refused({{"top_k", -1}}, "option top_k must be 0 (off) or more");
  refused({{"seed", 1.5}}, "option seed must be an integer");
  refused({{"num_predict", 0}}, "option num_predict must be 1 or more");
  refused(json::array({1}), "options must be a JSON object");
}

TEST_CASE("requests share a batch when all but their seeds agree") {
  auto a = request_generation(defaults(), {{"seed", 1}});
  CHECK(same_batch(a, request_generation(defaults(), {{"seed", 2}})));
  CHECK_FALSE(same_batch(a, request_generation(defaults(), {{"temperature", 0.5}})));
  CHECK_FALSE(same_batch(a, request_generation(defaults(), {{"num_predict", 5}})));
  CHECK_FALSE(same_batch(a, request_generation(defaults(), {{"top_k", 3}})));
}
