// YamlNode: a node of a YAML document read by yaml-cpp's event parser into one
// flat array of nodes (kind, mark, tag, scalar text, children), instead of
// yaml-cpp's tree of YAML::Node objects. That tree costs several hundred bytes
// and a handful of allocations per value: on a file of 10,000 rules it was
// most of `validate`'s time and of its peak memory.
//
// The member functions are named as YAML::Node's, which YamlNode replaces, and
// behave as they did for the documents yaml-cpp's parser yields: the same
// marks, tags ("?" for a plain scalar, "!" for a quoted one), nulls, duplicate
// keys kept in order, and an alias is the very node it names (not a copy).
//
// A node keeps its document alive. A document does not change once read, so
// its nodes may be copied and read on several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <yaml-cpp/mark.h>
#include <yaml-cpp/node/type.h>

namespace gapwatch {

class YamlDocument;
struct YamlEntry;

class YamlNode {
 public:
  class Iterator;

  // No node: what a missing key gives (IsDefined() is false).
  YamlNode() = default;

  bool IsDefined() const { return m_document != nullptr; }
  YAML::NodeType::value Type() const;
  bool IsNull() const { return Type() == YAML::NodeType::Null; }
  bool IsScalar() const { return Type() == YAML::NodeType::Scalar; }
  bool IsSequence() const { return Type() == YAML::NodeType::Sequence; }
  bool IsMap() const { return Type() == YAML::NodeType::Map; }

  // The text of a scalar; empty for any other node.
  const std::string& Scalar() const;
  // "?" for a plain scalar or an untagged collection, "!" for a quoted
  // scalar, the tag as yaml-cpp resolves it when one is given, "" for null.
  const std::string& Tag() const;
  // Where the node starts (0-based line and column); for an alias, where the
  // node it names starts. YAML::Mark::null_mark() when there is no node.
  YAML::Mark Mark() const;

  // The items of a sequence or the entries of a map; 0 for anything else.
  std::size_t size() const;
  // The value of a map's first entry whose key is the scalar `key`, or no node.
  YamlNode operator[](std::string_view key) const;
  // The same node of the same document (an alias and its anchor are).
  bool is(const YamlNode& other) const {
    return m_document == other.m_document && m_index == other.m_index;
  }

  // Iterating yields, as yaml-cpp does, each item of a sequence (as the
  // YamlEntry itself) or each entry of a map (as its `first` and `second`).
  Iterator begin() const;
  Iterator end() const;

 private:
  friend class YamlDocument;
  YamlNode(std::shared_ptr<const YamlDocument> document, std::uint32_t index)
      : m_document(std::move(document)), m_index(index) {}

  std::shared_ptr<const YamlDocument> m_document;
  std::uint32_t m_index = 0;
};

struct YamlEntry : YamlNode {
  YamlNode first;   // a map entry's key
  YamlNode second;  // a map entry's value
};

class YamlNode::Iterator {
 public:
  using value_type = YamlEntry;
  using difference_type = std::ptrdiff_t;

  const YamlEntry& operator*() const { return m_entry; }
  const YamlEntry* operator->() const { return &m_entry; }
  Iterator& operator++();
  bool operator==(const Iterator& other) const { return m_slot == other.m_slot; }

 private:
  friend class YamlNode;
  Iterator(const YamlNode& collection, std::uint32_t slot, std::uint32_t end);
  void load();

  std::shared_ptr<const YamlDocument> m_document;
  std::uint32_t m_slot;  // in the document's list of children
  std::uint32_t m_end;
  std::uint32_t m_step;  // 1 for a sequence, 2 for a map (key, value)
  YamlEntry m_entry;
};

// The first document of `text`, read as YAML::Load reads it: a null node
// without a mark (YAML::Node()) when the text holds no document. Throws
// yaml-cpp's exceptions (YAML::ParserException, YAML::DeepRecursion, ...) for
// text that is not YAML, with the same messages and marks as YAML::Load.
YamlNode load_yaml(std::string_view text);

}  // namespace gapwatch
