#include "gov/daemon/BusService.hpp"

#include <sdbus-c++/sdbus-c++.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <functional>
#include <map>
#include <optional>

#include "gov/LogText.hpp"
#include "gov/core/Authorization.hpp"
#include "gov/core/Queries.hpp"
#include "gov/daemon/BusLoop.hpp"
// Generated at build time from governor/dbus/org.governor.Manager1.xml.
#include "gov/dbus/Manager1Adaptor.h"

namespace gov::daemon {

using namespace gov::core;  // the adaptor is a thin layer over the core
using namespace gov::dbus;

namespace {

using GroupStruct = sdbus::Struct<std::string, std::string, bool, bool, uint64_t, uint64_t,
                                  uint64_t, uint64_t, uint32_t>;

const char* errorName(int serviceCode) {
    switch (static_cast<ServiceErrc>(serviceCode)) {
        case ServiceErrc::UnknownClass:
            return kErrorUnknownClass;
        case ServiceErrc::NoSuchGroup:
            return kErrorNoSuchGroup;
        case ServiceErrc::Denied:
            return kErrorPermissionDenied;
        case ServiceErrc::CommandNotFound:
            return kErrorCommandNotFound;
        case ServiceErrc::CannotExecute:
            return kErrorCannotExecute;
        case ServiceErrc::InvalidArgument:
            return kErrorInvalidArgument;
        case ServiceErrc::Frozen:
            return kErrorFrozen;
    }
    return kErrorFailed;
}

// The D-Bus error for a service error (its reply to the caller).
[[noreturn]] void fail(const Error& error) {
    throw sdbus::Error(errorName(serviceCode(error)), serviceMessage(error));
}

GroupStruct toStruct(const GroupInfo& g) {
    return GroupStruct(g.group, g.className, g.frozen, g.killed, g.cpuUsageUsec, g.memoryBytes,
                       g.ioReadBytes, g.ioWriteBytes, g.tasks);
}

class ManagerAdaptor final : public sdbus::AdaptorInterfaces<org::governor::Manager1_adaptor> {
  public:
    ManagerAdaptor(sdbus::IConnection& connection, Governor& governor, ExecService& exec,
                   BusOptions& options)
        : AdaptorInterfaces(connection, kBusObjectPath),
          busDriver_(
              sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus")),
          governor_(governor),
          exec_(exec),
          options_(options) {
        registerAdaptor();
    }
    ~ManagerAdaptor() { unregisterAdaptor(); }

    // WorkloadExited goes to the client that ran Exec, not to the whole bus: an
    // exit status is its business (and a unicast signal needs no match rule, one
    // bus round trip fewer for `govctl exec`).
    void sendWorkloadExited(const ExecExit& exit) {
        auto signal = getObject().createSignal(kBusInterface, "WorkloadExited");
        if (!exit.requester.empty())
            signal.setDestination(exit.requester);
        signal << exit.group << static_cast<uint32_t>(exit.pid) << static_cast<int32_t>(exit.status)
               << static_cast<int32_t>(exit.signal);
        getObject().emitSignal(signal);
    }

  private:
    // Who sent the message being processed, from the bus: ONE
    // GetConnectionCredentials call to the bus daemon (uid and supplementary
    // groups as the kernel reported them when the peer connected, and its pid),
    // where sd-bus's per-field queries would make one round trip per field. The
    // primary gid is not in that answer; it is read from /proc/<pid>/status, as
    // sd-bus itself would, after checking that the process there still has the
    // caller's uid. Never from the method's arguments.
    Caller caller() {
        const sdbus::Message* msg = getObject().getCurrentlyProcessedMessage();
        if (!msg)
            throw sdbus::Error(kErrorFailed, "no current message");
        Caller c;
        try {
            std::map<std::string, sdbus::Variant> creds;
            busDriver_->callMethod("GetConnectionCredentials")
                .onInterface("org.freedesktop.DBus")
                .withArguments(msg->getSender())
                .storeResultsTo(creds);
            auto uid = creds.find("UnixUserID");
            auto pid = creds.find("ProcessID");
            if (uid == creds.end() || pid == creds.end())
                throw sdbus::Error(kErrorFailed, "the bus did not say uid and pid");
            c.uid = uid->second.get<uint32_t>();
            c.pid = static_cast<pid_t>(pid->second.get<uint32_t>());
            auto ids = readProcIds(c.pid);
            if (!ids || ids->uid != c.uid) {
                throw sdbus::Error(kErrorFailed, "process " + std::to_string(c.pid) +
                                                     " is gone or is no longer uid " +
                                                     std::to_string(c.uid));
            }
            c.gid = ids->gid;
            if (auto groups = creds.find("UnixGroupIDs"); groups != creds.end()) {
                for (uint32_t g : groups->second.get<std::vector<uint32_t>>())
                    c.groups.push_back(g);
            } else {
                c.groups = ids->groups;  // bus daemons before 1.11
            }
        } catch (const sdbus::Error& e) {
            // Without an identity nothing is allowed.
            throw sdbus::Error(
                kErrorPermissionDenied,
                "cannot get the caller's credentials from the bus: " + e.getMessage());
        }
        return c;
    }

    // Asynchronous: the reply is sent when the workload has exec'd, which for a
    // child of another uid happens after this returns (ExecService waits on the
    // loop). The descriptors are only needed until exec() returns (the child has
    // its own copies by then).
    void Exec(sdbus::Result<std::string, uint32_t>&& result, std::string className,
              std::vector<std::string> argv, std::vector<std::string> env, std::string cwd,
              sdbus::UnixFd in, sdbus::UnixFd out, sdbus::UnixFd err) override {
        ExecRequest req;
        req.className = std::move(className);
        req.argv = std::move(argv);
        req.env = std::move(env);
        req.cwd = std::move(cwd);
        req.stdinFd = in.get();
        req.stdoutFd = out.get();
        req.stderrFd = err.get();
        req.requester = getObject().getCurrentlyProcessedMessage()->getSender();
        auto pending = std::make_shared<sdbus::Result<std::string, uint32_t>>(std::move(result));
        exec_.exec(req, caller(), [pending, this](Result<ExecStarted> started) {
            try {
                if (started) {
                    pending->returnResults(started->group, static_cast<uint32_t>(started->pid));
                } else {
                    const Error& e = started.error();
                    pending->returnError(
                        sdbus::Error(errorName(serviceCode(e)), serviceMessage(e)));
                }
            } catch (const sdbus::Error& e) {
                spdlog::error("reply to Exec: {}", e.getMessage());
            }
            // A reply sent from outside the loop's processing: flush it now.
            if (onReplied_)
                onReplied_();
        });
    }

    void SignalWorkload(const std::string& group, const int32_t& signal) override {
        auto sent = exec_.signal(group, signal, caller());
        if (!sent)
            fail(sent.error());
    }

    std::vector<sdbus::Struct<std::string, std::string, std::vector<std::string>, uint32_t, bool>>
    ListClasses() override {
        std::vector<
            sdbus::Struct<std::string, std::string, std::vector<std::string>, uint32_t, bool>>
            out;
        for (const auto& c : listClasses(governor_))
            out.emplace_back(c.name, c.description, c.namespaces, c.workloads, c.frozen);
        return out;
    }

    std::vector<GroupStruct> ListGroups() override {
        std::vector<GroupStruct> out;
        for (const auto& g : listGroups(governor_))
            out.push_back(toStruct(g));
        return out;
    }

    std::tuple<GroupStruct, std::vector<uint32_t>> GetGroup(const std::string& target) override {
        auto info = groupInfo(governor_, target);
        if (!info)
            fail(info.error());
        std::vector<uint32_t> pids;
        for (pid_t p : groupPids(governor_, info->group))
            pids.push_back(static_cast<uint32_t>(p));
        return {toStruct(*info), pids};
    }

    std::vector<sdbus::Struct<std::string, std::string, std::string, std::string, std::string, bool,
                              std::string>>
    GetClassLimits(const std::string& className) override {
        auto limits = classLimits(governor_, className);
        if (!limits)
            fail(limits.error());
        std::vector<sdbus::Struct<std::string, std::string, std::string, std::string, std::string,
                                  bool, std::string>>
            out;
        for (const auto& l : *limits)
            out.emplace_back(l.key, l.value, l.file, l.group, l.source, l.enforced, l.reason);
        return out;
    }

    // freeze/thaw/kill: authorize against the class that owns the target.
    void control(ControlAction action, const std::string& target) {
        auto cls = classOfTarget(governor_, target);
        if (!cls)
            fail(cls.error());
        const bool isClass = *cls == target;
        const Caller who = caller();
        auto allowed = authorizeControl(governor_.policy(), *cls, controlVerb(action),
                                        (isClass ? "class " : "group ") + target, who);
        if (!allowed) {
            spdlog::warn("{}", logEscaped(serviceMessage(allowed.error())));
            fail(allowed.error());
        }
        // A slice named as "adhoc.slice" is the class itself for Governor.
        auto done = governor_.control(action, governor_.workloads().count(target) ? target : *cls);
        if (!done)
            fail(done.error());
        spdlog::info("{} {} by {}", controlVerb(action), logQuoted(target), describeCaller(who));
    }
    void Freeze(const std::string& target) override { control(ControlAction::Freeze, target); }
    void Thaw(const std::string& target) override { control(ControlAction::Thaw, target); }
    void Kill(const std::string& target) override { control(ControlAction::Kill, target); }

    std::tuple<bool, std::vector<std::string>> Reload() override {
        const Caller who = caller();
        auto allowed = authorizeAdmin(governor_.policy(), "reload the policy", who);
        if (!allowed) {
            spdlog::warn("{}", logEscaped(serviceMessage(allowed.error())));
            fail(allowed.error());
        }
        spdlog::info("reload requested over D-Bus by {}", describeCaller(who));
        ReloadOutcome outcome = options_.reload ? options_.reload() : governor_.reload();
        return {outcome.applied, outcome.messages};
    }

    std::tuple<bool, std::vector<std::string>> CheckPolicy(const std::string& text,
                                                           const std::string& name) override {
        auto checked = checkPolicy(text, name);
        return {checked.valid, checked.diagnostics};
    }

    std::tuple<bool, std::vector<std::string>,
               std::vector<sdbus::Struct<std::string, std::string, std::string, std::string,
                                         std::string, std::string>>,
               std::vector<std::string>>
    DiffPolicy(const std::string& text, const std::string& name) override {
        auto diff = diffPolicy(governor_, text, name);
        if (!diff)
            fail(diff.error());
        std::vector<sdbus::Struct<std::string, std::string, std::string, std::string, std::string,
                                  std::string>>
            actions;
        for (const auto& a : diff->actions) {
            std::string value = a.value;
            if (a.kind == ActionKind::EnableControllers && value.empty()) {
                for (const auto& c : a.controllers)
                    value += (value.empty() ? "+" : " +") + c;
            }
            actions.emplace_back(actionKindName(a.kind), a.group, a.file, a.oldValue, value,
                                 describe(a));
        }
        return {diff->valid, diff->diagnostics, actions, diff->unenforceable};
    }

    std::string Version() override { return options_.version; }

  public:
    // Called after an asynchronous reply was sent (BusService: wakes the loop).
    std::function<void()> onReplied_;

  private:
    std::unique_ptr<sdbus::IProxy> busDriver_;  // org.freedesktop.DBus, for credentials
    Governor& governor_;
    ExecService& exec_;
    BusOptions& options_;
};

}  // namespace

struct BusService::Impl {
    BusOptions options;
    std::unique_ptr<sdbus::IConnection> connection;
    std::unique_ptr<ManagerAdaptor> adaptor;
    std::unique_ptr<BusLoop> loop;
    ExecService* exec = nullptr;
};

BusService::BusService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BusService::~BusService() {
    stop();
    if (impl_->exec)
        impl_->exec->onExit = nullptr;
    impl_->loop.reset();
    impl_->adaptor.reset();
    impl_->connection.reset();
}

void BusService::stop() {
    if (impl_->loop)
        impl_->loop->stop();
}

Result<std::unique_ptr<BusService>> BusService::start(boost::asio::io_context& io,
                                                      Governor& governor, ExecService& exec,
                                                      BusOptions options) {
    auto impl = std::make_unique<Impl>();
    impl->options = std::move(options);
    const std::string where =
        impl->options.address == "system" ? std::string("the system bus") : impl->options.address;
    try {
        impl->connection =
            impl->options.address == "system"
                ? sdbus::createSystemBusConnection()
                : sdbus::createSessionBusConnectionWithAddress(impl->options.address);
        impl->adaptor =
            std::make_unique<ManagerAdaptor>(*impl->connection, governor, exec, impl->options);
        impl->connection->requestName(impl->options.name);
    } catch (const sdbus::Error& e) {
        return Error::withReason("D-Bus service " + impl->options.name + " on " + where,
                                 e.getName() + ": " + e.getMessage(),
                                 std::errc::connection_refused);
    }
    impl->loop = std::make_unique<BusLoop>(io, *impl->connection);
    impl->exec = &exec;
    Impl* raw = impl.get();
    impl->adaptor->onReplied_ = [raw] { raw->loop->wake(); };
    exec.onExit = [raw](const ExecExit& exit) {
        try {
            raw->adaptor->sendWorkloadExited(exit);
        } catch (const sdbus::Error& e) {
            spdlog::error("emit WorkloadExited for {}: {}", exit.group, e.getMessage());
        }
        // Emitted outside the loop's processing: flush it now.
        raw->loop->wake();
    };
    impl->loop->start();
    spdlog::info("D-Bus: {} on {} ({} {})", impl->options.name, where, kBusObjectPath,
                 kBusInterface);
    return std::unique_ptr<BusService>(new BusService(std::move(impl)));
}

}  // namespace gov::daemon
