// A stand-in for std::expected for clang 14 tooling only (clang-tidy, and
// clang builds such as libFuzzer). Debian 12's clang 14 cannot compile
// libstdc++ 12's <expected> (it lacks P0848, conditionally trivial special
// members), so <expected> defines nothing under it. This header, force-
// included with -include by scripts/lint, supplies the subset of the C++23
// interface gapwatch uses. GCC builds never see it.
#pragma once

#if defined(__clang__) && !defined(__cpp_lib_expected) && __cplusplus > 202002L
#include <exception>
#include <initializer_list>
#include <type_traits>
#include <utility>
#include <variant>

namespace std {

template <class E>
class unexpected {
 public:
  constexpr explicit unexpected(const E& error) : m_error(error) {}
  constexpr explicit unexpected(E&& error) : m_error(std::move(error)) {}
  constexpr const E& error() const& noexcept { return m_error; }
  constexpr E& error() & noexcept { return m_error; }
  constexpr E&& error() && noexcept { return std::move(m_error); }

 private:
  E m_error;
};
template <class E>
unexpected(E) -> unexpected<E>;

template <class E>
class bad_expected_access : public exception {
 public:
  explicit bad_expected_access(E error) : m_error(std::move(error)) {}
  const char* what() const noexcept override { return "bad expected access"; }
  const E& error() const& noexcept { return m_error; }

 private:
  E m_error;
};

template <class T, class E>
class expected {
 public:
  using value_type = T;
  using error_type = E;

  constexpr expected() requires is_default_constructible_v<T> : m_storage(in_place_index<0>) {}
  template <class U = T>
    requires(!is_same_v<remove_cvref_t<U>, expected> &&
             !is_same_v<remove_cvref_t<U>, unexpected<E>> && is_constructible_v<T, U>)
  constexpr expected(U&& value) : m_storage(in_place_index<0>, std::forward<U>(value)) {}
  template <class G>
  constexpr expected(const unexpected<G>& error) : m_storage(in_place_index<1>, error.error()) {}
  template <class G>
  constexpr expected(unexpected<G>&& error)
      : m_storage(in_place_index<1>, std::move(error).error()) {}

  constexpr bool has_value() const noexcept { return m_storage.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr T& operator*() & { return std::get<0>(m_storage); }
  constexpr const T& operator*() const& { return std::get<0>(m_storage); }
  constexpr T&& operator*() && { return std::get<0>(std::move(m_storage)); }
  constexpr T* operator->() { return &std::get<0>(m_storage); }
  constexpr const T* operator->() const { return &std::get<0>(m_storage); }
  constexpr T& value() & {
    if (!has_value()) throw bad_expected_access<E>(error());
    return **this;
  }
  constexpr const T& value() const& {
    if (!has_value()) throw bad_expected_access<E>(error());
    return **this;
  }
  constexpr E& error() & { return std::get<1>(m_storage); }
  constexpr const E& error() const& { return std::get<1>(m_storage); }
  constexpr E&& error() && { return std::get<1>(std::move(m_storage)); }
  template <class U>
  constexpr T value_or(U&& fallback) const& {
    return has_value() ? **this : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  variant<T, E> m_storage;
};

template <class E>
class expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  constexpr expected() noexcept = default;
  template <class G>
  constexpr expected(const unexpected<G>& error) : m_error(error.error()), m_has_error(true) {}
  template <class G>
  constexpr expected(unexpected<G>&& error)
      : m_error(std::move(error).error()), m_has_error(true) {}

  constexpr bool has_value() const noexcept { return !m_has_error; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr void operator*() const noexcept {}
  constexpr void value() const {
    if (m_has_error) throw bad_expected_access<E>(m_error);
  }
  constexpr E& error() & { return m_error; }
  constexpr const E& error() const& { return m_error; }

 private:
  E m_error{};
  bool m_has_error = false;
};

}  // namespace std
#endif
