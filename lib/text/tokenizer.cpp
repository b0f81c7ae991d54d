#include "text/tokenizer.h"

#include <algorithm>

namespace af::text {

size_t longest_token_bytes(const Tokenizer& tok) {
  size_t longest = 1;
  for (size_t id = 0; id < tok.vocab_size(); ++id)
    if (!tok.is_special(static_cast<int32_t>(id)))
      longest = std::max(longest, tok.token_bytes(static_cast<int32_t>(id)).size());
  return longest;
}

}  // namespace af::text
