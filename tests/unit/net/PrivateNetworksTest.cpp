// The pure parts of private networks: interface names, the aliases a restarted
// daemon adopts by, and the nftables ruleset.
#include <gtest/gtest.h>

#include "gov/runtime/net/Nftables.hpp"
#include "gov/runtime/net/PrivateNetworks.hpp"

namespace gov::runtime::net {
namespace {

TEST(PrivateNetworkNames, BridgeNamesFitAnInterfaceName) {
    EXPECT_EQ(bridgeName("adhoc"), "gov-adhoc");
    EXPECT_EQ(bridgeName("abcdefghijk"), "gov-abcdefghijk");  // exactly 15
    const std::string a = bridgeName("abcdefghijkl");
    const std::string b = bridgeName("abcdefghijkm");
    EXPECT_EQ(a.size(), 15u);
    EXPECT_EQ(a.substr(0, 11), "gov-abcdef-");
    EXPECT_NE(a, b);                           // long names sharing a prefix still differ
    EXPECT_EQ(bridgeName("abcdefghijkl"), a);  // and are stable
}

TEST(PrivateNetworkNames, WorkloadLinksAreNamedByCgroupId) {
    EXPECT_EQ(workloadLinkName(0x1a2b), "gvw1a2b");
    EXPECT_LE(workloadLinkName(0xffffffffffffULL).size(), 15u);
}

TEST(PrivateNetworkAliases, BridgeAliasRoundTrips) {
    BridgeAlias a{"web", *Ipv4Subnet::parse("10.89.0.0/24"), false};
    EXPECT_EQ(formatAlias(a), "governor class=web subnet=10.89.0.0/24 forward=0");
    EXPECT_EQ(parseBridgeAlias(formatAlias(a)), a);
    a.forwardingWas = true;
    EXPECT_EQ(parseBridgeAlias(formatAlias(a)), a);
}

TEST(PrivateNetworkAliases, WorkloadAliasRoundTrips) {
    WorkloadAlias a{"web", "web.slice/exec-4-1.scope", *Ipv4Address::parse("10.89.0.7")};
    EXPECT_EQ(formatAlias(a), "governor class=web group=web.slice/exec-4-1.scope addr=10.89.0.7");
    EXPECT_EQ(parseWorkloadAlias(formatAlias(a)), a);
}

TEST(PrivateNetworkAliases, ForeignAliasesAreNotOurs) {
    for (const char* alias : {"", "uplink", "governor", "governor class=web",
                              "Governor class=web subnet=10.0.0.0/8 forward=0",
                              "governor class=web subnet=10.0.0.1/8 forward=0",
                              "governor class=web subnet=10.0.0.0/8 forward=2",
                              "governor class= subnet=10.0.0.0/8 forward=0",
                              "governor class=web subnet=10.0.0.0/8 forward=0 extra=1"}) {
        EXPECT_FALSE(parseBridgeAlias(alias)) << alias;
    }
    for (const char* alias :
         {"governor class=web group=g addr=10.0.0", "governor class=web addr=10.0.0.2",
          "governor class=web subnet=10.0.0.0/8 forward=0"}) {
        EXPECT_FALSE(parseWorkloadAlias(alias)) << alias;
    }
}

TEST(NatRuleset, MasqueradesEachSubnetAndKeepsTheOutsideOut) {
    std::vector<NatNetwork> nets = {{"gov-web", *Ipv4Subnet::parse("10.89.0.0/24")},
                                    {"gov-batch", *Ipv4Subnet::parse("10.89.1.0/24")}};
    EXPECT_EQ(natRuleset(nets),
              "add table ip governor\n"
              "delete table ip governor\n"
              "table ip governor {\n"
              "    chain postrouting {\n"
              "        type nat hook postrouting priority srcnat; policy accept;\n"
              "        ip saddr 10.89.0.0/24 oifname != \"gov-web\" masquerade\n"
              "        ip saddr 10.89.1.0/24 oifname != \"gov-batch\" masquerade\n"
              "    }\n"
              "    chain forward {\n"
              "        type filter hook forward priority filter; policy accept;\n"
              "        ct state established,related accept\n"
              "        iifname \"gov-web\" oifname \"gov-web\" accept\n"
              "        iifname \"gov-batch\" oifname \"gov-batch\" accept\n"
              "        oifname \"gov-web\" drop\n"
              "        oifname \"gov-batch\" drop\n"
              "        iifname \"gov-web\" accept\n"
              "        iifname \"gov-batch\" accept\n"
              "    }\n"
              "}\n");
}

TEST(NatRuleset, NoNetworksRemovesTheTable) {
    EXPECT_EQ(natRuleset({}), "add table ip governor\ndelete table ip governor\n");
}

}  // namespace
}  // namespace gov::runtime::net
