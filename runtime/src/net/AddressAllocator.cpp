#include "gov/runtime/net/AddressAllocator.hpp"

namespace gov::runtime::net {

Result<AddressAllocator> AddressAllocator::create(const Ipv4Subnet& subnet) {
    if (subnet.hostCount() < 2) {
        return Error::withReason("addresses of " + subnet.str(),
                                 "too small: a private network needs a /30 or larger (the "
                                 "gateway and at least one workload)");
    }
    return AddressAllocator(subnet);
}

Result<Ipv4Address> AddressAllocator::allocate() {
    const uint32_t hosts = subnet_.hostCount();
    for (uint32_t tried = 0; tried < hosts - 1; ++tried) {
        uint32_t index = next_;
        next_ = next_ + 1 < hosts ? next_ + 1 : 1;
        Ipv4Address a = subnet_.host(index);
        if (used_.insert(a.value).second) {
            return a;
        }
    }
    return Error::withReason(
        "allocate an address in " + subnet_.str(),
        "no free address (" + std::to_string(used_.size()) + " workloads have one)",
        std::errc::no_space_on_device);
}

Result<void> AddressAllocator::reserve(Ipv4Address address) {
    const std::string context = "reserve " + address.str() + " in " + subnet_.str();
    if (!subnet_.contains(address) || address.value <= gateway().value ||
        address.value > subnet_.host(subnet_.hostCount() - 1).value) {
        return Error::withReason(context, "not a workload address of the subnet");
    }
    if (!used_.insert(address.value).second) {
        return Error::withReason(context, "taken already", std::errc::file_exists);
    }
    // Continue after the highest address adopted, as if it had been handed out last.
    uint32_t index = address.value - subnet_.network.value - 1;
    if (index + 1 > next_ || next_ == 1) {
        next_ = index + 1 < subnet_.hostCount() ? index + 1 : 1;
    }
    return success();
}

void AddressAllocator::release(Ipv4Address address) {
    used_.erase(address.value);
}

}  // namespace gov::runtime::net
