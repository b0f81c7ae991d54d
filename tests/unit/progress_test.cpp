// The progress line: exact text for a bar and for periodic log lines.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/progress.h"
#include "support/temp_dir.h"

TEST_CASE("durations") {
  CHECK(af::format_duration(0) == "0:00");
  CHECK(af::format_duration(65) == "1:05");
  CHECK(af::format_duration(3725) == "1:02:05");
  CHECK(af::format_duration(NAN) == "?");
}

TEST_CASE("a bar shows fraction, rate, ETA and status") {
  CHECK(af::format_progress("train", 25, 100, 5.0, "loss 0.412", true, 8) ==
        "train [##------] 25/100 (25.0%)  5.0/s  ETA 0:15  elapsed 0:05  loss 0.412");
  CHECK(af::format_progress("samples", 3, 12, 30.0, "", false) ==
        "samples: 3/12 (25.0%)  0.10/s  ETA 1:30  elapsed 0:30");
  CHECK(af::format_progress("rows", 1500, std::nullopt, 2.0, "", false) == "rows: 1500  750/s  elapsed 0:02");
}

TEST_CASE("lines mode writes one line per interval and a final line") {
  af::test::TempDir dir;
  std::string path = dir.file("progress.txt");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    {
      af::Progress p("work", 10, af::ProgressMode::Lines, 3600.0, f);
      p.advance(4);
      p.advance(6);
    }
    std::fclose(f);
  }
  std::string text = af::test::slurp(path);
  CHECK(text.rfind("work: 10/10 (100.0%)", 0) == 0);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK(af::parse_progress_mode("bar") == af::ProgressMode::Bar);
  CHECK_THROWS_AS(af::parse_progress_mode("fancy"), af::Error);
}
