// IPv4 addresses and subnets as a policy writes them ("10.89.0.0/24"): parsing,
// formatting and the arithmetic private networks need (hosts, overlap). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gov::policies {

struct Ipv4Address {
    uint32_t value = 0;  // host byte order: 10.0.0.1 is 0x0a000001

    // Dotted quad, exactly four decimal parts 0-255 without leading zeros (an
    // "010" would be octal to inet_aton: refused rather than guessed).
    static std::optional<Ipv4Address> parse(std::string_view text);
    std::string str() const;
    bool operator==(const Ipv4Address&) const = default;
    auto operator<=>(const Ipv4Address&) const = default;
};

struct Ipv4Subnet {
    Ipv4Address network;  // host bits zero
    uint8_t prefix = 0;   // 0-32

    // "A.B.C.D/N" with the host bits of A.B.C.D zero; nullopt with `why` set otherwise.
    static std::optional<Ipv4Subnet> parse(std::string_view text, std::string* why = nullptr);
    std::string str() const;  // "10.89.0.0/24"

    uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
    bool contains(Ipv4Address a) const { return (a.value & mask()) == network.value; }
    bool overlaps(const Ipv4Subnet& o) const {
        uint32_t m = prefix < o.prefix ? mask() : o.mask();
        return (network.value & m) == (o.network.value & m);
    }
    // Addresses for hosts: all but the network and broadcast addresses (a /31 or
    // /32 has none that a bridge and a workload could share: 0).
    uint32_t hostCount() const { return prefix >= 31 ? 0 : (uint32_t{1} << (32 - prefix)) - 2; }
    // The i-th host address, 0-based (i < hostCount()): network + 1 + i.
    Ipv4Address host(uint32_t i) const { return Ipv4Address{network.value + 1 + i}; }
    bool operator==(const Ipv4Subnet&) const = default;
};

}  // namespace gov::policies
