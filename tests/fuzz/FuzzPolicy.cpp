// libFuzzer target: arbitrary bytes as a policy file. The compiler must never
// crash, leak or trip UBSan, and must hold its contract: a policy exactly when
// there are no diagnostics, every diagnostic formattable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gov/policies/CgroupWrites.hpp"
#include "gov/policies/Compile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace gov::policies;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    CompileResult r = compileText(text, "fuzz.toml");
    if (r.policy.has_value() == !r.diagnostics.empty()) {
        std::abort();
    }
    for (const auto& d : r.diagnostics) {
        if (d.format().empty()) {
            std::abort();
        }
    }
    if (r.policy) {
        // Whatever compiled must translate into writes (or a clean device error).
        DeviceTable devices;
        devices.wholeDisks = {"8:0", "259:0"};
        devices.resolved = {{"/dev/sda", "8:0"}, {"8:0", "8:0"}, {"259:0", "259:0"}};
        for (const auto& c : r.policy->classes) {
            (void)desiredWrites(c.limits, devices);
            (void)desiredWrites(c.workloadLimits, devices);
        }
    }
    return 0;
}
