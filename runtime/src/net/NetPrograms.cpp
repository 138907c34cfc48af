#include "gov/runtime/net/NetPrograms.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <unordered_set>

// The skeleton generated from gov_net.bpf.o at build time (runtime/CMakeLists.txt):
// the programs' object is embedded in the library.
#include "gov_net.skel.h"

namespace gov::runtime::net {

namespace {

// libbpf reports through a global print callback. While attach() runs, warnings
// are collected here (the verifier's log among them) so that the error can say
// why; at other times libbpf is silent (the daemon logs our errors instead).
thread_local std::string* gLibbpfLog = nullptr;

int collectLibbpf(enum libbpf_print_level level, const char* format, va_list args) {
    if (level == LIBBPF_DEBUG || gLibbpfLog == nullptr) {
        return 0;
    }
    char line[512];
    int n = std::vsnprintf(line, sizeof line, format, args);
    if (n > 0 && gLibbpfLog->size() < 64 * 1024) {
        gLibbpfLog->append(line);
    }
    return 0;
}

class LibbpfLog {
  public:
    LibbpfLog() : previous_(libbpf_set_print(collectLibbpf)) { gLibbpfLog = &text_; }
    ~LibbpfLog() {
        gLibbpfLog = nullptr;
        libbpf_set_print(previous_);
    }
    LibbpfLog(const LibbpfLog&) = delete;
    LibbpfLog& operator=(const LibbpfLog&) = delete;

    // The last few non-empty lines, joined: enough to tell a verifier refusal or a
    // missing kernel feature, short enough for one log line.
    std::string tail(size_t lines = 3) const {
        std::vector<std::string> all;
        size_t start = 0;
        while (start < text_.size()) {
            size_t end = text_.find('\n', start);
            if (end == std::string::npos)
                end = text_.size();
            std::string l = text_.substr(start, end - start);
            if (l.find_first_not_of(" \t") != std::string::npos)
                all.push_back(l);
            start = end + 1;
        }
        std::string out;
        for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
            out += (out.empty() ? "" : " | ") + all[i];
        }
        return out;
    }

