#include "gov/runtime/net/Rtnetlink.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <vector>

namespace gov::runtime::net {

namespace {

// One message buffer: requests here are a few hundred bytes; replies are read with
// MNL_SOCKET_BUFFER_SIZE.
struct Message {
    std::vector<char> buf = std::vector<char>(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = nullptr;
    explicit Message(uint16_t type, uint16_t flags) {
        nlh = mnl_nlmsg_put_header(buf.data());
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    }
    template <typename T>
    T* header() {
        return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh, sizeof(T)));
    }
};

Result<mnl_socket*> openSocket() {
    mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (s == nullptr) {
        return Error::fromErrno("open a route netlink socket");
    }
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
        Error e = Error::fromErrno("bind a route netlink socket");
        mnl_socket_close(s);
        return e;
    }
    return s;
}

// libmnl's mnl_attr_for_each macros are C (void* conversions): the same walks, typed.
template <typename F>
void forEachAttr(const nlmsghdr* nlh, size_t headerSize, F f) {
    auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, headerSize));
    auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    while (mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a)))) {
        f(a);
        a = mnl_attr_next(a);
    }
}
template <typename F>
void forEachNested(const nlattr* nest, F f) {
    auto* a = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
    auto* tail =
        reinterpret_cast<const char*>(mnl_attr_get_payload(nest)) + mnl_attr_get_payload_len(nest);
    while (mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a)))) {
        f(a);
        a = mnl_attr_next(a);
    }
}

int collectLink(const nlmsghdr* nlh, std::vector<LinkInfo>& out) {
    auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    LinkInfo info;
    info.index = ifm->ifi_index;
    info.up = (ifm->ifi_flags & IFF_UP) != 0;
    forEachAttr(nlh, sizeof(*ifm), [&](const nlattr* attr) {
        switch (mnl_attr_get_type(attr)) {
            case IFLA_IFNAME:
                info.name = mnl_attr_get_str(attr);
                break;
            case IFLA_MASTER:
                info.master = static_cast<int>(mnl_attr_get_u32(attr));
                break;
            case IFLA_IFALIAS:
                info.alias = mnl_attr_get_str(attr);
                break;
            case IFLA_LINKINFO:
                forEachNested(attr, [&](const nlattr* inner) {
                    if (mnl_attr_get_type(inner) == IFLA_INFO_KIND) {
                        info.kind = mnl_attr_get_str(inner);
                    }
                });
                break;
            default:
                break;
        }
    });
    out.push_back(std::move(info));
    return MNL_CB_OK;
}

}  // namespace

Rtnetlink::Rtnetlink(mnl_socket* socket, std::string where)
    : socket_(socket, mnl_socket_close), where_(std::move(where)) {}
Rtnetlink::Rtnetlink(Rtnetlink&&) noexcept = default;
Rtnetlink& Rtnetlink::operator=(Rtnetlink&&) noexcept = default;
Rtnetlink::~Rtnetlink() = default;

Result<Rtnetlink> Rtnetlink::open() {
    auto s = openSocket();
    if (!s) {
        return std::move(s).error();
    }
    return Rtnetlink(*s, "");
}

Result<Rtnetlink> Rtnetlink::openIn(int netnsFd, const std::string& what) {
    // setns(CLONE_NEWNET) changes the calling thread only: a thread of its own joins
    // the namespace, opens the socket there (a netlink socket stays in the namespace
    // it was created in) and ends.
    Result<mnl_socket*> opened = Error(std::errc::operation_canceled, "");
    std::thread joiner([&] {
        if (::setns(netnsFd, CLONE_NEWNET) != 0) {
            opened = Error::fromErrno("enter " + what);
            return;
        }
        opened = openSocket();
    });
    joiner.join();
    if (!opened) {
        return std::move(opened).error().wrap(what);
    }
    return Rtnetlink(*opened, " in " + what);
}

