// Lookups over the field table (field_table.cpp), the single source of truth for config keys.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "config/field.h"

namespace af::config {

/// Bumped whenever a key is added, removed, renamed or changes type or default.
constexpr int kFieldTableVersion = 1;

/// Every key, in section order.
const std::vector<Field>& fields();
/// Every key path, in table order (candidates for "did you mean").
const std::vector<std::string>& field_paths();
/// The key at `path`, or nullptr.
const Field* find_field(std::string_view path);
/// Every renamed key.
const std::vector<Alias>& aliases();
/// The alias whose old spelling is `path`, or nullptr.
const Alias* find_alias(std::string_view path);
/// Every removed key.
const std::vector<RemovedKey>& removed_keys();
/// The removed key at `path`, or nullptr.
const RemovedKey* find_removed(std::string_view path);
/// Sections and subsections, in order.
const std::vector<Section>& sections();
/// True when `path` names a section or subsection ("training", "training.lora").
bool is_section(std::string_view path);
/// The keys a tool consumes, in table order.
std::vector<const Field*> fields_for(Tool tool);
/// A short hash of every key's path, type and default: changes when the table does.
std::string field_table_hash();

}  // namespace af::config
