#include "error.h"

#include <gloo/common/error.h>

namespace cmm {
namespace {
thread_local std::string last_error;
}

int32_t report(const std::exception& e) {
  last_error = e.what();
  if (auto* failure = dynamic_cast<const Failure*>(&e)) return failure->status;
  if (dynamic_cast<const std::invalid_argument*>(&e) != nullptr) return CMM_ERR_INVALID;
  if (dynamic_cast<const gloo::IoException*>(&e) != nullptr) return CMM_ERR_PEER;
  return CMM_ERR_INTERNAL;
}

int32_t report_unknown() {
  last_error = "unknown native exception";
  return CMM_ERR_INTERNAL;
}

Failure classify_collective_error(const std::exception& e, const std::string& what) {
  if (auto* failure = dynamic_cast<const Failure*>(&e)) return Failure(failure->status, what + ": " + e.what());
  const std::string message = e.what();
  const bool timed_out = message.find("Timed out") != std::string::npos || message.find("timeout") != std::string::npos;
  if (timed_out) return Failure(CMM_ERR_TIMEOUT, what + " timed out: " + message);
  return Failure(CMM_ERR_PEER, what + " failed (a peer closed its connection or stopped answering): " + message);
}

}  // namespace cmm

extern "C" CMM_EXPORT const char* cmm_last_error(void) { return cmm::last_error.c_str(); }
