#include "monitor/config/yaml_document.h"

#include <deque>
#include <spanstream>
#include <unordered_map>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace gapwatch {

// The nodes of one document in the order the parser reports them, each
// collection's children as a run of node numbers in `children`, each distinct
// scalar text once (a file of rules repeats its keys and most of its values).
class YamlDocument {
 public:
  struct Node {
    YAML::Mark mark;
    std::uint32_t tag = 0;    // in `tags`
    std::uint32_t first = 0;  // a scalar's text in `scalars`; a collection's first child slot
    std::uint32_t count = 0;  // a collection's child slots: one per item, two per map entry
    YAML::NodeType::value type = YAML::NodeType::Null;
  };

  static YamlNode node(std::shared_ptr<const YamlDocument> document, std::uint32_t index) {
    return YamlNode(std::move(document), index);
  }

  std::vector<Node> nodes;
  std::vector<std::uint32_t> children;
  std::deque<std::string> scalars;  // a deque: the builder's index keeps views of them
  std::vector<std::string> tags{"", "?", "!"};
  std::uint32_t root = 0;
};

namespace {

constexpr std::uint32_t kNoTag = 0;
constexpr std::uint32_t kPlainTag = 1;
constexpr std::uint32_t kQuotedTag = 2;

const std::string& empty_string() {
  static const std::string empty;
  return empty;
}

// Builds a YamlDocument from the parser's events, as yaml-cpp's NodeBuilder
// builds its tree from the same events.
class DocumentBuilder : public YAML::EventHandler {
 public:
  explicit DocumentBuilder(YamlDocument& document) : m_document(document) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    attach(add(mark, anchor, YAML::NodeType::Null, kNoTag));
  }

  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    // The node the anchor named, itself: what yaml-cpp's tree holds too.
    attach(m_anchors[anchor]);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const std::uint32_t index = add(mark, anchor, YAML::NodeType::Scalar, tag_index(tag));
    m_document.nodes[index].first = scalar_index(value);
    attach(index);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(add(mark, anchor, YAML::NodeType::Sequence, tag_index(tag)));
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(add(mark, anchor, YAML::NodeType::Map, tag_index(tag)));
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    std::uint32_t node;
    std::size_t first_pending;  // where its children start in m_pending
  };

  std::uint32_t add(const YAML::Mark& mark, YAML::anchor_t anchor, YAML::NodeType::value type,
                    std::uint32_t tag) {
    const auto index = static_cast<std::uint32_t>(m_document.nodes.size());
    m_document.nodes.push_back(YamlDocument::Node{mark, tag, 0, 0, type});
    if (anchor != YAML::NullAnchor) {
      if (m_anchors.size() <= anchor) {
        m_anchors.resize(anchor + 1);
      }
      m_anchors[anchor] = index;
    }
    return index;
  }

  // `index` as the next child of the collection being read, or as the root.
  void attach(std::uint32_t index) {
    if (m_open.empty()) {
      m_document.root = index;
    } else {
      m_pending.push_back(index);
    }
  }

  void open(std::uint32_t index) {
    attach(index);
    m_open.push_back(Open{index, m_pending.size()});
  }

  // The children of the innermost open collection are the last ones pending:
  // they move to the document as one run.
  void close() {
    const Open closed = m_open.back();
    m_open.pop_back();
    YamlDocument::Node& node = m_document.nodes[closed.node];
    node.first = static_cast<std::uint32_t>(m_document.children.size());
    node.count = static_cast<std::uint32_t>(m_pending.size() - closed.first_pending);
    const auto first = m_pending.begin() + static_cast<std::ptrdiff_t>(closed.first_pending);
    m_document.children.insert(m_document.children.end(), first, m_pending.end());
    m_pending.erase(first, m_pending.end());
  }

  std::uint32_t scalar_index(const std::string& value) {
    if (const auto found = m_scalars.find(value); found != m_scalars.end()) {
      return found->second;
    }
    const auto index = static_cast<std::uint32_t>(m_document.scalars.size());
    m_scalars.emplace(m_document.scalars.emplace_back(value), index);
    return index;
  }

  std::uint32_t tag_index(const std::string& tag) {
    if (tag == "?") {
      return kPlainTag;
    }
    if (tag == "!") {
      return kQuotedTag;
    }
    const auto [found, added] =
        m_tags.try_emplace(tag, static_cast<std::uint32_t>(m_document.tags.size()));
    if (added) {
      m_document.tags.push_back(tag);
    }
    return found->second;
  }

  YamlDocument& m_document;
  std::vector<Open> m_open;              // collections started and not yet ended
  std::vector<std::uint32_t> m_pending;  // their children so far, innermost last
  std::vector<std::uint32_t> m_anchors;  // node of each anchor number
  std::unordered_map<std::string_view, std::uint32_t> m_scalars;  // texts in the document
  std::unordered_map<std::string, std::uint32_t> m_tags;          // explicit tags seen
};

}  // namespace

