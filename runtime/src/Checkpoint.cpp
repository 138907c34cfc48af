#include "gov/runtime/Checkpoint.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "gov/runtime/Fd.hpp"
#include "gov/runtime/Freezer.hpp"
#include "gov/runtime/ProcessTree.hpp"

namespace gov::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds since(Clock::time_point t0) {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
}

Result<std::vector<std::string>> entries(int dirFd, const std::string& dir) {
    int dup = ::fcntl(dirFd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0) {
        return Error::fromErrno("list " + dir);
    }
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
        ::close(dup);
        return Error::fromErrno("list " + dir);
    }
    ::rewinddir(d);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") {
            names.push_back(n);
        }
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

Result<void> writeFileAt(int dirFd, const std::string& name, const std::string& text,
                         const std::string& dir) {
    const std::string context = "write " + dir + "/" + name;
    Fd fd(::openat(dirFd, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) {
        return Error::fromErrno(context);
    }
    size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Error::fromErrno(context);
        }
        off += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
        return Error::fromErrno(context + ": fsync");
    }
    return success();
}

Result<std::string> readFileAt(int dirFd, const std::string& name, const std::string& dir) {
    const std::string context = "read " + dir + "/" + name;
    Fd fd(::openat(dirFd, name.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return Error::fromErrno(context);
    }
    std::string text;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > (1u << 20)) {
            return Error::withReason(context, "larger than 1 MiB", std::errc::file_too_large);
        }
    }
    if (n < 0) {
        return Error::fromErrno(context);
    }
    return text;
}

// A failed checkpoint's folder: the images go (they are useless and may fill a
// disk), CRIU's log stays for the diagnosis, INCOMPLETE says why. Best effort:
// the caller is already reporting an error.
void markIncomplete(int dirFd, const std::string& dir, const std::string& why,
                    const std::string& keepLog) {
    auto names = entries(dirFd, dir);
    if (names) {
        for (const auto& n : *names) {
            if (n != keepLog) {
                ::unlinkat(dirFd, n.c_str(), 0);
            }
        }
    }
    (void)writeFileAt(dirFd, kIncompleteFile, "checkpoint failed: " + why + "\n", dir);
}

std::string utcNow() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

