// gov_vm_nettool: drives runtime::net::NetPrograms from the VM checks' shell scripts
// (the network checks that need no daemon). The programs are pinned in PIN, so each
// call adopts what the previous one attached (NetPrograms::attach) and exits, and
// the programs keep running in between.
//
//   gov_vm_nettool ROOT PIN attach                attach (or adopt) at cgroup ROOT
//   gov_vm_nettool ROOT PIN limit GROUP RATE MODE egress limit RATE bytes/s, drop|pace
//   gov_vm_nettool ROOT PIN unlimit GROUP
//   gov_vm_nettool ROOT PIN read GROUP            "rx_bytes rx_packets tx_bytes tx_packets"
//   gov_vm_nettool ROOT PIN rate GROUP SECONDS    bytes/s the group sent over SECONDS
//                                                 (read twice in this process)
//   gov_vm_nettool ROOT PIN throttled GROUP       packets the group's limit throttled
//   gov_vm_nettool ROOT PIN detach
// GROUP is relative to ROOT. The levels counted are ROOT's children and
// grandchildren (class slices and workload groups). Errors go to stderr, exit 1.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "gov/runtime/Discovery.hpp"
#include "gov/runtime/net/NetPrograms.hpp"

using gov::runtime::net::NetPrograms;

namespace {

int fail(const std::string& what) {
    std::fprintf(stderr, "gov_vm_nettool: %s\n", what.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4)
        return fail(
            "usage: gov_vm_nettool ROOT PIN attach|limit|unlimit|read|throttled|detach ...");
    const std::string root = argv[1];
    const std::string cmd = argv[3];
    auto mount = gov::runtime::discoverCgroup2();
    if (!mount)
        return fail(mount.error().message());
    auto level = gov::runtime::net::cgroupLevel(mount->path, root);
    if (!level)
        return fail(level.error().message());
    NetPrograms::Options options;
    options.levels = {*level + 1, *level + 2};
    options.pinDir = argv[2];
    auto programs = NetPrograms::attach(root, options);
    if (!programs)
        return fail(programs.error().message());
    for (const auto& note : programs->notes())
        std::fprintf(stderr, "gov_vm_nettool: %s\n", note.c_str());
    auto idOf = [&](const char* group) { return gov::runtime::net::cgroupId(root + "/" + group); };

    if (cmd == "attach")
        return 0;
    if (cmd == "detach") {
        auto r = programs->detach();
        return r ? 0 : fail(r.error().message());
    }
    if (argc < 5)
        return fail(cmd + " needs a GROUP");
    auto id = idOf(argv[4]);
    if (!id)
        return fail(id.error().message());
    if (cmd == "limit") {
        if (argc < 7)
            return fail("limit GROUP RATE drop|pace");
        uint64_t rate = 0;
        std::string r = argv[5];
        auto parsed = std::from_chars(r.data(), r.data() + r.size(), rate);
        if (parsed.ec != std::errc() || parsed.ptr != r.data() + r.size() || rate == 0)
            return fail("bad rate " + r);
        std::string mode = argv[6];
        if (mode != "drop" && mode != "pace")
            return fail("mode must be drop or pace, got " + mode);
        auto limit = gov::runtime::net::egressLimitFor(
            rate, mode == "pace" ? gov::runtime::net::EgressMode::Pace
                                 : gov::runtime::net::EgressMode::Drop);
        auto set = programs->setEgressLimit(*id, limit);
        if (!set)
            return fail(set.error().message());
        std::printf("limit %s: %llu bytes/s, burst %llu bytes, %s\n", argv[4],
                    static_cast<unsigned long long>(limit.bytesPerSecond),
                    static_cast<unsigned long long>(limit.burstBytes), mode.c_str());
        return 0;
    }
    if (cmd == "unlimit") {
        auto r = programs->clearEgressLimit(*id);
        return r ? 0 : fail(r.error().message());
    }
    if (cmd == "read") {
        auto c = programs->read(*id);
        if (!c)
            return fail(c.error().message());
        auto v = c->value_or(gov::runtime::net::TrafficCounters{});
        std::printf("%llu %llu %llu %llu\n", static_cast<unsigned long long>(v.rxBytes),
                    static_cast<unsigned long long>(v.rxPackets),
                    static_cast<unsigned long long>(v.txBytes),
                    static_cast<unsigned long long>(v.txPackets));
        return 0;
    }
    if (cmd == "rate") {
        double seconds = argc > 5 ? std::atof(argv[5]) : 0;
        if (seconds <= 0)
            return fail("rate GROUP SECONDS");
        auto t0 = std::chrono::steady_clock::now();
        auto c0 = programs->read(*id);
        std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
        auto c1 = programs->read(*id);
        auto t1 = std::chrono::steady_clock::now();
        if (!c0 || !c1)
            return fail("read failed");
        uint64_t b0 = c0->value_or(gov::runtime::net::TrafficCounters{}).txBytes;
        uint64_t b1 = c1->value_or(gov::runtime::net::TrafficCounters{}).txBytes;
        std::printf("%.0f\n",
                    static_cast<double>(b1 - b0) / std::chrono::duration<double>(t1 - t0).count());
        return 0;
    }
    if (cmd == "throttled") {
        auto all = programs->limits();
        if (!all)
            return fail(all.error().message());
        auto it = all->find(*id);
        std::printf("%llu\n", it == all->end()
                                  ? 0ULL
                                  : static_cast<unsigned long long>(it->second.throttledPackets));
        return 0;
    }
    return fail("unknown command " + cmd);
}
