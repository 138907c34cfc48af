#include "gov/runtime/net/PrivateNetworks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>

#include "gov/runtime/Fd.hpp"

namespace gov::runtime::net {

namespace {

constexpr size_t kIfNameMax = 15;  // IFNAMSIZ - 1

// "key=value" fields of an alias, in order; nullopt when it does not start with
// "governor " or a field has no '='.
std::optional<std::map<std::string, std::string>> aliasFields(const std::string& alias) {
    const std::string prefix = "governor ";
    if (alias.rfind(prefix, 0) != 0) {
        return std::nullopt;
    }
    std::map<std::string, std::string> fields;
    size_t pos = prefix.size();
    while (pos < alias.size()) {
        size_t end = alias.find(' ', pos);
        if (end == std::string::npos)
            end = alias.size();
        std::string field = alias.substr(pos, end - pos);
        size_t eq = field.find('=');
        if (eq == std::string::npos || eq == 0) {
            return std::nullopt;
        }
        fields[field.substr(0, eq)] = field.substr(eq + 1);
        pos = end + 1;
    }
    return fields;
}

Result<void> writeFile(const std::string& path, const std::string& value) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid() ||
        ::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
        return Error::fromErrno("write " + path);
    }
    return success();
}

}  // namespace

std::string bridgeName(const std::string& cls) {
    std::string name = "gov-" + cls;
    if (name.size() <= kIfNameMax) {
        return name;
    }
    uint32_t h = 2166136261u;  // FNV-1a
    for (unsigned char c : cls) {
        h = (h ^ c) * 16777619u;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "%04x", h & 0xffffu);
    return "gov-" + cls.substr(0, 6) + "-" + hex;
}

std::string workloadLinkName(uint64_t cgroupId) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(cgroupId));
    return std::string("gvw") + hex;
}

std::string formatAlias(const BridgeAlias& a) {
    return "governor class=" + a.cls + " subnet=" + a.subnet.str() +
           " forward=" + (a.forwardingWas ? "1" : "0");
}

std::optional<BridgeAlias> parseBridgeAlias(const std::string& alias) {
    auto f = aliasFields(alias);
    if (!f || f->size() != 3 || !f->count("class") || !f->count("subnet") || !f->count("forward")) {
        return std::nullopt;
    }
    auto subnet = Ipv4Subnet::parse(f->at("subnet"));
    const std::string& fw = f->at("forward");
    if (!subnet || (fw != "0" && fw != "1") || f->at("class").empty()) {
        return std::nullopt;
    }
    return BridgeAlias{f->at("class"), *subnet, fw == "1"};
}

std::string formatAlias(const WorkloadAlias& a) {
    return "governor class=" + a.cls + " group=" + a.group + " addr=" + a.address.str();
}

std::optional<WorkloadAlias> parseWorkloadAlias(const std::string& alias) {
    auto f = aliasFields(alias);
    if (!f || f->size() != 3 || !f->count("class") || !f->count("group") || !f->count("addr")) {
        return std::nullopt;
    }
    auto address = Ipv4Address::parse(f->at("addr"));
    if (!address || f->at("class").empty() || f->at("group").empty()) {
        return std::nullopt;
    }
    return WorkloadAlias{f->at("class"), f->at("group"), *address};
}

Result<PrivateNetworks> PrivateNetworks::open(std::string procRoot) {
    auto rt = Rtnetlink::open();
    if (!rt) {
        return std::move(rt).error();
    }
    auto nft = Nftables::open();
    if (!nft) {
        return std::move(nft).error();
    }
    return PrivateNetworks(std::move(*rt), std::move(*nft), std::move(procRoot));
}

Result<bool> PrivateNetworks::forwarding() const {
    Fd fd(::open(forwardingPath().c_str(), O_RDONLY | O_CLOEXEC));
    char c = 0;
    if (!fd.valid() || ::read(fd.get(), &c, 1) != 1) {
        return Error::fromErrno("read " + forwardingPath());
    }
    return c == '1';
}

Result<void> PrivateNetworks::setForwarding(bool on) const {
    return writeFile(forwardingPath(), on ? "1" : "0");
}