Result<void> Rtnetlink::request(nlmsghdr* nlh, const std::string& what,
                                int (*onMessage)(const nlmsghdr* nlh, void* data), void* data) {
    nlh->nlmsg_seq = ++seq_;
    const bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    if (!dump) {
        nlh->nlmsg_flags |= NLM_F_ACK;
    }
    const std::string context = what + where_;
    if (mnl_socket_sendto(socket_.get(), nlh, nlh->nlmsg_len) < 0) {
        return Error::fromErrno(context);
    }
    const unsigned portid = mnl_socket_get_portid(socket_.get());
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
        if (n < 0) {
            return Error::fromErrno(context);
        }
        int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq_, portid, onMessage, data);
        if (r < 0) {
            return Error::fromErrno(context);
        }
        if (r == MNL_CB_STOP) {
            return success();
        }
    }
}

Result<std::vector<LinkInfo>> Rtnetlink::links() {
    Message m(RTM_GETLINK, NLM_F_DUMP);
    m.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    std::vector<LinkInfo> out;
    auto cb = [](const nlmsghdr* nlh, void* data) {
        return collectLink(nlh, *static_cast<std::vector<LinkInfo>*>(data));
    };
    GOV_TRY(request(m.nlh, "list links", cb, &out));
    return out;
}

Result<std::optional<LinkInfo>> Rtnetlink::link(const std::string& name) {
    Message m(RTM_GETLINK, 0);
    m.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
    std::vector<LinkInfo> out;
    auto cb = [](const nlmsghdr* nlh, void* data) {
        return collectLink(nlh, *static_cast<std::vector<LinkInfo>*>(data));
    };
    auto r = request(m.nlh, "look up link " + name, cb, &out);
    if (!r) {
        if (r.error().code() == std::errc::no_such_device) {
            return std::optional<LinkInfo>();
        }
        return std::move(r).error();
    }
    if (out.empty()) {
        return std::optional<LinkInfo>();
    }
    return std::optional<LinkInfo>(std::move(out.front()));
}

Result<int> Rtnetlink::indexOf(const std::string& name) {
    auto l = link(name);
    if (!l) {
        return std::move(l).error();
    }
    if (!l->has_value()) {
        return Error(std::errc::no_such_device, "link " + name + where_);
    }
    return (*l)->index;
}

Result<void> Rtnetlink::addBridge(const std::string& name) {
    Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    m.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
    nlattr* info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(m.nlh, IFLA_INFO_KIND, "bridge");
    mnl_attr_nest_end(m.nlh, info);
    return request(m.nlh, "create bridge " + name);
}

Result<void> Rtnetlink::addVethPair(const std::string& name, const std::string& peer,
                                    pid_t peerNetnsPid) {
    Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    m.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
    nlattr* info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(m.nlh, IFLA_INFO_KIND, "veth");
    nlattr* data = mnl_attr_nest_start(m.nlh, IFLA_INFO_DATA);
    nlattr* peerAttr = mnl_attr_nest_start(m.nlh, VETH_INFO_PEER);
    // The peer's own ifinfomsg comes first in the nest, then its attributes.
    m.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, peer.c_str());
    mnl_attr_put_u32(m.nlh, IFLA_NET_NS_PID, static_cast<uint32_t>(peerNetnsPid));
    mnl_attr_nest_end(m.nlh, peerAttr);
    mnl_attr_nest_end(m.nlh, data);
    mnl_attr_nest_end(m.nlh, info);
    return request(m.nlh, "create veth pair " + name + " / " + peer + " (in the namespace of pid " +
                              std::to_string(peerNetnsPid) + ")");
}

Result<void> Rtnetlink::deleteLink(const std::string& name) {
    Message m(RTM_DELLINK, 0);
    m.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
    auto r = request(m.nlh, "delete link " + name);
    if (!r && r.error().code() == std::errc::no_such_device) {
        return success();
    }
    return r;
}

