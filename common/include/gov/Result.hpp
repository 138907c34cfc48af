// Result<T>: the error-or-value type used by every non-throwing Governor API
// (policies, runtime). Modelled on std::expected (C++23), which GCC 12 does not
// ship in C++20 mode.
//
// Contract: an Error always carries an error_code (errno-style when it came from
// the kernel, std::errc otherwise) and a context string that names the object and
// the operation, e.g. "write memory.max in adhoc.slice/exec-42.scope". message()
// renders "<context>: <reason>".
#pragma once

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace gov {

class Error {
  public:
    Error() = default;
    Error(std::error_code code, std::string context) : code_(code), context_(std::move(context)) {}
    Error(std::errc code, std::string context)
        : code_(std::make_error_code(code)), context_(std::move(context)) {}
    // An error with a free-form reason (no errno behind it).
    static Error withReason(std::string context, std::string reason,
                            std::errc code = std::errc::invalid_argument) {
        Error e(code, std::move(context));
        e.reason_ = std::move(reason);
        return e;
    }
    // The error for the current errno, for `context`.
    static Error fromErrno(std::string context, int err = errno) {
        return Error(std::error_code(err, std::system_category()), std::move(context));
    }

    const std::error_code& code() const { return code_; }
    const std::string& context() const { return context_; }
    // The cause alone: the explicit reason, or the error_code's text.
    std::string reason() const { return reason_.empty() ? code_.message() : reason_; }
    // "<context>: <reason>".
    std::string message() const { return context_.empty() ? reason() : context_ + ": " + reason(); }
    // Prefix more context: "outer: inner-context: reason".
    Error& wrap(const std::string& outer) {
        context_ = context_.empty() ? outer : outer + ": " + context_;
        return *this;
    }

  private:
    std::error_code code_;
    std::string context_;
    std::string reason_;
};

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

    T valueOr(T fallback) const& { return ok() ? value() : std::move(fallback); }

  private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const& { return error_; }
    Error&& error() && { return std::move(error_); }

  private:
    Error error_;
    bool ok_ = true;
};

// Success value for Result<void>.
inline Result<void> success() {
    return {};
}

}  // namespace gov

// Propagate an error: GOV_TRY(expr) evaluates a Result<void> and returns its
// error from the enclosing function (whose Result type must accept Error).
#define GOV_TRY(expr)                                  \
    do {                                               \
        auto gov_try_result_ = (expr);                 \
        if (!gov_try_result_.ok()) {                   \
            return std::move(gov_try_result_).error(); \
        }                                              \
    } while (false)
