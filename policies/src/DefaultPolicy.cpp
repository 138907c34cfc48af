#include <cstdio>
#include <cstdlib>

#include "gov/policies/Compile.hpp"

namespace gov::policies {
namespace {

// Kept equal (as a compiled Policy) to packaging/policy.toml.example; a unit test
// checks it.
constexpr std::string_view kDefaultPolicy = R"toml(# Governor's built-in default policy.
[classes.core]
description = "the core workload (web requests)"

[classes.noncore]
description = "metric collection, cron jobs, Chef, atop logging"
memory.max = "1GiB"
io.write_bps = "1MB/s"

[classes.adhoc]
description = "ad-hoc querying and debugging (tcpdump, atop)"
memory.max = "2GiB"
pids.max = 1000
)toml";

}  // namespace

std::string_view defaultPolicyText() {
    return kDefaultPolicy;
}

const Policy& defaultPolicy() {
    static const Policy policy = [] {
        CompileResult r = compileText(kDefaultPolicy, "<built-in default policy>");
        if (!r.ok()) {
            // A constant that does not compile is a build defect, caught by the unit
            // tests; there is nothing sensible to run with.
            for (const auto& d : r.diagnostics) {
                std::fprintf(stderr, "%s\n", d.format().c_str());
            }
            std::abort();
        }
        return std::move(*r.policy);
    }();
    return policy;
}

}  // namespace gov::policies