  private:
    libbpf_print_fn_t previous_;
    std::string text_;
};

// An Error for a libbpf call that returned -errno (or set errno), with the
// collected log when there is one.
Error libbpfError(const std::string& context, int err, const LibbpfLog* log = nullptr,
                  const std::string& hint = "") {
    std::string reason = std::strerror(err);
    if (!hint.empty())
        reason += " (" + hint + ")";
    if (log != nullptr) {
        std::string tail = log->tail();
        if (!tail.empty())
            reason += "; libbpf: " + tail;
    }
    return Error::withReason(context, reason, static_cast<std::errc>(err));
}

const char* const kMapPins[] = {"counters", "limits", "uncounted"};

bpf_map* mapByPin(gov_net* skel, const std::string& pin) {
    if (pin == "counters")
        return skel->maps.gov_counters;
    if (pin == "limits")
        return skel->maps.gov_limits;
    return skel->maps.gov_uncounted;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// Whether the map pinned at `path` can be reused for `map` (libbpf's own test, done
// first so that an incompatible one is replaced instead of failing the load).
bool compatible(const std::string& path, const bpf_map* map) {
    Fd fd(bpf_obj_get(path.c_str()));
    if (!fd.valid())
        return false;
    bpf_map_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
        return false;
    return info.type == static_cast<__u32>(bpf_map__type(map)) &&
           info.key_size == bpf_map__key_size(map) && info.value_size == bpf_map__value_size(map) &&
           info.max_entries == bpf_map__max_entries(map) &&
           info.map_flags == bpf_map__map_flags(map);
}

Result<void> validate(const NetPrograms::Options& o) {
    const std::string context = "cgroup network programs";
    if (o.levels.empty() || o.levels.size() > GOV_NET_MAX_LEVELS) {
        return Error::withReason(context, "between 1 and " + std::to_string(GOV_NET_MAX_LEVELS) +
                                              " cgroup levels to count at, got " +
                                              std::to_string(o.levels.size()));
    }
    for (size_t i = 0; i < o.levels.size(); ++i) {
        if (o.levels[i] == 0 || (i > 0 && o.levels[i] <= o.levels[i - 1])) {
            return Error::withReason(context,
                                     "cgroup levels must be above 0 and strictly increasing");
        }
    }
    if (o.maxGroups == 0) {
        return Error::withReason(context, "maxGroups must be above 0");
    }
    return success();
}

}  // namespace

NetPrograms::NetPrograms(NetPrograms&&) noexcept = default;
NetPrograms& NetPrograms::operator=(NetPrograms&&) noexcept = default;
NetPrograms::~NetPrograms() = default;

Result<NetPrograms> NetPrograms::attach(const std::string& cgroupPath, const Options& options) {
    GOV_TRY(validate(options));
    LibbpfLog log;
    NetPrograms p;
    p.options_ = options;
    p.cgroupPath_ = cgroupPath;

    Fd cgroup(::open(cgroupPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup.valid()) {
        return Error::fromErrno("open cgroup " + cgroupPath);
    }
    auto rootId = cgroupIdAt(cgroup.get(), "");
    if (!rootId) {
        return std::move(rootId).error();
    }

    p.skel_ = {gov_net__open(), gov_net__destroy};
    if (!p.skel_) {
        return libbpfError("open the cgroup network programs", errno, &log);
    }
    gov_net* skel = p.skel_.get();
    for (size_t i = 0; i < options.levels.size(); ++i) {
        skel->rodata->levels[i] = options.levels[i];
    }
    if (int e = bpf_map__set_max_entries(skel->maps.gov_counters, options.maxGroups); e != 0) {
        return libbpfError("size the counters map", -e, &log);
    }
    if (int e = bpf_map__set_max_entries(skel->maps.gov_limits, options.maxGroups); e != 0) {
        return libbpfError("size the limits map", -e, &log);
    }

    // Pins: reuse compatible maps, replace the others; remember which we create, to
    // remove them again if anything below fails.
    std::vector<std::string> createdPins;
    auto unpinCreated = [&] {
        for (const auto& path : createdPins)
            ::unlink(path.c_str());
    };
    const std::string& dir = options.pinDir;
    if (!dir.empty()) {
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
            return Error::fromErrno("create the BPF pin folder " + dir);
        }
        struct statfs fs {};
        if (::statfs(dir.c_str(), &fs) != 0) {
            return Error::fromErrno("statfs " + dir);
        }
        if (fs.f_type != BPF_FS_MAGIC) {
            return Error::withReason("pin BPF objects in " + dir,
                                     "not a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)",
                                     std::errc::not_supported);
        }
        for (const char* name : kMapPins) {
            const std::string path = dir + "/" + name;
            bpf_map* map = mapByPin(skel, name);
            if (exists(path)) {
                if (compatible(path, map)) {
                    if (std::strcmp(name, "counters") == 0)
                        p.adopted_ = true;
                } else {
                    ::unlink(path.c_str());
                    p.notes_.push_back("replaced the pinned " + std::string(name) + " map " + path +
                                       ", whose layout differs" +
                                       (std::strcmp(name, "counters") == 0
                                            ? ": network counters restart from zero"
                                            : ""));
                    createdPins.push_back(path);
                }
            } else {
                createdPins.push_back(path);
            }
            if (int e = bpf_map__set_pin_path(map, path.c_str()); e != 0) {
                return libbpfError("pin path " + path, -e, &log);
            }
        }
    }

    if (int e = gov_net__load(skel); e != 0) {
        unpinCreated();
        return libbpfError("load the cgroup network programs", -e, &log,
                           "a kernel without BPF or cgroup BPF support, or not root?");
    }
    p.cpus_ = libbpf_num_possible_cpus();
    if (p.cpus_ <= 0) {
        unpinCreated();
        return libbpfError("count the possible CPUs", -p.cpus_);
    }

    struct Hook {
        const char* name;
        bpf_program* prog;
        bpf_attach_type type;
        Fd* link;
    };
    const Hook hooks[] = {
        {"ingress", skel->progs.gov_ingress, BPF_CGROUP_INET_INGRESS, &p.ingressLink_},
        {"egress", skel->progs.gov_egress, BPF_CGROUP_INET_EGRESS, &p.egressLink_},
    };
    for (const Hook& hook : hooks) {
        const int progFd = bpf_program__fd(hook.prog);
        const std::string pin = dir.empty() ? "" : dir + "/" + hook.name;
        if (!pin.empty() && exists(pin)) {
            Fd old(bpf_obj_get(pin.c_str()));
            bpf_link_info info{};
            __u32 len = sizeof info;
            bool same = old.valid() && bpf_obj_get_info_by_fd(old.get(), &info, &len) == 0 &&
                        info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.cgroup_id == *rootId &&
                        info.cgroup.attach_type == static_cast<__u32>(hook.type);
            // The adopted link keeps counting without a gap: its program is switched.
            if (same && bpf_link_update(old.get(), progFd, nullptr) == 0) {
                *hook.link = std::move(old);
                p.notes_.push_back(std::string("adopted the pinned ") + hook.name + " link " + pin +
                                   " (programs replaced in place)");
                continue;
            }
            ::unlink(pin.c_str());
            p.notes_.push_back(std::string("replaced the pinned ") + hook.name + " link " + pin +
                               ", attached elsewhere or not updatable");
        }
        Fd link(bpf_link_create(progFd, cgroup.get(), hook.type, nullptr));
        if (!link.valid()) {
            int err = errno;
            unpinCreated();
            return libbpfError(std::string("attach the ") + hook.name + " program to " + cgroupPath,
                               err, &log);
        }
        if (!pin.empty()) {
            if (bpf_obj_pin(link.get(), pin.c_str()) != 0) {
                int err = errno;
                unpinCreated();
                return libbpfError("pin " + pin, err, &log);
            }
            createdPins.push_back(pin);
        }
        *hook.link = std::move(link);
    }
    return p;
}

Result<std::unordered_map<uint64_t, TrafficCounters>> NetPrograms::readAll() const {
    std::unordered_map<uint64_t, TrafficCounters> out;
    const int fd = bpf_map__fd(skel_->maps.gov_counters);
    const size_t perEntry = static_cast<size_t>(cpus_);
    __u32 count = 1024;
    std::vector<uint64_t> keys;
    std::vector<gov_net_counters> values;
    uint64_t inBatch = 0;
    uint64_t outBatch = 0;
    bool first = true;
    for (;;) {
        keys.resize(count);
        values.resize(count * perEntry);
        __u32 n = count;
        int r = bpf_map_lookup_batch(fd, first ? nullptr : &inBatch, &outBatch, keys.data(),
                                     values.data(), &n, nullptr);
        int err = r == 0 ? 0 : errno;
        if (r != 0 && err == ENOSPC && n == 0) {
            count *= 2;  // a hash bucket holds more entries than fit: a bigger batch
            continue;
        }
        if (r != 0 && err != ENOENT) {
            return Error::fromErrno("read the network counters map", err);
        }
        for (__u32 i = 0; i < n; ++i) {
            out[keys[i]] = sumPerCpu(&values[i * perEntry], perEntry);
        }
        if (err == ENOENT) {
            return out;  // the whole map was read
        }
        inBatch = outBatch;
        first = false;
    }
}

Result<std::optional<TrafficCounters>> NetPrograms::read(uint64_t cgroupId) const {
    std::vector<gov_net_counters> values(static_cast<size_t>(cpus_));
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.gov_counters), &cgroupId, values.data()) != 0) {
        if (errno == ENOENT)
            return std::optional<TrafficCounters>();
        return Error::fromErrno("read the network counters of cgroup " + std::to_string(cgroupId));
    }
    return std::optional<TrafficCounters>(sumPerCpu(values.data(), values.size()));
}

