// IPv4 addresses and subnets as a policy writes them ("10.89.0.0/24"): parsing,
// formatting and the arithmetic private networks need (hosts, overlap). Shared by
// the policy compiler and the runtime; pure, header-only.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gov {

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

inline std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
    uint32_t value = 0;
    size_t pos = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (pos >= text.size() || text[pos] != '.')
                return std::nullopt;
            ++pos;
        }
        size_t end = pos;
        while (end < text.size() && text[end] >= '0' && text[end] <= '9')
            ++end;
        if (end == pos || end - pos > 3 || (end - pos > 1 && text[pos] == '0'))
            return std::nullopt;
        unsigned octet = 0;
        std::from_chars(text.data() + pos, text.data() + end, octet);
        if (octet > 255)
            return std::nullopt;
        value = (value << 8) | octet;
        pos = end;
    }
    if (pos != text.size())
        return std::nullopt;
    return Ipv4Address{value};
}

inline std::string Ipv4Address::str() const {
    return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 255) + "." +
           std::to_string((value >> 8) & 255) + "." + std::to_string(value & 255);
}

inline std::optional<Ipv4Subnet> Ipv4Subnet::parse(std::string_view text, std::string* why) {
    auto fail = [&](std::string reason) -> std::optional<Ipv4Subnet> {
        if (why != nullptr)
            *why = std::move(reason);
        return std::nullopt;
    };
    size_t slash = text.find('/');
    if (slash == std::string_view::npos)
        return fail("expected ADDRESS/PREFIX, e.g. 10.89.0.0/24");
    auto address = Ipv4Address::parse(text.substr(0, slash));
    if (!address)
        return fail("'" + std::string(text.substr(0, slash)) + "' is not an IPv4 address");
    std::string_view len = text.substr(slash + 1);
    unsigned prefix = 0;
    auto r = std::from_chars(len.data(), len.data() + len.size(), prefix);
    if (len.empty() || r.ec != std::errc() || r.ptr != len.data() + len.size() || prefix > 32 ||
        (len.size() > 1 && len[0] == '0'))
        return fail("'" + std::string(len) + "' is not a prefix length (0-32)");
    Ipv4Subnet s;
    s.prefix = static_cast<uint8_t>(prefix);
    s.network = *address;
    if ((address->value & s.mask()) != address->value) {
        Ipv4Subnet base{Ipv4Address{address->value & s.mask()}, s.prefix};
        return fail("host bits are set (the subnet is " + base.str() + ")");
    }
    return s;
}

inline std::string Ipv4Subnet::str() const {
    return network.str() + "/" + std::to_string(prefix);
}

}  // namespace gov
