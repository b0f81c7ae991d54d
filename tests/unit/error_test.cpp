// Errors carry their exit-code class and a hint.
#include <doctest/doctest.h>

#include "core/error.h"
#include "core/log.h"

TEST_CASE("exit-code classes") {
  CHECK(af::usage_error("x").code() == af::ExitCode::Usage);
  CHECK(static_cast<int>(af::usage_error("x").code()) == 2);
  CHECK(static_cast<int>(af::runtime_error("x").code()) == 1);
  CHECK(static_cast<int>(af::interrupted_error("x").code()) == 130);
  CHECK(af::runtime_error("a.jsonl:3: bad", "fix it").describe() == "a.jsonl:3: bad\n  hint: fix it");
  CHECK(af::runtime_error("plain").describe() == "plain");
}

TEST_CASE("log levels parse and unknown ones are usage errors") {
  CHECK(af::parse_log_level("warn") == af::LogLevel::Warn);
  CHECK_THROWS_AS(af::parse_log_level("loud"), af::Error);
}