Result<TrafficCounters> NetPrograms::uncounted() const {
    std::vector<gov_net_counters> values(static_cast<size_t>(cpus_));
    __u32 key = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.gov_uncounted), &key, values.data()) != 0) {
        return Error::fromErrno("read the uncounted network traffic");
    }
    return sumPerCpu(values.data(), values.size());
}

Result<void> NetPrograms::forget(uint64_t cgroupId) {
    for (bpf_map* map : {skel_->maps.gov_counters, skel_->maps.gov_limits}) {
        if (bpf_map_delete_elem(bpf_map__fd(map), &cgroupId) != 0 && errno != ENOENT) {
            return Error::fromErrno("forget the network entries of cgroup " +
                                    std::to_string(cgroupId));
        }
    }
    return success();
}

Result<size_t> NetPrograms::forgetAllBut(const std::vector<uint64_t>& keep) {
    const std::unordered_set<uint64_t> kept(keep.begin(), keep.end());
    const int fd = bpf_map__fd(skel_->maps.gov_counters);
    std::vector<uint64_t> stale;
    uint64_t key = 0;
    uint64_t next = 0;
    bool first = true;
    while (bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
        if (!kept.count(next))
            stale.push_back(next);
        key = next;
        first = false;
    }
    if (errno != ENOENT) {
        return Error::fromErrno("list the network counters map");
    }
    for (uint64_t id : stale) {
        GOV_TRY(forget(id));
    }
    return stale.size();
}

