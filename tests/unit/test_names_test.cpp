// ctest learns the test cases from doctest (doctest_discover_tests) and keeps them in a CMake list: a ';' in
// a test name splits it into names that match no test, and ctest then "passes" a test that never ran (21 test
// cases were silently skipped that way). No test name may hold one.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

TEST_CASE("no test case name contains a semicolon, which would make ctest skip it") {
  // A name may follow on the next line (clang-format breaks long ones there).
  const std::regex test_case(R"re(TEST_CASE\(\s*"([^"]*)"\s*\))re");
  size_t names = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::string(ASTFORGE_SOURCE_DIR) + "/tests")) {
    if (entry.path().extension() != ".cpp") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    for (std::sregex_iterator it(source.begin(), source.end(), test_case), end; it != end; ++it) {
      ++names;
      const std::string name = (*it)[1];
      const std::string where = entry.path().string() + ": \"" + name + "\"";
      CHECK_MESSAGE(name.find(';') == std::string::npos, where);
    }
  }
  CHECK(names > 200);
}
