// libFuzzer target: every pure parser of the runtime on the same bytes (cgroup
// accounting and control files, mountinfo, /proc/<pid>/cgroup). Besides crashes and
// sanitizer reports it checks properties that must hold for any input: what parses
// re-serializes to something that parses to the same value, and the map and the
// callback forms of the flat-keyed parser agree.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gov/runtime/Accounting.hpp"
#include "gov/runtime/Discovery.hpp"
#include "gov/runtime/Parsers.hpp"

using namespace gov::runtime;

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    auto flat = parseFlatKeyed(text);
    size_t calls = 0;
    auto each = forEachFlatKeyed(text, [&](std::string_view key, uint64_t value) {
        ++calls;
        check(!key.empty());
        if (flat.ok()) {
            auto it = flat->find(key);
            check(it != flat->end());
            (void)value;
        }
    });
    check(flat.ok() == each.ok());
    if (flat.ok()) {
        check(flat->size() <= calls);
    }

    if (auto m = parseMax(text); m.ok()) {
        auto again = parseMax(m->toCgroup());
        check(again.ok() && *again == *m);
    }
    (void)parseU64(text);
    if (auto p = parsePressure(text); p.ok()) {
        for (const PressureLine& l : {p->some, p->full.value_or(PressureLine{})}) {
            check(std::isfinite(l.avg10) && l.avg10 >= 0 && std::isfinite(l.avg60) &&
                  l.avg60 >= 0 && std::isfinite(l.avg300) && l.avg300 >= 0);
        }
    }
    {
        size_t lines = 0;
        auto fields = forEachDeviceField(
            text,
            [&](std::string_view device) {
                check(isMajMin(device));
                ++lines;
            },
            [](std::string_view key) { return key == "rbytes" || key == "wios"; },
            [&](std::string_view, uint64_t) { check(lines > 0); });
        (void)fields;
    }
    if (auto io = parseIoMax(text); io.ok()) {
        for (const auto& line : *io) {
            check(isMajMin(line.majMin));
            std::string s = line.majMin + " rbps=" + line.rbps.toCgroup() +
                            " wbps=" + line.wbps.toCgroup() + " riops=" + line.riops.toCgroup() +
                            " wiops=" + line.wiops.toCgroup();
            auto again = parseIoMax(s);
            check(again.ok() && again->size() == 1 && (*again)[0] == line);
        }
    }
    if (auto c = parseCpuMax(text); c.ok()) {
        auto again = parseCpuMax(c->toCgroup());
        check(again.ok() && *again == *c);
    }
    if (auto pids = parsePidList(text); pids.ok()) {
        for (pid_t p : *pids) {
            check(p > 0);
        }
    }
    (void)isMajMin(text);
    // The table-driven parser, as each file of the counter table.
    for (const auto& file : counterFiles()) {
        GroupUsage usage;
        if (parseCounterFile(file.name, text, usage).ok()) {
            for (const auto& d : usage.devices)
                check(isMajMin(d.device));
        }
    }
    (void)parseCgroupEvents(text);

    auto mounts = parseMountInfo(text);
    if (auto chosen = chooseCgroup2(mounts); chosen.ok()) {
        check(!mounts.empty());
    }
    for (const auto& name : parseControllerList(text)) {
        check(!name.empty());
    }
    if (auto cg = parseProcCgroup(text); cg.ok()) {
        check(!cg->empty() && cg->front() == '/');
    }
    return 0;
}