Result<void> Rtnetlink::setUp(const std::string& name) {
    Message m(RTM_NEWLINK, 0);
    auto* ifm = m.header<ifinfomsg>();
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
    return request(m.nlh, "bring up " + name);
}

Result<void> Rtnetlink::setMaster(const std::string& name, const std::string& master) {
    auto index = indexOf(master);
    if (!index) {
        return std::move(index).error().wrap("attach " + name + " to " + master);
    }
    Message m(RTM_NEWLINK, 0);
    m.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
    mnl_attr_put_u32(m.nlh, IFLA_MASTER, static_cast<uint32_t>(*index));
    return request(m.nlh, "attach " + name + " to " + master);
}

Result<void> Rtnetlink::setAlias(const std::string& name, const std::string& alias) {
    Message m(RTM_NEWLINK, 0);
    m.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
    mnl_attr_put_strz(m.nlh, IFLA_IFALIAS, alias.c_str());
    return request(m.nlh, "set the alias of " + name);
}

Result<void> Rtnetlink::addAddress(const std::string& name, Ipv4Address address, uint8_t prefix) {
    const std::string what = "add " + address.str() + "/" + std::to_string(prefix) + " to " + name;
    auto index = indexOf(name);
    if (!index) {
        return std::move(index).error().wrap(what);
    }
    Message m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    auto* ifa = m.header<ifaddrmsg>();
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = prefix;
    ifa->ifa_index = static_cast<uint32_t>(*index);
    const uint32_t be = htonl(address.value);
    mnl_attr_put_u32(m.nlh, IFA_LOCAL, be);
    mnl_attr_put_u32(m.nlh, IFA_ADDRESS, be);
    return request(m.nlh, what);
}

Result<void> Rtnetlink::addDefaultRoute(Ipv4Address gateway) {
    Message m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    auto* rtm = m.header<rtmsg>();
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 0;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_BOOT;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(m.nlh, RTA_GATEWAY, htonl(gateway.value));
    return request(m.nlh, "add the default route via " + gateway.str());
}

Result<std::string> Rtnetlink::rootQdisc(const std::string& name) {
    auto index = indexOf(name);
    if (!index) {
        return std::move(index).error().wrap("root qdisc of " + name);
    }
    Message m(RTM_GETQDISC, NLM_F_DUMP);
    auto* tcm = m.header<tcmsg>();
    tcm->tcm_family = AF_UNSPEC;
    tcm->tcm_ifindex = *index;
    struct Wanted {
        int index;
        std::string kind;
    } wanted{*index, ""};
    auto cb = [](const nlmsghdr* nlh, void* data) {
        auto* w = static_cast<Wanted*>(data);
        auto* t = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(nlh));
        if (t->tcm_ifindex != w->index || t->tcm_parent != TC_H_ROOT) {
            return MNL_CB_OK;
        }
        forEachAttr(nlh, sizeof(*t), [&](const nlattr* attr) {
            if (mnl_attr_get_type(attr) == TCA_KIND) {
                w->kind = mnl_attr_get_str(attr);
            }
        });
        return MNL_CB_OK;
    };
    GOV_TRY(request(m.nlh, "root qdisc of " + name, cb, &wanted));
    // A device without a queue shows no root qdisc in a dump: that is "noqueue".
    return wanted.kind.empty() ? std::string("noqueue") : wanted.kind;
}

Result<void> Rtnetlink::replaceRootQdiscWithFq(const std::string& name) {
    auto index = indexOf(name);
    if (!index) {
        return std::move(index).error().wrap("put fq on " + name);
    }
    Message m(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE);
    auto* tcm = m.header<tcmsg>();
    tcm->tcm_family = AF_UNSPEC;
    tcm->tcm_ifindex = *index;
    tcm->tcm_handle = 0;
    tcm->tcm_parent = TC_H_ROOT;
    mnl_attr_put_strz(m.nlh, TCA_KIND, "fq");
    return request(m.nlh, "put fq on " + name);
}

}  // namespace gov::runtime::net
