// The addresses of one private network: the gateway (the bridge's address, the
// subnet's first host) and one address per workload, handed out next-fit (after
// the last one given, wrapping around), so that an address released a moment ago is
// the last to be given again: a peer's neighbour cache may still hold the old
// workload's MAC address for it. Pure; errors name the subnet.
// Thread safety: none.
#pragma once

#include <cstdint>
#include <set>

#include "gov/Ipv4.hpp"
#include "gov/Result.hpp"

namespace gov::runtime::net {

class AddressAllocator {
  public:
    // The subnet must have room for the gateway and one workload (a /30 or larger).
    static Result<AddressAllocator> create(const Ipv4Subnet& subnet);

    const Ipv4Subnet& subnet() const { return subnet_; }
    Ipv4Address gateway() const { return subnet_.host(0); }
    // Addresses for workloads (the hosts of the subnet but the gateway).
    uint32_t capacity() const { return subnet_.hostCount() - 1; }
    size_t used() const { return used_.size(); }

    // The next free address; an error when every one is taken
    // ("no free address in 10.89.0.0/29 (6 workloads have one)").
    Result<Ipv4Address> allocate();
    // Marks an address as taken (adopting a workload found after a restart): an
    // error when it is outside the workloads' range or taken already.
    Result<void> reserve(Ipv4Address address);
    // Gives an address back; one not taken is ignored.
    void release(Ipv4Address address);
    bool taken(Ipv4Address address) const { return used_.count(address.value) != 0; }

  private:
    explicit AddressAllocator(const Ipv4Subnet& subnet) : subnet_(subnet) {}
    Ipv4Subnet subnet_;
    std::set<uint32_t> used_;
    uint32_t next_ = 1;  // host index to try first (0 is the gateway)
};

}  // namespace gov::runtime::net
