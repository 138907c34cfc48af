#include "gov/runtime/Devices.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "gov/runtime/Fd.hpp"
#include "gov/runtime/Parsers.hpp"

namespace gov::runtime {
namespace {

std::string majMinOf(dev_t dev) {
    return std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
}

bool pathExists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

Result<std::string> readSmallFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return Error::fromErrno("read " + path);
    }
    Fd owned(fd);
    char buf[256];
    ssize_t n;
    do {
        n = ::read(fd, buf, sizeof buf);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return Error::fromErrno("read " + path);
    }
    std::string out(buf, static_cast<size_t>(n));
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
        out.pop_back();
    }
    return out;
}

std::pair<uint64_t, uint64_t> majMinKey(const std::string& mm) {
    uint64_t a = 0;
    uint64_t b = 0;
    size_t colon = mm.find(':');
    std::from_chars(mm.data(), mm.data() + colon, a);
    std::from_chars(mm.data() + colon + 1, mm.data() + mm.size(), b);
    return {a, b};
}

}  // namespace

Result<std::string> resolveDevice(const std::string& spec, const std::string& sysRoot,
                                  const std::string& devRoot) {
    const std::string context = "device " + spec;
    if (isMajMin(spec)) {
        if (!pathExists(sysRoot + "/dev/block/" + spec)) {
            return Error::withReason(context, "no such block device", std::errc::no_such_device);
        }
        return spec;
    }
    if (spec.empty() || spec.front() != '/') {
        return Error::withReason(context, "expected a /dev path or MAJ:MIN");
    }
    std::string path = spec;
    if (spec.rfind("/dev/", 0) == 0) {
        path = devRoot + spec.substr(4);
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return Error::fromErrno(context);
    }
    if (!S_ISBLK(st.st_mode)) {
        return Error::withReason(context, "not a block device", std::errc::no_such_device);
    }
    std::string mm = majMinOf(st.st_rdev);
    // A node left behind by a removed device still stats fine; the kernel would then
    // reject the io.max line with a less helpful ENODEV.
    if (!pathExists(sysRoot + "/dev/block/" + mm)) {
        return Error::withReason(context, "block device " + mm + " is not present",
                                 std::errc::no_such_device);
    }
    return mm;
}

Result<std::vector<std::string>> wholeDisks(const std::string& sysRoot) {
    std::string dirPath = sysRoot + "/block";
    DIR* dir = ::opendir(dirPath.c_str());
    if (dir == nullptr && errno == ENOENT) {
        dirPath = sysRoot + "/class/block";
        dir = ::opendir(dirPath.c_str());
    }
    if (dir == nullptr) {
        return Error::fromErrno("list block devices in " + dirPath);
    }
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(dir)) {
        std::string_view name(e->d_name);
        if (name != "." && name != "..") {
            names.emplace_back(name);
        }
    }
    ::closedir(dir);

    std::vector<std::string> out;
    for (const auto& name : names) {
        const std::string base = dirPath + "/" + name;
        if (pathExists(base + "/partition")) {
            continue;
        }
        auto size = readSmallFile(base + "/size");
        if (size) {
            uint64_t sectors = 0;
            auto [p, ec] = std::from_chars(size->data(), size->data() + size->size(), sectors);
            if (ec == std::errc() && p == size->data() + size->size() && sectors == 0) {
                continue;
            }
        }
        auto dev = readSmallFile(base + "/dev");
        if (!dev) {
            return std::move(dev).error();
        }
        if (!isMajMin(*dev)) {
            return Error::withReason("read " + base + "/dev",
                                     "expected MAJ:MIN, got '" + *dev + "'");
        }
        out.push_back(*dev);
    }
    std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
        return majMinKey(a) < majMinKey(b);
    });
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Result<DeviceTable> buildDeviceTable(const std::vector<std::string>& specs,
                                     const std::string& sysRoot, const std::string& devRoot) {
    DeviceTable table;
    auto disks = wholeDisks(sysRoot);
    if (!disks) {
        return std::move(disks).error();
    }
    table.wholeDisks = std::move(*disks);
    for (const auto& spec : specs) {
        auto mm = resolveDevice(spec, sysRoot, devRoot);
        if (!mm) {
            return std::move(mm).error();
        }
        table.resolved[spec] = *mm;
    }
    return table;
}

}  // namespace gov::runtime
