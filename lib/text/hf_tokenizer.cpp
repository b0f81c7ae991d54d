#include "text/hf_tokenizer.h"

#include <simdjson.h>

#include <functional>
#include <queue>
#include <unordered_map>

#include "core/error.h"
#include "core/strings.h"
#include "core/utf8.h"
#include "text/pretokenize.h"

namespace af::text {
namespace {

constexpr std::string_view kSpace = "\xe2\x96\x81";  // "▁", U+2581

size_t utf8_char_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  return 4;
}

// A byte trie over the added tokens, for leftmost-longest matching on the raw text.
struct Trie {
  struct Node {
    std::unordered_map<unsigned char, int32_t> next;
    int32_t token = -1;
  };
  std::vector<Node> nodes{Node{}};
  void insert(std::string_view s, int32_t id) {
    int32_t at = 0;
    for (unsigned char c : s) {
      auto it = nodes[static_cast<size_t>(at)].next.find(c);
      if (it == nodes[static_cast<size_t>(at)].next.end()) {
        nodes.push_back(Node{});
        int32_t created = static_cast<int32_t>(nodes.size() - 1);
        nodes[static_cast<size_t>(at)].next.emplace(c, created);
        at = created;
      } else {
        at = it->second;
      }
    }
    nodes[static_cast<size_t>(at)].token = id;
  }
  // Longest added token starting at `pos`: (length, id), or (0, -1).
  std::pair<size_t, int32_t> match(std::string_view text, size_t pos) const {
    std::pair<size_t, int32_t> best{0, -1};
    int32_t at = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      const auto& next = nodes[static_cast<size_t>(at)].next;
      auto it = next.find(static_cast<unsigned char>(text[i]));
      if (it == next.end()) break;
      at = it->second;
      if (nodes[static_cast<size_t>(at)].token >= 0)
        best = {i - pos + 1, nodes[static_cast<size_t>(at)].token};
    }
    return best;
  }
};

struct Merge {
  int32_t rank;
  int32_t result;
};

}  // namespace

struct HfTokenizer::Impl {
  std::unordered_map<std::string, int32_t> vocab;
  std::vector<std::string> tokens;  // by id
  std::vector<bool> special;        // by id
  std::unordered_map<uint64_t, Merge> merges;
  Trie added;
  bool has_added = false;
  int32_t byte_tokens[256];
  int32_t unk = -1;
  bool byte_fallback = false;
  std::vector<int32_t> prefix;  // post-processor tokens before the sequence (<bos>)
  // Gemma's family: spaces become "▁" and the text is one word. Byte-level family (GPT-2, Llama 3, Qwen 2):
  // optional NFC, split into words, bytes mapped to stand-in characters, BPE per word.
  bool byte_level = false;
  bool nfc = false;
  bool add_prefix_space = false;
  bool ignore_merges = false;
  std::vector<SplitPattern> splits;

  // Reads a pre_tokenizer (recursively through Sequence).
  void read_pre_tokenizer(simdjson::dom::element pre, const std::function<Error(const std::string&)>& fail) {
    std::string_view type = pre["type"];
    if (type == "Sequence") {
      for (auto p : simdjson::dom::array(pre["pretokenizers"])) read_pre_tokenizer(p, fail);
    } else if (type == "Split") {
      std::string_view text, behavior = pre["behavior"];
      bool invert = false;
      if (pre["invert"].get(invert) != simdjson::SUCCESS) invert = false;
      if (pre["pattern"]["String"].get(text) == simdjson::SUCCESS) {
        if (text != " " || behavior != "MergedWithPrevious" || byte_level)
          throw fail("pre_tokenizer Split on \"" + std::string(text) + "\" is not supported");
        return;  // Gemma: after Replace(" " -> "▁") there is no space left to split on
      }
      std::string_view regex = pre["pattern"]["Regex"];
      SplitPattern pattern{};
      if (!split_pattern_from_regex(regex, pattern) || behavior != "Isolated" || invert)
        throw fail("pre_tokenizer Split regex not supported: " + std::string(regex) +
                   " (the GPT-2, Llama 3 and Qwen 2 patterns are)");
      splits.push_back(pattern);
    } else if (type == "ByteLevel") {
      byte_level = true;
      bool flag = false;
      if (pre["add_prefix_space"].get(flag) == simdjson::SUCCESS) add_prefix_space = flag;
      if (pre["use_regex"].get(flag) == simdjson::SUCCESS && flag) splits.push_back(SplitPattern::Gpt2);
    } else if (type == "Digits") {
      bool individual = false;
      if (pre["individual_digits"].get(individual) != simdjson::SUCCESS || !individual)
        throw fail("pre_tokenizer Digits is supported with individual_digits true only");
      splits.push_back(SplitPattern::Digits);
    } else {
      throw fail("pre_tokenizer " + std::string(type) + " is not supported");
    }
  }

