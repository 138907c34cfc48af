#include "gov/runtime/ProcessTree.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>

#include "gov/runtime/Fd.hpp"

namespace gov::runtime {
namespace {

// Terminal majors (Documentation/admin-guide/devices.txt): 4 tty/ttyS, 5 tty,
// console and ptmx, 136-143 Unix98 pty slaves.
bool isTerminalMajor(unsigned major) {
    return major == 4 || major == 5 || (major >= 136 && major <= 143);
}

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
    return buf;
}

// The value of the "Key:" line of a status text (without the key and the leading
// blanks); nullopt when there is no such line.
std::optional<std::string_view> statusLine(std::string_view text, std::string_view key) {
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find('\n', at);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view line = text.substr(at, end - at);
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == ':') {
            line.remove_prefix(key.size() + 1);
            while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) {
                line.remove_prefix(1);
            }
            return line;
        }
        at = end + 1;
    }
    return std::nullopt;
}

// Blank-separated numbers in `base`; nullopt when any field is not one.
std::optional<std::vector<uint64_t>> numbers(std::string_view s, int base) {
    std::vector<uint64_t> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
            ++i;
        }
        if (i == s.size()) {
            break;
        }
        uint64_t v = 0;
        auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v, base);
        if (ec != std::errc() || (ptr != s.data() + s.size() && *ptr != ' ' && *ptr != '\t')) {
            return std::nullopt;
        }
        out.push_back(v);
        i = static_cast<size_t>(ptr - s.data());
    }
    return out;
}

}  // namespace

Result<ProcCreds> parseProcCreds(std::string_view text) {
    const std::string context = "parse /proc status";
    ProcCreds c;
    for (auto [key, out] : {std::pair{"Uid", c.uids}, std::pair{"Gid", c.gids}}) {
        auto line = statusLine(text, key);
        auto ids = line ? numbers(*line, 10) : std::nullopt;
        if (!ids || ids->size() != 4) {
            return Error::withReason(context, std::string("no ") + key + " line with four ids");
        }
        for (size_t i = 0; i < 4; ++i) {
            out[i] = static_cast<uint32_t>((*ids)[i]);
        }
    }
    if (auto line = statusLine(text, "Groups")) {
        auto ids = numbers(*line, 10);
        if (!ids) {
            return Error::withReason(context, "the Groups line is not a list of gids");
        }
        for (uint64_t g : *ids) {
            c.groups.push_back(static_cast<gid_t>(g));
        }
    }
    struct CapLine {
        const char* key;
        uint64_t* out;
        bool required;
    };
    for (auto [key, out, required] :
         {CapLine{"CapPrm", &c.capPermitted, true}, CapLine{"CapEff", &c.capEffective, true},
          CapLine{"CapAmb", &c.capAmbient, false}}) {
        auto line = statusLine(text, key);
        if (!line) {
            if (required) {
                return Error::withReason(context, std::string("no ") + key + " line");
            }
            continue;
        }
        auto v = numbers(*line, 16);
        if (!v || v->size() != 1) {
            return Error::withReason(context, std::string("the ") + key + " line is not hex");
        }
        *out = v->front();
    }
    return c;
}

Result<std::vector<ProcCreds>> readCreds(const std::string& procRoot,
                                         const std::vector<pid_t>& pids) {
    std::vector<ProcCreds> out;
    for (pid_t pid : pids) {
        const std::string path = procRoot + "/" + std::to_string(pid) + "/status";
        auto text = readWholeFile(path);
        if (!text) {
            return std::move(text).error();
        }
        auto creds = parseProcCreds(*text);
        if (!creds) {
            return std::move(creds).error().wrap(path);
        }
        creds->pid = pid;
        out.push_back(std::move(*creds));
    }
    return out;
}

std::optional<uid_t> plainOwner(const std::vector<ProcCreds>& creds) {
    if (creds.empty()) {
        return std::nullopt;
    }
    const uid_t owner = creds.front().uids[0];
    for (const auto& c : creds) {
        for (uid_t u : c.uids) {
            if (u != owner) {
                return std::nullopt;
            }
        }
        if (owner == 0) {
            continue;  // root's own workload: only root restores it anyway
        }
        for (gid_t g : c.gids) {
            if (g != c.gids[0]) {
                return std::nullopt;
            }
        }
        if (c.capPermitted != 0 || c.capEffective != 0 || c.capAmbient != 0) {
            return std::nullopt;
        }
    }
    return owner;
}

std::vector<gid_t> heldGids(const std::vector<ProcCreds>& creds) {
    std::set<gid_t> all;
    for (const auto& c : creds) {
        all.insert(std::begin(c.gids), std::end(c.gids));
        all.insert(c.groups.begin(), c.groups.end());
    }
    return {all.begin(), all.end()};
}

Result<pid_t> parseStatPpid(std::string_view text) {
    size_t close = text.rfind(')');
    if (close == std::string_view::npos) {
        return Error::withReason("parse /proc stat", "no ')' after the command");
    }
    std::string_view rest = text.substr(close + 1);
    // " S 123 ...": state, then ppid.
    size_t i = 0;
    auto skipSpaces = [&] {
        while (i < rest.size() && rest[i] == ' ') {
            ++i;
        }
    };
    skipSpaces();
    if (i >= rest.size() || rest[i] == ' ') {
        return Error::withReason("parse /proc stat", "no state after the command");
    }
    while (i < rest.size() && rest[i] != ' ') {
        ++i;
    }
    skipSpaces();
    pid_t ppid = 0;
    auto [ptr, ec] = std::from_chars(rest.data() + i, rest.data() + rest.size(), ppid);
    if (ec != std::errc() || ptr == rest.data() + i || ppid < 0) {
        return Error::withReason("parse /proc stat", "the ppid field is not a number");
    }
    return ppid;
}

