// Data-parallel training on torch's c10d: ranks launched torchrun-style (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) meet through a TCP store and sum their gradients with Gloo.
// Every rank runs the same optimizer step on the same summed gradient, so the ranks stay identical without
// broadcasting weights after the start.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace af::train {

/// Where this process sits among the ranks (from the launcher's environment).
struct RankInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr;
  int master_port = 0;
};

/// Reads the torchrun variables through `getenv`; a single process when WORLD_SIZE is unset or 1. Malformed
/// or inconsistent values are usage errors naming the variable.
RankInfo rank_info_from_env(const std::function<std::optional<std::string>(const std::string&)>& getenv);

/// The process group of a data-parallel run. With one rank every collective is a no-op.
class Distributed {
 public:
  /// Joins the group described by `info` (rank 0 hosts the store); waits up to `timeout_seconds` for the
  /// rest.
  explicit Distributed(const RankInfo& info, double timeout_seconds = 300);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const { return info_.rank; }
  int world_size() const { return info_.world_size; }
  const RankInfo& info() const { return info_; }
  /// Rank 0: the one that writes logs, metrics and checkpoints.
  bool is_main() const { return info_.rank == 0; }

  /// Sums each tensor over the ranks, in place (tensors of any shapes, flattened into buckets).
  void all_reduce_sum(const std::vector<at::Tensor>& tensors);
  /// Copies rank 0's values of each tensor into every rank's, in place.
  void broadcast_from_main(const std::vector<at::Tensor>& tensors);
  /// Returns when every rank has called it.
  void barrier();

 private:
  struct Group;
  RankInfo info_;
  std::unique_ptr<Group> group_;
};

}  // namespace af::train
