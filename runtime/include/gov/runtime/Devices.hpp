// Block device resolution for io.max, over a /sys root and a /dev root that are
// passed in (fake trees in tests).
#pragma once

#include <string>
#include <vector>

#include "gov/DeviceTable.hpp"
#include "gov/Result.hpp"

namespace gov::runtime {

// Resolves a policy device spec to "MAJ:MIN":
// - "MAJ:MIN": accepted when <sysRoot>/dev/block/MAJ:MIN exists (else ENODEV
//   "device 8:99: no such block device");
// - a path: "/dev/..." is looked up under `devRoot` (devRoot + the part after
//   "/dev"), any other absolute path as is; it must exist (error names it) and be a
//   block device ("device /dev/null: not a block device"); its st_rdev gives
//   MAJ:MIN, which must also exist under <sysRoot>/dev/block (a stale node is an
//   error).
// Anything else (a bare name, a relative path) is EINVAL.
Result<std::string> resolveDevice(const std::string& spec, const std::string& sysRoot = "/sys",
                                  const std::string& devRoot = "/dev");

// Every whole disk, as "MAJ:MIN", sorted numerically. The rule: each entry of
// <sysRoot>/block (falling back to <sysRoot>/class/block when /block is absent)
// that has no "partition" file (partitions are limited through their disk) and
// whose "size" is not 0 (unattached loop devices, empty ram disks, absent media
// cannot take I/O and io.max on them is pointless); MAJ:MIN comes from its "dev"
// file. Entries whose dev file is unreadable or malformed are errors.
Result<std::vector<std::string>> wholeDisks(const std::string& sysRoot = "/sys");

// wholeDisks() plus every spec resolved with resolveDevice(); the first spec that
// does not resolve is the error.
Result<DeviceTable> buildDeviceTable(const std::vector<std::string>& specs,
                                     const std::string& sysRoot = "/sys",
                                     const std::string& devRoot = "/dev");

}  // namespace gov::runtime
