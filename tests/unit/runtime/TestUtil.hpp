// Helpers for the runtime unit tests: temp dirs and fixture files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "FakeTree.hpp"

namespace gov::runtime::test {

// Temp dirs and whole-file helpers are the shared ones (tests/support/FakeTree.hpp).
using testsupport::readFile;
using testsupport::TempDir;
using testsupport::writeFile;

// Closes a raw fd at scope exit (tests only; the library has Fd).
struct ScopedFd {
    explicit ScopedFd(int f) : fd(f) {}
    ~ScopedFd() {
        if (fd >= 0)
            ::close(fd);
    }
    ScopedFd(const ScopedFd&) = delete;
    ScopedFd& operator=(const ScopedFd&) = delete;
    int fd;
};

inline std::string fixturePath(const std::string& rel) {
    return std::string(GOV_SOURCE_DIR) + "/tests/fixtures/cgroup/" + rel;
}

inline std::string fixture(const std::string& rel) {
    std::string path = fixturePath(rel);
    if (!std::filesystem::exists(path)) {
        ADD_FAILURE() << "missing fixture " << path;
        return {};
    }
    return readFile(path);
}

}  // namespace gov::runtime::test
