// libFuzzer target: the checkpoint manifest parser (runtime/CheckpointManifest). A
// manifest comes from a folder anyone may have written, so any bytes must give a
// manifest or an error, never a crash; and what parses must format to text that
// parses back to the same manifest.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gov/runtime/CheckpointManifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto m = gov::runtime::parseManifest(text);
    if (m) {
        auto again = gov::runtime::parseManifest(gov::runtime::formatManifest(*m));
        if (!again || !(*again == *m)) {
            std::abort();
        }
    }
    return 0;
}