Result<pid_t> findTreeRoot(const std::map<pid_t, pid_t>& parents) {
    if (parents.empty()) {
        return Error::withReason("find the process tree", "no process", std::errc::no_such_process);
    }
    std::vector<pid_t> roots;
    for (const auto& [pid, ppid] : parents) {
        if (parents.find(ppid) == parents.end() || ppid == pid) {
            roots.push_back(pid);
        }
    }
    if (roots.size() != 1) {
        std::string list;
        for (pid_t p : roots) {
            list += (list.empty() ? "" : ", ") + std::to_string(p);
        }
        return Error::withReason("find the process tree",
                                 std::to_string(roots.size()) +
                                     " processes have their parent outside the group (" + list +
                                     "); CRIU dumps exactly one process tree");
    }
    return roots.front();
}

Result<std::vector<pid_t>> subtreeProcesses(const CgroupFs& fs, const std::string& group) {
    std::vector<pid_t> all;
    auto own = fs.processes(group);
    if (!own) {
        return std::move(own).error();
    }
    all = std::move(*own);
    auto kids = fs.children(group);
    if (!kids) {
        return std::move(kids).error();
    }
    for (const auto& k : *kids) {
        auto sub = subtreeProcesses(fs, group.empty() ? k : group + "/" + k);
        if (!sub) {
            return sub;
        }
        all.insert(all.end(), sub->begin(), sub->end());
    }
    return all;
}

Result<std::vector<std::string>> readCommandLine(const std::string& procRoot, pid_t pid) {
    auto text = readWholeFile(procRoot + "/" + std::to_string(pid) + "/cmdline");
    if (!text) {
        return std::move(text).error();
    }
    std::vector<std::string> argv;
    size_t start = 0;
    while (start < text->size()) {
        size_t end = text->find('\0', start);
        if (end == std::string::npos) {
            end = text->size();
        }
        argv.push_back(text->substr(start, end - start));
        start = end + 1;
    }
    return argv;
}

Result<std::map<pid_t, pid_t>> readParents(const std::string& procRoot,
                                           const std::vector<pid_t>& pids) {
    std::map<pid_t, pid_t> parents;
    for (pid_t pid : pids) {
        const std::string path = procRoot + "/" + std::to_string(pid) + "/stat";
        auto text = readWholeFile(path);
        if (!text) {
            return std::move(text).error();
        }
        auto ppid = parseStatPpid(*text);
        if (!ppid) {
            return std::move(ppid).error().wrap(path);
        }
        parents[pid] = *ppid;
    }
    return parents;
}

std::vector<LostStdio> findLostStdio(const std::vector<StdioFd>& fds) {
    // Which access modes the tree holds for each pipe.
    std::map<std::string, std::set<int>> pipeModes;
    for (const auto& f : fds) {
        if (f.target.rfind("pipe:[", 0) == 0) {
            int mode = f.accessMode & O_ACCMODE;
            if (mode == O_RDWR) {
                pipeModes[f.target].insert(O_RDONLY);
                pipeModes[f.target].insert(O_WRONLY);
            } else {
                pipeModes[f.target].insert(mode);
            }
        }
    }
    std::vector<LostStdio> lost;
    for (const auto& f : fds) {
        std::string resource;
        if (f.terminal) {
            resource = f.ttyKey;
        } else if (f.target.rfind("pipe:[", 0) == 0) {
            if (pipeModes[f.target].size() < 2) {
                resource = f.target;
            }
        } else if (f.target.rfind("socket:[", 0) == 0) {
            resource = f.target;
        }
        if (!resource.empty()) {
            lost.push_back({f.pid, f.fd, resource});
        }
    }
    return lost;
}

Result<std::vector<StdioFd>> readStdio(const std::string& procRoot,
                                       const std::vector<pid_t>& pids) {
    std::vector<StdioFd> out;
    for (pid_t pid : pids) {
        const std::string base = procRoot + "/" + std::to_string(pid);
        for (int fd = 0; fd <= 2; ++fd) {
            const std::string link = base + "/fd/" + std::to_string(fd);
            char buf[4096];
            ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
            if (n < 0) {
                if (errno == ENOENT) {
                    continue;  // closed
                }
                return Error::fromErrno("readlink " + link);
            }
            StdioFd s;
            s.pid = pid;
            s.fd = fd;
            s.target.assign(buf, static_cast<size_t>(n));
            auto info = readWholeFile(base + "/fdinfo/" + std::to_string(fd));
            if (!info) {
                return std::move(info).error();
            }
            size_t at = info->find("flags:");
            if (at != std::string::npos) {
                // Octal, e.g. "flags:\t0100002".
                size_t i = at + 6;
                while (i < info->size() && ((*info)[i] == '\t' || (*info)[i] == ' ')) {
                    ++i;
                }
                unsigned flags = 0;
                std::from_chars(info->data() + i, info->data() + info->size(), flags, 8);
                s.accessMode = static_cast<int>(flags & O_ACCMODE);
            }
            struct stat st {};
            if (::stat(link.c_str(), &st) == 0 && S_ISCHR(st.st_mode) &&
                isTerminalMajor(major(st.st_rdev))) {
                s.terminal = true;
                s.ttyKey = "tty[" + hex(st.st_rdev) + ":" + hex(st.st_dev) + "]";
            }
            out.push_back(std::move(s));
        }
    }
    return out;
}

}  // namespace gov::runtime
