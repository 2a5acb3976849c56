// A gloo rendezvous store whose set/get call back into C#, where an IRendezvousStore (the
// coordinator's, in production) holds the keys. The C# side prefixes keys per group.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gloo/rendezvous/store.h>

#include "cmm_collectives.h"

namespace cmm {

class CallbackStore : public gloo::rendezvous::Store {
 public:
  CallbackStore(cmm_store_set_fn set, cmm_store_get_fn get, void* state, std::chrono::milliseconds timeout);

  void set(const std::string& key, const std::vector<char>& data) override;
  // Waits up to the group's timeout: gloo reads some keys without waiting for them first.
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

 private:
  std::vector<char> fetch(const std::string& key, std::chrono::milliseconds timeout);

  cmm_store_set_fn set_;
  cmm_store_get_fn get_;
  void* state_;
  std::chrono::milliseconds timeout_;
  // Values fetched by wait, so the get that follows does not ask the store a second time.
  std::map<std::string, std::vector<char>> fetched_;
};

}  // namespace cmm
