#include "callback_store.h"

#include <algorithm>

#include "error.h"

namespace {
// What a callback answered; reply points here for the duration of one callback.
struct Reply {
  std::vector<char> value;
  std::string error;
};
}  // namespace

extern "C" CMM_EXPORT void cmm_store_reply_value(void* reply, const uint8_t* value, int64_t length) {
  auto* r = static_cast<Reply*>(reply);
  r->value.assign(reinterpret_cast<const char*>(value), reinterpret_cast<const char*>(value) + length);
}

extern "C" CMM_EXPORT void cmm_store_reply_error(void* reply, const char* message) {
  static_cast<Reply*>(reply)->error = message == nullptr ? "" : message;
}

namespace cmm {

namespace {
[[noreturn]] void fail(int32_t status, const Reply& reply, const std::string& action) {
  const std::string detail = reply.error.empty() ? "no message" : reply.error;
  throw Failure(status == CMM_ERR_TIMEOUT ? CMM_ERR_TIMEOUT : CMM_ERR_STORE, "rendezvous store " + action + ": " + detail);
}
}  // namespace

CallbackStore::CallbackStore(cmm_store_set_fn set, cmm_store_get_fn get, void* state, std::chrono::milliseconds timeout)
    : set_(set), get_(get), state_(state), timeout_(timeout) {
  if (set_ == nullptr || get_ == nullptr) invalid("rendezvous store callbacks must not be null");
}

void CallbackStore::set(const std::string& key, const std::vector<char>& data) {
  Reply reply;
  const int32_t status = set_(state_, key.c_str(), reinterpret_cast<const uint8_t*>(data.data()),
                              static_cast<int64_t>(data.size()), &reply);
  if (status != 0) fail(status, reply, "set '" + key + "'");
}

std::vector<char> CallbackStore::fetch(const std::string& key, std::chrono::milliseconds timeout) {
  auto cached = fetched_.find(key);
  if (cached != fetched_.end()) return cached->second;
  Reply reply;
  const int32_t status = get_(state_, key.c_str(), static_cast<int64_t>(timeout.count()), &reply);
  if (status != 0) fail(status, reply, "get '" + key + "'");
  fetched_[key] = reply.value;
  return reply.value;
}

std::vector<char> CallbackStore::get(const std::string& key) { return fetch(key, timeout_); }

void CallbackStore::wait(const std::vector<std::string>& keys) { wait(keys, timeout_); }

void CallbackStore::wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) {
  // One deadline for all keys: the caller's timeout bounds the whole wait, not each key.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& key : keys) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    fetch(key, std::max(left, std::chrono::milliseconds(1)));
  }
}

}  // namespace cmm
