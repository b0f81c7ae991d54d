#include "constrain/flat.h"

#include <algorithm>

#include "core/canonical_json.h"

namespace af::constrain {

using json = nlohmann::json;

namespace {

constexpr int kMaxExpansion = 4096;  // flat alternatives built for one value

struct Builder {
  Flat flat;
  std::vector<std::vector<int>> pending;  // anyOf groups not yet chosen
  std::optional<std::vector<json>> values;
};

void finish(const SchemaGrammar& g, Builder& b, std::vector<FlatPtr>& out) {
  Flat& f = b.flat;
  for (int id : f.nodes) {
    const Node& n = g.nodes[static_cast<size_t>(id)];
    // The tightest bound wins; at equal values an exclusive bound is tighter.
    if (n.minimum && *n.minimum > f.lo) {
      f.lo = *n.minimum;
      f.lo_open = false;
    }
    if (n.exclusive_minimum && *n.exclusive_minimum >= f.lo) {
      f.lo = *n.exclusive_minimum;
      f.lo_open = true;
    }
    if (n.maximum && *n.maximum < f.hi) {
      f.hi = *n.maximum;
      f.hi_open = false;
    }
    if (n.exclusive_maximum && *n.exclusive_maximum <= f.hi) {
      f.hi = *n.exclusive_maximum;
      f.hi_open = true;
    }
    if (n.pattern >= 0) f.patterns.push_back(n.pattern);
    f.date = f.date || !n.format.empty();
    f.min_length = std::max(f.min_length, n.min_length);
    if (n.max_length >= 0)
      f.max_length = f.max_length < 0 ? n.max_length : std::min(f.max_length, n.max_length);
    if (n.items >= 0) f.items.push_back(n.items);
    f.min_items = std::max(f.min_items, n.min_items);
    if (n.max_items >= 0) f.max_items = f.max_items < 0 ? n.max_items : std::min(f.max_items, n.max_items);
    f.unique = f.unique || n.unique_items;
  }
  if (b.values) {
    std::vector<std::string> texts;
    for (const json& v : *b.values) {
      if ((f.types & jsonschema::instance_bit(v)) == 0) continue;
      bool ok = true;
      for (int id : f.nodes) ok = ok && g.accepts(id, v);
      if (ok) texts.push_back(canonical_json(v));
    }
    std::sort(texts.begin(), texts.end());
    texts.erase(std::unique(texts.begin(), texts.end()), texts.end());
    if (texts.empty()) return;
    f.literals = std::move(texts);
  }
  if (f.types == 0) return;
  out.push_back(std::make_shared<Flat>(std::move(f)));
}

void expand(const SchemaGrammar& g, std::vector<int> todo, Builder b, std::vector<FlatPtr>& out,
            int& budget) {
  while (!todo.empty()) {
    int id = todo.back();
    todo.pop_back();
    if (id < 0 || std::find(b.flat.nodes.begin(), b.flat.nodes.end(), id) != b.flat.nodes.end()) continue;
    const Node& n = g.nodes[static_cast<size_t>(id)];
    if (n.never) return;
    b.flat.nodes.push_back(id);
    b.flat.types &= n.types;
    if (b.flat.types == 0) return;
    if (n.values) {
      if (!b.values) {
        b.values = n.values;
      } else {
        std::vector<json> both;
        for (const json& v : *b.values)
          if (std::find(n.values->begin(), n.values->end(), v) != n.values->end()) both.push_back(v);
        b.values = both;
      }
      if (b.values->empty()) return;
    }
    for (int m : n.all_of) todo.push_back(m);
    for (const auto& group : n.any_of) b.pending.push_back(group);
  }
  if (--budget < 0) return;
  if (b.pending.empty()) {
    finish(g, b, out);
    return;
  }
  std::vector<int> group = b.pending.back();
  b.pending.pop_back();
  for (int alt : group) expand(g, {alt}, b, out, budget);
}

}  // namespace

const std::vector<FlatPtr>& flats_of(const SchemaGrammar& g, FlatCache& cache, const std::vector<int>& conj) {
  auto it = cache.find(conj);
  if (it != cache.end()) return it->second;
  std::vector<FlatPtr> out;
  int budget = kMaxExpansion;
  expand(g, conj, Builder{}, out, budget);
  return cache.emplace(conj, std::move(out)).first->second;
}

std::shared_ptr<const std::vector<std::string>> unique_item_literals(const SchemaGrammar& g, FlatCache& cache,
                                                                     const Flat& f) {
  if (!f.unique || f.items.empty()) return nullptr;
  auto all = std::make_shared<std::vector<std::string>>();
  for (const FlatPtr& item : flats_of(g, cache, f.items)) {
    if (!item->literals) return nullptr;
    all->insert(all->end(), item->literals->begin(), item->literals->end());
  }
  return all;
}

}  // namespace af::constrain
