#include "train/distributed.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>

#include "core/error.h"
#include "core/strings.h"

namespace af::train {

namespace {

int env_int(const std::function<std::optional<std::string>(const std::string&)>& getenv,
            const std::string& name, int fallback, int min) {
  auto v = getenv(name);
  if (!v || v->empty()) return fallback;
  try {
    size_t used = 0;
    int n = std::stoi(*v, &used);
    if (used == v->size() && n >= min) return n;
  } catch (const std::exception&) {
  }
  throw usage_error(
      "environment variable " + name + "=" + *v + " is not an integer >= " + std::to_string(min),
      "launch the ranks with pipelines/launchRanks.sh or torchrun, which set it");
}

// Gradients travel in buckets of this many bytes: one collective per bucket, not per tensor.
constexpr int64_t kBucketBytes = 32 << 20;

// Groups tensors of one dtype and device into buckets that are flattened, reduced and copied back.
template <typename Collective>
void bucketed(const std::vector<at::Tensor>& tensors, Collective collective) {
  at::NoGradGuard no_grad;  // parameters are copied into in place
  std::vector<at::Tensor> bucket;
  int64_t bytes = 0;
  auto flush = [&] {
    if (bucket.empty()) return;
    std::vector<at::Tensor> flat_parts;
    for (const auto& t : bucket) flat_parts.push_back(t.reshape({-1}));
    at::Tensor flat = at::cat(flat_parts);
    collective(flat);
    int64_t offset = 0;
    for (const auto& t : bucket) {
      t.copy_(flat.slice(0, offset, offset + t.numel()).view(t.sizes()));
      offset += t.numel();
    }
    bucket.clear();
    bytes = 0;
  };
  for (const auto& t : tensors) {
    if (!t.defined()) continue;
    if (!bucket.empty() && (t.scalar_type() != bucket[0].scalar_type() || t.device() != bucket[0].device() ||
                            bytes >= kBucketBytes))
      flush();
    bucket.push_back(t);
    bytes += static_cast<int64_t>(t.numel() * t.element_size());
  }
  flush();
}

// Waits for a collective; a rank that died or hung surfaces here, as a message that says so.
void wait_for(const c10::intrusive_ptr<c10d::Work>& work, int rank, const char* what) {
  try {
    work->wait();
  } catch (const c10::Error& e) {
    throw runtime_error(
        "rank " + std::to_string(rank) + ": " + what + " failed: " + e.what_without_backtrace(),
        "another rank stopped or hung; see its log, then resume every rank with --resume");
  }
}

}  // namespace

RankInfo rank_info_from_env(const std::function<std::optional<std::string>(const std::string&)>& getenv) {
  RankInfo r;
  r.world_size = env_int(getenv, "WORLD_SIZE", 1, 1);
  if (r.world_size == 1) return r;
  r.rank = env_int(getenv, "RANK", -1, 0);
  if (r.rank < 0)
    throw usage_error(
        "WORLD_SIZE=" + std::to_string(r.world_size) + " but RANK is not set",
        "set RANK (0 .. WORLD_SIZE-1) for each process, or launch with pipelines/launchRanks.sh");
  if (r.rank >= r.world_size)
    throw usage_error(
        "RANK=" + std::to_string(r.rank) + " is not below WORLD_SIZE=" + std::to_string(r.world_size),
        "ranks are numbered 0 .. WORLD_SIZE-1");
  r.local_rank = env_int(getenv, "LOCAL_RANK", r.rank, 0);
  r.local_world_size = env_int(getenv, "LOCAL_WORLD_SIZE", r.world_size, 1);
  auto addr = getenv("MASTER_ADDR");
  r.master_addr = addr && !addr->empty() ? *addr : "127.0.0.1";
  r.master_port = env_int(getenv, "MASTER_PORT", 29500, 1);
  if (r.master_port > 65535)
    throw usage_error("MASTER_PORT=" + std::to_string(r.master_port) + " is not a TCP port",
                      "use 1 .. 65535");
  return r;
}

struct Distributed::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
};

Distributed::Distributed(const RankInfo& info, double timeout_seconds) : info_(info) {
  if (info_.world_size == 1) return;
  auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  group_ = std::make_unique<Group>();
  try {
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<uint16_t>(info_.master_port);
    opts.isServer = info_.rank == 0;
    opts.numWorkers = static_cast<size_t>(info_.world_size);
    opts.waitWorkers = true;
    opts.timeout = timeout;
    group_->store = c10::make_intrusive<c10d::TCPStore>(info_.master_addr, opts);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // GLOO_SOCKET_IFNAME picks the network interface, as in PyTorch; else the host's default address.
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    options->devices.push_back(ifname != nullptr && *ifname != 0
                                   ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                   : c10d::ProcessGroupGloo::createDefaultDevice());
    group_->gloo =
        c10::make_intrusive<c10d::ProcessGroupGloo>(group_->store, info_.rank, info_.world_size, options);
  } catch (const c10::Error& e) {
    throw runtime_error("rank " + std::to_string(info_.rank) + " could not join the group at " +
                            info_.master_addr + ":" + std::to_string(info_.master_port) + ": " +
                            e.what_without_backtrace(),
                        "check that every rank was started with the same MASTER_ADDR, MASTER_PORT and "
                        "WORLD_SIZE, and that the port is free on the master");
  }
}

Distributed::~Distributed() = default;

void Distributed::all_reduce_sum(const std::vector<at::Tensor>& tensors) {
  if (!group_) return;
  bucketed(tensors, [&](at::Tensor& flat) {
    std::vector<at::Tensor> one{flat};
    wait_for(group_->gloo->allreduce(one), info_.rank, "summing gradients");
  });
}

void Distributed::broadcast_from_main(const std::vector<at::Tensor>& tensors) {
  if (!group_) return;
  bucketed(tensors, [&](at::Tensor& flat) {
    std::vector<at::Tensor> one{flat};
    c10d::BroadcastOptions opts;
    opts.rootRank = 0;
    wait_for(group_->gloo->broadcast(one, opts), info_.rank, "broadcasting from rank 0");
  });
}

void Distributed::barrier() {
  if (!group_) return;
  wait_for(group_->gloo->barrier(), info_.rank, "waiting for the other ranks");
}

}  // namespace af::train