Result<std::vector<std::string>> PrivateNetworks::adopt() {
    std::vector<std::string> notes;
    auto links = rt_.links();
    if (!links) {
        return std::move(links).error();
    }
    for (const auto& l : *links) {
        auto b = parseBridgeAlias(l.alias);
        if (!b || l.kind != "bridge" || networks_.count(b->cls)) {
            continue;
        }
        auto addresses = AddressAllocator::create(b->subnet);
        if (!addresses) {
            continue;  // not one we could have made
        }
        networks_.emplace(b->cls, Network{l.name, std::move(*addresses), b->forwardingWas});
        notes.push_back("adopted bridge " + l.name + " of class " + b->cls + " (" +
                        b->subnet.str() + ")");
    }
    for (const auto& l : *links) {
        auto w = parseWorkloadAlias(l.alias);
        if (!w || l.kind != "veth" || l.name.rfind("gvw", 0) != 0) {
            continue;
        }
        uint64_t id = 0;
        auto r = std::from_chars(l.name.data() + 3, l.name.data() + l.name.size(), id, 16);
        auto net = networks_.find(w->cls);
        if (r.ec != std::errc() || net == networks_.end() ||
            !net->second.addresses.reserve(w->address)) {
            // An orphan: its class's network is gone or the address is not its.
            GOV_TRY(rt_.deleteLink(l.name));
            notes.push_back("removed orphaned workload link " + l.name + " (" + l.alias + ")");
            continue;
        }
        workloads_[id] = Workload{w->cls, w->group, l.name, w->address};
        notes.push_back("adopted workload link " + l.name + " of " + w->group + " (" +
                        w->address.str() + ")");
    }
    if (!networks_.empty()) {
        auto on = forwarding();
        if (on && *on) {
            // Whether we enabled it is in the bridges' aliases.
            forwardingEnabledByUs_ = !networks_.begin()->second.forwardingWas;
        }
    }
    return notes;
}

Result<void> PrivateNetworks::createBridge(const PrivateNetworkSpec& spec, bool forwardingWas) {
    auto addresses = AddressAllocator::create(spec.subnet);
    if (!addresses) {
        return std::move(addresses).error().wrap("private network of class " + spec.cls);
    }
    const std::string name = bridgeName(spec.cls);
    GOV_TRY(rt_.addBridge(name));
    auto configure = [&]() -> Result<void> {
        GOV_TRY(rt_.setAlias(name, formatAlias(BridgeAlias{spec.cls, spec.subnet, forwardingWas})));
        GOV_TRY(rt_.addAddress(name, addresses->gateway(), spec.subnet.prefix));
        return rt_.setUp(name);
    };
    if (auto r = configure(); !r) {
        (void)rt_.deleteLink(name);
        return std::move(r).error();
    }
    networks_.emplace(spec.cls, Network{name, std::move(*addresses), forwardingWas});
    return success();
}

Result<void> PrivateNetworks::removeBridge(const std::string& cls) {
    auto it = networks_.find(cls);
    if (it == networks_.end()) {
        return success();
    }
    GOV_TRY(rt_.deleteLink(it->second.bridge));
    networks_.erase(it);
    return success();
}

Result<void> PrivateNetworks::writeNat() {
    std::vector<NatNetwork> nat;
    for (const auto& [cls, n] : networks_) {
        nat.push_back(NatNetwork{n.bridge, n.addresses.subnet()});
    }
    return nft_.run(natRuleset(nat), nat.empty() ? "remove table ip governor"
                                                 : "write table ip governor (NAT and forwarding)");
}

Result<std::vector<std::string>> PrivateNetworks::settleForwarding() {
    std::vector<std::string> notes;
    auto on = forwarding();
    if (!on) {
        return std::move(on).error();
    }
    if (!networks_.empty() && !*on) {
        GOV_TRY(setForwarding(true));
        forwardingEnabledByUs_ = true;
        notes.push_back(
            "enabled IPv4 forwarding (net.ipv4.ip_forward was 0) for the private networks");
    } else if (networks_.empty() && *on && forwardingEnabledByUs_) {
        GOV_TRY(setForwarding(false));
        forwardingEnabledByUs_ = false;
        notes.push_back("put IPv4 forwarding back to 0: no private network is left");
    }
    return notes;
}

