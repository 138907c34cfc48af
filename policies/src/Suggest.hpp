// Did-you-mean suggestions for unknown keys and names. Internal to gov_policies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gov::policies::detail {

// Optimal string alignment distance (Levenshtein plus adjacent transposition, so
// "wieght" is one edit from "weight"). Inputs longer than kMaxSuggestLength are
// not compared (the result is then SIZE_MAX).
inline constexpr size_t kMaxSuggestLength = 256;
size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to any of `queries`, when it is close enough to be a
// plausible typo (at most 1 edit for short words, 2 for longer ones, 3 for long
// dotted keys); empty otherwise.
std::string closest(const std::vector<std::string>& queries,
                    const std::vector<std::string>& candidates);

}  // namespace gov::policies::detail
