// Helpers for the runtime unit tests: temp dirs and fixture files.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace gov::runtime::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
  public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/gov-rt-XXXXXX";
        char* made = ::mkdtemp(tmpl.data());
        if (made == nullptr) {
            ADD_FAILURE() << "mkdtemp " << tmpl << " failed";
        }
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

  private:
    std::string path_;
};

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

inline void writeFile(const std::string& path, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

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
