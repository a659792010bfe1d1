// Error: a failure carried as a value. Runtime failures in gapwatch travel as
// Expected<T> (std::expected<T, Error>) and are logged or reported by the caller
// with its own context; exceptions are kept for programming errors.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace gapwatch {

struct Error {
  std::string message;
  // SQLSTATE for ODBC failures, empty otherwise.
  std::string sqlstate;

  static Error of(std::string message) { return Error{std::move(message), {}}; }
};

template <typename T>
using Expected = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message) {
  return std::unexpected(Error::of(std::move(message)));
}

}  // namespace gapwatch
