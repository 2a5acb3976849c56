// Rendezvous stores (TCPStore, PrefixStore) and the Gloo process group.
#include "cmm_dist.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>

namespace {

std::mutex registry_mutex;
std::unordered_map<int64_t, c10::weak_intrusive_ptr<c10d::ProcessGroup>> registry;
std::atomic<int64_t> next_id{1};

cmm_store_t& store_ref(cmm_store s) {
  if (s == nullptr) throw std::invalid_argument("null store handle");
  return *s;
}

c10d::ProcessGroup& group_ref(cmm_pg pg) {
  if (pg == nullptr) throw std::invalid_argument("null process group handle");
  return *pg->group;
}

std::vector<uint8_t> bytes(const uint8_t* data, int64_t length) {
  if (length < 0 || (length > 0 && data == nullptr)) throw std::invalid_argument("invalid value buffer");
  return std::vector<uint8_t>(data, data + length);
}

// Codes mirror C# ReduceOp. Gloo has no AVG, so averaging is a sum followed by a division.
c10d::ReduceOp reduce_op(int32_t code) {
  switch (code) {
    case 0: case 1: return c10d::ReduceOp::SUM;
    case 2: return c10d::ReduceOp::MAX;
    case 3: return c10d::ReduceOp::MIN;
    default: throw std::invalid_argument("unknown reduce op code " + std::to_string(code));
  }
}

}  // namespace

namespace cmm {

c10::intrusive_ptr<c10d::ProcessGroup> process_group(int64_t id) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto it = registry.find(id);
  auto group = it == registry.end() ? c10::intrusive_ptr<c10d::ProcessGroup>() : it->second.lock();
  if (!group) throw std::runtime_error("the process group was disposed before the backward pass that needs it");
  return group;
}

std::chrono::milliseconds timeout(int64_t ms) {
  if (ms <= 0) throw std::invalid_argument("timeout must be positive, got " + std::to_string(ms) + " ms");
  return std::chrono::milliseconds(ms);
}

void wait(const c10::intrusive_ptr<c10d::Work>& work, int64_t timeout_ms, const char* what) {
  try {
    work->wait(timeout(timeout_ms));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(what) + " failed or timed out after " + std::to_string(timeout_ms) +
                             " ms: " + e.what());
  }
}

std::vector<int64_t> all_gather_row_counts(const c10::intrusive_ptr<c10d::ProcessGroup>& group, const at::Tensor& local,
                                           int64_t timeout_ms) {
  const int world = group->getSize();
  // Row count plus trailing dims (padded to 8 with -1): ranks may differ in rows (skipped bad samples)
  // but not in the shape of a row, which would be a bug worth an error rather than corrupt data.
  std::vector<int64_t> dims(local.sizes().begin(), local.sizes().end());
  dims.resize(8, -1);
  auto mine = at::tensor(dims, at::kLong);
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < world; ++r) out[0].push_back(at::empty_like(mine));
  std::vector<at::Tensor> in{mine};
  wait(group->allgather(out, in), timeout_ms, "all_gather (shapes)");
  std::vector<int64_t> rows;
  for (int r = 0; r < world; ++r) {
    if (!out[0][r].slice(0, 1).equal(mine.slice(0, 1)))
      throw std::invalid_argument("all_gather needs the same row shape on every rank: rank " + std::to_string(group->getRank()) +
                                  " has " + c10::str(local.sizes()) + ", rank " + std::to_string(r) + " differs");
    rows.push_back(out[0][r][0].item<int64_t>());
  }
  return rows;
}

at::Tensor pad_rows(const at::Tensor& t, int64_t rows) {
  if (t.size(0) == rows) return t.contiguous();
  std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
  shape[0] = rows;
  auto padded = at::zeros(shape, t.options());
  padded.slice(0, 0, t.size(0)).copy_(t);
  return padded;
}

