// Reading the accounting of one group: the files of the counter table
// (Counters.hpp), parsed with the table's keys.
//
// Missing files are not errors: their counters have no value (a hybrid host has only
// cpu.stat usage/user/system, cgroup.events and the pressure files). A key missing
// from a file that exists has no value either. A file that exists but is malformed
// is an error naming file and group.
//
// Cost: one open+read+close per file the table names (up to 15 with every
// controller; a missing file costs one failed openat, and the files of a controller
// are not tried when its marker file is missing), no iostreams, a stack buffer per
// read: this runs at every Prometheus scrape for every group.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gov/Result.hpp"
#include "gov/runtime/CgroupFs.hpp"
#include "gov/runtime/Counters.hpp"
#include "gov/runtime/Parsers.hpp"

namespace gov::runtime {

// cgroup.events.
struct CgroupEvents {
    bool populated = false;
    bool frozen = false;
    bool operator==(const CgroupEvents&) const = default;
};

// Pure. Parses `text` as the content of `file` (a file of the counter table) and sets
// the value of every row on that file into `usage` (PerDevice rows: one DeviceValues
// per line), and marks those rows' file as read. Unknown keys are ignored; a file no
// row names is an error.
Result<void> parseCounterFile(std::string_view file, std::string_view text, GroupUsage& usage);

Result<CgroupEvents> parseCgroupEvents(std::string_view text);

// cgroup.events of `group`. A missing group is an error (ENOENT).
Result<CgroupEvents> readEvents(const CgroupFs& fs, const std::string& group);

// Every counter of the table for `group`. cgroup.events (kPresenceFile) must exist:
// it is how a missing group (ENOENT) is told apart from a group without controllers;
// every other file is optional.
Result<GroupUsage> readUsage(const CgroupFs& fs, const std::string& group);

// The files readUsage() may read, in the order it reads them (cgroup.events first),
// each with the file whose existence it needs (nullptr: none). For benchmarks that
// must read exactly what a scrape reads.
struct CounterFile {
    const char* name;
    const char* readIf;
};
const std::vector<CounterFile>& counterFiles();

}  // namespace gov::runtime
