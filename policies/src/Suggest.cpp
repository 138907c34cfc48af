#include "Suggest.hpp"

#include <algorithm>
#include <cstdint>

namespace gov::policies::detail {

size_t editDistance(std::string_view a, std::string_view b) {
    if (a.size() > kMaxSuggestLength || b.size() > kMaxSuggestLength) {
        return SIZE_MAX;
    }
    // Three rolling rows: transpositions look two rows back.
    std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
            }
        }
        std::swap(prev2, prev);
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string closest(const std::vector<std::string>& queries,
                    const std::vector<std::string>& candidates) {
    std::string best;
    size_t bestDistance = SIZE_MAX;
    for (const auto& q : queries) {
        for (const auto& c : candidates) {
            size_t d = editDistance(q, c);
            size_t allowed = c.size() <= 4 ? 1 : c.size() <= 10 ? 2 : 3;
            if (d != 0 && d <= allowed && d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
    }
    return best;
}

}  // namespace gov::policies::detail
