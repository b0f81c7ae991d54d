// JSONL reading (simdjson) and writing: malformed lines are reported as file:line: reason, never lost.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/files.h"
#include "core/jsonl_reader.h"
#include "core/jsonl_writer.h"
#include "core/limits.h"
#include "support/temp_dir.h"

using af::test::TempDir;

TEST_CASE("reads every record, skipping blank lines, CRLF endings and a last line without newline") {
  TempDir dir;
  std::string p =
      dir.write("a.jsonl", "{\"id\":1,\"q\":\"x\"}\r\n\n   \n{\"id\":2,\"q\":\"y\"}\n{\"id\":3,\"q\":\"z\"}");
  af::JsonlStats stats;
  auto rows = af::read_jsonl(p, af::OnBadLine::Fail, &stats);
  REQUIRE(rows.size() == 3);
  CHECK(rows[2]["q"] == "z");
  CHECK(stats.lines == 5);
  CHECK(stats.records == 3);
  CHECK(stats.blank == 2);
}

TEST_CASE("a malformed line fails fast with file:line: reason") {
  TempDir dir;
  std::string p = dir.write("bad.jsonl", "{\"a\":1}\n{\"a\":\n{\"a\":3}\n");
  try {
    af::read_jsonl(p, af::OnBadLine::Fail);
    FAIL("expected an error");
  } catch (const af::Error& e) {
    CHECK(std::string(e.what()).rfind(p + ":2: ", 0) == 0);
    CHECK(e.code() == af::ExitCode::Runtime);
  }
}

TEST_CASE("skip-and-count keeps the good lines and counts and names the bad ones") {
  TempDir dir;
  std::string p =
      dir.write("mixed.jsonl", "{\"a\":1}\nnot json\n{\"a\":1,\"a\":2}\n[1,2] trailing\n{\"a\":5}\n");
  af::JsonlStats stats;
  auto rows = af::read_jsonl(p, af::OnBadLine::SkipAndCount, &stats);
  CHECK(rows.size() == 2);
  CHECK(stats.bad == 3);
  REQUIRE(stats.bad_reasons.size() == 3);
  CHECK(stats.bad_reasons[0].rfind(p + ":2: ", 0) == 0);
  CHECK(stats.bad_reasons[1] == p + ":3: duplicate key \"a\"");
  CHECK(stats.bad_reasons[2].rfind(p + ":4: ", 0) == 0);
}

TEST_CASE("on-demand visitors pull fields, a missing field is a bad line") {
  TempDir dir;
  std::string p = dir.write("f.jsonl", "{\"prompt\":\"p1\",\"completion\":\"c1\"}\n{\"prompt\":\"p2\"}\n");
  std::vector<std::string> seen;
  auto visit = [&](const af::JsonlLine& line, simdjson::ondemand::document& doc) {
    std::string_view prompt = doc["prompt"].get_string();
    std::string_view completion = doc["completion"].get_string();
    seen.push_back(std::to_string(line.number) + ":" + std::string(prompt) + "/" + std::string(completion));
  };
  auto stats = af::for_each_jsonl(p, af::OnBadLine::SkipAndCount, visit);
  CHECK(seen == std::vector<std::string>{"1:p1/c1"});
  CHECK(stats.bad == 1);
  CHECK_THROWS_WITH_AS(af::for_each_jsonl(p, af::OnBadLine::Fail, visit), doctest::Contains(":2: "),
                       af::Error);
}

TEST_CASE("a line longer than the read buffer is read whole") {
  TempDir dir;
  std::string big(9u << 20, 'x');
  std::string p = dir.write("big.jsonl", "{\"a\":1}\n{\"s\":\"" + big + "\"}\n{\"a\":3}\n");
  auto rows = af::read_jsonl(p);
  REQUIRE(rows.size() == 3);
  CHECK(rows[1]["s"].get<std::string>().size() == big.size());
  CHECK(rows[2]["a"] == 3);
}

TEST_CASE("a missing file names the path") {
  CHECK_THROWS_WITH_AS(af::read_jsonl("/nonexistent/x.jsonl"),
                       doctest::Contains("/nonexistent/x.jsonl: cannot open"), af::Error);
}

