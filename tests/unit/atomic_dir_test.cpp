// write_dir_atomic: a folder is replaced whole or not at all.
#include <doctest/doctest.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "core/atomic_dir.h"
#include "core/error.h"
#include "support/temp_dir.h"

using af::test::slurp;
using af::test::TempDir;
namespace fs = std::filesystem;

TEST_CASE("write_dir_atomic creates the folder with what fill wrote, and nothing beside it") {
  TempDir dir;
  af::write_dir_atomic(dir.file("ckpt"), [](const std::string& tmp) {
    CHECK(fs::is_empty(tmp));
    std::FILE* f = std::fopen((tmp + "/a.txt").c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("one", f);
    std::fclose(f);
  });
  CHECK(slurp(dir.file("ckpt/a.txt")) == "one");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("write_dir_atomic replaces an old folder whole: none of its files survive") {
  TempDir dir;
  dir.write("ckpt/old.txt", "old");
  af::write_dir_atomic(dir.file("ckpt"), [&](const std::string& tmp) {
    std::FILE* f = std::fopen((tmp + "/new.txt").c_str(), "w");
    REQUIRE(f != nullptr);
    std::fclose(f);
  });
  CHECK(fs::exists(dir.file("ckpt/new.txt")));
  CHECK_FALSE(fs::exists(dir.file("ckpt/old.txt")));
}

TEST_CASE("write_dir_atomic leaves the old folder untouched and no temporary folder when fill throws") {
  TempDir dir;
  dir.write("ckpt/old.txt", "old");
  CHECK_THROWS_AS(af::write_dir_atomic(dir.file("ckpt"),
                                       [](const std::string& tmp) {
                                         std::FILE* f = std::fopen((tmp + "/half.txt").c_str(), "w");
                                         if (f) std::fclose(f);
                                         throw std::runtime_error("interrupted");
                                       }),
                  std::runtime_error);
  CHECK(slurp(dir.file("ckpt/old.txt")) == "old");
  CHECK_FALSE(fs::exists(dir.file("ckpt/half.txt")));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);
}
