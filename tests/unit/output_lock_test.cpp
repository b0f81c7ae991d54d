// One writer per output folder (issue 22): a second process fails at once naming the holder's pid, the lock
// goes with its holder however it dies, and temporaries of writers that are gone are cleared.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/output_lock.h"
#include "support/temp_dir.h"

using af::OutputLock;
using af::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A child process that locks `dir` and then waits to be killed; returns once it holds the lock.
pid_t hold_in_child(const std::string& dir) {
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(ready[0]);
    try {
      OutputLock lock(dir, "ds-build samples");
      char ok = 1;
      (void)!::write(ready[1], &ok, 1);
      for (;;) ::pause();
    } catch (...) {
      ::_exit(3);
    }
  }
  ::close(ready[1]);
  char ok = 0;
  REQUIRE(::read(ready[0], &ok, 1) == 1);
  ::close(ready[0]);
  return pid;
}

// A pid that was a process a moment ago and is not any more.
pid_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

}  // namespace

TEST_CASE("a second writer of a folder fails at once, naming the holder, and the lock dies with its holder") {
  TempDir dir;
  const std::string out = dir.file("out");
  pid_t holder = hold_in_child(out);
  // Killed however the test ends, so a failing check leaves no child behind.
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reaper{holder};
  CHECK(fs::exists(out + "/" + af::kOutputLockName));
  try {
    OutputLock second(out, "ds-build all");
    FAIL("a second writer got the folder");
  } catch (const af::Error& e) {
    CHECK(std::string(e.what()) ==
          fs::canonical(out).string() + " is being written by ds-build samples (pid " +
              std::to_string(holder) + "): two writers on one folder would mix their rows");
    CHECK(e.hint().find("kill " + std::to_string(holder)) != std::string::npos);
  }
  ::kill(holder, SIGKILL);        // no clean-up runs: the kernel drops the flock
  ::waitpid(holder, nullptr, 0);  // (the reaper's second kill and wait then find nothing)
  {
    OutputLock mine(out, "ds-build all");
    OutputLock again(out, "ds-build corpus");  // the same process may claim it twice
  }
  CHECK_FALSE(fs::exists(out + "/" + af::kOutputLockName));  // released by the last claim
  OutputLock after(out, "ds-build all");
}

TEST_CASE("temporaries of writers that are gone are removed under the lock, live ones kept") {
  TempDir dir;
  const std::string gone = std::to_string(dead_pid()), mine = std::to_string(::getpid());
  dir.write("out/checkpoint-4.tmp-" + gone + "/model.safetensors", "half");
  dir.write("out/d_03_dataset.jsonl.tmp." + gone, "{\"torn\":");
  dir.write("out/scratch-base.tmp-" + mine + "/config.json", "{}");
  dir.write("out/notes.tmp-draft", "not a writer's");
  dir.write("out/d_03_dataset.jsonl", "{}\n");
  OutputLock lock(dir.file("out"), "train-sft");
  CHECK_FALSE(fs::exists(dir.file("out/checkpoint-4.tmp-" + gone)));
  CHECK_FALSE(fs::exists(dir.file("out/d_03_dataset.jsonl.tmp." + gone)));
  CHECK(fs::exists(dir.file("out/scratch-base.tmp-" + mine)));
  CHECK(fs::exists(dir.file("out/notes.tmp-draft")));
  CHECK(fs::exists(dir.file("out/d_03_dataset.jsonl")));
}
