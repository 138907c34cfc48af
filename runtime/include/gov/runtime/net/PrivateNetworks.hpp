// Private networks for the exec'd workloads of a class (`network = "private"`): one
// bridge per class holding the gateway address of the class's subnet, one veth pair
// per workload (the host side on the bridge, the other side `eth0` in the workload's
// own network namespace with an address of the subnet and a default route through
// the gateway), NAT to the outside and the forwarding rules in table `ip governor`
// (Nftables.hpp), and IPv4 forwarding, which is enabled only while a private network
// exists and put back as it was found when the last one goes.
//
// Everything it creates says so in its alias (IFLA_IFALIAS), which is how a restarted
// daemon adopts it (adopt()) and how nothing else is ever touched:
//   bridge   gov-<class>     "governor class=<class> subnet=<cidr> forward=<0|1>"
//            (forward: net.ipv4.ip_forward as found before the first bridge)
//   workload gvw<cgroup id>  "governor class=<class> group=<group> addr=<address>"
// A workload's link pair disappears with its network namespace; disconnect() removes
// it at once, so that its address can be given again.
//
// Errors name the object and the cause ("create bridge gov-web: Operation not
// permitted"). Thread safety: none; one thread (the daemon's loop) uses it.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gov/Ipv4.hpp"
#include "gov/Result.hpp"
#include "gov/runtime/net/AddressAllocator.hpp"
#include "gov/runtime/net/Nftables.hpp"
#include "gov/runtime/net/Rtnetlink.hpp"

namespace gov::runtime::net {

// ---- names and aliases (pure) ----------------------------------------------------

// "gov-<class>" when it fits a network interface name (15 characters), else
// "gov-<first 6 characters>-<4 hex digits of a hash of the name>".
std::string bridgeName(const std::string& cls);
// "gvw<cgroup id in hex>".
std::string workloadLinkName(uint64_t cgroupId);

struct BridgeAlias {
    std::string cls;
    Ipv4Subnet subnet;
    bool forwardingWas = false;
    bool operator==(const BridgeAlias&) const = default;
};
std::string formatAlias(const BridgeAlias& a);
std::optional<BridgeAlias> parseBridgeAlias(const std::string& alias);

struct WorkloadAlias {
    std::string cls;
    std::string group;
    Ipv4Address address;
    bool operator==(const WorkloadAlias&) const = default;
};
std::string formatAlias(const WorkloadAlias& a);
std::optional<WorkloadAlias> parseWorkloadAlias(const std::string& alias);

// ---- the networks -------------------------------------------------------------------

struct PrivateNetworkSpec {
    std::string cls;
    Ipv4Subnet subnet;
};

class PrivateNetworks {
  public:
    // `procRoot` is where /proc is (the workload's /proc/<pid>/ns/net and
    // /proc/sys/net/ipv4/ip_forward are found below it).
    static Result<PrivateNetworks> open(std::string procRoot = "/proc");

    // Takes over the bridges and workload links found with Governor's aliases (after
    // a restart): their addresses are reserved again. One line per object adopted,
    // for the log.
    Result<std::vector<std::string>> adopt();

    // Makes the private networks exactly `wanted`, plus those of other classes that
    // still have workloads (they go when their last workload does): bridges created
    // (or recreated when their subnet changed and no workload is on them) or
    // removed, the NAT table rewritten, forwarding enabled or put back. Returns one
    // line per change, for the log (e.g. "enabled IPv4 forwarding
    // (net.ipv4.ip_forward was 0) for the private networks"). Stops at the first
    // error, naming it; call again to retry.
    Result<std::vector<std::string>> apply(const std::vector<PrivateNetworkSpec>& wanted);

    struct Connected {
        Ipv4Address address;
        std::vector<std::string> notes;  // what did not work but need not fail the exec
    };
    // Joins the network namespace of process `pid` (a workload not yet running its
    // command) to the private network of `cls`: a veth pair, an address, the default
    // route, lo up, and fq as the root qdisc of its eth0 (what paced egress limits
    // need; a kernel without fq gets a note). Everything is undone on failure.
    Result<Connected> connect(const std::string& cls, const std::string& group, uint64_t cgroupId,
                              pid_t pid);
    // The workload's group is gone: its link pair is removed and its address freed.
    // Unknown ids are ignored.
    Result<void> disconnect(uint64_t cgroupId);
    // Disconnects the workloads whose cgroup ids are not in `alive`, e.g. after a
    // restart (their groups went while no daemon watched). Returns how many.
    Result<size_t> disconnectAllBut(const std::vector<uint64_t>& alive);

    // Removes every bridge, workload link and the NAT table, and puts forwarding
    // back (a daemon that stops with no workload left). Lines for the log.
    Result<std::vector<std::string>> removeAll();

    // The classes with a private network now, and their workloads.
    std::vector<std::string> classes() const;
    size_t workloads(const std::string& cls) const;
    std::optional<Ipv4Address> addressOf(uint64_t cgroupId) const;

  private:
    struct Network {
        std::string bridge;
        AddressAllocator addresses;
        bool forwardingWas = false;
    };
    struct Workload {
        std::string cls;
        std::string group;
        std::string link;
        Ipv4Address address;
    };
    PrivateNetworks(Rtnetlink rt, Nftables nft, std::string procRoot)
        : rt_(std::move(rt)), nft_(std::move(nft)), procRoot_(std::move(procRoot)) {}

    Result<void> createBridge(const PrivateNetworkSpec& spec, bool forwardingWas);
    Result<void> removeBridge(const std::string& cls);
    Result<void> writeNat();
    Result<std::vector<std::string>> settleForwarding();
    Result<bool> forwarding() const;
    Result<void> setForwarding(bool on) const;
    std::string forwardingPath() const { return procRoot_ + "/sys/net/ipv4/ip_forward"; }

    Rtnetlink rt_;
    Nftables nft_;
    std::string procRoot_;
    std::map<std::string, Network> networks_;  // by class
    std::map<uint64_t, Workload> workloads_;   // by cgroup id
    bool forwardingEnabledByUs_ = false;
};

}  // namespace gov::runtime::net
