// checkpoint_tool: drives runtime/'s checkpoint and restore (CRIU over its RPC) on
// the guest's real kernel, without the daemon, for the VM tier:
//   checkpoint_tool check
//   checkpoint_tool dump CGROUP_ROOT GROUP DIR CLASS [--leave-running] [--detach-stdio]
//   checkpoint_tool restore CGROUP_ROOT GROUP DIR CLASS [MEMORY_MAX]
// Prints one line of key=value results, or "error: <message>" and exits 1.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "gov/runtime/Checkpoint.hpp"

using namespace gov::runtime;

int main(int argc, char** argv) {
    Criu criu;
    std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "check") {
        auto v = criu.version();
        if (!v) {
            std::cout << "error: " << v.error().message() << "\n";
            return 1;
        }
        // CRIU's CHECK also fails for optional features (e.g. a missing diag module)
        // that a dump may not need: reported, not fatal; the dump decides.
        auto c = criu.check();
        std::cout << "criu_version=" << v->text()
                  << " check=" << (c ? "ok" : "failed (" + c.error().message() + ")") << "\n";
        return 0;
    }
    if ((cmd != "dump" && cmd != "restore") || argc < 6) {
        std::cerr << "usage: checkpoint_tool check | dump ROOT GROUP DIR CLASS [--leave-running] "
                     "[--detach-stdio] | restore ROOT GROUP DIR CLASS [MEMORY_MAX]\n";
        return 2;
    }
    auto fs = CgroupFs::open(argv[2]);
    if (!fs) {
        std::cout << "error: " << fs.error().message() << "\n";
        return 1;
    }
    if (cmd == "dump") {
        CheckpointRequest req;
        req.group = argv[3];
        req.manifest.className = argv[5];
        req.manifest.governorVersion = "vm-test";
        for (int i = 6; i < argc; ++i) {
            req.leaveRunning |= std::strcmp(argv[i], "--leave-running") == 0;
            req.detachStdio |= std::strcmp(argv[i], "--detach-stdio") == 0;
        }
        auto folder = openCheckpointFolder(argv[4]);
        if (!folder) {
            std::cout << "error: " << folder.error().message() << "\n";
            return 1;
        }
        auto out = checkpointGroup(*fs, criu, req, *folder);
        if (!out) {
            std::cout << "error: " << out.error().message() << "\n";
            return 1;
        }
        std::cout << "root_pid=" << out->manifest.rootPid
                  << " processes=" << out->manifest.processes
                  << " memory_bytes=" << out->manifest.memoryBytes
                  << " image_bytes=" << out->manifest.imageBytes
                  << " frozen_ms=" << out->frozenFor.count() << " took_ms=" << out->took.count()
                  << " lost_stdio=" << out->manifest.lostStdio.size() << "\n";
        return 0;
    }
    RestoreRequest req;
    req.group = argv[3];
    req.className = argv[5];
    if (argc > 6) {
        uint64_t max = 0;
        std::string_view s(argv[6]);
        if (std::from_chars(s.data(), s.data() + s.size(), max).ec != std::errc()) {
            std::cerr << "bad MEMORY_MAX " << s << "\n";
            return 2;
        }
        req.classMemoryMax = max;
    }
    auto opened = openCheckpoint(argv[4]);
    if (!opened) {
        std::cout << "error: " << opened.error().message() << "\n";
        return 1;
    }
    auto out = restoreIntoGroup(*fs, criu, req, *opened);
    if (!out) {
        std::cout << "error: " << out.error().message() << "\n";
        return 1;
    }
    std::cout << "pid=" << out->pid << " took_ms=" << out->took.count() << "\n";
    return 0;
}