at::Tensor all_gather_rows(const c10::intrusive_ptr<c10d::ProcessGroup>& group, const at::Tensor& local,
                           int64_t timeout_ms, std::vector<int64_t>* rows_out) {
  if (local.dim() < 1) throw std::invalid_argument("all_gather needs at least one dimension (rows)");
  const auto rows = all_gather_row_counts(group, local, timeout_ms);
  if (rows_out != nullptr) *rows_out = rows;
  const int64_t max_rows = *std::max_element(rows.begin(), rows.end());
  // Gloo gathers equal shapes only: pad every rank to the longest, then drop the padding.
  auto input = pad_rows(local.detach(), max_rows);
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (size_t r = 0; r < rows.size(); ++r) outputs[0].push_back(at::empty_like(input));
  std::vector<at::Tensor> inputs{input};
  wait(group->allgather(outputs, inputs), timeout_ms, "all_gather");
  for (size_t r = 0; r < rows.size(); ++r) outputs[0][r] = outputs[0][r].slice(0, 0, rows[r]);
  return at::cat(outputs[0], 0);
}

}  // namespace cmm

// ---- stores ---------------------------------------------------------------------------------

// A TCPStore server (is_server) or client. port 0 with is_server binds a free port (see cmm_store_port).
CMM_EXPORT cmm_store cmm_store_tcp_new(const char* host, int32_t port, bool is_server, int64_t timeout_ms) {
  CMM_TRY(nullptr,
    if (host == nullptr) throw std::invalid_argument("null host");
    if (port < 0 || port > 65535) throw std::invalid_argument("port out of range: " + std::to_string(port));
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<uint16_t>(port);
    opts.isServer = is_server;
    opts.waitWorkers = false;
    opts.timeout = cmm::timeout(timeout_ms);
    c10::intrusive_ptr<c10d::TCPStore> tcp;
    try {
      tcp = c10::make_intrusive<c10d::TCPStore>(host, opts);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string(is_server ? "cannot start rendezvous store on " : "cannot reach rendezvous store at ") +
                               host + ":" + std::to_string(port) + ": " + e.what());
    }
    auto* s = new cmm_store_t();
    s->port = tcp->getPort();
    s->store = tcp;
    return s;
  )
}

// A view of store whose keys are all prefixed (one prefix per generation keeps rendezvous rounds apart).
CMM_EXPORT cmm_store cmm_store_prefix(cmm_store inner, const char* prefix) {
  CMM_TRY(nullptr,
    if (prefix == nullptr) throw std::invalid_argument("null prefix");
    auto* s = new cmm_store_t();
    s->store = c10::make_intrusive<c10d::PrefixStore>(prefix, store_ref(inner).store);
    return s;
  )
}

CMM_EXPORT void cmm_store_free(cmm_store s) { delete s; }

CMM_EXPORT int32_t cmm_store_port(cmm_store s) { CMM_TRY(-1, return store_ref(s).port;) }

CMM_EXPORT int32_t cmm_store_set(cmm_store s, const char* key, const uint8_t* value, int64_t length) {
  CMM_STATUS(store_ref(s).store->set(key, bytes(value, length));)
}

// Blocks until the key exists (up to the store timeout). The value is returned as a uint8 tensor.
CMM_EXPORT cmm_tensor cmm_store_get(cmm_store s, const char* key) {
  CMM_TENSOR_FN({
    auto value = store_ref(s).store->get(key);
    return at::tensor(at::ArrayRef<uint8_t>(value.data(), value.size()), at::kByte);
  })
}

CMM_EXPORT int64_t cmm_store_add(cmm_store s, const char* key, int64_t delta) {
  CMM_TRY(INT64_MIN, return store_ref(s).store->add(key, delta);)
}

CMM_EXPORT int32_t cmm_store_check(cmm_store s, const char* key) {
  CMM_TRY(-1, return store_ref(s).store->check({key}) ? 1 : 0;)
}

CMM_EXPORT int32_t cmm_store_delete(cmm_store s, const char* key) {
  CMM_TRY(-1, return store_ref(s).store->deleteKey(key) ? 1 : 0;)
}

// ---- process group --------------------------------------------------------------------------