TEST_CASE("append mode continues a file and cuts a torn last line left by a killed writer") {
  TempDir dir;
  std::string p = dir.file("out/rows.jsonl");
  {
    af::JsonlWriter w(p, af::JsonlWriter::Mode::Truncate);
    w.write({{"i", 1}});
    w.write({{"i", 2}, {"s", "caf\xc3\xa9"}});
    w.sync();
  }
  CHECK(af::test::slurp(p) == "{\"i\":1}\n{\"i\":2,\"s\":\"caf\xc3\xa9\"}\n");
  {
    std::FILE* f = std::fopen(p.c_str(), "ab");
    std::fputs("{\"i\":3,\"s\":\"half", f);  // a writer killed mid-line
    std::fclose(f);
  }
  af::JsonlWriter w(p, af::JsonlWriter::Mode::Append);
  CHECK(w.repaired_bytes() == 16);
  w.write({{"i", 3}});
  w.flush();
  auto rows = af::read_jsonl(p);
  REQUIRE(rows.size() == 3);
  CHECK(rows[2]["i"] == 3);
}

TEST_CASE("invalid UTF-8 cannot be written") {
  CHECK_THROWS_AS(af::to_json_line(nlohmann::json("\xff")), af::Error);
}

TEST_CASE("atomic writes replace the whole file and leave no temporary behind") {
  TempDir dir;
  std::string p = dir.file("deep/dir/result.json");
  af::write_file_atomic(p, "first");
  af::write_file_atomic(p, "second");
  CHECK(af::test::slurp(p) == "second");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.file("deep/dir"))) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
  af::write_jsonl_atomic(dir.file("rows.jsonl"), {{{"a", 1}}, {{"b", 2}}});
  CHECK(af::test::slurp(dir.file("rows.jsonl")) == "{\"a\":1}\n{\"b\":2}\n");
}

TEST_CASE("an atomic write that cannot happen throws and keeps the old file") {
  TempDir dir;
  std::string p = dir.write("keep.txt", "old");
  std::filesystem::permissions(dir.path(),
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  bool root = geteuid() == 0;  // root ignores directory permissions
  if (!root) CHECK_THROWS_AS(af::write_file_atomic(p, "new"), af::Error);
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all);
  CHECK(af::test::slurp(p) == (root ? af::test::slurp(p) : "old"));
  CHECK_THROWS_AS(af::read_file_limited(p, 2, "config file"), af::Error);
}

// issue 22: one 100 MB line drove train-sft to 19.6 GB; a line is now refused once it passes the limit,
// before the reader holds more of it.
TEST_CASE("a line over the record limit is an error naming the file, the line and the limit") {
  TempDir dir;
  std::string big = "{\"ok\":1}\n{\"text\":\"" + std::string(af::kMaxLineBytes, 'x') + "\"}\n";
  const std::string path = dir.write("huge.jsonl", big);
  CHECK_THROWS_WITH_AS(af::read_jsonl(path),
                       (path + ":2: a line longer than 16777216 bytes, the most one record may hold").c_str(),
                       af::Error);
  // Just under the limit is a record like any other.
  std::string fits = "{\"text\":\"" + std::string(af::kMaxLineBytes - 64, 'x') + "\"}\n";
  CHECK(af::read_jsonl(dir.write("fits.jsonl", fits)).size() == 1);
}

TEST_CASE("a JSONL file over the limit for files read whole is refused before any of it is read") {
  TempDir dir;
  const std::string path = dir.file("corpus.jsonl");
  { std::ofstream(path) << "{\"ok\":1}\n"; }
  std::filesystem::resize_file(path, af::kMaxJsonlFileBytes + 1);  // sparse: no disk, no time
  CHECK_THROWS_WITH_AS(af::read_jsonl(path),
                       (path + ": more than 256 MiB, the most a JSONL file read whole may hold").c_str(),
                       af::Error);
  // Streaming readers keep one line at a time and take any size: the first line reads, the NUL bytes after it
  // are a bad line.
  uint64_t records = 0;
  CHECK_THROWS_AS(af::for_each_jsonl(path, af::OnBadLine::Fail, [&](const auto&, auto&) { ++records; }),
                  af::Error);
  CHECK(records == 1);
}

TEST_CASE("a file with no size (/dev/zero) is read up to the limit, not without end") {
  CHECK_THROWS_WITH_AS(af::read_file_limited("/dev/zero", 1 << 20, "schema file"),
                       "/dev/zero: more than 1048576 bytes; a schema file may be at most 1048576 bytes",
                       af::Error);
}
