// governor_class_policy_limit's samples from the policy in force: what the policy
// sets on each class, whether or not this kernel can enforce it.
#pragma once

#include <vector>

#include "gov/exporter/ScrapeInput.hpp"
#include "gov/policies/Policy.hpp"

namespace gov::exporter {

// One sample per limit the policy sets on a class, in policy order; an unset limit
// or one that is "max" has none. Keys are the policy's keys; io limits carry their
// device (the policy's device, or "all").
std::vector<PolicyLimit> policyLimits(const policies::Policy& policy);

}  // namespace gov::exporter