// Joins a Gloo group of `size` ranks rendezvousing through store. interface_host picks the network
// interface peers connect to (an address of this machine, e.g. the pod IP; 127.0.0.1 locally).
CMM_EXPORT cmm_pg cmm_pg_gloo_new(cmm_store store, int32_t rank, int32_t size, const char* interface_host,
                                  int64_t timeout_ms) {
  CMM_TRY(nullptr,
    if (size < 1 || rank < 0 || rank >= size)
      throw std::invalid_argument("invalid rank " + std::to_string(rank) + " for world size " + std::to_string(size));
    if (interface_host == nullptr) throw std::invalid_argument("null interface host");
    auto options = c10d::ProcessGroupGloo::Options::create(cmm::timeout(timeout_ms));
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(interface_host));
    options->threads = 2;
    auto* pg = new cmm_pg_t();
    try {
      pg->group = c10::make_intrusive<c10d::ProcessGroupGloo>(store_ref(store).store, rank, size, options);
    } catch (...) {
      delete pg;
      throw;
    }
    pg->id = next_id++;
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry.emplace(pg->id, c10::weak_intrusive_ptr<c10d::ProcessGroup>(pg->group));
    return pg;
  )
}

CMM_EXPORT void cmm_pg_free(cmm_pg pg) {
  if (pg == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry.erase(pg->id);
  }
  delete pg;
}

CMM_EXPORT int32_t cmm_pg_rank(cmm_pg pg) { CMM_TRY(-1, return group_ref(pg).getRank();) }
CMM_EXPORT int32_t cmm_pg_size(cmm_pg pg) { CMM_TRY(-1, return group_ref(pg).getSize();) }
CMM_EXPORT int64_t cmm_pg_id(cmm_pg pg) { CMM_TRY(-1, if (pg == nullptr) throw std::invalid_argument("null process group handle"); return pg->id;) }

// An in-flight collective. Averaging divides after completion, so it happens in cmm_work_wait.
struct cmm_work_t {
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<at::Tensor> tensors;
  double divisor = 1.0;
};
typedef cmm_work_t* cmm_work;

// In-place all-reduce of contiguous tensors; returns a handle to wait on.
CMM_EXPORT cmm_work cmm_pg_allreduce_async(cmm_pg pg, const cmm_tensor* tensors, int64_t count, int32_t op) {
  CMM_TRY(nullptr,
    auto& group = group_ref(pg);
    auto list = cmm::tensor_list(tensors, count);
    for (const auto& t : list)
      if (!t.is_contiguous()) throw std::invalid_argument("all_reduce needs contiguous tensors");
    c10d::AllreduceOptions opts;
    opts.reduceOp = reduce_op(op);
    auto* w = new cmm_work_t();
    w->tensors = list;
    w->divisor = op == 1 ? static_cast<double>(group.getSize()) : 1.0;
    w->work = group.allreduce(w->tensors, opts);
    return w;
  )
}

CMM_EXPORT int32_t cmm_work_wait(cmm_work w, int64_t timeout_ms) {
  CMM_STATUS(
    if (w == nullptr) throw std::invalid_argument("null work handle");
    cmm::wait(w->work, timeout_ms, "all_reduce");
    if (w->divisor != 1.0) {
      at::NoGradGuard no_grad;
      for (auto& t : w->tensors) t.div_(w->divisor);
    }
  )
}

CMM_EXPORT void cmm_work_free(cmm_work w) { delete w; }

CMM_EXPORT int32_t cmm_pg_broadcast(cmm_pg pg, cmm_tensor tensor, int32_t root, int64_t timeout_ms) {
  CMM_STATUS(
    auto& group = group_ref(pg);
    if (root < 0 || root >= group.getSize()) throw std::invalid_argument("broadcast root " + std::to_string(root) + " out of range");
    std::vector<at::Tensor> list{cmm::ref(tensor)};
    if (!list[0].is_contiguous()) throw std::invalid_argument("broadcast needs a contiguous tensor");
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    cmm::wait(group.broadcast(list, opts), timeout_ms, "broadcast");
  )
}

// Gathers equal-shaped tensors from every rank, concatenated along dim 0 in rank order (no autograd).
CMM_EXPORT cmm_tensor cmm_pg_allgather(cmm_pg pg, cmm_tensor tensor, int64_t timeout_ms) {
  CMM_TENSOR_FN({
    if (pg == nullptr) throw std::invalid_argument("null process group handle");
    return cmm::all_gather_rows(pg->group, cmm::ref(tensor), timeout_ms);
  })
}

CMM_EXPORT int32_t cmm_pg_barrier(cmm_pg pg, int64_t timeout_ms) {
  CMM_STATUS(cmm::wait(group_ref(pg).barrier(), timeout_ms, "barrier");)
}
