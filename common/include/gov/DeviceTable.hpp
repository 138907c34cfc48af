// Block devices as the runtime found them (gov/runtime/Devices.hpp builds it from
// /sys and /dev), handed to the pure code that turns io limits into io.max lines
// (gov/policies/CgroupWrites.hpp).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace gov {

struct DeviceTable {
    std::vector<std::string> wholeDisks;          // "MAJ:MIN" of every whole disk
    std::map<std::string, std::string> resolved;  // "/dev/vda" or "8:0" -> "8:0"
};

}  // namespace gov