  void encode_byte_level(std::string_view segment, std::vector<int32_t>& out) const {
    std::string text = nfc ? af::text::nfc(segment) : std::string(segment);
    if (add_prefix_space && !text.empty() && text.front() != ' ') text.insert(text.begin(), ' ');
    std::vector<std::string_view> words = {text};
    for (SplitPattern p : splits) {
      std::vector<std::string_view> next;
      for (auto w : words)
        for (auto piece : split_words(w, p)) next.push_back(piece);
      words = std::move(next);
    }
    for (auto w : words) {
      std::string mapped = bytes_to_chars(w);
      if (ignore_merges) {
        auto it = vocab.find(mapped);
        if (it != vocab.end()) {
          out.push_back(it->second);
          continue;
        }
      }
      bpe(mapped, out);
    }
  }

  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  void bpe(std::string_view word, std::vector<int32_t>& out) const {
    // Initial symbols: one per character, or its bytes when the character is not in the vocabulary.
    std::vector<int32_t> ids;
    for (size_t i = 0; i < word.size();) {
      size_t len = std::min(utf8_char_len(static_cast<unsigned char>(word[i])), word.size() - i);
      auto it = vocab.find(std::string(word.substr(i, len)));
      if (it != vocab.end()) {
        ids.push_back(it->second);
      } else if (byte_fallback) {
        for (size_t k = 0; k < len; ++k) {
          int32_t b = byte_tokens[static_cast<unsigned char>(word[i + k])];
          ids.push_back(b >= 0 ? b : unk);
        }
      } else {
        ids.push_back(unk);
      }
      i += len;
    }
    // Merges, lowest rank first (leftmost among equals), over a linked list of symbols.
    const size_t n = ids.size();
    std::vector<int32_t> prev(n), next(n);
    std::vector<bool> alive(n, true);
    for (size_t i = 0; i < n; ++i) {
      prev[i] = static_cast<int32_t>(i) - 1;
      next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
    }
    struct Candidate {
      int32_t rank, pos, left_id, right_id;
      bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
    auto consider = [&](int32_t pos) {
      if (pos < 0 || next[static_cast<size_t>(pos)] < 0) return;
      int32_t r = next[static_cast<size_t>(pos)];
      auto it = merges.find(pair_key(ids[static_cast<size_t>(pos)], ids[static_cast<size_t>(r)]));
      if (it != merges.end()) {
        queue.push({it->second.rank, pos, ids[static_cast<size_t>(pos)], ids[static_cast<size_t>(r)]});
      }
    };
    for (size_t i = 0; i + 1 < n; ++i) consider(static_cast<int32_t>(i));
    while (!queue.empty()) {
      Candidate c = queue.top();
      queue.pop();
      auto p = static_cast<size_t>(c.pos);
      int32_t r = next[p];
      // Skip candidates made stale by an earlier merge.
      if (!alive[p] || r < 0 || ids[p] != c.left_id || ids[static_cast<size_t>(r)] != c.right_id) continue;
      ids[p] = merges.at(pair_key(c.left_id, c.right_id)).result;
      alive[static_cast<size_t>(r)] = false;
      next[p] = next[static_cast<size_t>(r)];
      if (next[p] >= 0) prev[static_cast<size_t>(next[p])] = c.pos;
      consider(prev[p]);
      consider(c.pos);
    }
    for (size_t i = 0; i < n; ++i)
      if (alive[i]) out.push_back(ids[i]);
  }
};

HfTokenizer::HfTokenizer() : impl_(std::make_unique<Impl>()) {}
HfTokenizer::~HfTokenizer() = default;
HfTokenizer::HfTokenizer(HfTokenizer&&) noexcept = default;
HfTokenizer& HfTokenizer::operator=(HfTokenizer&&) noexcept = default;

namespace {
constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;
}  // namespace

HfTokenizer HfTokenizer::load(const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.load(path).get(doc)) {
    throw usage_error(path + ": cannot read tokenizer.json: " + simdjson::error_message(err));
  }
  HfTokenizer tok;
  Impl& t = *tok.impl_;
  auto fail = [&](const std::string& what) { return usage_error(path + ": " + what); };
  try {
    simdjson::dom::object model = doc["model"];
    std::string_view type = model["type"];
    if (type != "BPE") throw fail("model type " + std::string(type) + " is not supported (only BPE)");
    simdjson::dom::object vocab = model["vocab"];
    t.tokens.resize(vocab.size());
    // An id is an index into the token table: a negative or huge one (found by fuzzing) would size that table
    // beyond memory. Real vocabularies stop near 262,144 (Gemma 3).
    auto checked_id = [&](int64_t id, std::string_view token) {
      if (id < 0 || id > kMaxTokenId)
        throw fail("token \"" + utf8_shorten(token, 40) + "\" has id " + std::to_string(id) +
                   "; ids run from 0 to " + std::to_string(kMaxTokenId));
      return static_cast<int32_t>(id);
    };
    for (auto [token, id] : vocab) {
      auto i = checked_id(int64_t(id), token);
      if (static_cast<size_t>(i) >= t.tokens.size()) t.tokens.resize(static_cast<size_t>(i) + 1);
      t.tokens[static_cast<size_t>(i)] = std::string(token);
      t.vocab.emplace(std::string(token), i);
    }
    bool fallback = false;
    if (model["byte_fallback"].get(fallback) == simdjson::SUCCESS) t.byte_fallback = fallback;
    bool ignore = false;
    if (model["ignore_merges"].get(ignore) == simdjson::SUCCESS) t.ignore_merges = ignore;
    std::string_view unk;
    if (model["unk_token"].get(unk) == simdjson::SUCCESS) {
      auto it = t.vocab.find(std::string(unk));
      if (it != t.vocab.end()) t.unk = it->second;
    }
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      auto it = t.vocab.find(name);
      t.byte_tokens[b] = it == t.vocab.end() ? -1 : it->second;
    }
    int32_t rank = 0;
    for (auto m : simdjson::dom::array(model["merges"])) {
      std::string a, b;
      if (m.is_array()) {
        simdjson::dom::array pair = m;
        a = std::string(std::string_view(pair.at(0)));
        b = std::string(std::string_view(pair.at(1)));
      } else {
        std::string_view s = m;
        auto space = s.find(' ');
        if (space == std::string_view::npos) throw fail("merge \"" + std::string(s) + "\" has no space");
        a = std::string(s.substr(0, space));
        b = std::string(s.substr(space + 1));
      }
      auto ia = t.vocab.find(a), ib = t.vocab.find(b), ir = t.vocab.find(a + b);
      if (ia == t.vocab.end() || ib == t.vocab.end() || ir == t.vocab.end()) {
        throw fail("merge " + a + " + " + b + " names a token that is not in the vocabulary");
      }
      t.merges.emplace(Impl::pair_key(ia->second, ib->second), Merge{rank++, ir->second});
    }
    t.special.assign(t.tokens.size(), false);
    for (auto a : simdjson::dom::array(doc["added_tokens"])) {
      std::string content{std::string_view(a["content"])};
      auto id = checked_id(int64_t(a["id"]), content);
      if (static_cast<size_t>(id) >= t.tokens.size()) {
        t.tokens.resize(static_cast<size_t>(id) + 1);
        t.special.resize(t.tokens.size(), false);
      }
      t.tokens[static_cast<size_t>(id)] = content;
      t.vocab.emplace(content, id);
      t.special[static_cast<size_t>(id)] = bool(a["special"]);
      t.added.insert(content, id);
      t.has_added = true;
    }
    // The normalizers, pre-tokenizers and decoders of the two families; anything else is refused rather than
    // encoded differently from the reference.
    simdjson::dom::element pre = doc["pre_tokenizer"];
    if (!pre.is_null()) t.read_pre_tokenizer(pre, fail);
    simdjson::dom::element normalizer = doc["normalizer"];
    bool metaspace = false;
    if (!normalizer.is_null()) {
      std::string_view ntype = normalizer["type"];
      if (ntype == "NFC") {
        t.nfc = true;
      } else {
        std::string_view from, to;
        bool replace = ntype == "Replace" && normalizer["pattern"]["String"].get(from) == simdjson::SUCCESS &&
                       normalizer["content"].get(to) == simdjson::SUCCESS && from == " " && to == kSpace;
        if (!replace)
          throw fail("normalizer " + std::string(ntype) + " not supported (Replace \" \" -> \"▁\", NFC are)");
        metaspace = true;
      }
    }
    if (metaspace == t.byte_level)
      throw fail(
          t.byte_level
              ? "a ByteLevel pre-tokenizer with a \"▁\" normalizer is not supported"
              : "only \"▁\" (Gemma) and ByteLevel (GPT-2, Llama 3, Qwen) BPE tokenizers are supported");
    simdjson::dom::element decoder = doc["decoder"];
    if (!decoder.is_null()) {
      std::string_view dtype = decoder["type"];
      if (t.byte_level != (dtype == "ByteLevel"))
        throw fail("decoder " + std::string(dtype) + " does not fit the pre-tokenizer");
    }
    simdjson::dom::element post = doc["post_processor"];
    if (!post.is_null() && std::string_view(post["type"]) == "TemplateProcessing") {
      for (auto item : simdjson::dom::array(post["single"])) {
        simdjson::dom::element special;
        if (item["SpecialToken"].get(special) == simdjson::SUCCESS) {
          auto it = t.vocab.find(std::string(std::string_view(special["id"])));
          if (it != t.vocab.end()) t.prefix.push_back(it->second);
        } else {
          break;  // tokens after the sequence are not used by Gemma
        }
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw fail(std::string("unexpected tokenizer.json shape: ") + e.what());
  }
  return tok;
}

std::vector<int32_t> HfTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const Impl& t = *impl_;
  std::vector<int32_t> out;
  if (add_special_tokens) out = t.prefix;
  auto encode_plain = [&](std::string_view segment) {
    if (segment.empty()) return;
    if (t.byte_level) {
      t.encode_byte_level(segment, out);
      return;
    }
    // Replace(" " -> "▁"); the Split(" ") pre-tokenizer then finds no space, so the segment is one word.
    t.bpe(replace_all(segment, " ", kSpace), out);
  };
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    auto [len, id] = t.has_added ? t.added.match(text, i) : std::pair<size_t, int32_t>{0, -1};
    if (len > 0) {
      encode_plain(text.substr(start, i - start));
      out.push_back(id);
      i += len;
      start = i;
    } else {
      ++i;
    }
  }
  encode_plain(text.substr(start));
  return out;
}

