// c10d process groups and stores behind opaque handles.
#pragma once

#include "cmm_common.h"

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

struct cmm_store_t {
  c10::intrusive_ptr<c10d::Store> store;
  int32_t port = 0;  // the bound port for a TCPStore, 0 for derived (prefix) stores
};
typedef cmm_store_t* cmm_store;

struct cmm_pg_t {
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  int64_t id = 0;  // key in the registry the autograd all-gather uses to find the group during backward
};
typedef cmm_pg_t* cmm_pg;

namespace cmm {
// The group registered under id, or an error if it was destroyed (e.g. disposed before backward ran).
c10::intrusive_ptr<c10d::ProcessGroup> process_group(int64_t id);
std::chrono::milliseconds timeout(int64_t ms);
void wait(const c10::intrusive_ptr<c10d::Work>& work, int64_t timeout_ms, const char* what);
// Rows of every rank concatenated in rank order; ranks may hold different row counts (see rows_out).
at::Tensor all_gather_rows(const c10::intrusive_ptr<c10d::ProcessGroup>& group, const at::Tensor& local,
                           int64_t timeout_ms, std::vector<int64_t>* rows_out = nullptr);
// Each rank's row count (and a check that the row shapes agree).
std::vector<int64_t> all_gather_row_counts(const c10::intrusive_ptr<c10d::ProcessGroup>& group, const at::Tensor& local,
                                           int64_t timeout_ms);
at::Tensor pad_rows(const at::Tensor& t, int64_t rows);
}  // namespace cmm