Result<std::vector<std::string>> PrivateNetworks::apply(
    const std::vector<PrivateNetworkSpec>& wanted) {
    std::vector<std::string> notes;
    std::set<std::string> wantedClasses;
    for (const auto& spec : wanted) {
        wantedClasses.insert(spec.cls);
    }
    // Refused before anything changes (the policy compiler refuses it too).
    for (size_t i = 0; i < wanted.size(); ++i) {
        for (size_t j = i + 1; j < wanted.size(); ++j) {
            if (wanted[i].subnet.overlaps(wanted[j].subnet)) {
                return Error::withReason(
                    "private networks of classes " + wanted[i].cls + " and " + wanted[j].cls,
                    "subnets " + wanted[i].subnet.str() + " and " + wanted[j].subnet.str() +
                        " overlap");
            }
        }
    }
    // Gone from the policy, or with another subnet: removed once no workload is on
    // them (a workload keeps its network until it ends).
    std::vector<std::string> stale;
    for (const auto& [cls, n] : networks_) {
        bool changed = false;
        for (const auto& spec : wanted) {
            if (spec.cls == cls && !(spec.subnet == n.addresses.subnet()))
                changed = true;
        }
        if ((!wantedClasses.count(cls) || changed) && workloads(cls) == 0) {
            stale.push_back(cls);
        } else if (changed) {
            notes.push_back("private network of class " + cls + " keeps " +
                            n.addresses.subnet().str() + " while " +
                            std::to_string(workloads(cls)) +
                            " workloads use it; the new subnet applies after they end");
        }
    }
    for (const auto& cls : stale) {
        const std::string bridge = networks_.at(cls).bridge;
        GOV_TRY(removeBridge(cls));
        notes.push_back("removed bridge " + bridge + " of class " + cls);
    }
    // The value of ip_forward before any private network existed is carried in every
    // bridge's alias, so that the last one to go can put it back.
    bool forwardingWas = false;
    if (networks_.empty()) {
        auto on = forwarding();
        if (!on) {
            return std::move(on).error();
        }
        forwardingWas = *on;
    } else {
        forwardingWas = networks_.begin()->second.forwardingWas;
    }
    for (const auto& spec : wanted) {
        if (networks_.count(spec.cls)) {
            continue;
        }
        for (const auto& [cls, n] : networks_) {
            if (n.addresses.subnet().overlaps(spec.subnet)) {
                return Error::withReason("private network of class " + spec.cls,
                                         "subnet " + spec.subnet.str() + " overlaps " +
                                             n.addresses.subnet().str() + " of class " + cls);
            }
        }
        GOV_TRY(createBridge(spec, forwardingWas));
        notes.push_back("created bridge " + bridgeName(spec.cls) + " for class " + spec.cls +
                        " (gateway " + networks_.at(spec.cls).addresses.gateway().str() + "/" +
                        std::to_string(spec.subnet.prefix) + ")");
    }
    GOV_TRY(writeNat());
    auto fw = settleForwarding();
    if (!fw) {
        return std::move(fw).error();
    }
    notes.insert(notes.end(), fw->begin(), fw->end());
    return notes;
}

