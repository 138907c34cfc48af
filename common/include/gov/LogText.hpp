// Text that a client controls (a command line, a class or group name, a path),
// made safe for one log line: one event stays one line whatever the input, and a
// huge input costs a bounded line.
//
// - logEscaped(s): every byte that is not printable ASCII is escaped (\n, \r, \t,
//   \\ and \xNN; a quote is left as it is), and what is past `max` bytes of the
//   input is cut, with the input's length stated: `abc...` + ` [cut: 100000
//   bytes]`. For a sentence that embeds client text (an error message).
// - logQuoted(s): the same in double quotes, a double quote escaped as \". For a
//   value on its own: `exec "/bin/sh\nFORGED" refused`.
//
// Pure, header-only; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gov {

inline constexpr size_t kLogTextMax = 256;

namespace detail {
inline std::string logEscape(std::string_view s, size_t max, bool quoted) {
    static constexpr char kHex[] = "0123456789abcdef";
    const size_t n = s.size() < max ? s.size() : max;
    std::string out;
    out.reserve(n + 2);
    if (quoted)
        out += '"';
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        switch (c) {
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\\':
                out += "\\\\";
                break;
            default:
                if (quoted && c == '"') {
                    out += "\\\"";
                } else if (c < 0x20 || c >= 0x7f) {
                    out += "\\x";
                    out += kHex[c >> 4];
                    out += kHex[c & 0xf];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    if (s.size() > max)
        out += "...";
    if (quoted)
        out += '"';
    if (s.size() > max)
        out += " [cut: " + std::to_string(s.size()) + " bytes]";
    return out;
}
}  // namespace detail

inline std::string logEscaped(std::string_view s, size_t max = kLogTextMax) {
    return detail::logEscape(s, max, false);
}

inline std::string logQuoted(std::string_view s, size_t max = kLogTextMax) {
    return detail::logEscape(s, max, true);
}

}  // namespace gov
