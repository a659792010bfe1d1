#include "rules/identifier.h"

#include <string>

#include <doctest/doctest.h>

#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::error_of;
using testing::value_of;

TEST_CASE("validate_identifier accepts letters, digits and underscores") {
  CHECK(value_of(validate_identifier("orders")) == "orders");
  CHECK(value_of(validate_identifier("_tmp")) == "_tmp");
  CHECK(value_of(validate_identifier("Orders2026")) == "Orders2026");
  CHECK(value_of(validate_identifier("a")) == "a");
  CHECK(value_of(validate_identifier("__")) == "__");
  CHECK(value_of(validate_identifier(std::string(128, 'x'))) == std::string(128, 'x'));
}

TEST_CASE("validate_identifier rejects what would need quoting to be safe") {
  SUBCASE("empty") {
    CHECK(error_of(validate_identifier("")) == "empty identifier");
  }
  SUBCASE("too long") {
    CHECK(error_of(validate_identifier(std::string(129, 'x'))) ==
          "identifier is longer than 128 characters");
  }
  SUBCASE("a leading digit") {
    CHECK(error_of(validate_identifier("2fa")) ==
          "invalid identifier '2fa': must start with a letter or underscore");
  }
  SUBCASE("punctuation, spaces, quotes and non-ASCII letters") {
    CHECK(error_of(validate_identifier("order-items")) ==
          "invalid identifier 'order-items': only letters, digits and underscores are allowed");
    for (const char* text : {"a b", "a\"b", "a'b", "a;b", "a.b", "x--", "caf\xc3\xa9", "a\tb",
                             "$col", "col$", "\"orders\""}) {
      CAPTURE(text);
      CHECK_FALSE(validate_identifier(text).has_value());
    }
  }
  SUBCASE("an embedded NUL") {
    CHECK_FALSE(validate_identifier(std::string_view("ab\0c", 4)).has_value());
  }
}

TEST_CASE("parse_qualified_name splits one to three dotted parts") {
  const QualifiedName table = value_of(parse_qualified_name("orders"));
  CHECK(table.parts == std::vector<std::string>{"orders"});
  CHECK(table.last() == "orders");
  CHECK(table.display() == "orders");

  const QualifiedName schema_table = value_of(parse_qualified_name("public.orders"));
  CHECK(schema_table.parts.size() == 2U);
  CHECK(schema_table.parts[0] == "public");
  CHECK(schema_table.last() == "orders");
  CHECK(schema_table.display() == "public.orders");

  const QualifiedName full = value_of(parse_qualified_name("shop.raw.Events_2026"));
  CHECK(full.parts.size() == 3U);
  CHECK(full.display() == "shop.raw.Events_2026");
  CHECK(full.last() == "Events_2026");

  CHECK(value_of(parse_qualified_name("public.orders")) == schema_table);
  CHECK_FALSE(value_of(parse_qualified_name("Public.orders")) == schema_table);
}

TEST_CASE("parse_qualified_name names the whole text and the bad part") {
  CHECK(error_of(parse_qualified_name("a.b.c.d")) ==
        "invalid name 'a.b.c.d': at most catalog.schema.table");
  CHECK(error_of(parse_qualified_name("public.1orders")) ==
        "invalid name 'public.1orders': invalid identifier '1orders': must start with a letter "
        "or underscore");
  CHECK(error_of(parse_qualified_name("")) == "invalid name '': empty identifier");
  CHECK(error_of(parse_qualified_name("public..orders")) ==
        "invalid name 'public..orders': empty identifier");
  CHECK_FALSE(parse_qualified_name(".orders").has_value());
  CHECK_FALSE(parse_qualified_name("orders.").has_value());
  CHECK_FALSE(parse_qualified_name("public.orders;drop").has_value());
  CHECK_FALSE(parse_qualified_name("\"public\".\"orders\"").has_value());
}

}  // namespace
}  // namespace gapwatch
