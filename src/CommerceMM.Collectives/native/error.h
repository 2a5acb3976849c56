// Failures inside the library are C++ exceptions; at the C ABI they become a status + message.
#pragma once

#include <stdexcept>
#include <string>

#include "cmm_collectives.h"

namespace cmm {

// An error with the status the C# side maps to an exception kind.
class Failure : public std::runtime_error {
 public:
  Failure(cmm_status status, const std::string& message) : std::runtime_error(message), status(status) {}
  const cmm_status status;
};

[[noreturn]] inline void invalid(const std::string& message) { throw Failure(CMM_ERR_INVALID, message); }

// Sets the thread's last error and returns its status, classifying gloo's and the standard exceptions.
int32_t report(const std::exception& e);
int32_t report_unknown();

// Translates a gloo exception raised inside a collective: gloo says "Timed out"/"timeout" for
// elapsed deadlines; every other I/O failure is a peer that closed its connection or stopped answering.
Failure classify_collective_error(const std::exception& e, const std::string& what);

}  // namespace cmm

// Wraps a C ABI body: no exception ever crosses into C#.
#define CMM_GUARD(body)                            \
  try {                                            \
    body;                                          \
    return CMM_OK;                                 \
  } catch (const std::exception& e) {              \
    return cmm::report(e);                         \
  } catch (...) {                                  \
    return cmm::report_unknown();                  \
  }
