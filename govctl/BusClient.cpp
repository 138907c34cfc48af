#include "BusClient.hpp"

#include <cstdlib>
#include <exception>

#include "Command.hpp"

namespace gov::govctl {

GroupRow toGroupRow(const GroupStruct& s) {
    GroupRow r;
    r.group = s.get<0>();
    r.className = s.get<1>();
    r.frozen = s.get<2>();
    r.killed = s.get<3>();
    r.cpuUsageUsec = s.get<4>();
    r.memoryBytes = s.get<5>();
    r.ioReadBytes = s.get<6>();
    r.ioWriteBytes = s.get<7>();
    r.tasks = s.get<8>();
    return r;
}

std::unique_ptr<sdbus::IConnection> connectBus() {
    const char* address = std::getenv(kBusAddressEnv);
    if (address && *address)
        return sdbus::createSessionBusConnectionWithAddress(address);
    return sdbus::createSystemBusConnection();
}

int exitCodeFor(const sdbus::Error& e) {
    return exitCodeForError(e.getName());
}

std::string messageFor(const sdbus::Error& e) {
    return describeError(e.getName(), e.getMessage(), busDescription());
}

int withDaemon(CommandContext& ctx, const std::string& command,
               const std::function<int(GovernorProxy&)>& body) {
    try {
        auto connection = connectBus();
        GovernorProxy proxy(*connection);
        return body(proxy);
    } catch (const sdbus::Error& e) {
        ctx.err << "govctl " << command << ": " << messageFor(e) << "\n";
        return exitCodeFor(e);
    }
}

int runControl(CommandContext& ctx, const std::string& command, const std::string& pastTense,
               const std::vector<std::string>& targets,
               void (GovernorProxy::*method)(const std::string&)) {
    return withDaemon(ctx, command, [&](GovernorProxy& proxy) {
        for (const auto& target : targets) {
            (proxy.*method)(target);
            ctx.out << pastTense << " " << target << "\n";
        }
        return kExitOk;
    });
}

}  // namespace gov::govctl
