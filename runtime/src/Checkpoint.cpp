#include "gov/runtime/Checkpoint.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
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

Result<std::string> readAll(int fd, const std::string& context) {
    std::string text;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
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

Result<std::string> readFileAt(int dirFd, const std::string& name, const std::string& dir) {
    const std::string context = "read " + dir + "/" + name;
    Fd fd(::openat(dirFd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        return Error::fromErrno(context);
    }
    return readAll(fd.get(), context);
}

std::optional<FileFacts> factsOf(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return std::nullopt;
    }
    return FileFacts{st.st_uid, st.st_mode};
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

Result<CheckpointFolder> openCheckpointFolder(const std::string& path,
                                              const CheckpointFolderVet& vet) {
    const std::string context = "checkpoint folder " + path;
    if (path.empty() || path.front() != '/') {
        return Error::withReason(context, "not an absolute path", std::errc::invalid_argument);
    }
    // "/srv/ck/" is "/srv/ck"; "/" has no name to create.
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') {
        trimmed.pop_back();
    }
    const size_t slash = trimmed.rfind('/');
    CheckpointFolder f;
    f.path = path;
    f.name = trimmed.substr(slash + 1);
    if (f.name.empty() || f.name == "." || f.name == "..") {
        return Error::withReason(context, "names no folder", std::errc::invalid_argument);
    }
    const std::string parentPath = slash == 0 ? "/" : trimmed.substr(0, slash);
    f.parent = Fd(::open(parentPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!f.parent.valid()) {
        return Error::fromErrno(context + ": open " + parentPath);
    }
    auto parentFacts = factsOf(f.parent.get());
    if (!parentFacts) {
        return Error::fromErrno(context + ": stat " + parentPath);
    }
    std::optional<FileFacts> dirFacts;
    struct stat st {};
    if (::fstatat(f.parent.get(), f.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        dirFacts = FileFacts{st.st_uid, st.st_mode};
    } else if (errno != ENOENT) {
        return Error::fromErrno(context + ": stat");
    }
    if (vet) {
        GOV_TRY(vet(dirFacts, *parentFacts, path));
    }
    if (!dirFacts) {
        if (::mkdirat(f.parent.get(), f.name.c_str(), 0700) != 0) {
            if (errno == EEXIST) {
                return Error::withReason(context, "appeared while it was being created",
                                         std::errc::file_exists);
            }
            return Error::fromErrno(context + ": mkdir");
        }
        f.created = true;
        // Whoever can write the parent could swap the new folder for a symlink or a
        // folder of theirs before it is opened: it must still be the one made here.
        f.dir = Fd(::openat(f.parent.get(), f.name.c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        auto made = f.dir.valid() ? factsOf(f.dir.get()) : std::nullopt;
        if (!made || made->uid != ::geteuid() || !S_ISDIR(made->mode)) {
            return Error::withReason(context, "was replaced while it was being created",
                                     std::errc::file_exists);
        }
    } else {
        f.dir = Fd(::openat(f.parent.get(), f.name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!f.dir.valid()) {
            return Error::fromErrno(context + ": open");
        }
    }
    // Ours alone, and empty, so that cleaning up after a failure can never remove
    // anything that was there before.
    auto existing = entries(f.dir.get(), path);
    if (!existing) {
        return std::move(existing).error().wrap(context);
    }
    if (!existing->empty()) {
        return Error::withReason(context, "not empty", std::errc::file_exists);
    }
    return f;
}

Result<CheckpointOutcome> checkpointGroup(const CgroupFs& fs, const Criu& criu,
                                          const CheckpointRequest& req, CheckpointFolder& folder) {
    const auto t0 = Clock::now();
    const std::string context = "checkpoint " + groupDisplayName(req.group);
    const std::string& dir = folder.path;
    const int dirFd = folder.dir.get();
    // Before the freeze nothing has been written: a folder made for this call goes
    // again (rmdir removes only an empty one).
    auto early = [&](Error e) -> Error {
        if (folder.created) {
            ::unlinkat(folder.parent.get(), folder.name.c_str(), AT_REMOVEDIR);
        }
        return e;
    };
    if (dirFd < 0) {
        return Error::withReason(context, "no open checkpoint folder", std::errc::invalid_argument);
    }
    if (req.group.empty() || !fs.exists(req.group)) {
        return early(Error(std::errc::no_such_file_or_directory, context));
    }
    auto version = criu.version();
    if (!version) {
        return early(std::move(version).error().wrap(context));
    }
    auto freezeState = fs.read(req.group, "cgroup.freeze");
    if (!freezeState) {
        return early(std::move(freezeState).error().wrap(context));
    }
    const bool wasFrozen = !freezeState->empty() && (*freezeState)[0] == '1';

    CriuDumpOptions dump;
    const auto tFreeze = Clock::now();
    // Governor freezes, waiting for "frozen 1" with its own bound and undo; CRIU is
    // then told the group (freeze_cgroup) so it seizes every task of it as it is.
    auto frozen = freeze(fs, req.group, req.freezeTimeout);
    if (!frozen) {
        return early(std::move(frozen).error());
    }
    // Every failure from here: thaw (unless the group was frozen before us) and
    // leave an incomplete folder, never a half-dumped, still-frozen workload.
    auto undo = [&](Error e) -> Error {
        e.wrap(context);
        markIncomplete(dirFd, dir, e.message(), dump.logFile);
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
    // Frozen tasks cannot exec or change ids: these are the credentials CRIU dumps.
    auto creds = readCreds(req.procRoot, *pids);
    if (!creds) {
        return undo(std::move(creds).error());
    }
    const std::optional<uid_t> owner = plainOwner(*creds);
    if (req.requireOwner && owner != req.requireOwner) {
        return undo(
            Error::withReason("",
                              "its processes are no longer all plain processes of uid " +
                                  std::to_string(*req.requireOwner) +
                                  " (another uid, a setuid or setgid program, or capabilities)",
                              std::errc::permission_denied));
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
    dump.imagesDirFd = dirFd;
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
    if (::syncfs(dirFd) != 0) {
        return undo(Error::fromErrno("syncfs " + dir));
    }
    auto sizes = measureImages(dirFd);
    if (!sizes) {
        return undo(std::move(sizes).error());
    }
    CheckpointManifest m = req.manifest;
    m.created = utcNow();
    m.criuVersion = version->text();
    m.group = req.group;
    m.ownerUid = owner.value_or(0);
    m.ownerGids = heldGids(*creds);
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
    auto w = writeFileAt(dirFd, tmp, text, dir);
    if (!w) {
        return undo(std::move(w).error());
    }
    // image_bytes counts the manifest too: measured again with it in place.
    if (auto again = measureImages(dirFd)) {
        m.imageBytes = again->total;
        text = formatManifest(m);
        auto w2 = writeFileAt(dirFd, tmp, text, dir);
        if (!w2) {
            return undo(std::move(w2).error());
        }
    }
    if (::renameat(dirFd, tmp.c_str(), dirFd, kManifestFile) != 0) {
        return undo(Error::fromErrno("rename " + tmp + " to " + kManifestFile + " in " + dir));
    }
    if (::fsync(dirFd) != 0) {
        return undo(Error::fromErrno("fsync " + dir));
    }

    CheckpointOutcome out;
    out.manifest = std::move(m);
    if (req.leaveRunning) {
        if (!wasFrozen) {
            auto t = thaw(fs, req.group, req.freezeTimeout);
            if (!t) {
                return std::move(t).error().wrap(context + ": written to " + dir +
                                                 " but the group stays frozen");
            }
        }
    } else {
        // cgroup.kill reaches frozen tasks too (SIGKILL is always delivered).
        auto k = kill(fs, req.group, std::chrono::seconds(10));
        if (!k) {
            return std::move(k).error().wrap(context + ": written to " + dir +
                                             " but the group was not killed");
        }
    }
    out.frozenFor = since(tFreeze);
    out.took = since(t0);
    return out;
}

Result<OpenedCheckpoint> openCheckpoint(const std::string& path, const CheckpointVet& vet) {
    const std::string context = "checkpoint " + path;
    OpenedCheckpoint c;
    c.path = path;
    c.dir = Fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!c.dir.valid()) {
        return Error::fromErrno(context);
    }
    auto incomplete = readFileAt(c.dir.get(), kIncompleteFile, path);
    if (incomplete) {
        std::string why = *incomplete;
        while (!why.empty() && why.back() == '\n') {
            why.pop_back();
        }
        return Error::withReason(context, "incomplete (" + why + ")", std::errc::invalid_argument);
    }
    Fd manifest(::openat(c.dir.get(), kManifestFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!manifest.valid()) {
        return Error::withReason(
            context,
            std::string("no ") + kManifestFile +
                " (not a complete Governor checkpoint): " + std::strerror(errno),
            std::errc::invalid_argument);
    }
    auto dirFacts = factsOf(c.dir.get());
    auto manifestFacts = factsOf(manifest.get());
    if (!dirFacts || !manifestFacts) {
        return Error::fromErrno(context + ": stat");
    }
    if (!S_ISREG(manifestFacts->mode)) {
        return Error::withReason(context, std::string(kManifestFile) + " is not a regular file",
                                 std::errc::invalid_argument);
    }
    if (vet) {
        GOV_TRY(vet(*dirFacts, *manifestFacts, path));
    }
    auto text = readAll(manifest.get(), "read " + path + "/" + kManifestFile);
    if (!text) {
        return std::move(text).error();
    }
    auto m = parseManifest(*text);
    if (!m) {
        return std::move(m).error().wrap(context);
    }
    c.manifest = std::move(*m);
    return c;
}

Result<CheckpointManifest> readCheckpoint(const std::string& dir) {
    auto c = openCheckpoint(dir);
    if (!c) {
        return std::move(c).error();
    }
    return std::move(c->manifest);
}

Result<RestoreOutcome> restoreIntoGroup(const CgroupFs& fs, const Criu& criu,
                                        const RestoreRequest& req,
                                        const OpenedCheckpoint& checkpoint) {
    const auto t0 = Clock::now();
    const std::string context =
        "restore " + checkpoint.path + " into " + groupDisplayName(req.group);
    const CheckpointManifest& m = checkpoint.manifest;
    GOV_TRY(checkMemoryFits(m, req.className, req.classMemoryMax));
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
    CriuRestoreOptions opts;
    opts.imagesDirFd = checkpoint.dir.get();
    std::set<std::string> keys;
    for (const auto& l : m.lostStdio) {
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
    out.manifest = m;
    out.pid = *pid;
    out.took = since(t0);
    return out;
}

}  // namespace gov::runtime