std::string HfTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  const Impl& t = *impl_;
  if (t.byte_level) {
    // ByteLevel decoder: the stand-in characters back to bytes; invalid UTF-8 becomes U+FFFD per bad byte.
    std::string chars;
    for (int32_t id : ids) {
      if (id < 0 || static_cast<size_t>(id) >= t.tokens.size()) continue;
      if (skip_special_tokens && t.special[static_cast<size_t>(id)]) continue;
      chars += t.tokens[static_cast<size_t>(id)];
    }
    std::string out;
    out += utf8_valid(chars_to_bytes(chars));  // invalid bytes become U+FFFD, as Hugging Face decodes
    return out;
  }
  std::string out, bytes;
  auto flush_bytes = [&] {
    if (bytes.empty()) return;
    // Byte-fallback tokens: invalid UTF-8 becomes U+FFFD, one per bad byte, as the ByteFallback decoder does.
    out += utf8_valid(bytes);
    bytes.clear();
  };
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= t.tokens.size()) continue;
    if (skip_special_tokens && t.special[static_cast<size_t>(id)]) continue;
    const std::string& tok = t.tokens[static_cast<size_t>(id)];
    if (tok.size() == 6 && tok.rfind("<0x", 0) == 0 && tok.back() == '>') {
      bytes.push_back(static_cast<char>(std::stoi(tok.substr(3, 2), nullptr, 16)));
      continue;
    }
    flush_bytes();
    out.append(replace_all(tok, kSpace, " "));
  }
  flush_bytes();
  return out;
}

int32_t HfTokenizer::token_to_id(std::string_view token) const {
  auto it = impl_->vocab.find(std::string(token));
  return it == impl_->vocab.end() ? -1 : it->second;
}

const std::string& HfTokenizer::id_to_token(int32_t id) const {
  return impl_->tokens.at(static_cast<size_t>(id));
}

bool HfTokenizer::is_special(int32_t id) const {
  return id < 0 || static_cast<size_t>(id) >= impl_->tokens.size() || impl_->special[static_cast<size_t>(id)];
}

std::string HfTokenizer::token_bytes(int32_t id) const {
  if (is_special(id)) return "";
  const std::string& tok = impl_->tokens[static_cast<size_t>(id)];
  if (impl_->byte_level) return chars_to_bytes(tok);
  if (tok.size() == 6 && tok.rfind("<0x", 0) == 0 && tok.back() == '>')
    return std::string(1, static_cast<char>(std::stoi(tok.substr(3, 2), nullptr, 16)));
  return replace_all(tok, kSpace, " ");
}

size_t HfTokenizer::vocab_size() const {
  return impl_->tokens.size();
}

}  // namespace af::text
