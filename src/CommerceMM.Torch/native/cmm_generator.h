// Random generators: explicit, seedable, with savable state so a resumed run draws the same numbers.
#pragma once

#include "cmm_common.h"

#include <ATen/core/Generator.h>

typedef at::Generator* cmm_generator;

namespace cmm {
// A null handle selects libtorch's default CPU generator.
inline c10::optional<at::Generator> generator(cmm_generator g) {
  if (g == nullptr) return c10::nullopt;
  return *g;
}
}  // namespace cmm
