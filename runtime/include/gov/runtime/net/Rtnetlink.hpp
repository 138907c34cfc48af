// Rtnetlink: the few route-netlink requests private networks need (links, bridges,
// veth pairs, addresses, the default route, the root qdisc), over one NETLINK_ROUTE
// socket opened with libmnl. A socket belongs to the network namespace it was
// opened in: open() for the caller's, openIn() for another one (e.g. a workload's
// /proc/<pid>/ns/net), so a workload's side is configured without entering it.
//
// libmnl rather than libnl-route-3: it is already what libnftables (and so Governor's
// NAT) runs on, it is small and kept by the netfilter project, and Governor needs a
// handful of plain messages, not libnl's object caches.
//
// Errors name the request and the object with the kernel's errno:
// "create bridge gov-adhoc: Operation not permitted", "add 10.89.0.2/24 to eth0 in
// the workload's namespace: File exists".
// Thread safety: none; move-only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gov/Ipv4.hpp"
#include "gov/Result.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace gov::runtime::net {

struct LinkInfo {
    int index = 0;
    std::string name;
    std::string kind;   // "bridge", "veth", ... ("" for a physical device or lo)
    int master = 0;     // the bridge's index, 0 for none
    std::string alias;  // IFLA_IFALIAS ("" when unset)
    bool up = false;    // IFF_UP
};

class Rtnetlink {
  public:
    // A socket in the caller's network namespace.
    static Result<Rtnetlink> open();
    // A socket in the network namespace of `netnsFd` (opened on a short-lived thread
    // that joins that namespace; the caller's namespaces do not change). `what`
    // names the namespace in errors ("the workload's namespace").
    static Result<Rtnetlink> openIn(int netnsFd, const std::string& what);

    Rtnetlink(Rtnetlink&&) noexcept;
    Rtnetlink& operator=(Rtnetlink&&) noexcept;
    ~Rtnetlink();

    Result<std::vector<LinkInfo>> links();
    // nullopt when there is no such link.
    Result<std::optional<LinkInfo>> link(const std::string& name);

    Result<void> addBridge(const std::string& name);
    // A veth pair: `name` here, `peer` in the network namespace of process
    // `peerNetnsPid`.
    Result<void> addVethPair(const std::string& name, const std::string& peer, pid_t peerNetnsPid);
    // Deletes a link (a veth's peer goes with it); a missing link is success.
    Result<void> deleteLink(const std::string& name);
    Result<void> setUp(const std::string& name);
    Result<void> setMaster(const std::string& name, const std::string& master);
    Result<void> setAlias(const std::string& name, const std::string& alias);
    Result<void> addAddress(const std::string& name, Ipv4Address address, uint8_t prefix);
    Result<void> addDefaultRoute(Ipv4Address gateway);

    // The kind of the link's root qdisc ("fq", "noqueue", "mq", ...).
    Result<std::string> rootQdisc(const std::string& name);
    // Makes fq the link's root qdisc (replacing what was there).
    Result<void> replaceRootQdiscWithFq(const std::string& name);

  private:
    Rtnetlink(mnl_socket* socket, std::string where);
    // Sends one request and reads until its ack (or, for a dump, until DONE),
    // handing each data message to `onMessage` (libmnl's mnl_cb_t). Errors:
    // "<what>: <errno text>".
    Result<void> request(nlmsghdr* message, const std::string& what,
                         int (*onMessage)(const nlmsghdr* nlh, void* data) = nullptr,
                         void* data = nullptr);
    Result<int> indexOf(const std::string& name);

    std::unique_ptr<mnl_socket, int (*)(mnl_socket*)> socket_{nullptr, nullptr};
    std::string where_;  // "" or " in the workload's namespace", for messages
    uint32_t seq_ = 0;
};

}  // namespace gov::runtime::net