YAML::NodeType::value YamlNode::Type() const {
  return IsDefined() ? m_document->nodes[m_index].type : YAML::NodeType::Undefined;
}

const std::string& YamlNode::Scalar() const {
  if (!IsScalar()) {
    return empty_string();
  }
  return m_document->scalars[m_document->nodes[m_index].first];
}

const std::string& YamlNode::Tag() const {
  if (!IsDefined()) {
    return empty_string();
  }
  return m_document->tags[m_document->nodes[m_index].tag];
}

YAML::Mark YamlNode::Mark() const {
  return IsDefined() ? m_document->nodes[m_index].mark : YAML::Mark::null_mark();
}

std::size_t YamlNode::size() const {
  switch (Type()) {
    case YAML::NodeType::Sequence:
      return m_document->nodes[m_index].count;
    case YAML::NodeType::Map:
      return m_document->nodes[m_index].count / 2;
    default:
      return 0;
  }
}

YamlNode YamlNode::operator[](std::string_view key) const {
  if (!IsMap()) {
    return YamlNode();
  }
  const YamlDocument::Node& map = m_document->nodes[m_index];
  for (std::uint32_t slot = map.first; slot < map.first + map.count; slot += 2) {
    const YamlDocument::Node& name = m_document->nodes[m_document->children[slot]];
    if (name.type == YAML::NodeType::Scalar && m_document->scalars[name.first] == key) {
      return YamlNode(m_document, m_document->children[slot + 1]);
    }
  }
  return YamlNode();
}

YamlNode::Iterator YamlNode::begin() const {
  if (!IsSequence() && !IsMap()) {
    return Iterator(*this, 0, 0);
  }
  const YamlDocument::Node& node = m_document->nodes[m_index];
  return Iterator(*this, node.first, node.first + node.count);
}

YamlNode::Iterator YamlNode::end() const {
  if (!IsSequence() && !IsMap()) {
    return Iterator(*this, 0, 0);
  }
  const YamlDocument::Node& node = m_document->nodes[m_index];
  return Iterator(*this, node.first + node.count, node.first + node.count);
}

YamlNode::Iterator::Iterator(const YamlNode& collection, std::uint32_t slot, std::uint32_t end)
    : m_document(collection.m_document),
      m_slot(slot),
      m_end(end),
      m_step(collection.IsMap() ? 2 : 1) {
  load();
}

YamlNode::Iterator& YamlNode::Iterator::operator++() {
  m_slot += m_step;
  load();
  return *this;
}

void YamlNode::Iterator::load() {
  if (m_slot >= m_end) {
    m_entry = YamlEntry{};
    return;
  }
  const std::vector<std::uint32_t>& children = m_document->children;
  if (m_step == 1) {
    m_entry = YamlEntry{YamlNode(m_document, children[m_slot]), YamlNode(), YamlNode()};
  } else {
    m_entry = YamlEntry{YamlNode(), YamlNode(m_document, children[m_slot]),
                        YamlNode(m_document, children[m_slot + 1])};
  }
}

YamlNode load_yaml(std::string_view text) {
  auto document = std::make_shared<YamlDocument>();
  // Room for what a configuration of this size holds, at about a node per 7
  // bytes (10,000 rules in flow or block style): growing step by step would
  // copy each array again and fault its pages in again.
  document->nodes.reserve(text.size() / 6);
  document->children.reserve(text.size() / 6);
  std::ispanstream stream(std::span<const char>(text.data(), text.size()));
  YAML::Parser parser(stream);
  DocumentBuilder builder(*document);
  if (!parser.HandleNextDocument(builder)) {
    // No document: YAML::Load gives YAML::Node(), a null without a mark.
    document->nodes.push_back(
        YamlDocument::Node{YAML::Mark::null_mark(), kNoTag, 0, 0, YAML::NodeType::Null});
    document->root = 0;
  }
  const std::uint32_t root = document->root;
  return YamlDocument::node(std::move(document), root);
}

}  // namespace gapwatch
