// The tokenizer.json loader and encoder: any bytes as a Hugging Face tokenizer file.
#include "core/error.h"
#include "input_file.h"
#include "text/hf_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto tok = af::text::HfTokenizer::load(af::fuzz::as_file(data, size, ".json"));
    auto ids = tok.encode("Bonjour, livrée le 12/03 à Genève: {\"op\":\"gt\"} \xf0\x9f\x98\x80 \xff", true);
    (void)tok.decode(ids);
  } catch (const af::Error&) {
  }
  return 0;
}
