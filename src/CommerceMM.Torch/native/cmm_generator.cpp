#include "cmm_generator.h"

#include <ATen/CPUGeneratorImpl.h>

CMM_EXPORT cmm_generator cmm_generator_new(uint64_t seed) {
  CMM_TRY(nullptr, return new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed));)
}

CMM_EXPORT void cmm_generator_free(cmm_generator g) { delete g; }

CMM_EXPORT int32_t cmm_generator_manual_seed(cmm_generator g, uint64_t seed) {
  CMM_STATUS(
    if (g == nullptr) throw std::invalid_argument("null generator handle");
    std::lock_guard<std::mutex> lock(g->mutex());
    g->set_current_seed(seed);
  )
}

// The full Mersenne-Twister state as a uint8 tensor: restoring it replays the exact same draws.
CMM_EXPORT cmm_tensor cmm_generator_get_state(cmm_generator g) {
  CMM_TENSOR_FN({
    if (g == nullptr) throw std::invalid_argument("null generator handle");
    std::lock_guard<std::mutex> lock(g->mutex());
    return g->get_state();
  })
}

CMM_EXPORT int32_t cmm_generator_set_state(cmm_generator g, cmm_tensor state) {
  CMM_STATUS(
    if (g == nullptr) throw std::invalid_argument("null generator handle");
    const auto& s = cmm::ref(state);
    if (s.scalar_type() != at::kByte) throw std::invalid_argument("generator state must be a uint8 tensor");
    std::lock_guard<std::mutex> lock(g->mutex());
    g->set_state(s);
  )
}