Result<ImageSizes> measureImages(int dirFd) {
    auto names = entries(dirFd, "the images folder");
    if (!names) {
        return std::move(names).error();
    }
    ImageSizes sizes;
    for (const auto& n : *names) {
        struct stat st {};
        if (::fstatat(dirFd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        sizes.total += static_cast<uint64_t>(st.st_size);
        if (n.rfind("pages-", 0) == 0 && n.size() > 4 && n.substr(n.size() - 4) == ".img") {
            sizes.pages += static_cast<uint64_t>(st.st_size);
        }
    }
    return sizes;
}

Result<CheckpointOutcome> checkpointGroup(const CgroupFs& fs, const Criu& criu,
                                          const CheckpointRequest& req) {
    const auto t0 = Clock::now();
    const std::string context = "checkpoint " + groupDisplayName(req.group);
    if (req.group.empty() || !fs.exists(req.group)) {
        return Error(std::errc::no_such_file_or_directory, context);
    }
    // The folder: ours alone, and empty, so that cleaning up after a failure can
    // never remove anything that was there before.
    if (::mkdir(req.dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return Error::fromErrno(context + ": mkdir " + req.dir);
    }
    Fd dirFd(::open(req.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirFd.valid()) {
        return Error::fromErrno(context + ": open " + req.dir);
    }
    auto existing = entries(dirFd.get(), req.dir);
    if (!existing) {
        return std::move(existing).error().wrap(context);
    }
    if (!existing->empty()) {
        return Error::withReason(context, req.dir + " is not empty", std::errc::file_exists);
    }
    auto version = criu.version();
    if (!version) {
        return std::move(version).error().wrap(context);
    }
    auto freezeState = fs.read(req.group, "cgroup.freeze");
    if (!freezeState) {
        return std::move(freezeState).error().wrap(context);
    }
    const bool wasFrozen = !freezeState->empty() && (*freezeState)[0] == '1';

    CriuDumpOptions dump;
    const auto tFreeze = Clock::now();
    // Governor freezes, waiting for "frozen 1" with its own bound and undo; CRIU is
    // then told the group (freeze_cgroup) so it seizes every task of it as it is.
    GOV_TRY(freeze(fs, req.group, req.freezeTimeout));
    // Every failure from here: thaw (unless the group was frozen before us) and
    // leave an incomplete folder, never a half-dumped, still-frozen workload.
    auto undo = [&](Error e) -> Error {
        e.wrap(context);
        markIncomplete(dirFd.get(), req.dir, e.message(), dump.logFile);
        if (!wasFrozen) {
            auto t = thaw(fs, req.group, req.freezeTimeout);
            if (!t) {
                return Error::withReason(
                    e.context(), e.reason() + "; and the thaw failed: " + t.error().message(),
                    std::errc::io_error);
            }
        }
        return e;
    };
    auto pids = subtreeProcesses(fs, req.group);
    if (!pids) {
        return undo(std::move(pids).error());
    }
    if (pids->empty()) {
        return undo(Error::withReason("", "the group has no process", std::errc::no_such_process));
    }
    auto parents = readParents(req.procRoot, *pids);
    if (!parents) {
        return undo(std::move(parents).error());
    }
    auto root = findTreeRoot(*parents);
    if (!root) {
        return undo(std::move(root).error());
    }
    auto stdio = readStdio(req.procRoot, *pids);
    if (!stdio) {
        return undo(std::move(stdio).error());
    }
    std::vector<LostStdio> lost = findLostStdio(*stdio);
    if (!lost.empty() && !req.detachStdio) {
        std::string list;
        for (const auto& l : lost) {
            list += (list.empty() ? "" : ", ") + std::string("pid ") + std::to_string(l.pid) +
                    " fd " + std::to_string(l.fd) + " " + l.resource;
        }
        return undo(Error::withReason(
            "",
            "stdio that a restore cannot re-attach (its other end is outside the group): " + list +
                "; checkpoint with --detach-stdio to give the restored processes "
                "/dev/null there",
            std::errc::operation_not_supported));
    }
    auto command = readCommandLine(req.procRoot, *root);
    if (!command) {
        return undo(std::move(command).error());
    }

    dump.pid = *root;
    dump.imagesDirFd = dirFd.get();
    dump.freezeCgroup = fs.absolute(req.group);
    // Alive after the dump: the workload is killed by us only once the manifest is
    // on disk (CRIU's own kill would come before it).
    dump.leaveRunning = true;
    std::set<std::string> ttys;
    for (const auto& l : lost) {
        if (l.resource.rfind("socket:[", 0) == 0) {
            dump.externalUnixSockets = true;
        } else if (l.resource.rfind("tty[", 0) == 0) {
            ttys.insert(l.resource);
        }
    }
    dump.external.assign(ttys.begin(), ttys.end());
    auto dumped = criu.dump(dump);
    if (!dumped) {
        return undo(std::move(dumped).error());
    }
    // The images must be durable before the only other copy of the state dies.
    if (::syncfs(dirFd.get()) != 0) {
        return undo(Error::fromErrno("syncfs " + req.dir));
    }
    auto sizes = measureImages(dirFd.get());
    if (!sizes) {
        return undo(std::move(sizes).error());
    }
    CheckpointManifest m = req.manifest;
    m.created = utcNow();
    m.criuVersion = version->text();
    m.group = req.group;
    m.command = std::move(*command);
    if (m.command.empty()) {
        m.command = {"?"};  // a kernel thread has none; a workload always has one
    }
    m.rootPid = *root;
    m.processes = static_cast<uint32_t>(pids->size());
    m.memoryBytes = sizes->pages;
    m.lostStdio = lost;
    const std::string tmp = std::string(kManifestFile) + ".tmp";
    std::string text = formatManifest(m);
    auto w = writeFileAt(dirFd.get(), tmp, text, req.dir);
    if (!w) {
        return undo(std::move(w).error());
    }
    // image_bytes counts the manifest too: measured again with it in place.
    if (auto again = measureImages(dirFd.get())) {
        m.imageBytes = again->total;
        text = formatManifest(m);
        auto w2 = writeFileAt(dirFd.get(), tmp, text, req.dir);
        if (!w2) {
            return undo(std::move(w2).error());
        }
    }
    if (::renameat(dirFd.get(), tmp.c_str(), dirFd.get(), kManifestFile) != 0) {
        return undo(Error::fromErrno("rename " + tmp + " to " + kManifestFile + " in " + req.dir));
    }
    if (::fsync(dirFd.get()) != 0) {
        return undo(Error::fromErrno("fsync " + req.dir));
    }

    CheckpointOutcome out;
    out.manifest = std::move(m);
    if (req.leaveRunning) {
        if (!wasFrozen) {
            auto t = thaw(fs, req.group, req.freezeTimeout);
            if (!t) {
                return std::move(t).error().wrap(context + ": written to " + req.dir +
                                                 " but the group stays frozen");
            }
        }
    } else {
        // cgroup.kill reaches frozen tasks too (SIGKILL is always delivered).
        auto k = kill(fs, req.group, std::chrono::seconds(10));
        if (!k) {
            return std::move(k).error().wrap(context + ": written to " + req.dir +
                                             " but the group was not killed");
        }
    }
    out.frozenFor = since(tFreeze);
    out.took = since(t0);
    return out;
}

Result<CheckpointManifest> readCheckpoint(const std::string& dir) {
    const std::string context = "checkpoint " + dir;
    Fd dirFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirFd.valid()) {
        return Error::fromErrno(context);
    }
    auto incomplete = readFileAt(dirFd.get(), kIncompleteFile, dir);
    if (incomplete) {
        std::string why = *incomplete;
        while (!why.empty() && why.back() == '\n') {
            why.pop_back();
        }
        return Error::withReason(context, "incomplete (" + why + ")", std::errc::invalid_argument);
    }
    auto text = readFileAt(dirFd.get(), kManifestFile, dir);
    if (!text) {
        return Error::withReason(
            context,
            std::string("no ") + kManifestFile +
                " (not a complete Governor checkpoint): " + text.error().reason(),
            std::errc::invalid_argument);
    }
    auto m = parseManifest(*text);
    if (!m) {
        return std::move(m).error().wrap(context);
    }
    return m;
}

Result<RestoreOutcome> restoreIntoGroup(const CgroupFs& fs, const Criu& criu,
                                        const RestoreRequest& req) {
    const auto t0 = Clock::now();
    const std::string context = "restore " + req.dir + " into " + groupDisplayName(req.group);
    auto m = readCheckpoint(req.dir);
    if (!m) {
        return std::move(m).error();
    }
    GOV_TRY(checkMemoryFits(*m, req.className, req.classMemoryMax));
    auto present = subtreeProcesses(fs, req.group);
    if (!present) {
        return std::move(present).error().wrap(context);
    }
    if (!present->empty()) {
        return Error::withReason(context, "the group is not empty",
                                 std::errc::device_or_resource_busy);
    }
    auto cg = fs.openGroup(req.group);
    if (!cg) {
        return std::move(cg).error().wrap(context);
    }
    Fd dirFd(::open(req.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirFd.valid()) {
        return Error::fromErrno(context + ": open " + req.dir);
    }
    CriuRestoreOptions opts;
    opts.imagesDirFd = dirFd.get();
    std::set<std::string> keys;
    for (const auto& l : m->lostStdio) {
        keys.insert(l.resource);
    }
    opts.inheritNull.assign(keys.begin(), keys.end());
    auto pid = criu.restore(opts, cg->get());
    if (!pid) {
        // CRIU kills what it had restored; anything left would be unaccounted for.
        (void)kill(fs, req.group, std::chrono::seconds(5));
        return std::move(pid).error().wrap(context);
    }
    auto procs = fs.processes(req.group);
    if (!procs || std::find(procs->begin(), procs->end(), *pid) == procs->end()) {
        (void)kill(fs, req.group, std::chrono::seconds(5));
        return Error::withReason(
            context,
            "the restored process " + std::to_string(*pid) + " is not in the group (killed)",
            std::errc::io_error);
    }
    RestoreOutcome out;
    out.manifest = std::move(*m);
    out.pid = *pid;
    out.took = since(t0);
    return out;
}

}  // namespace gov::runtime
