// The `warehouses:` section: each warehouse's name, how to connect (an ODBC
// connection string, or an odbc.ini data source with user and password), its
// dialect, time zone, query timeout and connection cap. Not thread-safe: part
// of one ConfigLoader's load.
#include <algorithm>
#include <array>
#include <set>

#include <fmt/format.h>

#include "monitor/config/config_loader.h"
#include "monitor/config/connection_string.h"

namespace gapwatch {

namespace {

constexpr std::array<std::string_view, 9> kWarehouseKeys{
    "name",     "connection", "dsn",           "user",           "password",
    "dialect",  "timezone",   "query_timeout", "max_connections"};
constexpr std::array<std::string_view, 6> kDialectNames{"auto",      "postgres",  "sqlite",
                                                        "mysql",     "sqlserver", "snowflake"};

// `connection`, or `dsn` with `user` and `password`, into the warehouse's
// connection string and the template of it that may be logged.
void load_connection(YamlReader& reader, KeyReader& keys, WarehouseConfig& warehouse) {
  const MapReader& map = keys.map();
  const auto connection = map.field("connection");
  const auto dsn = map.field("dsn");
  if (connection && dsn) {
    reader.error(*dsn, "give either connection or dsn, not both");
    keys.fail();
  } else if (connection) {
    if (map.has("user") || map.has("password")) {
      reader.error(map, "user and password go inside the connection string (Uid=…;Pwd=…) "
                        "or with dsn");
      keys.fail();
    }
    const auto text = reader.string(*connection);
    if (text) {
      warehouse.connection = *text;
      warehouse.connection_template = redact_connection_string(connection->node.Scalar());
    } else {
      keys.fail();
    }
  } else if (dsn) {
    const auto name = reader.string(*dsn);
    const auto user = reader.optional_string(map, "user");
    const auto password = reader.optional_string(map, "password");
    if (name) {
      // The template shows the values as written: ${VAR} unsubstituted.
      std::vector<ConnectionStringPart> parts{{"DSN", *name}};
      std::vector<ConnectionStringPart> written{{"DSN", dsn->node.Scalar()}};
      if (user) {
        parts.push_back({"UID", *user});
        written.push_back({"UID", map.field("user")->node.Scalar()});
      }
      if (password) {
        parts.push_back({"PWD", *password});
        written.push_back({"PWD", map.field("password")->node.Scalar()});
      }
      warehouse.connection = make_connection_string(parts);
      warehouse.connection_template = shown_connection_string(written);
    } else {
      keys.fail();
    }
  } else {
    reader.error(map, "missing required key 'connection' (an ODBC connection string) or "
                      "'dsn' (an odbc.ini data source)");
    keys.fail();
  }
}

}  // namespace

void ConfigLoader::load_warehouses(const Field& field) {
  const std::vector<Field> items = m_reader->sequence(field);
  m_warehouse_entries = items.size();
  if (field.node.IsSequence() && items.empty()) {
    m_reader->error(field, "at least one warehouse is needed");
  }
  std::set<std::string> names;
  for (const Field& item : items) {
    // A duplicate is reported even when the entry has other problems too.
    const auto name = raw_name(item.node);
    const bool duplicate = name && !names.insert(*name).second;
    auto warehouse = load_warehouse(item);
    if (duplicate) {
      m_reader->error(item, fmt::format("duplicate warehouse name '{}'", *name));
      continue;
    }
    if (!warehouse) {
      continue;
    }
    m_config.warehouses.push_back(std::move(*warehouse));
  }
}

std::optional<WarehouseConfig> ConfigLoader::load_warehouse(const Field& field) {
  const auto map = m_reader->map(field, kWarehouseKeys);
  if (!map) {
    return std::nullopt;
  }
  KeyReader keys(*m_reader, *map);
  WarehouseConfig warehouse;
  warehouse.location = m_reader->location(field.node.Mark());
  if (const auto name = keys.required("name")) {
    const auto text = m_reader->string(*name);
    if (text) {
      m_warehouse_names.push_back(*text);
    }
    if (text && check_object_name(*m_reader, *name, *text, "name")) {
      warehouse.name = *text;
    } else {
      keys.fail();
    }
  }
  load_connection(*m_reader, keys, warehouse);
  if (const auto dialect = keys.field("dialect")) {
    if (const auto name = m_reader->choice(*dialect, kDialectNames)) {
      if (*name != "auto") {
        warehouse.dialect = dialect_from_name(*name);
      }
    } else {
      keys.fail();
    }
  }
  warehouse.zone = zone(keys.field("timezone"));
  if (warehouse.zone == nullptr) {
    keys.fail();
  }
  keys.duration("query_timeout", ZeroDuration::refused, warehouse.query_timeout);
  keys.integer("max_connections", 1, 64, warehouse.max_connections);
  if (!keys.ok()) {
    return std::nullopt;
  }
  return warehouse;
}

}  // namespace gapwatch