Result<PrivateNetworks::Connected> PrivateNetworks::connect(const std::string& cls,
                                                            const std::string& group,
                                                            uint64_t cgroupId, pid_t pid) {
    const std::string context = "connect " + group + " to the private network of class " + cls;
    auto net = networks_.find(cls);
    if (net == networks_.end()) {
        return Error::withReason(context, "the class has no private network",
                                 std::errc::no_such_device);
    }
    auto address = net->second.addresses.allocate();
    if (!address) {
        return std::move(address).error().wrap(context);
    }
    const std::string link = workloadLinkName(cgroupId);
    const Ipv4Subnet subnet = net->second.addresses.subnet();
    const Ipv4Address gateway = net->second.addresses.gateway();
    const std::string bridge = net->second.bridge;
    auto fail = [&](Error e) -> Result<Connected> {
        (void)rt_.deleteLink(link);
        networks_.at(cls).addresses.release(*address);
        return std::move(e.wrap(context));
    };

    if (auto r = rt_.addVethPair(link, "eth0", pid); !r)
        return fail(std::move(r).error());
    if (auto r = rt_.setAlias(link, formatAlias(WorkloadAlias{cls, group, *address})); !r)
        return fail(std::move(r).error());
    if (auto r = rt_.setMaster(link, bridge); !r)
        return fail(std::move(r).error());
    if (auto r = rt_.setUp(link); !r)
        return fail(std::move(r).error());

    const std::string nsPath = procRoot_ + "/" + std::to_string(pid) + "/ns/net";
    Fd ns(::open(nsPath.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.valid())
        return fail(Error::fromErrno("open " + nsPath));
    auto inner = Rtnetlink::openIn(ns.get(), "the namespace of " + group);
    if (!inner)
        return fail(std::move(inner).error());
    Connected out{*address, {}};
    if (auto r = inner->setUp("lo"); !r)
        return fail(std::move(r).error());
    if (auto r = inner->addAddress("eth0", *address, subnet.prefix); !r)
        return fail(std::move(r).error());
    if (auto r = inner->setUp("eth0"); !r)
        return fail(std::move(r).error());
    if (auto r = inner->addDefaultRoute(gateway); !r)
        return fail(std::move(r).error());
    // The first qdisc a workload's packets meet is on its eth0: fq there is what
    // makes a paced egress limit hold (docs/network.md).
    if (auto r = inner->replaceRootQdiscWithFq("eth0"); !r) {
        out.notes.push_back(r.error().message() +
                            ": egress limits of this workload are not enforced");
    }
    workloads_[cgroupId] = Workload{cls, group, link, *address};
    return out;
}

Result<void> PrivateNetworks::disconnect(uint64_t cgroupId) {
    auto it = workloads_.find(cgroupId);
    if (it == workloads_.end()) {
        return success();
    }
    GOV_TRY(rt_.deleteLink(it->second.link));
    auto net = networks_.find(it->second.cls);
    if (net != networks_.end()) {
        net->second.addresses.release(it->second.address);
    }
    workloads_.erase(it);
    return success();
}

Result<size_t> PrivateNetworks::disconnectAllBut(const std::vector<uint64_t>& alive) {
    std::set<uint64_t> keep(alive.begin(), alive.end());
    std::vector<uint64_t> gone;
    for (const auto& [id, w] : workloads_) {
        if (!keep.count(id))
            gone.push_back(id);
    }
    for (uint64_t id : gone) {
        GOV_TRY(disconnect(id));
    }
    return gone.size();
}

Result<std::vector<std::string>> PrivateNetworks::removeAll() {
    std::vector<std::string> notes;
    while (!workloads_.empty()) {
        GOV_TRY(disconnect(workloads_.begin()->first));
    }
    while (!networks_.empty()) {
        const std::string cls = networks_.begin()->first;
        const std::string bridge = networks_.begin()->second.bridge;
        GOV_TRY(removeBridge(cls));
        notes.push_back("removed bridge " + bridge + " of class " + cls);
    }
    GOV_TRY(writeNat());
    auto fw = settleForwarding();
    if (!fw) {
        return std::move(fw).error();
    }
    notes.insert(notes.end(), fw->begin(), fw->end());
    return notes;
}

std::vector<std::string> PrivateNetworks::classes() const {
    std::vector<std::string> out;
    for (const auto& [cls, n] : networks_) {
        out.push_back(cls);
    }
    return out;
}

size_t PrivateNetworks::workloads(const std::string& cls) const {
    return static_cast<size_t>(std::count_if(workloads_.begin(), workloads_.end(),
                                             [&](const auto& w) { return w.second.cls == cls; }));
}

std::optional<Ipv4Address> PrivateNetworks::addressOf(uint64_t cgroupId) const {
    auto it = workloads_.find(cgroupId);
    if (it == workloads_.end()) {
        return std::nullopt;
    }
    return it->second.address;
}

}  // namespace gov::runtime::net
