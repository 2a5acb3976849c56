#include "cmm_spm.h"

#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

struct cmm_spm_processor {
  sentencepiece::SentencePieceProcessor sp;
};

namespace {

thread_local char* last_error = nullptr;

void set_error(const std::string& message) {
  std::free(last_error);
  last_error = strdup(message.c_str());
}

void clear_error() {
  std::free(last_error);
  last_error = nullptr;
}

// sentencepiece reports most failures as a Status; turn those into exceptions so one catch handles all.
void check(const sentencepiece::util::Status& status, const char* what) {
  if (!status.ok()) throw std::runtime_error(std::string(what) + ": " + status.ToString());
}

sentencepiece::SentencePieceProcessor& ref(cmm_spm_processor* p) {
  if (p == nullptr) throw std::invalid_argument("null sentencepiece processor handle");
  return p->sp;
}

}  // namespace

// Every export runs its body here: nothing may unwind into the managed caller.
#define CMM_SPM_GUARD(fail_value, body)                    \
  clear_error();                                           \
  try {                                                    \
    body                                                   \
  } catch (const std::exception& e) {                      \
    set_error(e.what());                                   \
  } catch (...) {                                          \
    set_error("unknown native exception in sentencepiece"); \
  }                                                        \
  return fail_value;

CMM_SPM_EXPORT char* cmm_spm_last_error() {
  char* message = last_error;
  last_error = nullptr;
  return message;
}

CMM_SPM_EXPORT void cmm_spm_free_string(char* text) { std::free(text); }

CMM_SPM_EXPORT cmm_spm_processor* cmm_spm_load(const char* path_utf8) {
  CMM_SPM_GUARD(nullptr, {
    if (path_utf8 == nullptr) throw std::invalid_argument("null model path");
    auto* p = new cmm_spm_processor();
    auto status = p->sp.Load(path_utf8);
    if (!status.ok()) {
      delete p;
      throw std::runtime_error(std::string("loading '") + path_utf8 + "': " + status.ToString());
    }
    return p;
  })
}

CMM_SPM_EXPORT void cmm_spm_free(cmm_spm_processor* processor) { delete processor; }

CMM_SPM_EXPORT int32_t cmm_spm_encode(cmm_spm_processor* processor, const char* text, int32_t length,
                                      int32_t* ids, int32_t capacity) {
  CMM_SPM_GUARD(-1, {
    if (length < 0 || (length > 0 && text == nullptr)) throw std::invalid_argument("invalid text buffer");
    if (capacity < 0 || (capacity > 0 && ids == nullptr)) throw std::invalid_argument("invalid id buffer");
    std::vector<int> out;
    check(ref(processor).Encode(absl::string_view(text, static_cast<size_t>(length)), &out), "encode");
    for (size_t i = 0; i < out.size() && i < static_cast<size_t>(capacity); ++i) ids[i] = out[i];
    return static_cast<int32_t>(out.size());
  })
}

CMM_SPM_EXPORT char* cmm_spm_decode(cmm_spm_processor* processor, const int32_t* ids, int32_t count) {
  CMM_SPM_GUARD(nullptr, {
    if (count < 0 || (count > 0 && ids == nullptr)) throw std::invalid_argument("invalid id buffer");
    auto& sp = ref(processor);
    std::vector<int> in(ids, ids + count);
    int size = sp.GetPieceSize();
    for (int id : in)
      if (id < 0 || id >= size) throw std::out_of_range("id " + std::to_string(id) + " outside vocabulary of " + std::to_string(size));
    std::string text;
    check(sp.Decode(in, &text), "decode");
    return strdup(text.c_str());
  })
}

CMM_SPM_EXPORT int32_t cmm_spm_vocab_size(cmm_spm_processor* processor) {
  CMM_SPM_GUARD(-1, { return ref(processor).GetPieceSize(); })
}

CMM_SPM_EXPORT int32_t cmm_spm_piece_to_id(cmm_spm_processor* processor, const char* piece_utf8) {
  CMM_SPM_GUARD(-1, {
    if (piece_utf8 == nullptr) throw std::invalid_argument("null piece");
    return ref(processor).PieceToId(piece_utf8);
  })
}

CMM_SPM_EXPORT int32_t cmm_spm_special_id(cmm_spm_processor* processor, int32_t which) {
  CMM_SPM_GUARD(-1, {
    auto& sp = ref(processor);
    switch (which) {
      case 0: return sp.unk_id();
      case 1: return sp.bos_id();
      case 2: return sp.eos_id();
      case 3: return sp.pad_id();
      default: throw std::invalid_argument("special id selector must be 0..3, got " + std::to_string(which));
    }
  })
}