Result<void> NetPrograms::setEgressLimit(uint64_t cgroupId, const EgressLimit& limit) {
    const std::string context = "set the egress limit of cgroup " + std::to_string(cgroupId);
    if (limit.bytesPerSecond == 0) {
        return Error::withReason(context, "a rate of 0 bytes/s");
    }
    const int fd = bpf_map__fd(skel_->maps.gov_limits);
    gov_net_limit current{};
    if (bpf_map_lookup_elem_flags(fd, &cgroupId, &current, BPF_F_LOCK) == 0 &&
        limitOf(current) == limit) {
        return success();
    }
    gov_net_limit entry = limitEntry(limit);
    if (bpf_map_update_elem(fd, &cgroupId, &entry, BPF_ANY | BPF_F_LOCK) != 0) {
        return Error::fromErrno(context);
    }
    return success();
}

Result<void> NetPrograms::clearEgressLimit(uint64_t cgroupId) {
    if (bpf_map_delete_elem(bpf_map__fd(skel_->maps.gov_limits), &cgroupId) != 0 &&
        errno != ENOENT) {
        return Error::fromErrno("clear the egress limit of cgroup " + std::to_string(cgroupId));
    }
    return success();
}

Result<std::unordered_map<uint64_t, NetPrograms::LimitState>> NetPrograms::limits() const {
    std::unordered_map<uint64_t, LimitState> out;
    const int fd = bpf_map__fd(skel_->maps.gov_limits);
    uint64_t key = 0;
    uint64_t next = 0;
    bool first = true;
    while (bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
        key = next;
        first = false;
        gov_net_limit entry{};
        if (bpf_map_lookup_elem_flags(fd, &key, &entry, BPF_F_LOCK) != 0) {
            if (errno == ENOENT)
                continue;  // removed meanwhile
            return Error::fromErrno("read the egress limit of cgroup " + std::to_string(key));
        }
        out[key] = LimitState{limitOf(entry), entry.throttled};
    }
    if (errno != ENOENT) {
        return Error::fromErrno("list the egress limits map");
    }
    return out;
}

