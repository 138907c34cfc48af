#include "gov/core/Authorization.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <optional>

namespace gov::core {

namespace {

class ServiceCategory : public std::error_category {
  public:
    const char* name() const noexcept override { return "governor-service"; }
    std::string message(int code) const override {
        switch (static_cast<ServiceErrc>(code)) {
            case ServiceErrc::UnknownClass:
                return "unknown class";
            case ServiceErrc::NoSuchGroup:
                return "no such class or group";
            case ServiceErrc::Denied:
                return "permission denied";
            case ServiceErrc::CommandNotFound:
                return "command not found";
            case ServiceErrc::CannotExecute:
                return "cannot execute";
            case ServiceErrc::InvalidArgument:
                return "invalid argument";
            case ServiceErrc::Frozen:
                return "the class is frozen";
        }
        return "unknown error";
    }
};

// getpwuid_r/getgrgid_r with a buffer that grows on ERANGE (large groups).
std::optional<std::string> userName(uid_t uid) {
    std::vector<char> buf(1024);
    for (;;) {
        struct passwd pw {};
        struct passwd* found = nullptr;
        int r = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
        if (r == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 4);
            continue;
        }
        if (r != 0 || !found)
            return std::nullopt;
        return std::string(found->pw_name);
    }
}

std::optional<std::string> groupName(gid_t gid) {
    std::vector<char> buf(1024);
    for (;;) {
        struct group gr {};
        struct group* found = nullptr;
        int r = ::getgrgid_r(gid, &gr, buf.data(), buf.size(), &found);
        if (r == ERANGE && buf.size() < (1u << 24)) {
            buf.resize(buf.size() * 4);
            continue;
        }
        if (r != 0 || !found)
            return std::nullopt;
        return std::string(found->gr_name);
    }
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// The first number after `key` on its line ("Uid:\t1000\t1000\t..."), and for
// "Groups:" every number.
std::vector<uint32_t> procNumbers(const std::string& status, const std::string& key) {
    std::vector<uint32_t> out;
    auto at = status.find("\n" + key);
    if (at == std::string::npos)
        return out;
    at += key.size() + 1;
    auto end = status.find('\n', at);
    const char* p = status.data() + at;
    const char* last = status.data() + (end == std::string::npos ? status.size() : end);
    while (p < last) {
        while (p < last && (*p == ' ' || *p == '\t'))
            ++p;
        uint32_t v = 0;
        auto [next, ec] = std::from_chars(p, last, v);
        if (ec != std::errc())
            break;
        out.push_back(v);
        p = next;
    }
    return out;
}

}  // namespace

const std::error_category& serviceCategory() {
    static const ServiceCategory kCategory;
    return kCategory;
}

std::error_code make_error_code(ServiceErrc e) {
    return {static_cast<int>(e), serviceCategory()};
}

Error serviceError(ServiceErrc code, std::string text) {
    return Error(make_error_code(code), std::move(text));
}

int serviceCode(const Error& error) {
    return error.code().category() == serviceCategory() ? error.code().value() : 0;
}

std::string serviceMessage(const Error& error) {
    // Our own errors carry the whole sentence in the context; the category's text
    // ("permission denied") would only repeat it.
    return serviceCode(error) != 0 ? error.context() : error.message();
}

std::string describeCaller(const Caller& caller) {
    std::string s = "uid " + std::to_string(caller.uid);
    if (auto name = userName(caller.uid))
        s += " (" + *name + ")";
    return s;
}

bool isAllowed(const policies::Principals& who, const Caller& caller) {
    if (caller.uid == 0)
        return true;
    if (!who.users.empty()) {
        if (auto name = userName(caller.uid); name && contains(who.users, *name))
            return true;
    }
    if (!who.groups.empty()) {
        std::vector<gid_t> gids = caller.groups;
        gids.push_back(caller.gid);
        for (gid_t gid : gids) {
            if (auto name = groupName(gid); name && contains(who.groups, *name))
                return true;
        }
    }
    return false;
}

Result<void> authorizeExec(const policies::Policy& policy, const std::string& className,
                           const Caller& caller) {
    const auto* cls = policy.find(className);
    if (!cls) {
        return serviceError(ServiceErrc::UnknownClass,
                            "unknown class '" + className + "' (not in the policy in force)");
    }
    if (!isAllowed(cls->execAllowed, caller)) {
        return serviceError(ServiceErrc::Denied,
                            describeCaller(caller) + " may not exec into class " + className);
    }
    return success();
}

Result<void> authorizeControl(const policies::Policy& policy, const std::string& className,
                              const std::string& action, const std::string& object,
                              const Caller& caller) {
    if (isAllowed(policy.admins, caller))
        return success();
    if (const auto* cls = policy.find(className); cls && isAllowed(cls->controlAllowed, caller))
        return success();
    return serviceError(ServiceErrc::Denied,
                        describeCaller(caller) + " may not " + action + " " + object);
}

Result<void> authorizeAdmin(const policies::Policy& policy, const std::string& action,
                            const Caller& caller) {
    if (isAllowed(policy.admins, caller))
        return success();
    return serviceError(ServiceErrc::Denied, describeCaller(caller) + " may not " + action);
}

std::optional<ProcIds> readProcIds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    if (!in)
        return std::nullopt;
    std::string status = "\n" + std::string(std::istreambuf_iterator<char>(in), {});
    auto uids = procNumbers(status, "Uid:");
    auto gids = procNumbers(status, "Gid:");
    if (uids.empty() || gids.empty())
        return std::nullopt;
    ProcIds ids;
    ids.uid = uids[0];
    ids.gid = gids[0];
    for (uint32_t g : procNumbers(status, "Groups:"))
        ids.groups.push_back(g);
    return ids;
}

}  // namespace gov::core
