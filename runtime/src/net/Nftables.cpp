#include "gov/runtime/net/Nftables.hpp"

#include <nftables/libnftables.h>

namespace gov::runtime::net {

namespace {

// What libnftables wrote to its error buffer, on one line.
std::string oneLine(const char* text) {
    std::string s = text == nullptr ? "" : text;
    std::string out;
    bool space = false;
    for (char c : s) {
        if (c == '\n' || c == '\t' || c == ' ') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += c;
    }
    return out;
}

}  // namespace

Nftables::Nftables(nft_ctx* ctx) : ctx_(ctx, nft_ctx_free) {}

Result<Nftables> Nftables::open() {
    nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (ctx == nullptr) {
        return Error::withReason("open libnftables", "nft_ctx_new failed", std::errc::io_error);
    }
    // Messages go to buffers we read, never to the daemon's stdout/stderr.
    if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
        nft_ctx_free(ctx);
        return Error::withReason("open libnftables", "cannot buffer its output",
                                 std::errc::io_error);
    }
    return Nftables(ctx);
}

Result<void> Nftables::run(const std::string& commands, const std::string& what) {
    if (nft_run_cmd_from_buffer(ctx_.get(), commands.c_str()) != 0) {
        std::string why = oneLine(nft_ctx_get_error_buffer(ctx_.get()));
        return Error::withReason(what, why.empty() ? "nftables refused the commands" : why,
                                 std::errc::io_error);
    }
    // Drain the output buffer (list commands write there).
    (void)nft_ctx_get_output_buffer(ctx_.get());
    return success();
}

Result<bool> Nftables::hasTable(const std::string& family, const std::string& name) {
    const std::string cmd = "list table " + family + " " + name;
    if (nft_run_cmd_from_buffer(ctx_.get(), cmd.c_str()) != 0) {
        std::string why = oneLine(nft_ctx_get_error_buffer(ctx_.get()));
        if (why.find("No such file or directory") != std::string::npos) {
            return false;
        }
        return Error::withReason(cmd, why, std::errc::io_error);
    }
    (void)nft_ctx_get_output_buffer(ctx_.get());
    return true;
}

std::string natRuleset(const std::vector<NatNetwork>& networks) {
    // "add" then "delete" removes the table whether or not it existed, in the same
    // transaction as the new one: never a moment without rules.
    std::string out = "add table ip governor\ndelete table ip governor\n";
    if (networks.empty()) {
        return out;
    }
    out += "table ip governor {\n";
    out += "    chain postrouting {\n";
    out += "        type nat hook postrouting priority srcnat; policy accept;\n";
    for (const auto& n : networks) {
        out +=
            "        ip saddr " + n.subnet.str() + " oifname != \"" + n.bridge + "\" masquerade\n";
    }
    out += "    }\n";
    out += "    chain forward {\n";
    out += "        type filter hook forward priority filter; policy accept;\n";
    out += "        ct state established,related accept\n";
    for (const auto& n : networks) {
        out += "        iifname \"" + n.bridge + "\" oifname \"" + n.bridge + "\" accept\n";
    }
    for (const auto& n : networks) {
        out += "        oifname \"" + n.bridge + "\" drop\n";
    }
    for (const auto& n : networks) {
        out += "        iifname \"" + n.bridge + "\" accept\n";
    }
    out += "    }\n";
    out += "}\n";
    return out;
}

}  // namespace gov::runtime::net