Result<NetPrograms::ProgramStats> NetPrograms::programStats() const {
    ProgramStats stats;
    struct Which {
        bpf_program* prog;
        uint64_t* runs;
        uint64_t* ns;
    };
    for (const Which& w : {Which{skel_->progs.gov_ingress, &stats.ingressRuns, &stats.ingressNs},
                           Which{skel_->progs.gov_egress, &stats.egressRuns, &stats.egressNs}}) {
        bpf_prog_info info{};
        __u32 len = sizeof info;
        if (bpf_obj_get_info_by_fd(bpf_program__fd(w.prog), &info, &len) != 0) {
            return Error::fromErrno(std::string("statistics of the ") + bpf_program__name(w.prog) +
                                    " program");
        }
        *w.runs = info.run_cnt;
        *w.ns = info.run_time_ns;
    }
    return stats;
}

Result<void> NetPrograms::detach() {
    std::string failed;
    const std::string& dir = options_.pinDir;
    if (!dir.empty()) {
        for (const char* name : {"ingress", "egress", "counters", "limits", "uncounted"}) {
            const std::string path = dir + "/" + name;
            if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
                failed += (failed.empty() ? "" : ", ") + path + ": " + std::strerror(errno);
            }
        }
        if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
            failed += (failed.empty() ? "" : ", ") + dir + ": " + std::strerror(errno);
        }
    }
    // The last references: closing the links detaches the programs.
    ingressLink_.reset();
    egressLink_.reset();
    skel_.reset();
    if (!failed.empty()) {
        return Error::withReason("remove the cgroup network programs' pins", failed,
                                 std::errc::io_error);
    }
    return success();
}

Result<uint64_t> cgroupIdAt(int dirFd, const std::string& group) {
    // A cgroup2 file handle is the 8-byte cgroup id (kernfs node id). file_handle ends
    // in a flexible array: room for it is made with an aligned buffer.
    alignas(file_handle) unsigned char buffer[sizeof(file_handle) + sizeof(uint64_t)] = {};
    auto* fh = reinterpret_cast<file_handle*>(buffer);
    fh->handle_bytes = sizeof(uint64_t);
    int mountId = 0;
    const std::string name = group.empty() ? "<root>" : group;
    if (::name_to_handle_at(dirFd, group.c_str(), fh, &mountId,
                            group.empty() ? AT_EMPTY_PATH : 0) != 0) {
        return Error::fromErrno("cgroup id of " + name);
    }
    if (fh->handle_bytes != sizeof(uint64_t)) {
        return Error::withReason("cgroup id of " + name, "not a cgroup2 file handle");
    }
    uint64_t id = 0;
    std::memcpy(&id, buffer + sizeof(file_handle), sizeof id);
    return id;
}

Result<uint64_t> cgroupId(const std::string& path) {
    Fd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) {
        return Error::fromErrno("open cgroup " + path);
    }
    auto id = cgroupIdAt(dir.get(), "");
    if (!id) {
        return Error(id.error().code(), "cgroup id of " + path);
    }
    return id;
}

Result<uint32_t> cgroupLevel(const std::string& mount, const std::string& path) {
    auto trim = [](std::string s) {
        while (s.size() > 1 && s.back() == '/')
            s.pop_back();
        return s;
    };
    const std::string m = trim(mount);
    const std::string p = trim(path);
    if (p == m) {
        return 0u;
    }
    const std::string prefix = m == "/" ? "/" : m + "/";
    if (p.compare(0, prefix.size(), prefix) != 0) {
        return Error::withReason("cgroup level of " + path, "not under the cgroup2 mount " + mount);
    }
    uint32_t level = 0;
    size_t start = prefix.size();
    while (start <= p.size()) {
        size_t end = p.find('/', start);
        if (end == std::string::npos)
            end = p.size();
        std::string part = p.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") {
            return Error::withReason("cgroup level of " + path, "an empty, . or .. component");
        }
        ++level;
        start = end + 1;
    }
    return level;
}

}  // namespace gov::runtime::net
