// Nftables: nftables commands through libnftables (the library nft itself is built
// on), and the one table Governor owns, `ip governor`: NAT for the private networks
// and the forwarding rules that let their workloads out and keep the outside out.
// Thread safety: none; move-only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gov/Ipv4.hpp"
#include "gov/Result.hpp"

struct nft_ctx;

namespace gov::runtime::net {

class Nftables {
  public:
    static Result<Nftables> open();

    // Runs `commands` (nft syntax, one transaction: all or nothing). Errors carry
    // libnftables' own message: "<what>: Error: Could not process rule: ...".
    Result<void> run(const std::string& commands, const std::string& what);
    // Whether table `family name` exists.
    Result<bool> hasTable(const std::string& family, const std::string& name);

  private:
    explicit Nftables(nft_ctx* ctx);
    std::unique_ptr<nft_ctx, void (*)(nft_ctx*)> ctx_{nullptr, nullptr};
};

// One private network as the firewall sees it.
struct NatNetwork {
    std::string bridge;
    Ipv4Subnet subnet;
};

// The commands that make table `ip governor` exactly what `networks` need, in one
// transaction (the table is created if missing, deleted and written anew): for each
// network, masquerade of what leaves the subnet by another interface; forwarding of
// replies, of traffic within a bridge, and of what a bridge sends out; new
// connections into a bridge from anywhere else (the outside, another class) dropped.
// Empty `networks`: the commands that remove the table. Pure.
std::string natRuleset(const std::vector<NatNetwork>& networks);

}  // namespace gov::runtime::net
